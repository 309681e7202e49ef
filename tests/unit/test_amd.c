/* SPDX-License-Identifier: Apache-2.0 */
/* The AMD probe: KFD properties parser, gfx names, amdgpu.ids, and nvb_inventory_probe on small
 * hand-made host roots (partitions, domains, missing nodes, hostile sysfs), then on the
 * amd-host and mixed-nvidia-amd fixture roots when tests/run.sh has built them. */
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
#include "probe/amd/amd.h"
#include "probe/pci.h"

/* ---- parsers ---- */

static const char mi300_props[] =
	"cpu_cores_count 0\nsimd_count 304\nmem_banks_count 1\ncaches_count 0\n"
	"io_links_count 1\np2p_links_count 7\ncpu_core_id_base 0\nsimd_id_base 2147487744\n"
	"max_waves_per_simd 8\nlds_size_in_kb 64\ngds_size_in_kb 0\nnum_gws 64\n"
	"wave_front_size 64\narray_count 4\nsimd_arrays_per_engine 1\ncu_per_simd_array 10\n"
	"simd_per_cu 4\nmax_slots_scratch_cu 32\ngfx_target_version 90402\nvendor_id 4098\n"
	"device_id 29857\nlocation_id 49408\ndomain 0\ndrm_render_minor 128\n"
	"hive_id 8412617473536458221\nnum_sdma_engines 2\nnum_sdma_xgmi_engines 6\n"
	"num_sdma_queues_per_engine 8\nnum_cp_queues 24\nmax_engine_clk_fcompute 2100\n"
	"local_mem_size 0\nfw_version 155\ncapability 746178176\ndebug_prop 1511\n"
	"sdma_fw_version 19\nunique_id 13030883543003414079\nnum_xcc 1\nmax_engine_clk_ccompute 3700\n";

static void test_kfd_properties(void **state)
{
	struct nvb_kfd_node n;
	assert_true(nvb_kfd_parse_properties(mi300_props, &n) >= 9);
	assert_true(nvb_kfd_node_is_gpu(&n));
	assert_int_equal(n.simd_count, 304);
	assert_int_equal(n.drm_render_minor, 128);
	assert_int_equal(n.location_id, 49408);
	assert_int_equal(n.domain, 0);
	assert_int_equal(n.gfx_target_version, 90402);
	assert_int_equal(n.device_id, 0x74a1);
	assert_true(n.unique_id == 13030883543003414079ull);
	assert_int_equal(n.num_xcc, 1);
	/* a CPU node */
	assert_true(nvb_kfd_parse_properties("cpu_cores_count 64\nsimd_count 0\n"
					     "drm_render_minor 0\nlocation_id 0\ndomain 0\n", &n) > 0);
	assert_false(nvb_kfd_node_is_gpu(&n));
	(void)state;
}

static void test_kfd_properties_hostile(void **state)
{
	struct nvb_kfd_node n;
	assert_int_equal(nvb_kfd_parse_properties("", &n), 0);
	assert_int_equal(nvb_kfd_parse_properties("\n\n\x01\xff garbage\n", &n), 0);
	assert_false(nvb_kfd_node_is_gpu(&n));
	/* values past 64 bits, negative, hex, trailing junk, a key that is only a prefix */
	assert_int_equal(nvb_kfd_parse_properties(
				 "unique_id 99999999999999999999999\nlocation_id -5\n"
				 "domain 0x10\ndrm_render_minor 128abc\nsimd_count\n"
				 "simd_count_x 5\nsimd 4\n", &n), 0);
	assert_int_equal(n.unique_id, 0);
	assert_int_equal(n.location_id, -1);
	assert_int_equal(n.domain, -1);
	assert_int_equal(n.drm_render_minor, -1);
	/* out of their range: location_id is 16 bits, minors 31 */
	assert_int_equal(nvb_kfd_parse_properties("location_id 65536\ndrm_render_minor 4294967296\n"
						  "simd_count 4\ndomain 0\n", &n), 4);
	assert_int_equal(n.location_id, -1);
	assert_int_equal(n.drm_render_minor, -1);
	assert_false(nvb_kfd_node_is_gpu(&n));
	/* CRLF, tabs, spaces, repeated keys (the last wins), no final newline */
	assert_int_equal(nvb_kfd_parse_properties("simd_count\t\t8 \r\ndrm_render_minor 130\n"
						  "location_id 1\nlocation_id 256\ndomain 3", &n), 5);
	assert_true(nvb_kfd_node_is_gpu(&n));
	assert_int_equal(n.location_id, 256);
	assert_int_equal(n.domain, 3);
	(void)state;
}

