/* SPDX-License-Identifier: Apache-2.0 */
#include "inventory/inventory.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

int nvb_inventory_add_problem(struct nvb_inventory *inv, enum nvb_problem_kind sev,
			      const char *code, const char *hint, const char *fmt, ...)
{
	struct nvb_problem *p = nvb_array_push(&inv->problems, &inv->n_problems, sizeof(*p));
	if (!p)
		return -1;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&p->message, fmt, ap);
	va_end(ap);
	if (n < 0)
		p->message = NULL;
	p->severity = sev;
	p->code = strdup(code);
	p->hint = hint ? strdup(hint) : NULL;
	nvb_log(NVB_LOG_DEBUG, "probe", "%s: %s", code,
		p->message ? p->message : "");
	return (p->message && p->code) ? 0 : -1;
}

bool nvb_inventory_has_problem(const struct nvb_inventory *inv, const char *code)
{
	for (size_t i = 0; i < inv->n_problems; i++)
		if (strcmp(inv->problems[i].code, code) == 0)
			return true;
	return false;
}

struct nvb_driver_file *nvb_inventory_add_file(struct nvb_inventory *inv)
{
	return nvb_array_push(&inv->files, &inv->n_files, sizeof(struct nvb_driver_file));
}

int nvb_inventory_add_missing(struct nvb_inventory *inv, const char *what)
{
	char **slot = nvb_array_push(&inv->missing, &inv->n_missing, sizeof(char *));
	if (!slot || !(*slot = strdup(what)))
		return -1;
	return 0;
}

int nvb_inventory_add_skipped(struct nvb_inventory *inv, enum nvb_file_kind kind, const char *path,
			      const char *reason, const char *chosen)
{
	struct nvb_skipped_file *s = nvb_array_push(&inv->skipped, &inv->n_skipped, sizeof(*s));
	if (!s)
		return -1;
	s->kind = kind;
	s->path = strdup(path);
	s->reason = strdup(reason);
	s->chosen = chosen ? strdup(chosen) : NULL;
	nvb_log(NVB_LOG_DEBUG, "probe", "skipping %s (%s), using %s", path, reason,
		chosen ? chosen : "nothing");
	return (s->path && s->reason && (!chosen || s->chosen)) ? 0 : -1;
}

/* stat a device node inside the host root; follow: a final symbolic link too (udev's
 * /dev/dri/by-path links), else the path itself must be the node */
static int node_stat(struct nvb_host *host, const char *path, bool follow,
		     struct nvb_device_node *node, struct nvb_error *err)
{
	_cleanup_close_ int fd =
		nvb_host_resolve(host, path, follow ? 0 : NVB_RESOLVE_NOFOLLOW_LAST, NULL, err);
	if (fd < 0)
		return -1;
	struct stat st;
	if (fstat(fd, &st) < 0)
		return nvb_error_errno(err, errno, NULL, "stat %s", path);
	if (!S_ISCHR(st.st_mode))
		return nvb_error_set(err, NVB_ERR_INVALID, 0,
				     "reload the driver or let udev recreate it (NVIDIA: nvidia-modprobe)",
				     follow ? "%s does not lead to a character device"
					    : "%s is not a character device",
				     path);
	if (!(node->path = strdup(path)))
		return nvb_error_nomem(err);
	node->major = major(st.st_rdev);
	node->minor = minor(st.st_rdev);
	node->mode = st.st_mode & 07777;
	node->uid = st.st_uid;
	node->gid = st.st_gid;
	return 0;
}

int nvb_device_node_stat(struct nvb_host *host, const char *path, struct nvb_device_node *node,
			 struct nvb_error *err)
{
	return node_stat(host, path, false, node, err);
}

int nvb_device_node_stat_follow(struct nvb_host *host, const char *path,
				struct nvb_device_node *node, struct nvb_error *err)
{
	return node_stat(host, path, true, node, err);
}

