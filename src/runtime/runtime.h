/* SPDX-License-Identifier: Apache-2.0 */
/* nvbind-runtime internals: argument parsing, configuration, the create/run path, exec. */
#ifndef NVB_RUNTIME_H
#define NVB_RUNTIME_H

#include "core/core.h"

struct nvb_runtime_args {
	const char *command;  /* create, run, state, ...; NULL when none */
	const char *bundle;   /* --bundle / -b, default "." */
	bool debug;           /* runc's global --debug */
	bool edits_bundle;    /* create or run */
	const char *log_path;   /* runc's global --log: engines read the runtime's errors there */
	const char *log_format; /* runc's --log-format: text (default) or json */
	bool version;         /* --version / -v before any command */
	const char *root;     /* runc's global --root: its state directory; NULL when not given */
	const char *container_id; /* create, run, delete, checkpoint, restore: the last
				   * non-option argument, or NULL */
	bool leave_running;   /* checkpoint --leave-running */
	bool pre_dump;        /* checkpoint --pre-dump: the process keeps running, no GPU step */
	bool detach;          /* restore --detach / -d */
	char **argv;          /* the command line as given (the musl build's hand-over) */
};

struct nvb_config;

/* The musl build of the wrapper cannot load NVML or libcuda (core/dl.c): for GPU snapshots,
 * isolation with isolation.compute_mode, and any request that needs NVML, it execs its glibc
 * build (in a build tree ../nvbind-runtime beside it, else NVBIND_FULL_RUNTIME) with
 * the unchanged command line, before it has written anything. Never returns. Without
 * NVB_NO_DLOPEN, nvb_runtime_needs_full is always false and the hand-over never happens. */
NVB_INTERNAL bool nvb_runtime_needs_full(void);
NVB_INTERNAL _Noreturn void nvb_runtime_handoff(const struct nvb_runtime_args *args, const char *why);

/* What a create/run applied, for its container record */
struct nvb_runtime_applied {
	char devices[1024]; /* space-separated, from struct nvb_runtime_result */
	char gpus[1024];
	char engine[32];    /* nvb_record_guess_engine */
};

struct nvb_runtime_config {
	struct nvb_config *cfg;    /* the configuration file's settings (nvb_config_load) */
	char low_level[PATH_MAX];  /* runc or crun, absolute */
};

#define NVB_RUNTIME_LOG_DEFAULT "/var/log/nvbind-runtime.log"

void nvb_runtime_parse_args(int argc, char **argv, struct nvb_runtime_args *args);
int nvb_runtime_config_load(struct nvb_runtime_config *cfg, const struct nvb_runtime_args *args,
			    struct nvb_error *err);
/* The low-level runtime for a pass-through command (not create or run): runtime.low_level of
 * the configuration file when it names a usable one, else runc or crun on PATH. Reads nothing
 * else and never fails: configuration problems are logged (runtime log, else stderr). */
void nvb_runtime_passthrough_low_level(const struct nvb_runtime_args *args, char *out, size_t cap);
/* Run argv[0] with argv and wait (stdout to stderr when asked): its exit status, 128+signal,
 * or 127 when it could not run. */
int nvb_runtime_run_wait(char *const argv[], bool stdout_to_stderr);
/* Edit the bundle for create/run; out (may be NULL) says what was applied. */
int nvb_runtime_edit_bundle(const struct nvb_runtime_config *cfg,
			    const struct nvb_runtime_args *args, struct nvb_runtime_applied *out,
			    struct nvb_error *err);
/* The container record (oci/records.h) of a create/run that applied devices; a failure to
 * write it is logged, never fatal: the container starts all the same. */
void nvb_runtime_write_record(const struct nvb_runtime_args *args, const char *low_level,
			      const struct nvb_runtime_applied *res);
/* Count a create/run in the counters (oci/records.h), and log its outcome and added time. */
void nvb_runtime_count(enum nvb_errc code, long long duration_us);
void nvb_runtime_exec(const struct nvb_runtime_config *cfg, int argc, char **argv);
int nvb_runtime_legacy_hook(int argc, char **argv);
/* checkpoint and restore (docs/snapshot.md): `nvbind gpu checkpoint` of the container before
 * the low-level runtime's checkpoint (CRIU), `nvbind gpu restore` after its restore, or after a
 * failed checkpoint or one with --leave-running. Returns the exit status. */
int nvb_runtime_snapshot(const struct nvb_runtime_args *args, int argc, char **argv);
/* --version: nvbind's version, then what the low-level runtime's --version prints (run as a
 * child, so that both show; docker info reads the runtime's lines). Exit status 0, also when no
 * low-level runtime is found (said so). */
int nvb_runtime_print_version(const struct nvb_runtime_args *args);
/* Report a failure where the engine looks: stderr and runc's --log file, in its format. */
void nvb_runtime_report(const struct nvb_runtime_args *args, const struct nvb_error *err);

#endif
