/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Writer for glibc's /etc/ld.so.cache, used instead of running ldconfig on a container root.
 *
 * Running the image's ldconfig was unsafe (a shell script on Ubuntu; an image's ld.so.conf
 * could point it at /proc/1/root/...). nvbind instead reads the image's cache, adds the
 * driver libraries it mounts and writes the result itself, by file descriptor inside the root.
 *
 * Output: the new format only ("glibc-ld.so.cache1.1", what glibc >= 2.32 writes), in this
 * machine's byte order with the byte-order flag set:
 *   header (48 bytes) | nlibs entries (24 bytes) | string table | pad to 4 | extensions
 * Key and value are offsets from the start of the file. The entries are in ldconfig's order
 * (glibc's lookup is a binary search over it), the strings deduplicated (a name that ends
 * its path shares the path's tail, as ldconfig's string table does). The extension directory
 * holds a generator string and, when the image has glibc-hwcaps entries, their subdirectory
 * names, re-indexed for the new string table.
 */
#include "host/ldcache_write.h"

#include <elf.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <time.h>

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1) /* <linux/fs.h>; glibc has it in <stdio.h>, musl not */
#endif

#define HEADER_SIZE 48u
#define ENTRY_SIZE 24u
#define OFF_NLIBS 20u
#define OFF_LEN_STRINGS 24u
#define OFF_FLAGS 28u
#define OFF_EXTENSION 32u
#define ENDIAN_LITTLE 2u
#define ENDIAN_BIG 3u

#define EXT_MAGIC 0xeaa42174u
#define EXT_TAG_GENERATOR 0u
#define EXT_TAG_GLIBC_HWCAPS 1u
#define EXT_HEADER_SIZE 8u
#define EXT_SECTION_SIZE 16u
#define GENERATOR "nvbind"

#define CACHE_SHOWN "/etc/ld.so.cache"
#define CACHE_NAME "ld.so.cache"

/* ------------------------------------------------------------------ flags */

int nvb_ldcache_arch_flags(const char *name, uint32_t *flags)
{
	static const struct {
		const char *name;
		uint32_t arch;
	} arches[] = {
		{"x86-64", NVB_LDCACHE_ARCH_X86_64}, {"x86_64", NVB_LDCACHE_ARCH_X86_64},
		{"i386", NVB_LDCACHE_ARCH_I386},     {"AArch64", NVB_LDCACHE_ARCH_AARCH64},
		{"64bit", NVB_LDCACHE_ARCH_PPC64},   {"ppc64le", NVB_LDCACHE_ARCH_PPC64},
		{"x32", NVB_LDCACHE_ARCH_X32},
	};

	for (size_t i = 0; name && i < NVB_ARRAY_SIZE(arches); i++) {
		if (strcasecmp(name, arches[i].name) == 0) {
			*flags = NVB_LDCACHE_ELF_LIBC6 | arches[i].arch;
			return 0;
		}
	}
	return -1;
}

int nvb_ldcache_elf_flags(int elf_class, int elf_machine, uint32_t *flags)
{
	uint32_t arch;

	if (elf_class == ELFCLASS64 && elf_machine == EM_X86_64)
		arch = NVB_LDCACHE_ARCH_X86_64;
	else if (elf_class == ELFCLASS32 && elf_machine == EM_X86_64)
		arch = NVB_LDCACHE_ARCH_X32;
	else if (elf_class == ELFCLASS32 && elf_machine == EM_386)
		arch = NVB_LDCACHE_ARCH_I386;
	else if (elf_class == ELFCLASS64 && elf_machine == EM_AARCH64)
		arch = NVB_LDCACHE_ARCH_AARCH64;
	else if (elf_class == ELFCLASS64 && elf_machine == EM_PPC64)
		arch = NVB_LDCACHE_ARCH_PPC64;
	else
		return -1;
	*flags = NVB_LDCACHE_ELF_LIBC6 | arch;
	return 0;
}

/* ------------------------------------------------------------------ order */

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * Compare the digit runs at *a and *b as numbers and step past both. glibc accumulates a run
 * in an int, which overflows (undefined behaviour) past INT_MAX on a hostile name; comparing
 * the digit strings (leading zeros dropped, then by length, then digit by digit) gives
 * glibc's answer for every value it can represent and a consistent order for the others.
 */
static int cmp_digit_runs(const char **a, const char **b)
{
	const char *p = *a, *q = *b, *ps, *qs;
	size_t lp, lq;
	int r;

	while (*p == '0')
		p++;
	while (*q == '0')
		q++;
	for (ps = p; is_digit(*p); p++)
		;
	for (qs = q; is_digit(*q); q++)
		;
	*a = p;
	*b = q;
	lp = (size_t)(p - ps);
	lq = (size_t)(q - qs);
	if (lp != lq)
		return lp < lq ? -1 : 1;
	r = memcmp(ps, qs, lp);
	return (r > 0) - (r < 0);
}

