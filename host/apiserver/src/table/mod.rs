//! Server-side printing: the `meta.k8s.io/v1` `Table` that `kubectl get` asks for with
//! `Accept: application/json;as=Table;v=v1;g=meta.k8s.io`, for every resource in
//! [`RESOURCES`](crate::resources::RESOURCES).
//!
//! [`table`] picks the printer kube-apiserver 1.33 registers for the resource
//! (`pkg/printers/internalversion/printers.go`, `AddHandlers`) or, for resources without one
//! (roles, clusterroles, reviews), the default convertor of
//! `staging/src/k8s.io/apiserver/pkg/registry/rest/table.go` (`Name`, `Created At`). The
//! server always prints with `GenerateOptions{Wide: true}` (`pkg/printers/storage/storage.go`),
//! so every row carries the priority-1 (`-o wide`) cells too and kubectl hides them unless asked.
//!
//! The printers live beside this file, one per API group: `core.rs`, `apps.rs`,
//! `rbac.rs`, `coordination.rs`, `discovery.rs`. Each decodes the stored JSON into its
//! k8s-openapi type, applies the scheme defaults the printed fields depend on (kube-apiserver
//! decodes from storage with defaulting, `pkg/apis/*/v1/defaults.go`), and computes the cells
//! as the Go printer does. An object that does not decode is printed from its metadata alone
//! (the other cells show the empty values of its type) rather than failing the table.
//!
//! Column descriptions are upstream's `SwaggerDoc()` strings, read from the k8s-openapi v1_33
//! schema of the same field (both are generated from the Go doc comments). Where upstream cites
//! a type version k8s-openapi does not carry (`extensions/v1beta1`, `rbac/v1beta1`,
//! `discovery/v1beta1`), the served `v1` type's field is used; those texts differ in a few
//! words. Pods keep the descriptions [`pods_table`] has always sent.
//!
//! Other upstream sources: `staging/src/k8s.io/apimachinery/pkg/util/duration/duration.go`
//! (`HumanDuration`, the AGE column), `staging/src/k8s.io/apiserver/pkg/endpoints/handlers/response.go`
//! (`asTable`, `includeObject`), `staging/src/k8s.io/apimachinery/pkg/apis/meta/v1/types.go`
//! (`Table`, `TableColumnDefinition`, `TableRow`).

mod apps;
mod coordination;
mod core;
mod discovery;
mod format;
mod rbac;

use std::sync::OnceLock;

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::jiff::Timestamp;
use k8s_openapi::schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::Deserialize as _;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::resources::ResourceType;

pub use format::human_duration;

/// What each row's `object` holds (`includeObject` query parameter).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IncludeObject {
    /// No object.
    None,
    /// A `PartialObjectMetadata` (the default).
    Metadata,
    /// The whole object.
    Object,
}

impl IncludeObject {
    /// Parses the query value; unknown values mean the default.
    ///
    /// kube-apiserver answers an unknown value with 400 (`unrecognized includeObject value:
    /// "X"`, `response.go`); [`IncludeObject::parse_strict`] gives that.
    pub fn parse(v: Option<&str>) -> Self {
        Self::parse_strict(v).unwrap_or(IncludeObject::Metadata)
    }

    /// Parses the query value as kube-apiserver does: absent or empty is `Metadata`, and
    /// anything but `None`, `Metadata` and `Object` is an error whose text is upstream's
    /// BadRequest message (`unrecognized includeObject value: "X"`).
    pub fn parse_strict(v: Option<&str>) -> Result<Self, String> {
        match v {
            None | Some("") | Some("Metadata") => Ok(IncludeObject::Metadata),
            Some("None") => Ok(IncludeObject::None),
            Some("Object") => Ok(IncludeObject::Object),
            Some(other) => Err(format!("unrecognized includeObject value: {other:?}")),
        }
    }
}

/// True when the `Accept` header asks for a `meta.k8s.io` `Table` (any version).
pub fn wants_table(accept: &str) -> bool {
    accept.split(',').any(|part| {
        let params: Vec<&str> = part.split(';').map(str::trim).collect();
        params.contains(&"as=Table") && params.contains(&"g=meta.k8s.io")
    })
}

/// The `meta.k8s.io/v1` `Table` of `objects` of resource `resource`, as kube-apiserver 1.33
/// prints them now.
///
/// `objects` are stored JSON objects (`apiVersion`, `kind`, `metadata`, ...); a list and a
/// single `get` both pass a slice. `list_meta` becomes the table's `metadata`
/// (`resourceVersion`, `continue`, `remainingItemCount`; for a single object upstream puts the
/// object's `resourceVersion` there). Each row has `cells` (one per column, JSON strings and
/// numbers as upstream's `[]interface{}`), `conditions` where upstream sets them (completed
/// and failed pods), and `object` as `include` says: a `PartialObjectMetadata` with the
/// object's whole `metadata`, the object itself, or nothing. Never fails: an object that does
/// not decode as its kind still gets a row (see the module docs).
pub fn table(
    resource: &ResourceType,
    objects: &[Value],
    list_meta: Value,
    include: IncludeObject,
) -> Value {
    table_at(resource, objects, list_meta, include, now())
}

