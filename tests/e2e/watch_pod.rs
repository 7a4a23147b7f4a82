//! `pod-changes` and `watch-pod`: a component told when its pod's Downward API view changes.
//! Volumes are swapped by `simulate` re-runs (the kubelet's update) or by hand in the
//! kubelet's AtomicWriter layout (`harness::swap_data`); the real guest follows them in the
//! real host, under the wasmtime CLI and under jco.

use crate::harness::{HOST, PodRoot, swap_data};
use pod_introspect_guest_artifact::GUEST_WASM_PATH;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// How long a test waits for a line; generous (a first guest compile takes seconds), never a
/// measurement.
const WAIT: Duration = Duration::from_secs(60);

/// A running follower (`watch-pod` of the host, or the guest under another runtime): its
/// stdout lines, and its stderr lines (the `following` line says it holds the current view).
struct Follower {
    child: Child,
    lines: mpsc::Receiver<String>,
    errors: mpsc::Receiver<String>,
}

impl Follower {
    fn spawn(mut cmd: Command) -> Follower {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn the follower");
        let pipe = |r: Box<dyn std::io::Read + Send>| {
            let (tx, rx) = mpsc::channel();
            std::thread::spawn(move || {
                for line in BufReader::new(r).lines().map_while(Result::ok) {
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            });
            rx
        };
        let lines = pipe(Box::new(child.stdout.take().unwrap()));
        let errors = pipe(Box::new(child.stderr.take().unwrap()));
        Follower {
            child,
            lines,
            errors,
        }
    }

    /// Waits for the stderr line that starts with `prefix`.
    fn ready(&self, prefix: &str) {
        let mut seen = Vec::new();
        loop {
            let line = self
                .errors
                .recv_timeout(WAIT)
                .unwrap_or_else(|_| panic!("no {prefix:?} line on stderr: {seen:?}"));
            if line.starts_with(prefix) {
                return;
            }
            seen.push(line);
        }
    }

    /// The next change, parsed.
    fn next(&self) -> Value {
        let line = self.lines.recv_timeout(WAIT).expect("a change line");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"))
    }

    /// No further line within `d`.
    fn quiet_for(&self, d: Duration) -> Option<String> {
        self.lines.recv_timeout(d).ok()
    }
}

impl Drop for Follower {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `pod-introspect watch-pod --root ROOT --env-clear --interval 20 [extra]`.
fn watch_pod(pod: &PodRoot, extra: &[&str]) -> Follower {
    let mut cmd = Command::new(HOST);
    cmd.args(["watch-pod", "--root"])
        .arg(pod.path())
        .args(["--env-clear", "--interval", "20"])
        .args(extra)
        .env("POD_INTROSPECT_CACHE_DIR", pod.cache());
    let f = Follower::spawn(cmd);
    f.ready(STARTED);
    f
}

/// The start of the line both `watch-pod`s print on stderr once they hold the current view.
const STARTED: &str = "watch-pod: following";

/// A Pod manifest with a downwardAPI volume of labels and annotations.
fn manifest(labels: &str, annotations: &str) -> String {
    format!(
        "apiVersion: v1
kind: Pod
metadata:
  name: web-0
  namespace: shop
  labels: {{{labels}}}
  annotations: {{{annotations}}}
spec:
  containers:
  - name: app
    image: app:1
    volumeMounts:
    - name: podinfo
      mountPath: /etc/podinfo
  volumes:
  - name: podinfo
    downwardAPI:
      items:
      - path: labels
        fieldRef: {{fieldPath: metadata.labels}}
      - path: annotations
        fieldRef: {{fieldPath: metadata.annotations}}
"
    )
}

fn version_of(change: &Value) -> String {
    change["versions"]["/etc/podinfo"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn a_simulate_rerun_delivers_exactly_the_keys_that_changed_and_runs_exec() {
    let pod = PodRoot::new();
    let file = pod.path().join("pod.yaml");
    std::fs::write(
        &file,
        manifest("app: web, tier: front", "owner: team-a, keep: x"),
    )
    .unwrap();
    pod.simulate(&file, &[]);
    let exec_out = pod.path().join("exec.out");
    let cmd = format!("cat >> {}", exec_out.display());
    let f = watch_pod(&pod, &["--exec", &cmd]);
    // Nothing happened yet: nothing is reported.
    assert_eq!(f.quiet_for(Duration::from_millis(300)), None);
    std::fs::write(&file, manifest("app: web, tier: back, v: \"2\"", "keep: x")).unwrap();
    pod.simulate(&file, &[]);
    let change = f.next();
    let version = version_of(&change);
    assert!(version.starts_with(".."), "{change}");
    assert_eq!(
        change,
        json!({
            "labels": {"tier": {"old": "front", "new": "back"}, "v": {"old": null, "new": "2"}},
            "annotations": {"owner": {"old": "team-a", "new": null}},
            "versions": {"/etc/podinfo": version},
        })
    );
    // The same manifest again: the kubelet writes nothing, nothing is reported.
    pod.simulate(&file, &[]);
    assert_eq!(f.quiet_for(Duration::from_millis(300)), None);
    // --exec got the same line on its stdin (the command runs after the line is printed: wait
    // for its whole line), and what it prints goes to stderr, never among the change lines.
    let deadline = std::time::Instant::now() + WAIT;
    let got = loop {
        let got = std::fs::read_to_string(&exec_out).unwrap_or_default();
        if got.ends_with('\n') || std::time::Instant::now() > deadline {
            break got;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let exec_change: Value = serde_json::from_str(got.trim()).unwrap();
    assert_eq!(exec_change, change);
}

#[test]
fn exec_output_goes_to_stderr_and_stdout_keeps_only_change_lines() {
    let pod = PodRoot::new();
    let file = pod.path().join("pod.yaml");
    std::fs::write(&file, manifest("app: web", "keep: x")).unwrap();
    pod.simulate(&file, &[]);
    let f = watch_pod(&pod, &["--exec", "echo reloaded-by-exec; cat >/dev/null"]);
    std::fs::write(&file, manifest("app: api", "keep: x")).unwrap();
    pod.simulate(&file, &[]);
    let change = f.next();
    assert_eq!(
        change["labels"],
        json!({"app": {"old": "web", "new": "api"}})
    );
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match f.errors.recv_timeout(left) {
            Ok(line) if line == "reloaded-by-exec" => break,
            Ok(_) => continue,
            Err(e) => panic!("the command's output never reached stderr: {e}"),
        }
    }
    assert_eq!(
        f.quiet_for(Duration::from_millis(300)),
        None,
        "stdout has only the change"
    );
}

#[test]
fn a_burst_of_200_swaps_delivers_consecutive_real_diffs_ending_at_the_final_state() {
    let pod = PodRoot::new();
    let vol = pod.atomic_volume("/etc/podinfo", "..v0", &[("labels", "n=\"0\"")]);
    let f = watch_pod(&pod, &[]);
    for i in 1..=200 {
        let dir = vol.join(format!("..v{i}"));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("labels"), format!("n=\"{i}\"")).unwrap();
        swap_data(&vol, &format!("..v{i}"));
        // The kubelet removes the old version right after the swap: a follower reading it
        // meanwhile must retry on the new one, never report a vanished version.
        std::fs::remove_dir_all(vol.join(format!("..v{}", i - 1))).unwrap();
    }
    let mut last = "0".to_owned();
    while last != "200" {
        let change = f.next();
        let n = &change["labels"]["n"];
        assert_eq!(
            n["old"],
            last.as_str(),
            "each change starts at the last delivered view"
        );
        let new = n["new"].as_str().unwrap().to_owned();
        assert_ne!(new, last, "a real diff: {change}");
        assert!(new.parse::<u32>().unwrap() > last.parse::<u32>().unwrap());
        assert_eq!(version_of(&change), format!("..v{new}"));
        assert!(
            change.get("errors").is_none(),
            "no vanished version reported: {change}"
        );
        last = new;
    }
    // The final state was delivered, once.
    assert_eq!(f.quiet_for(Duration::from_millis(300)), None);
}

#[test]
fn a_malformed_version_is_reported_and_the_last_good_view_kept() {
    let pod = PodRoot::new();
    let vol = pod.atomic_volume(
        "/etc/podinfo",
        "..v1",
        &[("labels", "app=\"web\""), ("name", "web-0")],
    );
    let f = watch_pod(&pod, &[]);
    let swap = |version: &str, labels: &str| {
        let dir = vol.join(version);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("labels"), labels).unwrap();
        std::fs::write(dir.join("name"), "web-0").unwrap();
        swap_data(&vol, version);
    };
    swap("..v2", "app=\"unterminated");
    let bad = f.next();
    assert!(bad.get("labels").is_none(), "{bad}");
    assert_eq!(bad["errors"][0]["field"], "metadata.labels", "{bad}");
    assert_eq!(bad["errors"][0]["kind"], "malformed", "{bad}");
    assert_eq!(bad["errors"][0]["line"], 1, "{bad}");
    assert_eq!(version_of(&bad), "..v2");
    swap("..v3", "app=\"api\"");
    let good = f.next();
    assert_eq!(
        good["labels"],
        json!({"app": {"old": "web", "new": "api"}}),
        "diffed against the last good view"
    );
    assert!(good.get("errors").is_none(), "{good}");
}

/// The guest's own `watch-pod` under another runtime: it prints the change once the volume
/// swaps.
fn swap_after_ready(f: &Follower, ready: &str, vol: &Path) {
    f.ready(ready);
    let dir = vol.join("..v2");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("labels"), "app=\"api\"").unwrap();
    swap_data(vol, "..v2");
}

#[test]
fn the_same_guest_under_the_wasmtime_cli_and_jco_gets_the_change() {
    let want = json!({
        "labels": {"app": {"old": "web", "new": "api"}},
        "versions": {"/etc/podinfo": "..v2"},
    });
    if let Some(wasmtime) =
        pod_introspect_test_support::tool("wasmtime", "cargo install --locked wasmtime-cli@48.0.8")
    {
        let pod = PodRoot::new();
        let vol = pod.atomic_volume("/etc/podinfo", "..v1", &[("labels", "app=\"web\"")]);
        let mut cmd = Command::new(wasmtime);
        cmd.args(["run", "-S", "http", "--dir"])
            .arg(format!("{}::/etc/podinfo", vol.display()))
            .arg(GUEST_WASM_PATH)
            .args(["watch-pod", "--interval", "20", "--count", "1"]);
        let f = Follower::spawn(cmd);
        swap_after_ready(&f, STARTED, &vol);
        assert_eq!(f.next(), want);
    }
    let Some((jco, out)) = crate::runtimes::jco_transpiled_guest() else {
        return;
    };
    let pod = PodRoot::new();
    let vol = pod.atomic_volume("/etc/podinfo", "..v1", &[("labels", "app=\"web\"")]);
    let mut cmd = Command::new("node");
    cmd.arg(jco.join("run-transpiled.mjs"))
        .arg(out.path().join("guest.js"))
        .arg(format!("{}::/etc/podinfo", vol.display()))
        .args(["--invoke", "pod-changes.next", "20", "60000"]);
    let f = Follower::spawn(cmd);
    swap_after_ready(&f, "ready", &vol);
    let line = f.lines.recv_timeout(WAIT).expect("jco's next");
    let json_line: String = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
    assert_eq!(serde_json::from_str::<Value>(&json_line).unwrap(), want);
}

#[test]
fn kubectl_label_and_annotate_reach_a_waiting_component_through_simulate_follow() {
    if pod_introspect_test_support::kubectl().is_none() {
        return;
    }
    let cluster = crate::kubectl::start();
    let state = cluster.state.path();
    let home = tempfile::tempdir().unwrap();
    let pod = PodRoot::new();
    let file = pod.path().join("pod.yaml");
    std::fs::write(&file, manifest("app: web", "owner: team-a")).unwrap();
    // The re-run below writes a scratch root: one root has one kubelet, and two writers of
    // the same volume would race on its `..data_tmp` link. The follower rewrites the pod's
    // root from the cluster's update.
    let scratch = tempfile::tempdir().unwrap();
    let simulate = |follow: bool| {
        let mut cmd = Command::new(HOST);
        cmd.args(["simulate", "--pod"])
            .arg(&file)
            .arg("--root")
            .arg(if follow { pod.path() } else { scratch.path() })
            .arg("--cluster")
            .arg(state);
        if follow {
            cmd.arg("--follow");
        }
        cmd.env("POD_INTROSPECT_CACHE_DIR", pod.cache());
        cmd
    };
    // The kubelet: stdout lines are what it wrote, then `following pod ...`.
    let kubelet = Follower::spawn(simulate(true));
    loop {
        let line = kubelet
            .lines
            .recv_timeout(WAIT)
            .expect("simulate --follow output");
        if line.starts_with("following pod shop/web-0 on https://127.0.0.1:") {
            break;
        }
    }
    let component = watch_pod(&pod, &[]);
    let kubectl_ok = |args: &[&str]| {
        let out = crate::kubectl::kubectl(state, home.path(), args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "kubectl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    kubectl_ok(&["label", "pod", "web-0", "-n", "shop", "version=2.0"]);
    let change = component.next();
    assert_eq!(
        change["labels"],
        json!({"version": {"old": null, "new": "2.0"}}),
        "{change}"
    );
    assert!(change.get("annotations").is_none(), "{change}");
    let swapped = kubelet.lines.recv_timeout(WAIT).unwrap();
    assert!(
        swapped.contains("podinfo") && swapped.ends_with("(swapped)"),
        "{swapped}"
    );
    kubectl_ok(&[
        "annotate",
        "pod",
        "web-0",
        "-n",
        "shop",
        "feature.x/enabled=true",
    ]);
    let change = component.next();
    assert_eq!(
        change["annotations"],
        json!({"feature.x/enabled": {"old": null, "new": "true"}}),
        "{change}"
    );
    // A re-run of simulate with a new manifest label: the manifest's fields change, kubectl's
    // label and the fields the cluster set stay.
    std::fs::write(&file, manifest("app: web, tier: back", "owner: team-a")).unwrap();
    let out = simulate(false).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let object: Value = serde_json::from_str(&kubectl_ok(&[
        "get", "pod", "web-0", "-n", "shop", "-o", "json",
    ]))
    .unwrap();
    assert_eq!(
        object["metadata"]["labels"],
        json!({"app": "web", "tier": "back", "version": "2.0"})
    );
    assert_eq!(
        object["metadata"]["annotations"]["feature.x/enabled"],
        "true"
    );
    assert!(
        object["spec"]["nodeName"]
            .as_str()
            .is_some_and(|n| !n.is_empty()),
        "{object}"
    );
    assert!(object["status"]["podIP"].as_str().is_some(), "{object}");
    let change = component.next();
    assert_eq!(
        change["labels"],
        json!({"tier": {"old": null, "new": "back"}}),
        "{change}"
    );
    // Deleting the pod stops the kubelet.
    kubectl_ok(&["delete", "pod", "web-0", "-n", "shop", "--wait=false"]);
    loop {
        let line = kubelet
            .lines
            .recv_timeout(WAIT)
            .expect("the kubelet's last line");
        if line == "pod shop/web-0 was deleted on the cluster; stopping" {
            break;
        }
    }
}
