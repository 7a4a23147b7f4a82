//! Tests of [`super::apply`].
//!
//! Two hand-written schema fixtures: `testdata/swagger-merge-item-v3.json` is upstream's
//! `staging/src/k8s.io/apimachinery/pkg/util/strategicpatch/testdata/swagger-merge-item-v3.json`
//! (the `mergeItem` test type), so the cases of upstream's `patch_test.go` run against the same
//! metadata; `testdata/apps-v1-excerpt-v3.json` is an excerpt of
//! `api/openapi-spec/v3/apis__apps__v1_openapi.json` (Deployment down to Container, EnvVar,
//! ContainerPort, Volume and ObjectMeta, with their `x-kubernetes-patch-*` extensions).
//!
//! Upstream cases are transcribed from `patch_test.go` (YAML there, `json!` here); a case's
//! `twoWay` patch applied to `original` must give `modified` (or `twoWayResult`), its `threeWay`
//! patch applied to `current` must give `result` (`testTwoWayPatch` / `testThreeWayPatch`).

use serde_json::{Map, Value, json};

use super::{StrategicPatchError, apply, apply_bytes};

const MERGE_ITEM: &str = "mergeItem";
const DEPLOYMENT: &str = "io.k8s.api.apps.v1.Deployment";

fn schemas(doc: &str) -> Map<String, Value> {
    let doc: Value = serde_json::from_str(doc).expect("fixture is JSON");
    doc["components"]["schemas"]
        .as_object()
        .cloned()
        .expect("fixture has components.schemas")
}

fn merge_item() -> Map<String, Value> {
    schemas(include_str!("testdata/swagger-merge-item-v3.json"))
}

fn apps() -> Map<String, Value> {
    schemas(include_str!("testdata/apps-v1-excerpt-v3.json"))
}

fn patch_item(original: Value, patch: Value) -> Result<Value, StrategicPatchError> {
    apply(&original, &patch, &merge_item(), MERGE_ITEM)
}

fn patch_deployment(original: &Value, patch: Value) -> Value {
    apply(original, &patch, &apps(), DEPLOYMENT).expect("patch applies")
}

// ---------------------------------------------------------------------------------------------
// Upstream cases (patch_test.go), mergeItem schema.

/// `customStrategicMergePatchTestCaseData` "unique scalars when merging lists".
#[test]
fn upstream_unique_scalars_when_merging_lists() {
    let got = patch_item(
        json!({"mergingIntList": [1, 2]}),
        json!({"mergingIntList": [2, 3]}),
    );
    assert_eq!(got, Ok(json!({"mergingIntList": [1, 2, 3]})));
}

/// "delete map from nested map".
#[test]
fn upstream_delete_map_from_nested_map() {
    let got = patch_item(
        json!({"simpleMap": {"key1": 1, "key2": 1}}),
        json!({"simpleMap": {"$patch": "delete"}}),
    );
    assert_eq!(got, Ok(json!({"simpleMap": {}})));
}

/// "delete all items from merging list".
#[test]
fn upstream_delete_all_items_from_merging_list() {
    let got = patch_item(
        json!({"mergingList": [{"name": 1}, {"name": 2}]}),
        json!({"mergingList": [{"$patch": "replace"}]}),
    );
    assert_eq!(got, Ok(json!({"mergingList": []})));
}

/// "delete all keys from map" and "add key and delete all keys from map".
#[test]
fn upstream_replace_directive_on_a_map() {
    let original = json!({"name": 1, "value": 1});
    assert_eq!(
        patch_item(original.clone(), json!({"$patch": "replace"})),
        Ok(json!({}))
    );
    assert_eq!(
        patch_item(original, json!({"other": "a", "$patch": "replace"})),
        Ok(json!({"other": "a"}))
    );
}

/// "delete all duplicate entries in a merging list": one `$patch: delete` removes every entry
/// with that merge key (`deleteMatchingEntries`).
#[test]
fn upstream_delete_directive_removes_every_duplicate() {
    let got = patch_item(
        json!({"mergingList": [
            {"name": 1}, {"name": 1}, {"name": 2, "value": "a"}, {"name": 3}, {"name": 3}
        ]}),
        json!({"mergingList": [{"name": 1, "$patch": "delete"}, {"name": 3, "$patch": "delete"}]}),
    );
    assert_eq!(got, Ok(json!({"mergingList": [{"name": 2, "value": "a"}]})));
}

