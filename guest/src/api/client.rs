//! The client: in-cluster location and credentials ([`pod_introspect_kube::incluster`], client-go
//! `rest.InClusterConfig`, `transport/token_source.go`; the token is re-read when a minute old,
//! and after a 401 the request is retried once with a re-read token), raw and JSON GETs, and
//! pod lists.

use pod_introspect_kube::incluster::{self, ApiLocation, TokenSource};
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::Value;
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::time::Duration;

use super::paths::{path_with_query, pods_path, push};
use super::{ApiError, BodyStream, MAX_BODY, Request, Response, Transport, read_all, status_error};

/// The `User-Agent` of every request, in client-go's `binary/version (os/arch)` form
/// (`rest.DefaultKubernetesUserAgent`). The API server names the field manager of a write
/// without `fieldManager` after its first word (`pod-introspect`), and logs it.
pub const USER_AGENT: &str = concat!(
    "pod-introspect/",
    env!("CARGO_PKG_VERSION"),
    " (wasip2/wasm32) wasi-http"
);

/// A client bound to one API server location.
pub struct Client<T: Transport> {
    transport: T,
    location: ApiLocation,
    tokens: TokenSource,
    read_token: Box<dyn FnMut() -> Result<Vec<u8>, String>>,
    pub(super) now: Box<dyn Fn() -> Duration>,
    /// Resource types from discovery, read on first [`Client::resolve`].
    pub(super) discovery: Option<Vec<pod_introspect_kube::discovery::ApiResource>>,
    /// The timeout of each request ([`Request::timeout`]), while one is set.
    timeout: Option<Duration>,
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
            discovery: None,
            timeout: None,
        }
    }

    /// Sets the timeout of the following requests: the response head must arrive, and then the
    /// body keep flowing, within `timeout` (`None`: the runtime's defaults). A leader renewing its
    /// Lease bounds its requests by what is left of its renew deadline this way, as client-go
    /// runs them under a context with that deadline.
    pub fn set_timeout(&mut self, timeout: Option<Duration>) {
        self.timeout = timeout;
    }

    /// Runs `f` with [`Client::set_timeout`]`(timeout)`, then puts the previous timeout back.
    pub fn with_timeout<R>(
        &mut self,
        timeout: Option<Duration>,
        f: impl FnOnce(&mut Self) -> R,
    ) -> R {
        let before = std::mem::replace(&mut self.timeout, timeout);
        let r = f(self);
        self.timeout = before;
        r
    }

    /// Monotonic time since the client was made (the clock it was given).
    pub fn now(&self) -> Duration {
        (self.now)()
    }

    /// The base URL.
    pub fn base_url(&self) -> &str {
        &self.location.base_url
    }

    /// The headers every request carries: `accept` (unless `extra` names one) and the bearer
    /// token when the location sends one.
    fn headers(&mut self, extra: &[(String, String)]) -> Result<Vec<(String, String)>, ApiError> {
        let mut h: Vec<(String, String)> = extra.to_vec();
        if !h.iter().any(|(k, _)| k == "accept") {
            h.push(("accept".into(), "application/json".into()));
        }
        if !h.iter().any(|(k, _)| k == "user-agent") {
            h.push(("user-agent".into(), USER_AGENT.into()));
        }
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
            h.push(("authorization".into(), format!("Bearer {token}")));
        }
        Ok(h)
    }

    /// Sends `method path_and_query` with `extra` headers (lower-case names; an
    /// `authorization` among them is refused: the client owns the credentials) and `body`,
    /// retrying once with a re-read token after a 401 (client-go does the same through its
    /// token source). Returns once the response head has arrived.
    pub fn send(
        &mut self,
        method: &str,
        path_and_query: &str,
        extra: &[(String, String)],
        body: Option<&[u8]>,
    ) -> Result<Response, ApiError> {
        if extra
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("authorization"))
        {
            return Err(ApiError::Invalid(
                "an authorization header is not accepted: the client sends the ServiceAccount token itself".into(),
            ));
        }
        let url = format!("{}{}", self.location.base_url, path_and_query);
        let headers = self.headers(extra)?;
        let timeout = self.timeout;
        let request = |headers| Request {
            method,
            url: &url,
            headers,
            body,
            timeout,
        };
        let response = self.transport.send(request(&headers))?;
        if response.status == 401 && self.location.send_token {
            drop(response);
            self.tokens.invalidate();
            let headers = self.headers(extra)?;
            return self.transport.send(request(&headers));
        }
        Ok(response)
    }

    /// GET `path_and_query`, the status and the body stream ([`Client::send`]).
    pub fn get_stream(
        &mut self,
        path_and_query: &str,
    ) -> Result<(u16, Box<dyn BodyStream>), ApiError> {
        let r = self.send("GET", path_and_query, &[], None)?;
        Ok((r.status, r.body))
    }

    /// GET, the whole body, any status.
    pub fn get_raw(&mut self, path_and_query: &str) -> Result<(u16, Vec<u8>), ApiError> {
        let (status, mut body) = self.get_stream(path_and_query)?;
        Ok((status, read_all(body.as_mut(), MAX_BODY)?))
    }

    /// GET expecting 2xx and a JSON body.
    pub fn get_json(&mut self, path_and_query: &str) -> Result<Value, ApiError> {
        self.json("GET", path_and_query, None, &[])
    }

    /// `method path_and_query` with an optional JSON-ish `body` of `content_type`, expecting
    /// 2xx and a JSON answer; a non-2xx answer is its [`status_error`].
    pub fn json(
        &mut self,
        method: &str,
        path_and_query: &str,
        body: Option<(&str, &[u8])>,
        extra: &[(String, String)],
    ) -> Result<Value, ApiError> {
        let mut headers = extra.to_vec();
        if let Some((content_type, _)) = body {
            headers.push(("content-type".into(), content_type.into()));
        }
        let mut r = self.send(method, path_and_query, &headers, body.map(|(_, b)| b))?;
        let bytes = read_all(r.body.as_mut(), MAX_BODY)?;
        if !(200..300).contains(&r.status) {
            return Err(status_error(r.status, &bytes));
        }
        serde_json::from_slice(&bytes).map_err(|e| {
            ApiError::Invalid(format!(
                "{method} {path_and_query}: response is not JSON: {e}"
            ))
        })
    }

    /// A page of pods.
    pub fn list_pods(&mut self, o: &ListOptions) -> Result<PodList, ApiError> {
        let path = pods_path(o.namespace.as_deref());
        self.list_at(&path, o)
    }

    /// A page of the collection at `path` (`/api/v1/namespaces/ns/pods`) with `o`'s query; each
    /// item gets the list's `apiVersion` and the kind named by the list's `kind` less `List`,
    /// which the API server leaves off items of built-in types.
    ///
    /// The items are not parsed into values: each is the server's own text (validated JSON, a
    /// [`RawValue`]), with `"kind":...,"apiVersion":...,` spliced in after its `{` when it has
    /// neither. A 500-pod list is then one validating pass, not a parse, a tree and 500
    /// re-serialisations.
    pub fn list_at(&mut self, path: &str, o: &ListOptions) -> Result<PodList, ApiError> {
        let path_and_query = path_with_query(path, &o.query());
        let mut r = self.send("GET", &path_and_query, &[], None)?;
        let body = read_all(r.body.as_mut(), MAX_BODY)?;
        if !(200..300).contains(&r.status) {
            return Err(status_error(r.status, &body));
        }
        let list: RawList<'_> = serde_json::from_slice(&body).map_err(|e| {
            ApiError::Invalid(format!("GET {path_and_query}: response is not a list: {e}"))
        })?;
        let kind = list
            .kind
            .as_deref()
            .and_then(|k| k.strip_suffix("List"))
            .filter(|k| !k.is_empty());
        let prefix = match (kind, list.api_version.as_deref()) {
            (Some(kind), Some(api_version)) => Some(format!(
                "\"kind\":{},\"apiVersion\":{}",
                Value::from(kind),
                Value::from(api_version)
            )),
            _ => None,
        };
        let items = list
            .items
            .unwrap_or_default()
            .into_iter()
            .map(|item| with_type_meta(item.get(), prefix.as_deref()))
            .collect();
        Ok(PodList {
            items,
            resource_version: list.metadata.resource_version.unwrap_or_default(),
            continue_token: list.metadata.continue_token.filter(|c| !c.is_empty()),
            remaining_item_count: list.metadata.remaining_item_count,
        })
    }
}

