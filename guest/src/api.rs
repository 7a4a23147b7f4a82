//! A small Kubernetes API client with client-go's in-cluster rules, over an abstract HTTP
//! [`Transport`] (wasi:http in the component, a fake in tests).
//!
//! - Location and credentials: [`pod_introspect_kube::incluster`] (client-go `rest.InClusterConfig`,
//!   `transport/token_source.go`): the token is re-read when a minute old, and after a 401 the
//!   request is retried once with a re-read token.
//! - Errors: the API server's `Status` object (k8s.io/apimachinery `pkg/apis/meta/v1/types.go`,
//!   `Status`; `pkg/api/errors/errors.go`), read by [`pod_introspect_kube::status`], mapped to
//!   [`ApiError`] by HTTP code.
//! - Watch: newline-delimited `{"type": ..., "object": ...}` events
//!   (k8s.io/apimachinery `pkg/watch/json/types.go`); a 410 as an HTTP status or as an in-stream
//!   `ERROR` event becomes [`ApiError::Gone`]; when a request ends the watch re-connects from the
//!   last resourceVersion.

use pod_introspect_kube::cli_output::{ApiErrorKind, ApiFailure, FailureDetail};
use pod_introspect_kube::incluster::{self, ApiLocation, TokenSource};
use pod_introspect_kube::status::Status;
use serde_json::Value;
use std::fmt;
use std::time::Duration;

/// A `Status` the API server answered with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiStatus {
    /// HTTP code.
    pub code: u16,
    /// `reason`, e.g. `Forbidden`.
    pub reason: String,
    /// `message`.
    pub message: String,
}

/// Why an API call failed (WIT `api-error`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// No API server configured.
    NotInCluster(String),
    /// The token could not be read.
    Credentials(String),
    /// 401.
    Unauthorized(ApiStatus),
    /// 403.
    Forbidden(ApiStatus),
    /// 404.
    NotFound(ApiStatus),
    /// 410.
    Gone(ApiStatus),
    /// 409.
    Conflict(ApiStatus),
    /// 5xx or other.
    ServerError(ApiStatus),
    /// Connection problems.
    Transport(String),
    /// TLS problems.
    Tls(String),
    /// Bad request or unparseable response.
    Invalid(String),
}

impl fmt::Display for ApiError {
    /// The message, or `CODE REASON: MESSAGE` for a `Status` ([`ApiFailure`]'s form).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.failure().fmt(f)
    }
}

impl ApiError {
    /// `unauthorized`, `forbidden`, ...: the WIT case name, used in JSON output.
    pub fn kind(&self) -> &'static str {
        self.failure().kind.name()
    }

    /// This error as the command lines print it ([`pod_introspect_kube::cli_output`]).
    pub fn failure(&self) -> ApiFailure<'_> {
        let (kind, status) = match self {
            ApiError::NotInCluster(m) => (ApiErrorKind::NotInCluster, Err(m)),
            ApiError::Credentials(m) => (ApiErrorKind::Credentials, Err(m)),
            ApiError::Unauthorized(s) => (ApiErrorKind::Unauthorized, Ok(s)),
            ApiError::Forbidden(s) => (ApiErrorKind::Forbidden, Ok(s)),
            ApiError::NotFound(s) => (ApiErrorKind::NotFound, Ok(s)),
            ApiError::Gone(s) => (ApiErrorKind::Gone, Ok(s)),
            ApiError::Conflict(s) => (ApiErrorKind::Conflict, Ok(s)),
            ApiError::ServerError(s) => (ApiErrorKind::ServerError, Ok(s)),
            ApiError::Transport(m) => (ApiErrorKind::Transport, Err(m)),
            ApiError::Tls(m) => (ApiErrorKind::Tls, Err(m)),
            ApiError::Invalid(m) => (ApiErrorKind::Invalid, Err(m)),
        };
        let detail = match status {
            Ok(s) => FailureDetail::Status {
                code: s.code,
                reason: &s.reason,
                message: &s.message,
            },
            Err(m) => FailureDetail::Message(m),
        };
        ApiFailure { kind, detail }
    }
}

/// The error for a non-2xx response: the body's `Status` when it has one, else the HTTP code.
pub fn status_error(code: u16, body: &[u8]) -> ApiError {
    let status = match Status::parse(body, code) {
        Some(s) => ApiStatus {
            code: s.code,
            reason: s.reason,
            message: s.message,
        },
        None => ApiStatus {
            code,
            reason: String::new(),
            message: String::from_utf8_lossy(&body[..body.len().min(512)])
                .trim()
                .to_string(),
        },
    };
    status_to_error(status)
}

