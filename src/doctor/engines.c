/* SPDX-License-Identifier: Apache-2.0 */
/* doctor, checks "docker" and "podman": whether the engines' configuration files register
 * the runtime nvbind (or the NVIDIA Container Toolkit's), and whether podman has CDI instead
 * (docs/doctor.md). */
#include "config/config.h"
#include "doctor/checks.h"
#include "engines/inspect.h"
#include "format/toml.h"

#define CONFIG_MAX (4u << 20)

/* ------------------------------------------------------- 5. engine registration */

/* Read a configuration file inside the host root: 1 read, 0 absent, -1 unreadable (rerr). */
static int read_host_config(struct nvb_doctor_ctx *ctx, const char *path, char **text, size_t *len,
			    struct nvb_error *rerr)
{
	if (nvb_host_read(ctx->host, path, CONFIG_MAX, text, len, rerr) == 0)
		return 1;
	return rerr->code == NVB_ERR_NOT_FOUND ? 0 : -1;
}

/* "nvbind [--root ROOT] VERB ENGINE" (setup docker, migrate docker), with --config when the
 * file is not the engine's default (which --root puts inside the root). */
static char *engine_cmd(struct nvb_doctor_ctx *ctx, const char *verb, const char *engine,
			const char *path, const char *default_path)
{
	_cleanup_free_ char *cmd = nvb_doctor_nvbind_cmd(ctx);
	_cleanup_free_ char *where = nvb_doctor_shown(ctx, path);
	if (!cmd || !where)
		return NULL;
	if (strcmp(path, default_path) == 0)
		return nvb_asprintf("%s%s %s", cmd, verb, engine);
	return nvb_asprintf("%s%s %s --config %s", cmd, verb, engine, where);
}

static char *setup_cmd(struct nvb_doctor_ctx *ctx, const char *engine, const char *path,
		       const char *default_path)
{
	return engine_cmd(ctx, "setup", engine, path, default_path);
}

/* A daemon.json that nvb_daemon_json_inspect refused: dockerd refuses it too. */
static int docker_invalid(struct nvb_doctor_ctx *ctx, const struct nvb_daemon_json *d,
			  const char *where, const char *setup, struct nvb_error *err)
{
	static const char *const check = "docker";
	_cleanup_free_ char *fix = nvb_asprintf(
	    "fix the JSON at that place (python3 -m json.tool %s shows it), then run "
	    "'%s'",
	    where, setup);
	if (!fix)
		return nvb_error_nomem(err);
	if (!d->error_what)
		return ADD(ctx, NVB_DOCTOR_WARNING, check, "docker-config-invalid", fix,
			   "%s:%d:%d: %s: dockerd refuses to start with it", where,
			   d->error_line, d->error_column, d->error_text);
	return ADD(ctx, NVB_DOCTOR_WARNING, check, "docker-config-invalid", fix,
		   "%s: %s is not a JSON object: dockerd refuses to start with it", where,
		   d->error_what);
}

