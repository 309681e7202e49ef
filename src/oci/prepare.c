/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>

#include "cdi/cdi.h"
#include "probe/nvidia/catalog.h"
#include "oci/oci.h"
#include "hooks/hooks.h"
#include "oci/prepare.h"
#include "probe/nvidia/nvidia.h"

#define NVIDIA_KIND "nvidia.com/gpu"
#define AMD_KIND "amd.com/gpu"
#define MAX_REQUESTS 256
#define N_VENDORS 3 /* enum nvb_vendor: NVIDIA, AMD, Intel */

/* ------------------------------------------------------------------ requests */

struct requests {
	char *names[MAX_REQUESTS]; /* qualified CDI device names */
	size_t n;
	bool none;      /* driver files without any GPU */
	bool from_env;  /* the legacy env interface: capabilities and requirements apply */
};

static void requests_clear(struct requests *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->names[i]);
	r->n = 0;
}

static int add_request(struct requests *r, const char *name, struct nvb_error *err)
{
	for (size_t i = 0; i < r->n; i++)
		if (!strcmp(r->names[i], name))
			return 0;
	if (r->n == MAX_REQUESTS)
		return nvb_error_set(err, NVB_ERR_INVALID, 0, NULL, "more than %d devices requested",
				     MAX_REQUESTS);
	if (!(r->names[r->n] = strdup(name)))
		return nvb_error_nomem(err);
	r->n++;
	return 0;
}

/* The last NAME=... of process.env, as the kernel would see it. */
static const char *env_get(json_t *config, const char *name)
{
	json_t *env = json_object_get(json_object_get(config, "process"), "env");
	size_t len = strlen(name), i;
	json_t *e;
	const char *found = NULL;
	json_array_foreach(env, i, e) {
		const char *s = json_string_value(e);
		if (s && !strncmp(s, name, len) && s[len] == '=')
			found = s + len + 1;
	}
	return found;
}

static bool privileged(json_t *config)
{
	json_t *bounding = json_object_get(
		json_object_get(json_object_get(config, "process"), "capabilities"), "bounding");
	size_t i;
	json_t *c;
	json_array_foreach(bounding, i, c) {
		const char *s = json_string_value(c);
		if (s && !strcmp(s, "CAP_SYS_ADMIN"))
			return true;
	}
	return false;
}

static int env_requests(const char *var, const char *value, struct requests *r,
			struct nvb_error *err)
{
	r->from_env = true;
	if (!*value || !strcmp(value, "void"))
		return 0;
	if (!strcmp(value, "none")) {
		r->none = true;
		return 0;
	}
	_cleanup_free_ char *copy = strdup(value);
	if (!copy)
		return nvb_error_nomem(err);
	char *save = NULL;
	for (char *item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		item = nvb_strstrip(item);
		char name[300], buf[300];
		const char *k, *n;
		if (!*item)
			continue;
		if (nvb_cdi_parse_qualified(item, buf, sizeof(buf), &k, &n) == 0)
			snprintf(name, sizeof(name), "%s", item);
		else if (nvb_nvidia_device_word(item))
			snprintf(name, sizeof(name), NVIDIA_KIND "=%s", item);
		else
			return nvb_error_set(err, NVB_ERR_INVALID, 0,
					     "use all, none, void, indices (0,1), MIG indices (0:1), "
					     "GPU-/MIG- UUIDs or CDI names (nvidia.com/gpu=0)",
					     "%s: '%s' is not a device", var, item);
		if (add_request(r, name, err) < 0)
			return -1;
	}
	return 0;
}

/* ------------------------------------------------------- AMD_VISIBLE_DEVICES */

#define AMD_HINT "use all, none, void, indices (0,1), ranges (0-3) or unique ids (0x1d2f...)"

/* One word of AMD_VISIBLE_DEVICES as amd.com/gpu names: an index, a range A-B of indices, a
 * unique id 0x<hex> (the names `nvbind cdi generate` gives AMD GPUs), as AMD's container
 * runtime reads the variable. */
