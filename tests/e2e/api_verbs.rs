//! `pod-introspect api` verbs on any resource (the guest's dynamic client resolving kubectl-style
//! names through discovery): create, get, list, patch (json, merge, strategic), replace, apply,
//! delete and deletecollection on pods, configmaps, apps/v1 deployments and
//! coordination.k8s.io/v1 leases; the conflicts of replace and server-side apply; a watch that
//! lives through a 410; RBAC denials; `label` / `annotate self`. Real host + real guest + the
//! API-server emulator over TLS on loopback.

use crate::cluster::{Cluster, InClusterPod, own_namespace_rules};
use crate::harness::{parse_json, stderr, stdout};
use pod_introspect_apiserver::{ClusterOptions, RbacRules};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

/// The JSON of a command that must exit 0.
pub(crate) fn ok(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "exit {}: {}\n{}",
        out.status,
        stdout(out),
        stderr(out)
    );
    parse_json(out)
}

/// The `error` object of a command that must fail with exit status 1.
pub(crate) fn error_of(out: &Output) -> Value {
    assert_eq!(
        out.status.code(),
        Some(1),
        "expected exit 1: {}\n{}",
        stdout(out),
        stderr(out)
    );
    let v = parse_json(out);
    assert!(v["error"].is_object(), "no error object: {v}");
    v["error"].clone()
}

