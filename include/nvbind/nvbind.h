/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libnvbind: GPU discovery, CDI spec generation and OCI spec editing for containers.
 *
 * Conventions (see docs/api.md):
 *  - every call that can fail returns 0 / -1 (or NULL) and fills a struct nvb_error (which may
 *    be NULL when the caller does not want the details);
 *  - *_open / *_probe return owned objects released by the matching *_free (which accepts NULL);
 *    strings the library returns as char * are owned by the caller: release them with nvb_free;
 *  - data returned by accessors (const pointers) is borrowed from its owner and lives until the
 *    owner is freed;
 *  - option structs start with a size field the caller sets to sizeof the struct: fields are
 *    only ever added at the end, and a library older than the caller's header refuses a struct
 *    whose unknown tail is not zero;
 *  - define NVBIND_OPAQUE before including this header to hide the inventory's struct layouts:
 *    such a program reads the inventory only through the accessor functions and depends on no
 *    layout at all.
 *
 * Threads: an object (host, inventory) is used by one thread at a time (share one only under a
 * lock); distinct objects may be used from different threads at once. The logging settings are
 * global: set them before threads call into the library. A log callback is called from any
 * thread that calls into the library, possibly at the same time.
 */
#ifndef NVBIND_NVBIND_H
#define NVBIND_NVBIND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define NVB_API __attribute__((visibility("default")))
#else
#define NVB_API
#endif

#define NVBIND_VERSION_MAJOR 0
#define NVBIND_VERSION_MINOR 1
#define NVBIND_VERSION_PATCH 0

NVB_API const char *nvb_version(void);
/* Release a string or buffer the library returned (char *). NULL is fine. */
NVB_API void nvb_free(void *p);

/* ------------------------------------------------------------------ errors */

enum nvb_errc {
	NVB_OK = 0,
	NVB_ERR_IO,          /* a file or device could not be read or written */
	NVB_ERR_NOT_FOUND,   /* a file, device or name does not exist */
	NVB_ERR_PARSE,       /* malformed input: cache, ELF, JSON, /proc file ... */
	NVB_ERR_INVALID,     /* a well-formed input with an invalid value */
	NVB_ERR_NOMEM,       /* allocation failed */
	NVB_ERR_PERMISSION,  /* permission denied */
	NVB_ERR_UNSUPPORTED, /* the host or input uses something nvbind does not handle */
	NVB_ERR_DRIVER,      /* the GPU driver installation is broken or inconsistent */
	NVB_ERR_SECURITY,    /* refused: path escape, hostile link, unsafe input */
	NVB_ERR_USAGE,       /* bad arguments from the caller */
};

#define NVB_ERROR_MSG_MAX 768
#define NVB_ERROR_HINT_MAX 384

struct nvb_error {
	enum nvb_errc code;
	int sys_errno;                    /* errno behind the failure, 0 if none */
	char message[NVB_ERROR_MSG_MAX];  /* names the file, device or field involved */
	char hint[NVB_ERROR_HINT_MAX];    /* what the user can do about it; may be empty */
};

NVB_API void nvb_error_clear(struct nvb_error *err);
NVB_API const char *nvb_errc_name(enum nvb_errc code);

/* ----------------------------------------------------------------- logging */

enum nvb_log_level {
	NVB_LOG_ERROR = 0,
	NVB_LOG_WARN,
	NVB_LOG_INFO,
	NVB_LOG_DEBUG,
	NVB_LOG_TRACE,
};

enum nvb_log_format {
	NVB_LOG_TEXT = 0,
	NVB_LOG_JSON,
};

/* Set the library's log level, format and destination (NULL or "-" = stderr).
 * The level defaults to warn, or NVBIND_LOG_LEVEL when set. */
NVB_API int nvb_log_setup(enum nvb_log_level level, enum nvb_log_format format, const char *file,
			  struct nvb_error *err);
NVB_API int nvb_log_level_parse(const char *name, enum nvb_log_level *out);
NVB_API int nvb_log_format_parse(const char *name, enum nvb_log_format *out);
NVB_API void nvb_log_set_level(enum nvb_log_level level);

/* Receives each log message at or above the level instead of the log file: module names the
 * part of nvbind ("cdi", "runtime", ...); message has control characters escaped (\n, \xNN),
 * as it may carry text from a container's config. Both are valid during the call only. */
typedef void (*nvb_log_fn)(enum nvb_log_level level, const char *module, const char *message,
			   void *user_data);
/* Install (fn) or remove (NULL: back to the file or stderr of nvb_log_setup) the callback. */
NVB_API void nvb_log_set_callback(nvb_log_fn fn, void *user_data);

