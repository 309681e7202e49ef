/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: the NVIDIA /proc parsers (version, information, /proc/devices, bus ids). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "probe/nvidia/nvidia.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	char *v, *fl, *line;
	if (nvb_nvidia_parse_version(text, &v, &fl, &line) == 0) {
		free(v);
		free(fl);
		free(line);
	}
	struct nvb_nvidia_gpu_info info;
	nvb_nvidia_parse_information(text, &info);
	nvb_nvidia_gpu_info_clear(&info);
	(void)nvb_proc_devices_major(text, "nvidia-uvm");
	char bus[32];
	(void)nvb_pci_bus_id_normalize(text, bus, sizeof(bus));
	free(text);
	return 0;
}
