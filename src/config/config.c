/* SPDX-License-Identifier: Apache-2.0 */
/* The configuration schema, its defaults, and loading it from TOML (docs/config.md). */
#include <fcntl.h>
#include <stddef.h>
#include <sys/stat.h>

#include "cdi/cdi.h"
#include "capsule/profiles.h"
#include "config/config.h"
#include "core/strv.h"
#include "format/toml.h"

enum ktype {
	K_STRING,
	K_BOOL,
	K_LIST,   /* array of strings */
	K_JOINED, /* array of strings (or one string), kept joined with commas */
};

typedef int (*kcheck)(const char *value, char *why, size_t cap);

struct key {
	const char *name; /* dotted */
	enum ktype type;
	size_t offset;       /* of the char * / bool / char *[] field */
	size_t count_offset; /* K_LIST: of the size_t count */
	const char *def;     /* default; lists: comma-separated */
	kcheck check;
	const char *doc;
};

static int check_abs(const char *v, char *why, size_t cap)
{
	if (v[0] == '/')
		return 0;
	snprintf(why, cap, "must be an absolute path");
	return -1;
}

static int check_abs_or_empty(const char *v, char *why, size_t cap)
{
	return v[0] ? check_abs(v, why, cap) : 0;
}

static int check_one_of(const char *v, const char *const *allowed, char *why, size_t cap)
{
	for (size_t i = 0; allowed[i]; i++)
		if (!strcmp(v, allowed[i]))
			return 0;
	size_t o = (size_t)snprintf(why, cap, "must be one of");
	for (size_t i = 0; allowed[i] && o < cap; i++)
		o += (size_t)snprintf(why + o, cap - o, "%s \"%s\"", i ? "," : "", allowed[i]);
	return -1;
}

static int check_engine(const char *v, char *why, size_t cap)
{
	static const char *const ok[] = {"podman", "docker", "bolt", NULL};
	return check_one_of(v, ok, why, cap);
}

static int check_format(const char *v, char *why, size_t cap)
{
	static const char *const ok[] = {"json", "yaml", NULL};
	return check_one_of(v, ok, why, cap);
}

static int check_log_format(const char *v, char *why, size_t cap)
{
	static const char *const ok[] = {"text", "json", NULL};
	return check_one_of(v, ok, why, cap);
}

static int check_level(const char *v, char *why, size_t cap)
{
	enum nvb_log_level l;
	if (nvb_log_level_parse(v, &l) == 0)
		return 0;
	snprintf(why, cap, "must be one of \"error\", \"warn\", \"info\", \"debug\", \"trace\"");
	return -1;
}

static int check_caps(const char *v, char *why, size_t cap)
{
	unsigned caps;
	struct nvb_error err;
	if (nvb_caps_parse(v, &caps, &err) == 0)
		return 0;
	snprintf(why, cap, "%s (%s)", err.message, err.hint);
	return -1;
}

static int check_naming(const char *v, char *why, size_t cap)
{
	unsigned naming;
	struct nvb_error err;
	if (nvb_cdi_naming_parse(v, &naming, &err) == 0)
		return 0;
	snprintf(why, cap, "%s (%s)", err.message, err.hint);
	return -1;
}

static int check_kind(const char *v, char *why, size_t cap)
{
	if (nvb_cdi_valid_kind(v, true))
		return 0;
	snprintf(why, cap, "must be vendor/class, e.g. \"nvidia.com/gpu\"");
	return -1;
}

static int check_isolation(const char *v, char *why, size_t cap)
{
	static const char *const ok[] = {"shared", "exclusive", "virtual", NULL};
	return check_one_of(v, ok, why, cap);
}

#define F(field) offsetof(struct nvb_config, field)

