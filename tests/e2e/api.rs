//! The Kubernetes API from inside the guest: real host + real guest + the API-server emulator
//! over real TLS on loopback.

use crate::cluster::{Cluster, InClusterPod};
use crate::harness::{parse_json, stderr, stdout};
use pod_introspect_apiserver::ClusterOptions;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

fn ok(out: &std::process::Output) -> Value {
    assert!(
        out.status.success(),
        "exit {}: {}\n{}",
        out.status,
        stdout(out),
        stderr(out)
    );
    parse_json(out)
}

fn error_of(out: &std::process::Output) -> Value {
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}\n{}",
        stdout(out),
        stderr(out)
    );
    parse_json(out)["error"].clone()
}

#[test]
fn version_list_selectors_pagination_and_self() {
    let cluster = Cluster::start(ClusterOptions::default());
    let pod = InClusterPod::new(&cluster, "shop", "web-0");
    cluster.pod("shop", "web-1", &[("app", "web"), ("tier", "front")]);
    cluster.pod("shop", "db-0", &[("app", "db")]);
    cluster.pod("other", "x-0", &[("app", "web")]);

    let v = ok(&pod.run(&["api", "version"], &[]));
    assert_eq!(v["gitVersion"], "v1.33.0-pod-introspect");
    assert_eq!(v["major"], "1");

    let list = ok(&pod.run(&["api", "pods", "-l", "app=web"], &[]));
    let names: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["web-0", "web-1"],
        "this pod's namespace by default: {list}"
    );
    let list = ok(&pod.run(&["api", "pods", "-l", "app in (web,db),!tier"], &[]));
    assert_eq!(list["items"].as_array().unwrap().len(), 2);
    let list = ok(&pod.run(
        &["api", "pods", "--field-selector", "metadata.name=db-0"],
        &[],
    ));
    assert_eq!(list["items"][0]["metadata"]["name"], "db-0");

    let page1 = ok(&pod.run(&["api", "pods", "--limit", "2"], &[]));
    assert_eq!(page1["items"].as_array().unwrap().len(), 2);
    assert_eq!(page1["metadata"]["remainingItemCount"], 1);
    let token = page1["metadata"]["continue"]
        .as_str()
        .expect("continue token")
        .to_string();
    let page2 = ok(&pod.run(&["api", "pods", "--limit", "2", "--continue", &token], &[]));
    assert_eq!(page2["items"][0]["metadata"]["name"], "web-1");
    assert!(page2["metadata"].get("continue").is_none());

    let me = ok(&pod.run(&["api", "self"], &[]));
    assert_eq!(me["metadata"]["name"], "web-0");
    assert_eq!(
        me["spec"]["containers"][0]["image"],
        "registry.example/app:1.0"
    );

    // info --api fills what the Downward API does not expose, from the pod object.
    let info = ok(&pod.run(&["info", "--api"], &[]));
    assert_eq!(info["name"], "web-0");
    assert_eq!(info["sources"]["metadata.name"], "env:POD_NAME");
    assert_eq!(info["uid"], me["metadata"]["uid"]);
    assert_eq!(
        info["sources"]["metadata.uid"],
        "api:/api/v1/namespaces/shop/pods/web-0"
    );
    assert_eq!(info["nodeName"], me["spec"]["nodeName"]);
    assert_eq!(info["labels"], json!({"app": "web"}));
}

#[test]
fn forbidden_carries_the_rbac_message_and_missing_pods_are_not_found() {
    let cluster = Cluster::start(ClusterOptions::default());
    let pod = InClusterPod::new(&cluster, "shop", "web-0");
    let e = error_of(&pod.run(&["api", "pods", "-n", "kube-system"], &[]));
    assert_eq!(e["kind"], "forbidden");
    assert_eq!(e["code"], 403);
    assert_eq!(
        e["message"],
        "pods is forbidden: User \"system:serviceaccount:shop:default\" cannot list resource \"pods\" in API group \"\" in the namespace \"kube-system\""
    );
    let e = error_of(&pod.run(&["api", "pods", "-A"], &[]));
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .ends_with("at the cluster scope"),
        "{e}"
    );
    let out = pod.run(&["api", "get", "/api/v1/namespaces/shop/pods/nope"], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(parse_json(&out)["status"], 404);
}

