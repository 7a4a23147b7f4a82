//! API discovery read, and a resource name resolved the way kubectl resolves `kubectl get NAME`;
//! request paths for a resource.
//!
//! Upstream:
//! - The documents: k8s.io/api `apidiscovery/v2/types.go` (aggregated discovery,
//!   `APIGroupDiscoveryList`, what `/api` and `/apis` return for [`AGGREGATED_ACCEPT`]) and
//!   k8s.io/apimachinery `pkg/apis/meta/v1/types.go` (`APIGroupList`, `APIResourceList`, the
//!   legacy documents). client-go `discovery/discovery_client.go` and
//!   `discovery/aggregated_discovery.go` read them.
//! - The name: k8s.io/apimachinery `pkg/runtime/schema/group_version.go` (`ParseResourceArg`,
//!   `ParseKindArg`), client-go `restmapper/shortcut.go` (`expandResourceShortcut`),
//!   `restmapper/discovery.go` (`NewDiscoveryRESTMapper`: the priority order), apimachinery
//!   `pkg/api/meta/restmapper.go` (`DefaultRESTMapper.ResourcesFor`), `pkg/api/meta/priority.go`
//!   (`PriorityRESTMapper`), `pkg/api/meta/errors.go` (`AmbiguousResourceError`) and kubectl's
//!   cli-runtime `pkg/resource/builder.go` (`mappingFor`, the "doesn't have a resource type"
//!   text).
//! - The paths: k8s.io/apiserver `pkg/endpoints/installer.go` (`/api/v1/...`,
//!   `/apis/GROUP/VERSION/...`, `namespaces/NS/`, `NAME/SUBRESOURCE`).
//!
//! The resource list a caller builds is in discovery order: the core group's resources (from
//! `/api`) first, then each group of `/apis` as listed, each group's versions preferred first.
//! That order is the priority [`resolve`] breaks ties with.

use std::fmt;

use serde_json::Value;

use crate::go_quote;
use crate::percent::encode_component;

/// The `Accept` header of a discovery request (`/api`, `/apis`): aggregated discovery v2 first,
/// plain JSON (the legacy documents) as the fallback. This is client-go's `AcceptV2 + "," +
/// AcceptV1`; client-go 1.30–1.32 also lists `v2beta1` between the two, which we leave out: every
/// server that serves v2beta1 (1.27–1.32) serves v2 too from 1.30, and older ones fall back to
/// legacy discovery, which we read as well.
pub const AGGREGATED_ACCEPT: &str =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json";

/// A group, version and resource (plural), e.g. `apps`, `v1`, `deployments`; the group is empty
/// for the core group. apimachinery `schema.GroupVersionResource`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct GroupVersionResource {
    /// The API group, `""` for the core group.
    pub group: String,
    /// The version, e.g. `v1`.
    pub version: String,
    /// The resource, plural and lowercase, e.g. `pods`.
    pub resource: String,
}

impl GroupVersionResource {
    /// A GVR from its three parts.
    pub fn new(
        group: impl Into<String>,
        version: impl Into<String>,
        resource: impl Into<String>,
    ) -> Self {
        GroupVersionResource {
            group: group.into(),
            version: version.into(),
            resource: resource.into(),
        }
    }
}

/// apimachinery's `GroupVersionResource.String()`: `GROUP/VERSION, Resource=RESOURCE`, e.g.
/// `apps/v1, Resource=deployments` and `/v1, Resource=pods` for the core group.
impl fmt::Display for GroupVersionResource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}, Resource={}",
            self.group, self.version, self.resource
        )
    }
}

/// One resource of one group version, as discovery lists it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApiResource {
    /// The API group, `""` for the core group.
    pub group: String,
    /// The version, e.g. `v1`.
    pub version: String,
    /// The resource name, plural and lowercase (`deployments`); never a subresource.
    pub resource: String,
    /// The kind, CamelCase (`Deployment`).
    pub kind: String,
    /// The singular name (`deployment`); empty when the server gave none.
    pub singular: String,
    /// Whether objects live in a namespace (`scope: Namespaced`) or not (`Cluster`).
    pub namespaced: bool,
    /// The verbs (`get`, `list`, `watch`, `create`, ...), in the server's order.
    pub verbs: Vec<String>,
    /// The short names (`deploy`), in the server's order.
    pub short_names: Vec<String>,
    /// The categories (`all`).
    pub categories: Vec<String>,
    /// The subresources (`status`, `scale`, `log`, ...), in the server's order.
    pub subresources: Vec<String>,
}

