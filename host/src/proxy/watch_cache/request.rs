//! Which requests the watch cache answers, and their options.
//!
//! Upstream: `staging/src/k8s.io/apiserver/pkg/storage/cacher/cacher.go` (`shouldDelegateList`:
//! a list is served from the cache when its resourceVersion is `0`, or any resourceVersion with
//! `resourceVersionMatch=NotOlderThan`, without a `continue` token; `limit` is then ignored;
//! `resourceVersionMatch=Exact` and consistent lists, without a resourceVersion, go to etcd;
//! `Watch`: every watch is served from the cache) and
//! `pkg/apis/meta/internalversion/validation/validation.go` (`ValidateListOptions`).
//!
//! Everything else passes through to the API server unchanged, and so does every request the
//! API server would refuse (bad selectors, bad option combinations), so clients get the real
//! error text: a request that carries its own `Authorization` (another identity than the
//! pod's ServiceAccount), a `GET` of one object, a watch of one object by path, `Accept` without
//! JSON, a `Table` of a type dev-cluster's printers do not know.

use http::{HeaderMap, Method, header};
use pod_introspect_apiserver::resources::{self, ResourceType};
use pod_introspect_apiserver::selectors::{FieldSelector, LabelSelector};
use pod_introspect_apiserver::table::{IncludeObject, wants_table};
use pod_introspect_kube::percent;

use super::CacheResource;

/// Which cache a request reads: the resource and the namespace scope.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CacheKey {
    /// API group (`""` for core).
    pub group: String,
    /// API version as the request names it.
    pub version: String,
    /// Plural resource.
    pub resource: String,
    /// The namespace of a namespaced request; `None` across namespaces.
    pub namespace: Option<String>,
}

impl CacheKey {
    /// `pods` or `leases.coordination.k8s.io`, as `--cache-resources` and metrics name it.
    pub fn resource_name(&self) -> String {
        if self.group.is_empty() {
            self.resource.clone()
        } else {
            format!("{}.{}", self.resource, self.group)
        }
    }

    /// The collection path, e.g. `/api/v1/namespaces/default/pods`.
    pub fn path(&self) -> String {
        let base = if self.group.is_empty() {
            format!("/api/{}", self.version)
        } else {
            format!("/apis/{}/{}", self.group, self.version)
        };
        match &self.namespace {
            Some(ns) => format!(
                "{base}/namespaces/{}/{}",
                percent::encode_component(ns),
                self.resource
            ),
            None => format!("{base}/{}", self.resource),
        }
    }

    /// The dev-cluster type of this resource (selectable fields, Table printers), when built in.
    pub fn resource_type(&self) -> Option<&'static ResourceType> {
        resources::find(&self.group, &self.version, &self.resource)
    }
}

/// The object filter of one request: its namespace, when it reads a cache across namespaces,
/// and its selectors, with the API server's semantics (dev-cluster's own selector code).
#[derive(Debug, Clone)]
pub struct Selection {
    /// The type, for the fields it supports (`None`: only `metadata.name` and
    /// `metadata.namespace`).
    pub resource_type: Option<&'static ResourceType>,
    /// `labelSelector`.
    pub labels: LabelSelector,
    /// `fieldSelector`.
    pub fields: FieldSelector,
}

impl Selection {
    /// True when `obj` is selected.
    pub fn matches(&self, obj: &serde_json::Value) -> bool {
        pod_introspect_apiserver::selectors::selects(
            self.resource_type,
            &self.labels,
            &self.fields,
            obj,
        )
    }
}

/// Where a watch starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WatchStart {
    /// No resourceVersion, or `0`: the current objects as `ADDED`, then changes.
    Current,
    /// `sendInitialEvents=true` (WatchList): the current objects as of a resourceVersion not
    /// older than this (0: any), then a bookmark marked `k8s.io/initial-events-end`.
    InitialEvents(u64),
    /// Events after this resourceVersion (410 when the cache no longer holds them).
    After(u64),
    /// `sendInitialEvents=false` without a resourceVersion: only changes from now.
    Now,
}

/// A request the cache answers.
#[derive(Debug, Clone)]
pub enum CacheRequest {
    /// A list served from the cache, not older than this resourceVersion (0: any).
    List {
        /// The cache.
        key: CacheKey,
        /// The filter.
        selection: Selection,
        /// `resourceVersion` with `NotOlderThan` (0 for `resourceVersion=0`).
        not_older_than: u64,
        /// Answer a `meta.k8s.io/v1` Table (kubectl `get`).
        table: Option<IncludeObject>,
    },
    /// A watch.
    Watch {
        /// The cache.
        key: CacheKey,
        /// The filter.
        selection: Selection,
        /// Where it starts.
        start: WatchStart,
        /// `allowWatchBookmarks=true`.
        bookmarks: bool,
        /// `timeoutSeconds` (0: the server's default).
        timeout_seconds: u64,
        /// Encode objects as one-row Tables (kubectl `get -w`).
        table: Option<IncludeObject>,
    },
}

