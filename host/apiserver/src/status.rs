//! `Status` error bodies exactly as kube-apiserver writes them, and [`ClusterError`].
//!
//! Upstream: `staging/src/k8s.io/apimachinery/pkg/api/errors/errors.go` (constructors and
//! messages) and `staging/src/k8s.io/apiserver/pkg/endpoints/handlers/responsewriters/errors.go`
//! (the 401 and 403 bodies). The field order of the JSON (`kind`, `apiVersion`, `metadata`,
//! `status`, `message`, `reason`, `details`, `code`) is the one the Go encoder produces.

use std::path::PathBuf;

use serde::Serialize;

/// `details` of a [`Status`]: which object the error is about.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct StatusDetails {
    /// The object's name, omitted when empty.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// The API group, omitted when empty (the core group).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub group: String,
    /// The resource (plural, e.g. `pods`), as the real server puts it in `kind`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub kind: String,
}

/// A `meta/v1` `Status` with `status: Failure`. It serializes as
/// `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":...,
/// "reason":...,"details":...,"code":...}` (details omitted when absent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// Human-readable message, e.g. `pods "x" not found`.
    pub message: String,
    /// Machine-readable reason (`NotFound`, `Forbidden`, `Expired`, ...).
    pub reason: &'static str,
    /// Which object, when known.
    pub details: Option<Box<StatusDetails>>,
    /// The HTTP status code.
    pub code: u16,
}

#[derive(Serialize)]
struct Empty {}

#[derive(Serialize)]
struct Wire<'a> {
    kind: &'static str,
    #[serde(rename = "apiVersion")]
    api_version: &'static str,
    metadata: Empty,
    status: &'static str,
    message: &'a str,
    reason: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    details: Option<&'a StatusDetails>,
    code: u16,
}

impl Serialize for Status {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        Wire {
            kind: "Status",
            api_version: "v1",
            metadata: Empty {},
            status: "Failure",
            message: &self.message,
            reason: self.reason,
            details: self.details.as_deref(),
            code: self.code,
        }
        .serialize(serializer)
    }
}

impl Status {
    fn new(
        code: u16,
        reason: &'static str,
        message: String,
        details: Option<StatusDetails>,
    ) -> Self {
        Status {
            message,
            reason,
            details: details.map(Box::new),
            code,
        }
    }

    fn details(resource: &str, name: &str) -> Option<StatusDetails> {
        Some(StatusDetails {
            name: name.to_owned(),
            group: String::new(),
            kind: resource.to_owned(),
        })
    }

    /// 401 `Unauthorized` (responsewriters `UnauthorizedNegotiated`... the body of a failed
    /// authentication).
    pub fn unauthorized() -> Self {
        Status::new(401, "Unauthorized", "Unauthorized".to_owned(), None)
    }

    /// 403 `Forbidden` for an RBAC denial: `<resource> "<name>" is forbidden: <message>`, or
    /// `<resource> is forbidden: <message>` without a name (`errors.NewForbidden`).
    pub fn forbidden(resource: &str, name: &str, message: &str) -> Self {
        let full = if name.is_empty() {
            format!("{resource} is forbidden: {message}")
        } else {
            format!("{resource} \"{name}\" is forbidden: {message}")
        };
        Status::new(403, "Forbidden", full, Status::details(resource, name))
    }

    /// 403 for a non-resource path: `forbidden: User "u" cannot get path "/x"`.
    pub fn forbidden_path(message: &str) -> Self {
        Status::new(
            403,
            "Forbidden",
            format!("forbidden: {message}"),
            Some(StatusDetails::default()),
        )
    }

    /// 404 `NotFound`: `<resource> "<name>" not found` (`errors.NewNotFound`).
    pub fn not_found(resource: &str, name: &str) -> Self {
        Status::new(
            404,
            "NotFound",
            format!("{resource} \"{name}\" not found"),
            Status::details(resource, name),
        )
    }

    /// 404 for an unknown path: the real server answers `404 page not found` in plain text for
    /// paths outside any API group; for unknown resources under `/api/v1` it writes this Status.
    pub fn path_not_found() -> Self {
        Status::new(
            404,
            "NotFound",
            "the server could not find the requested resource".to_owned(),
            Some(StatusDetails::default()),
        )
    }

    /// 409 `AlreadyExists`: `<resource> "<name>" already exists`.
    pub fn already_exists(resource: &str, name: &str) -> Self {
        Status::new(
            409,
            "AlreadyExists",
            format!("{resource} \"{name}\" already exists"),
            Status::details(resource, name),
        )
    }

