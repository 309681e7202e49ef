/* SPDX-License-Identifier: Apache-2.0 */
/* nvbind run: build the engine's command line for a GPU container, then exec it. */
#include <getopt.h>
#include <fcntl.h>
#include <sys/wait.h>

#include "cdi/cdi.h"
#include "cli/cli.h"
#include "config/config.h"
#include "engines/cmdline.h"

static void run_usage(FILE *out)
{
	fprintf(out,
		"Usage: nvbind run [--runtime docker|podman|bolt] [--gpu all|none|LIST]\n"
		"                  [--profile NAME] [--isolation shared|exclusive|virtual]\n"
		"                  [--env K=V]... [--dry-run] IMAGE [CMD...]\n"
		"\n"
		"  --runtime   engine (default: runtime.engine of the configuration, podman)\n"
		"  --gpu       all, none, or a comma list of indices, MIG indices (0:1), GPU-/MIG-\n"
		"              UUIDs or qualified CDI names of any vendor: nvidia.com/gpu=0,\n"
		"              amd.com/gpu=0 (default: gpu.devices, all)\n"
		"  --profile   gaming, ai-ml, video, compute, or one of the configuration\n"
		"  --isolation what the container's GPUs share (docs/isolation.md): the annotation\n"
		"              nvbind.io/isolation for docker and podman, NVBIND_ISOLATION for bolt\n"
		"  --env K=V   environment for the container (after the profile's)\n"
		"  --dry-run   print the exact command instead of running it\n"
		"podman gets CDI --device names; docker gets --runtime nvbind with\n"
		"NVIDIA_VISIBLE_DEVICES (CDI --device on Docker 25+); bolt gets\n"
		"`bolt run IMAGE --runtime nvbind --gpu LIST -e K=V...` (Bolt's run takes no CMD).\n");
}

/* NAME=VALUE list where a later NAME replaces an earlier one */
struct envs {
	const char *v[NVB_CONFIG_MAX_ENV * 2 + 8];
	size_t n;
};

static int env_put(struct envs *e, const char *kv)
{
	size_t name_len = strcspn(kv, "=");
	if (!kv[name_len] || name_len == 0)
		return -1;
	for (size_t i = 0; i < e->n; i++)
		if (!strncmp(e->v[i], kv, name_len) && e->v[i][name_len] == '=') {
			e->v[i] = kv;
			return 0;
		}
	if (e->n == NVB_ARRAY_SIZE(e->v))
		return -1;
	e->v[e->n++] = kv;
	return 0;
}

static bool device_item_ok(const char *item)
{
	char buf[300];
	const char *k, *n;
	if (nvb_cdi_parse_qualified(item, buf, sizeof(buf), &k, &n) == 0)
		return true;
	return *item && strspn(item, "0123456789:") == strlen(item) ? true
		: nvb_str_has_prefix(item, "GPU-") || nvb_str_has_prefix(item, "MIG-");
}

/* dockerd's major version (0 when docker does not answer): Docker 25 and later resolve CDI
 * devices themselves. */
static int docker_major(const struct nvb_config *cfg)
{
	_cleanup_strv_ struct nvb_strv a = {0};
	for (size_t i = 0; i < cfg->n_engine_cmd[NVB_ENGINE_DOCKER]; i++)
		if (nvb_strv_push(&a, cfg->engine_cmd[NVB_ENGINE_DOCKER][i]) < 0)
			return 0;
	if (nvb_strv_push(&a, "version") < 0 || nvb_strv_push(&a, "--format") < 0 ||
	    nvb_strv_push(&a, "{{.Server.Version}}") < 0)
		return 0;
	int fds[2];
	if (pipe(fds) < 0)
		return 0;
	pid_t pid = fork();
	if (pid == 0) {
		dup2(fds[1], STDOUT_FILENO);
		close(fds[0]);
		close(fds[1]);
		int devnull = open("/dev/null", O_WRONLY);
		if (devnull >= 0)
			dup2(devnull, STDERR_FILENO);
		execvp(a.v[0], a.v);
		_exit(127);
	}
	close(fds[1]);
	char buf[64] = "";
	ssize_t n = pid > 0 ? read(fds[0], buf, sizeof(buf) - 1) : -1;
	close(fds[0]);
	if (pid > 0)
		waitpid(pid, NULL, 0);
	buf[n > 0 ? n : 0] = '\0';
	return atoi(buf);
}

