/* SPDX-License-Identifier: Apache-2.0 */
/*
 * GPU snapshots through the public API (nvb_gpu_checkpoint, _restore, _state,
 * nvb_gpu_container_pids) where test_snapshot's fake driver does not reach
 * (tools/coverage.sh, docs/testing.md "Coverage"): argument checks, option sizes, a host root
 * without libcuda, one whose libcuda is too old for CUDA checkpoint, one whose kernel module does
 * not match (cuInit fails), and the fixture stand-in's checkpoint driver with injected failures
 * (a rollback that cannot unlock, a process the driver reports as failed).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/core.h"
#include "testroot.h"

static char cuda_state[128];

static int setup(void **state)
{
	root_setup(state);
	/* the stand-in libcuda keeps its per-process checkpoint states here */
	snprintf(cuda_state, sizeof(cuda_state), "%s/cuda", root);
	assert_int_equal(mkdir(cuda_state, 0755), 0);
	assert_int_equal(setenv("NVB_STANDIN_CUDA_STATE", cuda_state, 1), 0);
	return 0;
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");
	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
}

/* ------------------------------------------------------------ arguments */

static void test_arguments(void **state)
{
	(void)state;
	struct nvb_error err;
	struct nvb_snapshot_report *r = (void *)&err;
	int pids[] = {getpid(), 0};
	/* no host */
	assert_int_equal(nvb_gpu_checkpoint(NULL, pids, 1, NULL, &r, &err), -1);
	assert_int_equal(err.code, NVB_ERR_USAGE);
	assert_null(r);
	struct nvb_host *host = nvb_host_open(root, &err);
	assert_non_null(host);
	/* a count without pids, a pid that is no process id */
	assert_int_equal(nvb_gpu_restore(host, NULL, 2, NULL, &r, &err), -1);
	assert_int_equal(err.code, NVB_ERR_USAGE);
	assert_int_equal(nvb_gpu_checkpoint(host, pids, 2, NULL, NULL, &err), -1);
	assert_int_equal(err.code, NVB_ERR_USAGE);
	assert_non_null(strstr(err.message, "pid 0"));
	int negative = -4;
	assert_int_equal(nvb_gpu_state(host, &negative, 1, &r, &err), -1);
	assert_int_equal(err.code, NVB_ERR_USAGE);
	assert_non_null(strstr(err.message, "pid -4"));
	/* state needs somewhere to put its report */
	assert_int_equal(nvb_gpu_state(host, pids, 1, NULL, &err), -1);
	assert_int_equal(err.code, NVB_ERR_USAGE);
	/* container pids: every pointer is needed */
	int *out = NULL;
	size_t n = 0;
	assert_int_equal(nvb_gpu_container_pids(host, NULL, NULL, &out, &n, &err), -1);
	assert_int_equal(err.code, NVB_ERR_USAGE);
	assert_int_equal(nvb_gpu_container_pids(host, "c1", NULL, NULL, &n, &err), -1);
	assert_int_equal(nvb_gpu_container_pids(NULL, "c1", NULL, &out, &n, &err), -1);
	nvb_host_free(host);
}

/* The report accessors with NULL and an index past the end. */
static void test_report_null(void **state)
{
	(void)state;
	assert_int_equal(nvb_snapshot_report_count(NULL), 0);
	assert_int_equal(nvb_snapshot_report_pid(NULL, 0), -1);
	assert_int_equal(nvb_snapshot_report_state(NULL, 0), NVB_GPU_STATE_UNKNOWN);
	assert_int_equal(nvb_snapshot_report_outcome(NULL, 0), NVB_SNAPSHOT_SKIPPED);
	assert_string_equal(nvb_snapshot_report_message(NULL, 0), "");
	assert_null(nvb_snapshot_report_json(NULL));
	nvb_snapshot_report_free(NULL);
	assert_string_equal(nvb_gpu_state_name(NVB_GPU_STATE_FAILED), "failed");
	assert_string_equal(nvb_gpu_state_name(NVB_GPU_STATE_LOCKED), "locked");
	assert_string_equal(nvb_gpu_state_name((enum nvb_gpu_state)17), "unknown");
}

