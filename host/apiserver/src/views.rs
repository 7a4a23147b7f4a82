//! Two views of one store: core `v1` Events and `events.k8s.io/v1` Events are the same objects
//! (kube-apiserver stores the internal `Event` once and serves both groups from it). The
//! emulator stores the core form and converts at the edge, field for field as
//! `pkg/apis/events/v1/conversion.go` does: `regarding` = `involvedObject`, `note` = `message`,
//! `reportingController` = `reportingComponent`, `deprecatedSource` = `source`,
//! `deprecatedFirstTimestamp` / `deprecatedLastTimestamp` / `deprecatedCount` =
//! `firstTimestamp` / `lastTimestamp` / `count`; the other fields have the same names.

use serde_json::{Map, Value, json};

use crate::resources::{self, ResourceType};

/// (events.k8s.io/v1 name, core v1 name).
const RENAMED: &[(&str, &str)] = &[
    ("regarding", "involvedObject"),
    ("note", "message"),
    ("reportingController", "reportingComponent"),
    ("deprecatedSource", "source"),
    ("deprecatedFirstTimestamp", "firstTimestamp"),
    ("deprecatedLastTimestamp", "lastTimestamp"),
    ("deprecatedCount", "count"),
];

fn is_events_v1(r: &ResourceType) -> bool {
    r.group == "events.k8s.io" && r.resource == "events"
}

fn rename(obj: Value, to_core: bool, r: &ResourceType) -> Value {
    let Value::Object(map) = obj else {
        return obj;
    };
    let mut out = Map::new();
    for (k, v) in map {
        let renamed = RENAMED.iter().find_map(|(v1, core)| {
            if to_core {
                (k == *v1).then_some(*core)
            } else {
                (k == *core).then_some(*v1)
            }
        });
        out.insert(renamed.map_or(k, str::to_owned), v);
    }
    out.insert("apiVersion".into(), json!(r.api_version()));
    out.insert("kind".into(), json!(r.kind));
    Value::Object(out)
}

/// A stored object as resource `r` serves it (unchanged unless `r` is a second view).
pub fn to_view(r: &ResourceType, stored: Value) -> Value {
    if is_events_v1(r) {
        rename(stored, false, r)
    } else {
        stored
    }
}

/// An object sent to resource `r` in the form its store keeps.
pub fn from_view(r: &'static ResourceType, given: Value) -> Value {
    if is_events_v1(r) {
        rename(given, true, resources::storage_of(r))
    } else {
        given
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::find;

    #[test]
    fn events_round_trip_between_the_groups() {
        let v1 = find("events.k8s.io", "v1", "events").unwrap();
        let core = json!({"apiVersion": "v1", "kind": "Event", "metadata": {"name": "e"},
            "involvedObject": {"kind": "Pod", "name": "p"}, "message": "hi", "reason": "Started",
            "count": 2, "source": {"component": "kubelet"}, "reportingComponent": "kubelet", "type": "Normal"});
        let view = to_view(v1, core.clone());
        assert_eq!(view["apiVersion"], "events.k8s.io/v1");
        assert_eq!(view["regarding"]["name"], "p");
        assert_eq!(view["note"], "hi");
        assert_eq!(view["deprecatedCount"], 2);
        assert_eq!(view["deprecatedSource"]["component"], "kubelet");
        assert_eq!(view["reportingController"], "kubelet");
        assert_eq!(view["reason"], "Started");
        assert_eq!(from_view(v1, view), core);
    }
}
