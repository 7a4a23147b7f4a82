//! Hand-made kubelet volumes read by the real guest through the real host.

use crate::harness::{PodRoot, swap_data};
use serde_json::json;
use std::os::unix::fs::symlink;

/// A labels file exactly as the kubelet's FormatMap writes it: byte-sorted keys, `%q` values, no
/// trailing newline.
const LABELS_V1: &str = "app=\"web\"\npod-template-hash=\"5d9c7b\"\ntier=\"front end\"";
const ANNOTATIONS: &str = concat!(
    "kubectl.kubernetes.io/last-applied-configuration=\"{\\\"apiVersion\\\":\\\"v1\\\",\\\"kind\\\":\\\"Pod\\\"}\\n\"\n",
    "note=\"line one\\nline\\ttwo \\\"quoted\\\" back\\\\slash a=b\"\n",
    "nbsp=\"a\\u00a0b\"\n",
    "emoji=\"🚀 launch\"\n",
    "ctl=\"\\x01\"\n",
    "bad-utf8=\"\\xff\\xfe ok\"\n",
    "empty=\"\""
);

#[test]
fn hand_built_atomic_writer_volume() {
    let pod = PodRoot::new();
    pod.atomic_volume(
        "/etc/podinfo",
        "..2026_11_29_10_00_00.123456789",
        &[
            ("labels", LABELS_V1),
            ("annotations", ANNOTATIONS),
            ("name", "web-7d4b9"),
            ("namespace", "shop"),
            ("uid", "0f2b9c2e-8a4e-4f4e-9d0e-1b2c3d4e5f60"),
        ],
    );
    let info = pod.info(&[]);
    assert_eq!(info["name"], "web-7d4b9");
    assert_eq!(info["namespace"], "shop");
    assert_eq!(info["uid"], "0f2b9c2e-8a4e-4f4e-9d0e-1b2c3d4e5f60");
    assert_eq!(
        info["labels"],
        json!({"app": "web", "pod-template-hash": "5d9c7b", "tier": "front end"})
    );
    let a = &info["annotations"];
    assert_eq!(
        a["kubectl.kubernetes.io/last-applied-configuration"],
        "{\"apiVersion\":\"v1\",\"kind\":\"Pod\"}\n"
    );
    assert_eq!(a["note"], "line one\nline\ttwo \"quoted\" back\\slash a=b");
    assert_eq!(a["nbsp"], "a\u{a0}b");
    assert_eq!(a["emoji"], "🚀 launch");
    assert_eq!(a["ctl"], "\u{1}");
    // Invalid UTF-8 from \xNN escapes becomes U+FFFD, as Go's encoding/json would serve it.
    assert_eq!(a["bad-utf8"], "\u{fffd}\u{fffd} ok");
    assert_eq!(a["empty"], "");
    assert_eq!(
        info["sources"]["metadata.labels"],
        "file:/etc/podinfo/labels"
    );
    assert_eq!(info["sources"]["metadata.name"], "file:/etc/podinfo/name");
    assert_eq!(info["errors"], json!([]));
    assert!(
        info.get("nodeName").is_none(),
        "a field the pod does not expose is absent: {info}"
    );
}

#[test]
fn data_swap_between_two_calls_shows_the_new_labels() {
    let pod = PodRoot::new();
    let vol = pod.atomic_volume(
        "/etc/podinfo",
        "..2026_11_29_10_00_00.1",
        &[("labels", LABELS_V1)],
    );
    assert_eq!(pod.info(&[])["labels"]["tier"], "front end");

    // The kubelet's update: a new version dir, ..data swapped, the old dir removed.
    let v2 = vol.join("..2026_11_29_10_05_00.2");
    std::fs::create_dir(&v2).unwrap();
    std::fs::write(
        v2.join("labels"),
        "app=\"web\"\ntier=\"back end\"\nversion=\"2\"",
    )
    .unwrap();
    swap_data(&vol, "..2026_11_29_10_05_00.2");
    std::fs::remove_dir_all(vol.join("..2026_11_29_10_00_00.1")).unwrap();

    let info = pod.info(&[]);
    assert_eq!(
        info["labels"],
        json!({"app": "web", "tier": "back end", "version": "2"})
    );
}

