//! The built-in API through the ambassador: the study note's three curls (`/`,
//! `/api/v1/pods`, `/apis/apps/v1/deployments`) and kubectl's everyday writes (client-side
//! apply, scale, a strategic patch, delete) sent as plain HTTP to `pod-introspect proxy`,
//! which forwards them to `dev-cluster` over HTTPS with the kubeconfig's credentials.

use std::process::Command;

use pod_introspect_apiserver::ClusterOptions;
use serde_json::Value;

use crate::cluster::Cluster;
use crate::harness::{stderr, stdout, workspace};
use crate::proxy::{ProxyProcess, call, client};

#[test]
fn the_study_note_curls_and_kubectl_writes_through_the_proxy() {
    if pod_introspect_test_support::kubectl().is_none() {
        return;
    }
    let state = tempfile::tempdir().unwrap();
    let cluster = Cluster::start(ClusterOptions {
        state_dir: Some(state.path().to_path_buf()),
        ..Default::default()
    });
    cluster.pod("shop", "web-0", &[("app", "web")]);
    let kubeconfig = state.path().join("kubeconfig");
    let proxy = ProxyProcess::start(
        &["--port=0", "--kubeconfig", kubeconfig.to_str().unwrap()],
        &[],
    );
    let manifest = workspace().join("host/apiserver/tests/all/manifests/app.yaml");

    {
        let home = tempfile::tempdir().unwrap();
        let kubectl = |args: &[&str]| {
            let out = Command::new("kubectl")
                .arg("--server")
                .arg(format!("http://{}", proxy.addr()))
                .args(args)
                .env("HOME", home.path())
                .env("KUBECONFIG", home.path().join("none"))
                .env("KUBECACHEDIR", home.path().join("cache"))
                .output()
                .unwrap();
            assert!(out.status.success(), "kubectl {args:?}: {}", stderr(&out));
            stdout(&out)
        };
        let out = kubectl(&["apply", "-f", manifest.to_str().unwrap()]);
        assert!(out.contains("deployment.apps/web created"), "{out}");
        assert!(
            out.contains("lease.coordination.k8s.io/web-leader created"),
            "{out}"
        );
        let out = kubectl(&["scale", "deployment/web", "-n", "shop", "--replicas=4"]);
        assert_eq!(out.trim(), "deployment.apps/web scaled");
        let out = kubectl(&[
            "patch",
            "configmap",
            "web-config",
            "-n",
            "shop",
            "-p",
            r#"{"data":{"color":"red"}}"#,
        ]);
        assert_eq!(out.trim(), "configmap/web-config patched");
        let out = kubectl(&["get", "deploy", "-n", "shop"]);
        let row: Vec<&str> = out.lines().nth(1).unwrap().split_whitespace().collect();
        assert_eq!(&row[..4], ["web", "4/4", "4", "4"], "{out}");
    }

    let rt = tokio::runtime::Runtime::new().unwrap();
    let c = client();
    let get = |path: &str| -> Value {
        let (status, body) = rt.block_on(call(&c, "GET", &proxy.url(path), None));
        assert_eq!(status, 200, "{path}: {body}");
        serde_json::from_str(&body).unwrap()
    };
    // curl http://localhost:8001/
    let root = get("/");
    let paths: Vec<&str> = root["paths"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        paths.contains(&"/apis/apps/v1") && paths.contains(&"/api/v1"),
        "{paths:?}"
    );
    // curl http://localhost:8001/api/v1/pods
    let pods = get("/api/v1/pods");
    assert_eq!(pods["kind"], "PodList");
    assert_eq!(pods["apiVersion"], "v1");
    assert_eq!(pods["items"][0]["metadata"]["name"], "web-0");
    assert_eq!(pods["items"][0]["status"]["phase"], "Running");
    // curl http://localhost:8001/apis/apps/v1/deployments
    let deployments = get("/apis/apps/v1/deployments");
    assert_eq!(deployments["kind"], "DeploymentList");
    assert_eq!(deployments["apiVersion"], "apps/v1");
    let d = &deployments["items"][0];
    assert_eq!(d["metadata"]["name"], "web");
    assert_eq!(d["spec"]["replicas"], 4);
    assert_eq!(d["status"]["availableReplicas"], 4);
    assert_eq!(
        d["spec"]["template"]["spec"]["containers"][0]["image"],
        "nginx:1.27"
    );
    let cm = get("/api/v1/namespaces/shop/configmaps/web-config");
    assert_eq!(cm["data"]["color"], "red");
}
