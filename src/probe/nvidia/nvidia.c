/* SPDX-License-Identifier: Apache-2.0 */
/*
 * NVIDIA probe: /proc/driver/nvidia, /proc/devices, sysfs, /dev and the driver file catalogue,
 * all read through the host root. NVML only enriches (vendor/nvml.c).
 */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "probe/nvidia/catalog.h"
#include "host/libscan.h"
#include "probe/nvidia/nvidia.h"

#define PROC_NVIDIA "/proc/driver/nvidia"
#define SMALL_FILE_MAX (256u * 1024u)
#define NVIDIA_MAJOR_DEFAULT 195
#define MAX_GPUS 1024

/* ------------------------------------------------------------ /proc parsers */

int nvb_nvidia_parse_version(const char *text, char **version, char **flavour, char **line)
{
	*version = *flavour = *line = NULL;
	size_t len = strcspn(text, "\n");
	_cleanup_free_ char *first = strndup(text, len);
	if (!first || !nvb_str_has_prefix(first, "NVRM version:"))
		return -1;
	const char *module = strstr(first, "Kernel Module");
	if (!module)
		return -1;
	bool open = strstr(first, "Open Kernel Module") != NULL;
	/* the version is the first dotted number after "Kernel Module" ("for x86_64" may come first) */
	char copy[512];
	snprintf(copy, sizeof(copy), "%s", module + strlen("Kernel Module"));
	char *save = NULL;
	for (char *tok = strtok_r(copy, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		if (nvb_is_driver_version(tok)) {
			*version = strdup(tok);
			break;
		}
	}
	if (!*version)
		return -1;
	*flavour = strdup(open ? "open" : "proprietary");
	*line = strdup(nvb_strstrip(first));
	if (!*flavour || !*line) {
		free(*version);
		free(*flavour);
		free(*line);
		*version = *flavour = *line = NULL;
		return -1;
	}
	return 0;
}

void nvb_nvidia_gpu_info_clear(struct nvb_nvidia_gpu_info *info)
{
	free(info->model);
	free(info->uuid);
	free(info->bus_location);
	free(info->firmware);
	memset(info, 0, sizeof(*info));
	info->minor = -1;
}

static int parse_minor(const char *value)
{
	char *end = NULL;
	errno = 0;
	long v = strtol(value, &end, 10);
	if (errno || end == value || *end || v < 0 || v > 254)
		return -1; /* 255 is nvidiactl, 254 modeset: never a GPU */
	return (int)v;
}

int nvb_nvidia_parse_information(const char *text, struct nvb_nvidia_gpu_info *out)
{
	memset(out, 0, sizeof(*out));
	out->minor = -1;
	_cleanup_free_ char *copy = strdup(text);
	if (!copy)
		return -1;
	char *save = NULL;
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *colon = strchr(line, ':');
		if (!colon)
			continue;
		*colon = '\0';
		char *key = nvb_strstrip(line);
		char *value = nvb_strstrip(colon + 1);
		char **slot = NULL;
		if (strcmp(key, "Model") == 0)
			slot = &out->model;
		else if (strcmp(key, "GPU UUID") == 0)
			slot = &out->uuid;
		else if (strcmp(key, "Bus Location") == 0)
			slot = &out->bus_location;
		else if (strcmp(key, "GPU Firmware") == 0)
			slot = &out->firmware;
		else if (strcmp(key, "Device Minor") == 0)
			out->minor = parse_minor(value);
		else if (strcmp(key, "GPU Excluded") == 0)
			out->excluded = strcasecmp(value, "yes") == 0;
		if (slot && *value && !*slot && !(*slot = strdup(value)))
			return -1;
	}
	return 0;
}

/* --------------------------------------------------------------- helpers */

struct probe {
	struct nvb_host *host;
	struct nvb_inventory *inv;
	char *proc_devices; /* NULL when unreadable */
};

static char *read_small(struct probe *pr, const char *path, struct nvb_error *err)
{
	char *data = NULL;
	if (nvb_host_read(pr->host, path, SMALL_FILE_MAX, &data, NULL, err) < 0)
		return NULL;
	return data;
}

