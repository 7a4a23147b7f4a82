//! The host driving the bundled guest through its typed exports prints what the guest's own
//! `wasi:cli/run` prints (`pod-introspect run GUEST.wasm -- ...`, as `wasmtime run` would): the
//! note and `--strict` failure for a root that holds no pod, and `--pretty` for every `api`
//! subcommand (one line by default).

use crate::cluster::{Cluster, InClusterPod};
use crate::harness::{PodRoot, stderr, stdout};
use pod_introspect_apiserver::ClusterOptions;
use pod_introspect_guest_artifact::GUEST_WASM_PATH;
use std::process::Output;

const EMPTY_REPORT: &str = "{\"resources\":{},\"sources\":{},\"errors\":[]}\n";

/// `pod-introspect run GUEST.wasm <sandbox> -- <guest_args>`: the guest's own command line.
fn guest_cli(pod: &PodRoot, sandbox: &[&str], guest_args: &[&str]) -> Output {
    let mut args = vec!["run", GUEST_WASM_PATH];
    args.extend_from_slice(sandbox);
    args.push("--");
    args.extend_from_slice(guest_args);
    pod.run(&args)
}

#[test]
fn an_empty_root_says_nothing_was_found_and_where_it_looked() {
    let pod = PodRoot::new();
    let root = pod.path().to_str().unwrap();
    let out = pod.run(&["info", "--root", root, "--env-clear"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), EMPTY_REPORT);
    let err = stderr(&out);
    assert!(
        err.contains("warning: no Downward API source was found: no downwardAPI volume files in /"),
        "{err}"
    );
    for looked in [
        "/etc/podinfo",
        "POD_NAME, MY_POD_NAME",
        "MY_MEM_REQUEST",
        "no /var/run/secrets/kubernetes.io/serviceaccount/namespace.",
        &format!("(container paths, under --root {root})"),
    ] {
        assert!(err.contains(looked), "{looked}: {err}");
    }

    let strict = pod.run(&["info", "--root", root, "--env-clear", "--strict"]);
    assert_eq!(strict.status.code(), Some(1), "{}", stderr(&strict));
    assert_eq!(stdout(&strict), EMPTY_REPORT);
    let err = stderr(&strict);
    assert!(
        err.starts_with("error: no Downward API source was found")
            && err.trim_end().ends_with("(--strict)"),
        "{err}"
    );
}

#[test]
fn the_guests_own_command_line_says_so_too() {
    let pod = PodRoot::new();
    let root = pod.path().to_str().unwrap();
    let sandbox = ["--root", root, "--env-clear"];
    let out = guest_cli(&pod, &sandbox, &["info"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), EMPTY_REPORT);
    assert!(
        stderr(&out).contains("warning: no Downward API source was found"),
        "{}",
        stderr(&out)
    );
    let strict = guest_cli(&pod, &sandbox, &["--strict"]);
    assert_eq!(strict.status.code(), Some(1), "{}", stderr(&strict));
    assert!(
        stderr(&strict).starts_with("error: no Downward API source was found"),
        "{}",
        stderr(&strict)
    );
}

