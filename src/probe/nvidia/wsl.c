/* SPDX-License-Identifier: Apache-2.0 */
/*
 * NVIDIA under WSL2: no /proc/driver/nvidia, no kernel module of NVIDIA's; the paravirtual
 * /dev/dxg is the one device, shared by every GPU of the Windows host. The user-space files are
 * Microsoft's shims in /usr/lib/wsl/lib (libdxcore, libd3d12, libcuda and libnvidia-* stubs)
 * and the Windows driver store folder under /usr/lib/wsl/drivers/ that holds libcuda.so.1.1.
 */
#include <fcntl.h>
#include <sys/stat.h>

#include "host/elf.h"
#include "probe/nvidia/catalog.h"
#include "probe/nvidia/nvidia.h"

#define WSL_LIB "/usr/lib/wsl/lib"
#define WSL_DRIVERS "/usr/lib/wsl/drivers"
#define MAX_STORE_FILES 4096
/* Driver store files the catalogue does not know (D3D/DXG user-mode drivers, nvcubins.bin):
 * what they serve is not written anywhere, so every container use but compat32 gets them. */
#define STORE_CAPS (NVB_CAP_UTILITY | NVB_CAP_COMPUTE | NVB_CAP_VIDEO | NVB_CAP_GRAPHICS)

static bool host_exists(struct nvb_host *host, const char *path)
{
	struct nvb_error ignored;
	_cleanup_close_ int fd = nvb_host_resolve(host, path, 0, NULL, &ignored);
	return fd >= 0;
}

bool nvb_wsl_detect(struct nvb_host *host)
{
	return host_exists(host, "/dev/dxg") && host_exists(host, WSL_LIB "/libdxcore.so");
}

/* The /usr/lib/wsl/lib files NVIDIA's WSL spec mounts. */
static bool wsl_lib_wanted(const char *name)
{
	return !strcmp(name, "libdxcore.so") || nvb_str_has_prefix(name, "libcuda.so") ||
	       (nvb_str_has_prefix(name, "libnvidia-") && strstr(name, ".so")) ||
	       (nvb_str_has_prefix(name, "libd3d12") && nvb_str_has_suffix(name, ".so"));
}

static unsigned lib_caps(const char *name)
{
	if (nvb_str_has_prefix(name, "libdxcore") || nvb_str_has_prefix(name, "libd3d12"))
		return NVB_CAP_COMPUTE | NVB_CAP_GRAPHICS;
	char stem[256];
	const struct nvb_catalog_entry *cat =
		nvb_lib_stem(name, stem, sizeof(stem)) == 0 ? nvb_catalog_nvidia_lib(stem) : NULL;
	return cat ? cat->caps : STORE_CAPS;
}

static bool listed(const struct nvb_inventory *inv, const char *path)
{
	for (size_t i = 0; i < inv->n_files; i++)
		if (!strcmp(inv->files[i].path, path))
			return true;
	return false;
}

/* Record path (found as link) of kind: ELF files with their class (and SONAME for libraries),
 * other files only where they are no program or library. */
static int add_file(struct nvb_host *host, struct nvb_inventory *inv, const char *link,
		    enum nvb_file_kind kind, unsigned caps, struct nvb_error *err)
{
	_cleanup_free_ char *path = NULL;
	struct nvb_error oerr;
	_cleanup_close_ int fd = nvb_host_open_file(host, link, O_RDONLY, &path, &oerr);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || listed(inv, path))
		return 0;
	struct nvb_elf_info elf = {0};
	struct nvb_error eerr;
	bool is_elf = nvb_elf_read_fd(fd, path, &elf, &eerr) == 0;
	if (!is_elf && (kind == NVB_FILE_LIBRARY || kind == NVB_FILE_BINARY))
		return nvb_inventory_add_skipped(inv, kind, path, "not an ELF file", NULL) < 0
			       ? nvb_error_nomem(err)
			       : 0;
	struct nvb_driver_file *f = nvb_inventory_add_file(inv);
	if (!f || !(f->path = strdup(path)) || !(f->link_path = strdup(link)))
		return nvb_error_nomem(err);
	f->kind = kind;
	f->caps = caps | (is_elf && elf.elf_class == 32 ? NVB_CAP_COMPAT32 : 0);
	f->elf_class = is_elf ? elf.elf_class : 0;
	if (kind == NVB_FILE_LIBRARY && elf.soname[0] && !(f->soname = strdup(elf.soname)))
		return nvb_error_nomem(err);
	return 0;
}

