//! The API server side of the proxy: where it is, how to trust it, how to authenticate, and a
//! pooled client to it.
//!
//! - **Location.** In a pod, client-go `rest.InClusterConfig()` (`rest/config.go`) through the
//!   shared rules of [`pod_introspect_kube::incluster::api_location`]:
//!   `https://` + `JoinHostPort(KUBERNETES_SERVICE_HOST, KUBERNETES_SERVICE_PORT)`; the guest's
//!   `POD_INTROSPECT_API_URL` override is ignored here (the proxy *is* that ambassador). With
//!   `--root DIR` the env comes from `DIR/.pod-introspect/container.json` (what `simulate` writes),
//!   else the process env, and the ServiceAccount files from `DIR/var/run/secrets/...`. On a
//!   workstation, `--kubeconfig FILE` (client-go `clientcmd` v1 format: the current context's
//!   cluster `server`, `certificate-authority[-data]`, `insecure-skip-tls-verify`,
//!   `tls-server-name`, and the user's `token`, `tokenFile`, `client-certificate[-data]` /
//!   `client-key[-data]`; relative paths are relative to the file, as clientcmd resolves them).
//! - **Token.** client-go `transport/token_source.go` (`cachingTokenSource`) through the shared
//!   [`TokenSource`]: re-read when a minute old, trimmed, empty is an error, a failed re-read keeps
//!   the last good token, and a `401` forces the next use to re-read. The token only ever lives
//!   in a `sensitive` header value; it is never formatted into a message.
//! - **Trust.** rustls (ring) with exactly the certificates of `ca.crt` (all of them: a rotation
//!   bundle holds two CAs) as roots. The file is stat'ed for every new connection and re-read when
//!   its size, mtime or inode changed (client-go `transport/cert_rotation.go` reloads it too); a
//!   failed re-read keeps the last good bundle. IP literals are verified against IP SANs (kube-rs
//!   `Config::incluster()`).
//! - **Pool.** hyper-util's legacy `Client` over our TLS connector: ALPN `h2` then `http/1.1`,
//!   so one multiplexed HTTP/2 connection when the API server offers it (as client-go), idle
//!   connections kept 90 s. Upgrade requests (exec/attach/port-forward) use a second client that
//!   offers only `http/1.1` (kubectl `makeUpgradeTransport`: HTTP/2 cannot carry `Upgrade`).

use crate::trust::{AcceptAnyServerCert, FileStamp, provider, roots_from_pem};
use std::fmt;
use std::future::Future;
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderValue, Request, Response, Uri};
use http_body_util::{Either, Empty};
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::{Connected, Connection, HttpConnector};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use pod_introspect_kube::incluster::{self, TokenError, TokenSource};
use rustls::ClientConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

/// The body of a request to the API server: the client's streamed body, or nothing (retries,
/// probes).
pub type UpstreamBody = Either<Incoming, Empty<Bytes>>;

