//! Kubernetes API latency through the guest (wasi:http, the host's pooled rustls sender) against
//! the anchor, a native Rust client with a connection pool (hyper-util's legacy `Client` over
//! tokio-rustls, ALPN `h2` then `http/1.1` as the guest's sender), on the same in-process
//! API-server emulator, in one run: sequential `GET /version` and 500-pod lists from ONE guest
//! instance, so both sides reuse their connection.
//!
//! Run: `cargo bench -p pod-introspect --bench api_latency` (optionally `-- VERSIONS LISTS`,
//! default 1000 and 100). Prints a markdown table of medians, p99 and ratios (guest / native).

use http_body_util::{BodyExt as _, Empty};
use hyper_util::client::legacy::Client as PooledClient;
use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use k8s_openapi::api::core::v1::Pod;
use pod_introspect::bundled::{BundledGuest, GuestHost};
use pod_introspect::runtime::{Limits, bindings};
use pod_introspect::sandbox::SandboxOptions;
use pod_introspect_apiserver::{ClusterOptions, DevCluster};
use pod_introspect_kubelet::{ApiServerAccess, SimulateOptions};
use rustls::pki_types::{CertificateDer, ServerName, pem::PemObject};
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

/// A TLS connection for hyper-util's pool, reporting the ALPN-selected protocol.
struct TlsConn(TlsStream<TcpStream>);

impl Connection for TlsConn {
    fn connected(&self) -> Connected {
        if self.0.get_ref().1.alpn_protocol() == Some(b"h2".as_slice()) {
            Connected::new().negotiated_h2()
        } else {
            Connected::new()
        }
    }
}

impl AsyncRead for TlsConn {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for TlsConn {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

/// Connects every pool miss to the dev-cluster: TCP (no delay), then TLS trusting its CA.
#[derive(Clone)]
struct Connector {
    addr: SocketAddr,
    tls: tokio_rustls::TlsConnector,
}

impl tower_service::Service<http::Uri> for Connector {
    type Response = TokioIo<TlsConn>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<TokioIo<TlsConn>>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _uri: http::Uri) -> Self::Future {
        let (addr, tls) = (self.addr, self.tls.clone());
        Box::pin(async move {
            let tcp = TcpStream::connect(addr).await?;
            tcp.set_nodelay(true)?;
            let tls = tls
                .connect(ServerName::IpAddress(addr.ip().into()), tcp)
                .await?;
            Ok(TokioIo::new(TlsConn(tls)))
        })
    }
}

/// The native anchor: a pooled hyper client (as client-go's one transport per config).
struct Native {
    client: PooledClient<Connector, Empty<bytes::Bytes>>,
    base: String,
    token: String,
}

impl Native {
    fn new(cluster: &DevCluster, token: &str) -> anyhow::Result<Native> {
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(cluster.ca_pem().as_bytes()) {
            roots.add(cert?)?;
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_no_client_auth();
        tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        let connector = Connector {
            addr: cluster.local_addr(),
            tls: tokio_rustls::TlsConnector::from(Arc::new(tls)),
        };
        let client = PooledClient::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(90))
            .pool_timer(TokioTimer::new())
            .timer(TokioTimer::new())
            .build(connector);
        Ok(Native {
            client,
            base: cluster.url(),
            token: token.to_string(),
        })
    }

    /// GET `path`: the status, the HTTP version and the whole body.
    async fn get(
        &self,
        path: &str,
    ) -> anyhow::Result<(http::StatusCode, http::Version, bytes::Bytes)> {
        let req = http::Request::get(format!("{}{path}", self.base))
            .header(http::header::ACCEPT, "application/json")
            .header(
                http::header::AUTHORIZATION,
                format!("Bearer {}", self.token),
            )
            .body(Empty::new())?;
        let response = self.client.request(req).await?;
        let (status, version) = (response.status(), response.version());
        let body = response.into_body().collect().await?.to_bytes();
        Ok((status, version, body))
    }
}

/// The median and the 99th percentile (nearest rank).
fn stats(mut v: Vec<Duration>) -> (f64, f64) {
    v.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let p99 = ((v.len() * 99).div_ceil(100)).max(1) - 1;
    (ms(v[v.len() / 2]), ms(v[p99]))
}

/// `-- VERSIONS LISTS THREADS`: THREADS 0 (default) is tokio's pool with one worker per CPU
/// (what `pod-introspect api` uses), 1 a current-thread runtime (as `proxy --threads 1`).
fn main() -> anyhow::Result<()> {
    let threads: usize = std::env::args()
        .nth(3)
        .and_then(|a| a.parse().ok())
        .unwrap_or(0);
    let mut builder = if threads == 1 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        tokio::runtime::Builder::new_multi_thread()
    };
    builder.enable_all().build()?.block_on(run(threads))
}

