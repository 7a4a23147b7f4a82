//! The container's environment as the kubelet builds it.
//!
//! Upstream: kubernetes `pkg/kubelet/kubelet_pods.go` (`makeEnvironmentVariables`): entries are
//! resolved in manifest order into a map; a literal `value` is `$(VAR)`-expanded against the
//! entries resolved so far (`expansion.MappingFuncFor(tmpEnv, serviceEnv)`); an empty `value`
//! with `valueFrom` resolves the source (`podFieldSelectorRuntimeValue`,
//! `containerResourceRuntimeValue` after `defaultPodLimitsForDownwardAPI`). A repeated name
//! overwrites the earlier value.
//!
//! The Service variables of the `kubernetes` Service (`KUBERNETES_SERVICE_HOST`, ...; see
//! [`kubernetes_service_env`]) are visible to `$(VAR)` expansion and appended after the
//! container's own entries unless it sets the same name (`mappingFunc := expansion.MappingFuncFor(
//! tmpEnv, serviceEnv)` and "Append service env vars" in makeEnvironmentVariables).
//!
//! Not simulated (each skipped with a note): `configMapKeyRef`, `secretKeyRef` and `envFrom`,
//! which need a cluster to read from.

use std::collections::HashMap;

use k8s_openapi::api::core::v1::Container;
use pod_introspect_kube::go_quote;

use crate::expansion::expand_env;
use crate::field_values::{
    container_resource_value, env_field_value, resource_value_by_container_name,
};
use crate::manifest::PodFacts;
use crate::node::ParsedAllocatable;
use crate::sandbox::EnvEntry;

/// The resolved environment and the notes about what was skipped.
pub(crate) struct Environment {
    pub entries: Vec<EnvEntry>,
    pub notes: Vec<String>,
}

/// Resolves `container`'s env. The error is the kubelet's (the container would fail with
/// `CreateContainerConfigError`), e.g. `container foo not found`.
pub(crate) fn make_environment(
    pod: &k8s_openapi::api::core::v1::Pod,
    facts: &PodFacts,
    container: &Container,
    allocatable: &ParsedAllocatable,
    service_env: &[(String, String)],
) -> Result<Environment, String> {
    let mut notes = Vec::new();
    for (i, from) in container.env_from.iter().flatten().enumerate() {
        let source = if let Some(cm) = from.config_map_ref.as_ref() {
            format!("configMapRef {}", go_quote::quote(&cm.name))
        } else if let Some(secret) = from.secret_ref.as_ref() {
            format!("secretRef {}", go_quote::quote(&secret.name))
        } else {
            "no source".to_string()
        };
        notes.push(format!(
            "env: envFrom[{i}] ({source}) is not simulated: there is no cluster to read ConfigMaps and Secrets from"
        ));
    }

    let mut order: Vec<String> = Vec::new();
    let mut values: HashMap<String, String> = HashMap::new();
    for var in container.env.iter().flatten() {
        let literal = var.value.clone().unwrap_or_default();
        let value = if !literal.is_empty() {
            Some(expand_env(&literal, |name| {
                values.get(name).cloned().or_else(|| {
                    service_env
                        .iter()
                        .find(|(k, _)| k == name)
                        .map(|(_, v)| v.clone())
                })
            }))
        } else if let Some(from) = var.value_from.as_ref() {
            if let Some(field_ref) = from.field_ref.as_ref() {
                let api_version = field_ref.api_version.as_deref().unwrap_or("v1");
                Some(env_field_value(facts, api_version, &field_ref.field_path)?)
            } else if let Some(selector) = from.resource_field_ref.as_ref() {
                let name = selector.container_name.as_deref().unwrap_or("");
                Some(if name.is_empty() {
                    container_resource_value(container, selector, allocatable)?
                } else {
                    resource_value_by_container_name(pod, name, selector, allocatable)?
                })
            } else if let Some(cm) = from.config_map_key_ref.as_ref() {
                notes.push(format!(
                    "env: {} (configMapKeyRef {} key {}) is not set: there is no cluster to read the ConfigMap from",
                    var.name,
                    go_quote::quote(&cm.name),
                    go_quote::quote(&cm.key)
                ));
                None
            } else if let Some(secret) = from.secret_key_ref.as_ref() {
                notes.push(format!(
                    "env: {} (secretKeyRef {} key {}) is not set: there is no cluster to read the Secret from",
                    var.name,
                    go_quote::quote(&secret.name),
                    go_quote::quote(&secret.key)
                ));
                None
            } else {
                Some(String::new())
            }
        } else {
            Some(String::new())
        };
        if let Some(value) = value {
            if !values.contains_key(&var.name) {
                order.push(var.name.clone());
            }
            values.insert(var.name.clone(), value);
        }
    }
    let mut entries: Vec<EnvEntry> = order
        .into_iter()
        .map(|name| {
            let value = values.remove(&name).unwrap_or_default();
            EnvEntry { name, value }
        })
        .collect();
    for (name, value) in service_env {
        if !entries.iter().any(|e| &e.name == name) {
            entries.push(EnvEntry {
                name: name.clone(),
                value: value.clone(),
            });
        }
    }
    Ok(Environment { entries, notes })
}

/// The env vars the kubelet gives every container for the `kubernetes` Service in the `default`
/// namespace (port name `https`), as kubernetes `pkg/kubelet/envvars/envvars.go` `FromServices`
/// builds them: `KUBERNETES_SERVICE_HOST`, `KUBERNETES_SERVICE_PORT`,
/// `KUBERNETES_SERVICE_PORT_HTTPS`, `KUBERNETES_PORT=tcp://HOST:PORT` (IPv6 bracketed, Go
/// `net.JoinHostPort`), `KUBERNETES_PORT_<PORT>_TCP`, `..._PROTO`, `..._PORT`, `..._ADDR`.
pub fn kubernetes_service_env(host: &str, port: u16) -> Vec<(String, String)> {
    let url = format!(
        "tcp://{}",
        pod_introspect_kube::incluster::join_host_port(host, &port.to_string())
    );
    let prefix = format!("KUBERNETES_PORT_{port}_TCP");
    vec![
        ("KUBERNETES_SERVICE_HOST".into(), host.to_string()),
        ("KUBERNETES_SERVICE_PORT".into(), port.to_string()),
        ("KUBERNETES_SERVICE_PORT_HTTPS".into(), port.to_string()),
        ("KUBERNETES_PORT".into(), url.clone()),
        (prefix.clone(), url),
        (format!("{prefix}_PROTO"), "tcp".into()),
        (format!("{prefix}_PORT"), port.to_string()),
        (format!("{prefix}_ADDR"), host.to_string()),
    ]
}
