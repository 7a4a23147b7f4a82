//! `metadata.managedFields`: decoding, manager identity, encoding.
//!
//! Upstream: `staging/src/k8s.io/apimachinery/pkg/util/managedfields/internal/managedfields.go`
//! (`DecodeManagedFields`, `BuildManagerIdentifier`, `encodeManagedFields`,
//! `sortEncodedManagedFields`).

use serde_json::{Map, Value, json};

use super::fieldpath::Set;

/// `metav1.ManagedFieldsOperationApply`.
pub const APPLY: &str = "Apply";
/// `metav1.ManagedFieldsOperationUpdate`.
pub const UPDATE: &str = "Update";

/// One manager's fields (`metav1.ManagedFieldsEntry` with its `fieldsV1` decoded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// `manager`.
    pub manager: String,
    /// `operation`: [`APPLY`] or [`UPDATE`].
    pub operation: String,
    /// `apiVersion` the fields were written in (`v1`, `apps/v1`).
    pub api_version: String,
    /// `time`, as written (`2026-01-02T03:04:05Z`); `None` when absent.
    pub time: Option<String>,
    /// `subresource` (`status`), empty for the main resource.
    pub subresource: String,
    /// The fields (`fieldsV1`).
    pub set: Set,
}

impl Entry {
    /// `BuildManagerIdentifier`: the JSON of the entry without `fieldsType`, `fieldsV1` and
    /// `time`, and without `apiVersion` for an applier, in Go's field order
    /// (`{"manager":"kubectl","operation":"Apply"}`,
    /// `{"manager":"kubectl-edit","operation":"Update","apiVersion":"v1"}`). Two entries with
    /// the same identifier are the same manager.
    pub fn id(&self) -> String {
        let mut s = format!(
            "{{\"manager\":{},\"operation\":{}",
            Value::String(self.manager.clone()),
            Value::String(self.operation.clone())
        );
        if self.operation != APPLY && !self.api_version.is_empty() {
            s.push_str(&format!(
                ",\"apiVersion\":{}",
                Value::String(self.api_version.clone())
            ));
        }
        if !self.subresource.is_empty() {
            s.push_str(&format!(
                ",\"subresource\":{}",
                Value::String(self.subresource.clone())
            ));
        }
        s.push('}');
        s
    }

    /// `printManager` (`internal/conflict.go`): `"kubectl"`, `"x" with subresource "status"`,
    /// `"kubectl-edit" using v1` for an updater (the identifier has no time).
    pub fn printed(&self) -> String {
        let mut s = pod_introspect_kube::go_quote::quote(&self.manager);
        if !self.subresource.is_empty() {
            s = format!(
                "{s} with subresource {}",
                pod_introspect_kube::go_quote::quote(&self.subresource)
            );
        }
        if self.operation == UPDATE {
            s = format!("{s} using {}", self.api_version);
        }
        s
    }

    fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("manager".into(), json!(self.manager));
        m.insert("operation".into(), json!(self.operation));
        m.insert("apiVersion".into(), json!(self.api_version));
        if let Some(t) = &self.time {
            m.insert("time".into(), json!(t));
        }
        m.insert("fieldsType".into(), json!("FieldsV1"));
        m.insert("fieldsV1".into(), self.set.to_fields_v1());
        if !self.subresource.is_empty() {
            m.insert("subresource".into(), json!(self.subresource));
        }
        Value::Object(m)
    }
}

/// The entries of `obj`'s `metadata.managedFields` (`DecodeManagedFields`). Entries without
/// a manager-and-operation, of another `fieldsType` or with `fieldsV1` that does not parse are
/// skipped (kube-apiserver refuses such an object's managed fields as a whole and falls back
/// to the stored ones; for a stored object there is nothing better to fall back to).
pub fn decode(obj: &Value) -> Vec<Entry> {
    let Some(list) = obj["metadata"]["managedFields"].as_array() else {
        return Vec::new();
    };
    let mut out: Vec<Entry> = Vec::new();
    for e in list {
        let text = |k: &str| e[k].as_str().unwrap_or("").to_owned();
        let (manager, operation) = (text("manager"), text("operation"));
        if operation != APPLY && operation != UPDATE {
            continue;
        }
        if !matches!(e["fieldsType"].as_str(), Some("FieldsV1") | None) {
            continue;
        }
        let set = match e.get("fieldsV1") {
            None | Some(Value::Null) => Set::new(),
            Some(v) => match Set::from_fields_v1(v) {
                Ok(s) => s,
                Err(_) => continue,
            },
        };
        let entry = Entry {
            manager,
            operation,
            api_version: text("apiVersion"),
            time: e["time"].as_str().map(str::to_owned),
            subresource: text("subresource"),
            set,
        };
        // A repeated identifier: upstream's decoder keeps the last one.
        let id = entry.id();
        out.retain(|o| o.id() != id);
        out.push(entry);
    }
    out
}

