/* SPDX-License-Identifier: Apache-2.0 */
/* NVIDIA /proc parsers and the probe on hand-made hostile roots. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <sys/stat.h>

#include <unistd.h>

#include "probe/nvidia/catalog.h"
#include "inventory/inventory.h"
#include "probe/nvidia/nvidia.h"

static char *fixture(const char *rel)
{
	const char *dir = getenv("NVB_SHARED_FIXTURES");
	char path[1024];
	if (dir)
		snprintf(path, sizeof(path), "%s/%s", dir, rel);
	else
		snprintf(path, sizeof(path), "%s/../shared/fixtures/%s",
			 getenv("NVB_SOURCE_ROOT") ? getenv("NVB_SOURCE_ROOT") : ".", rel);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	char *buf = calloc(1, 1 << 16);
	size_t n = fread(buf, 1, (1 << 16) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void test_version_open(void **state)
{
	char *v, *fl, *line;
	char *text = fixture("h100-host/proc/nvidia/version");
	assert_int_equal(nvb_nvidia_parse_version(text, &v, &fl, &line), 0);
	assert_string_equal(v, "580.159.04");
	assert_string_equal(fl, "open");
	assert_true(nvb_str_has_prefix(line, "NVRM version: NVIDIA UNIX Open Kernel Module"));
	free(v);
	free(fl);
	free(line);
	free(text);
	(void)state;
}

static void test_version_proprietary_and_bad(void **state)
{
	char *v, *fl, *line;
	assert_int_equal(nvb_nvidia_parse_version("NVRM version: NVIDIA UNIX x86_64 Kernel Module  "
						  "550.54.14  Thu Feb 22 01:44:30 UTC 2024\nGCC\n",
						  &v, &fl, &line),
			 0);
	assert_string_equal(v, "550.54.14");
	assert_string_equal(fl, "proprietary");
	free(v);
	free(fl);
	free(line);
	const char *bad[] = {
		"",
		"\n",
		"NVRM version:",
		"NVRM version: NVIDIA UNIX x86_64 Kernel Module",
		"NVRM version: NVIDIA UNIX x86_64 Kernel Module  abc  def",
		"NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.  x",
		"GCC version: 12\nNVRM version: NVIDIA UNIX x86_64 Kernel Module 550.54.14",
		"nouveau",
	};
	for (size_t i = 0; i < NVB_ARRAY_SIZE(bad); i++) {
		assert_int_equal(nvb_nvidia_parse_version(bad[i], &v, &fl, &line), -1);
		assert_null(v);
	}
	(void)state;
}

static void test_information(void **state)
{
	struct nvb_nvidia_gpu_info info;
	char *text = fixture("h100-host/proc/nvidia/gpus/0000:00:06.0/information");
	assert_int_equal(nvb_nvidia_parse_information(text, &info), 0);
	assert_string_equal(info.model, "NVIDIA H100 80GB HBM3");
	assert_string_equal(info.uuid, "GPU-d1fbf7fc-9024-0c3c-1dc5-43e462e7fc6a");
	assert_string_equal(info.bus_location, "0000:00:06.0");
	assert_string_equal(info.firmware, "580.159.04");
	assert_int_equal(info.minor, 0);
	assert_false(info.excluded);
	nvb_nvidia_gpu_info_clear(&info);
	free(text);
	(void)state;
}

static void test_information_odd(void **state)
{
	struct nvb_nvidia_gpu_info info;
	/* missing fields, out-of-range minor, lines without colon, empty values, CRLF */
	const char *odd = "Model:\r\nno colon here\nDevice Minor: 255\nGPU UUID:\t\t\n::::\n"
			  "GPU Excluded: Yes\nDevice Minor: 7x\n";
	assert_int_equal(nvb_nvidia_parse_information(odd, &info), 0);
	assert_null(info.model);
	assert_null(info.uuid);
	assert_int_equal(info.minor, -1);
	assert_true(info.excluded);
	nvb_nvidia_gpu_info_clear(&info);
	assert_int_equal(nvb_nvidia_parse_information("Device Minor: -3\n", &info), 0);
	assert_int_equal(info.minor, -1);
	nvb_nvidia_gpu_info_clear(&info);
	assert_int_equal(nvb_nvidia_parse_information("Device Minor:   12  \n", &info), 0);
	assert_int_equal(info.minor, 12);
	nvb_nvidia_gpu_info_clear(&info);
	(void)state;
}