/* The snapshot options follow the rule of every option struct. */
struct newer_options {
	struct nvb_snapshot_options o;
	uint32_t newer;
};

static void test_option_sizes(void **state)
{
	(void)state;
	struct nvb_error err;
	struct nvb_host *host = nvb_host_open(root, &err);
	assert_non_null(host);
	int pid = getpid();
	struct nvb_snapshot_options small = {.size = 4};
	assert_int_equal(nvb_gpu_checkpoint(host, &pid, 1, &small, NULL, &err), -1);
	assert_int_equal(err.code, NVB_ERR_USAGE);
	assert_non_null(strstr(err.message, "size 4"));
	struct newer_options newer = {.o = {.size = sizeof(newer)}, .newer = 1};
	assert_int_equal(nvb_gpu_restore(host, &pid, 1, &newer.o, NULL, &err), -1);
	assert_int_equal(err.code, NVB_ERR_UNSUPPORTED);
	int *pids = NULL;
	size_t n = 0;
	assert_int_equal(nvb_gpu_container_pids(host, "c1", &newer.o, &pids, &n, &err), -1);
	assert_int_equal(err.code, NVB_ERR_UNSUPPORTED);
	/* a newer struct with its tail zero is accepted: the failure is then the missing driver */
	newer.newer = 0;
	assert_int_equal(nvb_gpu_restore(host, &pid, 1, &newer.o, NULL, &err), -1);
	assert_int_equal(err.code, NVB_ERR_NOT_FOUND);
	assert_non_null(strstr(err.message, "libcuda.so.1"));
	nvb_host_free(host);
}

/* ------------------------------------------------------------ the driver */

static void test_no_libcuda(void **state)
{
	(void)state;
	struct nvb_host *host = fixture_host("no-libs");
	if (!host)
		return;
	struct nvb_error err;
	struct nvb_snapshot_report *r = NULL;
	int pid = getpid();
	assert_int_equal(nvb_gpu_state(host, &pid, 1, &r, &err), -1);
	assert_null(r);
	assert_int_equal(err.code, NVB_ERR_NOT_FOUND);
	assert_non_null(strstr(err.message, "libcuda.so.1 is not in the library set"));
	nvb_host_free(host);
}

/* A root with only lib as its libcuda.so.1 (copied there). */
static struct nvb_host *root_with_libcuda(const char *name, const char *lib)
{
	char cmd[1024];
	snprintf(cmd, sizeof(cmd),
		 "mkdir -p '%s/%s/usr/lib/x86_64-linux-gnu' && "
		 "cp '%s' '%s/%s/usr/lib/x86_64-linux-gnu/libcuda.so.1'",
		 root, name, lib, root, name);
	assert_int_equal(system(cmd), 0);
	snprintf(cmd, sizeof(cmd), "%s/%s", root, name);
	struct nvb_error err;
	struct nvb_host *host = nvb_host_open(cmd, &err);
	assert_non_null(host);
	return host;
}

/* A libcuda.so.1 of a driver before r570: cuInit and cuDriverGetVersion, no checkpoint entry
 * points (a library built here with cc). Refused as too old, naming the first missing call
 * and the CUDA version the library reports. */
static void test_old_driver(void **state)
{
	(void)state;
	char src[128], lib[128], cmd[512];
	snprintf(src, sizeof(src), "%s/old.c", root);
	snprintf(lib, sizeof(lib), "%s/old.so", root);
	write_text(src, "int cuInit(unsigned f) { return (int)f; }\n"
			"int cuDriverGetVersion(int *v) { *v = 12040; return 0; }\n");
	snprintf(cmd, sizeof(cmd), "cc -shared -fPIC -o '%s' '%s' 2>/dev/null", lib, src);
	if (system(cmd) != 0) {
		print_message("no C compiler to build an old libcuda: skipped\n");
		return;
	}
	struct nvb_host *host = root_with_libcuda("old", lib);
	struct nvb_error err;
	int pid = getpid();
	assert_int_equal(nvb_gpu_checkpoint(host, &pid, 1, NULL, NULL, &err), -1);
	assert_int_equal(err.code, NVB_ERR_UNSUPPORTED);
	assert_non_null(strstr(err.message, "has no cuCheckpointProcessLock"));
	assert_non_null(strstr(err.message, "CUDA 12.4"));
	assert_non_null(strstr(err.hint, "r570"));
	nvb_host_free(host);
}

