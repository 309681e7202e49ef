/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "cdi/cdi.h"
#include "oci/oci.h"

/* obj[key] as an object/array, created when missing; NULL when it exists with another type */
static json_t *child(json_t *obj, const char *key, bool array)
{
	json_t *c = json_object_get(obj, key);
	if (!c || json_is_null(c)) {
		c = array ? json_array() : json_object();
		if (!c || json_object_set_new(obj, key, c) < 0)
			return NULL;
	}
	return (array ? json_is_array(c) : json_is_object(c)) ? c : NULL;
}

/* The position of an entry in an array of objects by one string member (mounts by
 * destination, devices by path), for edits that replace an entry with the same value. A scan
 * while the array is short; past that a hash (built on first use) so that specs with many
 * thousands of mounts or nodes do not cost a scan per edit on the container start path. */
struct pos_index {
	const char *member;
	json_t *pos; /* object: value -> integer position; NULL until built */
};

#define POS_INDEX_MIN 32

/* 1 and *at when an entry has the value, 0 when none, -1 out of memory. */
static int pos_find(struct pos_index *ix, json_t *array, const char *value, size_t *at)
{
	size_t i;
	json_t *e;
	if (!ix->pos && json_array_size(array) < POS_INDEX_MIN) {
		json_array_foreach(array, i, e) {
			const char *v = json_string_value(json_object_get(e, ix->member));
			if (v && strcmp(v, value) == 0) {
				*at = i;
				return 1;
			}
		}
		return 0;
	}
	if (!ix->pos) {
		if (!(ix->pos = json_object()))
			return -1;
		json_array_foreach(array, i, e) {
			const char *v = json_string_value(json_object_get(e, ix->member));
			/* the first entry with a value is the one a scan finds */
			if (v && !json_object_get(ix->pos, v) &&
			    json_object_set_new_nocheck(ix->pos, v, json_integer((json_int_t)i)) < 0)
				return -1;
		}
	}
	json_t *p = json_object_get(ix->pos, value);
	if (!p)
		return 0;
	*at = (size_t)json_integer_value(p);
	return 1;
}

/* An entry with value was appended at position at. */
static int pos_added(struct pos_index *ix, const char *value, size_t at)
{
	if (!ix->pos)
		return 0;
	return json_object_set_new_nocheck(ix->pos, value, json_integer((json_int_t)at));
}

static int bad_config(struct nvb_error *err, const char *field)
{
	return nvb_error_set(err, NVB_ERR_INVALID, 0, NULL,
			     "config.json: %s has an unexpected type", field);
}

static int apply_env(json_t *config, char *const *env, size_t n, struct nvb_error *err)
{
	json_t *process = child(config, "process", false);
	json_t *list = process ? child(process, "env", true) : NULL;
	if (!list)
		return bad_config(err, "process.env");
	for (size_t i = 0; i < n; i++) {
		size_t name_len = strcspn(env[i], "=");
		size_t idx;
		json_t *e;
		bool replaced = false;
		json_array_foreach(list, idx, e) {
			const char *s = json_string_value(e);
			if (s && strncmp(s, env[i], name_len) == 0 && s[name_len] == '=') {
				json_array_set_new(list, idx, json_string(env[i]));
				replaced = true;
				break;
			}
		}
		if (!replaced && json_array_append_new(list, json_string(env[i])) < 0)
			return nvb_error_nomem(err);
	}
	return 0;
}

