/* SPDX-License-Identifier: Apache-2.0 */
/*
 * CDI spec from an inventory: a pure function (no I/O), so what a spec contains depends only on
 * what discovery found and the options.
 */
#include "cdi/cdi.h"
#include "cdi/libplan.h"
#include "host/ldcache_write.h"

static const char *const mount_options[] = {"ro", "nosuid", "nodev", "bind"};

int nvb_cdi_naming_parse(const char *list, unsigned *out, struct nvb_error *err)
{
	unsigned naming = 0;
	_cleanup_free_ char *copy = strdup(list);
	if (!copy)
		return nvb_error_nomem(err);
	char *save = NULL;
	for (char *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		w = nvb_strstrip(w);
		if (strcmp(w, "index") == 0)
			naming |= NVB_CDI_NAME_INDEX;
		else if (strcmp(w, "uuid") == 0)
			naming |= NVB_CDI_NAME_UUID;
		else if (strcmp(w, "type-index") == 0)
			naming |= NVB_CDI_NAME_TYPE_INDEX;
		else
			return nvb_error_set(err, NVB_ERR_USAGE, 0, "use index, uuid or type-index",
					     "unknown device name strategy '%s'", w);
	}
	if (!naming)
		return nvb_error_set(err, NVB_ERR_USAGE, 0, "use index, uuid or type-index",
				     "no device name strategy given");
	*out = naming;
	return 0;
}

struct gen {
	const struct nvb_inventory *inv;
	const struct nvb_cdi_gen_opts *o;
	struct nvb_cdi_spec *spec;
	struct nvb_error *err;
	unsigned caps;
};

static char *host_path(const struct gen *g, const char *inside)
{
	if (!g->o->host_root || strcmp(g->o->host_root, "/") == 0)
		return NULL;
	return nvb_asprintf("%s%s", g->o->host_root, inside);
}

static int add_node(struct gen *g, struct nvb_cdi_edits *e, const struct nvb_device_node *n)
{
	for (size_t i = 0; i < e->n_nodes; i++)
		if (strcmp(e->nodes[i].path, n->path) == 0)
			return 0;
	struct nvb_cdi_device_node *cn = nvb_cdi_edits_add_node(e);
	if (!cn || !(cn->path = strdup(n->path)))
		return nvb_error_nomem(g->err);
	/* No major/minor: the engine stats the node when the container starts, so a reloaded
	 * module with new dynamic majors does not leave the spec stale. */
	cn->host_path = host_path(g, n->path);
	if (g->o->host_root && strcmp(g->o->host_root, "/") != 0 && !cn->host_path)
		return nvb_error_nomem(g->err);
	return 0;
}

static bool is_drm_node(const struct nvb_device_node *n)
{
	return nvb_str_has_prefix(n->path, "/dev/dri/");
}

static int add_gpu_nodes(struct gen *g, struct nvb_cdi_edits *e, const struct nvb_gpu *gpu)
{
	for (size_t i = 0; i < gpu->n_nodes; i++) {
		if (is_drm_node(&gpu->nodes[i]) && !(g->caps & NVB_CAP_GRAPHICS))
			continue;
		if (add_node(g, e, &gpu->nodes[i]) < 0)
			return -1;
	}
	return 0;
}

static char *container_path(const struct gen *g, const struct nvb_driver_file *f)
{
	switch (f->kind) {
	case NVB_FILE_LIBRARY:
		return strdup(f->path);
	case NVB_FILE_BINARY: /* on PATH in every image */
		return nvb_asprintf("/usr/bin/%s", nvb_basename(f->link_path));
	case NVB_FILE_FIRMWARE:
		return nvb_asprintf("/lib/firmware/nvidia/%s/%s", g->inv->driver.version,
				    nvb_basename(f->path));
	case NVB_FILE_CONFIG:
	case NVB_FILE_SOCKET:
	default:
		return strdup(f->link_path);
	}
}

/* A read-only bind mount of host (a path inside the host root) at inside, unless a mount at
 * inside is there already (the first one found wins). */
