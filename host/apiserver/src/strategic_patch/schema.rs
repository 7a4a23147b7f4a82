//! Patch metadata (`x-kubernetes-patch-strategy`, `x-kubernetes-patch-merge-key`) read from an
//! OpenAPI document's definitions, as `PatchMetaFromOpenAPI` does
//! (`staging/src/k8s.io/apimachinery/pkg/util/strategicpatch/meta.go` and `types.go`:
//! `LookupPatchMetadataForStruct`, `LookupPatchMetadataForSlice`, `parsePatchMetadata`).
//!
//! Differences from upstream, on purpose: a field the schema does not describe (unknown field, a
//! schema-less or `x-kubernetes-preserve-unknown-fields` value, a dangling `$ref`) has no patch
//! metadata instead of failing with `FieldNotFoundError`, and a map (`additionalProperties`)
//! yields its value schema, as `PatchMetaFromStruct` does for a Go map
//! (`third_party/forked/golang/json/fields.go` `LookupPatchMetadataForStruct`). Both only matter
//! for fields kube-apiserver would have pruned before merging.

use serde_json::{Map, Value};

use super::{StrategicPatchError, gofmt};

/// `x-kubernetes-patch-strategy` (`types.go` `patchStrategyOpenapiextensionKey`).
const PATCH_STRATEGY: &str = "x-kubernetes-patch-strategy";
/// `x-kubernetes-patch-merge-key` (`types.go` `patchMergeKeyOpenapiextensionKey`).
const PATCH_MERGE_KEY: &str = "x-kubernetes-patch-merge-key";

/// The patch metadata of one field (`meta.go` `PatchMeta`).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct PatchMeta {
    /// The comma-separated `x-kubernetes-patch-strategy`, split (`merge`, `retainKeys`, ...).
    pub strategies: Vec<String>,
    /// `x-kubernetes-patch-merge-key`, empty when absent.
    pub merge_key: String,
}

/// A position in the schema: a node of `defs` (or nothing known).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Schema<'a> {
    defs: &'a Map<String, Value>,
    node: Option<&'a Value>,
}

impl<'a> Schema<'a> {
    /// The definition named `root` (`io.k8s.api.apps.v1.Deployment`); unknown when absent.
    pub(crate) fn root(defs: &'a Map<String, Value>, root: &str) -> Self {
        Schema {
            defs,
            node: defs.get(root),
        }
    }

    fn at(self, node: &'a Value) -> Self {
        Schema {
            defs: self.defs,
            node: Some(node),
        }
    }

    fn unknown(self) -> Self {
        Schema {
            defs: self.defs,
            node: None,
        }
    }

    /// The node with `$ref`s and single-element `allOf` wrappers (OpenAPI v3's way to put a
    /// description or default next to a reference) followed.
    fn resolved(self) -> Option<&'a Map<String, Value>> {
        crate::openapi::resolve(self.defs, self.node?).map(|(obj, _)| obj)
    }

    /// The schema and patch metadata of field `key` of this object
    /// (`LookupPatchMetadataForStruct`).
    pub(crate) fn lookup_struct(
        self,
        key: &str,
    ) -> Result<(Schema<'a>, PatchMeta), StrategicPatchError> {
        let Some(obj) = self.resolved() else {
            return Ok((self.unknown(), PatchMeta::default()));
        };
        if let Some(prop) = obj
            .get("properties")
            .and_then(Value::as_object)
            .and_then(|props| props.get(key))
        {
            return Ok((self.at(prop), parse_patch_meta(prop)?));
        }
        if let Some(values) = obj.get("additionalProperties").filter(|v| v.is_object()) {
            return Ok((self.at(values), PatchMeta::default()));
        }
        Ok((self.unknown(), PatchMeta::default()))
    }

    /// The element schema and patch metadata of list field `key` (`LookupPatchMetadataForSlice`).
    pub(crate) fn lookup_slice(
        self,
        key: &str,
    ) -> Result<(Schema<'a>, PatchMeta), StrategicPatchError> {
        let (field, meta) = self.lookup_struct(key)?;
        let items = field
            .resolved()
            .and_then(|obj| obj.get("items"))
            .filter(|items| items.is_object());
        Ok((items.map_or(field.unknown(), |items| field.at(items)), meta))
    }

    /// The Go kind name `PatchMetaFromStruct.Name()` would give the element type, for
    /// `cannot merge lists without merge key for %s`.
    pub(crate) fn name(self) -> &'static str {
        let Some(obj) = self.resolved() else {
            return "interface";
        };
        if obj.contains_key("properties") {
            return "struct";
        }
        if obj.contains_key("additionalProperties") {
            return "map";
        }
        let ty = match obj.get("type") {
            Some(Value::String(t)) => Some(t.as_str()),
            Some(Value::Array(types)) => types
                .iter()
                .filter_map(Value::as_str)
                .find(|t| *t != "null"),
            _ => None,
        };
        match ty {
            Some("string") => "string",
            Some("integer") if obj.get("format").and_then(Value::as_str) == Some("int32") => {
                "int32"
            }
            Some("integer") => "int64",
            Some("number") => "float64",
            Some("boolean") => "bool",
            Some("array") => "slice",
            Some("object") => "struct",
            _ => "interface",
        }
    }
}

