/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The library API of src/api beyond what tests/api/check.c (api.bats) calls (tools/coverage.sh,
 * docs/testing.md "Coverage"): every accessor with NULL and an index out of range, the same
 * accessors on the inventories of the fixture roots (debian-4gpu, mig-h100, amd-host), the size
 * rules of the option structs, and the argument and input errors of spec generation, config
 * apply and capsule setup.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "format/json.h"
#include "inventory/inventory.h"
#include "oci/oci.h"
#include "testroot.h"

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

/* ------------------------------------------------------------ accessors */

static void test_accessors_null(void **state)
{
	(void)state;
	assert_null(nvb_inventory_driver_version(NULL));
	assert_null(nvb_inventory_kernel_module(NULL));
	assert_null(nvb_inventory_cuda_version(NULL));
	assert_int_equal(nvb_inventory_gpu_count(NULL), 0);
	assert_null(nvb_inventory_gpu(NULL, 0));
	assert_int_equal(nvb_inventory_control_node_count(NULL), 0);
	assert_null(nvb_inventory_control_node(NULL, 0));
	assert_int_equal(nvb_inventory_file_count(NULL), 0);
	assert_null(nvb_inventory_file(NULL, 0));
	assert_int_equal(nvb_inventory_missing_count(NULL), 0);
	assert_null(nvb_inventory_missing(NULL, 0));
	assert_int_equal(nvb_inventory_problem_count(NULL), 0);
	assert_null(nvb_inventory_problem(NULL, 0));
	assert_null(nvb_inventory_next(NULL));
	assert_int_equal(nvb_inventory_vendor(NULL), NVB_VENDOR_NVIDIA);
	assert_null(nvb_inventory_platform(NULL));
	assert_null(nvb_inventory_gpu_cdi_id(NULL, 0));
	assert_int_equal(nvb_inventory_gpu_partition(NULL, 0), -1);
	assert_null(nvb_inventory_gpu_arch(NULL, 0));

	assert_int_equal(nvb_gpu_index(NULL), 0);
	assert_int_equal(nvb_gpu_vendor(NULL), NVB_VENDOR_NVIDIA);
	assert_null(nvb_gpu_name(NULL));
	assert_null(nvb_gpu_uuid(NULL));
	assert_null(nvb_gpu_pci_bus_id(NULL));
	assert_null(nvb_gpu_kernel_driver(NULL));
	assert_int_equal(nvb_gpu_minor(NULL), -1);
	assert_int_equal(nvb_gpu_numa_node(NULL), -1);
	assert_int_equal(nvb_gpu_memory_total(NULL), 0);
	assert_int_equal(nvb_gpu_mig_mode(NULL), -1);
	int major = 7, minor = 7;
	assert_int_equal(nvb_gpu_compute_capability(NULL, &major, &minor), -1);
	assert_int_equal(major, 7);
	assert_int_equal(nvb_gpu_node_count(NULL), 0);
	assert_null(nvb_gpu_node(NULL, 0));
	assert_int_equal(nvb_gpu_mig_count(NULL), 0);
	assert_null(nvb_gpu_mig(NULL, 0));
	assert_int_equal(nvb_mig_gi(NULL), 0);
	assert_int_equal(nvb_mig_ci(NULL), 0);
	assert_null(nvb_mig_uuid(NULL));

	assert_null(nvb_device_node_path(NULL));
	assert_int_equal(nvb_device_node_major(NULL), 0);
	assert_int_equal(nvb_device_node_minor(NULL), 0);
	assert_null(nvb_driver_file_path(NULL));
	assert_int_equal(nvb_driver_file_kind(NULL), NVB_FILE_LIBRARY);
	assert_null(nvb_driver_file_soname(NULL));
	assert_int_equal(nvb_driver_file_caps(NULL), 0);
	assert_int_equal(nvb_problem_severity(NULL), NVB_PROBLEM_INFO);
	assert_null(nvb_problem_code(NULL));
	assert_null(nvb_problem_message(NULL));
	assert_null(nvb_problem_hint(NULL));
	assert_string_equal(nvb_vendor_name(NVB_VENDOR_AMD), "amd");
	assert_string_equal(nvb_vendor_name(NVB_VENDOR_INTEL), "intel");
	assert_string_equal(nvb_vendor_name(NVB_VENDOR_NVIDIA), "nvidia");
}