/// `customStrategicMergePatchRawTestCases` "$deleteFromPrimitiveList should delete item from a
/// list without merge patch strategy", "... of nonexistent item ... should not add the item",
/// "... on empty primitive list ..." and "... on nonexistent primitive list should not add the
/// primitive list".
#[test]
fn upstream_delete_from_primitive_list_edge_cases() {
    assert_eq!(
        patch_item(
            json!({"nonMergingIntList": [1, 2, 3]}),
            json!({"$deleteFromPrimitiveList/nonMergingIntList": [2]})
        ),
        Ok(json!({"nonMergingIntList": [1, 3]}))
    );
    assert_eq!(
        patch_item(
            json!({"mergingIntList": [1, 2]}),
            json!({"$deleteFromPrimitiveList/mergingIntList": [3]})
        ),
        Ok(json!({"mergingIntList": [1, 2]}))
    );
    assert_eq!(
        patch_item(
            json!({"mergingIntList": null}),
            json!({"$deleteFromPrimitiveList/mergingIntList": [3]})
        ),
        Ok(json!({"mergingIntList": null}))
    );
    assert_eq!(
        patch_item(
            json!({"foo": ["bar"]}),
            json!({"$deleteFromPrimitiveList/mergingIntList": [3]})
        ),
        Ok(json!({"foo": ["bar"]}))
    );
}

/// "preserve the order from the patch in a merging list" (both variants).
#[test]
fn upstream_patch_order_wins_in_a_merging_list() {
    let original = json!({"mergingList": [{"name": 1}, {"name": 2, "value": "b"}, {"name": 3}]});
    assert_eq!(
        patch_item(
            original.clone(),
            json!({"mergingList": [
                {"name": 3, "value": "c"}, {"name": 1, "value": "a"}, {"name": 2, "other": "x"}
            ]})
        ),
        Ok(json!({"mergingList": [
            {"name": 3, "value": "c"}, {"name": 1, "value": "a"}, {"name": 2, "value": "b", "other": "x"}
        ]}))
    );
    assert_eq!(
        patch_item(
            original,
            json!({"mergingList": [{"name": 3, "value": "c"}, {"name": 1, "value": "a"}]})
        ),
        Ok(json!({"mergingList": [
            {"name": 2, "value": "b"}, {"name": 3, "value": "c"}, {"name": 1, "value": "a"}
        ]}))
    );
}

/// "preserve the order from the patch in a merging int list" (both variants).
#[test]
fn upstream_patch_order_wins_in_a_merging_int_list() {
    let original = json!({"mergingIntList": [1, 2, 3]});
    assert_eq!(
        patch_item(original.clone(), json!({"mergingIntList": [3, 1, 2]})),
        Ok(json!({"mergingIntList": [3, 1, 2]}))
    );
    assert_eq!(
        patch_item(original, json!({"mergingIntList": [3, 1]})),
        Ok(json!({"mergingIntList": [2, 3, 1]}))
    );
}

/// `customStrategicMergePatchRawTestCases` "$setElementOrder contains item that is not present
/// in the list to be merged" (maps and ints).
#[test]
fn upstream_set_element_order_with_absent_items() {
    assert_eq!(
        patch_item(
            json!({"mergingList": [{"name": 1}, {"name": 3}]}),
            json!({
                "$setElementOrder/mergingList": [{"name": 3}, {"name": 2}, {"name": 1}],
                "mergingList": [{"name": 3, "value": 3}, {"name": 1, "value": 1}]
            })
        ),
        Ok(json!({"mergingList": [{"name": 3, "value": 3}, {"name": 1, "value": 1}]}))
    );
    assert_eq!(
        patch_item(
            json!({"mergingIntList": [1, 3]}),
            json!({"$setElementOrder/mergingIntList": [3, 2, 1]})
        ),
        Ok(json!({"mergingIntList": [3, 1]}))
    );
}

