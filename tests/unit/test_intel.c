/* SPDX-License-Identifier: Apache-2.0 */
/* The Intel probe on small hand-made host roots (i915 and xe GPUs, by-path links, MEI nodes,
 * vfio-pci and unbound GPUs, hostile links), then on the intel-host fixture root when
 * tests/run.sh has built it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <sys/stat.h>

#include <unistd.h>

#include "inventory/inventory.h"
#include "testroot.h"
#include "probe/intel/intel.h"

static void pci_dev(const char *bdf, const char *vendor, const char *device, const char *class,
		    const char *driver)
{
	char d[256], rel[400], target[256];
	snprintf(d, sizeof(d), "/sys/devices/pci0000:00/%s", bdf);
	snprintf(rel, sizeof(rel), "%s/vendor", d);
	put(rel, vendor);
	snprintf(rel, sizeof(rel), "%s/device", d);
	put(rel, device);
	snprintf(rel, sizeof(rel), "%s/class", d);
	put(rel, class);
	snprintf(rel, sizeof(rel), "%s/numa_node", d);
	put(rel, "-1\n");
	if (driver) {
		snprintf(rel, sizeof(rel), "%s/driver", d);
		snprintf(target, sizeof(target), "../../../bus/pci/drivers/%s", driver);
		link_to(rel, target);
		sh("mkdir -p '%s/sys/bus/pci/drivers/%s'", root, driver);
	}
	snprintf(rel, sizeof(rel), "/sys/bus/pci/devices/%s", bdf);
	snprintf(target, sizeof(target), "../../../devices/pci0000:00/%s", bdf);
	link_to(rel, target);
}

static void drm(const char *bdf, const char *name)
{
	char rel[300];
	snprintf(rel, sizeof(rel), "/sys/devices/pci0000:00/%s/drm/%s/dev", bdf, name);
	put(rel, "226:0\n");
}

static void intel_host(void)
{
	put("/sys/module/i915/version", "");
	sh("rm -f '%s/sys/module/i915/version'", root); /* i915 loaded, no version file */
	put("/sys/module/xe/refcnt", "0\n");
	/* an iGPU on i915 */
	pci_dev("0000:00:02.0", "0x8086\n", "0xa780\n", "0x030000\n", "i915");
	drm("0000:00:02.0", "card0");
	drm("0000:00:02.0", "renderD128");
	drm("0000:00:02.0", "controlD64"); /* no node of a kind containers get */
	node("/dev/dri/card0", 226, 0);
	node("/dev/dri/renderD128", 226, 128);
	/* a Flex 170 on xe, with by-path links and its GSC's MEI device */
	pci_dev("0000:03:00.0", "0x8086\n", "0x56c0\n", "0x038000\n", "xe");
	drm("0000:03:00.0", "card1");
	drm("0000:03:00.0", "renderD129");
	put("/sys/devices/pci0000:00/0000:03:00.0/xe.mei-gscfi.768/mei/mei1/dev", "239:1\n");
	put("/sys/devices/pci0000:00/0000:03:00.0/xe.mei-gscfi.768/mei/mei9x/dev", "");
	node("/dev/dri/card1", 226, 1);
	node("/dev/dri/renderD129", 226, 129);
	node("/dev/mei1", 239, 1);
	link_to("/dev/dri/by-path/pci-0000:03:00.0-card", "../card1");
	link_to("/dev/dri/by-path/pci-0000:03:00.0-render", "../renderD129");
	/* by-path links of the iGPU that lead out of the root and into a loop */
	link_to("/dev/dri/by-path/pci-0000:00:02.0-card", "../../../../../../../etc/passwd");
	link_to("/dev/dri/by-path/pci-0000:00:02.0-render", "pci-0000:00:02.0-render");
	/* one given to a virtual machine, one with no driver, one with a driver of no GPU use */
	pci_dev("0000:04:00.0", "0x8086\n", "0x56c1\n", "0x030000\n", "vfio-pci");
	pci_dev("0000:05:00.0", "0x8086\n", "0x56c2\n", "0x030000\n", NULL);
	pci_dev("0000:06:00.0", "0x8086\n", "0x56c0\n", "0x038000\n", "pci-stub");
	/* not GPUs: an Intel bridge and audio device, an NVIDIA GPU */
	pci_dev("0000:00:1f.0", "0x8086\n", "0x7a06\n", "0x060100\n", NULL);
	pci_dev("0000:00:1f.3", "0x8086\n", "0x7a50\n", "0x040380\n", "snd_hda_intel");
	pci_dev("0000:07:00.0", "0x10de\n", "0x2330\n", "0x030200\n", NULL);
	/* symbolic link loop where a PCI device directory should be */
	link_to("/sys/bus/pci/devices/0000:08:00.0", "0000:08:00.0");
	put("/usr/share/misc/pci.ids", "# ids\n8086  Intel Corporation\n\t56c0  ATS-M [Data Center GPU "
	    "Flex 170]\n\t\t8086 4905  Data Center GPU Flex 170\n\ta780  Raptor Lake-S GT1 "
	    "[UHD Graphics 770]\n");
}