/* --------------------------------------------------------------- host root */

/* A handle on the host's root directory ("/" in production, a fixture tree in tests).
 * Every host lookup nvbind does goes through it; symlinks are followed inside the root. */
struct nvb_host;

NVB_API struct nvb_host *nvb_host_open(const char *root, struct nvb_error *err);
NVB_API void nvb_host_free(struct nvb_host *host);
NVB_API const char *nvb_host_root(const struct nvb_host *host);

/* -------------------------------------------------------------- inventory */

enum nvb_vendor {
	NVB_VENDOR_NVIDIA = 0,
	NVB_VENDOR_AMD,
	NVB_VENDOR_INTEL,
};

/* Driver capabilities, as the words of NVIDIA_DRIVER_CAPABILITIES. */
enum nvb_cap {
	NVB_CAP_UTILITY = 1u << 0,
	NVB_CAP_COMPUTE = 1u << 1,
	NVB_CAP_VIDEO = 1u << 2,
	NVB_CAP_GRAPHICS = 1u << 3,
	NVB_CAP_DISPLAY = 1u << 4,
	NVB_CAP_NGX = 1u << 5,
	NVB_CAP_COMPAT32 = 1u << 6,
};
#define NVB_CAP_ALL 0x7fu

enum nvb_file_kind {
	NVB_FILE_LIBRARY = 0,
	NVB_FILE_BINARY,
	NVB_FILE_FIRMWARE,
	NVB_FILE_CONFIG,
	NVB_FILE_SOCKET,
};

enum nvb_problem_kind {
	NVB_PROBLEM_INFO = 0,
	NVB_PROBLEM_WARNING,
	NVB_PROBLEM_ERROR,
};

struct nvb_device_node;
struct nvb_driver_file;
struct nvb_mig_device;
struct nvb_gpu;
struct nvb_gpu_extra;
struct nvb_problem;
struct nvb_inventory;

#ifndef NVBIND_OPAQUE
/* The layouts below are those of nvbind 0.1, kept for programs that read fields directly; they
 * do not change within soversion 1. New programs use the accessors further down. */

struct nvb_device_node {
	char *path;      /* path on the host, e.g. /dev/nvidia0 (relative to the host root) */
	uint32_t major;
	uint32_t minor;
	uint32_t mode;   /* permission bits, as found on the host */
	uint32_t uid;
	uint32_t gid;
};

struct nvb_driver_file {
	char *path;           /* resolved path on the host (inside the host root) */
	char *link_path;      /* the path it was found by (cache entry or standard path), may equal path */
	enum nvb_file_kind kind;
	char *soname;         /* libraries only, else NULL */
	unsigned caps;        /* enum nvb_cap bits */
	int elf_class;        /* 32 or 64 for libraries and ELF binaries, 0 otherwise */
};

/* A driver file found where the catalogue looks but not used: a wrapper script in place of a
 * program, a text file where a shared library should be. Never mounted. */
struct nvb_skipped_file {
	char *path;           /* resolved path on the host (inside the host root) */
	enum nvb_file_kind kind; /* what the catalogue expected it to be */
	char *reason;         /* "shell script", "not an ELF file", "linker script" ... */
	char *chosen;         /* the file used instead (a path in inv->files), NULL when none */
};

struct nvb_mig_device {
	unsigned gi;         /* GPU instance id */
	unsigned ci;         /* compute instance id */
	char *uuid;          /* MIG-... when NVML told us, else NULL */
	struct nvb_device_node *nodes; /* GI access and CI access cap nodes */
	size_t n_nodes;
};

struct nvb_gpu {
	enum nvb_vendor vendor;
	unsigned index;       /* enumeration index: position in PCI bus id order */
	char *name;
	char *uuid;
	char *pci_bus_id;     /* 0000:00:06.0 */
	int minor;            /* /dev/nvidia<minor>; -1 when unknown */
	uint16_t pci_vendor, pci_device, pci_subsystem_vendor, pci_subsystem_device;
	uint32_t pci_class;
	int numa_node;
	char *kernel_driver;  /* basename of the sysfs driver link: nvidia, nouveau, vfio-pci */
	char *firmware;       /* "GPU Firmware" from /proc, NULL when absent */
	/* From NVML, when available: */
	uint64_t memory_total;  /* bytes, 0 when unknown */
	int cc_major, cc_minor; /* compute capability, -1 when unknown */
	int mig_mode;           /* 1 enabled, 0 disabled, -1 unknown */
	struct nvb_device_node *nodes;
	size_t n_nodes;
	struct nvb_mig_device *migs;
	size_t n_migs;
};