static int amd_word(const char *var, const char *w, struct requests *r, struct nvb_error *err)
{
	char name[300], *end;
	if (w[0] == '0' && (w[1] == 'x' || w[1] == 'X')) {
		bool hex = w[2] != '\0' && strlen(w) <= 34;
		for (const char *p = w + 2; hex && *p; p++)
			hex = isxdigit((unsigned char)*p);
		if (!hex)
			return nvb_error_set(err, NVB_ERR_INVALID, 0, AMD_HINT,
					     "%s: '%s' is not a unique id (0x and hex digits)", var, w);
		snprintf(name, sizeof(name), AMD_KIND "=%s", w);
		return add_request(r, name, err);
	}
	if (!isdigit((unsigned char)w[0]))
		return nvb_error_set(err, NVB_ERR_INVALID, 0, AMD_HINT, "%s: '%s' is not a device", var, w);
	errno = 0;
	unsigned long first = strtoul(w, &end, 10), last = first;
	if (*end == '-' && isdigit((unsigned char)end[1]))
		last = strtoul(end + 1, &end, 10);
	if (*end || errno || last < first || last - first >= MAX_REQUESTS || last > 65535)
		return nvb_error_set(err, NVB_ERR_INVALID, 0, AMD_HINT,
				     "%s: '%s' is not a device index or range (A-B, A <= B)", var, w);
	for (unsigned long i = first; i <= last; i++) {
		snprintf(name, sizeof(name), AMD_KIND "=%lu", i);
		if (add_request(r, name, err) < 0)
			return -1;
	}
	return 0;
}

/* AMD_VISIBLE_DEVICES: all, none/void/empty (nothing: AMD has no driver-only mode), or a
 * comma-separated list of amd_word's. */
static int amd_env_requests(const char *var, const char *value, struct requests *r,
			    struct nvb_error *err)
{
	if (!*value || !strcmp(value, "none") || !strcmp(value, "void"))
		return 0;
	_cleanup_free_ char *copy = strdup(value);
	if (!copy)
		return nvb_error_nomem(err);
	char *save = NULL;
	for (char *item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		item = nvb_strstrip(item);
		int rc = !*item		      ? 0
			 : !strcmp(item, "all") ? add_request(r, AMD_KIND "=all", err)
						: amd_word(var, item, r, err);
		if (rc < 0)
			return -1;
	}
	return 0;
}

static int annotation_requests(json_t *config, struct requests *r, struct nvb_error *err)
{
	json_t *ann = json_object_get(config, "annotations");
	const char *key;
	json_t *v;
	json_object_foreach(ann, key, v) {
		if (!nvb_str_has_prefix(key, "cdi.k8s.io/") || !json_is_string(v))
			continue;
		_cleanup_free_ char *copy = strdup(json_string_value(v));
		if (!copy)
			return nvb_error_nomem(err);
		char *save = NULL;
		for (char *item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
			char buf[300];
			const char *k, *n;
			item = nvb_strstrip(item);
			if (nvb_cdi_parse_qualified(item, buf, sizeof(buf), &k, &n) < 0)
				return nvb_error_set(err, NVB_ERR_INVALID, 0,
						     "annotation values are vendor/class=name lists",
						     "annotation %s: '%s' is not a qualified CDI device name",
						     key, item);
			if (add_request(r, item, err) < 0)
				return -1;
		}
	}
	return 0;
}

/* Requests a library caller passes in the options (nvb_oci_apply), checked as the config's. */
static int caller_requests(const struct nvb_runtime_opts *o, struct requests *r,
			   struct nvb_error *err)
{
	for (size_t i = 0; i < o->n_devices; i++) {
		char buf[300];
		const char *k, *n;
		if (nvb_cdi_parse_qualified(o->devices[i], buf, sizeof(buf), &k, &n) < 0)
			return nvb_error_set(err, NVB_ERR_USAGE, 0,
					     "name devices as vendor/class=name, e.g. nvidia.com/gpu=0",
					     "device request '%s' is not a qualified CDI device name",
					     o->devices[i]);
		if (add_request(r, o->devices[i], err) < 0)
			return -1;
	}
	if (o->visible_devices && env_requests("visible devices", o->visible_devices, r, err) < 0)
		return -1;
	return 0;
}

/* Docker's --gpus adds nvidia-container-runtime-hook as a prestart hook: its work is done by
 * the CDI edits instead, so it is removed. */