static bool has_node(const struct nvb_gpu *gpu, const char *path, unsigned major, unsigned minor)
{
	for (size_t i = 0; i < gpu->n_nodes; i++)
		if (!strcmp(gpu->nodes[i].path, path))
			return gpu->nodes[i].major == major && gpu->nodes[i].minor == minor;
	return false;
}

static void test_cdi_id(void **state)
{
	char *id = nvb_intel_cdi_id("0000:03:00.0", 0x56c0);
	assert_string_equal(id, "0000-03-00-0-0x56c0");
	free(id);
	id = nvb_intel_cdi_id("0001:ab:1f.7", 0xa7);
	assert_string_equal(id, "0001-ab-1f-7-0x00a7");
	free(id);
	(void)state;
}

static void test_probe_intel_host(void **state)
{
	intel_host();
	struct nvb_inventory *head = probe_root(root, 0);
	const struct nvb_inventory *inv = nvb_inventory_next(head);
	assert_non_null(inv);
	assert_int_equal(nvb_inventory_vendor(inv), NVB_VENDOR_INTEL);
	assert_null(nvb_inventory_next(inv));
	assert_string_equal(inv->driver.kernel_module, "i915,xe");
	assert_null(inv->driver.version);
	assert_int_equal(inv->n_gpus, 5);
	assert_int_equal(inv->n_gpu_extra, 5);
	static const char *const order[] = {"0000:00:02.0", "0000:03:00.0", "0000:04:00.0",
					    "0000:05:00.0", "0000:06:00.0"};
	for (size_t i = 0; i < 5; i++) {
		assert_string_equal(inv->gpus[i].pci_bus_id, order[i]);
		assert_int_equal(inv->gpus[i].index, i);
		assert_int_equal(inv->gpus[i].vendor, NVB_VENDOR_INTEL);
		assert_null(inv->gpus[i].uuid);
		assert_int_equal(inv->gpu_extra[i].partition, -1);
		assert_null(inv->gpu_extra[i].arch);
	}
	const struct nvb_gpu *g = &inv->gpus[0];
	assert_string_equal(g->name, "Raptor Lake-S GT1 [UHD Graphics 770]");
	assert_string_equal(g->kernel_driver, "i915");
	assert_int_equal(g->numa_node, -1);
	assert_int_equal(g->pci_class, 0x030000);
	assert_int_equal(g->n_nodes, 2); /* the hostile by-path links are not nodes */
	assert_true(has_node(g, "/dev/dri/card0", 226, 0));
	assert_true(has_node(g, "/dev/dri/renderD128", 226, 128));
	assert_string_equal(nvb_inventory_gpu_cdi_id(inv, 0), "0000-00-02-0-0xa780");

	g = &inv->gpus[1];
	assert_string_equal(g->name, "ATS-M [Data Center GPU Flex 170]");
	assert_string_equal(g->kernel_driver, "xe");
	assert_int_equal(g->n_nodes, 5);
	assert_true(has_node(g, "/dev/dri/card1", 226, 1));
	assert_true(has_node(g, "/dev/dri/renderD129", 226, 129));
	/* by-path links: their own path, the numbers of the node they lead to */
	assert_true(has_node(g, "/dev/dri/by-path/pci-0000:03:00.0-card", 226, 1));
	assert_true(has_node(g, "/dev/dri/by-path/pci-0000:03:00.0-render", 226, 129));
	assert_true(has_node(g, "/dev/mei1", 239, 1));
	assert_string_equal(nvb_inventory_gpu_cdi_id(inv, 1), "0000-03-00-0-0x56c0");

	/* vfio-pci: listed, no nodes, no id, an info problem */
	g = &inv->gpus[2];
	assert_string_equal(g->kernel_driver, "vfio-pci");
	assert_string_equal(g->name, "Intel GPU 0x56c1");
	assert_int_equal(g->n_nodes, 0);
	assert_null(nvb_inventory_gpu_cdi_id(inv, 2));
	const struct nvb_problem *p = find_problem(inv, "vfio-bound", "0000:04:00.0");
	assert_non_null(p);
	assert_int_equal(p->severity, NVB_PROBLEM_INFO);
	/* no driver, and a driver that is no GPU driver */
	assert_null(inv->gpus[3].kernel_driver);
	assert_int_equal(inv->gpus[3].n_nodes, 0);
	assert_non_null(find_problem(inv, "driver-not-loaded", "0000:05:00.0 is bound to no driver"));
	assert_non_null(find_problem(inv, "driver-not-loaded", "0000:06:00.0 is bound to pci-stub"));
	assert_null(nvb_inventory_gpu_cdi_id(inv, 4));
	nvb_inventory_free(head);
	(void)state;
}

