/* SPDX-License-Identifier: Apache-2.0 */
/* GPU snapshots (src/snapshot): checkpoint/restore over a fake driver, rollback, reports, the
 * container's cgroup pids on synthetic /proc and /sys/fs/cgroup trees, OCI state parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <sys/stat.h>

#include "snapshot/snapshot.h"

/* ---- a fake driver: states per pid, a call log, one injected failure ---- */

#define MAXP 8
static int st[MAXP];         /* state of pid i+1 */
static bool cuda[MAXP];      /* pid i+1 uses CUDA */
static char calls[1024];
static const char *fail_call; /* "lock", "checkpoint", ... */
static int fail_pid, fail_rc;
static unsigned last_timeout;
static bool reserved_dirty;

static int step(const char *name, int pid, int from, int to)
{
	char buf[32];
	snprintf(buf, sizeof(buf), "%s%s %d", calls[0] ? "," : "", name, pid);
	strncat(calls, buf, sizeof(calls) - strlen(calls) - 1);
	if (pid < 1 || pid > MAXP || !cuda[pid - 1])
		return NVB_CU_INVALID_VALUE;
	if (fail_call && !strcmp(fail_call, name) && fail_pid == pid)
		return fail_rc;
	if (st[pid - 1] != from)
		return NVB_CU_ILLEGAL_STATE;
	st[pid - 1] = to;
	return 0;
}

static bool zero(const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

static int f_lock(int pid, struct nvb_cu_lock_args *a)
{
	last_timeout = a->timeout_ms;
	reserved_dirty |= a->reserved0 || !zero(a->reserved1, sizeof(a->reserved1));
	return step("lock", pid, 0, 1);
}
static int f_ckpt(int pid, struct nvb_cu_args *a)
{
	reserved_dirty |= !zero(a, sizeof(*a));
	return step("checkpoint", pid, 1, 2);
}
static int f_restore(int pid, struct nvb_cu_args *a)
{
	reserved_dirty |= !zero(a, sizeof(*a));
	return step("restore", pid, 2, 1);
}
static int f_unlock(int pid, struct nvb_cu_args *a)
{
	reserved_dirty |= !zero(a, sizeof(*a));
	return step("unlock", pid, 1, 0);
}
static int f_state(int pid, int *s)
{
	if (pid < 1 || pid > MAXP || !cuda[pid - 1])
		return NVB_CU_INVALID_VALUE;
	*s = st[pid - 1];
	return 0;
}
static int f_tid(int pid, int *tid)
{
	return f_state(pid, tid);
}

static const struct nvb_cuda_ckpt fake = {
	.lock = f_lock, .checkpoint = f_ckpt, .restore = f_restore, .unlock = f_unlock,
	.get_state = f_state, .restore_tid = f_tid,
};

static int reset(void **state)
{
	(void)state;
	memset(st, 0, sizeof(st));
	for (int i = 0; i < MAXP; i++)
		cuda[i] = true;
	calls[0] = '\0';
	fail_call = NULL;
	fail_pid = fail_rc = 0;
	last_timeout = 0;
	reserved_dirty = false;
	return 0;
}

static void test_checkpoint_then_restore_order(void **state)
{
	(void)state;
	int pids[] = {3, 1, 2};
	struct nvb_snapshot_report *r = NULL;
	struct nvb_error err;
	assert_int_equal(nvb_snapshot_checkpoint(&fake, pids, 3, 0, &r, &err), 0);
	assert_string_equal(calls, "lock 3,lock 1,lock 2,checkpoint 3,checkpoint 1,checkpoint 2");
	assert_int_equal(last_timeout, 10000);
	assert_false(reserved_dirty);
	assert_int_equal(nvb_snapshot_report_count(r), 3);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(nvb_snapshot_report_pid(r, i), pids[i]);
		assert_int_equal(nvb_snapshot_report_state(r, i), NVB_GPU_STATE_CHECKPOINTED);
		assert_int_equal(nvb_snapshot_report_outcome(r, i), NVB_SNAPSHOT_DONE);
	}
	nvb_snapshot_report_free(r);
	calls[0] = '\0';
	assert_int_equal(nvb_snapshot_restore(&fake, pids, 3, &r, &err), 0);
	assert_string_equal(calls, "restore 2,restore 1,restore 3,unlock 2,unlock 1,unlock 3");
	assert_int_equal(nvb_snapshot_report_state(r, 0), NVB_GPU_STATE_RUNNING);
	assert_false(reserved_dirty);
	nvb_snapshot_report_free(r);
}

static void test_checkpoint_timeout_passed(void **state)
{
	(void)state;
	int pid = 1;
	assert_int_equal(nvb_snapshot_checkpoint(&fake, &pid, 1, 1234, NULL, NULL), 0);
	assert_int_equal(last_timeout, 1234);
}

