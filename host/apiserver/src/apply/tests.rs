//! Server-side apply against hand-written live objects: their `managedFields` are written in
//! kube-apiserver's `FieldsV1` encoding as `kubectl get -o json --show-managed-fields` prints
//! it, the expected errors are upstream's texts (`internal/conflict.go`).

use serde_json::{Value, json};

use super::*;
use crate::resources::{self, ResourceType};

const T0: &str = "2025-01-01T00:00:00Z";
const T1: &str = "2025-01-01T00:01:00Z";

fn configmaps() -> &'static ResourceType {
    resources::find("", "v1", "configmaps").unwrap()
}

fn deployments() -> &'static ResourceType {
    resources::find("apps", "v1", "deployments").unwrap()
}

fn opts(manager: &str, force: bool) -> ApplyOptions<'_> {
    ApplyOptions {
        manager,
        force,
        subresource: "",
        time: T1,
    }
}

fn apply_json(
    r: &ResourceType,
    live: Option<&Value>,
    config: &Value,
    o: &ApplyOptions<'_>,
) -> Result<Value, Status> {
    apply_at(r, live, config.to_string().as_bytes(), o)
}

/// A ConfigMap `demo` with `data` as given, applied by `alpha` owning `alpha_keys`.
fn live_cm(data: Value, managed: Value) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "demo",
            "namespace": "default",
            "uid": "0b5b1d6e-0000-4000-8000-000000000001",
            "resourceVersion": "7",
            "creationTimestamp": T0,
            "managedFields": managed,
        },
        "data": data,
    })
}

fn alpha_owns_key_and_a() -> Value {
    json!([{
        "manager": "alpha",
        "operation": "Apply",
        "apiVersion": "v1",
        "time": T0,
        "fieldsType": "FieldsV1",
        "fieldsV1": {"f:data": {"f:a": {}, "f:key": {}}},
    }])
}

fn cm_config(data: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "demo"}, "data": data})
}

