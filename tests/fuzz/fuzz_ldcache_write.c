/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the ld.so.cache writer: an input that parses as a cache is rebuilt
 * with two added libraries; the result must parse, hold both adds with their paths, and keep
 * every old entry the adds do not replace (glibc-hwcaps entries with a resolved subdirectory
 * included). Seeds: corpus/ldcache_write/ (small caches written by ldconfig).
 */
#include <stddef.h>
#include <stdint.h>

#include "host/ldcache_write.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct nvb_ldcache_add adds[] = {
	{"libcuda.so.1", "/usr/local/nvidia/lib64/libcuda.so.1",
	 NVB_LDCACHE_ELF_LIBC6 | NVB_LDCACHE_ARCH_X86_64},
	{"libnvidia-ml.so.1", "/usr/lib/i386-linux-gnu/libnvidia-ml.so.1",
	 NVB_LDCACHE_ELF_LIBC6 | NVB_LDCACHE_ARCH_I386},
};

static int is_add(const char *name, uint32_t flags)
{
	for (size_t i = 0; i < NVB_ARRAY_SIZE(adds); i++)
		if (flags == adds[i].flags && strcmp(name, adds[i].name) == 0)
			return 1;
	return 0;
}

/* How many entries of c have this name, path and flags (and hwcaps subdirectory). */
static size_t count(const struct nvb_ldcache *c, const struct nvb_ldcache_entry *want)
{
	size_t n = 0;

	for (size_t i = 0; i < c->n_entries; i++) {
		const struct nvb_ldcache_entry *e = &c->entries[i];

		n += e->flags == want->flags && strcmp(e->name, want->name) == 0 &&
		     strcmp(e->path, want->path) == 0 && !e->hwcaps == !want->hwcaps &&
		     (!e->hwcaps || strcmp(e->hwcaps, want->hwcaps) == 0);
	}
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nvb_error err = {0};
	struct nvb_ldcache *old = nvb_ldcache_parse(data, size, "fuzz.cache", &err), *got;
	size_t kept = 0;
	char *out = NULL;
	size_t len = 0;

	if (!old)
		return 0;
	if (nvb_ldcache_build(old, adds, NVB_ARRAY_SIZE(adds), &out, &len, &err) < 0) {
		/* only a cache too big for 32-bit offsets may be refused */
		if (err.code != NVB_ERR_NOMEM && err.code != NVB_ERR_INVALID)
			abort();
		nvb_ldcache_free(old);
		return 0;
	}
	got = nvb_ldcache_parse(out, len, "rebuilt", &err);
	if (!got || got->format != 2)
		abort();
	for (size_t i = 0; i < NVB_ARRAY_SIZE(adds); i++) {
		struct nvb_ldcache_entry e = {.name = adds[i].name, .path = adds[i].path,
					      .flags = adds[i].flags};

		if (count(got, &e) != 1)
			abort();
	}
	/* every old entry an add does not replace is still there (usable hwcaps ones too) */
	for (size_t i = 0; i < old->n_entries; i++) {
		const struct nvb_ldcache_entry *e = &old->entries[i];

		if (is_add(e->name, e->flags) ||
		    (nvb_ldcache_hwcap_is_extension(e->hwcap) && !e->hwcaps))
			continue;
		if (count(got, e) < 1)
			abort();
		kept++;
	}
	if (got->n_entries != kept + NVB_ARRAY_SIZE(adds))
		abort();
	nvb_ldcache_free(got);
	nvb_ldcache_free(old);
	free(out);
	return 0;
}
