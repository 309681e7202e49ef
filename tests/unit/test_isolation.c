/* SPDX-License-Identifier: Apache-2.0 */
/* GPU isolation (src/isolation): sizes, levels, the config's GPUs and MPS edits, holders and
 * exclusive claims on a temporary state dir (no runc, no GPU: tests/e2e/isolation.bats has
 * the containers). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "isolation/isolation.h"
#include "oci/records.h"

static char dir[256];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/nvb-iso-XXXXXX");
	assert_non_null(mkdtemp(dir));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static void test_sizes(void **state)
{
	(void)state;
	uint64_t v;
	assert_int_equal(nvb_iso_parse_size("16G", &v), 0);
	assert_true(v == 16ull << 30);
	assert_int_equal(nvb_iso_parse_size("512M", &v), 0);
	assert_true(v == 512ull << 20);
	assert_int_equal(nvb_iso_parse_size("8Gi", &v), 0);
	assert_true(v == 8ull << 30);
	assert_int_equal(nvb_iso_parse_size("2GiB", &v), 0);
	assert_true(v == 2ull << 30);
	assert_int_equal(nvb_iso_parse_size("1024", &v), 0);
	assert_true(v == 1024);
	const char *bad[] = {"", "lots", "-1", "16X", "G", "16GG", "99999999999999999999T", "1T2"};
	for (size_t i = 0; i < NVB_ARRAY_SIZE(bad); i++)
		assert_int_equal(nvb_iso_parse_size(bad[i], &v), -1);
}

static void test_levels(void **state)
{
	(void)state;
	enum nvb_isolation l;
	const char *names[] = {"shared", "exclusive", "virtual"};
	for (int i = 0; i < 3; i++) {
		assert_int_equal(nvb_isolation_parse(names[i], &l), 0);
		assert_int_equal(l, i);
		assert_string_equal(nvb_isolation_name(l), names[i]);
	}
	assert_int_equal(nvb_isolation_parse("Exclusive", &l), -1);
	assert_int_equal(nvb_isolation_parse(NULL, &l), -1);
	assert_null(nvb_isolation_name((enum nvb_isolation)7));
}

static json_t *config_with(const char *devices_json)
{
	char text[2048];
	snprintf(text, sizeof(text),
		 "{\"process\": {\"env\": [\"PATH=/bin\", \"CUDA_MPS_PIPE_DIRECTORY=/image\"]},"
		 " \"linux\": {\"devices\": %s}}", devices_json);
	json_t *c = json_loads(text, 0, NULL);
	assert_non_null(c);
	return c;
}

static void test_config_gpus(void **state)
{
	(void)state;
	struct nvb_gpu g[3] = {
		{.index = 0, .minor = 2, .uuid = "GPU-aaaa"},
		{.index = 1, .minor = 3, .uuid = "GPU-bbbb"},
		{.index = 2, .minor = 0, .uuid = "GPU-cccc"},
	};
	struct nvb_inventory inv = {.gpus = g, .n_gpus = 3};
	json_t *c = config_with("[{\"path\": \"/dev/nvidia0\", \"minor\": 0},"
				" {\"path\": \"/dev/nvidiactl\", \"minor\": 255},"
				" {\"path\": \"/dev/nvidia-uvm\"}, {\"path\": \"/dev/nvidia2\"}]");
	struct nvb_iso_gpu out[NVB_ISO_MAX_GPUS];
	size_t n = 0;
	struct nvb_error err;
	assert_int_equal(nvb_iso_config_gpus(c, &inv, out, &n, &err), 0);
	assert_int_equal(n, 2);
	/* host order, numbered from 0 as the container sees them */
	assert_string_equal(out[0].uuid, "GPU-aaaa");
	assert_int_equal(out[0].cindex, 0);
	assert_string_equal(out[1].uuid, "GPU-cccc");
	assert_int_equal(out[1].index, 2);
	assert_int_equal(out[1].cindex, 1);

	assert_int_equal(nvb_iso_config_mps(c, "/run/nvbind/isolation/mps/0-2/pipe", out, n,
					    (3ull << 30) / 2, 25, &err), 0);
	const json_t *env = json_object_get(json_object_get(c, "process"), "env");
	char *text = json_dumps(env, JSON_COMPACT);
	assert_string_equal(text, "[\"PATH=/bin\",\"CUDA_MPS_PIPE_DIRECTORY=/run/nvidia-mps\","
				  "\"CUDA_MPS_ACTIVE_THREAD_PERCENTAGE=25\","
				  "\"CUDA_MPS_PINNED_DEVICE_MEM_LIMIT=0=1536M,1=1536M\"]");
	free(text);
	const json_t *m = json_array_get(json_object_get(c, "mounts"), 0);
	assert_string_equal(json_string_value(json_object_get(m, "source")),
			    "/run/nvbind/isolation/mps/0-2/pipe");
	assert_string_equal(json_string_value(json_object_get(m, "destination")), "/run/nvidia-mps");
	m = json_array_get(json_object_get(c, "mounts"), 1);
	assert_string_equal(json_string_value(json_object_get(m, "source")),
			    "/run/nvbind/isolation/mps/0-2/shm");
	assert_string_equal(json_string_value(json_object_get(m, "destination")), "/dev/shm");
	assert_int_equal(json_array_size(json_object_get(c, "mounts")), 2);
	json_decref(c);

	/* a GPU node the host does not have */
	c = config_with("[{\"path\": \"/dev/nvidia7\", \"minor\": 7}]");
	assert_int_equal(nvb_iso_config_gpus(c, &inv, out, &n, &err), -1);
	assert_int_equal(err.code, NVB_ERR_NOT_FOUND);
	assert_non_null(strstr(err.message, "/dev/nvidia7"));
	json_decref(c);
}

