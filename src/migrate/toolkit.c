/* SPDX-License-Identifier: Apache-2.0 */
/* nvbind migrate: nvidia-container-runtime's config.toml, each setting with its nvbind
 * configuration key (migrate.h). */
#include <inttypes.h>
#include <math.h>
#include <strings.h>

#include "cdi/cdi.h"
#include "config/config.h"
#include "format/toml.h"
#include "migrate/internal.h"

/* TOML text of a string value */
/* A TOML float that stays a float: 1.0, not 1 (an integer to a TOML reader); the shortest
 * digits that read back as the same double; inf and nan as TOML writes them. */
static void toml_float(struct nvb_strbuf *b, double f)
{
	if (isnan(f)) {
		nvb_strbuf_append(b, "nan");
		return;
	}
	if (isinf(f)) {
		nvb_strbuf_append(b, f < 0 ? "-inf" : "inf");
		return;
	}
	char text[64];
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(text, sizeof(text), "%.*g", prec, f);
		if (strtod(text, NULL) == f)
			break;
	}
	nvb_strbuf_append(b, text);
	if (!strpbrk(text, ".e"))
		nvb_strbuf_append(b, ".0");
}

static void toml_value(struct nvb_strbuf *b, const struct nvb_toml_value *v)
{
	switch (v->type) {
	case NVB_TOML_STRING: nvb_toml_quote_append(b, v->v.s); break;
	case NVB_TOML_INTEGER: nvb_strbuf_appendf(b, "%" PRId64, v->v.i); break;
	case NVB_TOML_FLOAT: toml_float(b, v->v.f); break;
	case NVB_TOML_BOOL: nvb_strbuf_appendf(b, "%s", v->v.b ? "true" : "false"); break;
	case NVB_TOML_DATETIME: nvb_strbuf_appendf(b, "%s", v->v.s); break;
	case NVB_TOML_ARRAY:
		nvb_strbuf_appendf(b, "[");
		for (size_t i = 0; i < v->n; i++) {
			nvb_strbuf_appendf(b, "%s", i ? ", " : "");
			toml_value(b, v->items[i]);
		}
		nvb_strbuf_appendf(b, "]");
		break;
	case NVB_TOML_TABLE:
		nvb_strbuf_appendf(b, "{");
		for (size_t i = 0; i < v->n; i++) {
			/* a key with a dot, a space or a quote must be quoted to stay one key */
			nvb_strbuf_append(b, i ? ", " : " ");
			nvb_toml_key_append(b, v->keys[i]);
			nvb_strbuf_append(b, " = ");
			toml_value(b, v->items[i]);
		}
		nvb_strbuf_appendf(b, "%s}", v->n ? " " : "");
		break;
	}
}

static char *toml_text(const struct nvb_toml_value *v)
{
	struct nvb_strbuf b = {0};
	toml_value(&b, v);
	return nvb_strbuf_take(&b);
}

static char *toml_quoted(const char *s)
{
	return nvb_toml_quote(s);
}

static char *toml_list(char *const *v, size_t n)
{
	struct nvb_strbuf b = {0};
	nvb_strbuf_appendf(&b, "[");
	for (size_t i = 0; i < n; i++) {
		nvb_strbuf_appendf(&b, "%s", i ? ", " : "");
		nvb_toml_quote_append(&b, v[i]);
	}
	nvb_strbuf_appendf(&b, "]");
	return nvb_strbuf_take(&b);
}

struct toolkit_ctx {
	struct nvb_migrate_report *r;
	const char *origin;
	const struct nvb_config *defs;
};

/* nvbind's default for a key, as TOML */
static char *default_text(const struct nvb_config *d, const char *key)
{
	if (!strcmp(key, "security.env_requests_unprivileged"))
		return strdup(d->env_when_unprivileged ? "true" : "false");
	if (!strcmp(key, "host.root"))
		return toml_quoted(d->root);
	if (!strcmp(key, "host.spec_dirs"))
		return toml_list(d->spec_dirs, d->n_spec_dirs);
	if (!strcmp(key, "runtime.log_file"))
		return toml_quoted(d->runtime_log_file);
	if (!strcmp(key, "runtime.log_level"))
		return toml_quoted(d->runtime_log_level);
	if (!strcmp(key, "runtime.low_level"))
		return toml_quoted(d->low_level);
	if (!strcmp(key, "cdi.kind"))
		return toml_quoted(d->cdi_kind);
	return NULL;
}

static int map_to(struct toolkit_ctx *c, struct nvb_migrate_item *it, const char *key, char *value /* taken */)
{
	if (!value)
		return -1;
	it->nvbind_key = strdup(key);
	it->nvbind_value = value;
	if (!it->nvbind_key)
		return -1;
	_cleanup_free_ char *def = default_text(c->defs, key);
	it->differs = !def || strcmp(def, value) != 0;
	return 0;
}

