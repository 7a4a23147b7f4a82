//! Printers of the core (`v1`) resources, and of events.k8s.io events, which share the core
//! events' storage and printer.
//!
//! Upstream: `pkg/printers/internalversion/printers.go` (`AddHandlers` for the columns;
//! `printPod`, `printConfigMap`, `printSecret`, `printServiceAccount`, `printService`,
//! `printEndpoints`, `printEvent`, `printNamespace`, `printNode`, `printPersistentVolumeClaim`
//! for the cells), the defaults of `pkg/apis/core/v1/defaults.go` where a printed field has one,
//! and the v1 to internal conversions of `pkg/apis/core/v1/conversion.go` (pod IPs, cluster
//! IPs) and `pkg/apis/events/v1/conversion.go` (events.k8s.io events).

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::{
    ConfigMap, Endpoints, Event, EventSource, Namespace, Node, NodeStatus, NodeSystemInfo,
    ObjectReference, PersistentVolumeClaim, PersistentVolumeClaimSpec, PersistentVolumeClaimStatus,
    Pod, PodCondition, PodSpec, PodStatus, Secret, Service, ServiceAccount, ServiceSpec,
};
use k8s_openapi::api::events::v1 as events;
use k8s_openapi::jiff::Timestamp;
use serde_json::{Value, json};

use super::format::{format_labels, is_zero, join_host_port, since};
use super::{AGE, Col, Doc, NAME, Printer, Row, col, decode, field, name_age, wide};

/// The pod columns, with the descriptions `dev-cluster` has always sent (the first sentence
/// of each upstream `SwaggerDoc()` text; kubectl shows none of them).
pub(super) static PODS: Printer = Printer::new(
    &[
        Col {
            doc: Doc::Text(
                "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names",
            ),
            ..NAME
        },
        col(
            "Ready",
            Doc::Text("The aggregate readiness state of this pod for accepting traffic."),
        ),
        col(
            "Status",
            Doc::Text("The aggregate status of the containers in this pod."),
        ),
        col(
            "Restarts",
            Doc::Text(
                "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.",
            ),
        ),
        col(
            "Age",
            Doc::Text(
                "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.",
            ),
        ),
        wide(
            "IP",
            Doc::Text(
                "podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.",
            ),
        ),
        wide(
            "Node",
            Doc::Text("NodeName indicates in which node this pod is scheduled."),
        ),
        wide(
            "Nominated Node",
            Doc::Text(
                "nominatedNodeName is set only when this pod preempts other pods on the node.",
            ),
        ),
        wide(
            "Readiness Gates",
            Doc::Text("If specified, all readiness gates will be evaluated for pod readiness."),
        ),
    ],
    pod_row,
);

/// `IsRestartableInitContainer` (`pkg/api/pod/util.go`): `restartPolicy: Always` (a sidecar).
fn restartable(c: Option<&k8s_openapi::api::core::v1::Container>) -> bool {
    c.and_then(|c| c.restart_policy.as_deref()) == Some("Always")
}

fn condition_true(conditions: &[PodCondition], ty: &str) -> bool {
    conditions
        .iter()
        .any(|c| c.type_ == ty && c.status == "True")
}

