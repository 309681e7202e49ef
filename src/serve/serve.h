/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nvbind serve: a small daemon that answers Prometheus scrapes (/metrics) and health probes
 * (/healthz, /readyz) over loopback TCP and/or a Unix socket (docs/serve.md).
 *
 * Three parts: the NVML sampler (sampler.c), a worker thread that alone calls NVML so that a
 * hung driver never holds a scrape longer than the deadline; the host state (state.c): the
 * inventory, the CDI spec's freshness and the readiness checks, read through the host root;
 * the AMD and Intel GPUs' values from sysfs (sysfs.c), read on each scrape; and the text they
 * are shown as (metrics.c) behind the HTTP server (http.c).
 */
#ifndef NVB_SERVE_H
#define NVB_SERVE_H

#include <pthread.h>
#include <time.h>

#include "core/core.h"

struct nvb_config;

/* ------------------------------------------------------------------ sampler */

/* One GPU's values as NVML gave them; has_* false where NVML lacks the call or refused it. */
struct nvb_gpu_sample {
	char uuid[96];
	bool has_util, has_memory, has_temp, has_power, has_clock, has_ecc, has_retired,
	    has_throttle;
	unsigned util_gpu, util_memory;        /* percent */
	unsigned long long memory_used, memory_total; /* bytes */
	unsigned temp_c;
	unsigned power_mw;
	unsigned sm_clock_mhz;
	unsigned long long ecc_corrected, ecc_uncorrected; /* aggregate (lifetime) counts */
	unsigned retired_sbe, retired_dbe;     /* retired pages, single and double bit */
	unsigned long long throttle;           /* nvmlClocksEventReasons bit mask */
};

/* A whole sample: every GPU NVML lists, taken at one time. */
struct nvb_sample {
	bool valid;            /* false: no sample succeeded yet */
	struct timespec taken; /* CLOCK_MONOTONIC */
	struct nvb_gpu_sample *gpus;
	size_t n_gpus;
};

struct nvb_sampler;

/* Start the worker thread for the NVML library at lib (a path as seen from this process), or
 * with no library (lib NULL: every collect answers "unavailable"). */
NVB_INTERNAL struct nvb_sampler *nvb_sampler_start(const char *lib, struct nvb_error *err);
/* Ask for a new sample and wait for it at most deadline_ms. *out is a copy of the last good
 * sample (free with nvb_sample_clear); returns true when NVML answered within the deadline.
 * why (may be NULL) says what went wrong otherwise. */
NVB_INTERNAL bool nvb_sampler_collect(struct nvb_sampler *s, unsigned deadline_ms,
				      struct nvb_sample *out, char *why, size_t why_cap);
/* Stop the worker; a worker stuck in NVML is left behind (the process is about to exit). */
NVB_INTERNAL void nvb_sampler_stop(struct nvb_sampler *s);
NVB_INTERNAL void nvb_sample_clear(struct nvb_sample *sample);
NVB_INTERNAL double nvb_seconds_since(const struct timespec *t);

/* ------------------------------------------------------------------- sysfs */

/* One AMD or Intel GPU's values as its driver shows them in sysfs (sysfs.c); has_* false
 * where the file is missing (an older kernel, a GPU without the sensor) or malformed. */
struct nvb_sysfs_sample {
	bool has_util, has_mem_util, has_vram, has_temp, has_power, has_clock, has_energy;
	unsigned util, mem_util;                   /* percent */
	unsigned long long vram_used, vram_total;  /* bytes */
	long long temp_millic;                     /* millidegrees Celsius */
	unsigned long long power_uw;               /* microwatts */
	unsigned long long clock_hz;
	unsigned long long energy_uj;              /* microjoules since the driver loaded */
};

/* Reads the sysfs metrics of the host root's AMD and Intel GPUs; remembers which malformed
 * files it has already reported so that each is logged once. */
struct nvb_sysfs_reader {
	struct nvb_host *host;
	char **warned;
	size_t n_warned;
};

/* Strict sysfs number: decimal digits (a '-' first only when min < 0), then only white space;
 * within [min, max]. Returns 0 with *out set, -1 when the text is anything else. */