fn status_to_error(mut status: ApiStatus) -> ApiError {
    if matches!(status.code, 400 | 422) {
        // BadRequest (a malformed selector, continue token, field label) and Invalid: the request
        // is wrong, not the server.
        let reason = if status.reason.is_empty() {
            "BadRequest"
        } else {
            status.reason.as_str()
        };
        return ApiError::Invalid(format!("{} {reason}: {}", status.code, status.message));
    }
    if status.reason.is_empty() {
        status.reason = match status.code {
            401 => "Unauthorized",
            403 => "Forbidden",
            404 => "NotFound",
            409 => "Conflict",
            410 => "Gone",
            _ => "Unknown",
        }
        .to_string();
    }
    match status.code {
        401 => ApiError::Unauthorized(status),
        403 => ApiError::Forbidden(status),
        404 => ApiError::NotFound(status),
        409 => ApiError::Conflict(status),
        410 => ApiError::Gone(status),
        _ => ApiError::ServerError(status),
    }
}

/// A response whose body is read in chunks.
pub trait BodyStream {
    /// The next chunk, or `None` at the end of the body.
    fn next_chunk(&mut self) -> Result<Option<Vec<u8>>, ApiError>;
}

/// Sends GET requests. `url` is absolute (`https://10.96.0.1:443/version?x=y`); `headers` are
/// lower-case names with values.
pub trait Transport {
    /// Sends a GET and returns the status and the body as a stream.
    fn get(
        &mut self,
        url: &str,
        headers: &[(&str, String)],
    ) -> Result<(u16, Box<dyn BodyStream>), ApiError>;
}

/// Reads a whole body, refusing more than `limit` bytes.
pub fn read_all(body: &mut dyn BodyStream, limit: usize) -> Result<Vec<u8>, ApiError> {
    let mut out = Vec::new();
    while let Some(chunk) = body.next_chunk()? {
        out.extend_from_slice(&chunk);
        if out.len() > limit {
            return Err(ApiError::Invalid(format!(
                "response body larger than {limit} bytes"
            )));
        }
    }
    Ok(out)
}

/// Largest response body read into memory (a 5,000-pod list is about 25 MB).
pub const MAX_BODY: usize = 256 << 20;

/// Percent-encodes a query component (RFC 3986 unreserved characters stay as they are).
pub fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `path?k=v&...` with encoded values.
pub fn path_with_query(path: &str, query: &[(String, String)]) -> String {
    if query.is_empty() {
        return path.to_string();
    }
    let q: Vec<String> = query
        .iter()
        .map(|(k, v)| format!("{}={}", encode_component(k), encode_component(v)))
        .collect();
    format!("{path}?{}", q.join("&"))
}

/// `/api/v1/namespaces/{ns}/pods` or `/api/v1/pods`.
pub fn pods_path(namespace: Option<&str>) -> String {
    match namespace {
        Some(ns) => format!("/api/v1/namespaces/{}/pods", encode_component(ns)),
        None => "/api/v1/pods".to_string(),
    }
}

/// A client bound to one API server location.
pub struct Client<T: Transport> {
    transport: T,
    location: ApiLocation,
    tokens: TokenSource,
    read_token: Box<dyn FnMut() -> Result<Vec<u8>, String>>,
    now: Box<dyn Fn() -> Duration>,
}

impl<T: Transport> Client<T> {
    /// A client for `location`; `read_token` reads the token file, `now` is a monotonic clock.
    pub fn new(
        transport: T,
        location: ApiLocation,
        read_token: Box<dyn FnMut() -> Result<Vec<u8>, String>>,
        now: Box<dyn Fn() -> Duration>,
    ) -> Client<T> {
        Client {
            transport,
            location,
            tokens: TokenSource::new(),
            read_token,
            now,
        }
    }

    /// The base URL.
    pub fn base_url(&self) -> &str {
        &self.location.base_url
    }

    fn headers(&mut self) -> Result<Vec<(&'static str, String)>, ApiError> {
        let mut h = vec![("accept", "application/json".to_string())];
        if self.location.send_token {
            let now = (self.now)();
            let read = &mut self.read_token;
            let token = self
                .tokens
                .token(now, read)
                .map_err(|e| ApiError::Credentials(e.to_string()))?;
            if token.bytes().any(|b| b.is_ascii_control()) {
                return Err(ApiError::Credentials(format!(
                    "the ServiceAccount token {} holds a control character (a line break inside it?), which an HTTP header cannot carry",
                    pod_introspect_kube::incluster::TOKEN_FILE
                )));
            }
            h.push(("authorization", format!("Bearer {token}")));
        }
        Ok(h)
    }

    /// GET `path_and_query`, retrying once with a re-read token after a 401 (client-go does the
    /// same through its token source). Returns the status and the body stream.
    pub fn get_stream(
        &mut self,
        path_and_query: &str,
    ) -> Result<(u16, Box<dyn BodyStream>), ApiError> {
        let url = format!("{}{}", self.location.base_url, path_and_query);
        let headers = self.headers()?;
        let (status, body) = self.transport.get(&url, &headers)?;
        if status == 401 && self.location.send_token {
            drop(body);
            self.tokens.invalidate();
            let headers = self.headers()?;
            return self.transport.get(&url, &headers);
        }
        Ok((status, body))
    }

    /// GET, the whole body, any status.
    pub fn get_raw(&mut self, path_and_query: &str) -> Result<(u16, Vec<u8>), ApiError> {
        let (status, mut body) = self.get_stream(path_and_query)?;
        Ok((status, read_all(body.as_mut(), MAX_BODY)?))
    }