/* glibc's _dl_cache_libcmp. Plain char arithmetic on purpose: the loader of this
 * architecture compares with its own char signedness. */
int nvb_ldcache_libcmp(const char *p1, const char *p2)
{
	while (*p1 != '\0') {
		if (is_digit(*p1)) {
			int r;

			if (!is_digit(*p2))
				return 1;
			r = cmp_digit_runs(&p1, &p2);
			if (r != 0)
				return r;
		} else if (is_digit(*p2)) {
			return -1;
		} else if (*p1 != *p2) {
			return *p1 - *p2;
		} else {
			p1++;
			p2++;
		}
	}
	return *p1 - *p2;
}

/* ------------------------------------------------------------------ builder */

/* One entry of the cache being built (points into the old cache or the caller's adds). */
struct bentry {
	const char *name;
	const char *path;
	const char *hwcaps; /* glibc-hwcaps subdirectory, NULL for a regular entry */
	uint64_t hwcap;     /* for a hwcaps entry, the low 32 bits are re-indexed by layout */
	uint32_t flags;
	uint32_t osversion;
	uint32_t name_len, path_len;
	uint32_t key, value; /* file offsets, set by layout */
	bool added;          /* from the caller's adds, not the old cache */
	bool dropped;        /* replaced by an add */
	bool tail;           /* the name is the path's last component: it shares its bytes */
};

/* A string already in the table: open addressing on its hash. */
struct slot {
	uint64_t hash;
	uint32_t off; /* offset in the table + 1; 0 = empty */
	uint32_t len;
};

struct builder {
	struct bentry *entries; /* the old entries kept, then the added ones */
	size_t n, n_old;
	struct bentry **order; /* file order */
	const char **hwcaps;   /* sorted, unique subdirectory names */
	size_t n_hwcaps;
	uint32_t *hwcaps_off; /* their file offsets */
	char *buf;            /* the file image */
	size_t cap, len;
	size_t strings;       /* file offset of the string table */
	size_t strings_len;
	struct slot *slots;
	size_t slot_mask;
	struct nvb_error *err;
};

static void builder_free(struct builder *b)
{
	free(b->entries);
	free(b->order);
	free(b->hwcaps);
	free(b->hwcaps_off);
	free(b->buf);
	free(b->slots);
}

static int check_add(const struct nvb_ldcache_add *a, size_t i, struct nvb_error *err)
{
	if (!a->name || !*a->name || strchr(a->name, '/'))
		return nvb_error_set(err, NVB_ERR_USAGE, EINVAL,
				     "give the library's SONAME (a file name, no directory)",
				     "ld.so.cache addition %zu: invalid library name \"%s\"", i,
				     a->name ? a->name : "(null)");
	if (!a->path || a->path[0] != '/')
		return nvb_error_set(err, NVB_ERR_USAGE, EINVAL,
				     "give the library's absolute path inside the container",
				     "ld.so.cache addition %zu (%s): path \"%s\" is not absolute", i,
				     a->name, a->path ? a->path : "(null)");
	return 0;
}

static int check_adds(const struct nvb_ldcache_add *add, size_t n_add, struct nvb_error *err)
{
	if (n_add && !add)
		return nvb_error_set(err, NVB_ERR_USAGE, EINVAL, NULL,
				     "ld.so.cache: %zu additions but no array", n_add);
	for (size_t i = 0; i < n_add; i++)
		if (check_add(&add[i], i, err) < 0)
			return -1;
	return 0;
}

/* A fast string hash, a word at a time (the strings of a 2,000-entry cache are hashed on the
 * container start path). */
