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
