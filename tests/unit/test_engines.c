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

#include "engines/cmdline.h"
#include "engines/engines.h"
#include "format/toml.h"

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
	/* the old text is kept up to its last value; the runtime follows it */
	size_t keep = strlen(in) - strlen("\n}\n");
	assert_memory_equal(out, in, keep);
	assert_true(nvb_str_has_prefix(out + keep, ",\n    \"runtimes\": {\n"));
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

/* Run one docker edit and compare the whole result, byte for byte. */
static void expect_docker(const char *in, bool make_default, bool cdi, const char *want)
{
	struct nvb_docker_options opt = {.runtime_path = RT, .make_default = make_default, .cdi = cdi};
	struct nvb_error err;
	bool changed;
	char *out = nvb_docker_edit(in, "daemon.json", &opt, &changed, &err);
	if (!out)
		fail_msg("%s", err.message);
	assert_string_equal(out, want);
	assert_true(changed);
	/* the result is already what was asked: no change the second time */
	char *again = nvb_docker_edit(out, "daemon.json", &opt, &changed, &err);
	assert_non_null(again);
	assert_false(changed);
	assert_string_equal(again, out);
	free(again);
	free(out);
}

static void test_docker_two_spaces(void **state)
{
	expect_docker("{\n  \"log-level\": \"warn\",\n  \"runtimes\": {\n    \"crun\": {\n"
		      "      \"path\": \"/usr/bin/crun\"\n    }\n  }\n}\n",
		      false, false,
		      "{\n  \"log-level\": \"warn\",\n  \"runtimes\": {\n    \"crun\": {\n"
		      "      \"path\": \"/usr/bin/crun\"\n    },\n    \"nvbind\": {\n"
		      "      \"path\": \"" RT "\"\n    }\n  }\n}\n");
	/* no runtimes yet: the whole object, two spaces a level */
	expect_docker("{\n  \"debug\": true\n}\n", false, false,
		      "{\n  \"debug\": true,\n  \"runtimes\": {\n    \"nvbind\": {\n"
		      "      \"path\": \"" RT "\"\n    }\n  }\n}\n");
	(void)state;
}

static void test_docker_four_spaces(void **state)
{
	expect_docker("{\n    \"data-root\": \"/d\",\n    \"x\": [1, 2],\n    \"y\": {}\n}\n", false, false,
		      "{\n    \"data-root\": \"/d\",\n    \"x\": [1, 2],\n    \"y\": {},\n"
		      "    \"runtimes\": {\n        \"nvbind\": {\n            \"path\": \"" RT "\"\n"
		      "        }\n    }\n}\n");
	/* no file, or an empty object: four spaces */
	expect_docker("", false, false,
		      "{\n    \"runtimes\": {\n        \"nvbind\": {\n            \"path\": \"" RT
		      "\"\n        }\n    }\n}\n");
	expect_docker("{}", false, false,
		      "{\n    \"runtimes\": {\n        \"nvbind\": {\n            \"path\": \"" RT
		      "\"\n        }\n    }\n}");
	/* an empty "runtimes" in a multi-line file is opened out */
	expect_docker("{\n    \"runtimes\": {}\n}\n", false, false,
		      "{\n    \"runtimes\": {\n        \"nvbind\": {\n            \"path\": \"" RT
		      "\"\n        }\n    }\n}\n");
	(void)state;
}

static void test_docker_tabs(void **state)
{
	expect_docker("{\n\t\"debug\": true,\n\t\"runtimes\": {\n\t}\n}\n", true, false,
		      "{\n\t\"debug\": true,\n\t\"runtimes\": {\n\t\t\"nvbind\": {\n\t\t\t\"path\": \"" RT
		      "\"\n\t\t}\n\t},\n\t\"default-runtime\": \"nvbind\"\n}\n");
	(void)state;
}

