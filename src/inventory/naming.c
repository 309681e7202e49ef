/* SPDX-License-Identifier: Apache-2.0 */
/* What a container may get: capability words and the names devices are requested by. */
#include "inventory/inventory.h"

unsigned nvb_caps_expand(unsigned caps)
{
	if (caps & NVB_CAP_VIDEO)
		caps |= NVB_CAP_COMPUTE;
	if (caps & NVB_CAP_DISPLAY)
		caps |= NVB_CAP_GRAPHICS;
	return caps;
}

bool nvb_caps_cover(unsigned have, unsigned want)
{
	/* a 32-bit library needs compat32 and one of its own capabilities */
	if ((have & NVB_CAP_COMPAT32) && !(want & NVB_CAP_COMPAT32))
		return false;
	return (have & want & ~(unsigned)NVB_CAP_COMPAT32) != 0;
}

bool nvb_file_wanted(const struct nvb_driver_file *f, unsigned caps)
{
	return nvb_caps_cover(f->caps, nvb_caps_expand(caps));
}

bool nvb_device_name(const struct nvb_gpu *gpu, const struct nvb_mig_device *mig,
			 size_t mig_index, unsigned strategy, char *buf, size_t cap)
{
	if (!gpu->n_nodes)
		return false; /* no node: nothing a container could use */
	const char *uuid = mig ? mig->uuid : gpu->uuid;
	if (strategy == NVB_CDI_NAME_INDEX && mig)
		snprintf(buf, cap, "%u:%zu", gpu->index, mig_index);
	else if (strategy == NVB_CDI_NAME_INDEX)
		snprintf(buf, cap, "%u", gpu->index);
	else if (strategy == NVB_CDI_NAME_TYPE_INDEX && mig)
		snprintf(buf, cap, "mig%u:%zu", gpu->index, mig_index);
	else if (strategy == NVB_CDI_NAME_TYPE_INDEX)
		snprintf(buf, cap, "gpu%u", gpu->index);
	else if (strategy == NVB_CDI_NAME_UUID && uuid)
		snprintf(buf, cap, "%s", uuid);
	else
		return false;
	return true;
}
