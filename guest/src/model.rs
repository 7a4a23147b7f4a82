//! The guest's own model of what it learned, independent of the generated WIT bindings so it can be
//! unit-tested natively, and its JSON form (the document `pod-introspect info` prints).

use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;

/// Where a value was read from (WIT `source`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A volume file by its visible path.
    VolumeFile(String),
    /// An env var by name.
    Env(String),
    /// The ServiceAccount volume's `namespace` file by path.
    ServiceAccount(String),
    /// The pod object from the Kubernetes API, by request path.
    Api(String),
    /// A runtime-configuration key (a Spin variable, a `wasi:config/store` key) passed by the
    /// `env-from-config` component, by key (`pod_name`): shown `config:pod_name`; in WIT it is
    /// the env var it arrived in (`env(POD_INTROSPECT_CONFIG_pod_name)`).
    Config(String),
}

impl fmt::Display for Source {
    /// `file:/etc/podinfo/labels`, `env:POD_NAME`, `serviceaccount:/var/run/.../namespace`: the same
    /// `KIND:WHERE` form `POD_INTROSPECT_FIELDS` uses.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::VolumeFile(p) => write!(f, "file:{p}"),
            Source::Env(n) => write!(f, "env:{n}"),
            Source::ServiceAccount(p) => write!(f, "serviceaccount:{p}"),
            Source::Api(p) => write!(f, "api:{p}"),
            Source::Config(k) => write!(f, "config:{k}"),
        }
    }
}

/// Why a value could not be had (WIT `error`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// Not exposed; `hint` says what to add to the manifest.
    NotExposed {
        /// fieldPath or resource.
        field: String,
        /// The manifest change.
        hint: String,
    },
    /// Not in the kubelet's format.
    Malformed {
        /// File path or `env:NAME`.
        file: String,
        /// 1-based line for map files.
        line: Option<u32>,
        /// What is wrong.
        reason: String,
    },
    /// Could not be read.
    Io {
        /// Path.
        path: String,
        /// OS message.
        message: String,
    },
    /// The API call that was to supply it failed.
    Api(crate::api::ApiError),
}

impl Problem {
    /// `not-exposed`, `malformed` or `io`.
    pub fn kind(&self) -> &'static str {
        match self {
            Problem::NotExposed { .. } => "not-exposed",
            Problem::Malformed { .. } => "malformed",
            Problem::Io { .. } => "io",
            Problem::Api(_) => "api",
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::NotExposed { field, hint } => {
                write!(f, "{field} is not exposed to this container: {hint}")
            }
            Problem::Malformed {
                file,
                line: Some(line),
                reason,
            } => {
                write!(f, "{file}, line {line}: {reason}")
            }
            Problem::Malformed {
                file,
                line: None,
                reason,
            } => write!(f, "{file}: {reason}"),
            Problem::Io { path, message } => write!(f, "cannot read {path}: {message}"),
            Problem::Api(e) => write!(f, "Kubernetes API: {e}"),
        }
    }
}

/// A problem met while reading one field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// fieldPath, resource, or `POD_INTROSPECT_FIELDS`.
    pub field: String,
    /// Where the bad value came from.
    pub source: Option<Source>,
    /// What went wrong.
    pub problem: Problem,
}

/// A `resourceFieldRef` figure (WIT `resource-value`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResourceValue {
    /// The integer the kubelet wrote, in units of `divisor`.
    pub value: u64,
    /// The divisor quantity, `1` unless a mapping names it.
    pub divisor: String,
    /// value × divisor in millicores, for cpu.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub millicores: Option<u64>,
    /// value × divisor in bytes, for the byte resources.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
}

/// Everything learned (WIT `pod-info`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PodInfo {
    /// `metadata.name`.
    pub name: Option<String>,
    /// `metadata.namespace`.
    pub namespace: Option<String>,
    /// `metadata.uid`.
    pub uid: Option<String>,
    /// `metadata.labels`.
    pub labels: Option<BTreeMap<String, String>>,
    /// `metadata.annotations`.
    pub annotations: Option<BTreeMap<String, String>>,
    /// `spec.nodeName`.
    pub node_name: Option<String>,
    /// `spec.serviceAccountName`.
    pub service_account_name: Option<String>,
    /// `status.hostIP`.
    pub host_ip: Option<String>,
    /// `status.hostIPs`.
    pub host_ips: Option<Vec<String>>,
    /// `status.podIP`.
    pub pod_ip: Option<String>,
    /// `status.podIPs`.
    pub pod_ips: Option<Vec<String>>,
    /// Resource name → figure.
    pub resources: BTreeMap<String, ResourceValue>,
    /// Field → source, for every reported field.
    pub sources: BTreeMap<String, Source>,
    /// Problems met.
    pub errors: Vec<FieldError>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct InfoJson<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    namespace: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    uid: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    labels: Option<&'a BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    annotations: Option<&'a BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    node_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    service_account_name: Option<&'a str>,
    #[serde(rename = "hostIP", skip_serializing_if = "Option::is_none")]
    host_ip: Option<&'a str>,
    #[serde(rename = "hostIPs", skip_serializing_if = "Option::is_none")]
    host_ips: Option<&'a [String]>,
    #[serde(rename = "podIP", skip_serializing_if = "Option::is_none")]
    pod_ip: Option<&'a str>,
    #[serde(rename = "podIPs", skip_serializing_if = "Option::is_none")]
    pod_ips: Option<&'a [String]>,
    resources: &'a BTreeMap<String, ResourceValue>,
    sources: BTreeMap<&'a str, String>,
    errors: Vec<ErrorJson<'a>>,
}