struct run_opts {
	enum nvb_engine_id engine;
	const char *gpu;
	const char *caps;
	struct envs env;
	bool dry_run;
	const char *isolation; /* shared, exclusive, virtual; NULL: not asked */
	char isolation_kv[64]; /* the annotation or variable that carries it */
};

/* The annotation nvbind-runtime reads for the isolation level (docs/isolation.md), and the
 * variable that stands for it with Bolt, whose run has no annotation option. */
#define ISOLATION_ANNOTATION "nvbind.io/isolation"
#define ISOLATION_ENV "NVBIND_ISOLATION"

/* --isolation: docker and podman pass annotations to the runtime (--annotation), Bolt passes
 * only its environment. Appended after the --env list, so it wins over an --env of the name. */
static int isolation_request(struct run_opts *o, const char **opts, size_t *n_opts)
{
	if (!o->isolation)
		return 0;
	if (o->engine == NVB_ENGINE_BOLT) {
		snprintf(o->isolation_kv, sizeof(o->isolation_kv), ISOLATION_ENV "=%s", o->isolation);
		return env_put(&o->env, o->isolation_kv);
	}
	snprintf(o->isolation_kv, sizeof(o->isolation_kv), ISOLATION_ANNOTATION "=%s", o->isolation);
	opts[(*n_opts)++] = "--annotation";
	opts[(*n_opts)++] = o->isolation_kv;
	return 0;
}

static int build(const struct nvb_config *cfg, struct run_opts *o, int argc, char **argv,
		 struct nvb_strv *out)
{
	bool none = !strcmp(o->gpu, "none") || !*o->gpu;
	const char *opts[2];
	size_t n_opts = 0;
	if (isolation_request(o, opts, &n_opts) < 0)
		return -1;
	struct nvb_cmdline c = {
		.engine = o->engine,
		.prefix = (const char *const *)cfg->engine_cmd[o->engine],
		.n_prefix = cfg->n_engine_cmd[o->engine],
		.gpus = none ? NVB_CMDLINE_GPUS_NONE : NVB_CMDLINE_GPUS_LIST,
		.devices = o->gpu,
		.caps = o->caps,
		.cdi_kind = cfg->cdi_kind,
		.env = o->env.v,
		.n_env = o->env.n,
		.opts = opts,
		.n_opts = n_opts,
		.image = argv[optind],
		.args = (const char *const *)argv + optind + 1,
		.n_args = (size_t)(argc - optind - 1),
	};
	/* asked only when it matters: it runs `docker version` */
	if (c.engine == NVB_ENGINE_DOCKER && !none)
		c.docker_major = docker_major(cfg);
	return nvb_cmdline_build(&c, out);
}

static int print_quoted(const struct nvb_strv *a)
{
	for (size_t i = 0; i < a->n; i++) {
		_cleanup_free_ char *q = nvb_shell_quote(a->v[i]);
		if (!q)
			return -1;
		printf("%s%s", i ? " " : "", q);
	}
	putchar('\n');
	return 0;
}

static int unknown_profile(const struct nvb_config *cfg, const char *name)
{
	const char *names[NVB_CONFIG_MAX_PROFILES];
	for (size_t i = 0; i < cfg->n_profiles; i++)
		names[i] = cfg->profiles[i].name;
	return nvb_cli_unknown("profile", name, names, cfg->n_profiles);
}

