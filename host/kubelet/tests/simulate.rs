//! Scenario tests for `simulate`: a temporary container root, a manifest, and what a guest would
//! find there afterwards. Expected file contents are written out by hand from the kubelet's
//! formats, never produced by the code under test.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use pod_introspect_kubelet::{
    ContainerSandbox, MountKind, NodeAllocatable, SimulateError, SimulateOptions, SimulateReport,
    simulate,
};

/// A container root in a temporary directory.
struct Root {
    dir: tempfile::TempDir,
}

impl Root {
    fn new() -> Root {
        Root {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn options(&self, yaml: &str) -> SimulateOptions {
        SimulateOptions {
            pod_yaml: yaml.to_string(),
            manifest_name: "pod.yaml".to_string(),
            root: self.path().to_path_buf(),
            container: None,
            node_allocatable: NodeAllocatable::default(),
            api_server: None,
        }
    }

    fn run(&self, yaml: &str) -> SimulateReport {
        simulate(&self.options(yaml)).unwrap_or_else(|e| panic!("simulate failed: {e}"))
    }

    fn fail(&self, yaml: &str) -> String {
        match simulate(&self.options(yaml)) {
            Ok(_) => panic!("simulate accepted the manifest"),
            Err(e) => e.to_string(),
        }
    }

    /// Reads a file at a container path such as `/etc/podinfo/labels`.
    fn read(&self, container_path: &str) -> String {
        let path = self.host(container_path);
        fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    fn host(&self, container_path: &str) -> PathBuf {
        self.path().join(container_path.trim_start_matches('/'))
    }

    fn sandbox(&self) -> ContainerSandbox {
        ContainerSandbox::load(self.path())
            .expect("load")
            .expect("sandbox file written")
    }

    fn env(&self, name: &str) -> Option<String> {
        self.sandbox()
            .env
            .into_iter()
            .find(|e| e.name == name)
            .map(|e| e.value)
    }
}

fn mode_of(path: &Path) -> u32 {
    fs::metadata(path).expect("metadata").permissions().mode() & 0o7777
}

const LABELS_POD: &str = r#"
apiVersion: v1
kind: Pod
metadata:
  name: web
  labels:
    app: web
    tier: frontend
  annotations:
    a: 'x"y'
    note: front end
    multi: "line1\nline2"
spec:
  containers:
  - name: app
    image: app:1
    volumeMounts:
    - name: podinfo
      mountPath: /etc/podinfo
  volumes:
  - name: podinfo
    downwardAPI:
      items:
      - path: labels
        fieldRef:
          fieldPath: metadata.labels
      - path: annotations
        fieldRef:
          fieldPath: metadata.annotations
      - path: app
        fieldRef:
          fieldPath: metadata.labels['app']
      - path: missing
        fieldRef:
          fieldPath: metadata.labels['missing']
      - path: meta/name
        fieldRef:
          fieldPath: metadata.name
      - path: private
        mode: 0600
        fieldRef:
          fieldPath: metadata.namespace
"#;

#[test]
fn label_and_annotation_files_use_the_kubelet_format() {
    let root = Root::new();
    root.run(LABELS_POD);
    assert_eq!(
        root.read("/etc/podinfo/labels"),
        "app=\"web\"\ntier=\"frontend\""
    );
    assert_eq!(
        root.read("/etc/podinfo/annotations"),
        "a=\"x\\\"y\"\nmulti=\"line1\\nline2\"\nnote=\"front end\""
    );
    assert_eq!(root.read("/etc/podinfo/app"), "web");
    assert_eq!(root.read("/etc/podinfo/missing"), "");
    assert_eq!(root.read("/etc/podinfo/meta/name"), "web");
    assert_eq!(root.read("/etc/podinfo/private"), "default");
}

#[test]
fn volumes_use_the_atomic_writer_layout() {
    let root = Root::new();
    let report = root.run(LABELS_POD);
    let dir = root.host("/etc/podinfo");
    let volume = &report.volumes[0];
    assert_eq!(volume.name, "podinfo");
    assert_eq!(volume.mount_path, "/etc/podinfo");
    assert_eq!(volume.host_dir, dir);
    assert_eq!(
        volume.files,
        [
            "annotations",
            "app",
            "labels",
            "meta/name",
            "missing",
            "private"
        ]
    );

    let data = fs::read_link(dir.join("..data")).expect("..data is a symlink");
    let version = data.to_str().expect("utf-8");
    assert!(version.starts_with("..2"), "{version}");
    assert_eq!(version, volume.version_dir);
    assert!(!version.contains('/'));
    assert_eq!(mode_of(&dir.join(version)), 0o755);

    for top in ["labels", "annotations", "app", "missing", "private"] {
        assert_eq!(
            fs::read_link(dir.join(top)).expect("top-level symlink"),
            Path::new("..data").join(top)
        );
    }
    // Nested items: only the top component is linked.
    assert_eq!(
        fs::read_link(dir.join("meta")).unwrap(),
        Path::new("..data/meta")
    );
    assert!(
        fs::symlink_metadata(dir.join(version).join("meta/name"))
            .unwrap()
            .is_file()
    );

    assert_eq!(mode_of(&dir.join(version).join("labels")), 0o644);
    assert_eq!(mode_of(&dir.join(version).join("private")), 0o600);
}

#[test]
fn default_mode_applies_to_items_without_mode() {
    let root = Root::new();
    let yaml = LABELS_POD.replace(
        "    downwardAPI:\n",
        "    downwardAPI:\n      defaultMode: 0440\n",
    );
    let report = root.run(&yaml);
    let version = root
        .host("/etc/podinfo")
        .join(&report.volumes[0].version_dir);
    assert_eq!(mode_of(&version.join("labels")), 0o440);
    assert_eq!(mode_of(&version.join("private")), 0o600);
}

#[test]
fn rerun_after_a_label_edit_swaps_data_and_keeps_the_uid() {
    let root = Root::new();
    let first = root.run(LABELS_POD);
    let uid = root.sandbox().pod.uid;
    assert_eq!(uid.len(), 36, "a UUID: {uid}");
    let keep = root.host("/data/keep.txt");
    fs::create_dir_all(keep.parent().unwrap()).unwrap();
    fs::write(&keep, "mine").unwrap();

    // The same manifest again: nothing changed, so no new version.
    let same = root.run(LABELS_POD);
    assert_eq!(same.volumes[0].version_dir, first.volumes[0].version_dir);

    let edited = LABELS_POD.replace("tier: frontend", "tier: backend\n    track: canary");
    let second = root.run(&edited);
    let dir = root.host("/etc/podinfo");
    let old = &first.volumes[0].version_dir;
    let new = &second.volumes[0].version_dir;
    assert_ne!(old, new);
    assert_eq!(fs::read_link(dir.join("..data")).unwrap(), Path::new(new));
    assert!(!dir.join(old).exists(), "the old version is removed");
    assert_eq!(
        root.read("/etc/podinfo/labels"),
        "app=\"web\"\ntier=\"backend\"\ntrack=\"canary\""
    );
    assert_eq!(root.sandbox().pod.uid, uid);
    assert_eq!(fs::read_to_string(&keep).unwrap(), "mine");
    // metadata.uid is a volume field too: it shows the kept uid.
}

#[test]
fn uid_comes_from_the_manifest_or_is_new_for_another_pod() {
    let root = Root::new();
    let with_uid = LABELS_POD.replace(
        "  name: web\n",
        "  name: web\n  uid: 0b6c1d2e-3f40-4152-8364-758697a8b9ca\n",
    );
    root.run(&with_uid);
    assert_eq!(
        root.sandbox().pod.uid,
        "0b6c1d2e-3f40-4152-8364-758697a8b9ca"
    );
    // The root's previous uid wins over the manifest for the same pod.
    root.run(LABELS_POD);
    assert_eq!(
        root.sandbox().pod.uid,
        "0b6c1d2e-3f40-4152-8364-758697a8b9ca"
    );
    // Another pod name in the same root is another pod.
    root.run(&LABELS_POD.replace("  name: web\n", "  name: web-2\n"));
    let uid = root.sandbox().pod.uid;
    assert_ne!(uid, "0b6c1d2e-3f40-4152-8364-758697a8b9ca");
    assert_eq!(root.sandbox().pod.name, "web-2");
    let report = root.run(LABELS_POD);
    assert_ne!(root.sandbox().pod.uid, uid);
    assert!(
        report
            .notes
            .iter()
            .any(|n| n.contains("held pod default/web-2")),
        "{:#?}",
        report.notes
    );
}

const RESOURCES_POD: &str = r#"
apiVersion: v1
kind: Pod
metadata:
  name: res
spec:
  containers:
  - name: main
    resources:
      limits:
        cpu: 500m
        memory: 64Mi
      requests:
        memory: 32Mi
    volumeMounts:
    - name: res
      mountPath: /etc/res
  - name: nolimits
    resources:
      requests:
        cpu: 250m
  - name: zerolimit
    resources:
      limits:
        cpu: "0"
  volumes:
  - name: res
    downwardAPI:
      items:
      - {path: cpu_limit_m, resourceFieldRef: {containerName: main, resource: limits.cpu, divisor: 1m}}
      - {path: cpu_limit, resourceFieldRef: {containerName: main, resource: limits.cpu, divisor: "1"}}
      - {path: cpu_limit_default, resourceFieldRef: {containerName: main, resource: limits.cpu}}
      - {path: cpu_request_m, resourceFieldRef: {containerName: main, resource: requests.cpu, divisor: 1m}}
      - {path: mem_limit_mi, resourceFieldRef: {containerName: main, resource: limits.memory, divisor: 1Mi}}
      - {path: mem_limit, resourceFieldRef: {containerName: main, resource: limits.memory}}
      - {path: mem_request, resourceFieldRef: {containerName: main, resource: requests.memory, divisor: 1Mi}}
      - {path: storage_limit, resourceFieldRef: {containerName: main, resource: limits.ephemeral-storage, divisor: 1Gi}}
      - {path: storage_request, resourceFieldRef: {containerName: main, resource: requests.ephemeral-storage}}
      - {path: hugepages, resourceFieldRef: {containerName: main, resource: limits.hugepages-2Mi}}
      - {path: other_cpu_limit, resourceFieldRef: {containerName: nolimits, resource: limits.cpu, divisor: 1m}}
      - {path: other_cpu_request, resourceFieldRef: {containerName: nolimits, resource: requests.cpu}}
      - {path: other_mem_limit, resourceFieldRef: {containerName: nolimits, resource: limits.memory, divisor: 1Gi}}
      - {path: other_mem_request, resourceFieldRef: {containerName: nolimits, resource: requests.memory}}
      - {path: zero_cpu_limit, resourceFieldRef: {containerName: zerolimit, resource: limits.cpu, divisor: 1m}}
      - {path: zero_cpu_request, resourceFieldRef: {containerName: zerolimit, resource: requests.cpu}}
"#;

#[test]
fn resource_items_round_up_and_fall_back_to_node_allocatable() {
    let root = Root::new();
    root.run(RESOURCES_POD);
    let cases = [
        ("cpu_limit_m", "500"),
        ("cpu_limit", "1"),
        ("cpu_limit_default", "1"),
        // requests.cpu defaults to the cpu limit (the container sets limits, not a cpu request)
        ("cpu_request_m", "500"),
        ("mem_limit_mi", "64"),
        ("mem_limit", "67108864"),
        ("mem_request", "32"),
        // no ephemeral-storage limit: node allocatable 100Gi
        ("storage_limit", "100"),
        ("storage_request", "0"),
        ("hugepages", "0"),
        // no limits at all: node allocatable cpu=4, memory=8Gi
        ("other_cpu_limit", "4000"),
        ("other_cpu_request", "1"),
        ("other_mem_limit", "8"),
        ("other_mem_request", "0"),
        // a zero limit counts as unset; the request defaulted from it stays 0
        ("zero_cpu_limit", "4000"),
        ("zero_cpu_request", "0"),
    ];
    for (file, want) in cases {
        assert_eq!(root.read(&format!("/etc/res/{file}")), want, "{file}");
    }
}

#[test]
fn node_allocatable_is_configurable() {
    let root = Root::new();
    let mut opts = root.options(RESOURCES_POD);
    opts.node_allocatable = "cpu=1500m,memory=2Gi".parse().unwrap();
    simulate(&opts).unwrap();
    assert_eq!(root.read("/etc/res/other_cpu_limit"), "1500");
    assert_eq!(root.read("/etc/res/other_mem_limit"), "2");
    assert_eq!(root.read("/etc/res/storage_limit"), "100");

    opts.node_allocatable.cpu.0 = "lots".to_string();
    let err = simulate(&opts).unwrap_err().to_string();
    assert!(
        err.starts_with("--node-allocatable: bad item \"cpu=lots\""),
        "{err}"
    );
}

const ENV_POD: &str = r#"
apiVersion: v1
kind: Pod
metadata:
  name: envpod
  namespace: team-a
  uid: 11111111-2222-4333-8444-555555555555
  labels: {app: envpod}
spec:
  nodeName: worker-1
  serviceAccountName: robot
  containers:
  - name: app
    resources:
      limits: {cpu: "2", memory: 1Gi}
    env:
    - {name: A, value: a}
    - {name: B, value: "$(A)-$(C)"}
    - {name: C, value: c}
    - {name: D, value: "$$(A) $$ $(A)$(C) $"}
    - {name: E, value: "$(MISSING)"}
    - {name: EMPTY}
    - {name: POD_IP, valueFrom: {fieldRef: {fieldPath: status.podIP}}}
    - {name: POD_IPS, valueFrom: {fieldRef: {fieldPath: status.podIPs}}}
    - {name: HOST_IP, valueFrom: {fieldRef: {fieldPath: status.hostIP}}}
    - {name: HOST_IPS, valueFrom: {fieldRef: {fieldPath: status.hostIPs}}}
    - {name: NODE, valueFrom: {fieldRef: {fieldPath: spec.nodeName}}}
    - {name: LEGACY_NODE, valueFrom: {fieldRef: {fieldPath: spec.host}}}
    - {name: SA, valueFrom: {fieldRef: {fieldPath: spec.serviceAccountName}}}
    - {name: UID, valueFrom: {fieldRef: {apiVersion: v1, fieldPath: metadata.uid}}}
    - {name: NS, valueFrom: {fieldRef: {fieldPath: metadata.namespace}}}
    - {name: APP, valueFrom: {fieldRef: {fieldPath: "metadata.labels['app']"}}}
    - {name: CPU_LIMIT, valueFrom: {resourceFieldRef: {resource: limits.cpu}}}
    - {name: CPU_REQUEST_M, valueFrom: {resourceFieldRef: {resource: requests.cpu, divisor: 1m}}}
    - {name: MEM_MI, valueFrom: {resourceFieldRef: {containerName: app, resource: limits.memory, divisor: 1Mi}}}
    - {name: STORAGE_GI, valueFrom: {resourceFieldRef: {resource: limits.ephemeral-storage, divisor: 1Gi}}}
    - {name: CFG, valueFrom: {configMapKeyRef: {name: settings, key: mode}}}
    - {name: AFTER, value: "$(CFG)"}
    - {name: A, value: again}
    - {name: F, value: "$(A)"}
    - {name: IP_REF, value: "http://$(POD_IP):8080"}
    envFrom:
    - configMapRef: {name: settings}
status:
  podIPs:
  - ip: fd00::7
  - ip: 10.1.2.3
  hostIPs:
  - ip: 192.168.1.5
"#;

#[test]
fn env_is_resolved_like_make_environment_variables() {
    let root = Root::new();
    let report = root.run(ENV_POD);
    let sandbox = root.sandbox();
    let names: Vec<&str> = sandbox.env.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "A",
            "B",
            "C",
            "D",
            "E",
            "EMPTY",
            "POD_IP",
            "POD_IPS",
            "HOST_IP",
            "HOST_IPS",
            "NODE",
            "LEGACY_NODE",
            "SA",
            "UID",
            "NS",
            "APP",
            "CPU_LIMIT",
            "CPU_REQUEST_M",
            "MEM_MI",
            "STORAGE_GI",
            "AFTER",
            "F",
            "IP_REF"
        ]
    );
    let cases = [
        ("A", "again"),
        ("B", "a-$(C)"),
        ("C", "c"),
        ("D", "$(A) $ ac $"),
        ("E", "$(MISSING)"),
        ("EMPTY", ""),
        ("POD_IP", "10.1.2.3"),
        ("POD_IPS", "10.1.2.3,fd00::7"),
        ("HOST_IP", "192.168.1.5"),
        ("HOST_IPS", "192.168.1.5"),
        ("NODE", "worker-1"),
        ("LEGACY_NODE", "worker-1"),
        ("SA", "robot"),
        ("UID", "11111111-2222-4333-8444-555555555555"),
        ("NS", "team-a"),
        ("APP", "envpod"),
        ("CPU_LIMIT", "2"),
        ("CPU_REQUEST_M", "2000"),
        ("MEM_MI", "1024"),
        ("STORAGE_GI", "100"),
        ("AFTER", "$(CFG)"),
        ("F", "again"),
        ("IP_REF", "http://10.1.2.3:8080"),
    ];
    for (name, want) in cases {
        assert_eq!(root.env(name).as_deref(), Some(want), "{name}");
    }
    assert_eq!(root.env("CFG"), None);
    assert!(
        report
            .notes
            .iter()
            .any(|n| n.contains("CFG") && n.contains("configMapKeyRef \"settings\"")),
        "{:#?}",
        report.notes
    );
    assert!(
        report.notes.iter().any(|n| n.contains("envFrom[0]")),
        "{:#?}",
        report.notes
    );
    assert!(!names.iter().any(|n| n.starts_with("KUBERNETES_")));
}

#[test]
fn service_env_note_only_when_the_env_refers_to_it() {
    let service_note = |yaml: &str| {
        Root::new()
            .run(yaml)
            .notes
            .iter()
            .any(|n| n.contains("are not set without --cluster"))
    };
    let pod = |value: &str| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: p}}\nspec:\n  containers:\n  - name: c\n    env:\n    - {{name: API, value: '{value}'}}\n"
        )
    };
    assert!(service_note(&pod("https://$(KUBERNETES_SERVICE_HOST):443")));
    assert!(!service_note(&pod("https://example:443")));
}

