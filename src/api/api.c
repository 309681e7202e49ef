/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The embedding API (docs/api.md): spec generation and OCI config edits for a runtime that
 * links libnvbind.so. Each call is a thin front end of what `nvbind cdi generate`
 * (nvb_cdi_generate, the codec's writers) and nvbind-runtime (nvb_runtime_prepare) call, with
 * the caller's options in place of the command line and the configuration file.
 */
#include <fcntl.h>
#include <stddef.h>

#include "api/api.h"
#include "cdi/cdi.h"
#include "hooks/hooks.h"
#include "oci/oci.h"
#include "oci/prepare.h"

_Static_assert(NVB_NAMING_INDEX == NVB_CDI_NAME_INDEX && NVB_NAMING_UUID == NVB_CDI_NAME_UUID &&
		       NVB_NAMING_TYPE_INDEX == NVB_CDI_NAME_TYPE_INDEX,
	       "public naming bits are the generator's");
_Static_assert((int)NVB_SPEC_JSON == (int)NVB_CDI_JSON && (int)NVB_SPEC_YAML == (int)NVB_CDI_YAML,
	       "public formats are the codec's");

#define NAMING_ALL (NVB_NAMING_INDEX | NVB_NAMING_UUID | NVB_NAMING_TYPE_INDEX)
#define APPLY_FLAGS (NVB_APPLY_CONFIG_REQUESTS | NVB_APPLY_ENV_UNPRIVILEGED)
/* larger than any option struct will ever be: a size beyond it is garbage, not a newer struct */
#define OPTIONS_SIZE_MAX 4096

void nvb_free(void *p)
{
	free(p);
}

int nvb_naming_parse(const char *words, unsigned *out, struct nvb_error *err)
{
	if (!words || !out)
		return nvb_error_set(err, NVB_ERR_USAGE, 0, NULL, "nvb_naming_parse: NULL argument");
	return nvb_cdi_naming_parse(words, out, err);
}

/* Copy a caller's option struct (its first field is its size) into ours, zero-filled: a caller
 * built with an older header passes a shorter struct, whose missing fields take their defaults;
 * one built with a newer header passes a longer one, accepted when every field this library
 * does not know is zero (unset), refused otherwise rather than silently ignored. */
static int options_copy(void *dst, size_t dst_size, const void *src, const char *what,
			struct nvb_error *err)
{
	memset(dst, 0, dst_size);
	if (!src)
		return 0;
	size_t size;
	memcpy(&size, src, sizeof(size));
	if (size < sizeof(size_t) || size > OPTIONS_SIZE_MAX)
		return nvb_error_set(err, NVB_ERR_USAGE, 0, "set .size = sizeof the struct",
				     "struct %s: size %zu is not a size of this struct", what, size);
	const unsigned char *bytes = src;
	for (size_t i = dst_size; i < size; i++)
		if (bytes[i])
			return nvb_error_set(err, NVB_ERR_UNSUPPORTED, 0,
					     "leave the newer fields zero, or use a newer libnvbind",
					     "struct %s: a field at byte %zu is set that libnvbind %s "
					     "does not know",
					     what, i, nvb_version());
	memcpy(dst, src, size < dst_size ? size : dst_size);
	return 0;
}

/* The same for the other files of src/api (api/api.h). */
int nvb_api_options_copy(void *dst, size_t dst_size, const void *src, const char *what,
			 struct nvb_error *err)
{
	return options_copy(dst, dst_size, src, what, err);
}

/* The nvbind-hook program specs and configs name: the caller's, else the one beside the
 * calling program, else the one installed with the library (as the CLI and the wrapper do). */
static char *hook_program(const char *given)
{
	return given ? strdup(given) : nvb_sibling_program(NVB_HOOK_PROGRAM, NVBIND_BINDIR);
}

/* ------------------------------------------------------------------- CDI specs */

static struct nvb_cdi_spec *generate(struct nvb_host *host, const struct nvb_inventory *inv,
				     const struct nvb_cdi_options *o, struct nvb_error *err)
{
	if (!host)
		return nvb_error_set(err, NVB_ERR_USAGE, 0, NULL, "no host: open one with nvb_host_open"), NULL;
	if (o->kind && !nvb_cdi_valid_kind(o->kind, true))
		return nvb_error_set(err, NVB_ERR_USAGE, 0, "a kind is vendor/class, e.g. nvidia.com/gpu",
				     "kind '%s' is not vendor/class", o->kind), NULL;
	if ((o->naming & ~NAMING_ALL) || (o->caps & ~NVB_CAP_ALL))
		return nvb_error_set(err, NVB_ERR_USAGE, 0, "use NVB_NAMING_* and NVB_CAP_* bits",
				     "unknown bits in naming 0x%x or caps 0x%x", o->naming, o->caps), NULL;
	_cleanup_free_ char *hook = hook_program(o->hook_path);
	if (!hook)
		return nvb_error_nomem(err), NULL;
	struct nvb_cdi_gen_opts g = {
		.kind = o->kind,
		.caps = o->caps,
		.naming = o->naming,
		.hook_path = hook,
		.host_root = nvb_host_root(host),
	};
	struct nvb_inventory *own = NULL;
	/* the probe of `nvbind cdi generate`: NVML only for MIG devices' UUIDs */
	if (!inv && !(inv = own = nvb_inventory_probe(host, NVB_PROBE_NO_NVML | NVB_PROBE_NVML_IF_MIG, err)))
		return NULL;
	/* the kind of a vendor (amd.com/gpu, intel.com/gpu) picks that vendor's inventory */
	const struct nvb_inventory *mine = inv;
	for (int v = NVB_VENDOR_AMD; o->kind && v <= NVB_VENDOR_INTEL; v++)
		if (!strcmp(o->kind, nvb_vendor_cdi_kind((enum nvb_vendor)v)))
			mine = nvb_inventory_of_vendor(inv, (enum nvb_vendor)v);
	struct nvb_driver_folder *folder = mine ? nvb_driver_folder_for_spec(g.host_root, mine) : NULL;
	g.folder = folder;
	struct nvb_cdi_spec *spec = mine ? nvb_cdi_generate(mine, &g, err) : NULL;
	nvb_driver_folder_free(folder);
	if (!mine)
		nvb_error_set(err, NVB_ERR_NOT_FOUND, 0, "run 'nvbind info' to see what was found",
			      "no GPU of kind %s found: there is nothing to put in a CDI spec", o->kind);
	nvb_inventory_free(own);
	/* what the command refuses to write, the library refuses to return */
	if (spec && nvb_cdi_validate(spec, NULL, NULL, err) > 0) {
		nvb_cdi_spec_free(spec);
		return NULL;
	}
	return spec;
}

char *nvb_cdi_generate_string(struct nvb_host *host, const struct nvb_inventory *inv,
			      const struct nvb_cdi_options *opts, struct nvb_error *err)
{
	struct nvb_error local;
	err = err ? err : &local;
	nvb_error_clear(err);
	struct nvb_cdi_options o;
	if (options_copy(&o, sizeof(o), opts, "nvb_cdi_options", err) < 0)
		return NULL;
	if (o.format != NVB_SPEC_JSON && o.format != NVB_SPEC_YAML)
		return nvb_error_set(err, NVB_ERR_USAGE, 0, "use NVB_SPEC_JSON or NVB_SPEC_YAML",
				     "unknown spec format %d", (int)o.format), NULL;
	struct nvb_cdi_spec *spec = generate(host, inv, &o, err);
	char *text = spec ? nvb_cdi_spec_format(spec, (enum nvb_cdi_format)o.format, err) : NULL;
	nvb_cdi_spec_free(spec);
	return text;
}

/* Engines read only *.json and *.yaml from spec directories, each parsed by its extension. */
static int format_of_file(const char *path, enum nvb_cdi_format *fmt, struct nvb_error *err)
{
	if (nvb_str_has_suffix(path, ".json"))
		*fmt = NVB_CDI_JSON;
	else if (nvb_str_has_suffix(path, ".yaml"))
		*fmt = NVB_CDI_YAML;
	else
		return nvb_error_set(err, NVB_ERR_USAGE, 0, "name the file .json or .yaml",
				     "%s: a CDI spec file must end in .json or .yaml (engines ignore "
				     "any other file)", path);
	return 0;
}

int nvb_cdi_generate_file(struct nvb_host *host, const struct nvb_inventory *inv,
			  const struct nvb_cdi_options *opts, const char *path, struct nvb_error *err)
{
	struct nvb_error local;
	err = err ? err : &local;
	nvb_error_clear(err);
	struct nvb_cdi_options o;
	enum nvb_cdi_format fmt = NVB_CDI_JSON;
	if (!path)
		return nvb_error_set(err, NVB_ERR_USAGE, 0, NULL, "nvb_cdi_generate_file: no path");
	if (options_copy(&o, sizeof(o), opts, "nvb_cdi_options", err) < 0 ||
	    format_of_file(path, &fmt, err) < 0)
		return -1;
	struct nvb_cdi_spec *spec = generate(host, inv, &o, err);
	_cleanup_free_ char *text = spec ? nvb_cdi_spec_format(spec, fmt, err) : NULL;
	nvb_cdi_spec_free(spec);
	if (!text)
		return -1;
	return nvb_write_file_atomic(path, text, strlen(text), 0644, err);
}

/* ------------------------------------------------------------ OCI config edits */

struct spec_dirs {
	char *owned[2];
	const char *v[2];
	size_t n;
};

static void spec_dirs_clear(struct spec_dirs *d)
{
	for (size_t i = 0; i < NVB_ARRAY_SIZE(d->owned); i++)
		free(d->owned[i]);
}

/* /etc/cdi and /var/run/cdi inside the host root (the --root rule of docs/cli.md), resolved
 * there and named as seen from here. One that does not exist is left out: it holds no spec. */
static int default_spec_dirs(struct nvb_host *host, struct spec_dirs *d, struct nvb_error *err)
{
	static const char *const defaults[] = NVB_CDI_DEFAULT_DIRS;
	_Static_assert(NVB_ARRAY_SIZE(defaults) <= NVB_ARRAY_SIZE(d->owned), "room for the defaults");
	for (size_t i = 0; i < NVB_ARRAY_SIZE(defaults); i++) {
		_cleanup_free_ char *inside = NULL;
		struct nvb_error rerr;
		int fd = nvb_host_resolve(host, defaults[i], 0, &inside, &rerr);
		if (fd < 0 && rerr.code == NVB_ERR_NOT_FOUND)
			continue;
		if (fd < 0) {
			*err = rerr;
			return -1;
		}
		close(fd);
		if (!(d->owned[d->n] = nvb_host_outside_path(host, inside)))
			return nvb_error_nomem(err);
		d->v[d->n] = d->owned[d->n];
		d->n++;
	}
	return 0;
}

static int check_apply_options(const struct nvb_apply_options *o, struct nvb_error *err)
{
	if (o->flags & ~APPLY_FLAGS)
		return nvb_error_set(err, NVB_ERR_USAGE, 0, "use NVB_APPLY_* flags",
				     "unknown apply flags 0x%x", o->flags & ~APPLY_FLAGS);
	if ((o->n_devices && !o->devices) || (o->n_spec_dirs && !o->spec_dirs))
		return nvb_error_set(err, NVB_ERR_USAGE, 0, NULL,
				     "struct nvb_apply_options: a count without its array");
	for (size_t i = 0; i < o->n_devices; i++)
		if (!o->devices[i])
			return nvb_error_set(err, NVB_ERR_USAGE, 0, NULL, "devices[%zu] is NULL", i);
	return 0;
}

/* config (consumed) edited by nvb_runtime_prepare, the wrapper's own function, and written as
 * the wrapper writes config.json (numbers beyond 64 bits kept as they were). */
static char *apply(struct nvb_host *host, json_t *config, const struct nvb_apply_options *given,
		   struct nvb_error *err)
{
	struct nvb_apply_options o;
	struct spec_dirs dirs = {.n = 0};
	char *text = NULL;
	_cleanup_free_ char *hook = NULL;
	if (!host) {
		nvb_error_set(err, NVB_ERR_USAGE, 0, NULL, "no host: open one with nvb_host_open");
		goto out;
	}
	if (options_copy(&o, sizeof(o), given, "nvb_apply_options", err) < 0 ||
	    check_apply_options(&o, err) < 0 || (!o.spec_dirs && default_spec_dirs(host, &dirs, err) < 0))
		goto out;
	if (!(hook = hook_program(o.hook_path))) {
		nvb_error_nomem(err);
		goto out;
	}
	struct nvb_runtime_opts r = {
		.host_root = nvb_host_root(host),
		.spec_dirs = o.spec_dirs ? o.spec_dirs : dirs.v,
		.n_spec_dirs = o.spec_dirs ? o.n_spec_dirs : dirs.n,
		.hook_path = hook,
		.bundle = o.bundle,
		.env_when_unprivileged = o.flags & NVB_APPLY_ENV_UNPRIVILEGED,
		.devices = o.devices,
		.n_devices = o.n_devices,
		.visible_devices = o.visible_devices,
		.capabilities = o.capabilities,
		.no_config_requests = !(o.flags & NVB_APPLY_CONFIG_REQUESTS),
	};
	struct nvb_runtime_result res;
	if (nvb_runtime_prepare(config, &r, &res, err) < 0)
		goto out;
	nvb_debug("api", "%s%s", res.summary, res.legacy_hook ? " (replaced the --gpus prestart hook)" : "");
	if (!(text = nvb_json_dumps_exact(config, JSON_COMPACT | JSON_PRESERVE_ORDER)))
		nvb_error_nomem(err);
out:
	spec_dirs_clear(&dirs);
	json_decref(config);
	return text;
}

static json_t *config_parse(const char *data, size_t len, const char *origin, struct nvb_error *err)
{
	if (len > NVB_OCI_CONFIG_MAX)
		return nvb_error_set(err, NVB_ERR_INVALID, 0, NULL, "%s: %zu bytes, more than the %u allowed",
				     origin, len, NVB_OCI_CONFIG_MAX), NULL;
	json_error_t jerr;
	/* exact, as the wrapper reads config.json: engines write rlimits as uint64 */
	json_t *config = nvb_json_loadb_exact(data, len, JSON_REJECT_DUPLICATES, false, &jerr);
	if (!config)
		return nvb_error_set(err, NVB_ERR_PARSE, 0, NULL, "%s:%d:%d: %s", origin, jerr.line,
				     jerr.column, jerr.text), NULL;
	if (!json_is_object(config)) {
		json_decref(config);
		return nvb_error_set(err, NVB_ERR_INVALID, 0, NULL, "%s: not a JSON object", origin), NULL;
	}
	return config;
}

char *nvb_oci_apply(struct nvb_host *host, const char *config_json,
		    const struct nvb_apply_options *opts, struct nvb_error *err)
{
	struct nvb_error local;
	err = err ? err : &local;
	nvb_error_clear(err);
	if (!config_json)
		return nvb_error_set(err, NVB_ERR_USAGE, 0, NULL, "nvb_oci_apply: no config"), NULL;
	json_t *config = config_parse(config_json, strlen(config_json), "OCI config", err);
	return config ? apply(host, config, opts, err) : NULL;
}

char *nvb_oci_apply_file(struct nvb_host *host, const char *config_path,
			 const struct nvb_apply_options *opts, struct nvb_error *err)
{
	struct nvb_error local;
	err = err ? err : &local;
	nvb_error_clear(err);
	if (!config_path)
		return nvb_error_set(err, NVB_ERR_USAGE, 0, NULL, "nvb_oci_apply_file: no path"), NULL;
	size_t len = 0;
	_cleanup_free_ char *data = nvb_oci_config_read(config_path, &len, err);
	if (!data)
		return NULL;
	json_t *config = config_parse(data, len, config_path, err);
	return config ? apply(host, config, opts, err) : NULL;
}
