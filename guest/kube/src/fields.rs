//! The names of the Downward API: fieldPaths, `resourceFieldRef` resources, and the file and env var
//! names that Kubernetes docs and common manifests use for them.
//!
//! Upstream: kubernetes `pkg/apis/core/validation/validation.go` (`validEnvDownwardAPIFieldPathExpressions`,
//! `validVolumeDownwardAPIFieldPathExpressions`, `validContainerResourceFieldPathExpressions`,
//! `validContainerResourceFieldPathPrefixesWithDownwardAPIHugePages`) and `pkg/fieldpath/fieldpath.go`
//! (`SplitMaybeSubscriptedPath`).

use crate::quantity::{QuantityError, ResourceKind};

/// `metadata.name`: the pod's name.
pub const METADATA_NAME: &str = "metadata.name";
/// `metadata.namespace`: the pod's namespace.
pub const METADATA_NAMESPACE: &str = "metadata.namespace";
/// `metadata.uid`: the pod's UID.
pub const METADATA_UID: &str = "metadata.uid";
/// `metadata.labels`: every label, volume files only.
pub const METADATA_LABELS: &str = "metadata.labels";
/// `metadata.annotations`: every annotation, volume files only.
pub const METADATA_ANNOTATIONS: &str = "metadata.annotations";
/// `spec.nodeName`: the node the pod runs on, env only.
pub const SPEC_NODE_NAME: &str = "spec.nodeName";
/// `spec.serviceAccountName`: the pod's ServiceAccount, env only.
pub const SPEC_SERVICE_ACCOUNT_NAME: &str = "spec.serviceAccountName";
/// `status.hostIP`: the node's primary IP, env only.
pub const STATUS_HOST_IP: &str = "status.hostIP";
/// `status.hostIPs`: the node's IPs, comma-joined, env only.
pub const STATUS_HOST_IPS: &str = "status.hostIPs";
/// `status.podIP`: the pod's primary IP, env only.
pub const STATUS_POD_IP: &str = "status.podIP";
/// `status.podIPs`: the pod's IPs, comma-joined, env only.
pub const STATUS_POD_IPS: &str = "status.podIPs";

/// fieldPaths the API server accepts in an env var's `fieldRef` (validation.go).
pub const ENV_FIELD_PATHS: &[&str] = &[
    METADATA_NAME,
    METADATA_NAMESPACE,
    METADATA_UID,
    SPEC_NODE_NAME,
    SPEC_SERVICE_ACCOUNT_NAME,
    STATUS_HOST_IP,
    STATUS_HOST_IPS,
    STATUS_POD_IP,
    STATUS_POD_IPS,
];

/// fieldPaths the API server accepts in a downwardAPI volume item's `fieldRef` (validation.go).
pub const VOLUME_FIELD_PATHS: &[&str] = &[
    METADATA_NAME,
    METADATA_NAMESPACE,
    METADATA_UID,
    METADATA_LABELS,
    METADATA_ANNOTATIONS,
];

/// The scalar (non-resource) fields pod-introspect reports, in report order: exactly the
/// fieldPaths an env var can carry, since the whole-map fields are volume-only.
pub const SCALAR_FIELD_PATHS: &[&str] = ENV_FIELD_PATHS;

/// Directories searched for downwardAPI volumes when `POD_INTROSPECT_DOWNWARD_DIRS` is unset;
/// defined with the rest of the host↔guest contract in [`crate::contract`].
pub use crate::contract::DEFAULT_DOWNWARD_DIRS;

/// Where the kubelet mounts the ServiceAccount (projected) volume.
pub const SERVICE_ACCOUNT_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";
/// The ServiceAccount volume's `namespace` item.
pub const SERVICE_ACCOUNT_NAMESPACE_FILE: &str = "namespace";