static void test_gfx_arch(void **state)
{
	static const struct {
		uint64_t v;
		const char *arch;
	} cases[] = {{90402, "gfx942"}, {90010, "gfx90a"}, {90008, "gfx908"},
		     {110000, "gfx1100"}, {100300, "gfx1030"}, {120001, "gfx1201"},
		     {90500, "gfx950"}, {0, NULL}, {91600, NULL}, {90016, NULL},
		     {18446744073709551615ull, NULL}};
	for (size_t i = 0; i < NVB_ARRAY_SIZE(cases); i++) {
		char *a = nvb_amd_gfx_arch(cases[i].v);
		if (cases[i].arch)
			assert_string_equal(a, cases[i].arch);
		else
			assert_null(a);
		free(a);
	}
	(void)state;
}

static void test_ids(void **state)
{
	const char *ids = "# List of AMDGPU IDs\n#\n# Syntax:\n# device_id,\trevision_id,\tproduct_name\n"
			  "\n1.0.0\n74A1,\t00,\tAMD Instinct MI300X\n74A1,\t01,\tAMD Instinct MI300X VF \n"
			  "740F,\t02,\tAMD Instinct MI210\nzzzz,\t00,\tbroken\n7480,\t,\tno rev\n";
	char *n = nvb_amdgpu_ids_name(ids, 0x74a1, 0);
	assert_string_equal(n, "AMD Instinct MI300X");
	free(n);
	n = nvb_amdgpu_ids_name(ids, 0x74a1, 1);
	assert_string_equal(n, "AMD Instinct MI300X VF");
	free(n);
	assert_null(nvb_amdgpu_ids_name(ids, 0x740f, 0));
	assert_null(nvb_amdgpu_ids_name(ids, 0x7480, 0));
	assert_null(nvb_amdgpu_ids_name("", 0x74a1, 0));
	const char *pci = "# pci.ids\n1000  LSI\n\t0001  53c810\n1002  Advanced Micro Devices, Inc. "
			  "[AMD/ATI]\n\t740f  Aldebaran/MI200 [Instinct MI210]\n\t\t1002 0c34  "
			  "sub\n\t74a1  Aqua Vanjaram [Instinct MI300X]\n1003  ULSI\n\t7401  other\n"
			  "C 03  Display controller\n";
	n = nvb_pci_ids_name(pci, 0x1002, 0x74a1);
	assert_string_equal(n, "Aqua Vanjaram [Instinct MI300X]");
	free(n);
	assert_null(nvb_pci_ids_name(pci, 0x1002, 0x7401)); /* another vendor's device */
	assert_null(nvb_pci_ids_name(pci, 0x1002, 0x0c34)); /* a subsystem line */
	assert_null(nvb_pci_ids_name("1002\n\t74a1\n", 0x1002, 0x74a1));
	(void)state;
}

/* ---- a host with an MI210, an MI300X in CPX mode and a GPU on PCI domain 1 ---- */

static void pci_dev(const char *bdf, const char *device, int card, int render)
{
	char d[256], rel[400], target[256];
	snprintf(d, sizeof(d), "/sys/devices/pci%.4s:00/%s", bdf, bdf);
	snprintf(rel, sizeof(rel), "%s/vendor", d);
	put(rel, "0x1002\n");
	snprintf(rel, sizeof(rel), "%s/device", d);
	put(rel, device);
	snprintf(rel, sizeof(rel), "%s/class", d);
	put(rel, "0x120000\n");
	snprintf(rel, sizeof(rel), "%s/revision", d);
	put(rel, "0x00\n");
	snprintf(rel, sizeof(rel), "%s/numa_node", d);
	put(rel, "1\n");
	snprintf(rel, sizeof(rel), "%s/driver", d);
	link_to(rel, "../../../bus/pci/drivers/amdgpu");
	if (card >= 0) {
		snprintf(rel, sizeof(rel), "%s/drm/card%d/dev", d, card);
		put(rel, "226:0\n");
	}
	if (render >= 0) {
		snprintf(rel, sizeof(rel), "%s/drm/renderD%d/dev", d, render);
		put(rel, "226:128\n");
	}
	snprintf(rel, sizeof(rel), "/sys/bus/pci/drivers/amdgpu/%s", bdf);
	snprintf(target, sizeof(target), "../../../..%s", d + strlen("/sys"));
	link_to(rel, target);
	snprintf(rel, sizeof(rel), "/sys/bus/pci/devices/%s", bdf);
	snprintf(target, sizeof(target), "../../..%s", d + strlen("/sys"));
	link_to(rel, target);
}

