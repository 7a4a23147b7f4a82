//! The example manifests (examples/*.yaml) played by `simulate` and read back by the guest via `info`.

use crate::harness::{PodRoot, stderr, workspace};
use serde_json::json;

fn simulate(pod: &PodRoot, manifest: &str) -> String {
    pod.simulate(&workspace().join("examples").join(manifest), &[])
}

#[test]
fn seed_pod() {
    let pod = PodRoot::new();
    simulate(&pod, "seed-pod.yaml");
    let info = pod.info(&[]);
    assert_eq!(info["name"], "seed-demo");
    assert_eq!(info["namespace"], "demo");
    assert_eq!(info["sources"]["metadata.name"], "env:POD_NAME");
    assert_eq!(
        info["labels"],
        json!({"app": "seed-demo", "tier": "backend"})
    );
    assert_eq!(
        info["annotations"]["description"],
        "Downward API demo: \"labels\" and limits as files"
    );
    assert_eq!(
        info["resources"]["limits.cpu"],
        json!({"value": 500, "divisor": "1m", "millicores": 500})
    );
    assert_eq!(
        info["sources"]["limits.cpu"],
        "file:/etc/downward/cpu_limit"
    );
    assert_eq!(info["errors"], json!([]));
    // The uid is not exposed by this manifest, so it is absent.
    assert!(info.get("uid").is_none(), "{info}");
}

#[test]
fn docs_dapi_volume_labels_and_annotations() {
    let pod = PodRoot::new();
    simulate(&pod, "dapi-volume.yaml");
    // What the kubelet writes, byte for byte (sorted keys, %q values, no trailing newline).
    let labels = std::fs::read_to_string(pod.host("/etc/podinfo/labels")).unwrap();
    assert_eq!(
        labels,
        "cluster=\"test-cluster1\"\nrack=\"rack-22\"\nzone=\"us-est-coast\""
    );
    let info = pod.info(&[]);
    assert_eq!(
        info["labels"],
        json!({"cluster": "test-cluster1", "rack": "rack-22", "zone": "us-est-coast"})
    );
    assert_eq!(info["annotations"]["build"], "two");
    assert_eq!(info["annotations"]["builder"], "john-doe");
    // Namespace from the ServiceAccount volume, the last resort.
    assert_eq!(info["namespace"], "default");
    assert_eq!(
        info["sources"]["metadata.namespace"],
        "serviceaccount:/var/run/secrets/kubernetes.io/serviceaccount/namespace"
    );
}

#[test]
fn docs_dapi_volume_resources_divisors() {
    let pod = PodRoot::new();
    let out = simulate(&pod, "dapi-volume-resources.yaml");
    assert!(
        out.contains("POD_INTROSPECT_FIELDS"),
        "simulate hints at the divisor mapping: {out}"
    );
    // limits.cpu 250m / 1m, requests.cpu 125m / 1m, 64Mi / 1Mi, 32Mi / 1Mi, rounded up.
    for (file, want) in [
        ("cpu_limit", "250"),
        ("cpu_request", "125"),
        ("mem_limit", "64"),
        ("mem_request", "32"),
    ] {
        assert_eq!(
            std::fs::read_to_string(pod.host(&format!("/etc/podinfo/{file}"))).unwrap(),
            want,
            "{file}"
        );
    }
    // No POD_INTROSPECT_FIELDS: the divisors come from the spec simulate recorded.
    let info = pod.info(&[]);
    let r = &info["resources"];
    assert_eq!(
        r["limits.cpu"],
        json!({"value": 250, "divisor": "1m", "millicores": 250})
    );
    assert_eq!(
        r["requests.cpu"],
        json!({"value": 125, "divisor": "1m", "millicores": 125})
    );
    assert_eq!(
        r["limits.memory"],
        json!({"value": 64, "divisor": "1Mi", "bytes": 67108864})
    );
    assert_eq!(
        r["requests.memory"],
        json!({"value": 32, "divisor": "1Mi", "bytes": 33554432})
    );
    assert_eq!(info["sources"]["limits.cpu"], "file:/etc/podinfo/cpu_limit");
    // A mapping in the env comes first and wins over the spec's.
    let mapping = "POD_INTROSPECT_FIELDS=limits.cpu=file:/etc/podinfo/cpu_limit;divisor=1";
    let info = pod.info(&["--env", mapping]);
    assert_eq!(
        info["resources"]["limits.cpu"],
        json!({"value": 250, "divisor": "1", "millicores": 250000})
    );
}

#[test]
fn docs_dapi_envars_fieldref() {
    let pod = PodRoot::new();
    simulate(&pod, "dapi-envars-pod.yaml");
    let info = pod.info(&[]);
    assert_eq!(info["name"], "dapi-envars-fieldref");
    assert_eq!(info["namespace"], "default");
    assert_eq!(
        info["sources"]["metadata.namespace"],
        "env:MY_POD_NAMESPACE"
    );
    assert_eq!(info["nodeName"], "pod-introspect-node");
    assert_eq!(info["serviceAccountName"], "default");
    assert_eq!(info["podIP"], "10.244.0.10");
    assert_eq!(info["sources"]["status.podIP"], "env:MY_POD_IP");
}

