//! The parsed request: query parameters and the resource request attributes
//! (`staging/src/k8s.io/apiserver/pkg/endpoints/request/requestinfo.go`).

use http::Method;

/// Decoded query parameters; the last occurrence of a name wins.
#[derive(Debug, Default)]
pub(super) struct Query(pub(super) Vec<(String, String)>);

impl Query {
    /// Go `url.ParseQuery`, as `req.URL.Query()` gives it to the handlers: a pair with an
    /// invalid escape is dropped.
    pub(super) fn parse(q: Option<&str>) -> Self {
        Query(pod_introspect_kube::percent::parse_query(q.unwrap_or("")))
    }

    pub(super) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub(super) fn flag(&self, name: &str) -> bool {
        pod_introspect_kube::percent::query_flag(self.get(name))
    }
}

/// The parsed resource request (`endpoints/request/requestinfo.go`): `/api/v1/...` or
/// `/apis/GROUP/VERSION/...`, then `[namespaces/NS/]RESOURCE[/NAME[/SUBRESOURCE]]`.
#[derive(Debug)]
pub(super) struct RequestInfo {
    pub(super) verb: String,
    pub(super) group: String,
    pub(super) version: String,
    pub(super) resource: String,
    pub(super) subresource: String,
    pub(super) namespace: String,
    pub(super) name: String,
    /// The path named a resource inside a namespace (`namespaces/NS/RESOURCE[/...]`), not a
    /// namespace itself (`namespaces/NAME[/status|finalize]`).
    pub(super) in_namespace: bool,
}

impl RequestInfo {
    /// `group` and `version` from the path prefix; `segments` the decoded rest.
    pub(super) fn new(
        method: &Method,
        group: &str,
        version: &str,
        segments: &[String],
        query: &Query,
    ) -> Option<Self> {
        if segments.iter().any(|s| s.is_empty()) {
            return None;
        }
        let (namespace, resource, name, subresource) = match segments {
            [r] => (String::new(), r.clone(), String::new(), String::new()),
            // namespaces/NAME: the namespace is its own name.
            [ns_kw, ns] if ns_kw == "namespaces" => {
                (ns.clone(), ns_kw.clone(), ns.clone(), String::new())
            }
            [ns_kw, ns, sub] if ns_kw == "namespaces" && (sub == "status" || sub == "finalize") => {
                (ns.clone(), ns_kw.clone(), ns.clone(), sub.clone())
            }
            [ns_kw, ns, r] if ns_kw == "namespaces" => {
                (ns.clone(), r.clone(), String::new(), String::new())
            }
            [ns_kw, ns, r, n] if ns_kw == "namespaces" => {
                (ns.clone(), r.clone(), n.clone(), String::new())
            }
            [ns_kw, ns, r, n, s] if ns_kw == "namespaces" => {
                (ns.clone(), r.clone(), n.clone(), s.clone())
            }
            [r, n] => (String::new(), r.clone(), n.clone(), String::new()),
            [r, n, s] => (String::new(), r.clone(), n.clone(), s.clone()),
            _ => return None,
        };
        let in_namespace = segments[0] == "namespaces"
            && (segments.len() >= 4
                || (segments.len() == 3 && !matches!(segments[2].as_str(), "status" | "finalize")));
        let watch = query.flag("watch");
        let verb = match *method {
            Method::GET | Method::HEAD if watch => "watch",
            Method::GET | Method::HEAD if name.is_empty() => "list",
            Method::GET | Method::HEAD => "get",
            Method::POST => "create",
            Method::PUT => "update",
            Method::PATCH => "patch",
            Method::DELETE if name.is_empty() => "deletecollection",
            Method::DELETE => "delete",
            _ => "unknown",
        };
        Some(RequestInfo {
            verb: verb.to_owned(),
            group: group.to_owned(),
            version: version.to_owned(),
            resource,
            subresource,
            namespace,
            name,
            in_namespace,
        })
    }
}
