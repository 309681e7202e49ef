/* SPDX-License-Identifier: Apache-2.0 */
/* The probe of every vendor: the NVIDIA inventory heads the chain (also when empty: its
 * problems say why there is no NVIDIA GPU), then AMD's and Intel's when found. */
#include "probe/amd/amd.h"
#include "probe/intel/intel.h"
#include "probe/nvidia/nvidia.h"

/* Vendor probe fn into a new inventory appended at *tail; an inventory with no GPU and no
 * driver is dropped (a host without that vendor's hardware). */
static int probe_vendor(struct nvb_host *host, unsigned flags, enum nvb_vendor vendor,
			int (*fn)(struct nvb_host *, unsigned, struct nvb_inventory *,
				  struct nvb_error *),
			struct nvb_inventory ***tail, struct nvb_error *err)
{
	struct nvb_inventory *inv = calloc(1, sizeof(*inv));
	if (!inv)
		return nvb_error_nomem(err);
	inv->driver.vendor = vendor;
	int r = fn(host, flags, inv, err);
	if (r == 0 && nvb_inventory_fill_extra(inv) < 0)
		r = nvb_error_nomem(err);
	if (r < 0) {
		nvb_inventory_free(inv);
		return -1;
	}
	if (inv->n_gpus == 0 && !inv->driver.kernel_module && !inv->n_problems) {
		nvb_inventory_free(inv);
		return 0;
	}
	**tail = inv;
	*tail = &inv->next;
	return 0;
}

struct nvb_inventory *nvb_inventory_probe(struct nvb_host *host, unsigned flags,
					  struct nvb_error *err)
{
	unsigned vendors = flags & NVB_PROBE_VENDOR_MASK ? flags : NVB_PROBE_VENDOR_MASK;
	struct nvb_inventory *inv = calloc(1, sizeof(*inv));
	if (!inv) {
		nvb_error_nomem(err);
		return NULL;
	}
	inv->driver.vendor = NVB_VENDOR_NVIDIA;
	int r = 0;
	if (vendors & NVB_PROBE_NVIDIA)
		r = nvb_probe_nvidia(host, flags, inv, err);
	if (r == 0 && nvb_inventory_fill_extra(inv) < 0)
		r = nvb_error_nomem(err);
	struct nvb_inventory **tail = &inv->next;
	if (r == 0 && (vendors & NVB_PROBE_AMD))
		r = probe_vendor(host, flags, NVB_VENDOR_AMD, nvb_probe_amd, &tail, err);
	if (r == 0 && (vendors & NVB_PROBE_INTEL))
		r = probe_vendor(host, flags, NVB_VENDOR_INTEL, nvb_probe_intel, &tail, err);
	if (r < 0) {
		nvb_inventory_free(inv);
		return NULL;
	}
	return inv;
}
