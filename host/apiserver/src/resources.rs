//! The resource table: every built-in resource `dev-cluster` serves, one row each, and the
//! only place that says so. Discovery (`/api`, `/apis`, aggregated discovery), routing, the
//! store, RBAC, field selectors, OpenAPI and `Table` printing all read it.
//!
//! The names, short names, categories, scopes and verbs are those kube-apiserver 1.33 serves
//! (`kubectl api-resources -o wide` against it; the REST storage of each type under
//! `pkg/registry/GROUP/TYPE/storage/storage.go` declares `ShortNames()`, `Categories()` and the
//! verbs its `Store` implements). The selectable fields are each type's `GetAttrs` /
//! `...ToSelectableFields` (`pkg/registry/GROUP/TYPE/strategy.go`).

use k8s_openapi::schemars::{JsonSchema, Schema, SchemaGenerator};

/// The verbs of a resource with the full generic `Store` (`create`, `delete`,
/// `deletecollection`, `get`, `list`, `patch`, `update`, `watch`), in discovery's order.
pub const ALL_VERBS: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

/// Namespaces have no `deletecollection` (`pkg/registry/core/namespace/storage/storage.go`).
const NAMESPACE_VERBS: &[&str] = &[
    "create", "delete", "get", "list", "patch", "update", "watch",
];

/// A review resource: only `create`, nothing stored.
const CREATE_ONLY: &[&str] = &["create"];

/// A subresource (`pods/status`, `deployments/scale`, `serviceaccounts/token`).
#[derive(Debug)]
pub struct Subresource {
    /// The name after the object's name in the path (`status`, `scale`, `token`).
    pub name: &'static str,
    /// The kind sent and returned (`Pod` for `status`, `Scale`, `TokenRequest`).
    pub kind: &'static str,
    /// The group and version of that kind when it differs from the resource's
    /// (`autoscaling`/`v1` for `Scale`, `authentication.k8s.io`/`v1` for `TokenRequest`).
    pub group_version: Option<(&'static str, &'static str)>,
    /// Its verbs.
    pub verbs: &'static [&'static str],
}

const STATUS: Subresource = Subresource {
    name: "status",
    kind: "",
    group_version: None,
    verbs: &["get", "patch", "update"],
};
const SCALE: Subresource = Subresource {
    name: "scale",
    kind: "Scale",
    group_version: Some(("autoscaling", "v1")),
    verbs: &["get", "patch", "update"],
};
const TOKEN: Subresource = Subresource {
    name: "token",
    kind: "TokenRequest",
    group_version: Some(("authentication.k8s.io", "v1")),
    verbs: &["create"],
};

/// How a resource's objects are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Storage {
    /// Stored objects with the generic registry semantics.
    Stored,
    /// A review (`SelfSubjectAccessReview`): computed per request, never stored.
    Review,
}

/// One served resource.
#[derive(Debug)]
pub struct ResourceType {
    /// API group; `""` for core.
    pub group: &'static str,
    /// API version (`v1`).
    pub version: &'static str,
    /// The plural resource name in paths and RBAC (`configmaps`).
    pub resource: &'static str,
    /// `singularName` in discovery (`configmap`).
    pub singular: &'static str,
    /// The kind (`ConfigMap`); lists are `{kind}List`.
    pub kind: &'static str,
    /// Namespaced (`true`) or cluster-scoped.
    pub namespaced: bool,
    /// Verbs, in discovery's order.
    pub verbs: &'static [&'static str],
    /// `shortNames` (`cm`).
    pub short_names: &'static [&'static str],
    /// `categories` (`all` for what `kubectl get all` shows).
    pub categories: &'static [&'static str],
    /// Subresources.
    pub subresources: &'static [Subresource],
    /// Field selector names beyond `metadata.name` and `metadata.namespace`, each with the
    /// dotted JSON path of the value it selects on.
    pub fields: &'static [(&'static str, &'static str)],
    /// Stored or computed.
    pub storage: Storage,
    /// The JSON schema of the kind (k8s-openapi's `schemars` implementation).
    pub schema: fn(&mut SchemaGenerator) -> Schema,
    /// The schema's definition name (`io.k8s.api.core.v1.ConfigMap`).
    pub schema_name: fn() -> std::borrow::Cow<'static, str>,
    /// Decodes a JSON object into the kind's k8s-openapi type and encodes it again: what
    /// kube-apiserver's decoding does to a request body (unknown fields dropped, `null`s
    /// gone, wrong types refused). The error is serde's message.
    pub normalize: fn(serde_json::Value) -> Result<serde_json::Value, String>,
}

