/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The compute mode of one GPU through NVML, dlopen'ed from the path the claim recorded (the
 * host root's libnvidia-ml.so.1): only for exclusive claims that ask for it, never on the
 * wrapper's default path (NVML can take hundreds of milliseconds to initialise).
 */

#include "isolation/isolation.h"

typedef void *nvml_device;

struct nvml_cm {
	int (*init)(void);
	int (*shutdown)(void);
	int (*by_uuid)(const char *, nvml_device *);
	int (*get)(nvml_device, int *);
	int (*set)(nvml_device, int);
	const char *(*error_string)(int);
};

static const char *nvml_error(const struct nvml_cm *n, int r)
{
	const char *s = n->error_string ? n->error_string(r) : NULL;
	return s ? s : "NVML error";
}

static int call(const struct nvml_cm *n, const char *uuid, int set_to, int *previous,
		struct nvb_error *err)
{
	nvml_device dev;
	int r = n->by_uuid(uuid, &dev);
	if (r != 0)
		return nvb_error_set(err, NVB_ERR_NOT_FOUND, 0, NULL,
				     "NVML does not know GPU %s: %s (%d)", uuid, nvml_error(n, r), r);
	int mode = 0;
	if ((r = n->get(dev, &mode)) != 0)
		return nvb_error_set(err, NVB_ERR_DRIVER, 0, NULL,
				     "nvmlDeviceGetComputeMode(%s): %s (%d)", uuid, nvml_error(n, r), r);
	if (previous)
		*previous = mode;
	if (set_to < 0 || set_to == mode)
		return 0;
	if ((r = n->set(dev, set_to)) != 0)
		return nvb_error_set(err, r == 4 ? NVB_ERR_PERMISSION : NVB_ERR_DRIVER, 0,
				     "setting the compute mode needs root (isolation.compute_mode)",
				     "nvmlDeviceSetComputeMode(%s, %d): %s (%d)", uuid, set_to,
				     nvml_error(n, r), r);
	nvb_info("isolation", "GPU %s: compute mode %d -> %d", uuid, mode, set_to);
	return 0;
}

#define LOAD(field, name) (*(void **)(&n.field) = nvb_dlsym(handle, name))

int nvb_iso_compute_mode(const char *nvml_path, const char *uuid, int set_to, int *previous,
			 struct nvb_error *err)
{
	void *handle = nvml_path[0] ? nvb_dlopen(nvml_path) : NULL;
	if (!handle)
		return nvb_error_set(err, NVB_ERR_DRIVER, 0,
				     "the driver's libnvidia-ml.so.1 must be in the host root",
				     "cannot load NVML %s: %s", nvml_path[0] ? nvml_path : "(none found)",
				     nvml_path[0] ? nvb_dlerror() : "not in the driver inventory");
	struct nvml_cm n = {0};
	LOAD(init, "nvmlInit_v2");
	LOAD(shutdown, "nvmlShutdown");
	LOAD(by_uuid, "nvmlDeviceGetHandleByUUID");
	LOAD(get, "nvmlDeviceGetComputeMode");
	LOAD(set, "nvmlDeviceSetComputeMode");
	LOAD(error_string, "nvmlErrorString");
	int r;
	if (!n.init || !n.by_uuid || !n.get || !n.set)
		r = nvb_error_set(err, NVB_ERR_UNSUPPORTED, 0, NULL,
				  "%s lacks nvmlDeviceGetComputeMode/nvmlDeviceSetComputeMode", nvml_path);
	else if ((r = n.init()) != 0)
		r = nvb_error_set(err, NVB_ERR_DRIVER, 0, "check 'nvidia-smi'", "nvmlInit_v2: %s (%d)",
				  nvml_error(&n, r), r);
	else {
		r = call(&n, uuid, set_to, previous, err);
		if (n.shutdown)
			n.shutdown();
	}
	nvb_dlclose(handle);
	return r;
}
