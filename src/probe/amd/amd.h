/* SPDX-License-Identifier: Apache-2.0 */
/* The AMD GPU probe: fills an inventory of driver.vendor NVB_VENDOR_AMD from the host root. */
#ifndef NVB_PROBE_AMD_H
#define NVB_PROBE_AMD_H

#include <stdint.h>

#include "core/core.h"
#include "inventory/inventory.h"

/* Fill inv (calloc'ed, driver.vendor set) with the host's AMD GPUs; an inventory left with no
 * GPU, no driver.kernel_module and no problem means "no AMD hardware" and is dropped. Problems,
 * not errors, for what is wrong on the host; -1 only when the host cannot be read at all. */
NVB_INTERNAL int nvb_probe_amd(struct nvb_host *host, unsigned flags, struct nvb_inventory *inv,
			     struct nvb_error *err);

/* One KFD topology node: /sys/class/kfd/kfd/topology/nodes/<n>/properties ("name value"
 * lines) plus its gpu_id file. A field whose line is absent or malformed keeps its "unknown"
 * value (-1 for the signed ones, 0 otherwise). */
struct nvb_kfd_node {
	long long simd_count;       /* 0: a CPU node */
	long long drm_render_minor; /* 128.. for GPUs */
	long long location_id;      /* PCI bus << 8 | device << 3 | function */
	long long domain;           /* PCI domain */
	uint64_t gfx_target_version; /* 90402 for gfx942 */
	uint64_t vendor_id, device_id;
	uint64_t unique_id;          /* 0 when the GPU has none */
	uint64_t num_xcc;
	uint32_t gpu_id;             /* from the gpu_id file (not in properties) */
};

/* Parse properties text. Returns the number of known keys read (0: nothing usable). */
NVB_INTERNAL int nvb_kfd_parse_properties(const char *text, struct nvb_kfd_node *out);
/* true for a node that is a GPU KFD serves through a render node */
NVB_INTERNAL bool nvb_kfd_node_is_gpu(const struct nvb_kfd_node *node);
/* "gfx942" from gfx_target_version 90402 (major v/10000, minor and stepping as hex digits);
 * NULL for 0 or a value whose digits do not fit. malloc'ed. */
NVB_INTERNAL char *nvb_amd_gfx_arch(uint64_t gfx_target_version);
/* The product name of device/revision in libdrm's amdgpu.ids text ("74A1,\t00,\tAMD Instinct
 * MI300X"); NULL when not listed. malloc'ed. */
NVB_INTERNAL char *nvb_amdgpu_ids_name(const char *text, unsigned device, unsigned revision);

#endif
