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
//! - A header list over [`MAX_HEADER_LIST_BYTES`] is answered `431` (a `Status`) and never sent;
//!   a request body not received within `--request-read-timeout` ([`RequestBody`]) is answered
//!   `408` (a `Status`, `Connection: close`).
//!
//! As Go's server does before any handler: more than one `Host` is `400 Bad Request`, and the
//! host judged by the filter is the target's authority when the target is absolute-form.
//!
//! [`Proxy::handle`] composes the steps, each in its own module: [`Router`] and [`Filter`]
//! (`--read-only` is enforced there, and only there), [`headers`] (hop-by-hop headers, `Host`,
//! `X-Forwarded-For`), [`credentials`] (the token), [`replay`] (sending, the dead-connection
//! retry and the 401 replay), [`upgrade`] (the `101` splice), [`responses`] (the proxy's own
//! answers), [`static_files`] (`--www`), [`body`] (streaming and the access log).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use http::header::{self, HeaderValue};
use http::{Request, Response, StatusCode};
use http_body_util::Either;
use hyper::body::Incoming;
use pod_introspect_kube::go_quote::quote;

use super::filter::Filter;
use super::metrics::ProxyMetrics;
use super::route::{Route, Router};
use super::upstream::{Upstream, error_chain};
use super::watch_cache::WatchCache;

mod body;
mod credentials;
mod headers;
mod replay;
mod request_body;
mod responses;
mod static_files;
mod upgrade;

pub use body::{ACCESS_TARGET, AccessLog, ProxyBody};
pub use headers::{
    MAX_HEADER_LIST_BYTES, header_list_size, is_upgrade, prepare_request, strip_hop_by_hop,
};
pub use request_body::{BodyTimeout, RequestBody, RequestBodyError};
pub use responses::{asterisk, forbidden, status, text, unparsable_request};

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
    pub upstream: Arc<Upstream>,
    /// `--watch-cache`: lists and watches of `--cache-resources` answered from one upstream
    /// watch each.
    pub watch_cache: Option<WatchCache>,
    /// The proxy's metrics (`/metrics` on `--health-port`).
    pub metrics: ProxyMetrics,
    /// `--request-read-timeout`: a request body must be read completely within this long of
    /// its headers ([`RequestBody`]).
    pub read_timeout: Duration,
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
        self.metrics.response(resp.status().as_u16());
        Ok(AccessLog::attach(log, resp))
    }

    async fn dispatch(
        &self,
        req: Request<Incoming>,
        peer: Peer,
        log: &mut Option<Box<AccessLog>>,
    ) -> Response<ProxyBody> {
        // Go's readRequest refuses a request with more than one Host header before any handler.
        if req.headers().get_all(header::HOST).iter().nth(1).is_some() {
            return unparsable_request();
        }
        if req.uri().path() == "*" {
            return asterisk(req.method());
        }
        let route = self.router.route(req.uri().path(), req.uri().query());
        match route {
            Route::BadRequest => unparsable_request(),
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
                // The effective authority (RFC 9112 §3.2.2, Go's readRequest: `r.Host` is the
                // URL's host for an absolute-form target, whatever the Host header says; kubectl's
                // FilterServer matches `req.Host`). Routing already used the target's path.
                let host = req
                    .uri()
                    .authority()
                    .map(|a| a.as_str())
                    .or_else(|| {
                        req.headers()
                            .get(header::HOST)
                            .and_then(|h| h.to_str().ok())
                    })
                    .unwrap_or("");
                let method = req.method().as_str();
                let upgrade = is_upgrade(req.headers());
                let verdict = self.filter.check_request(method, &path, host, upgrade);
                if !verdict.accepted() {
                    tracing::debug!(
                        method = %quote(method),
                        path = %quote(&path),
                        host = %quote(host),
                        "filter refused the request: {verdict}"
                    );
                    if let Some(l) = log.as_mut() {
                        l.note = Some(verdict.to_string());
                    }
                    return forbidden();
                }
                if let Some(cache) = &self.watch_cache
                    && let Some(resp) = cache
                        .serve(req.method(), &path, req.uri().query(), req.headers())
                        .await
                {
                    if let Some(l) = log.as_mut() {
                        l.note = Some("watch cache".into());
                    }
                    return resp;
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
        let size = header_list_size(&parts.method, &uri, &headers);
        if size > MAX_HEADER_LIST_BYTES {
            if let Some(l) = log.as_mut() {
                l.note = Some(format!("header list of {size} bytes"));
            }
            return status(
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                "BadRequest",
                format!(
                    "the request headers are {size} bytes, more than the proxy forwards \
                     ({MAX_HEADER_LIST_BYTES} bytes, counted as HTTP/2 does: name + value + 32 \
                     per field); send smaller headers"
                ),
            );
        }
        let again = replay::Replay::of(&parts.method, &uri, &headers, upgrade, &body);
        let body = RequestBody::new(body, self.read_timeout);
        let timed_out = body.timed_out();
        let first = replay::outgoing(parts.method, uri, headers, Either::Left(body));
        let sent = replay::send(&self.upstream, first, upgrade, again, sent_token.as_ref()).await;
        if timed_out.load(Ordering::Acquire) {
            let why = BodyTimeout(self.read_timeout).to_string();
            if let Some(l) = log.as_mut() {
                l.note = Some(why.clone());
            }
            let mut r = status(StatusCode::REQUEST_TIMEOUT, "Timeout", why);
            r.headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            return r;
        }
        let resp = match sent {
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
