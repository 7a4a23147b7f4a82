//! One cache: the objects of one resource in one namespace scope, the window of recent events,
//! and the reflector that keeps them with one upstream list+watch.
//!
//! Upstream: `staging/src/k8s.io/apiserver/pkg/storage/cacher/cacher.go` (`startCaching`: a
//! list, then a watch from its resourceVersion; when the reflector has to list again, every
//! watcher is terminated and re-watches, so none sees a gap), `watch_cache.go` (the bounded
//! window of events; a watch from a resourceVersion older than the window is
//! `too old resource version: RV (OLDEST)`; `Replace` empties the window at the list's
//! resourceVersion) and client-go `tools/cache/reflector.go` (`ListAndWatch`: pages of 500, a
//! watch with `allowWatchBookmarks` and a timeout of 5 to 10 minutes, re-watched from the last
//! resourceVersion when it ends, re-listed on 410 `Expired`; connection failures back off
//! from 800 ms to 30 s and keep the watchers).

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http::{Request, StatusCode, header};
use http_body_util::{BodyExt as _, Either, Empty};
use pod_introspect_apiserver::store::EventType;
use serde_json::Value;
use tokio::sync::{broadcast, watch};

use super::request::CacheKey;
use crate::proxy::metrics::{CacheLabels, ProxyMetrics};
use crate::proxy::upstream::{Upstream, error_chain};

/// client-go's reflector page size.
pub const LIST_PAGE_SIZE: u32 = 500;
/// The first and the longest pause between failed upstream requests (client-go's reflector
/// backoff: 800 ms doubling to 30 s).
pub const BACKOFF: (Duration, Duration) = (Duration::from_millis(800), Duration::from_secs(30));
/// The upstream watch's `timeoutSeconds` (client-go: random between 5 and 10 minutes).
pub const UPSTREAM_WATCH_SECONDS: u64 = 300;

/// One object as the cache holds it.
#[derive(Debug)]
pub struct CachedObject {
    /// The object, with `kind` and `apiVersion`.
    pub value: Value,
    /// Its JSON as a watch event carries it: `{"kind":K,"apiVersion":V,...}`.
    pub json: Bytes,
    /// Where the fields after `kind` and `apiVersion` start in `json`, for list items of
    /// built-in types, which the API server writes without them: the item is `{` followed by
    /// `json[item_from..]`. `None`: items keep `kind` and `apiVersion` (custom resources).
    pub item_from: Option<usize>,
    /// `metadata.resourceVersion`.
    pub rv: u64,
}

impl CachedObject {
    /// Builds the cached form of `value`, setting `kind` and `apiVersion` (list items lack
    /// them).
    fn new(mut value: Value, kind: &str, api_version: &str, strip_in_lists: bool) -> Self {
        let rv = resource_version(&value).unwrap_or(0);
        let mut rest = value.clone();
        if let Some(m) = rest.as_object_mut() {
            m.remove("kind");
            m.remove("apiVersion");
        }
        let rest = serde_json::to_vec(&rest).unwrap_or_else(|_| b"{}".to_vec());
        // The API server's field order: kind, apiVersion, then the rest.
        let head = format!(
            "{{\"kind\":{},\"apiVersion\":{}",
            Value::from(kind),
            Value::from(api_version)
        );
        let mut json = Vec::with_capacity(head.len() + rest.len() + 1);
        json.extend_from_slice(head.as_bytes());
        let item_from = if rest.len() > 2 {
            json.push(b',');
            let at = json.len();
            json.extend_from_slice(&rest[1..]);
            at
        } else {
            json.push(b'}');
            json.len() - 1
        };
        if let Some(m) = value.as_object_mut() {
            m.insert("kind".into(), Value::from(kind));
            m.insert("apiVersion".into(), Value::from(api_version));
        }
        CachedObject {
            value,
            json: Bytes::from(json),
            item_from: strip_in_lists.then_some(item_from),
            rv,
        }
    }

    /// Appends the object as a list item.
    pub fn write_item(&self, out: &mut Vec<u8>) {
        match self.item_from {
            Some(from) => {
                out.push(b'{');
                out.extend_from_slice(&self.json[from..]);
            }
            None => out.extend_from_slice(&self.json),
        }
    }

    /// The watch event line `{"type":T,"object":O}\n` carrying this object (the API server's
    /// watch encoding, `endpoints/handlers/watch.go`).
    pub fn watch_line(&self, event_type: &str) -> Bytes {
        let mut line = Vec::with_capacity(self.json.len() + 32);
        line.extend_from_slice(b"{\"type\":\"");
        line.extend_from_slice(event_type.as_bytes());
        line.extend_from_slice(b"\",\"object\":");
        line.extend_from_slice(&self.json);
        line.extend_from_slice(b"}\n");
        Bytes::from(line)
    }
}

