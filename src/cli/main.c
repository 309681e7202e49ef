/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>

#include "cli/cli.h"
#include "config/config.h"

/* value_opts: the command's options that take a value (long names, or "-x"), so that a value is
 * never taken for a global option and an option of the command named like a global one (setup's
 * --config: daemon.json) stays the command's. stop_at: global options are looked for until this
 * many operands were seen (run's IMAGE and migrate command's docker command line are not
 * nvbind's). */
static const char *const no_values[] = {NULL};
static const char *const cdi_values[] = {"output", "-o", "format", "device-name-strategy",
					 "driver-capabilities", "hook-path", "kind", "spec-dir", NULL};
static const char *const run_values[] = {"runtime", "gpu", "profile", "env", "-e", "isolation", NULL};
static const char *const capsule_values[] = {"id", "gpu", "profile", "env", "-e", "capabilities",
					     "device", "spec-dir", "bundle", "output", "-o", NULL};
static const char *const config_values[] = {"output", "-o", NULL};
static const char *const setup_values[] = {"config", "runtime-path", NULL};
static const char *const migrate_values[] = {"config", "toolkit-config", "runtime-path", "to", NULL};
static const char *const hook_values[] = {"lib", "link", "folder", "ldconfig", NULL};
static const char *const serve_values[] = {"listen", "socket", "deadline", "refresh", "state-dir", NULL};
static const char *const gpu_values[] = {"pid", "container", "runtime", "runtime-root", "timeout", NULL};

#define ANY_OPERANDS 1000000

static const struct command {
	const char *name;
	nvb_cmd_fn fn;
	const char *summary;
	const char *const *value_opts;
	int stop_at;
} commands[] = {
	{"info", nvb_cmd_info, "show the GPUs, driver and driver files of this host", no_values,
	 ANY_OPERANDS},
	{"cdi", nvb_cmd_cdi, "generate, validate and list CDI specs", cdi_values, ANY_OPERANDS},
	{"run", nvb_cmd_run, "run a GPU container with docker, podman or bolt", run_values, 1},
	{"config", nvb_cmd_config, "create, show and validate the configuration file", config_values,
	 ANY_OPERANDS},
	{"doctor", nvb_cmd_doctor, "find what is wrong with this host's GPU container setup",
	 no_values, ANY_OPERANDS},
	{"setup", nvb_cmd_setup, "register nvbind-runtime with docker or podman", setup_values,
	 ANY_OPERANDS},
	{"migrate", nvb_cmd_migrate, "move from the NVIDIA Container Toolkit: daemon.json, commands",
	 migrate_values, 2},
	{"serve", nvb_cmd_serve, "serve Prometheus metrics and health probes (a daemon)", serve_values,
	 ANY_OPERANDS},
	{"capsule", nvb_cmd_capsule, "GPU edits for Bolt capsules: setup, apply CDI devices",
	 capsule_values, ANY_OPERANDS},
	{"gpu", nvb_cmd_gpu, "checkpoint and restore the GPU state of CUDA processes", gpu_values,
	 ANY_OPERANDS},
	{"hook", nvb_cmd_hook, "CDI hooks run by the container engine (create-symlinks, update-ldcache)",
	 hook_values, ANY_OPERANDS},
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
		"  --config FILE       configuration file (default $NVBIND_CONFIG, else\n"
		"                      $XDG_CONFIG_HOME/nvbind/config.toml (~/.config when unset),\n"
		"                      else /etc/nvbind/config.toml)\n"
		"  --log-level LEVEL   error, warn, info, debug, trace (default warn, or $NVBIND_LOG_LEVEL)\n"
		"  --log-format FMT    text or json (JSON lines)\n"
		"  --log-file FILE     write logs to FILE instead of stderr\n"
		"  -h, --help          show this help\n"
		"  -V, --version       show the version\n"
		"--root, --config and the --log options may also follow the command.\n"
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

int nvb_cli_unknown(const char *what, const char *word, const char *const *candidates, size_t n)
{
	const char *best = nvb_closest(word, candidates, n);
	fprintf(stderr, "nvbind: error: unknown %s '%s'\n", what, word);
	if (best) {
		fprintf(stderr, "hint: did you mean '%s'?\n", best);
		return NVB_EXIT_USAGE;
	}
	fputs("hint: use ", stderr);
	for (size_t i = 0; i < n; i++)
		fprintf(stderr, "%s%s", i ? (i + 1 == n ? " or " : ", ") : "", candidates[i]);
	fputc('\n', stderr);
	return NVB_EXIT_USAGE;
}

bool nvb_cli_wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return true;
	return false;
}

/* The flags override the file and the environment, and say so in `config show`. */
static int apply_flags(struct nvb_cli *cli, struct nvb_config *cfg, struct nvb_error *err)
{
	const struct {
		const char *value, *key, *flag;
	} flags[] = {
		{cli->root, "host.root", "--root"},
		{cli->log_level, "log.level", "--log-level"},
		{cli->log_format, "log.format", "--log-format"},
		{cli->log_file, "log.file", "--log-file"},
	};
	for (size_t i = 0; i < NVB_ARRAY_SIZE(flags); i++)
		if (flags[i].value && nvb_config_set(cfg, flags[i].key, flags[i].value, flags[i].flag, err) < 0)
			return -1;
	return 0;
}