/// True when `obj` carries a non-empty `metadata.managedFields` list.
pub fn has_managed_fields(obj: &Value) -> bool {
    obj["metadata"]["managedFields"]
        .as_array()
        .is_some_and(|l| !l.is_empty())
}

/// Writes `entries` to `obj`'s `metadata.managedFields`, sorted as `sortEncodedManagedFields`
/// sorts them (operation — `Apply` before `Update` —, then time, manager, apiVersion,
/// subresource); entries with no fields are dropped, and no entries removes the field.
pub fn encode(obj: &mut Value, mut entries: Vec<Entry>) {
    entries.retain(|e| !e.set.is_empty());
    entries.sort_by(|p, q| {
        p.operation
            .cmp(&q.operation)
            .then_with(|| seconds(p.time.as_deref()).cmp(&seconds(q.time.as_deref())))
            .then_with(|| p.manager.cmp(&q.manager))
            .then_with(|| p.api_version.cmp(&q.api_version))
            .then_with(|| p.subresource.cmp(&q.subresource))
    });
    let Some(meta) = obj
        .as_object_mut()
        .map(|o| o.entry("metadata").or_insert_with(|| json!({})))
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    if entries.is_empty() {
        meta.remove("managedFields");
    } else {
        meta.insert(
            "managedFields".into(),
            Value::Array(entries.iter().map(Entry::to_json).collect()),
        );
    }
}

/// Seconds since the epoch of an RFC 3339 time (`0` for none or a bad one, as `Time.Unix` of
/// a nil time is 0 in the sort).
fn seconds(t: Option<&str>) -> i64 {
    t.and_then(|t| t.parse::<k8s_openapi::jiff::Timestamp>().ok())
        .map_or(0, |ts| ts.as_second())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_and_printed_names_are_upstreams() {
        let obj = json!({"metadata": {"managedFields": [
            {"manager": "kubectl-edit", "operation": "Update", "apiVersion": "v1",
             "time": "2025-01-02T03:04:05Z", "fieldsType": "FieldsV1",
             "fieldsV1": {"f:data": {"f:a": {}}}},
            {"manager": "kubectl", "operation": "Apply", "apiVersion": "v1",
             "fieldsType": "FieldsV1", "fieldsV1": {"f:data": {"f:b": {}}}},
            {"manager": "ctl", "operation": "Update", "apiVersion": "v1",
             "subresource": "status", "fieldsType": "FieldsV1", "fieldsV1": {"f:status": {}}}
        ]}});
        let entries = decode(&obj);
        assert_eq!(
            entries[0].id(),
            r#"{"manager":"kubectl-edit","operation":"Update","apiVersion":"v1"}"#
        );
        assert_eq!(
            entries[1].id(),
            r#"{"manager":"kubectl","operation":"Apply"}"#
        );
        assert_eq!(entries[0].printed(), r#""kubectl-edit" using v1"#);
        assert_eq!(entries[1].printed(), r#""kubectl""#);
        assert_eq!(
            entries[2].printed(),
            r#""ctl" with subresource "status" using v1"#
        );
        let mut out = json!({"metadata": {}});
        encode(&mut out, entries);
        let managers: Vec<&str> = out["metadata"]["managedFields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["manager"].as_str().unwrap())
            .collect();
        // Apply first; then the Update without time (0) before the one with a time.
        assert_eq!(managers, ["kubectl", "ctl", "kubectl-edit"]);
    }
}