static int add_node(struct probe *pr, struct nvb_device_node **nodes, size_t *n, const char *path,
		    struct nvb_error *err, struct nvb_error *stat_err)
{
	struct nvb_device_node node = {0};
	if (nvb_device_node_stat(pr->host, path, &node, stat_err) < 0)
		return 1; /* absent: the caller decides whether that is a problem */
	struct nvb_device_node *slot = nvb_array_push(nodes, n, sizeof(*slot));
	if (!slot) {
		nvb_device_node_clear(&node);
		return nvb_error_nomem(err);
	}
	*slot = node;
	return 0;
}

/* A node whose major is not what /proc/devices says belongs to an unloaded or reloaded module. */
static void check_major(struct probe *pr, const struct nvb_device_node *node, const char *driver)
{
	int expect = pr->proc_devices ? nvb_proc_devices_major(pr->proc_devices, driver) : -1;
	if (expect >= 0 && node->major != (unsigned)expect)
		nvb_inventory_add_problem(
			pr->inv, NVB_PROBLEM_WARNING, "device-node-stale",
			"delete the node and let nvidia-modprobe recreate it",
			"%s has major %u but /proc/devices gives %d for %s", node->path, node->major,
			expect, driver);
}

/* ------------------------------------------------------------------ GPUs */

static int gpu_cmp(const void *a, const void *b)
{
	const struct nvb_gpu *ga = a, *gb = b;
	return strcmp(ga->pci_bus_id, gb->pci_bus_id);
}

static int read_gpu_dir(struct probe *pr, const char *entry, struct nvb_error *err)
{
	char busid[32], path[512];
	if (nvb_pci_bus_id_normalize(entry, busid, sizeof(busid)) < 0) {
		nvb_inventory_add_problem(pr->inv, NVB_PROBLEM_WARNING, "proc-malformed", NULL,
					  "%s/gpus/%s: not a PCI bus id, ignored", PROC_NVIDIA, entry);
		return 0;
	}
	snprintf(path, sizeof(path), "%s/gpus/%s/information", PROC_NVIDIA, entry);
	struct nvb_error rerr;
	_cleanup_free_ char *text = read_small(pr, path, &rerr);
	if (!text) {
		nvb_inventory_add_problem(pr->inv, NVB_PROBLEM_ERROR, "proc-unreadable",
					  "run nvbind as root, or check that /proc is mounted",
					  "%s", rerr.message);
		return 0;
	}
	struct nvb_nvidia_gpu_info info;
	if (nvb_nvidia_parse_information(text, &info) < 0) {
		nvb_nvidia_gpu_info_clear(&info);
		return nvb_error_nomem(err);
	}
	if (!info.uuid || info.minor < 0)
		nvb_inventory_add_problem(pr->inv, NVB_PROBLEM_ERROR, "proc-malformed",
					  "check the driver installation (dmesg may say more)",
					  "%s: %s missing or malformed", path,
					  !info.uuid ? "'GPU UUID'" : "'Device Minor'");
	if (pr->inv->n_gpus >= MAX_GPUS) {
		nvb_nvidia_gpu_info_clear(&info);
		return 0;
	}
	struct nvb_gpu *gpu = nvb_array_push(&pr->inv->gpus, &pr->inv->n_gpus, sizeof(*gpu));
	if (!gpu) {
		nvb_nvidia_gpu_info_clear(&info);
		return nvb_error_nomem(err);
	}
	gpu->vendor = NVB_VENDOR_NVIDIA;
	gpu->name = NVB_TAKE_PTR(info.model);
	gpu->uuid = NVB_TAKE_PTR(info.uuid);
	gpu->firmware = NVB_TAKE_PTR(info.firmware);
	gpu->minor = info.minor;
	gpu->pci_bus_id = strdup(busid);
	gpu->cc_major = gpu->cc_minor = -1;
	gpu->mig_mode = -1;
	gpu->numa_node = -1;
	nvb_nvidia_gpu_info_clear(&info);
	return gpu->pci_bus_id ? 0 : nvb_error_nomem(err);
}