struct nvb_config *nvb_cli_config(struct nvb_cli *cli, struct nvb_error *err)
{
	if (cli->config)
		return cli->config;
	cli->config = nvb_config_load(cli->config_path, err);
	if (cli->config && apply_flags(cli, cli->config, err) < 0) {
		nvb_config_free(cli->config);
		cli->config = NULL;
	}
	return cli->config;
}

/* A root without /proc is no host root (an image, a mistyped directory): discovery would only
 * find "no GPU" there. */
static int check_host_root(struct nvb_host *host, struct nvb_error *err)
{
	const char *root = nvb_host_root(host);
	if (!strcmp(root, "/"))
		return 0;
	struct nvb_error ignored;
	_cleanup_close_ int fd = nvb_host_open_file(host, "/proc", O_RDONLY | O_DIRECTORY, NULL, &ignored);
	if (fd >= 0)
		return 0;
	return nvb_error_set(err, NVB_ERR_NOT_FOUND, 0,
			     "--root (NVBIND_ROOT, host.root) names the root directory of a host, with its "
			     "/proc, /sys and /dev; leave it out for this machine",
			     "host root %s has no /proc: is it a host root?", root);
}

struct nvb_host *nvb_cli_host(struct nvb_cli *cli, struct nvb_error *err)
{
	struct nvb_config *cfg = nvb_cli_config(cli, err);
	struct nvb_host *host = cfg ? nvb_host_open(cfg->root, err) : NULL;
	if (host && check_host_root(host, err) < 0) {
		nvb_host_free(host);
		return NULL;
	}
	return host;
}

enum { OPT_ROOT = 'r', OPT_CONFIG = 'c', OPT_LEVEL = 'l', OPT_FORMAT = 'f', OPT_FILE = 'o' };

static const struct option global_opts[] = {
	{"root", required_argument, NULL, OPT_ROOT},
	{"config", required_argument, NULL, OPT_CONFIG},
	{"log-level", required_argument, NULL, OPT_LEVEL},
	{"log-format", required_argument, NULL, OPT_FORMAT},
	{"log-file", required_argument, NULL, OPT_FILE},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{NULL, 0, NULL, 0},
};

/* A relative path names a place below the working directory: make it absolute, so that what
 * config show prints and what every part of nvbind opens is the same. */
static const char *absolute(struct nvb_cli *cli, size_t slot, const char *path)
{
	if (path[0] == '/')
		return path;
	char cwd[PATH_MAX];
	if (!getcwd(cwd, sizeof(cwd)))
		return path; /* left relative: the configuration check names it */
	free(cli->owned[slot]);
	cli->owned[slot] = nvb_asprintf("%s/%s", strcmp(cwd, "/") ? cwd : "", path);
	return cli->owned[slot] ? cli->owned[slot] : path;
}

/* One global option and its value; a usage error's exit code, or 0. */
static int global_option(struct nvb_cli *cli, int opt, const char *value)
{
	enum nvb_log_level level;
	enum nvb_log_format format;
	switch (opt) {
	case OPT_ROOT:
		cli->root = absolute(cli, 0, value);
		if (value[0] != '/')
			fprintf(stderr, "nvbind: note: --root '%s' is relative: it is resolved against the "
					"working directory, as %s\n", value, cli->root);
		return 0;
	case OPT_CONFIG:
		cli->config_path = value;
		return 0;
	case OPT_LEVEL:
		cli->log_level = value;
		return nvb_log_level_parse(value, &level) < 0
			       ? nvb_cli_usage_error("unknown --log-level '%s' (use error, warn, info, "
						     "debug, trace)", value)
			       : 0;
	case OPT_FORMAT:
		cli->log_format = value;
		return nvb_log_format_parse(value, &format) < 0
			       ? nvb_cli_usage_error("unknown --log-format '%s' (use text or json)", value)
			       : 0;
	case OPT_FILE:
		cli->log_file = absolute(cli, 1, value);
		return 0;
	}
	return nvb_cli_usage_error("unknown option; see 'nvbind --help'");
}

static bool is_value_opt(const struct command *cmd, const char *arg)
{
	const char *name = arg[1] == '-' ? arg + 2 : arg; /* "--gpu" -> "gpu", "-e" stays */
	for (size_t i = 0; cmd->value_opts[i]; i++)
		if (!strcmp(name, cmd->value_opts[i]))
			return true;
	return false;
}

/* The global option arg names ("--root", "--root=DIR"), or NULL; *value: its "=" value. */
static const struct option *global_named(const char *arg, const char **value)
{
	*value = NULL;
	if (strncmp(arg, "--", 2))
		return NULL;
	for (const struct option *o = global_opts; o->name; o++) {
		size_t len = strlen(o->name);
		if (o->has_arg != required_argument || strncmp(arg + 2, o->name, len))
			continue;
		if (arg[2 + len] == '=')
			*value = arg + 3 + len;
		if (arg[2 + len] == '=' || !arg[2 + len])
			return o;
	}
	return NULL;
}

