/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Optional NVML enrichment. libnvidia-ml is dlopen'ed from the host root (never linked), only by
 * discovery commands: the runtime wrapper and hooks never call this, since NVML can take hundreds
 * of milliseconds to initialise without persistence mode.
 */

#include "probe/nvidia/nvidia.h"

typedef void *nvml_device;
struct nvml_memory {
	unsigned long long total, free, used;
};

struct nvml {
	void *handle;
	int (*init)(void);
	int (*shutdown)(void);
	int (*count)(unsigned *);
	int (*by_index)(unsigned, nvml_device *);
	int (*uuid)(nvml_device, char *, unsigned);
	int (*memory)(nvml_device, struct nvml_memory *);
	int (*cc)(nvml_device, int *, int *);
	int (*mig_mode)(nvml_device, unsigned *, unsigned *);
	int (*cuda_version)(int *);
	int (*max_mig)(nvml_device, unsigned *);
	int (*mig_by_index)(nvml_device, unsigned, nvml_device *);
	int (*gi_id)(nvml_device, unsigned *);
	int (*ci_id)(nvml_device, unsigned *);
};

#define LOAD(field, name) (*(void **)(&n->field) = nvb_dlsym(n->handle, name))

static const struct nvb_driver_file *find_nvml(const struct nvb_inventory *inv)
{
	for (size_t i = 0; i < inv->n_files; i++) {
		const struct nvb_driver_file *f = &inv->files[i];
		if (f->kind == NVB_FILE_LIBRARY && f->elf_class != 32 && f->soname &&
		    strcmp(f->soname, "libnvidia-ml.so.1") == 0)
			return f;
	}
	return NULL;
}

static struct nvb_gpu *gpu_by_uuid(struct nvb_inventory *inv, const char *uuid)
{
	for (size_t i = 0; i < inv->n_gpus; i++)
		if (inv->gpus[i].uuid && strcmp(inv->gpus[i].uuid, uuid) == 0)
			return &inv->gpus[i];
	return NULL;
}

static void mig_uuids(struct nvml *n, nvml_device dev, struct nvb_gpu *gpu)
{
	unsigned max = 0;
	if (!n->max_mig || !n->mig_by_index || !n->gi_id || !n->ci_id || n->max_mig(dev, &max) != 0)
		return;
	for (unsigned i = 0; i < max && i < 64; i++) {
		nvml_device mdev;
		unsigned gi, ci;
		char uuid[96];
		if (n->mig_by_index(dev, i, &mdev) != 0 || n->gi_id(mdev, &gi) != 0 ||
		    n->ci_id(mdev, &ci) != 0 || n->uuid(mdev, uuid, sizeof(uuid)) != 0)
			continue;
		for (size_t m = 0; m < gpu->n_migs; m++)
			if (gpu->migs[m].gi == gi && gpu->migs[m].ci == ci && !gpu->migs[m].uuid)
				gpu->migs[m].uuid = strndup(uuid, sizeof(uuid));
	}
}

static void enrich(struct nvml *n, struct nvb_inventory *inv)
{
	int cuda = 0;
	if (n->cuda_version && n->cuda_version(&cuda) == 0 && cuda > 0)
		inv->driver.cuda_version = nvb_asprintf("%d.%d", cuda / 1000, (cuda % 1000) / 10);
	unsigned count = 0;
	if (n->count(&count) != 0)
		return;
	for (unsigned i = 0; i < count && i < 1024; i++) {
		nvml_device dev;
		char uuid[96];
		if (n->by_index(i, &dev) != 0 || n->uuid(dev, uuid, sizeof(uuid)) != 0)
			continue;
		uuid[sizeof(uuid) - 1] = '\0';
		struct nvb_gpu *gpu = gpu_by_uuid(inv, uuid);
		if (!gpu)
			continue; /* NVML sees a GPU /proc does not list: /proc stays the authority */
		struct nvml_memory mem;
		if (n->memory && n->memory(dev, &mem) == 0)
			gpu->memory_total = mem.total;
		int major, minor;
		if (n->cc && n->cc(dev, &major, &minor) == 0) {
			gpu->cc_major = major;
			gpu->cc_minor = minor;
		}
		unsigned cur, pending;
		if (n->mig_mode && n->mig_mode(dev, &cur, &pending) == 0)
			gpu->mig_mode = cur ? 1 : 0;
		if (gpu->mig_mode == 1)
			mig_uuids(n, dev, gpu);
	}
}

int nvb_nvml_enrich(struct nvb_host *host, struct nvb_inventory *inv)
{
	const struct nvb_driver_file *lib = find_nvml(inv);
	if (!lib || inv->n_gpus == 0) {
		if (inv->n_gpus)
			nvb_inventory_add_problem(inv, NVB_PROBLEM_INFO, "nvml-unavailable", NULL,
						  "libnvidia-ml.so.1 not found: memory size, compute "
						  "capability and MIG mode are unknown");
		return 0;
	}
	_cleanup_free_ char *path = nvb_host_outside_path(host, lib->path);
	struct nvml nv = {0}, *n = &nv;
	if (!path || !(n->handle = nvb_dlopen(path))) {
		nvb_inventory_add_problem(inv, NVB_PROBLEM_INFO, "nvml-unavailable", NULL,
					  "cannot load %s (%s): memory size, compute capability and "
					  "MIG mode are unknown",
					  lib->path, nvb_dlerror());
		return 0;
	}
	LOAD(init, "nvmlInit_v2");
	LOAD(shutdown, "nvmlShutdown");
	LOAD(count, "nvmlDeviceGetCount_v2");
	LOAD(by_index, "nvmlDeviceGetHandleByIndex_v2");
	LOAD(uuid, "nvmlDeviceGetUUID");
	LOAD(memory, "nvmlDeviceGetMemoryInfo");
	LOAD(cc, "nvmlDeviceGetCudaComputeCapability");
	LOAD(mig_mode, "nvmlDeviceGetMigMode");
	LOAD(cuda_version, "nvmlSystemGetCudaDriverVersion");
	LOAD(max_mig, "nvmlDeviceGetMaxMigDeviceCount");
	LOAD(mig_by_index, "nvmlDeviceGetMigDeviceHandleByIndex");
	LOAD(gi_id, "nvmlDeviceGetGpuInstanceId");
	LOAD(ci_id, "nvmlDeviceGetComputeInstanceId");
	if (!n->init || !n->count || !n->by_index || !n->uuid) {
		nvb_inventory_add_problem(inv, NVB_PROBLEM_WARNING, "nvml-unavailable", NULL,
					  "%s lacks the basic NVML entry points", lib->path);
	} else if (n->init() != 0) {
		nvb_inventory_add_problem(inv, NVB_PROBLEM_WARNING, "nvml-unavailable",
					  "check 'nvidia-smi'; the driver may be in a bad state",
					  "nvmlInit_v2 failed: memory size, compute capability and MIG "
					  "mode are unknown");
	} else {
		inv->driver.nvml_loaded = true;
		enrich(n, inv);
		if (n->shutdown)
			n->shutdown();
	}
	nvb_dlclose(n->handle);
	return 0;
}