/* A hand-built inventory: each accessor returns its field, an index past the end NULL. */
static void test_accessors_fields(void **state)
{
	(void)state;
	struct nvb_device_node nodes[2] = {{.path = "/dev/nvidia3", .major = 195, .minor = 3},
					   {.path = "/dev/nvidiactl", .major = 195, .minor = 255}};
	struct nvb_mig_device migs[1] = {{.gi = 2, .ci = 1, .uuid = "MIG-x"}};
	struct nvb_gpu gpu = {.vendor = NVB_VENDOR_NVIDIA, .index = 1, .name = "GPU one",
			      .uuid = "GPU-1", .pci_bus_id = "0000:3b:00.0", .minor = 3,
			      .numa_node = 1, .kernel_driver = "nvidia", .memory_total = 1ull << 34,
			      .cc_major = 9, .cc_minor = 0, .mig_mode = 1, .nodes = nodes,
			      .n_nodes = 1, .migs = migs, .n_migs = 1};
	struct nvb_driver_file file = {.path = "/usr/lib/libcuda.so.1", .kind = NVB_FILE_LIBRARY,
				       .soname = "libcuda.so.1", .caps = NVB_CAP_COMPUTE};
	char *missing[] = {"libnvidia-ml.so"};
	struct nvb_problem problem = {.severity = NVB_PROBLEM_WARNING, .code = "c", .message = "m",
				      .hint = "h"};
	struct nvb_gpu_extra extra = {.cdi_id = "0x1234", .partition = 2, .arch = "gfx942"};
	struct nvb_inventory next = {.driver = {.vendor = NVB_VENDOR_AMD}};
	struct nvb_inventory inv = {
		.driver = {.version = "580.1", .kernel_module = "open", .cuda_version = "13.0"},
		.gpus = &gpu, .n_gpus = 1, .control_nodes = &nodes[1], .n_control_nodes = 1,
		.files = &file, .n_files = 1, .missing = missing, .n_missing = 1,
		.problems = &problem, .n_problems = 1, .gpu_extra = &extra, .n_gpu_extra = 1,
		.platform = "wsl2", .next = &next,
	};
	assert_string_equal(nvb_inventory_driver_version(&inv), "580.1");
	assert_string_equal(nvb_inventory_kernel_module(&inv), "open");
	assert_string_equal(nvb_inventory_cuda_version(&inv), "13.0");
	assert_int_equal(nvb_inventory_gpu_count(&inv), 1);
	assert_ptr_equal(nvb_inventory_gpu(&inv, 0), &gpu);
	assert_null(nvb_inventory_gpu(&inv, 1));
	assert_int_equal(nvb_inventory_control_node_count(&inv), 1);
	assert_string_equal(nvb_device_node_path(nvb_inventory_control_node(&inv, 0)), "/dev/nvidiactl");
	assert_null(nvb_inventory_control_node(&inv, 1));
	assert_int_equal(nvb_inventory_file_count(&inv), 1);
	assert_null(nvb_inventory_file(&inv, 1));
	const struct nvb_driver_file *f = nvb_inventory_file(&inv, 0);
	assert_string_equal(nvb_driver_file_path(f), "/usr/lib/libcuda.so.1");
	assert_int_equal(nvb_driver_file_kind(f), NVB_FILE_LIBRARY);
	assert_string_equal(nvb_driver_file_soname(f), "libcuda.so.1");
	assert_int_equal(nvb_driver_file_caps(f), NVB_CAP_COMPUTE);
	assert_int_equal(nvb_inventory_missing_count(&inv), 1);
	assert_string_equal(nvb_inventory_missing(&inv, 0), "libnvidia-ml.so");
	assert_null(nvb_inventory_missing(&inv, 1));
	assert_int_equal(nvb_inventory_problem_count(&inv), 1);
	assert_null(nvb_inventory_problem(&inv, 1));
	const struct nvb_problem *p = nvb_inventory_problem(&inv, 0);
	assert_int_equal(nvb_problem_severity(p), NVB_PROBLEM_WARNING);
	assert_string_equal(nvb_problem_code(p), "c");
	assert_string_equal(nvb_problem_message(p), "m");
	assert_string_equal(nvb_problem_hint(p), "h");
	assert_ptr_equal(nvb_inventory_next(&inv), &next);
	assert_int_equal(nvb_inventory_vendor(nvb_inventory_next(&inv)), NVB_VENDOR_AMD);
	assert_string_equal(nvb_inventory_platform(&inv), "wsl2");
	assert_string_equal(nvb_inventory_gpu_cdi_id(&inv, 0), "0x1234");
	assert_int_equal(nvb_inventory_gpu_partition(&inv, 0), 2);
	assert_string_equal(nvb_inventory_gpu_arch(&inv, 0), "gfx942");
	assert_null(nvb_inventory_gpu_cdi_id(&inv, 1));
	assert_int_equal(nvb_inventory_gpu_partition(&inv, 1), -1);
	assert_null(nvb_inventory_gpu_arch(&inv, 1));
	/* no extras at all (an inventory of nvbind 0.1's layout) */
	assert_null(nvb_inventory_gpu_cdi_id(&next, 0));

	const struct nvb_gpu *g = nvb_inventory_gpu(&inv, 0);
	assert_int_equal(nvb_gpu_index(g), 1);
	assert_int_equal(nvb_gpu_vendor(g), NVB_VENDOR_NVIDIA);
	assert_string_equal(nvb_gpu_name(g), "GPU one");
	assert_string_equal(nvb_gpu_uuid(g), "GPU-1");
	assert_string_equal(nvb_gpu_pci_bus_id(g), "0000:3b:00.0");
	assert_string_equal(nvb_gpu_kernel_driver(g), "nvidia");
	assert_int_equal(nvb_gpu_minor(g), 3);
	assert_int_equal(nvb_gpu_numa_node(g), 1);
	assert_int_equal(nvb_gpu_memory_total(g), 1ull << 34);
	assert_int_equal(nvb_gpu_mig_mode(g), 1);
	int major = -5, minor = -5;
	assert_int_equal(nvb_gpu_compute_capability(g, &major, &minor), 0);
	assert_int_equal(major, 9);
	assert_int_equal(minor, 0);
	assert_int_equal(nvb_gpu_compute_capability(g, NULL, NULL), 0);
	assert_int_equal(nvb_gpu_node_count(g), 1);
	assert_int_equal(nvb_device_node_major(nvb_gpu_node(g, 0)), 195);
	assert_int_equal(nvb_device_node_minor(nvb_gpu_node(g, 0)), 3);
	assert_null(nvb_gpu_node(g, 1));
	assert_int_equal(nvb_gpu_mig_count(g), 1);
	assert_int_equal(nvb_mig_gi(nvb_gpu_mig(g, 0)), 2);
	assert_int_equal(nvb_mig_ci(nvb_gpu_mig(g, 0)), 1);
	assert_string_equal(nvb_mig_uuid(nvb_gpu_mig(g, 0)), "MIG-x");
	assert_null(nvb_gpu_mig(g, 1));
	/* compute capability unknown */
	gpu.cc_major = -1;
	assert_int_equal(nvb_gpu_compute_capability(g, &major, &minor), -1);
}

