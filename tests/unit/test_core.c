/* SPDX-License-Identifier: Apache-2.0 */
/* Core: errors, the rooted path resolver (hostile trees), capability words, log levels. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "core/core.h"

static char root[256];
static int rootfd = -1;

static void mkfile(const char *rel, const char *content)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
}

static void mklink(const char *target, const char *rel)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	assert_int_equal(symlink(target, path), 0);
}

static void mkd(const char *rel)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	assert_int_equal(mkdir(path, 0755), 0);
}

static int setup(void **state)
{
	snprintf(root, sizeof(root), "/tmp/nvb-core-XXXXXX");
	assert_non_null(mkdtemp(root));
	mkd("etc");
	mkd("usr");
	mkd("usr/lib");
	mkd("usr/lib/x86_64-linux-gnu");
	mkfile("etc/passwd", "inside-root\n");
	mkfile("usr/lib/x86_64-linux-gnu/libcuda.so.550.54.14", "elf");
	mklink("libcuda.so.550.54.14", "usr/lib/x86_64-linux-gnu/libcuda.so.1");
	mklink("/usr/lib", "lib");                              /* absolute link: stays inside */
	mklink("../../../../../../etc/passwd", "usr/escape");   /* ".." climbs stop at the root */
	mklink("/etc/passwd", "usr/abs");
	mklink("loop2", "usr/loop1");
	mklink("loop1", "usr/loop2");
	mklink("/", "usr/rootlink");
	mklink("/nonexistent/x", "usr/dangling");
	rootfd = open(root, O_PATH | O_DIRECTORY);
	assert_true(rootfd >= 0);
	(void)state;
	return 0;
}

static int teardown(void **state)
{
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	assert_int_equal(system(cmd), 0);
	close(rootfd);
	(void)state;
	return 0;
}

static char *read_in_root(const char *path, char **resolved, struct nvb_error *err)
{
	int fd = nvb_open_in_root(rootfd, "test", path, O_RDONLY, resolved, err);
	if (fd < 0)
		return NULL;
	char *data = NULL;
	size_t len;
	int r = nvb_read_fd(fd, path, 4096, &data, &len, err);
	close(fd);
	return r < 0 ? NULL : data;
}

static void test_resolve_follows_links_inside(void **state)
{
	struct nvb_error err;
	char *resolved = NULL;
	int fd = nvb_resolve_in_root(rootfd, "test", "/lib/x86_64-linux-gnu/libcuda.so.1", 0,
				     &resolved, &err);
	assert_true(fd >= 0);
	close(fd);
	assert_string_equal(resolved, "/usr/lib/x86_64-linux-gnu/libcuda.so.550.54.14");
	free(resolved);
	(void)state;
}

static void test_absolute_link_stays_in_root(void **state)
{
	struct nvb_error err;
	char *resolved = NULL;
	char *data = read_in_root("/usr/abs", &resolved, &err);
	assert_non_null(data);
	assert_string_equal(data, "inside-root\n"); /* never the machine's /etc/passwd */
	assert_string_equal(resolved, "/etc/passwd");
	free(data);
	free(resolved);
	(void)state;
}

static void test_dotdot_clamped(void **state)
{
	struct nvb_error err;
	char *resolved = NULL;
	char *data = read_in_root("/usr/escape", &resolved, &err);
	assert_non_null(data);
	assert_string_equal(data, "inside-root\n");
	free(data);
	free(resolved);
	data = read_in_root("../../../../etc/../etc/./passwd", &resolved, &err);
	assert_non_null(data);
	assert_string_equal(resolved, "/etc/passwd");
	free(data);
	free(resolved);
	(void)state;
}

static void test_root_link(void **state)
{
	struct nvb_error err;
	char *resolved = NULL;
	int fd = nvb_resolve_in_root(rootfd, "test", "/usr/rootlink/usr/rootlink/etc", 0, &resolved,
				     &err);
	assert_true(fd >= 0);
	close(fd);
	assert_string_equal(resolved, "/etc");
	free(resolved);
	(void)state;
}

