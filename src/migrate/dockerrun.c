/* SPDX-License-Identifier: Apache-2.0 */
/* nvbind migrate: docker's option tables and the `docker run` command-line parser
 * (migrate.h). */
#include "migrate/internal.h"

/* ------------------------------------------------------------------------------------------ */
/* docker's options */

struct dopt {
	const char *name; /* long name */
	char shorthand;
	bool value;       /* takes a value */
};

/* docker run (docker/cli cli/command/container/opts.go and run.go), Docker 20.10 to 28. */
static const struct dopt run_opts[] = {
	{"add-host", 0, true},
	{"annotation", 0, true},
	{"attach", 'a', true},
	{"blkio-weight", 0, true},
	{"blkio-weight-device", 0, true},
	{"cap-add", 0, true},
	{"cap-drop", 0, true},
	{"cgroup-parent", 0, true},
	{"cgroupns", 0, true},
	{"cidfile", 0, true},
	{"cpu-count", 0, true},
	{"cpu-percent", 0, true},
	{"cpu-period", 0, true},
	{"cpu-quota", 0, true},
	{"cpu-rt-period", 0, true},
	{"cpu-rt-runtime", 0, true},
	{"cpu-shares", 'c', true},
	{"cpus", 0, true},
	{"cpuset-cpus", 0, true},
	{"cpuset-mems", 0, true},
	{"detach", 'd', false},
	{"detach-keys", 0, true},
	{"device", 0, true},
	{"device-cgroup-rule", 0, true},
	{"device-read-bps", 0, true},
	{"device-read-iops", 0, true},
	{"device-write-bps", 0, true},
	{"device-write-iops", 0, true},
	{"disable-content-trust", 0, false},
	{"dns", 0, true},
	{"dns-opt", 0, true},
	{"dns-option", 0, true},
	{"dns-search", 0, true},
	{"domainname", 0, true},
	{"entrypoint", 0, true},
	{"env", 'e', true},
	{"env-file", 0, true},
	{"expose", 0, true},
	{"gpus", 0, true},
	{"group-add", 0, true},
	{"health-cmd", 0, true},
	{"health-interval", 0, true},
	{"health-retries", 0, true},
	{"health-start-interval", 0, true},
	{"health-start-period", 0, true},
	{"health-timeout", 0, true},
	{"help", 0, false},
	{"hostname", 'h', true},
	{"init", 0, false},
	{"interactive", 'i', false},
	{"io-maxbandwidth", 0, true},
	{"io-maxiops", 0, true},
	{"ip", 0, true},
	{"ip6", 0, true},
	{"ipc", 0, true},
	{"isolation", 0, true},
	{"kernel-memory", 0, true},
	{"label", 'l', true},
	{"label-file", 0, true},
	{"link", 0, true},
	{"link-local-ip", 0, true},
	{"log-driver", 0, true},
	{"log-opt", 0, true},
	{"mac-address", 0, true},
	{"memory", 'm', true},
	{"memory-reservation", 0, true},
	{"memory-swap", 0, true},
	{"memory-swappiness", 0, true},
	{"mount", 0, true},
	{"name", 0, true},
	{"net", 0, true},
	{"net-alias", 0, true},
	{"network", 0, true},
	{"network-alias", 0, true},
	{"no-healthcheck", 0, false},
	{"oom-kill-disable", 0, false},
	{"oom-score-adj", 0, true},
	{"pid", 0, true},
	{"pids-limit", 0, true},
	{"platform", 0, true},
	{"privileged", 0, false},
	{"publish", 'p', true},
	{"publish-all", 'P', false},
	{"pull", 0, true},
	{"quiet", 'q', false},
	{"read-only", 0, false},
	{"restart", 0, true},
	{"rm", 0, false},
	{"runtime", 0, true},
	{"security-opt", 0, true},
	{"shm-size", 0, true},
	{"sig-proxy", 0, false},
	{"stop-signal", 0, true},
	{"stop-timeout", 0, true},
	{"storage-opt", 0, true},
	{"sysctl", 0, true},
	{"tmpfs", 0, true},
	{"tty", 't', false},
	{"ulimit", 0, true},
	{"use-api-socket", 0, false},
	{"user", 'u', true},
	{"userns", 0, true},
	{"uts", 0, true},
	{"volume", 'v', true},
	{"volume-driver", 0, true},
	{"volumes-from", 0, true},
	{"workdir", 'w', true},
};

