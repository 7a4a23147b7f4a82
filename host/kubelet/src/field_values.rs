//! What the kubelet writes for a `fieldRef` or a `resourceFieldRef`.
//!
//! Upstream: kubernetes `pkg/apis/core/pods/helpers.go` (`ConvertDownwardAPIFieldLabel`),
//! `pkg/fieldpath/fieldpath.go` (`ExtractFieldPathAsString`, `SplitMaybeSubscriptedPath`,
//! `FormatMap`), `pkg/kubelet/kubelet_pods.go` (`podFieldSelectorRuntimeValue`, `sortPodIPs`,
//! `containerResourceRuntimeValue`), `pkg/kubelet/kubelet_resources.go`
//! (`defaultPodLimitsForDownwardAPI`) and `pkg/api/v1/resource/helpers.go`
//! (`ExtractResourceValueByContainerName`, `ExtractContainerResourceValue`,
//! `MergeContainerResourceLimits`).

use std::net::IpAddr;

use k8s_openapi::api::core::v1::{Container, Pod, ResourceFieldSelector};
use pod_introspect_kube::{fields, map_file, quantity};

use crate::manifest::{PodFacts, find_container};
use crate::node::ParsedAllocatable;

/// The field labels `ConvertDownwardAPIFieldLabel` accepts (before the env/volume allow-lists).
const CONVERTIBLE_FIELD_LABELS: &[&str] = &[
    "metadata.annotations",
    "metadata.labels",
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "spec.nodeName",
    "spec.restartPolicy",
    "spec.serviceAccountName",
    "spec.schedulerName",
    "status.phase",
    "status.hostIP",
    "status.hostIPs",
    "status.podIP",
    "status.podIPs",
];

/// `fieldpath.SplitMaybeSubscriptedPath`: `base['key']` → (`base`, `key`) for any non-empty base.
pub(crate) fn split_maybe_subscripted(path: &str) -> Option<(&str, &str)> {
    let inner = path.strip_suffix("']")?;
    let (base, key) = inner.split_once("['")?;
    (!base.is_empty()).then_some((base, key))
}

/// `ConvertDownwardAPIFieldLabel`: the internal field path for `label` under `api_version`, or
/// the conversion error the API server wraps as `error converting fieldPath: ...`.
pub(crate) fn convert_field_label(api_version: &str, label: &str) -> Result<String, String> {
    if api_version != "v1" {
        return Err(format!("unsupported pod version: {api_version}"));
    }
    if let Some((base, _)) = split_maybe_subscripted(label) {
        return match base {
            fields::METADATA_ANNOTATIONS | fields::METADATA_LABELS => Ok(label.to_string()),
            _ => Err(format!("field label does not support subscript: {label}")),
        };
    }
    if CONVERTIBLE_FIELD_LABELS.contains(&label) {
        return Ok(label.to_string());
    }
    if label == "spec.host" {
        // Backwards compatibility with old v1 clients.
        return Ok(fields::SPEC_NODE_NAME.to_string());
    }
    Err(format!("field label not supported: {label}"))
}

/// `fieldpath.ExtractFieldPathAsString` for a pod: what a downwardAPI volume item holds.
/// Whole label/annotation maps use the kubelet's `FormatMap`; a subscript gives the raw value,
/// or `""` when the key is missing.
pub(crate) fn extract_field_path(facts: &PodFacts, path: &str) -> Result<String, String> {
    if let Some((base, key)) = fields::split_subscript(path) {
        let map = if base == fields::METADATA_LABELS {
            &facts.labels
        } else {
            &facts.annotations
        };
        return Ok(map.get(key).cloned().unwrap_or_default());
    }
    match path {
        fields::METADATA_ANNOTATIONS => Ok(map_file::format(&facts.annotations)),
        fields::METADATA_LABELS => Ok(map_file::format(&facts.labels)),
        fields::METADATA_NAME => Ok(facts.name.clone()),
        fields::METADATA_NAMESPACE => Ok(facts.namespace.clone()),
        fields::METADATA_UID => Ok(facts.uid.clone()),
        _ => Err(format!("unsupported fieldPath: {path}")),
    }
}

fn is_ipv4(ip: &str) -> bool {
    matches!(ip.parse::<IpAddr>(), Ok(IpAddr::V4(_)))
}

fn is_ipv6(ip: &str) -> bool {
    matches!(ip.parse::<IpAddr>(), Ok(IpAddr::V6(_)))
}

/// The kubelet's `sortPodIPs`: the first pod IP of the node's primary family (the family of the
/// first host IP, IPv4 when unknown), then the first of the other family.
pub(crate) fn sort_pod_ips(pod_ips: &[String], host_ips: &[String]) -> Vec<String> {
    let ipv6_primary = host_ips.first().is_some_and(|ip| is_ipv6(ip));
    let is_primary = |ip: &str| {
        if ipv6_primary {
            is_ipv6(ip)
        } else {
            is_ipv4(ip)
        }
    };
    let is_secondary = |ip: &str| {
        if ipv6_primary {
            is_ipv4(ip)
        } else {
            is_ipv6(ip)
        }
    };
    let mut out = Vec::with_capacity(2);
    out.extend(pod_ips.iter().find(|ip| is_primary(ip)).cloned());
    out.extend(pod_ips.iter().find(|ip| is_secondary(ip)).cloned());
    out
}

