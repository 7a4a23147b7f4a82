//! The example manifests (examples/*.yaml) played by `simulate` and read back by the guest via `info`.

use crate::harness::{PodRoot, stderr, workspace};
use serde_json::{Value, json};

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

/// Field paths of `value` below `path`, objects by key and arrays as `[]`
/// (`spec.variables[].valueFrom`); a subtree whose path is in `typed` is handed to that function
/// (a Kubernetes type, checked with k8s-openapi) instead.
fn field_paths(
    value: &Value,
    path: &str,
    typed: &dyn Fn(&str, &Value) -> bool,
    out: &mut Vec<String>,
) {
    if typed(path, value) {
        return;
    }
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let p = format!("{path}.{k}");
                out.push(p.clone());
                field_paths(v, &p, typed, out);
            }
        }
        Value::Array(items) => {
            for v in items {
                field_paths(v, &format!("{path}[]"), typed, out);
            }
        }
        _ => {}
    }
}

/// The CRD field paths README lists on the line that starts with `- \`KIND\` fields`: every
/// backticked `spec...` path; one ending in `.*` is a map whose keys are free.
fn readme_crd_fields(kind: &str) -> Vec<String> {
    let readme = std::fs::read_to_string(workspace().join("README.md")).unwrap();
    let start = format!("- `{kind}` fields");
    let line = readme
        .lines()
        .find(|l| l.starts_with(&start))
        .unwrap_or_else(|| panic!("README has no line starting with {start:?}"));
    line.split('`')
        .skip(1)
        .step_by(2)
        .filter(|p| p.starts_with("spec"))
        .map(String::from)
        .collect()
}

fn allowed(fields: &[String], path: &str) -> bool {
    fields.iter().any(|f| match f.strip_suffix(".*") {
        Some(map) => path == map || path.starts_with(&format!("{map}.")),
        None => f == path,
    })
}

/// Every manifest under examples/ parses into its type: Kubernetes kinds with k8s-openapi, no
/// field left over; a SpinApp and a wasmCloud WorkloadDeployment field by field against the CRD
/// fields README lists (their embedded Kubernetes types, such as `volumes`, with k8s-openapi);
/// the wasmCloud Helm values' host-group volumes likewise. A misspelled field (`hostPath.localPath`
/// for `hostPath.path`) fails.
#[test]
fn every_example_manifest_parses_into_its_types() {
    use crate::harness::strict;
    use k8s_openapi::api::apps::v1::Deployment;
    use k8s_openapi::api::core::v1::{
        ConfigMap, EnvVarSource, Pod, ResourceRequirements, Secret, Volume, VolumeMount,
    };
    use k8s_openapi::api::node::v1::RuntimeClass;

    let core_subtree = |file: &str, path: &str, v: &Value| -> bool {
        match path {
            "spec.volumes" | "runtime.hostGroups[].volumes" => {
                drop(strict::<Vec<Volume>>(v, &format!("{file} {path}")))
            }
            "spec.volumeMounts" | "runtime.hostGroups[].volumeMounts" => {
                drop(strict::<Vec<VolumeMount>>(v, &format!("{file} {path}")))
            }
            "spec.resources" => drop(strict::<ResourceRequirements>(v, &format!("{file} {path}"))),
            "spec.variables[].valueFrom" => {
                drop(strict::<EnvVarSource>(v, &format!("{file} {path}")))
            }
            _ => return false,
        }
        true
    };
    // The check itself refuses a misspelled field.
    let mut paths = Vec::new();
    let typo = serde_json::json!({"volumes": [{"name": "v", "hostPath": {"localPath": "/x"}}]});
    field_paths(
        &typo["volumes"],
        "spec.template.spec.volumes",
        &|_, _| false,
        &mut paths,
    );
    let wd = readme_crd_fields("WorkloadDeployment");
    assert!(!allowed(
        &wd,
        "spec.template.spec.volumes[].hostPath.localPath"
    ));
    assert!(allowed(&wd, "spec.template.spec.volumes[].hostPath.path"));
    assert!(paths.iter().any(|p| !allowed(&wd, p)), "{paths:?}");

    let mut seen = Vec::new();
    let mut stack = vec![workspace().join("examples")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                if path.file_name().is_some_and(|n| n != "target") {
                    stack.push(path);
                }
                continue;
            }
            if path.extension().and_then(|e| e.to_str()) != Some("yaml") {
                continue;
            }
            let file = path.display().to_string();
            let text = std::fs::read_to_string(&path).unwrap();
            let docs: Vec<Value> =
                serde_saphyr::from_multiple(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
            for doc in docs.into_iter().filter(|d| !d.is_null()) {
                let api = doc["apiVersion"].as_str().unwrap_or_default();
                let kind = doc["kind"].as_str().unwrap_or_default();
                let crd = |kind: &str, doc: &Value| {
                    let fields = readme_crd_fields(kind);
                    let mut paths = Vec::new();
                    field_paths(
                        &doc["spec"],
                        "spec",
                        &|p, v| core_subtree(&file, p, v),
                        &mut paths,
                    );
                    let unknown: Vec<&String> =
                        paths.iter().filter(|p| !allowed(&fields, p)).collect();
                    assert!(
                        unknown.is_empty(),
                        "{file}: {kind} fields not in its CRD (README): {unknown:?}"
                    );
                };
                match (api, kind) {
                    ("v1", "Pod") => drop(strict::<Pod>(&doc, &file)),
                    ("v1", "Secret") => drop(strict::<Secret>(&doc, &file)),
                    ("v1", "ConfigMap") => drop(strict::<ConfigMap>(&doc, &file)),
                    ("apps/v1", "Deployment") => drop(strict::<Deployment>(&doc, &file)),
                    ("node.k8s.io/v1", "RuntimeClass") => drop(strict::<RuntimeClass>(&doc, &file)),
                    ("core.spinkube.dev/v1alpha1", "SpinApp") => crd("SpinApp", &doc),
                    ("runtime.wasmcloud.dev/v1alpha1", "WorkloadDeployment") => {
                        crd("WorkloadDeployment", &doc)
                    }
                    // The runtime-operator chart's values: the host groups' pod volumes.
                    ("", "") if path.ends_with("wasmcloud/values.yaml") => {
                        let mut paths = Vec::new();
                        field_paths(
                            &doc["runtime"],
                            "runtime",
                            &|p, v| core_subtree(&file, p, v),
                            &mut paths,
                        );
                        assert!(
                            paths.iter().any(|p| p == "runtime.hostGroups[].extraArgs"),
                            "{paths:?}"
                        );
                        // A `hostGroups` list replaces the chart's default entry: without its
                        // HTTP server, wash host serves no wasi:http and ignores
                        // --http-client-ca-path.
                        for group in doc["runtime"]["hostGroups"].as_array().unwrap() {
                            assert_eq!(group["http"]["enabled"], true, "{file}: {group}");
                        }
                    }
                    other => panic!("{file}: no check for {other:?}"),
                }
                seen.push(format!(
                    "{kind}:{}",
                    path.file_name().unwrap().to_string_lossy()
                ));
            }
        }
    }
    seen.sort();
    for want in [
        "SpinApp:spinapp.yaml",
        "Secret:spinapp.yaml",
        "Deployment:deployment.yaml",
        "WorkloadDeployment:workload.yaml",
        "RuntimeClass:runtimeclass.yaml",
        "Pod:pod.yaml",
        ":values.yaml",
    ] {
        assert!(
            seen.iter().any(|s| s == want),
            "{want} not checked: {seen:?}"
        );
    }
}
