/* SPDX-License-Identifier: Apache-2.0 */
/* The driver libraries' plan carried by a CDI hook's arguments (libplan.c). */
#ifndef NVB_LIBPLAN_H
#define NVB_LIBPLAN_H

#include <stdint.h>

#include "core/core.h"

/* The hook sub-command generated specs name: `nvbind-hook libraries --lib ... --link ...` */
#define NVB_HOOK_PROGRAM "nvbind-hook"
#define NVB_HOOK_LIBRARIES "libraries"
#define NVB_LDCONF_NAME "00-nvbind.conf"
/* Where a spec mounts the driver folder (cdi/folder.c) in a container. Libraries there have
 * their SONAME links already, made once in the host folder. */
#define NVB_FOLDER_CONTAINER_DIR "/usr/lib/nvbind"

/* A driver library mounted at path, registered under its SONAME with ld.so.cache flags. */
struct nvb_lib {
	char *path;   /* absolute path in the container (the mount destination) */
	char *soname; /* from the host file, when the spec was generated */
	uint32_t flags;
};

/* An extra link (libcuda.so, libGLX_indirect.so.0): created only where the image has nothing. */
struct nvb_lib_link {
	char *target; /* as written in the link: a name in the same directory, or a path */
	char *link;   /* absolute path in the container */
};

/* The OCI hook stage the plan's hook runs at (`--stage` of `nvbind-hook libraries`).
 * createContainer: the runtime runs the hook in the container's mount namespace (runc: from
 * `runc init`). createRuntime: in the runtime's namespaces; the hook joins the container's
 * user and mount namespaces through the state's pid before it opens the root. Generated specs
 * use createRuntime: runc starts it from its main process, where the container state reaches
 * the hook's stdin at once; from `runc init` (one Go thread, GOMAXPROCS=1) the state waits for
 * the Go scheduler's monitor, 0.3 ms at the median here and up to 10 ms (docs/benchmarks.md). */
enum nvb_hook_stage {
	NVB_HOOK_CREATE_CONTAINER = 0, /* the default: specs of earlier versions */
	NVB_HOOK_CREATE_RUNTIME,
};

struct nvb_libplan {
	enum nvb_hook_stage stage;
	struct nvb_lib *libs;
	size_t n_libs;
	struct nvb_lib_link *links;
	size_t n_links;
};

NVB_INTERNAL void nvb_libplan_clear(struct nvb_libplan *plan);
/* Parse the options of `nvbind-hook libraries`: --stage STAGE, --lib PATH::SONAME::ARCH and
 * --link TARGET::LINK (argv holds the options only). Errors name the bad argument. */
NVB_INTERNAL int nvb_libplan_parse(struct nvb_libplan *plan, int argc, char *const *argv,
				   struct nvb_error *err);
/* The hook arguments (after the program and sub-command) for plan: malloc'ed strings. */
NVB_INTERNAL int nvb_libplan_args(const struct nvb_libplan *plan, char ***args, size_t *n,
				  struct nvb_error *err);
/* The plan as the one CDI hook that carries it out: hookName from plan->stage, path (the
 * nvbind-hook program), its arguments and an explicit environment, all owned by h (an empty
 * hook, freed as a spec's hooks are). */
struct nvb_cdi_hook;
NVB_INTERNAL int nvb_libplan_hook(const struct nvb_libplan *plan, const char *path,
				  struct nvb_cdi_hook *h, struct nvb_error *err);
/* The hook name of a stage, as CDI and OCI spell it. */
NVB_INTERNAL const char *nvb_hook_stage_name(enum nvb_hook_stage stage);
/* Add a library / an extra link (the generator's side). arch as in nvb_ldcache_arch_flags. */
NVB_INTERNAL int nvb_libplan_add_lib(struct nvb_libplan *plan, const char *path, const char *soname,
				     uint32_t flags, struct nvb_error *err);
NVB_INTERNAL int nvb_libplan_add_link(struct nvb_libplan *plan, const char *target,
				      const char *link, struct nvb_error *err);
/* Keep only the libraries reachable through one of the given container paths (mounted there,
 * or inside a mounted folder), the links whose target is one of those libraries or their
 * SONAME links, and the links into a mounted folder: links and loader-cache folders follow
 * exactly the files that are mounted. caps (enum nvb_cap bits, 0: all) also drops what the
 * container's capabilities do not ask for, by the catalogue, as the mounts are filtered. */
NVB_INTERNAL void nvb_libplan_keep_mounted(struct nvb_libplan *plan, char *const *mounted,
					   size_t n_mounted, unsigned caps);

/* Checks shared with the code that carries the plan out. */
NVB_INTERNAL bool nvb_libplan_path_ok(const char *path); /* absolute, no "..", not huge */
NVB_INTERNAL bool nvb_libplan_name_ok(const char *name); /* one path component */
NVB_INTERNAL size_t nvb_libplan_dir_len(const char *path); /* length of its directory part */
NVB_INTERNAL bool nvb_libplan_in_folder(const char *path); /* under NVB_FOLDER_CONTAINER_DIR */

#endif
