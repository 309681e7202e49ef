/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Intel probe (i915, xe): display-class PCI devices of vendor 0x8086, in bus id order. Each gets
 * its DRM card and render nodes, udev's /dev/dri/by-path links to them (Intel's CDI generator
 * mounts those too) and the MEI nodes of its MEI child device (GSC firmware interface). A GPU
 * bound to vfio-pci is listed without nodes: it belongs to a virtual machine.
 */
#include <fcntl.h>

#include "probe/intel/intel.h"
#include "probe/pci.h"

#define PCI_DEVICES "/sys/bus/pci/devices"
#define MAX_GPUS 256

struct intel {
	struct nvb_host *host;
	struct nvb_inventory *inv;
	char *pci_ids;
	bool ids_read;
};

static int problem(int r, struct nvb_error *err)
{
	return r < 0 ? nvb_error_nomem(err) : 0;
}

static DIR *open_dir(struct intel *t, const char *path)
{
	struct nvb_error ignored;
	int fd = nvb_host_open_file(t->host, path, O_RDONLY | O_DIRECTORY, NULL, &ignored);
	return fd < 0 ? NULL : nvb_fdopendir(fd);
}

char *nvb_intel_cdi_id(const char *bus_id, unsigned device)
{
	char *id = nvb_asprintf("%s-0x%04x", bus_id, device & 0xffff);
	for (char *p = id; p && *p; p++)
		if (*p == ':' || *p == '.')
			*p = '-';
	return id;
}

/* A display controller: VGA (0x0300) or other display (0x0380); class is 0x03ccpp. */
static bool is_intel_gpu(struct intel *t, const char *dir)
{
	unsigned long long class = nvb_sysfs_number(t->host, dir, "class");
	return nvb_sysfs_number(t->host, dir, "vendor") == 0x8086 &&
	       ((class >> 8) == 0x0300 || (class >> 8) == 0x0380);
}

