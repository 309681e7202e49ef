/* SPDX-License-Identifier: Apache-2.0 */
/*
 * GPU isolation through the public API on the debian-4gpu fixture root, where test_isolation's
 * hand-made inventories do not reach (tools/coverage.sh, docs/testing.md "Coverage"): option
 * sizes and values, annotation and environment requests out of range, exclusive claims against
 * a shared container, a claim whose compute mode NVML refuses to set (rolled back), virtual
 * isolation without the MPS binary, and state directories that cannot hold the lock.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/core.h"
#include "testroot.h"

static char state_dir[128];

static int setup(void **state)
{
	root_setup(state);
	snprintf(state_dir, sizeof(state_dir), "%s/state", root);
	/* NVML's stand-in refuses to set a compute mode without its state directory */
	assert_int_equal(unsetenv("NVB_STANDIN_COMPUTE_MODE_DIR"), 0);
	return 0;
}

/* debian-4gpu: /dev/nvidia2 is GPU 0 (GPU-4b0d1a5e-...), /dev/nvidia0 the MIG-mode GPU. */
#define GPU0_CONFIG(extra)                                                                      \
	"{\"process\":{\"env\":[" extra "]},\"linux\":{\"devices\":[{\"path\":\"/dev/nvidia2\","   \
	"\"type\":\"c\",\"major\":195,\"minor\":2}]}}"

struct newer_options {
	struct nvb_isolation_options o;
	uint64_t newer;
};

static void test_option_values(void **state)
{
	(void)state;
	struct nvb_error err;
	const char *config = GPU0_CONFIG("");
	assert_null(nvb_configure_gpu_isolation(NULL, config, NULL, &err));
	assert_int_equal(err.code, NVB_ERR_USAGE);
	assert_non_null(strstr(err.message, "missing or too small"));
	struct newer_options newer = {.o = {.size = sizeof(newer), .state_dir = state_dir}, .newer = 9};
	assert_null(nvb_configure_gpu_isolation(NULL, config, &newer.o, &err));
	assert_int_equal(err.code, NVB_ERR_UNSUPPORTED);
	struct nvb_isolation_options o = {.size = sizeof(o), .state_dir = state_dir,
					  .level = (enum nvb_isolation)9};
	assert_null(nvb_configure_gpu_isolation(NULL, config, &o, &err));
	assert_int_equal(err.code, NVB_ERR_USAGE);
	assert_non_null(strstr(err.message, "level 9"));
	o.level = NVB_ISOLATION_VIRTUAL;
	o.container_id = "c1";
	o.compute_percent = 150;
	assert_null(nvb_configure_gpu_isolation(NULL, config, &o, &err));
	assert_int_equal(err.code, NVB_ERR_INVALID);
	assert_non_null(strstr(err.message, "150%"));
	o.compute_percent = 0;
	/* a GPU to isolate, but no host to find it in */
	o.level = NVB_ISOLATION_EXCLUSIVE;
	assert_null(nvb_configure_gpu_isolation(NULL, config, &o, &err));
	assert_int_equal(err.code, NVB_ERR_USAGE);
	assert_non_null(strstr(err.message, "no host"));
}

