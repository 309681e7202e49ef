/* SPDX-License-Identifier: Apache-2.0 */
/* CDI validation: the rules of docs/design/cdi-semantics.md, one validator for every caller. */
#include <ctype.h>

#include "cdi/cdi.h"

static const char *const known_versions[] = {"0.3.0", "0.4.0", "0.5.0", "0.6.0",
					     "0.7.0", "0.8.0", "1.0.0", "1.1.0"};

static const char *const hook_names[] = {"prestart",	   "createRuntime", "createContainer",
					 "startContainer", "poststart",	    "poststop"};

int nvb_cdi_version_cmp(const char *a, const char *b)
{
	unsigned am = 0, an = 0, ap = 0, bm = 0, bn = 0, bp = 0;
	sscanf(a, "%u.%u.%u", &am, &an, &ap);
	sscanf(b, "%u.%u.%u", &bm, &bn, &bp);
	if (am != bm)
		return am < bm ? -1 : 1;
	if (an != bn)
		return an < bn ? -1 : 1;
	if (ap != bp)
		return ap < bp ? -1 : 1;
	return 0;
}

static bool is_alnum(char c)
{
	return isalnum((unsigned char)c);
}

/* vendor and class: ^[A-Za-z]([A-Za-z0-9_.-]*[A-Za-z0-9])?$, two characters at least. */
static bool valid_name_part(const char *s, size_t len, bool allow_dot)
{
	if (len < 2 || !isalpha((unsigned char)s[0]) || !is_alnum(s[len - 1]))
		return false;
	for (size_t i = 1; i < len; i++) {
		char c = s[i];
		if (!is_alnum(c) && c != '_' && c != '-' && !(c == '.' && allow_dot))
			return false;
	}
	return true;
}

bool nvb_cdi_valid_kind(const char *kind, bool allow_dot_class)
{
	const char *slash = strchr(kind, '/');
	if (!slash)
		return false;
	return valid_name_part(kind, (size_t)(slash - kind), true) &&
	       valid_name_part(slash + 1, strlen(slash + 1), allow_dot_class);
}

/* ^[A-Za-z0-9]([A-Za-z0-9_.:-]*[A-Za-z0-9])?$ */
bool nvb_cdi_valid_device_name(const char *name)
{
	size_t len = strlen(name);
	if (len == 0 || !is_alnum(name[0]) || !is_alnum(name[len - 1]))
		return false;
	for (size_t i = 1; i < len; i++)
		if (!is_alnum(name[i]) && !strchr("_.:-", name[i]))
			return false;
	return true;
}

int nvb_cdi_parse_qualified(const char *qualified, char *buf, size_t cap, const char **kind,
			    const char **name)
{
	if (strlen(qualified) >= cap)
		return -1;
	strcpy(buf, qualified);
	char *eq = strchr(buf, '=');
	if (!eq || !strchr(buf, '/') || strchr(buf, '/') > eq)
		return -1;
	*eq = '\0';
	*kind = buf;
	*name = eq + 1;
	if (!nvb_cdi_valid_kind(*kind, true) || !nvb_cdi_valid_device_name(*name))
		return -1;
	return 0;
}

static const char *max_version(const char *a, const char *b)
{
	return nvb_cdi_version_cmp(a, b) >= 0 ? a : b;
}

static const char *edits_min_version(const struct nvb_cdi_edits *e)
{
	const char *v = "0.3.0";
	for (size_t i = 0; i < e->n_nodes; i++)
		if (e->nodes[i].host_path)
			v = max_version(v, "0.5.0");
	for (size_t i = 0; i < e->n_mounts; i++)
		if (e->mounts[i].type)
			v = max_version(v, "0.4.0");
	if (e->n_additional_gids || e->intel_rdt)
		v = max_version(v, "0.7.0");
	if (e->net_devices)
		v = max_version(v, "1.1.0");
	return v;
}

const char *nvb_cdi_min_version(const struct nvb_cdi_spec *spec)
{
	const char *v = edits_min_version(&spec->edits);
	const char *slash = spec->kind ? strchr(spec->kind, '/') : NULL;
	if (spec->n_annotations || (slash && strchr(slash, '.')))
		v = max_version(v, "0.6.0");
	for (size_t i = 0; i < spec->n_devices; i++) {
		const struct nvb_cdi_device *d = &spec->devices[i];
		v = max_version(v, edits_min_version(&d->edits));
		if (d->n_annotations)
			v = max_version(v, "0.6.0");
		if (d->name && isdigit((unsigned char)d->name[0]))
			v = max_version(v, "0.5.0");
	}
	return v;
}