static void holder(struct nvb_iso_holder *h, const char *id, int64_t pid)
{
	memset(h, 0, sizeof(*h));
	snprintf(h->id, sizeof(h->id), "%s", id);
	snprintf(h->engine, sizeof(h->engine), "docker");
	h->since = 1795737600; /* 2026-11-27T00:00:00Z */
	h->pid = pid;
	h->pid_start = nvb_iso_pid_start(pid);
}

static int64_t dead_pid(void)
{
	pid_t pid = fork();
	if (pid == 0)
		_exit(0);
	waitpid(pid, NULL, 0);
	return pid;
}

static void test_holders(void **state)
{
	(void)state;
	struct nvb_iso_holder h;
	holder(&h, "c1", getpid());
	assert_true(h.pid_start > 0);
	assert_true(nvb_iso_holder_alive(&h));
	h.pid_start++; /* a reused pid: another process */
	assert_false(nvb_iso_holder_alive(&h));
	holder(&h, "c1", dead_pid());
	assert_false(nvb_iso_holder_alive(&h));
	/* runc's state names a living init process */
	char path[512];
	snprintf(path, sizeof(path), "%s/runc/c1", dir);
	struct nvb_error err;
	assert_int_equal(nvb_state_mkdir_p(path, &err), 0);
	snprintf(path, sizeof(path), "%s/runc/c1/state.json", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "{\"init_process_pid\": %d, \"init_process_start\": %llu}", (int)getpid(),
		(unsigned long long)nvb_iso_pid_start(getpid()));
	fclose(f);
	snprintf(h.runtime_root, sizeof(h.runtime_root), "%s/runc", dir);
	assert_true(nvb_iso_holder_alive(&h));
	snprintf(h.id, sizeof(h.id), "c2"); /* no state for c2 */
	assert_false(nvb_iso_holder_alive(&h));
	/* crun's status file; a dead init process */
	snprintf(path, sizeof(path), "%s/runc/c2", dir);
	assert_int_equal(nvb_state_mkdir_p(path, &err), 0);
	snprintf(path, sizeof(path), "%s/runc/c2/status", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "{\"pid\": %d, \"process-start-time\": %llu}", (int)getpid(),
		(unsigned long long)nvb_iso_pid_start(getpid()));
	fclose(f);
	assert_true(nvb_iso_holder_alive(&h));
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "{\"pid\": %lld}", (long long)dead_pid());
	fclose(f);
	assert_false(nvb_iso_holder_alive(&h));
	char who[512];
	holder(&h, "c1", 0);
	nvb_iso_holder_describe(&h, who, sizeof(who));
	assert_string_equal(who, "container c1 (engine docker, since 2026-11-27T00:00:00Z)");
}

