/* SPDX-License-Identifier: Apache-2.0 */
/*
 * doctor, internal: what the check files (driver.c, devices.c, cdi.c, engines.c, system.c,
 * check_runtime.c) share: the finding macro, paths as the user sees them, the fix commands
 * (which carry --root so that they do exactly what they say when run as printed) and stat
 * through the host root. Not for front ends: they use doctor.h.
 */
#ifndef NVB_DOCTOR_CHECKS_H
#define NVB_DOCTOR_CHECKS_H

#include <sys/stat.h>

#include "doctor/doctor.h"

#define NVB_DOCTOR_SMALL_MAX (1u << 20)
#define NVB_DOCTOR_DEFAULT_KIND "nvidia.com/gpu"
#define NVB_DOCTOR_REFRESH_UNITS                                                                   \
	"systemctl enable --now nvbind-cdi-refresh.path nvbind-cdi-refresh.service "               \
	"(contrib/systemd) so the spec follows driver upgrades"

/* Add a finding to ctx's report; on allocation failure sets err (which must be in scope). */
#define ADD(ctx, sev, check, code, fix, ...)                                                       \
	(nvb_doctor_add((ctx)->report, (sev), (check), (code), (fix), __VA_ARGS__) < 0             \
	     ? nvb_error_nomem(err)                                                                \
	     : 0)

/* A host path as the user sees it: the root's prefix plus the path (the path itself for /). */
NVB_INTERNAL char *nvb_doctor_shown(const struct nvb_doctor_ctx *ctx, const char *inside);
/* "nvbind " or "nvbind --root ROOT ", for fix commands. */
NVB_INTERNAL char *nvb_doctor_nvbind_cmd(const struct nvb_doctor_ctx *ctx);
/* Whether 'cdi generate' without --output writes into a spec directory, under a name the
 * engines read. */
NVB_INTERNAL bool nvb_doctor_default_output_is_found(const struct nvb_config *cfg);
/* The command that writes the spec where the engines (and the CDI check) find it. */
NVB_INTERNAL char *nvb_doctor_generate_cmd(struct nvb_doctor_ctx *ctx);
/* Whether a path exists inside the host root (following links inside it). */
NVB_INTERNAL bool nvb_doctor_host_exists(struct nvb_doctor_ctx *ctx, const char *path);
/* Field number field (0-based) of a ':'-separated line (/etc/passwd, /etc/group) into out;
 * false when absent or longer than cap. */
NVB_INTERNAL bool nvb_doctor_colon_field(const char *line, int field, char *out, size_t cap);
/* Group gid of the host root's /etc/group: its name into name (the number when there is no
 * such group) and whether user (NULL: nobody) is listed in it; false when there is none. */
NVB_INTERNAL bool nvb_doctor_group(struct nvb_doctor_ctx *ctx, unsigned long gid,
				   const char *user, char *name, size_t cap, bool *member);
/* stat of a path named by a CDI spec or an engine's configuration (see helpers.c). */
NVB_INTERNAL bool nvb_doctor_named_path_stat(struct nvb_doctor_ctx *ctx, const char *path,
					     bool real_fallback, struct stat *st);

static inline bool nvb_doctor_is_executable(const struct stat *st)
{
	return S_ISREG(st->st_mode) && (st->st_mode & 0111);
}

#endif
