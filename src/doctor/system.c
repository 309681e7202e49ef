/* SPDX-License-Identifier: Apache-2.0 */
/* doctor, checks "cgroup" and "rootless": the cgroup hierarchy (v2, hybrid, v1), the
 * subordinate IDs rootless containers need, and what the user who runs them lacks: their own
 * sub-IDs and access to the GPU device nodes (docs/doctor.md, docs/rootless.md). */
#include "doctor/checks.h"

#include <unistd.h>

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
	/* rootless engines cannot create v1 cgroups (no delegation on v1) */
	static const char *const rootless_hint =
	    "; rootless engines cannot use v1 cgroups (no delegation): run rootless podman "
	    "with --cgroups=disabled under crun (podman 4.3 refuses it with runc, which then "
	    "skips the cgroups by itself), rootless docker with no-cgroups (nvidia's "
	    "no-cgroups = true: nvbind's CDI device rules need no cgroup of their own)";
	bool systemd = nvb_doctor_host_exists(ctx, "/run/systemd/system");
	if (nvb_doctor_host_exists(ctx, "/sys/fs/cgroup/unified/cgroup.controllers") ||
	    (nvb_doctor_host_exists(ctx, "/sys/fs/cgroup/unified") && cgroup_v1_dir(ctx)))
		return ADD(
		    ctx, NVB_DOCTOR_WARNING, check, "cgroup-hybrid", fix,
		    "%s is a hybrid cgroup hierarchy (v1 controllers, v2 at unified/): crun "
		    "refuses hybrid cgroups, and with systemd's cgroup driver containers lose "
		    "GPU access after 'systemctl daemon-reload' (it rewrites their device "
		    "rules)%s",
		    where, rootless_hint);
	if (cgroup_v1_dir(ctx))
		return ADD(
		    ctx, systemd ? NVB_DOCTOR_WARNING : NVB_DOCTOR_INFO, check, "cgroup-v1", fix,
		    "%s is cgroup v1 (no cgroup.controllers)%s: with systemd's cgroup driver "
		    "containers lose GPU access after 'systemctl daemon-reload' (it rewrites "
		    "their device rules); crun refuses hybrid v1/v2 hierarchies%s",
		    where, systemd ? " and systemd runs" : " (systemd is not running)",
		    rootless_hint);
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

static int check_subid_files(struct nvb_doctor_ctx *ctx, struct nvb_error *err)
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

/* ------------------------------------------- 7b. the user who runs rootless */

/* The user rootless containers run as: SUDO_USER under sudo, else the caller (none for root). */
struct rootless_user {
	char name[64];
	unsigned long uid, gid;
	bool known; /* found in the host root's /etc/passwd */
};

/* Each line of a small file of the host root in turn; false when fn stops the walk. */
static int each_line(struct nvb_doctor_ctx *ctx, const char *path,
		     bool (*fn)(const char *line, void *data), void *data)
{
	_cleanup_free_ char *text = NULL;
	struct nvb_error rerr;
	if (nvb_host_read(ctx->host, path, NVB_DOCTOR_SMALL_MAX, &text, NULL, &rerr) < 0)
		return -1;
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (line[0] != '#' && !fn(line, data))
			break;
	return 0;
}

static bool passwd_match(const char *line, void *data)
{
	struct rootless_user *u = data;
	char name[64], uid[24], gid[24];
	if (!nvb_doctor_colon_field(line, 0, name, sizeof(name)) || !nvb_doctor_colon_field(line, 2, uid, sizeof(uid)) ||
	    !nvb_doctor_colon_field(line, 3, gid, sizeof(gid)))
		return true;
	bool hit = u->name[0] ? strcmp(name, u->name) == 0 : strtoul(uid, NULL, 10) == u->uid;
	if (!hit)
		return true;
	snprintf(u->name, sizeof(u->name), "%s", name);
	u->uid = strtoul(uid, NULL, 10);
	u->gid = strtoul(gid, NULL, 10);
	u->known = true;
	return false;
}

