/* SPDX-License-Identifier: Apache-2.0 */
/* Writer for glibc's /etc/ld.so.cache (new format "glibc-ld.so.cache1.1"), used instead of
 * running ldconfig on a container root: nvbind adds the driver libraries it mounts to the
 * image's own cache, and writes the result inside the root by file descriptor. */
#ifndef NVB_LDCACHE_WRITE_H
#define NVB_LDCACHE_WRITE_H

#include "host/ldcache.h"

#define NVB_LDCACHE_FILE_MAX (16u << 20) /* bytes: a larger image cache is refused */

/* One library to register: name -> path with ld.so.cache flags (type | arch). */
struct nvb_ldcache_add {
	const char *name;  /* SONAME, e.g. libcuda.so.1 */
	const char *path;  /* absolute path in the container, e.g. /usr/lib/x86_64-linux-gnu/libcuda.so.1 */
	uint32_t flags;    /* NVB_LDCACHE_ELF_LIBC6 | NVB_LDCACHE_ARCH_* */
};

/* Architecture names as ldconfig -p prints them without "libc6,": "x86-64", "i386" (no
 * suffix in ldconfig -p), "AArch64", "64bit" (ppc64le). Case-insensitive; "x86_64" and
 * "aarch64" accepted too. Returns 0 and the full flags, or -1 for an unknown name. */
NVB_INTERNAL int nvb_ldcache_arch_flags(const char *name, uint32_t *flags);
/* The flags for an ELF class/machine pair (ELFCLASS64 + EM_X86_64 ...); -1 when unknown. */
NVB_INTERNAL int nvb_ldcache_elf_flags(int elf_class, int elf_machine, uint32_t *flags);

/* glibc's _dl_cache_libcmp: names compare with digit runs as numbers. */
NVB_INTERNAL int nvb_ldcache_libcmp(const char *a, const char *b);

/* Build a new-format cache image: the entries of old (NULL for none), less those with the same
 * name and flags as an added one, plus the added ones, in the order glibc's binary search
 * needs (ldconfig's order). The image's glibc-hwcaps entries and their extension section are
 * kept. *out is malloc'ed. */
NVB_INTERNAL int nvb_ldcache_build(const struct nvb_ldcache *old, const struct nvb_ldcache_add *add,
				   size_t n_add, char **out, size_t *out_len, struct nvb_error *err);

/* Add entries to the container root's /etc/ld.so.cache, every path resolved inside rootfd:
 * reads the image's cache (absent: start empty; malformed: warn and start empty; larger than
 * NVB_LDCACHE_FILE_MAX, a directory, a device or FIFO: error naming the file), builds the new
 * one and replaces /etc/ld.so.cache atomically (temporary file in the same directory, then
 * rename: a symlink there is replaced, never followed for writing). Never reads through a link
 * that leads outside the root, never crosses into /proc or /sys. */
NVB_INTERNAL int nvb_ldcache_update_in_root(int rootfd, const struct nvb_ldcache_add *add,
					    size_t n_add, struct nvb_error *err);

#endif
