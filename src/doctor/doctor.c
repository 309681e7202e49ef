/* SPDX-License-Identifier: Apache-2.0 */
/* nvbind doctor: one function per check, each adding findings to the report (docs/doctor.md).
 * Host files are read through the host root only; CDI hostPaths that already point into the
 * root (specs generated with --root) are checked as the real paths they are. */
#include "doctor/doctor.h"

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <jansson.h>

#include "cdi/cdi.h"
#include "config/config.h"
#include "format/toml.h"

#define CONFIG_MAX (4u << 20)
#define SMALL_MAX (1u << 20)
#define DEFAULT_KIND "nvidia.com/gpu"
#define REFRESH_UNITS                                                                              \
	"systemctl enable --now nvbind-cdi-refresh.path nvbind-cdi-refresh.service "               \
	"(contrib/systemd) so the spec follows driver upgrades"

/* ------------------------------------------------------------------ report */

static const char *const severity_names[] = {"ok", "info", "warning", "error"};

const char *nvb_doctor_severity_name(enum nvb_doctor_severity sev)
{
	return (unsigned)sev < NVB_ARRAY_SIZE(severity_names) ? severity_names[sev] : "error";
}

int nvb_doctor_add(struct nvb_doctor_report *report, enum nvb_doctor_severity sev,
		   const char *check, const char *code, const char *fix, const char *fmt, ...)
{
	char *message = NULL;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&message, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	struct nvb_doctor_finding *f =
	    nvb_array_push(&report->findings, &report->n_findings, sizeof(*f));
	if (!f) {
		free(message);
		return -1;
	}
	f->severity = sev;
	f->check = check;
	f->message = message;
	f->code = strdup(code);
	f->fix = fix ? strdup(fix) : NULL;
	if (!f->code || (fix && !f->fix))
		return -1; /* freed with the report */
	if (sev > report->worst)
		report->worst = sev;
	return 0;
}

void nvb_doctor_report_free(struct nvb_doctor_report *report)
{
	if (!report)
		return;
	for (size_t i = 0; i < report->n_findings; i++) {
		free(report->findings[i].code);
		free(report->findings[i].message);
		free(report->findings[i].fix);
	}
	free(report->findings);
	free(report);
}

char *nvb_doctor_report_to_json(const struct nvb_doctor_report *report, struct nvb_error *err)
{
	json_t *arr = json_array();
	json_t *root = json_object();
	if (!arr || !root)
		goto nomem;
	for (size_t i = 0; i < report->n_findings; i++) {
		const struct nvb_doctor_finding *f = &report->findings[i];
		json_t *o = json_pack("{s:s, s:s, s:s, s:s?, s:s}", "severity",
				      nvb_doctor_severity_name(f->severity), "code", f->code,
				      "message", f->message, "fix", f->fix, "check", f->check);
		if (!o || json_array_append_new(arr, o) < 0)
			goto nomem;
	}
	if (json_object_set_new(root, "findings", arr) < 0) {
		arr = NULL;
		goto nomem;
	}
	arr = NULL;
	if (json_object_set_new(root, "worst",
				json_string(nvb_doctor_severity_name(report->worst))) < 0)
		goto nomem;
	char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(root);
	if (!text)
		nvb_error_nomem(err);
	return text;
nomem:
	json_decref(arr);
	json_decref(root);
	nvb_error_nomem(err);
	return NULL;
}

/* ----------------------------------------------------------------- helpers */

#define ADD(ctx, sev, check, code, fix, ...)                                                       \
	(nvb_doctor_add((ctx)->report, (sev), (check), (code), (fix), __VA_ARGS__) < 0             \
	     ? nvb_error_nomem(err)                                                                \
	     : 0)

static bool root_is_slash(const struct nvb_doctor_ctx *ctx)
{
	return strcmp(nvb_host_root(ctx->host), "/") == 0;
}

/* A host path as the user sees it: the root's prefix plus the path (the path itself for /). */
static char *shown(const struct nvb_doctor_ctx *ctx, const char *inside)
{
	return nvb_host_outside_path(ctx->host, inside);
}

/* "nvbind " or "nvbind --root ROOT ", for fix commands. */
static char *nvbind_cmd(const struct nvb_doctor_ctx *ctx)
{
	if (root_is_slash(ctx))
		return strdup("nvbind ");
	return nvb_asprintf("nvbind --root %s ", nvb_host_root(ctx->host));
}

/* Fix commands do exactly what they say when run as printed: they carry --root, since with it
 * every default path is inside the root (docs/cli.md, "--root"), and name a path explicitly
 * only where the default would be another file. */

