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

/// The lifetime the kubelet asks for a projected ServiceAccount token (3607 s: an hour and the
/// 7 s that mark it as the kubelet's, `pkg/kubelet/token`).
pub const TOKEN_SECONDS: u64 = 3607;

/// The field manager `simulate --cluster` applies the manifest as.
pub const FIELD_MANAGER: &str = "pod-introspect-simulate";

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

    /// Registers the pod by server-side apply with field manager [`FIELD_MANAGER`] (force:
    /// the manifest is the truth for what it says) and returns the object the API server
    /// stored. A re-run updates only the fields the manifest owns: labels or annotations added
    /// by `kubectl label`/`annotate` stay, and so do the fields the cluster set (`nodeName`,
    /// `status`, the uid); a key the previous manifest set and this one drops is removed
    /// (structured-merge-diff's rule, as `kubectl apply --server-side`). What the API server
    /// sets in `metadata` (`managedFields`, `resourceVersion`, `uid`, `creationTimestamp`,
    /// `generation`, `selfLink`) and `status` are left out of the applied configuration.
    pub async fn apply_pod(&self, manifest: &Value, manifest_name: &str) -> Result<Value> {
        let ns = manifest["metadata"]["namespace"]
            .as_str()
            .unwrap_or("default")
            .to_string();
        let name = manifest["metadata"]["name"]
            .as_str()
            .with_context(|| format!("{manifest_name}: metadata.name is required"))?
            .to_string();
        let mut object = manifest.clone();
        // The applied configuration names its kind; a manifest's `status` is not the
        // kubelet's to set through the main resource.
        object["apiVersion"] = json!("v1");
        object["kind"] = json!("Pod");
        if let Some(m) = object.as_object_mut() {
            m.remove("status");
        }
        // A manifest saved from `kubectl get -o yaml` carries what the API server set: an apply
        // with `managedFields` is refused ("metadata.managedFields must be nil"), and a stale
        // `resourceVersion` or `uid` would be a precondition that fails. Not the manifest's.
        if let Some(meta) = object["metadata"].as_object_mut() {
            for key in [
                "managedFields",
                "resourceVersion",
                "uid",
                "creationTimestamp",
                "generation",
                "selfLink",
            ] {
                meta.remove(key);
            }
        }
        let item =
            format!("/api/v1/namespaces/{ns}/pods/{name}?fieldManager={FIELD_MANAGER}&force=true");
        let (status, body) = self
            .client
            .apply(&item, serde_json::to_vec(&object)?)
            .await?;
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
                "expirationSeconds": TOKEN_SECONDS,
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
    let Some(dir) = &args.cluster else {
        let report = simulate(
            text,
            &manifest_name,
            &args.root,
            args.container.clone(),
            &args.node_allocatable,
            None,
        )?;
        print_report(&report, &args);
        return Ok(ExitCode::SUCCESS);
    };
    let cluster = ClusterAccess::load(dir)?;
    // Validate like the API server before registering anything: a dry run into a scratch root
    // reports the same errors simulate would.
    let scratch = tempfile::tempdir()?;
    simulate(
        text.clone(),
        &manifest_name,
        scratch.path(),
        args.container.clone(),
        &args.node_allocatable,
        None,
    )?;
    let manifest: Value =
        serde_saphyr::from_str(&text).map_err(|e| anyhow::anyhow!("{manifest_name}: {e}"))?;
    let pod = cluster.apply_pod(&manifest, &manifest_name).await?;
    let token = cluster.token_for(&pod).await?;
    let (service_host, service_port) = cluster.service_address()?;
    let mut kubelet = Kubelet {
        access: ApiServerAccess {
            token,
            ca_crt: cluster.ca_pem.clone(),
            service_host,
            service_port,
        },
        token_issued: std::time::Instant::now(),
        manifest_name,
        args,
        written: Vec::new(),
    };
    let report = kubelet.write(&pod)?;
    print_report(&report, &kubelet.args);
    if kubelet.args.follow {
        return kubelet.follow(&cluster, pod).await;
    }
    Ok(ExitCode::SUCCESS)
}

fn print_report(report: &SimulateReport, args: &crate::cli::SimulateArgs) {
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
    if !args.follow {
        println!(
            "next: pod-introspect info --root {} --env-clear",
            args.root.display()
        );
    }
}

/// The simulated kubelet of one pod registered in a cluster: what it writes the volumes with.
struct Kubelet {
    access: ApiServerAccess,
    token_issued: std::time::Instant,
    manifest_name: String,
    args: crate::cli::SimulateArgs,
    /// The volumes as last written: (name, version directory).
    written: Vec<(String, String)>,
}