/// The JSON lines of one [`CacheEvent`], encoded once by the first watcher that sends the
/// event with that type and shared by the others (a filtered watcher may see a `MODIFIED` as
/// `ADDED` or `DELETED`).
#[derive(Debug, Default)]
pub struct EventLines {
    added: OnceLock<Bytes>,
    modified: OnceLock<Bytes>,
    deleted: OnceLock<Bytes>,
}

impl EventLines {
    /// The line of `object` as an event of `event_type` (`ADDED`, `MODIFIED`, `DELETED`).
    pub fn get(&self, event_type: &str, object: &CachedObject) -> Bytes {
        let slot = match event_type {
            "ADDED" => &self.added,
            "MODIFIED" => &self.modified,
            "DELETED" => &self.deleted,
            other => return object.watch_line(other),
        };
        slot.get_or_init(|| object.watch_line(event_type)).clone()
    }
}

/// One change (or, without `change`, a bookmark: the cache has reached `rv`).
#[derive(Debug)]
pub struct CacheEvent {
    /// The resourceVersion of the change.
    pub rv: u64,
    /// `ADDED`, `MODIFIED`, `DELETED`; `None` for progress.
    pub change: Option<EventType>,
    /// The object after the change (its last state for `DELETED`).
    pub object: Option<Arc<CachedObject>>,
    /// The object before the change, for filters that it stops or starts matching.
    pub prev: Option<Arc<CachedObject>>,
    /// Its JSON lines.
    pub lines: EventLines,
}

/// Whether the cache can answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Readiness {
    /// Listing.
    Pending,
    /// Holds a list and follows the watch.
    Ready,
    /// The last list failed (its error reaches clients whose requests pass through).
    Failed,
}

/// The cache's state, under one lock.
#[derive(Debug)]
pub struct State {
    /// Objects by (namespace, name), in the API server's list order.
    pub objects: BTreeMap<(String, String), Arc<CachedObject>>,
    /// The latest events, oldest first.
    pub window: VecDeque<Arc<CacheEvent>>,
    /// Watches from this resourceVersion or newer can be served from the window.
    pub floor: u64,
    /// The cache's resourceVersion.
    pub rv: u64,
    /// New events, to every watcher. Replaced (ending every watch) on a re-list.
    pub events: broadcast::Sender<Arc<CacheEvent>>,
    /// `PodList`.
    pub list_kind: String,
    /// `Pod`.
    pub kind: String,
    /// `v1`.
    pub api_version: String,
}

/// One cache and its reflector.
#[derive(Debug)]
pub struct Cacher {
    /// What it caches.
    pub key: CacheKey,
    /// Its metric labels.
    pub labels: CacheLabels,
    state: Mutex<State>,
    /// Readiness and the cache's resourceVersion, for waiters.
    progress: watch::Sender<(Readiness, u64)>,
    capacity: usize,
    metrics: ProxyMetrics,
}

impl Cacher {
    /// A cache of `key` holding `capacity` events (at least 1), not yet started.
    pub fn new(key: CacheKey, capacity: usize, metrics: ProxyMetrics) -> Arc<Cacher> {
        let labels = CacheLabels {
            resource: key.resource_name(),
            namespace: key.namespace.clone().unwrap_or_default(),
        };
        let capacity = capacity.max(1);
        Arc::new(Cacher {
            labels,
            state: Mutex::new(State {
                objects: BTreeMap::new(),
                window: VecDeque::new(),
                floor: 0,
                rv: 0,
                events: broadcast::channel(capacity.max(1024)).0,
                list_kind: String::new(),
                kind: String::new(),
                api_version: String::new(),
            }),
            progress: watch::channel((Readiness::Pending, 0)).0,
            key,
            capacity,
            metrics,
        })
    }

    /// The labels of `pod_introspect_proxy_cache_requests_total` for `verb` (`list`, `watch`).
    pub fn request_labels(&self, verb: &str) -> crate::proxy::metrics::CacheRequestLabels {
        crate::proxy::metrics::CacheRequestLabels {
            resource: self.labels.resource.clone(),
            namespace: self.labels.namespace.clone(),
            verb: verb.into(),
        }
    }