/* A libcuda.so.1 that is some other library (no cuInit), and one that is no library at all. */
static void test_not_libcuda(void **state)
{
	(void)state;
	const char *lib = "/usr/lib/x86_64-linux-gnu/libyaml-0.so.2";
	struct stat st;
	if (stat(lib, &st) < 0) {
		print_message("%s missing: skipped\n", lib);
		return;
	}
	struct nvb_host *host = root_with_libcuda("other", lib);
	struct nvb_error err;
	int pid = getpid();
	assert_int_equal(nvb_gpu_checkpoint(host, &pid, 1, NULL, NULL, &err), -1);
	assert_int_equal(err.code, NVB_ERR_DRIVER);
	assert_non_null(strstr(err.message, "has no cuInit"));
	nvb_host_free(host);
	char text[128];
	snprintf(text, sizeof(text), "%s/text.so", root);
	write_text(text, "not an ELF file\n");
	host = root_with_libcuda("text", text);
	assert_int_equal(nvb_gpu_checkpoint(host, &pid, 1, NULL, NULL, &err), -1);
	assert_int_equal(err.code, NVB_ERR_DRIVER);
	assert_non_null(strstr(err.message, "cannot load"));
	nvb_host_free(host);
}

/* The kernel module of the mismatch root is of another version: cuInit fails. */
static void test_cuinit_fails(void **state)
{
	(void)state;
	struct nvb_host *host = fixture_host("mismatch");
	if (!host)
		return;
	struct nvb_error err;
	int pid = getpid();
	struct nvb_snapshot_report *r = NULL;
	assert_int_equal(nvb_gpu_restore(host, &pid, 1, NULL, &r, &err), -1);
	assert_null(r);
	assert_int_equal(err.code, NVB_ERR_DRIVER);
	assert_non_null(strstr(err.message, "cuInit(0)"));
	nvb_host_free(host);
}