impl Kubelet {
    /// Writes the container's volumes and env from the cluster's `pod` (the AtomicWriter swaps
    /// only the volumes whose payload changed) and prints the volumes that were swapped.
    fn write(&mut self, pod: &Value) -> Result<SimulateReport> {
        let report = simulate(
            serde_json::to_string(pod)?,
            &self.manifest_name,
            &self.args.root,
            self.args.container.clone(),
            &self.args.node_allocatable,
            Some(self.access.clone()),
        )?;
        let written: Vec<(String, String)> = report
            .volumes
            .iter()
            .map(|v| (v.name.clone(), v.version_dir.clone()))
            .collect();
        if !self.written.is_empty() {
            for (v, (name, version)) in report.volumes.iter().zip(&written) {
                if !self.written.contains(&(name.clone(), version.clone())) {
                    println!(
                        "  volume {:<24} {:<48} {version} (swapped)",
                        name, v.mount_path
                    );
                }
            }
        }
        self.written = written;
        Ok(report)
    }

    /// `--follow`: watches the pod (a field-selected watch with bookmarks, re-watched from the
    /// last resourceVersion when a request ends, re-read on 410, as the kubelet's pod config
    /// source does) and rewrites the volumes on every change; renews the token at 80% of
    /// [`TOKEN_SECONDS`] (`pkg/kubelet/token/token_manager.go` `requiresRefresh`). A failed
    /// request, a 5xx or 429, or an in-stream error other than 410 is retried after a pause that
    /// doubles from 1 s to 30 s and resets on the next event (client-go's reflector backs off
    /// likewise); any other refusal (401, 403, ...) ends it with that status. Ends with status 0
    /// on SIGTERM/Ctrl-C, or when the pod is deleted (a `DELETED` event, or a 404 on re-read).
    async fn follow(&mut self, cluster: &ClusterAccess, mut pod: Value) -> Result<ExitCode> {
        use pod_introspect_kube::watch::{WatchLine, parse_line};
        use std::time::Duration;
        let ns = pod["metadata"]["namespace"]
            .as_str()
            .unwrap_or("default")
            .to_owned();
        let name = pod["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let item = format!("/api/v1/namespaces/{ns}/pods/{name}");
        println!(
            "following pod {ns}/{name} on {}: its label and annotation changes rewrite the volumes (Ctrl-C stops)",
            cluster.server
        );
        let renew_after = Duration::from_secs(TOKEN_SECONDS * 8 / 10);
        let shutdown = super::wait_for_shutdown();
        tokio::pin!(shutdown);
        let mut rv = pod["metadata"]["resourceVersion"]
            .as_str()
            .unwrap_or("0")
            .to_owned();
        let mut backoff = Duration::ZERO;
        let deleted = || {
            println!("pod {ns}/{name} was deleted on the cluster; stopping");
            Ok(ExitCode::SUCCESS)
        };
        // Whether to re-read the pod (after a 410) before the next watch.
        let mut reread = false;
        loop {
            if !backoff.is_zero() {
                tokio::select! {
                    _ = shutdown.as_mut() => return Ok(ExitCode::SUCCESS),
                    _ = tokio::time::sleep(backoff) => {}
                }
            }
            if reread {
                let got = tokio::select! {
                    _ = shutdown.as_mut() => return Ok(ExitCode::SUCCESS),
                    r = self.reread(cluster, &item) => r,
                };
                match got {
                    Ok(Some(fresh)) => {
                        (pod, rv, reread) = (fresh.0, fresh.1, false);
                        backoff = Duration::ZERO;
                    }
                    Ok(None) => return deleted(),
                    Err(e) => {
                        retry(&mut backoff, format!("{e:#}"));
                        continue;
                    }
                }
            }
            let path = format!(
                "/api/v1/namespaces/{ns}/pods?watch=1&allowWatchBookmarks=true&timeoutSeconds=300&fieldSelector=metadata.name%3D{name}&resourceVersion={rv}"
            );
            let opened = tokio::select! {
                _ = shutdown.as_mut() => return Ok(ExitCode::SUCCESS),
                r = cluster.client.get_stream(&path) => r,
            };
            let mut body = match opened {
                Ok((status, body)) if status.is_success() => body,
                Ok((status, _)) if status == http::StatusCode::GONE => {
                    reread = true;
                    continue;
                }
                Ok((status, _))
                    if status.is_server_error()
                        || status == http::StatusCode::TOO_MANY_REQUESTS =>
                {
                    retry(
                        &mut backoff,
                        format!("watching {item} on {}: {status}", cluster.server),
                    );
                    continue;
                }
                Ok((status, _)) => bail!("watching {item} on {}: {status}", cluster.server),
                Err(e) => {
                    retry(&mut backoff, format!("{e:#}"));
                    continue;
                }
            };
            let mut buf: Vec<u8> = Vec::new();
            'stream: loop {
                let renew_at = tokio::time::Instant::from_std(self.token_issued + renew_after);
                let frame = tokio::select! {
                    _ = shutdown.as_mut() => return Ok(ExitCode::SUCCESS),
                    _ = tokio::time::sleep_until(renew_at) => {
                        let renewed = tokio::select! {
                            _ = shutdown.as_mut() => return Ok(ExitCode::SUCCESS),
                            r = cluster.token_for(&pod) => r,
                        };
                        match renewed {
                            Ok(token) => {
                                self.access.token = token;
                                self.token_issued = std::time::Instant::now();
                                self.rewrite(&pod);
                            }
                            Err(e) => {
                                // The old token is still valid for a fifth of its life: try
                                // again in 10 s, as the kubelet's token manager retries.
                                eprintln!("simulate --follow: renewing the ServiceAccount token: {e:#}; retrying in 10 s");
                                self.token_issued += Duration::from_secs(10);
                            }
                        }
                        continue;
                    }
                    f = http_body_util::BodyExt::frame(&mut body) => f,
                };
                let frame = match frame {
                    Some(Ok(frame)) => frame,
                    // The server ended the watch (timeoutSeconds): watch again at once.
                    None => break,
                    Some(Err(e)) => {
                        retry(&mut backoff, format!("watching {item}: {e}"));
                        break;
                    }
                };
                let Ok(data) = frame.into_data() else {
                    continue;
                };
                buf.extend_from_slice(&data);
                while let Some(nl) = buf.iter().position(|b| *b == b'\n') {
                    let line: Vec<u8> = buf.drain(..=nl).collect();
                    let line = line.trim_ascii();
                    if line.is_empty() {
                        continue;
                    }
                    let event = match parse_line(line) {
                        Ok(event) => event,
                        Err(e) => {
                            eprintln!("simulate --follow: {e}; skipped");
                            continue;
                        }
                    };
                    match event {
                        WatchLine::Event {
                            kind,
                            object,
                            resource_version,
                        } => {
                            use pod_introspect_kube::cli_output::WatchEventType as T;
                            backoff = Duration::ZERO;
                            if !resource_version.is_empty() {
                                rv = resource_version;
                            }
                            match kind {
                                T::Added | T::Modified => match serde_json::from_str(&object) {
                                    Ok(object) => {
                                        pod = object;
                                        self.rewrite(&pod);
                                    }
                                    Err(e) => eprintln!(
                                        "simulate --follow: the pod in a watch event: {e}"
                                    ),
                                },
                                T::Deleted => return deleted(),
                                T::Bookmark => {}
                            }
                        }
                        WatchLine::Error { code: 410, .. } => {
                            // The watch window moved on: read the pod again.
                            reread = true;
                            break 'stream;
                        }
                        WatchLine::Error { code, body } => {
                            let message =
                                pod_introspect_kube::status::Status::parse(body.as_bytes(), code)
                                    .map(|s| s.message)
                                    .unwrap_or(body);
                            retry(
                                &mut backoff,
                                format!("watch of {item} ended with error {code}: {message}"),
                            );
                            break 'stream;
                        }
                    }
                }
            }
        }
    }