/// Volume item names recognised besides the fieldPath or resource itself, with what they hold.
/// Taken from the Kubernetes docs' downward API pages and common manifests.
pub const CONVENTIONAL_FILE_NAMES: &[(&str, &str)] = &[
    ("labels", METADATA_LABELS),
    ("pod_labels", METADATA_LABELS),
    ("annotations", METADATA_ANNOTATIONS),
    ("pod_annotations", METADATA_ANNOTATIONS),
    ("name", METADATA_NAME),
    ("pod_name", METADATA_NAME),
    ("podname", METADATA_NAME),
    ("namespace", METADATA_NAMESPACE),
    ("pod_namespace", METADATA_NAMESPACE),
    ("uid", METADATA_UID),
    ("pod_uid", METADATA_UID),
    ("cpu_limit", "limits.cpu"),
    ("cpu_request", "requests.cpu"),
    ("mem_limit", "limits.memory"),
    ("mem_request", "requests.memory"),
    ("memory_limit", "limits.memory"),
    ("memory_request", "requests.memory"),
];

/// Env var names recognised for fieldRef/resourceFieldRef values, in lookup order per field.
pub const CONVENTIONAL_ENV_NAMES: &[(&str, &str)] = &[
    ("POD_NAME", METADATA_NAME),
    ("MY_POD_NAME", METADATA_NAME),
    ("POD_NAMESPACE", METADATA_NAMESPACE),
    ("MY_POD_NAMESPACE", METADATA_NAMESPACE),
    ("POD_UID", METADATA_UID),
    ("POD_IP", STATUS_POD_IP),
    ("MY_POD_IP", STATUS_POD_IP),
    ("POD_IPS", STATUS_POD_IPS),
    ("NODE_NAME", SPEC_NODE_NAME),
    ("MY_NODE_NAME", SPEC_NODE_NAME),
    ("HOST_IP", STATUS_HOST_IP),
    ("HOST_IPS", STATUS_HOST_IPS),
    ("POD_SERVICE_ACCOUNT", SPEC_SERVICE_ACCOUNT_NAME),
    ("MY_POD_SERVICE_ACCOUNT", SPEC_SERVICE_ACCOUNT_NAME),
    ("CPU_LIMIT", "limits.cpu"),
    ("MY_CPU_LIMIT", "limits.cpu"),
    ("CPU_REQUEST", "requests.cpu"),
    ("MY_CPU_REQUEST", "requests.cpu"),
    ("MEM_LIMIT", "limits.memory"),
    ("MY_MEM_LIMIT", "limits.memory"),
    ("MEM_REQUEST", "requests.memory"),
    ("MY_MEM_REQUEST", "requests.memory"),
];

/// Runtime-configuration keys (Spin variables, `wasi:config/store` keys) that carry a Downward API
/// field, with what they hold: the conventional env names in lower case, the names a Spin variable
/// can take (`[a-z][a-z0-9_]*`). A SpinApp sets them from `variables[].valueFrom` (`fieldRef`,
/// `resourceFieldRef`); the `env-from-config` component (guest/adapters) passes them to the
/// guest as env vars under [`crate::contract::CONFIG_ENV_PREFIX`], its source of last resort.
pub const CONFIG_KEYS: &[(&str, &str)] = &[
    ("pod_name", METADATA_NAME),
    ("pod_namespace", METADATA_NAMESPACE),
    ("pod_uid", METADATA_UID),
    ("pod_ip", STATUS_POD_IP),
    ("pod_ips", STATUS_POD_IPS),
    ("node_name", SPEC_NODE_NAME),
    ("host_ip", STATUS_HOST_IP),
    ("host_ips", STATUS_HOST_IPS),
    ("pod_service_account", SPEC_SERVICE_ACCOUNT_NAME),
    ("cpu_limit", "limits.cpu"),
    ("cpu_request", "requests.cpu"),
    ("mem_limit", "limits.memory"),
    ("mem_request", "requests.memory"),
];

/// The fixed `resourceFieldRef` resources (hugepages take a size suffix, see [`resource_kind`]).
pub const RESOURCE_NAMES: &[&str] = &[
    "limits.cpu",
    "limits.memory",
    "limits.ephemeral-storage",
    "requests.cpu",
    "requests.memory",
    "requests.ephemeral-storage",
];

