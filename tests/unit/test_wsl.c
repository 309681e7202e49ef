/* SPDX-License-Identifier: Apache-2.0 */
/* The NVIDIA probe's additions: WSL2 (one /dev/dxg device, the WSL library shims and the
 * driver store's files) and MIG capability nodes (created when allowed, else a problem with
 * the command that creates them), on hand-made roots, then on the wsl2-host and mig-h100
 * fixture roots when tests/run.sh has built them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <unistd.h>

#include "inventory/inventory.h"
#include "testroot.h"
#include "probe/nvidia/nvidia.h"

/* An ELF file at rel: this test program (a PIE, no SONAME) or the C library (SONAME libc.so.6) */
static void put_elf(const char *rel, bool with_soname)
{
	char from[512] = "";
	if (with_soname) {
		FILE *maps = fopen("/proc/self/maps", "r");
		char line[1024];
		while (maps && fgets(line, sizeof(line), maps) && !from[0]) {
			char *p = strchr(line, '/');
			if (p && strstr(p, "/libc.so.6"))
				snprintf(from, sizeof(from), "%.*s", (int)strcspn(p, "\n"), p);
		}
		if (maps)
			fclose(maps);
		assert_true(from[0]);
	} else {
		snprintf(from, sizeof(from), "/proc/%d/exe", (int)getpid());
	}
	sh("mkdir -p \"$(dirname '%s%s')\" && cp '%s' '%s%s'", root, rel, from, root, rel);
}

static const struct nvb_driver_file *file_at(const struct nvb_inventory *inv, const char *path)
{
	for (size_t i = 0; i < inv->n_files; i++)
		if (!strcmp(inv->files[i].path, path))
			return &inv->files[i];
	return NULL;
}

#define STORE "/usr/lib/wsl/drivers/nv_dispi.inf_amd64_9b0bbd8a6a7fd2a6"

static void wsl_host(void)
{
	node("/dev/dxg", 10, 63);
	put_elf("/usr/lib/wsl/lib/libdxcore.so", false);
	put_elf("/usr/lib/wsl/lib/libd3d12.so", false);
	put_elf("/usr/lib/wsl/lib/libd3d12core.so", false);
	put_elf("/usr/lib/wsl/lib/libcuda.so", false);
	put_elf("/usr/lib/wsl/lib/libcuda.so.1", false);
	put_elf("/usr/lib/wsl/lib/libcuda.so.1.1", true);
	put_elf("/usr/lib/wsl/lib/libnvidia-ml.so.1", false);
	put_elf("/usr/lib/wsl/lib/libother.so", false);          /* not NVIDIA's */
	put("/usr/lib/wsl/lib/libnvidia-broken.so.1", "text\n"); /* not an ELF file */
	put_elf(STORE "/libcuda.so.1.1", true);
	put_elf(STORE "/libnvidia-ml.so.1", false);
	put_elf(STORE "/libnvidia-ptxjitcompiler.so.1", false);
	put_elf(STORE "/libnvwgf2umx.so", false);
	put(STORE "/nvcubins.bin", "cubins\n");
	put(STORE "/nvwgf2umx.dll", "MZ\n");
	put_elf(STORE "/nvidia-smi", false);
	put(STORE "/README.txt", "not mounted\n");
	sh("mkdir -p '%s" STORE "/subdir.so'", root); /* a directory named like a library */
	/* Intel's store has no libcuda: ignored */
	put_elf("/usr/lib/wsl/drivers/iigd_dch.inf_amd64_3a6bd1cc4f9e2a71/libigd12umd64.so", false);
}