static int list_gpus(struct probe *pr, struct nvb_error *err)
{
	struct nvb_error derr;
	int fd = nvb_host_open_file(pr->host, PROC_NVIDIA "/gpus", O_RDONLY | O_DIRECTORY, NULL, &derr);
	if (fd < 0) {
		nvb_inventory_add_problem(pr->inv, NVB_PROBLEM_ERROR, "proc-unreadable",
					  "check the driver installation", "%s", derr.message);
		return 0;
	}
	_cleanup_closedir_ DIR *d = nvb_fdopendir(fd);
	if (!d)
		return nvb_error_errno(err, errno, NULL, "%s/gpus", PROC_NVIDIA);
	struct dirent *de;
	int r = 0;
	while (r == 0 && (de = nvb_readdir(d)))
		if (de->d_name[0] != '.') /* hidden entries are no GPUs either */
			r = read_gpu_dir(pr, de->d_name, err);
	if (r < 0)
		return -1;
	/* Index order is PCI bus id order, as NVML and nvidia-smi enumerate; not minor order. */
	if (pr->inv->n_gpus > 1)
		qsort(pr->inv->gpus, pr->inv->n_gpus, sizeof(struct nvb_gpu), gpu_cmp);
	for (size_t i = 0; i < pr->inv->n_gpus; i++)
		pr->inv->gpus[i].index = (unsigned)i;
	return 0;
}

static int gpu_drm_nodes(struct probe *pr, struct nvb_gpu *gpu, struct nvb_error *err)
{
	char path[256];
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/drm", gpu->pci_bus_id);
	struct nvb_error ignored;
	int fd = nvb_host_open_file(pr->host, path, O_RDONLY | O_DIRECTORY, NULL, &ignored);
	if (fd < 0)
		return 0; /* nvidia-drm not loaded */
	_cleanup_closedir_ DIR *d = nvb_fdopendir(fd);
	if (!d)
		return 0;
	struct dirent *de;
	int r = 0;
	while (r >= 0 && (de = nvb_readdir(d))) {
		if (!nvb_str_has_prefix(de->d_name, "card") && !nvb_str_has_prefix(de->d_name, "renderD"))
			continue;
		char node[300];
		snprintf(node, sizeof(node), "/dev/dri/%s", de->d_name);
		r = add_node(pr, &gpu->nodes, &gpu->n_nodes, node, err, &ignored);
	}
	return r < 0 ? -1 : 0;
}

static int gpu_details(struct probe *pr, struct nvb_gpu *gpu, struct nvb_error *err)
{
	const char *bus = gpu->pci_bus_id;
	char dir[256];
	snprintf(dir, sizeof(dir), "/sys/bus/pci/devices/%s", bus);
	nvb_pci_fill_gpu(pr->host, dir, gpu);
	if (!gpu->pci_vendor)
		nvb_inventory_add_problem(pr->inv, NVB_PROBLEM_INFO, "sysfs-missing",
					  "mount sysfs on /sys",
					  "no PCI attributes for GPU %u (%s) under /sys/bus/pci/devices",
					  gpu->index, bus);

	if (gpu->minor >= 0) {
		char node[64];
		struct nvb_error serr;
		snprintf(node, sizeof(node), "/dev/nvidia%d", gpu->minor);
		int r = add_node(pr, &gpu->nodes, &gpu->n_nodes, node, err, &serr);
		if (r < 0)
			return -1;
		if (r > 0) {
			char hint[160];
			snprintf(hint, sizeof(hint),
				 "run 'nvidia-modprobe -c %d' or 'mknod -m 666 %s c %d %d'",
				 gpu->minor, node, NVIDIA_MAJOR_DEFAULT, gpu->minor);
			nvb_inventory_add_problem(pr->inv, NVB_PROBLEM_ERROR, "device-node-missing",
						  hint, "GPU %u (%s): %s", gpu->index, bus,
						  serr.message);
		} else {
			check_major(pr, &gpu->nodes[gpu->n_nodes - 1], "nvidia");
		}
	}
	return gpu_drm_nodes(pr, gpu, err);
}