static bool remove_legacy_hook(json_t *config)
{
	json_t *prestart = json_object_get(json_object_get(config, "hooks"), "prestart");
	bool removed = false;
	for (size_t i = json_array_size(prestart); i-- > 0;) {
		const char *path = json_string_value(json_object_get(json_array_get(prestart, i), "path"));
		const char *base = path ? strrchr(path, '/') : NULL;
		base = base ? base + 1 : path;
		if (base && (!strcmp(base, "nvidia-container-runtime-hook") ||
			     !strcmp(base, "nvidia-container-toolkit"))) {
			json_array_remove(prestart, i);
			removed = true;
		}
	}
	return removed;
}

static bool allowed_has(const struct nvb_runtime_opts *o, const char *name)
{
	for (size_t k = 0; k < o->n_allowed; k++)
		if (!strcmp(o->allowed[k], name))
			return true;
	return false;
}

static int check_allowed(const struct nvb_runtime_opts *o, const struct requests *r,
			 struct nvb_error *err)
{
	if (!o->allowed)
		return 0;
	/* "none" still brings the driver's files and control nodes: it needs its own entry */
	if (r->none && !allowed_has(o, "none") && !allowed_has(o, NVIDIA_KIND "=none"))
		return nvb_error_set(err, NVB_ERR_PERMISSION, 0,
				     "add \"none\" to security.allowed_devices to allow the driver's files "
				     "without a GPU",
				     "NVIDIA_VISIBLE_DEVICES=none (driver files and control nodes, no GPU) "
				     "is not in the allowed devices");
	for (size_t i = 0; i < r->n; i++) {
		bool ok = false;
		for (size_t k = 0; k < o->n_allowed && !ok; k++)
			ok = !strcmp(o->allowed[k], r->names[i]);
		if (!ok)
			return nvb_error_set(err, NVB_ERR_PERMISSION, 0,
					     "add it to security.allowed_devices in the nvbind configuration",
					     "device %s is not in the allowed devices", r->names[i]);
	}
	return 0;
}

/* ----------------------------------------------------------------- resolve */

struct edits_copy {
	struct nvb_cdi_edits e;
	bool own_files; /* mounts and nodes */
	bool own_hooks;
};

/* The edits to apply, in order. Copies (capability-filtered, or without nvbind's library hook)
 * are allocated one by one so the pointers in `edits` stay valid as the lists grow. */
struct resolved {
	const struct nvb_cdi_edits **edits;
	size_t n;
	const struct nvb_cdi_spec **specs; /* specs whose common edits are in */
	size_t n_specs;
	struct edits_copy **copies;        /* shallow copies: own at most their arrays */
	size_t n_copies;
	struct nvb_libplan plan;           /* nvbind's library hooks, taken out of the edits */
	char *plan_hook_path;              /* the hook program they named */
	struct nvb_cdi_hook libs_hook;     /* the plan as one hook again, when nvbind cannot do it */
	struct nvb_cdi_edits libs_edits;
};

/* own: which arrays the copy allocated (the rest point into the spec) */
static struct nvb_cdi_edits *copy_new(struct resolved *rs, bool own_files, bool own_hooks,
				      struct nvb_error *err)
{
	struct edits_copy *c = calloc(1, sizeof(*c));
	struct edits_copy **slot = c ? nvb_array_push(&rs->copies, &rs->n_copies, sizeof(*slot)) : NULL;
	if (!slot) {
		free(c);
		nvb_error_nomem(err);
		return NULL;
	}
	c->own_files = own_files;
	c->own_hooks = own_hooks;
	*slot = c;
	return &c->e;
}

static int push_edits(struct resolved *rs, const struct nvb_cdi_edits *e, struct nvb_error *err)
{
	const struct nvb_cdi_edits **slot = nvb_array_push(&rs->edits, &rs->n, sizeof(*slot));
	if (!slot)
		return nvb_error_nomem(err);
	*slot = e;
	return 0;
}

/* Keep the driver files and nodes the container's capabilities ask for. The copy shares the
 * spec's strings and owns only its arrays. */