void nvb_device_node_clear(struct nvb_device_node *node)
{
	free(node->path);
	node->path = NULL;
}

static void nodes_free(struct nvb_device_node *nodes, size_t n)
{
	for (size_t i = 0; i < n; i++)
		nvb_device_node_clear(&nodes[i]);
	free(nodes);
}

void nvb_gpu_clear(struct nvb_gpu *gpu)
{
	free(gpu->name);
	free(gpu->uuid);
	free(gpu->pci_bus_id);
	free(gpu->kernel_driver);
	free(gpu->firmware);
	nodes_free(gpu->nodes, gpu->n_nodes);
	for (size_t m = 0; m < gpu->n_migs; m++) {
		free(gpu->migs[m].uuid);
		nodes_free(gpu->migs[m].nodes, gpu->migs[m].n_nodes);
	}
	free(gpu->migs);
}

void nvb_inventory_free(struct nvb_inventory *inv)
{
	if (!inv)
		return;
	free(inv->driver.version);
	free(inv->driver.kernel_module);
	free(inv->driver.version_line);
	free(inv->driver.firmware_dir);
	free(inv->driver.cuda_version);
	for (size_t i = 0; i < inv->n_gpus; i++)
		nvb_gpu_clear(&inv->gpus[i]);
	free(inv->gpus);
	nodes_free(inv->control_nodes, inv->n_control_nodes);
	for (size_t i = 0; i < inv->n_files; i++) {
		free(inv->files[i].path);
		free(inv->files[i].link_path);
		free(inv->files[i].soname);
	}
	free(inv->files);
	for (size_t i = 0; i < inv->n_missing; i++)
		free(inv->missing[i]);
	free(inv->missing);
	for (size_t i = 0; i < inv->n_problems; i++) {
		free(inv->problems[i].code);
		free(inv->problems[i].message);
		free(inv->problems[i].hint);
	}
	free(inv->problems);
	for (size_t i = 0; i < inv->n_gpu_extra; i++) {
		free(inv->gpu_extra[i].cdi_id);
		free(inv->gpu_extra[i].compute_partition);
		free(inv->gpu_extra[i].memory_partition);
		free(inv->gpu_extra[i].arch);
	}
	free(inv->gpu_extra);
	free(inv->platform);
	nvb_inventory_free(inv->next);
	for (size_t i = 0; i < inv->n_skipped; i++) {
		free(inv->skipped[i].path);
		free(inv->skipped[i].reason);
		free(inv->skipped[i].chosen);
	}
	free(inv->skipped);
	free(inv);
}

static const char *const cap_names[] = {"utility", "compute", "video",   "graphics",
					"display", "ngx",     "compat32"};

const char *nvb_cap_name(enum nvb_cap cap)
{
	for (size_t i = 0; i < NVB_ARRAY_SIZE(cap_names); i++)
		if ((unsigned)cap == (1u << i))
			return cap_names[i];
	return "unknown";
}

int nvb_caps_parse(const char *words, unsigned *out, struct nvb_error *err)
{
	unsigned caps = 0;
	const char *p = words;
	while (*p) {
		size_t len = strcspn(p, ",");
		char word[32];
		while (len > 0 && (*p == ' ')) {
			p++;
			len--;
		}
		if (len >= sizeof(word))
			return nvb_error_set(err, NVB_ERR_INVALID, 0,
					     "use utility, compute, video, graphics, display, ngx, compat32 or all",
					     "unknown driver capability '%.*s'", (int)(len > 40 ? 40 : len), p);
		memcpy(word, p, len);
		word[len] = '\0';
		nvb_strstrip(word);
		bool known = false;
		if (strcmp(word, "all") == 0) {
			caps |= NVB_CAP_ALL;
			known = true;
		}
		for (size_t i = 0; !known && i < NVB_ARRAY_SIZE(cap_names); i++) {
			if (strcmp(word, cap_names[i]) == 0) {
				caps |= 1u << i;
				known = true;
			}
		}
		if (!known && word[0]) {
			static const char *const words_known[] = {"utility", "compute",  "video", "graphics",
								  "display", "ngx", "compat32", "all"};
			const char *best = nvb_closest(word, words_known, NVB_ARRAY_SIZE(words_known));
			char hint[64];
			snprintf(hint, sizeof(hint), "did you mean '%s'?", best ? best : "");
			if (best)
				return nvb_error_set(err, NVB_ERR_INVALID, 0, hint,
						     "unknown driver capability '%s'", word);
			return nvb_error_set(err, NVB_ERR_INVALID, 0,
					     "use utility, compute, video, graphics, display, ngx, compat32 or all",
					     "unknown driver capability '%s'", word);
		}
		p += len;
		if (*p == ',')
			p++;
	}
	*out = caps;
	return 0;
}