static int ro_mount(struct gen *g, const char *host, const char *inside)
{
	struct nvb_cdi_edits *e = &g->spec->edits;
	for (size_t i = 0; i < e->n_mounts; i++)
		if (strcmp(e->mounts[i].container_path, inside) == 0)
			return 0;
	struct nvb_cdi_mount *m = nvb_cdi_edits_add_mount(e);
	if (!m || !(m->container_path = strdup(inside)) || !(m->type = strdup("bind")))
		return nvb_error_nomem(g->err);
	m->host_path = host_path(g, host);
	if (!m->host_path && !(m->host_path = strdup(host)))
		return nvb_error_nomem(g->err);
	for (size_t i = 0; i < NVB_ARRAY_SIZE(mount_options); i++)
		if (nvb_strv_append(&m->options, &m->n_options, mount_options[i]) < 0)
			return nvb_error_nomem(g->err);
	return 0;
}

static int add_mount(struct gen *g, const struct nvb_driver_file *f)
{
	_cleanup_free_ char *cpath = container_path(g, f);
	return cpath ? ro_mount(g, f->path, cpath) : nvb_error_nomem(g->err);
}

/* ld.so.cache flags of a driver library: the class comes from its ELF header, the machine is
 * the host's (a driver's libraries are built for the machine it runs on; 32-bit ones exist
 * only beside x86-64). */
static uint32_t library_flags(const struct nvb_driver_file *f)
{
	int elf_class = f->elf_class == 32 ? 1 : 2;
#if defined(__x86_64__)
	int machine = elf_class == 1 ? 3 /* EM_386 */ : 62 /* EM_X86_64 */;
#elif defined(__aarch64__)
	int machine = 183; /* EM_AARCH64 */
#elif defined(__powerpc64__)
	int machine = 21; /* EM_PPC64 */
#else
	int machine = 0;
#endif
	uint32_t flags = NVB_LDCACHE_ELF_LIBC6;
	nvb_ldcache_elf_flags(elf_class, machine, &flags);
	return flags;
}

/* The libraries' plan: each library under its SONAME (the hook makes the SONAME link), plus
 * libcuda.so for build tools and libGLX_indirect.so.0 for indirect GLX where the image lacks
 * them. */
static int library_plan(struct gen *g, const struct nvb_driver_file *f, const char *cpath,
			struct nvb_libplan *plan)
{
	_cleanup_free_ char *dir = strdup(cpath);
	if (!dir)
		return nvb_error_nomem(g->err);
	*strrchr(dir, '/') = '\0';
	const char *base = nvb_basename(cpath);
	const char *soname = f->soname && *f->soname ? f->soname : base;
	if (nvb_libplan_add_lib(plan, cpath, soname, library_flags(f), g->err) < 0)
		return -1;
	_cleanup_free_ char *dev = nvb_asprintf("%s/libcuda.so", dir);
	_cleanup_free_ char *glx = nvb_asprintf("%s/libGLX_indirect.so.0", dir);
	if (!dev || !glx)
		return nvb_error_nomem(g->err);
	if (!strcmp(soname, "libcuda.so.1") && nvb_libplan_add_link(plan, "libcuda.so.1", dev, g->err) < 0)
		return -1;
	if (nvb_str_has_prefix(base, "libGLX_nvidia.so.") &&
	    nvb_libplan_add_link(plan, soname, glx, g->err) < 0)
		return -1;
	return 0;
}

/* One hook, the static nvbind-hook, for links and the loader cache. Generated specs run it at
 * createRuntime (cdi/libplan.h says why). */
static int libraries_hook(struct gen *g, struct nvb_libplan *plan)
{
	struct nvb_cdi_hook *h = nvb_cdi_edits_add_hook(&g->spec->edits);
	if (!h)
		return nvb_error_nomem(g->err);
	plan->stage = NVB_HOOK_CREATE_RUNTIME;
	return nvb_libplan_hook(plan, g->o->hook_path, h, g->err);
}

/* A file in the folder: a library is registered at its place there (its SONAME links are in
 * the folder already); a program, configuration file or firmware gets a link at the path it
 * would have been mounted at, made only where the image has nothing of that name. */
