/* SPDX-License-Identifier: Apache-2.0 */
/*
 * doctor's runtime check, which no suite ran (tools/coverage.sh, docs/testing.md "Coverage"):
 * stand-in runtimes that print a runc version before and after the CVE-2024-45310 fix, another
 * runtime, one that hangs, one that cannot be run, runc found on PATH, and another host root.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config/config.h"
#include "doctor/doctor.h"

static char dir[64];
static struct nvb_host *host;
static struct nvb_config *cfg;
static struct nvb_doctor_report report;
static struct nvb_doctor_ctx ctx;

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/nvb-covdoctor-XXXXXX");
	assert_non_null(mkdtemp(dir));
	struct nvb_error err;
	assert_non_null(host = nvb_host_open("/", &err));
	assert_non_null(cfg = nvb_config_defaults(&err));
	memset(&report, 0, sizeof(report));
	ctx = (struct nvb_doctor_ctx){.host = host, .cfg = cfg, .report = &report};
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	for (size_t i = 0; i < report.n_findings; i++) {
		free(report.findings[i].code);
		free(report.findings[i].message);
		free(report.findings[i].fix);
	}
	free(report.findings);
	nvb_config_free(cfg);
	nvb_host_free(host);
	return 0;
}

/* An executable script at dir/name that runs body; its path. */
static const char *runtime(const char *name, const char *body)
{
	static char path[128];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "#!/bin/sh\n%s\n", body);
	fclose(f);
	assert_int_equal(chmod(path, 0755), 0);
	return path;
}

static void use(const char *path)
{
	struct nvb_error err;
	if (nvb_config_set(cfg, "runtime.low_level", path, "test", &err) < 0)
		fail_msg("%s", err.message);
}

/* The codes of the findings the runtime check adds for a stub runtime NAME that prints
 * "runc version VERSION", comma-separated, in order. */
static const char *codes_for(const char *name, const char *version)
{
	static char codes[256];
	char script[128];
	snprintf(script, sizeof(script), "echo 'runc version %s'", version);
	use(runtime(name, script));
	size_t before = report.n_findings;
	struct nvb_error err;
	assert_int_equal(nvb_doctor_check_runtime(&ctx, &err), 0);
	codes[0] = '\0';
	for (size_t i = before; i < report.n_findings; i++)
		snprintf(codes + strlen(codes), sizeof(codes) - strlen(codes), "%s%s",
			 i > before ? "," : "", report.findings[i].code);
	return codes;
}

/* runc 1.1.5 is affected: a warning naming the runtime and its version, with the fix; 1.1.14
 * and 1.2.0 are fine and say so. runc before 1.0.0-rc91 skips createRuntime hooks (the
 * spec's nvbind-hook): an error with the way out, then the race warning; rc91 and 1.0.0
 * itself run them. */
