//! The API server's validation of the parts of a Pod that the simulation uses, with its field
//! paths and messages.
//!
//! Upstream: kubernetes `pkg/apis/core/validation/validation.go` (`ValidateObjectMeta`,
//! `ValidateVolumes`, `validateDownwardAPIVolumeSource`, `validateDownwardAPIVolumeFile`,
//! `validateProjectionSources`, `validateKeyToPath`, `ValidateLocalNonReservedPath`,
//! `validateContainers`, `ValidateEnv`, `validateEnvVarValueFrom`, `validateObjectFieldSelector`,
//! `validateContainerResourceFieldSelector`, `validateContainerResourceDivisor`,
//! `ValidateVolumeMounts`, `ValidateContainerResourceRequirements`) and k8s.io/apimachinery
//! `pkg/api/validation` and `pkg/apis/meta/v1/validation` (names, labels, annotations).
//!
//! The paths are the API server's, quirks included: the errors of a downwardAPI item carry the
//! volume's path without the item index (`spec.volumes[0].downwardAPI.fieldRef.fieldPath`), and a
//! volumeMount's `subPath` error carries `spec.containers[0].volumeMounts.subPath`.
//!
//! Not checked, because the simulation does not use them: images, ports, probes, security
//! contexts, volume types other than downwardAPI and projected, envFrom. A quantity in a message
//! is printed as written in the manifest, where the API server prints its canonical form
//! (`0.5` rather than `500m`).

use std::collections::HashSet;

use k8s_openapi::api::core::v1::{
    Container, DownwardAPIVolumeFile, KeyToPath, ObjectFieldSelector, Pod, ProjectedVolumeSource,
    ResourceFieldSelector, Volume,
};
use pod_introspect_kube::{fields, quantity};

use crate::error::{BadValue, FieldError};
use crate::field_values::{convert_field_label, split_maybe_subscripted};
use crate::names;

/// `fileModeErrorMsg`.
const FILE_MODE_ERROR_MSG: &str = "must be a number between 0 and 0777 (octal), both inclusive";
/// `isNegativeErrorMsg`.
const IS_NEGATIVE_ERROR_MSG: &str = "must be greater than or equal to 0";

/// `validContainerResourceFieldPathExpressions`, sorted as `sets.List` prints them.
const RESOURCE_EXPRESSIONS: &[&str] = &[
    "limits.cpu",
    "limits.ephemeral-storage",
    "limits.memory",
    "requests.cpu",
    "requests.ephemeral-storage",
    "requests.memory",
];

