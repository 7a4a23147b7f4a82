//! The host's subcommands: `run`, `demo`, limits and flag errors.

use crate::harness::{PodRoot, parse_json, stderr, stdout};
use pod_introspect_guest_artifact::GUEST_WASM_PATH;

#[test]
fn run_prints_the_same_json_as_info() {
    let pod = PodRoot::new();
    pod.atomic_volume(
        "/etc/podinfo",
        "..2026_11_29_10_00_00.1",
        &[("labels", "app=\"same\"")],
    );
    let root = pod.path().to_str().unwrap();
    let info = pod.run(&["info", "--root", root, "--env-clear", "--env", "POD_NAME=p"]);
    let run = pod.run(&[
        "run",
        GUEST_WASM_PATH,
        "--root",
        root,
        "--env-clear",
        "--env",
        "POD_NAME=p",
    ]);
    assert!(
        info.status.success() && run.status.success(),
        "{}{}",
        stderr(&info),
        stderr(&run)
    );
    assert_eq!(stdout(&info), stdout(&run));
    assert_eq!(parse_json(&run)["labels"]["app"], "same");
}

#[test]
fn run_passes_arguments_after_the_double_dash() {
    let pod = PodRoot::new();
    let root = pod.path().to_str().unwrap();
    let out = pod.run(&[
        "run",
        GUEST_WASM_PATH,
        "--root",
        root,
        "--env-clear",
        "--",
        "--bogus",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("unknown argument \"--bogus\""),
        "{}",
        stderr(&out)
    );
}

#[test]
fn demo_prints_what_the_guest_learned() {
    let pod = PodRoot::new();
    let out = pod.run(&["demo"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("seed-demo"), "{text}");
    assert!(text.contains("limits.cpu"), "{text}");
    assert!(text.contains("500 × 1m = 500 millicores"), "{text}");
    assert!(text.contains("no errors"), "{text}");
}

#[test]
fn memory_cap_stops_the_guest_with_a_clear_error() {
    let pod = PodRoot::new();
    let out = pod.run(&[
        "info",
        "--root",
        pod.path().to_str().unwrap(),
        "--env-clear",
        "--max-memory",
        "1",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--max-memory"), "{}", stderr(&out));
}

#[test]
fn bad_flags_name_the_flag() {
    let pod = PodRoot::new();
    let root = pod.path().to_str().unwrap();
    let cases: [(&[&str], &str); 5] = [
        (
            &["info", "--root", "/nonexistent/root"],
            "--root /nonexistent/root",
        ),
        (
            &["info", "--downward", "etc/podinfo"],
            "--downward etc/podinfo",
        ),
        (
            &["info", "--root", root, "--downward", "/etc/none"],
            "--downward /etc/none",
        ),
        (&["info", "--timeout", "nan"], "--timeout NaN"),
        (&["run", "/nonexistent.wasm"], "/nonexistent.wasm"),
    ];
    for (args, want) in cases {
        let out = pod.run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(want), "{args:?}: {}", stderr(&out));
        assert!(
            !stderr(&out).contains("panicked"),
            "{args:?}: {}",
            stderr(&out)
        );
    }
}

#[test]
fn a_component_that_is_not_a_component_is_refused() {
    let pod = PodRoot::new();
    let bogus = pod.path().join("bogus.wasm");
    std::fs::write(&bogus, b"\0asm\x01\0\0\0").unwrap();
    let out = pod.run(&["run", bogus.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("bogus.wasm"), "{}", stderr(&out));
}

#[test]
fn container_paths_with_dot_dot_stay_inside_the_root() {
    let pod = PodRoot::new();
    let manifest = pod.path().join("evil.yaml");
    std::fs::write(
        &manifest,
        "apiVersion: v1\nkind: Pod\nmetadata: {name: evil}\nspec:\n  containers:\n  - name: c\n    image: i\n    env:\n    - {name: POD_INTROSPECT_FIELDS, value: \"metadata.uid=file:/../../../../../../etc/hostname\"}\n    volumeMounts: [{name: dw, mountPath: /../../../../../../etc}]\n  volumes: [{name: dw, downwardAPI: {items: [{path: name, fieldRef: {fieldPath: metadata.name}}]}}]\n",
    )
    .unwrap();
    pod.simulate(&manifest, &[]);
    let info = pod.info(&["--downward", "/../../../../etc"]);
    // /etc inside the root holds the simulated volume; the host's /etc/hostname is never read.
    let host_name = std::fs::read_to_string("/etc/hostname").unwrap_or_default();
    assert!(
        host_name.is_empty() || info.get("uid").is_none_or(|u| u != host_name.as_str()),
        "{info}"
    );
    assert!(info.get("uid").is_none(), "{info}");
}

/// A `wasi:cli/run` component that calls `wasi:cli/exit.exit-with-code(CODE)`, in the component
/// model's text format (`wasm-tools parse` turns it into a binary).
fn exit_with_code_wat(code: u8) -> String {
    format!(
        r#"(component
  (import "wasi:cli/exit@0.2.6" (instance $exit
    (export "exit-with-code" (func (param "status-code" u8)))))
  (core func $exit_code (canon lower (func $exit "exit-with-code")))
  (core module $m
    (import "exit" "exit-with-code" (func $e (param i32)))
    (func (export "run") (result i32) (call $e (i32.const {code})) (i32.const 1)))
  (core instance $i (instantiate $m
    (with "exit" (instance (export "exit-with-code" (func $exit_code))))))
  (type $status (result))
  (func $run (result $status) (canon lift (core func $i "run")))
  (instance $run_instance (export "run" (func $run)))
  (export "wasi:cli/run@0.2.0" (instance $run_instance)))"#
    )
}

#[test]
fn run_exits_with_the_component_s_exit_code() {
    let Some(wasm_tools) =
        pod_introspect_test_support::tool("wasm-tools", "cargo install wasm-tools --locked")
    else {
        return;
    };
    let wasmtime = pod_introspect_test_support::tool("wasmtime", "cargo install wasmtime-cli");
    let pod = PodRoot::new();
    let root = pod.path().to_str().unwrap();
    for code in [0u8, 7, 255] {
        let wat = pod.path().join(format!("exit{code}.wat"));
        let wasm = pod.path().join(format!("exit{code}.wasm"));
        std::fs::write(&wat, exit_with_code_wat(code)).unwrap();
        let parsed = std::process::Command::new(&wasm_tools)
            .arg("parse")
            .arg(&wat)
            .arg("-o")
            .arg(&wasm)
            .output()
            .unwrap();
        assert!(parsed.status.success(), "{}", stderr(&parsed));
        let out = pod.run(&["run", wasm.to_str().unwrap(), "--root", root, "--env-clear"]);
        assert_eq!(out.status.code(), Some(i32::from(code)), "{}", stderr(&out));
        if let Some(wasmtime) = &wasmtime {
            let theirs = std::process::Command::new(wasmtime)
                .arg("run")
                .arg(&wasm)
                .output()
                .unwrap();
            assert_eq!(
                theirs.status.code(),
                out.status.code(),
                "the wasmtime CLI agrees"
            );
        }
    }
}