static bool string_list(const struct nvb_toml_value *v)
{
	if (v->type != NVB_TOML_ARRAY)
		return false;
	for (size_t i = 0; i < v->n; i++)
		if (v->items[i]->type != NVB_TOML_STRING || strlen(v->items[i]->v.s) != v->items[i]->len)
			return false;
	return true;
}

static const char *str(const struct nvb_toml_value *v)
{
	return v->type == NVB_TOML_STRING && strlen(v->v.s) == v->len ? v->v.s : NULL;
}

static const char *log_level(const char *l)
{
	static const char *const map[][2] = {
		{"panic", "error"}, {"fatal", "error"}, {"error", "error"}, {"warning", "warn"},
		{"warn", "warn"},   {"info", "info"},   {"debug", "debug"}, {"trace", "trace"},
	};
	for (size_t i = 0; i < NVB_ARRAY_SIZE(map); i++)
		if (!strcasecmp(l, map[i][0]))
			return map[i][1];
	return NULL;
}

#define NO_EQUIV(...) nvb_migrate_set_note(it, __VA_ARGS__)

static int map_toolkit(struct toolkit_ctx *c, struct nvb_migrate_item *it, const char *s,
		       const struct nvb_toml_value *v)
{
	const char *sv = str(v);
	if (!strcmp(s, "accept-nvidia-visible-devices-envvar-when-unprivileged")) {
		if (v->type != NVB_TOML_BOOL)
			return NO_EQUIV("not a boolean: the toolkit refuses it too");
		return map_to(c, it, "security.env_requests_unprivileged", strdup(v->v.b ? "true" : "false"));
	}
	if (!strcmp(s, "accept-nvidia-visible-devices-as-volume-mounts"))
		return NO_EQUIV("no equivalent: nvbind-runtime does not read device requests from mounts "
				"under /var/run/nvidia-container-devices; it reads NVIDIA_VISIBLE_DEVICES "
				"and cdi.k8s.io/* annotations");
	if (!strcmp(s, "swarm-resource"))
		return NO_EQUIV("no equivalent: nvbind-runtime does not read Swarm's DOCKER_RESOURCE_* "
				"variables");
	if (!strcmp(s, "disable-require"))
		return NO_EQUIV("no configuration key: nvbind-runtime checks NVIDIA_REQUIRE_* unless the "
				"container sets NVIDIA_DISABLE_REQUIRE=true");
	if (!strcmp(s, "supported-driver-capabilities"))
		return NO_EQUIV("no configuration key: `nvbind cdi generate --driver-capabilities LIST` "
				"limits the spec's driver files to those capabilities");
	if (!strcmp(s, "nvidia-container-cli.root")) {
		if (!sv || sv[0] != '/')
			return NO_EQUIV("not an absolute path: no equivalent");
		if (map_to(c, it, "host.root", toml_quoted(sv)) < 0)
			return -1;
		return strcmp(sv, "/") ? nvb_migrate_set_note(it, "nvbind also looks up /proc, /sys and /dev inside "
						      "host.root, not only the driver files: check "
						      "`nvbind --root %s info` before setting it", sv)
				       : 0;
	}
	if (!strcmp(s, "nvidia-container-cli.ldconfig")) {
		if (sv && sv[0] == '@')
			return NO_EQUIV("no setting: nvbind runs no ldconfig at all (neither the host's nor "
					"the image's): it writes the container's loader cache itself");
		return NO_EQUIV("no setting: this runs the container's ldconfig; nvbind never does "
				"(CVE-2024-0135..0137): it writes the container's loader cache itself");
	}
	if (!strcmp(s, "nvidia-container-cli.load-kmods"))
		return NO_EQUIV("no equivalent: nvbind loads no kernel module; load nvidia and nvidia_uvm "
				"at boot");
	if (!strcmp(s, "nvidia-container-cli.ldcache"))
		return NO_EQUIV("no equivalent: nvbind reads /etc/ld.so.cache inside host.root");
	if (!strcmp(s, "nvidia-container-cli.no-cgroups"))
		return NO_EQUIV("no equivalent: the device cgroup rules come with the CDI edits, applied "
				"by runc");
	if (nvb_str_has_prefix(s, "nvidia-container-cli."))
		return NO_EQUIV("no equivalent: nvbind has no nvidia-container-cli");
	if (!strcmp(s, "nvidia-container-runtime.debug")) {
		if (!sv || sv[0] != '/')
			return NO_EQUIV("not an absolute path: no equivalent");
		return map_to(c, it, "runtime.log_file", toml_quoted(sv));
	}
	if (!strcmp(s, "nvidia-container-runtime.log-level")) {
		const char *l = sv ? log_level(sv) : NULL;
		if (!l)
			return NO_EQUIV("not a log level nvbind knows (error, warn, info, debug, trace)");
		return map_to(c, it, "runtime.log_level", toml_quoted(l));
	}
	if (!strcmp(s, "nvidia-container-runtime.runtimes")) {
		if (string_list(v) && v->n && v->items[0]->v.s[0] == '/')
			return map_to(c, it, "runtime.low_level", toml_quoted(v->items[0]->v.s));
		if (string_list(v) && v->n && !strcmp(v->items[0]->v.s, "crun"))
			return NO_EQUIV("runtime.low_level (an absolute path) picks the low-level runtime; "
					"by default nvbind-runtime runs the first runc, then crun, on PATH: set "
					"it to crun's path to prefer crun");
		return NO_EQUIV("nothing to set: nvbind-runtime runs the first runc, then crun, on PATH "
				"(runtime.low_level takes an absolute path)");
	}
	if (!strcmp(s, "nvidia-container-runtime.mode")) {
		if (sv && !strcmp(sv, "csv"))
			return NO_EQUIV("no equivalent: Tegra's CSV mode is not supported by nvbind");
		return NO_EQUIV("no setting: nvbind-runtime always applies CDI edits (what mode = \"cdi\" "
				"does); there is no legacy mode");
	}
	if (!strcmp(s, "nvidia-container-runtime.modes.cdi.default-kind")) {
		if (!sv || !nvb_cdi_valid_kind(sv, true))
			return NO_EQUIV("not a valid CDI kind: no equivalent");
		return map_to(c, it, "cdi.kind", toml_quoted(sv));
	}
	if (!strcmp(s, "nvidia-container-runtime.modes.cdi.spec-dirs")) {
		if (!string_list(v) || !v->n)
			return NO_EQUIV("not a list of directories: no equivalent");
		for (size_t i = 0; i < v->n; i++)
			if (v->items[i]->v.s[0] != '/')
				return NO_EQUIV("nvbind takes absolute directories only");
		char **dirs = calloc(v->n, sizeof(char *));
		if (!dirs)
			return -1;
		for (size_t i = 0; i < v->n; i++)
			dirs[i] = v->items[i]->v.s;
		char *t = toml_list(dirs, v->n);
		free(dirs);
		return map_to(c, it, "host.spec_dirs", t);
	}
	if (!strcmp(s, "nvidia-container-runtime.modes.cdi.annotation-prefixes"))
		return NO_EQUIV("no setting: nvbind-runtime reads the cdi.k8s.io/ annotations");
	if (nvb_str_has_prefix(s, "nvidia-container-runtime.modes.csv."))
		return NO_EQUIV("no equivalent: Tegra's CSV mode is not supported by nvbind");
	if (nvb_str_has_prefix(s, "nvidia-container-runtime.modes.legacy."))
		return NO_EQUIV("no equivalent: nvbind has no legacy mode");
	if (!strcmp(s, "nvidia-container-runtime-hook.path"))
		return NO_EQUIV("no setting: nvbind installs nvidia-container-runtime-hook as a link to "
				"nvbind-runtime (dockerd wants that name for --gpus)");
	if (nvb_str_has_prefix(s, "nvidia-container-runtime-hook."))
		return NO_EQUIV("no equivalent: nvbind-runtime replaces the hook");
	if (!strcmp(s, "nvidia-ctk.path"))
		return NO_EQUIV("no equivalent value: the spec's hooks run nvbind, not nvidia-ctk "
				"(cdi.hook_path names the nvbind executable)");
	if (nvb_str_has_prefix(s, "features."))
		return NO_EQUIV("no equivalent: a toolkit feature flag");
	return NO_EQUIV("no equivalent in nvbind");
}

