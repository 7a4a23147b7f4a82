//! The host tells the guest which downwardAPI and projected volumes `container.json` mounts, so a
//! volume at any path is read: `simulate` a pod, then run the `info` it prints as the next step.
//! An explicit `--downward` (or `POD_INTROSPECT_DOWNWARD_DIRS`) still wins, and the guest on its
//! own (`wasmtime run`, no host) keeps its default directories.

use crate::harness::{PodRoot, stderr, stdout};
use pod_introspect_guest_artifact::GUEST_WASM_PATH;
use serde_json::{Value, json};
use std::process::Command;

/// A Pod whose container mounts `volumes` (YAML flow-style volume sources, by mount path).
fn manifest(pod: &PodRoot, volumes: &[(&str, &str)]) -> std::path::PathBuf {
    let mut mounts = String::new();
    let mut defs = String::new();
    for (i, (path, source)) in volumes.iter().enumerate() {
        mounts.push_str(&format!("    - {{name: v{i}, mountPath: {path}}}\n"));
        defs.push_str(&format!("  - {{name: v{i}, {source}}}\n"));
    }
    let text = format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web-0\n  namespace: shop\n  labels: {{app: web, tier: front}}\n  annotations: {{build: v1.2.3}}\nspec:\n  containers:\n  - name: app\n    image: app\n    volumeMounts:\n{mounts}  volumes:\n{defs}"
    );
    let file = pod.path().join("pod.yaml");
    std::fs::write(&file, text).expect("write manifest");
    file
}

/// A downwardAPI volume source with the labels and annotations items.
const LABELS_AND_ANNOTATIONS: &str = "downwardAPI: {items: [{path: labels, fieldRef: {fieldPath: metadata.labels}}, {path: annotations, fieldRef: {fieldPath: metadata.annotations}}]}";

/// `simulate`, then exactly the `info` command it prints as the next step: that JSON, and what
/// `simulate` printed.
fn simulate_then_info(pod: &PodRoot, volumes: &[(&str, &str)]) -> (Value, String) {
    let printed = pod.simulate(&manifest(pod, volumes), &[]);
    let root = pod.path().to_str().expect("utf-8 temp path");
    assert!(
        printed.contains(&format!(
            "next: pod-introspect info --root {root} --env-clear"
        )),
        "{printed}"
    );
    (pod.info(&[]), printed)
}

/// A downwardAPI volume at `dir`: its labels and annotations are reported, read from there.
fn labels_and_annotations_read_at(dir: &str) {
    let pod = PodRoot::new();
    let (info, printed) = simulate_then_info(&pod, &[(dir, LABELS_AND_ANNOTATIONS)]);
    // What a real pod needs for the same volume.
    assert!(
        printed.contains(&format!(
            "add env POD_INTROSPECT_DOWNWARD_DIRS={dir} to the container"
        )),
        "{printed}"
    );
    assert_eq!(
        info["labels"],
        json!({"app": "web", "tier": "front"}),
        "{info}"
    );
    assert_eq!(info["annotations"], json!({"build": "v1.2.3"}), "{info}");
    assert_eq!(
        info["sources"]["metadata.labels"],
        format!("file:{dir}/labels")
    );
    assert_eq!(
        info["sources"]["metadata.annotations"],
        format!("file:{dir}/annotations")
    );
    assert_eq!(info["errors"], json!([]), "{info}");
}

#[test]
fn a_downward_volume_at_etc_config_is_read() {
    labels_and_annotations_read_at("/etc/config");
}

#[test]
fn a_downward_volume_at_etc_meta_is_read() {
    labels_and_annotations_read_at("/etc/meta");
}

#[test]
fn a_projected_volume_with_downward_sources_at_an_odd_path_is_read() {
    let pod = PodRoot::new();
    let projected = "projected: {sources: [{downwardAPI: {items: [{path: labels, fieldRef: {fieldPath: metadata.labels}}]}}, {downwardAPI: {items: [{path: pod_name, fieldRef: {fieldPath: metadata.name}}]}}]}";
    let (info, _) = simulate_then_info(&pod, &[("/var/lib/app/pod-meta", projected)]);
    assert_eq!(
        info["labels"],
        json!({"app": "web", "tier": "front"}),
        "{info}"
    );
    assert_eq!(info["name"], "web-0");
    assert_eq!(
        info["sources"]["metadata.labels"],
        "file:/var/lib/app/pod-meta/labels"
    );
    assert_eq!(
        info["sources"]["metadata.name"],
        "file:/var/lib/app/pod-meta/pod_name"
    );
    assert!(info.get("annotations").is_none(), "{info}");
    assert_eq!(info["errors"], json!([]), "{info}");
}

#[test]
fn an_explicit_downward_still_wins() {
    let pod = PodRoot::new();
    // The simulated volume at /etc/config, and a hand-made one at /srv/override that
    // container.json does not know: --downward is searched first.
    pod.simulate(
        &manifest(&pod, &[("/etc/config", LABELS_AND_ANNOTATIONS)]),
        &[],
    );
    pod.atomic_volume(
        "/srv/override",
        "..2026_12_02_10_00_00.1",
        &[("labels", "app=\"override\"")],
    );
    let info = pod.info(&["--downward", "/srv/override"]);
    assert_eq!(info["labels"], json!({"app": "override"}), "{info}");
    assert_eq!(
        info["sources"]["metadata.labels"],
        "file:/srv/override/labels"
    );
    // The mounted volume is still read for what --downward does not give.
    assert_eq!(info["annotations"], json!({"build": "v1.2.3"}), "{info}");
    assert_eq!(
        info["sources"]["metadata.annotations"],
        "file:/etc/config/annotations"
    );
}

