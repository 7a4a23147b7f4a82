//! Answers from a cache: lists, and watch streams fed by the cache's events.
//!
//! Upstream: `staging/src/k8s.io/apiserver/pkg/storage/cacher/cacher.go` (`GetList` from the
//! cache: every matching object, `limit` ignored, the list's resourceVersion is the cache's;
//! `Watch`: the initial events, then the events after the start, each filtered;
//! `waitUntilFreshAndBlock`: a resourceVersion the cache has not reached is waited for up to
//! 3 s, then `Too large resource version`), `cache_watcher.go` (`convertToWatchEvent`,
//! `processInterval`: bookmarks carry the cache's resourceVersion; a watcher that cannot keep
//! up is closed and re-watches; with `sendInitialEvents` the initial events end with a bookmark
//! annotated `k8s.io/initial-events-end: "true"`) and
//! `staging/src/k8s.io/apiserver/pkg/endpoints/handlers/watch.go` (one JSON event per line).

use std::convert::Infallible;
use std::future::Future as _;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use http_body::Frame;
use pod_introspect_apiserver::table::{self, IncludeObject};
use pod_introspect_apiserver::watch::{INITIAL_EVENTS_END, encode_event, filtered_type};
use pod_introspect_kube::status::Status;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use serde_json::{Value, json};
use tokio::sync::broadcast;
use tokio_util::sync::ReusableBoxFuture;

use super::cacher::{CacheEvent, CachedObject, Cacher};
use super::request::{Selection, WatchStart};
use crate::proxy::forward::ProxyBody;
use crate::proxy::metrics::ProxyMetrics;

/// How long a request waits for the cache to reach its resourceVersion
/// (`blockTimeout` in `watch_cache.go`).
pub const FRESHNESS_WAIT: Duration = Duration::from_secs(3);
/// kube-apiserver's default watch timeout (`--min-request-timeout`).
pub const DEFAULT_WATCH_TIMEOUT: Duration = Duration::from_secs(1800);

const JSON: &str = "application/json";
const TABLE_JSON: &str = "application/json;as=Table;v=v1;g=meta.k8s.io";

/// The answer to a list from the cache.
pub async fn list(
    cacher: &Cacher,
    selection: &Selection,
    not_older_than: u64,
    table: Option<IncludeObject>,
    metrics: &ProxyMetrics,
) -> Response<ProxyBody> {
    if not_older_than > 0
        && let Err(current) = cacher.wait_for_rv(not_older_than, FRESHNESS_WAIT).await
    {
        return status_response(&Status::too_large_resource_version(not_older_than, current));
    }
    metrics
        .cache_requests
        .get_or_create(&cacher.request_labels("list"))
        .inc();
    let st = cacher.lock();
    let selected = st.objects.values().filter(|o| selection.matches(&o.value));
    if let (Some(include), Some(rt)) = (table, cacher.key.resource_type()) {
        let objects: Vec<Value> = selected.map(|o| o.value.clone()).collect();
        let rv = st.rv;
        drop(st);
        let t = table::table(
            rt,
            &objects,
            json!({"resourceVersion": rv.to_string()}),
            include,
        );
        return body_response(
            TABLE_JSON,
            Bytes::from(serde_json::to_vec(&t).unwrap_or_default()),
        );
    }
    let mut out = Vec::with_capacity(64 + st.objects.len() * 512);
    out.extend_from_slice(b"{\"kind\":");
    out.extend_from_slice(Value::from(st.list_kind.as_str()).to_string().as_bytes());
    out.extend_from_slice(b",\"apiVersion\":");
    out.extend_from_slice(Value::from(st.api_version.as_str()).to_string().as_bytes());
    out.extend_from_slice(b",\"metadata\":{\"resourceVersion\":\"");
    out.extend_from_slice(st.rv.to_string().as_bytes());
    out.extend_from_slice(b"\"},\"items\":[");
    for (i, o) in selected.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        o.write_item(&mut out);
    }
    out.extend_from_slice(b"]}\n");
    drop(st);
    body_response(JSON, Bytes::from(out))
}

