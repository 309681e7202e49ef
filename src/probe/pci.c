/* SPDX-License-Identifier: Apache-2.0 */
/* Readers every vendor probe shares (probe/pci.h): bus ids, sysfs attributes, pci.ids,
 * /proc/devices, device nodes behind links. Everything is read inside the host root. */
#include <ctype.h>
#include <fcntl.h>

#include "probe/pci.h"

#define ATTR_MAX (64u * 1024u)
#define PCI_IDS_MAX (16u * 1024u * 1024u) /* pci.ids is about 1.4 MB today */

int nvb_proc_devices_major(const char *text, const char *name)
{
	const char *p = strstr(text, "Character devices:");
	if (!p)
		return -1;
	p = strchr(p, '\n');
	while (p && *++p) {
		if (*p == '\n' || nvb_str_has_prefix(p, "Block devices:"))
			break;
		long major;
		char dev[128];
		if (sscanf(p, " %ld %127s", &major, dev) == 2 && strcmp(dev, name) == 0 &&
		    major >= 0 && major < (1L << 12))
			return (int)major;
		p = strchr(p, '\n');
	}
	return -1;
}

/* Parse up to max hex digits (at least one) from *p. */
static int hex_field(const char **p, int max, unsigned *out)
{
	unsigned v = 0;
	int n = 0;
	while (n < max && isxdigit((unsigned char)**p)) {
		char c = (char)tolower((unsigned char)**p);
		v = v * 16 + (unsigned)(c <= '9' ? c - '0' : c - 'a' + 10);
		(*p)++;
		n++;
	}
	*out = v;
	return n > 0 ? 0 : -1;
}

/* Accepts "dddd:bb:dd.f" and NVML's "dddddddd:bb:dd.f"; nothing else. */
int nvb_pci_bus_id_normalize(const char *in, char *out, size_t cap)
{
	unsigned domain, bus, dev, fn;
	const char *p = in;
	if (hex_field(&p, 8, &domain) < 0 || *p++ != ':' || hex_field(&p, 2, &bus) < 0 ||
	    *p++ != ':' || hex_field(&p, 2, &dev) < 0 || *p++ != '.' || hex_field(&p, 1, &fn) < 0 ||
	    *p != '\0' || domain > 0xffff || dev > 0x1f || fn > 7)
		return -1;
	snprintf(out, cap, "%04x:%02x:%02x.%x", domain, bus, dev, fn);
	return 0;
}

/* ------------------------------------------------------------------ sysfs */

char *nvb_sysfs_attr(struct nvb_host *host, const char *dir, const char *attr)
{
	_cleanup_free_ char *path = nvb_asprintf("%s/%s", dir, attr);
	char *data = NULL;
	struct nvb_error ignored;
	if (!path || nvb_host_read(host, path, ATTR_MAX, &data, NULL, &ignored) < 0)
		return NULL;
	char *s = nvb_strstrip(data);
	if (s != data)
		memmove(data, s, strlen(s) + 1);
	return data;
}

unsigned long long nvb_sysfs_number(struct nvb_host *host, const char *dir, const char *attr)
{
	_cleanup_free_ char *text = nvb_sysfs_attr(host, dir, attr);
	if (!text || !*text || *text == '-')
		return 0;
	char *end = NULL;
	errno = 0;
	unsigned long long v = strtoull(text, &end, 0);
	return (errno || *end) ? 0 : v;
}

char *nvb_sysfs_driver(struct nvb_host *host, const char *dir)
{
	_cleanup_free_ char *path = nvb_asprintf("%s/driver", dir);
	_cleanup_free_ char *resolved = NULL;
	struct nvb_error ignored;
	if (!path)
		return NULL;
	_cleanup_close_ int fd = nvb_host_resolve(host, path, 0, &resolved, &ignored);
	if (fd < 0)
		return NULL;
	return strdup(nvb_basename(resolved));
}

void nvb_pci_fill_gpu(struct nvb_host *host, const char *dir, struct nvb_gpu *gpu)
{
	gpu->pci_vendor = (uint16_t)nvb_sysfs_number(host, dir, "vendor");
	gpu->pci_device = (uint16_t)nvb_sysfs_number(host, dir, "device");
	gpu->pci_subsystem_vendor = (uint16_t)nvb_sysfs_number(host, dir, "subsystem_vendor");
	gpu->pci_subsystem_device = (uint16_t)nvb_sysfs_number(host, dir, "subsystem_device");
	gpu->pci_class = (uint32_t)nvb_sysfs_number(host, dir, "class");
	/* numa_node is -1 on single-node machines: parsed as a signed number */
	_cleanup_free_ char *numa = nvb_sysfs_attr(host, dir, "numa_node");
	char *end = NULL;
	long v = numa ? strtol(numa, &end, 10) : -1;
	gpu->numa_node = (numa && end != numa && !*end && v >= -1 && v < 4096) ? (int)v : -1;
	free(gpu->kernel_driver);
	gpu->kernel_driver = nvb_sysfs_driver(host, dir);
}

/* ---------------------------------------------------------------- pci.ids */

/* A line "<hex4><spaces><name>" starting at p: its id and where the name starts. */
static bool id_line(const char *p, unsigned *id, const char **name)
{
	unsigned v = 0;
	for (int i = 0; i < 4; i++, p++) {
		if (!isxdigit((unsigned char)*p))
			return false;
		v = v * 16 + (unsigned)(isdigit((unsigned char)*p) ? *p - '0'
								   : tolower((unsigned char)*p) - 'a' + 10);
	}
	if (*p != ' ' && *p != '\t')
		return false;
	while (*p == ' ' || *p == '\t')
		p++;
	*id = v;
	*name = p;
	return true;
}

char *nvb_pci_ids_name(const char *text, unsigned vendor, unsigned device)
{
	bool in_vendor = false;
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		unsigned id;
		const char *name;
		if (*p == '#' || *p == '\n')
			continue;
		if (*p != '\t') { /* a vendor line, or the class section ("C 03 ...") */
			if (in_vendor)
				return NULL;
			in_vendor = id_line(p, &id, &name) && id == vendor;
			continue;
		}
		if (!in_vendor || p[1] == '\t') /* subsystem lines are indented twice */
			continue;
		if (id_line(p + 1, &id, &name) && id == device) {
			size_t len = strcspn(name, "\r\n");
			while (len && (name[len - 1] == ' ' || name[len - 1] == '\t'))
				len--;
			return len ? strndup(name, len) : NULL;
		}
	}
	return NULL;
}

char *nvb_pci_ids_read(struct nvb_host *host)
{
	static const char *const paths[] = {"/usr/share/misc/pci.ids", "/usr/share/hwdata/pci.ids"};
	for (size_t i = 0; i < NVB_ARRAY_SIZE(paths); i++) {
		char *data = NULL;
		struct nvb_error ignored;
		if (nvb_host_read(host, paths[i], PCI_IDS_MAX, &data, NULL, &ignored) == 0)
			return data;
	}
	return NULL;
}

/* ----------------------------------------------------------- device nodes */

int nvb_nodes_push(struct nvb_device_node **nodes, size_t *n, struct nvb_device_node *node)
{
	struct nvb_device_node *slot = nvb_array_push(nodes, n, sizeof(*slot));
	if (!slot) {
		nvb_device_node_clear(node);
		return -1;
	}
	*slot = *node;
	return 0;
}
