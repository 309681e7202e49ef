/* SPDX-License-Identifier: Apache-2.0 */
/* doctor, check "cdi": every spec of the configured kind in the spec directories against the
 * running driver and GPUs (stale driver version, files and nodes that are gone, devices for
 * GPUs that are gone or moved), invalid specs, and no spec at all (docs/doctor.md). */
#include <ctype.h>

#include "cdi/cdi.h"
#include "config/config.h"
#include "doctor/checks.h"

/* The part of a path below the host root when it starts with the root's own path (so that
 * the root's name never counts), else the path. */
static const char *inside_part(const struct nvb_doctor_ctx *ctx, const char *path)
{
	const char *root = nvb_host_root(ctx->host);
	size_t rl = strlen(root);
	if (strcmp(root, "/") != 0 && strncmp(path, root, rl) == 0 && path[rl] == '/')
		return path + rl;
	return path;
}

/* A driver version: at least three digits, then one or two ".digits" (580.159.04, 470.82).
 * Libraries with versions of their own (libnvidia-egl-wayland.so.1.1.13) do not match. */
static bool driver_version_like(const char *s, size_t len)
{
	size_t i = 0, digits = 0, dots = 0;
	while (i < len && isdigit((unsigned char)s[i]))
		i++, digits++;
	if (digits < 3)
		return false;
	while (i < len) {
		if (s[i] != '.' || i + 1 >= len || !isdigit((unsigned char)s[i + 1]))
			return false;
		dots++;
		i++;
		while (i < len && isdigit((unsigned char)s[i]))
			i++;
	}
	return dots >= 1 && dots <= 2;
}

/* The driver version a path names, if any: "<lib>.so.<version>", or a directory component
 * that is a version (/lib/firmware/nvidia/<version>/gsp_ga10x.bin). Returns its length. */
static size_t path_driver_version(const char *path, const char **ver)
{
	const char *base = nvb_basename(path);
	const char *so = strstr(base, ".so.");
	if (so && driver_version_like(so + 4, strlen(so + 4))) {
		*ver = so + 4;
		return strlen(so + 4);
	}
	for (const char *p = path; *p;) {
		while (*p == '/')
			p++;
		size_t n = strcspn(p, "/");
		if (n && p[n] == '/' && driver_version_like(p, n)) {
			*ver = p;
			return n;
		}
		p += n;
	}
	return 0;
}

/* --------------------------------------------------------- 4. CDI freshness */

struct reasons {
	struct nvb_strbuf text; /* the reasons, "; " between them */
	size_t n;
};

static void reason(struct reasons *r, const char *fmt, ...) NVB_PRINTF(2, 3);
static void reason(struct reasons *r, const char *fmt, ...)
{
	if (r->n++)
		nvb_strbuf_append(&r->text, "; ");
	va_list ap;
	va_start(ap, fmt);
	nvb_strbuf_vappendf(&r->text, fmt, ap);
	va_end(ap);
}

/* A set of paths (each counted once) and a few of them as examples, for messages. The paths
 * are borrowed from the spec being checked. */
struct examples {
	const char **seen;
	size_t n;
	char text[400];
};

static void example(struct examples *e, const char *path)
{
	for (size_t i = 0; i < e->n; i++)
		if (strcmp(e->seen[i], path) == 0)
			return;
	const char **slot = nvb_array_push(&e->seen, &e->n, sizeof(*slot));
	if (!slot)
		return; /* out of memory: the count stays low, the message says less */
	*slot = path;
	if (e->n <= 3) {
		size_t used = strlen(e->text);
		snprintf(e->text + used, sizeof(e->text) - used, "%s%s", used ? ", " : "", path);
	}
}

static const char *more(const struct examples *e) { return e->n > 3 ? ", ..." : ""; }

struct spec_scan {
	struct examples missing_files, missing_nodes, missing_hooks, wrong_version, old_folder;
	char other_version[64];
	int folder_known;      /* 0: not computed yet, 1: folder_now holds it, -1: none */
	char folder_now[128];  /* the driver folder the host's files make now */
};

/* Whether hp names driver version ver (vl bytes) while another one runs: noted as a mount
 * of the wrong version. */
