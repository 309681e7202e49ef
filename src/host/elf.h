/* SPDX-License-Identifier: Apache-2.0 */
/* Minimal, bounds-checked ELF reader: class, machine, type and DT_SONAME of a shared object. */
#ifndef NVB_ELF_H
#define NVB_ELF_H

#include <stddef.h>
#include <stdint.h>

#include "core/core.h"

struct nvb_elf_info {
	int elf_class;      /* 32 or 64 */
	int little_endian;  /* 1 for ELFDATA2LSB */
	uint16_t type;      /* ET_DYN, ET_EXEC ... */
	uint16_t machine;   /* EM_X86_64, EM_386, EM_AARCH64 ... */
	char soname[256];   /* empty when the object has no DT_SONAME */
	int has_interp;     /* 1 when it has PT_INTERP: dynamically linked, needs ld.so */
};

/* Parse an ELF image held in memory. origin names the file in errors.
 * Non-ELF input and truncated/corrupt headers give NVB_ERR_PARSE naming origin. */
NVB_INTERNAL int nvb_elf_parse(const void *data, size_t len, const char *origin,
			       struct nvb_elf_info *info, struct nvb_error *err);
/* Read from an open file descriptor with pread (no mmap of the whole file, which can be 100 MB). */
NVB_INTERNAL int nvb_elf_read_fd(int fd, const char *origin, struct nvb_elf_info *info,
				 struct nvb_error *err);
/* "x86-64", "i386", "aarch64", ... or "unknown". */
NVB_INTERNAL const char *nvb_elf_machine_name(uint16_t machine);

#endif
