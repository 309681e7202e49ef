/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reader for glibc's /etc/ld.so.cache.
 *
 * Three layouts exist in the wild:
 *  - old only ("ld.so-1.7.0"): a 16-byte header, nlibs 12-byte entries, then the strings.
 *    Offsets are relative to the end of the entry array (the start of the string table).
 *  - new only ("glibc-ld.so.cache1.1"): a 48-byte header, nlibs 24-byte entries, strings.
 *    Offsets are relative to the start of the new header (= start of the file).
 *  - old followed by new (glibc < 2.32, "compat"): the new header sits at the end of the old
 *    entries, aligned to alignof(struct cache_file_new). Only the new entries are listed, as
 *    `ldconfig -p` does.
 *
 * The file is untrusted input (a container image or a hostile host tree can supply it), so
 * every count, offset and string is checked against the file size before use.
 */
#include "host/ldcache.h"

#include <inttypes.h>

#define OLD_MAGIC "ld.so-1.7.0"
#define OLD_MAGIC_LEN (sizeof(OLD_MAGIC) - 1)
#define OLD_HEADER_SIZE 16u /* char magic[11]; (pad); uint32_t nlibs; */
#define OLD_ENTRY_SIZE 12u  /* int32 flags; uint32 key, value; */

#define NEW_MAGIC "glibc-ld.so.cache"
#define NEW_MAGIC_LEN (sizeof(NEW_MAGIC) - 1)
#define NEW_VERSION "1.1"
#define NEW_ID_LEN (NEW_MAGIC_LEN + sizeof(NEW_VERSION) - 1) /* 20 */
#define NEW_HEADER_SIZE 48u
#define NEW_ENTRY_SIZE 24u /* int32 flags; uint32 key, value, osversion; uint64 hwcap; */
#define NEW_OFF_NLIBS 20u
#define NEW_OFF_FLAGS 28u
#define NEW_OFF_EXTENSION 32u

/* The extension directory (glibc 2.33+): magic, count, then count 16-byte sections
 * {tag, flags, offset, size}; tag 1 is the glibc-hwcaps array of string offsets. */
#define EXT_MAGIC 0xeaa42174u
#define EXT_HEADER_SIZE 8u
#define EXT_SECTION_SIZE 16u
#define EXT_TAG_GLIBC_HWCAPS 1u

/* cache_file_new.flags & 3: how the writer's byte order was recorded (glibc >= 2.33). */
#define ENDIAN_UNSET 0u
#define ENDIAN_INVALID 1u
#define ENDIAN_LITTLE 2u
#define ENDIAN_BIG 3u

#define LDCACHE_DEFAULT_PATH "/etc/ld.so.cache"
#define LDCACHE_MAX_SIZE (64u << 20)
#define LDCACHE_HINT "the file is corrupt or truncated: regenerate it with ldconfig"

/* A parse in progress: the owned image and how to read integers from it. */
struct parser {
	const unsigned char *p;
	size_t len;
	const char *origin;
	int big_endian;
	struct nvb_error *err;
};

static int host_is_big_endian(void)
{
	const uint16_t one = 1;

	return *(const unsigned char *)&one == 0;
}

/* Callers have checked off + 4 <= len. */
static uint32_t rd32(const struct parser *ps, size_t off)
{
	const unsigned char *b = ps->p + off;

	if (ps->big_endian)
		return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
	return (uint32_t)b[3] << 24 | (uint32_t)b[2] << 16 | (uint32_t)b[1] << 8 | b[0];
}

static uint64_t rd64(const struct parser *ps, size_t off)
{
	uint64_t lo = rd32(ps, off), hi = rd32(ps, off + 4);

	return ps->big_endian ? (lo << 32 | hi) : (hi << 32 | lo);
}

static int parse_error(const struct parser *ps, const char *what, const char *detail)
{
	return nvb_error_set(ps->err, NVB_ERR_PARSE, 0, LDCACHE_HINT, "%s: %s%s", ps->origin, what,
			     detail);
}

/*
 * Resolve the string at base + off. It must start inside the file and end with a NUL inside
 * the file: a string running off the end would make every later strlen() an overread.
 */
