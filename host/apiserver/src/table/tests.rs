//! Printer tests: hand-written objects in the API's JSON form, every cell asserted, against a
//! fixed clock.

use super::*;
use crate::resources::{RESOURCES, find};

/// The clock of every test: 2025-01-01T12:00:00Z.
fn now() -> Timestamp {
    "2025-01-01T12:00:00Z".parse().unwrap()
}

fn resource(group: &str, resource: &str) -> &'static ResourceType {
    RESOURCES
        .iter()
        .find(|r| r.group == group && r.resource == resource)
        .unwrap()
}

/// The table of one object.
fn one(group: &str, res: &str, obj: Value) -> Value {
    table_at(
        resource(group, res),
        &[obj],
        json!({"resourceVersion": "7"}),
        IncludeObject::Metadata,
        now(),
    )
}

fn cells(group: &str, res: &str, obj: Value) -> Value {
    one(group, res, obj)["rows"][0]["cells"].clone()
}

/// [`cells`] as a vector, to compare a slice of them.
fn cells_v(group: &str, res: &str, obj: Value) -> Vec<Value> {
    arr(&cells(group, res, obj))
}

fn arr(v: &Value) -> Vec<Value> {
    v.as_array().cloned().unwrap_or_default()
}

/// `(name, type, priority)` of each column.
fn columns(group: &str, res: &str) -> Vec<(String, String, i64)> {
    column_definitions(resource(group, res))
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_owned(),
                c["type"].as_str().unwrap().to_owned(),
                c["priority"].as_i64().unwrap(),
            )
        })
        .collect()
}

fn names(cols: &[(String, String, i64)]) -> Vec<&str> {
    cols.iter().map(|c| c.0.as_str()).collect()
}

#[test]
fn human_durations() {
    for (s, want) in [
        (-5, "<invalid>"),
        (-1, "0s"),
        (0, "0s"),
        (119, "119s"),
        (120, "2m"),
        (125, "2m5s"),
        (600, "10m"),
        (179 * 60, "179m"),
        (3 * 3600, "3h"),
        (3 * 3600 + 60, "3h1m"),
        (8 * 3600, "8h"),
        (48 * 3600, "2d"),
        (50 * 3600, "2d2h"),
        (10 * 86400, "10d"),
        (800 * 86400, "2y70d"),
        (3000 * 86400, "8y"),
    ] {
        assert_eq!(human_duration(s), want, "{s}");
    }
}

#[test]
fn accept_detection() {
    assert!(wants_table(
        "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"
    ));
    assert!(!wants_table("application/json"));
    assert!(!wants_table(
        "application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io"
    ));
}

#[test]
fn include_object_values() {
    assert_eq!(IncludeObject::parse(None), IncludeObject::Metadata);
    assert_eq!(IncludeObject::parse(Some("None")), IncludeObject::None);
    assert_eq!(IncludeObject::parse(Some("Object")), IncludeObject::Object);
    assert_eq!(IncludeObject::parse(Some("bogus")), IncludeObject::Metadata);
    assert_eq!(
        IncludeObject::parse_strict(Some("Metadata")),
        Ok(IncludeObject::Metadata)
    );
    assert_eq!(
        IncludeObject::parse_strict(Some("bogus")),
        Err("unrecognized includeObject value: \"bogus\"".to_owned())
    );
}

/// A pod as `dev-cluster`'s store leaves it: Running, one ready running container.
fn running_pod() -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "one", "namespace": "tb", "creationTimestamp": "2025-01-01T11:00:00Z", "resourceVersion": "5"},
        "spec": {"nodeName": "node-1", "containers": [{"name": "c", "image": "busybox"}]},
        "status": {
            "phase": "Running",
            "podIP": "10.244.0.5",
            "podIPs": [{"ip": "10.244.0.5"}],
            "conditions": [{"type": "Initialized", "status": "True"}, {"type": "Ready", "status": "True"}],
            "containerStatuses": [{"name": "c", "image": "busybox", "imageID": "", "ready": true, "restartCount": 0, "started": true,
                                   "state": {"running": {"startedAt": "2025-01-01T11:00:05Z"}}}]
        }
    })
}

