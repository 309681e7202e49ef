/* SPDX-License-Identifier: Apache-2.0 */
/* What the CDI hooks do inside a container root filesystem (REFERENCE.md section 5). */
#ifndef NVB_HOOKS_H
#define NVB_HOOKS_H

#include "core/core.h"

/* links are "TARGET::LINK" (LINK absolute inside the container). */
NVB_INTERNAL int nvb_hook_create_symlinks(int rootfd, char *const *links, size_t n,
					  struct nvb_error *err);
/* Register folders in the container's ld.so.cache: writes /etc/ld.so.conf.d/00-nvbind.conf and
 * runs the host's (static) ldconfig, copied into a sealed memfd, chrooted into the rootfs in
 * fresh mount and pid namespaces. */
NVB_INTERNAL int nvb_hook_update_ldcache(int rootfd, char *const *folders, size_t n,
					 const char *ldconfig, struct nvb_error *err);
/* The host's ldconfig: /sbin/ldconfig, else /usr/sbin/ldconfig. */
NVB_INTERNAL const char *nvb_host_ldconfig(void);

#endif
