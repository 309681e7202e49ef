/* SPDX-License-Identifier: Apache-2.0 */
/* The NVIDIA driver file catalogue (src/probe/nvidia/catalog.c): which files are selected for
 * which capability, from small host roots made here (the approach of test_nvidia.c): versions
 * matching the driver, stale versions left out, 32-bit libraries, wrapper scripts skipped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "inventory/inventory.h"
#include "probe/nvidia/catalog.h"

#define DRV "550.54.14"
#define LIB64 "/usr/lib/x86_64-linux-gnu"
#define LIB32 "/usr/lib/i386-linux-gnu"
#define S(x) ((char *)(x))

static char root[256];

static void mkparent(const char *path)
{
	char cmd[1200];
	snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\"", path);
	assert_int_equal(system(cmd), 0);
}

static void put(const char *rel, const char *content)
{
	char path[512];
	snprintf(path, sizeof(path), "%s%s", root, rel);
	mkparent(path);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
}

/* A 64-bit ELF program/shared object: this test program, a PIE (ET_DYN like a library). */
static void put_elf(const char *rel)
{
	char path[512], cmd[1200];
	snprintf(path, sizeof(path), "%s%s", root, rel);
	mkparent(path);
	snprintf(cmd, sizeof(cmd), "cp /proc/%d/exe '%s'", (int)getpid(), path);
	assert_int_equal(system(cmd), 0);
}

/* A 32-bit i386 ET_DYN object: an ELF header with no program or section headers, enough for
 * the catalogue's reader (class, type, machine; no SONAME). */
static void put_elf32(const char *rel)
{
	unsigned char h[52] = {0x7f, 'E', 'L', 'F', 1 /* ELFCLASS32 */, 1 /* LSB */, 1 /* EV_CURRENT */};
	h[16] = 3;  /* e_type ET_DYN */
	h[18] = 3;  /* e_machine EM_386 */
	h[20] = 1;  /* e_version */
	h[40] = 52; /* e_ehsize */
	h[42] = 32; /* e_phentsize */
	h[46] = 40; /* e_shentsize */
	char path[512];
	snprintf(path, sizeof(path), "%s%s", root, rel);
	mkparent(path);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(h, 1, sizeof(h), f), sizeof(h));
	fclose(f);
}

static void put_link(const char *rel, const char *target)
{
	char path[512];
	snprintf(path, sizeof(path), "%s%s", root, rel);
	mkparent(path);
	assert_int_equal(symlink(target, path), 0);
}

static int root_setup(void **state)
{
	snprintf(root, sizeof(root), "/tmp/nvb-catalog-XXXXXX");
	assert_non_null(mkdtemp(root));
	(void)state;
	return 0;
}

static int root_teardown(void **state)
{
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	assert_int_equal(system(cmd), 0);
	(void)state;
	return 0;
}

static struct nvb_inventory *select_in_root(struct nvb_lib_entry *entries, size_t n,
					    const char *version)
{
	struct nvb_error err;
	struct nvb_host *host = nvb_host_open(root, &err);
	assert_non_null(host);
	struct nvb_libset libs = {.entries = entries, .n = n, .from_cache = true,
				  .source = S("/etc/ld.so.cache")};
	struct nvb_inventory *inv = calloc(1, sizeof(*inv));
	assert_non_null(inv);
	assert_int_equal(nvb_catalog_select_nvidia(host, &libs, version, inv, &err), 0);
	nvb_host_free(host);
	return inv;
}

static const struct nvb_driver_file *file_at(const struct nvb_inventory *inv, const char *path)
{
	for (size_t i = 0; i < inv->n_files; i++)
		if (strcmp(inv->files[i].path, path) == 0)
			return &inv->files[i];
	return NULL;
}

static const struct nvb_problem *problem(const struct nvb_inventory *inv, const char *code)
{
	for (size_t i = 0; i < inv->n_problems; i++)
		if (strcmp(inv->problems[i].code, code) == 0)
			return &inv->problems[i];
	return NULL;
}

static bool is_missing(const struct nvb_inventory *inv, const char *name)
{
	for (size_t i = 0; i < inv->n_missing; i++)
		if (strcmp(inv->missing[i], name) == 0)
			return true;
	return false;
}