#[test]
fn pods_keep_their_columns_and_cells() {
    let pod: Pod = serde_json::from_value(running_pod()).unwrap();
    let t = pods_table(
        &[pod],
        json!({"resourceVersion": "9"}),
        IncludeObject::Metadata,
    );
    assert_eq!(t["kind"], "Table");
    assert_eq!(t["apiVersion"], "meta.k8s.io/v1");
    assert_eq!(t["metadata"], json!({"resourceVersion": "9"}));
    let cols = t["columnDefinitions"].as_array().unwrap();
    assert_eq!(
        cols.iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect::<Vec<_>>(),
        [
            "Name",
            "Ready",
            "Status",
            "Restarts",
            "Age",
            "IP",
            "Node",
            "Nominated Node",
            "Readiness Gates"
        ]
    );
    assert_eq!(
        cols[0],
        json!({"name": "Name", "type": "string", "format": "name", "priority": 0,
               "description": "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names"})
    );
    assert_eq!(
        cols[7],
        json!({"name": "Nominated Node", "type": "string", "format": "", "priority": 1,
               "description": "nominatedNodeName is set only when this pod preempts other pods on the node."})
    );
    let row = &t["rows"][0];
    assert_eq!(
        arr(&row["cells"])[..4],
        [json!("one"), json!("1/1"), json!("Running"), json!("0")]
    );
    assert_eq!(
        arr(&row["cells"])[5..],
        [
            json!("10.244.0.5"),
            json!("node-1"),
            json!("<none>"),
            json!("<none>")
        ]
    );
    assert_eq!(row["object"]["kind"], "PartialObjectMetadata");
    assert_eq!(row["object"]["apiVersion"], "meta.k8s.io/v1");
    assert_eq!(row["object"]["metadata"]["name"], "one");
    assert_eq!(row["object"]["metadata"]["resourceVersion"], "5");
    assert!(row.get("conditions").is_none());
    // The generic entry point prints the same table.
    let generic = table_at(
        resource("", "pods"),
        &[running_pod()],
        json!({"resourceVersion": "9"}),
        IncludeObject::Metadata,
        now(),
    );
    assert_eq!(
        generic["rows"][0]["cells"],
        json!([
            "one",
            "1/1",
            "Running",
            "0",
            "60m",
            "10.244.0.5",
            "node-1",
            "<none>",
            "<none>"
        ])
    );
    assert_eq!(generic["columnDefinitions"], t["columnDefinitions"]);
}