/* docker's global options (before the subcommand) */
static const struct dopt global_opts[] = {
	{"config", 0, true},  {"context", 'c', true}, {"debug", 'D', false},
	{"host", 'H', true},  {"log-level", 'l', true}, {"tls", 0, false},
	{"tlscacert", 0, true}, {"tlscert", 0, true}, {"tlskey", 0, true},
	{"tlsverify", 0, false},
};

static const struct dopt *find_long(const struct dopt *t, size_t n, const char *name, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(t[i].name) == len && !strncmp(t[i].name, name, len))
			return &t[i];
	return NULL;
}

static const struct dopt *find_short(const struct dopt *t, size_t n, char c)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].shorthand == c)
			return &t[i];
	return NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* --gpus */

/* ------------------------------------------------------------------------------------------ */
/* docker run */

void nvb_docker_run_free(struct nvb_docker_run *r)
{
	if (!r)
		return;
	free(r->prog);
	nvb_strv_free(&r->global);
	for (size_t i = 0; i < r->n_opts; i++) {
		nvb_strv_free(&r->opts[i].words);
		free(r->opts[i].value);
		free(r->opts[i].env);
		free(r->opts[i].rest);
	}
	free(r->opts);
	free(r->image);
	nvb_strv_free(&r->cmd);
	free(r->devices);
	free(r->capabilities);
	nvb_strv_free(&r->env);
	nvb_strv_free(&r->warnings);
	free(r);
}

struct parse_state {
	struct nvb_docker_run *r;
	char *env_devices, *env_caps;
	char *gpus_devices, *gpus_caps;
	int n_gpus;
	bool env_file;
};

static struct nvb_docker_opt *add_opt(struct nvb_docker_run *r, const char *name, const char *value)
{
	struct nvb_docker_opt *o = nvb_array_push(&r->opts, &r->n_opts, sizeof(*o));
	if (!o)
		return NULL;
	o->name = name;
	if (value && !(o->value = strdup(value))) {
		r->n_opts--;
		return NULL;
	}
	return o;
}

static bool env_is(const char *kv, const char *name)
{
	size_t n = strlen(name);
	return !strncmp(kv, name, n) && kv[n] == '=';
}

static int replace(char **slot, const char *value)
{
	char *copy = strdup(value);
	if (!copy)
		return -1;
	free(*slot);
	*slot = copy;
	return 0;
}

/* The meaning of one option. *consumed: it is part of the GPU request and not written again
 * as it was. */
static int handle_opt(struct parse_state *st, const struct dopt *d, const char *value, bool *consumed,
		      struct nvb_error *err)
{
	struct nvb_docker_run *r = st->r;
	*consumed = false;
	if (!d)
		return 0;
	if (!strcmp(d->name, "env")) {
		if (env_is(value, "NVIDIA_VISIBLE_DEVICES")) {
			*consumed = true;
			return replace(&st->env_devices, value + strlen("NVIDIA_VISIBLE_DEVICES=")) < 0
				       ? nvb_error_nomem(err) : 0;
		}
		if (env_is(value, "NVIDIA_DRIVER_CAPABILITIES")) {
			*consumed = true;
			return replace(&st->env_caps, value + strlen("NVIDIA_DRIVER_CAPABILITIES=")) < 0
				       ? nvb_error_nomem(err) : 0;
		}
		if ((!strcmp(value, "NVIDIA_VISIBLE_DEVICES") || !strcmp(value, "NVIDIA_DRIVER_CAPABILITIES")) &&
		    nvb_strv_pushf(&r->warnings, "-e %s takes its value from docker's own environment: kept "
						"as it is and not translated", value) < 0)
			return nvb_error_nomem(err);
		return nvb_strv_push(&r->env, value) < 0 ? nvb_error_nomem(err) : 0;
	}
	if (!strcmp(d->name, "gpus")) {
		*consumed = true;
		char *devs = NULL, *caps = NULL;
		if (nvb_docker_gpus_parse(value, &devs, &caps, &r->warnings, err) < 0)
			return -1;
		free(st->gpus_devices);
		free(st->gpus_caps);
		st->gpus_devices = devs;
		st->gpus_caps = caps;
		st->n_gpus++;
		return 0;
	}
	if (!strcmp(d->name, "runtime") && value && !strcmp(value, "nvidia")) {
		*consumed = true;
		r->runtime_nvidia = true;
		return 0;
	}
	if (!strcmp(d->name, "env-file"))
		st->env_file = true;
	if (!strcmp(d->name, "device") && value && nvb_str_has_prefix(value, "/dev/nvidia") &&
	    nvb_strv_pushf(&r->warnings, "--device %s passes the device node alone, without the driver's "
					"libraries; kept as it is", value) < 0)
		return nvb_error_nomem(err);
	return 0;
}