    /// [`Kubelet::write`], its failure printed (a kubelet logs it and keeps the pod running).
    fn rewrite(&mut self, pod: &Value) {
        if let Err(e) = self.write(pod) {
            eprintln!("simulate --follow: {e:#}");
        }
    }

    /// Reads the pod again (after a 410), rewrites from it, and returns it with its
    /// resourceVersion; `None` when the pod is gone (404).
    async fn reread(
        &mut self,
        cluster: &ClusterAccess,
        item: &str,
    ) -> Result<Option<(Value, String)>> {
        let (status, body) = cluster.client.get(item).await?;
        if status == http::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !status.is_success() {
            bail!("{item}: {status}: {}", status_message(&body));
        }
        let pod: Value = serde_json::from_slice(&body)?;
        self.rewrite(&pod);
        let rv = pod["metadata"]["resourceVersion"]
            .as_str()
            .unwrap_or("0")
            .to_owned();
        Ok(Some((pod, rv)))
    }
}

/// The next pause of `simulate --follow`'s retries: doubled, at least 1 s and at most 30 s;
/// prints what failed and the pause.
fn retry(backoff: &mut std::time::Duration, what: String) {
    use std::time::Duration;
    *backoff = (*backoff * 2).clamp(Duration::from_secs(1), Duration::from_secs(30));
    eprintln!(
        "simulate --follow: {what}; retrying in {} s",
        backoff.as_secs()
    );
}