static bool other_version(struct nvb_doctor_ctx *ctx, const char *hp, const char *ver, size_t vl,
			  struct spec_scan *s)
{
	const char *running = ctx->inv->driver.version;
	if (!vl || !running || (strlen(running) == vl && strncmp(ver, running, vl) == 0))
		return false;
	example(&s->wrong_version, hp);
	if (!s->other_version[0])
		snprintf(s->other_version, sizeof(s->other_version), "%.*s", (int)vl, ver);
	return true;
}

/* A driver folder mount (docs/cdi.md): its version is in its name, and its hash must be that of
 * the files the host has now (a reinstalled or changed driver makes another folder). */
static void scan_folder(struct nvb_doctor_ctx *ctx, const char *hp, const char *name,
			struct spec_scan *s)
{
	const char *dash = strrchr(name, '-');
	if (other_version(ctx, hp, name, dash ? (size_t)(dash - name) : 0, s))
		return;
	if (!s->folder_known)
		s->folder_known = nvb_driver_folder_name(nvb_host_root(ctx->host), ctx->inv,
							 s->folder_now, sizeof(s->folder_now))
					  ? 1
					  : -1;
	if (s->folder_known < 0 || strcmp(s->folder_now, name) != 0)
		example(&s->old_folder, hp);
}

static void scan_edits(struct nvb_doctor_ctx *ctx, const struct nvb_cdi_edits *e,
		       struct spec_scan *s)
{
	struct stat st;
	for (size_t i = 0; i < e->n_mounts; i++) {
		const char *hp = e->mounts[i].host_path;
		if (!hp)
			continue;
		if (!nvb_doctor_named_path_stat(ctx, hp, false, &st))
			example(&s->missing_files, hp);
		const char *folder = nvb_driver_folder_of(hp);
		if (folder) {
			scan_folder(ctx, hp, folder, s);
			continue;
		}
		const char *ver = NULL;
		size_t vl = path_driver_version(inside_part(ctx, hp), &ver);
		other_version(ctx, hp, ver, vl, s);
	}
	for (size_t i = 0; i < e->n_nodes; i++) {
		const char *hp = e->nodes[i].host_path ? e->nodes[i].host_path : e->nodes[i].path;
		if (hp &&
		    (!nvb_doctor_named_path_stat(ctx, hp, false, &st) || !S_ISCHR(st.st_mode)))
			example(&s->missing_nodes, hp);
	}
	for (size_t i = 0; i < e->n_hooks; i++) {
		const char *p = e->hooks[i].path;
		if (p && !(nvb_doctor_named_path_stat(ctx, p, true, &st) &&
			   nvb_doctor_is_executable(&st)))
			example(&s->missing_hooks, p);
	}
}

static bool edits_have_node(const struct nvb_cdi_edits *e, const char *path)
{
	for (size_t i = 0; i < e->n_nodes; i++)
		if (e->nodes[i].path && strcmp(e->nodes[i].path, path) == 0)
			return true;
	return false;
}

/* The /dev/nvidia<N> node a device's edits use, or NULL. */
static const char *gpu_node_of(const struct nvb_cdi_edits *e)
{
	for (size_t i = 0; i < e->n_nodes; i++) {
		const char *p = e->nodes[i].path;
		if (p && nvb_str_has_prefix(p, "/dev/nvidia") && isdigit((unsigned char)p[11]))
			return p;
	}
	return NULL;
}

/* Parse "<digits>" after prefix into *out; the whole rest must be digits. */
static bool parse_uint(const char *s, unsigned *out)
{
	if (!*s || strlen(s) > 6)
		return false;
	for (const char *p = s; *p; p++)
		if (!isdigit((unsigned char)*p))
			return false;
	*out = (unsigned)atoi(s);
	return true;
}

static bool parse_mig(const char *s, unsigned *gpu, unsigned *mig)
{
	const char *colon = strchr(s, ':');
	if (!colon || colon == s || colon - s > 6)
		return false;
	char left[8];
	snprintf(left, sizeof(left), "%.*s", (int)(colon - s), s);
	return parse_uint(left, gpu) && parse_uint(colon + 1, mig);
}

