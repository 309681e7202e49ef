/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The CDI (Container Device Interface) model: specs, their JSON/YAML forms, validation, the
 * registry of spec directories, and generation from an inventory (docs/design/cdi-semantics.md).
 */
#ifndef NVB_CDI_H
#define NVB_CDI_H

#include <jansson.h>

#include "core/core.h"
#include "format/json.h"
#include "inventory/inventory.h"

#define NVB_CDI_UNSET (-1)

struct nvb_cdi_device_node {
	char *path;
	char *host_path;   /* NULL when unset */
	char *type;        /* "c", "b", "u", "p" or NULL */
	char *permissions; /* "rwm" subset or NULL */
	int64_t major, minor, file_mode, uid, gid; /* NVB_CDI_UNSET when absent */
};

struct nvb_cdi_mount {
	char *host_path;
	char *container_path;
	char *type; /* NULL when unset */
	char **options;
	size_t n_options;
};

struct nvb_cdi_hook {
	char *hook_name;
	char *path;
	char **args;
	size_t n_args;
	char **env;
	size_t n_env;
	int64_t timeout; /* NVB_CDI_UNSET when absent */
};

struct nvb_cdi_kv {
	char *key;
	char *value;
};

struct nvb_cdi_edits {
	char **env;
	size_t n_env;
	struct nvb_cdi_device_node *nodes;
	size_t n_nodes;
	struct nvb_cdi_mount *mounts;
	size_t n_mounts;
	struct nvb_cdi_hook *hooks;
	size_t n_hooks;
	int64_t *additional_gids;
	size_t n_additional_gids;
	json_t *intel_rdt;   /* kept as read (0.7.0), NULL when absent */
	json_t *net_devices; /* kept as read (1.1.0), NULL when absent */
};

struct nvb_cdi_device {
	char *name;
	struct nvb_cdi_kv *annotations;
	size_t n_annotations;
	struct nvb_cdi_edits edits;
};

struct nvb_cdi_spec {
	char *cdi_version;
	char *kind; /* vendor/class */
	struct nvb_cdi_kv *annotations;
	size_t n_annotations;
	struct nvb_cdi_device *devices;
	size_t n_devices;
	struct nvb_cdi_edits edits;
	char *origin; /* file it was read from, or "<generated>" */
};

enum nvb_cdi_format {
	NVB_CDI_JSON = 0,
	NVB_CDI_YAML,
};

/* ---- model ---- */
NVB_INTERNAL struct nvb_cdi_spec *nvb_cdi_spec_new(const char *kind, const char *origin);
NVB_INTERNAL void nvb_cdi_spec_free(struct nvb_cdi_spec *spec);
NVB_INTERNAL void nvb_cdi_edits_clear(struct nvb_cdi_edits *edits);
NVB_INTERNAL void nvb_cdi_hook_clear(struct nvb_cdi_hook *hook);
NVB_INTERNAL struct nvb_cdi_device *nvb_cdi_spec_add_device(struct nvb_cdi_spec *spec,
							    const char *name);
NVB_INTERNAL int nvb_cdi_edits_add_env(struct nvb_cdi_edits *e, const char *kv);
NVB_INTERNAL struct nvb_cdi_device_node *nvb_cdi_edits_add_node(struct nvb_cdi_edits *e);
NVB_INTERNAL struct nvb_cdi_mount *nvb_cdi_edits_add_mount(struct nvb_cdi_edits *e);
NVB_INTERNAL struct nvb_cdi_hook *nvb_cdi_edits_add_hook(struct nvb_cdi_edits *e);
NVB_INTERNAL bool nvb_cdi_edits_empty(const struct nvb_cdi_edits *e);

/* ---- reading and writing ---- */
#define NVB_CDI_SPEC_MAX (16u << 20)
/* Parse spec text; format from the file name (.json / .yaml), else sniffed. Unknown fields
 * and wrong types are errors naming origin, device and field. */
NVB_INTERNAL struct nvb_cdi_spec *nvb_cdi_spec_parse(const char *data, size_t len,
						     const char *origin, struct nvb_error *err);
NVB_INTERNAL struct nvb_cdi_spec *nvb_cdi_spec_load(const char *path, struct nvb_error *err);
/* The same, reporting every field problem the reader finds (unknown fields, wrong types,
 * missing fields) to report, one message each, instead of stopping at the first: NULL when
 * there was any (err holds the first). Syntax errors stop reading, as they must. */
NVB_INTERNAL struct nvb_cdi_spec *nvb_cdi_spec_load_report(const char *path,
							   void (*report)(void *ctx, const char *msg),
							   void *ctx, struct nvb_error *err);
NVB_INTERNAL json_t *nvb_cdi_spec_to_json(const struct nvb_cdi_spec *spec);
NVB_INTERNAL char *nvb_cdi_spec_format(const struct nvb_cdi_spec *spec, enum nvb_cdi_format fmt,
				       struct nvb_error *err);
/* Warn (nvb_warn) when the directory is world-writable: for a spec directory always, for
 * another directory unless it is sticky. nvb_cdi_spec_load checks the directory of the spec
 * unless it was the last one checked. */
