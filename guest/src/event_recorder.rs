//! `record-event`: an events.k8s.io/v1 Event about this pod, built and aggregated by the rules of
//! client-go's `tools/events` ([`pod_introspect_kube::events`]).
//!
//! client-go keeps the isomorphic Events it recorded in memory and turns a repeat into a
//! `series` update of the first one. A component instance (or a one-shot `pod-introspect api
//! event`) may not live that long, so the existing Event is found on the server instead: the
//! Events of this pod's namespace are listed and the newest isomorphic one about this pod is
//! patched. Only when none exists (or the identity may not list Events: client-go's recorder
//! needs only create, patch and update) is a new Event created; one deleted between the list
//! and the patch is created afresh with its series, as client-go's `recordEvent` does.

use crate::api::{ApiError, Client, ListOptions, PatchType, Transport, WriteOptions};
use crate::model::PodInfo;
use crate::self_pod;
use pod_introspect_kube::discovery::GroupVersionResource;
use pod_introspect_kube::events::{self, EventType, NewEvent, ObjectReference};
use pod_introspect_kube::micro_time::micro_time;
use serde_json::Value;
use std::time::{SystemTime, UNIX_EPOCH};

/// The reportingController when the caller names none.
pub const DEFAULT_REPORTING_CONTROLLER: &str = "pod-introspect.dev/component";

/// What to record (WIT `event-options`).
#[derive(Debug, Clone)]
pub struct EventRequest {
    /// `reason`.
    pub reason: String,
    /// `note`.
    pub note: String,
    /// `type: Warning` (else `Normal`).
    pub warning: bool,
    /// `action`; none: the reason.
    pub action: Option<String>,
    /// `reportingController`; none: [`DEFAULT_REPORTING_CONTROLLER`].
    pub reporting_controller: Option<String>,
    /// `reportingInstance`; none: this pod's name.
    pub reporting_instance: Option<String>,
}

fn events_gvr() -> GroupVersionResource {
    GroupVersionResource {
        group: "events.k8s.io".into(),
        version: "v1".into(),
        resource: "events".into(),
    }
}

/// Records `request` about this pod; returns the Event as stored (created or patched).
/// Errors: [`self_pod::identity`]'s when the pod's name or namespace is not exposed, `invalid`
/// for a field events.k8s.io/v1 validation would refuse (named), and the API server's.
pub fn record<T: Transport>(
    client: &mut Client<T>,
    info: &PodInfo,
    request: &EventRequest,
) -> Result<Value, ApiError> {
    let (name, namespace) = self_pod::identity(info)?;
    let uid = match &info.uid {
        Some(uid) => uid.clone(),
        // `regarding.uid` lets `kubectl describe pod` match the Event to this pod's object.
        None => self_pod::fetch(client, info)?.1["metadata"]["uid"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let event = NewEvent {
        regarding: ObjectReference::pod(&namespace, &name, uid),
        related: None,
        event_type: if request.warning {
            EventType::Warning
        } else {
            EventType::Normal
        },
        reason: request.reason.clone(),
        action: request
            .action
            .clone()
            .unwrap_or_else(|| request.reason.clone()),
        note: request.note.clone(),
        reporting_controller: request
            .reporting_controller
            .clone()
            .unwrap_or_else(|| DEFAULT_REPORTING_CONTROLLER.into()),
        reporting_instance: request
            .reporting_instance
            .clone()
            .unwrap_or_else(|| name.clone()),
    };
    let candidate =
        events::new_event(&event, &micro_time(now), now.as_nanos()).map_err(ApiError::Invalid)?;
    // The existing isomorphic Event, if this identity may list Events. A recorder with only
    // client-go's create/patch/update rights cannot look: it creates, as client-go does after a
    // restart (its series cache is in memory).
    let existing = match client.list_objects(
        &events_gvr(),
        &ListOptions {
            namespace: Some(namespace.clone()),
            ..ListOptions::default()
        },
    ) {
        Ok(list) => list.items,
        Err(ApiError::Forbidden(_)) => Vec::new(),
        Err(e) => return Err(e),
    };
    let newest = existing
        .iter()
        .filter_map(|item| serde_json::from_str::<Value>(item).ok())
        .filter(|e| events::is_isomorphic(e, &candidate))
        .max_by(|a, b| observed(a).cmp(observed(b)));
    let create = |client: &mut Client<T>, event: &Value| {
        client.create_object(
            &events_gvr(),
            Some(&namespace),
            event.to_string().as_bytes(),
            &WriteOptions::default(),
        )
    };
    let Some(existing) = newest else {
        return create(client, &candidate);
    };
    let patch = events::series_patch(&existing, &micro_time(now));
    match client.patch_object(
        &events_gvr(),
        Some(&namespace),
        existing["metadata"]["name"].as_str().unwrap_or_default(),
        PatchType::Merge,
        patch.to_string().as_bytes(),
        &WriteOptions::default(),
    ) {
        // Gone meanwhile (Events expire after an hour): client-go's `recordEvent` creates it
        // afresh, carrying the series on.
        Err(ApiError::NotFound(_)) => {
            let mut event = candidate;
            event["series"] = patch["series"].clone();
            create(client, &event)
        }
        other => other,
    }
}

/// When an Event was last seen: `series.lastObservedTime`, else `eventTime` (MicroTime text,
/// which sorts as time).
fn observed(e: &Value) -> &str {
    e["series"]["lastObservedTime"]
        .as_str()
        .or_else(|| e["eventTime"].as_str())
        .unwrap_or_default()
}
