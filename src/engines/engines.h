/* SPDX-License-Identifier: Apache-2.0 */
/* Registering nvbind-runtime with container engines: edits of their configuration files that
 * keep every other setting, and refuse files they cannot parse. Pure text in, text out. */
#ifndef NVB_ENGINES_H
#define NVB_ENGINES_H

#include "core/core.h"

#define NVB_RUNTIME_NAME "nvbind"

struct nvb_docker_options {
	const char *runtime_path; /* runtimes.nvbind.path */
	bool make_default;        /* default-runtime = "nvbind" */
	bool cdi;                 /* features.cdi = true (Docker 25+) */
};

/* dockerd's daemon.json, edited as text: only the members opt sets are replaced or inserted,
 * following the file's layout (indent unit, spacing, one member a line or all on one line);
 * every other byte stays. text may be NULL or empty (no file yet). A file that does not parse is
 * refused with ORIGIN:LINE:COLUMN. Returns the new text (malloc'ed); *changed tells whether it
 * differs in substance from the old one. */
NVB_INTERNAL char *nvb_docker_edit(const char *text, const char *origin,
				   const struct nvb_docker_options *opt, bool *changed,
				   struct nvb_error *err);
/* nvb_docker_edit with runtime_path and make_default only. */
NVB_INTERNAL char *nvb_docker_register(const char *text, const char *origin, const char *runtime_path,
				       bool make_default, bool *changed, struct nvb_error *err);
/* podman's containers.conf (TOML): [engine.runtimes] nvbind = [runtime_path], and
 * [engine] runtime = "nvbind" when make_default. Comments and layout are kept. */
NVB_INTERNAL char *nvb_podman_register(const char *text, const char *origin, const char *runtime_path,
				       bool make_default, bool *changed, struct nvb_error *err);
/* The nvbind-runtime to register: the one beside the running executable when it is there,
 * else bindir/nvbind-runtime (malloc'ed). */
NVB_INTERNAL char *nvb_default_runtime_path(const char *bindir);
/* Read an engine's configuration file: its text ("" when it does not exist yet, *exists false),
 * its permission bits (0644 when new). At most 4 MiB. */
NVB_INTERNAL int nvb_engine_config_read(const char *path, char **text, unsigned *mode, bool *exists,
					struct nvb_error *err);
/* Replace an engine's configuration file with new_text: when it existed, first save old_text as
 * PATH.nvbind-backup-YYYYmmdd-HHMMSS (a -N suffix keeps earlier backups of the same second) and
 * return its name in *backup_path (NULL otherwise); create the parent directory if missing;
 * write atomically with the old mode. */
NVB_INTERNAL int nvb_engine_config_write(const char *path, const char *old_text, const char *new_text,
					 unsigned mode, bool exists, char **backup_path,
					 struct nvb_error *err);
/* The newest PATH.nvbind-backup-YYYYmmdd-HHMMSS[-N] beside path (malloc'ed); NULL with err
 * set (NVB_ERR_NOT_FOUND when there is none). */
NVB_INTERNAL char *nvb_engine_config_latest_backup(const char *path, struct nvb_error *err);
/* Put a backup's bytes back at path atomically: through a symbolic link to the file it names,
 * keeping the owner and mode of the file replaced (a new file gets the backup's mode). The
 * backup stays. */
NVB_INTERNAL int nvb_engine_config_restore(const char *path, const char *backup_path,
					   struct nvb_error *err);
/* A unified diff of a and b (GNU diff -u format: @@ -a,b +c,d @@ hunks with 3 lines of context,
 * "\ No newline at end of file"), for --dry-run; "" when they are equal. */
NVB_INTERNAL char *nvb_text_diff(const char *a, const char *b, const char *label_a,
				 const char *label_b);

#endif