/* Something discovery could not learn or found wrong, with what to do about it. */
struct nvb_problem {
	enum nvb_problem_kind severity;
	char *code;     /* stable identifier, e.g. "libraries-missing" */
	char *message;
	char *hint;
};

struct nvb_driver {
	enum nvb_vendor vendor;
	char *version;        /* 580.159.04; NULL when no driver */
	char *kernel_module;  /* "open" or "proprietary"; NULL when no driver */
	char *version_line;   /* the raw NVRM line */
	char *firmware_dir;   /* where gsp_*.bin were found, NULL if none */
	bool nvml_loaded;
	char *cuda_version;   /* from NVML/libcuda when available */
};

struct nvb_inventory {
	struct nvb_driver driver;
	struct nvb_gpu *gpus;
	size_t n_gpus;
	struct nvb_device_node *control_nodes; /* nvidiactl, uvm, uvm-tools, modeset, caps config/monitor */
	size_t n_control_nodes;
	struct nvb_driver_file *files;
	size_t n_files;
	char **missing;       /* catalogue entries expected for this driver but not found */
	size_t n_missing;
	struct nvb_problem *problems;
	size_t n_problems;
	struct nvb_skipped_file *skipped; /* files of a catalogued name that are not used, and why */
	size_t n_skipped;
	/* Appended in nvbind 0.2. Only nvbind allocates inventories, so programs built against
	 * 0.1 keep working. One inventory holds one vendor's driver and GPUs; a host with GPUs of
	 * several vendors gives a chain: the NVIDIA inventory first (always present, maybe with no
	 * GPU), then AMD, then Intel, each only when that vendor's GPUs or driver are found. */
	struct nvb_gpu_extra *gpu_extra; /* one per gpus[] entry (same index) */
	size_t n_gpu_extra;              /* == n_gpus once nvb_inventory_probe returns */
	char *platform;                  /* "wsl2" for NVIDIA under WSL2; NULL on a plain host */
	struct nvb_inventory *next;      /* the next vendor's inventory, NULL at the end */
};

/* Vendor-specific facts about one GPU (inventory gpu_extra[i] belongs to gpus[i]). */
struct nvb_gpu_extra {
	char *cdi_id;          /* the vendor's id-style device name: AMD unique id "0x1d2f...",
				* Intel "0000-03-00-0-0x56c0"; NULL when none */
	int partition;         /* AMD: partition number on its GPU (0: the primary); -1 when the
				* GPU is not partitioned */
	char *compute_partition; /* AMD: SPX, DPX, QPX, CPX; NULL when unknown */
	char *memory_partition;  /* AMD: NPS1, NPS4; NULL when unknown */
	char *arch;            /* AMD: gfx target, e.g. gfx942; NULL for other vendors */
	uint32_t kfd_gpu_id;   /* AMD: KFD's gpu_id of this GPU or partition; 0 when unknown */
};
#endif /* NVBIND_OPAQUE */

enum nvb_probe_flags {
	NVB_PROBE_NO_NVML = 1u << 0,      /* do not dlopen libnvidia-ml */
	NVB_PROBE_NVML_IF_MIG = 1u << 1,  /* with NO_NVML: still use NVML when MIG devices exist
					   * (their MIG-<uuid> names are only known to NVML) */
	/* Which vendors to look for (0.2); none of these bits: every vendor. The NVIDIA inventory
	 * heads the chain even when NVB_PROBE_NVIDIA is not asked for (it is then empty). */
	NVB_PROBE_NVIDIA = 1u << 8,
	NVB_PROBE_AMD = 1u << 9,
	NVB_PROBE_INTEL = 1u << 10,
};
#define NVB_PROBE_VENDOR_MASK (NVB_PROBE_NVIDIA | NVB_PROBE_AMD | NVB_PROBE_INTEL)

/* Discover GPUs, driver and driver files under the host root. A host without a GPU gives an
 * inventory with n_gpus == 0 and a problem "no-gpu"; a broken driver gives problems, not an error.
 * Errors are reserved for failures to read the host at all. */
NVB_API struct nvb_inventory *nvb_inventory_probe(struct nvb_host *host, unsigned flags,
						  struct nvb_error *err);
NVB_API void nvb_inventory_free(struct nvb_inventory *inv);
/* The inventory as JSON (the format of `nvbind info --json`); free() the result. */
NVB_API char *nvb_inventory_to_json(const struct nvb_inventory *inv, struct nvb_error *err);

