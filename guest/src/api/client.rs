//! The client: in-cluster location and credentials ([`pod_introspect_kube::incluster`], client-go
//! `rest.InClusterConfig`, `transport/token_source.go`; the token is re-read when a minute old,
//! and after a 401 the request is retried once with a re-read token), raw and JSON GETs, and
//! pod lists.

use pod_introspect_kube::incluster::{self, ApiLocation, TokenSource};
use serde_json::Value;
use std::time::Duration;

use super::paths::{path_with_query, pods_path, push};
use super::{ApiError, BodyStream, MAX_BODY, Transport, read_all, status_error};

/// A client bound to one API server location.
pub struct Client<T: Transport> {
    transport: T,
    location: ApiLocation,
    tokens: TokenSource,
    read_token: Box<dyn FnMut() -> Result<Vec<u8>, String>>,
    pub(super) now: Box<dyn Fn() -> Duration>,
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

/// The API location from the process env.
pub fn location_from_env() -> Result<ApiLocation, ApiError> {
    incluster::api_location(|k| std::env::var(k).ok())
        .map_err(|e| ApiError::NotInCluster(e.to_string()))
}