static int str_cmp(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

/* The bus ids of Intel GPUs on the PCI bus, sorted. */
static int list_gpus(struct intel *t, char ***ids, size_t *n, struct nvb_error *err)
{
	_cleanup_closedir_ DIR *d = open_dir(t, PCI_DEVICES);
	if (!d)
		return 0;
	NVB_DIR_FOREACH(de, d) {
		char bdf[32];
		if (*n >= MAX_GPUS || nvb_pci_bus_id_normalize(de->d_name, bdf, sizeof(bdf)) < 0 ||
		    strcmp(bdf, de->d_name) != 0)
			continue;
		_cleanup_free_ char *dir = nvb_asprintf(PCI_DEVICES "/%s", bdf);
		if (!dir)
			return nvb_error_nomem(err);
		if (is_intel_gpu(t, dir) && nvb_strv_append(ids, n, bdf) < 0)
			return nvb_error_nomem(err);
	}
	if (*n > 1)
		qsort(*ids, *n, sizeof(**ids), str_cmp);
	return 0;
}

static bool digits_after(const char *name, const char *prefix)
{
	if (!nvb_str_has_prefix(name, prefix))
		return false;
	const char *p = name + strlen(prefix);
	if (!*p || strlen(p) > 7)
		return false;
	for (; *p; p++)
		if (*p < '0' || *p > '9')
			return false;
	return true;
}

static int push_node(struct nvb_gpu *gpu, struct nvb_device_node *node, struct nvb_error *err)
{
	return nvb_nodes_push(&gpu->nodes, &gpu->n_nodes, node) < 0 ? nvb_error_nomem(err) : 0;
}

/* /dev/dri/<name> for each cardN and renderDN under dir/drm (by name: cards first, as
 * readdir's order is none); by-path links after them. */
static int drm_nodes(struct intel *t, struct nvb_gpu *gpu, const char *dir, struct nvb_error *err)
{
	_cleanup_free_ char *drm = nvb_asprintf("%s/drm", dir);
	_cleanup_closedir_ DIR *d = drm ? open_dir(t, drm) : NULL;
	if (!d)
		return drm ? 0 : nvb_error_nomem(err);
	char **names = NULL;
	size_t n = 0;
	int r = 0;
	NVB_DIR_FOREACH(de, d)
		if (r == 0 && (digits_after(de->d_name, "card") || digits_after(de->d_name, "renderD")) &&
		    n < 64 && nvb_strv_append(&names, &n, de->d_name) < 0)
			r = nvb_error_nomem(err);
	if (n > 1)
		qsort(names, n, sizeof(*names), str_cmp);
	bool card = false, render = false;
	for (size_t i = 0; r == 0 && i < n; i++) {
		bool is_card = digits_after(names[i], "card");
		char path[96];
		snprintf(path, sizeof(path), "/dev/dri/%s", names[i]);
		struct nvb_device_node node = {0};
		struct nvb_error serr;
		if (nvb_device_node_stat(t->host, path, &node, &serr) < 0) {
			r = problem(nvb_inventory_add_problem(t->inv, NVB_PROBLEM_WARNING,
							      "device-node-missing",
							      "check udev (it creates /dev/dri nodes)",
							      "Intel GPU %s: sysfs has %s but %s",
							      gpu->pci_bus_id, names[i], serr.message),
				    err);
			continue;
		}
		card = card || is_card;
		render = render || !is_card;
		r = push_node(gpu, &node, err);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (r < 0)
		return -1;
	/* udev's stable names, as Intel's CDI spec mounts them; only those that lead to a node */
	static const char *const kinds[] = {"card", "render"};
	for (size_t k = 0; k < NVB_ARRAY_SIZE(kinds); k++) {
		if (!(k == 0 ? card : render))
			continue;
		char path[128];
		snprintf(path, sizeof(path), "/dev/dri/by-path/pci-%s-%s", gpu->pci_bus_id, kinds[k]);
		struct nvb_device_node node = {0};
		struct nvb_error ignored;
		if (nvb_device_node_stat_follow(t->host, path, &node, &ignored) == 0 &&
		    push_node(gpu, &node, err) < 0)
			return -1;
	}
	return 0;
}

/* /dev/meiN for dir/<child with "mei" in its name>/mei/meiN (i915.mei-gsc.768, xe.mei-gscfi...) */
static int mei_nodes(struct intel *t, struct nvb_gpu *gpu, const char *dir, struct nvb_error *err)
{
	_cleanup_closedir_ DIR *d = open_dir(t, dir);
	if (!d)
		return 0;
	NVB_DIR_FOREACH(de, d) {
		if (!strstr(de->d_name, "mei") || de->d_name[0] == '.')
			continue;
		_cleanup_free_ char *sub = nvb_asprintf("%s/%s/mei", dir, de->d_name);
		_cleanup_closedir_ DIR *m = sub ? open_dir(t, sub) : NULL;
		if (!sub)
			return nvb_error_nomem(err);
		if (!m)
			continue;
		NVB_DIR_FOREACH(me, m) {
			if (!digits_after(me->d_name, "mei"))
				continue;
			char path[64];
			snprintf(path, sizeof(path), "/dev/%s", me->d_name);
			struct nvb_device_node node = {0};
			struct nvb_error serr;
			if (nvb_device_node_stat(t->host, path, &node, &serr) == 0) {
				if (push_node(gpu, &node, err) < 0)
					return -1;
			} else if (problem(nvb_inventory_add_problem(
						   t->inv, NVB_PROBLEM_INFO, "device-node-missing",
						   "check udev (mei nodes)", "Intel GPU %s: %s",
						   gpu->pci_bus_id, serr.message),
					   err) < 0) {
				return -1;
			}
		}
	}
	return 0;
}

static char *gpu_name(struct intel *t, unsigned device)
{
	if (!t->ids_read) {
		t->ids_read = true;
		t->pci_ids = nvb_pci_ids_read(t->host);
	}
	char *name = t->pci_ids ? nvb_pci_ids_name(t->pci_ids, 0x8086, device) : NULL;
	return name ? name : nvb_asprintf("Intel GPU 0x%04x", device);
}

/* What the bound driver means for a GPU: nodes (i915, xe), a VM's (vfio-pci), or nothing. */
static int driver_nodes(struct intel *t, struct nvb_gpu *gpu, const char *dir, struct nvb_error *err)
{
	const char *drv = gpu->kernel_driver;
	if (drv && (!strcmp(drv, "i915") || !strcmp(drv, "xe"))) {
		if (drm_nodes(t, gpu, dir, err) < 0 || mei_nodes(t, gpu, dir, err) < 0)
			return -1;
		if (!gpu->n_nodes)
			return problem(nvb_inventory_add_problem(
					       t->inv, NVB_PROBLEM_WARNING, "device-node-missing",
					       "check that the driver initialised it (dmesg) and udev",
					       "Intel GPU %s (%s) has no DRM device node",
					       gpu->pci_bus_id, drv),
				       err);
		return 0;
	}
	if (drv && !strcmp(drv, "vfio-pci"))
		return problem(nvb_inventory_add_problem(
				       t->inv, NVB_PROBLEM_INFO, "vfio-bound",
				       "bind it to i915 or xe to use it in containers",
				       "Intel GPU %s is bound to vfio-pci (a virtual machine's): "
				       "not given to containers", gpu->pci_bus_id),
			       err);
	return problem(nvb_inventory_add_problem(
			       t->inv, NVB_PROBLEM_WARNING, "driver-not-loaded",
			       "load i915 or xe (modprobe i915)",
			       "Intel GPU %s is bound to %s, not i915 or xe: no device nodes",
			       gpu->pci_bus_id, drv ? drv : "no driver"),
		       err);
}

static int add_gpu(struct intel *t, const char *bdf, struct nvb_error *err)
{
	_cleanup_free_ char *dir = nvb_asprintf(PCI_DEVICES "/%s", bdf);
	struct nvb_gpu *gpu = dir ? nvb_inventory_add_gpu(t->inv) : NULL;
	if (!gpu)
		return nvb_error_nomem(err);
	gpu->index = (unsigned)(t->inv->n_gpus - 1);
	if (!(gpu->pci_bus_id = strdup(bdf)))
		return nvb_error_nomem(err);
	nvb_pci_fill_gpu(t->host, dir, gpu);
	if (!(gpu->name = gpu_name(t, gpu->pci_device)) || driver_nodes(t, gpu, dir, err) < 0)
		return gpu->name ? -1 : nvb_error_nomem(err);
	/* no node, no CDI device (a vfio-bound GPU): no id either */
	struct nvb_gpu_extra *x = &t->inv->gpu_extra[t->inv->n_gpus - 1];
	if (gpu->n_nodes && !(x->cdi_id = nvb_intel_cdi_id(bdf, gpu->pci_device)))
		return nvb_error_nomem(err);
	return 0;
}

/* driver.kernel_module "i915", "xe" or "i915,xe" (those loaded), version from the first. */
static int driver(struct intel *t, struct nvb_error *err)
{
	static const char *const modules[] = {"i915", "xe"};
	char loaded[16] = "";
	for (size_t i = 0; i < NVB_ARRAY_SIZE(modules); i++) {
		char dir[32];
		snprintf(dir, sizeof(dir), "/sys/module/%s", modules[i]);
		_cleanup_closedir_ DIR *d = open_dir(t, dir);
		if (!d)
			continue;
		snprintf(loaded + strlen(loaded), sizeof(loaded) - strlen(loaded), "%s%s",
			 loaded[0] ? "," : "", modules[i]);
		if (!t->inv->driver.version)
			t->inv->driver.version = nvb_sysfs_attr(t->host, dir, "version");
	}
	if (loaded[0] && !(t->inv->driver.kernel_module = strdup(loaded)))
		return nvb_error_nomem(err);
	return 0;
}

int nvb_probe_intel(struct nvb_host *host, unsigned flags, struct nvb_inventory *inv,
		    struct nvb_error *err)
{
	(void)flags;
	struct intel t = {.host = host, .inv = inv};
	char **ids = NULL;
	size_t n = 0;
	int r = driver(&t, err);
	if (r == 0)
		r = list_gpus(&t, &ids, &n, err);
	for (size_t i = 0; r == 0 && i < n; i++)
		r = add_gpu(&t, ids[i], err);
	for (size_t i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
	free(t.pci_ids);
	return r;
}
