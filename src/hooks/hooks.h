/* SPDX-License-Identifier: Apache-2.0 */
/* What nvbind does inside a container root filesystem for the driver libraries it mounts:
 * SONAME links, a few extra links, /etc/ld.so.conf.d/00-nvbind.conf and the loader cache.
 * The wrapper does it in process before it execs runc; on the CDI path one statically linked
 * createContainer hook (nvbind-hook) does it. No program from the host or the image runs. */
#ifndef NVB_HOOKS_H
#define NVB_HOOKS_H

#include "cdi/libplan.h"
#include "core/core.h"

/* Carry the plan out inside rootfd (see the header comment). Never removes or replaces a
 * file of the image except a SONAME link's name, which becomes the driver's link. */
NVB_INTERNAL int nvb_libplan_apply(int rootfd, const struct nvb_libplan *plan,
				   struct nvb_error *err);

/* Legacy hooks of specs written by nvbind before the loader-cache writer (and by NVIDIA's
 * toolkit, which has the same names): create-symlinks --link TARGET::LINK, and
 * update-ldcache --folder DIR, which now registers the libraries found in those folders
 * inside the root in the loader cache (entries only: it makes no link from a SONAME it read
 * in a file of the container). */
NVB_INTERNAL int nvb_hook_create_symlinks(int rootfd, char *const *links, size_t n,
					  struct nvb_error *err);
NVB_INTERNAL int nvb_hook_update_ldcache(int rootfd, char *const *folders, size_t n,
					 struct nvb_error *err);

#endif