static int filter_edits(const struct nvb_cdi_edits *in, unsigned caps, struct nvb_cdi_edits *out,
			struct nvb_error *err)
{
	memset(out, 0, sizeof(*out));
	out->env = in->env;
	out->n_env = in->n_env;
	out->hooks = in->hooks;
	out->n_hooks = in->n_hooks;
	out->additional_gids = in->additional_gids;
	out->n_additional_gids = in->n_additional_gids;
	out->mounts = calloc(in->n_mounts + 1, sizeof(*out->mounts));
	out->nodes = calloc(in->n_nodes + 1, sizeof(*out->nodes));
	if (!out->mounts || !out->nodes)
		return nvb_error_nomem(err);
	caps = nvb_caps_expand(caps);
	for (size_t i = 0; i < in->n_mounts; i++) {
		if (nvb_catalog_path_wanted(in->mounts[i].container_path, caps))
			out->mounts[out->n_mounts++] = in->mounts[i];
	}
	for (size_t i = 0; i < in->n_nodes; i++) {
		const char *p = in->nodes[i].path;
		if (nvb_str_has_prefix(p, "/dev/dri/") && !(caps & NVB_CAP_GRAPHICS))
			continue;
		if (!strcmp(p, "/dev/nvidia-modeset") && !(caps & NVB_CAP_DISPLAY))
			continue;
		out->nodes[out->n_nodes++] = in->nodes[i];
	}
	return 0;
}

static void resolved_clear(struct resolved *rs)
{
	for (size_t i = 0; i < rs->n_copies; i++) {
		struct edits_copy *c = rs->copies[i];
		if (c->own_files) {
			free(c->e.mounts);
			free(c->e.nodes);
		}
		if (c->own_hooks)
			free(c->e.hooks);
		free(c);
	}
	free(rs->copies);
	free(rs->edits);
	free(rs->specs);
	nvb_cdi_hook_clear(&rs->libs_hook);
	nvb_libplan_clear(&rs->plan);
	free(rs->plan_hook_path);
}

/* AMD's and Intel's specs carry device nodes only, and their render nodes are the compute
 * devices: NVIDIA_DRIVER_CAPABILITIES (which drops /dev/dri for non-graphics) is not theirs. */
static bool node_only_kind(const char *kind)
{
	return !strcmp(kind, AMD_KIND) || !strcmp(kind, "intel.com/gpu");
}

static int add_edits(struct resolved *rs, const struct nvb_cdi_spec *spec,
		     const struct nvb_cdi_edits *dev_edits, bool filter, unsigned caps,
		     struct nvb_error *err)
{
	filter = filter && !node_only_kind(spec->kind);
	bool have_spec = false;
	for (size_t i = 0; i < rs->n_specs; i++)
		have_spec = have_spec || rs->specs[i] == spec;
	if (!have_spec) {
		const struct nvb_cdi_spec **slot = nvb_array_push(&rs->specs, &rs->n_specs, sizeof(*slot));
		if (!slot)
			return nvb_error_nomem(err);
		*slot = spec;
		const struct nvb_cdi_edits *common = &spec->edits;
		if (filter) {
			struct nvb_cdi_edits *c = copy_new(rs, true, false, err);
			if (!c || filter_edits(common, caps, c, err) < 0)
				return -1;
			common = c;
		}
		if (push_edits(rs, common, err) < 0)
			return -1;
	}
	if (dev_edits) {
		if (filter) {
			struct nvb_cdi_edits *c = copy_new(rs, true, false, err);
			if (!c || filter_edits(dev_edits, caps, c, err) < 0)
				return -1;
			dev_edits = c;
		}
		if (push_edits(rs, dev_edits, err) < 0)
			return -1;
	}
	return 0;
}

/* ----------------------------------------------------------- driver libraries */

/* nvbind's library hook: `nvbind-hook libraries ...` (or `nvbind hook libraries ...`). */
static int libraries_args_at(const struct nvb_cdi_hook *h)
{
	const char *base = strrchr(h->path, '/');
	base = base ? base + 1 : h->path;
	if (!strcmp(base, NVB_HOOK_PROGRAM) && h->n_args >= 2 && !strcmp(h->args[1], NVB_HOOK_LIBRARIES))
		return 2;
	if (!strcmp(base, "nvbind") && h->n_args >= 3 && !strcmp(h->args[1], "hook") &&
	    !strcmp(h->args[2], NVB_HOOK_LIBRARIES))
		return 3;
	return 0;
}