static void kfd_node(int n, const char *props, unsigned gpu_id)
{
	char rel[200], id[32];
	snprintf(rel, sizeof(rel), "/sys/class/kfd/kfd/topology/nodes/%d/properties", n);
	put(rel, props);
	snprintf(rel, sizeof(rel), "/sys/class/kfd/kfd/topology/nodes/%d/gpu_id", n);
	snprintf(id, sizeof(id), "%u\n", gpu_id);
	put(rel, id);
}

static void kfd_gpu(int n, int render, unsigned loc, unsigned domain, unsigned gfx,
		    const char *unique, unsigned gpu_id)
{
	char props[512];
	snprintf(props, sizeof(props),
		 "cpu_cores_count 0\nsimd_count 304\ngfx_target_version %u\nvendor_id 4098\n"
		 "device_id 29857\nlocation_id %u\ndomain %u\ndrm_render_minor %d\nunique_id %s\n"
		 "num_xcc 1\n", gfx, loc, domain, render, unique);
	kfd_node(n, props, gpu_id);
}

static void xcp(int n, int render)
{
	char rel[200];
	snprintf(rel, sizeof(rel), "/sys/devices/platform/amdgpu_xcp_%d/uevent", n);
	put(rel, "");
	if (render >= 0) {
		snprintf(rel, sizeof(rel), "/sys/devices/platform/amdgpu_xcp_%d/drm/renderD%d/dev", n,
			 render);
		put(rel, "226:0\n");
	}
}

static void amd_host(void)
{
	put("/sys/module/amdgpu/version", "6.10.5\n");
	link_to("/sys/module/amdgpu/drivers/pci:amdgpu", "../../../bus/pci/drivers/amdgpu");
	put("/sys/bus/pci/drivers/amdgpu/bind", "");
	put("/sys/bus/pci/drivers/amdgpu/new_id", "");
	pci_dev("0000:41:00.0", "0x740f\n", 0, 136);
	pci_dev("0000:c1:00.0", "0x74a1\n", 1, 128);
	pci_dev("0001:c1:00.0", "0x1234\n", -1, 140);
	put("/sys/devices/pci0000:00/0000:c1:00.0/mem_info_vram_total", "206141652992\n");
	put("/sys/devices/pci0000:00/0000:41:00.0/mem_info_vram_total", "68702699520\n");
	put("/sys/devices/pci0000:00/0000:c1:00.0/current_compute_partition", "CPX\n");
	put("/sys/devices/pci0000:00/0000:c1:00.0/current_memory_partition", "NPS1\n");
	/* partitions of c1: xcp_1 has the lower render minor; xcp_2 has no drm; xcp_3's render
	 * node is not KFD's; xcp_4's drm is a symbolic link loop */
	xcp(0, 130);
	xcp(1, 129);
	xcp(2, -1);
	xcp(3, 131);
	put("/sys/devices/platform/amdgpu_xcp_4/uevent", "");
	link_to("/sys/devices/platform/amdgpu_xcp_4/drm", "drm");
	put("/sys/devices/platform/amdgpu_xcp_x/drm/renderD150/dev", "");
	kfd_node(0, "cpu_cores_count 64\nsimd_count 0\ndrm_render_minor 0\nlocation_id 0\ndomain 0\n", 0);
	kfd_gpu(1, 136, 0x41 << 8, 0, 90010, "2719104598436085767", 1111);
	kfd_gpu(7, 141, 0x42 << 8, 0, 90010, "4096", 7777); /* its render node is in no sysfs drm */
	kfd_gpu(2, 128, 0xc1 << 8, 0, 90402, "13030883543003414079", 2222);
	/* partitions carry the GPU's unique_id and their number in the function bits */
	kfd_gpu(3, 129, 0xc1 << 8 | 2, 0, 90402, "13030883543003414079", 3333);
	kfd_gpu(4, 130, 0xc1 << 8 | 1, 0, 90402, "13030883543003414079", 4444);
	kfd_gpu(5, 140, 0xc1 << 8, 1, 110000, "0", 5555);
	kfd_node(6, "\x01\x02 not properties \xff\n", 0);
	put("/proc/devices", "Character devices:\n  1 mem\n226 drm\n510 kfd\n\nBlock devices:\n");
	node("/dev/kfd", 510, 0);
	node("/dev/dri/card0", 226, 0);
	node("/dev/dri/card1", 226, 1);
	node("/dev/dri/renderD128", 226, 128);
	node("/dev/dri/renderD129", 226, 129);
	node("/dev/dri/renderD130", 226, 130);
	node("/dev/dri/renderD136", 226, 136);
	/* renderD140 is missing on purpose */
	put("/usr/share/libdrm/amdgpu.ids", "1.0.0\n74A1,\t00,\tAMD Instinct MI300X\n");
	put("/usr/share/misc/pci.ids",
	    "1002  Advanced Micro Devices, Inc. [AMD/ATI]\n\t740f  Aldebaran/MI200 [Instinct MI210]\n");
}