/// `printPod`: NAME, READY (`ready/total`, sidecars counted), STATUS (the reason kubectl
/// shows: phase, status reason, `SchedulingGated`, `Init:…`, a container's waiting or
/// terminated reason, `Signal:N`/`ExitCode:N`, `Terminating`, `Unknown` for `NodeLost`),
/// RESTARTS (`N`, or `N (AGE ago)` of the last termination), AGE, then IP, NODE, NOMINATED
/// NODE, READINESS GATES (`true/total`), `<none>` when empty. Succeeded and failed pods get
/// the `Completed` row condition.
fn pod_row(obj: &Value, now: Timestamp) -> Row {
    let pod: Pod = decode(obj);
    let spec: PodSpec = pod.spec.unwrap_or_default();
    let status: PodStatus = pod.status.unwrap_or_default();
    let conditions = status.conditions.clone().unwrap_or_default();
    let init_specs = spec.init_containers.clone().unwrap_or_default();

    let mut restarts: i64 = 0;
    let mut restartable_restarts: i64 = 0;
    let mut total = spec.containers.len();
    let mut ready = 0usize;
    let mut last_restart: Option<Timestamp> = None;
    let mut last_restartable_restart: Option<Timestamp> = None;
    let later = |cur: Option<Timestamp>, t: Option<Timestamp>| match (cur, t) {
        (Some(c), Some(t)) if t > c => Some(t),
        (None, Some(t)) if !is_zero(Some(t)) => Some(t),
        (c, _) => c,
    };

    let phase = status.phase.clone().unwrap_or_default();
    let mut reason = phase.clone();
    if let Some(r) = status.reason.as_deref().filter(|r| !r.is_empty()) {
        reason = r.to_owned();
    }
    if conditions
        .iter()
        .any(|c| c.type_ == "PodScheduled" && c.reason.as_deref() == Some("SchedulingGated"))
    {
        reason = "SchedulingGated".into();
    }
    let row_conditions = match phase.as_str() {
        "Succeeded" => Some(
            json!([{"type": "Completed", "status": "True", "reason": "Succeeded", "message": "The pod has completed successfully."}]),
        ),
        "Failed" => Some(
            json!([{"type": "Completed", "status": "True", "reason": "Failed", "message": "The pod failed."}]),
        ),
        _ => None,
    };

    let init_by_name: BTreeMap<&str, &k8s_openapi::api::core::v1::Container> =
        init_specs.iter().map(|c| (c.name.as_str(), c)).collect();
    total += init_specs.iter().filter(|c| restartable(Some(c))).count();

    let mut initializing = false;
    for (i, c) in status.init_container_statuses.iter().flatten().enumerate() {
        restarts += i64::from(c.restart_count);
        let last_terminated = c
            .last_state
            .as_ref()
            .and_then(|s| s.terminated.as_ref())
            .map(|t| t.finished_at.as_ref().map(|f| f.0));
        if let Some(t) = last_terminated {
            last_restart = later(last_restart, t);
        }
        let is_sidecar = restartable(init_by_name.get(c.name.as_str()).copied());
        if is_sidecar {
            restartable_restarts += i64::from(c.restart_count);
            if let Some(t) = last_terminated {
                last_restartable_restart = later(last_restartable_restart, t);
            }
        }
        let state = c.state.clone().unwrap_or_default();
        match (&state.terminated, &state.waiting) {
            (Some(t), _) if t.exit_code == 0 => continue,
            _ if is_sidecar && c.started == Some(true) => {
                if c.ready {
                    ready += 1;
                }
                continue;
            }
            (Some(t), _) => {
                reason = match t.reason.as_deref().filter(|r| !r.is_empty()) {
                    Some(r) => format!("Init:{r}"),
                    None => match t.signal.filter(|s| *s != 0) {
                        Some(s) => format!("Init:Signal:{s}"),
                        None => format!("Init:ExitCode:{}", t.exit_code),
                    },
                };
            }
            (None, Some(w))
                if w.reason
                    .as_deref()
                    .is_some_and(|r| !r.is_empty() && r != "PodInitializing") =>
            {
                reason = format!("Init:{}", w.reason.as_deref().unwrap_or_default());
            }
            _ => reason = format!("Init:{i}/{}", init_specs.len()),
        }
        initializing = true;
        break;
    }

    if !initializing || condition_true(&conditions, "Initialized") {
        restarts = restartable_restarts;
        last_restart = last_restartable_restart;
        let mut has_running = false;
        for c in status.container_statuses.iter().flatten().rev() {
            restarts += i64::from(c.restart_count);
            if let Some(t) = c.last_state.as_ref().and_then(|s| s.terminated.as_ref()) {
                last_restart = later(last_restart, t.finished_at.as_ref().map(|f| f.0));
            }
            let state = c.state.clone().unwrap_or_default();
            let waiting = state
                .waiting
                .as_ref()
                .and_then(|w| w.reason.as_deref())
                .filter(|r| !r.is_empty());
            if let Some(w) = waiting {
                reason = w.to_owned();
            } else if let Some(t) = &state.terminated {
                reason = match t.reason.as_deref().filter(|r| !r.is_empty()) {
                    Some(r) => r.to_owned(),
                    None => match t.signal.filter(|s| *s != 0) {
                        Some(s) => format!("Signal:{s}"),
                        None => format!("ExitCode:{}", t.exit_code),
                    },
                };
            } else if c.ready && state.running.is_some() {
                has_running = true;
                ready += 1;
            }
        }
        if reason == "Completed" && has_running {
            reason = if condition_true(&conditions, "Ready") {
                "Running".into()
            } else {
                "NotReady".into()
            };
        }
    }

    if pod.metadata.deletion_timestamp.is_some() {
        if status.reason.as_deref() == Some("NodeLost") {
            reason = "Unknown".into();
        } else if phase != "Succeeded" && phase != "Failed" {
            reason = "Terminating".into();
        }
    }

    let restarts_cell = match last_restart {
        Some(t) if restarts != 0 => format!("{restarts} ({} ago)", since(Some(t), now)),
        _ => restarts.to_string(),
    };
    let none = || "<none>".to_owned();
    // Convert_v1_PodStatus_To_core_PodStatus: podIP wins over podIPs[0].
    let pod_ip = status
        .pod_ip
        .clone()
        .filter(|ip| !ip.is_empty())
        .or_else(|| status.pod_ips.as_ref()?.first().map(|p| p.ip.clone()))
        .filter(|ip| !ip.is_empty())
        .unwrap_or_else(none);
    let gates = spec
        .readiness_gates
        .as_ref()
        .filter(|g| !g.is_empty())
        .map(|gates| {
            let true_count = gates
                .iter()
                .filter(|g| {
                    conditions
                        .iter()
                        .find(|c| c.type_ == g.condition_type)
                        .is_some_and(|c| c.status == "True")
                })
                .count();
            format!("{true_count}/{}", gates.len())
        })
        .unwrap_or_else(none);
    let (name, age) = name_age(&pod.metadata, now);
    Row {
        cells: vec![
            name,
            json!(format!("{ready}/{total}")),
            json!(reason),
            json!(restarts_cell),
            age,
            json!(pod_ip),
            json!(
                spec.node_name
                    .filter(|n| !n.is_empty())
                    .unwrap_or_else(none)
            ),
            json!(
                status
                    .nominated_node_name
                    .filter(|n| !n.is_empty())
                    .unwrap_or_else(none)
            ),
            json!(gates),
        ],
        conditions: row_conditions,
    }
}

