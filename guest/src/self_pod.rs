//! `self`: this pod's own object from the API, found by the name and namespace the Downward API
//! gives, and the Downward API fields filled from it (`info --api`).

use crate::api::{ApiError, Client, Transport, encode_component};
use crate::model::{FieldError, PodInfo, Problem, Source};
use pod_introspect_kube::fields;
use serde_json::Value;
use std::collections::BTreeMap;

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

fn string_map(v: &Value) -> Option<BTreeMap<String, String>> {
    v.as_object().map(|m| {
        m.iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
            .collect()
    })
}

fn ips(v: &Value) -> Option<Vec<String>> {
    let list: Vec<String> = v
        .as_array()?
        .iter()
        .filter_map(|e| e["ip"].as_str().map(String::from))
        .collect();
    (!list.is_empty()).then_some(list)
}

/// Fills the fields the Downward API did not give from `pod` (the object at `path`); sources say
/// `api:<path>`. A pod always has labels and annotations through the API, possibly empty.
pub fn fill(info: &mut PodInfo, path: &str, pod: &Value) {
    let source = Source::Api(path.to_string());
    let mut set = |field: &str, slot: &mut Option<String>, v: &Value| {
        if slot.is_none()
            && let Some(s) = v.as_str()
        {
            *slot = Some(s.to_string());
            info.sources.insert(field.to_string(), source.clone());
        }
    };
    set(fields::METADATA_UID, &mut info.uid, &pod["metadata"]["uid"]);
    set(
        fields::SPEC_NODE_NAME,
        &mut info.node_name,
        &pod["spec"]["nodeName"],
    );
    set(
        fields::SPEC_SERVICE_ACCOUNT_NAME,
        &mut info.service_account_name,
        &pod["spec"]["serviceAccountName"],
    );
    set(
        fields::STATUS_HOST_IP,
        &mut info.host_ip,
        &pod["status"]["hostIP"],
    );
    set(
        fields::STATUS_POD_IP,
        &mut info.pod_ip,
        &pod["status"]["podIP"],
    );
    let source = Source::Api(path.to_string());
    for (field, slot, v) in [
        (
            fields::METADATA_LABELS,
            &mut info.labels,
            &pod["metadata"]["labels"],
        ),
        (
            fields::METADATA_ANNOTATIONS,
            &mut info.annotations,
            &pod["metadata"]["annotations"],
        ),
    ] {
        if slot.is_none() {
            *slot = Some(string_map(v).unwrap_or_default());
            info.sources.insert(field.to_string(), source.clone());
        }
    }
    for (field, slot, v) in [
        (
            fields::STATUS_HOST_IPS,
            &mut info.host_ips,
            &pod["status"]["hostIPs"],
        ),
        (
            fields::STATUS_POD_IPS,
            &mut info.pod_ips,
            &pod["status"]["podIPs"],
        ),
    ] {
        if slot.is_none()
            && let Some(list) = ips(v)
        {
            *slot = Some(list);
            info.sources.insert(field.to_string(), source.clone());
        }
    }
}

/// `info --api`: fetch and fill, or record the API error.
pub fn complete<T: Transport>(client: &mut Client<T>, info: &mut PodInfo) {
    match fetch(client, info) {
        Ok((path, pod)) => fill(info, &path, &pod),
        Err(e) => info.errors.push(FieldError {
            field: "self".into(),
            source: None,
            problem: Problem::Api(e),
        }),
    }
}
