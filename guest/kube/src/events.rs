//! Recording an `events.k8s.io/v1` Event about an object (a pod), by client-go's new events API
//! rules: the Event to create, when a repeat is the same event, the series patch for a repeat,
//! and the API server's validation.
//!
//! Upstream: client-go `tools/events/event_recorder.go` (`makeEvent`: the name
//! `fmt.Sprintf("%v.%x", refRegarding.Name, t.UnixNano())`, the namespace `default` for a
//! cluster-scoped object), `tools/events/event_broadcaster.go` (`getKey`: the isomorphism key;
//! `recordToSink`: a repeat sets `series {count: 2, lastObservedTime}`, later repeats increment
//! the count; `recordEvent`, `createPatchBytesForSeries`: the repeat is a strategic merge PATCH of
//! `series`, and a Create when the Event is gone), kubernetes `pkg/apis/core/validation/events.go`
//! (`ValidateEventCreate`, `legacyValidateEvent`: the limits and messages) and
//! `pkg/scheduler/schedule_one.go` (`truncateMessage`: a note cut to fit).
//!
//! Times are `MicroTime` text, RFC 3339 in UTC with 6 fractional digits
//! (`2026-12-03T08:00:00.123456Z`), passed in by the caller.

use serde_json::{Map, Value, json};

use crate::names;

/// The most bytes a note may have (`NoteLengthLimit`).
pub const NOTE_LENGTH_LIMIT: usize = 1024;
/// The most bytes a reason may have (`ReasonLengthLimit`).
pub const REASON_LENGTH_LIMIT: usize = 128;
/// The most bytes an action may have (`ActionLengthLimit`).
pub const ACTION_LENGTH_LIMIT: usize = 128;
/// The most bytes a reporting instance may have (`ReportingInstanceLengthLimit`).
pub const REPORTING_INSTANCE_LENGTH_LIMIT: usize = 128;

/// An Event's `type`: the only two the API server accepts (client-go `util.ValidateEventType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    /// `Normal`.
    Normal,
    /// `Warning`.
    Warning,
}

impl EventType {
    /// `Normal` or `Warning`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Normal => "Normal",
            EventType::Warning => "Warning",
        }
    }
}

/// A `core/v1` `ObjectReference` (`regarding`, `related`); empty fields are omitted from the JSON,
/// as Go's `omitempty` does.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ObjectReference {
    /// `apiVersion`, e.g. `v1`.
    pub api_version: String,
    /// `kind`, e.g. `Pod`.
    pub kind: String,
    /// `name`.
    pub name: String,
    /// `namespace`; empty for a cluster-scoped object.
    pub namespace: String,
    /// `uid`.
    pub uid: String,
    /// `resourceVersion`; usually empty (client-go's `GetReference` copies it when the object
    /// has one).
    pub resource_version: String,
    /// `fieldPath`, e.g. `spec.containers{app}`; usually empty.
    pub field_path: String,
}

impl ObjectReference {
    /// A reference to a pod: `apiVersion: v1`, `kind: Pod`.
    pub fn pod(
        namespace: impl Into<String>,
        name: impl Into<String>,
        uid: impl Into<String>,
    ) -> Self {
        ObjectReference {
            api_version: "v1".into(),
            kind: "Pod".into(),
            name: name.into(),
            namespace: namespace.into(),
            uid: uid.into(),
            ..ObjectReference::default()
        }
    }

    fn fields(&self) -> [(&'static str, &str); 7] {
        [
            ("kind", &self.kind),
            ("namespace", &self.namespace),
            ("name", &self.name),
            ("uid", &self.uid),
            ("apiVersion", &self.api_version),
            ("resourceVersion", &self.resource_version),
            ("fieldPath", &self.field_path),
        ]
    }

    /// The JSON object, without the empty fields.
    pub fn to_json(&self) -> Value {
        let map: Map<String, Value> = self
            .fields()
            .into_iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| (k.to_string(), Value::from(v)))
            .collect();
        Value::Object(map)
    }

    /// Reads one from JSON; absent fields are empty.
    pub fn from_json(v: &Value) -> Self {
        let text = |k: &str| v[k].as_str().unwrap_or_default().to_string();
        ObjectReference {
            api_version: text("apiVersion"),
            kind: text("kind"),
            name: text("name"),
            namespace: text("namespace"),
            uid: text("uid"),
            resource_version: text("resourceVersion"),
            field_path: text("fieldPath"),
        }
    }
}