static bool in_spec_dirs(const struct nvb_config *cfg, const char *dir, size_t len)
{
	for (size_t i = 0; i < cfg->n_spec_dirs; i++)
		if (strlen(cfg->spec_dirs[i]) == len && strncmp(cfg->spec_dirs[i], dir, len) == 0)
			return true;
	return false;
}

/* Whether 'cdi generate' without --output writes into a spec directory, under a name the
 * engines read: cdi.output is a spec directory, or a .json / .yaml file in one. */
static bool default_output_is_found(const struct nvb_config *cfg)
{
	const char *out = cfg->cdi_output;
	if (!out || out[0] != '/')
		return false; /* stdout, or relative to wherever the command runs */
	if (in_spec_dirs(cfg, out, strlen(out)))
		return true;
	const char *slash = strrchr(out, '/');
	return (nvb_str_has_suffix(out, ".json") || nvb_str_has_suffix(out, ".yaml")) &&
	       in_spec_dirs(cfg, out, slash == out ? 1 : (size_t)(slash - out));
}

/* The command that writes the spec where the engines (and this check) find it. */
static char *generate_cmd(struct nvb_doctor_ctx *ctx)
{
	const struct nvb_config *cfg = ctx->cfg;
	_cleanup_free_ char *cmd = nvbind_cmd(ctx);
	if (!cmd)
		return NULL;
	if (default_output_is_found(cfg) || cfg->n_spec_dirs == 0)
		return nvb_asprintf("%scdi generate", cmd);
	_cleanup_free_ char *dir = shown(ctx, cfg->spec_dirs[0]);
	_cleanup_free_ char *base = strdup(cfg->cdi_kind && cfg->cdi_kind[0] ? cfg->cdi_kind
									   : DEFAULT_KIND);
	char *slash = base ? strchr(base, '/') : NULL;
	if (!dir || !slash)
		return NULL;
	*slash = '-';
	return nvb_asprintf("%scdi generate --output %s/%s.json", cmd, dir, base);
}

/* stat a path inside the host root (following links inside it). */
static bool host_stat(struct nvb_doctor_ctx *ctx, const char *path, struct stat *st)
{
	struct nvb_error ignored;
	_cleanup_close_ int fd = nvb_host_resolve(ctx->host, path, 0, NULL, &ignored);
	return fd >= 0 && fstat(fd, st) == 0;
}

static bool host_exists(struct nvb_doctor_ctx *ctx, const char *path)
{
	struct stat st;
	return host_stat(ctx, path, &st);
}

/* A path named by a CDI spec or an engine's configuration. Under the root / it is the real
 * path; a path that starts with the root's own path was written for this root (cdi generate
 * --root) and is real too; any other is looked up inside the root, and, when real_fallback,
 * as a real path as well (executables such as the hook or the runtime live outside fixture
 * roots). */
static bool named_path_stat(struct nvb_doctor_ctx *ctx, const char *path, bool real_fallback,
			    struct stat *st)
{
	const char *root = nvb_host_root(ctx->host);
	size_t rl = strlen(root);
	if (!path || path[0] != '/')
		return false;
	if (root_is_slash(ctx) || (strncmp(path, root, rl) == 0 && path[rl] == '/'))
		return stat(path, st) == 0;
	if (host_stat(ctx, path, st))
		return true;
	return real_fallback && stat(path, st) == 0;
}

/* The part of a path below the host root when it starts with the root's own path (so that
 * the root's name never counts), else the path. */
static const char *inside_part(const struct nvb_doctor_ctx *ctx, const char *path)
{
	const char *root = nvb_host_root(ctx->host);
	size_t rl = strlen(root);
	if (!root_is_slash(ctx) && strncmp(path, root, rl) == 0 && path[rl] == '/')
		return path + rl;
	return path;
}