static const struct key keys[] = {
	{"host.root", K_STRING, F(root), 0, "/", check_abs,
	 "host root directory: where /proc, /sys, /dev and the driver files are looked up"},
	{"host.spec_dirs", K_LIST, F(spec_dirs), F(n_spec_dirs), "/etc/cdi,/var/run/cdi", check_abs,
	 "CDI spec directories, in priority order (a later one wins)"},
	{"host.docker_config", K_STRING, F(docker_config), 0, "/etc/docker/daemon.json", check_abs,
	 "dockerd's configuration file (nvbind setup/migrate/doctor)"},
	{"host.podman_config", K_STRING, F(podman_config), 0, "/etc/containers/containers.conf",
	 check_abs, "podman's configuration file (nvbind setup/doctor)"},
	{"runtime.engine", K_STRING, F(engine), 0, "podman", check_engine,
	 "engine nvbind run uses: podman, docker or bolt"},
	{"runtime.low_level", K_STRING, F(low_level), 0, "", check_abs_or_empty,
	 "low-level OCI runtime nvbind-runtime execs (empty: the first runc, then crun, on PATH)"},
	{"runtime.log_file", K_STRING, F(runtime_log_file), 0, "/var/log/nvbind-runtime.log",
	 check_abs, "nvbind-runtime's log file (stderr belongs to the engine)"},
	{"runtime.log_level", K_STRING, F(runtime_log_level), 0, "info", check_level,
	 "nvbind-runtime's log level (runc's --debug raises it to debug)"},
	{"engines.docker", K_LIST, F(engine_cmd[0]), F(n_engine_cmd[0]), "docker", NULL,
	 "command that runs docker, with any global options"},
	{"engines.podman", K_LIST, F(engine_cmd[1]), F(n_engine_cmd[1]), "podman", NULL,
	 "command that runs podman, with any global options"},
	{"engines.bolt", K_LIST, F(engine_cmd[2]), F(n_engine_cmd[2]), "bolt", NULL,
	 "command that runs bolt, with any global options"},
	{"gpu.devices", K_STRING, F(devices), 0, "all", NULL,
	 "GPUs nvbind run gives a container: all, none, or a list (0,1 / GPU-... / MIG-...)"},
	{"gpu.capabilities", K_STRING, F(capabilities), 0, "compute,utility", check_caps,
	 "driver capabilities (NVIDIA_DRIVER_CAPABILITIES words) for nvbind run"},
	{"cdi.output", K_STRING, F(cdi_output), 0, "/etc/cdi/nvidia.com-gpu.json", NULL,
	 "where nvbind cdi generate writes (a file, a directory, or -)"},
	{"cdi.format", K_STRING, F(cdi_format), 0, "json", check_format, "json or yaml"},
	{"cdi.naming", K_JOINED, F(cdi_naming), 0, "index,uuid", check_naming,
	 "device name strategies: index, uuid, type-index"},
	{"cdi.hook_path", K_STRING, F(cdi_hook_path), 0, "", check_abs_or_empty,
	 "nvbind executable the spec's hooks run (empty: the nvbind that generates)"},
	{"cdi.kind", K_STRING, F(cdi_kind), 0, "nvidia.com/gpu", check_kind, "CDI kind (vendor/class)"},
	{"cdi.driver_folder", K_BOOL, F(cdi_driver_folder), 0, "true", NULL,
	 "gather the driver's files by hard links into /var/lib/nvbind/driver and mount that "
	 "folder once (false: every file is a mount of its own; docs/cdi.md)"},
	{"security.env_requests_unprivileged", K_BOOL, F(env_when_unprivileged), 0, "true", NULL,
	 "honour NVIDIA_VISIBLE_DEVICES from unprivileged containers (docs/runtime.md)"},
	{"security.allowed_devices", K_LIST, F(allowed_devices), F(n_allowed_devices), "", NULL,
	 "if not empty: the only CDI devices containers may request (nvidia.com/gpu=0, ...)"},
	{"isolation.default", K_STRING, F(isolation_default), 0, "shared", check_isolation,
	 "GPU isolation when the container's nvbind.io/isolation annotation says none: shared, "
	 "exclusive or virtual (docs/isolation.md)"},
	{"isolation.compute_mode", K_BOOL, F(isolation_compute_mode), 0, "false", NULL,
	 "exclusive isolation also sets the GPU's compute mode to EXCLUSIVE_PROCESS (NVML)"},
	{"log.level", K_STRING, F(log_level), 0, "warn", check_level, "nvbind's log level"},
	{"log.format", K_STRING, F(log_format), 0, "text", check_log_format, "text or json"},
	{"log.file", K_STRING, F(log_file), 0, "", check_abs_or_empty, "log file (empty: stderr)"},
};

static const char *const profile_keys[] = {"description", "capabilities", "devices", "env", NULL};

/* Built-in profiles: the library's table (capsule/profiles.c), user profiles added after them. */

/* ---------------------------------------------------------------- storage */

static char **str_at(struct nvb_config *c, const struct key *k)
{
	return (char **)((char *)c + k->offset);
}

static char **list_at(struct nvb_config *c, const struct key *k)
{
	return (char **)((char *)c + k->offset);
}

static size_t *count_at(struct nvb_config *c, const struct key *k)
{
	return (size_t *)((char *)c + k->count_offset);
}

static void list_clear(struct nvb_config *c, const struct key *k)
{
	char **v = list_at(c, k);
	size_t *n = count_at(c, k);
	for (size_t i = 0; i < *n; i++) {
		free(v[i]);
		v[i] = NULL;
	}
	*n = 0;
}

static int list_set_csv(struct nvb_config *c, const struct key *k, const char *csv)
{
	list_clear(c, k);
	_cleanup_free_ char *copy = strdup(csv);
	if (!copy)
		return -1;
	char *save = NULL;
	for (char *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		size_t *n = count_at(c, k);
		if (*n == NVB_CONFIG_MAX_LIST)
			return -1;
		if (!(list_at(c, k)[*n] = strdup(w)))
			return -1;
		(*n)++;
	}
	return 0;
}

static int set_scalar(struct nvb_config *c, const struct key *k, const char *value)
{
	if (k->type == K_BOOL) {
		*(bool *)((char *)c + k->offset) = !strcmp(value, "true");
		return 0;
	}
	if (k->type == K_LIST)
		return list_set_csv(c, k, value);
	char *dup = strdup(value);
	if (!dup)
		return -1;
	free(*str_at(c, k));
	*str_at(c, k) = dup;
	return 0;
}

