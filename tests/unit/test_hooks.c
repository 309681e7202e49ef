/* SPDX-License-Identifier: Apache-2.0 */
/* CDI hooks on hostile container root filesystems: nothing is ever written outside the root. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "hooks/hooks.h"
#include "testroot.h"

static char base[256];   /* temp dir holding rootfs/ and outside/ */
static char rootfs[300];
static char outside[300];

static int setup(void **state)
{
	snprintf(base, sizeof(base), "/tmp/nvb-hooks-XXXXXX");
	assert_non_null(mkdtemp(base));
	snprintf(rootfs, sizeof(rootfs), "%s/rootfs", base);
	snprintf(outside, sizeof(outside), "%s/outside", base);
	sh("mkdir -p %s/usr/lib %s/etc %s", rootfs, rootfs, outside);
	sh("touch %s/usr/lib/libcuda.so.550.54.14", rootfs);
	(void)state;
	return 0;
}

static int teardown(void **state)
{
	sh("rm -rf '%s'", base);
	(void)state;
	return 0;
}

static int open_root(void)
{
	int fd = open(rootfs, O_PATH | O_DIRECTORY);
	assert_true(fd >= 0);
	return fd;
}

static bool outside_empty(void)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "[ -z \"$(ls -A '%s')\" ]", outside);
	return system(cmd) == 0;
}

static void test_symlinks_plain(void **state)
{
	int fd = open_root();
	char *links[] = {"libcuda.so.550.54.14::/usr/lib/libcuda.so.1", "libcuda.so.1::/usr/lib/libcuda.so"};
	struct nvb_error err;
	assert_int_equal(nvb_hook_create_symlinks(fd, links, 2, &err), 0);
	char buf[256], path[512];
	snprintf(path, sizeof(path), "%s/usr/lib/libcuda.so.1", rootfs);
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_string_equal(buf, "libcuda.so.550.54.14");
	/* idempotent: a second run changes nothing and succeeds */
	assert_int_equal(nvb_hook_create_symlinks(fd, links, 2, &err), 0);
	close(fd);
	(void)state;
}

static void test_symlinks_replace_stale_keep_files(void **state)
{
	sh("ln -s libcuda.so.535.104.05 %s/usr/lib/libcuda.so.1", rootfs);
	sh("echo image-file > %s/usr/lib/libcuda.so", rootfs);
	int fd = open_root();
	char *links[] = {"libcuda.so.550.54.14::/usr/lib/libcuda.so.1", "libcuda.so.1::/usr/lib/libcuda.so"};
	struct nvb_error err;
	assert_int_equal(nvb_hook_create_symlinks(fd, links, 2, &err), 0);
	sh("[ \"$(readlink %s/usr/lib/libcuda.so.1)\" = libcuda.so.550.54.14 ]", rootfs);
	sh("grep -q image-file %s/usr/lib/libcuda.so", rootfs); /* a regular file is left alone */
	close(fd);
	(void)state;
}

static void test_symlinks_hostile_parent(void **state)
{
	/* the image's /usr/lib points at the host's outside dir (absolute) and at / (root) */
	sh("rm -rf %s/usr/lib && ln -s %s %s/usr/lib", rootfs, outside, rootfs);
	sh("ln -s / %s/lib", rootfs);
	sh("mkdir -p %s/a && ln -s ../../../../../../../../..%s %s/a/up", rootfs, outside, rootfs);
	int fd = open_root();
	char *links[] = {"libcuda.so.550.54.14::/usr/lib/libcuda.so.1",
			 "libcuda.so.550.54.14::/lib/libcuda.so.1",
			 "libcuda.so.550.54.14::/a/up/libcuda.so.1",
			 "x::/a/../../../../../../libx.so"};
	struct nvb_error err;
	assert_int_equal(nvb_hook_create_symlinks(fd, links, 4, &err), 0);
	assert_true(outside_empty());
	/* the writes landed inside the root, where the links resolve there */
	sh("[ -L %s%s/libcuda.so.1 ]", rootfs, outside);
	sh("[ -L %s/libcuda.so.1 ] && [ -L %s/libx.so ]", rootfs, rootfs);
	close(fd);
	(void)state;
}

static void test_symlinks_bad_args(void **state)
{
	int fd = open_root();
	struct nvb_error err;
	char *bad[] = {"no-separator", "::/x", "target::relative/link", "t::/"};
	for (size_t i = 0; i < NVB_ARRAY_SIZE(bad); i++) {
		assert_int_equal(nvb_hook_create_symlinks(fd, &bad[i], 1, &err), -1);
		assert_true(strstr(err.message, "link") != NULL);
	}
	close(fd);
	(void)state;
}

