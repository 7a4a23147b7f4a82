//! The real kubectl and the real host against `pod-introspect dev-cluster` in its own process:
//! `simulate --cluster` registers the pod, the guest reads it back through the API, and kubectl
//! sees the same objects. Skipped, with the reason printed, where kubectl is not installed.

use crate::harness::{PodRoot, parse_json, stderr, stdout, workspace};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A `pod-introspect dev-cluster --state DIR` process, killed when dropped.
pub(crate) struct DevClusterProcess {
    child: Child,
    /// Its `--state` directory (kubeconfig, ca.crt, objects).
    pub(crate) state: tempfile::TempDir,
}

impl Drop for DevClusterProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts dev-cluster on a loopback port and waits for its kubeconfig.
pub(crate) fn start() -> DevClusterProcess {
    let state = tempfile::tempdir().unwrap();
    let child = Command::new(crate::harness::HOST)
        .args([
            "dev-cluster",
            "--listen",
            "127.0.0.1:0",
            "--state",
            state.path().to_str().unwrap(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let kubeconfig = state.path().join("kubeconfig");
    let started = Instant::now();
    while !kubeconfig.exists() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "dev-cluster did not write its kubeconfig"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    DevClusterProcess { child, state }
}

/// `kubectl --kubeconfig STATE/kubeconfig ARGS` with its HOME and cache under `home`.
pub(crate) fn kubectl(state: &std::path::Path, home: &std::path::Path, args: &[&str]) -> Command {
    let mut c = Command::new("kubectl");
    c.arg("--kubeconfig")
        .arg(state.join("kubeconfig"))
        .args(args)
        .env("HOME", home)
        .env("KUBECACHEDIR", home.join("cache"));
    c
}

#[test]
fn kubectl_and_the_guest_see_the_same_cluster() {
    if pod_introspect_test_support::kubectl().is_none() {
        return;
    }
    let cluster = start();
    let state = cluster.state.path();
    let home = tempfile::tempdir().unwrap();
    let pod = PodRoot::new();
    let manifest = workspace().join("examples/seed-pod.yaml");
    pod.simulate(&manifest, &["--cluster", state.to_str().unwrap()]);
    let sa = pod.host("/var/run/secrets/kubernetes.io/serviceaccount");
    assert!(
        std::fs::read_to_string(sa.join("token"))
            .unwrap()
            .split('.')
            .count()
            == 3,
        "a JWT"
    );
    assert!(
        std::fs::read_to_string(sa.join("ca.crt"))
            .unwrap()
            .contains("BEGIN CERTIFICATE")
    );

    let info = pod.info(&["--api"]);
    let uid = info["uid"].as_str().expect("uid from the API").to_string();
    assert_eq!(
        info["sources"]["metadata.uid"],
        "api:/api/v1/namespaces/demo/pods/seed-demo"
    );

    let out = kubectl(state, home.path(), &["get", "pods", "-n", "demo"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let table = stdout(&out);
    assert!(table.starts_with("NAME"), "{table}");
    assert!(table.contains("seed-demo"), "{table}");

    // `kubectl get pod seed-demo -n demo -o json [extra]`, parsed.
    let get_pod = |extra: &[&str]| {
        let mut args = vec!["get", "pod", "seed-demo", "-n", "demo", "-o", "json"];
        args.extend_from_slice(extra);
        parse_json(&kubectl(state, home.path(), &args).output().unwrap())
    };
    let obj = get_pod(&[]);
    assert_eq!(
        obj["metadata"]["uid"],
        uid.as_str(),
        "kubectl and the guest see the same pod"
    );

    // The object saved from `kubectl get -o json` used as the manifest after the pod changed:
    // its stale resourceVersion, uid and managedFields are the server's, not the manifest's, so
    // the re-run applies and the label kubectl added stays.
    let saved_obj = get_pod(&["--show-managed-fields"]);
    assert!(
        saved_obj["metadata"]["managedFields"].is_array(),
        "{saved_obj}"
    );
    let out = kubectl(
        state,
        home.path(),
        &[
            "label",
            "pod",
            "seed-demo",
            "-n",
            "demo",
            "added-by=kubectl",
        ],
    )
    .output()
    .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let saved = pod.path().join("saved.json");
    std::fs::write(&saved, saved_obj.to_string()).unwrap();
    pod.simulate(&saved, &["--cluster", state.to_str().unwrap()]);
    let after = get_pod(&[]);
    assert_eq!(after["metadata"]["labels"]["added-by"], "kubectl");
    assert_eq!(after["metadata"]["uid"], uid.as_str());

    let out = kubectl(state, home.path(), &["get", "--raw", "/version"])
        .output()
        .unwrap();
    assert_eq!(parse_json(&out)["gitVersion"], "v1.33.0-pod-introspect");

    // kubectl get pods -w shows a pod created afterwards.
    let mut watch = kubectl(state, home.path(), &["get", "pods", "-n", "demo", "-w"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let reader = BufReader::new(watch.stdout.take().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in reader.lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    std::thread::sleep(Duration::from_millis(500));
    let other = pod.path().join("other.yaml");
    std::fs::write(
        &other,
        std::fs::read_to_string(&manifest)
            .unwrap()
            .replace("name: seed-demo\n", "name: watched-later\n"),
    )
    .unwrap();
    let second = PodRoot::new();
    second.simulate(&other, &["--cluster", state.to_str().unwrap()]);
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut seen = Vec::new();
    while Instant::now() < deadline {
        match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(line) => {
                let hit = line.contains("watched-later");
                seen.push(line);
                if hit {
                    break;
                }
            }
            Err(_) => continue,
        }
    }
    let _ = watch.kill();
    let _ = watch.wait();
    assert!(
        seen.iter().any(|l| l.contains("watched-later")),
        "kubectl get pods -w printed: {seen:?}"
    );
}