/* The fixture's stand-in driver: this process is a CUDA process once libcuda is initialised. */
static void test_standin_failures(void **state)
{
	(void)state;
	struct nvb_host *host = fixture_host("debian-4gpu");
	if (!host)
		return;
	struct nvb_error err;
	struct nvb_snapshot_report *r = NULL;
	int self = getpid();
	char path[256], text[128];

	/* running, and a process the driver does not know (pid 1 is no CUDA process) */
	int two[] = {self, 1};
	assert_int_equal(nvb_gpu_state(host, two, 2, &r, &err), 0);
	assert_int_equal(nvb_snapshot_report_state(r, 0), NVB_GPU_STATE_RUNNING);
	assert_int_equal(nvb_snapshot_report_outcome(r, 1), NVB_SNAPSHOT_FAILED);
	assert_int_equal(nvb_snapshot_report_pid(r, 1), 1);
	assert_int_equal(nvb_snapshot_report_pid(r, 2), -1);
	nvb_snapshot_report_free(r);

	/* checkpoint fails, and so does the rollback's unlock: the process is left locked */
	snprintf(path, sizeof(path), "%s/fail", cuda_state);
	snprintf(text, sizeof(text), "checkpoint %d\nunlock %d\n", self, self);
	write_text(path, text);
	assert_int_equal(nvb_gpu_checkpoint(host, &self, 1, NULL, &r, &err), -1);
	assert_int_equal(err.code, NVB_ERR_DRIVER);
	assert_non_null(r);
	assert_int_equal(nvb_snapshot_report_outcome(r, 0), NVB_SNAPSHOT_NOT_UNDONE);
	assert_int_equal(nvb_snapshot_report_state(r, 0), NVB_GPU_STATE_LOCKED);
	assert_non_null(strstr(nvb_snapshot_report_message(r, 0), "rollback: cuCheckpointProcessUnlock"));
	assert_non_null(strstr(nvb_snapshot_report_message(r, 0), "left locked"));
	char *json = nvb_snapshot_report_json(r);
	assert_non_null(json);
	assert_non_null(strstr(json, "\"not-undone\""));
	assert_non_null(strstr(json, "\"locked\""));
	free(json);
	nvb_snapshot_report_free(r);

	/* without the failures, restore unlocks it */
	assert_int_equal(unlink(path), 0);
	assert_int_equal(nvb_gpu_restore(host, &self, 1, NULL, &r, &err), 0);
	assert_int_equal(nvb_snapshot_report_outcome(r, 0), NVB_SNAPSHOT_DONE);
	assert_int_equal(nvb_snapshot_report_state(r, 0), NVB_GPU_STATE_RUNNING);
	nvb_snapshot_report_free(r);

	/* a process the driver reports as failed is not restored; the call fails (no report asked) */
	snprintf(path, sizeof(path), "%s/%d.state", cuda_state, self);
	write_text(path, "3\n");
	assert_int_equal(nvb_gpu_restore(host, &self, 1, NULL, NULL, &err), -1);
	assert_int_equal(err.code, NVB_ERR_DRIVER);
	assert_non_null(strstr(err.message, "checkpoint state as failed"));
	/* a checkpoint with one process unknown to the driver: nothing is attempted */
	write_text(path, "0\n");
	assert_int_equal(nvb_gpu_checkpoint(host, two, 2, NULL, &r, &err), -1);
	json = nvb_snapshot_report_json(r);
	assert_non_null(json);
	assert_non_null(strstr(json, "\"skipped\""));
	free(json);
	assert_int_equal(nvb_snapshot_report_outcome(r, 0), NVB_SNAPSHOT_SKIPPED);
	assert_int_equal(nvb_snapshot_report_state(r, 0), NVB_GPU_STATE_RUNNING);
	nvb_snapshot_report_free(r);
	nvb_host_free(host);
}

/* ------------------------------------------------------ container processes */

static void test_container_pids_errors(void **state)
{
	(void)state;
	struct nvb_error err;
	struct nvb_host *host = nvb_host_open(root, &err);
	assert_non_null(host);
	int *pids = NULL;
	size_t n = 7;
	/* a runtime that cannot be run */
	struct nvb_snapshot_options o = {.size = sizeof(o), .runtime = "/nonexistent/runc",
					 .runtime_root = "/run/none"};
	assert_int_equal(nvb_gpu_container_pids(host, "c1", &o, &pids, &n, &err), -1);
	assert_non_null(strstr(err.message, "cannot run /nonexistent/runc"));
	assert_null(pids);
	assert_int_equal(n, 0);
	/* OCI states of containers that do not run */
	assert_int_equal(nvb_gpu_container_pids(host, "{\"status\":\"creating\",\"pid\":5}", NULL,
						&pids, &n, &err), -1);
	assert_int_equal(err.code, NVB_ERR_INVALID);
	assert_non_null(strstr(err.message, "the container is creating"));
	assert_int_equal(nvb_gpu_container_pids(host, "{\"status\":\"stopped\",\"pid\":5}", NULL,
						&pids, &n, &err), -1);
	assert_non_null(strstr(err.message, "stopped"));
	/* a pid whose /proc entry is gone */
	assert_int_equal(nvb_gpu_container_pids(host, "{\"status\":\"running\",\"pid\":2147483647}",
						NULL, &pids, &n, &err), -1);
	assert_non_null(strstr(err.message, "/proc/2147483647/cgroup"));
	nvb_host_free(host);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_arguments),
		cmocka_unit_test(test_report_null),
		cmocka_unit_test(test_option_sizes),
		cmocka_unit_test(test_no_libcuda),
		cmocka_unit_test(test_old_driver),
		cmocka_unit_test(test_not_libcuda),
		cmocka_unit_test(test_cuinit_fails),
		cmocka_unit_test(test_standin_failures),
		cmocka_unit_test(test_container_pids_errors),
	};
	return cmocka_run_group_tests(tests, setup, root_teardown);
}
