/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Checkpoint and restore of a list of CUDA processes. Checkpoint locks every process first, then
 * checkpoints every one, so no process is checkpointed while another it works with still runs
 * CUDA work; restore goes the other way round (restore all in reverse order, then unlock all),
 * so every process has its GPU memory back before any of them resumes. A failure part-way
 * undoes what was done, in reverse order, and the report says what could not be undone.
 */
#include <jansson.h>

#include "snapshot/snapshot.h"

#define DEFAULT_TIMEOUT_MS 10000u

struct entry {
	int pid;
	enum nvb_gpu_state state;
	enum nvb_snapshot_outcome outcome;
	int level; /* checkpoint progress: 0 untouched, 1 locked, 2 checkpointed */
	char message[512];
};

struct nvb_snapshot_report {
	const char *operation; /* "checkpoint", "restore", "state" */
	struct entry *e;
	size_t n;
};

static struct nvb_snapshot_report *report_new(const char *operation, const int *pids, size_t n)
{
	struct nvb_snapshot_report *r = calloc(1, sizeof(*r));
	if (!r || !(r->e = calloc(n ? n : 1, sizeof(*r->e)))) {
		free(r);
		return NULL;
	}
	r->operation = operation;
	r->n = n;
	for (size_t i = 0; i < n; i++) {
		r->e[i].pid = pids[i];
		r->e[i].state = NVB_GPU_STATE_UNKNOWN;
		r->e[i].outcome = NVB_SNAPSHOT_SKIPPED;
	}
	return r;
}

/* Append "; text" (or text) to an entry's message. */
static void note(struct entry *e, const char *fmt, ...) NVB_PRINTF(2, 3);
static void note(struct entry *e, const char *fmt, ...)
{
	size_t len = strlen(e->message);
	if (len && len + 2 < sizeof(e->message)) {
		memcpy(e->message + len, "; ", 3);
		len += 2;
	}
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->message + len, sizeof(e->message) - len, fmt, ap);
	va_end(ap);
}

/* One driver call's failure into the entry: "cuCheckpointProcessLock: CUDA error ..." */
static void call_failed(const struct nvb_cuda_ckpt *api, struct entry *e, const char *call, int rc)
{
	char buf[160];
	note(e, "%s failed: %s", call, nvb_cuda_ckpt_strerror(api, rc, buf, sizeof(buf)));
}

/* Ask the driver for each entry's state now (after an operation: the report's states). */
static void refresh_states(const struct nvb_cuda_ckpt *api, struct nvb_snapshot_report *r)
{
	for (size_t i = 0; i < r->n; i++) {
		int s = -1;
		r->e[i].state = api->get_state(r->e[i].pid, &s) == NVB_CU_SUCCESS && s >= 0 && s <= 3
					? (enum nvb_gpu_state)s
					: NVB_GPU_STATE_UNKNOWN;
	}
}

/* Every process must be RUNNING before anything is locked: nothing is touched otherwise. */
static int precheck(const struct nvb_cuda_ckpt *api, struct nvb_snapshot_report *r,
		    struct nvb_error *err)
{
	int bad = -1, bad_rc = 0;
	for (size_t i = 0; i < r->n; i++) {
		struct entry *e = &r->e[i];
		int s = -1, rc = api->get_state(e->pid, &s);
		if (rc != NVB_CU_SUCCESS) {
			e->outcome = NVB_SNAPSHOT_FAILED;
			call_failed(api, e, "cuCheckpointProcessGetState", rc);
		} else if (s != NVB_GPU_STATE_RUNNING) {
			e->state = (enum nvb_gpu_state)s;
			e->outcome = NVB_SNAPSHOT_FAILED;
			note(e, "the process is %s, not running: restore it first",
			     nvb_gpu_state_name(e->state));
		}
		if (e->outcome == NVB_SNAPSHOT_FAILED && bad < 0) {
			bad = (int)i;
			bad_rc = rc;
		}
	}
	if (bad < 0)
		return 0;
	const char *hint = bad_rc ? nvb_cuda_ckpt_hint(bad_rc)
				  : "restore it with 'nvbind gpu restore', or see 'nvbind gpu state'";
	return nvb_error_set(err, NVB_ERR_INVALID, 0, hint,
			     "cannot checkpoint pid %d: %s; no process was changed", r->e[bad].pid,
			     r->e[bad].message);
}