/* false when doctor runs as root without SUDO_USER: rootless checks have no user then. */
static bool rootless_user(struct nvb_doctor_ctx *ctx, struct rootless_user *u)
{
	*u = (struct rootless_user){0};
	const char *sudo = getenv("SUDO_USER");
	if (sudo && sudo[0] && strcmp(sudo, "root") != 0)
		snprintf(u->name, sizeof(u->name), "%s", sudo);
	else if ((u->uid = getuid()) == 0)
		return false;
	each_line(ctx, "/etc/passwd", passwd_match, u);
	if (!u->name[0])
		snprintf(u->name, sizeof(u->name), "%lu", u->uid);
	return true;
}

struct subid_search {
	const struct rootless_user *u;
	bool found;
};

/* An entry "NAME:start:count" or "UID:start:count" with count > 0 for the user. */
static bool subid_match(const char *line, void *data)
{
	struct subid_search *s = data;
	char who[64], count[24];
	if (!nvb_doctor_colon_field(line, 0, who, sizeof(who)) || !nvb_doctor_colon_field(line, 2, count, sizeof(count)))
		return true;
	char uid[24];
	snprintf(uid, sizeof(uid), "%lu", s->u->uid);
	bool mine = strcmp(who, s->u->name) == 0 || (s->u->known && strcmp(who, uid) == 0);
	if (mine && strtoul(count, NULL, 10) > 0)
		s->found = true;
	return !s->found;
}

static int check_user_subids(struct nvb_doctor_ctx *ctx, const struct rootless_user *u,
			     struct nvb_error *err)
{
	static const char *const files[] = {"/etc/subuid", "/etc/subgid"};
	char missing[256] = "";
	for (size_t i = 0; i < NVB_ARRAY_SIZE(files); i++) {
		struct subid_search s = {.u = u};
		each_line(ctx, files[i], subid_match, &s);
		if (s.found)
			continue;
		_cleanup_free_ char *where = nvb_doctor_shown(ctx, files[i]);
		if (!where)
			return nvb_error_nomem(err);
		size_t used = strlen(missing);
		snprintf(missing + used, sizeof(missing) - used, "%s%s", used ? " and " : "", where);
	}
	if (missing[0])
		return ADD(ctx, NVB_DOCTOR_WARNING, "rootless", "rootless-user-subids",
			   "usermod --add-subuids 100000-165535 --add-subgids 100000-165535 USER "
			   "(a range no other user has), then 'podman system migrate' as USER",
			   "user %s has no entry in %s: rootless podman cannot map the container's "
			   "users for them (it needs newuidmap/newgidmap, package uidmap, too)",
			   u->name, missing);
	return ADD(ctx, NVB_DOCTOR_OK, "rootless", "rootless-user-subids-ok", NULL,
		   "user %s has subordinate user and group IDs", u->name);
}

/* Whether u can open node (read, and write unless read_only) and how: 'o' others, 'u' owner,
 * 'g' group, 0 not at all. *group gets the node's group name (or number). */
static char node_access(struct nvb_doctor_ctx *ctx, const struct rootless_user *u,
			const struct nvb_device_node *node, bool read_only, char *group,
			size_t cap)
{
	unsigned need = read_only ? 4 : 6;
	bool member;
	nvb_doctor_group(ctx, node->gid, u->name, group, cap, &member);
	if ((node->mode & need) == need)
		return 'o';
	if (u->known && node->uid == u->uid && ((node->mode >> 6) & need) == need)
		return 'u';
	bool in_group = member || (u->known && u->gid == node->gid);
	if (in_group && ((node->mode >> 3) & need) == need)
		return 'g';
	return 0;
}

struct node_tally {
	char denied[600], via_group[400], groups[200];
	size_t n_checked, n_denied, n_group;
};

static void append(char *buf, size_t cap, const char *sep, const char *text)
{
	size_t used = strlen(buf);
	if (used + strlen(text) + 8 < cap)
		snprintf(buf + used, cap - used, "%s%s", used ? sep : "", text);
	else if (!strstr(buf, ", ..."))
		snprintf(buf + used, cap - used, ", ...");
}