static void test_symlink_loop_is_clear_error(void **state)
{
	sh("ln -s loop2 %s/loop1 && ln -s loop1 %s/loop2", rootfs, rootfs);
	int fd = open_root();
	char *links[] = {"t::/loop1/libx.so"};
	struct nvb_error err;
	assert_int_equal(nvb_hook_create_symlinks(fd, links, 1, &err), -1);
	assert_non_null(strstr(err.message, "symbolic links"));
	close(fd);
	(void)state;
}

/* A root with the host's glibc in it, so chroot can run a program that needs the cache. */
static bool make_glibc_root(void)
{
	if (geteuid() != 0)
		return false;
	sh("mkdir -p %s/opt/drv/lib64 %s/lib64 %s/lib/x86_64-linux-gnu %s/bin", rootfs, rootfs,
	   rootfs, rootfs);
	sh("cp -L /lib64/ld-linux-x86-64.so.2 %s/lib64/ && cp -L /lib/x86_64-linux-gnu/libc.so.6 "
	   "%s/lib/x86_64-linux-gnu/", rootfs, rootfs);
	sh("printf 'int drv(void){return 42;}' | cc -shared -fPIC -x c -o %s/opt/drv/lib64/libdrv.so.550.1 "
	   "-Wl,-soname,libdrv.so.1 -", rootfs);
	/* the program finds libdrv.so.1 by name, through /etc/ld.so.cache only */
	sh("ln -sf libdrv.so.550.1 %s/opt/drv/lib64/libdrv.so && printf 'int drv(void); int main(void){return "
	   "drv() == 42 ? 0 : 1;}' | cc -x c -o %s/bin/prog - -L%s/opt/drv/lib64 -ldrv && rm %s/opt/drv/lib64/libdrv.so",
	   rootfs, rootfs, rootfs, rootfs);
	return true;
}

static int run_in_root(const char *prog)
{
	char cmd[700];
	snprintf(cmd, sizeof(cmd), "chroot %s %s", rootfs, prog);
	return system(cmd);
}

/* Legacy update-ldcache: the folders' libraries end up in a cache glibc really uses, written
 * inside the root although /etc/ld.so.cache and ld.so.conf.d are links to the outside. */
static void test_ldcache_legacy_real(void **state)
{
	if (!make_glibc_root())
		skip(); /* needs root for chroot */
	sh("ln -s libdrv.so.550.1 %s/opt/drv/lib64/libdrv.so.1", rootfs);
	sh("ln -s %s/cache %s/etc/ld.so.cache", outside, rootfs);
	sh("ln -s %s %s/etc/ld.so.conf.d", outside, rootfs);
	assert_int_not_equal(run_in_root("/bin/prog"), 0); /* not found without the cache entry */
	int fd = open_root();
	char *folders[] = {"/opt/drv/lib64"};
	struct nvb_error err;
	if (nvb_hook_update_ldcache(fd, folders, 1, &err) < 0)
		fail_msg("update-ldcache: %s", err.message);
	assert_true(outside_empty());
	assert_int_equal(run_in_root("/bin/prog"), 0);
	sh("/sbin/ldconfig -p -C %s/etc/ld.so.cache | grep -q 'libdrv.so.1 .*/opt/drv/lib64/libdrv.so.1'",
	   rootfs);
	sh("grep -qx /opt/drv/lib64 %s%s/00-nvbind.conf", rootfs, outside);
	char *bad[] = {"relative/dir"};
	assert_int_equal(nvb_hook_update_ldcache(fd, bad, 1, &err), -1);
	char *dots[] = {"/usr/../../etc"};
	assert_int_equal(nvb_hook_update_ldcache(fd, dots, 1, &err), -1);
	assert_non_null(strstr(err.message, "'..'"));
	close(fd);
	(void)state;
}

/* Security finding 1: a library whose SONAME climbs out (../proc/1/root/...) and an
 * ld.so.conf naming /proc/1/root: nothing is linked or written outside, and ld.so.conf is
 * never read at all. */