/// A list response with its items left as text.
#[derive(Deserialize)]
struct RawList<'a> {
    #[serde(borrow, default)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow, default, rename = "apiVersion")]
    api_version: Option<Cow<'a, str>>,
    #[serde(default)]
    metadata: RawListMeta,
    #[serde(borrow, default)]
    items: Option<Vec<&'a RawValue>>,
}

/// `ListMeta` (k8s.io/apimachinery `pkg/apis/meta/v1/types.go`).
#[derive(Deserialize, Default)]
struct RawListMeta {
    #[serde(default, rename = "resourceVersion")]
    resource_version: Option<String>,
    #[serde(default, rename = "continue")]
    continue_token: Option<String>,
    #[serde(default, rename = "remainingItemCount")]
    remaining_item_count: Option<i64>,
}

/// Whether an item already says its kind or apiVersion (a custom resource's items do).
#[derive(Deserialize)]
struct TypeMeta {
    #[serde(default)]
    kind: Option<IgnoredAny>,
    #[serde(default, rename = "apiVersion")]
    api_version: Option<IgnoredAny>,
}

/// `item` (an object's JSON text) with `prefix` (`"kind":..,"apiVersion":..`) spliced in after
/// its `{`, unless it has a kind or apiVersion of its own or is not an object.
fn with_type_meta(item: &str, prefix: Option<&str>) -> String {
    let Some(prefix) = prefix else {
        return item.to_string();
    };
    let Some(rest) = item.strip_prefix('{') else {
        return item.to_string();
    };
    match serde_json::from_str::<TypeMeta>(item) {
        Ok(TypeMeta {
            kind: None,
            api_version: None,
        }) => {}
        _ => return item.to_string(),
    }
    let empty = rest.trim_start().starts_with('}');
    let mut out = String::with_capacity(item.len() + prefix.len() + 2);
    out.push('{');
    out.push_str(prefix);
    if !empty {
        out.push(',');
    }
    out.push_str(rest);
    out
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
    /// resourceVersionMatch.
    pub resource_version_match: Option<String>,
    /// timeoutSeconds.
    pub timeout_seconds: Option<u32>,
}

