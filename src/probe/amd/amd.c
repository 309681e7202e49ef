/* SPDX-License-Identifier: Apache-2.0 */
/*
 * AMD probe (amdgpu): the GPUs and partitions ROCm's container toolkit lists, in its order.
 * PCI devices bound to amdgpu (/sys/module/amdgpu/drivers/pci:amdgpu/<bus id>) and MI300
 * partitions (/sys/devices/platform/amdgpu_xcp_*) each bring a render node; KFD's topology says
 * which physical GPU (location_id, domain) each render node belongs to, and render nodes KFD
 * does not list are dropped (no compute behind them). Groups (one per physical GPU) keep their
 * first appearance, members of a group go by render minor; the position is the index.
 */
#include <fcntl.h>
#include <stdint.h>

#include "probe/amd/amd.h"
#include "probe/pci.h"

#define AMDGPU_MODULE "/sys/module/amdgpu"
#define AMDGPU_PCI_DRIVER AMDGPU_MODULE "/drivers/pci:amdgpu"
#define XCP_DIR "/sys/devices/platform"
#define KFD_NODES "/sys/class/kfd/kfd/topology/nodes"
#define PROPERTIES_MAX (64u * 1024u)
#define IDS_MAX (4u * 1024u * 1024u)
#define MAX_ENTRIES 512
#define MAX_KFD_NODES 1024
#define DRI_MAJOR 226

/* ------------------------------------------------------- KFD properties */

