/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the runtime wrapper does to a bundle's config.json before runc sees it: find the GPU
 * requests (CDI annotations, NVIDIA_VISIBLE_DEVICES / NVBIND_VISIBLE_DEVICES), check the
 * NVIDIA_REQUIRE_* constraints, resolve the devices in the installed CDI specs (or a spec
 * generated in memory when none is installed), and apply their edits.
 */
#ifndef NVB_PREPARE_H
#define NVB_PREPARE_H

#include <jansson.h>

#include "core/core.h"

struct nvb_runtime_opts {
	const char *host_root;        /* host root for the in-memory spec and /proc (default "/") */
	const char *const *spec_dirs; /* CDI spec directories, in priority order */
	size_t n_spec_dirs;
	const char *hook_path;        /* nvbind-hook program for the hook of an in-memory spec */
	const char *bundle;           /* the bundle being created: nvbind then links and registers
					 * the driver libraries in its root itself, instead of a hook */
	bool env_when_unprivileged;   /* honour env requests from unprivileged containers */
	const char *const *allowed;   /* if non-NULL: the only devices requests may name */
	size_t n_allowed;
	/* Requests a library caller gives (src/api), besides or instead of the config's own: */
	const char *const *devices;   /* qualified CDI names */
	size_t n_devices;
	const char *visible_devices;  /* an NVIDIA_VISIBLE_DEVICES value: capabilities apply */
	const char *capabilities;     /* NVIDIA_DRIVER_CAPABILITIES words; NULL: the config's */
	bool no_config_requests;      /* ignore the config's annotations and *_VISIBLE_DEVICES */
	bool no_driver_folder;        /* in-memory specs mount every driver file on its own */
};

struct nvb_runtime_result {
	size_t n_devices;   /* devices whose edits were applied */
	bool modified;      /* config.json must be written back */
	bool legacy_hook;   /* Docker's --gpus prestart hook was replaced */
	char summary[512];  /* for the log */
	/* for the wrapper's container record (oci/records.h): the requested CDI devices and
	 * the GPU/MIG UUIDs they resolve to, each space-separated (truncated when too long) */
	char devices[1024];
	char gpus[1024];
};

NVB_INTERNAL int nvb_runtime_prepare(json_t *config, const struct nvb_runtime_opts *opts,
				     struct nvb_runtime_result *res, struct nvb_error *err);

#endif