/// What an Event reports (the arguments of client-go's `recorder.Eventf(regarding, related,
/// eventtype, reason, action, note)` and the recorder's `reportingController` /
/// `reportingInstance`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    /// The object the Event is about.
    pub regarding: ObjectReference,
    /// A second object involved, if any.
    pub related: Option<ObjectReference>,
    /// `Normal` or `Warning`.
    pub event_type: EventType,
    /// Why, CamelCase (`Started`, `BackOff`); 1–128 bytes.
    pub reason: String,
    /// What was done or failed (`Greeting`); 1–128 bytes.
    pub action: String,
    /// A human-readable description; cut to [`NOTE_LENGTH_LIMIT`] bytes ([`truncate_note`]).
    pub note: String,
    /// The controller that reports, a qualified name (`example.com/pod-greeter`).
    pub reporting_controller: String,
    /// Which instance of it (client-go: `CONTROLLER-HOSTNAME`); 1–128 bytes.
    pub reporting_instance: String,
}

/// kube-scheduler's `truncateMessage`: a note longer than [`NOTE_LENGTH_LIMIT`] bytes is cut to
/// 1020 bytes and ` ...` appended, so the API server accepts it (client-go's recorder itself cuts
/// nothing; the server refuses a longer note). The cut backs up to a UTF-8 character boundary
/// (Go cuts bytes).
pub fn truncate_note(note: &str) -> String {
    const SUFFIX: &str = " ...";
    if note.len() <= NOTE_LENGTH_LIMIT {
        return note.to_string();
    }
    let mut end = NOTE_LENGTH_LIMIT - SUFFIX.len();
    while !note.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{SUFFIX}", &note[..end])
}

/// client-go `makeEvent`: the `events.k8s.io/v1` Event to POST to
/// `/apis/events.k8s.io/v1/namespaces/NS/events`. `metadata.name` is
/// `REGARDING_NAME.HEX` with HEX the lowercase hex of `name_suffix_nanos` (the Unix time in
/// nanoseconds), `metadata.namespace` the regarding object's (`default` when it has none),
/// `eventTime` the MicroTime `event_time_micro`; the note is cut by [`truncate_note`] and
/// omitted when empty, `related` omitted when `None`.
///
/// Errors: the event fails [`validate`] (an empty or too long reason, action or reporting
/// instance, a reporting controller that is not a qualified name, an empty event time).
pub fn new_event(
    event: &NewEvent,
    event_time_micro: &str,
    name_suffix_nanos: u128,
) -> Result<Value, String> {
    let namespace = if event.regarding.namespace.is_empty() {
        "default"
    } else {
        &event.regarding.namespace
    };
    let mut v = json!({
        "apiVersion": "events.k8s.io/v1",
        "kind": "Event",
        "metadata": {
            "name": format!("{}.{name_suffix_nanos:x}", event.regarding.name),
            "namespace": namespace,
        },
        "eventTime": event_time_micro,
        "reportingController": event.reporting_controller,
        "reportingInstance": event.reporting_instance,
        "action": event.action,
        "reason": event.reason,
        "regarding": event.regarding.to_json(),
        "type": event.event_type.as_str(),
    });
    if let Some(related) = &event.related {
        v["related"] = related.to_json();
    }
    let note = truncate_note(&event.note);
    if !note.is_empty() {
        v["note"] = Value::from(note);
    }
    validate(&v)?;
    Ok(v)
}