/* The mig-h100 fixture root: its MIG devices through the accessors, as the struct has them. */
static void test_accessors_mig_fixture(void **state)
{
	(void)state;
	char dir[1024];
	if (!fixture_root("mig-h100", dir, sizeof(dir)))
		return;
	struct nvb_error err;
	struct nvb_host *host = nvb_host_open(dir, &err);
	assert_non_null(host);
	struct nvb_inventory *inv = nvb_inventory_probe(host, NVB_PROBE_NO_NVML, &err);
	assert_non_null(inv);
	assert_int_equal(nvb_inventory_gpu_count(inv), 1);
	const struct nvb_gpu *g = nvb_inventory_gpu(inv, 0);
	assert_string_equal(nvb_gpu_pci_bus_id(g), "0000:19:00.0");
	assert_string_equal(nvb_gpu_uuid(g), "GPU-8c2f4b1a-7d3e-4f56-9a0b-1c2d3e4f5a6b");
	/* gi2/ci0 lacks its capability node: only gi1/ci0 is offered (mig-device-incomplete) */
	assert_int_equal(nvb_gpu_mig_count(g), 1);
	assert_true(nvb_gpu_mig_count(g) == inv->gpus[0].n_migs);
	assert_int_equal(nvb_mig_gi(nvb_gpu_mig(g, 0)), 1);
	assert_null(nvb_gpu_mig(g, 1));
	for (size_t i = 0; i < nvb_gpu_mig_count(g); i++) {
		assert_int_equal(nvb_mig_gi(nvb_gpu_mig(g, i)), inv->gpus[0].migs[i].gi);
		assert_int_equal(nvb_mig_ci(nvb_gpu_mig(g, i)), inv->gpus[0].migs[i].ci);
	}
	/* a missing caps node is a problem the accessors show with its code and hint */
	bool found = false;
	for (size_t i = 0; i < nvb_inventory_problem_count(inv); i++) {
		const struct nvb_problem *p = nvb_inventory_problem(inv, i);
		assert_non_null(nvb_problem_code(p));
		assert_non_null(nvb_problem_message(p));
		found = found || strstr(nvb_problem_message(p), "nvidia-cap22");
	}
	assert_true(found);
	assert_string_equal(nvb_inventory_driver_version(inv), inv->driver.version);
	assert_int_equal(nvb_inventory_control_node_count(inv), inv->n_control_nodes);
	nvb_inventory_free(inv);
	nvb_host_free(host);
}

/* The amd-host fixture root: the AMD inventory in the chain, with arch and partitions. */
static void test_accessors_amd_fixture(void **state)
{
	(void)state;
	char dir[1024];
	if (!fixture_root("amd-host", dir, sizeof(dir)))
		return;
	struct nvb_error err;
	struct nvb_host *host = nvb_host_open(dir, &err);
	assert_non_null(host);
	struct nvb_inventory *head = nvb_inventory_probe(host, NVB_PROBE_NO_NVML, &err);
	assert_non_null(head);
	assert_int_equal(nvb_inventory_vendor(head), NVB_VENDOR_NVIDIA);
	const struct nvb_inventory *amd = nvb_inventory_next(head);
	assert_non_null(amd);
	assert_int_equal(nvb_inventory_vendor(amd), NVB_VENDOR_AMD);
	assert_true(nvb_inventory_gpu_count(amd) > 0);
	for (size_t i = 0; i < nvb_inventory_gpu_count(amd); i++) {
		const struct nvb_gpu *g = nvb_inventory_gpu(amd, i);
		assert_int_equal(nvb_gpu_vendor(g), NVB_VENDOR_AMD);
		assert_int_equal(nvb_gpu_index(g), i);
		assert_non_null(nvb_inventory_gpu_arch(amd, i));
		assert_int_equal(nvb_inventory_gpu_partition(amd, i), amd->gpu_extra[i].partition);
		assert_ptr_equal(nvb_inventory_gpu_cdi_id(amd, i), amd->gpu_extra[i].cdi_id);
	}
	size_t n = nvb_inventory_gpu_count(amd);
	assert_null(nvb_inventory_gpu_arch(amd, n));
	assert_int_equal(nvb_inventory_gpu_partition(amd, n), -1);
	nvb_inventory_free(head);
	nvb_host_free(host);
}

