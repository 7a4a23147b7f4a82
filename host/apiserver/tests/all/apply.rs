//! Server-side apply with the real kubectl (`kubectl apply --server-side`): two field managers,
//! the conflict kubectl prints, `--force-conflicts`, and the managed fields of the result
//! (skipped with a printed reason when `kubectl` is not on PATH, failed under
//! `POD_INTROSPECT_REQUIRE_TOOLS=1`).

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use pod_introspect_apiserver::{ClusterOptions, DevCluster};
use serde_json::{Value, json};
use tokio::process::Command;

use crate::common::start;

struct Kubectl {
    bin: PathBuf,
    dir: tempfile::TempDir,
    cluster: DevCluster,
}

impl Kubectl {
    async fn start() -> Option<Kubectl> {
        let bin = pod_introspect_test_support::kubectl()?;
        let dir = tempfile::tempdir().unwrap();
        let cluster = start(ClusterOptions {
            state_dir: Some(dir.path().join("state")),
            ..Default::default()
        })
        .await;
        Some(Kubectl { bin, dir, cluster })
    }

    /// Runs kubectl to completion (bounded); returns (success, stdout, stderr).
    async fn run(&self, args: &[&str]) -> (bool, String, String) {
        let home = self.dir.path().join("home");
        std::fs::create_dir_all(&home).unwrap();
        let mut cmd = Command::new(&self.bin);
        cmd.env_clear()
            .env("HOME", &home)
            .env("KUBECACHEDIR", self.dir.path().join("cache"))
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .arg("--kubeconfig")
            .arg(self.dir.path().join("state").join("kubeconfig"))
            .arg("--request-timeout=10s")
            .args(args)
            .stdin(Stdio::null())
            .kill_on_drop(true);
        let out = tokio::time::timeout(Duration::from_secs(30), cmd.output())
            .await
            .expect("kubectl timed out")
            .expect("kubectl ran");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    async fn ok(&self, args: &[&str]) -> String {
        let (ok, stdout, stderr) = self.run(args).await;
        assert!(ok, "kubectl {args:?} failed:\n{stdout}\n{stderr}");
        stdout
    }

    fn manifest(&self, name: &str, text: &str) -> String {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_owned()
    }
}

/// The `fieldsV1` of each manager's entry, by manager.
fn managed(obj: &Value) -> Vec<(String, String, Value)> {
    obj["metadata"]["managedFields"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            (
                e["manager"].as_str().unwrap_or("").to_owned(),
                e["operation"].as_str().unwrap_or("").to_owned(),
                e["fieldsV1"].clone(),
            )
        })
        .collect()
}

