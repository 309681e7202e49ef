/* SPDX-License-Identifier: Apache-2.0 */
/* The AMD GPU probe: fills an inventory of driver.vendor NVB_VENDOR_AMD from the host root. */
#ifndef NVB_PROBE_AMD_H
#define NVB_PROBE_AMD_H

#include "core/core.h"
#include "inventory/inventory.h"

/* Fill inv (calloc'ed, driver.vendor set) with the host's AMD GPUs; an inventory left with no
 * GPU, no driver.kernel_module and no problem means "no AMD hardware" and is dropped. Problems,
 * not errors, for what is wrong on the host; -1 only when the host cannot be read at all. */
NVB_INTERNAL int nvb_probe_amd(struct nvb_host *host, unsigned flags, struct nvb_inventory *inv,
			     struct nvb_error *err);

#endif
