/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Bolt's capsules (docs/bolt.md): a capsule's GPU request and workload profile turned into OCI
 * config edits, and qualified CDI names applied to a config. Both end in nvb_oci_apply, the
 * apply of nvbind-runtime: nothing here resolves a device or edits a config another way.
 */
#include "api/api.h"
#include "capsule/profiles.h"
#include "cdi/cdi.h"
#include "format/json.h"
#include "oci/oci.h"

#define CAPSULE_ID_MAX 128
#define ANNOTATION_CAPSULE "nvbind.io/capsule"
#define ANNOTATION_PROFILE "nvbind.io/profile"
/* the config the edits-only form applies to: what remains of it is not an edit */
#define BASE_CONFIG "{\"ociVersion\":\"1.0.2\",\"process\":{\"env\":[]},\"root\":{\"path\":\"rootfs\"}}"

static bool qualified(const char *name)
{
	char buf[512];
	const char *kind, *dev;
	return nvb_cdi_parse_qualified(name, buf, sizeof(buf), &kind, &dev) == 0;
}

/* The id names the capsule in annotations, logs and (through Bolt) state paths: a plain name. */
static int check_capsule_id(const char *id, struct nvb_error *err)
{
	const char *hint = "a capsule id is letters, digits, '_', '.', '-', at most 128, not starting "
			   "with '.' or '-'";
	if (!id || !*id)
		return nvb_error_set(err, NVB_ERR_USAGE, 0, hint, "nvb_setup_gpu_for_capsule: no capsule_id");
	size_t len = strlen(id);
	if (len > CAPSULE_ID_MAX || id[0] == '.' || id[0] == '-' ||
	    strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") != len)
		return nvb_error_set(err, NVB_ERR_USAGE, 0, hint, "capsule id '%.*s' is not a plain name",
				     CAPSULE_ID_MAX, id);
	return 0;
}

/* ------------------------------------------------------------- the request */

/* opts->gpu split: qualified CDI names to devices, the other words to an NVIDIA_VISIBLE_DEVICES
 * value (capabilities apply to those). */
struct request {
	char *copy;        /* opts->gpu, cut in place */
	const char **devices;
	size_t n_devices;
	struct nvb_strbuf visible; /* the other words, then taken into visible_text */
	char *visible_text;
};

static void request_clear(struct request *r)
{
	free(r->copy);
	free(r->devices);
	nvb_strbuf_free(&r->visible);
	free(r->visible_text);
}

static int request_split(const char *gpu, struct request *r, struct nvb_error *err)
{
	if (!(r->copy = strdup(gpu)) || !(r->devices = calloc(strlen(gpu) / 2 + 1, sizeof(char *))))
		return nvb_error_nomem(err);
	char *save = NULL;
	for (char *w = strtok_r(r->copy, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		w = nvb_strstrip(w);
		if (!*w)
			continue;
		if (strchr(w, '=') || strchr(w, '/')) {
			if (!qualified(w))
				return nvb_error_set(err, NVB_ERR_USAGE, 0,
						     "a CDI name is vendor.com/class=name, e.g. nvidia.com/gpu=0",
						     "capsule gpu request: '%s' is not a qualified CDI name", w);
			r->devices[r->n_devices++] = w;
		} else {
			nvb_strbuf_appendf(&r->visible, "%s%s", r->visible.len ? "," : "", w);
		}
	}
	bool any = r->visible.len > 0;
	if (!(r->visible_text = nvb_strbuf_take(&r->visible)))
		return nvb_error_nomem(err);
	if (!any) {
		free(r->visible_text);
		r->visible_text = NULL;
	}
	return 0;
}

/* ------------------------------------------------------------- the config */

static bool env_has_name(json_t *env, const char *kv)
{
	size_t name_len = strcspn(kv, "=");
	size_t i;
	json_t *v;
	json_array_foreach (env, i, v) {
		const char *s = json_string_value(v);
		if (s && !strncmp(s, kv, name_len) && s[name_len] == '=')
			return true;
	}
	return false;
}

/* Set NAME=VALUE in env: replace the variable of that name when replace, else add it only when
 * the config does not set it. */
static int env_put(json_t *env, const char *kv, bool replace, struct nvb_error *err)
{
	size_t name_len = strcspn(kv, "=");
	if (!name_len || !kv[name_len])
		return nvb_error_set(err, NVB_ERR_USAGE, 0, NULL, "capsule env '%s' is not NAME=VALUE", kv);
	if (env_has_name(env, kv)) {
		if (!replace)
			return 0;
		size_t i;
		json_t *v;
		json_array_foreach (env, i, v) {
			const char *s = json_string_value(v);
			if (s && !strncmp(s, kv, name_len) && s[name_len] == '=')
				return json_array_set_new(env, i, json_string(kv)) < 0 ? nvb_error_nomem(err) : 0;
		}
	}
	return json_array_append_new(env, json_string(kv)) < 0 ? nvb_error_nomem(err) : 0;
}

/* obj[key], created as an empty object or array when absent; NULL (err set) when it is there
 * with another type */
static json_t *member(json_t *obj, const char *key, bool array, const char *where, struct nvb_error *err)
{
	json_t *v = json_object_get(obj, key);
	if (!v) {
		v = array ? json_array() : json_object();
		if (!v || json_object_set_new(obj, key, v) < 0)
			return nvb_error_nomem(err), NULL;
	}
	if (array ? !json_is_array(v) : !json_is_object(v))
		return nvb_error_set(err, NVB_ERR_INVALID, 0, NULL, "OCI config: %s is not an %s", where,
				     array ? "array" : "object"), NULL;
	return v;
}

static int add_capsule_facts(json_t *config, const struct nvb_capsule_options *o,
			     const struct nvb_builtin_profile *profile, struct nvb_error *err)
{
	json_t *process = member(config, "process", false, "process", err);
	json_t *env = process ? member(process, "env", true, "process.env", err) : NULL;
	json_t *ann = member(config, "annotations", false, "annotations", err);
	if (!env || !ann)
		return -1;
	for (size_t i = 0; profile && profile->env[i]; i++)
		if (env_put(env, profile->env[i], false, err) < 0)
			return -1;
	for (size_t i = 0; i < o->n_env; i++)
		if (env_put(env, o->env[i], true, err) < 0)
			return -1;
	if (json_object_set_new(ann, ANNOTATION_CAPSULE, json_string(o->capsule_id)) < 0 ||
	    (profile && json_object_set_new(ann, ANNOTATION_PROFILE, json_string(profile->name)) < 0))
		return nvb_error_nomem(err);
	return 0;
}

static json_t *config_load(const char *text, struct nvb_error *err)
{
	json_error_t jerr;
	json_t *config = nvb_json_loadb_exact(text, strlen(text), JSON_REJECT_DUPLICATES, false, &jerr);
	if (!config)
		return nvb_error_set(err, NVB_ERR_PARSE, 0, NULL, "OCI config:%d:%d: %s", jerr.line,
				     jerr.column, jerr.text), NULL;
	if (!json_is_object(config)) {
		json_decref(config);
		return nvb_error_set(err, NVB_ERR_INVALID, 0, NULL, "OCI config: not a JSON object"), NULL;
	}
	return config;
}

static char *dump(json_t *config, struct nvb_error *err)
{
	char *text = nvb_json_dumps_exact(config, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (!text)
		nvb_error_nomem(err);
	return text;
}

/* The edited base config less what the base itself had: the edits alone. */
static char *edits_of(const char *applied, struct nvb_error *err)
{
	json_t *config = config_load(applied, err);
	if (!config)
		return NULL;
	json_object_del(config, "ociVersion");
	json_object_del(config, "root");
	char *text = dump(config, err);
	json_decref(config);
	return text;
}

/* ------------------------------------------------------------- the API */

static int capsule_check(struct nvb_host *host, const struct nvb_capsule_options *o,
			 const struct nvb_builtin_profile **profile, struct nvb_error *err)
{
	if (!host)
		return nvb_error_set(err, NVB_ERR_USAGE, 0, NULL, "no host: open one with nvb_host_open");
	if (check_capsule_id(o->capsule_id, err) < 0)
		return -1;
	if ((o->n_env && !o->env) || (o->n_spec_dirs && !o->spec_dirs))
		return nvb_error_set(err, NVB_ERR_USAGE, 0, NULL,
				     "struct nvb_capsule_options: a count without its array");
	for (size_t i = 0; i < o->n_env; i++)
		if (!o->env[i])
			return nvb_error_set(err, NVB_ERR_USAGE, 0, NULL, "env[%zu] is NULL", i);
	*profile = NULL;
	if (o->profile && !(*profile = nvb_builtin_profile(o->profile)))
		return nvb_error_set(err, NVB_ERR_NOT_FOUND, 0,
				     "the built-in profiles are gaming, ai-ml, video, compute",
				     "no profile '%s'", o->profile);
	return 0;
}

char *nvb_setup_gpu_for_capsule(struct nvb_host *host, const char *config_json,
				const struct nvb_capsule_options *opts, struct nvb_error *err)
{
	struct nvb_error local;
	err = err ? err : &local;
	nvb_error_clear(err);
	struct nvb_capsule_options o;
	const struct nvb_builtin_profile *profile;
	if (nvb_api_options_copy(&o, sizeof(o), opts, "nvb_capsule_options", err) < 0 ||
	    capsule_check(host, &o, &profile, err) < 0)
		return NULL;
	struct request req = {.copy = NULL};
	char *text = NULL, *applied = NULL;
	json_t *config = config_load(config_json ? config_json : BASE_CONFIG, err);
	if (!config || request_split(o.gpu ? o.gpu : "all", &req, err) < 0 ||
	    add_capsule_facts(config, &o, profile, err) < 0 || !(text = dump(config, err)))
		goto out;
	struct nvb_apply_options a = {
		.size = sizeof(a),
		.devices = req.devices,
		.n_devices = req.n_devices,
		.visible_devices = req.visible_text,
		.capabilities = o.capabilities ? o.capabilities : profile ? profile->capabilities : NULL,
		.spec_dirs = o.spec_dirs,
		.n_spec_dirs = o.n_spec_dirs,
		.hook_path = o.hook_path,
		.bundle = o.bundle,
	};
	applied = nvb_oci_apply(host, text, &a, err);
	if (applied && !config_json) {
		char *edits = edits_of(applied, err);
		free(applied);
		applied = edits;
	}
	if (applied)
		nvb_debug("api", "capsule %s: gpu %s, profile %s", o.capsule_id, o.gpu ? o.gpu : "all",
			  profile ? profile->name : "none");
out:
	json_decref(config);
	free(text);
	request_clear(&req);
	return applied;
}

char *nvb_apply_cdi_devices(struct nvb_host *host, const char *config_json, const char *const *names,
			    size_t n_names, const char *const *spec_dirs, size_t n_spec_dirs,
			    struct nvb_error *err)
{
	struct nvb_error local;
	err = err ? err : &local;
	nvb_error_clear(err);
	if (!n_names || !names)
		return nvb_error_set(err, NVB_ERR_USAGE, 0, "name devices as vendor.com/class=name",
				     "nvb_apply_cdi_devices: no device"), NULL;
	for (size_t i = 0; i < n_names; i++)
		if (!names[i] || !qualified(names[i]))
			return nvb_error_set(err, NVB_ERR_USAGE, 0,
					     "a CDI name is vendor.com/class=name, e.g. nvidia.com/gpu=0",
					     "'%s' is not a qualified CDI device name",
					     names[i] ? names[i] : "(null)"), NULL;
	struct nvb_apply_options a = {
		.size = sizeof(a),
		.devices = names,
		.n_devices = n_names,
		.spec_dirs = spec_dirs,
		.n_spec_dirs = spec_dirs ? n_spec_dirs : 0,
	};
	return nvb_oci_apply(host, config_json, &a, err);
}