/// The kind of a `resourceFieldRef` resource name: `limits.cpu` → cpu, `requests.hugepages-2Mi` →
/// hugepages. Errors list the accepted names.
pub fn resource_kind(resource: &str) -> Result<ResourceKind, QuantityError> {
    let kind = match resource {
        "limits.cpu" | "requests.cpu" => Some(ResourceKind::Cpu),
        "limits.memory" | "requests.memory" => Some(ResourceKind::Memory),
        "limits.ephemeral-storage" | "requests.ephemeral-storage" => {
            Some(ResourceKind::EphemeralStorage)
        }
        _ => ["limits.hugepages-", "requests.hugepages-"]
            .iter()
            .find_map(|prefix| resource.strip_prefix(prefix))
            .filter(|size| !size.is_empty())
            .map(|_| ResourceKind::HugePages),
    };
    kind.ok_or_else(|| {
        QuantityError(format!(
            "unsupported resource {resource:?}: resourceFieldRef accepts {}, limits.hugepages-<size> and requests.hugepages-<size>",
            RESOURCE_NAMES.join(", ")
        ))
    })
}

/// True for a `resourceFieldRef` resource name (see [`resource_kind`]).
pub fn is_resource(name: &str) -> bool {
    resource_kind(name).is_ok()
}

/// Splits a subscripted fieldPath such as `metadata.labels['app']` into (`metadata.labels`, `app`),
/// as kubernetes `fieldpath.SplitMaybeSubscriptedPath` does; `None` for an unsubscripted path.
pub fn split_subscript(field_path: &str) -> Option<(&str, &str)> {
    let inner = field_path.strip_suffix("']")?;
    let open = inner.find("['")?;
    let (base, key) = (&inner[..open], &inner[open + 2..]);
    (base == METADATA_LABELS || base == METADATA_ANNOTATIONS).then_some((base, key))
}

/// Maps a volume item file name to the field it conventionally holds: the fieldPath or resource
/// itself (`metadata.name`, `limits.cpu`) or a name from [`CONVENTIONAL_FILE_NAMES`].
pub fn field_for_file_name(name: &str) -> Option<&str> {
    if VOLUME_FIELD_PATHS.contains(&name) || is_resource(name) {
        return Some(name);
    }
    CONVENTIONAL_FILE_NAMES
        .iter()
        .find(|(file, _)| *file == name)
        .map(|(_, field)| *field)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_kinds() {
        assert_eq!(resource_kind("limits.cpu"), Ok(ResourceKind::Cpu));
        assert_eq!(resource_kind("requests.memory"), Ok(ResourceKind::Memory));
        assert_eq!(
            resource_kind("limits.ephemeral-storage"),
            Ok(ResourceKind::EphemeralStorage)
        );
        assert_eq!(
            resource_kind("requests.hugepages-2Mi"),
            Ok(ResourceKind::HugePages)
        );
        assert!(resource_kind("limits.hugepages-").is_err());
        assert!(
            resource_kind("limits.gpu")
                .unwrap_err()
                .0
                .contains("limits.cpu")
        );
    }

    #[test]
    fn subscripts() {
        assert_eq!(
            split_subscript("metadata.labels['app.kubernetes.io/name']"),
            Some(("metadata.labels", "app.kubernetes.io/name"))
        );
        assert_eq!(
            split_subscript("metadata.annotations['a']"),
            Some(("metadata.annotations", "a"))
        );
        assert_eq!(split_subscript("metadata.labels"), None);
        assert_eq!(split_subscript("spec.nodeName['x']"), None);
    }

    #[test]
    fn file_names() {
        assert_eq!(field_for_file_name("pod_labels"), Some(METADATA_LABELS));
        assert_eq!(field_for_file_name("metadata.uid"), Some(METADATA_UID));
        assert_eq!(field_for_file_name("limits.memory"), Some("limits.memory"));
        assert_eq!(field_for_file_name("cpu_limit"), Some("limits.cpu"));
        assert_eq!(field_for_file_name("spec.nodeName"), None);
        assert_eq!(field_for_file_name("README"), None);
    }
}