static void test_proc_devices(void **state)
{
	char *text = fixture("h100-host/proc/devices");
	assert_int_equal(nvb_proc_devices_major(text, "nvidia"), 195);
	assert_int_equal(nvb_proc_devices_major(text, "nvidia-uvm"), 238);
	assert_int_equal(nvb_proc_devices_major(text, "nvidia-caps"), 241);
	assert_int_equal(nvb_proc_devices_major(text, "nvidia-caps-imex-channels"), 242);
	/* block devices are not character majors */
	assert_int_equal(nvb_proc_devices_major(text, "virtblk"), -1);
	assert_int_equal(nvb_proc_devices_major(text, "nvidia-modeset"), -1);
	free(text);
	assert_int_equal(nvb_proc_devices_major("", "nvidia"), -1);
	assert_int_equal(nvb_proc_devices_major("Character devices:", "nvidia"), -1);
	assert_int_equal(nvb_proc_devices_major("Character devices:\n99999999999 nvidia\n", "nvidia"), -1);
	assert_int_equal(nvb_proc_devices_major("Character devices:\nabc nvidia\n509 nvidia-uvm\n",
						"nvidia-uvm"),
			 509);
	(void)state;
}

static void test_bus_id(void **state)
{
	char out[32];
	assert_int_equal(nvb_pci_bus_id_normalize("00000000:3B:00.0", out, sizeof(out)), 0);
	assert_string_equal(out, "0000:3b:00.0");
	assert_int_equal(nvb_pci_bus_id_normalize("0000:00:06.0", out, sizeof(out)), 0);
	assert_string_equal(out, "0000:00:06.0");
	assert_int_equal(nvb_pci_bus_id_normalize("0000:00:06", out, sizeof(out)), -1);
	assert_int_equal(nvb_pci_bus_id_normalize("0000:00:40.0", out, sizeof(out)), -1);
	assert_int_equal(nvb_pci_bus_id_normalize("..", out, sizeof(out)), -1);
	assert_int_equal(nvb_pci_bus_id_normalize("0000:00:06.0x", out, sizeof(out)), -1);
	(void)state;
}

static void test_lib_names(void **state)
{
	char stem[64];
	assert_int_equal(nvb_lib_stem("libcuda.so.1", stem, sizeof(stem)), 0);
	assert_string_equal(stem, "libcuda");
	assert_int_equal(nvb_lib_stem("libnvidia-ml.so", stem, sizeof(stem)), 0);
	assert_string_equal(stem, "libnvidia-ml");
	assert_int_equal(nvb_lib_stem("libfoo.sox", stem, sizeof(stem)), -1);
	assert_int_equal(nvb_lib_stem("README", stem, sizeof(stem)), -1);
	assert_string_equal(nvb_lib_version_suffix("libcuda.so.580.159.04"), "580.159.04");
	assert_null(nvb_lib_version_suffix("libcuda.so.1"));
	assert_null(nvb_lib_version_suffix("libGL.so.1.7.0x"));
	assert_null(nvb_lib_version_suffix("libcuda.so"));
	assert_non_null(nvb_catalog_nvidia_lib("libGLX_nvidia"));
	assert_null(nvb_catalog_nvidia_lib("libGLX_mesa"));
	assert_null(nvb_catalog_nvidia_lib("libGL"));
	(void)state;
}

/* ---- the probe on small hostile roots made here ---- */

static char root[256];

static void put(const char *rel, const char *content)
{
	char path[512], cmd[600];
	snprintf(path, sizeof(path), "%s%s", root, rel);
	snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\"", path);
	assert_int_equal(system(cmd), 0);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
}

static struct nvb_inventory *probe_root(void)
{
	struct nvb_error err;
	struct nvb_host *host = nvb_host_open(root, &err);
	assert_non_null(host);
	struct nvb_inventory *inv = nvb_inventory_probe(host, NVB_PROBE_NO_NVML, &err);
	assert_non_null(inv);
	nvb_host_free(host);
	return inv;
}

static int root_setup(void **state)
{
	snprintf(root, sizeof(root), "/tmp/nvb-probe-XXXXXX");
	assert_non_null(mkdtemp(root));
	(void)state;
	return 0;
}

static int root_teardown(void **state)
{
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	assert_int_equal(system(cmd), 0);
	(void)state;
	return 0;
}

static void test_probe_empty_root(void **state)
{
	struct nvb_inventory *inv = probe_root();
	assert_int_equal(inv->n_gpus, 0);
	assert_null(inv->driver.version);
	assert_true(nvb_inventory_has_problem(inv, "no-gpu"));
	nvb_inventory_free(inv);
	(void)state;
}