static int folder_file(struct gen *g, const struct nvb_driver_file *f, const char *rel,
		       struct nvb_libplan *plan)
{
	_cleanup_free_ char *inside = nvb_asprintf(NVB_FOLDER_CONTAINER_DIR "/%s", rel);
	_cleanup_free_ char *cpath = container_path(g, f);
	if (!inside || !cpath)
		return nvb_error_nomem(g->err);
	if (f->kind == NVB_FILE_LIBRARY)
		return library_plan(g, f, inside, plan);
	for (size_t i = 0; i < plan->n_links; i++)
		if (!strcmp(plan->links[i].link, cpath))
			return 0; /* two files for one path: the first one found wins */
	return nvb_libplan_add_link(plan, inside, cpath, g->err);
}

static int common_edits(struct gen *g)
{
	struct nvb_cdi_edits *e = &g->spec->edits;
	/* the legacy nvidia-container-runtime-hook must leave CDI containers alone */
	if (nvb_cdi_edits_add_env(e, "NVIDIA_VISIBLE_DEVICES=void") < 0)
		return nvb_error_nomem(g->err);
	for (size_t i = 0; i < g->inv->n_control_nodes; i++) {
		const struct nvb_device_node *n = &g->inv->control_nodes[i];
		if (nvb_str_has_prefix(n->path, "/dev/nvidia-caps/"))
			continue; /* MIG management caps: only for MIG devices that need them */
		if (add_node(g, e, n) < 0)
			return -1;
	}
	struct nvb_libplan plan = {0};
	int r = 0;
	bool in_folder = false;
	for (size_t i = 0; i < g->inv->n_files && r == 0; i++) {
		const struct nvb_driver_file *f = &g->inv->files[i];
		if (!nvb_file_wanted(f, g->caps))
			continue;
		const struct nvb_driver_folder *folder = g->o->folder;
		if (folder && i < folder->n && folder->rel[i]) {
			in_folder = true;
			r = folder_file(g, f, folder->rel[i], &plan);
			continue;
		}
		r = add_mount(g, f);
		if (r == 0 && f->kind == NVB_FILE_LIBRARY)
			r = library_plan(g, f, f->path, &plan);
	}
	if (r == 0 && in_folder) /* the driver folder, mounted once (docs/cdi.md) */
		r = ro_mount(g, g->o->folder->host_dir, NVB_FOLDER_CONTAINER_DIR);
	if (r == 0 && (plan.n_libs > 0 || plan.n_links > 0))
		r = libraries_hook(g, &plan);
	nvb_libplan_clear(&plan);
	return r;
}

static struct nvb_cdi_device *device_new(struct gen *g, const char *fmt, ...) NVB_PRINTF(2, 3);
static struct nvb_cdi_device *device_new(struct gen *g, const char *fmt, ...)
{
	char name[160];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(name, sizeof(name), fmt, ap);
	va_end(ap);
	struct nvb_cdi_device *d = nvb_cdi_spec_add_device(g->spec, name);
	if (!d)
		nvb_error_nomem(g->err);
	return d;
}

static int gpu_devices(struct gen *g, unsigned strategy)
{
	for (size_t i = 0; i < g->inv->n_gpus; i++) {
		const struct nvb_gpu *gpu = &g->inv->gpus[i];
		char name[160];
		if (!nvb_device_name(gpu, NULL, 0, strategy, name, sizeof(name)))
			continue;
		struct nvb_cdi_device *d = device_new(g, "%s", name);
		if (!d || add_gpu_nodes(g, &d->edits, gpu) < 0)
			return -1;
	}
	return 0;
}

static int mig_devices(struct gen *g, unsigned strategy)
{
	for (size_t i = 0; i < g->inv->n_gpus; i++) {
		const struct nvb_gpu *gpu = &g->inv->gpus[i];
		for (size_t m = 0; m < gpu->n_migs; m++) {
			const struct nvb_mig_device *mig = &gpu->migs[m];
			char name[160];
			if (!nvb_device_name(gpu, mig, m, strategy, name, sizeof(name)))
				continue;
			struct nvb_cdi_device *d = device_new(g, "%s", name);
			if (!d || add_node(g, &d->edits, &gpu->nodes[0]) < 0)
				return -1;
			for (size_t k = 0; k < mig->n_nodes; k++)
				if (add_node(g, &d->edits, &mig->nodes[k]) < 0)
					return -1;
		}
	}
	return 0;
}

/* ------------------------------------------------------------ AMD and Intel */

