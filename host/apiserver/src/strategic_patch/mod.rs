//! `application/strategic-merge-patch+json` on the server: [`apply`] merges a strategic merge
//! patch into an object the way kube-apiserver does for built-in types.
//!
//! Upstream: `staging/src/k8s.io/apimachinery/pkg/util/strategicpatch/patch.go`
//! (`StrategicMergeMapPatchUsingLookupPatchMeta`: `mergeMap`, `mergeSlice`, the directives
//! `$patch: replace|delete|merge`, `$retainKeys`, `$setElementOrder/FIELD`,
//! `$deleteFromPrimitiveList/FIELD`), the error texts of
//! `staging/src/k8s.io/apimachinery/pkg/util/mergepatch/errors.go`, and the status each error
//! gets in `staging/src/k8s.io/apiserver/pkg/endpoints/handlers/patch.go`
//! (`interpretStrategicMergePatchError`; other errors reach `responsewriters.ErrorToAPIStatus`
//! as a 500 without reason).
//!
//! The semantics in one paragraph: maps merge key by key and a `null` deletes a key; a list
//! whose field has `x-kubernetes-patch-strategy: merge` merges by its
//! `x-kubernetes-patch-merge-key` (containers by `name`, ports by `containerPort`) or, for
//! scalars, as a set union; any other list is replaced; `retainKeys` lets a patch carry
//! `$retainKeys: [...]`, clearing the fields it does not list. The patch metadata comes from the
//! OpenAPI definitions, as upstream's `PatchMetaFromOpenAPI` reads it (`schema.rs`); a field
//! without schema information merges as a map and is replaced as a list.
//!
//! ```
//! use serde_json::json;
//! let defs = json!({
//!     "io.k8s.api.core.v1.PodSpec": {"properties": {"containers": {
//!         "type": "array",
//!         "items": {"$ref": "#/components/schemas/io.k8s.api.core.v1.Container"},
//!         "x-kubernetes-patch-merge-key": "name",
//!         "x-kubernetes-patch-strategy": "merge"}}},
//!     "io.k8s.api.core.v1.Container": {"properties": {"name": {"type": "string"}}}
//! });
//! let live = json!({"containers": [{"name": "a", "image": "x:1"}, {"name": "b", "image": "y:1"}]});
//! let patch = json!({"containers": [{"name": "b", "image": "y:2"}]});
//! let merged = pod_introspect_apiserver::strategic_patch::apply(
//!     &live, &patch, defs.as_object().unwrap(), "io.k8s.api.core.v1.PodSpec").unwrap();
//! assert_eq!(merged, json!({"containers": [{"name": "a", "image": "x:1"}, {"name": "b", "image": "y:2"}]}));
//! ```

mod gofmt;
mod merge;
mod schema;
#[cfg(test)]
mod tests;

use serde_json::{Map, Value};

use crate::status::{Status, StatusDetails};

/// Why a strategic merge patch could not be applied. [`StrategicPatchError::status`] is the
/// response kube-apiserver sends for it; `Display` is upstream's error text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StrategicPatchError {
    /// `mergepatch.ErrBadJSONDoc`: the object to patch is not a JSON object. 400.
    #[error("invalid JSON document")]
    BadJsonDoc,
    /// `mergepatch.ErrNoListOfLists`: a merged list whose elements are lists. 422.
    #[error("lists of lists are not supported")]
    NoListOfLists,
    /// `mergepatch.ErrBadPatchFormatForPrimitiveList`: a `$deleteFromPrimitiveList` key without
    /// `/FIELD`. 400.
    #[error("invalid patch format of primitive list")]
    BadPatchFormatForPrimitiveList,
    /// `mergepatch.ErrBadPatchFormatForRetainKeys`: `$retainKeys` is not a list, or the patch sets
    /// a field it does not list. 400.
    #[error("invalid patch format of retainKeys")]
    BadPatchFormatForRetainKeys,
    /// `mergepatch.ErrBadPatchFormatForSetElementOrderList`: a `$setElementOrder` key without
    /// `/FIELD`. 400.
    #[error("invalid patch format of setElementOrder list")]
    BadPatchFormatForSetElementOrderList,
    /// The request body is not a JSON object: the decoder's message (for a non-object, Go's
    /// `json: cannot unmarshal array into Go value of type map[string]interface {}`), as
    /// `strategicPatchObject` returns it with `errors.NewBadRequest`. 400.
    #[error("{0}")]
    Decode(String),
    /// Any other error of the merge, with upstream's text (`map: map[image:x] does not contain
    /// declared merge key: name`, `unknown patch type: foo in map: ...`, `The order in patch
    /// list: ... doesn't match $setElementOrder list: ...`). kube-apiserver passes these through
    /// unconverted, so they become a 500 whose `reason` is empty (kubectl prints
    /// `Error from server: MESSAGE`).
    #[error("{0}")]
    Merge(String),
}

