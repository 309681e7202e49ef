/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for the ld.so.cache writer.
 *
 * The reference is this machine's ldconfig: for the same libraries, the writer must produce
 * the same (name, path, flags, hwcaps) list in the same order, since glibc's loader looks
 * names up by binary search. The in-root update is run against hostile roots (links to the
 * host, FIFOs, directories, procfs) and must never touch anything outside the root. Last,
 * a chroot with a real glibc checks that the loader finds a library through a written cache.
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
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/sysmacros.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "host/ldcache_write.h"

#define X86_64 (NVB_LDCACHE_ELF_LIBC6 | NVB_LDCACHE_ARCH_X86_64)
#define I386 (NVB_LDCACHE_ELF_LIBC6 | NVB_LDCACHE_ARCH_I386)
#define LIB64 "/usr/lib/x86_64-linux-gnu"
#define LIB32 "/usr/lib/i386-linux-gnu"

/* ------------------------------------------------------------------ helpers */

static int run_quiet(const char *fmt, ...) NVB_PRINTF(1, 2);
static int run_quiet(const char *fmt, ...)
{
	char cmd[8192];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	return st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

static char *slurp(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	char *buf;

	if (fd < 0)
		fail_msg("cannot open %s: %s", path, strerror(errno));
	assert_int_equal(fstat(fd, &st), 0);
	buf = malloc((size_t)st.st_size + 1);
	assert_non_null(buf);
	assert_int_equal(read(fd, buf, (size_t)st.st_size), st.st_size);
	close(fd);
	buf[st.st_size] = '\0';
	*len = (size_t)st.st_size;
	return buf;
}

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	if (!f)
		fail_msg("cannot create %s: %s", path, strerror(errno));
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static char *make_tmpdir(void)
{
	char *d = strdup("/tmp/nvb-ldcw-XXXXXX");

	assert_non_null(d);
	assert_non_null(mkdtemp(d));
	return d;
}

static void rm_rf(char *dir)
{
	if (dir)
		run_quiet("rm -rf '%s'", dir);
	free(dir);
}

static struct nvb_ldcache *parse_or_fail(const char *data, size_t len)
{
	struct nvb_error err = {0};
	struct nvb_ldcache *c = nvb_ldcache_parse(data, len, "built", &err);

	if (!c)
		fail_msg("parse: %s", err.message);
	return c;
}

static struct nvb_ldcache *load_or_fail(const char *path)
{
	size_t len;
	char *data = slurp(path, &len);
	struct nvb_ldcache *c = parse_or_fail(data, len);

	free(data);
	return c;
}

static struct nvb_ldcache *build_or_fail(const struct nvb_ldcache *old,
					 const struct nvb_ldcache_add *add, size_t n)
{
	struct nvb_error err = {0};
	char *data = NULL;
	size_t len = 0;
	struct nvb_ldcache *c;

	if (nvb_ldcache_build(old, add, n, &data, &len, &err) < 0)
		fail_msg("build: %s", err.message);
	c = parse_or_fail(data, len);
	free(data);
	return c;
}

static void print_cache(const char *title, const struct nvb_ldcache *c)
{
	print_message("%s (%zu entries):\n", title, c->n_entries);
	for (size_t i = 0; i < c->n_entries; i++)
		print_message("  %s (%s%s%s) => %s\n", c->entries[i].name,
			      nvb_ldcache_flags_name(c->entries[i].flags),
			      c->entries[i].hwcaps ? ", hwcaps " : "",
			      c->entries[i].hwcaps ? c->entries[i].hwcaps : "", c->entries[i].path);
}

/* Same entries in the same order: name, path, flags, hwcaps subdirectory and hwcap value. */
static void assert_same_caches(const struct nvb_ldcache *want, const struct nvb_ldcache *got)
{
	int same = want->n_entries == got->n_entries;

	for (size_t i = 0; same && i < want->n_entries; i++) {
		const struct nvb_ldcache_entry *a = &want->entries[i], *b = &got->entries[i];

		same = strcmp(a->name, b->name) == 0 && strcmp(a->path, b->path) == 0 &&
		       a->flags == b->flags && a->hwcap == b->hwcap &&
		       !a->hwcaps == !b->hwcaps && (!a->hwcaps || strcmp(a->hwcaps, b->hwcaps) == 0);
	}
	if (!same) {
		print_cache("ldconfig", want);
		print_cache("nvbind", got);
		fail_msg("the caches differ");
	}
}

static const struct nvb_ldcache_entry *find(const struct nvb_ldcache *c, const char *name,
					    uint32_t flags)
{
	for (size_t i = 0; i < c->n_entries; i++)
		if (strcmp(c->entries[i].name, name) == 0 && c->entries[i].flags == flags &&
		    !c->entries[i].hwcaps)
			return &c->entries[i];
	return NULL;
}

static void assert_has(const struct nvb_ldcache *c, const struct nvb_ldcache_add *add, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct nvb_ldcache_entry *e = find(c, add[i].name, add[i].flags);

		if (!e)
			fail_msg("%s missing from the cache", add[i].name);
		assert_string_equal(e->path, add[i].path);
	}
}

/* ------------------------------------------------------------------ real shared objects */

/* A shared object to compile into a test root: soname, file name, directory, 32-bit. */
struct solib {
	const char *soname, *file, *dir;
	int m32;
};

static int have_tools(void)
{
	return geteuid() == 0 && access("/sbin/ldconfig", X_OK) == 0 &&
	       run_quiet("command -v cc >/dev/null 2>&1") == 0;
}

static int m32_works(void)
{
	static int known = -1;

	if (known < 0) {
		char *tmp = make_tmpdir();

		known = run_quiet("echo 'int f(void){return 0;}' > %s/m32.c && cc -m32 -shared "
				  "-fPIC -o %s/m32.so %s/m32.c 2>/dev/null",
				  tmp, tmp, tmp) == 0;
		if (!known)
			print_message("cc -m32 does not work here: no 32-bit libraries\n");
		rm_rf(tmp);
	}
	return known;
}

/* Compile each library into root (its soname link beside it). 32-bit ones are skipped when
 * cc -m32 does not work; returns how many were. */