static void test_probe_missing_nodes(void **state)
{
	intel_host();
	sh("rm -f '%s/dev/dri/renderD129' '%s/dev/mei1' && rm -rf '%s/dev/dri/card0' && "
	   "mkdir '%s/dev/dri/card0'", root, root, root, root);
	struct nvb_inventory *head = probe_root(root, NVB_PROBE_INTEL);
	const struct nvb_inventory *inv = nvb_inventory_of_vendor(head, NVB_VENDOR_INTEL);
	assert_non_null(inv);
	assert_int_equal(head->n_gpus, 0);
	assert_int_equal(head->n_problems, 0); /* NVIDIA not asked for */
	assert_non_null(find_problem(inv, "device-node-missing", "renderD129"));
	assert_non_null(find_problem(inv, "device-node-missing", "card0"));
	assert_non_null(find_problem(inv, "device-node-missing", "mei1"));
	const struct nvb_gpu *g = &inv->gpus[1];
	/* the render by-path link now leads nowhere: left out with its node */
	assert_false(has_node(g, "/dev/dri/by-path/pci-0000:03:00.0-render", 226, 129));
	assert_true(has_node(g, "/dev/dri/by-path/pci-0000:03:00.0-card", 226, 1));
	assert_int_equal(inv->gpus[0].n_nodes, 1);
	nvb_inventory_free(head);
	(void)state;
}

static void test_probe_no_intel(void **state)
{
	pci_dev("0000:07:00.0", "0x10de\n", "0x2330\n", "0x030200\n", NULL);
	struct nvb_inventory *head = probe_root(root, NVB_PROBE_INTEL);
	assert_null(nvb_inventory_next(head));
	nvb_inventory_free(head);
	/* i915 loaded with no GPU (a host whose iGPU is disabled): the driver alone is listed */
	put("/sys/module/i915/version", "1.6.0\n");
	head = probe_root(root, NVB_PROBE_INTEL);
	const struct nvb_inventory *inv = nvb_inventory_of_vendor(head, NVB_VENDOR_INTEL);
	assert_non_null(inv);
	assert_int_equal(inv->n_gpus, 0);
	assert_string_equal(inv->driver.kernel_module, "i915");
	assert_string_equal(inv->driver.version, "1.6.0");
	nvb_inventory_free(head);
	(void)state;
}

static void test_fixture_intel_host(void **state)
{
	const char *base = getenv("NVB_FIXTURE_ROOTS");
	char dir[1024];
	struct stat st;
	snprintf(dir, sizeof(dir), "%s/intel-host", base ? base : "");
	if (!base || stat(dir, &st) < 0) {
		print_message("fixture root intel-host not built (NVB_FIXTURE_ROOTS): skipped\n");
		return;
	}
	struct nvb_inventory *head = probe_root(dir, 0);
	const struct nvb_inventory *inv = nvb_inventory_of_vendor(head, NVB_VENDOR_INTEL);
	assert_non_null(inv);
	assert_true(inv->n_gpus > 0);
	assert_int_equal(inv->n_gpu_extra, inv->n_gpus);
	for (size_t i = 0; i < inv->n_gpus; i++) {
		const struct nvb_gpu *g = &inv->gpus[i];
		assert_int_equal(g->index, i);
		assert_true(i == 0 || strcmp(inv->gpus[i - 1].pci_bus_id, g->pci_bus_id) < 0);
		const char *id = nvb_inventory_gpu_cdi_id(inv, i);
		assert_true(g->n_nodes ? id != NULL : id == NULL);
		if (id) {
			char *want = nvb_intel_cdi_id(g->pci_bus_id, g->pci_device);
			assert_string_equal(id, want);
			free(want);
		}
	}
	/* i915 iGPU, Arc A770 on i915, Arc B580 on xe, a Flex 170 given to a VM */
	assert_int_equal(inv->n_gpus, 4);
	assert_string_equal(inv->driver.kernel_module, "i915,xe");
	assert_string_equal(nvb_inventory_gpu_cdi_id(inv, 1), "0000-03-00-0-0x56a0");
	assert_true(has_node(&inv->gpus[1], "/dev/dri/by-path/pci-0000:03:00.0-render", 226, 129));
	assert_true(has_node(&inv->gpus[1], "/dev/mei1", 238, 1));
	assert_string_equal(inv->gpus[2].kernel_driver, "xe");
	assert_true(has_node(&inv->gpus[2], "/dev/mei2", 238, 2));
	assert_string_equal(inv->gpus[3].kernel_driver, "vfio-pci");
	assert_int_equal(inv->gpus[3].n_nodes, 0);
	assert_non_null(find_problem(inv, "vfio-bound", "0000:09:00.0"));
	nvb_inventory_free(head);
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cdi_id),
		cmocka_unit_test_setup_teardown(test_probe_intel_host, root_setup, root_teardown),
		cmocka_unit_test_setup_teardown(test_probe_missing_nodes, root_setup, root_teardown),
		cmocka_unit_test_setup_teardown(test_probe_no_intel, root_setup, root_teardown),
		cmocka_unit_test(test_fixture_intel_host),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
