//! Where the pod's own spec puts each Downward API field of one container, as
//! [`contract::Mapping`]s: every env var set with `valueFrom.fieldRef` / `valueFrom.resourceFieldRef`
//! (whatever its name), and every item of a `downwardAPI` volume (or a projected volume's
//! `downwardAPI` source) that the container mounts, with the item's divisor.
//!
//! Files and env vars carry only the number the kubelet computed, so the spec is the one place a
//! resource's divisor is written; a host that has the spec (`simulate` records these mappings in
//! `container.json`) or a guest that reads its own pod object (`info --api`) learns the unit from
//! here instead of a hand-written `POD_INTROSPECT_FIELDS`.
//!
//! Upstream rules followed (kubernetes):
//! - `pkg/kubelet/kubelet_pods.go` (`makeEnvironmentVariables`): an env var's `resourceFieldRef`
//!   with an empty `containerName` is the container's own; one naming another container reads that
//!   container's resources, so it is not this container's field and is left out.
//! - `pkg/api/v1/resource/helpers.go` (`ExtractContainerResourceValue`): a zero or absent divisor
//!   means `1`.
//! - `pkg/volume/downwardapi/downwardapi.go` (`CollectData`): an item's file is its `path` cleaned
//!   (`path.Clean`), and a later item with the same path replaces an earlier one;
//!   `pkg/volume/projected/projected.go` (`collectData`): the `downwardAPI` sources of a projected
//!   volume in order.
//! - `pkg/kubelet/kubelet_pods.go` (`makeMounts`): a mount with `subPath` shows only that entry of
//!   the volume at its `mountPath`; one with `subPathExpr` (expanded from the env at start) is
//!   left out. `makeEnvironmentVariables`: a later env entry of the same name replaces an earlier.
//!
//! The pod is read as JSON (`serde_json::Value`, camelCase as the API serves it), so the guest
//! needs no typed API crate.

use crate::contract::{self, MappedSource, Mapping};
use crate::{gopath, quantity};
use serde_json::Value;

/// The divisor the kubelet uses when a `resourceFieldRef` gives none (or zero).
pub const DEFAULT_DIVISOR: &str = "1";

/// The mappings of container `container` of `pod` (a Pod object or just its `spec`), in this
/// order: its env vars in manifest order, then the downwardAPI items of its volume mounts in
/// mount order (an item's source is `file:MOUNTPATH/PATH`). Only fields [`contract::parse_fields`]
/// accepts are returned, each resource with its divisor (`1` when the spec gives none). Empty when
/// the container is not in the spec.
pub fn container_mappings(pod: &Value, container: &str) -> Vec<Mapping> {
    let spec = pod.get("spec").unwrap_or(pod);
    let Some(c) = containers(spec).find(|c| str_at(c, "name") == Some(container)) else {
        return Vec::new();
    };
    let mut out: Vec<Mapping> = Vec::new();
    for env in array(c, "env") {
        let Some(name) = str_at(env, "name") else {
            continue;
        };
        let source = MappedSource::Env(name.to_string());
        // A later entry of the same name replaces an earlier one (the kubelet's env map), whatever
        // it holds.
        out.retain(|o| o.source != source);
        let Some(from) = env.get("valueFrom") else {
            continue;
        };
        let field = from.get("fieldRef").and_then(|f| str_at(f, "fieldPath"));
        push_selector(
            &mut out,
            field,
            from.get("resourceFieldRef"),
            source,
            container,
        );
    }
    for mount in array(c, "volumeMounts") {
        let (Some(volume), Some(mount_path)) = (str_at(mount, "name"), str_at(mount, "mountPath"))
        else {
            continue;
        };
        let Some(volume) = array(spec, "volumes").find(|v| str_at(v, "name") == Some(volume))
        else {
            continue;
        };
        // A `subPathExpr` names its entry from the env at start: not followed here.
        if str_at(mount, "subPathExpr").is_some_and(|e| !e.is_empty()) {
            continue;
        }
        let mount_path = gopath::clean(mount_path).into_owned();
        let sub_path = str_at(mount, "subPath")
            .filter(|s| !s.is_empty())
            .map(|s| gopath::clean(s).into_owned());
        for (path, field, resource) in volume_items(volume) {
            let file = match &sub_path {
                None => join(&mount_path, &path),
                Some(sub) if *sub == path => mount_path.clone(),
                Some(sub) => match path.strip_prefix(&format!("{sub}/")) {
                    Some(rest) => join(&mount_path, rest),
                    None => continue,
                },
            };
            push_selector(
                &mut out,
                field,
                resource,
                MappedSource::File(file),
                container,
            );
        }
    }
    out
}