/// What a watch stream needs besides the cache.
#[derive(Debug, Clone)]
pub struct WatchOptions {
    /// The filter.
    pub selection: Selection,
    /// Where it starts.
    pub start: WatchStart,
    /// `allowWatchBookmarks=true`.
    pub bookmarks: bool,
    /// How long it runs.
    pub timeout: Duration,
    /// One-row Tables (kubectl `get -w`).
    pub table: Option<IncludeObject>,
    /// How often bookmarks are sent.
    pub bookmark_interval: Duration,
}

/// Encodes events for one watcher.
struct Encoder {
    opts: WatchOptions,
    kind: String,
    api_version: String,
}

impl Encoder {
    fn event(&self, kind: &str, object: &CachedObject) -> Bytes {
        if let (Some(include), Some(rt)) = (self.opts.table, self.opts.selection.resource_type) {
            let t = table::table(
                rt,
                std::slice::from_ref(&object.value),
                json!({"resourceVersion": object.rv.to_string()}),
                include,
            );
            return encode_event(kind, t);
        }
        object.watch_line(kind)
    }

    fn bookmark(&self, rv: u64, initial_events_end: bool) -> Bytes {
        let mut metadata = json!({"resourceVersion": rv.to_string()});
        if initial_events_end {
            metadata["annotations"] = json!({INITIAL_EVENTS_END: "true"});
        }
        encode_event(
            "BOOKMARK",
            json!({"kind": self.kind, "apiVersion": self.api_version, "metadata": metadata}),
        )
    }

    /// What this watcher sees of `event`.
    fn change(&self, event: &CacheEvent) -> Option<Bytes> {
        let (change, object) = (event.change?, event.object.as_ref()?);
        let now = self.opts.selection.matches(&object.value);
        let before = event
            .prev
            .as_ref()
            .map(|p| self.opts.selection.matches(&p.value));
        let kind = filtered_type(change, before, now)?;
        // The object that stopped matching leaves with its new state, as the cacher sends it.
        if self.opts.table.is_some() {
            return Some(self.event(kind, object));
        }
        Some(event.lines.get(kind, object))
    }
}

/// The answer to a watch from the cache: a `200` stream, or a 504 when a WatchList's
/// resourceVersion is never reached.
pub async fn watch(
    cacher: Arc<Cacher>,
    opts: WatchOptions,
    metrics: ProxyMetrics,
) -> Response<ProxyBody> {
    if let WatchStart::InitialEvents(rv) = opts.start
        && rv > 0
        && let Err(current) = cacher.wait_for_rv(rv, FRESHNESS_WAIT).await
    {
        return status_response(&Status::too_large_resource_version(rv, current));
    }
    let (initial, rx, progress, enc) = {
        let st = cacher.lock();
        let enc = Encoder {
            opts: opts.clone(),
            kind: st.kind.clone(),
            api_version: st.api_version.clone(),
        };
        let snapshot = || -> Vec<Bytes> {
            st.objects
                .values()
                .filter(|o| opts.selection.matches(&o.value))
                .map(|o| enc.event("ADDED", o))
                .collect()
        };
        let (initial, progress) = match opts.start {
            WatchStart::Current => (snapshot(), st.rv),
            WatchStart::InitialEvents(_) => {
                let mut lines = snapshot();
                lines.push(enc.bookmark(st.rv, true));
                (lines, st.rv)
            }
            WatchStart::Now => (Vec::new(), st.rv),
            WatchStart::After(rv) if rv < st.floor => {
                let status = Status::too_old_resource_version(rv, st.floor);
                let line = encode_event("ERROR", serde_json::to_value(&status).unwrap_or_default());
                drop(st);
                return stream_response(&enc, vec![line]);
            }
            WatchStart::After(rv) => {
                let replay = st
                    .window
                    .iter()
                    .filter(|e| e.rv > rv)
                    .filter_map(|e| enc.change(e))
                    .collect();
                (replay, rv.max(st.rv))
            }
        };
        (initial, st.events.subscribe(), progress, enc)
    };
    let clients = metrics.watch_clients.get_or_create(&cacher.labels).clone();
    let sent = metrics.events_sent.get_or_create(&cacher.labels).clone();
    metrics
        .cache_requests
        .get_or_create(&cacher.request_labels("watch"))
        .inc();
    clients.inc();
    let body = CacheWatchBody {
        initial: initial.into_iter(),
        events: Some(ReusableBoxFuture::new(next_event(rx))),
        deadline: Box::pin(tokio::time::sleep(opts.timeout)),
        bookmarks: opts.bookmarks.then(|| {
            let period = opts.bookmark_interval.max(Duration::from_millis(10));
            tokio::time::interval_at(tokio::time::Instant::now() + period, period)
        }),
        progress,
        enc,
        sent,
        _client: ClientGuard(clients),
    };
    let mut r = Response::new(ProxyBody::local(body));
    set_headers(&mut r, content_type(&opts.table));
    r
}

