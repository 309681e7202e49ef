//! Raw declarations of libnvbind's C API, written by hand from include/nvbind/nvbind.h
//! (docs/api.md). Everything here is `unsafe` to call; the `nvbind` crate is the safe layer.
//! The inventory is read through the accessor functions only (as C programs built with
//! NVBIND_OPAQUE do), so no struct layout of the inventory is declared here.
#![allow(non_camel_case_types)]

use std::os::raw::{c_char, c_int, c_uint, c_void};

pub const NVB_ERROR_MSG_MAX: usize = 768;
pub const NVB_ERROR_HINT_MAX: usize = 384;

/* enum nvb_errc */
pub const NVB_OK: c_int = 0;
pub const NVB_ERR_IO: c_int = 1;
pub const NVB_ERR_NOT_FOUND: c_int = 2;
pub const NVB_ERR_PARSE: c_int = 3;
pub const NVB_ERR_INVALID: c_int = 4;
pub const NVB_ERR_NOMEM: c_int = 5;
pub const NVB_ERR_PERMISSION: c_int = 6;
pub const NVB_ERR_UNSUPPORTED: c_int = 7;
pub const NVB_ERR_DRIVER: c_int = 8;
pub const NVB_ERR_SECURITY: c_int = 9;
pub const NVB_ERR_USAGE: c_int = 10;

#[repr(C)]
pub struct nvb_error {
    pub code: c_int,
    pub sys_errno: c_int,
    pub message: [c_char; NVB_ERROR_MSG_MAX],
    pub hint: [c_char; NVB_ERROR_HINT_MAX],
}

/* enum nvb_vendor */
pub const NVB_VENDOR_NVIDIA: c_int = 0;
pub const NVB_VENDOR_AMD: c_int = 1;
pub const NVB_VENDOR_INTEL: c_int = 2;

/* enum nvb_problem_kind */
pub const NVB_PROBLEM_INFO: c_int = 0;
pub const NVB_PROBLEM_WARNING: c_int = 1;
pub const NVB_PROBLEM_ERROR: c_int = 2;

/* enum nvb_probe_flags */
pub const NVB_PROBE_NO_NVML: c_uint = 1 << 0;
pub const NVB_PROBE_NVML_IF_MIG: c_uint = 1 << 1;
pub const NVB_PROBE_NVIDIA: c_uint = 1 << 8;
pub const NVB_PROBE_AMD: c_uint = 1 << 9;
pub const NVB_PROBE_INTEL: c_uint = 1 << 10;

/* opaque objects */
#[repr(C)]
pub struct nvb_host {
    _private: [u8; 0],
}
#[repr(C)]
pub struct nvb_inventory {
    _private: [u8; 0],
}
#[repr(C)]
pub struct nvb_gpu {
    _private: [u8; 0],
}
#[repr(C)]
pub struct nvb_problem {
    _private: [u8; 0],
}
#[repr(C)]
pub struct nvb_device_node {
    _private: [u8; 0],
}
#[repr(C)]
pub struct nvb_snapshot_report {
    _private: [u8; 0],
}

/* nvb_apply_options.flags */
pub const NVB_APPLY_CONFIG_REQUESTS: c_uint = 0x1;
pub const NVB_APPLY_ENV_UNPRIVILEGED: c_uint = 0x2;

#[repr(C)]
pub struct nvb_apply_options {
    pub size: usize,
    pub devices: *const *const c_char,
    pub n_devices: usize,
    pub visible_devices: *const c_char,
    pub capabilities: *const c_char,
    pub spec_dirs: *const *const c_char,
    pub n_spec_dirs: usize,
    pub hook_path: *const c_char,
    pub bundle: *const c_char,
    pub flags: c_uint,
}

/* Bolt capsules */
#[repr(C)]
pub struct nvb_capsule_options {
    pub size: usize,
    pub capsule_id: *const c_char,
    pub gpu: *const c_char,
    pub profile: *const c_char,
    pub capabilities: *const c_char,
    pub env: *const *const c_char,
    pub n_env: usize,
    pub spec_dirs: *const *const c_char,
    pub n_spec_dirs: usize,
    pub hook_path: *const c_char,
    pub bundle: *const c_char,
}

/* GPU isolation: enum nvb_isolation and nvb_isolation_options.flags */
pub const NVB_ISOLATION_SHARED: c_int = 0;
pub const NVB_ISOLATION_EXCLUSIVE: c_int = 1;
pub const NVB_ISOLATION_VIRTUAL: c_int = 2;
pub const NVB_ISOLATION_FROM_ANNOTATIONS: c_uint = 0x1;
pub const NVB_ISOLATION_COMPUTE_MODE: c_uint = 0x2;