#[test]
fn pod_restarts_waiting_reason_and_gates() {
    let pod = json!({
        "metadata": {"name": "crash", "creationTimestamp": "2025-01-01T10:00:00Z"},
        "spec": {"containers": [{"name": "a"}, {"name": "b"}], "readinessGates": [{"conditionType": "example.com/lb"}, {"conditionType": "example.com/dns"}]},
        "status": {
            "phase": "Running",
            "nominatedNodeName": "node-2",
            "conditions": [{"type": "example.com/lb", "status": "True"}, {"type": "example.com/dns", "status": "False"}],
            "containerStatuses": [
                {"name": "a", "image": "", "imageID": "", "ready": false, "restartCount": 3,
                 "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                 "lastState": {"terminated": {"exitCode": 1, "finishedAt": "2025-01-01T11:55:00Z"}}},
                {"name": "b", "image": "", "imageID": "", "ready": true, "restartCount": 1,
                 "state": {"running": {}},
                 "lastState": {"terminated": {"exitCode": 2, "finishedAt": "2025-01-01T11:50:00Z"}}}
            ]
        }
    });
    assert_eq!(
        cells("", "pods", pod),
        json!([
            "crash",
            "1/2",
            "CrashLoopBackOff",
            "4 (5m ago)",
            "120m",
            "<none>",
            "<none>",
            "node-2",
            "1/2"
        ])
    );
}

#[test]
fn pod_init_containers_and_sidecars() {
    // A failing init container: Init:<reason>, restarts counted from init containers.
    let failing = json!({
        "metadata": {"name": "init", "creationTimestamp": "2025-01-01T11:59:00Z"},
        "spec": {"initContainers": [{"name": "setup"}, {"name": "migrate"}], "containers": [{"name": "app"}]},
        "status": {"phase": "Pending",
                   "initContainerStatuses": [
                       {"name": "setup", "image": "", "imageID": "", "ready": false, "restartCount": 2,
                        "state": {"waiting": {"reason": "CrashLoopBackOff"}}}],
                   "containerStatuses": [{"name": "app", "image": "", "imageID": "", "ready": false, "restartCount": 0,
                                          "state": {"waiting": {"reason": "PodInitializing"}}}]}
    });
    assert_eq!(
        cells_v("", "pods", failing)[..5],
        [
            json!("init"),
            json!("0/1"),
            json!("Init:CrashLoopBackOff"),
            json!("2"),
            json!("60s")
        ]
    );
    // The second of two init containers running: Init:1/2.
    let second = json!({
        "metadata": {"name": "init2"},
        "spec": {"initContainers": [{"name": "setup"}, {"name": "migrate"}], "containers": [{"name": "app"}]},
        "status": {"phase": "Pending",
                   "initContainerStatuses": [
                       {"name": "setup", "image": "", "imageID": "", "ready": false, "restartCount": 0, "state": {"terminated": {"exitCode": 0}}},
                       {"name": "migrate", "image": "", "imageID": "", "ready": false, "restartCount": 0, "state": {"running": {}}}]}
    });
    assert_eq!(
        cells_v("", "pods", second)[..5],
        [
            json!("init2"),
            json!("0/1"),
            json!("Init:1/2"),
            json!("0"),
            json!("<unknown>")
        ]
    );
    // A started sidecar (restartPolicy Always) counts in READY and in the total.
    let sidecar = json!({
        "metadata": {"name": "side"},
        "spec": {"initContainers": [{"name": "proxy", "restartPolicy": "Always"}], "containers": [{"name": "app"}]},
        "status": {"phase": "Running",
                   "conditions": [{"type": "Initialized", "status": "True"}],
                   "initContainerStatuses": [{"name": "proxy", "image": "", "imageID": "", "ready": true, "started": true, "restartCount": 1, "state": {"running": {}}}],
                   "containerStatuses": [{"name": "app", "image": "", "imageID": "", "ready": true, "restartCount": 0, "state": {"running": {}}}]}
    });
    assert_eq!(
        cells_v("", "pods", sidecar)[..4],
        [json!("side"), json!("2/2"), json!("Running"), json!("1")]
    );
}

#[test]
fn pod_terminal_and_terminating() {
    let done = json!({
        "metadata": {"name": "job-x"},
        "spec": {"containers": [{"name": "c"}]},
        "status": {"phase": "Succeeded", "containerStatuses": [
            {"name": "c", "image": "", "imageID": "", "ready": false, "restartCount": 0, "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}]}
    });
    let t = one("", "pods", done);
    assert_eq!(
        arr(&t["rows"][0]["cells"])[..3],
        [json!("job-x"), json!("0/1"), json!("Completed")]
    );
    assert_eq!(
        t["rows"][0]["conditions"],
        json!([{"type": "Completed", "status": "True", "reason": "Succeeded", "message": "The pod has completed successfully."}])
    );
    let killed = json!({
        "metadata": {"name": "k"},
        "spec": {"containers": [{"name": "c"}]},
        "status": {"phase": "Failed", "containerStatuses": [
            {"name": "c", "image": "", "imageID": "", "ready": false, "restartCount": 0, "state": {"terminated": {"exitCode": 137, "signal": 9}}}]}
    });
    let t = one("", "pods", killed);
    assert_eq!(t["rows"][0]["cells"][2], "Signal:9");
    assert_eq!(t["rows"][0]["conditions"][0]["reason"], "Failed");
    let mut deleting = running_pod();
    deleting["metadata"]["deletionTimestamp"] = json!("2025-01-01T11:59:30Z");
    assert_eq!(cells("", "pods", deleting)[2], "Terminating");
    let mut lost = running_pod();
    lost["metadata"]["deletionTimestamp"] = json!("2025-01-01T11:59:30Z");
    lost["status"]["reason"] = json!("NodeLost");
    assert_eq!(cells("", "pods", lost)[2], "Unknown");
    let gated = json!({
        "metadata": {"name": "g"},
        "spec": {"containers": [{"name": "c"}], "schedulingGates": [{"name": "x"}]},
        "status": {"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}]}
    });
    assert_eq!(cells("", "pods", gated)[2], "SchedulingGated");
}

#[test]
fn deployments() {
    assert_eq!(
        columns("apps", "deployments"),
        [
            ("Name", "string", 0),
            ("Ready", "string", 0),
            ("Up-to-date", "string", 0),
            ("Available", "string", 0),
            ("Age", "string", 0),
            ("Containers", "string", 1),
            ("Images", "string", 1),
            ("Selector", "string", 1),
        ]
        .map(|(n, t, p)| (n.to_owned(), t.to_owned(), p))
    );
    let d = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default", "creationTimestamp": "2024-12-30T12:00:00Z"},
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "web"}, "matchExpressions": [{"key": "tier", "operator": "In", "values": ["front", "edge"]}, {"key": "canary", "operator": "DoesNotExist"}]},
            "template": {"metadata": {"labels": {"app": "web", "tier": "front"}},
                         "spec": {"containers": [{"name": "nginx", "image": "nginx:1.27"}, {"name": "log", "image": "fluent-bit:3"}]}}
        },
        "status": {"replicas": 3, "readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2}
    });
    assert_eq!(
        cells("apps", "deployments", d),
        json!([
            "web",
            "2/3",
            3,
            2,
            "2d",
            "nginx,log",
            "nginx:1.27,fluent-bit:3",
            "app=web,!canary,tier in (edge,front)"
        ])
    );
    // No replicas: the default of 1; no status: zeros; a bad operator: <invalid>.
    let bare = json!({
        "metadata": {"name": "bare"},
        "spec": {"selector": {"matchExpressions": [{"key": "a", "operator": "Near"}]}, "template": {}}
    });
    assert_eq!(
        cells("apps", "deployments", bare),
        json!(["bare", "0/1", 0, 0, "<unknown>", "", "", "<invalid>"])
    );
}

#[test]
fn replica_sets_stateful_sets_daemon_sets() {
    assert_eq!(
        columns("apps", "replicasets")[1..4],
        [
            ("Desired", "integer", 0),
            ("Current", "integer", 0),
            ("Ready", "integer", 0)
        ]
        .map(|(n, t, p)| (n.to_owned(), t.to_owned(), p))
    );
    let rs = json!({
        "metadata": {"name": "web-5d8f", "creationTimestamp": "2025-01-01T11:58:00Z"},
        "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web", "pod-template-hash": "5d8f"}},
                 "template": {"spec": {"containers": [{"name": "nginx", "image": "nginx"}]}}},
        "status": {"replicas": 3, "readyReplicas": 1}
    });
    assert_eq!(
        cells("apps", "replicasets", rs),
        json!([
            "web-5d8f",
            3,
            3,
            1,
            "2m",
            "nginx",
            "nginx",
            "app=web,pod-template-hash=5d8f"
        ])
    );
    assert_eq!(
        names(&columns("apps", "statefulsets")),
        ["Name", "Ready", "Age", "Containers", "Images"]
    );
    let sts = json!({
        "metadata": {"name": "db"},
        "spec": {"replicas": 2, "serviceName": "db", "selector": {"matchLabels": {"app": "db"}},
                 "template": {"spec": {"containers": [{"name": "pg", "image": "postgres:17"}]}}},
        "status": {"replicas": 2, "readyReplicas": 1}
    });
    assert_eq!(
        cells("apps", "statefulsets", sts),
        json!(["db", "1/2", "<unknown>", "pg", "postgres:17"])
    );
    assert_eq!(
        names(&columns("apps", "daemonsets")),
        [
            "Name",
            "Desired",
            "Current",
            "Ready",
            "Up-to-date",
            "Available",
            "Node Selector",
            "Age",
            "Containers",
            "Images",
            "Selector"
        ]
    );
    let ds = json!({
        "metadata": {"name": "agent", "creationTimestamp": "2025-01-01T11:00:00Z"},
        "spec": {"selector": {"matchLabels": {"app": "agent"}},
                 "template": {"spec": {"nodeSelector": {"kubernetes.io/os": "linux", "disk": "ssd"},
                                       "containers": [{"name": "agent", "image": "agent:1"}]}}},
        "status": {"desiredNumberScheduled": 4, "currentNumberScheduled": 3, "numberReady": 2, "updatedNumberScheduled": 3, "numberAvailable": 2, "numberMisscheduled": 0}
    });
    assert_eq!(
        cells("apps", "daemonsets", ds),
        json!([
            "agent",
            4,
            3,
            2,
            3,
            2,
            "disk=ssd,kubernetes.io/os=linux",
            "60m",
            "agent",
            "agent:1",
            "app=agent"
        ])
    );
}

