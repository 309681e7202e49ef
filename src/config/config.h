/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nvbind's configuration: one TOML file, found at --config, $NVBIND_CONFIG,
 * $XDG_CONFIG_HOME/nvbind/config.toml (else ~/.config/nvbind/config.toml),
 * /etc/nvbind/config.toml (the first that is given or
 * exists). Every key is optional; docs/config.md lists them with their defaults. The CLI, the
 * runtime wrapper read it through nvb_config_load() only (not exported: the library API takes its
 * options as arguments).
 */
#ifndef NVB_CONFIG_H
#define NVB_CONFIG_H

#include "core/core.h"

#define NVB_CONFIG_MAX_LIST 16
#define NVB_CONFIG_MAX_PROFILES 32
#define NVB_CONFIG_MAX_ENV 64

/* Where a value came from, for `nvbind config show`. */
struct nvb_config_source {
	char what[160]; /* "default", "/etc/nvbind/config.toml:12", "NVBIND_ROOT", "--root" */
};

struct nvb_profile {
	char *name;
	char *description;
	char *capabilities; /* NVIDIA_DRIVER_CAPABILITIES words, NULL = leave the default */
	char *devices;      /* GPU selection, NULL = leave the default */
	char *env[NVB_CONFIG_MAX_ENV]; /* NAME=VALUE */
	size_t n_env;
	bool builtin;
	struct nvb_config_source source;
};

struct nvb_config {
	char *path; /* the file read, NULL when none */
	/* The configuration file was looked for at its default place, /etc/nvbind/config.toml
	 * inside this root (not named by --config, NVBIND_CONFIG or XDG_CONFIG_HOME). */
	char *searched_root;

	/* [host] */
	char *root;                               /* "/" */
	char *spec_dirs[NVB_CONFIG_MAX_LIST];     /* /etc/cdi, /var/run/cdi */
	size_t n_spec_dirs;
	char *docker_config;                      /* /etc/docker/daemon.json */
	char *podman_config;                      /* /etc/containers/containers.conf */

	/* [runtime] */
	char *engine;                             /* podman | docker | bolt: default for nvbind run */
	char *low_level;                          /* "" = first runc, then crun, on PATH */
	char *runtime_log_file;                   /* /var/log/nvbind-runtime.log */
	char *runtime_log_level;                  /* info */

	/* [engines]: the command that runs each engine (argv), for hosts and tests that need
	 * extra global options */
	char *engine_cmd[3][NVB_CONFIG_MAX_LIST]; /* docker, podman, bolt */
	size_t n_engine_cmd[3];

	/* [gpu] */
	char *devices;                            /* "all" */
	char *capabilities;                       /* "compute,utility" */

	/* [cdi] */
	char *cdi_output;                         /* /etc/cdi/nvidia.com-gpu.json */
	char *cdi_format;                         /* json */
	char *cdi_naming;                         /* "index,uuid" */
	char *cdi_hook_path;                      /* "" = the nvbind that generates */
	char *cdi_kind;                           /* nvidia.com/gpu */
	bool cdi_driver_folder;                   /* true: the driver folder (docs/cdi.md) */

	/* [security] */
	bool env_when_unprivileged;               /* true */
	char *allowed_devices[NVB_CONFIG_MAX_LIST]; /* empty = any */
	size_t n_allowed_devices;

	/* [isolation] (docs/isolation.md) */
	char *isolation_default;                  /* shared | exclusive | virtual */
	bool isolation_compute_mode;              /* exclusive also sets EXCLUSIVE_PROCESS (false) */

	/* [log] (the nvbind command) */
	char *log_level;                          /* warn */
	char *log_format;                         /* text */
	char *log_file;                           /* "" = stderr */

	/* [profiles.NAME] and the built-in ones */
	struct nvb_profile profiles[NVB_CONFIG_MAX_PROFILES];
	size_t n_profiles;

	/* sources, parallel to the keys in nvb_config_keys() order */
	struct nvb_config_source *sources;
};

enum nvb_engine_id { NVB_ENGINE_DOCKER = 0, NVB_ENGINE_PODMAN, NVB_ENGINE_BOLT };