NVB_API const char *nvb_cap_name(enum nvb_cap cap);
/* Parse "compute,utility" / "all" into enum nvb_cap bits; unknown words are an error. */
NVB_API int nvb_caps_parse(const char *words, unsigned *out, struct nvb_error *err);
NVB_API const char *nvb_file_kind_name(enum nvb_file_kind kind);

/* ------------------------------------------------------ inventory accessors */
/* Every accessor accepts NULL and an index out of range, and then returns NULL, 0 or -1.
 * Strings are NULL when unknown. */

NVB_API const char *nvb_inventory_driver_version(const struct nvb_inventory *inv);
NVB_API const char *nvb_inventory_kernel_module(const struct nvb_inventory *inv); /* open, proprietary */
NVB_API const char *nvb_inventory_cuda_version(const struct nvb_inventory *inv);
NVB_API size_t nvb_inventory_gpu_count(const struct nvb_inventory *inv);
NVB_API const struct nvb_gpu *nvb_inventory_gpu(const struct nvb_inventory *inv, size_t i);
/* nvidiactl, nvidia-uvm, nvidia-uvm-tools, nvidia-modeset, caps nodes */
NVB_API size_t nvb_inventory_control_node_count(const struct nvb_inventory *inv);
NVB_API const struct nvb_device_node *nvb_inventory_control_node(const struct nvb_inventory *inv,
								 size_t i);
NVB_API size_t nvb_inventory_file_count(const struct nvb_inventory *inv);
NVB_API const struct nvb_driver_file *nvb_inventory_file(const struct nvb_inventory *inv, size_t i);
/* catalogue entries expected for this driver but not found */
NVB_API size_t nvb_inventory_missing_count(const struct nvb_inventory *inv);
NVB_API const char *nvb_inventory_missing(const struct nvb_inventory *inv, size_t i);
NVB_API size_t nvb_inventory_problem_count(const struct nvb_inventory *inv);
NVB_API const struct nvb_problem *nvb_inventory_problem(const struct nvb_inventory *inv, size_t i);

/* ---- several vendors (0.2, symbol version NVBIND_1.1) ---- */
/* The next vendor's inventory in the chain nvb_inventory_probe returns; NULL at the end. The
 * chain is freed as a whole by nvb_inventory_free on its head. */
NVB_API const struct nvb_inventory *nvb_inventory_next(const struct nvb_inventory *inv);
NVB_API enum nvb_vendor nvb_inventory_vendor(const struct nvb_inventory *inv);
NVB_API const char *nvb_inventory_platform(const struct nvb_inventory *inv); /* "wsl2" or NULL */
NVB_API const char *nvb_vendor_name(enum nvb_vendor vendor); /* "nvidia", "amd", "intel" */
/* The vendor's id-style CDI name of GPU i (AMD unique id, Intel PCI id), NULL when none */
NVB_API const char *nvb_inventory_gpu_cdi_id(const struct nvb_inventory *inv, size_t i);
/* AMD: partition number of GPU i on its device (0 the primary), -1 when not partitioned */
NVB_API int nvb_inventory_gpu_partition(const struct nvb_inventory *inv, size_t i);
NVB_API const char *nvb_inventory_gpu_arch(const struct nvb_inventory *inv, size_t i); /* gfx942 */

NVB_API unsigned nvb_gpu_index(const struct nvb_gpu *gpu); /* position in PCI bus id order */
NVB_API enum nvb_vendor nvb_gpu_vendor(const struct nvb_gpu *gpu);
NVB_API const char *nvb_gpu_name(const struct nvb_gpu *gpu);
NVB_API const char *nvb_gpu_uuid(const struct nvb_gpu *gpu);
NVB_API const char *nvb_gpu_pci_bus_id(const struct nvb_gpu *gpu); /* 0000:00:06.0 */
NVB_API const char *nvb_gpu_kernel_driver(const struct nvb_gpu *gpu); /* nvidia, nouveau, vfio-pci */
NVB_API int nvb_gpu_minor(const struct nvb_gpu *gpu);        /* /dev/nvidia<minor>; -1 unknown */
NVB_API int nvb_gpu_numa_node(const struct nvb_gpu *gpu);    /* -1 unknown */
NVB_API uint64_t nvb_gpu_memory_total(const struct nvb_gpu *gpu); /* bytes (NVML); 0 unknown */
NVB_API int nvb_gpu_mig_mode(const struct nvb_gpu *gpu);     /* 1 on, 0 off, -1 unknown */
/* 0 and the compute capability (NVML), or -1 when unknown */
NVB_API int nvb_gpu_compute_capability(const struct nvb_gpu *gpu, int *major, int *minor);
NVB_API size_t nvb_gpu_node_count(const struct nvb_gpu *gpu);
NVB_API const struct nvb_device_node *nvb_gpu_node(const struct nvb_gpu *gpu, size_t i);
NVB_API size_t nvb_gpu_mig_count(const struct nvb_gpu *gpu);
NVB_API const struct nvb_mig_device *nvb_gpu_mig(const struct nvb_gpu *gpu, size_t i);

