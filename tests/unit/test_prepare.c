/* SPDX-License-Identifier: Apache-2.0 */
/* nvb_runtime_prepare: the wrapper's whole in-memory work on a config.json, against a spec
 * directory of the test's own: request limits, the allowed-devices gate, and the driver
 * libraries' plan (done in the bundle's root, or handed back as one hook). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "oci/prepare.h"
#include "testroot.h"

static char base[256];
static char spec_dir[300];
static char bundle[300];

#define LIBDIR "/usr/lib/x86_64-linux-gnu"
#define N_GPUS 300

/* A spec with N_GPUS devices, two driver libraries (compute and graphics) and the library
 * hook, plus a foreign hook without env (as older NVIDIA toolkits wrote). */
static void write_spec(void)
{
	json_t *devices = json_array();
	for (int i = 0; i < N_GPUS; i++) {
		char name[16], path[32];
		snprintf(name, sizeof(name), "%d", i);
		snprintf(path, sizeof(path), "/dev/nvidia%d", i);
		json_array_append_new(devices,
				      json_pack("{s:s, s:{s:[{s:s, s:s, s:i, s:i}]}}", "name", name,
						"containerEdits", "deviceNodes", "path", path, "type", "c",
						"major", 195, "minor", i));
	}
	json_array_append_new(devices, json_pack("{s:s, s:{s:[{s:s, s:s, s:i, s:i}]}}", "name", "all",
						 "containerEdits", "deviceNodes", "path", "/dev/nvidia0",
						 "type", "c", "major", 195, "minor", 0));
	json_t *spec = json_pack(
		"{s:s, s:s, s:o, s:{s:[{s:s, s:s, s:s, s:[s,s]}, {s:s, s:s, s:s, s:[s,s]}],"
		" s:[{s:s, s:s, s:[s,s,s,s,s,s,s,s], s:[s]}, {s:s, s:s, s:[s]}]}}",
		"cdiVersion", "0.5.0", "kind", "nvidia.com/gpu", "devices", devices, "containerEdits",
		"mounts", "hostPath", "/dev/null", "containerPath", LIBDIR "/libcuda.so.580.1", "type",
		"bind", "options", "ro", "bind", "hostPath", "/dev/null", "containerPath",
		LIBDIR "/libGLX_nvidia.so.580.1", "type", "bind", "options", "ro", "bind", "hooks",
		"hookName", "createContainer", "path", "/usr/local/bin/nvbind-hook", "args",
		"nvbind-hook", "libraries", "--lib", LIBDIR "/libcuda.so.580.1::libcuda.so.1::x86-64",
		"--lib", LIBDIR "/libGLX_nvidia.so.580.1::libGLX_nvidia.so.0::x86-64", "--link",
		"libGLX_nvidia.so.0::" LIBDIR "/libGLX_indirect.so.0", "env", "PATH=/usr/bin",
		"hookName", "createContainer", "path", "/usr/bin/nvidia-cdi-hook", "args",
		"nvidia-cdi-hook");
	assert_non_null(spec);
	char path[400];
	snprintf(path, sizeof(path), "%s/nvidia.json", spec_dir);
	assert_int_equal(json_dump_file(spec, path, 0), 0);
	json_decref(spec);
}

static int setup(void **state)
{
	snprintf(base, sizeof(base), "/tmp/nvb-prepare-XXXXXX");
	assert_non_null(mkdtemp(base));
	snprintf(spec_dir, sizeof(spec_dir), "%s/cdi", base);
	snprintf(bundle, sizeof(bundle), "%s/bundle", base);
	sh("mkdir -p %s %s/rootfs/etc", spec_dir, bundle);
	write_spec();
	(void)state;
	return 0;
}

static int teardown(void **state)
{
	sh("rm -rf '%s'", base);
	(void)state;
	return 0;
}

static json_t *config_new(const char *env, json_t *annotations)
{
	json_t *c = json_pack("{s:{s:[s], s:{s:[s]}}, s:{s:s}}", "process", "env", env,
			      "capabilities", "bounding", "CAP_SYS_ADMIN", "root", "path", "rootfs");
	if (annotations)
		json_object_set_new(c, "annotations", annotations);
	return c;
}

static int prepare(json_t *config, const char *bundle_dir, const char *const *allowed,
		   size_t n_allowed, struct nvb_error *err)
{
	const char *dirs[] = {spec_dir};
	struct nvb_runtime_opts o = {
		.host_root = "/nonexistent",
		.spec_dirs = dirs,
		.n_spec_dirs = 1,
		.hook_path = "/usr/local/bin/nvbind-hook",
		.bundle = bundle_dir,
		.allowed = allowed,
		.n_allowed = n_allowed,
	};
	struct nvb_runtime_result res;
	return nvb_runtime_prepare(config, &o, &res, err);
}

/* Security finding 3: 256 requested devices plus the spec's common edits overflowed a fixed
 * array; now the limit is a clear error and everything below it works. */