/// manager → fieldsV1 of the object's entries.
fn entries(obj: &Value) -> Vec<(String, String, Value)> {
    obj["metadata"]["managedFields"]
        .as_array()
        .map(|l| {
            l.iter()
                .map(|e| {
                    (
                        e["manager"].as_str().unwrap().to_owned(),
                        e["operation"].as_str().unwrap().to_owned(),
                        e["fieldsV1"].clone(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The `fieldsV1` of `manager`'s entry.
fn fields_of(obj: &Value, manager: &str) -> Value {
    entries(obj)
        .into_iter()
        .find(|(m, _, _)| m == manager)
        .map(|(_, _, f)| f)
        .unwrap_or(Value::Null)
}

#[test]
fn first_apply_creates_the_object_with_an_apply_entry() {
    let config = cm_config(json!({"key": "one", "a": "1"}));
    let out = apply_json(configmaps(), None, &config, &opts("alpha", false)).unwrap();
    assert_eq!(out["data"], json!({"key": "one", "a": "1"}));
    assert_eq!(
        out["metadata"]["managedFields"],
        json!([{
            "manager": "alpha", "operation": "Apply", "apiVersion": "v1", "time": T1,
            "fieldsType": "FieldsV1", "fieldsV1": {"f:data": {"f:a": {}, "f:key": {}}},
        }])
    );
}

#[test]
fn two_managers_on_different_keys_are_both_kept() {
    let live = live_cm(json!({"key": "one", "a": "1"}), alpha_owns_key_and_a());
    let out = apply_json(
        configmaps(),
        Some(&live),
        &cm_config(json!({"b": "2"})),
        &opts("beta", false),
    )
    .unwrap();
    assert_eq!(out["data"], json!({"key": "one", "a": "1", "b": "2"}));
    assert_eq!(
        entries(&out),
        [
            (
                "alpha".to_owned(),
                "Apply".to_owned(),
                json!({"f:data": {"f:a": {}, "f:key": {}}})
            ),
            (
                "beta".to_owned(),
                "Apply".to_owned(),
                json!({"f:data": {"f:b": {}}})
            ),
        ]
    );
    // Metadata the store owns is not touched.
    assert_eq!(out["metadata"]["uid"], live["metadata"]["uid"]);
    assert_eq!(out["metadata"]["resourceVersion"], "7");
}

#[test]
fn same_key_with_another_value_is_a_409_with_upstreams_message() {
    let live = live_cm(json!({"key": "one", "a": "1"}), alpha_owns_key_and_a());
    let err = apply_json(
        configmaps(),
        Some(&live),
        &cm_config(json!({"key": "two"})),
        &opts("beta", false),
    )
    .unwrap_err();
    assert_eq!(err.code, 409);
    assert_eq!(err.reason, "Conflict");
    assert_eq!(
        err.message,
        "Apply failed with 1 conflict: conflict with \"alpha\": .data.key"
    );
    let body: Value = serde_json::from_slice(&err.to_json()).unwrap();
    assert_eq!(
        body["details"],
        json!({"causes": [{
            "reason": "FieldManagerConflict",
            "message": "conflict with \"alpha\"",
            "field": ".data.key",
        }]})
    );
}

#[test]
fn same_key_with_the_same_value_is_shared() {
    let live = live_cm(json!({"key": "one", "a": "1"}), alpha_owns_key_and_a());
    let out = apply_json(
        configmaps(),
        Some(&live),
        &cm_config(json!({"key": "one"})),
        &opts("beta", false),
    )
    .unwrap();
    assert_eq!(out["data"], json!({"key": "one", "a": "1"}));
    assert_eq!(
        fields_of(&out, "alpha"),
        json!({"f:data": {"f:a": {}, "f:key": {}}})
    );
    assert_eq!(fields_of(&out, "beta"), json!({"f:data": {"f:key": {}}}));
    // Nothing changed: beta's new entry has no time (`managedFieldsUpdater.Apply`), so it
    // sorts first (`sortEncodedManagedFields`: a missing time is 0).
    assert_eq!(out["metadata"]["managedFields"][0]["manager"], "beta");
    assert_eq!(out["metadata"]["managedFields"][0].get("time"), None);
}

#[test]
fn several_conflicts_are_listed_per_manager() {
    let managed = json!([
        {"manager": "alpha", "operation": "Apply", "apiVersion": "v1", "time": T0,
         "fieldsType": "FieldsV1", "fieldsV1": {"f:data": {"f:a": {}, "f:key": {}}}},
        {"manager": "kubectl-edit", "operation": "Update", "apiVersion": "v1", "time": T0,
         "fieldsType": "FieldsV1", "fieldsV1": {"f:data": {"f:b": {}}}},
    ]);
    let live = live_cm(json!({"key": "one", "a": "1", "b": "2"}), managed);
    let err = apply_json(
        configmaps(),
        Some(&live),
        &cm_config(json!({"key": "x", "a": "x", "b": "x"})),
        &opts("beta", false),
    )
    .unwrap_err();
    assert_eq!(
        err.message,
        "Apply failed with 3 conflicts: conflicts with \"alpha\":\n- .data.a\n- .data.key\nconflicts with \"kubectl-edit\" using v1:\n- .data.b"
    );
    let causes: Vec<String> = err
        .details
        .as_ref()
        .unwrap()
        .causes
        .iter()
        .map(|c| format!("{} {}", c.field, c.message))
        .collect();
    assert_eq!(
        causes,
        [
            ".data.a conflict with \"alpha\"",
            ".data.key conflict with \"alpha\"",
            ".data.b conflict with \"kubectl-edit\" using v1",
        ]
    );
}

#[test]
fn force_moves_ownership() {
    let live = live_cm(json!({"key": "one", "a": "1"}), alpha_owns_key_and_a());
    let out = apply_json(
        configmaps(),
        Some(&live),
        &cm_config(json!({"key": "two"})),
        &opts("beta", true),
    )
    .unwrap();
    assert_eq!(out["data"], json!({"key": "two", "a": "1"}));
    assert_eq!(
        entries(&out),
        [
            (
                "alpha".to_owned(),
                "Apply".to_owned(),
                json!({"f:data": {"f:a": {}}})
            ),
            (
                "beta".to_owned(),
                "Apply".to_owned(),
                json!({"f:data": {"f:key": {}}})
            ),
        ]
    );
    // alpha now applying `key` again conflicts with beta.
    let err = apply_json(
        configmaps(),
        Some(&out),
        &cm_config(json!({"key": "one", "a": "1"})),
        &opts("alpha", false),
    )
    .unwrap_err();
    assert_eq!(
        err.message,
        "Apply failed with 1 conflict: conflict with \"beta\": .data.key"
    );
}

#[test]
fn dropping_a_key_from_the_config_removes_it_unless_someone_else_owns_it() {
    let managed = json!([
        {"manager": "alpha", "operation": "Apply", "apiVersion": "v1", "time": T0,
         "fieldsType": "FieldsV1", "fieldsV1": {"f:data": {"f:a": {}, "f:key": {}, "f:shared": {}}}},
        {"manager": "beta", "operation": "Apply", "apiVersion": "v1", "time": T0,
         "fieldsType": "FieldsV1", "fieldsV1": {"f:data": {"f:shared": {}}}},
    ]);
    let live = live_cm(json!({"key": "one", "a": "1", "shared": "s"}), managed);
    let out = apply_json(
        configmaps(),
        Some(&live),
        &cm_config(json!({"key": "one"})),
        &opts("alpha", false),
    )
    .unwrap();
    assert_eq!(out["data"], json!({"key": "one", "shared": "s"}));
    assert_eq!(
        fields_of(&out, "alpha"),
        json!({"f:data": {"f:key": {}}}),
        "alpha owns what it applied"
    );
    assert_eq!(out["metadata"]["managedFields"][1]["manager"], "alpha");
    assert_eq!(out["metadata"]["managedFields"][1]["time"], T1);
    // Dropping `data` altogether removes what only alpha owned, and the emptied map.
    let no_data = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "demo"}});
    let out = apply_json(configmaps(), Some(&out), &no_data, &opts("alpha", false)).unwrap();
    assert_eq!(out["data"], json!({"shared": "s"}));
    assert_eq!(
        entries(&out),
        [(
            "beta".to_owned(),
            "Apply".to_owned(),
            json!({"f:data": {"f:shared": {}}})
        )]
    );
}

fn container(name: &str, image: &str) -> Value {
    json!({"name": name, "image": image})
}

fn deployment(containers: Value, managed: Value) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default", "managedFields": managed},
        "spec": {
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": containers},
            },
        },
    })
}