NVB_API unsigned nvb_mig_gi(const struct nvb_mig_device *mig); /* GPU instance id */
NVB_API unsigned nvb_mig_ci(const struct nvb_mig_device *mig); /* compute instance id */
NVB_API const char *nvb_mig_uuid(const struct nvb_mig_device *mig); /* MIG-...; NULL without NVML */

NVB_API const char *nvb_device_node_path(const struct nvb_device_node *node); /* /dev/nvidia0 */
NVB_API uint32_t nvb_device_node_major(const struct nvb_device_node *node);
NVB_API uint32_t nvb_device_node_minor(const struct nvb_device_node *node);

NVB_API const char *nvb_driver_file_path(const struct nvb_driver_file *file); /* inside the root */
NVB_API enum nvb_file_kind nvb_driver_file_kind(const struct nvb_driver_file *file);
NVB_API const char *nvb_driver_file_soname(const struct nvb_driver_file *file); /* libraries */
NVB_API unsigned nvb_driver_file_caps(const struct nvb_driver_file *file); /* enum nvb_cap bits */

NVB_API enum nvb_problem_kind nvb_problem_severity(const struct nvb_problem *problem);
NVB_API const char *nvb_problem_code(const struct nvb_problem *problem); /* "no-gpu", ... */
NVB_API const char *nvb_problem_message(const struct nvb_problem *problem);
NVB_API const char *nvb_problem_hint(const struct nvb_problem *problem);

/* -------------------------------------------------------------- CDI specs */

enum nvb_spec_format {
	NVB_SPEC_JSON = 0,
	NVB_SPEC_YAML,
};

/* Device naming strategies (bits), as --device-name-strategy of `nvbind cdi generate`. */
#define NVB_NAMING_INDEX 0x1u      /* "0", MIG "0:1" */
#define NVB_NAMING_UUID 0x2u       /* "GPU-...", MIG "MIG-..." */
#define NVB_NAMING_TYPE_INDEX 0x4u /* "gpu0", MIG "mig0:1" */

/* Parse "index,uuid,type-index" into NVB_NAMING_* bits; unknown words are an error. */
NVB_API int nvb_naming_parse(const char *words, unsigned *out, struct nvb_error *err);

/* The options of `nvbind cdi generate`. Zero means the command's default. */
struct nvb_cdi_options {
	size_t size;              /* sizeof(struct nvb_cdi_options) */
	const char *kind;         /* vendor/class; NULL: nvidia.com/gpu */
	unsigned naming;          /* NVB_NAMING_* bits; 0: index and uuid */
	unsigned caps;            /* enum nvb_cap bits; 0: every capability found */
	const char *hook_path;    /* nvbind-hook the spec's hook runs; NULL: beside the calling
				   * program, else the one installed with the library */
	enum nvb_spec_format format; /* for nvb_cdi_generate_string */
};

/* The CDI spec of the host, as text in opts->format (free it with nvb_free). inv: an inventory
 * of this host, or NULL to discover it here as `nvbind cdi generate` does (NVML only when MIG
 * devices exist). hostPath values are prefixed with the host root. opts may be NULL. */
NVB_API char *nvb_cdi_generate_string(struct nvb_host *host, const struct nvb_inventory *inv,
				      const struct nvb_cdi_options *opts, struct nvb_error *err);
/* The same, written atomically to path (mode 0644; the directory must exist). The name decides
 * the format: .json or .yaml, as engines read nothing else; opts->format is not used. */
NVB_API int nvb_cdi_generate_file(struct nvb_host *host, const struct nvb_inventory *inv,
				  const struct nvb_cdi_options *opts, const char *path,
				  struct nvb_error *err);

/* ------------------------------------------------------- OCI config edits */

/* nvb_apply_options.flags */
#define NVB_APPLY_CONFIG_REQUESTS 0x1u  /* also the requests the config carries (cdi.k8s.io/NAME
					 * annotations, NVIDIA_VISIBLE_DEVICES), as nvbind-runtime */
#define NVB_APPLY_ENV_UNPRIVILEGED 0x2u /* with CONFIG_REQUESTS: env requests of unprivileged
					 * containers too (nvbind-runtime ignores them) */

