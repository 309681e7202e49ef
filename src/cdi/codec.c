/* SPDX-License-Identifier: Apache-2.0 */
/*
 * CDI specs from and to JSON / YAML. Reading is strict, like the engines' readers: unknown
 * fields and wrong types are errors that name the file, the device and the field.
 */
#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>

#include "cdi/cdi.h"
#include "format/yaml.h"

struct rd {
	const char *origin;
	struct nvb_error *err;
	char where[512]; /* e.g. device "0": containerEdits.deviceNodes[1] */
	/* when set, every problem goes there and reading goes on (cdi validate lists them all);
	 * err keeps the first */
	void (*report)(void *ctx, const char *msg);
	void *ctx;
	size_t n_problems;
};

static int bad(struct rd *rd, const char *field, const char *problem)
{
	struct nvb_error later;
	struct nvb_error *e = rd->n_problems == 0 ? rd->err : &later;
	nvb_error_set(e, NVB_ERR_INVALID, 0,
		      "fix the field, or regenerate the spec with 'nvbind cdi generate'",
		      "%s: %s%s%s: %s", rd->origin, rd->where, rd->where[0] ? "." : "", field, problem);
	rd->n_problems++;
	if (!rd->report)
		return -1;
	rd->report(rd->ctx, e ? e->message : "");
	return 0;
}

static int nomem(struct rd *rd)
{
	return nvb_error_nomem(rd->err);
}

/* Unknown keys are errors (podman's CDI reader rejects them too). */
static int check_keys(struct rd *rd, json_t *obj, const char *const *allowed)
{
	const char *key;
	json_t *v;
	json_object_foreach(obj, key, v) {
		bool ok = false;
		for (size_t i = 0; allowed[i] && !ok; i++)
			ok = strcmp(key, allowed[i]) == 0;
		if (!ok) {
			char msg[300];
			snprintf(msg, sizeof(msg), "unknown field (known fields here:");
			for (size_t i = 0; allowed[i]; i++)
				snprintf(msg + strlen(msg), sizeof(msg) - strlen(msg), " %s", allowed[i]);
			snprintf(msg + strlen(msg), sizeof(msg) - strlen(msg), ")");
			if (bad(rd, key, msg) < 0)
				return -1;
		}
	}
	return 0;
}

static int get_str(struct rd *rd, json_t *obj, const char *key, char **out, bool required)
{
	json_t *v = json_object_get(obj, key);
	if (!v || json_is_null(v)) {
		if (required)
			return bad(rd, key, "required field is missing");
		return 0;
	}
	if (!json_is_string(v))
		return bad(rd, key, "must be a string");
	if (!(*out = strdup(json_string_value(v))))
		return nomem(rd);
	return 0;
}

static int get_int(struct rd *rd, json_t *obj, const char *key, int64_t min, int64_t max,
		   int64_t *out)
{
	json_t *v = json_object_get(obj, key);
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_integer(v))
		return bad(rd, key, "must be an integer");
	json_int_t i = json_integer_value(v);
	if (i < min || i > max) {
		char msg[96];
		snprintf(msg, sizeof(msg), "%lld is out of range [%lld, %lld]", (long long)i,
			 (long long)min, (long long)max);
		return bad(rd, key, msg);
	}
	*out = i;
	return 0;
}

static int get_strv(struct rd *rd, json_t *obj, const char *key, char ***v, size_t *n)
{
	json_t *arr = json_object_get(obj, key);
	if (!arr || json_is_null(arr))
		return 0;
	if (!json_is_array(arr))
		return bad(rd, key, "must be a list of strings");
	size_t i;
	json_t *s;
	json_array_foreach(arr, i, s) {
		if (!json_is_string(s)) {
			char field[64];
			snprintf(field, sizeof(field), "%s[%zu]", key, i);
			return bad(rd, field, "must be a string");
		}
		if (nvb_strv_append(v, n, json_string_value(s)) < 0)
			return nomem(rd);
	}
	return 0;
}