static void test_ldcache_hostile_soname(void **state)
{
	sh("mkdir -p %s/opt/evil", rootfs);
	sh("printf 'int f(void){return 1;}' | cc -shared -fPIC -x c -o %s/opt/evil/libevil.so.1 "
	   "-Wl,-soname,../../../../%s/pwned -", rootfs, outside);
	sh("printf '/proc/1/root%s\\n' > %s/etc/ld.so.conf", outside, rootfs);
	int fd = open_root();
	char *folders[] = {"/opt/evil"};
	struct nvb_error err;
	assert_int_equal(nvb_hook_update_ldcache(fd, folders, 1, &err), 0);
	assert_true(outside_empty());
	close(fd);
	(void)state;
}

static void plan_from(struct nvb_libplan *plan, const char *const *argv, int argc)
{
	struct nvb_error err;
	if (nvb_libplan_parse(plan, argc, (char *const *)argv, &err) < 0)
		fail_msg("parse: %s", err.message);
}

static const char *const driver_args[] = {
	"--lib", "/usr/lib/x86_64-linux-gnu/libcuda.so.580.1::libcuda.so.1::x86-64",
	"--lib", "/usr/lib/x86_64-linux-gnu/libGLX_nvidia.so.580.1::libGLX_nvidia.so.0::x86-64",
	"--lib", "/usr/lib/i386-linux-gnu/libcuda.so.580.1::libcuda.so.1::i386",
	"--link", "libcuda.so.1::/usr/lib/x86_64-linux-gnu/libcuda.so",
	"--link", "libGLX_nvidia.so.0::/usr/lib/x86_64-linux-gnu/libGLX_indirect.so.0",
	"--link", "libcuda.so.1::/usr/lib/i386-linux-gnu/libcuda.so",
};

static void test_libplan_args_roundtrip(void **state)
{
	struct nvb_libplan plan = {0}, again = {0};
	plan_from(&plan, driver_args, 12);
	assert_int_equal(plan.n_libs, 3);
	assert_int_equal(plan.n_links, 3);
	assert_int_equal(plan.libs[2].flags, 0x0003);
	assert_int_equal(plan.libs[0].flags, 0x0303);
	char **args = NULL;
	size_t n = 0;
	struct nvb_error err;
	assert_int_equal(nvb_libplan_args(&plan, &args, &n, &err), 0);
	assert_int_equal(n, 12);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(args[i], driver_args[i]);
	plan_from(&again, (const char *const *)args, (int)n);
	assert_int_equal(again.n_libs, 3);
	for (size_t i = 0; i < n; i++)
		free(args[i]);
	free(args);
	static const char *const bad[][2] = {
		{"--lib", "relative::libx.so.1::x86-64"}, {"--lib", "/a/libx.so::../x::x86-64"},
		{"--lib", "/a/libx.so::libx.so.1::vax"},  {"--lib", "/a/libx.so::libx.so.1"},
		{"--link", "::/a/b"},                      {"--link", "x::relative"},
		{"--folder", "/x"},
	};
	for (size_t i = 0; i < NVB_ARRAY_SIZE(bad); i++) {
		struct nvb_libplan p = {0};
		assert_int_equal(nvb_libplan_parse(&p, 2, (char *const *)bad[i], &err), -1);
		assert_true(err.message[0] != '\0');
		nvb_libplan_clear(&p);
	}
	nvb_libplan_clear(&plan);
	nvb_libplan_clear(&again);
	(void)state;
}

/* Compute-only containers get libcuda but not libGLX_nvidia or the i386 files: the links of
 * what is not mounted go too (new-user bug 1). */
static void test_libplan_keep_mounted(void **state)
{
	struct nvb_libplan plan = {0};
	plan_from(&plan, driver_args, 12);
	char *mounted[] = {"/usr/lib/x86_64-linux-gnu/libcuda.so.580.1", "/usr/bin/nvidia-smi"};
	nvb_libplan_keep_mounted(&plan, mounted, 2, 0);
	assert_int_equal(plan.n_libs, 1);
	assert_string_equal(plan.libs[0].soname, "libcuda.so.1");
	assert_int_equal(plan.n_links, 1);
	assert_string_equal(plan.links[0].link, "/usr/lib/x86_64-linux-gnu/libcuda.so");
	nvb_libplan_clear(&plan);
	(void)state;
}

/* A driver-folder plan: libraries and programs inside the folder's mount are reachable; the
 * capabilities decide which are kept, by the catalogue. */
static const char *const folder_args[] = {
	"--lib",  "/usr/lib/nvbind/lib/libcuda.so.580.1::libcuda.so.1::x86-64",
	"--lib",  "/usr/lib/nvbind/lib/libGLX_nvidia.so.580.1::libGLX_nvidia.so.0::x86-64",
	"--link", "libcuda.so.1::/usr/lib/nvbind/lib/libcuda.so",
	"--link", "/usr/lib/nvbind/bin/nvidia-smi::/usr/bin/nvidia-smi",
	"--link", "/usr/lib/nvbind/files/usr/share/vulkan/icd.d/nvidia_icd.json::/usr/share/vulkan/icd.d/nvidia_icd.json",
};