    /// 409 `Conflict` for a stale `resourceVersion` (`errors.NewConflict` with
    /// `OptimisticLockErrorMsg`).
    pub fn conflict(resource: &str, name: &str) -> Self {
        Status::new(
            409,
            "Conflict",
            format!(
                "Operation cannot be fulfilled on {resource} \"{name}\": the object has been modified; please apply your changes to the latest version and try again"
            ),
            Status::details(resource, name),
        )
    }

    /// 400 `BadRequest` with the given message.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Status::new(400, "BadRequest", message.into(), None)
    }

    /// 422 `Invalid` (simplified: no field causes).
    pub fn invalid(resource: &str, name: &str, message: &str) -> Self {
        Status::new(
            422,
            "Invalid",
            format!("{resource} \"{name}\" is invalid: {message}"),
            Status::details(resource, name),
        )
    }

    /// 405 `MethodNotAllowed`: `<verb> is not supported on resources of kind "<resource>"`.
    pub fn method_not_supported(resource: &str, verb: &str) -> Self {
        Status::new(
            405,
            "MethodNotAllowed",
            format!("{verb} is not supported on resources of kind \"{resource}\""),
            Status::details(resource, ""),
        )
    }

    /// 410 `Expired` with the given message (`errors.NewResourceExpired`): used for a compacted
    /// continue token and, in a watch, for a too-old resourceVersion.
    pub fn expired(message: impl Into<String>) -> Self {
        Status::new(410, "Expired", message.into(), None)
    }

    /// The 410 for a `continue` token whose resourceVersion was compacted
    /// (`storage/etcd3` `handleCompactedErrorForPaging`).
    pub fn continue_expired() -> Self {
        Status::expired(CONTINUE_EXPIRED_MESSAGE)
    }

    /// The watch 410 `too old resource version: RV (OLDEST)` (`storage/cacher/watch_cache.go`).
    pub fn too_old_resource_version(requested: u64, oldest: u64) -> Self {
        Status::expired(format!("too old resource version: {requested} ({oldest})"))
    }

    /// 500 `InternalError`.
    pub fn internal(message: &str) -> Self {
        Status::new(
            500,
            "InternalError",
            format!("Internal error occurred: {message}"),
            Some(StatusDetails::default()),
        )
    }

    /// The JSON body.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }
}

/// The message of the 410 for an expired `continue` parameter.
pub const CONTINUE_EXPIRED_MESSAGE: &str = "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.";

/// Everything that can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClusterError {
    /// Reading or writing a file under `state_dir` failed.
    #[error("failed to access {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// Binding the listen address failed.
    #[error("failed to listen on {addr}: {source}")]
    Bind {
        /// The requested address.
        addr: std::net::SocketAddr,
        /// The underlying error.
        source: std::io::Error,
    },
    /// Generating or loading a certificate or key failed.
    #[error("PKI error: {0}")]
    Pki(String),
    /// Building the TLS configuration failed.
    #[error("TLS configuration error: {0}")]
    Tls(#[from] rustls::Error),
    /// The RBAC rules text could not be parsed or is invalid.
    #[error("invalid RBAC rules: {0}")]
    Rbac(String),
    /// An API operation failed the way the API server would answer it (NotFound, Conflict,
    /// AlreadyExists, Invalid, ...). The [`Status`] is the body the server would send.
    #[error("{}", .0.message)]
    Api(Box<Status>),
}

impl ClusterError {
    /// The HTTP status code of an [`ClusterError::Api`] error, `None` for the others.
    pub fn code(&self) -> Option<u16> {
        match self {
            ClusterError::Api(s) => Some(s.code),
            _ => None,
        }
    }
}

impl From<Status> for ClusterError {
    fn from(s: Status) -> Self {
        ClusterError::Api(Box::new(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unauthorized_body_is_exact() {
        assert_eq!(
            String::from_utf8(Status::unauthorized().to_json()).unwrap(),
            r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}"#
        );
    }

    #[test]
    fn not_found_body_is_exact() {
        assert_eq!(
            String::from_utf8(Status::not_found("pods", "x").to_json()).unwrap(),
            r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"pods \"x\" not found","reason":"NotFound","details":{"name":"x","kind":"pods"},"code":404}"#
        );
    }

    #[test]
    fn forbidden_with_and_without_name() {
        let s = Status::forbidden(
            "pods",
            "",
            "User \"u\" cannot list resource \"pods\" in API group \"\" at the cluster scope",
        );
        assert_eq!(
            s.message,
            "pods is forbidden: User \"u\" cannot list resource \"pods\" in API group \"\" at the cluster scope"
        );
        assert_eq!(s.details.as_ref().unwrap().name, "");
        let s = Status::forbidden("pods", "p", "m");
        assert_eq!(s.message, "pods \"p\" is forbidden: m");
        assert!(
            String::from_utf8(s.to_json())
                .unwrap()
                .contains(r#""details":{"name":"p","kind":"pods"},"code":403"#)
        );
    }
}
