/* SPDX-License-Identifier: Apache-2.0 */
/* nvbind serve's sysfs readers (src/serve/sysfs.c): the strict number parser on hostile text,
 * and the AMD and Intel readers on small host roots with missing, malformed and odd files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <limits.h>
#include <sys/stat.h>

#include "serve/serve.h"
#include "testroot.h"

static void test_parse(void **state)
{
	(void)state;
	long long v = -7;
	assert_int_equal(nvb_sysfs_parse("42\n", 0, 100, &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(nvb_sysfs_parse("0", 0, 100, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(nvb_sysfs_parse("100 \t\n", 0, 100, &v), 0);
	assert_int_equal(v, 100);
	assert_int_equal(nvb_sysfs_parse("-5000\n", -273150, 1000000, &v), 0);
	assert_int_equal(v, -5000);
	assert_int_equal(nvb_sysfs_parse("9223372036854775807", 0, LLONG_MAX, &v), 0);
	assert_true(v == LLONG_MAX);
	assert_int_equal(nvb_sysfs_parse("-9223372036854775808", LLONG_MIN, 0, &v), 0);
	assert_true(v == LLONG_MIN);
	/* each of these leaves v alone */
	v = 1234;
	const char *bad[] = {"", "\n", " 42", "+42", "-1", "101", "4 2", "42abc", "0x10", "4.5",
			     "1e3", "--1", "-", "9223372036854775808", "99999999999999999999999",
			     "18446744073709551616", "42\n43", "N/A\n"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		assert_int_equal(nvb_sysfs_parse(bad[i], 0, 100, &v), -1);
		assert_int_equal(v, 1234);
	}
	assert_int_equal(nvb_sysfs_parse("-1", 0, LLONG_MAX, &v), -1);
	assert_int_equal(nvb_sysfs_parse("-273151", -273150, 0, &v), -1);
	assert_int_equal(v, 1234);
}

#define PCI "/sys/devices/pci0000:00/0000:03:00.0"

/* A root with the PCI device 0000:03:00.0 linked from /sys/bus/pci/devices. */
static void pci_device(void)
{
	sh("mkdir -p '%s" PCI "' '%s/sys/bus/pci/devices'", root, root);
	link_to("/sys/bus/pci/devices/0000:03:00.0", "../../../devices/pci0000:00/0000:03:00.0");
}

static struct nvb_gpu gpu_of(enum nvb_vendor vendor, const char *driver)
{
	struct nvb_gpu g = {.vendor = vendor, .pci_bus_id = (char *)"0000:03:00.0",
			    .kernel_driver = (char *)driver, .minor = -1};
	return g;
}

static void read_root(const struct nvb_gpu *g, struct nvb_sysfs_sample *s, size_t *warned)
{
	struct nvb_error err;
	struct nvb_host *host = nvb_host_open(root, &err);
	assert_non_null(host);
	struct nvb_sysfs_reader r = {.host = host};
	nvb_sysfs_read_gpu(&r, g, s);
	/* a second read logs nothing new */
	size_t first = r.n_warned;
	nvb_sysfs_read_gpu(&r, g, s);
	assert_int_equal(r.n_warned, first);
	if (warned)
		*warned = first;
	nvb_sysfs_reader_clear(&r);
	nvb_host_free(host);
}

