/* SPDX-License-Identifier: Apache-2.0 */
/* What dockerd's daemon.json says: its runtimes and their paths, default-runtime,
 * features.cdi. One reader for every command that looks at the file (migrate, setup, doctor),
 * so they agree on what parses and what a setting means. Pure text in. */
#ifndef NVB_ENGINES_INSPECT_H
#define NVB_ENGINES_INSPECT_H

#include <jansson.h>

#include "core/core.h"

struct nvb_daemon_runtime {
	char *name;      /* the key under "runtimes" */
	char *path;      /* its "path" when that is a string, else NULL */
	json_t *entry;   /* the runtime's member as written (borrowed from the document) */
};

struct nvb_daemon_json {
	bool empty;                   /* no file, or only white space: nothing below is set */
	json_t *root;                 /* the document; numbers kept exactly (nvb_json_dumps_exact) */
	struct nvb_daemon_runtime *runtimes; /* "runtimes", in the file's order */
	size_t n_runtimes;
	const char *default_runtime;  /* "default-runtime" when a string (points into root) */
	int cdi;                      /* features.cdi: -1 absent, 0 not true, 1 true */

	/* why the text was refused (also in err): line and column (1-based) of a syntax error,
	 * 0 for a document of the wrong shape; what is "the document", "\"runtimes\"",
	 * "\"features\"" for a shape error, NULL for a syntax error */
	int error_line, error_column;
	char error_text[160];
	const char *error_what;
};

/* Read daemon.json text (may be NULL). Errors: NVB_ERR_PARSE "ORIGIN:LINE:COLUMN: TEXT" for text
 * that does not parse or has duplicate keys; NVB_ERR_INVALID "ORIGIN: WHAT is not a JSON
 * object" when the document, "runtimes" or "features" is not an object (dockerd refuses such a
 * file too). On error *d still tells what went wrong (error_*); free it with
 * nvb_daemon_json_free either way. */
NVB_INTERNAL int nvb_daemon_json_inspect(const char *text, const char *origin,
					 struct nvb_daemon_json *d, struct nvb_error *err);
/* The runtime called name, or NULL. */
NVB_INTERNAL const struct nvb_daemon_runtime *nvb_daemon_json_runtime(const struct nvb_daemon_json *d,
								      const char *name);
/* A member of the document (path of keys, e.g. {"features", "cdi"}), or NULL. */
NVB_INTERNAL json_t *nvb_daemon_json_get(const struct nvb_daemon_json *d, const char *const *keys,
					 size_t n);
/* v as compact JSON text with its numbers as written (malloc'ed), NULL when out of memory. */
NVB_INTERNAL char *nvb_daemon_json_text(const json_t *v);
NVB_INTERNAL void nvb_daemon_json_free(struct nvb_daemon_json *d);

#endif