/// Decides whether the cache answers `method path?query`; `path` is the percent-decoded path
/// the filter judged. `None`: pass it through.
pub fn classify(
    method: &Method,
    path: &str,
    query: Option<&str>,
    headers: &HeaderMap,
    cached: &[CacheResource],
) -> Option<CacheRequest> {
    if method != Method::GET || headers.contains_key(header::AUTHORIZATION) {
        return None;
    }
    let key = collection_key(path)?;
    if !cached
        .iter()
        .any(|c| c.group == key.group && c.resource == key.resource)
    {
        return None;
    }
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let params = percent::parse_query(query.unwrap_or(""));
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let flag = |name: &str| percent::query_flag(get(name));
    let table = if wants_table(accept) {
        // Only types whose columns dev-cluster prints; the rest go to the server's printers.
        key.resource_type()?;
        Some(IncludeObject::parse_strict(get("includeObject")).ok()?)
    } else {
        if !accepts_json(accept) {
            return None;
        }
        None
    };
    let resource_type = key.resource_type();
    let field_names: Vec<&str> = match resource_type {
        Some(r) => r.field_names(),
        None => vec!["metadata.name", "metadata.namespace"],
    };
    let selection = Selection {
        resource_type,
        labels: LabelSelector::parse(get("labelSelector").unwrap_or("")).ok()?,
        fields: FieldSelector::parse(get("fieldSelector").unwrap_or(""), &field_names).ok()?,
    };
    let rv = match get("resourceVersion") {
        None | Some("") => None,
        Some(v) => Some(v.parse::<u64>().ok()?),
    };
    let rv_match = get("resourceVersionMatch").unwrap_or("");
    if get("continue").is_some_and(|c| !c.is_empty()) {
        return None;
    }
    if flag("watch") {
        let send_initial = get("sendInitialEvents");
        let bookmarks = flag("allowWatchBookmarks");
        let start = match send_initial {
            Some(_) if rv_match != "NotOlderThan" => return None,
            Some(v) if percent::query_flag(Some(v)) => {
                if !bookmarks {
                    return None;
                }
                WatchStart::InitialEvents(rv.unwrap_or(0))
            }
            Some(_) => match rv {
                None | Some(0) => WatchStart::Now,
                Some(rv) => WatchStart::After(rv),
            },
            None if !rv_match.is_empty() => return None,
            None => match rv {
                None | Some(0) => WatchStart::Current,
                Some(rv) => WatchStart::After(rv),
            },
        };
        let timeout_seconds = match get("timeoutSeconds") {
            None | Some("") => 0,
            Some(t) => t.parse().ok()?,
        };
        return Some(CacheRequest::Watch {
            key,
            selection,
            start,
            bookmarks,
            timeout_seconds,
            table,
        });
    }
    if get("sendInitialEvents").is_some() {
        return None;
    }
    let not_older_than = match (rv, rv_match) {
        (Some(0), "" | "NotOlderThan") => 0,
        (Some(rv), "NotOlderThan") => rv,
        _ => return None,
    };
    Some(CacheRequest::List {
        key,
        selection,
        not_older_than,
        table,
    })
}

/// True when a JSON answer is acceptable: no `Accept`, `*/*`, `application/*` or
/// `application/json` among its media ranges (client-go's protobuf clients list JSON second).
fn accepts_json(accept: &str) -> bool {
    accept.trim().is_empty()
        || accept.split(',').any(|part| {
            let media = part.split(';').next().unwrap_or("").trim();
            matches!(media, "*/*" | "application/*" | "application/json")
        })
}

