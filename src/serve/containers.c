/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The wrapper's side of /metrics: which container holds which GPU (the container records of
 * nvbind-runtime) and its counters (creates, failures by reason, the latency it adds), read
 * through src/oci/records.h only.
 */
#include "oci/records.h"
#include "serve/serve.h"

static void family(struct nvb_strbuf *b, const char *name, const char *type, const char *help)
{
	nvb_strbuf_appendf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Record fields are checked by the reader ([A-Za-z0-9_.-] ids) but engines and UUIDs come
 * from a file: escape them like any label value. */
static void label(struct nvb_strbuf *b, const char *name, const char *v, bool last)
{
	nvb_strbuf_appendf(b, "%s=\"", name);
	for (const char *p = v ? v : ""; *p; p++) {
		if (*p == '\\' || *p == '"')
			nvb_strbuf_appendc(b, '\\');
		if (*p == '\n')
			nvb_strbuf_append(b, "\\n");
		else
			nvb_strbuf_appendc(b, *p);
	}
	nvb_strbuf_append(b, last ? "\"" : "\",");
}

static void records(struct nvb_strbuf *b, const char *state_dir)
{
	struct nvb_container_record *recs = NULL;
	size_t n = 0, stale = 0;
	struct nvb_error err;
	if (nvb_records_list(state_dir, &recs, &n, &err) < 0) {
		nvb_warn("serve", "container records of %s: %s", state_dir, err.message);
		n = 0;
	}
	family(b, "nvbind_container_gpu_info", "gauge",
	       "One series per GPU given to a running container by nvbind-runtime; the value is 1");
	for (size_t i = 0; i < n; i++) {
		stale += recs[i].stale;
		for (size_t g = 0; !recs[i].stale && g < recs[i].n_gpus; g++) {
			nvb_strbuf_append(b, "nvbind_container_gpu_info{");
			label(b, "container_id", recs[i].id, false);
			label(b, "gpu_uuid", recs[i].gpus[g], false);
			label(b, "engine", recs[i].engine, true);
			nvb_strbuf_append(b, "} 1\n");
		}
	}
	family(b, "nvbind_container_records", "gauge",
	       "Container records of nvbind-runtime; stale: the low-level runtime no longer knows "
	       "the container");
	nvb_strbuf_appendf(b, "nvbind_container_records{state=\"active\"} %zu\n", n - stale);
	nvb_strbuf_appendf(b, "nvbind_container_records{state=\"stale\"} %zu\n", stale);
	nvb_records_free(recs, n);
}

static void counters(struct nvb_strbuf *b, const char *state_dir)
{
	struct nvb_stats st;
	struct nvb_error err;
	if (nvb_stats_read(state_dir, &st, &err) < 0) {
		nvb_warn("serve", "wrapper counters of %s: %s", state_dir, err.message);
		return;
	}
	family(b, "nvbind_runtime_creates_total", "counter",
	       "Container creates nvbind-runtime handled (failed or not)");
	nvb_strbuf_appendf(b, "nvbind_runtime_creates_total %llu\n", (unsigned long long)st.creates);
	family(b, "nvbind_runtime_failures_total", "counter",
	       "Container creates nvbind-runtime failed, by error code");
	for (size_t i = 0; i < st.n_failure; i++) {
		nvb_strbuf_append(b, "nvbind_runtime_failures_total{");
		label(b, "reason", st.failure[i].reason, true);
		nvb_strbuf_appendf(b, "} %llu\n", (unsigned long long)st.failure[i].count);
	}
	const char *h = "nvbind_runtime_added_latency_seconds";
	family(b, h, "histogram", "Time nvbind-runtime added before it started the low-level runtime");
	for (size_t i = 0; i < NVB_STATS_N_BOUNDS; i++)
		nvb_strbuf_appendf(b, "%s_bucket{le=\"%g\"} %llu\n", h, st.le[i],
				   (unsigned long long)st.buckets[i]);
	nvb_strbuf_appendf(b, "%s_bucket{le=\"+Inf\"} %llu\n", h,
			   (unsigned long long)st.latency_count);
	nvb_strbuf_appendf(b, "%s_sum %.9g\n", h, st.latency_sum);
	nvb_strbuf_appendf(b, "%s_count %llu\n", h, (unsigned long long)st.latency_count);
}

void nvb_metrics_containers(struct nvb_strbuf *b, const char *state_dir)
{
	records(b, state_dir);
	counters(b, state_dir);
}