static const struct nvb_gpu *gpu_by_uuid(const struct nvb_inventory *inv, const char *uuid)
{
	for (size_t i = 0; i < inv->n_gpus; i++)
		if (inv->gpus[i].uuid && strcmp(inv->gpus[i].uuid, uuid) == 0)
			return &inv->gpus[i];
	return NULL;
}

/* Whether the GPU's own node is the one the device uses. */
static void check_gpu_node(struct reasons *r, const char *name, const struct nvb_cdi_edits *e,
			   const struct nvb_gpu *g)
{
	if (g->minor < 0)
		return;
	char want[32];
	snprintf(want, sizeof(want), "/dev/nvidia%d", g->minor);
	if (edits_have_node(e, want))
		return;
	const char *has = gpu_node_of(e);
	reason(r, "device %s uses %s but GPU %u (%s) is now %s", name, has ? has : "no GPU node",
	       g->index, g->pci_bus_id, want);
}

/* Devices for GPUs that are gone, GPUs without a device, devices on the wrong node. */
static void check_spec_devices(struct nvb_doctor_ctx *ctx, const struct nvb_cdi_spec *spec,
			       struct reasons *r)
{
	const struct nvb_inventory *inv = ctx->inv;
	bool mig_uuids_known = false;
	for (size_t i = 0; i < inv->n_gpus; i++)
		for (size_t m = 0; m < inv->gpus[i].n_migs; m++)
			mig_uuids_known = mig_uuids_known || inv->gpus[i].migs[m].uuid;
	bool per_gpu = false;
	for (size_t d = 0; d < spec->n_devices; d++) {
		const struct nvb_cdi_device *dev = &spec->devices[d];
		const char *name = dev->name;
		unsigned idx, mig;
		if (strcmp(name, "all") == 0) {
			for (size_t i = 0; i < inv->n_gpus; i++) {
				const struct nvb_gpu *g = &inv->gpus[i];
				char want[32];
				snprintf(want, sizeof(want), "/dev/nvidia%d", g->minor);
				if (g->minor >= 0 && g->n_nodes &&
				    !edits_have_node(&dev->edits, want))
					reason(r, "device all lacks %s of GPU %u (%s)", want,
					       g->index, g->uuid ? g->uuid : g->pci_bus_id);
			}
		} else if (parse_uint(name, &idx) ||
			   (nvb_str_has_prefix(name, "gpu") && parse_uint(name + 3, &idx))) {
			per_gpu = true;
			if (idx >= inv->n_gpus)
				reason(r,
				       "device %s is for GPU %u, which is gone (the host has %zu "
				       "GPU(s))",
				       name, idx, inv->n_gpus);
			else
				check_gpu_node(r, name, &dev->edits, &inv->gpus[idx]);
		} else if (parse_mig(name, &idx, &mig) ||
			   (nvb_str_has_prefix(name, "mig") && parse_mig(name + 3, &idx, &mig))) {
			if (idx >= inv->n_gpus || mig >= inv->gpus[idx].n_migs)
				reason(r, "device %s is for a MIG device that is gone", name);
		} else if (nvb_str_has_prefix(name, "GPU-")) {
			per_gpu = true;
			const struct nvb_gpu *g = gpu_by_uuid(inv, name);
			if (!g)
				reason(r, "device %s is for a GPU that is gone", name);
			else
				check_gpu_node(r, name, &dev->edits, g);
		} else if (nvb_str_has_prefix(name, "MIG-") && mig_uuids_known) {
			bool found = false;
			for (size_t i = 0; i < inv->n_gpus && !found; i++)
				for (size_t m = 0; m < inv->gpus[i].n_migs && !found; m++)
					found = inv->gpus[i].migs[m].uuid &&
						strcmp(inv->gpus[i].migs[m].uuid, name) == 0;
			if (!found)
				reason(r, "device %s is for a MIG device that is gone", name);
		}
	}
	if (!per_gpu)
		return;
	for (size_t i = 0; i < inv->n_gpus; i++) {
		const struct nvb_gpu *g = &inv->gpus[i];
		if (!g->n_nodes)
			continue; /* no node: the generator gives it no device either */
		char idx_name[16], type_name[20];
		snprintf(idx_name, sizeof(idx_name), "%u", g->index);
		snprintf(type_name, sizeof(type_name), "gpu%u", g->index);
		bool covered = false;
		for (size_t d = 0; d < spec->n_devices && !covered; d++) {
			const char *name = spec->devices[d].name;
			covered = strcmp(name, idx_name) == 0 || strcmp(name, type_name) == 0 ||
				  (g->uuid && strcmp(name, g->uuid) == 0);
		}
		if (!covered)
			reason(r, "no device for GPU %u (%s, %s)", g->index,
			       g->uuid ? g->uuid : "no UUID", g->pci_bus_id);
	}
}