/* --------------------------------------------------------------- MIG caps */

/* "DeviceFile<key>: <decimal>" of a capability access file; -1 when absent or out of range. */
static long cap_field(const char *text, const char *key, long max)
{
	const char *p = strstr(text, key);
	if (!p)
		return -1;
	char *end = NULL;
	long v = strtol(p + strlen(key), &end, 10);
	return (end && v >= 0 && v <= max) ? v : -1;
}

static int cap_minor(struct probe *pr, const char *access_path)
{
	struct nvb_error ignored;
	_cleanup_free_ char *text = read_small(pr, access_path, &ignored);
	return text ? (int)cap_field(text, "DeviceFileMinor:", (1L << 20) - 1) : -1;
}

/* May the probe create missing capability nodes? On the real host as root (nvidia-modprobe
 * would do the same), or on any root when NVBIND_CREATE_DEVICE_NODES=1 (tests on fixtures). */
static bool may_create_nodes(struct probe *pr)
{
	const char *env = getenv("NVBIND_CREATE_DEVICE_NODES");
	if (env && !strcmp(env, "1"))
		return true;
	return pr->host->root && !strcmp(pr->host->root, "/") && geteuid() == 0;
}

/* mknod /dev/nvidia-caps/nvidia-cap<minor> inside the host root, with the mode its access file
 * gives (DeviceFileMode, decimal) and the nvidia-caps major of /proc/devices. */
static int create_cap_node(struct probe *pr, int minor, const char *access_path,
			   struct nvb_error *err)
{
	int major = pr->proc_devices ? nvb_proc_devices_major(pr->proc_devices, "nvidia-caps") : -1;
	if (major < 0)
		return nvb_error_set(err, NVB_ERR_NOT_FOUND, 0, "load the nvidia module",
				     "no nvidia-caps major in /proc/devices");
	struct nvb_error ignored;
	_cleanup_free_ char *text = read_small(pr, access_path, &ignored);
	long mode = text ? cap_field(text, "DeviceFileMode:", 0777) : -1;
	if (mode < 0)
		mode = 0444; /* the driver's default for access files */
	_cleanup_close_ int dfd = nvb_mkdir_in_root(pr->host->rootfd, "host", "/dev/nvidia-caps",
						    0755, err);
	if (dfd < 0)
		return -1;
	char name[48];
	snprintf(name, sizeof(name), "nvidia-cap%d", minor);
	if (mknodat(dfd, name, S_IFCHR | (mode_t)mode, makedev((unsigned)major, (unsigned)minor)) < 0)
		return nvb_error_errno(err, errno, NULL, "mknod /dev/nvidia-caps/%s", name);
	if (fchmodat(dfd, name, (mode_t)mode, AT_SYMLINK_NOFOLLOW) < 0 && errno != ENOTSUP)
		return nvb_error_errno(err, errno, NULL, "chmod /dev/nvidia-caps/%s", name);
	nvb_info("probe", "created /dev/nvidia-caps/%s (%d:%d, mode %04lo) for %s", name, major,
		 minor, mode, access_path);
	return 0;
}

static int add_cap_node(struct probe *pr, struct nvb_device_node **nodes, size_t *n, int minor,
			const char *access_path, struct nvb_error *err)
{
	char node[96];
	struct nvb_error serr, cerr = {0};
	snprintf(node, sizeof(node), "/dev/nvidia-caps/nvidia-cap%d", minor);
	int r = add_node(pr, nodes, n, node, err, &serr);
	if (r > 0 && serr.code == NVB_ERR_NOT_FOUND && may_create_nodes(pr) &&
	    create_cap_node(pr, minor, access_path, &cerr) == 0)
		r = add_node(pr, nodes, n, node, err, &serr);
	if (r > 0) {
		char hint[300];
		snprintf(hint, sizeof(hint), "run 'nvidia-modprobe -f %s' (as root)", access_path);
		nvb_inventory_add_problem(pr->inv, NVB_PROBLEM_WARNING, "device-node-missing", hint,
					  "MIG capability node: %s%s%s", serr.message,
					  cerr.code ? "; creating it failed: " : "",
					  cerr.code ? cerr.message : "");
	} else if (r == 0) {
		check_major(pr, &(*nodes)[*n - 1], "nvidia-caps");
	}
	return r < 0 ? -1 : 0;
}

