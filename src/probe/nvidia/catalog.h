/* SPDX-License-Identifier: Apache-2.0 */
/* The NVIDIA driver file catalogue (docs/design/driver-files.md): which libraries, binaries,
 * firmware, config files and sockets belong to the driver, and their capabilities. */
#ifndef NVB_CATALOG_H
#define NVB_CATALOG_H

#include "core/core.h"
#include "host/libscan.h"

struct nvb_catalog_entry {
	const char *name; /* library stem (libcuda), binary name, or container path of a config */
	unsigned caps;
	bool expected;    /* every driver since 450 ships it: report when missing */
	bool own_version; /* versioned on its own (egl-wayland 1.1.13), not by the driver */
};

NVB_INTERNAL const struct nvb_catalog_entry *nvb_catalog_nvidia_lib(const char *stem);
/* The stem of a library file name: "libcuda.so.1" -> "libcuda" (written into out). */
NVB_INTERNAL int nvb_lib_stem(const char *name, char *out, size_t cap);
/* Version suffix of a resolved library file name: "libcuda.so.580.1.2" -> "580.1.2", else NULL. */
NVB_INTERNAL const char *nvb_lib_version_suffix(const char *basename);

/* "580.159.04": digits separated by single dots, at least one dot. */
NVB_INTERNAL bool nvb_is_driver_version(const char *s);

/* Select the driver files of version drv_version into inv->files; note stale and missing files
 * in inv (problems, missing). */
NVB_INTERNAL int nvb_catalog_select_nvidia(struct nvb_host *host, const struct nvb_libset *libs,
					   const char *drv_version, struct nvb_inventory *inv,
					   struct nvb_error *err);
/* Guess the driver version from libcuda's / libnvidia-ml's versioned file name, when /proc has
 * no answer. Returns malloc'ed string or NULL. */
NVB_INTERNAL char *nvb_catalog_guess_version(struct nvb_host *host, const struct nvb_libset *libs);


/* Capabilities of a driver file from its path in a container (a mount destination of a spec),
 * for NVIDIA_DRIVER_CAPABILITIES filtering of installed specs; 0 when not a known driver file. */
NVB_INTERNAL unsigned nvb_catalog_caps_for_path(const char *container_path);
/* Whether a container asking for caps (expanded) gets the file at container_path: a path the
 * catalogue does not know always, else by nvb_caps_cover. */
NVB_INTERNAL bool nvb_catalog_path_wanted(const char *container_path, unsigned caps);

#endif