impl StrategicPatchError {
    /// The `Status` kube-apiserver answers with (`interpretStrategicMergePatchError`): 400
    /// `BadRequest` with the error text; 422 `Invalid` with the fixed message of
    /// `errors.NewGenericServerResponse` (which drops the error text) and empty `details`; 500
    /// with an empty reason and the error text otherwise.
    pub fn status(&self) -> Status {
        match self {
            StrategicPatchError::NoListOfLists => Status::new(
                422,
                "Invalid",
                "the server rejected our request due to an error in our request",
                Some(StatusDetails::default()),
            ),
            StrategicPatchError::Merge(message) => Status::new(500, "", message.clone(), None),
            StrategicPatchError::BadJsonDoc
            | StrategicPatchError::BadPatchFormatForPrimitiveList
            | StrategicPatchError::BadPatchFormatForRetainKeys
            | StrategicPatchError::BadPatchFormatForSetElementOrderList
            | StrategicPatchError::Decode(_) => Status::bad_request(self.to_string()),
        }
    }
}

/// Applies the strategic merge patch `patch` to `original` and returns the merged object.
///
/// `schemas` are OpenAPI definitions keyed by definition name (`components.schemas` of an
/// OpenAPI v3 document, `definitions` of a Swagger 2.0 one), with references written
/// `{"$ref": "#/components/schemas/NAME"}`, `#/definitions/NAME` or `#/$defs/NAME`, optionally
/// wrapped in a one-element `allOf`; `root` names the definition of the object's kind
/// (`io.k8s.api.apps.v1.Deployment`). A missing `root` means no patch metadata at all: every
/// list is replaced.
///
/// `original` must be a JSON object (or null, taken as `{}`), else
/// [`StrategicPatchError::BadJsonDoc`]. `patch` must be an object; `null` leaves `original`
/// unchanged and anything else is [`StrategicPatchError::Decode`]. Neither input is modified.
/// The result is what upstream's merge returns, before conversion to the typed object: fields
/// unknown to the schema are kept, and a patch element appended to a merged list is kept as
/// sent.
pub fn apply(
    original: &Value,
    patch: &Value,
    schemas: &Map<String, Value>,
    root: &str,
) -> Result<Value, StrategicPatchError> {
    let original = match original {
        Value::Object(m) => m.clone(),
        Value::Null => Map::new(),
        _ => return Err(StrategicPatchError::BadJsonDoc),
    };
    let patch = match patch {
        Value::Object(m) => m.clone(),
        Value::Null => return Ok(Value::Object(original)),
        other => {
            return Err(StrategicPatchError::Decode(format!(
                "json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
                json_kind(other)
            )));
        }
    };
    merge::merge_map(original, patch, schema::Schema::root(schemas, root)).map(Value::Object)
}

/// [`apply`] for a request body: `patch` is parsed as JSON first, a syntax error being
/// [`StrategicPatchError::Decode`] with `serde_json`'s message (upstream's is Go's
/// `encoding/json` text, e.g. `invalid character '}' looking for beginning of object key
/// string`).
pub fn apply_bytes(
    original: &Value,
    patch: &[u8],
    schemas: &Map<String, Value>,
    root: &str,
) -> Result<Value, StrategicPatchError> {
    let patch: Value =
        serde_json::from_slice(patch).map_err(|e| StrategicPatchError::Decode(e.to_string()))?;
    apply(original, &patch, schemas, root)
}

/// The JSON kind word of Go's `UnmarshalTypeError` (`array`, `string`, `number`, `bool`).
fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Array(_) => "array",
        Value::String(_) => "string",
        Value::Number(_) => "number",
        Value::Bool(_) => "bool",
        Value::Object(_) => "object",
        Value::Null => "null",
    }
}
