/* SPDX-License-Identifier: Apache-2.0 */
/* What every vendor probe reads the same way: PCI bus ids, sysfs attributes of a device
 * directory, the PCI id database, /proc/devices, device nodes reached through a link. A vendor
 * folder may not include another vendor's (tools/check-layers.sh), so the shared part is here. */
#ifndef NVB_PROBE_PCI_H
#define NVB_PROBE_PCI_H

#include "core/core.h"
#include "inventory/inventory.h"

/* Character major of a driver name in /proc/devices text; -1 if absent. */
NVB_INTERNAL int nvb_proc_devices_major(const char *text, const char *name);
/* Normalise a PCI bus id to "dddd:bb:dd.f" lower case; -1 if malformed. */
NVB_INTERNAL int nvb_pci_bus_id_normalize(const char *in, char *out, size_t cap);

/* An attribute file of a sysfs directory (inside the host root), spaces stripped; NULL when
 * absent or unreadable. */
NVB_INTERNAL char *nvb_sysfs_attr(struct nvb_host *host, const char *dir, const char *attr);
/* A numeric attribute ("0x10de", "1"), 0 when absent or not a number. */
NVB_INTERNAL unsigned long long nvb_sysfs_number(struct nvb_host *host, const char *dir,
						 const char *attr);
/* The basename of dir/driver (the bound kernel driver), NULL when none. */
NVB_INTERNAL char *nvb_sysfs_driver(struct nvb_host *host, const char *dir);
/* vendor, device, subsystem ids, class, numa_node and kernel_driver of the PCI device dir. */
NVB_INTERNAL void nvb_pci_fill_gpu(struct nvb_host *host, const char *dir, struct nvb_gpu *gpu);

/* The name of vendor:device in pci.ids text (the "\tdddd  Name" line under the vendor's
 * line); NULL when not listed. malloc'ed. */
NVB_INTERNAL char *nvb_pci_ids_name(const char *text, unsigned vendor, unsigned device);
/* The host root's pci.ids (/usr/share/misc, /usr/share/hwdata), NULL when it has none. */
NVB_INTERNAL char *nvb_pci_ids_read(struct nvb_host *host);

/* Append a copy of node to *nodes; -1 when out of memory (node is then cleared). */
NVB_INTERNAL int nvb_nodes_push(struct nvb_device_node **nodes, size_t *n,
				struct nvb_device_node *node);

#endif
