/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What nvbind serve shows: the Prometheus text format 0.0.4 (/metrics), every family with its
 * HELP and TYPE lines, names with the nvbind_ prefix and base units (bytes, seconds, watts,
 * hertz, ratios), counters ending in _total; and the /readyz JSON body.
 */
#include <jansson.h>
#include <math.h>

#include "serve/serve.h"

static const char *vendor_name(enum nvb_vendor v)
{
	switch (v) {
	case NVB_VENDOR_NVIDIA:
		return "nvidia";
	case NVB_VENDOR_AMD:
		return "amd";
	case NVB_VENDOR_INTEL:
		return "intel";
	}
	return "unknown";
}

/* A label value: backslash, double quote and newline escaped (the text format's rule). */
static void label_value(struct nvb_strbuf *b, const char *v)
{
	for (const char *p = v ? v : ""; *p; p++) {
		if (*p == '\\' || *p == '"')
			nvb_strbuf_appendc(b, '\\');
		if (*p == '\n') {
			nvb_strbuf_append(b, "\\n");
			continue;
		}
		nvb_strbuf_appendc(b, *p);
	}
}

static void family(struct nvb_strbuf *b, const char *name, const char *type, const char *help)
{
	nvb_strbuf_appendf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* name{LABELS} value; labels is text already escaped, may be empty */
static void series(struct nvb_strbuf *b, const char *name, const char *labels, double value)
{
	nvb_strbuf_append(b, name);
	if (labels && labels[0])
		nvb_strbuf_appendf(b, "{%s}", labels);
	if (value == floor(value) && fabs(value) < 1e15)
		nvb_strbuf_appendf(b, " %.0f\n", value);
	else
		nvb_strbuf_appendf(b, " %.15g\n", value);
}

/* One GPU of the inventory chain as the metrics show it: its labels and the values of the
 * vendor's source (NVML for NVIDIA, sysfs for AMD and Intel). */
enum { V_UTIL, V_MEM_UTIL, V_USED, V_TOTAL, V_TEMP, V_POWER, V_CLOCK, V_ENERGY, V_N };

struct row {
	const struct nvb_gpu *gpu;
	char *labels;
	const struct nvb_gpu_sample *nvml; /* NULL: NVML did not list it, or not NVIDIA */
	bool has[V_N];
	double v[V_N];
};

/* The labels of one GPU: gpu (index among the GPUs of its vendor), uuid (NVIDIA's GPU-...;
 * for AMD and Intel the id CDI names them by, when there is one), vendor, model. */
static char *gpu_labels(const struct nvb_gpu *g, const struct nvb_gpu_extra *x)
{
	const char *uuid = g->uuid ? g->uuid : x ? x->cdi_id : NULL;
	struct nvb_strbuf b = {0};
	nvb_strbuf_appendf(&b, "gpu=\"%u\",uuid=\"", g->index);
	label_value(&b, uuid);
	nvb_strbuf_appendf(&b, "\",vendor=\"%s\",model=\"", vendor_name(g->vendor));
	label_value(&b, g->name);
	nvb_strbuf_appendc(&b, '"');
	return nvb_strbuf_take(&b);
}

static const struct nvb_gpu_sample *sample_of(const struct nvb_sample *s, const char *uuid)
{
	for (size_t i = 0; uuid && s->valid && i < s->n_gpus; i++)
		if (!strcmp(s->gpus[i].uuid, uuid))
			return &s->gpus[i];
	return NULL;
}

static void set(struct row *r, int k, bool has, double v)
{
	r->has[k] = has;
	r->v[k] = v;
}

static void from_nvml(struct row *r, const struct nvb_gpu_sample *g)
{
	set(r, V_UTIL, g->has_util, g->util_gpu / 100.0);
	set(r, V_MEM_UTIL, g->has_util, g->util_memory / 100.0);
	set(r, V_USED, g->has_memory, (double)g->memory_used);
	set(r, V_TOTAL, g->has_memory, (double)g->memory_total);
	set(r, V_TEMP, g->has_temp, g->temp_c);
	set(r, V_POWER, g->has_power, g->power_mw / 1000.0);
	set(r, V_CLOCK, g->has_clock, g->sm_clock_mhz * 1e6);
}

static void from_sysfs(struct row *r, const struct nvb_sysfs_sample *s)
{
	set(r, V_UTIL, s->has_util, s->util / 100.0);
	set(r, V_MEM_UTIL, s->has_mem_util, s->mem_util / 100.0);
	set(r, V_USED, s->has_vram, (double)s->vram_used);
	set(r, V_TOTAL, s->has_vram, (double)s->vram_total);
	set(r, V_TEMP, s->has_temp, (double)s->temp_millic / 1000.0);
	set(r, V_POWER, s->has_power, (double)s->power_uw / 1e6);
	set(r, V_CLOCK, s->has_clock, (double)s->clock_hz);
	set(r, V_ENERGY, s->has_energy, (double)s->energy_uj / 1e6);
}

/* The per-GPU families of one value each. */
static const struct {
	const char *name, *type, *help;
} families[V_N] = {
	[V_UTIL] = {"nvbind_gpu_utilization_ratio", "gauge",
		    "Fraction of the last sample period in which the GPU was busy (NVML, amdgpu "
		    "gpu_busy_percent)"},
	[V_MEM_UTIL] = {"nvbind_gpu_memory_utilization_ratio", "gauge",
			"Fraction of the last sample period in which device memory was read or "
			"written (NVML, amdgpu mem_busy_percent)"},
	[V_USED] = {"nvbind_gpu_memory_used_bytes", "gauge",
		    "Device memory in use (NVML, amdgpu mem_info_vram_used)"},
	[V_TOTAL] = {"nvbind_gpu_memory_total_bytes", "gauge",
		     "Device memory installed (NVML, amdgpu mem_info_vram_total)"},
	[V_TEMP] = {"nvbind_gpu_temperature_celsius", "gauge",
		    "GPU temperature (NVML core; hwmon's first temperature channel)"},
	[V_POWER] = {"nvbind_gpu_power_watts", "gauge",
		     "Power drawn by the board (NVML, amdgpu hwmon power1_average or power1_input)"},
	[V_CLOCK] = {"nvbind_gpu_sm_clock_hertz", "gauge",
		     "Current shader clock (NVML SM clock, amdgpu sclk, Intel GT actual frequency)"},
	[V_ENERGY] = {"nvbind_gpu_energy_joules_total", "counter",
		      "Energy used since the driver loaded (Intel hwmon energy1_input)"},
};

static void gpu_values(struct nvb_strbuf *b, const struct row *rows, size_t n)
{
	for (size_t k = 0; k < V_N; k++) {
		family(b, families[k].name, families[k].type, families[k].help);
		for (size_t i = 0; i < n; i++)
			if (rows[i].has[k])
				series(b, families[k].name, rows[i].labels, rows[i].v[k]);
	}
}

/* nvmlClocksEventReasons bits (nvml.h) */
static const struct {
	unsigned long long bit;
	const char *name;
} reasons[] = {
	{0x1, "gpu_idle"},
	{0x2, "applications_clocks_setting"},
	{0x4, "sw_power_cap"},
	{0x8, "hw_slowdown"},
	{0x10, "sync_boost"},
	{0x20, "sw_thermal_slowdown"},
	{0x40, "hw_thermal_slowdown"},
	{0x80, "hw_power_brake_slowdown"},
	{0x100, "display_clock_setting"},
};

/* NVML's counters and flags with a label of their own beside the GPU's (NVIDIA only). */
static void gpu_labelled(struct nvb_strbuf *b, const struct row *rows, size_t n,
			 const struct nvb_sample *s)
{
	char l[1024];
	family(b, "nvbind_gpu_ecc_errors_total", "counter",
	       "ECC errors over the life of the board (aggregate counts, NVML)");
	for (size_t i = 0; i < n; i++) {
		const struct nvb_gpu_sample *g = rows[i].nvml;
		if (!g || !g->has_ecc)
			continue;
		snprintf(l, sizeof(l), "%s,type=\"corrected\"", rows[i].labels);
		series(b, "nvbind_gpu_ecc_errors_total", l, (double)g->ecc_corrected);
		snprintf(l, sizeof(l), "%s,type=\"uncorrected\"", rows[i].labels);
		series(b, "nvbind_gpu_ecc_errors_total", l, (double)g->ecc_uncorrected);
	}
	family(b, "nvbind_gpu_retired_pages_total", "counter",
	       "Device memory pages retired, by cause (NVML)");
	for (size_t i = 0; i < n; i++) {
		const struct nvb_gpu_sample *g = rows[i].nvml;
		if (!g || !g->has_retired)
			continue;
		snprintf(l, sizeof(l), "%s,cause=\"single_bit\"", rows[i].labels);
		series(b, "nvbind_gpu_retired_pages_total", l, g->retired_sbe);
		snprintf(l, sizeof(l), "%s,cause=\"double_bit\"", rows[i].labels);
		series(b, "nvbind_gpu_retired_pages_total", l, g->retired_dbe);
	}
	family(b, "nvbind_gpu_throttle_reason", "gauge",
	       "1 while the reason holds the clocks down, else 0 (NVML clocks event reasons)");
	for (size_t i = 0; i < n; i++) {
		const struct nvb_gpu_sample *g = rows[i].nvml;
		for (size_t r = 0; g && g->has_throttle && r < NVB_ARRAY_SIZE(reasons); r++) {
			snprintf(l, sizeof(l), "%s,reason=\"%s\"", rows[i].labels, reasons[r].name);
			series(b, "nvbind_gpu_throttle_reason", l, (g->throttle & reasons[r].bit) != 0);
		}
	}
	family(b, "nvbind_gpu_sample_age_seconds", "gauge",
	       "Age of the NVML values shown for the GPU: the last good sample when NVML missed the "
	       "deadline");
	for (size_t i = 0; i < n; i++)
		if (rows[i].nvml)
			series(b, "nvbind_gpu_sample_age_seconds", rows[i].labels,
			       nvb_seconds_since(&s->taken));
}

/* The rows of every GPU of the chain, in chain order (NVIDIA, AMD, Intel); sysfs[k] belongs
 * to the k-th. NULL when out of memory. */
static struct row *gpu_rows(const struct nvb_inventory *chain, const struct nvb_sample *s,
			    const struct nvb_sysfs_sample *sysfs, size_t n_sysfs, size_t *n)
{
	size_t total = 0, k = 0;
	for (const struct nvb_inventory *inv = chain; inv; inv = inv->next)
		total += inv->n_gpus;
	*n = total;
	struct row *rows = calloc(total + 1, sizeof(*rows));
	if (!rows)
		return NULL;
	for (const struct nvb_inventory *inv = chain; inv; inv = inv->next) {
		for (size_t i = 0; i < inv->n_gpus; i++, k++) {
			struct row *r = &rows[k];
			r->gpu = &inv->gpus[i];
			r->labels = gpu_labels(r->gpu, i < inv->n_gpu_extra ? &inv->gpu_extra[i] : NULL);
			if (!r->labels) {
				*n = k;
				return rows;
			}
			if (r->gpu->vendor == NVB_VENDOR_NVIDIA && (r->nvml = sample_of(s, r->gpu->uuid)))
				from_nvml(r, r->nvml);
			else if (r->gpu->vendor != NVB_VENDOR_NVIDIA && k < n_sysfs)
				from_sysfs(r, &sysfs[k]);
		}
	}
	return rows;
}

static void gpus(struct nvb_strbuf *b, const struct nvb_inventory *chain, const struct nvb_sample *s,
		 const struct nvb_sysfs_sample *sysfs, size_t n_sysfs)
{
	size_t n = 0, total = 0;
	for (const struct nvb_inventory *inv = chain; inv; inv = inv->next)
		total += inv->n_gpus;
	family(b, "nvbind_gpus", "gauge", "GPUs found under the host root, of every vendor");
	series(b, "nvbind_gpus", NULL, (double)total);
	struct row *rows = gpu_rows(chain, s, sysfs, n_sysfs, &n);
	if (!rows)
		return;
	family(b, "nvbind_gpu_info", "gauge", "One series per GPU naming it; the value is 1");
	for (size_t i = 0; i < n; i++)
		series(b, "nvbind_gpu_info", rows[i].labels, 1);
	if (n == total) {
		gpu_values(b, rows, n);
		gpu_labelled(b, rows, n, s);
	}
	for (size_t i = 0; i < n; i++)
		free(rows[i].labels);
	free(rows);
}

/* nvbind_driver_info: the loaded driver of each vendor (NVIDIA's version and kernel module
 * flavour; amdgpu's module version; Intel's drivers have no version of their own). */
static void drivers(struct nvb_strbuf *b, const struct nvb_inventory *chain)
{
	family(b, "nvbind_driver_info", "gauge", "The loaded driver of a vendor; the value is 1");
	for (const struct nvb_inventory *inv = chain; inv; inv = inv->next) {
		const struct nvb_driver *d = &inv->driver;
		if (!d->version)
			continue;
		struct nvb_strbuf l = {0};
		nvb_strbuf_append(&l, "version=\"");
		label_value(&l, d->version);
		nvb_strbuf_append(&l, "\",kernel_module=\"");
		label_value(&l, d->kernel_module);
		nvb_strbuf_appendf(&l, "\",vendor=\"%s\"", vendor_name(d->vendor));
		_cleanup_free_ char *text = nvb_strbuf_take(&l);
		if (text)
			series(b, "nvbind_driver_info", text, 1);
	}
}

static void driver_and_spec(struct nvb_strbuf *b, const struct nvb_host_state *st)
{
	drivers(b, st->inv);
	family(b, "nvbind_cdi_spec_installed", "gauge",
	       "1 when a CDI spec of the configured kind is installed");
	series(b, "nvbind_cdi_spec_installed", NULL, st->spec_found);
	family(b, "nvbind_cdi_spec_stale", "gauge",
	       "1 when an installed spec no longer matches the host: driver version, files, device "
	       "nodes or GPUs (nvbind doctor's cdi-spec-stale)");
	series(b, "nvbind_cdi_spec_stale", NULL, st->spec_stale);
	family(b, "nvbind_cdi_spec_invalid", "gauge",
	       "1 when a spec file in a spec directory does not validate");
	series(b, "nvbind_cdi_spec_invalid", NULL, st->spec_invalid);
	family(b, "nvbind_cdi_spec_age_seconds", "gauge",
	       "Time since the configured spec output (cdi.output) was written");
	if (st->spec_mtime >= 0) {
		struct timespec now;
		clock_gettime(CLOCK_REALTIME, &now);
		double age = (double)now.tv_sec + (double)now.tv_nsec / 1e9 - st->spec_mtime;
		series(b, "nvbind_cdi_spec_age_seconds", NULL, age > 0 ? age : 0);
	}
}

char *nvb_metrics_render(const struct nvb_host_state *st, const struct nvb_sample *s, bool fresh,
			 const struct nvb_sysfs_sample *sysfs, size_t n_sysfs, double scrape_seconds,
			 const char *state_dir)
{
	struct nvb_strbuf b = {0};
	family(&b, "nvbind_up", "gauge", "1: nvbind serve answered this scrape");
	series(&b, "nvbind_up", NULL, 1);
	family(&b, "nvbind_nvml_up", "gauge", "1 when NVML answered this scrape within the deadline");
	series(&b, "nvbind_nvml_up", NULL, fresh);
	driver_and_spec(&b, st);
	gpus(&b, st->inv, s, sysfs, n_sysfs);
	nvb_metrics_containers(&b, state_dir);
	family(&b, "nvbind_scrape_duration_seconds", "gauge",
	       "Wall time of the previous scrape, NVML wait included");
	series(&b, "nvbind_scrape_duration_seconds", NULL, scrape_seconds);
	return nvb_strbuf_take(&b);
}

static int add_check(json_t *arr, const char *name, bool ok, const char *message)
{
	return json_array_append_new(arr, json_pack("{s:s, s:b, s:s}", "name", name, "ok", ok,
						    "message", message));
}

char *nvb_ready_render(const struct nvb_host_state *st, bool nvml_fresh, const char *nvml_why,
		       bool *ready)
{
	const struct nvb_driver *d = &st->inv->driver;
	char driver_msg[256];
	if (d->version)
		snprintf(driver_msg, sizeof(driver_msg), "driver %s is loaded", d->version);
	else
		snprintf(driver_msg, sizeof(driver_msg), "no NVIDIA driver is loaded "
			 "(/proc/driver/nvidia/version is missing)");
	bool spec_ok = st->spec_found && !st->spec_stale && !st->spec_invalid;
	json_t *arr = json_array();
	if (!arr)
		return NULL;
	add_check(arr, "driver", d->version != NULL, driver_msg);
	add_check(arr, "device_nodes", st->nodes_ok, st->nodes_message);
	add_check(arr, "cdi_spec", spec_ok, st->spec_message);
	add_check(arr, "nvml", nvml_fresh, nvml_fresh ? "NVML answered within the deadline" : nvml_why);
	*ready = d->version && st->nodes_ok && spec_ok && nvml_fresh;
	json_t *root = json_pack("{s:b, s:o}", "ready", *ready, "checks", arr);
	char *text = root ? json_dumps(root, JSON_INDENT(2)) : NULL;
	json_decref(root);
	return text;
}