static bool has_node(const struct nvb_gpu *gpu, const char *path, unsigned major, unsigned minor)
{
	for (size_t i = 0; i < gpu->n_nodes; i++)
		if (!strcmp(gpu->nodes[i].path, path))
			return gpu->nodes[i].major == major && gpu->nodes[i].minor == minor;
	return false;
}

static void test_probe_amd_host(void **state)
{
	amd_host();
	struct nvb_inventory *head = probe_root(root, 0);
	const struct nvb_inventory *inv = nvb_inventory_next(head);
	assert_int_equal(nvb_inventory_vendor(head), NVB_VENDOR_NVIDIA);
	assert_non_null(inv);
	assert_int_equal(nvb_inventory_vendor(inv), NVB_VENDOR_AMD);
	assert_null(nvb_inventory_next(inv)); /* no Intel GPU here */
	assert_string_equal(inv->driver.kernel_module, "amdgpu");
	assert_string_equal(inv->driver.version, "6.10.5");
	assert_int_equal(inv->n_gpus, 5);
	assert_int_equal(inv->n_gpu_extra, 5);
	for (size_t i = 0; i < inv->n_gpus; i++) {
		assert_int_equal(nvb_gpu_index(&inv->gpus[i]), i);
		assert_int_equal(inv->gpus[i].vendor, NVB_VENDOR_AMD);
		assert_null(inv->gpus[i].uuid);
		assert_true(has_node(&inv->gpus[i], "/dev/kfd", 510, 0));
	}
	/* the MI210: first group (first PCI device), not partitioned */
	const struct nvb_gpu *g = &inv->gpus[0];
	assert_string_equal(g->pci_bus_id, "0000:41:00.0");
	assert_string_equal(g->name, "Aldebaran/MI200 [Instinct MI210]");
	assert_string_equal(g->kernel_driver, "amdgpu");
	assert_int_equal(g->pci_vendor, 0x1002);
	assert_int_equal(g->pci_device, 0x740f);
	assert_int_equal(g->numa_node, 1);
	assert_true(g->memory_total == 68702699520ull);
	assert_int_equal(g->n_nodes, 3);
	assert_true(has_node(g, "/dev/dri/card0", 226, 0));
	assert_true(has_node(g, "/dev/dri/renderD136", 226, 136));
	assert_string_equal(nvb_inventory_gpu_cdi_id(inv, 0), "0x25bc3339d0ea0007");
	assert_int_equal(nvb_inventory_gpu_partition(inv, 0), -1);
	assert_string_equal(nvb_inventory_gpu_arch(inv, 0), "gfx90a");
	assert_int_equal(inv->gpu_extra[0].kfd_gpu_id, 1111);
	assert_null(inv->gpu_extra[0].compute_partition);
	/* the MI300X: primary, then its partitions by render minor (xcp_1 129, xcp_0 130) */
	static const struct {
		int render, partition;
		unsigned gpu_id;
		const char *name;
	} mi300[] = {{128, 0, 2222, "AMD Instinct MI300X (partition 0)"},
		     {129, 2, 3333, "AMD Instinct MI300X (partition 2)"},
		     {130, 1, 4444, "AMD Instinct MI300X (partition 1)"}};
	for (size_t k = 0; k < 3; k++) {
		g = &inv->gpus[1 + k];
		char render[64];
		snprintf(render, sizeof(render), "/dev/dri/renderD%d", mi300[k].render);
		assert_string_equal(g->pci_bus_id, "0000:c1:00.0");
		assert_string_equal(g->name, mi300[k].name);
		assert_true(has_node(g, render, 226, (unsigned)mi300[k].render));
		assert_int_equal(inv->gpu_extra[1 + k].partition, mi300[k].partition);
		assert_int_equal(inv->gpu_extra[1 + k].kfd_gpu_id, mi300[k].gpu_id);
		/* the shared unique id names no partition */
		assert_null(nvb_inventory_gpu_cdi_id(inv, 1 + k));
		assert_string_equal(inv->gpu_extra[1 + k].compute_partition, "CPX");
		assert_string_equal(inv->gpu_extra[1 + k].memory_partition, "NPS1");
		assert_string_equal(inv->gpu_extra[1 + k].arch, "gfx942");
		assert_int_equal(g->memory_total, 0); /* a partition's share is unknown */
	}
	assert_true(has_node(&inv->gpus[1], "/dev/dri/card1", 226, 1));
	assert_int_equal(inv->gpus[1].n_nodes, 3);
	assert_int_equal(inv->gpus[2].n_nodes, 2); /* the partitions have no card node */
	/* the same location_id on domain 1: its own GPU, whose render node is missing in /dev */
	g = &inv->gpus[4];
	assert_string_equal(g->pci_bus_id, "0001:c1:00.0");
	assert_string_equal(g->name, "AMD GPU 0x1234");
	assert_int_equal(inv->gpu_extra[4].partition, -1);
	assert_null(inv->gpu_extra[4].cdi_id); /* unique_id 0: none */
	assert_string_equal(inv->gpu_extra[4].arch, "gfx1100");
	assert_int_equal(g->n_nodes, 1);
	assert_non_null(find_problem(inv, "device-node-missing", "renderD140"));
	/* xcp_3's render node is not KFD's, xcp_2 has no drm, xcp_4's is a loop: none listed */
	for (size_t i = 0; i < inv->n_gpus; i++) {
		assert_false(has_node(&inv->gpus[i], "/dev/dri/renderD131", 226, 131));
		assert_false(has_node(&inv->gpus[i], "/dev/dri/renderD150", 226, 150));
	}
	assert_null(find_problem(inv, "device-node-missing", "renderD131"));
	assert_non_null(find_problem(inv, "kfd-malformed", "nodes/6/properties"));
	assert_null(find_problem(inv, "device-node-missing", "/dev/kfd"));
	assert_null(find_problem(inv, "driver-not-loaded", NULL));
	nvb_inventory_free(head);
	(void)state;
}