static bool parse_u64(const char *s, size_t len, uint64_t *out)
{
	if (!len || len > 20)
		return false;
	uint64_t v = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		unsigned d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return false; /* more than 64 bits: treated as absent */
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

int nvb_kfd_parse_properties(const char *text, struct nvb_kfd_node *out)
{
	*out = (struct nvb_kfd_node){.simd_count = -1, .drm_render_minor = -1,
				     .location_id = -1, .domain = -1};
	static const char *const keys[] = {"simd_count", "drm_render_minor", "location_id",
					   "domain", "gfx_target_version", "vendor_id",
					   "device_id", "unique_id", "num_xcc"};
	int known = 0;
	for (const char *p = text; *p;) {
		size_t line = strcspn(p, "\n");
		size_t klen = strcspn(p, " \t\n");
		const char *v = p + klen;
		while (v < p + line && (*v == ' ' || *v == '\t'))
			v++;
		size_t vlen = (size_t)(p + line - v);
		while (vlen && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t' || v[vlen - 1] == '\r'))
			vlen--;
		uint64_t n;
		for (size_t k = 0; k < NVB_ARRAY_SIZE(keys); k++) {
			if (strlen(keys[k]) != klen || strncmp(p, keys[k], klen) || !parse_u64(v, vlen, &n))
				continue;
			long long s = n > (uint64_t)INT32_MAX ? -1 : (long long)n; /* signed: 31 bits */
			switch (k) {
			case 0: out->simd_count = s; break;
			case 1: out->drm_render_minor = s; break;
			case 2: out->location_id = n <= 0xffff ? (long long)n : -1; break;
			case 3: out->domain = n <= 0xffff ? (long long)n : -1; break;
			case 4: out->gfx_target_version = n; break;
			case 5: out->vendor_id = n; break;
			case 6: out->device_id = n; break;
			case 7: out->unique_id = n; break;
			default: out->num_xcc = n; break;
			}
			known++;
		}
		p += line;
		if (*p)
			p++;
	}
	return known;
}

bool nvb_kfd_node_is_gpu(const struct nvb_kfd_node *node)
{
	return node->simd_count > 0 && node->drm_render_minor > 0 && node->location_id >= 0 &&
	       node->domain >= 0;
}

char *nvb_amd_gfx_arch(uint64_t v)
{
	uint64_t major = v / 10000, minor = (v / 100) % 100, step = v % 100;
	if (!v || major > 99 || minor > 15 || step > 15)
		return NULL;
	return nvb_asprintf("gfx%u%x%x", (unsigned)major, (unsigned)minor, (unsigned)step);
}

/* ------------------------------------------------------------ amdgpu.ids */

char *nvb_amdgpu_ids_name(const char *text, unsigned device, unsigned revision)
{
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (*p == '#')
			continue;
		char *end = NULL;
		unsigned long dev = strtoul(p, &end, 16);
		if (end == p || *end != ',' || dev != device)
			continue;
		const char *r = end + 1;
		unsigned long rev = strtoul(r, &end, 16);
		if (end == r || *end != ',' || rev != revision)
			continue;
		const char *name = end + 1;
		while (*name == ' ' || *name == '\t')
			name++;
		size_t len = strcspn(name, "\r\n");
		while (len && (name[len - 1] == ' ' || name[len - 1] == '\t'))
			len--;
		return len ? strndup(name, len) : NULL;
	}
	return NULL;
}

/* ------------------------------------------------------------- the probe */

struct entry {
	char *dir;   /* sysfs directory inside the root */
	char *bdf;   /* PCI devices: the bus id; NULL for partitions */
	long xcp;    /* n of amdgpu_xcp_<n>; -1 for a PCI device */
	int card, render; /* DRM minors, -1 when none */
	const struct nvb_kfd_node *kfd;
	size_t group;
	int partition;
};

struct amd {
	struct nvb_host *host;
	struct nvb_inventory *inv;
	char *proc_devices;
	char *amdgpu_ids, *pci_ids;
	bool ids_read;
	struct nvb_kfd_node *kfd;
	size_t n_kfd;
	bool kfd_topology; /* the topology directory exists */
	struct entry *e;
	size_t n_e;
	struct nvb_device_node kfd_dev; /* path NULL when /dev/kfd is unusable */
};

static void amd_clear(struct amd *a)
{
	free(a->proc_devices);
	free(a->amdgpu_ids);
	free(a->pci_ids);
	free(a->kfd);
	for (size_t i = 0; i < a->n_e; i++) {
		free(a->e[i].dir);
		free(a->e[i].bdf);
	}
	free(a->e);
	nvb_device_node_clear(&a->kfd_dev);
}

static int problem(struct amd *a, int r, struct nvb_error *err)
{
	return r < 0 ? nvb_error_nomem(err) : 0;
}

/* A directory inside the host root, as a stream; NULL when absent (or a link loop). */
static DIR *open_dir(struct amd *a, const char *path)
{
	struct nvb_error ignored;
	int fd = nvb_host_open_file(a->host, path, O_RDONLY | O_DIRECTORY, NULL, &ignored);
	return fd < 0 ? NULL : nvb_fdopendir(fd);
}

static bool is_number(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

static int read_kfd(struct amd *a, struct nvb_error *err)
{
	_cleanup_closedir_ DIR *d = open_dir(a, KFD_NODES);
	if (!d)
		return 0;
	a->kfd_topology = true;
	NVB_DIR_FOREACH(de, d) {
		if (!is_number(de->d_name) || a->n_kfd >= MAX_KFD_NODES)
			continue;
		_cleanup_free_ char *dir = nvb_asprintf(KFD_NODES "/%s", de->d_name);
		_cleanup_free_ char *props = dir ? nvb_sysfs_attr(a->host, dir, "properties") : NULL;
		if (!dir)
			return nvb_error_nomem(err);
		struct nvb_kfd_node node;
		if (!props || nvb_kfd_parse_properties(props, &node) == 0) {
			int r = nvb_inventory_add_problem(a->inv, NVB_PROBLEM_WARNING, "kfd-malformed",
							  "check the amdgpu driver (dmesg)",
							  "%s/properties: %s", dir,
							  props ? "no known property" : "unreadable");
			if (r < 0)
				return nvb_error_nomem(err);
			continue;
		}
		if (!nvb_kfd_node_is_gpu(&node))
			continue; /* a CPU node */
		node.gpu_id = (uint32_t)nvb_sysfs_number(a->host, dir, "gpu_id");
		bool dup = false;
		for (size_t i = 0; i < a->n_kfd; i++)
			dup = dup || a->kfd[i].drm_render_minor == node.drm_render_minor;
		if (dup) {
			if (nvb_inventory_add_problem(a->inv, NVB_PROBLEM_WARNING, "kfd-malformed", NULL,
						      "%s: render minor %lld is listed by another "
						      "KFD node too; this one is ignored",
						      dir, node.drm_render_minor) < 0)
				return nvb_error_nomem(err);
			continue;
		}
		struct nvb_kfd_node *slot = nvb_array_push(&a->kfd, &a->n_kfd, sizeof(*slot));
		if (!slot)
			return nvb_error_nomem(err);
		*slot = node;
	}
	return 0;
}

/* "card0" -> 0 with prefix "card"; -1 when name is not prefix<digits>. */
static int node_number(const char *name, const char *prefix)
{
	if (!nvb_str_has_prefix(name, prefix) || !is_number(name + strlen(prefix)) ||
	    strlen(name + strlen(prefix)) > 7)
		return -1;
	return atoi(name + strlen(prefix));
}

/* The card and render minors under dir/drm (the lowest of each). */
static void drm_minors(struct amd *a, struct entry *e)
{
	e->card = e->render = -1;
	_cleanup_free_ char *path = nvb_asprintf("%s/drm", e->dir);
	_cleanup_closedir_ DIR *d = path ? open_dir(a, path) : NULL;
	if (!d)
		return;
	NVB_DIR_FOREACH(de, d) {
		int card = node_number(de->d_name, "card");
		int render = node_number(de->d_name, "renderD");
		if (card >= 0 && (e->card < 0 || card < e->card))
			e->card = card;
		if (render >= 0 && (e->render < 0 || render < e->render))
			e->render = render;
	}
}

static int add_entry(struct amd *a, char *dir, char *bdf, long xcp, struct nvb_error *err)
{
	struct entry *e = a->n_e < MAX_ENTRIES ? nvb_array_push(&a->e, &a->n_e, sizeof(*e)) : NULL;
	if (!e) {
		free(dir);
		free(bdf);
		return a->n_e < MAX_ENTRIES ? nvb_error_nomem(err) : 0;
	}
	e->dir = dir;
	e->bdf = bdf;
	e->xcp = xcp;
	if (!dir)
		return nvb_error_nomem(err);
	drm_minors(a, e);
	return 0;
}

static int str_cmp(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

static int long_cmp(const void *x, const void *y)
{
	long a = *(const long *)x, b = *(const long *)y;
	return (a > b) - (a < b);
}

/* PCI devices bound to amdgpu, in bus id order (the order of ROCm's glob). */
static int list_pci(struct amd *a, struct nvb_error *err)
{
	_cleanup_closedir_ DIR *d = open_dir(a, AMDGPU_PCI_DRIVER);
	if (!d)
		return 0;
	char **ids = NULL;
	size_t n = 0;
	int r = 0;
	NVB_DIR_FOREACH(de, d) {
		char bdf[32];
		if (n >= MAX_ENTRIES || nvb_pci_bus_id_normalize(de->d_name, bdf, sizeof(bdf)) < 0 ||
		    strcmp(bdf, de->d_name) != 0)
			continue; /* bind, unbind, module, new_id ... */
		if (nvb_strv_append(&ids, &n, bdf) < 0) {
			r = nvb_error_nomem(err);
			break;
		}
	}
	if (n > 1)
		qsort(ids, n, sizeof(*ids), str_cmp);
	for (size_t i = 0; i < n; i++) {
		if (r == 0)
			r = add_entry(a, nvb_asprintf(AMDGPU_PCI_DRIVER "/%s", ids[i]), ids[i], -1, err);
		else
			free(ids[i]);
	}
	free(ids);
	return r;
}

/* MI300 partitions: /sys/devices/platform/amdgpu_xcp_<n>, by n. */
static int list_xcps(struct amd *a, struct nvb_error *err)
{
	_cleanup_closedir_ DIR *d = open_dir(a, XCP_DIR);
	if (!d)
		return 0;
	long *xcps = NULL;
	size_t n = 0;
	NVB_DIR_FOREACH(de, d) {
		const char *num = de->d_name + strlen("amdgpu_xcp_");
		if (!nvb_str_has_prefix(de->d_name, "amdgpu_xcp_") || !is_number(num) ||
		    strlen(num) > 6 || n >= MAX_ENTRIES)
			continue;
		long *slot = nvb_array_push(&xcps, &n, sizeof(*slot));
		if (!slot) {
			free(xcps);
			return nvb_error_nomem(err);
		}
		*slot = atol(num);
	}
	if (n > 1)
		qsort(xcps, n, sizeof(*xcps), long_cmp);
	int r = 0;
	for (size_t i = 0; r == 0 && i < n; i++)
		r = add_entry(a, nvb_asprintf(XCP_DIR "/amdgpu_xcp_%ld", xcps[i]), NULL, xcps[i], err);
	free(xcps);
	return r;
}

static const struct nvb_kfd_node *kfd_for_render(const struct amd *a, int render)
{
	for (size_t i = 0; i < a->n_kfd; i++)
		if (a->kfd[i].drm_render_minor == render)
			return &a->kfd[i];
	return NULL;
}

/* The physical GPU of a KFD node: domain, bus and device (the function bits do not count). */
static bool same_gpu(const struct nvb_kfd_node *x, const struct nvb_kfd_node *y)
{
	return x->domain == y->domain && (x->location_id & 0xfff8) == (y->location_id & 0xfff8);
}

static int entry_cmp(const void *x, const void *y)
{
	const struct entry *a = x, *b = y;
	if (a->group != b->group)
		return a->group < b->group ? -1 : 1;
	return (a->render > b->render) - (a->render < b->render);
}

/* Keep the entries KFD knows, grouped and ordered as ROCm does; number the partitions. */
static void order_entries(struct amd *a)
{
	size_t kept = 0, groups = 0;
	for (size_t i = 0; i < a->n_e; i++) {
		struct entry *e = &a->e[i];
		e->kfd = e->render >= 0 ? kfd_for_render(a, e->render) : NULL;
		if (!e->kfd) {
			nvb_debug("amd", "%s: %s, not listed", e->dir,
				  e->render < 0 ? "no render node" : "render node KFD does not list");
			free(e->dir);
			free(e->bdf);
			continue;
		}
		e->group = groups;
		for (size_t j = 0; j < kept; j++)
			if (same_gpu(a->e[j].kfd, e->kfd)) {
				e->group = a->e[j].group;
				break;
			}
		if (e->group == groups)
			groups++;
		a->e[kept++] = *e;
	}
	a->n_e = kept;
	if (kept > 1)
		qsort(a->e, kept, sizeof(*a->e), entry_cmp);
	/* partition numbers: the PCI device is 0, its xcps 1.. in xcp order; none when alone */
	for (size_t i = 0; i < kept; i++) {
		struct entry *e = &a->e[i];
		bool partitioned = false;
		int rank = 0;
		for (size_t j = 0; j < kept; j++) {
			const struct entry *o = &a->e[j];
			if (o->group != e->group || o == e)
				continue;
			partitioned = partitioned || o->xcp >= 0 || e->xcp >= 0;
			rank += (e->xcp >= 0 && o->xcp >= 0 && o->xcp < e->xcp);
		}
		partitioned = partitioned || e->xcp >= 0;
		e->partition = !partitioned ? -1 : e->xcp < 0 ? 0 : rank + 1;
	}
}

/* The sysfs directory and bus id of the PCI device behind entry e. */
static void pci_of(const struct amd *a, const struct entry *e, char *dir, size_t dcap, char *bdf,
		   size_t bcap)
{
	for (size_t j = 0; j < a->n_e; j++)
		if (a->e[j].group == e->group && a->e[j].bdf) {
			snprintf(dir, dcap, "%s", a->e[j].dir);
			snprintf(bdf, bcap, "%s", a->e[j].bdf);
			return;
		}
	long long loc = e->kfd->location_id;
	snprintf(bdf, bcap, "%04llx:%02llx:%02llx.0", e->kfd->domain, (loc >> 8) & 0xff,
		 (loc >> 3) & 0x1f);
	snprintf(dir, dcap, "/sys/bus/pci/devices/%s", bdf);
}

static char *gpu_name(struct amd *a, const char *pcidir, const struct nvb_gpu *gpu)
{
	if (!a->ids_read) {
		struct nvb_error ignored;
		a->ids_read = true;
		if (nvb_host_read(a->host, "/usr/share/libdrm/amdgpu.ids", IDS_MAX, &a->amdgpu_ids,
				  NULL, &ignored) < 0)
			a->amdgpu_ids = NULL;
		a->pci_ids = nvb_pci_ids_read(a->host);
	}
	unsigned rev = (unsigned)nvb_sysfs_number(a->host, pcidir, "revision");
	char *name = a->amdgpu_ids ? nvb_amdgpu_ids_name(a->amdgpu_ids, gpu->pci_device, rev) : NULL;
	if (!name && a->pci_ids)
		name = nvb_pci_ids_name(a->pci_ids, 0x1002, gpu->pci_device);
	return name ? name : nvb_asprintf("AMD GPU 0x%04x", gpu->pci_device);
}

/* /dev/dri/<kind><minor> into the GPU's nodes; a problem when sysfs has it and /dev not. */
static int dri_node(struct amd *a, struct nvb_gpu *gpu, const char *kind, int minor,
		    struct nvb_error *err)
{
	char path[64];
	snprintf(path, sizeof(path), "/dev/dri/%s%d", kind, minor);
	struct nvb_device_node node = {0};
	struct nvb_error serr;
	if (nvb_device_node_stat(a->host, path, &node, &serr) == 0)
		return nvb_nodes_push(&gpu->nodes, &gpu->n_nodes, &node) < 0 ? nvb_error_nomem(err) : 0;
	char hint[128];
	snprintf(hint, sizeof(hint), "check udev, or create it: mknod -m 666 %s c %d %d", path,
		 DRI_MAJOR, minor);
	return problem(a, nvb_inventory_add_problem(a->inv, NVB_PROBLEM_WARNING,
						    "device-node-missing", hint,
						    "GPU %u (%s): sysfs has %s%d but %s",
						    gpu->index, gpu->pci_bus_id, kind, minor,
						    serr.message),
		       err);
}

static int fill_extra(struct amd *a, const struct entry *e, const char *pcidir,
		      struct nvb_gpu_extra *x, struct nvb_error *err)
{
	x->partition = e->partition;
	x->kfd_gpu_id = e->kfd->gpu_id;
	if (e->kfd->unique_id && !(x->cdi_id = nvb_asprintf("0x%llx",
							    (unsigned long long)e->kfd->unique_id)))
		return nvb_error_nomem(err);
	x->arch = nvb_amd_gfx_arch(e->kfd->gfx_target_version);
	x->compute_partition = nvb_sysfs_attr(a->host, pcidir, "current_compute_partition");
	x->memory_partition = nvb_sysfs_attr(a->host, pcidir, "current_memory_partition");
	return 0;
}

static int add_gpu(struct amd *a, const struct entry *e, struct nvb_error *err)
{
	char pcidir[512], bdf[32];
	pci_of(a, e, pcidir, sizeof(pcidir), bdf, sizeof(bdf));
	struct nvb_gpu *gpu = nvb_inventory_add_gpu(a->inv);
	if (!gpu)
		return nvb_error_nomem(err);
	struct nvb_gpu_extra *x = &a->inv->gpu_extra[a->inv->n_gpus - 1];
	gpu->index = (unsigned)(a->inv->n_gpus - 1);
	if (!(gpu->pci_bus_id = strdup(bdf)))
		return nvb_error_nomem(err);
	nvb_pci_fill_gpu(a->host, pcidir, gpu);
	if (!gpu->pci_device)
		gpu->pci_device = (uint16_t)e->kfd->device_id;
	if (!gpu->pci_vendor)
		gpu->pci_vendor = 0x1002;
	/* the VRAM of the whole device: a partition's share is not in sysfs */
	if (e->partition < 0)
		gpu->memory_total = nvb_sysfs_number(a->host, pcidir, "mem_info_vram_total");
	_cleanup_free_ char *name = gpu_name(a, pcidir, gpu);
	gpu->name = e->partition < 0 ? NVB_TAKE_PTR(name)
				     : nvb_asprintf("%s (partition %d)", name, e->partition);
	if (!gpu->name || fill_extra(a, e, pcidir, x, err) < 0)
		return nvb_error_nomem(err);
	if (e->card >= 0 && dri_node(a, gpu, "card", e->card, err) < 0)
		return -1;
	if (dri_node(a, gpu, "renderD", e->render, err) < 0)
		return -1;
	if (a->kfd_dev.path) {
		struct nvb_device_node copy = a->kfd_dev;
		if (!(copy.path = strdup(a->kfd_dev.path)) ||
		    nvb_nodes_push(&gpu->nodes, &gpu->n_nodes, &copy) < 0)
			return nvb_error_nomem(err);
	}
	return 0;
}

/* /dev/kfd: every GPU's compute goes through it. */
static int kfd_device(struct amd *a, struct nvb_error *err)
{
	struct nvb_error serr;
	if (nvb_device_node_stat(a->host, "/dev/kfd", &a->kfd_dev, &serr) < 0)
		return problem(a, nvb_inventory_add_problem(
					  a->inv, NVB_PROBLEM_ERROR, "device-node-missing",
					  "load amdgpu with KFD (HSA) support and check udev; "
					  "without /dev/kfd containers get no ROCm compute",
					  "%s", serr.message),
			       err);
	int expect = a->proc_devices ? nvb_proc_devices_major(a->proc_devices, "kfd") : -1;
	if (expect >= 0 && a->kfd_dev.major != (unsigned)expect)
		return problem(a, nvb_inventory_add_problem(
					  a->inv, NVB_PROBLEM_WARNING, "device-node-stale",
					  "delete it and reload amdgpu (or let udev recreate it)",
					  "/dev/kfd has major %u but /proc/devices gives %d for kfd",
					  a->kfd_dev.major, expect),
			       err);
	return 0;
}

/* amdgpu is not loaded: say so when the PCI bus has AMD display devices. */
static int not_loaded(struct amd *a, struct nvb_error *err)
{
	_cleanup_closedir_ DIR *d = open_dir(a, "/sys/bus/pci/devices");
	size_t found = 0;
	char first[32] = "";
	if (!d)
		return 0;
	NVB_DIR_FOREACH(de, d) {
		if (de->d_name[0] == '.')
			continue;
		_cleanup_free_ char *dir = nvb_asprintf("/sys/bus/pci/devices/%s", de->d_name);
		if (!dir)
			return nvb_error_nomem(err);
		if (nvb_sysfs_number(a->host, dir, "vendor") != 0x1002 ||
		    (nvb_sysfs_number(a->host, dir, "class") >> 16) != 0x03)
			continue;
		if (!found++)
			snprintf(first, sizeof(first), "%s", de->d_name);
	}
	if (!found)
		return 0;
	return problem(a, nvb_inventory_add_problem(
				  a->inv, NVB_PROBLEM_ERROR, "driver-not-loaded",
				  "load the amdgpu kernel module (modprobe amdgpu)",
				  "%zu AMD GPU(s) on the PCI bus (first: %s) but the amdgpu driver is "
				  "not loaded (no %s/drivers)",
				  found, first, AMDGPU_MODULE),
		       err);
}

/* The partitions of an MI300 share their GPU's KFD unique_id: an id that several entries carry
 * names none of them (a CDI device name must be unique), so each of them gets none. */
static void unique_ids_only(struct nvb_inventory *inv)
{
	for (size_t i = 0; i < inv->n_gpus; i++) {
		bool shared = false;
		for (size_t j = i + 1; j < inv->n_gpus && inv->gpu_extra[i].cdi_id; j++) {
			if (!inv->gpu_extra[j].cdi_id ||
			    strcmp(inv->gpu_extra[i].cdi_id, inv->gpu_extra[j].cdi_id))
				continue;
			shared = true;
			free(inv->gpu_extra[j].cdi_id);
			inv->gpu_extra[j].cdi_id = NULL;
		}
		if (shared) {
			free(inv->gpu_extra[i].cdi_id);
			inv->gpu_extra[i].cdi_id = NULL;
		}
	}
}

static int probe(struct amd *a, struct nvb_error *err)
{
	struct nvb_inventory *inv = a->inv;
	if (!(inv->driver.kernel_module = strdup("amdgpu")))
		return nvb_error_nomem(err);
	inv->driver.version = nvb_sysfs_attr(a->host, AMDGPU_MODULE, "version");
	struct nvb_error ignored;
	if (nvb_host_read(a->host, "/proc/devices", PROPERTIES_MAX, &a->proc_devices, NULL,
			  &ignored) < 0)
		a->proc_devices = NULL;
	if (read_kfd(a, err) < 0 || list_pci(a, err) < 0 || list_xcps(a, err) < 0)
		return -1;
	size_t listed = a->n_e;
	order_entries(a);
	if (listed && !a->kfd_topology &&
	    problem(a, nvb_inventory_add_problem(inv, NVB_PROBLEM_ERROR, "kfd-missing",
						 "load amdgpu with HSA (KFD) support",
						 "amdgpu drives %zu device(s) but %s does not exist: "
						 "no GPU can run ROCm compute",
						 listed, KFD_NODES),
		    err) < 0)
		return -1;
	if (a->n_e && kfd_device(a, err) < 0)
		return -1;
	for (size_t i = 0; i < a->n_e; i++)
		if (add_gpu(a, &a->e[i], err) < 0)
			return -1;
	unique_ids_only(inv);
	if (!listed)
		return problem(a, nvb_inventory_add_problem(inv, NVB_PROBLEM_INFO, "no-gpu", NULL,
							    "amdgpu is loaded but drives no device "
							    "(%s is empty)", AMDGPU_PCI_DRIVER),
			       err);
	return 0;
}

int nvb_probe_amd(struct nvb_host *host, unsigned flags, struct nvb_inventory *inv,
		  struct nvb_error *err)
{
	(void)flags;
	struct amd a = {.host = host, .inv = inv};
	struct nvb_error ignored;
	_cleanup_close_ int fd = nvb_host_open_file(host, AMDGPU_MODULE "/drivers",
						    O_RDONLY | O_DIRECTORY, NULL, &ignored);
	int r = fd < 0 ? not_loaded(&a, err) : probe(&a, err);
	amd_clear(&a);
	return r;
}
