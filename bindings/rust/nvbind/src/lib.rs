//! Safe Rust API of libnvbind (docs/bolt.md, docs/api.md): the host's GPUs (`info`), whether
//! the host can run GPU containers (`check_compatibility`), and the four operations the Bolt
//! runtime needs, as an implementation of the [`GpuRuntime`] trait by [`Nvbind`]:
//! set up a capsule's GPUs, apply CDI devices, GPU snapshots (checkpoint and restore of the CUDA
//! state of a capsule's processes), and GPU isolation. Every operation is one call of the C
//! library: results and errors are those of `nvbind` itself.
use std::ffi::{CStr, CString};
use std::fmt;
use std::os::raw::{c_char, c_int, c_void};
use std::ptr;

use nvbind_sys as sys;

/* ------------------------------------------------------------------ errors */

/// What went wrong, as the library says it: its error code's name ("not-found", "usage", ...),
/// a message that names the file, device or field, and a hint (possibly empty).
#[derive(Debug, Clone)]
pub struct Error {
    pub code: i32,
    pub code_name: String,
    pub message: String,
    pub hint: String,
    /// GPU snapshots: the per-process report of a failed checkpoint or restore, when the
    /// driver was reached.
    pub report: Option<SnapshotReport>,
}

impl Error {
    fn usage(message: &str) -> Error {
        Error {
            code: sys::NVB_ERR_USAGE,
            code_name: "usage".to_string(),
            message: message.to_string(),
            hint: String::new(),
            report: None,
        }
    }

