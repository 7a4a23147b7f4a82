//! The schema definitions, generated from k8s-openapi's `schemars` implementations, plus the
//! list kinds (which k8s-openapi models as the generic `List<T>`, without a schema) composed
//! from the generated item and `ListMeta` schemas, and the `x-kubernetes-group-version-kind`
//! of every top-level kind.

use k8s_openapi::api::authentication::v1::TokenRequest;
use k8s_openapi::api::autoscaling::v1::Scale;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{DeleteOptions, ListMeta, Patch, Status};
use k8s_openapi::schemars::generate::SchemaSettings;
use k8s_openapi::schemars::transform::RemoveRefSiblings;
use k8s_openapi::schemars::{JsonSchema, SchemaGenerator};
use serde_json::{Map, Value, json};

use crate::resources::{RESOURCES, Storage, group_versions};

/// The settings of the v3 documents: schemars' OpenAPI 3.0 flavour, refs
/// `#/components/schemas/NAME`, a `$ref` with siblings (a description) wrapped in `allOf` as
/// kube-apiserver's v3 documents do.
pub(super) fn v3_settings() -> SchemaSettings {
    SchemaSettings::openapi3().with(|s| s.meta_schema = None)
}

/// The settings of the Swagger 2.0 document: refs `#/definitions/NAME`, a `$ref` keeps its
/// `description` sibling as in upstream's `swagger.json`.
pub(super) fn v2_settings() -> SchemaSettings {
    SchemaSettings::draft07().with(|s| {
        s.meta_schema = None;
        s.transforms.retain(|t| !t.is::<RemoveRefSiblings>());
    })
}

/// The `x-kubernetes-group-version-kind` value of one kind (an array, as upstream).
fn gvk(group: &str, version: &str, kind: &str) -> Value {
    json!([{"group": group, "kind": kind, "version": version}])
}

/// The definition name of `Kind`'s list (`io.k8s.api.core.v1.ConfigMapList`).
pub(super) fn list_name(item: &str) -> String {
    format!("{item}List")
}

/// Every definition: the served kinds and what they reference, their lists, `Status`,
/// `DeleteOptions`, `Patch`, `Scale` (autoscaling/v1) and `TokenRequest`, with the property
/// extensions of [`super::extensions`] and the group-version-kind of each top-level kind.
///
/// k8s-openapi lists `metadata` as required in each kind (its Rust field is not optional);
/// kube-apiserver's schemas never require it, so it is dropped from `required` here.
pub(super) fn generate(settings: SchemaSettings) -> Map<String, Value> {
    let mut generator = settings.into_generator();
    let mut kinds: Vec<(String, Value)> = Vec::new();
    for r in RESOURCES {
        let name = (r.schema_name)().into_owned();
        let schema = (r.schema)(&mut generator).to_value();
        if r.storage == Storage::Stored {
            let list = list_schema(&mut generator, &name, r.kind, &schema);
            generator.definitions_mut().insert(list_name(&name), list);
            kinds.push((
                list_name(&name),
                gvk(r.group, r.version, &format!("{}List", r.kind)),
            ));
        }
        generator.definitions_mut().insert(name.clone(), schema);
        kinds.push((name, gvk(r.group, r.version, r.kind)));
    }
    generator.subschema_for::<Status>();
    kinds.push((Status::schema_name().into_owned(), gvk("", "v1", "Status")));
    generator.subschema_for::<Scale>();
    kinds.push((
        Scale::schema_name().into_owned(),
        gvk("autoscaling", "v1", "Scale"),
    ));
    generator.subschema_for::<TokenRequest>();
    kinds.push((
        TokenRequest::schema_name().into_owned(),
        gvk("authentication.k8s.io", "v1", "TokenRequest"),
    ));
    generator.subschema_for::<DeleteOptions>();
    // Upstream lists DeleteOptions under every group version it is accepted in.
    let mut gvs: Vec<(&str, &str)> = group_versions();
    gvs.extend([("authentication.k8s.io", "v1"), ("autoscaling", "v1")]);
    gvs.sort();
    let delete_gvks: Vec<Value> = gvs
        .iter()
        .map(|(g, v)| json!({"group": g, "kind": "DeleteOptions", "version": v}))
        .collect();
    kinds.push((
        DeleteOptions::schema_name().into_owned(),
        Value::Array(delete_gvks),
    ));
    generator.subschema_for::<Patch>();

    let mut definitions = generator.take_definitions(true);
    for (name, value) in kinds {
        if let Some(def) = definitions.get_mut(&name).and_then(Value::as_object_mut) {
            def.insert("x-kubernetes-group-version-kind".into(), value);
            drop_required_metadata(def);
        }
    }
    super::extensions::apply(&mut definitions);
    definitions
}

/// Removes `metadata` from `required` (and `required` itself when that empties it).
fn drop_required_metadata(def: &mut Map<String, Value>) {
    let empty = match def.get_mut("required").and_then(Value::as_array_mut) {
        Some(required) => {
            required.retain(|v| v != "metadata");
            required.is_empty()
        }
        None => false,
    };
    if empty {
        def.remove("required");
    }
}

/// The `{Kind}List` schema: `apiVersion` and `kind` as in the item's schema, `items` an array
/// of the item, `metadata` a `ListMeta` (the shape of upstream's list definitions,
/// `staging/src/k8s.io/api/core/v1/types.go` `ConfigMapList` and its siblings).
fn list_schema(
    generator: &mut SchemaGenerator,
    item_name: &str,
    kind: &str,
    item: &Value,
) -> Value {
    let list_meta = generator.subschema_for::<ListMeta>().to_value();
    let item_ref = json!({
        "$ref": format!("#{}/{}", generator.settings().definitions_path.trim_end_matches('/'), item_name)
    });
    let prop = |p: &str| item.pointer(&format!("/properties/{p}")).cloned();
    let mut properties = Map::new();
    if let Some(v) = prop("apiVersion") {
        properties.insert("apiVersion".into(), v);
    }
    properties.insert(
        "items".into(),
        json!({"description": format!("List of {kind} objects."), "type": "array", "items": item_ref}),
    );
    if let Some(v) = prop("kind") {
        properties.insert("kind".into(), v);
    }
    let mut metadata = list_meta;
    if let Some(obj) = metadata.as_object_mut() {
        obj.insert(
            "description".into(),
            json!("Standard list metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds"),
        );
    }
    properties.insert("metadata".into(), metadata);
    json!({
        "description": format!("{kind}List is a list of {kind} objects."),
        "type": "object",
        "properties": properties,
        "required": ["items"],
    })
}