/* ---------------------------------------------------- option struct sizes */

/* A caller's struct from a newer header: ours plus a tail. */
struct bigger_cdi_options {
	struct nvb_cdi_options o;
	uint64_t newer_field;
};

static void test_option_sizes(void **state)
{
	(void)state;
	char dir[1024];
	if (!fixture_root("debian-4gpu", dir, sizeof(dir)))
		return;
	struct nvb_error err;
	struct nvb_host *host = nvb_host_open(dir, &err);
	assert_non_null(host);
	struct nvb_cdi_options o = {.size = 3};
	/* a size smaller than the size field itself, and one no struct will ever have */
	assert_null(nvb_cdi_generate_string(host, NULL, &o, &err));
	assert_int_equal(err.code, NVB_ERR_USAGE);
	assert_non_null(strstr(err.message, "size 3"));
	o.size = 1u << 20;
	assert_null(nvb_cdi_generate_string(host, NULL, &o, &err));
	assert_int_equal(err.code, NVB_ERR_USAGE);
	/* a newer struct: accepted while its unknown tail is zero, refused when it is set */
	struct bigger_cdi_options big = {.o = {.size = sizeof(big), .hook_path = "/usr/bin/nvbind-hook"}};
	char *text = nvb_cdi_generate_string(host, NULL, &big.o, &err);
	assert_non_null(text);
	assert_non_null(strstr(text, "nvidia.com/gpu"));
	nvb_free(text);
	big.newer_field = 1;
	assert_null(nvb_cdi_generate_string(host, NULL, &big.o, &err));
	assert_int_equal(err.code, NVB_ERR_UNSUPPORTED);
	assert_non_null(strstr(err.message, "nvb_cdi_options"));
	/* an older struct (only size and kind): the rest takes its defaults */
	struct nvb_cdi_options older = {.size = offsetof(struct nvb_cdi_options, naming),
					.kind = "example.com/gpu", .naming = 0xff};
	text = nvb_cdi_generate_string(host, NULL, &older, &err);
	assert_non_null(text);
	assert_non_null(strstr(text, "example.com/gpu"));
	nvb_free(text);
	/* the same rule for apply options, a NULL err included */
	struct nvb_apply_options a = {.size = 2};
	assert_null(nvb_oci_apply(host, "{}", &a, NULL));
	assert_null(nvb_oci_apply(host, "{}", &a, &err));
	assert_int_equal(err.code, NVB_ERR_USAGE);
	nvb_host_free(host);
}

/* ------------------------------------------------------- spec generation */