static int tally_node(struct nvb_doctor_ctx *ctx, const struct rootless_user *u,
		      const struct nvb_device_node *node, bool read_only, struct node_tally *t,
		      struct nvb_error *err)
{
	char group[64], item[200];
	char how = node_access(ctx, u, node, read_only, group, sizeof(group));
	_cleanup_free_ char *where = nvb_doctor_shown(ctx, node->path);
	if (!where)
		return nvb_error_nomem(err);
	t->n_checked++;
	if (how == 'g') {
		t->n_group++;
		snprintf(item, sizeof(item), "%s (group %s)", where, group);
		append(t->via_group, sizeof(t->via_group), ", ", item);
	} else if (!how) {
		t->n_denied++;
		snprintf(item, sizeof(item), "%s (mode 0%03o, owner %u, group %s)", where,
			 node->mode & 0777, node->uid, group);
		append(t->denied, sizeof(t->denied), ", ", item);
		/* the group only helps when its bits give the access */
		unsigned need = read_only ? 4 : 6;
		if (((node->mode >> 3) & need) == need && !strstr(t->groups, group))
			append(t->groups, sizeof(t->groups), ",", group);
	}
	return 0;
}

/* The GPU, MIG and DRM nodes and the control nodes a container is given (not the MIG
 * config/monitor caps, which are for administrators). */
static int tally_nodes(struct nvb_doctor_ctx *ctx, const struct rootless_user *u,
		       struct node_tally *t, struct nvb_error *err)
{
	const struct nvb_inventory *inv = ctx->inv;
	for (size_t i = 0; i < inv->n_gpus; i++) {
		const struct nvb_gpu *g = &inv->gpus[i];
		for (size_t k = 0; k < g->n_nodes; k++)
			if (tally_node(ctx, u, &g->nodes[k], false, t, err) < 0)
				return -1;
		for (size_t m = 0; m < g->n_migs; m++)
			for (size_t k = 0; k < g->migs[m].n_nodes; k++)
				if (tally_node(ctx, u, &g->migs[m].nodes[k], true, t, err) < 0)
					return -1;
	}
	for (size_t i = 0; i < inv->n_control_nodes; i++)
		if (!nvb_str_has_prefix(inv->control_nodes[i].path, "/dev/nvidia-caps/") &&
		    tally_node(ctx, u, &inv->control_nodes[i], false, t, err) < 0)
			return -1;
	return 0;
}

static int check_user_nodes(struct nvb_doctor_ctx *ctx, const struct rootless_user *u,
			    struct nvb_error *err)
{
	struct node_tally t = {0};
	if (tally_nodes(ctx, u, &t, err) < 0)
		return -1;
	if (!t.n_checked)
		return 0; /* no driver: the driver check says so */
	if (t.n_denied) {
		_cleanup_free_ char *fix =
		    t.groups[0] ? nvb_asprintf("usermod -aG %s %s (then log in again), or make the "
					       "nodes 0666 (see the devices check)",
					       t.groups, u->name)
				: nvb_asprintf("make the nodes 0666 (see the devices check): no group "
					       "of theirs grants the access");
		if (!fix)
			return nvb_error_nomem(err);
		return ADD(ctx, NVB_DOCTOR_WARNING, "rootless", "rootless-user-nodes", fix,
			   "user %s cannot open %zu of %zu GPU device node(s): %s; rootless "
			   "containers run with the user's rights on the host",
			   u->name, t.n_denied, t.n_checked, t.denied);
	}
	if (t.n_group)
		return ADD(ctx, NVB_DOCTOR_INFO, "rootless", "rootless-user-nodes-group",
			   "make the nodes 0666 (see the devices check), or run rootless podman "
			   "with crun and --group-add keep-groups",
			   "user %s opens %zu GPU device node(s) only through group membership: "
			   "%s; rootless containers drop the user's supplementary groups unless "
			   "the engine keeps them",
			   u->name, t.n_group, t.via_group);
	return ADD(ctx, NVB_DOCTOR_OK, "rootless", "rootless-user-nodes-ok", NULL,
		   "user %s can open all %zu GPU device node(s)", u->name, t.n_checked);
}

int nvb_doctor_check_subids(struct nvb_doctor_ctx *ctx, struct nvb_error *err)
{
	if (check_subid_files(ctx, err) < 0)
		return -1;
	struct rootless_user u;
	if (!rootless_user(ctx, &u))
		return 0; /* root without SUDO_USER: there is no rootless user to check */
	if (check_user_subids(ctx, &u, err) < 0)
		return -1;
	return check_user_nodes(ctx, &u, err);
}