static void test_runc_versions(void **state)
{
	(void)state;
	struct nvb_error err;
	const char *old = runtime("runc-old", "echo 'runc version 1.1.5+ds1'; echo 'commit: v1.1.5'");
	use(old);
	assert_int_equal(nvb_doctor_check_runtime(&ctx, &err), 0);
	assert_int_equal(report.n_findings, 1);
	const struct nvb_doctor_finding *w = &report.findings[0];
	assert_int_equal(w->severity, NVB_DOCTOR_WARNING);
	assert_string_equal(w->code, "runc-mount-race");
	assert_non_null(strstr(w->message, "runc-old is runc version 1.1.5+ds1: affected by CVE-2024-45310"));
	assert_null(strstr(w->message, "commit"));
	assert_non_null(strstr(w->fix, "runc 1.1.14 or later"));

	use(runtime("runc-fixed", "echo 'runc version 1.1.14'"));
	assert_int_equal(nvb_doctor_check_runtime(&ctx, &err), 0);
	assert_int_equal(report.n_findings, 2);
	assert_string_equal(report.findings[1].code, "runc-ok");
	assert_int_equal(report.findings[1].severity, NVB_DOCTOR_OK);
	assert_non_null(strstr(report.findings[1].message, "runc-fixed: runc version 1.1.14"));

	assert_string_equal(codes_for("runc-2", "2.0.0"), "runc-ok");
	assert_string_equal(codes_for("runc-1-0", "1.0.99"), "runc-mount-race");

	assert_string_equal(codes_for("runc-rc90", "1.0.0-rc90"), "runc-no-create-runtime,runc-mount-race");
	const struct nvb_doctor_finding *e = &report.findings[4];
	assert_int_equal(e->severity, NVB_DOCTOR_ERROR);
	assert_non_null(strstr(e->message, "runc-rc90 is runc version 1.0.0-rc90: it skips createRuntime hooks"));
	assert_non_null(strstr(e->fix, "hookName createContainer"));
	assert_string_equal(codes_for("runc-rc91", "1.0.0-rc91"), "runc-mount-race");
	assert_string_equal(codes_for("runc-0-1", "0.1.1"), "runc-no-create-runtime,runc-mount-race");
	assert_int_equal(report.n_findings, 9);
}

/* Runtimes the check cannot judge add nothing: crun's version, silence, one that hangs (given
 * up on after its deadline, not waited for), one that cannot be run; and a host root other
 * than / is not this machine's runtime. */
static void test_runtimes_not_judged(void **state)
{
	(void)state;
	struct nvb_error err;
	use(runtime("crun", "echo 'crun version 1.8.1'"));
	assert_int_equal(nvb_doctor_check_runtime(&ctx, &err), 0);
	use(runtime("silent", "exit 0"));
	assert_int_equal(nvb_doctor_check_runtime(&ctx, &err), 0);

	use(runtime("hung", "exec sleep 30"));
	time_t t0 = time(NULL);
	assert_int_equal(nvb_doctor_check_runtime(&ctx, &err), 0);
	assert_true(time(NULL) - t0 < 10);

	char missing[128];
	snprintf(missing, sizeof(missing), "%s/not-there", dir);
	use(missing);
	assert_int_equal(nvb_doctor_check_runtime(&ctx, &err), 0);
	assert_int_equal(report.n_findings, 0);

	use(runtime("runc-old", "echo 'runc version 1.1.5'"));
	struct nvb_host *other = nvb_host_open(dir, &err);
	assert_non_null(other);
	ctx.host = other;
	assert_int_equal(nvb_doctor_check_runtime(&ctx, &err), 0);
	assert_int_equal(report.n_findings, 0);
	ctx.host = host;
	nvb_host_free(other);
}

/* Without runtime.low_level, runc is looked for on PATH (the first executable one). */
static void test_runc_on_path(void **state)
{
	(void)state;
	struct nvb_error err;
	char bin[96], empty[96];
	snprintf(bin, sizeof(bin), "%s/bin", dir);
	snprintf(empty, sizeof(empty), "%s/empty", dir);
	assert_int_equal(mkdir(bin, 0755), 0);
	assert_int_equal(mkdir(empty, 0755), 0);
	runtime("bin/runc", "echo 'runc version 1.1.12'");
	const char *path = getenv("PATH");
	char *saved = path ? strdup(path) : NULL;
	char newpath[256];
	snprintf(newpath, sizeof(newpath), "%s:%s", empty, bin);
	setenv("PATH", newpath, 1);
	int r = nvb_doctor_check_runtime(&ctx, &err);
	if (saved)
		setenv("PATH", saved, 1);
	free(saved);
	assert_int_equal(r, 0);
	assert_int_equal(report.n_findings, 1);
	assert_string_equal(report.findings[0].code, "runc-mount-race");
	assert_non_null(strstr(report.findings[0].message, "/bin/runc is runc version 1.1.12"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_runc_versions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_runtimes_not_judged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_runc_on_path, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
