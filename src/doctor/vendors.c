/* SPDX-License-Identifier: Apache-2.0 */
/* doctor, check "vendors": AMD and Intel GPUs (the inventories after NVIDIA's in the chain):
 * driver loaded, the nodes their containers need present as character devices (AMD: a render
 * node and /dev/kfd per GPU; Intel: a render node), and the groups (render, video) a user's
 * containers need, with how each engine passes them on (docs/doctor.md). */
#include "doctor/checks.h"

#include "inventory/inventory.h"

#define CHECK "vendors"

static const char *vendor_title(enum nvb_vendor v)
{
	return v == NVB_VENDOR_AMD ? "AMD" : "Intel";
}

/* The user whose containers run rootless: SUDO_USER under sudo, else the caller; NULL for
 * root without SUDO_USER (no user to check). */
static const char *container_user(char *buf, size_t cap)
{
	const char *sudo = getenv("SUDO_USER");
	if (sudo && sudo[0] && strcmp(sudo, "root") != 0)
		return sudo;
	if (getuid() == 0)
		return NULL;
	const char *name = getenv("USER");
	if (name && name[0])
		return name;
	snprintf(buf, cap, "%lu", (unsigned long)getuid());
	return buf;
}

/* ------------------------------------------------------------- the checks */

/* The driver bound to the GPUs (sysfs driver link) when /sys/module does not say. */
static const char *bound_driver(const struct nvb_inventory *inv)
{
	for (size_t i = 0; i < inv->n_gpus; i++) {
		const char *d = inv->gpus[i].kernel_driver;
		if (d && (!strcmp(d, "amdgpu") || !strcmp(d, "i915") || !strcmp(d, "xe")))
			return d;
	}
	return NULL;
}

static int check_driver(struct nvb_doctor_ctx *ctx, const struct nvb_inventory *inv,
			struct nvb_error *err)
{
	const char *v = vendor_title(inv->driver.vendor);
	const char *module = inv->driver.vendor == NVB_VENDOR_AMD ? "amdgpu" : "i915 or xe";
	size_t usable = 0;
	for (size_t i = 0; i < inv->n_gpus; i++)
		usable += inv->gpus[i].n_nodes > 0;
	const char *loaded = inv->driver.kernel_module ? inv->driver.kernel_module : bound_driver(inv);
	if (!loaded)
		return ADD(ctx, NVB_DOCTOR_ERROR, CHECK, "vendor-driver-missing",
			   inv->driver.vendor == NVB_VENDOR_AMD ? "modprobe amdgpu (package amdgpu-dkms "
								  "or the distribution kernel's)"
								: "modprobe i915 (or xe for Battlemage and later)",
			   "%zu %s GPU(s) found but no %s kernel module is loaded: containers get "
			   "no device", inv->n_gpus, v, module);
	return ADD(ctx, NVB_DOCTOR_OK, CHECK, "vendor-driver-ok", NULL,
		   "%s: %s%s%s loaded, %zu GPU(s), %zu with device nodes (CDI kind %s)", v,
		   loaded, inv->driver.version ? " " : "",
		   inv->driver.version ? inv->driver.version : "", inv->n_gpus, usable,
		   nvb_vendor_cdi_kind(inv->driver.vendor));
}

static bool has_node(const struct nvb_gpu *g, const char *prefix)
{
	for (size_t k = 0; k < g->n_nodes; k++)
		if (nvb_str_has_prefix(g->nodes[k].path, prefix))
			return true;
	return false;
}

/* Whether the node is there now, as a character device (the inventory has its numbers; a
 * node removed since, or a file in its place, is what a container start fails on). */
static bool node_present(struct nvb_doctor_ctx *ctx, const struct nvb_device_node *n)
{
	if (nvb_str_has_prefix(n->path, "/dev/dri/by-path/"))
		return nvb_doctor_host_exists(ctx, n->path); /* udev's link to the node */
	struct nvb_device_node now = {0};
	struct nvb_error ignored;
	bool ok = nvb_device_node_stat(ctx->host, n->path, &now, &ignored) == 0;
	nvb_device_node_clear(&now);
	return ok;
}

