/* SPDX-License-Identifier: Apache-2.0 */
/* CDI model: construction and destruction. */
#include "cdi/cdi.h"

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void kv_free(struct nvb_cdi_kv *kv, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(kv[i].key);
		free(kv[i].value);
	}
	free(kv);
}

void nvb_cdi_hook_clear(struct nvb_cdi_hook *h)
{
	free(h->hook_name);
	free(h->path);
	strv_free(h->args, h->n_args);
	strv_free(h->env, h->n_env);
	memset(h, 0, sizeof(*h));
}

void nvb_cdi_edits_clear(struct nvb_cdi_edits *e)
{
	strv_free(e->env, e->n_env);
	for (size_t i = 0; i < e->n_nodes; i++) {
		free(e->nodes[i].path);
		free(e->nodes[i].host_path);
		free(e->nodes[i].type);
		free(e->nodes[i].permissions);
	}
	free(e->nodes);
	for (size_t i = 0; i < e->n_mounts; i++) {
		free(e->mounts[i].host_path);
		free(e->mounts[i].container_path);
		free(e->mounts[i].type);
		strv_free(e->mounts[i].options, e->mounts[i].n_options);
	}
	free(e->mounts);
	for (size_t i = 0; i < e->n_hooks; i++)
		nvb_cdi_hook_clear(&e->hooks[i]);
	free(e->hooks);
	free(e->additional_gids);
	json_decref(e->intel_rdt);
	json_decref(e->net_devices);
	memset(e, 0, sizeof(*e));
}

struct nvb_cdi_spec *nvb_cdi_spec_new(const char *kind, const char *origin)
{
	struct nvb_cdi_spec *spec = calloc(1, sizeof(*spec));
	if (!spec)
		return NULL;
	if ((kind && !(spec->kind = strdup(kind))) || !(spec->origin = strdup(origin))) {
		nvb_cdi_spec_free(spec);
		return NULL;
	}
	return spec;
}

void nvb_cdi_spec_free(struct nvb_cdi_spec *spec)
{
	if (!spec)
		return;
	free(spec->cdi_version);
	free(spec->kind);
	free(spec->origin);
	kv_free(spec->annotations, spec->n_annotations);
	for (size_t i = 0; i < spec->n_devices; i++) {
		free(spec->devices[i].name);
		kv_free(spec->devices[i].annotations, spec->devices[i].n_annotations);
		nvb_cdi_edits_clear(&spec->devices[i].edits);
	}
	free(spec->devices);
	nvb_cdi_edits_clear(&spec->edits);
	free(spec);
}

struct nvb_cdi_device *nvb_cdi_spec_add_device(struct nvb_cdi_spec *spec, const char *name)
{
	struct nvb_cdi_device *d = nvb_array_push(&spec->devices, &spec->n_devices, sizeof(*d));
	if (!d)
		return NULL;
	if (!(d->name = strdup(name))) {
		spec->n_devices--;
		return NULL;
	}
	return d;
}

int nvb_cdi_edits_add_env(struct nvb_cdi_edits *e, const char *kv)
{
	return nvb_strv_append(&e->env, &e->n_env, kv);
}

struct nvb_cdi_device_node *nvb_cdi_edits_add_node(struct nvb_cdi_edits *e)
{
	struct nvb_cdi_device_node *n = nvb_array_push(&e->nodes, &e->n_nodes, sizeof(*n));
	if (n)
		n->major = n->minor = n->file_mode = n->uid = n->gid = NVB_CDI_UNSET;
	return n;
}

struct nvb_cdi_mount *nvb_cdi_edits_add_mount(struct nvb_cdi_edits *e)
{
	return nvb_array_push(&e->mounts, &e->n_mounts, sizeof(struct nvb_cdi_mount));
}

struct nvb_cdi_hook *nvb_cdi_edits_add_hook(struct nvb_cdi_edits *e)
{
	struct nvb_cdi_hook *h = nvb_array_push(&e->hooks, &e->n_hooks, sizeof(*h));
	if (h)
		h->timeout = NVB_CDI_UNSET;
	return h;
}

bool nvb_cdi_edits_empty(const struct nvb_cdi_edits *e)
{
	return !e->n_env && !e->n_nodes && !e->n_mounts && !e->n_hooks && !e->n_additional_gids &&
	       !e->intel_rdt && !e->net_devices;
}