#[test]
fn concurrent_swaps_never_mix_two_versions() {
    let pod = PodRoot::new();
    let vol = pod.host("/etc/podinfo");
    let versions = ["..2026_11_29_11_00_00.1", "..2026_11_29_11_00_01.2"];
    for (i, v) in versions.iter().enumerate() {
        let d = vol.join(v);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("labels"), format!("version=\"{i}\"")).unwrap();
        std::fs::write(d.join("annotations"), format!("version=\"{i}\"")).unwrap();
        std::fs::write(d.join("name"), format!("pod-v{i}")).unwrap();
    }
    swap_data(&vol, versions[0]);
    for name in ["labels", "annotations", "name"] {
        symlink(format!("..data/{name}"), vol.join(name)).unwrap();
    }
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let swapper = {
        let stop = stop.clone();
        let vol = vol.clone();
        std::thread::spawn(move || {
            let mut swaps = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                swap_data(&vol, versions[(swaps % 2) as usize]);
                swaps += 1;
            }
            swaps
        })
    };
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..25 {
        let info = pod.info(&[]);
        let l = info["labels"]["version"]
            .as_str()
            .expect("labels read")
            .to_string();
        assert_eq!(
            info["annotations"]["version"],
            l.as_str(),
            "mixed versions: {info}"
        );
        assert_eq!(info["name"], format!("pod-v{l}"), "mixed versions: {info}");
        seen.insert(l);
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let swaps = swapper.join().unwrap();
    assert!(swaps > 25, "the swapper ran only {swaps} swaps");
    eprintln!("{swaps} swaps, versions seen: {seen:?}");
}

#[test]
fn subpath_style_plain_directory() {
    let pod = PodRoot::new();
    pod.plain_volume(
        "/etc/downward",
        &[("pod_labels", "app=\"plain\""), ("cpu_limit", "2")],
    );
    let info = pod.info(&[]);
    assert_eq!(info["labels"], json!({"app": "plain"}));
    assert_eq!(
        info["resources"]["limits.cpu"],
        json!({"value": 2, "divisor": "1"})
    );
    assert_eq!(
        info["sources"]["metadata.labels"],
        "file:/etc/downward/pod_labels"
    );
}

#[test]
fn extra_downward_directory_flag() {
    let pod = PodRoot::new();
    pod.atomic_volume(
        "/config/pod",
        "..2026_01_01_00_00_00.1",
        &[("metadata.labels", "team=\"a\"")],
    );
    let info = pod.info(&["--downward", "/config/pod"]);
    assert_eq!(info["labels"], json!({"team": "a"}));
    assert_eq!(
        info["sources"]["metadata.labels"],
        "file:/config/pod/metadata.labels"
    );
}