fn sorted(list: &[&'static str]) -> Vec<&'static str> {
    let mut v = list.to_vec();
    v.sort_unstable();
    v
}

/// Validates the (defaulted) pod; an empty list means the API server would accept what the
/// simulation reads.
pub(crate) fn validate_pod(pod: &Pod) -> Vec<FieldError> {
    let mut errs = Vec::new();
    validate_metadata(pod, &mut errs);
    let Some(spec) = pod.spec.as_ref() else {
        errs.push(FieldError::required("spec.containers", ""));
        return errs;
    };
    let volumes: &[Volume] = spec.volumes.as_deref().unwrap_or_default();
    validate_volumes(volumes, &mut errs);
    let volume_names: HashSet<&str> = volumes.iter().map(|v| v.name.as_str()).collect();
    if spec.containers.is_empty() {
        errs.push(FieldError::required("spec.containers", ""));
    }
    let mut container_names = HashSet::new();
    for (i, c) in spec.containers.iter().enumerate() {
        let path = format!("spec.containers[{i}]");
        validate_container(c, &path, &volume_names, &mut container_names, &mut errs);
    }
    for (i, c) in spec.init_containers.iter().flatten().enumerate() {
        let path = format!("spec.initContainers[{i}]");
        validate_container(c, &path, &volume_names, &mut container_names, &mut errs);
    }
    errs
}

fn validate_metadata(pod: &Pod, errs: &mut Vec<FieldError>) {
    let meta = &pod.metadata;
    let name = meta.name.as_deref().unwrap_or("");
    if name.is_empty() {
        if meta.generate_name.as_deref().unwrap_or("").is_empty() {
            errs.push(FieldError::required(
                "metadata.name",
                "name or generateName is required",
            ));
        }
    } else {
        for msg in names::is_dns1123_subdomain(name) {
            errs.push(FieldError::invalid_str("metadata.name", name, msg));
        }
    }
    if let Some(namespace) = meta.namespace.as_deref().filter(|n| !n.is_empty()) {
        for msg in names::is_dns1123_label(namespace) {
            errs.push(FieldError::invalid_str(
                "metadata.namespace",
                namespace,
                msg,
            ));
        }
    }
    for (key, value) in meta.labels.iter().flatten() {
        for msg in names::is_qualified_name(key) {
            errs.push(FieldError::invalid_str("metadata.labels", key, msg));
        }
        for msg in names::is_valid_label_value(value) {
            errs.push(FieldError::invalid_str("metadata.labels", value, msg));
        }
    }
    for key in meta.annotations.iter().flatten().map(|(k, _)| k) {
        for msg in names::is_qualified_name(&key.to_lowercase()) {
            errs.push(FieldError::invalid_str("metadata.annotations", key, msg));
        }
    }
    // apimachinery pkg/api/validation/objectmeta.go ValidateAnnotationsSize: keys and values
    // together at most 256 KiB.
    let total: usize = meta
        .annotations
        .iter()
        .flatten()
        .map(|(k, v)| k.len() + v.len())
        .sum();
    if total > TOTAL_ANNOTATION_SIZE_LIMIT {
        errs.push(FieldError::too_long(
            "metadata.annotations",
            format!("may not be more than {TOTAL_ANNOTATION_SIZE_LIMIT} bytes"),
        ));
    }
}

/// apimachinery `TotalAnnotationSizeLimitB`: 256 KiB.
const TOTAL_ANNOTATION_SIZE_LIMIT: usize = 256 * 1024;

fn validate_mode(mode: Option<i32>, path: String, errs: &mut Vec<FieldError>) {
    if let Some(mode) = mode.filter(|m| !(0..=0o777).contains(m)) {
        errs.push(FieldError::invalid(
            path,
            BadValue::Int(i64::from(mode)),
            FILE_MODE_ERROR_MSG,
        ));
    }
}

/// `ValidateLocalNonReservedPath`: relative, no `..` element, not starting with `..`.
fn validate_local_non_reserved_path(target: &str, path: &str, errs: &mut Vec<FieldError>) {
    validate_local_descending_path(target, path, errs);
    if target.starts_with("..") && !target.starts_with("../") {
        errs.push(FieldError::invalid_str(
            path,
            target,
            "must not start with '..'",
        ));
    }
}

/// `validateLocalDescendingPath`: relative and without a `..` element.
fn validate_local_descending_path(target: &str, path: &str, errs: &mut Vec<FieldError>) {
    if target.starts_with('/') {
        errs.push(FieldError::invalid_str(
            path,
            target,
            "must be a relative path",
        ));
    }
    if target.split('/').any(|part| part == "..") {
        errs.push(FieldError::invalid_str(
            path,
            target,
            "must not contain '..'",
        ));
    }
}

fn validate_volumes(volumes: &[Volume], errs: &mut Vec<FieldError>) {
    let mut seen = HashSet::new();
    for (i, volume) in volumes.iter().enumerate() {
        let path = format!("spec.volumes[{i}]");
        if volume.name.is_empty() {
            errs.push(FieldError::required(format!("{path}.name"), ""));
        } else if !seen.insert(volume.name.as_str()) {
            errs.push(FieldError::duplicate(format!("{path}.name"), &volume.name));
        } else {
            for msg in names::is_dns1123_label(&volume.name) {
                errs.push(FieldError::invalid_str(
                    format!("{path}.name"),
                    &volume.name,
                    msg,
                ));
            }
        }
        if let Some(downward) = volume.downward_api.as_ref() {
            let path = format!("{path}.downwardAPI");
            validate_mode(downward.default_mode, format!("{path}.defaultMode"), errs);
            for file in downward.items.iter().flatten() {
                validate_downward_api_file(file, &path, errs);
            }
        }
        if let Some(projected) = volume.projected.as_ref() {
            validate_projected(projected, &format!("{path}.projected"), errs);
        }
    }
}

fn validate_key_to_path(kp: &KeyToPath, path: &str, errs: &mut Vec<FieldError>) {
    if kp.key.is_empty() {
        errs.push(FieldError::required(format!("{path}.key"), ""));
    }
    if kp.path.is_empty() {
        errs.push(FieldError::required(format!("{path}.path"), ""));
    }
    validate_local_non_reserved_path(&kp.path, &format!("{path}.path"), errs);
    validate_mode(kp.mode, format!("{path}.mode"), errs);
}

fn validate_projected(projected: &ProjectedVolumeSource, path: &str, errs: &mut Vec<FieldError>) {
    validate_mode(projected.default_mode, format!("{path}.defaultMode"), errs);
    let mut all_paths = HashSet::new();
    for (i, source) in projected.sources.iter().flatten().enumerate() {
        let src_path = format!("{path}.sources[{i}]");
        let mut num_sources = 0;
        if let Some(secret) = source.secret.as_ref() {
            num_sources += 1;
            let name = secret.name.as_str();
            if name.is_empty() {
                errs.push(FieldError::required(format!("{src_path}.secret.name"), ""));
            }
            for (j, kp) in secret.items.iter().flatten().enumerate() {
                validate_key_to_path(kp, &format!("{src_path}.secret.items[{j}]"), errs);
                if !kp.path.is_empty() && !all_paths.insert(kp.path.clone()) {
                    errs.push(FieldError::invalid_str(
                        path,
                        name,
                        "conflicting duplicate paths",
                    ));
                }
            }
        }
        if let Some(config_map) = source.config_map.as_ref() {
            num_sources += 1;
            let name = config_map.name.as_str();
            if name.is_empty() {
                errs.push(FieldError::required(
                    format!("{src_path}.configMap.name"),
                    "",
                ));
            }
            for (j, kp) in config_map.items.iter().flatten().enumerate() {
                validate_key_to_path(kp, &format!("{src_path}.configMap.items[{j}]"), errs);
                if !kp.path.is_empty() && !all_paths.insert(kp.path.clone()) {
                    errs.push(FieldError::invalid_str(
                        path,
                        name,
                        "conflicting duplicate paths",
                    ));
                }
            }
        }
        if let Some(downward) = source.downward_api.as_ref() {
            num_sources += 1;
            let proj_path = format!("{src_path}.downwardAPI");
            for file in downward.items.iter().flatten() {
                validate_downward_api_file(file, &proj_path, errs);
                if !file.path.is_empty() && !all_paths.insert(file.path.clone()) {
                    errs.push(FieldError::invalid_str(
                        path,
                        &file.path,
                        "conflicting duplicate paths",
                    ));
                }
            }
        }
        if let Some(token) = source.service_account_token.as_ref() {
            num_sources += 1;
            let proj_path = format!("{src_path}.serviceAccountToken");
            // SetDefaults_ServiceAccountTokenProjection: one hour.
            let expiration = token.expiration_seconds.unwrap_or(3600);
            if expiration < 10 * 60 {
                errs.push(FieldError::invalid(
                    format!("{proj_path}.expirationSeconds"),
                    BadValue::Int(expiration),
                    "may not specify a duration less than 10 minutes",
                ));
            }
            if expiration > 1 << 32 {
                errs.push(FieldError::invalid(
                    format!("{proj_path}.expirationSeconds"),
                    BadValue::Int(expiration),
                    "may not specify a duration larger than 2^32 seconds",
                ));
            }
            if token.path.is_empty() {
                errs.push(FieldError::required(format!("{path}.path"), ""));
            } else {
                validate_local_non_reserved_path(&token.path, &format!("{path}.path"), errs);
            }
        }
        if let Some(bundle) = source.cluster_trust_bundle.as_ref() {
            num_sources += 1;
            let proj_path = format!("{src_path}.clusterTrustBundle");
            if bundle.path.is_empty() {
                errs.push(FieldError::required(format!("{proj_path}.path"), ""));
            }
            validate_local_non_reserved_path(&bundle.path, &format!("{proj_path}.path"), errs);
            if !all_paths.insert(bundle.path.clone()) {
                errs.push(FieldError::invalid_str(
                    path,
                    &bundle.path,
                    "conflicting duplicate paths",
                ));
            }
        }
        if num_sources > 1 {
            errs.push(FieldError::forbidden(
                src_path,
                "may not specify more than 1 volume type per source",
            ));
        }
    }
}

/// `validateDownwardAPIVolumeFile`; `path` is the volume's (or projection's) `downwardAPI` path.
fn validate_downward_api_file(
    file: &DownwardAPIVolumeFile,
    path: &str,
    errs: &mut Vec<FieldError>,
) {
    if file.path.is_empty() {
        errs.push(FieldError::required(format!("{path}.path"), ""));
    }
    validate_local_non_reserved_path(&file.path, &format!("{path}.path"), errs);
    if let Some(field_ref) = file.field_ref.as_ref() {
        validate_object_field_selector(
            field_ref,
            &sorted(fields::VOLUME_FIELD_PATHS),
            &format!("{path}.fieldRef"),
            errs,
        );
        if file.resource_field_ref.is_some() {
            errs.push(FieldError::invalid_str(
                path,
                "resource",
                "fieldRef and resourceFieldRef can not be specified simultaneously",
            ));
        }
    } else if let Some(selector) = file.resource_field_ref.as_ref() {
        validate_resource_field_selector(selector, &format!("{path}.resourceFieldRef"), true, errs);
    } else {
        errs.push(FieldError::required(
            path,
            "one of fieldRef and resourceFieldRef is required",
        ));
    }
    validate_mode(file.mode, format!("{path}.mode"), errs);
}

/// `validateObjectFieldSelector`; `expressions` are the allowed unsubscripted paths, sorted.
fn validate_object_field_selector(
    selector: &ObjectFieldSelector,
    expressions: &[&str],
    path: &str,
    errs: &mut Vec<FieldError>,
) {
    let api_version = selector.api_version.as_deref().unwrap_or("");
    if api_version.is_empty() {
        errs.push(FieldError::required(format!("{path}.apiVersion"), ""));
        return;
    }
    if selector.field_path.is_empty() {
        errs.push(FieldError::required(format!("{path}.fieldPath"), ""));
        return;
    }
    let internal = match convert_field_label(api_version, &selector.field_path) {
        Ok(internal) => internal,
        Err(e) => {
            errs.push(FieldError::invalid_str(
                format!("{path}.fieldPath"),
                &selector.field_path,
                format!("error converting fieldPath: {e}"),
            ));
            return;
        }
    };
    if let Some((base, subscript)) = split_maybe_subscripted(&internal) {
        match base {
            fields::METADATA_ANNOTATIONS => {
                let key = subscript.to_lowercase();
                for msg in names::is_qualified_name(&key) {
                    errs.push(FieldError::invalid_str(path, &key, msg));
                }
            }
            fields::METADATA_LABELS => {
                for msg in names::is_qualified_name(subscript) {
                    errs.push(FieldError::invalid_str(path, subscript, msg));
                }
            }
            _ => errs.push(FieldError::invalid_str(
                path,
                base,
                "does not support subscript",
            )),
        }
    } else if !expressions.contains(&internal.as_str()) {
        errs.push(FieldError::not_supported(
            format!("{path}.fieldPath"),
            &internal,
            expressions,
        ));
    }
}

/// `validateContainerResourceFieldSelector` and `validateContainerResourceDivisor`.
fn validate_resource_field_selector(
    selector: &ResourceFieldSelector,
    path: &str,
    volume: bool,
    errs: &mut Vec<FieldError>,
) {
    let resource = selector.resource.as_str();
    if volume && selector.container_name.as_deref().unwrap_or("").is_empty() {
        errs.push(FieldError::required(format!("{path}.containerName"), ""));
    } else if resource.is_empty() {
        errs.push(FieldError::required(format!("{path}.resource"), ""));
    } else if fields::resource_kind(resource).is_err() {
        errs.push(FieldError::not_supported(
            format!("{path}.resource"),
            resource,
            RESOURCE_EXPRESSIONS,
        ));
    }
    let Some(divisor_text) = selector.divisor.as_ref() else {
        return;
    };
    // Malformed quantities were rejected at decoding (manifest::check_quantities).
    let Ok(divisor) = quantity::Quantity::parse(&divisor_text.0) else {
        return;
    };
    if divisor.is_zero() {
        return;
    }
    let Ok(kind) = fields::resource_kind(resource) else {
        return;
    };
    if quantity::validate_divisor(kind, &divisor).is_err() {
        let what = match kind {
            quantity::ResourceKind::Cpu => {
                "only divisor's values 1m and 1 are supported with the cpu resource"
            }
            quantity::ResourceKind::Memory => {
                "only divisor's values 1, 1k, 1M, 1G, 1T, 1P, 1E, 1Ki, 1Mi, 1Gi, 1Ti, 1Pi, 1Ei are supported with the memory resource"
            }
            quantity::ResourceKind::EphemeralStorage => {
                "only divisor's values 1, 1k, 1M, 1G, 1T, 1P, 1E, 1Ki, 1Mi, 1Gi, 1Ti, 1Pi, 1Ei are supported with the local ephemeral storage resource"
            }
            quantity::ResourceKind::HugePages => {
                "only divisor's values 1, 1k, 1M, 1G, 1T, 1P, 1E, 1Ki, 1Mi, 1Gi, 1Ti, 1Pi, 1Ei are supported with the hugepages resource"
            }
        };
        errs.push(FieldError::invalid_str(
            format!("{path}.divisor"),
            resource,
            what,
        ));
    }
}

fn validate_container<'a>(
    container: &'a Container,
    path: &str,
    volume_names: &HashSet<&str>,
    container_names: &mut HashSet<&'a str>,
    errs: &mut Vec<FieldError>,
) {
    let name_path = format!("{path}.name");
    if container.name.is_empty() {
        errs.push(FieldError::required(&name_path, ""));
    } else {
        for msg in names::is_dns1123_label(&container.name) {
            errs.push(FieldError::invalid_str(&name_path, &container.name, msg));
        }
        if !container_names.insert(container.name.as_str()) {
            errs.push(FieldError::duplicate(&name_path, &container.name));
        }
    }
    validate_env(container, path, errs);
    validate_volume_mounts(container, path, volume_names, errs);
    validate_resources(container, path, errs);
}

fn validate_env(container: &Container, path: &str, errs: &mut Vec<FieldError>) {
    let env_fields = sorted(fields::ENV_FIELD_PATHS);
    for (i, var) in container.env.iter().flatten().enumerate() {
        let idx = format!("{path}.env[{i}]");
        if var.name.is_empty() {
            errs.push(FieldError::required(format!("{idx}.name"), ""));
        } else {
            for msg in names::is_relaxed_env_var_name(&var.name) {
                errs.push(FieldError::invalid_str(
                    format!("{idx}.name"),
                    &var.name,
                    msg,
                ));
            }
        }
        let Some(from) = var.value_from.as_ref() else {
            continue;
        };
        let from_path = format!("{idx}.valueFrom");
        let mut num_sources = 0;
        if let Some(field_ref) = from.field_ref.as_ref() {
            num_sources += 1;
            validate_object_field_selector(
                field_ref,
                &env_fields,
                &format!("{from_path}.fieldRef"),
                errs,
            );
        }
        if let Some(selector) = from.resource_field_ref.as_ref() {
            num_sources += 1;
            validate_resource_field_selector(
                selector,
                &format!("{from_path}.resourceFieldRef"),
                false,
                errs,
            );
        }
        if let Some(cm) = from.config_map_key_ref.as_ref() {
            num_sources += 1;
            validate_key_selector(
                &cm.name,
                &cm.key,
                &format!("{from_path}.configMapKeyRef"),
                errs,
            );
        }
        if let Some(secret) = from.secret_key_ref.as_ref() {
            num_sources += 1;
            validate_key_selector(
                &secret.name,
                &secret.key,
                &format!("{from_path}.secretKeyRef"),
                errs,
            );
        }
        if num_sources == 0 {
            errs.push(FieldError::invalid_str(
                &from_path,
                "",
                "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`",
            ));
        } else if !var.value.as_deref().unwrap_or("").is_empty() {
            errs.push(FieldError::invalid_str(
                &from_path,
                "",
                "may not be specified when `value` is not empty",
            ));
        } else if num_sources > 1 {
            errs.push(FieldError::invalid_str(
                &from_path,
                "",
                "may not have more than one field specified at a time",
            ));
        }
    }
}

/// `validateConfigMapKeySelector` / `validateSecretKeySelector`.
fn validate_key_selector(name: &str, key: &str, path: &str, errs: &mut Vec<FieldError>) {
    for msg in names::is_dns1123_subdomain(name) {
        errs.push(FieldError::invalid_str(format!("{path}.name"), name, msg));
    }
    if key.is_empty() {
        errs.push(FieldError::required(format!("{path}.key"), ""));
    } else {
        for msg in names::is_config_map_key(key) {
            errs.push(FieldError::invalid_str(format!("{path}.key"), key, msg));
        }
    }
}

fn validate_volume_mounts(
    container: &Container,
    path: &str,
    volume_names: &HashSet<&str>,
    errs: &mut Vec<FieldError>,
) {
    let mounts_path = format!("{path}.volumeMounts");
    let mut mount_points = HashSet::new();
    for (i, mount) in container.volume_mounts.iter().flatten().enumerate() {
        let idx = format!("{mounts_path}[{i}]");
        if mount.name.is_empty() {
            errs.push(FieldError::required(format!("{idx}.name"), ""));
        }
        if !volume_names.contains(mount.name.as_str()) {
            errs.push(FieldError::not_found(format!("{idx}.name"), &mount.name));
        }
        if mount.mount_path.is_empty() {
            errs.push(FieldError::required(format!("{idx}.mountPath"), ""));
        }
        if !mount_points.insert(mount.mount_path.as_str()) {
            errs.push(FieldError::invalid_str(
                format!("{idx}.mountPath"),
                &mount.mount_path,
                "must be unique",
            ));
        }
        let sub_path = mount.sub_path.as_deref().unwrap_or("");
        if !sub_path.is_empty() {
            validate_local_descending_path(sub_path, &format!("{mounts_path}.subPath"), errs);
        }
        let sub_path_expr = mount.sub_path_expr.as_deref().unwrap_or("");
        if !sub_path_expr.is_empty() {
            if !sub_path.is_empty() {
                errs.push(FieldError::invalid_str(
                    format!("{idx}.subPathExpr"),
                    sub_path_expr,
                    "subPathExpr and subPath are mutually exclusive",
                ));
            }
            validate_local_descending_path(
                sub_path_expr,
                &format!("{mounts_path}.subPathExpr"),
                errs,
            );
        }
    }
}

/// The value a resource quantity is compared by: millicores for cpu, whole units otherwise.
fn comparable(name: &str, q: &quantity::Quantity) -> i64 {
    if name == "cpu" {
        q.milli_value()
    } else {
        q.value()
    }
}

fn validate_resources(container: &Container, path: &str, errs: &mut Vec<FieldError>) {
    let Some(resources) = container.resources.as_ref() else {
        return;
    };
    let parse = |text: &str| quantity::Quantity::parse(text).ok();
    for (kind, list) in [
        ("limits", &resources.limits),
        ("requests", &resources.requests),
    ] {
        for (name, value) in list.iter().flatten() {
            if parse(&value.0).is_some_and(|q| q.milli_value() < 0) {
                errs.push(FieldError::invalid_str(
                    format!("{path}.resources.{kind}[{name}]"),
                    &value.0,
                    IS_NEGATIVE_ERROR_MSG,
                ));
            }
        }
    }
    let limits = resources.limits.as_ref();
    for (name, request) in resources.requests.iter().flatten() {
        let Some(limit) = limits.and_then(|l| l.get(name)) else {
            continue;
        };
        let (Some(r), Some(l)) = (parse(&request.0), parse(&limit.0)) else {
            continue;
        };
        if comparable(name, &r) > comparable(name, &l) {
            errs.push(FieldError::invalid_str(
                format!("{path}.resources.requests"),
                &request.0,
                format!("must be less than or equal to {name} limit of {}", limit.0),
            ));
        }
    }
}
