/* Loads a fixture root's libcuda or libnvidia-ml stand-in by path and prints what it answers.
 *
 *   standin-probe cuda PATH   hello string, cuDriverGetVersion, cuInit, then one line per device
 *   standin-probe nvml PATH   hello string, nvmlInit_v2, driver version, one line per GPU (and MIG)
 *
 * Used by tests/e2e/fixtures.bats. The NVML structures are the real nvml.h layouts. */
#include <dlfcn.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

typedef struct {
	char busIdLegacy[16];
	unsigned int domain, bus, device, pciDeviceId, pciSubSystemId;
	char busId[32];
} nvmlPciInfo_t;
_Static_assert(offsetof(nvmlPciInfo_t, busId) == 36 && sizeof(nvmlPciInfo_t) == 68, "nvmlPciInfo_t layout");
typedef struct {
	unsigned long long total, free, used;
} nvmlMemory_t;
typedef void *dev_t_;

static void *h;
static void *sym(const char *name)
{
	void *p = dlsym(h, name);
	if (p == NULL) {
		printf("missing %s\n", name);
		fflush(stdout);
	}
	return p;
}

static int cuda(void)
{
	int (*init)(unsigned) = sym("cuInit");
	int (*drv)(int *) = sym("cuDriverGetVersion");
	int (*count)(int *) = sym("cuDeviceGetCount");
	int (*get)(int *, int) = sym("cuDeviceGet");
	int (*name)(char *, int, int) = sym("cuDeviceGetName");
	int (*busid)(char *, int, int) = sym("cuDeviceGetPCIBusId");
	int v = 0, n = 0, rc;
	if (!init || !drv || !count || !get || !name || !busid)
		return 1;
	drv(&v);
	printf("cuDriverGetVersion %d\n", v);
	rc = init(0);
	printf("cuInit %d\n", rc);
	if (rc != 0)
		return 0;
	count(&n);
	printf("cuDeviceGetCount %d\n", n);
	for (int i = 0; i < n; i++) {
		int d;
		char nm[128], bus[32];
		get(&d, i);
		name(nm, sizeof nm, d);
		busid(bus, sizeof bus, d);
		printf("device %d %s %s\n", i, bus, nm);
	}
	return 0;
}

static int nvml(void)
{
	int (*init)(void) = sym("nvmlInit_v2");
	int (*shutdown)(void) = sym("nvmlShutdown");
	const char *(*errstr)(int) = sym("nvmlErrorString");
	int (*drv)(char *, unsigned) = sym("nvmlSystemGetDriverVersion");
	int (*cudav)(int *) = sym("nvmlSystemGetCudaDriverVersion");
	int (*count)(unsigned *) = sym("nvmlDeviceGetCount_v2");
	int (*handle)(unsigned, dev_t_ *) = sym("nvmlDeviceGetHandleByIndex_v2");
	int (*name)(dev_t_, char *, unsigned) = sym("nvmlDeviceGetName");
	int (*uuid)(dev_t_, char *, unsigned) = sym("nvmlDeviceGetUUID");
	int (*pci)(dev_t_, nvmlPciInfo_t *) = sym("nvmlDeviceGetPciInfo_v3");
	int (*minor)(dev_t_, unsigned *) = sym("nvmlDeviceGetMinorNumber");
	int (*mem)(dev_t_, nvmlMemory_t *) = sym("nvmlDeviceGetMemoryInfo");
	int (*cc)(dev_t_, int *, int *) = sym("nvmlDeviceGetCudaComputeCapability");
	int (*mig)(dev_t_, unsigned *, unsigned *) = sym("nvmlDeviceGetMigMode");
	int (*maxmig)(dev_t_, unsigned *) = sym("nvmlDeviceGetMaxMigDeviceCount");
	int (*mighandle)(dev_t_, unsigned, dev_t_ *) = sym("nvmlDeviceGetMigDeviceHandleByIndex");
	int (*giid)(dev_t_, unsigned *) = sym("nvmlDeviceGetGpuInstanceId");
	int (*ciid)(dev_t_, unsigned *) = sym("nvmlDeviceGetComputeInstanceId");
	char buf[128];
	unsigned n = 0;
	int rc, cv = 0;
	if (!init || !shutdown || !errstr || !drv || !cudav || !count || !handle || !name || !uuid ||
	    !pci || !minor || !mem || !cc || !mig || !maxmig || !mighandle || !giid || !ciid || !sym("nvmlInit"))
		return 1;
	rc = init();
	printf("nvmlInit_v2 %d %s\n", rc, errstr(rc));
	if (rc != 0)
		return 0;
	drv(buf, sizeof buf);
	cudav(&cv);
	printf("driver %s cuda %d\n", buf, cv);
	rc = drv(buf, 4);
	printf("short buffer %d\n", rc);
	count(&n);
	printf("count %u\n", n);
	for (unsigned i = 0; i < n; i++) {
		dev_t_ d;
		nvmlPciInfo_t p;
		nvmlMemory_t m;
		unsigned mn = 99, cur = 9, pend = 9, max = 0;
		int maj = -1, mi = -1, mrc;
		char nm[96], id[96];
		handle(i, &d);
		name(d, nm, sizeof nm);
		uuid(d, id, sizeof id);
		memset(&p, 0xff, sizeof p);
		pci(d, &p);
		minor(d, &mn);
		mem(d, &m);
		cc(d, &maj, &mi);
		mrc = mig(d, &cur, &pend);
		printf("gpu %u minor=%u bus=%s legacy=%s dom=%u bus#=%u dev#=%u id=0x%08X subsys=0x%08X "
		       "mem=%llu cc=%d.%d mig=%s uuid=%s name=%s\n",
		       i, mn, p.busId, p.busIdLegacy, p.domain, p.bus, p.device, p.pciDeviceId, p.pciSubSystemId,
		       m.total, maj, mi, mrc == 0 ? (cur ? "on" : "off") : "unsupported", id, nm);
		if (mrc != 0 || !cur || maxmig(d, &max) != 0)
			continue;
		for (unsigned k = 0; k < max; k++) {
			dev_t_ md;
			unsigned gi = 0, ci = 0;
			if (mighandle(d, k, &md) != 0)
				continue;
			uuid(md, id, sizeof id);
			name(md, nm, sizeof nm);
			giid(md, &gi);
			ciid(md, &ci);
			printf("mig %u.%u gi=%u ci=%u uuid=%s name=%s\n", i, k, gi, ci, id, nm);
		}
	}
	printf("shutdown %d\n", shutdown());
	return 0;
}

int main(int argc, char **argv)
{
	const char *(*hello)(void);
	if (argc != 3 || (strcmp(argv[1], "cuda") != 0 && strcmp(argv[1], "nvml") != 0)) {
		fprintf(stderr, "usage: standin-probe cuda|nvml PATH\n");
		return 2;
	}
	h = dlopen(argv[2], RTLD_NOW | RTLD_LOCAL);
	if (h == NULL) {
		printf("dlopen failed: %s\n", dlerror());
		return 1;
	}
	hello = (const char *(*)(void))dlsym(h, "nvbind_standin_hello");
	printf("hello %s\n", hello ? hello() : "(none)");
	return strcmp(argv[1], "cuda") == 0 ? cuda() : nvml();
}