static int get_annotations(struct rd *rd, json_t *obj, struct nvb_cdi_kv **kv, size_t *n)
{
	json_t *map = json_object_get(obj, "annotations");
	if (!map || json_is_null(map))
		return 0;
	if (!json_is_object(map))
		return bad(rd, "annotations", "must be a map of strings");
	const char *key;
	json_t *v;
	json_object_foreach(map, key, v) {
		if (!json_is_string(v))
			return bad(rd, "annotations", "values must be strings");
		struct nvb_cdi_kv *slot = nvb_array_push(kv, n, sizeof(*slot));
		if (!slot || !(slot->key = strdup(key)) || !(slot->value = strdup(json_string_value(v))))
			return nomem(rd);
	}
	return 0;
}

/* Run fn on each object of the list obj[key], with rd->where extended by "key[i]". */
typedef int (*item_fn)(struct rd *rd, json_t *item, struct nvb_cdi_edits *e);

static int each_item(struct rd *rd, json_t *obj, const char *key, struct nvb_cdi_edits *e,
		     item_fn fn)
{
	json_t *arr = json_object_get(obj, key);
	if (!arr || json_is_null(arr))
		return 0;
	if (!json_is_array(arr))
		return bad(rd, key, "must be a list");
	size_t base = strlen(rd->where), i;
	json_t *item;
	json_array_foreach(arr, i, item) {
		snprintf(rd->where + base, sizeof(rd->where) - base, "%s%s[%zu]", base ? "." : "", key,
			 i);
		if (!json_is_object(item))
			return bad(rd, "", "must be a map");
		if (fn(rd, item, e) < 0)
			return -1;
		rd->where[base] = '\0';
	}
	return 0;
}

static int read_node(struct rd *rd, json_t *o, struct nvb_cdi_edits *e)
{
	static const char *const keys[] = {"path", "hostPath", "type", "major", "minor", "fileMode",
					   "permissions", "uid", "gid", NULL};
	struct nvb_cdi_device_node *n = nvb_cdi_edits_add_node(e);
	if (!n)
		return nomem(rd);
	if (check_keys(rd, o, keys) < 0 || get_str(rd, o, "path", &n->path, true) < 0 ||
	    get_str(rd, o, "hostPath", &n->host_path, false) < 0 ||
	    get_str(rd, o, "type", &n->type, false) < 0 ||
	    get_str(rd, o, "permissions", &n->permissions, false) < 0 ||
	    get_int(rd, o, "major", 0, 0xffffffffLL, &n->major) < 0 ||
	    get_int(rd, o, "minor", 0, 0xffffffffLL, &n->minor) < 0 ||
	    get_int(rd, o, "fileMode", 0, 0xffffffffLL, &n->file_mode) < 0 ||
	    get_int(rd, o, "uid", 0, 0xffffffffLL, &n->uid) < 0 ||
	    get_int(rd, o, "gid", 0, 0xffffffffLL, &n->gid) < 0)
		return -1;
	return 0;
}

static int read_mount(struct rd *rd, json_t *o, struct nvb_cdi_edits *e)
{
	static const char *const keys[] = {"hostPath", "containerPath", "type", "options", NULL};
	struct nvb_cdi_mount *m = nvb_cdi_edits_add_mount(e);
	if (!m)
		return nomem(rd);
	if (check_keys(rd, o, keys) < 0 || get_str(rd, o, "hostPath", &m->host_path, true) < 0 ||
	    get_str(rd, o, "containerPath", &m->container_path, true) < 0 ||
	    get_str(rd, o, "type", &m->type, false) < 0 ||
	    get_strv(rd, o, "options", &m->options, &m->n_options) < 0)
		return -1;
	return 0;
}