    /// The state, locked (a poisoned lock is taken as is: every update leaves it consistent).
    pub fn lock(&self) -> MutexGuard<'_, State> {
        match self.state.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    /// Waits up to `limit` for the first list; true when the cache is ready.
    pub async fn wait_ready(&self, limit: Duration) -> bool {
        let mut rx = self.progress.subscribe();
        let ready =
            tokio::time::timeout(limit, rx.wait_for(|(r, _)| *r != Readiness::Pending)).await;
        matches!(ready, Ok(Ok(r)) if r.0 == Readiness::Ready)
    }

    /// Waits up to `limit` for the cache to reach `rv`; the cache's resourceVersion then
    /// (`Err`: still older, for the 504 `Too large resource version`).
    pub async fn wait_for_rv(&self, rv: u64, limit: Duration) -> Result<u64, u64> {
        let mut rx = self.progress.subscribe();
        let reached = tokio::time::timeout(limit, rx.wait_for(|(_, at)| *at >= rv)).await;
        let now = self.progress.borrow().1;
        match reached {
            Ok(Ok(_)) => Ok(now),
            _ => Err(now),
        }
    }

    /// The reflector: list, watch, re-watch, re-list, until the process ends.
    pub async fn run(self: Arc<Self>, upstream: Arc<Upstream>) {
        let mut backoff = BACKOFF.0;
        loop {
            self.progress.send_modify(|p| p.0 = Readiness::Pending);
            match self.list(&upstream).await {
                Ok(()) => backoff = BACKOFF.0,
                Err(why) => {
                    tracing::warn!(resource = %self.labels.resource, namespace = %self.labels.namespace, "watch cache: list failed: {why}; retrying in {backoff:?}");
                    self.progress.send_modify(|p| p.0 = Readiness::Failed);
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(BACKOFF.1);
                    continue;
                }
            }
            // Watch until the window cannot continue.
            loop {
                match self.watch(&upstream).await {
                    WatchEnd::Rewatch => backoff = BACKOFF.0,
                    WatchEnd::Unreachable(why) => {
                        tracing::debug!(resource = %self.labels.resource, "watch cache: watch failed: {why}; re-watching in {backoff:?}");
                        tokio::time::sleep(backoff).await;
                        backoff = (backoff * 2).min(BACKOFF.1);
                    }
                    WatchEnd::Relist(why) => {
                        tracing::info!(resource = %self.labels.resource, namespace = %self.labels.namespace, "watch cache: listing again: {why}");
                        break;
                    }
                }
            }
        }
    }

