/* SPDX-License-Identifier: Apache-2.0 */
/* nvbind-runtime's GPU isolation step (docs/isolation.md): after the GPU edits of create/run,
 * before config.json is saved; and the release at delete. */
#ifndef NVB_RUNTIME_ISOLATE_H
#define NVB_RUNTIME_ISOLATE_H

#include <jansson.h>

#include "runtime/runtime.h"

/* Claims or MPS for the GPUs the edited config now has, at the level of its annotation
 * nvbind.io/isolation, else isolation.default; *modified set when config changed. */
NVB_INTERNAL int nvb_runtime_isolate(const struct nvb_runtime_config *cfg,
				     const struct nvb_runtime_args *args, json_t *config,
				     bool *modified, struct nvb_error *err);
/* Whether this host's state dir has isolation state at all (a claim or an MPS client ever). */
NVB_INTERNAL bool nvb_runtime_isolation_used(void);
/* delete where isolation is used: the low-level runtime's delete first (argv, argv[0] replaced
 * by low_level), then the release, only when that delete succeeded: a delete runc refuses (a
 * running container without --force) keeps the container's claims. Its exit status. */
NVB_INTERNAL int nvb_runtime_delete_isolated(const struct nvb_runtime_args *args,
					     const char *low_level, char **argv);

#endif
