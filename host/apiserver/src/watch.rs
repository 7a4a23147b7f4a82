//! Watch streams: `?watch=true` on a pod collection.
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
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::{Value, json};
use tokio::sync::{broadcast, mpsc};

use crate::selectors::{FieldSelector, LabelSelector, pod_field};
use crate::status::Status;
use crate::store::{EventType, PodEvent, Store};
use crate::table::{IncludeObject, pods_table};

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

/// A parsed watch request.
#[derive(Debug, Clone)]
pub struct WatchRequest {
    /// Only pods in this namespace (`None`: all namespaces).
    pub namespace: Option<String>,
    /// `labelSelector`.
    pub labels: LabelSelector,
    /// `fieldSelector`.
    pub fields: FieldSelector,
    /// `resourceVersion`; `None` for absent or `"0"` (start with the current state).
    pub resource_version: Option<u64>,
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
    fn matches(&self, pod: &Pod) -> bool {
        self.namespace
            .as_deref()
            .is_none_or(|ns| pod.metadata.namespace.as_deref() == Some(ns))
            && self.labels.matches(pod.metadata.labels.as_ref())
            && self.fields.matches(|f| pod_field(pod, f))
    }

    /// What this watcher sees of `event`, if anything.
    fn translate<'a>(&self, event: &'a PodEvent) -> Option<(&'static str, &'a Pod)> {
        let now = self.matches(&event.pod);
        let before = event.prev.as_ref().map(|p| self.matches(p));
        match event.kind {
            EventType::Added => now.then_some(("ADDED", &event.pod)),
            EventType::Deleted => (before.unwrap_or(now)).then_some(("DELETED", &event.pod)),
            EventType::Modified => match (before.unwrap_or(false), now) {
                (true, true) => Some(("MODIFIED", &event.pod)),
                (false, true) => Some(("ADDED", &event.pod)),
                (true, false) => Some(("DELETED", &event.pod)),
                (false, false) => None,
            },
        }
    }

    fn encode_pod(&self, kind: &str, pod: &Pod) -> Bytes {
        let object = match self.table {
            Some(include) => pods_table(
                std::slice::from_ref(pod),
                json!({"resourceVersion": pod.metadata.resource_version.clone().unwrap_or_default()}),
                include,
            ),
            None => serde_json::to_value(pod).unwrap_or(Value::Null),
        };
        encode_event(kind, object)
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

fn bookmark(rv: u64) -> Bytes {
    let pod = Pod {
        metadata: ObjectMeta {
            resource_version: Some(rv.to_string()),
            ..Default::default()
        },
        ..Default::default()
    };
    encode_event("BOOKMARK", serde_json::to_value(pod).unwrap_or(Value::Null))
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
/// event is lost or repeated), then spawns the task that feeds the body.
pub fn start(store: &Mutex<Store>, req: WatchRequest) -> WatchStart {
    let (initial, mut events, mut progress) = {
        let store = match store.lock() {
            Ok(s) => s,
            Err(poisoned) => poisoned.into_inner(),
        };
        let current = store.resource_version();
        let initial: Vec<Bytes> = match req.resource_version {
            None => store
                .pods_at(req.namespace.as_deref(), None)
                .unwrap_or_default()
                .iter()
                .filter(|p| req.matches(p))
                .map(|p| req.encode_pod("ADDED", p))
                .collect(),
            Some(rv) if rv < store.floor() => {
                return WatchStart::TooOld(Status::too_old_resource_version(rv, store.floor()));
            }
            Some(rv) => store
                .events_since(rv)
                .iter()
                .filter_map(|e| req.translate(e).map(|(k, p)| req.encode_pod(k, p)))
                .collect(),
        };
        (initial, store.subscribe(), current)
    };
    let (tx, rx) = mpsc::channel::<Bytes>(64);
    tokio::spawn(async move {
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
                        if let Some((kind, pod)) = req.translate(&event)
                            && tx.send(req.encode_pod(kind, pod)).await.is_err()
                        {
                            return;
                        }
                    }
                    // Too slow a reader: end the stream, as the real server closes a watch
                    // whose buffer overflows; the client re-watches from its last RV.
                    Err(broadcast::error::RecvError::Lagged(_)) | Err(broadcast::error::RecvError::Closed) => return,
                },
                _ = ticker.tick(), if req.bookmarks => {
                    if tx.send(bookmark(progress)).await.is_err() {
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