/* Requests in annotations or their environment twins, each error naming where it came from. */
static void test_requests(void **state)
{
	(void)state;
	struct nvb_error err;
	struct nvb_isolation_options o = {.size = sizeof(o), .state_dir = state_dir, .container_id = "c1",
					  .flags = NVB_ISOLATION_FROM_ANNOTATIONS};
	const char *bad[] = {"abc", "0", "101", "50%"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char config[512];
		snprintf(config, sizeof(config),
			 "{\"annotations\":{\"nvbind.io/isolation\":\"virtual\","
			 "\"nvbind.io/gpu-compute-limit\":\"%s\"}}", bad[i]);
		assert_null(nvb_configure_gpu_isolation(NULL, config, &o, &err));
		assert_int_equal(err.code, NVB_ERR_INVALID);
		assert_non_null(strstr(err.message, "annotation nvbind.io/gpu-compute-limit"));
	}
	assert_null(nvb_configure_gpu_isolation(
		NULL, GPU0_CONFIG("\"NVBIND_ISOLATION=virtual\",\"NVBIND_GPU_COMPUTE_LIMIT=200\""), &o, &err));
	assert_int_equal(err.code, NVB_ERR_INVALID);
	assert_non_null(strstr(err.message, "environment variable NVBIND_GPU_COMPUTE_LIMIT"));
	assert_null(nvb_configure_gpu_isolation(NULL, GPU0_CONFIG("\"NVBIND_ISOLATION=private\""), &o,
						&err));
	assert_non_null(strstr(err.message, "environment variable NVBIND_ISOLATION"));
	/* the annotation wins over its twin */
	assert_null(nvb_configure_gpu_isolation(
		NULL, "{\"process\":{\"env\":[\"NVBIND_GPU_MEMORY_LIMIT=1G\"]},\"annotations\":"
		      "{\"nvbind.io/gpu-memory-limit\":\"lots\"}}", &o, &err));
	assert_non_null(strstr(err.message, "annotation nvbind.io/gpu-memory-limit"));
}

/* An exclusive claim on GPU 0 held by a living process: a shared container with the same GPU
 * is refused naming the holder, and gets it once the claim is released. */
static void test_claim_against_shared(void **state)
{
	(void)state;
	struct nvb_host *host = fixture_host("debian-4gpu");
	if (!host)
		return;
	struct nvb_error err;
	const char *config = GPU0_CONFIG("");
	struct nvb_isolation_options o = {.size = sizeof(o), .state_dir = state_dir,
					  .level = NVB_ISOLATION_EXCLUSIVE, .container_id = "holder",
					  .engine = "podman"};
	char *out = nvb_configure_gpu_isolation(host, config, &o, &err);
	assert_non_null(out);
	nvb_free(out);
	/* the same container again keeps its claim */
	out = nvb_configure_gpu_isolation(host, config, &o, &err);
	assert_non_null(out);
	nvb_free(out);
	struct nvb_isolation_options shared = {.size = sizeof(shared), .state_dir = state_dir,
					       .container_id = "other"};
	assert_null(nvb_configure_gpu_isolation(host, config, &shared, &err));
	assert_int_equal(err.code, NVB_ERR_PERMISSION);
	assert_non_null(strstr(err.message, "holder"));
	/* a shared container whose config has no GPU node is not concerned */
	out = nvb_configure_gpu_isolation(host, "{}", &shared, &err);
	assert_non_null(out);
	nvb_free(out);
	assert_int_equal(nvb_release_gpu_isolation(state_dir, "holder", &err), 0);
	out = nvb_configure_gpu_isolation(host, config, &shared, &err);
	assert_non_null(out);
	nvb_free(out);
	nvb_host_free(host);
}

/* With NVB_ISOLATION_COMPUTE_MODE the claim sets the GPU's compute mode through the root's NVML;
 * the stand-in refuses (as NVML does for a user who is not root): no claim is left. */
static void test_compute_mode_refused(void **state)
{
	(void)state;
	struct nvb_host *host = fixture_host("debian-4gpu");
	if (!host)
		return;
	struct nvb_error err;
	struct nvb_isolation_options o = {.size = sizeof(o), .state_dir = state_dir,
					  .level = NVB_ISOLATION_EXCLUSIVE, .container_id = "cm",
					  .flags = NVB_ISOLATION_COMPUTE_MODE};
	assert_null(nvb_configure_gpu_isolation(host, GPU0_CONFIG(""), &o, &err));
	assert_int_equal(err.code, NVB_ERR_PERMISSION);
	assert_non_null(strstr(err.message, "nvmlDeviceSetComputeMode"));
	/* the claim was rolled back: another container may take the GPU */
	o.flags = 0;
	o.container_id = "next";
	char *out = nvb_configure_gpu_isolation(host, GPU0_CONFIG(""), &o, &err);
	assert_non_null(out);
	nvb_free(out);
	assert_int_equal(nvb_release_gpu_isolation(state_dir, "next", &err), 0);
	nvb_host_free(host);
}

