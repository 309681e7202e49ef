/* SPDX-License-Identifier: Apache-2.0 */
/* The host's shared libraries by name: from ld.so.cache, or, on hosts without one (NixOS),
 * from a scan of ld.so.conf directories and the standard library directories. */
#ifndef NVB_LIBSCAN_H
#define NVB_LIBSCAN_H

#include "core/core.h"

struct nvb_lib_entry {
	char *name;    /* file or SONAME link name, e.g. libcuda.so.1 */
	char *path;    /* path inside the host root, as the cache (or directory) gives it */
	int elf_class; /* 64 / 32 from the cache flags, 0 when unknown (directory scan) */
};

struct nvb_libset {
	struct nvb_lib_entry *entries;
	size_t n;
	bool from_cache; /* false: directory scan fallback */
	char *source;    /* "/etc/ld.so.cache" or "directory scan" */
};

NVB_INTERNAL struct nvb_libset *nvb_libset_load(struct nvb_host *host, struct nvb_error *err);
/* The directory-scan fallback alone (used when the cache is corrupt). */
NVB_INTERNAL struct nvb_libset *nvb_libset_scan(struct nvb_host *host, struct nvb_error *err);
NVB_INTERNAL void nvb_libset_free(struct nvb_libset *set);
/* Directories named by /etc/ld.so.conf (and its include globs) inside the host root, in order. */
NVB_INTERNAL int nvb_ldconf_dirs(struct nvb_host *host, char ***dirs, size_t *n,
				 struct nvb_error *err);

#endif
