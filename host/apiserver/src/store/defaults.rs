//! The defaults applied to a new pod: the spec defaults of `pkg/apis/core/v1/defaults.go`, and
//! the status a kubelet would report for a pod whose containers all run.

use k8s_openapi::api::core::v1::{
    Container, ContainerState, ContainerStateRunning, ContainerStatus, HostIP, Pod, PodCondition,
    PodIP, PodSpec, PodStatus,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::{DEFAULT_IMAGE, HOST_IP, NODE_NAME};

pub(super) fn default_spec(pod: &mut Pod) {
    let spec = pod.spec.get_or_insert_with(|| PodSpec {
        containers: vec![Container {
            name: "app".into(),
            image: Some(DEFAULT_IMAGE.into()),
            ..Default::default()
        }],
        ..Default::default()
    });
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
    }
    let sa = spec
        .service_account_name
        .clone()
        .or(spec.service_account.clone())
        .unwrap_or_else(|| "default".into());
    spec.service_account_name = Some(sa.clone());
    spec.service_account = Some(sa);
    spec.node_name.get_or_insert_with(|| NODE_NAME.into());
    spec.restart_policy.get_or_insert_with(|| "Always".into());
    spec.dns_policy.get_or_insert_with(|| "ClusterFirst".into());
    spec.scheduler_name
        .get_or_insert_with(|| "default-scheduler".into());
    spec.termination_grace_period_seconds.get_or_insert(30);
    spec.enable_service_links.get_or_insert(true);
    spec.priority.get_or_insert(0);
    spec.preemption_policy
        .get_or_insert_with(|| "PreemptLowerPriority".into());
    spec.security_context.get_or_insert_with(Default::default);
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
pub(super) fn default_status(pod: &mut Pod, pod_ip: &str, now: &Time) {
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