impl ApiResource {
    /// This resource's group, version and resource.
    pub fn gvr(&self) -> GroupVersionResource {
        GroupVersionResource::new(&self.group, &self.version, &self.resource)
    }
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

fn parse_json(body: &[u8], what: &str) -> Result<Value, String> {
    serde_json::from_slice(body).map_err(|e| format!("{what} is not JSON: {e}"))
}

/// Reads an aggregated discovery document (`apidiscovery.k8s.io/v2` `APIGroupDiscoveryList`, as
/// `/api` or `/apis` returns it for [`AGGREGATED_ACCEPT`]): `items[]` are the groups
/// (`metadata.name`, absent for the core group), each with `versions[]` in preference order, each
/// with `resources[]` (`resource`, `responseKind.kind`, `scope`, `singularResource`, `verbs`,
/// `shortNames`, `categories`, `subresources[].subresource`).
///
/// The result is in document order: groups as listed, versions in order (the priority order of
/// [`resolve`]). As client-go does, a version whose `freshness` is `Stale` (an aggregated API
/// server that did not answer) contributes no resources, and a resource without `responseKind` is
/// skipped.
///
/// Errors: the body is not JSON (`aggregated discovery document is not JSON: ...`), or it has no
/// `items` list (`not an APIGroupDiscoveryList: ...`).
pub fn parse_aggregated(body: &[u8]) -> Result<Vec<ApiResource>, String> {
    let doc = parse_json(body, "aggregated discovery document")?;
    let items = doc["items"].as_array().ok_or_else(|| {
        format!(
            "not an APIGroupDiscoveryList: kind {:?}, no items list",
            doc["kind"].as_str().unwrap_or_default()
        )
    })?;
    let mut out = Vec::new();
    for group in items {
        let group_name = text(&group["metadata"]["name"]);
        for version in group["versions"].as_array().into_iter().flatten() {
            if version["freshness"] == "Stale" {
                continue;
            }
            let version_name = text(&version["version"]);
            for r in version["resources"].as_array().into_iter().flatten() {
                let Some(kind) = r["responseKind"]["kind"].as_str() else {
                    continue;
                };
                out.push(ApiResource {
                    group: group_name.clone(),
                    version: version_name.clone(),
                    resource: text(&r["resource"]),
                    kind: kind.to_string(),
                    singular: text(&r["singularResource"]),
                    namespaced: r["scope"] == "Namespaced",
                    verbs: strings(&r["verbs"]),
                    short_names: strings(&r["shortNames"]),
                    categories: strings(&r["categories"]),
                    subresources: r["subresources"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|s| s["subresource"].as_str().map(str::to_string))
                        .collect(),
                });
            }
        }
    }
    Ok(out)
}

/// Whether a discovery response's `Content-Type` says aggregated discovery v2
/// (`application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList`, parameters in any
/// order, names case-insensitive, values optionally quoted); otherwise the server answered with
/// a legacy document (`APIVersions`, `APIGroupList`), to be read with [`parse_group_list`] and
/// [`parse_resource_list`]. client-go `discovery/discovery_client.go` (`isV2ContentType`, via
/// `mime.ParseMediaType`).
pub fn is_aggregated(content_type: &str) -> bool {
    let mut parts = content_type.split(';');
    let media = parts.next().unwrap_or_default().trim();
    if !media.eq_ignore_ascii_case("application/json") {
        return false;
    }
    let (mut g, mut v, mut r#as) = (None, None, None);
    for param in parts {
        let Some((key, value)) = param.split_once('=') else {
            continue;
        };
        let value = value.trim();
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(value);
        match key.trim().to_ascii_lowercase().as_str() {
            "g" => g = Some(value),
            "v" => v = Some(value),
            "as" => r#as = Some(value),
            _ => {}
        }
    }
    g == Some("apidiscovery.k8s.io") && v == Some("v2") && r#as == Some("APIGroupDiscoveryList")
}

/// Reads a legacy `/apis` document (`meta/v1` `APIGroupList`): each group's name and versions,
/// the preferred version (`preferredVersion.version`) first, then the others as listed. The
/// caller then fetches `/apis/GROUP/VERSION` for each, in this order.
///
/// Errors: the body is not JSON (`APIGroupList is not JSON: ...`) or has no `groups` list.
pub fn parse_group_list(body: &[u8]) -> Result<Vec<(String, Vec<String>)>, String> {
    let doc = parse_json(body, "APIGroupList")?;
    let groups = doc["groups"].as_array().ok_or_else(|| {
        format!(
            "not an APIGroupList: kind {:?}, no groups list",
            doc["kind"].as_str().unwrap_or_default()
        )
    })?;
    Ok(groups
        .iter()
        .map(|g| {
            let preferred = text(&g["preferredVersion"]["version"]);
            let mut versions: Vec<String> = Vec::new();
            if !preferred.is_empty() {
                versions.push(preferred.clone());
            }
            for v in g["versions"].as_array().into_iter().flatten() {
                let v = text(&v["version"]);
                if !v.is_empty() && !versions.contains(&v) {
                    versions.push(v);
                }
            }
            (text(&g["name"]), versions)
        })
        .collect())
}

/// Reads a legacy `/api/v1` or `/apis/GROUP/VERSION` document (`meta/v1` `APIResourceList`) as
/// the resources of `group` and `version`, in the document's order. An entry whose `name` has a
/// `/` (`pods/status`, `deployments/scale`) is a subresource: its part after the `/` is added to
/// its parent's [`ApiResource::subresources`] (and dropped when the parent is not listed), never
/// returned as a resource (client-go `restmapper/discovery.go` skips such names likewise).
///
/// Errors: the body is not JSON (`APIResourceList is not JSON: ...`) or has no `resources` list.
pub fn parse_resource_list(
    body: &[u8],
    group: &str,
    version: &str,
) -> Result<Vec<ApiResource>, String> {
    let doc = parse_json(body, "APIResourceList")?;
    let entries = doc["resources"].as_array().ok_or_else(|| {
        format!(
            "not an APIResourceList: kind {:?}, no resources list",
            doc["kind"].as_str().unwrap_or_default()
        )
    })?;
    let mut out: Vec<ApiResource> = Vec::new();
    let mut subs = Vec::new();
    for r in entries {
        let name = text(&r["name"]);
        if let Some((parent, sub)) = name.split_once('/') {
            subs.push((parent.to_string(), sub.to_string()));
            continue;
        }
        out.push(ApiResource {
            group: group.to_string(),
            version: version.to_string(),
            resource: name,
            kind: text(&r["kind"]),
            singular: text(&r["singularName"]),
            namespaced: r["namespaced"].as_bool().unwrap_or(false),
            verbs: strings(&r["verbs"]),
            short_names: strings(&r["shortNames"]),
            categories: strings(&r["categories"]),
            subresources: Vec::new(),
        });
    }
    for (parent, sub) in subs {
        if let Some(p) = out.iter_mut().find(|r| r.resource == parent) {
            p.subresources.push(sub);
        }
    }
    Ok(out)
}

/// Why [`resolve`] found no single resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResolveError {
    /// Nothing matches.
    NotFound {
        /// The name as given.
        name: String,
    },
    /// Several resources of the same group version match (apimachinery reports this only then:
    /// across groups or versions the priority order decides).
    Ambiguous {
        /// The name as given.
        name: String,
        /// The name as apimachinery's mapper saw it (after the short-name expansion), the
        /// `PartialResource` of the error.
        partial: GroupVersionResource,
        /// Every match, in discovery order (`MatchingResources`).
        candidates: Vec<GroupVersionResource>,
    },
}

/// The texts kubectl prints after `error: `:
/// - `NotFound`: `the server doesn't have a resource type "NAME"`, NAME being the part before the
///   first `.` (cli-runtime `builder.go`, `mappingFor`, quoting with Go's `%q`);
/// - `Ambiguous`: apimachinery `AmbiguousResourceError`'s
///   `PARTIAL matches multiple resources [GVR GVR ...]`, e.g.
///   `/, Resource=foo matches multiple resources [example.com/v1, Resource=foos example.com/v1, Resource=foo2s]`.
impl fmt::Display for ResolveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResolveError::NotFound { name } => {
                let resource = name.split('.').next().unwrap_or_default();
                write!(
                    f,
                    "the server doesn't have a resource type {}",
                    go_quote::quote(resource)
                )
            }
            ResolveError::Ambiguous {
                partial,
                candidates,
                ..
            } => {
                let list: Vec<String> = candidates.iter().map(ToString::to_string).collect();
                write!(
                    f,
                    "{partial} matches multiple resources [{}]",
                    list.join(" ")
                )
            }
        }
    }
}