/// [`table`] with the AGE-like columns computed against `now` instead of the clock.
pub fn table_at(
    resource: &ResourceType,
    objects: &[Value],
    list_meta: Value,
    include: IncludeObject,
    now: Timestamp,
) -> Value {
    match printer_for(resource) {
        Some(p) => render(p, objects, list_meta, include, now),
        None => render(&DEFAULT, objects, list_meta, include, now),
    }
}

/// The `columnDefinitions` [`table`] sends for `resource` (the same for every request): a
/// JSON array of `{name, type, format, description, priority}`.
pub fn column_definitions(resource: &ResourceType) -> Value {
    printer_for(resource)
        .unwrap_or(&DEFAULT)
        .columns_json()
        .clone()
}

/// A `Table` of pods; the same as [`table`] for the `pods` resource. `list_meta` becomes the
/// table's `metadata` (resourceVersion, continue, remainingItemCount).
pub fn pods_table(pods: &[Pod], list_meta: Value, include: IncludeObject) -> Value {
    let objects: Vec<Value> = pods
        .iter()
        .map(|p| serde_json::to_value(p).unwrap_or(Value::Null))
        .collect();
    render(&core::PODS, &objects, list_meta, include, now())
}

/// The current time (the clock's nanoseconds; the Unix epoch if the clock is before it).
fn now() -> Timestamp {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()
        .and_then(|d| {
            Timestamp::new(
                i64::try_from(d.as_secs()).ok()?,
                i32::try_from(d.subsec_nanos()).ok()?,
            )
            .ok()
        })
        .unwrap_or(Timestamp::UNIX_EPOCH)
}

/// The printer kube-apiserver registers for `resource`; `None` means the default convertor.
/// events.k8s.io events are the core events' storage and printer (`pkg/registry/events/rest`).
fn printer_for(resource: &ResourceType) -> Option<&'static Printer> {
    let p = match (resource.group, resource.resource) {
        ("", "configmaps") => &core::CONFIG_MAPS,
        ("", "endpoints") => &core::ENDPOINTS,
        ("", "events") | ("events.k8s.io", "events") => &core::EVENTS,
        ("", "namespaces") => &core::NAMESPACES,
        ("", "nodes") => &core::NODES,
        ("", "persistentvolumeclaims") => &core::PERSISTENT_VOLUME_CLAIMS,
        ("", "pods") => &core::PODS,
        ("", "secrets") => &core::SECRETS,
        ("", "serviceaccounts") => &core::SERVICE_ACCOUNTS,
        ("", "services") => &core::SERVICES,
        ("apps", "daemonsets") => &apps::DAEMON_SETS,
        ("apps", "deployments") => &apps::DEPLOYMENTS,
        ("apps", "replicasets") => &apps::REPLICA_SETS,
        ("apps", "statefulsets") => &apps::STATEFUL_SETS,
        ("rbac.authorization.k8s.io", "rolebindings") => &rbac::ROLE_BINDINGS,
        ("rbac.authorization.k8s.io", "clusterrolebindings") => &rbac::CLUSTER_ROLE_BINDINGS,
        ("coordination.k8s.io", "leases") => &coordination::LEASES,
        ("discovery.k8s.io", "endpointslices") => &discovery::ENDPOINT_SLICES,
        _ => return None,
    };
    Some(p)
}

fn render(
    printer: &Printer,
    objects: &[Value],
    list_meta: Value,
    include: IncludeObject,
    now: Timestamp,
) -> Value {
    let rows: Vec<Value> = objects
        .iter()
        .map(|obj| {
            let Row { cells, conditions } = (printer.row)(obj, now);
            let mut row = json!({ "cells": cells });
            if let Some(c) = conditions {
                row["conditions"] = c;
            }
            if let Some(o) = row_object(obj, include) {
                row["object"] = o;
            }
            row
        })
        .collect();
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": list_meta,
        "columnDefinitions": printer.columns_json().clone(),
        "rows": rows,
    })
}

/// `response.go` `asTable`: `PartialObjectMetadata` (`meta.AsPartialObjectMetadata`, the
/// whole `ObjectMeta`) by default, the object for `Object`, nothing for `None`.
fn row_object(obj: &Value, include: IncludeObject) -> Option<Value> {
    match include {
        IncludeObject::None => None,
        IncludeObject::Metadata => Some(json!({
            "kind": "PartialObjectMetadata",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": obj.get("metadata").cloned().unwrap_or_else(|| json!({})),
        })),
        IncludeObject::Object => Some(obj.clone()),
    }
}

/// One printed row: `cells` and, where upstream sets them, `conditions`.
pub(crate) struct Row {
    cells: Vec<Value>,
    conditions: Option<Value>,
}

impl Row {
    fn cells(cells: Vec<Value>) -> Self {
        Row {
            cells,
            conditions: None,
        }
    }
}

