/* SPDX-License-Identifier: Apache-2.0 */
#include <getopt.h>

#include "cli/cli.h"
#include "config/config.h"

static const struct {
	const char *name;
	nvb_cmd_fn fn;
	const char *summary;
} commands[] = {
	{"info", nvb_cmd_info, "show the GPUs, driver and driver files of this host"},
	{"cdi", nvb_cmd_cdi, "generate, validate and list CDI specs"},
	{"run", nvb_cmd_run, "run a GPU container with docker, podman or bolt"},
	{"config", nvb_cmd_config, "create, show and validate the configuration file"},
	{"doctor", nvb_cmd_doctor, "find what is wrong with this host's GPU container setup"},
	{"setup", nvb_cmd_setup, "register nvbind-runtime with docker or podman"},
	{"migrate", nvb_cmd_migrate, "move from the NVIDIA Container Toolkit: daemon.json, commands"},
	{"hook", nvb_cmd_hook, "CDI hooks run by the container engine (create-symlinks, update-ldcache)"},
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: nvbind [GLOBAL OPTIONS] COMMAND [ARGS...]\n"
		"\n"
		"GPU discovery, CDI specs and OCI runtime integration for containers.\n"
		"\n"
		"Commands:\n");
	for (size_t i = 0; i < NVB_ARRAY_SIZE(commands); i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(out,
		"\n"
		"Global options:\n"
		"  --root DIR          host root directory (default /, or $NVBIND_ROOT, or host.root)\n"
		"  --config FILE       configuration file (default $NVBIND_CONFIG,\n"
		"                      $XDG_CONFIG_HOME/nvbind/config.toml, /etc/nvbind/config.toml)\n"
		"  --log-level LEVEL   error, warn, info, debug, trace (default warn, or $NVBIND_LOG_LEVEL)\n"
		"  --log-format FMT    text or json (JSON lines)\n"
		"  --log-file FILE     write logs to FILE instead of stderr\n"
		"  -h, --help          show this help\n"
		"  -V, --version       show the version\n"
		"\n"
		"Exit status: 0 success; 1 runtime error; 2 usage error; 3 the command ran but found\n"
		"errors (for example a broken driver installation).\n"
		"Run 'nvbind COMMAND --help' for a command's options.\n");
}

int nvb_cli_fail(const struct nvb_error *err)
{
	fprintf(stderr, "nvbind: error: %s\n", err->message[0] ? err->message : "unknown error");
	if (err->hint[0])
		fprintf(stderr, "hint: %s\n", err->hint);
	return err->code == NVB_ERR_USAGE ? NVB_EXIT_USAGE : NVB_EXIT_FAILURE;
}

int nvb_cli_usage_error(const char *fmt, ...)
{
	va_list ap;
	fputs("nvbind: error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nhint: run 'nvbind --help' for usage\n", stderr);
	return NVB_EXIT_USAGE;
}

struct nvb_config *nvb_cli_config(struct nvb_cli *cli, struct nvb_error *err)
{
	if (cli->config)
		return cli->config;
	cli->config = nvb_config_load(cli->config_path, err);
	if (cli->config && cli->root && nvb_config_set(cli->config, "host.root", cli->root, "--root", err) < 0) {
		nvb_config_free(cli->config);
		cli->config = NULL;
	}
	return cli->config;
}

struct nvb_host *nvb_cli_host(struct nvb_cli *cli, struct nvb_error *err)
{
	struct nvb_config *cfg = nvb_cli_config(cli, err);
	return cfg ? nvb_host_open(cfg->root, err) : NULL;
}

int main(int argc, char **argv)
{
	struct nvb_cli cli = {.prog = "nvbind"};
	enum nvb_log_level level = nvb_log_current;
	enum nvb_log_format format = NVB_LOG_TEXT;
	bool level_set = getenv("NVBIND_LOG_LEVEL") != NULL, format_set = false;
	const char *log_file = NULL;
	static const struct option opts[] = {
		{"root", required_argument, NULL, 'r'},
		{"config", required_argument, NULL, 'c'},
		{"log-level", required_argument, NULL, 'l'},
		{"log-format", required_argument, NULL, 'f'},
		{"log-file", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	int c;
	/* "+": stop at the first non-option, the subcommand, which parses its own options */
	while ((c = getopt_long(argc, argv, "+hV", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			cli.root = optarg;
			break;
		case 'c':
			cli.config_path = optarg;
			break;
		case 'l':
			level_set = true;
			if (nvb_log_level_parse(optarg, &level) < 0)
				return nvb_cli_usage_error(
					"unknown --log-level '%s' (use error, warn, info, debug, trace)",
					optarg);
			break;
		case 'f':
			format_set = true;
			if (nvb_log_format_parse(optarg, &format) < 0)
				return nvb_cli_usage_error("unknown --log-format '%s' (use text or json)",
							   optarg);
			break;
		case 'o':
			log_file = optarg;
			break;
		case 'h':
			usage(stdout);
			return NVB_EXIT_OK;
		case 'V':
			printf("nvbind %s\n", nvb_version());
			return NVB_EXIT_OK;
		default:
			return nvb_cli_usage_error("unknown option; see 'nvbind --help'");
		}
	}
	struct nvb_error err;
	nvb_error_clear(&err);
	if (optind >= argc) {
		usage(stderr);
		return NVB_EXIT_USAGE;
	}
	/* Every command reads the configuration (except `config`, which is how a broken one is
	 * repaired); flags and the environment win over its [log] settings. */
	if (strcmp(argv[optind], "config") != 0) {
		const struct nvb_config *cfg = nvb_cli_config(&cli, &err);
		if (!cfg)
			return nvb_cli_fail(&err);
		if (!level_set)
			nvb_log_level_parse(cfg->log_level, &level);
		if (!format_set)
			nvb_log_format_parse(cfg->log_format, &format);
		if (!log_file && cfg->log_file[0])
			log_file = cfg->log_file;
	}
	if (nvb_log_setup(level, format, log_file, &err) < 0) {
		nvb_config_free(cli.config);
		return nvb_cli_fail(&err);
	}
	const char *name = argv[optind];
	for (size_t i = 0; i < NVB_ARRAY_SIZE(commands); i++) {
		if (strcmp(commands[i].name, name) == 0) {
			optind++;
			/* subcommands parse argv[0..] with getopt from a fresh start */
			int sub_argc = argc - optind + 1;
			char **sub_argv = argv + optind - 1;
			optind = 0;
			int rc = commands[i].fn(&cli, sub_argc, sub_argv);
			nvb_config_free(cli.config);
			return rc;
		}
	}
	nvb_config_free(cli.config);
	return nvb_cli_usage_error("unknown command '%s'", name);
}