static int read_hook(struct rd *rd, json_t *o, struct nvb_cdi_edits *e)
{
	static const char *const keys[] = {"hookName", "path", "args", "env", "timeout", NULL};
	struct nvb_cdi_hook *h = nvb_cdi_edits_add_hook(e);
	if (!h)
		return nomem(rd);
	if (check_keys(rd, o, keys) < 0 || get_str(rd, o, "hookName", &h->hook_name, true) < 0 ||
	    get_str(rd, o, "path", &h->path, true) < 0 ||
	    get_strv(rd, o, "args", &h->args, &h->n_args) < 0 ||
	    get_strv(rd, o, "env", &h->env, &h->n_env) < 0 ||
	    get_int(rd, o, "timeout", 0, 0x7fffffffLL, &h->timeout) < 0)
		return -1;
	return 0;
}

static int read_edits(struct rd *rd, json_t *obj, struct nvb_cdi_edits *e)
{
	static const char *const keys[] = {"env",	  "deviceNodes",    "mounts",     "hooks",
					   "intelRdt", "additionalGids", "netDevices", NULL};
	json_t *o = json_object_get(obj, "containerEdits");
	if (!o || json_is_null(o))
		return 0;
	size_t base = strlen(rd->where);
	snprintf(rd->where + base, sizeof(rd->where) - base, "%scontainerEdits", base ? ": " : "");
	if (!json_is_object(o))
		return bad(rd, "", "must be a map");
	if (check_keys(rd, o, keys) < 0 || get_strv(rd, o, "env", &e->env, &e->n_env) < 0 ||
	    each_item(rd, o, "deviceNodes", e, read_node) < 0 ||
	    each_item(rd, o, "mounts", e, read_mount) < 0 ||
	    each_item(rd, o, "hooks", e, read_hook) < 0)
		return -1;
	json_t *gids = json_object_get(o, "additionalGids");
	if (gids && !json_is_null(gids)) {
		if (!json_is_array(gids))
			return bad(rd, "additionalGids", "must be a list of integers");
		size_t i;
		json_t *g;
		json_array_foreach(gids, i, g) {
			if (!json_is_integer(g) || json_integer_value(g) < 0 ||
			    json_integer_value(g) > 0xffffffffLL)
				return bad(rd, "additionalGids", "must be a list of group ids");
			int64_t *slot = nvb_array_push(&e->additional_gids, &e->n_additional_gids,
						       sizeof(int64_t));
			if (!slot)
				return nomem(rd);
			*slot = json_integer_value(g);
		}
	}
	json_t *rdt = json_object_get(o, "intelRdt");
	if (rdt && !json_is_null(rdt))
		e->intel_rdt = json_incref(rdt);
	json_t *net = json_object_get(o, "netDevices");
	if (net && !json_is_null(net))
		e->net_devices = json_incref(net);
	rd->where[base] = '\0';
	return 0;
}

static struct nvb_cdi_spec *spec_from_json(json_t *root, const char *origin,
					   void (*report)(void *, const char *), void *ctx,
					   struct nvb_error *err)
{
	static const char *const top_keys[] = {"cdiVersion", "kind", "annotations", "devices",
					       "containerEdits", NULL};
	static const char *const dev_keys[] = {"name", "annotations", "containerEdits", NULL};
	struct rd rd = {.origin = origin, .err = err, .report = report, .ctx = ctx};
	rd.where[0] = '\0';
	if (!json_is_object(root)) {
		nvb_error_set(err, NVB_ERR_INVALID, 0, NULL, "%s: a CDI spec must be a map", origin);
		return NULL;
	}
	struct nvb_cdi_spec *spec = nvb_cdi_spec_new(NULL, origin);
	if (!spec) {
		nvb_error_nomem(err);
		return NULL;
	}
	if (check_keys(&rd, root, top_keys) < 0 ||
	    get_str(&rd, root, "cdiVersion", &spec->cdi_version, true) < 0 ||
	    get_str(&rd, root, "kind", &spec->kind, true) < 0 ||
	    get_annotations(&rd, root, &spec->annotations, &spec->n_annotations) < 0 ||
	    read_edits(&rd, root, &spec->edits) < 0)
		goto fail;
	json_t *devs = json_object_get(root, "devices");
	if (devs && !json_is_null(devs) && !json_is_array(devs)) {
		bad(&rd, "devices", "must be a list");
		goto fail;
	}
	size_t i;
	json_t *d;
	json_array_foreach(devs, i, d) {
		snprintf(rd.where, sizeof(rd.where), "devices[%zu]", i);
		if (!json_is_object(d)) {
			bad(&rd, "", "must be a map");
			goto fail;
		}
		json_t *name = json_object_get(d, "name");
		if (name && json_is_string(name))
			snprintf(rd.where, sizeof(rd.where), "device \"%s\"", json_string_value(name));
		struct nvb_cdi_device *dev = nvb_array_push(&spec->devices, &spec->n_devices,
							    sizeof(*dev));
		if (!dev) {
			nomem(&rd);
			goto fail;
		}
		if (check_keys(&rd, d, dev_keys) < 0 || get_str(&rd, d, "name", &dev->name, true) < 0 ||
		    get_annotations(&rd, d, &dev->annotations, &dev->n_annotations) < 0 ||
		    read_edits(&rd, d, &dev->edits) < 0)
			goto fail;
		rd.where[0] = '\0';
	}
	if (rd.n_problems == 0)
		return spec;
fail:
	nvb_cdi_spec_free(spec);
	return NULL;
}

