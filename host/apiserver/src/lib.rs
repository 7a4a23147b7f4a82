//! An in-process Kubernetes API-server emulator for tests, demos and local development.
//!
//! [`DevCluster::start`] serves HTTPS (rustls, HTTP/1.1 and HTTP/2) with a generated cluster
//! CA, bearer-token authentication (ServiceAccount JWTs shaped like the kubelet's bound tokens,
//! plus an admin token), RBAC (legacy rules and RBAC objects, with escalation prevention) with
//! the real denial messages, and the built-in resources of the [resource table](resources)
//! (core, apps, RBAC, coordination, discovery, events) in one generic [store]: every verb
//! (get, list with selectors and `limit`/`continue`, watch with bookmarks, 410 and streaming
//! lists, create, update, the four patch types, delete, deletecollection), discovery (legacy
//! and aggregated), [OpenAPI](openapi), server-side [`Table`](table) printing, ServiceAccount
//! TokenRequest and SelfSubjectAccessReview. The real kubectl (1.27 to 1.33) and the Python
//! `kubernetes` client work against it.
//!
//! ```no_run
//! # async fn demo() -> Result<(), pod_introspect_apiserver::ClusterError> {
//! use pod_introspect_apiserver::{ClusterOptions, DevCluster};
//! let cluster = DevCluster::start(ClusterOptions::default()).await?;
//! cluster.create_service_account("demo", "reader");
//! let token = cluster.issue_token("demo", "reader", std::time::Duration::from_secs(3607));
//! println!("{} trusts {} bytes of CA PEM; token {token}", cluster.url(), cluster.ca_pem().len());
//! cluster.shutdown().await;
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

pub mod apply;
pub mod client;
pub mod errors;
mod files;
pub mod kubeconfig;
pub mod metrics;
pub mod openapi;
pub mod pki;
pub mod protobuf;
pub mod rbac;
pub mod resources;
pub mod routes;
pub mod selectors;
mod server;
pub mod status;
pub mod store;
pub mod strategic_patch;
pub mod table;
pub mod tokens;
pub mod views;
pub mod watch;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;

pub use files::{CA_CERT_FILE, KUBECONFIG_FILE};
pub use rbac::RbacRules;
pub use routes::GONE_AS_STATUS_HEADER;
pub use status::{ClusterError, Status};

/// Options of [`DevCluster::start`].
#[derive(Debug, Clone)]
pub struct ClusterOptions {
    /// Address to listen on; port 0 picks a free port. Default `127.0.0.1:0`.
    pub listen: SocketAddr,
    /// Where the CA key and certificate (`ca.key`, `ca.crt`), the token signing key
    /// (`sa-signing.key`), every object (`objects.json`, written within
    /// half a second of a change and at shutdown) and the admin `kubeconfig` persist, so a
    /// restart on the same directory keeps serving the tokens it issued, bound ones included.
    /// A restart with the same directory keeps `ca.crt`, the admin token and issued tokens
    /// valid. `None` (default) keeps everything in memory.
    pub state_dir: Option<PathBuf>,
    /// Authorization rules; `None` (default) means [`RbacRules::default`]: every
    /// ServiceAccount may get, list and watch pods in its own namespace.
    pub rbac: Option<RbacRules>,
    /// Default lifetime of TokenRequest tokens without `expirationSeconds`. Default 3607 s,
    /// what the kubelet asks for its projected tokens.
    pub token_ttl: Duration,
    /// Test knob: the serving certificate carries only the listen IP as SAN (no DNS names,
    /// no extra loopback IPs). Default false.
    pub serving_ip_sans_only: bool,
    /// How many events (of all resources) are kept for watch resumption and consistent `continue`; older
    /// resourceVersions get 410. Default 1000.
    pub watch_history: usize,
    /// Interval between `BOOKMARK` events on watches with `allowWatchBookmarks=true`.
    /// Default 5 s (the real server sends about one a minute).
    pub bookmark_interval: Duration,
}

