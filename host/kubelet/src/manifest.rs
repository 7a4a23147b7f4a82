//! Reading the Pod manifest, and what the API server does to a Pod before the kubelet sees it:
//! decoding, defaulting, and the identity fields it assigns.
//!
//! Upstream: kubernetes `pkg/apis/core/v1/defaults.go` (`SetDefaults_Pod`: requests default to the
//! limits a container sets; `SetDefaults_ObjectFieldSelector`: `apiVersion` defaults to `v1`),
//! `pkg/apis/core/v1/conversion.go` (the deprecated `spec.serviceAccount` alias),
//! `plugin/pkg/admission/serviceaccount/admission.go` (`serviceAccountName` defaults to `default`),
//! and k8s.io/apimachinery `pkg/api/resource/quantity.go` (a malformed quantity fails decoding).

use std::collections::BTreeMap;
use std::net::IpAddr;

use k8s_openapi::api::core::v1::{Container, DownwardAPIVolumeFile, EnvVar, Pod};
use pod_introspect_kube::quantity::Quantity;
use serde::Deserialize;

use crate::SimulateError;

/// The node name the simulated pod is scheduled to when the manifest sets no `spec.nodeName`.
pub const DEFAULT_NODE_NAME: &str = "pod-introspect-node";
/// The pod IPs used when the manifest's `status` has none (one IPv4, one IPv6: a dual-stack pod).
pub const DEFAULT_POD_IPS: &[&str] = &["10.244.0.10", "fd00:10:244::a"];
/// The host IPs used when the manifest's `status` has none.
pub const DEFAULT_HOST_IPS: &[&str] = &["172.18.0.2"];
/// The namespace of a manifest without `metadata.namespace` (kubectl's default context namespace).
pub const DEFAULT_NAMESPACE: &str = "default";
/// The ServiceAccount of a pod without `spec.serviceAccountName`.
pub const DEFAULT_SERVICE_ACCOUNT: &str = "default";

/// `apiVersion` and `kind` alone, read first so that a wrong or missing one gets a clear message.
#[derive(Deserialize)]
struct TypeMeta {
    #[serde(rename = "apiVersion", default)]
    api_version: Option<String>,
    #[serde(default)]
    kind: Option<String>,
}

/// YAML 1.1 integers as Kubernetes reads them (sigs.k8s.io/yaml): `mode: 0644` is octal 420.
fn yaml_options() -> serde_saphyr::Options {
    serde_saphyr::options! { legacy_octal_numbers: true }
}

fn manifest_error(manifest: &str, message: impl Into<String>) -> SimulateError {
    SimulateError::Manifest {
        manifest: manifest.to_string(),
        message: message.into(),
    }
}

fn yaml_error(manifest: &str, err: &serde_saphyr::Error) -> SimulateError {
    let text = err.without_snippet().to_string();
    if text.contains("multiple YAML documents") {
        let line = err
            .location()
            .map(|l| format!(" (another starts at line {})", l.line()))
            .unwrap_or_default();
        return manifest_error(
            manifest,
            format!("holds more than one YAML document{line}; simulate needs exactly one Pod"),
        );
    }
    let text = text.strip_prefix("error: ").unwrap_or(&text);
    manifest_error(manifest, format!("not a valid Pod manifest: {text}"))
}

/// Decodes the manifest text (YAML or JSON, one document) into a Pod.
///
/// Errors name the manifest, and the line and column for YAML errors; a missing or wrong
/// `kind`/`apiVersion` is reported before anything else.
pub(crate) fn decode(text: &str, manifest: &str) -> Result<Pod, SimulateError> {
    let type_meta: TypeMeta = serde_saphyr::from_str_with_options(text, yaml_options())
        .map_err(|e| yaml_error(manifest, &e))?;
    match type_meta.kind.as_deref() {
        Some("Pod") => {}
        None | Some("") => {
            return Err(manifest_error(
                manifest,
                "kind not set: simulate needs a Pod manifest (kind: Pod, apiVersion: v1)",
            ));
        }
        Some(other) => {
            return Err(manifest_error(
                manifest,
                format!(
                    "kind is \"{other}\": simulate needs a Pod manifest (kind: Pod, apiVersion: v1)"
                ),
            ));
        }
    }
    match type_meta.api_version.as_deref() {
        Some("v1") => {}
        None | Some("") => {
            return Err(manifest_error(
                manifest,
                "apiVersion not set: a Pod is apiVersion: v1",
            ));
        }
        Some(other) => {
            return Err(manifest_error(
                manifest,
                format!("apiVersion is \"{other}\": a Pod is apiVersion: v1"),
            ));
        }
    }
    serde_saphyr::from_str_with_options(text, yaml_options()).map_err(|e| yaml_error(manifest, &e))
}

