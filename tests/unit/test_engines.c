/* SPDX-License-Identifier: Apache-2.0 */
/* Engine configuration edits: daemon.json and containers.conf keep the user's settings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <jansson.h>

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
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