/// "should check if order in $setElementOrder and patch list match": upstream expects an error
/// containing "doesn't match"; this is its whole text.
#[test]
fn upstream_set_element_order_must_match_the_patch_order() {
    let err = patch_item(
        json!({"mergingList": [{"name": 1}, {"name": 3}, {"name": 2}]}),
        json!({
            "$setElementOrder/mergingList": [{"name": 1}, {"name": 2}, {"name": 3}],
            "mergingList": [{"name": 3, "value": 3}, {"name": 1, "value": 1}]
        }),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "The order in patch list:\n[map[name:3 value:3] map[name:1 value:1]]\n doesn't match \
         $setElementOrder list:\n[map[name:1] map[name:2] map[name:3]]\n"
    );
    assert_eq!(err.status().code, 500);
}

/// "missing merge key should error out": `map: ... does not contain declared merge key`, which
/// kube-apiserver returns as a 500 without reason (kubectl: `Error from server: map: ...`).
#[test]
fn upstream_missing_merge_key_errors() {
    let err = patch_item(
        json!({"mergingList": [{"name": 1, "value": "a"}]}),
        json!({"mergingList": [{"value": "b"}]}),
    )
    .unwrap_err();
    assert_eq!(
        err,
        StrategicPatchError::Merge(
            "map: map[value:b] does not contain declared merge key: name".into()
        )
    );
    let status = err.status();
    assert_eq!((status.code, status.reason.as_str()), (500, ""));
    assert_eq!(
        status.message,
        "map: map[value:b] does not contain declared merge key: name"
    );
    assert_eq!(status.details, None);
}

/// `strategicMergePatchRawTestCases` "delete items in lists of scalars" and "add and delete
/// items in lists of scalars", three-way patches on `current`.
#[test]
fn upstream_delete_from_primitive_list() {
    assert_eq!(
        patch_item(
            json!({"mergingIntList": [1, 2, 3, 4]}),
            json!({
                "$setElementOrder/mergingIntList": [1, 2],
                "$deleteFromPrimitiveList/mergingIntList": [3]
            })
        ),
        Ok(json!({"mergingIntList": [1, 2, 4]}))
    );
    // Two-way patch of "add and delete items in lists of scalars" on its original.
    assert_eq!(
        patch_item(
            json!({"mergingIntList": [1, 2, 3]}),
            json!({
                "$setElementOrder/mergingIntList": [1, 2, 4],
                "$deleteFromPrimitiveList/mergingIntList": [3],
                "mergingIntList": [4]
            })
        ),
        Ok(json!({"mergingIntList": [1, 2, 4]}))
    );
    // "delete all duplicate items in lists of scalars".
    assert_eq!(
        patch_item(
            json!({"mergingIntList": [1, 2, 3, 3, 4]}),
            json!({
                "$setElementOrder/mergingIntList": [1, 2],
                "$deleteFromPrimitiveList/mergingIntList": [3]
            })
        ),
        Ok(json!({"mergingIntList": [1, 2, 4]}))
    );
}

/// "merge lists of maps", three-way patch on `current`.
#[test]
fn upstream_merge_lists_of_maps_with_set_element_order() {
    let got = patch_item(
        json!({"mergingList": [{"name": 1, "other": "a"}, {"name": 2, "value": 2, "other": "b"}]}),
        json!({
            "$setElementOrder/mergingList": [{"name": 4}, {"name": 1}, {"name": 2}, {"name": 3}],
            "mergingList": [{"name": 4, "value": 4}, {"name": 3, "value": 3}]
        }),
    );
    assert_eq!(
        got,
        Ok(json!({"mergingList": [
            {"name": 4, "value": 4},
            {"name": 1, "other": "a"},
            {"name": 2, "value": 2, "other": "b"},
            {"name": 3, "value": 3}
        ]}))
    );
}

/// "set elements order in a int list with server-only items 3", three-way on `current`.
#[test]
fn upstream_server_only_items_keep_their_place() {
    let got = patch_item(
        json!({"mergingIntList": [1, 2, 7, 9, 8, 3, 4]}),
        json!({"$setElementOrder/mergingIntList": [2, 1, 4, 3]}),
    );
    assert_eq!(got, Ok(json!({"mergingIntList": [2, 1, 7, 9, 8, 4, 3]})));
}

