//! A scenario harness for the Kubernetes API tests: the API-server emulator in-process on
//! loopback, a pod registered in it, and a container root whose ServiceAccount volume (token,
//! ca.crt, namespace) is written by hand in the kubelet's AtomicWriter layout.

use crate::harness::{PodRoot, swap_data};
use k8s_openapi::api::core::v1::Pod;
use pod_introspect_apiserver::{ClusterOptions, DevCluster};
use std::net::SocketAddr;
use std::time::Duration;

/// The ServiceAccount volume path.
pub const SA_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

/// A running emulator and the runtime that drives it.
pub struct Cluster {
    pub rt: tokio::runtime::Runtime,
    pub api: Option<DevCluster>,
}

impl Cluster {
    /// Starts an emulator with `opts` (listen defaults to 127.0.0.1:0).
    pub fn start(opts: ClusterOptions) -> Cluster {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let api = rt
            .block_on(DevCluster::start(opts))
            .expect("start the emulator");
        Cluster { rt, api: Some(api) }
    }

    /// The emulator.
    pub fn api(&self) -> &DevCluster {
        self.api.as_ref().expect("running")
    }

    /// Creates a pod `name` in `namespace` with `labels`, ServiceAccount `default`.
    pub fn pod(&self, namespace: &str, name: &str, labels: &[(&str, &str)]) -> Pod {
        let labels: String = labels
            .iter()
            .map(|(k, v)| format!("{k}: \"{v}\", "))
            .collect();
        let yaml = format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: {namespace}, labels: {{{labels}}}}}\nspec:\n  containers: [{{name: app, image: \"registry.example/app:1.0\"}}]\n"
        );
        let pod: Pod = serde_saphyr::from_str(&yaml).unwrap();
        self.api().create_pod(pod).expect("create pod")
    }

    /// Stops the emulator (the API server goes down).
    pub fn stop(&mut self) {
        if let Some(api) = self.api.take() {
            self.rt.block_on(api.shutdown());
        }
    }
}

/// A pod's container root wired to `cluster`: ServiceAccount volume with a bound token, the CA and
/// the namespace; the Downward API name/namespace as env.
pub struct InClusterPod {
    pub root: PodRoot,
    pub name: String,
    pub namespace: String,
    pub addr: SocketAddr,
    version: u32,
}

impl InClusterPod {
    /// Registers pod `name` in `namespace` and writes its ServiceAccount volume.
    pub fn new(cluster: &Cluster, namespace: &str, name: &str) -> InClusterPod {
        cluster.pod(namespace, name, &[("app", "web")]);
        let token = cluster
            .api()
            .issue_pod_token(namespace, name, Duration::from_secs(3607))
            .unwrap();
        let mut pod = InClusterPod {
            root: PodRoot::new(),
            name: name.into(),
            namespace: namespace.into(),
            addr: cluster.api().local_addr(),
            version: 0,
        };
        pod.write_service_account(&token, &cluster.api().ca_pem());
        pod
    }