/// `configMapColumnDefinitions`: NAME, DATA (`len(data) + len(binaryData)`), AGE.
pub(super) static CONFIG_MAPS: Printer = Printer::new(
    &[NAME, col("Data", field::<ConfigMap>("data")), AGE],
    |obj, now| {
        let cm: ConfigMap = decode(obj);
        let n = cm.data.as_ref().map_or(0, BTreeMap::len)
            + cm.binary_data.as_ref().map_or(0, BTreeMap::len);
        let (name, age) = name_age(&cm.metadata, now);
        Row::cells(vec![name, json!(n), age])
    },
);

/// `secretColumnDefinitions`: NAME, TYPE (default `Opaque`), DATA (`len(data)`), AGE.
pub(super) static SECRETS: Printer = Printer::new(
    &[
        NAME,
        col("Type", field::<Secret>("type")),
        col("Data", field::<Secret>("data")),
        AGE,
    ],
    |obj, now| {
        let s: Secret = decode(obj);
        let ty = s
            .type_
            .clone()
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| "Opaque".into());
        let n = s.data.as_ref().map_or(0, BTreeMap::len);
        let (name, age) = name_age(&s.metadata, now);
        Row::cells(vec![name, json!(ty), json!(n), age])
    },
);

/// `serviceAccountColumnDefinitions`: NAME, SECRETS (`len(secrets)`), AGE.
pub(super) static SERVICE_ACCOUNTS: Printer = Printer::new(
    &[
        NAME,
        col("Secrets", field::<ServiceAccount>("secrets")),
        AGE,
    ],
    |obj, now| {
        let sa: ServiceAccount = decode(obj);
        let n = sa.secrets.as_ref().map_or(0, Vec::len);
        let (name, age) = name_age(&sa.metadata, now);
        Row::cells(vec![name, json!(n), age])
    },
);

