/* SPDX-License-Identifier: Apache-2.0 */
/* nvbind migrate docker|command: move a host and its command lines from the NVIDIA Container
 * Toolkit to nvbind (docs/migration.md). */
#include <getopt.h>

#include "cdi/cdi.h"
#include "cli/cli.h"
#include "config/config.h"
#include "engines/engines.h"
#include "migrate/migrate.h"

#define TOOLKIT_CONFIG "/etc/nvidia-container-runtime/config.toml"

static void migrate_usage(FILE *out)
{
	fprintf(out,
		"Usage: nvbind migrate docker [--config FILE] [--toolkit-config FILE]\n"
		"                             [--runtime-path PATH] [--dry-run]\n"
		"       nvbind migrate command [--to TARGET] -- docker run [OPTIONS] IMAGE [CMD...]\n"
		"\n"
		"docker: report what the NVIDIA Container Toolkit set in dockerd's daemon.json and in\n"
		"its config.toml, with the nvbind configuration key that does the same, then register\n"
		"nvbind-runtime as \"nvbind\" beside the existing runtimes (\"nvidia\" is kept), after a\n"
		"backup (FILE.nvbind-backup-TIMESTAMP). The default runtime is never changed.\n"
		"  --config FILE          daemon.json (default: host.docker_config, /etc/docker/daemon.json)\n"
		"  --toolkit-config FILE  the toolkit's configuration (default " TOOLKIT_CONFIG ")\n"
		"  --runtime-path PATH    the wrapper to register (default: nvbind-runtime beside nvbind)\n"
		"  --dry-run              print the change as a diff and write nothing\n"
		"\n"
		"command: translate a docker GPU command line (--gpus, --runtime nvidia,\n"
		"-e NVIDIA_VISIBLE_DEVICES, -e NVIDIA_DRIVER_CAPABILITIES). TARGET is one of\n"
		"  nvbind      docker run --runtime nvbind -e NVIDIA_VISIBLE_DEVICES=...\n"
		"  podman      podman run --device nvidia.com/gpu=N (CDI)\n"
		"  docker-cdi  docker run --device nvidia.com/gpu=N (CDI, Docker 25+)\n"
		"  nvbind-run  nvbind run --runtime docker --gpu N\n"
		"  all         each of them, labelled (default)\n"
		"The docker command may also be given as one quoted string.\n");
}

static int print_warnings(const struct nvb_strv *w)
{
	for (size_t i = 0; i < w->n; i++) {
		bool dup = false;
		for (size_t j = 0; j < i && !dup; j++)
			dup = !strcmp(w->v[i], w->v[j]);
		if (!dup)
			fprintf(stderr, "nvbind: warning: %s\n", w->v[i]);
	}
	return 0;
}

static const char *target_label(enum nvb_migrate_target t)
{
	switch (t) {
	case NVB_MIGRATE_NVBIND:
		return "docker with the nvbind runtime (register it: nvbind setup docker)";
	case NVB_MIGRATE_PODMAN:
		return "podman with CDI (write the spec first: nvbind cdi generate)";
	case NVB_MIGRATE_DOCKER_CDI:
		return "docker 25+ with CDI (nvbind cdi generate; before Docker 28.2, "
		       "\"features\": {\"cdi\": true} in daemon.json)";
	case NVB_MIGRATE_NVBIND_RUN:
		return "nvbind run";
	default:
		return "";
	}
}