static void test_probe_no_kfd_device(void **state)
{
	amd_host();
	sh("rm -f '%s/dev/kfd' && mkdir '%s/dev/kfd'", root, root); /* a directory, not a node */
	struct nvb_inventory *head = probe_root(root, NVB_PROBE_AMD);
	const struct nvb_inventory *inv = nvb_inventory_of_vendor(head, NVB_VENDOR_AMD);
	assert_non_null(inv);
	assert_int_equal(inv->n_gpus, 5);
	const struct nvb_problem *p = find_problem(inv, "device-node-missing", "/dev/kfd");
	assert_non_null(p);
	assert_int_equal(p->severity, NVB_PROBLEM_ERROR);
	assert_false(has_node(&inv->gpus[0], "/dev/kfd", 510, 0));
	/* the NVIDIA head is empty: only AMD was asked for */
	assert_int_equal(head->n_gpus, 0);
	assert_int_equal(head->n_problems, 0);
	nvb_inventory_free(head);
	(void)state;
}

static void test_probe_stale_kfd_and_no_topology(void **state)
{
	amd_host();
	put("/proc/devices", "Character devices:\n226 drm\n234 kfd\n");
	struct nvb_inventory *head = probe_root(root, NVB_PROBE_AMD);
	const struct nvb_inventory *inv = nvb_inventory_of_vendor(head, NVB_VENDOR_AMD);
	assert_non_null(find_problem(inv, "device-node-stale", "/dev/kfd"));
	nvb_inventory_free(head);
	sh("rm -rf '%s/sys/class/kfd'", root);
	head = probe_root(root, NVB_PROBE_AMD);
	inv = nvb_inventory_of_vendor(head, NVB_VENDOR_AMD);
	assert_int_equal(inv->n_gpus, 0); /* no render node KFD lists */
	assert_non_null(find_problem(inv, "kfd-missing", NULL));
	nvb_inventory_free(head);
	(void)state;
}

