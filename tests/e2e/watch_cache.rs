//! `pod-introspect proxy --watch-cache`: many client watches over one upstream watch, each with
//! its selectors; replay and 410 from the window; an API-server restart; pass-through of what
//! is not cached; kubectl and the Python client through the cache. The upstream's count of open
//! watches is read from dev-cluster's `/metrics` (`apiserver_longrunning_requests`).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::BodyExt as _;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use pod_introspect_apiserver::ClusterOptions;
use serde_json::Value;

use crate::cluster::Cluster;
use crate::proxy_load::Proxy;

/// A client runtime, separate from the cluster's (whose helpers block on their own).
fn client_rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// One watch stream through the proxy.
struct Watch {
    body: Incoming,
    buf: Vec<u8>,
}

/// `GET target` through the proxy at `addr`: the status, and the body as a watch stream.
async fn get(addr: &str, target: &str) -> (u16, Watch) {
    let tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let (mut send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
        .await
        .expect("handshake");
    tokio::spawn(async move {
        let _ = conn.await;
    });
    let req = http::Request::get(target)
        .header("host", "127.0.0.1")
        .body(http_body_util::Empty::<Bytes>::new())
        .unwrap();
    let resp = tokio::time::timeout(Duration::from_secs(20), send.send_request(req))
        .await
        .unwrap_or_else(|_| panic!("no answer to {target} within 20 s"))
        .expect("request");
    (
        resp.status().as_u16(),
        Watch {
            body: resp.into_body(),
            buf: Vec::new(),
        },
    )
}

impl Watch {
    /// The next event; `None` when the stream ends or nothing comes within `wait`.
    async fn next(&mut self, wait: Duration) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(i) = self.buf.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = self.buf.drain(..=i).collect();
                return Some(serde_json::from_slice(&line).expect("event JSON"));
            }
            match tokio::time::timeout_at(deadline, self.body.frame()).await {
                Ok(Some(Ok(f))) => {
                    if let Ok(d) = f.into_data() {
                        self.buf.extend_from_slice(&d);
                    }
                }
                _ => return None,
            }
        }
    }

    /// The next event that is not a bookmark.
    async fn change(&mut self, wait: Duration) -> Option<Value> {
        loop {
            let e = self.next(wait).await?;
            if e["type"] != "BOOKMARK" {
                return Some(e);
            }
        }
    }

    /// The whole body (a list).
    async fn json(self) -> Value {
        let bytes = self.body.collect().await.expect("body").to_bytes();
        serde_json::from_slice(&bytes).expect("JSON body")
    }
}

/// `(type, name)` of an event.
fn brief(e: &Value) -> (String, String) {
    (
        e["type"].as_str().unwrap_or("").to_owned(),
        e["object"]["metadata"]["name"]
            .as_str()
            .unwrap_or("")
            .to_owned(),
    )
}

fn rv(e: &Value) -> u64 {
    e["object"]["metadata"]["resourceVersion"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// A list's items as name → resourceVersion.
fn names_and_versions(list: &Value) -> BTreeMap<String, u64> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let rv = p["metadata"]["resourceVersion"].as_str().unwrap();
            (
                p["metadata"]["name"].as_str().unwrap().to_owned(),
                rv.parse().unwrap(),
            )
        })
        .collect()
}

/// Open upstream watches of `resource` (core group) at `scope`, from dev-cluster's `/metrics`.
fn upstream_watches(cluster: &Cluster, resource: &str, scope: &str) -> u64 {
    let (code, text) = cluster.admin("GET", "/metrics", None);
    assert_eq!(code, 200, "{text}");
    let text = text.as_str().expect("metrics text").to_owned();
    let series = format!(
        "apiserver_longrunning_requests{{component=\"apiserver\",group=\"\",resource=\"{resource}\",scope=\"{scope}\",subresource=\"\",verb=\"WATCH\",version=\"v1\"}} "
    );
    text.lines()
        .find_map(|l| l.strip_prefix(&series))
        .map_or(0, |v| v.parse().unwrap())
}

