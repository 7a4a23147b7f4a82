//! Sending one allowed request: a connection from the pool ([`super::pool`]) or a new one
//! (resolve, connect, TLS, hyper HTTP/1.1 or HTTP/2 handshake), then a streamed response that
//! holds the connection's lease until its body ends.
//!
//! Close to wasmtime-wasi-http's stock `default_send_request` for a new connection, but with our
//! trust configuration, ALPN-selected HTTP/2, precise error codes, connection reuse, and
//! timeouts that leave Kubernetes watch streams alone once their headers have arrived. The
//! connect timeout covers getting a connection (waiting for a pooled one to become ready, or
//! for another request's dial of an HTTP/2 connection, included); the first-byte timeout runs
//! from the request being sent.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, Uri, Version};
use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyExt as _;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use wasmtime_wasi_http::{Error, RequestOptions, WasiBody};

use super::OutboundConfig;
use super::policy::{HostPort, Scheme, Target, describe, is_watch};
use super::pool::{Dialled, Key, Lease, TrustKey, pool};
use super::tls;
use crate::credential_files::CredentialPath;

/// The I/O future returned next to a response, as `WasiHttpHooks::send_request` wants it.
pub(crate) type IoFuture = Box<dyn Future<Output = Result<(), Error>> + Send>;

/// A byte stream: plain TCP or TLS over TCP.
pub(crate) trait Stream: AsyncRead + AsyncWrite + Send + Unpin + 'static {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> Stream for T {}

/// Sends `req` if its origin is allowed by `settings`; see the module docs of `outbound` for the
/// behaviour and error mapping.
pub(crate) async fn send(
    settings: &OutboundConfig,
    mut req: Request<WasiBody>,
    options: Option<RequestOptions>,
) -> Result<(Response<WasiBody>, IoFuture), Error> {
    let Some(target) = Target::of(req.uri()) else {
        tracing::warn!("refused outgoing HTTP request: the URI has no http(s) scheme or no host");
        return Err(Error::HttpRequestUriInvalid);
    };
    if !settings.allowed.iter().any(|o| o.matches(&target)) {
        tracing::warn!(
            target = %target,
            "refused outgoing HTTP request to {}: allowed origins: {}",
            HostPort(&target.host, Some(target.port)),
            describe(&settings.allowed),
        );
        return Err(Error::HttpRequestDenied);
    }

    let options = options.unwrap_or_default();
    let connect_timeout = smaller(settings.connect_timeout, options.connect_timeout);
    let first_byte_timeout = smaller(settings.first_byte_timeout, options.first_byte_timeout);
    let watch = is_watch(req.uri());
    // A watch body may stay silent for minutes between events: only the guest's own
    // between-bytes timeout applies. Other bodies must keep flowing within the first-byte
    // timeout (or the guest's smaller between-bytes timeout).
    let idle_timeout = if watch {
        options.between_bytes_timeout
    } else {
        Some(smaller(first_byte_timeout, options.between_bytes_timeout))
    };
    tracing::debug!(
        target = %target,
        method = %req.method(),
        path = req.uri().path(),
        watch,
        "outgoing HTTP request"
    );

    let (tls_config, trust) = match target.scheme {
        Scheme::Https => {
            let (config, trust) = tls::client_config(
                settings.ca_file.as_ref(),
                settings.insecure_skip_tls_verify,
                &target,
            )
            .await?;
            (Some(config), trust)
        }
        Scheme::Http => (None, TrustKey::Plain),
    };
    let key = Key {
        scheme: target.scheme,
        host: target.host.clone(),
        port: target.port,
        trust,
    };

    let mut fresh = false;
    let (response, lease) = loop {
        let dial = || connect(&target, tls_config.clone(), settings.ca_file.as_ref());
        let mut lease = tokio::time::timeout(connect_timeout, pool().acquire(&key, fresh, dial))
            .await
            .map_err(|_| {
                tracing::warn!(
                    target = %target,
                    "outgoing HTTP request: no connection within {connect_timeout:?}"
                );
                Error::ConnectionTimeout
            })??;
        // Kept for a retry, which may land on the other protocol.
        let absolute = req.uri().clone();
        if lease.is_http2() {
            // HTTP/2 takes scheme and authority from the absolute URI (:scheme, :authority); a
            // Host header would duplicate :authority.
            req.headers_mut().remove(http::header::HOST);
            *req.version_mut() = Version::HTTP_2;
        } else {
            // hyper writes the URI as given; HTTP/1.1 origin servers want the origin form.
            let origin_form = absolute
                .path_and_query()
                .map_or("/", |pq| pq.as_str())
                .parse::<Uri>()
                .map_err(|_| Error::HttpRequestUriInvalid)?;
            *req.uri_mut() = origin_form;
            *req.version_mut() = Version::HTTP_11;
        }
        match tokio::time::timeout(first_byte_timeout, lease.send(req)).await {
            Err(_) => {
                tracing::warn!(
                    target = %target,
                    "outgoing HTTP request: no response headers within {first_byte_timeout:?}"
                );
                return Err(Error::HttpResponseTimeout);
            }
            Ok(Ok(response)) => break (response, lease),
            Ok(Err(mut e)) => match e.take_message() {
                // A pooled connection closed before the request was written: once more on a new
                // connection (hyper-util's `retry_canceled_requests`).
                Some(mut unsent) if lease.reused => {
                    tracing::debug!(
                        target = %target,
                        "a pooled connection was closed before the request was sent ({}); \
                         retrying on a new connection",
                        e.error()
                    );
                    *unsent.uri_mut() = absolute;
                    req = unsent;
                    fresh = true;
                }
                _ => return Err(hyper_error(e.into_error())),
            },
        }
    };

    let mut lease = Some(lease);
    if response.body().is_end_stream()
        && let Some(lease) = lease.take()
    {
        lease.finish();
    }
    let response = response.map(|incoming| {
        ResponseBody {
            incoming,
            idle_timeout,
            idle: idle_timeout.map(|d| Box::pin(tokio::time::sleep(d))),
            lease,
        }
        .boxed_unsync()
    });
    // The connection runs in its own task (it outlives the request): nothing for wasmtime to
    // drive.
    let io: IoFuture = Box::new(async { Ok(()) });
    Ok((response, io))
}