static void test_docker_inline(void **state)
{
	expect_docker("{\"debug\": true, \"log-opts\": {\"max-size\": \"10m\"}}\n", false, false,
		      "{\"debug\": true, \"log-opts\": {\"max-size\": \"10m\"}, \"runtimes\": "
		      "{\"nvbind\": {\"path\": \"" RT "\"}}}\n");
	/* compact, without a final newline: stays compact, still without one */
	expect_docker("{\"debug\":true}", true, true,
		      "{\"debug\":true,\"runtimes\":{\"nvbind\":{\"path\":\"" RT "\"}},"
		      "\"default-runtime\":\"nvbind\",\"features\":{\"cdi\":true}}");
	/* padded braces */
	expect_docker("{ \"debug\": true, \"runtimes\": {} }\n", false, false,
		      "{ \"debug\": true, \"runtimes\": { \"nvbind\": { \"path\": \"" RT "\" } } }\n");
	(void)state;
}

static void test_docker_odd_spacing(void **state)
{
	/* the first member on the brace's line, spaces before the colon, the closing brace after
	 * the last value: the new members follow the last one's indentation and the colon style */
	expect_docker("{ \"a\" :1 ,\n   \"b\":   2 }\n", false, false,
		      "{ \"a\" :1 ,\n   \"b\":   2,\n   \"runtimes\" :{\n       \"nvbind\" :{\n"
		      "           \"path\" :\"" RT "\"\n       }\n   } }\n");
	/* blank lines and trailing spaces stay where they are */
	expect_docker("\n{\n\n  \"a\": 1   \n\n}  \n\n", false, false,
		      "\n{\n\n  \"a\": 1,\n  \"runtimes\": {\n    \"nvbind\": {\n      \"path\": \"" RT
		      "\"\n    }\n  }   \n\n}  \n\n");
	(void)state;
}

static void test_docker_default(void **state)
{
	/* an existing default-runtime: only its value changes, in place */
	expect_docker("{\n  \"default-runtime\": \"runc\",\n  \"runtimes\": {\"nvbind\": {\"path\": \"" RT
		      "\"}},\n  \"debug\": false\n}\n",
		      true, false,
		      "{\n  \"default-runtime\": \"nvbind\",\n  \"runtimes\": {\"nvbind\": {\"path\": \"" RT
		      "\"}},\n  \"debug\": false\n}\n");
	/* none yet: added last */
	expect_docker("{\n  \"runtimes\": {\"nvbind\": {\"path\": \"" RT "\"}}\n}\n", true, false,
		      "{\n  \"runtimes\": {\"nvbind\": {\"path\": \"" RT "\"}},\n"
		      "  \"default-runtime\": \"nvbind\"\n}\n");
	(void)state;
}

static void test_docker_cdi_merge(void **state)
{
	/* into an existing "features", which keeps its other flags */
	expect_docker("{\n  \"features\": {\n    \"buildkit\": true\n  },\n  \"runtimes\": {\"nvbind\": "
		      "{\"path\": \"" RT "\"}}\n}\n",
		      false, true,
		      "{\n  \"features\": {\n    \"buildkit\": true,\n    \"cdi\": true\n  },\n"
		      "  \"runtimes\": {\"nvbind\": {\"path\": \"" RT "\"}}\n}\n");
	/* cdi turned off by the user: switched on in place */
	expect_docker("{\"features\": {\"cdi\": false, \"buildkit\": true}, \"runtimes\": {\"nvbind\": "
		      "{\"path\": \"" RT "\"}}}",
		      false, true,
		      "{\"features\": {\"cdi\": true, \"buildkit\": true}, \"runtimes\": {\"nvbind\": "
		      "{\"path\": \"" RT "\"}}}");
	/* "features" that is not an object is refused, untouched */
	struct nvb_docker_options opt = {.runtime_path = RT, .cdi = true};
	struct nvb_error err;
	bool changed;
	assert_null(nvb_docker_edit("{\"features\": [\"cdi\"]}", "/etc/docker/daemon.json", &opt, &changed, &err));
	assert_non_null(strstr(err.message, "\"features\" is not a JSON object"));
	(void)state;
}