/* A word that starts an option: "-x...", "--x...", not "-" or "--". */
static bool is_option(const char *w)
{
	return w[0] == '-' && w[1] && strcmp(w, "--") != 0;
}

static int parse_long(struct parse_state *st, const struct dopt *table, size_t n_table, bool global,
		      char *const *argv, size_t argc, size_t *i, struct nvb_error *err)
{
	struct nvb_docker_run *r = st->r;
	const char *w = argv[*i];
	const char *name = w + 2;
	const char *eq = strchr(name, '=');
	size_t len = eq ? (size_t)(eq - name) : strlen(name);
	const struct dopt *d = find_long(table, n_table, name, len);
	struct nvb_strv words = {0};
	const char *value = NULL;
	if (nvb_strv_push(&words, w) < 0)
		return nvb_error_nomem(err);
	if (!d) {
		if (nvb_strv_pushf(&r->warnings, "unknown docker%s option %s: kept as it is%s",
				  global ? "" : " run", w,
				  eq ? "" : " (if it takes a value, write it as --option=VALUE)") < 0)
			goto oom;
	} else if (d->value) {
		if (eq) {
			value = eq + 1;
		} else {
			if (*i + 1 >= argc) {
				nvb_strv_free(&words);
				return nvb_error_set(err, NVB_ERR_USAGE, 0, NULL,
						     "docker option --%s needs a value", d->name);
			}
			value = argv[++*i];
			if (nvb_strv_push(&words, value) < 0)
				goto oom;
		}
	} else if (eq) {
		value = eq + 1; /* --rm=false */
	}
	if (global) {
		int rc = nvb_strv_add_all(&r->global, &words);
		nvb_strv_free(&words);
		return rc < 0 ? nvb_error_nomem(err) : 0;
	}
	bool consumed;
	if (handle_opt(st, d, value, &consumed, err) < 0) {
		nvb_strv_free(&words);
		return -1;
	}
	if (consumed) {
		nvb_strv_free(&words);
		return 0;
	}
	struct nvb_docker_opt *o = add_opt(r, d ? d->name : NULL, value);
	if (!o)
		goto oom;
	o->words = words;
	if (d && !strcmp(d->name, "env") && !(o->env = strdup(value)))
		return nvb_error_nomem(err);
	return 0;
oom:
	nvb_strv_free(&words);
	return nvb_error_nomem(err);
}

