/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hooks' paths the suites did not run (tools/coverage.sh, docs/testing.md "Coverage"): an
 * image whose /etc/ld.so.conf.d or 00-nvbind.conf is not what the hook expects, a link whose
 * folder is a file, more library folders than the loader configuration holds, an empty plan,
 * and the legacy update-ldcache hook on folders the image lacks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hooks/hooks.h"
#include "testroot.h"

static char rootfs[64];

static int setup(void **state)
{
	(void)state;
	snprintf(rootfs, sizeof(rootfs), "/tmp/nvb-covhooks-XXXXXX");
	assert_non_null(mkdtemp(rootfs));
	sh("mkdir -p %s/usr/lib/x86_64-linux-gnu %s/etc", rootfs, rootfs);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	sh("rm -rf '%s'", rootfs);
	return 0;
}

static int open_root(void)
{
	int fd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	return fd;
}

static const char *const one_lib[] = {
	"--lib", "/usr/lib/x86_64-linux-gnu/libcuda.so.580.1::libcuda.so.1::x86-64",
};

static void plan_from(struct nvb_libplan *plan, const char *const *argv, int argc)
{
	struct nvb_error err;
	if (nvb_libplan_parse(plan, argc, (char *const *)argv, &err) < 0)
		fail_msg("parse: %s", err.message);
}

/* /etc/ld.so.conf.d is a file in the image: the hook fails naming it, the SONAME link made
 * before stays valid. */
static void test_ldconf_dir_is_file(void **state)
{
	(void)state;
	sh("touch %s/etc/ld.so.conf.d", rootfs);
	struct nvb_libplan plan = {0};
	plan_from(&plan, one_lib, 2);
	int fd = open_root();
	struct nvb_error err = {0};
	assert_int_equal(nvb_libplan_apply(fd, &plan, &err), -1);
	assert_non_null(strstr(err.message, "/etc/ld.so.conf.d"));
	sh("[ \"$(readlink %s/usr/lib/x86_64-linux-gnu/libcuda.so.1)\" = libcuda.so.580.1 ]", rootfs);
	close(fd);
	nvb_libplan_clear(&plan);
}

/* 00-nvbind.conf is a directory in the image: the rename fails naming the file, and the
 * temporary file is removed. */
static void test_ldconf_is_directory(void **state)
{
	(void)state;
	sh("mkdir -p %s/etc/ld.so.conf.d/00-nvbind.conf/inside", rootfs);
	struct nvb_libplan plan = {0};
	plan_from(&plan, one_lib, 2);
	int fd = open_root();
	struct nvb_error err = {0};
	assert_int_equal(nvb_libplan_apply(fd, &plan, &err), -1);
	assert_non_null(strstr(err.message, "cannot write /etc/ld.so.conf.d/00-nvbind.conf in the container"));
	assert_true(err.sys_errno == EISDIR || err.sys_errno == ENOTEMPTY || err.sys_errno == EEXIST);
	sh("[ -z \"$(find %s/etc/ld.so.conf.d -maxdepth 1 -name '.*')\" ]", rootfs);
	sh("[ -d %s/etc/ld.so.conf.d/00-nvbind.conf/inside ]", rootfs);
	close(fd);
	nvb_libplan_clear(&plan);
}

/* An extra link whose folder is a regular file in the image: refused naming the folder. */
static void test_link_folder_is_file(void **state)
{
	(void)state;
	sh("touch %s/usr/lib/blocker", rootfs);
	static const char *const args[] = {
		"--lib", "/usr/lib/x86_64-linux-gnu/libcuda.so.580.1::libcuda.so.1::x86-64",
		"--link", "libcuda.so.1::/usr/lib/blocker/libcuda.so",
	};
	struct nvb_libplan plan = {0};
	plan_from(&plan, args, 4);
	int fd = open_root();
	struct nvb_error err = {0};
	assert_int_equal(nvb_libplan_apply(fd, &plan, &err), -1);
	assert_non_null(strstr(err.message, "blocker"));
	sh("[ -f %s/usr/lib/blocker ]", rootfs);
	close(fd);
	nvb_libplan_clear(&plan);
}

/* More library folders than 00-nvbind.conf's 8 KiB hold: refused before anything is written
 * to /etc; an empty plan changes nothing. */
static void test_too_many_folders(void **state)
{
	(void)state;
	enum { N = 48 };
	char *argv[2 * N];
	char pad[181];
	memset(pad, 'd', sizeof(pad) - 1);
	pad[sizeof(pad) - 1] = '\0';
	for (int i = 0; i < N; i++) {
		argv[2 * i] = strdup("--lib");
		argv[2 * i + 1] = nvb_asprintf("/opt/%s%02d/libx.so.1.0::libx.so.1::x86-64", pad, i);
		assert_non_null(argv[2 * i + 1]);
	}
	int fd = open_root();
	struct nvb_error err = {0};
	struct nvb_libplan empty = {0};
	assert_int_equal(nvb_libplan_apply(fd, &empty, &err), 0);
	sh("[ ! -e %s/etc/ld.so.conf.d ]", rootfs);

	struct nvb_libplan plan = {0};
	plan_from(&plan, (const char *const *)argv, 2 * N);
	assert_int_equal(plan.n_libs, N);
	assert_int_equal(nvb_libplan_apply(fd, &plan, &err), -1);
	assert_string_equal(err.message, "too many library folders");
	sh("[ ! -e %s/etc/ld.so.conf.d/00-nvbind.conf ] && [ ! -e %s/etc/ld.so.cache ]", rootfs, rootfs);
	nvb_libplan_clear(&plan);
	for (int i = 0; i < 2 * N; i++)
		free(argv[i]);
	close(fd);
}

/* The legacy update-ldcache hook: folders the image does not have, and folders without a
 * library that has its SONAME beside it, register nothing and write nothing. */
static void test_legacy_ldcache_nothing(void **state)
{
	(void)state;
	sh("touch %s/usr/lib/x86_64-linux-gnu/libnot-elf.so.1", rootfs);
	sh("mkdir %s/usr/lib/x86_64-linux-gnu/libdir.so.1", rootfs);
	char *folders[] = {"/no/such/folder", "/usr/lib/x86_64-linux-gnu"};
	int fd = open_root();
	struct nvb_error err = {0};
	assert_int_equal(nvb_hook_update_ldcache(fd, folders, 2, &err), 0);
	sh("[ ! -e %s/etc/ld.so.cache ] && [ ! -e %s/etc/ld.so.conf.d ]", rootfs, rootfs);
	char *bad[] = {"/usr/../etc"};
	assert_int_equal(nvb_hook_update_ldcache(fd, bad, 1, &err), -1);
	assert_non_null(strstr(err.message, "--folder '/usr/../etc'"));
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ldconf_dir_is_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ldconf_is_directory, setup, teardown),
		cmocka_unit_test_setup_teardown(test_link_folder_is_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_many_folders, setup, teardown),
		cmocka_unit_test_setup_teardown(test_legacy_ldcache_nothing, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
