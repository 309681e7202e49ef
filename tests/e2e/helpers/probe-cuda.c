/* Runs inside test containers: loads libcuda.so.1 by name through the normal dynamic linker
 * (no path, no LD_LIBRARY_PATH) and calls a function of the stand-in library. */
#include <dlfcn.h>
#include <stdio.h>

int main(void)
{
	void *h = dlopen("libcuda.so.1", RTLD_NOW);
	if (!h) {
		printf("dlopen libcuda.so.1 failed: %s\n", dlerror());
		return 1;
	}
	const char *(*hello)(void) = (const char *(*)(void))dlsym(h, "nvbind_standin_hello");
	int (*get_version)(int *) = (int (*)(int *))dlsym(h, "cuDriverGetVersion");
	int version = 0;
	if (!hello || !get_version || get_version(&version) != 0) {
		printf("libcuda.so.1 loaded but is not the stand-in\n");
		return 2;
	}
	printf("%s cuda=%d\n", hello(), version);
	return 0;
}