/* Take nvbind's library hooks out of the edits into one plan. */
static int take_library_hooks(struct resolved *rs, struct nvb_error *err)
{
	for (size_t k = 0; k < rs->n; k++) {
		const struct nvb_cdi_edits *e = rs->edits[k];
		size_t n_ours = 0;
		for (size_t i = 0; i < e->n_hooks; i++)
			n_ours += libraries_args_at(&e->hooks[i]) > 0;
		if (n_ours == 0)
			continue;
		struct nvb_cdi_edits *c = copy_new(rs, false, true, err);
		if (!c)
			return -1;
		*c = *e; /* shares the original's arrays, owns only its hooks */
		c->hooks = calloc(e->n_hooks, sizeof(*c->hooks));
		c->n_hooks = 0;
		if (!c->hooks)
			return nvb_error_nomem(err);
		for (size_t i = 0; i < e->n_hooks; i++) {
			const struct nvb_cdi_hook *h = &e->hooks[i];
			int at = libraries_args_at(h);
			if (!at) {
				c->hooks[c->n_hooks++] = *h;
				continue;
			}
			if (nvb_libplan_parse(&rs->plan, (int)(h->n_args - (size_t)at), h->args + at, err) < 0) {
				nvb_error_prefix(err, "hook %s in the CDI spec", h->path);
				return -1;
			}
			if (!rs->plan_hook_path && !(rs->plan_hook_path = strdup(h->path)))
				return nvb_error_nomem(err);
		}
		rs->edits[k] = c;
	}
	return 0;
}

/* Links and loader-cache entries only for what is really mounted. */
static int keep_mounted_libraries(struct resolved *rs, unsigned caps, struct nvb_error *err)
{
	char **mounted = NULL;
	size_t n = 0;
	for (size_t k = 0; k < rs->n; k++)
		for (size_t i = 0; i < rs->edits[k]->n_mounts; i++) {
			char **slot = nvb_array_push(&mounted, &n, sizeof(*slot));
			if (!slot) {
				free(mounted);
				return nvb_error_nomem(err);
			}
			*slot = rs->edits[k]->mounts[i].container_path;
		}
	nvb_libplan_keep_mounted(&rs->plan, mounted, n, caps);
	free(mounted);
	return 0;
}

/* Without a bundle to work on (a library caller), the plan goes back into the edits as one
 * hook, with the filtered arguments. */
static int plan_as_hook(struct resolved *rs, struct nvb_error *err)
{
	if (nvb_libplan_hook(&rs->plan, rs->plan_hook_path, &rs->libs_hook, err) < 0)
		return -1;
	rs->libs_edits.hooks = &rs->libs_hook;
	rs->libs_edits.n_hooks = 1;
	return push_edits(rs, &rs->libs_edits, err);
}

/* The wrapper's share of container start-up: links and loader cache in the container root,
 * by descriptor, before runc runs (no hook process at all). */
static int plan_in_bundle(const struct resolved *rs, const char *bundle, json_t *config,
			  struct nvb_error *err)
{
	_cleanup_close_ int rootfd = nvb_oci_rootfs_open(bundle, config, NULL, err);
	if (rootfd < 0 || nvb_libplan_apply(rootfd, &rs->plan, err) < 0) {
		nvb_error_prefix(err, "driver libraries in the container root");
		return -1;
	}
	return 0;
}

static bool registry_has_kind(const struct nvb_cdi_registry *reg, const char *kind)
{
	size_t len = strlen(kind);
	for (size_t i = 0; i < reg->n_entries; i++)
		if (!strncmp(reg->entries[i].qualified, kind, len) && reg->entries[i].qualified[len] == '=')
			return true;
	return false;
}

/* No spec installed for a vendor's kind (nvidia.com/gpu, amd.com/gpu, intel.com/gpu):
 * generate one in memory from the host, every name. */
