//! Sending a request to the API server, and replaying it once when that is safe.
//!
//! A body-less `GET`/`HEAD`/`OPTIONS` (not an upgrade) can be sent again: once when its pooled
//! connection turns out to be dead (the API server restarted), as Go's `http.Transport` retries
//! idempotent requests, and once after a `401` to a request that carried the ServiceAccount token
//! when re-reading the token file gives a different token (the kubelet rotated it; client-go only
//! re-reads on the next request).

use http::header::{self, HeaderMap, HeaderValue};
use http::{Method, Request, Response, StatusCode, Uri, Version};
use http_body::Body as _;
use http_body_util::{Either, Empty};
use hyper::body::Incoming;

use crate::proxy::upstream::{SendError, Upstream, UpstreamBody, UpstreamIncoming, error_chain};

/// What is needed to send a body-less idempotent request again.
pub(super) struct Replay {
    method: Method,
    uri: Uri,
    headers: HeaderMap,
}

impl Replay {
    /// `Some` when the request may be replayed: `GET`, `HEAD` or `OPTIONS`, no body, no upgrade.
    pub(super) fn of(
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        upgrade: bool,
        body: &Incoming,
    ) -> Option<Replay> {
        (!upgrade
            && matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
            && body.is_end_stream())
        .then(|| Replay {
            method: method.clone(),
            uri: uri.clone(),
            headers: headers.clone(),
        })
    }

    /// The request again, with `authorization` replacing the one sent, if given.
    fn request(&self, authorization: Option<HeaderValue>) -> Request<UpstreamBody> {
        let mut headers = self.headers.clone();
        if let Some(h) = authorization {
            headers.insert(header::AUTHORIZATION, h);
        }
        outgoing(
            self.method.clone(),
            self.uri.clone(),
            headers,
            Either::Right(Empty::new()),
        )
    }
}

/// An HTTP/1.1-shaped request to the API server (hyper's pool speaks HTTP/2 when negotiated).
pub(super) fn outgoing(
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: UpstreamBody,
) -> Request<UpstreamBody> {
    let mut r = Request::new(body);
    *r.method_mut() = method;
    *r.uri_mut() = uri;
    *r.version_mut() = Version::HTTP_11;
    *r.headers_mut() = headers;
    r
}

/// Sends `req` (an upgrade over its own HTTP/1.1 connection), replaying it as described in the
/// module documentation when `replay` is given. `sent_token` is the `Authorization` the proxy
/// added, `None` when the client sent its own or there are no credentials (then a `401` is
/// passed on as it is).
pub(super) async fn send(
    upstream: &Upstream,
    req: Request<UpstreamBody>,
    upgrade: bool,
    replay: Option<Replay>,
    sent_token: Option<&HeaderValue>,
) -> Result<Response<UpstreamIncoming>, SendError> {
    let result = if upgrade {
        upstream.send_upgrade(req).await
    } else {
        upstream.send(req).await
    };
    let resp = match (result, &replay) {
        (Ok(r), _) => r,
        (Err(e), Some(replay)) if !e.is_connect() => {
            tracing::debug!("retrying once on a new connection: {}", error_chain(&e));
            upstream.send(replay.request(None)).await?
        }
        (Err(e), _) => return Err(e),
    };
    if resp.status() == StatusCode::UNAUTHORIZED
        && let Some(sent) = sent_token
        && let Some(replay) = &replay
        && let Some(new) = upstream.refresh_after_401(sent)
    {
        tracing::info!(
            "the API server refused the token (401); retrying once with the re-read token"
        );
        return upstream.send(replay.request(Some(new))).await;
    }
    Ok(resp)
}