static void test_wsl_probe(void **state)
{
	wsl_host();
	struct nvb_inventory *head = probe_root(root, 0);
	assert_int_equal(nvb_inventory_vendor(head), NVB_VENDOR_NVIDIA);
	assert_string_equal(nvb_inventory_platform(head), "wsl2");
	assert_null(head->driver.version); /* libcuda.so.1.1's "1.1" is no driver version */
	assert_null(head->driver.kernel_module);
	assert_int_equal(head->n_control_nodes, 0);
	assert_int_equal(head->n_gpus, 1);
	assert_int_equal(head->n_gpu_extra, 1);
	const struct nvb_gpu *g = &head->gpus[0];
	assert_int_equal(g->index, 0);
	assert_int_equal(g->vendor, NVB_VENDOR_NVIDIA);
	assert_string_equal(g->name, "NVIDIA GPU (WSL2)");
	assert_string_equal(g->kernel_driver, "dxgkrnl");
	assert_int_equal(g->minor, -1);
	assert_int_equal(g->n_nodes, 1);
	assert_string_equal(g->nodes[0].path, "/dev/dxg");
	assert_int_equal(g->nodes[0].major, 10);
	assert_int_equal(g->nodes[0].minor, 63);
	assert_false(nvb_inventory_has_problem(head, "driver-not-loaded"));
	assert_false(nvb_inventory_has_problem(head, "no-gpu"));
	assert_false(nvb_inventory_has_problem(head, "wsl-driver-stores"));

	const struct nvb_driver_file *f = file_at(head, "/usr/lib/wsl/lib/libdxcore.so");
	assert_non_null(f);
	assert_int_equal(f->kind, NVB_FILE_LIBRARY);
	assert_int_equal(f->caps, NVB_CAP_COMPUTE | NVB_CAP_GRAPHICS);
	assert_int_equal(f->elf_class, (int)sizeof(void *) * 8);
	assert_non_null(file_at(head, "/usr/lib/wsl/lib/libd3d12core.so"));
	assert_non_null(file_at(head, "/usr/lib/wsl/lib/libcuda.so.1"));
	f = file_at(head, "/usr/lib/wsl/lib/libcuda.so.1.1");
	assert_non_null(f);
	assert_string_equal(f->soname, "libc.so.6"); /* read from the ELF file */
	assert_true(f->caps & NVB_CAP_COMPUTE);
	assert_int_equal(file_at(head, "/usr/lib/wsl/lib/libnvidia-ml.so.1")->caps, NVB_CAP_UTILITY);
	assert_null(file_at(head, "/usr/lib/wsl/lib/libother.so"));
	assert_null(file_at(head, "/usr/lib/wsl/lib/libnvidia-broken.so.1"));
	assert_int_equal(head->n_skipped, 1);
	assert_string_equal(head->skipped[0].path, "/usr/lib/wsl/lib/libnvidia-broken.so.1");

	f = file_at(head, STORE "/libcuda.so.1.1");
	assert_non_null(f);
	assert_int_equal(f->kind, NVB_FILE_LIBRARY);
	assert_non_null(file_at(head, STORE "/libnvidia-ptxjitcompiler.so.1"));
	assert_non_null(file_at(head, STORE "/libnvwgf2umx.so"));
	f = file_at(head, STORE "/nvcubins.bin");
	assert_non_null(f);
	assert_int_equal(f->kind, NVB_FILE_FIRMWARE);
	assert_true(f->caps & NVB_CAP_COMPUTE);
	assert_int_equal(file_at(head, STORE "/nvwgf2umx.dll")->kind, NVB_FILE_FIRMWARE);
	f = file_at(head, STORE "/nvidia-smi");
	assert_non_null(f);
	assert_int_equal(f->kind, NVB_FILE_BINARY);
	assert_int_equal(f->caps, NVB_CAP_UTILITY);
	assert_null(file_at(head, STORE "/README.txt"));
	assert_null(file_at(head, STORE "/subdir.so"));
	for (size_t i = 0; i < head->n_files; i++)
		assert_null(strstr(head->files[i].path, "iigd_dch"));
	nvb_inventory_free(head);
	(void)state;
}

