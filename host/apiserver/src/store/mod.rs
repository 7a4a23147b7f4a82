//! The object store: every stored resource of the [resource table](crate::resources) as JSON
//! objects, one cluster-wide resourceVersion counter, and the event history that watch
//! resumption and consistent `continue` pages read.
//!
//! Like etcd behind kube-apiserver, every write bumps the resourceVersion; the history keeps
//! the last `watch_history` events (of all resources) with the previous object, so any
//! resource's objects as of a kept resourceVersion can be rebuilt (`floor` is the oldest such
//! resourceVersion; anything older is "compacted" and answers 410).
//!
//! The write semantics are the generic registry's
//! (`staging/src/k8s.io/apiserver/pkg/registry/generic/registry/store.go`): `Create` assigns
//! `uid`, `creationTimestamp`, `resourceVersion` (and `generation` where the type tracks it)
//! and refuses an existing name (409 AlreadyExists); `Update` checks a set
//! `metadata.resourceVersion` against the stored one (409 Conflict), keeps what the caller may
//! not change, bumps `generation` when `spec` changed and, once an object being deleted has no
//! finalizers left, deletes it; `Delete` checks `preconditions` (uid, resourceVersion), and an
//! object with finalizers only gets `deletionTimestamp` and stays until they are removed.
//! With `dry_run` every check runs and nothing is stored. Type-specific defaults are in
//! `defaults.rs`, the status a controller would write for the apps workloads in `workloads.rs`.

mod defaults;
pub mod meta;
#[cfg(test)]
mod tests;
mod workloads;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::Arc;

use k8s_openapi::api::core::v1::{Namespace, Pod, ServiceAccount};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use serde_json::{Value, json};
use tokio::sync::broadcast;

use crate::ClusterError;
use crate::errors::{self, OPTIMISTIC_LOCK_ERROR_MSG};
use crate::files;
use crate::resources::{self, RESOURCES, ResourceType, Storage};
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

/// One change of one object.
#[derive(Debug, Clone)]
pub struct Event {
    /// The resourceVersion of the change.
    pub rv: u64,
    /// What happened.
    pub kind: EventType,
    /// The resource whose store holds the object ([`resources::storage_of`]).
    pub resource: &'static ResourceType,
    /// The object after the change (for `DELETED`: the last state, with the deletion's RV).
    pub object: Value,
    /// The object before the change (`None` for `ADDED`).
    pub prev: Option<Value>,
}

/// Which part of an object a write may change (`PrepareForUpdate` of the main resource and of
/// the `status` subresource).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The main resource: `status` is kept where the type has a status subresource.
    Main,
    /// The `status` subresource: only `status` (and the object's labels and annotations are
    /// kept as stored, as `PrepareForUpdate` of the status strategies does).
    Status,
    /// Everything, status included (a kubelet's own writes through [`crate::DevCluster`]).
    All,
}

/// `DeleteOptions` as the store uses them (`meta/v1` `DeleteOptions`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeleteOptions {
    /// `preconditions.uid`.
    pub uid: Option<String>,
    /// `preconditions.resourceVersion`.
    pub resource_version: Option<String>,
    /// `gracePeriodSeconds`.
    pub grace_period_seconds: Option<i64>,
}

/// What a delete did.
#[derive(Debug, Clone)]
pub enum Deleted {
    /// The object is gone; its last state.
    Gone(Value),
    /// The object has finalizers: it now has `deletionTimestamp` and stays.
    Pending(Value),
}

/// Key of one object within its resource: (namespace, name); cluster-scoped objects have `""`.
type Key = (String, String);

/// Key of a resource's store: (group, resource).
type ResourceKey = (&'static str, &'static str);

fn rkey(r: &'static ResourceType) -> ResourceKey {
    let s = resources::storage_of(r);
    (s.group, s.resource)
}

fn key_of(obj: &Value) -> Key {
    (meta::namespace(obj).to_owned(), meta::name(obj).to_owned())
}

/// The current time as a `meta/v1` `Time` (whole seconds, like the API server's RFC 3339).
pub fn now_time() -> Time {
    let secs = i64::try_from(now_unix()).unwrap_or(0);
    Time(
        k8s_openapi::jiff::Timestamp::from_second(secs)
            .unwrap_or(k8s_openapi::jiff::Timestamp::UNIX_EPOCH),
    )
}

