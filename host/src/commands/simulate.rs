//! `pod-introspect simulate`: plays the kubelet for one container of a Pod manifest, optionally
//! registering the pod in a running `dev-cluster` first (`--cluster DIR`), as the API server and
//! the kubelet together would: the pod object gets its uid, IPs and node from the cluster, and
//! the ServiceAccount volume gets a bound token (TokenRequest) and the cluster CA.

use anyhow::{Context as _, Result, bail};
use pod_introspect_apiserver::client::Client;
use pod_introspect_kubelet::{ApiServerAccess, NodeAllocatable, SimulateOptions, SimulateReport};
use serde_json::{Value, json};
use std::path::Path;
use std::process::ExitCode;

/// Simulates `pod_yaml` (named `manifest_name` in messages) into `root`.
pub fn simulate(
    pod_yaml: String,
    manifest_name: &str,
    root: &Path,
    container: Option<String>,
    node_allocatable: &str,
    api_server: Option<ApiServerAccess>,
) -> Result<SimulateReport> {
    let node_allocatable: NodeAllocatable = node_allocatable
        .parse()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let report = pod_introspect_kubelet::simulate(&SimulateOptions {
        pod_yaml,
        manifest_name: manifest_name.to_string(),
        root: root.to_path_buf(),
        container,
        node_allocatable,
        api_server,
    })?;
    Ok(report)
}

/// A running cluster's address and admin credentials, from `dev-cluster --state DIR`.
pub struct ClusterAccess {
    /// `https://127.0.0.1:6443`.
    pub server: String,
    /// The cluster CA PEM.
    pub ca_pem: String,
    /// The admin client.
    pub client: Client,
}

impl ClusterAccess {
    /// Reads `DIR/kubeconfig` and `DIR/ca.crt`. Errors name the file and the fix.
    pub fn load(dir: &Path) -> Result<ClusterAccess> {
        let kubeconfig = dir.join(pod_introspect_apiserver::KUBECONFIG_FILE);
        let text = std::fs::read_to_string(&kubeconfig).with_context(|| {
            format!(
                "--cluster {}: cannot read {} (start `pod-introspect dev-cluster --state {}` first)",
                dir.display(),
                kubeconfig.display(),
                dir.display()
            )
        })?;
        let config = pod_introspect_kube::kubeconfig::Kubeconfig::parse(&text, dir)
            .map_err(|e| anyhow::anyhow!("{}: {e}", kubeconfig.display()))?;
        let server = config.server;
        let token = config.token.with_context(|| {
            format!(
                "{}: the current context's user has no token",
                kubeconfig.display()
            )
        })?;
        let ca_file = dir.join(pod_introspect_apiserver::CA_CERT_FILE);
        let ca_pem = std::fs::read_to_string(&ca_file).with_context(|| {
            format!(
                "--cluster {}: cannot read {}",
                dir.display(),
                ca_file.display()
            )
        })?;
        let client = Client::new(&server, &ca_pem, Some(token))
            .with_context(|| format!("{}: server {server}", kubeconfig.display()))?;
        Ok(ClusterAccess {
            server,
            ca_pem,
            client,
        })
    }

    /// Creates the pod, or replaces the one of the same name (a re-run after editing labels),
    /// and returns the object the API server stored.
    pub async fn apply_pod(&self, manifest: &Value, manifest_name: &str) -> Result<Value> {
        let ns = manifest["metadata"]["namespace"]
            .as_str()
            .unwrap_or("default")
            .to_string();
        let name = manifest["metadata"]["name"]
            .as_str()
            .with_context(|| format!("{manifest_name}: metadata.name is required"))?
            .to_string();
        let collection = format!("/api/v1/namespaces/{ns}/pods");
        let item = format!("{collection}/{name}");
        let (status, body) = self.client.get(&item).await?;
        let (status, body) = if status.is_success() {
            let existing: Value = serde_json::from_slice(&body)?;
            let mut updated = manifest.clone();
            updated["metadata"]["uid"] = existing["metadata"]["uid"].clone();
            updated["metadata"]["resourceVersion"] =
                existing["metadata"]["resourceVersion"].clone();
            if updated.get("status").is_none() {
                updated["status"] = existing["status"].clone();
            }
            let body = serde_json::to_vec(&updated)?;
            self.client
                .request(http::Method::PUT, &item, Some(body))
                .await?
        } else {
            let body = serde_json::to_vec(manifest)?;
            self.client
                .request(http::Method::POST, &collection, Some(body))
                .await?
        };
        if !status.is_success() {
            bail!(
                "{manifest_name}: the cluster at {} refused the pod ({status}): {}",
                self.server,
                status_message(&body)
            );
        }
        Ok(serde_json::from_slice(&body)?)
    }

