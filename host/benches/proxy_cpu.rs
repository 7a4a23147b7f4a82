//! The ambassador's CPU budget and watch fan-out, against the anchor `kubectl proxy`, in one
//! run on one machine, pinned: each proxy runs alone on CPU 0 (`sched_setaffinity` before it
//! execs, so every thread of it, Go's included, stays there), and this process, which holds the
//! in-process API-server emulator and the load generator, on CPU 1.
//!
//! 1. CPU per request: for `GET /version`, `GET` one pod, a 100-pod list and a 500-pod list
//!    (also with `Accept-Encoding: gzip`, which dev-cluster honours over 128 KiB as kube-apiserver),
//!    `CONNS` keep-alive HTTP/1.1 connections send requests back to back for `SECONDS`; the
//!    proxy's CPU time (utime + stime from `/proc/PID/stat`, before and after) divided by the
//!    requests it served, next to requests/s, p50 and p99.
//! 2. Watch fan-out: `WATCHERS` clients watch one namespace's pods through the proxy (ours with
//!    `--watch-cache --cache-resources pods`), then `CHANGES` pods are created there, one every
//!    `PACE_MS`: the upstream watches open (dev-cluster's `apiserver_longrunning_requests`),
//!    whether every client got every event in order, the event latency from the write to its
//!    arrival at each client (p50, p99 over all clients), and the proxy's RSS growth per watcher.
//!
//! Run: `cargo bench -p pod-introspect --bench proxy_cpu [-- SECONDS CONNS WATCHERS CHANGES PACE_MS]`
//! (defaults 5 8 1000 1000 10; `WATCHERS` 0 skips the fan-out), or `bench/proxy-cpu.sh`;
//! `PROXY_CPU_ONLY=TEXT` runs only the workloads whose name holds TEXT (for `perf record`). kubectl is `$KUBECTL` or
//! `/usr/bin/kubectl`; without it only our proxy is measured. Prints markdown tables.

use std::collections::HashMap;
use std::os::unix::process::CommandExt as _;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt as _, Empty};
use hyper_util::rt::TokioIo;
use k8s_openapi::api::core::v1::Pod;
use pod_introspect_apiserver::{ClusterOptions, DevCluster};

/// Pins the calling thread (and the threads it starts later) to `cpu`.
fn pin(pid: libc::pid_t, cpu: usize) -> std::io::Result<()> {
    // SAFETY: a zeroed cpu_set_t is a valid empty set; CPU_SET writes within it.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        if libc::sched_setaffinity(pid, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Raises the open-file limit to its hard limit (1,000 watchers are 1,000 sockets).
fn raise_nofile() {
    // SAFETY: getrlimit/setrlimit with a valid struct.
    unsafe {
        let mut l: libc::rlimit = std::mem::zeroed();
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut l) == 0 {
            l.rlim_cur = l.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &l);
        }
    }
}

/// utime + stime of `pid`, in seconds.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command (which may hold spaces) start after the last ')'.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    // utime and stime are fields 14 and 15 of stat; `rest` starts at field 3.
    (ticks(11) + ticks(12)) / hz
}

/// VmRSS of `pid` in KiB.
fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// A proxy child on CPU 0 and the address it serves on.
struct ProxyChild {
    name: &'static str,
    child: Child,
    addr: String,
}

impl Drop for ProxyChild {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_proxy(name: &'static str, program: &str, args: &[&str]) -> anyhow::Result<ProxyChild> {
    let mut cmd = Command::new(program);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        cmd.pre_exec(|| pin(0, 0));
    }
    let mut child = cmd.spawn()?;
    let out = child.stdout.take().expect("stdout");
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(out), &mut line)?;
    let addr = line
        .trim()
        .strip_prefix("Starting to serve on ")
        .ok_or_else(|| anyhow::anyhow!("{name}: unexpected first line {line:?}"))?
        .to_owned();
    Ok(ProxyChild { name, child, addr })
}

async fn connect(
    addr: &str,
) -> anyhow::Result<hyper::client::conn::http1::SendRequest<Empty<Bytes>>> {
    let tcp = tokio::net::TcpStream::connect(addr).await?;
    tcp.set_nodelay(true)?;
    let (send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp)).await?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(send)
}

fn get(path: &str) -> http::Request<Empty<Bytes>> {
    request(path, false)
}

/// `GET path`, with `Accept-Encoding: gzip` as client-go's transport sends it when `gzip`.
fn request(path: &str, gzip: bool) -> http::Request<Empty<Bytes>> {
    let mut b = http::Request::get(path).header("host", "127.0.0.1");
    if gzip {
        b = b.header("accept-encoding", "gzip");
    }
    b.body(Empty::new()).expect("request")
}

