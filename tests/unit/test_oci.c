/* SPDX-License-Identifier: Apache-2.0 */
/* OCI bundle files: hostile state and config.json inputs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "oci/oci.h"

static char bundle[256];

static void sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	assert_int_equal(system(cmd), 0);
}

static int setup(void **state)
{
	snprintf(bundle, sizeof(bundle), "/tmp/nvb-oci-XXXXXX");
	assert_non_null(mkdtemp(bundle));
	sh("mkdir -p %s/rootfs", bundle);
	(void)state;
	return 0;
}

static int teardown(void **state)
{
	sh("rm -rf '%s'", bundle);
	(void)state;
	return 0;
}

static void test_state(void **state)
{
	struct nvb_oci_state s;
	struct nvb_error err;
	const char *good = "{\"ociVersion\":\"1.0.2\",\"id\":\"c1\",\"status\":\"creating\",\"pid\":7,"
			   "\"bundle\":\"/run/b\"}";
	assert_int_equal(nvb_oci_state_parse(good, strlen(good), &s, &err), 0);
	assert_string_equal(s.bundle, "/run/b");
	assert_string_equal(s.id, "c1");
	assert_int_equal(s.pid, 7);
	nvb_oci_state_clear(&s);
	const char *bad[] = {"", "{", "[]", "{\"bundle\":1}", "{\"bundle\":\"\"}", "null",
			     "{\"id\":\"x\"}", "\xff\xfe"};
	for (size_t i = 0; i < NVB_ARRAY_SIZE(bad); i++) {
		assert_int_equal(nvb_oci_state_parse(bad[i], strlen(bad[i]), &s, &err), -1);
		assert_non_null(strstr(err.message, "container state"));
	}
	(void)state;
}

static void test_config_ok(void **state)
{
	sh("echo '{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\"}}' > %s/config.json", bundle);
	struct nvb_error err;
	json_t *c = nvb_oci_config_load(bundle, &err);
	assert_non_null(c);
	char *rootfs = NULL;
	int fd = nvb_oci_rootfs_open(bundle, c, &rootfs, &err);
	assert_true(fd >= 0);
	assert_true(nvb_str_has_suffix(rootfs, "/rootfs"));
	close(fd);
	free(rootfs);
	json_decref(c);
	(void)state;
}

static void test_config_hostile(void **state)
{
	struct nvb_error err;
	/* missing bundle */
	assert_null(nvb_oci_config_load("/nonexistent/bundle", &err));
	assert_non_null(strstr(err.message, "/nonexistent/bundle"));
	/* missing config.json */
	assert_null(nvb_oci_config_load(bundle, &err));
	assert_non_null(strstr(err.message, "config.json"));
	/* symlinked config.json */
	sh("echo '{}' > %s/real.json && ln -s real.json %s/config.json", bundle, bundle);
	assert_null(nvb_oci_config_load(bundle, &err));
	assert_int_equal(err.code, NVB_ERR_SECURITY);
	assert_non_null(strstr(err.message, "symbolic link"));
	sh("rm %s/config.json", bundle);
	/* malformed */
	sh("printf '{\"root\": {\"path\": ' > %s/config.json", bundle);
	assert_null(nvb_oci_config_load(bundle, &err));
	assert_int_equal(err.code, NVB_ERR_PARSE);
	assert_non_null(strstr(err.message, "config.json:"));
	/* duplicate keys, not an object */
	sh("echo '{\"a\":1,\"a\":2}' > %s/config.json", bundle);
	assert_null(nvb_oci_config_load(bundle, &err));
	sh("echo '[1,2]' > %s/config.json", bundle);
	assert_null(nvb_oci_config_load(bundle, &err));
	assert_non_null(strstr(err.message, "not a JSON object"));
	/* huge: over the limit, refused before parsing */
	sh("truncate -s 9M %s/config.json", bundle);
	assert_null(nvb_oci_config_load(bundle, &err));
	assert_non_null(strstr(err.message, "more than"));
	/* a directory or a FIFO */
	sh("rm %s/config.json && mkfifo %s/config.json", bundle, bundle);
	int fd = open(bundle, O_RDONLY);
	close(fd);
	sh("rm %s/config.json && echo '{\"root\":{}}' > %s/config.json", bundle, bundle);
	json_t *c = nvb_oci_config_load(bundle, &err);
	assert_non_null(c);
	assert_int_equal(nvb_oci_rootfs_open(bundle, c, NULL, &err), -1);
	assert_non_null(strstr(err.message, "root.path"));
	json_decref(c);
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_state),
		cmocka_unit_test_setup_teardown(test_config_ok, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_hostile, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
