/* SPDX-License-Identifier: Apache-2.0 */
/* The probe of every vendor: the NVIDIA inventory heads the chain (also when empty: its
 * problems say why there is no NVIDIA GPU), then AMD's and Intel's when found. */
#include "probe/amd/amd.h"
#include "probe/intel/intel.h"
#include "probe/nvidia/nvidia.h"

typedef int (*vendor_probe_fn)(struct nvb_host *, unsigned, struct nvb_inventory *,
			       struct nvb_error *);

/* A new inventory of vendor, filled by fn when run (else left empty), gpu_extra complete. */
static struct nvb_inventory *probe_one(struct nvb_host *host, unsigned flags,
				       enum nvb_vendor vendor, vendor_probe_fn fn, bool run,
				       struct nvb_error *err)
{
	struct nvb_inventory *inv = calloc(1, sizeof(*inv));
	if (!inv) {
		nvb_error_nomem(err);
		return NULL;
	}
	inv->driver.vendor = vendor;
	int r = run ? fn(host, flags, inv, err) : 0;
	if (r == 0 && nvb_inventory_fill_extra(inv) < 0)
		r = nvb_error_nomem(err);
	if (r < 0) {
		nvb_inventory_free(inv);
		return NULL;
	}
	return inv;
}

struct nvb_inventory *nvb_inventory_probe(struct nvb_host *host, unsigned flags,
					  struct nvb_error *err)
{
	static const struct {
		enum nvb_vendor vendor;
		unsigned bit;
		vendor_probe_fn fn;
	} others[] = {
		{NVB_VENDOR_AMD, NVB_PROBE_AMD, nvb_probe_amd},
		{NVB_VENDOR_INTEL, NVB_PROBE_INTEL, nvb_probe_intel},
	};
	unsigned vendors = flags & NVB_PROBE_VENDOR_MASK ? flags : NVB_PROBE_VENDOR_MASK;
	struct nvb_inventory *head = probe_one(host, flags, NVB_VENDOR_NVIDIA, nvb_probe_nvidia,
					       vendors & NVB_PROBE_NVIDIA, err);
	struct nvb_inventory **tail = head ? &head->next : NULL;
	for (size_t i = 0; head && i < NVB_ARRAY_SIZE(others); i++) {
		if (!(vendors & others[i].bit))
			continue;
		struct nvb_inventory *inv =
			probe_one(host, flags, others[i].vendor, others[i].fn, true, err);
		if (!inv) {
			nvb_inventory_free(head);
			return NULL;
		}
		/* no GPU, no driver, nothing to say: a host without that vendor's hardware */
		if (inv->n_gpus == 0 && !inv->driver.kernel_module && !inv->n_problems) {
			nvb_inventory_free(inv);
			continue;
		}
		*tail = inv;
		tail = &inv->next;
	}
	return head;
}