/* The nvbind entry: its path is replaced in place (other settings of the entry stay), an
 * escaped key is the same key, an entry that is not an object is replaced. */
static void test_docker_entry_edits(void **state)
{
	expect_docker("{\n  \"runtimes\": {\n    \"nvbind\": {\n      \"runtimeArgs\": [\"--debug\"],\n"
		      "      \"path\": \"/old\"\n    }\n  }\n}\n",
		      false, false,
		      "{\n  \"runtimes\": {\n    \"nvbind\": {\n      \"runtimeArgs\": [\"--debug\"],\n"
		      "      \"path\": \"" RT "\"\n    }\n  }\n}\n");
	expect_docker("{\"runtimes\": {\"nvbin\\u0064\": {\"path\": \"/old\"}}}\n", false, false,
		      "{\"runtimes\": {\"nvbin\\u0064\": {\"path\": \"" RT "\"}}}\n");
	expect_docker("{\n  \"runtimes\": {\n    \"nvbind\": \"/old\"\n  }\n}\n", false, false,
		      "{\n  \"runtimes\": {\n    \"nvbind\": {\n      \"path\": \"" RT "\"\n    }\n"
		      "  }\n}\n");
	/* a file that does not parse: FILE:LINE:COLUMN */
	struct nvb_docker_options opt = {.runtime_path = RT};
	struct nvb_error err;
	bool changed;
	assert_null(nvb_docker_edit("{\n  \"a\": 1,\n  \"b\" 2\n}\n", "/etc/docker/daemon.json", &opt, &changed, &err));
	assert_non_null(strstr(err.message, "/etc/docker/daemon.json:3:"));
	assert_non_null(strstr(err.message, "refusing to rewrite a file nvbind cannot parse"));
	(void)state;
}

/* Every layout jansson can write, with strings holding braces, quotes and escapes: the members
 * are only added, after the last one; what comes before and after stays as it was. */
static void test_docker_layouts(void **state)
{
	json_t *doc = json_pack("{s:s, s:{s:[i, s, {}], s:{s:s}}, s:[], s:s, s:b}", "log-level",
				"warn", "x", "a", 1, "}{\"", "b", "k", "{\"runtimes\": {}}", "empty", "esc",
				"\u00e9\t\\", "debug", true);
	assert_non_null(doc);
	size_t flags[] = {JSON_COMPACT, 0, JSON_INDENT(1), JSON_INDENT(2), JSON_INDENT(3),
			  JSON_INDENT(4), JSON_INDENT(8), JSON_INDENT(2) | JSON_COMPACT};
	for (size_t f = 0; f < NVB_ARRAY_SIZE(flags); f++)
		for (int opts = 0; opts < 4; opts++) {
			char *in = json_dumps(doc, flags[f] | JSON_PRESERVE_ORDER);
			assert_non_null(in);
			struct nvb_docker_options opt = {.runtime_path = RT, .make_default = opts & 1,
							 .cdi = opts & 2};
			struct nvb_error err;
			bool changed;
			char *out = nvb_docker_edit(in, "daemon.json", &opt, &changed, &err);
			if (!out)
				fail_msg("flags %zx: %s", flags[f], err.message);
			assert_true(changed);
			/* the old text up to its last value is the start of the new one, its closing
			 * brace (and what precedes it on its line) the end */
			size_t close = strlen(in) - 1, keep = close;
			while (keep > 0 && strchr(" \t\n", in[keep - 1]))
				keep--;
			assert_memory_equal(out, in, keep);
			assert_true(nvb_str_has_suffix(out, in + keep));
			json_t *j = json_loads(out, 0, NULL);
			assert_non_null(j);
			assert_true(json_equal(json_object_get(j, "x"), json_object_get(doc, "x")));
			assert_int_equal(json_object_size(j), json_object_size(doc) + 1 + (opts & 1) + !!(opts & 2));
			json_decref(j);
			free(out);
			free(in);
		}
	json_decref(doc);
	(void)state;
}