static int migrate_command(struct nvb_cli *cli, int argc, char **argv)
{
	const char *to = "all";
	static const struct option opts[] = {
		{"to", required_argument, NULL, 't'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;
	optind = 2;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 't': to = optarg; break;
		case 'h': migrate_usage(stdout); return NVB_EXIT_OK;
		default: migrate_usage(stderr); return NVB_EXIT_USAGE;
		}
	}
	enum nvb_migrate_target target = NVB_MIGRATE_NVBIND;
	bool all = !strcmp(to, "all");
	if (!all && nvb_migrate_target_parse(to, &target) < 0)
		return nvb_cli_usage_error("migrate command: unknown --to '%s' (use nvbind, podman, "
					   "docker-cdi, nvbind-run or all)", to);
	if (optind >= argc)
		return nvb_cli_usage_error("migrate command: no docker command given (nvbind migrate "
					   "command -- docker run --gpus all IMAGE)");
	struct nvb_error err;
	nvb_error_clear(&err);
	const struct nvb_config *cfg = nvb_cli_config(cli, &err);
	if (!cfg)
		return nvb_cli_fail(&err);

	struct nvb_strv words = {0};
	int rc = NVB_EXIT_OK;
	if (argc - optind == 1 && strpbrk(argv[optind], " \t\n")) {
		if (nvb_shell_split(argv[optind], &words, &err) < 0) {
			nvb_strv_free(&words);
			return nvb_cli_fail(&err);
		}
	} else {
		for (int i = optind; i < argc; i++)
			if (nvb_strv_push(&words, argv[i]) < 0) {
				nvb_strv_free(&words);
				nvb_error_nomem(&err);
				return nvb_cli_fail(&err);
			}
	}
	struct nvb_docker_run *r = nvb_docker_run_parse(words.v, words.n, &err);
	nvb_strv_free(&words);
	if (!r)
		return nvb_cli_fail(&err);
	struct nvb_strv warnings = {0};
	for (size_t i = 0; i < r->warnings.n; i++)
		nvb_strv_push(&warnings, r->warnings.v[i]);
	struct nvb_strv lines = {0};
	for (int t = 0; t < NVB_MIGRATE_N_TARGETS; t++) {
		if (!all && (enum nvb_migrate_target)t != target)
			continue;
		struct nvb_strv out = {0};
		if (nvb_docker_run_translate(r, (enum nvb_migrate_target)t, cfg->cdi_kind, &out, &warnings,
					     &err) < 0) {
			rc = nvb_cli_fail(&err);
			break;
		}
		char *line = nvb_shell_join(out.v, out.n);
		nvb_strv_free(&out);
		if (!line || (all && nvb_strv_pushf(&lines, "# %s", target_label((enum nvb_migrate_target)t)) < 0) ||
		    nvb_strv_push(&lines, line) < 0) {
			free(line);
			nvb_error_nomem(&err);
			rc = nvb_cli_fail(&err);
			break;
		}
		free(line);
	}
	if (rc == NVB_EXIT_OK) {
		print_warnings(&warnings);
		for (size_t i = 0; i < lines.n; i++)
			puts(lines.v[i]);
	}
	nvb_strv_free(&lines);
	nvb_strv_free(&warnings);
	nvb_docker_run_free(r);
	return rc;
}