/* -it, -e K=V, -eK=V, -e=K=V, -dit, -ite K=V (pflag's shorthand rules) */
static int parse_short(struct parse_state *st, const struct dopt *table, size_t n_table, bool global,
		       char *const *argv, size_t argc, size_t *i, struct nvb_error *err)
{
	struct nvb_docker_run *r = st->r;
	const char *w = argv[*i];
	struct comp {
		const struct dopt *d;
		const char *value;
		bool consumed;
	} comps[64];
	size_t n = 0;
	bool took_next = false, unknown = false;
	for (size_t j = 1; w[j] && n < NVB_ARRAY_SIZE(comps); j++) {
		const struct dopt *d = find_short(table, n_table, w[j]);
		if (!d) {
			unknown = true;
			if (nvb_strv_pushf(&r->warnings, "unknown docker%s option -%c in %s: kept as it is",
					  global ? "" : " run", w[j], w) < 0)
				return nvb_error_nomem(err);
			break;
		}
		comps[n].d = d;
		comps[n].value = NULL;
		comps[n].consumed = false;
		if (d->value) {
			const char *rest = w + j + 1;
			if (*rest == '=')
				rest++;
			if (*rest || w[j + 1] == '=') {
				comps[n++].value = rest;
			} else {
				if (*i + 1 >= argc)
					return nvb_error_set(err, NVB_ERR_USAGE, 0, NULL,
							     "docker option -%c needs a value", w[j]);
				comps[n++].value = argv[*i + 1];
				took_next = true;
			}
			break;
		}
		n++;
	}
	if (took_next)
		++*i;
	struct nvb_strv words = {0};
	if (global || unknown) {
		if (nvb_strv_push(&words, w) < 0 || (took_next && nvb_strv_push(&words, argv[*i]) < 0))
			goto oom;
		int rc = global ? nvb_strv_add_all(&r->global, &words) : 0;
		if (rc < 0)
			goto oom;
		if (!global) {
			struct nvb_docker_opt *o = add_opt(r, NULL, NULL);
			if (!o)
				goto oom;
			o->words = words;
			return 0;
		}
		nvb_strv_free(&words);
		return 0;
	}
	bool any_consumed = false;
	for (size_t k = 0; k < n; k++) {
		if (handle_opt(st, comps[k].d, comps[k].value, &comps[k].consumed, err) < 0)
			return -1;
		any_consumed |= comps[k].consumed;
	}
	if (!any_consumed) { /* written again exactly as it was */
		if (nvb_strv_push(&words, w) < 0 || (took_next && nvb_strv_push(&words, argv[*i]) < 0))
			goto oom;
		struct nvb_docker_opt *o =
			add_opt(r, n == 1 ? comps[0].d->name : NULL, n == 1 ? comps[0].value : NULL);
		if (!o)
			goto oom;
		o->words = words;
		/* an env option ends the cluster: "-ite K=V" carries K=V and "-it" besides */
		if (n && !strcmp(comps[n - 1].d->name, "env")) {
			if (!(o->env = strdup(comps[n - 1].value)))
				return nvb_error_nomem(err);
			if (n > 1 && !(o->rest = nvb_asprintf("-%.*s", (int)(n - 1), w + 1)))
				return nvb_error_nomem(err);
		}
		return 0;
	}
	for (size_t k = 0; k < n; k++) {
		if (comps[k].consumed)
			continue;
		struct nvb_docker_opt *o = add_opt(r, comps[k].d->name, comps[k].value);
		if (!o || nvb_strv_pushf(&o->words, "-%c", comps[k].d->shorthand) < 0 ||
		    (comps[k].value && nvb_strv_push(&o->words, comps[k].value) < 0) ||
		    (!strcmp(comps[k].d->name, "env") && !(o->env = strdup(comps[k].value))))
			return nvb_error_nomem(err);
	}
	return 0;
oom:
	nvb_strv_free(&words);
	return nvb_error_nomem(err);
}

static bool is_docker(const char *prog)
{
	const char *base = strrchr(prog, '/');
	base = base ? base + 1 : prog;
	return !strcmp(base, "docker");
}

static int finish_request(struct parse_state *st, struct nvb_error *err)
{
	struct nvb_docker_run *r = st->r;
	if (st->n_gpus > 1 && nvb_strv_push(&r->warnings, "--gpus given more than once: the last one counts") < 0)
		goto oom;
	if (st->n_gpus) {
		r->gpus = true;
		if (st->env_devices &&
		    nvb_strv_pushf(&r->warnings, "--gpus replaces -e NVIDIA_VISIBLE_DEVICES=%s (docker sets its own "
						"value after yours)", st->env_devices) < 0)
			goto oom;
		r->devices = NVB_TAKE_PTR(st->gpus_devices);
	} else {
		r->devices = NVB_TAKE_PTR(st->env_devices);
	}
	if (st->gpus_caps) {
		if (st->env_caps &&
		    nvb_strv_pushf(&r->warnings, "--gpus capabilities replace -e NVIDIA_DRIVER_CAPABILITIES=%s",
				  st->env_caps) < 0)
			goto oom;
		r->capabilities = NVB_TAKE_PTR(st->gpus_caps);
	} else {
		r->capabilities = NVB_TAKE_PTR(st->env_caps);
	}
	if (!r->devices && r->runtime_nvidia && !r->gpus &&
	    nvb_strv_pushf(&r->warnings, "--runtime nvidia without NVIDIA_VISIBLE_DEVICES: the image's "
					"NVIDIA_VISIBLE_DEVICES decides (CUDA images say all)%s",
			  st->env_file ? "; NVIDIA_* variables in --env-file are not read" : "") < 0)
		goto oom;
	if (!r->devices && !r->runtime_nvidia && !r->gpus &&
	    nvb_strv_pushf(&r->warnings, "the command asks for no GPU (no --gpus, --runtime nvidia or "
					"-e NVIDIA_VISIBLE_DEVICES)%s",
			  st->env_file ? "; NVIDIA_* variables in --env-file are not read" : "") < 0)
		goto oom;
	if (r->devices && !r->runtime_nvidia && !r->gpus &&
	    nvb_strv_push(&r->warnings, "-e NVIDIA_VISIBLE_DEVICES without --runtime nvidia or --gpus "
				       "gives GPUs only where nvidia is dockerd's default-runtime; translated "
				       "as a GPU request") < 0)
		goto oom;
	if (r->capabilities && !r->devices && !r->runtime_nvidia &&
	    nvb_strv_push(&r->warnings, "NVIDIA_DRIVER_CAPABILITIES without a GPU request") < 0)
		goto oom;
	return 0;
oom:
	return nvb_error_nomem(err);
}