#[test]
fn env_defaults_for_ips_node_and_service_account() {
    let root = Root::new();
    root.run(
        r#"
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
  - name: c
    env:
    - {name: POD_IP, valueFrom: {fieldRef: {fieldPath: status.podIP}}}
    - {name: POD_IPS, valueFrom: {fieldRef: {fieldPath: status.podIPs}}}
    - {name: HOST_IP, valueFrom: {fieldRef: {fieldPath: status.hostIP}}}
    - {name: NODE, valueFrom: {fieldRef: {fieldPath: spec.nodeName}}}
    - {name: SA, valueFrom: {fieldRef: {fieldPath: spec.serviceAccountName}}}
    - {name: NS, valueFrom: {fieldRef: {fieldPath: metadata.namespace}}}
"#,
    );
    assert_eq!(root.env("POD_IP").as_deref(), Some("10.244.0.10"));
    assert_eq!(
        root.env("POD_IPS").as_deref(),
        Some("10.244.0.10,fd00:10:244::a")
    );
    assert_eq!(root.env("HOST_IP").as_deref(), Some("172.18.0.2"));
    assert_eq!(root.env("NODE").as_deref(), Some("pod-introspect-node"));
    assert_eq!(root.env("SA").as_deref(), Some("default"));
    assert_eq!(root.env("NS").as_deref(), Some("default"));
}

