/* SPDX-License-Identifier: Apache-2.0 */
/*
 * core's paths the suites did not run (tools/coverage.sh, docs/testing.md "Coverage"): the
 * file writers' failures (missing directory, a directory where the file goes, links that lead
 * nowhere or to a directory), the regular-file check's other file types, and the logger's
 * escaping, JSON format, log file and callback.
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

#include "core/core.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/nvb-covcore-XXXXXX");
	assert_non_null(mkdtemp(dir));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static char *at(const char *name)
{
	static char path[4][256];
	static int next;
	char *p = path[next++ % 4];
	snprintf(p, sizeof(path[0]), "%s/%s", dir, name);
	return p;
}

static char *slurp(const char *path)
{
	char *data = NULL;
	size_t len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(nvb_read_fd(fd, path, 1 << 20, &data, &len, NULL), 0);
	close(fd);
	return data;
}

/* Directories, FIFOs and devices are refused by name and by type, without blocking on the
 * FIFO; a missing file names the path and keeps errno. */
static void test_open_regular_types(void **state)
{
	(void)state;
	struct nvb_error err = {0};
	assert_int_equal(mkfifo(at("fifo"), 0600), 0);
	assert_int_equal(nvb_open_regular(AT_FDCWD, at("fifo"), 0, "CDI spec", &err), -1);
	assert_int_equal(err.code, NVB_ERR_INVALID);
	assert_non_null(strstr(err.message, "CDI spec"));
	assert_non_null(strstr(err.message, "is a FIFO, not a regular file"));

	assert_int_equal(nvb_open_regular(AT_FDCWD, dir, 0, "config", &err), -1);
	assert_non_null(strstr(err.message, "is a directory"));
	assert_int_equal(nvb_open_regular(AT_FDCWD, "/dev/null", 0, "config", &err), -1);
	assert_non_null(strstr(err.message, "/dev/null is a character device"));

	assert_int_equal(nvb_open_regular(AT_FDCWD, at("missing"), 0, "config", &err), -1);
	assert_int_equal(err.sys_errno, ENOENT);
	assert_non_null(strstr(err.message, "cannot open config"));
	assert_non_null(strstr(err.message, "missing"));

	assert_string_equal(nvb_file_type_name(S_IFSOCK), "a socket");
	assert_string_equal(nvb_file_type_name(S_IFBLK), "a block device");
	assert_string_equal(nvb_file_type_name(S_IFLNK), "a symbolic link");
	assert_string_equal(nvb_file_type_name(S_IFREG), "a regular file");
}

/* Writers fail with a message naming the directory or file: a missing parent (with the hint),
 * a directory that takes no new files (/proc), an existing directory at the file's name. */
static void test_write_failures(void **state)
{
	(void)state;
	struct nvb_error err = {0};
	assert_int_equal(nvb_write_file_atomic(at("no/such/spec.json"), "x", 1, 0644, &err), -1);
	assert_int_equal(err.sys_errno, ENOENT);
	assert_non_null(strstr(err.message, "cannot open directory"));
	assert_non_null(strstr(err.message, "no/such"));
	assert_non_null(strstr(err.hint, "create the directory first"));

	assert_int_equal(nvb_write_file_replace("/proc/self/nvb-test", "x", 1, 0644, &err), -1);
	assert_non_null(strstr(err.message, "cannot create a temporary file in /proc/self"));

	assert_int_equal(mkdir(at("taken"), 0755), 0);
	assert_int_equal(mkdir(at("taken/child"), 0755), 0);
	assert_int_equal(nvb_write_file_replace(at("taken"), "x", 1, 0644, &err), -1);
	assert_non_null(strstr(err.message, "cannot replace"));
	assert_non_null(strstr(err.message, "taken"));
	/* the temporary file did not stay behind */
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "test $(ls -A '%s' | grep -c '\\.tmp\\.') -eq 0", dir);
	assert_int_equal(system(cmd), 0);

	/* a relative name is written in the current directory */
	char cwd[256];
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(dir), 0);
	assert_int_equal(nvb_write_file_atomic("rel.txt", "rel", 3, 0600, &err), 0);
	assert_int_equal(chdir(cwd), 0);
	char *text = slurp(at("rel.txt"));
	assert_string_equal(text, "rel");
	free(text);
}

/* nvb_write_file_through: a link is followed and kept (the file it names keeps its mode), a
 * dangling link and a link to a directory are refused naming both, a path under a regular
 * file fails naming the path. */
