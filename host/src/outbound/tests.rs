//! End-to-end tests of [`OutboundPolicy::send_request`] against real loopback servers: HTTPS
//! (tokio-rustls + hyper, HTTP/1.1 and HTTP/2) with certificates from a throw-away CA made by
//! rcgen, and plain HTTP. Servers bind only to 127.0.0.1 / [::1]; every test is bounded in time.

use crate::credential_files::CredentialPath;
use std::convert::Infallible;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Response, StatusCode, Uri, Version};
use http_body::Frame;
use http_body_util::{BodyExt as _, Empty};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::{TcpListener, TcpStream};
use wasmtime_wasi_http::{Error, RequestOptions, WasiBody, WasiHttpHooks};

use super::{AllowedOrigin, OutboundConfig, OutboundPolicy};

const TOKEN: &str = "Bearer sa-token-must-never-be-logged";

/// Runs a test body with an overall deadline.
async fn bounded<F: Future<Output = ()>>(test: F) {
    tokio::time::timeout(Duration::from_secs(30), test)
        .await
        .expect("the test did not finish within 30 s");
}

// ---------- certificates ----------

/// A throw-away certificate authority.
struct Ca {
    pem: String,
    issuer: Issuer<'static, KeyPair>,
}

/// A server certificate (leaf only) and its key.
struct Leaf {
    chain: Vec<CertificateDer<'static>>,
    key: PrivatePkcs8KeyDer<'static>,
}

impl Ca {
    fn new(name: &str) -> Ca {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let key = KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        Ca {
            pem: cert.pem(),
            issuer: Issuer::new(params, key),
        }
    }

    /// A leaf for `sans` (IP literals become IP SANs, anything else DNS SANs).
    fn leaf(&self, sans: &[&str]) -> Leaf {
        let sans: Vec<String> = sans.iter().map(|s| s.to_string()).collect();
        let mut params = CertificateParams::new(sans).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, "test server");
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        Leaf {
            chain: vec![cert.der().clone()],
            key: PrivatePkcs8KeyDer::from(key.serialize_der()),
        }
    }
}

/// Writes the PEM bundle `pems` to `path` through a temporary file and a rename (a new inode,
/// like the kubelet's AtomicWriter).
fn write_ca_file(path: &Path, pems: &[&str]) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, pems.concat()).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

// ---------- servers ----------

#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode {
    /// Answers `200` with `"<version> <path> auth=<bool>"`.
    Respond,
    /// Sends the headers and `first\n`, then `second\n` 700 ms later.
    SlowBody,
    /// Completes the TLS handshake (if any), then never answers.
    Hang,
    /// Accepts TCP but never starts TLS.
    StallHandshake,
}

struct Server {
    port: u16,
    accepts: Arc<AtomicUsize>,
    /// Connections whose serving ended (the client closed them).
    closed: Arc<AtomicUsize>,
    /// The certificate presented to new TLS connections (none for plain http).
    cert: Option<Arc<SwapCert>>,
}

impl Server {
    fn accepts(&self) -> usize {
        self.accepts.load(Ordering::SeqCst)
    }

    fn closed(&self) -> usize {
        self.closed.load(Ordering::SeqCst)
    }

    /// Waits (up to 5 s) until `n` connections were closed.
    async fn wait_closed(&self, n: usize) {
        let start = Instant::now();
        while self.closed() < n && start.elapsed() < Duration::from_secs(5) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Presents `leaf` to connections accepted from now on.
    fn rekey(&self, leaf: &Leaf) {
        *self.cert.as_ref().unwrap().0.lock().unwrap() = certified(leaf);
    }
}

/// A server certificate that a test can replace (re-keying the server).
#[derive(Debug)]
struct SwapCert(Mutex<Arc<rustls::sign::CertifiedKey>>);

impl rustls::server::ResolvesServerCert for SwapCert {
    fn resolve(
        &self,
        _hello: rustls::server::ClientHello<'_>,
    ) -> Option<Arc<rustls::sign::CertifiedKey>> {
        Some(self.0.lock().unwrap().clone())
    }
}

fn certified(leaf: &Leaf) -> Arc<rustls::sign::CertifiedKey> {
    let provider = rustls::crypto::ring::default_provider();
    Arc::new(
        rustls::sign::CertifiedKey::from_der(
            leaf.chain.clone(),
            PrivateKeyDer::Pkcs8(leaf.key.clone_key()),
            &provider,
        )
        .unwrap(),
    )
}

/// A body fed from a channel, to control when chunks arrive.
struct ChannelBody(tokio::sync::mpsc::Receiver<Bytes>);

impl http_body::Body for ChannelBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.0
            .poll_recv(cx)
            .map(|chunk| chunk.map(|b| Ok(Frame::data(b))))
    }
}