/// A hyper error as a wasi-http error code; hyper's own timeouts (an HTTP/2 ping unanswered)
/// are `HTTP-response-timeout`.
fn hyper_error(e: hyper::Error) -> Error {
    if e.is_timeout() {
        Error::HttpResponseTimeout
    } else {
        Error::from(e)
    }
}

/// Opens a new connection: TCP, TLS with `tls_config` when https, then the hyper handshake
/// (HTTP/2 when ALPN selected `h2`). The caller bounds the time.
async fn connect(
    target: &Target,
    tls_config: Option<Arc<rustls::ClientConfig>>,
    ca_file: Option<&CredentialPath>,
) -> Result<Dialled, Error> {
    let tcp = connect_tcp(target).await?;
    let dialled = match tls_config {
        None => handshake(Box::new(tcp), false).await?,
        Some(config) => {
            let name = tls::server_name(target)?;
            let tls = tokio_rustls::TlsConnector::from(config)
                .connect(name, tcp)
                .await
                .map_err(|e| tls::handshake_error(e, target, ca_file))?;
            let h2 = tls.get_ref().1.alpn_protocol() == Some(b"h2".as_slice());
            handshake(Box::new(tls), h2).await?
        }
    };
    tracing::debug!(
        target = %target,
        http2 = matches!(dialled, Dialled::Http2(..)),
        "opened an outbound connection"
    );
    Ok(dialled)
}

/// The smaller of our limit and the guest's optional one.
fn smaller(ours: Duration, guest: Option<Duration>) -> Duration {
    guest.map_or(ours, |g| g.min(ours))
}