static void test_write_through_links(void **state)
{
	(void)state;
	struct nvb_error err = {0};
	assert_int_equal(nvb_write_file_atomic(at("real.json"), "{}", 2, 0640, &err), 0);
	assert_int_equal(symlink(at("real.json"), at("daemon.json")), 0);
	assert_int_equal(nvb_write_file_through(at("daemon.json"), "{\"a\":1}", 7, 0644, &err), 0);
	struct stat st;
	assert_int_equal(lstat(at("daemon.json"), &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	assert_int_equal(stat(at("real.json"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	char *text = slurp(at("real.json"));
	assert_string_equal(text, "{\"a\":1}");
	free(text);

	assert_int_equal(symlink(at("nowhere"), at("dangling")), 0);
	assert_int_equal(nvb_write_file_through(at("dangling"), "x", 1, 0644, &err), -1);
	assert_non_null(strstr(err.message, "dangling is a symbolic link to a file that cannot be resolved"));
	assert_non_null(strstr(err.hint, "fix or remove the symbolic link"));

	assert_int_equal(mkdir(at("d"), 0755), 0);
	assert_int_equal(symlink(at("d"), at("to-dir")), 0);
	assert_int_equal(nvb_write_file_through(at("to-dir"), "x", 1, 0644, &err), -1);
	assert_int_equal(err.code, NVB_ERR_INVALID);
	assert_non_null(strstr(err.message, "(where the link "));
	assert_non_null(strstr(err.message, "is a directory: refusing to replace it"));

	assert_int_equal(nvb_write_file_through("/dev/null", "x", 1, 0644, &err), -1);
	assert_non_null(strstr(err.message, "/dev/null is a character device"));

	assert_int_equal(nvb_write_file_through(at("real.json/x"), "x", 1, 0644, &err), -1);
	assert_int_equal(err.sys_errno, ENOTDIR);
	assert_non_null(strstr(err.message, "cannot replace"));

	/* a new file through a path that does not exist yet */
	assert_int_equal(nvb_write_file_through(at("new.json"), "n", 1, 0600, &err), 0);
	assert_int_equal(stat(at("new.json"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
}

static char seen[512];
static enum nvb_log_level seen_level;

static void record(enum nvb_log_level level, const char *module, const char *message, void *data)
{
	seen_level = level;
	snprintf(seen, sizeof(seen), "%s|%s|%s", module, message, (const char *)data);
}

/* The callback gets the message with control characters escaped (a container's value cannot
 * start a forged line); JSON lines escape quotes, backslashes and control characters; text
 * lines escape tabs, returns and DEL. */
static void test_log_formats(void **state)
{
	(void)state;
	enum nvb_log_level lvl;
	assert_int_equal(nvb_log_level_parse("WARNING", &lvl), 0);
	assert_int_equal(lvl, NVB_LOG_WARN);
	assert_int_equal(nvb_log_level_parse("debug", &lvl), 0);
	assert_int_equal(lvl, NVB_LOG_DEBUG);
	assert_int_equal(nvb_log_level_parse("chatty", &lvl), -1);
	enum nvb_log_format fmt;
	assert_int_equal(nvb_log_format_parse("json", &fmt), 0);
	assert_int_equal(fmt, NVB_LOG_JSON);
	assert_int_equal(nvb_log_format_parse("text", &fmt), 0);
	assert_int_equal(fmt, NVB_LOG_TEXT);
	assert_int_equal(nvb_log_format_parse("xml", &fmt), -1);

	struct nvb_error err = {0};
	assert_int_equal(nvb_log_setup(NVB_LOG_INFO, NVB_LOG_TEXT, at("no/dir/log"), &err), -1);
	assert_non_null(strstr(err.message, "cannot open log file"));
	assert_non_null(strstr(err.hint, "--log-file"));

	nvb_log_set_callback(record, "ud");
	nvb_log_set_level(NVB_LOG_INFO);
	nvb_warn("cdi", "line\nforged\x01");
	assert_int_equal(seen_level, NVB_LOG_WARN);
	assert_string_equal(seen, "cdi|line\\nforged\\x01|ud");
	seen[0] = '\0';
	nvb_debug("cdi", "below the level");
	assert_string_equal(seen, "");
	nvb_log_set_callback(NULL, NULL);

	assert_int_equal(nvb_log_setup(NVB_LOG_INFO, NVB_LOG_JSON, at("log.json"), &err), 0);
	nvb_info("oci", "say \"hi\" \\ \x02");
	assert_int_equal(nvb_log_setup(NVB_LOG_INFO, NVB_LOG_TEXT, at("log.txt"), &err), 0);
	nvb_info("oci", "tab\tcr\rdel\x7f");
	assert_int_equal(nvb_log_setup(NVB_LOG_WARN, NVB_LOG_TEXT, "-", &err), 0);

	char *json = slurp(at("log.json"));
	assert_non_null(strstr(json, "\"level\":\"info\","));
	assert_non_null(strstr(json, "\"module\":\"oci\","));
	assert_non_null(strstr(json, "\"msg\":\"say \\\"hi\\\" \\\\ \\u0002\"}\n"));
	free(json);
	char *text = slurp(at("log.txt"));
	assert_non_null(strstr(text, "oci: tab\\tcr\\rdel\\x7f\n"));
	assert_null(strstr(text, "\"msg\""));
	free(text);
}

/* The host root: a missing one names the root and hints at --root; "/" maps paths unchanged,
 * another root prefixes them; the sibling program falls back to the directory given. */
static void test_host_root(void **state)
{
	(void)state;
	struct nvb_error err = {0};
	assert_null(nvb_host_open(at("absent-root"), &err));
	assert_int_equal(err.sys_errno, ENOENT);
	assert_non_null(strstr(err.message, "host root"));
	assert_non_null(strstr(err.hint, "--root"));

	struct nvb_host *h = nvb_host_open(NULL, &err);
	assert_non_null(h);
	assert_string_equal(nvb_host_root(h), "/");
	char *p = nvb_host_outside_path(h, "/etc/x");
	assert_string_equal(p, "/etc/x");
	free(p);
	nvb_host_free(h);

	h = nvb_host_open(dir, &err);
	assert_non_null(h);
	p = nvb_host_outside_path(h, "/etc/x");
	char want[256];
	snprintf(want, sizeof(want), "%s/etc/x", dir);
	assert_string_equal(p, want);
	free(p);
	nvb_host_free(h);
	nvb_host_free(NULL);

	p = nvb_sibling_program("no-such-nvb-program", "/usr/libexec/nvbind");
	assert_string_equal(p, "/usr/libexec/nvbind/no-such-nvb-program");
	free(p);
	assert_non_null(nvb_version());
	assert_true(strlen(nvb_version()) > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_regular_types, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_failures, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_through_links, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log_formats, setup, teardown),
		cmocka_unit_test_setup_teardown(test_host_root, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
