/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nvbind capsule: Bolt's capsule operations from the shell (docs/bolt.md), each one call of the
 * library (nvb_setup_gpu_for_capsule, nvb_apply_cdi_devices), so a script and an embedder get
 * the same edits.
 */
#include <fcntl.h>
#include <getopt.h>

#include "cli/cli.h"
#include "config/config.h"
#include "core/strv.h"
#include "oci/oci.h"

static void capsule_usage(FILE *out)
{
	fprintf(out,
		"Usage: nvbind capsule setup --id ID [--gpu SEL] [--profile NAME] [--env K=V]...\n"
		"                            [--capabilities CAPS] [--spec-dir DIR]... [--bundle DIR]\n"
		"                            (--edits-only | CONFIG [-o FILE])\n"
		"       nvbind capsule apply --device NAME [--device NAME]... [--spec-dir DIR]...\n"
		"                            CONFIG [-o FILE]\n"
		"\n"
		"setup   the GPU edits of a Bolt capsule: its --gpu request (all, none, 0,1, 0:1, GPU-...,\n"
		"        MIG-..., qualified CDI names such as nvidia.com/gpu=0 or amd.com/gpu=0), the\n"
		"        profile's variables and capabilities, annotations nvbind.io/capsule and\n"
		"        nvbind.io/profile. With CONFIG (an OCI config.json): the edited config; with\n"
		"        --edits-only: the edits alone, as an OCI config fragment to merge.\n"
		"apply   apply qualified CDI devices to the OCI config CONFIG.\n"
		"\n"
		"  --id ID          the capsule's id (letters, digits, '_', '.', '-')\n"
		"  --gpu SEL        the GPUs (default: the profile's devices, else gpu.devices)\n"
		"  --profile NAME   gaming, ai-ml, video, compute, or one of the configuration\n"
		"  --env K=V        a variable for the capsule (over the profile's)\n"
		"  --capabilities   NVIDIA_DRIVER_CAPABILITIES words (default: the profile's)\n"
		"  --device NAME    a qualified CDI device name, vendor.com/class=name\n"
		"  --spec-dir DIR   CDI spec directory (default: host.spec_dirs, inside --root)\n"
		"  --bundle DIR     the capsule's bundle: driver library links made in its root now\n"
		"  -o, --output F   write the result to F atomically (CONFIG itself to edit in place);\n"
		"                   default: standard output\n");
}

struct capsule_args {
	const char *id, *gpu, *profile, *caps, *bundle, *output;
	bool edits_only;
	struct nvb_strv env, devices, spec_dirs;
};

static void capsule_args_clear(struct capsule_args *a)
{
	nvb_strv_free(&a->env);
	nvb_strv_free(&a->devices);
	nvb_strv_free(&a->spec_dirs);
}

enum { O_ID = 256, O_GPU, O_PROFILE, O_ENV, O_CAPS, O_DEVICE, O_DIR, O_BUNDLE, O_EDITS };

