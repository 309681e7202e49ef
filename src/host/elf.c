/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Minimal ELF reader: identification, type, machine and DT_SONAME.
 *
 * Written by hand rather than with libelf so that nothing but the few bytes needed is ever
 * read (driver libraries reach 100 MB) and so that every field can be checked: the objects
 * come from host trees and container images that may be truncated or hostile. All offsets,
 * sizes and products are checked against the file size with overflow-safe arithmetic before
 * anything is read, and both byte orders and both classes are handled whatever the build
 * machine is.
 *
 * The SONAME is found the way the dynamic linker would: PT_DYNAMIC gives the dynamic array,
 * DT_STRTAB is a virtual address mapped to a file offset through the PT_LOAD segments. Objects
 * without program headers (rare, e.g. some relocatable outputs) fall back to the section
 * headers: the SHT_DYNAMIC section and the string table its sh_link names.
 */
#include "host/elf.h"

#include <inttypes.h>
#include <sys/stat.h>

#define EI_NIDENT 16
#define EI_CLASS 4
#define EI_DATA 5
#define EI_VERSION 6
#define ELFCLASS32 1
#define ELFCLASS64 2
#define ELFDATA2LSB 1
#define ELFDATA2MSB 2
#define EV_CURRENT 1

#define PT_LOAD 1
#define PT_DYNAMIC 2
#define PT_INTERP 3
#define SHT_DYNAMIC 6
#define SHT_NOBITS 8
#define DT_NULL 0
#define DT_STRTAB 5
#define DT_STRSZ 10
#define DT_SONAME 14
#define PN_XNUM 0xffffu
#define SHN_UNDEF 0

#define EHDR32_SIZE 52u
#define EHDR64_SIZE 64u
#define PHDR32_SIZE 32u
#define PHDR64_SIZE 56u
#define SHDR32_SIZE 40u
#define SHDR64_SIZE 64u

/* Far beyond anything a linker produces; keeps a hostile header from costing memory. */
#define MAX_TABLE_SIZE (1u << 20)
#define SONAME_MAX 255u

#define ELF_HINT "the file is truncated or corrupt: reinstall the package that provides it"

/* Where the bytes come from: a memory image or a file descriptor read with pread. */
struct source {
	const unsigned char *mem;
	int fd;
	uint64_t size;
};

/* A parse in progress. */
struct elf {
	struct source src;
	const char *origin;
	struct nvb_error *err;
	int is64;
	int big_endian;
	uint64_t phoff, shoff;
	uint32_t phnum, shnum;
	uint16_t phentsize, shentsize;
	unsigned char *phdrs; /* phnum * phentsize bytes */
};

/* The fields of a program or section header this reader needs, whatever the class. */
struct phdr {
	uint32_t type;
	uint64_t offset, vaddr, filesz;
};

struct shdr {
	uint32_t type, link, info;
	uint64_t offset, size;
};

/* Dynamic tags of interest. */
struct dyninfo {
	int has_strtab, has_strsz, has_soname;
	uint64_t strtab, strsz, soname;
};

static uint16_t get16(const struct elf *e, const unsigned char *b)
{
	if (e->big_endian)
		return (uint16_t)(b[0] << 8 | b[1]);
	return (uint16_t)(b[1] << 8 | b[0]);
}

static uint32_t get32(const struct elf *e, const unsigned char *b)
{
	if (e->big_endian)
		return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
	return (uint32_t)b[3] << 24 | (uint32_t)b[2] << 16 | (uint32_t)b[1] << 8 | b[0];
}

static uint64_t get64(const struct elf *e, const unsigned char *b)
{
	uint64_t first = get32(e, b), second = get32(e, b + 4);

	return e->big_endian ? (first << 32 | second) : (second << 32 | first);
}

/* An address-sized field: 4 bytes in ELFCLASS32, 8 in ELFCLASS64. */
static uint64_t get_addr(const struct elf *e, const unsigned char *b)
{
	return e->is64 ? get64(e, b) : get32(e, b);
}