static size_t build_solibs(const char *root, const struct solib *libs, size_t n)
{
	size_t skipped = 0;

	/* getpid() makes it need libc.so.6, which ldconfig requires to say "libc6" */
	assert_int_equal(run_quiet("mkdir -p %s/etc && printf '#include <unistd.h>\\nint "
				   "nvb_fn(void) { return (int)getpid(); }\\n' > %s/../src.c",
				   root, root),
			 0);
	for (size_t i = 0; i < n; i++) {
		const struct solib *s = &libs[i];

		if (s->m32 && !m32_works()) {
			skipped++;
			continue;
		}
		assert_int_equal(run_quiet("mkdir -p %s%s && cc %s -shared -fPIC -Wl,-soname,%s "
					   "-o %s%s/%s %s/../src.c",
					   root, s->dir, s->m32 ? "-m32" : "", s->soname, root,
					   s->dir, s->file, root),
				 0);
		if (strcmp(s->file, s->soname) != 0)
			assert_int_equal(run_quiet("ln -sf %s %s%s/%s", s->file, root, s->dir,
						   s->soname),
					 0);
	}
	return skipped;
}

/* Run ldconfig on root with these directories in its ld.so.conf; parse its cache. */
static struct nvb_ldcache *ldconfig_cache(const char *root, const char *const *dirs, size_t n)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/etc/ld.so.conf", root);
	f = fopen(path, "w");
	assert_non_null(f);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s\n", dirs[i]);
	fclose(f);
	if (run_quiet("/sbin/ldconfig -X -r %s 2>/dev/null", root) != 0)
		fail_msg("ldconfig -r %s failed", root);
	snprintf(path, sizeof(path), "%s/etc/ld.so.cache", root);
	return load_or_fail(path);
}

static void adds_of(const struct solib *libs, size_t n, struct nvb_ldcache_add *add, char **paths,
		    size_t *n_add)
{
	*n_add = 0;
	for (size_t i = 0; i < n; i++) {
		const struct solib *s = &libs[i];

		if (s->m32 && !m32_works())
			continue;
		assert_true(asprintf(&paths[*n_add], "%s/%s", s->dir, s->soname) > 0);
		add[*n_add] = (struct nvb_ldcache_add){
			.name = s->soname, .path = paths[*n_add], .flags = s->m32 ? I386 : X86_64};
		(*n_add)++;
	}
}

/* Names chosen for the order: digit runs of different lengths, case, digits after "lib". */
static const struct solib image_libs[] = {
	{"libz.so.1", "libz.so.1.2.13", LIB64, 0},
	{"libfoo.so.1", "libfoo.so.1.2.3", LIB64, 0},
	{"libfoo.so.2", "libfoo.so.2.0", LIB64, 0},
	{"libfoo.so.10", "libfoo.so.10.0", LIB64, 0},
	{"libGL.so.1", "libGL.so.1.7.0", LIB64, 0},
	{"libx264.so.164", "libx264.so.164", LIB64, 0},
	{"libx26.so.9", "libx26.so.9", LIB64, 0},
	{"lib2d.so.1", "lib2d.so.1", LIB64, 0},
	{"libA.so.1", "libA.so.1.0", LIB64, 0},
	{"liba.so.1", "liba.so.1.0", LIB64, 0},
	{"libaa.so.1", "libaa.so.1.0", LIB64, 0},
	{"libstdc++.so.6", "libstdc++.so.6.0.30", LIB64, 0},
	{"libGL.so.1", "libGL.so.1.7.0", LIB32, 1},
	{"libz.so.1", "libz.so.1.2.13", LIB32, 1},
};

static const struct solib driver_libs[] = {
	{"libcuda.so.1", "libcuda.so.550.54.15", "/usr/local/nvidia/lib64", 0},
	{"libnvidia-ml.so.1", "libnvidia-ml.so.550.54.15", "/usr/local/nvidia/lib64", 0},
	{"libnvidia-ptxjitcompiler.so.1", "libnvidia-ptxjitcompiler.so.550.54.15",
	 "/usr/local/nvidia/lib64", 0},
	{"libEGL_nvidia.so.0", "libEGL_nvidia.so.550.54.15", "/usr/local/nvidia/lib64", 0},
	{"libGLX_nvidia.so.0", "libGLX_nvidia.so.550.54.15", "/usr/local/nvidia/lib64", 0},
	{"libnvidia-glcore.so.550.54.15", "libnvidia-glcore.so.550.54.15",
	 "/usr/local/nvidia/lib64", 0},
	{"libnvoptix.so.1", "libnvoptix.so.550.54.15", "/usr/local/nvidia/lib64", 0},
	{"libcuda.so.1", "libcuda.so.550.54.15", "/usr/local/nvidia/lib", 1},
	{"libnvidia-ml.so.1", "libnvidia-ml.so.550.54.15", "/usr/local/nvidia/lib", 1},
};

/* ------------------------------------------------------------------ 1. same as ldconfig */

static void test_libcmp(void **state)
{
	(void)state;
	assert_true(nvb_ldcache_libcmp("libfoo.so.10", "libfoo.so.2") > 0);
	assert_true(nvb_ldcache_libcmp("libfoo.so.2", "libfoo.so.10") < 0);
	assert_int_equal(nvb_ldcache_libcmp("libfoo.so.01", "libfoo.so.1"), 0);
	assert_true(nvb_ldcache_libcmp("lib2d.so", "libA.so") > 0); /* a digit beats a letter */
	assert_true(nvb_ldcache_libcmp("libA.so", "lib2d.so") < 0);
	assert_true(nvb_ldcache_libcmp("liba.so", "libaa.so") < 0);
	assert_true(nvb_ldcache_libcmp("libz.so", "libz.so.1") < 0);
	/* digit runs past INT_MAX: a consistent order, no overflow (UBSan checks it) */
	assert_true(nvb_ldcache_libcmp("lib99999999999999999999.so", "lib99999999999999999998.so") >
		    0);
	assert_true(nvb_ldcache_libcmp("lib100000000000000000000.so", "lib99999999999999999999.so") >
		    0);
	assert_int_equal(nvb_ldcache_libcmp("lib0000000000000000000000001.so", "lib1.so"), 0);
}

