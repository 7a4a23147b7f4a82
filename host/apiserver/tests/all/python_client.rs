//! The official Python `kubernetes` client (kubernetes-client/python) as a judge: it must
//! accept every response, model every object and read every error as it does against
//! kube-apiserver. Skipped with a printed reason when no interpreter can `import kubernetes`
//! (see `pod_introspect_test_support::python_kubernetes`), failed under
//! `POD_INTROSPECT_REQUIRE_TOOLS=1`.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use pod_introspect_apiserver::ClusterOptions;
use serde_json::{Value, json};
use tokio::process::Command;

use crate::common::start;

/// Runs `python/client_suite.py` against the kubeconfig; returns its one JSON line.
async fn run_suite(python: &Path, kubeconfig: &Path, home: &Path) -> Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/all/python/client_suite.py");
    let out = tokio::time::timeout(
        Duration::from_secs(60),
        Command::new(python)
            .arg(&script)
            .arg(kubeconfig)
            .env_clear()
            .env("HOME", home)
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("client_suite.py timed out")
    .expect("client_suite.py ran");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "client_suite.py failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    let line = stdout.lines().last().unwrap_or("");
    serde_json::from_str(line)
        .unwrap_or_else(|e| panic!("not one JSON line ({e}):\n{stdout}\n{stderr}"))
}

/// A resourceVersion the script printed (a string, as the API serves it) as a number.
fn rv(v: &Value) -> u64 {
    v.as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not a numeric resourceVersion: {v}"))
}

/// What the client made of a 409 on a replace with a stale resourceVersion of `what` (as
/// `errors.NewConflict` words it: `configmaps "x"`, `deployments.apps "web"`).
fn assert_conflict(got: &Value, resource: &str, group: Option<&str>, name: &str) {
    let qualified = match group {
        Some(g) => format!("{resource}.{g}"),
        None => resource.to_owned(),
    };
    let mut details = json!({"kind": resource, "name": name});
    if let Some(g) = group {
        details["group"] = json!(g);
    }
    assert_eq!(
        got,
        &json!({
            "status": 409,
            "reason": "Conflict",
            "body_kind": "Status",
            "body_code": 409,
            "body_reason": "Conflict",
            "body_message": format!(
                "Operation cannot be fulfilled on {qualified} \"{name}\": the object has been modified; please apply your changes to the latest version and try again"
            ),
            "body_details": details,
        })
    );
}

/// The watch of one collection: started at its list's RV, it ended by itself (the server
/// closed it at `timeoutSeconds`, 6 s) after exactly `expected` (type, name, RV) events.
fn assert_watch(w: &Value, expected: &[(&str, &str, u64)]) {
    assert_eq!(w["error"], Value::Null, "{w}");
    assert_eq!(w["ended"], true, "{w}");
    let seconds = w["seconds"].as_f64().expect("seconds");
    assert!((5.5..20.0).contains(&seconds), "watch lasted {seconds} s");
    let got: Vec<(String, String, u64)> = w["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| {
            (
                e[0].as_str().unwrap().to_owned(),
                e[1].as_str().unwrap().to_owned(),
                rv(&e[2]),
            )
        })
        .collect();
    let want: Vec<(String, String, u64)> = expected
        .iter()
        .map(|(t, n, r)| ((*t).to_owned(), (*n).to_owned(), *r))
        .collect();
    assert_eq!(got, want);
    assert!(rv(&w["from"]) < expected[0].2, "{w}");
}

/// Asserts strictly increasing resourceVersions.
fn assert_increasing(rvs: &[u64]) {
    assert!(rvs.windows(2).all(|w| w[0] < w[1]), "{rvs:?}");
}