/// How long idle pooled connections to the API server are kept (Go's `http.Transport` default).
pub const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(90);
/// HTTP/2 receive window per stream: 4 MiB, Go's `http2` transport default
/// (`transportDefaultStreamFlow`). hyper's 64 KiB start with BDP probing throttled a 500-pod list
/// over one multiplexed connection to 60% of HTTP/1.1 throughput. It is also the most a stream
/// can hold in the proxy while its client reads slowly.
pub const H2_STREAM_WINDOW: u32 = 4 << 20;
/// HTTP/2 receive window of the connection: 32 MiB (Go: 1 GiB), room for 8 full streams.
pub const H2_CONNECTION_WINDOW: u32 = 32 << 20;
/// Limit for TCP connect to the API server (kubectl's dialer: 30 s).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// Why the upstream cannot be configured or reached. Messages never contain the token.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UpstreamError {
    /// Neither `--kubeconfig` nor in-cluster configuration is usable.
    #[error("{0}")]
    Location(#[from] incluster::LocationError),
    /// The kubeconfig cannot be read or used.
    #[error("--kubeconfig {path}: {message}")]
    Kubeconfig {
        /// The file.
        path: PathBuf,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// `--root DIR`'s container description cannot be read.
    #[error("--root {path}: {message}")]
    Root {
        /// The root.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// No usable CA bundle, client certificate, or TLS setting.
    #[error("TLS configuration: {0}")]
    Tls(String),
    /// No ServiceAccount token can be read (and none was read before).
    #[error("{0}")]
    Token(#[from] TokenError),
    /// The server URL is not usable.
    #[error("API server URL {url:?}: {message}")]
    Url {
        /// The URL as configured.
        url: String,
        /// What is wrong.
        message: String,
    },
}

/// Where the trust anchors for the API server's certificate come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaSource {
    /// A PEM bundle on disk, re-read when it changes (the pod's `ca.crt`).
    File(PathBuf),
    /// PEM bytes (`certificate-authority-data`).
    Pem(Vec<u8>),
    /// None configured: https fails unless `insecure`.
    None,
}

/// How requests are authenticated.
#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    /// No `Authorization` header is added.
    None,
    /// A bearer token file with client-go's caching and re-read rules (ServiceAccount token,
    /// kubeconfig `tokenFile`).
    TokenFile(PathBuf),
    /// A fixed bearer token (kubeconfig `token`).
    Token(String),
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::None => f.write_str("None"),
            Credentials::TokenFile(p) => f.debug_tuple("TokenFile").field(p).finish(),
            Credentials::Token(_) => f.write_str("Token(<redacted>)"),
        }
    }
}

/// A client certificate and key, PEM.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientIdentity {
    /// The certificate chain, PEM.
    pub cert_pem: Vec<u8>,
    /// The private key, PEM.
    pub key_pem: Vec<u8>,
}

impl fmt::Debug for ClientIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClientIdentity(<redacted>)")
    }
}

/// Everything needed to talk to the API server.
#[derive(Debug, Clone)]
pub struct UpstreamSpec {
    /// The server URL, e.g. `https://10.96.0.1:443`; a path (kubeconfig servers behind a
    /// gateway) is prepended only with `--append-server-path`.
    pub server: Uri,
    /// Trust anchors.
    pub ca: CaSource,
    /// Accept any server certificate (kubeconfig `insecure-skip-tls-verify`); logs a warning.
    pub insecure: bool,
    /// Verify the certificate against this name instead of the URL's host.
    pub tls_server_name: Option<String>,
    /// Client certificate authentication.
    pub identity: Option<ClientIdentity>,
    /// Bearer token source.
    pub credentials: Credentials,
    /// Where this came from, for the startup log (`in-cluster`, `kubeconfig FILE context C`).
    pub origin: String,
}