#[test]
fn watch_sees_events_bookmarks_and_reports_gone() {
    let cluster = Cluster::start(ClusterOptions {
        bookmark_interval: Duration::from_millis(300),
        ..Default::default()
    });
    let pod = InClusterPod::new(&cluster, "shop", "web-0");
    let list = ok(&pod.run(&["api", "pods"], &[]));
    let rv = list["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string();
    cluster.pod("shop", "web-1", &[("app", "web")]);
    cluster.api().delete_pod("shop", "web-1").unwrap();
    let out = pod.run(
        &[
            "api",
            "watch",
            "pods",
            "--resource-version",
            &rv,
            "--bookmarks",
            "--max-events",
            "3",
            "--timeout-seconds",
            "5",
        ],
        &["--timeout", "20"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let events: Vec<Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["ADDED", "DELETED", "BOOKMARK"], "{events:?}");
    assert_eq!(events[0]["object"]["metadata"]["name"], "web-1");

    // After compaction the old resourceVersion is gone: 410, re-list.
    cluster.api().compact();
    let e = error_of(&pod.run(
        &[
            "api",
            "watch",
            "pods",
            "--resource-version",
            &rv,
            "--max-events",
            "1",
        ],
        &[],
    ));
    assert_eq!(e["kind"], "gone");
    assert_eq!(e["code"], 410);
}

#[test]
fn expired_token_is_answered_401_then_recovered_by_rereading_the_rotated_file() {
    let cluster = Cluster::start(ClusterOptions::default());
    let mut pod = InClusterPod::new(&cluster, "shop", "web-0");
    let short = cluster
        .api()
        .issue_token("shop", "default", Duration::from_secs(3));
    pod.write_service_account(&format!("{short}\n"), &cluster.api().ca_pem());
    // A watch that re-connects every second keeps its cached token (younger than a minute)
    // until the API server answers 401; then it re-reads the file, which the kubelet rotated.
    let child = std::process::Command::new(crate::harness::HOST)
        .args([
            "api",
            "watch",
            "pods",
            "--timeout-seconds",
            "1",
            "--max-events",
            "2",
            "--root",
            pod.root.path().to_str().unwrap(),
            "--env-clear",
            "--timeout",
            "30",
        ])
        .args(pod.env())
        .env(
            "POD_INTROSPECT_CACHE_DIR",
            std::env::temp_dir().join(format!("pod-introspect-test-cache-{}", std::process::id())),
        )
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let fresh = cluster
        .api()
        .issue_token("shop", "default", Duration::from_secs(3600));
    pod.write_service_account(&fresh, &cluster.api().ca_pem());
    std::thread::sleep(Duration::from_millis(3000));
    cluster.pod("shop", "after-expiry", &[]);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("\"after-expiry\""),
        "the watch survived the expiry: {text}"
    );
    assert!(
        !text.contains(&short) && !stderr(&out).contains(&short),
        "the token leaked"
    );
}

#[test]
fn token_rotation_while_requests_run_never_fails_for_good() {
    let cluster = Cluster::start(ClusterOptions::default());
    let mut pod = InClusterPod::new(&cluster, "shop", "web-0");
    let ca = cluster.api().ca_pem();
    let tokens: Vec<String> = (0..4)
        .map(|_| {
            cluster
                .api()
                .issue_token("shop", "default", Duration::from_secs(3600))
        })
        .collect();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    // Rotate in this thread while processes read: every version holds a valid token.
    let runner = {
        let args: Vec<String> = {
            let mut a = vec![
                "api".to_string(),
                "version".into(),
                "--root".into(),
                pod.root.path().to_str().unwrap().into(),
                "--env-clear".into(),
            ];
            a.extend(pod.env());
            a
        };
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut results = Vec::new();
            while !stop.load(std::sync::atomic::Ordering::Relaxed) && results.len() < 12 {
                let out = std::process::Command::new(crate::harness::HOST)
                    .args(&args)
                    .output()
                    .unwrap();
                results.push(out.status.success());
            }
            results
        })
    };
    let started = Instant::now();
    let mut i = 0;
    while !runner.is_finished() && started.elapsed() < Duration::from_secs(60) {
        pod.write_service_account(&tokens[i % tokens.len()], &ca);
        i += 1;
        std::thread::sleep(Duration::from_millis(20));
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let results = runner.join().unwrap();
    assert!(
        results.iter().all(|ok| *ok),
        "{results:?} after {i} rotations"
    );
    assert!(i > 10, "only {i} rotations");
}