static void test_amd_values(void **state)
{
	(void)state;
	pci_device();
	put(PCI "/gpu_busy_percent", "37\n");
	put(PCI "/mem_busy_percent", "12\n");
	put(PCI "/mem_info_vram_used", "1073741824\n");
	put(PCI "/mem_info_vram_total", "68702699520\n");
	/* the lowest hwmon wins; a name with more than digits is not a hwmon device */
	put(PCI "/hwmon/hwmon7/temp1_input", "99000\n");
	put(PCI "/hwmon/hwmon3x/temp1_input", "98000\n");
	put(PCI "/hwmon/hwmon2/temp1_input", "-500\n");
	put(PCI "/hwmon/hwmon2/power1_input", "42000000\n");
	put(PCI "/hwmon/hwmon2/freq1_input", "1700000000\n");
	struct nvb_gpu g = gpu_of(NVB_VENDOR_AMD, "amdgpu");
	struct nvb_sysfs_sample s;
	size_t warned = 9;
	read_root(&g, &s, &warned);
	assert_int_equal(warned, 0);
	assert_true(s.has_util && s.util == 37);
	assert_true(s.has_mem_util && s.mem_util == 12);
	assert_true(s.has_vram && s.vram_used == 1073741824ULL && s.vram_total == 68702699520ULL);
	assert_true(s.has_temp && s.temp_millic == -500);
	assert_true(s.has_power && s.power_uw == 42000000ULL); /* power1_input: no average */
	assert_true(s.has_clock && s.clock_hz == 1700000000ULL);
	assert_false(s.has_energy);
	/* power1_average is preferred when both exist */
	put(PCI "/hwmon/hwmon2/power1_average", "41000000\n");
	read_root(&g, &s, NULL);
	assert_true(s.has_power && s.power_uw == 41000000ULL);
	/* the same files under another driver (vfio-pci) or vendor are not read */
	g = gpu_of(NVB_VENDOR_AMD, "vfio-pci");
	read_root(&g, &s, NULL);
	assert_false(s.has_util || s.has_vram || s.has_temp || s.has_power || s.has_clock);
	g = gpu_of(NVB_VENDOR_INTEL, "amdgpu");
	read_root(&g, &s, NULL);
	assert_false(s.has_util || s.has_temp || s.has_clock);
}

static void test_amd_hostile(void **state)
{
	(void)state;
	pci_device();
	put(PCI "/gpu_busy_percent", "abc\n");
	put(PCI "/mem_busy_percent", "101\n");
	put(PCI "/mem_info_vram_used", "5\n"); /* valid, but its total is missing */
	sh("head -c 5000 /dev/zero | tr '\\0' 1 >'%s" PCI "/mem_info_vram_total.long'", root);
	put(PCI "/hwmon/hwmon0/temp1_input", "");
	/* a malformed first sensor is not replaced by the second */
	put(PCI "/hwmon/hwmon0/temp2_input", "50000\n");
	put(PCI "/hwmon/hwmon0/power1_average", "99999999999999999999\n");
	put(PCI "/hwmon/hwmon0/power1_input", "1000000\n");
	sh("mkfifo '%s" PCI "/hwmon/hwmon0/freq1_input'", root);
	struct nvb_gpu g = gpu_of(NVB_VENDOR_AMD, "amdgpu");
	struct nvb_sysfs_sample s;
	size_t warned = 0;
	read_root(&g, &s, &warned);
	assert_false(s.has_util || s.has_mem_util || s.has_vram || s.has_temp || s.has_power ||
		     s.has_clock || s.has_energy);
	/* gpu_busy, mem_busy, temp1, power1_average, the FIFO */
	assert_int_equal(warned, 5);
	/* too long, a NUL byte, a link out of the root (resolved inside it: absent) */
	sh("mv '%s" PCI "/mem_info_vram_total.long' '%s" PCI "/mem_info_vram_total'", root, root);
	sh("printf '4\\0002\\n' >'%s" PCI "/gpu_busy_percent'", root);
	sh("rm '%s" PCI "/mem_busy_percent'", root);
	link_to(PCI "/mem_busy_percent", "/proc/self/../../../../../proc/loadavg");
	read_root(&g, &s, &warned);
	assert_false(s.has_util || s.has_mem_util || s.has_vram);
	assert_int_equal(warned, 5); /* gpu_busy, vram_total, and the three hwmon files */
	/* a directory where a value belongs is malformed, not opened */
	sh("rm '%s" PCI "/gpu_busy_percent' && mkdir '%s" PCI "/gpu_busy_percent'", root, root);
	read_root(&g, &s, NULL);
	assert_false(s.has_util);
	/* the host's own /proc/sys/kernel/core_uses_pid (0 or 1, a valid percent) is not read
	 * through a link: it resolves inside the root, which has none */
	sh("rmdir '%s" PCI "/gpu_busy_percent'", root);
	link_to(PCI "/gpu_busy_percent", "/proc/sys/kernel/core_uses_pid");
	read_root(&g, &s, NULL);
	assert_false(s.has_util);
}