static int check_spec(struct nvb_doctor_ctx *ctx, const struct nvb_cdi_spec *spec,
		      struct nvb_error *err)
{
	struct reasons r = {.n = 0};
	struct spec_scan s;
	memset(&s, 0, sizeof(s));
	scan_edits(ctx, &spec->edits, &s);
	for (size_t d = 0; d < spec->n_devices; d++)
		scan_edits(ctx, &spec->devices[d].edits, &s);
	if (s.wrong_version.n)
		reason(&r, "%zu mount(s) are of driver %s, the running driver is %s (%s%s)",
		       s.wrong_version.n, s.other_version, ctx->inv->driver.version,
		       s.wrong_version.text, more(&s.wrong_version));
	if (s.missing_files.n)
		reason(&r, "%zu mount(s) point at files that no longer exist (%s%s)",
		       s.missing_files.n, s.missing_files.text, more(&s.missing_files));
	if (s.old_folder.n)
		reason(&r, "the driver folder %s does not hold the driver files the host has now "
		       "(%s; a file was removed, added or replaced since the spec was written)",
		       s.old_folder.text,
		       s.folder_known > 0 ? s.folder_now : "no file can go in a folder now");
	if (s.missing_nodes.n)
		reason(&r, "%zu device node(s) are missing or not character devices (%s%s)",
		       s.missing_nodes.n, s.missing_nodes.text, more(&s.missing_nodes));
	if (s.missing_hooks.n)
		reason(&r, "hook program(s) missing or not executable (%s%s)", s.missing_hooks.text,
		       more(&s.missing_hooks));
	check_spec_devices(ctx, spec, &r);
	free(s.missing_files.seen);
	free(s.missing_nodes.seen);
	free(s.missing_hooks.seen);
	free(s.wrong_version.seen);
	free(s.old_folder.seen);
	_cleanup_free_ char *text = nvb_strbuf_take(&r.text);
	if (!text)
		return nvb_error_nomem(err);
	if (r.n == 0)
		return ADD(ctx, NVB_DOCTOR_OK, "cdi", "cdi-spec-ok", NULL,
			   "%s is up to date with driver %s and the %zu GPU(s) (%zu devices)",
			   spec->origin,
			   ctx->inv->driver.version ? ctx->inv->driver.version : "(none)",
			   ctx->inv->n_gpus, spec->n_devices);
	/* regenerate that very file: --output unless it is where the default goes */
	_cleanup_free_ char *cmd = nvb_doctor_nvbind_cmd(ctx);
	_cleanup_free_ char *deflt =
	    ctx->cfg->cdi_output ? nvb_doctor_shown(ctx, ctx->cfg->cdi_output) : NULL;
	_cleanup_free_ char *gen =
	    deflt && strcmp(deflt, spec->origin) == 0 &&
		    nvb_doctor_default_output_is_found(ctx->cfg)
		? nvb_doctor_generate_cmd(ctx)
	    : cmd ? nvb_asprintf("%scdi generate --output %s", cmd, spec->origin)
		  : NULL;
	_cleanup_free_ char *fix =
	    gen ? nvb_asprintf("%s; then " NVB_DOCTOR_REFRESH_UNITS, gen) : NULL;
	if (!fix)
		return nvb_error_nomem(err);
	return ADD(ctx, NVB_DOCTOR_ERROR, "cdi", "cdi-spec-stale", fix,
		   "%s is stale: %s; containers that use it fail to start or get the wrong GPU",
		   spec->origin, text);
}

