/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Paths the suites did not run (tools/coverage.sh, docs/testing.md "Coverage"): the atomic
 * writer's clean-up of killed writers' temporary files, additional GIDs and hostile configs in
 * apply, and the NVIDIA_REQUIRE_* operators.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cdi/cdi.h"
#include "oci/oci.h"
#include "oci/prepare.h"
#include "probe/nvidia/nvidia.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/nvb-gaps-XXXXXX");
	assert_non_null(mkdtemp(dir));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static int make_file(const char *name, const char *text)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	return fd;
}

static bool exists(const char *name)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return access(path, F_OK) == 0;
}

static size_t count_entries(void)
{
	DIR *d = opendir(dir);
	assert_non_null(d);
	size_t n = 0;
	for (struct dirent *de; (de = readdir(d));)
		n += de->d_name[0] != '.' || (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."));
	closedir(d);
	return n;
}

/* A killed writer's temporary file (nobody holds its lock) is removed by the next write of the
 * same file; one a live writer holds locked, another file's, and a directory that merely has
 * the name are left alone. */
static void test_write_atomic_stale_temps(void **state)
{
	(void)state;
	struct nvb_error err = {0};
	close(make_file(".spec.json.tmp.99999.dead", "torn"));
	int live = make_file(".spec.json.tmp.12345.live", "in progress");
	assert_int_equal(flock(live, LOCK_EX | LOCK_NB), 0);
	close(make_file(".other.json.tmp.99999.dead", "not ours"));
	char sub[128];
	snprintf(sub, sizeof(sub), "%s/.spec.json.tmp.1.dir", dir);
	assert_int_equal(mkdir(sub, 0755), 0);

	assert_int_equal(nvb_write_file_atomic(strcat(strcpy((char[256]){0}, dir), "/spec.json"),
					       "{}\n", 3, 0644, &err), 0);
	assert_false(exists(".spec.json.tmp.99999.dead"));
	assert_true(exists(".spec.json.tmp.12345.live"));
	assert_true(exists(".other.json.tmp.99999.dead"));
	assert_true(exists(".spec.json.tmp.1.dir"));
	assert_true(exists("spec.json"));
	/* the live one goes once its writer is gone */
	close(live);
	assert_int_equal(nvb_write_file_atomic(strcat(strcpy((char[256]){0}, dir), "/spec.json"),
					       "{}\n", 3, 0644, &err), 0);
	assert_false(exists(".spec.json.tmp.12345.live"));
	assert_int_equal(count_entries(), 3); /* spec.json, .other..., the directory */
}

/* A directory that cannot be opened: the error names it and hints. */
static void test_write_atomic_no_directory(void **state)
{
	(void)state;
	struct nvb_error err = {0};
	char path[256];
	snprintf(path, sizeof(path), "%s/missing/spec.json", dir);
	assert_int_equal(nvb_write_file_atomic(path, "x", 1, 0644, &err), -1);
	assert_non_null(strstr(err.message, "missing"));
	assert_true(err.hint[0] != '\0');
}

static struct nvb_cdi_edits *gid_edits(int64_t a, int64_t b)
{
	static struct nvb_cdi_edits e;
	nvb_cdi_edits_clear(&e);
	int64_t *g = nvb_array_push(&e.additional_gids, &e.n_additional_gids, sizeof(*g));
	assert_non_null(g);
	*g = a;
	g = nvb_array_push(&e.additional_gids, &e.n_additional_gids, sizeof(*g));
	assert_non_null(g);
	*g = b;
	return &e;
}

/* additionalGids: created when missing, each GID once; a config whose process.user is not an
 * object is refused naming the field. */
static void test_apply_additional_gids(void **state)
{
	(void)state;
	struct nvb_error err = {0};
	const struct nvb_cdi_edits *list[] = {gid_edits(44, 109)};
	json_t *c = json_pack("{s:[],s:{s:{s:i,s:i,s:[i]}}}", "mounts", "process", "user", "uid", 0,
			      "gid", 0, "additionalGids", 44);
	assert_int_equal(nvb_oci_apply_edits(c, list, 1, &err), 0);
	json_t *gids = json_object_get(json_object_get(json_object_get(c, "process"), "user"),
				       "additionalGids");
	assert_int_equal(json_array_size(gids), 2);
	assert_int_equal(json_integer_value(json_array_get(gids, 1)), 109);
	assert_int_equal(nvb_oci_apply_edits(c, list, 1, &err), 0); /* again: nothing added */
	assert_int_equal(json_array_size(gids), 2);
	json_decref(c);

	c = json_pack("{s:[],s:{s:s}}", "mounts", "process", "user", "root");
	assert_int_equal(nvb_oci_apply_edits(c, list, 1, &err), -1);
	assert_non_null(strstr(err.message, "additionalGids"));
	json_decref(c);
	nvb_cdi_edits_clear((struct nvb_cdi_edits *)list[0]);
}

/* Hostile configs: mounts, linux or process of the wrong type are refused, not replaced. */
static void test_apply_hostile_config(void **state)
{
	(void)state;
	struct nvb_error err = {0};
	struct nvb_cdi_edits e = {0};
	assert_int_equal(nvb_cdi_edits_add_env(&e, "A=1"), 0);
	struct nvb_cdi_device_node *n = nvb_cdi_edits_add_node(&e);
	assert_non_null(n);
	n->path = strdup("/dev/nvidia0");
	n->type = strdup("c");
	n->major = 195;
	n->minor = 0;
	n->file_mode = n->uid = n->gid = NVB_CDI_UNSET;
	const struct nvb_cdi_edits *list[] = {&e};
	const char *bad[] = {
		"{\"mounts\": 5}",
		"{\"mounts\": [], \"process\": []}",
		"{\"mounts\": [], \"process\": {\"env\": {}}}",
		"{\"mounts\": [], \"process\": {}, \"linux\": \"x\"}",
		"{\"mounts\": [], \"process\": {}, \"linux\": {\"devices\": {}}}",
	};
	for (size_t i = 0; i < NVB_ARRAY_SIZE(bad); i++) {
		json_t *c = json_loads(bad[i], 0, NULL);
		assert_non_null(c);
		nvb_error_clear(&err);
		assert_int_equal(nvb_oci_apply_edits(c, list, 1, &err), -1);
		assert_int_equal(err.code, NVB_ERR_INVALID);
		json_decref(c);
	}
	nvb_cdi_edits_clear(&e);
}

/* NVIDIA_REQUIRE_*: every operator, brand alternatives, unknown keys, malformed constraints. */
static void test_require_operators(void **state)
{
	(void)state;
	struct {
		const char *value;
		int want; /* 0 holds, 1 unsatisfied, 2 malformed */
	} cases[] = {
		{"cuda>=12.0", 0},	  {"cuda>12.4", 1},	     {"cuda<=12.4", 0},
		{"cuda<12.4", 1},	  {"cuda=12.4", 0},	     {"driver>=550.54.14", 0},
		{"driver>550.54.14", 1},  {"driver<551", 0},	     {"driver>=535,driver<600", 0},
		{"arch>=8.0", 0},	  {"arch=sm_90", 2},	  {"brand=tesla,driver>=600 brand=nvidia,driver>=540", 0},
		{"brand=tesla,driver>=600 brand=nvidia,driver>=590", 1},
		{"cuda>=11.0 driver>=600", 1}, {"cuda", 2},	     {">=12", 2},
		{"cuda>>>12", 2},	  {"cuda>=x", 2},	     {"", 0},
	};
	for (size_t i = 0; i < NVB_ARRAY_SIZE(cases); i++) {
		struct nvb_error err = {0};
		int r = nvb_require_check("NVIDIA_REQUIRE_CUDA", cases[i].value, "550.54.14", 12040,
					  &err);
		int got = r == 0 ? 0 : err.code == NVB_ERR_INVALID ? 2 : 1;
		if (got != cases[i].want)
			fail_msg("%s: got %d, want %d (%s)", cases[i].value, got, cases[i].want,
				 err.message);
	}
	struct nvb_error err = {0};
	assert_int_equal(nvb_require_check("NVIDIA_REQUIRE_CUDA", "cuda>=12.0", NULL, 0, &err), -1);
	assert_non_null(strstr(err.message, "driver version is unknown"));
	assert_int_equal(nvb_cuda_version_for_driver("550.54.14"), 12040);
	assert_int_equal(nvb_cuda_version_for_driver("390.1"), 0);
	assert_int_equal(nvb_cuda_version_for_driver(NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_write_atomic_stale_temps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_atomic_no_directory, setup, teardown),
		cmocka_unit_test(test_apply_additional_gids),
		cmocka_unit_test(test_apply_hostile_config),
		cmocka_unit_test(test_require_operators),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