NVB_INTERNAL void nvb_cdi_check_dir_mode(int dirfd, const char *dir, bool spec_dir);

/* ---- validation ---- */
/* The lowest cdiVersion the spec's contents need ("0.3.0" ... "1.1.0"). */
NVB_INTERNAL const char *nvb_cdi_min_version(const struct nvb_cdi_spec *spec);
NVB_INTERNAL int nvb_cdi_version_cmp(const char *a, const char *b);
/* Every rule of docs/design/cdi-semantics.md. Returns the number of problems found (0 = valid);
 * each is reported through report(ctx, message) when report is non-NULL, and the first fills
 * err. */
typedef void (*nvb_cdi_report_fn)(void *ctx, const char *message);
NVB_INTERNAL int nvb_cdi_validate(const struct nvb_cdi_spec *spec, nvb_cdi_report_fn report,
				  void *ctx, struct nvb_error *err);
NVB_INTERNAL bool nvb_cdi_valid_kind(const char *kind, bool allow_dot_class);
NVB_INTERNAL bool nvb_cdi_valid_device_name(const char *name);
/* Split "vendor/class=name" into kind and name (pointers into buf). */
NVB_INTERNAL int nvb_cdi_parse_qualified(const char *qualified, char *buf, size_t cap,
					 const char **kind, const char **name);


/* ---- generation from an inventory (pure: no I/O) ---- */
/* ---- the driver folder (folder.c) ---- */
/* The driver's files gathered by hard links into one host folder, mounted once. */
struct nvb_driver_folder {
	char *host_dir; /* inside the host root: /var/lib/nvbind/driver/VERSION-HASH */
	char **rel;     /* per inventory file (inv->files[i]): its name in the folder, NULL if not in */
	size_t n;
};

/* Make (or find, and check) the folder of inv's files under host_root's
 * /var/lib/nvbind/driver, and remove older folders no process mounts. 1 and *out set; 0 and
 * *out NULL when no file can go in it (all on another file system); -1 on error (err). */
NVB_INTERNAL int nvb_driver_folder_ensure(const char *host_root, const struct nvb_inventory *inv,
					  struct nvb_driver_folder **out, struct nvb_error *err);
NVB_INTERNAL void nvb_driver_folder_free(struct nvb_driver_folder *f);
/* The name (VERSION-HASH) the folder of inv's files has or would have, without writing:
 * true and name set, or false when no file could go in one. For doctor's staleness check. */
NVB_INTERNAL int nvb_driver_folder_name(const char *host_root, const struct nvb_inventory *inv,
					char *name, size_t cap);
/* A hostPath that is a driver folder (…/var/lib/nvbind/driver/NAME): NAME, else NULL. */
NVB_INTERNAL const char *nvb_driver_folder_of(const char *host_path);
/* The folder for a spec of inv (NVIDIA's only), or NULL: when it cannot be made the reason is
 * logged and the spec mounts every file on its own, never a failure. */
NVB_INTERNAL struct nvb_driver_folder *nvb_driver_folder_for_spec(const char *host_root,
								   const struct nvb_inventory *inv);

struct nvb_cdi_gen_opts {
	const char *kind;      /* default "nvidia.com/gpu" */
	unsigned caps;         /* enum nvb_cap bits; 0 = every capability found */
	unsigned naming;       /* enum nvb_cdi_naming bits; 0 = index | uuid */
	const char *hook_path; /* absolute path of the nvbind executable the hooks run */
	const char *host_root; /* "/" or the host root: hostPath values are prefixed with it */
	const struct nvb_driver_folder *folder; /* NULL: every driver file is a mount of its own */
};

NVB_INTERNAL int nvb_cdi_naming_parse(const char *list, unsigned *out, struct nvb_error *err);
NVB_INTERNAL struct nvb_cdi_spec *nvb_cdi_generate(const struct nvb_inventory *inv,
						   const struct nvb_cdi_gen_opts *opts,
						   struct nvb_error *err);

/* ---- registry of spec directories ---- */
struct nvb_cdi_entry {
	char *qualified;                    /* vendor/class=name */
	const struct nvb_cdi_spec *spec;    /* owned by the registry */
	const struct nvb_cdi_device *device;
};

struct nvb_cdi_registry {
	struct nvb_cdi_spec **specs;
	size_t n_specs;
	struct nvb_cdi_entry *entries; /* resolvable devices, sorted by qualified name */
	size_t n_entries;
	char **errors;                 /* invalid files and conflicts, as the engines would skip them */
	size_t n_errors;
};

#define NVB_CDI_DEFAULT_DIRS {"/etc/cdi", "/var/run/cdi"}
/* Load every *.json and *.yaml spec of dirs (later directories win; a device defined twice in
 * one directory is a conflict and dropped, as in the engines). Missing directories are fine. */
NVB_INTERNAL struct nvb_cdi_registry *nvb_cdi_registry_load(const char *const *dirs, size_t n_dirs,
							    struct nvb_error *err);
NVB_INTERNAL void nvb_cdi_registry_free(struct nvb_cdi_registry *reg);
NVB_INTERNAL const struct nvb_cdi_entry *nvb_cdi_registry_find(const struct nvb_cdi_registry *reg,
							       const char *qualified);

#endif