/* Undo a failed checkpoint: restore what was checkpointed, then unlock what is locked, both in
 * reverse order. Returns how many processes are left locked or checkpointed. */
static size_t rollback(const struct nvb_cuda_ckpt *api, struct nvb_snapshot_report *r)
{
	for (size_t j = r->n; j-- > 0;) {
		struct entry *e = &r->e[j];
		if (e->level != 2)
			continue;
		struct nvb_cu_args a = {{0}};
		int rc = api->restore(e->pid, &a);
		if (rc == NVB_CU_SUCCESS)
			e->level = 1;
		else
			call_failed(api, e, "rollback: cuCheckpointProcessRestore", rc);
	}
	size_t left = 0;
	for (size_t j = r->n; j-- > 0;) {
		struct entry *e = &r->e[j];
		if (e->level == 1) {
			struct nvb_cu_args a = {{0}};
			int rc = api->unlock(e->pid, &a);
			if (rc == NVB_CU_SUCCESS)
				e->level = 0;
			else
				call_failed(api, e, "rollback: cuCheckpointProcessUnlock", rc);
		}
		if (e->level) {
			left++;
			note(e, "could not be undone: left %s", e->level == 2 ? "checkpointed" : "locked");
			e->outcome = NVB_SNAPSHOT_NOT_UNDONE;
		} else if (e->outcome == NVB_SNAPSHOT_DONE) {
			e->outcome = NVB_SNAPSHOT_ROLLED_BACK;
			note(e, "rolled back: running again");
		} else if (e->outcome == NVB_SNAPSHOT_FAILED && e->message[0]) {
			note(e, "running again");
		}
	}
	return left;
}

/* The error of a checkpoint that failed at entry bad, after rollback left `left` processes. */
static int checkpoint_error(const struct nvb_snapshot_report *r, size_t bad, int rc, size_t left,
			    struct nvb_error *err)
{
	struct nvb_strbuf undone = {0};
	for (size_t j = 0; j < r->n; j++)
		if (r->e[j].outcome == NVB_SNAPSHOT_NOT_UNDONE)
			nvb_strbuf_appendf(&undone, "%s%d", undone.len ? ", " : "", r->e[j].pid);
	const char *hint = nvb_cuda_ckpt_hint(rc);
	if (left)
		nvb_error_set(err, NVB_ERR_DRIVER, 0,
			      "see 'nvbind gpu state', then retry 'nvbind gpu restore' for them",
			      "checkpoint of pid %d failed (%s); could not be undone for pid %s",
			      r->e[bad].pid, r->e[bad].message, undone.s ? undone.s : "?");
	else
		nvb_error_set(err, NVB_ERR_DRIVER, 0, hint,
			      "checkpoint of pid %d failed (%s); every process was rolled back and "
			      "runs again",
			      r->e[bad].pid, r->e[bad].message);
	nvb_strbuf_free(&undone);
	return -1;
}

/* One phase of checkpoint over every entry: lock (to level 1) or checkpoint (to level 2).
 * Returns the index of the entry that failed, or -1. */
static long phase(const struct nvb_cuda_ckpt *api, struct nvb_snapshot_report *r, int to,
		  unsigned timeout_ms, int *rc_out)
{
	for (size_t i = 0; i < r->n; i++) {
		struct entry *e = &r->e[i];
		int rc;
		if (to == 1) {
			struct nvb_cu_lock_args a = {.timeout_ms = timeout_ms};
			rc = api->lock(e->pid, &a);
		} else {
			struct nvb_cu_args a = {{0}};
			rc = api->checkpoint(e->pid, &a);
		}
		if (rc != NVB_CU_SUCCESS) {
			e->outcome = NVB_SNAPSHOT_FAILED;
			call_failed(api, e, to == 1 ? "cuCheckpointProcessLock" : "cuCheckpointProcessCheckpoint",
				    rc);
			*rc_out = rc;
			return (long)i;
		}
		e->level = to;
		e->outcome = NVB_SNAPSHOT_DONE;
	}
	return -1;
}