impl UpstreamSpec {
    /// In-cluster configuration (see the module documentation). `root` is `--root`; `env` the
    /// process env lookup, consulted after `DIR/.pod-introspect/container.json`.
    ///
    /// Errors: [`UpstreamError::Location`] when `KUBERNETES_SERVICE_HOST`/`PORT` are missing or
    /// bad; [`UpstreamError::Root`] when the container description is malformed.
    pub fn in_cluster(
        root: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<UpstreamSpec, UpstreamError> {
        let container_env = match root {
            Some(dir) => pod_introspect_kubelet::ContainerSandbox::load(dir)
                .map_err(|e| UpstreamError::Root {
                    path: dir.to_path_buf(),
                    message: e.to_string(),
                })?
                .map(|c| c.env)
                .unwrap_or_default(),
            None => Vec::new(),
        };
        let lookup = |name: &str| {
            if name == incluster::API_URL_ENV {
                return None;
            }
            container_env
                .iter()
                .rev()
                .find(|e| e.name == name)
                .map(|e| e.value.clone())
                .or_else(|| env(name))
        };
        let location = incluster::api_location(lookup)?;
        let server = parse_server(&location.base_url)?;
        Ok(UpstreamSpec {
            server,
            ca: CaSource::File(crate::sandbox::host_path(root, incluster::CA_FILE)),
            insecure: false,
            tls_server_name: None,
            identity: None,
            credentials: Credentials::TokenFile(crate::sandbox::host_path(
                root,
                incluster::TOKEN_FILE,
            )),
            origin: format!("in-cluster ({})", location.base_url),
        })
    }

    /// The current context of a kubeconfig file (see the module documentation).
    ///
    /// Errors: [`UpstreamError::Kubeconfig`] naming the problem: unreadable, not YAML, no
    /// current context, a context naming a missing cluster or user, an `exec` or
    /// `auth-provider` user (not supported: use a token or client certificate), bad base64.
    pub fn from_kubeconfig(path: &Path) -> Result<UpstreamSpec, UpstreamError> {
        super::kubeconfig::load(path)
    }
}

/// Parses a server URL (`https://host:port[/path]`, `http://...`).
pub(crate) fn parse_server(url: &str) -> Result<Uri, UpstreamError> {
    let bad = |message: &str| UpstreamError::Url {
        url: url.to_string(),
        message: message.to_string(),
    };
    let uri: Uri = url.parse().map_err(|_| bad("not a valid URL"))?;
    match uri.scheme_str() {
        Some("https") | Some("http") => {}
        _ => return Err(bad("the scheme must be https:// or http://")),
    }
    if uri.authority().is_none() {
        return Err(bad("the host is missing"));
    }
    Ok(uri)
}

// ---------------------------------------------------------------------------------------------
// Token

/// The bearer token with client-go's caching rules, as a ready `Authorization` header value.
struct TokenState {
    path: PathBuf,
    origin: Instant,
    inner: Mutex<TokenInner>,
}

struct TokenInner {
    source: TokenSource,
    current: Option<(String, HeaderValue)>,
}

impl TokenState {
    fn header(&self) -> Result<HeaderValue, TokenError> {
        let now = self.origin.elapsed();
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let path = &self.path;
        let token = inner
            .source
            .token(now, || std::fs::read(path).map_err(|e| e.to_string()))?;
        if let Some((t, h)) = &inner.current
            && *t == token
        {
            return Ok(h.clone());
        }
        let mut header =
            HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| TokenError::Read {
                path: path.display().to_string(),
                message: "the token holds characters not allowed in an HTTP header".into(),
            })?;
        header.set_sensitive(true);
        inner.current = Some((token, header.clone()));
        Ok(header)
    }

    fn invalidate(&self) {
        self.inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .source
            .invalidate();
    }
}

enum Auth {
    None,
    Fixed(HeaderValue),
    File(TokenState),
}

// ---------------------------------------------------------------------------------------------
// TLS

/// The two client configurations (ALPN h2+http/1.1 for the pool, http/1.1 for upgrades) built
/// from one version of the CA bundle.
#[derive(Clone)]
struct TlsConfigs {
    pooled: Arc<ClientConfig>,
    upgrade: Arc<ClientConfig>,
}

struct CaCache {
    stamp: Option<FileStamp>,
    digest: [u8; 32],
    configs: TlsConfigs,
}

/// TLS settings plus the CA reload cache.
struct TlsState {
    ca: CaSource,
    insecure: bool,
    identity: Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>,
    server_name: Option<ServerName<'static>>,
    cache: Mutex<Option<CaCache>>,
}

