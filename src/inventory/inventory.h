/* SPDX-License-Identifier: Apache-2.0 */
/* Building and freeing the vendor-neutral inventory (plain data, see nvbind.h). */
#ifndef NVB_INVENTORY_H
#define NVB_INVENTORY_H

#include "core/core.h"

NVB_INTERNAL int nvb_inventory_add_problem(struct nvb_inventory *inv, enum nvb_problem_kind sev,
					   const char *code, const char *hint, const char *fmt, ...)
	NVB_PRINTF(5, 6);
NVB_INTERNAL struct nvb_driver_file *nvb_inventory_add_file(struct nvb_inventory *inv);
NVB_INTERNAL int nvb_inventory_add_missing(struct nvb_inventory *inv, const char *what);
/* Record a file that was found but is not used (chosen: what is used instead, may be NULL). */
NVB_INTERNAL int nvb_inventory_add_skipped(struct nvb_inventory *inv, enum nvb_file_kind kind,
					   const char *path, const char *reason,
					   const char *chosen);
NVB_INTERNAL bool nvb_inventory_has_problem(const struct nvb_inventory *inv, const char *code);
/* stat a device node inside the host root, without following a final symlink. */
NVB_INTERNAL int nvb_device_node_stat(struct nvb_host *host, const char *path,
				      struct nvb_device_node *node, struct nvb_error *err);
/* The same through a final symbolic link (node->path stays the link's path). */
NVB_INTERNAL int nvb_device_node_stat_follow(struct nvb_host *host, const char *path,
					     struct nvb_device_node *node, struct nvb_error *err);
NVB_INTERNAL void nvb_device_node_clear(struct nvb_device_node *node);
NVB_INTERNAL void nvb_gpu_clear(struct nvb_gpu *gpu);

/* ---- several vendors ---- */
/* A new GPU at the end of inv->gpus with its gpu_extra entry (partition -1), both zeroed
 * otherwise; NULL when out of memory. Vendor probes add GPUs only through it, so gpu_extra
 * always has n_gpus entries. */
NVB_INTERNAL struct nvb_gpu *nvb_inventory_add_gpu(struct nvb_inventory *inv);
/* gpu_extra grown to n_gpus entries (for probes that push to gpus directly); -1 no memory */
NVB_INTERNAL int nvb_inventory_fill_extra(struct nvb_inventory *inv);
/* "nvidia", "amd", "intel" (the words of --vendor and of info --json's "vendor") */
NVB_INTERNAL const char *nvb_vendor_word(enum nvb_vendor vendor);
/* Parse such a word; -1 when it is none. */
NVB_INTERNAL int nvb_vendor_parse(const char *word, enum nvb_vendor *out);
/* The CDI kind of a vendor's GPUs: nvidia.com/gpu, amd.com/gpu, intel.com/gpu */
NVB_INTERNAL const char *nvb_vendor_cdi_kind(enum nvb_vendor vendor);
/* The inventory of vendor in the chain starting at inv, NULL when absent. */
NVB_INTERNAL const struct nvb_inventory *nvb_inventory_of_vendor(const struct nvb_inventory *inv,
								 enum nvb_vendor vendor);
/* nvb_inventory_to_json with each GPU's and MIG device's CDI name of kind (cdi_name). */
NVB_INTERNAL char *nvb_inventory_to_json_kind(const struct nvb_inventory *inv, const char *kind,
					      struct nvb_error *err);

/* ---- capabilities ---- */
/* Expand implied capabilities: video needs compute, display needs graphics. */
NVB_INTERNAL unsigned nvb_caps_expand(unsigned caps);
/* Whether a driver file belongs in a container that asked for caps. */
NVB_INTERNAL bool nvb_file_wanted(const struct nvb_driver_file *f, unsigned caps);
/* The rule behind it, for capability bits of a file (have) and of a request (want, already
 * expanded): one of the file's own capabilities is asked for, and compat32 too when the file
 * is 32-bit. */
NVB_INTERNAL bool nvb_caps_cover(unsigned have, unsigned want);

/* ---- the names devices get (CDI device names, shown by info) ---- */
enum nvb_cdi_naming {
	NVB_CDI_NAME_INDEX = 1u << 0,      /* "0", MIG "0:1" */
	NVB_CDI_NAME_UUID = 1u << 1,       /* "GPU-...", MIG "MIG-..." */
	NVB_CDI_NAME_TYPE_INDEX = 1u << 2, /* "gpu0", MIG "mig0:1" */
};

/* The device name a GPU (mig NULL) or its MIG device mig (number mig_index on that GPU) gets
 * under one naming strategy, written to buf; false when it gets none (a GPU without a device
 * node, an unknown UUID). The CDI generator names devices so, and `nvbind info` shows them. */
NVB_INTERNAL bool nvb_device_name(const struct nvb_gpu *gpu, const struct nvb_mig_device *mig,
				  size_t mig_index, unsigned strategy, char *buf, size_t cap);

#endif
