/* SPDX-License-Identifier: Apache-2.0 */
/* nvbind migrate: the report of what the toolkit left behind: its items, daemon.json
 * (through engines/inspect.c), foreign CDI specs, the text for people and the nvbind
 * configuration snippet (migrate.h). */
#include "cdi/cdi.h"
#include "engines/inspect.h"
#include "migrate/internal.h"

/* configuration files */

void nvb_migrate_report_free(struct nvb_migrate_report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_items; i++) {
		struct nvb_migrate_item *it = &r->items[i];
		free(it->origin);
		free(it->setting);
		free(it->value);
		free(it->nvbind_key);
		free(it->nvbind_value);
		free(it->note);
	}
	free(r->items);
	free(r->nvidia_runtime);
	free(r->default_runtime);
	free(r->nvbind_runtime);
	memset(r, 0, sizeof(*r));
}

const struct nvb_migrate_item *nvb_migrate_find(const struct nvb_migrate_report *r, const char *setting)
{
	for (size_t i = 0; i < r->n_items; i++)
		if (!strcmp(r->items[i].setting, setting))
			return &r->items[i];
	return NULL;
}

struct nvb_migrate_item *nvb_migrate_add_item(struct nvb_migrate_report *r, const char *origin, int line,
					 const char *setting, char *value /* taken */)
{
	struct nvb_migrate_item *it = nvb_array_push(&r->items, &r->n_items, sizeof(*it));
	if (!it) {
		free(value);
		return NULL;
	}
	it->origin = strdup(origin);
	it->setting = strdup(setting);
	it->value = value;
	it->line = line;
	if (!it->origin || !it->setting || !it->value)
		return NULL;
	return it;
}

int nvb_migrate_set_note(struct nvb_migrate_item *it, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = NULL;
	int n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	free(it->note);
	it->note = s;
	return 0;
}

static bool runtime_is_nvidia(const struct nvb_daemon_runtime *rt)
{
	const char *base = rt->path ? strrchr(rt->path, '/') : NULL;
	base = base ? base + 1 : rt->path;
	return nvb_str_has_prefix(rt->name, "nvidia") ||
	       (base && nvb_str_has_prefix(base, "nvidia-container-runtime"));
}

/* An item for a member of daemon.json (its JSON text as written) with a note. */
static struct nvb_migrate_item *json_item(struct nvb_migrate_report *r, const char *origin,
					  const char *setting, const json_t *v, const char *note)
{
	char *text = v ? nvb_daemon_json_text(v) : strdup("(none)");
	struct nvb_migrate_item *it = nvb_migrate_add_item(r, origin, 0, setting, text);
	if (it && note && nvb_migrate_set_note(it, "%s", note) < 0)
		return NULL;
	return it;
}

static int runtime_items(struct nvb_migrate_report *r, const struct nvb_daemon_runtime *rt,
			 const char *origin)
{
	json_t *pv = json_object_get(rt->entry, "path");
	_cleanup_free_ char *setting = nvb_asprintf("runtimes.%s.path", rt->name);
	if (!setting)
		return -1;
	if (!strcmp(rt->name, "nvbind")) {
		if (rt->path && !(r->nvbind_runtime = strdup(rt->path)))
			return -1;
		return json_item(r, origin, setting, pv, "nvbind is registered already") ? 0 : -1;
	}
	if (!runtime_is_nvidia(rt))
		return 0;
	if (!strcmp(rt->name, "nvidia") && rt->path && !(r->nvidia_runtime = strdup(rt->path)))
		return -1;
	if (!json_item(r, origin, setting, pv,
		       "the NVIDIA Container Toolkit's runtime: kept; nvbind-runtime is registered "
		       "beside it as \"nvbind\" (docker run --runtime nvbind)"))
		return -1;
	json_t *args = json_object_get(rt->entry, "runtimeArgs");
	if (!args)
		return 0;
	_cleanup_free_ char *args_setting = nvb_asprintf("runtimes.%s.runtimeArgs", rt->name);
	return args_setting && json_item(r, origin, args_setting, args,
					 "not carried over: nvbind-runtime takes runc's arguments only")
		       ? 0
		       : -1;
}

static const char *default_runtime_note(const char *d)
{
	if (d && !strcmp(d, "nvidia"))
		return "containers started without --runtime use NVIDIA's runtime; it stays so: "
		       "`nvbind setup docker --default` makes nvbind the default";
	if (d && !strcmp(d, "nvbind"))
		return "nvbind is the default runtime already";
	return NULL;
}

static int member_items(struct nvb_migrate_report *r, const struct nvb_daemon_json *d,
			const char *origin)
{
	static const char *const def_key[] = {"default-runtime"}, *const exec_key[] = {"exec-opts"},
				 *const cdi_key[] = {"features", "cdi"},
				 *const res_key[] = {"node-generic-resources"};
	json_t *def = nvb_daemon_json_get(d, def_key, 1);
	if (def) {
		if (d->default_runtime && !(r->default_runtime = strdup(d->default_runtime)))
			return -1;
		if (!json_item(r, origin, "default-runtime", def, default_runtime_note(d->default_runtime)))
			return -1;
	}
	json_t *v = nvb_daemon_json_get(d, exec_key, 1);
	if (v && !json_item(r, origin, "exec-opts", v,
			    "kept as it is: dockerd's own settings (cgroup driver), nvbind needs nothing there"))
		return -1;
	v = nvb_daemon_json_get(d, cdi_key, 2);
	if (v && !json_item(r, origin, "features.cdi", v,
			    d->cdi == 1 ? "Docker's CDI support is on (Docker 25+): after `nvbind cdi generate`, "
					  "docker run --device nvidia.com/gpu=0 works without any runtime"
					: "Docker's CDI support is off: use --runtime nvbind"))
		return -1;
	v = nvb_daemon_json_get(d, res_key, 1);
	if (v && !json_item(r, origin, "node-generic-resources", v,
			    "Swarm GPU resources: nvbind-runtime does not read Swarm's DOCKER_RESOURCE_* "
			    "variables (no equivalent of swarm-resource)"))
		return -1;
	return 0;
}