impl std::error::Error for ResolveError {}

/// The priority rank of each resource, as `NewDiscoveryRESTMapper` orders its patterns: core `v1`
/// first, then each group in order of first appearance, within it its versions in order of first
/// appearance (the first being the preferred one).
fn ranks(resources: &[ApiResource]) -> Vec<(bool, usize, usize)> {
    let mut groups: Vec<(&str, Vec<&str>)> = Vec::new();
    resources
        .iter()
        .map(|r| {
            let gi = match groups.iter().position(|(g, _)| *g == r.group) {
                Some(i) => i,
                None => {
                    groups.push((&r.group, Vec::new()));
                    groups.len() - 1
                }
            };
            let versions = &mut groups[gi].1;
            let vi = match versions.iter().position(|v| *v == r.version) {
                Some(i) => i,
                None => {
                    versions.push(&r.version);
                    versions.len() - 1
                }
            };
            (!(r.group.is_empty() && r.version == "v1"), gi, vi)
        })
        .collect()
}

/// `schema.ParseResourceArg` / `ParseKindArg`: with two or more dots, `A.B.C...` is also read
/// as resource A, version B, group C...; with one or more dots, `A.B...` is resource A of group
/// B...; else a bare resource.
fn parse_arg(arg: &str) -> (Option<GroupVersionResource>, GroupVersionResource) {
    let full = (arg.matches('.').count() >= 2).then(|| {
        let mut s = arg.splitn(3, '.');
        let (r, v, g) = (s.next(), s.next(), s.next());
        GroupVersionResource::new(g.unwrap_or(""), v.unwrap_or(""), r.unwrap_or(""))
    });
    let gr = match arg.split_once('.') {
        Some((r, g)) => GroupVersionResource::new(g, "", r),
        None => GroupVersionResource::new("", "", arg),
    };
    (full, gr)
}

