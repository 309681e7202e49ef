/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Small host-layer calls no suite reached (tools/coverage.sh, docs/testing.md "Coverage"): the
 * ELF machine names `nvbind info` and doctor print, the ELF reader given no data or a file
 * descriptor that is not a regular file, and the string vector's lookup.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <fcntl.h>
#include <unistd.h>

#include "core/strv.h"
#include "host/elf.h"

static void test_machine_names(void **state)
{
	(void)state;
	static const struct {
		uint16_t machine;
		const char *name;
	} known[] = {
		{2, "sparc"}, {3, "i386"}, {8, "mips"}, {20, "ppc"}, {21, "ppc64"},
		{22, "s390"}, {40, "arm"}, {43, "sparc64"}, {50, "ia64"}, {62, "x86-64"},
		{183, "aarch64"}, {243, "riscv"}, {258, "loongarch"},
	};
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		assert_string_equal(nvb_elf_machine_name(known[i].machine), known[i].name);
	assert_string_equal(nvb_elf_machine_name(0), "unknown");
	assert_string_equal(nvb_elf_machine_name(0xffff), "unknown");
}

static void test_elf_no_input(void **state)
{
	(void)state;
	struct nvb_elf_info info;
	struct nvb_error err;
	/* no data at all: an empty image, refused as too short to be ELF */
	assert_int_equal(nvb_elf_parse(NULL, 0, "empty", &info, &err), -1);
	assert_int_equal(err.code, NVB_ERR_PARSE);
	assert_non_null(strstr(err.message, "empty"));
	/* a NULL pointer with a length is read as nothing, never dereferenced */
	assert_int_equal(nvb_elf_parse(NULL, 64, "null", &info, &err), -1);
	assert_int_equal(err.code, NVB_ERR_PARSE);
	/* a directory is not a regular file; without an origin the message says "ELF object" */
	int fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(nvb_elf_read_fd(fd, NULL, &info, &err), -1);
	assert_int_equal(err.code, NVB_ERR_INVALID);
	assert_non_null(strstr(err.message, "ELF object: not a regular file"));
	close(fd);
	/* a descriptor that is not open */
	assert_int_equal(nvb_elf_read_fd(-1, "closed", &info, &err), -1);
	assert_int_equal(err.sys_errno, EBADF);
	assert_non_null(strstr(err.message, "closed: stat"));
}

static void test_strv_find(void **state)
{
	(void)state;
	struct nvb_strv l = {0};
	assert_int_equal(nvb_strv_find(&l, "a"), -1);
	assert_int_equal(nvb_strv_push(&l, "compute"), 0);
	assert_int_equal(nvb_strv_push(&l, "utility"), 0);
	assert_int_equal(nvb_strv_find(&l, "utility"), 1);
	assert_int_equal(nvb_strv_find(&l, "compute"), 0);
	assert_int_equal(nvb_strv_find(&l, "util"), -1);
	assert_null(l.v[2]);
	nvb_strv_free(&l);
	assert_int_equal(l.n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_machine_names),
		cmocka_unit_test(test_elf_no_input),
		cmocka_unit_test(test_strv_find),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