/// All containers the kubelet can run for the pod, with their field paths: app containers first,
/// then init containers (including sidecars).
pub(crate) fn containers_with_paths(pod: &Pod) -> Vec<(String, &Container)> {
    let Some(spec) = pod.spec.as_ref() else {
        return Vec::new();
    };
    let app = spec
        .containers
        .iter()
        .enumerate()
        .map(|(i, c)| (format!("spec.containers[{i}]"), c));
    let init = spec
        .init_containers
        .iter()
        .flatten()
        .enumerate()
        .map(|(i, c)| (format!("spec.initContainers[{i}]"), c));
    app.chain(init).collect()
}

/// Finds a container (or init container) by name, as the kubelet's `findContainerInPod` does.
pub(crate) fn find_container<'a>(pod: &'a Pod, name: &str) -> Option<&'a Container> {
    let spec = pod.spec.as_ref()?;
    spec.containers
        .iter()
        .chain(spec.init_containers.iter().flatten())
        .find(|c| c.name == name)
}

fn default_field_ref_api_version(files: &mut [DownwardAPIVolumeFile]) {
    for file in files {
        if let Some(field_ref) = file.field_ref.as_mut()
            && field_ref.api_version.as_deref().unwrap_or("").is_empty()
        {
            field_ref.api_version = Some("v1".to_string());
        }
    }
}

fn default_env(env: &mut [EnvVar]) {
    for var in env {
        if let Some(field_ref) = var.value_from.as_mut().and_then(|v| v.field_ref.as_mut())
            && field_ref.api_version.as_deref().unwrap_or("").is_empty()
        {
            field_ref.api_version = Some("v1".to_string());
        }
    }
}

/// Applies the API server's defaulting that changes what the kubelet reports: a container's
/// requests default, key by key, to the limits it sets (`SetDefaults_Pod`), and a fieldRef's
/// `apiVersion` defaults to `v1`.
pub(crate) fn apply_defaults(pod: &mut Pod) {
    let Some(spec) = pod.spec.as_mut() else {
        return;
    };
    let containers = spec
        .containers
        .iter_mut()
        .chain(spec.init_containers.iter_mut().flatten());
    for container in containers {
        if let Some(resources) = container.resources.as_mut()
            && let Some(limits) = resources.limits.clone()
        {
            let requests = resources.requests.get_or_insert_with(BTreeMap::new);
            for (key, value) in limits {
                requests.entry(key).or_insert(value);
            }
        }
        if let Some(env) = container.env.as_mut() {
            default_env(env);
        }
    }
    for volume in spec.volumes.iter_mut().flatten() {
        if let Some(items) = volume.downward_api.as_mut().and_then(|d| d.items.as_mut()) {
            default_field_ref_api_version(items);
        }
        let sources = volume.projected.as_mut().and_then(|p| p.sources.as_mut());
        for source in sources.into_iter().flatten() {
            if let Some(items) = source.downward_api.as_mut().and_then(|d| d.items.as_mut()) {
                default_field_ref_api_version(items);
            }
        }
    }
}