/* Every GPU with nodes has a render node (and, AMD, /dev/kfd) and each is a device. */
static int check_nodes(struct nvb_doctor_ctx *ctx, const struct nvb_inventory *inv,
		       struct nvb_error *err)
{
	bool amd = inv->driver.vendor == NVB_VENDOR_AMD;
	size_t checked = 0;
	for (size_t i = 0; i < inv->n_gpus; i++) {
		const struct nvb_gpu *g = &inv->gpus[i];
		if (!g->n_nodes)
			continue; /* vfio-pci: the probe's problem says so */
		const char *gap = !has_node(g, "/dev/dri/renderD") ? "no render node (/dev/dri/renderD*)"
				  : amd && !has_node(g, "/dev/kfd")	? "no /dev/kfd (ROCm's compute node)"
									: NULL;
		if (gap && ADD(ctx, NVB_DOCTOR_ERROR, CHECK, "vendor-node-missing",
			       amd ? "check that amdgpu loaded with KFD ('dmesg | grep kfd'); udev "
				     "creates /dev/kfd and the render nodes"
				   : "check that i915 or xe bound the GPU ('dmesg | grep -i drm')",
			       "%s GPU %u (%s) has %s: compute containers cannot use it",
			       vendor_title(inv->driver.vendor), g->index,
			       g->pci_bus_id ? g->pci_bus_id : "?", gap) < 0)
			return -1;
		for (size_t k = 0; k < g->n_nodes; k++, checked++) {
			if (node_present(ctx, &g->nodes[k]))
				continue;
			_cleanup_free_ char *where = nvb_doctor_shown(ctx, g->nodes[k].path);
			if (!where || ADD(ctx, NVB_DOCTOR_ERROR, CHECK, "vendor-node-gone",
					  "regenerate the spec after the change: nvbind cdi generate",
					  "%s is not a character device now (GPU %u): the spec names "
					  "it", where, g->index) < 0)
				return where ? -1 : nvb_error_nomem(err);
		}
	}
	return 0;
}

struct group_tally {
	char needed[160];  /* groups whose bits grant the access */
	char missing[160]; /* of those, the ones the user is not in */
	size_t open_to_all;
	size_t nodes;
};

static void add_word(char *buf, size_t cap, const char *w)
{
	size_t len = strlen(buf);
	char padded[80];
	snprintf(padded, sizeof(padded), ",%s,", w);
	char have[200];
	snprintf(have, sizeof(have), ",%s,", buf);
	if (!strstr(have, padded) && len + strlen(w) + 2 < cap)
		snprintf(buf + len, cap - len, "%s%s", len ? "," : "", w);
}

/* Which groups open the vendor's nodes (read and write), and which the user lacks. */
static void tally_groups(struct nvb_doctor_ctx *ctx, const struct nvb_inventory *inv,
			 const char *user, struct group_tally *t)
{
	for (size_t i = 0; i < inv->n_gpus; i++) {
		const struct nvb_gpu *g = &inv->gpus[i];
		for (size_t k = 0; k < g->n_nodes; k++) {
			const struct nvb_device_node *n = &g->nodes[k];
			if (nvb_str_has_prefix(n->path, "/dev/mei") ||
			    nvb_str_has_prefix(n->path, "/dev/dri/by-path/"))
				continue; /* MEI is root's (firmware updates); by-path: the same node */
			t->nodes++;
			if ((n->mode & 0006) == 0006) {
				t->open_to_all++;
				continue;
			}
			if (((n->mode >> 3) & 6) != 6)
				continue;
			char name[64];
			bool member;
			nvb_doctor_group(ctx, n->gid, user, name, sizeof(name), &member);
			add_word(t->needed, sizeof(t->needed), name);
			if (user && !member)
				add_word(t->missing, sizeof(t->missing), name);
		}
	}
}

static int check_groups(struct nvb_doctor_ctx *ctx, const struct nvb_inventory *inv,
			struct nvb_error *err)
{
	char buf[32];
	const char *user = container_user(buf, sizeof(buf));
	struct group_tally t = {{0}};
	tally_groups(ctx, inv, user, &t);
	const char *v = vendor_title(inv->driver.vendor);
	if (!t.nodes || !t.needed[0])
		return 0; /* no nodes, or open to everyone: nothing to grant */
	static const char engines[] =
		"docker: --group-add render --group-add video (for a non-root user in the "
		"container); rootless podman: --group-add keep-groups (with crun) keeps the user's "
		"groups";
	if (user && t.missing[0]) {
		_cleanup_free_ char *fix = nvb_asprintf("usermod -aG %s %s (then log in again); %s",
							t.missing, user, engines);
		if (!fix)
			return nvb_error_nomem(err);
		return ADD(ctx, NVB_DOCTOR_WARNING, CHECK, "vendor-groups-missing", fix,
			   "%s GPU nodes open through the groups %s; user %s is not in %s: their "
			   "rootless containers cannot open them",
			   v, t.needed, user, t.missing);
	}
	return ADD(ctx, NVB_DOCTOR_INFO, CHECK, "vendor-groups", engines,
		   "%s GPU nodes open through the groups %s%s%s%s; a container process that is "
		   "not root needs them as supplementary groups",
		   v, t.needed, user ? " (user " : "", user ? user : "", user ? " is in them)" : "");
}

int nvb_doctor_check_vendors(struct nvb_doctor_ctx *ctx, struct nvb_error *err)
{
	for (const struct nvb_inventory *inv = ctx->inv ? ctx->inv->next : NULL; inv; inv = inv->next) {
		if (inv->driver.vendor != NVB_VENDOR_AMD && inv->driver.vendor != NVB_VENDOR_INTEL)
			continue;
		if (check_driver(ctx, inv, err) < 0 || check_nodes(ctx, inv, err) < 0 ||
		    check_groups(ctx, inv, err) < 0)
			return -1;
	}
	return 0;
}
