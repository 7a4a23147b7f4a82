//! `pod-introspect api event`: events.k8s.io/v1 Events about this pod, aggregated into a
//! `series` on repeats as client-go's `tools/events` recorder does, as the real kubectl sees
//! them (`get events`, `describe pod`); and the guest component under the wasmtime CLI talking
//! to the emulator through a `pod-introspect proxy` ambassador (no token, no TLS in the guest).
//! kubectl and wasmtime are looked up on PATH; where missing the test says `skipped: ...`, or
//! fails under POD_INTROSPECT_REQUIRE_TOOLS=1.

use crate::api_verbs::ok;
use crate::cluster::{Cluster, InClusterPod, own_namespace_rules};
use crate::harness::{parse_json, stderr, stdout};
use pod_introspect_apiserver::ClusterOptions;
use pod_introspect_guest_artifact::GUEST_WASM_PATH;
use serde_json::{Value, json};
use std::io::Read as _;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Runs `cmd` with stdout and stderr captured, killing it after `timeout` (then the test fails).
fn output_within(cmd: &mut Command, timeout: Duration) -> Output {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}"));
    let drain = |mut r: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = r.read_to_end(&mut buf);
            buf
        })
    };
    let out = drain(Box::new(child.stdout.take().unwrap()));
    let err = drain(Box::new(child.stderr.take().unwrap()));
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "{cmd:?} did not finish within {timeout:?}; stderr: {}",
                String::from_utf8_lossy(&err.join().unwrap_or_default())
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    }
}

/// The Events (core v1 view) of `namespace` whose `reason` is `reason`, read as admin.
fn events_with_reason(cluster: &Cluster, namespace: &str, reason: &str) -> Vec<Value> {
    let list = cluster
        .admin_get(&format!(
            "/apis/events.k8s.io/v1/namespaces/{namespace}/events"
        ))
        .expect("events list");
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["reason"] == reason)
        .cloned()
        .collect()
}

/// `api event --reason ConfigReloaded --message "reloaded config v2"` twice: client-go's
/// `tools/events` turns an isomorphic repeat (same regarding, reason, type, note, action,
/// reportingController/Instance) into a `series` update of the first Event (`series.count: 2`)
/// instead of a second Event. kubectl (with the emulator's admin kubeconfig) sees exactly one
/// such Event in `get events -o json` (core v1: `series.count` or `count` 2) and `describe
/// pod` lists it under the pod (it matches `involvedObject` name, namespace and uid). The note
/// is not part of the key, so another note joins the series too; another reason (and type) is
/// a second Event.
#[test]
fn a_repeated_event_is_one_event_with_a_series_that_kubectl_shows() {
    if pod_introspect_test_support::kubectl().is_none() {
        return;
    }
    let state = tempfile::tempdir().unwrap();
    let cluster = Cluster::start(ClusterOptions {
        state_dir: Some(state.path().to_path_buf()),
        rbac: Some(own_namespace_rules()),
        ..Default::default()
    });
    let pod = InClusterPod::new(&cluster, "events", "app-0");
    let uid = cluster
        .api()
        .get_pod("events", "app-0")
        .unwrap()
        .metadata
        .uid
        .unwrap();
    let record = |message: &str| {
        ok(&pod.run(
            &[
                "api",
                "event",
                "--reason",
                "ConfigReloaded",
                "--message",
                message,
            ],
            &[],
        ))
    };
    let first = record("reloaded config v2");
    assert_eq!(first["apiVersion"], "events.k8s.io/v1", "{first}");
    assert_eq!(first["kind"], "Event");
    assert_eq!(first["reason"], "ConfigReloaded");
    assert_eq!(first["note"], "reloaded config v2");
    assert_eq!(first["type"], "Normal");
    assert_eq!(
        first["action"], "ConfigReloaded",
        "action defaults to the reason"
    );
    assert_eq!(first["reportingController"], "pod-introspect.dev/component");
    assert_eq!(first["reportingInstance"], "app-0");
    assert_eq!(
        first["regarding"],
        json!({"apiVersion": "v1", "kind": "Pod", "name": "app-0", "namespace": "events", "uid": uid}),
        "{first}"
    );
    assert!(
        first["series"].is_null(),
        "a first Event has no series: {first}"
    );
    let second = record("reloaded config v2");
    assert_eq!(
        second["metadata"]["name"], first["metadata"]["name"],
        "the same Event"
    );
    assert_eq!(second["series"]["count"], 2, "{second}");
    assert!(second["series"]["lastObservedTime"].is_string(), "{second}");
    assert_eq!(
        events_with_reason(&cluster, "events", "ConfigReloaded").len(),
        1
    );

    let home = tempfile::tempdir().unwrap();
    let kubectl = |args: &[&str]| {
        let out = output_within(
            Command::new("kubectl")
                .arg("--kubeconfig")
                .arg(state.path().join("kubeconfig"))
                .arg("--request-timeout=20s")
                .args(args)
                .env("HOME", home.path())
                .env("KUBECACHEDIR", home.path().join("cache")),
            Duration::from_secs(60),
        );
        assert!(out.status.success(), "kubectl {args:?}: {}", stderr(&out));
        out
    };
    let list = parse_json(&kubectl(&["get", "events", "-n", "events", "-o", "json"]));
    let ours: Vec<&Value> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["reason"] == "ConfigReloaded")
        .collect();
    assert_eq!(ours.len(), 1, "exactly one Event: {list}");
    let e = ours[0];
    assert!(
        e["series"]["count"] == 2 || e["count"] == 2,
        "counted twice: {e}"
    );
    assert_eq!(e["message"], "reloaded config v2");
    assert_eq!(e["involvedObject"]["name"], "app-0");
    assert_eq!(e["involvedObject"]["uid"], uid.as_str());

    let described = stdout(&kubectl(&["describe", "pod", "app-0", "-n", "events"]));
    let events = described.split("Events:").nth(1).unwrap_or("");
    assert!(
        events.contains("ConfigReloaded") && events.contains("reloaded config v2"),
        "{described}"
    );

    // The note is not part of client-go's isomorphism key (`getKey`): another note joins the
    // series (the Event keeps its first note); another reason is another Event.
    let third = record("reloaded config v3");
    assert_eq!(third["metadata"]["name"], first["metadata"]["name"]);
    assert_eq!(third["series"]["count"], 3, "{third}");
    assert_eq!(third["note"], "reloaded config v2", "{third}");
    assert_eq!(
        events_with_reason(&cluster, "events", "ConfigReloaded").len(),
        1
    );
    let other = ok(&pod.run(
        &[
            "api",
            "event",
            "--reason",
            "ConfigRejected",
            "--message",
            "bad config v4",
            "--type",
            "Warning",
        ],
        &[],
    ));
    assert_ne!(other["metadata"]["name"], first["metadata"]["name"]);
    assert_eq!(other["type"], "Warning");
    assert!(other["series"].is_null(), "{other}");
    assert_eq!(
        events_with_reason(&cluster, "events", "ConfigRejected").len(),
        1
    );
}

