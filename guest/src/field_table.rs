//! The one table from a Downward API fieldPath to where its value goes: the [`PodInfo`] slot
//! (`info`, `info-json`), the `wasi:config/store` key ([`crate::config_store`]), and the place in
//! the pod object the API serves (`info --api`, [`crate::self_pod`]). Every reader of a field by
//! name goes through [`SCALAR_FIELDS`] or [`MAP_FIELDS`]: [`Context::info`], [`field`],
//! [`map_key`], the config store and `self`.
//!
//! The fieldPaths are those the API server accepts (kubernetes
//! `pkg/apis/core/validation/validation.go`, see [`fields`]); `status.podIP` / `status.hostIP` are
//! the first of `status.podIPs` / `status.hostIPs` when only the list is exposed, as the kubelet
//! defines them (`pkg/kubelet/kubelet_pods.go`, `podFieldSelectorRuntimeValue`).

use crate::model::{FieldError, PodInfo, Problem, Source};
use crate::resolve::Context;
use pod_introspect_kube::contract::MappedSource;
use pod_introspect_kube::{fields, spec_fields};
use std::collections::BTreeMap;

/// Where a scalar field's value lives in [`PodInfo`].
#[derive(Clone, Copy)]
pub enum Slot {
    /// One string (`metadata.name`).
    Text(
        fn(&PodInfo) -> &Option<String>,
        fn(&mut PodInfo) -> &mut Option<String>,
    ),
    /// A list of IPs, comma-joined in env vars and config values (`status.podIPs`).
    IpList(
        fn(&PodInfo) -> &Option<Vec<String>>,
        fn(&mut PodInfo) -> &mut Option<Vec<String>>,
    ),
}

/// One scalar (non-map, non-resource) field.
pub struct ScalarField {
    /// The fieldPath, e.g. `status.podIPs`.
    pub path: &'static str,
    /// The `wasi:config/store` key, e.g. `pod.ips`.
    pub config_key: &'static str,
    /// The value in the pod object as the API serves it (a JSON pointer; for an IP list, an
    /// array of `{"ip": ...}` objects).
    pub api_pointer: &'static str,
    /// For a list: the single field that is its first element (`status.podIPs` → `status.podIP`).
    pub primary: Option<&'static str>,
    /// The [`PodInfo`] slot.
    pub slot: Slot,
}

/// The scalar fields in report order: exactly [`fields::SCALAR_FIELD_PATHS`].
pub const SCALAR_FIELDS: &[ScalarField] = &[
    ScalarField {
        path: fields::METADATA_NAME,
        config_key: "pod.name",
        api_pointer: "/metadata/name",
        primary: None,
        slot: Slot::Text(|i| &i.name, |i| &mut i.name),
    },
    ScalarField {
        path: fields::METADATA_NAMESPACE,
        config_key: "pod.namespace",
        api_pointer: "/metadata/namespace",
        primary: None,
        slot: Slot::Text(|i| &i.namespace, |i| &mut i.namespace),
    },
    ScalarField {
        path: fields::METADATA_UID,
        config_key: "pod.uid",
        api_pointer: "/metadata/uid",
        primary: None,
        slot: Slot::Text(|i| &i.uid, |i| &mut i.uid),
    },
    ScalarField {
        path: fields::SPEC_NODE_NAME,
        config_key: "pod.node-name",
        api_pointer: "/spec/nodeName",
        primary: None,
        slot: Slot::Text(|i| &i.node_name, |i| &mut i.node_name),
    },
    ScalarField {
        path: fields::SPEC_SERVICE_ACCOUNT_NAME,
        config_key: "pod.service-account-name",
        api_pointer: "/spec/serviceAccountName",
        primary: None,
        slot: Slot::Text(|i| &i.service_account_name, |i| &mut i.service_account_name),
    },
    ScalarField {
        path: fields::STATUS_HOST_IP,
        config_key: "pod.host-ip",
        api_pointer: "/status/hostIP",
        primary: None,
        slot: Slot::Text(|i| &i.host_ip, |i| &mut i.host_ip),
    },
    ScalarField {
        path: fields::STATUS_HOST_IPS,
        config_key: "pod.host-ips",
        api_pointer: "/status/hostIPs",
        primary: Some(fields::STATUS_HOST_IP),
        slot: Slot::IpList(|i| &i.host_ips, |i| &mut i.host_ips),
    },
    ScalarField {
        path: fields::STATUS_POD_IP,
        config_key: "pod.ip",
        api_pointer: "/status/podIP",
        primary: None,
        slot: Slot::Text(|i| &i.pod_ip, |i| &mut i.pod_ip),
    },
    ScalarField {
        path: fields::STATUS_POD_IPS,
        config_key: "pod.ips",
        api_pointer: "/status/podIPs",
        primary: Some(fields::STATUS_POD_IP),
        slot: Slot::IpList(|i| &i.pod_ips, |i| &mut i.pod_ips),
    },
];