impl TlsState {
    fn new(spec: &UpstreamSpec) -> Result<TlsState, UpstreamError> {
        let identity = match &spec.identity {
            Some(id) => {
                let certs = CertificateDer::pem_slice_iter(&id.cert_pem)
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| UpstreamError::Tls(format!("client certificate: {e}")))?;
                if certs.is_empty() {
                    return Err(UpstreamError::Tls(
                        "client certificate: no PEM CERTIFICATE".into(),
                    ));
                }
                let key = PrivateKeyDer::from_pem_slice(&id.key_pem)
                    .map_err(|e| UpstreamError::Tls(format!("client key: {e}")))?;
                Some((certs, key))
            }
            None => None,
        };
        let server_name = match &spec.tls_server_name {
            Some(n) => Some(ServerName::try_from(n.clone()).map_err(|_| {
                UpstreamError::Tls(format!("tls-server-name {n:?} is not a valid name"))
            })?),
            None => None,
        };
        Ok(TlsState {
            ca: spec.ca.clone(),
            insecure: spec.insecure,
            identity,
            server_name,
            cache: Mutex::new(None),
        })
    }

    fn build(&self, roots: Option<rustls::RootCertStore>) -> Result<TlsConfigs, String> {
        let make = |alpn: &[&[u8]]| -> Result<Arc<ClientConfig>, String> {
            let builder = ClientConfig::builder_with_provider(provider())
                .with_safe_default_protocol_versions()
                .map_err(|e| e.to_string())?;
            let builder = match &roots {
                Some(r) => builder.with_root_certificates(r.clone()),
                None => builder
                    .dangerous()
                    .with_custom_certificate_verifier(Arc::new(AcceptAnyServerCert {
                        algorithms: provider().signature_verification_algorithms,
                    })),
            };
            let mut config = match &self.identity {
                Some((certs, key)) => builder
                    .with_client_auth_cert(certs.clone(), key.clone_key())
                    .map_err(|e| format!("client certificate: {e}"))?,
                None => builder.with_no_client_auth(),
            };
            config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
            Ok(Arc::new(config))
        };
        Ok(TlsConfigs {
            pooled: make(&[b"h2", b"http/1.1"])?,
            upgrade: make(&[b"http/1.1"])?,
        })
    }

    /// The current configurations, re-reading a changed CA file; keeps the last good bundle
    /// when a re-read fails. Errors only when no bundle was ever usable.
    fn configs(&self) -> Result<TlsConfigs, String> {
        if self.insecure {
            let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(c) = cache.as_ref() {
                return Ok(c.configs.clone());
            }
            let configs = self.build(None)?;
            *cache = Some(CaCache {
                stamp: None,
                digest: [0; 32],
                configs: configs.clone(),
            });
            return Ok(configs);
        }
        let (path, stamp) = match &self.ca {
            CaSource::None => {
                return Err(
                    "no certificate authority is configured to verify the API server \
                            (in a pod: /var/run/secrets/kubernetes.io/serviceaccount/ca.crt; in a \
                            kubeconfig: certificate-authority or certificate-authority-data)"
                        .into(),
                );
            }
            CaSource::Pem(pem) => {
                let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
                if let Some(c) = cache.as_ref() {
                    return Ok(c.configs.clone());
                }
                let configs = self.build(Some(roots_from_pem(pem)?))?;
                *cache = Some(CaCache {
                    stamp: None,
                    digest: [0; 32],
                    configs: configs.clone(),
                });
                return Ok(configs);
            }
            CaSource::File(path) => (path, std::fs::metadata(path).map(|m| FileStamp::of(&m))),
        };
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        let fail = |cache: &Option<CaCache>, why: String| -> Result<TlsConfigs, String> {
            match cache {
                Some(c) => {
                    tracing::warn!(ca_file = %path.display(), "keeping the previous CA bundle: {why}");
                    Ok(c.configs.clone())
                }
                None => Err(format!("CA file {}: {why}", path.display())),
            }
        };
        let stamp = match stamp {
            Ok(s) => s,
            Err(e) => return fail(&cache, format!("cannot read it: {e}")),
        };
        if let Some(c) = cache.as_ref()
            && c.stamp.as_ref() == Some(&stamp)
        {
            return Ok(c.configs.clone());
        }
        let pem = match std::fs::read(path) {
            Ok(p) => p,
            Err(e) => return fail(&cache, format!("cannot read it: {e}")),
        };
        let digest: [u8; 32] = Sha256::digest(&pem).into();
        if let Some(c) = cache.as_mut()
            && c.digest == digest
        {
            c.stamp = Some(stamp);
            return Ok(c.configs.clone());
        }
        let configs = match roots_from_pem(&pem).and_then(|r| self.build(Some(r))) {
            Ok(c) => c,
            Err(why) => return fail(&cache, why),
        };
        if cache.is_some() {
            tracing::info!(ca_file = %path.display(), "CA bundle changed; new connections trust it");
        }
        *cache = Some(CaCache {
            stamp: Some(stamp),
            digest,
            configs: configs.clone(),
        });
        Ok(configs)
    }
}

