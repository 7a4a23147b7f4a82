//! One request through the proxy: route, filter, forward with credentials, stream back.
//!
//! Upstream: kubectl `pkg/proxy/proxy_server.go` (`NewProxyHandler`: filter, then
//! apimachinery's `UpgradeAwareHandler` with `UseRequestLocation` and `UseLocationHost`: the
//! request path and query are kept, the `Host` becomes the API server's) and Go
//! `net/http/httputil` `ReverseProxy` (hop-by-hop headers dropped both ways, `X-Forwarded-For`
//! appended). Differences, all deliberate:
//!
//! - Response bodies are forwarded frame by frame and each frame is flushed as soon as it
//!   arrives, so a watch event reaches the client immediately (kubectl proxy's handler is
//!   configured with a 200 ms flush interval). Request bodies stream the same way; nothing is
//!   buffered whole.
//! - Errors reaching the API server are a Kubernetes `Status` (JSON): `502` when the connection,
//!   TLS handshake or exchange fails, `503` when the proxy has no credentials to send (token file
//!   never readable). kubectl proxy answers `500` with plain text.
//! - A `401` to a request that carried the ServiceAccount token makes the token be re-read (the
//!   kubelet may have rotated it) and, for a body-less `GET`/`HEAD`/`OPTIONS`, the request is
//!   retried once with the new token (client-go only re-reads on the next request). Such a
//!   request is also retried once when its pooled connection turns out to be dead (the API
//!   server restarted), as Go's `http.Transport` retries idempotent requests.
//! - A client's own `Authorization` header is forwarded unchanged and no token is added, as
//!   client-go's bearer round-tripper does.
//!
//! [`Proxy::handle`] composes the steps, each in its own module: [`Router`] and [`Filter`]
//! (`--read-only` is enforced there, and only there), [`headers`] (hop-by-hop headers, `Host`,
//! `X-Forwarded-For`), [`credentials`] (the token), [`replay`] (sending, the dead-connection
//! retry and the 401 replay), [`upgrade`] (the `101` splice), [`responses`] (the proxy's own
//! answers), [`static_files`] (`--www`), [`body`] (streaming and the access log).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;

use http::header::{self, HeaderValue};
use http::{Request, Response, StatusCode};
use http_body_util::Either;
use hyper::body::Incoming;

use super::filter::Filter;
use super::route::{Route, Router};
use super::upstream::{Upstream, error_chain};

mod body;
mod credentials;
mod headers;
mod replay;
mod responses;
mod static_files;
mod upgrade;

pub use body::{ACCESS_TARGET, AccessLog, ProxyBody};
pub use headers::{is_upgrade, prepare_request, strip_hop_by_hop};
pub use responses::{forbidden, status, text};

/// Everything a request needs; shared by all connections.
#[derive(Debug)]
pub struct Proxy {
    /// kubectl's filter and `--read-only` ([`Filter::disabled`] with `--disable-filter`).
    pub filter: Filter,
    /// `--api-prefix` / `--www-prefix` routing.
    pub router: Router,
    /// `--www` directory.
    pub www: Option<PathBuf>,
    /// The API server.
    pub upstream: Upstream,
}

/// Who sent a request, for `X-Forwarded-For` and logs (`None` on a unix socket).
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub Option<SocketAddr>);

impl Proxy {
    /// Handles one request; never fails (errors are responses) and never panics on input.
    pub async fn handle(
        &self,
        req: Request<Incoming>,
        peer: Peer,
    ) -> Result<Response<ProxyBody>, Infallible> {
        let mut log = AccessLog::start(&req, peer);
        let resp = self.dispatch(req, peer, &mut log).await;
        Ok(AccessLog::attach(log, resp))
    }

    async fn dispatch(
        &self,
        req: Request<Incoming>,
        peer: Peer,
        log: &mut Option<Box<AccessLog>>,
    ) -> Response<ProxyBody> {
        let route = self.router.route(req.uri().path(), req.uri().query());
        match route {
            Route::BadRequest => text(
                StatusCode::BAD_REQUEST,
                "400 Bad Request: invalid URL escape\n",
            ),
            Route::NotFound => text(StatusCode::NOT_FOUND, "404 page not found\n"),
            Route::Redirect(location) => {
                let mut r = text(StatusCode::MOVED_PERMANENTLY, "Moved Permanently.\n");
                if let Ok(v) = HeaderValue::from_str(&location) {
                    r.headers_mut().insert(header::LOCATION, v);
                }
                r
            }
            Route::Static { rel } => match &self.www {
                Some(dir) => static_files::serve_static(dir, &rel, req.uri().path()).await,
                None => text(StatusCode::NOT_FOUND, "404 page not found\n"),
            },
            Route::Api { path, raw } => {
                let host = req
                    .headers()
                    .get(header::HOST)
                    .and_then(|h| h.to_str().ok())
                    .or_else(|| req.uri().authority().map(|a| a.as_str()))
                    .unwrap_or("");
                let method = req.method().as_str();
                let verdict = self.filter.check(method, &path, host);
                if !verdict.accepted() {
                    tracing::debug!(method, path = %path, host, "filter refused the request: {verdict}");
                    if let Some(l) = log.as_mut() {
                        l.note = Some(verdict.to_string());
                    }
                    return forbidden();
                }
                let target = match req.uri().query() {
                    Some(q) => format!("{raw}?{q}"),
                    None => raw,
                };
                self.forward(req, &target, peer, log).await
            }
        }
    }

    /// One accepted request to the API server and its response back: headers, credentials,
    /// send (with the replays), then the upgrade splice or the streamed body.
    async fn forward(
        &self,
        mut req: Request<Incoming>,
        target: &str,
        peer: Peer,
        log: &mut Option<Box<AccessLog>>,
    ) -> Response<ProxyBody> {
        let upgrade = is_upgrade(req.headers());
        let client_upgrade = upgrade.then(|| hyper::upgrade::on(&mut req));
        let (parts, body) = req.into_parts();
        let uri = match self.upstream.uri_for(target) {
            Ok(u) => u,
            Err(e) => {
                return status(
                    StatusCode::BAD_REQUEST,
                    "BadRequest",
                    format!("invalid request target: {e}"),
                );
            }
        };
        let mut headers = parts.headers;
        prepare_request(&mut headers, upgrade, peer.0);
        let sent_token = match credentials::add(&self.upstream, &mut headers) {
            Ok(token) => token,
            Err(e) => return credentials::unavailable(&e),
        };
        let again = replay::Replay::of(&parts.method, &uri, &headers, upgrade, &body);
        let first = replay::outgoing(parts.method, uri, headers, Either::Left(body));
        let resp =
            match replay::send(&self.upstream, first, upgrade, again, sent_token.as_ref()).await {
                Ok(r) => r,
                Err(e) => return self.bad_gateway(&e, log),
            };
        if upgrade && resp.status() == StatusCode::SWITCHING_PROTOCOLS {
            return upgrade::splice(client_upgrade, resp);
        }
        let (mut parts, body) = resp.into_parts();
        strip_hop_by_hop(&mut parts.headers, false);
        Response::from_parts(parts, ProxyBody::stream(body))
    }

    fn bad_gateway(
        &self,
        e: &super::upstream::SendError,
        log: &mut Option<Box<AccessLog>>,
    ) -> Response<ProxyBody> {
        let why = error_chain(e);
        self.upstream.report_failure(&why);
        if let Some(l) = log.as_mut() {
            l.note = Some(why.clone());
        }
        status(
            StatusCode::BAD_GATEWAY,
            "InternalError",
            format!("error trying to reach the API server: {why}"),
        )
    }
}
