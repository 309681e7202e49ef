/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libcuda.so.1's checkpoint entry points. The library is dlopen'ed from the host root, found the
 * way the dynamic loader of that root would find it (its ld.so.cache, else a directory scan),
 * as probe/nvidia/nvml.c loads libnvidia-ml: a fixture root's stand-in is what tests load.
 */
#include <stdint.h>

#include "host/libscan.h"
#include "snapshot/snapshot.h"

#define NVB_CKPT_DRIVER "driver r570 or later (CUDA 12.8)"

/* The entry of libcuda.so.1 for this process's ELF class in the host's library set. */
static char *find_libcuda(struct nvb_host *host, struct nvb_error *err)
{
	struct nvb_libset *set = nvb_libset_load(host, err);
	if (!set)
		return NULL;
	const int own_class = (int)sizeof(void *) * 8;
	char *found = NULL;
	for (size_t i = 0; i < set->n && !found; i++) {
		const struct nvb_lib_entry *e = &set->entries[i];
		if (!strcmp(e->name, "libcuda.so.1") && (e->elf_class == 0 || e->elf_class == own_class))
			found = nvb_strdup(e->path);
	}
	if (!found)
		nvb_error_set(err, NVB_ERR_NOT_FOUND, 0,
			      "install the NVIDIA driver (" NVB_CKPT_DRIVER "), or name its root with "
			      "--root",
			      "libcuda.so.1 is not in the library set of the host root %s (%s)",
			      host->root, set->source ? set->source : "ld.so.cache");
	nvb_libset_free(set);
	return found;
}

/* The path of libcuda.so.1 outside the host root, resolved inside it (a link in the root never
 * leads to this machine's own files). */
static char *libcuda_path(struct nvb_host *host, struct nvb_error *err)
{
	_cleanup_free_ char *inside = find_libcuda(host, err);
	if (!inside)
		return NULL;
	_cleanup_free_ char *resolved = NULL;
	int fd = nvb_host_resolve(host, inside, 0, &resolved, err);
	if (fd < 0)
		return NULL;
	close(fd);
	char *out = nvb_host_outside_path(host, resolved);
	if (!out)
		nvb_error_nomem(err);
	return out;
}

#define LOAD(field, name)                                                                        \
	(*(void **)(&api->field) = nvb_dlsym(api->handle, name), api->field ? NULL : name)

static int load_symbols(struct nvb_cuda_ckpt *api, struct nvb_error *err)
{
	const char *missing = NULL, *m;
	/* each LOAD fills its field; the first name not found is kept for the message */
	if ((m = LOAD(lock, "cuCheckpointProcessLock")) && !missing)
		missing = m;
	if ((m = LOAD(checkpoint, "cuCheckpointProcessCheckpoint")) && !missing)
		missing = m;
	if ((m = LOAD(restore, "cuCheckpointProcessRestore")) && !missing)
		missing = m;
	if ((m = LOAD(unlock, "cuCheckpointProcessUnlock")) && !missing)
		missing = m;
	if ((m = LOAD(get_state, "cuCheckpointProcessGetState")) && !missing)
		missing = m;
	if ((m = LOAD(restore_tid, "cuCheckpointProcessGetRestoreThreadId")) && !missing)
		missing = m;
	(void)LOAD(error_string, "cuGetErrorString");
	if (!missing)
		return 0;
	int (*version)(int *) = NULL;
	*(void **)&version = nvb_dlsym(api->handle, "cuDriverGetVersion");
	int v = 0;
	if (version && version(&v) != 0)
		v = 0;
	char have[64] = "an unknown CUDA version";
	if (v > 0)
		snprintf(have, sizeof(have), "CUDA %d.%d", v / 1000, v % 1000 / 10);
	return nvb_error_set(err, NVB_ERR_UNSUPPORTED, 0,
			     "GPU snapshots need the NVIDIA " NVB_CKPT_DRIVER "; upgrade the driver",
			     "%s (%s) has no %s: the driver is too old for CUDA checkpoint", api->path,
			     have, missing);
}

int nvb_cuda_ckpt_open(struct nvb_host *host, struct nvb_cuda_ckpt *api, struct nvb_error *err)
{
	memset(api, 0, sizeof(*api));
	api->path = libcuda_path(host, err);
	if (!api->path)
		return -1;
	api->handle = nvb_dlopen(api->path);
	if (!api->handle) {
		nvb_error_set(err, NVB_ERR_DRIVER, 0, "check the driver installation ('nvbind doctor')",
			      "cannot load %s: %s", api->path, nvb_dlerror());
		nvb_cuda_ckpt_close(api);
		return -1;
	}
	int (*init)(unsigned) = NULL;
	*(void **)&init = nvb_dlsym(api->handle, "cuInit");
	/* no cuInit: not a CUDA driver at all, which says more than "too old for checkpoint" */
	if (!init)
		nvb_error_set(err, NVB_ERR_DRIVER, 0, "check the driver installation ('nvbind doctor')",
			      "%s has no cuInit: not the CUDA driver library", api->path);
	if (!init || load_symbols(api, err) < 0) {
		nvb_cuda_ckpt_close(api);
		return -1;
	}
	/* the checkpoint calls need an initialised driver in the calling process */
	int rc = init(0);
	if (rc != NVB_CU_SUCCESS) {
		char buf[160];
		nvb_error_set(err, NVB_ERR_DRIVER, 0,
			      "check the driver with 'nvidia-smi' and 'nvbind doctor'",
			      "cuInit(0) in %s failed: %s", api->path,
			      nvb_cuda_ckpt_strerror(api, rc, buf, sizeof(buf)));
		nvb_cuda_ckpt_close(api);
		return -1;
	}
	return 0;
}

void nvb_cuda_ckpt_close(struct nvb_cuda_ckpt *api)
{
	/* never dlclose libcuda: its threads may outlive the call (the driver does not support
	 * unloading); the handle is dropped with the process */
	free(api->path);
	memset(api, 0, sizeof(*api));
}

const char *nvb_cuda_ckpt_strerror(const struct nvb_cuda_ckpt *api, int code, char *buf,
				   size_t cap)
{
	const char *s = NULL;
	if (!api->error_string || api->error_string(code, &s) != 0 || !s) {
		switch (code) {
		case NVB_CU_INVALID_VALUE: s = "invalid argument"; break;
		case NVB_CU_NOT_INITIALIZED: s = "initialization error"; break;
		case NVB_CU_ILLEGAL_STATE: s = "operation not permitted in this state"; break;
		case NVB_CU_NOT_FOUND: s = "named symbol not found"; break;
		case NVB_CU_NOT_SUPPORTED: s = "operation not supported"; break;
		case NVB_CU_TIMEOUT: s = "timeout"; break;
		default: s = "unknown error"; break;
		}
	}
	snprintf(buf, cap, "CUDA error %d (%s)", code, s);
	return buf;
}

const char *nvb_cuda_ckpt_hint(int code)
{
	switch (code) {
	case NVB_CU_NOT_SUPPORTED:
		return "the driver cannot checkpoint processes that use UVM or CUDA IPC memory, MIG "
		       "instances or MPS (docs/snapshot.md)";
	case NVB_CU_TIMEOUT:
		return "the process's CUDA work did not finish in time: raise --timeout";
	case NVB_CU_ILLEGAL_STATE:
		return "see each process's state with 'nvbind gpu state'";
	case NVB_CU_INVALID_VALUE:
	case NVB_CU_NOT_FOUND:
		return "the process is gone or does not use CUDA";
	}
	return NULL;
}