    pub fn is_not_found(&self) -> bool {
        self.code == sys::NVB_ERR_NOT_FOUND
    }
    pub fn is_usage(&self) -> bool {
        self.code == sys::NVB_ERR_USAGE
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code_name, self.message)?;
        if !self.hint.is_empty() {
            write!(f, " (hint: {})", self.hint)?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

/// The library's struct nvb_error, filled by a call.
struct CError(Box<sys::nvb_error>);

impl CError {
    fn new() -> CError {
        CError(Box::new(sys::nvb_error {
            code: 0,
            sys_errno: 0,
            message: [0; sys::NVB_ERROR_MSG_MAX],
            hint: [0; sys::NVB_ERROR_HINT_MAX],
        }))
    }
    fn ptr(&mut self) -> *mut sys::nvb_error {
        &mut *self.0
    }
    fn take(&self) -> Error {
        let e = &self.0;
        Error {
            code: e.code,
            code_name: unsafe { opt_str(sys::nvb_errc_name(e.code)) }.unwrap_or_default(),
            message: unsafe { opt_str(e.message.as_ptr()) }.unwrap_or_default(),
            hint: unsafe { opt_str(e.hint.as_ptr()) }.unwrap_or_default(),
            report: None,
        }
    }
}

/* ------------------------------------------------------------------ strings */

/// A borrowed C string as an owned String, None for NULL.
unsafe fn opt_str(p: *const c_char) -> Option<String> {
    if p.is_null() {
        None
    } else {
        Some(CStr::from_ptr(p).to_string_lossy().into_owned())
    }
}

/// A string the library returned (owned by us): copied, then released with nvb_free.
unsafe fn take_string(p: *mut c_char) -> Option<String> {
    let s = opt_str(p);
    if !p.is_null() {
        sys::nvb_free(p as *mut c_void);
    }
    s
}

fn cstring(what: &str, s: &str) -> Result<CString> {
    CString::new(s).map_err(|_| Error::usage(&format!("{}: '{}' holds a NUL byte", what, s)))
}

fn opt_cstring(what: &str, s: Option<&str>) -> Result<Option<CString>> {
    s.map(|v| cstring(what, v)).transpose()
}

fn opt_ptr(s: &Option<CString>) -> *const c_char {
    s.as_ref().map_or(ptr::null(), |c| c.as_ptr())
}

/// A list of C strings and the pointer array the library reads.
struct CStrings {
    _owned: Vec<CString>,
    ptrs: Vec<*const c_char>,
}

impl CStrings {
    fn new<S: AsRef<str>>(what: &str, items: &[S]) -> Result<CStrings> {
        let owned = items
            .iter()
            .map(|s| cstring(what, s.as_ref()))
            .collect::<Result<Vec<_>>>()?;
        let ptrs = owned.iter().map(|c| c.as_ptr()).collect();
        Ok(CStrings { _owned: owned, ptrs })
    }
    fn ptr(&self) -> *const *const c_char {
        if self.ptrs.is_empty() {
            ptr::null()
        } else {
            self.ptrs.as_ptr()
        }
    }
    fn len(&self) -> usize {
        self.ptrs.len()
    }
}

/// The library's version ("0.1.0").
pub fn version() -> String {
    unsafe { opt_str(sys::nvb_version()) }.unwrap_or_default()
}

/* --------------------------------------------------------------------- host */

/// A host root: "/" in production, a fixture tree in tests. Every lookup goes through it.
pub struct Host {
    ptr: *mut sys::nvb_host,
}

impl Host {
    pub fn open(root: &str) -> Result<Host> {
        let root = cstring("host root", root)?;
        let mut err = CError::new();
        let ptr = unsafe { sys::nvb_host_open(root.as_ptr(), err.ptr()) };
        if ptr.is_null() {
            return Err(err.take());
        }
        Ok(Host { ptr })
    }

    /// The root named by NVBIND_ROOT, else "/".
    pub fn from_env() -> Result<Host> {
        let root = std::env::var("NVBIND_ROOT").unwrap_or_else(|_| "/".to_string());
        Host::open(if root.is_empty() { "/" } else { &root })
    }

    pub fn root(&self) -> String {
        unsafe { opt_str(sys::nvb_host_root(self.ptr)) }.unwrap_or_default()
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        unsafe { sys::nvb_host_free(self.ptr) }
    }
}

/* ---------------------------------------------------------------- inventory */

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vendor {
    Nvidia,
    Amd,
    Intel,
}

impl Vendor {
    fn from_c(v: c_int) -> Vendor {
        match v {
            sys::NVB_VENDOR_AMD => Vendor::Amd,
            sys::NVB_VENDOR_INTEL => Vendor::Intel,
            _ => Vendor::Nvidia,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Vendor::Nvidia => "nvidia",
            Vendor::Amd => "amd",
            Vendor::Intel => "intel",
        }
    }
}

/// One GPU of the host.
#[derive(Debug, Clone)]
pub struct Gpu {
    pub vendor: Vendor,
    /// position in PCI bus id order, within its vendor
    pub index: u32,
    pub name: Option<String>,
    pub uuid: Option<String>,
    pub pci_bus_id: Option<String>,
    pub kernel_driver: Option<String>,
    /// /dev/nvidia<minor>; None when unknown
    pub minor: Option<u32>,
    pub numa_node: Option<u32>,
    /// bytes (from NVML); 0 when unknown
    pub memory_total: u64,
    /// Some(true) when MIG is on, None when unknown
    pub mig: Option<bool>,
    /// the vendor's id-style CDI name (AMD unique id, Intel PCI id), None when none
    pub cdi_id: Option<String>,
    /// its device nodes, as paths on the host (/dev/nvidia0)
    pub device_nodes: Vec<String>,
}

/// Something discovery found wrong or could not learn, with what to do about it.
#[derive(Debug, Clone)]
pub struct Problem {
    /// "info", "warning" or "error"
    pub severity: String,
    /// stable identifier: "no-gpu", "libraries-missing", ...
    pub code: String,
    pub message: String,
    pub hint: String,
}

/// One vendor's driver as found.
#[derive(Debug, Clone)]
pub struct Driver {
    pub vendor: Vendor,
    pub version: Option<String>,
    /// NVIDIA: "open" or "proprietary"
    pub kernel_module: Option<String>,
    pub cuda_version: Option<String>,
    /// "wsl2" under WSL2
    pub platform: Option<String>,
    pub control_nodes: Vec<String>,
    pub n_files: usize,
    /// catalogue entries expected for this driver but not found
    pub missing: Vec<String>,
}

/// What nvbind found on the host: every vendor's driver and GPUs, and the problems.
#[derive(Debug, Clone)]
pub struct Info {
    pub drivers: Vec<Driver>,
    pub gpus: Vec<Gpu>,
    pub problems: Vec<Problem>,
    /// the inventory as `nvbind info --json` prints it (the first vendor's, NVIDIA)
    pub json: String,
}

struct Inventory(*mut sys::nvb_inventory);

impl Drop for Inventory {
    fn drop(&mut self) {
        unsafe { sys::nvb_inventory_free(self.0) }
    }
}

unsafe fn gpu_of(inv: *const sys::nvb_inventory, i: usize) -> Gpu {
    let g = sys::nvb_inventory_gpu(inv, i);
    let minor = sys::nvb_gpu_minor(g);
    let numa = sys::nvb_gpu_numa_node(g);
    let mig = sys::nvb_gpu_mig_mode(g);
    Gpu {
        vendor: Vendor::from_c(sys::nvb_gpu_vendor(g)),
        index: sys::nvb_gpu_index(g),
        name: opt_str(sys::nvb_gpu_name(g)),
        uuid: opt_str(sys::nvb_gpu_uuid(g)),
        pci_bus_id: opt_str(sys::nvb_gpu_pci_bus_id(g)),
        kernel_driver: opt_str(sys::nvb_gpu_kernel_driver(g)),
        minor: if minor < 0 { None } else { Some(minor as u32) },
        numa_node: if numa < 0 { None } else { Some(numa as u32) },
        memory_total: sys::nvb_gpu_memory_total(g),
        mig: if mig < 0 { None } else { Some(mig == 1) },
        cdi_id: opt_str(sys::nvb_inventory_gpu_cdi_id(inv, i)),
        device_nodes: (0..sys::nvb_gpu_node_count(g))
            .filter_map(|n| opt_str(sys::nvb_device_node_path(sys::nvb_gpu_node(g, n))))
            .collect(),
    }
}

unsafe fn driver_of(inv: *const sys::nvb_inventory) -> Driver {
    Driver {
        vendor: Vendor::from_c(sys::nvb_inventory_vendor(inv)),
        version: opt_str(sys::nvb_inventory_driver_version(inv)),
        kernel_module: opt_str(sys::nvb_inventory_kernel_module(inv)),
        cuda_version: opt_str(sys::nvb_inventory_cuda_version(inv)),
        platform: opt_str(sys::nvb_inventory_platform(inv)),
        control_nodes: (0..sys::nvb_inventory_control_node_count(inv))
            .filter_map(|n| opt_str(sys::nvb_device_node_path(sys::nvb_inventory_control_node(inv, n))))
            .collect(),
        n_files: sys::nvb_inventory_file_count(inv),
        missing: (0..sys::nvb_inventory_missing_count(inv))
            .filter_map(|n| opt_str(sys::nvb_inventory_missing(inv, n)))
            .collect(),
    }
}

unsafe fn problem_of(p: *const sys::nvb_problem) -> Problem {
    let severity = match sys::nvb_problem_severity(p) {
        sys::NVB_PROBLEM_ERROR => "error",
        sys::NVB_PROBLEM_WARNING => "warning",
        _ => "info",
    };
    Problem {
        severity: severity.to_string(),
        code: opt_str(sys::nvb_problem_code(p)).unwrap_or_default(),
        message: opt_str(sys::nvb_problem_message(p)).unwrap_or_default(),
        hint: opt_str(sys::nvb_problem_hint(p)).unwrap_or_default(),
    }
}

/// The host's GPUs and drivers, every vendor (`nvbind info`). NVML is not loaded: the probe
/// reads /proc, /sys and /dev of the host root only.
pub fn info(host: &Host) -> Result<Info> {
    let mut err = CError::new();
    let head = unsafe { sys::nvb_inventory_probe(host.ptr, sys::NVB_PROBE_NO_NVML, err.ptr()) };
    if head.is_null() {
        return Err(err.take());
    }
    let owner = Inventory(head);
    let json = unsafe { take_string(sys::nvb_inventory_to_json(owner.0, err.ptr())) };
    let json = match json {
        Some(j) => j,
        None => return Err(err.take()),
    };
    let mut out = Info {
        drivers: Vec::new(),
        gpus: Vec::new(),
        problems: Vec::new(),
        json,
    };
    let mut inv = owner.0 as *const sys::nvb_inventory;
    while !inv.is_null() {
        unsafe {
            out.drivers.push(driver_of(inv));
            for i in 0..sys::nvb_inventory_gpu_count(inv) {
                out.gpus.push(gpu_of(inv, i));
            }
            for i in 0..sys::nvb_inventory_problem_count(inv) {
                out.problems.push(problem_of(sys::nvb_inventory_problem(inv, i)));
            }
            inv = sys::nvb_inventory_next(inv);
        }
    }
    Ok(out)
}

/// Whether this host can give GPUs to containers, and why not.
#[derive(Debug, Clone)]
pub struct Compatibility {
    /// a GPU driver was found (its version is known)
    pub driver_present: bool,
    pub driver_version: Option<String>,
    pub gpu_count: usize,
    /// every GPU has its device node
    pub device_nodes_present: bool,
    /// driver files the catalogue expects but that are not there
    pub missing_files: Vec<String>,
    /// the problems of severity "error"
    pub errors: Vec<Problem>,
    /// driver, at least one GPU, its nodes, and no error
    pub compatible: bool,
}

/// Check the host: a driver, GPUs with their device nodes, no error-level problem.
pub fn check_compatibility(host: &Host) -> Result<Compatibility> {
    let i = info(host)?;
    let driver = i.drivers.iter().find(|d| d.version.is_some());
    let errors: Vec<Problem> = i.problems.iter().filter(|p| p.severity == "error").cloned().collect();
    let nodes = !i.gpus.is_empty() && i.gpus.iter().all(|g| !g.device_nodes.is_empty());
    let compatible = driver.is_some() && !i.gpus.is_empty() && nodes && errors.is_empty();
    Ok(Compatibility {
        driver_present: driver.is_some(),
        driver_version: driver.and_then(|d| d.version.clone()),
        gpu_count: i.gpus.len(),
        device_nodes_present: nodes,
        missing_files: i.drivers.iter().flat_map(|d| d.missing.iter().cloned()).collect(),
        errors,
        compatible,
    })
}

/* ------------------------------------------------------------- the operations */

/// A capsule's GPU request (struct nvb_capsule_options).
#[derive(Debug, Clone, Default)]
pub struct CapsuleRequest {
    /// comma list of qualified CDI names (nvidia.com/gpu=0, amd.com/gpu=0) and
    /// NVIDIA_VISIBLE_DEVICES words (all, none, 0, 0:1, GPU-..., MIG-...); None: all
    pub gpu: Option<String>,
    /// built-in profile: gaming, ai-ml, video, compute
    pub profile: Option<String>,
    /// NVIDIA_DRIVER_CAPABILITIES words; None: the profile's, else utility,compute
    pub capabilities: Option<String>,
    /// NAME=VALUE, over the profile's
    pub env: Vec<String>,
    /// CDI spec directories; empty: /etc/cdi and /var/run/cdi inside the host root
    pub spec_dirs: Vec<String>,
    /// the capsule's bundle: the driver libraries' links are made in its root at once
    pub bundle: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Isolation {
    Shared,
    Exclusive,
    Virtual,
}

impl Isolation {
    fn to_c(self) -> c_int {
        match self {
            Isolation::Shared => sys::NVB_ISOLATION_SHARED,
            Isolation::Exclusive => sys::NVB_ISOLATION_EXCLUSIVE,
            Isolation::Virtual => sys::NVB_ISOLATION_VIRTUAL,
        }
    }
    /// "shared", "exclusive", "virtual", as the library names them.
    pub fn name(self) -> String {
        unsafe { opt_str(sys::nvb_isolation_name(self.to_c())) }.unwrap_or_default()
    }
    pub fn parse(word: &str) -> Result<Isolation> {
        let c = cstring("isolation", word)?;
        let mut out: c_int = 0;
        if unsafe { sys::nvb_isolation_parse(c.as_ptr(), &mut out) } < 0 {
            return Err(Error::usage(&format!(
                "isolation '{}' is not shared, exclusive or virtual",
                word
            )));
        }
        Ok(match out {
            sys::NVB_ISOLATION_EXCLUSIVE => Isolation::Exclusive,
            sys::NVB_ISOLATION_VIRTUAL => Isolation::Virtual,
            _ => Isolation::Shared,
        })
    }
}

/// What a capsule's GPUs share (struct nvb_isolation_options).
#[derive(Debug, Clone)]
pub struct IsolationRequest {
    pub level: Isolation,
    pub container_id: String,
    /// where claims and MPS daemons live; None: $NVBIND_STATE_DIR, else /run/nvbind
    pub state_dir: Option<String>,
    /// the low-level runtime's state root (/run/runc): the claim lives with the container
    pub runtime_root: Option<String>,
    /// a process whose life keeps the claim; 0: the calling process
    pub holder_pid: i64,
    /// virtual: pinned device memory per GPU, bytes; 0: none
    pub memory_limit: u64,
    /// virtual: active thread percentage 1..100; 0: none
    pub compute_percent: u32,
    /// the config's nvbind.io/isolation annotations override level and limits
    pub from_annotations: bool,
    /// exclusive: also the GPU's compute mode EXCLUSIVE_PROCESS while claimed
    pub compute_mode: bool,
}

impl IsolationRequest {
    pub fn new(level: Isolation, container_id: &str) -> IsolationRequest {
        IsolationRequest {
            level,
            container_id: container_id.to_string(),
            state_dir: None,
            runtime_root: None,
            holder_pid: 0,
            memory_limit: 0,
            compute_percent: 0,
            from_annotations: false,
            compute_mode: false,
        }
    }
}

/// A process's CUDA checkpoint state after an operation.
#[derive(Debug, Clone)]
pub struct SnapshotEntry {
    pub pid: i32,
    /// "running", "locked", "checkpointed", "failed", "unknown"
    pub state: String,
    /// "done", "failed", "rolled-back", "not-undone", "skipped"
    pub outcome: String,
    pub message: String,
}

/// What happened to each process of a snapshot operation, and the report as JSON.
#[derive(Debug, Clone)]
pub struct SnapshotReport {
    pub entries: Vec<SnapshotEntry>,
    pub json: String,
}

/// Options of the snapshot operations (struct nvb_snapshot_options).
#[derive(Debug, Clone, Default)]
pub struct SnapshotOptions {
    /// how long each lock may wait for the process's CUDA work; 0: 10 s
    pub timeout_ms: u32,
    /// the OCI runtime asked for a container's state; None: runc
    pub runtime: Option<String>,
    pub runtime_root: Option<String>,
}

/// The four GPU operations of the Bolt runtime (its BoltRuntime integration), over OCI config
/// JSON as Bolt's capsules carry it.
pub trait GpuRuntime {
    /// The capsule's GPUs, profile and annotations applied to `config_json`, or, with None, the
    /// edits alone as an OCI config fragment (process.env, mounts, linux.devices,
    /// linux.resources, hooks, annotations) for the caller to merge.
    fn setup_gpu_for_capsule(
        &self,
        capsule_id: &str,
        request: &CapsuleRequest,
        config_json: Option<&str>,
    ) -> Result<String>;
    /// Qualified CDI devices (vendor.com/class=name) applied to the config.
    fn apply_cdi_devices(&self, config_json: &str, devices: &[&str]) -> Result<String>;
    /// Checkpoint the GPU state of the processes (lock, then checkpoint; all undone when one
    /// fails): the capsule's GPU snapshot.
    fn enable_gpu_snapshots(&self, pids: &[i32], opts: &SnapshotOptions) -> Result<SnapshotReport>;
    /// Restore what enable_gpu_snapshots checkpointed.
    fn restore_gpu_snapshot(&self, pids: &[i32], opts: &SnapshotOptions) -> Result<SnapshotReport>;
    /// The CUDA checkpoint state of each process.
    fn gpu_snapshot_state(&self, pids: &[i32]) -> Result<SnapshotReport>;
    /// The CUDA processes of a running container (by id, or its OCI state JSON).
    fn capsule_gpu_pids(&self, container: &str, opts: &SnapshotOptions) -> Result<Vec<i32>>;
    /// Isolate the GPUs the config was given (exclusive claims, MPS for virtual).
    fn configure_gpu_isolation(&self, config_json: &str, request: &IsolationRequest) -> Result<String>;
    /// Release the claims and MPS entries of a container.
    fn release_gpu_isolation(&self, container_id: &str, state_dir: Option<&str>) -> Result<()>;
}

/// libnvbind on one host root: the implementation of [`GpuRuntime`].
pub struct Nvbind {
    host: Host,
}

impl Nvbind {
    pub fn new(host: Host) -> Nvbind {
        Nvbind { host }
    }
    /// On the root NVBIND_ROOT names, else "/".
    pub fn from_env() -> Result<Nvbind> {
        Ok(Nvbind { host: Host::from_env()? })
    }
    pub fn host(&self) -> &Host {
        &self.host
    }
    pub fn info(&self) -> Result<Info> {
        info(&self.host)
    }
    pub fn check_compatibility(&self) -> Result<Compatibility> {
        check_compatibility(&self.host)
    }
}

fn state_word(s: c_int) -> String {
    unsafe { opt_str(sys::nvb_gpu_state_name(s)) }.unwrap_or_else(|| "unknown".to_string())
}

fn outcome_word(o: c_int) -> &'static str {
    match o {
        sys::NVB_SNAPSHOT_DONE => "done",
        sys::NVB_SNAPSHOT_FAILED => "failed",
        sys::NVB_SNAPSHOT_ROLLED_BACK => "rolled-back",
        sys::NVB_SNAPSHOT_NOT_UNDONE => "not-undone",
        _ => "skipped",
    }
}

/// Copy and free a report the library returned (NULL: none).
unsafe fn take_report(r: *mut sys::nvb_snapshot_report) -> Option<SnapshotReport> {
    if r.is_null() {
        return None;
    }
    let entries = (0..sys::nvb_snapshot_report_count(r))
        .map(|i| SnapshotEntry {
            pid: sys::nvb_snapshot_report_pid(r, i),
            state: state_word(sys::nvb_snapshot_report_state(r, i)),
            outcome: outcome_word(sys::nvb_snapshot_report_outcome(r, i)).to_string(),
            message: opt_str(sys::nvb_snapshot_report_message(r, i)).unwrap_or_default(),
        })
        .collect();
    let json = take_string(sys::nvb_snapshot_report_json(r)).unwrap_or_default();
    sys::nvb_snapshot_report_free(r);
    Some(SnapshotReport { entries, json })
}

struct CSnapshotOptions {
    _runtime: Option<CString>,
    _root: Option<CString>,
    c: sys::nvb_snapshot_options,
}

fn snapshot_options(o: &SnapshotOptions) -> Result<CSnapshotOptions> {
    let runtime = opt_cstring("runtime", o.runtime.as_deref())?;
    let root = opt_cstring("runtime root", o.runtime_root.as_deref())?;
    let c = sys::nvb_snapshot_options {
        size: std::mem::size_of::<sys::nvb_snapshot_options>(),
        timeout_ms: o.timeout_ms,
        runtime: opt_ptr(&runtime),
        runtime_root: opt_ptr(&root),
    };
    Ok(CSnapshotOptions { _runtime: runtime, _root: root, c })
}

type SnapshotFn = unsafe extern "C" fn(
    *mut sys::nvb_host,
    *const c_int,
    usize,
    *const sys::nvb_snapshot_options,
    *mut *mut sys::nvb_snapshot_report,
    *mut sys::nvb_error,
) -> c_int;

impl Nvbind {
    fn snapshot_call(&self, f: SnapshotFn, pids: &[i32], opts: &SnapshotOptions) -> Result<SnapshotReport> {
        let o = snapshot_options(opts)?;
        let mut err = CError::new();
        let mut report: *mut sys::nvb_snapshot_report = ptr::null_mut();
        let rc = unsafe { f(self.host.ptr, pids.as_ptr(), pids.len(), &o.c, &mut report, err.ptr()) };
        let report = unsafe { take_report(report) };
        if rc < 0 {
            let mut e = err.take();
            e.report = report;
            return Err(e);
        }
        Ok(report.unwrap_or(SnapshotReport { entries: Vec::new(), json: String::new() }))
    }
}

impl GpuRuntime for Nvbind {
    fn setup_gpu_for_capsule(
        &self,
        capsule_id: &str,
        request: &CapsuleRequest,
        config_json: Option<&str>,
    ) -> Result<String> {
        let id = cstring("capsule id", capsule_id)?;
        let gpu = opt_cstring("gpu", request.gpu.as_deref())?;
        let profile = opt_cstring("profile", request.profile.as_deref())?;
        let caps = opt_cstring("capabilities", request.capabilities.as_deref())?;
        let bundle = opt_cstring("bundle", request.bundle.as_deref())?;
        let config = opt_cstring("config", config_json)?;
        let env = CStrings::new("env", &request.env)?;
        let dirs = CStrings::new("spec dir", &request.spec_dirs)?;
        let o = sys::nvb_capsule_options {
            size: std::mem::size_of::<sys::nvb_capsule_options>(),
            capsule_id: id.as_ptr(),
            gpu: opt_ptr(&gpu),
            profile: opt_ptr(&profile),
            capabilities: opt_ptr(&caps),
            env: env.ptr(),
            n_env: env.len(),
            spec_dirs: dirs.ptr(),
            n_spec_dirs: dirs.len(),
            hook_path: ptr::null(),
            bundle: opt_ptr(&bundle),
        };
        let mut err = CError::new();
        let out = unsafe {
            take_string(sys::nvb_setup_gpu_for_capsule(self.host.ptr, opt_ptr(&config), &o, err.ptr()))
        };
        out.ok_or_else(|| err.take())
    }

    fn apply_cdi_devices(&self, config_json: &str, devices: &[&str]) -> Result<String> {
        let config = cstring("config", config_json)?;
        let names = CStrings::new("device", devices)?;
        let mut err = CError::new();
        let out = unsafe {
            take_string(sys::nvb_apply_cdi_devices(
                self.host.ptr,
                config.as_ptr(),
                names.ptr(),
                names.len(),
                ptr::null(),
                0,
                err.ptr(),
            ))
        };
        out.ok_or_else(|| err.take())
    }

    fn enable_gpu_snapshots(&self, pids: &[i32], opts: &SnapshotOptions) -> Result<SnapshotReport> {
        self.snapshot_call(sys::nvb_gpu_checkpoint, pids, opts)
    }

    fn restore_gpu_snapshot(&self, pids: &[i32], opts: &SnapshotOptions) -> Result<SnapshotReport> {
        self.snapshot_call(sys::nvb_gpu_restore, pids, opts)
    }

    fn gpu_snapshot_state(&self, pids: &[i32]) -> Result<SnapshotReport> {
        let mut err = CError::new();
        let mut report: *mut sys::nvb_snapshot_report = ptr::null_mut();
        let rc = unsafe { sys::nvb_gpu_state(self.host.ptr, pids.as_ptr(), pids.len(), &mut report, err.ptr()) };
        let report = unsafe { take_report(report) };
        if rc < 0 {
            let mut e = err.take();
            e.report = report;
            return Err(e);
        }
        Ok(report.unwrap_or(SnapshotReport { entries: Vec::new(), json: String::new() }))
    }

    fn capsule_gpu_pids(&self, container: &str, opts: &SnapshotOptions) -> Result<Vec<i32>> {
        let c = cstring("container", container)?;
        let o = snapshot_options(opts)?;
        let mut err = CError::new();
        let mut pids: *mut c_int = ptr::null_mut();
        let mut n: usize = 0;
        let rc = unsafe {
            sys::nvb_gpu_container_pids(self.host.ptr, c.as_ptr(), &o.c, &mut pids, &mut n, err.ptr())
        };
        if rc < 0 {
            return Err(err.take());
        }
        let out = if pids.is_null() {
            Vec::new()
        } else {
            let v = unsafe { std::slice::from_raw_parts(pids, n) }.to_vec();
            unsafe { sys::nvb_free(pids as *mut c_void) };
            v
        };
        Ok(out)
    }

    fn configure_gpu_isolation(&self, config_json: &str, r: &IsolationRequest) -> Result<String> {
        let config = cstring("config", config_json)?;
        let id = cstring("container id", &r.container_id)?;
        let engine = cstring("engine", "bolt")?;
        let state = opt_cstring("state dir", r.state_dir.as_deref())?;
        let root = opt_cstring("runtime root", r.runtime_root.as_deref())?;
        let mut flags = 0;
        if r.from_annotations {
            flags |= sys::NVB_ISOLATION_FROM_ANNOTATIONS;
        }
        if r.compute_mode {
            flags |= sys::NVB_ISOLATION_COMPUTE_MODE;
        }
        let o = sys::nvb_isolation_options {
            size: std::mem::size_of::<sys::nvb_isolation_options>(),
            level: r.level.to_c(),
            container_id: id.as_ptr(),
            engine: engine.as_ptr(),
            state_dir: opt_ptr(&state),
            runtime_root: opt_ptr(&root),
            holder_pid: r.holder_pid,
            memory_limit: r.memory_limit,
            compute_percent: r.compute_percent,
            flags,
        };
        let mut err = CError::new();
        let out = unsafe {
            take_string(sys::nvb_configure_gpu_isolation(self.host.ptr, config.as_ptr(), &o, err.ptr()))
        };
        out.ok_or_else(|| err.take())
    }

    fn release_gpu_isolation(&self, container_id: &str, state_dir: Option<&str>) -> Result<()> {
        let id = cstring("container id", container_id)?;
        let state = opt_cstring("state dir", state_dir)?;
        let mut err = CError::new();
        if unsafe { sys::nvb_release_gpu_isolation(opt_ptr(&state), id.as_ptr(), err.ptr()) } < 0 {
            return Err(err.take());
        }
        Ok(())
    }
}
