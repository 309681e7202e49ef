/* SPDX-License-Identifier: Apache-2.0 */
/* Engine configuration edits: daemon.json and containers.conf keep the user's settings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <fcntl.h>
#include <jansson.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/engines.h"
#include "config/toml.h"

#define RT "/usr/local/bin/nvbind-runtime"

static void test_docker_new_file(void **state)
{
	struct nvb_error err;
	bool changed;
	char *out = nvb_docker_register(NULL, "daemon.json", RT, false, &changed, &err);
	assert_non_null(out);
	assert_true(changed);
	json_t *j = json_loads(out, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(j, "runtimes"), "nvbind"), "path")), RT);
	assert_null(json_object_get(j, "default-runtime"));
	json_decref(j);
	free(out);
	(void)state;
}

static void test_docker_keeps_settings(void **state)
{
	const char *in = "{\"log-level\":\"warn\",\"runtimes\":{\"crun\":{\"path\":\"/usr/bin/crun\","
			 "\"runtimeArgs\":[\"--x\"]}},\"default-runtime\":\"crun\",\"data-root\":\"/d\"}";
	struct nvb_error err;
	bool changed;
	char *out = nvb_docker_register(in, "daemon.json", RT, true, &changed, &err);
	assert_non_null(out);
	assert_true(changed);
	json_t *j = json_loads(out, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(j, "log-level")), "warn");
	assert_string_equal(json_string_value(json_object_get(j, "data-root")), "/d");
	assert_non_null(json_object_get(json_object_get(j, "runtimes"), "crun"));
	assert_string_equal(json_string_value(json_object_get(j, "default-runtime")), "nvbind");
	json_decref(j);
	/* idempotent */
	char *again = nvb_docker_register(out, "daemon.json", RT, true, &changed, &err);
	assert_false(changed);
	free(again);
	free(out);
	(void)state;
}

static void test_docker_refuses(void **state)
{
	struct nvb_error err;
	bool changed;
	const char *bad[] = {"{\"a\":", "[1]", "{\"runtimes\": []}", "{\"a\":1,\"a\":2}", "nope"};
	for (size_t i = 0; i < NVB_ARRAY_SIZE(bad); i++) {
		assert_null(nvb_docker_register(bad[i], "/etc/docker/daemon.json", RT, false, &changed, &err));
		assert_non_null(strstr(err.message, "/etc/docker/daemon.json"));
		assert_non_null(strstr(err.message, "refusing to rewrite"));
	}
	(void)state;
}

/* Numbers stay as the user wrote them: jansson would write 0.1 as 0.10000000000000001 and
 * refuses uint64 ulimits altogether. */
static void test_docker_keeps_numbers(void **state)
{
	const char *in = "{\n    \"max-concurrent-downloads\": 3,\n    \"x\": 0.1,\n    \"y\": 1.0,\n"
			 "    \"z\": 1e-7,\n    \"default-ulimits\": {\n        \"memlock\": {\n"
			 "            \"Name\": \"memlock\",\n            \"Hard\": 18446744073709551615,\n"
			 "            \"Soft\": -1\n        }\n    }\n}\n";
	struct nvb_error err;
	bool changed;
	char *out = nvb_docker_register(in, "daemon.json", RT, false, &changed, &err);
	if (!out)
		fail_msg("%s", err.message);
	assert_true(changed);
	assert_non_null(strstr(out, "\"x\": 0.1,"));
	assert_non_null(strstr(out, "\"y\": 1.0,"));
	assert_non_null(strstr(out, "\"z\": 1e-7,"));
	assert_non_null(strstr(out, "\"max-concurrent-downloads\": 3,"));
	assert_non_null(strstr(out, "\"Hard\": 18446744073709551615,"));
	assert_non_null(strstr(out, "\"Soft\": -1"));
	assert_null(strstr(out, "nvbind-number"));
	/* the old text and the new one differ only by the runtime */
	char *diff = nvb_text_diff(in, out, "old", "new");
	assert_null(strstr(diff, "\n-"));
	free(diff);
	free(out);
	(void)state;
}

static char tmp[256];

static int tmp_setup(void **state)
{
	snprintf(tmp, sizeof(tmp), "/tmp/nvb-engines-XXXXXX");
	assert_non_null(mkdtemp(tmp));
	(void)state;
	return 0;
}

static int tmp_teardown(void **state)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	assert_int_equal(system(cmd), 0);
	(void)state;
	return 0;
}

/* setup docker on a daemon.json that is a symbolic link (configuration management): the file
 * it names is updated, with its owner and mode, and the link stays. */