static void test_wsl_two_stores_and_version(void **state)
{
	wsl_host();
	put_elf("/usr/lib/wsl/drivers/nv_dispi.inf_amd64_0aaa/libcuda.so.1.1", true);
	put_elf("/usr/lib/wsl/drivers/nv_dispi.inf_amd64_0aaa/libnvidia-ml.so.565.90", false);
	struct nvb_inventory *head = probe_root(root, 0);
	/* the first by name is used, and the other named */
	assert_true(nvb_inventory_has_problem(head, "wsl-driver-stores"));
	assert_non_null(file_at(head, "/usr/lib/wsl/drivers/nv_dispi.inf_amd64_0aaa/libcuda.so.1.1"));
	assert_null(file_at(head, STORE "/libcuda.so.1.1"));
	assert_string_equal(head->driver.version, "565.90");
	nvb_inventory_free(head);
	(void)state;
}

/* NVML names the GPU: the h100-host fixture's NVML stand-in (it knows one H100) as WSL's shim */
static void test_wsl_nvml_name(void **state)
{
	const char *base = getenv("NVB_FIXTURE_ROOTS");
	char nvml[1024];
	struct stat st;
	snprintf(nvml, sizeof(nvml), "%s/h100-host/usr/local/nvidia/lib64/libnvidia-ml.so.1",
		 base ? base : "");
	if (!base || stat(nvml, &st) < 0) {
		print_message("fixture root h100-host not built (NVB_FIXTURE_ROOTS): skipped\n");
		return;
	}
	wsl_host();
	sh("rm -f '%s/usr/lib/wsl/lib/libnvidia-ml.so.1' '%s" STORE "/libnvidia-ml.so.1' && "
	   "cp -L '%s' '%s/usr/lib/wsl/lib/libnvidia-ml.so.1'", root, root, nvml, root);
	struct nvb_error err;
	struct nvb_host *host = nvb_host_open(root, &err);
	assert_non_null(host);
	struct nvb_inventory *head = nvb_inventory_probe(host, 0, &err);
	assert_non_null(head);
	assert_string_equal(head->gpus[0].name, "NVIDIA H100 80GB HBM3");
	assert_true(head->driver.nvml_loaded);
	nvb_inventory_free(head);
	/* NVML not asked for: the generic name */
	head = nvb_inventory_probe(host, NVB_PROBE_NO_NVML, &err);
	assert_string_equal(head->gpus[0].name, "NVIDIA GPU (WSL2)");
	nvb_inventory_free(head);
	nvb_host_free(host);
	(void)state;
}

static void test_wsl_not_wsl(void **state)
{
	wsl_host();
	sh("rm -f '%s/usr/lib/wsl/lib/libdxcore.so'", root);
	struct nvb_inventory *head = probe_root(root, 0);
	assert_null(nvb_inventory_platform(head));
	assert_int_equal(head->n_gpus, 0);
	assert_true(nvb_inventory_has_problem(head, "no-gpu"));
	nvb_inventory_free(head);
	/* dxcore but no /dev/dxg (WSL1, or GPU support off) */
	put_elf("/usr/lib/wsl/lib/libdxcore.so", false);
	sh("rm -f '%s/dev/dxg'", root);
	head = probe_root(root, 0);
	assert_null(nvb_inventory_platform(head));
	assert_int_equal(head->n_gpus, 0);
	nvb_inventory_free(head);
	/* /dev/dxg that is no device, and no driver store: problems, the platform still known */
	put("/dev/dxg", "");
	sh("rm -rf '%s/usr/lib/wsl/drivers'", root);
	head = probe_root(root, 0);
	assert_string_equal(nvb_inventory_platform(head), "wsl2");
	assert_int_equal(head->n_gpus, 1);
	assert_int_equal(head->gpus[0].n_nodes, 0);
	assert_true(nvb_inventory_has_problem(head, "device-node-missing"));
	assert_true(nvb_inventory_has_problem(head, "libraries-missing"));
	nvb_inventory_free(head);
	(void)state;
}

/* ---- MIG capability nodes ---- */

