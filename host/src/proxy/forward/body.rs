//! The response body the proxy hands to hyper, and the access log line written when it ends.
//!
//! Every log line that carries text from the client (method, path, host) writes it through
//! [`pod_introspect_kube::go_quote::quote`] (Go's `%q`), as Go programs log request data.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use http::{Method, Request, Response};
use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyExt as _;
use http_body_util::combinators::UnsyncBoxBody;
use hyper::body::Incoming;
use pod_introspect_kube::go_quote::quote;

use crate::proxy::upstream::UpstreamIncoming;

use super::Peer;

/// The tracing target of access log lines (`--log warn,access=info` shows them).
pub const ACCESS_TARGET: &str = "access";

/// What a [`ProxyBody`] holds.
pub(super) enum Kind {
    Full(Option<Bytes>),
    Stream(UpstreamIncoming),
    Local(UnsyncBoxBody<Bytes, Infallible>),
}

/// A response body: a small fixed body, or the API server's body forwarded frame by frame
/// (each frame is handed to hyper as it arrives, so it is written and flushed at once).
pub struct ProxyBody {
    pub(super) kind: Kind,
    log: Option<Box<AccessLog>>,
}

impl ProxyBody {
    /// A fixed body.
    pub fn full(bytes: Bytes) -> ProxyBody {
        ProxyBody {
            kind: Kind::Full(Some(bytes)),
            log: None,
        }
    }

    /// No body.
    pub fn empty() -> ProxyBody {
        ProxyBody {
            kind: Kind::Full(None),
            log: None,
        }
    }

    /// A body the proxy makes itself and hyper polls directly (watch streams from the watch
    /// cache: each poll takes the next event, so a delivery wakes one task, not two).
    pub fn local(body: impl Body<Data = Bytes, Error = Infallible> + Send + 'static) -> ProxyBody {
        ProxyBody {
            kind: Kind::Local(body.boxed_unsync()),
            log: None,
        }
    }

    /// The API server's body, streamed.
    pub fn stream(body: UpstreamIncoming) -> ProxyBody {
        ProxyBody {
            kind: Kind::Stream(body),
            log: None,
        }
    }
}

impl Body for ProxyBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let this = self.get_mut();
        match &mut this.kind {
            Kind::Full(b) => {
                let frame = b.take().map(|b| {
                    if let Some(l) = this.log.as_mut() {
                        l.bytes += b.len() as u64;
                    }
                    Ok(Frame::data(b))
                });
                Poll::Ready(frame)
            }
            Kind::Local(b) => Pin::new(b).poll_frame(cx).map(|m| {
                m.map(|frame| {
                    let frame = frame.unwrap_or_else(|never| match never {});
                    if let (Some(l), Some(d)) = (this.log.as_mut(), frame.data_ref()) {
                        l.bytes += d.len() as u64;
                    }
                    Ok(frame)
                })
            }),
            Kind::Stream(s) => {
                let polled = Pin::new(s).poll_frame(cx);
                if let (Poll::Ready(Some(Ok(frame))), Some(l)) = (&polled, this.log.as_mut())
                    && let Some(d) = frame.data_ref()
                {
                    l.bytes += d.len() as u64;
                }
                if let (Poll::Ready(Some(Err(e))), Some(l)) = (&polled, this.log.as_mut()) {
                    l.note = Some(format!("response body: {e}"));
                }
                polled
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Full(b) => b.is_none(),
            Kind::Stream(s) => s.is_end_stream(),
            Kind::Local(b) => b.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Full(Some(b)) => SizeHint::with_exact(b.len() as u64),
            Kind::Full(None) => SizeHint::with_exact(0),
            Kind::Stream(s) => s.size_hint(),
            Kind::Local(b) => b.size_hint(),
        }
    }
}

/// One access log line, written when the response body is finished or dropped.
pub struct AccessLog {
    start: Instant,
    method: Method,
    path: String,
    client: Option<SocketAddr>,
    status: u16,
    bytes: u64,
    /// Why the request failed or was refused, for the log line.
    pub(super) note: Option<String>,
}

impl AccessLog {
    /// `Some` only when `access=info` is enabled, so a quiet proxy pays nothing.
    pub(super) fn start(req: &Request<Incoming>, peer: Peer) -> Option<Box<AccessLog>> {
        if !tracing::enabled!(target: ACCESS_TARGET, tracing::Level::INFO) {
            return None;
        }
        Some(Box::new(AccessLog {
            start: Instant::now(),
            method: req.method().clone(),
            // The path only: a query string is the client's business.
            path: req.uri().path().to_string(),
            client: peer.0,
            status: 0,
            bytes: 0,
            note: None,
        }))
    }

    pub(super) fn attach(
        mut log: Option<Box<AccessLog>>,
        mut resp: Response<ProxyBody>,
    ) -> Response<ProxyBody> {
        if let Some(l) = log.as_mut() {
            l.status = resp.status().as_u16();
        }
        resp.body_mut().log = log;
        resp
    }
}

impl Drop for AccessLog {
    fn drop(&mut self) {
        let client = self
            .client
            .map(|a| a.to_string())
            .unwrap_or_else(|| "unix".into());
        // Method and path come from the client: Go-quoted, so no byte of theirs can end the
        // line or reach the terminal as a control sequence.
        tracing::info!(
            target: ACCESS_TARGET,
            method = %quote(self.method.as_str()),
            path = %quote(&self.path),
            status = self.status,
            bytes = self.bytes,
            duration_ms = self.start.elapsed().as_secs_f64() * 1000.0,
            client = %client,
            note = self.note.as_deref().unwrap_or(""),
            "request"
        );
    }
}