#[repr(C)]
pub struct nvb_isolation_options {
    pub size: usize,
    pub level: c_int,
    pub container_id: *const c_char,
    pub engine: *const c_char,
    pub state_dir: *const c_char,
    pub runtime_root: *const c_char,
    pub holder_pid: i64,
    pub memory_limit: u64,
    pub compute_percent: c_uint,
    pub flags: c_uint,
}

/* GPU snapshots: enum nvb_gpu_state, enum nvb_snapshot_outcome */
pub const NVB_GPU_STATE_UNKNOWN: c_int = -1;
pub const NVB_GPU_STATE_RUNNING: c_int = 0;
pub const NVB_GPU_STATE_LOCKED: c_int = 1;
pub const NVB_GPU_STATE_CHECKPOINTED: c_int = 2;
pub const NVB_GPU_STATE_FAILED: c_int = 3;
pub const NVB_SNAPSHOT_DONE: c_int = 0;
pub const NVB_SNAPSHOT_FAILED: c_int = 1;
pub const NVB_SNAPSHOT_ROLLED_BACK: c_int = 2;
pub const NVB_SNAPSHOT_NOT_UNDONE: c_int = 3;
pub const NVB_SNAPSHOT_SKIPPED: c_int = 4;

#[repr(C)]
pub struct nvb_snapshot_options {
    pub size: usize,
    pub timeout_ms: c_uint,
    pub runtime: *const c_char,
    pub runtime_root: *const c_char,
}