static void test_probe_not_loaded(void **state)
{
	put("/sys/bus/pci/devices/0000:03:00.0/vendor", "0x1002\n");
	put("/sys/bus/pci/devices/0000:03:00.0/class", "0x030000\n");
	put("/sys/bus/pci/devices/0000:04:00.0/vendor", "0x1002\n");
	put("/sys/bus/pci/devices/0000:04:00.0/class", "0x040300\n"); /* its HDMI audio */
	struct nvb_inventory *head = probe_root(root, 0);
	const struct nvb_inventory *inv = nvb_inventory_of_vendor(head, NVB_VENDOR_AMD);
	assert_non_null(inv);
	assert_int_equal(inv->n_gpus, 0);
	assert_null(inv->driver.kernel_module);
	const struct nvb_problem *p = find_problem(inv, "driver-not-loaded", "1 AMD GPU");
	assert_non_null(p);
	assert_non_null(strstr(p->message, "0000:03:00.0"));
	nvb_inventory_free(head);
	(void)state;
}

static void test_probe_no_amd(void **state)
{
	put("/sys/bus/pci/devices/0000:00:02.0/vendor", "0x8086\n");
	put("/sys/bus/pci/devices/0000:00:02.0/class", "0x030000\n");
	struct nvb_inventory *head = probe_root(root, NVB_PROBE_AMD);
	assert_null(nvb_inventory_of_vendor(head, NVB_VENDOR_AMD));
	assert_null(nvb_inventory_next(head));
	nvb_inventory_free(head);
	(void)state;
}

/* ---- the fixture roots tests/run.sh builds (NVB_FIXTURE_ROOTS) ---- */

/* What holds for every AMD inventory: extras in step, indices in order, a render node and
 * /dev/kfd for each GPU, partitions named so. */
static void check_amd_inventory(const struct nvb_inventory *inv)
{
	assert_int_equal(nvb_inventory_vendor(inv), NVB_VENDOR_AMD);
	assert_int_equal(inv->n_gpu_extra, inv->n_gpus);
	assert_true(inv->n_gpus > 0);
	for (size_t i = 0; i < inv->n_gpus; i++) {
		const struct nvb_gpu *g = &inv->gpus[i];
		assert_int_equal(g->index, i);
		bool render = false, kfd = false;
		for (size_t k = 0; k < g->n_nodes; k++) {
			render = render || nvb_str_has_prefix(g->nodes[k].path, "/dev/dri/renderD");
			kfd = kfd || !strcmp(g->nodes[k].path, "/dev/kfd");
		}
		assert_true(render);
		assert_true(kfd);
		assert_non_null(g->name);
		assert_non_null(inv->gpu_extra[i].arch);
		if (inv->gpu_extra[i].partition >= 0)
			assert_non_null(strstr(g->name, "(partition "));
		const char *id = nvb_inventory_gpu_cdi_id(inv, i);
		assert_true(!id || nvb_str_has_prefix(id, "0x"));
	}
}

