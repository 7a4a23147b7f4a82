//! The object store: pods, ServiceAccounts and derived namespaces, one cluster-wide
//! resourceVersion counter, and the pod event history that watch resumption and consistent
//! `continue` pages read.
//!
//! Like etcd behind kube-apiserver, every write bumps the resourceVersion; the history keeps
//! the last `watch_history` pod events with the previous object, so the pod set as of any kept
//! resourceVersion can be rebuilt (`floor` is the oldest such resourceVersion; anything older
//! is "compacted" and answers 410). The defaults applied to new pods are in `defaults`
//! (`pkg/apis/core/v1/defaults.go`, and a kubelet's status for a pod whose containers all run).

mod defaults;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;
use std::sync::Arc;

use k8s_openapi::api::core::v1::{Namespace, NamespaceSpec, NamespaceStatus, Pod, ServiceAccount};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use tokio::sync::broadcast;

use self::defaults::{default_spec, default_status};
use crate::ClusterError;
use crate::files;
use crate::status::Status;
use crate::tokens::now_unix;

/// The node every pod is "scheduled" to.
pub const NODE_NAME: &str = "pod-introspect-node";
/// The node's IP (`status.hostIP`). Never contacted.
pub const HOST_IP: &str = "10.0.0.10";
/// Namespaces that exist from the start, each with a `default` ServiceAccount.
pub const INITIAL_NAMESPACES: &[&str] =
    &["default", "kube-node-lease", "kube-public", "kube-system"];
/// The image of the container added to a pod created without a spec.
pub const DEFAULT_IMAGE: &str = "registry.k8s.io/pause:3.10";

/// A watch event type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    /// `ADDED`
    Added,
    /// `MODIFIED`
    Modified,
    /// `DELETED`
    Deleted,
}

impl EventType {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
        }
    }
}

/// One pod change.
#[derive(Debug, Clone)]
pub struct PodEvent {
    /// The resourceVersion of the change.
    pub rv: u64,
    /// What happened.
    pub kind: EventType,
    /// The object after the change (for `DELETED`: the last state, with the deletion's RV).
    pub pod: Pod,
    /// The object before the change (`None` for `ADDED`).
    pub prev: Option<Pod>,
}

type Key = (String, String);

fn key_of(meta: &ObjectMeta) -> Key {
    (
        meta.namespace.clone().unwrap_or_default(),
        meta.name.clone().unwrap_or_default(),
    )
}

/// The current time as a `meta/v1` `Time` (whole seconds, like the API server's RFC 3339).
pub fn now_time() -> Time {
    let secs = i64::try_from(now_unix()).unwrap_or(0);
    Time(
        k8s_openapi::jiff::Timestamp::from_second(secs)
            .unwrap_or(k8s_openapi::jiff::Timestamp::UNIX_EPOCH),
    )
}

/// Validates a DNS-1123 subdomain object name (`metadata.name` of pods).
fn validate_name(kind: &str, name: &str) -> Result<(), Status> {
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if name.is_empty() {
        return Err(Status::invalid(
            kind,
            name,
            "metadata.name: Required value: name or generateName is required",
        ));
    }
    if name.len() > 253 || !name.split('.').all(label_ok) {
        return Err(Status::invalid(
            kind,
            name,
            &format!(
                "metadata.name: Invalid value: \"{name}\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
            ),
        ));
    }
    Ok(())
}

fn random_suffix() -> String {
    // The alphabet of `k8s.io/apimachinery/pkg/util/rand.String` (no vowels, no 0/1/3).
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    uuid::Uuid::new_v4().as_bytes()[..5]
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect()
}

/// The store. Not thread-safe by itself: the server keeps it behind a mutex.
#[derive(Debug)]
pub struct Store {
    rv: u64,
    floor: u64,
    pods: BTreeMap<Key, Pod>,
    service_accounts: BTreeMap<Key, ServiceAccount>,
    namespaces: BTreeMap<String, Namespace>,
    history: VecDeque<Arc<PodEvent>>,
    history_limit: usize,
    events: broadcast::Sender<Arc<PodEvent>>,
    pods_created: u32,
    state_dir: Option<PathBuf>,
    /// Pods changed since [`Store::save_pods_if_changed`] last wrote them.
    pods_dirty: bool,
}