struct nvb_docker_run *nvb_docker_run_parse(char *const *argv, size_t argc, struct nvb_error *err)
{
	if (argc == 0 || !is_docker(argv[0])) {
		nvb_error_set(err, NVB_ERR_USAGE, 0,
			      "give a docker command after --: nvbind migrate command -- docker run --gpus all IMAGE",
			      "'%s' is not a docker command: only docker run and docker container run are translated",
			      argc ? argv[0] : "");
		return NULL;
	}
	struct nvb_docker_run *r = calloc(1, sizeof(*r));
	struct parse_state st = {.r = r};
	if (!r || !(r->prog = strdup(argv[0])))
		goto oom;
	size_t i = 1;
	/* docker's global options */
	while (i < argc && is_option(argv[i])) {
		int rc = argv[i][1] == '-'
				 ? parse_long(&st, global_opts, NVB_ARRAY_SIZE(global_opts), true, argv, argc, &i, err)
				 : parse_short(&st, global_opts, NVB_ARRAY_SIZE(global_opts), true, argv, argc, &i, err);
		if (rc < 0)
			goto fail;
		i++;
	}
	if (i < argc && !strcmp(argv[i], "container") && i + 1 < argc && !strcmp(argv[i + 1], "run")) {
		r->container_run = true;
		i += 2;
	} else if (i < argc && !strcmp(argv[i], "run")) {
		i++;
	} else {
		nvb_error_set(err, NVB_ERR_USAGE, 0,
			      "only docker run and docker container run are translated",
			      "'%s%s%s' is not docker run", argv[0], i < argc ? " " : "", i < argc ? argv[i] : "");
		goto fail;
	}
	/* run's options, up to the image (docker stops at the first non-option: what follows the
	 * image belongs to the command) */
	while (i < argc) {
		const char *w = argv[i];
		if (!strcmp(w, "--")) {
			i++;
			break;
		}
		if (!is_option(w))
			break;
		int rc = w[1] == '-' ? parse_long(&st, run_opts, NVB_ARRAY_SIZE(run_opts), false, argv, argc, &i, err)
				     : parse_short(&st, run_opts, NVB_ARRAY_SIZE(run_opts), false, argv, argc, &i, err);
		if (rc < 0)
			goto fail;
		i++;
	}
	if (i >= argc) {
		nvb_error_set(err, NVB_ERR_USAGE, 0, "docker run [OPTIONS] IMAGE [COMMAND] [ARG...]",
			      "the docker run command names no image");
		goto fail;
	}
	if (!(r->image = strdup(argv[i++])))
		goto oom;
	for (; i < argc; i++)
		if (nvb_strv_push(&r->cmd, argv[i]) < 0)
			goto oom;
	if (finish_request(&st, err) < 0)
		goto fail;
	free(st.env_devices);
	free(st.env_caps);
	free(st.gpus_devices);
	free(st.gpus_caps);
	return r;
oom:
	nvb_error_nomem(err);
fail:
	free(st.env_devices);
	free(st.env_caps);
	free(st.gpus_devices);
	free(st.gpus_caps);
	nvb_docker_run_free(r);
	return NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* translation */