static void set_source(struct nvb_config *c, size_t idx, const char *fmt, ...) NVB_PRINTF(3, 4);
static void set_source(struct nvb_config *c, size_t idx, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->sources[idx].what, sizeof(c->sources[idx].what), fmt, ap);
	va_end(ap);
}

static int add_builtin_profiles(struct nvb_config *c)
{
	const struct nvb_builtin_profile *builtin_profiles = nvb_builtin_profiles;
	for (size_t i = 0; i < nvb_n_builtin_profiles; i++) {
		struct nvb_profile *p = &c->profiles[c->n_profiles++];
		p->builtin = true;
		snprintf(p->source.what, sizeof(p->source.what), "built-in");
		p->name = strdup(builtin_profiles[i].name);
		p->description = strdup(builtin_profiles[i].description);
		p->capabilities = strdup(builtin_profiles[i].capabilities);
		if (!p->name || !p->description || !p->capabilities)
			return -1;
		for (size_t e = 0; builtin_profiles[i].env[e]; e++)
			if (!(p->env[p->n_env++] = strdup(builtin_profiles[i].env[e])))
				return -1;
	}
	return 0;
}

struct nvb_config *nvb_config_defaults(struct nvb_error *err)
{
	struct nvb_config *c = calloc(1, sizeof(*c));
	if (c)
		c->sources = calloc(NVB_ARRAY_SIZE(keys), sizeof(*c->sources));
	if (!c || !c->sources)
		goto nomem;
	for (size_t i = 0; i < NVB_ARRAY_SIZE(keys); i++) {
		if (set_scalar(c, &keys[i], keys[i].def) < 0)
			goto nomem;
		set_source(c, i, "default");
	}
	if (add_builtin_profiles(c) < 0)
		goto nomem;
	return c;
nomem:
	nvb_config_free(c);
	nvb_error_nomem(err);
	return NULL;
}

static void profile_clear(struct nvb_profile *p)
{
	free(p->name);
	free(p->description);
	free(p->capabilities);
	free(p->devices);
	for (size_t i = 0; i < p->n_env; i++)
		free(p->env[i]);
	memset(p, 0, sizeof(*p));
}

void nvb_config_free(struct nvb_config *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < NVB_ARRAY_SIZE(keys); i++) {
		if (keys[i].type == K_LIST)
			list_clear(c, &keys[i]);
		else if (keys[i].type != K_BOOL)
			free(*str_at(c, &keys[i]));
	}
	for (size_t i = 0; i < c->n_profiles; i++)
		profile_clear(&c->profiles[i]);
	free(c->sources);
	free(c->path);
	free(c->searched_root);
	free(c);
}

/* ----------------------------------------------------------------- reading */

struct rd {
	struct nvb_config *c;
	const char *origin;
	struct nvb_error *err;
};

static int at(struct rd *rd, int line, int col, const char *hint, const char *fmt, ...)
	NVB_PRINTF(5, 6);