/* Load the configuration: path (from --config) or the search order above; a missing file at
 * an explicit path is an error, a missing file found by search is not. Then the environment
 * (NVBIND_ROOT, NVBIND_LOG_LEVEL) overrides the file. Unknown keys are errors that suggest the
 * closest valid key; wrong types name the expected type; both give file:line:column. */
NVB_INTERNAL struct nvb_config *nvb_config_load(const char *path, struct nvb_error *err);
#define NVB_CONFIG_SYSTEM_PATH "/etc/nvbind/config.toml"
/* The file nvb_config_load reads: path (--config), $NVBIND_CONFIG (*must_exist for these two),
 * else the user's $XDG_CONFIG_HOME/nvbind/config.toml (XDG_CONFIG_HOME unset: ~/.config) when it
 * exists, else NVB_CONFIG_SYSTEM_PATH. NULL when out of memory. */
NVB_INTERNAL char *nvb_config_find(const char *path, bool *must_exist);
/* The defaults alone (no file, no environment). */
NVB_INTERNAL struct nvb_config *nvb_config_defaults(struct nvb_error *err);
NVB_INTERNAL void nvb_config_free(struct nvb_config *cfg);
/* Override a scalar key ("host.root") with a value from the command line (source "--root").
 * A new host.root moves the configuration file too when it was looked for at its default
 * place: the file is then read again from /etc/nvbind/config.toml inside the new root. */
NVB_INTERNAL int nvb_config_set(struct nvb_config *cfg, const char *key, const char *value,
				const char *source, struct nvb_error *err);
/* The effective configuration as TOML, each value followed by a comment naming its source. */
NVB_INTERNAL char *nvb_config_show(const struct nvb_config *cfg);
/* A commented configuration file with every key at its default, for `nvbind config init`. */
NVB_INTERNAL const char *nvb_config_template(void);
/* A profile by name (user-defined ones override built-in ones of the same name). */
NVB_INTERNAL const struct nvb_profile *nvb_config_profile(const struct nvb_config *cfg,
							  const char *name);
NVB_INTERNAL int nvb_engine_parse(const char *name, enum nvb_engine_id *out);

/* ---- The --root rule (docs/cli.md, "--root"), in this one place ----
 * With a host root other than /, every path nvbind takes from its defaults or from its
 * configuration file names a file of that host, so it lies inside the root: the spec
 * directories, cdi.output and the --if-changed state file beside it, host.docker_config and
 * host.podman_config, and NVB_CONFIG_SYSTEM_PATH (read, and written by config init). A path
 * given explicitly (a flag such as --output, --spec-dir or --config; NVBIND_CONFIG;
 * XDG_CONFIG_HOME) is used as given, relative to the working directory, and never passes
 * through here. The root is --root, else NVBIND_ROOT, else host.root of the configuration. */

/* path inside root, as this process opens it: the part of path that exists is resolved inside
 * the root (symlinks, absolute ones included, never leave it) and what does not exist yet is
 * appended (ROOT/etc/cdi/nvidia.com-gpu.json on a fresh root). With root "/" (or NULL), a
 * relative path or "-": path itself. A symbolic link where the existing part ends that leads
 * nowhere inside the root is an error: following it would leave the root. */
NVB_INTERNAL char *nvb_root_path(const char *root, const char *path, struct nvb_error *err);
/* nvb_root_path with the configuration's root (host.root after --root and NVBIND_ROOT). */
NVB_INTERNAL char *nvb_config_host_path(const struct nvb_config *cfg, const char *path,
					struct nvb_error *err);
struct nvb_strv;
/* host.spec_dirs, each through nvb_config_host_path, appended to dirs (the CDI spec
 * directories a command reads when no --spec-dir is given). */
NVB_INTERNAL int nvb_config_spec_dirs(const struct nvb_config *cfg, struct nvb_strv *dirs,
				      struct nvb_error *err);
/* The root given by the command line or the environment, for what runs without the
 * configuration (config init): cli_root, else $NVBIND_ROOT, else "/". */
NVB_INTERNAL const char *nvb_config_cli_root(const char *cli_root);
/* Create the directory of file and its missing parents, mode 0755 (a fresh host has no
 * /etc/cdi or /etc/nvbind). Nothing to do for a file in the working directory. */
NVB_INTERNAL int nvb_mkdir_parents(const char *file, struct nvb_error *err);

#endif