/// `conns` connections sending `GET path` back to back for `secs`: latencies of the 200s.
async fn load(
    addr: &str,
    (path, gzip): (&str, bool),
    conns: usize,
    secs: f64,
) -> anyhow::Result<Vec<Duration>> {
    let end = Instant::now() + Duration::from_secs_f64(secs);
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..conns {
        let mut send = connect(addr).await?;
        let path = path.to_owned();
        tasks.spawn(async move {
            let mut lat = Vec::new();
            while Instant::now() < end {
                let t = Instant::now();
                let Ok(resp) = send.send_request(request(&path, gzip)).await else {
                    break;
                };
                let ok = resp.status() == 200;
                if resp.into_body().collect().await.is_err() {
                    break;
                }
                if ok {
                    lat.push(t.elapsed());
                }
            }
            lat
        });
    }
    let mut all = Vec::new();
    for v in tasks.join_all().await {
        all.extend(v);
    }
    Ok(all)
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i].as_secs_f64() * 1e3
}

fn pod(namespace: &str, name: &str) -> Pod {
    serde_json::from_value(serde_json::json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": {"app": "bench"}},
        "spec": {"containers": [{"name": "app", "image": "registry.example/app:1.0",
                 "resources": {"limits": {"cpu": "500m", "memory": "128Mi"}}}]}
    }))
    .expect("pod")
}

/// dev-cluster's open watches of pods in `scope`.
async fn upstream_watches(api: &DevCluster, scope: &str) -> u64 {
    let client = pod_introspect_apiserver::client::Client::new(
        &api.url(),
        &api.ca_pem(),
        Some(api.admin_token()),
    )
    .expect("client");
    let Ok((_, body)) = client.request(http::Method::GET, "/metrics", None).await else {
        return 0;
    };
    let series = format!(
        "apiserver_longrunning_requests{{component=\"apiserver\",group=\"\",resource=\"pods\",scope=\"{scope}\",subresource=\"\",verb=\"WATCH\",version=\"v1\"}} "
    );
    String::from_utf8_lossy(&body)
        .lines()
        .find_map(|l| l.strip_prefix(&series).and_then(|v| v.parse().ok()))
        .unwrap_or(0)
}

/// What one fan-out run measured.
struct FanOut {
    upstream: u64,
    delivered: u64,
    in_order: bool,
    p50_ms: f64,
    p99_ms: f64,
    rss_per_watcher_kib: f64,
    /// The proxy's CPU time from the first change to the last event delivered, per event.
    cpu_us_per_event: f64,
}

