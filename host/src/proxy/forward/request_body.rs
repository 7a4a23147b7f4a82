//! The client's request body on its way to the API server, with a read deadline.
//!
//! Go's `http.Server.ReadTimeout` bounds reading a whole request (headers and body); kubectl
//! proxy sets none (`pkg/proxy/proxy_server.go` `ServeOnListener` builds a bare `http.Server`),
//! so a body trickling one byte every few seconds holds a connection and an API server stream
//! forever. Here the body must be read completely within `--request-read-timeout` of the moment
//! its headers arrived; a body still incomplete then ends with [`BodyTimeout`], the API server
//! stream is cancelled and the client gets `408` (see [`super::Proxy`]). A body-less request
//! (every watch, every `GET`) is never affected: its body has ended before it is polled.

use std::fmt;
use std::future::Future as _;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;
use tokio::time::{Instant, Sleep};

/// The error a [`RequestBody`] ends with when its deadline passes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyTimeout(pub Duration);

impl fmt::Display for BodyTimeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the request body was not received within {:?} (--request-read-timeout)",
            self.0
        )
    }
}

impl std::error::Error for BodyTimeout {}

/// The error type of a [`RequestBody`]: hyper's, or the deadline.
pub type RequestBodyError = Box<dyn std::error::Error + Send + Sync>;

/// A client's body with a deadline. [`RequestBody::timed_out`] tells the proxy afterwards
/// whether the deadline ended it (the API server only sees a cancelled stream).
pub struct RequestBody {
    inner: Incoming,
    limit: Duration,
    deadline: Pin<Box<Sleep>>,
    expired: Arc<AtomicBool>,
}

impl RequestBody {
    /// Wraps `inner`; the deadline is `limit` from now.
    pub fn new(inner: Incoming, limit: Duration) -> RequestBody {
        RequestBody {
            inner,
            limit,
            deadline: Box::pin(tokio::time::sleep_until(Instant::now() + limit)),
            expired: Arc::new(AtomicBool::new(false)),
        }
    }

    /// A flag set once the deadline has ended the body; readable after the body is gone.
    pub fn timed_out(&self) -> Arc<AtomicBool> {
        self.expired.clone()
    }
}

impl Body for RequestBody {
    type Data = Bytes;
    type Error = RequestBodyError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, RequestBodyError>>> {
        let this = self.get_mut();
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            return Poll::Ready(frame.map(|r| r.map_err(Into::into)));
        }
        if this.deadline.as_mut().poll(cx).is_ready() {
            this.expired.store(true, Ordering::Release);
            return Poll::Ready(Some(Err(Box::new(BodyTimeout(this.limit)))));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl fmt::Debug for RequestBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestBody")
            .field("limit", &self.limit)
            .finish_non_exhaustive()
    }
}