/// `parsePatchMetadata` (`types.go`): a non-string extension is
/// `expected a string, but received a <type>` (`mergepatch.ErrBadArgType`).
fn parse_patch_meta(prop: &Value) -> Result<PatchMeta, StrategicPatchError> {
    let text = |key: &str| -> Result<Option<&str>, StrategicPatchError> {
        match prop.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(other) => Err(StrategicPatchError::Merge(format!(
                "expected a string, but received a {}",
                gofmt::type_name(Some(other))
            ))),
        }
    };
    Ok(PatchMeta {
        strategies: text(PATCH_STRATEGY)?
            .map(|s| s.split(',').map(str::to_owned).collect())
            .unwrap_or_default(),
        merge_key: text(PATCH_MERGE_KEY)?.unwrap_or_default().to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn defs(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    #[test]
    fn follows_definitions_and_defs_refs() {
        // Swagger 2.0 style (`api/openapi-spec/swagger.json`): plain `$ref` properties.
        let d = defs(json!({
            "io.k8s.api.core.v1.PodSpec": {"properties": {"containers": {
                "type": "array",
                "items": {"$ref": "#/definitions/io.k8s.api.core.v1.Container"},
                "x-kubernetes-patch-merge-key": "name",
                "x-kubernetes-patch-strategy": "merge"
            }}},
            "io.k8s.api.core.v1.Container": {"properties": {"ports": {
                "type": "array",
                "items": {"$ref": "#/$defs/io.k8s.api.core.v1.ContainerPort"},
                "x-kubernetes-patch-merge-key": "containerPort",
                "x-kubernetes-patch-strategy": "merge"
            }}},
            "io.k8s.api.core.v1.ContainerPort": {"properties": {"containerPort": {"type": "integer", "format": "int32"}}}
        }));
        let pod = Schema::root(&d, "io.k8s.api.core.v1.PodSpec");
        let (container, meta) = pod.lookup_slice("containers").unwrap();
        assert_eq!(
            meta,
            PatchMeta {
                strategies: vec!["merge".into()],
                merge_key: "name".into()
            }
        );
        let (port, meta) = container.lookup_slice("ports").unwrap();
        assert_eq!(meta.merge_key, "containerPort");
        assert_eq!(port.name(), "struct");
        let (field, meta) = port.lookup_struct("containerPort").unwrap();
        assert_eq!(meta, PatchMeta::default());
        assert_eq!(field.name(), "int32");
    }

    #[test]
    fn unknown_fields_and_dangling_refs_have_no_metadata() {
        let d = defs(json!({
            "T": {"properties": {"x": {"$ref": "#/components/schemas/Missing"}}}
        }));
        let t = Schema::root(&d, "T");
        let (x, meta) = t.lookup_struct("x").unwrap();
        assert_eq!(meta, PatchMeta::default());
        assert_eq!(x.name(), "interface");
        let (_, meta) = t.lookup_slice("nope").unwrap();
        assert_eq!(meta, PatchMeta::default());
        let (_, meta) = Schema::root(&d, "Absent").lookup_slice("x").unwrap();
        assert_eq!(meta, PatchMeta::default());
    }

    #[test]
    fn non_string_extension_is_a_bad_arg_type() {
        let d = defs(
            json!({"T": {"properties": {"l": {"type": "array", "x-kubernetes-patch-strategy": 1}}}}),
        );
        let err = Schema::root(&d, "T").lookup_slice("l").unwrap_err();
        assert_eq!(err.to_string(), "expected a string, but received a int64");
    }

    #[test]
    fn self_referencing_definitions_do_not_loop() {
        let d = defs(json!({"A": {"$ref": "#/definitions/B"}, "B": {"$ref": "#/definitions/A"}}));
        let (_, meta) = Schema::root(&d, "A").lookup_struct("x").unwrap();
        assert_eq!(meta, PatchMeta::default());
    }
}
