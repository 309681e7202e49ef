/* SPDX-License-Identifier: Apache-2.0 */
/* Registering nvbind-runtime with container engines: edits of their configuration files that
 * keep every other setting, and refuse files they cannot parse. Pure text in, text out. */
#ifndef NVB_ENGINES_H
#define NVB_ENGINES_H

#include "core/core.h"

#define NVB_RUNTIME_NAME "nvbind"

/* dockerd's daemon.json: runtimes.nvbind.path = runtime_path, and default-runtime when
 * make_default. text may be NULL or empty (no file yet). Returns the new text (malloc'ed);
 * *changed tells whether it differs in substance from the old one. */
NVB_INTERNAL char *nvb_docker_register(const char *text, const char *origin, const char *runtime_path,
				       bool make_default, bool *changed, struct nvb_error *err);
/* podman's containers.conf (TOML): [engine.runtimes] nvbind = [runtime_path], and
 * [engine] runtime = "nvbind" when make_default. Comments and layout are kept. */
NVB_INTERNAL char *nvb_podman_register(const char *text, const char *origin, const char *runtime_path,
				       bool make_default, bool *changed, struct nvb_error *err);
/* A unified-style line diff of a and b ("-", "+", " " prefixes), for --dry-run. */
NVB_INTERNAL char *nvb_text_diff(const char *a, const char *b, const char *label_a,
				 const char *label_b);

#endif
