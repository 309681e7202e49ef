/* SPDX-License-Identifier: Apache-2.0 */
/* nvbind migrate: a parsed `docker run` as the command of another target (migrate.h). */
#include "cdi/cdi.h"
#include "engines/cmdline.h"
#include "migrate/internal.h"

static const char *const target_names[] = {"nvbind", "podman", "docker-cdi", "nvbind-run"};

const char *nvb_migrate_target_name(enum nvb_migrate_target t)
{
	return (unsigned)t < NVB_ARRAY_SIZE(target_names) ? target_names[t] : "?";
}

int nvb_migrate_target_parse(const char *name, enum nvb_migrate_target *out)
{
	for (size_t i = 0; i < NVB_ARRAY_SIZE(target_names); i++)
		if (!strcmp(name, target_names[i])) {
			*out = (enum nvb_migrate_target)i;
			return 0;
		}
	return -1;
}

/* The request's device list, each item trimmed; "all" stays one item. */
static int device_items(const char *devices, struct nvb_strv *out)
{
	_cleanup_free_ char *copy = strdup(devices);
	if (!copy)
		return -1;
	char *save = NULL;
	for (char *d = strtok_r(copy, ",", &save); d; d = strtok_r(NULL, ",", &save)) {
		d = nvb_strstrip(d);
		if (*d && nvb_strv_push(out, d) < 0)
			return -1;
	}
	return 0;
}

static bool is_void(const char *devices)
{
	return !strcmp(devices, "void") || strspn(devices, " ,") == strlen(devices);
}

/* What a CDI translation cannot carry over, as warnings; *devices: the list for the CDI
 * --device options (NULL: none). */
static int cdi_warnings(const struct nvb_docker_run *r, const char *kind, const char **devices,
			struct nvb_strv *warnings)
{
	*devices = NULL;
	if (!r->devices) {
		if (r->runtime_nvidia && !r->gpus)
			return nvb_strv_pushf(warnings, "CDI: no GPU is named on the command line: add "
						       "--device %s=all (or the GPUs the image wants)", kind);
		return 0;
	}
	if (is_void(r->devices))
		return 0;
	if (!strcmp(r->devices, "none"))
		return nvb_strv_push(warnings, "CDI: NVIDIA_VISIBLE_DEVICES=none (driver files without a "
					      "GPU) has no CDI device; use the nvbind runtime form");
	*devices = r->devices;
	_cleanup_strv_ struct nvb_strv items = {0};
	if (device_items(r->devices, &items) < 0)
		return -1;
	for (size_t i = 0; i < items.n; i++) {
		const char *d = items.v[i];
		char buf[512];
		const char *k, *n;
		if (nvb_cdi_parse_qualified(d, buf, sizeof(buf), &k, &n) != 0 && !nvb_cdi_valid_device_name(d) &&
		    nvb_strv_pushf(warnings, "CDI: '%s' is not a valid CDI device name", d) < 0)
			return -1;
	}
	if (r->capabilities &&
	    nvb_strv_pushf(warnings, "CDI: a CDI device brings every driver capability of the spec; "
				    "NVIDIA_DRIVER_CAPABILITIES=%s has no effect (nvbind cdi generate "
				    "--driver-capabilities %s limits the spec)",
			  r->capabilities, r->capabilities) < 0)
		return -1;
	return 0;
}

/* The docker command's own words before "run": the program, its global options, and "container"
 * of `docker container run`. */
static int docker_prefix(const struct nvb_docker_run *r, struct nvb_strv *out)
{
	if (nvb_strv_push(out, r->prog) < 0 || nvb_strv_add_all(out, &r->global) < 0)
		return -1;
	return r->container_run ? nvb_strv_push(out, "container") : 0;
}

static int add_opts(const struct nvb_docker_run *r, bool drop_runtime, struct nvb_strv *out,
		    struct nvb_strv *warnings)
{
	for (size_t i = 0; i < r->n_opts; i++) {
		const struct nvb_docker_opt *o = &r->opts[i];
		if (drop_runtime && o->name && !strcmp(o->name, "runtime")) {
			if (nvb_strv_pushf(warnings, "nvbind: --runtime %s replaced by --runtime nvbind",
					  o->value ? o->value : "") < 0)
				return -1;
			continue;
		}
		if (nvb_strv_add_all(out, &o->words) < 0)
			return -1;
	}
	return 0;
}

/* The targets that stay a `docker run` or become a `podman run`: the engine command line of
 * engines/cmdline.h, with the request's other options kept in their order. */
static int translate_engine(const struct nvb_docker_run *r, enum nvb_migrate_target to,
			    const char *kind, struct nvb_strv *out, struct nvb_strv *warnings)
{
	_cleanup_strv_ struct nvb_strv prefix = {0}, opts = {0};
	struct nvb_cmdline c = {
		.engine = NVB_ENGINE_DOCKER,
		.gpus = NVB_CMDLINE_GPUS_LIST,
		.cdi_kind = kind,
		.keep_image_env = true, /* a translation changes only what it must */
		.image = r->image,
		.args = (const char *const *)r->cmd.v,
		.n_args = r->cmd.n,
	};
	switch (to) {
	case NVB_MIGRATE_NVBIND:
		/* the nvbind runtime reads NVIDIA_VISIBLE_DEVICES as the NVIDIA one did: kept as written */
		c.gpus = r->devices ? NVB_CMDLINE_GPUS_LIST : NVB_CMDLINE_GPUS_IMAGE;
		c.devices = r->devices;
		c.caps = r->capabilities;
		if (docker_prefix(r, &prefix) < 0)
			return -1;
		break;
	case NVB_MIGRATE_PODMAN:
		if (r->global.n && nvb_strv_pushf(warnings, "podman: docker's global options (%s ...) left out",
						 r->global.v[0]) < 0)
			return -1;
		c.engine = NVB_ENGINE_PODMAN;
		if (nvb_strv_push(&prefix, "podman") < 0 || cdi_warnings(r, kind, &c.devices, warnings) < 0)
			return -1;
		break;
	default: /* NVB_MIGRATE_DOCKER_CDI */
		c.docker_major = NVB_DOCKER_CDI_MAJOR;
		if (docker_prefix(r, &prefix) < 0 || cdi_warnings(r, kind, &c.devices, warnings) < 0)
			return -1;
		break;
	}
	if (add_opts(r, to == NVB_MIGRATE_NVBIND, &opts, warnings) < 0)
		return -1;
	c.prefix = (const char *const *)prefix.v;
	c.n_prefix = prefix.n;
	c.opts = (const char *const *)opts.v;
	c.n_opts = opts.n;
	return nvb_cmdline_build(&c, out);
}

