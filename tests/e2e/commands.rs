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