/* The last MIG device of gpu lacks a capability node (add_cap_node said which): a container
 * given it could not use the instance, so no spec may offer it. It is left out, and said. */
static int drop_mig(struct probe *pr, struct nvb_gpu *gpu, struct nvb_error *err)
{
	struct nvb_mig_device *mig = &gpu->migs[--gpu->n_migs];
	for (size_t k = 0; k < mig->n_nodes; k++)
		nvb_device_node_clear(&mig->nodes[k]);
	free(mig->nodes);
	free(mig->uuid);
	int r = nvb_inventory_add_problem(
		pr->inv, NVB_PROBLEM_WARNING, "mig-device-incomplete",
		"create the missing node (see device-node-missing), then run 'nvbind cdi generate'",
		"MIG device gi%u/ci%u of GPU %s is left out of the inventory and the CDI spec: a "
		"container needs both of its capability nodes",
		mig->gi, mig->ci, gpu->pci_bus_id ? gpu->pci_bus_id : "?");
	memset(mig, 0, sizeof(*mig));
	return r < 0 ? nvb_error_nomem(err) : 0;
}

/* Walk /proc/driver/nvidia/capabilities/gpu<minor>/mig/gi<G>/ci<C>/access: only instances whose
 * access files exist are real (mig-minors lists every possible one). */
static int gpu_migs(struct probe *pr, struct nvb_gpu *gpu, struct nvb_error *err)
{
	char dir[128];
	snprintf(dir, sizeof(dir), PROC_NVIDIA "/capabilities/gpu%d/mig", gpu->minor);
	struct nvb_error ignored;
	int fd = nvb_host_open_file(pr->host, dir, O_RDONLY | O_DIRECTORY, NULL, &ignored);
	if (fd < 0)
		return 0;
	DIR *d = nvb_fdopendir(fd);
	if (!d)
		return 0;
	struct dirent *de;
	int r = 0;
	while (r == 0 && (de = nvb_readdir(d))) {
		unsigned gi;
		char tail;
		if (sscanf(de->d_name, "gi%u%c", &gi, &tail) != 1)
			continue;
		char gi_access[200];
		snprintf(gi_access, sizeof(gi_access), "%s/gi%u/access", dir, gi);
		int gi_minor = cap_minor(pr, gi_access);
		if (gi_minor < 0)
			continue;
		for (unsigned ci = 0; ci < 8 && r == 0; ci++) {
			char ci_access[220];
			snprintf(ci_access, sizeof(ci_access), "%s/gi%u/ci%u/access", dir, gi, ci);
			int ci_minor = cap_minor(pr, ci_access);
			if (ci_minor < 0)
				continue;
			struct nvb_mig_device *mig = nvb_array_push(&gpu->migs, &gpu->n_migs, sizeof(*mig));
			if (!mig) {
				r = nvb_error_nomem(err);
				break;
			}
			mig->gi = gi;
			mig->ci = ci;
			r = add_cap_node(pr, &mig->nodes, &mig->n_nodes, gi_minor, gi_access, err);
			if (r == 0)
				r = add_cap_node(pr, &mig->nodes, &mig->n_nodes, ci_minor, ci_access,
						 err);
			if (r == 0 && mig->n_nodes < 2)
				r = drop_mig(pr, gpu, err);
		}
	}
	closedir(d);
	if (gpu->n_migs > 1) { /* readdir order is arbitrary */
		for (size_t i = 1; i < gpu->n_migs; i++)
			for (size_t j = i; j > 0; j--) {
				struct nvb_mig_device *a = &gpu->migs[j - 1], *b = &gpu->migs[j];
				if (a->gi < b->gi || (a->gi == b->gi && a->ci <= b->ci))
					break;
				struct nvb_mig_device t = *a;
				*a = *b;
				*b = t;
			}
	}
	if (gpu->n_migs)
		gpu->mig_mode = 1;
	return r;
}

