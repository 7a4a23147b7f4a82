//! One line of a watch response: `{"type": TYPE, "object": OBJECT}` (k8s.io/apimachinery
//! `pkg/watch/json/types.go`, `WatchEvent`; the types are `pkg/watch/watch.go`'s `EventType`).
//!
//! The guest's pod watch reads these lines from the API server; [`crate::cli_output::watch_event`]
//! writes the same shape for `api watch`, and [`parse_line`] reads that back.

use serde_json::Value;

use crate::cli_output::WatchEventType;

/// What one watch line holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WatchLine {
    /// An `ADDED`, `MODIFIED`, `DELETED` or `BOOKMARK` event.
    Event {
        /// The event type.
        kind: WatchEventType,
        /// The object, re-serialised as compact JSON (`null` when the line has none).
        object: String,
        /// The object's `metadata.resourceVersion` (empty when it has none).
        resource_version: String,
    },
    /// An in-stream `ERROR` event, whose object is a `Status` (a 410 `Expired` when the
    /// resourceVersion is too old).
    Error {
        /// The Status `code`; 500 when it is missing or not an HTTP status number.
        code: u16,
        /// The Status object as compact JSON, for [`crate::status::Status::parse`].
        body: String,
    },
}

/// Parses one watch line (without its newline).
///
/// Errors (a message for the caller to wrap): the line is not JSON, or its `type` is none of
/// `ADDED`, `MODIFIED`, `DELETED`, `BOOKMARK` and `ERROR`.
pub fn parse_line(line: &[u8]) -> Result<WatchLine, String> {
    let v: Value =
        serde_json::from_slice(line).map_err(|e| format!("watch event is not JSON: {e}"))?;
    let object = &v["object"];
    let kind = match v["type"].as_str().unwrap_or_default() {
        "ADDED" => WatchEventType::Added,
        "MODIFIED" => WatchEventType::Modified,
        "DELETED" => WatchEventType::Deleted,
        "BOOKMARK" => WatchEventType::Bookmark,
        "ERROR" => {
            let code = object["code"]
                .as_u64()
                .and_then(|c| u16::try_from(c).ok())
                .unwrap_or(500);
            return Ok(WatchLine::Error {
                code,
                body: object.to_string(),
            });
        }
        other => return Err(format!("unknown watch event type {other:?}")),
    };
    Ok(WatchLine::Event {
        kind,
        resource_version: object["metadata"]["resourceVersion"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        object: object.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_events_and_errors() {
        assert_eq!(
            parse_line(br#"{"type":"ADDED","object":{"metadata":{"resourceVersion":"7"}}}"#),
            Ok(WatchLine::Event {
                kind: WatchEventType::Added,
                object: r#"{"metadata":{"resourceVersion":"7"}}"#.into(),
                resource_version: "7".into(),
            })
        );
        assert_eq!(
            parse_line(br#"{"type":"ERROR","object":{"code":410}}"#),
            Ok(WatchLine::Error {
                code: 410,
                body: r#"{"code":410}"#.into(),
            })
        );
        assert_eq!(
            parse_line(br#"{"type":"ERROR","object":{"code":70000}}"#),
            Ok(WatchLine::Error {
                code: 500,
                body: r#"{"code":70000}"#.into(),
            })
        );
        assert_eq!(
            parse_line(br#"{"type":"GONE"}"#),
            Err(r#"unknown watch event type "GONE""#.into())
        );
        assert!(
            parse_line(b"{")
                .unwrap_err()
                .starts_with("watch event is not JSON: ")
        );
    }
}
