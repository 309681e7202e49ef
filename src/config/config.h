/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nvbind's configuration: one TOML file, found at --config, $NVBIND_CONFIG,
 * $XDG_CONFIG_HOME/nvbind/config.toml (else ~/.config/nvbind/config.toml),
 * /etc/nvbind/config.toml (the first that is given or
 * exists). Every key is optional; docs/config.md lists them with their defaults. The CLI, the
 * runtime wrapper and the library read it through nvb_config_load() only.
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

	/* [security] */
	bool env_when_unprivileged;               /* true */
	char *allowed_devices[NVB_CONFIG_MAX_LIST]; /* empty = any */
	size_t n_allowed_devices;

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
/* Override a scalar key ("host.root") with a value from the command line (source "--root"). */
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

#endif