const char *nvb_file_kind_name(enum nvb_file_kind kind)
{
	static const char *const names[] = {"library", "binary", "firmware", "config", "socket"};
	return (unsigned)kind < NVB_ARRAY_SIZE(names) ? names[kind] : "unknown";
}

/* ------------------------------------------------------------ several vendors */

int nvb_inventory_fill_extra(struct nvb_inventory *inv)
{
	if (inv->n_gpu_extra >= inv->n_gpus)
		return 0;
	struct nvb_gpu_extra *x = realloc(inv->gpu_extra, inv->n_gpus * sizeof(*x));
	if (!x)
		return -1;
	for (size_t i = inv->n_gpu_extra; i < inv->n_gpus; i++)
		x[i] = (struct nvb_gpu_extra){.partition = -1};
	inv->gpu_extra = x;
	inv->n_gpu_extra = inv->n_gpus;
	return 0;
}

struct nvb_gpu *nvb_inventory_add_gpu(struct nvb_inventory *inv)
{
	if (nvb_inventory_fill_extra(inv) < 0)
		return NULL;
	struct nvb_gpu *gpu = nvb_array_push(&inv->gpus, &inv->n_gpus, sizeof(*gpu));
	if (!gpu)
		return NULL;
	if (nvb_inventory_fill_extra(inv) < 0) {
		inv->n_gpus--; /* keep gpus and gpu_extra the same length */
		return NULL;
	}
	gpu->vendor = inv->driver.vendor;
	gpu->minor = -1;
	gpu->numa_node = -1;
	gpu->cc_major = gpu->cc_minor = -1;
	gpu->mig_mode = -1;
	return gpu;
}

static const char *const vendor_words[] = {
	[NVB_VENDOR_NVIDIA] = "nvidia",
	[NVB_VENDOR_AMD] = "amd",
	[NVB_VENDOR_INTEL] = "intel",
};

const char *nvb_vendor_word(enum nvb_vendor vendor)
{
	return (unsigned)vendor < NVB_ARRAY_SIZE(vendor_words) ? vendor_words[vendor] : "unknown";
}

int nvb_vendor_parse(const char *word, enum nvb_vendor *out)
{
	for (size_t i = 0; word && i < NVB_ARRAY_SIZE(vendor_words); i++)
		if (!strcmp(word, vendor_words[i])) {
			*out = (enum nvb_vendor)i;
			return 0;
		}
	return -1;
}

const char *nvb_vendor_cdi_kind(enum nvb_vendor vendor)
{
	switch (vendor) {
	case NVB_VENDOR_AMD:
		return "amd.com/gpu";
	case NVB_VENDOR_INTEL:
		return "intel.com/gpu";
	default:
		return "nvidia.com/gpu";
	}
}

const struct nvb_inventory *nvb_inventory_of_vendor(const struct nvb_inventory *inv,
						    enum nvb_vendor vendor)
{
	for (; inv; inv = inv->next)
		if (inv->driver.vendor == vendor)
			return inv;
	return NULL;
}