static int walk_toolkit(struct toolkit_ctx *c, const struct nvb_toml_value *t, const char *prefix)
{
	for (size_t i = 0; i < t->n; i++) {
		const struct nvb_toml_value *v = t->items[i];
		_cleanup_free_ char *path = prefix ? nvb_asprintf("%s.%s", prefix, t->keys[i]) : strdup(t->keys[i]);
		if (!path)
			return -1;
		if (v->type == NVB_TOML_TABLE && !v->defined_inline) {
			if (walk_toolkit(c, v, path) < 0)
				return -1;
			continue;
		}
		struct nvb_migrate_item *it =
			nvb_migrate_add_item(c->r, c->origin, t->key_lines ? t->key_lines[i] : v->line, path, toml_text(v));
		if (!it || map_toolkit(c, it, path, v) < 0)
			return -1;
	}
	return 0;
}

int nvb_migrate_inspect_toolkit(struct nvb_migrate_report *r, const char *text, size_t len,
				const char *origin, struct nvb_error *err)
{
	struct nvb_toml_value *root = nvb_toml_parse(text, len, origin, err);
	if (!root)
		return -1;
	struct nvb_config *defs = nvb_config_defaults(err);
	if (!defs) {
		nvb_toml_free(root);
		return -1;
	}
	struct toolkit_ctx c = {.r = r, .origin = origin, .defs = defs};
	int rc = walk_toolkit(&c, root, NULL);
	if (rc < 0)
		nvb_error_nomem(err);
	else
		r->toolkit_config = true;
	nvb_config_free(defs);
	nvb_toml_free(root);
	return rc;
}