/* The spec directories, resolved inside the host root, as paths the registry can open;
 * directories that do not exist are left out. shown_dirs lists them all for messages. */
static int resolve_spec_dirs(struct nvb_doctor_ctx *ctx, char **dirs, size_t cap, size_t *n_dirs,
			     char *shown_dirs, size_t shown_cap, struct nvb_error *err)
{
	const struct nvb_config *cfg = ctx->cfg;
	*n_dirs = 0;
	shown_dirs[0] = '\0';
	for (size_t i = 0; i < cfg->n_spec_dirs && *n_dirs < cap; i++) {
		_cleanup_free_ char *dir = nvb_doctor_shown(ctx, cfg->spec_dirs[i]);
		if (!dir)
			return nvb_error_nomem(err);
		size_t used = strlen(shown_dirs);
		snprintf(shown_dirs + used, shown_cap - used, "%s%s", used ? ", " : "", dir);
		struct nvb_error ignored;
		_cleanup_free_ char *resolved = NULL;
		_cleanup_close_ int fd =
		    nvb_host_resolve(ctx->host, cfg->spec_dirs[i], 0, &resolved, &ignored);
		if (fd < 0)
			continue; /* no such directory: no specs there */
		if (!(dirs[*n_dirs] = nvb_host_outside_path(ctx->host, resolved)))
			return nvb_error_nomem(err);
		(*n_dirs)++;
	}
	return 0;
}

int nvb_doctor_check_cdi(struct nvb_doctor_ctx *ctx, struct nvb_error *err)
{
	const struct nvb_config *cfg = ctx->cfg;
	const char *kind =
	    cfg->cdi_kind && cfg->cdi_kind[0] ? cfg->cdi_kind : NVB_DOCTOR_DEFAULT_KIND;
	char *dirs[NVB_CONFIG_MAX_LIST] = {NULL};
	size_t n_dirs = 0;
	char shown_dirs[512];
	struct nvb_cdi_registry *reg = NULL;
	if (resolve_spec_dirs(ctx, dirs, NVB_ARRAY_SIZE(dirs), &n_dirs, shown_dirs,
			      sizeof(shown_dirs), err) == 0)
		reg = nvb_cdi_registry_load((const char *const *)dirs, n_dirs, err);
	for (size_t i = 0; i < NVB_ARRAY_SIZE(dirs); i++)
		free(dirs[i]);
	if (!reg)
		return -1;
	_cleanup_free_ char *cmd = nvb_doctor_nvbind_cmd(ctx);
	int r = cmd ? 0 : nvb_error_nomem(err);
	for (size_t i = 0; r == 0 && i < reg->n_errors; i++) {
		_cleanup_free_ char *fix =
		    nvb_asprintf("'%scdi validate' lists every problem; fix or remove the file, "
				 "or regenerate it with '%scdi generate'",
				 cmd, cmd);
		r = fix ? ADD(ctx, NVB_DOCTOR_ERROR, "cdi", "cdi-spec-invalid", fix,
			      "%s: engines skip this spec", reg->errors[i])
			: nvb_error_nomem(err);
	}
	size_t found = 0;
	for (size_t i = 0; r == 0 && i < reg->n_specs; i++) {
		if (strcmp(reg->specs[i]->kind, kind) != 0)
			continue;
		found++;
		r = check_spec(ctx, reg->specs[i], err);
	}
	nvb_cdi_registry_free(reg);
	if (r < 0)
		return -1;
	ctx->have_cdi_spec = found > 0;
	if (found || ctx->inv->n_gpus == 0)
		return 0;
	_cleanup_free_ char *gen = nvb_doctor_generate_cmd(ctx);
	_cleanup_free_ char *fix =
	    gen ? nvb_asprintf("%s; then " NVB_DOCTOR_REFRESH_UNITS, gen) : NULL;
	if (!fix)
		return nvb_error_nomem(err);
	return ADD(ctx, NVB_DOCTOR_WARNING, "cdi", "cdi-spec-missing", fix,
		   "no CDI spec of kind %s in %s: 'podman run --device %s=all', Docker 25+ "
		   "and containerd cannot find the GPUs",
		   kind, shown_dirs[0] ? shown_dirs : "(no spec directory configured)", kind);
}