// ---------------------------------------------------------------------------------------------
// Connector

/// A connection to the API server: plain TCP (`http://` servers) or TLS.
pub enum UpstreamStream {
    /// `http://`.
    Plain(TcpStream),
    /// `https://`.
    Tls(Box<TlsStream<TcpStream>>),
}

impl Connection for UpstreamStream {
    fn connected(&self) -> Connected {
        match self {
            UpstreamStream::Plain(s) => s.connected(),
            UpstreamStream::Tls(s) => {
                let (tcp, tls) = s.get_ref();
                let c = tcp.connected();
                if tls.alpn_protocol() == Some(b"h2") {
                    c.negotiated_h2()
                } else {
                    c
                }
            }
        }
    }
}

impl AsyncRead for UpstreamStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            UpstreamStream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            UpstreamStream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for UpstreamStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            UpstreamStream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            UpstreamStream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            UpstreamStream::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            UpstreamStream::Tls(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            UpstreamStream::Plain(s) => s.is_write_vectored(),
            UpstreamStream::Tls(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            UpstreamStream::Plain(s) => Pin::new(s).poll_flush(cx),
            UpstreamStream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            UpstreamStream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            UpstreamStream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The connector of both clients: TCP via hyper-util's `HttpConnector` (resolution, connect
/// timeout, nodelay, keepalive), then rustls for `https`.
#[derive(Clone)]
struct Connector {
    http: HttpConnector,
    tls: Arc<TlsState>,
    upgrade: bool,
}

impl tower_service::Service<Uri> for Connector {
    type Response = TokioIo<UpstreamStream>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        tower_service::Service::<Uri>::poll_ready(&mut self.http, cx).map_err(Into::into)
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let mut http = self.http.clone();
        let tls = self.tls.clone();
        let upgrade = self.upgrade;
        Box::pin(async move {
            let https = uri.scheme_str() == Some("https");
            let tcp = tower_service::Service::call(&mut http, uri.clone())
                .await?
                .into_inner();
            if !https {
                return Ok(TokioIo::new(UpstreamStream::Plain(tcp)));
            }
            let configs = tls.configs().map_err(|e| -> BoxError { e.into() })?;
            let config = if upgrade {
                configs.upgrade
            } else {
                configs.pooled
            };
            let name = match &tls.server_name {
                Some(n) => n.clone(),
                None => server_name_of(&uri)?,
            };
            let stream = tokio_rustls::TlsConnector::from(config)
                .connect(name, tcp)
                .await
                .map_err(|e| -> BoxError { format!("TLS handshake: {}", tls_reason(&e)).into() })?;
            Ok(TokioIo::new(UpstreamStream::Tls(Box::new(stream))))
        })
    }
}

fn server_name_of(uri: &Uri) -> Result<ServerName<'static>, BoxError> {
    let host = uri.host().unwrap_or_default();
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse::<std::net::IpAddr>() {
        return Ok(ServerName::IpAddress(ip.into()));
    }
    ServerName::try_from(bare.to_string())
        .map_err(|_| format!("invalid server name {bare:?}").into())
}