/* the options of both subcommands; each subcommand refuses those that are not its own */
static int parse(int argc, char **argv, struct capsule_args *a)
{
	static const struct option opts[] = {
		{"id", required_argument, NULL, O_ID},
		{"gpu", required_argument, NULL, O_GPU},
		{"profile", required_argument, NULL, O_PROFILE},
		{"env", required_argument, NULL, 'e'},
		{"capabilities", required_argument, NULL, O_CAPS},
		{"device", required_argument, NULL, O_DEVICE},
		{"spec-dir", required_argument, NULL, O_DIR},
		{"bundle", required_argument, NULL, O_BUNDLE},
		{"edits-only", no_argument, NULL, O_EDITS},
		{"output", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;
	while ((c = getopt_long(argc, argv, "he:o:", opts, NULL)) != -1) {
		int rc = 0;
		switch (c) {
		case O_ID: a->id = optarg; break;
		case O_GPU: a->gpu = optarg; break;
		case O_PROFILE: a->profile = optarg; break;
		case 'e': rc = nvb_strv_push(&a->env, optarg); break;
		case O_CAPS: a->caps = optarg; break;
		case O_DEVICE: rc = nvb_strv_push(&a->devices, optarg); break;
		case O_DIR: rc = nvb_strv_push(&a->spec_dirs, optarg); break;
		case O_BUNDLE: a->bundle = optarg; break;
		case O_EDITS: a->edits_only = true; break;
		case 'o': a->output = optarg; break;
		case 'h': capsule_usage(stdout); return NVB_EXIT_OK + 100;
		default: capsule_usage(stderr); return NVB_EXIT_USAGE;
		}
		if (rc < 0) {
			fputs("nvbind: out of memory\n", stderr);
			return NVB_EXIT_FAILURE;
		}
	}
	return -1;
}

/* host.spec_dirs of the configuration, inside the host root (the --root rule), when no
 * --spec-dir was given. */
static int spec_dirs(const struct nvb_config *cfg, struct capsule_args *a, struct nvb_error *err)
{
	return a->spec_dirs.n ? 0 : nvb_config_spec_dirs(cfg, &a->spec_dirs, err);
}

static int emit(const char *output, const char *text, struct nvb_error *err)
{
	if (!output || !strcmp(output, "-"))
		return printf("%s\n", text) < 0 ? nvb_error_errno(err, errno, NULL, "standard output") : 0;
	return nvb_write_file_atomic(output, text, strlen(text), 0644, err);
}

/* --profile through the configuration: a built-in one is named to the library (which records
 * it), a user one is passed as its capabilities, variables and devices. */
static int profile_options(const struct nvb_config *cfg, struct capsule_args *a,
			   struct nvb_capsule_options *o, struct nvb_strv *env)
{
	const struct nvb_profile *p = a->profile ? nvb_config_profile(cfg, a->profile) : NULL;
	if (a->profile && !p) {
		const char *names[NVB_CONFIG_MAX_PROFILES];
		for (size_t i = 0; i < cfg->n_profiles; i++)
			names[i] = cfg->profiles[i].name;
		return nvb_cli_unknown("profile", a->profile, names, cfg->n_profiles);
	}
	o->gpu = a->gpu ? a->gpu : p && p->devices ? p->devices : cfg->devices;
	o->capabilities = a->caps;
	if (p && p->builtin) {
		o->profile = p->name;
	} else if (p) {
		o->capabilities = a->caps ? a->caps : p->capabilities;
		for (size_t i = 0; i < p->n_env; i++)
			if (nvb_strv_push(env, p->env[i]) < 0)
				return NVB_EXIT_FAILURE;
	}
	for (size_t i = 0; i < a->env.n; i++)
		if (nvb_strv_push(env, a->env.v[i]) < 0)
			return NVB_EXIT_FAILURE;
	o->env = (const char *const *)env->v;
	o->n_env = env->n;
	return 0;
}

static int cmd_setup(struct nvb_cli *cli, struct capsule_args *a, const char *config_path)
{
	if (a->devices.n)
		return nvb_cli_usage_error("capsule setup: --device is for 'capsule apply' (use --gpu)");
	if (!a->id)
		return nvb_cli_usage_error("capsule setup: --id ID is required");
	if (!config_path == !a->edits_only)
		return nvb_cli_usage_error("capsule setup: give either CONFIG or --edits-only");
	struct nvb_error err;
	nvb_error_clear(&err);
	struct nvb_config *cfg = nvb_cli_config(cli, &err);
	if (!cfg || spec_dirs(cfg, a, &err) < 0)
		return nvb_cli_fail(&err);
	_cleanup_strv_ struct nvb_strv env = {0};
	struct nvb_capsule_options o = {
		.size = sizeof(o),
		.capsule_id = a->id,
		.spec_dirs = (const char *const *)a->spec_dirs.v,
		.n_spec_dirs = a->spec_dirs.n,
		.bundle = a->bundle,
	};
	int rc = profile_options(cfg, a, &o, &env);
	if (rc)
		return rc;
	_cleanup_free_ char *config = config_path ? nvb_oci_config_read(config_path, NULL, &err) : NULL;
	if (config_path && !config)
		return nvb_cli_fail(&err);
	struct nvb_host *host = nvb_cli_host(cli, &err);
	_cleanup_free_ char *out = host ? nvb_setup_gpu_for_capsule(host, config, &o, &err) : NULL;
	nvb_host_free(host);
	if (!out || emit(a->output, out, &err) < 0)
		return nvb_cli_fail(&err);
	return NVB_EXIT_OK;
}

static int cmd_apply(struct nvb_cli *cli, struct capsule_args *a, const char *config_path)
{
	if (a->id || a->gpu || a->profile || a->env.n || a->caps || a->bundle || a->edits_only)
		return nvb_cli_usage_error("capsule apply takes --device, --spec-dir and -o only "
					   "(the capsule's options are setup's)");
	if (!a->devices.n)
		return nvb_cli_usage_error("capsule apply: give at least one --device vendor.com/class=name");
	if (!config_path)
		return nvb_cli_usage_error("capsule apply: no CONFIG (the OCI config.json to edit)");
	struct nvb_error err;
	nvb_error_clear(&err);
	struct nvb_config *cfg = nvb_cli_config(cli, &err);
	if (!cfg || spec_dirs(cfg, a, &err) < 0)
		return nvb_cli_fail(&err);
	_cleanup_free_ char *config = nvb_oci_config_read(config_path, NULL, &err);
	if (!config)
		return nvb_cli_fail(&err);
	struct nvb_host *host = nvb_cli_host(cli, &err);
	_cleanup_free_ char *out =
		host ? nvb_apply_cdi_devices(host, config, (const char *const *)a->devices.v, a->devices.n,
					     (const char *const *)a->spec_dirs.v, a->spec_dirs.n, &err)
		     : NULL;
	nvb_host_free(host);
	if (!out || emit(a->output, out, &err) < 0)
		return nvb_cli_fail(&err);
	return NVB_EXIT_OK;
}

int nvb_cmd_capsule(struct nvb_cli *cli, int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		capsule_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? NVB_EXIT_USAGE : NVB_EXIT_OK;
	}
	static const char *const subs[] = {"setup", "apply"};
	const char *sub = argv[1];
	if (strcmp(sub, "setup") && strcmp(sub, "apply"))
		return nvb_cli_unknown("capsule command", sub, subs, NVB_ARRAY_SIZE(subs));
	struct capsule_args a = {.id = NULL};
	optind = 0;
	int rc = parse(argc - 1, argv + 1, &a);
	if (rc >= 0) {
		capsule_args_clear(&a);
		return rc == NVB_EXIT_OK + 100 ? NVB_EXIT_OK : rc;
	}
	int first = optind + 1; /* optind counts in argv + 1 */
	if (argc - first > 1) {
		capsule_args_clear(&a);
		return nvb_cli_usage_error("capsule %s: one CONFIG at most, got '%s' too", sub, argv[first + 1]);
	}
	const char *config_path = first < argc ? argv[first] : NULL;
	rc = !strcmp(sub, "setup") ? cmd_setup(cli, &a, config_path) : cmd_apply(cli, &a, config_path);
	capsule_args_clear(&a);
	return rc;
}
