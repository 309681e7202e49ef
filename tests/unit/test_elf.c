/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for the ELF reader: real objects compiled at test time (64-bit, 32-bit when
 * `cc -m32` works, a PIE without SONAME), /bin/true, hand-made images of both byte orders
 * and both classes, and damaged copies that must give NVB_ERR_PARSE naming the file.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "host/elf.h"

#define ET_EXEC 2
#define ET_DYN 3
#define EM_386 3
#define EM_MIPS 8
#define EM_PPC64 21
#define EM_X86_64 62
#define EM_AARCH64 183

#if defined(__x86_64__)
#define HOST_MACHINE EM_X86_64
#elif defined(__aarch64__)
#define HOST_MACHINE EM_AARCH64
#else
#define HOST_MACHINE 0 /* not checked */
#endif

/* Objects built once for the whole group. */
struct objs {
	char dir[64];
	char so64[128], so32[128], pie[128], nosoname[128], long_soname[128], max_soname[128];
	int have32;
};

static struct objs objs;

/* ------------------------------------------------------------------ helpers */

static int run_quiet(const char *fmt, ...) NVB_PRINTF(1, 2);
static int run_quiet(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	return st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

static unsigned char *slurp(const char *path, size_t *len)
{
	struct stat st;
	unsigned char *buf;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	*len = (size_t)st.st_size;
	buf = malloc(*len ? *len : 1);
	assert_non_null(buf);
	assert_int_equal(read(fd, buf, *len), (ssize_t)*len);
	close(fd);
	return buf;
}

static void write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	assert_true(fd >= 0);
	if (len)
		assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static int parse_file(const char *path, struct nvb_elf_info *info, struct nvb_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int r;

	assert_true(fd >= 0);
	memset(err, 0, sizeof(*err));
	r = nvb_elf_read_fd(fd, path, info, err);
	close(fd);
	return r;
}

/* Parse an exact-size heap copy, so ASan flags a read one byte past the end. */
static int parse_mem(const void *data, size_t len, const char *origin, struct nvb_elf_info *info,
		     struct nvb_error *err)
{
	void *copy = malloc(len ? len : 1);
	int r;

	assert_non_null(copy);
	if (len)
		memcpy(copy, data, len);
	memset(err, 0, sizeof(*err));
	r = nvb_elf_parse(copy, len, origin, info, err);
	free(copy);
	return r;
}

static void assert_parse_error(int r, const struct nvb_error *err, const char *origin,
			       const char *substr)
{
	if (r == 0)
		fail_msg("expected a parse error (%s)", substr ? substr : "any");
	assert_int_equal(r, -1);
	assert_int_equal(err->code, NVB_ERR_PARSE);
	if (!strstr(err->message, origin))
		fail_msg("message does not name %s: %s", origin, err->message);
	if (substr && !strstr(err->message, substr))
		fail_msg("message lacks \"%s\": %s", substr, err->message);
}

static void expect_error(const void *data, size_t len, const char *substr)
{
	struct nvb_elf_info info;
	struct nvb_error err;
	int r = parse_mem(data, len, "/hostile/libx.so", &info, &err);

	assert_parse_error(r, &err, "/hostile/libx.so", substr);
}

/* Both entry points must agree on a real file. */
static void read_both(const char *path, struct nvb_elf_info *info)
{
	struct nvb_elf_info mem_info;
	struct nvb_error err;
	size_t len;
	unsigned char *data = slurp(path, &len);

	if (parse_file(path, info, &err) < 0)
		fail_msg("%s", err.message);
	if (parse_mem(data, len, path, &mem_info, &err) < 0)
		fail_msg("%s", err.message);
	assert_memory_equal(info, &mem_info, sizeof(*info));
	free(data);
}

static int build_objects(void **state)
{
	(void)state;
	char longname[301];
	char maxname[256];
	const char *d;

	strcpy(objs.dir, "/tmp/nvb-elf-XXXXXX");
	if (!mkdtemp(objs.dir))
		return -1;
	d = objs.dir;
	snprintf(objs.so64, sizeof(objs.so64), "%s/libnvbelf.so.1.0", d);
	snprintf(objs.so32, sizeof(objs.so32), "%s/libnvbelf32.so.1.0", d);
	snprintf(objs.pie, sizeof(objs.pie), "%s/pie", d);
	snprintf(objs.nosoname, sizeof(objs.nosoname), "%s/libnosoname.so", d);
	snprintf(objs.long_soname, sizeof(objs.long_soname), "%s/liblong.so", d);
	snprintf(objs.max_soname, sizeof(objs.max_soname), "%s/libmax.so", d);
	memset(longname, 'l', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	memset(maxname, 'm', sizeof(maxname) - 1);
	maxname[sizeof(maxname) - 1] = '\0';
	if (run_quiet("echo 'int nvb_fn(void) { return 7; }' > %s/lib.c && "
		      "echo 'int main(void) { return 0; }' > %s/main.c",
		      d, d) < 0 ||
	    run_quiet("cc -shared -fPIC -Wl,-soname,libnvbelf.so.1 -o %s %s/lib.c", objs.so64,
		      d) < 0 ||
	    run_quiet("cc -shared -fPIC -o %s %s/lib.c", objs.nosoname, d) < 0 ||
	    run_quiet("cc -shared -fPIC -Wl,-soname,%s -o %s %s/lib.c", longname,
		      objs.long_soname, d) < 0 ||
	    run_quiet("cc -shared -fPIC -Wl,-soname,%s -o %s %s/lib.c", maxname,
		      objs.max_soname, d) < 0 ||
	    run_quiet("cc -fPIE -pie -o %s %s/main.c", objs.pie, d) < 0)
		return -1;
	objs.have32 = run_quiet("cc -m32 -shared -fPIC -Wl,-soname,libnvbelf32.so.1 -o %s "
				"%s/lib.c 2>/dev/null",
				objs.so32, d) == 0;
	if (!objs.have32)
		print_message("cc -m32 does not work here: 32-bit checks skipped\n");
	return 0;
}

static int remove_objects(void **state)
{
	(void)state;
	if (objs.dir[0] && strncmp(objs.dir, "/tmp/nvb-elf-", 13) == 0)
		return run_quiet("rm -rf %s", objs.dir);
	return 0;
}

/* ----------------------------------------------------------- real objects */

static void test_shared_object_64(void **state)
{
	(void)state;
	struct nvb_elf_info info;

	read_both(objs.so64, &info);
	assert_int_equal(info.elf_class, (int)sizeof(void *) * 8);
	assert_int_equal(info.type, ET_DYN);
	if (HOST_MACHINE)
		assert_int_equal(info.machine, HOST_MACHINE);
	assert_string_equal(info.soname, "libnvbelf.so.1");
	assert_string_not_equal(nvb_elf_machine_name(info.machine), "unknown");
}

static void test_shared_object_32(void **state)
{
	(void)state;
	struct nvb_elf_info info;

	if (!objs.have32) {
		print_message("no 32-bit compiler: skipped\n");
		skip();
	}
	read_both(objs.so32, &info);
	assert_int_equal(info.elf_class, 32);
	assert_int_equal(info.little_endian, 1);
	assert_int_equal(info.type, ET_DYN);
#if defined(__x86_64__)
	assert_int_equal(info.machine, EM_386);
	assert_string_equal(nvb_elf_machine_name(info.machine), "i386");
#endif
	assert_string_equal(info.soname, "libnvbelf32.so.1");
}

static void test_no_soname(void **state)
{
	(void)state;
	struct nvb_elf_info info;

	read_both(objs.pie, &info);
	assert_int_equal(info.type, ET_DYN); /* a PIE is ET_DYN too */
	assert_string_equal(info.soname, "");
	read_both(objs.nosoname, &info);
	assert_string_equal(info.soname, "");
}

static void test_bin_true(void **state)
{
	(void)state;
	struct nvb_elf_info info;

	if (access("/bin/true", R_OK) != 0)
		skip();
	read_both("/bin/true", &info);
	assert_true(info.elf_class == 32 || info.elf_class == 64);
	assert_true(info.type == ET_DYN || info.type == ET_EXEC);
	assert_string_equal(info.soname, "");
}

/* 255 bytes is the limit, 300 is refused rather than cut. */
static void test_soname_length(void **state)
{
	(void)state;
	struct nvb_elf_info info;
	struct nvb_error err;

	read_both(objs.max_soname, &info);
	assert_int_equal(strlen(info.soname), 255);
	assert_parse_error(parse_file(objs.long_soname, &info, &err), &err, objs.long_soname,
			   "longer than 255 bytes");
}

/* ------------------------------------------------------------ not ELF at all */

static void test_not_elf(void **state)
{
	(void)state;
	static const char text[] = "#!/bin/sh\necho this is a shell script, not a library\n";
	char path[128];
	struct nvb_elf_info info;
	struct nvb_error err;
	int fds[2];

	snprintf(path, sizeof(path), "%s/script.so", objs.dir);
	write_file(path, text, sizeof(text) - 1);
	assert_parse_error(parse_file(path, &info, &err), &err, path, "not an ELF file");
	expect_error(text, sizeof(text) - 1, "not an ELF file");
	expect_error("", 0, "not an ELF file");
	expect_error("\177EL", 3, "not an ELF file");
	snprintf(path, sizeof(path), "%s/empty.so", objs.dir);
	write_file(path, "", 0);
	assert_parse_error(parse_file(path, &info, &err), &err, path, "not an ELF file");

	/* pread cannot work on a pipe: refused up front */
	assert_int_equal(pipe(fds), 0);
	memset(&err, 0, sizeof(err));
	assert_int_equal(nvb_elf_read_fd(fds[0], "<pipe>", &info, &err), -1);
	assert_int_equal(err.code, NVB_ERR_INVALID);
	assert_non_null(strstr(err.message, "<pipe>"));
	close(fds[0]);
	close(fds[1]);
}

static void test_bad_ident(void **state)
{
	(void)state;
	size_t len;
	unsigned char *img = slurp(objs.so64, &len);

	img[4] = 3;
	expect_error(img, len, "unsupported ELF class 3");
	img[4] = 2;
	img[5] = 0;
	expect_error(img, len, "unsupported ELF data encoding 0");
	img[5] = 1;
	img[6] = 9;
	expect_error(img, len, "unsupported ELF version 9");
	free(img);
}

/* ----------------------------------------------------------- truncations */

/*
 * Every prefix of a real object, in memory: short ones fail with the right message, any
 * that parses (section headers and the like are not needed) must give the same SONAME.
 */
static void truncate_all(const char *path, const char *soname, unsigned ehdr_size)
{
	size_t len, ok = 0;
	unsigned char *img = slurp(path, &len);

	for (size_t n = 0; n < len; n++) {
		struct nvb_elf_info info;
		struct nvb_error err;
		int r = parse_mem(img, n, "/trunc/lib.so", &info, &err);

		if (n < 4)
			assert_parse_error(r, &err, "/trunc/lib.so", "not an ELF file");
		else if (n < ehdr_size)
			assert_parse_error(r, &err, "/trunc/lib.so", "truncated ELF header");
		else if (r < 0)
			assert_parse_error(r, &err, "/trunc/lib.so", NULL);
		else {
			assert_string_equal(info.soname, soname);
			ok++;
		}
	}
	print_message("%s: %zu of %zu prefixes parse\n", path, ok, len);
	free(img);
}

static void test_truncated_in_memory(void **state)
{
	(void)state;
	truncate_all(objs.so64, "libnvbelf.so.1", sizeof(void *) == 8 ? 64 : 52);
	if (objs.have32)
		truncate_all(objs.so32, "libnvbelf32.so.1", 52);
}

/* The pread path, on truncated files at a spread of lengths. */
static void test_truncated_files(void **state)
{
	(void)state;
	char path[128];
	size_t len;
	unsigned char *img = slurp(objs.so64, &len);

	snprintf(path, sizeof(path), "%s/trunc.so", objs.dir);
	for (size_t n = 0; n < len; n += n < 128 ? 1 : 61) {
		struct nvb_elf_info info;
		struct nvb_error err;
		int r;

		write_file(path, img, n);
		r = parse_file(path, &info, &err);
		if (r < 0)
			assert_parse_error(r, &err, path, n < 4 ? "not an ELF" : NULL);
		else
			assert_string_equal(info.soname, "libnvbelf.so.1");
	}
	free(img);
}

/* ------------------------------------------------------------ corruptions */

/* Byte-order aware pokes into an image. */
static void poke(unsigned char *p, size_t size, uint64_t v, int be)
{
	for (size_t i = 0; i < size; i++)
		p[i] = (unsigned char)(v >> (8 * (be ? size - 1 - i : i)));
}

static uint64_t peek(const unsigned char *p, size_t size, int be)
{
	uint64_t v = 0;

	for (size_t i = 0; i < size; i++)
		v |= (uint64_t)p[i] << (8 * (be ? size - 1 - i : i));
	return v;
}

/* Field offsets of a 64-bit little-endian object (what cc builds here). */
struct so_layout {
	unsigned char *img;
	size_t len;
	size_t phoff, phentsize, phnum;
	size_t dyn_ph;     /* offset of the PT_DYNAMIC program header */
	size_t dyn_off;    /* file offset of the dynamic array */
	size_t soname_ent; /* offset of the DT_SONAME entry */
	size_t strtab_ent; /* offset of the DT_STRTAB entry */
};

static void load_layout(struct so_layout *l)
{
	memset(l, 0, sizeof(*l));
	l->img = slurp(objs.so64, &l->len);
	if (l->img[4] != 2 || l->img[5] != 1) {
		free(l->img);
		l->img = NULL;
		return;
	}
	l->phoff = peek(l->img + 32, 8, 0);
	l->phentsize = peek(l->img + 54, 2, 0);
	l->phnum = peek(l->img + 56, 2, 0);
	for (size_t i = 0; i < l->phnum; i++) {
		size_t ph = l->phoff + i * l->phentsize;

		if (peek(l->img + ph, 4, 0) == 2) {
			l->dyn_ph = ph;
			l->dyn_off = peek(l->img + ph + 8, 8, 0);
		}
	}
	assert_true(l->dyn_ph != 0);
	for (size_t d = l->dyn_off; peek(l->img + d, 8, 0) != 0; d += 16) {
		if (peek(l->img + d, 8, 0) == 14)
			l->soname_ent = d;
		if (peek(l->img + d, 8, 0) == 5)
			l->strtab_ent = d;
	}
	assert_true(l->soname_ent != 0 && l->strtab_ent != 0);
}

/* Apply one change to a fresh copy and expect the error. */
static void corrupt(const struct so_layout *l, size_t off, size_t size, uint64_t v,
		    const char *substr)
{
	unsigned char *c = malloc(l->len);

	assert_non_null(c);
	memcpy(c, l->img, l->len);
	poke(c + off, size, v, 0);
	expect_error(c, l->len, substr);
	free(c);
}

static void test_corrupted_headers(void **state)
{
	(void)state;
	struct so_layout l;

	load_layout(&l);
	if (!l.img) {
		print_message("not a 64-bit little-endian host: skipped\n");
		skip();
	}
	corrupt(&l, 32, 8, 0xffffffffffffff00ull, "truncated program header table");
	corrupt(&l, 32, 8, l.len - 10, "truncated program header table");
	corrupt(&l, 56, 2, 0xfffe, "program header table too large");
	corrupt(&l, 54, 2, 0, "program header entry size 0 too small");
	corrupt(&l, 54, 2, 0xffff, "program header table");
	corrupt(&l, l.dyn_ph + 8, 8, 0xfffffffffffffff0ull, "truncated dynamic segment");
	corrupt(&l, l.dyn_ph + 8, 8, l.len - 8, "truncated dynamic segment");
	corrupt(&l, l.dyn_ph + 32, 8, 0x7fffffffffffffffull, "dynamic segment too large");
	corrupt(&l, l.soname_ent + 8, 8, 0xffffffffffull, "DT_SONAME index");
	corrupt(&l, l.strtab_ent + 8, 8, 0xdead00000000ull, "not in any PT_LOAD segment");
	corrupt(&l, l.strtab_ent, 8, 1, "DT_SONAME without DT_STRTAB"); /* tag -> DT_NEEDED */
	free(l.img);
}

/*
 * e_phnum PN_XNUM: the count comes from section 0 (0 in a real object), so the reader ends
 * up using the section headers. Without section headers it is an error.
 */
static void test_xnum_real_object(void **state)
{
	(void)state;
	struct nvb_elf_info info;
	struct nvb_error err;
	struct so_layout l;

	load_layout(&l);
	if (!l.img)
		skip();
	poke(l.img + 56, 2, 0xffff, 0);
	if (parse_mem(l.img, l.len, "xnum.so", &info, &err) < 0)
		fail_msg("%s", err.message);
	assert_string_equal(info.soname, "libnvbelf.so.1");
	poke(l.img + 40, 8, 0, 0);
	poke(l.img + 56, 2, 0xffff, 0);
	expect_error(l.img, l.len, "PN_XNUM but there is no section header table");
	free(l.img);
}

/* ---------------------------------------------------- hand-made images */

enum craft_mode {
	CRAFT_SEGMENTS,      /* PT_LOAD + PT_DYNAMIC, and sections */
	CRAFT_SECTIONS_ONLY, /* e_phnum 0: the reader must use .dynamic/.dynstr */
	CRAFT_XNUM,          /* e_phnum PN_XNUM, the real count in section 0's sh_info */
};

struct craft {
	int is64, be;
	uint16_t machine;
	const char *soname;
	enum craft_mode mode;
};

/*
 * A minimal shared object: ELF header, 2 program headers (PT_LOAD of the whole file at
 * vaddr 0x10000, PT_DYNAMIC), dynamic array (STRTAB, STRSZ, SONAME, NULL), string table,
 * 3 section headers (null, .dynamic, .dynstr).
 */
static unsigned char *craft_elf(const struct craft *c, size_t *len)
{
	size_t eh = c->is64 ? 64 : 52, ph = c->is64 ? 56 : 32, sh = c->is64 ? 64 : 40;
	size_t w = c->is64 ? 8 : 4; /* address size */
	size_t dyn = eh + 2 * ph, dynsz = 4 * 2 * w;
	size_t str = dyn + dynsz, strsz = strlen(c->soname) + 2;
	size_t shoff = (str + strsz + 7) & ~(size_t)7;
	uint64_t base = 0x10000;
	unsigned char *p;
	int be = c->be;

	*len = shoff + 3 * sh;
	p = calloc(1, *len);
	assert_non_null(p);
	memcpy(p, "\177ELF", 4);
	p[4] = c->is64 ? 2 : 1;
	p[5] = be ? 2 : 1;
	p[6] = 1;
	poke(p + 16, 2, ET_DYN, be);
	poke(p + 18, 2, c->machine, be);
	poke(p + 20, 4, 1, be);
	poke(p + (c->is64 ? 32 : 28), w, c->mode == CRAFT_SECTIONS_ONLY ? 0 : eh, be);
	poke(p + (c->is64 ? 40 : 32), w, shoff, be);
	poke(p + (c->is64 ? 52 : 40), 2, eh, be);
	poke(p + (c->is64 ? 54 : 42), 2, ph, be);
	poke(p + (c->is64 ? 56 : 44), 2,
	     c->mode == CRAFT_SEGMENTS ? 2 : c->mode == CRAFT_XNUM ? 0xffff : 0, be);
	poke(p + (c->is64 ? 58 : 46), 2, sh, be);
	poke(p + (c->is64 ? 60 : 48), 2, 3, be);

	/* program headers */
	for (int i = 0; i < 2; i++) {
		unsigned char *h = p + eh + (size_t)i * ph;
		uint64_t off = i ? dyn : 0, size = i ? dynsz : *len;

		poke(h, 4, i ? 2 : 1, be);
		if (c->is64) {
			poke(h + 8, 8, off, be);
			poke(h + 16, 8, base + off, be);
			poke(h + 32, 8, size, be);
			poke(h + 40, 8, size, be);
		} else {
			poke(h + 4, 4, off, be);
			poke(h + 8, 4, base + off, be);
			poke(h + 16, 4, size, be);
			poke(h + 20, 4, size, be);
		}
	}
	/* dynamic array */
	poke(p + dyn, w, 5, be);
	poke(p + dyn + w, w, base + str, be);
	poke(p + dyn + 2 * w, w, 10, be);
	poke(p + dyn + 3 * w, w, strsz, be);
	poke(p + dyn + 4 * w, w, 14, be);
	poke(p + dyn + 5 * w, w, 1, be);
	/* string table: "\0soname\0" */
	memcpy(p + str + 1, c->soname, strlen(c->soname));
	/* sections: [0] null (sh_info = real phnum for PN_XNUM), [1] .dynamic, [2] .dynstr */
	for (int i = 0; i < 3; i++) {
		unsigned char *s = p + shoff + (size_t)i * sh;
		uint64_t type = i == 0 ? 0 : i == 1 ? 6 : 3;
		uint64_t off = i == 1 ? dyn : i == 2 ? str : 0;
		uint64_t size = i == 1 ? dynsz : i == 2 ? strsz : 0;

		poke(s + 4, 4, type, be);
		poke(s + (c->is64 ? 24 : 16), w, off, be);
		poke(s + (c->is64 ? 32 : 20), w, size, be);
		poke(s + (c->is64 ? 40 : 24), 4, i == 1 ? 2 : 0, be);
		poke(s + (c->is64 ? 44 : 28), 4, i == 0 && c->mode == CRAFT_XNUM ? 2 : 0, be);
	}
	return p;
}

static void check_craft(const struct craft *c)
{
	struct nvb_elf_info info;
	struct nvb_error err;
	size_t len;
	unsigned char *img = craft_elf(c, &len);

	if (parse_mem(img, len, "crafted.so", &info, &err) < 0)
		fail_msg("is64 %d be %d mode %d: %s", c->is64, c->be, c->mode, err.message);
	assert_int_equal(info.elf_class, c->is64 ? 64 : 32);
	assert_int_equal(info.little_endian, !c->be);
	assert_int_equal(info.type, ET_DYN);
	assert_int_equal(info.machine, c->machine);
	assert_string_equal(info.soname, c->soname);
	/* and every prefix of it fails cleanly or parses to the same answer */
	for (size_t n = 0; n < len; n++)
		if (parse_mem(img, n, "crafted.so", &info, &err) == 0)
			assert_string_equal(info.soname, c->soname);
		else
			assert_parse_error(-1, &err, "crafted.so", NULL);
	free(img);
}

static void test_big_endian_crafted(void **state)
{
	(void)state;
	const struct craft be64 = {1, 1, EM_PPC64, "libbig.so.7", CRAFT_SEGMENTS};
	const struct craft be32 = {0, 1, EM_MIPS, "libmips.so.2", CRAFT_SEGMENTS};
	const struct craft le32 = {0, 0, EM_386, "libsmall.so.1", CRAFT_SEGMENTS};

	check_craft(&be64);
	check_craft(&be32);
	check_craft(&le32);
	assert_string_equal(nvb_elf_machine_name(EM_PPC64), "ppc64");
	assert_string_equal(nvb_elf_machine_name(0x7777), "unknown");
}

static void test_section_fallback(void **state)
{
	(void)state;
	const struct craft cases[] = {
		{1, 0, EM_X86_64, "libsect.so.3", CRAFT_SECTIONS_ONLY},
		{0, 1, EM_MIPS, "libsect32be.so.3", CRAFT_SECTIONS_ONLY},
		{1, 1, EM_PPC64, "libxnum.so.4", CRAFT_XNUM},
		{0, 0, EM_386, "libxnum32.so.4", CRAFT_XNUM},
	};

	for (size_t i = 0; i < NVB_ARRAY_SIZE(cases); i++)
		check_craft(&cases[i]);
}

/* Crafted image with the section fallback pointing at bad places. */
static void test_section_fallback_corrupt(void **state)
{
	(void)state;
	const struct craft c = {1, 0, EM_X86_64, "libsect.so.3", CRAFT_SECTIONS_ONLY};
	size_t len, shoff;
	unsigned char *img = craft_elf(&c, &len);

	shoff = peek(img + 40, 8, 0);
	poke(img + shoff + 64 + 40, 4, 7, 0); /* .dynamic sh_link -> section 7 of 3 */
	expect_error(img, len, "invalid string table section 7");
	poke(img + shoff + 64 + 40, 4, 2, 0);
	poke(img + shoff + 128 + 4, 4, 8, 0); /* .dynstr is SHT_NOBITS */
	expect_error(img, len, "no file data");
	poke(img + shoff + 128 + 4, 4, 3, 0);
	poke(img + shoff + 64 + 24, 8, 0xffffffff00ull, 0); /* .dynamic offset */
	expect_error(img, len, "truncated dynamic section");
	poke(img + shoff + 64 + 24, 8, 64, 0);
	poke(img + 40, 8, len - 8, 0); /* e_shoff at the end */
	expect_error(img, len, "truncated section header table");
	poke(img + 40, 8, shoff, 0);
	poke(img + 58, 2, 10, 0); /* e_shentsize */
	expect_error(img, len, "section header entry size 10 too small");
	free(img);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shared_object_64),
		cmocka_unit_test(test_shared_object_32),
		cmocka_unit_test(test_no_soname),
		cmocka_unit_test(test_bin_true),
		cmocka_unit_test(test_soname_length),
		cmocka_unit_test(test_not_elf),
		cmocka_unit_test(test_bad_ident),
		cmocka_unit_test(test_truncated_in_memory),
		cmocka_unit_test(test_truncated_files),
		cmocka_unit_test(test_corrupted_headers),
		cmocka_unit_test(test_xnum_real_object),
		cmocka_unit_test(test_big_endian_crafted),
		cmocka_unit_test(test_section_fallback),
		cmocka_unit_test(test_section_fallback_corrupt),
	};

	return cmocka_run_group_tests(tests, build_objects, remove_objects);
}