#[tokio::test]
async fn python_client_crud_watch_patch_conflict_scale_and_lease() {
    let Some(python) = pod_introspect_test_support::python_kubernetes() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let cluster = start(ClusterOptions {
        state_dir: Some(dir.path().join("state")),
        ..Default::default()
    })
    .await;
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let r = run_suite(&python, &dir.path().join("state").join("kubeconfig"), &home).await;
    let end_rv = cluster.resource_version();
    cluster.shutdown().await;

    assert_eq!(r["namespace"], json!(["py-suite", "Active"]));
    assert_eq!(
        r["namespaces"],
        json!([
            "default",
            "kube-node-lease",
            "kube-public",
            "kube-system",
            "py-suite"
        ])
    );

    // ConfigMaps (model bodies).
    let cm = &r["configmaps"];
    assert_eq!(cm["created"][0], "x");
    assert_eq!(cm["created"][2], json!({"a": "1", "b": "2"}));
    assert_eq!(cm["listed"], json!(["x"]));
    assert_eq!(cm["list_kind"], json!(["ConfigMapList", "v1"]));
    assert_eq!(cm["patched"][1], json!({"a": "1", "b": "20", "c": "3"}));
    assert_conflict(&cm["conflict"], "configmaps", None, "x");
    assert_eq!(
        cm["replaced"][1],
        json!({"a": "fresh", "b": "20", "c": "3"})
    );
    assert_eq!(cm["json_patched"], json!({"k": "v"}));
    assert_eq!(
        cm["deleted"],
        json!(["Status", "Success", "x", "configmaps"])
    );
    assert_eq!(cm["after_delete"]["status"], 404);
    assert_eq!(cm["after_delete"]["body_reason"], "NotFound");
    assert_eq!(
        cm["after_delete"]["body_message"],
        "configmaps \"x\" not found"
    );
    let (c_created, c_patched, c_replaced) = (
        rv(&cm["created"][1]),
        rv(&cm["patched"][0]),
        rv(&cm["replaced"][0]),
    );
    assert_increasing(&[c_created, c_patched, c_replaced]);
    let cm_events = r["watch"]["configmaps"]["events"].as_array().unwrap();
    let c_deleted = rv(&cm_events.last().expect("events")[2]);
    assert!(c_deleted > c_replaced);
    assert_watch(
        &r["watch"]["configmaps"],
        &[
            ("ADDED", "x", c_created),
            ("MODIFIED", "x", c_patched),
            ("MODIFIED", "x", c_replaced),
            ("DELETED", "x", c_deleted),
        ],
    );

    // Pods (dict bodies; strategic merge keeps the sidecar).
    let p = &r["pods"];
    assert_eq!(p["created"][0], "web-0");
    assert_eq!(p["listed"], json!(["web-0"]));
    assert_eq!(p["listed_all"], json!(["db-0", "web-0"]));
    assert_eq!(
        p["patched"][1],
        json!([["app", "nginx:2"], ["sidecar", "busybox:1"]])
    );
    assert_eq!(
        p["patched"][2],
        json!({"app": "web", "patched": "yes", "suite": "py"})
    );
    assert_conflict(&p["conflict"], "pods", None, "web-0");
    assert_eq!(
        p["replaced"][1],
        json!({"app": "web", "patched": "yes", "replaced": "yes", "suite": "py"})
    );
    assert_eq!(p["deleted"][0], "Pod");
    assert_eq!(p["deleted"][1], "web-0");
    let (p_created, p_patched, p_replaced, p_deleted) = (
        rv(&p["created"][1]),
        rv(&p["patched"][0]),
        rv(&p["replaced"][0]),
        rv(&p["deleted"][2]),
    );
    assert_increasing(&[c_deleted, p_created, p_patched, p_replaced, p_deleted]);
    assert_watch(
        &r["watch"]["pods"],
        &[
            ("ADDED", "web-0", p_created),
            ("MODIFIED", "web-0", p_patched),
            ("MODIFIED", "web-0", p_replaced),
            ("DELETED", "web-0", p_deleted),
        ],
    );

    // Deployments, their generation and the scale subresource.
    let d = &r["deployments"];
    assert_eq!(d["created"][0], "web");
    assert_eq!(d["created"][2], 1, "generation at create");
    assert_eq!(d["listed"], json!(["web"]));
    assert_eq!(
        d["patched"][1],
        json!([["app", "nginx:2"], ["sidecar", "busybox:1"]])
    );
    assert_eq!(d["patched"][2], 2, "a spec change bumps the generation");
    assert_conflict(&d["conflict"], "deployments", Some("apps"), "web");
    assert_eq!(d["scale"], json!(["Scale", "autoscaling/v1", 1, "app=web"]));
    assert_eq!(d["scaled"][0], 3);
    assert_eq!(d["after_scale"][0], 3);
    assert_eq!(
        d["after_scale"][1], d["scaled"][1],
        "the Scale's RV is the deployment's"
    );
    assert_eq!(
        d["after_scale"][2], 3,
        "scaling changes spec.replicas: generation 3"
    );
    assert_eq!(d["replaced"][1], json!({"replaced": "yes", "suite": "py"}));
    assert_eq!(d["replaced"][2], 3, "a label change keeps the generation");
    assert_eq!(
        d["deleted"],
        json!(["Status", "Success", "web", "deployments"])
    );
    let (d_created, d_patched, d_scaled, d_replaced) = (
        rv(&d["created"][1]),
        rv(&d["patched"][0]),
        rv(&d["scaled"][1]),
        rv(&d["replaced"][0]),
    );
    let d_events = r["watch"]["deployments"]["events"].as_array().unwrap();
    let d_deleted = rv(&d_events.last().expect("events")[2]);
    assert_increasing(&[
        p_deleted, d_created, d_patched, d_scaled, d_replaced, d_deleted,
    ]);
    assert_watch(
        &r["watch"]["deployments"],
        &[
            ("ADDED", "web", d_created),
            ("MODIFIED", "web", d_patched),
            ("MODIFIED", "web", d_scaled),
            ("MODIFIED", "web", d_replaced),
            ("DELETED", "web", d_deleted),
        ],
    );

    // The Lease: created, then taken over by another holder (MicroTime round trip).
    let l = &r["lease"];
    assert_eq!(l["created"][1], 15);
    assert_eq!(
        l["updated"],
        json!([
            l["updated"][0],
            "b",
            "2025-01-02T03:04:05.123456+00:00",
            "2025-01-02T03:04:15.123456+00:00",
            1
        ])
    );
    let (l_created, l_updated) = (rv(&l["created"][0]), rv(&l["updated"][0]));
    assert_increasing(&[d_deleted, l_created, l_updated]);
    assert_eq!(l_updated, end_rv, "the lease update is the last write");
}
