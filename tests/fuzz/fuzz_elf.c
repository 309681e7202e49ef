/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the ELF reader: any input must parse or fail with NVB_ERR_PARSE,
 * and a parsed SONAME is a NUL-terminated string of at most 255 bytes.
 * Seed: corpus/elf/ (a small shared object with a SONAME).
 */
#include <stddef.h>
#include <stdint.h>

#include "host/elf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nvb_error err = {0};
	struct nvb_elf_info info;

	if (nvb_elf_parse(data, size, "fuzz.so", &info, &err) < 0) {
		if (err.code != NVB_ERR_PARSE && err.code != NVB_ERR_NOMEM)
			abort();
		return 0;
	}
	if (memchr(info.soname, '\0', sizeof(info.soname)) == NULL)
		abort();
	if (info.elf_class != 32 && info.elf_class != 64)
		abort();
	return nvb_elf_machine_name(info.machine) == NULL;
}