async fn handle(
    req: http::Request<hyper::body::Incoming>,
    mode: Mode,
) -> Result<Response<ChannelBody>, Infallible> {
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    let text = format!(
        "{:?} {} auth={}",
        req.version(),
        req.uri().path(),
        req.headers().get(http::header::AUTHORIZATION).is_some()
    );
    tokio::spawn(async move {
        if mode == Mode::SlowBody {
            let _ = tx.send(Bytes::from_static(b"first\n")).await;
            tokio::time::sleep(Duration::from_millis(700)).await;
            let _ = tx.send(Bytes::from_static(b"second\n")).await;
        } else {
            let _ = tx.send(Bytes::from(text)).await;
        }
    });
    Ok(Response::new(ChannelBody(rx)))
}

/// Serves one accepted connection with hyper (HTTP/1.1 or HTTP/2 by preface).
async fn serve<S>(stream: S, mode: Mode)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static,
{
    if mode == Mode::Hang {
        let _keep = stream;
        tokio::time::sleep(Duration::from_secs(60)).await;
        return;
    }
    let service = hyper::service::service_fn(move |req| handle(req, mode));
    let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
        .serve_connection(TokioIo::new(stream), service)
        .await;
}

async fn listen(ip: IpAddr) -> io::Result<TcpListener> {
    TcpListener::bind(SocketAddr::new(ip, 0)).await
}

/// An HTTPS server on `listener` presenting `leaf`; offers ALPN h2 when `h2`.
fn tls_server(listener: TcpListener, leaf: &Leaf, h2: bool, mode: Mode) -> Server {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cert = Arc::new(SwapCert(Mutex::new(certified(leaf))));
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_cert_resolver(cert.clone());
    config.alpn_protocols = if h2 {
        vec![b"h2".to_vec(), b"http/1.1".to_vec()]
    } else {
        vec![b"http/1.1".to_vec()]
    };
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let port = listener.local_addr().unwrap().port();
    let accepts = Arc::new(AtomicUsize::new(0));
    let closed = Arc::new(AtomicUsize::new(0));
    let (counter, closed_counter) = (accepts.clone(), closed.clone());
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            let acceptor = acceptor.clone();
            let closed = closed_counter.clone();
            tokio::spawn(async move {
                if mode == Mode::StallHandshake {
                    let _keep = tcp;
                    tokio::time::sleep(Duration::from_secs(60)).await;
                    return;
                }
                if let Ok(tls) = acceptor.accept(tcp).await {
                    serve(tls, mode).await;
                }
                closed.fetch_add(1, Ordering::SeqCst);
            });
        }
    });
    Server {
        port,
        accepts,
        closed,
        cert: Some(cert),
    }
}

/// An HTTPS server on 127.0.0.1.
async fn https_server(leaf: &Leaf, h2: bool, mode: Mode) -> Server {
    let listener = listen(IpAddr::V4(Ipv4Addr::LOCALHOST)).await.unwrap();
    tls_server(listener, leaf, h2, mode)
}

/// A plain HTTP server on 127.0.0.1 (an ambassador).
async fn http_server(mode: Mode) -> Server {
    let listener = listen(IpAddr::V4(Ipv4Addr::LOCALHOST)).await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepts = Arc::new(AtomicUsize::new(0));
    let closed = Arc::new(AtomicUsize::new(0));
    let (counter, closed_counter) = (accepts.clone(), closed.clone());
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            let closed = closed_counter.clone();
            tokio::spawn(async move {
                serve(tcp, mode).await;
                closed.fetch_add(1, Ordering::SeqCst);
            });
        }
    });
    Server {
        port,
        accepts,
        closed,
        cert: None,
    }
}

// ---------- client ----------

fn config(allowed: &[String], ca_file: Option<PathBuf>) -> OutboundConfig {
    OutboundConfig {
        allowed: allowed
            .iter()
            .map(|s| s.parse::<AllowedOrigin>().unwrap())
            .collect(),
        ca_file: ca_file.map(CredentialPath::host),
        ..OutboundConfig::deny_all()
    }
}

/// A GET request as wasmtime-wasi-http hands it to the hook: absolute URI, Host header set.
fn request(url: &str) -> http::Request<WasiBody> {
    let uri: Uri = url.parse().unwrap();
    let host = uri.authority().unwrap().to_string();
    http::Request::builder()
        .method("GET")
        .uri(uri)
        .header(http::header::HOST, host)
        .header(http::header::AUTHORIZATION, TOKEN)
        .body(
            Empty::<Bytes>::new()
                .map_err(|never: Infallible| -> Error { match never {} })
                .boxed_unsync(),
        )
        .unwrap()
}

/// Sends through a fresh policy; spawns the I/O future like wasmtime does.
async fn send(
    config: &OutboundConfig,
    url: &str,
    options: Option<RequestOptions>,
) -> Result<Response<WasiBody>, Error> {
    let mut policy = OutboundPolicy::new(config);
    let fut = policy.send_request(request(url), options, Box::new(async { Ok(()) }));
    let (response, io) = Pin::from(fut).await?;
    tokio::spawn(Pin::from(io));
    Ok(response)
}

/// Sends and reads the whole body: (status, version, body text).
async fn get(config: &OutboundConfig, url: &str) -> Result<(StatusCode, Version, String), Error> {
    let response = send(config, url, None).await?;
    let (status, version) = (response.status(), response.version());
    let body = response.into_body().collect().await?.to_bytes();
    Ok((status, version, String::from_utf8(body.to_vec()).unwrap()))
}

