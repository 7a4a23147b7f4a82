//! The proxy's credential files under `--root`: regular files under a size cap, opened beneath
//! the root and without blocking; a bad file is a `503` `Status` while `/healthz` and SIGTERM
//! keep working.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::cluster::{Cluster, InClusterPod, SA_DIR};
use crate::proxy::{call, client, proxy_for};
use pod_introspect_apiserver::ClusterOptions;

fn mkfifo(path: &Path) {
    let _ = std::fs::remove_file(path);
    let made = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap();
    assert!(made.success(), "mkfifo {}", path.display());
}

#[test]
fn bad_token_files_are_a_503_and_the_proxy_stays_healthy() {
    let cluster = Cluster::start(ClusterOptions::default());
    let pod = InClusterPod::new(&cluster, "shop", "web-0");
    let sa = pod.root.host(SA_DIR);
    let token = sa.join("token");
    let good = std::fs::read(&token).unwrap();
    // A FIFO with no writer: a blocking open(2) would never return.
    mkfifo(&token);
    let health_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string();
    let mut proxy = proxy_for(&pod, &["--health-port", &health_port]);
    let c = client();
    let pods = proxy.url("/api/v1/namespaces/shop/pods");
    let prefix = format!(
        "the proxy has no credentials for the API server: cannot read the ServiceAccount token {}: ",
        token.display()
    );
    let expect_503 = |why: &str| {
        let (code, body) = cluster.rt.block_on(call(&c, "GET", &pods, None));
        assert_eq!(code, 503, "{body}");
        let status: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(status["kind"], "Status");
        assert_eq!(status["reason"], "ServiceUnavailable");
        assert_eq!(status["message"], format!("{prefix}{why}"));
    };
    expect_503("it is a FIFO, not a regular file");
    let healthz = format!("http://127.0.0.1:{health_port}/healthz");
    assert_eq!(cluster.rt.block_on(call(&c, "GET", &healthz, None)).0, 200);

    // Bigger than the cap (64 KiB): refused without reading it all.
    std::fs::remove_file(&token).unwrap();
    std::fs::write(&token, vec![b'a'; 64 * 1024 + 1]).unwrap();
    expect_503("it is 65537 bytes, more than the 65536 allowed");

    // A symlink that leaves the root, to a file holding the real token: refused, as the guest's
    // WASI preopen refuses it.
    let outside = pod.root.path().parent().unwrap().join("outside-token");
    std::fs::write(&outside, &good).unwrap();
    std::fs::remove_file(&token).unwrap();
    let depth = SA_DIR.matches('/').count();
    std::os::unix::fs::symlink(format!("{}outside-token", "../".repeat(depth + 1)), &token)
        .unwrap();
    assert_eq!(
        std::fs::read(&token).unwrap(),
        good,
        "the link does reach the token"
    );
    expect_503(&format!(
        "it is a symlink that leads out of --root {}",
        pod.root.path().display()
    ));
    let guest = pod.run(&["api", "pods"], &[]);
    assert_eq!(guest.status.code(), Some(1), "the guest refuses it too");
    assert!(
        crate::harness::stdout(&guest).contains("cannot read the ServiceAccount token"),
        "{}",
        crate::harness::stdout(&guest)
    );

    // Back to a good token inside the root: served again.
    std::fs::remove_file(&token).unwrap();
    std::fs::write(&token, &good).unwrap();
    let (code, body) = cluster.rt.block_on(call(&c, "GET", &pods, None));
    assert_eq!(code, 200, "{body}");

    let sent = Instant::now();
    proxy.terminate();
    let code = loop {
        if let Some(s) = proxy.child.try_wait().unwrap() {
            break s;
        }
        assert!(
            sent.elapsed() < Duration::from_secs(10),
            "did not exit after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(code.success(), "{code}");
    let out = proxy.output();
    assert!(
        !out.contains(std::str::from_utf8(&good).unwrap().trim()),
        "no token in the logs"
    );
    assert!(out.contains("it is a FIFO, not a regular file"), "{out}");
}

#[test]
fn a_fifo_ca_file_fails_closed_without_hanging() {
    let cluster = Cluster::start(ClusterOptions::default());
    let pod = InClusterPod::new(&cluster, "shop", "web-0");
    let ca = pod.root.host(SA_DIR).join("ca.crt");
    mkfifo(&ca);
    let proxy = proxy_for(&pod, &[]);
    let c = client();
    let (code, body) = cluster.rt.block_on(call(
        &c,
        "GET",
        &proxy.url("/api/v1/namespaces/shop/pods"),
        None,
    ));
    assert!(code >= 500, "{code} {body}");
    assert!(body.contains("it is a FIFO, not a regular file"), "{body}");
    assert!(body.contains(&ca.display().to_string()), "{body}");
}
