/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: the AMD probe's text parsers (KFD topology properties, gfx target names,
 * libdrm's amdgpu.ids, pci.ids). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "probe/amd/amd.h"
#include "probe/pci.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	struct nvb_kfd_node node;
	if (nvb_kfd_parse_properties(text, &node) > 0) {
		/* what the probe derives from a node must hold for any input */
		if (nvb_kfd_node_is_gpu(&node) &&
		    (node.drm_render_minor <= 0 || node.location_id < 0 || node.location_id > 0xffff))
			abort();
		free(nvb_amd_gfx_arch(node.gfx_target_version));
	}
	uint64_t v = 0;
	memcpy(&v, data, size < sizeof(v) ? size : sizeof(v));
	char *arch = nvb_amd_gfx_arch(v);
	if (arch && strlen(arch) > 7)
		abort();
	free(arch);
	free(nvb_amdgpu_ids_name(text, 0x74a1, 0));
	free(nvb_pci_ids_name(text, 0x1002, 0x74a1));
	free(text);
	return 0;
}
