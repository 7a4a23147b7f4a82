//! HTTP/2 connections to the API server, as many as the streams need.
//!
//! Go's transport (golang.org/x/net/http2 `transport.go`, `StrictMaxConcurrentStreams` false by
//! default) sends a request on a pooled connection only while `ClientConn.CanTakeNewRequest`
//! holds (fewer streams than the server's `SETTINGS_MAX_CONCURRENT_STREAMS`, no `GOAWAY`, not
//! closed: `idleStateLocked`), and the pool's `getClientConn` dials another connection when
//! none can. hyper-util's legacy `Client` keeps one HTTP/2 connection per host, so 200 watches
//! fill it and every further request waits. This pool does what Go does:
//!
//! - each connection counts its open streams: a stream is taken when a request is sent and given
//!   back when its response body ends or is dropped (or the request fails);
//! - the server's limit is learned from its `SETTINGS` ([`super::frames`]);
//! - when every connection is full, draining (`GOAWAY`) or closed, one new connection is dialled;
//!   requests that arrive meanwhile wait for that dial and share its failure (Go's `dialCall`),
//!   so an outage costs one connect per burst, not one per request;
//! - a connection is dropped from the pool only when it closed (EOF, `GOAWAY` drained, I/O
//!   error) or had no stream for [`POOL_IDLE_TIMEOUT`] (Go's `IdleConnTimeout`, 90 s); a
//!   connection's failure fails only the requests on it. A stream's own error (`RST_STREAM`,
//!   refused stream) fails only that request.

use std::fmt;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use http::{Request, Response, Version};
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;
use hyper::client::conn::http2;
use hyper_util::client::legacy::connect::Connection;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};

use super::connector::Connector;
use super::frames::{PeerState, Watched};
use super::{H2_CONNECTION_WINDOW, H2_STREAM_WINDOW, POOL_IDLE_TIMEOUT, UpstreamBody};

/// Why a request to the API server failed.
#[derive(Debug)]
pub enum SendError {
    /// From the HTTP/1.1 (and upgrade) client.
    Client(hyper_util::client::legacy::Error),
    /// Dialling a new HTTP/2 connection failed (TCP, TLS or the HTTP/2 handshake); the request
    /// was not sent.
    Connect(Arc<str>),
    /// The request failed on its HTTP/2 connection (the stream was reset or the connection
    /// ended).
    Stream(hyper::Error),
}

impl SendError {
    /// Whether the request never left the proxy because no connection could be made (then it
    /// is not worth retrying at once).
    pub fn is_connect(&self) -> bool {
        match self {
            SendError::Client(e) => e.is_connect(),
            SendError::Connect(_) => true,
            SendError::Stream(_) => false,
        }
    }
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendError::Client(e) => e.fmt(f),
            SendError::Connect(why) => write!(f, "client error (Connect): {why}"),
            SendError::Stream(e) => write!(f, "client error (SendRequest): {e}"),
        }
    }
}

impl std::error::Error for SendError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SendError::Client(e) => e.source(),
            SendError::Connect(_) => None,
            SendError::Stream(e) => std::error::Error::source(e),
        }
    }
}

/// The API server's response body; while it is alive it holds its HTTP/2 stream's place in the
/// pool's count.
pub struct UpstreamIncoming {
    body: Incoming,
    _slot: Option<Slot>,
}

impl UpstreamIncoming {
    /// A body that holds no pooled stream (HTTP/1.1, upgrades).
    pub fn plain(body: Incoming) -> UpstreamIncoming {
        UpstreamIncoming { body, _slot: None }
    }
}

impl Body for UpstreamIncoming {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.body).poll_frame(cx);
        if let Poll::Ready(None | Some(Err(_))) = r {
            this._slot = None;
        }
        r
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// One stream counted on a connection; given back on drop.
struct Slot(Arc<Conn>);

impl Drop for Slot {
    fn drop(&mut self) {
        if self.0.active.fetch_sub(1, Ordering::Relaxed) == 1 {
            *self.0.idle_since.lock().unwrap() = Some(Instant::now());
        }
    }
}

/// One HTTP/2 connection.
struct Conn {
    send: http2::SendRequest<UpstreamBody>,
    active: AtomicUsize,
    peer: Arc<PeerState>,
    /// When its last stream ended (`None` while streams are open).
    idle_since: Mutex<Option<Instant>>,
}

impl Conn {
    /// Takes a stream if the connection can carry another request (Go's
    /// `CanTakeNewRequest`).
    fn take(self: &Arc<Conn>) -> Option<Slot> {
        if self.send.is_closed() || self.peer.goaway() {
            return None;
        }
        let max = self.peer.max_streams();
        self.active
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                (n < max).then_some(n + 1)
            })
            .ok()
            .map(|_| {
                *self.idle_since.lock().unwrap() = None;
                Slot(self.clone())
            })
    }

    /// Closed, or without streams for [`POOL_IDLE_TIMEOUT`] (dropping it closes it).
    fn expired(&self, now: Instant) -> bool {
        self.send.is_closed()
            || (self.active.load(Ordering::Relaxed) == 0
                && self
                    .idle_since
                    .lock()
                    .unwrap()
                    .is_some_and(|t| now.duration_since(t) >= POOL_IDLE_TIMEOUT))
    }
}

