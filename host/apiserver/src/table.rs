//! Server-side printing: the `meta.k8s.io/v1` `Table` that `kubectl get` asks for with
//! `Accept: application/json;as=Table;v=v1;g=meta.k8s.io`.
//!
//! Upstream: `pkg/printers/internalversion/printers.go` (`podColumnDefinitions`, `printPod`),
//! `staging/src/k8s.io/apimachinery/pkg/util/duration/duration.go` (`HumanDuration`, the AGE
//! column) and `staging/src/k8s.io/apiserver/pkg/endpoints/handlers/response.go` (`asTable`,
//! `includeObject`).

use k8s_openapi::api::core::v1::Pod;
use serde_json::{Value, json};

use crate::tokens::now_unix;

/// What each row's `object` holds (`includeObject` query parameter).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IncludeObject {
    /// No object.
    None,
    /// A `PartialObjectMetadata` (the default).
    Metadata,
    /// The whole object.
    Object,
}

impl IncludeObject {
    /// Parses the query value; unknown values mean the default.
    pub fn parse(v: Option<&str>) -> Self {
        match v {
            Some("None") => IncludeObject::None,
            Some("Object") => IncludeObject::Object,
            _ => IncludeObject::Metadata,
        }
    }
}

/// True when the `Accept` header asks for a `meta.k8s.io` `Table` (any version).
pub fn wants_table(accept: &str) -> bool {
    accept.split(',').any(|part| {
        let params: Vec<&str> = part.split(';').map(str::trim).collect();
        params.contains(&"as=Table") && params.contains(&"g=meta.k8s.io")
    })
}

/// `HumanDuration` for a whole number of seconds.
pub fn human_duration(seconds: i64) -> String {
    if seconds < -1 {
        return "<invalid>".into();
    }
    if seconds < 0 {
        return "0s".into();
    }
    if seconds < 120 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 10 {
        let s = seconds % 60;
        return if s == 0 {
            format!("{minutes}m")
        } else {
            format!("{minutes}m{s}s")
        };
    }
    if minutes < 180 {
        return format!("{minutes}m");
    }
    let hours = seconds / 3600;
    if hours < 8 {
        let m = minutes % 60;
        return if m == 0 {
            format!("{hours}h")
        } else {
            format!("{hours}h{m}m")
        };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        let h = hours % 24;
        return if h == 0 {
            format!("{}d", hours / 24)
        } else {
            format!("{}d{h}h", hours / 24)
        };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        let d = (hours / 24) % 365;
        return if d == 0 {
            format!("{}y", hours / 24 / 365)
        } else {
            format!("{}y{d}d", hours / 24 / 365)
        };
    }
    format!("{}y", hours / 24 / 365)
}

fn column(name: &str, format: &str, priority: i32, description: &str) -> Value {
    json!({"name": name, "type": "string", "format": format, "description": description, "priority": priority})
}

fn pod_columns() -> Value {
    json!([
        column(
            "Name",
            "name",
            0,
            "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names"
        ),
        column(
            "Ready",
            "",
            0,
            "The aggregate readiness state of this pod for accepting traffic."
        ),
        column(
            "Status",
            "",
            0,
            "The aggregate status of the containers in this pod."
        ),
        column(
            "Restarts",
            "",
            0,
            "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted."
        ),
        column(
            "Age",
            "",
            0,
            "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC."
        ),
        column(
            "IP",
            "",
            1,
            "podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated."
        ),
        column(
            "Node",
            "",
            1,
            "NodeName indicates in which node this pod is scheduled."
        ),
        column(
            "Nominated Node",
            "",
            1,
            "nominatedNodeName is set only when this pod preempts other pods on the node."
        ),
        column(
            "Readiness Gates",
            "",
            1,
            "If specified, all readiness gates will be evaluated for pod readiness."
        ),
    ])
}