/// A whole-map field (`metadata.labels`, `metadata.annotations`): volume files only.
pub struct MapField {
    /// The fieldPath.
    pub path: &'static str,
    /// The `wasi:config/store` key prefix: `pod.labels.` + the label key.
    pub config_prefix: &'static str,
    /// The map in the pod object as the API serves it (a JSON pointer).
    pub api_pointer: &'static str,
    /// The [`PodInfo`] slot.
    pub get: fn(&PodInfo) -> &Option<BTreeMap<String, String>>,
    /// The [`PodInfo`] slot, to fill.
    pub get_mut: fn(&mut PodInfo) -> &mut Option<BTreeMap<String, String>>,
}

/// The map fields, in report order.
pub const MAP_FIELDS: &[MapField] = &[
    MapField {
        path: fields::METADATA_LABELS,
        config_prefix: "pod.labels.",
        api_pointer: "/metadata/labels",
        get: |i| &i.labels,
        get_mut: |i| &mut i.labels,
    },
    MapField {
        path: fields::METADATA_ANNOTATIONS,
        config_prefix: "pod.annotations.",
        api_pointer: "/metadata/annotations",
        get: |i| &i.annotations,
        get_mut: |i| &mut i.annotations,
    },
];

impl ScalarField {
    /// The field's value in `info`, a list comma-joined as in env vars.
    pub fn value(&self, info: &PodInfo) -> Option<String> {
        match self.slot {
            Slot::Text(get, _) => get(info).clone(),
            Slot::IpList(get, _) => get(info).as_ref().map(|ips| ips.join(",")),
        }
    }

    /// The list whose first element this field is, when only the list is exposed.
    fn list(&self) -> Option<&'static ScalarField> {
        SCALAR_FIELDS.iter().find(|f| f.primary == Some(self.path))
    }
}

/// The table entry of a scalar fieldPath.
pub fn scalar_field(path: &str) -> Option<&'static ScalarField> {
    SCALAR_FIELDS.iter().find(|f| f.path == path)
}

/// The first error of `errors`, or "not exposed" for `field`.
fn first_problem(ctx: &Context, field: &str, errors: Vec<FieldError>) -> Problem {
    errors
        .into_iter()
        .next()
        .map(|e| e.problem)
        .unwrap_or_else(|| ctx.not_exposed(field))
}

/// One key of labels or annotations (`field` is `metadata.labels` or `metadata.annotations`):
/// from the whole map, else from a subscripted source (`metadata.labels['app']`).
pub fn map_key(ctx: &Context, field: &str, key: &str) -> Result<Option<String>, Problem> {
    let mut errors = Vec::new();
    if let Some((map, _)) = ctx.map(field, &mut errors) {
        return Ok(map.get(key).cloned());
    }
    let subscripted = format!("{field}['{key}']");
    if let Some((value, _)) = ctx.scalar(&subscripted, &mut errors) {
        return Ok(Some(value));
    }
    Err(first_problem(ctx, field, errors))
}