/// The JSON form of one [`FieldError`] (`{field, source, kind, line, message}`), in `info` and
/// in a pod change's `errors`.
#[derive(Serialize)]
pub(crate) struct ErrorJson<'a> {
    field: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<String>,
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<u32>,
    message: String,
}

impl<'a> From<&'a FieldError> for ErrorJson<'a> {
    fn from(e: &'a FieldError) -> Self {
        ErrorJson {
            field: &e.field,
            source: e.source.as_ref().map(ToString::to_string),
            kind: e.problem.kind(),
            line: match &e.problem {
                Problem::Malformed { line, .. } => *line,
                _ => None,
            },
            message: e.problem.to_string(),
        }
    }
}

impl PodInfo {
    /// The JSON document: keys `name`, `namespace`, `uid`, `labels`, `annotations`, `nodeName`,
    /// `serviceAccountName`, `hostIP`, `hostIPs`, `podIP`, `podIPs` (each absent when not exposed),
    /// `resources` (`{"limits.cpu": {"value": 500, "divisor": "1m", "millicores": 500}}`), `sources`
    /// (`{"metadata.name": "env:POD_NAME"}`) and `errors` (`[{field, source, kind, line, message}]`).
    pub fn to_json(&self, pretty: bool) -> String {
        let doc = InfoJson {
            name: self.name.as_deref(),
            namespace: self.namespace.as_deref(),
            uid: self.uid.as_deref(),
            labels: self.labels.as_ref(),
            annotations: self.annotations.as_ref(),
            node_name: self.node_name.as_deref(),
            service_account_name: self.service_account_name.as_deref(),
            host_ip: self.host_ip.as_deref(),
            host_ips: self.host_ips.as_deref(),
            pod_ip: self.pod_ip.as_deref(),
            pod_ips: self.pod_ips.as_deref(),
            resources: &self.resources,
            sources: self
                .sources
                .iter()
                .map(|(k, v)| (k.as_str(), v.to_string()))
                .collect(),
            errors: self.errors.iter().map(ErrorJson::from).collect(),
        };
        let result = if pretty {
            serde_json::to_string_pretty(&doc)
        } else {
            serde_json::to_string(&doc)
        };
        // Serialising string maps and integers cannot fail.
        result.unwrap_or_else(|e| format!("{{\"errors\":[{{\"message\":{:?}}}]}}", e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_keys_and_absent_fields() {
        let mut info = PodInfo {
            name: Some("web-0".into()),
            pod_ips: Some(vec!["10.0.0.5".into(), "fd00::5".into()]),
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
        info.sources
            .insert("metadata.name".into(), Source::Env("POD_NAME".into()));
        info.errors.push(FieldError {
            field: "metadata.labels".into(),
            source: Some(Source::VolumeFile("/etc/podinfo/labels".into())),
            problem: Problem::Malformed {
                file: "/etc/podinfo/labels".into(),
                line: Some(2),
                reason: "missing closing quote".into(),
            },
        });
        let v: serde_json::Value = serde_json::from_str(&info.to_json(false)).unwrap();
        assert_eq!(v["name"], "web-0");
        assert!(v.get("namespace").is_none());
        assert_eq!(v["podIPs"], serde_json::json!(["10.0.0.5", "fd00::5"]));
        assert_eq!(
            v["resources"]["limits.cpu"],
            serde_json::json!({"value": 500, "divisor": "1m", "millicores": 500})
        );
        assert_eq!(v["sources"]["metadata.name"], "env:POD_NAME");
        assert_eq!(v["errors"][0]["source"], "file:/etc/podinfo/labels");
        assert_eq!(v["errors"][0]["line"], 2);
        assert_eq!(
            v["errors"][0]["message"],
            "/etc/podinfo/labels, line 2: missing closing quote"
        );
    }
}