static void test_flags_helpers(void **state)
{
	uint32_t f = 0;

	(void)state;
	assert_int_equal(nvb_ldcache_arch_flags("x86-64", &f), 0);
	assert_int_equal(f, 0x0303);
	assert_int_equal(nvb_ldcache_arch_flags("X86_64", &f), 0);
	assert_int_equal(f, 0x0303);
	assert_int_equal(nvb_ldcache_arch_flags("i386", &f), 0);
	assert_int_equal(f, 0x0003);
	assert_int_equal(nvb_ldcache_arch_flags("aarch64", &f), 0);
	assert_int_equal(f, 0x0a03);
	assert_int_equal(nvb_ldcache_arch_flags("64bit", &f), 0);
	assert_int_equal(f, 0x0503);
	assert_int_equal(nvb_ldcache_arch_flags("sparc", &f), -1);
	assert_int_equal(nvb_ldcache_elf_flags(2 /* ELFCLASS64 */, 62 /* EM_X86_64 */, &f), 0);
	assert_int_equal(f, 0x0303);
	assert_int_equal(nvb_ldcache_elf_flags(1 /* ELFCLASS32 */, 3 /* EM_386 */, &f), 0);
	assert_int_equal(f, 0x0003);
	assert_int_equal(nvb_ldcache_elf_flags(2, 183 /* EM_AARCH64 */, &f), 0);
	assert_int_equal(f, 0x0a03);
	assert_int_equal(nvb_ldcache_elf_flags(2, 21 /* EM_PPC64 */, &f), 0);
	assert_int_equal(f, 0x0503);
	assert_int_equal(nvb_ldcache_elf_flags(1, 183, &f), -1);
}

/* A fresh cache of the image and driver libraries, adds given in reverse order, is ldconfig's. */
static void test_fresh_matches_ldconfig(void **state)
{
	char *tmp, root[256], *paths[64] = {0};
	const char *dirs[] = {LIB64, LIB32, "/usr/local/nvidia/lib64", "/usr/local/nvidia/lib"};
	struct nvb_ldcache_add add[64], rev[64];
	struct nvb_ldcache *want, *got;
	size_t n = 0, n_img = 0;

	(void)state;
	if (!have_tools()) {
		print_message("needs root, /sbin/ldconfig and cc: skipped\n");
		skip();
	}
	tmp = make_tmpdir();
	snprintf(root, sizeof(root), "%s/root", tmp);
	build_solibs(root, image_libs, NVB_ARRAY_SIZE(image_libs));
	build_solibs(root, driver_libs, NVB_ARRAY_SIZE(driver_libs));
	want = ldconfig_cache(root, dirs, NVB_ARRAY_SIZE(dirs));

	adds_of(image_libs, NVB_ARRAY_SIZE(image_libs), add, paths, &n_img);
	adds_of(driver_libs, NVB_ARRAY_SIZE(driver_libs), add + n_img, paths + n_img, &n);
	n += n_img;
	for (size_t i = 0; i < n; i++)
		rev[i] = add[n - 1 - i];
	got = build_or_fail(NULL, rev, n);
	assert_int_equal(got->format, 2);
	assert_same_caches(want, got);

	nvb_ldcache_free(want);
	nvb_ldcache_free(got);
	for (size_t i = 0; i < n; i++)
		free(paths[i]);
	rm_rf(tmp);
}

/* The image's ldconfig cache plus the driver libraries added by the writer is ldconfig's cache
 * of all the folders. */
static void test_added_matches_ldconfig(void **state)
{
	char *tmp, root[256], *paths[64] = {0};
	const char *dirs[] = {LIB64, LIB32, "/usr/local/nvidia/lib64", "/usr/local/nvidia/lib"};
	struct nvb_ldcache_add add[64];
	struct nvb_ldcache *image, *want, *got;
	size_t n = 0;

	(void)state;
	if (!have_tools()) {
		print_message("needs root, /sbin/ldconfig and cc: skipped\n");
		skip();
	}
	tmp = make_tmpdir();
	snprintf(root, sizeof(root), "%s/root", tmp);
	build_solibs(root, image_libs, NVB_ARRAY_SIZE(image_libs));
	image = ldconfig_cache(root, dirs, 2);
	build_solibs(root, driver_libs, NVB_ARRAY_SIZE(driver_libs));
	want = ldconfig_cache(root, dirs, NVB_ARRAY_SIZE(dirs));

	adds_of(driver_libs, NVB_ARRAY_SIZE(driver_libs), add, paths, &n);
	got = build_or_fail(image, add, n);
	assert_same_caches(want, got);

	nvb_ldcache_free(image);
	nvb_ldcache_free(want);
	nvb_ldcache_free(got);
	for (size_t i = 0; i < n; i++)
		free(paths[i]);
	rm_rf(tmp);
}

/* ------------------------------------------------------------------ 2. precedence */

static void test_add_replaces_same_arch_only(void **state)
{
	const struct nvb_ldcache_add image[] = {
		{"libcuda.so.1", LIB64 "/libcuda.so.1", X86_64},
		{"libcuda.so.1", LIB32 "/libcuda.so.1", I386},
		{"libz.so.1", LIB64 "/libz.so.1", X86_64},
	};
	const struct nvb_ldcache_add driver = {"libcuda.so.1", "/usr/local/nvidia/lib64/libcuda.so.1",
					       X86_64};
	struct nvb_ldcache *old, *got;
	size_t n64 = 0;

	(void)state;
	old = build_or_fail(NULL, image, NVB_ARRAY_SIZE(image));
	got = build_or_fail(old, &driver, 1);
	assert_int_equal(got->n_entries, 3);
	for (size_t i = 0; i < got->n_entries; i++)
		n64 += strcmp(got->entries[i].name, "libcuda.so.1") == 0 &&
		       got->entries[i].flags == X86_64;
	assert_int_equal(n64, 1);
	assert_string_equal(find(got, "libcuda.so.1", X86_64)->path, driver.path);
	assert_string_equal(find(got, "libcuda.so.1", I386)->path, LIB32 "/libcuda.so.1");
	assert_string_equal(find(got, "libz.so.1", X86_64)->path, LIB64 "/libz.so.1");
	/* x86-64 (0x303) sorts before i386 (0x003) for the same name, as ldconfig has it */
	assert_int_equal(got->entries[0].flags, X86_64);
	nvb_ldcache_free(old);
	nvb_ldcache_free(got);
}