/* Complete type/major/minor from the host node, without following symlinks. */
static int node_numbers(const struct nvb_cdi_device_node *n, char *type, int64_t *major,
			int64_t *minor, int64_t *mode, struct nvb_error *err)
{
	*type = n->type ? n->type[0] : 0;
	*major = n->major;
	*minor = n->minor;
	*mode = n->file_mode;
	if (*type == 'p' || (*type && *major != NVB_CDI_UNSET && (*minor != NVB_CDI_UNSET)))
		return 0;
	const char *host = n->host_path ? n->host_path : n->path;
	struct stat st;
	if (lstat(host, &st) < 0)
		return nvb_error_errno(err, errno, "regenerate the CDI spec: 'nvbind cdi generate'",
				       "device node %s", host);
	if (S_ISCHR(st.st_mode))
		*type = *type ? *type : 'c';
	else if (S_ISBLK(st.st_mode))
		*type = *type ? *type : 'b';
	else if (S_ISFIFO(st.st_mode))
		*type = *type ? *type : 'p';
	else
		return nvb_error_set(err, NVB_ERR_INVALID, 0, NULL,
				     "%s is not a device node (a symbolic link or file?)", host);
	if (*major == NVB_CDI_UNSET)
		*major = major(st.st_rdev);
	if (*minor == NVB_CDI_UNSET)
		*minor = minor(st.st_rdev);
	if (*mode == NVB_CDI_UNSET)
		*mode = st.st_mode & 0777;
	return 0;
}

static int apply_node(json_t *config, const struct nvb_cdi_device_node *n, struct pos_index *ix,
		      struct nvb_error *err)
{
	char type;
	int64_t major, minor, mode;
	if (node_numbers(n, &type, &major, &minor, &mode, err) < 0)
		return -1;
	json_t *linux_ = child(config, "linux", false);
	json_t *devices = linux_ ? child(linux_, "devices", true) : NULL;
	json_t *resources = linux_ ? child(linux_, "resources", false) : NULL;
	json_t *rules = resources ? child(resources, "devices", true) : NULL;
	if (!devices || !rules)
		return bad_config(err, "linux.devices or linux.resources.devices");
	char t[2] = {type, 0};
	/* json_object + set_new, not json_pack: apply is on the container start path */
	json_t *dev = json_object();
	if (!dev)
		return nvb_error_nomem(err);
	json_object_set_new(dev, "path", json_string(n->path));
	json_object_set_new(dev, "type", json_string(t));
	if (type != 'p') {
		json_object_set_new(dev, "major", json_integer(major));
		json_object_set_new(dev, "minor", json_integer(minor));
	}
	if (mode != NVB_CDI_UNSET)
		json_object_set_new(dev, "fileMode", json_integer(mode));
	if (n->uid != NVB_CDI_UNSET)
		json_object_set_new(dev, "uid", json_integer(n->uid));
	if (n->gid != NVB_CDI_UNSET)
		json_object_set_new(dev, "gid", json_integer(n->gid));
	size_t idx;
	int found = pos_find(ix, devices, n->path, &idx);
	if (found > 0)
		json_array_set(devices, idx, dev);
	else if (found == 0 && (json_array_append(devices, dev) < 0 ||
				pos_added(ix, n->path, json_array_size(devices) - 1) < 0))
		found = -1;
	json_decref(dev);
	if (found < 0)
		return nvb_error_nomem(err);
	if (type == 'c' || type == 'b') {
		json_t *rule = json_object();
		if (!rule || json_array_append_new(rules, rule) < 0)
			return nvb_error_nomem(err);
		json_object_set_new(rule, "allow", json_true());
		json_object_set_new(rule, "type", json_string(t));
		json_object_set_new(rule, "major", json_integer(major));
		json_object_set_new(rule, "minor", json_integer(minor));
		json_object_set_new(rule, "access", json_string(n->permissions ? n->permissions : "rwm"));
	}
	return 0;
}