static uint64_t hash_bytes(const char *s, size_t len)
{
	uint64_t h = 0x9e3779b97f4a7c15u ^ len, w;

	for (; len >= 8; s += 8, len -= 8) {
		memcpy(&w, s, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdu;
		h ^= h >> 32;
	}
	w = 0;
	memcpy(&w, s, len);
	h = (h ^ w) * 0xc4ceb9fe1a85ec53u;
	return h ^ (h >> 29);
}

/* Open-addressing table for at least want strings (load factor <= 1/2). */
static int slots_init(struct builder *b, size_t want)
{
	size_t n = 16;

	while (n < want * 2)
		n *= 2;
	b->slots = calloc(n, sizeof(*b->slots));
	if (!b->slots)
		return nvb_error_nomem(b->err);
	b->slot_mask = n - 1;
	return 0;
}

static int set_lengths(struct builder *b, struct bentry *e)
{
	size_t ln = strlen(e->name), lp = strlen(e->path);

	/* the file's offsets are 32-bit: a longer string cannot be addressed anyway */
	if (ln > UINT32_MAX / 4 || lp > UINT32_MAX / 4)
		return nvb_error_set(b->err, NVB_ERR_INVALID, EFBIG, NULL,
				     "ld.so.cache: entry %.64s... is too long", e->name);
	e->name_len = (uint32_t)ln;
	e->path_len = (uint32_t)lp;
	e->tail = lp > ln && e->path[lp - ln - 1] == '/' && memcmp(e->path + lp - ln, e->name, ln) == 0;
	return 0;
}

/*
 * Collect the entries: the old ones, less the glibc-hwcaps entries whose subdirectory the old
 * file did not name (glibc's loader skips them too), then the adds in the caller's order. The
 * old entries an add replaces are dropped once sorted (drop_replaced).
 */
static int collect_entries(struct builder *b, const struct nvb_ldcache *old,
			   const struct nvb_ldcache_add *add, size_t n_add)
{
	size_t n_old = old ? old->n_entries : 0;

	if (check_adds(add, n_add, b->err) < 0)
		return -1;
	b->entries = malloc((n_old + n_add + 1) * sizeof(*b->entries));
	if (!b->entries)
		return nvb_error_nomem(b->err);
	for (size_t i = 0; i < n_old; i++) {
		const struct nvb_ldcache_entry *e = &old->entries[i];
		int ext = nvb_ldcache_hwcap_is_extension(e->hwcap);

		if (ext && !e->hwcaps)
			continue;
		b->entries[b->n] = (struct bentry){
			.name = e->name,
			.path = e->path,
			.hwcaps = ext ? e->hwcaps : NULL,
			.hwcap = e->hwcap,
			.flags = e->flags,
			.osversion = e->osversion,
		};
		if (set_lengths(b, &b->entries[b->n++]) < 0)
			return -1;
	}
	b->n_old = b->n;
	for (size_t i = 0; i < n_add; i++) {
		b->entries[b->n] = (struct bentry){
			.name = add[i].name,
			.path = add[i].path,
			.flags = add[i].flags,
			.added = true,
		};
		if (set_lengths(b, &b->entries[b->n++]) < 0)
			return -1;
	}
	return 0;
}

static int popcount64(uint64_t v)
{
	return __builtin_popcountll(v);
}

/*
 * ldconfig's compare() (elf/cache.c), as the file order: names descending by libcmp, then
 * flags descending, glibc-hwcaps entries before the others (the loader stops at the first
 * regular one) and among themselves by subdirectory name; then, for the legacy hwcap entries
 * of glibc < 2.37, most hwcap bits first, hwcap and OS version descending. Entries still equal
 * keep their relative order, as ldconfig's insertion does.
 */
static int entry_cmp(const struct bentry *a, const struct bentry *b)
{
	int r = nvb_ldcache_libcmp(b->name, a->name);

	if (r != 0)
		return r;
	if (a->flags != b->flags) /* an int in ldconfig */
		return (int32_t)a->flags > (int32_t)b->flags ? -1 : 1;
	if (a->hwcaps || b->hwcaps) {
		if (!b->hwcaps)
			return -1;
		if (!a->hwcaps)
			return 1;
		return strcmp(a->hwcaps, b->hwcaps);
	}
	if (popcount64(a->hwcap) != popcount64(b->hwcap))
		return popcount64(a->hwcap) > popcount64(b->hwcap) ? -1 : 1;
	if (a->hwcap != b->hwcap)
		return a->hwcap > b->hwcap ? -1 : 1;
	if (a->osversion != b->osversion)
		return a->osversion > b->osversion ? -1 : 1;
	return 0;
}

/* Stable merge of the sorted runs a[0, mid) and a[mid, n), through tmp. */
static void merge_runs(struct bentry **a, size_t mid, size_t n, struct bentry **tmp)
{
	size_t i = 0, j = mid, k = 0;

	while (i < mid && j < n)
		tmp[k++] = entry_cmp(a[j], a[i]) < 0 ? a[j++] : a[i++];
	while (i < mid)
		tmp[k++] = a[i++];
	/* what is left of the right run is already in place */
	memcpy(a, tmp, k * sizeof(*a));
}

/* Stable merge sort; an already sorted input (an image cache written by ldconfig) costs one
 * comparison per element. */
static void merge_sort(struct bentry **a, size_t n, struct bentry **tmp)
{
	size_t mid = n / 2;

	if (n <= 8) {
		for (size_t i = 1; i < n; i++) {
			struct bentry *x = a[i];
			size_t j = i;

			for (; j > 0 && entry_cmp(a[j - 1], x) > 0; j--)
				a[j] = a[j - 1];
			a[j] = x;
		}
		return;
	}
	merge_sort(a, mid, tmp);
	merge_sort(a + mid, n - mid, tmp);
	if (entry_cmp(a[mid - 1], a[mid]) > 0)
		merge_runs(a, mid, n, tmp);
}

static int same_name_and_flags(const struct bentry *a, const struct bentry *b)
{
	return a->flags == b->flags && a->name_len == b->name_len &&
	       memcmp(a->name, b->name, a->name_len) == 0;
}

/* Mark the old entries in the block of order[i]'s equals (by libcmp and flags) from i on, in
 * direction dir, that have exactly its name. */
static void mark_block(struct builder *b, size_t i, int dir)
{
	const struct bentry *add = b->order[i];

	for (size_t j = i + (size_t)dir; j < b->n; j += (size_t)dir) {
		struct bentry *e = b->order[j];

		if (e->flags != add->flags || nvb_ldcache_libcmp(e->name, add->name) != 0)
			break;
		if (!e->added && same_name_and_flags(e, add))
			e->dropped = true;
	}
}

/*
 * Drop the old entries an add replaces: same name and flags, glibc-hwcaps variants included
 * (the added library must be the one loaded). Name and flags are the first keys of the order,
 * so they are the add's neighbours, in its block of equals ("lib01" and "lib1" compare equal
 * in libcmp, hence the block rather than the next entry only).
 */
static void drop_replaced(struct builder *b)
{
	size_t k = 0;

	if (b->n == b->n_old)
		return;
	for (size_t i = 0; i < b->n; i++) {
		if (!b->order[i]->added)
			continue;
		mark_block(b, i, 1);
		mark_block(b, i, -1); /* j wraps past 0 to SIZE_MAX: the j < n test ends it */
	}
	for (size_t i = 0; i < b->n; i++)
		if (!b->order[i]->dropped)
			b->order[k++] = b->order[i];
	b->n = k;
}

/* Where x goes in the sorted a[0, n): after every entry that sorts before it or equal. */
static size_t upper_bound(struct bentry *const *a, size_t n, const struct bentry *x)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (entry_cmp(a[mid], x) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Merge the few sorted adds a[mid, n) into the sorted old entries a[0, mid): a binary search
 * per add (a plain merge would compare every old entry), whole runs of old entries copied. */
static void insert_runs(struct bentry **a, size_t mid, size_t n, struct bentry **tmp)
{
	size_t from = 0, k = 0;

	for (size_t j = mid; j < n; j++) {
		size_t to = from + upper_bound(a + from, mid - from, a[j]);

		memcpy(tmp + k, a + from, (to - from) * sizeof(*a));
		k += to - from;
		tmp[k++] = a[j];
		from = to;
	}
	memcpy(tmp + k, a + from, (mid - from) * sizeof(*a));
	memcpy(a, tmp, n * sizeof(*a));
}

/* File order: the old entries (normally sorted already) and the adds, sorted apart, then
 * merged; on a tie the old entry comes first. */
static int sort_entries(struct builder *b)
{
	struct bentry **tmp;

	b->order = malloc((b->n + 1) * sizeof(*b->order));
	tmp = malloc((b->n + 1) * sizeof(*tmp));
	if (!b->order || !tmp) {
		free(tmp);
		return nvb_error_nomem(b->err);
	}
	for (size_t i = 0; i < b->n; i++)
		b->order[i] = &b->entries[i];
	merge_sort(b->order, b->n_old, tmp);
	merge_sort(b->order + b->n_old, b->n - b->n_old, tmp);
	if (b->n_old && b->n > b->n_old &&
	    entry_cmp(b->order[b->n_old - 1], b->order[b->n_old]) > 0)
		insert_runs(b->order, b->n_old, b->n, tmp);
	free(tmp);
	drop_replaced(b);
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The glibc-hwcaps subdirectories in use, sorted by strcmp as ldconfig numbers them; each
 * hwcaps entry's low 32 bits become the index of its name (its ISA level bits are kept). */
static int index_hwcaps(struct builder *b)
{
	size_t n = 0;

	for (size_t i = 0; i < b->n; i++)
		n += b->order[i]->hwcaps != NULL;
	if (n == 0)
		return 0;
	b->hwcaps = calloc(n, sizeof(*b->hwcaps));
	b->hwcaps_off = calloc(n, sizeof(*b->hwcaps_off));
	if (!b->hwcaps || !b->hwcaps_off)
		return nvb_error_nomem(b->err);
	for (size_t i = 0; i < b->n; i++)
		if (b->order[i]->hwcaps)
			b->hwcaps[b->n_hwcaps++] = b->order[i]->hwcaps;
	qsort(b->hwcaps, n, sizeof(*b->hwcaps), cmp_str);
	b->n_hwcaps = 0;
	for (size_t i = 0; i < n; i++)
		if (b->n_hwcaps == 0 || strcmp(b->hwcaps[b->n_hwcaps - 1], b->hwcaps[i]) != 0)
			b->hwcaps[b->n_hwcaps++] = b->hwcaps[i];
	for (size_t i = 0; i < b->n; i++) {
		struct bentry *e = b->order[i];
		const char **found;

		if (!e->hwcaps)
			continue;
		found = bsearch(&e->hwcaps, b->hwcaps, b->n_hwcaps, sizeof(*b->hwcaps), cmp_str);
		e->hwcap = (e->hwcap & ~(uint64_t)UINT32_MAX) | (uint64_t)(found - b->hwcaps);
	}
	return 0;
}

/* Copy s to the end of the string table; its file offset. */
static uint32_t append(struct builder *b, const char *s, size_t len)
{
	size_t off = b->strings + b->strings_len;

	memcpy(b->buf + off, s, len);
	b->buf[off + len] = '\0';
	b->strings_len += len + 1;
	return (uint32_t)off;
}

/* The file offset of s in the string table, copying it there unless it is already in. */
static uint32_t intern(struct builder *b, const char *s, size_t len)
{
	uint64_t h = hash_bytes(s, len);
	size_t i = h & b->slot_mask;
	char *table = b->buf + b->strings;

	for (; b->slots[i].off; i = (i + 1) & b->slot_mask) {
		const struct slot *sl = &b->slots[i];

		if (sl->hash == h && sl->len == len && memcmp(table + sl->off - 1, s, len) == 0)
			return (uint32_t)(b->strings + sl->off - 1);
	}
	b->slots[i] = (struct slot){.hash = h, .off = (uint32_t)b->strings_len + 1, .len = (uint32_t)len};
	return append(b, s, len);
}

/* Bytes of the extension directory and its sections, after the 4-aligned string table. */
static size_t extension_size(size_t n_hwcaps)
{
	return EXT_HEADER_SIZE + EXT_SECTION_SIZE * (n_hwcaps ? 2 : 1) + 4 * n_hwcaps +
	       sizeof(GENERATOR) - 1;
}

/*
 * Lay out the string table right after the entries, in the file buffer. A name that ends its
 * path points into the path's tail, as in ldconfig's string table; other names and the hwcaps
 * subdirectory names are deduplicated by hash. Paths are not: each is a directory plus a file
 * name, unique in a cache, so hashing them would cost time on the container start path and
 * save nothing. Sizes every offset against the 32 bits the format has.
 */
static int layout_strings(struct builder *b)
{
	size_t upper = 0, n_interned = b->n_hwcaps;

	if (index_hwcaps(b) < 0)
		return -1;
	for (size_t i = 0; i < b->n; i++) {
		const struct bentry *e = b->order[i];
		int tail = e->tail;

		upper += (size_t)e->path_len + 1 + (tail ? 0 : (size_t)e->name_len + 1);
		n_interned += !tail;
	}
	for (size_t i = 0; i < b->n_hwcaps; i++)
		upper += strlen(b->hwcaps[i]) + 1;
	b->strings = HEADER_SIZE + ENTRY_SIZE * b->n;
	b->cap = b->strings + upper + 3 + extension_size(b->n_hwcaps);
	if (b->n > UINT32_MAX / ENTRY_SIZE || b->cap > UINT32_MAX)
		return nvb_error_set(b->err, NVB_ERR_INVALID, EFBIG, NULL,
				     "ld.so.cache: %zu entries need %zu bytes, more than the format's "
				     "32-bit offsets address",
				     b->n, b->cap);
	b->buf = malloc(b->cap);
	if (!b->buf || slots_init(b, n_interned) < 0)
		return nvb_error_nomem(b->err);
	for (size_t i = 0; i < b->n; i++) {
		struct bentry *e = b->order[i];

		e->value = append(b, e->path, e->path_len);
		if (e->tail)
			e->key = e->value + e->path_len - e->name_len;
		else
			e->key = intern(b, e->name, e->name_len);
	}
	for (size_t i = 0; i < b->n_hwcaps; i++)
		b->hwcaps_off[i] = intern(b, b->hwcaps[i], strlen(b->hwcaps[i]));
	return 0;
}

static int host_big_endian(void)
{
	const uint16_t one = 1;

	return *(const unsigned char *)&one == 0;
}

static void put32(char *p, size_t off, uint32_t v)
{
	memcpy(p + off, &v, sizeof(v));
}

static void put64(char *p, size_t off, uint64_t v)
{
	memcpy(p + off, &v, sizeof(v));
}

/* The extension directory at off (4-aligned): generator, then the hwcaps array if any. */
static size_t serialise_extensions(struct builder *b, size_t off)
{
	size_t sections = off + EXT_HEADER_SIZE;
	size_t count = b->n_hwcaps ? 2 : 1;
	size_t data = sections + EXT_SECTION_SIZE * count;
	size_t gen = data + 4 * b->n_hwcaps;

	put32(b->buf, off, EXT_MAGIC);
	put32(b->buf, off + 4, (uint32_t)count);
	put32(b->buf, sections, EXT_TAG_GENERATOR);
	put32(b->buf, sections + 4, 0);
	put32(b->buf, sections + 8, (uint32_t)gen);
	put32(b->buf, sections + 12, sizeof(GENERATOR) - 1);
	if (b->n_hwcaps) {
		put32(b->buf, sections + 16, EXT_TAG_GLIBC_HWCAPS);
		put32(b->buf, sections + 20, 0);
		put32(b->buf, sections + 24, (uint32_t)data);
		put32(b->buf, sections + 28, (uint32_t)(4 * b->n_hwcaps));
		for (size_t i = 0; i < b->n_hwcaps; i++)
			put32(b->buf, data + 4 * i, b->hwcaps_off[i]);
	}
	memcpy(b->buf + gen, GENERATOR, sizeof(GENERATOR) - 1);
	return gen + sizeof(GENERATOR) - 1;
}

/* Header, entries and extensions around the string table layout_strings wrote. */
static void serialise(struct builder *b)
{
	size_t ext = (b->strings + b->strings_len + 3) & ~(size_t)3;

	memset(b->buf, 0, HEADER_SIZE);
	memset(b->buf + b->strings + b->strings_len, 0, ext - b->strings - b->strings_len);
	memcpy(b->buf, "glibc-ld.so.cache1.1", 20);
	put32(b->buf, OFF_NLIBS, (uint32_t)b->n);
	put32(b->buf, OFF_LEN_STRINGS, (uint32_t)b->strings_len);
	b->buf[OFF_FLAGS] = (char)(host_big_endian() ? ENDIAN_BIG : ENDIAN_LITTLE);
	put32(b->buf, OFF_EXTENSION, (uint32_t)ext);
	for (size_t i = 0; i < b->n; i++) {
		const struct bentry *e = b->order[i];
		size_t off = HEADER_SIZE + ENTRY_SIZE * i;

		put32(b->buf, off, e->flags);
		put32(b->buf, off + 4, e->key);
		put32(b->buf, off + 8, e->value);
		put32(b->buf, off + 12, e->osversion);
		put64(b->buf, off + 16, e->hwcap);
	}
	b->len = serialise_extensions(b, ext);
}

int nvb_ldcache_build(const struct nvb_ldcache *old, const struct nvb_ldcache_add *add,
		      size_t n_add, char **out, size_t *out_len, struct nvb_error *err)
{
	struct builder b = {.err = err};
	int r = -1;

	if (collect_entries(&b, old, add, n_add) == 0 && sort_entries(&b) == 0 &&
	    layout_strings(&b) == 0) {
		serialise(&b);
		*out = NVB_TAKE_PTR(b.buf);
		*out_len = b.len;
		r = 0;
	}
	builder_free(&b);
	return r;
}

/* ------------------------------------------------------------------ in a container root */

#define READ_OK 0
#define READ_ABSENT 1
#define READ_LINK 2

/* Kernel interface filesystems: a cache is never read from or written to one of them (an
 * image's /etc -> /proc/... while the container's /proc is mounted). */
static int check_real_fs(int fd, const char *shown, uint32_t *fs_type, struct nvb_error *err)
{
	struct statfs sfs;

	if (fstatfs(fd, &sfs) < 0)
		return nvb_error_errno(err, errno, NULL, "container %s: statfs", shown);
	switch ((uint32_t)sfs.f_type) {
	case PROC_SUPER_MAGIC:
	case SYSFS_MAGIC:
	case CGROUP_SUPER_MAGIC:
	case CGROUP2_SUPER_MAGIC:
	case DEBUGFS_MAGIC:
	case TRACEFS_MAGIC:
	case SECURITYFS_MAGIC:
	case BPF_FS_MAGIC:
	case DEVPTS_SUPER_MAGIC:
		return nvb_error_set(err, NVB_ERR_SECURITY, EXDEV,
				     "the image's /etc (or its ld.so.cache) must not be a link into "
				     "/proc, /sys or another kernel filesystem",
				     "container %s resolves into a kernel filesystem (magic 0x%x): "
				     "refusing to use it for the library cache",
				     shown, (unsigned)sfs.f_type);
	default:
		if (fs_type)
			*fs_type = (uint32_t)sfs.f_type;
		return 0;
	}
}

static int check_cache_stat(const struct stat *st, const char *shown, struct nvb_error *err)
{
	static const char hint[] = "the image must hold a regular file (or nothing) there: remove "
				   "it from the image or regenerate it with ldconfig";
	const char *kind = S_ISDIR(st->st_mode)    ? "a directory"
			   : S_ISFIFO(st->st_mode) ? "a FIFO"
			   : S_ISCHR(st->st_mode)  ? "a character device"
			   : S_ISBLK(st->st_mode)  ? "a block device"
			   : S_ISSOCK(st->st_mode) ? "a socket"
						   : "not a regular file";

	if (!S_ISREG(st->st_mode))
		return nvb_error_set(err, NVB_ERR_INVALID, EINVAL, hint,
				     "container %s is %s, not a regular file", shown, kind);
	if ((uint64_t)st->st_size > NVB_LDCACHE_FILE_MAX)
		return nvb_error_set(err, NVB_ERR_INVALID, EFBIG, hint,
				     "container %s is %lld bytes, more than the %u allowed", shown,
				     (long long)st->st_size, NVB_LDCACHE_FILE_MAX);
	return 0;
}

/* Read all of fd, at most NVB_LDCACHE_FILE_MAX bytes (it may grow after fstat). */
static int read_all(int fd, size_t size_hint, const char *shown, char **out, size_t *len,
		    struct nvb_error *err)
{
	size_t cap = size_hint + 1, n = 0;
	_cleanup_free_ char *buf = malloc(cap);

	if (!buf)
		return nvb_error_nomem(err);
	for (;;) {
		ssize_t r;

		if (n == cap) {
			char *p;

			if (cap > NVB_LDCACHE_FILE_MAX)
				return nvb_error_set(err, NVB_ERR_INVALID, EFBIG, NULL,
						     "container %s: larger than the %u bytes allowed",
						     shown, NVB_LDCACHE_FILE_MAX);
			cap = cap * 2 > NVB_LDCACHE_FILE_MAX + 1u ? NVB_LDCACHE_FILE_MAX + 1u : cap * 2;
			p = realloc(buf, cap);
			if (!p)
				return nvb_error_nomem(err);
			buf = p;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return nvb_error_errno(err, errno, NULL, "cannot read container %s", shown);
		if (r == 0)
			break;
		n += (size_t)r;
	}
	*out = NVB_TAKE_PTR(buf);
	*len = n;
	return 0;
}

/*
 * Read the regular file name in dirfd. The type is checked before the open (a device node
 * in the image is never opened: opening some has effects) and again on the descriptor (a
 * swap in between is caught); O_NONBLOCK keeps a FIFO swapped in from blocking the open.
 * Returns READ_OK with the data, READ_ABSENT, READ_LINK (not followed), or -1.
 */
static int read_regular_at(int dirfd, const char *name, const char *shown, char **out,
			   size_t *len, struct nvb_error *err)
{
	_cleanup_close_ int fd = -1;
	struct stat st;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return READ_ABSENT;
		return nvb_error_errno(err, errno, NULL, "cannot stat container %s", shown);
	}
	if (S_ISLNK(st.st_mode))
		return READ_LINK;
	if (check_cache_stat(&st, shown, err) < 0)
		return -1;
	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return READ_ABSENT;
	if (fd < 0 && errno == ELOOP)
		return READ_LINK;
	if (fd < 0)
		return nvb_error_errno(err, errno, NULL, "cannot open container %s", shown);
	if (fstat(fd, &st) < 0)
		return nvb_error_errno(err, errno, NULL, "cannot stat container %s", shown);
	if (check_cache_stat(&st, shown, err) < 0 || check_real_fs(fd, shown, NULL, err) < 0)
		return -1;
	if (read_all(fd, (size_t)st.st_size, shown, out, len, err) < 0)
		return -1;
	return READ_OK;
}

/*
 * /etc/ld.so.cache is a symlink: read what it leads to, resolved inside the root (an absolute
 * target restarts at the container's root, ".." stops there; never the host's file). A
 * dangling link reads as no cache. The link itself is replaced by the new file.
 */
static int read_through_link(int rootfd, char **out, size_t *len, struct nvb_error *err)
{
	struct nvb_error rerr = {0};
	_cleanup_free_ char *resolved = NULL;
	_cleanup_free_ char *shown = NULL;
	_cleanup_close_ int fd = -1, dirfd = -1;
	char dir[NVB_PATH_MAX];
	const char *base;
	int r;

	fd = nvb_resolve_in_root(rootfd, "container", CACHE_SHOWN, 0, &resolved, &rerr);
	if (fd < 0 && (rerr.sys_errno == ENOENT || rerr.code == NVB_ERR_NOT_FOUND))
		return READ_ABSENT;
	if (fd < 0) {
		if (err)
			*err = rerr;
		return -1;
	}
	shown = nvb_asprintf("%s (a link to %s)", CACHE_SHOWN, resolved);
	if (!shown)
		return nvb_error_nomem(err);
	if (nvb_path_split(resolved, dir, sizeof(dir), &base) < 0)
		return nvb_error_set(err, NVB_ERR_INVALID, EINVAL, NULL,
				     "container %s is not a regular file", shown);
	dirfd = nvb_open_in_root(rootfd, "container", dir, O_RDONLY | O_DIRECTORY, NULL, err);
	if (dirfd < 0)
		return -1;
	r = read_regular_at(dirfd, base, shown, out, len, err);
	if (r == READ_LINK) /* it resolved to a regular file a moment ago */
		return nvb_error_set(err, NVB_ERR_SECURITY, ELOOP, NULL,
				     "container %s changed while it was read", shown);
	return r;
}

/* The image's cache, or NULL (none, or malformed: warned about, the new one starts empty). */
static int load_old_cache(int rootfd, int etcfd, struct nvb_ldcache **old, struct nvb_error *err)
{
	struct nvb_error perr = {0};
	char *buf = NULL;
	size_t len = 0;
	int r;

	*old = NULL;
	r = read_regular_at(etcfd, CACHE_NAME, CACHE_SHOWN, &buf, &len, err);
	if (r == READ_LINK)
		r = read_through_link(rootfd, &buf, &len, err);
	if (r < 0)
		return -1;
	if (r == READ_ABSENT)
		return 0;
	*old = nvb_ldcache_parse_owned(buf, len, "container " CACHE_SHOWN, &perr);
	if (!*old) {
		if (perr.code == NVB_ERR_NOMEM)
			return nvb_error_nomem(err);
		nvb_warn("ldcache", "%s; writing a new cache with the added libraries only",
			 perr.message);
	}
	return 0;
}

/* /etc inside the root (created 0755 when missing), never on a kernel filesystem. */
static int open_etc(int rootfd, uint32_t *fs_type, struct nvb_error *err)
{
	_cleanup_close_ int fd = nvb_mkdir_in_root(rootfd, "container", "/etc", 0755, err);

	if (fd < 0)
		return -1;
	if (check_real_fs(fd, "/etc", fs_type, err) < 0)
		return -1;
	return NVB_TAKE_FD(fd);
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t w = write(fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* A new file in etcfd with a name nobody else uses (O_EXCL: an image's file of that name is
 * never reused, a link there never followed). */
static int create_temp(int etcfd, char *name, size_t cap, struct nvb_error *err)
{
	for (int tries = 0; tries < 64; tries++) {
		int fd;

		nvb_temp_name(name, cap, ".ld.so.cache.nvbind-");
		fd = openat(etcfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd >= 0)
			return fd;
		if (errno != EEXIST)
			return nvb_error_errno(err, errno,
					       "the container's /etc must be writable by root",
					       "cannot create a temporary file in container /etc");
	}
	return nvb_error_set(err, NVB_ERR_IO, EEXIST, NULL,
			     "cannot create a temporary file in container /etc: every name taken");
}

/*
 * Put tmp in place of ld.so.cache, atomically either way:
 *  - on overlayfs (a container's root), a rename: the image's cache is in a lower layer, and
 *    anything else would copy it up first only to delete it;
 *  - elsewhere, an exchange, then unlinking the old file (now named tmp): renaming over an
 *    existing file makes ext4 (auto_da_alloc) start writeback of the new one, a third of a
 *    millisecond here, for durability a container's cache does not need (it is rewritten at
 *    every start). No old file, or no RENAME_EXCHANGE support: a rename.
 */
static int swap_in(int etcfd, const char *tmp, uint32_t fs_type)
{
	/* the system call itself: musl (the static nvbind-hook's libc) has no renameat2() */
	if (fs_type != OVERLAYFS_SUPER_MAGIC &&
	    syscall(SYS_renameat2, etcfd, tmp, etcfd, CACHE_NAME, RENAME_EXCHANGE) == 0) {
		unlinkat(etcfd, tmp, 0); /* the old cache, or whatever the image had there */
		return 0;
	}
	if (fs_type != OVERLAYFS_SUPER_MAGIC && errno != ENOENT && errno != EINVAL &&
	    errno != ENOSYS)
		return -1;
	return renameat(etcfd, tmp, etcfd, CACHE_NAME);
}

/* Replace etcfd/ld.so.cache atomically: a temporary file renamed over it (a link there is
 * replaced, not followed). On failure the temporary file is removed: the old cache stays. */
static int replace_cache(int etcfd, uint32_t fs_type, const char *data, size_t len,
			 struct nvb_error *err)
{
	char tmp[64];
	int fd = create_temp(etcfd, tmp, sizeof(tmp), err), e;
	const char *step;

	if (fd < 0)
		return -1;
	step = "write";
	if (fchmod(fd, 0644) < 0 || write_all(fd, data, len) < 0)
		goto fail;
	step = "close";
	e = close(fd);
	fd = -1;
	if (e < 0)
		goto fail;
	step = "rename";
	if (swap_in(etcfd, tmp, fs_type) < 0)
		goto fail;
	return 0;
fail:
	e = errno;
	if (fd >= 0)
		close(fd);
	unlinkat(etcfd, tmp, 0);
	return nvb_error_errno(err, e, NULL, "cannot %s container %s (temporary file %s)", step,
			       CACHE_SHOWN, tmp);
}

int nvb_ldcache_update_in_root(int rootfd, const struct nvb_ldcache_add *add, size_t n_add,
			       struct nvb_error *err)
{
	_cleanup_close_ int etcfd = -1;
	struct nvb_ldcache *old = NULL;
	uint32_t fs_type = 0;
	char *data = NULL;
	size_t len = 0;
	int r;

	/* Bad arguments fail before anything in the root is touched. */
	if (check_adds(add, n_add, err) < 0)
		return -1;
	etcfd = open_etc(rootfd, &fs_type, err);
	if (etcfd < 0 || load_old_cache(rootfd, etcfd, &old, err) < 0)
		return -1;
	r = nvb_ldcache_build(old, add, n_add, &data, &len, err);
	nvb_ldcache_free(old);
	if (r == 0)
		r = replace_cache(etcfd, fs_type, data, len, err);
	free(data);
	return r;
}