/// The last dial's failure, for the requests that waited for it.
type LastDial = Option<Arc<str>>;

/// The HTTP/2 connections of one API server.
pub(super) struct H2Pool {
    connector: Connector,
    conns: Mutex<Vec<Arc<Conn>>>,
    /// Held while dialling: one dial at a time.
    dialling: tokio::sync::Mutex<LastDial>,
    /// Dials finished so far.
    dials: AtomicU64,
    /// A dial found that the server chose HTTP/1.1.
    not_h2: AtomicBool,
}

/// What [`H2Pool::send`] found.
pub(super) enum Sent {
    /// The response, over HTTP/2.
    Response(Response<UpstreamIncoming>),
    /// The server did not negotiate HTTP/2: send over HTTP/1.1 instead.
    NotH2(Request<UpstreamBody>),
}

impl H2Pool {
    pub(super) fn new(connector: Connector) -> H2Pool {
        H2Pool {
            connector,
            conns: Mutex::new(Vec::new()),
            dialling: tokio::sync::Mutex::new(None),
            dials: AtomicU64::new(0),
            not_h2: AtomicBool::new(false),
        }
    }

    /// How many connections the pool holds (closed ones are dropped as they are met).
    pub(super) fn connections(&self) -> usize {
        self.conns.lock().unwrap().len()
    }

    fn pick(&self) -> Option<Slot> {
        let mut conns = self.conns.lock().unwrap();
        let now = Instant::now();
        conns.retain(|c| !c.expired(now));
        conns.iter().find_map(|c| c.take())
    }

    /// Sends `req` on a connection with room, dialling one when there is none.
    pub(super) async fn send(
        &self,
        mut req: Request<UpstreamBody>,
        uri: &http::Uri,
    ) -> Result<Sent, SendError> {
        let slot = match self.pick() {
            Some(s) => s,
            None => {
                let seen = self.dials.load(Ordering::Acquire);
                let mut last = self.dialling.lock().await;
                if self.not_h2.load(Ordering::Relaxed) {
                    return Ok(Sent::NotH2(req));
                }
                match self.pick() {
                    Some(s) => s,
                    None => {
                        // A dial finished while this request waited, and failed: share it.
                        if self.dials.load(Ordering::Acquire) != seen
                            && let Some(why) = &*last
                        {
                            return Err(SendError::Connect(why.clone()));
                        }
                        let dialled = self.dial(uri).await;
                        self.dials.fetch_add(1, Ordering::Release);
                        *last = None;
                        match dialled {
                            Ok(Some(conn)) => {
                                let slot = conn.take().ok_or_else(|| {
                                    SendError::Connect("the new connection closed at once".into())
                                })?;
                                self.conns.lock().unwrap().push(conn);
                                slot
                            }
                            Ok(None) => {
                                self.not_h2.store(true, Ordering::Relaxed);
                                return Ok(Sent::NotH2(req));
                            }
                            Err(why) => {
                                *last = Some(why.clone());
                                return Err(SendError::Connect(why));
                            }
                        }
                    }
                }
            }
        };
        *req.version_mut() = Version::HTTP_2;
        let mut send = slot.0.send.clone();
        let resp = send.send_request(req).await.map_err(SendError::Stream)?;
        let (parts, body) = resp.into_parts();
        Ok(Sent::Response(Response::from_parts(
            parts,
            UpstreamIncoming {
                body,
                _slot: Some(slot),
            },
        )))
    }

    /// Dials one connection: `Ok(None)` when the server chose HTTP/1.1 in ALPN.
    async fn dial(&self, uri: &http::Uri) -> Result<Option<Arc<Conn>>, Arc<str>> {
        let mut connector = self.connector.clone();
        let io = tower_service::Service::call(&mut connector, uri.clone())
            .await
            .map_err(|e| Arc::from(super::error_chain(e.as_ref())))?;
        if !io.inner().connected().is_negotiated_h2() {
            return Ok(None);
        }
        let peer = PeerState::new();
        let io = TokioIo::new(Watched::new(io.into_inner(), peer.clone()));
        let (send, conn) = http2::Builder::new(TokioExecutor::new())
            .timer(TokioTimer::new())
            .initial_stream_window_size(H2_STREAM_WINDOW)
            .initial_connection_window_size(H2_CONNECTION_WINDOW)
            .handshake(io)
            .await
            .map_err(|e| Arc::from(format!("HTTP/2 handshake: {}", super::error_chain(&e))))?;
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!("HTTP/2 connection to the API server ended: {e}");
            }
        });
        Ok(Some(Arc::new(Conn {
            send,
            active: AtomicUsize::new(0),
            peer,
            idle_since: Mutex::new(None),
        })))
    }
}