struct vctx {
	const struct nvb_cdi_spec *spec;
	nvb_cdi_report_fn report;
	void *ctx;
	struct nvb_error *err;
	int count;
	const char *where; /* "device \"0\"" or "top-level" */
};

static void problem(struct vctx *v, const char *field, const char *fmt, ...) NVB_PRINTF(3, 4);
static void problem(struct vctx *v, const char *field, const char *fmt, ...)
{
	char detail[512], msg[900];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	snprintf(msg, sizeof(msg), "%s: %s%s%s: %s", v->spec->origin, v->where, v->where[0] ? ": " : "",
		 field, detail);
	if (v->count++ == 0)
		nvb_error_set(v->err, NVB_ERR_INVALID, 0,
			      "fix the spec, or regenerate it with 'nvbind cdi generate'", "%s", msg);
	if (v->report)
		v->report(v->ctx, msg);
}

static void check_env(struct vctx *v, const char *field, char **env, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *eq = strchr(env[i], '=');
		if (!eq || eq == env[i])
			problem(v, field, "entry %zu \"%s\" is not NAME=VALUE", i, env[i]);
	}
}

static void check_edits(struct vctx *v, const struct nvb_cdi_edits *e)
{
	check_env(v, "containerEdits.env", e->env, e->n_env);
	for (size_t i = 0; i < e->n_nodes; i++) {
		const struct nvb_cdi_device_node *n = &e->nodes[i];
		char field[64];
		snprintf(field, sizeof(field), "containerEdits.deviceNodes[%zu]", i);
		if (!n->path || !n->path[0])
			problem(v, field, "path is empty");
		else if (n->path[0] != '/')
			problem(v, field, "path \"%s\" is not absolute", n->path);
		if (n->host_path && !n->host_path[0])
			problem(v, field, "hostPath is empty");
		if (n->type && strcmp(n->type, "c") && strcmp(n->type, "b") && strcmp(n->type, "u") &&
		    strcmp(n->type, "p"))
			problem(v, field, "type \"%s\" is not one of b, c, u, p", n->type);
		if (n->type && strcmp(n->type, "p") && n->major == NVB_CDI_UNSET &&
		    n->minor != NVB_CDI_UNSET)
			problem(v, field, "minor given without major");
		if (n->permissions && (!n->permissions[0] ||
				       strspn(n->permissions, "rwm") != strlen(n->permissions)))
			problem(v, field, "permissions \"%s\" must be made of r, w, m", n->permissions);
	}
	for (size_t i = 0; i < e->n_mounts; i++) {
		const struct nvb_cdi_mount *m = &e->mounts[i];
		char field[64];
		snprintf(field, sizeof(field), "containerEdits.mounts[%zu]", i);
		if (!m->host_path || !m->host_path[0])
			problem(v, field, "hostPath is empty");
		if (!m->container_path || !m->container_path[0])
			problem(v, field, "containerPath is empty");
	}
	for (size_t i = 0; i < e->n_hooks; i++) {
		const struct nvb_cdi_hook *h = &e->hooks[i];
		char field[64];
		snprintf(field, sizeof(field), "containerEdits.hooks[%zu]", i);
		bool known = false;
		for (size_t k = 0; h->hook_name && k < NVB_ARRAY_SIZE(hook_names); k++)
			known = known || strcmp(h->hook_name, hook_names[k]) == 0;
		if (!known)
			problem(v, field,
				"hookName \"%s\" is not one of prestart, createRuntime, createContainer, "
				"startContainer, poststart, poststop",
				h->hook_name ? h->hook_name : "");
		if (!h->path || !h->path[0])
			problem(v, field, "path is empty");
		snprintf(field, sizeof(field), "containerEdits.hooks[%zu].env", i);
		check_env(v, field, h->env, h->n_env);
	}
}

struct name_ref {
	const char *name;
	size_t index;
};