int nvb_cmd_run(struct nvb_cli *cli, int argc, char **argv)
{
	const char *profile_name = NULL, *gpu_flag = NULL, *engine_flag = NULL;
	struct run_opts o = {.dry_run = false};
	const char *extra_env[NVB_CONFIG_MAX_ENV];
	size_t n_extra = 0;
	static const struct option opts[] = {
		{"runtime", required_argument, NULL, 'r'},
		{"gpu", required_argument, NULL, 'g'},
		{"profile", required_argument, NULL, 'p'},
		{"env", required_argument, NULL, 'e'},
		{"dry-run", no_argument, NULL, 'n'},
		{"isolation", required_argument, NULL, 'i'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;
	while ((c = getopt_long(argc, argv, "+he:", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			if (nvb_engine_parse(optarg, &o.engine) < 0)
				return nvb_cli_usage_error("run: --runtime '%s' is not docker, podman or bolt", optarg);
			engine_flag = optarg;
			break;
		case 'g': gpu_flag = optarg; break;
		case 'p': profile_name = optarg; break;
		case 'e':
			if (n_extra == NVB_ARRAY_SIZE(extra_env) || !strchr(optarg, '=') || optarg[0] == '=')
				return nvb_cli_usage_error("run: --env '%s' is not NAME=VALUE", optarg);
			extra_env[n_extra++] = optarg;
			break;
		case 'n': o.dry_run = true; break;
		case 'i':
			if (strcmp(optarg, "shared") && strcmp(optarg, "exclusive") && strcmp(optarg, "virtual"))
				return nvb_cli_usage_error("run: --isolation '%s' is not shared, exclusive or virtual",
							   optarg);
			o.isolation = optarg;
			break;
		case 'h': run_usage(stdout); return NVB_EXIT_OK;
		default: run_usage(stderr); return NVB_EXIT_USAGE;
		}
	}
	if (optind >= argc)
		return nvb_cli_usage_error("run: no IMAGE given");
	/* after the options: --help works with a broken configuration */
	struct nvb_error err;
	nvb_error_clear(&err);
	struct nvb_config *cfg = nvb_cli_config(cli, &err);
	if (!cfg)
		return nvb_cli_fail(&err);
	o.gpu = cfg->devices;
	o.caps = cfg->capabilities;
	if (!engine_flag && nvb_engine_parse(cfg->engine, &o.engine) < 0)
		return nvb_cli_usage_error("runtime.engine '%s' is not docker, podman or bolt", cfg->engine);
	/* Bolt's `run` takes IMAGE and options: a command after the image is refused by it */
	if (o.engine == NVB_ENGINE_BOLT && optind + 1 < argc)
		return nvb_cli_usage_error("run: bolt runs the image's own command: 'bolt run' takes no "
					   "CMD ('%s' given); build an image whose command it is", argv[optind + 1]);
	if (profile_name) {
		const struct nvb_profile *p = nvb_config_profile(cfg, profile_name);
		if (!p)
			return unknown_profile(cfg, profile_name);
		if (p->capabilities)
			o.caps = p->capabilities;
		if (p->devices)
			o.gpu = p->devices;
		for (size_t i = 0; i < p->n_env; i++)
			env_put(&o.env, p->env[i]);
	}
	for (size_t i = 0; i < n_extra; i++)
		if (env_put(&o.env, extra_env[i]) < 0)
			return nvb_cli_usage_error("run: too many --env");
	if (gpu_flag)
		o.gpu = gpu_flag;
	if (strcmp(o.gpu, "all") && strcmp(o.gpu, "none")) {
		_cleanup_free_ char *copy = strdup(o.gpu);
		char *save = NULL;
		for (char *d = copy ? strtok_r(copy, ",", &save) : NULL; d; d = strtok_r(NULL, ",", &save))
			if (!device_item_ok(d))
				return nvb_cli_usage_error("run: --gpu: '%s' is not a GPU (use all, none, 0,1, "
							   "0:1, GPU-..., MIG-... or nvidia.com/gpu=...)", d);
	}
	unsigned caps;
	if (nvb_caps_parse(o.caps, &caps, &err) < 0) {
		err.code = NVB_ERR_USAGE;
		return nvb_cli_fail(&err);
	}
	_cleanup_strv_ struct nvb_strv a = {0};
	if (build(cfg, &o, argc, argv, &a) < 0) {
		fputs("nvbind: out of memory\n", stderr);
		return NVB_EXIT_FAILURE;
	}
	if (o.dry_run) {
		if (print_quoted(&a) < 0) {
			fputs("nvbind: out of memory\n", stderr);
			return NVB_EXIT_FAILURE;
		}
		return NVB_EXIT_OK;
	}
	fflush(NULL);
	execvp(a.v[0], a.v);
	nvb_error_errno(&err, errno, "install it, or set engines.<name> in the configuration",
			"cannot run %s", a.v[0]);
	return nvb_cli_fail(&err);
}
