//! The watch over any resource (pods for `pod-watch`): newline-delimited `{"type": ..., "object": ...}` events (k8s.io/apimachinery
//! `pkg/watch/json/types.go`); a 410 as an HTTP status or as an in-stream `ERROR` event becomes
//! [`ApiError::Gone`]; when a request ends the watch re-connects from the last resourceVersion.

use pod_introspect_kube::cli_output::WatchEventType;
use pod_introspect_kube::watch::{self, WatchLine};
use serde_json::Value;
use std::time::Duration;

use pod_introspect_kube::discovery::{GroupVersionResource, collection_path};

use super::paths::{path_with_query, push};
use super::{ApiError, BodyStream, Client, ListOptions, Transport, read_all, status_error};

/// Watch event kinds (WIT `watch-event-kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// ADDED.
    Added,
    /// MODIFIED.
    Modified,
    /// DELETED.
    Deleted,
    /// BOOKMARK.
    Bookmark,
}

/// One watch event (WIT `watch-event`).
#[derive(Debug, Clone, PartialEq)]
pub struct WatchEvent {
    /// The kind.
    pub kind: EventKind,
    /// The object as JSON.
    pub object: String,
    /// Its resourceVersion.
    pub resource_version: String,
}

/// Watch options (WIT `watch-options`).
#[derive(Debug, Clone, Default)]
pub struct WatchOptions {
    /// Namespace or all.
    pub namespace: Option<String>,
    /// labelSelector.
    pub label_selector: Option<String>,
    /// fieldSelector.
    pub field_selector: Option<String>,
    /// Start after this resourceVersion.
    pub resource_version: Option<String>,
    /// allowWatchBookmarks.
    pub allow_bookmarks: bool,
    /// timeoutSeconds per request.
    pub timeout_seconds: Option<u32>,
}

/// Parses one watch line ([`pod_introspect_kube::watch::parse_line`]). `Err(Gone)` for an
/// in-stream 410 ERROR event.
pub fn parse_event(line: &[u8]) -> Result<WatchEvent, ApiError> {
    match watch::parse_line(line).map_err(ApiError::Invalid)? {
        WatchLine::Event {
            kind,
            object,
            resource_version,
        } => Ok(WatchEvent {
            kind: match kind {
                WatchEventType::Added => EventKind::Added,
                WatchEventType::Modified => EventKind::Modified,
                WatchEventType::Deleted => EventKind::Deleted,
                WatchEventType::Bookmark => EventKind::Bookmark,
            },
            object,
            resource_version,
        }),
        WatchLine::Error { code, body } => Err(status_error(code, body.as_bytes())),
    }
}

/// A resuming watch over one resource. Without a starting resourceVersion it first lists
/// (reporting each object as ADDED) and watches from the list's resourceVersion, as client-go's
/// reflector does, so a resume never replays history from before the watch began.
pub struct ObjectWatch {
    gvr: GroupVersionResource,
    options: WatchOptions,
    /// Events produced by the initial list, not yet returned.
    pending: std::collections::VecDeque<WatchEvent>,
    last_rv: Option<String>,
    body: Option<Box<dyn BodyStream>>,
    buffer: Vec<u8>,
    /// Requests in a row that ended within a second without an event; bounds reconnect loops
    /// against a server that closes watches at once.
    quick_empty_requests: u32,
    /// When the current request was sent, and whether it delivered an event.
    request: Option<(Duration, bool)>,
}

impl ObjectWatch {
    /// A watch over pods (`pod-watch`) that has not sent its request yet.
    pub fn pods(options: WatchOptions) -> ObjectWatch {
        ObjectWatch::new(super::pods(), options)
    }

    /// A watch over `gvr` that has not sent its request yet.
    pub fn new(gvr: GroupVersionResource, options: WatchOptions) -> ObjectWatch {
        let last_rv = options.resource_version.clone().filter(|rv| !rv.is_empty());
        ObjectWatch {
            gvr,
            options,
            pending: std::collections::VecDeque::new(),
            last_rv,
            body: None,
            buffer: Vec::new(),
            quick_empty_requests: 0,
            request: None,
        }
    }

    /// The resourceVersion of the last event.
    pub fn resource_version(&self) -> Option<String> {
        self.last_rv.clone()
    }

    fn path(&self) -> String {
        let mut q = vec![("watch".to_string(), "true".to_string())];
        push(&mut q, "labelSelector", &self.options.label_selector);
        push(&mut q, "fieldSelector", &self.options.field_selector);
        push(&mut q, "resourceVersion", &self.last_rv);
        if self.options.allow_bookmarks {
            q.push(("allowWatchBookmarks".into(), "true".into()));
        }
        if let Some(t) = self.options.timeout_seconds {
            q.push(("timeoutSeconds".into(), t.to_string()));
        }
        path_with_query(
            &collection_path(&self.gvr, self.options.namespace.as_deref()),
            &q,
        )
    }

    /// The next event, re-connecting from the last resourceVersion when a request ends.
    pub fn next<T: Transport>(&mut self, client: &mut Client<T>) -> Result<WatchEvent, ApiError> {
        if self.last_rv.is_none() && self.pending.is_empty() && self.body.is_none() {
            let list = client.list_objects(
                &self.gvr,
                &ListOptions {
                    namespace: self.options.namespace.clone(),
                    label_selector: self.options.label_selector.clone(),
                    field_selector: self.options.field_selector.clone(),
                    ..ListOptions::default()
                },
            )?;
            for item in list.items {
                let rv = serde_json::from_str::<Value>(&item)
                    .ok()
                    .and_then(|v| v["metadata"]["resourceVersion"].as_str().map(String::from))
                    .unwrap_or_default();
                self.pending.push_back(WatchEvent {
                    kind: EventKind::Added,
                    object: item,
                    resource_version: rv,
                });
            }
            self.last_rv = Some(list.resource_version);
        }
        if let Some(event) = self.pending.pop_front() {
            return Ok(event);
        }
        loop {
            if let Some(pos) = self.buffer.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = self.buffer.drain(..=pos).collect();
                let line = line.trim_ascii();
                if line.is_empty() {
                    continue;
                }
                let event = parse_event(line)?;
                if !event.resource_version.is_empty() {
                    self.last_rv = Some(event.resource_version.clone());
                }
                self.quick_empty_requests = 0;
                if let Some((_, delivered)) = self.request.as_mut() {
                    *delivered = true;
                }
                return Ok(event);
            }
            let Some(body) = self.body.as_mut() else {
                if self.quick_empty_requests >= 3 {
                    return Err(ApiError::Transport(format!(
                        "the watch on {} was closed {} times in a row within a second, without an event",
                        client.base_url(),
                        self.quick_empty_requests
                    )));
                }
                let (status, mut body) = client.get_stream(&self.path())?;
                if !(200..300).contains(&status) {
                    let bytes = read_all(body.as_mut(), 1 << 20)?;
                    return Err(status_error(status, &bytes));
                }
                self.request = Some(((client.now)(), false));
                self.body = Some(body);
                continue;
            };
            match body.next_chunk()? {
                Some(chunk) => self.buffer.extend_from_slice(&chunk),
                None => {
                    // The request ended (timeoutSeconds or the server closed it): resume from the
                    // last resourceVersion.
                    self.body = None;
                    self.buffer.clear();
                    if let Some((started, delivered)) = self.request.take() {
                        let quick = (client.now)().saturating_sub(started) < Duration::from_secs(1);
                        if quick && !delivered {
                            self.quick_empty_requests += 1;
                        } else {
                            self.quick_empty_requests = 0;
                        }
                    }
                }
            }
        }
    }
}