static void test_checkpoint_failure_rolls_back(void **state)
{
	(void)state;
	int pids[] = {1, 2, 3};
	fail_call = "checkpoint";
	fail_pid = 2;
	fail_rc = NVB_CU_NOT_SUPPORTED;
	struct nvb_snapshot_report *r = NULL;
	struct nvb_error err;
	assert_int_equal(nvb_snapshot_checkpoint(&fake, pids, 3, 0, &r, &err), -1);
	assert_string_equal(calls, "lock 1,lock 2,lock 3,checkpoint 1,checkpoint 2,"
				   "restore 1,unlock 3,unlock 2,unlock 1");
	assert_int_equal(err.code, NVB_ERR_DRIVER);
	assert_non_null(strstr(err.message, "rolled back"));
	assert_non_null(strstr(err.hint, "MIG"));
	assert_int_equal(nvb_snapshot_report_outcome(r, 0), NVB_SNAPSHOT_ROLLED_BACK);
	assert_int_equal(nvb_snapshot_report_outcome(r, 1), NVB_SNAPSHOT_FAILED);
	assert_int_equal(nvb_snapshot_report_outcome(r, 2), NVB_SNAPSHOT_ROLLED_BACK);
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(nvb_snapshot_report_state(r, i), NVB_GPU_STATE_RUNNING);
	assert_non_null(strstr(nvb_snapshot_report_message(r, 1), "CUDA error 801"));
	nvb_snapshot_report_free(r);
}

static int fail_restore(int pid, struct nvb_cu_args *a)
{
	(void)a;
	char buf[32];
	snprintf(buf, sizeof(buf), "%srestore %d", calls[0] ? "," : "", pid);
	strncat(calls, buf, sizeof(calls) - strlen(calls) - 1);
	return NVB_CU_UNKNOWN;
}

static void test_rollback_restore_fails(void **state)
{
	(void)state;
	struct nvb_cuda_ckpt api = fake;
	api.restore = fail_restore;
	int pids[] = {1, 2};
	fail_call = "checkpoint";
	fail_pid = 2;
	fail_rc = NVB_CU_UNKNOWN;
	struct nvb_snapshot_report *r = NULL;
	struct nvb_error err;
	assert_int_equal(nvb_snapshot_checkpoint(&api, pids, 2, 0, &r, &err), -1);
	assert_string_equal(calls, "lock 1,lock 2,checkpoint 1,checkpoint 2,restore 1,unlock 2");
	assert_int_equal(nvb_snapshot_report_outcome(r, 0), NVB_SNAPSHOT_NOT_UNDONE);
	assert_int_equal(nvb_snapshot_report_state(r, 0), NVB_GPU_STATE_CHECKPOINTED);
	assert_int_equal(nvb_snapshot_report_state(r, 1), NVB_GPU_STATE_RUNNING);
	assert_non_null(strstr(err.message, "could not be undone for pid 1"));
	assert_non_null(strstr(nvb_snapshot_report_message(r, 0), "left checkpointed"));
	char *json = nvb_snapshot_report_json(r);
	assert_non_null(strstr(json, "\"not-undone\""));
	free(json);
	nvb_snapshot_report_free(r);
}

static void test_precheck_touches_nothing(void **state)
{
	(void)state;
	int pids[] = {1, 2, 3};
	cuda[2] = false; /* pid 3 is not a CUDA process */
	struct nvb_snapshot_report *r = NULL;
	struct nvb_error err;
	assert_int_equal(nvb_snapshot_checkpoint(&fake, pids, 3, 0, &r, &err), -1);
	assert_string_equal(calls, "");
	assert_non_null(strstr(err.message, "pid 3"));
	assert_int_equal(nvb_snapshot_report_outcome(r, 0), NVB_SNAPSHOT_SKIPPED);
	assert_int_equal(nvb_snapshot_report_outcome(r, 2), NVB_SNAPSHOT_FAILED);
	nvb_snapshot_report_free(r);
	cuda[2] = true;
	st[1] = NVB_GPU_STATE_LOCKED;
	assert_int_equal(nvb_snapshot_checkpoint(&fake, pids, 3, 0, &r, &err), -1);
	assert_string_equal(calls, "");
	assert_non_null(strstr(err.message, "locked, not running"));
	nvb_snapshot_report_free(r);
}

