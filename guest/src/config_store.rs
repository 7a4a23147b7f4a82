//! The pod's metadata as flat `wasi:config/store@0.2.0-rc.1` keys (the version wasmtime-wasi-config
//! 48 implements; WIT in `wit/deps/config.wit`, spec at <https://github.com/WebAssembly/wasi-config>;
//! wasmCloud's wash-runtime 0.1.0 implements the older `wasi:config/runtime@0.2.0-draft`).
//!
//! | key | from |
//! |---|---|
//! | `pod.name`, `pod.namespace`, `pod.uid` | `metadata.name`, `metadata.namespace`, `metadata.uid` |
//! | `pod.labels.<key>`, `pod.annotations.<key>` | one entry of `metadata.labels` / `metadata.annotations` |
//! | `pod.node-name`, `pod.service-account-name` | `spec.nodeName`, `spec.serviceAccountName` |
//! | `pod.ip`, `pod.ips`, `pod.host-ip`, `pod.host-ips` | `status.podIP(s)`, `status.hostIP(s)`; lists comma-separated |
//! | `limits.cpu`, `requests.memory`, ... | the `resourceFieldRef` value as the kubelet wrote it, in units of the divisor |
//! | `limits.cpu.divisor` | the divisor `POD_INTROSPECT_FIELDS` declares (absent when undeclared: files and env vars do not carry it) |
//! | `limits.cpu.millicores`, `limits.memory.bytes`, ... | the value in millicores (cpu) or bytes (the others), when the divisor is declared |
//!
//! Errors: a key that is not exposed to the container is `Ok(None)` from `get` and absent from
//! `get-all`. A key whose source exists but cannot be used (a malformed label file, an unreadable
//! file) is an error from `get`: `io` for a read failure, `upstream` for the rest, with the file
//! and line. `get-all` is that error when any source is broken, so a component that loads its
//! configuration at start-up never runs on a silently partial set. A broken `POD_INTROSPECT_FIELDS`
//! (a typo in a divisor changes what every figure means) is an `upstream` error from every call.

use crate::field_table::{MAP_FIELDS, SCALAR_FIELDS};
use crate::model::{FieldError, PodInfo, Problem};
use pod_introspect_kube::contract::FIELDS_ENV;
use pod_introspect_kube::fields;

/// Why a key has no value although its source exists (WIT `wasi:config/store.error`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreError {
    /// A read failed (`error::io`).
    Io(String),
    /// The source is malformed or the API failed (`error::upstream`).
    Upstream(String),
}

/// Every key with a value, sorted by key (`get-all`).
///
/// Errors: the problems of `info`, joined with `; `, when any source was broken.
pub fn get_all(info: &PodInfo) -> Result<Vec<(String, String)>, StoreError> {
    if let Some(e) = mapping_error(info) {
        return Err(e);
    }
    if !info.errors.is_empty() {
        let all_io = info
            .errors
            .iter()
            .all(|e| matches!(e.problem, Problem::Io { .. }));
        let message = info
            .errors
            .iter()
            .map(|e| e.problem.to_string())
            .collect::<Vec<_>>()
            .join("; ");
        return Err(if all_io {
            StoreError::Io(message)
        } else {
            StoreError::Upstream(message)
        });
    }
    Ok(pairs(info))
}

/// The `POD_INTROSPECT_FIELDS` error, which makes every key suspect.
fn mapping_error(info: &PodInfo) -> Option<StoreError> {
    info.errors
        .iter()
        .find(|e| e.field == FIELDS_ENV)
        .map(|e| StoreError::Upstream(format!("{FIELDS_ENV}: {}", e.problem)))
}

/// Every key that has a value, sorted, whatever else was broken.
fn pairs(info: &PodInfo) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for f in SCALAR_FIELDS {
        if let Some(v) = f.value(info) {
            out.push((f.config_key.to_string(), v));
        }
    }
    for f in MAP_FIELDS {
        for (k, v) in (f.get)(info).iter().flatten() {
            out.push((format!("{}{k}", f.config_prefix), v.clone()));
        }
    }
    for (name, r) in &info.resources {
        out.push((name.clone(), r.value.to_string()));
        // A divisor is known only when declared, and then the unit figure is there too.
        if r.millicores.is_some() || r.bytes.is_some() {
            out.push((format!("{name}.divisor"), r.divisor.clone()));
        }
        if let Some(m) = r.millicores {
            out.push((format!("{name}.millicores"), m.to_string()));
        }
        if let Some(b) = r.bytes {
            out.push((format!("{name}.bytes"), b.to_string()));
        }
    }
    out.sort();
    out
}

/// One key: `Ok(Some)` when it has a value, `Ok(None)` when it is not exposed (or is no key of
/// this store), an error when its source exists but could not be used.
pub fn get(info: &PodInfo, key: &str) -> Result<Option<String>, StoreError> {
    if let Some(e) = mapping_error(info) {
        return Err(e);
    }
    if let Some((_, v)) = pairs(info).into_iter().find(|(k, _)| k == key) {
        return Ok(Some(v));
    }
    let Some(field) = field_of(key) else {
        return Ok(None);
    };
    match info.errors.iter().find(|e| e.field == field) {
        Some(FieldError {
            problem: problem @ Problem::Io { .. },
            ..
        }) => Err(StoreError::Io(problem.to_string())),
        Some(e) => Err(StoreError::Upstream(e.problem.to_string())),
        None => Ok(None),
    }
}

