/* dlopen-probe NAME...: loads each NAME by name through the normal dynamic linker (no path, no
 * LD_LIBRARY_PATH: the container's /etc/ld.so.cache and default directories decide) and prints
 * "NAME ok" or "NAME failed: REASON". Exit status 1 when any failed.
 * Used by tests/e2e/real_hosts.bats and, inside the GPU host's container, tools/gpu-check.sh. */
#include <dlfcn.h>
#include <stdio.h>

int main(int argc, char **argv)
{
	int failed = 0;
	if (argc < 2) {
		fprintf(stderr, "usage: dlopen-probe NAME...\n");
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		void *h = dlopen(argv[i], RTLD_NOW | RTLD_LOCAL);
		if (h == NULL) {
			printf("%s failed: %s\n", argv[i], dlerror());
			failed = 1;
			continue;
		}
		printf("%s ok\n", argv[i]);
		dlclose(h);
	}
	return failed;
}