/// "behavior of set element order for a merging list with duplicate" (maps and ints).
#[test]
fn upstream_set_element_order_with_duplicates() {
    let got = patch_item(
        json!({"mergingList": [
            {"name": 1}, {"name": 2, "value": "dup1"}, {"name": 3}, {"name": 2, "value": "dup2"}, {"name": 4}
        ]}),
        json!({"$setElementOrder/mergingList": [
            {"name": 2}, {"name": 1}, {"name": 4}, {"name": 3}, {"name": 2}
        ]}),
    );
    assert_eq!(
        got,
        Ok(json!({"mergingList": [
            {"name": 2, "value": "dup1"}, {"name": 2, "value": "dup2"}, {"name": 1}, {"name": 4}, {"name": 3}
        ]}))
    );
    let got = patch_item(
        json!({"mergingIntList": [1, 2, 3, 2, 4]}),
        json!({"$setElementOrder/mergingIntList": [2, 1, 4, 3, 2]}),
    );
    assert_eq!(got, Ok(json!({"mergingIntList": [2, 2, 1, 4, 3]})));
}

/// "retainKeys map should clear defaulted field with conflict (discriminated union)" and
/// "retainKeys map deletes nested non-merging list" (three-way patches on `current`).
#[test]
fn upstream_retain_keys_map() {
    assert_eq!(
        patch_item(
            json!({"retainKeysMap": {"name": "type1", "value": "foo"}}),
            json!({"retainKeysMap": {"$retainKeys": ["name", "other"], "name": "type2", "other": "bar"}})
        ),
        Ok(json!({"retainKeysMap": {"name": "type2", "other": "bar"}}))
    );
    assert_eq!(
        patch_item(
            json!({"retainKeysMap": {"name": "foo", "nonMergingList": [{"name": "a"}, {"name": "b"}]}}),
            json!({"retainKeysMap": {
                "$retainKeys": ["name", "value"], "value": "bar", "nonMergingList": null
            }})
        ),
        Ok(json!({"retainKeysMap": {"name": "foo", "value": "bar"}}))
    );
}

/// `customStrategicMergePatchTestCaseData` "retainKeys list can delete a field when no
/// retainKeys directive present" (`merge,retainKeys` list without the directive).
#[test]
fn upstream_retain_keys_list_without_directive() {
    let got = patch_item(
        json!({"retainKeysMergingList": [{"name": "bar"}, {"name": "foo", "value": "a"}]}),
        json!({"retainKeysMergingList": [{"name": "foo", "value": null}]}),
    );
    assert_eq!(
        got,
        Ok(json!({"retainKeysMergingList": [{"name": "bar"}, {"name": "foo"}]}))
    );
}

/// `createStrategicMergePatchTestCaseData` "defined null values should propagate removing
/// original fields" (two-way: `twoWayResult`) and "replace list of scalars".
#[test]
fn upstream_nulls_delete_and_plain_lists_replace() {
    assert_eq!(
        patch_item(
            json!({"name": "original-name", "value": "original-value"}),
            json!({"name": "modified-name", "value": null})
        ),
        Ok(json!({"name": "modified-name"}))
    );
    assert_eq!(
        patch_item(
            json!({"nonMergingIntList": [1, 2]}),
            json!({"nonMergingIntList": [2, 3]})
        ),
        Ok(json!({"nonMergingIntList": [2, 3]}))
    );
}

/// `replacingItem` has `x-kubernetes-patch-strategy: replace`: the patch map replaces it whole.
#[test]
fn replace_strategy_replaces_a_map() {
    let got = patch_item(
        json!({"replacingItem": {"a": 1, "b": {"c": 2}}}),
        json!({"replacingItem": {"b": {"d": 3}}}),
    );
    assert_eq!(got, Ok(json!({"replacingItem": {"b": {"d": 3}}})));
}

// ---------------------------------------------------------------------------------------------
// What kubectl sends, on a Deployment (apps/v1 schema excerpt).