struct nvb_apply_options {
	size_t size;                  /* sizeof(struct nvb_apply_options) */
	const char *const *devices;   /* qualified CDI names: nvidia.com/gpu=0, vendor.com/x=y */
	size_t n_devices;
	const char *visible_devices;  /* and/or an NVIDIA_VISIBLE_DEVICES value: all, none, 0,1,
				       * 0:1, GPU-..., MIG-...; NULL: none */
	const char *capabilities;     /* NVIDIA_DRIVER_CAPABILITIES words for visible_devices;
				       * NULL: utility,compute */
	const char *const *spec_dirs; /* CDI spec directories, later ones win; NULL: /etc/cdi and
				       * /var/run/cdi inside the host root */
	size_t n_spec_dirs;
	const char *hook_path;        /* nvbind-hook for a spec generated from the host (when no
				       * spec is installed); NULL as in nvb_cdi_options */
	const char *bundle;           /* the bundle directory of this config: nvbind then makes the
				       * driver libraries' links and loader cache in its root.path
				       * now, and leaves no hook for them (docs/api.md) */
	unsigned flags;               /* NVB_APPLY_* */
};

/* Resolve the requested devices in the installed specs (or a spec generated from the host when
 * none is installed for nvidia.com/gpu) and apply their edits to the OCI config, as
 * nvbind-runtime does before runc: returns the edited config (JSON, free it with nvb_free). */
NVB_API char *nvb_oci_apply(struct nvb_host *host, const char *config_json,
			    const struct nvb_apply_options *opts, struct nvb_error *err);
/* The same with the config read from a file (a regular file, not a symbolic link). The file
 * is not written. */
NVB_API char *nvb_oci_apply_file(struct nvb_host *host, const char *config_path,
				 const struct nvb_apply_options *opts, struct nvb_error *err);

/* ------------------------------------------- GPU isolation (issue 13, docs/isolation.md) */

/* What a container's GPUs share with other containers. */
enum nvb_isolation {
	NVB_ISOLATION_SHARED = 0,  /* no claim: any number of containers use the GPU */
	NVB_ISOLATION_EXCLUSIVE,   /* one container at a time per GPU (a claim under the state dir) */
	NVB_ISOLATION_VIRTUAL,     /* CUDA MPS: a control daemon per GPU, per-container limits */
};

/* nvb_isolation_options.flags */
#define NVB_ISOLATION_FROM_ANNOTATIONS 0x1u /* the config's annotations nvbind.io/isolation,
					     * nvbind.io/gpu-memory-limit and
					     * nvbind.io/gpu-compute-limit override level and limits,
					     * as nvbind-runtime does */
#define NVB_ISOLATION_COMPUTE_MODE 0x2u     /* exclusive: also set the GPU's compute mode to
					     * EXCLUSIVE_PROCESS through NVML while claimed (host-wide;
					     * the previous mode is restored with the last claim) */

struct nvb_isolation_options {
	size_t size;                  /* sizeof(struct nvb_isolation_options) */
	enum nvb_isolation level;     /* the level when the annotations (see flags) say none */
	const char *container_id;     /* the holder's id: [A-Za-z0-9_.-], required unless shared */
	const char *engine;           /* docker, podman, bolt, ... for messages; NULL: unknown */
	const char *state_dir;        /* claims and MPS daemons live here; NULL: $NVBIND_STATE_DIR,
				       * else /run/nvbind */
	const char *runtime_root;     /* the low-level runtime's state root (/run/runc): the claim
				       * lives while <runtime_root>/<id> names a living init process;
				       * NULL: only holder_pid keeps it */
	int64_t holder_pid;           /* a process whose life keeps the claim (nvbind-runtime: its
				       * own pid, which becomes runc's); 0: the calling process */
	uint64_t memory_limit;        /* virtual: pinned device memory per GPU, bytes; 0: none */
	unsigned compute_percent;     /* virtual: active thread percentage 1..100; 0: none */
	unsigned flags;               /* NVB_ISOLATION_* */
};

/* Isolate the GPUs the OCI config was given (its /dev/nvidiaN device nodes, as nvb_oci_apply
 * leaves them): exclusive takes a claim per GPU and fails with NVB_ERR_PERMISSION, naming the
 * holder, when another living container holds one; virtual starts (or
 * joins) the GPU's MPS control daemon and adds its pipe directory mount and the limit
 * variables. Returns the edited config (JSON, free it with nvb_free); shared returns it as
 * given. Claims of containers whose processes are gone are taken over (logged). */
NVB_API char *nvb_configure_gpu_isolation(struct nvb_host *host, const char *config_json,
					  const struct nvb_isolation_options *opts,
					  struct nvb_error *err);
