/* SPDX-License-Identifier: Apache-2.0 */
/* OCI bundle files: hostile state and config.json inputs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>

#include "cdi/cdi.h"
#include "oci/oci.h"
#include "testroot.h"

static char bundle[256];

static int setup(void **state)
{
	snprintf(bundle, sizeof(bundle), "/tmp/nvb-oci-XXXXXX");
	assert_non_null(mkdtemp(bundle));
	sh("mkdir -p %s/rootfs", bundle);
	(void)state;
	return 0;
}

static int teardown(void **state)
{
	sh("rm -rf '%s'", bundle);
	(void)state;
	return 0;
}

static void test_state(void **state)
{
	struct nvb_oci_state s;
	struct nvb_error err;
	const char *good = "{\"ociVersion\":\"1.0.2\",\"id\":\"c1\",\"status\":\"creating\",\"pid\":7,"
			   "\"bundle\":\"/run/b\"}";
	assert_int_equal(nvb_oci_state_parse(good, strlen(good), &s, &err), 0);
	assert_string_equal(s.bundle, "/run/b");
	assert_string_equal(s.id, "c1");
	assert_int_equal(s.pid, 7);
	nvb_oci_state_clear(&s);
	const char *bad[] = {"", "{", "[]", "{\"bundle\":1}", "{\"bundle\":\"\"}", "null",
			     "{\"id\":\"x\"}", "\xff\xfe",
			     /* relative to the runtime's directory, not the bundle: refused */
			     "{\"bundle\":\"b\"}", "{\"bundle\":\"./run/b\"}"};
	for (size_t i = 0; i < NVB_ARRAY_SIZE(bad); i++) {
		assert_int_equal(nvb_oci_state_parse(bad[i], strlen(bad[i]), &s, &err), -1);
		assert_non_null(strstr(err.message, "container state"));
	}
	(void)state;
}

static void test_config_ok(void **state)
{
	sh("echo '{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\"}}' > %s/config.json", bundle);
	struct nvb_error err;
	json_t *c = nvb_oci_config_load(bundle, &err);
	assert_non_null(c);
	char *rootfs = NULL;
	int fd = nvb_oci_rootfs_open(bundle, c, &rootfs, &err);
	assert_true(fd >= 0);
	assert_true(nvb_str_has_suffix(rootfs, "/rootfs"));
	close(fd);
	free(rootfs);
	json_decref(c);
	(void)state;
}

static void test_config_hostile(void **state)
{
	struct nvb_error err;
	/* missing bundle */
	assert_null(nvb_oci_config_load("/nonexistent/bundle", &err));
	assert_non_null(strstr(err.message, "/nonexistent/bundle"));
	/* missing config.json */
	assert_null(nvb_oci_config_load(bundle, &err));
	assert_non_null(strstr(err.message, "config.json"));
	/* symlinked config.json */
	sh("echo '{}' > %s/real.json && ln -s real.json %s/config.json", bundle, bundle);
	assert_null(nvb_oci_config_load(bundle, &err));
	assert_int_equal(err.code, NVB_ERR_SECURITY);
	assert_non_null(strstr(err.message, "symbolic link"));
	sh("rm %s/config.json", bundle);
	/* malformed */
	sh("printf '{\"root\": {\"path\": ' > %s/config.json", bundle);
	assert_null(nvb_oci_config_load(bundle, &err));
	assert_int_equal(err.code, NVB_ERR_PARSE);
	assert_non_null(strstr(err.message, "config.json:"));
	/* duplicate keys, not an object */
	sh("echo '{\"a\":1,\"a\":2}' > %s/config.json", bundle);
	assert_null(nvb_oci_config_load(bundle, &err));
	sh("echo '[1,2]' > %s/config.json", bundle);
	assert_null(nvb_oci_config_load(bundle, &err));
	assert_non_null(strstr(err.message, "not a JSON object"));
	/* huge: over the limit, refused before parsing */
	sh("truncate -s 9M %s/config.json", bundle);
	assert_null(nvb_oci_config_load(bundle, &err));
	assert_non_null(strstr(err.message, "more than"));
	/* a FIFO: refused at once, never waiting for a writer (the alarm fails the test) */
	sh("rm %s/config.json && mkfifo %s/config.json", bundle, bundle);
	alarm(10);
	assert_null(nvb_oci_config_load(bundle, &err));
	alarm(0);
	assert_int_equal(err.code, NVB_ERR_SECURITY);
	assert_non_null(strstr(err.message, "config.json is a FIFO, not a regular file"));
	/* a directory */
	sh("rm %s/config.json && mkdir %s/config.json", bundle, bundle);
	assert_null(nvb_oci_config_load(bundle, &err));
	assert_non_null(strstr(err.message, "is a directory"));
	sh("rmdir %s/config.json && echo '{\"root\":{}}' > %s/config.json", bundle, bundle);
	json_t *c = nvb_oci_config_load(bundle, &err);
	assert_non_null(c);
	assert_int_equal(nvb_oci_rootfs_open(bundle, c, NULL, &err), -1);
	assert_non_null(strstr(err.message, "root.path"));
	json_decref(c);
	(void)state;
}