/// `serviceColumnDefinitions`: NAME, TYPE, CLUSTER-IP, EXTERNAL-IP, PORT(S), AGE, SELECTOR.
pub(super) static SERVICES: Printer = Printer::new(
    &[
        NAME,
        col("Type", field::<ServiceSpec>("type")),
        col("Cluster-IP", field::<ServiceSpec>("clusterIP")),
        col("External-IP", field::<ServiceSpec>("externalIPs")),
        col("Port(s)", field::<ServiceSpec>("ports")),
        AGE,
        wide("Selector", field::<ServiceSpec>("selector")),
    ],
    service_row,
);

/// `printService` with `wide` (the server's): the type (default `ClusterIP`), the first
/// cluster IP (`clusterIPs[0]`, else `clusterIP`, else `<none>`), `getServiceExternalIP`,
/// `makePortString` (`port/PROTO` or `port:nodePort/PROTO`, protocol default `TCP`, `<none>`
/// when there are no ports), AGE and the selector (`labels.FormatLabels`).
fn service_row(obj: &Value, now: Timestamp) -> Row {
    let svc: Service = decode(obj);
    let spec = svc.spec.clone().unwrap_or_default();
    let ty = spec
        .type_
        .clone()
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| "ClusterIP".into());
    let cluster_ip = spec
        .cluster_ips
        .as_ref()
        .and_then(|ips| ips.first().cloned())
        .or_else(|| spec.cluster_ip.clone())
        .filter(|ip| !ip.is_empty())
        .unwrap_or_else(|| "<none>".into());
    let external_ips = spec.external_ips.clone().unwrap_or_default();
    let external = match ty.as_str() {
        "ClusterIP" | "NodePort" if !external_ips.is_empty() => external_ips.join(","),
        "ClusterIP" | "NodePort" => "<none>".into(),
        "LoadBalancer" => {
            let lb: BTreeSet<String> = svc
                .status
                .as_ref()
                .and_then(|s| s.load_balancer.as_ref())
                .and_then(|lb| lb.ingress.as_ref())
                .into_iter()
                .flatten()
                .filter_map(|i| {
                    i.ip.clone()
                        .filter(|ip| !ip.is_empty())
                        .or_else(|| i.hostname.clone().filter(|h| !h.is_empty()))
                })
                .collect();
            let lb: Vec<String> = lb.into_iter().collect();
            if !external_ips.is_empty() {
                lb.into_iter()
                    .chain(external_ips)
                    .collect::<Vec<_>>()
                    .join(",")
            } else if !lb.is_empty() {
                lb.join(",")
            } else {
                "<pending>".into()
            }
        }
        "ExternalName" => spec.external_name.clone().unwrap_or_default(),
        _ => "<unknown>".into(),
    };
    let ports: Vec<String> = spec
        .ports
        .iter()
        .flatten()
        .map(|p| {
            let proto = p
                .protocol
                .as_deref()
                .filter(|p| !p.is_empty())
                .unwrap_or("TCP");
            match p.node_port.filter(|n| *n > 0) {
                Some(np) => format!("{}:{np}/{proto}", p.port),
                None => format!("{}/{proto}", p.port),
            }
        })
        .collect();
    let ports = if ports.is_empty() {
        "<none>".to_owned()
    } else {
        ports.join(",")
    };
    let (name, age) = name_age(&svc.metadata, now);
    Row::cells(vec![
        name,
        json!(ty),
        json!(cluster_ip),
        json!(external),
        json!(ports),
        age,
        json!(format_labels(spec.selector.as_ref())),
    ])
}

/// `endpointColumnDefinitions`: NAME, ENDPOINTS, AGE.
pub(super) static ENDPOINTS: Printer = Printer::new(
    &[NAME, col("Endpoints", field::<Endpoints>("subsets")), AGE],
    |obj, now| {
        let ep: Endpoints = decode(obj);
        let (name, age) = name_age(&ep.metadata, now);
        Row::cells(vec![name, json!(format_endpoints(&ep)), age])
    },
);