/// One field by fieldPath, as the kubelet would put it in an env var (lists comma-joined, `""`
/// for a missing label or annotation key).
pub fn field(ctx: &Context, path: &str) -> Result<String, Problem> {
    if let Some((base, key)) = fields::split_subscript(path) {
        // The kubelet gives "" for a missing key (pkg/fieldpath/fieldpath.go ExtractFieldPathAsString).
        return map_key(ctx, base, key).map(Option::unwrap_or_default);
    }
    let mut errors = Vec::new();
    let found = scalar_field(path).and_then(|f| match f.slot {
        Slot::IpList(..) => ctx
            .ip_list(f.path, &mut errors)
            .map(|(ips, _)| ips.join(",")),
        Slot::Text(..) => ctx.scalar(f.path, &mut errors).map(|(v, _)| v).or_else(|| {
            let list = f.list()?;
            ctx.ip_list(list.path, &mut errors)
                .and_then(|(ips, _)| ips.into_iter().next())
        }),
    });
    found.ok_or_else(|| first_problem(ctx, path, errors))
}

impl Context {
    /// Reads everything: the scalar fields, the maps, the IP lists (which also give the single
    /// IP when it is not exposed itself) and every resource any source provides. Errors come in
    /// that order.
    pub fn info(&self) -> PodInfo {
        let mut info = PodInfo {
            errors: self.setup_errors().to_vec(),
            ..PodInfo::default()
        };
        let mut errors = std::mem::take(&mut info.errors);
        for f in SCALAR_FIELDS {
            if let Slot::Text(_, slot) = f.slot
                && let Some((v, source)) = self.scalar(f.path, &mut errors)
            {
                info.sources.insert(f.path.to_string(), source);
                *slot(&mut info) = Some(v);
            }
        }
        for f in MAP_FIELDS {
            if let Some((map, source)) = self.map(f.path, &mut errors) {
                info.sources.insert(f.path.to_string(), source);
                *(f.get_mut)(&mut info) = Some(map);
            }
        }
        for f in SCALAR_FIELDS {
            let Slot::IpList(_, slot) = f.slot else {
                continue;
            };
            let Some((ips, source)) = self.ip_list(f.path, &mut errors) else {
                continue;
            };
            if let Some(single) = f.primary.and_then(scalar_field)
                && let Slot::Text(get, set) = single.slot
                && get(&info).is_none()
                && let Some(first) = ips.first()
            {
                *set(&mut info) = Some(first.clone());
                info.sources.insert(single.path.to_string(), source.clone());
            }
            info.sources.insert(f.path.to_string(), source);
            *slot(&mut info) = Some(ips);
        }
        for name in self.resource_names() {
            let Ok(kind) = fields::resource_kind(&name) else {
                continue;
            };
            if let Some((value, source)) = self.resource(&name, kind, &mut errors) {
                info.sources.insert(name.clone(), source);
                info.resources.insert(name, value);
            }
        }
        info.errors = errors;
        info
    }
}