    /// Lists every page and replaces the cache; ends every open client watch.
    async fn list(&self, upstream: &Upstream) -> Result<(), String> {
        let mut items = Vec::new();
        let mut cont = String::new();
        let (mut list_kind, mut api_version, mut rv) = (String::new(), String::new(), 0);
        loop {
            let mut target = format!("{}?limit={LIST_PAGE_SIZE}", self.key.path());
            if !cont.is_empty() {
                target.push_str("&continue=");
                target.push_str(&pod_introspect_kube::percent::encode_component(&cont));
            }
            let resp = get(upstream, &target).await?;
            let status = resp.status();
            let body = resp
                .into_body()
                .collect()
                .await
                .map_err(|e| format!("reading the list: {}", error_chain(&e)))?
                .to_bytes();
            if status != StatusCode::OK {
                return Err(format!(
                    "GET {target}: {status}: {}",
                    String::from_utf8_lossy(&body[..body.len().min(400)])
                ));
            }
            let mut page: Value = serde_json::from_slice(&body)
                .map_err(|e| format!("GET {target}: the list is not JSON: {e}"))?;
            if list_kind.is_empty() {
                list_kind = page["kind"].as_str().unwrap_or_default().to_owned();
                api_version = page["apiVersion"].as_str().unwrap_or_default().to_owned();
                rv = resource_version(&page).ok_or_else(|| {
                    format!("GET {target}: the list has no numeric metadata.resourceVersion")
                })?;
            }
            if let Some(Value::Array(page_items)) = page.get_mut("items").map(Value::take) {
                items.extend(page_items);
            }
            cont = page["metadata"]["continue"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            if cont.is_empty() {
                break;
            }
        }
        let kind = list_kind
            .strip_suffix("List")
            .unwrap_or(&list_kind)
            .to_owned();
        let strip = self.key.resource_type().is_some();
        let objects: BTreeMap<_, _> = items
            .into_iter()
            .map(|o| {
                let key = object_key(&o);
                (
                    key,
                    Arc::new(CachedObject::new(o, &kind, &api_version, strip)),
                )
            })
            .collect();
        let count = objects.len();
        {
            let mut st = self.lock();
            st.objects = objects;
            st.window.clear();
            st.floor = rv;
            st.rv = rv;
            st.list_kind = list_kind;
            st.kind = kind;
            st.api_version = api_version;
            // Dropping the old sender ends every client watch: they re-watch from their last
            // resourceVersion and get the window or a 410 (cacher.go terminateAllWatchers).
            st.events = broadcast::channel(self.capacity.max(1024)).0;
        }
        self.metrics
            .cache_objects
            .get_or_create(&self.labels)
            .set(count as i64);
        self.metrics.relists.get_or_create(&self.labels).inc();
        self.progress.send_replace((Readiness::Ready, rv));
        Ok(())
    }

    /// One upstream watch from the cache's resourceVersion, applied as it streams.
    async fn watch(&self, upstream: &Upstream) -> WatchEnd {
        let from = self.lock().rv;
        let target = format!(
            "{}?watch=true&allowWatchBookmarks=true&resourceVersion={from}&timeoutSeconds={UPSTREAM_WATCH_SECONDS}",
            self.key.path()
        );
        let resp = match get(upstream, &target).await {
            Ok(r) => r,
            Err(why) => return WatchEnd::Unreachable(why),
        };
        match resp.status() {
            StatusCode::OK => {}
            StatusCode::GONE => return WatchEnd::Relist("the watch answered 410 Gone".into()),
            other => return WatchEnd::Relist(format!("the watch answered {other}")),
        }
        let gauge = self
            .metrics
            .upstream_watches
            .get_or_create(&self.labels)
            .clone();
        gauge.inc();
        let _open = scopeguard(move || {
            gauge.dec();
        });
        let mut body = resp.into_body();
        let mut buf = BytesMut::new();
        loop {
            let frame = match body.frame().await {
                None => return WatchEnd::Rewatch,
                Some(Err(e)) => return WatchEnd::Unreachable(error_chain(&e)),
                Some(Ok(f)) => f,
            };
            let Ok(data) = frame.into_data() else {
                continue;
            };
            buf.extend_from_slice(&data);
            while let Some(nl) = buf.iter().position(|b| *b == b'\n') {
                let line = buf.split_to(nl + 1);
                let line = &line[..nl];
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                if let Err(end) = self.apply_line(line) {
                    return end;
                }
            }
        }
    }

    /// Applies one watch line.
    fn apply_line(&self, line: &[u8]) -> Result<(), WatchEnd> {
        let mut event: Value = serde_json::from_slice(line)
            .map_err(|e| WatchEnd::Relist(format!("a watch event is not JSON: {e}")))?;
        let object = event["object"].take();
        let change = match event["type"].as_str().unwrap_or_default() {
            "ADDED" => EventType::Added,
            "MODIFIED" => EventType::Modified,
            "DELETED" => EventType::Deleted,
            "BOOKMARK" => {
                let rv = resource_version(&object).ok_or_else(|| {
                    WatchEnd::Relist("a bookmark without a resourceVersion".into())
                })?;
                let mut st = self.lock();
                self.advance(
                    &mut st,
                    Arc::new(CacheEvent {
                        rv,
                        change: None,
                        object: None,
                        prev: None,
                        lines: EventLines::default(),
                    }),
                );
                return Ok(());
            }
            "ERROR" => {
                let code = object["code"].as_u64().unwrap_or(500);
                let message = object["message"].as_str().unwrap_or_default();
                return Err(WatchEnd::Relist(format!(
                    "the watch sent ERROR {code}: {message}"
                )));
            }
            other => {
                return Err(WatchEnd::Relist(format!(
                    "unknown watch event type {other:?}"
                )));
            }
        };
        let rv = resource_version(&object)
            .ok_or_else(|| WatchEnd::Relist("an event without a resourceVersion".into()))?;
        let key = object_key(&object);
        let strip = self.key.resource_type().is_some();
        // One critical section from the map to the broadcast: a watcher that takes its
        // snapshot under this lock sees the change either in the snapshot or as an event,
        // never both, never neither.
        let mut st = self.lock();
        if rv <= st.rv {
            // Already applied: a duplicate must never reach clients twice.
            return Ok(());
        }
        let cached = Arc::new(CachedObject::new(object, &st.kind, &st.api_version, strip));
        let prev = match change {
            EventType::Deleted => st.objects.remove(&key),
            _ => st.objects.insert(key, cached.clone()),
        };
        let count = st.objects.len();
        self.advance(
            &mut st,
            Arc::new(CacheEvent {
                rv,
                change: Some(change),
                object: Some(cached),
                prev,
                lines: EventLines::default(),
            }),
        );
        drop(st);
        self.metrics
            .cache_objects
            .get_or_create(&self.labels)
            .set(count as i64);
        Ok(())
    }

    /// Records `event` in the window (changes only), moves the cache's resourceVersion and
    /// hands the event to every watcher; under the state lock.
    fn advance(&self, st: &mut State, event: Arc<CacheEvent>) {
        if event.rv <= st.rv {
            return;
        }
        st.rv = event.rv;
        if event.change.is_some() {
            st.window.push_back(event.clone());
            while st.window.len() > self.capacity {
                if let Some(old) = st.window.pop_front() {
                    st.floor = old.rv;
                }
            }
        }
        let rv = event.rv;
        let _ = st.events.send(event);
        self.progress.send_modify(|p| p.1 = rv);
    }
}

/// Why an upstream watch ended.
#[derive(Debug)]
enum WatchEnd {
    /// Normally (its timeout): watch again from the cache's resourceVersion.
    Rewatch,
    /// The API server could not be reached or the stream broke: watch again after a pause.
    Unreachable(String),
    /// The window cannot continue (410, an ERROR event, a bad event): list again.
    Relist(String),
}

/// `GET target` with the proxy's credentials, JSON; a 401 re-reads the token and retries once.
async fn get(
    upstream: &Upstream,
    target: &str,
) -> Result<http::Response<crate::proxy::upstream::UpstreamIncoming>, String> {
    let build = |auth: Option<&http::HeaderValue>| -> Result<Request<_>, String> {
        let uri = upstream.uri_for(target).map_err(|e| e.to_string())?;
        let mut req = Request::get(uri)
            .header(header::ACCEPT, "application/json")
            .header(
                header::USER_AGENT,
                concat!(
                    "pod-introspect/",
                    env!("CARGO_PKG_VERSION"),
                    " (watch cache)"
                ),
            )
            .body(Either::Right(Empty::new()))
            .map_err(|e| e.to_string())?;
        if let Some(a) = auth {
            req.headers_mut().insert(header::AUTHORIZATION, a.clone());
        }
        Ok(req)
    };
    let auth = upstream.authorization().map_err(|e| e.to_string())?;
    let resp = upstream
        .send(build(auth.as_ref())?)
        .await
        .map_err(|e| error_chain(&e))?;
    if resp.status() == StatusCode::UNAUTHORIZED
        && let Some(sent) = &auth
        && let Some(fresh) = upstream.refresh_after_401(sent)
    {
        return upstream
            .send(build(Some(&fresh))?)
            .await
            .map_err(|e| error_chain(&e));
    }
    Ok(resp)
}

/// `metadata.resourceVersion` as a number (etcd's revision; the cacher parses it the same way).
pub fn resource_version(obj: &Value) -> Option<u64> {
    obj["metadata"]["resourceVersion"].as_str()?.parse().ok()
}

fn object_key(obj: &Value) -> (String, String) {
    let m = &obj["metadata"];
    (
        m["namespace"].as_str().unwrap_or_default().to_owned(),
        m["name"].as_str().unwrap_or_default().to_owned(),
    )
}

/// Runs `f` when dropped.
fn scopeguard(f: impl FnOnce()) -> impl Drop {
    struct Guard<F: FnOnce()>(Option<F>);
    impl<F: FnOnce()> Drop for Guard<F> {
        fn drop(&mut self) {
            if let Some(f) = self.0.take() {
                f();
            }
        }
    }
    Guard(Some(f))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cached_objects_write_events_with_kind_and_items_without() {
        let pod = serde_json::json!({
            "metadata": {"name": "web", "namespace": "a", "resourceVersion": "7"},
            "spec": {"nodeName": "n1"}
        });
        let c = CachedObject::new(pod.clone(), "Pod", "v1", true);
        assert_eq!(c.rv, 7);
        assert_eq!(
            std::str::from_utf8(&c.json).unwrap(),
            r#"{"kind":"Pod","apiVersion":"v1","metadata":{"name":"web","namespace":"a","resourceVersion":"7"},"spec":{"nodeName":"n1"}}"#
        );
        let mut item = Vec::new();
        c.write_item(&mut item);
        let item: Value = serde_json::from_slice(&item).unwrap();
        assert_eq!(item, pod);
        let crd = CachedObject::new(pod, "Widget", "example.com/v1", false);
        let mut item = Vec::new();
        crd.write_item(&mut item);
        let item: Value = serde_json::from_slice(&item).unwrap();
        assert_eq!(item["kind"], "Widget");
        let empty = CachedObject::new(serde_json::json!({}), "Pod", "v1", true);
        let mut item = Vec::new();
        empty.write_item(&mut item);
        assert_eq!(item, b"{}");
        assert_eq!(&empty.json[..], br#"{"kind":"Pod","apiVersion":"v1"}"#);
    }
}
