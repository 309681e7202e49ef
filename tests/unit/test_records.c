/* SPDX-License-Identifier: Apache-2.0 */
/* Container records, the wrapper's counters and structured log lines (oci/records.h, log.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "oci/records.h"
#include "testroot.h"

static char dir[256];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/nvb-records-XXXXXX");
	assert_non_null(mkdtemp(dir));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	sh("rm -rf '%s'", dir);
	return 0;
}

static void write_one(const char *state_dir, const char *id, const char *runtime_root,
		      int64_t created)
{
	char *devices[] = {"nvidia.com/gpu=0", "nvidia.com/gpu=1"};
	char *gpus[] = {"GPU-aaaa", "GPU-bbbb"};
	struct nvb_container_record rec = {
		.id = (char *)id, .bundle = "/b/x", .engine = "docker",
		.runtime_root = (char *)runtime_root, .devices = devices, .n_devices = 2,
		.gpus = gpus, .n_gpus = 2, .created_unix = created,
	};
	struct nvb_error err;
	assert_int_equal(nvb_record_write(state_dir, &rec, &err), 0);
}

static void test_record_round_trip(void **state)
{
	(void)state;
	char sub[300];
	snprintf(sub, sizeof(sub), "%s/deep/state", dir); /* created on the way */
	write_one(sub, "c1", dir, (int64_t)time(NULL));
	struct nvb_container_record rec;
	struct nvb_error err;
	assert_int_equal(nvb_record_read(sub, "c1", &rec, &err), 0);
	assert_string_equal(rec.id, "c1");
	assert_string_equal(rec.bundle, "/b/x");
	assert_string_equal(rec.engine, "docker");
	assert_int_equal(rec.n_devices, 2);
	assert_string_equal(rec.devices[1], "nvidia.com/gpu=1");
	assert_int_equal(rec.n_gpus, 2);
	assert_string_equal(rec.gpus[0], "GPU-aaaa");
	assert_true(rec.age_s >= 0 && rec.age_s < 5);
	assert_false(rec.stale);
	nvb_record_clear(&rec);
	/* the file is the documented JSON */
	sh("jq -e '.version == 1 and .id == \"c1\" and (.gpus | length) == 2 and (.created | test(\"Z$\"))' %s/containers/c1.json >/dev/null", sub);
	assert_int_equal(nvb_record_remove(sub, "c1", &err), 0);
	assert_int_equal(nvb_record_read(sub, "c1", &rec, &err), -1);
	assert_int_equal(nvb_record_remove(sub, "c1", &err), 0); /* absent: fine */
}

static void test_record_ids_refused(void **state)
{
	(void)state;
	struct nvb_error err;
	const char *bad[] = {"", ".", "..", "../x", "a/b", "a b", "x\n"};
	for (size_t i = 0; i < NVB_ARRAY_SIZE(bad); i++) {
		assert_false(nvb_record_id_valid(bad[i]));
		assert_int_equal(nvb_record_remove(dir, bad[i], &err), -1);
	}
	struct nvb_container_record rec = {.id = "../escape", .created_unix = 1};
	assert_int_equal(nvb_record_write(dir, &rec, &err), -1);
	assert_true(nvb_record_id_valid("0a1b-c_d.e"));
}