/* udev's /dev/dri/by-path links: a device node entry would make the engine lstat a symlink
 * (not a device), so they are bind mounts of the link (the node it names) at the same path,
 * as Intel's own CDI generator does. No nodev: the mount is the device. */
static bool is_by_path(const struct nvb_device_node *n)
{
	return nvb_str_has_prefix(n->path, "/dev/dri/by-path/");
}

static int add_by_path_mount(struct gen *g, struct nvb_cdi_edits *e, const struct nvb_device_node *n)
{
	for (size_t i = 0; i < e->n_mounts; i++)
		if (strcmp(e->mounts[i].container_path, n->path) == 0)
			return 0;
	struct nvb_cdi_mount *m = nvb_cdi_edits_add_mount(e);
	if (!m || !(m->container_path = strdup(n->path)) || !(m->type = strdup("bind")) ||
	    nvb_strv_append(&m->options, &m->n_options, "bind") < 0 ||
	    nvb_strv_append(&m->options, &m->n_options, "nosuid") < 0)
		return nvb_error_nomem(g->err);
	m->host_path = host_path(g, n->path);
	if (!m->host_path && !(m->host_path = strdup(n->path)))
		return nvb_error_nomem(g->err);
	return 0;
}

/* Every node of the GPU (card, render, /dev/kfd, MEI): for these vendors the render node is
 * the compute device, so no capability filter applies. */
static int add_all_nodes(struct gen *g, struct nvb_cdi_edits *e, const struct nvb_gpu *gpu)
{
	for (size_t i = 0; i < gpu->n_nodes; i++) {
		const struct nvb_device_node *n = &gpu->nodes[i];
		if ((is_by_path(n) ? add_by_path_mount(g, e, n) : add_node(g, e, n)) < 0)
			return -1;
	}
	return 0;
}

/* The vendor's id of GPU i (AMD unique id, Intel PCI address and device id) when it is a
 * valid device name and the GPU has a node; NULL otherwise. */
static const char *gpu_id(const struct nvb_inventory *inv, size_t i)
{
	const char *id = i < inv->n_gpu_extra ? inv->gpu_extra[i].cdi_id : NULL;
	return id && inv->gpus[i].n_nodes && nvb_cdi_valid_device_name(id) ? id : NULL;
}

/* Devices by id ("uuid" strategy): one per distinct id, with the nodes of every GPU that has
 * it. The AMD probe gives MI300 partitions no id (KFD's unique id is their GPU's, shared), so
 * ids are unique there; an inventory built otherwise with a shared id still gives one valid
 * device (duplicate names would make the whole spec invalid). */
static int id_devices(struct gen *g)
{
	for (size_t i = 0; i < g->inv->n_gpus; i++) {
		const char *id = gpu_id(g->inv, i);
		bool seen = false;
		for (size_t k = 0; id && k < i && !seen; k++)
			seen = gpu_id(g->inv, k) && !strcmp(gpu_id(g->inv, k), id);
		if (!id || seen)
			continue;
		struct nvb_cdi_device *d = device_new(g, "%s", id);
		if (!d)
			return -1;
		for (size_t k = i; k < g->inv->n_gpus; k++)
			if (gpu_id(g->inv, k) && !strcmp(gpu_id(g->inv, k), id) &&
			    add_all_nodes(g, &d->edits, &g->inv->gpus[k]) < 0)
				return -1;
	}
	return 0;
}

/* Devices by index "0" (or type-index "gpu0"): one per GPU or partition with nodes (Intel
 * GPUs bound to vfio-pci have none and get no device). */
static int index_devices(struct gen *g, unsigned strategy)
{
	for (size_t i = 0; i < g->inv->n_gpus; i++) {
		char name[160];
		if (!nvb_device_name(&g->inv->gpus[i], NULL, 0, strategy, name, sizeof(name)))
			continue;
		struct nvb_cdi_device *d = device_new(g, "%s", name);
		if (!d || add_all_nodes(g, &d->edits, &g->inv->gpus[i]) < 0)
			return -1;
	}
	return 0;
}

