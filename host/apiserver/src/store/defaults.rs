//! The defaults kube-apiserver applies to new objects (`pkg/apis/*/v1/defaults.go`, the
//! ServiceAccount admission for pods, the ClusterIP allocator for services), and for pods the
//! status a kubelet would report for a pod whose containers all run.

use k8s_openapi::api::core::v1::{
    Container, ContainerState, ContainerStateRunning, ContainerStatus, HostIP, Pod, PodCondition,
    PodIP, PodSpec, PodStatus,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use serde_json::{Value, json};

use super::{DEFAULT_IMAGE, HOST_IP, NODE_NAME, now_string, now_time};
use crate::resources::ResourceType;

/// Defaults of a new object of `r` (`ordinal`: how many pods or services were created before,
/// for their IPs). `Err` holds field errors (`spec.containers: Required value`).
pub(super) fn on_create(
    r: &ResourceType,
    obj: &mut Value,
    ordinal: u32,
) -> Result<(), Vec<String>> {
    match (r.group, r.resource) {
        ("", "pods") => {
            let mut pod: Pod =
                serde_json::from_value(obj.clone()).map_err(|e| vec![e.to_string()])?;
            default_spec(&mut pod);
            validate_pod(&pod)?;
            let pod_ip = format!("10.244.{}.{}", (ordinal / 250) % 256, ordinal % 250 + 2);
            default_status(&mut pod, &pod_ip, &now_time());
            *obj = serde_json::to_value(pod).map_err(|e| vec![e.to_string()])?;
            obj["apiVersion"] = json!("v1");
            obj["kind"] = json!("Pod");
        }
        ("", "namespaces") => {
            let name = super::meta::name(obj).to_owned();
            let labels = super::meta::meta_mut(obj)
                .entry("labels")
                .or_insert_with(|| json!({}));
            if let Some(l) = labels.as_object_mut() {
                l.insert("kubernetes.io/metadata.name".into(), json!(name));
            }
            obj["spec"]["finalizers"] = json!(["kubernetes"]);
            obj["status"] = json!({"phase": "Active"});
        }
        ("", "secrets") => {
            if obj.get("type").is_none_or(Value::is_null) {
                obj["type"] = json!("Opaque");
            }
            string_data_into_data(obj);
        }
        ("", "services") => service(obj, ordinal),
        ("", "persistentvolumeclaims") => {
            default(&mut obj["spec"], "volumeMode", json!("Filesystem"));
            if obj.get("status").is_none() {
                obj["status"] = json!({"phase": "Pending"});
            }
        }
        ("apps", _) => workload(r, obj),
        _ => {}
    }
    Ok(())
}

/// Defaults re-applied on update (`stringData` of secrets, workload defaults).
pub(super) fn on_update(r: &ResourceType, obj: &mut Value, old: &Value) -> Result<(), Vec<String>> {
    match (r.group, r.resource) {
        ("", "secrets") => string_data_into_data(obj),
        ("", "services") => {
            // spec.clusterIP is immutable once allocated.
            for f in ["clusterIP", "clusterIPs"] {
                if obj["spec"].get(f).is_none_or(Value::is_null) {
                    obj["spec"][f] = old["spec"][f].clone();
                }
            }
            // `validateUpgradeDowngradeClusterIPs` (`pkg/apis/core/validation`): the primary
            // cluster IP may not change (unless either side is ExternalName); a changed
            // `clusterIP` alone moves `clusterIPs[0]` with it first.
            let external = |o: &Value| o["spec"]["type"] == "ExternalName";
            if let Some(old_ip) = old["spec"]["clusterIP"].as_str().filter(|s| !s.is_empty())
                && !external(old)
                && !external(obj)
            {
                let new_ip = obj["spec"]["clusterIP"].as_str().unwrap_or("").to_owned();
                if new_ip != old_ip && obj["spec"]["clusterIPs"] == old["spec"]["clusterIPs"] {
                    obj["spec"]["clusterIPs"][0] = json!(new_ip);
                }
                if obj["spec"]["clusterIPs"][0].as_str() != Some(old_ip) {
                    return Err(vec![format!(
                        "spec.clusterIPs[0]: Invalid value: {}: may not change once set",
                        obj["spec"]["clusterIPs"]
                    )]);
                }
            }
            service(obj, 0);
        }
        ("apps", _) => workload(r, obj),
        _ => {}
    }
    Ok(())
}

/// Sets `obj[field]` when it is missing or null (`obj` must be an object or null).
fn default(obj: &mut Value, field: &str, value: Value) {
    if obj.is_null() {
        *obj = json!({});
    }
    if obj.get(field).is_none_or(Value::is_null)
        && let Some(m) = obj.as_object_mut()
    {
        m.insert(field.to_owned(), value);
    }
}

/// `stringData` is merged into `data` (base64) and dropped (`pkg/registry/core/secret/strategy.go`).
fn string_data_into_data(obj: &mut Value) {
    use base64::Engine;
    let Some(sd) = obj.as_object_mut().and_then(|m| m.remove("stringData")) else {
        return;
    };
    if let Some(sd) = sd.as_object() {
        for (k, v) in sd {
            let text = v.as_str().unwrap_or_default();
            obj["data"][k] = json!(base64::engine::general_purpose::STANDARD.encode(text));
        }
    }
}

/// Services: `type: ClusterIP`, a cluster IP from 10.96.0.0/12, `sessionAffinity: None`, one
/// IPv4 family, each port's `protocol: TCP` and `targetPort` = `port`
/// (`pkg/apis/core/v1/defaults.go` `SetDefaults_Service`).
fn service(obj: &mut Value, ordinal: u32) {
    let spec = &mut obj["spec"];
    default(spec, "type", json!("ClusterIP"));
    default(spec, "sessionAffinity", json!("None"));
    let headless = spec["clusterIP"].as_str() == Some("None");
    if spec["type"] != "ExternalName" {
        if ordinal > 0 && spec.get("clusterIP").is_none_or(Value::is_null) {
            let ip = format!("10.96.{}.{}", (ordinal / 250) % 256, ordinal % 250 + 1);
            spec["clusterIP"] = json!(ip);
        }
        if spec.get("clusterIPs").is_none_or(Value::is_null)
            && let Some(ip) = spec["clusterIP"].as_str()
        {
            spec["clusterIPs"] = json!([ip]);
        }
        if !headless {
            default(spec, "internalTrafficPolicy", json!("Cluster"));
        }
        default(spec, "ipFamilies", json!(["IPv4"]));
        default(spec, "ipFamilyPolicy", json!("SingleStack"));
    }
    if let Some(ports) = spec.get_mut("ports").and_then(Value::as_array_mut) {
        for p in ports {
            default(p, "protocol", json!("TCP"));
            if p.get("targetPort").is_none_or(Value::is_null) {
                p["targetPort"] = p["port"].clone();
            }
        }
    }
    default(obj, "status", json!({"loadBalancer": {}}));
}

/// The apps workloads (`pkg/apis/apps/v1/defaults.go`): replicas 1, the update strategy,
/// `revisionHistoryLimit: 10`, the pod template's spec defaults.
fn workload(r: &ResourceType, obj: &mut Value) {
    let spec = &mut obj["spec"];
    match r.resource {
        "deployments" => {
            default(spec, "replicas", json!(1));
            default(spec, "strategy", json!({"type": "RollingUpdate"}));
            if spec["strategy"]["type"] == "RollingUpdate" {
                default(&mut spec["strategy"], "rollingUpdate", json!({}));
                default(
                    &mut spec["strategy"]["rollingUpdate"],
                    "maxUnavailable",
                    json!("25%"),
                );
                default(
                    &mut spec["strategy"]["rollingUpdate"],
                    "maxSurge",
                    json!("25%"),
                );
            }
            default(spec, "revisionHistoryLimit", json!(10));
            default(spec, "progressDeadlineSeconds", json!(600));
        }
        "replicasets" => default(spec, "replicas", json!(1)),
        "statefulsets" => {
            default(spec, "replicas", json!(1));
            default(spec, "podManagementPolicy", json!("OrderedReady"));
            default(spec, "updateStrategy", json!({"type": "RollingUpdate"}));
            if spec["updateStrategy"]["type"] == "RollingUpdate" {
                default(
                    &mut spec["updateStrategy"],
                    "rollingUpdate",
                    json!({"partition": 0}),
                );
            }
            default(spec, "revisionHistoryLimit", json!(10));
            default(
                spec,
                "persistentVolumeClaimRetentionPolicy",
                json!({"whenDeleted": "Retain", "whenScaled": "Retain"}),
            );
        }
        "daemonsets" => {
            default(spec, "updateStrategy", json!({"type": "RollingUpdate"}));
            if spec["updateStrategy"]["type"] == "RollingUpdate" {
                default(
                    &mut spec["updateStrategy"],
                    "rollingUpdate",
                    json!({"maxUnavailable": 1, "maxSurge": 0}),
                );
            }
            default(spec, "revisionHistoryLimit", json!(10));
        }
        _ => {}
    }
    if let Some(tspec) = spec.get_mut("template").and_then(|t| t.get_mut("spec"))
        && let Ok(mut typed) = serde_json::from_value::<PodSpec>(tspec.clone())
    {
        pod_spec_defaults(&mut typed);
        if let Ok(v) = serde_json::to_value(typed) {
            *tspec = v;
        }
    }
}

/// The one node (`kubectl get nodes`): Ready, with the node IP the pods report as `hostIP`.
pub(super) fn node() -> Value {
    let now = now_string();
    json!({
        "metadata": {
            "name": NODE_NAME,
            "labels": {
                "beta.kubernetes.io/arch": "amd64",
                "beta.kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "kubernetes.io/hostname": NODE_NAME,
                "kubernetes.io/os": "linux",
                "node-role.kubernetes.io/control-plane": "",
            },
        },
        "spec": {"podCIDR": "10.244.0.0/16", "podCIDRs": ["10.244.0.0/16"]},
        "status": {
            "addresses": [
                {"type": "InternalIP", "address": HOST_IP},
                {"type": "Hostname", "address": NODE_NAME},
            ],
            "capacity": {"cpu": "2", "memory": "8Gi", "pods": "110", "ephemeral-storage": "100Gi"},
            "allocatable": {"cpu": "2", "memory": "8Gi", "pods": "110", "ephemeral-storage": "100Gi"},
            "conditions": [
                {"type": "MemoryPressure", "status": "False", "reason": "KubeletHasSufficientMemory", "message": "kubelet has sufficient memory available", "lastHeartbeatTime": now, "lastTransitionTime": now},
                {"type": "DiskPressure", "status": "False", "reason": "KubeletHasNoDiskPressure", "message": "kubelet has no disk pressure", "lastHeartbeatTime": now, "lastTransitionTime": now},
                {"type": "PIDPressure", "status": "False", "reason": "KubeletHasSufficientPID", "message": "kubelet has sufficient PID available", "lastHeartbeatTime": now, "lastTransitionTime": now},
                {"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "kubelet is posting ready status", "lastHeartbeatTime": now, "lastTransitionTime": now},
            ],
            "nodeInfo": {
                "architecture": "amd64", "bootID": "", "containerRuntimeVersion": "containerd://2.0.0",
                "kernelVersion": "6.1.0", "kubeProxyVersion": "", "kubeletVersion": "v1.33.0",
                "machineID": "", "operatingSystem": "linux", "osImage": "pod-introspect", "systemUUID": "",
            },
        },
    })
}

/// `spec.containers` must name at least one container, each with a name
/// (`pkg/apis/core/validation/validation.go` `validateContainers`).
fn validate_pod(pod: &Pod) -> Result<(), Vec<String>> {
    let Some(spec) = pod.spec.as_ref() else {
        return Err(vec!["spec: Required value".into()]);
    };
    if spec.containers.is_empty() {
        return Err(vec!["spec.containers: Required value".into()]);
    }
    if let Some(c) = spec.containers.iter().find(|c| c.name.is_empty()) {
        return Err(vec![format!(
            "spec.containers[].name: Required value (image {:?})",
            c.image
        )]);
    }
    Ok(())
}

/// `SetDefaults_PodSpec` and `SetDefaults_Container` (`pkg/apis/core/v1/defaults.go`): what
/// every pod spec gets, templates included.
fn pod_spec_defaults(spec: &mut PodSpec) {
    for c in spec
        .containers
        .iter_mut()
        .chain(spec.init_containers.iter_mut().flatten())
    {
        if c.image_pull_policy.is_none() {
            let latest = c.image.as_deref().is_none_or(|i| {
                i.ends_with(":latest") || !i.rsplit('/').next().unwrap_or("").contains(':')
            });
            c.image_pull_policy = Some(if latest { "Always" } else { "IfNotPresent" }.into());
        }
        c.termination_message_path
            .get_or_insert_with(|| "/dev/termination-log".into());
        c.termination_message_policy
            .get_or_insert_with(|| "File".into());
        c.resources.get_or_insert_with(Default::default);
        for p in c.ports.iter_mut().flatten() {
            p.protocol.get_or_insert_with(|| "TCP".into());
        }
    }
    spec.restart_policy.get_or_insert_with(|| "Always".into());
    spec.dns_policy.get_or_insert_with(|| "ClusterFirst".into());
    spec.scheduler_name
        .get_or_insert_with(|| "default-scheduler".into());
    spec.termination_grace_period_seconds.get_or_insert(30);
    spec.security_context.get_or_insert_with(Default::default);
}

/// The pod's spec defaults: [`pod_spec_defaults`], the ServiceAccount admission
/// (`serviceAccountName: default`), the scheduler's `nodeName`, priority admission.
fn default_spec(pod: &mut Pod) {
    let spec = pod.spec.get_or_insert_with(|| PodSpec {
        containers: vec![Container {
            name: "app".into(),
            image: Some(DEFAULT_IMAGE.into()),
            ..Default::default()
        }],
        ..Default::default()
    });
    pod_spec_defaults(spec);
    let sa = spec
        .service_account_name
        .clone()
        .or(spec.service_account.clone())
        .unwrap_or_else(|| "default".into());
    spec.service_account_name = Some(sa.clone());
    spec.service_account = Some(sa);
    spec.node_name.get_or_insert_with(|| NODE_NAME.into());
    spec.enable_service_links.get_or_insert(true);
    spec.priority.get_or_insert(0);
    spec.preemption_policy
        .get_or_insert_with(|| "PreemptLowerPriority".into());
}

fn condition(type_: &str, now: &Time) -> PodCondition {
    PodCondition {
        type_: type_.into(),
        status: "True".into(),
        last_transition_time: Some(now.clone()),
        ..Default::default()
    }
}

/// Fills in a Running status unless the caller set `status.phase`; missing IPs are filled in
/// either way.
fn default_status(pod: &mut Pod, pod_ip: &str, now: &Time) {
    let host_network = pod
        .spec
        .as_ref()
        .and_then(|s| s.host_network)
        .unwrap_or(false);
    let containers = pod
        .spec
        .as_ref()
        .map(|s| s.containers.clone())
        .unwrap_or_default();
    let status = pod.status.get_or_insert_with(PodStatus::default);
    if status.phase.is_none() {
        status.phase = Some("Running".into());
        status.conditions = Some(
            [
                "PodReadyToStartContainers",
                "Initialized",
                "Ready",
                "ContainersReady",
                "PodScheduled",
            ]
            .iter()
            .map(|t| condition(t, now))
            .collect(),
        );
        status.start_time = Some(now.clone());
        status.qos_class = Some("BestEffort".into());
        status.container_statuses = Some(
            containers
                .iter()
                .map(|c| ContainerStatus {
                    name: c.name.clone(),
                    image: c.image.clone().unwrap_or_default(),
                    image_id: c.image.clone().unwrap_or_default(),
                    container_id: Some(format!(
                        "containerd://{}{}",
                        uuid::Uuid::new_v4().simple(),
                        uuid::Uuid::new_v4().simple()
                    )),
                    ready: true,
                    started: Some(true),
                    restart_count: 0,
                    state: Some(ContainerState {
                        running: Some(ContainerStateRunning {
                            started_at: Some(now.clone()),
                        }),
                        ..Default::default()
                    }),
                    ..Default::default()
                })
                .collect(),
        );
    }
    if status.host_ip.is_none() {
        status.host_ip = Some(HOST_IP.into());
        status.host_ips = Some(vec![HostIP { ip: HOST_IP.into() }]);
    }
    if status.pod_ip.is_none() && status.phase.as_deref() != Some("Pending") {
        let ip = if host_network { HOST_IP } else { pod_ip };
        status.pod_ip = Some(ip.into());
        status.pod_ips = Some(vec![PodIP { ip: ip.into() }]);
    }
}
