//! Request paths and query strings.

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

/// `/api/v1/namespaces/{ns}/pods` or `/api/v1/pods`.
pub fn pods_path(namespace: Option<&str>) -> String {
    match namespace {
        Some(ns) => format!("/api/v1/namespaces/{}/pods", encode_component(ns)),
        None => "/api/v1/pods".to_string(),
    }
}

/// Appends `k=v` to a query when `v` is set and non-empty.
pub(super) fn push(q: &mut Vec<(String, String)>, k: &str, v: &Option<String>) {
    if let Some(v) = v.as_ref().filter(|v| !v.is_empty()) {
        q.push((k.to_string(), v.clone()));
    }
}