static int node_only_devices(struct gen *g, unsigned naming)
{
	int r = 0;
	if (naming & NVB_CDI_NAME_INDEX)
		r = index_devices(g, NVB_CDI_NAME_INDEX);
	if (r == 0 && (naming & NVB_CDI_NAME_UUID))
		r = id_devices(g);
	if (r == 0 && (naming & NVB_CDI_NAME_TYPE_INDEX))
		r = index_devices(g, NVB_CDI_NAME_TYPE_INDEX);
	if (r == 0) { /* nvb_cdi_generate checked that some GPU has nodes */
		struct nvb_cdi_device *all = device_new(g, "all");
		r = all ? 0 : -1;
		for (size_t i = 0; r == 0 && i < g->inv->n_gpus; i++)
			r = add_all_nodes(g, &all->edits, &g->inv->gpus[i]);
	}
	return r;
}

/* ------------------------------------------------------------------- WSL2 */

/* Whether another file of the inventory sits beside f under the name soname. */
static bool soname_file_beside(const struct nvb_inventory *inv, const struct nvb_driver_file *f,
			       const char *soname)
{
	size_t dl = nvb_libplan_dir_len(f->path);
	for (size_t i = 0; i < inv->n_files; i++) {
		const char *p = inv->files[i].path;
		if (&inv->files[i] != f && nvb_libplan_dir_len(p) == dl && !strncmp(p, f->path, dl) &&
		    !strcmp(nvb_basename(p), soname))
			return true;
	}
	return false;
}

/* A WSL2 library in the plan. /usr/lib/wsl/lib holds libcuda.so, libcuda.so.1 and
 * libcuda.so.1.1 as files (not links), each mounted: the SONAME link the hook would make for
 * libcuda.so would have to replace the mounted libcuda.so.1, so only the file named by its
 * SONAME, or one without such a file beside it (the driver store's libcuda.so.1.1), is
 * registered. No extra links: the files are all there. */
static int wsl_library(struct gen *g, const struct nvb_driver_file *f, struct nvb_libplan *plan)
{
	const char *base = nvb_basename(f->path);
	const char *soname = f->soname && *f->soname ? f->soname : base;
	if (strcmp(base, soname) != 0 && soname_file_beside(g->inv, f, soname))
		return 0;
	return nvb_libplan_add_lib(plan, f->path, soname, library_flags(f), g->err);
}

/* Each WSL2 file where the host has it (the shims of /usr/lib/wsl/lib and the driver store
 * keep their paths: the loader cache lists both folders); programs also on PATH. */
static int wsl_edits(struct gen *g)
{
	if (nvb_cdi_edits_add_env(&g->spec->edits, "NVIDIA_VISIBLE_DEVICES=void") < 0)
		return nvb_error_nomem(g->err);
	struct nvb_libplan plan = {0};
	int r = 0;
	for (size_t i = 0; i < g->inv->n_files && r == 0; i++) {
		const struct nvb_driver_file *f = &g->inv->files[i];
		if (f->caps && !nvb_file_wanted(f, g->caps))
			continue;
		r = ro_mount(g, f->path, f->path);
		if (r == 0 && f->kind == NVB_FILE_BINARY) {
			_cleanup_free_ char *bin = nvb_asprintf(
				"/usr/bin/%s", nvb_basename(f->link_path ? f->link_path : f->path));
			r = bin ? ro_mount(g, f->path, bin) : nvb_error_nomem(g->err);
		}
		if (r == 0 && f->kind == NVB_FILE_LIBRARY)
			r = wsl_library(g, f, &plan);
	}
	if (r == 0 && plan.n_libs > 0)
		r = libraries_hook(g, &plan);
	nvb_libplan_clear(&plan);
	return r;
}

/* WSL2: one device, all, with /dev/dxg; no control nodes, no MIG, no per-GPU names (the
 * paravirtual device is shared by every GPU of the Windows host). */
static int wsl_spec(struct gen *g)
{
	if (wsl_edits(g) < 0)
		return -1;
	struct nvb_cdi_device *all = device_new(g, "all");
	if (!all)
		return -1;
	for (size_t i = 0; i < g->inv->n_gpus; i++)
		for (size_t k = 0; k < g->inv->gpus[i].n_nodes; k++)
			if (add_node(g, &all->edits, &g->inv->gpus[i].nodes[k]) < 0)
				return -1;
	if (nvb_cdi_edits_empty(&all->edits))
		return nvb_error_set(g->err, NVB_ERR_NOT_FOUND, 0,
				     "check that /dev/dxg exists ('nvbind info')",
				     "WSL2: the GPU has no device node");
	return 0;
}