#[test]
fn service_account_namespace_file() {
    let root = Root::new();
    let report = root.run(ENV_POD);
    let dir = root.host("/var/run/secrets/kubernetes.io/serviceaccount");
    assert_eq!(
        root.read("/var/run/secrets/kubernetes.io/serviceaccount/namespace"),
        "team-a"
    );
    assert_eq!(
        fs::read_link(dir.join("namespace")).unwrap(),
        Path::new("..data/namespace")
    );
    let version = fs::read_link(dir.join("..data")).unwrap();
    assert_eq!(mode_of(&dir.join(version).join("namespace")), 0o644);
    let sa = report
        .volumes
        .iter()
        .find(|v| v.name == "kube-api-access-sim")
        .unwrap();
    assert_eq!(sa.files, ["namespace"]);
    let mount = root
        .sandbox()
        .mounts
        .into_iter()
        .find(|m| m.kind == MountKind::ServiceAccount);
    let mount = mount.expect("serviceAccount mount");
    assert_eq!(
        mount.mount_path,
        "/var/run/secrets/kubernetes.io/serviceaccount"
    );
    assert!(mount.read_only);
    assert!(
        report
            .notes
            .iter()
            .any(|n| n.contains("token") && n.contains("ca.crt"))
    );
}

#[test]
fn no_service_account_volume_when_automount_is_off() {
    let root = Root::new();
    let yaml = ENV_POD.replace(
        "  nodeName: worker-1\n",
        "  nodeName: worker-1\n  automountServiceAccountToken: false\n",
    );
    let report = root.run(&yaml);
    assert!(
        !root
            .host("/var/run/secrets/kubernetes.io/serviceaccount")
            .exists()
    );
    assert!(report.volumes.is_empty());
    assert!(root.sandbox().mounts.is_empty());
}

