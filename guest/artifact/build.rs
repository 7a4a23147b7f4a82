//! Builds the pod-introspect guest component, the wasi:config version adapters and the
//! env-from-config source component (guest/adapters),
//! and the example components `pod-greeter`, `config-consumer` (and its draft-2024-09-27 twin)
//! and `pod-http` (examples/), for wasm32-wasip2 with one nested `cargo build`, the way wasmtime's
//! `crates/test-programs/artifacts` builds its test components. Exports their paths as
//! `POD_INTROSPECT_GUEST_WASM`, `POD_GREETER_WASM`, `CONFIG_CONSUMER_WASM`,
//! `CONFIG_CONSUMER_DRAFT_WASM`, `POD_HTTP_WASM`, `CONFIG_DRAFT_FROM_RC1_WASM`,
//! `CONFIG_RC1_FROM_DRAFT_WASM` and `ENV_FROM_CONFIG_WASM`.
//!
//! The nested build uses its own target dir under OUT_DIR so it never waits on the outer build's
//! lock, and drops the outer build's flags (RUSTFLAGS for the host target must not reach wasm).

use std::env;
use std::path::PathBuf;
use std::process::Command;

fn main() {
    let manifest_dir =
        PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let workspace = manifest_dir.join("../..");
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let target_dir = out_dir.join("guest-target");
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());

    for path in [
        "guest/src",
        "guest/Cargo.toml",
        "guest/kube/src",
        "guest/kube/Cargo.toml",
        "examples/pod-greeter",
        "examples/config-consumer",
        "examples/pod-http",
        "guest/adapters",
        "wit",
        "Cargo.lock",
    ] {
        println!("cargo:rerun-if-changed={}", workspace.join(path).display());
    }

    let mut cmd = Command::new(cargo);
    cmd.current_dir(&workspace)
        .args([
            "build",
            "-p",
            "pod-introspect-guest",
            "-p",
            "pod-greeter",
            "-p",
            "config-consumer",
            "-p",
            "pod-http",
            "-p",
            "config-draft-from-rc1",
            "-p",
            "config-rc1-from-draft",
            "-p",
            "env-from-config",
            "--target",
            "wasm32-wasip2",
            "--release",
        ])
        .arg("--target-dir")
        .arg(&target_dir);
    for var in [
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTFLAGS",
        "CARGO_BUILD_RUSTFLAGS",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "RUSTC_WORKSPACE_WRAPPER",
        "RUSTC_WRAPPER",
        "CARGO_MAKEFLAGS",
        "CARGO_PROFILE_RELEASE_DEBUG",
    ] {
        cmd.env_remove(var);
    }
    let status = cmd
        .status()
        .unwrap_or_else(|e| panic!("failed to run cargo for the guest: {e}"));
    if !status.success() {
        panic!(
            "building the guest component failed ({status}); is the wasm32-wasip2 target installed? run `rustup target add wasm32-wasip2`"
        );
    }
    for (file, var) in [
        ("pod_introspect_guest.wasm", "POD_INTROSPECT_GUEST_WASM"),
        ("pod-greeter.wasm", "POD_GREETER_WASM"),
        ("config-consumer.wasm", "CONFIG_CONSUMER_WASM"),
        ("pod_http.wasm", "POD_HTTP_WASM"),
        ("config-consumer-draft.wasm", "CONFIG_CONSUMER_DRAFT_WASM"),
        ("config_draft_from_rc1.wasm", "CONFIG_DRAFT_FROM_RC1_WASM"),
        ("config_rc1_from_draft.wasm", "CONFIG_RC1_FROM_DRAFT_WASM"),
        ("env_from_config.wasm", "ENV_FROM_CONFIG_WASM"),
    ] {
        let wasm = target_dir.join("wasm32-wasip2/release").join(file);
        assert!(
            wasm.exists(),
            "the guest build did not produce {}",
            wasm.display()
        );
        println!("cargo:rustc-env={var}={}", wasm.display());
    }
}