static int name_ref_cmp(const void *a, const void *b)
{
	const struct name_ref *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	if (c)
		return c;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* first[i]: the index of the first device named like device i when that is an earlier one,
 * else i. Sorting, not pairwise comparison: specs with tens of thousands of devices are
 * validated on the container start path. NULL when out of memory. */
static size_t *first_of_names(const struct nvb_cdi_spec *spec)
{
	size_t n = spec->n_devices;
	size_t *first = malloc((n ? n : 1) * sizeof(*first));
	struct name_ref *refs = malloc((n ? n : 1) * sizeof(*refs));
	if (!first || !refs) {
		free(first);
		free(refs);
		return NULL;
	}
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		first[i] = i;
		if (spec->devices[i].name)
			refs[m++] = (struct name_ref){spec->devices[i].name, i};
	}
	qsort(refs, m, sizeof(*refs), name_ref_cmp);
	for (size_t k = 1; k < m; k++)
		if (!strcmp(refs[k].name, refs[k - 1].name))
			first[refs[k].index] = first[refs[k - 1].index];
	free(refs);
	return first;
}

/* Hooks without env: a runtime runs them with the container's environment (an image's
 * LD_PRELOAD as root on the host, CVE-2025-23266). nvbind's apply gives them a PATH-only env,
 * other tools may not. A warning (nvb_warn), not a problem: specs of older NVIDIA toolkits
 * have such hooks and stay usable. */
static void warn_hooks_without_env(const struct vctx *v, const struct nvb_cdi_edits *e)
{
	for (size_t i = 0; i < e->n_hooks; i++)
		if (!e->hooks[i].n_env)
			nvb_warn("cdi",
				 "%s: %s%scontainerEdits.hooks[%zu]: hook %s has no env: runtimes "
				 "other than nvbind's run it with the container's environment "
				 "(regenerate the spec with 'nvbind cdi generate')",
				 v->spec->origin, v->where, v->where[0] ? ": " : "", i,
				 e->hooks[i].path ? e->hooks[i].path : "");
}

int nvb_cdi_validate(const struct nvb_cdi_spec *spec, nvb_cdi_report_fn report, void *ctx,
		     struct nvb_error *err)
{
	struct vctx v = {.spec = spec, .report = report, .ctx = ctx, .err = err, .where = ""};
	bool known = false;
	for (size_t i = 0; spec->cdi_version && i < NVB_ARRAY_SIZE(known_versions); i++)
		known = known || strcmp(spec->cdi_version, known_versions[i]) == 0;
	if (!known)
		problem(&v, "cdiVersion", "\"%s\" is not a known CDI version (0.3.0 ... 1.1.0)",
			spec->cdi_version ? spec->cdi_version : "");
	const char *need = nvb_cdi_min_version(spec);
	if (known && nvb_cdi_version_cmp(spec->cdi_version, need) < 0)
		problem(&v, "cdiVersion",
			"\"%s\" is too old for what the spec uses: it needs at least \"%s\"",
			spec->cdi_version, need);
	bool dot_ok = known && nvb_cdi_version_cmp(spec->cdi_version, "0.6.0") >= 0;
	if (!spec->kind || !nvb_cdi_valid_kind(spec->kind, true))
		problem(&v, "kind",
			"\"%s\" is not vendor/class (letters, digits, '_', '-', '.'; 2 characters at "
			"least; starting with a letter)",
			spec->kind ? spec->kind : "");
	else if (!dot_ok && strchr(strchr(spec->kind, '/'), '.'))
		problem(&v, "kind", "a '.' in the class \"%s\" needs cdiVersion 0.6.0", spec->kind);
	if (spec->n_devices == 0)
		problem(&v, "devices", "the spec defines no device");
	check_edits(&v, &spec->edits);
	_cleanup_free_ size_t *first = first_of_names(spec);
	if (!first)
		problem(&v, "devices", "out of memory checking device names");
	for (size_t i = 0; i < spec->n_devices; i++) {
		const struct nvb_cdi_device *d = &spec->devices[i];
		char where[300];
		snprintf(where, sizeof(where), "device \"%s\"", d->name ? d->name : "");
		v.where = where;
		if (!d->name || !nvb_cdi_valid_device_name(d->name))
			problem(&v, "name",
				"\"%s\" is not a valid device name (letters, digits, '_', '.', ':', '-'; "
				"starting and ending with a letter or digit)",
				d->name ? d->name : "");
		if (first && first[i] != i)
			problem(&v, "name", "duplicate device name (also devices[%zu])", first[i]);
		if (nvb_cdi_edits_empty(&d->edits))
			problem(&v, "containerEdits", "the device has no edits");
		check_edits(&v, &d->edits);
		warn_hooks_without_env(&v, &d->edits);
	}
	v.where = "";
	warn_hooks_without_env(&v, &spec->edits);
	return v.count;
}