#[tokio::test]
async fn kubectl_server_side_apply_two_managers_conflict_and_force() {
    let Some(k) = Kubectl::start().await else {
        return;
    };
    let first = k.manifest(
        "first.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: demo\n  namespace: ssa\ndata:\n  key: one\n  a: \"1\"\n",
    );
    let second = k.manifest(
        "second.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: demo\n  namespace: ssa\ndata:\n  key: two\n  b: \"2\"\n",
    );
    let out = k
        .ok(&[
            "apply",
            "--server-side",
            "--field-manager=alpha",
            "-f",
            &first,
        ])
        .await;
    assert_eq!(out.trim(), "configmap/demo serverside-applied");

    // beta sets alpha's `key` to another value: kubectl prints the 409's message and its
    // advice, and nothing changes.
    let (ok, _, stderr) = k
        .run(&[
            "apply",
            "--server-side",
            "--field-manager=beta",
            "-f",
            &second,
        ])
        .await;
    assert!(!ok);
    let first_line = stderr.lines().next().unwrap_or("");
    assert_eq!(
        first_line, "error: Apply failed with 1 conflict: conflict with \"alpha\": .data.key",
        "{stderr}"
    );
    assert!(
        stderr.contains("Please review the fields above--they currently have other managers.")
            && stderr.contains("--force-conflicts"),
        "{stderr}"
    );
    let get = [
        "get",
        "configmap",
        "demo",
        "-n",
        "ssa",
        "-o",
        "json",
        "--show-managed-fields",
    ];
    let obj: Value = serde_json::from_str(&k.ok(&get).await).unwrap();
    assert_eq!(obj["data"], json!({"a": "1", "key": "one"}));

    // With --force-conflicts beta takes `key` over.
    let out = k
        .ok(&[
            "apply",
            "--server-side",
            "--field-manager=beta",
            "--force-conflicts",
            "-f",
            &second,
        ])
        .await;
    assert_eq!(out.trim(), "configmap/demo serverside-applied");
    let obj: Value = serde_json::from_str(&k.ok(&get).await).unwrap();
    assert_eq!(obj["data"], json!({"a": "1", "b": "2", "key": "two"}));
    let mut entries = managed(&obj);
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        entries,
        [
            (
                "alpha".to_owned(),
                "Apply".to_owned(),
                json!({"f:data": {"f:a": {}}})
            ),
            (
                "beta".to_owned(),
                "Apply".to_owned(),
                json!({"f:data": {"f:b": {}, "f:key": {}}})
            ),
        ]
    );

    // alpha re-applying without `a` (and without the `key` it lost) removes `a`.
    let third = k.manifest(
        "third.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: demo\n  namespace: ssa\n  labels:\n    owner: alpha\n",
    );
    k.ok(&[
        "apply",
        "--server-side",
        "--field-manager=alpha",
        "-f",
        &third,
    ])
    .await;
    let obj: Value = serde_json::from_str(&k.ok(&get).await).unwrap();
    assert_eq!(obj["data"], json!({"b": "2", "key": "two"}));
    assert_eq!(obj["metadata"]["labels"], json!({"owner": "alpha"}));
    k.cluster.shutdown().await;
}

#[tokio::test]
async fn kubectl_server_side_apply_merges_containers_by_name() {
    let Some(k) = Kubectl::start().await else {
        return;
    };
    let app = k.manifest(
        "app.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: ssa\nspec:\n  selector:\n    matchLabels:\n      app: web\n  template:\n    metadata:\n      labels:\n        app: web\n    spec:\n      containers:\n      - name: app\n        image: app:1\n",
    );
    let sidecar = k.manifest(
        "sidecar.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: ssa\nspec:\n  template:\n    spec:\n      containers:\n      - name: sidecar\n        image: proxy:1\n",
    );
    k.ok(&[
        "apply",
        "--server-side",
        "--field-manager=alpha",
        "-f",
        &app,
    ])
    .await;
    k.ok(&[
        "apply",
        "--server-side",
        "--field-manager=beta",
        "-f",
        &sidecar,
    ])
    .await;
    let get = [
        "get",
        "deployment",
        "web",
        "-n",
        "ssa",
        "-o",
        "json",
        "--show-managed-fields",
    ];
    let obj: Value = serde_json::from_str(&k.ok(&get).await).unwrap();
    let names: Vec<(&str, &str)> = obj["spec"]["template"]["spec"]["containers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["name"].as_str().unwrap(), c["image"].as_str().unwrap()))
        .collect();
    assert_eq!(names, [("app", "app:1"), ("sidecar", "proxy:1")]);
    let beta = managed(&obj)
        .into_iter()
        .find(|(m, _, _)| m == "beta")
        .map(|(_, _, f)| f)
        .unwrap();
    assert_eq!(
        beta,
        json!({"f:spec": {"f:template": {"f:spec": {"f:containers": {
            "k:{\"name\":\"sidecar\"}": {".": {}, "f:image": {}, "f:name": {}}
        }}}}})
    );
    // beta changing alpha's image conflicts at the keyed path.
    let steal = k.manifest(
        "steal.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: ssa\nspec:\n  template:\n    spec:\n      containers:\n      - name: app\n        image: app:2\n",
    );
    let (ok, _, stderr) = k
        .run(&[
            "apply",
            "--server-side",
            "--field-manager=beta",
            "-f",
            &steal,
        ])
        .await;
    assert!(!ok);
    assert_eq!(
        stderr.lines().next().unwrap_or(""),
        "error: Apply failed with 1 conflict: conflict with \"alpha\": .spec.template.spec.containers[name=\"app\"].image",
        "{stderr}"
    );
    k.cluster.shutdown().await;
}