static void test_probe_nouveau(void **state)
{
	put("/sys/bus/pci/devices/0000:01:00.0/vendor", "0x10de\n");
	put("/sys/bus/pci/devices/0000:01:00.0/class", "0x030000\n");
	struct nvb_inventory *inv = probe_root();
	assert_true(nvb_inventory_has_problem(inv, "driver-not-loaded"));
	assert_false(nvb_inventory_has_problem(inv, "no-gpu"));
	nvb_inventory_free(inv);
	(void)state;
}

static void test_probe_garbage_proc(void **state)
{
	put("/proc/driver/nvidia/version", "\x01\x02 garbage \xff\n");
	put("/proc/driver/nvidia/gpus/0000:02:00.0/information", "Model: X\n");
	put("/proc/driver/nvidia/gpus/not-a-bus-id/information", "Model: Y\n");
	char dir[512];
	/* an information "file" that is a directory cannot be read */
	snprintf(dir, sizeof(dir), "%s/proc/driver/nvidia/gpus/0000:03:00.0/information", root);
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", dir);
	assert_int_equal(system(cmd), 0);
	struct nvb_inventory *inv = probe_root();
	assert_true(nvb_inventory_has_problem(inv, "proc-malformed"));
	assert_true(nvb_inventory_has_problem(inv, "proc-unreadable"));
	assert_int_equal(inv->n_gpus, 1);
	assert_string_equal(inv->gpus[0].pci_bus_id, "0000:02:00.0");
	assert_int_equal(inv->gpus[0].minor, -1);
	nvb_inventory_free(inv);
	(void)state;
}

static void test_probe_bus_order(void **state)
{
	put("/proc/driver/nvidia/version",
	    "NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.54.14  Thu\n");
	const char *buses[] = {"0000:4e:00.0", "0000:07:00.0", "0000:0f:00.0"};
	const int minors[] = {1, 2, 0};
	for (int i = 0; i < 3; i++) {
		char rel[200], text[300];
		snprintf(rel, sizeof(rel), "/proc/driver/nvidia/gpus/%s/information", buses[i]);
		snprintf(text, sizeof(text),
			 "Model: \t\t GPU %d\nGPU UUID: \t GPU-%d\nBus Location: \t %s\nDevice Minor: \t %d\n",
			 i, i, buses[i], minors[i]);
		put(rel, text);
	}
	struct nvb_inventory *inv = probe_root();
	assert_int_equal(inv->n_gpus, 3);
	assert_string_equal(inv->gpus[0].pci_bus_id, "0000:07:00.0");
	assert_int_equal(inv->gpus[0].minor, 2);
	assert_string_equal(inv->gpus[1].pci_bus_id, "0000:0f:00.0");
	assert_int_equal(inv->gpus[1].minor, 0);
	assert_string_equal(inv->gpus[2].pci_bus_id, "0000:4e:00.0");
	assert_int_equal(inv->gpus[2].index, 2);
	/* no device nodes and no libraries: both reported */
	assert_true(nvb_inventory_has_problem(inv, "device-node-missing"));
	assert_true(nvb_inventory_has_problem(inv, "libraries-missing"));
	assert_true(inv->n_missing > 0);
	nvb_inventory_free(inv);
	(void)state;
}

/* ---- the catalogue: ELF programs and libraries, never wrapper scripts or text files ---- */

/* An ELF executable (this test program, a PIE: ET_DYN like a shared object) at rel in the root. */
static void put_elf(const char *rel)
{
	char path[512], cmd[1200];
	snprintf(path, sizeof(path), "%s%s", root, rel);
	snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\" && cp /proc/%d/exe '%s'", path,
		 (int)getpid(), path);
	assert_int_equal(system(cmd), 0);
}

static struct nvb_inventory *select_in_root(struct nvb_lib_entry *entries, size_t n)
{
	struct nvb_error err;
	struct nvb_host *host = nvb_host_open(root, &err);
	assert_non_null(host);
	struct nvb_libset libs = {.entries = entries, .n = n, .from_cache = true,
				  .source = (char *)"/etc/ld.so.cache"};
	struct nvb_inventory *inv = calloc(1, sizeof(*inv));
	assert_non_null(inv);
	assert_int_equal(nvb_catalog_select_nvidia(host, &libs, "550.54.14", inv, &err), 0);
	nvb_host_free(host);
	return inv;
}

static const struct nvb_driver_file *file_named(const struct nvb_inventory *inv,
						enum nvb_file_kind kind, const char *base)
{
	for (size_t i = 0; i < inv->n_files; i++) {
		const char *slash = strrchr(inv->files[i].path, '/');
		if (inv->files[i].kind == kind && strcmp(slash + 1, base) == 0)
			return &inv->files[i];
	}
	return NULL;
}

