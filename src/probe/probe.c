/* SPDX-License-Identifier: Apache-2.0 */
#include "probe/nvidia/nvidia.h"

struct nvb_inventory *nvb_inventory_probe(struct nvb_host *host, unsigned flags,
					  struct nvb_error *err)
{
	struct nvb_inventory *inv = calloc(1, sizeof(*inv));
	if (!inv) {
		nvb_error_nomem(err);
		return NULL;
	}
	if (nvb_probe_nvidia(host, flags, inv, err) < 0) {
		nvb_inventory_free(inv);
		return NULL;
	}
	return inv;
}