/* --------------------------------------------------------- control nodes */

static int control_nodes(struct probe *pr, struct nvb_error *err)
{
	static const struct {
		const char *path;
		const char *driver; /* /proc/devices name of its major */
		enum nvb_problem_kind if_missing;
		const char *hint;
	} ctl[] = {
		{"/dev/nvidiactl", "nvidiactl", NVB_PROBLEM_ERROR, "run 'nvidia-modprobe'"},
		{"/dev/nvidia-uvm", "nvidia-uvm", NVB_PROBLEM_WARNING,
		 "CUDA needs it: load nvidia-uvm and run 'nvidia-modprobe -u -c 0'"},
		{"/dev/nvidia-uvm-tools", "nvidia-uvm", NVB_PROBLEM_INFO,
		 "run 'nvidia-modprobe -u -c 0' for profiling tools"},
		{"/dev/nvidia-modeset", "nvidia", NVB_PROBLEM_INFO, NULL},
	};
	for (size_t i = 0; i < NVB_ARRAY_SIZE(ctl); i++) {
		struct nvb_error serr;
		int r = add_node(pr, &pr->inv->control_nodes, &pr->inv->n_control_nodes, ctl[i].path,
				 err, &serr);
		if (r < 0)
			return -1;
		if (r == 0)
			check_major(pr, &pr->inv->control_nodes[pr->inv->n_control_nodes - 1],
				    ctl[i].driver);
		else if (ctl[i].hint)
			nvb_inventory_add_problem(pr->inv, ctl[i].if_missing, "device-node-missing",
						  ctl[i].hint, "%s", serr.message);
	}
	/* MIG management capabilities (config, monitor), present on MIG-capable drivers */
	static const char *const mig_caps[] = {PROC_NVIDIA "/capabilities/mig/config",
					       PROC_NVIDIA "/capabilities/mig/monitor"};
	for (size_t i = 0; i < NVB_ARRAY_SIZE(mig_caps); i++) {
		int minor = cap_minor(pr, mig_caps[i]);
		if (minor >= 0 &&
		    add_cap_node(pr, &pr->inv->control_nodes, &pr->inv->n_control_nodes, minor,
				 mig_caps[i], err) < 0)
			return -1;
	}
	return 0;
}

/* --------------------------------------------------------------- firmware */