int nvb_doctor_check_docker(struct nvb_doctor_ctx *ctx, struct nvb_error *err)
{
	static const char *const check = "docker";
	static const char *const def = "/etc/docker/daemon.json";
	const char *path = ctx->cfg->docker_config;
	if (!path || !path[0])
		return 0;
	_cleanup_free_ char *where = nvb_doctor_shown(ctx, path);
	_cleanup_free_ char *setup = setup_cmd(ctx, "docker", path, def);
	_cleanup_free_ char *migrate = engine_cmd(ctx, "migrate", "docker", path, def);
	_cleanup_free_ char *text = NULL;
	if (!where || !setup || !migrate)
		return nvb_error_nomem(err);
	struct nvb_error rerr;
	nvb_error_clear(&rerr);
	int r = read_host_config(ctx, path, &text, NULL, &rerr);
	if (r == 0) {
		_cleanup_free_ char *fix = nvb_asprintf("if you use docker: %s", setup);
		if (!fix)
			return nvb_error_nomem(err);
		return ADD(ctx, NVB_DOCTOR_INFO, check, "docker-not-configured", fix,
			   "%s does not exist: docker (if installed) knows no runtime nvbind",
			   where);
	}
	if (r < 0)
		return ADD(ctx, NVB_DOCTOR_WARNING, check, "docker-config-unreadable",
			   "check the file's permissions (run nvbind doctor as root)", "%s",
			   rerr.message);
	struct nvb_daemon_json d;
	struct nvb_error perr;
	nvb_error_clear(&perr);
	if (nvb_daemon_json_inspect(text, where, &d, &perr) < 0) {
		if (perr.code == NVB_ERR_NOMEM) {
			nvb_daemon_json_free(&d);
			return nvb_error_nomem(err);
		}
		r = docker_invalid(ctx, &d, where, setup, err);
		nvb_daemon_json_free(&d);
		return r;
	}
	const struct nvb_daemon_runtime *nvbind = nvb_daemon_json_runtime(&d, "nvbind");
	bool nvidia = nvb_daemon_json_runtime(&d, "nvidia") != NULL;
	bool nvidia_default = d.default_runtime && strcmp(d.default_runtime, "nvidia") == 0;
	bool have_nvbind = nvbind != NULL;
	_cleanup_free_ char *rt_copy = nvbind && nvbind->path ? strdup(nvbind->path) : NULL;
	bool nomem = nvbind && nvbind->path && !rt_copy;
	nvb_daemon_json_free(&d);
	if (nomem)
		return nvb_error_nomem(err);

	if (nvidia || nvidia_default) {
		if (ADD(ctx, nvidia_default ? NVB_DOCTOR_WARNING : NVB_DOCTOR_INFO, check,
			"nvidia-runtime-configured", migrate, "%s %s", where,
			nvidia_default ? "sets default-runtime to \"nvidia\", the NVIDIA Container "
					 "Toolkit's runtime: every container goes through "
					 "nvidia-container-runtime"
				       : "registers the NVIDIA Container Toolkit's runtime as "
					 "runtimes.nvidia") < 0)
			return -1;
	}
	if (!have_nvbind) {
		_cleanup_free_ char *fix =
		    nvb_asprintf("%s, then restart dockerd (systemctl restart "
				 "docker)",
				 setup);
		if (!fix)
			return nvb_error_nomem(err);
		return ADD(ctx, NVB_DOCTOR_WARNING, check, "runtime-not-registered", fix,
			   "%s has no runtimes.nvbind: 'docker run --runtime nvbind' fails with "
			   "'unknown or invalid runtime name: nvbind'%s%s%s",
			   where,
			   nvidia || nvidia_default ? " (it uses the NVIDIA runtime instead: '"
						    : "",
			   nvidia || nvidia_default ? migrate : "",
			   nvidia || nvidia_default ? "' moves it over)" : "");
	}
	struct stat st;
	if (!rt_copy || !nvb_doctor_named_path_stat(ctx, rt_copy, true, &st) ||
	    !nvb_doctor_is_executable(&st))
		return ADD(ctx, NVB_DOCTOR_WARNING, check, "runtime-path-missing", setup,
			   "%s: runtimes.nvbind.path %s%s", where, rt_copy ? rt_copy : "(none)",
			   rt_copy ? " is not an executable file" : " is not set");
	return ADD(ctx, NVB_DOCTOR_OK, check, "runtime-registered", NULL,
		   "%s registers the runtime nvbind (%s)", where, rt_copy);
}

/* [engine.runtimes] nvbind: a list of candidate paths (or one string). */
static const struct nvb_toml_value *podman_nvbind_runtime(const struct nvb_toml_value *doc)
{
	const struct nvb_toml_value *engine = nvb_toml_get(doc, "engine");
	const struct nvb_toml_value *runtimes = nvb_toml_get(engine, "runtimes");
	return nvb_toml_get(runtimes, "nvbind");
}

