//! Watch streams: `?watch=true` on any collection.
//!
//! Wire format (`staging/src/k8s.io/apiserver/pkg/endpoints/handlers/watch.go`): a chunked
//! `200` body of newline-terminated JSON objects `{"type":"ADDED|MODIFIED|DELETED|BOOKMARK|ERROR",
//! "object":{...}}`, each its own HTTP body frame. Semantics follow the watch cache
//! (`staging/src/k8s.io/apiserver/pkg/storage/cacher`): without a resourceVersion (or with `0`)
//! the current objects come first as synthetic `ADDED` events; from a resourceVersion, the kept
//! events after it; an older one gets `ERROR` with a 410 `Expired` Status
//! (`too old resource version: RV (OLDEST)`). Objects that start or stop matching the
//! selectors arrive as `ADDED` / `DELETED`, like the cacher's filtering. Bookmarks carry a
//! pod with only `metadata.resourceVersion`.

use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use serde_json::{Value, json};
use tokio::sync::{broadcast, mpsc};

use crate::metrics::LongRunningGuard;
use crate::resources::{self, ResourceType};
use crate::selectors::{FieldSelector, LabelSelector};
use crate::status::Status;
use crate::store::{Event, EventType, Store, meta};
use crate::table::IncludeObject;
use crate::views;

/// A response body fed by a channel, one frame per message.
#[derive(Debug)]
pub struct ChannelBody {
    rx: mpsc::Receiver<Bytes>,
}

impl Body for ChannelBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        self.rx.poll_recv(cx).map(|m| m.map(|b| Ok(Frame::data(b))))
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}

/// The annotation that marks the end of a streaming list's initial events.
pub const INITIAL_EVENTS_END: &str = "k8s.io/initial-events-end";

/// A parsed watch request.
#[derive(Debug, Clone)]
pub struct WatchRequest {
    /// The watched resource (as the path names it: a view for events.k8s.io events).
    pub resource: &'static ResourceType,
    /// Only objects in this namespace (`None`: all namespaces).
    pub namespace: Option<String>,
    /// `labelSelector`.
    pub labels: LabelSelector,
    /// `fieldSelector`.
    pub fields: FieldSelector,
    /// `resourceVersion`; `None` for absent or `"0"` (start with the current state).
    pub resource_version: Option<u64>,
    /// `sendInitialEvents=true` (a streaming list).
    pub send_initial_events: bool,
    /// `allowWatchBookmarks=true`.
    pub bookmarks: bool,
    /// `timeoutSeconds`, or the server's default.
    pub timeout: Duration,
    /// How often to send a bookmark.
    pub bookmark_interval: Duration,
    /// Encode objects as one-row `Table`s (kubectl `get -w`).
    pub table: Option<IncludeObject>,
}

impl WatchRequest {
    /// True when the (view) object is selected by this watch.
    pub fn matches(&self, obj: &Value) -> bool {
        self.namespace
            .as_deref()
            .is_none_or(|ns| meta::namespace(obj) == ns)
            && crate::selectors::selects(Some(self.resource), &self.labels, &self.fields, obj)
    }

    /// What this watcher sees of `event`, if anything: the type and the object as the watched
    /// resource serves it.
    fn translate(&self, event: &Event) -> Option<(&'static str, Value)> {
        if !std::ptr::eq(event.resource, resources::storage_of(self.resource)) {
            return None;
        }
        let obj = views::to_view(self.resource, event.object.clone());
        let now = self.matches(&obj);
        let before = event
            .prev
            .as_ref()
            .map(|p| self.matches(&views::to_view(self.resource, p.clone())));
        Some((filtered_type(event.kind, before, now)?, obj))
    }

    fn encode(&self, kind: &str, obj: Value) -> Bytes {
        let object = match self.table {
            Some(include) => {
                let rv = meta::resource_version(&obj).to_owned();
                crate::table::table(
                    self.resource,
                    std::slice::from_ref(&obj),
                    json!({"resourceVersion": rv}),
                    include,
                )
            }
            None => obj,
        };
        encode_event(kind, object)
    }

    fn bookmark(&self, rv: u64, initial_events_end: bool) -> Bytes {
        let mut metadata = json!({"resourceVersion": rv.to_string()});
        if initial_events_end {
            metadata["annotations"] = json!({INITIAL_EVENTS_END: "true"});
        }
        encode_event(
            "BOOKMARK",
            json!({"kind": self.resource.kind, "apiVersion": self.resource.api_version(), "metadata": metadata}),
        )
    }
}