const LAST_APPLIED_OLD: &str = r#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"annotations":{},"name":"web","namespace":"default"},"spec":{"replicas":2,"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"env":[{"name":"A","value":"1"},{"name":"B","value":"2"}],"image":"nginx:1.25","name":"app","ports":[{"containerPort":8080}]},{"args":["sleep","infinity"],"image":"busybox:1.36","name":"sidecar"}]}}}}
"#;
const LAST_APPLIED_NEW: &str = r#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"annotations":{},"name":"web","namespace":"default"},"spec":{"replicas":2,"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"env":[{"name":"A","value":"1"}],"image":"nginx:1.27","name":"app","ports":[{"containerPort":8080}]},{"args":["sleep","infinity"],"image":"busybox:1.36","name":"sidecar"}]}}}}
"#;

/// The live Deployment: what the server stored after `kubectl apply` of `LAST_APPLIED_OLD`
/// (defaults filled in), plus a finalizer list.
fn live_deployment() -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "web",
            "namespace": "default",
            "uid": "6f1c1e5e-2a7e-4c55-9d6f-0b8f9f5a1e11",
            "resourceVersion": "812",
            "generation": 1,
            "labels": {"app": "web"},
            "annotations": {
                "deployment.kubernetes.io/revision": "1",
                "kubectl.kubernetes.io/last-applied-configuration": LAST_APPLIED_OLD
            },
            "finalizers": ["example.com/a", "example.com/b", "example.com/c"]
        },
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "containers": [
                        {
                            "name": "app",
                            "image": "nginx:1.25",
                            "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
                            "ports": [{"containerPort": 8080, "protocol": "TCP"}],
                            "resources": {},
                            "terminationMessagePath": "/dev/termination-log",
                            "imagePullPolicy": "IfNotPresent"
                        },
                        {
                            "name": "sidecar",
                            "image": "busybox:1.36",
                            "args": ["sleep", "infinity"],
                            "resources": {},
                            "terminationMessagePath": "/dev/termination-log",
                            "imagePullPolicy": "IfNotPresent"
                        }
                    ],
                    "volumes": [{"name": "data", "emptyDir": {}}],
                    "restartPolicy": "Always",
                    "dnsPolicy": "ClusterFirst"
                }
            }
        },
        "status": {"observedGeneration": 1, "replicas": 2, "availableReplicas": 2}
    })
}

/// Sets `live_deployment()` at the JSON pointer `pointer` to `value`.
fn live_with(changes: &[(&str, Value)]) -> Value {
    let mut v = live_deployment();
    for (pointer, value) in changes {
        *v.pointer_mut(pointer)
            .expect("pointer exists in the live object") = value.clone();
    }
    v
}

/// `kubectl apply` after changing the app image and removing env `B`: the three-way patch
/// (`CreateThreeWayMergePatch`) carries `$setElementOrder` for both lists and a `$patch: delete`
/// element for the env var, with Go's sorted keys.
#[test]
fn kubectl_apply_changes_image_and_removes_an_env_var() {
    let patch = json!({
        "metadata": {"annotations": {"kubectl.kubernetes.io/last-applied-configuration": LAST_APPLIED_NEW}},
        "spec": {"template": {"spec": {
            "$setElementOrder/containers": [{"name": "app"}, {"name": "sidecar"}],
            "containers": [{
                "$setElementOrder/env": [{"name": "A"}],
                "env": [{"$patch": "delete", "name": "B"}],
                "image": "nginx:1.27",
                "name": "app"
            }]
        }}}
    });
    let got = patch_deployment(&live_deployment(), patch);
    let want = json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "web",
            "namespace": "default",
            "uid": "6f1c1e5e-2a7e-4c55-9d6f-0b8f9f5a1e11",
            "resourceVersion": "812",
            "generation": 1,
            "labels": {"app": "web"},
            "annotations": {
                "deployment.kubernetes.io/revision": "1",
                "kubectl.kubernetes.io/last-applied-configuration": LAST_APPLIED_NEW
            },
            "finalizers": ["example.com/a", "example.com/b", "example.com/c"]
        },
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "containers": [
                        {
                            "name": "app",
                            "image": "nginx:1.27",
                            "env": [{"name": "A", "value": "1"}],
                            "ports": [{"containerPort": 8080, "protocol": "TCP"}],
                            "resources": {},
                            "terminationMessagePath": "/dev/termination-log",
                            "imagePullPolicy": "IfNotPresent"
                        },
                        {
                            "name": "sidecar",
                            "image": "busybox:1.36",
                            "args": ["sleep", "infinity"],
                            "resources": {},
                            "terminationMessagePath": "/dev/termination-log",
                            "imagePullPolicy": "IfNotPresent"
                        }
                    ],
                    "volumes": [{"name": "data", "emptyDir": {}}],
                    "restartPolicy": "Always",
                    "dnsPolicy": "ClusterFirst"
                }
            }
        },
        "status": {"observedGeneration": 1, "replicas": 2, "availableReplicas": 2}
    });
    assert_eq!(got, want);
}