static void test_libplan_keep_folder_caps(void **state)
{
	char *mounted[] = {"/usr/lib/nvbind"};
	struct nvb_libplan plan = {0};
	plan_from(&plan, folder_args, 10);
	nvb_libplan_keep_mounted(&plan, mounted, 1, 0);
	assert_int_equal(plan.n_libs, 2); /* caps 0: everything reachable */
	assert_int_equal(plan.n_links, 3);
	nvb_libplan_clear(&plan);
	plan_from(&plan, folder_args, 10);
	nvb_libplan_keep_mounted(&plan, mounted, 1, NVB_CAP_COMPUTE | NVB_CAP_UTILITY);
	assert_int_equal(plan.n_libs, 1);
	assert_string_equal(plan.libs[0].soname, "libcuda.so.1");
	assert_int_equal(plan.n_links, 2); /* libcuda.so and nvidia-smi; not the Vulkan file */
	assert_string_equal(plan.links[1].link, "/usr/bin/nvidia-smi");
	nvb_libplan_clear(&plan);
	/* the folder not mounted (another spec's edits): nothing of it */
	plan_from(&plan, folder_args, 10);
	char *other[] = {"/usr/lib/nvbindx"};
	nvb_libplan_keep_mounted(&plan, other, 1, 0);
	assert_int_equal(plan.n_libs + plan.n_links, 0);
	nvb_libplan_clear(&plan);
	(void)state;
}

/* Applying a folder plan before the folder is mounted (the wrapper): nothing is written under
 * /usr/lib/nvbind, the cache points into it, a program's link replaces the image's file. */
static void test_libplan_apply_folder(void **state)
{
	sh("mkdir -p %s/usr/bin && printf 'stale' >%s/usr/bin/nvidia-smi", rootfs, rootfs);
	struct nvb_libplan plan = {0};
	plan_from(&plan, folder_args, 10);
	int fd = open_root();
	struct nvb_error err;
	if (nvb_libplan_apply(fd, &plan, &err) < 0)
		fail_msg("apply: %s", err.message);
	sh("[ ! -e %s/usr/lib/nvbind ]", rootfs);
	sh("[ \"$(readlink %s/usr/bin/nvidia-smi)\" = /usr/lib/nvbind/bin/nvidia-smi ]", rootfs);
	sh("[ -L %s/usr/share/vulkan/icd.d/nvidia_icd.json ]", rootfs);
	sh("grep -qx /usr/lib/nvbind/lib %s/etc/ld.so.conf.d/00-nvbind.conf", rootfs);
	sh("/sbin/ldconfig -p -C %s/etc/ld.so.cache | grep -q 'libcuda.so.1 (libc6,x86-64) => "
	   "/usr/lib/nvbind/lib/libcuda.so.1'", rootfs);
	/* a directory at a program's place is an error naming it */
	sh("rm %s/usr/bin/nvidia-smi && mkdir %s/usr/bin/nvidia-smi", rootfs, rootfs);
	assert_int_equal(nvb_libplan_apply(fd, &plan, &err), -1);
	assert_non_null(strstr(err.message, "nvidia-smi"));
	close(fd);
	nvb_libplan_clear(&plan);
	(void)state;
}

/* Applying: SONAME links (replacing the image's stale one), the image's own
 * libGLX_indirect.so.0 kept, 00-nvbind.conf and a cache entry per library. */
