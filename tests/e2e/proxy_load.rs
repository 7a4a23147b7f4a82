//! `pod-introspect proxy` under load: one client's long-lived requests must not hurt the others,
//! and an outage is logged in a few lines, not one per request. The API-server emulator serves
//! HTTP/2 with `SETTINGS_MAX_CONCURRENT_STREAMS` 200; every wait is bounded.

use crate::cluster::{Cluster, InClusterPod};
use crate::harness::HOST;
use pod_introspect_apiserver::{ClusterOptions, DevCluster};
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A running `pod-introspect proxy`, its stderr captured.
pub(crate) struct Proxy {
    child: Child,
    /// HOST:PORT it serves on.
    pub(crate) addr: String,
    pub(crate) stderr: Arc<Mutex<String>>,
}

impl Proxy {
    /// `pod-introspect proxy --port=0 --root` for `pod`, in-cluster env set.
    fn start(pod: &InClusterPod) -> Proxy {
        let root = pod.root.path().to_str().unwrap();
        Proxy::with_args(
            &["--root", root],
            &[
                ("KUBERNETES_SERVICE_HOST", pod.addr.ip().to_string()),
                ("KUBERNETES_SERVICE_PORT", pod.addr.port().to_string()),
            ],
        )
    }

    /// `pod-introspect proxy --port=0 ARGS` with `env`; waits 10 s at most for its startup line.
    pub(crate) fn with_args(args: &[&str], env: &[(&str, String)]) -> Proxy {
        let mut child = Command::new(HOST)
            .args(["proxy", "--port=0"])
            .args(args)
            .env_remove("KUBERNETES_SERVICE_HOST")
            .env_remove("KUBERNETES_SERVICE_PORT")
            .envs(env.iter().map(|(k, v)| (k, v)))
            .env_remove("POD_INTROSPECT_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn pod-introspect proxy");
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut err = child.stderr.take().unwrap();
        let sink = stderr.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = err.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        let (tx, rx) = std::sync::mpsc::channel();
        let out = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let line = rx
            .recv_timeout(Duration::from_secs(10))
            .expect("the proxy's startup line within 10 s");
        let addr = line
            .strip_prefix("Starting to serve on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_string();
        Proxy {
            child,
            addr,
            stderr,
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends `GET path` on a new connection and reads the response head (10 s at most); returns the
/// status and the connection (positioned after the head) with any body bytes already read.
pub(crate) async fn open(addr: &str, path: &str) -> (u16, TcpStream, Vec<u8>) {
    let mut s = TcpStream::connect(addr)
        .await
        .expect("connect to the proxy");
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut buf = Vec::new();
    let head_end = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let mut chunk = [0u8; 4096];
            let n = s.read(&mut chunk).await.expect("read");
            assert!(n > 0, "connection closed before a response head");
            buf.extend_from_slice(&chunk[..n]);
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no response head for {path} within 10 s"));
    let status = std::str::from_utf8(&buf[9..12]).unwrap().parse().unwrap();
    let rest = buf.split_off(head_end);
    (status, s, rest)
}

/// Reads `s` until `needle` appeared (in `seen` or later), 20 s at most; false if the stream
/// ended first.
pub(crate) async fn delivers(s: &mut TcpStream, mut seen: Vec<u8>, needle: &[u8]) -> bool {
    tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            if seen.windows(needle.len()).any(|w| w == needle) {
                return true;
            }
            let mut chunk = [0u8; 8192];
            match s.read(&mut chunk).await {
                Ok(0) | Err(_) => return false,
                Ok(n) => seen.extend_from_slice(&chunk[..n]),
            }
        }
    })
    .await
    .unwrap_or(false)
}

#[test]
fn watches_beyond_the_stream_limit_do_not_starve_other_requests() {
    let cluster = Cluster::start(ClusterOptions::default());
    let pod = InClusterPod::new(&cluster, "shop", "web-0");
    let proxy = Proxy::start(&pod);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let addr = proxy.addr.clone();
    let mut watches = rt.block_on(async {
        let mut opened = Vec::new();
        // 250 watches: more than the emulator's 200 streams per connection.
        for i in 0..250 {
            let (status, s, rest) = open(&addr, "/api/v1/namespaces/shop/pods?watch=1").await;
            assert_eq!(status, 200, "watch #{i}");
            opened.push((s, rest));
        }
        opened
    });
    // Short requests are answered while all 250 watches stay open.
    for path in ["/version", "/api/v1/namespaces/shop/pods"] {
        let (status, _, _) = rt.block_on(open(&addr, path));
        assert_eq!(status, 200, "{path}");
    }
    // Every watch is still open and delivering: each sees the next pod.
    cluster.pod("shop", "load-1", &[]);
    let delivered = rt.block_on(async {
        let mut n = 0;
        for (s, rest) in watches.iter_mut() {
            if delivers(s, std::mem::take(rest), b"\"name\":\"load-1\"").await {
                n += 1;
            }
        }
        n
    });
    assert_eq!(delivered, 250, "watches still delivering events");
    let log = proxy.stderr.lock().unwrap().clone();
    assert!(!log.contains("WARN"), "{log}");
}

#[test]
fn an_outage_is_logged_in_a_few_lines_with_the_exact_count() {
    let state = tempfile::tempdir().unwrap();
    let opts = ClusterOptions {
        state_dir: Some(state.path().to_path_buf()),
        ..ClusterOptions::default()
    };
    let mut cluster = Cluster::start(opts.clone());
    let mut pod = InClusterPod::new(&cluster, "shop", "web-0");
    // A ServiceAccount token (not bound to the pod) stays valid across the restart.
    let token = cluster
        .api()
        .issue_token("shop", "default", Duration::from_secs(3607));
    pod.write_service_account(&token, &cluster.api().ca_pem());
    let api_addr = cluster.api().local_addr();
    let proxy = Proxy::start(&pod);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    assert_eq!(rt.block_on(open(&proxy.addr, "/version")).0, 200);

    cluster.stop();
    let mut failed = 0;
    for _ in 0..40 {
        assert_eq!(rt.block_on(open(&proxy.addr, "/version")).0, 502);
        failed += 1;
    }
    cluster.api = Some(
        cluster
            .rt
            .block_on(DevCluster::start(ClusterOptions {
                listen: api_addr,
                ..opts
            }))
            .expect("restart on the same address"),
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match rt.block_on(open(&proxy.addr, "/version")).0 {
            200 => break,
            502 => failed += 1,
            other => panic!("unexpected {other}"),
        }
        assert!(Instant::now() < deadline, "no recovery");
        std::thread::sleep(Duration::from_millis(100));
    }
    // The recovery line is written as the 200 goes out; the thread copying the proxy's stderr
    // may not have read it yet.
    let settled = Instant::now() + Duration::from_secs(5);
    while !proxy.stderr.lock().unwrap().contains("reachable again") && Instant::now() < settled {
        std::thread::sleep(Duration::from_millis(20));
    }
    let log = proxy.stderr.lock().unwrap().clone();
    let warns: Vec<&str> = log.lines().filter(|l| l.contains("WARN")).collect();
    // Well under the 10 s interval: the first failure and the recovery, nothing in between.
    assert_eq!(warns.len(), 2, "{log}");
    assert!(
        warns[0].contains("error reaching the API server: client error (Connect)"),
        "{log}"
    );
    assert!(
        warns[1].contains(&format!(
            "the API server is reachable again after {failed} failed requests"
        )),
        "{log}"
    );
    assert!(!log.contains(&token));
}
