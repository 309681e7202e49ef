/* SPDX-License-Identifier: Apache-2.0 */
/* Vendor probes: each fills the vendor-neutral inventory from the host root. */
#ifndef NVB_VENDOR_H
#define NVB_VENDOR_H

#include "core/core.h"
#include "inventory/inventory.h"
#include "probe/pci.h"

NVB_INTERNAL int nvb_probe_nvidia(struct nvb_host *host, unsigned flags, struct nvb_inventory *inv,
				  struct nvb_error *err);

/* WSL2 (wsl.c): a WSL2 guest (/dev/dxg and /usr/lib/wsl/lib/libdxcore.so in the host root), and
 * its probe: one GPU entry with /dev/dxg, the WSL library shims and the driver store's files,
 * inv->platform "wsl2". Called by nvb_probe_nvidia when /proc/driver/nvidia is absent. */
NVB_INTERNAL bool nvb_wsl_detect(struct nvb_host *host);
NVB_INTERNAL int nvb_probe_nvidia_wsl(struct nvb_host *host, unsigned flags,
				      struct nvb_inventory *inv, struct nvb_error *err);

/* Parsers of the NVIDIA /proc files, exposed for tests and fuzzing. */
NVB_INTERNAL int nvb_nvidia_parse_version(const char *text, char **version, char **flavour,
					  char **line);
struct nvb_nvidia_gpu_info {
	char *model;
	char *uuid;
	char *bus_location;
	char *firmware;
	int minor; /* -1 when absent or malformed */
	bool excluded;
};
NVB_INTERNAL int nvb_nvidia_parse_information(const char *text, struct nvb_nvidia_gpu_info *out);
NVB_INTERNAL void nvb_nvidia_gpu_info_clear(struct nvb_nvidia_gpu_info *info);
/* nvb_proc_devices_major, nvb_pci_bus_id_normalize: probe/pci.h (every vendor uses them) */

/* NVML enrichment (dlopen, optional). Fills memory, compute capability, MIG mode. */
NVB_INTERNAL int nvb_nvml_enrich(struct nvb_host *host, struct nvb_inventory *inv);

/* NVIDIA_REQUIRE_* checking, exposed for tests. cuda_version like 12040 (12.4). */
NVB_INTERNAL int nvb_require_check(const char *var, const char *value, const char *driver_version,
				   int cuda_version, struct nvb_error *err);
/* CUDA version a driver supports, from its major version (e.g. 550 -> 12040); 0 if unknown. */
NVB_INTERNAL int nvb_cuda_version_for_driver(const char *driver_version);

/* An NVIDIA_VISIBLE_DEVICES word naming NVIDIA devices: all, an index (0), a MIG index (0:1),
 * a GPU- or MIG- UUID. */
NVB_INTERNAL bool nvb_nvidia_device_word(const char *s);

#endif
