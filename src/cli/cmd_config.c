/* SPDX-License-Identifier: Apache-2.0 */
/* nvbind config init | show | validate */
#include <getopt.h>

#include "cdi/cdi.h"
#include "cli/cli.h"
#include "config/config.h"

static void config_usage(FILE *out)
{
	fprintf(out, "Usage: nvbind [--root DIR] config init [--output FILE|-] [--force]\n"
		     "       nvbind [--config FILE] config show\n"
		     "       nvbind [--config FILE] config validate [FILE]\n"
		     "\n"
		     "init writes a commented file with every key at its default (default output\n"
		     "/etc/nvbind/config.toml, inside --root; missing directories are created;\n"
		     "refuses to replace a file without --force).\n"
		     "show prints the effective configuration and where each value came from.\n"
		     "validate checks a file (default: the one nvbind would read).\n");
}

static int config_init(struct nvb_cli *cli, int argc, char **argv)
{
	const char *output = NULL; /* --output is taken as given */
	bool force = false;
	static const struct option opts[] = {
		{"output", required_argument, NULL, 'o'},
		{"force", no_argument, NULL, 'f'},
		{NULL, 0, NULL, 0},
	};
	int c;
	while ((c = getopt_long(argc, argv, "o:f", opts, NULL)) != -1) {
		if (c == 'o')
			output = optarg;
		else if (c == 'f')
			force = true;
		else
			return nvb_cli_usage_error("config init: unknown option");
	}
	const char *text = nvb_config_template();
	if (output && !strcmp(output, "-")) {
		fputs(text, stdout);
		return NVB_EXIT_OK;
	}
	struct nvb_error err;
	nvb_error_clear(&err);
	/* the default is inside --root / NVBIND_ROOT; the configuration itself is not read: init
	 * is how a broken one is replaced */
	_cleanup_free_ char *inside =
		output ? NULL
		       : nvb_root_path(nvb_config_cli_root(cli->root), NVB_CONFIG_SYSTEM_PATH, &err);
	if (!output && !(output = inside))
		return nvb_cli_fail(&err);
	if (!force && access(output, F_OK) == 0)
		return nvb_cli_usage_error("config init: %s exists (use --force to replace it)", output);
	/* a fresh host has no /etc/nvbind yet */
	if (nvb_mkdir_parents(output, &err) < 0 ||
	    nvb_write_file_atomic(output, text, strlen(text), 0644, &err) < 0)
		return nvb_cli_fail(&err);
	fprintf(stderr, "nvbind: wrote %s\n", output);
	return NVB_EXIT_OK;
}

int nvb_cmd_config(struct nvb_cli *cli, int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		config_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? NVB_EXIT_USAGE : NVB_EXIT_OK;
	}
	const char *sub = argv[1];
	static const char *const subs[] = {"init", "show", "validate"};
	bool known = false;
	for (size_t i = 0; i < NVB_ARRAY_SIZE(subs); i++)
		known = known || !strcmp(sub, subs[i]);
	if (!known)
		return nvb_cli_unknown("config command", sub, subs, NVB_ARRAY_SIZE(subs));
	/* before any argument is taken for a file name */
	if (nvb_cli_wants_help(argc - 1, argv + 1)) {
		config_usage(stdout);
		return NVB_EXIT_OK;
	}
	optind = 2;
	if (!strcmp(sub, "init"))
		return config_init(cli, argc, argv);
	struct nvb_error err;
	nvb_error_clear(&err);
	if (!strcmp(sub, "validate")) {
		if (argc > 3)
			return nvb_cli_usage_error("config validate: one file at most");
		if (argc == 3 && argv[2][0] == '-')
			return nvb_cli_usage_error("config validate: unknown option '%s'", argv[2]);
		const char *path = argc == 3 ? argv[2] : cli->config_path;
		struct nvb_config *cfg = nvb_config_load(path, &err);
		if (!cfg)
			return nvb_cli_fail(&err);
		printf("%s: valid\n", cfg->path ? cfg->path : "no configuration file: defaults");
		nvb_config_free(cfg);
		return NVB_EXIT_OK;
	}
	/* show */
	if (argc > 2)
		return nvb_cli_usage_error("config show: unexpected argument '%s'", argv[2]);
	struct nvb_config *cfg = nvb_cli_config(cli, &err);
	if (!cfg)
		return nvb_cli_fail(&err);
	char *text = nvb_config_show(cfg);
	fputs(text ? text : "", stdout);
	free(text);
	return NVB_EXIT_OK;
}
