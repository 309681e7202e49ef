/* SPDX-License-Identifier: Apache-2.0 */
/* OCI runtime bundle files: config.json and the container state hooks get on stdin. */
#ifndef NVB_OCI_H
#define NVB_OCI_H

#include <jansson.h>

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
/* Open the container's root filesystem named by config root.path (relative to the bundle). */
NVB_INTERNAL int nvb_oci_rootfs_open(const char *bundle, json_t *config, char **rootfs,
				     struct nvb_error *err);

#endif