static void test_fixture_amd_host(void **state)
{
	char dir[1024];
	if (!fixture_root("amd-host", dir, sizeof(dir)))
		return;
	struct nvb_inventory *head = probe_root(dir, 0);
	const struct nvb_inventory *inv = nvb_inventory_of_vendor(head, NVB_VENDOR_AMD);
	assert_non_null(inv);
	check_amd_inventory(inv);
	assert_string_equal(inv->driver.kernel_module, "amdgpu");
	assert_string_equal(inv->driver.version, "6.7.0");
	assert_int_equal(head->n_gpus, 0); /* no NVIDIA GPU there */
	/* 2x MI210, then the MI300X's 8 CPX partitions; amdgpu_xcp_7 (renderD138) has no KFD node */
	assert_int_equal(inv->n_gpus, 10);
	assert_string_equal(inv->gpus[0].pci_bus_id, "0000:03:00.0");
	assert_string_equal(inv->gpus[0].name, "AMD Instinct MI210");
	assert_true(has_node(&inv->gpus[0], "/dev/dri/card1", 226, 1)); /* the BMC has card0 */
	assert_true(has_node(&inv->gpus[0], "/dev/dri/renderD128", 226, 128));
	assert_true(has_node(&inv->gpus[0], "/dev/kfd", 235, 0));
	assert_string_equal(nvb_inventory_gpu_cdi_id(inv, 0), "0x25bc3339d0ea0007");
	assert_string_equal(nvb_inventory_gpu_cdi_id(inv, 1), "0x8838290a7af1b009");
	assert_int_equal(inv->gpu_extra[0].kfd_gpu_id, 63217);
	assert_string_equal(inv->gpu_extra[0].arch, "gfx90a");
	for (int p = 0; p < 8; p++) {
		const struct nvb_gpu *g = &inv->gpus[2 + p];
		char render[64];
		snprintf(render, sizeof(render), "/dev/dri/renderD%d", 130 + p);
		assert_string_equal(g->pci_bus_id, "0000:83:00.0");
		assert_int_equal(nvb_inventory_gpu_partition(inv, 2 + (size_t)p), p);
		assert_true(has_node(g, render, 226, 130 + (unsigned)p));
		assert_string_equal(inv->gpu_extra[2 + p].compute_partition, "CPX");
		assert_string_equal(inv->gpu_extra[2 + p].memory_partition, "NPS1");
		assert_string_equal(nvb_inventory_gpu_arch(inv, 2 + (size_t)p), "gfx942");
		assert_null(nvb_inventory_gpu_cdi_id(inv, 2 + (size_t)p)); /* shared unique id */
	}
	for (size_t i = 0; i < inv->n_gpus; i++)
		assert_false(has_node(&inv->gpus[i], "/dev/dri/renderD138", 226, 138));
	nvb_inventory_free(head);
	(void)state;
}

static void test_fixture_mixed(void **state)
{
	char dir[1024];
	if (!fixture_root("mixed-nvidia-amd", dir, sizeof(dir)))
		return;
	struct nvb_inventory *head = probe_root(dir, 0);
	assert_int_equal(nvb_inventory_vendor(head), NVB_VENDOR_NVIDIA);
	assert_true(head->n_gpus > 0);
	const struct nvb_inventory *amd = nvb_inventory_next(head);
	assert_non_null(amd);
	check_amd_inventory(amd);
	nvb_inventory_free(head);
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kfd_properties),
		cmocka_unit_test(test_kfd_properties_hostile),
		cmocka_unit_test(test_gfx_arch),
		cmocka_unit_test(test_ids),
		cmocka_unit_test_setup_teardown(test_probe_amd_host, root_setup, root_teardown),
		cmocka_unit_test_setup_teardown(test_probe_no_kfd_device, root_setup, root_teardown),
		cmocka_unit_test_setup_teardown(test_probe_stale_kfd_and_no_topology, root_setup,
						root_teardown),
		cmocka_unit_test_setup_teardown(test_probe_not_loaded, root_setup, root_teardown),
		cmocka_unit_test_setup_teardown(test_probe_no_amd, root_setup, root_teardown),
		cmocka_unit_test(test_fixture_amd_host),
		cmocka_unit_test(test_fixture_mixed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