static void test_generate_errors(void **state)
{
	(void)state;
	char dir[1024];
	if (!fixture_root("debian-4gpu", dir, sizeof(dir)))
		return;
	struct nvb_error err;
	struct nvb_host *host = nvb_host_open(dir, &err);
	assert_non_null(host);
	struct nvb_cdi_options o = {.size = sizeof(o), .hook_path = "/usr/bin/nvbind-hook"};

	o.format = (enum nvb_spec_format)7;
	assert_null(nvb_cdi_generate_string(host, NULL, &o, &err));
	assert_int_equal(err.code, NVB_ERR_USAGE);
	assert_non_null(strstr(err.message, "format 7"));
	o.format = NVB_SPEC_JSON;
	assert_null(nvb_cdi_generate_string(NULL, NULL, &o, &err));
	assert_int_equal(err.code, NVB_ERR_USAGE);
	assert_non_null(strstr(err.message, "no host"));
	o.kind = "no-slash";
	assert_null(nvb_cdi_generate_string(host, NULL, &o, &err));
	assert_int_equal(err.code, NVB_ERR_USAGE);
	assert_non_null(strstr(err.message, "no-slash"));
	o.kind = NULL;
	o.naming = 0x80;
	assert_null(nvb_cdi_generate_string(host, NULL, &o, &err));
	assert_int_equal(err.code, NVB_ERR_USAGE);
	o.naming = 0;
	o.caps = 1u << 30;
	assert_null(nvb_cdi_generate_string(host, NULL, &o, &err));
	assert_int_equal(err.code, NVB_ERR_USAGE);
	o.caps = 0;
	/* an AMD kind on a host with NVIDIA GPUs only: nothing to put in a spec */
	o.kind = "amd.com/gpu";
	assert_null(nvb_cdi_generate_string(host, NULL, &o, &err));
	assert_int_equal(err.code, NVB_ERR_NOT_FOUND);
	assert_non_null(strstr(err.message, "amd.com/gpu"));
	o.kind = NULL;

	/* files: no path, a name engines do not read, a directory that does not exist */
	assert_int_equal(nvb_cdi_generate_file(host, NULL, &o, NULL, &err), -1);
	assert_int_equal(err.code, NVB_ERR_USAGE);
	char path[256];
	snprintf(path, sizeof(path), "%s/spec.txt", root);
	assert_int_equal(nvb_cdi_generate_file(host, NULL, &o, path, &err), -1);
	assert_int_equal(err.code, NVB_ERR_USAGE);
	assert_non_null(strstr(err.message, ".json or .yaml"));
	assert_int_equal(access(path, F_OK), -1);
	snprintf(path, sizeof(path), "%s/none/spec.json", root);
	assert_int_equal(nvb_cdi_generate_file(host, NULL, &o, path, &err), -1);
	struct nvb_cdi_options bad = {.size = 1};
	snprintf(path, sizeof(path), "%s/spec.yaml", root);
	assert_int_equal(nvb_cdi_generate_file(host, NULL, &bad, path, &err), -1);
	assert_int_equal(err.code, NVB_ERR_USAGE);
	o.kind = "bad kind";
	assert_int_equal(nvb_cdi_generate_file(host, NULL, &o, path, &err), -1);
	assert_int_equal(access(path, F_OK), -1);
	o.kind = NULL;

	/* a .yaml file with a given inventory: YAML whatever opts->format says */
	struct nvb_inventory *inv = nvb_inventory_probe(host, NVB_PROBE_NO_NVML, &err);
	assert_non_null(inv);
	o.format = NVB_SPEC_JSON;
	assert_int_equal(nvb_cdi_generate_file(host, inv, &o, path, &err), 0);
	FILE *f = fopen(path, "re");
	assert_non_null(f);
	char line[256];
	assert_non_null(fgets(line, sizeof(line), f));
	fclose(f);
	assert_true(line[0] != '{');
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	nvb_inventory_free(inv);
	nvb_host_free(host);
}

/* ------------------------------------------------------------ config apply */

#define CONFIG "{\"ociVersion\":\"1.0.2\",\"process\":{\"env\":[]},\"root\":{\"path\":\"rootfs\"}}"

static void test_apply_errors(void **state)
{
	(void)state;
	char dir[1024];
	if (!fixture_root("debian-4gpu", dir, sizeof(dir)))
		return;
	struct nvb_error err;
	struct nvb_host *host = nvb_host_open(dir, &err);
	assert_non_null(host);
	struct nvb_apply_options o = {.size = sizeof(o), .hook_path = "/usr/bin/nvbind-hook"};

	assert_null(nvb_oci_apply(host, NULL, &o, &err));
	assert_int_equal(err.code, NVB_ERR_USAGE);
	assert_null(nvb_oci_apply(host, "{\"a\":1,\"a\":2}", &o, &err));
	assert_int_equal(err.code, NVB_ERR_PARSE);
	assert_null(nvb_oci_apply(host, "[1,2]", &o, &err));
	assert_int_equal(err.code, NVB_ERR_INVALID);
	assert_non_null(strstr(err.message, "not a JSON object"));
	assert_null(nvb_oci_apply(NULL, CONFIG, &o, &err));
	assert_int_equal(err.code, NVB_ERR_USAGE);
	o.flags = 0x100;
	assert_null(nvb_oci_apply(host, CONFIG, &o, &err));
	assert_int_equal(err.code, NVB_ERR_USAGE);
	assert_non_null(strstr(err.message, "0x100"));
	o.flags = 0;
	o.n_devices = 1;
	assert_null(nvb_oci_apply(host, CONFIG, &o, &err));
	assert_int_equal(err.code, NVB_ERR_USAGE);
	const char *devs[] = {"nvidia.com/gpu=0", NULL};
	o.devices = devs;
	o.n_devices = 2;
	assert_null(nvb_oci_apply(host, CONFIG, &o, &err));
	assert_int_equal(err.code, NVB_ERR_USAGE);
	assert_non_null(strstr(err.message, "devices[1]"));
	o.n_devices = 0;
	o.devices = NULL;
	o.n_spec_dirs = 1;
	assert_null(nvb_oci_apply(host, CONFIG, &o, &err));
	assert_int_equal(err.code, NVB_ERR_USAGE);
	o.n_spec_dirs = 0;

	/* a config over the size limit is refused before it is parsed */
	size_t big = NVB_OCI_CONFIG_MAX + 2;
	char *huge = malloc(big + 1);
	assert_non_null(huge);
	memset(huge, ' ', big);
	huge[0] = '{';
	huge[big - 1] = '}';
	huge[big] = 0;
	assert_null(nvb_oci_apply(host, huge, &o, &err));
	assert_int_equal(err.code, NVB_ERR_INVALID);
	free(huge);

	/* nothing requested: the config comes back the same, with the default spec dirs */
	char *out = nvb_oci_apply(host, CONFIG, &o, &err);
	assert_non_null(out);
	assert_string_equal(out, CONFIG);
	nvb_free(out);

	/* from a file: no path, a missing file, a symbolic link, a FIFO, then the file itself */
	assert_null(nvb_oci_apply_file(host, NULL, &o, &err));
	assert_int_equal(err.code, NVB_ERR_USAGE);
	char path[256], link[256], fifo[256];
	snprintf(path, sizeof(path), "%s/config.json", root);
	snprintf(link, sizeof(link), "%s/link.json", root);
	snprintf(fifo, sizeof(fifo), "%s/fifo.json", root);
	assert_null(nvb_oci_apply_file(host, path, &o, &err));
	assert_int_equal(err.code, NVB_ERR_NOT_FOUND);
	write_text(path, CONFIG);
	assert_int_equal(symlink(path, link), 0);
	assert_null(nvb_oci_apply_file(host, link, &o, &err));
	assert_int_not_equal(err.code, NVB_OK);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_null(nvb_oci_apply_file(host, fifo, &o, &err));
	assert_int_not_equal(err.code, NVB_OK);
	out = nvb_oci_apply_file(host, path, &o, &err);
	assert_non_null(out);
	assert_string_equal(out, CONFIG);
	nvb_free(out);
	write_text(path, "{\"process\":");
	assert_null(nvb_oci_apply_file(host, path, &o, &err));
	assert_int_equal(err.code, NVB_ERR_PARSE);
	assert_non_null(strstr(err.message, path));
	nvb_host_free(host);
}