#[test]
fn an_explicit_downward_dirs_value_is_kept_as_it_is() {
    let pod = PodRoot::new();
    let meta_labels =
        "downwardAPI: {items: [{path: pod_labels, fieldRef: {fieldPath: metadata.labels}}]}";
    pod.simulate(
        &manifest(
            &pod,
            &[
                ("/etc/config", LABELS_AND_ANNOTATIONS),
                ("/etc/meta", meta_labels),
            ],
        ),
        &[],
    );
    let root = pod.path().to_str().expect("utf-8 temp path");
    let out = pod.run(&[
        "info",
        "--root",
        root,
        "--env-clear",
        "--env",
        "POD_INTROSPECT_DOWNWARD_DIRS=/etc/meta",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let info: Value = serde_json::from_str(stdout(&out).trim()).expect("JSON");
    assert_eq!(
        info["sources"]["metadata.labels"],
        "file:/etc/meta/pod_labels"
    );
    assert!(info.get("annotations").is_none(), "{info}");
    // The host says which mounted volume the explicit value leaves out.
    assert!(
        stderr(&out).contains("the downwardAPI volume(s) mounted at /etc/config"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn the_guest_under_wasmtime_run_keeps_its_defaults() {
    let Some(wasmtime) =
        crate::runtimes::tool("wasmtime", "cargo install --locked wasmtime-cli@48.0.8")
    else {
        return;
    };
    let pod = PodRoot::new();
    pod.atomic_volume(
        "/etc/podinfo",
        "..2026_12_02_10_00_00.1",
        &[("labels", "app=\"default-dir\"")],
    );
    pod.atomic_volume(
        "/etc/config",
        "..2026_12_02_10_00_00.1",
        &[("annotations", "build=\"not-read\"")],
    );
    let dir = |p: &str| format!("{}::{p}", pod.host(p).display());
    let out = Command::new(wasmtime)
        .args(["run", "-S", "http", "--dir", &dir("/etc/podinfo")])
        .args(["--dir", &dir("/etc/config")])
        .arg(GUEST_WASM_PATH)
        .output()
        .expect("run wasmtime");
    assert!(out.status.success(), "{}", stderr(&out));
    let info: Value = serde_json::from_str(stdout(&out).trim()).expect("JSON");
    assert_eq!(info["labels"], json!({"app": "default-dir"}), "{info}");
    assert_eq!(
        info["sources"]["metadata.labels"],
        "file:/etc/podinfo/labels"
    );
    // /etc/config is preopened but not a default directory, and no host names it.
    assert!(info.get("annotations").is_none(), "{info}");
}

/// In a real container there is no `container.json`: the host finds the volumes in
/// `/proc/self/mountinfo`. A private mount namespace (`unshare -rm`) with read-only tmpfs mounts
/// stands for the container: one downwardAPI volume at an odd path, laid out by hand as the
/// kubelet's AtomicWriter leaves it, and one whose `..data` points at a missing version.
#[test]
fn without_a_root_the_volumes_are_found_in_mountinfo() {
    use pod_introspect_test_support::missing;
    let ok = Command::new("unshare")
        .args(["-rm", "true"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        missing("`unshare -rm` (a user and mount namespace) is not allowed on this machine");
        return;
    }
    let pod = PodRoot::new();
    let dir = pod.path().to_str().expect("utf-8 temp path").to_string();
    let version = "..2026_12_04_10_00_00.123456789";
    let script = format!(
        r#"set -e
cd "$1"
mkdir meta broken
mount -t tmpfs tmpfs meta
mkdir meta/{version}
printf 'app="web"\ntier="front end"' > meta/{version}/labels
printf 'web-0' > meta/{version}/name
ln -s {version} meta/..data
ln -s ..data/labels meta/labels
ln -s ..data/name meta/name
mount -o remount,ro meta
mount -t tmpfs tmpfs broken
ln -s ..2026_01_01_00_00_00.000000000 broken/..data
mount -o remount,ro broken
shift
exec "$@""#
    );
    let out = Command::new("unshare")
        .args(["-rm", "sh", "-c", &script, "sh", &dir])
        .arg(crate::harness::HOST)
        .args(["info", "--env-clear"])
        .env("POD_INTROSPECT_CACHE_DIR", pod.cache())
        .output()
        .expect("run unshare");
    assert!(out.status.success(), "info: {}", stderr(&out));
    let info: Value = serde_json::from_str(&stdout(&out)).expect("info JSON");
    assert_eq!(info["name"], "web-0");
    assert_eq!(
        info["sources"]["metadata.name"],
        format!("file:{dir}/meta/name")
    );
    assert_eq!(info["labels"], json!({"app": "web", "tier": "front end"}));
    let errors = info["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0]["field"], format!("volume {dir}/broken"));
    assert_eq!(errors[0]["kind"], "io");
    assert!(
        errors[0]["message"]
            .as_str()
            .unwrap()
            .contains("..data link kept pointing at a missing or vanishing version"),
        "{errors:?}"
    );
    assert!(
        stderr(&out).contains(&format!(
            "{dir}/broken looks like a downwardAPI volume (/proc/self/mountinfo) but cannot be read"
        )),
        "{}",
        stderr(&out)
    );
}