static void test_bad_adds(void **state)
{
	const struct nvb_ldcache_add bad[] = {
		{"", "/x/libx.so.1", X86_64},
		{"dir/libx.so.1", "/x/libx.so.1", X86_64},
		{"libx.so.1", "x/libx.so.1", X86_64},
		{"libx.so.1", "", X86_64},
		{NULL, "/x", X86_64},
	};

	(void)state;
	for (size_t i = 0; i < NVB_ARRAY_SIZE(bad); i++) {
		struct nvb_error err = {0};
		char *data = NULL;
		size_t len = 0;

		assert_int_equal(nvb_ldcache_build(NULL, &bad[i], 1, &data, &len, &err), -1);
		assert_int_equal(err.code, NVB_ERR_USAGE);
		assert_non_null(strstr(err.message, "ld.so.cache addition"));
		assert_null(data);
		memset(&err, 0, sizeof(err));
		assert_int_equal(nvb_ldcache_update_in_root(AT_FDCWD, &bad[i], 1, &err), -1);
		assert_int_equal(err.code, NVB_ERR_USAGE);
	}
}

/* "libx.so.01" and "libx.so.1" are equal to libcmp: adding libx.so.1 replaces only the
 * entry with exactly that name; duplicate adds are both kept, in the caller's order. */
static void test_add_replaces_exact_name(void **state)
{
	const struct nvb_ldcache_add image[] = {
		{"libx.so.01", "/a/libx.so.01", X86_64},
		{"libx.so.1", "/a/libx.so.1", X86_64},
		{"libx.so.001", "/a/libx.so.001", X86_64},
	};
	const struct nvb_ldcache_add add[] = {
		{"libx.so.1", "/b/libx.so.1", X86_64},
		{"libx.so.1", "/c/libx.so.1", X86_64},
	};
	struct nvb_ldcache *old, *got;
	size_t n_b = 0, n_c = 0, n_a = 0;

	(void)state;
	old = build_or_fail(NULL, image, NVB_ARRAY_SIZE(image));
	got = build_or_fail(old, add, NVB_ARRAY_SIZE(add));
	assert_int_equal(got->n_entries, 4);
	for (size_t i = 0; i < got->n_entries; i++) {
		const char *p = got->entries[i].path;

		n_a += strncmp(p, "/a/", 3) == 0;
		n_b += strcmp(p, "/b/libx.so.1") == 0 && n_c == 0; /* /b before /c */
		n_c += strcmp(p, "/c/libx.so.1") == 0;
		assert_true(strcmp(p, "/a/libx.so.1") != 0);
	}
	assert_int_equal(n_a, 2);
	assert_int_equal(n_b, 1);
	assert_int_equal(n_c, 1);
	nvb_ldcache_free(old);
	nvb_ldcache_free(got);
}

/* An image cache out of order (not written by ldconfig) comes out in ldconfig's order. */
static void test_unsorted_old_sorted(void **state)
{
	struct nvb_ldcache_add image[40], add = {"libm.so.6", "/lib/libm.so.6", X86_64};
	char names[40][24], paths[40][40], entry[24];
	struct nvb_error err = {0};
	struct nvb_ldcache *old, *got;
	char *data;
	size_t len;

	(void)state;
	for (int i = 0; i < 40; i++) {
		snprintf(names[i], sizeof(names[i]), "lib%c%d.so.%d", 'a' + i % 7, i, i % 3);
		snprintf(paths[i], sizeof(paths[i]), "/lib/%s", names[i]);
		image[i] = (struct nvb_ldcache_add){names[i], paths[i], i % 4 ? X86_64 : I386};
	}
	assert_int_equal(nvb_ldcache_build(NULL, image, 40, &data, &len, &err), 0);
	for (int i = 0; i < 20; i++) { /* reverse the entry array */
		memcpy(entry, data + 48 + 24 * i, 24);
		memcpy(data + 48 + 24 * i, data + 48 + 24 * (39 - i), 24);
		memcpy(data + 48 + 24 * (39 - i), entry, 24);
	}
	old = parse_or_fail(data, len);
	assert_true(nvb_ldcache_libcmp(old->entries[0].name, old->entries[39].name) < 0);
	got = build_or_fail(old, &add, 1);
	assert_int_equal(got->n_entries, 41);
	for (size_t i = 1; i < got->n_entries; i++) {
		int c = nvb_ldcache_libcmp(got->entries[i - 1].name, got->entries[i].name);

		assert_true(c > 0 || (c == 0 && got->entries[i - 1].flags > got->entries[i].flags));
	}
	nvb_ldcache_free(old);
	nvb_ldcache_free(got);
	free(data);
}

/* An empty cache (no old, no adds) is valid and empty. */
static void test_empty(void **state)
{
	struct nvb_ldcache *c;

	(void)state;
	c = build_or_fail(NULL, NULL, 0);
	assert_int_equal(c->n_entries, 0);
	nvb_ldcache_free(c);
}

/* ------------------------------------------------------------------ 3. glibc-hwcaps */

static const struct solib hwcaps_libs[] = {
	{"libz.so.1", "libz.so.1.2.13", LIB64, 0},
	{"libz.so.1", "libz.so.1.2.13", LIB64 "/glibc-hwcaps/x86-64-v3", 0},
	{"libz.so.1", "libz.so.1.2.13", LIB64 "/glibc-hwcaps/x86-64-v2", 0},
	{"libfoo.so.1", "libfoo.so.1.0", LIB64, 0},
	{"libfoo.so.1", "libfoo.so.1.0", LIB64 "/glibc-hwcaps/x86-64-v4", 0},
	{"libbar.so.1", "libbar.so.1.0", LIB64, 0},
};