/* ------------------------------------------------------------ capsules */

static void test_capsule_errors(void **state)
{
	(void)state;
	char dir[1024];
	if (!fixture_root("debian-4gpu", dir, sizeof(dir)))
		return;
	struct nvb_error err;
	struct nvb_host *host = nvb_host_open(dir, &err);
	assert_non_null(host);
	struct nvb_capsule_options o = {.size = sizeof(o), .capsule_id = "c1", .gpu = "none",
					.hook_path = "/usr/bin/nvbind-hook"};

	assert_null(nvb_setup_gpu_for_capsule(NULL, NULL, &o, &err));
	assert_int_equal(err.code, NVB_ERR_USAGE);
	const char *bad_ids[] = {NULL, "", ".hidden", "-x", "a/b", "a b"};
	for (size_t i = 0; i < sizeof(bad_ids) / sizeof(bad_ids[0]); i++) {
		o.capsule_id = bad_ids[i];
		assert_null(nvb_setup_gpu_for_capsule(host, NULL, &o, &err));
		assert_int_equal(err.code, NVB_ERR_USAGE);
	}
	char long_id[200];
	memset(long_id, 'a', sizeof(long_id) - 1);
	long_id[sizeof(long_id) - 1] = 0;
	o.capsule_id = long_id;
	assert_null(nvb_setup_gpu_for_capsule(host, NULL, &o, &err));
	assert_int_equal(err.code, NVB_ERR_USAGE);
	long_id[128] = 0; /* 128 is allowed */
	char *out = nvb_setup_gpu_for_capsule(host, NULL, &o, &err);
	assert_non_null(out);
	nvb_free(out);
	o.capsule_id = "c1";

	o.n_env = 1;
	assert_null(nvb_setup_gpu_for_capsule(host, NULL, &o, &err));
	assert_int_equal(err.code, NVB_ERR_USAGE);
	const char *env_null[] = {"A=1", NULL};
	o.env = env_null;
	o.n_env = 2;
	assert_null(nvb_setup_gpu_for_capsule(host, NULL, &o, &err));
	assert_int_equal(err.code, NVB_ERR_USAGE);
	assert_non_null(strstr(err.message, "env[1]"));
	const char *env_bad[] = {"NOVALUE"};
	o.env = env_bad;
	o.n_env = 1;
	assert_null(nvb_setup_gpu_for_capsule(host, NULL, &o, &err));
	assert_int_equal(err.code, NVB_ERR_USAGE);
	assert_non_null(strstr(err.message, "NOVALUE"));
	o.env = NULL;
	o.n_env = 0;
	o.n_spec_dirs = 1;
	assert_null(nvb_setup_gpu_for_capsule(host, NULL, &o, &err));
	assert_int_equal(err.code, NVB_ERR_USAGE);
	o.n_spec_dirs = 0;
	o.profile = "mining";
	assert_null(nvb_setup_gpu_for_capsule(host, NULL, &o, &err));
	assert_int_equal(err.code, NVB_ERR_NOT_FOUND);
	assert_non_null(strstr(err.message, "mining"));
	o.profile = NULL;
	o.gpu = "nvidia.com/gpu";
	assert_null(nvb_setup_gpu_for_capsule(host, NULL, &o, &err));
	assert_int_equal(err.code, NVB_ERR_USAGE);
	assert_non_null(strstr(err.message, "not a qualified"));
	o.gpu = "none";

	/* configs the capsule's facts cannot go into */
	assert_null(nvb_setup_gpu_for_capsule(host, "{\"process\":[]}", &o, &err));
	assert_int_equal(err.code, NVB_ERR_INVALID);
	assert_non_null(strstr(err.message, "process"));
	assert_null(nvb_setup_gpu_for_capsule(host, "{\"process\":{\"env\":{}}}", &o, &err));
	assert_int_equal(err.code, NVB_ERR_INVALID);
	assert_non_null(strstr(err.message, "process.env"));
	assert_null(nvb_setup_gpu_for_capsule(host, "{\"annotations\":[]}", &o, &err));
	assert_int_equal(err.code, NVB_ERR_INVALID);
	assert_null(nvb_setup_gpu_for_capsule(host, "[]", &o, &err));
	assert_int_equal(err.code, NVB_ERR_INVALID);
	assert_null(nvb_setup_gpu_for_capsule(host, "{", &o, &err));
	assert_int_equal(err.code, NVB_ERR_PARSE);
	nvb_host_free(host);
}

