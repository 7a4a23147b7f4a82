//! The Kubernetes `Status` wire type (`meta/v1` `Status` with `status: Failure`): written by the
//! API-server emulator and the proxy, read by the guest's API client.
//!
//! Upstream: k8s.io/apimachinery `pkg/apis/meta/v1/types.go` (`Status`, `StatusDetails`),
//! `pkg/api/errors/errors.go` (constructors and their messages) and k8s.io/apiserver
//! `pkg/endpoints/handlers/responsewriters/errors.go` (the 401 and 403 bodies). The field order
//! of the JSON (`kind`, `apiVersion`, `metadata`, `status`, `message`, `reason`, `details`,
//! `code`) is the one the Go encoder produces.

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
    /// The object's UID, omitted when empty.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub uid: String,
    /// `causes`: the individual problems (a server-side apply conflict lists one per field),
    /// omitted when empty.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub causes: Vec<StatusCause>,
    /// `retryAfterSeconds`: when to retry (429, some 5xx), omitted when unset.
    #[serde(rename = "retryAfterSeconds", skip_serializing_if = "Option::is_none")]
    pub retry_after_seconds: Option<u32>,
}

/// One entry of `details.causes` (`meta/v1` `StatusCause`); empty fields are omitted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct StatusCause {
    /// Machine-readable reason (`FieldManagerConflict`, `FieldValueInvalid`).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub reason: String,
    /// Human-readable description (`conflict with "kubectl"`).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub message: String,
    /// The field the cause is about (`.data.key`, `spec.replicas`).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub field: String,
}

/// A `meta/v1` `Status` with `status: Failure`. It serializes as
/// `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":...,
/// "reason":...,"details":...,"code":...}` (details omitted when absent); [`Status::parse`]
/// reads one back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// Human-readable message, e.g. `pods "x" not found`.
    pub message: String,
    /// Machine-readable reason (`NotFound`, `Forbidden`, `Expired`, ...); empty when the server
    /// gave none.
    pub reason: String,
    /// Which object, when known.
    pub details: Option<Box<StatusDetails>>,
    /// The HTTP status code.
    pub code: u16,
}

#[derive(Serialize)]
struct Empty {}

#[derive(Serialize)]
struct WireOut<'a> {
    kind: &'static str,
    #[serde(rename = "apiVersion")]
    api_version: &'static str,
    metadata: Empty,
    status: &'static str,
    message: &'a str,
    reason: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    details: Option<&'a StatusDetails>,
    code: u16,
}

impl Serialize for Status {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        WireOut {
            kind: "Status",
            api_version: "v1",
            metadata: Empty {},
            status: "Failure",
            message: &self.message,
            reason: &self.reason,
            details: self.details.as_deref(),
            code: self.code,
        }
        .serialize(serializer)
    }
}

impl Status {
    /// A failure `Status` with HTTP `code`, `reason` and `message`.
    pub fn new(
        code: u16,
        reason: impl Into<String>,
        message: impl Into<String>,
        details: Option<StatusDetails>,
    ) -> Self {
        Status {
            message: message.into(),
            reason: reason.into(),
            details: details.map(Box::new),
            code,
        }
    }

    /// Reads a `Status` body: `None` unless `body` is a JSON object with `kind: Status`. A
    /// missing or out-of-range `code` becomes `http_code` (the response's status).
    pub fn parse(body: &[u8], http_code: u16) -> Option<Status> {
        let v: serde_json::Value = serde_json::from_slice(body).ok()?;
        if v["kind"] != "Status" {
            return None;
        }
        let text =
            |v: &serde_json::Value, key: &str| v[key].as_str().unwrap_or_default().to_string();
        // Read by hand rather than derived: the guest carries this code, and stays smaller.
        let details = v["details"].as_object().map(|_| {
            Box::new(StatusDetails {
                name: text(&v["details"], "name"),
                group: text(&v["details"], "group"),
                kind: text(&v["details"], "kind"),
                uid: text(&v["details"], "uid"),
                retry_after_seconds: v["details"]["retryAfterSeconds"]
                    .as_u64()
                    .and_then(|n| u32::try_from(n).ok()),
                causes: v["details"]["causes"]
                    .as_array()
                    .map(|causes| {
                        causes
                            .iter()
                            .map(|c| StatusCause {
                                reason: text(c, "reason"),
                                message: text(c, "message"),
                                field: text(c, "field"),
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
            })
        });
        Some(Status {
            message: text(&v, "message"),
            reason: text(&v, "reason"),
            details,
            code: v["code"]
                .as_u64()
                .and_then(|c| u16::try_from(c).ok())
                .unwrap_or(http_code),
        })
    }

    fn details(resource: &str, name: &str) -> Option<StatusDetails> {
        Some(StatusDetails {
            name: name.to_owned(),
            group: String::new(),
            kind: resource.to_owned(),
            ..StatusDetails::default()
        })
    }

    /// 401 `Unauthorized` (the body of a failed authentication).
    pub fn unauthorized() -> Self {
        Status::new(401, "Unauthorized", "Unauthorized", None)
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
            "the server could not find the requested resource",
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
        Status::new(400, "BadRequest", message, None)
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
        Status::new(410, "Expired", message, None)
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

    /// 504 `Timeout` for a resourceVersion newer than the server's
    /// (`staging/src/k8s.io/apiserver/pkg/storage/errors.go` `NewTooLargeResourceVersionError`),
    /// with the `ResourceVersionTooLarge` cause clients look for.
    pub fn too_large_resource_version(requested: u64, current: u64) -> Self {
        Status::new(
            504,
            "Timeout",
            format!("Too large resource version: {requested}, current: {current}"),
            Some(StatusDetails {
                causes: vec![StatusCause {
                    reason: "ResourceVersionTooLarge".into(),
                    message: "Too large resource version".into(),
                    field: String::new(),
                }],
                ..Default::default()
            }),
        )
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

    #[test]
    fn parse_round_trips_and_refuses_other_bodies() {
        let s = Status::not_found("pods", "x");
        assert_eq!(Status::parse(&s.to_json(), 500), Some(s));
        // No code in the body: the HTTP status.
        let s = Status::parse(br#"{"kind":"Status","reason":"Gone","message":"m"}"#, 410).unwrap();
        assert_eq!(
            (s.code, s.reason.as_str(), s.message.as_str()),
            (410, "Gone", "m")
        );
        let s = Status::parse(br#"{"kind":"Status","code":70000}"#, 503).unwrap();
        assert_eq!((s.code, s.reason.as_str()), (503, ""));
        assert_eq!(Status::parse(br#"{"kind":"Pod"}"#, 404), None);
        assert_eq!(Status::parse(b"404 page not found", 404), None);
        assert_eq!(Status::parse(b"[1]", 404), None);
    }
}