static int at(struct rd *rd, int line, int col, const char *hint, const char *fmt, ...)
{
	char msg[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return nvb_error_set(rd->err, NVB_ERR_INVALID, 0, hint, "%s:%d:%d: %s", rd->origin, line,
			     col, msg);
}

static const struct key *find_key(const char *name, size_t *idx)
{
	for (size_t i = 0; i < NVB_ARRAY_SIZE(keys); i++)
		if (!strcmp(keys[i].name, name)) {
			*idx = i;
			return &keys[i];
		}
	return NULL;
}

/* "did you mean": the closest known key (or section), when close enough to be a typo */
static void suggest(const char *name, bool section, char *out, size_t cap)
{
	size_t best = (size_t)-1;
	char best_name[96] = "";
	for (size_t i = 0; i <= NVB_ARRAY_SIZE(keys); i++) {
		char cand[96];
		if (i == NVB_ARRAY_SIZE(keys))
			snprintf(cand, sizeof(cand), "%s", section ? "profiles" : "");
		else if (section)
			snprintf(cand, sizeof(cand), "%.*s", (int)strcspn(keys[i].name, "."), keys[i].name);
		else
			snprintf(cand, sizeof(cand), "%s", keys[i].name);
		size_t d = cand[0] ? nvb_edit_distance(name, cand) : (size_t)-1;
		if (d < best) {
			best = d;
			snprintf(best_name, sizeof(best_name), "%s", cand);
		}
	}
	if (best <= 3 || best <= strlen(name) / 2)
		snprintf(out, cap, section ? "did you mean [%s]?" : "did you mean '%s'?", best_name);
	else
		snprintf(out, cap, "see 'nvbind config init' for every key");
}

static int string_list(struct rd *rd, const struct nvb_toml_value *v, const char *name,
		       char ***items_out, size_t *n_out)
{
	static char *items[NVB_CONFIG_MAX_LIST];
	size_t n = 0;
	if (v->type == NVB_TOML_STRING) {
		items[n++] = v->v.s;
	} else if (v->type == NVB_TOML_ARRAY) {
		if (v->n > NVB_CONFIG_MAX_LIST)
			return at(rd, v->line, v->column, NULL, "%s has more than %d entries", name,
				  NVB_CONFIG_MAX_LIST);
		for (size_t i = 0; i < v->n; i++) {
			if (v->items[i]->type != NVB_TOML_STRING)
				return at(rd, v->items[i]->line, v->items[i]->column, NULL,
					  "%s must be an array of strings, not of %s", name,
					  nvb_toml_type_name(v->items[i]->type));
			items[n++] = v->items[i]->v.s;
		}
	} else {
		return at(rd, v->line, v->column, NULL, "%s must be an array of strings, not a %s",
			  name, nvb_toml_type_name(v->type));
	}
	*items_out = items;
	*n_out = n;
	return 0;
}

static int read_key(struct rd *rd, const struct key *k, size_t idx, const struct nvb_toml_value *v)
{
	char why[300] = "";
	struct nvb_config *c = rd->c;
	if (k->type == K_BOOL) {
		if (v->type != NVB_TOML_BOOL)
			return at(rd, v->line, v->column, NULL, "%s must be a boolean (true or false), not a %s",
				  k->name, nvb_toml_type_name(v->type));
		*(bool *)((char *)c + k->offset) = v->v.b;
	} else if (k->type == K_STRING) {
		if (v->type != NVB_TOML_STRING)
			return at(rd, v->line, v->column, NULL, "%s must be a string, not a %s", k->name,
				  nvb_toml_type_name(v->type));
		if (strlen(v->v.s) != v->len)
			return at(rd, v->line, v->column, NULL, "%s must not hold a NUL character", k->name);
		if (k->check && k->check(v->v.s, why, sizeof(why)) < 0)
			return at(rd, v->line, v->column, NULL, "%s = \"%s\": %s", k->name, v->v.s, why);
		if (set_scalar(c, k, v->v.s) < 0)
			return nvb_error_nomem(rd->err);
	} else {
		char **items;
		size_t n;
		if (string_list(rd, v, k->name, &items, &n) < 0)
			return -1;
		for (size_t i = 0; i < n; i++)
			if (k->check && k->type == K_LIST && k->check(items[i], why, sizeof(why)) < 0)
				return at(rd, v->line, v->column, NULL, "%s: \"%s\" %s", k->name, items[i], why);
		char joined[1024] = "";
		for (size_t i = 0; i < n; i++)
			snprintf(joined + strlen(joined), sizeof(joined) - strlen(joined), "%s%s",
				 i ? "," : "", items[i]);
		if (k->type == K_JOINED && k->check && k->check(joined, why, sizeof(why)) < 0)
			return at(rd, v->line, v->column, NULL, "%s: %s", k->name, why);
		if (set_scalar(c, k, joined) < 0)
			return nvb_error_nomem(rd->err);
	}
	set_source(c, idx, "%s:%d", rd->origin, v->line);
	return 0;
}

static struct nvb_profile *profile_slot(struct nvb_config *c, const char *name)
{
	for (size_t i = 0; i < c->n_profiles; i++)
		if (!strcmp(c->profiles[i].name, name)) {
			/* a user profile replaces a built-in one of the same name */
			profile_clear(&c->profiles[i]);
			return &c->profiles[i];
		}
	return c->n_profiles < NVB_CONFIG_MAX_PROFILES ? &c->profiles[c->n_profiles++] : NULL;
}

static int read_profile_env(struct rd *rd, struct nvb_profile *p, const struct nvb_toml_value *v)
{
	if (v->type == NVB_TOML_TABLE) {
		for (size_t i = 0; i < v->n; i++) {
			const struct nvb_toml_value *e = v->items[i];
			if (e->type != NVB_TOML_STRING)
				return at(rd, e->line, e->column, "quote the value: KEY = \"value\"",
					  "profiles.%s.env.%s must be a string, not a %s", p->name,
					  v->keys[i], nvb_toml_type_name(e->type));
			if (p->n_env == NVB_CONFIG_MAX_ENV ||
			    !(p->env[p->n_env++] = nvb_asprintf("%s=%s", v->keys[i], e->v.s)))
				return at(rd, e->line, e->column, NULL, "too many variables in profile %s", p->name);
		}
		return 0;
	}
	char **items;
	size_t n;
	if (string_list(rd, v, "env", &items, &n) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const char *eq = strchr(items[i], '=');
		if (!eq || eq == items[i])
			return at(rd, v->line, v->column, NULL,
				  "profiles.%s.env: \"%s\" is not NAME=VALUE", p->name, items[i]);
		if (p->n_env == NVB_CONFIG_MAX_ENV || !(p->env[p->n_env++] = strdup(items[i])))
			return at(rd, v->line, v->column, NULL, "too many variables in profile %s", p->name);
	}
	return 0;
}

static int read_profile(struct rd *rd, const char *name, const struct nvb_toml_value *t)
{
	if (t->type != NVB_TOML_TABLE)
		return at(rd, t->line, t->column, NULL, "profiles.%s must be a table", name);
	if (!nvb_cdi_valid_device_name(name))
		return at(rd, t->line, t->column, NULL, "profile name \"%s\": use letters, digits, '-', '_', '.'", name);
	struct nvb_profile *p = profile_slot(rd->c, name);
	if (!p || !(p->name = strdup(name)))
		return at(rd, t->line, t->column, NULL, "too many profiles");
	snprintf(p->source.what, sizeof(p->source.what), "%s:%d", rd->origin, t->line);
	for (size_t i = 0; i < t->n; i++) {
		const char *key = t->keys[i];
		const struct nvb_toml_value *v = t->items[i];
		char why[300];
		bool known = false;
		for (size_t k = 0; profile_keys[k]; k++)
			known = known || !strcmp(key, profile_keys[k]);
		if (!known) {
			const char *best = profile_keys[0];
			for (size_t k = 1; profile_keys[k]; k++)
				if (nvb_edit_distance(key, profile_keys[k]) < nvb_edit_distance(key, best))
					best = profile_keys[k];
			char hint[96];
			snprintf(hint, sizeof(hint), "did you mean '%s'?", best);
			return at(rd, t->key_lines[i], t->key_columns[i], hint,
				  "unknown key 'profiles.%s.%s'", name, key);
		}
		if (!strcmp(key, "env")) {
			if (read_profile_env(rd, p, v) < 0)
				return -1;
			continue;
		}
		if (v->type != NVB_TOML_STRING)
			return at(rd, v->line, v->column, NULL, "profiles.%s.%s must be a string, not a %s",
				  name, key, nvb_toml_type_name(v->type));
		if (!strcmp(key, "capabilities") && check_caps(v->v.s, why, sizeof(why)) < 0)
			return at(rd, v->line, v->column, NULL, "profiles.%s.capabilities: %s", name, why);
		char **slot = !strcmp(key, "description") ? &p->description
			      : !strcmp(key, "capabilities") ? &p->capabilities
							     : &p->devices;
		free(*slot);
		if (!(*slot = strdup(v->v.s)))
			return nvb_error_nomem(rd->err);
	}
	return 0;
}

static int read_tree(struct rd *rd, const struct nvb_toml_value *root)
{
	for (size_t s = 0; s < root->n; s++) {
		const char *section = root->keys[s];
		const struct nvb_toml_value *t = root->items[s];
		char hint[128] = "";
		if (!strcmp(section, "profiles")) {
			if (t->type != NVB_TOML_TABLE)
				return at(rd, t->line, t->column, NULL, "profiles must be a table");
			for (size_t i = 0; i < t->n; i++)
				if (read_profile(rd, t->keys[i], t->items[i]) < 0)
					return -1;
			continue;
		}
		bool known_section = false;
		for (size_t i = 0; i < NVB_ARRAY_SIZE(keys); i++)
			known_section = known_section ||
					(!strncmp(keys[i].name, section, strlen(section)) &&
					 keys[i].name[strlen(section)] == '.');
		if (!known_section) {
			suggest(section, true, hint, sizeof(hint));
			return at(rd, root->key_lines[s], root->key_columns[s], hint,
				  "unknown section [%s]", section);
		}
		if (t->type != NVB_TOML_TABLE)
			return at(rd, t->line, t->column, NULL, "%s must be a table ([%s])", section, section);
		for (size_t i = 0; i < t->n; i++) {
			char name[160];
			size_t idx;
			snprintf(name, sizeof(name), "%s.%s", section, t->keys[i]);
			const struct key *k = find_key(name, &idx);
			if (!k) {
				suggest(name, false, hint, sizeof(hint));
				return at(rd, t->key_lines[i], t->key_columns[i], hint,
					  "unknown key '%s'", name);
			}
			if (read_key(rd, k, idx, t->items[i]) < 0)
				return -1;
		}
	}
	return 0;
}

/* The user's file by the XDG rule: $XDG_CONFIG_HOME/nvbind/config.toml, else
 * $HOME/.config/nvbind/config.toml. A relative XDG_CONFIG_HOME is ignored, as the XDG base
 * directory specification says. NULL when neither variable gives an absolute directory. */
static char *user_config_path(void)
{
	const char *xdg = getenv("XDG_CONFIG_HOME");
	if (xdg && xdg[0] == '/')
		return nvb_asprintf("%s/nvbind/config.toml", xdg);
	const char *home = getenv("HOME");
	if (home && home[0] == '/')
		return nvb_asprintf("%s/.config/nvbind/config.toml", home);
	return NULL;
}

char *nvb_config_find(const char *explicit_path, bool *must_exist)
{
	*must_exist = true;
	if (explicit_path)
		return strdup(explicit_path);
	const char *env = getenv("NVBIND_CONFIG");
	if (env && *env)
		return strdup(env);
	*must_exist = false;
	char *user = user_config_path();
	if (user && access(user, F_OK) == 0)
		return user;
	free(user);
	return strdup(NVB_CONFIG_SYSTEM_PATH);
}

static int set_key(struct nvb_config *c, const char *name, const char *value, const char *source,
		   struct nvb_error *err);

static int apply_env(struct nvb_config *c, struct nvb_error *err)
{
	static const struct {
		const char *env, *key;
	} overrides[] = {
		{"NVBIND_ROOT", "host.root"},
		{"NVBIND_LOG_LEVEL", "log.level"},
	};
	for (size_t i = 0; i < NVB_ARRAY_SIZE(overrides); i++) {
		const char *v = getenv(overrides[i].env);
		if (v && *v && set_key(c, overrides[i].key, v, overrides[i].env, err) < 0)
			return -1;
	}
	return 0;
}

/* The configuration, with the file at its default place looked for inside host_root (NULL:
 * $NVBIND_ROOT, else "/"), by the --root rule. */
static struct nvb_config *load(const char *explicit_path, const char *host_root,
			       struct nvb_error *err)
{
	struct nvb_config *c = nvb_config_defaults(err);
	if (!c)
		return NULL;
	bool must_exist;
	_cleanup_close_ int fd = -1; /* before any goto fail: the cleanup runs there */
	_cleanup_free_ char *path = nvb_config_find(explicit_path, &must_exist);
	if (path && !must_exist && strcmp(path, NVB_CONFIG_SYSTEM_PATH) == 0) {
		host_root = host_root ? host_root : nvb_config_cli_root(NULL);
		char *inside = nvb_root_path(host_root, path, err);
		if (!inside || !(c->searched_root = strdup(host_root))) {
			free(inside);
			if (inside)
				nvb_error_nomem(err);
			goto fail;
		}
		free(path);
		path = inside;
	}
	fd = path ? open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY) : -1;
	if (fd < 0 && (must_exist || errno != ENOENT)) {
		nvb_error_errno(err, errno, "create one with 'nvbind config init --output FILE'",
				"configuration file %s", path ? path : "");
		goto fail;
	}
	if (fd >= 0) {
		_cleanup_free_ char *data = NULL;
		size_t len = 0;
		if (nvb_read_fd(fd, path, NVB_TOML_MAX_SIZE, &data, &len, err) < 0)
			goto fail;
		struct nvb_toml_value *root = nvb_toml_parse(data, len, path, err);
		if (!root)
			goto fail;
		struct rd rd = {.c = c, .origin = path, .err = err};
		int r = read_tree(&rd, root);
		nvb_toml_free(root);
		if (r < 0)
			goto fail;
		c->path = NVB_TAKE_PTR(path);
	}
	if (apply_env(c, err) < 0)
		goto fail;
	return c;
fail:
	nvb_config_free(c);
	return NULL;
}