int nvb_snapshot_checkpoint(const struct nvb_cuda_ckpt *api, const int *pids, size_t n,
			    unsigned timeout_ms, struct nvb_snapshot_report **out,
			    struct nvb_error *err)
{
	struct nvb_snapshot_report *r = report_new("checkpoint", pids, n);
	if (!r)
		return nvb_error_nomem(err);
	int ret = precheck(api, r, err);
	if (ret == 0) {
		int rc = 0;
		long bad = phase(api, r, 1, timeout_ms ? timeout_ms : DEFAULT_TIMEOUT_MS, &rc);
		if (bad < 0)
			bad = phase(api, r, 2, 0, &rc);
		if (bad >= 0) {
			/* the failed process itself may be locked: a failed checkpoint leaves it so */
			int s = -1;
			if (api->get_state(r->e[bad].pid, &s) == NVB_CU_SUCCESS && s >= 1 && s <= 2)
				r->e[bad].level = s;
			ret = checkpoint_error(r, (size_t)bad, rc, rollback(api, r), err);
		}
	}
	refresh_states(api, r);
	if (out)
		*out = r;
	else
		nvb_snapshot_report_free(r);
	return ret;
}

/* restore: one call over every entry in reverse order, for the entries in state `from`. */
static void restore_phase(const struct nvb_cuda_ckpt *api, struct nvb_snapshot_report *r,
			  enum nvb_gpu_state from)
{
	for (size_t j = r->n; j-- > 0;) {
		struct entry *e = &r->e[j];
		if (e->outcome == NVB_SNAPSHOT_FAILED || e->state != from)
			continue;
		struct nvb_cu_args a = {{0}};
		bool restore = from == NVB_GPU_STATE_CHECKPOINTED;
		int rc = restore ? api->restore(e->pid, &a) : api->unlock(e->pid, &a);
		if (rc != NVB_CU_SUCCESS) {
			e->outcome = NVB_SNAPSHOT_FAILED;
			call_failed(api, e, restore ? "cuCheckpointProcessRestore"
						    : "cuCheckpointProcessUnlock", rc);
			continue;
		}
		e->state = restore ? NVB_GPU_STATE_LOCKED : NVB_GPU_STATE_RUNNING;
		e->outcome = NVB_SNAPSHOT_DONE;
	}
}

int nvb_snapshot_restore(const struct nvb_cuda_ckpt *api, const int *pids, size_t n,
			 struct nvb_snapshot_report **out, struct nvb_error *err)
{
	struct nvb_snapshot_report *r = report_new("restore", pids, n);
	if (!r)
		return nvb_error_nomem(err);
	for (size_t i = 0; i < n; i++) {
		struct entry *e = &r->e[i];
		int s = -1, rc = api->get_state(e->pid, &s);
		if (rc != NVB_CU_SUCCESS) {
			e->outcome = NVB_SNAPSHOT_FAILED;
			call_failed(api, e, "cuCheckpointProcessGetState", rc);
		} else if (s == NVB_GPU_STATE_FAILED || s < 0 || s > 3) {
			e->outcome = NVB_SNAPSHOT_FAILED;
			note(e, "the driver reports the process's checkpoint state as failed");
		} else {
			e->state = (enum nvb_gpu_state)s;
			if (s == NVB_GPU_STATE_RUNNING) {
				e->outcome = NVB_SNAPSHOT_DONE;
				note(e, "already running");
			}
		}
	}
	restore_phase(api, r, NVB_GPU_STATE_CHECKPOINTED);
	restore_phase(api, r, NVB_GPU_STATE_LOCKED);
	refresh_states(api, r);
	int ret = 0;
	size_t failed = 0, first = 0;
	for (size_t i = 0; i < n; i++)
		if (r->e[i].outcome == NVB_SNAPSHOT_FAILED && failed++ == 0)
			first = i;
	if (failed)
		ret = nvb_error_set(err, NVB_ERR_DRIVER, 0,
				    "see 'nvbind gpu state'; the others were restored",
				    "restore failed for %zu of %zu processes: pid %d: %s", failed, n,
				    r->e[first].pid, r->e[first].message);
	if (out)
		*out = r;
	else
		nvb_snapshot_report_free(r);
	return ret;
}