static void test_hwcaps_kept(void **state)
{
	char *tmp, root[256], *paths[16] = {0};
	const char *dirs[] = {LIB64, "/usr/local/nvidia/lib64", "/usr/local/nvidia/lib"};
	struct nvb_ldcache_add add[16];
	struct nvb_ldcache *image, *want, *got;
	const struct nvb_ldcache_add libz = {"libz.so.1", "/usr/local/nvidia/lib64/libz.so.1", X86_64};
	size_t n = 0, n_hw = 0;

	(void)state;
	if (!have_tools()) {
		print_message("needs root, /sbin/ldconfig and cc: skipped\n");
		skip();
	}
	tmp = make_tmpdir();
	snprintf(root, sizeof(root), "%s/root", tmp);
	build_solibs(root, hwcaps_libs, NVB_ARRAY_SIZE(hwcaps_libs));
	image = ldconfig_cache(root, dirs, 1);
	for (size_t i = 0; i < image->n_entries; i++)
		n_hw += image->entries[i].hwcaps != NULL;
	if (n_hw != 3) {
		print_cache("ldconfig", image);
		fail_msg("this ldconfig made %zu glibc-hwcaps entries, not 3", n_hw);
	}
	build_solibs(root, driver_libs, NVB_ARRAY_SIZE(driver_libs));
	want = ldconfig_cache(root, dirs, NVB_ARRAY_SIZE(dirs));
	adds_of(driver_libs, NVB_ARRAY_SIZE(driver_libs), add, paths, &n);
	got = build_or_fail(image, add, n);
	/* hwcaps names, indices and order as ldconfig writes them */
	assert_same_caches(want, got);

	/* Adding libz.so.1 replaces it in the glibc-hwcaps subdirectories too, and the now unused
	 * names leave the section: libfoo's x86-64-v4 becomes index 0. */
	nvb_ldcache_free(got);
	got = build_or_fail(image, &libz, 1);
	n_hw = 0;
	for (size_t i = 0; i < got->n_entries; i++) {
		const struct nvb_ldcache_entry *e = &got->entries[i];

		if (strcmp(e->name, "libz.so.1") == 0) {
			assert_null(e->hwcaps);
			assert_string_equal(e->path, libz.path);
		}
		if (e->hwcaps) {
			n_hw++;
			assert_string_equal(e->name, "libfoo.so.1");
			assert_string_equal(e->hwcaps, "x86-64-v4");
			assert_int_equal(e->hwcap, NVB_LDCACHE_HWCAP_EXTENSION | 0);
			assert_string_equal(e->path, LIB64 "/glibc-hwcaps/x86-64-v4/libfoo.so.1.0");
		}
	}
	assert_int_equal(n_hw, 1);
	assert_int_equal(got->n_entries, 4);

	nvb_ldcache_free(image);
	nvb_ldcache_free(want);
	nvb_ldcache_free(got);
	for (size_t i = 0; i < n; i++)
		free(paths[i]);
	rm_rf(tmp);
}

/* An extension entry whose index the file does not resolve is dropped (glibc skips it). */
static void test_hwcaps_unresolved_dropped(void **state)
{
	const struct nvb_ldcache_add add[] = {{"libz.so.1", "/lib/libz.so.1", X86_64},
					      {"liby.so.1", "/lib/liby.so.1", X86_64}};
	struct nvb_error err = {0};
	struct nvb_ldcache *c, *got;
	char *data = NULL;
	size_t len = 0;
	uint64_t hw = NVB_LDCACHE_HWCAP_EXTENSION | 7;

	(void)state;
	assert_int_equal(nvb_ldcache_build(NULL, add, 2, &data, &len, &err), 0);
	/* make the first entry (libz: names sort descending) claim hwcaps index 7, which the
	 * file's section does not have */
	memcpy(data + 48 + 16, &hw, sizeof(hw));
	c = parse_or_fail(data, len);
	assert_int_equal(c->n_entries, 2);
	assert_string_equal(c->entries[0].name, "libz.so.1");
	assert_int_equal(c->entries[0].hwcap, hw);
	assert_null(c->entries[0].hwcaps);
	got = build_or_fail(c, NULL, 0);
	assert_int_equal(got->n_entries, 1);
	assert_string_equal(got->entries[0].name, "liby.so.1");
	nvb_ldcache_free(c);
	nvb_ldcache_free(got);
	free(data);
}

/* ------------------------------------------------------------------ 4. hostile roots */

/* A test root, a host directory outside it with a sentinel cache, and the root's fd. */
struct fixture {
	char *tmp;
	char root[256];
	char host[256];      /* outside the root */
	char sentinel[300];  /* host/ld.so.cache */
	char *sentinel_data; /* its content */
	size_t sentinel_len;
	int rootfd;
};

static const struct nvb_ldcache_add drv[] = {
	{"libcuda.so.1", "/usr/local/nvidia/lib64/libcuda.so.1", X86_64},
	{"libnvidia-ml.so.1", "/usr/local/nvidia/lib64/libnvidia-ml.so.1", X86_64},
};

static void fixture_init(struct fixture *f)
{
	const struct nvb_ldcache_add host_lib = {"libhost.so.1", "/host/libhost.so.1", X86_64};
	struct nvb_error err = {0};

	memset(f, 0, sizeof(*f));
	f->tmp = make_tmpdir();
	snprintf(f->root, sizeof(f->root), "%s/root", f->tmp);
	snprintf(f->host, sizeof(f->host), "%s/host", f->tmp);
	snprintf(f->sentinel, sizeof(f->sentinel), "%s/ld.so.cache", f->host);
	assert_int_equal(mkdir(f->root, 0755), 0);
	assert_int_equal(mkdir(f->host, 0755), 0);
	assert_int_equal(nvb_ldcache_build(NULL, &host_lib, 1, &f->sentinel_data, &f->sentinel_len,
					   &err),
			 0);
	write_file(f->sentinel, f->sentinel_data, f->sentinel_len);
	f->rootfd = open(f->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(f->rootfd >= 0);
}

/* Nothing outside the root changed: the host directory holds its sentinel only, intact. */
static void assert_host_untouched(const struct fixture *f)
{
	size_t len;
	char *data = slurp(f->sentinel, &len);

	assert_int_equal(len, f->sentinel_len);
	assert_memory_equal(data, f->sentinel_data, len);
	free(data);
	assert_int_equal(run_quiet("test \"$(ls -A %s)\" = ld.so.cache", f->host), 0);
}

static void fixture_done(struct fixture *f)
{
	assert_host_untouched(f);
	close(f->rootfd);
	free(f->sentinel_data);
	rm_rf(f->tmp);
}

/* Update, then check the root's file at rel (a path inside the root) holds the adds. */
static struct nvb_ldcache *update_ok(struct fixture *f, const char *rel)
{
	struct nvb_error err = {0};
	char path[512];
	struct stat st;
	struct nvb_ldcache *c;

	if (nvb_ldcache_update_in_root(f->rootfd, drv, NVB_ARRAY_SIZE(drv), &err) < 0)
		fail_msg("update: %s", err.message);
	snprintf(path, sizeof(path), "%s%s", f->root, rel);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0644);
	c = load_or_fail(path);
	assert_has(c, drv, NVB_ARRAY_SIZE(drv));
	/* no temporary file left beside it */
	assert_int_equal(run_quiet("! ls -A \"$(dirname %s)\" | grep -q nvbind", path), 0);
	return c;
}