/// client-go `shortcut.go` `expandResourceShortcut`: unchanged when some resource (of the
/// requested group, if any) has this plural or singular name; else the first resource in priority
/// order with this short name (group, resource, version dropped, as upstream); else, with a
/// group, a short name of a group that starts with it (`hpa.autoscal`).
fn expand_shortcut(
    partial: &GroupVersionResource,
    resources: &[ApiResource],
    order: &[usize],
) -> GroupVersionResource {
    let want = partial.resource.to_ascii_lowercase();
    let in_group = |r: &ApiResource| partial.group.is_empty() || r.group == partial.group;
    if resources
        .iter()
        .any(|r| in_group(r) && (r.resource == want || r.singular == want))
    {
        return partial.clone();
    }
    let short = |r: &ApiResource| r.short_names.iter().any(|s| s.eq_ignore_ascii_case(&want));
    if let Some(r) = order
        .iter()
        .map(|&i| &resources[i])
        .find(|r| in_group(r) && short(r))
    {
        return GroupVersionResource::new(&r.group, "", &r.resource);
    }
    if !partial.group.is_empty()
        && let Some(r) = order
            .iter()
            .map(|&i| &resources[i])
            .find(|r| r.group.starts_with(&partial.group) && short(r))
    {
        return GroupVersionResource::new(&r.group, &partial.version, &r.resource);
    }
    partial.clone()
}

/// What a match is judged on: the resource names (plural or singular, lowercased, as
/// `DefaultRESTMapper.ResourcesFor` coerces), or the kind (`RESTMapping`: the kind as served or
/// lowercased).
#[derive(Clone, Copy)]
enum By {
    Resource,
    Kind,
}

/// `PriorityRESTMapper`: all matches, then the first priority pattern (group version) that any
/// match falls in; more than one distinct resource there is ambiguous.
fn pick<'a>(
    partial: &GroupVersionResource,
    by: By,
    resources: &'a [ApiResource],
    order: &[usize],
) -> Result<Option<&'a ApiResource>, Vec<GroupVersionResource>> {
    let want = partial.resource.to_ascii_lowercase();
    let matches = |r: &ApiResource| {
        if r.resource.contains('/')
            || (!partial.group.is_empty() && r.group != partial.group)
            || (!partial.version.is_empty() && r.version != partial.version)
        {
            return false;
        }
        match by {
            By::Resource => {
                // Legacy servers that list no singular: apimachinery guesses the lowercase kind.
                let singular = if r.singular.is_empty() {
                    r.kind.to_ascii_lowercase()
                } else {
                    r.singular.clone()
                };
                r.resource == want || singular == want
            }
            By::Kind => {
                r.kind == partial.resource || r.kind.to_ascii_lowercase() == partial.resource
            }
        }
    };
    let found: Vec<&ApiResource> = order
        .iter()
        .map(|&i| &resources[i])
        .filter(|r| matches(r))
        .collect();
    let Some(best) = found.first() else {
        return Ok(None);
    };
    let mut same_gv: Vec<&str> = found
        .iter()
        .filter(|r| r.group == best.group && r.version == best.version)
        .map(|r| r.resource.as_str())
        .collect();
    same_gv.sort_unstable();
    same_gv.dedup();
    if same_gv.len() > 1 {
        let mut all: Vec<GroupVersionResource> = Vec::new();
        for r in resources.iter().filter(|r| matches(r)) {
            if !all.contains(&r.gvr()) {
                all.push(r.gvr());
            }
        }
        return Err(all);
    }
    Ok(Some(best))
}