static void mig_host(const char *proc_devices)
{
	put("/proc/driver/nvidia/version",
	    "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  580.159.04  Release Build\n");
	put("/proc/driver/nvidia/gpus/0000:01:00.0/information",
	    "Model: \t\t NVIDIA A100\nGPU UUID: \t GPU-1\nBus Location: \t 0000:01:00.0\n"
	    "Device Minor: \t 0\n");
	put("/proc/devices", proc_devices);
	put("/proc/driver/nvidia/capabilities/mig/config",
	    "DeviceFileMinor: 1\nDeviceFileMode: 256\nDeviceFileModify: 1\n");
	put("/proc/driver/nvidia/capabilities/gpu0/mig/gi1/access",
	    "DeviceFileMinor: 12\nDeviceFileMode: 292\nDeviceFileModify: 1\n");
	put("/proc/driver/nvidia/capabilities/gpu0/mig/gi1/ci0/access",
	    "DeviceFileMinor: 13\nDeviceFileMode: 292\nDeviceFileModify: 1\n");
	node("/dev/nvidia0", 195, 0);
	node("/dev/nvidiactl", 195, 255);
	node("/dev/nvidia-caps/nvidia-cap12", 241, 12);
}

static void test_mig_cap_missing(void **state)
{
	unsetenv("NVBIND_CREATE_DEVICE_NODES");
	mig_host("Character devices:\n195 nvidia\n195 nvidiactl\n241 nvidia-caps\n");
	struct nvb_inventory *inv = probe_root(root, NVB_PROBE_NVIDIA);
	assert_int_equal(inv->n_gpus, 1);
	/* only the gi node exists: the MIG device is left out, never offered half */
	assert_int_equal(inv->gpus[0].n_migs, 0);
	assert_non_null(find_problem(inv, "mig-device-incomplete", "gi1/ci0"));
	const struct nvb_problem *p = find_problem(inv, "device-node-missing", "nvidia-cap13");
	assert_non_null(p);
	assert_non_null(strstr(p->hint, "nvidia-modprobe -f "
					"/proc/driver/nvidia/capabilities/gpu0/mig/gi1/ci0/access"));
	p = find_problem(inv, "device-node-missing", "nvidia-cap1:");
	assert_non_null(p);
	assert_non_null(strstr(p->hint, "/proc/driver/nvidia/capabilities/mig/config"));
	char path[512];
	struct stat st;
	snprintf(path, sizeof(path), "%s/dev/nvidia-caps/nvidia-cap13", root);
	assert_int_equal(stat(path, &st), -1); /* a root that is not "/": nothing created */
	nvb_inventory_free(inv);
	(void)state;
}

static void test_mig_cap_created(void **state)
{
	mig_host("Character devices:\n195 nvidia\n195 nvidiactl\n509 nvidia-caps\n");
	sh("rm -rf '%s/dev/nvidia-caps' && mkdir '%s/dev/nvidia-caps' && "
	   "mknod -m 444 '%s/dev/nvidia-caps/nvidia-cap12' c 509 12", root, root, root);
	setenv("NVBIND_CREATE_DEVICE_NODES", "1", 1);
	struct nvb_inventory *inv = probe_root(root, NVB_PROBE_NVIDIA);
	unsetenv("NVBIND_CREATE_DEVICE_NODES");
	const struct nvb_mig_device *mig = &inv->gpus[0].migs[0];
	assert_int_equal(mig->n_nodes, 2);
	assert_string_equal(mig->nodes[1].path, "/dev/nvidia-caps/nvidia-cap13");
	assert_int_equal(mig->nodes[1].major, 509); /* from /proc/devices, never hard-coded */
	assert_int_equal(mig->nodes[1].minor, 13);
	assert_int_equal(mig->nodes[1].mode, 0444);   /* DeviceFileMode 292 */
	bool config = false;
	for (size_t i = 0; i < inv->n_control_nodes; i++)
		if (!strcmp(inv->control_nodes[i].path, "/dev/nvidia-caps/nvidia-cap1")) {
			config = true;
			assert_int_equal(inv->control_nodes[i].mode, 0400); /* 256 */
		}
	assert_true(config);
	assert_null(find_problem(inv, "device-node-missing", "nvidia-cap"));
	nvb_inventory_free(inv);
	/* the directory missing too: made 0755 */
	sh("rm -rf '%s/dev/nvidia-caps'", root);
	setenv("NVBIND_CREATE_DEVICE_NODES", "1", 1);
	inv = probe_root(root, NVB_PROBE_NVIDIA);
	unsetenv("NVBIND_CREATE_DEVICE_NODES");
	assert_int_equal(inv->gpus[0].migs[0].n_nodes, 2);
	char path[512];
	struct stat st;
	snprintf(path, sizeof(path), "%s/dev/nvidia-caps", root);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	nvb_inventory_free(inv);
	(void)state;
}