#[test]
fn container_json_round_trip() {
    let root = Root::new();
    let report = root.run(LABELS_POD);
    assert_eq!(
        report.sandbox_file,
        root.path().join(".pod-introspect/container.json")
    );
    let text = fs::read_to_string(&report.sandbox_file).unwrap();
    assert!(text.ends_with("}\n"));
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["pod"]["name"], "web");
    assert_eq!(json["pod"]["namespace"], "default");
    assert_eq!(json["container"], "app");
    assert_eq!(json["mounts"][0]["name"], "podinfo");
    assert_eq!(json["mounts"][0]["mountPath"], "/etc/podinfo");
    assert_eq!(json["mounts"][0]["kind"], "downwardAPI");
    assert_eq!(json["mounts"][0]["readOnly"], true);
    assert_eq!(json["mounts"][1]["kind"], "serviceAccount");
    let loaded = root.sandbox();
    let again: ContainerSandbox =
        serde_json::from_str(&serde_json::to_string(&loaded).unwrap()).unwrap();
    assert_eq!(loaded, again);
    assert_eq!(report.pod, "web");
    assert_eq!(report.namespace, "default");
    assert_eq!(report.container, "app");
}

#[test]
fn metadata_uid_in_volume_files_is_the_kept_uid() {
    let root = Root::new();
    let yaml = LABELS_POD.replace(
        "      - path: private\n",
        "      - path: uid\n        fieldRef:\n          fieldPath: metadata.uid\n      - path: private\n",
    );
    root.run(&yaml);
    let uid = root.sandbox().pod.uid;
    assert_eq!(root.read("/etc/podinfo/uid"), uid);
}

const TWO_CONTAINERS: &str = r#"
apiVersion: v1
kind: Pod
metadata:
  name: two
  annotations:
    kubectl.kubernetes.io/default-container: second
spec:
  containers:
  - name: first
    env: [{name: WHO, value: first}]
  - name: second
    env: [{name: WHO, value: second}]
  initContainers:
  - name: setup
    env: [{name: WHO, value: setup}]
"#;

#[test]
fn container_choice() {
    let root = Root::new();
    let report = root.run(TWO_CONTAINERS);
    assert_eq!(report.container, "second");
    assert_eq!(root.env("WHO").as_deref(), Some("second"));

    let without = TWO_CONTAINERS.replace(
        "  annotations:\n    kubectl.kubernetes.io/default-container: second\n",
        "",
    );
    assert_eq!(root.run(&without).container, "first");

    let mut opts = root.options(TWO_CONTAINERS);
    opts.container = Some("setup".to_string());
    assert_eq!(simulate(&opts).unwrap().container, "setup");
    assert_eq!(root.env("WHO").as_deref(), Some("setup"));

    opts.container = Some("zzz".to_string());
    assert_eq!(
        simulate(&opts).unwrap_err().to_string(),
        "pod.yaml: container \"zzz\" is not valid for pod \"two\": the pod has first, second, setup"
    );
}

#[test]
fn sub_path_mounts_are_plain_copies_that_never_update() {
    let root = Root::new();
    let yaml = LABELS_POD.replace(
        "    - name: podinfo\n      mountPath: /etc/podinfo\n",
        "    - name: podinfo\n      mountPath: /etc/podinfo\n    - name: podinfo\n      mountPath: /config/labels.txt\n      subPath: labels\n",
    );
    let report = root.run(&yaml);
    let copy = root.host("/config/labels.txt");
    assert!(fs::symlink_metadata(&copy).unwrap().is_file());
    assert_eq!(
        fs::read_to_string(&copy).unwrap(),
        "app=\"web\"\ntier=\"frontend\""
    );
    let sub = &report.volumes[1];
    assert_eq!(sub.mount_path, "/config/labels.txt");
    assert_eq!(sub.files, ["labels"]);
    assert!(
        root.path()
            .join(".pod-introspect/volumes/podinfo/..data")
            .exists()
    );

    let edited = yaml.replace("tier: frontend", "tier: backend");
    let report = root.run(&edited);
    assert_eq!(
        root.read("/etc/podinfo/labels"),
        "app=\"web\"\ntier=\"backend\""
    );
    assert_eq!(
        fs::read_to_string(&copy).unwrap(),
        "app=\"web\"\ntier=\"frontend\""
    );
    assert!(
        report
            .notes
            .iter()
            .any(|n| n.contains("subPath mounts never update")),
        "{:#?}",
        report.notes
    );
}

