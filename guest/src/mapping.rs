//! `POD_INTROSPECT_FIELDS`: an explicit field → source mapping that overrides the naming conventions.
//!
//! Form: comma-separated `FIELD=SOURCE[;divisor=QUANTITY]` entries, where FIELD is a fieldPath
//! (`metadata.name`, `metadata.labels`, `metadata.labels['app']`, `spec.nodeName`, ...) or a
//! `resourceFieldRef` resource (`limits.cpu`), and SOURCE is `env:NAME` or `file:/absolute/path`.
//! Example: `metadata.name=env:APP_POD,limits.cpu=file:/etc/x/cpu;divisor=1m`.
//! The divisor must be one the API server accepts for the resource (kubernetes
//! pkg/apis/core/validation/validation.go); files and env vars do not carry it, so this is the only
//! way for a reader to know the unit of a resource value.

use pod_introspect_kube::{fields, quantity};

/// Env var holding the mapping.
pub const FIELDS_ENV: &str = "POD_INTROSPECT_FIELDS";

/// Where a mapped field is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MappedSource {
    /// An env var by name.
    Env(String),
    /// A file by absolute path.
    File(String),
}

/// One `FIELD=SOURCE[;divisor=Q]` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    /// fieldPath or resource name.
    pub field: String,
    /// Where to read it.
    pub source: MappedSource,
    /// The divisor the value was written with (resources only), as written, e.g. `1m`.
    pub divisor: Option<String>,
}

/// Parses the whole mapping. Every bad entry gives one message naming the entry and the fix.
pub fn parse(text: &str) -> (Vec<Mapping>, Vec<String>) {
    let mut mappings = Vec::new();
    let mut errors = Vec::new();
    for entry in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        match parse_entry(entry) {
            Ok(m) => mappings.push(m),
            Err(e) => errors.push(format!("{FIELDS_ENV} entry {entry:?}: {e}")),
        }
    }
    (mappings, errors)
}

fn parse_entry(entry: &str) -> Result<Mapping, String> {
    let (field, rest) = entry
        .split_once('=')
        .ok_or("expected FIELD=env:NAME or FIELD=file:/path[;divisor=1m]")?;
    let field = field.trim();
    let mut parts = rest.split(';');
    let source = parts.next().unwrap_or_default().trim();
    let source = if let Some(name) = source.strip_prefix("env:") {
        if name.is_empty() {
            return Err("env: needs a variable name, e.g. env:POD_NAME".into());
        }
        MappedSource::Env(name.to_string())
    } else if let Some(path) = source.strip_prefix("file:") {
        if !path.starts_with('/') {
            return Err(format!(
                "file: needs an absolute path in the container, e.g. file:/etc/podinfo/name (got {path:?})"
            ));
        }
        MappedSource::File(path.to_string())
    } else {
        return Err(format!(
            "source {source:?} must start with env: or file: (e.g. env:POD_NAME, file:/etc/podinfo/labels)"
        ));
    };
    let resource_kind = fields::resource_kind(field).ok();
    if resource_kind.is_none() && !is_known_field(field) {
        return Err(format!(
            "unknown field {field:?}: use a fieldPath ({}, {}, {}, metadata.labels['KEY'], metadata.annotations['KEY']) or a resource such as limits.cpu",
            fields::SCALAR_FIELD_PATHS.join(", "),
            fields::METADATA_LABELS,
            fields::METADATA_ANNOTATIONS
        ));
    }
    let mut divisor = None;
    for option in parts.map(str::trim).filter(|o| !o.is_empty()) {
        let Some(value) = option.strip_prefix("divisor=") else {
            return Err(format!(
                "unknown option {option:?}: the only option is ;divisor=QUANTITY"
            ));
        };
        let Some(kind) = resource_kind else {
            return Err(format!("{field} is not a resource, so it takes no divisor"));
        };
        let q = quantity::Quantity::parse(value).map_err(|e| format!("divisor: {e}"))?;
        quantity::validate_divisor(kind, &q).map_err(|e| format!("divisor: {e}"))?;
        divisor = Some(value.to_string());
    }
    Ok(Mapping {
        field: field.to_string(),
        source,
        divisor,
    })
}

fn is_known_field(field: &str) -> bool {
    fields::SCALAR_FIELD_PATHS.contains(&field)
        || field == fields::METADATA_LABELS
        || field == fields::METADATA_ANNOTATIONS
        || fields::split_subscript(field).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_example() {
        let (m, errors) = parse("metadata.name=env:APP_POD,limits.cpu=file:/etc/x/cpu;divisor=1m");
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(
            m,
            vec![
                Mapping {
                    field: "metadata.name".into(),
                    source: MappedSource::Env("APP_POD".into()),
                    divisor: None
                },
                Mapping {
                    field: "limits.cpu".into(),
                    source: MappedSource::File("/etc/x/cpu".into()),
                    divisor: Some("1m".into())
                },
            ]
        );
    }

    #[test]
    fn subscripted_and_whole_maps() {
        let (m, errors) =
            parse("metadata.labels['app']=env:APP, metadata.annotations=file:/etc/a/ann");
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(m[0].field, "metadata.labels['app']");
        assert_eq!(m[1].source, MappedSource::File("/etc/a/ann".into()));
    }

    #[test]
    fn bad_entries_name_the_entry_and_the_fix() {
        let cases = [
            ("metadata.name", "expected FIELD=env:NAME"),
            ("metadata.name=POD", "must start with env: or file:"),
            ("metadata.name=file:rel/path", "absolute path"),
            ("metadata.nam=env:X", "unknown field \"metadata.nam\""),
            ("limits.cpu=env:CPU;divisor=2m", "divisor"),
            ("metadata.name=env:X;divisor=1", "takes no divisor"),
            ("limits.memory=env:M;unit=1Mi", "unknown option"),
            ("metadata.name=env:", "needs a variable name"),
        ];
        for (input, want) in cases {
            let (m, errors) = parse(input);
            assert!(m.is_empty(), "{input}");
            assert_eq!(errors.len(), 1, "{input}");
            assert!(errors[0].contains(want), "{input}: {}", errors[0]);
            assert!(errors[0].contains(FIELDS_ENV), "{input}: {}", errors[0]);
        }
    }

    #[test]
    fn one_bad_entry_keeps_the_good_ones() {
        let (m, errors) = parse("metadata.name=env:A,,bogus,metadata.uid=env:U");
        assert_eq!(m.len(), 2);
        assert_eq!(errors.len(), 1);
    }
}