static void test_mig_cap_cannot_create(void **state)
{
	mig_host("Character devices:\n195 nvidia\n195 nvidiactl\n"); /* no nvidia-caps major */
	setenv("NVBIND_CREATE_DEVICE_NODES", "1", 1);
	struct nvb_inventory *inv = probe_root(root, NVB_PROBE_NVIDIA);
	unsetenv("NVBIND_CREATE_DEVICE_NODES");
	const struct nvb_problem *p = find_problem(inv, "device-node-missing", "nvidia-cap13");
	assert_non_null(p);
	assert_non_null(strstr(p->message, "creating it failed: no nvidia-caps major"));
	/* a hostile root: /dev/nvidia-caps is a link out of the root; nothing is made outside */
	sh("rm -rf '%s/dev/nvidia-caps'", root);
	link_to("/dev/nvidia-caps", "/tmp/nvb-wsl-outside");
	nvb_inventory_free(inv);
	put("/proc/devices", "Character devices:\n195 nvidia\n241 nvidia-caps\n");
	setenv("NVBIND_CREATE_DEVICE_NODES", "1", 1);
	inv = probe_root(root, NVB_PROBE_NVIDIA);
	unsetenv("NVBIND_CREATE_DEVICE_NODES");
	struct stat st;
	assert_int_equal(stat("/tmp/nvb-wsl-outside/nvidia-cap13", &st), -1);
	sh("rm -rf /tmp/nvb-wsl-outside");
	nvb_inventory_free(inv);
	(void)state;
}

/* ---- the fixture roots ---- */

static void test_fixture_wsl2(void **state)
{
	char dir[1024];
	if (!fixture_root("wsl2-host", dir, sizeof(dir)))
		return;
	struct nvb_inventory *head = probe_root(dir, 0);
	assert_string_equal(nvb_inventory_platform(head), "wsl2");
	assert_int_equal(head->n_gpus, 1);
	assert_string_equal(head->gpus[0].nodes[0].path, "/dev/dxg");
	assert_int_equal(head->gpus[0].nodes[0].major, 10);
	assert_int_equal(head->gpus[0].nodes[0].minor, 63);
	bool smi = false, dxcore = false;
	for (size_t i = 0; i < head->n_files; i++) {
		const struct nvb_driver_file *f = &head->files[i];
		assert_null(strstr(f->path, "iigd_dch")); /* Intel's store */
		smi = smi || (f->kind == NVB_FILE_BINARY && nvb_str_has_suffix(f->path, "/nvidia-smi") &&
			      nvb_str_has_prefix(f->path, "/usr/lib/wsl/drivers/nv_dispi.inf_amd64_"));
		dxcore = dxcore || !strcmp(f->path, "/usr/lib/wsl/lib/libdxcore.so");
	}
	assert_true(smi);
	assert_true(dxcore);
	assert_false(nvb_inventory_has_problem(head, "driver-not-loaded"));
	nvb_inventory_free(head);
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_wsl_probe, root_setup, root_teardown),
		cmocka_unit_test_setup_teardown(test_wsl_two_stores_and_version, root_setup,
						root_teardown),
		cmocka_unit_test_setup_teardown(test_wsl_nvml_name, root_setup, root_teardown),
		cmocka_unit_test_setup_teardown(test_wsl_not_wsl, root_setup, root_teardown),
		cmocka_unit_test_setup_teardown(test_mig_cap_missing, root_setup, root_teardown),
		cmocka_unit_test_setup_teardown(test_mig_cap_created, root_setup, root_teardown),
		cmocka_unit_test_setup_teardown(test_mig_cap_cannot_create, root_setup, root_teardown),
		cmocka_unit_test(test_fixture_wsl2),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
