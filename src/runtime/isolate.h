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
/* delete: release what the container held; reads only the state dir, never fails (logged). */
NVB_INTERNAL void nvb_runtime_release_isolation(const struct nvb_runtime_args *args);

#endif