async fn fan_out(
    api: &DevCluster,
    proxy: &ProxyChild,
    namespace: &str,
    watchers: usize,
    changes: usize,
    pace: Duration,
) -> anyhow::Result<FanOut> {
    let pid = proxy.child.id();
    let rss0 = rss_kib(pid);
    let before = upstream_watches(api, "namespace").await;
    let rv = api.resource_version();
    let start = Instant::now();
    let created: Arc<Vec<AtomicU64>> = Arc::new((0..changes).map(|_| AtomicU64::new(0)).collect());
    let prefix = format!("\"name\":\"{namespace}-");
    let mut tasks = tokio::task::JoinSet::new();
    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel::<()>(watchers);
    for _ in 0..watchers {
        let mut send = connect(&proxy.addr).await?;
        let path = format!("/api/v1/namespaces/{namespace}/pods?watch=1&resourceVersion={rv}");
        let created = created.clone();
        let prefix = prefix.clone();
        let ready = ready_tx.clone();
        tasks.spawn(async move {
            let mut lat = Vec::with_capacity(changes);
            let mut next = 0usize;
            let mut in_order = true;
            let Ok(resp) = send.send_request(get(&path)).await else {
                let _ = ready.send(()).await;
                return (lat, false);
            };
            let _ = ready.send(()).await;
            drop(ready);
            let mut body = resp.into_body();
            let mut buf: Vec<u8> = Vec::new();
            while next < changes {
                let Some(Ok(frame)) = body.frame().await else {
                    break;
                };
                let Ok(data) = frame.into_data() else {
                    continue;
                };
                let now = start.elapsed().as_nanos() as u64;
                buf.extend_from_slice(&data);
                // Whole lines only; the reader shares its CPU with the emulator, so it parses
                // in place (no copy, no allocation per line).
                let mut from = 0;
                while let Some(nl) = buf[from..].iter().position(|b| *b == b'\n') {
                    let line = &buf[from..from + nl];
                    from += nl + 1;
                    let Ok(text) = std::str::from_utf8(line) else {
                        continue;
                    };
                    if !text.starts_with("{\"type\":\"ADDED\"")
                        && !text.contains("\"type\":\"ADDED\"")
                    {
                        continue;
                    }
                    let Some(i) = text.find(prefix.as_str()).and_then(|at| {
                        let rest = &text[at + prefix.len()..];
                        rest[..rest.find('"')?].parse::<usize>().ok()
                    }) else {
                        continue;
                    };
                    if i != next {
                        in_order = false;
                    }
                    next = i + 1;
                    let sent = created.get(i).map_or(0, |c| c.load(Ordering::Acquire));
                    lat.push(Duration::from_nanos(now.saturating_sub(sent)));
                }
                buf.drain(..from);
            }
            (lat, in_order && next == changes)
        });
    }
    drop(ready_tx);
    let mut opened = 0;
    while opened < watchers {
        match tokio::time::timeout(Duration::from_secs(60), ready_rx.recv()).await {
            Ok(Some(())) => opened += 1,
            _ => anyhow::bail!("{}: only {opened} of {watchers} watches opened", proxy.name),
        }
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let upstream = upstream_watches(api, "namespace")
        .await
        .saturating_sub(before);
    let rss1 = rss_kib(pid);
    let cpu0 = cpu_seconds(pid);
    let mut tick = tokio::time::interval(pace);
    for (i, c) in created.iter().enumerate() {
        tick.tick().await;
        c.store(start.elapsed().as_nanos() as u64, Ordering::Release);
        api.create_pod(pod(namespace, &format!("{namespace}-{i}")))
            .map_err(|e| anyhow::anyhow!("create: {e}"))?;
    }
    let results = tokio::time::timeout(Duration::from_secs(120), tasks.join_all())
        .await
        .map_err(|_| {
            anyhow::anyhow!("{}: watchers did not get every event in 120 s", proxy.name)
        })?;
    let cpu = cpu_seconds(pid) - cpu0;
    let mut lat = Vec::new();
    let mut in_order = opened == watchers;
    for (l, ok) in results {
        in_order &= ok;
        lat.extend(l);
    }
    let delivered = lat.len() as u64;
    lat.sort();
    Ok(FanOut {
        upstream,
        delivered,
        in_order,
        p50_ms: pct(&lat, 0.5),
        p99_ms: pct(&lat, 0.99),
        rss_per_watcher_kib: rss1.saturating_sub(rss0) as f64 / watchers as f64,
        cpu_us_per_event: cpu / delivered.max(1) as f64 * 1e6,
    })
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let arg = |i: usize, d: f64| args.get(i).and_then(|v| v.parse().ok()).unwrap_or(d);
    let (secs, conns) = (arg(0, 5.0), arg(1, 8.0) as usize);
    let (watchers, changes, pace) = (
        arg(2, 1000.0) as usize,
        arg(3, 1000.0) as usize,
        arg(4, 10.0),
    );
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    if cpus < 2 {
        eprintln!("note: one CPU: nothing is pinned");
    } else {
        pin(0, 1)?;
    }
    raise_nofile();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(run(
        secs,
        conns,
        watchers,
        changes,
        Duration::from_secs_f64(pace / 1e3),
        cpus,
    ))
}

async fn run(
    secs: f64,
    conns: usize,
    watchers: usize,
    changes: usize,
    pace: Duration,
    cpus: usize,
) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let api = DevCluster::start(ClusterOptions {
        state_dir: Some(dir.path().join("state")),
        watch_history: changes * 2 + 1000,
        ..Default::default()
    })
    .await?;
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(&kubeconfig, api.kubeconfig(&api.admin_token(), "default"))?;
    let kc = kubeconfig.to_str().unwrap_or_default().to_owned();
    api.create_pod(pod("bench", "pod-0"))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    for i in 0..100 {
        api.create_pod(pod("bench100", &format!("pod-{i}")))
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    for i in 0..500 {
        api.create_pod(pod("bench500", &format!("pod-{i}")))
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    let host = env!("CARGO_BIN_EXE_pod-introspect");
    let kubectl = std::env::var("KUBECTL").unwrap_or_else(|_| "/usr/bin/kubectl".into());
    let have_kubectl = std::path::Path::new(&kubectl).exists();
    if !have_kubectl {
        eprintln!(
            "skipped: no kubectl at {kubectl} (set KUBECTL=...): only pod-introspect proxy is measured"
        );
    }
    let version = String::from_utf8_lossy(
        &Command::new(&kubectl)
            .args(["version", "--client", "-o", "json"])
            .output()
            .map(|o| o.stdout)
            .unwrap_or_default(),
    )
    .to_string();
    let version: serde_json::Value = serde_json::from_str(&version).unwrap_or_default();
    println!(
        "pinned: {} (proxy on CPU 0; emulator and load on CPU 1); kubectl {}",
        cpus >= 2,
        version["clientVersion"]["gitVersion"]
            .as_str()
            .unwrap_or("absent")
    );
    println!();
    println!(
        "| workload | proxy | req/s | p50 ms | p99 ms | CPU µs/request | CPU ratio | p99 ratio |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|");
    // (name, path, Accept-Encoding: gzip). Without it kubectl proxy's Go transport asks the
    // API server for gzip itself and decompresses (net/http `DisableCompression` is false in
    // client-go); ours forwards the request as it came. With it (kubectl and client-go send it),
    // both pass the compressed body through.
    let only = std::env::var("PROXY_CPU_ONLY").unwrap_or_default();
    let workloads = [
        ("GET /version", "/version", false),
        ("GET one pod", "/api/v1/namespaces/bench/pods/pod-0", false),
        ("LIST 100 pods", "/api/v1/namespaces/bench100/pods", false),
        ("LIST 500 pods", "/api/v1/namespaces/bench500/pods", false),
        (
            "LIST 500 pods, Accept-Encoding: gzip",
            "/api/v1/namespaces/bench500/pods",
            true,
        ),
    ]
    .into_iter()
    .filter(|(name, _, _)| name.contains(only.as_str()));
    let mut proxies = Vec::new();
    if have_kubectl {
        proxies.push(start_proxy(
            "kubectl proxy",
            &kubectl,
            &["proxy", "--kubeconfig", &kc, "--port=0"],
        )?);
    }
    proxies.push(start_proxy(
        "pod-introspect proxy",
        host,
        &["proxy", "--kubeconfig", &kc, "--port=0"],
    )?);
    for (name, path, gzip) in workloads {
        let mut anchor: Option<(f64, f64)> = None;
        for p in &proxies {
            load(&p.addr, (path, gzip), conns, 0.5).await?; // warm the pools
            let pid = p.child.id();
            let c0 = cpu_seconds(pid);
            let t0 = Instant::now();
            let mut lat = load(&p.addr, (path, gzip), conns, secs).await?;
            let wall = t0.elapsed().as_secs_f64();
            let cpu = cpu_seconds(pid) - c0;
            lat.sort();
            let n = lat.len().max(1) as f64;
            let cpu_us = cpu / n * 1e6;
            let p99 = pct(&lat, 0.99);
            let (cr, pr) = match anchor {
                None => {
                    anchor = Some((cpu_us, p99));
                    ("1.00x (anchor)".to_owned(), "1.00x".to_owned())
                }
                Some((ac, ap)) => (format!("{:.2}x", cpu_us / ac), format!("{:.2}x", p99 / ap)),
            };
            println!(
                "| {name} | {} | {:.0} | {:.3} | {:.3} | {cpu_us:.1} | {cr} | {pr} |",
                p.name,
                lat.len() as f64 / wall,
                pct(&lat, 0.5),
                p99
            );
        }
    }
    drop(proxies);
    if watchers == 0 || changes == 0 {
        api.shutdown().await;
        return Ok(());
    }

    println!();
    println!(
        "Watch fan-out: {watchers} clients watching one namespace's pods, {changes} pods created, one every {} ms",
        pace.as_millis()
    );
    println!();
    println!(
        "| proxy | upstream watches | events delivered | every client every event in order | latency p50 ms | p99 ms | RSS growth per watcher KiB | proxy CPU µs per event delivered |"
    );
    println!("|---|---:|---:|---|---:|---:|---:|---:|");
    let mut fan = Vec::new();
    fan.push(start_proxy(
        "pod-introspect proxy --watch-cache",
        host,
        &[
            "proxy",
            "--kubeconfig",
            &kc,
            "--port=0",
            "--watch-cache",
            "--cache-resources",
            "pods",
        ],
    )?);
    if have_kubectl {
        fan.push(start_proxy(
            "kubectl proxy",
            &kubectl,
            &["proxy", "--kubeconfig", &kc, "--port=0"],
        )?);
    }
    let mut namespaces: HashMap<&str, &str> = HashMap::new();
    namespaces.insert("pod-introspect proxy --watch-cache", "fanp");
    namespaces.insert("kubectl proxy", "fank");
    for p in &fan {
        let ns = namespaces[p.name];
        let r = fan_out(&api, p, ns, watchers, changes, pace).await?;
        println!(
            "| {} | {} | {} of {} | {} | {:.3} | {:.3} | {:.1} | {:.2} |",
            p.name,
            r.upstream,
            r.delivered,
            watchers * changes,
            if r.in_order { "yes" } else { "NO" },
            r.p50_ms,
            r.p99_ms,
            r.rss_per_watcher_kib,
            r.cpu_us_per_event
        );
    }
    drop(fan);
    api.shutdown().await;
    Ok(())
}