#[test]
fn services() {
    assert_eq!(
        columns("", "services"),
        [
            ("Name", "string", 0),
            ("Type", "string", 0),
            ("Cluster-IP", "string", 0),
            ("External-IP", "string", 0),
            ("Port(s)", "string", 0),
            ("Age", "string", 0),
            ("Selector", "string", 1),
        ]
        .map(|(n, t, p)| (n.to_owned(), t.to_owned(), p))
    );
    let svc = json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "web", "creationTimestamp": "2025-01-01T11:59:30Z"},
        "spec": {"clusterIP": "10.96.0.10", "clusterIPs": ["10.96.0.10"],
                 "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": 80},
                           {"name": "https", "port": 443, "targetPort": 8443}],
                 "selector": {"app": "web"}}
    });
    assert_eq!(
        cells("", "services", svc),
        json!([
            "web",
            "ClusterIP",
            "10.96.0.10",
            "<none>",
            "80/TCP,443/TCP",
            "30s",
            "app=web"
        ])
    );
    let node_port = json!({
        "metadata": {"name": "np"},
        "spec": {"type": "NodePort", "clusterIP": "10.96.0.11", "externalIPs": ["192.0.2.1", "192.0.2.2"],
                 "ports": [{"port": 80, "nodePort": 30080, "protocol": "UDP"}]}
    });
    assert_eq!(
        cells("", "services", node_port),
        json!([
            "np",
            "NodePort",
            "10.96.0.11",
            "192.0.2.1,192.0.2.2",
            "80:30080/UDP",
            "<unknown>",
            "<none>"
        ])
    );
    let pending = json!({"metadata": {"name": "lb"}, "spec": {"type": "LoadBalancer", "ports": [{"port": 80, "nodePort": 31000}]}});
    assert_eq!(
        cells_v("", "services", pending)[1..5],
        [
            json!("LoadBalancer"),
            json!("<none>"),
            json!("<pending>"),
            json!("80:31000/TCP")
        ]
    );
    let lb = json!({
        "metadata": {"name": "lb"},
        "spec": {"type": "LoadBalancer", "clusterIP": "10.96.0.12", "externalIPs": ["192.0.2.9"]},
        "status": {"loadBalancer": {"ingress": [{"ip": "203.0.113.7"}, {"hostname": "lb.example.com"}, {"ip": "203.0.113.7"}]}}
    });
    assert_eq!(
        cells("", "services", lb)[3],
        "203.0.113.7,lb.example.com,192.0.2.9"
    );
    let ext = json!({"metadata": {"name": "db"}, "spec": {"type": "ExternalName", "externalName": "db.example.com"}});
    assert_eq!(
        cells_v("", "services", ext)[2..5],
        [json!("<none>"), json!("db.example.com"), json!("<none>")]
    );
    let headless =
        json!({"metadata": {"name": "h"}, "spec": {"clusterIP": "None", "clusterIPs": ["None"]}});
    assert_eq!(cells("", "services", headless)[2], "None");
}