/* ---- capabilities of each kind of file ---- */

static void test_library_caps(void **state)
{
	const char *stems[] = {"libnvidia-ml", "libcuda", "libnvidia-encode", "libGLX_nvidia",
			       "libnvidia-gpucomp", "libnvidia-ngx"};
	const unsigned caps[] = {NVB_CAP_UTILITY, NVB_CAP_COMPUTE, NVB_CAP_VIDEO,
				 NVB_CAP_GRAPHICS | NVB_CAP_DISPLAY,
				 NVB_CAP_COMPUTE | NVB_CAP_GRAPHICS | NVB_CAP_DISPLAY, NVB_CAP_NGX};
	struct nvb_lib_entry e[NVB_ARRAY_SIZE(stems)];
	char names[NVB_ARRAY_SIZE(stems)][64], paths[NVB_ARRAY_SIZE(stems)][128];
	for (size_t i = 0; i < NVB_ARRAY_SIZE(stems); i++) {
		snprintf(names[i], sizeof(names[i]), "%s.so.1", stems[i]);
		snprintf(paths[i], sizeof(paths[i]), LIB64 "/%s.so." DRV, stems[i]);
		put_elf(paths[i]);
		e[i] = (struct nvb_lib_entry){names[i], paths[i], 64};
	}
	struct nvb_inventory *inv = select_in_root(e, NVB_ARRAY_SIZE(e), DRV);
	for (size_t i = 0; i < NVB_ARRAY_SIZE(stems); i++) {
		const struct nvb_driver_file *f = file_at(inv, paths[i]);
		if (!f)
			fail_msg("%s was not selected", paths[i]);
		assert_int_equal(f->kind, NVB_FILE_LIBRARY);
		assert_int_equal(f->caps, caps[i]);
		assert_int_equal(f->elf_class, 64);
		/* the same answer for the file's path in a container */
		assert_int_equal(nvb_catalog_caps_for_path(paths[i]), caps[i]);
	}
	assert_false(nvb_inventory_has_problem(inv, "libraries-missing"));
	/* expected files not made here are reported missing; those made are not */
	assert_true(is_missing(inv, "libnvidia-cfg.so"));
	assert_true(is_missing(inv, "nvidia-smi"));
	assert_false(is_missing(inv, "libcuda.so"));
	assert_false(is_missing(inv, "libnvidia-ngx.so"));
	nvb_inventory_free(inv);
	(void)state;
}

static void test_configs_sockets_binaries(void **state)
{
	put("/etc/vulkan/icd.d/nvidia_icd.json", "{}"); /* the alternative host location */
	put("/etc/OpenCL/vendors/nvidia.icd", "libnvidia-opencl.so.1\n");
	put("/usr/share/egl/egl_external_platform.d/15_nvidia_gbm.json", "{}");
	put("/usr/share/egl/egl_external_platform.d/10_mesa.json", "{}");
	put_elf("/usr/bin/nvidia-smi");
	put_elf("/usr/bin/nvidia-cuda-mps-control");
	/* a socket path that is a plain file is not the daemon's socket */
	put("/run/nvidia-fabricmanager/socket", "");
	char sock[512];
	snprintf(sock, sizeof(sock), "%s/var/run/nvidia-persistenced/socket", root);
	mkparent(sock);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	bool have_socket = strlen(sock) < sizeof(sa.sun_path);
	if (have_socket) {
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
		assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	}
	struct nvb_inventory *inv = select_in_root(NULL, 0, DRV);
	const struct nvb_driver_file *f = file_at(inv, "/etc/vulkan/icd.d/nvidia_icd.json");
	assert_non_null(f);
	assert_int_equal(f->kind, NVB_FILE_CONFIG);
	assert_string_equal(f->link_path, "/etc/vulkan/icd.d/nvidia_icd.json");
	assert_int_equal(f->caps, NVB_CAP_GRAPHICS | NVB_CAP_DISPLAY);
	f = file_at(inv, "/etc/OpenCL/vendors/nvidia.icd");
	assert_non_null(f);
	assert_int_equal(f->caps, NVB_CAP_COMPUTE);
	assert_non_null(file_at(inv, "/usr/share/egl/egl_external_platform.d/15_nvidia_gbm.json"));
	assert_null(file_at(inv, "/usr/share/egl/egl_external_platform.d/10_mesa.json"));
	f = file_at(inv, "/usr/bin/nvidia-smi");
	assert_non_null(f);
	assert_int_equal(f->kind, NVB_FILE_BINARY);
	assert_int_equal(f->caps, NVB_CAP_UTILITY);
	f = file_at(inv, "/usr/bin/nvidia-cuda-mps-control");
	assert_non_null(f);
	assert_int_equal(f->caps, NVB_CAP_COMPUTE);
	assert_false(is_missing(inv, "nvidia-smi"));
	assert_null(file_at(inv, "/run/nvidia-fabricmanager/socket"));
	if (have_socket) {
		/* found under /var/run, mounted at the standard /run path */
		f = file_at(inv, "/var/run/nvidia-persistenced/socket");
		assert_non_null(f);
		assert_int_equal(f->kind, NVB_FILE_SOCKET);
		assert_string_equal(f->link_path, "/run/nvidia-persistenced/socket");
		assert_int_equal(f->caps, NVB_CAP_UTILITY);
	}
	close(fd);
	/* no library at all: the kernel module's user-space libraries are missing */
	assert_true(nvb_inventory_has_problem(inv, "libraries-missing"));
	nvb_inventory_free(inv);
	(void)state;
}