static void test_docker_symlink_written_through(void **state)
{
	char real[300], link[300], dir[300];
	snprintf(dir, sizeof(dir), "%s/managed", tmp);
	snprintf(real, sizeof(real), "%s/managed/daemon.json", tmp);
	snprintf(link, sizeof(link), "%s/daemon.json", tmp);
	assert_int_equal(mkdir(dir, 0755), 0);
	FILE *f = fopen(real, "w");
	assert_non_null(f);
	fputs("{\"debug\": true}\n", f);
	fclose(f);
	assert_int_equal(chmod(real, 0640), 0);
	assert_int_equal(chown(real, 1234, 5678), 0);
	assert_int_equal(symlink("managed/daemon.json", link), 0);

	char *old = NULL;
	unsigned mode;
	bool exists, changed;
	struct nvb_error err;
	assert_int_equal(nvb_engine_config_read(link, &old, &mode, &exists, &err), 0);
	assert_true(exists);
	char *new_text = nvb_docker_register(old, link, RT, true, &changed, &err);
	assert_non_null(new_text);
	char *backup = NULL;
	if (nvb_engine_config_write(link, old, new_text, mode, exists, &backup, &err) < 0)
		fail_msg("%s", err.message);
	struct stat st;
	assert_int_equal(lstat(link, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	assert_int_equal(stat(real, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_int_equal(st.st_uid, 1234);
	assert_int_equal(st.st_gid, 5678);
	char *text = NULL;
	assert_int_equal(nvb_engine_config_read(real, &text, &mode, &exists, &err), 0);
	assert_string_equal(text, new_text);
	assert_non_null(backup);
	assert_true(nvb_str_has_prefix(backup, link));
	free(text);
	free(backup);
	free(new_text);
	free(old);

	/* a link to nothing: refused, with the link named */
	assert_int_equal(unlink(link), 0);
	assert_int_equal(symlink("managed/missing.json", link), 0);
	assert_int_equal(nvb_engine_config_write(link, "", "{}\n", 0644, false, &backup, &err), -1);
	assert_non_null(strstr(err.message, link));
	assert_non_null(strstr(err.message, "symbolic link"));
	(void)state;
}

/* A FIFO in place of daemon.json: an error at once, not a hang. */
static void test_engine_config_fifo(void **state)
{
	char path[300];
	snprintf(path, sizeof(path), "%s/daemon.json", tmp);
	assert_int_equal(mkfifo(path, 0644), 0);
	char *text = NULL;
	unsigned mode;
	bool exists;
	struct nvb_error err;
	alarm(10);
	assert_int_equal(nvb_engine_config_read(path, &text, &mode, &exists, &err), -1);
	alarm(0);
	assert_non_null(strstr(err.message, path));
	assert_non_null(strstr(err.message, "a FIFO"));
	/* and a missing file is still "no file yet" */
	snprintf(path, sizeof(path), "%s/none.json", tmp);
	assert_int_equal(nvb_engine_config_read(path, &text, &mode, &exists, &err), 0);
	assert_false(exists);
	free(text);
	(void)state;
}

static const char *podman_get_runtime(const char *text)
{
	static char buf[256];
	struct nvb_error err;
	struct nvb_toml_value *root = nvb_toml_parse(text, strlen(text), "t", &err);
	assert_non_null(root);
	const struct nvb_toml_value *v =
		nvb_toml_get(nvb_toml_get(nvb_toml_get(root, "engine"), "runtimes"), "nvbind");
	snprintf(buf, sizeof(buf), "%s", v && v->n ? v->items[0]->v.s : "");
	nvb_toml_free(root);
	return buf;
}

static void test_podman_layouts(void **state)
{
	const char *cases[] = {
		"",
		"# only a comment\n",
		"[containers]\ndefault_ulimits = []\n",
		"[engine]\ncgroup_manager = \"cgroupfs\"\n",
		"[engine.runtimes]\ncrun = [\"/usr/bin/crun\"]\n",
		"[engine]\nruntime = \"crun\"\n[engine.runtimes]\nnvbind = [\"/old/path\"]\n",
		"[engine.runtimes.crun]\n", /* not valid containers.conf but valid TOML: sub-table only */
		"[engine]\nx = 1", /* no final newline */
	};
	for (size_t i = 0; i < NVB_ARRAY_SIZE(cases); i++) {
		struct nvb_error err;
		bool changed;
		char *out = nvb_podman_register(cases[i], "containers.conf", RT, true, &changed, &err);
		if (!out)
			fail_msg("case %zu: %s", i, err.message);
		assert_true(changed);
		assert_string_equal(podman_get_runtime(out), RT);
		assert_non_null(strstr(out, "runtime = \"nvbind\""));
		/* what was there stays */
		if (strstr(cases[i], "cgroupfs"))
			assert_non_null(strstr(out, "cgroup_manager = \"cgroupfs\""));
		if (strstr(cases[i], "# only a comment"))
			assert_non_null(strstr(out, "# only a comment"));
		char *again = nvb_podman_register(out, "containers.conf", RT, true, &changed, &err);
		assert_non_null(again);
		assert_false(changed);
		free(again);
		free(out);
	}
	(void)state;
}

static void test_podman_refuses(void **state)
{
	struct nvb_error err;
	bool changed;
	const char *bad[] = {"[engine\n", "engine = 1\n", "[engine]\nruntimes = 3\n", "a = \"\n"};
	for (size_t i = 0; i < NVB_ARRAY_SIZE(bad); i++) {
		char *out = nvb_podman_register(bad[i], "/etc/containers/containers.conf", RT, false, &changed, &err);
		assert_null(out);
		assert_non_null(strstr(err.message, "/etc/containers/containers.conf"));
	}
	/* a multi-line value nvbind will not edit */
	assert_null(nvb_podman_register("[engine.runtimes]\nnvbind = [\n \"/x\",\n]\n", "c", RT, false, &changed, &err));
	assert_non_null(strstr(err.message, "several lines"));
	(void)state;
}

static void test_diff(void **state)
{
	char *d = nvb_text_diff("a\nb\nc\n", "a\nx\nc\n", "old", "new");
	assert_non_null(d);
	assert_string_equal(d, "--- old\n+++ new\n a\n+x\n-b\n c\n");
	free(d);
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_docker_new_file),  cmocka_unit_test(test_docker_keeps_settings),
		cmocka_unit_test(test_docker_refuses),   cmocka_unit_test(test_podman_layouts),
		cmocka_unit_test(test_podman_refuses),   cmocka_unit_test(test_diff),
		cmocka_unit_test(test_docker_keeps_numbers),
		cmocka_unit_test_setup_teardown(test_docker_symlink_written_through, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_engine_config_fifo, tmp_setup, tmp_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