impl ListOptions {
    /// The query of a list (or delete-collection) request: `labelSelector`, `fieldSelector`,
    /// `limit`, `continue`, `resourceVersion`, `resourceVersionMatch`, `timeoutSeconds`, each
    /// when set (k8s.io/apimachinery `pkg/apis/meta/v1/types.go`, `ListOptions`).
    pub fn query(&self) -> Vec<(String, String)> {
        let mut q = Vec::new();
        push(&mut q, "labelSelector", &self.label_selector);
        push(&mut q, "fieldSelector", &self.field_selector);
        if let Some(l) = self.limit {
            q.push(("limit".into(), l.to_string()));
        }
        push(&mut q, "continue", &self.continue_token);
        push(&mut q, "resourceVersion", &self.resource_version);
        push(&mut q, "resourceVersionMatch", &self.resource_version_match);
        if let Some(t) = self.timeout_seconds {
            q.push(("timeoutSeconds".into(), t.to_string()));
        }
        q
    }
}

/// A page of objects (WIT `pod-list`, `object-list`).
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

/// The API location from the process env.
pub fn location_from_env() -> Result<ApiLocation, ApiError> {
    incluster::api_location(|k| std::env::var(k).ok())
        .map_err(|e| ApiError::NotInCluster(e.to_string()))
}