int nvb_snapshot_state(const struct nvb_cuda_ckpt *api, const int *pids, size_t n,
		       struct nvb_snapshot_report **out, struct nvb_error *err)
{
	struct nvb_snapshot_report *r = report_new("state", pids, n);
	if (!r)
		return nvb_error_nomem(err);
	for (size_t i = 0; i < n; i++) {
		struct entry *e = &r->e[i];
		int s = -1, rc = api->get_state(e->pid, &s);
		if (rc != NVB_CU_SUCCESS || s < 0 || s > 3) {
			e->outcome = NVB_SNAPSHOT_FAILED;
			call_failed(api, e, "cuCheckpointProcessGetState", rc ? rc : NVB_CU_UNKNOWN);
			continue;
		}
		e->state = (enum nvb_gpu_state)s;
		e->outcome = s == NVB_GPU_STATE_FAILED ? NVB_SNAPSHOT_FAILED : NVB_SNAPSHOT_DONE;
	}
	*out = r;
	return 0;
}

/* ------------------------------------------------------------------ public */

const char *nvb_gpu_state_name(enum nvb_gpu_state state)
{
	switch (state) {
	case NVB_GPU_STATE_RUNNING: return "running";
	case NVB_GPU_STATE_LOCKED: return "locked";
	case NVB_GPU_STATE_CHECKPOINTED: return "checkpointed";
	case NVB_GPU_STATE_FAILED: return "failed";
	default: return "unknown";
	}
}

static const char *outcome_name(enum nvb_snapshot_outcome o)
{
	switch (o) {
	case NVB_SNAPSHOT_DONE: return "done";
	case NVB_SNAPSHOT_FAILED: return "failed";
	case NVB_SNAPSHOT_ROLLED_BACK: return "rolled-back";
	case NVB_SNAPSHOT_NOT_UNDONE: return "not-undone";
	default: return "skipped";
	}
}

/* The caller's options, zero-filled (as api.c's options_copy: a longer struct is accepted
 * when its unknown tail is zero). */
int nvb_snapshot_options_copy(struct nvb_snapshot_options *dst,
			      const struct nvb_snapshot_options *src, struct nvb_error *err)
{
	memset(dst, 0, sizeof(*dst));
	if (!src)
		return 0;
	if (src->size < sizeof(size_t) || src->size > 4096)
		return nvb_error_set(err, NVB_ERR_USAGE, 0, "set .size = sizeof the struct",
				     "struct nvb_snapshot_options: size %zu is not a size of this "
				     "struct", src->size);
	const unsigned char *bytes = (const unsigned char *)src;
	for (size_t i = sizeof(*dst); i < src->size; i++)
		if (bytes[i])
			return nvb_error_set(err, NVB_ERR_UNSUPPORTED, 0,
					     "leave the newer fields zero, or use a newer libnvbind",
					     "struct nvb_snapshot_options: a field at byte %zu is set "
					     "that this libnvbind does not know", i);
	memcpy(dst, src, src->size < sizeof(*dst) ? src->size : sizeof(*dst));
	return 0;
}

static int args_check(struct nvb_host *host, const int *pids, size_t n, const char *fn,
		      struct nvb_error *err)
{
	if (!host || (!pids && n))
		return nvb_error_set(err, NVB_ERR_USAGE, 0, NULL, "%s: NULL argument", fn);
	for (size_t i = 0; i < n; i++)
		if (pids[i] <= 0)
			return nvb_error_set(err, NVB_ERR_USAGE, 0, NULL, "%s: pid %d is not a process id",
					     fn, pids[i]);
	return 0;
}