/// The `metadata.name`s of a list's items, in the order served.
pub(crate) fn names(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items: {list}"))
        .iter()
        .map(|o| {
            o["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect()
}

/// Writes `text` to `dir/name`; its path as a string.
fn manifest(dir: &Path, name: &str, text: &str) -> String {
    let path: PathBuf = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

/// A cluster where every ServiceAccount may do everything in its own namespace, and the pod
/// `runner` in `namespace` that runs the commands.
fn setup(namespace: &str) -> (Cluster, InClusterPod) {
    let cluster = Cluster::start(ClusterOptions {
        rbac: Some(own_namespace_rules()),
        ..Default::default()
    });
    let pod = InClusterPod::new(&cluster, namespace, "runner");
    (cluster, pod)
}

/// `api ARGS` in `pod`.
fn api(pod: &InClusterPod, args: &[&str]) -> Output {
    let mut all = vec!["api"];
    all.extend_from_slice(args);
    pod.run(&all, &[])
}

/// Asserts that `get RESOURCE NAME` is now answered 404 (`kind: not-found`).
fn assert_gone(pod: &InClusterPod, resource: &str, name: &str) {
    let e = error_of(&api(pod, &["get", resource, name]));
    assert_eq!(e["kind"], "not-found", "{e}");
    assert_eq!(e["code"], 404, "{e}");
    assert_eq!(e["reason"], "NotFound", "{e}");
}

/// Pods: create from YAML (own namespace and `-n`), get by the short name `po`, list with `-l`,
/// the three patch types, replace, server-side apply, delete with `--grace-period 0` (pods
/// answer the deleted object: `ReturnDeletedObject` in the pod registry), deletecollection by
/// label (upstream answers the list of deleted objects), then 404s.
#[test]
fn every_verb_on_pods() {
    let (_cluster, pod) = setup("verbs");
    let dir = tempfile::tempdir().unwrap();
    let worker = |name: &str, batch: &str| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  labels:\n    app: worker\n    batch: \"{batch}\"\nspec:\n  containers:\n  - name: main\n    image: registry.example/worker:1.0\n"
        )
    };
    let f1 = manifest(dir.path(), "w1.yaml", &worker("worker-1", "1"));
    let created = ok(&api(&pod, &["create", "-f", &f1]));
    assert_eq!(created["kind"], "Pod");
    assert_eq!(created["metadata"]["name"], "worker-1");
    assert_eq!(
        created["metadata"]["namespace"], "verbs",
        "this pod's namespace by default"
    );
    assert!(
        created["metadata"]["uid"]
            .as_str()
            .is_some_and(|u| !u.is_empty()),
        "{created}"
    );
    let f2 = manifest(dir.path(), "w2.yaml", &worker("worker-2", "2"));
    let created2 = ok(&api(&pod, &["create", "-f", &f2, "-n", "verbs"]));
    assert_eq!(created2["metadata"]["namespace"], "verbs");
    let f3 = manifest(dir.path(), "w3.yaml", &worker("worker-3", "2"));
    ok(&api(&pod, &["create", "-f", &f3]));

    // A second create of the same name: 409 AlreadyExists is a conflict.
    let e = error_of(&api(&pod, &["create", "-f", &f1]));
    assert_eq!(e["kind"], "conflict", "{e}");
    assert_eq!(e["code"], 409, "{e}");
    assert_eq!(e["reason"], "AlreadyExists", "{e}");

    let got = ok(&api(&pod, &["get", "po", "worker-1"]));
    assert_eq!(got["metadata"]["uid"], created["metadata"]["uid"]);
    assert_eq!(
        got["spec"]["containers"][0]["image"],
        "registry.example/worker:1.0"
    );

    let list = ok(&api(&pod, &["list", "pods", "-l", "app=worker"]));
    assert_eq!(list["kind"], "List");
    assert_eq!(list["apiVersion"], "v1");
    assert!(
        list["metadata"]["resourceVersion"].as_str().is_some(),
        "{list}"
    );
    assert_eq!(
        names(&list),
        ["worker-1", "worker-2", "worker-3"],
        "not `runner` (app=web)"
    );
    assert_eq!(list["items"][0]["kind"], "Pod", "items carry their kind");
    assert_eq!(list["items"][0]["apiVersion"], "v1");
    let list = ok(&api(&pod, &["get", "pods", "-l", "app=worker,batch=2"]));
    assert_eq!(
        names(&list),
        ["worker-2", "worker-3"],
        "get without NAME lists"
    );

    let merged = ok(&api(
        &pod,
        &[
            "patch",
            "pods",
            "worker-1",
            "--type",
            "merge",
            "-p",
            r#"{"metadata":{"labels":{"stage":"merged"}}}"#,
        ],
    ));
    assert_eq!(
        merged["metadata"]["labels"],
        json!({"app": "worker", "batch": "1", "stage": "merged"})
    );
    let strategic = ok(&api(
        &pod,
        &[
            "patch",
            "po",
            "worker-1",
            "--type",
            "strategic",
            "-p",
            r#"{"metadata":{"annotations":{"note":"strategic"}}}"#,
        ],
    ));
    assert_eq!(strategic["metadata"]["annotations"]["note"], "strategic");
    assert_eq!(
        strategic["metadata"]["labels"]["stage"], "merged",
        "a patch keeps the rest"
    );
    let jsonp = ok(&api(
        &pod,
        &[
            "patch",
            "pods",
            "worker-1",
            "--type",
            "json",
            "-p",
            r#"[{"op":"replace","path":"/metadata/labels/batch","value":"9"},{"op":"remove","path":"/metadata/labels/stage"}]"#,
        ],
    ));
    assert_eq!(
        jsonp["metadata"]["labels"],
        json!({"app": "worker", "batch": "9"})
    );

    // Replace: the object as read, with a changed label and its resourceVersion.
    let mut whole = ok(&api(&pod, &["get", "pods", "worker-1"]));
    whole["metadata"]["labels"]["replaced"] = json!("yes");
    let f = manifest(dir.path(), "w1-replace.json", &whole.to_string());
    let replaced = ok(&api(&pod, &["replace", "-f", &f]));
    assert_eq!(replaced["metadata"]["labels"]["replaced"], "yes");
    assert_ne!(
        replaced["metadata"]["resourceVersion"],
        whole["metadata"]["resourceVersion"]
    );

    // Server-side apply of a partial object: only the applied label changes.
    let f = manifest(
        dir.path(),
        "w1-apply.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: worker-1\n  labels:\n    applied: \"true\"\n",
    );
    let applied = ok(&api(
        &pod,
        &["apply", "-f", &f, "--field-manager", "verbs-e2e"],
    ));
    assert_eq!(applied["metadata"]["labels"]["applied"], "true");
    assert_eq!(applied["metadata"]["labels"]["replaced"], "yes");
    assert_eq!(
        applied["spec"]["containers"][0]["image"],
        "registry.example/worker:1.0"
    );
    assert!(
        applied["metadata"]["managedFields"]
            .as_array()
            .is_some_and(|m| m
                .iter()
                .any(|e| e["manager"] == "verbs-e2e" && e["operation"] == "Apply")),
        "{applied}"
    );
    // apply without --field-manager is refused before anything is sent.
    let out = api(&pod, &["apply", "-f", &f]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("--field-manager"), "{}", stderr(&out));

    let deleted = ok(&api(
        &pod,
        &["delete", "pods", "worker-1", "--grace-period", "0"],
    ));
    assert_eq!(
        deleted["kind"], "Pod",
        "pods answer the deleted object: {deleted}"
    );
    assert_eq!(deleted["metadata"]["name"], "worker-1");
    assert_gone(&pod, "po", "worker-1");

    let gone = ok(&api(&pod, &["delete", "pods", "-l", "batch=2"]));
    let mut deleted_names = names(&gone);
    deleted_names.sort();
    assert_eq!(deleted_names, ["worker-2", "worker-3"], "{gone}");
    let left = ok(&api(&pod, &["list", "pods"]));
    assert_eq!(
        names(&left),
        ["runner"],
        "deletecollection removed exactly the labelled ones"
    );
}

/// ConfigMaps: create, get by the short name `cm`, list with `-l`, merge / strategic / json
/// patches (upstream: a strategic patch of `data` merges keys; a JSON patch `remove` drops
/// one), replace, server-side apply alongside another manager's fields, deletecollection with
/// `-l` (exactly the labelled ones go), delete by name (a `Success` Status with the name, as
/// upstream answers for resources without `ReturnDeletedObject`), then 404.
#[test]
fn every_verb_on_configmaps() {
    let (_cluster, pod) = setup("verbs");
    let dir = tempfile::tempdir().unwrap();
    for (name, group) in [("cm-a", "one"), ("cm-b", "one"), ("cm-c", "two")] {
        let f = manifest(
            dir.path(),
            &format!("{name}.yaml"),
            &format!(
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  labels: {{group: {group}}}\ndata:\n  key: v1\n"
            ),
        );
        let c = ok(&api(&pod, &["create", "-f", &f]));
        assert_eq!(c["metadata"]["name"], name);
        assert_eq!(c["data"], json!({"key": "v1"}));
    }
    // --dry-run admits without storing.
    let f = manifest(
        dir.path(),
        "dry.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-dry}\ndata: {key: dry}\n",
    );
    let dry = ok(&api(&pod, &["create", "-f", &f, "--dry-run"]));
    assert_eq!(dry["data"]["key"], "dry");
    assert_gone(&pod, "cm", "cm-dry");

    let got = ok(&api(&pod, &["get", "cm", "cm-a"]));
    assert_eq!(got["kind"], "ConfigMap");
    assert_eq!(got["data"]["key"], "v1");
    let list = ok(&api(&pod, &["list", "configmaps", "-l", "group=one"]));
    assert_eq!(names(&list), ["cm-a", "cm-b"]);
    assert_eq!(list["items"][1]["kind"], "ConfigMap");
    assert_eq!(list["items"][1]["apiVersion"], "v1");

    let p = ok(&api(
        &pod,
        &[
            "patch",
            "cm",
            "cm-a",
            "--type",
            "merge",
            "-p",
            r#"{"data":{"key":"v2"}}"#,
        ],
    ));
    assert_eq!(p["data"], json!({"key": "v2"}));
    let p = ok(&api(
        &pod,
        &[
            "patch",
            "configmaps",
            "cm-a",
            "--type",
            "strategic",
            "-p",
            r#"{"data":{"other":"x"}}"#,
        ],
    ));
    assert_eq!(p["data"], json!({"key": "v2", "other": "x"}));
    let p = ok(&api(
        &pod,
        &[
            "patch",
            "cm",
            "cm-a",
            "--type",
            "json",
            "-p",
            r#"[{"op":"remove","path":"/data/other"}]"#,
        ],
    ));
    assert_eq!(p["data"], json!({"key": "v2"}));

    let mut whole = ok(&api(&pod, &["get", "cm", "cm-a"]));
    whole["data"] = json!({"key": "v3"});
    let f = manifest(dir.path(), "cm-a-replace.json", &whole.to_string());
    let r = ok(&api(&pod, &["replace", "-f", &f]));
    assert_eq!(r["data"], json!({"key": "v3"}));

    let f = manifest(
        dir.path(),
        "cm-a-apply.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-a\ndata:\n  applied: \"1\"\n",
    );
    let a = ok(&api(
        &pod,
        &["apply", "-f", &f, "--field-manager", "verbs-e2e"],
    ));
    assert_eq!(
        a["data"],
        json!({"key": "v3", "applied": "1"}),
        "apply keeps other managers' fields"
    );

    let dc = ok(&api(&pod, &["delete", "cm", "-l", "group=one"]));
    let mut gone = names(&dc);
    gone.sort();
    assert_eq!(gone, ["cm-a", "cm-b"], "{dc}");
    let left = ok(&api(&pod, &["list", "cm"]));
    assert_eq!(
        names(&left),
        ["cm-c"],
        "deletecollection removed exactly the labelled ones"
    );

    let d = ok(&api(&pod, &["delete", "configmaps", "cm-c"]));
    assert_eq!(d["kind"], "Status", "{d}");
    assert_eq!(d["status"], "Success", "{d}");
    assert_eq!(d["details"]["name"], "cm-c", "{d}");
    assert_gone(&pod, "cm", "cm-a");
    assert_gone(&pod, "configmaps", "cm-c");
    // Deleting what is not there is a not-found too.
    let e = error_of(&api(&pod, &["delete", "cm", "cm-c"]));
    assert_eq!(e["kind"], "not-found");
    assert_eq!(e["code"], 404);
}

/// apps/v1 Deployments: create, get by `deploy`, list by `deployments.apps -l`, the `scale`
/// subresource (kubectl scale's merge patch of `spec.replicas` on an `autoscaling/v1` Scale,
/// and `get --subresource scale`), a strategic patch that merges `containers` by name (a merge
/// patch would replace the list), a merge and a json patch, replace, apply, delete, 404.
#[test]
fn every_verb_on_deployments() {
    let (_cluster, pod) = setup("verbs");
    let dir = tempfile::tempdir().unwrap();
    let f = manifest(
        dir.path(),
        "deploy.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  labels: {tier: front}\nspec:\n  replicas: 2\n  selector:\n    matchLabels: {app: web-deploy}\n  template:\n    metadata:\n      labels: {app: web-deploy}\n    spec:\n      containers:\n      - name: app\n        image: nginx:1.27\n      - name: sidecar\n        image: registry.example/sidecar:2\n",
    );
    let c = ok(&api(&pod, &["create", "-f", &f]));
    assert_eq!(c["kind"], "Deployment");
    assert_eq!(c["apiVersion"], "apps/v1");
    assert_eq!(c["spec"]["replicas"], 2);

    let got = ok(&api(&pod, &["get", "deploy", "web"]));
    assert_eq!(got["metadata"]["uid"], c["metadata"]["uid"]);
    let list = ok(&api(
        &pod,
        &["list", "deployments.apps", "-l", "tier=front"],
    ));
    assert_eq!(names(&list), ["web"]);
    assert_eq!(list["items"][0]["kind"], "Deployment");
    assert_eq!(list["items"][0]["apiVersion"], "apps/v1");
    let none = ok(&api(&pod, &["list", "deploy", "-l", "tier=back"]));
    assert_eq!(names(&none), Vec::<String>::new());

    let scale = ok(&api(
        &pod,
        &[
            "patch",
            "deploy",
            "web",
            "--subresource",
            "scale",
            "--type",
            "merge",
            "-p",
            r#"{"spec":{"replicas":3}}"#,
        ],
    ));
    assert_eq!(scale["kind"], "Scale", "{scale}");
    assert_eq!(scale["apiVersion"], "autoscaling/v1");
    assert_eq!(scale["spec"]["replicas"], 3);
    let scale = ok(&api(
        &pod,
        &["get", "deploy", "web", "--subresource", "scale"],
    ));
    assert_eq!(scale["kind"], "Scale");
    assert_eq!(scale["spec"]["replicas"], 3);
    assert_eq!(scale["metadata"]["name"], "web");
    let got = ok(&api(&pod, &["get", "deployments", "web"]));
    assert_eq!(
        got["spec"]["replicas"], 3,
        "the scale subresource is spec.replicas"
    );

    let s = ok(&api(
        &pod,
        &[
            "patch",
            "deploy",
            "web",
            "-p",
            r#"{"spec":{"template":{"spec":{"containers":[{"name":"app","image":"nginx:1.28"}]}}}}"#,
        ],
    ));
    let containers = &s["spec"]["template"]["spec"]["containers"];
    assert_eq!(
        containers.as_array().map(Vec::len),
        Some(2),
        "merged by name: {containers}"
    );
    assert_eq!(containers[0]["name"], "app");
    assert_eq!(containers[0]["image"], "nginx:1.28");
    assert_eq!(containers[1]["name"], "sidecar");
    assert_eq!(containers[1]["image"], "registry.example/sidecar:2");

    let m = ok(&api(
        &pod,
        &[
            "patch",
            "deploy",
            "web",
            "--type",
            "merge",
            "-p",
            r#"{"metadata":{"annotations":{"owner":"e2e"}}}"#,
        ],
    ));
    assert_eq!(m["metadata"]["annotations"]["owner"], "e2e");
    let j = ok(&api(
        &pod,
        &[
            "patch",
            "deploy",
            "web",
            "--type",
            "json",
            "-p",
            r#"[{"op":"replace","path":"/spec/replicas","value":4}]"#,
        ],
    ));
    assert_eq!(j["spec"]["replicas"], 4);

    let mut whole = ok(&api(&pod, &["get", "deploy", "web"]));
    whole["spec"]["replicas"] = json!(1);
    let f = manifest(dir.path(), "deploy-replace.json", &whole.to_string());
    let r = ok(&api(&pod, &["replace", "-f", &f]));
    assert_eq!(r["spec"]["replicas"], 1);
    assert_eq!(
        r["spec"]["template"]["spec"]["containers"][0]["image"],
        "nginx:1.28"
    );

    let f = manifest(
        dir.path(),
        "deploy-apply.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  labels: {applied: \"yes\"}\n",
    );
    let a = ok(&api(
        &pod,
        &["apply", "-f", &f, "--field-manager", "verbs-e2e"],
    ));
    assert_eq!(
        a["metadata"]["labels"],
        json!({"tier": "front", "applied": "yes"})
    );
    assert_eq!(a["spec"]["replicas"], 1);

    let d = ok(&api(
        &pod,
        &["delete", "deploy", "web", "--cascade", "foreground"],
    ));
    // Foreground deletion puts the foregroundDeletion finalizer on the object (upstream answers
    // 200 with the object, still there, deletionTimestamp set) or, when nothing depends on it
    // and the emulator removes it at once, a Success Status.
    let removed =
        d["kind"] == "Status" && d["status"] == "Success" && d["details"]["name"] == "web";
    let pending = d["kind"] == "Deployment" && d["metadata"]["deletionTimestamp"].is_string();
    assert!(removed || pending, "{d}");
    if removed {
        assert_gone(&pod, "deploy", "web");
    }
    // A background delete of a second one answers Success and the object is gone.
    let f = manifest(
        dir.path(),
        "deploy2.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api}\nspec:\n  selector: {matchLabels: {app: api}}\n  template:\n    metadata: {labels: {app: api}}\n    spec: {containers: [{name: api, image: \"registry.example/api:1\"}]}\n",
    );
    ok(&api(&pod, &["create", "-f", &f]));
    let d = ok(&api(&pod, &["delete", "deployments.apps", "api"]));
    assert_eq!(d["kind"], "Status", "{d}");
    assert_eq!(d["status"], "Success");
    assert_eq!(d["details"]["name"], "api");
    assert_eq!(d["details"]["group"], "apps");
    assert_gone(&pod, "deploy", "api");
}

/// coordination.k8s.io/v1 Leases: create, get by the singular `lease` (Leases have no short
/// name upstream), list by `leases.coordination.k8s.io -l`, the three patch types, replace,
/// apply, delete (a Success Status), 404.
#[test]
fn every_verb_on_leases() {
    let (_cluster, pod) = setup("verbs");
    let dir = tempfile::tempdir().unwrap();
    let f = manifest(
        dir.path(),
        "lease.yaml",
        "apiVersion: coordination.k8s.io/v1\nkind: Lease\nmetadata:\n  name: lock\n  labels: {role: lock}\nspec:\n  holderIdentity: x\n  leaseDurationSeconds: 15\n",
    );
    let c = ok(&api(&pod, &["create", "-f", &f]));
    assert_eq!(c["kind"], "Lease");
    assert_eq!(c["apiVersion"], "coordination.k8s.io/v1");
    assert_eq!(c["spec"]["holderIdentity"], "x");

    let got = ok(&api(&pod, &["get", "lease", "lock"]));
    assert_eq!(got["spec"]["leaseDurationSeconds"], 15);
    let list = ok(&api(
        &pod,
        &["list", "leases.coordination.k8s.io", "-l", "role=lock"],
    ));
    assert_eq!(names(&list), ["lock"]);
    assert_eq!(list["items"][0]["kind"], "Lease");
    assert_eq!(list["items"][0]["apiVersion"], "coordination.k8s.io/v1");

    let m = ok(&api(
        &pod,
        &[
            "patch",
            "lease",
            "lock",
            "--type",
            "merge",
            "-p",
            r#"{"spec":{"holderIdentity":"y"}}"#,
        ],
    ));
    assert_eq!(m["spec"]["holderIdentity"], "y");
    let s = ok(&api(
        &pod,
        &[
            "patch",
            "leases",
            "lock",
            "-p",
            r#"{"spec":{"leaseTransitions":1}}"#,
        ],
    ));
    assert_eq!(s["spec"]["leaseTransitions"], 1);
    assert_eq!(s["spec"]["holderIdentity"], "y");
    let j = ok(&api(
        &pod,
        &[
            "patch",
            "lease",
            "lock",
            "--type",
            "json",
            "-p",
            r#"[{"op":"replace","path":"/spec/leaseDurationSeconds","value":30}]"#,
        ],
    ));
    assert_eq!(j["spec"]["leaseDurationSeconds"], 30);

    let mut whole = ok(&api(&pod, &["get", "lease", "lock"]));
    whole["spec"]["holderIdentity"] = json!("z");
    let f = manifest(dir.path(), "lease-replace.json", &whole.to_string());
    let r = ok(&api(&pod, &["replace", "-f", &f]));
    assert_eq!(r["spec"]["holderIdentity"], "z");
    assert_eq!(r["spec"]["leaseTransitions"], 1);

    let f = manifest(
        dir.path(),
        "lease-apply.yaml",
        "apiVersion: coordination.k8s.io/v1\nkind: Lease\nmetadata:\n  name: lock\n  annotations: {applied: \"yes\"}\n",
    );
    let a = ok(&api(
        &pod,
        &["apply", "-f", &f, "--field-manager", "verbs-e2e"],
    ));
    assert_eq!(a["metadata"]["annotations"]["applied"], "yes");
    assert_eq!(a["spec"]["holderIdentity"], "z");

    let d = ok(&api(&pod, &["delete", "lease", "lock"]));
    assert_eq!(d["kind"], "Status", "{d}");
    assert_eq!(d["status"], "Success");
    assert_eq!(d["details"]["name"], "lock");
    assert_gone(&pod, "lease", "lock");
}

/// `api replace -f` with a stale `metadata.resourceVersion`: upstream's optimistic concurrency
/// answers 409 Conflict (`Operation cannot be fulfilled on configmaps "NAME": the object has
/// been modified; please apply your changes to the latest version and try again`), and the
/// stored object is the newer one, unchanged.
#[test]
fn replace_with_a_stale_resource_version_is_a_conflict() {
    let (_cluster, pod) = setup("verbs");
    let dir = tempfile::tempdir().unwrap();
    let f = manifest(
        dir.path(),
        "cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {mode: a}\n",
    );
    let first = ok(&api(&pod, &["create", "-f", &f]));
    assert!(first["metadata"]["resourceVersion"].is_string(), "{first}");
    let newer = ok(&api(
        &pod,
        &[
            "patch",
            "cm",
            "settings",
            "--type",
            "merge",
            "-p",
            r#"{"data":{"mode":"b"}}"#,
        ],
    ));
    assert_ne!(
        newer["metadata"]["resourceVersion"],
        first["metadata"]["resourceVersion"]
    );

    let mut stale = first.clone();
    stale["data"] = json!({"mode": "c"});
    let f = manifest(dir.path(), "stale.json", &stale.to_string());
    let e = error_of(&api(&pod, &["replace", "-f", &f]));
    assert_eq!(e["kind"], "conflict", "{e}");
    assert_eq!(e["code"], 409, "{e}");
    assert_eq!(e["reason"], "Conflict", "{e}");
    assert_eq!(
        e["message"],
        "Operation cannot be fulfilled on configmaps \"settings\": the object has been modified; please apply your changes to the latest version and try again",
        "{e}"
    );
    let now = ok(&api(&pod, &["get", "cm", "settings"]));
    assert_eq!(now["data"]["mode"], "b", "the stale write changed nothing");
    assert_eq!(
        now["metadata"]["resourceVersion"],
        newer["metadata"]["resourceVersion"]
    );
}

/// Server-side apply conflicts (upstream `sigs.k8s.io/structured-merge-diff`): manager `mgr-a`
/// owns `.data.key`; `mgr-b` applying another value without force gets 409 Conflict `Apply
/// failed with 1 conflict: conflict with "mgr-a": .data.key` and nothing changes; with
/// `--force-conflicts` it takes the field, and `mgr-a` no longer owns it.
#[test]
fn apply_conflicts_name_the_field_and_the_manager_until_forced() {
    let (_cluster, pod) = setup("verbs");
    let dir = tempfile::tempdir().unwrap();
    let doc = |v: &str| {
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shared\ndata:\n  key: \"{v}\"\n"
        )
    };
    let fa = manifest(dir.path(), "a.yaml", &doc("1"));
    let fb = manifest(dir.path(), "b.yaml", &doc("2"));
    let a = ok(&api(
        &pod,
        &["apply", "-f", &fa, "--field-manager", "mgr-a"],
    ));
    assert_eq!(a["data"]["key"], "1", "apply creates a missing object");

    let e = error_of(&api(
        &pod,
        &["apply", "-f", &fb, "--field-manager", "mgr-b"],
    ));
    assert_eq!(e["kind"], "conflict", "{e}");
    assert_eq!(e["code"], 409, "{e}");
    assert_eq!(e["reason"], "Conflict", "{e}");
    assert_eq!(
        e["message"], "Apply failed with 1 conflict: conflict with \"mgr-a\": .data.key",
        "{e}"
    );
    let causes = e["details"]["causes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        causes.iter().any(|c| c["field"] == ".data.key"
            && c["message"].as_str().is_some_and(|m| m.contains("mgr-a"))),
        "the Status details name the field: {e}"
    );
    assert_eq!(ok(&api(&pod, &["get", "cm", "shared"]))["data"]["key"], "1");

    let forced = ok(&api(
        &pod,
        &[
            "apply",
            "-f",
            &fb,
            "--field-manager",
            "mgr-b",
            "--force-conflicts",
        ],
    ));
    assert_eq!(forced["data"]["key"], "2");
    let managers = forced["metadata"]["managedFields"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let owns_key = |m: &Value| m["fieldsV1"]["f:data"].get("f:key").is_some();
    assert!(
        managers
            .iter()
            .any(|m| m["manager"] == "mgr-b" && owns_key(m)),
        "mgr-b owns .data.key: {managers:?}"
    );
    assert!(
        !managers
            .iter()
            .any(|m| m["manager"] == "mgr-a" && owns_key(m)),
        "mgr-a lost .data.key: {managers:?}"
    );
    assert_eq!(ok(&api(&pod, &["get", "cm", "shared"]))["data"]["key"], "2");
}

/// A watch whose own position expires: `api watch configmaps` (no `--resource-version`) lists,
/// watches from the list's resourceVersion and, with `--timeout-seconds 1`, reconnects every
/// second from the last one it saw. After the emulator compacts its history, the reconnect is
/// answered 410 (`too old resource version`), and the command does what client-go's reflector
/// does: says so on stderr (`... listing again`), lists again (ADDED for each current object: the
/// one deleted meanwhile is not among them, the changed one has its new data) and watches on
/// from the new list (a later change arrives as MODIFIED). With `--resource-version` the caller
/// owns the position and gets `gone` instead (`api::watch_sees_events_bookmarks_and_reports_gone`).
#[test]
fn watch_lists_again_after_410_gone() {
    let (cluster, pod) = setup("watching");
    let dir = tempfile::tempdir().unwrap();
    for name in ["first", "second"] {
        let f = manifest(
            dir.path(),
            &format!("{name}.yaml"),
            &format!(
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}}}\ndata: {{v: \"0\"}}\n"
            ),
        );
        ok(&api(&pod, &["create", "-f", &f]));
    }
    let mut watch = pod.spawn(
        &[
            "api",
            "watch",
            "configmaps",
            "--timeout-seconds",
            "1",
            "--max-events",
            "5",
        ],
        &["--timeout", "60"],
    );
    let added = |name: &'static str| {
        move |v: &Value| v["type"] == "ADDED" && v["object"]["metadata"]["name"] == name
    };
    assert!(
        watch
            .wait_for_line(Duration::from_secs(45), added("second"))
            .is_some(),
        "the first list: {:?}\n{}",
        watch.lines(),
        watch.stderr()
    );
    // Behind the watch's back the history that would let it resume is dropped: its next
    // reconnect (within a second) finds its resourceVersion too old.
    cluster.api().compact();
    assert!(
        watch.wait_for_stderr(Duration::from_secs(20), "listing again"),
        "no re-list after compaction: {:?}\n{}",
        watch.lines(),
        watch.stderr()
    );
    // Lines 3 and 4 are the re-list: ADDED for both objects again.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while watch.lines().len() < 4 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    // Now a change the watch after the new list must see.
    let (code, _) = cluster.admin(
        "PUT",
        "/api/v1/namespaces/watching/configmaps/second",
        Some(&json!({"apiVersion": "v1", "kind": "ConfigMap",
                     "metadata": {"name": "second", "namespace": "watching"},
                     "data": {"v": "2"}})),
    );
    assert_eq!(code, 200);
    let status = watch.wait_exit(Duration::from_secs(30));
    assert!(
        status.is_some_and(|s| s.success()),
        "{status:?}: {:?}\n{}",
        watch.lines(),
        watch.stderr()
    );
    let summary: Vec<(String, String)> = watch
        .lines()
        .iter()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .map(|e| {
            (
                e["type"].as_str().unwrap_or_default().to_string(),
                e["object"]["metadata"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect();
    let pair = |t: &str, n: &str| (t.to_string(), n.to_string());
    let mut first_list = summary[..2].to_vec();
    first_list.sort();
    let mut relist = summary[2..4].to_vec();
    relist.sort();
    assert_eq!(
        first_list,
        [pair("ADDED", "first"), pair("ADDED", "second")],
        "{summary:?}"
    );
    assert_eq!(relist, first_list, "the re-list: {summary:?}");
    assert_eq!(summary[4], pair("MODIFIED", "second"), "{summary:?}");
    let err = watch.stderr();
    assert!(err.contains("watch: 410"), "{err}");
}

/// RBAC (RBAC objects, as `kubectl apply` would create them): a Role that may get, list and
/// watch Leases but not update them. `api get lease` works; `api replace` is 403 Forbidden
/// with kube-apiserver's text (`leases.coordination.k8s.io "NAME" is forbidden: User
/// "system:serviceaccount:NS:SA" cannot update resource "leases" in API group
/// "coordination.k8s.io" in the namespace "NS"`) and the details name the Lease; `api
/// leader-elect` on that free Lease logs the same denial, retries, never claims leadership, and
/// exits 0 on SIGTERM with the Lease untouched.
#[test]
fn forbidden_lease_update_carries_the_rbac_message() {
    let rules = RbacRules::from_yaml(
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: lease-reader, namespace: locked}\nrules:\n- apiGroups: [coordination.k8s.io]\n  resources: [leases]\n  verbs: [get, list, watch]\n- apiGroups: [\"\"]\n  resources: [pods]\n  verbs: [get]\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: lease-reader, namespace: locked}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: lease-reader}\nsubjects: [{kind: ServiceAccount, name: default, namespace: locked}]\n",
    )
    .unwrap();
    let cluster = Cluster::start(ClusterOptions {
        rbac: Some(rules),
        ..Default::default()
    });
    let pod = InClusterPod::new(&cluster, "locked", "elector-0");
    let (code, lease) = cluster.admin(
        "POST",
        "/apis/coordination.k8s.io/v1/namespaces/locked/leases",
        Some(
            &json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                     "metadata": {"name": "x", "namespace": "locked"},
                     "spec": {"leaseDurationSeconds": 15}}),
        ),
    );
    assert_eq!(code, 201, "{lease}");

    let got = ok(&api(&pod, &["get", "lease", "x"]));
    assert_eq!(
        got["metadata"]["uid"], lease["metadata"]["uid"],
        "get is allowed"
    );

    let message = "leases.coordination.k8s.io \"x\" is forbidden: User \"system:serviceaccount:locked:default\" cannot update resource \"leases\" in API group \"coordination.k8s.io\" in the namespace \"locked\"";
    let mut changed = got.clone();
    changed["spec"]["holderIdentity"] = json!("elector-0");
    let dir = tempfile::tempdir().unwrap();
    let f = manifest(dir.path(), "lease.json", &changed.to_string());
    let e = error_of(&api(&pod, &["replace", "-f", &f]));
    assert_eq!(e["kind"], "forbidden", "{e}");
    assert_eq!(e["code"], 403, "{e}");
    assert_eq!(e["reason"], "Forbidden", "{e}");
    assert_eq!(e["message"], message, "{e}");
    assert_eq!(e["details"]["name"], "x", "{e}");
    assert_eq!(e["details"]["group"], "coordination.k8s.io", "{e}");
    assert_eq!(e["details"]["kind"], "leases", "{e}");

    let mut elect = pod.spawn(
        &[
            "api",
            "leader-elect",
            "--lease",
            "x",
            "--lease-duration",
            "2s",
        ],
        &[],
    );
    assert!(
        elect.wait_for_stderr(Duration::from_secs(45), message),
        "the denial is logged: {}\n{:?}",
        elect.stderr(),
        elect.lines()
    );
    // Two more retry periods (0.4 s each): still denied, still not leader.
    std::thread::sleep(Duration::from_millis(1000));
    assert!(
        elect.stderr().matches(message).count() >= 2,
        "it retries: {}",
        elect.stderr()
    );
    elect.signal(libc::SIGTERM);
    let status = elect.wait_exit(Duration::from_secs(15));
    assert!(
        status.is_some_and(|s| s.success()),
        "{status:?}: {}",
        elect.stderr()
    );
    for line in elect.lines() {
        let v: Value = serde_json::from_str(&line).unwrap();
        assert_ne!(v["leader"], true, "never leader: {line}");
    }
    let after = cluster
        .admin_get("/apis/coordination.k8s.io/v1/namespaces/locked/leases/x")
        .unwrap();
    assert_eq!(
        after["metadata"]["resourceVersion"],
        lease["metadata"]["resourceVersion"]
    );
    assert!(
        after["spec"]["holderIdentity"]
            .as_str()
            .unwrap_or("")
            .is_empty(),
        "{after}"
    );
}

/// `api label self` / `api annotate self`: a merge patch of this pod's own labels or
/// annotations, as `kubectl label pod NAME k=v` / `k-`; the output is the patched pod, and the
/// API (`api get po NAME`, and the emulator itself) shows the change.
#[test]
fn label_and_annotate_self() {
    let (cluster, pod) = setup("labels");
    let out = ok(&api(&pod, &["label", "self", "tier=gold", "track=stable"]));
    assert_eq!(out["metadata"]["name"], "runner");
    assert_eq!(
        out["metadata"]["labels"],
        json!({"app": "web", "tier": "gold", "track": "stable"})
    );
    let got = ok(&api(&pod, &["get", "po", "runner"]));
    assert_eq!(got["metadata"]["labels"]["tier"], "gold");
    let stored = cluster.api().get_pod("labels", "runner").unwrap();
    assert_eq!(
        stored
            .metadata
            .labels
            .as_ref()
            .and_then(|l| l.get("tier"))
            .map(String::as_str),
        Some("gold")
    );

    let out = ok(&api(&pod, &["label", "self", "tier-"]));
    assert_eq!(
        out["metadata"]["labels"],
        json!({"app": "web", "track": "stable"})
    );
    let got = ok(&api(&pod, &["get", "pods", "runner"]));
    assert!(got["metadata"]["labels"].get("tier").is_none(), "{got}");

    let out = ok(&api(&pod, &["annotate", "self", "example.com/reloaded=v2"]));
    assert_eq!(out["metadata"]["annotations"]["example.com/reloaded"], "v2");
    let out = ok(&api(&pod, &["annotate", "self", "example.com/reloaded-"]));
    assert!(
        out["metadata"]["annotations"]
            .get("example.com/reloaded")
            .is_none(),
        "{out}"
    );
    // A change that is neither KEY=VALUE nor KEY- is refused before anything is sent.
    let out = api(&pod, &["label", "self", "novalue"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("KEY=VALUE"), "{}", stderr(&out));

    // A new value for an existing key needs --overwrite, as with kubectl (label.go
    // validateNoOverwrites); the same value, or a new key, does not.
    let out = api(&pod, &["label", "self", "app=api", "track=stable"]);
    assert!(!out.status.success());
    assert_eq!(
        stderr(&out).trim(),
        "error: 'app' already has a value (web), and --overwrite is false"
    );
    let stored = cluster.api().get_pod("labels", "runner").unwrap();
    assert_eq!(
        stored.metadata.labels.unwrap()["app"],
        "web",
        "nothing was patched"
    );
    let out = ok(&api(&pod, &["label", "self", "app=api", "--overwrite"]));
    assert_eq!(out["metadata"]["labels"]["app"], "api");
    ok(&api(&pod, &["annotate", "self", "note=a"]));
    let out = api(&pod, &["annotate", "self", "note=b"]);
    assert_eq!(
        stderr(&out).trim(),
        "error: 'note' already has a value (a), and --overwrite is false"
    );
}

/// What the API server cannot do is refused with kubectl's words before a request is sent: a
/// kind discovery does not serve (the RESTMapper's NoKindMatchError), and a deletecollection
/// across all namespaces (kube-apiserver registers it per namespace only).
#[test]
fn unservable_requests_get_kubectl_errors() {
    let (_cluster, pod) = setup("refusals");
    let dir = tempfile::tempdir().unwrap();
    let file = manifest(
        dir.path(),
        "widget.yaml",
        "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n",
    );
    let out = api(&pod, &["create", "-f", &file]);
    assert!(!out.status.success());
    assert_eq!(
        error_of(&out)["message"],
        "no matches for kind \"Widget\" in version \"example.com/v1\""
    );
    // The core group's kinds resolve in v1 only.
    let file = manifest(
        dir.path(),
        "pod-v2.yaml",
        "apiVersion: v2\nkind: Pod\nmetadata: {name: p}\n",
    );
    assert_eq!(
        error_of(&api(&pod, &["create", "-f", &file]))["message"],
        "no matches for kind \"Pod\" in version \"v2\""
    );
    let out = api(&pod, &["delete", "configmaps", "-A", "-l", "app=x"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("give -n NAMESPACE instead of -A"),
        "{}",
        stderr(&out)
    );
}