static void test_many_requests(void **state)
{
	for (int n = 256; n <= 257; n++) {
		char *list = malloc(24 * (size_t)n);
		size_t off = 0;
		for (int i = 0; i < n; i++)
			off += (size_t)sprintf(list + off, "%snvidia.com/gpu=%d", i ? "," : "", i);
		json_t *c = config_new("PATH=/bin", json_pack("{s:s}", "cdi.k8s.io/gpus", list));
		free(list);
		struct nvb_error err;
		int r = prepare(c, NULL, NULL, 0, &err);
		if (n == 256) {
			if (r < 0)
				fail_msg("256 devices: %s", err.message);
			assert_int_equal(json_array_size(json_object_get(json_object_get(c, "linux"), "devices")), 256);
		} else {
			assert_int_equal(r, -1);
			assert_non_null(strstr(err.message, "more than 256"));
		}
		json_decref(c);
	}
	(void)state;
}

/* Security finding 10: "none" still injects the driver: allowed only when the list says so. */
static void test_none_is_gated(void **state)
{
	const char *only_gpu1[] = {"nvidia.com/gpu=1"};
	const char *with_none[] = {"nvidia.com/gpu=1", "none"};
	json_t *c = config_new("NVIDIA_VISIBLE_DEVICES=none", NULL);
	struct nvb_error err;
	assert_int_equal(prepare(c, NULL, only_gpu1, 1, &err), -1);
	assert_int_equal(err.code, NVB_ERR_PERMISSION);
	assert_non_null(strstr(err.hint, "none"));
	assert_null(json_object_get(c, "mounts"));
	json_decref(c);
	c = config_new("NVIDIA_VISIBLE_DEVICES=none", NULL);
	assert_int_equal(prepare(c, NULL, with_none, 2, &err), 0);
	assert_true(json_array_size(json_object_get(c, "mounts")) > 0);
	json_decref(c);
	(void)state;
}

static const json_t *find_hook(json_t *config, const char *path)
{
	size_t i;
	json_t *h;
	json_array_foreach(json_object_get(json_object_get(config, "hooks"), "createContainer"), i, h)
		if (!strcmp(json_string_value(json_object_get(h, "path")), path))
			return h;
	return NULL;
}

static bool hook_has_arg(const json_t *h, const char *arg)
{
	size_t i;
	json_t *a;
	json_array_foreach(json_object_get(h, "args"), i, a)
		if (strstr(json_string_value(a), arg))
			return true;
	return false;
}

/* The wrapper (a bundle): the library hook is gone from config.json, the work is done in the
 * root for the mounted (compute) library only; the foreign env-less hook stays, with an env. */
static void test_plan_in_bundle(void **state)
{
	json_t *c = config_new("NVIDIA_VISIBLE_DEVICES=0", NULL);
	struct nvb_error err;
	if (prepare(c, bundle, NULL, 0, &err) < 0)
		fail_msg("prepare: %s", err.message);
	assert_null(find_hook(c, "/usr/local/bin/nvbind-hook"));
	const json_t *foreign = find_hook(c, "/usr/bin/nvidia-cdi-hook");
	assert_non_null(foreign);
	assert_true(json_array_size(json_object_get(foreign, "env")) > 0);
	sh("[ \"$(readlink %s/rootfs" LIBDIR "/libcuda.so.1)\" = libcuda.so.580.1 ]", bundle);
	sh("[ ! -e %s/rootfs" LIBDIR "/libGLX_indirect.so.0 ] && [ ! -L %s/rootfs" LIBDIR
	   "/libGLX_nvidia.so.0 ]", bundle, bundle);
	sh("ldconfig -p -C %s/rootfs/etc/ld.so.cache | grep -q 'libcuda.so.1 (libc6,x86-64) => " LIBDIR
	   "/libcuda.so.1'", bundle);
	sh("! ldconfig -p -C %s/rootfs/etc/ld.so.cache | grep -q libGLX_nvidia", bundle);
	json_decref(c);
	/* a root that is not a directory: a clear error naming the work */
	sh("rm -rf %s/rootfs && touch %s/rootfs", bundle, bundle);
	c = config_new("NVIDIA_VISIBLE_DEVICES=0", NULL);
	assert_int_equal(prepare(c, bundle, NULL, 0, &err), -1);
	assert_non_null(strstr(err.message, "driver libraries"));
	json_decref(c);
	(void)state;
}

/* A library caller without a bundle: the plan comes back as one hook, filtered. */
static void test_plan_as_hook(void **state)
{
	json_t *c = config_new("NVIDIA_VISIBLE_DEVICES=0", NULL);
	struct nvb_error err;
	if (prepare(c, NULL, NULL, 0, &err) < 0)
		fail_msg("prepare: %s", err.message);
	const json_t *h = find_hook(c, "/usr/local/bin/nvbind-hook");
	assert_non_null(h);
	assert_true(hook_has_arg(h, "libcuda.so.1::x86-64"));
	assert_false(hook_has_arg(h, "libGLX"));
	assert_true(json_array_size(json_object_get(h, "env")) > 0);
	json_decref(c);
	c = config_new("NVIDIA_VISIBLE_DEVICES=0", NULL);
	json_array_append_new(json_object_get(json_object_get(c, "process"), "env"),
			      json_string("NVIDIA_DRIVER_CAPABILITIES=graphics"));
	assert_int_equal(prepare(c, NULL, NULL, 0, &err), 0);
	h = find_hook(c, "/usr/local/bin/nvbind-hook");
	assert_true(hook_has_arg(h, "libGLX_indirect.so.0"));
	assert_false(hook_has_arg(h, "libcuda"));
	json_decref(c);
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_many_requests, setup, teardown),
		cmocka_unit_test_setup_teardown(test_none_is_gated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plan_in_bundle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plan_as_hook, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