impl Store {
    /// A store keeping `history_limit` pod events; ServiceAccounts are loaded from and saved to
    /// `state_dir` when set.
    pub fn new(history_limit: usize, state_dir: Option<PathBuf>) -> Result<Self, ClusterError> {
        let (events, _) = broadcast::channel(4096);
        let mut store = Store {
            rv: 1,
            floor: 1,
            pods: BTreeMap::new(),
            service_accounts: BTreeMap::new(),
            namespaces: BTreeMap::new(),
            history: VecDeque::new(),
            history_limit: history_limit.max(1),
            events,
            pods_created: 0,
            state_dir,
            pods_dirty: false,
        };
        if let Some(dir) = store.state_dir.clone()
            && let Some(text) = files::read_optional(&dir, files::SERVICE_ACCOUNTS_FILE)?
        {
            let sas: Vec<ServiceAccount> =
                serde_json::from_str(&text).map_err(|e| ClusterError::Io {
                    path: dir.join(files::SERVICE_ACCOUNTS_FILE),
                    source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
                })?;
            for sa in sas {
                store.service_accounts.insert(key_of(&sa.metadata), sa);
            }
            let namespaces: Vec<String> = store
                .service_accounts
                .keys()
                .map(|(ns, _)| ns.clone())
                .collect();
            for ns in namespaces {
                store.ensure_namespace(&ns);
            }
        }
        if let Some(dir) = store.state_dir.clone()
            && let Some(text) = files::read_optional(&dir, files::PODS_FILE)?
        {
            let pods: Vec<Pod> = serde_json::from_str(&text).map_err(|e| ClusterError::Io {
                path: dir.join(files::PODS_FILE),
                source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
            })?;
            for pod in pods {
                let rv = pod
                    .metadata
                    .resource_version
                    .as_deref()
                    .and_then(|v| v.parse::<u64>().ok())
                    .unwrap_or(0);
                // resourceVersions stay increasing across the restart.
                store.rv = store.rv.max(rv);
                let key = key_of(&pod.metadata);
                store.ensure_namespace(&key.0);
                store.pods.insert(key, pod);
            }
            store.pods_created = u32::try_from(store.pods.len()).unwrap_or(u32::MAX);
        }
        for ns in INITIAL_NAMESPACES {
            store.ensure_namespace(ns);
        }
        store.floor = store.rv;
        Ok(store)
    }

    /// Writes the pods to `state_dir` (`pods.json`, `files::PODS_FILE`) when they changed since the last
    /// write; the server calls it periodically and at shutdown, so a burst of writes costs one
    /// file write. A failure is logged and retried at the next call.
    pub fn save_pods_if_changed(&mut self) {
        let Some(dir) = &self.state_dir else {
            return;
        };
        if !self.pods_dirty {
            return;
        }
        let list: Vec<&Pod> = self.pods.values().collect();
        let text = serde_json::to_vec(&list).unwrap_or_default();
        match files::write_atomic(dir, files::PODS_FILE, &text, false) {
            Ok(_) => self.pods_dirty = false,
            Err(e) => tracing::warn!(error = %e, "could not persist the pods"),
        }
    }

    fn bump(&mut self) -> u64 {
        self.rv += 1;
        self.rv
    }

    /// The current (latest) resourceVersion.
    pub fn resource_version(&self) -> u64 {
        self.rv
    }

    /// The oldest resourceVersion still served from history: a watch or a `continue` at an
    /// older one gets 410.
    pub fn floor(&self) -> u64 {
        self.floor
    }