static void test_intel(void **state)
{
	(void)state;
	pci_device();
	/* i915: the card's frequency; a connector (card1-DP-1) is not the card */
	put(PCI "/drm/card1/gt_act_freq_mhz", "2400\n");
	put(PCI "/drm/card1-DP-1/gt_act_freq_mhz", "9\n");
	put(PCI "/hwmon/hwmon5/energy1_input", "123456789012\n");
	struct nvb_gpu g = gpu_of(NVB_VENDOR_INTEL, "i915");
	struct nvb_sysfs_sample s;
	read_root(&g, &s, NULL);
	assert_true(s.has_clock && s.clock_hz == 2400000000ULL);
	assert_true(s.has_energy && s.energy_uj == 123456789012ULL);
	assert_false(s.has_util || s.has_mem_util || s.has_vram || s.has_power || s.has_temp);
	/* xe: tile0/gt0/freq0, energy2 when energy1 is missing, temp2 as the first sensor */
	put(PCI "/tile0/gt0/freq0/act_freq", "2850\n");
	sh("rm '%s" PCI "/hwmon/hwmon5/energy1_input'", root);
	put(PCI "/hwmon/hwmon5/energy2_input", "5\n");
	put(PCI "/hwmon/hwmon5/temp2_input", "51000\n");
	g = gpu_of(NVB_VENDOR_INTEL, "xe");
	read_root(&g, &s, NULL);
	assert_true(s.has_clock && s.clock_hz == 2850000000ULL);
	assert_true(s.has_energy && s.energy_uj == 5);
	assert_true(s.has_temp && s.temp_millic == 51000);
	/* i915 takes no energy2 */
	g = gpu_of(NVB_VENDOR_INTEL, "i915");
	read_root(&g, &s, NULL);
	assert_false(s.has_energy);
}

static void test_collect(void **state)
{
	(void)state;
	pci_device();
	put(PCI "/gpu_busy_percent", "50\n");
	/* an NVIDIA inventory, then AMD with two partitions of one device and one bad bus id */
	struct nvb_inventory nv = {0}, amd = {0};
	struct nvb_gpu ng[1] = {{.vendor = NVB_VENDOR_NVIDIA, .pci_bus_id = (char *)"0000:03:00.0"}};
	struct nvb_gpu ag[3] = {gpu_of(NVB_VENDOR_AMD, "amdgpu"), gpu_of(NVB_VENDOR_AMD, "amdgpu"),
				gpu_of(NVB_VENDOR_AMD, "amdgpu")};
	ag[2].pci_bus_id = (char *)"../../../etc";
	nv.gpus = ng;
	nv.n_gpus = 1;
	nv.next = &amd;
	amd.gpus = ag;
	amd.n_gpus = 3;
	struct nvb_error err;
	struct nvb_host *host = nvb_host_open(root, &err);
	assert_non_null(host);
	struct nvb_sysfs_reader r = {.host = host};
	size_t n = 0;
	struct nvb_sysfs_sample *s = nvb_sysfs_collect(&r, &nv, &n);
	assert_non_null(s);
	assert_int_equal(n, 4);
	assert_false(s[0].has_util); /* NVIDIA: NVML's */
	assert_true(s[1].has_util && s[1].util == 50);
	assert_false(s[2].has_util); /* the second partition of the same device */
	assert_false(s[3].has_util); /* not a bus id */
	free(s);
	struct nvb_inventory empty = {0};
	assert_null(nvb_sysfs_collect(&r, &empty, &n));
	assert_int_equal(n, 0);
	nvb_sysfs_reader_clear(&r);
	nvb_host_free(host);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test_setup_teardown(test_amd_values, root_setup, root_teardown),
		cmocka_unit_test_setup_teardown(test_amd_hostile, root_setup, root_teardown),
		cmocka_unit_test_setup_teardown(test_intel, root_setup, root_teardown),
		cmocka_unit_test_setup_teardown(test_collect, root_setup, root_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