#[test]
fn projected_volumes_write_downward_items_and_note_the_rest() {
    let root = Root::new();
    let report = root.run(
        r#"
apiVersion: v1
kind: Pod
metadata:
  name: proj
  labels: {app: proj}
spec:
  containers:
  - name: c
    resources: {limits: {memory: 256Mi}}
    volumeMounts:
    - {name: all-in-one, mountPath: /projected}
  volumes:
  - name: all-in-one
    projected:
      defaultMode: 0400
      sources:
      - downwardAPI:
          items:
          - {path: labels, fieldRef: {fieldPath: metadata.labels}}
          - {path: mem/limit, resourceFieldRef: {containerName: c, resource: limits.memory, divisor: 1Mi}}
      - configMap:
          name: settings
          items: [{key: mode, path: mode}]
      - serviceAccountToken:
          path: token
          expirationSeconds: 3600
"#,
    );
    assert_eq!(root.read("/projected/labels"), "app=\"proj\"");
    assert_eq!(root.read("/projected/mem/limit"), "256");
    assert!(!root.host("/projected/mode").exists());
    assert!(!root.host("/projected/token").exists());
    let version = root.host("/projected").join(&report.volumes[0].version_dir);
    assert_eq!(mode_of(&version.join("labels")), 0o400);
    assert_eq!(root.sandbox().mounts[0].kind, MountKind::Projected);
    let notes = report.notes.join("\n");
    assert!(
        notes.contains("configMap \"settings\" is not simulated"),
        "{notes}"
    );
    assert!(
        notes.contains("serviceAccountToken (path \"token\") is not simulated"),
        "{notes}"
    );
}

#[test]
fn divisor_hint_for_conventional_resource_files() {
    let root = Root::new();
    let report = root.run(
        r#"
apiVersion: v1
kind: Pod
metadata: {name: hint}
spec:
  containers:
  - name: app
    resources: {limits: {cpu: 250m, memory: 64Mi}}
    volumeMounts: [{name: podinfo, mountPath: /etc/podinfo}]
  volumes:
  - name: podinfo
    downwardAPI:
      items:
      - {path: cpu_limit, resourceFieldRef: {containerName: app, resource: limits.cpu, divisor: 1m}}
      - {path: mem_limit, resourceFieldRef: {containerName: app, resource: limits.memory}}
      - {path: other, resourceFieldRef: {containerName: app, resource: limits.cpu, divisor: 1m}}
"#,
    );
    assert_eq!(root.read("/etc/podinfo/cpu_limit"), "250");
    let hints: Vec<&String> = report
        .notes
        .iter()
        .filter(|n| n.contains("POD_INTROSPECT_FIELDS"))
        .collect();
    assert_eq!(hints.len(), 1, "{:#?}", report.notes);
    assert!(
        hints[0]
            .contains("POD_INTROSPECT_FIELDS=limits.cpu=file:/etc/podinfo/cpu_limit;divisor=1m"),
        "{}",
        hints[0]
    );
}

#[test]
fn no_divisor_hint_once_the_mapping_declares_that_file() {
    let manifest = |fields: &str| {
        format!(
            r#"
apiVersion: v1
kind: Pod
metadata: {{name: hint}}
spec:
  containers:
  - name: app
    resources: {{limits: {{cpu: 250m}}}}
    env: [{{name: POD_INTROSPECT_FIELDS, value: "{fields}"}}]
    volumeMounts: [{{name: podinfo, mountPath: /etc/podinfo}}]
  volumes:
  - name: podinfo
    downwardAPI:
      items:
      - {{path: cpu_limit, resourceFieldRef: {{containerName: app, resource: limits.cpu, divisor: 1m}}}}
"#
        )
    };
    let hints = |fields: &str| {
        let root = Root::new();
        let report = root.run(&manifest(fields));
        report
            .notes
            .into_iter()
            .filter(|n| n.contains("POD_INTROSPECT_FIELDS="))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        hints("metadata.name=env:X, limits.cpu=file:/etc/podinfo/cpu_limit;divisor=1m"),
        Vec::<String>::new()
    );
    // Another file, or another resource read from that file, is not a declaration of this one.
    for other in [
        "limits.cpu=file:/etc/podinfo/cpu_limit_old;divisor=1m",
        "requests.cpu=file:/etc/podinfo/cpu_limit;divisor=1m",
    ] {
        let got = hints(other);
        assert_eq!(got.len(), 1, "{other}: {got:?}");
        assert!(
            got[0].contains(
                "POD_INTROSPECT_FIELDS=limits.cpu=file:/etc/podinfo/cpu_limit;divisor=1m"
            ),
            "{}",
            got[0]
        );
    }
}

#[test]
fn a_note_names_the_downward_dirs_env_a_real_pod_needs() {
    let pod = |env: &str| {
        format!(
            r#"
apiVersion: v1
kind: Pod
metadata: {{name: dirs}}
spec:
  containers:
  - name: app
    env: [{env}]
    volumeMounts:
    - {{name: info, mountPath: /etc/podinfo}}
    - {{name: config, mountPath: /etc/config}}
  volumes:
  - {{name: info, downwardAPI: {{items: [{{path: name, fieldRef: {{fieldPath: metadata.name}}}}]}}}}
  - {{name: config, downwardAPI: {{items: [{{path: labels, fieldRef: {{fieldPath: metadata.labels}}}}]}}}}
"#
        )
    };
    let notes = |env: &str| {
        Root::new()
            .run(&pod(env))
            .notes
            .into_iter()
            .filter(|n| n.contains("POD_INTROSPECT_DOWNWARD_DIRS"))
            .collect::<Vec<_>>()
    };
    let unset = notes("");
    assert_eq!(unset.len(), 1, "{unset:#?}");
    assert!(
        unset[0].starts_with("downwardAPI volume(s) at /etc/config: ")
            && unset[0].ends_with(
                "add env POD_INTROSPECT_DOWNWARD_DIRS=/etc/podinfo:/etc/config to the container"
            ),
        "{}",
        unset[0]
    );
    let partial = notes("{name: POD_INTROSPECT_DOWNWARD_DIRS, value: /etc/podinfo}");
    assert_eq!(
        partial,
        [
            "the container's env POD_INTROSPECT_DOWNWARD_DIRS=/etc/podinfo leaves out the downwardAPI volume(s) at /etc/config, so the guest does not read them (here or in a cluster); set it to /etc/podinfo:/etc/config"
        ]
    );
    assert_eq!(
        notes("{name: POD_INTROSPECT_DOWNWARD_DIRS, value: '/etc/config:/etc/podinfo'}"),
        Vec::<String>::new()
    );
}