static const char *env_value(json_t *config, const char *name)
{
	json_t *env = json_object_get(json_object_get(config, "process"), "env");
	size_t len = strlen(name), i;
	json_t *v;
	json_array_foreach (env, i, v) {
		const char *s = json_string_value(v);
		if (s && !strncmp(s, name, len) && s[len] == '=')
			return s + len + 1;
	}
	return NULL;
}

/* The profile's variables under the config's own, the capsule's env over both (a later one
 * replacing an earlier one of the same name), and the annotations. */
static void test_capsule_env_order(void **state)
{
	(void)state;
	char dir[1024];
	if (!fixture_root("debian-4gpu", dir, sizeof(dir)))
		return;
	struct nvb_error err;
	struct nvb_host *host = nvb_host_open(dir, &err);
	assert_non_null(host);
	const char *env[] = {"MINE=1", "MINE=2", "KEEP=capsule"};
	struct nvb_capsule_options o = {.size = sizeof(o), .capsule_id = "cap.1", .gpu = " , none",
					.profile = "compute", .env = env, .n_env = 3,
					.hook_path = "/usr/bin/nvbind-hook"};
	const char *config = "{\"ociVersion\":\"1.0.2\",\"process\":{\"env\":[\"KEEP=config\","
			     "\"PATH=/bin\"]},\"root\":{\"path\":\"rootfs\"}}";
	char *out = nvb_setup_gpu_for_capsule(host, config, &o, &err);
	assert_non_null(out);
	json_error_t jerr;
	json_t *j = json_loads(out, 0, &jerr);
	assert_non_null(j);
	assert_string_equal(env_value(j, "MINE"), "2");
	assert_string_equal(env_value(j, "KEEP"), "capsule");
	assert_string_equal(env_value(j, "PATH"), "/bin");
	json_t *ann = json_object_get(j, "annotations");
	assert_string_equal(json_string_value(json_object_get(ann, "nvbind.io/capsule")), "cap.1");
	assert_string_equal(json_string_value(json_object_get(ann, "nvbind.io/profile")), "compute");
	/* the given config is returned whole, not as edits */
	assert_string_equal(json_string_value(json_object_get(j, "ociVersion")), "1.0.2");
	json_decref(j);
	nvb_free(out);

	/* the edits-only form has no ociVersion and no root */
	out = nvb_setup_gpu_for_capsule(host, NULL, &o, &err);
	assert_non_null(out);
	j = json_loads(out, 0, &jerr);
	assert_non_null(j);
	assert_null(json_object_get(j, "ociVersion"));
	assert_null(json_object_get(j, "root"));
	assert_string_equal(env_value(j, "MINE"), "2");
	json_decref(j);
	nvb_free(out);
	nvb_host_free(host);
}

static void test_apply_cdi_devices_errors(void **state)
{
	(void)state;
	char dir[1024];
	if (!fixture_root("debian-4gpu", dir, sizeof(dir)))
		return;
	struct nvb_error err;
	struct nvb_host *host = nvb_host_open(dir, &err);
	assert_non_null(host);
	const char *names[] = {"nvidia.com/gpu=0", NULL, "gpu0"};
	assert_null(nvb_apply_cdi_devices(host, CONFIG, NULL, 1, NULL, 0, &err));
	assert_int_equal(err.code, NVB_ERR_USAGE);
	assert_null(nvb_apply_cdi_devices(host, CONFIG, names, 0, NULL, 0, &err));
	assert_int_equal(err.code, NVB_ERR_USAGE);
	assert_null(nvb_apply_cdi_devices(host, CONFIG, names, 2, NULL, 0, &err));
	assert_int_equal(err.code, NVB_ERR_USAGE);
	assert_non_null(strstr(err.message, "(null)"));
	assert_null(nvb_apply_cdi_devices(host, CONFIG, names + 2, 1, NULL, 0, NULL));
	assert_null(nvb_apply_cdi_devices(host, CONFIG, names + 2, 1, NULL, 0, &err));
	assert_int_equal(err.code, NVB_ERR_USAGE);
	assert_non_null(strstr(err.message, "gpu0"));
	/* a name of a kind no spec in an empty spec dir defines */
	const char *other[] = {"example.com/thing=x"};
	char specs[128];
	snprintf(specs, sizeof(specs), "%s/specs", root);
	assert_int_equal(mkdir(specs, 0755), 0);
	const char *dirs[] = {specs};
	assert_null(nvb_apply_cdi_devices(host, CONFIG, other, 1, dirs, 1, &err));
	assert_int_equal(err.code, NVB_ERR_NOT_FOUND);
	nvb_host_free(host);
}