/// The divisor declared for the resource at `source`, from the mappings of every container of
/// `pod` that has one there: for a guest that knows its source (an env var name, a file path) but
/// not its container's name. `None` when no container maps `resource` to `source`, or when two do
/// with different divisors (then the unit cannot be told).
pub fn divisor_for(pod: &Value, resource: &str, source: &MappedSource) -> Option<String> {
    let spec = pod.get("spec").unwrap_or(pod);
    let mut found: Option<String> = None;
    for name in containers(spec).filter_map(|c| str_at(c, "name")) {
        for m in container_mappings(pod, name) {
            if m.field != resource || &m.source != source {
                continue;
            }
            let d = m.divisor?;
            match &found {
                Some(f) if *f != d => return None,
                _ => found = Some(d),
            }
        }
    }
    found
}

/// `spec.containers`, then `spec.initContainers` (a sidecar init container runs beside the app).
fn containers(spec: &Value) -> impl Iterator<Item = &Value> {
    array(spec, "containers").chain(array(spec, "initContainers"))
}

/// The downwardAPI items of a volume: `(cleaned path, fieldRef.fieldPath, resourceFieldRef)`, a
/// later item with the same path replacing an earlier one (`CollectData`).
fn volume_items(volume: &Value) -> Vec<(String, Option<&str>, Option<&Value>)> {
    let mut lists: Vec<&Value> = Vec::new();
    if let Some(d) = volume.get("downwardAPI") {
        lists.push(d);
    }
    if let Some(p) = volume.get("projected") {
        lists.extend(array(p, "sources").filter_map(|s| s.get("downwardAPI")));
    }
    let mut items: Vec<(String, Option<&str>, Option<&Value>)> = Vec::new();
    for item in lists.into_iter().flat_map(|d| array(d, "items")) {
        let Some(path) = str_at(item, "path") else {
            continue;
        };
        let path = gopath::clean(path).into_owned();
        let field = item.get("fieldRef").and_then(|f| str_at(f, "fieldPath"));
        let resource = item.get("resourceFieldRef");
        items.retain(|(p, _, _)| *p != path);
        items.push((path, field, resource));
    }
    items
}

/// The mapping of one env var's or volume item's selector read from `source`: its `fieldRef`'s
/// `field` path, else its `resourceFieldRef` `resource` with its divisor, unless that names
/// another container than `container`.
fn push_selector(
    out: &mut Vec<Mapping>,
    field: Option<&str>,
    resource: Option<&Value>,
    source: MappedSource,
    container: &str,
) {
    match (field, resource) {
        (Some(path), _) => push_valid(out, path, source, None),
        (None, Some(r)) => {
            let other = str_at(r, "containerName").is_some_and(|n| !n.is_empty() && n != container);
            if let (false, Some(resource)) = (other, str_at(r, "resource")) {
                push_valid(out, resource, source, Some(divisor(r)));
            }
        }
        (None, None) => {}
    }
}

/// A `resourceFieldRef`'s divisor as written, `1` when absent or zero.
fn divisor(selector: &Value) -> String {
    let text = match selector.get("divisor") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => return DEFAULT_DIVISOR.to_string(),
    };
    match quantity::Quantity::parse(&text) {
        Ok(q) if q.is_zero() => DEFAULT_DIVISOR.to_string(),
        _ => text,
    }
}

/// Adds the mapping when `POD_INTROSPECT_FIELDS` would accept it (a field the guest knows, a
/// divisor valid for the resource), replacing an earlier one for the same source.
fn push_valid(out: &mut Vec<Mapping>, field: &str, source: MappedSource, divisor: Option<String>) {
    let m = Mapping {
        field: field.to_string(),
        source,
        divisor,
    };
    let (mut parsed, errors) = contract::parse_fields(&m.to_string());
    if !errors.is_empty() || parsed.len() != 1 {
        return;
    }
    let m = parsed.remove(0);
    out.retain(|o| o.source != m.source);
    out.push(m);
}

fn join(dir: &str, rest: &str) -> String {
    format!("{}/{rest}", dir.trim_end_matches('/'))
}

fn array<'a>(v: &'a Value, key: &str) -> impl Iterator<Item = &'a Value> {
    v.get(key)
        .and_then(Value::as_array)
        .map(|a| a.iter())
        .into_iter()
        .flatten()
}

