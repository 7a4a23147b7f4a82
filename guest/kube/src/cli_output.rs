//! What the command lines print: `pod-introspect info` / `api` (the host, driving the guest's
//! typed exports) and the guest's own `wasi:cli/run` (`wasmtime run`, jco, ...). Both render
//! through these functions, so the two print the same bytes.
//!
//! - API results: `api version`, `self`, `get`, `pods` (a `PodList` shaped like the API server's,
//!   k8s.io/apimachinery `pkg/apis/meta/v1/types.go` `ListMeta`) and watch event lines
//!   (`{"type", "object"}`, k8s.io/apimachinery `pkg/watch/json/types.go` `WatchEvent`), compact
//!   unless `--pretty` ([`render`]).
//! - API errors: `{"error": {"kind", "code", "reason", "message"}}` on stdout and a one-line
//!   summary on stderr ([`ApiFailure`]); `kind` is the case name of the WIT `api-error`.
//! - The end of `info`: the `--strict` rule and the note when no Downward API source was found
//!   ([`info_outcome`], [`nothing_found`]).

use serde_json::{Value, json};
use std::fmt;

/// The cases of the WIT `api-error`, by which the JSON's `kind` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiErrorKind {
    /// `not-in-cluster`: no API server configured.
    NotInCluster,
    /// `credentials`: the token could not be read.
    Credentials,
    /// `unauthorized`: 401.
    Unauthorized,
    /// `forbidden`: 403.
    Forbidden,
    /// `not-found`: 404.
    NotFound,
    /// `gone`: 410.
    Gone,
    /// `conflict`: 409.
    Conflict,
    /// `rejected`: 400, 405, 413, 415, 422: the server refused the request itself.
    Rejected,
    /// `server-error`: 5xx or another unexpected status.
    ServerError,
    /// `transport`: the connection failed.
    Transport,
    /// `tls`: TLS failed.
    Tls,
    /// `invalid`: a request or response that could not be built or understood.
    Invalid,
}

impl ApiErrorKind {
    /// The WIT case name: `not-in-cluster`, `forbidden`, ...
    pub fn name(self) -> &'static str {
        match self {
            ApiErrorKind::NotInCluster => "not-in-cluster",
            ApiErrorKind::Credentials => "credentials",
            ApiErrorKind::Unauthorized => "unauthorized",
            ApiErrorKind::Forbidden => "forbidden",
            ApiErrorKind::NotFound => "not-found",
            ApiErrorKind::Gone => "gone",
            ApiErrorKind::Conflict => "conflict",
            ApiErrorKind::Rejected => "rejected",
            ApiErrorKind::ServerError => "server-error",
            ApiErrorKind::Transport => "transport",
            ApiErrorKind::Tls => "tls",
            ApiErrorKind::Invalid => "invalid",
        }
    }
}

/// What an API failure carries: the API server's `Status` (code, reason, message) or a message
/// of our own (not in cluster, credentials, transport, TLS, invalid).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureDetail<'a> {
    /// A message, e.g. `KUBERNETES_SERVICE_HOST is not set ...`.
    Message(&'a str),
    /// The `Status` the API server answered with.
    Status {
        /// HTTP code, e.g. 403.
        code: u16,
        /// `reason`, e.g. `Forbidden`.
        reason: &'a str,
        /// `message`, e.g. the RBAC denial.
        message: &'a str,
        /// The whole Status as JSON (`""` when the response had none): its `details` are
        /// printed.
        status: &'a str,
    },
}

/// A failed API call as the command lines show it. Borrowed from the guest's `ApiError` or the
/// host's binding of the WIT `api-error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiFailure<'a> {
    /// Which case.
    pub kind: ApiErrorKind,
    /// Its content.
    pub detail: FailureDetail<'a>,
}

impl fmt::Display for ApiFailure<'_> {
    /// The message, or `CODE REASON: MESSAGE` for a `Status` (`403 Forbidden: pods is forbidden: ...`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.detail {
            FailureDetail::Message(m) => f.write_str(m),
            FailureDetail::Status {
                code,
                reason,
                message,
                ..
            } => write!(f, "{code} {reason}: {message}"),
        }
    }
}