/// The cache key of a collection path: `/api/V/R`, `/api/V/namespaces/NS/R`,
/// `/apis/G/V/R`, `/apis/G/V/namespaces/NS/R`. Anything else (one object, a subresource,
/// discovery) is `None`.
fn collection_key(path: &str) -> Option<CacheKey> {
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').skip(1).collect();
    let (group, version, rest) = match segments.as_slice() {
        ["api", version, rest @ ..] => ("", *version, rest),
        ["apis", group, version, rest @ ..] => (*group, *version, rest),
        _ => return None,
    };
    let (namespace, resource) = match rest {
        [resource] => (None, *resource),
        ["namespaces", ns, resource] if !ns.is_empty() => (Some((*ns).to_owned()), *resource),
        _ => return None,
    };
    if resource.is_empty() || version.is_empty() {
        return None;
    }
    Some(CacheKey {
        group: group.to_owned(),
        version: version.to_owned(),
        resource: resource.to_owned(),
        namespace,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cached() -> Vec<CacheResource> {
        ["pods", "leases.coordination.k8s.io"]
            .iter()
            .map(|n| CacheResource::parse(n).unwrap())
            .collect()
    }

    fn classify_get(target: &str, headers: &[(&str, &str)]) -> Option<CacheRequest> {
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let mut h = HeaderMap::new();
        for (k, v) in headers {
            h.insert(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        classify(&Method::GET, path, Some(query), &h, &cached())
    }

    #[test]
    fn lists_from_the_cache_only_when_the_apiserver_would() {
        for (target, cache) in [
            ("/api/v1/pods?resourceVersion=0", true),
            ("/api/v1/namespaces/a/pods?resourceVersion=0&limit=5", true),
            (
                "/api/v1/pods?resourceVersion=7&resourceVersionMatch=NotOlderThan",
                true,
            ),
            ("/api/v1/pods", false),
            ("/api/v1/pods?resourceVersion=7", false),
            (
                "/api/v1/pods?resourceVersion=7&resourceVersionMatch=Exact",
                false,
            ),
            ("/api/v1/pods?resourceVersion=0&continue=abc", false),
            ("/api/v1/namespaces/a/pods/web?resourceVersion=0", false),
            ("/api/v1/namespaces/a/configmaps?resourceVersion=0", false),
            ("/api/v1/pods?resourceVersion=0&labelSelector=a%20in", false),
            (
                "/api/v1/pods?resourceVersion=0&fieldSelector=spec.bogus%3Dx",
                false,
            ),
            (
                "/apis/coordination.k8s.io/v1/namespaces/a/leases?resourceVersion=0",
                true,
            ),
        ] {
            assert_eq!(
                matches!(classify_get(target, &[]), Some(CacheRequest::List { .. })),
                cache,
                "{target}"
            );
        }
        assert!(
            classify_get(
                "/api/v1/pods?resourceVersion=0",
                &[("authorization", "Bearer other")]
            )
            .is_none(),
            "another identity's request must reach the API server"
        );
        assert!(
            classify_get(
                "/api/v1/pods?resourceVersion=0",
                &[("accept", "application/vnd.kubernetes.protobuf")]
            )
            .is_none()
        );
        assert!(
            classify_get(
                "/api/v1/pods?resourceVersion=0",
                &[(
                    "accept",
                    "application/vnd.kubernetes.protobuf,application/json"
                )]
            )
            .is_some()
        );
    }

    #[test]
    fn watch_starts() {
        let start = |target: &str| match classify_get(target, &[]) {
            Some(CacheRequest::Watch { start, .. }) => Some(start),
            _ => None,
        };
        assert_eq!(start("/api/v1/pods?watch=true"), Some(WatchStart::Current));
        // The Python client's spelling, and a bare flag.
        assert_eq!(start("/api/v1/pods?watch=True"), Some(WatchStart::Current));
        assert_eq!(start("/api/v1/pods?watch"), Some(WatchStart::Current));
        assert!(matches!(
            classify_get("/api/v1/pods?watch=false&resourceVersion=0", &[]),
            Some(CacheRequest::List { .. })
        ));
        assert_eq!(
            start("/api/v1/pods?watch=1&resourceVersion=0"),
            Some(WatchStart::Current)
        );
        assert_eq!(
            start("/api/v1/pods?watch=1&resourceVersion=12"),
            Some(WatchStart::After(12))
        );
        assert_eq!(
            start(
                "/api/v1/pods?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true"
            ),
            Some(WatchStart::InitialEvents(0))
        );
        assert_eq!(
            start("/api/v1/pods?watch=1&sendInitialEvents=false&resourceVersionMatch=NotOlderThan"),
            Some(WatchStart::Now)
        );
        // What the API server refuses goes there, for its error text.
        assert_eq!(start("/api/v1/pods?watch=1&sendInitialEvents=true"), None);
        assert_eq!(
            start("/api/v1/pods?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan"),
            None
        );
        assert_eq!(
            start("/api/v1/pods?watch=1&resourceVersionMatch=NotOlderThan"),
            None
        );
        assert_eq!(start("/api/v1/pods?watch=1&resourceVersion=x"), None);
        assert_eq!(
            start("/api/v1/namespaces/a/pods/web?watch=1"),
            None,
            "a watch of one object by path"
        );
    }

    #[test]
    fn keys_name_the_scope() {
        let Some(CacheRequest::Watch { key, .. }) = classify_get(
            "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases?watch=1",
            &[],
        ) else {
            panic!("not a cached watch");
        };
        assert_eq!(key.namespace.as_deref(), Some("kube-system"));
        assert_eq!(key.resource_name(), "leases.coordination.k8s.io");
        assert_eq!(
            key.path(),
            "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases"
        );
    }
}