static bool looks_like_json(const char *data, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r')
			continue;
		return data[i] == '{';
	}
	return false;
}

/* YAML strings may hold NUL bytes ("\0" escapes): C strings would silently cut them (a hostPath
 * "/dev/x\0..." read as "/dev/x") and the JSON writer's "\u0000" would not read back. The JSON
 * reader refuses them already. Finds the first such string and its place in path. */
static bool find_nul(json_t *v, char *path, size_t cap)
{
	size_t len = strlen(path);
	if (json_is_string(v))
		return memchr(json_string_value(v), '\0', json_string_length(v)) != NULL;
	if (json_is_object(v)) {
		const char *key;
		json_t *child;
		json_object_foreach(v, key, child) {
			snprintf(path + len, cap - len, "%s%s", len ? "." : "", key);
			if (find_nul(child, path, cap))
				return true;
		}
	} else if (json_is_array(v)) {
		size_t i;
		json_t *child;
		json_array_foreach(v, i, child) {
			snprintf(path + len, cap - len, "[%zu]", i);
			if (find_nul(child, path, cap))
				return true;
		}
	}
	path[len] = '\0';
	return false;
}

static struct nvb_cdi_spec *spec_parse(const char *data, size_t len, const char *origin,
				       void (*report)(void *, const char *), void *ctx,
				       struct nvb_error *err)
{
	if (len > NVB_CDI_SPEC_MAX) {
		nvb_error_set(err, NVB_ERR_INVALID, 0, NULL, "%s: larger than %u bytes", origin,
			      NVB_CDI_SPEC_MAX);
		return NULL;
	}
	json_t *root;
	bool yaml = nvb_str_has_suffix(origin, ".yaml") ||
		    (!nvb_str_has_suffix(origin, ".json") && !looks_like_json(data, len));
	if (yaml) {
		root = nvb_yaml_parse(data, len, origin, err);
		char path[512] = "";
		if (root && find_nul(root, path, sizeof(path))) {
			nvb_error_set(err, NVB_ERR_INVALID, 0, "remove the \\0 escape",
				      "%s: %s: a string must not hold a NUL byte", origin,
				      path[0] ? path : "document");
			json_decref(root);
			return NULL;
		}
	} else {
		json_error_t jerr;
		root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
		if (!root)
			nvb_error_set(err, NVB_ERR_PARSE, 0, "check the JSON syntax",
				      "%s:%d:%d: %s", origin, jerr.line, jerr.column, jerr.text);
	}
	if (!root)
		return NULL;
	struct nvb_cdi_spec *spec = spec_from_json(root, origin, report, ctx, err);
	json_decref(root);
	return spec;
}