impl ApiFailure<'_> {
    /// `{"error": {"kind": ..., "message": ...}}`, plus `code` and `reason` for a `Status` (whose
    /// `message` is then the server's alone) and its `details` when it has them (the causes of
    /// a 422, the conflicting fields of an apply).
    pub fn json(&self) -> Value {
        let obj = match self.detail {
            FailureDetail::Message(m) => json!({"kind": self.kind.name(), "message": m}),
            FailureDetail::Status {
                code,
                reason,
                message,
                status,
            } => {
                let mut obj = json!({
                    "kind": self.kind.name(),
                    "code": code,
                    "reason": reason,
                    "message": message,
                });
                if let Some(details) = serde_json::from_str::<Value>(status)
                    .ok()
                    .and_then(|s| s.get("details").cloned())
                {
                    obj["details"] = details;
                }
                obj
            }
        };
        json!({ "error": obj })
    }

    /// The stderr line: `error: ` and [`Display`](fmt::Display).
    pub fn summary(&self) -> String {
        format!("error: {self}")
    }
}

/// `v` as one line, or indented (serde_json's pretty form, two spaces) when `pretty`.
pub fn render(v: &Value, pretty: bool) -> String {
    let text = if pretty {
        serde_json::to_string_pretty(v)
    } else {
        serde_json::to_string(v)
    };
    // Serialising a `Value` cannot fail (its map keys are strings).
    text.unwrap_or_default()
}

/// A JSON text received as a string (a pod, the version object) as a value; text that is not
/// JSON becomes a JSON string, so nothing is lost.
pub fn json_or_string(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string()))
}

/// `api get`: `{"status": STATUS, "body": BODY}`, the body as JSON when it is JSON, else as a
/// string (invalid UTF-8 replaced by U+FFFD before this is called).
pub fn get_response(status: u16, body: &str) -> Value {
    json!({"status": status, "body": json_or_string(body)})
}

/// Whether `api get` ends with status 0: a 2xx answer.
pub fn get_succeeded(status: u16) -> bool {
    (200..300).contains(&status)
}

/// `api pods`: a `PodList` (`kind`, `apiVersion`, `metadata` with `resourceVersion`, `continue`
/// and `remainingItemCount` when the server gave them, `items`). Items that are not JSON are
/// left out.
pub fn pod_list(
    items: &[String],
    resource_version: &str,
    continue_token: Option<&str>,
    remaining_item_count: Option<i64>,
) -> Value {
    let items: Vec<Value> = items
        .iter()
        .filter_map(|i| serde_json::from_str(i).ok())
        .collect();
    let mut metadata = json!({"resourceVersion": resource_version});
    if let Some(c) = continue_token {
        metadata["continue"] = json!(c);
    }
    if let Some(n) = remaining_item_count {
        metadata["remainingItemCount"] = json!(n);
    }
    json!({"kind": "PodList", "apiVersion": "v1", "metadata": metadata, "items": items})
}

/// The namespace of `api pods` and `api watch pods`: none for all namespaces (`-A`), else `-n`,
/// else this pod's own (`own`, called only then; as kubectl defaults to its context's), else
/// `default`.
pub fn list_namespace(
    all_namespaces: bool,
    namespace: Option<&str>,
    own: impl FnOnce() -> Option<String>,
) -> Option<String> {
    if all_namespaces {
        return None;
    }
    namespace
        .map(str::to_string)
        .or_else(own)
        .or_else(|| Some("default".into()))
}

/// The type of a watch event, as the API server names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WatchEventType {
    /// `ADDED`.
    Added,
    /// `MODIFIED`.
    Modified,
    /// `DELETED`.
    Deleted,
    /// `BOOKMARK`.
    Bookmark,
}