static const char *get_string(const struct parser *ps, size_t base, uint32_t off, size_t idx,
			      const char *what)
{
	size_t start;

	if (base > ps->len || off >= ps->len - base) {
		nvb_error_set(ps->err, NVB_ERR_PARSE, 0, LDCACHE_HINT,
			      "%s: entry %zu %s offset 0x%" PRIx32
			      " beyond end of file (size %zu)",
			      ps->origin, idx, what, off, ps->len);
		return NULL;
	}
	start = base + off;
	if (!memchr(ps->p + start, '\0', ps->len - start)) {
		nvb_error_set(ps->err, NVB_ERR_PARSE, 0, LDCACHE_HINT,
			      "%s: entry %zu %s at offset 0x%zx is not NUL-terminated before the "
			      "end of file (size %zu)",
			      ps->origin, idx, what, start, ps->len);
		return NULL;
	}
	return (const char *)ps->p + start;
}

/* Check that nlibs entries of entry_size fit between table and the end of the file. */
static int check_count(const struct parser *ps, size_t table, uint32_t nlibs, size_t entry_size,
		       const char *fmt_name)
{
	size_t room = ps->len > table ? ps->len - table : 0;

	if (nlibs <= room / entry_size)
		return 0;
	return nvb_error_set(ps->err, NVB_ERR_PARSE, 0, LDCACHE_HINT,
			     "%s: %s entry count %" PRIu32 " (%" PRIu64 " bytes at offset 0x%zx) "
			     "exceeds the file size %zu",
			     ps->origin, fmt_name, nlibs, (uint64_t)nlibs * entry_size, table,
			     ps->len);
}

static int alloc_entries(struct nvb_ldcache *cache, uint32_t n, struct nvb_error *err)
{
	cache->n_entries = n;
	if (n == 0)
		return 0;
	/* n is bounded by len / entry size, so this cannot be absurdly large. */
	cache->entries = calloc(n, sizeof(*cache->entries));
	if (!cache->entries)
		return nvb_error_nomem(err);
	return 0;
}

static int fill_entry(const struct parser *ps, struct nvb_ldcache_entry *e, size_t base,
		      uint32_t key, uint32_t value, size_t idx)
{
	e->name = get_string(ps, base, key, idx, "name");
	if (!e->name)
		return -1;
	e->path = get_string(ps, base, value, idx, "path");
	if (!e->path)
		return -1;
	return 0;
}

/* Entries of the new format; hdr is the offset of the "glibc-ld.so.cache" header. */
static int parse_new(const struct parser *ps, struct nvb_ldcache *cache, size_t hdr)
{
	uint32_t nlibs = rd32(ps, hdr + NEW_OFF_NLIBS);
	size_t table = hdr + NEW_HEADER_SIZE;

	if (check_count(ps, table, nlibs, NEW_ENTRY_SIZE, "new-format") < 0)
		return -1;
	if (alloc_entries(cache, nlibs, ps->err) < 0)
		return -1;
	for (size_t i = 0; i < nlibs; i++) {
		size_t off = table + i * NEW_ENTRY_SIZE;
		struct nvb_ldcache_entry *e = &cache->entries[i];

		e->flags = rd32(ps, off);
		e->osversion = rd32(ps, off + 12);
		e->hwcap = rd64(ps, off + 16);
		if (fill_entry(ps, e, hdr, rd32(ps, off + 4), rd32(ps, off + 8), i) < 0)
			return -1;
	}
	return 0;
}

/*
 * The glibc-hwcaps section of the extension directory, checked as glibc's
 * cache_extension_load and cache_extension_verify do: a directory that does not fit the file
 * makes the loader ignore every extension, a hwcaps section that is empty, misaligned or not
 * a multiple of 4 is ignored. *size is 0 when there is none.
 */
static void find_hwcaps_section(const struct parser *ps, size_t hdr, size_t *offset, size_t *size)
{
	uint32_t ext = rd32(ps, hdr + NEW_OFF_EXTENSION);
	uint32_t count;

	*offset = *size = 0;
	if (ext == 0 || ext % 4 != 0 || ext > ps->len || ps->len - ext < EXT_HEADER_SIZE)
		return;
	if (rd32(ps, ext) != EXT_MAGIC)
		return;
	count = rd32(ps, ext + 4);
	if (count > (ps->len - ext - EXT_HEADER_SIZE) / EXT_SECTION_SIZE)
		return;
	for (uint32_t i = 0; i < count; i++) {
		size_t sec = ext + EXT_HEADER_SIZE + (size_t)i * EXT_SECTION_SIZE;
		uint32_t tag = rd32(ps, sec), off = rd32(ps, sec + 8), sz = rd32(ps, sec + 12);

		if ((uint64_t)off + sz > ps->len) {
			*offset = *size = 0; /* glibc drops the whole directory */
			return;
		}
		if (tag == EXT_TAG_GLIBC_HWCAPS) { /* a later section of the same tag wins */
			*offset = off;
			*size = sz;
		}
	}
	if (*size == 0 || *offset % 4 != 0 || *size % 4 != 0)
		*offset = *size = 0;
}