static struct nvb_cdi_spec *spec_in_memory(const struct nvb_runtime_opts *o, enum nvb_vendor vendor,
					   bool with_nvml, struct nvb_error *err)
{
	static const unsigned probe_bit[] = {[NVB_VENDOR_NVIDIA] = NVB_PROBE_NVIDIA,
					     [NVB_VENDOR_AMD] = NVB_PROBE_AMD,
					     [NVB_VENDOR_INTEL] = NVB_PROBE_INTEL};
	struct nvb_host *host = nvb_host_open(o->host_root, err);
	if (!host)
		return NULL;
	/* NVML is slow to start and stays off the start path, except that only it knows MIG
	 * UUIDs: a MIG-<uuid> request without an installed spec pays for it */
	struct nvb_inventory *inv = nvb_inventory_probe(
		host, (with_nvml ? 0 : NVB_PROBE_NO_NVML) | probe_bit[vendor], err);
	const struct nvb_inventory *mine = inv ? nvb_inventory_of_vendor(inv, vendor) : NULL;
	struct nvb_cdi_gen_opts g = {
		.naming = NVB_CDI_NAME_INDEX | NVB_CDI_NAME_UUID | NVB_CDI_NAME_TYPE_INDEX,
		.hook_path = o->hook_path,
		.host_root = nvb_host_root(host),
	};
	struct nvb_driver_folder *folder =
		mine && !o->no_driver_folder ? nvb_driver_folder_for_spec(g.host_root, mine) : NULL;
	g.folder = folder;
	struct nvb_cdi_spec *spec = mine ? nvb_cdi_generate(mine, &g, err) : NULL;
	nvb_driver_folder_free(folder);
	if (inv && !mine)
		nvb_error_set(err, NVB_ERR_NOT_FOUND, 0, "run 'nvbind info' to see what was found",
			      "no %s GPU found on this host", nvb_vendor_word(vendor));
	nvb_inventory_free(inv);
	nvb_host_free(host);
	if (spec)
		nvb_info("runtime", "no CDI spec installed for %s: generated one in memory",
			 nvb_vendor_cdi_kind(vendor));
	return spec;
}

static const struct nvb_cdi_device *spec_device(const struct nvb_cdi_spec *spec, const char *q)
{
	size_t klen = strlen(spec->kind);
	if (strncmp(q, spec->kind, klen) || q[klen] != '=')
		return NULL;
	for (size_t i = 0; i < spec->n_devices; i++)
		if (!strcmp(spec->devices[i].name, q + klen + 1))
			return &spec->devices[i];
	return NULL;
}

/* The names that identify one GPU for the record: NVIDIA UUIDs, AMD unique ids */
static bool is_uuid_name(const char *name)
{
	return nvb_str_has_prefix(name, "GPU-") || nvb_str_has_prefix(name, "MIG-") ||
	       nvb_str_has_prefix(name, "0x");
}

static bool has_node(const struct nvb_cdi_edits *e, const char *path)
{
	for (size_t k = 0; k < e->n_nodes; k++)
		if (!strcmp(e->nodes[k].path, path))
			return true;
	return false;
}

static void append_word(char *buf, size_t cap, const char *w)
{
	size_t len = strlen(buf);
	if (len + strlen(w) + 2 <= cap)
		snprintf(buf + len, cap - len, "%s%s", len ? " " : "", w);
}

/* For the wrapper's record: the GPUs a request gives, read from the spec's names
 * (nothing is probed): each device named by a GPU or MIG UUID whose device nodes all come
 * with dev ("0" -> its GPU-..., "all" -> every GPU-...). */
static void note_gpus(struct nvb_runtime_result *res, const struct nvb_cdi_spec *spec,
		      const struct nvb_cdi_device *dev)
{
	if (is_uuid_name(dev->name)) {
		append_word(res->gpus, sizeof(res->gpus), dev->name);
		return;
	}
	for (size_t i = 0; i < spec->n_devices; i++) {
		const struct nvb_cdi_device *d = &spec->devices[i];
		bool within = is_uuid_name(d->name) && d->edits.n_nodes > 0;
		for (size_t k = 0; within && k < d->edits.n_nodes; k++)
			within = has_node(&dev->edits, d->edits.nodes[k].path);
		if (within)
			append_word(res->gpus, sizeof(res->gpus), d->name);
	}
}

/* Whether the requests need an in-memory spec of vendor: one of its kind is asked for (or,
 * NVIDIA, "none") and no spec of that kind is installed. */
static bool need_generated(const struct requests *r, const struct nvb_cdi_registry *reg,
			   enum nvb_vendor vendor)
{
	const char *kind = nvb_vendor_cdi_kind(vendor);
	if (registry_has_kind(reg, kind))
		return false;
	if (vendor == NVB_VENDOR_NVIDIA && r->none)
		return true;
	size_t len = strlen(kind);
	for (size_t i = 0; i < r->n; i++)
		if (!strncmp(r->names[i], kind, len) && r->names[i][len] == '=')
			return true;
	return false;
}