int nvb_doctor_check_podman(struct nvb_doctor_ctx *ctx, struct nvb_error *err)
{
	static const char *const check = "podman";
	static const char *const def = "/etc/containers/containers.conf";
	const char *path = ctx->cfg->podman_config;
	if (!path || !path[0])
		return 0;
	_cleanup_free_ char *where = nvb_doctor_shown(ctx, path);
	_cleanup_free_ char *setup = setup_cmd(ctx, "podman", path, def);
	_cleanup_free_ char *text = NULL;
	if (!where || !setup)
		return nvb_error_nomem(err);
	size_t len = 0;
	struct nvb_error rerr;
	nvb_error_clear(&rerr);
	int r = read_host_config(ctx, path, &text, &len, &rerr);
	if (r < 0)
		return ADD(ctx, NVB_DOCTOR_WARNING, check, "podman-config-unreadable",
			   "check the file's permissions (run nvbind doctor as root)", "%s",
			   rerr.message);
	const struct nvb_toml_value *entry = NULL;
	struct nvb_toml_value *doc = NULL;
	if (r > 0) {
		struct nvb_error perr;
		nvb_error_clear(&perr);
		doc = nvb_toml_parse(text, len, where, &perr);
		if (!doc) {
			if (perr.code == NVB_ERR_NOMEM)
				return nvb_error_nomem(err);
			_cleanup_free_ char *fix = nvb_asprintf(
			    "fix the TOML at that place (podman refuses the file too), then run "
			    "'%s'",
			    setup);
			if (!fix)
				return nvb_error_nomem(err);
			return ADD(ctx, NVB_DOCTOR_WARNING, check, "podman-config-invalid", fix,
				   "%s", perr.message);
		}
		entry = podman_nvbind_runtime(doc);
	}
	if (entry) {
		/* podman takes the first candidate path that exists */
		const char *first = NULL, *usable = NULL;
		struct stat st;
		for (size_t i = 0; entry->type == NVB_TOML_ARRAY && i < entry->n && !usable; i++) {
			const struct nvb_toml_value *v = entry->items[i];
			if (v->type != NVB_TOML_STRING)
				continue;
			first = first ? first : v->v.s;
			if (nvb_doctor_named_path_stat(ctx, v->v.s, true, &st) &&
			    nvb_doctor_is_executable(&st))
				usable = v->v.s;
		}
		if (entry->type == NVB_TOML_STRING) {
			first = entry->v.s;
			if (nvb_doctor_named_path_stat(ctx, first, true, &st) &&
			    nvb_doctor_is_executable(&st))
				usable = first;
		}
		if (usable)
			r = ADD(ctx, NVB_DOCTOR_OK, check, "podman-runtime-registered", NULL,
				"%s registers the runtime nvbind ([engine.runtimes] nvbind: %s)",
				where, usable);
		else
			r = ADD(ctx, NVB_DOCTOR_WARNING, check, "runtime-path-missing", setup,
				"%s: [engine.runtimes] nvbind names no executable file (%s)", where,
				first ? first : "no path");
		nvb_toml_free(doc);
		return r;
	}
	nvb_toml_free(doc);
	_cleanup_free_ char *what = nvb_asprintf(
	    "%s %s", where, r > 0 ? "has no [engine.runtimes] nvbind" : "does not exist");
	if (!what)
		return nvb_error_nomem(err);
	if (ctx->have_cdi_spec || ctx->inv->n_gpus == 0) {
		_cleanup_free_ char *fix =
		    nvb_asprintf("nothing for CDI; for '--runtime nvbind': %s", setup);
		if (!fix)
			return nvb_error_nomem(err);
		return ADD(ctx, NVB_DOCTOR_INFO, check, "podman-runtime-not-registered", fix,
			   "%s: podman uses the CDI spec without it ('podman run --device "
			   "nvidia.com/gpu=all'); only '--runtime nvbind' needs it",
			   what);
	}
	_cleanup_free_ char *gen = nvb_doctor_generate_cmd(ctx);
	_cleanup_free_ char *fix =
	    gen ? nvb_asprintf("%s (then 'podman run --device nvidia.com/gpu=all'), or %s", gen,
			       setup)
		: NULL;
	if (!fix)
		return nvb_error_nomem(err);
	return ADD(ctx, NVB_DOCTOR_WARNING, check, "podman-runtime-not-registered", fix,
		   "%s and there is no CDI spec either: podman cannot give containers GPUs", what);
}
