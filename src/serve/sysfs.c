/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The AMD and Intel GPU values of nvbind serve, read from the drivers' sysfs files through the
 * host root on every scrape (docs/serve.md lists which file gives which metric):
 *  - amdgpu, on the PCI device directory: gpu_busy_percent, mem_busy_percent,
 *    mem_info_vram_used/_total and hwmon/hwmon<N>/ temp<k>_input, power1_average (or
 *    power1_input on kernels that dropped it), freq1_input (sclk);
 *  - i915: drm/card<N>/gt_act_freq_mhz; xe: tile0/gt0/freq0/act_freq; both: hwmon
 *    energy1_input (xe without it: energy2_input) and temp<k>_input.
 * A missing file is normal (older kernels, integrated GPUs without hwmon): the metric is left
 * out. A file that is not a regular file, too long or not a number in range is left out too and
 * logged once. Nothing here reads outside the host root.
 */
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>

#include "probe/pci.h"
#include "serve/serve.h"

#define VALUE_MAX 64     /* the longest sysfs value read: a 64-bit number and a newline fit */
#define WARNED_MAX 256   /* malformed files remembered; more are still skipped, not logged */
#define SENSORS_MAX 16   /* temp1..temp16: hwmon numbers channels from 1 */

enum { ABSENT = 0, GOOD = 1, BAD = -1 };