#[test]
fn kubelet_errors_for_an_unknown_container_name() {
    let root = Root::new();
    let err = root.fail(
        r#"
apiVersion: v1
kind: Pod
metadata: {name: x}
spec:
  containers:
  - name: c
    volumeMounts: [{name: v, mountPath: /etc/podinfo}]
  volumes:
  - name: v
    downwardAPI:
      items:
      - {path: cpu, resourceFieldRef: {containerName: nope, resource: limits.cpu}}
"#,
    );
    assert_eq!(
        err,
        "pod.yaml: the kubelet cannot start pod \"x\": MountVolume.SetUp failed for volume \"v\" : container nope not found"
    );
    let err = root.fail(
        r#"
apiVersion: v1
kind: Pod
metadata: {name: x}
spec:
  containers:
  - name: c
    env:
    - {name: CPU, valueFrom: {resourceFieldRef: {containerName: nope, resource: limits.cpu}}}
"#,
    );
    assert_eq!(
        err,
        "pod.yaml: the kubelet cannot start container \"c\" (CreateContainerConfigError): container nope not found"
    );
}

/// Validation errors, each expected message written out from validation.go's wording.
#[test]
fn validation_errors_use_the_api_server_wording() {
    let pod = |volumes: &str, env: &str| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: x}}\nspec:\n  containers:\n  - name: c\n    resources: {{limits: {{cpu: \"1\"}}}}\n    env: {env}\n    volumeMounts: [{{name: v, mountPath: /etc/podinfo}}]\n  volumes:\n  - name: v\n    downwardAPI:\n      items: {volumes}\n"
        )
    };
    let cases = [
        (
            pod("[{path: node, fieldRef: {fieldPath: spec.nodeName}}]", "[]"),
            r#"pod.yaml: Pod "x" is invalid: spec.volumes[0].downwardAPI.fieldRef.fieldPath: Unsupported value: "spec.nodeName": supported values: "metadata.annotations", "metadata.labels", "metadata.name", "metadata.namespace", "metadata.uid""#,
        ),
        (
            pod(
                "[]",
                "[{name: L, valueFrom: {fieldRef: {fieldPath: metadata.labels}}}]",
            ),
            r#"pod.yaml: Pod "x" is invalid: spec.containers[0].env[0].valueFrom.fieldRef.fieldPath: Unsupported value: "metadata.labels": supported values: "metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName", "spec.serviceAccountName", "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs""#,
        ),
        (
            pod(
                "[{path: cpu, resourceFieldRef: {resource: limits.cpu}}]",
                "[]",
            ),
            r#"pod.yaml: Pod "x" is invalid: spec.volumes[0].downwardAPI.resourceFieldRef.containerName: Required value"#,
        ),
        (
            pod(
                "[{path: a, mode: 01000, fieldRef: {fieldPath: metadata.name}}, {path: ../b, fieldRef: {fieldPath: metadata.name}}, {path: ..c, fieldRef: {fieldPath: metadata.name}}, {path: /d, fieldRef: {fieldPath: metadata.name}}]",
                "[]",
            ),
            r#"pod.yaml: Pod "x" is invalid: [spec.volumes[0].downwardAPI.mode: Invalid value: 512: must be a number between 0 and 0777 (octal), both inclusive, spec.volumes[0].downwardAPI.path: Invalid value: "../b": must not contain '..', spec.volumes[0].downwardAPI.path: Invalid value: "..c": must not start with '..', spec.volumes[0].downwardAPI.path: Invalid value: "/d": must be a relative path]"#,
        ),
        (
            pod(
                "[{path: both, fieldRef: {fieldPath: metadata.name}, resourceFieldRef: {containerName: c, resource: limits.cpu}}, {path: neither}]",
                "[]",
            ),
            r#"pod.yaml: Pod "x" is invalid: [spec.volumes[0].downwardAPI: Invalid value: "resource": fieldRef and resourceFieldRef can not be specified simultaneously, spec.volumes[0].downwardAPI: Required value: one of fieldRef and resourceFieldRef is required]"#,
        ),
        (
            pod(
                "[]",
                "[{name: C, valueFrom: {resourceFieldRef: {resource: limits.cpu, divisor: 1Mi}}}, {name: M, valueFrom: {resourceFieldRef: {resource: limits.memory, divisor: 1m}}}, {name: G, valueFrom: {resourceFieldRef: {resource: limits.gpu}}}]",
            ),
            r#"pod.yaml: Pod "x" is invalid: [spec.containers[0].env[0].valueFrom.resourceFieldRef.divisor: Invalid value: "limits.cpu": only divisor's values 1m and 1 are supported with the cpu resource, spec.containers[0].env[1].valueFrom.resourceFieldRef.divisor: Invalid value: "limits.memory": only divisor's values 1, 1k, 1M, 1G, 1T, 1P, 1E, 1Ki, 1Mi, 1Gi, 1Ti, 1Pi, 1Ei are supported with the memory resource, spec.containers[0].env[2].valueFrom.resourceFieldRef.resource: Unsupported value: "limits.gpu": supported values: "limits.cpu", "limits.ephemeral-storage", "limits.memory", "requests.cpu", "requests.ephemeral-storage", "requests.memory"]"#,
        ),
        (
            pod(
                "[]",
                "[{name: N, valueFrom: {fieldRef: {apiVersion: v2, fieldPath: metadata.name}}}, {name: V, value: x, valueFrom: {fieldRef: {fieldPath: metadata.name}}}, {name: 'A=B', value: x}, {name: E, valueFrom: {}}]",
            ),
            r#"pod.yaml: Pod "x" is invalid: [spec.containers[0].env[0].valueFrom.fieldRef.fieldPath: Invalid value: "metadata.name": error converting fieldPath: unsupported pod version: v2, spec.containers[0].env[1].valueFrom: Invalid value: "": may not be specified when `value` is not empty, spec.containers[0].env[2].name: Invalid value: "A=B": a valid environment variable name must consist only of printable ASCII characters other than '=', spec.containers[0].env[3].valueFrom: Invalid value: "": must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`]"#,
        ),
        (
            pod(
                "[{path: k, fieldRef: {fieldPath: \"metadata.labels['bad key']\"}}, {path: s, fieldRef: {fieldPath: \"spec.nodeName['x']\"}}]",
                "[]",
            ),
            r#"pod.yaml: Pod "x" is invalid: [spec.volumes[0].downwardAPI.fieldRef: Invalid value: "bad key": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]'), spec.volumes[0].downwardAPI.fieldRef.fieldPath: Invalid value: "spec.nodeName['x']": error converting fieldPath: field label does not support subscript: spec.nodeName['x']]"#,
        ),
    ];
    let root = Root::new();
    for (yaml, want) in cases {
        assert_eq!(root.fail(&yaml), want, "manifest:\n{yaml}");
    }
}

#[test]
fn validation_of_metadata_mounts_and_resources() {
    let root = Root::new();
    let err = root.fail(
        r#"
apiVersion: v1
kind: Pod
metadata:
  name: Bad_Name
  labels: {tier: front end}
spec:
  containers:
  - name: c
    resources:
      limits: {cpu: "1"}
      requests: {cpu: "2"}
    volumeMounts:
    - {name: nope, mountPath: /a}
    - {name: v, mountPath: /a}
    - {name: v, mountPath: /b, subPath: ../x}
  volumes:
  - name: v
    downwardAPI:
      defaultMode: 01000
      items: []
"#,
    );
    assert_eq!(
        err,
        concat!(
            r#"pod.yaml: Pod "Bad_Name" is invalid: ["#,
            r#"metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*'), "#,
            r#"metadata.labels: Invalid value: "front end": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?'), "#,
            r#"spec.volumes[0].downwardAPI.defaultMode: Invalid value: 512: must be a number between 0 and 0777 (octal), both inclusive, "#,
            r#"spec.containers[0].volumeMounts[0].name: Not found: "nope", "#,
            r#"spec.containers[0].volumeMounts[1].mountPath: Invalid value: "/a": must be unique, "#,
            r#"spec.containers[0].volumeMounts.subPath: Invalid value: "../x": must not contain '..', "#,
            r#"spec.containers[0].resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 1]"#,
        )
    );
}

#[test]
fn manifest_errors() {
    let root = Root::new();
    assert_eq!(
        root.fail("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\n"),
        "pod.yaml: kind is \"Deployment\": simulate needs a Pod manifest (kind: Pod, apiVersion: v1)"
    );
    let err = root.fail("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: c\n    resources: {limits: {cpu: lots}}\n");
    assert!(
        err.starts_with(
            "pod.yaml: cannot decode the Pod: spec.containers[0].resources.limits[cpu]: "
        ),
        "{err}"
    );
    let err = root
        .fail("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: {name: c}\n");
    assert!(
        err.starts_with("pod.yaml: not a valid Pod manifest: "),
        "{err}"
    );
    assert!(err.contains("line 5"), "{err}");
    assert!(
        !root.path().join(".pod-introspect").exists(),
        "nothing written on error"
    );
}

fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples")
}