/* The in-memory spec whose kind the qualified name has, NULL when none */
static struct nvb_cdi_spec *generated_for(struct nvb_cdi_spec **generated, const char *name)
{
	for (size_t v = 0; v < N_VENDORS; v++) {
		size_t len = generated[v] ? strlen(generated[v]->kind) : 0;
		if (len && !strncmp(name, generated[v]->kind, len) && name[len] == '=')
			return generated[v];
	}
	return NULL;
}

static int resolve(const struct nvb_runtime_opts *o, const struct requests *r, unsigned caps,
		   struct nvb_cdi_registry *reg, struct nvb_cdi_spec **generated,
		   struct resolved *rs, struct nvb_runtime_result *res, struct nvb_error *err)
{
	bool mig_uuid = false;
	for (size_t i = 0; i < r->n; i++)
		mig_uuid = mig_uuid || nvb_str_has_prefix(r->names[i], NVIDIA_KIND "=MIG-");
	for (size_t i = 0; i < r->n; i++) /* the request, also for the log of a failure */
		append_word(res->devices, sizeof(res->devices), r->names[i]);
	for (size_t v = 0; v < N_VENDORS; v++)
		if (need_generated(r, reg, (enum nvb_vendor)v) &&
		    !(generated[v] = spec_in_memory(o, (enum nvb_vendor)v, mig_uuid, err)))
			return -1;
	for (size_t i = 0; i < r->n; i++) {
		const struct nvb_cdi_entry *e = nvb_cdi_registry_find(reg, r->names[i]);
		const struct nvb_cdi_spec *spec = e ? e->spec : generated_for(generated, r->names[i]);
		const struct nvb_cdi_device *dev = e ? e->device
						     : (spec ? spec_device(spec, r->names[i]) : NULL);
		if (!dev)
			return nvb_error_set(err, NVB_ERR_NOT_FOUND, 0,
					     "run 'nvbind cdi list' for the devices this host has; "
					     "regenerate the spec with 'nvbind cdi generate' after a "
					     "driver or GPU change",
					     "unresolvable CDI device %s", r->names[i]);
		if (add_edits(rs, spec, &dev->edits, r->from_env, caps, err) < 0)
			return -1;
		note_gpus(res, spec, dev);
	}
	if (r->none) { /* driver files and control nodes of the NVIDIA spec, no GPU */
		const struct nvb_cdi_entry *e = nvb_cdi_registry_find(reg, NVIDIA_KIND "=all");
		const struct nvb_cdi_spec *spec = e ? e->spec : generated[NVB_VENDOR_NVIDIA];
		if (spec && add_edits(rs, spec, NULL, true, caps, err) < 0)
			return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------ prepare */

static int check_requirements(json_t *config, const struct nvb_runtime_opts *o,
			      struct nvb_error *err)
{
	const char *disable = env_get(config, "NVIDIA_DISABLE_REQUIRE");
	if (disable && (!strcasecmp(disable, "true") || !strcmp(disable, "1")))
		return 0;
	json_t *env = json_object_get(json_object_get(config, "process"), "env");
	_cleanup_free_ char *driver = NULL;
	bool driver_read = false;
	size_t i;
	json_t *e;
	json_array_foreach(env, i, e) {
		const char *s = json_string_value(e);
		if (!s || !nvb_str_has_prefix(s, "NVIDIA_REQUIRE_"))
			continue;
		const char *eq = strchr(s, '=');
		if (!eq || !eq[1])
			continue;
		if (!driver_read) {
			driver_read = true;
			struct nvb_error ignored;
			struct nvb_host *host = nvb_host_open(o->host_root, &ignored);
			char *text = NULL, *fl = NULL, *line = NULL;
			if (host && nvb_host_read(host, "/proc/driver/nvidia/version", 1 << 16, &text,
						  NULL, &ignored) == 0 &&
			    nvb_nvidia_parse_version(text, &driver, &fl, &line) == 0) {
				free(fl);
				free(line);
			}
			free(text);
			nvb_host_free(host);
		}
		char var[64];
		snprintf(var, sizeof(var), "%.*s", (int)(eq - s < 63 ? eq - s : 63), s);
		if (nvb_require_check(var, eq + 1, driver, nvb_cuda_version_for_driver(driver), err) < 0)
			return -1;
	}
	return 0;
}

int nvb_runtime_prepare(json_t *config, const struct nvb_runtime_opts *o,
			struct nvb_runtime_result *res, struct nvb_error *err)
{
	memset(res, 0, sizeof(*res));
	struct requests req = {.n = 0};
	int rc = -1;
	struct nvb_cdi_registry *reg = NULL;
	struct nvb_cdi_spec *generated[N_VENDORS] = {NULL};
	struct resolved *rs = calloc(1, sizeof(*rs));
	if (!rs)
		return nvb_error_nomem(err);

	res->legacy_hook = remove_legacy_hook(config);
	res->modified = res->legacy_hook;
	if (!o->no_config_requests && annotation_requests(config, &req, err) < 0)
		goto out;
	const char *var = "NVBIND_VISIBLE_DEVICES";
	const char *value = o->no_config_requests ? NULL : env_get(config, var);
	if (!value && !o->no_config_requests) {
		var = "NVIDIA_VISIBLE_DEVICES";
		value = env_get(config, var);
	}
	if (value && !o->env_when_unprivileged && !privileged(config)) {
		nvb_warn("runtime", "%s=%s ignored: the container is unprivileged and the configuration "
			 "does not accept device requests by environment from such containers", var, value);
		value = NULL;
	}
	if (value && env_requests(var, value, &req, err) < 0)
		goto out;
	/* AMD's variable beside NVIDIA's, under the same rule for unprivileged containers */
	const char *amd = o->no_config_requests ? NULL : env_get(config, "AMD_VISIBLE_DEVICES");
	if (amd && !o->env_when_unprivileged && !privileged(config)) {
		nvb_warn("runtime", "AMD_VISIBLE_DEVICES=%s ignored: the container is unprivileged and "
			 "the configuration does not accept device requests by environment from such "
			 "containers", amd);
		amd = NULL;
	}
	if (amd && amd_env_requests("AMD_VISIBLE_DEVICES", amd, &req, err) < 0)
		goto out;
	if (caller_requests(o, &req, err) < 0)
		goto out;
	if (check_allowed(o, &req, err) < 0)
		goto out;
	if (req.n == 0 && !req.none) {
		snprintf(res->summary, sizeof(res->summary), "no GPU requested");
		rc = 0;
		goto out;
	}
	unsigned caps = NVB_CAP_UTILITY | NVB_CAP_COMPUTE;
	const char *words = o->capabilities		? o->capabilities
			    : o->no_config_requests ? NULL
						    : env_get(config, "NVIDIA_DRIVER_CAPABILITIES");
	if (req.from_env && words && *words && nvb_caps_parse(words, &caps, err) < 0) {
		nvb_error_prefix(err, "NVIDIA_DRIVER_CAPABILITIES");
		goto out;
	}
	if (req.from_env && check_requirements(config, o, err) < 0)
		goto out;
	if (!(reg = nvb_cdi_registry_load(o->spec_dirs, o->n_spec_dirs, err)))
		goto out;
	for (size_t i = 0; i < reg->n_errors; i++)
		nvb_warn("runtime", "%s", reg->errors[i]);
	if (resolve(o, &req, caps, reg, generated, rs, res, err) < 0 ||
	    take_library_hooks(rs, err) < 0 ||
	    keep_mounted_libraries(rs, req.from_env ? caps : 0, err) < 0)
		goto out;
	bool plan = rs->plan.n_libs > 0 || rs->plan.n_links > 0;
	bool libs_here = o->bundle && plan;
	if (!o->bundle && plan && plan_as_hook(rs, err) < 0)
		goto out;
	if (nvb_oci_apply_edits(config, rs->edits, rs->n, err) < 0 ||
	    (libs_here && plan_in_bundle(rs, o->bundle, config, err) < 0))
		goto out;
	res->n_devices = req.n;
	res->modified = true;
	size_t off = (size_t)snprintf(res->summary, sizeof(res->summary), "%s:",
				      req.none ? "driver only" : "devices");
	for (size_t i = 0; i < req.n && off < sizeof(res->summary); i++)
		off += (size_t)snprintf(res->summary + off, sizeof(res->summary) - off, " %s",
					req.names[i]);
	rc = 0;
out:
	resolved_clear(rs);
	free(rs);
	for (size_t v = 0; v < N_VENDORS; v++)
		nvb_cdi_spec_free(generated[v]);
	nvb_cdi_registry_free(reg);
	requests_clear(&req);
	return rc;
}