static void test_libplan_apply(void **state)
{
	sh("mkdir -p %s/usr/lib/x86_64-linux-gnu", rootfs);
	sh("ln -s libGLX_mesa.so.0 %s/usr/lib/x86_64-linux-gnu/libGLX_indirect.so.0", rootfs);
	sh("ln -s libcuda.so.470.1 %s/usr/lib/x86_64-linux-gnu/libcuda.so.1", rootfs);
	struct nvb_libplan plan = {0};
	plan_from(&plan, driver_args, 12);
	int fd = open_root();
	struct nvb_error err;
	if (nvb_libplan_apply(fd, &plan, &err) < 0)
		fail_msg("apply: %s", err.message);
	sh("[ \"$(readlink %s/usr/lib/x86_64-linux-gnu/libcuda.so.1)\" = libcuda.so.580.1 ]", rootfs);
	sh("[ \"$(readlink %s/usr/lib/x86_64-linux-gnu/libcuda.so)\" = libcuda.so.1 ]", rootfs);
	sh("[ \"$(readlink %s/usr/lib/x86_64-linux-gnu/libGLX_indirect.so.0)\" = libGLX_mesa.so.0 ]", rootfs);
	sh("[ \"$(readlink %s/usr/lib/i386-linux-gnu/libcuda.so.1)\" = libcuda.so.580.1 ]", rootfs);
	sh("grep -qx /usr/lib/x86_64-linux-gnu %s/etc/ld.so.conf.d/00-nvbind.conf", rootfs);
	sh("grep -qx /usr/lib/i386-linux-gnu %s/etc/ld.so.conf.d/00-nvbind.conf", rootfs);
	sh("/sbin/ldconfig -p -C %s/etc/ld.so.cache | grep -q 'libcuda.so.1 (libc6,x86-64) => "
	   "/usr/lib/x86_64-linux-gnu/libcuda.so.1'", rootfs);
	sh("/sbin/ldconfig -p -C %s/etc/ld.so.cache | grep -q 'libcuda.so.1 (libc6) => "
	   "/usr/lib/i386-linux-gnu/libcuda.so.1'", rootfs);
	/* applying twice changes nothing and leaves no temporary file */
	assert_int_equal(nvb_libplan_apply(fd, &plan, &err), 0);
	sh("[ -z \"$(find %s -name '.*nvbind*')\" ]", rootfs);
	/* a directory where the SONAME link goes is a clear error */
	sh("rm %s/usr/lib/x86_64-linux-gnu/libcuda.so.1 && mkdir %s/usr/lib/x86_64-linux-gnu/libcuda.so.1",
	   rootfs, rootfs);
	assert_int_equal(nvb_libplan_apply(fd, &plan, &err), -1);
	assert_non_null(strstr(err.message, "libcuda.so.1"));
	close(fd);
	nvb_libplan_clear(&plan);
	(void)state;
}

/* The library folder and /etc are absolute links to the outside: everything stays inside. */
static void test_libplan_hostile_links(void **state)
{
	sh("rm -rf %s/usr/lib %s/etc && ln -s %s %s/usr/lib && ln -s %s %s/etc", rootfs, rootfs,
	   outside, rootfs, outside, rootfs);
	struct nvb_libplan plan = {0};
	plan_from(&plan, driver_args, 4);
	int fd = open_root();
	struct nvb_error err;
	if (nvb_libplan_apply(fd, &plan, &err) < 0)
		fail_msg("apply: %s", err.message);
	assert_true(outside_empty());
	sh("[ -L %s%s/x86_64-linux-gnu/libcuda.so.1 ]", rootfs, outside);
	sh("[ -f %s%s/ld.so.cache ]", rootfs, outside);
	close(fd);
	nvb_libplan_clear(&plan);
	(void)state;
}

/* The whole path as the wrapper and nvbind-hook take it: a program in a glibc root finds a
 * library through the written cache, without any ldconfig. */
static void test_libplan_real_loader(void **state)
{
	if (!make_glibc_root())
		skip();
	static const char *const args[] = {"--lib", "/opt/drv/lib64/libdrv.so.550.1::libdrv.so.1::x86-64"};
	struct nvb_libplan plan = {0};
	plan_from(&plan, args, 2);
	int fd = open_root();
	struct nvb_error err;
	assert_int_not_equal(run_in_root("/bin/prog"), 0);
	if (nvb_libplan_apply(fd, &plan, &err) < 0)
		fail_msg("apply: %s", err.message);
	assert_int_equal(run_in_root("/bin/prog"), 0);
	close(fd);
	nvb_libplan_clear(&plan);
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_symlinks_plain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_symlinks_replace_stale_keep_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_symlinks_hostile_parent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_symlinks_bad_args, setup, teardown),
		cmocka_unit_test_setup_teardown(test_symlink_loop_is_clear_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ldcache_legacy_real, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ldcache_hostile_soname, setup, teardown),
		cmocka_unit_test_setup_teardown(test_libplan_args_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_libplan_keep_mounted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_libplan_apply, setup, teardown),
		cmocka_unit_test_setup_teardown(test_libplan_keep_folder_caps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_libplan_apply_folder, setup, teardown),
		cmocka_unit_test_setup_teardown(test_libplan_hostile_links, setup, teardown),
		cmocka_unit_test_setup_teardown(test_libplan_real_loader, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
