/* SPDX-License-Identifier: Apache-2.0 */
/* doctor, checks "cgroup" and "rootless": the cgroup hierarchy (v2, hybrid, v1) and the
 * subordinate IDs rootless containers need (docs/doctor.md). */
#include "doctor/checks.h"

/* ------------------------------------------------------------- 6. cgroups */

static bool cgroup_v1_dir(struct nvb_doctor_ctx *ctx)
{
	static const char *const controllers[] = {"devices", "memory", "cpu",	  "cpuacct",
						  "pids",    "blkio",  "freezer", "systemd"};
	char path[64];
	for (size_t i = 0; i < NVB_ARRAY_SIZE(controllers); i++) {
		snprintf(path, sizeof(path), "/sys/fs/cgroup/%s", controllers[i]);
		if (nvb_doctor_host_exists(ctx, path))
			return true;
	}
	return false;
}

int nvb_doctor_check_cgroup(struct nvb_doctor_ctx *ctx, struct nvb_error *err)
{
	static const char *const check = "cgroup";
	static const char *const fix =
	    "boot with systemd.unified_cgroup_hierarchy=1 (add it to GRUB_CMDLINE_LINUX in "
	    "/etc/default/grub, run update-grub, reboot) to get cgroup v2; until then use the "
	    "cgroupfs cgroup manager";
	_cleanup_free_ char *where = nvb_doctor_shown(ctx, "/sys/fs/cgroup");
	if (!where)
		return nvb_error_nomem(err);
	if (nvb_doctor_host_exists(ctx, "/sys/fs/cgroup/cgroup.controllers"))
		return ADD(ctx, NVB_DOCTOR_OK, check, "cgroup-v2", NULL,
			   "%s is cgroup v2 (unified: cgroup.controllers exists)", where);
	bool systemd = nvb_doctor_host_exists(ctx, "/run/systemd/system");
	if (nvb_doctor_host_exists(ctx, "/sys/fs/cgroup/unified/cgroup.controllers") ||
	    (nvb_doctor_host_exists(ctx, "/sys/fs/cgroup/unified") && cgroup_v1_dir(ctx)))
		return ADD(
		    ctx, NVB_DOCTOR_WARNING, check, "cgroup-hybrid", fix,
		    "%s is a hybrid cgroup hierarchy (v1 controllers, v2 at unified/): crun "
		    "refuses hybrid cgroups, and with systemd's cgroup driver containers lose "
		    "GPU access after 'systemctl daemon-reload' (it rewrites their device "
		    "rules)",
		    where);
	if (cgroup_v1_dir(ctx))
		return ADD(
		    ctx, systemd ? NVB_DOCTOR_WARNING : NVB_DOCTOR_INFO, check, "cgroup-v1", fix,
		    "%s is cgroup v1 (no cgroup.controllers)%s: with systemd's cgroup driver "
		    "containers lose GPU access after 'systemctl daemon-reload' (it rewrites "
		    "their device rules); crun refuses hybrid v1/v2 hierarchies",
		    where, systemd ? " and systemd runs" : " (systemd is not running)");
	return ADD(ctx, NVB_DOCTOR_INFO, check, "cgroup-unknown",
		   "mount cgroup2 on /sys/fs/cgroup (or check the host root)",
		   "%s holds neither cgroup v2 (cgroup.controllers) nor v1 controllers: the "
		   "cgroup version is unknown",
		   where);
}

/* ----------------------------------------------------- 7. rootless sub-IDs */

/* Entries "name:start:count" with count > 0; -1 when the file cannot be read. */
static long count_subids(struct nvb_doctor_ctx *ctx, const char *path, bool *exists)
{
	_cleanup_free_ char *text = NULL;
	struct nvb_error rerr;
	*exists = true;
	if (nvb_host_read(ctx->host, path, NVB_DOCTOR_SMALL_MAX, &text, NULL, &rerr) < 0) {
		*exists = rerr.code != NVB_ERR_NOT_FOUND;
		return -1;
	}
	long n = 0;
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		line = nvb_strstrip(line);
		if (!line[0] || line[0] == '#')
			continue;
		char *c1 = strchr(line, ':');
		char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c1 || c1 == line || !c2 || c2 == c1 + 1)
			continue;
		char *end = NULL;
		unsigned long count = strtoul(c2 + 1, &end, 10);
		if (end != c2 + 1 && *end == '\0' && count > 0)
			n++;
	}
	return n;
}

int nvb_doctor_check_subids(struct nvb_doctor_ctx *ctx, struct nvb_error *err)
{
	static const char *const files[] = {"/etc/subuid", "/etc/subgid"};
	char problems[1024] = "", good[512] = "";
	for (size_t i = 0; i < NVB_ARRAY_SIZE(files); i++) {
		_cleanup_free_ char *where = nvb_doctor_shown(ctx, files[i]);
		if (!where)
			return nvb_error_nomem(err);
		bool exists;
		long n = count_subids(ctx, files[i], &exists);
		char *buf = n > 0 ? good : problems;
		size_t cap = n > 0 ? sizeof(good) : sizeof(problems);
		size_t used = strlen(buf);
		if (n > 0)
			snprintf(buf + used, cap - used, "%s%s (%ld entr%s)", used ? ", " : "",
				 where, n, n == 1 ? "y" : "ies");
		else
			snprintf(buf + used, cap - used, "%s%s %s", used ? "; " : "", where,
				 !exists ? "does not exist"
				 : n < 0 ? "cannot be read"
					 : "has no entries");
	}
	if (problems[0])
		return ADD(ctx, NVB_DOCTOR_WARNING, "rootless", "rootless-subids",
			   "usermod --add-subuids 100000-165535 --add-subgids 100000-165535 USER "
			   "(for each user who runs rootless containers), then 'podman system "
			   "migrate'",
			   "%s: rootless podman and docker need subordinate user and group IDs",
			   problems);
	return ADD(ctx, NVB_DOCTOR_OK, "rootless", "rootless-subids-ok", NULL,
		   "subordinate IDs for rootless containers: %s", good);
}