static void test_records_list_and_stale(void **state)
{
	(void)state;
	struct nvb_container_record *recs;
	size_t n;
	struct nvb_error err;
	assert_int_equal(nvb_records_list(dir, &recs, &n, &err), 0); /* no folder: none */
	assert_int_equal(n, 0);
	int64_t old = (int64_t)time(NULL) - 3600;
	sh("mkdir -p %s/runc/alive", dir);
	char runc_root[300];
	snprintf(runc_root, sizeof(runc_root), "%s/runc", dir);
	write_one(dir, "zz", runc_root, (int64_t)time(NULL)); /* young: never stale */
	write_one(dir, "alive", runc_root, old);
	write_one(dir, "gone", runc_root, old);
	sh("echo 'not json' > %s/containers/broken.json; touch %s/containers/.tmp-x", dir, dir);
	assert_int_equal(nvb_records_list(dir, &recs, &n, &err), 0);
	assert_int_equal(n, 3); /* broken skipped */
	assert_string_equal(recs[0].id, "alive");
	assert_false(recs[0].stale);
	assert_true(recs[0].age_s >= 3600);
	assert_string_equal(recs[1].id, "gone");
	assert_true(recs[1].stale);
	assert_string_equal(recs[2].id, "zz");
	assert_false(recs[2].stale);
	nvb_records_free(recs, n);
}

static void test_engine_guess(void **state)
{
	(void)state;
	json_t *podman = json_pack("{s:{s:s}}", "annotations", "io.podman.annotations.autoremove", "FALSE");
	json_t *cri = json_pack("{s:{s:s}}", "annotations", "io.kubernetes.cri.container-type", "container");
	assert_string_equal(nvb_record_guess_engine(NULL, podman), "podman");
	assert_string_equal(nvb_record_guess_engine(NULL, cri), "containerd");
	assert_string_equal(nvb_record_guess_engine("/run/docker/runtime-runc/moby", NULL), "docker");
	assert_string_equal(nvb_record_guess_engine("/run/containerd/runc/k8s.io", NULL), "containerd");
	assert_string_equal(nvb_record_guess_engine("/tmp/x", NULL), "unknown");
	json_decref(podman);
	json_decref(cri);
}

#define WRITERS 20
#define ROUNDS 10