#[test]
fn docs_dapi_envars_resourcefieldref() {
    let pod = PodRoot::new();
    simulate(&pod, "dapi-envars-container.yaml");
    let info = pod.info(&[]);
    let r = &info["resources"];
    // The docs' expected output: 1, 1, 33554432, 67108864 (cpu rounded up to whole cores). The
    // spec sets no divisor, so it is known to be 1 (the kubelet's default): the unit figures are
    // there too.
    assert_eq!(
        r["requests.cpu"],
        json!({"value": 1, "divisor": "1", "millicores": 1000})
    );
    assert_eq!(
        r["limits.cpu"],
        json!({"value": 1, "divisor": "1", "millicores": 1000})
    );
    assert_eq!(
        r["requests.memory"],
        json!({"value": 33554432, "divisor": "1", "bytes": 33554432})
    );
    assert_eq!(
        r["limits.memory"],
        json!({"value": 67108864, "divisor": "1", "bytes": 67108864})
    );
    assert_eq!(info["sources"]["limits.memory"], "env:MY_MEM_LIMIT");
}

#[test]
fn resimulating_after_a_label_edit_swaps_data() {
    let pod = PodRoot::new();
    let manifest = pod.path().join("pod.yaml");
    let text = std::fs::read_to_string(workspace().join("examples/dapi-volume.yaml")).unwrap();
    std::fs::write(&manifest, &text).unwrap();
    pod.simulate(&manifest, &[]);
    let before = std::fs::read_link(pod.host("/etc/podinfo/..data")).unwrap();
    let uid_before =
        std::fs::read_to_string(pod.path().join(".pod-introspect/container.json")).unwrap();
    std::fs::write(&manifest, text.replace("rack: rack-22", "rack: rack-23")).unwrap();
    pod.simulate(&manifest, &[]);
    let after = std::fs::read_link(pod.host("/etc/podinfo/..data")).unwrap();
    assert_ne!(before, after, "..data must point at a new version");
    assert!(
        !pod.host("/etc/podinfo").join(&before).exists(),
        "the old version is removed"
    );
    assert_eq!(pod.info(&[])["labels"]["rack"], "rack-23");
    let uid_after =
        std::fs::read_to_string(pod.path().join(".pod-introspect/container.json")).unwrap();
    let uid = |t: &str| serde_json::from_str::<serde_json::Value>(t).unwrap()["pod"]["uid"].clone();
    assert_eq!(uid(&uid_before), uid(&uid_after), "the pod keeps its uid");
}

#[test]
fn invalid_manifest_is_rejected_with_the_api_server_message() {
    let pod = PodRoot::new();
    let manifest = pod.path().join("bad.yaml");
    let text = std::fs::read_to_string(workspace().join("examples/dapi-volume.yaml")).unwrap();
    std::fs::write(
        &manifest,
        text.replace(
            "fieldPath: metadata.annotations",
            "fieldPath: spec.nodeName",
        ),
    )
    .unwrap();
    let out = pod.run(&[
        "simulate",
        "--pod",
        manifest.to_str().unwrap(),
        "--root",
        pod.path().to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("Pod \"kubernetes-downwardapi-volume-example\" is invalid"),
        "{err}"
    );
    assert!(err.contains("spec.volumes[0].downwardAPI.fieldRef.fieldPath: Unsupported value: \"spec.nodeName\": supported values: \"metadata.annotations\", \"metadata.labels\", \"metadata.name\", \"metadata.namespace\", \"metadata.uid\""), "{err}");
    assert!(err.contains("bad.yaml"), "{err}");
}

/// Env vars of any name and a subPath'd resource file: the spec tells the guest which field each
/// is and in which unit, with no POD_INTROSPECT_FIELDS.
#[test]
fn the_spec_names_env_vars_of_any_name_and_their_divisors() {
    let pod = PodRoot::new();
    let manifest = pod.path().join("pod.yaml");
    std::fs::write(
        &manifest,
        r#"apiVersion: v1
kind: Pod
metadata:
  name: odd-names
  namespace: shop
  labels: {app: odd}
spec:
  containers:
    - name: app
      image: app
      resources:
        limits: {cpu: 750m, memory: 96Mi}
      env:
        - name: WHO_AM_I
          valueFrom: {fieldRef: {fieldPath: metadata.name}}
        - name: CPU_BUDGET
          valueFrom: {resourceFieldRef: {resource: limits.cpu, divisor: 1m}}
      volumeMounts:
        - {name: meta, mountPath: /etc/meta}
  volumes:
    - name: meta
      downwardAPI:
        items:
          - path: memory/budget
            resourceFieldRef: {containerName: app, resource: limits.memory, divisor: 1Mi}
          - path: tags
            fieldRef: {fieldPath: metadata.labels}
"#,
    )
    .unwrap();
    pod.simulate(&manifest, &[]);
    let info = pod.info(&[]);
    assert_eq!(info["name"], "odd-names");
    assert_eq!(info["sources"]["metadata.name"], "env:WHO_AM_I");
    assert_eq!(
        info["resources"]["limits.cpu"],
        json!({"value": 750, "divisor": "1m", "millicores": 750})
    );
    assert_eq!(
        info["resources"]["limits.memory"],
        json!({"value": 96, "divisor": "1Mi", "bytes": 100663296})
    );
    assert_eq!(
        info["sources"]["limits.memory"],
        "file:/etc/meta/memory/budget"
    );
    assert_eq!(info["labels"], json!({"app": "odd"}));
    assert_eq!(info["sources"]["metadata.labels"], "file:/etc/meta/tags");
    assert_eq!(info["errors"], json!([]));
}