/// `formatEndpoints(endpoints, nil)`: up to three `ip:port` (or bare IPs for a subset without
/// ports), then `+ N more...`; `<none>` without subsets.
fn format_endpoints(ep: &Endpoints) -> String {
    let subsets = ep.subsets.clone().unwrap_or_default();
    if subsets.is_empty() {
        return "<none>".into();
    }
    const MAX: usize = 3;
    let mut list: Vec<String> = Vec::new();
    let mut more = false;
    let mut count = 0usize;
    for ss in &subsets {
        let addresses = ss.addresses.clone().unwrap_or_default();
        let ports = ss.ports.clone().unwrap_or_default();
        if ports.is_empty() {
            count += addresses.len();
            for a in &addresses {
                if list.len() == MAX {
                    more = true;
                    break;
                }
                list.push(a.ip.clone());
            }
            continue;
        }
        for port in &ports {
            count += addresses.len();
            for a in &addresses {
                if list.len() == MAX {
                    more = true;
                    break;
                }
                list.push(join_host_port(&a.ip, port.port));
            }
        }
    }
    let ret = list.join(",");
    if more {
        format!("{ret} + {} more...", count - MAX)
    } else {
        ret
    }
}

/// `eventColumnDefinitions` (the wide set, as the server prints): LAST SEEN, TYPE, REASON,
/// OBJECT, SUBOBJECT, SOURCE, MESSAGE, FIRST SEEN, COUNT, NAME.
pub(super) static EVENTS: Printer = Printer::new(
    &[
        col("Last Seen", field::<Event>("lastTimestamp")),
        col("Type", field::<Event>("type")),
        col("Reason", field::<Event>("reason")),
        col("Object", field::<Event>("involvedObject")),
        wide("Subobject", field::<ObjectReference>("fieldPath")),
        wide("Source", field::<Event>("source")),
        col("Message", field::<Event>("message")),
        wide("First Seen", field::<Event>("firstTimestamp")),
        wide("Count", field::<Event>("count")),
        Col {
            priority: 1,
            ..NAME
        },
    ],
    event_row,
);

/// `printEvent` on the internal event: a core `v1` event as it is, an events.k8s.io one
/// through `pkg/apis/events/v1/conversion.go` (`regarding`, `note`, `deprecated*`,
/// `reportingController`). Times: first = `firstTimestamp` else `eventTime`; last =
/// `series.lastObservedTime`, else `lastTimestamp`, else first; count = `series.count`, else
/// `count`, else 1.
fn event_row(obj: &Value, now: Timestamp) -> Row {
    let is_events_group = obj.get("apiVersion").and_then(Value::as_str) == Some("events.k8s.io/v1");
    let e: Event = if is_events_group {
        let ev: events::Event = decode(obj);
        Event {
            metadata: ev.metadata,
            count: ev.deprecated_count,
            first_timestamp: ev.deprecated_first_timestamp,
            last_timestamp: ev.deprecated_last_timestamp,
            source: ev.deprecated_source,
            event_time: ev.event_time,
            involved_object: ev.regarding.unwrap_or_default(),
            message: ev.note,
            reason: ev.reason,
            reporting_component: ev.reporting_controller,
            reporting_instance: ev.reporting_instance,
            series: ev.series.map(|s| k8s_openapi::api::core::v1::EventSeries {
                count: Some(s.count),
                last_observed_time: Some(s.last_observed_time),
            }),
            type_: ev.type_,
            ..Default::default()
        }
    } else {
        decode(obj)
    };
    let first_ts = e.first_timestamp.as_ref().map(|t| t.0);
    let first = if is_zero(first_ts) {
        since(e.event_time.as_ref().map(|t| t.0), now)
    } else {
        since(first_ts, now)
    };
    let last_ts = e.last_timestamp.as_ref().map(|t| t.0);
    let mut last = if is_zero(last_ts) {
        first.clone()
    } else {
        since(last_ts, now)
    };
    let mut count = i64::from(e.count.unwrap_or(0));
    if let Some(series) = &e.series {
        last = since(series.last_observed_time.as_ref().map(|t| t.0), now);
        count = i64::from(series.count.unwrap_or(0));
    } else if count == 0 {
        count = 1;
    }
    let kind = e
        .involved_object
        .kind
        .clone()
        .unwrap_or_default()
        .to_lowercase();
    let target = match e.involved_object.name.as_deref().filter(|n| !n.is_empty()) {
        Some(n) => format!("{kind}/{n}"),
        None => kind,
    };
    let source = format_event_source(
        e.source.as_ref(),
        e.reporting_component.as_deref().unwrap_or_default(),
        e.reporting_instance.as_deref().unwrap_or_default(),
    );
    Row::cells(vec![
        json!(last),
        json!(e.type_.clone().unwrap_or_default()),
        json!(e.reason.clone().unwrap_or_default()),
        json!(target),
        json!(e.involved_object.field_path.clone().unwrap_or_default()),
        json!(source),
        json!(e.message.as_deref().unwrap_or_default().trim()),
        json!(first),
        json!(count),
        json!(e.metadata.name.clone().unwrap_or_default()),
    ])
}