/// Resolves a resource name as `kubectl get NAME` does, among `resources` in discovery order
/// (see the module documentation).
///
/// `NAME` is `RESOURCE`, `RESOURCE.GROUP` or `RESOURCE.VERSION.GROUP` (`deployments.v1.apps`),
/// where RESOURCE is a plural (`deployments`), a singular (`deployment`), a short name (`deploy`,
/// matched case-insensitively), or a kind (`Deployment`, also as `Deployment.apps`); plural and
/// singular names match case-insensitively. When several groups or versions match, the
/// priority order decides: core `v1` first (so `events` is the core Event, not
/// `events.events.k8s.io`), then groups in discovery order, each group's preferred version
/// first. A subresource is never a match.
///
/// kubectl tries the fully specified reading first, then `RESOURCE.GROUP`, then the kind
/// readings; so do we.
///
/// Errors: [`ResolveError::NotFound`] when nothing matches; [`ResolveError::Ambiguous`] when the
/// best group version has two different matching resources (a plural that is another resource's
/// singular), which apimachinery's `PriorityRESTMapper` cannot decide either, and no kind reading
/// finds a single resource (kubectl ignores the resource reading's ambiguity and goes on to the
/// kind; where the kind reading finds nothing, kubectl says NotFound, we say Ambiguous).
pub fn resolve<'a>(
    name: &str,
    resources: &'a [ApiResource],
) -> Result<&'a ApiResource, ResolveError> {
    let rank = ranks(resources);
    let mut order: Vec<usize> = (0..resources.len()).collect();
    order.sort_by_key(|&i| rank[i]);
    let (full, gr) = parse_arg(name);
    let mut ambiguous = None;
    let mut attempts: Vec<(GroupVersionResource, By)> = Vec::new();
    if let Some(full) = &full {
        attempts.push((expand_shortcut(full, resources, &order), By::Resource));
    }
    attempts.push((expand_shortcut(&gr, resources, &order), By::Resource));
    if let Some(full) = full {
        attempts.push((full, By::Kind));
    }
    attempts.push((gr, By::Kind));
    for (partial, by) in attempts {
        match pick(&partial, by, resources, &order) {
            Ok(Some(r)) => return Ok(r),
            Ok(None) => {}
            Err(candidates) => {
                ambiguous.get_or_insert((partial, candidates));
            }
        }
    }
    Err(match ambiguous {
        Some((partial, candidates)) => ResolveError::Ambiguous {
            name: name.to_string(),
            partial,
            candidates,
        },
        None => ResolveError::NotFound {
            name: name.to_string(),
        },
    })
}

/// The collection path of a resource: `/api/v1/RESOURCE` for the core group,
/// `/apis/GROUP/VERSION/RESOURCE` otherwise, with `namespaces/NS/` before the resource when
/// `namespace` is given (pass `None` for a cluster-scoped resource, or to list across all
/// namespaces). Each segment is percent-encoded ([`encode_component`]). For example
/// `/api/v1/namespaces/default/pods`, `/apis/apps/v1/deployments`.
pub fn collection_path(gvr: &GroupVersionResource, namespace: Option<&str>) -> String {
    let mut path = if gvr.group.is_empty() {
        format!("/api/{}", encode_component(&gvr.version))
    } else {
        format!(
            "/apis/{}/{}",
            encode_component(&gvr.group),
            encode_component(&gvr.version)
        )
    };
    if let Some(ns) = namespace {
        path.push_str("/namespaces/");
        path.push_str(&encode_component(ns));
    }
    path.push('/');
    path.push_str(&encode_component(&gvr.resource));
    path
}

/// The path of one object, and of one of its subresources: [`collection_path`] `/NAME`, then
/// `/SUBRESOURCE` when given, e.g. `/api/v1/namespaces/default/pods/web-0/status`,
/// `/apis/apps/v1/namespaces/default/deployments/web/scale`, `/api/v1/namespaces/kube-system`
/// (a Namespace is cluster-scoped: `namespace` is `None`). Segments are percent-encoded.
pub fn object_path(
    gvr: &GroupVersionResource,
    namespace: Option<&str>,
    name: &str,
    subresource: Option<&str>,
) -> String {
    let mut path = collection_path(gvr, namespace);
    path.push('/');
    path.push_str(&encode_component(name));
    if let Some(sub) = subresource {
        path.push('/');
        path.push_str(&encode_component(sub));
    }
    path
}

#[cfg(test)]
mod tests;