static int migrate_docker(struct nvb_cli *cli, int argc, char **argv)
{
	const char *config = NULL, *toolkit = TOOLKIT_CONFIG;
	_cleanup_free_ char *runtime = NULL;
	bool dry_run = false, toolkit_given = false;
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"toolkit-config", required_argument, NULL, 'k'},
		{"runtime-path", required_argument, NULL, 'r'},
		{"dry-run", no_argument, NULL, 'n'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;
	optind = 2;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 'k': toolkit = optarg; toolkit_given = true; break;
		case 'r': free(runtime); runtime = strdup(optarg); break;
		case 'n': dry_run = true; break;
		case 'h': migrate_usage(stdout); return NVB_EXIT_OK;
		default: migrate_usage(stderr); return NVB_EXIT_USAGE;
		}
	}
	if (optind < argc)
		return nvb_cli_usage_error("migrate docker: unexpected argument '%s'", argv[optind]);
	bool explicit_runtime = runtime != NULL;
	if (!runtime)
		runtime = nvb_default_runtime_path(NVBIND_BINDIR);
	if (!runtime || runtime[0] != '/')
		return nvb_cli_usage_error("migrate docker: --runtime-path must be absolute");

	struct nvb_error err;
	nvb_error_clear(&err);
	const struct nvb_config *cfg = nvb_cli_config(cli, &err);
	if (!cfg)
		return nvb_cli_fail(&err);
	bool explicit_config = config != NULL;
	/* default files are inside the host root; flags are taken as given (docs/cli.md, "--root") */
	_cleanup_free_ char *config_in_root =
		explicit_config ? NULL : nvb_config_host_path(cfg, cfg->docker_config, &err);
	_cleanup_free_ char *toolkit_in_root =
		toolkit_given ? NULL : nvb_config_host_path(cfg, TOOLKIT_CONFIG, &err);
	if ((!explicit_config && !config_in_root) || (!toolkit_given && !toolkit_in_root))
		return nvb_cli_fail(&err);
	if (!config)
		config = config_in_root;
	if (!toolkit_given)
		toolkit = toolkit_in_root;

	/* read and check everything before anything is written */
	_cleanup_free_ char *old = NULL, *tk_text = NULL, *new_text = NULL, *text = NULL,
			    *snippet = NULL;
	unsigned mode, tk_mode;
	bool exists, tk_exists, changed;
	if (nvb_engine_config_read(config, &old, &mode, &exists, &err) < 0)
		return nvb_cli_fail(&err);
	if (nvb_engine_config_read(toolkit, &tk_text, &tk_mode, &tk_exists, &err) < 0)
		return nvb_cli_fail(&err);
	struct nvb_migrate_report report = {0};
	int rc = NVB_EXIT_OK;
	if (nvb_migrate_inspect_docker(&report, old, config, &err) < 0 ||
	    (tk_exists && nvb_migrate_inspect_toolkit(&report, tk_text, strlen(tk_text), toolkit, &err) < 0)) {
		rc = nvb_cli_fail(&err);
		fprintf(stderr, "nvbind: nothing written\n");
		goto out;
	}
	new_text = nvb_docker_register(old, config, runtime, false, &changed, &err);
	if (!new_text) {
		rc = nvb_cli_fail(&err);
		fprintf(stderr, "nvbind: nothing written\n");
		goto out;
	}

	/* what was found */
	text = nvb_migrate_report_format(&report);
	if (!exists)
		printf("%s: does not exist (it will be created)\n", config);
	else if (!report.nvidia_runtime && !nvb_migrate_find(&report, "default-runtime"))
		printf("%s: no NVIDIA Container Toolkit runtime registered\n", config);
	if (text)
		fputs(text, stdout);
	if (!tk_exists)
		printf("%s: not present\n", toolkit);

	/* the change */
	putchar('\n');
	if (!changed) {
		printf("%s already registers %s as \"nvbind\": nothing to change\n", config, runtime);
	} else if (dry_run) {
		_cleanup_free_ char *after = nvb_asprintf("%s (after nvbind migrate docker)", config);
		_cleanup_free_ char *diff = nvb_text_diff(old, new_text, config, after ? after : config);
		fputs(diff ? diff : new_text, stdout);
		printf("(dry run: nothing written)\n");
	} else {
		_cleanup_free_ char *backup_path = NULL;
		if (nvb_engine_config_write(config, old, new_text, mode, exists, &backup_path, &err) < 0) {
			rc = nvb_cli_fail(&err);
			goto out;
		}
		printf("registered %s as runtime \"nvbind\" in %s%s%s\n", runtime, config,
		       backup_path ? "; backup: " : "", backup_path ? backup_path : "");
	}

	/* the default runtime is the user's choice */
	if (report.default_runtime && !strcmp(report.default_runtime, "nvidia")) {
		_cleanup_free_ char *qc = nvb_shell_quote(config);
		_cleanup_free_ char *qr = nvb_shell_quote(runtime);
		printf("\ndefault-runtime is \"nvidia\" and stays so: containers started without --runtime "
		       "keep using NVIDIA's runtime.\nTo make nvbind the default:\n"
		       "  nvbind setup docker --default%s%s%s%s\n",
		       explicit_config && qc ? " --config " : "", explicit_config && qc ? qc : "",
		       explicit_runtime && qr ? " --runtime-path " : "", explicit_runtime && qr ? qr : "");
	}

	if (report.nvidia_runtime)
		printf("\nnote: nvbind installs nvidia-container-runtime-hook as a link to nvbind-runtime; "
		       "dockerd runs the first one on its PATH for --gpus, so once nvbind's comes first, "
		       "containers started with --gpus need --runtime nvbind (or nvbind as the default "
		       "runtime) even where NVIDIA's runtime is named.\n");

	/* an nvidia-ctk spec of the same kind beside nvbind's breaks both */
	struct nvb_error cerr;
	char *dirs[NVB_CONFIG_MAX_LIST] = {NULL};
	size_t n_dirs = 0;
	while (n_dirs < cfg->n_spec_dirs &&
	       (dirs[n_dirs] = nvb_config_host_path(cfg, cfg->spec_dirs[n_dirs], &cerr)))
		n_dirs++;
	struct nvb_cdi_registry *reg =
		nvb_cdi_registry_load((const char *const *)dirs, n_dirs, &cerr);
	for (size_t i = 0; i < n_dirs; i++)
		free(dirs[i]);
	struct nvb_strv foreign = {0};
	if (reg && nvb_migrate_foreign_specs(reg, cfg->cdi_kind, &foreign) == 0 && foreign.n) {
		printf("\nCDI specs of kind %s that nvbind did not write:\n", cfg->cdi_kind);
		for (size_t i = 0; i < foreign.n; i++)
			printf("  %s\n", foreign.v[i]);
		printf("Move them away (and stop what regenerates them, e.g. systemctl disable --now "
		       "nvidia-cdi-refresh.path nvidia-cdi-refresh.service) before nvbind cdi generate: the "
		       "engines drop a device two specs of one directory define, and a spec in a later "
		       "directory hides nvbind's.\n");
	}
	nvb_strv_free(&foreign);
	nvb_cdi_registry_free(reg);

	snippet = nvb_migrate_config_snippet(&report);
	if (snippet && *snippet)
		printf("\nSettings to carry over into nvbind's configuration (%s):\n%s",
		       cfg->path ? cfg->path : "/etc/nvbind/config.toml", snippet);

	printf("\nNext:\n"
	       "  systemctl restart docker        # dockerd reads daemon.json when it starts\n"
	       "  nvbind cdi generate             # the CDI spec (podman, Docker 25+, nvbind-runtime)\n"
	       "  nvbind migrate command -- docker run --gpus all IMAGE   # translate command lines\n");
out:
	nvb_migrate_report_free(&report);
	return rc;
}

int nvb_cmd_migrate(struct nvb_cli *cli, int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		migrate_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? NVB_EXIT_USAGE : NVB_EXIT_OK;
	}
	if (!strcmp(argv[1], "docker"))
		return migrate_docker(cli, argc, argv);
	if (!strcmp(argv[1], "command"))
		return migrate_command(cli, argc, argv);
	static const char *const subs[] = {"docker", "command"};
	return nvb_cli_unknown("subcommand", argv[1], subs, NVB_ARRAY_SIZE(subs));
}