static void test_caps_for_path(void **state)
{
	assert_int_equal(nvb_catalog_caps_for_path("/usr/lib/x86_64-linux-gnu/libcuda.so.1"),
			 NVB_CAP_COMPUTE);
	assert_int_equal(nvb_catalog_caps_for_path("/usr/lib/i386-linux-gnu/libcuda.so.1"),
			 NVB_CAP_COMPUTE | NVB_CAP_COMPAT32);
	assert_int_equal(nvb_catalog_caps_for_path("/usr/bin/nvidia-smi"), NVB_CAP_UTILITY);
	assert_int_equal(nvb_catalog_caps_for_path("/usr/share/vulkan/icd.d/nvidia_icd.json"),
			 NVB_CAP_GRAPHICS | NVB_CAP_DISPLAY);
	assert_int_equal(nvb_catalog_caps_for_path("/lib/firmware/nvidia/550.54.14/gsp_ga10x.bin"),
			 NVB_CAP_UTILITY | NVB_CAP_COMPUTE);
	assert_int_equal(nvb_catalog_caps_for_path("/tmp/nvidia-mps"), NVB_CAP_COMPUTE);
	assert_int_equal(nvb_catalog_caps_for_path("/usr/lib/x86_64-linux-gnu/libGL.so.1"), 0);
	assert_int_equal(nvb_catalog_caps_for_path("/etc/hosts"), 0);
	(void)state;
}

/* ---- versions ---- */

