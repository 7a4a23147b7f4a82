//! The real kubectl against the emulator (skipped with a printed reason when `kubectl` is not
//! on PATH, failed under `POD_INTROSPECT_REQUIRE_TOOLS=1`). Each test gets its own kubeconfig directory and discovery cache.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use pod_introspect_apiserver::{ClusterOptions, DevCluster};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

use crate::common::{pod, start};

pub(crate) struct Kubectl {
    pub(crate) bin: PathBuf,
    pub(crate) dir: tempfile::TempDir,
    pub(crate) cluster: DevCluster,
}

impl Kubectl {
    pub(crate) async fn start() -> Option<Kubectl> {
        let bin = pod_introspect_test_support::kubectl()?;
        Some(Self::start_with(bin).await)
    }

    /// A fresh cluster driven by the kubectl binary `bin`.
    pub(crate) async fn start_with(bin: PathBuf) -> Kubectl {
        let dir = tempfile::tempdir().unwrap();
        let cluster = start(ClusterOptions {
            state_dir: Some(dir.path().join("state")),
            ..Default::default()
        })
        .await;
        Kubectl { bin, dir, cluster }
    }

    pub(crate) fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.bin);
        let home = self.dir.path().join("home");
        std::fs::create_dir_all(&home).unwrap();
        cmd.env_clear()
            .env("HOME", &home)
            .env("KUBECACHEDIR", self.dir.path().join("cache"))
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .arg("--kubeconfig")
            .arg(self.kubeconfig())
            .arg("--request-timeout=10s")
            .args(args)
            .stdin(Stdio::null())
            .kill_on_drop(true);
        cmd
    }

    pub(crate) fn kubeconfig(&self) -> PathBuf {
        self.dir.path().join("state").join("kubeconfig")
    }

    /// Runs kubectl to completion (bounded); returns (success, stdout, stderr).
    pub(crate) async fn run(&self, args: &[&str]) -> (bool, String, String) {
        let out = tokio::time::timeout(Duration::from_secs(30), self.command(args).output())
            .await
            .expect("kubectl timed out")
            .expect("kubectl ran");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    pub(crate) async fn ok(&self, args: &[&str]) -> String {
        let (ok, stdout, stderr) = self.run(args).await;
        assert!(ok, "kubectl {args:?} failed:\n{stdout}\n{stderr}");
        stdout
    }
}

fn assert_kubeconfig_shape(path: &Path) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains("certificate-authority-data:"));
    assert!(text.contains("current-context: pod-introspect-dev"));
}

#[tokio::test]
async fn kubectl_get_pods_json_and_raw_version() {
    let Some(k) = Kubectl::start().await else {
        return;
    };
    assert_kubeconfig_shape(&k.kubeconfig());
    k.cluster
        .create_pod(pod("team", "web-0", &[("app", "web")]))
        .unwrap();
    k.cluster
        .create_pod(pod("team", "db-0", &[("app", "db")]))
        .unwrap();

    let out = k.ok(&["get", "pods", "-n", "team"]).await;
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0].split_whitespace().collect::<Vec<_>>(),
        ["NAME", "READY", "STATUS", "RESTARTS", "AGE"],
        "{out}"
    );
    assert_eq!(lines.len(), 3, "{out}");
    assert!(
        lines[1].starts_with("db-0") && lines[1].contains("1/1") && lines[1].contains("Running"),
        "{out}"
    );
    assert!(lines[2].starts_with("web-0"), "{out}");

    let out = k
        .ok(&["get", "pods", "-n", "team", "-l", "app=web", "-o", "name"])
        .await;
    assert_eq!(out.trim(), "pod/web-0");
    let out = k
        .ok(&["get", "pods", "-A", "--chunk-size=1", "-o", "wide"])
        .await;
    assert_eq!(out.lines().count(), 3, "{out}");
    assert!(out.contains("pod-introspect-node"), "{out}");

    let out = k
        .ok(&["get", "pod", "web-0", "-n", "team", "-o", "json"])
        .await;
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["metadata"]["name"], "web-0");
    assert_eq!(v["kind"], "Pod");

    let out = k.ok(&["get", "--raw", "/version"]).await;
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["gitVersion"], "v1.33.0-pod-introspect");

    let (ok, _, stderr) = k.run(&["get", "pod", "nope", "-n", "team"]).await;
    assert!(!ok);
    assert!(
        stderr.contains("Error from server (NotFound): pods \"nope\" not found"),
        "{stderr}"
    );
    let (ok, _, stderr) = k.run(&["get", "pods", "--field-selector", "foo=bar"]).await;
    assert!(!ok);
    assert!(
        stderr.contains("field label not supported: foo"),
        "{stderr}"
    );
    k.cluster.shutdown().await;
}

#[tokio::test]
async fn kubectl_as_service_account_sees_forbidden() {
    let Some(k) = Kubectl::start().await else {
        return;
    };
    k.cluster.create_pod(pod("mine", "p", &[])).unwrap();
    let token = k
        .cluster
        .issue_token("mine", "reader", Duration::from_secs(600));
    let out = k
        .ok(&["--token", &token, "get", "pods", "-n", "mine", "-o", "name"])
        .await;
    assert_eq!(out.trim(), "pod/p");
    let (ok, _, stderr) = k
        .run(&["--token", &token, "get", "pods", "-n", "theirs"])
        .await;
    assert!(!ok);
    assert!(
        stderr.contains("Error from server (Forbidden): pods is forbidden: User \"system:serviceaccount:mine:reader\" cannot list resource \"pods\" in API group \"\" in the namespace \"theirs\""),
        "{stderr}"
    );
    k.cluster.shutdown().await;
}

#[tokio::test]
async fn kubectl_create_and_delete() {
    let Some(k) = Kubectl::start().await else {
        return;
    };
    let manifest = k.dir.path().join("pod.json");
    std::fs::write(
        &manifest,
        r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"made","namespace":"apps"},"spec":{"containers":[{"name":"c","image":"busybox:1.36"}]}}"#,
    )
    .unwrap();
    let out = k.ok(&["create", "-f", manifest.to_str().unwrap()]).await;
    assert_eq!(out.trim(), "pod/made created");
    assert!(k.cluster.get_pod("apps", "made").is_some());
    let out = k.ok(&["delete", "pod", "made", "-n", "apps"]).await;
    assert_eq!(out.trim(), "pod \"made\" deleted");
    assert!(k.cluster.get_pod("apps", "made").is_none());
    k.cluster.shutdown().await;
}

#[tokio::test]
async fn kubectl_get_pods_watch_sees_new_pod() {
    let Some(k) = Kubectl::start().await else {
        return;
    };
    k.cluster.create_pod(pod("live", "first", &[])).unwrap();
    let mut child = k
        .command(&["get", "pods", "-n", "live", "-w"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut next_line = async || {
        tokio::time::timeout(Duration::from_secs(10), lines.next_line())
            .await
            .expect("kubectl printed nothing in time")
            .unwrap()
    };
    let header = next_line().await.expect("header");
    assert!(header.starts_with("NAME"), "{header}");
    let first = next_line().await.expect("first pod");
    assert!(first.starts_with("first"), "{first}");
    k.cluster.create_pod(pod("live", "second", &[])).unwrap();
    let second = next_line().await.expect("second pod");
    assert!(
        second.starts_with("second") && second.contains("Running"),
        "{second}"
    );
    child.kill().await.unwrap();
    k.cluster.shutdown().await;
}
