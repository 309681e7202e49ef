/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nvbind migrate: moving a host and its users from the NVIDIA Container Toolkit to nvbind.
 *
 *  - What the toolkit left in dockerd's daemon.json (runtimes.nvidia, default-runtime, ...) and
 *    in its own /etc/nvidia-container-runtime/config.toml, each setting with the nvbind
 *    configuration key that does the same, or a note saying there is none.
 *  - Docker GPU command lines (`docker run --gpus ...`, `--runtime nvidia -e
 *    NVIDIA_VISIBLE_DEVICES=...`) translated to the nvbind runtime, podman and Docker with CDI,
 *    and `nvbind run`.
 *
 * Pure text in, text out: src/cli/cmd_migrate.c reads and writes the files.
 */
#ifndef NVB_MIGRATE_H
#define NVB_MIGRATE_H

#include "core/core.h"
#include "core/strv.h"

/* ---- configuration files ---- */

struct nvb_migrate_item {
	char *origin;       /* the file it was found in */
	int line;           /* 1-based line in a TOML file; 0 when unknown (JSON) */
	char *setting;      /* "runtimes.nvidia.path", "nvidia-container-cli.ldconfig" */
	char *value;        /* as JSON / TOML text */
	char *nvbind_key;   /* "security.env_requests_unprivileged"; NULL: no equivalent */
	char *nvbind_value; /* the value for nvbind_key, as TOML; NULL with nvbind_key NULL */
	char *note;         /* what it means for nvbind; may be NULL */
	bool differs;       /* nvbind_value is not nvbind's default: worth writing down */
};

struct nvb_migrate_report {
	struct nvb_migrate_item *items;
	size_t n_items;
	char *nvidia_runtime;   /* daemon.json runtimes.nvidia.path, NULL when absent */
	char *default_runtime;  /* daemon.json default-runtime, NULL when absent */
	char *nvbind_runtime;   /* daemon.json runtimes.nvbind.path, NULL when absent */
	bool toolkit_config;    /* a toolkit config.toml was read */
};

/* Record what daemon.json text says about the NVIDIA toolkit. Empty text (no file) finds
 * nothing. Unparseable text, duplicate keys or a non-object document are errors
 * (NVB_ERR_PARSE / NVB_ERR_INVALID) naming origin:line:column. */
NVB_INTERNAL int nvb_migrate_inspect_docker(struct nvb_migrate_report *r, const char *text,
					    const char *origin, struct nvb_error *err);
/* Record every setting of nvidia-container-runtime's config.toml with its nvbind equivalent.
 * Parse errors are NVB_ERR_PARSE with origin:line:column. */
NVB_INTERNAL int nvb_migrate_inspect_toolkit(struct nvb_migrate_report *r, const char *text,
					     size_t len, const char *origin, struct nvb_error *err);
/* The report as text for people, one block per file. */
NVB_INTERNAL char *nvb_migrate_report_format(const struct nvb_migrate_report *r);
/* An nvbind configuration file fragment (TOML, grouped by table) holding the items that
 * differ from nvbind's defaults; "" when there are none. */
NVB_INTERNAL char *nvb_migrate_config_snippet(const struct nvb_migrate_report *r);
struct nvb_cdi_registry;
/* Specs of kind in the registry that nvbind did not write (their hooks do not run
 * `nvbind hook`): an nvidia-ctk spec beside nvbind's makes the engines drop the devices both
 * define (same directory) or hides nvbind's (a later directory). One line per file is added to
 * out: "FILE (written by nvidia-ctk)" or "FILE". */
NVB_INTERNAL int nvb_migrate_foreign_specs(const struct nvb_cdi_registry *reg, const char *kind,
					   struct nvb_strv *out);
/* The item for setting, or NULL. */
NVB_INTERNAL const struct nvb_migrate_item *nvb_migrate_find(const struct nvb_migrate_report *r,
							     const char *setting);
NVB_INTERNAL void nvb_migrate_report_free(struct nvb_migrate_report *r);

/* ---- docker command lines ---- */

