/*
 * The payload of tests/e2e/hostile_images.bats: proof that a hostile image got code of its own
 * run by something on the host. Built with the markers it writes compiled in:
 *
 *   cc -shared -fPIC -DAS_LIBRARY -DMARKERS='"/abs/a", "b"' -o evil.so hostile-marker.c
 *       a library whose constructor runs in any process that loads it (LD_PRELOAD)
 *   cc -static -DMARKERS='...' -o ldconfig hostile-marker.c
 *       a static program (an image's own ldconfig), runnable with no loader and no libc
 *
 * Each marker gets a line naming the process (its pid and what /proc/self/exe is). Paths are
 * opened as given: an absolute host path when the payload runs on the host, the same path in
 * the container root when it runs chrooted there. It exits 0, like ldconfig would.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *const markers[] = {MARKERS};

static void mark(void)
{
	char exe[256] = "?", line[400];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0)
		exe[n] = '\0';
	int len = snprintf(line, sizeof(line), "hostile payload ran in pid %ld (%s)\n", (long)getpid(), exe);
	for (size_t i = 0; i < sizeof(markers) / sizeof(markers[0]); i++) {
		int fd = open(markers[i], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (fd >= 0) {
			if (write(fd, line, (size_t)len) < 0)
				(void)0; /* nothing to do about it: the file's existence is the proof */
			close(fd);
		}
	}
}

#ifdef AS_LIBRARY
__attribute__((constructor)) static void hostile_constructor(void)
{
	mark();
}
#else
int main(void)
{
	mark();
	return 0;
}
#endif