/// `kubectl set image deployment/web sidecar=busybox:1.37`: a two-way patch of the object
/// (`CreateTwoWayMergePatch`, so with `$setElementOrder/containers`).
#[test]
fn kubectl_set_image() {
    let patch = json!({"spec": {"template": {"spec": {
        "$setElementOrder/containers": [{"name": "app"}, {"name": "sidecar"}],
        "containers": [{"image": "busybox:1.37", "name": "sidecar"}]
    }}}});
    let got = patch_deployment(&live_deployment(), patch);
    assert_eq!(
        got,
        live_with(&[(
            "/spec/template/spec/containers/1/image",
            json!("busybox:1.37")
        )])
    );
}

/// `kubectl patch deployment web -p '{"spec":{"template":{"spec":{"containers":[{"name":"app","$patch":"delete"}]}}}}'`.
#[test]
fn kubectl_patch_deletes_a_container() {
    let patch = json!({"spec": {"template": {"spec": {"containers": [{"name": "app", "$patch": "delete"}]}}}});
    let got = patch_deployment(&live_deployment(), patch);
    let sidecar = live_deployment()["spec"]["template"]["spec"]["containers"][1].clone();
    assert_eq!(
        got,
        live_with(&[("/spec/template/spec/containers", json!([sidecar]))])
    );
}

/// `kubectl apply` after swapping the two containers in the manifest: only the order directive.
#[test]
fn set_element_order_reorders_containers() {
    let patch = json!({"spec": {"template": {"spec": {
        "$setElementOrder/containers": [{"name": "sidecar"}, {"name": "app"}]
    }}}});
    let got = patch_deployment(&live_deployment(), patch);
    let containers = &live_deployment()["spec"]["template"]["spec"]["containers"];
    assert_eq!(
        got,
        live_with(&[(
            "/spec/template/spec/containers",
            json!([containers[1].clone(), containers[0].clone()])
        )])
    );
}

/// `kubectl apply` switching the strategy to `Recreate` (`strategy` is `retainKeys`, so the
/// three-way patch lists the kept keys) and a volume from `emptyDir` to `hostPath` (`volumes` is
/// `merge,retainKeys`): the fields not listed are cleared.
#[test]
fn retain_keys_clears_unlisted_fields() {
    let patch = json!({"spec": {
        "strategy": {"$retainKeys": ["type"], "type": "Recreate"},
        "template": {"spec": {
            "$setElementOrder/volumes": [{"name": "data"}],
            "volumes": [{"$retainKeys": ["hostPath", "name"], "hostPath": {"path": "/srv/data"}, "name": "data"}]
        }}
    }});
    let got = patch_deployment(&live_deployment(), patch);
    assert_eq!(
        got,
        live_with(&[
            ("/spec/strategy", json!({"type": "Recreate"})),
            (
                "/spec/template/spec/volumes",
                json!([{"name": "data", "hostPath": {"path": "/srv/data"}}])
            ),
        ])
    );
}

/// A patch setting a field its `$retainKeys` does not list is a 400.
#[test]
fn retain_keys_must_list_every_patched_field() {
    let err = apply(
        &live_deployment(),
        &json!({"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate", "rollingUpdate": {}}}}),
        &apps(),
        DEPLOYMENT,
    )
    .unwrap_err();
    assert_eq!(err, StrategicPatchError::BadPatchFormatForRetainKeys);
    assert_eq!(
        String::from_utf8(err.status().to_json()).unwrap(),
        r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"invalid patch format of retainKeys","reason":"BadRequest","code":400}"#
    );
    let err = apply(
        &live_deployment(),
        &json!({"spec": {"strategy": {"$retainKeys": "type"}}}),
        &apps(),
        DEPLOYMENT,
    )
    .unwrap_err();
    assert_eq!(err, StrategicPatchError::BadPatchFormatForRetainKeys);
}

