//! Printers of the `apps/v1` workloads.
//!
//! Upstream: `pkg/printers/internalversion/printers.go` (`AddHandlers`; `printDeployment`,
//! `printReplicaSet`, `printStatefulSet`, `printDaemonSet`) and `pkg/apis/apps/v1/defaults.go`
//! (`spec.replicas` defaults to 1). Upstream describes some columns with the
//! `extensions/v1beta1` fields; k8s-openapi has no such types, so these use the `apps/v1`
//! fields of the same names.

use k8s_openapi::api::apps::v1::{
    DaemonSet, DaemonSetSpec, DaemonSetStatus, Deployment, DeploymentSpec, DeploymentStatus,
    ReplicaSet, ReplicaSetSpec, ReplicaSetStatus, StatefulSet,
};
use k8s_openapi::api::core::v1::{PodSpec, PodTemplateSpec};
use serde_json::json;

use super::format::{container_cells, format_label_selector, format_labels, selector_string};
use super::{
    AGE, CONTAINERS, Col, Doc, IMAGES, NAME, Printer, Row, col, decode, field, name_age, wide,
};

fn pod_spec(template: Option<&PodTemplateSpec>) -> PodSpec {
    template.and_then(|t| t.spec.clone()).unwrap_or_default()
}

/// `deploymentColumnDefinitions`: NAME, READY (`ready/desired`), UP-TO-DATE, AVAILABLE, AGE,
/// then CONTAINERS, IMAGES, SELECTOR (`LabelSelectorAsSelector(...).String()`, `<invalid>`
/// when it does not convert).
pub(super) static DEPLOYMENTS: Printer = Printer::new(
    &[
        NAME,
        col("Ready", Doc::Text("Number of the pod with ready state")),
        col("Up-to-date", field::<DeploymentStatus>("updatedReplicas")),
        col("Available", field::<DeploymentStatus>("availableReplicas")),
        AGE,
        CONTAINERS,
        IMAGES,
        wide("Selector", field::<DeploymentSpec>("selector")),
    ],
    |obj, now| {
        let d: Deployment = decode(obj);
        let spec = d.spec.clone().unwrap_or_default();
        let status = d.status.clone().unwrap_or_default();
        let desired = i64::from(spec.replicas.unwrap_or(1));
        let ready = i64::from(status.ready_replicas.unwrap_or(0));
        let (containers, images) = container_cells(&pod_spec(Some(&spec.template)).containers);
        let selector =
            selector_string(Some(&spec.selector)).unwrap_or_else(|()| "<invalid>".into());
        let (name, age) = name_age(&d.metadata, now);
        Row::cells(vec![
            name,
            json!(format!("{ready}/{desired}")),
            json!(i64::from(status.updated_replicas.unwrap_or(0))),
            json!(i64::from(status.available_replicas.unwrap_or(0))),
            age,
            json!(containers),
            json!(images),
            json!(selector),
        ])
    },
);

/// `replicaSetColumnDefinitions`: NAME, DESIRED, CURRENT, READY (integers), AGE, then
/// CONTAINERS, IMAGES, SELECTOR (`metav1.FormatLabelSelector`).
pub(super) static REPLICA_SETS: Printer = Printer::new(
    &[
        NAME,
        Col {
            ty: "integer",
            ..col("Desired", field::<ReplicaSetSpec>("replicas"))
        },
        Col {
            ty: "integer",
            ..col("Current", field::<ReplicaSetStatus>("replicas"))
        },
        Col {
            ty: "integer",
            ..col("Ready", field::<ReplicaSetStatus>("readyReplicas"))
        },
        AGE,
        CONTAINERS,
        IMAGES,
        wide("Selector", field::<ReplicaSetSpec>("selector")),
    ],
    |obj, now| {
        let rs: ReplicaSet = decode(obj);
        let spec = rs.spec.clone().unwrap_or_default();
        let status = rs.status.clone().unwrap_or_default();
        let (containers, images) = container_cells(&pod_spec(spec.template.as_ref()).containers);
        let (name, age) = name_age(&rs.metadata, now);
        Row::cells(vec![
            name,
            json!(i64::from(spec.replicas.unwrap_or(1))),
            json!(i64::from(status.replicas)),
            json!(i64::from(status.ready_replicas.unwrap_or(0))),
            age,
            json!(containers),
            json!(images),
            json!(format_label_selector(Some(&spec.selector))),
        ])
    },
);

/// `statefulSetColumnDefinitions`: NAME, READY (`ready/desired`), AGE, then CONTAINERS,
/// IMAGES.
pub(super) static STATEFUL_SETS: Printer = Printer::new(
    &[
        NAME,
        col("Ready", Doc::Text("Number of the pod with ready state")),
        AGE,
        CONTAINERS,
        IMAGES,
    ],
    |obj, now| {
        let s: StatefulSet = decode(obj);
        let spec = s.spec.clone().unwrap_or_default();
        let ready = s
            .status
            .as_ref()
            .and_then(|st| st.ready_replicas)
            .unwrap_or(0);
        let desired = spec.replicas.unwrap_or(1);
        let (containers, images) = container_cells(&pod_spec(Some(&spec.template)).containers);
        let (name, age) = name_age(&s.metadata, now);
        Row::cells(vec![
            name,
            json!(format!("{ready}/{desired}")),
            age,
            json!(containers),
            json!(images),
        ])
    },
);

/// `daemonSetColumnDefinitions`: NAME, DESIRED, CURRENT, READY, UP-TO-DATE, AVAILABLE
/// (integers), NODE SELECTOR (`labels.FormatLabels` of the template's), AGE, then CONTAINERS,
/// IMAGES, SELECTOR.
pub(super) static DAEMON_SETS: Printer = Printer::new(
    &[
        NAME,
        Col {
            ty: "integer",
            ..col(
                "Desired",
                field::<DaemonSetStatus>("desiredNumberScheduled"),
            )
        },
        Col {
            ty: "integer",
            ..col(
                "Current",
                field::<DaemonSetStatus>("currentNumberScheduled"),
            )
        },
        Col {
            ty: "integer",
            ..col("Ready", field::<DaemonSetStatus>("numberReady"))
        },
        Col {
            ty: "integer",
            ..col(
                "Up-to-date",
                field::<DaemonSetStatus>("updatedNumberScheduled"),
            )
        },
        Col {
            ty: "integer",
            ..col("Available", field::<DaemonSetStatus>("numberAvailable"))
        },
        col("Node Selector", field::<PodSpec>("nodeSelector")),
        AGE,
        CONTAINERS,
        IMAGES,
        wide("Selector", field::<DaemonSetSpec>("selector")),
    ],
    |obj, now| {
        let ds: DaemonSet = decode(obj);
        let spec = ds.spec.clone().unwrap_or_default();
        let status = ds.status.clone().unwrap_or_default();
        let pod = pod_spec(Some(&spec.template));
        let (containers, images) = container_cells(&pod.containers);
        let (name, age) = name_age(&ds.metadata, now);
        Row::cells(vec![
            name,
            json!(i64::from(status.desired_number_scheduled)),
            json!(i64::from(status.current_number_scheduled)),
            json!(i64::from(status.number_ready)),
            json!(i64::from(status.updated_number_scheduled.unwrap_or(0))),
            json!(i64::from(status.number_available.unwrap_or(0))),
            json!(format_labels(pod.node_selector.as_ref())),
            age,
            json!(containers),
            json!(images),
            json!(format_label_selector(Some(&spec.selector))),
        ])
    },
);