struct nvb_config *nvb_config_load(const char *explicit_path, struct nvb_error *err)
{
	return load(explicit_path, NULL, err);
}

/* host.root changed after the file was read from the default place inside another root: read
 * the configuration again, from inside the new root, and keep the new root. */
static int reload_in_root(struct nvb_config *c, const char *root, const char *source,
			  struct nvb_error *err)
{
	struct nvb_config *fresh = load(NULL, root, err);
	if (!fresh)
		return -1;
	if (set_key(fresh, "host.root", root, source, err) < 0) {
		nvb_config_free(fresh);
		return -1;
	}
	struct nvb_config old = *c;
	*c = *fresh;
	*fresh = old;
	nvb_config_free(fresh);
	return 0;
}

int nvb_config_set(struct nvb_config *c, const char *name, const char *value, const char *source,
		   struct nvb_error *err)
{
	if (set_key(c, name, value, source, err) < 0)
		return -1;
	if (strcmp(name, "host.root") == 0 && c->searched_root && strcmp(c->searched_root, value) != 0)
		return reload_in_root(c, value, source, err);
	return 0;
}

static int set_key(struct nvb_config *c, const char *name, const char *value, const char *source,
		   struct nvb_error *err)
{
	size_t idx;
	const struct key *k = find_key(name, &idx);
	if (!k)
		return nvb_error_set(err, NVB_ERR_USAGE, 0, NULL, "unknown configuration key '%s'", name);
	char why[300];
	if (k->type == K_STRING && k->check && k->check(value, why, sizeof(why)) < 0)
		return nvb_error_set(err, NVB_ERR_USAGE, 0, NULL, "%s (%s): \"%s\" %s", source, name,
				     value, why);
	if (set_scalar(c, k, value) < 0)
		return nvb_error_nomem(err);
	set_source(c, idx, "%s", source);
	return 0;
}