    /// A receiver of every pod event after this call.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<PodEvent>> {
        self.events.subscribe()
    }

    /// The kept events with `rv > after`, oldest first (`after >= floor()` expected).
    pub fn events_since(&self, after: u64) -> Vec<Arc<PodEvent>> {
        self.history
            .iter()
            .filter(|e| e.rv > after)
            .cloned()
            .collect()
    }

    /// Drops the history, like an etcd compaction after an unrelated write: the
    /// resourceVersion advances by one and every earlier resourceVersion becomes too old.
    pub fn compact(&mut self) {
        self.bump();
        self.history.clear();
        self.floor = self.rv;
    }

    fn record(&mut self, kind: EventType, pod: Pod, prev: Option<Pod>) {
        self.pods_dirty = true;
        let event = Arc::new(PodEvent {
            rv: self.rv,
            kind,
            pod,
            prev,
        });
        self.history.push_back(event.clone());
        while self.history.len() > self.history_limit {
            if let Some(old) = self.history.pop_front() {
                self.floor = old.rv;
            }
        }
        // No receivers is fine.
        let _ = self.events.send(event);
    }

    /// Creates the namespace object if it does not exist yet, with a `default` ServiceAccount.
    pub fn ensure_namespace(&mut self, name: &str) {
        if self.namespaces.contains_key(name) {
            return;
        }
        let rv = self.bump();
        let ns = Namespace {
            metadata: ObjectMeta {
                name: Some(name.to_owned()),
                uid: Some(uuid::Uuid::new_v4().to_string()),
                resource_version: Some(rv.to_string()),
                creation_timestamp: Some(now_time()),
                labels: Some(BTreeMap::from([(
                    "kubernetes.io/metadata.name".to_owned(),
                    name.to_owned(),
                )])),
                ..Default::default()
            },
            spec: Some(NamespaceSpec {
                finalizers: Some(vec!["kubernetes".into()]),
            }),
            status: Some(NamespaceStatus {
                phase: Some("Active".into()),
                ..Default::default()
            }),
        };
        self.namespaces.insert(name.to_owned(), ns);
        self.ensure_service_account(name, "default");
    }

    /// A namespace by name.
    pub fn namespace(&self, name: &str) -> Option<&Namespace> {
        self.namespaces.get(name)
    }

    /// All namespaces, sorted by name.
    pub fn namespaces(&self) -> Vec<Namespace> {
        self.namespaces.values().cloned().collect()
    }

    // ---- ServiceAccounts ----

    fn save_service_accounts(&self) {
        if let Some(dir) = &self.state_dir {
            let list: Vec<&ServiceAccount> = self.service_accounts.values().collect();
            let text = serde_json::to_vec_pretty(&list).unwrap_or_default();
            if let Err(e) = files::write_atomic(dir, files::SERVICE_ACCOUNTS_FILE, &text, false) {
                tracing::warn!(error = %e, "could not persist service accounts");
            }
        }
    }

    /// Returns the ServiceAccount, creating it (and its namespace) if needed.
    pub fn ensure_service_account(&mut self, namespace: &str, name: &str) -> ServiceAccount {
        if let Some(sa) = self
            .service_accounts
            .get(&(namespace.to_owned(), name.to_owned()))
        {
            return sa.clone();
        }
        let sa = ServiceAccount {
            metadata: ObjectMeta {
                name: Some(name.to_owned()),
                namespace: Some(namespace.to_owned()),
                ..Default::default()
            },
            ..Default::default()
        };
        match self.create_service_account(sa, namespace) {
            Ok(sa) => sa,
            Err(_) => self
                .service_accounts
                .get(&(namespace.to_owned(), name.to_owned()))
                .cloned()
                .unwrap_or_default(),
        }
    }

    /// Creates a ServiceAccount in `namespace` (409 AlreadyExists, 422 for a bad name, 400 when the
    /// body's namespace differs).
    pub fn create_service_account(
        &mut self,
        mut sa: ServiceAccount,
        namespace: &str,
    ) -> Result<ServiceAccount, Status> {
        check_namespace(&mut sa.metadata, namespace)?;
        let name = self.assign_name(&mut sa.metadata, "ServiceAccount")?;
        let key = (namespace.to_owned(), name.clone());
        if self.service_accounts.contains_key(&key) {
            return Err(Status::already_exists("serviceaccounts", &name));
        }
        self.ensure_namespace(namespace);
        let rv = self.bump();
        let meta = &mut sa.metadata;
        meta.uid = Some(uuid::Uuid::new_v4().to_string());
        meta.resource_version = Some(rv.to_string());
        meta.creation_timestamp = Some(now_time());
        self.service_accounts.insert(key, sa.clone());
        self.save_service_accounts();
        Ok(sa)
    }

    /// A ServiceAccount by namespace and name.
    pub fn service_account(&self, namespace: &str, name: &str) -> Option<&ServiceAccount> {
        self.service_accounts
            .get(&(namespace.to_owned(), name.to_owned()))
    }

    /// ServiceAccounts in `namespace` (all when `None`), sorted by namespace/name.
    pub fn service_accounts(&self, namespace: Option<&str>) -> Vec<ServiceAccount> {
        self.service_accounts
            .iter()
            .filter(|((ns, _), _)| namespace.is_none_or(|n| n == ns))
            .map(|(_, sa)| sa.clone())
            .collect()
    }

    // ---- Pods ----

    fn assign_name(&self, meta: &mut ObjectMeta, kind: &str) -> Result<String, Status> {
        if meta.name.as_deref().unwrap_or("").is_empty()
            && let Some(prefix) = meta.generate_name.as_deref().filter(|p| !p.is_empty())
        {
            meta.name = Some(format!("{prefix}{}", random_suffix()));
        }
        let name = meta.name.clone().unwrap_or_default();
        validate_name(kind, &name)?;
        Ok(name)
    }

    /// Creates a pod in `namespace`, applying defaults and a running status (see
    /// [`DevCluster::create_pod`](crate::DevCluster::create_pod)); emits `ADDED`.
    pub fn create_pod(&mut self, mut pod: Pod, namespace: &str) -> Result<Pod, Status> {
        check_namespace(&mut pod.metadata, namespace)?;
        let name = self.assign_name(&mut pod.metadata, "Pod")?;
        let key = (namespace.to_owned(), name.clone());
        if self.pods.contains_key(&key) {
            return Err(Status::already_exists("pods", &name));
        }
        default_spec(&mut pod);
        let spec = pod
            .spec
            .as_ref()
            .ok_or_else(|| Status::internal("pod without spec"))?;
        if spec.containers.is_empty() {
            return Err(Status::invalid(
                "Pod",
                &name,
                "spec.containers: Required value",
            ));
        }
        if let Some(c) = spec.containers.iter().find(|c| c.name.is_empty()) {
            return Err(Status::invalid(
                "Pod",
                &name,
                &format!(
                    "spec.containers[].name: Required value (image {:?})",
                    c.image
                ),
            ));
        }
        let sa_name = spec
            .service_account_name
            .clone()
            .unwrap_or_else(|| "default".into());
        self.ensure_namespace(namespace);
        self.ensure_service_account(namespace, &sa_name);
        self.pods_created += 1;
        let n = self.pods_created;
        let pod_ip = format!("10.244.{}.{}", (n / 250) % 256, n % 250 + 2);
        let rv = self.bump();
        let now = now_time();
        let meta = &mut pod.metadata;
        meta.uid = Some(uuid::Uuid::new_v4().to_string());
        meta.resource_version = Some(rv.to_string());
        meta.creation_timestamp = Some(now.clone());
        meta.generation = Some(1);
        meta.deletion_timestamp = None;
        default_status(&mut pod, &pod_ip, &now);
        self.pods.insert(key, pod.clone());
        self.record(EventType::Added, pod.clone(), None);
        Ok(pod)
    }

    /// Replaces a pod (`namespace`/`name` from the request path). A set `resourceVersion` must
    /// equal the stored one (409 Conflict). With `keep_status` the stored status is kept, as a
    /// PUT to the main resource does (`pkg/registry/core/pod/strategy.go`
    /// `PrepareForUpdate`); otherwise the given status replaces it. Emits `MODIFIED`.
    pub fn update_pod(
        &mut self,
        mut pod: Pod,
        namespace: &str,
        name: &str,
        keep_status: bool,
    ) -> Result<Pod, Status> {
        check_namespace(&mut pod.metadata, namespace)?;
        if pod.metadata.name.as_deref().unwrap_or(name) != name {
            return Err(Status::bad_request(
                "the name of the object (".to_owned()
                    + pod.metadata.name.as_deref().unwrap_or("")
                    + ") does not match the name on the URL ("
                    + name
                    + ")",
            ));
        }
        pod.metadata.name = Some(name.to_owned());
        let key = (namespace.to_owned(), name.to_owned());
        let Some(old) = self.pods.get(&key).cloned() else {
            return Err(Status::not_found("pods", name));
        };
        if let Some(rv) = pod
            .metadata
            .resource_version
            .as_deref()
            .filter(|rv| !rv.is_empty())
            && Some(rv) != old.metadata.resource_version.as_deref()
        {
            return Err(Status::conflict("pods", name));
        }
        if pod
            .metadata
            .uid
            .as_deref()
            .is_some_and(|u| Some(u) != old.metadata.uid.as_deref())
        {
            return Err(Status::conflict("pods", name));
        }
        if pod.spec.is_none() {
            pod.spec = old.spec.clone();
        }
        if keep_status || pod.status.is_none() {
            pod.status = old.status.clone();
        }
        let rv = self.bump();
        let meta = &mut pod.metadata;
        meta.uid = old.metadata.uid.clone();
        meta.creation_timestamp = old.metadata.creation_timestamp.clone();
        meta.generation = if pod.spec != old.spec {
            old.metadata.generation.map(|g| g + 1)
        } else {
            old.metadata.generation
        };
        pod.metadata.resource_version = Some(rv.to_string());
        self.pods.insert(key, pod.clone());
        self.record(EventType::Modified, pod.clone(), Some(old));
        Ok(pod)
    }

    /// Deletes a pod immediately; emits `DELETED` with the pod at the deletion's RV.
    pub fn delete_pod(&mut self, namespace: &str, name: &str) -> Result<Pod, Status> {
        let Some(old) = self.pods.remove(&(namespace.to_owned(), name.to_owned())) else {
            return Err(Status::not_found("pods", name));
        };
        let rv = self.bump();
        let mut pod = old.clone();
        pod.metadata.resource_version = Some(rv.to_string());
        self.record(EventType::Deleted, pod.clone(), Some(old));
        Ok(pod)
    }

    /// A pod by namespace and name.
    pub fn pod(&self, namespace: &str, name: &str) -> Option<&Pod> {
        self.pods.get(&(namespace.to_owned(), name.to_owned()))
    }

    /// The pods of `namespace` (all when `None`), sorted by namespace/name, as of resourceVersion
    /// `at` (the latest when `None`). `Err(())` when `at` is older than [`Store::floor`].
    #[allow(clippy::result_unit_err)]
    pub fn pods_at(&self, namespace: Option<&str>, at: Option<u64>) -> Result<Vec<Pod>, ()> {
        let mut pods = self.pods.clone();
        if let Some(at) = at.filter(|at| *at < self.rv) {
            if at < self.floor {
                return Err(());
            }
            for e in self.history.iter().rev().take_while(|e| e.rv > at) {
                let key = key_of(&e.pod.metadata);
                match (&e.kind, &e.prev) {
                    (EventType::Added, _) => {
                        pods.remove(&key);
                    }
                    (_, Some(prev)) => {
                        pods.insert(key, prev.clone());
                    }
                    (_, None) => {}
                }
            }
        }
        Ok(pods
            .into_iter()
            .filter(|((ns, _), _)| namespace.is_none_or(|n| n == ns))
            .map(|(_, p)| p)
            .collect())
    }
}

/// Fills in or checks `metadata.namespace` against the request's namespace.
fn check_namespace(meta: &mut ObjectMeta, namespace: &str) -> Result<(), Status> {
    match meta.namespace.as_deref() {
        None | Some("") => {
            meta.namespace = Some(namespace.to_owned());
            Ok(())
        }
        Some(ns) if ns == namespace => Ok(()),
        Some(_) => Err(Status::bad_request(
            "the namespace of the provided object does not match the namespace sent on the request",
        )),
    }
}