static bool is_wsl(const struct nvb_inventory *inv)
{
	return inv->platform && !strcmp(inv->platform, "wsl2");
}

/* The error for an inventory with nothing to put in a spec, naming the vendor. */
static int no_gpu_error(const struct nvb_inventory *inv, struct nvb_error *err)
{
	static const char *const names[] = {[NVB_VENDOR_NVIDIA] = "NVIDIA", [NVB_VENDOR_AMD] = "AMD",
					    [NVB_VENDOR_INTEL] = "Intel"};
	unsigned v = (unsigned)inv->driver.vendor;
	return nvb_error_set(err, NVB_ERR_NOT_FOUND, 0, "run 'nvbind info' to see what was found",
			     "no %s GPU found: there is nothing to put in a CDI spec",
			     v < NVB_ARRAY_SIZE(names) ? names[v] : "usable");
}

struct nvb_cdi_spec *nvb_cdi_generate(const struct nvb_inventory *inv,
				      const struct nvb_cdi_gen_opts *opts, struct nvb_error *err)
{
	enum nvb_vendor vendor = inv->driver.vendor;
	bool nodes_only = vendor == NVB_VENDOR_AMD || vendor == NVB_VENDOR_INTEL;
	size_t usable = 0;
	for (size_t i = 0; i < inv->n_gpus; i++)
		usable += !nodes_only || inv->gpus[i].n_nodes > 0;
	if (usable == 0) {
		no_gpu_error(inv, err);
		return NULL;
	}
	/* AMD and Intel specs have no hook: their containers get device nodes only */
	if (!nodes_only && (!opts->hook_path || opts->hook_path[0] != '/')) {
		nvb_error_set(err, NVB_ERR_USAGE, 0, "pass --hook-path /usr/local/bin/nvbind",
			      "the hook path must be absolute");
		return NULL;
	}
	unsigned all_found = 0;
	for (size_t i = 0; i < inv->n_files; i++)
		all_found |= inv->files[i].caps;
	struct gen g = {
		.inv = inv,
		.o = opts,
		.err = err,
		.caps = nvb_caps_expand(opts->caps ? opts->caps : (all_found | NVB_CAP_ALL)),
		.spec = nvb_cdi_spec_new(opts->kind ? opts->kind : nvb_vendor_cdi_kind(vendor),
					 "<generated>"),
	};
	if (!g.spec) {
		nvb_error_nomem(err);
		return NULL;
	}
	unsigned naming = opts->naming ? opts->naming : (NVB_CDI_NAME_INDEX | NVB_CDI_NAME_UUID);
	if (nodes_only || is_wsl(inv)) {
		int rv = nodes_only ? node_only_devices(&g, naming) : wsl_spec(&g);
		if (rv == 0 && !(g.spec->cdi_version = strdup(nvb_cdi_min_version(g.spec))))
			rv = nvb_error_nomem(err);
		if (rv < 0) {
			nvb_cdi_spec_free(g.spec);
			return NULL;
		}
		return g.spec;
	}
	static const unsigned order[] = {NVB_CDI_NAME_INDEX, NVB_CDI_NAME_UUID,
					 NVB_CDI_NAME_TYPE_INDEX};
	int r = common_edits(&g);
	for (size_t s = 0; r == 0 && s < NVB_ARRAY_SIZE(order); s++)
		if (naming & order[s])
			r = gpu_devices(&g, order[s]);
	for (size_t s = 0; r == 0 && s < NVB_ARRAY_SIZE(order); s++)
		if (naming & order[s])
			r = mig_devices(&g, order[s]);
	if (r == 0) {
		struct nvb_cdi_device *all = device_new(&g, "all");
		r = all ? 0 : -1;
		for (size_t i = 0; r == 0 && i < inv->n_gpus; i++)
			r = add_gpu_nodes(&g, &all->edits, &inv->gpus[i]);
	}
	if (r == 0 && !(g.spec->cdi_version = strdup(nvb_cdi_min_version(g.spec))))
		r = nvb_error_nomem(err);
	if (r < 0) {
		nvb_cdi_spec_free(g.spec);
		return NULL;
	}
	return g.spec;
}