fn tls_reason(e: &io::Error) -> String {
    match e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
        Some(rustls::Error::InvalidCertificate(c)) => {
            format!("the API server's certificate is not trusted by the CA bundle ({c:?})")
        }
        Some(other) => other.to_string(),
        None => e.to_string(),
    }
}

// ---------------------------------------------------------------------------------------------
// Upstream

/// Options of [`Upstream::new`] besides the spec.
#[derive(Debug, Clone, Default)]
pub struct UpstreamOptions {
    /// TCP keep-alive period of connections to the API server (`--keepalive`; `None`/zero: the
    /// OS default, off).
    pub keepalive: Option<Duration>,
    /// Prepend the server URL's path to every request path (`--append-server-path`).
    pub append_server_path: bool,
}

/// The pooled, authenticated client to the API server. Cheap to share (`Arc`).
pub struct Upstream {
    scheme: http::uri::Scheme,
    authority: http::uri::Authority,
    path_prefix: String,
    pool: Client<Connector, UpstreamBody>,
    upgrades: Client<Connector, UpstreamBody>,
    auth: Auth,
    /// For logs.
    pub origin: String,
}

impl fmt::Debug for Upstream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Upstream")
            .field(
                "server",
                &format_args!("{}://{}{}", self.scheme, self.authority, self.path_prefix),
            )
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

impl Upstream {
    /// Builds the clients (nothing is dialled yet). Errors: [`UpstreamError::Tls`] for a bad
    /// client certificate or `tls-server-name`; [`UpstreamError::Url`] for a server URL without
    /// a host.
    pub fn new(spec: &UpstreamSpec, opts: &UpstreamOptions) -> Result<Upstream, UpstreamError> {
        let tls = Arc::new(TlsState::new(spec)?);
        if spec.insecure {
            tracing::warn!(
                "insecure-skip-tls-verify: the API server's certificate is NOT verified; anyone on \
                 the network path can read the proxied requests and the credentials"
            );
        }
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(Some(CONNECT_TIMEOUT));
        http.set_keepalive(opts.keepalive.filter(|d| !d.is_zero()));
        let connector = |upgrade| Connector {
            http: http.clone(),
            tls: tls.clone(),
            upgrade,
        };
        let pool = Client::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .timer(TokioTimer::new())
            .pool_idle_timeout(POOL_IDLE_TIMEOUT)
            .http2_initial_stream_window_size(Some(H2_STREAM_WINDOW))
            .http2_initial_connection_window_size(Some(H2_CONNECTION_WINDOW))
            .build(connector(false));
        let upgrades = Client::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .pool_max_idle_per_host(0)
            .build(connector(true));
        let parts = spec.server.clone().into_parts();
        let (Some(scheme), Some(authority)) = (parts.scheme, parts.authority) else {
            return Err(UpstreamError::Url {
                url: spec.server.to_string(),
                message: "the host is missing".into(),
            });
        };
        let path_prefix = if opts.append_server_path {
            spec.server.path().trim_end_matches('/').to_string()
        } else {
            String::new()
        };
        let auth = match &spec.credentials {
            Credentials::None => Auth::None,
            Credentials::Token(t) => {
                let mut h =
                    HeaderValue::from_str(&format!("Bearer {}", t.trim())).map_err(|_| {
                        UpstreamError::Tls(
                            "the token holds characters not allowed in a header".into(),
                        )
                    })?;
                h.set_sensitive(true);
                Auth::Fixed(h)
            }
            Credentials::TokenFile(path) => Auth::File(TokenState {
                path: path.clone(),
                origin: Instant::now(),
                inner: Mutex::new(TokenInner {
                    source: TokenSource::for_file(path.display().to_string()),
                    current: None,
                }),
            }),
        };
        Ok(Upstream {
            scheme,
            authority,
            path_prefix,
            pool,
            upgrades,
            auth,
            origin: spec.origin.clone(),
        })
    }

