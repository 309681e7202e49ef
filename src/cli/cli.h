/* SPDX-License-Identifier: Apache-2.0 */
/* The nvbind command line: global options and one file per subcommand. */
#ifndef NVB_CLI_H
#define NVB_CLI_H

#include "core/core.h"

/* Exit codes, documented in docs/cli.md and `nvbind --help`. */
enum {
	NVB_EXIT_OK = 0,
	NVB_EXIT_FAILURE = 1, /* a runtime error: unreadable host, write failure, invalid input file */
	NVB_EXIT_USAGE = 2,   /* bad command line */
	NVB_EXIT_PROBLEMS = 3 /* the command ran, but found errors (broken driver install) */
};

struct nvb_config;

/* The global options, given before or after the command; NULL when not given. */
struct nvb_cli {
	const char *root;        /* --root, absolute (NULL: NVBIND_ROOT, then host.root) */
	const char *prog;
	const char *config_path; /* --config (NULL: NVBIND_CONFIG, XDG, /etc/nvbind) */
	const char *log_level;   /* --log-level */
	const char *log_format;  /* --log-format */
	const char *log_file;    /* --log-file, absolute */
	char *owned[2];          /* root and log_file made absolute */
	bool help;               /* the command was asked for --help: no configuration needed */
	struct nvb_config *config; /* loaded on first use by nvb_cli_config() */
};

/* The configuration, loaded once, with the global options applied over it (each shown by
 * `config show` with the flag as its source). */
struct nvb_config *nvb_cli_config(struct nvb_cli *cli, struct nvb_error *err);

typedef int (*nvb_cmd_fn)(struct nvb_cli *cli, int argc, char **argv);

int nvb_cmd_info(struct nvb_cli *cli, int argc, char **argv);
int nvb_cmd_cdi(struct nvb_cli *cli, int argc, char **argv);
int nvb_cmd_hook(struct nvb_cli *cli, int argc, char **argv);
int nvb_cmd_setup(struct nvb_cli *cli, int argc, char **argv);
int nvb_cmd_run(struct nvb_cli *cli, int argc, char **argv);
int nvb_cmd_config(struct nvb_cli *cli, int argc, char **argv);
int nvb_cmd_doctor(struct nvb_cli *cli, int argc, char **argv);
int nvb_cmd_migrate(struct nvb_cli *cli, int argc, char **argv);
int nvb_cmd_serve(struct nvb_cli *cli, int argc, char **argv);
int nvb_cmd_gpu(struct nvb_cli *cli, int argc, char **argv);
int nvb_cmd_capsule(struct nvb_cli *cli, int argc, char **argv);

/* Print "nvbind: error: MESSAGE" and "hint: HINT"; returns the exit code for the error. */
int nvb_cli_fail(const struct nvb_error *err);
int nvb_cli_usage_error(const char *fmt, ...) NVB_PRINTF(1, 2);
/* An unknown WHAT ("command", "cdi command", "profile") among candidates: the usage error,
 * with "did you mean 'X'?" when one is a typo away; the hint lists the candidates otherwise. */
int nvb_cli_unknown(const char *what, const char *word, const char *const *candidates, size_t n);
/* argv holds -h or --help among its options (before "--"): subcommands that take files or
 * words answer it before anything else. */
bool nvb_cli_wants_help(int argc, char **argv);
/* Open the host root selected by --root / NVBIND_ROOT. */
struct nvb_host *nvb_cli_host(struct nvb_cli *cli, struct nvb_error *err);

#endif