static int add_tail(const struct nvb_docker_run *r, struct nvb_strv *out)
{
	if (nvb_strv_push(out, r->image) < 0)
		return -1;
	return nvb_strv_add_all(out, &r->cmd);
}

static int translate(const struct nvb_docker_run *r, enum nvb_migrate_target to, const char *kind,
		     struct nvb_strv *out, struct nvb_strv *warnings)
{
	switch (to) {
	case NVB_MIGRATE_NVBIND:
	case NVB_MIGRATE_PODMAN:
	case NVB_MIGRATE_DOCKER_CDI:
		return translate_engine(r, to, kind, out, warnings);
	case NVB_MIGRATE_NVBIND_RUN: {
		if (nvb_strv_push(out, "nvbind") < 0 || nvb_strv_push(out, "run") < 0 ||
		    nvb_strv_push(out, "--runtime") < 0 || nvb_strv_push(out, "docker") < 0)
			return -1;
		if (r->global.n &&
		    nvb_strv_pushf(warnings, "nvbind run: docker's global options (%s ...) go in engines.docker "
					    "of the nvbind configuration", r->global.v[0]) < 0)
			return -1;
		const char *gpu = NULL;
		_cleanup_free_ char *list = NULL;
		if (!r->devices) {
			if (r->runtime_nvidia && !r->gpus) {
				if (nvb_strv_push(warnings, "nvbind run: no GPU named; nvbind run gives gpu.devices "
							   "of the configuration (all by default)") < 0)
					return -1;
			} else {
				gpu = "none";
			}
		} else if (is_void(r->devices)) {
			gpu = "none";
		} else if (!strcmp(r->devices, "none")) {
			gpu = "none";
			if (nvb_strv_push(warnings, "nvbind run: --gpu none gives no driver files, unlike "
						   "NVIDIA_VISIBLE_DEVICES=none; use the nvbind runtime form") < 0)
				return -1;
		} else {
			struct nvb_strv items = {0};
			if (device_items(r->devices, &items) < 0)
				return -1;
			struct nvb_strbuf b = {0};
			for (size_t i = 0; i < items.n; i++)
				nvb_strbuf_appendf(&b, "%s%s", i ? "," : "", items.v[i]);
			nvb_strv_free(&items);
			if (!(list = nvb_strbuf_take(&b)))
				return -1;
			gpu = list;
		}
		if (gpu && (nvb_strv_push(out, "--gpu") < 0 || nvb_strv_push(out, gpu) < 0))
			return -1;
		if (r->capabilities && (nvb_strv_push(out, "--env") < 0 ||
					nvb_strv_pushf(out, "NVIDIA_DRIVER_CAPABILITIES=%s", r->capabilities) < 0))
			return -1;
		for (size_t i = 0; i < r->env.n; i++) {
			if (!strchr(r->env.v[i], '=') || r->env.v[i][0] == '=') {
				if (nvb_strv_pushf(warnings, "nvbind run: -e %s left out (--env needs NAME=VALUE)",
						  r->env.v[i]) < 0)
					return -1;
				continue;
			}
			if (nvb_strv_push(out, "--env") < 0 || nvb_strv_push(out, r->env.v[i]) < 0)
				return -1;
		}
		struct nvb_strv dropped = {0};
		for (size_t i = 0; i < r->n_opts; i++) {
			const struct nvb_docker_opt *o = &r->opts[i];
			if (o->env) { /* carried as --env above */
				if (o->rest && nvb_strv_push(&dropped, o->rest) < 0) {
					nvb_strv_free(&dropped);
					return -1;
				}
				continue;
			}
			if (nvb_strv_add_all(&dropped, &o->words) < 0) {
				nvb_strv_free(&dropped);
				return -1;
			}
		}
		if (dropped.n) {
			char *text = nvb_shell_join(dropped.v, dropped.n);
			int rc = text ? nvb_strv_pushf(warnings, "nvbind run: has no option for %s: left out "
								"(use the docker form)", text) : -1;
			free(text);
			nvb_strv_free(&dropped);
			if (rc < 0)
				return -1;
		}
		return add_tail(r, out);
	}
	default:
		return -1;
	}
}

int nvb_docker_run_translate(const struct nvb_docker_run *r, enum nvb_migrate_target to,
			     const char *kind, struct nvb_strv *out, struct nvb_strv *warnings,
			     struct nvb_error *err)
{
	if ((unsigned)to >= NVB_MIGRATE_N_TARGETS)
		return nvb_error_set(err, NVB_ERR_USAGE, 0, NULL, "unknown translation target");
	if (translate(r, to, kind ? kind : "nvidia.com/gpu", out, warnings) < 0) {
		nvb_strv_free(out);
		return nvb_error_nomem(err);
	}
	return 0;
}

/* ------------------------------------------------------------------------------------------ */