static void update_fails(struct fixture *f, enum nvb_errc code, const char *msg_part)
{
	struct nvb_error err = {0};

	assert_int_equal(nvb_ldcache_update_in_root(f->rootfd, drv, NVB_ARRAY_SIZE(drv), &err), -1);
	if (err.code != code || !strstr(err.message, msg_part))
		fail_msg("expected %s with \"%s\", got %s: %s", nvb_errc_name(code), msg_part,
			 nvb_errc_name(err.code), err.message);
	assert_int_equal(run_quiet("! ls -A %s/etc 2>/dev/null | grep -q nvbind", f->root), 0);
}

static void symlink_in(const struct fixture *f, const char *target, const char *rel)
{
	char path[512];

	snprintf(path, sizeof(path), "%s%s", f->root, rel);
	if (symlink(target, path) != 0)
		fail_msg("symlink %s: %s", path, strerror(errno));
}

static void mkdir_in(const struct fixture *f, const char *rel)
{
	assert_int_equal(run_quiet("mkdir -p %s%s", f->root, rel), 0);
}

/* No /etc at all: created (0755), cache with the adds only. */
static void test_root_no_etc(void **state)
{
	struct fixture f;
	struct nvb_ldcache *c;
	struct stat st;
	char etc[300];

	(void)state;
	fixture_init(&f);
	c = update_ok(&f, "/etc/ld.so.cache");
	assert_int_equal(c->n_entries, NVB_ARRAY_SIZE(drv));
	snprintf(etc, sizeof(etc), "%s/etc", f.root);
	assert_int_equal(stat(etc, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0755);
	nvb_ldcache_free(c);
	/* a second update keeps them (same name and flags: replaced, not doubled) */
	c = update_ok(&f, "/etc/ld.so.cache");
	assert_int_equal(c->n_entries, NVB_ARRAY_SIZE(drv));
	nvb_ldcache_free(c);
	fixture_done(&f);
}

/* The image's entries are kept. */
static void test_root_keeps_image(void **state)
{
	const struct nvb_ldcache_add img = {"libimage.so.1", "/usr/lib/libimage.so.1", X86_64};
	struct nvb_error err = {0};
	struct fixture f;
	struct nvb_ldcache *c;
	char *data, path[300];
	size_t len;

	(void)state;
	fixture_init(&f);
	mkdir_in(&f, "/etc");
	assert_int_equal(nvb_ldcache_build(NULL, &img, 1, &data, &len, &err), 0);
	snprintf(path, sizeof(path), "%s/etc/ld.so.cache", f.root);
	write_file(path, data, len);
	free(data);
	c = update_ok(&f, "/etc/ld.so.cache");
	assert_int_equal(c->n_entries, 3);
	assert_has(c, &img, 1);
	nvb_ldcache_free(c);
	fixture_done(&f);
}

/* /etc -> an absolute host directory: resolved inside the root, the host one is untouched. */
static void test_root_etc_link_absolute(void **state)
{
	struct fixture f;
	struct nvb_ldcache *c;
	char rel[320];

	(void)state;
	fixture_init(&f);
	symlink_in(&f, f.host, "/etc");
	snprintf(rel, sizeof(rel), "%s/ld.so.cache", f.host);
	c = update_ok(&f, rel); /* at the link's target inside the root */
	assert_int_equal(c->n_entries, NVB_ARRAY_SIZE(drv));
	nvb_ldcache_free(c);
	fixture_done(&f);
}

/* /etc -> ../../../../<name>: ".." stops at the root. */
static void test_root_etc_link_dotdot(void **state)
{
	struct fixture f;
	struct nvb_ldcache *c;
	char target[128], rel[160], outside[160];

	(void)state;
	fixture_init(&f);
	snprintf(target, sizeof(target), "../../../../../../nvb-ldcw-%d/x", (int)getpid());
	snprintf(rel, sizeof(rel), "/nvb-ldcw-%d/x/ld.so.cache", (int)getpid());
	snprintf(outside, sizeof(outside), "/nvb-ldcw-%d", (int)getpid());
	symlink_in(&f, target, "/etc");
	c = update_ok(&f, rel);
	assert_int_equal(access(outside, F_OK), -1);
	nvb_ldcache_free(c);
	fixture_done(&f);
}

/* /etc/ld.so.cache -> the host's file: never read nor written; the image's file at that path
 * inside the root is read; the link becomes a regular file. Both resolver paths. */
static void link_to_host_file(bool openat2)
{
	const struct nvb_ldcache_add img = {"libimage.so.1", "/usr/lib/libimage.so.1", X86_64};
	struct nvb_error err = {0};
	struct fixture f;
	struct nvb_ldcache *c;
	char *data, path[600];
	size_t len;

	nvb_resolve_use_openat2(openat2);
	fixture_init(&f);
	mkdir_in(&f, "/etc");
	symlink_in(&f, f.sentinel, "/etc/ld.so.cache");
	/* no such file inside the root: a dangling link reads as no cache */
	c = update_ok(&f, "/etc/ld.so.cache");
	assert_int_equal(c->n_entries, NVB_ARRAY_SIZE(drv));
	nvb_ldcache_free(c);
	assert_host_untouched(&f);

	/* the same link with the image's cache at its target inside the root */
	snprintf(path, sizeof(path), "%s/etc/ld.so.cache", f.root);
	assert_int_equal(unlink(path), 0);
	symlink_in(&f, f.sentinel, "/etc/ld.so.cache");
	mkdir_in(&f, f.host);
	assert_int_equal(nvb_ldcache_build(NULL, &img, 1, &data, &len, &err), 0);
	snprintf(path, sizeof(path), "%s%s", f.root, f.sentinel);
	write_file(path, data, len);
	c = update_ok(&f, "/etc/ld.so.cache");
	assert_has(c, &img, 1);
	assert_null(find(c, "libhost.so.1", X86_64));
	assert_int_equal(c->n_entries, 3);
	nvb_ldcache_free(c);
	/* the link's target inside the root is only read */
	{
		size_t l2;
		char *d2 = slurp(path, &l2);

		assert_int_equal(l2, len);
		assert_memory_equal(d2, data, len);
		free(d2);
	}
	free(data);
	fixture_done(&f);
	nvb_resolve_use_openat2(true);
}

static void test_root_cache_link_to_host(void **state)
{
	(void)state;
	link_to_host_file(true);
	link_to_host_file(false);
}

static void test_root_cache_directory(void **state)
{
	struct fixture f;

	(void)state;
	fixture_init(&f);
	mkdir_in(&f, "/etc/ld.so.cache");
	update_fails(&f, NVB_ERR_INVALID, "/etc/ld.so.cache is a directory");
	fixture_done(&f);
}

static void on_alarm(int sig)
{
	(void)sig;
	fail_msg("the update blocked");
}

static void test_root_cache_fifo(void **state)
{
	struct fixture f;
	char path[300];
	struct timespec t0, t1;

	(void)state;
	fixture_init(&f);
	mkdir_in(&f, "/etc");
	snprintf(path, sizeof(path), "%s/etc/ld.so.cache", f.root);
	assert_int_equal(mkfifo(path, 0644), 0);
	signal(SIGALRM, on_alarm);
	alarm(10);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	update_fails(&f, NVB_ERR_INVALID, "/etc/ld.so.cache is a FIFO");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	alarm(0);
	assert_true(t1.tv_sec - t0.tv_sec < 2);
	fixture_done(&f);
}

static void test_root_cache_device(void **state)
{
	struct fixture f;
	char path[300];

	(void)state;
	if (geteuid() != 0) {
		print_message("needs root for mknod: skipped\n");
		skip();
	}
	fixture_init(&f);
	mkdir_in(&f, "/etc");
	snprintf(path, sizeof(path), "%s/etc/ld.so.cache", f.root);
	assert_int_equal(mknod(path, S_IFCHR | 0644, makedev(1, 3)), 0); /* /dev/null */
	update_fails(&f, NVB_ERR_INVALID, "is a character device");
	fixture_done(&f);
}

static void test_root_cache_oversized(void **state)
{
	struct fixture f;
	char path[300];
	int fd;

	(void)state;
	fixture_init(&f);
	mkdir_in(&f, "/etc");
	snprintf(path, sizeof(path), "%s/etc/ld.so.cache", f.root);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)NVB_LDCACHE_FILE_MAX + 1), 0); /* sparse */
	close(fd);
	update_fails(&f, NVB_ERR_INVALID, "more than the");
	fixture_done(&f);
}