/* Release what nvb_configure_gpu_isolation took for container_id: its claims (restoring the
 * compute mode with a GPU's last claim) and its MPS client entries (stopping a daemon with its
 * last client). state_dir NULL: as above. Nothing held is not an error. Reads only the state
 * dir: no configuration, no host inventory. */
NVB_API int nvb_release_gpu_isolation(const char *state_dir, const char *container_id,
				      struct nvb_error *err);
/* "shared", "exclusive", "virtual" (NULL for another value); and the reverse (-1: unknown). */
NVB_API const char *nvb_isolation_name(enum nvb_isolation level);
NVB_API int nvb_isolation_parse(const char *name, enum nvb_isolation *out);
/* ------------------------------------------------------- end of GPU isolation */

/* ------------------------------------------------------------ GPU snapshots (NVBIND_1.1) */
/* CUDA checkpoint (driver r570+, docs/snapshot.md): lock and checkpoint the GPU state of CUDA
 * processes (device memory copied to host memory, GPU handles released), then restore and
 * unlock it. libcuda.so.1 is loaded from the host root's library cache. Not handled by the
 * driver, hence refused or failed: UVM or CUDA IPC memory, MIG and MPS clients; restore needs
 * the same GPU type. */

/* A process's CUDA checkpoint state, as cuCheckpointProcessGetState answers (CUprocessState). */
enum nvb_gpu_state {
	NVB_GPU_STATE_UNKNOWN = -1,     /* the driver could not tell (see the entry's message) */
	NVB_GPU_STATE_RUNNING = 0,
	NVB_GPU_STATE_LOCKED = 1,       /* CUDA calls blocked, GPU memory still on the GPU */
	NVB_GPU_STATE_CHECKPOINTED = 2, /* GPU memory in host memory, GPU released */
	NVB_GPU_STATE_FAILED = 3,
};
/* "running", "locked", "checkpointed", "failed", "unknown". */
NVB_API const char *nvb_gpu_state_name(enum nvb_gpu_state state);

struct nvb_snapshot_options {
	size_t size;              /* sizeof(struct nvb_snapshot_options) */
	unsigned timeout_ms;      /* how long the lock of each process may wait for its CUDA work
				   * to finish; 0: 10000 */
	const char *runtime;      /* nvb_gpu_container_pids: the OCI runtime asked for the state
				   * (`RUNTIME --root DIR state ID`); NULL: runc in PATH */
	const char *runtime_root; /* its --root; NULL: the runtime's default */
};

/* What happened to each process of a snapshot operation, in the order of the pids given. */
enum nvb_snapshot_outcome {
	NVB_SNAPSHOT_DONE = 0,       /* the operation succeeded for this process */
	NVB_SNAPSHOT_FAILED,         /* its driver call failed (message says which) */
	NVB_SNAPSHOT_ROLLED_BACK,    /* it was done, then undone after a later failure */
	NVB_SNAPSHOT_NOT_UNDONE,     /* a failure left it locked or checkpointed: undoing failed */
	NVB_SNAPSHOT_SKIPPED,        /* not attempted, because of an earlier failure */
};

struct nvb_snapshot_report;

/* Checkpoint the GPU state of pids, in order: lock each (waiting up to timeout_ms), then
 * checkpoint each. Every process must be RUNNING first. When one fails, those already locked
 * or checkpointed are restored and unlocked in reverse order, and the call returns -1. *out
 * (when out is not NULL) gets the report whenever the driver was reached, on success and
 * failure: free it with nvb_snapshot_report_free. opts may be NULL. */
NVB_API int nvb_gpu_checkpoint(struct nvb_host *host, const int *pids, size_t n,
			       const struct nvb_snapshot_options *opts,
			       struct nvb_snapshot_report **out, struct nvb_error *err);
/* Restore and unlock pids in reverse order (the order nvb_gpu_checkpoint was given): a
 * CHECKPOINTED process is restored then unlocked, a LOCKED one unlocked, a RUNNING one left
 * alone. A failure does not stop the others; the call then returns -1. */
NVB_API int nvb_gpu_restore(struct nvb_host *host, const int *pids, size_t n,
			    const struct nvb_snapshot_options *opts,
			    struct nvb_snapshot_report **out, struct nvb_error *err);
/* The state of each of pids (the report's outcome is FAILED for a process the driver does not
 * know as a CUDA process). Returns -1 only when the driver cannot be used. */
NVB_API int nvb_gpu_state(struct nvb_host *host, const int *pids, size_t n,
			  struct nvb_snapshot_report **out, struct nvb_error *err);