static void test_restore_mixed_states(void **state)
{
	(void)state;
	int pids[] = {1, 2, 3, 4};
	st[0] = 2;       /* checkpointed */
	st[1] = 1;       /* locked */
	st[2] = 0;       /* running */
	cuda[3] = false; /* unknown */
	struct nvb_snapshot_report *r = NULL;
	struct nvb_error err;
	assert_int_equal(nvb_snapshot_restore(&fake, pids, 4, &r, &err), -1);
	assert_string_equal(calls, "restore 1,unlock 2,unlock 1");
	assert_int_equal(nvb_snapshot_report_state(r, 0), NVB_GPU_STATE_RUNNING);
	assert_int_equal(nvb_snapshot_report_state(r, 1), NVB_GPU_STATE_RUNNING);
	assert_string_equal(nvb_snapshot_report_message(r, 2), "already running");
	assert_int_equal(nvb_snapshot_report_outcome(r, 3), NVB_SNAPSHOT_FAILED);
	assert_non_null(strstr(err.message, "1 of 4"));
	nvb_snapshot_report_free(r);
}

static void test_state_report(void **state)
{
	(void)state;
	int pids[] = {1, 2};
	st[0] = 3;
	cuda[1] = false;
	struct nvb_snapshot_report *r = NULL;
	assert_int_equal(nvb_snapshot_state(&fake, pids, 2, &r, NULL), 0);
	assert_int_equal(nvb_snapshot_report_state(r, 0), NVB_GPU_STATE_FAILED);
	assert_int_equal(nvb_snapshot_report_outcome(r, 0), NVB_SNAPSHOT_FAILED);
	assert_int_equal(nvb_snapshot_report_state(r, 1), NVB_GPU_STATE_UNKNOWN);
	assert_string_equal(nvb_gpu_state_name(nvb_snapshot_report_state(r, 1)), "unknown");
	/* out of range accessors */
	assert_int_equal(nvb_snapshot_report_pid(r, 9), -1);
	assert_string_equal(nvb_snapshot_report_message(r, 9), "");
	nvb_snapshot_report_free(r);
}

static void test_options_copy(void **state)
{
	(void)state;
	struct nvb_snapshot_options o;
	struct {
		struct nvb_snapshot_options o;
		int extra;
	} big = {{.size = sizeof(big), .timeout_ms = 7}, 0};
	struct nvb_error err;
	assert_int_equal(nvb_snapshot_options_copy(&o, &big.o, &err), 0);
	assert_int_equal(o.timeout_ms, 7);
	big.extra = 1;
	assert_int_equal(nvb_snapshot_options_copy(&o, &big.o, &err), -1);
	assert_int_equal(err.code, NVB_ERR_UNSUPPORTED);
	struct nvb_snapshot_options bad = {.size = 2};
	assert_int_equal(nvb_snapshot_options_copy(&o, &bad, &err), -1);
	assert_int_equal(err.code, NVB_ERR_USAGE);
}

/* ---- container pids ---- */

static char dir[256];

static void put(const char *rel, const char *text)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	char cmd[700];
	snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\"", path);
	assert_int_equal(system(cmd), 0);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int mkdir_tmp(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/nvb-snapshot-XXXXXX");
	assert_non_null(mkdtemp(dir));
	return 0;
}