/// `podFieldSelectorRuntimeValue`: the value of an env var's `fieldRef`.
pub(crate) fn env_field_value(
    facts: &PodFacts,
    api_version: &str,
    field_path: &str,
) -> Result<String, String> {
    let internal = convert_field_label(api_version, field_path)?;
    let pod_ips = sort_pod_ips(&facts.pod_ips, &facts.host_ips);
    match internal.as_str() {
        fields::SPEC_NODE_NAME => Ok(facts.node_name.clone()),
        fields::SPEC_SERVICE_ACCOUNT_NAME => Ok(facts.service_account.clone()),
        fields::STATUS_HOST_IP => Ok(facts.host_ips.first().cloned().unwrap_or_default()),
        fields::STATUS_HOST_IPS => Ok(facts.host_ips.join(",")),
        fields::STATUS_POD_IP => Ok(pod_ips.first().cloned().unwrap_or_default()),
        fields::STATUS_POD_IPS => Ok(pod_ips.join(",")),
        other => extract_field_path(facts, other),
    }
}

/// The quantity the kubelet reads for `resource` (e.g. `limits.cpu`, `requests.hugepages-2Mi`) of
/// `container`: a limit that is unset or zero falls back to the node allocatable for cpu, memory
/// and ephemeral-storage; requests were already defaulted from limits by the API server; anything
/// else unset reads as zero (`None`).
fn container_quantity(
    container: &Container,
    resource: &str,
    allocatable: &ParsedAllocatable,
) -> Result<Option<quantity::Quantity>, String> {
    let resources = container.resources.as_ref();
    let (list, name) = if let Some(name) = resource.strip_prefix("limits.") {
        (resources.and_then(|r| r.limits.as_ref()), name)
    } else if let Some(name) = resource.strip_prefix("requests.") {
        (resources.and_then(|r| r.requests.as_ref()), name)
    } else {
        return Err(format!("unsupported container resource : {resource}"));
    };
    let set = match list.and_then(|l| l.get(name)) {
        Some(q) => Some(quantity::Quantity::parse(&q.0).map_err(|e| e.to_string())?),
        None => None,
    };
    if resource.starts_with("limits.")
        && set.as_ref().is_none_or(|q| q.is_zero())
        && let Some(node) = allocatable.get(name)
    {
        return Ok(Some(node.clone()));
    }
    Ok(set)
}

/// `ExtractContainerResourceValue` on the container after `MergeContainerResourceLimits`:
/// `ceil(quantity / divisor)` as a decimal integer (`0` for an unset resource).
pub(crate) fn container_resource_value(
    container: &Container,
    selector: &ResourceFieldSelector,
    allocatable: &ParsedAllocatable,
) -> Result<String, String> {
    let kind = fields::resource_kind(&selector.resource).map_err(|e| e.to_string())?;
    let divisor = match selector.divisor.as_ref() {
        Some(d) => quantity::Quantity::parse(&d.0).map_err(|e| e.to_string())?,
        None => quantity::Quantity::parse("1").map_err(|e| e.to_string())?,
    };
    match container_quantity(container, &selector.resource, allocatable)? {
        Some(q) => Ok(quantity::divide_ceil(kind, &q, &divisor).to_string()),
        None => Ok("0".to_string()),
    }
}

/// `ExtractResourceValueByContainerName` (volume items, and env vars that name a container): the
/// error is the kubelet's `container NAME not found`.
pub(crate) fn resource_value_by_container_name(
    pod: &Pod,
    container_name: &str,
    selector: &ResourceFieldSelector,
    allocatable: &ParsedAllocatable,
) -> Result<String, String> {
    let container = find_container(pod, container_name)
        .ok_or_else(|| format!("container {container_name} not found"))?;
    container_resource_value(container, selector, allocatable)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_label_conversion() {
        let cases: &[(&str, &str, Result<&str, &str>)] = &[
            ("v1", "metadata.name", Ok("metadata.name")),
            ("v1", "spec.host", Ok("spec.nodeName")),
            ("v1", "metadata.labels['app']", Ok("metadata.labels['app']")),
            ("v1", "status.phase", Ok("status.phase")),
            ("v2", "metadata.name", Err("unsupported pod version: v2")),
            (
                "v1",
                "spec.nodeName['x']",
                Err("field label does not support subscript: spec.nodeName['x']"),
            ),
            (
                "v1",
                "metadata.foo",
                Err("field label not supported: metadata.foo"),
            ),
        ];
        for (version, label, want) in cases {
            let got = convert_field_label(version, label);
            assert_eq!(got.as_deref().map_err(|e| e.as_str()), *want, "{label}");
        }
    }

    #[test]
    fn subscripts() {
        assert_eq!(
            split_maybe_subscripted("metadata.labels['a']"),
            Some(("metadata.labels", "a"))
        );
        assert_eq!(split_maybe_subscripted("x['a['b']"), Some(("x", "a['b")));
        assert_eq!(split_maybe_subscripted("['a']"), None);
        assert_eq!(split_maybe_subscripted("metadata.labels"), None);
    }

    #[test]
    fn pod_ip_order_follows_the_node_family() {
        let pod = vec![
            "fd00::5".to_string(),
            "10.0.0.5".to_string(),
            "10.0.0.6".to_string(),
        ];
        assert_eq!(
            sort_pod_ips(&pod, &["172.18.0.2".to_string()]),
            vec!["10.0.0.5", "fd00::5"]
        );
        assert_eq!(
            sort_pod_ips(&pod, &["fd00::1".to_string()]),
            vec!["fd00::5", "10.0.0.5"]
        );
        assert_eq!(sort_pod_ips(&pod, &[]), vec!["10.0.0.5", "fd00::5"]);
        assert_eq!(
            sort_pod_ips(&["10.1.1.1".to_string()], &[]),
            vec!["10.1.1.1"]
        );
    }
}