int nvb_sysfs_parse(const char *text, long long min, long long max, long long *out)
{
	const char *p = text;
	bool neg = false;
	if (*p == '-' && min < 0) {
		neg = true;
		p++;
	}
	if (*p < '0' || *p > '9')
		return -1;
	unsigned long long v = 0;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');
		if (v > (ULLONG_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	for (; *p; p++)
		if (*p != '\n' && *p != ' ' && *p != '\t')
			return -1;
	if (!neg && v > (unsigned long long)LLONG_MAX)
		return -1;
	if (neg && v > (unsigned long long)LLONG_MAX + 1)
		return -1;
	long long s = neg ? (long long)(0 - v) : (long long)v;
	if (s < min || s > max)
		return -1;
	*out = s;
	return 0;
}

/* Log path's problem unless it was logged before. */
static int malformed(struct nvb_sysfs_reader *r, const char *path, const char *why)
{
	for (size_t i = 0; i < r->n_warned; i++)
		if (!strcmp(r->warned[i], path))
			return BAD;
	nvb_warn("serve", "%s %s: its metric is left out (logged once)", path, why);
	if (r->n_warned >= WARNED_MAX)
		return BAD;
	char **grown = realloc(r->warned, (r->n_warned + 1) * sizeof(*grown));
	if (grown) {
		r->warned = grown;
		if ((r->warned[r->n_warned] = strdup(path)))
			r->n_warned++;
	}
	return BAD;
}

void nvb_sysfs_reader_clear(struct nvb_sysfs_reader *r)
{
	for (size_t i = 0; i < r->n_warned; i++)
		free(r->warned[i]);
	free(r->warned);
	r->warned = NULL;
	r->n_warned = 0;
}

/* The text of the regular file path inside the root into buf (at most VALUE_MAX bytes). The
 * file is looked at before it is opened: a FIFO or a device node where a sysfs file belongs
 * is never opened. */
static int read_text(struct nvb_sysfs_reader *r, const char *path, char *buf)
{
	struct nvb_error ignored;
	struct stat before, after;
	_cleanup_free_ char *resolved = NULL;
	_cleanup_close_ int pfd = nvb_host_resolve(r->host, path, 0, &resolved, &ignored);
	if (pfd < 0 || fstat(pfd, &before) < 0)
		return ABSENT;
	if (!S_ISREG(before.st_mode))
		return malformed(r, path, "is not a regular file");
	_cleanup_close_ int fd = nvb_host_open_file(r->host, resolved,
						    O_RDONLY | O_NONBLOCK | O_NOCTTY | O_NOFOLLOW,
						    NULL, &ignored);
	if (fd < 0 || fstat(fd, &after) < 0 || after.st_ino != before.st_ino ||
	    after.st_dev != before.st_dev)
		return ABSENT;
	size_t len = 0;
	for (;;) {
		ssize_t n = read(fd, buf + len, VALUE_MAX + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return ABSENT; /* EIO, EBUSY: a GPU in reset or asleep answers nothing */
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > VALUE_MAX)
			return malformed(r, path, "is longer than 64 bytes");
	}
	buf[len] = '\0';
	if (strlen(buf) != len)
		return malformed(r, path, "holds a NUL byte");
	return GOOD;
}

/* The number in dir/rel, within [min, max]. */
static int read_number(struct nvb_sysfs_reader *r, const char *dir, const char *rel,
		       long long min, long long max, long long *out)
{
	_cleanup_free_ char *path = nvb_asprintf("%s/%s", dir, rel);
	char buf[VALUE_MAX + 1];
	if (!path)
		return ABSENT;
	int got = read_text(r, path, buf);
	if (got != GOOD)
		return got;
	if (nvb_sysfs_parse(buf, min, max, out) < 0) {
		char why[64];
		snprintf(why, sizeof(why), "is not a number from %lld to %lld", min, max);
		return malformed(r, path, why);
	}
	return GOOD;
}

static bool read_u64(struct nvb_sysfs_reader *r, const char *dir, const char *rel,
		     long long max, unsigned long long *out)
{
	long long v;
	if (read_number(r, dir, rel, 0, max, &v) != GOOD)
		return false;
	*out = (unsigned long long)v;
	return true;
}

static bool read_percent(struct nvb_sysfs_reader *r, const char *dir, const char *rel,
			 unsigned *out)
{
	long long v;
	if (read_number(r, dir, rel, 0, 100, &v) != GOOD)
		return false;
	*out = (unsigned)v;
	return true;
}

/* dir/sub/<prefix><N> with the lowest N (hwmon/hwmon3, drm/card1), as a path; NULL when none. */
static char *lowest_child(struct nvb_sysfs_reader *r, const char *dir, const char *sub,
			  const char *prefix)
{
	struct nvb_error ignored;
	_cleanup_free_ char *parent = nvb_asprintf("%s/%s", dir, sub);
	int fd = parent ? nvb_host_open_file(r->host, parent, O_RDONLY | O_DIRECTORY, NULL, &ignored)
			: -1;
	_cleanup_closedir_ DIR *d = fd < 0 ? NULL : nvb_fdopendir(fd);
	if (!d)
		return NULL;
	size_t plen = strlen(prefix);
	long long best = -1;
	NVB_DIR_FOREACH(de, d) {
		const char *num = de->d_name + plen;
		long long n;
		/* digits only: "hwmon3 " or "card1-DP-1" (a connector) are not the device */
		if (strncmp(de->d_name, prefix, plen) != 0 || strspn(num, "0123456789") != strlen(num) ||
		    nvb_sysfs_parse(num, 0, INT_MAX, &n) < 0)
			continue;
		if (best < 0 || n < best)
			best = n;
	}
	return best < 0 ? NULL : nvb_asprintf("%s/%s%lld", parent, prefix, best);
}

/* The first temperature channel the hwmon device has (temp1 when there is one: amdgpu's edge;
 * MI300 has no edge sensor and xe numbers its package sensor 2). A malformed first channel
 * leaves the metric out rather than showing another sensor under the same name. */
static void read_temp(struct nvb_sysfs_reader *r, const char *hwmon, struct nvb_sysfs_sample *s)
{
	for (int k = 1; k <= SENSORS_MAX; k++) {
		char rel[32];
		snprintf(rel, sizeof(rel), "temp%d_input", k);
		int got = read_number(r, hwmon, rel, -273150, 1000000, &s->temp_millic);
		if (got == ABSENT)
			continue;
		s->has_temp = got == GOOD;
		return;
	}
}

/* The file rel, or when it is missing (not when malformed) fallback. */
static bool read_either(struct nvb_sysfs_reader *r, const char *dir, const char *rel,
			const char *fallback, long long max, unsigned long long *out)
{
	long long v;
	int got = read_number(r, dir, rel, 0, max, &v);
	if (got == ABSENT && fallback)
		got = read_number(r, dir, fallback, 0, max, &v);
	if (got != GOOD)
		return false;
	*out = (unsigned long long)v;
	return true;
}

#define VRAM_MAX (1LL << 50)             /* 1 PiB */
#define POWER_MAX_UW 100000000000LL      /* 100 kW */
#define CLOCK_MAX_HZ 100000000000LL      /* 100 GHz */
#define CLOCK_MAX_MHZ 100000LL

static void read_amd(struct nvb_sysfs_reader *r, const char *dir, struct nvb_sysfs_sample *s)
{
	s->has_util = read_percent(r, dir, "gpu_busy_percent", &s->util);
	s->has_mem_util = read_percent(r, dir, "mem_busy_percent", &s->mem_util);
	/* both read (and a malformed one logged) even when the other is missing */
	bool used = read_u64(r, dir, "mem_info_vram_used", VRAM_MAX, &s->vram_used);
	bool total = read_u64(r, dir, "mem_info_vram_total", VRAM_MAX, &s->vram_total);
	s->has_vram = used && total;
	_cleanup_free_ char *hwmon = lowest_child(r, dir, "hwmon", "hwmon");
	if (!hwmon)
		return;
	read_temp(r, hwmon, s);
	/* power1_average until the kernels that report power1_input instead (RDNA3, 6.x) */
	s->has_power = read_either(r, hwmon, "power1_average", "power1_input", POWER_MAX_UW,
				   &s->power_uw);
	s->has_clock = read_u64(r, hwmon, "freq1_input", CLOCK_MAX_HZ, &s->clock_hz);
}

static void read_intel(struct nvb_sysfs_reader *r, const char *dir, bool xe,
		       struct nvb_sysfs_sample *s)
{
	unsigned long long mhz = 0;
	if (xe) {
		s->has_clock = read_u64(r, dir, "tile0/gt0/freq0/act_freq", CLOCK_MAX_MHZ, &mhz);
	} else {
		/* drm/card<N>: the card, not its connectors (card1-DP-1) */
		_cleanup_free_ char *card = lowest_child(r, dir, "drm", "card");
		s->has_clock = card && read_u64(r, card, "gt_act_freq_mhz", CLOCK_MAX_MHZ, &mhz);
	}
	s->clock_hz = mhz * 1000000ULL;
	_cleanup_free_ char *hwmon = lowest_child(r, dir, "hwmon", "hwmon");
	if (!hwmon)
		return;
	read_temp(r, hwmon, s);
	/* xe: energy1 is the card, energy2 the package; some GPUs have only the package's */
	s->has_energy = read_either(r, hwmon, "energy1_input", xe ? "energy2_input" : NULL,
				    LLONG_MAX, &s->energy_uj);
}

void nvb_sysfs_read_gpu(struct nvb_sysfs_reader *r, const struct nvb_gpu *gpu,
			struct nvb_sysfs_sample *out)
{
	memset(out, 0, sizeof(*out));
	char bdf[32];
	const char *drv = gpu->kernel_driver ? gpu->kernel_driver : "";
	if (!gpu->pci_bus_id || nvb_pci_bus_id_normalize(gpu->pci_bus_id, bdf, sizeof(bdf)) < 0)
		return;
	char dir[64];
	snprintf(dir, sizeof(dir), "/sys/bus/pci/devices/%s", bdf);
	if (gpu->vendor == NVB_VENDOR_AMD && !strcmp(drv, "amdgpu"))
		read_amd(r, dir, out);
	else if (gpu->vendor == NVB_VENDOR_INTEL && (!strcmp(drv, "i915") || !strcmp(drv, "xe")))
		read_intel(r, dir, !strcmp(drv, "xe"), out);
}

/* An AMD partition after the first of its PCI device: the device's values are shown once. */
static bool later_partition(const struct nvb_inventory *inv, size_t i)
{
	const struct nvb_gpu *g = &inv->gpus[i];
	for (size_t j = 0; g->pci_bus_id && j < i; j++)
		if (inv->gpus[j].pci_bus_id && !strcmp(inv->gpus[j].pci_bus_id, g->pci_bus_id))
			return true;
	return false;
}

struct nvb_sysfs_sample *nvb_sysfs_collect(struct nvb_sysfs_reader *r,
					   const struct nvb_inventory *chain, size_t *n)
{
	size_t total = 0;
	*n = 0;
	for (const struct nvb_inventory *inv = chain; inv; inv = inv->next)
		total += inv->n_gpus;
	struct nvb_sysfs_sample *out = total ? calloc(total, sizeof(*out)) : NULL;
	if (!out)
		return NULL;
	size_t k = 0;
	for (const struct nvb_inventory *inv = chain; inv; inv = inv->next)
		for (size_t i = 0; i < inv->n_gpus; i++, k++)
			if (inv->gpus[i].vendor != NVB_VENDOR_NVIDIA && !later_partition(inv, i))
				nvb_sysfs_read_gpu(r, &inv->gpus[i], &out[k]);
	*n = total;
	return out;
}