enum nvb_migrate_target {
	NVB_MIGRATE_NVBIND,     /* docker run --runtime nvbind -e NVIDIA_VISIBLE_DEVICES=... */
	NVB_MIGRATE_PODMAN,     /* podman run --device nvidia.com/gpu=N ... */
	NVB_MIGRATE_DOCKER_CDI, /* docker run --device nvidia.com/gpu=N ... (Docker 25+) */
	NVB_MIGRATE_NVBIND_RUN, /* nvbind run --runtime docker --gpu N IMAGE CMD */
	NVB_MIGRATE_N_TARGETS
};

/* "nvbind", "podman", "docker-cdi", "nvbind-run". */
NVB_INTERNAL const char *nvb_migrate_target_name(enum nvb_migrate_target t);
NVB_INTERNAL int nvb_migrate_target_parse(const char *name, enum nvb_migrate_target *out);

/* One option of `docker run`, as it will be written again. */
struct nvb_docker_opt {
	struct nvb_strv words; /* "-v" "/a:/b", or "--name=x", or "-it" */
	const char *name;      /* long name ("volume", "env", "rm"); NULL for an unknown option */
	char *value;           /* NULL for a flag */
	char *env;             /* the -e NAME=VALUE this option carries (also in env below), or NULL */
	char *rest;            /* with env: the option without it ("-it" of "-ite K=V"), or NULL */
};

struct nvb_docker_run {
	char *prog;                  /* "docker" as given (may be a path) */
	struct nvb_strv global;      /* docker's global options before the subcommand (-H x ...) */
	bool container_run;          /* `docker container run` */
	struct nvb_docker_opt *opts; /* options other than the GPU request, in order */
	size_t n_opts;
	char *image;
	struct nvb_strv cmd;         /* the command and its arguments, after the image */

	/* The GPU request, as nvbind-runtime reads it. */
	char *devices;      /* NVIDIA_VISIBLE_DEVICES: "all", "0,2", "GPU-...", "none", "void";
			     * NULL: nothing on the command line */
	char *capabilities; /* NVIDIA_DRIVER_CAPABILITIES; NULL: not given */
	bool gpus;          /* from --gpus */
	bool runtime_nvidia;
	struct nvb_strv env; /* the other -e NAME=VALUE / -e NAME, in order */
	struct nvb_strv warnings;
};

/* Parse a docker command line: argv[0] is docker, then global options, `run` or
 * `container run`, run's options, IMAGE, the command. Unknown options are kept as they are and
 * warned about. A command that is not docker run, a missing image or a --gpus value docker
 * would refuse outright is NVB_ERR_USAGE. */
NVB_INTERNAL struct nvb_docker_run *nvb_docker_run_parse(char *const *argv, size_t argc,
							 struct nvb_error *err);
NVB_INTERNAL void nvb_docker_run_free(struct nvb_docker_run *r);

/* Docker's --gpus value (docker/cli opts/gpus.go: a CSV of count=, device=, capabilities=,
 * driver=, options=; a bare "all" or number is the count) as NVIDIA_VISIBLE_DEVICES and
 * NVIDIA_DRIVER_CAPABILITIES values (*caps NULL when none given). Warnings (forms docker itself
 * refuses but whose meaning is plain, ignored keys) are added to warnings. */
NVB_INTERNAL int nvb_docker_gpus_parse(const char *value, char **devices, char **caps,
				       struct nvb_strv *warnings, struct nvb_error *err);

/* The equivalent command, one word per item of out (not NULL-terminated: use out->n). kind is
 * the CDI kind (nvidia.com/gpu). What the target cannot express is added to warnings. */
NVB_INTERNAL int nvb_docker_run_translate(const struct nvb_docker_run *r, enum nvb_migrate_target to,
					  const char *kind, struct nvb_strv *out,
					  struct nvb_strv *warnings, struct nvb_error *err);

/* The words quoted (nvb_shell_quote) and joined by spaces. */
NVB_INTERNAL char *nvb_shell_join(char *const *words, size_t n);
/* Split a command line as a POSIX shell would, without expansions: quotes, backslashes and
 * backslash-newline continuations. Unterminated quotes are NVB_ERR_USAGE. */
NVB_INTERNAL int nvb_shell_split(const char *line, struct nvb_strv *out, struct nvb_error *err);

#endif