#[test]
fn untrusted_ca_is_a_tls_error_naming_the_cause() {
    let cluster = Cluster::start(ClusterOptions::default());
    let other = Cluster::start(ClusterOptions::default());
    let mut pod = InClusterPod::new(&cluster, "shop", "web-0");
    let token = cluster
        .api()
        .issue_token("shop", "default", Duration::from_secs(3600));
    pod.write_service_account(&token, &other.api().ca_pem());
    let out = pod.run(&["api", "version"], &[]);
    let e = error_of(&out);
    assert_eq!(e["kind"], "tls", "{e}");
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("could not be verified against the pod's ServiceAccount ca.crt"),
        "{e}"
    );
    assert!(
        stderr(&out).contains("UnknownIssuer") || stderr(&out).contains("invalid peer certificate"),
        "the host logs the rustls reason: {}",
        stderr(&out)
    );
}

#[test]
fn a_certificate_with_only_an_ip_san_is_accepted_by_ip() {
    let cluster = Cluster::start(ClusterOptions {
        serving_ip_sans_only: true,
        ..Default::default()
    });
    let pod = InClusterPod::new(&cluster, "shop", "web-0");
    assert_eq!(ok(&pod.run(&["api", "version"], &[]))["major"], "1");
}

#[test]
fn ipv6_service_host() {
    if std::net::TcpListener::bind("[::1]:0").is_err() {
        crate::harness::skip("this machine has no IPv6 loopback ([::1])");
        return;
    }
    let cluster = Cluster::start(ClusterOptions {
        listen: "[::1]:0".parse().unwrap(),
        ..Default::default()
    });
    let pod = InClusterPod::new(&cluster, "shop", "web-0");
    assert!(
        pod.env()
            .contains(&"KUBERNETES_SERVICE_HOST=::1".to_string())
    );
    assert_eq!(ok(&pod.run(&["api", "version"], &[]))["major"], "1");
}

#[test]
fn api_server_down_is_a_transport_error_without_a_hang() {
    let mut cluster = Cluster::start(ClusterOptions::default());
    let mut pod = InClusterPod::new(&cluster, "shop", "web-0");
    cluster.stop();
    // Point the pod at a port held by a bound socket that does not listen: connections are
    // refused, and no other test's emulator can take the port meanwhile.
    let hold = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    hold.bind(&std::net::SocketAddr::from(([127, 0, 0, 1], 0)).into())
        .unwrap();
    pod.addr = hold.local_addr().unwrap().as_socket().unwrap();
    // A first run compiles the guest into this test run's cache (seconds in a debug build, and
    // more while other tests compile too): only the second run is timed.
    let _ = pod.run(&["api", "version"], &[]);
    let started = Instant::now();
    let e = error_of(&pod.run(&["api", "version"], &[]));
    assert_eq!(e["kind"], "transport", "{e}");
    assert!(e["message"].as_str().unwrap().contains("refused"), "{e}");
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn no_token_is_sent_to_an_ambassador_url() {
    let cluster = Cluster::start(ClusterOptions::default());
    let pod = InClusterPod::new(&cluster, "shop", "web-0");
    // https ambassador URL to the same server: no token is sent, so the server says 401.
    let out = pod.run(
        &["api", "pods"],
        &[
            "--env",
            &format!("POD_INTROSPECT_API_URL={}", cluster.api().url()),
        ],
    );
    assert_eq!(error_of(&out)["kind"], "unauthorized");
}
