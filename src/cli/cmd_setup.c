/* SPDX-License-Identifier: Apache-2.0 */
/* nvbind setup docker|podman: register nvbind-runtime with an engine. */
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <sys/stat.h>
#include <time.h>

#include "cdi/cdi.h"
#include "cli/cli.h"
#include "config/config.h"
#include "engines/engines.h"

static void setup_usage(FILE *out)
{
	fprintf(out,
		"Usage: nvbind setup docker|podman [--config FILE] [--runtime-path PATH] [--default]\n"
		"                                  [--cdi] [--dry-run]\n"
		"       nvbind setup docker|podman --undo [--config FILE] [--dry-run]\n"
		"\n"
		"Register nvbind-runtime as the runtime \"nvbind\" with an engine, keeping every other\n"
		"setting, after a backup (FILE.nvbind-backup-TIMESTAMP) of the file it changes.\n"
		"  --config FILE        docker: /etc/docker/daemon.json (default)\n"
		"                       podman: /etc/containers/containers.conf (default)\n"
		"  --runtime-path PATH  the wrapper to register (default: nvbind-runtime beside nvbind)\n"
		"  --default            also make it the engine's default runtime\n"
		"  --cdi                docker: also enable CDI devices (features.cdi, Docker 25+)\n"
		"  --undo               put back the newest backup of the file\n"
		"  --dry-run            print the change as a diff and write nothing\n");
}

/* setup --undo: the newest backup replaces the file. */
static int setup_undo(const char *config, const char *engine, bool dry_run)
{
	struct nvb_error err;
	nvb_error_clear(&err);
	_cleanup_free_ char *backup = nvb_engine_config_latest_backup(config, &err);
	if (!backup)
		return nvb_cli_fail(&err);
	if (dry_run) {
		_cleanup_free_ char *cur = NULL, *saved = NULL;
		unsigned mode;
		bool exists;
		if (nvb_engine_config_read(config, &cur, &mode, &exists, &err) < 0 ||
		    nvb_engine_config_read(backup, &saved, &mode, &exists, &err) < 0)
			return nvb_cli_fail(&err);
		_cleanup_free_ char *diff = nvb_text_diff(cur, saved, config, backup);
		if (diff && !*diff)
			printf("%s is the same as %s: nothing to undo\n", config, backup);
		else
			fputs(diff ? diff : saved, stdout);
		return NVB_EXIT_OK;
	}
	if (nvb_engine_config_restore(config, backup, &err) < 0)
		return nvb_cli_fail(&err);
	printf("restored %s from %s\n", config, backup);
	printf("%s\n", !strcmp(engine, "docker") ? "restart dockerd to use it: systemctl restart docker"
						 : "podman reads it at the next command");
	return NVB_EXIT_OK;
}

int nvb_cmd_setup(struct nvb_cli *cli, int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		setup_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? NVB_EXIT_USAGE : NVB_EXIT_OK;
	}
	const char *engine = argv[1];
	bool docker = !strcmp(engine, "docker");
	static const char *const engines[] = {"docker", "podman"};
	if (!docker && strcmp(engine, "podman"))
		return nvb_cli_unknown("setup engine", engine, engines, NVB_ARRAY_SIZE(engines));
	if (nvb_cli_wants_help(argc - 1, argv + 1)) { /* also with a broken configuration */
		setup_usage(stdout);
		return NVB_EXIT_OK;
	}
	struct nvb_error cerr;
	const struct nvb_config *cfg = nvb_cli_config(cli, &cerr);
	if (!cfg)
		return nvb_cli_fail(&cerr);
	/* the default file is inside the host root; --config is taken as given (docs/cli.md,
	 * "--root") */
	_cleanup_free_ char *config_in_root =
		nvb_config_host_path(cfg, docker ? cfg->docker_config : cfg->podman_config, &cerr);
	if (!config_in_root)
		return nvb_cli_fail(&cerr);
	const char *config = config_in_root;
	_cleanup_free_ char *runtime = NULL;
	bool make_default = false, dry_run = false, cdi = false, undo = false;
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"runtime-path", required_argument, NULL, 'r'},
		{"default", no_argument, NULL, 'd'},
		{"dry-run", no_argument, NULL, 'n'},
		{"cdi", no_argument, NULL, 'C'},
		{"undo", no_argument, NULL, 'u'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;
	optind = 2;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 'r': free(runtime); runtime = strdup(optarg); break;
		case 'd': make_default = true; break;
		case 'n': dry_run = true; break;
		case 'C': cdi = true; break;
		case 'u': undo = true; break;
		case 'h': setup_usage(stdout); return NVB_EXIT_OK;
		default: setup_usage(stderr); return NVB_EXIT_USAGE;
		}
	}
	if (optind < argc)
		return nvb_cli_usage_error("setup: unexpected argument '%s'", argv[optind]);
	if (undo && (runtime || make_default || cdi))
		return nvb_cli_usage_error("setup: --undo takes only --config and --dry-run");
	if (undo)
		return setup_undo(config, engine, dry_run);
	if (cdi && !docker)
		return nvb_cli_usage_error("setup: --cdi is for docker (podman always reads CDI specs)");
	if (!runtime)
		runtime = nvb_default_runtime_path(NVBIND_BINDIR);
	if (!runtime || runtime[0] != '/')
		return nvb_cli_usage_error("setup: --runtime-path must be absolute");

	struct nvb_error err;
	nvb_error_clear(&err);
	_cleanup_free_ char *old = NULL;
	unsigned mode;
	bool exists, changed;
	if (nvb_engine_config_read(config, &old, &mode, &exists, &err) < 0)
		return nvb_cli_fail(&err);
	struct nvb_docker_options opt = {.runtime_path = runtime, .make_default = make_default, .cdi = cdi};
	_cleanup_free_ char *new_text =
		docker ? nvb_docker_edit(old, config, &opt, &changed, &err)
		       : nvb_podman_register(old, config, runtime, make_default, &changed, &err);
	if (!new_text)
		return nvb_cli_fail(&err);
	if (!changed) {
		printf("%s already registers %s as \"nvbind\"%s%s: nothing to do\n", config, runtime,
		       make_default ? " (the default runtime)" : "", cdi ? " with CDI enabled" : "");
		return NVB_EXIT_OK;
	}
	if (dry_run) {
		_cleanup_free_ char *after = nvb_asprintf("%s (after nvbind setup %s)", config, engine);
		_cleanup_free_ char *diff = nvb_text_diff(old, new_text, config, after ? after : config);
		fputs(diff ? diff : new_text, stdout);
		if (cdi) /* stdout stays a diff patch(1) can apply */
			fprintf(stderr, "note: CDI devices (features.cdi) need Docker 25 or later\n");
		return NVB_EXIT_OK;
	}
	_cleanup_free_ char *backup_path = NULL;
	if (nvb_engine_config_write(config, old, new_text, mode, exists, &backup_path, &err) < 0)
		return nvb_cli_fail(&err);
	printf("registered %s as runtime \"nvbind\"%s in %s%s%s\n", runtime,
	       make_default ? " (default)" : "", config, backup_path ? "; backup: " : "",
	       backup_path ? backup_path : "");
	if (cdi)
		printf("enabled CDI (features.cdi): CDI devices need Docker 25 or later: docker run "
		       "--device nvidia.com/gpu=all IMAGE\n");
	printf("%s\n", docker ? "restart dockerd to use it: systemctl restart docker; then: docker run "
				"--runtime nvbind --gpus all IMAGE"
			      : "podman reads it at the next command: podman --runtime nvbind run ...");
	return NVB_EXIT_OK;
}
