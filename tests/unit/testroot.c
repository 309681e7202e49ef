/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers of the unit tests that build host roots (testroot.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>

#include "testroot.h"

char root[256];

void sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	assert_int_equal(system(cmd), 0);
}

void put(const char *rel, const char *content)
{
	char path[512];
	snprintf(path, sizeof(path), "%s%s", root, rel);
	sh("mkdir -p \"$(dirname '%s')\"", path);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
}

void link_to(const char *rel, const char *target)
{
	sh("mkdir -p \"$(dirname '%s%s')\" && ln -sfn '%s' '%s%s'", root, rel, target, root, rel);
}

void node(const char *rel, unsigned major, unsigned minor)
{
	sh("mkdir -p \"$(dirname '%s%s')\" && mknod -m 666 '%s%s' c %u %u", root, rel, root, rel,
	   major, minor);
}

int root_setup(void **state)
{
	snprintf(root, sizeof(root), "/tmp/nvb-unit-XXXXXX");
	assert_non_null(mkdtemp(root));
	(void)state;
	return 0;
}

int root_teardown(void **state)
{
	if (getenv("NVB_TEST_KEEP_ROOTS")) /* to look at a failing tree */
		print_message("kept %s\n", root);
	else
		sh("rm -rf '%s'", root);
	(void)state;
	return 0;
}

struct nvb_inventory *probe_root(const char *dir, unsigned flags)
{
	struct nvb_error err;
	struct nvb_host *host = nvb_host_open(dir, &err);
	assert_non_null(host);
	struct nvb_inventory *inv = nvb_inventory_probe(host, NVB_PROBE_NO_NVML | flags, &err);
	assert_non_null(inv);
	nvb_host_free(host);
	return inv;
}

const struct nvb_problem *find_problem(const struct nvb_inventory *inv, const char *code,
					      const char *in_message)
{
	for (size_t i = 0; i < inv->n_problems; i++)
		if (!strcmp(inv->problems[i].code, code) &&
		    (!in_message || strstr(inv->problems[i].message, in_message)))
			return &inv->problems[i];
	return NULL;
}

bool fixture_root(const char *name, char *out, size_t cap)
{
	const char *base = getenv("NVB_FIXTURE_ROOTS");
	struct stat st;
	snprintf(out, cap, "%s/%s", base ? base : "", name);
	if (!base || stat(out, &st) < 0) {
		print_message("fixture root %s not built (NVB_FIXTURE_ROOTS): skipped\n", name);
		return false;
	}
	return true;
}

struct nvb_host *fixture_host(const char *name)
{
	char dir[1024];
	if (!fixture_root(name, dir, sizeof(dir)))
		return NULL;
	struct nvb_error err;
	struct nvb_host *host = nvb_host_open(dir, &err);
	assert_non_null(host);
	return host;
}