fn ok(result: Result<(StatusCode, Version, String), Error>) -> (Version, String) {
    match result {
        Ok((StatusCode::OK, version, body)) => (version, body),
        Ok((status, _, body)) => panic!("status {status}: {body}"),
        Err(e) => panic!("request failed: {e} ({e:?})"),
    }
}

/// Collects log output of the current thread (tests run on a current-thread runtime).
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Logs {
    type Writer = Logs;
    fn make_writer(&'a self) -> Logs {
        self.clone()
    }
}

impl Logs {
    fn capture() -> (Logs, tracing::subscriber::DefaultGuard) {
        let logs = Logs::default();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(logs.clone())
            .with_max_level(tracing::Level::DEBUG)
            .with_ansi(false)
            .finish();
        let guard = tracing::subscriber::set_default(subscriber);
        (logs, guard)
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

// ---------- tests ----------

/// (1) Trusted CA, DNS SAN `localhost`, connecting to https://localhost:PORT.
#[tokio::test]
async fn trusted_ca_and_dns_san() {
    bounded(async {
        let dir = tempfile::tempdir().unwrap();
        let ca = Ca::new("cluster CA");
        let ca_file = dir.path().join("ca.crt");
        write_ca_file(&ca_file, &[&ca.pem]);
        let server = https_server(&ca.leaf(&["localhost"]), false, Mode::Respond).await;
        let url = format!("https://localhost:{}", server.port);
        let cfg = config(std::slice::from_ref(&url), Some(ca_file));
        let (version, body) = ok(get(&cfg, &format!("{url}/version")).await);
        assert_eq!(version, Version::HTTP_11);
        assert_eq!(body, "HTTP/1.1 /version auth=true");
    })
    .await;
}

/// (2) A leaf with only the IP SAN 127.0.0.1 is accepted at https://127.0.0.1:PORT; a leaf with
/// only a DNS SAN is refused there (the IP is what is verified, as in kube-rs).
#[tokio::test]
async fn ip_san_verified_against_the_ip() {
    bounded(async {
        let dir = tempfile::tempdir().unwrap();
        let ca = Ca::new("cluster CA");
        let ca_file = dir.path().join("ca.crt");
        write_ca_file(&ca_file, &[&ca.pem]);

        let server = https_server(&ca.leaf(&["127.0.0.1"]), false, Mode::Respond).await;
        let url = format!("https://127.0.0.1:{}", server.port);
        let cfg = config(std::slice::from_ref(&url), Some(ca_file.clone()));
        let (_, body) = ok(get(&cfg, &format!("{url}/api")).await);
        assert_eq!(body, "HTTP/1.1 /api auth=true");

        let server = https_server(&ca.leaf(&["localhost"]), false, Mode::Respond).await;
        let url = format!("https://127.0.0.1:{}", server.port);
        let cfg = config(std::slice::from_ref(&url), Some(ca_file));
        let err = get(&cfg, &url).await.unwrap_err();
        assert!(matches!(err, Error::TlsCertificateError), "{err:?}");
    })
    .await;
}

/// (3) A CA file holding another CA: `TlsCertificateError`, with the rustls reason logged and
/// the token nowhere in the logs.
#[tokio::test]
async fn untrusted_ca_is_a_certificate_error() {
    bounded(async {
        let (logs, _guard) = Logs::capture();
        let dir = tempfile::tempdir().unwrap();
        let (ca, other) = (Ca::new("cluster CA"), Ca::new("other CA"));
        let ca_file = dir.path().join("ca.crt");
        write_ca_file(&ca_file, &[&other.pem]);
        let server = https_server(&ca.leaf(&["127.0.0.1"]), false, Mode::Respond).await;
        let url = format!("https://127.0.0.1:{}", server.port);
        let cfg = config(std::slice::from_ref(&url), Some(ca_file));
        let err = get(&cfg, &url).await.unwrap_err();
        assert!(matches!(err, Error::TlsCertificateError), "{err:?}");
        assert_eq!(server.accepts(), 1);
        let text = logs.text();
        assert!(
            text.contains("invalid peer certificate: UnknownIssuer"),
            "{text}"
        );
        assert!(text.contains("ca.crt"), "{text}");
        assert!(!text.contains("sa-token"), "{text}");
    })
    .await;
}

/// (4) A rotation bundle (other CA + the right CA) is accepted.
#[tokio::test]
async fn ca_bundle_with_two_certificates() {
    bounded(async {
        let dir = tempfile::tempdir().unwrap();
        let (ca, other) = (Ca::new("cluster CA"), Ca::new("old CA"));
        let ca_file = dir.path().join("ca.crt");
        write_ca_file(&ca_file, &[&other.pem, &ca.pem]);
        let server = https_server(&ca.leaf(&["127.0.0.1"]), false, Mode::Respond).await;
        let url = format!("https://127.0.0.1:{}", server.port);
        let cfg = config(std::slice::from_ref(&url), Some(ca_file));
        ok(get(&cfg, &url).await);
    })
    .await;
}

/// (5) The CA file replaced on disk between two requests is picked up, by rename (AtomicWriter)
/// and by rewriting the same file.
#[tokio::test]
async fn ca_file_rotation_is_picked_up() {
    bounded(async {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (Ca::new("CA A"), Ca::new("CA B"));
        let ca_file = dir.path().join("ca.crt");
        write_ca_file(&ca_file, &[&a.pem]);
        let server_a = https_server(&a.leaf(&["127.0.0.1"]), false, Mode::Respond).await;
        let server_b = https_server(&b.leaf(&["127.0.0.1"]), false, Mode::Respond).await;
        let url_a = format!("https://127.0.0.1:{}", server_a.port);
        let url_b = format!("https://127.0.0.1:{}", server_b.port);
        let cfg = config(&[url_a.clone(), url_b.clone()], Some(ca_file.clone()));
        let is_cert_error = |r: Result<_, Error>| matches!(r, Err(Error::TlsCertificateError));

        ok(get(&cfg, &url_a).await);
        assert!(is_cert_error(get(&cfg, &url_b).await));

        write_ca_file(&ca_file, &[&b.pem]);
        ok(get(&cfg, &url_b).await);
        assert!(is_cert_error(get(&cfg, &url_a).await));

        // In place (same inode): the size or mtime changes.
        tokio::time::sleep(Duration::from_millis(20)).await;
        std::fs::write(&ca_file, format!("{}\n", a.pem)).unwrap();
        ok(get(&cfg, &url_a).await);
        assert!(is_cert_error(get(&cfg, &url_b).await));
    })
    .await;
}

/// (5b) The CA file rule shared with the proxy (`crate::trust`): a `ca.crt` that breaks after a
/// good version (garbage, then gone) keeps the last good bundle, so requests still succeed and
/// an untrusted server is still refused; a fixed file is picked up again.
#[tokio::test]
async fn broken_ca_file_after_a_good_one_keeps_the_last_good_bundle() {
    bounded(async {
        let (logs, _guard) = Logs::capture();
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (Ca::new("CA A"), Ca::new("CA B"));
        let ca_file = dir.path().join("ca.crt");
        write_ca_file(&ca_file, &[&a.pem]);
        let server_a = https_server(&a.leaf(&["127.0.0.1"]), false, Mode::Respond).await;
        let server_b = https_server(&b.leaf(&["127.0.0.1"]), false, Mode::Respond).await;
        let url_a = format!("https://127.0.0.1:{}", server_a.port);
        let url_b = format!("https://127.0.0.1:{}", server_b.port);
        let cfg = config(&[url_a.clone(), url_b.clone()], Some(ca_file.clone()));
        let is_cert_error = |r: Result<_, Error>| matches!(r, Err(Error::TlsCertificateError));

        ok(get(&cfg, &url_a).await);
        std::fs::remove_file(&ca_file).unwrap();
        std::fs::write(&ca_file, "not a certificate\n").unwrap();
        ok(get(&cfg, &url_a).await);
        assert!(is_cert_error(get(&cfg, &url_b).await));
        std::fs::remove_file(&ca_file).unwrap();
        ok(get(&cfg, &url_a).await);
        let text = logs.text();
        assert!(
            text.contains("keep trusting the last good CA bundle"),
            "{text}"
        );
        assert!(text.contains("no PEM CERTIFICATE"), "{text}");

        write_ca_file(&ca_file, &[&b.pem]);
        ok(get(&cfg, &url_b).await);
        assert!(is_cert_error(get(&cfg, &url_a).await));
    })
    .await;
}

/// (6) A host outside the allow-list: `HttpRequestDenied`, no connection, a warning naming the
/// target and the allowed origins and never the token.
#[tokio::test]
async fn not_allowed_is_denied_without_connecting() {
    bounded(async {
        let (logs, _guard) = Logs::capture();
        let dir = tempfile::tempdir().unwrap();
        let ca = Ca::new("cluster CA");
        let ca_file = dir.path().join("ca.crt");
        write_ca_file(&ca_file, &[&ca.pem]);
        let server =
            https_server(&ca.leaf(&["127.0.0.1", "localhost"]), false, Mode::Respond).await;
        let port = server.port;
        let cfg = config(&[format!("https://localhost:{port}")], Some(ca_file));
        for url in [
            format!("https://127.0.0.1:{port}/api"),
            format!("http://localhost:{port}/api"),
            format!("https://localhost:{}/api", port.wrapping_add(1).max(1)),
            "https://localhost/api".to_string(),
        ] {
            let err = get(&cfg, &url).await.unwrap_err();
            assert!(matches!(err, Error::HttpRequestDenied), "{url}: {err:?}");
        }
        let err = get(
            &OutboundConfig::deny_all(),
            &format!("https://localhost:{port}"),
        )
        .await
        .unwrap_err();
        assert!(matches!(err, Error::HttpRequestDenied), "{err:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(server.accepts(), 0);
        let text = logs.text();
        assert!(text.contains("127.0.0.1:"), "{text}");
        assert!(
            text.contains(&format!("allowed origins: https://localhost:{port}")),
            "{text}"
        );
        assert!(text.contains("allowed origins: none"), "{text}");
        assert!(!text.contains("sa-token"), "{text}");
    })
    .await;
}

/// (7) A closed port: `ConnectionRefused`, quickly.
#[tokio::test]
async fn closed_port_is_connection_refused() {
    bounded(async {
        let port = {
            let l = listen(IpAddr::V4(Ipv4Addr::LOCALHOST)).await.unwrap();
            l.local_addr().unwrap().port()
        };
        let url = format!("http://127.0.0.1:{port}");
        let cfg = config(std::slice::from_ref(&url), None);
        let start = Instant::now();
        let err = get(&cfg, &url).await.unwrap_err();
        assert!(matches!(err, Error::ConnectionRefused), "{err:?}");
        assert!(start.elapsed() < Duration::from_secs(2));
    })
    .await;
}

/// (8) A server that never answers: `HttpResponseTimeout` after the first-byte timeout.
#[tokio::test]
async fn first_byte_timeout() {
    bounded(async {
        let dir = tempfile::tempdir().unwrap();
        let ca = Ca::new("cluster CA");
        let ca_file = dir.path().join("ca.crt");
        write_ca_file(&ca_file, &[&ca.pem]);
        let server = https_server(&ca.leaf(&["127.0.0.1"]), false, Mode::Hang).await;
        let url = format!("https://127.0.0.1:{}", server.port);
        let mut cfg = config(std::slice::from_ref(&url), Some(ca_file));
        cfg.first_byte_timeout = Duration::from_millis(300);
        for target in [url.clone(), format!("{url}/api/v1/pods?watch=true")] {
            let start = Instant::now();
            let err = get(&cfg, &target).await.unwrap_err();
            let took = start.elapsed();
            assert!(matches!(err, Error::HttpResponseTimeout), "{err:?}");
            assert!(
                took >= Duration::from_millis(250) && took < Duration::from_secs(3),
                "{took:?}"
            );
        }
        // A guest's smaller first-byte timeout wins over ours.
        cfg.first_byte_timeout = Duration::from_secs(20);
        let options = RequestOptions {
            first_byte_timeout: Some(Duration::from_millis(200)),
            ..RequestOptions::default()
        };
        let start = Instant::now();
        let err = send(&cfg, &url, Some(options)).await.unwrap_err();
        assert!(matches!(err, Error::HttpResponseTimeout), "{err:?}");
        assert!(start.elapsed() < Duration::from_secs(3));
    })
    .await;
}

/// (8b) Once the headers are in, a watch body may pause longer than the first-byte timeout;
/// a normal body may not.
#[tokio::test]
async fn watch_bodies_are_not_cut() {
    bounded(async {
        let server = http_server(Mode::SlowBody).await;
        let url = format!("http://127.0.0.1:{}", server.port);
        let mut cfg = config(std::slice::from_ref(&url), None);
        cfg.first_byte_timeout = Duration::from_millis(300);

        let (_, body) = ok(get(&cfg, &format!("{url}/api/v1/pods?watch=true")).await);
        assert_eq!(body, "first\nsecond\n");
        let (_, body) = ok(get(&cfg, &format!("{url}/api/v1/watch/pods")).await);
        assert_eq!(body, "first\nsecond\n");

        let response = send(&cfg, &format!("{url}/api/v1/pods"), None)
            .await
            .unwrap();
        let err = response.into_body().collect().await.unwrap_err();
        assert!(matches!(err, Error::ConnectionReadTimeout), "{err:?}");
    })
    .await;
}

/// (9) HTTP/2 when the server offers h2 by ALPN.
#[tokio::test]
async fn http2_when_negotiated() {
    bounded(async {
        let dir = tempfile::tempdir().unwrap();
        let ca = Ca::new("cluster CA");
        let ca_file = dir.path().join("ca.crt");
        write_ca_file(&ca_file, &[&ca.pem]);
        let server = https_server(&ca.leaf(&["127.0.0.1"]), true, Mode::Respond).await;
        let url = format!("https://127.0.0.1:{}", server.port);
        let cfg = config(std::slice::from_ref(&url), Some(ca_file));
        let (version, body) = ok(get(&cfg, &format!("{url}/apis")).await);
        assert_eq!(version, Version::HTTP_2);
        assert_eq!(body, "HTTP/2.0 /apis auth=true");
    })
    .await;
}

/// (10) `insecure_skip_tls_verify` accepts a certificate from an unknown CA, with no CA file.
#[tokio::test]
async fn insecure_skip_tls_verify_accepts_untrusted() {
    bounded(async {
        let ca = Ca::new("unknown CA");
        let server = https_server(&ca.leaf(&["example.invalid"]), true, Mode::Respond).await;
        let url = format!("https://127.0.0.1:{}", server.port);
        let mut cfg = config(std::slice::from_ref(&url), None);
        cfg.insecure_skip_tls_verify = true;
        let (version, _) = ok(get(&cfg, &url).await);
        assert_eq!(version, Version::HTTP_2);
    })
    .await;
}

/// (11) IPv6 loopback with an IP SAN `::1`, allowed as `https://[::1]:PORT`.
#[tokio::test]
async fn ipv6_loopback() {
    bounded(async {
        let listener = match listen(IpAddr::V6(Ipv6Addr::LOCALHOST)).await {
            Ok(l) => l,
            Err(e) => {
                pod_introspect_test_support::missing(&format!(
                    "cannot bind [::1] on this machine: {e}"
                ));
                return;
            }
        };
        let dir = tempfile::tempdir().unwrap();
        let ca = Ca::new("cluster CA");
        let ca_file = dir.path().join("ca.crt");
        write_ca_file(&ca_file, &[&ca.pem]);
        let server = tls_server(listener, &ca.leaf(&["::1"]), true, Mode::Respond);
        let url = format!("https://[::1]:{}", server.port);
        let cfg = config(std::slice::from_ref(&url), Some(ca_file));
        let (_, body) = ok(get(&cfg, &format!("{url}/version")).await);
        assert_eq!(body, "HTTP/2.0 /version auth=true");
    })
    .await;
}

/// No CA file, a missing one, or one without certificates: `TlsCertificateError` before any
/// connection; never a fallback to no verification.
#[tokio::test]
async fn unusable_ca_file_fails_closed() {
    bounded(async {
        let (logs, _guard) = Logs::capture();
        let dir = tempfile::tempdir().unwrap();
        let ca = Ca::new("cluster CA");
        let server = https_server(&ca.leaf(&["127.0.0.1"]), false, Mode::Respond).await;
        let url = format!("https://127.0.0.1:{}", server.port);
        let empty = dir.path().join("empty.crt");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        for ca_file in [None, Some(dir.path().join("missing.crt")), Some(empty)] {
            let cfg = config(std::slice::from_ref(&url), ca_file.clone());
            let err = get(&cfg, &url).await.unwrap_err();
            assert!(
                matches!(err, Error::TlsCertificateError),
                "{ca_file:?}: {err:?}"
            );
        }
        assert_eq!(server.accepts(), 0);
        let text = logs.text();
        assert!(text.contains("missing.crt"), "{text}");
        assert!(text.contains("no PEM CERTIFICATE"), "{text}");
    })
    .await;
}

/// Plain http to a loopback ambassador.
#[tokio::test]
async fn plain_http_ambassador() {
    bounded(async {
        let server = http_server(Mode::Respond).await;
        let url = format!("http://127.0.0.1:{}", server.port);
        let cfg = config(std::slice::from_ref(&url), None);
        let (version, body) = ok(get(&cfg, &format!("{url}/api/v1/pods?limit=1")).await);
        assert_eq!(version, Version::HTTP_11);
        assert_eq!(body, "HTTP/1.1 /api/v1/pods auth=true");
        assert_eq!(server.accepts(), 1);
    })
    .await;
}

/// A server that accepts TCP but never completes TLS: `ConnectionTimeout` after the connect
/// timeout, ours or the guest's smaller one.
#[tokio::test]
async fn connect_timeout_covers_the_tls_handshake() {
    bounded(async {
        let dir = tempfile::tempdir().unwrap();
        let ca = Ca::new("cluster CA");
        let ca_file = dir.path().join("ca.crt");
        write_ca_file(&ca_file, &[&ca.pem]);
        let server = https_server(&ca.leaf(&["127.0.0.1"]), false, Mode::StallHandshake).await;
        let url = format!("https://127.0.0.1:{}", server.port);
        let mut cfg = config(std::slice::from_ref(&url), Some(ca_file));
        cfg.connect_timeout = Duration::from_millis(300);
        let start = Instant::now();
        let err = get(&cfg, &url).await.unwrap_err();
        assert!(matches!(err, Error::ConnectionTimeout), "{err:?}");
        assert!(start.elapsed() < Duration::from_secs(3));

        cfg.connect_timeout = Duration::from_secs(20);
        let options = RequestOptions {
            connect_timeout: Some(Duration::from_millis(200)),
            ..RequestOptions::default()
        };
        let start = Instant::now();
        let err = send(&cfg, &url, Some(options)).await.unwrap_err();
        assert!(matches!(err, Error::ConnectionTimeout), "{err:?}");
        assert!(start.elapsed() < Duration::from_secs(3));
    })
    .await;
}

/// A name that does not resolve: a DNS error (or destination-not-found), not a hang.
#[tokio::test]
async fn unresolvable_host_is_a_dns_error() {
    bounded(async {
        let url = "http://no-such-host.invalid:8001".to_string();
        let mut cfg = config(std::slice::from_ref(&url), None);
        cfg.connect_timeout = Duration::from_secs(5);
        let err = get(&cfg, &url).await.unwrap_err();
        assert!(
            matches!(
                err,
                Error::DnsError { .. } | Error::DestinationNotFound | Error::ConnectionTimeout
            ),
            "{err:?}"
        );
    })
    .await;
}

/// The request handed to the server is in origin form over HTTP/1.1 and keeps its Host header.
#[tokio::test]
async fn http1_request_is_origin_form_with_host() {
    bounded(async {
        let listener = listen(IpAddr::V4(Ipv4Addr::LOCALHOST)).await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let head = tokio::spawn(async move {
            use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
            let (mut tcp, _): (TcpStream, _) = listener.accept().await.unwrap();
            let mut buf = vec![0u8; 4096];
            let mut len = 0;
            while !buf[..len].windows(4).any(|w| w == b"\r\n\r\n") {
                let n = tcp.read(&mut buf[len..]).await.unwrap();
                assert!(n > 0);
                len += n;
            }
            tcp.write_all(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n")
                .await
                .unwrap();
            String::from_utf8_lossy(&buf[..len]).into_owned()
        });
        let url = format!("http://127.0.0.1:{port}");
        let cfg = config(std::slice::from_ref(&url), None);
        let response = send(&cfg, &format!("{url}/api/v1/pods?watch=true"), None)
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
        let head = head.await.unwrap().to_ascii_lowercase();
        assert!(
            head.starts_with("get /api/v1/pods?watch=true http/1.1\r\n"),
            "{head}"
        );
        assert!(
            head.contains(&format!("host: 127.0.0.1:{port}\r\n")),
            "{head}"
        );
    })
    .await;
}

// ---------- connection pool ----------

/// Pool (1): sequential requests to one origin, from one policy and from fresh ones built from
/// clones of the configuration (guest instances), use ONE connection, over https and plain
/// http.
#[tokio::test]
async fn sequential_requests_share_one_connection() {
    bounded(async {
        let dir = tempfile::tempdir().unwrap();
        let ca = Ca::new("cluster CA");
        let ca_file = dir.path().join("ca.crt");
        write_ca_file(&ca_file, &[&ca.pem]);
        let server = https_server(&ca.leaf(&["127.0.0.1"]), false, Mode::Respond).await;
        let url = format!("https://127.0.0.1:{}", server.port);
        let cfg = config(std::slice::from_ref(&url), Some(ca_file));

        // One policy (one guest instance), three requests.
        let mut policy = OutboundPolicy::new(&cfg);
        for path in ["/version", "/api", "/apis"] {
            let fut = policy.send_request(
                request(&format!("{url}{path}")),
                None,
                Box::new(async { Ok(()) }),
            );
            let (response, io) = Pin::from(fut).await.unwrap();
            tokio::spawn(Pin::from(io));
            assert_eq!(response.status(), StatusCode::OK);
            let body = response.into_body().collect().await.unwrap().to_bytes();
            assert_eq!(body, format!("HTTP/1.1 {path} auth=true").as_bytes());
        }
        // Other instances (a clone of the configuration each).
        for _ in 0..2 {
            let (version, _) = ok(get(&cfg.clone(), &format!("{url}/version")).await);
            assert_eq!(version, Version::HTTP_11);
        }
        assert_eq!(server.accepts(), 1);
        assert_eq!(server.closed(), 0);

        let plain = http_server(Mode::Respond).await;
        let url = format!("http://127.0.0.1:{}", plain.port);
        let cfg = config(std::slice::from_ref(&url), None);
        for _ in 0..3 {
            ok(get(&cfg, &format!("{url}/version")).await);
        }
        assert_eq!(plain.accepts(), 1);
    })
    .await;
}

/// Pool: a response whose body was not read to the end does not give its HTTP/1.1 connection
/// back; the next request opens a new one (and the abandoned one is closed).
#[tokio::test]
async fn unread_body_is_not_reused() {
    bounded(async {
        let server = http_server(Mode::SlowBody).await;
        let url = format!("http://127.0.0.1:{}", server.port);
        let cfg = config(std::slice::from_ref(&url), None);
        let response = send(&cfg, &format!("{url}/api/v1/pods"), None)
            .await
            .unwrap();
        drop(response);
        let (_, body) = ok(get(&cfg, &format!("{url}/api/v1/pods")).await);
        assert_eq!(body, "first\nsecond\n");
        assert_eq!(server.accepts(), 2);
        server.wait_closed(1).await;
        assert_eq!(server.closed(), 1);
        // The fully read one is pooled.
        ok(get(&cfg, &format!("{url}/api/v1/pods")).await);
        assert_eq!(server.accepts(), 2);
    })
    .await;
}

/// Pool (2): after the CA file is replaced with another CA, the pooled connection (verified
/// with the old CA) is closed and not reused: the next request to the server still presenting
/// the old CA's certificate dials anew and fails with `TlsCertificateError`; once the server is
/// re-keyed with the new CA, requests succeed and share a new connection.
#[tokio::test]
async fn ca_change_drops_pooled_connections() {
    bounded(async {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (Ca::new("CA A"), Ca::new("CA B"));
        let ca_file = dir.path().join("ca.crt");
        write_ca_file(&ca_file, &[&a.pem]);
        let server = https_server(&a.leaf(&["127.0.0.1"]), true, Mode::Respond).await;
        let url = format!("https://127.0.0.1:{}", server.port);
        let cfg = config(std::slice::from_ref(&url), Some(ca_file.clone()));

        for _ in 0..2 {
            let (version, _) = ok(get(&cfg, &format!("{url}/version")).await);
            assert_eq!(version, Version::HTTP_2);
        }
        assert_eq!(server.accepts(), 1);

        write_ca_file(&ca_file, &[&b.pem]);
        let err = get(&cfg, &format!("{url}/version")).await.unwrap_err();
        assert!(matches!(err, Error::TlsCertificateError), "{err:?}");
        assert_eq!(server.accepts(), 2, "the old connection must not be reused");
        // The pooled connection of CA A was dropped, so the client closed it; the failed
        // handshake is the second closed connection.
        server.wait_closed(2).await;
        assert_eq!(server.closed(), 2);

        server.rekey(&b.leaf(&["127.0.0.1"]));
        for _ in 0..2 {
            ok(get(&cfg, &format!("{url}/version")).await);
        }
        assert_eq!(server.accepts(), 3);

        // Back to CA A: the connection verified with B is not reused either.
        write_ca_file(&ca_file, &[&a.pem]);
        let err = get(&cfg, &format!("{url}/version")).await.unwrap_err();
        assert!(matches!(err, Error::TlsCertificateError), "{err:?}");
        assert_eq!(server.accepts(), 4);
    })
    .await;
}

/// Pool: verified and `insecure_skip_tls_verify` connections to the same origin are never
/// shared.
#[tokio::test]
async fn insecure_connections_are_not_shared_with_verified_ones() {
    bounded(async {
        let dir = tempfile::tempdir().unwrap();
        let (ca, other) = (Ca::new("cluster CA"), Ca::new("other CA"));
        let ca_file = dir.path().join("ca.crt");
        write_ca_file(&ca_file, &[&other.pem]);
        let server = https_server(&ca.leaf(&["127.0.0.1"]), false, Mode::Respond).await;
        let url = format!("https://127.0.0.1:{}", server.port);
        let verified = config(std::slice::from_ref(&url), Some(ca_file));
        let mut insecure = verified.clone();
        insecure.insecure_skip_tls_verify = true;

        ok(get(&insecure, &url).await);
        ok(get(&insecure, &url).await);
        assert_eq!(server.accepts(), 1);
        let err = get(&verified, &url).await.unwrap_err();
        assert!(matches!(err, Error::TlsCertificateError), "{err:?}");
        assert_eq!(server.accepts(), 2);
    })
    .await;
}

/// Pool (3): HTTP/2 multiplexes: two requests started together (no connection yet) and one
/// sent while both bodies are still streaming all share one connection.
#[tokio::test]
async fn http2_concurrent_requests_share_one_connection() {
    bounded(async {
        let dir = tempfile::tempdir().unwrap();
        let ca = Ca::new("cluster CA");
        let ca_file = dir.path().join("ca.crt");
        write_ca_file(&ca_file, &[&ca.pem]);
        let server = https_server(&ca.leaf(&["127.0.0.1"]), true, Mode::SlowBody).await;
        let url = format!("https://127.0.0.1:{}", server.port);
        let cfg = config(std::slice::from_ref(&url), Some(ca_file));

        let target = format!("{url}/api/v1/pods");
        let (r1, r2) = tokio::join!(send(&cfg, &target, None), send(&cfg, &target, None));
        let (r1, r2) = (r1.unwrap(), r2.unwrap());
        assert_eq!(
            (r1.version(), r2.version()),
            (Version::HTTP_2, Version::HTTP_2)
        );
        // Both bodies are still open (the second chunk comes after 700 ms): a third request.
        let r3 = send(&cfg, &target, None).await.unwrap();
        assert_eq!(server.accepts(), 1);
        let start = Instant::now();
        let (b1, b2, b3) = tokio::join!(
            r1.into_body().collect(),
            r2.into_body().collect(),
            r3.into_body().collect()
        );
        for b in [b1, b2, b3] {
            assert_eq!(b.unwrap().to_bytes(), "first\nsecond\n");
        }
        // Concurrent, not one after the other (3 x 700 ms).
        assert!(
            start.elapsed() < Duration::from_millis(1500),
            "{:?}",
            start.elapsed()
        );
        assert_eq!(server.accepts(), 1);

        // HTTP/1.1 for comparison: two requests in flight need two connections.
        let h1 = http_server(Mode::SlowBody).await;
        let url = format!("http://127.0.0.1:{}", h1.port);
        let cfg = config(std::slice::from_ref(&url), None);
        let r1 = send(&cfg, &url, None).await.unwrap();
        let r2 = send(&cfg, &url, None).await.unwrap();
        assert_eq!(h1.accepts(), 2);
        let _ = tokio::join!(r1.into_body().collect(), r2.into_body().collect());
        ok(get(&cfg, &url).await);
        ok(get(&cfg, &url).await);
        assert_eq!(h1.accepts(), 2);
    })
    .await;
}