/// [`ResourceType::normalize`] for the type `T`.
fn normalize<T: serde::de::DeserializeOwned + serde::Serialize>(
    v: serde_json::Value,
) -> Result<serde_json::Value, String> {
    let typed: T = serde_json::from_value(v).map_err(|e| e.to_string())?;
    serde_json::to_value(typed).map_err(|e| e.to_string())
}

impl ResourceType {
    /// `group/version`, or `version` for core (`apps/v1`, `v1`).
    pub fn group_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_owned()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// The `apiVersion` of its objects (same as [`ResourceType::group_version`]).
    pub fn api_version(&self) -> String {
        self.group_version()
    }

    /// `group.resource` as RBAC and error messages spell a resource (`deployments.apps`,
    /// `pods`).
    pub fn qualified(&self) -> String {
        if self.group.is_empty() {
            self.resource.to_owned()
        } else {
            format!("{}.{}", self.resource, self.group)
        }
    }

    /// The subresource named `name`.
    pub fn subresource(&self, name: &str) -> Option<&'static Subresource> {
        self.subresources.iter().find(|s| s.name == name)
    }

    /// True when `verb` is served on the main resource.
    pub fn serves(&self, verb: &str) -> bool {
        self.verbs.contains(&verb)
    }

    /// True when the registry maintains `metadata.generation` (bumped on every change of
    /// `spec`): pods and the apps workloads (`pkg/registry/{core/pod,apps/*}/strategy.go`
    /// `PrepareForUpdate`).
    pub fn has_generation(&self) -> bool {
        self.group == "apps" || (self.group.is_empty() && self.resource == "pods")
    }

    /// True when a `PUT` of a missing object creates it (`AllowCreateOnUpdate` of the type's
    /// strategy): leases (`pkg/registry/coordination/lease/strategy.go`), endpoints, events and
    /// the RBAC kinds; every other resource answers 404.
    pub fn allows_create_on_update(&self) -> bool {
        matches!(
            (self.group, self.resource),
            ("coordination.k8s.io", "leases")
                | ("", "endpoints")
                | ("", "events")
                | ("events.k8s.io", "events")
                | ("rbac.authorization.k8s.io", _)
        )
    }

    /// True when a write to the main resource keeps the stored `status` (the type has a
    /// `status` subresource: `PrepareForUpdate` resets `newObj.Status = oldObj.Status`).
    pub fn has_status(&self) -> bool {
        self.subresource("status").is_some()
    }

    /// Every field selector name it supports, `metadata.name` and `metadata.namespace` first
    /// (cluster-scoped resources have `metadata.namespace` too, always empty).
    pub fn field_names(&self) -> Vec<&'static str> {
        let mut names = vec!["metadata.name", "metadata.namespace"];
        names.extend(self.fields.iter().map(|(n, _)| *n));
        names
    }
}

macro_rules! row {
    ($ty:ty, $resource:literal, $singular:literal, $namespaced:expr, $verbs:expr,
     short: $short:expr, categories: $cat:expr, sub: $sub:expr, fields: $fields:expr) => {
        row!($ty, $resource, $singular, $namespaced, $verbs, short: $short, categories: $cat,
             sub: $sub, fields: $fields, storage: Storage::Stored)
    };
    ($ty:ty, $resource:literal, $singular:literal, $namespaced:expr, $verbs:expr,
     short: $short:expr, categories: $cat:expr, sub: $sub:expr, fields: $fields:expr,
     storage: $storage:expr) => {
        ResourceType {
            group: <$ty as k8s_openapi::Resource>::GROUP,
            version: <$ty as k8s_openapi::Resource>::VERSION,
            resource: $resource,
            singular: $singular,
            kind: <$ty as k8s_openapi::Resource>::KIND,
            namespaced: $namespaced,
            verbs: $verbs,
            short_names: $short,
            categories: $cat,
            subresources: $sub,
            fields: $fields,
            storage: $storage,
            schema: <$ty as JsonSchema>::json_schema,
            schema_name: <$ty as JsonSchema>::schema_name,
            normalize: normalize::<$ty>,
        }
    };
}

use k8s_openapi::api::{apps, authorization, coordination, core, discovery, events, rbac};

/// The pod fields `pkg/registry/core/pod/strategy.go` `ToSelectableFields` offers
/// ([`crate::selectors::field_of`] knows their defaults).
const POD_FIELDS: &[(&str, &str)] = &[
    ("spec.nodeName", "spec.nodeName"),
    ("spec.restartPolicy", "spec.restartPolicy"),
    ("spec.schedulerName", "spec.schedulerName"),
    ("spec.serviceAccountName", "spec.serviceAccountName"),
    ("spec.hostNetwork", "spec.hostNetwork"),
    ("status.phase", "status.phase"),
    ("status.podIP", "status.podIP"),
    ("status.nominatedNodeName", "status.nominatedNodeName"),
];