#[test]
fn config_maps_secrets_service_accounts() {
    assert_eq!(names(&columns("", "configmaps")), ["Name", "Data", "Age"]);
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap",
                    "metadata": {"name": "cfg", "creationTimestamp": "2025-01-01T11:59:00Z"},
                    "data": {"a": "1", "b": "2"}, "binaryData": {"c": "AAE="}});
    assert_eq!(cells("", "configmaps", cm), json!(["cfg", 3, "60s"]));
    assert_eq!(
        names(&columns("", "secrets")),
        ["Name", "Type", "Data", "Age"]
    );
    let secret = json!({"apiVersion": "v1", "kind": "Secret",
                        "metadata": {"name": "tls", "creationTimestamp": "2024-12-01T12:00:00Z"},
                        "type": "kubernetes.io/tls", "data": {"tls.crt": "Y2VydA==", "tls.key": "a2V5"}});
    assert_eq!(
        cells("", "secrets", secret),
        json!(["tls", "kubernetes.io/tls", 2, "31d"])
    );
    let opaque = json!({"metadata": {"name": "empty"}});
    assert_eq!(
        cells("", "secrets", opaque),
        json!(["empty", "Opaque", 0, "<unknown>"])
    );
    assert_eq!(
        names(&columns("", "serviceaccounts")),
        ["Name", "Secrets", "Age"]
    );
    let sa = json!({"metadata": {"name": "default", "creationTimestamp": "2025-01-01T12:00:00Z"},
                    "secrets": [{"name": "default-token"}]});
    assert_eq!(
        cells("", "serviceaccounts", sa),
        json!(["default", 1, "0s"])
    );
}

#[test]
fn core_events() {
    assert_eq!(
        columns("", "events"),
        [
            ("Last Seen", "string", 0),
            ("Type", "string", 0),
            ("Reason", "string", 0),
            ("Object", "string", 0),
            ("Subobject", "string", 1),
            ("Source", "string", 1),
            ("Message", "string", 0),
            ("First Seen", "string", 1),
            ("Count", "string", 1),
            ("Name", "string", 1),
        ]
        .map(|(n, t, p)| (n.to_owned(), t.to_owned(), p))
    );
    let ev = json!({
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": "web-1.17a", "namespace": "default"},
        "involvedObject": {"kind": "Pod", "name": "web-1", "namespace": "default", "fieldPath": "spec.containers{nginx}"},
        "reason": "Pulled", "message": "  Container image \"nginx\" already present on machine\n", "type": "Normal",
        "source": {"component": "kubelet", "host": "node-1"},
        "firstTimestamp": "2025-01-01T11:50:00Z", "lastTimestamp": "2025-01-01T11:58:00Z", "count": 4
    });
    assert_eq!(
        cells("", "events", ev),
        json!([
            "2m",
            "Normal",
            "Pulled",
            "pod/web-1",
            "spec.containers{nginx}",
            "kubelet, node-1",
            "Container image \"nginx\" already present on machine",
            "10m",
            4,
            "web-1.17a"
        ])
    );
    // A new-style event written through core/v1: eventTime (59.876 s ago, truncated as Go
    // does), no count, reportingComponent.
    let singleton = json!({
        "metadata": {"name": "n.1"},
        "involvedObject": {"kind": "Node"},
        "reason": "Starting", "type": "Normal",
        "eventTime": "2025-01-01T11:59:00.123456Z",
        "reportingComponent": "kube-proxy", "reportingInstance": "node-1"
    });
    assert_eq!(
        cells("", "events", singleton),
        json!([
            "59s",
            "Normal",
            "Starting",
            "node",
            "",
            "kube-proxy, node-1",
            "",
            "59s",
            1,
            "n.1"
        ])
    );
}

#[test]
fn events_k8s_io_events() {
    let ev = json!({
        "apiVersion": "events.k8s.io/v1", "kind": "Event",
        "metadata": {"name": "web.2", "namespace": "default"},
        "eventTime": "2025-01-01T11:00:00.000000Z",
        "series": {"count": 7, "lastObservedTime": "2025-01-01T11:55:00.500000Z"},
        "reportingController": "default-scheduler", "reportingInstance": "default-scheduler-cp1",
        "action": "Scheduling", "reason": "FailedScheduling", "type": "Warning",
        "regarding": {"kind": "Pod", "name": "web", "namespace": "default"},
        "note": "0/1 nodes are available"
    });
    assert_eq!(
        cells("events.k8s.io", "events", ev),
        json!([
            "4m59s",
            "Warning",
            "FailedScheduling",
            "pod/web",
            "",
            "default-scheduler, default-scheduler-cp1",
            "0/1 nodes are available",
            "60m",
            7,
            "web.2"
        ])
    );
    assert_eq!(columns("events.k8s.io", "events"), columns("", "events"));
}