fn run_example(root: &Root, name: &str) -> SimulateReport {
    let path = examples_dir().join(name);
    let yaml = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut opts = root.options(&yaml);
    opts.manifest_name = name.to_string();
    simulate(&opts).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn every_example_simulates() {
    let mut count = 0;
    for entry in fs::read_dir(examples_dir()).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if name.ends_with(".yaml") {
            run_example(&Root::new(), &name);
            count += 1;
        }
    }
    assert!(count >= 5, "examples found: {count}");
}

#[test]
fn seed_example() {
    let root = Root::new();
    let report = run_example(&root, "seed-pod.yaml");
    assert_eq!(
        (
            report.pod.as_str(),
            report.namespace.as_str(),
            report.container.as_str()
        ),
        ("seed-demo", "demo", "myapp")
    );
    assert_eq!(
        root.read("/etc/downward/pod_labels"),
        "app=\"seed-demo\"\ntier=\"backend\""
    );
    assert_eq!(
        root.read("/etc/downward/pod_annotations"),
        "description=\"Downward API demo: \\\"labels\\\" and limits as files\"\nowner=\"platform-team\""
    );
    assert_eq!(root.read("/etc/downward/cpu_limit"), "500");
    assert_eq!(root.env("POD_NAME").as_deref(), Some("seed-demo"));
    assert_eq!(root.env("POD_NAMESPACE").as_deref(), Some("demo"));
    assert_eq!(
        root.env("POD_INTROSPECT_FIELDS").as_deref(),
        Some("limits.cpu=file:/etc/downward/cpu_limit;divisor=1m")
    );
    assert_eq!(
        root.read("/var/run/secrets/kubernetes.io/serviceaccount/namespace"),
        "demo"
    );
    assert!(
        !report
            .notes
            .iter()
            .any(|n| n.contains("POD_INTROSPECT_FIELDS=")),
        "the seed pod declares its divisor: {:#?}",
        report.notes
    );
}

#[test]
fn docs_examples() {
    let root = Root::new();
    run_example(&root, "dapi-volume.yaml");
    assert_eq!(
        root.read("/etc/podinfo/labels"),
        "cluster=\"test-cluster1\"\nrack=\"rack-22\"\nzone=\"us-est-coast\""
    );
    assert_eq!(
        root.read("/etc/podinfo/annotations"),
        "build=\"two\"\nbuilder=\"john-doe\""
    );

    let root = Root::new();
    let report = run_example(&root, "dapi-volume-resources.yaml");
    assert_eq!(root.read("/etc/podinfo/cpu_limit"), "250");
    assert_eq!(root.read("/etc/podinfo/cpu_request"), "125");
    assert_eq!(root.read("/etc/podinfo/mem_limit"), "64");
    assert_eq!(root.read("/etc/podinfo/mem_request"), "32");
    let hints = report
        .notes
        .iter()
        .filter(|n| n.contains("POD_INTROSPECT_FIELDS="))
        .count();
    assert_eq!(hints, 4, "{:#?}", report.notes);

    let root = Root::new();
    run_example(&root, "dapi-envars-pod.yaml");
    assert_eq!(
        root.env("MY_NODE_NAME").as_deref(),
        Some("pod-introspect-node")
    );
    assert_eq!(
        root.env("MY_POD_NAME").as_deref(),
        Some("dapi-envars-fieldref")
    );
    assert_eq!(root.env("MY_POD_NAMESPACE").as_deref(), Some("default"));
    assert_eq!(root.env("MY_POD_IP").as_deref(), Some("10.244.0.10"));
    assert_eq!(
        root.env("MY_POD_SERVICE_ACCOUNT").as_deref(),
        Some("default")
    );

    let root = Root::new();
    run_example(&root, "dapi-envars-container.yaml");
    assert_eq!(root.env("MY_CPU_REQUEST").as_deref(), Some("1"));
    assert_eq!(root.env("MY_CPU_LIMIT").as_deref(), Some("1"));
    assert_eq!(root.env("MY_MEM_REQUEST").as_deref(), Some("33554432"));
    assert_eq!(root.env("MY_MEM_LIMIT").as_deref(), Some("67108864"));
}