/// The fieldPath or resource a key reads, as named in `PodInfo::errors`.
fn field_of(key: &str) -> Option<String> {
    if let Some(f) = MAP_FIELDS.iter().find(|f| key.starts_with(f.config_prefix)) {
        return Some(f.path.to_string());
    }
    if let Some(f) = SCALAR_FIELDS.iter().find(|f| f.config_key == key) {
        return Some(f.path.to_string());
    }
    let resource = ["divisor", "millicores", "bytes"]
        .iter()
        .find_map(|suffix| key.strip_suffix(&format!(".{suffix}")))
        .unwrap_or(key);
    fields::resource_kind(resource)
        .is_ok()
        .then(|| resource.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ResourceValue, Source};
    use std::collections::BTreeMap;

    fn info() -> PodInfo {
        let mut info = PodInfo {
            name: Some("web-0".into()),
            namespace: Some("shop".into()),
            pod_ips: Some(vec!["10.0.0.5".into(), "fd00::5".into()]),
            labels: Some(BTreeMap::from([
                ("app".to_string(), "web".to_string()),
                ("app.kubernetes.io/name".to_string(), "store".to_string()),
            ])),
            ..PodInfo::default()
        };
        info.resources.insert(
            "limits.cpu".into(),
            ResourceValue {
                value: 500,
                divisor: "1m".into(),
                millicores: Some(500),
                bytes: None,
            },
        );
        info.resources.insert(
            "limits.memory".into(),
            ResourceValue {
                value: 67108864,
                divisor: "1".into(),
                millicores: None,
                bytes: None,
            },
        );
        info
    }

    #[test]
    fn all_keys_sorted_with_values() {
        let all = get_all(&info()).unwrap();
        let keys: Vec<&str> = all.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            [
                "limits.cpu",
                "limits.cpu.divisor",
                "limits.cpu.millicores",
                "limits.memory",
                "pod.ips",
                "pod.labels.app",
                "pod.labels.app.kubernetes.io/name",
                "pod.name",
                "pod.namespace",
            ]
        );
        let get = |k: &str| get(&info(), k).unwrap();
        assert_eq!(get("pod.ips").as_deref(), Some("10.0.0.5,fd00::5"));
        assert_eq!(get("limits.cpu").as_deref(), Some("500"));
        assert_eq!(get("limits.cpu.divisor").as_deref(), Some("1m"));
        assert_eq!(get("limits.cpu.millicores").as_deref(), Some("500"));
        assert_eq!(get("limits.memory").as_deref(), Some("67108864"));
        // Undeclared divisor: not stated.
        assert_eq!(get("limits.memory.divisor"), None);
        assert_eq!(
            get("pod.labels.app.kubernetes.io/name").as_deref(),
            Some("store")
        );
    }

    #[test]
    fn absent_keys_are_none() {
        let info = info();
        assert_eq!(get(&info, "pod.uid"), Ok(None));
        assert_eq!(get(&info, "pod.labels.missing"), Ok(None));
        assert_eq!(get(&info, "limits.memory.bytes"), Ok(None));
        assert_eq!(get(&info, "no.such.key"), Ok(None));
        assert_eq!(get(&info, ""), Ok(None));
    }

    #[test]
    fn broken_sources_are_errors_naming_file_and_line() {
        let mut info = info();
        info.labels = None;
        info.errors.push(FieldError {
            field: fields::METADATA_LABELS.into(),
            source: Some(Source::VolumeFile("/etc/podinfo/labels".into())),
            problem: Problem::Malformed {
                file: "/etc/podinfo/labels".into(),
                line: Some(2),
                reason: "missing closing quote".into(),
            },
        });
        info.errors.push(FieldError {
            field: "requests.memory".into(),
            source: None,
            problem: Problem::Io {
                path: "/etc/podinfo/mem_request".into(),
                message: "permission denied".into(),
            },
        });
        assert_eq!(
            get(&info, "pod.labels.app"),
            Err(StoreError::Upstream(
                "/etc/podinfo/labels, line 2: missing closing quote".into()
            ))
        );
        assert_eq!(
            get(&info, "requests.memory.bytes"),
            Err(StoreError::Io(
                "cannot read /etc/podinfo/mem_request: permission denied".into()
            ))
        );
        // What could be read is still served one key at a time...
        assert_eq!(get(&info, "pod.name").unwrap().as_deref(), Some("web-0"));
        // ...but get-all does not hand out a partial set.
        assert_eq!(
            get_all(&info),
            Err(StoreError::Upstream(
                "/etc/podinfo/labels, line 2: missing closing quote; \
                 cannot read /etc/podinfo/mem_request: permission denied"
                    .into()
            ))
        );
        info.errors.remove(0);
        assert_eq!(
            get_all(&info),
            Err(StoreError::Io(
                "cannot read /etc/podinfo/mem_request: permission denied".into()
            ))
        );
    }

    #[test]
    fn a_broken_mapping_fails_every_call() {
        let mut info = info();
        info.errors.push(FieldError {
            field: FIELDS_ENV.into(),
            source: None,
            problem: Problem::Malformed {
                file: "env:POD_INTROSPECT_FIELDS".into(),
                line: None,
                reason: "divisor: invalid quantity \"1q\"".into(),
            },
        });
        let want = StoreError::Upstream(
            "POD_INTROSPECT_FIELDS: env:POD_INTROSPECT_FIELDS: divisor: invalid quantity \"1q\""
                .into(),
        );
        assert_eq!(get(&info, "limits.cpu"), Err(want.clone()));
        assert_eq!(get(&info, "pod.name"), Err(want.clone()));
        assert_eq!(get_all(&info), Err(want));
    }
}