/// The API server's checks of an `events.k8s.io/v1` Event on create (`ValidateEventCreate` and
/// the `legacyValidateEvent` part it runs), on the v1 field names: `reportingController`
/// required and a qualified name, `reportingInstance`, `action` and `reason` required and at
/// most 128 bytes, `note` at most 1024 bytes, `eventTime` required, `type` `Normal` or
/// `Warning`.
///
/// Errors: apimachinery `field.Error` texts, e.g. `reportingController: Required value`,
/// `reason: Invalid value: "": can have at most 128 characters`, `type: Invalid value: "": has
/// invalid value: Info`; several are listed as Go's aggregate prints them, `[A, B]`. (The server
/// names the note `message`, its internal name; we say `note`.)
pub fn validate(event: &Value) -> Result<(), String> {
    let text = |k: &str| event[k].as_str().unwrap_or_default();
    let mut errs: Vec<String> = Vec::new();
    let required =
        |errs: &mut Vec<String>, field: &str| errs.push(format!("{field}: Required value"));
    let too_long = |errs: &mut Vec<String>, field: &str, limit: usize| {
        errs.push(format!(
            "{field}: Invalid value: \"\": can have at most {limit} characters"
        ))
    };
    if text("eventTime").is_empty() {
        required(&mut errs, "eventTime");
    } else {
        let controller = text("reportingController");
        if controller.is_empty() {
            required(&mut errs, "reportingController");
        }
        for msg in names::is_qualified_name(controller) {
            errs.push(format!(
                "reportingController: Invalid value: {}: {msg}",
                crate::go_quote::quote(controller)
            ));
        }
        for (field, limit) in [
            ("reportingInstance", REPORTING_INSTANCE_LENGTH_LIMIT),
            ("action", ACTION_LENGTH_LIMIT),
            ("reason", REASON_LENGTH_LIMIT),
        ] {
            if text(field).is_empty() {
                required(&mut errs, field);
            }
            if text(field).len() > limit {
                too_long(&mut errs, field, limit);
            }
        }
        if text("note").len() > NOTE_LENGTH_LIMIT {
            too_long(&mut errs, "note", NOTE_LENGTH_LIMIT);
        }
    }
    let ty = text("type");
    if ty != "Normal" && ty != "Warning" {
        errs.push(format!(
            "type: Invalid value: \"\": has invalid value: {ty}"
        ));
    }
    match errs.len() {
        0 => Ok(()),
        1 => Err(errs.remove(0)),
        _ => Err(format!("[{}]", errs.join(", "))),
    }
}

/// client-go `getKey` (`event_broadcaster.go`, `eventKey`): two Events are the same event, to be
/// counted as a series, when their type, action, reason, reporting controller, reporting
/// instance, regarding and related object all agree. The note is not part of it (a repeat with
/// another note joins the first one's series, keeping the first note).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EventKey {
    /// `type`.
    pub event_type: String,
    /// `action`.
    pub action: String,
    /// `reason`.
    pub reason: String,
    /// `reportingController`.
    pub reporting_controller: String,
    /// `reportingInstance`.
    pub reporting_instance: String,
    /// `regarding`, every field.
    pub regarding: ObjectReference,
    /// `related`, every field (all empty when absent).
    pub related: ObjectReference,
}

/// The [`EventKey`] of an `events.k8s.io/v1` Event object.
pub fn event_key(event: &Value) -> EventKey {
    let text = |k: &str| event[k].as_str().unwrap_or_default().to_string();
    EventKey {
        event_type: text("type"),
        action: text("action"),
        reason: text("reason"),
        reporting_controller: text("reportingController"),
        reporting_instance: text("reportingInstance"),
        regarding: ObjectReference::from_json(&event["regarding"]),
        related: ObjectReference::from_json(&event["related"]),
    }
}

/// Whether `candidate` repeats `existing` ([`EventKey`] equality): a recorder finds the Event to
/// patch among those it created, or among the Events listed from the server (a restarted process
/// recording the same event again).
pub fn is_isomorphic(existing: &Value, candidate: &Value) -> bool {
    event_key(existing) == event_key(candidate)
}

/// The patch for a repeat of `existing` observed at `now_micro`: `{"series": {"count": N,
/// "lastObservedTime": NOW}}`, N being 2 when `existing` has no series yet, else its count + 1.
/// client-go sends it as `application/strategic-merge-patch+json` to
/// `/apis/events.k8s.io/v1/namespaces/NS/events/NAME` (for this body a JSON merge patch is the
/// same); on 404 it creates the Event instead, with the series in it and no resourceVersion.
///
/// client-go writes the first repeat at once but later counts only in its 30-minute refresh
/// and when a series ends (6 minutes without a repeat); when to send is the caller's choice.
pub fn series_patch(existing: &Value, now_micro: &str) -> Value {
    let count = existing["series"]["count"]
        .as_i64()
        .map_or(2, |c| c.saturating_add(1));
    json!({"series": {"count": count, "lastObservedTime": now_micro}})
}

#[cfg(test)]
mod tests;