static char *read_text(const char *path)
{
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	static char buf[1 << 16];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* Docker and Podman write unlimited rlimits as uint64; jansson alone refuses them ("too big
 * integer"): load, apply, save must keep every number's bytes. */
static void test_rlimits_round_trip(void **state)
{
	sh("printf '%%s' '{\"ociVersion\":\"1.0.2\",\"process\":{\"env\":[\"A=1\"],\"rlimits\":["
	   "{\"type\":\"RLIMIT_MEMLOCK\",\"hard\":18446744073709551615,\"soft\":18446744073709551615},"
	   "{\"type\":\"RLIMIT_NOFILE\",\"hard\":-1,\"soft\":-1},"
	   "{\"type\":\"RLIMIT_CORE\",\"hard\":-18446744073709551616,\"soft\":1e99999}]},"
	   "\"s\":\"18446744073709551615 \\\" 99999999999999999999\",\"x\":9223372036854775807,"
	   "\"y\":-9223372036854775808,\"z\":0.5,\"root\":{\"path\":\"rootfs\"}}' > %s/config.json",
	   bundle);
	struct nvb_error err;
	json_t *c = nvb_oci_config_load(bundle, &err);
	if (!c)
		fail_msg("%s", err.message);
	/* what fits stays a number */
	json_t *nofile = json_array_get(json_object_get(json_object_get(c, "process"), "rlimits"), 1);
	assert_int_equal(json_integer_value(json_object_get(nofile, "hard")), -1);
	assert_true(json_is_integer(json_object_get(c, "x")));
	struct nvb_cdi_edits e = {0};
	assert_int_equal(nvb_cdi_edits_add_env(&e, "B=2"), 0);
	const struct nvb_cdi_edits *list[] = {&e};
	assert_int_equal(nvb_oci_apply_edits(c, list, 1, &err), 0);
	assert_int_equal(nvb_oci_config_save(bundle, c, &err), 0);
	json_decref(c);
	nvb_cdi_edits_clear(&e);
	char path[512];
	snprintf(path, sizeof(path), "%s/config.json", bundle);
	const char *text = read_text(path);
	assert_non_null(strstr(text, "\"hard\":18446744073709551615,\"soft\":18446744073709551615}"));
	assert_non_null(strstr(text, "\"hard\":-1,\"soft\":-1}"));
	assert_non_null(strstr(text, "\"hard\":-18446744073709551616,\"soft\":1e99999}"));
	assert_non_null(strstr(text, "\"s\":\"18446744073709551615 \\\" 99999999999999999999\""));
	assert_non_null(strstr(text, "\"x\":9223372036854775807,\"y\":-9223372036854775808"));
	assert_non_null(strstr(text, "\"B=2\""));
	assert_null(strstr(text, "nvbind-number"));
	/* and it loads again (as runc will) */
	c = nvb_oci_config_load(bundle, &err);
	assert_non_null(c);
	json_decref(c);
	(void)state;
}

/* The markers are private to the process: a string of the input that looks like one (another
 * process's nonce) stays a string, and bad numbers stay errors. */
static void test_exact_numbers_hostile(void **state)
{
	const char *in = "{\"a\":\"\\u0001nvbind-number:0123456789abcdef:5\",\"b\":18446744073709551616}";
	json_error_t jerr;
	json_t *j = nvb_json_loadb_exact(in, strlen(in), JSON_REJECT_DUPLICATES, false, &jerr);
	assert_non_null(j);
	char *out = nvb_json_dumps_exact(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	assert_string_equal(out, in);
	free(out);
	json_decref(j);
	const char *bad[] = {"{\"a\":018446744073709551616}", "{\"a\":18446744073709551616",
			     "{\"a\":18446744073709551616,\"a\":1}", "{\"a\":1.}",
			     "{\"a\":-}", "[99999999999999999999x]"};
	for (size_t i = 0; i < NVB_ARRAY_SIZE(bad); i++)
		assert_null(nvb_json_loadb_exact(bad[i], strlen(bad[i]), JSON_REJECT_DUPLICATES, false, &jerr));
	/* a long malformed number after a big one: scanned once, not from each of its digits */
	size_t big = 2u << 20;
	char *long_bad = malloc(big + 16);
	assert_non_null(long_bad);
	memcpy(long_bad, "[1e999,", 7);
	memset(long_bad + 7, '7', big);
	memcpy(long_bad + 7 + big, ".]", 3);
	time_t t0 = time(NULL);
	assert_null(nvb_json_loadb_exact(long_bad, strlen(long_bad), 0, false, &jerr));
	assert_true(time(NULL) - t0 < 5);
	free(long_bad);
	/* reals kept as written, on request (daemon.json) */
	const char *reals = "{\"r\": [0.1, 1.0, 1e3, -0.30000000000000004, 7]}";
	j = nvb_json_loadb_exact(reals, strlen(reals), 0, true, &jerr);
	assert_non_null(j);
	out = nvb_json_dumps_exact(j, JSON_COMPACT);
	assert_string_equal(out, "{\"r\":[0.1,1.0,1e3,-0.30000000000000004,7]}");
	free(out);
	json_decref(j);
	(void)state;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Hooks of specs without env (older NVIDIA toolkits) must not run with the container's
 * environment: runc would pass the image's LD_PRELOAD to a process run as root on the host. */
static void test_hook_env_always_explicit(void **state)
{
	json_t *c = json_pack("{s:{s:[s, s]}}", "process", "env", "LD_PRELOAD=/proc/self/cwd/evil.so",
			      "PATH=/evil");
	struct nvb_cdi_edits e = {0};
	struct nvb_cdi_hook *h = nvb_cdi_edits_add_hook(&e);
	h->hook_name = strdup("createContainer");
	h->path = strdup("/usr/bin/nvidia-ctk");
	assert_int_equal(nvb_strv_append(&h->args, &h->n_args, "nvidia-ctk"), 0);
	h = nvb_cdi_edits_add_hook(&e);
	h->hook_name = strdup("createContainer");
	h->path = strdup("/usr/bin/nvbind");
	assert_int_equal(nvb_strv_append(&h->env, &h->n_env, "NVBIND_X=1"), 0);
	const struct nvb_cdi_edits *list[] = {&e};
	struct nvb_error err;
	assert_int_equal(nvb_oci_apply_edits(c, list, 1, &err), 0);
	json_t *hooks = json_object_get(json_object_get(c, "hooks"), "createContainer");
	assert_int_equal(json_array_size(hooks), 2);
	json_t *env0 = json_object_get(json_array_get(hooks, 0), "env");
	assert_true(json_is_array(env0));
	assert_int_equal(json_array_size(env0), 1);
	assert_string_equal(json_string_value(json_array_get(env0, 0)), "PATH=/usr/sbin:/usr/bin:/sbin:/bin");
	json_t *env1 = json_object_get(json_array_get(hooks, 1), "env");
	assert_int_equal(json_array_size(env1), 1);
	assert_string_equal(json_string_value(json_array_get(env1, 0)), "NVBIND_X=1");
	json_decref(c);
	nvb_cdi_edits_clear(&e);
	(void)state;
}

/* 100k mounts in an order that is far from sorted by depth, and 20k device nodes: an
 * insertion sort or a scan per edit takes minutes here; the budget is generous for a
 * sanitizer build. The order stays stable, and same-destination mounts still replace. */
static void test_apply_many_mounts(void **state)
{
	enum { N = 100000, NODES = 20000 };
	json_t *c = json_pack("{s:[{s:s, s:s}]}", "mounts", "destination", "/a/b/c/d", "source", "/x");
	struct nvb_cdi_edits e = {0};
	char p[128];
	for (size_t i = 0; i < N; i++) {
		struct nvb_cdi_mount *m = nvb_cdi_edits_add_mount(&e);
		size_t depth = 1 + (i * 7919) % 23;
		int o = 0;
		for (size_t d = 1; d < depth; d++)
			o += snprintf(p + o, sizeof(p) - (size_t)o, "/d");
		snprintf(p + o, sizeof(p) - (size_t)o, "/m%zu", i);
		m->container_path = strdup(p);
		m->host_path = strdup(p);
	}
	/* replaces the config's mount, at its place */
	struct nvb_cdi_mount *m = nvb_cdi_edits_add_mount(&e);
	m->container_path = strdup("/a/b/c/d");
	m->host_path = strdup("/replaced");
	for (size_t i = 0; i < NODES; i++) {
		struct nvb_cdi_device_node *n = nvb_cdi_edits_add_node(&e);
		snprintf(p, sizeof(p), "/dev/n%zu", i % (NODES / 2)); /* each path twice */
		n->path = strdup(p);
		n->type = strdup("c");
		n->major = 195;
		n->minor = (int64_t)i;
	}
	const struct nvb_cdi_edits *list[] = {&e};
	struct nvb_error err;
	double t0 = now_s();
	assert_int_equal(nvb_oci_apply_edits(c, list, 1, &err), 0);
	double took = now_s() - t0;
	json_t *mounts = json_object_get(c, "mounts");
	assert_int_equal(json_array_size(mounts), N + 1);
	size_t prev_depth = 0, prev_index = 0, replaced = 0;
	for (size_t i = 0; i < json_array_size(mounts); i++) {
		const char *d = json_string_value(json_object_get(json_array_get(mounts, i), "destination"));
		size_t depth = 0;
		for (const char *q = d; *q; q++)
			depth += *q == '/';
		assert_true(depth >= prev_depth);
		const char *mi = strstr(d, "/m");
		if (!mi) {
			replaced++;
			assert_string_equal(json_string_value(json_object_get(json_array_get(mounts, i), "source")),
					    "/replaced");
			continue;
		}
		size_t index = strtoul(mi + 2, NULL, 10);
		if (depth == prev_depth)
			assert_true(index > prev_index); /* stable */
		prev_depth = depth;
		prev_index = index;
	}
	assert_int_equal(replaced, 1);
	json_t *devices = json_object_get(json_object_get(c, "linux"), "devices");
	assert_int_equal(json_array_size(devices), NODES / 2);
	/* the later node of a path replaced the earlier one */
	assert_int_equal(json_integer_value(json_object_get(json_array_get(devices, 0), "minor")), NODES / 2);
	json_decref(c);
	nvb_cdi_edits_clear(&e);
	if (took > 5.0)
		fail_msg("applying %d mounts and %d nodes took %.2f s", N, NODES, took);
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_state),
		cmocka_unit_test_setup_teardown(test_config_ok, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_hostile, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rlimits_round_trip, setup, teardown),
		cmocka_unit_test(test_exact_numbers_hostile),
		cmocka_unit_test(test_hook_env_always_explicit),
		cmocka_unit_test(test_apply_many_mounts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
