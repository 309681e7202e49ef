/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What nvbind-runtime leaves behind for readers (nvbind serve, tests, administrators):
 * one record per container it gave GPUs to, and the wrapper's counters.
 *
 * The state directory: $NVBIND_STATE_DIR when set and not empty, else /run/nvbind
 * (NVB_STATE_DIR_DEFAULT). Everything below it is written by nvbind-runtime as root.
 *
 * ---- container records: <state>/containers/<id>.json --------------------------------------
 * Written at create/run when GPU devices were applied (atomically: temporary file + rename),
 * removed at delete (one unlink by name: no configuration read). One JSON object:
 *
 *   {"version": 1,
 *    "id": "c1",                         the container id (runc's last non-option argument)
 *    "bundle": "/run/.../c1",            the bundle directory as given (--bundle, default ".":
 *                                        made absolute with the wrapper's cwd)
 *    "engine": "docker",                 docker, podman, containerd, cri-o or unknown
 *    "runtime_root": "/run/runc",        the low-level runtime's state root (--root or its
 *                                        default: /run/runc for runc, /run/crun for crun)
 *    "devices": ["nvidia.com/gpu=0"],    the requested CDI devices, qualified
 *    "gpus": ["GPU-1b2c..."],            the GPU UUIDs they resolve to (MIG: MIG-...); empty
 *                                        when not known (a device name without a UUID, e.g. "all")
 *    "created": "2026-11-27T00:00:00Z",  UTC, and the same as Unix seconds:
 *    "created_unix": 1795737600}
 *
 * Readers must ignore keys they do not know; "version" changes only for an incompatible change.
 * An id is accepted only when it is a single path component of [A-Za-z0-9_.-] (no "." / "..",
 * at most 255 bytes): anything else is neither written nor removed.
 *
 * Stale records (a container that vanished without `delete`: a crashed engine, a reboot of a
 * non-tmpfs state dir): the reader reports, for each record, its age and `stale`, true when the
 * low-level runtime no longer knows the container: <runtime_root>/<id> does not exist and the
 * record is older than NVB_RECORD_STALE_GRACE_S seconds (runc creates its state directory only
 * after the wrapper wrote the record). Readers never delete records; `nvb_record_remove` does.
 *
 * ---- counters: <state>/stats -------------------------------------------------------------
 * One JSON object, replaced atomically (rename) under an exclusive flock of <state>/stats.lock,
 * so that concurrent wrappers never lose an update; readers read it without a lock:
 *
 *   {"version": 1,
 *    "creates": 12,                      create/run invocations that reached the bundle edit,
 *                                        failed or not
 *    "failures": {"not-found": 2},      failed ones by nvb_errc_name(err.code)
 *    "latency_seconds": {                the time the wrapper added before exec'ing runc,
 *      "le": [0.001, ..., 5.0],          bucket upper bounds (NVB_STATS_BOUNDS), "+Inf" implied
 *      "buckets": [3, ..., 12],          cumulative counts, Prometheus style: count <= le[i]
 *      "count": 12, "sum": 0.084}}       all observations (the +Inf bucket), their sum
 *
 * The wrapper adds an observation with one open+flock of the lock file, one read, one atomic
 * write (no fsync: counters since boot, like /run itself).
 */
#ifndef NVB_RECORDS_H
#define NVB_RECORDS_H

#include <jansson.h>
#include <stdint.h>

#include "core/core.h"

#define NVB_STATE_DIR_DEFAULT "/run/nvbind"
#define NVB_RECORD_VERSION 1
#define NVB_RECORD_STALE_GRACE_S 60

struct nvb_container_record {
	char *id;
	char *bundle;
	char *engine;        /* "unknown" when not known */
	char *runtime_root;  /* may be NULL in a record written by hand */
	char **devices;      /* requested CDI names */
	size_t n_devices;
	char **gpus;         /* GPU / MIG UUIDs */
	size_t n_gpus;
	int64_t created_unix;
	/* filled by nvb_records_list / nvb_record_read, not stored: */
	int64_t age_s;       /* now - created_unix */
	bool stale;          /* see the header comment */
};

/* The state directory (NVBIND_STATE_DIR or the default); never NULL. */
NVB_INTERNAL const char *nvb_state_dir(void);
/* true when id may name a record file (see above). */
NVB_INTERNAL bool nvb_record_id_valid(const char *id);
/* mkdir -p of a folder of the state directory, mode 0755 (a host path, not a container's) */
NVB_INTERNAL int nvb_state_mkdir_p(const char *path, struct nvb_error *err);

/* Write <state_dir>/containers/<rec->id>.json (creating the folders, mode 0755, files 0644);
 * age_s and stale are ignored. */
NVB_INTERNAL int nvb_record_write(const char *state_dir, const struct nvb_container_record *rec,
				  struct nvb_error *err);
/* Remove the record of id: 0 when removed or absent, -1 with err set otherwise. */
NVB_INTERNAL int nvb_record_remove(const char *state_dir, const char *id, struct nvb_error *err);
/* Read one record (age_s and stale filled). Returns 0, or -1 with err set (NVB_ERR_NOT_FOUND
 * when there is none). Free with nvb_record_clear. */
NVB_INTERNAL int nvb_record_read(const char *state_dir, const char *id,
				 struct nvb_container_record *out, struct nvb_error *err);
/* Every record, sorted by id. A missing containers/ folder is no record, not an error; a file
 * that does not parse is skipped with a warning in the log. Free with nvb_records_free. */
NVB_INTERNAL int nvb_records_list(const char *state_dir, struct nvb_container_record **out,
				  size_t *n, struct nvb_error *err);
NVB_INTERNAL void nvb_record_clear(struct nvb_container_record *rec);
NVB_INTERNAL void nvb_records_free(struct nvb_container_record *recs, size_t n);

/* The engine that started a container, from the low-level runtime's --root (may be NULL) and
 * the OCI config's annotations (may be NULL): a static string. */
NVB_INTERNAL const char *nvb_record_guess_engine(const char *runtime_root, const json_t *config);

/* ---- counters ---- */
#define NVB_STATS_N_BOUNDS 12
/* seconds: 1 ms .. 5 s */
#define NVB_STATS_BOUNDS                                                                         \
	{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0}
#define NVB_STATS_MAX_REASONS 16

struct nvb_stats {
	uint64_t creates;
	uint64_t failures;   /* the sum of the reasons' counts */
	struct {
		char reason[32]; /* nvb_errc_name() */
		uint64_t count;
	} failure[NVB_STATS_MAX_REASONS];
	size_t n_failure;
	double le[NVB_STATS_N_BOUNDS];                /* bucket upper bounds, seconds */
	uint64_t buckets[NVB_STATS_N_BOUNDS];         /* cumulative */
	uint64_t latency_count;
	double latency_sum;
};

/* Count one create/run: failed when code != NVB_OK (reason nvb_errc_name(code)); latency_s
 * the wrapper's added time. */
NVB_INTERNAL int nvb_stats_add(const char *state_dir, enum nvb_errc code, double latency_s,
			       struct nvb_error *err);
/* Read the counters; a missing file reads as all zero (le filled). */
NVB_INTERNAL int nvb_stats_read(const char *state_dir, struct nvb_stats *out,
				struct nvb_error *err);

#endif
