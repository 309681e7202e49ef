//! The binding against the built libnvbind on the fixture roots of tests/fixtures
//! (tests/run.sh builds them into $build/fixture-roots and exports NVB_FIXTURE_ROOTS).
use nvbind::{
    check_compatibility, info, CapsuleRequest, GpuRuntime, Host, Isolation, IsolationRequest,
    Nvbind, SnapshotOptions,
};

const H100_UUID: &str = "GPU-d1fbf7fc-9024-0c3c-1dc5-43e462e7fc6a";
const CONFIG: &str = r#"{"ociVersion":"1.0.2","process":{"args":["sh"],"env":["PATH=/bin"]},"root":{"path":"rootfs"},"linux":{}}"#;

fn root(name: &str) -> String {
    let dir = std::env::var("NVB_FIXTURE_ROOTS")
        .expect("NVB_FIXTURE_ROOTS must name the fixture roots (tests/run.sh sets it)");
    let path = format!("{}/{}", dir, name);
    assert!(
        std::path::Path::new(&path).join(".nvbind-fixture").exists(),
        "{} is not a fixture root: run tests/fixtures/nvbind-fixture build-all",
        path
    );
    path
}

fn nvbind_on(name: &str) -> Nvbind {
    Nvbind::new(Host::open(&root(name)).expect("open the fixture root"))
}