/* Virtual isolation needs the driver's nvidia-cuda-mps-control: mig-h100 has none. */
static void test_virtual_without_mps(void **state)
{
	(void)state;
	struct nvb_host *host = fixture_host("mig-h100");
	if (!host)
		return;
	struct nvb_error err;
	struct nvb_isolation_options o = {.size = sizeof(o), .state_dir = state_dir,
					  .level = NVB_ISOLATION_VIRTUAL, .container_id = "v1"};
	struct nvb_inventory *inv = nvb_inventory_probe(host, NVB_PROBE_NO_NVML, &err);
	assert_non_null(inv);
	char config[256];
	snprintf(config, sizeof(config), "{\"linux\":{\"devices\":[{\"path\":\"/dev/nvidia%d\"}]}}",
		 nvb_gpu_minor(nvb_inventory_gpu(inv, 0)));
	nvb_inventory_free(inv);
	assert_null(nvb_configure_gpu_isolation(host, config, &o, &err));
	assert_int_equal(err.code, NVB_ERR_DRIVER);
	assert_non_null(strstr(err.message, "nvidia-cuda-mps-control"));
	/* a device node of no GPU of the host */
	assert_null(nvb_configure_gpu_isolation(
		host, "{\"linux\":{\"devices\":[{\"path\":\"/dev/nvidia77\"}]}}", &o, &err));
	assert_int_equal(err.code, NVB_ERR_NOT_FOUND);
	assert_non_null(strstr(err.message, "/dev/nvidia77"));
	nvb_host_free(host);
}

/* A state directory where the isolation lock cannot be made. */
static void test_state_dir_unusable(void **state)
{
	(void)state;
	struct nvb_host *host = fixture_host("debian-4gpu");
	if (!host)
		return;
	struct nvb_error err;
	char bad[160];
	/* "isolation" is a file: release finds it, and cannot lock under it */
	assert_int_equal(mkdir(state_dir, 0755), 0);
	snprintf(bad, sizeof(bad), "%s/isolation", state_dir);
	FILE *f = fopen(bad, "we");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(nvb_release_gpu_isolation(state_dir, "c1", &err), -1);
	assert_int_not_equal(err.code, NVB_OK);
	struct nvb_isolation_options o = {.size = sizeof(o), .state_dir = state_dir,
					  .level = NVB_ISOLATION_EXCLUSIVE, .container_id = "c1"};
	assert_null(nvb_configure_gpu_isolation(host, GPU0_CONFIG(""), &o, &err));
	assert_int_not_equal(err.code, NVB_OK);
	assert_int_equal(unlink(bad), 0);
	/* a claim file that is not a JSON object counts as absent */
	snprintf(bad, sizeof(bad), "%s/isolation/claims", state_dir);
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s' && echo '[1]' > '%s/GPU-4b0d1a5e-6a3c-9f2e-8d71-0c5a3e9b2f41.json'",
		 bad, bad);
	assert_int_equal(system(cmd), 0);
	char *out = nvb_configure_gpu_isolation(host, GPU0_CONFIG(""), &o, &err);
	assert_non_null(out);
	nvb_free(out);
	assert_int_equal(nvb_release_gpu_isolation(state_dir, "c1", &err), 0);
	nvb_host_free(host);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_option_values, setup, root_teardown),
		cmocka_unit_test_setup_teardown(test_requests, setup, root_teardown),
		cmocka_unit_test_setup_teardown(test_claim_against_shared, setup, root_teardown),
		cmocka_unit_test_setup_teardown(test_compute_mode_refused, setup, root_teardown),
		cmocka_unit_test_setup_teardown(test_virtual_without_mps, setup, root_teardown),
		cmocka_unit_test_setup_teardown(test_state_dir_unusable, setup, root_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