#[test]
fn namespaces_and_nodes() {
    assert_eq!(names(&columns("", "namespaces")), ["Name", "Status", "Age"]);
    let ns = json!({"metadata": {"name": "kube-system", "creationTimestamp": "2024-12-31T12:00:00Z"}, "status": {"phase": "Active"}});
    assert_eq!(
        cells("", "namespaces", ns),
        json!(["kube-system", "Active", "24h"])
    );
    let terminating = json!({"metadata": {"name": "old"}, "status": {"phase": "Terminating"}});
    assert_eq!(cells("", "namespaces", terminating)[1], "Terminating");
    let defaulted = json!({"metadata": {"name": "new"}});
    assert_eq!(cells("", "namespaces", defaulted)[1], "Active");

    assert_eq!(
        columns("", "nodes"),
        [
            ("Name", "string", 0),
            ("Status", "string", 0),
            ("Roles", "string", 0),
            ("Age", "string", 0),
            ("Version", "string", 0),
            ("Internal-IP", "string", 1),
            ("External-IP", "string", 1),
            ("OS-Image", "string", 1),
            ("Kernel-Version", "string", 1),
            ("Container-Runtime", "string", 1),
        ]
        .map(|(n, t, p)| (n.to_owned(), t.to_owned(), p))
    );
    let node = json!({
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": "cp-1", "creationTimestamp": "2024-12-22T12:00:00Z",
                     "labels": {"node-role.kubernetes.io/control-plane": "", "node-role.kubernetes.io/etcd": "", "kubernetes.io/role": "master"}},
        "spec": {"unschedulable": true},
        "status": {
            "conditions": [{"type": "MemoryPressure", "status": "False"}, {"type": "Ready", "status": "True"}],
            "addresses": [{"type": "Hostname", "address": "cp-1"}, {"type": "InternalIP", "address": "192.168.1.10"}],
            "nodeInfo": {"kubeletVersion": "v1.33.1", "osImage": "Debian GNU/Linux 13 (trixie)", "kernelVersion": "6.12.0",
                         "containerRuntimeVersion": "containerd://2.0.4", "architecture": "amd64", "bootID": "", "kubeProxyVersion": "",
                         "machineID": "", "operatingSystem": "linux", "systemUUID": ""}
        }
    });
    assert_eq!(
        cells("", "nodes", node),
        json!([
            "cp-1",
            "Ready,SchedulingDisabled",
            "control-plane,etcd,master",
            "10d",
            "v1.33.1",
            "192.168.1.10",
            "<none>",
            "Debian GNU/Linux 13 (trixie)",
            "6.12.0",
            "containerd://2.0.4"
        ])
    );
    let bare = json!({"metadata": {"name": "w"}, "status": {"conditions": [{"type": "Ready", "status": "Unknown"}]}});
    assert_eq!(
        cells("", "nodes", bare),
        json!([
            "w",
            "NotReady",
            "<none>",
            "<unknown>",
            "",
            "<none>",
            "<none>",
            "<unknown>",
            "<unknown>",
            "<unknown>"
        ])
    );
    assert_eq!(
        cells("", "nodes", json!({"metadata": {"name": "x"}}))[1],
        "Unknown"
    );
}

#[test]
fn persistent_volume_claims() {
    assert_eq!(
        names(&columns("", "persistentvolumeclaims")),
        [
            "Name",
            "Status",
            "Volume",
            "Capacity",
            "Access Modes",
            "StorageClass",
            "VolumeAttributesClass",
            "Age",
            "VolumeMode"
        ]
    );
    let bound = json!({
        "metadata": {"name": "data", "creationTimestamp": "2025-01-01T11:00:00Z"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}},
                 "storageClassName": "standard", "volumeName": "pvc-123", "volumeMode": "Block"},
        "status": {"phase": "Bound", "capacity": {"storage": "2Gi"}, "accessModes": ["ReadWriteOncePod", "ReadWriteOnce", "ReadOnlyMany"]}
    });
    assert_eq!(
        cells("", "persistentvolumeclaims", bound),
        json!([
            "data",
            "Bound",
            "pvc-123",
            "2Gi",
            "RWO,ROX,RWOP",
            "standard",
            "<unset>",
            "60m",
            "Block"
        ])
    );
    let pending = json!({
        "metadata": {"name": "p", "annotations": {"volume.beta.kubernetes.io/storage-class": "fast"}},
        "spec": {"storageClassName": "standard", "volumeAttributesClassName": "gold"}
    });
    assert_eq!(
        cells("", "persistentvolumeclaims", pending),
        json!([
            "p",
            "Pending",
            "",
            "",
            "",
            "fast",
            "gold",
            "<unknown>",
            "Filesystem"
        ])
    );
}