    /// The absolute URI for a request target (`/path?query`, escaped as received).
    pub fn uri_for(&self, path_and_query: &str) -> Result<Uri, http::Error> {
        let pq = if self.path_prefix.is_empty() {
            path_and_query.to_string()
        } else {
            format!("{}{path_and_query}", self.path_prefix)
        };
        Uri::builder()
            .scheme(self.scheme.clone())
            .authority(self.authority.clone())
            .path_and_query(pq)
            .build()
    }

    /// The `Authorization` value to add, `None` without credentials.
    ///
    /// Errors: [`TokenError`] when the token file was never readable (a later failed re-read
    /// keeps the last good token).
    pub fn authorization(&self) -> Result<Option<HeaderValue>, TokenError> {
        match &self.auth {
            Auth::None => Ok(None),
            Auth::Fixed(h) => Ok(Some(h.clone())),
            Auth::File(t) => t.header().map(Some),
        }
    }

    /// After a `401` for a request sent with `sent`: forces a re-read of the token file and
    /// returns the new header if it differs (the request is then worth retrying once).
    pub fn refresh_after_401(&self, sent: &HeaderValue) -> Option<HeaderValue> {
        let Auth::File(t) = &self.auth else {
            return None;
        };
        t.invalidate();
        match t.header() {
            Ok(h) if h != sent => Some(h),
            _ => None,
        }
    }

    /// Sends a request through the pool (HTTP/2 when negotiated, else HTTP/1.1 keep-alive).
    pub async fn send(
        &self,
        req: Request<UpstreamBody>,
    ) -> Result<Response<Incoming>, hyper_util::client::legacy::Error> {
        self.pool.request(req).await
    }

    /// Sends an `Upgrade` request over a fresh HTTP/1.1 connection.
    pub async fn send_upgrade(
        &self,
        req: Request<UpstreamBody>,
    ) -> Result<Response<Incoming>, hyper_util::client::legacy::Error> {
        self.upgrades.request(req).await
    }

    /// Readiness probe: `GET /version` (readable by everyone, `system:public-info-viewer`)
    /// answered with 200 within `timeout`. Errors describe the failure (never the token).
    pub async fn probe(&self, timeout: Duration) -> Result<(), String> {
        let uri = self.uri_for("/version").map_err(|e| e.to_string())?;
        let mut req = Request::get(uri)
            .body(Either::Right(Empty::new()))
            .map_err(|e| e.to_string())?;
        match self.authorization() {
            Ok(Some(h)) => {
                req.headers_mut().insert(http::header::AUTHORIZATION, h);
            }
            Ok(None) => {}
            Err(e) => return Err(e.to_string()),
        }
        match tokio::time::timeout(timeout, self.send(req)).await {
            Err(_) => Err(format!("the API server did not answer within {timeout:?}")),
            Ok(Err(e)) => Err(error_chain(&e)),
            Ok(Ok(resp)) if resp.status() == http::StatusCode::OK => Ok(()),
            Ok(Ok(resp)) => Err(format!("GET /version answered {}", resp.status())),
        }
    }
}

