/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one way nvbind loads a shared library (NVML, libcuda). The static musl builds of
 * nvbind-runtime and nvbind-hook (docs/runtime.md, "Static builds") cannot load one: there
 * nvb_dlopen fails and remembers that a library was wanted, and the wrapper hands the whole
 * command to its glibc build before it changes anything (runtime/main.c).
 */
#include "core/core.h"

#ifndef NVB_NO_DLOPEN
#include <dlfcn.h>
#endif

static bool wanted;

void *nvb_dlopen(const char *path)
{
	wanted = true;
#ifdef NVB_NO_DLOPEN
	(void)path;
	return NULL;
#else
	return dlopen(path, RTLD_NOW | RTLD_LOCAL);
#endif
}

const char *nvb_dlerror(void)
{
#ifdef NVB_NO_DLOPEN
	return "this static (musl) build of nvbind cannot load shared libraries";
#else
	const char *e = dlerror();
	return e ? e : "unknown dlopen error";
#endif
}

void *nvb_dlsym(void *handle, const char *name)
{
#ifdef NVB_NO_DLOPEN
	(void)handle, (void)name;
	return NULL;
#else
	return dlsym(handle, name);
#endif
}

void nvb_dlclose(void *handle)
{
#ifndef NVB_NO_DLOPEN
	if (handle)
		dlclose(handle);
#else
	(void)handle;
#endif
}

bool nvb_dlopen_wanted(void)
{
	return wanted;
}
