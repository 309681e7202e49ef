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

static char base[256];   /* temp dir holding rootfs/ and outside/ */
static char rootfs[300];
static char outside[300];

static void sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	assert_int_equal(system(cmd), 0);
}

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

static void test_ldcache_real(void **state)
{
	if (geteuid() != 0 || access("/sbin/ldconfig", X_OK) != 0)
		skip(); /* needs root for namespaces and chroot */
	sh("mkdir -p %s/opt/drv/lib64 %s/lib64 %s/lib/x86_64-linux-gnu", rootfs, rootfs, rootfs);
	sh("cp -L /lib64/ld-linux-x86-64.so.2 %s/lib64/ && cp -L /lib/x86_64-linux-gnu/libc.so.6 "
	   "%s/lib/x86_64-linux-gnu/", rootfs, rootfs);
	sh("printf 'int f(void){return 1;}' | cc -shared -fPIC -x c -o %s/opt/drv/lib64/libdrv.so.550.1 "
	   "-Wl,-soname,libdrv.so.1 -", rootfs);
	/* a hostile /etc/ld.so.cache link and ld.so.conf.d link must not reach outside */
	sh("ln -s %s/cache %s/etc/ld.so.cache", outside, rootfs);
	sh("ln -s %s %s/etc/ld.so.conf.d", outside, rootfs);
	int fd = open_root();
	char *folders[] = {"/opt/drv/lib64"};
	struct nvb_error err;
	int r = nvb_hook_update_ldcache(fd, folders, 1, nvb_host_ldconfig(), &err);
	if (r < 0)
		fail_msg("update-ldcache: %s", err.message);
	assert_true(outside_empty());
	char cmd[1024];
	/* ldconfig renames its new cache over the planted link: the cache is inside the root */
	snprintf(cmd, sizeof(cmd), "/sbin/ldconfig -p -C %s/etc/ld.so.cache | grep -q 'libdrv.so.1 .*/opt/drv/lib64/libdrv.so.1'",
		 rootfs);
	assert_int_equal(system(cmd), 0);
	sh("grep -qx /opt/drv/lib64 %s%s/00-nvbind.conf", rootfs, outside);
	close(fd);
	(void)state;
}

static void test_ldcache_refuses_dynamic_ldconfig(void **state)
{
	int fd = open_root();
	char *folders[] = {"/usr/lib"};
	struct nvb_error err;
	assert_int_equal(nvb_hook_update_ldcache(fd, folders, 1, "/bin/true", &err), -1);
	assert_non_null(strstr(err.message, "dynamically linked"));
	assert_int_equal(err.code, NVB_ERR_SECURITY);
	char *bad[] = {"relative/dir"};
	assert_int_equal(nvb_hook_update_ldcache(fd, bad, 1, nvb_host_ldconfig(), &err), -1);
	char *dots[] = {"/usr/../../etc"};
	assert_int_equal(nvb_hook_update_ldcache(fd, dots, 1, nvb_host_ldconfig(), &err), -1);
	assert_non_null(strstr(err.message, "'..'"));
	close(fd);
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
		cmocka_unit_test_setup_teardown(test_ldcache_real, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ldcache_refuses_dynamic_ldconfig, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
