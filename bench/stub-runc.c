/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stub-runc: a stand-in "low-level runtime" for measuring nvbind-runtime alone. bench/run.sh
 * puts it first in PATH under the name runc, so the wrapper does all its work (parse argv,
 * read config.json, resolve, apply, write) and then execs this instead of the real runc.
 * Linked statically and doing almost nothing, it adds little to the wall time and nothing
 * measurable to the peak RSS wait4() reports for the wrapper's process.
 *
 * When STUB_EXPECT is set, it checks that the bundle's config.json (from -b/--bundle, default
 * ".") contains that string and exits 3 if not: proof that the wrapper's edit happened.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char buf[1 << 20];

static int fail(const char *msg)
{
	(void)!write(2, "stub-runc: ", 11);
	(void)!write(2, msg, strlen(msg));
	(void)!write(2, "\n", 1);
	return 3;
}

int main(int argc, char **argv)
{
	const char *expect = getenv("STUB_EXPECT");
	if (!expect || !*expect)
		return 0;
	const char *bundle = ".";
	for (int i = 1; i < argc; i++) {
		if ((!strcmp(argv[i], "-b") || !strcmp(argv[i], "--bundle")) && i + 1 < argc)
			bundle = argv[++i];
		else if (!strncmp(argv[i], "--bundle=", 9))
			bundle = argv[i] + 9;
	}
	int dirfd = open(bundle, O_RDONLY | O_DIRECTORY);
	int fd = dirfd < 0 ? -1 : openat(dirfd, "config.json", O_RDONLY);
	if (fd < 0)
		return fail("cannot open config.json");
	size_t len = 0;
	ssize_t n;
	while (len < sizeof(buf) - 1 && (n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	if (!strstr(buf, expect))
		return fail("config.json lacks the expected edit");
	return 0;
}