fn temp_dir(tag: &str) -> String {
    let dir = std::env::temp_dir().join(format!("nvbind-rs-{}-{}", tag, std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir.to_string_lossy().into_owned()
}

#[test]
fn version_is_the_library_s() {
    assert!(nvbind::version().starts_with("0."), "version {}", nvbind::version());
}

#[test]
fn info_h100_host_has_its_gpu() {
    let host = Host::open(&root("h100-host")).unwrap();
    assert_eq!(host.root(), root("h100-host"));
    let i = info(&host).unwrap();
    let nvidia: Vec<_> = i.gpus.iter().filter(|g| g.vendor == nvbind::Vendor::Nvidia).collect();
    assert_eq!(nvidia.len(), 1);
    let g = nvidia[0];
    assert_eq!(g.name.as_deref(), Some("NVIDIA H100 80GB HBM3"));
    assert_eq!(g.uuid.as_deref(), Some(H100_UUID));
    assert_eq!(g.index, 0);
    assert_eq!(g.minor, Some(0));
    assert!(g.device_nodes.iter().any(|n| n == "/dev/nvidia0"), "{:?}", g.device_nodes);
    assert_eq!(i.drivers[0].version.as_deref(), Some("580.159.04"));
    assert!(i.drivers[0].control_nodes.iter().any(|n| n == "/dev/nvidiactl"));
    assert!(i.json.contains(H100_UUID));
}

#[test]
fn info_debian_4gpu_has_four_a100s_in_order() {
    let i = info(&Host::open(&root("debian-4gpu")).unwrap()).unwrap();
    assert_eq!(i.gpus.len(), 4);
    for (n, g) in i.gpus.iter().enumerate() {
        assert_eq!(g.index as usize, n);
        assert_eq!(g.name.as_deref(), Some("NVIDIA A100-SXM4-80GB"));
        assert!(g.uuid.as_deref().unwrap().starts_with("GPU-"));
    }
    let mut uuids: Vec<_> = i.gpus.iter().map(|g| g.uuid.clone().unwrap()).collect();
    uuids.dedup();
    assert_eq!(uuids.len(), 4);
    assert_eq!(i.drivers[0].version.as_deref(), Some("550.54.14"));
}

#[test]
fn compatibility_of_a_good_host_and_of_one_without_driver() {
    let ok = check_compatibility(&Host::open(&root("h100-host")).unwrap()).unwrap();
    assert!(ok.driver_present && ok.device_nodes_present && ok.compatible, "{:?}", ok);
    assert_eq!(ok.driver_version.as_deref(), Some("580.159.04"));
    assert_eq!(ok.gpu_count, 1);
    let bad = nvbind_on("no-gpu").check_compatibility().unwrap();
    assert!(!bad.driver_present, "{:?}", bad);
    assert!(!bad.compatible);
    assert_eq!(bad.driver_version, None);
}

#[test]
fn host_open_of_a_missing_root_fails() {
    let e = Host::open("/nonexistent/nvbind-root").err().expect("an error");
    assert!(!e.message.is_empty());
}

#[test]
fn capsule_edits_only_carry_the_gpu_profile_and_id() {
    let nv = nvbind_on("h100-host");
    let req = CapsuleRequest {
        gpu: Some("0".into()),
        profile: Some("ai-ml".into()),
        env: vec!["MODEL=llama".into()],
        ..Default::default()
    };
    let edits = nv.setup_gpu_for_capsule("cap-1", &req, None).unwrap();
    assert!(edits.contains(r#""path":"/dev/nvidia0""#), "{}", edits);
    assert!(edits.contains("CUDA_MODULE_LOADING=LAZY"));
    assert!(edits.contains("MODEL=llama"));
    assert!(edits.contains(r#""nvbind.io/capsule":"cap-1""#));
    assert!(edits.contains(r#""nvbind.io/profile":"ai-ml""#));
    assert!(edits.contains("libcuda.so.580.159.04"), "the driver library is mounted: {}", edits);
    // a fragment: what the base config had is not in it
    assert!(!edits.contains("ociVersion"));
}

#[test]
fn capsule_setup_edits_a_config() {
    let nv = nvbind_on("debian-4gpu");
    // GPU index 2 (PCI order) is not /dev/nvidia2 on this host: its node is the inventory's
    let gpus = nv.info().unwrap().gpus;
    let node = format!(r#""path":"/dev/nvidia{}""#, gpus[2].minor.unwrap());
    let req = CapsuleRequest { gpu: Some("nvidia.com/gpu=2".into()), ..Default::default() };
    let out = nv.setup_gpu_for_capsule("cap-2", &req, Some(CONFIG)).unwrap();
    assert!(out.contains("PATH=/bin"), "{}", out);
    assert!(out.contains(&node), "{} in {}", node, out);
    for other in [0, 1, 3] {
        let n = format!(r#""path":"/dev/nvidia{}""#, gpus[other].minor.unwrap());
        assert!(!out.contains(&n), "only GPU 2, not {}", n);
    }
    assert!(out.contains(r#""nvbind.io/capsule":"cap-2""#));
}

#[test]
fn capsule_errors() {
    let nv = nvbind_on("h100-host");
    let e = nv.setup_gpu_for_capsule("../x", &CapsuleRequest::default(), None).unwrap_err();
    assert!(e.is_usage(), "{}", e);
    let req = CapsuleRequest { profile: Some("no-such".into()), ..Default::default() };
    let e = nv.setup_gpu_for_capsule("c", &req, None).unwrap_err();
    assert!(e.is_not_found() && e.message.contains("no-such"), "{}", e);
    let req = CapsuleRequest { gpu: Some("7".into()), ..Default::default() };
    let e = nv.setup_gpu_for_capsule("c", &req, None).unwrap_err();
    assert!(e.message.contains('7'), "{}", e);
}

#[test]
fn apply_cdi_devices_and_bad_names() {
    let nv = nvbind_on("h100-host");
    let out = nv.apply_cdi_devices(CONFIG, &["nvidia.com/gpu=0"]).unwrap();
    assert!(out.contains(r#""path":"/dev/nvidia0""#), "{}", out);
    assert!(out.contains(H100_UUID) || out.contains("libcuda"), "{}", out);
    let e = nv.apply_cdi_devices(CONFIG, &["nvidia.com/gpu=9"]).unwrap_err();
    assert!(e.message.contains("nvidia.com/gpu=9"), "{}", e);
    let e = nv.apply_cdi_devices(CONFIG, &["gpu0"]).unwrap_err();
    assert!(e.is_usage() && e.message.contains("gpu0"), "{}", e);
    let e = nv.apply_cdi_devices(CONFIG, &[]).unwrap_err();
    assert!(e.is_usage(), "{}", e);
    let e = nv.apply_cdi_devices("{not json", &["nvidia.com/gpu=0"]).unwrap_err();
    assert_eq!(e.code_name, "parse", "{}", e);
}

#[test]
fn isolation_words() {
    assert_eq!(Isolation::parse("exclusive").unwrap(), Isolation::Exclusive);
    assert_eq!(Isolation::Virtual.name(), "virtual");
    assert!(Isolation::parse("bogus").is_err());
}

#[test]
fn exclusive_isolation_claims_the_gpu_until_released() {
    let nv = nvbind_on("h100-host");
    let state = temp_dir("iso");
    let cfg = nv
        .setup_gpu_for_capsule("a", &CapsuleRequest { gpu: Some("0".into()), ..Default::default() }, Some(CONFIG))
        .unwrap();
    let mut first = IsolationRequest::new(Isolation::Exclusive, "capsule-a");
    first.state_dir = Some(state.clone());
    nv.configure_gpu_isolation(&cfg, &first).unwrap();
    let mut second = IsolationRequest::new(Isolation::Exclusive, "capsule-b");
    second.state_dir = Some(state.clone());
    let e = nv.configure_gpu_isolation(&cfg, &second).unwrap_err();
    assert!(e.message.contains("capsule-a"), "names the holder: {}", e);
    nv.release_gpu_isolation("capsule-a", Some(&state)).unwrap();
    nv.configure_gpu_isolation(&cfg, &second).unwrap();
    nv.release_gpu_isolation("capsule-b", Some(&state)).unwrap();
    let _ = std::fs::remove_dir_all(&state);
}

#[test]
fn snapshots_need_the_cuda_driver() {
    // the no-gpu root has no libcuda: the driver cannot be reached, so every operation fails
    let nv = nvbind_on("no-gpu");
    let me = std::process::id() as i32;
    let e = nv.gpu_snapshot_state(&[me]).unwrap_err();
    assert!(!e.message.is_empty());
    let e = nv.enable_gpu_snapshots(&[me], &SnapshotOptions::default()).unwrap_err();
    assert!(!e.message.is_empty());
}