NVB_INTERNAL int nvb_sysfs_parse(const char *text, long long min, long long max, long long *out);
/* The values of one GPU (the inventory's vendor and driver say which files); a GPU of another
 * vendor or driver gets none. */
NVB_INTERNAL void nvb_sysfs_read_gpu(struct nvb_sysfs_reader *r, const struct nvb_gpu *gpu,
				     struct nvb_sysfs_sample *out);
/* One sample per GPU of the inventory chain, in chain order (calloc'ed, *n set; NULL with
 * *n 0 when the chain has no GPU or memory ran out). NVIDIA GPUs and AMD partitions after
 * the first of their PCI device get an empty sample. */
NVB_INTERNAL struct nvb_sysfs_sample *nvb_sysfs_collect(struct nvb_sysfs_reader *r,
							const struct nvb_inventory *chain, size_t *n);
NVB_INTERNAL void nvb_sysfs_reader_clear(struct nvb_sysfs_reader *r);

/* --------------------------------------------------------------- host state */

/* One readiness check: its name, whether it passed and a message saying why. */
struct nvb_ready_check {
	const char *name; /* static: driver, device_nodes, cdi_spec, nvml */
	bool ok;
	char message[512];
};

/* What the host root says, refreshed at most every few seconds (the scrape path) or on every
 * /readyz. */
struct nvb_host_state {
	struct nvb_inventory *inv; /* probed without NVML */
	struct timespec taken;
	bool spec_found;           /* a spec of the configured kind is installed */
	bool spec_stale;           /* the doctor's cdi-spec-stale (driver version, files, nodes) */
	bool spec_invalid;
	char spec_message[512];
	double spec_mtime;         /* seconds since the epoch of the configured output; < 0 none */
	bool nodes_ok;
	char nodes_message[512];
};

NVB_INTERNAL int nvb_host_state_refresh(struct nvb_host *host, const struct nvb_config *cfg,
					struct nvb_host_state *st, struct nvb_error *err);
NVB_INTERNAL void nvb_host_state_clear(struct nvb_host_state *st);
/* The path of libnvidia-ml.so.1 in the inventory, as seen from this process; NULL when none. */
NVB_INTERNAL char *nvb_host_state_nvml_path(struct nvb_host *host, const struct nvb_inventory *inv);

/* ------------------------------------------------------------- rendering */

/* The Prometheus text exposition (format 0.0.4) of the host state and a sample. fresh: NVML
 * answered within the deadline of this scrape. */
NVB_INTERNAL char *nvb_metrics_render(const struct nvb_host_state *st, const struct nvb_sample *s,
				      bool fresh, const struct nvb_sysfs_sample *sysfs, size_t n_sysfs,
				      double scrape_seconds, const char *state_dir);
/* The container records and wrapper counters of nvbind-runtime's state directory. */
NVB_INTERNAL void nvb_metrics_containers(struct nvb_strbuf *b, const char *state_dir);
/* The /readyz body: {"ready":B,"checks":[{"name":..,"ok":..,"message":..}]}; *ready set. */
NVB_INTERNAL char *nvb_ready_render(const struct nvb_host_state *st, bool nvml_fresh,
				    const char *nvml_why, bool *ready);

/* ------------------------------------------------------------------ daemon */

struct nvb_serve_opts {
	const char *listen;   /* ADDR:PORT, [V6]:PORT; NULL with socket set: no TCP */
	const char *socket;   /* Unix socket path (outside any root), NULL: none */
	unsigned deadline_ms; /* the longest a scrape waits on NVML */
	unsigned refresh_s;   /* the longest the host state is reused by /metrics */
	const char *state_dir; /* nvbind-runtime's records and counters (nvb_state_dir()) */
};

/* Run until SIGINT or SIGTERM. Returns 0, or -1 with err when a listener cannot be opened. */
NVB_INTERNAL int nvb_serve_run(struct nvb_host *host, const struct nvb_config *cfg,
			       const struct nvb_serve_opts *opts, struct nvb_error *err);

#endif