static const struct nvb_skipped_file *skipped(const struct nvb_inventory *inv, const char *path)
{
	for (size_t i = 0; i < inv->n_skipped; i++)
		if (strcmp(inv->skipped[i].path, path) == 0)
			return &inv->skipped[i];
	return NULL;
}

static void test_catalog_wrapper_scripts(void **state)
{
	/* the wrapper execs a program in a directory no search list has */
	put("/usr/bin/nvidia-smi",
	    "#!/bin/sh\nexport LD_LIBRARY_PATH=/opt/vendor/lib64\n"
	    "  exec -a nvidia-smi \"/opt/vendor/bin/nvidia-smi\" \"$@\"\n");
	put_elf("/opt/vendor/bin/nvidia-smi");
	/* a python wrapper, then the program in a standard directory searched after /usr/bin */
	put("/usr/bin/nvidia-persistenced", "#!/usr/bin/env python3\nimport os\n");
	put_elf("/usr/local/nvidia/bin/nvidia-persistenced");
	/* only a text file: nothing is chosen, and the program is missing */
	put("/usr/sbin/nvidia-debugdump", "echo not a program\n");
	/* wrappers that exec something else, or a variable, lead nowhere */
	put("/usr/bin/nvidia-cuda-mps-control",
	    "#!/bin/bash\nexec /opt/other/bin/mps-control-real \"$@\"\nexec $NVDIR/nvidia-cuda-mps-control\n");
	put_elf("/opt/other/bin/mps-control-real");

	struct nvb_inventory *inv = select_in_root(NULL, 0);
	const struct nvb_driver_file *smi = file_named(inv, NVB_FILE_BINARY, "nvidia-smi");
	assert_non_null(smi);
	assert_string_equal(smi->path, "/opt/vendor/bin/nvidia-smi");
	assert_int_equal(smi->elf_class, (int)sizeof(void *) * 8);
	const struct nvb_skipped_file *sk = skipped(inv, "/usr/bin/nvidia-smi");
	assert_non_null(sk);
	assert_int_equal(sk->kind, NVB_FILE_BINARY);
	assert_string_equal(sk->reason, "shell script");
	assert_string_equal(sk->chosen, "/opt/vendor/bin/nvidia-smi");

	const struct nvb_driver_file *pd = file_named(inv, NVB_FILE_BINARY, "nvidia-persistenced");
	assert_non_null(pd);
	assert_string_equal(pd->path, "/usr/local/nvidia/bin/nvidia-persistenced");
	sk = skipped(inv, "/usr/bin/nvidia-persistenced");
	assert_non_null(sk);
	assert_string_equal(sk->reason, "script (python3)");
	assert_string_equal(sk->chosen, "/usr/local/nvidia/bin/nvidia-persistenced");

	assert_null(file_named(inv, NVB_FILE_BINARY, "nvidia-debugdump"));
	sk = skipped(inv, "/usr/sbin/nvidia-debugdump");
	assert_non_null(sk);
	assert_string_equal(sk->reason, "not an ELF file");
	assert_null(sk->chosen);

	assert_null(file_named(inv, NVB_FILE_BINARY, "nvidia-cuda-mps-control"));
	assert_null(file_named(inv, NVB_FILE_BINARY, "mps-control-real"));
	sk = skipped(inv, "/usr/bin/nvidia-cuda-mps-control");
	assert_non_null(sk);
	assert_null(sk->chosen);

	/* no script is ever a selected file, and each skipped file is listed once */
	for (size_t i = 0; i < inv->n_files; i++)
		assert_null(skipped(inv, inv->files[i].path));
	assert_int_equal(inv->n_skipped, 4);
	bool smi_missing = false;
	for (size_t i = 0; i < inv->n_missing; i++)
		smi_missing = smi_missing || strcmp(inv->missing[i], "nvidia-smi") == 0;
	assert_false(smi_missing);
	nvb_inventory_free(inv);
	(void)state;
}