#[test]
fn one_source_found_is_no_note_and_strict_passes() {
    let pod = PodRoot::new();
    let root = pod.path().to_str().unwrap();
    let out = pod.run(&[
        "info",
        "--root",
        root,
        "--env-clear",
        "--env",
        "POD_NAME=web-0",
        "--strict",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        !stderr(&out).contains("no Downward API source"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        stdout(&out),
        "{\"name\":\"web-0\",\"resources\":{},\"sources\":{\"metadata.name\":\"env:POD_NAME\"},\"errors\":[]}\n"
    );
}

/// Runs `api <call>` through the host and through the guest's own command line, asserts both
/// exit with `code` and print the same bytes, and returns them.
fn api_both(pod: &InClusterPod, call: &[&str], code: i32) -> String {
    let mut host_args = vec!["api"];
    host_args.extend_from_slice(call);
    let host = pod.run(&host_args, &[]);
    let root = pod.root.path().to_str().unwrap().to_string();
    let env = pod.env();
    let mut sandbox: Vec<&str> = vec!["--root", &root, "--env-clear"];
    sandbox.extend(env.iter().map(String::as_str));
    let guest = guest_cli(&pod.root, &sandbox, &host_args);
    assert_eq!(
        host.status.code(),
        Some(code),
        "{call:?}: {}",
        stderr(&host)
    );
    assert_eq!(
        guest.status.code(),
        Some(code),
        "{call:?}: {}",
        stderr(&guest)
    );
    assert_eq!(stdout(&host), stdout(&guest), "{call:?}");
    stdout(&host)
}

#[test]
fn api_prints_one_line_unless_pretty_for_every_subcommand() {
    let cluster = Cluster::start(ClusterOptions::default());
    let pod = InClusterPod::new(&cluster, "shop", "web-0");
    for call in [&["version"][..], &["self"], &["pods"], &["get", "/version"]] {
        let compact = api_both(&pod, call, 0);
        assert_eq!(compact.lines().count(), 1, "{call:?}: {compact}");
        let value: serde_json::Value = serde_json::from_str(&compact).unwrap();
        let indented = format!("{}\n", serde_json::to_string_pretty(&value).unwrap());
        let mut after: Vec<&str> = call.to_vec();
        after.push("--pretty");
        assert_eq!(api_both(&pod, &after, 0), indented, "{after:?}");
        let mut before = vec!["--pretty"];
        before.extend_from_slice(call);
        assert_eq!(api_both(&pod, &before, 0), indented, "{before:?}");
    }
    // A watch: one line per event, or each event indented.
    let event = api_both(&pod, &["watch", "pods", "--max-events", "1"], 0);
    assert_eq!(event.lines().count(), 1, "{event}");
    let value: serde_json::Value = serde_json::from_str(&event).unwrap();
    assert_eq!(value["type"], "ADDED");
    assert_eq!(
        api_both(&pod, &["watch", "--pretty", "pods", "--max-events", "1"], 0),
        format!("{}\n", serde_json::to_string_pretty(&value).unwrap())
    );
    let version = api_both(&pod, &["version"], 0);
    assert!(version.starts_with("{\"buildDate\":"), "{version}");
    assert_eq!(
        api_both(&pod, &["version", "--pretty"], 0).lines().nth(1),
        Some(
            format!(
                "  \"buildDate\": {},",
                serde_json::from_str::<serde_json::Value>(&version).unwrap()["buildDate"]
            )
            .as_str()
        )
    );
}

#[test]
fn api_errors_are_one_line_unless_pretty() {
    let cluster = Cluster::start(ClusterOptions::default());
    let pod = InClusterPod::new(&cluster, "shop", "web-0");
    let forbidden = api_both(&pod, &["pods", "-n", "kube-system"], 1);
    assert!(
        // The Status's details come along (which resource), keys sorted as serde_json prints.
        forbidden.starts_with(
            "{\"error\":{\"code\":403,\"details\":{\"kind\":\"pods\"},\"kind\":\"forbidden\","
        ),
        "{forbidden}"
    );
    assert_eq!(forbidden.lines().count(), 1);
    let pretty = api_both(&pod, &["pods", "-n", "kube-system", "--pretty"], 1);
    assert!(
        pretty.starts_with(
            "{\n  \"error\": {\n    \"code\": 403,\n    \"details\": {\n      \"kind\": \"pods\"\n    },\n    \"kind\": \"forbidden\","
        ),
        "{pretty}"
    );
    let missing = api_both(&pod, &["get", "/api/v1/namespaces/shop/pods/nope"], 1);
    assert!(missing.starts_with("{\"body\":{"), "{missing}");
    assert!(missing.trim_end().ends_with("\"status\":404}"), "{missing}");
}