    /// A bound ServiceAccount token for `pod` (TokenRequest bound to the pod, 3607 s as the
    /// kubelet asks for).
    pub async fn token_for(&self, pod: &Value) -> Result<String> {
        let ns = pod["metadata"]["namespace"].as_str().unwrap_or("default");
        let sa = pod["spec"]["serviceAccountName"]
            .as_str()
            .unwrap_or("default");
        let request = json!({
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenRequest",
            "spec": {
                "audiences": [],
                "expirationSeconds": 3607,
                "boundObjectRef": {"apiVersion": "v1", "kind": "Pod", "name": pod["metadata"]["name"], "uid": pod["metadata"]["uid"]}
            }
        });
        let path = format!("/api/v1/namespaces/{ns}/serviceaccounts/{sa}/token");
        let (status, body) = self
            .client
            .request(
                http::Method::POST,
                &path,
                Some(serde_json::to_vec(&request)?),
            )
            .await?;
        if !status.is_success() {
            bail!(
                "TokenRequest for ServiceAccount {ns}/{sa} refused ({status}): {}",
                status_message(&body)
            );
        }
        let v: Value = serde_json::from_slice(&body)?;
        Ok(v["status"]["token"]
            .as_str()
            .context("TokenRequest answer without status.token")?
            .to_string())
    }

    /// KUBERNETES_SERVICE_HOST and _PORT for this cluster's URL.
    pub fn service_address(&self) -> Result<(String, u16)> {
        let uri: http::Uri = self
            .server
            .parse()
            .with_context(|| format!("server {}", self.server))?;
        let host = uri.host().context("server URL without a host")?;
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        Ok((host, uri.port_u16().unwrap_or(443)))
    }
}

/// The `message` of a `Status` body, else the body as text.
fn status_message(body: &[u8]) -> String {
    match pod_introspect_kube::status::Status::parse(body, 0) {
        Some(status) => status.message,
        None => String::from_utf8_lossy(body).into_owned(),
    }
}

/// The `simulate` subcommand.
pub async fn run(args: crate::cli::SimulateArgs) -> Result<ExitCode> {
    let text = std::fs::read_to_string(&args.pod)
        .with_context(|| format!("--pod {}: cannot read the manifest", args.pod.display()))?;
    let manifest_name = args.pod.display().to_string();
    let (pod_text, access) = match &args.cluster {
        None => (text, None),
        Some(dir) => {
            let cluster = ClusterAccess::load(dir)?;
            // Validate like the API server before registering anything: a dry run into a
            // scratch root reports the same errors simulate would.
            let scratch = tempfile::tempdir()?;
            simulate(
                text.clone(),
                &manifest_name,
                scratch.path(),
                args.container.clone(),
                &args.node_allocatable,
                None,
            )?;
            let manifest: Value = serde_saphyr::from_str(&text)
                .map_err(|e| anyhow::anyhow!("{manifest_name}: {e}"))?;
            let pod = cluster.apply_pod(&manifest, &manifest_name).await?;
            let token = cluster.token_for(&pod).await?;
            let (service_host, service_port) = cluster.service_address()?;
            let access = ApiServerAccess {
                token,
                ca_crt: cluster.ca_pem.clone(),
                service_host,
                service_port,
            };
            (serde_json::to_string(&pod)?, Some(access))
        }
    };
    let report = simulate(
        pod_text,
        &manifest_name,
        &args.root,
        args.container,
        &args.node_allocatable,
        access,
    )?;
    println!(
        "simulated pod {}/{} container {} under {}",
        report.namespace,
        report.pod,
        report.container,
        args.root.display()
    );
    for v in &report.volumes {
        println!(
            "  volume {:<24} {:<48} {} ({})",
            v.name,
            v.mount_path,
            v.version_dir,
            v.files.join(", ")
        );
    }
    println!(
        "  sandbox description        {}",
        report.sandbox_file.display()
    );
    for note in &report.notes {
        println!("  note: {note}");
    }
    println!(
        "next: pod-introspect info --root {} --env-clear",
        args.root.display()
    );
    Ok(ExitCode::SUCCESS)
}