static void test_counters_concurrent(void **state)
{
	(void)state;
	pid_t pids[WRITERS];
	for (int w = 0; w < WRITERS; w++) {
		pids[w] = fork();
		assert_true(pids[w] >= 0);
		if (pids[w] == 0) {
			struct nvb_error err;
			for (int i = 0; i < ROUNDS; i++) {
				enum nvb_errc code = i == 0 ? (w % 2 ? NVB_ERR_NOT_FOUND : NVB_ERR_INVALID) : NVB_OK;
				if (nvb_stats_add(dir, code, 0.003 * (i + 1), &err) < 0)
					_exit(1);
			}
			_exit(0);
		}
	}
	for (int w = 0; w < WRITERS; w++) {
		int status;
		assert_int_equal(waitpid(pids[w], &status, 0), pids[w]);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	struct nvb_stats s;
	struct nvb_error err;
	assert_int_equal(nvb_stats_read(dir, &s, &err), 0);
	assert_int_equal(s.creates, WRITERS * ROUNDS); /* no update lost */
	assert_int_equal(s.failures, WRITERS);
	assert_int_equal(s.n_failure, 2);
	for (size_t i = 0; i < s.n_failure; i++) {
		assert_true(!strcmp(s.failure[i].reason, "not-found") ||
			    !strcmp(s.failure[i].reason, "invalid"));
		assert_int_equal(s.failure[i].count, WRITERS / 2);
	}
	assert_int_equal(s.latency_count, WRITERS * ROUNDS);
	/* cumulative buckets: 0.003 s (i=0) is <= 0.005, everything <= 0.05 (0.030 max) */
	assert_int_equal(s.buckets[0], 0);                /* <= 1 ms */
	assert_int_equal(s.buckets[2], WRITERS * 1);      /* <= 5 ms: 0.003 */
	assert_int_equal(s.buckets[3], WRITERS * 3);      /* <= 10 ms: 0.003 0.006 0.009 */
	assert_int_equal(s.buckets[5], WRITERS * ROUNDS); /* <= 50 ms */
	for (size_t i = 1; i < NVB_STATS_N_BOUNDS; i++)
		assert_true(s.buckets[i] >= s.buckets[i - 1]);
	assert_true(s.latency_sum > 0.164 * WRITERS && s.latency_sum < 0.166 * WRITERS);
	sh("jq -e '.creates == %d and (.latency_seconds.le | length) == %d' %s/stats >/dev/null",
	   WRITERS * ROUNDS, NVB_STATS_N_BOUNDS, dir);
}

static void test_counters_missing_file(void **state)
{
	(void)state;
	struct nvb_stats s;
	struct nvb_error err;
	assert_int_equal(nvb_stats_read(dir, &s, &err), 0);
	assert_int_equal(s.creates, 0);
	assert_true(s.le[0] > 0.0009 && s.le[0] < 0.0011);
}

/* one JSON log line, read back with jq: the documented fields, absent ones left out */
static void test_json_log_fields(void **state)
{
	(void)state;
	char path[300];
	snprintf(path, sizeof(path), "%s/log", dir);
	struct nvb_error err;
	assert_int_equal(nvb_log_setup(NVB_LOG_INFO, NVB_LOG_JSON, path, &err), 0);
	nvb_log_set_program("nvbind-runtime");
	nvb_log_set_context(&(struct nvb_log_fields){.container = "c\"1",
						     .request = "nvidia.com/gpu=0 nvidia.com/gpu=1",
						     .gpus = "GPU-a GPU-b", .duration_us = -1});
	nvb_log_write_fields(NVB_LOG_ERROR, "runtime",
			     &(struct nvb_log_fields){.duration_us = 1234, .error = "not-found"},
			     "line one\n(forged)");
	nvb_log_set_context(NULL);
	nvb_log_write(NVB_LOG_INFO, "cdi", "plain");
	nvb_log_setup(NVB_LOG_WARN, NVB_LOG_TEXT, "/dev/null", &err);
	sh("test $(wc -l < %s) -eq 2", path);
	sh("head -1 %s | jq -e '.program == \"nvbind-runtime\" and .level == \"error\" and "
	   ".container == \"c\\\"1\" and .request == [\"nvidia.com/gpu=0\",\"nvidia.com/gpu=1\"] and "
	   ".gpus == [\"GPU-a\",\"GPU-b\"] and .duration_us == 1234 and .error == \"not-found\" and "
	   "(.time | test(\"Z$\")) and .msg == \"line one\\n(forged)\"' >/dev/null", path);
	sh("tail -1 %s | jq -e '.msg == \"plain\" and (has(\"container\") | not) and "
	   "(has(\"gpus\") | not) and (has(\"duration_us\") | not) and (has(\"error\") | not)' >/dev/null",
	   path);
}

/* under systemd, text lines to the journal stream start with <N> */
static void test_journal_prefix(void **state)
{
	(void)state;
	char path[300];
	snprintf(path, sizeof(path), "%s/journal", dir);
	struct nvb_error err;
	assert_int_equal(nvb_log_setup(NVB_LOG_INFO, NVB_LOG_TEXT, path, &err), 0);
	nvb_log_set_program(NULL); /* the executable's name again */
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	char js[64];
	snprintf(js, sizeof(js), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", js, 1);
	nvb_warn("runtime", "to the journal");
	setenv("JOURNAL_STREAM", "1:1", 1); /* another stream: plain text */
	nvb_warn("runtime", "elsewhere");
	unsetenv("JOURNAL_STREAM");
	nvb_log_setup(NVB_LOG_WARN, NVB_LOG_TEXT, "/dev/null", &err);
	sh("head -1 %s | grep -q '^<4>runtime: to the journal$'", path);
	sh("tail -1 %s | grep -q '^test_records\\[[0-9]*\\] .* warn  runtime: elsewhere$'", path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_record_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_record_ids_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_records_list_and_stale, setup, teardown),
		cmocka_unit_test(test_engine_guess),
		cmocka_unit_test_setup_teardown(test_counters_concurrent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_counters_missing_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_json_log_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_prefix, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