static void test_catalog_text_library(void **state)
{
	put("/usr/lib/x86_64-linux-gnu/libnvidia-cfg.so.550.54.14",
	    "/* GNU ld script */\nGROUP ( /usr/lib/x86_64-linux-gnu/libnvidia-cfg.so.1 )\n");
	put("/opt/old/lib64/libcuda.so.550.54.14", "garbage, not a library\n");
	put_elf("/usr/lib/x86_64-linux-gnu/libcuda.so.550.54.14");
	put_elf("/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.550.54.14");
	struct nvb_lib_entry e[] = {
		{(char *)"libnvidia-cfg.so.1", (char *)"/usr/lib/x86_64-linux-gnu/libnvidia-cfg.so.550.54.14", 64},
		{(char *)"libcuda.so.1", (char *)"/usr/lib/x86_64-linux-gnu/libcuda.so.550.54.14", 64},
		{(char *)"libcuda.so.1", (char *)"/opt/old/lib64/libcuda.so.550.54.14", 64},
		/* the cache typed it 32-bit: the file was replaced by a 64-bit one since */
		{(char *)"libnvidia-ml.so.1", (char *)"/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.550.54.14", 32},
		/* a second name of the same text file: still one skipped entry */
		{(char *)"libnvidia-cfg.so", (char *)"/usr/lib/x86_64-linux-gnu/libnvidia-cfg.so.550.54.14", 64},
	};
	struct nvb_inventory *inv = select_in_root(e, NVB_ARRAY_SIZE(e));
	const struct nvb_driver_file *cuda = file_named(inv, NVB_FILE_LIBRARY, "libcuda.so.550.54.14");
	assert_non_null(cuda);
	assert_string_equal(cuda->path, "/usr/lib/x86_64-linux-gnu/libcuda.so.550.54.14");
	assert_null(file_named(inv, NVB_FILE_LIBRARY, "libnvidia-cfg.so.550.54.14"));
	assert_null(file_named(inv, NVB_FILE_LIBRARY, "libnvidia-ml.so.550.54.14"));

	const struct nvb_skipped_file *sk =
		skipped(inv, "/usr/lib/x86_64-linux-gnu/libnvidia-cfg.so.550.54.14");
	assert_non_null(sk);
	assert_int_equal(sk->kind, NVB_FILE_LIBRARY);
	assert_string_equal(sk->reason, "linker script");
	assert_null(sk->chosen);
	sk = skipped(inv, "/opt/old/lib64/libcuda.so.550.54.14");
	assert_non_null(sk);
	assert_string_equal(sk->reason, "not an ELF file");
	assert_string_equal(sk->chosen, "/usr/lib/x86_64-linux-gnu/libcuda.so.550.54.14");
	char want[64];
	snprintf(want, sizeof(want), "%d-bit ELF, listed as 32-bit", (int)sizeof(void *) * 8);
	sk = skipped(inv, "/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.550.54.14");
	assert_non_null(sk);
	assert_string_equal(sk->reason, want);
	assert_int_equal(inv->n_skipped, 3);
	/* a text file is not damage: no unreadable-library problem */
	assert_false(nvb_inventory_has_problem(inv, "unreadable-library"));
	nvb_inventory_free(inv);
	(void)state;
}

static void test_catalog_damaged_library(void **state)
{
	/* ELF magic, then nothing: damage, reported as a problem as well as skipped */
	put("/usr/lib/x86_64-linux-gnu/libcuda.so.550.54.14", "\177ELF\002\001\001");
	struct nvb_lib_entry e[] = {
		{(char *)"libcuda.so.1", (char *)"/usr/lib/x86_64-linux-gnu/libcuda.so.550.54.14", 64},
	};
	struct nvb_inventory *inv = select_in_root(e, NVB_ARRAY_SIZE(e));
	assert_true(nvb_inventory_has_problem(inv, "unreadable-library"));
	assert_int_equal(inv->n_skipped, 1);
	assert_string_equal(inv->skipped[0].reason, "damaged ELF file");
	nvb_inventory_free(inv);
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_version_open),
		cmocka_unit_test(test_version_proprietary_and_bad),
		cmocka_unit_test(test_information),
		cmocka_unit_test(test_information_odd),
		cmocka_unit_test(test_proc_devices),
		cmocka_unit_test(test_bus_id),
		cmocka_unit_test(test_lib_names),
		cmocka_unit_test_setup_teardown(test_probe_empty_root, root_setup, root_teardown),
		cmocka_unit_test_setup_teardown(test_probe_nouveau, root_setup, root_teardown),
		cmocka_unit_test_setup_teardown(test_probe_garbage_proc, root_setup, root_teardown),
		cmocka_unit_test_setup_teardown(test_probe_bus_order, root_setup, root_teardown),
		cmocka_unit_test_setup_teardown(test_catalog_wrapper_scripts, root_setup, root_teardown),
		cmocka_unit_test_setup_teardown(test_catalog_text_library, root_setup, root_teardown),
		cmocka_unit_test_setup_teardown(test_catalog_damaged_library, root_setup, root_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