/// `kubectl apply` removing finalizer `b` (`finalizers` is a `merge` list of strings), and a
/// plain `kubectl patch` adding one: set union, the patch's items ahead of the server's.
#[test]
fn finalizers_delete_from_primitive_list_and_union() {
    let patch = json!({"metadata": {
        "$deleteFromPrimitiveList/finalizers": ["example.com/b"],
        "$setElementOrder/finalizers": ["example.com/a", "example.com/c"]
    }});
    assert_eq!(
        patch_deployment(&live_deployment(), patch),
        live_with(&[(
            "/metadata/finalizers",
            json!(["example.com/a", "example.com/c"])
        )])
    );
    let patch = json!({"metadata": {"finalizers": ["example.com/d", "example.com/a"]}});
    assert_eq!(
        patch_deployment(&live_deployment(), patch),
        live_with(&[(
            "/metadata/finalizers",
            json!([
                "example.com/d",
                "example.com/a",
                "example.com/b",
                "example.com/c"
            ])
        )])
    );
}

/// `kubectl label deployment web tier=frontend app-` and `kubectl annotate`: map merges where
/// null deletes (labels and annotations are `additionalProperties` maps).
#[test]
fn kubectl_label_and_annotate() {
    let patch = json!({"metadata": {
        "labels": {"app": null, "tier": "frontend"},
        "annotations": {"deployment.kubernetes.io/revision": null, "owner": "team-a"}
    }});
    assert_eq!(
        patch_deployment(&live_deployment(), patch),
        live_with(&[
            ("/metadata/labels", json!({"tier": "frontend"})),
            (
                "/metadata/annotations",
                json!({"kubectl.kubernetes.io/last-applied-configuration": LAST_APPLIED_OLD, "owner": "team-a"})
            ),
        ])
    );
}

/// Ports merge by `containerPort`; without `$setElementOrder` a new element goes ahead of the
/// server's (`mergeSortedSlice`), exactly as kube-apiserver orders it.
#[test]
fn ports_merge_by_container_port() {
    let patch = json!({"spec": {"template": {"spec": {"containers": [
        {"name": "app", "ports": [{"containerPort": 8443, "name": "https"}, {"containerPort": 8080, "name": "http"}]}
    ]}}}});
    assert_eq!(
        patch_deployment(&live_deployment(), patch),
        live_with(&[(
            "/spec/template/spec/containers/0/ports",
            json!([{"containerPort": 8443, "name": "https"}, {"containerPort": 8080, "protocol": "TCP", "name": "http"}])
        )])
    );
}

/// A list without patch strategy (`args`, `tolerations`) is replaced; a new value has its nulls
/// and `$patch` elements removed (`discardNullValuesFromPatch`, `removeDirectives`).
#[test]
fn plain_lists_replace_and_new_values_are_cleaned() {
    let patch = json!({"spec": {"template": {"spec": {
        "containers": [{"name": "sidecar", "args": ["sleep", "60"]}],
        "securityContext": {"runAsUser": 1000, "fsGroup": null},
        "tolerations": [{"key": "k", "$patch": "delete"}, {"key": "j", "operator": "Exists", "value": null}]
    }}}});
    let mut want = live_with(&[(
        "/spec/template/spec/containers/1/args",
        json!(["sleep", "60"]),
    )]);
    let spec = want
        .pointer_mut("/spec/template/spec")
        .and_then(Value::as_object_mut)
        .expect("pod spec");
    spec.insert("securityContext".into(), json!({"runAsUser": 1000}));
    spec.insert(
        "tolerations".into(),
        json!([{"key": "j", "operator": "Exists"}]),
    );
    assert_eq!(patch_deployment(&live_deployment(), patch), want);
}

