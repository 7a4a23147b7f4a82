//! `self`: this pod's own object from the API, found by the name and namespace the Downward API
//! gives, and the Downward API fields filled from it (`info --api`, through
//! [`crate::field_table::fill_from_api`]).

use crate::api::{self, ApiError, Client, Transport};
use crate::model::{FieldError, PodInfo, Problem};
use pod_introspect_kube::discovery::object_path;
use pod_introspect_kube::fields;
use serde_json::Value;

/// `/api/v1/namespaces/{namespace}/pods/{name}` ([`object_path`] of [`api::pods`]).
pub fn pod_path(namespace: &str, name: &str) -> String {
    object_path(&api::pods(), Some(namespace), name, None)
}

/// The name and namespace of this pod, or an error saying which Downward API field to expose.
pub fn identity(info: &PodInfo) -> Result<(String, String), ApiError> {
    match (&info.name, &info.namespace) {
        (Some(n), Some(ns)) => Ok((n.clone(), ns.clone())),
        (None, _) => Err(ApiError::Invalid(format!(
            "this pod's name is not exposed, so its object cannot be looked up: {}",
            crate::hints::hint(fields::METADATA_NAME)
        ))),
        (_, None) => Err(ApiError::Invalid(format!(
            "this pod's namespace is not exposed: {}",
            crate::hints::hint(fields::METADATA_NAMESPACE)
        ))),
    }
}

/// GETs this pod's object.
pub fn fetch<T: Transport>(
    client: &mut Client<T>,
    info: &PodInfo,
) -> Result<(String, Value), ApiError> {
    let (name, namespace) = identity(info)?;
    let path = pod_path(&namespace, &name);
    let pod = client.get_json(&path)?;
    Ok((path, pod))
}

/// `info --api`: fetch and fill, or record the API error.
pub fn complete<T: Transport>(client: &mut Client<T>, info: &mut PodInfo) {
    match fetch(client, info) {
        Ok((path, pod)) => crate::field_table::fill_from_api(info, &path, &pod),
        Err(e) => info.errors.push(FieldError {
            field: "self".into(),
            source: None,
            problem: Problem::Api(e),
        }),
    }
}

/// Sets (`Some`) and removes (`None`) keys of this pod's `metadata.labels` or
/// `metadata.annotations` (`field`, a fieldPath of [`fields`]) with one JSON merge patch
/// (RFC 7386: a `null` value removes the key), as `kubectl label` / `kubectl annotate` send.
/// Without `overwrite` the pod is read first and a key that already has a different value is
/// refused with kubectl's text ([`pod_introspect_kube::cli_output::overwrite_conflicts`]:
/// `'app' already has a value (web), and --overwrite is false`), as `kubectl label` without
/// `--overwrite` does; with it, one merge patch and nothing read.
/// Returns the patched Pod. Errors: [`identity`]'s, `invalid` for a refused overwrite, and the
/// API server's (a label value that is not valid is `rejected` with its 422 Status).
pub fn patch_map<T: Transport>(
    client: &mut Client<T>,
    info: &PodInfo,
    field: &str,
    changes: &[(String, Option<String>)],
    overwrite: bool,
) -> Result<Value, ApiError> {
    let key = field
        .strip_prefix("metadata.")
        .filter(|k| matches!(*k, "labels" | "annotations"))
        .ok_or_else(|| {
            ApiError::Invalid(format!(
                "{field}: only metadata.labels and metadata.annotations can be patched this way"
            ))
        })?;
    if changes.is_empty() {
        return Err(ApiError::Invalid(format!(
            "no {key} to set or remove: give at least one KEY=VALUE or KEY-"
        )));
    }
    let map: serde_json::Map<String, Value> = changes
        .iter()
        .map(|(k, v)| (k.clone(), v.clone().map_or(Value::Null, Value::String)))
        .collect();
    let patch = serde_json::json!({ "metadata": { key: map } }).to_string();
    let (name, namespace) = identity(info)?;
    if !overwrite {
        let pod = client.get_object(&api::pods(), Some(&namespace), &name, None, None)?;
        if let Some(refused) =
            pod_introspect_kube::cli_output::overwrite_conflicts(&pod["metadata"][key], changes)
        {
            return Err(ApiError::Invalid(refused));
        }
    }
    client.patch_object(
        &api::pods(),
        Some(&namespace),
        &name,
        crate::api::PatchType::Merge,
        patch.as_bytes(),
        &crate::api::WriteOptions::default(),
    )
}
