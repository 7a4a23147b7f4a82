//! `strategic_patch::apply` against the real kubectl's strategic merge: `kubectl patch --local`
//! runs upstream's `strategicpatch.StrategicMergePatch` offline with the Go types' patch tags,
//! so for each patch kubectl sends, our result (with the apps/v1 OpenAPI excerpt) must be the
//! object kubectl computes. Both sides go through kubectl's typed round trip (our result is
//! passed through `kubectl patch --local -p '{}'`), which adds `resources: {}`,
//! `creationTimestamp: null` and the like. Skipped with a printed reason when `kubectl` is not
//! on PATH, failed under `POD_INTROSPECT_REQUIRE_TOOLS=1`.

use std::path::Path;
use std::process::Command;

use pod_introspect_apiserver::strategic_patch::apply;
use serde_json::{Map, Value, json};

const DEPLOYMENT: &str = "io.k8s.api.apps.v1.Deployment";

fn apps() -> Map<String, Value> {
    let doc: Value = serde_json::from_str(include_str!(
        "../../src/strategic_patch/testdata/apps-v1-excerpt-v3.json"
    ))
    .unwrap();
    doc["components"]["schemas"].as_object().cloned().unwrap()
}

/// A Deployment as the server keeps it, written by hand.
fn live() -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "web",
            "namespace": "default",
            "labels": {"app": "web"},
            "annotations": {"deployment.kubernetes.io/revision": "1"},
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
                            "imagePullPolicy": "IfNotPresent"
                        },
                        {"name": "sidecar", "image": "busybox:1.36", "args": ["sleep", "infinity"]}
                    ],
                    "volumes": [{"name": "data", "emptyDir": {}}],
                    "restartPolicy": "Always"
                }
            }
        }
    })
}

/// The patches of `src/strategic_patch/tests.rs`, as kubectl sends them.
const PATCHES: &[&str] = &[
    // kubectl apply: image changed, env B removed.
    r#"{"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"app"},{"name":"sidecar"}],"containers":[{"$setElementOrder/env":[{"name":"A"}],"env":[{"$patch":"delete","name":"B"}],"image":"nginx:1.27","name":"app"}]}}}}"#,
    // kubectl set image.
    r#"{"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"app"},{"name":"sidecar"}],"containers":[{"image":"busybox:1.37","name":"sidecar"}]}}}}"#,
    // delete a container.
    r#"{"spec":{"template":{"spec":{"containers":[{"name":"app","$patch":"delete"}]}}}}"#,
    // reorder.
    r#"{"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"sidecar"},{"name":"app"}]}}}}"#,
    // retainKeys on strategy and on a volume.
    r#"{"spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate"},"template":{"spec":{"$setElementOrder/volumes":[{"name":"data"}],"volumes":[{"$retainKeys":["hostPath","name"],"hostPath":{"path":"/srv/data"},"name":"data"}]}}}}"#,
    // finalizers: delete one, add some.
    r#"{"metadata":{"$deleteFromPrimitiveList/finalizers":["example.com/b"],"$setElementOrder/finalizers":["example.com/a","example.com/c"]}}"#,
    r#"{"metadata":{"finalizers":["example.com/d","example.com/a"]}}"#,
    // kubectl label / annotate.
    r#"{"metadata":{"labels":{"app":null,"tier":"frontend"},"annotations":{"deployment.kubernetes.io/revision":null,"owner":"team-a"}}}"#,
    // ports by containerPort, new ones first.
    r#"{"spec":{"template":{"spec":{"containers":[{"name":"app","ports":[{"containerPort":8443,"name":"https"},{"containerPort":8080,"name":"http"}]}]}}}}"#,
    // plain lists replaced, new values cleaned of nulls and $patch elements.
    r#"{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","args":["sleep","60"]}],"securityContext":{"runAsUser":1000,"fsGroup":null},"tolerations":[{"key":"k","$patch":"delete"},{"key":"j","operator":"Exists","value":null}]}}}}"#,
    // env merge with a new variable and a value change, order from the directive.
    r#"{"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"app"},{"name":"sidecar"}],"containers":[{"$setElementOrder/env":[{"name":"C"},{"name":"A"},{"name":"B"}],"env":[{"name":"C","value":"3"},{"name":"A","value":"one"}],"name":"app"}]}}}}"#,
];

/// `kubectl patch --local -f OBJECT --type strategic -p PATCH -o json`: the patched object, or
/// kubectl's stderr.
fn kubectl_patch(bin: &Path, dir: &Path, object: &Value, patch: &str) -> Result<Value, String> {
    let file = dir.join("object.json");
    std::fs::write(&file, serde_json::to_vec(object).unwrap()).unwrap();
    let out = Command::new(bin)
        .env_clear()
        .env("HOME", dir)
        .env("KUBECONFIG", dir.join("no-kubeconfig"))
        .args([
            "patch",
            "--local",
            "--type",
            "strategic",
            "-o",
            "json",
            "-f",
        ])
        .arg(&file)
        .args(["-p", patch])
        .output()
        .unwrap();
    if out.status.success() {
        Ok(serde_json::from_slice(&out.stdout).unwrap())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_owned())
    }
}

#[test]
fn apply_agrees_with_kubectl_local_patch() {
    let Some(bin) = pod_introspect_test_support::kubectl() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let schemas = apps();
    for patch in PATCHES {
        let want = kubectl_patch(&bin, dir.path(), &live(), patch).unwrap();
        let ours = apply(
            &live(),
            &serde_json::from_str(patch).unwrap(),
            &schemas,
            DEPLOYMENT,
        )
        .unwrap_or_else(|e| panic!("{patch}: {e}"));
        let got = kubectl_patch(&bin, dir.path(), &ours, "{}").unwrap();
        assert_eq!(got, want, "patch {patch}");
    }
}

/// The error text of a patch element without its merge key is the same as kubectl's.
#[test]
fn missing_merge_key_error_agrees_with_kubectl() {
    let Some(bin) = pod_introspect_test_support::kubectl() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let patch = r#"{"spec":{"template":{"spec":{"containers":[{"image":"nginx:1.27"}]}}}}"#;
    let kubectl = kubectl_patch(&bin, dir.path(), &live(), patch).unwrap_err();
    let ours = apply(
        &live(),
        &serde_json::from_str(patch).unwrap(),
        &apps(),
        DEPLOYMENT,
    )
    .unwrap_err();
    assert_eq!(
        ours.to_string(),
        "map: map[image:nginx:1.27] does not contain declared merge key: name"
    );
    assert!(
        kubectl.contains(&ours.to_string()),
        "kubectl said: {kubectl}"
    );
}