/* Garbage and a truncated cache: a warning, then a cache of the adds only. */
static void test_root_cache_malformed(void **state)
{
	const struct nvb_ldcache_add img = {"libimage.so.1", "/usr/lib/libimage.so.1", X86_64};
	struct nvb_error err = {0};
	struct fixture f;
	struct nvb_ldcache *c;
	char path[300], *data;
	size_t len;

	(void)state;
	fixture_init(&f);
	mkdir_in(&f, "/etc");
	snprintf(path, sizeof(path), "%s/etc/ld.so.cache", f.root);
	write_file(path, "this is not a cache at all\n", 27);
	c = update_ok(&f, "/etc/ld.so.cache");
	assert_int_equal(c->n_entries, NVB_ARRAY_SIZE(drv));
	nvb_ldcache_free(c);

	assert_int_equal(nvb_ldcache_build(NULL, &img, 1, &data, &len, &err), 0);
	write_file(path, data, 60); /* header and half an entry */
	free(data);
	c = update_ok(&f, "/etc/ld.so.cache");
	assert_int_equal(c->n_entries, NVB_ARRAY_SIZE(drv));
	nvb_ldcache_free(c);
	fixture_done(&f);
}

/*
 * /etc -> /proc/self/root/<host dir> and /etc -> /proc/self with a real procfs at ROOT/proc,
 * in a private mount namespace (a child process): nothing outside the root may change.
 */
