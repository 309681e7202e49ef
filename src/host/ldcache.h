/* SPDX-License-Identifier: Apache-2.0 */
/* Reader for glibc's /etc/ld.so.cache (old "ld.so-1.7.0", new "glibc-ld.so.cache1.1", or both). */
#ifndef NVB_LDCACHE_H
#define NVB_LDCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "core/core.h"

/* flags & NVB_LDCACHE_TYPE_MASK == NVB_LDCACHE_ELF_LIBC6 for the entries that matter */
#define NVB_LDCACHE_TYPE_MASK 0x00ffu
#define NVB_LDCACHE_ARCH_MASK 0xff00u
#define NVB_LDCACHE_ELF_LIBC6 0x0003u
#define NVB_LDCACHE_ARCH_X86_64 0x0300u
#define NVB_LDCACHE_ARCH_I386 0x0000u
#define NVB_LDCACHE_ARCH_AARCH64 0x0a00u
#define NVB_LDCACHE_ARCH_PPC64 0x0500u  /* ppc64 and ppc64le: "64bit" */
#define NVB_LDCACHE_ARCH_X32 0x0800u

/* hwcap bit 62 alone (besides the ISA level bits 32..41 and the low 32 bits, an index into
 * the glibc-hwcaps extension section): the entry lives in a glibc-hwcaps subdirectory. */
#define NVB_LDCACHE_HWCAP_EXTENSION (UINT64_C(1) << 62)
#define NVB_LDCACHE_HWCAP_ISA_LEVEL_MASK UINT64_C(0x3ff)

/* glibc's dl_cache_hwcap_extension. */
static inline int nvb_ldcache_hwcap_is_extension(uint64_t hwcap)
{
	return ((hwcap >> 32) & ~NVB_LDCACHE_HWCAP_ISA_LEVEL_MASK) ==
	       (NVB_LDCACHE_HWCAP_EXTENSION >> 32);
}

struct nvb_ldcache_entry {
	const char *name;  /* SONAME or link name, e.g. libcuda.so.1 (points into the cache's copy) */
	const char *path;  /* e.g. /usr/lib/x86_64-linux-gnu/libcuda.so.1 */
	uint32_t flags;
	uint32_t osversion;
	uint64_t hwcap;
	/* For a glibc-hwcaps entry (nvb_ldcache_hwcap_is_extension(hwcap)): the subdirectory
	 * name its index refers to, e.g. "x86-64-v3"; NULL for other entries and for an index
	 * the file's extension section does not resolve (glibc's loader skips those). */
	const char *hwcaps;
};

struct nvb_ldcache {
	struct nvb_ldcache_entry *entries; /* in file order (the order ldconfig -p prints) */
	size_t n_entries;
	int format;                        /* 1 = old only, 2 = new only, 3 = old followed by new */
	char *data;                        /* owned copy of the file the strings point into */
	size_t len;
};

/* Parse a cache image. data is copied. origin names the file in error messages.
 * Every offset and count is checked against len: hostile input gives NVB_ERR_PARSE. */
NVB_INTERNAL struct nvb_ldcache *nvb_ldcache_parse(const void *data, size_t len, const char *origin,
						   struct nvb_error *err);
/* Same, taking over buf (len bytes, malloc'ed) instead of copying it, even on error. */
NVB_INTERNAL struct nvb_ldcache *nvb_ldcache_parse_owned(char *buf, size_t len, const char *origin,
							 struct nvb_error *err);
/* Read and parse /etc/ld.so.cache (or path) under the host root. A missing file gives
 * NVB_ERR_NOT_FOUND so callers can fall back to a directory scan. */
NVB_INTERNAL struct nvb_ldcache *nvb_ldcache_load(struct nvb_host *host, const char *path,
						  struct nvb_error *err);
NVB_INTERNAL void nvb_ldcache_free(struct nvb_ldcache *cache);
/* "libc6,x86-64", "libc6" (i386), "libc6,AArch64", ... as ldconfig -p prints, hwcap not included. */
NVB_INTERNAL const char *nvb_ldcache_flags_name(uint32_t flags);
/* 64 or 32 for ELF libc6 entries of a known arch, 0 otherwise. */
NVB_INTERNAL int nvb_ldcache_entry_class(const struct nvb_ldcache_entry *e);

#endif