const struct nvb_profile *nvb_config_profile(const struct nvb_config *c, const char *name)
{
	for (size_t i = 0; i < c->n_profiles; i++)
		if (!strcmp(c->profiles[i].name, name))
			return &c->profiles[i];
	return NULL;
}

int nvb_engine_parse(const char *name, enum nvb_engine_id *out)
{
	static const char *const names[] = {"docker", "podman", "bolt"};
	for (size_t i = 0; i < NVB_ARRAY_SIZE(names); i++)
		if (!strcmp(name, names[i])) {
			*out = (enum nvb_engine_id)i;
			return 0;
		}
	return -1;
}

/* ----------------------------------------------------------------- writing */

static void toml_string(struct nvb_strbuf *b, const char *s)
{
	_cleanup_free_ char *q = nvb_toml_quote(s);
	/* out of memory: an empty string keeps the output TOML; show is for reading */
	nvb_strbuf_append(b, q ? q : "\"\"");
}

static void print_value(struct nvb_strbuf *b, struct nvb_config *c, const struct key *k)
{
	if (k->type == K_BOOL) {
		nvb_strbuf_append(b, *(bool *)((char *)c + k->offset) ? "true" : "false");
	} else if (k->type == K_LIST) {
		nvb_strbuf_appendc(b, '[');
		for (size_t i = 0; i < *count_at(c, k); i++) {
			nvb_strbuf_append(b, i ? ", " : "");
			toml_string(b, list_at(c, k)[i]);
		}
		nvb_strbuf_appendc(b, ']');
	} else if (k->type == K_JOINED) {
		_cleanup_free_ char *copy = strdup(*str_at(c, k));
		char *save = NULL;
		nvb_strbuf_appendc(b, '[');
		int i = 0;
		for (char *w = copy ? strtok_r(copy, ",", &save) : NULL; w; w = strtok_r(NULL, ",", &save)) {
			nvb_strbuf_append(b, i++ ? ", " : "");
			toml_string(b, w);
		}
		nvb_strbuf_appendc(b, ']');
	} else {
		toml_string(b, *str_at(c, k));
	}
}