int nvb_migrate_inspect_docker(struct nvb_migrate_report *r, const char *text, const char *origin,
			       struct nvb_error *err)
{
	struct nvb_daemon_json d;
	int rc = nvb_daemon_json_inspect(text, origin, &d, err);
	if (rc == 0 && !d.empty) {
		for (size_t i = 0; rc == 0 && i < d.n_runtimes; i++)
			rc = runtime_items(r, &d.runtimes[i], origin);
		if (rc == 0)
			rc = member_items(r, &d, origin);
		if (rc < 0)
			nvb_error_nomem(err);
	}
	nvb_daemon_json_free(&d);
	return rc;
}

/* ---- the toolkit's config.toml ---- */
static const char *base_of(const char *p)
{
	return p ? nvb_basename(p) : "";
}

/* who wrote a spec, from the program its hooks run: "nvbind", "nvidia-ctk", or NULL */
static const char *spec_writer(const struct nvb_cdi_edits *e)
{
	for (size_t i = 0; i < e->n_hooks; i++) {
		const struct nvb_cdi_hook *h = &e->hooks[i];
		const char *prog = h->n_args ? base_of(h->args[0]) : base_of(h->path);
		if (!strcmp(prog, "nvbind") || !strcmp(base_of(h->path), "nvbind") ||
		    !strcmp(prog, "nvbind-hook") || !strcmp(base_of(h->path), "nvbind-hook"))
			return "nvbind";
		if (!strcmp(prog, "nvidia-ctk") || !strcmp(prog, "nvidia-cdi-hook") ||
		    !strcmp(base_of(h->path), "nvidia-ctk") || !strcmp(base_of(h->path), "nvidia-cdi-hook"))
			return "nvidia-ctk";
	}
	return NULL;
}

int nvb_migrate_foreign_specs(const struct nvb_cdi_registry *reg, const char *kind, struct nvb_strv *out)
{
	for (size_t i = 0; i < reg->n_specs; i++) {
		const struct nvb_cdi_spec *spec = reg->specs[i];
		if (!spec->kind || strcmp(spec->kind, kind))
			continue;
		const char *who = spec_writer(&spec->edits);
		for (size_t d = 0; !who && d < spec->n_devices; d++)
			who = spec_writer(&spec->devices[d].edits);
		if (who && !strcmp(who, "nvbind"))
			continue;
		if ((who ? nvb_strv_pushf(out, "%s (written by %s)", spec->origin, who)
			 : nvb_strv_push(out, spec->origin)) < 0)
			return -1;
	}
	return 0;
}

char *nvb_migrate_report_format(const struct nvb_migrate_report *r)
{
	struct nvb_strbuf b = {0};
	const char *origin = NULL;
	for (size_t i = 0; i < r->n_items; i++) {
		const struct nvb_migrate_item *it = &r->items[i];
		if (!origin || strcmp(origin, it->origin)) {
			origin = it->origin;
			nvb_strbuf_appendf(&b, "%s:\n", origin);
		}
		if (it->line > 0)
			nvb_strbuf_appendf(&b, "  %s = %s  (line %d)\n", it->setting, it->value, it->line);
		else
			nvb_strbuf_appendf(&b, "  %s = %s\n", it->setting, it->value);
		if (it->nvbind_key)
			nvb_strbuf_appendf(&b, "      -> %s = %s%s\n", it->nvbind_key, it->nvbind_value,
				it->differs ? "" : "  (nvbind's default already)");
		if (it->note)
			nvb_strbuf_appendf(&b, "      %s%s\n", it->nvbind_key ? "" : "-> ", it->note);
	}
	return nvb_strbuf_take(&b);
}

char *nvb_migrate_config_snippet(const struct nvb_migrate_report *r)
{
	static const char *const tables[] = {"host", "runtime", "gpu", "cdi", "security", "log"};
	struct nvb_strbuf b = {0};
	nvb_strbuf_appendf(&b, "%s", "");
	for (size_t t = 0; t < NVB_ARRAY_SIZE(tables); t++) {
		bool header = false;
		size_t tlen = strlen(tables[t]);
		for (size_t i = 0; i < r->n_items; i++) {
			const struct nvb_migrate_item *it = &r->items[i];
			if (!it->nvbind_key || !it->differs || strncmp(it->nvbind_key, tables[t], tlen) ||
			    it->nvbind_key[tlen] != '.')
				continue;
			if (!header)
				nvb_strbuf_appendf(&b, "%s[%s]\n", b.len ? "\n" : "", tables[t]);
			header = true;
			nvb_strbuf_appendf(&b, "%s = %s  # %s\n", it->nvbind_key + tlen + 1, it->nvbind_value, it->setting);
		}
	}
	return nvb_strbuf_take(&b);
}