static void test_loop_is_error(void **state)
{
	struct nvb_error err;
	int fd = nvb_resolve_in_root(rootfd, "test", "/usr/loop1", 0, NULL, &err);
	assert_int_equal(fd, -1);
	assert_int_equal(err.code, NVB_ERR_SECURITY);
	assert_non_null(strstr(err.message, "/usr/loop1"));
	assert_non_null(strstr(err.message, "symbolic links"));
	(void)state;
}

static void test_dangling_and_missing(void **state)
{
	struct nvb_error err;
	int fd = nvb_resolve_in_root(rootfd, "host", "/usr/dangling", 0, NULL, &err);
	assert_int_equal(fd, -1);
	assert_int_equal(err.code, NVB_ERR_NOT_FOUND);
	assert_non_null(strstr(err.message, "host path /usr/dangling"));
	fd = nvb_resolve_in_root(rootfd, "host", "/etc/passwd/x", 0, NULL, &err);
	assert_int_equal(fd, -1);
	assert_int_equal(err.code, NVB_ERR_NOT_FOUND);
	assert_non_null(strstr(err.message, "not a directory"));
	(void)state;
}

static void test_nofollow_last(void **state)
{
	struct nvb_error err;
	char *resolved = NULL;
	int fd = nvb_resolve_in_root(rootfd, "test", "/lib/x86_64-linux-gnu/libcuda.so.1",
				     NVB_RESOLVE_NOFOLLOW_LAST, &resolved, &err);
	assert_true(fd >= 0);
	struct stat st;
	assert_int_equal(fstat(fd, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	close(fd);
	assert_string_equal(resolved, "/usr/lib/x86_64-linux-gnu/libcuda.so.1");
	free(resolved);
	(void)state;
}

static void test_too_long(void **state)
{
	struct nvb_error err;
	char *path = malloc(NVB_PATH_MAX + 10);
	memset(path, 'a', NVB_PATH_MAX + 9);
	path[NVB_PATH_MAX + 9] = '\0';
	assert_int_equal(nvb_resolve_in_root(rootfd, "test", path, 0, NULL, &err), -1);
	assert_int_equal(err.code, NVB_ERR_INVALID);
	free(path);
	(void)state;
}

static void test_read_limit(void **state)
{
	struct nvb_error err;
	int fd = nvb_open_in_root(rootfd, "test", "/etc/passwd", O_RDONLY, NULL, &err);
	assert_true(fd >= 0);
	char *data = NULL;
	assert_int_equal(nvb_read_fd(fd, "/etc/passwd", 4, &data, NULL, &err), -1);
	assert_non_null(strstr(err.message, "/etc/passwd"));
	close(fd);
	(void)state;
}

static void test_host_handle(void **state)
{
	struct nvb_error err;
	struct nvb_host *host = nvb_host_open(root, &err);
	assert_non_null(host);
	char *data = NULL;
	assert_int_equal(nvb_host_read(host, "/usr/abs", 100, &data, NULL, &err), 0);
	assert_string_equal(data, "inside-root\n");
	free(data);
	char *outside = nvb_host_outside_path(host, "/etc/passwd");
	assert_true(nvb_str_has_prefix(outside, root));
	free(outside);
	nvb_host_free(host);
	assert_null(nvb_host_open("/nonexistent-root-dir", &err));
	assert_non_null(strstr(err.message, "/nonexistent-root-dir"));
	assert_true(err.hint[0] != '\0');
	(void)state;
}

static void test_caps_parse(void **state)
{
	struct nvb_error err;
	unsigned caps;
	assert_int_equal(nvb_caps_parse("compute,utility", &caps, &err), 0);
	assert_int_equal(caps, NVB_CAP_COMPUTE | NVB_CAP_UTILITY);
	assert_int_equal(nvb_caps_parse("all", &caps, &err), 0);
	assert_int_equal(caps, NVB_CAP_ALL);
	assert_int_equal(nvb_caps_parse(" graphics , display", &caps, &err), 0);
	assert_int_equal(caps, NVB_CAP_GRAPHICS | NVB_CAP_DISPLAY);
	assert_int_equal(nvb_caps_parse("", &caps, &err), 0);
	assert_int_equal(caps, 0);
	assert_int_equal(nvb_caps_parse("compute,gaming", &caps, &err), -1);
	assert_non_null(strstr(err.message, "gaming"));
	(void)state;
}

static void test_errors_and_levels(void **state)
{
	struct nvb_error err;
	nvb_error_clear(&err);
	assert_int_equal(nvb_error_errno(&err, ENOENT, NULL, "open %s", "/x"), -1);
	assert_int_equal(err.code, NVB_ERR_NOT_FOUND);
	assert_string_equal(err.message, "open /x: No such file or directory");
	nvb_error_prefix(&err, "spec %s", "a.json");
	assert_string_equal(err.message, "spec a.json: open /x: No such file or directory");
	assert_int_equal(nvb_error_errno(&err, EACCES, NULL, "open"), -1);
	assert_true(err.hint[0] != '\0');
	enum nvb_log_level l;
	assert_int_equal(nvb_log_level_parse("debug", &l), 0);
	assert_int_equal(l, NVB_LOG_DEBUG);
	assert_int_equal(nvb_log_level_parse("loud", &l), -1);
	enum nvb_log_format f;
	assert_int_equal(nvb_log_format_parse("json", &f), 0);
	assert_int_equal(nvb_log_format_parse("xml", &f), -1);
	assert_string_equal(nvb_errc_name(NVB_ERR_SECURITY), "security");
	(void)state;
}

static void test_array_push(void **state)
{
	int *arr = NULL;
	size_t n = 0;
	for (int i = 0; i < 1000; i++) {
		int *slot = nvb_array_push(&arr, &n, sizeof(int));
		assert_non_null(slot);
		*slot = i;
	}
	assert_int_equal(n, 1000);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(arr[i], i);
	free(arr);
	(void)state;
}

/* nvb_utc_tm is gmtime_r without the time zone file: the same fields from 1811 to 2223, and the
 * stamp's format. */
static void test_utc_tm(void **state)
{
	for (long long t = -5000000000LL; t < 8000000000LL; t += 86399 * 7 + 13) {
		struct tm a, b;
		time_t tt = (time_t)t;
		gmtime_r(&tt, &a);
		nvb_utc_tm(tt, &b);
		assert_int_equal(a.tm_year, b.tm_year);
		assert_int_equal(a.tm_mon, b.tm_mon);
		assert_int_equal(a.tm_mday, b.tm_mday);
		assert_int_equal(a.tm_hour, b.tm_hour);
		assert_int_equal(a.tm_min, b.tm_min);
		assert_int_equal(a.tm_sec, b.tm_sec);
	}
	char buf[32];
	nvb_utc_stamp((time_t)1795746007, buf, sizeof(buf));
	assert_string_equal(buf, "2026-11-27T02:20:07Z");
	nvb_utc_stamp((time_t)951782400, buf, sizeof(buf)); /* a leap day */
	assert_string_equal(buf, "2000-02-29T00:00:00Z");
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resolve_follows_links_inside),
		cmocka_unit_test(test_absolute_link_stays_in_root),
		cmocka_unit_test(test_dotdot_clamped),
		cmocka_unit_test(test_root_link),
		cmocka_unit_test(test_loop_is_error),
		cmocka_unit_test(test_dangling_and_missing),
		cmocka_unit_test(test_nofollow_last),
		cmocka_unit_test(test_too_long),
		cmocka_unit_test(test_read_limit),
		cmocka_unit_test(test_host_handle),
		cmocka_unit_test(test_caps_parse),
		cmocka_unit_test(test_errors_and_levels),
		cmocka_unit_test(test_array_push),
		cmocka_unit_test(test_utc_tm),
	};
	/* the kernel's openat2 path, then the user-space walk used where openat2 is missing */
	int failed = cmocka_run_group_tests_name("openat2", tests, setup, teardown);
	nvb_resolve_use_openat2(false);
	failed += cmocka_run_group_tests_name("user-space walk", tests, setup, teardown);
	return failed;
}
