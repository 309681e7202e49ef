/* SPDX-License-Identifier: Apache-2.0 */
/*
 * GPU isolation levels (docs/isolation.md): exclusive claims and MPS daemons, kept as files
 * under the state directory (oci/records.h) so that every process that goes through nvbind
 * (nvbind-runtime for docker, podman, bolt; the library) sees the same claims, and so that a
 * crash of any of them loses nothing.
 *
 *   <state>/isolation/lock                   flock'ed (exclusive) around every change below
 *   <state>/isolation/claims/<uuid>.json     the exclusive holder of one GPU
 *   <state>/isolation/mps/<key>/daemon.json  an MPS control daemon nvbind started (key: the
 *                                            host indices of its GPUs, "0" or "0-2")
 *   <state>/isolation/mps/<key>/pipe, log    its CUDA_MPS_PIPE_DIRECTORY, CUDA_MPS_LOG_DIRECTORY
 *   <state>/isolation/mps/<key>/shm          its /dev/shm (and its clients')
 *   <state>/isolation/mps/<key>/clients/<id>.json  one per container using it
 *
 * A holder (claim or MPS client) is alive while its process (pid + start time, so that a
 * reused pid does not count) lives, or while the low-level runtime's state
 * <runtime_root>/<id>/state.json names an init process that lives (runc's format).
 */
#ifndef NVB_ISOLATION_H
#define NVB_ISOLATION_H

#include <jansson.h>
#include <limits.h>
#include <stdint.h>

#include "core/core.h"

#define NVB_ISO_MAX_GPUS 64

/* NVML's compute modes (nvml.h nvmlComputeMode_t) */
#define NVB_COMPUTEMODE_DEFAULT 0
#define NVB_COMPUTEMODE_EXCLUSIVE_PROCESS 3

struct nvb_iso_gpu {
	unsigned index;   /* host enumeration index (PCI order) */
	unsigned cindex;  /* its index as the container sees it (0.. in host order) */
	int minor;        /* /dev/nvidia<minor> */
	char uuid[96];
};

struct nvb_iso_holder {
	char id[256];          /* container id */
	char engine[32];       /* "unknown" when not known */
	int64_t since;         /* Unix seconds */
	int64_t pid;           /* 0: none */
	uint64_t pid_start;    /* /proc/<pid>/stat field 22 */
	char runtime_root[PATH_MAX]; /* "" when none */
};

/* ---- holders (holder.c) ---- */
/* The start time of pid (clock ticks since boot), 0 when it does not exist. */
NVB_INTERNAL uint64_t nvb_iso_pid_start(int64_t pid);
NVB_INTERNAL bool nvb_iso_holder_alive(const struct nvb_iso_holder *h);
/* Holder <-> JSON object (the fields id, engine, since, pid, pid_start, runtime_root). */
NVB_INTERNAL int nvb_iso_holder_to_json(const struct nvb_iso_holder *h, json_t *obj);
NVB_INTERNAL void nvb_iso_holder_from_json(const json_t *obj, struct nvb_iso_holder *h);
/* "container c1 (engine docker, since 2026-11-27T01:00:00Z, pid 42)" */
NVB_INTERNAL void nvb_iso_holder_describe(const struct nvb_iso_holder *h, char *out, size_t cap);
/* mkdir -p of a state path; <state>/isolation/lock taken (exclusive flock). Returns the
 * descriptor (close it to unlock), or -1 with err set. */
NVB_INTERNAL int nvb_iso_lock(const char *state_dir, struct nvb_error *err);
/* Read a small JSON file: NULL with err NVB_ERR_NOT_FOUND when absent. */
NVB_INTERNAL json_t *nvb_iso_read_json(const char *path, struct nvb_error *err);
NVB_INTERNAL int nvb_iso_write_json(const char *path, const json_t *obj, struct nvb_error *err);

/* ---- compute mode through NVML (computemode.c) ---- */
/* Get and set the compute mode of the GPU uuid with the libnvidia-ml at nvml_path (a path
 * as this process sees it). */
NVB_INTERNAL int nvb_iso_compute_mode(const char *nvml_path, const char *uuid, int set_to,
				      int *previous, struct nvb_error *err);

/* ---- exclusive claims (claims.c); callers hold nvb_iso_lock ---- */
struct nvb_iso_compute {
	bool enabled;
	char nvml[PATH_MAX]; /* libnvidia-ml.so.1 as this process sees it */
};
/* Claim every GPU for h: fails (NVB_ERR_PERMISSION, naming the holder) when a living other
 * holder has one, taking nothing; stale claims are taken over (logged). */
NVB_INTERNAL int nvb_iso_claim(const char *state_dir, const struct nvb_iso_gpu *gpus, size_t n,
			       const struct nvb_iso_holder *h, const struct nvb_iso_compute *cm,
			       struct nvb_error *err);
/* Fail (NVB_ERR_PERMISSION) when another living holder claims one of the GPUs: what shared
 * and virtual containers check. */
NVB_INTERNAL int nvb_iso_check_unclaimed(const char *state_dir, const struct nvb_iso_gpu *gpus,
					 size_t n, const char *id, struct nvb_error *err);
/* Drop the claims of container id (restoring compute modes); 0 when none. */
NVB_INTERNAL int nvb_iso_claims_release(const char *state_dir, const char *id,
					struct nvb_error *err);

/* ---- MPS (mps.c); callers hold nvb_iso_lock ---- */
/* Start (or find running) the control daemon of this GPU set and add h as its client;
 * pipe_dir receives the daemon's CUDA_MPS_PIPE_DIRECTORY. */
NVB_INTERNAL int nvb_iso_mps_join(const char *state_dir, const struct nvb_iso_gpu *gpus, size_t n,
				  const char *control_bin, const struct nvb_iso_holder *h,
				  char *pipe_dir, size_t cap, struct nvb_error *err);
/* Remove container id (NULL: none) from every daemon's clients, drop dead clients, and stop
 * daemons left without clients. */
NVB_INTERNAL int nvb_iso_mps_leave(const char *state_dir, const char *id, struct nvb_error *err);

/* ---- the OCI side (config.c) ---- */
/* "16G", "512M", "1024" (bytes), "8Gi": bytes; -1 when not a size. */
NVB_INTERNAL int nvb_iso_parse_size(const char *s, uint64_t *out);
/* The GPUs the config's linux.devices give the container (/dev/nvidiaN), matched with the
 * inventory's GPUs by minor number. */
NVB_INTERNAL int nvb_iso_config_gpus(const json_t *config, const struct nvb_inventory *inv,
				     struct nvb_iso_gpu *out, size_t *n, struct nvb_error *err);
/* Add the MPS pipe dir mount (at /run/nvidia-mps), the daemon's shm folder (the pipe dir's
 * sibling "shm") at /dev/shm, and the CUDA_MPS_* variables to config. */
NVB_INTERNAL int nvb_iso_config_mps(json_t *config, const char *pipe_dir,
				    const struct nvb_iso_gpu *gpus, size_t n, uint64_t mem_limit,
				    unsigned percent, struct nvb_error *err);

/* ---- the entry points (api.c) ---- */
/* nvb_configure_gpu_isolation on a parsed config (edited in place; *modified set when it
 * changed): what nvbind-runtime calls between its GPU edits and saving config.json. host, or
 * when it is NULL, host_root opened only when there is work (a shared container on a host
 * without claims, the common case, opens nothing: this is on every create's path). */
NVB_INTERNAL int nvb_iso_configure(struct nvb_host *host, const char *host_root, json_t *config,
				   const struct nvb_isolation_options *opts, bool *modified,
				   struct nvb_error *err);

#endif