#[test]
fn endpoints_and_endpoint_slices() {
    assert_eq!(
        names(&columns("", "endpoints")),
        ["Name", "Endpoints", "Age"]
    );
    let ep = json!({
        "metadata": {"name": "web"},
        "subsets": [
            {"addresses": [{"ip": "10.244.0.5"}, {"ip": "10.244.0.6"}], "ports": [{"port": 80}, {"port": 443}]},
            {"addresses": [{"ip": "fd00::7"}], "ports": [{"port": 8080}]}
        ]
    });
    assert_eq!(
        cells("", "endpoints", ep)[1],
        "10.244.0.5:80,10.244.0.6:80,10.244.0.5:443 + 2 more..."
    );
    let v6 = json!({"metadata": {"name": "v6"}, "subsets": [{"addresses": [{"ip": "fd00::7"}], "ports": [{"port": 8080}]}, {"addresses": [{"ip": "10.0.0.1"}]}]});
    assert_eq!(cells("", "endpoints", v6)[1], "[fd00::7]:8080,10.0.0.1");
    assert_eq!(
        cells("", "endpoints", json!({"metadata": {"name": "e"}}))[1],
        "<none>"
    );

    assert_eq!(
        names(&columns("discovery.k8s.io", "endpointslices")),
        ["Name", "AddressType", "Ports", "Endpoints", "Age"]
    );
    let slice = json!({
        "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
        "metadata": {"name": "web-abc12", "creationTimestamp": "2025-01-01T11:59:50Z"},
        "addressType": "IPv4",
        "ports": [{"name": "http", "port": 80}, {"name": "metrics"}, {}, {"port": 9000}],
        "endpoints": [{"addresses": ["10.244.0.5"]}, {"addresses": ["10.244.0.6", "10.244.0.7"]}, {"addresses": ["10.244.0.8"]}]
    });
    assert_eq!(
        cells("discovery.k8s.io", "endpointslices", slice),
        json!([
            "web-abc12",
            "IPv4",
            "80,metrics,* + 1 more...",
            "10.244.0.5,10.244.0.6,10.244.0.7 + 1 more...",
            "10s"
        ])
    );
    let empty = json!({"metadata": {"name": "e"}, "addressType": "IPv6", "endpoints": []});
    assert_eq!(
        cells_v("discovery.k8s.io", "endpointslices", empty)[1..4],
        [json!("IPv6"), json!("<unset>"), json!("<unset>")]
    );
}

#[test]
fn leases_and_bindings() {
    assert_eq!(
        names(&columns("coordination.k8s.io", "leases")),
        ["Name", "Holder", "Age"]
    );
    let lease = json!({"metadata": {"name": "kube-scheduler", "creationTimestamp": "2025-01-01T11:59:59Z"},
                       "spec": {"holderIdentity": "cp-1_8f2c", "leaseDurationSeconds": 15}});
    assert_eq!(
        cells("coordination.k8s.io", "leases", lease),
        json!(["kube-scheduler", "cp-1_8f2c", "1s"])
    );
    assert_eq!(
        cells(
            "coordination.k8s.io",
            "leases",
            json!({"metadata": {"name": "l"}, "spec": {}})
        )[1],
        ""
    );

    let rbac = "rbac.authorization.k8s.io";
    assert_eq!(
        columns(rbac, "rolebindings"),
        [
            ("Name", "string", 0),
            ("Role", "string", 0),
            ("Age", "string", 0),
            ("Users", "string", 1),
            ("Groups", "string", 1),
            ("ServiceAccounts", "string", 1),
        ]
        .map(|(n, t, p)| (n.to_owned(), t.to_owned(), p))
    );
    let rb = json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
        "metadata": {"name": "readers", "namespace": "demo", "creationTimestamp": "2025-01-01T09:00:00Z"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
        "subjects": [
            {"kind": "User", "name": "alice", "apiGroup": "rbac.authorization.k8s.io"},
            {"kind": "ServiceAccount", "name": "reader", "namespace": "demo"},
            {"kind": "Group", "name": "devs", "apiGroup": "rbac.authorization.k8s.io"},
            {"kind": "User", "name": "bob", "apiGroup": "rbac.authorization.k8s.io"},
            {"kind": "ServiceAccount", "name": "ci", "namespace": "tools"}
        ]
    });
    assert_eq!(
        cells(rbac, "rolebindings", rb),
        json!([
            "readers",
            "ClusterRole/view",
            "3h",
            "alice, bob",
            "devs",
            "demo/reader, tools/ci"
        ])
    );
    let crb = json!({"metadata": {"name": "admins"}, "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"}});
    assert_eq!(
        cells(rbac, "clusterrolebindings", crb),
        json!([
            "admins",
            "ClusterRole/cluster-admin",
            "<unknown>",
            "",
            "",
            ""
        ])
    );
}

