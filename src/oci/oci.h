/* SPDX-License-Identifier: Apache-2.0 */
/* OCI runtime bundle files: config.json and the container state hooks get on stdin. */
#ifndef NVB_OCI_H
#define NVB_OCI_H

#include <jansson.h>

#include "cdi/libplan.h"
#include "core/core.h"

#define NVB_OCI_CONFIG_MAX (8u << 20) /* bytes: larger config.json files are refused */
#define NVB_OCI_STATE_MAX (1u << 20)

struct nvb_oci_state {
	char *id;
	char *bundle;
	char *status;
	long pid;
};

/* Parse the state JSON a runtime passes to hooks on stdin. */
NVB_INTERNAL int nvb_oci_state_parse(const char *data, size_t len, struct nvb_oci_state *state,
				     struct nvb_error *err);
NVB_INTERNAL void nvb_oci_state_clear(struct nvb_oci_state *state);
/* Read <bundle>/config.json: a regular file (not a symlink), at most NVB_OCI_CONFIG_MAX. */
NVB_INTERNAL json_t *nvb_oci_config_load(const char *bundle, struct nvb_error *err);
/* The text of an OCI config named by path, read as the wrapper reads config.json: a regular
 * file (a symbolic link or a FIFO is refused), at most NVB_OCI_CONFIG_MAX; *len its length. */
NVB_INTERNAL char *nvb_oci_config_read(const char *path, size_t *len, struct nvb_error *err);
/* A hook's container root: the state a runtime passes a hook on fd (stdin), its bundle's
 * config.json, root.path opened; at createRuntime, in the container's mount namespace (and
 * user namespace, when it has its own), which the hook process joins for good. */
NVB_INTERNAL int nvb_oci_hook_rootfs_open(int fd, enum nvb_hook_stage stage, struct nvb_error *err);
/* Open the container's root filesystem named by config root.path (relative to the bundle). */
NVB_INTERNAL int nvb_oci_rootfs_open(const char *bundle, json_t *config, char **rootfs,
				     struct nvb_error *err);


struct nvb_cdi_edits;
/* Apply CDI container edits to an OCI config, in order, with the CDI reference semantics
 * (docs/design/cdi-semantics.md): env replaces same-name entries; device nodes lacking type or
 * numbers are completed from the host node (lstat, never following links), a node at the
 * same container path is replaced, and char/block nodes get a device-cgroup allow rule;
 * mounts at the same destination are replaced, then all mounts are ordered by path depth;
 * hooks are appended to their lists. The one apply function every front end uses. */
NVB_INTERNAL int nvb_oci_apply_edits(json_t *config, const struct nvb_cdi_edits *const *edits,
				     size_t n, struct nvb_error *err);
/* Write config back to <bundle>/config.json atomically (same mode as the original). */
NVB_INTERNAL int nvb_oci_config_save(const char *bundle, json_t *config, struct nvb_error *err);

#endif