static void test_docker_crlf(void **state)
{
	expect_docker("{\r\n  \"debug\": true\r\n}\r\n", false, false,
		      "{\r\n  \"debug\": true,\r\n  \"runtimes\": {\r\n    \"nvbind\": {\r\n"
		      "      \"path\": \"" RT "\"\r\n    }\r\n  }\r\n}\r\n");
	(void)state;
}

static void test_diff(void **state)
{
	char *d = nvb_text_diff("a\nb\nc\n", "a\nx\nc\n", "old", "new");
	assert_non_null(d);
	assert_string_equal(d, "--- old\n+++ new\n@@ -1,3 +1,3 @@\n a\n-b\n+x\n c\n");
	free(d);
	/* equal texts: nothing */
	d = nvb_text_diff("a\n", "a\n", "old", "new");
	assert_string_equal(d, "");
	free(d);
	(void)state;
}

/* GNU diff -u's hunks: 3 lines of context, changes at most 6 lines apart share a hunk, a
 * count of 1 is not written, an empty side names the line before it. */
static void test_diff_hunks(void **state)
{
	char *d = nvb_text_diff("1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n14\n15\n16\n17\n18\n19\n20\n",
				"1\nX\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n14\n15\n16\n17\n18\n19\n20\nY\n",
				"a", "b");
	assert_string_equal(d, "--- a\n+++ b\n@@ -1,5 +1,5 @@\n 1\n-2\n+X\n 3\n 4\n 5\n"
			       "@@ -18,3 +18,4 @@\n 18\n 19\n 20\n+Y\n");
	free(d);
	d = nvb_text_diff("1\n2\n3\n4\n5\n6\n7\n8\n9\n", "1\nX\n3\n4\n5\n6\n7\n8\nY\n", "a", "b");
	assert_string_equal(d, "--- a\n+++ b\n@@ -1,9 +1,9 @@\n 1\n-2\n+X\n 3\n 4\n 5\n 6\n 7\n 8\n"
			       "-9\n+Y\n");
	free(d);
	d = nvb_text_diff("", "{\n}\n", "a", "b");
	assert_string_equal(d, "--- a\n+++ b\n@@ -0,0 +1,2 @@\n+{\n+}\n");
	free(d);
	d = nvb_text_diff("x\ny\n", "y\n", "a", "b");
	assert_string_equal(d, "--- a\n+++ b\n@@ -1,2 +1 @@\n-x\n y\n");
	free(d);
	/* only the final newline differs */
	d = nvb_text_diff("{}", "{}\n", "a", "b");
	assert_string_equal(d, "--- a\n+++ b\n@@ -1 +1 @@\n-{}\n\\ No newline at end of file\n+{}\n");
	free(d);
	(void)state;
}

/* containers.conf: only the lines of the two keys change; a replaced value keeps its key as
 * written, its spacing and its comment; a CRLF file stays CRLF. */