extern "C" {
    pub fn nvb_version() -> *const c_char;
    pub fn nvb_free(p: *mut c_void);
    pub fn nvb_error_clear(err: *mut nvb_error);
    pub fn nvb_errc_name(code: c_int) -> *const c_char;

    pub fn nvb_host_open(root: *const c_char, err: *mut nvb_error) -> *mut nvb_host;
    pub fn nvb_host_free(host: *mut nvb_host);
    pub fn nvb_host_root(host: *const nvb_host) -> *const c_char;

    pub fn nvb_inventory_probe(
        host: *mut nvb_host,
        flags: c_uint,
        err: *mut nvb_error,
    ) -> *mut nvb_inventory;
    pub fn nvb_inventory_free(inv: *mut nvb_inventory);
    pub fn nvb_inventory_to_json(inv: *const nvb_inventory, err: *mut nvb_error) -> *mut c_char;
    pub fn nvb_inventory_driver_version(inv: *const nvb_inventory) -> *const c_char;
    pub fn nvb_inventory_kernel_module(inv: *const nvb_inventory) -> *const c_char;
    pub fn nvb_inventory_cuda_version(inv: *const nvb_inventory) -> *const c_char;
    pub fn nvb_inventory_gpu_count(inv: *const nvb_inventory) -> usize;
    pub fn nvb_inventory_gpu(inv: *const nvb_inventory, i: usize) -> *const nvb_gpu;
    pub fn nvb_inventory_control_node_count(inv: *const nvb_inventory) -> usize;
    pub fn nvb_inventory_control_node(inv: *const nvb_inventory, i: usize)
        -> *const nvb_device_node;
    pub fn nvb_inventory_file_count(inv: *const nvb_inventory) -> usize;
    pub fn nvb_inventory_missing_count(inv: *const nvb_inventory) -> usize;
    pub fn nvb_inventory_missing(inv: *const nvb_inventory, i: usize) -> *const c_char;
    pub fn nvb_inventory_problem_count(inv: *const nvb_inventory) -> usize;
    pub fn nvb_inventory_problem(inv: *const nvb_inventory, i: usize) -> *const nvb_problem;
    pub fn nvb_inventory_next(inv: *const nvb_inventory) -> *const nvb_inventory;
    pub fn nvb_inventory_vendor(inv: *const nvb_inventory) -> c_int;
    pub fn nvb_inventory_platform(inv: *const nvb_inventory) -> *const c_char;
    pub fn nvb_vendor_name(vendor: c_int) -> *const c_char;
    pub fn nvb_inventory_gpu_cdi_id(inv: *const nvb_inventory, i: usize) -> *const c_char;

    pub fn nvb_gpu_index(gpu: *const nvb_gpu) -> c_uint;
    pub fn nvb_gpu_vendor(gpu: *const nvb_gpu) -> c_int;
    pub fn nvb_gpu_name(gpu: *const nvb_gpu) -> *const c_char;
    pub fn nvb_gpu_uuid(gpu: *const nvb_gpu) -> *const c_char;
    pub fn nvb_gpu_pci_bus_id(gpu: *const nvb_gpu) -> *const c_char;
    pub fn nvb_gpu_kernel_driver(gpu: *const nvb_gpu) -> *const c_char;
    pub fn nvb_gpu_minor(gpu: *const nvb_gpu) -> c_int;
    pub fn nvb_gpu_numa_node(gpu: *const nvb_gpu) -> c_int;
    pub fn nvb_gpu_memory_total(gpu: *const nvb_gpu) -> u64;
    pub fn nvb_gpu_mig_mode(gpu: *const nvb_gpu) -> c_int;
    pub fn nvb_gpu_node_count(gpu: *const nvb_gpu) -> usize;
    pub fn nvb_gpu_node(gpu: *const nvb_gpu, i: usize) -> *const nvb_device_node;

    pub fn nvb_device_node_path(node: *const nvb_device_node) -> *const c_char;

    pub fn nvb_problem_severity(problem: *const nvb_problem) -> c_int;
    pub fn nvb_problem_code(problem: *const nvb_problem) -> *const c_char;
    pub fn nvb_problem_message(problem: *const nvb_problem) -> *const c_char;
    pub fn nvb_problem_hint(problem: *const nvb_problem) -> *const c_char;

    pub fn nvb_oci_apply(
        host: *mut nvb_host,
        config_json: *const c_char,
        opts: *const nvb_apply_options,
        err: *mut nvb_error,
    ) -> *mut c_char;

    pub fn nvb_setup_gpu_for_capsule(
        host: *mut nvb_host,
        config_json: *const c_char,
        opts: *const nvb_capsule_options,
        err: *mut nvb_error,
    ) -> *mut c_char;
    pub fn nvb_apply_cdi_devices(
        host: *mut nvb_host,
        config_json: *const c_char,
        names: *const *const c_char,
        n_names: usize,
        spec_dirs: *const *const c_char,
        n_spec_dirs: usize,
        err: *mut nvb_error,
    ) -> *mut c_char;

    pub fn nvb_configure_gpu_isolation(
        host: *mut nvb_host,
        config_json: *const c_char,
        opts: *const nvb_isolation_options,
        err: *mut nvb_error,
    ) -> *mut c_char;
    pub fn nvb_release_gpu_isolation(
        state_dir: *const c_char,
        container_id: *const c_char,
        err: *mut nvb_error,
    ) -> c_int;
    pub fn nvb_isolation_name(level: c_int) -> *const c_char;
    pub fn nvb_isolation_parse(name: *const c_char, out: *mut c_int) -> c_int;

    pub fn nvb_gpu_state_name(state: c_int) -> *const c_char;
    pub fn nvb_gpu_checkpoint(
        host: *mut nvb_host,
        pids: *const c_int,
        n: usize,
        opts: *const nvb_snapshot_options,
        out: *mut *mut nvb_snapshot_report,
        err: *mut nvb_error,
    ) -> c_int;
    pub fn nvb_gpu_restore(
        host: *mut nvb_host,
        pids: *const c_int,
        n: usize,
        opts: *const nvb_snapshot_options,
        out: *mut *mut nvb_snapshot_report,
        err: *mut nvb_error,
    ) -> c_int;
    pub fn nvb_gpu_state(
        host: *mut nvb_host,
        pids: *const c_int,
        n: usize,
        out: *mut *mut nvb_snapshot_report,
        err: *mut nvb_error,
    ) -> c_int;
    pub fn nvb_gpu_container_pids(
        host: *mut nvb_host,
        container: *const c_char,
        opts: *const nvb_snapshot_options,
        pids: *mut *mut c_int,
        n: *mut usize,
        err: *mut nvb_error,
    ) -> c_int;
    pub fn nvb_snapshot_report_count(r: *const nvb_snapshot_report) -> usize;
    pub fn nvb_snapshot_report_pid(r: *const nvb_snapshot_report, i: usize) -> c_int;
    pub fn nvb_snapshot_report_state(r: *const nvb_snapshot_report, i: usize) -> c_int;
    pub fn nvb_snapshot_report_outcome(r: *const nvb_snapshot_report, i: usize) -> c_int;
    pub fn nvb_snapshot_report_message(r: *const nvb_snapshot_report, i: usize) -> *const c_char;
    pub fn nvb_snapshot_report_json(r: *const nvb_snapshot_report) -> *mut c_char;
    pub fn nvb_snapshot_report_free(r: *mut nvb_snapshot_report);
}