#[test]
fn io_errors_name_the_path() {
    let root = Root::new();
    let blocker = root.path().join("etc");
    fs::write(&blocker, "a file where a directory should be").unwrap();
    let err = simulate(&root.options(LABELS_POD)).unwrap_err();
    assert!(matches!(err, SimulateError::Io { .. }), "{err}");
    assert!(
        err.to_string()
            .contains(&root.path().join("etc").display().to_string()),
        "{err}"
    );
}

#[test]
fn mount_paths_leading_out_of_the_root_are_refused() {
    let root = Root::new();
    let outside = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(outside.path(), root.path().join("etc")).unwrap();
    let err = root.fail(LABELS_POD);
    assert!(
        err.starts_with(
            "pod.yaml: the kubelet cannot start container \"app\": mountPath \"/etc/podinfo\" leads out of the container root: "
        ),
        "{err}"
    );
    assert_eq!(fs::read_dir(outside.path()).unwrap().count(), 0);

    // A symlink that stays in the root is followed, as a runtime resolves it in the rootfs.
    let root = Root::new();
    fs::create_dir(root.path().join("real-etc")).unwrap();
    std::os::unix::fs::symlink("real-etc", root.path().join("etc")).unwrap();
    root.run(LABELS_POD);
    assert_eq!(
        fs::read_to_string(root.path().join("real-etc/podinfo/app")).unwrap(),
        "web"
    );
}

#[test]
fn the_service_account_volume_and_container_json_stay_in_the_root() {
    // A symlinked ServiceAccount dir: before, `..data`, the token (0644) and ca.crt went there.
    let root = Root::new();
    let outside = tempfile::tempdir().unwrap();
    fs::create_dir_all(root.path().join("var/run/secrets/kubernetes.io")).unwrap();
    std::os::unix::fs::symlink(
        outside.path(),
        root.path()
            .join("var/run/secrets/kubernetes.io/serviceaccount"),
    )
    .unwrap();
    let err = root.fail(LABELS_POD);
    assert_eq!(
        err,
        format!(
            "pod.yaml: the kubelet cannot start container \"app\": the ServiceAccount volume at \
             /var/run/secrets/kubernetes.io/serviceaccount leads out of the container root: {} \
             resolves to {}",
            root.path()
                .join("var/run/secrets/kubernetes.io/serviceaccount")
                .display(),
            fs::canonicalize(outside.path()).unwrap().display()
        )
    );
    assert_eq!(fs::read_dir(outside.path()).unwrap().count(), 0);

    // A symlinked intermediate directory (`var` -> outside) is the same.
    let root = Root::new();
    let outside = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(outside.path(), root.path().join("var")).unwrap();
    let err = root.fail(LABELS_POD);
    assert!(
        err.contains("the ServiceAccount volume at /var/run/secrets/kubernetes.io/serviceaccount leads out of the container root: "),
        "{err}"
    );
    assert_eq!(fs::read_dir(outside.path()).unwrap().count(), 0);

    // A symlinked `.pod-introspect`: before, container.json went there.
    let root = Root::new();
    let outside = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(outside.path(), root.path().join(".pod-introspect")).unwrap();
    let err = root.fail(LABELS_POD);
    assert!(
        err.contains(".pod-introspect leads out of the container root: "),
        "{err}"
    );
    assert_eq!(fs::read_dir(outside.path()).unwrap().count(), 0);
}

mod api_server_access {
    use super::*;
    use pod_introspect_kubelet::ApiServerAccess;

    const POD: &str = "apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: shop}\nspec:\n  containers:\n  - name: app\n    image: x\n    env:\n    - {name: API, value: \"https://$(KUBERNETES_SERVICE_HOST):$(KUBERNETES_SERVICE_PORT)\"}\n    - {name: KUBERNETES_SERVICE_PORT_HTTPS, value: mine}\n";

    #[test]
    fn service_env_and_service_account_files() {
        let root = Root::new();
        let mut opts = root.options(POD);
        opts.api_server = Some(ApiServerAccess {
            token: "eyJhbGciOiJIUzI1NiJ9.e30.sig".into(),
            ca_crt: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n".into(),
            service_host: "fd00::1".into(),
            service_port: 6443,
        });
        simulate(&opts).unwrap();
        let sa = root
            .path()
            .join("var/run/secrets/kubernetes.io/serviceaccount");
        assert_eq!(
            std::fs::read_to_string(sa.join("token")).unwrap(),
            "eyJhbGciOiJIUzI1NiJ9.e30.sig"
        );
        assert!(
            std::fs::read_to_string(sa.join("ca.crt"))
                .unwrap()
                .starts_with("-----BEGIN CERTIFICATE-----")
        );
        assert_eq!(
            std::fs::read_to_string(sa.join("namespace")).unwrap(),
            "shop"
        );
        let sandbox = ContainerSandbox::load(root.path()).unwrap().unwrap();
        let env: Vec<(String, String)> = sandbox
            .env
            .iter()
            .map(|e| (e.name.clone(), e.value.clone()))
            .collect();
        let get = |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        // $(VAR) sees the Service variables; the container's own value wins over the Service's.
        assert_eq!(get("API"), Some("https://fd00::1:6443"));
        assert_eq!(get("KUBERNETES_SERVICE_PORT_HTTPS"), Some("mine"));
        assert_eq!(get("KUBERNETES_SERVICE_HOST"), Some("fd00::1"));
        assert_eq!(get("KUBERNETES_PORT"), Some("tcp://[fd00::1]:6443"));
        assert_eq!(get("KUBERNETES_PORT_6443_TCP_ADDR"), Some("fd00::1"));
        assert_eq!(
            env.iter()
                .filter(|(n, _)| n == "KUBERNETES_SERVICE_PORT_HTTPS")
                .count(),
            1
        );
    }

    #[test]
    fn annotations_over_256_kib_are_rejected() {
        let root = Root::new();
        let big = "x".repeat(262_145);
        let yaml = format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: big\n  annotations: {{a: {big}}}\nspec:\n  containers: [{{name: c, image: i}}]\n"
        );
        let err = root.fail(&yaml);
        assert!(
            err.contains("metadata.annotations: Too long: may not be more than 262144 bytes"),
            "{err}"
        );
    }
}