/* A NUL-terminated string at base + off, or NULL: an unresolvable hwcaps name is not an error
 * (glibc's loader skips such entries), so this one reports nothing. */
static const char *try_string(const struct parser *ps, size_t base, uint32_t off)
{
	if (base > ps->len || off >= ps->len - base)
		return NULL;
	if (!memchr(ps->p + base + off, '\0', ps->len - base - off))
		return NULL;
	return (const char *)ps->p + base + off;
}

/* Name the glibc-hwcaps subdirectory of each extension entry. String offsets in the hwcaps
 * array share the base of the entries' key and value (the new header). */
static void resolve_hwcaps(const struct parser *ps, struct nvb_ldcache *cache, size_t hdr)
{
	size_t sec, size;

	find_hwcaps_section(ps, hdr, &sec, &size);
	for (size_t i = 0; i < cache->n_entries; i++) {
		struct nvb_ldcache_entry *e = &cache->entries[i];
		uint32_t idx = (uint32_t)e->hwcap;

		if (!nvb_ldcache_hwcap_is_extension(e->hwcap) || idx >= size / 4)
			continue;
		e->hwcaps = try_string(ps, hdr, rd32(ps, sec + (size_t)idx * 4));
	}
}

/* Entries of an old-format-only cache: strings are relative to the end of the entries. */
static int parse_old(const struct parser *ps, struct nvb_ldcache *cache, uint32_t nlibs)
{
	size_t strings = OLD_HEADER_SIZE + (size_t)nlibs * OLD_ENTRY_SIZE;

	if (alloc_entries(cache, nlibs, ps->err) < 0)
		return -1;
	for (size_t i = 0; i < nlibs; i++) {
		size_t off = OLD_HEADER_SIZE + i * OLD_ENTRY_SIZE;
		struct nvb_ldcache_entry *e = &cache->entries[i];

		e->flags = rd32(ps, off);
		if (fill_entry(ps, e, strings, rd32(ps, off + 4), rd32(ps, off + 8), i) < 0)
			return -1;
	}
	return 0;
}

static int has_new_id(const struct parser *ps, size_t off)
{
	return off <= ps->len && ps->len - off >= NEW_ID_LEN &&
	       memcmp(ps->p + off, NEW_MAGIC NEW_VERSION, NEW_ID_LEN) == 0;
}

/*
 * Byte order of a new-format header. glibc >= 2.33 records it in the flags byte; older
 * writers leave it 0, which means "this machine's order" (the only case glibc accepts then).
 */
static int new_endianness(struct parser *ps, size_t hdr)
{
	unsigned int e = ps->p[hdr + NEW_OFF_FLAGS] & 3u;
	char detail[64];

	switch (e) {
	case ENDIAN_UNSET:
		ps->big_endian = host_is_big_endian();
		return 0;
	case ENDIAN_LITTLE:
	case ENDIAN_BIG:
		ps->big_endian = e == ENDIAN_BIG;
		return 0;
	default:
		snprintf(detail, sizeof(detail), " (flags 0x%02x)", ps->p[hdr + NEW_OFF_FLAGS]);
		return parse_error(ps, "invalid byte-order flag in the cache header", detail);
	}
}

static int parse_new_at(struct parser *ps, struct nvb_ldcache *cache, size_t hdr)
{
	if (ps->len - hdr < NEW_HEADER_SIZE) {
		char detail[64];

		snprintf(detail, sizeof(detail), " (%zu bytes, need %zu)", ps->len,
			 hdr + NEW_HEADER_SIZE);
		return parse_error(ps, "truncated new-format header", detail);
	}
	if (new_endianness(ps, hdr) < 0)
		return -1;
	if (parse_new(ps, cache, hdr) < 0)
		return -1;
	resolve_hwcaps(ps, cache, hdr);
	return 0;
}