/// A column's `description`.
#[derive(Clone, Copy)]
pub(crate) enum Doc {
    /// Text written in the printer.
    Text(&'static str),
    /// `T{}.SwaggerDoc()[field]`: the field's description in `T`'s schema.
    Field(fn(&mut SchemaGenerator) -> Schema, &'static str),
}

/// One `TableColumnDefinition`.
#[derive(Clone, Copy)]
pub(crate) struct Col {
    name: &'static str,
    ty: &'static str,
    format: &'static str,
    priority: i32,
    doc: Doc,
}

/// A column of type `string`, no format, priority 0.
const fn col(name: &'static str, doc: Doc) -> Col {
    Col {
        name,
        ty: "string",
        format: "",
        priority: 0,
        doc,
    }
}

/// A priority-1 (`-o wide`) column of type `string`.
const fn wide(name: &'static str, doc: Doc) -> Col {
    Col {
        priority: 1,
        ..col(name, doc)
    }
}

/// `T{}.SwaggerDoc()[field]`.
const fn field<T: JsonSchema>(name: &'static str) -> Doc {
    Doc::Field(T::json_schema, name)
}

/// `{Name: "Name", Type: "string", Format: "name", Description: ObjectMeta name}`.
const NAME: Col = Col {
    format: "name",
    ..col("Name", field::<ObjectMeta>("name"))
};

/// `{Name: "Age", Type: "string", Description: ObjectMeta creationTimestamp}`.
const AGE: Col = col("Age", field::<ObjectMeta>("creationTimestamp"));

/// `Description: "Names of each container in the template."`, priority 1.
const CONTAINERS: Col = wide(
    "Containers",
    Doc::Text("Names of each container in the template."),
);

/// `Description: "Images referenced by each container in the template."`, priority 1.
const IMAGES: Col = wide(
    "Images",
    Doc::Text("Images referenced by each container in the template."),
);

/// A resource's printer: its columns and its row function.
pub(crate) struct Printer {
    columns: &'static [Col],
    row: fn(&Value, Timestamp) -> Row,
    cache: OnceLock<Value>,
}

impl Printer {
    const fn new(columns: &'static [Col], row: fn(&Value, Timestamp) -> Row) -> Self {
        Printer {
            columns,
            row,
            cache: OnceLock::new(),
        }
    }

    fn columns_json(&self) -> &Value {
        self.cache.get_or_init(|| {
            Value::Array(
                self.columns
                    .iter()
                    .map(|c| {
                        json!({
                            "name": c.name,
                            "type": c.ty,
                            "format": c.format,
                            "description": describe(c.doc),
                            "priority": c.priority,
                        })
                    })
                    .collect(),
            )
        })
    }
}

fn describe(doc: Doc) -> String {
    match doc {
        Doc::Text(t) => t.to_owned(),
        Doc::Field(schema, name) => {
            let mut generator = SchemaGenerator::default();
            let schema = schema(&mut generator);
            schema
                .get("properties")
                .and_then(|p| p.get(name))
                .and_then(|p| p.get("description"))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        }
    }
}

/// `rest/table.go` `defaultTableConvertor`: `Name` and `Created At` (type `date`, the
/// creation timestamp in RFC 3339 UTC; Go's zero time when unset).
static DEFAULT: Printer = Printer::new(
    &[
        NAME,
        Col {
            ty: "date",
            ..col("Created At", field::<ObjectMeta>("creationTimestamp"))
        },
    ],
    default_row,
);

fn default_row(obj: &Value, _now: Timestamp) -> Row {
    let meta = obj.get("metadata");
    let name = meta
        .and_then(|m| m.get("name"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    let created = meta
        .and_then(|m| m.get("creationTimestamp"))
        .and_then(Value::as_str)
        .and_then(|t| t.parse::<Timestamp>().ok())
        .map(crate::store::format_time)
        .unwrap_or_else(|| "0001-01-01T00:00:00Z".to_owned());
    Row::cells(vec![json!(name), json!(created)])
}

/// Decodes a stored object as `T`. One that does not decode (a wrong type somewhere) becomes
/// `T::default()` with the object's metadata (or at least its name), so its row still prints.
fn decode<T>(obj: &Value) -> T
where
    T: DeserializeOwned + Default + k8s_openapi::Metadata<Ty = ObjectMeta>,
{
    match T::deserialize(obj) {
        Ok(t) => t,
        Err(error) => {
            tracing::debug!(%error, kind = T::KIND, "printing an object that does not decode");
            let mut t = T::default();
            let meta = obj.get("metadata").unwrap_or(&Value::Null);
            *t.metadata_mut() = ObjectMeta::deserialize(meta).unwrap_or_else(|_| ObjectMeta {
                name: meta.get("name").and_then(Value::as_str).map(str::to_owned),
                ..Default::default()
            });
            t
        }
    }
}

/// The name and `translateTimestampSince(creationTimestamp)` of an object.
fn name_age(meta: &ObjectMeta, now: Timestamp) -> (Value, Value) {
    (
        json!(meta.name.clone().unwrap_or_default()),
        json!(format::since(
            meta.creation_timestamp.as_ref().map(|t| t.0),
            now
        )),
    )
}

#[cfg(test)]
mod tests;