type NextEvent = (
    Result<Arc<CacheEvent>, broadcast::error::RecvError>,
    broadcast::Receiver<Arc<CacheEvent>>,
);

async fn next_event(mut rx: broadcast::Receiver<Arc<CacheEvent>>) -> NextEvent {
    (rx.recv().await, rx)
}

/// Counts a watch client while its body lives (hyper drops it when the client goes).
struct ClientGuard(Gauge);

impl Drop for ClientGuard {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// One client's watch stream, polled by hyper: the initial lines, then each cache event this
/// client sees, and a bookmark every interval. It ends at the watch timeout, when the
/// client's receiver lags behind the broadcast (too slow a reader: it re-watches from its
/// last resourceVersion, as the cacher closes a watcher that cannot keep up), or when the
/// cache lists again (the sender is replaced).
struct CacheWatchBody {
    initial: std::vec::IntoIter<Bytes>,
    /// `None` once the stream has ended.
    events: Option<ReusableBoxFuture<'static, NextEvent>>,
    deadline: Pin<Box<tokio::time::Sleep>>,
    bookmarks: Option<tokio::time::Interval>,
    /// The resourceVersion the client has been brought to.
    progress: u64,
    enc: Encoder,
    sent: Counter,
    _client: ClientGuard,
}

impl CacheWatchBody {
    fn line(&self, line: Bytes) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.sent.inc();
        Poll::Ready(Some(Ok(Frame::data(line))))
    }
}

impl http_body::Body for CacheWatchBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = self.get_mut();
        if let Some(line) = this.initial.next() {
            return this.line(line);
        }
        let Some(events) = this.events.as_mut() else {
            return Poll::Ready(None);
        };
        if this.deadline.as_mut().poll(cx).is_ready() {
            this.events = None;
            return Poll::Ready(None);
        }
        while let Poll::Ready((received, rx)) = events.poll(cx) {
            let Ok(event) = received else {
                // Lagged (too slow a reader) or Closed (the cache listed again).
                this.events = None;
                return Poll::Ready(None);
            };
            events.set(next_event(rx));
            if event.rv <= this.progress {
                continue;
            }
            this.progress = event.rv;
            if let Some(line) = this.enc.change(&event) {
                return this.line(line);
            }
        }
        if let Some(ticker) = this.bookmarks.as_mut()
            && ticker.poll_tick(cx).is_ready()
        {
            let line = this.enc.bookmark(this.progress, false);
            return this.line(line);
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.events.is_none() && self.initial.len() == 0
    }
}

/// A stream that is one line (the in-stream `ERROR` of a watch from too old a
/// resourceVersion), then its end.
fn stream_response(enc: &Encoder, lines: Vec<Bytes>) -> Response<ProxyBody> {
    let mut r = Response::new(ProxyBody::full(Bytes::from(lines.concat())));
    set_headers(&mut r, content_type(&enc.opts.table));
    r
}

fn content_type(table: &Option<IncludeObject>) -> &'static str {
    if table.is_some() { TABLE_JSON } else { JSON }
}

fn set_headers(r: &mut Response<ProxyBody>, content_type: &'static str) {
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache, private"),
    );
}

fn body_response(content_type: &'static str, body: Bytes) -> Response<ProxyBody> {
    let mut r = Response::new(ProxyBody::full(body));
    set_headers(&mut r, content_type);
    r
}

fn status_response(status: &Status) -> Response<ProxyBody> {
    let mut r = body_response(JSON, Bytes::from(status.to_json()));
    *r.status_mut() =
        StatusCode::from_u16(status.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    r
}