static int parse_err(const struct elf *e, const char *fmt, ...) NVB_PRINTF(2, 3);
static int parse_err(const struct elf *e, const char *fmt, ...)
{
	char what[NVB_ERROR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return nvb_error_set(e->err, NVB_ERR_PARSE, 0, ELF_HINT, "%s: %s", e->origin, what);
}

/* True when [off, off + len) lies inside the file; no overflow whatever the values. */
static int in_file(const struct elf *e, uint64_t off, uint64_t len)
{
	return off <= e->src.size && len <= e->src.size - off;
}

/* Read len bytes at off; the caller has checked the range with in_file(). */
static int read_at(const struct elf *e, uint64_t off, void *buf, size_t len)
{
	size_t done = 0;

	if (e->src.mem) {
		memcpy(buf, e->src.mem + off, len);
		return 0;
	}
	while (done < len) {
		ssize_t n = pread(e->src.fd, (char *)buf + done, len - done,
				  (off_t)(off + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return nvb_error_errno(e->err, errno, NULL, "%s: read at offset %" PRIu64,
					       e->origin, off + done);
		if (n == 0)
			return nvb_error_set(e->err, NVB_ERR_IO, 0, NULL,
					     "%s: file shrank while being read (offset %" PRIu64
					     ")",
					     e->origin, off + done);
		done += (size_t)n;
	}
	return 0;
}

/* Check and read a table of count entries of entsize bytes at off into a new buffer. */
static unsigned char *read_table(const struct elf *e, uint64_t off, uint64_t count,
				 uint64_t entsize, const char *what)
{
	uint64_t size;
	unsigned char *buf;

	/* Divide rather than multiply: a hostile count must not wrap the product. */
	if (entsize == 0 || count > MAX_TABLE_SIZE / entsize) {
		parse_err(e, "%s too large (%" PRIu64 " entries of %" PRIu64 " bytes, limit %u bytes)",
			  what, count, entsize, MAX_TABLE_SIZE);
		return NULL;
	}
	size = count * entsize;
	if (!in_file(e, off, size)) {
		parse_err(e,
			  "truncated %s (offset 0x%" PRIx64 ", %" PRIu64 " bytes, file size %" PRIu64
			  ")",
			  what, off, size, e->src.size);
		return NULL;
	}
	buf = malloc(size ? (size_t)size : 1);
	if (!buf) {
		nvb_error_nomem(e->err);
		return NULL;
	}
	if (read_at(e, off, buf, (size_t)size) < 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

static int check_ident(struct elf *e, const unsigned char *id, struct nvb_elf_info *info)
{
	if (id[EI_CLASS] != ELFCLASS32 && id[EI_CLASS] != ELFCLASS64)
		return parse_err(e, "unsupported ELF class %u", id[EI_CLASS]);
	if (id[EI_DATA] != ELFDATA2LSB && id[EI_DATA] != ELFDATA2MSB)
		return parse_err(e, "unsupported ELF data encoding %u", id[EI_DATA]);
	if (id[EI_VERSION] != EV_CURRENT)
		return parse_err(e, "unsupported ELF version %u", id[EI_VERSION]);
	e->is64 = id[EI_CLASS] == ELFCLASS64;
	e->big_endian = id[EI_DATA] == ELFDATA2MSB;
	info->elf_class = e->is64 ? 64 : 32;
	info->little_endian = !e->big_endian;
	return 0;
}

/* Identification and ELF header: class, byte order, type, machine and the table locations. */
static int read_ehdr(struct elf *e, struct nvb_elf_info *info)
{
	unsigned char h[EHDR64_SIZE];
	uint64_t need;

	/* No hint: a script or text file in a library directory is not damage. */
	if (e->src.size < 4)
		return nvb_error_set(e->err, NVB_ERR_PARSE, 0, NULL,
				     "%s: not an ELF file (%" PRIu64 " bytes)", e->origin,
				     e->src.size);
	if (read_at(e, 0, h, 4) < 0)
		return -1;
	if (memcmp(h, "\177ELF", 4) != 0)
		return nvb_error_set(e->err, NVB_ERR_PARSE, 0, NULL, "%s: not an ELF file",
				     e->origin);
	if (e->src.size < EI_NIDENT)
		return parse_err(e, "truncated ELF header (%" PRIu64 " bytes)", e->src.size);
	if (read_at(e, 0, h, EI_NIDENT) < 0 || check_ident(e, h, info) < 0)
		return -1;
	need = e->is64 ? EHDR64_SIZE : EHDR32_SIZE;
	if (e->src.size < need)
		return parse_err(e, "truncated ELF header (%" PRIu64 " bytes, need %" PRIu64 ")",
				 e->src.size, need);
	if (read_at(e, 0, h, (size_t)need) < 0)
		return -1;
	info->type = get16(e, h + 16);
	info->machine = get16(e, h + 18);
	if (e->is64) {
		e->phoff = get64(e, h + 32);
		e->shoff = get64(e, h + 40);
		e->phentsize = get16(e, h + 54);
		e->phnum = get16(e, h + 56);
		e->shentsize = get16(e, h + 58);
		e->shnum = get16(e, h + 60);
	} else {
		e->phoff = get32(e, h + 28);
		e->shoff = get32(e, h + 32);
		e->phentsize = get16(e, h + 42);
		e->phnum = get16(e, h + 44);
		e->shentsize = get16(e, h + 46);
		e->shnum = get16(e, h + 48);
	}
	return 0;
}

static void decode_shdr(const struct elf *e, const unsigned char *b, struct shdr *s)
{
	s->type = get32(e, b + 4);
	if (e->is64) {
		s->offset = get64(e, b + 24);
		s->size = get64(e, b + 32);
		s->link = get32(e, b + 40);
		s->info = get32(e, b + 44);
	} else {
		s->offset = get32(e, b + 16);
		s->size = get32(e, b + 20);
		s->link = get32(e, b + 24);
		s->info = get32(e, b + 28);
	}
}

static int check_shentsize(const struct elf *e)
{
	unsigned min = e->is64 ? SHDR64_SIZE : SHDR32_SIZE;

	if (e->shentsize < min)
		return parse_err(e, "section header entry size %u too small (need %u)",
				 e->shentsize, min);
	return 0;
}

/*
 * Section 0 holds the counts that do not fit the 16-bit header fields: sh_info the real
 * e_phnum when it reads PN_XNUM, sh_size the real e_shnum when it reads 0.
 */
static int read_shdr0(const struct elf *e, struct shdr *s0)
{
	unsigned char b[SHDR64_SIZE];
	size_t min = e->is64 ? SHDR64_SIZE : SHDR32_SIZE;

	if (check_shentsize(e) < 0)
		return -1;
	if (!in_file(e, e->shoff, min))
		return parse_err(e, "truncated section header table (offset 0x%" PRIx64
				    ", file size %" PRIu64 ")",
				 e->shoff, e->src.size);
	if (read_at(e, e->shoff, b, min) < 0)
		return -1;
	decode_shdr(e, b, s0);
	return 0;
}

static int fix_phnum(struct elf *e)
{
	struct shdr s0;

	if (e->phnum != PN_XNUM)
		return 0;
	if (e->shoff == 0)
		return parse_err(e, "e_phnum is PN_XNUM but there is no section header table");
	if (read_shdr0(e, &s0) < 0)
		return -1;
	e->phnum = s0.info;
	return 0;
}

static int load_phdrs(struct elf *e)
{
	unsigned min = e->is64 ? PHDR64_SIZE : PHDR32_SIZE;

	if (e->phnum == 0)
		return 0;
	if (e->phentsize < min)
		return parse_err(e, "program header entry size %u too small (need %u)",
				 e->phentsize, min);
	e->phdrs = read_table(e, e->phoff, e->phnum, e->phentsize, "program header table");
	return e->phdrs ? 0 : -1;
}

static void get_phdr(const struct elf *e, uint32_t idx, struct phdr *p)
{
	const unsigned char *b = e->phdrs + (size_t)idx * e->phentsize;

	p->type = get32(e, b);
	if (e->is64) {
		p->offset = get64(e, b + 8);
		p->vaddr = get64(e, b + 16);
		p->filesz = get64(e, b + 32);
	} else {
		p->offset = get32(e, b + 4);
		p->vaddr = get32(e, b + 8);
		p->filesz = get32(e, b + 16);
	}
}

/* Walk a dynamic array (already read) up to DT_NULL, keeping the tags we need. */
static void scan_dynamic(const struct elf *e, const unsigned char *dyn, uint64_t size,
			 struct dyninfo *di)
{
	uint64_t entsize = e->is64 ? 16 : 8;

	for (uint64_t off = 0; size - off >= entsize; off += entsize) {
		uint64_t tag = get_addr(e, dyn + off);
		uint64_t val = get_addr(e, dyn + off + entsize / 2);

		if (tag == DT_NULL)
			break;
		/* The first occurrence wins, as in the dynamic linker. */
		if (tag == DT_STRTAB && !di->has_strtab) {
			di->has_strtab = 1;
			di->strtab = val;
		} else if (tag == DT_STRSZ && !di->has_strsz) {
			di->has_strsz = 1;
			di->strsz = val;
		} else if (tag == DT_SONAME && !di->has_soname) {
			di->has_soname = 1;
			di->soname = val;
		}
	}
}

static int read_dynamic(const struct elf *e, uint64_t off, uint64_t size, const char *what,
			struct dyninfo *di)
{
	unsigned char *dyn = read_table(e, off, size, 1, what);

	if (!dyn)
		return -1;
	scan_dynamic(e, dyn, size, di);
	free(dyn);
	return 0;
}

/* File offset of virtual address addr, through the PT_LOAD segment that holds it. */
static int vaddr_to_offset(const struct elf *e, uint64_t addr, uint64_t *off)
{
	struct phdr p;

	for (uint32_t i = 0; i < e->phnum; i++) {
		get_phdr(e, i, &p);
		if (p.type != PT_LOAD || addr < p.vaddr || addr - p.vaddr >= p.filesz)
			continue;
		if (p.offset > UINT64_MAX - (addr - p.vaddr))
			break;
		*off = p.offset + (addr - p.vaddr);
		return 0;
	}
	return parse_err(e, "DT_STRTAB address 0x%" PRIx64 " is not in any PT_LOAD segment",
			 addr);
}

/*
 * Copy the NUL-terminated string at strtab + idx (a table of strsz bytes, UINT64_MAX when
 * unknown) into info->soname, reading at most SONAME_MAX + 1 bytes.
 */
static int read_soname(const struct elf *e, uint64_t strtab, uint64_t strsz, uint64_t idx,
		       struct nvb_elf_info *info)
{
	uint64_t off, avail;
	char buf[SONAME_MAX + 1];

	if (idx >= strsz)
		return parse_err(e, "DT_SONAME index %" PRIu64 " beyond the string table (%" PRIu64
				    " bytes)", idx, strsz);
	if (strtab > UINT64_MAX - idx || !in_file(e, strtab + idx, 1))
		return parse_err(e, "SONAME at string table 0x%" PRIx64 " + %" PRIu64
				    " beyond end of file (size %" PRIu64 ")",
				 strtab, idx, e->src.size);
	off = strtab + idx;
	avail = e->src.size - off;
	if (avail > strsz - idx)
		avail = strsz - idx;
	if (avail > sizeof(buf))
		avail = sizeof(buf);
	if (read_at(e, off, buf, (size_t)avail) < 0)
		return -1;
	if (!memchr(buf, '\0', (size_t)avail)) {
		if (avail == sizeof(buf))
			return parse_err(e, "SONAME at offset 0x%" PRIx64 " longer than %u bytes",
					 off, SONAME_MAX);
		return parse_err(e, "SONAME at offset 0x%" PRIx64 " is not NUL-terminated", off);
	}
	memcpy(info->soname, buf, strlen(buf) + 1);
	return 0;
}

/* SONAME via the program headers: PT_DYNAMIC, then DT_STRTAB mapped through PT_LOAD. */
static int soname_from_segments(const struct elf *e, struct nvb_elf_info *info)
{
	struct dyninfo di = {0};
	struct phdr p;
	uint64_t strtab = 0;
	uint32_t i;

	for (i = 0; i < e->phnum; i++) {
		get_phdr(e, i, &p);
		if (p.type == PT_DYNAMIC)
			break;
	}
	if (i == e->phnum)
		return 0; /* statically linked or not loadable: no SONAME */
	if (read_dynamic(e, p.offset, p.filesz, "dynamic segment", &di) < 0)
		return -1;
	if (!di.has_soname)
		return 0;
	if (!di.has_strtab)
		return parse_err(e, "DT_SONAME without DT_STRTAB");
	if (vaddr_to_offset(e, di.strtab, &strtab) < 0)
		return -1;
	return read_soname(e, strtab, di.has_strsz ? di.strsz : UINT64_MAX, di.soname, info);
}

/* The section count: e_shnum, or section 0's sh_size when that is 0. */
static int section_count(const struct elf *e, uint64_t *count)
{
	struct shdr s0;

	*count = e->shnum;
	if (e->shoff == 0 || e->shnum != 0)
		return 0;
	if (read_shdr0(e, &s0) < 0)
		return -1;
	*count = s0.size;
	return 0;
}

/* Find the SHT_DYNAMIC section and the string table its sh_link names. */
static int find_dynamic_section(const struct elf *e, const unsigned char *tab, uint64_t count,
				struct shdr *dyn, struct shdr *str)
{
	uint64_t i;

	for (i = 1; i < count; i++) {
		decode_shdr(e, tab + i * e->shentsize, dyn);
		if (dyn->type == SHT_DYNAMIC)
			break;
	}
	if (i >= count)
		return 0;
	if (dyn->link == SHN_UNDEF || dyn->link >= count)
		return parse_err(e, "dynamic section links to invalid string table section %" PRIu32
				    " (%" PRIu64 " sections)",
				 dyn->link, count);
	decode_shdr(e, tab + (size_t)dyn->link * e->shentsize, str);
	if (str->type == SHT_NOBITS)
		return parse_err(e, "dynamic string table section has no file data");
	return 1;
}

/* SONAME via the section headers, for objects without program headers. */
static int soname_from_sections(const struct elf *e, struct nvb_elf_info *info)
{
	_cleanup_free_ unsigned char *tab = NULL;
	struct dyninfo di = {0};
	struct shdr dyn, str;
	uint64_t count;
	int r;

	if (e->shoff == 0 || section_count(e, &count) < 0)
		return e->shoff == 0 ? 0 : -1;
	if (count == 0)
		return 0;
	if (check_shentsize(e) < 0)
		return -1;
	tab = read_table(e, e->shoff, count, e->shentsize, "section header table");
	if (!tab)
		return -1;
	r = find_dynamic_section(e, tab, count, &dyn, &str);
	if (r <= 0)
		return r;
	if (read_dynamic(e, dyn.offset, dyn.size, "dynamic section", &di) < 0)
		return -1;
	if (!di.has_soname)
		return 0;
	return read_soname(e, str.offset, str.size, di.soname, info);
}

static int parse(struct elf *e, struct nvb_elf_info *info)
{
	int r;

	memset(info, 0, sizeof(*info));
	if (read_ehdr(e, info) < 0 || fix_phnum(e) < 0 || load_phdrs(e) < 0)
		return -1;
	for (uint32_t i = 0; i < e->phnum; i++) {
		struct phdr p;
		get_phdr(e, i, &p);
		if (p.type == PT_INTERP)
			info->has_interp = 1;
	}
	if (e->phnum)
		r = soname_from_segments(e, info);
	else
		r = soname_from_sections(e, info);
	if (r < 0)
		info->soname[0] = '\0';
	return r;
}

static int run(struct source src, const char *origin, struct nvb_elf_info *info,
	       struct nvb_error *err)
{
	struct elf e = {
		.src = src,
		.origin = origin ? origin : "ELF object",
		.err = err,
	};
	int r = parse(&e, info);

	free(e.phdrs);
	return r;
}

int nvb_elf_parse(const void *data, size_t len, const char *origin, struct nvb_elf_info *info,
		  struct nvb_error *err)
{
	struct source src = {.mem = data, .fd = -1, .size = len};

	/* A zero-length image may come with data == NULL; nothing is read from it then. */
	if (!data)
		src.size = 0;
	return run(src, origin, info, err);
}

int nvb_elf_read_fd(int fd, const char *origin, struct nvb_elf_info *info, struct nvb_error *err)
{
	struct source src = {.fd = fd};
	struct stat st;

	if (!origin)
		origin = "ELF object";
	if (fstat(fd, &st) < 0)
		return nvb_error_errno(err, errno, NULL, "%s: stat", origin);
	if (!S_ISREG(st.st_mode))
		return nvb_error_set(err, NVB_ERR_INVALID, 0, NULL, "%s: not a regular file",
				     origin);
	src.size = (uint64_t)st.st_size;
	return run(src, origin, info, err);
}

const char *nvb_elf_machine_name(uint16_t machine)
{
	switch (machine) {
	case 2: return "sparc";
	case 3: return "i386";
	case 8: return "mips";
	case 20: return "ppc";
	case 21: return "ppc64";
	case 22: return "s390";
	case 40: return "arm";
	case 43: return "sparc64";
	case 50: return "ia64";
	case 62: return "x86-64";
	case 183: return "aarch64";
	case 243: return "riscv";
	case 258: return "loongarch";
	default: return "unknown";
	}
}