/// `formatEventSource`: the component (else `reportingController`) and, when there is one,
/// `", "` and the host (else `reportingInstance`).
fn format_event_source(
    source: Option<&EventSource>,
    reporting_controller: &str,
    reporting_instance: &str,
) -> String {
    let first = |a: Option<&str>, b: &str| a.filter(|s| !s.is_empty()).unwrap_or(b).to_owned();
    let component = first(
        source.and_then(|s| s.component.as_deref()),
        reporting_controller,
    );
    let host = first(source.and_then(|s| s.host.as_deref()), reporting_instance);
    if host.is_empty() {
        component
    } else {
        format!("{component}, {host}")
    }
}

/// `namespaceColumnDefinitions`: NAME, STATUS (phase, default `Active`), AGE.
pub(super) static NAMESPACES: Printer = Printer::new(
    &[
        NAME,
        col("Status", Doc::Text("The status of the namespace")),
        AGE,
    ],
    |obj, now| {
        let ns: Namespace = decode(obj);
        let phase = ns
            .status
            .and_then(|s| s.phase)
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| "Active".into());
        let (name, age) = name_age(&ns.metadata, now);
        Row::cells(vec![name, json!(phase), age])
    },
);

/// `nodeColumnDefinitions`: NAME, STATUS, ROLES, AGE, VERSION, then INTERNAL-IP, EXTERNAL-IP,
/// OS-IMAGE, KERNEL-VERSION, CONTAINER-RUNTIME.
pub(super) static NODES: Printer = Printer::new(
    &[
        NAME,
        col("Status", Doc::Text("The status of the node")),
        col("Roles", Doc::Text("The roles of the node")),
        AGE,
        col("Version", field::<NodeSystemInfo>("kubeletVersion")),
        wide("Internal-IP", field::<NodeStatus>("addresses")),
        wide("External-IP", field::<NodeStatus>("addresses")),
        wide("OS-Image", field::<NodeSystemInfo>("osImage")),
        wide("Kernel-Version", field::<NodeSystemInfo>("kernelVersion")),
        wide(
            "Container-Runtime",
            field::<NodeSystemInfo>("containerRuntimeVersion"),
        ),
    ],
    node_row,
);

/// `printNode`: STATUS is `Ready`/`NotReady` from the `Ready` condition (`Unknown` without
/// one) plus `SchedulingDisabled` when unschedulable; ROLES the sorted
/// `node-role.kubernetes.io/ROLE` label suffixes and `kubernetes.io/role` values, `<none>`
/// without; the node-info cells `<unknown>` when empty; the first InternalIP/ExternalIP
/// address or `<none>`.
fn node_row(obj: &Value, now: Timestamp) -> Row {
    let node: Node = decode(obj);
    let status = node.status.clone().unwrap_or_default();
    let conditions = status.conditions.clone().unwrap_or_default();
    let mut states: Vec<String> = Vec::new();
    if let Some(c) = conditions.iter().rev().find(|c| c.type_ == "Ready") {
        states.push(if c.status == "True" {
            "Ready".into()
        } else {
            "NotReady".into()
        });
    }
    if states.is_empty() {
        states.push("Unknown".into());
    }
    if node.spec.as_ref().and_then(|s| s.unschedulable) == Some(true) {
        states.push("SchedulingDisabled".into());
    }
    let mut roles: BTreeSet<String> = BTreeSet::new();
    for (k, v) in node.metadata.labels.iter().flatten() {
        if let Some(role) = k.strip_prefix("node-role.kubernetes.io/") {
            if !role.is_empty() {
                roles.insert(role.to_owned());
            }
        } else if k == "kubernetes.io/role" && !v.is_empty() {
            roles.insert(v.clone());
        }
    }
    let roles = if roles.is_empty() {
        "<none>".to_owned()
    } else {
        roles.into_iter().collect::<Vec<_>>().join(",")
    };
    let info = status.node_info.clone().unwrap_or_default();
    let unknown = |s: String| if s.is_empty() { "<unknown>".into() } else { s };
    let address = |ty: &str| {
        status
            .addresses
            .iter()
            .flatten()
            .find(|a| a.type_ == ty)
            .map(|a| a.address.clone())
            .unwrap_or_else(|| "<none>".into())
    };
    let (name, age) = name_age(&node.metadata, now);
    Row::cells(vec![
        name,
        json!(states.join(",")),
        json!(roles),
        age,
        json!(info.kubelet_version),
        json!(address("InternalIP")),
        json!(address("ExternalIP")),
        json!(unknown(info.os_image)),
        json!(unknown(info.kernel_version)),
        json!(unknown(info.container_runtime_version)),
    ])
}