static void test_versions_stale_excluded(void **state)
{
	put_elf(LIB64 "/libcuda.so." DRV);
	put_link(LIB64 "/libcuda.so.1", "libcuda.so." DRV);
	put_elf("/opt/old/libcuda.so.535.104.05");
	put_elf("/opt/old/libnvidia-ml.so.535.104.05");
	put_elf("/opt/older/libnvidia-ml.so.470.1.2");
	/* a shim not versioned by the driver (libcuda.so.1 as a plain file): never selected */
	put_elf("/opt/compat/libcuda.so.1");
	/* versioned on its own, not by the driver */
	put_elf(LIB64 "/libnvidia-egl-wayland.so.1.1.13");
	struct nvb_lib_entry e[] = {
		{S("libcuda.so.1"), S(LIB64 "/libcuda.so.1"), 64},
		{S("libcuda.so.1"), S("/opt/old/libcuda.so.535.104.05"), 64},
		{S("libnvidia-ml.so.1"), S("/opt/old/libnvidia-ml.so.535.104.05"), 64},
		{S("libnvidia-ml.so.1"), S("/opt/older/libnvidia-ml.so.470.1.2"), 64},
		{S("libcuda.so.1"), S("/opt/compat/libcuda.so.1"), 64},
		{S("libnvidia-egl-wayland.so.1"), S(LIB64 "/libnvidia-egl-wayland.so.1.1.13"), 64},
		/* a second name of the selected file: selected once */
		{S("libcuda.so"), S(LIB64 "/libcuda.so.1"), 64},
		/* not in the catalogue */
		{S("libGL.so.1"), S(LIB64 "/libcuda.so." DRV), 64},
	};
	struct nvb_inventory *inv = select_in_root(e, NVB_ARRAY_SIZE(e), DRV);
	assert_int_equal(inv->n_files, 2);
	const struct nvb_driver_file *cuda = file_at(inv, LIB64 "/libcuda.so." DRV);
	assert_non_null(cuda);
	assert_string_equal(cuda->link_path, LIB64 "/libcuda.so.1");
	assert_non_null(file_at(inv, LIB64 "/libnvidia-egl-wayland.so.1.1.13"));
	assert_null(file_at(inv, "/opt/old/libcuda.so.535.104.05"));
	assert_null(file_at(inv, "/opt/compat/libcuda.so.1"));
	assert_true(is_missing(inv, "libnvidia-ml.so"));
	const struct nvb_problem *p = problem(inv, "stale-libraries");
	assert_non_null(p);
	assert_int_equal(p->severity, NVB_PROBLEM_WARNING);
	/* three files of two other versions, each version named once */
	assert_non_null(strstr(p->message, "3 library file(s)"));
	assert_non_null(strstr(p->message, "535.104.05, 470.1.2"));
	assert_non_null(strstr(p->message, "/etc/ld.so.cache"));
	assert_false(nvb_inventory_has_problem(inv, "library-version-mismatch"));
	nvb_inventory_free(inv);
	(void)state;
}

/* Only another version's libraries: none selected, and the mismatch (not "missing") is said. */
static void test_versions_all_stale(void **state)
{
	put_elf(LIB64 "/libcuda.so.535.104.05");
	struct nvb_lib_entry e[] = {
		{S("libcuda.so.1"), S(LIB64 "/libcuda.so.535.104.05"), 64},
	};
	struct nvb_inventory *inv = select_in_root(e, NVB_ARRAY_SIZE(e), DRV);
	assert_int_equal(inv->n_files, 0);
	const struct nvb_problem *p = problem(inv, "library-version-mismatch");
	assert_non_null(p);
	assert_int_equal(p->severity, NVB_PROBLEM_ERROR);
	assert_non_null(strstr(p->message, DRV));
	assert_non_null(strstr(p->message, "535.104.05"));
	assert_false(nvb_inventory_has_problem(inv, "libraries-missing"));
	assert_false(nvb_inventory_has_problem(inv, "stale-libraries"));
	nvb_inventory_free(inv);
	/* the version guessed from the library's file name when /proc has none */
	struct nvb_error err;
	struct nvb_host *host = nvb_host_open(root, &err);
	assert_non_null(host);
	struct nvb_libset libs = {.entries = e, .n = 1, .from_cache = true, .source = S("x")};
	char *guess = nvb_catalog_guess_version(host, &libs);
	assert_non_null(guess);
	assert_string_equal(guess, "535.104.05");
	free(guess);
	nvb_host_free(host);
	(void)state;
}

/* ---- 32-bit libraries ---- */