static void test_podman_keeps_lines(void **state)
{
	const char *in = "# containers.conf\n[containers]\ndefault_ulimits = []\n\n[engine]\n"
			 "  cgroup_manager = \"cgroupfs\"   # managed\n  runtime = \"crun\"  # the default\n\n"
			 "[engine.runtimes]\n# nvbind was here\nnvbind = [ \"/old\" ]   # old\n"
			 "crun = [\"/usr/bin/crun\"]\n";
	const char *want = "# containers.conf\n[containers]\ndefault_ulimits = []\n\n[engine]\n"
			   "  cgroup_manager = \"cgroupfs\"   # managed\n  runtime = \"nvbind\"  # the default\n\n"
			   "[engine.runtimes]\n# nvbind was here\nnvbind = [\"" RT "\"]   # old\n"
			   "crun = [\"/usr/bin/crun\"]\n";
	struct nvb_error err;
	bool changed;
	char *out = nvb_podman_register(in, "containers.conf", RT, true, &changed, &err);
	if (!out)
		fail_msg("%s", err.message);
	assert_string_equal(out, want);
	free(out);
	/* a dotted key is set where it is */
	out = nvb_podman_register("[engine]\nruntimes.nvbind = [\"/x\"] # c\n", "c", RT, false, &changed, &err);
	assert_non_null(out);
	assert_string_equal(out, "[engine]\nruntimes.nvbind = [\"" RT "\"] # c\n");
	free(out);
	/* new lines go after the header; CRLF stays CRLF */
	out = nvb_podman_register("[engine]\r\nruntime = \"crun\"\r\n", "c", RT, true, &changed, &err);
	assert_non_null(out);
	assert_string_equal(out, "[engine]\r\nruntime = \"nvbind\"\r\n\r\n[engine.runtimes]\r\n"
				 "nvbind = [\"" RT "\"]\r\n");
	free(out);
	out = nvb_podman_register("# top\n[engine.runtimes]\n# keep\ncrun = []\n", "c", RT, false, &changed, &err);
	assert_non_null(out);
	assert_string_equal(out, "# top\n[engine.runtimes]\nnvbind = [\"" RT "\"]\n# keep\ncrun = []\n");
	free(out);
	(void)state;
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static char *read_text(const char *path)
{
	char *text = NULL;
	unsigned mode;
	bool exists;
	struct nvb_error err;
	assert_int_equal(nvb_engine_config_read(path, &text, &mode, &exists, &err), 0);
	assert_true(exists);
	return text;
}

/* setup, then undo: the newest backup (by its stamp, then its -N) comes back byte for byte,
 * with the file's owner and mode; no backup is an error that says so. */
static void test_undo(void **state)
{
	char path[300], b[400];
	snprintf(path, sizeof(path), "%s/daemon.json", tmp);
	struct nvb_error err;
	assert_null(nvb_engine_config_latest_backup(path, &err));
	assert_int_equal(err.code, NVB_ERR_NOT_FOUND);
	assert_non_null(strstr(err.message, "no backup"));
	assert_non_null(strstr(err.message, path));

	const char *orig = "{\n  \"debug\": true\n}\n";
	write_text(path, orig);
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(chown(path, 4321, 8765), 0);
	char *old = read_text(path);
	bool changed;
	struct nvb_docker_options opt = {.runtime_path = RT, .make_default = true, .cdi = true};
	char *new_text = nvb_docker_edit(old, path, &opt, &changed, &err);
	assert_non_null(new_text);
	char *backup = NULL;
	unsigned mode = 0600;
	assert_int_equal(nvb_engine_config_write(path, old, new_text, mode, true, &backup, &err), 0);
	char *latest = nvb_engine_config_latest_backup(path, &err);
	assert_non_null(latest);
	assert_string_equal(latest, backup);
	free(latest);

	/* older ones and look-alikes do not win */
	snprintf(b, sizeof(b), "%s.nvbind-backup-20000101-000000", path);
	write_text(b, "old\n");
	snprintf(b, sizeof(b), "%s.nvbind-backup-20000101-000000-9", path);
	write_text(b, "old\n");
	snprintf(b, sizeof(b), "%s.nvbind-backup-99991231-235959.tmp", path);
	write_text(b, "not a backup\n");
	snprintf(b, sizeof(b), "%s/other.json.nvbind-backup-99991231-235959", tmp);
	write_text(b, "another file's\n");
	latest = nvb_engine_config_latest_backup(path, &err);
	assert_string_equal(latest, backup);
	free(latest);
	/* -10 is newer than -9 of the same second */
	snprintf(b, sizeof(b), "%s.nvbind-backup-99991231-235959-9", path);
	write_text(b, "nine\n");
	snprintf(b, sizeof(b), "%s.nvbind-backup-99991231-235959-10", path);
	write_text(b, orig);
	latest = nvb_engine_config_latest_backup(path, &err);
	assert_string_equal(latest, b);

	assert_int_equal(nvb_engine_config_restore(path, latest, &err), 0);
	char *now = read_text(path);
	assert_string_equal(now, orig);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_uid, 4321);
	assert_int_equal(st.st_gid, 8765);
	/* the backup stays */
	assert_int_equal(access(latest, F_OK), 0);
	free(now);
	free(latest);
	free(backup);
	free(new_text);
	free(old);
	(void)state;
}