/// `persistentVolumeClaimColumnDefinitions`: NAME, STATUS, VOLUME, CAPACITY, ACCESS MODES,
/// STORAGECLASS, VOLUMEATTRIBUTESCLASS, AGE, VOLUMEMODE.
pub(super) static PERSISTENT_VOLUME_CLAIMS: Printer = Printer::new(
    &[
        NAME,
        col("Status", field::<PersistentVolumeClaimStatus>("phase")),
        col("Volume", field::<PersistentVolumeClaimSpec>("volumeName")),
        col("Capacity", field::<PersistentVolumeClaimStatus>("capacity")),
        col(
            "Access Modes",
            field::<PersistentVolumeClaimStatus>("accessModes"),
        ),
        col("StorageClass", Doc::Text("StorageClass of the pvc")),
        col(
            "VolumeAttributesClass",
            Doc::Text("VolumeAttributesClass of the pvc"),
        ),
        AGE,
        wide(
            "VolumeMode",
            field::<PersistentVolumeClaimSpec>("volumeMode"),
        ),
    ],
    pvc_row,
);

/// `printPersistentVolumeClaim`: phase (default `Pending`; `Terminating` when deleted), the
/// volume, and for a bound claim the status capacity (`storage`, as stored; `0` when absent)
/// and access modes (`RWO,ROX,RWX,RWOP`); the class from the beta annotation or
/// `storageClassName`; `<unset>` for no attributes class; volume mode (default `Filesystem`).
fn pvc_row(obj: &Value, now: Timestamp) -> Row {
    let pvc: PersistentVolumeClaim = decode(obj);
    let spec = pvc.spec.clone().unwrap_or_default();
    let status = pvc.status.clone().unwrap_or_default();
    let mut phase = status
        .phase
        .clone()
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "Pending".into());
    if pvc.metadata.deletion_timestamp.is_some() {
        phase = "Terminating".into();
    }
    let volume = spec.volume_name.clone().unwrap_or_default();
    let (capacity, access) = if volume.is_empty() {
        (String::new(), String::new())
    } else {
        let cap = status
            .capacity
            .as_ref()
            .and_then(|c| c.get("storage"))
            .map(|q| q.0.clone())
            .unwrap_or_else(|| "0".into());
        (
            cap,
            access_modes(status.access_modes.as_deref().unwrap_or_default()),
        )
    };
    let class = pvc
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get("volume.beta.kubernetes.io/storage-class"))
        .cloned()
        .or_else(|| spec.storage_class_name.clone())
        .unwrap_or_default();
    let attributes_class = spec
        .volume_attributes_class_name
        .clone()
        .unwrap_or_else(|| "<unset>".into());
    let mode = spec
        .volume_mode
        .clone()
        .unwrap_or_else(|| "Filesystem".into());
    let (name, age) = name_age(&pvc.metadata, now);
    Row::cells(vec![
        name,
        json!(phase),
        json!(volume),
        json!(capacity),
        json!(access),
        json!(class),
        json!(attributes_class),
        age,
        json!(mode),
    ])
}

/// `helper.GetAccessModesAsString` (`pkg/apis/core/helper/helpers.go`): the modes present, in
/// the order `RWO,ROX,RWX,RWOP`.
fn access_modes(modes: &[String]) -> String {
    [
        ("ReadWriteOnce", "RWO"),
        ("ReadOnlyMany", "ROX"),
        ("ReadWriteMany", "RWX"),
        ("ReadWriteOncePod", "RWOP"),
    ]
    .iter()
    .filter(|(m, _)| modes.iter().any(|x| x == m))
    .map(|(_, s)| *s)
    .collect::<Vec<_>>()
    .join(",")
}