impl Default for ClusterOptions {
    fn default() -> Self {
        ClusterOptions {
            listen: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
            state_dir: None,
            rbac: None,
            token_ttl: Duration::from_secs(3607),
            serving_ip_sans_only: false,
            watch_history: 1000,
            bookmark_interval: Duration::from_secs(5),
        }
    }
}

/// A running emulated API server. Dropping it stops the server; [`DevCluster::shutdown`]
/// also waits for it.
#[derive(Debug)]
pub struct DevCluster {
    shared: Arc<server::Shared>,
    local_addr: SocketAddr,
    ca_pem: String,
    shutdown: tokio::sync::watch::Sender<bool>,
    task: Option<tokio::task::JoinHandle<()>>,
}

/// `https://HOST:PORT` for an address (IPv6 in brackets; an unspecified address becomes the
/// loopback of its family).
fn url_for(addr: SocketAddr) -> String {
    let ip = match addr.ip() {
        IpAddr::V4(v4) if v4.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(v6) if v6.is_unspecified() => IpAddr::V6(std::net::Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("https://{}", SocketAddr::new(ip, addr.port()))
}

impl DevCluster {
    /// Generates (or loads from `state_dir`) the cluster CA and token key, issues a serving
    /// certificate, binds `opts.listen` and spawns the server on the current Tokio runtime.
    /// With a `state_dir`, writes `ca.crt` and an admin `kubeconfig` there.
    ///
    /// # Errors
    /// [`ClusterError::Bind`] when the address is taken or unavailable, [`ClusterError::Io`]
    /// for `state_dir` problems, [`ClusterError::Pki`] / [`ClusterError::Tls`] for key and
    /// certificate problems.
    pub async fn start(opts: ClusterOptions) -> Result<DevCluster, ClusterError> {
        let state_dir = opts.state_dir.clone();
        let ca = pki::ClusterCa::load_or_generate(state_dir.as_deref())?;
        let secret = match state_dir.as_deref() {
            Some(dir) => match files::read_optional(dir, files::SIGNING_KEY_FILE)? {
                Some(text) => tokens::TokenSigner::decode_secret(&text)?,
                None => {
                    let secret = tokens::TokenSigner::generate_secret()?;
                    let text = tokens::TokenSigner::encode_secret(&secret);
                    files::write_atomic(dir, files::SIGNING_KEY_FILE, text.as_bytes(), true)?;
                    secret
                }
            },
            None => tokens::TokenSigner::generate_secret()?,
        };
        let listener = tokio::net::TcpListener::bind(opts.listen)
            .await
            .map_err(|error| ClusterError::Bind {
                addr: opts.listen,
                error,
            })?;
        let local_addr = listener.local_addr().map_err(|error| ClusterError::Bind {
            addr: opts.listen,
            error,
        })?;
        let tls = ca.serving_config(local_addr.ip(), opts.serving_ip_sans_only)?;
        let mut store = store::Store::new(opts.watch_history, state_dir.clone())?;
        for obj in opts.rbac.iter().flat_map(|r| r.objects()) {
            let kind = obj["kind"].as_str().unwrap_or("");
            let name = obj["metadata"]["name"].as_str().unwrap_or("");
            let Some(r) = resources::by_kind("rbac.authorization.k8s.io/v1", kind) else {
                continue;
            };
            let ns = if r.namespaced {
                obj["metadata"]["namespace"]
                    .as_str()
                    .filter(|n| !n.is_empty())
                    .unwrap_or("default")
            } else {
                ""
            };
            if store.get(r, ns, name).is_some() {
                continue;
            }
            store
                .create(r, ns, obj.clone(), false)
                .map_err(|s| ClusterError::Rbac(format!("{kind} {name:?}: {}", s.message)))?;
        }
        let shared = Arc::new(server::Shared {
            store: Mutex::new(store),
            signer: tokens::TokenSigner::new(&secret),
            rbac: opts.rbac.clone().unwrap_or_default(),
            bookmark_interval: opts.bookmark_interval,
            token_ttl: opts.token_ttl,
            local_addr,
            metrics: metrics::Metrics::default(),
        });
        if let Some(dir) = state_dir.as_deref() {
            let text = kubeconfig::render(
                &url_for(local_addr),
                &ca.cert_pem,
                "admin",
                shared.signer.admin_token(),
                "default",
            );
            files::write_atomic(dir, files::KUBECONFIG_FILE, text.as_bytes(), true)?;
            files::write_atomic(dir, files::CA_CERT_FILE, ca.cert_pem.as_bytes(), false)?;
        }
        let (shutdown, shutdown_rx) = tokio::sync::watch::channel(false);
        if state_dir.is_some() {
            tokio::spawn(save_periodically(shared.clone(), shutdown_rx.clone()));
        }
        let task = tokio::spawn(server::serve(listener, tls, shared.clone(), shutdown_rx));
        tracing::info!(url = %url_for(local_addr), "dev cluster listening");
        Ok(DevCluster {
            shared,
            local_addr,
            ca_pem: ca.cert_pem,
            shutdown,
            task: Some(task),
        })
    }

    fn store(&self) -> MutexGuard<'_, store::Store> {
        match self.shared.store.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// `https://127.0.0.1:PORT` (IPv6: `https://[::1]:PORT`).
    pub fn url(&self) -> String {
        url_for(self.local_addr)
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The cluster CA certificate, PEM (what a pod's `ca.crt` holds).
    pub fn ca_pem(&self) -> String {
        self.ca_pem.clone()
    }

    /// The admin bearer token (`system:masters`: every request is allowed).
    pub fn admin_token(&self) -> String {
        self.shared.signer.admin_token().to_owned()
    }

    /// A kubeconfig (YAML) for this cluster with `token` and default `namespace`.
    pub fn kubeconfig(&self, token: &str, namespace: &str) -> String {
        kubeconfig::render(&self.url(), &self.ca_pem, "user", token, namespace)
    }

    /// Registers a ServiceAccount (and its namespace); does nothing if it exists.
    pub fn create_service_account(&self, namespace: &str, name: &str) {
        self.store().ensure_service_account(namespace, name);
    }

    /// Creates a pod: namespace defaults to `default`; assigns uid, creationTimestamp and
    /// resourceVersion; defaults the spec (`serviceAccountName: default`,
    /// `nodeName: pod-introspect-node`, restart policy, a `pause` container when there is no
    /// spec) and, unless `status.phase` is set, a Running status with podIP (10.244.x.y),
    /// hostIP, conditions and ready container statuses. The namespace and ServiceAccount are
    /// created when missing. Emits `ADDED`.
    ///
    /// # Errors
    /// [`ClusterError::Api`] with 409 AlreadyExists or 422 Invalid (bad name, no containers).
    pub fn create_pod(&self, pod: Pod) -> Result<Pod, ClusterError> {
        let ns = namespace_of(&pod);
        Ok(self.store().create_pod(pod, &ns)?)
    }

    /// Replaces a pod (status included, like a kubelet status write); a set
    /// `metadata.resourceVersion` must match the stored one. Emits `MODIFIED`.
    ///
    /// # Errors
    /// [`ClusterError::Api`] with 404 NotFound or 409 Conflict.
    pub fn update_pod(&self, pod: Pod) -> Result<Pod, ClusterError> {
        let ns = namespace_of(&pod);
        let name = pod.metadata.name.clone().unwrap_or_default();
        Ok(self.store().update_pod(pod, &ns, &name, false)?)
    }

    /// Deletes a pod immediately and returns its last state. Emits `DELETED`.
    ///
    /// # Errors
    /// [`ClusterError::Api`] with 404 NotFound.
    pub fn delete_pod(&self, namespace: &str, name: &str) -> Result<Pod, ClusterError> {
        Ok(self.store().delete_pod(namespace, name)?)
    }

    /// A pod by namespace and name.
    pub fn get_pod(&self, namespace: &str, name: &str) -> Option<Pod> {
        self.store().pod(namespace, name)
    }

    /// Issues a token for `namespace/service_account` valid for `ttl` (whole seconds, at least
    /// one), registering the ServiceAccount if needed. The JWT is shaped like a bound token
    /// (see [`tokens`]).
    pub fn issue_token(&self, namespace: &str, service_account: &str, ttl: Duration) -> String {
        let sa = self
            .store()
            .ensure_service_account(namespace, service_account);
        let sa_ref = tokens::Ref {
            name: service_account.to_owned(),
            uid: sa.metadata.uid.unwrap_or_default(),
        };
        self.shared
            .signer
            .sign(&tokens::TokenSigner::claims(namespace, sa_ref, None, ttl))
    }

    /// Issues a token bound to a pod (the kubelet's projected token): the pod's
    /// ServiceAccount, plus the `pod` claim; it stops working when the pod is deleted.
    ///
    /// # Errors
    /// [`ClusterError::Api`] with 404 NotFound when the pod does not exist.
    pub fn issue_pod_token(
        &self,
        namespace: &str,
        pod_name: &str,
        ttl: Duration,
    ) -> Result<String, ClusterError> {
        let mut store = self.store();
        let pod = store
            .pod(namespace, pod_name)
            .ok_or_else(|| Status::not_found("pods", pod_name))?;
        let sa_name = pod
            .spec
            .as_ref()
            .and_then(|s| s.service_account_name.clone())
            .unwrap_or_else(|| "default".into());
        let sa = store.ensure_service_account(namespace, &sa_name);
        drop(store);
        let claims = tokens::TokenSigner::claims(
            namespace,
            tokens::Ref {
                name: sa_name,
                uid: sa.metadata.uid.unwrap_or_default(),
            },
            Some(tokens::Ref {
                name: pod_name.to_owned(),
                uid: pod.metadata.uid.unwrap_or_default(),
            }),
            ttl,
        );
        Ok(self.shared.signer.sign(&claims))
    }

    /// The current resourceVersion.
    pub fn resource_version(&self) -> u64 {
        self.store().resource_version()
    }

    /// Drops the watch history (after advancing the resourceVersion by one, like an unrelated
    /// write), so watches and `continue` tokens at any earlier resourceVersion get 410.
    pub fn compact(&self) {
        self.store().compact();
    }

    /// Stops accepting, closes open connections (ending watches) and waits for the server task.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        self.store().save_if_changed();
    }
}

/// How often changed objects are written to `state_dir`.
const SAVE_INTERVAL: Duration = Duration::from_millis(500);

/// Writes changed objects to `state_dir` every [`SAVE_INTERVAL`] until shutdown.
async fn save_periodically(
    shared: Arc<server::Shared>,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(SAVE_INTERVAL) => {}
            _ = shutdown.changed() => return,
        }
        let mut store = match shared.store.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        store.save_if_changed();
    }
}

impl Drop for DevCluster {
    fn drop(&mut self) {
        self.store().save_if_changed();
        let _ = self.shutdown.send(true);
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// The pod's namespace, `default` when unset (as the API server defaults it from the request).
fn namespace_of(pod: &Pod) -> String {
    pod.metadata
        .namespace
        .clone()
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "default".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(
            url_for("127.0.0.1:6443".parse().unwrap()),
            "https://127.0.0.1:6443"
        );
        assert_eq!(url_for("[::1]:6443".parse().unwrap()), "https://[::1]:6443");
        assert_eq!(url_for("0.0.0.0:1".parse().unwrap()), "https://127.0.0.1:1");
        assert_eq!(url_for("[::]:1".parse().unwrap()), "https://[::1]:1");
    }
}