static int procfs_child(struct fixture *f)
{
	char proc[300], link[600];
	struct nvb_error err = {0};
	int r;

	snprintf(proc, sizeof(proc), "%s/proc", f->root);
	if (unshare(CLONE_NEWNS) != 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
		return 77;
	if (mkdir(proc, 0555) != 0 || mount("proc", proc, "proc", 0, NULL) != 0)
		return 77;
	/* a descriptor opened before unshare() sees the old namespace's mounts */
	close(f->rootfd);
	f->rootfd = open(f->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (f->rootfd < 0)
		return 4;
	/* through the magic link /proc/self/root: resolved as text inside the root */
	snprintf(link, sizeof(link), "/proc/self/root%s", f->host);
	symlink_in(f, link, "/etc");
	r = nvb_ldcache_update_in_root(f->rootfd, drv, NVB_ARRAY_SIZE(drv), &err);
	if (r == 0) { /* written inside the root, at ROOT/<host dir> */
		snprintf(link, sizeof(link), "%s%s/ld.so.cache", f->root, f->host);
		if (access(link, F_OK) != 0)
			return 2;
	}
	/* into a procfs directory: refused */
	snprintf(link, sizeof(link), "%s/etc", f->root);
	unlink(link);
	symlink_in(f, "/proc/self", "/etc");
	memset(&err, 0, sizeof(err));
	r = nvb_ldcache_update_in_root(f->rootfd, drv, NVB_ARRAY_SIZE(drv), &err);
	if (r == 0 || err.code != NVB_ERR_SECURITY || !strstr(err.message, "kernel filesystem")) {
		fprintf(stderr, "procfs /etc: r=%d %s\n", r, err.message);
		return 3;
	}
	umount(proc);
	return 0;
}

static void test_root_etc_in_procfs(void **state)
{
	struct fixture f;
	pid_t pid;
	int st;

	(void)state;
	if (geteuid() != 0) {
		print_message("needs root to mount procfs: skipped\n");
		skip();
	}
	fixture_init(&f);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(procfs_child(&f));
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	if (WEXITSTATUS(st) == 77) {
		fixture_done(&f);
		print_message("cannot unshare a mount namespace or mount procfs here: skipped\n");
		skip();
	}
	assert_int_equal(WEXITSTATUS(st), 0);
	fixture_done(&f);
}

/* ------------------------------------------------------------------ 5. glibc uses it */

/*
 * A root with the host's loader and libc, a program linked against libprobe.so.1 that lives
 * only in /opt/drv: without a cache the loader cannot find it; with the written cache (200
 * other entries around it, so the binary search matters) it runs.
 */
static void test_glibc_loads_through_cache(void **state)
{
	char *tmp, root[256];
	struct nvb_ldcache_add add[201];
	char names[200][32], paths[200][64];
	struct nvb_error err = {0};
	int rootfd;

	(void)state;
	if (!have_tools() || access("/lib64/ld-linux-x86-64.so.2", R_OK) != 0 ||
	    access("/lib/x86_64-linux-gnu/libc.so.6", R_OK) != 0) {
		print_message("needs root, cc and an x86-64 glibc host: skipped\n");
		skip();
	}
	tmp = make_tmpdir();
	snprintf(root, sizeof(root), "%s/root", tmp);
	assert_int_equal(
		run_quiet("mkdir -p %s/lib64 %s/lib/x86_64-linux-gnu %s/opt/drv %s/build && "
			  "cp -L /lib64/ld-linux-x86-64.so.2 %s/lib64/ && "
			  "cp -L /lib/x86_64-linux-gnu/libc.so.6 %s/lib/x86_64-linux-gnu/ && "
			  "echo 'int probe(void) { return 42; }' > %s/build/probe.c && "
			  "echo 'int probe(void); int main(void) { return probe(); }' > %s/build/main.c && "
			  "cc -shared -fPIC -Wl,-soname,libprobe.so.1 -o %s/opt/drv/libprobe.so.1 "
			  "%s/build/probe.c && ln -s %s/opt/drv/libprobe.so.1 %s/build/libprobe.so && "
			  "cc -o %s/prog %s/build/main.c -L%s/build -lprobe",
			  root, root, root, tmp, root, root, tmp, tmp, root, tmp, root, tmp, root, tmp,
			  tmp),
		0);
	if (run_quiet("chroot %s /prog 2>/dev/null; test $? = 127", root) != 0) {
		rm_rf(tmp);
		print_message("chroot does not work here (or the loader found the library without "
			      "a cache): skipped\n");
		skip();
	}
	for (int i = 0; i < 200; i++) {
		snprintf(names[i], sizeof(names[i]), "lib%c%03d.so.%d", 'a' + i % 26, i, i % 7);
		snprintf(paths[i], sizeof(paths[i]), "/nonexistent/%s", names[i]);
		add[i] = (struct nvb_ldcache_add){names[i], paths[i], X86_64};
	}
	add[200] = (struct nvb_ldcache_add){"libprobe.so.1", "/opt/drv/libprobe.so.1", X86_64};
	rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(rootfd >= 0);
	if (nvb_ldcache_update_in_root(rootfd, add, 201, &err) < 0)
		fail_msg("update: %s", err.message);
	close(rootfd);
	assert_int_equal(run_quiet("chroot %s /prog; test $? = 42", root), 0);
	rm_rf(tmp);
}

/* ------------------------------------------------------------------ speed */

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* A 2,000-entry image cache plus 30 adds: build alone, and the whole in-root update. Printed,
 * not asserted (sanitizer builds are several times slower); docs report a release build. */
static void test_speed(void **state)
{
	enum { N_IMAGE = 2000, N_ADD = 30, ROUNDS = 200 };
	static char names[N_IMAGE + N_ADD][40], paths[N_IMAGE + N_ADD][96];
	struct nvb_ldcache_add *img = calloc(N_IMAGE, sizeof(*img)), add[N_ADD];
	struct nvb_error err = {0};
	struct nvb_ldcache *old;
	struct fixture f;
	char *data, path[300];
	size_t len;
	double t0, t_build, t_update;

	(void)state;
	assert_non_null(img);
	for (int i = 0; i < N_IMAGE + N_ADD; i++) {
		snprintf(names[i], sizeof(names[i]), "lib%s%d-%c.so.%d", i % 3 ? "gtk" : "x", i,
			 'a' + i % 26, i % 11);
		snprintf(paths[i], sizeof(paths[i]), "%s/%s", i < N_IMAGE ? LIB64 : "/usr/local/nvidia/lib64",
			 names[i]);
		if (i < N_IMAGE)
			img[i] = (struct nvb_ldcache_add){names[i], paths[i], i % 5 ? X86_64 : I386};
		else
			add[i - N_IMAGE] = (struct nvb_ldcache_add){names[i], paths[i], X86_64};
	}
	assert_int_equal(nvb_ldcache_build(NULL, img, N_IMAGE, &data, &len, &err), 0);
	old = parse_or_fail(data, len);

	t0 = now_us();
	for (int r = 0; r < ROUNDS; r++) {
		char *out;
		size_t out_len;

		assert_int_equal(nvb_ldcache_build(old, add, N_ADD, &out, &out_len, &err), 0);
		free(out);
	}
	t_build = (now_us() - t0) / ROUNDS;

	fixture_init(&f);
	mkdir_in(&f, "/etc");
	snprintf(path, sizeof(path), "%s/etc/ld.so.cache", f.root);
	t_update = 0;
	for (int r = 0; r < ROUNDS; r++) {
		write_file(path, data, len); /* each round starts from the image's cache */
		t0 = now_us();
		assert_int_equal(nvb_ldcache_update_in_root(f.rootfd, add, N_ADD, &err), 0);
		t_update += now_us() - t0;
	}
	t_update /= ROUNDS;
	print_message("ld.so.cache, %d image entries (%zu bytes) + %d adds: build %.1f us, "
		      "read+build+write+rename in a root %.1f us (mean of %d)\n",
		      N_IMAGE, len, N_ADD, t_build, t_update, ROUNDS);
	nvb_ldcache_free(old);
	old = load_or_fail(path);
	assert_int_equal(old->n_entries, N_IMAGE + N_ADD);
	assert_has(old, add, N_ADD);
	nvb_ldcache_free(old);
	fixture_done(&f);
	free(data);
	free(img);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_libcmp),
		cmocka_unit_test(test_flags_helpers),
		cmocka_unit_test(test_fresh_matches_ldconfig),
		cmocka_unit_test(test_added_matches_ldconfig),
		cmocka_unit_test(test_add_replaces_same_arch_only),
		cmocka_unit_test(test_bad_adds),
		cmocka_unit_test(test_add_replaces_exact_name),
		cmocka_unit_test(test_unsorted_old_sorted),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_hwcaps_kept),
		cmocka_unit_test(test_hwcaps_unresolved_dropped),
		cmocka_unit_test(test_root_no_etc),
		cmocka_unit_test(test_root_keeps_image),
		cmocka_unit_test(test_root_etc_link_absolute),
		cmocka_unit_test(test_root_etc_link_dotdot),
		cmocka_unit_test(test_root_cache_link_to_host),
		cmocka_unit_test(test_root_cache_directory),
		cmocka_unit_test(test_root_cache_fifo),
		cmocka_unit_test(test_root_cache_device),
		cmocka_unit_test(test_root_cache_oversized),
		cmocka_unit_test(test_root_cache_malformed),
		cmocka_unit_test(test_root_etc_in_procfs),
		cmocka_unit_test(test_glibc_loads_through_cache),
		cmocka_unit_test(test_speed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
