/* SPDX-License-Identifier: Apache-2.0 */
/* The INTEL GPU probe: fills an inventory of driver.vendor NVB_VENDOR_INTEL from the host root. */
#ifndef NVB_PROBE_INTEL_H
#define NVB_PROBE_INTEL_H

#include "core/core.h"
#include "inventory/inventory.h"

/* Fill inv (calloc'ed, driver.vendor set) with the host's INTEL GPUs; an inventory left with no
 * GPU, no driver.kernel_module and no problem means "no INTEL hardware" and is dropped. Problems,
 * not errors, for what is wrong on the host; -1 only when the host cannot be read at all. */
NVB_INTERNAL int nvb_probe_intel(struct nvb_host *host, unsigned flags, struct nvb_inventory *inv,
			     struct nvb_error *err);

/* Intel's CDI id of a GPU: "0000:03:00.0" and device 0x56c0 give "0000-03-00-0-0x56c0".
 * malloc'ed; NULL when out of memory. */
NVB_INTERNAL char *nvb_intel_cdi_id(const char *bus_id, unsigned device);

#endif