/// The type a filtered watcher sees for a change of kind `kind`, given whether the object
/// matched its filter before (`None`: no previous state) and matches now: `None` when it sees
/// nothing. An object that starts matching arrives as `ADDED`, one that stops as `DELETED`
/// (`staging/src/k8s.io/apiserver/pkg/storage/cacher/cache_watcher.go`
/// `convertToWatchEvent`). The ambassador's watch cache applies the same rule.
pub fn filtered_type(kind: EventType, before: Option<bool>, now: bool) -> Option<&'static str> {
    match kind {
        EventType::Added => now.then_some("ADDED"),
        EventType::Deleted => (before.unwrap_or(now)).then_some("DELETED"),
        EventType::Modified => match (before.unwrap_or(false), now) {
            (true, true) => Some("MODIFIED"),
            (false, true) => Some("ADDED"),
            (true, false) => Some("DELETED"),
            (false, false) => None,
        },
    }
}

/// One event line: `{"type":T,"object":O}\n`.
pub fn encode_event(kind: &str, object: Value) -> Bytes {
    let mut line = serde_json::to_vec(&json!({"type": kind, "object": object})).unwrap_or_default();
    line.push(b'\n');
    Bytes::from(line)
}

/// The `ERROR` event line carrying `status`.
pub fn error_event(status: &Status) -> Bytes {
    encode_event("ERROR", serde_json::to_value(status).unwrap_or(Value::Null))
}

/// How a watch starts.
#[derive(Debug)]
pub enum WatchStart {
    /// The resourceVersion is older than the kept history: this 410 Status.
    TooOld(Status),
    /// The stream body.
    Stream(ChannelBody),
}

/// Starts a watch: takes the initial events and a subscription under the store lock (so no
/// event is lost or repeated), then spawns the task that feeds the body. `open` counts the
/// watch in `apiserver_longrunning_requests` until the stream ends.
pub fn start(store: &Mutex<Store>, req: WatchRequest, open: LongRunningGuard) -> WatchStart {
    let (initial, mut events, mut progress) = {
        let store = match store.lock() {
            Ok(s) => s,
            Err(poisoned) => poisoned.into_inner(),
        };
        let current = store.resource_version();
        let storage = resources::storage_of(req.resource);
        let snapshot = |store: &Store| -> Vec<Bytes> {
            store
                .list(storage, req.namespace.as_deref(), None)
                .unwrap_or_default()
                .into_iter()
                .map(|o| views::to_view(req.resource, o))
                .filter(|o| req.matches(o))
                .map(|o| req.encode("ADDED", o))
                .collect()
        };
        let mut initial: Vec<Bytes> = match req.resource_version {
            _ if req.send_initial_events => snapshot(&store),
            None => snapshot(&store),
            Some(rv) if rv < store.floor() => {
                return WatchStart::TooOld(Status::too_old_resource_version(rv, store.floor()));
            }
            Some(rv) => store
                .events_since(rv)
                .iter()
                .filter_map(|e| req.translate(e).map(|(k, o)| req.encode(k, o)))
                .collect(),
        };
        if req.send_initial_events {
            initial.push(req.bookmark(current, true));
        }
        (initial, store.subscribe(), current)
    };
    let (tx, rx) = mpsc::channel::<Bytes>(64);
    tokio::spawn(async move {
        let _open = open;
        for line in initial {
            if tx.send(line).await.is_err() {
                return;
            }
        }
        let deadline = tokio::time::sleep(req.timeout);
        tokio::pin!(deadline);
        let period = req.bookmark_interval.max(Duration::from_millis(10));
        let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        loop {
            tokio::select! {
                biased;
                _ = tx.closed() => return,
                _ = &mut deadline => return,
                received = events.recv() => match received {
                    Ok(event) => {
                        if event.rv <= progress {
                            continue;
                        }
                        progress = event.rv;
                        if let Some((kind, obj)) = req.translate(&event)
                            && tx.send(req.encode(kind, obj)).await.is_err()
                        {
                            return;
                        }
                    }
                    // Too slow a reader: end the stream, as the real server closes a watch
                    // whose buffer overflows; the client re-watches from its last RV.
                    Err(broadcast::error::RecvError::Lagged(_)) | Err(broadcast::error::RecvError::Closed) => return,
                },
                _ = ticker.tick(), if req.bookmarks => {
                    if tx.send(req.bookmark(progress, false)).await.is_err() {
                        return;
                    }
                }
            }
        }
    });
    WatchStart::Stream(ChannelBody { rx })
}

/// A body that sends `line` then ends (the in-stream 410).
pub fn single_line_body(line: Bytes) -> ChannelBody {
    let (tx, rx) = mpsc::channel(1);
    let _ = tx.try_send(line);
    ChannelBody { rx }
}