fn str_at<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A pod as the API server returns it (hand-written from the Kubernetes docs' "Expose Pod
    /// Information to Containers Through Files" and "... Environment Variables" examples).
    fn pod() -> Value {
        json!({
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "kubernetes-downwardapi-volume-example-2", "namespace": "default"},
            "spec": {
                "containers": [{
                    "name": "client-container",
                    "env": [
                        {"name": "MY_NODE", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "spec.nodeName"}}},
                        {"name": "MY_CPU_REQUEST", "valueFrom": {"resourceFieldRef": {"containerName": "client-container", "resource": "requests.cpu", "divisor": "1m"}}},
                        {"name": "MY_MEM_LIMIT", "valueFrom": {"resourceFieldRef": {"resource": "limits.memory"}}},
                        {"name": "SIDE_CPU", "valueFrom": {"resourceFieldRef": {"containerName": "side", "resource": "limits.cpu", "divisor": "1m"}}},
                        {"name": "PLAIN", "value": "x"},
                        {"name": "OVERRIDDEN", "valueFrom": {"fieldRef": {"fieldPath": "metadata.uid"}}},
                        {"name": "OVERRIDDEN", "value": "set by hand"},
                        {"name": "FROM_CM", "valueFrom": {"configMapKeyRef": {"name": "c", "key": "k"}}}
                    ],
                    "volumeMounts": [
                        {"name": "podinfo", "mountPath": "/etc/podinfo/"},
                        {"name": "meta", "mountPath": "/etc/meta/labels", "subPath": "labels"},
                        {"name": "all", "mountPath": "/var/run/all"},
                        {"name": "podinfo", "mountPath": "/var/run/per-pod", "subPathExpr": "$(POD_NAME)"}
                    ]
                }, {
                    "name": "side",
                    "env": [{"name": "CPU", "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu", "divisor": "1"}}}]
                }],
                "volumes": [
                    {"name": "podinfo", "downwardAPI": {"items": [
                        {"path": "cpu_limit", "resourceFieldRef": {"containerName": "client-container", "resource": "limits.cpu", "divisor": "1m"}},
                        {"path": "./mem/limit", "resourceFieldRef": {"containerName": "client-container", "resource": "limits.memory", "divisor": "1Mi"}},
                        {"path": "side_cpu", "resourceFieldRef": {"containerName": "side", "resource": "limits.cpu", "divisor": "1m"}},
                        {"path": "zero", "resourceFieldRef": {"containerName": "client-container", "resource": "requests.memory", "divisor": "0"}}
                    ]}},
                    {"name": "meta", "downwardAPI": {"items": [
                        {"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}},
                        {"path": "annotations", "fieldRef": {"fieldPath": "metadata.annotations"}}
                    ]}},
                    {"name": "all", "projected": {"sources": [
                        {"configMap": {"name": "c"}},
                        {"downwardAPI": {"items": [
                            {"path": "app", "fieldRef": {"fieldPath": "metadata.labels['app']"}},
                            {"path": "uid", "fieldRef": {"fieldPath": "metadata.name"}}
                        ]}},
                        {"downwardAPI": {"items": [
                            {"path": "uid", "fieldRef": {"fieldPath": "metadata.uid"}}
                        ]}}
                    ]}}
                ]
            }
        })
    }

    #[test]
    fn the_containers_env_and_mounted_items_with_their_divisors() {
        let got: Vec<String> = container_mappings(&pod(), "client-container")
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            got,
            [
                "spec.nodeName=env:MY_NODE",
                "requests.cpu=env:MY_CPU_REQUEST;divisor=1m",
                "limits.memory=env:MY_MEM_LIMIT;divisor=1",
                "limits.cpu=file:/etc/podinfo/cpu_limit;divisor=1m",
                "limits.memory=file:/etc/podinfo/mem/limit;divisor=1Mi",
                "requests.memory=file:/etc/podinfo/zero;divisor=1",
                "metadata.labels=file:/etc/meta/labels",
                "metadata.labels['app']=file:/var/run/all/app",
                "metadata.uid=file:/var/run/all/uid",
            ]
        );
    }

    #[test]
    fn another_container_is_its_own_and_an_unknown_one_has_none() {
        let side: Vec<String> = container_mappings(&pod(), "side")
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(side, ["limits.cpu=env:CPU;divisor=1"]);
        assert!(container_mappings(&pod(), "nope").is_empty());
        // The spec alone (no object around it) reads the same.
        assert_eq!(
            container_mappings(&pod()["spec"], "side").len(),
            1,
            "spec without the object"
        );
    }

    #[test]
    fn divisor_by_source_across_containers() {
        let p = pod();
        let file = |p: &str| MappedSource::File(p.into());
        assert_eq!(
            divisor_for(&p, "limits.cpu", &file("/etc/podinfo/cpu_limit")).as_deref(),
            Some("1m")
        );
        assert_eq!(
            divisor_for(&p, "limits.cpu", &MappedSource::Env("CPU".into())).as_deref(),
            Some("1")
        );
        assert_eq!(
            divisor_for(&p, "limits.cpu", &file("/etc/podinfo/side_cpu")),
            None
        );
        // Two containers, one env name, two divisors: unknown.
        let mut two = p.clone();
        two["spec"]["containers"][1]["env"][0]["name"] = json!("MY_CPU_REQUEST");
        two["spec"]["containers"][1]["env"][0]["valueFrom"]["resourceFieldRef"]["resource"] =
            json!("requests.cpu");
        assert_eq!(
            divisor_for(
                &two,
                "requests.cpu",
                &MappedSource::Env("MY_CPU_REQUEST".into())
            ),
            None
        );
    }

    #[test]
    fn an_invalid_divisor_or_unknown_field_is_left_out() {
        let p = json!({"spec": {"containers": [{"name": "c", "env": [
            {"name": "A", "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu", "divisor": "1Ki"}}},
            {"name": "B", "valueFrom": {"fieldRef": {"fieldPath": "status.phase"}}},
            {"name": "C", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}}
        ]}]}});
        let got: Vec<String> = container_mappings(&p, "c")
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(got, ["metadata.namespace=env:C"]);
    }
}