fn deployment_config(containers: Value) -> Value {
    let mut d = deployment(containers, Value::Null);
    d["metadata"] = json!({"name": "web"});
    d
}

#[test]
fn containers_merge_by_name_and_other_managers_containers_stay() {
    // `alpha` applied the selector, the labels and container `app`.
    let managed = json!([{
        "manager": "alpha", "operation": "Apply", "apiVersion": "apps/v1", "time": T0,
        "fieldsType": "FieldsV1",
        "fieldsV1": {"f:spec": {
            "f:selector": {},
            "f:template": {
                "f:metadata": {"f:labels": {"f:app": {}}},
                "f:spec": {"f:containers": {
                    "k:{\"name\":\"app\"}": {".": {}, "f:image": {}, "f:name": {}}
                }},
            },
        }},
    }]);
    let live = deployment(json!([container("app", "app:1")]), managed);
    let config = deployment_config(json!([container("sidecar", "proxy:1")]));
    let out = apply_json(deployments(), Some(&live), &config, &opts("beta", false)).unwrap();
    assert_eq!(
        out["spec"]["template"]["spec"]["containers"],
        json!([container("app", "app:1"), container("sidecar", "proxy:1")])
    );
    let e = entries(&out);
    assert_eq!(e[0].0, "alpha");
    assert_eq!(e[0].2, live["metadata"]["managedFields"][0]["fieldsV1"]);
    assert_eq!(
        e[1].2,
        json!({"f:spec": {
            "f:selector": {},
            "f:template": {
                "f:metadata": {"f:labels": {"f:app": {}}},
                "f:spec": {"f:containers": {
                    "k:{\"name\":\"sidecar\"}": {".": {}, "f:image": {}, "f:name": {}}
                }},
            },
        }})
    );

    // beta changing alpha's container's image conflicts, at the keyed path.
    let config = deployment_config(json!([container("app", "app:2")]));
    let err = apply_json(deployments(), Some(&out), &config, &opts("beta", false)).unwrap_err();
    assert_eq!(
        err.message,
        "Apply failed with 1 conflict: conflict with \"alpha\": .spec.template.spec.containers[name=\"app\"].image"
    );

    // beta dropping its sidecar removes it; alpha's container stays.
    let config = deployment_config(json!([]));
    let out = apply_json(deployments(), Some(&out), &config, &opts("beta", false)).unwrap();
    assert_eq!(
        out["spec"]["template"]["spec"]["containers"],
        json!([container("app", "app:1")])
    );
}

#[test]
fn config_errors_are_upstreams() {
    let live = live_cm(json!({"key": "one"}), alpha_owns_key_and_a());
    let e = apply_json(
        configmaps(),
        Some(&live),
        &cm_config(json!({})),
        &opts("", false),
    )
    .unwrap_err();
    assert_eq!(
        (e.code, e.message.as_str()),
        (
            422,
            "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch"
        )
    );
    let mut wrong = cm_config(json!({}));
    wrong["kind"] = json!("Secret");
    let e = apply_json(configmaps(), Some(&live), &wrong, &opts("m", false)).unwrap_err();
    assert_eq!(
        (e.code, e.message.as_str()),
        (400, "invalid object type: /v1, Kind=Secret")
    );
    let mut with_managed = cm_config(json!({}));
    with_managed["metadata"]["managedFields"] = json!([]);
    let e = apply_json(configmaps(), Some(&live), &with_managed, &opts("m", false)).unwrap_err();
    assert_eq!(
        (e.code, e.message.as_str()),
        (400, "metadata.managedFields must be nil")
    );
    let config = deployment_config(json!([container("a", "x"), container("a", "y")]));
    let e = apply_json(deployments(), None, &config, &opts("m", false)).unwrap_err();
    assert_eq!(
        (e.code, e.message.as_str()),
        (
            500,
            "failed to create typed patch object (apps/v1, Kind=Deployment): .spec.template.spec.containers: duplicate entries for key [name=\"a\"]"
        )
    );
    let e = apply_at(configmaps(), None, b"- a\n- b\n", &opts("m", false)).unwrap_err();
    assert_eq!(e.code, 400);
}