/* Without spec_dirs, the specs of /etc/cdi inside the host root are used (a root of our own:
 * /var/run/cdi absent there is left out). */
static void test_apply_default_spec_dirs(void **state)
{
	(void)state;
	char dir[160], cmd[512];
	snprintf(dir, sizeof(dir), "%s/root/etc/cdi", root);
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", dir);
	assert_int_equal(system(cmd), 0);
	snprintf(cmd, sizeof(cmd), "%s/thing.json", dir);
	write_text(cmd, "{\"cdiVersion\":\"0.6.0\",\"kind\":\"example.com/thing\",\"devices\":"
			"[{\"name\":\"x\",\"containerEdits\":{\"env\":[\"THING=x\"]}}]}");
	snprintf(dir, sizeof(dir), "%s/root", root);
	struct nvb_error err;
	struct nvb_host *host = nvb_host_open(dir, &err);
	assert_non_null(host);
	const char *names[] = {"example.com/thing=x"};
	char *out = nvb_apply_cdi_devices(host, CONFIG, names, 1, NULL, 0, &err);
	assert_non_null(out);
	assert_non_null(strstr(out, "\"THING=x\""));
	nvb_free(out);
	const char *other[] = {"example.com/thing=y"};
	assert_null(nvb_apply_cdi_devices(host, CONFIG, other, 1, NULL, 0, &err));
	assert_int_equal(err.code, NVB_ERR_NOT_FOUND);
	nvb_host_free(host);
}

/* ------------------------------------------------------- small API calls */

static void test_small_calls(void **state)
{
	(void)state;
	struct nvb_error err;
	unsigned bits = 0;
	assert_int_equal(nvb_naming_parse(NULL, &bits, &err), -1);
	assert_int_equal(err.code, NVB_ERR_USAGE);
	assert_int_equal(nvb_naming_parse("uuid", NULL, &err), -1);
	assert_int_equal(nvb_naming_parse("uuid,type-index", &bits, &err), 0);
	assert_int_equal(bits, NVB_NAMING_UUID | NVB_NAMING_TYPE_INDEX);
	assert_int_equal(nvb_naming_parse("serial", &bits, &err), -1);

	enum nvb_isolation level = NVB_ISOLATION_SHARED;
	assert_string_equal(nvb_isolation_name(NVB_ISOLATION_VIRTUAL), "virtual");
	assert_null(nvb_isolation_name((enum nvb_isolation)3));
	assert_null(nvb_isolation_name((enum nvb_isolation)-1));
	assert_int_equal(nvb_isolation_parse("exclusive", &level), 0);
	assert_int_equal(level, NVB_ISOLATION_EXCLUSIVE);
	assert_int_equal(nvb_isolation_parse("Exclusive", &level), -1);
	assert_int_equal(nvb_isolation_parse(NULL, &level), -1);
	assert_int_equal(level, NVB_ISOLATION_EXCLUSIVE);

	assert_int_equal(nvb_release_gpu_isolation(root, "../x", &err), -1);
	assert_int_equal(err.code, NVB_ERR_USAGE);
	assert_int_equal(nvb_release_gpu_isolation(root, NULL, NULL), -1);
	/* isolation never used in this state dir: nothing to release, nothing created */
	assert_int_equal(nvb_release_gpu_isolation(root, "c1", &err), 0);
	char iso[128];
	snprintf(iso, sizeof(iso), "%s/isolation", root);
	assert_int_equal(access(iso, F_OK), -1);

	assert_null(nvb_configure_gpu_isolation(NULL, NULL, NULL, &err));
	assert_int_equal(err.code, NVB_ERR_USAGE);
	assert_null(nvb_configure_gpu_isolation(NULL, "[]", NULL, &err));
	assert_int_equal(err.code, NVB_ERR_PARSE);
	assert_non_null(strstr(err.message, "not a JSON object"));
	assert_null(nvb_configure_gpu_isolation(NULL, "{", NULL, &err));
	assert_int_equal(err.code, NVB_ERR_PARSE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accessors_null),
		cmocka_unit_test(test_accessors_fields),
		cmocka_unit_test(test_accessors_mig_fixture),
		cmocka_unit_test(test_accessors_amd_fixture),
		cmocka_unit_test(test_option_sizes),
		cmocka_unit_test(test_generate_errors),
		cmocka_unit_test(test_apply_errors),
		cmocka_unit_test(test_capsule_errors),
		cmocka_unit_test(test_capsule_env_order),
		cmocka_unit_test(test_apply_cdi_devices_errors),
		cmocka_unit_test(test_apply_default_spec_dirs),
		cmocka_unit_test(test_small_calls),
	};
	return cmocka_run_group_tests(tests, root_setup, root_teardown);
}
