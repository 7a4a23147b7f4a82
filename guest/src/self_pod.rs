//! `self`: this pod's own object from the API, found by the name and namespace the Downward API
//! gives, and the Downward API fields filled from it (`info --api`, through
//! [`crate::field_table::fill_from_api`]).

use crate::api::{ApiError, Client, Transport, encode_component};
use crate::model::{FieldError, PodInfo, Problem};
use pod_introspect_kube::fields;
use serde_json::Value;

/// `/api/v1/namespaces/{namespace}/pods/{name}`.
pub fn pod_path(namespace: &str, name: &str) -> String {
    format!(
        "/api/v1/namespaces/{}/pods/{}",
        encode_component(namespace),
        encode_component(name)
    )
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