char *nvb_config_show(const struct nvb_config *cfg)
{
	struct nvb_config *c = (struct nvb_config *)cfg;
	struct nvb_strbuf sb = {0}, *b = &sb;
	nvb_strbuf_appendf(b, "# effective nvbind configuration (file: %s)\n",
			   c->path ? c->path : "none");
	char section[64] = "";
	for (size_t i = 0; i < NVB_ARRAY_SIZE(keys); i++) {
		const char *dot = strchr(keys[i].name, '.');
		if (strncmp(section, keys[i].name, (size_t)(dot - keys[i].name)) ||
		    section[dot - keys[i].name]) {
			snprintf(section, sizeof(section), "%.*s", (int)(dot - keys[i].name), keys[i].name);
			nvb_strbuf_appendf(b, "\n[%s]\n", section);
		}
		nvb_strbuf_appendf(b, "%s = ", dot + 1);
		print_value(b, c, &keys[i]);
		nvb_strbuf_appendf(b, "  # %s\n", c->sources[i].what);
	}
	for (size_t p = 0; p < c->n_profiles; p++) {
		const struct nvb_profile *pr = &c->profiles[p];
		nvb_strbuf_appendf(b, "\n[profiles.%s]  # %s\n", pr->name, pr->source.what);
		if (pr->description) {
			nvb_strbuf_append(b, "description = ");
			toml_string(b, pr->description);
			nvb_strbuf_appendc(b, '\n');
		}
		if (pr->capabilities) {
			nvb_strbuf_append(b, "capabilities = ");
			toml_string(b, pr->capabilities);
			nvb_strbuf_appendc(b, '\n');
		}
		if (pr->devices) {
			nvb_strbuf_append(b, "devices = ");
			toml_string(b, pr->devices);
			nvb_strbuf_appendc(b, '\n');
		}
		nvb_strbuf_append(b, "env = [");
		for (size_t e = 0; e < pr->n_env; e++) {
			nvb_strbuf_append(b, e ? ", " : "");
			toml_string(b, pr->env[e]);
		}
		nvb_strbuf_append(b, "]\n");
	}
	return nvb_strbuf_take(b); /* NULL when memory ran out */
}

const char *nvb_config_template(void)
{
	static char *text;
	if (text)
		return text;
	struct nvb_error err;
	struct nvb_config *c = nvb_config_defaults(&err);
	if (!c)
		return "";
	struct nvb_strbuf sb = {0}, *b = &sb;
	nvb_strbuf_append(b,
			  "# nvbind configuration. Every key is optional; the values below are the defaults.\n"
			  "# nvbind reads the first of: --config, $NVBIND_CONFIG,\n"
			  "# $XDG_CONFIG_HOME/nvbind/config.toml (else ~/.config/nvbind/config.toml),\n"
			  "# /etc/nvbind/config.toml. Reference: docs/config.md\n");
	char section[64] = "";
	for (size_t i = 0; i < NVB_ARRAY_SIZE(keys); i++) {
		const char *dot = strchr(keys[i].name, '.');
		if (strncmp(section, keys[i].name, (size_t)(dot - keys[i].name)) ||
		    section[dot - keys[i].name]) {
			snprintf(section, sizeof(section), "%.*s", (int)(dot - keys[i].name), keys[i].name);
			nvb_strbuf_appendf(b, "\n[%s]\n", section);
		}
		nvb_strbuf_appendf(b, "# %s\n%s = ", keys[i].doc, dot + 1);
		print_value(b, c, &keys[i]);
		nvb_strbuf_appendc(b, '\n');
	}
	nvb_strbuf_append(b,
			  "\n# Profiles: built-in gaming, ai-ml, video, compute (docs/profiles.md). Your own:\n"
			  "# [profiles.render]\n# description = \"offline rendering\"\n"
			  "# capabilities = \"graphics,compute,utility\"\n# devices = \"all\"\n"
			  "# env = { __GL_SHADER_DISK_CACHE = \"1\" }\n");
	nvb_config_free(c);
	text = nvb_strbuf_take(b); /* NULL when memory ran out: tried again next time */
	return text ? text : "";
}