static int rm_tmp(void **state)
{
	(void)state;
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static void test_cgroup_v2_with_children(void **state)
{
	(void)state;
	put("proc/40/cgroup", "0::/system.slice/runc-abc.scope\n");
	put("cg/system.slice/runc-abc.scope/cgroup.procs", "40\n45\n");
	put("cg/system.slice/runc-abc.scope/inner/cgroup.procs", "41\n");
	put("cg/system.slice/other/cgroup.procs", "99\n");
	char procfs[300], cgfs[300];
	snprintf(procfs, sizeof(procfs), "%s/proc", dir);
	snprintf(cgfs, sizeof(cgfs), "%s/cg", dir);
	int *pids = NULL;
	size_t n = 0;
	struct nvb_error err;
	assert_int_equal(nvb_cgroup_pids(procfs, cgfs, 40, &pids, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_int_equal(pids[0], 40);
	assert_int_equal(pids[1], 41);
	assert_int_equal(pids[2], 45);
	free(pids);
}

static void test_cgroup_v1_and_root(void **state)
{
	(void)state;
	put("proc/50/cgroup", "12:cpu,cpuacct:/docker/x\n5:pids:/docker/x\n0::/\n");
	put("cg/pids/docker/x/cgroup.procs", "50\n52\n");
	put("proc/60/cgroup", "0::/\n");
	char procfs[300], cgfs[300];
	snprintf(procfs, sizeof(procfs), "%s/proc", dir);
	snprintf(cgfs, sizeof(cgfs), "%s/cg", dir);
	int *pids = NULL;
	size_t n = 0;
	struct nvb_error err;
	assert_int_equal(nvb_cgroup_pids(procfs, cgfs, 50, &pids, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_int_equal(pids[1], 52);
	free(pids);
	assert_int_equal(nvb_cgroup_pids(procfs, cgfs, 60, &pids, &n, &err), -1);
	assert_non_null(strstr(err.message, "root cgroup"));
	assert_int_equal(nvb_cgroup_pids(procfs, cgfs, 70, &pids, &n, &err), -1);
	assert_non_null(strstr(err.message, "/70/cgroup"));
}

static void test_oci_state_json(void **state)
{
	(void)state;
	int pid = 0;
	struct nvb_error err;
	assert_int_equal(nvb_container_init_pid("{\"ociVersion\":\"1.0.2\",\"id\":\"c\",\"status\":"
						"\"running\",\"pid\":1234,\"bundle\":\"/b\"}",
						NULL, NULL, &pid, &err),
			 0);
	assert_int_equal(pid, 1234);
	assert_int_equal(nvb_container_init_pid("{\"status\":\"stopped\",\"pid\":0}", NULL, NULL, &pid,
						&err),
			 -1);
	assert_non_null(strstr(err.message, "stopped"));
	assert_int_equal(nvb_container_init_pid("{\"pid\":", NULL, NULL, &pid, &err), -1);
	assert_int_equal(err.code, NVB_ERR_PARSE);
	assert_int_equal(nvb_container_init_pid("-x", NULL, NULL, &pid, &err), -1);
	assert_int_equal(err.code, NVB_ERR_USAGE);
	/* a runtime that fails: its exit status is named */
	assert_int_equal(nvb_container_init_pid("c1", "/bin/false", NULL, &pid, &err), -1);
	assert_non_null(strstr(err.message, "exit status 1"));
}

/* /proc/PID/cgroup text as the kernel writes it, and as it never does: paths that are not
 * absolute or climb with ".." are ignored, never joined to the cgroup mount */
static void test_cgroup_parse_hostile(void **state)
{
	bool is_root = false;
	char *cg = nvb_cgroup_parse("0::/system.slice/runc-abc.scope\n", "/sys/fs/cgroup", &is_root);
	assert_string_equal(cg, "/sys/fs/cgroup/system.slice/runc-abc.scope");
	assert_false(is_root);
	free(cg);
	/* v1 wins over the hybrid's v2 line; "cpu,cpuacct" matches cpuacct as a whole word only */
	cg = nvb_cgroup_parse("12:cpu,cpuacct:/a\n0::/\n", "/cg", &is_root);
	assert_string_equal(cg, "/cg/cpu,cpuacct/a");
	free(cg);
	cg = nvb_cgroup_parse("5:notpids:/x\n", "/cg", &is_root);
	assert_null(cg);
	static const char *const hostile[] = {
		"0::/../../etc\n", "0::/a/../../..\n", "0::relative\n", "0::/a/./b\n",
		"3:pids:/..\n", "3:../..:/x\n", "3:pids/../..:/x\n", "0::\n", "::\n", "\n", "",
	};
	for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		cg = nvb_cgroup_parse(hostile[i], "/cg", &is_root);
		if (cg)
			fail_msg("'%s' gave %s", hostile[i], cg);
	}
	/* a hostile line beside a good one: the good one is used */
	cg = nvb_cgroup_parse("0::/../x\n0::/ok\n", "/cg", &is_root);
	assert_string_equal(cg, "/cg/ok");
	free(cg);
	(void)state;
}

static void test_strerror_and_hints(void **state)
{
	(void)state;
	char buf[128];
	assert_string_equal(nvb_cuda_ckpt_strerror(&fake, 909, buf, sizeof(buf)),
			    "CUDA error 909 (timeout)");
	assert_non_null(nvb_cuda_ckpt_hint(NVB_CU_NOT_SUPPORTED));
	assert_null(nvb_cuda_ckpt_hint(12345));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_checkpoint_then_restore_order, reset),
		cmocka_unit_test_setup(test_checkpoint_timeout_passed, reset),
		cmocka_unit_test_setup(test_checkpoint_failure_rolls_back, reset),
		cmocka_unit_test_setup(test_rollback_restore_fails, reset),
		cmocka_unit_test_setup(test_precheck_touches_nothing, reset),
		cmocka_unit_test_setup(test_restore_mixed_states, reset),
		cmocka_unit_test_setup(test_state_report, reset),
		cmocka_unit_test(test_options_copy),
		cmocka_unit_test_setup_teardown(test_cgroup_v2_with_children, mkdir_tmp, rm_tmp),
		cmocka_unit_test_setup_teardown(test_cgroup_v1_and_root, mkdir_tmp, rm_tmp),
		cmocka_unit_test(test_oci_state_json),
		cmocka_unit_test(test_cgroup_parse_hostile),
		cmocka_unit_test(test_strerror_and_hints),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
