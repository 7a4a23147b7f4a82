//! The API error type: the API server's `Status` object (k8s.io/apimachinery
//! `pkg/apis/meta/v1/types.go`, `Status`; `pkg/api/errors/errors.go`), read by
//! [`pod_introspect_kube::status`], mapped to [`ApiError`] by HTTP code.

use pod_introspect_kube::cli_output::{ApiErrorKind, ApiFailure, FailureDetail};
use pod_introspect_kube::status::{Status, StatusDetails};
use std::fmt;

/// A `Status` the API server answered with (WIT `api-status`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiStatus {
    /// HTTP code.
    pub code: u16,
    /// `reason`, e.g. `Forbidden`.
    pub reason: String,
    /// `message`.
    pub message: String,
    /// `details`, when the Status has them (boxed: errors travel in `Result`s).
    pub details: Option<Box<StatusDetails>>,
    /// The whole Status object as compact JSON; empty when the response had no Status body.
    pub status: Box<str>,
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
    /// 409 (`Conflict`, `AlreadyExists`).
    Conflict(ApiStatus),
    /// 400, 405, 413, 415, 422: the server refused the request itself.
    Rejected(ApiStatus),
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
            ApiError::Rejected(s) => (ApiErrorKind::Rejected, Ok(s)),
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
                status: &s.status,
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
            details: s.details,
            status: serde_json::from_slice::<serde_json::Value>(body)
                .map(|v| v.to_string())
                .unwrap_or_default()
                .into(),
        },
        None => ApiStatus {
            code,
            reason: String::new(),
            message: String::from_utf8_lossy(&body[..body.len().min(512)])
                .trim()
                .to_string(),
            details: None,
            status: "".into(),
        },
    };
    status_to_error(status)
}

/// The case for a Status, by HTTP code (client-go `errors.FromObject` reads the same codes);
/// an empty `reason` gets the one apimachinery's `errors.go` uses for the code.
fn status_to_error(mut status: ApiStatus) -> ApiError {
    if status.reason.is_empty() {
        status.reason = match status.code {
            400 => "BadRequest",
            401 => "Unauthorized",
            403 => "Forbidden",
            404 => "NotFound",
            405 => "MethodNotAllowed",
            409 => "Conflict",
            410 => "Gone",
            413 => "RequestEntityTooLarge",
            415 => "UnsupportedMediaType",
            422 => "Invalid",
            _ => "Unknown",
        }
        .to_string();
    }
    match status.code {
        400 | 405 | 413 | 415 | 422 => ApiError::Rejected(status),
        401 => ApiError::Unauthorized(status),
        403 => ApiError::Forbidden(status),
        404 => ApiError::NotFound(status),
        409 => ApiError::Conflict(status),
        410 => ApiError::Gone(status),
        _ => ApiError::ServerError(status),
    }
}