struct nvb_cdi_spec *nvb_cdi_spec_parse(const char *data, size_t len, const char *origin,
					struct nvb_error *err)
{
	return spec_parse(data, len, origin, NULL, NULL, err);
}

static void warn_world_writable(int fd, const char *path)
{
	struct stat st;
	if (fstat(fd, &st) == 0 && (st.st_mode & S_IWOTH))
		nvb_warn("cdi",
			 "CDI spec %s is world-writable: any user can change the devices, mounts and "
			 "hooks (run as root) it gives containers (fix: chmod o-w %s)",
			 path, path);
}

/* The directory checked last: the registry checks each spec directory once, then loads its
 * specs, whose own check of their directory is then skipped. Per thread: library callers load
 * registries from several threads at once (docs/api.md). */
static _Thread_local char checked_dir[NVB_PATH_MAX];

void nvb_cdi_check_dir_mode(int dirfd, const char *dir, bool spec_dir)
{
	snprintf(checked_dir, sizeof(checked_dir), "%s", dir);
	struct stat st;
	if (fstat(dirfd, &st) < 0 || !(st.st_mode & S_IWOTH))
		return;
	/* in a sticky directory (/tmp) nobody can replace another's file; only a spec directory
	 * is still a risk there: anyone can add a spec the engines read */
	if (spec_dir)
		nvb_warn("cdi",
			 "CDI spec directory %s is world-writable: any user can add specs whose hooks "
			 "run as root (fix: chmod o-w %s)",
			 dir, dir);
	else if (!(st.st_mode & S_ISVTX))
		nvb_warn("cdi",
			 "directory %s is world-writable: any user can replace the CDI specs in it "
			 "(fix: chmod o-w %s)",
			 dir, dir);
}

static void check_parent_dir(const char *path)
{
	char dir[NVB_PATH_MAX];
	const char *slash = strrchr(path, '/');
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else
		snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 : (int)(slash - path), path);
	if (!strcmp(checked_dir, dir)) /* just checked, by the registry or for another spec */
		return;
	_cleanup_close_ int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0)
		nvb_cdi_check_dir_mode(dfd, dir, false);
}

struct nvb_cdi_spec *nvb_cdi_spec_load(const char *path, struct nvb_error *err)
{
	return nvb_cdi_spec_load_report(path, NULL, NULL, err);
}

struct nvb_cdi_spec *nvb_cdi_spec_load_report(const char *path,
					      void (*report)(void *ctx, const char *msg), void *ctx,
					      struct nvb_error *err)
{
	_cleanup_close_ int fd = nvb_open_regular(AT_FDCWD, path, 0, "CDI spec", err);
	if (fd < 0)
		return NULL;
	warn_world_writable(fd, path);
	check_parent_dir(path);
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	if (nvb_read_fd(fd, path, NVB_CDI_SPEC_MAX, &data, &len, err) < 0)
		return NULL;
	return spec_parse(data, len, path, report, ctx, err);
}

/* ------------------------------------------------------------------ writing */

static json_t *strv_json(char **v, size_t n)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, json_string(v[i]));
	return arr;
}

static void set_str(json_t *o, const char *key, const char *value)
{
	if (value)
		json_object_set_new(o, key, json_string(value));
}

static void set_int(json_t *o, const char *key, int64_t value)
{
	if (value != NVB_CDI_UNSET)
		json_object_set_new(o, key, json_integer(value));
}

static json_t *annotations_json(const struct nvb_cdi_kv *kv, size_t n)
{
	json_t *o = json_object();
	for (size_t i = 0; i < n; i++)
		json_object_set_new(o, kv[i].key, json_string(kv[i].value));
	return o;
}