/// A `meta/v1` `Time` as kube-apiserver writes it (`Time.MarshalJSON`): RFC 3339 in UTC,
/// whole seconds (`2026-01-02T03:04:05Z`).
pub fn format_time(t: k8s_openapi::jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// [`now_time`] as the JSON string the API server writes (`2026-01-02T03:04:05Z`).
pub fn now_string() -> Value {
    serde_json::to_value(now_time()).unwrap_or(Value::Null)
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
    objects: HashMap<ResourceKey, BTreeMap<Key, Value>>,
    history: VecDeque<Arc<Event>>,
    history_limit: usize,
    events: broadcast::Sender<Arc<Event>>,
    pods_created: u32,
    services_created: u32,
    state_dir: Option<PathBuf>,
    /// Objects changed since [`Store::save_if_changed`] last wrote them.
    dirty: bool,
}

impl Store {
    /// A store keeping `history_limit` events; objects are loaded from and saved to
    /// `state_dir` (`objects.json`) when set. The initial namespaces, their `default`
    /// ServiceAccounts and the node exist from the start.
    ///
    /// # Errors
    /// [`ClusterError::Io`] when a state file cannot be read or is not a JSON list of objects.
    pub fn new(history_limit: usize, state_dir: Option<PathBuf>) -> Result<Self, ClusterError> {
        let (events, _) = broadcast::channel(4096);
        let mut store = Store {
            rv: 1,
            floor: 1,
            objects: HashMap::new(),
            history: VecDeque::new(),
            history_limit: history_limit.max(1),
            events,
            pods_created: 0,
            services_created: 0,
            state_dir,
            dirty: false,
        };
        if let Some(dir) = store.state_dir.clone() {
            if let Some(text) = files::read_optional(&dir, files::REVISION_FILE)? {
                let rv = text.trim().parse::<u64>().map_err(|e| ClusterError::Io {
                    path: dir.join(files::REVISION_FILE),
                    source: std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        format!("not a resourceVersion: {e}"),
                    ),
                })?;
                store.rv = store.rv.max(rv);
            }
            // objects.json holds everything; serviceaccounts.json and pods.json are what
            // earlier versions wrote.
            for file in [
                files::OBJECTS_FILE,
                files::SERVICE_ACCOUNTS_FILE,
                files::PODS_FILE,
            ] {
                let Some(text) = files::read_optional(&dir, file)? else {
                    continue;
                };
                let bad = |why: String| ClusterError::Io {
                    path: dir.join(file),
                    source: std::io::Error::new(std::io::ErrorKind::InvalidData, why),
                };
                let list: Vec<Value> =
                    serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
                for mut obj in list {
                    if file == files::SERVICE_ACCOUNTS_FILE {
                        obj["apiVersion"] = json!("v1");
                        obj["kind"] = json!("ServiceAccount");
                    } else if file == files::PODS_FILE {
                        obj["apiVersion"] = json!("v1");
                        obj["kind"] = json!("Pod");
                    }
                    let api_version = obj["apiVersion"].as_str().unwrap_or("").to_owned();
                    let kind = obj["kind"].as_str().unwrap_or("").to_owned();
                    let r = resources::by_kind(&api_version, &kind).ok_or_else(|| {
                        bad(format!("an object of unknown kind {api_version}/{kind}"))
                    })?;
                    let rv = meta::resource_version(&obj).parse::<u64>().unwrap_or(0);
                    // resourceVersions stay increasing across the restart.
                    store.rv = store.rv.max(rv);
                    if r.resource == "pods" {
                        store.pods_created += 1;
                    }
                    if r.resource == "services" {
                        store.services_created += 1;
                    }
                    store
                        .objects
                        .entry(rkey(r))
                        .or_default()
                        .insert(key_of(&obj), obj);
                }
            }
        }
        let namespaces: Vec<String> = store
            .objects
            .values()
            .flat_map(|m| m.keys().map(|(ns, _)| ns.clone()))
            .filter(|ns| !ns.is_empty())
            .collect();
        for ns in INITIAL_NAMESPACES
            .iter()
            .map(|s| (*s).to_owned())
            .chain(namespaces)
        {
            store.ensure_namespace(&ns);
        }
        store.ensure_node();
        store.ensure_bootstrap_rbac();
        store.floor = store.rv;
        store.history.clear();
        Ok(store)
    }

    /// Writes every object to `state_dir` (`objects.json`) when something changed since the
    /// last write; the server calls it periodically and at shutdown, so a burst of writes
    /// costs one file write. A failure is logged and retried at the next call.
    pub fn save_if_changed(&mut self) {
        let Some(dir) = &self.state_dir else {
            return;
        };
        if !self.dirty {
            return;
        }
        let mut list: Vec<&Value> = Vec::new();
        for r in RESOURCES {
            if r.storage == Storage::Stored
                && std::ptr::eq(resources::storage_of(r), r)
                && let Some(m) = self.objects.get(&(r.group, r.resource))
            {
                list.extend(m.values());
            }
        }
        let text = serde_json::to_vec(&list).unwrap_or_default();
        let written = files::write_atomic(dir, files::OBJECTS_FILE, &text, true).and_then(|_| {
            files::write_atomic(
                dir,
                files::REVISION_FILE,
                format!("{}\n", self.rv).as_bytes(),
                false,
            )
        });
        match written {
            Ok(_) => {
                self.dirty = false;
                for old in [files::PODS_FILE, files::SERVICE_ACCOUNTS_FILE] {
                    let _ = std::fs::remove_file(dir.join(old));
                }
            }
            Err(e) => tracing::warn!(error = %e, "could not persist the objects"),
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

    /// A receiver of every event after this call.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.events.subscribe()
    }

    /// The kept events with `rv > after`, oldest first (`after >= floor()` expected).
    pub fn events_since(&self, after: u64) -> Vec<Arc<Event>> {
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

    fn record(
        &mut self,
        kind: EventType,
        r: &'static ResourceType,
        object: Value,
        prev: Option<Value>,
    ) {
        self.dirty = true;
        let event = Arc::new(Event {
            rv: self.rv,
            kind,
            resource: resources::storage_of(r),
            object,
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

    // ---- generic registry ----

    /// The object `namespace`/`name` of `r` (`namespace` is `""` for cluster-scoped).
    pub fn get(&self, r: &'static ResourceType, namespace: &str, name: &str) -> Option<&Value> {
        self.objects
            .get(&rkey(r))?
            .get(&(namespace.to_owned(), name.to_owned()))
    }

    /// The current objects of `r` in `namespace` (all when `None`), sorted by namespace/name,
    /// borrowed: for readers that need no copy (the authorizer reads every binding on every
    /// request).
    pub fn objects<'a>(
        &'a self,
        r: &'static ResourceType,
        namespace: Option<&'a str>,
    ) -> impl Iterator<Item = &'a Value> + 'a {
        self.objects
            .get(&rkey(r))
            .into_iter()
            .flat_map(|m| m.iter())
            .filter(move |(k, _)| namespace.is_none_or(|n| n == k.0))
            .map(|(_, v)| v)
    }

    /// The objects of `r` in `namespace` (all when `None`), sorted by namespace/name, as of
    /// resourceVersion `at` (the latest when `None`). `Err(())` when `at` is older than
    /// [`Store::floor`].
    #[allow(clippy::result_unit_err)]
    pub fn list(
        &self,
        r: &'static ResourceType,
        namespace: Option<&str>,
        at: Option<u64>,
    ) -> Result<Vec<Value>, ()> {
        let key = rkey(r);
        let in_ns = |k: &Key| namespace.is_none_or(|n| n == k.0);
        let current = self.objects.get(&key);
        let Some(at) = at.filter(|at| *at < self.rv) else {
            return Ok(self.objects(r, namespace).cloned().collect());
        };
        if at < self.floor {
            return Err(());
        }
        let mut objects: BTreeMap<Key, Value> = current
            .map(|m| {
                m.iter()
                    .filter(|(k, _)| in_ns(k))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect()
            })
            .unwrap_or_default();
        for e in self.history.iter().rev().take_while(|e| e.rv > at) {
            if (e.resource.group, e.resource.resource) != key {
                continue;
            }
            let k = key_of(&e.object);
            if !in_ns(&k) {
                continue;
            }
            match (&e.kind, &e.prev) {
                (EventType::Added, _) => {
                    objects.remove(&k);
                }
                (_, Some(prev)) => {
                    objects.insert(k, prev.clone());
                }
                (_, None) => {}
            }
        }
        Ok(objects.into_values().collect())
    }

    /// Checks `obj`'s kind and namespace against the request, fills them in, decodes it as the
    /// type (`normalize`) and validates its metadata.
    fn admit(
        &self,
        r: &'static ResourceType,
        namespace: &str,
        obj: Value,
    ) -> Result<Value, Status> {
        let Value::Object(_) = obj else {
            return Err(Status::bad_request(format!(
                "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml (a {} object is a JSON object)",
                r.kind
            )));
        };
        let mut obj = obj;
        check_namespace(r, &mut obj, namespace)?;
        obj["apiVersion"] = json!(r.api_version());
        obj["kind"] = json!(r.kind);
        let mut obj = (r.normalize)(obj).map_err(|e| {
            Status::bad_request(format!(
                "{} in version \"{}\" cannot be handled as a {}: {e}",
                r.kind, r.version, r.kind
            ))
        })?;
        obj["apiVersion"] = json!(r.api_version());
        obj["kind"] = json!(r.kind);
        Ok(obj)
    }

    /// Creates `obj` of `r` in `namespace` (`""` for cluster-scoped): `generateName`, name
    /// validation, defaults, 409 AlreadyExists. The namespace is created when missing (the
    /// emulator has no NamespaceLifecycle admission). Emits `ADDED` unless `dry_run`.
    ///
    /// # Errors
    /// 400 for a body of the wrong shape or namespace, 409 AlreadyExists, 422 Invalid.
    pub fn create(
        &mut self,
        r: &'static ResourceType,
        namespace: &str,
        obj: Value,
        dry_run: bool,
    ) -> Result<Value, Status> {
        let mut obj = self.admit(r, namespace, obj)?;
        let generate = meta::str_of(&obj, "generateName").to_owned();
        if meta::name(&obj).is_empty() && !generate.is_empty() {
            meta::set(
                &mut obj,
                "name",
                json!(format!("{generate}{}", random_suffix())),
            );
        }
        let name = meta::name(&obj).to_owned();
        let errs = meta::validate(r, &obj);
        if !errs.is_empty() {
            return Err(errors::invalid(r, &name, &errs));
        }
        let key = (namespace.to_owned(), name.clone());
        if self
            .objects
            .get(&rkey(r))
            .is_some_and(|m| m.contains_key(&key))
        {
            return Err(errors::already_exists(r, &name));
        }
        // `metadata.managedFields` is kept: the field manager computed it for this create
        // (server-side apply, `crate::apply::record_update`).
        for field in ["deletionTimestamp", "deletionGracePeriodSeconds"] {
            meta::set(&mut obj, field, Value::Null);
        }
        meta::set(&mut obj, "uid", json!(uuid::Uuid::new_v4().to_string()));
        meta::set(&mut obj, "creationTimestamp", now_string());
        if r.has_generation() {
            meta::set(&mut obj, "generation", json!(1));
        } else {
            meta::set(&mut obj, "generation", Value::Null);
        }
        let ordinal = match r.resource {
            "pods" => self.pods_created + 1,
            "services" => self.services_created + 1,
            _ => 0,
        };
        defaults::on_create(r, &mut obj, ordinal).map_err(|e| errors::invalid(r, &name, &e))?;
        workloads::settle(r, &mut obj);
        if dry_run {
            meta::set(&mut obj, "resourceVersion", Value::Null);
            return Ok(obj);
        }
        if r.namespaced {
            self.ensure_namespace(namespace);
        }
        if r.resource == "pods" {
            self.pods_created += 1;
            let sa = obj["spec"]["serviceAccountName"]
                .as_str()
                .unwrap_or("default")
                .to_owned();
            self.ensure_service_account(namespace, &sa);
        }
        if r.resource == "services" {
            self.services_created += 1;
        }
        let rv = self.bump();
        meta::set(&mut obj, "resourceVersion", json!(rv.to_string()));
        self.objects
            .entry(rkey(r))
            .or_default()
            .insert(key, obj.clone());
        self.record(EventType::Added, r, obj.clone(), None);
        if r.group.is_empty() && r.resource == "namespaces" {
            self.ensure_service_account(&name, "default");
        }
        Ok(obj)
    }

    /// Replaces `namespace`/`name` of `r` with `obj` (the part `part` may change). A set
    /// `metadata.resourceVersion` must equal the stored one and a set `uid` the stored uid
    /// (409 Conflict); `uid`, `creationTimestamp` and `deletionTimestamp` are kept; `generation`
    /// is bumped when `spec` changed. An object being deleted whose last finalizer this write
    /// removes is deleted. An unchanged object is not written again (same resourceVersion, no
    /// event). Emits `MODIFIED` (or `DELETED`) unless `dry_run`.
    ///
    /// # Errors
    /// 400 (body), 404 NotFound, 409 Conflict, 422 Invalid.
    pub fn update(
        &mut self,
        r: &'static ResourceType,
        namespace: &str,
        name: &str,
        obj: Value,
        part: Part,
        dry_run: bool,
    ) -> Result<Value, Status> {
        let mut obj = self.admit(r, namespace, obj)?;
        let given = meta::name(&obj).to_owned();
        if !given.is_empty() && given != name {
            return Err(Status::bad_request(format!(
                "the name of the object ({given}) does not match the name on the URL ({name})"
            )));
        }
        meta::set(&mut obj, "name", json!(name));
        let key = (namespace.to_owned(), name.to_owned());
        let Some(old) = self
            .objects
            .get(&rkey(r))
            .and_then(|m| m.get(&key))
            .cloned()
        else {
            return Err(errors::not_found(r, name));
        };
        let given_rv = meta::resource_version(&obj);
        if !given_rv.is_empty() && given_rv != meta::resource_version(&old) {
            return Err(errors::conflict(r, name, OPTIMISTIC_LOCK_ERROR_MSG));
        }
        let given_uid = meta::uid(&obj);
        if !given_uid.is_empty() && given_uid != meta::uid(&old) {
            return Err(errors::uid_precondition_failed(
                r,
                name,
                given_uid,
                meta::uid(&old),
            ));
        }
        match part {
            Part::Main if r.has_status() => match old.get("status") {
                Some(s) => obj["status"] = s.clone(),
                None => {
                    if let Some(m) = obj.as_object_mut() {
                        m.remove("status");
                    }
                }
            },
            Part::Status => {
                let status = obj.get("status").cloned();
                let mut kept = old.clone();
                match status {
                    Some(s) => kept["status"] = s,
                    None => {
                        if let Some(m) = kept.as_object_mut() {
                            m.remove("status");
                        }
                    }
                }
                obj = kept;
            }
            _ => {}
        }
        for field in [
            "uid",
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "generation",
        ] {
            meta::set(&mut obj, field, old["metadata"][field].clone());
        }
        if let Some(m) = meta::meta_mut(&mut obj).get("generateName").cloned() {
            meta::set(&mut obj, "generateName", m);
        }
        if r.has_generation() && obj.get("spec") != old.get("spec") {
            let g = old["metadata"]["generation"].as_i64().unwrap_or(0);
            meta::set(&mut obj, "generation", json!(g + 1));
        }
        let mut errs = meta::validate(r, &obj);
        if meta::is_deleting(&old) {
            // `ValidateNoNewFinalizers` (apimachinery `objectmeta.go`).
            let had = meta::finalizers(&old);
            let mut extra: Vec<String> = meta::finalizers(&obj)
                .into_iter()
                .filter(|f| !had.contains(f))
                .collect();
            extra.sort();
            extra.dedup();
            if !extra.is_empty() {
                let list: Vec<String> = extra
                    .iter()
                    .map(|f| pod_introspect_kube::go_quote::quote(f))
                    .collect();
                errs.push(format!(
                    "metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{{{}}}",
                    list.join(", ")
                ));
            }
        }
        if !errs.is_empty() {
            return Err(errors::invalid(r, name, &errs));
        }
        defaults::on_update(r, &mut obj, &old).map_err(|e| errors::invalid(r, name, &e))?;
        if part != Part::Status {
            workloads::settle(r, &mut obj);
        }
        meta::set(
            &mut obj,
            "resourceVersion",
            old["metadata"]["resourceVersion"].clone(),
        );
        if obj == old {
            return Ok(obj);
        }
        if meta::is_deleting(&obj) && meta::finalizers(&obj).is_empty() {
            if dry_run {
                return Ok(obj);
            }
            return self.remove(r, &key, obj);
        }
        if dry_run {
            return Ok(obj);
        }
        let rv = self.bump();
        meta::set(&mut obj, "resourceVersion", json!(rv.to_string()));
        self.objects
            .entry(rkey(r))
            .or_default()
            .insert(key, obj.clone());
        self.record(EventType::Modified, r, obj.clone(), Some(old));
        Ok(obj)
    }

    /// Removes the object at `key` (already checked to exist), its last state `last`; emits
    /// `DELETED` with the deletion's resourceVersion.
    fn remove(
        &mut self,
        r: &'static ResourceType,
        key: &Key,
        last: Value,
    ) -> Result<Value, Status> {
        let Some(old) = self.objects.get_mut(&rkey(r)).and_then(|m| m.remove(key)) else {
            return Err(errors::not_found(r, &key.1));
        };
        let rv = self.bump();
        let mut gone = last;
        meta::set(&mut gone, "resourceVersion", json!(rv.to_string()));
        self.record(EventType::Deleted, r, gone.clone(), Some(old));
        if r.group.is_empty() && r.resource == "namespaces" {
            self.delete_namespace_contents(&key.1);
        }
        Ok(gone)
    }

    /// Deletes every namespaced object in `namespace`, as the namespace controller does
    /// before it removes the `kubernetes` finalizer.
    fn delete_namespace_contents(&mut self, namespace: &str) {
        for r in RESOURCES {
            if !r.namespaced
                || r.storage != Storage::Stored
                || !std::ptr::eq(resources::storage_of(r), r)
            {
                continue;
            }
            let keys: Vec<Key> = self
                .objects
                .get(&(r.group, r.resource))
                .map(|m| m.keys().filter(|k| k.0 == namespace).cloned().collect())
                .unwrap_or_default();
            for k in keys {
                if let Some(last) = self.get(r, &k.0, &k.1).cloned() {
                    let _ = self.remove(r, &k, last);
                }
            }
        }
    }

    /// Deletes `namespace`/`name` of `r` with `opts`: the preconditions must hold (409
    /// Conflict with upstream's message); an object with finalizers gets `deletionTimestamp`
    /// (now + grace) and stays ([`Deleted::Pending`]); otherwise it is removed at once (pods
    /// too: the emulated kubelet confirms at once). Emits `DELETED` (or `MODIFIED`) unless
    /// `dry_run`.
    ///
    /// # Errors
    /// 404 NotFound, 409 Conflict.
    pub fn delete(
        &mut self,
        r: &'static ResourceType,
        namespace: &str,
        name: &str,
        opts: &DeleteOptions,
        dry_run: bool,
    ) -> Result<Deleted, Status> {
        let key = (namespace.to_owned(), name.to_owned());
        let Some(old) = self
            .objects
            .get(&rkey(r))
            .and_then(|m| m.get(&key))
            .cloned()
        else {
            return Err(errors::not_found(r, name));
        };
        if let Some(uid) = opts.uid.as_deref()
            && uid != meta::uid(&old)
        {
            return Err(errors::uid_precondition_failed(
                r,
                name,
                uid,
                meta::uid(&old),
            ));
        }
        if let Some(rv) = opts.resource_version.as_deref()
            && rv != meta::resource_version(&old)
        {
            return Err(errors::resource_version_precondition_failed(
                r,
                name,
                rv,
                meta::resource_version(&old),
            ));
        }
        let finalizers = meta::finalizers(&old);
        let namespace_finalizer = r.group.is_empty()
            && r.resource == "namespaces"
            && old["spec"]["finalizers"]
                .as_array()
                .is_some_and(|f| !f.is_empty());
        if finalizers.is_empty() && !namespace_finalizer {
            if dry_run {
                return Ok(Deleted::Gone(old));
            }
            return self.remove(r, &key, old.clone()).map(Deleted::Gone);
        }
        if meta::is_deleting(&old) {
            return Ok(Deleted::Pending(old));
        }
        let mut obj = old.clone();
        let grace = opts.grace_period_seconds.unwrap_or(0).max(0);
        let at = now_unix() + u64::try_from(grace).unwrap_or(0);
        let ts = k8s_openapi::jiff::Timestamp::from_second(i64::try_from(at).unwrap_or(0))
            .map(|t| json!(format_time(t)))
            .unwrap_or(Value::Null);
        meta::set(&mut obj, "deletionTimestamp", ts);
        meta::set(&mut obj, "deletionGracePeriodSeconds", json!(grace));
        if namespace_finalizer {
            obj["status"]["phase"] = json!("Terminating");
            if dry_run {
                // Nothing is stored: the namespace controller never sees the deletion.
                return Ok(if finalizers.is_empty() {
                    Deleted::Gone(obj)
                } else {
                    Deleted::Pending(obj)
                });
            }
            // The namespace controller empties the namespace, then removes its finalizer.
            self.delete_namespace_contents(name);
            if finalizers.is_empty() {
                return self.remove(r, &key, obj).map(Deleted::Gone);
            }
        }
        if dry_run {
            return Ok(Deleted::Pending(obj));
        }
        let rv = self.bump();
        meta::set(&mut obj, "resourceVersion", json!(rv.to_string()));
        self.objects
            .entry(rkey(r))
            .or_default()
            .insert(key, obj.clone());
        self.record(EventType::Modified, r, obj.clone(), Some(old));
        Ok(Deleted::Pending(obj))
    }

    // ---- namespaces, ServiceAccounts, the node ----

    fn core(resource: &str) -> &'static ResourceType {
        resources::find("", "v1", resource).unwrap_or(&RESOURCES[0])
    }

    /// Creates the namespace object if it does not exist yet, with a `default` ServiceAccount.
    pub fn ensure_namespace(&mut self, name: &str) {
        let r = Self::core("namespaces");
        if name.is_empty() || self.get(r, "", name).is_some() {
            return;
        }
        let _ = self.create(r, "", json!({"metadata": {"name": name}}), false);
    }

    fn ensure_node(&mut self) {
        let r = Self::core("nodes");
        if self.get(r, "", NODE_NAME).is_none() {
            let _ = self.create(r, "", defaults::node(), false);
        }
    }

    /// The bootstrap RBAC policy every cluster has (`plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go`):
    /// `cluster-admin` (everything) bound to `system:masters`, and `system:basic-user` (create
    /// SelfSubjectAccessReviews, SelfSubjectRulesReviews and SelfSubjectReviews, what `kubectl
    /// auth can-i` and `kubectl auth whoami` need) bound to `system:authenticated`.
    fn ensure_bootstrap_rbac(&mut self) {
        const G: &str = "rbac.authorization.k8s.io";
        let (Some(cr), Some(crb)) = (
            resources::find(G, "v1", "clusterroles"),
            resources::find(G, "v1", "clusterrolebindings"),
        ) else {
            return;
        };
        let meta = |name: &str| {
            json!({"name": name, "labels": {"kubernetes.io/bootstrapping": "rbac-defaults"},
                   "annotations": {"rbac.authorization.kubernetes.io/autoupdate": "true"}})
        };
        let roles = [
            json!({"metadata": meta("cluster-admin"), "rules": [
                {"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},
                {"nonResourceURLs": ["*"], "verbs": ["*"]},
            ]}),
            json!({"metadata": meta("system:basic-user"), "rules": [
                {"apiGroups": ["authorization.k8s.io"], "resources": ["selfsubjectaccessreviews", "selfsubjectrulesreviews"], "verbs": ["create"]},
                {"apiGroups": ["authentication.k8s.io"], "resources": ["selfsubjectreviews"], "verbs": ["create"]},
            ]}),
        ];
        let bindings = [
            json!({"metadata": meta("cluster-admin"),
                   "roleRef": {"apiGroup": G, "kind": "ClusterRole", "name": "cluster-admin"},
                   "subjects": [{"apiGroup": G, "kind": "Group", "name": "system:masters"}]}),
            json!({"metadata": meta("system:basic-user"),
                   "roleRef": {"apiGroup": G, "kind": "ClusterRole", "name": "system:basic-user"},
                   "subjects": [{"apiGroup": G, "kind": "Group", "name": "system:authenticated"}]}),
        ];
        for (r, objs) in [(cr, roles), (crb, bindings)] {
            for o in objs {
                let name = meta::name(&o).to_owned();
                if self.get(r, "", &name).is_none() {
                    let _ = self.create(r, "", o, false);
                }
            }
        }
    }

    /// A namespace by name.
    pub fn namespace(&self, name: &str) -> Option<Namespace> {
        self.get(Self::core("namespaces"), "", name)
            .and_then(|v| serde_json::from_value(v.clone()).ok())
    }

    /// Returns the ServiceAccount, creating it (and its namespace) if needed.
    pub fn ensure_service_account(&mut self, namespace: &str, name: &str) -> ServiceAccount {
        if let Some(sa) = self.service_account(namespace, name) {
            return sa;
        }
        let sa = json!({"metadata": {"name": name, "namespace": namespace}});
        match self.create(Self::core("serviceaccounts"), namespace, sa, false) {
            Ok(v) => serde_json::from_value(v).unwrap_or_default(),
            Err(_) => self.service_account(namespace, name).unwrap_or_default(),
        }
    }

    /// A ServiceAccount by namespace and name.
    pub fn service_account(&self, namespace: &str, name: &str) -> Option<ServiceAccount> {
        self.get(Self::core("serviceaccounts"), namespace, name)
            .and_then(|v| serde_json::from_value(v.clone()).ok())
    }

    // ---- pods, typed (the kubelet side of the emulator) ----

    /// Creates a pod in `namespace`, applying defaults and a running status (see
    /// [`DevCluster::create_pod`](crate::DevCluster::create_pod)); emits `ADDED`.
    ///
    /// # Errors
    /// As [`Store::create`].
    pub fn create_pod(&mut self, pod: Pod, namespace: &str) -> Result<Pod, Status> {
        let v = serde_json::to_value(pod).map_err(|e| Status::internal(&e.to_string()))?;
        let created = self.create(Self::core("pods"), namespace, v, false)?;
        serde_json::from_value(created).map_err(|e| Status::internal(&e.to_string()))
    }

    /// Replaces a pod (`namespace`/`name` from the request path); with `keep_status` the stored
    /// status is kept, as a PUT to the main resource does; otherwise the given status replaces
    /// it (a kubelet's write). Emits `MODIFIED`.
    ///
    /// # Errors
    /// As [`Store::update`].
    pub fn update_pod(
        &mut self,
        pod: Pod,
        namespace: &str,
        name: &str,
        keep_status: bool,
    ) -> Result<Pod, Status> {
        let r = Self::core("pods");
        let mut v = serde_json::to_value(pod).map_err(|e| Status::internal(&e.to_string()))?;
        if let Some(old) = self.get(r, namespace, name) {
            if v.get("spec").is_none() {
                v["spec"] = old["spec"].clone();
            }
            if v.get("status").is_none() {
                v["status"] = old["status"].clone();
            }
        }
        let part = if keep_status { Part::Main } else { Part::All };
        let updated = self.update(r, namespace, name, v, part, false)?;
        serde_json::from_value(updated).map_err(|e| Status::internal(&e.to_string()))
    }

    /// Deletes a pod immediately; emits `DELETED` with the pod at the deletion's RV.
    ///
    /// # Errors
    /// 404 NotFound.
    pub fn delete_pod(&mut self, namespace: &str, name: &str) -> Result<Pod, Status> {
        let r = Self::core("pods");
        let key = (namespace.to_owned(), name.to_owned());
        let Some(old) = self.get(r, namespace, name).cloned() else {
            return Err(errors::not_found(r, name));
        };
        let gone = self.remove(r, &key, old)?;
        serde_json::from_value(gone).map_err(|e| Status::internal(&e.to_string()))
    }

    /// A pod by namespace and name.
    pub fn pod(&self, namespace: &str, name: &str) -> Option<Pod> {
        self.get(Self::core("pods"), namespace, name)
            .and_then(|v| serde_json::from_value(v.clone()).ok())
    }

    /// The pods of `namespace` (all when `None`) as of resourceVersion `at`, typed.
    /// `Err(())` when `at` is older than [`Store::floor`].
    #[allow(clippy::result_unit_err)]
    pub fn pods_at(&self, namespace: Option<&str>, at: Option<u64>) -> Result<Vec<Pod>, ()> {
        Ok(self
            .list(Self::core("pods"), namespace, at)?
            .into_iter()
            .filter_map(|v| serde_json::from_value(v).ok())
            .collect())
    }
}

/// Fills in or checks `metadata.namespace` against the request's namespace; a cluster-scoped
/// object has none.
fn check_namespace(
    r: &'static ResourceType,
    obj: &mut Value,
    namespace: &str,
) -> Result<(), Status> {
    if !r.namespaced {
        meta::set(obj, "namespace", Value::Null);
        return Ok(());
    }
    match meta::namespace(obj) {
        "" => {
            meta::set(obj, "namespace", json!(namespace));
            Ok(())
        }
        ns if ns == namespace => Ok(()),
        _ => Err(Status::bad_request(
            "the namespace of the provided object does not match the namespace sent on the request",
        )),
    }
}