/// `pkg/registry/core/event/strategy.go` `ToSelectableFields` (`source` is
/// `source.component`); events.k8s.io/v1 serves the same objects and the same names.
const EVENT_FIELDS: &[(&str, &str)] = &[
    ("involvedObject.kind", "involvedObject.kind"),
    ("involvedObject.namespace", "involvedObject.namespace"),
    ("involvedObject.name", "involvedObject.name"),
    ("involvedObject.uid", "involvedObject.uid"),
    ("involvedObject.apiVersion", "involvedObject.apiVersion"),
    (
        "involvedObject.resourceVersion",
        "involvedObject.resourceVersion",
    ),
    ("involvedObject.fieldPath", "involvedObject.fieldPath"),
    ("reason", "reason"),
    ("reportingComponent", "reportingComponent"),
    ("source", "source.component"),
    ("type", "type"),
];

/// events.k8s.io/v1 `Event` field labels (`pkg/apis/events/v1/conversion.go`
/// `AddFieldLabelConversionFunc`: `regarding.*` and `reportingController` name the core
/// fields), evaluated on the events.k8s.io view of the object.
const EVENTS_V1_FIELDS: &[(&str, &str)] = &[
    ("regarding.kind", "regarding.kind"),
    ("regarding.namespace", "regarding.namespace"),
    ("regarding.name", "regarding.name"),
    ("regarding.uid", "regarding.uid"),
    ("regarding.apiVersion", "regarding.apiVersion"),
    ("regarding.resourceVersion", "regarding.resourceVersion"),
    ("regarding.fieldPath", "regarding.fieldPath"),
    ("reason", "reason"),
    ("reportingController", "reportingController"),
    ("type", "type"),
];

/// Every served resource, in the order discovery lists groups: core first, then the groups in
/// kube-apiserver's priority order (`apps`, `events.k8s.io`, `authorization.k8s.io`,
/// `rbac.authorization.k8s.io`, `coordination.k8s.io`, `discovery.k8s.io`).
pub static RESOURCES: &[ResourceType] = &[
    row!(core::v1::ConfigMap, "configmaps", "configmap", true, ALL_VERBS,
         short: &["cm"], categories: &[], sub: &[], fields: &[]),
    row!(core::v1::Endpoints, "endpoints", "endpoints", true, ALL_VERBS,
         short: &["ep"], categories: &[], sub: &[], fields: &[]),
    row!(core::v1::Event, "events", "event", true, ALL_VERBS,
         short: &["ev"], categories: &[], sub: &[], fields: EVENT_FIELDS),
    row!(core::v1::Namespace, "namespaces", "namespace", false, NAMESPACE_VERBS,
         short: &["ns"], categories: &[], sub: &[STATUS], fields: &[("status.phase", "status.phase")]),
    row!(core::v1::Node, "nodes", "node", false, ALL_VERBS,
         short: &["no"], categories: &[], sub: &[STATUS], fields: &[("spec.unschedulable", "spec.unschedulable")]),
    row!(core::v1::PersistentVolumeClaim, "persistentvolumeclaims", "persistentvolumeclaim", true, ALL_VERBS,
         short: &["pvc"], categories: &[], sub: &[STATUS], fields: &[]),
    row!(core::v1::Pod, "pods", "pod", true, ALL_VERBS,
         short: &["po"], categories: &["all"], sub: &[STATUS], fields: POD_FIELDS),
    row!(core::v1::Secret, "secrets", "secret", true, ALL_VERBS,
         short: &[], categories: &[], sub: &[], fields: &[("type", "type")]),
    row!(core::v1::ServiceAccount, "serviceaccounts", "serviceaccount", true, ALL_VERBS,
         short: &["sa"], categories: &[], sub: &[TOKEN], fields: &[]),
    row!(core::v1::Service, "services", "service", true, ALL_VERBS,
         short: &["svc"], categories: &["all"], sub: &[STATUS], fields: &[]),
    row!(apps::v1::DaemonSet, "daemonsets", "daemonset", true, ALL_VERBS,
         short: &["ds"], categories: &["all"], sub: &[STATUS], fields: &[]),
    row!(apps::v1::Deployment, "deployments", "deployment", true, ALL_VERBS,
         short: &["deploy"], categories: &["all"], sub: &[SCALE, STATUS], fields: &[]),
    row!(apps::v1::ReplicaSet, "replicasets", "replicaset", true, ALL_VERBS,
         short: &["rs"], categories: &["all"], sub: &[SCALE, STATUS],
         fields: &[("status.replicas", "status.replicas")]),
    row!(apps::v1::StatefulSet, "statefulsets", "statefulset", true, ALL_VERBS,
         short: &["sts"], categories: &["all"], sub: &[SCALE, STATUS], fields: &[]),
    row!(events::v1::Event, "events", "event", true, ALL_VERBS,
         short: &["ev"], categories: &[], sub: &[], fields: EVENTS_V1_FIELDS),
    row!(authorization::v1::SelfSubjectAccessReview, "selfsubjectaccessreviews",
         "selfsubjectaccessreview", false, CREATE_ONLY,
         short: &[], categories: &[], sub: &[], fields: &[], storage: Storage::Review),
    row!(rbac::v1::ClusterRoleBinding, "clusterrolebindings", "clusterrolebinding", false, ALL_VERBS,
         short: &[], categories: &[], sub: &[], fields: &[]),
    row!(rbac::v1::ClusterRole, "clusterroles", "clusterrole", false, ALL_VERBS,
         short: &[], categories: &[], sub: &[], fields: &[]),
    row!(rbac::v1::RoleBinding, "rolebindings", "rolebinding", true, ALL_VERBS,
         short: &[], categories: &[], sub: &[], fields: &[]),
    row!(rbac::v1::Role, "roles", "role", true, ALL_VERBS,
         short: &[], categories: &[], sub: &[], fields: &[]),
    row!(coordination::v1::Lease, "leases", "lease", true, ALL_VERBS,
         short: &[], categories: &[], sub: &[], fields: &[]),
    row!(discovery::v1::EndpointSlice, "endpointslices", "endpointslice", true, ALL_VERBS,
         short: &[], categories: &[], sub: &[], fields: &[]),
];