static json_t *edits_json(const struct nvb_cdi_edits *e)
{
	json_t *o = json_object();
	if (e->n_env)
		json_object_set_new(o, "env", strv_json(e->env, e->n_env));
	if (e->n_nodes) {
		json_t *arr = json_array();
		for (size_t i = 0; i < e->n_nodes; i++) {
			const struct nvb_cdi_device_node *n = &e->nodes[i];
			json_t *no = json_object();
			set_str(no, "path", n->path);
			set_str(no, "hostPath", n->host_path);
			set_str(no, "type", n->type);
			set_int(no, "major", n->major);
			set_int(no, "minor", n->minor);
			set_int(no, "fileMode", n->file_mode);
			set_str(no, "permissions", n->permissions);
			set_int(no, "uid", n->uid);
			set_int(no, "gid", n->gid);
			json_array_append_new(arr, no);
		}
		json_object_set_new(o, "deviceNodes", arr);
	}
	if (e->n_mounts) {
		json_t *arr = json_array();
		for (size_t i = 0; i < e->n_mounts; i++) {
			const struct nvb_cdi_mount *m = &e->mounts[i];
			json_t *mo = json_object();
			set_str(mo, "hostPath", m->host_path);
			set_str(mo, "containerPath", m->container_path);
			set_str(mo, "type", m->type);
			if (m->n_options)
				json_object_set_new(mo, "options", strv_json(m->options, m->n_options));
			json_array_append_new(arr, mo);
		}
		json_object_set_new(o, "mounts", arr);
	}
	if (e->n_hooks) {
		json_t *arr = json_array();
		for (size_t i = 0; i < e->n_hooks; i++) {
			const struct nvb_cdi_hook *h = &e->hooks[i];
			json_t *ho = json_object();
			set_str(ho, "hookName", h->hook_name);
			set_str(ho, "path", h->path);
			if (h->n_args)
				json_object_set_new(ho, "args", strv_json(h->args, h->n_args));
			if (h->n_env)
				json_object_set_new(ho, "env", strv_json(h->env, h->n_env));
			set_int(ho, "timeout", h->timeout);
			json_array_append_new(arr, ho);
		}
		json_object_set_new(o, "hooks", arr);
	}
	if (e->n_additional_gids) {
		json_t *arr = json_array();
		for (size_t i = 0; i < e->n_additional_gids; i++)
			json_array_append_new(arr, json_integer(e->additional_gids[i]));
		json_object_set_new(o, "additionalGids", arr);
	}
	if (e->intel_rdt)
		json_object_set(o, "intelRdt", e->intel_rdt);
	if (e->net_devices)
		json_object_set(o, "netDevices", e->net_devices);
	return o;
}

json_t *nvb_cdi_spec_to_json(const struct nvb_cdi_spec *spec)
{
	json_t *root = json_object();
	set_str(root, "cdiVersion", spec->cdi_version);
	set_str(root, "kind", spec->kind);
	if (spec->n_annotations)
		json_object_set_new(root, "annotations",
				    annotations_json(spec->annotations, spec->n_annotations));
	json_t *devs = json_array();
	for (size_t i = 0; i < spec->n_devices; i++) {
		const struct nvb_cdi_device *d = &spec->devices[i];
		json_t *dj = json_object();
		set_str(dj, "name", d->name);
		if (d->n_annotations)
			json_object_set_new(dj, "annotations",
					    annotations_json(d->annotations, d->n_annotations));
		json_object_set_new(dj, "containerEdits", edits_json(&d->edits));
		json_array_append_new(devs, dj);
	}
	json_object_set_new(root, "devices", devs);
	json_object_set_new(root, "containerEdits", edits_json(&spec->edits));
	return root;
}

char *nvb_cdi_spec_format(const struct nvb_cdi_spec *spec, enum nvb_cdi_format fmt,
			  struct nvb_error *err)
{
	json_t *root = nvb_cdi_spec_to_json(spec);
	if (!root) {
		nvb_error_nomem(err);
		return NULL;
	}
	char *out = NULL;
	if (fmt == NVB_CDI_YAML) {
		out = nvb_yaml_emit(root, err);
	} else {
		char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		if (text) {
			out = nvb_asprintf("%s\n", text);
			free(text);
		}
		if (!out)
			nvb_error_nomem(err);
	}
	json_decref(root);
	return out;
}