fn pod_cells(pod: &Pod) -> Value {
    let status = pod.status.clone().unwrap_or_default();
    let spec = pod.spec.clone().unwrap_or_default();
    let statuses = status.container_statuses.clone().unwrap_or_default();
    let ready = statuses.iter().filter(|c| c.ready).count();
    let restarts: i32 = statuses.iter().map(|c| c.restart_count).sum();
    let mut reason = status
        .reason
        .clone()
        .or(status.phase.clone())
        .unwrap_or_default();
    if let Some(waiting) = statuses.iter().rev().find_map(|c| {
        c.state
            .as_ref()
            .and_then(|s| s.waiting.as_ref())
            .and_then(|w| w.reason.clone())
    }) {
        reason = waiting;
    }
    if pod.metadata.deletion_timestamp.is_some() {
        reason = "Terminating".into();
    }
    let age = pod
        .metadata
        .creation_timestamp
        .as_ref()
        .map(|t| human_duration(i64::try_from(now_unix()).unwrap_or(0) - t.0.as_second()))
        .unwrap_or_else(|| "<unknown>".into());
    let none = || "<none>".to_owned();
    let gates = spec
        .readiness_gates
        .as_ref()
        .filter(|g| !g.is_empty())
        .map(|g| {
            let conditions = status.conditions.clone().unwrap_or_default();
            let true_count = g
                .iter()
                .filter(|gate| {
                    conditions
                        .iter()
                        .any(|c| c.type_ == gate.condition_type && c.status == "True")
                })
                .count();
            format!("{true_count}/{}", g.len())
        });
    json!([
        pod.metadata.name.clone().unwrap_or_default(),
        format!("{ready}/{}", spec.containers.len()),
        reason,
        restarts.to_string(),
        age,
        status.pod_ip.clone().unwrap_or_else(none),
        spec.node_name.clone().unwrap_or_else(none),
        status.nominated_node_name.clone().unwrap_or_else(none),
        gates.unwrap_or_else(none),
    ])
}

fn row_object(pod: &Pod, include: IncludeObject) -> Option<Value> {
    match include {
        IncludeObject::None => None,
        IncludeObject::Metadata => Some(json!({
            "kind": "PartialObjectMetadata",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": serde_json::to_value(&pod.metadata).unwrap_or(Value::Null),
        })),
        IncludeObject::Object => serde_json::to_value(pod).ok(),
    }
}

/// A `Table` of pods. `list_meta` becomes the table's `metadata` (resourceVersion, continue,
/// remainingItemCount).
pub fn pods_table(pods: &[Pod], list_meta: Value, include: IncludeObject) -> Value {
    let rows: Vec<Value> = pods
        .iter()
        .map(|p| {
            let mut row = json!({"cells": pod_cells(p)});
            if let Some(obj) = row_object(p, include) {
                row["object"] = obj;
            }
            row
        })
        .collect();
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": list_meta,
        "columnDefinitions": pod_columns(),
        "rows": rows,
    })
}

/// The `Table` of `objects` of resource `r` (JSON objects as served): the pod columns for
/// pods, otherwise the default convertor's `Name` and `Created At`
/// (`staging/src/k8s.io/apiserver/pkg/registry/rest/table.go`).
pub fn table(
    r: &crate::resources::ResourceType,
    objects: &[Value],
    list_meta: Value,
    include: IncludeObject,
) -> Value {
    if r.group.is_empty() && r.resource == "pods" {
        let pods: Vec<Pod> = objects
            .iter()
            .filter_map(|o| serde_json::from_value(o.clone()).ok())
            .collect();
        return pods_table(&pods, list_meta, include);
    }
    let rows: Vec<Value> = objects
        .iter()
        .map(|o| {
            let created = o["metadata"]["creationTimestamp"].clone();
            let mut row = json!({"cells": [o["metadata"]["name"].clone(), created]});
            match include {
                IncludeObject::None => {}
                IncludeObject::Object => row["object"] = o.clone(),
                IncludeObject::Metadata => {
                    row["object"] = json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": o["metadata"].clone()});
                }
            }
            row
        })
        .collect();
    json!({
        "kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": list_meta,
        "columnDefinitions": [
            {"name": "Name", "type": "string", "format": "name", "description": "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names", "priority": 0},
            {"name": "Created At", "type": "date", "format": "", "description": "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata", "priority": 0},
        ],
        "rows": rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_durations() {
        for (s, want) in [
            (-5, "<invalid>"),
            (-1, "0s"),
            (0, "0s"),
            (119, "119s"),
            (120, "2m"),
            (125, "2m5s"),
            (600, "10m"),
            (179 * 60, "179m"),
            (3 * 3600, "3h"),
            (3 * 3600 + 60, "3h1m"),
            (8 * 3600, "8h"),
            (48 * 3600, "2d"),
            (50 * 3600, "2d2h"),
            (10 * 86400, "10d"),
            (800 * 86400, "2y70d"),
            (3000 * 86400, "8y"),
        ] {
            assert_eq!(human_duration(s), want, "{s}");
        }
    }

    #[test]
    fn accept_detection() {
        assert!(wants_table(
            "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"
        ));
        assert!(!wants_table("application/json"));
        assert!(!wants_table(
            "application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io"
        ));
    }
}