static int select_firmware(struct probe *pr, const char *version, struct nvb_error *err)
{
	struct nvb_error ignored;
	_cleanup_free_ char *param = read_small(pr, "/sys/module/firmware_class/parameters/path", &ignored);
	_cleanup_free_ char *release = read_small(pr, "/proc/sys/kernel/osrelease", &ignored);
	const char *rel = release ? nvb_strstrip(release) : "";
	char dirs[5][512];
	size_t n = 0;
	if (param && *nvb_strstrip(param) == '/')
		snprintf(dirs[n++], sizeof(dirs[0]), "%s", nvb_strstrip(param));
	if (*rel)
		snprintf(dirs[n++], sizeof(dirs[0]), "/lib/firmware/updates/%s", rel);
	snprintf(dirs[n++], sizeof(dirs[0]), "/lib/firmware/updates");
	if (*rel)
		snprintf(dirs[n++], sizeof(dirs[0]), "/lib/firmware/%s", rel);
	snprintf(dirs[n++], sizeof(dirs[0]), "/lib/firmware");

	for (size_t i = 0; i < n; i++) {
		char dir[700];
		snprintf(dir, sizeof(dir), "%s/nvidia/%s", dirs[i], version);
		char *resolved = NULL;
		int fd = nvb_host_open_file(pr->host, dir, O_RDONLY | O_DIRECTORY, &resolved, &ignored);
		if (fd < 0)
			continue;
		DIR *d = nvb_fdopendir(fd);
		if (!d) {
			free(resolved);
			continue;
		}
		struct dirent *de;
		size_t found = 0;
		int r = 0;
		while (r == 0 && (de = nvb_readdir(d))) {
			if (!nvb_str_has_prefix(de->d_name, "gsp_") || !nvb_str_has_suffix(de->d_name, ".bin"))
				continue;
			struct nvb_driver_file *f = nvb_inventory_add_file(pr->inv);
			if (!f || !(f->path = nvb_asprintf("%s/%s", resolved, de->d_name)) ||
			    !(f->link_path = nvb_asprintf("%s/%s", dir, de->d_name))) {
				r = nvb_error_nomem(err);
				break;
			}
			f->kind = NVB_FILE_FIRMWARE;
			f->caps = NVB_CAP_UTILITY | NVB_CAP_COMPUTE;
			found++;
		}
		closedir(d);
		if (r < 0) {
			free(resolved);
			return -1;
		}
		if (found) {
			pr->inv->driver.firmware_dir = resolved;
			return 0;
		}
		free(resolved);
	}
	if (pr->inv->driver.kernel_module && strcmp(pr->inv->driver.kernel_module, "open") == 0)
		nvb_inventory_add_problem(pr->inv, NVB_PROBLEM_WARNING, "firmware-missing",
					  "install the driver's firmware package (gsp_*.bin)",
					  "no GSP firmware for driver %s under %s/nvidia/%s or the other "
					  "firmware directories; the open kernel module needs it",
					  version, dirs[0], version);
	return 0;
}

/* ---------------------------------------------------------- no driver case */

static int no_driver(struct probe *pr, struct nvb_error *err)
{
	struct nvb_error ignored;
	int fd = nvb_host_open_file(pr->host, "/sys/bus/pci/devices", O_RDONLY | O_DIRECTORY, NULL,
				    &ignored);
	size_t nvidia_gpus = 0;
	char drivers[128] = "";
	if (fd >= 0) {
		DIR *d = nvb_fdopendir(fd);
		struct dirent *de;
		while (d && (de = nvb_readdir(d))) {
			if (de->d_name[0] == '.') /* hidden entries are no devices */
				continue;
			char dir[300];
			snprintf(dir, sizeof(dir), "/sys/bus/pci/devices/%s", de->d_name);
			if (nvb_sysfs_number(pr->host, dir, "vendor") != 0x10de ||
			    (nvb_sysfs_number(pr->host, dir, "class") >> 16) != 0x03)
				continue;
			nvidia_gpus++;
			_cleanup_free_ char *drv = nvb_sysfs_driver(pr->host, dir);
			if (!strstr(drivers, drv ? drv : "none") && strlen(drivers) < 80)
				snprintf(drivers + strlen(drivers), sizeof(drivers) - strlen(drivers),
					 "%s%s", drivers[0] ? ", " : "", drv ? drv : "none");
		}
		if (d)
			closedir(d);
	}
	if (nvidia_gpus)
		return nvb_inventory_add_problem(
			       pr->inv, NVB_PROBLEM_ERROR, "driver-not-loaded",
			       "load the NVIDIA kernel module (modprobe nvidia) or install the driver",
			       "%zu NVIDIA GPU(s) on the PCI bus (kernel driver: %s) but the NVIDIA "
			       "driver is not loaded (no %s)",
			       nvidia_gpus, drivers, PROC_NVIDIA) < 0
			       ? nvb_error_nomem(err)
			       : 0;
	return nvb_inventory_add_problem(pr->inv, NVB_PROBLEM_INFO, "no-gpu", NULL,
					 "no NVIDIA GPU found: no %s and no NVIDIA device on the PCI bus",
					 PROC_NVIDIA) < 0
		       ? nvb_error_nomem(err)
		       : 0;
}

/* ------------------------------------------------------------------ files */