/* ------------------------------------------------------------ the --root rule */

/* canon (a canonical root other than /) + path: the longest leading part of path that exists
 * resolved inside the root, then the rest as it is. */
static char *resolve_existing(int rootfd, const char *canon, const char *path,
			      struct nvb_error *err)
{
	_cleanup_free_ char *part = strdup(path);
	if (!part)
		return nvb_error_nomem(err), NULL;
	size_t cut = strlen(path);
	for (;;) {
		part[cut] = '\0';
		_cleanup_free_ char *resolved = NULL;
		struct nvb_error ignored;
		int fd = nvb_resolve_in_known_root(rootfd, canon, "host", cut ? part : "/", 0,
						   &resolved, &ignored);
		if (fd >= 0) {
			close(fd);
			const char *at = strcmp(resolved, "/") == 0 ? "" : resolved;
			const char *rest = path + cut; /* "" or "/missing/..." */
			size_t first = rest[0] ? strcspn(rest + 1, "/") : 0;
			_cleanup_free_ char *next = nvb_asprintf("%s%s/%.*s", canon, at, (int)first,
								 rest[0] ? rest + 1 : "");
			struct stat st;
			if (!next)
				return nvb_error_nomem(err), NULL;
			if (rest[0] && lstat(next, &st) == 0 && S_ISLNK(st.st_mode)) {
				nvb_error_set(err, NVB_ERR_INVALID, 0,
					      "create its target inside the root, or name another path",
					      "%s is a symbolic link that leads nowhere inside the host "
					      "root %s: %s would be outside it",
					      next, canon, path);
				return NULL;
			}
			char *out = nvb_asprintf("%s%s%s", canon, at, rest);
			if (!out)
				nvb_error_nomem(err);
			return out;
		}
		/* not there (or not usable): try the directory above */
		while (cut > 0 && path[cut - 1] == '/')
			cut--;
		while (cut > 0 && path[cut - 1] != '/')
			cut--;
		while (cut > 0 && path[cut - 1] == '/')
			cut--;
	}
}

char *nvb_root_path(const char *root, const char *path, struct nvb_error *err)
{
	if (!root || !root[0] || path[0] != '/') {
		char *same = strdup(path);
		if (!same)
			nvb_error_nomem(err);
		return same;
	}
	_cleanup_free_ char *canon = realpath(root, NULL);
	if (!canon)
		return nvb_error_errno(err, errno, "pass an existing directory with --root or NVBIND_ROOT",
				       "host root %s", root), NULL;
	if (strcmp(canon, "/") == 0) {
		char *same = strdup(path);
		if (!same)
			nvb_error_nomem(err);
		return same;
	}
	_cleanup_close_ int rootfd = open(canon, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return nvb_error_errno(err, errno, "pass an existing directory with --root or NVBIND_ROOT",
				       "host root %s", root), NULL;
	return resolve_existing(rootfd, canon, path, err);
}

char *nvb_config_host_path(const struct nvb_config *cfg, const char *path, struct nvb_error *err)
{
	return nvb_root_path(cfg->root, path, err);
}

int nvb_config_spec_dirs(const struct nvb_config *cfg, struct nvb_strv *dirs, struct nvb_error *err)
{
	for (size_t i = 0; i < cfg->n_spec_dirs; i++) {
		_cleanup_free_ char *dir = nvb_config_host_path(cfg, cfg->spec_dirs[i], err);
		if (!dir)
			return -1;
		if (nvb_strv_push(dirs, dir) < 0)
			return nvb_error_nomem(err);
	}
	return 0;
}

const char *nvb_config_cli_root(const char *cli_root)
{
	if (cli_root && cli_root[0])
		return cli_root;
	const char *env = getenv("NVBIND_ROOT");
	return env && env[0] ? env : "/";
}

int nvb_mkdir_parents(const char *file, struct nvb_error *err)
{
	_cleanup_free_ char *dir = strdup(file);
	if (!dir)
		return nvb_error_nomem(err);
	char *slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0; /* the working directory, or / */
	*slash = '\0';
	/* each component from the top: mkdir -p */
	for (char *p = dir + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;
		*p = '\0';
		if (mkdir(dir, 0755) == 0)
			chmod(dir, 0755); /* whatever the umask: rootless engines read /etc/cdi */
		else if (errno != EEXIST)
			return nvb_error_errno(err, errno, "create it, or choose another path",
					       "cannot create the directory %s for %s", dir, file);
		*p = saved;
		if (!saved)
			break;
	}
	struct stat st;
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return nvb_error_set(err, NVB_ERR_INVALID, 0, "choose another path",
				     "cannot write %s: %s is not a directory", file, dir);
	return 0;
}