static void test_claims(void **state)
{
	(void)state;
	struct nvb_iso_gpu gpus[2] = {{.index = 0, .uuid = "GPU-aaaa"}, {.index = 1, .uuid = "GPU-bbbb"}};
	struct nvb_iso_holder a, b;
	struct nvb_error err;
	holder(&a, "a", getpid());
	holder(&b, "b", getpid());
	int lock = nvb_iso_lock(dir, &err);
	assert_true(lock >= 0);
	assert_int_equal(nvb_iso_claim(dir, gpus, 1, &a, NULL, &err), 0);
	/* again by the same container: fine */
	assert_int_equal(nvb_iso_claim(dir, gpus, 1, &a, NULL, &err), 0);
	/* b wants both: refused, naming a, and takes nothing */
	assert_int_equal(nvb_iso_claim(dir, gpus, 2, &b, NULL, &err), -1);
	assert_int_equal(err.code, NVB_ERR_PERMISSION);
	assert_non_null(strstr(err.message, "GPU 0 (GPU-aaaa) is held exclusively by container a "
					    "(engine docker, since 2026-11-27T00:00:00Z)"));
	char path[512];
	snprintf(path, sizeof(path), "%s/isolation/claims/GPU-bbbb.json", dir);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(nvb_iso_check_unclaimed(dir, gpus + 1, 1, "b", &err), 0);
	assert_int_equal(nvb_iso_check_unclaimed(dir, gpus, 1, "b", &err), -1);
	/* a's process is gone: b takes over */
	assert_int_equal(nvb_iso_claims_release(dir, "a", &err), 0);
	holder(&a, "a", dead_pid());
	assert_int_equal(nvb_iso_claim(dir, gpus, 1, &a, NULL, &err), 0);
	assert_int_equal(nvb_iso_claim(dir, gpus, 2, &b, NULL, &err), 0);
	snprintf(path, sizeof(path), "%s/isolation/claims/GPU-aaaa.json", dir);
	json_t *claim = nvb_iso_read_json(path, &err);
	assert_non_null(claim);
	assert_string_equal(json_string_value(json_object_get(claim, "container")), "b");
	json_decref(claim);
	/* a UUID that cannot name a file */
	struct nvb_iso_gpu evil = {.uuid = "../x"};
	assert_int_equal(nvb_iso_claim(dir, &evil, 1, &a, NULL, &err), -1);
	assert_int_equal(err.code, NVB_ERR_INVALID);
	close(lock);
	assert_int_equal(nvb_release_gpu_isolation(dir, "b", &err), 0);
	assert_int_equal(access(path, F_OK), -1);
}

static void test_api_checks(void **state)
{
	(void)state;
	struct nvb_error err;
	const char *cfg = "{\"process\": {}, \"annotations\": {\"nvbind.io/isolation\": \"exclusive\","
			  " \"nvbind.io/gpu-compute-limit\": \"50\"}}";
	struct nvb_isolation_options o = {.size = sizeof(o), .container_id = "c1", .state_dir = dir,
					  .flags = NVB_ISOLATION_FROM_ANNOTATIONS};
	assert_null(nvb_configure_gpu_isolation(NULL, cfg, &o, &err));
	assert_int_equal(err.code, NVB_ERR_INVALID);
	assert_non_null(strstr(err.message, "enforced only by MPS"));
	o.size = 8;
	assert_null(nvb_configure_gpu_isolation(NULL, cfg, &o, &err));
	assert_int_equal(err.code, NVB_ERR_USAGE);
	/* no GPU node: nothing to isolate, the config comes back */
	o.size = sizeof(o);
	o.flags = 0;
	o.level = NVB_ISOLATION_EXCLUSIVE;
	char *out = nvb_configure_gpu_isolation(NULL, cfg, &o, &err);
	assert_non_null(out);
	nvb_free(out);
	o.container_id = "../x";
	assert_null(nvb_configure_gpu_isolation(NULL, cfg, &o, &err));
	assert_int_equal(err.code, NVB_ERR_USAGE);
	assert_int_equal(nvb_release_gpu_isolation(dir, "../x", &err), -1);
	assert_int_equal(nvb_release_gpu_isolation(dir, "never-seen", &err), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_levels),
		cmocka_unit_test(test_config_gpus),
		cmocka_unit_test_setup_teardown(test_holders, setup, teardown),
		cmocka_unit_test_setup_teardown(test_claims, setup, teardown),
		cmocka_unit_test_setup_teardown(test_api_checks, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