/// Resolves the target (IP literals without DNS) and connects to the first address that accepts.
async fn connect_tcp(target: &Target) -> Result<TcpStream, Error> {
    let addrs: Vec<SocketAddr> = match target.ip {
        Some(ip) => vec![SocketAddr::new(ip, target.port)],
        None => {
            let addrs = tokio::net::lookup_host((target.host.as_str(), target.port))
                .await
                .map_err(|e| {
                    tracing::warn!(target = %target, "outgoing HTTP request: cannot resolve the host: {e}");
                    Error::DnsError {
                        rcode: Some(e.to_string()),
                        info_code: None,
                    }
                })?
                .collect::<Vec<_>>();
            if addrs.is_empty() {
                tracing::warn!(target = %target, "outgoing HTTP request: the host has no address");
                return Err(Error::DestinationNotFound);
            }
            addrs
        }
    };
    let mut last = None;
    for addr in addrs {
        match TcpStream::connect(addr).await {
            Ok(stream) => {
                let _ = stream.set_nodelay(true);
                return Ok(stream);
            }
            Err(e) => {
                tracing::debug!(target = %target, %addr, "connect failed: {e}");
                last = Some(e);
            }
        }
    }
    let err = last.unwrap_or_else(|| io::Error::from(io::ErrorKind::AddrNotAvailable));
    tracing::warn!(target = %target, "outgoing HTTP request: cannot connect: {err}");
    Err(connect_error(err))
}

/// Maps a TCP connect failure to the wasi-http error code.
fn connect_error(err: io::Error) -> Error {
    match err.kind() {
        io::ErrorKind::ConnectionRefused => Error::ConnectionRefused,
        io::ErrorKind::TimedOut => Error::ConnectionTimeout,
        io::ErrorKind::HostUnreachable => Error::DestinationUnavailable,
        io::ErrorKind::NetworkUnreachable | io::ErrorKind::AddrNotAvailable => {
            Error::DestinationIpUnroutable
        }
        _ => Error::Connect(err),
    }
}

/// Idle time after which an HTTP/2 connection is pinged (client-go `ReadIdleTimeout`).
const H2_PING_INTERVAL: std::time::Duration = std::time::Duration::from_secs(30);
/// How long a ping may go unanswered before the connection is closed (client-go `PingTimeout`).
const H2_PING_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(15);

/// The hyper client handshake: HTTP/2 when ALPN selected `h2`, else HTTP/1.1.
async fn handshake(stream: Box<dyn Stream>, h2: bool) -> Result<Dialled, Error> {
    let io = TokioIo::new(stream);
    if h2 {
        // client-go's HTTP/2 health check (ReadIdleTimeout 30 s, PingTimeout 15 s): a connection
        // whose peer stopped answering (a hung API server behind a live TCP socket) fails a
        // long watch within about 45 s instead of hanging it forever.
        let (sender, conn) = hyper::client::conn::http2::Builder::new(TokioExecutor::new())
            .timer(hyper_util::rt::TokioTimer::new())
            .keep_alive_interval(H2_PING_INTERVAL)
            .keep_alive_timeout(H2_PING_TIMEOUT)
            .keep_alive_while_idle(true)
            .handshake::<_, WasiBody>(io)
            .await?;
        Ok(Dialled::Http2(sender, conn))
    } else {
        let (sender, conn) = hyper::client::conn::http1::Builder::new()
            .handshake::<_, WasiBody>(io)
            .await?;
        Ok(Dialled::Http1(sender, Box::new(conn)))
    }
}

/// A streamed response body that fails with `ConnectionReadTimeout` when no frame arrives within
/// `idle_timeout` (none: wait forever).
///
/// It holds the connection's [`Lease`] until the body ends: read to the end, an HTTP/1.1
/// connection goes back to the pool; dropped before, the connection is closed.
struct ResponseBody {
    incoming: Incoming,
    idle_timeout: Option<Duration>,
    idle: Option<Pin<Box<tokio::time::Sleep>>>,
    lease: Option<Lease>,
}

impl Body for ResponseBody {
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        let this = self.get_mut();
        match Pin::new(&mut this.incoming).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let (Some(idle), Some(d)) = (this.idle.as_mut(), this.idle_timeout) {
                    idle.as_mut().reset(tokio::time::Instant::now() + d);
                }
                if this.incoming.is_end_stream()
                    && let Some(lease) = this.lease.take()
                {
                    lease.finish();
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => {
                this.lease = None;
                Poll::Ready(Some(Err(hyper_error(e))))
            }
            Poll::Ready(None) => {
                if let Some(lease) = this.lease.take() {
                    lease.finish();
                }
                Poll::Ready(None)
            }
            Poll::Pending => match this.idle.as_mut() {
                Some(idle) => {
                    ready!(idle.as_mut().poll(cx));
                    Poll::Ready(Some(Err(Error::ConnectionReadTimeout)))
                }
                None => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.incoming.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.incoming.size_hint()
    }
}
