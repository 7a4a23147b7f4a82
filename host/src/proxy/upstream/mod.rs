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
//!   bundle holds two CAs) as roots, with the one CA file rule of [`crate::trust`] shared with the
//!   guests' outbound sender: re-read when it changes, the last good bundle kept while a changed
//!   file cannot be used, fail closed when none was ever good. IP literals are verified against
//!   IP SANs (kube-rs `Config::incluster()`).
//! - **Pool.** ALPN `h2` then `http/1.1` over our TLS connector. When the API server offers
//!   HTTP/2 (as client-go uses it), [`pool`] multiplexes requests over as many connections as
//!   the server's `SETTINGS_MAX_CONCURRENT_STREAMS` require, as Go's transport does, so
//!   long-lived watches never starve short requests. Otherwise (and for `http://` servers)
//!   hyper-util's legacy `Client` keeps HTTP/1.1 connections alive, idle ones 90 s. Upgrade requests (exec/attach/port-forward) use a second client that
//!   offers only `http/1.1` (kubectl `makeUpgradeTransport`: HTTP/2 cannot carry `Upgrade`).

//!
//! Modules: [`spec`] (what the proxy is told), [`auth`] (the token), [`tls`] (trust),
//! [`connector`] (TCP + TLS), [`pool`] and [`frames`] (the HTTP/2 connections); [`Upstream`]
//! composes them.

mod auth;
mod connector;
mod frames;
mod outage;
mod pool;
mod spec;
mod tls;

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Request, Response, Uri};
use http_body_util::{Either, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use pod_introspect_kube::incluster::TokenError;

use auth::Auth;
use connector::Connector;
use pool::{H2Pool, Sent};
use tls::TlsState;

pub use connector::UpstreamStream;
pub use outage::OUTAGE_LOG_INTERVAL;
pub use pool::{SendError, UpstreamIncoming};
pub(crate) use spec::parse_server;
pub use spec::{
    CaSource, ClientIdentity, Credentials, UpstreamError, UpstreamSpec, location_message,
};

/// The body of a request to the API server: the client's streamed body, or nothing (retries,
/// probes).
pub type UpstreamBody = Either<crate::proxy::forward::RequestBody, Empty<Bytes>>;

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
    /// HTTP/2 connections (`https://` servers until one answers ALPN with HTTP/1.1).
    h2: Option<H2Pool>,
    /// Set when the server chose HTTP/1.1: [`Upstream::send`] then uses `pool`.
    h1_only: AtomicBool,
    upgrades: Client<Connector, UpstreamBody>,
    auth: Auth,
    outage: outage::OutageLog,
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
        let auth = if spec.is_tls() {
            Auth::new(&spec.credentials)?
        } else {
            if spec.withholds_credentials() {
                tracing::warn!(
                    upstream = %spec.origin,
                    "the API server {} is plain HTTP: the proxy sends it no token and no client \
                     certificate (as kubectl proxy); use an https:// server to authenticate",
                    spec.server
                );
            }
            Auth::None
        };
        let h2 = (scheme == http::uri::Scheme::HTTPS).then(|| H2Pool::new(connector(false)));
        Ok(Upstream {
            scheme,
            authority,
            path_prefix,
            pool,
            h2,
            h1_only: AtomicBool::new(false),
            upgrades,
            auth,
            outage: outage::OutageLog::default(),
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
        self.auth.authorization()
    }

    /// After a `401` for a request sent with `sent`: forces a re-read of the token file and
    /// returns the new header if it differs (the request is then worth retrying once).
    pub fn refresh_after_401(&self, sent: &HeaderValue) -> Option<HeaderValue> {
        self.auth.refresh_after_401(sent)
    }

    /// Sends a request through the pools (HTTP/2 when negotiated, else HTTP/1.1 keep-alive).
    pub async fn send(
        &self,
        req: Request<UpstreamBody>,
    ) -> Result<Response<UpstreamIncoming>, SendError> {
        let req = match &self.h2 {
            Some(h2) if !self.h1_only.load(Ordering::Relaxed) => {
                let uri = req.uri().clone();
                match h2.send(req, &uri).await? {
                    Sent::Response(r) => {
                        self.report_answer();
                        return Ok(r);
                    }
                    Sent::NotH2(req) => {
                        tracing::debug!("the API server chose HTTP/1.1");
                        self.h1_only.store(true, Ordering::Relaxed);
                        req
                    }
                }
            }
            _ => req,
        };
        let resp = self.pool.request(req).await.map_err(SendError::Client)?;
        Ok(resp.map(UpstreamIncoming::plain))
    }

    /// Counts a request that could not reach the API server and logs the outage, aggregated
    /// (see [`OUTAGE_LOG_INTERVAL`]). `why` is the error chain (never holds the token).
    pub fn report_failure(&self, why: &str) {
        if let Some(line) = self.outage.failed(std::time::Instant::now(), why) {
            tracing::warn!(upstream = %self.origin, "{line}");
        }
    }

    fn report_answer(&self) {
        if let Some(line) = self.outage.succeeded() {
            tracing::warn!(upstream = %self.origin, "{line}");
        }
    }

    /// How many HTTP/2 connections to the API server are open.
    pub fn h2_connections(&self) -> usize {
        self.h2.as_ref().map_or(0, H2Pool::connections)
    }

    /// Sends an `Upgrade` request over a fresh HTTP/1.1 connection.
    pub async fn send_upgrade(
        &self,
        req: Request<UpstreamBody>,
    ) -> Result<Response<UpstreamIncoming>, SendError> {
        let resp = self
            .upgrades
            .request(req)
            .await
            .map_err(SendError::Client)?;
        Ok(resp.map(UpstreamIncoming::plain))
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
    use crate::credential_files::CredentialPath;

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
            CaSource::File(CredentialPath::in_container(
                Some(root.path()),
                "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt"
            ))
        );
        assert_eq!(
            spec.credentials,
            Credentials::TokenFile(CredentialPath::in_container(
                Some(root.path()),
                "/var/run/secrets/kubernetes.io/serviceaccount/token"
            ))
        );
        let e = UpstreamSpec::in_cluster(None, env(&[("POD_INTROSPECT_API_URL", "http://x")]))
            .unwrap_err();
        assert!(e.to_string().contains("KUBERNETES_SERVICE_HOST"), "{e}");
        // The proxy's advice: how to get the env, once, and not the guest's override.
        let text = e.to_string();
        assert!(text.contains("simulate --cluster DIR"), "{text}");
        assert!(text.contains("--kubeconfig FILE"), "{text}");
        assert!(!text.contains("POD_INTROSPECT_API_URL"), "{text}");
        assert!(std::error::Error::source(&e).is_none());
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
            credentials: Credentials::TokenFile(CredentialPath::host(&path)),
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
            credentials: Credentials::TokenFile(CredentialPath::host(dir.path().join("missing"))),
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
        let uri: Uri = "https://[::1]:6443/".parse().unwrap();
        assert_eq!(
            crate::trust::server_name(uri.host().unwrap()).unwrap(),
            rustls_pki_types::ServerName::IpAddress(std::net::Ipv6Addr::LOCALHOST.into())
        );
        assert!(parse_server("ftp://x").is_err());
        assert!(parse_server("https:///x").is_err());
    }
}