static bool is_executable(const struct stat *st)
{
	return S_ISREG(st->st_mode) && (st->st_mode & 0111);
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
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
	const char *base = base_name(path);
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

static size_t count_libraries(const struct nvb_inventory *inv)
{
	size_t n = 0;
	for (size_t i = 0; i < inv->n_files; i++)
		n += inv->files[i].kind == NVB_FILE_LIBRARY;
	return n;
}

/* ------------------------------------------------------- 1. driver, files */

static enum nvb_doctor_severity from_problem(enum nvb_problem_kind k)
{
	switch (k) {
	case NVB_PROBLEM_INFO:
		return NVB_DOCTOR_INFO;
	case NVB_PROBLEM_WARNING:
		return NVB_DOCTOR_WARNING;
	default:
		return NVB_DOCTOR_ERROR;
	}
}

static bool essential_library(const char *missing)
{
	return strcmp(missing, "libcuda.so") == 0 || strcmp(missing, "libnvidia-ml.so") == 0;
}

int nvb_doctor_check_driver(struct nvb_doctor_ctx *ctx, struct nvb_error *err)
{
	static const char *const check = "driver";
	const struct nvb_inventory *inv = ctx->inv;
	size_t before = ctx->report->n_findings;
	bool bad = false;
	for (size_t i = 0; i < inv->n_problems; i++) {
		const struct nvb_problem *p = &inv->problems[i];
		if (ADD(ctx, from_problem(p->severity), check, p->code, p->hint, "%s",
			p->message ? p->message : p->code) < 0)
			return -1;
		bad = bad || p->severity != NVB_PROBLEM_INFO;
	}
	const char *version = inv->driver.version;
	/* Files of the catalogue that the running driver ships but the host lacks (when none at
	 * all was found, the inventory reported libraries-missing or library-version-mismatch). */
	if (version && count_libraries(inv) > 0 && inv->n_missing > 0) {
		char essential[256] = "", other[768] = "";
		bool no_cuda = false, no_nvml = false;
		for (size_t i = 0; i < inv->n_missing; i++) {
			const char *name = inv->missing[i];
			bool ess = essential_library(name);
			no_cuda = no_cuda || strcmp(name, "libcuda.so") == 0;
			no_nvml = no_nvml || strcmp(name, "libnvidia-ml.so") == 0;
			char *buf = ess ? essential : other;
			size_t cap = ess ? sizeof(essential) : sizeof(other);
			size_t used = strlen(buf);
			/* libraries as the file the driver ships: <stem>.so.<version> */
			if (used + 2 < cap)
				snprintf(buf + used, cap - used, "%s%s%s%s", used ? ", " : "", name,
					 nvb_str_has_suffix(name, ".so") ? "." : "",
					 nvb_str_has_suffix(name, ".so") ? version : "");
		}
		_cleanup_free_ char *cmd = nvbind_cmd(ctx);
		_cleanup_free_ char *fix =
		    cmd ? nvb_asprintf("reinstall the NVIDIA user-space driver package of version "
				       "%s (e.g. libnvidia-compute / nvidia-driver, or the .run "
				       "installer), run ldconfig, then '%scdi generate'",
				       version, cmd)
			: NULL;
		if (!fix)
			return nvb_error_nomem(err);
		if (essential[0] &&
		    ADD(ctx, NVB_DOCTOR_ERROR, check, "library-missing", fix,
			"%s not found (no ld.so.cache entry or library directory leads to it): "
			"containers get no %s",
			essential,
			no_cuda && no_nvml ? "CUDA and no NVML (nvidia-smi)"
			: no_cuda	   ? "CUDA"
					   : "NVML (nvidia-smi)") < 0)
			return -1;
		if (other[0] && ADD(ctx, NVB_DOCTOR_WARNING, check, "driver-files-missing", fix,
				    "driver %s: %s not found: containers that need them fail",
				    version, other) < 0)
			return -1;
		bad = true;
	}
	if (version && !bad) {
		if (ADD(ctx, NVB_DOCTOR_OK, check, "driver-ok", NULL,
			"NVIDIA driver %s (%s kernel module), %zu GPU(s), %zu driver files of "
			"this version",
			version, inv->driver.kernel_module ? inv->driver.kernel_module : "unknown",
			inv->n_gpus, inv->n_files) < 0)
			return -1;
	}
	if (!version && inv->n_gpus == 0 && ctx->report->n_findings == before &&
	    ADD(ctx, NVB_DOCTOR_INFO, check, "no-gpu", NULL, "no NVIDIA driver and no GPU found") <
		0)
		return -1;
	return 0;
}

/* ------------------------------------------------- 2. device node permissions */

/* DeviceFileMode and ModifyDeviceFiles from /proc/driver/nvidia/params; -1 when unknown. */
static void driver_params(struct nvb_doctor_ctx *ctx, long *file_mode, long *modify)
{
	*file_mode = -1;
	*modify = -1;
	struct nvb_error ignored;
	_cleanup_free_ char *text = NULL;
	if (nvb_host_read(ctx->host, "/proc/driver/nvidia/params", SMALL_MAX, &text, NULL,
			  &ignored) < 0)
		return;
	const char *p = strstr(text, "DeviceFileMode:");
	if (p)
		*file_mode = strtol(p + strlen("DeviceFileMode:"), NULL, 10);
	p = strstr(text, "ModifyDeviceFiles:");
	if (p)
		*modify = strtol(p + strlen("ModifyDeviceFiles:"), NULL, 10);
}

static int check_node_mode(struct nvb_doctor_ctx *ctx, const struct nvb_device_node *node,
			   bool cap_node, long file_mode, size_t *bad, struct nvb_error *err)
{
	unsigned need = cap_node ? 0004 : 0006;
	if ((node->mode & need) == need)
		return 0;
	(*bad)++;
	_cleanup_free_ char *where = shown(ctx, node->path);
	_cleanup_free_ char *fix = NULL;
	if (!where)
		return nvb_error_nomem(err);
	if (cap_node)
		fix = nvb_asprintf("chmod 0444 %s (MIG capability nodes are opened read-only; "
				   "nvidia-modprobe creates them with the DeviceFileMode of their "
				   "/proc/driver/nvidia/capabilities access file)",
				   where);
	else if (nvb_str_has_prefix(node->path, "/dev/nvidia-uvm"))
		fix = nvb_asprintf("chmod 0666 %s; to keep it, have nvidia-modprobe create it "
				   "('nvidia-modprobe -u -c 0') or add a udev rule: "
				   "KERNEL==\"nvidia-uvm*\", MODE=\"0666\" in "
				   "/etc/udev/rules.d/70-nvidia.rules",
				   where);
	else if (file_mode >= 0 && (file_mode & 0666) != 0666)
		fix =
		    nvb_asprintf("chmod 0666 %s; the driver creates its nodes with DeviceFileMode "
				 "0%lo: set 'options nvidia NVreg_DeviceFileMode=0666' in "
				 "/etc/modprobe.d/nvidia.conf and reload the module (or reboot)",
				 where, (unsigned long)file_mode);
	else
		fix =
		    nvb_asprintf("chmod 0666 %s (the driver's DeviceFileMode is 0666: a udev rule "
				 "or a hand edit changed it; check /etc/udev/rules.d)",
				 where);
	if (!fix)
		return nvb_error_nomem(err);
	return ADD(ctx, NVB_DOCTOR_WARNING, "devices", "device-node-permissions", fix,
		   "%s has mode 0%03o (owner %u, group %u): rootless containers cannot open it "
		   "(they need %s for everyone; root containers are not affected)",
		   where, node->mode & 0777, node->uid, node->gid,
		   cap_node ? "read access" : "read and write access");
}

static void list_add(char *list, size_t cap, size_t *more_count, const char *path)
{
	size_t used = strlen(list);
	if (used + strlen(path) + 8 < cap)
		snprintf(list + used, cap - used, "%s%s", used ? ", " : "", path);
	else
		(*more_count)++;
}

int nvb_doctor_check_device_nodes(struct nvb_doctor_ctx *ctx, struct nvb_error *err)
{
	const struct nvb_inventory *inv = ctx->inv;
	if (inv->n_gpus == 0 && inv->n_control_nodes == 0)
		return 0; /* no driver: the driver check says so */
	long file_mode, modify;
	driver_params(ctx, &file_mode, &modify);
	size_t checked = 0, bad = 0, more_count = 0;
	char list[600] = "";
	for (size_t i = 0; i < inv->n_gpus; i++) {
		const struct nvb_gpu *g = &inv->gpus[i];
		for (size_t k = 0; k < g->n_nodes; k++) {
			/* DRM nodes are the video/render groups' business, not everyone's */
			if (nvb_str_has_prefix(g->nodes[k].path, "/dev/dri/"))
				continue;
			checked++;
			list_add(list, sizeof(list), &more_count, g->nodes[k].path);
			if (check_node_mode(ctx, &g->nodes[k], false, file_mode, &bad, err) < 0)
				return -1;
		}
		for (size_t m = 0; m < g->n_migs; m++)
			for (size_t k = 0; k < g->migs[m].n_nodes; k++) {
				checked++;
				list_add(list, sizeof(list), &more_count, g->migs[m].nodes[k].path);
				if (check_node_mode(ctx, &g->migs[m].nodes[k], true, file_mode,
						    &bad, err) < 0)
					return -1;
			}
	}
	for (size_t i = 0; i < inv->n_control_nodes; i++) {
		/* MIG config/monitor caps are for administrators (mode 0400/0444 by design) */
		if (nvb_str_has_prefix(inv->control_nodes[i].path, "/dev/nvidia-caps/"))
			continue;
		checked++;
		list_add(list, sizeof(list), &more_count, inv->control_nodes[i].path);
		if (check_node_mode(ctx, &inv->control_nodes[i], false, file_mode, &bad, err) < 0)
			return -1;
	}
	if (bad || !checked)
		return 0;
	return ADD(ctx, NVB_DOCTOR_OK, "devices", "device-nodes-ok", NULL,
		   "%zu device node(s) are character devices that rootless containers can open: "
		   "%s%s",
		   checked, list, more_count ? ", ..." : "");
}

/* --------------------------------------------------------- 4. CDI freshness */

struct reasons {
	char *text;
	size_t len;
	FILE *f;
	size_t n;
};

static void reason(struct reasons *r, const char *fmt, ...) NVB_PRINTF(2, 3);
static void reason(struct reasons *r, const char *fmt, ...)
{
	if (!r->f)
		return;
	if (r->n++)
		fputs("; ", r->f);
	va_list ap;
	va_start(ap, fmt);
	vfprintf(r->f, fmt, ap);
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
	struct examples missing_files, missing_nodes, missing_hooks, wrong_version;
	char other_version[64];
};

static void scan_edits(struct nvb_doctor_ctx *ctx, const struct nvb_cdi_edits *e,
		       struct spec_scan *s)
{
	const char *running = ctx->inv->driver.version;
	struct stat st;
	for (size_t i = 0; i < e->n_mounts; i++) {
		const char *hp = e->mounts[i].host_path;
		if (!hp)
			continue;
		if (!named_path_stat(ctx, hp, false, &st))
			example(&s->missing_files, hp);
		const char *ver = NULL;
		size_t vl = path_driver_version(inside_part(ctx, hp), &ver);
		if (vl && running && (strlen(running) != vl || strncmp(ver, running, vl) != 0)) {
			example(&s->wrong_version, hp);
			if (!s->other_version[0])
				snprintf(s->other_version, sizeof(s->other_version), "%.*s",
					 (int)vl, ver);
		}
	}
	for (size_t i = 0; i < e->n_nodes; i++) {
		const char *hp = e->nodes[i].host_path ? e->nodes[i].host_path : e->nodes[i].path;
		if (hp && (!named_path_stat(ctx, hp, false, &st) || !S_ISCHR(st.st_mode)))
			example(&s->missing_nodes, hp);
	}
	for (size_t i = 0; i < e->n_hooks; i++) {
		const char *p = e->hooks[i].path;
		if (p && !(named_path_stat(ctx, p, true, &st) && is_executable(&st)))
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
	struct reasons r = {.text = NULL};
	r.f = open_memstream(&r.text, &r.len);
	if (!r.f)
		return nvb_error_nomem(err);
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
	if (fclose(r.f) != 0 || !r.text) {
		free(r.text);
		return nvb_error_nomem(err);
	}
	_cleanup_free_ char *text = r.text;
	if (r.n == 0)
		return ADD(ctx, NVB_DOCTOR_OK, "cdi", "cdi-spec-ok", NULL,
			   "%s is up to date with driver %s and the %zu GPU(s) (%zu devices)",
			   spec->origin,
			   ctx->inv->driver.version ? ctx->inv->driver.version : "(none)",
			   ctx->inv->n_gpus, spec->n_devices);
	/* regenerate that very file: --output unless it is where the default goes */
	_cleanup_free_ char *cmd = nvbind_cmd(ctx);
	_cleanup_free_ char *deflt = ctx->cfg->cdi_output ? shown(ctx, ctx->cfg->cdi_output) : NULL;
	_cleanup_free_ char *gen =
	    deflt && strcmp(deflt, spec->origin) == 0 && default_output_is_found(ctx->cfg)
		? generate_cmd(ctx)
	    : cmd ? nvb_asprintf("%scdi generate --output %s", cmd, spec->origin)
		  : NULL;
	_cleanup_free_ char *fix = gen ? nvb_asprintf("%s; then " REFRESH_UNITS, gen) : NULL;
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
		_cleanup_free_ char *dir = shown(ctx, cfg->spec_dirs[i]);
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
	const char *kind = cfg->cdi_kind && cfg->cdi_kind[0] ? cfg->cdi_kind : DEFAULT_KIND;
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
	_cleanup_free_ char *cmd = nvbind_cmd(ctx);
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
	_cleanup_free_ char *gen = generate_cmd(ctx);
	_cleanup_free_ char *fix = gen ? nvb_asprintf("%s; then " REFRESH_UNITS, gen) : NULL;
	if (!fix)
		return nvb_error_nomem(err);
	return ADD(ctx, NVB_DOCTOR_WARNING, "cdi", "cdi-spec-missing", fix,
		   "no CDI spec of kind %s in %s: 'podman run --device %s=all', Docker 25+ "
		   "and containerd cannot find the GPUs",
		   kind, shown_dirs[0] ? shown_dirs : "(no spec directory configured)", kind);
}

/* ------------------------------------------------------- 5. engine registration */

/* Read a configuration file inside the host root: 1 read, 0 absent, -1 unreadable (rerr). */
static int read_host_config(struct nvb_doctor_ctx *ctx, const char *path, char **text, size_t *len,
			    struct nvb_error *rerr)
{
	if (nvb_host_read(ctx->host, path, CONFIG_MAX, text, len, rerr) == 0)
		return 1;
	return rerr->code == NVB_ERR_NOT_FOUND ? 0 : -1;
}

/* "nvbind [--root ROOT] VERB ENGINE" (setup docker, migrate docker), with --config when the
 * file is not the engine's default (which --root puts inside the root). */
static char *engine_cmd(struct nvb_doctor_ctx *ctx, const char *verb, const char *engine,
			const char *path, const char *default_path)
{
	_cleanup_free_ char *cmd = nvbind_cmd(ctx);
	_cleanup_free_ char *where = shown(ctx, path);
	if (!cmd || !where)
		return NULL;
	if (strcmp(path, default_path) == 0)
		return nvb_asprintf("%s%s %s", cmd, verb, engine);
	return nvb_asprintf("%s%s %s --config %s", cmd, verb, engine, where);
}

static char *setup_cmd(struct nvb_doctor_ctx *ctx, const char *engine, const char *path,
		       const char *default_path)
{
	return engine_cmd(ctx, "setup", engine, path, default_path);
}

int nvb_doctor_check_docker(struct nvb_doctor_ctx *ctx, struct nvb_error *err)
{
	static const char *const check = "docker";
	static const char *const def = "/etc/docker/daemon.json";
	const char *path = ctx->cfg->docker_config;
	if (!path || !path[0])
		return 0;
	_cleanup_free_ char *where = shown(ctx, path);
	_cleanup_free_ char *setup = setup_cmd(ctx, "docker", path, def);
	_cleanup_free_ char *migrate = engine_cmd(ctx, "migrate", "docker", path, def);
	_cleanup_free_ char *text = NULL;
	if (!where || !setup || !migrate)
		return nvb_error_nomem(err);
	struct nvb_error rerr;
	nvb_error_clear(&rerr);
	int r = read_host_config(ctx, path, &text, NULL, &rerr);
	if (r == 0) {
		_cleanup_free_ char *fix = nvb_asprintf("if you use docker: %s", setup);
		if (!fix)
			return nvb_error_nomem(err);
		return ADD(ctx, NVB_DOCTOR_INFO, check, "docker-not-configured", fix,
			   "%s does not exist: docker (if installed) knows no runtime nvbind",
			   where);
	}
	if (r < 0)
		return ADD(ctx, NVB_DOCTOR_WARNING, check, "docker-config-unreadable",
			   "check the file's permissions (run nvbind doctor as root)", "%s",
			   rerr.message);
	json_error_t jerr;
	json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
	if (!root || !json_is_object(root)) {
		json_decref(root);
		_cleanup_free_ char *fix = nvb_asprintf(
		    "fix the JSON at that place (python3 -m json.tool %s shows it), then run "
		    "'%s'",
		    where, setup);
		if (!fix)
			return nvb_error_nomem(err);
		if (!root)
			return ADD(ctx, NVB_DOCTOR_WARNING, check, "docker-config-invalid", fix,
				   "%s:%d:%d: %s: dockerd refuses to start with it", where,
				   jerr.line, jerr.column, jerr.text);
		return ADD(
		    ctx, NVB_DOCTOR_WARNING, check, "docker-config-invalid", fix,
		    "%s: the document is not a JSON object: dockerd refuses to start with it",
		    where);
	}
	json_t *runtimes = json_object_get(root, "runtimes");
	json_t *nvbind = json_is_object(runtimes) ? json_object_get(runtimes, "nvbind") : NULL;
	json_t *nvidia = json_is_object(runtimes) ? json_object_get(runtimes, "nvidia") : NULL;
	const char *default_rt = json_string_value(json_object_get(root, "default-runtime"));
	bool nvidia_default = default_rt && strcmp(default_rt, "nvidia") == 0;
	const char *rt_path = json_string_value(json_object_get(nvbind, "path"));
	_cleanup_free_ char *rt_copy = rt_path ? strdup(rt_path) : NULL;
	json_decref(root);
	if (rt_path && !rt_copy)
		return nvb_error_nomem(err);

	if (nvidia || nvidia_default) {
		if (ADD(ctx, nvidia_default ? NVB_DOCTOR_WARNING : NVB_DOCTOR_INFO, check,
			"nvidia-runtime-configured", migrate, "%s %s", where,
			nvidia_default ? "sets default-runtime to \"nvidia\", the NVIDIA Container "
					 "Toolkit's runtime: every container goes through "
					 "nvidia-container-runtime"
				       : "registers the NVIDIA Container Toolkit's runtime as "
					 "runtimes.nvidia") < 0)
			return -1;
	}
	if (!nvbind) {
		_cleanup_free_ char *fix =
		    nvb_asprintf("%s, then restart dockerd (systemctl restart "
				 "docker)",
				 setup);
		if (!fix)
			return nvb_error_nomem(err);
		return ADD(ctx, NVB_DOCTOR_WARNING, check, "runtime-not-registered", fix,
			   "%s has no runtimes.nvbind: 'docker run --runtime nvbind' fails with "
			   "'unknown or invalid runtime name: nvbind'%s%s%s",
			   where,
			   nvidia || nvidia_default ? " (it uses the NVIDIA runtime instead: '" : "",
			   nvidia || nvidia_default ? migrate : "",
			   nvidia || nvidia_default ? "' moves it over)" : "");
	}
	struct stat st;
	if (!rt_copy || !named_path_stat(ctx, rt_copy, true, &st) || !is_executable(&st))
		return ADD(ctx, NVB_DOCTOR_WARNING, check, "runtime-path-missing", setup,
			   "%s: runtimes.nvbind.path %s%s", where, rt_copy ? rt_copy : "(none)",
			   rt_copy ? " is not an executable file" : " is not set");
	return ADD(ctx, NVB_DOCTOR_OK, check, "runtime-registered", NULL,
		   "%s registers the runtime nvbind (%s)", where, rt_copy);
}

/* [engine.runtimes] nvbind: a list of candidate paths (or one string). */
static const struct nvb_toml_value *podman_nvbind_runtime(const struct nvb_toml_value *doc)
{
	const struct nvb_toml_value *engine = nvb_toml_get(doc, "engine");
	const struct nvb_toml_value *runtimes = nvb_toml_get(engine, "runtimes");
	return nvb_toml_get(runtimes, "nvbind");
}

int nvb_doctor_check_podman(struct nvb_doctor_ctx *ctx, struct nvb_error *err)
{
	static const char *const check = "podman";
	static const char *const def = "/etc/containers/containers.conf";
	const char *path = ctx->cfg->podman_config;
	if (!path || !path[0])
		return 0;
	_cleanup_free_ char *where = shown(ctx, path);
	_cleanup_free_ char *setup = setup_cmd(ctx, "podman", path, def);
	_cleanup_free_ char *text = NULL;
	if (!where || !setup)
		return nvb_error_nomem(err);
	size_t len = 0;
	struct nvb_error rerr;
	nvb_error_clear(&rerr);
	int r = read_host_config(ctx, path, &text, &len, &rerr);
	if (r < 0)
		return ADD(ctx, NVB_DOCTOR_WARNING, check, "podman-config-unreadable",
			   "check the file's permissions (run nvbind doctor as root)", "%s",
			   rerr.message);
	const struct nvb_toml_value *entry = NULL;
	struct nvb_toml_value *doc = NULL;
	if (r > 0) {
		struct nvb_error perr;
		nvb_error_clear(&perr);
		doc = nvb_toml_parse(text, len, where, &perr);
		if (!doc) {
			if (perr.code == NVB_ERR_NOMEM)
				return nvb_error_nomem(err);
			_cleanup_free_ char *fix = nvb_asprintf(
			    "fix the TOML at that place (podman refuses the file too), then run "
			    "'%s'",
			    setup);
			if (!fix)
				return nvb_error_nomem(err);
			return ADD(ctx, NVB_DOCTOR_WARNING, check, "podman-config-invalid", fix,
				   "%s", perr.message);
		}
		entry = podman_nvbind_runtime(doc);
	}
	if (entry) {
		/* podman takes the first candidate path that exists */
		const char *first = NULL, *usable = NULL;
		struct stat st;
		for (size_t i = 0; entry->type == NVB_TOML_ARRAY && i < entry->n && !usable; i++) {
			const struct nvb_toml_value *v = entry->items[i];
			if (v->type != NVB_TOML_STRING)
				continue;
			first = first ? first : v->v.s;
			if (named_path_stat(ctx, v->v.s, true, &st) && is_executable(&st))
				usable = v->v.s;
		}
		if (entry->type == NVB_TOML_STRING) {
			first = entry->v.s;
			if (named_path_stat(ctx, first, true, &st) && is_executable(&st))
				usable = first;
		}
		if (usable)
			r = ADD(ctx, NVB_DOCTOR_OK, check, "podman-runtime-registered", NULL,
				"%s registers the runtime nvbind ([engine.runtimes] nvbind: %s)",
				where, usable);
		else
			r = ADD(ctx, NVB_DOCTOR_WARNING, check, "runtime-path-missing", setup,
				"%s: [engine.runtimes] nvbind names no executable file (%s)", where,
				first ? first : "no path");
		nvb_toml_free(doc);
		return r;
	}
	nvb_toml_free(doc);
	_cleanup_free_ char *what = nvb_asprintf(
	    "%s %s", where, r > 0 ? "has no [engine.runtimes] nvbind" : "does not exist");
	if (!what)
		return nvb_error_nomem(err);
	if (ctx->have_cdi_spec || ctx->inv->n_gpus == 0) {
		_cleanup_free_ char *fix =
		    nvb_asprintf("nothing for CDI; for '--runtime nvbind': %s", setup);
		if (!fix)
			return nvb_error_nomem(err);
		return ADD(ctx, NVB_DOCTOR_INFO, check, "podman-runtime-not-registered", fix,
			   "%s: podman uses the CDI spec without it ('podman run --device "
			   "nvidia.com/gpu=all'); only '--runtime nvbind' needs it",
			   what);
	}
	_cleanup_free_ char *gen = generate_cmd(ctx);
	_cleanup_free_ char *fix =
	    gen ? nvb_asprintf("%s (then 'podman run --device nvidia.com/gpu=all'), or %s", gen,
			       setup)
		: NULL;
	if (!fix)
		return nvb_error_nomem(err);
	return ADD(ctx, NVB_DOCTOR_WARNING, check, "podman-runtime-not-registered", fix,
		   "%s and there is no CDI spec either: podman cannot give containers GPUs", what);
}

/* ------------------------------------------------------------- 6. cgroups */

static bool cgroup_v1_dir(struct nvb_doctor_ctx *ctx)
{
	static const char *const controllers[] = {"devices", "memory", "cpu",	  "cpuacct",
						  "pids",    "blkio",  "freezer", "systemd"};
	char path[64];
	for (size_t i = 0; i < NVB_ARRAY_SIZE(controllers); i++) {
		snprintf(path, sizeof(path), "/sys/fs/cgroup/%s", controllers[i]);
		if (host_exists(ctx, path))
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
	_cleanup_free_ char *where = shown(ctx, "/sys/fs/cgroup");
	if (!where)
		return nvb_error_nomem(err);
	if (host_exists(ctx, "/sys/fs/cgroup/cgroup.controllers"))
		return ADD(ctx, NVB_DOCTOR_OK, check, "cgroup-v2", NULL,
			   "%s is cgroup v2 (unified: cgroup.controllers exists)", where);
	bool systemd = host_exists(ctx, "/run/systemd/system");
	if (host_exists(ctx, "/sys/fs/cgroup/unified/cgroup.controllers") ||
	    (host_exists(ctx, "/sys/fs/cgroup/unified") && cgroup_v1_dir(ctx)))
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
	if (nvb_host_read(ctx->host, path, SMALL_MAX, &text, NULL, &rerr) < 0) {
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
		_cleanup_free_ char *where = shown(ctx, files[i]);
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

/* ----------------------------------------------------------------- driver */

int nvb_doctor_run(struct nvb_host *host, const struct nvb_config *cfg,
		   struct nvb_doctor_report **out, struct nvb_error *err)
{
	static int (*const checks[])(struct nvb_doctor_ctx *, struct nvb_error *) = {
	    nvb_doctor_check_driver, nvb_doctor_check_device_nodes, nvb_doctor_check_cdi,
	    nvb_doctor_check_docker, nvb_doctor_check_podman,	    nvb_doctor_check_cgroup,
	    nvb_doctor_check_subids, nvb_doctor_check_runtime,
	};
	*out = NULL;
	struct nvb_doctor_report *report = calloc(1, sizeof(*report));
	if (!report)
		return nvb_error_nomem(err);
	report->worst = NVB_DOCTOR_OK;
	struct nvb_inventory *inv = nvb_inventory_probe(host, NVB_PROBE_NO_NVML, err);
	if (!inv) {
		nvb_doctor_report_free(report);
		return -1;
	}
	struct nvb_doctor_ctx ctx = {.host = host, .cfg = cfg, .inv = inv, .report = report};
	int r = 0;
	for (size_t i = 0; r == 0 && i < NVB_ARRAY_SIZE(checks); i++)
		r = checks[i](&ctx, err);
	nvb_inventory_free(inv);
	if (r < 0) {
		nvb_doctor_report_free(report);
		return -1;
	}
	*out = report;
	return 0;
}