/// Checks every quantity the simulation may read (container limits and requests, and the
/// divisors of env and volume resourceFieldRefs): the API server fails to decode a Pod with a
/// malformed one. The error names the field.
pub(crate) fn check_quantities(pod: &Pod, manifest: &str) -> Result<(), SimulateError> {
    let check = |path: String, text: &str| -> Result<(), SimulateError> {
        Quantity::parse(text)
            .map(|_| ())
            .map_err(|e| manifest_error(manifest, format!("cannot decode the Pod: {path}: {e}")))
    };
    for (path, container) in containers_with_paths(pod) {
        if let Some(resources) = container.resources.as_ref() {
            for (kind, list) in [
                ("limits", &resources.limits),
                ("requests", &resources.requests),
            ] {
                for (name, value) in list.iter().flatten() {
                    check(format!("{path}.resources.{kind}[{name}]"), &value.0)?;
                }
            }
        }
        for (i, var) in container.env.iter().flatten().enumerate() {
            let divisor = var
                .value_from
                .as_ref()
                .and_then(|v| v.resource_field_ref.as_ref())
                .and_then(|r| r.divisor.as_ref());
            if let Some(divisor) = divisor {
                check(
                    format!("{path}.env[{i}].valueFrom.resourceFieldRef.divisor"),
                    &divisor.0,
                )?;
            }
        }
    }
    let volumes = pod.spec.as_ref().and_then(|s| s.volumes.as_ref());
    for (v, volume) in volumes.into_iter().flatten().enumerate() {
        let mut item_lists = Vec::new();
        if let Some(items) = volume.downward_api.as_ref().and_then(|d| d.items.as_ref()) {
            item_lists.push((format!("spec.volumes[{v}].downwardAPI"), items));
        }
        let sources = volume.projected.as_ref().and_then(|p| p.sources.as_ref());
        for (s, source) in sources.into_iter().flatten().enumerate() {
            if let Some(items) = source.downward_api.as_ref().and_then(|d| d.items.as_ref()) {
                item_lists.push((
                    format!("spec.volumes[{v}].projected.sources[{s}].downwardAPI"),
                    items,
                ));
            }
        }
        for (path, items) in item_lists {
            for (i, item) in items.iter().enumerate() {
                let divisor = item
                    .resource_field_ref
                    .as_ref()
                    .and_then(|r| r.divisor.as_ref());
                if let Some(divisor) = divisor {
                    check(
                        format!("{path}.items[{i}].resourceFieldRef.divisor"),
                        &divisor.0,
                    )?;
                }
            }
        }
    }
    Ok(())
}

/// The facts about the running pod that the kubelet reads: identity, placement and addresses.
#[derive(Debug, Clone)]
pub(crate) struct PodFacts {
    pub name: String,
    pub namespace: String,
    pub uid: String,
    pub node_name: String,
    pub service_account: String,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    /// The pod's IPs as the status reports them (primary first).
    pub pod_ips: Vec<String>,
    /// The node's IPs (primary first).
    pub host_ips: Vec<String>,
}

fn non_empty(s: Option<&String>) -> Option<String> {
    s.filter(|s| !s.is_empty()).cloned()
}

/// The IPs of `status.<plural>` (`[{ip: ...}]`), else `status.<singular>`, else `defaults`.
/// Each must parse as an IP address: they become env values such as `status.podIP`.
fn ips(
    plural: Option<Vec<String>>,
    singular: Option<&String>,
    defaults: &[&str],
    field: &str,
    manifest: &str,
) -> Result<Vec<String>, SimulateError> {
    let list = match (plural.filter(|l| !l.is_empty()), non_empty(singular)) {
        (Some(list), _) => list,
        (None, Some(one)) => vec![one],
        (None, None) => defaults.iter().map(|s| s.to_string()).collect(),
    };
    for (i, ip) in list.iter().enumerate() {
        if ip.parse::<IpAddr>().is_err() {
            return Err(manifest_error(
                manifest,
                format!("status.{field}[{i}].ip: \"{ip}\" is not an IP address"),
            ));
        }
    }
    Ok(list)
}