static json_t *strv(char *const *v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

/* Generated specs give every mount the same options: one shared (reference-counted) array
 * instead of one per mount saves most of apply's allocations. */
struct opts_cache {
	char *const *src;
	size_t n;
	json_t *json;
};

static json_t *options_json(struct opts_cache *c, char *const *v, size_t n)
{
	bool same = c->json && c->n == n;
	for (size_t i = 0; same && i < n; i++)
		same = c->src[i] == v[i] || !strcmp(c->src[i], v[i]);
	if (!same) {
		json_decref(c->json);
		c->json = strv(v, n);
		c->src = v;
		c->n = n;
	}
	return json_incref(c->json);
}

static int apply_mount(json_t *mounts, const struct nvb_cdi_mount *m, struct opts_cache *oc,
		       struct pos_index *ix, struct nvb_error *err)
{
	json_t *mo = json_object();
	if (!mo)
		return nvb_error_nomem(err);
	json_object_set_new(mo, "destination", json_string(m->container_path));
	json_object_set_new(mo, "source", json_string(m->host_path));
	if (m->type)
		json_object_set_new(mo, "type", json_string(m->type));
	if (m->n_options)
		json_object_set_new(mo, "options", options_json(oc, m->options, m->n_options));
	size_t idx;
	int found = pos_find(ix, mounts, m->container_path, &idx);
	if (found > 0)
		return json_array_set_new(mounts, idx, mo) < 0 ? nvb_error_nomem(err) : 0;
	if (found < 0 || json_array_append_new(mounts, mo) < 0 ||
	    pos_added(ix, m->container_path, json_array_size(mounts) - 1) < 0)
		return nvb_error_nomem(err);
	return 0;
}

static size_t path_depth(const char *p)
{
	size_t depth = 0;
	for (const char *c = p; c && *c; c++)
		if (*c == '/' && c[1] && c[1] != '/')
			depth++;
	return depth;
}

struct mount_key {
	size_t depth;
	size_t index; /* position before sorting: ties keep it, so the order is stable */
	json_t *item;
};

static int mount_key_cmp(const void *a, const void *b)
{
	const struct mount_key *x = a, *y = b;
	if (x->depth != y->depth)
		return x->depth < y->depth ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* Stable order by destination depth, so a mount never hides one below it. O(n log n): specs
 * with many thousands of mounts are on the container start path. */
static int sort_mounts(json_t *mounts, struct nvb_error *err)
{
	size_t n = json_array_size(mounts);
	if (n < 2)
		return 0;
	struct mount_key *keys = malloc(n * sizeof(*keys));
	if (!keys)
		return nvb_error_nomem(err);
	bool sorted = true;
	for (size_t i = 0; i < n; i++) {
		keys[i].item = json_incref(json_array_get(mounts, i));
		keys[i].depth = path_depth(json_string_value(json_object_get(keys[i].item, "destination")));
		keys[i].index = i;
		sorted = sorted && (i == 0 || keys[i - 1].depth <= keys[i].depth);
	}
	if (!sorted) {
		qsort(keys, n, sizeof(*keys), mount_key_cmp);
		json_array_clear(mounts);
		for (size_t i = 0; i < n; i++)
			json_array_append(mounts, keys[i].item);
	}
	for (size_t i = 0; i < n; i++)
		json_decref(keys[i].item);
	free(keys);
	return 0;
}

/* What a hook gets when its spec names no env: runc would otherwise run it with the
 * container's environment, and an LD_PRELOAD set by the image would run code as root on the
 * host (CVE-2025-23266). Specs from older NVIDIA toolkits have such hooks. */
static const char *const default_hook_env[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin"};

static int apply_hook(json_t *config, const struct nvb_cdi_hook *h, struct nvb_error *err)
{
	json_t *hooks = child(config, "hooks", false);
	json_t *list = hooks ? child(hooks, h->hook_name, true) : NULL;
	if (!list)
		return bad_config(err, "hooks");
	json_t *ho = json_object();
	if (!ho)
		return nvb_error_nomem(err);
	json_object_set_new(ho, "path", json_string(h->path));
	if (h->n_args)
		json_object_set_new(ho, "args", strv(h->args, h->n_args));
	/* always explicit, never inherited: see default_hook_env */
	if (h->n_env)
		json_object_set_new(ho, "env", strv(h->env, h->n_env));
	else
		json_object_set_new(ho, "env", strv((char *const *)default_hook_env,
						    NVB_ARRAY_SIZE(default_hook_env)));
	if (h->timeout != NVB_CDI_UNSET)
		json_object_set_new(ho, "timeout", json_integer(h->timeout));
	return json_array_append_new(list, ho) < 0 ? nvb_error_nomem(err) : 0;
}

static int apply_gids(json_t *config, const struct nvb_cdi_edits *e, struct nvb_error *err)
{
	if (!e->n_additional_gids)
		return 0;
	json_t *process = child(config, "process", false);
	json_t *user = process ? child(process, "user", false) : NULL;
	json_t *gids = user ? child(user, "additionalGids", true) : NULL;
	if (!gids)
		return bad_config(err, "process.user.additionalGids");
	for (size_t i = 0; i < e->n_additional_gids; i++) {
		size_t idx;
		json_t *g;
		bool have = false;
		json_array_foreach(gids, idx, g) have = have || json_integer_value(g) == e->additional_gids[i];
		if (!have)
			json_array_append_new(gids, json_integer(e->additional_gids[i]));
	}
	return 0;
}

int nvb_oci_apply_edits(json_t *config, const struct nvb_cdi_edits *const *edits, size_t n,
			struct nvb_error *err)
{
	json_t *mounts = child(config, "mounts", true);
	if (!mounts)
		return bad_config(err, "mounts");
	struct opts_cache oc = {.json = NULL};
	struct pos_index mounts_ix = {.member = "destination"}, nodes_ix = {.member = "path"};
	int r = -1;
	for (size_t k = 0; k < n; k++) {
		const struct nvb_cdi_edits *e = edits[k];
		if (apply_env(config, e->env, e->n_env, err) < 0)
			goto out;
		for (size_t i = 0; i < e->n_nodes; i++)
			if (apply_node(config, &e->nodes[i], &nodes_ix, err) < 0)
				goto out;
		for (size_t i = 0; i < e->n_mounts; i++)
			if (apply_mount(mounts, &e->mounts[i], &oc, &mounts_ix, err) < 0)
				goto out;
		for (size_t i = 0; i < e->n_hooks; i++)
			if (apply_hook(config, &e->hooks[i], err) < 0)
				goto out;
		if (apply_gids(config, e, err) < 0)
			goto out;
		if (e->intel_rdt) {
			json_t *linux_ = child(config, "linux", false);
			if (!linux_) {
				bad_config(err, "linux");
				goto out;
			}
			json_object_set(linux_, "intelRdt", e->intel_rdt);
		}
	}
	r = sort_mounts(mounts, err);
out:
	json_decref(oc.json);
	json_decref(mounts_ix.pos);
	json_decref(nodes_ix.pos);
	return r;
}

/*
 * config.json is replaced atomically (a temporary file in the bundle renamed over it: runc, or
 * anyone reading it meanwhile, sees the old file or the new one, whole) but not durably: no
 * fsync of the file or of the bundle directory, unlike a CDI spec or an engine configuration.
 * A bundle lives exactly as long as its container, and a crash before the container started
 * loses the container anyway: no engine starts one from a bundle written before a reboot
 * (containerd and CRI-O keep bundles on tmpfs under /run, podman writes config.json again at
 * every start). On a disk the two flushes cost milliseconds per container and bought nothing.
 */
int nvb_oci_config_save(const char *bundle, json_t *config, struct nvb_error *err)
{
	/* exact: numbers read beyond 64 bits (uint64 rlimits) are written back as they were */
	char *text = nvb_json_dumps_exact(config, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (!text)
		return nvb_error_nomem(err);
	char path[NVB_PATH_MAX];
	snprintf(path, sizeof(path), "%s/config.json", bundle);
	struct stat st;
	unsigned mode = stat(path, &st) == 0 ? (st.st_mode & 0777) : 0600;
	int r = nvb_write_file_replace(path, text, strlen(text), mode, err);
	free(text);
	return r;
}