/// The guest component itself under the wasmtime CLI (`wasmtime run -S http`, as
/// runtimes.rs runs it), with POD_INTROSPECT_API_URL pointing at a `pod-introspect proxy`
/// ambassador that holds the pod's ServiceAccount credentials (the guest gets no token and no
/// ServiceAccount volume, and speaks plain HTTP): `api get configmaps NAME -n NS` and `api get
/// cm NAME` print the ConfigMap, `api label self` patches the pod, and `api event` records an
/// Event about it, which the emulator holds.
#[test]
fn the_guest_in_wasmtime_works_through_the_ambassador() {
    let Some(wasmtime) =
        crate::runtimes::tool("wasmtime", "cargo install --locked wasmtime-cli@48.0.8")
    else {
        return;
    };
    let cluster = Cluster::start(ClusterOptions {
        rbac: Some(own_namespace_rules()),
        ..Default::default()
    });
    let pod = InClusterPod::new(&cluster, "amb", "amb-0");
    let (code, cm) = cluster.admin(
        "POST",
        "/api/v1/namespaces/amb/configmaps",
        Some(&json!({"apiVersion": "v1", "kind": "ConfigMap",
                     "metadata": {"name": "app-config", "namespace": "amb"},
                     "data": {"greeting": "hello"}})),
    );
    assert_eq!(code, 201, "{cm}");
    let proxy = crate::proxy::proxy_for(&pod, &[]);
    let api_url = format!("POD_INTROSPECT_API_URL=http://{}", proxy.addr());
    let run = |args: &[&str]| {
        output_within(
            Command::new(&wasmtime)
                .args(["run", "-S", "http"])
                .args(["--env", &api_url])
                .args(["--env", "POD_NAME=amb-0", "--env", "POD_NAMESPACE=amb"])
                .arg(GUEST_WASM_PATH)
                .args(args),
            Duration::from_secs(120),
        )
    };

    let got = ok(&run(&[
        "api",
        "get",
        "configmaps",
        "app-config",
        "-n",
        "amb",
    ]));
    assert_eq!(got["kind"], "ConfigMap", "{got}");
    assert_eq!(got["data"], json!({"greeting": "hello"}));
    assert_eq!(got["metadata"]["uid"], cm["metadata"]["uid"]);
    let short = ok(&run(&["api", "get", "cm", "app-config"]));
    assert_eq!(
        short["metadata"]["uid"], cm["metadata"]["uid"],
        "own namespace, short name"
    );

    let labelled = ok(&run(&["api", "label", "self", "runtime=wasmtime"]));
    assert_eq!(
        labelled["metadata"]["labels"]["runtime"], "wasmtime",
        "{labelled}"
    );
    let stored = cluster.api().get_pod("amb", "amb-0").unwrap();
    assert_eq!(
        stored
            .metadata
            .labels
            .as_ref()
            .and_then(|l| l.get("runtime"))
            .map(String::as_str),
        Some("wasmtime")
    );

    let event = ok(&run(&[
        "api",
        "event",
        "--reason",
        "WasmReloaded",
        "--message",
        "reloaded from wasmtime",
    ]));
    assert_eq!(event["reason"], "WasmReloaded", "{event}");
    let held = events_with_reason(&cluster, "amb", "WasmReloaded");
    assert_eq!(held.len(), 1, "{held:?}");
    assert_eq!(held[0]["note"], "reloaded from wasmtime");
    assert_eq!(held[0]["regarding"]["kind"], "Pod");
    assert_eq!(held[0]["regarding"]["name"], "amb-0");
    assert_eq!(
        held[0]["regarding"]["uid"],
        stored.metadata.uid.as_deref().unwrap_or_default()
    );
    // Missing objects are API errors with exit status 1, as in the host.
    let out = run(&["api", "get", "cm", "nope"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert_eq!(parse_json(&out)["error"]["kind"], "not-found");
}
