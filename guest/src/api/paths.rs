//! Request paths and query strings.

use pod_introspect_kube::discovery::{GroupVersionResource, collection_path};
pub use pod_introspect_kube::percent::encode_component;

/// `path?k=v&...` with encoded values; a `path` that already has a query gets `&k=v...`.
pub fn path_with_query(path: &str, query: &[(String, String)]) -> String {
    if query.is_empty() {
        return path.to_string();
    }
    let q: Vec<String> = query
        .iter()
        .map(|(k, v)| format!("{}={}", encode_component(k), encode_component(v)))
        .collect();
    let join = if path.contains('?') { '&' } else { '?' };
    format!("{path}{join}{}", q.join("&"))
}

/// The core group's `v1` `pods`.
pub fn pods() -> GroupVersionResource {
    GroupVersionResource::new("", "v1", "pods")
}

/// `/api/v1/namespaces/{ns}/pods` or `/api/v1/pods` ([`collection_path`] of [`pods`]).
pub fn pods_path(namespace: Option<&str>) -> String {
    collection_path(&pods(), namespace)
}

/// Appends `k=v` to a query when `v` is set and non-empty.
pub(super) fn push(q: &mut Vec<(String, String)>, k: &str, v: &Option<String>) {
    if let Some(v) = v.as_ref().filter(|v| !v.is_empty()) {
        q.push((k.to_string(), v.clone()));
    }
}
