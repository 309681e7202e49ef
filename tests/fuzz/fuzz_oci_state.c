/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: the OCI container state hooks read from stdin. */
#include <stdint.h>

#include "oci/oci.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nvb_oci_state state;
	struct nvb_error err;
	if (nvb_oci_state_parse((const char *)data, size, &state, &err) == 0)
		nvb_oci_state_clear(&state);
	return 0;
}