async fn run(threads: usize) -> anyhow::Result<()> {
    let arg = |i: usize, default: usize| {
        std::env::args()
            .nth(i)
            .and_then(|a| a.parse().ok())
            .unwrap_or(default)
    };
    let (versions, lists) = (arg(1, 1000), arg(2, 100));
    let cluster = DevCluster::start(ClusterOptions::default()).await?;
    let pod_yaml = "apiVersion: v1\nkind: Pod\nmetadata: {name: bench-self, namespace: bench}\nspec:\n  containers: [{name: app, image: app:1}]\n";
    let me = cluster.create_pod(serde_saphyr::from_str::<Pod>(pod_yaml)?)?;
    for i in 0..499 {
        let mut p: Pod = serde_saphyr::from_str(pod_yaml)?;
        p.metadata.name = Some(format!("bench-{i:03}"));
        p.metadata.labels = Some([("app".to_string(), "bench".to_string())].into());
        cluster.create_pod(p)?;
    }
    let token = cluster.issue_pod_token("bench", "bench-self", Duration::from_secs(3600))?;
    let root = tempfile::tempdir()?;
    pod_introspect_kubelet::simulate(&SimulateOptions {
        pod_yaml: serde_json::to_string(&me)?,
        manifest_name: "bench".into(),
        root: root.path().to_path_buf(),
        container: None,
        node_allocatable: Default::default(),
        api_server: Some(ApiServerAccess {
            token: token.clone(),
            ca_crt: cluster.ca_pem(),
            service_host: cluster.local_addr().ip().to_string(),
            service_port: cluster.local_addr().port(),
        }),
    })?;
    let host = GuestHost::new(
        &SandboxOptions {
            root: Some(root.path().to_path_buf()),
            env_clear: true,
            ..Default::default()
        },
        &[],
        false,
        Limits {
            timeout: Duration::from_secs(600),
            max_memory: 1 << 30,
        },
    )?;
    let mut guest = BundledGuest::start(&host).await?;
    let native = Native::new(&cluster, &token)?;
    let options = bindings::exports::pod_introspect::pod::pod_introspect::ListOptions {
        namespace: Some("bench".into()),
        label_selector: None,
        field_selector: None,
        limit: None,
        continue_token: None,
        resource_version: None,
        resource_version_match: None,
        timeout_seconds: None,
    };

    // Warm up both paths (and check they agree).
    let v = guest.server_version().await?;
    assert!(v.is_ok(), "{v:?}");
    let list = guest.list_pods(&options).await?;
    assert_eq!(
        list.as_ref().map(|l| l.items.len()).unwrap_or(0),
        500,
        "{:?}",
        list.err()
    );
    let (status, native_version, body) = native.get("/api/v1/namespaces/bench/pods").await?;
    assert!(status.is_success());
    let list_bytes = body.len();

    let (mut gv, mut nv, mut gl, mut nl) = (vec![], vec![], vec![], vec![]);
    for _ in 0..versions {
        let t = Instant::now();
        let r = guest.server_version().await?;
        gv.push(t.elapsed());
        assert!(r.is_ok());
        let t = Instant::now();
        let (s, _, _) = native.get("/version").await?;
        nv.push(t.elapsed());
        assert!(s.is_success());
    }
    for _ in 0..lists {
        let t = Instant::now();
        let r = guest.list_pods(&options).await?;
        gl.push(t.elapsed());
        assert_eq!(r.map(|l| l.items.len()).unwrap_or(0), 500);
        let t = Instant::now();
        let (s, _, b) = native.get("/api/v1/namespaces/bench/pods").await?;
        // The native client also parses the list, as the guest does.
        let parsed: serde_json::Value = serde_json::from_slice(&b)?;
        nl.push(t.elapsed());
        assert!(s.is_success() && parsed["items"].as_array().map(Vec::len) == Some(500));
    }
    let ((gv, gv99), (nv, nv99)) = (stats(gv), stats(nv));
    let ((gl, gl99), (nl, nl99)) = (stats(gl), stats(nl));
    let runtime = if threads == 1 {
        "a current-thread tokio runtime".to_string()
    } else {
        format!(
            "a multi-thread tokio runtime ({} workers)",
            std::thread::available_parallelism().map_or(1, |n| n.get())
        )
    };
    println!(
        "{versions} sequential GET /version and {lists} sequential lists from one guest instance; \
         list body {list_bytes} bytes (500 pods); native over {native_version:?}; {runtime}"
    );
    println!(
        "| call | guest median (ms) | guest p99 (ms) | native median (ms) | native p99 (ms) | guest / native (median) | guest / native (p99) |"
    );
    println!("|---|---|---|---|---|---|---|");
    for (call, g, g99, n, n99) in [
        ("GET /version", gv, gv99, nv, nv99),
        ("list 500 pods", gl, gl99, nl, nl99),
    ] {
        println!(
            "| {call} | {g:.3} | {g99:.3} | {n:.3} | {n99:.3} | {:.2} | {:.2} |",
            g / n,
            g99 / n99
        );
    }
    cluster.shutdown().await;
    Ok(())
}