/// The resource served at `group`/`version`/`resource`.
pub fn find(group: &str, version: &str, resource: &str) -> Option<&'static ResourceType> {
    RESOURCES
        .iter()
        .find(|r| r.group == group && r.version == version && r.resource == resource)
}

/// The resource of objects with this `apiVersion` and `kind`.
pub fn by_kind(api_version: &str, kind: &str) -> Option<&'static ResourceType> {
    RESOURCES
        .iter()
        .find(|r| r.kind == kind && r.api_version() == api_version)
}

/// The groups served, in discovery order, each with its one version (`("", "v1")` first).
pub fn group_versions() -> Vec<(&'static str, &'static str)> {
    let mut out: Vec<(&str, &str)> = Vec::new();
    for r in RESOURCES {
        if !out.contains(&(r.group, r.version)) {
            out.push((r.group, r.version));
        }
    }
    out
}

/// The resources of one group version, in table order.
pub fn in_group_version(group: &str, version: &str) -> impl Iterator<Item = &'static ResourceType> {
    let (group, version) = (group.to_owned(), version.to_owned());
    RESOURCES
        .iter()
        .filter(move |r| r.group == group && r.version == version)
}

/// The resources whose objects are one store's (core and events.k8s.io events): two views of
/// the same objects, as kube-apiserver serves them. Returns the resource whose store holds
/// `r`'s objects (core `events` for both).
pub fn storage_of(r: &'static ResourceType) -> &'static ResourceType {
    if r.group == "events.k8s.io" && r.resource == "events" {
        find("", "v1", "events").unwrap_or(r)
    } else {
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_groups_come_from_the_types() {
        let d = find("apps", "v1", "deployments").unwrap();
        assert_eq!(d.kind, "Deployment");
        assert_eq!(d.qualified(), "deployments.apps");
        assert_eq!(d.group_version(), "apps/v1");
        assert_eq!((d.schema_name)(), "io.k8s.api.apps.v1.Deployment");
        let cm = find("", "v1", "configmaps").unwrap();
        assert_eq!(cm.qualified(), "configmaps");
        assert_eq!(by_kind("v1", "ConfigMap").unwrap().resource, "configmaps");
        let ev = find("events.k8s.io", "v1", "events").unwrap();
        assert_eq!(storage_of(ev).group, "");
        assert_eq!(
            group_versions(),
            vec![
                ("", "v1"),
                ("apps", "v1"),
                ("events.k8s.io", "v1"),
                ("authorization.k8s.io", "v1"),
                ("rbac.authorization.k8s.io", "v1"),
                ("coordination.k8s.io", "v1"),
                ("discovery.k8s.io", "v1"),
            ]
        );
    }

    #[test]
    fn every_resource_is_unique() {
        for (i, a) in RESOURCES.iter().enumerate() {
            for b in &RESOURCES[i + 1..] {
                assert!(
                    (a.group, a.resource) != (b.group, b.resource),
                    "{} twice",
                    a.qualified()
                );
            }
        }
    }
}
