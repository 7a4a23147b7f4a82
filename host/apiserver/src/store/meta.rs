//! Reading and writing `metadata` of objects held as JSON (`serde_json::Value`), and the
//! ObjectMeta validation of `staging/src/k8s.io/apimachinery/pkg/api/validation/objectmeta.go`.

use std::collections::BTreeMap;

use pod_introspect_kube::names;
use serde_json::{Map, Value};

use crate::resources::ResourceType;

/// `metadata.FIELD` as a string, or `""`.
pub fn str_of<'a>(obj: &'a Value, field: &str) -> &'a str {
    obj.get("metadata")
        .and_then(|m| m.get(field))
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// `metadata.name`.
pub fn name(obj: &Value) -> &str {
    str_of(obj, "name")
}

/// `metadata.namespace`.
pub fn namespace(obj: &Value) -> &str {
    str_of(obj, "namespace")
}

/// `metadata.resourceVersion`.
pub fn resource_version(obj: &Value) -> &str {
    str_of(obj, "resourceVersion")
}

/// `metadata.uid`.
pub fn uid(obj: &Value) -> &str {
    str_of(obj, "uid")
}

/// The `metadata` object, created when missing (an object that is not a JSON object is
/// replaced by an empty one first: callers have checked the shape).
pub fn meta_mut(obj: &mut Value) -> &mut Map<String, Value> {
    if !obj.is_object() {
        *obj = Value::Object(Map::new());
    }
    let map = obj.as_object_mut().expect("an object");
    let meta = map
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()));
    if !meta.is_object() {
        *meta = Value::Object(Map::new());
    }
    meta.as_object_mut().expect("an object")
}

/// Sets `metadata.FIELD` (a `Value::Null` removes it).
pub fn set(obj: &mut Value, field: &str, value: Value) {
    let meta = meta_mut(obj);
    if value.is_null() {
        meta.remove(field);
    } else {
        meta.insert(field.to_owned(), value);
    }
}

/// The labels (`metadata.labels`), string values only.
pub fn labels(obj: &Value) -> Option<BTreeMap<String, String>> {
    let map = obj.get("metadata")?.get("labels")?.as_object()?;
    Some(
        map.iter()
            .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned())))
            .collect(),
    )
}

/// `metadata.finalizers`.
pub fn finalizers(obj: &Value) -> Vec<String> {
    obj.get("metadata")
        .and_then(|m| m.get("finalizers"))
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// True when `metadata.deletionTimestamp` is set.
pub fn is_deleting(obj: &Value) -> bool {
    !str_of(obj, "deletionTimestamp").is_empty()
}

/// The value at a dotted JSON path (`spec.nodeName`), as a field selector compares it: strings
/// as they are, numbers and booleans printed, anything missing `""`.
pub fn field_value(obj: &Value, path: &str) -> String {
    let mut v = obj;
    for part in path.split('.') {
        match v.get(part) {
            Some(next) => v = next,
            None => return String::new(),
        }
    }
    match v {
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    }
}

/// apimachinery `TotalAnnotationSizeLimitB`: all annotation keys and values together.
pub const TOTAL_ANNOTATION_SIZE_LIMIT: usize = 256 * 1024;

/// How an object's name is validated (`pkg/apis/core/validation/validation.go`
/// `ValidateXName`): DNS-1123 subdomain for most kinds, DNS-1123 label for namespaces,
/// DNS-1035 label for services, a path segment for RBAC objects
/// (`pkg/apis/rbac/validation/validation.go` `ValidateRBACName` = `path.ValidatePathSegmentName`).
fn name_errors(r: &ResourceType, name: &str) -> Vec<String> {
    match (r.group, r.resource) {
        ("", "namespaces") => names::is_dns1123_label(name),
        ("", "services") => dns1035_label(name),
        ("rbac.authorization.k8s.io", _) => path_segment(name),
        _ => names::is_dns1123_subdomain(name),
    }
}

/// `validation.IsDNS1035Label` (`staging/src/k8s.io/apimachinery/pkg/util/validation/validation.go`).
fn dns1035_label(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > 63 {
        errs.push("must be no more than 63 characters".to_owned());
    }
    let ok = value
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && value.starts_with(|c: char| c.is_ascii_lowercase())
        && value.ends_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit());
    if !ok {
        errs.push("a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')".to_owned());
    }
    errs
}

