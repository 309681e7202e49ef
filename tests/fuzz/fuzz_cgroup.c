/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: what GPU snapshots and isolation read from the host and from container
 * configs: /proc/PID/cgroup text, an OCI state document's pid, and the sizes of
 * nvbind.io/gpu-memory-limit. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "isolation/isolation.h"
#include "snapshot/snapshot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	bool is_root = false;
	char *cg = nvb_cgroup_parse(text, "/cg", &is_root);
	/* whatever the text says, the folder stays under the mount: no "." or ".." component */
	if (cg && (strncmp(cg, "/cg/", 4) != 0 || strstr(cg, "/../") || strstr(cg, "/./") ||
		   (strlen(cg) >= 3 && !strcmp(cg + strlen(cg) - 3, "/..")) ||
		   (strlen(cg) >= 2 && !strcmp(cg + strlen(cg) - 2, "/."))))
		abort();
	free(cg);
	struct nvb_error err;
	int pid = 0;
	if (nvb_oci_state_pid(text, "fuzz", &pid, &err) == 0 && pid <= 0)
		abort();
	uint64_t bytes = 0;
	(void)nvb_iso_parse_size(text, &bytes);
	free(text);
	return 0;
}