int nvb_gpu_checkpoint(struct nvb_host *host, const int *pids, size_t n,
		       const struct nvb_snapshot_options *opts, struct nvb_snapshot_report **out,
		       struct nvb_error *err)
{
	if (out)
		*out = NULL;
	struct nvb_snapshot_options o;
	struct nvb_cuda_ckpt api;
	if (args_check(host, pids, n, "nvb_gpu_checkpoint", err) < 0 ||
	    nvb_snapshot_options_copy(&o, opts, err) < 0 || nvb_cuda_ckpt_open(host, &api, err) < 0)
		return -1;
	int ret = nvb_snapshot_checkpoint(&api, pids, n, o.timeout_ms, out, err);
	nvb_cuda_ckpt_close(&api);
	return ret;
}

int nvb_gpu_restore(struct nvb_host *host, const int *pids, size_t n,
		    const struct nvb_snapshot_options *opts, struct nvb_snapshot_report **out,
		    struct nvb_error *err)
{
	if (out)
		*out = NULL;
	struct nvb_snapshot_options o;
	struct nvb_cuda_ckpt api;
	if (args_check(host, pids, n, "nvb_gpu_restore", err) < 0 ||
	    nvb_snapshot_options_copy(&o, opts, err) < 0 || nvb_cuda_ckpt_open(host, &api, err) < 0)
		return -1;
	int ret = nvb_snapshot_restore(&api, pids, n, out, err);
	nvb_cuda_ckpt_close(&api);
	return ret;
}

int nvb_gpu_state(struct nvb_host *host, const int *pids, size_t n,
		  struct nvb_snapshot_report **out, struct nvb_error *err)
{
	if (!out)
		return nvb_error_set(err, NVB_ERR_USAGE, 0, NULL, "nvb_gpu_state: NULL argument");
	*out = NULL;
	struct nvb_cuda_ckpt api;
	if (args_check(host, pids, n, "nvb_gpu_state", err) < 0 ||
	    nvb_cuda_ckpt_open(host, &api, err) < 0)
		return -1;
	int ret = nvb_snapshot_state(&api, pids, n, out, err);
	nvb_cuda_ckpt_close(&api);
	return ret;
}

size_t nvb_snapshot_report_count(const struct nvb_snapshot_report *r)
{
	return r ? r->n : 0;
}

int nvb_snapshot_report_pid(const struct nvb_snapshot_report *r, size_t i)
{
	return r && i < r->n ? r->e[i].pid : -1;
}

enum nvb_gpu_state nvb_snapshot_report_state(const struct nvb_snapshot_report *r, size_t i)
{
	return r && i < r->n ? r->e[i].state : NVB_GPU_STATE_UNKNOWN;
}

enum nvb_snapshot_outcome nvb_snapshot_report_outcome(const struct nvb_snapshot_report *r, size_t i)
{
	return r && i < r->n ? r->e[i].outcome : NVB_SNAPSHOT_SKIPPED;
}

const char *nvb_snapshot_report_message(const struct nvb_snapshot_report *r, size_t i)
{
	return r && i < r->n ? r->e[i].message : "";
}

char *nvb_snapshot_report_json(const struct nvb_snapshot_report *r)
{
	if (!r)
		return NULL;
	json_t *procs = json_array();
	json_t *root = json_pack("{s:s, s:o}", "operation", r->operation, "processes", procs);
	if (!root)
		return NULL;
	for (size_t i = 0; i < r->n; i++) {
		const struct entry *e = &r->e[i];
		json_array_append_new(procs, json_pack("{s:i, s:s, s:s, s:s}", "pid", e->pid, "state",
							nvb_gpu_state_name(e->state), "outcome",
							outcome_name(e->outcome), "message",
							e->message));
	}
	char *s = json_dumps(root, JSON_INDENT(2));
	json_decref(root);
	return s;
}

void nvb_snapshot_report_free(struct nvb_snapshot_report *r)
{
	if (!r)
		return;
	free(r->e);
	free(r);
}