static int probe_files(struct probe *pr, unsigned flags, struct nvb_error *err)
{
	struct nvb_error lerr;
	struct nvb_libset *libs = nvb_libset_load(pr->host, &lerr);
	if (!libs && lerr.code != NVB_ERR_PARSE) {
		*err = lerr;
		return -1;
	}
	if (!libs) {
		nvb_inventory_add_problem(pr->inv, NVB_PROBLEM_WARNING, "ldcache-corrupt",
					  "regenerate it with 'ldconfig'",
					  "%s; scanning library directories instead", lerr.message);
		if (!(libs = nvb_libset_scan(pr->host, err)))
			return -1;
	}
	struct nvb_driver *drv = &pr->inv->driver;
	if (!drv->version && (drv->version = nvb_catalog_guess_version(pr->host, libs)))
		nvb_inventory_add_problem(pr->inv, NVB_PROBLEM_INFO, "version-from-libraries", NULL,
					  "driver version %s taken from libcuda's file name: the "
					  "kernel module did not report one", drv->version);
	if (!drv->version) {
		nvb_libset_free(libs);
		return 0;
	}
	int r = nvb_catalog_select_nvidia(pr->host, libs, drv->version, pr->inv, err);
	nvb_libset_free(libs);
	if (r == 0)
		r = select_firmware(pr, drv->version, err);
	bool migs = false;
	for (size_t i = 0; i < pr->inv->n_gpus; i++)
		migs = migs || pr->inv->gpus[i].n_migs > 0;
	if (r == 0 && (!(flags & NVB_PROBE_NO_NVML) || (migs && (flags & NVB_PROBE_NVML_IF_MIG))))
		nvb_nvml_enrich(pr->host, pr->inv);
	return r;
}

int nvb_probe_nvidia(struct nvb_host *host, unsigned flags, struct nvb_inventory *inv,
		     struct nvb_error *err)
{
	struct probe pr = {.host = host, .inv = inv};
	inv->driver.vendor = NVB_VENDOR_NVIDIA;
	struct nvb_error verr;
	_cleanup_free_ char *version_text = read_small(&pr, PROC_NVIDIA "/version", &verr);
	if (!version_text && verr.code == NVB_ERR_NOT_FOUND)
		return nvb_wsl_detect(host) ? nvb_probe_nvidia_wsl(host, flags, inv, err)
					    : no_driver(&pr, err);
	if (!version_text)
		return nvb_inventory_add_problem(inv, NVB_PROBLEM_ERROR, "proc-unreadable",
						 "run nvbind as root, or check /proc", "%s",
						 verr.message) < 0
			       ? nvb_error_nomem(err)
			       : 0;
	if (nvb_nvidia_parse_version(version_text, &inv->driver.version,
				     &inv->driver.kernel_module, &inv->driver.version_line) < 0)
		nvb_inventory_add_problem(inv, NVB_PROBLEM_ERROR, "proc-malformed",
					  "check the driver installation",
					  "%s/version: no 'NVRM version: ... Kernel Module <version>' line",
					  PROC_NVIDIA);

	struct nvb_error ignored;
	pr.proc_devices = read_small(&pr, "/proc/devices", &ignored);
	int r = list_gpus(&pr, err);
	for (size_t i = 0; r == 0 && i < inv->n_gpus; i++) {
		r = gpu_details(&pr, &inv->gpus[i], err);
		if (r == 0 && inv->gpus[i].minor >= 0)
			r = gpu_migs(&pr, &inv->gpus[i], err);
	}
	if (r == 0)
		r = control_nodes(&pr, err);
	if (r == 0)
		r = probe_files(&pr, flags, err);
	if (r == 0 && inv->n_gpus == 0)
		nvb_inventory_add_problem(inv, NVB_PROBLEM_WARNING, "no-gpu",
					  "check 'dmesg | grep NVRM' for GPUs the driver rejected",
					  "the NVIDIA driver %s is loaded but lists no GPU under %s/gpus",
					  inv->driver.version ? inv->driver.version : "(unknown)",
					  PROC_NVIDIA);
	free(pr.proc_devices);
	return r;
}