/* The CUDA processes of a container: every process of its cgroup and the cgroups below it
 * (cgroup v2 or v1) that has a libcuda.so mapped and for which the driver has a restore thread,
 * in ascending pid order (libcuda is loaded only when some process maps it). container is a container id (the
 * runtime's `state` gives its init pid) or the OCI state JSON itself (it starts with '{').
 * *pids (free it with nvb_free) may be empty. */
NVB_API int nvb_gpu_container_pids(struct nvb_host *host, const char *container,
				   const struct nvb_snapshot_options *opts, int **pids,
				   size_t *n, struct nvb_error *err);

NVB_API size_t nvb_snapshot_report_count(const struct nvb_snapshot_report *r);
NVB_API int nvb_snapshot_report_pid(const struct nvb_snapshot_report *r, size_t i);
/* The process's state after the operation (asked of the driver again at the end). */
NVB_API enum nvb_gpu_state nvb_snapshot_report_state(const struct nvb_snapshot_report *r,
						     size_t i);
NVB_API enum nvb_snapshot_outcome nvb_snapshot_report_outcome(const struct nvb_snapshot_report *r,
							      size_t i);
/* What happened, in words (the failing call and its CUDA error, what was undone); "" when done
 * without trouble. */
NVB_API const char *nvb_snapshot_report_message(const struct nvb_snapshot_report *r, size_t i);
/* The whole report as JSON ({"operation": ..., "processes": [{pid, state, outcome, message}]});
 * free it with nvb_free. */
NVB_API char *nvb_snapshot_report_json(const struct nvb_snapshot_report *r);
NVB_API void nvb_snapshot_report_free(struct nvb_snapshot_report *r);
/* ------------------------------------------------------- end of GPU snapshots */

/* ------------------------------------------------ Bolt capsules (issue 13, docs/bolt.md) */

/* A capsule's GPU request, for nvb_setup_gpu_for_capsule. Zero means the default. */
struct nvb_capsule_options {
	size_t size;                  /* sizeof(struct nvb_capsule_options) */
	const char *capsule_id;       /* required: letters, digits, '_', '.', '-' (not first), at
				       * most 128; recorded as the annotation nvbind.io/capsule */
	const char *gpu;              /* comma list of qualified CDI names (nvidia.com/gpu=0,
				       * amd.com/gpu=0) and NVIDIA_VISIBLE_DEVICES words (all, none,
				       * 0, 0:1, GPU-..., MIG-...); NULL: all */
	const char *profile;          /* built-in workload profile: gaming, ai-ml, video, compute
				       * (docs/profiles.md), recorded as nvbind.io/profile; NULL: none */
	const char *capabilities;     /* NVIDIA_DRIVER_CAPABILITIES words; NULL: the profile's, else
				       * utility,compute */
	const char *const *env;       /* NAME=VALUE for the capsule, after the profile's (a later
				       * name replaces an earlier one; the config's own win over the
				       * profile's, not over these) */
	size_t n_env;
	const char *const *spec_dirs; /* as in nvb_apply_options */
	size_t n_spec_dirs;
	const char *hook_path;        /* as in nvb_apply_options */
	const char *bundle;           /* as in nvb_apply_options */
};

/* Set up the GPUs of a capsule: the profile's variables and the capsule's annotations, then the
 * devices of opts->gpu applied by nvb_oci_apply (the one CDI apply of nvbind-runtime).
 * config_json: the capsule's OCI config, returned edited; NULL: the edits alone, as an OCI
 * config fragment {"process":{"env"},"mounts","linux":{"devices","resources"},"hooks",
 * "annotations"} to merge into a config. JSON; free it with nvb_free. */
NVB_API char *nvb_setup_gpu_for_capsule(struct nvb_host *host, const char *config_json,
					const struct nvb_capsule_options *opts,
					struct nvb_error *err);
/* Apply the qualified CDI devices names[0..n) (vendor.com/class=name, at least one) to the OCI
 * config with nvb_oci_apply and the specs of spec_dirs[0..n_spec_dirs) (NULL: /etc/cdi and
 * /var/run/cdi inside the host root; a spec generated from the host for nvidia.com/gpu when none
 * is installed). A name that is not qualified is NVB_ERR_USAGE, one no spec defines
 * NVB_ERR_NOT_FOUND. Returns the edited config; free it with nvb_free. */
NVB_API char *nvb_apply_cdi_devices(struct nvb_host *host, const char *config_json,
				    const char *const *names, size_t n_names,
				    const char *const *spec_dirs, size_t n_spec_dirs,
				    struct nvb_error *err);
/* ------------------------------------------------------- end of Bolt capsules */

#ifdef __cplusplus
}
#endif
#endif
