//! Discovery, generated from the [resource table](crate::resources): `/`, `/version`, `/api`,
//! `/apis`, `/apis/GROUP`, `/api/v1`, `/apis/GROUP/VERSION`, aggregated discovery.
//!
//! Upstream: `staging/src/k8s.io/apiserver/pkg/endpoints/discovery/` (`legacy.go`, `group.go`,
//! `version.go`, `aggregated/handler.go`).

use serde::Serialize;
use serde_json::{Value, json};

use crate::resources;
use crate::server::Shared;

/// `/version` (`staging/src/k8s.io/apimachinery/pkg/version/types.go` `Info`), fields in the
/// Go struct's order.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct VersionInfo {
    major: &'static str,
    minor: &'static str,
    emulation_major: &'static str,
    emulation_minor: &'static str,
    min_compatibility_major: &'static str,
    min_compatibility_minor: &'static str,
    git_version: &'static str,
    git_commit: &'static str,
    git_tree_state: &'static str,
    build_date: &'static str,
    go_version: &'static str,
    compiler: &'static str,
    platform: &'static str,
}

pub(super) fn version_info() -> VersionInfo {
    VersionInfo {
        major: "1",
        minor: "33",
        emulation_major: "1",
        emulation_minor: "33",
        min_compatibility_major: "1",
        min_compatibility_minor: "32",
        git_version: "v1.33.0-pod-introspect",
        git_commit: "0000000000000000000000000000000000000000",
        git_tree_state: "clean",
        build_date: "2025-04-23T00:00:00Z",
        go_version: "go1.24.2",
        compiler: "gc",
        platform: "linux/amd64",
    }
}

pub(super) fn api_versions(shared: &Shared) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": shared.local_addr.to_string()}],
    })
}

/// The `Content-Type` (and `Accept` choice) of aggregated discovery
/// (`staging/src/k8s.io/apiserver/pkg/endpoints/discovery/aggregated/handler.go`).
pub(super) const AGGREGATED_V2: &str =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

/// True when `accept` lists aggregated discovery v2 (kubectl 1.30+ asks for it first, then
/// v2beta1, then plain JSON).
pub(super) fn wants_aggregated(accept: &str) -> bool {
    accept.split(',').any(|part| {
        let params: Vec<&str> = part.split(';').map(str::trim).collect();
        params.contains(&"g=apidiscovery.k8s.io")
            && params.contains(&"v=v2")
            && params.contains(&"as=APIGroupDiscoveryList")
    })
}

/// `GET /`: the server's `paths` (`staging/src/k8s.io/apiserver/pkg/server/routes/index.go`),
/// sorted.
pub(super) fn root_paths() -> Value {
    let mut paths: Vec<String> = vec![
        "/api".into(),
        "/api/v1".into(),
        "/apis".into(),
        "/healthz".into(),
        "/livez".into(),
        "/openapi/v2".into(),
        "/openapi/v3".into(),
        "/openapi/v3/".into(),
        "/readyz".into(),
        "/version".into(),
    ];
    for (group, version) in resources::group_versions() {
        if !group.is_empty() {
            paths.push(format!("/apis/{group}"));
            paths.push(format!("/apis/{group}/{version}"));
        }
    }
    paths.sort();
    json!({ "paths": paths })
}

fn group_version_json(group: &str, version: &str) -> Value {
    json!({"groupVersion": format!("{group}/{version}"), "version": version})
}

/// `/apis/GROUP` (`APIGroup`), `None` for an unknown group.
pub(super) fn api_group(group: &str) -> Option<Value> {
    let (_, version) = resources::group_versions()
        .into_iter()
        .find(|(g, _)| *g == group && !g.is_empty())?;
    let gv = group_version_json(group, version);
    Some(json!({
        "kind": "APIGroup", "apiVersion": "v1", "name": group,
        "versions": [gv.clone()], "preferredVersion": gv,
    }))
}

/// `/apis` (`APIGroupList`).
pub(super) fn api_groups() -> Value {
    let groups: Vec<Value> = resources::group_versions()
        .into_iter()
        .filter(|(g, _)| !g.is_empty())
        .map(|(g, v)| {
            let gv = group_version_json(g, v);
            json!({"name": g, "versions": [gv.clone()], "preferredVersion": gv})
        })
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// `/api/v1` or `/apis/GROUP/VERSION` (`APIResourceList`): each resource, then its
/// subresources as `resource/sub` entries, as kube-apiserver lists them.
pub(super) fn api_resources(group: &str, version: &str) -> Option<Value> {
    let mut list = Vec::new();
    for r in resources::in_group_version(group, version) {
        let mut entry = json!({
            "name": r.resource, "singularName": r.singular, "namespaced": r.namespaced,
            "kind": r.kind, "verbs": r.verbs,
        });
        if !r.short_names.is_empty() {
            entry["shortNames"] = json!(r.short_names);
        }
        if !r.categories.is_empty() {
            entry["categories"] = json!(r.categories);
        }
        list.push(entry);
        for s in r.subresources {
            let mut sub = json!({
                "name": format!("{}/{}", r.resource, s.name), "singularName": r.singular,
                "namespaced": r.namespaced,
                "kind": if s.kind.is_empty() { r.kind } else { s.kind }, "verbs": s.verbs,
            });
            if let Some((g, v)) = s.group_version {
                sub["group"] = json!(g);
                sub["version"] = json!(v);
            }
            list.push(sub);
        }
    }
    if list.is_empty() {
        return None;
    }
    let gv = if group.is_empty() {
        version.to_owned()
    } else {
        format!("{group}/{version}")
    };
    Some(
        json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": list}),
    )
}

/// Aggregated discovery (`apidiscovery.k8s.io/v2` `APIGroupDiscoveryList`) of the core group
/// (`legacy`, for `/api`) or of every other group (for `/apis`).
pub(super) fn aggregated(legacy: bool) -> Value {
    let mut items = Vec::new();
    for (group, version) in resources::group_versions() {
        if group.is_empty() != legacy {
            continue;
        }
        let resources: Vec<Value> = resources::in_group_version(group, version)
            .map(|r| {
                let mut e = json!({
                    "resource": r.resource,
                    "responseKind": {"group": r.group, "version": r.version, "kind": r.kind},
                    "scope": if r.namespaced { "Namespaced" } else { "Cluster" },
                    "singularResource": r.singular,
                    "verbs": r.verbs,
                });
                if !r.short_names.is_empty() {
                    e["shortNames"] = json!(r.short_names);
                }
                if !r.categories.is_empty() {
                    e["categories"] = json!(r.categories);
                }
                if !r.subresources.is_empty() {
                    e["subresources"] = r
                        .subresources
                        .iter()
                        .map(|s| {
                            let (g, v) = s.group_version.unwrap_or((r.group, r.version));
                            json!({
                                "subresource": s.name,
                                "responseKind": {"group": g, "version": v,
                                                 "kind": if s.kind.is_empty() { r.kind } else { s.kind }},
                                "verbs": s.verbs,
                            })
                        })
                        .collect();
                }
                e
            })
            .collect();
        let metadata = if group.is_empty() {
            json!({"creationTimestamp": null})
        } else {
            json!({"name": group, "creationTimestamp": null})
        };
        items.push(json!({
            "metadata": metadata,
            "versions": [{"version": version, "resources": resources, "freshness": "Current"}],
        }));
    }
    json!({"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": {}, "items": items})
}
