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
		nvb_strbuf_appendf(b, " %.9g\n", value);
}

/* The labels of one GPU: gpu (index), uuid, vendor, model. */
static char *gpu_labels(const struct nvb_gpu *g)
{
	struct nvb_strbuf b = {0};
	nvb_strbuf_appendf(&b, "gpu=\"%u\",uuid=\"", g->index);
	label_value(&b, g->uuid);
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

/* The per-GPU gauges of one NVML value each. */
struct gauge {
	const char *name, *help;
	bool (*get)(const struct nvb_gpu_sample *g, double *v);
};

static bool get_util(const struct nvb_gpu_sample *g, double *v)
{
	*v = g->util_gpu / 100.0;
	return g->has_util;
}
static bool get_mem_util(const struct nvb_gpu_sample *g, double *v)
{
	*v = g->util_memory / 100.0;
	return g->has_util;
}
static bool get_used(const struct nvb_gpu_sample *g, double *v)
{
	*v = (double)g->memory_used;
	return g->has_memory;
}
static bool get_total(const struct nvb_gpu_sample *g, double *v)
{
	*v = (double)g->memory_total;
	return g->has_memory;
}
static bool get_temp(const struct nvb_gpu_sample *g, double *v)
{
	*v = g->temp_c;
	return g->has_temp;
}
static bool get_power(const struct nvb_gpu_sample *g, double *v)
{
	*v = g->power_mw / 1000.0;
	return g->has_power;
}
static bool get_clock(const struct nvb_gpu_sample *g, double *v)
{
	*v = g->sm_clock_mhz * 1e6;
	return g->has_clock;
}

static const struct gauge gauges[] = {
	{"nvbind_gpu_utilization_ratio",
	 "Fraction of the last sample period in which a kernel ran on the GPU (NVML)", get_util},
	{"nvbind_gpu_memory_utilization_ratio",
	 "Fraction of the last sample period in which device memory was read or written (NVML)",
	 get_mem_util},
	{"nvbind_gpu_memory_used_bytes", "Device memory in use (NVML)", get_used},
	{"nvbind_gpu_memory_total_bytes", "Device memory installed (NVML)", get_total},
	{"nvbind_gpu_temperature_celsius", "GPU core temperature (NVML)", get_temp},
	{"nvbind_gpu_power_watts", "Power drawn by the board (NVML)", get_power},
	{"nvbind_gpu_sm_clock_hertz", "Current SM clock (NVML)", get_clock},
};

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

static void gpu_gauges(struct nvb_strbuf *b, const struct nvb_inventory *inv, char **labels,
		       const struct nvb_sample *s)
{
	for (size_t k = 0; k < NVB_ARRAY_SIZE(gauges); k++) {
		family(b, gauges[k].name, "gauge", gauges[k].help);
		for (size_t i = 0; i < inv->n_gpus; i++) {
			const struct nvb_gpu_sample *g = sample_of(s, inv->gpus[i].uuid);
			double v;
			if (g && gauges[k].get(g, &v))
				series(b, gauges[k].name, labels[i], v);
		}
	}
}

/* Counters and flags with a label of their own beside the GPU's. */
static void gpu_labelled(struct nvb_strbuf *b, const struct nvb_inventory *inv, char **labels,
			 const struct nvb_sample *s)
{
	char l[1024];
	family(b, "nvbind_gpu_ecc_errors_total", "counter",
	       "ECC errors over the life of the board (aggregate counts, NVML)");
	for (size_t i = 0; i < inv->n_gpus; i++) {
		const struct nvb_gpu_sample *g = sample_of(s, inv->gpus[i].uuid);
		if (!g || !g->has_ecc)
			continue;
		snprintf(l, sizeof(l), "%s,type=\"corrected\"", labels[i]);
		series(b, "nvbind_gpu_ecc_errors_total", l, (double)g->ecc_corrected);
		snprintf(l, sizeof(l), "%s,type=\"uncorrected\"", labels[i]);
		series(b, "nvbind_gpu_ecc_errors_total", l, (double)g->ecc_uncorrected);
	}
	family(b, "nvbind_gpu_retired_pages_total", "counter",
	       "Device memory pages retired, by cause (NVML)");
	for (size_t i = 0; i < inv->n_gpus; i++) {
		const struct nvb_gpu_sample *g = sample_of(s, inv->gpus[i].uuid);
		if (!g || !g->has_retired)
			continue;
		snprintf(l, sizeof(l), "%s,cause=\"single_bit\"", labels[i]);
		series(b, "nvbind_gpu_retired_pages_total", l, g->retired_sbe);
		snprintf(l, sizeof(l), "%s,cause=\"double_bit\"", labels[i]);
		series(b, "nvbind_gpu_retired_pages_total", l, g->retired_dbe);
	}
	family(b, "nvbind_gpu_throttle_reason", "gauge",
	       "1 while the reason holds the clocks down, else 0 (NVML clocks event reasons)");
	for (size_t i = 0; i < inv->n_gpus; i++) {
		const struct nvb_gpu_sample *g = sample_of(s, inv->gpus[i].uuid);
		for (size_t r = 0; g && g->has_throttle && r < NVB_ARRAY_SIZE(reasons); r++) {
			snprintf(l, sizeof(l), "%s,reason=\"%s\"", labels[i], reasons[r].name);
			series(b, "nvbind_gpu_throttle_reason", l, (g->throttle & reasons[r].bit) != 0);
		}
	}
	family(b, "nvbind_gpu_sample_age_seconds", "gauge",
	       "Age of the NVML values shown for the GPU: the last good sample when NVML missed the "
	       "deadline");
	for (size_t i = 0; i < inv->n_gpus; i++)
		if (sample_of(s, inv->gpus[i].uuid))
			series(b, "nvbind_gpu_sample_age_seconds", labels[i],
			       nvb_seconds_since(&s->taken));
}

static void gpus(struct nvb_strbuf *b, const struct nvb_inventory *inv, const struct nvb_sample *s)
{
	family(b, "nvbind_gpus", "gauge", "GPUs found under the host root");
	series(b, "nvbind_gpus", NULL, (double)inv->n_gpus);
	char **labels = calloc(inv->n_gpus + 1, sizeof(*labels));
	if (!labels)
		return;
	family(b, "nvbind_gpu_info", "gauge", "One series per GPU naming it; the value is 1");
	for (size_t i = 0; i < inv->n_gpus; i++)
		if ((labels[i] = gpu_labels(&inv->gpus[i])))
			series(b, "nvbind_gpu_info", labels[i], 1);
	bool all = true;
	for (size_t i = 0; i < inv->n_gpus; i++)
		all &= labels[i] != NULL;
	if (all) {
		gpu_gauges(b, inv, labels, s);
		gpu_labelled(b, inv, labels, s);
	}
	for (size_t i = 0; i < inv->n_gpus; i++)
		free(labels[i]);
	free(labels);
}

static void driver_and_spec(struct nvb_strbuf *b, const struct nvb_host_state *st)
{
	const struct nvb_driver *d = &st->inv->driver;
	family(b, "nvbind_driver_info", "gauge", "The loaded driver; the value is 1");
	if (d->version) {
		struct nvb_strbuf l = {0};
		nvb_strbuf_append(&l, "version=\"");
		label_value(&l, d->version);
		nvb_strbuf_append(&l, "\",kernel_module=\"");
		label_value(&l, d->kernel_module);
		nvb_strbuf_appendc(&l, '"');
		_cleanup_free_ char *text = nvb_strbuf_take(&l);
		if (text)
			series(b, "nvbind_driver_info", text, 1);
	}
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
			 double scrape_seconds, const char *state_dir)
{
	struct nvb_strbuf b = {0};
	family(&b, "nvbind_up", "gauge", "1: nvbind serve answered this scrape");
	series(&b, "nvbind_up", NULL, 1);
	family(&b, "nvbind_nvml_up", "gauge", "1 when NVML answered this scrape within the deadline");
	series(&b, "nvbind_nvml_up", NULL, fresh);
	driver_and_spec(&b, st);
	gpus(&b, st->inv, s);
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