static int str_cmp(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

/* The sorted names of directory path inside the host root; 0 entries when it is absent. */
static int list_dir(struct nvb_host *host, const char *path, char ***names, size_t *n,
		    struct nvb_error *err)
{
	struct nvb_error ignored;
	int fd = nvb_host_open_file(host, path, O_RDONLY | O_DIRECTORY, NULL, &ignored);
	_cleanup_closedir_ DIR *d = fd < 0 ? NULL : nvb_fdopendir(fd);
	if (!d)
		return 0;
	NVB_DIR_FOREACH(de, d) {
		if (de->d_name[0] == '.' || *n >= MAX_STORE_FILES)
			continue;
		if (nvb_strv_append(names, n, de->d_name) < 0)
			return nvb_error_nomem(err);
	}
	if (*n > 1)
		qsort(*names, *n, sizeof(**names), str_cmp);
	return 0;
}

static void names_free(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

static int lib_files(struct nvb_host *host, struct nvb_inventory *inv, struct nvb_error *err)
{
	char **names = NULL;
	size_t n = 0;
	int r = list_dir(host, WSL_LIB, &names, &n, err);
	for (size_t i = 0; r == 0 && i < n; i++) {
		if (!wsl_lib_wanted(names[i]))
			continue;
		_cleanup_free_ char *link = nvb_asprintf(WSL_LIB "/%s", names[i]);
		r = link ? add_file(host, inv, link, NVB_FILE_LIBRARY, lib_caps(names[i]), err)
			 : nvb_error_nomem(err);
	}
	names_free(names, n);
	return r;
}

/* The driver store folder holding libcuda.so.1.1 (the first by name when several do) into
 * *out; NULL and a problem when none does. -1 only when out of memory. */
static int driver_store(struct nvb_host *host, struct nvb_inventory *inv, char **out,
			struct nvb_error *err)
{
	char **names = NULL;
	size_t n = 0;
	if (list_dir(host, WSL_DRIVERS, &names, &n, err) < 0)
		return -1;
	char *chosen = NULL;
	int r = 0;
	for (size_t i = 0; r == 0 && i < n; i++) {
		_cleanup_free_ char *lib = nvb_asprintf(WSL_DRIVERS "/%s/libcuda.so.1.1", names[i]);
		if (!lib) {
			r = nvb_error_nomem(err);
		} else if (host_exists(host, lib) && !chosen) {
			if (!(chosen = nvb_asprintf(WSL_DRIVERS "/%s", names[i])))
				r = nvb_error_nomem(err);
		} else if (host_exists(host, lib) &&
			   nvb_inventory_add_problem(
				   inv, NVB_PROBLEM_WARNING, "wsl-driver-stores",
				   "remove the stale driver store folder or update the Windows "
				   "driver", "%s/%s also holds libcuda.so.1.1; %s is used (the "
				   "first by name)", WSL_DRIVERS, names[i], chosen) < 0) {
			r = nvb_error_nomem(err);
		}
	}
	names_free(names, n);
	if (r == 0 && !chosen &&
	    nvb_inventory_add_problem(inv, NVB_PROBLEM_ERROR, "libraries-missing",
				      "install or update the NVIDIA driver on the Windows host",
				      "no folder under %s holds libcuda.so.1.1: CUDA will not work",
				      WSL_DRIVERS) < 0)
		r = nvb_error_nomem(err);
	if (r < 0) {
		free(chosen);
		return -1;
	}
	*out = chosen;
	return 0;
}

/* The driver version from a versioned libcuda / libnvidia-ml name in the store, if any:
 * "libcuda.so.1.1" carries none (its "1.1" is no driver version: those start at 100). */
static char *store_version(const char *name)
{
	const char *v = nvb_lib_version_suffix(name);
	if ((!nvb_str_has_prefix(name, "libcuda.so.") && !nvb_str_has_prefix(name, "libnvidia-ml.so.")) ||
	    !v || atoi(v) < 100)
		return NULL;
	return strdup(v);
}

/* The store's *.so* (libraries), *.bin and *.dll (kind NVB_FILE_FIRMWARE: data the driver
 * loads itself, mounted as they are, like gsp_*.bin), and nvidia-smi (a program). */
static int store_files(struct nvb_host *host, struct nvb_inventory *inv, const char *store,
		       struct nvb_error *err)
{
	char **names = NULL;
	size_t n = 0;
	int r = list_dir(host, store, &names, &n, err);
	for (size_t i = 0; r == 0 && i < n; i++) {
		const char *name = names[i];
		_cleanup_free_ char *link = nvb_asprintf("%s/%s", store, name);
		if (!link) {
			r = nvb_error_nomem(err);
			break;
		}
		if (strstr(name, ".so")) {
			r = add_file(host, inv, link, NVB_FILE_LIBRARY, lib_caps(name), err);
			if (!inv->driver.version)
				inv->driver.version = store_version(name);
		} else if (nvb_str_has_suffix(name, ".bin") || nvb_str_has_suffix(name, ".dll")) {
			r = add_file(host, inv, link, NVB_FILE_FIRMWARE, STORE_CAPS, err);
		} else if (!strcmp(name, "nvidia-smi")) {
			r = add_file(host, inv, link, NVB_FILE_BINARY, NVB_CAP_UTILITY, err);
		}
	}
	names_free(names, n);
	return r;
}

static int wsl_gpu(struct nvb_host *host, struct nvb_inventory *inv, struct nvb_error *err)
{
	struct nvb_gpu *gpu = nvb_inventory_add_gpu(inv);
	if (!gpu || !(gpu->name = strdup("NVIDIA GPU (WSL2)")) ||
	    !(gpu->kernel_driver = strdup("dxgkrnl")))
		return nvb_error_nomem(err);
	gpu->index = 0;
	gpu->pci_vendor = 0x10de;
	struct nvb_device_node node = {0};
	struct nvb_error serr;
	if (nvb_device_node_stat(host, "/dev/dxg", &node, &serr) < 0)
		return nvb_inventory_add_problem(inv, NVB_PROBLEM_ERROR, "device-node-missing",
						 "check that WSL2 GPU support is enabled (wsl "
						 "--update)", "%s", serr.message) < 0
			       ? nvb_error_nomem(err)
			       : 0;
	return nvb_nodes_push(&gpu->nodes, &gpu->n_nodes, &node) < 0 ? nvb_error_nomem(err) : 0;
}

/* The 64-bit NVML the probe found (WSL's shim first: it is listed before the driver store). */
static const struct nvb_driver_file *nvml_file(const struct nvb_inventory *inv)
{
	for (size_t i = 0; i < inv->n_files; i++) {
		const struct nvb_driver_file *f = &inv->files[i];
		if (f->kind == NVB_FILE_LIBRARY && f->elf_class == 64 && f->soname &&
		    !strcmp(f->soname, "libnvidia-ml.so.1"))
			return f;
	}
	return NULL;
}

/* The GPU's name from NVML (device 0: the one entry stands for every GPU Windows shares), when
 * NVML loads and sees one. vendor/nvml.c matches GPUs by UUID, which WSL's entry has none of. */
static int wsl_nvml_name(struct nvb_host *host, struct nvb_inventory *inv, struct nvb_gpu *gpu,
			 struct nvb_error *err)
{
	const struct nvb_driver_file *lib = nvml_file(inv);
	_cleanup_free_ char *path = lib ? nvb_host_outside_path(host, lib->path) : NULL;
	void *h = path ? nvb_dlopen(path) : NULL;
	if (!h)
		return 0;
	int (*init)(void), (*shutdown)(void), (*by_index)(unsigned, void **);
	int (*name)(void *, char *, unsigned);
	*(void **)&init = nvb_dlsym(h, "nvmlInit_v2");
	*(void **)&shutdown = nvb_dlsym(h, "nvmlShutdown");
	*(void **)&by_index = nvb_dlsym(h, "nvmlDeviceGetHandleByIndex_v2");
	*(void **)&name = nvb_dlsym(h, "nvmlDeviceGetName");
	char buf[96] = "";
	void *dev = NULL;
	if (init && by_index && name && init() == 0) {
		if (by_index(0, &dev) != 0 || name(dev, buf, sizeof(buf)) != 0)
			buf[0] = '\0';
		if (shutdown)
			shutdown();
	}
	nvb_dlclose(h);
	buf[sizeof(buf) - 1] = '\0';
	if (!buf[0])
		return 0;
	char *copy = strdup(buf);
	if (!copy)
		return nvb_error_nomem(err);
	free(gpu->name);
	gpu->name = copy;
	return 0;
}

int nvb_probe_nvidia_wsl(struct nvb_host *host, unsigned flags, struct nvb_inventory *inv,
			 struct nvb_error *err)
{
	if (!(inv->platform = strdup("wsl2")))
		return nvb_error_nomem(err);
	if (wsl_gpu(host, inv, err) < 0 || lib_files(host, inv, err) < 0)
		return -1;
	_cleanup_free_ char *store = NULL;
	if (driver_store(host, inv, &store, err) < 0)
		return -1;
	if (store && store_files(host, inv, store, err) < 0)
		return -1;
	if (flags & NVB_PROBE_NO_NVML)
		return 0;
	if (wsl_nvml_name(host, inv, &inv->gpus[0], err) < 0)
		return -1;
	return nvb_nvml_enrich(host, inv); /* the CUDA version */
}