    /// Writes a new version of the ServiceAccount volume (the kubelet's token refresh).
    pub fn write_service_account(&mut self, token: &str, ca: &str) {
        self.version += 1;
        let version = format!(
            "..2026_11_29_12_00_{:02}.{}",
            self.version % 60,
            self.version
        );
        let files = [
            ("token", token),
            ("ca.crt", ca),
            ("namespace", self.namespace.as_str()),
        ];
        let vol = self.root.atomic_volume(SA_DIR, &version, &files);
        // Remove the previous versions, as the kubelet does.
        for entry in std::fs::read_dir(&vol).unwrap().flatten() {
            let n = entry.file_name().to_string_lossy().into_owned();
            if n.starts_with("..20") && n != version {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
        let _ = swap_data;
    }

    /// `--env` flags: in-cluster config (KUBERNETES_SERVICE_HOST/PORT) and the Downward API.
    pub fn env(&self) -> Vec<String> {
        let host = self.addr.ip().to_string();
        let mut v = Vec::new();
        for (k, val) in [
            ("KUBERNETES_SERVICE_HOST", host),
            ("KUBERNETES_SERVICE_PORT", self.addr.port().to_string()),
            ("POD_NAME", self.name.clone()),
            ("POD_NAMESPACE", self.namespace.clone()),
        ] {
            v.push("--env".to_string());
            v.push(format!("{k}={val}"));
        }
        v
    }

    /// Runs `pod-introspect <args> --root R --env-clear <env> <extra>`.
    pub fn run(&self, args: &[&str], extra: &[&str]) -> std::process::Output {
        let mut all: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        all.extend([
            "--root".into(),
            self.root.path().to_str().unwrap().into(),
            "--env-clear".into(),
        ]);
        all.extend(self.env());
        all.extend(extra.iter().map(|s| s.to_string()));
        let refs: Vec<&str> = all.iter().map(String::as_str).collect();
        self.root.run(&refs)
    }
}

// ---- Helpers of the api verbs, leader election and events tests (tests/e2e/api_verbs.rs,
// leader_election.rs, api_events.rs). ----

use serde_json::Value;
use std::io::{BufRead as _, BufReader, Read as _};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Legacy rules under which every ServiceAccount may do everything in its own namespace (and
/// nothing elsewhere): what an `edit`-like Role bound to each namespace's ServiceAccounts gives.
pub fn own_namespace_rules() -> pod_introspect_apiserver::RbacRules {
    pod_introspect_apiserver::RbacRules::from_yaml(
        "- subject: system:serviceaccounts\n  verbs: [\"*\"]\n  resources: [\"*\"]\n  namespaces: [\"@own\"]\n",
    )
    .expect("own-namespace rules")
}

impl Cluster {
    /// `METHOD PATH` with the admin token (`system:masters`) and an optional JSON body, straight
    /// to the emulator (not through the guest): the status code and the body as JSON (a JSON
    /// string when the body is not JSON).
    pub fn admin(&self, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
        let api = self.api();
        let client = pod_introspect_apiserver::client::Client::new(
            &api.url(),
            &api.ca_pem(),
            Some(api.admin_token()),
        )
        .expect("admin client");
        let method = http::Method::from_bytes(method.as_bytes()).expect("HTTP method");
        let body = body.map(|b| serde_json::to_vec(b).unwrap());
        let (status, bytes) = self
            .rt
            .block_on(async {
                tokio::time::timeout(Duration::from_secs(20), client.request(method, path, body))
                    .await
            })
            .expect("admin request timed out")
            .expect("admin request");
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status.as_u16(), value)
    }

    /// `GET PATH` as admin: the object on 200, `None` on 404; anything else fails the test.
    pub fn admin_get(&self, path: &str) -> Option<Value> {
        match self.admin("GET", path, None) {
            (200, v) => Some(v),
            (404, _) => None,
            (code, v) => panic!("GET {path}: {code} {v}"),
        }
    }
}

/// A long-running `pod-introspect` child (`api leader-elect`, `api watch`): its stdout lines
/// are collected with their arrival time as they come, its stderr as text. Killed (SIGKILL) on
/// drop, so a failing test leaves nothing running.
pub struct Running {
    pub child: Child,
    lines: Arc<Mutex<Vec<(Instant, String)>>>,
    err: Arc<Mutex<String>>,
    readers: Vec<std::thread::JoinHandle<()>>,
}

impl Running {
    /// Spawns `pod-introspect ARGS` with the test run's component cache, stdout and stderr
    /// piped to reader threads.
    pub fn spawn(args: &[String]) -> Running {
        let mut child = Command::new(crate::harness::HOST)
            .args(args)
            .env(
                "POD_INTROSPECT_CACHE_DIR",
                std::env::temp_dir()
                    .join(format!("pod-introspect-test-cache-{}", std::process::id())),
            )
            .env_remove("POD_INTROSPECT_FIELDS")
            .env_remove("POD_INTROSPECT_DOWNWARD_DIRS")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn pod-introspect");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let err = Arc::new(Mutex::new(String::new()));
        let out = child.stdout.take().unwrap();
        let sink = lines.clone();
        let mut readers = vec![std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                sink.lock().unwrap().push((Instant::now(), line));
            }
        })];
        let mut stderr = child.stderr.take().unwrap();
        let sink = err.clone();
        readers.push(std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stderr.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        }));
        Running {
            child,
            lines,
            err,
            readers,
        }
    }

    /// The stdout lines so far.
    pub fn lines(&self) -> Vec<String> {
        self.lines
            .lock()
            .unwrap()
            .iter()
            .map(|(_, l)| l.clone())
            .collect()
    }

    /// The stdout lines so far with their arrival times.
    pub fn timed_lines(&self) -> Vec<(Instant, String)> {
        self.lines.lock().unwrap().clone()
    }

    /// The last stdout line as JSON (`None` before the first line; a line that is not JSON
    /// fails the test).
    pub fn last_json(&self) -> Option<Value> {
        let lines = self.lines.lock().unwrap();
        lines.last().map(|(_, l)| {
            serde_json::from_str(l).unwrap_or_else(|e| panic!("stdout line is not JSON ({e}): {l}"))
        })
    }

    /// The stderr text so far.
    pub fn stderr(&self) -> String {
        self.err.lock().unwrap().clone()
    }

    /// Waits (at most `timeout`) for a stdout line, as JSON, that `pred` accepts; `None` when
    /// none came in time.
    pub fn wait_for_line(&self, timeout: Duration, pred: impl Fn(&Value) -> bool) -> Option<Value> {
        let deadline = Instant::now() + timeout;
        loop {
            for l in self.lines() {
                if let Ok(v) = serde_json::from_str::<Value>(&l)
                    && pred(&v)
                {
                    return Some(v);
                }
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits (at most `timeout`) until stderr contains `needle`.
    pub fn wait_for_stderr(&self, timeout: Duration, needle: &str) -> bool {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if self.stderr().contains(needle) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.stderr().contains(needle)
    }

    /// Sends `signal` (e.g. `libc::SIGTERM`) to the process.
    pub fn signal(&self, signal: i32) {
        let pid = i32::try_from(self.child.id()).expect("pid");
        // SAFETY: kill(2) on our own child's pid; no memory is involved.
        let rc = unsafe { libc::kill(pid, signal) };
        assert_eq!(rc, 0, "kill({pid}, {signal})");
    }

    /// Waits (at most `timeout`) for the process to exit, then for its output to be read to the
    /// end; `None` (after killing it) when it did not exit in time.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        let status = loop {
            if let Some(s) = self.child.try_wait().expect("try_wait") {
                break Some(s);
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        for r in self.readers.drain(..) {
            let _ = r.join();
        }
        status
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl InClusterPod {
    /// The argv of `pod-introspect <args> --root R --env-clear <env> <extra>`, as [`Self::run`]
    /// runs it.
    pub fn argv(&self, args: &[&str], extra: &[&str]) -> Vec<String> {
        let mut all: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        all.extend([
            "--root".into(),
            self.root.path().to_str().unwrap().into(),
            "--env-clear".into(),
        ]);
        all.extend(self.env());
        all.extend(extra.iter().map(|s| s.to_string()));
        all
    }

    /// Starts `pod-introspect <args> --root R --env-clear <env> <extra>` in the background.
    pub fn spawn(&self, args: &[&str], extra: &[&str]) -> Running {
        Running::spawn(&self.argv(args, extra))
    }
}