/*
 * Where a new header hidden after old entries ending at end may start. ldconfig aligns it
 * to alignof(struct cache_file_new): 8 where uint64_t is 8-aligned, 4 on i386 and the like,
 * where the aligned offset is end itself (old entries keep it a multiple of 4).
 */
static size_t find_embedded_new(const struct parser *ps, size_t end)
{
	size_t aligned8 = (end + 7u) & ~(size_t)7u;

	if (has_new_id(ps, aligned8))
		return aligned8;
	if (has_new_id(ps, end))
		return end;
	return 0;
}

static int parse_old_or_compat(struct parser *ps, struct nvb_ldcache *cache)
{
	uint32_t nlibs;
	size_t end, hdr;

	if (ps->len < OLD_HEADER_SIZE) {
		char detail[64];

		snprintf(detail, sizeof(detail), " (%zu bytes, need %u)", ps->len,
			 OLD_HEADER_SIZE);
		return parse_error(ps, "truncated old-format header", detail);
	}
	/* The old format predates the endianness flag: it is always in this machine's order. */
	ps->big_endian = host_is_big_endian();
	nlibs = rd32(ps, 12);
	if (check_count(ps, OLD_HEADER_SIZE, nlibs, OLD_ENTRY_SIZE, "old-format") < 0)
		return -1;
	end = OLD_HEADER_SIZE + (size_t)nlibs * OLD_ENTRY_SIZE;
	hdr = find_embedded_new(ps, end);
	if (hdr) {
		cache->format = 3;
		return parse_new_at(ps, cache, hdr);
	}
	cache->format = 1;
	return parse_old(ps, cache, nlibs);
}

static int is_prefix_of(const unsigned char *p, size_t len, const char *magic, size_t mlen)
{
	return len < mlen && memcmp(p, magic, len) == 0;
}

static int parse_image(struct parser *ps, struct nvb_ldcache *cache)
{
	if (ps->len >= OLD_MAGIC_LEN && memcmp(ps->p, OLD_MAGIC, OLD_MAGIC_LEN) == 0)
		return parse_old_or_compat(ps, cache);
	if (has_new_id(ps, 0)) {
		cache->format = 2;
		return parse_new_at(ps, cache, 0);
	}
	if (ps->len == 0)
		return parse_error(ps, "empty file, not an ld.so.cache", "");
	if (is_prefix_of(ps->p, ps->len, OLD_MAGIC, OLD_MAGIC_LEN) ||
	    is_prefix_of(ps->p, ps->len, NEW_MAGIC NEW_VERSION, NEW_ID_LEN))
		return nvb_error_set(ps->err, NVB_ERR_PARSE, 0, LDCACHE_HINT,
				     "%s: truncated cache header (%zu bytes)", ps->origin, ps->len);
	if (ps->len >= NEW_MAGIC_LEN && memcmp(ps->p, NEW_MAGIC, NEW_MAGIC_LEN) == 0)
		return nvb_error_set(ps->err, NVB_ERR_PARSE, 0, LDCACHE_HINT,
				     "%s: unsupported ld.so.cache version \"%.3s\" (expected %s)",
				     ps->origin,
				     ps->len >= NEW_ID_LEN ? (const char *)ps->p + NEW_MAGIC_LEN
							   : "",
				     NEW_VERSION);
	return parse_error(ps, "not an ld.so.cache file (bad magic)", "");
}

/* Parse an image whose buffer (len bytes, malloc'ed) the cache takes over, even on error. */
struct nvb_ldcache *nvb_ldcache_parse_owned(char *buf, size_t len, const char *origin,
					    struct nvb_error *err)
{
	struct nvb_ldcache *cache = calloc(1, sizeof(*cache));
	struct parser ps = {
		.p = (const unsigned char *)buf,
		.len = len,
		.origin = origin ? origin : "ld.so.cache",
		.err = err,
	};

	if (!cache) {
		free(buf);
		nvb_error_nomem(err);
		return NULL;
	}
	cache->data = buf;
	cache->len = len;
	if (parse_image(&ps, cache) < 0) {
		nvb_ldcache_free(cache);
		return NULL;
	}
	return cache;
}

struct nvb_ldcache *nvb_ldcache_parse(const void *data, size_t len, const char *origin,
				      struct nvb_error *err)
{
	/* Exactly len bytes (the parser never relies on a terminator past the end). */
	char *copy = malloc(len ? len : 1);

