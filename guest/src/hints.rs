//! What to add to a Pod manifest to expose a field, for `not-exposed` errors.
//!
//! Follows what the API server accepts (kubernetes pkg/apis/core/validation/validation.go): labels
//! and annotations only as volume files, node/ServiceAccount/IP fields only as env vars, the others
//! either way.

use pod_introspect_kube::contract::FIELDS_ENV;
use pod_introspect_kube::fields;

/// A manifest snippet, in YAML flow style, that exposes `field` to this container.
pub fn hint(field: &str) -> String {
    if let Some((base, key)) = fields::split_subscript(field) {
        return format!(
            "add env {{name: MY_VALUE, valueFrom: {{fieldRef: {{fieldPath: \"{base}['{key}']\"}}}}}} and {FIELDS_ENV}={field}=env:MY_VALUE, or expose all of {base} as a downwardAPI volume file"
        );
    }
    if field == fields::METADATA_LABELS || field == fields::METADATA_ANNOTATIONS {
        let item = if field == fields::METADATA_LABELS {
            "labels"
        } else {
            "annotations"
        };
        return format!(
            "add a downwardAPI volume item {{path: {item}, fieldRef: {{fieldPath: {field}}}}} mounted at /etc/podinfo ({field} can only be exposed as a volume file)"
        );
    }
    let env = fields::CONVENTIONAL_ENV_NAMES
        .iter()
        .find(|(_, f)| *f == field)
        .map(|(name, _)| name.to_string());
    if fields::is_resource(field) {
        let env = env.unwrap_or_else(|| field.replace(['.', '-'], "_").to_uppercase());
        let divisor = if field.ends_with(".cpu") { "1m" } else { "1" };
        return format!(
            "add env {{name: {env}, valueFrom: {{resourceFieldRef: {{resource: {field}, divisor: {divisor}}}}}}} and {FIELDS_ENV}={field}=env:{env};divisor={divisor}"
        );
    }
    let env = env.unwrap_or_else(|| "MY_VALUE".into());
    if fields::VOLUME_FIELD_PATHS.contains(&field) {
        let item = field.trim_start_matches("metadata.");
        return format!(
            "add env {{name: {env}, valueFrom: {{fieldRef: {{fieldPath: {field}}}}}}}, or a downwardAPI volume item {{path: {item}, fieldRef: {{fieldPath: {field}}}}} mounted at /etc/podinfo"
        );
    }
    if fields::ENV_FIELD_PATHS.contains(&field) {
        return format!(
            "add env {{name: {env}, valueFrom: {{fieldRef: {{fieldPath: {field}}}}}}} ({field} can only be exposed as an env var)"
        );
    }
    format!(
        "{field} is not a Downward API field; fieldRef accepts {} and metadata.labels['KEY'] / metadata.annotations['KEY']",
        fields::ENV_FIELD_PATHS.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::hint;

    #[test]
    fn hints_match_what_the_api_server_accepts() {
        assert!(hint("metadata.labels").contains("can only be exposed as a volume file"));
        assert!(
            hint("spec.nodeName")
                .contains("{name: NODE_NAME, valueFrom: {fieldRef: {fieldPath: spec.nodeName}}}")
        );
        assert!(hint("spec.nodeName").contains("only be exposed as an env var"));
        assert!(
            hint("metadata.name").contains("{path: name, fieldRef: {fieldPath: metadata.name}}")
        );
        assert!(
            hint("limits.cpu")
                .contains("POD_INTROSPECT_FIELDS=limits.cpu=env:CPU_LIMIT;divisor=1m")
        );
        assert!(hint("limits.ephemeral-storage").contains("LIMITS_EPHEMERAL_STORAGE"));
        assert!(hint("metadata.labels['app']").contains("fieldPath: \"metadata.labels['app']\""));
        assert!(hint("spec.containers").contains("not a Downward API field"));
    }
}
