//! Finds libnvbind.so for the linker: NVBIND_LIB_DIR (a meson build's `src/`, or an install's
//! lib directory) when set, else what `pkg-config --libs-only-L nvbind` says, else the
//! system's default search path. No crate from outside (Debian's cargo builds it offline).
use std::env;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=NVBIND_LIB_DIR");
    if let Ok(dir) = env::var("NVBIND_LIB_DIR") {
        if !dir.is_empty() {
            println!("cargo:rustc-link-search=native={}", dir);
        }
    } else if let Ok(out) = Command::new("pkg-config")
        .args(["--libs-only-L", "nvbind"])
        .output()
    {
        if out.status.success() {
            for word in String::from_utf8_lossy(&out.stdout).split_whitespace() {
                if let Some(dir) = word.strip_prefix("-L") {
                    println!("cargo:rustc-link-search=native={}", dir);
                }
            }
        }
    }
    println!("cargo:rustc-link-lib=dylib=nvbind");
}