/// `path.IsValidPathSegmentName` (`staging/src/k8s.io/apimachinery/pkg/api/validation/path/name.go`).
fn path_segment(name: &str) -> Vec<String> {
    if name == "." || name == ".." {
        return vec![format!("may not be '{name}'")];
    }
    let mut errs = Vec::new();
    for bad in ["/", "%"] {
        if name.contains(bad) {
            errs.push(format!("may not contain '{bad}'"));
        }
    }
    errs
}

/// Validates `metadata` of a new or updated object as `ValidateObjectMeta` does: the name
/// (per kind: `name_errors`), label keys and values, annotation keys and their total
/// size. Returns the field errors as kube-apiserver prints them
/// (`metadata.name: Invalid value: "X": MSG`).
pub fn validate(r: &ResourceType, obj: &Value) -> Vec<String> {
    let mut errs = Vec::new();
    let n = name(obj);
    if n.is_empty() {
        errs.push("metadata.name: Required value: name or generateName is required".to_owned());
    } else {
        for msg in name_errors(r, n) {
            errs.push(format!("metadata.name: Invalid value: {}: {msg}", quote(n)));
        }
    }
    for (key, value) in labels(obj).unwrap_or_default() {
        for msg in names::is_qualified_name(&key) {
            errs.push(format!(
                "metadata.labels: Invalid value: {}: {msg}",
                quote(&key)
            ));
        }
        for msg in names::is_valid_label_value(&value) {
            errs.push(format!(
                "metadata.labels: Invalid value: {}: {msg}",
                quote(&value)
            ));
        }
    }
    if let Some(annotations) = obj
        .get("metadata")
        .and_then(|m| m.get("annotations"))
        .and_then(Value::as_object)
    {
        let mut total = 0usize;
        for (key, value) in annotations {
            for msg in names::is_qualified_name(&key.to_lowercase()) {
                errs.push(format!(
                    "metadata.annotations: Invalid value: {}: {msg}",
                    quote(key)
                ));
            }
            total += key.len() + value.as_str().map_or(0, str::len);
        }
        if total > TOTAL_ANNOTATION_SIZE_LIMIT {
            errs.push(format!(
                "metadata.annotations: Too long: may not be more than {TOTAL_ANNOTATION_SIZE_LIMIT} bytes"
            ));
        }
    }
    errs
}

/// A value in a field error, as Go's `%q` prints it.
fn quote(s: &str) -> String {
    pod_introspect_kube::go_quote::quote(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::find;
    use serde_json::json;

    #[test]
    fn names_follow_the_kind_s_rule() {
        let cm = find("", "v1", "configmaps").unwrap();
        let svc = find("", "v1", "services").unwrap();
        let role = find("rbac.authorization.k8s.io", "v1", "clusterroles").unwrap();
        let ok = |r, n: &str| validate(r, &json!({"metadata": {"name": n}})).is_empty();
        assert!(ok(cm, "a.b-c"));
        assert!(!ok(cm, "A"));
        assert!(!ok(svc, "a.b"));
        assert!(!ok(svc, "1ab"));
        assert!(ok(role, "system:controller:x"));
        assert!(!ok(role, "a/b"));
        assert_eq!(
            validate(cm, &json!({"metadata": {}})),
            vec!["metadata.name: Required value: name or generateName is required"]
        );
    }

    #[test]
    fn annotations_are_capped_at_256_kib() {
        let cm = find("", "v1", "configmaps").unwrap();
        let big = "x".repeat(TOTAL_ANNOTATION_SIZE_LIMIT);
        let errs = validate(
            cm,
            &json!({"metadata": {"name": "a", "annotations": {"k": big}}}),
        );
        assert_eq!(
            errs,
            vec!["metadata.annotations: Too long: may not be more than 262144 bytes"]
        );
        let fits = "x".repeat(TOTAL_ANNOTATION_SIZE_LIMIT - 1);
        assert!(
            validate(
                cm,
                &json!({"metadata": {"name": "a", "annotations": {"k": fits}}})
            )
            .is_empty()
        );
    }

    #[test]
    fn field_values_print_like_the_selectable_fields() {
        let o = json!({"spec": {"hostNetwork": true, "n": 3}, "source": {"component": "kubelet"}});
        assert_eq!(field_value(&o, "spec.hostNetwork"), "true");
        assert_eq!(field_value(&o, "spec.n"), "3");
        assert_eq!(field_value(&o, "source.component"), "kubelet");
        assert_eq!(field_value(&o, "spec.missing"), "");
    }
}
