//! The listener: TCP accept, TLS handshake (rustls, ALPN `h2`/`http/1.1`), and hyper's
//! automatic HTTP/1.1 + HTTP/2 connection serving.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

use crate::rbac::RbacRules;
use crate::routes;
use crate::store::Store;
use crate::tokens::TokenSigner;

/// How long a client may take to finish the TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The request header size kube-apiserver accepts: Go's `http.DefaultMaxHeaderBytes` (1 MiB;
/// `k8s.io/apiserver` `SecureServingInfo.Serve` sets `MaxHeaderBytes: 1 << 20`).
pub const MAX_HEADER_BYTES: usize = 1 << 20;

/// HTTP/2 `SETTINGS_MAX_HEADER_LIST_SIZE` as Go advertises it for [`MAX_HEADER_BYTES`]
/// (x/net/http2 `server.go` `maxHeaderListSize`: the limit plus 10 typical fields × 32 bytes
/// of per-field overhead). hyper's default is 16 KiB, and h2 0.4 answers a header block that
/// needs more CONTINUATION frames than about 1.25 × limit / frame size, or decodes to over
/// 4 × the limit, with a connection-wide GOAWAY (its flood guards, not configurable), so a 64 KiB
/// header cut every stream on the connection. With Go's limit a list over 1 MiB and up to about
/// 1.25 MiB is refused with `431` on its own stream; only a larger block still ends the
/// connection.
pub const MAX_HEADER_LIST_SIZE: u32 = (MAX_HEADER_BYTES + 10 * 32) as u32;

/// hyper's HTTP/1.1 read buffer: the header limit plus the 4096 bytes of slack Go's server
/// allows (`net/http` `initialReadLimitSize`).
const HTTP1_MAX_BUF: usize = MAX_HEADER_BYTES + 4096;

/// How long a client may take to send its request headers over HTTP/1.1.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// State shared by every request.
#[derive(Debug)]
pub struct Shared {
    /// The objects.
    pub store: Mutex<Store>,
    /// Token signing and verification.
    pub signer: TokenSigner,
    /// Authorization rules.
    pub rbac: RbacRules,
    /// Interval between watch bookmarks.
    pub bookmark_interval: Duration,
    /// Default TokenRequest lifetime.
    pub token_ttl: Duration,
    /// The bound address (for `/api` `serverAddressByClientCIDRs`).
    pub local_addr: SocketAddr,
    /// `/metrics`: the open watches.
    pub metrics: crate::metrics::Metrics,
}

/// Accepts connections until `shutdown` changes, then aborts every open connection.
pub async fn serve(
    listener: TcpListener,
    tls: Arc<rustls::ServerConfig>,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) {
    let acceptor = TlsAcceptor::from(tls);
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = shutdown.changed() => break,
            accepted = listener.accept() => match accepted {
                Ok((tcp, peer)) => {
                    let acceptor = acceptor.clone();
                    let shared = shared.clone();
                    connections.spawn(async move {
                        let _ = tcp.set_nodelay(true);
                        let tls = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                            Ok(Ok(tls)) => tls,
                            Ok(Err(e)) => {
                                tracing::debug!(%peer, error = %e, "TLS handshake failed");
                                return;
                            }
                            Err(_) => {
                                tracing::debug!(%peer, "TLS handshake timed out");
                                return;
                            }
                        };
                        let service = service_fn(move |req| {
                            let shared = shared.clone();
                            async move { Ok::<_, Infallible>(routes::handle(shared, req).await) }
                        });
                        let mut builder = auto::Builder::new(TokioExecutor::new());
                        builder
                            .http1()
                            .timer(TokioTimer::new())
                            .header_read_timeout(HEADER_READ_TIMEOUT)
                            .max_buf_size(HTTP1_MAX_BUF)
                            .http2()
                            .max_header_list_size(MAX_HEADER_LIST_SIZE);
                        if let Err(e) = builder.serve_connection(TokioIo::new(tls), service).await {
                            tracing::debug!(%peer, error = %e, "connection ended with an error");
                        }
                    });
                }
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    connections.shutdown().await;
}