/// Polls `f` for up to 10 s until it returns `want`; the last value.
fn eventually<T: PartialEq + std::fmt::Debug>(want: T, mut f: impl FnMut() -> T) -> T {
    let end = Instant::now() + Duration::from_secs(10);
    loop {
        let v = f();
        if v == want || Instant::now() > end {
            return v;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A free loopback port (for --health-port).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The proxy's `/metrics` text.
fn proxy_metrics(rt: &tokio::runtime::Runtime, health: u16) -> String {
    rt.block_on(async {
        let (code, w) = get(&format!("127.0.0.1:{health}"), "/metrics").await;
        assert_eq!(code, 200);
        let bytes = w.body.collect().await.unwrap().to_bytes();
        String::from_utf8(bytes.to_vec()).unwrap()
    })
}

/// The emulator, its admin kubeconfig in a temp dir, and a caching proxy in front of it.
struct Setup {
    cluster: Cluster,
    dir: tempfile::TempDir,
    proxy: Proxy,
    health: u16,
}

fn setup(state: bool, extra: &[&str]) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let cluster = Cluster::start(ClusterOptions {
        state_dir: state.then(|| dir.path().join("state")),
        bookmark_interval: Duration::from_millis(500),
        ..Default::default()
    });
    let kubeconfig = dir.path().join("kubeconfig");
    let api = cluster.api();
    std::fs::write(&kubeconfig, api.kubeconfig(&api.admin_token(), "default")).unwrap();
    let health = free_port();
    let health_flag = health.to_string();
    let mut args = vec![
        "--kubeconfig",
        kubeconfig.to_str().unwrap(),
        "--watch-cache",
        "--health-address",
        "127.0.0.1",
        "--health-port",
        health_flag.as_str(),
    ];
    args.extend_from_slice(extra);
    let proxy = Proxy::with_args(&args, &[]);
    Setup {
        cluster,
        dir,
        proxy,
        health,
    }
}

#[test]
fn many_watchers_with_selectors_get_exactly_their_events_over_one_upstream_watch() {
    let s = setup(false, &["--cache-resources", "pods,configmaps"]);
    let rt = client_rt();
    s.cluster.pod("team", "a1", &[("app", "a")]);
    s.cluster.pod("team", "b1", &[("app", "b")]);
    let addr = s.proxy.addr.clone();
    let base = "/api/v1/namespaces/team/pods?watch=true";
    let mut a: Vec<Watch> = Vec::new();
    let mut b: Vec<Watch> = Vec::new();
    let mut named: Vec<Watch> = Vec::new();
    rt.block_on(async {
        for _ in 0..10 {
            let (code, w) = get(&addr, &format!("{base}&labelSelector=app%3Da")).await;
            assert_eq!(code, 200);
            a.push(w);
            let (code, w) = get(&addr, &format!("{base}&labelSelector=app%3Db")).await;
            assert_eq!(code, 200);
            b.push(w);
        }
        for _ in 0..5 {
            let (code, w) = get(&addr, &format!("{base}&fieldSelector=metadata.name%3Da2")).await;
            assert_eq!(code, 200);
            named.push(w);
        }
    });
    // One upstream watch however many clients: 25 here.
    assert_eq!(
        eventually(1, || upstream_watches(&s.cluster, "pods", "namespace")),
        1
    );
    // Changes: a2 created (app=a), b1 relabelled to app=a, a1 deleted, a2 relabelled to b.
    s.cluster.pod("team", "a2", &[("app", "a")]);
    let mut b1 = s.cluster.api().get_pod("team", "b1").unwrap();
    b1.metadata.labels = Some([("app".to_owned(), "a".to_owned())].into());
    s.cluster.api().update_pod(b1).unwrap();
    s.cluster.api().delete_pod("team", "a1").unwrap();
    let mut a2 = s.cluster.api().get_pod("team", "a2").unwrap();
    a2.metadata.labels = Some([("app".to_owned(), "b".to_owned())].into());
    s.cluster.api().update_pod(a2).unwrap();
    s.cluster.pod("elsewhere", "a9", &[("app", "a")]);

    // Every watcher read at once: the changes until 700 ms pass without one.
    let read_all = |ws: &mut Vec<Watch>| -> Vec<Vec<(String, String)>> {
        rt.block_on(async {
            let mut tasks = tokio::task::JoinSet::new();
            for (i, mut w) in ws.drain(..).enumerate() {
                tasks.spawn(async move {
                    let mut got = Vec::new();
                    while let Some(e) = w.change(Duration::from_millis(700)).await {
                        got.push(brief(&e));
                    }
                    (i, got, w)
                });
            }
            let mut out = tasks.join_all().await;
            out.sort_by_key(|(i, _, _)| *i);
            out.into_iter()
                .map(|(_, got, w)| {
                    ws.push(w);
                    got
                })
                .collect()
        })
    };
    let ev = |t: &str, n: &str| (t.to_owned(), n.to_owned());
    let want_a = vec![
        ev("ADDED", "a1"),
        ev("ADDED", "a2"),
        ev("ADDED", "b1"),
        ev("DELETED", "a1"),
        ev("DELETED", "a2"),
    ];
    let want_b = vec![ev("ADDED", "b1"), ev("DELETED", "b1"), ev("ADDED", "a2")];
    let want_named = vec![ev("ADDED", "a2"), ev("MODIFIED", "a2")];
    for got in read_all(&mut a) {
        assert_eq!(got, want_a);
    }
    for got in read_all(&mut b) {
        assert_eq!(got, want_b);
    }
    for got in read_all(&mut named) {
        assert_eq!(got, want_named);
    }
    let metrics = proxy_metrics(&rt, s.health);
    for line in [
        "pod_introspect_proxy_upstream_watches{resource=\"pods\",namespace=\"team\"} 1\n",
        "pod_introspect_proxy_watch_clients{resource=\"pods\",namespace=\"team\"} 25\n",
        "pod_introspect_proxy_cache_relists_total{resource=\"pods\",namespace=\"team\"} 1\n",
    ] {
        assert!(metrics.contains(line), "{line:?} not in {metrics}");
    }
    // A list from the cache (resourceVersion=0) applies the same selectors.
    let list = rt.block_on(async {
        let (code, w) = get(
            &addr,
            "/api/v1/namespaces/team/pods?resourceVersion=0&labelSelector=app%3Da",
        )
        .await;
        assert_eq!(code, 200);
        w.json().await
    });
    assert_eq!(list["kind"], "PodList");
    let names: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["b1"]);
    assert!(
        list["items"][0].get("kind").is_none(),
        "list items of built-in types carry no kind, as the API server writes them"
    );
    drop((a, b, named));
    let _ = &s.dir;
}

#[test]
fn a_watch_from_an_old_resource_version_replays_inside_the_window_and_gets_410_outside() {
    let s = setup(
        false,
        &[
            "--cache-resources",
            "pods",
            "--watch-cache-size",
            "5",
            "--watch-cache-bookmark-interval",
            "200ms",
        ],
    );
    let rt = client_rt();
    let addr = s.proxy.addr.clone();
    // Start the cache, then make 8 changes.
    let (_, mut first) = rt.block_on(get(&addr, "/api/v1/namespaces/w/pods?watch=1"));
    assert_eq!(
        eventually(1, || upstream_watches(&s.cluster, "pods", "namespace")),
        1
    );
    for i in 0..8 {
        s.cluster.pod("w", &format!("p{i}"), &[]);
    }
    let rvs: Vec<u64> = rt.block_on(async {
        let mut rvs = Vec::new();
        while rvs.len() < 8 {
            let e = first.change(Duration::from_secs(5)).await.expect("event");
            rvs.push(rv(&e));
        }
        rvs
    });
    // The window holds the last 5 events: from the 4th event's RV, events 5..8 replay.
    let (code, mut replay) = rt.block_on(get(
        &addr,
        &format!(
            "/api/v1/namespaces/w/pods?watch=1&resourceVersion={}",
            rvs[3]
        ),
    ));
    assert_eq!(code, 200);
    let names: Vec<String> = rt.block_on(async {
        let mut n = Vec::new();
        while let Some(e) = replay.change(Duration::from_millis(500)).await {
            n.push(brief(&e).1);
        }
        n
    });
    assert_eq!(names, ["p4", "p5", "p6", "p7"]);
    // From the 1st: older than the window's floor (the RV of the 3rd event, the last one dropped).
    let (code, mut old) = rt.block_on(get(
        &addr,
        &format!(
            "/api/v1/namespaces/w/pods?watch=1&resourceVersion={}",
            rvs[0]
        ),
    ));
    assert_eq!(
        code, 200,
        "a too old watch is an in-stream ERROR, as the API server sends it"
    );
    let e = rt
        .block_on(old.next(Duration::from_secs(5)))
        .expect("ERROR event");
    assert_eq!(e["type"], "ERROR");
    assert_eq!(e["object"]["code"], 410);
    assert_eq!(e["object"]["reason"], "Expired");
    assert_eq!(
        e["object"]["message"],
        format!("too old resource version: {} ({})", rvs[0], rvs[2])
    );
    assert!(rt.block_on(old.next(Duration::from_millis(300))).is_none());
    // WatchList: the current state, then the initial-events-end bookmark, then bookmarks at
    // the cache's resourceVersion.
    let (code, mut wl) = rt.block_on(get(
        &addr,
        "/api/v1/namespaces/w/pods?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true",
    ));
    assert_eq!(code, 200);
    let (initial, end, later) = rt.block_on(async {
        let mut initial = Vec::new();
        loop {
            let e = wl.next(Duration::from_secs(5)).await.expect("event");
            if e["type"] == "BOOKMARK" {
                let later = wl
                    .next(Duration::from_secs(5))
                    .await
                    .expect("a later bookmark");
                return (initial, e, later);
            }
            initial.push(brief(&e));
        }
    });
    assert_eq!(initial.len(), 8);
    assert!(initial.iter().all(|(t, _)| t == "ADDED"));
    assert_eq!(
        end["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"],
        "true"
    );
    assert_eq!(rv(&end), rvs[7]);
    assert_eq!(later["type"], "BOOKMARK");
    assert!(later["object"]["metadata"].get("annotations").is_none());
    assert!(rv(&later) >= rvs[7]);
    // Still one upstream watch for all of them.
    assert_eq!(upstream_watches(&s.cluster, "pods", "namespace"), 1);
}

#[test]
fn an_upstream_restart_relists_and_clients_continue_or_get_410_never_a_gap() {
    let mut s = setup(true, &["--cache-resources", "pods"]);
    let rt = client_rt();
    let addr = s.proxy.addr.clone();
    let listen = s.cluster.api().local_addr();
    for i in 0..3 {
        s.cluster.pod("r", &format!("p{i}"), &[]);
    }
    // A client that keeps its own copy the way client-go's reflector does: list, watch from
    // the list, re-watch from the last RV when the stream ends, re-list on 410.
    let mut state: BTreeMap<String, u64> = BTreeMap::new();
    let mut last_rv = 0u64;
    let list = |state: &mut BTreeMap<String, u64>, last: &mut u64| {
        let v = rt.block_on(async {
            get(&addr, "/api/v1/namespaces/r/pods?resourceVersion=0")
                .await
                .1
                .json()
                .await
        });
        *state = names_and_versions(&v);
        *last = v["metadata"]["resourceVersion"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
    };
    list(&mut state, &mut last_rv);
    let mut relists = 1;
    let follow = |state: &mut BTreeMap<String, u64>, last: &mut u64, until: Instant| -> bool {
        // One watch; true when it ended with a 410.
        rt.block_on(async {
            let (code, mut w) = get(
                &addr,
                &format!("/api/v1/namespaces/r/pods?watch=1&resourceVersion={last}"),
            )
            .await;
            assert_eq!(code, 200);
            loop {
                let left = until.saturating_duration_since(Instant::now());
                let Some(e) = w.next(left.max(Duration::from_millis(1))).await else {
                    return false;
                };
                match e["type"].as_str().unwrap() {
                    "ERROR" => {
                        assert_eq!(e["object"]["code"], 410, "{e}");
                        return true;
                    }
                    "BOOKMARK" => *last = rv(&e),
                    t => {
                        let r = rv(&e);
                        assert!(r > *last, "events in order, none twice: {r} after {last}");
                        *last = r;
                        let name = e["object"]["metadata"]["name"].as_str().unwrap().to_owned();
                        if t == "DELETED" {
                            state.remove(&name);
                        } else {
                            state.insert(name, r);
                        }
                    }
                }
            }
        })
    };
    s.cluster.pod("r", "p3", &[]);
    follow(
        &mut state,
        &mut last_rv,
        Instant::now() + Duration::from_millis(500),
    );
    // The API server goes down, comes back on the same state and port, and changes.
    s.cluster.stop();
    std::thread::sleep(Duration::from_millis(300));
    // A history of 2 events: the 5 changes made before the proxy re-watches (it backs off
    // 800 ms after the failed stream) push its resourceVersion out, so it gets a 410 and lists.
    let restarted = Cluster::start(ClusterOptions {
        listen,
        state_dir: Some(s.dir.path().join("state")),
        bookmark_interval: Duration::from_millis(500),
        watch_history: 2,
        ..Default::default()
    });
    s.cluster = restarted;
    for i in 4..8 {
        s.cluster.pod("r", &format!("p{i}"), &[]);
    }
    s.cluster.api().delete_pod("r", "p0").unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let want = names_and_versions(&s.cluster.admin("GET", "/api/v1/namespaces/r/pods", None).1);
    while state != want && Instant::now() < deadline {
        if follow(
            &mut state,
            &mut last_rv,
            Instant::now() + Duration::from_secs(1),
        ) {
            list(&mut state, &mut last_rv);
            relists += 1;
        }
    }
    assert_eq!(state, want, "the client's copy equals the API server's");
    // The cache follows the restarted server with one watch again, after listing again.
    assert_eq!(
        eventually(1, || upstream_watches(&s.cluster, "pods", "namespace")),
        1
    );
    let metrics = proxy_metrics(&rt, s.health);
    let relisted: u64 = metrics
        .lines()
        .find_map(|l| {
            l.strip_prefix(
                "pod_introspect_proxy_cache_relists_total{resource=\"pods\",namespace=\"r\"} ",
            )
        })
        .expect("relists series")
        .parse()
        .unwrap();
    assert_eq!(relisted, 2, "{metrics}");
    assert!(relists >= 2, "the client was sent a 410 and listed again");
}

#[test]
fn resources_not_cached_pass_through_as_today() {
    let s = setup(false, &["--cache-resources", "pods"]);
    let rt = client_rt();
    let addr = s.proxy.addr.clone();
    let (_, cm) = s.cluster.admin(
        "POST",
        "/api/v1/namespaces/default/configmaps",
        Some(&serde_json::json!({"metadata": {"name": "c"}, "data": {"k": "v"}})),
    );
    assert_eq!(cm["metadata"]["name"], "c");
    let watches: Vec<Watch> = rt.block_on(async {
        let mut v = Vec::new();
        for _ in 0..3 {
            let (code, mut w) = get(&addr, "/api/v1/namespaces/default/configmaps?watch=1").await;
            assert_eq!(code, 200);
            let e = w.change(Duration::from_secs(5)).await.expect("ADDED c");
            assert_eq!(brief(&e), ("ADDED".into(), "c".into()));
            v.push(w);
        }
        v
    });
    assert_eq!(upstream_watches(&s.cluster, "configmaps", "namespace"), 3);
    let metrics = proxy_metrics(&rt, s.health);
    assert!(!metrics.contains("configmaps"), "{metrics}");
    drop(watches);
}

#[test]
fn kubectl_get_watch_and_the_python_client_watch_through_the_cache() {
    let s = setup(false, &["--cache-resources", "pods"]);
    let rt = client_rt();
    s.cluster.pod("kc", "first", &[("app", "x")]);
    let server = format!("http://{}", s.proxy.addr);
    let mut cache_watches = 0;
    if let Some(kubectl) = pod_introspect_test_support::kubectl() {
        let mut child = std::process::Command::new(kubectl)
            .args(["--server", &server, "-n", "kc", "get", "pods", "-w"])
            .env("KUBECONFIG", "/dev/null")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("kubectl");
        let out = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead as _;
            for line in std::io::BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let header = rx.recv_timeout(Duration::from_secs(20)).expect("header");
        assert!(header.starts_with("NAME"), "{header}");
        let first = rx.recv_timeout(Duration::from_secs(20)).expect("first row");
        assert!(first.starts_with("first "), "{first}");
        assert_eq!(
            eventually(1, || upstream_watches(&s.cluster, "pods", "namespace")),
            1
        );
        s.cluster.pod("kc", "second", &[]);
        let row = rx
            .recv_timeout(Duration::from_secs(20))
            .expect("a row for second");
        assert!(row.starts_with("second "), "{row}");
        let metrics = proxy_metrics(&rt, s.health);
        assert!(
            metrics.contains(
                "pod_introspect_proxy_watch_clients{resource=\"pods\",namespace=\"kc\"} 1\n"
            ),
            "kubectl's watch is served from the cache: {metrics}"
        );
        let _ = child.kill();
        let _ = child.wait();
        cache_watches += 1;
    }
    if let Some(python) = pod_introspect_test_support::python_kubernetes() {
        let script = format!(
            r#"
import json
from kubernetes import client, watch
c = client.Configuration()
c.host = "{server}"
v1 = client.CoreV1Api(client.ApiClient(c))
w = watch.Watch()
seen = []
for e in w.stream(v1.list_namespaced_pod, "kc", timeout_seconds=3):
    seen.append([e["type"], e["object"].metadata.name])
print(json.dumps(seen))
"#
        );
        let out = std::process::Command::new(python)
            .args(["-c", &script])
            .output()
            .expect("python");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let seen: Value = serde_json::from_slice(&out.stdout).expect("JSON");
        assert_eq!(
            seen,
            serde_json::json!([["ADDED", "first"], ["ADDED", "second"]])
        );
        cache_watches += 1;
        let metrics = proxy_metrics(&rt, s.health);
        let line = format!(
            "pod_introspect_proxy_cache_requests_total{{resource=\"pods\",namespace=\"kc\",verb=\"watch\"}} {cache_watches}\n"
        );
        assert!(
            metrics.contains(&line),
            "the Python client's watch is served from the cache: {line:?} not in {metrics}"
        );
    }
}
