//! A small Kubernetes API client with client-go's in-cluster rules, over an abstract HTTP
//! [`Transport`] (wasi:http in the component, a fake in tests).
//!
//! - Location and credentials: [`pod_introspect_kube::incluster`] (client-go `rest.InClusterConfig`,
//!   `transport/token_source.go`): the token is re-read when a minute old, and after a 401 the
//!   request is retried once with a re-read token.
//! - Errors: the API server's `Status` object (k8s.io/apimachinery `pkg/apis/meta/v1/types.go`,
//!   `Status`; `pkg/api/errors/errors.go`), read by [`pod_introspect_kube::status`], mapped to
//!   [`ApiError`] by HTTP code.
//! - Any resource, every verb: [`Client::get_object`] and the other verbs of `dynamic`
//!   (client-go `dynamic/simple.go`), with resource types found by [`Client::resolve`]
//!   (`discovery`: aggregated discovery, kubectl's name rules).
//! - Watch: newline-delimited `{"type": ..., "object": ...}` events
//!   (k8s.io/apimachinery `pkg/watch/json/types.go`); a 410 as an HTTP status or as an in-stream
//!   `ERROR` event becomes [`ApiError::Gone`]; when a request ends the watch re-connects from the
//!   last resourceVersion.

mod client;
mod discovery;
mod dynamic;
mod error;
mod paths;
mod transport;
mod watch;

#[cfg(test)]
mod tests;

pub use self::client::{Client, ListOptions, PodList, USER_AGENT, location_from_env};
pub use self::dynamic::{DeleteOptions, PatchType, WriteOptions};
pub use self::error::{ApiError, ApiStatus, status_error};
pub use self::paths::{encode_component, path_with_query, pods, pods_path};
pub use self::transport::{BodyStream, MAX_BODY, Request, Response, Transport, read_all};
pub use self::watch::{EventKind, ObjectWatch, WatchEvent, WatchOptions, parse_event};