    /// GET expecting 2xx and a JSON body.
    pub fn get_json(&mut self, path_and_query: &str) -> Result<Value, ApiError> {
        let (status, body) = self.get_raw(path_and_query)?;
        if !(200..300).contains(&status) {
            return Err(status_error(status, &body));
        }
        serde_json::from_slice(&body).map_err(|e| {
            ApiError::Invalid(format!("GET {path_and_query}: response is not JSON: {e}"))
        })
    }

    /// A page of pods.
    pub fn list_pods(&mut self, o: &ListOptions) -> Result<PodList, ApiError> {
        let mut q = Vec::new();
        push(&mut q, "labelSelector", &o.label_selector);
        push(&mut q, "fieldSelector", &o.field_selector);
        if let Some(l) = o.limit {
            q.push(("limit".into(), l.to_string()));
        }
        push(&mut q, "continue", &o.continue_token);
        push(&mut q, "resourceVersion", &o.resource_version);
        let v = self.get_json(&path_with_query(&pods_path(o.namespace.as_deref()), &q))?;
        let items = v["items"]
            .as_array()
            .map(|a| a.iter().map(Value::to_string).collect())
            .unwrap_or_default();
        let meta = &v["metadata"];
        Ok(PodList {
            items,
            resource_version: meta["resourceVersion"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            continue_token: meta["continue"]
                .as_str()
                .filter(|c| !c.is_empty())
                .map(String::from),
            remaining_item_count: meta["remainingItemCount"].as_i64(),
        })
    }
}

fn push(q: &mut Vec<(String, String)>, k: &str, v: &Option<String>) {
    if let Some(v) = v.as_ref().filter(|v| !v.is_empty()) {
        q.push((k.to_string(), v.clone()));
    }
}

/// List options (WIT `list-options`).
#[derive(Debug, Clone, Default)]
pub struct ListOptions {
    /// Namespace or all.
    pub namespace: Option<String>,
    /// labelSelector.
    pub label_selector: Option<String>,
    /// fieldSelector.
    pub field_selector: Option<String>,
    /// limit.
    pub limit: Option<u32>,
    /// continue.
    pub continue_token: Option<String>,
    /// resourceVersion.
    pub resource_version: Option<String>,
}

/// A page of pods (WIT `pod-list`).
#[derive(Debug, Clone, PartialEq)]
pub struct PodList {
    /// Pods as JSON.
    pub items: Vec<String>,
    /// metadata.resourceVersion.
    pub resource_version: String,
    /// metadata.continue.
    pub continue_token: Option<String>,
    /// metadata.remainingItemCount.
    pub remaining_item_count: Option<i64>,
}

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

/// Parses one watch line. `Err(Gone)` for an in-stream 410 ERROR event.
pub fn parse_event(line: &[u8]) -> Result<WatchEvent, ApiError> {
    let v: Value = serde_json::from_slice(line)
        .map_err(|e| ApiError::Invalid(format!("watch event is not JSON: {e}")))?;
    let object = &v["object"];
    let kind = match v["type"].as_str().unwrap_or_default() {
        "ADDED" => EventKind::Added,
        "MODIFIED" => EventKind::Modified,
        "DELETED" => EventKind::Deleted,
        "BOOKMARK" => EventKind::Bookmark,
        "ERROR" => {
            let code = object["code"]
                .as_u64()
                .and_then(|c| u16::try_from(c).ok())
                .unwrap_or(500);
            let body = object.to_string();
            return Err(status_error(code, body.as_bytes()));
        }
        other => {
            return Err(ApiError::Invalid(format!(
                "unknown watch event type {other:?}"
            )));
        }
    };
    Ok(WatchEvent {
        kind,
        resource_version: object["metadata"]["resourceVersion"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        object: object.to_string(),
    })
}

/// A resuming watch over pods. Without a starting resourceVersion it first lists (reporting each
/// pod as ADDED) and watches from the list's resourceVersion, as client-go's reflector does, so
/// a resume never replays history from before the watch began.
pub struct PodWatch {
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

impl PodWatch {
    /// A watch that has not sent its request yet.
    pub fn new(options: WatchOptions) -> PodWatch {
        let last_rv = options.resource_version.clone().filter(|rv| !rv.is_empty());
        PodWatch {
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
        path_with_query(&pods_path(self.options.namespace.as_deref()), &q)
    }

    /// The next event, re-connecting from the last resourceVersion when a request ends.
    pub fn next<T: Transport>(&mut self, client: &mut Client<T>) -> Result<WatchEvent, ApiError> {
        if self.last_rv.is_none() && self.pending.is_empty() && self.body.is_none() {
            let list = client.list_pods(&ListOptions {
                namespace: self.options.namespace.clone(),
                label_selector: self.options.label_selector.clone(),
                field_selector: self.options.field_selector.clone(),
                ..ListOptions::default()
            })?;
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

/// The API location from the process env.
pub fn location_from_env() -> Result<ApiLocation, ApiError> {
    incluster::api_location(|k| std::env::var(k).ok())
        .map_err(|e| ApiError::NotInCluster(e.to_string()))
}