/// An error and its sources, `: `-joined (hyper's own text is terse: "client error (Connect)").
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let part = s.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn in_cluster_ignores_the_ambassador_override_and_uses_root_paths() {
        let root = tempfile::tempdir().unwrap();
        let spec = UpstreamSpec::in_cluster(
            Some(root.path()),
            env(&[
                ("KUBERNETES_SERVICE_HOST", "fd00::1"),
                ("KUBERNETES_SERVICE_PORT", "443"),
                ("POD_INTROSPECT_API_URL", "http://127.0.0.1:8001"),
            ]),
        )
        .unwrap();
        assert_eq!(spec.server.to_string(), "https://[fd00::1]:443/");
        assert_eq!(
            spec.ca,
            CaSource::File(
                root.path()
                    .join("var/run/secrets/kubernetes.io/serviceaccount/ca.crt")
            )
        );
        assert_eq!(
            spec.credentials,
            Credentials::TokenFile(
                root.path()
                    .join("var/run/secrets/kubernetes.io/serviceaccount/token")
            )
        );
        let e = UpstreamSpec::in_cluster(None, env(&[("POD_INTROSPECT_API_URL", "http://x")]))
            .unwrap_err();
        assert!(e.to_string().contains("KUBERNETES_SERVICE_HOST"), "{e}");
    }

    #[test]
    fn token_file_rules_and_redaction() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        std::fs::write(&path, "first-secret\n").unwrap();
        let spec = UpstreamSpec {
            server: "https://127.0.0.1:6443".parse().unwrap(),
            ca: CaSource::None,
            insecure: false,
            tls_server_name: None,
            identity: None,
            credentials: Credentials::TokenFile(path.clone()),
            origin: "test".into(),
        };
        let up = Upstream::new(&spec, &UpstreamOptions::default()).unwrap();
        let h = up.authorization().unwrap().unwrap();
        assert_eq!(h, "Bearer first-secret");
        assert!(h.is_sensitive());
        assert!(!format!("{h:?}").contains("first-secret"));
        // Rotated on disk: still cached (less than a minute old) until a 401.
        std::fs::write(&path, "second-secret").unwrap();
        assert_eq!(up.authorization().unwrap().unwrap(), "Bearer first-secret");
        let new = up
            .refresh_after_401(&h)
            .expect("a different token after a 401");
        assert_eq!(new, "Bearer second-secret");
        // Same token again: no point in retrying.
        assert_eq!(up.refresh_after_401(&new), None);
        // A vanished file keeps the last good token.
        std::fs::remove_file(&path).unwrap();
        assert_eq!(up.refresh_after_401(&new), None);
        assert_eq!(up.authorization().unwrap().unwrap(), "Bearer second-secret");
        let fixed = Credentials::Token("hunter2".into());
        assert!(!format!("{fixed:?}").contains("hunter2"));
        assert!(!format!("{up:?}").contains("secret"));
        // No file at all: an error naming the file, not a token.
        let spec = UpstreamSpec {
            credentials: Credentials::TokenFile(dir.path().join("missing")),
            ..spec
        };
        let up = Upstream::new(&spec, &UpstreamOptions::default()).unwrap();
        let e = up.authorization().unwrap_err();
        assert!(matches!(e, TokenError::Read { .. }));
        // The message names the real file, not the in-pod default.
        assert!(
            e.to_string()
                .contains(&dir.path().join("missing").display().to_string()),
            "{e}"
        );
    }

    #[test]
    fn uris_and_server_names() {
        let spec = UpstreamSpec {
            server: "https://gw.example:8443/k8s/clusters/c1".parse().unwrap(),
            ca: CaSource::None,
            insecure: false,
            tls_server_name: None,
            identity: None,
            credentials: Credentials::None,
            origin: "test".into(),
        };
        let up = Upstream::new(&spec, &UpstreamOptions::default()).unwrap();
        assert_eq!(
            up.uri_for("/api/v1/pods?watch=1").unwrap().to_string(),
            "https://gw.example:8443/api/v1/pods?watch=1"
        );
        let up = Upstream::new(
            &spec,
            &UpstreamOptions {
                append_server_path: true,
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(
            up.uri_for("/version").unwrap().to_string(),
            "https://gw.example:8443/k8s/clusters/c1/version"
        );
        assert_eq!(
            server_name_of(&"https://[::1]:6443/".parse().unwrap()).unwrap(),
            ServerName::IpAddress(std::net::Ipv6Addr::LOCALHOST.into())
        );
        assert!(parse_server("ftp://x").is_err());
        assert!(parse_server("https:///x").is_err());
    }
}