#[test]
fn yaml_bodies_are_accepted() {
    let body = b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: demo\ndata:\n  key: one\n";
    let out = apply_at(configmaps(), None, body, &opts("kubectl", false)).unwrap();
    assert_eq!(out["data"], json!({"key": "one"}));
}

#[test]
fn updates_record_update_entries() {
    let cm = configmaps();
    // `kubectl create configmap demo --from-literal=key=one`.
    let mut created = live_cm(json!({"key": "one"}), Value::Null);
    record_update(cm, None, &mut created, "kubectl-create", "", T0);
    assert_eq!(
        created["metadata"]["managedFields"],
        json!([{
            "manager": "kubectl-create", "operation": "Update", "apiVersion": "v1", "time": T0,
            "fieldsType": "FieldsV1", "fieldsV1": {"f:data": {".": {}, "f:key": {}}},
        }])
    );
    // `kubectl edit` changes `key` and adds a label.
    let mut edited = created.clone();
    edited["data"]["key"] = json!("two");
    edited["metadata"]["labels"] = json!({"team": "a"});
    edited["metadata"]
        .as_object_mut()
        .unwrap()
        .remove("managedFields");
    record_update(cm, Some(&created), &mut edited, "kubectl-edit", "", T1);
    assert_eq!(
        entries(&edited),
        [
            (
                "kubectl-create".to_owned(),
                "Update".to_owned(),
                json!({"f:data": {}})
            ),
            (
                "kubectl-edit".to_owned(),
                "Update".to_owned(),
                json!({"f:data": {"f:key": {}}, "f:metadata": {"f:labels": {".": {}, "f:team": {}}}})
            ),
        ]
    );
    // An update that changes nothing keeps the entries (and their times).
    let mut same = edited.clone();
    record_update(
        cm,
        Some(&edited),
        &mut same,
        "other",
        "",
        "2030-01-01T00:00:00Z",
    );
    assert_eq!(same, edited);
    // An apply of `key` now conflicts with the editor.
    let err = apply_json(
        cm,
        Some(&edited),
        &cm_config(json!({"key": "three"})),
        &opts("kubectl", false),
    )
    .unwrap_err();
    assert_eq!(
        err.message,
        "Apply failed with 1 conflict: conflict with \"kubectl-edit\" using v1: .data.key"
    );
}

#[test]
fn status_is_not_owned_through_the_main_resource() {
    let d = deployments();
    let mut obj = deployment(json!([container("app", "app:1")]), Value::Null);
    obj["status"] = json!({"replicas": 1});
    record_update(d, None, &mut obj, "kubectl-create", "", T0);
    let fields = &obj["metadata"]["managedFields"][0]["fieldsV1"];
    assert_eq!(fields.get("f:status"), None);
    assert_eq!(
        fields["f:spec"]["f:template"]["f:spec"]["f:containers"],
        json!({"k:{\"name\":\"app\"}": {".": {}, "f:image": {}, "f:name": {}}})
    );
    // A status write owns only status, with its subresource.
    let mut next = obj.clone();
    next["status"]["replicas"] = json!(2);
    record_update(
        d,
        Some(&obj),
        &mut next,
        "kube-controller-manager",
        "status",
        T1,
    );
    let e = &next["metadata"]["managedFields"][1];
    assert_eq!(e["subresource"], "status");
    assert_eq!(e["fieldsV1"], json!({"f:status": {"f:replicas": {}}}));
}

#[test]
fn user_agent_prefix_is_the_default_manager() {
    assert_eq!(
        manager_or_user_agent("", "kubectl/v1.32.0 (linux/amd64) kubernetes/70d3cc9"),
        "kubectl"
    );
    assert_eq!(manager_or_user_agent("mine", "kubectl/v1.32.0"), "mine");
    assert_eq!(manager_or_user_agent("", "a\u{7}b/1"), "ab");
    assert_eq!(manager_or_user_agent("", &"x".repeat(200)).len(), 128);
}
