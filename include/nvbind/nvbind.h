/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libnvbind: GPU discovery, CDI spec generation and OCI spec editing for containers.
 *
 * Conventions (see docs/api.md):
 *  - every call that can fail returns 0 / -1 (or NULL) and fills a struct nvb_error;
 *  - *_new / *_open return owned objects released by the matching *_free (which accepts NULL);
 *  - data returned by accessors is borrowed from its owner and lives until the owner is freed.
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

enum nvb_problem_kind {
	NVB_PROBLEM_INFO = 0,
	NVB_PROBLEM_WARNING,
	NVB_PROBLEM_ERROR,
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
};

enum nvb_probe_flags {
	NVB_PROBE_NO_NVML = 1u << 0,      /* do not dlopen libnvidia-ml */
	NVB_PROBE_NVML_IF_MIG = 1u << 1,  /* with NO_NVML: still use NVML when MIG devices exist
					   * (their MIG-<uuid> names are only known to NVML) */
};

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

#ifdef __cplusplus
}
#endif
#endif
