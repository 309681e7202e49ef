/* SPDX-License-Identifier: Apache-2.0 */
/* The engine command line of a GPU container (`docker run`, `podman run`, `bolt run` with the
 * GPU options): one builder for nvbind run and nvbind migrate, so both ask the engines for GPUs
 * the same way. Pure: strings in, an argument vector out. */
#ifndef NVB_ENGINES_CMDLINE_H
#define NVB_ENGINES_CMDLINE_H

#include "config/config.h"
#include "core/strv.h"

/* Docker resolves CDI --device names itself from this major version on. */
#define NVB_DOCKER_CDI_MAJOR 25

enum nvb_cmdline_gpus {
	NVB_CMDLINE_GPUS_NONE,  /* no GPU: the image's NVIDIA_VISIBLE_DEVICES is made void */
	NVB_CMDLINE_GPUS_IMAGE, /* the nvbind runtime, with the GPUs the image's environment names */
	NVB_CMDLINE_GPUS_LIST,  /* the GPUs of .devices */
};

struct nvb_cmdline {
	enum nvb_engine_id engine;
	/* the engine's command and anything before "run" (global options, docker's "container") */
	const char *const *prefix;
	size_t n_prefix;
	enum nvb_cmdline_gpus gpus;
	/* LIST: a comma list. The runtime form passes it as NVIDIA_VISIBLE_DEVICES as written
	 * ("all", "0,1", "void", ...); the CDI form makes one --device per item (trimmed, empty
	 * items skipped), KIND=ITEM unless the item is a qualified CDI name already. */
	const char *devices;
	const char *caps;     /* NVIDIA_DRIVER_CAPABILITIES, or NULL; not with GPUS_NONE */
	const char *cdi_kind; /* e.g. nvidia.com/gpu */
	int docker_major;     /* dockerd's major version: CDI from NVB_DOCKER_CDI_MAJOR on */
	/* CDI form: leave the image's NVIDIA_VISIBLE_DEVICES alone (a translation changes only what
	 * it must) instead of making it void */
	bool keep_image_env;
	const char *const *env; /* NAME=VALUE, each as -e; one for NVIDIA_DRIVER_CAPABILITIES wins */
	size_t n_env;
	const char *const *opts; /* further engine options as written, after the environment */
	size_t n_opts;
	const char *image;
	const char *const *args; /* the container's command */
	size_t n_args;
};

/* Whether the command gives GPUs through CDI --device names (podman; docker from
 * NVB_DOCKER_CDI_MAJOR on) rather than the nvbind runtime. */
NVB_INTERNAL bool nvb_cmdline_uses_cdi(const struct nvb_cmdline *c);
/* Append the command line to out; -1 when memory runs out (out then holds part of it). */
NVB_INTERNAL int nvb_cmdline_build(const struct nvb_cmdline *c, struct nvb_strv *out);

#endif