/// Without schema information (an unknown root) maps still merge but every list is replaced,
/// as upstream does for data it has no metadata for.
#[test]
fn no_schema_merges_maps_and_replaces_lists() {
    let original = json!({"data": {"a": "1", "b": "2"}, "items": [{"name": "x"}, {"name": "y"}]});
    let patch = json!({"data": {"a": null, "c": "3"}, "items": [{"name": "y", "v": 1}]});
    let got = apply(
        &original,
        &patch,
        &Map::new(),
        "io.k8s.api.core.v1.ConfigMap",
    );
    assert_eq!(
        got,
        Ok(json!({"data": {"b": "2", "c": "3"}, "items": [{"name": "y", "v": 1}]}))
    );
}

// ---------------------------------------------------------------------------------------------
// Errors and their statuses.

/// `mergepatch.ErrNoListOfLists` is the one 422 (`NewGenericServerResponse`, message fixed).
#[test]
fn list_of_lists_is_422() {
    let err = patch_item(
        json!({"mergingIntList": []}),
        json!({"mergingIntList": [[1]]}),
    )
    .unwrap_err();
    assert_eq!(err, StrategicPatchError::NoListOfLists);
    assert_eq!(err.to_string(), "lists of lists are not supported");
    assert_eq!(
        String::from_utf8(err.status().to_json()).unwrap(),
        r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"the server rejected our request due to an error in our request","reason":"Invalid","details":{},"code":422}"#
    );
}

/// Malformed directive keys are 400s with upstream's texts.
#[test]
fn malformed_directive_keys_are_400() {
    let err = patch_item(
        json!({"mergingIntList": [1]}),
        json!({"$setElementOrder": [1]}),
    )
    .unwrap_err();
    assert_eq!(
        err,
        StrategicPatchError::BadPatchFormatForSetElementOrderList
    );
    assert_eq!(
        err.status().message,
        "invalid patch format of setElementOrder list"
    );
    assert_eq!(err.status().code, 400);
    let err = patch_item(
        json!({"mergingIntList": [1]}),
        json!({"$deleteFromPrimitiveList": [1]}),
    )
    .unwrap_err();
    assert_eq!(err, StrategicPatchError::BadPatchFormatForPrimitiveList);
    assert_eq!(err.status().reason, "BadRequest");
}

/// Unknown or unsupported `$patch` values, as a map directive and as a list element.
#[test]
fn bad_patch_directives() {
    let err = patch_item(
        json!({"mergingList": [{"name": "a"}]}),
        json!({"mergingList": [{"name": "a", "$patch": "foo"}]}),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown patch type: foo in map: map[$patch:foo name:a]"
    );
    let err = patch_item(
        json!({"mergingList": [{"name": "a"}]}),
        json!({"mergingList": [{"$patch": "merge"}]}),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "merging lists cannot yet be specified in the patch"
    );
    let err = patch_item(
        json!({"retainKeysMap": {"name": "a"}}),
        json!({"retainKeysMap": {"$patch": 1}}),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown patch type: %!s(int64=1) in map: map[$patch:1]"
    );
    assert_eq!(err.status().code, 500);
}

/// Mixed element types in a merged list (`sliceElementType`).
#[test]
fn mixed_element_types() {
    let err = patch_item(
        json!({"mergingIntList": [1]}),
        json!({"mergingIntList": ["a"]}),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "list element types are not identical: [[1] [a]]"
    );
}

/// The body must be a JSON object (`strategicPatchObject` decodes into a map: 400).
#[test]
fn non_object_bodies_are_400() {
    let err = apply(&json!({}), &json!([1]), &merge_item(), MERGE_ITEM).unwrap_err();
    assert_eq!(
        err.to_string(),
        "json: cannot unmarshal array into Go value of type map[string]interface {}"
    );
    assert_eq!(err.status().code, 400);
    let err = apply_bytes(&json!({}), b"{\"a\":", &merge_item(), MERGE_ITEM).unwrap_err();
    assert!(matches!(err, StrategicPatchError::Decode(_)));
    assert_eq!(err.status().reason, "BadRequest");
    assert_eq!(
        apply_bytes(&json!({"a": 1}), b"null", &merge_item(), MERGE_ITEM),
        Ok(json!({"a": 1}))
    );
    assert_eq!(
        apply(&json!("x"), &json!({}), &merge_item(), MERGE_ITEM),
        Err(StrategicPatchError::BadJsonDoc)
    );
}