impl WatchEventType {
    /// `ADDED`, `MODIFIED`, `DELETED` or `BOOKMARK` (k8s.io/apimachinery `pkg/watch/watch.go`).
    pub fn name(self) -> &'static str {
        match self {
            WatchEventType::Added => "ADDED",
            WatchEventType::Modified => "MODIFIED",
            WatchEventType::Deleted => "DELETED",
            WatchEventType::Bookmark => "BOOKMARK",
        }
    }
}

/// One `api watch` event: `{"type": TYPE, "object": OBJECT}` (an object that is not JSON is `null`).
pub fn watch_event(kind: WatchEventType, object: &str) -> Value {
    let object: Value = serde_json::from_str(object).unwrap_or(Value::Null);
    json!({"type": kind.name(), "object": object})
}

/// Where the guest looked for the Downward API, for the note printed when it found nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Searched<'a> {
    /// The downwardAPI volume directories, in search order.
    pub volume_dirs: &'a [String],
    /// The env var names it reads (conventional names and `POD_INTROSPECT_FIELDS` env sources).
    pub env_names: &'a [String],
    /// The ServiceAccount volume directory, whose `namespace` file it reads.
    pub service_account_dir: &'a str,
}

/// The note for an `info` that found no Downward API source at all (no volume file, no env var,
/// no ServiceAccount namespace file): where it looked, and what usually causes it.
pub fn nothing_found(searched: &Searched<'_>) -> String {
    let dirs = if searched.volume_dirs.is_empty() {
        "(none)".to_string()
    } else {
        searched.volume_dirs.join(", ")
    };
    format!(
        "no Downward API source was found: no downwardAPI volume files in {dirs}; none of the env \
         vars {}; no {}/namespace. Is the pod's volume mounted there (a wrong or empty root, a \
         directory not preopened, another mountPath not named in POD_INTROSPECT_DOWNWARD_DIRS)?",
        searched.env_names.join(", "),
        searched.service_account_dir.trim_end_matches('/'),
    )
}

/// How `info` ends, after printing its JSON: the stderr lines, and whether it exits with
/// status 1. Nothing found is a warning, and under `--strict` an error; field errors fail only
/// under `--strict`.
pub fn info_outcome(
    error_count: usize,
    nothing_found: Option<&str>,
    strict: bool,
) -> (Vec<String>, bool) {
    let mut lines = Vec::new();
    if let Some(note) = nothing_found {
        if strict {
            lines.push(format!("error: {note} (--strict)"));
        } else {
            lines.push(format!("warning: {note}"));
        }
    }
    if strict && error_count > 0 {
        lines.push(format!(
            "error: {error_count} field(s) had errors (--strict)"
        ));
    }
    let failed = strict && (error_count > 0 || nothing_found.is_some());
    (lines, failed)
}

#[cfg(test)]
mod tests;

/// kubectl's `label` / `annotate` rule without `--overwrite` (kubectl `pkg/cmd/label/label.go`,
/// `validateNoOverwrites`; `annotate.go` likewise): setting a key that already has a different
/// value is refused, naming it: `'app' already has a value (web), and --overwrite is false`
/// (several joined with `, `, in the order given). `existing` is the object's
/// `metadata.labels` (or `annotations`) map; removals (`None`) never conflict.
pub fn overwrite_conflicts(
    existing: &Value,
    changes: &[(String, Option<String>)],
) -> Option<String> {
    let conflicts: Vec<String> = changes
        .iter()
        .filter_map(|(key, value)| {
            let value = value.as_deref()?;
            let current = existing.get(key)?.as_str()?;
            (current != value).then(|| {
                format!("'{key}' already has a value ({current}), and --overwrite is false")
            })
        })
        .collect();
    (!conflicts.is_empty()).then(|| conflicts.join(", "))
}

/// The stderr line `watch-pod` (the host's command and the guest's) prints once it follows the
/// view, so a script (or a test) knows changes from now on are reported.
pub fn watch_pod_started(interval_ms: u32) -> String {
    format!(
        "watch-pod: following the pod's Downward API view (its volumes' ..data links every {interval_ms} ms)"
    )
}