impl PodFacts {
    /// Collects the facts from the (defaulted, validated) pod; `uid` is decided by the caller.
    pub(crate) fn new(pod: &Pod, uid: String, manifest: &str) -> Result<PodFacts, SimulateError> {
        let meta = &pod.metadata;
        let spec = pod.spec.as_ref();
        let status = pod.status.as_ref();
        let pod_ips = ips(
            status
                .and_then(|s| s.pod_ips.as_ref())
                .map(|l| l.iter().map(|p| p.ip.clone()).collect()),
            status.and_then(|s| s.pod_ip.as_ref()),
            DEFAULT_POD_IPS,
            "podIPs",
            manifest,
        )?;
        let host_ips = ips(
            status
                .and_then(|s| s.host_ips.as_ref())
                .map(|l| l.iter().map(|p| p.ip.clone()).collect()),
            status.and_then(|s| s.host_ip.as_ref()),
            DEFAULT_HOST_IPS,
            "hostIPs",
            manifest,
        )?;
        Ok(PodFacts {
            name: meta.name.clone().unwrap_or_default(),
            namespace: non_empty(meta.namespace.as_ref())
                .unwrap_or_else(|| DEFAULT_NAMESPACE.to_string()),
            uid,
            node_name: non_empty(spec.and_then(|s| s.node_name.as_ref()))
                .unwrap_or_else(|| DEFAULT_NODE_NAME.to_string()),
            service_account: non_empty(spec.and_then(|s| s.service_account_name.as_ref()))
                .or_else(|| non_empty(spec.and_then(|s| s.service_account.as_ref())))
                .unwrap_or_else(|| DEFAULT_SERVICE_ACCOUNT.to_string()),
            labels: meta.labels.clone().unwrap_or_default(),
            annotations: meta.annotations.clone().unwrap_or_default(),
            pod_ips,
            host_ips,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_and_api_version_are_checked_first() {
        let cases = [
            (
                "apiVersion: v1\nmetadata: {name: x}\n",
                "pod.yaml: kind not set",
            ),
            (
                "apiVersion: apps/v1\nkind: Deployment\n",
                "pod.yaml: kind is \"Deployment\"",
            ),
            ("kind: Pod\n", "pod.yaml: apiVersion not set"),
            (
                "kind: Pod\napiVersion: v2\n",
                "pod.yaml: apiVersion is \"v2\"",
            ),
            ("", "pod.yaml: kind not set"),
        ];
        for (text, want) in cases {
            let msg = decode(text, "pod.yaml").unwrap_err().to_string();
            assert!(msg.starts_with(want), "{text:?}: {msg}");
        }
    }

    #[test]
    fn yaml_errors_carry_the_location() {
        let text = "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: a\n    env: 5\n";
        let msg = decode(text, "pod.yaml").unwrap_err().to_string();
        assert_eq!(
            msg,
            "pod.yaml: not a valid Pod manifest: expected sequence start at line 6, column 10"
        );
        let multi = "apiVersion: v1\nkind: Pod\n---\napiVersion: v1\nkind: Pod\n";
        let msg = decode(multi, "two.yaml").unwrap_err().to_string();
        assert!(
            msg.starts_with("two.yaml: holds more than one YAML document"),
            "{msg}"
        );
    }

    #[test]
    fn json_and_octal_modes() {
        let json = r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"j"},"spec":{"containers":[{"name":"c"}],"volumes":[{"name":"v","downwardAPI":{"defaultMode":420}}]}}"#;
        let pod = decode(json, "p.json").unwrap();
        assert_eq!(pod.metadata.name.as_deref(), Some("j"));
        let yaml = "apiVersion: v1\nkind: Pod\nspec:\n  containers: []\n  volumes:\n  - name: v\n    downwardAPI:\n      defaultMode: 0644\n";
        let pod = decode(yaml, "p.yaml").unwrap();
        let volumes = pod.spec.unwrap().volumes.unwrap();
        assert_eq!(
            volumes[0].downward_api.as_ref().unwrap().default_mode,
            Some(0o644)
        );
    }

    #[test]
    fn requests_default_to_limits_key_by_key() {
        let yaml = "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: a\n    resources:\n      limits: {cpu: 500m, memory: 64Mi}\n      requests: {cpu: 250m}\n  - name: b\n    resources:\n      requests: {cpu: 100m}\n";
        let mut pod = decode(yaml, "p.yaml").unwrap();
        apply_defaults(&mut pod);
        let spec = pod.spec.unwrap();
        let a = spec.containers[0]
            .resources
            .as_ref()
            .unwrap()
            .requests
            .as_ref()
            .unwrap();
        assert_eq!(a["cpu"].0, "250m");
        assert_eq!(a["memory"].0, "64Mi");
        let b = spec.containers[1].resources.as_ref().unwrap();
        assert_eq!(b.limits, None);
        assert_eq!(b.requests.as_ref().unwrap().len(), 1);
    }
}