static void test_32bit(void **state)
{
	put_elf32(LIB32 "/libcuda.so." DRV);
	put_elf32(LIB32 "/libGLX_nvidia.so." DRV);
	put_elf(LIB64 "/libGLX_nvidia.so." DRV);
	struct nvb_lib_entry e[] = {
		{S("libcuda.so.1"), S(LIB32 "/libcuda.so." DRV), 32},
		{S("libGLX_nvidia.so.0"), S(LIB32 "/libGLX_nvidia.so." DRV), 32},
		{S("libGLX_nvidia.so.0"), S(LIB64 "/libGLX_nvidia.so." DRV), 64},
	};
	struct nvb_inventory *inv = select_in_root(e, NVB_ARRAY_SIZE(e), DRV);
	assert_int_equal(inv->n_files, 3);
	const struct nvb_driver_file *f = file_at(inv, LIB32 "/libcuda.so." DRV);
	assert_non_null(f);
	assert_int_equal(f->elf_class, 32);
	assert_int_equal(f->caps, NVB_CAP_COMPUTE | NVB_CAP_COMPAT32);
	f = file_at(inv, LIB32 "/libGLX_nvidia.so." DRV);
	assert_non_null(f);
	assert_int_equal(f->caps, NVB_CAP_GRAPHICS | NVB_CAP_DISPLAY | NVB_CAP_COMPAT32);
	f = file_at(inv, LIB64 "/libGLX_nvidia.so." DRV);
	assert_non_null(f);
	assert_int_equal(f->caps & NVB_CAP_COMPAT32, 0);
	/* a 32-bit libcuda does not stand in for the 64-bit one */
	assert_true(is_missing(inv, "libcuda.so"));
	assert_false(is_missing(inv, "libGLX_nvidia.so"));
	nvb_inventory_free(inv);
	(void)state;
}

/* The cache says 64-bit, the file is 32-bit now: skipped, and the 64-bit copy is named. */
static void test_32bit_class_mismatch(void **state)
{
	put_elf32("/opt/lib64/libnvidia-ml.so." DRV);
	put_elf(LIB64 "/libnvidia-ml.so." DRV);
	struct nvb_lib_entry e[] = {
		{S("libnvidia-ml.so.1"), S("/opt/lib64/libnvidia-ml.so." DRV), 64},
		{S("libnvidia-ml.so.1"), S(LIB64 "/libnvidia-ml.so." DRV), 64},
	};
	struct nvb_inventory *inv = select_in_root(e, NVB_ARRAY_SIZE(e), DRV);
	assert_int_equal(inv->n_files, 1);
	assert_non_null(file_at(inv, LIB64 "/libnvidia-ml.so." DRV));
	assert_int_equal(inv->n_skipped, 1);
	assert_string_equal(inv->skipped[0].path, "/opt/lib64/libnvidia-ml.so." DRV);
	assert_string_equal(inv->skipped[0].reason, "32-bit ELF, listed as 64-bit");
	assert_string_equal(inv->skipped[0].chosen, LIB64 "/libnvidia-ml.so." DRV);
	nvb_inventory_free(inv);
	(void)state;
}

/* ---- wrapper scripts ---- */

static void test_wrapper_skipped_for_later_dir(void **state)
{
	/* /usr/bin comes first in the search; the ELF program in /usr/sbin is chosen */
	put("/usr/bin/nvidia-smi", "#!/bin/bash\nexec nvidia-smi.real \"$@\"\n");
	put_elf("/usr/sbin/nvidia-smi");
	put("/usr/bin/nvidia-debugdump", "#!/usr/bin/env -S perl -w\n");
	struct nvb_inventory *inv = select_in_root(NULL, 0, DRV);
	const struct nvb_driver_file *f = file_at(inv, "/usr/sbin/nvidia-smi");
	assert_non_null(f);
	assert_string_equal(f->link_path, "/usr/sbin/nvidia-smi");
	assert_null(file_at(inv, "/usr/bin/nvidia-smi"));
	assert_null(file_at(inv, "/usr/bin/nvidia-debugdump"));
	assert_int_equal(inv->n_skipped, 2);
	assert_string_equal(inv->skipped[0].path, "/usr/bin/nvidia-smi");
	assert_string_equal(inv->skipped[0].reason, "shell script");
	assert_string_equal(inv->skipped[0].chosen, "/usr/sbin/nvidia-smi");
	assert_string_equal(inv->skipped[1].reason, "script (perl)");
	assert_null(inv->skipped[1].chosen);
	assert_false(is_missing(inv, "nvidia-smi"));
	nvb_inventory_free(inv);
	(void)state;
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, root_setup, root_teardown)
	const struct CMUnitTest tests[] = {
		T(test_library_caps),
		T(test_configs_sockets_binaries),
		cmocka_unit_test(test_caps_for_path),
		T(test_versions_stale_excluded),
		T(test_versions_all_stale),
		T(test_32bit),
		T(test_32bit_class_mismatch),
		T(test_wrapper_skipped_for_later_dir),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
