//! Outbound HTTP for guests: the `wasi:http` send-request hook with an allow-list and TLS that
//! trusts the pod's ServiceAccount CA.
//!
//! wasmtime-wasi-http is built without its default sender, so every `wasi:http/outgoing-handler`
//! request of a guest arrives at [`OutboundPolicy::send_request`]:
//!
//! 1. The request's `scheme://host:port` (default port from the scheme) must equal one of
//!    [`OutboundConfig::allowed`], else `HttpRequestDenied` and a warning naming the target and the
//!    allowed origins. Nothing is resolved or dialled for a refused request. Headers are never
//!    logged: `Authorization` carries the ServiceAccount token.
//! 2. `https`: rustls with ring, roots = every certificate in [`OutboundConfig::ca_file`] (re-read
//!    when it changes), no web-PKI roots, ALPN `h2` then `http/1.1`; HTTP/2 when the server picks
//!    `h2`. `http`: plain TCP and HTTP/1.1 (a `kubectl proxy` ambassador on loopback).
//! 3. Connections are pooled process-wide, shared by every guest store, per origin (scheme, host,
//!    port) **and** trust: plain http, `insecure_skip_tls_verify`, or one generation of the CA
//!    file (client-go's transport cache, `transport/cache.go`, likewise shares a transport per
//!    TLS configuration). A changed CA bundle drops the pooled connections verified with the old
//!    one; insecure connections are never shared with verified ones. HTTP/1.1 connections carry
//!    one request at a time and are reused once the response body was read to the end (a body
//!    dropped early closes the connection); an HTTP/2 connection is multiplexed. Idle
//!    connections close after 90 s (Go `net/http.Transport.IdleConnTimeout` as client-go sets
//!    it), at most 25 idle HTTP/1.1 connections per key (`MaxIdleConnsPerHost`). A pooled
//!    connection found closed before the request was written is retried once on a new one. The
//!    response body streams; connections run in their own tasks, so the I/O future handed back
//!    to wasmtime is empty. The allow-list check and the CA file check happen for every request,
//!    before the pool is consulted.
//!
//! Error mapping (wasi-http `error-code`): resolver failure `DNS-error`, no address
//! `destination-not-found`, ECONNREFUSED `connection-refused`, connect/TLS/handshake slower than
//! the connect timeout `connection-timeout`, certificate not trusted `TLS-certificate-error`
//! (the rustls reason is logged), other TLS failures `TLS-protocol-error` or
//! `TLS-alert-received`, no response headers within the first-byte timeout
//! `HTTP-response-timeout`, a body idle longer than allowed `connection-read-timeout`, hyper
//! errors through wasmtime-wasi-http's `From<hyper::Error>`.

mod policy;
mod pool;
mod send;
mod tls;

#[cfg(test)]
mod tests;

use crate::credential_files::CredentialPath;
use std::sync::Arc;
use std::time::Duration;

use wasmtime_wasi_http::{Error as HttpError, RequestOptions, WasiBody, WasiHttpHooks};

pub use policy::{AllowedOrigin, Scheme};

/// Configuration of a guest's outbound HTTP.
///
/// [`OutboundConfig::deny_all`] (also the `Default`) refuses every request.
#[derive(Debug, Clone)]
pub struct OutboundConfig {
    /// Origins the guest may reach, compared on scheme, host (case-insensitive, IPv6 without
    /// brackets) and port, e.g. `https://10.96.0.1:443` (the in-cluster API server, built like
    /// client-go `rest.InClusterConfig()`), `http://127.0.0.1:8001` (a `kubectl proxy`
    /// ambassador). Empty: every request is refused with `HttpRequestDenied`.
    pub allowed: Vec<AllowedOrigin>,
    /// HOST path of the PEM bundle whose certificates (all of them: a CA rotation bundle holds
    /// old and new CA) are the only trust anchors for https, normally the pod's
    /// `/var/run/secrets/kubernetes.io/serviceaccount/ca.crt`. Re-read when its size, mtime or
    /// inode changes, like client-go's CA reload (`transport/cert_rotation.go`), with the CA file
    /// rule of `crate::trust` shared with the proxy: a changed file that cannot be used keeps the
    /// last good bundle (logged). `None`, or a file that was never usable (unreadable, no
    /// certificates), makes every https request fail with `TlsCertificateError` (logged with the
    /// reason); there is no fallback.
    pub ca_file: Option<CredentialPath>,
    /// Accept any server certificate (handshake signatures are still checked). Set only from an
    /// explicit command-line flag; a warning is logged once per process when it is first used.
    pub insecure_skip_tls_verify: bool,
    /// Limit for resolving, connecting, the TLS handshake and the HTTP handshake together.
    /// A guest's smaller `request-options` connect-timeout wins. Default 10 s.
    pub connect_timeout: Duration,
    /// Limit from the request being sent to the response headers, for every request (a guest's
    /// smaller first-byte-timeout wins). For non-watch requests it is also the longest silence
    /// allowed between body chunks; watch requests (`watch=true`/`watch=1` or a `/watch/` path)
    /// are not cut once their headers arrived (only a guest's between-bytes-timeout applies).
    /// Default 30 s.
    pub first_byte_timeout: Duration,
}

impl OutboundConfig {
    /// Default [`OutboundConfig::connect_timeout`]: 10 s.
    pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
    /// Default [`OutboundConfig::first_byte_timeout`]: 30 s.
    pub const DEFAULT_FIRST_BYTE_TIMEOUT: Duration = Duration::from_secs(30);

    /// No allowed origin, no CA file, verification on, default timeouts: every request is
    /// refused with `HttpRequestDenied`.
    pub fn deny_all() -> OutboundConfig {
        OutboundConfig {
            allowed: Vec::new(),
            ca_file: None,
            insecure_skip_tls_verify: false,
            connect_timeout: Self::DEFAULT_CONNECT_TIMEOUT,
            first_byte_timeout: Self::DEFAULT_FIRST_BYTE_TIMEOUT,
        }
    }
}

impl Default for OutboundConfig {
    fn default() -> Self {
        OutboundConfig::deny_all()
    }
}

/// The `wasi:http` hooks of one guest store: enforces an [`OutboundConfig`] and sends allowed
/// requests itself (see the module documentation for behaviour and error codes).
///
/// Cheap to create per store (one `Arc` of the configuration); the rustls `ClientConfig` is
/// cached process-wide per CA file and shared while the file's content is unchanged, and so are
/// the connections (see point 3 of the module documentation). The forbidden-header list is
/// wasmtime-wasi-http's default.
#[derive(Debug, Clone)]
pub struct OutboundPolicy {
    settings: Arc<OutboundConfig>,
}

impl OutboundPolicy {
    /// Hooks enforcing `config`.
    pub fn new(config: &OutboundConfig) -> OutboundPolicy {
        OutboundPolicy {
            settings: Arc::new(config.clone()),
        }
    }
}

impl WasiHttpHooks for OutboundPolicy {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        _fut: Box<dyn Future<Output = Result<(), HttpError>> + Send>,
    ) -> Box<
        dyn Future<
                Output = Result<
                    (
                        http::Response<WasiBody>,
                        Box<dyn Future<Output = Result<(), HttpError>> + Send>,
                    ),
                    HttpError,
                >,
            > + Send,
    > {
        let settings = self.settings.clone();
        Box::new(async move { send::send(&settings, request, options).await })
    }
}