#[test]
fn symlink_out_of_the_preopen_is_refused() {
    let pod = PodRoot::new();
    let outside = pod.plain_volume("/secret", &[("token", "do-not-read")]);
    let vol = pod.plain_volume("/etc/podinfo", &[("name", "web-0")]);
    // An absolute link and a relative link that climbs out of the volume: both must be refused.
    symlink(outside.join("token"), vol.join("labels")).unwrap();
    symlink("../../secret/token", vol.join("annotations")).unwrap();
    let info = pod.info(&[]);
    assert_eq!(info["name"], "web-0");
    assert!(
        info.get("labels").is_none() && info.get("annotations").is_none(),
        "{info}"
    );
    let errors = info["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 2, "{info}");
    for e in errors {
        assert_eq!(e["kind"], "io", "{e}");
        assert!(
            e["message"].as_str().unwrap().contains("/etc/podinfo/"),
            "{e}"
        );
    }
    assert!(!info.to_string().contains("do-not-read"));
}

#[test]
fn data_link_pointing_outside_the_volume_is_refused() {
    let pod = PodRoot::new();
    let vol = pod.plain_volume("/etc/podinfo", &[]);
    symlink("/etc", vol.join("..data")).unwrap();
    let info = pod.info(&[]);
    let errors = info["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{info}");
    assert!(
        errors[0]["message"]
            .as_str()
            .unwrap()
            .contains("/etc/podinfo"),
        "{info}"
    );
}

#[test]
fn malformed_files_are_reported_with_file_and_line_and_the_rest_still_read() {
    let pod = PodRoot::new();
    pod.atomic_volume(
        "/etc/podinfo",
        "..2026_11_29_10_00_00.1",
        &[
            ("labels", "app=\"web\"\ntier=front"),
            ("annotations", "a=\"ok\"\nb=\"unterminated"),
            ("cpu_limit", "500m"),
            ("mem_limit", "67108864\n"),
            ("name", "web-0"),
        ],
    );
    let out = pod.run(&[
        "info",
        "--root",
        pod.path().to_str().unwrap(),
        "--env-clear",
        "--env",
        "POD_NAMESPACE=shop",
    ]);
    assert!(
        out.status.success(),
        "exit 0 when only some fields had errors"
    );
    let info = crate::harness::parse_json(&out);
    assert_eq!(info["name"], "web-0");
    assert_eq!(info["namespace"], "shop");
    assert_eq!(info["sources"]["metadata.namespace"], "env:POD_NAMESPACE");
    let errors = info["errors"].as_array().unwrap();
    let find = |field: &str| {
        errors
            .iter()
            .find(|e| e["field"] == field)
            .unwrap_or_else(|| panic!("no error for {field}: {info}"))
    };
    let labels = find("metadata.labels");
    assert_eq!(labels["line"], 2);
    assert_eq!(labels["source"], "file:/etc/podinfo/labels");
    assert!(
        labels["message"]
            .as_str()
            .unwrap()
            .starts_with("/etc/podinfo/labels, line 2:"),
        "{labels}"
    );
    assert_eq!(find("metadata.annotations")["line"], 2);
    let cpu = find("limits.cpu");
    assert!(
        cpu["message"].as_str().unwrap().contains("\"500m\""),
        "{cpu}"
    );
    assert!(
        find("limits.memory")["message"]
            .as_str()
            .unwrap()
            .contains("decimal integer")
    );
    assert!(info["resources"].as_object().unwrap().is_empty(), "{info}");

    let strict = pod.run(&[
        "info",
        "--root",
        pod.path().to_str().unwrap(),
        "--env-clear",
        "--strict",
    ]);
    assert_eq!(
        strict.status.code(),
        Some(1),
        "--strict exits 1 on field errors"
    );
}

#[test]
fn env_fieldref_values_and_ip_lists() {
    let pod = PodRoot::new();
    let info = pod.info(&[
        "--env",
        "MY_POD_NAME=api-0",
        "--env",
        "MY_POD_NAMESPACE=prod",
        "--env",
        "POD_UID=4a1e",
        "--env",
        "MY_NODE_NAME=node-a",
        "--env",
        "POD_SERVICE_ACCOUNT=api-sa",
        "--env",
        "POD_IPS=10.244.1.7,fd00:10:244:1::7",
        "--env",
        "HOST_IP=172.18.0.3",
        "--env",
        "MY_CPU_REQUEST=250",
        "--env",
        "MEM_LIMIT=134217728",
        "--env",
        "POD_INTROSPECT_FIELDS=requests.cpu=env:MY_CPU_REQUEST;divisor=1m",
    ]);
    assert_eq!(info["name"], "api-0");
    assert_eq!(info["namespace"], "prod");
    assert_eq!(info["uid"], "4a1e");
    assert_eq!(info["nodeName"], "node-a");
    assert_eq!(info["serviceAccountName"], "api-sa");
    assert_eq!(info["podIPs"], json!(["10.244.1.7", "fd00:10:244:1::7"]));
    assert_eq!(info["podIP"], "10.244.1.7");
    assert_eq!(info["hostIP"], "172.18.0.3");
    assert!(info.get("hostIPs").is_none());
    assert_eq!(
        info["resources"]["requests.cpu"],
        json!({"value": 250, "divisor": "1m", "millicores": 250})
    );
    assert_eq!(
        info["resources"]["limits.memory"],
        json!({"value": 134217728, "divisor": "1"})
    );
    assert_eq!(info["sources"]["requests.cpu"], "env:MY_CPU_REQUEST");
}

#[test]
fn service_account_namespace_is_the_last_resort() {
    let pod = PodRoot::new();
    pod.atomic_volume(
        "/var/run/secrets/kubernetes.io/serviceaccount",
        "..2026_11_29_10_00_00.1",
        &[("namespace", "kube-sa-ns")],
    );
    let info = pod.info(&[]);
    assert_eq!(info["namespace"], "kube-sa-ns");
    assert_eq!(
        info["sources"]["metadata.namespace"],
        "serviceaccount:/var/run/secrets/kubernetes.io/serviceaccount/namespace"
    );
    let info = pod.info(&["--env", "POD_NAMESPACE=from-env"]);
    assert_eq!(info["namespace"], "from-env");
}

#[test]
fn explicit_mapping_overrides_conventions() {
    let pod = PodRoot::new();
    pod.atomic_volume(
        "/etc/x",
        "..2026_11_29_10_00_00.1",
        &[("cpu", "1500"), ("name", "conventional")],
    );
    let info = pod.info(&[
        "--downward",
        "/etc/x",
        "--env",
        "APP_POD=mapped",
        "--env",
        "POD_INTROSPECT_FIELDS=metadata.name=env:APP_POD,limits.cpu=file:/etc/x/cpu;divisor=1m",
    ]);
    assert_eq!(info["name"], "mapped");
    assert_eq!(info["sources"]["metadata.name"], "env:APP_POD");
    assert_eq!(
        info["resources"]["limits.cpu"],
        json!({"value": 1500, "divisor": "1m", "millicores": 1500})
    );
    assert_eq!(info["sources"]["limits.cpu"], "file:/etc/x/cpu");
}

#[test]
fn an_oversized_file_is_an_error_for_that_item_only() {
    let pod = PodRoot::new();
    let vol = pod.plain_volume("/etc/podinfo", &[("name", "web-0")]);
    let f = std::fs::File::create(vol.join("annotations")).unwrap();
    f.set_len(5 << 20).unwrap();
    let info = pod.info(&[]);
    assert_eq!(info["name"], "web-0");
    let e = &info["errors"][0];
    assert_eq!(e["field"], "metadata.annotations", "{info}");
    assert!(
        e["message"].as_str().unwrap().contains("larger than"),
        "{e}"
    );
}

#[test]
fn a_fifo_is_refused_instead_of_blocking() {
    let pod = PodRoot::new();
    let vol = pod.plain_volume("/etc/podinfo", &[("name", "web-0")]);
    let status = std::process::Command::new("mkfifo")
        .arg(vol.join("labels"))
        .status()
        .unwrap();
    assert!(status.success());
    let info = pod.info(&["--timeout", "20"]);
    assert_eq!(info["name"], "web-0");
    assert!(
        info["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("not a regular file"),
        "{info}"
    );
}

#[test]
fn a_broken_data_link_is_reported() {
    let pod = PodRoot::new();
    let vol = pod.plain_volume("/etc/podinfo", &[]);
    symlink("..2026_01_01_00_00_00.1", vol.join("..data")).unwrap();
    symlink("..data/labels", vol.join("labels")).unwrap();
    let info = pod.info(&[]);
    let errors = info["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{info}");
    assert!(
        errors[0]["message"].as_str().unwrap().contains("..data"),
        "{info}"
    );
}

#[test]
fn a_name_that_is_not_utf8_does_not_hide_the_volume() {
    use std::os::unix::ffi::OsStrExt;
    let pod = PodRoot::new();
    let vol = pod.plain_volume("/etc/podinfo", &[("labels", "a=\"1\"")]);
    std::fs::write(vol.join(std::ffi::OsStr::from_bytes(b"bad\xff")), "x").unwrap();
    let info = pod.info(&[]);
    assert_eq!(info["labels"], json!({"a": "1"}), "{info}");
}

#[test]
fn info_during_repeated_simulate_updates_always_sees_a_whole_version() {
    let pod = PodRoot::new();
    let manifest = |v: u32| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: race\n  labels: {{v: \"{v}\"}}\n  annotations: {{v: \"{v}\"}}\nspec:\n  containers:\n  - name: c\n    image: i\n    volumeMounts: [{{name: podinfo, mountPath: /etc/podinfo}}]\n  volumes:\n  - name: podinfo\n    downwardAPI:\n      items:\n      - {{path: labels, fieldRef: {{fieldPath: metadata.labels}}}}\n      - {{path: annotations, fieldRef: {{fieldPath: metadata.annotations}}}}\n"
        )
    };
    let files: Vec<std::path::PathBuf> = (1..=2)
        .map(|v| {
            let p = pod.path().join(format!("race{v}.yaml"));
            std::fs::write(&p, manifest(v)).unwrap();
            p
        })
        .collect();
    let root = pod.path().to_str().unwrap().to_string();
    let run_sim = |f: &std::path::Path| {
        let out = std::process::Command::new(crate::harness::HOST)
            .args(["simulate", "--pod", f.to_str().unwrap(), "--root", &root])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run_sim(&files[0]);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (stop, files, root) = (stop.clone(), files.clone(), root.clone());
        std::thread::spawn(move || {
            let mut n = 0usize;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) && n < 400 {
                let out = std::process::Command::new(crate::harness::HOST)
                    .args([
                        "simulate",
                        "--pod",
                        files[n % 2].to_str().unwrap(),
                        "--root",
                        &root,
                    ])
                    .output()
                    .unwrap();
                assert!(out.status.success());
                n += 1;
            }
            n
        })
    };
    for _ in 0..20 {
        let info = pod.info(&[]);
        let l = info["labels"]["v"]
            .as_str()
            .unwrap_or_else(|| panic!("labels missing: {info}"))
            .to_string();
        assert_eq!(
            info["annotations"]["v"],
            l.as_str(),
            "mixed versions: {info}"
        );
        assert_eq!(info["errors"], json!([]), "{info}");
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let updates = writer.join().unwrap();
    assert!(updates >= 5, "only {updates} updates ran");
}