/// Fills the fields the Downward API did not give from `pod`, the object the API served at
/// `path`; their sources say `api:<path>`. A pod always has labels and annotations through the
/// API, possibly empty; a list is filled only when it has an IP. A resource read with no declared
/// divisor takes the one the pod's spec gives for its source (the env var or file it was read
/// from: [`pod_introspect_kube::spec_fields::divisor_for`]), so its unit figure is known.
pub fn fill_from_api(info: &mut PodInfo, path: &str, pod: &serde_json::Value) {
    for (name, value) in info.resources.iter_mut() {
        let undeclared = value.millicores.is_none() && value.bytes.is_none();
        let source = match info.sources.get(name) {
            Some(Source::VolumeFile(p)) => MappedSource::File(p.clone()),
            Some(Source::Env(n)) => MappedSource::Env(n.clone()),
            _ => continue,
        };
        if let (true, Ok(kind)) = (undeclared, fields::resource_kind(name))
            && let Some(divisor) = spec_fields::divisor_for(pod, name, &source)
        {
            *value = crate::resources::resource_value(kind, value.value, Some(divisor));
        }
    }
    let source = Source::Api(path.to_string());
    let null = serde_json::Value::Null;
    let at = |pointer: &str| pod.pointer(pointer).unwrap_or(&null);
    for f in SCALAR_FIELDS {
        if let Slot::Text(get, set) = f.slot
            && get(info).is_none()
            && let Some(s) = at(f.api_pointer).as_str()
        {
            *set(info) = Some(s.to_string());
            info.sources.insert(f.path.to_string(), source.clone());
        }
    }
    for f in MAP_FIELDS {
        if (f.get)(info).is_none() {
            let map = at(f.api_pointer).as_object().map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                    .collect()
            });
            *(f.get_mut)(info) = Some(map.unwrap_or_default());
            info.sources.insert(f.path.to_string(), source.clone());
        }
    }
    for f in SCALAR_FIELDS {
        if let Slot::IpList(get, set) = f.slot
            && get(info).is_none()
            && let Some(list) = at(f.api_pointer).as_array()
        {
            let ips: Vec<String> = list
                .iter()
                .filter_map(|e| e["ip"].as_str().map(String::from))
                .collect();
            if !ips.is_empty() {
                *set(info) = Some(ips);
                info.sources.insert(f.path.to_string(), source.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_covers_every_scalar_field_path_in_order() {
        let paths: Vec<&str> = SCALAR_FIELDS.iter().map(|f| f.path).collect();
        assert_eq!(paths, fields::SCALAR_FIELD_PATHS);
        let maps: Vec<&str> = MAP_FIELDS.iter().map(|f| f.path).collect();
        assert_eq!(
            maps,
            [fields::METADATA_LABELS, fields::METADATA_ANNOTATIONS]
        );
    }

    #[test]
    fn slots_read_and_write_their_own_field() {
        for f in SCALAR_FIELDS {
            let mut info = PodInfo::default();
            match f.slot {
                Slot::Text(_, set) => *set(&mut info) = Some(format!("v-{}", f.path)),
                Slot::IpList(_, set) => {
                    *set(&mut info) = Some(vec!["10.0.0.1".into(), "fd00::1".into()])
                }
            }
            let want = match f.slot {
                Slot::Text(..) => format!("v-{}", f.path),
                Slot::IpList(..) => "10.0.0.1,fd00::1".to_string(),
            };
            assert_eq!(f.value(&info).as_deref(), Some(want.as_str()), "{}", f.path);
            // No other scalar slot was touched.
            for other in SCALAR_FIELDS.iter().filter(|o| o.path != f.path) {
                assert_eq!(other.value(&info), None, "{} wrote {}", f.path, other.path);
            }
        }
    }

    #[test]
    fn lists_name_their_primary() {
        assert_eq!(
            scalar_field(fields::STATUS_POD_IP)
                .and_then(ScalarField::list)
                .map(|f| f.path),
            Some(fields::STATUS_POD_IPS)
        );
        assert_eq!(
            scalar_field(fields::STATUS_HOST_IP)
                .and_then(ScalarField::list)
                .map(|f| f.path),
            Some(fields::STATUS_HOST_IPS)
        );
        assert!(
            scalar_field(fields::METADATA_NAME)
                .and_then(ScalarField::list)
                .is_none()
        );
    }

    #[test]
    fn filled_from_the_api_object() {
        let pod = serde_json::json!({
            "metadata": {"name": "web-0", "namespace": "shop", "uid": "u-1", "labels": {"app": "web"}},
            "spec": {"nodeName": "node-a", "serviceAccountName": "default"},
            "status": {"hostIP": "192.0.2.1", "podIP": "10.0.0.5",
                       "podIPs": [{"ip": "10.0.0.5"}, {"ip": "fd00::5"}], "hostIPs": []}
        });
        let mut info = PodInfo {
            name: Some("web-0".into()),
            namespace: Some("shop".into()),
            uid: Some("from-volume".into()),
            ..PodInfo::default()
        };
        fill_from_api(&mut info, "/api/v1/namespaces/shop/pods/web-0", &pod);
        assert_eq!(
            info.uid.as_deref(),
            Some("from-volume"),
            "a known field is kept"
        );
        assert_eq!(info.node_name.as_deref(), Some("node-a"));
        assert_eq!(info.service_account_name.as_deref(), Some("default"));
        assert_eq!(info.host_ip.as_deref(), Some("192.0.2.1"));
        assert_eq!(info.pod_ip.as_deref(), Some("10.0.0.5"));
        assert_eq!(
            info.pod_ips,
            Some(vec!["10.0.0.5".to_string(), "fd00::5".to_string()])
        );
        assert_eq!(info.host_ips, None, "an empty list is not filled");
        assert_eq!(
            info.labels,
            Some(BTreeMap::from([("app".to_string(), "web".to_string())]))
        );
        assert_eq!(info.annotations, Some(BTreeMap::new()));
        let api = Source::Api("/api/v1/namespaces/shop/pods/web-0".into());
        assert_eq!(info.sources.get(fields::SPEC_NODE_NAME), Some(&api));
        assert_eq!(info.sources.get(fields::METADATA_ANNOTATIONS), Some(&api));
        assert_eq!(info.sources.get(fields::METADATA_UID), None);
        assert_eq!(info.sources.get(fields::STATUS_HOST_IPS), None);
    }

    #[test]
    fn an_undeclared_divisor_is_taken_from_the_spec() {
        use crate::resources::resource_value;
        use pod_introspect_kube::quantity::ResourceKind;
        let pod = serde_json::json!({"spec": {"containers": [{
            "name": "app",
            "env": [
                {"name": "CPU_BUDGET", "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu", "divisor": "1m"}}},
                {"name": "CPU_REQ", "valueFrom": {"resourceFieldRef": {"resource": "requests.cpu", "divisor": "1m"}}}
            ],
            "volumeMounts": [{"name": "podinfo", "mountPath": "/etc/podinfo"}]
        }], "volumes": [{"name": "podinfo", "downwardAPI": {"items": [
            {"path": "mem_limit", "resourceFieldRef": {"containerName": "app", "resource": "limits.memory", "divisor": "1Mi"}}
        ]}}]}});
        let mut info = PodInfo::default();
        let mut put = |name: &str, kind, value, declared: Option<&str>, source: Source| {
            info.resources.insert(
                name.into(),
                resource_value(kind, value, declared.map(String::from)),
            );
            info.sources.insert(name.into(), source);
        };
        put(
            "limits.cpu",
            ResourceKind::Cpu,
            500,
            None,
            Source::Env("CPU_BUDGET".into()),
        );
        put(
            "limits.memory",
            ResourceKind::Memory,
            64,
            None,
            Source::VolumeFile("/etc/podinfo/mem_limit".into()),
        );
        // Declared in POD_INTROSPECT_FIELDS: kept, even where the spec disagrees (it says 1m).
        put(
            "requests.cpu",
            ResourceKind::Cpu,
            2,
            Some("1"),
            Source::Env("CPU_REQ".into()),
        );
        fill_from_api(&mut info, "/api/v1/namespaces/shop/pods/web-0", &pod);
        let json = |n: &str| serde_json::to_value(&info.resources[n]).unwrap();
        assert_eq!(
            json("limits.cpu"),
            serde_json::json!({"value": 500, "divisor": "1m", "millicores": 500})
        );
        assert_eq!(
            json("limits.memory"),
            serde_json::json!({"value": 64, "divisor": "1Mi", "bytes": 67108864})
        );
        assert_eq!(
            json("requests.cpu"),
            serde_json::json!({"value": 2, "divisor": "1", "millicores": 2000})
        );
    }
}