/* Global options after the command (`nvbind info --root DIR`): applied, and left out of the
 * command's arguments (out, argc entries at most). Not past "--", nor into a command line of
 * the command's operands. Returns the new argument count, or -1 after a usage error (*rc). */
static int take_global_options(struct nvb_cli *cli, const struct command *cmd, int argc,
			       char **argv, char **out, int *rc)
{
	int n = 0, operands = 0, i = 0;
	out[n++] = argv[i++];
	for (; i < argc && operands < cmd->stop_at; i++) {
		const char *arg = argv[i], *value;
		if (!strcmp(arg, "--"))
			break;
		const struct option *g = is_value_opt(cmd, arg) ? NULL : global_named(arg, &value);
		if (g) {
			if (!value && i + 1 >= argc) {
				*rc = nvb_cli_usage_error("--%s needs a value", g->name);
				return -1;
			}
			if ((*rc = global_option(cli, g->val, value ? value : argv[++i])))
				return -1;
			continue;
		}
		out[n++] = argv[i];
		cli->help = cli->help || !strcmp(arg, "--help") || !strcmp(arg, "-h");
		if (is_value_opt(cmd, arg) && i + 1 < argc)
			out[n++] = argv[++i];
		else if (arg[0] != '-' || !arg[1])
			operands++;
	}
	for (; i < argc; i++)
		out[n++] = argv[i];
	out[n] = NULL;
	return n;
}

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < NVB_ARRAY_SIZE(commands); i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

static int unknown_command(const char *name)
{
	const char *names[NVB_ARRAY_SIZE(commands)];
	for (size_t i = 0; i < NVB_ARRAY_SIZE(commands); i++)
		names[i] = commands[i].name;
	return nvb_cli_unknown("command", name, names, NVB_ARRAY_SIZE(names));
}

/* Logging: the configuration's [log] with the environment and flags over it; for `config`,
 * which must run with a broken configuration to repair it, and for --help, the flags and
 * environment only. */
static int setup_logging(struct nvb_cli *cli, const struct command *cmd, struct nvb_error *err)
{
	enum nvb_log_level level = nvb_log_current; /* NVBIND_LOG_LEVEL, read at load */
	enum nvb_log_format format = NVB_LOG_TEXT;
	const char *log_file = cli->log_file;
	if (cmd->fn != nvb_cmd_config && !cli->help) {
		const struct nvb_config *cfg = nvb_cli_config(cli, err);
		if (!cfg)
			return -1;
		nvb_log_level_parse(cfg->log_level, &level);
		nvb_log_format_parse(cfg->log_format, &format);
		log_file = cfg->log_file[0] ? cfg->log_file : NULL;
	} else {
		if (cli->log_level)
			nvb_log_level_parse(cli->log_level, &level);
		if (cli->log_format)
			nvb_log_format_parse(cli->log_format, &format);
	}
	/* NVBIND_LOG_FORMAT, as for nvbind-runtime and nvbind-hook (docs/logging.md): over the
	 * configuration, under --log-format */
	const char *env_format = getenv("NVBIND_LOG_FORMAT");
	if (env_format && !cli->log_format)
		nvb_log_format_parse(env_format, &format);
	nvb_log_set_program("nvbind");
	return nvb_log_setup(level, format, log_file, err);
}

static int run_command(struct nvb_cli *cli, int argc, char **argv)
{
	const struct command *cmd = find_command(argv[0]);
	if (!cmd)
		return unknown_command(argv[0]);
	struct nvb_error err;
	nvb_error_clear(&err);
	_cleanup_free_ char **sub_argv = calloc((size_t)argc + 1, sizeof(char *));
	if (!sub_argv) {
		nvb_error_nomem(&err);
		return nvb_cli_fail(&err);
	}
	int rc = NVB_EXIT_OK;
	int sub_argc = take_global_options(cli, cmd, argc, argv, sub_argv, &rc);
	if (sub_argc < 0)
		return rc;
	if (setup_logging(cli, cmd, &err) < 0)
		return nvb_cli_fail(&err);
	optind = 0; /* subcommands parse their argv[0..] with getopt from a fresh start */
	return cmd->fn(cli, sub_argc, sub_argv);
}

int main(int argc, char **argv)
{
	struct nvb_cli cli = {.prog = "nvbind"};
	int c;
	/* "+": stop at the first non-option, the command, which parses its own options */
	while ((c = getopt_long(argc, argv, "+hV", global_opts, NULL)) != -1) {
		int rc;
		switch (c) {
		case 'h':
			usage(stdout);
			return NVB_EXIT_OK;
		case 'V':
			printf("nvbind %s\n", nvb_version());
			return NVB_EXIT_OK;
		case '?':
			return nvb_cli_usage_error("unknown option; see 'nvbind --help'");
		default:
			if ((rc = global_option(&cli, c, optarg)))
				return rc;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return NVB_EXIT_USAGE;
	}
	int rc = run_command(&cli, argc - optind, argv + optind);
	nvb_config_free(cli.config);
	free(cli.owned[0]);
	free(cli.owned[1]);
	return rc;
}