#[test]
fn default_convertor_for_roles_and_reviews() {
    let rbac = "rbac.authorization.k8s.io";
    for res in ["roles", "clusterroles"] {
        assert_eq!(
            columns(rbac, res),
            [
                ("Name".to_owned(), "string".to_owned(), 0),
                ("Created At".to_owned(), "date".to_owned(), 0)
            ]
        );
    }
    let role = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
                      "metadata": {"name": "pod-reader", "creationTimestamp": "2024-06-01T08:30:00Z"},
                      "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]});
    assert_eq!(
        cells(rbac, "roles", role),
        json!(["pod-reader", "2024-06-01T08:30:00Z"])
    );
    assert_eq!(
        cells(rbac, "clusterroles", json!({"metadata": {"name": "x"}})),
        json!(["x", "0001-01-01T00:00:00Z"])
    );
    let review = find("authorization.k8s.io", "v1", "selfsubjectaccessreviews").unwrap();
    assert_eq!(
        column_definitions(review),
        column_definitions(resource(rbac, "roles"))
    );
}

#[test]
fn column_descriptions_are_upstreams() {
    let cols = column_definitions(resource("", "configmaps"));
    assert_eq!(
        cols[0]["description"],
        "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names"
    );
    assert_eq!(
        cols[1],
        json!({"name": "Data", "type": "string", "format": "", "priority": 0,
               "description": "Data contains the configuration data. Each key must consist of alphanumeric characters, '-', '_' or '.'. Values with non-UTF-8 byte sequences must use the BinaryData field. The keys stored in Data must not overlap with the keys in the BinaryData field, this is enforced during validation process."})
    );
    assert_eq!(
        cols[2]["description"],
        "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"
    );
    let lease = column_definitions(resource("coordination.k8s.io", "leases"));
    assert_eq!(
        lease[1]["description"],
        "holderIdentity contains the identity of the holder of a current lease. If Coordinated Leader Election is used, the holder identity must be equal to the elected LeaseCandidate.metadata.name field."
    );
    assert_eq!(
        column_definitions(resource("", "nodes"))[1]["description"],
        "The status of the node"
    );
}

#[test]
fn every_resource_prints_every_column() {
    let defaulted: Vec<&str> = RESOURCES
        .iter()
        .filter(|r| printer_for(r).is_none())
        .map(|r| r.resource)
        .collect();
    assert_eq!(
        defaulted,
        ["selfsubjectaccessreviews", "clusterroles", "roles"]
    );
    for r in RESOURCES {
        let cols = column_definitions(r);
        let cols = cols.as_array().unwrap();
        for c in cols {
            assert!(
                !c["description"].as_str().unwrap().is_empty(),
                "{} {}",
                r.resource,
                c["name"]
            );
        }
        for obj in [json!({}), json!({"metadata": {"name": "x"}}), json!(null)] {
            let t = table_at(r, &[obj], json!({}), IncludeObject::None, now());
            assert_eq!(
                t["rows"][0]["cells"].as_array().unwrap().len(),
                cols.len(),
                "{}",
                r.qualified()
            );
        }
    }
}

#[test]
fn an_object_that_does_not_decode_still_prints() {
    let bad = json!({"metadata": {"name": "odd", "creationTimestamp": "2025-01-01T11:59:00Z"},
                     "spec": {"replicas": "three", "template": {}}});
    let good = json!({"metadata": {"name": "fine"}, "spec": {"replicas": 2, "template": {}, "selector": {}}});
    let t = table_at(
        resource("apps", "deployments"),
        &[bad, good],
        json!({}),
        IncludeObject::Metadata,
        now(),
    );
    assert_eq!(
        t["rows"][0]["cells"],
        json!(["odd", "0/1", 0, 0, "60s", "", "", ""])
    );
    assert_eq!(
        arr(&t["rows"][1]["cells"])[..2],
        [json!("fine"), json!("0/2")]
    );
    let no_meta = json!({"metadata": {"name": "n", "labels": "not-a-map"}, "data": 5});
    assert_eq!(
        cells("", "configmaps", no_meta),
        json!(["n", 0, "<unknown>"])
    );
}

#[test]
fn include_object_modes() {
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "uid": "u-1", "labels": {"a": "b"}}, "data": {"k": "v"}});
    let r = resource("", "configmaps");
    let meta = table_at(
        r,
        std::slice::from_ref(&cm),
        json!({"resourceVersion": "3"}),
        IncludeObject::Metadata,
        now(),
    );
    assert_eq!(
        meta["rows"][0]["object"],
        json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": {"name": "c", "uid": "u-1", "labels": {"a": "b"}}})
    );
    assert_eq!(meta["metadata"], json!({"resourceVersion": "3"}));
    let whole = table_at(
        r,
        std::slice::from_ref(&cm),
        json!({}),
        IncludeObject::Object,
        now(),
    );
    assert_eq!(whole["rows"][0]["object"], cm);
    let none = table_at(r, &[cm], json!({}), IncludeObject::None, now());
    assert!(none["rows"][0].get("object").is_none());
    let empty = table_at(r, &[], json!({}), IncludeObject::Metadata, now());
    assert_eq!(empty["rows"], json!([]));
    assert_eq!(empty["columnDefinitions"].as_array().unwrap().len(), 3);
}