	if (!copy) {
		nvb_error_nomem(err);
		return NULL;
	}
	if (len)
		memcpy(copy, data, len);
	return nvb_ldcache_parse_owned(copy, len, origin, err);
}

struct nvb_ldcache *nvb_ldcache_load(struct nvb_host *host, const char *path,
				     struct nvb_error *err)
{
	const char *inside = path ? path : LDCACHE_DEFAULT_PATH;
	_cleanup_free_ char *origin = NULL;
	char *buf = NULL;
	size_t len = 0;

	/* nvb_host_read's code is kept: NOT_FOUND lets callers fall back to a directory scan. */
	if (nvb_host_read(host, inside, LDCACHE_MAX_SIZE, &buf, &len, err) < 0)
		return NULL;
	/* Name the file as the user can find it (the host root may be a fixture tree). */
	origin = nvb_host_outside_path(host, inside);
	return nvb_ldcache_parse_owned(buf, len, origin ? origin : inside, err);
}

void nvb_ldcache_free(struct nvb_ldcache *cache)
{
	if (!cache)
		return;
	free(cache->entries);
	free(cache->data);
	free(cache);
}

static const char *type_name(uint32_t flags)
{
	static const char *const names[] = {"libc4", "ELF", "libc5", "libc6"};
	uint32_t type = flags & NVB_LDCACHE_TYPE_MASK;

	return type < NVB_ARRAY_SIZE(names) ? names[type] : "unknown";
}

/* The architecture suffixes glibc's print_entry (elf/cache.c) appends, by flags >> 8. */
static const char *const arch_suffixes[] = {
	[0x00] = "",
	[0x01] = ",64bit", /* SPARC */
	[0x02] = ",IA-64",
	[0x03] = ",x86-64",
	[0x04] = ",64bit", /* s390x */
	[0x05] = ",64bit", /* ppc64 */
	[0x06] = ",N32",
	[0x07] = ",64bit", /* MIPS n64 */
	[0x08] = ",x32",
	[0x09] = ",hard-float", /* ARM EABI */
	[0x0a] = ",AArch64",
	[0x0b] = ",soft-float", /* ARM EABI */
	[0x0c] = ",nan2008",
	[0x0d] = ",N32,nan2008",
	[0x0e] = ",64bit,nan2008",
	[0x0f] = ",soft-float", /* RISC-V */
	[0x10] = ",double-float",
	[0x11] = ",soft-float", /* LoongArch */
	[0x12] = ",double-float",
};

const char *nvb_ldcache_flags_name(uint32_t flags)
{
	/* Per thread: unknown architectures are formatted, as glibc does, in decimal. */
	static _Thread_local char buf[48];
	uint32_t arch = flags & NVB_LDCACHE_ARCH_MASK;
	const char *suffix = NULL;

	if ((arch >> 8) < NVB_ARRAY_SIZE(arch_suffixes))
		suffix = arch_suffixes[arch >> 8];
	if (suffix)
		snprintf(buf, sizeof(buf), "%s%s", type_name(flags), suffix);
	else
		snprintf(buf, sizeof(buf), "%s,%" PRIu32, type_name(flags), arch);
	return buf;
}

int nvb_ldcache_entry_class(const struct nvb_ldcache_entry *e)
{
	if (!e || (e->flags & NVB_LDCACHE_TYPE_MASK) != NVB_LDCACHE_ELF_LIBC6)
		return 0;
	switch ((e->flags & NVB_LDCACHE_ARCH_MASK) >> 8) {
	case 0x00: /* i386 and the other arches without a flag (ARM OABI, ppc32, s390) */
	case 0x06: /* MIPS n32 */
	case 0x08: /* x32 */
	case 0x09: /* ARM hard-float */
	case 0x0b: /* ARM soft-float */
	case 0x0c: /* MIPS o32 nan2008 */
	case 0x0d: /* MIPS n32 nan2008 */
		return 32;
	case 0x01:
	case 0x02:
	case 0x03:
	case 0x04:
	case 0x05:
	case 0x07:
	case 0x0a:
	case 0x0e:
	case 0x11: /* LoongArch: glibc supports only LP64 */
	case 0x12:
		return 64;
	default: /* RISC-V flags do not say whether it is rv32 or rv64 */
		return 0;
	}
}
