/* SPDX-License-Identifier: Apache-2.0 */
/*
 * GPU snapshots with the CUDA driver's checkpoint API (driver r570+, docs/snapshot.md).
 * cuda.c loads libcuda.so.1 from the host root and resolves the checkpoint calls; snapshot.c
 * runs lock/checkpoint and restore/unlock over a list of processes, with rollback; container.c
 * finds the CUDA processes of a container from its cgroup.
 */
#ifndef NVB_SNAPSHOT_H
#define NVB_SNAPSHOT_H

#include "core/core.h"

/* CUresult values the messages and hints name (cuda.h). */
enum {
	NVB_CU_SUCCESS = 0,
	NVB_CU_INVALID_VALUE = 1,
	NVB_CU_NOT_INITIALIZED = 3,
	NVB_CU_ILLEGAL_STATE = 401,
	NVB_CU_NOT_FOUND = 500,
	NVB_CU_NOT_SUPPORTED = 801,
	NVB_CU_TIMEOUT = 909,
	NVB_CU_UNKNOWN = 999,
};

/* The args structs of the checkpoint calls: 64 bytes, reserved fields zero (cuda.h 12.8+). */
struct nvb_cu_lock_args {
	unsigned int timeout_ms;
	unsigned int reserved0;
	uint64_t reserved1[7];
};
struct nvb_cu_args {
	uint64_t reserved[8]; /* checkpoint, unlock; restore (r580's GPU remap pairs left zero) */
};

/* The driver's checkpoint entry points. Unit tests fill one with a fake driver. */
struct nvb_cuda_ckpt {
	void *handle; /* dlopen handle, NULL for a fake */
	char *path;   /* the library loaded, for messages */
	int (*lock)(int pid, struct nvb_cu_lock_args *args);
	int (*checkpoint)(int pid, struct nvb_cu_args *args);
	int (*restore)(int pid, struct nvb_cu_args *args);
	int (*unlock)(int pid, struct nvb_cu_args *args);
	int (*get_state)(int pid, int *state);
	int (*restore_tid)(int pid, int *tid);
	int (*error_string)(int code, const char **str); /* may be NULL */
};

/* Load libcuda.so.1 through the host root's library cache (or directory scan), resolve the six
 * checkpoint calls and cuInit(0) it. A missing call is NVB_ERR_UNSUPPORTED naming it and the
 * driver needed. */
NVB_INTERNAL int nvb_cuda_ckpt_open(struct nvb_host *host, struct nvb_cuda_ckpt *api,
				    struct nvb_error *err);
NVB_INTERNAL void nvb_cuda_ckpt_close(struct nvb_cuda_ckpt *api);
/* "CUDA error 999 (unknown error)" into buf. */
NVB_INTERNAL const char *nvb_cuda_ckpt_strerror(const struct nvb_cuda_ckpt *api, int code,
						char *buf, size_t cap);
/* What the user can do about a failing checkpoint call's result, or NULL. */
NVB_INTERNAL const char *nvb_cuda_ckpt_hint(int code);

/* The operations on an opened API (the public functions open it, call these, close it). */
NVB_INTERNAL int nvb_snapshot_checkpoint(const struct nvb_cuda_ckpt *api, const int *pids,
					 size_t n, unsigned timeout_ms,
					 struct nvb_snapshot_report **out, struct nvb_error *err);
NVB_INTERNAL int nvb_snapshot_restore(const struct nvb_cuda_ckpt *api, const int *pids, size_t n,
				      struct nvb_snapshot_report **out, struct nvb_error *err);
NVB_INTERNAL int nvb_snapshot_state(const struct nvb_cuda_ckpt *api, const int *pids, size_t n,
				    struct nvb_snapshot_report **out, struct nvb_error *err);

/* The caller's options zero-filled; a newer caller's longer struct is accepted when its tail
 * is zero. */
NVB_INTERNAL int nvb_snapshot_options_copy(struct nvb_snapshot_options *dst,
					   const struct nvb_snapshot_options *src,
					   struct nvb_error *err);

/* container.c */
/* The init pid of a container: from OCI state JSON (text starting with '{'), else from
 * `runtime [--root runtime_root] state ID`. */
NVB_INTERNAL int nvb_container_init_pid(const char *container, const char *runtime,
					const char *runtime_root, int *pid, struct nvb_error *err);
/* Every pid of the cgroup (and its descendants) that pid belongs to, ascending. procfs and
 * cgroupfs are "/proc" and "/sys/fs/cgroup" but for tests. The root cgroup is refused. */
/* The "pid" of an OCI state document (runc state); origin names it in errors. A stopped or
 * creating container is an error. */
NVB_INTERNAL int nvb_oci_state_pid(const char *text, const char *origin, int *pid,
				   struct nvb_error *err);
/* The cgroup folder (under cgroupfs) of the /proc/PID/cgroup text: the first v1 hierarchy of
 * pids, freezer, memory, devices, cpuacct, else the v2 "0::" path; lines whose path is not
 * absolute or holds "." or ".." are ignored. NULL when none (or no memory). */
NVB_INTERNAL char *nvb_cgroup_parse(const char *text, const char *cgroupfs, bool *is_root);
NVB_INTERNAL int nvb_cgroup_pids(const char *procfs, const char *cgroupfs, int pid, int **pids,
				 size_t *n, struct nvb_error *err);

#endif