/* undo through a symbolic link: the file it names gets the bytes back, the link stays */
static void test_undo_symlink(void **state)
{
	char real[300], link[300], b[400];
	snprintf(real, sizeof(real), "%s/real.json", tmp);
	snprintf(link, sizeof(link), "%s/daemon.json", tmp);
	write_text(real, "{\"runtimes\": {}}");
	assert_int_equal(chmod(real, 0640), 0);
	assert_int_equal(symlink("real.json", link), 0);
	snprintf(b, sizeof(b), "%s.nvbind-backup-20240102-030405", link);
	write_text(b, "{}");
	struct nvb_error err;
	char *latest = nvb_engine_config_latest_backup(link, &err);
	assert_string_equal(latest, b);
	assert_int_equal(nvb_engine_config_restore(link, latest, &err), 0);
	struct stat st;
	assert_int_equal(lstat(link, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	assert_int_equal(stat(real, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	char *now = read_text(real);
	assert_string_equal(now, "{}");
	free(now);
	free(latest);
	(void)state;
}

/* The command line as one space-joined string, for comparison. */
static char *cmdline_text(const struct nvb_cmdline *c)
{
	struct nvb_strv v = {0};
	assert_int_equal(nvb_cmdline_build(c, &v), 0);
	size_t len = 1;
	for (size_t i = 0; i < v.n; i++)
		len += strlen(v.v[i]) + 1;
	char *s = calloc(1, len);
	assert_non_null(s);
	for (size_t i = 0; i < v.n; i++) {
		if (i)
			strcat(s, " ");
		strcat(s, v.v[i]);
	}
	nvb_strv_free(&v);
	return s;
}

static void expect_cmdline(const struct nvb_cmdline *c, const char *want)
{
	char *got = cmdline_text(c);
	assert_string_equal(got, want);
	free(got);
}

static void test_cmdline_engines(void **state)
{
	static const char *const docker[] = {"sudo", "docker"}, *const podman[] = {"podman"},
			     *const bolt[] = {"bolt"}, *const args[] = {"nvidia-smi", "-L"},
			     *const env[] = {"A=b"};
	struct nvb_cmdline c = {.engine = NVB_ENGINE_DOCKER, .prefix = docker, .n_prefix = 2,
				.gpus = NVB_CMDLINE_GPUS_LIST, .devices = "0,1", .caps = "compute",
				.cdi_kind = "nvidia.com/gpu", .docker_major = 24, .env = env, .n_env = 1,
				.image = "img", .args = args, .n_args = 2};
	expect_cmdline(&c, "sudo docker run --runtime nvbind -e NVIDIA_VISIBLE_DEVICES=0,1 "
			   "-e NVIDIA_DRIVER_CAPABILITIES=compute -e A=b img nvidia-smi -L");
	c.docker_major = NVB_DOCKER_CDI_MAJOR;
	assert_true(nvb_cmdline_uses_cdi(&c));
	expect_cmdline(&c, "sudo docker run --device nvidia.com/gpu=0 --device nvidia.com/gpu=1 "
			   "-e NVIDIA_VISIBLE_DEVICES=void -e NVIDIA_DRIVER_CAPABILITIES=compute -e A=b "
			   "img nvidia-smi -L");
	/* no GPU: never CDI on docker, no capabilities, the image's devices made void */
	c.gpus = NVB_CMDLINE_GPUS_NONE;
	assert_false(nvb_cmdline_uses_cdi(&c));
	expect_cmdline(&c, "sudo docker run -e NVIDIA_VISIBLE_DEVICES=void -e A=b img nvidia-smi -L");
	c.engine = NVB_ENGINE_BOLT;
	c.prefix = bolt;
	c.n_prefix = 1;
	/* bolt: `bolt run IMAGE [OPTIONS]`, the image first */
	c.n_args = 0;
	expect_cmdline(&c, "bolt run img --runtime nvbind -e NVIDIA_VISIBLE_DEVICES=void -e A=b");
	c.gpus = NVB_CMDLINE_GPUS_LIST;
	c.devices = "all";
	expect_cmdline(&c, "bolt run img --runtime nvbind --gpu all -e NVIDIA_DRIVER_CAPABILITIES=compute "
			   "-e A=b");
	/* podman: CDI whatever the docker version; qualified names and trimmed items; an
	 * NVIDIA_DRIVER_CAPABILITIES of the environment wins */
	static const char *const env_caps[] = {"NVIDIA_DRIVER_CAPABILITIES=all"};
	c.engine = NVB_ENGINE_PODMAN;
	c.prefix = podman;
	c.docker_major = 0;
	c.devices = "vendor.com/class=x, 2,,GPU-abc";
	c.env = env_caps;
	c.n_args = 0;
	expect_cmdline(&c, "podman run --device vendor.com/class=x --device nvidia.com/gpu=2 "
			   "--device nvidia.com/gpu=GPU-abc -e NVIDIA_VISIBLE_DEVICES=void "
			   "-e NVIDIA_DRIVER_CAPABILITIES=all img");
	(void)state;
}

/* What nvbind migrate asks for: the image's environment kept, options as written. */
static void test_cmdline_translation(void **state)
{
	static const char *const docker[] = {"docker", "--context", "x", "container"},
			     *const opts[] = {"--rm", "-e", "NVIDIA_VISIBLE_DEVICES=none"};
	struct nvb_cmdline c = {.engine = NVB_ENGINE_DOCKER, .prefix = docker, .n_prefix = 4,
				.gpus = NVB_CMDLINE_GPUS_IMAGE, .cdi_kind = "nvidia.com/gpu",
				.keep_image_env = true, .opts = opts, .n_opts = 3, .image = "img"};
	expect_cmdline(&c, "docker --context x container run --runtime nvbind --rm "
			   "-e NVIDIA_VISIBLE_DEVICES=none img");
	c.gpus = NVB_CMDLINE_GPUS_LIST;
	c.devices = "none"; /* a list value the runtime reads, not "no GPU" */
	c.caps = "utility";
	expect_cmdline(&c, "docker --context x container run --runtime nvbind "
			   "-e NVIDIA_VISIBLE_DEVICES=none -e NVIDIA_DRIVER_CAPABILITIES=utility --rm "
			   "-e NVIDIA_VISIBLE_DEVICES=none img");
	c.docker_major = NVB_DOCKER_CDI_MAJOR;
	c.devices = NULL;
	c.caps = NULL;
	expect_cmdline(&c, "docker --context x container run --rm -e NVIDIA_VISIBLE_DEVICES=none img");
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
		cmocka_unit_test(test_docker_two_spaces),
		cmocka_unit_test(test_docker_four_spaces),
		cmocka_unit_test(test_docker_tabs),
		cmocka_unit_test(test_docker_inline),
		cmocka_unit_test(test_docker_odd_spacing),
		cmocka_unit_test(test_docker_default),
		cmocka_unit_test(test_docker_cdi_merge),
		cmocka_unit_test(test_docker_entry_edits),
		cmocka_unit_test(test_docker_crlf),
		cmocka_unit_test(test_docker_layouts),
		cmocka_unit_test(test_diff_hunks),
		cmocka_unit_test(test_podman_keeps_lines),
		cmocka_unit_test_setup_teardown(test_undo, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_undo_symlink, tmp_setup, tmp_teardown),
		cmocka_unit_test(test_cmdline_engines),
		cmocka_unit_test(test_cmdline_translation),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
