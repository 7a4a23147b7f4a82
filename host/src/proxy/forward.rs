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

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Method, Request, Response, StatusCode, Version};
use http_body::{Body, Frame, SizeHint};
use http_body_util::{Either, Empty};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use pod_introspect_kube::status::Status;

use super::filter::{Filter, READ_ONLY_METHODS, Verdict};
use super::route::{Route, Router};
use super::upstream::{Upstream, UpstreamBody, error_chain};

/// The tracing target of access log lines (`--log warn,access=info` shows them).
pub const ACCESS_TARGET: &str = "access";

/// Everything a request needs; shared by all connections.
#[derive(Debug)]
pub struct Proxy {
    /// kubectl's filter; `None` with `--disable-filter`.
    pub filter: Option<Filter>,
    /// `--read-only`, enforced even with `--disable-filter`.
    pub read_only: bool,
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
                Some(dir) => serve_static(dir, &rel, req.uri().path()).await,
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
                let verdict = match &self.filter {
                    Some(f) => f.check(method, &path, host),
                    None if self.read_only && !READ_ONLY_METHODS.contains(&method) => {
                        Verdict::ReadOnly
                    }
                    None => Verdict::Accept,
                };
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
        strip_hop_by_hop(&mut headers, upgrade);
        headers.remove(header::HOST);
        if let Some(addr) = peer.0 {
            append_forwarded_for(&mut headers, addr);
        }
        let mut sent_token = None;
        if !headers.contains_key(header::AUTHORIZATION) {
            match self.upstream.authorization() {
                Ok(Some(h)) => {
                    headers.insert(header::AUTHORIZATION, h.clone());
                    sent_token = Some(h);
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!("cannot authenticate to the API server: {e}");
                    return status(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "ServiceUnavailable",
                        format!("the proxy has no credentials for the API server: {e}"),
                    );
                }
            }
        }
        let method = parts.method;
        // A body-less idempotent request can be replayed once: after a 401 with a rotated token,
        // or when a pooled connection turns out to be dead (Go's Transport retries those too).
        let replay = (!upgrade
            && matches!(method, Method::GET | Method::HEAD | Method::OPTIONS)
            && body.is_end_stream())
        .then(|| (uri.clone(), headers.clone()));
        let again = |headers: HeaderMap, uri: http::Uri| {
            let mut r: Request<UpstreamBody> = Request::new(Either::Right(Empty::new()));
            *r.method_mut() = method.clone();
            *r.uri_mut() = uri;
            *r.version_mut() = Version::HTTP_11;
            *r.headers_mut() = headers;
            r
        };
        let mut up = Request::new(Either::Left(body));
        *up.method_mut() = method.clone();
        *up.uri_mut() = uri;
        *up.version_mut() = Version::HTTP_11;
        *up.headers_mut() = headers;
        let result = if upgrade {
            self.upstream.send_upgrade(up).await
        } else {
            self.upstream.send(up).await
        };
        let mut resp = match (result, &replay) {
            (Ok(r), _) => r,
            (Err(e), Some((uri, headers))) if !e.is_connect() => {
                tracing::debug!("retrying once on a new connection: {}", error_chain(&e));
                match self
                    .upstream
                    .send(again(headers.clone(), uri.clone()))
                    .await
                {
                    Ok(r) => r,
                    Err(e) => return self.bad_gateway(&e, log),
                }
            }
            (Err(e), _) => return self.bad_gateway(&e, log),
        };
        if resp.status() == StatusCode::UNAUTHORIZED
            && let Some(sent) = &sent_token
            && let Some((uri, headers)) = replay
            && let Some(new) = self.upstream.refresh_after_401(sent)
        {
            tracing::info!(
                "the API server refused the token (401); retrying once with the re-read token"
            );
            let mut headers = headers;
            headers.insert(header::AUTHORIZATION, new);
            resp = match self.upstream.send(again(headers, uri)).await {
                Ok(r) => r,
                Err(e) => return self.bad_gateway(&e, log),
            };
        }
        if upgrade && resp.status() == StatusCode::SWITCHING_PROTOCOLS {
            let upstream_upgrade = hyper::upgrade::on(&mut resp);
            if let Some(client_upgrade) = client_upgrade {
                tokio::spawn(async move {
                    match tokio::try_join!(client_upgrade, upstream_upgrade) {
                        Ok((client, upstream)) => {
                            let mut client = TokioIo::new(client);
                            let mut upstream = TokioIo::new(upstream);
                            match tokio::io::copy_bidirectional(&mut client, &mut upstream).await {
                                Ok((to_server, to_client)) => tracing::debug!(
                                    to_server,
                                    to_client,
                                    "upgraded connection closed"
                                ),
                                Err(e) => tracing::debug!("upgraded connection ended: {e}"),
                            }
                        }
                        Err(e) => tracing::warn!("upgrade failed: {e}"),
                    }
                });
            }
            let (parts, _) = resp.into_parts();
            return Response::from_parts(parts, ProxyBody::empty());
        }
        let (mut parts, body) = resp.into_parts();
        strip_hop_by_hop(&mut parts.headers, false);
        Response::from_parts(parts, ProxyBody::stream(body))
    }

    fn bad_gateway(
        &self,
        e: &hyper_util::client::legacy::Error,
        log: &mut Option<Box<AccessLog>>,
    ) -> Response<ProxyBody> {
        let why = error_chain(e);
        tracing::warn!(upstream = %self.upstream.origin, "error reaching the API server: {why}");
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

/// Whether a request asks to switch protocols (`Connection: upgrade` and an `Upgrade` header):
/// exec/attach/port-forward over SPDY/3.1 or WebSocket.
pub fn is_upgrade(headers: &HeaderMap) -> bool {
    headers.contains_key(header::UPGRADE)
        && headers
            .get_all(header::CONNECTION)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case("upgrade"))
}

/// Removes hop-by-hop headers (Go `httputil` `hopHeaders` and the names listed in
/// `Connection`); with `keep_upgrade`, `Connection: Upgrade` and `Upgrade` stay.
pub fn strip_hop_by_hop(headers: &mut HeaderMap, keep_upgrade: bool) {
    let listed: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|t| HeaderName::from_bytes(t.trim().as_bytes()).ok())
        .collect();
    for name in listed {
        if keep_upgrade && name == header::UPGRADE {
            continue;
        }
        headers.remove(name);
    }
    for name in [
        header::TE,
        header::TRAILER,
        header::TRANSFER_ENCODING,
        header::PROXY_AUTHENTICATE,
        header::PROXY_AUTHORIZATION,
    ] {
        headers.remove(name);
    }
    headers.remove("keep-alive");
    headers.remove("proxy-connection");
    if keep_upgrade {
        headers.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    } else {
        headers.remove(header::CONNECTION);
        headers.remove(header::UPGRADE);
    }
}

fn append_forwarded_for(headers: &mut HeaderMap, addr: SocketAddr) {
    let ip = addr.ip().to_string();
    let value = match headers.get("x-forwarded-for").and_then(|v| v.to_str().ok()) {
        Some(prior) => format!("{prior}, {ip}"),
        None => ip,
    };
    if let Ok(v) = HeaderValue::from_str(&value) {
        headers.insert("x-forwarded-for", v);
    }
}

/// `403` with kubectl's body (Go `http.Error(rw, "Forbidden", 403)`).
pub fn forbidden() -> Response<ProxyBody> {
    text(StatusCode::FORBIDDEN, "Forbidden\n")
}

/// A `text/plain` response the way Go's `http.Error` writes it.
pub fn text(code: StatusCode, body: &'static str) -> Response<ProxyBody> {
    let mut r = Response::new(ProxyBody::full(Bytes::from_static(body.as_bytes())));
    *r.status_mut() = code;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r.headers_mut().insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    r
}

/// A Kubernetes `Status` failure response (`application/json`).
pub fn status(code: StatusCode, reason: &'static str, message: String) -> Response<ProxyBody> {
    let body = Status::new(code.as_u16(), reason, message, None).to_json();
    let mut r = Response::new(ProxyBody::full(Bytes::from(body)));
    *r.status_mut() = code;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

/// `--www`: a file below `dir` (Go `http.FileServer(http.Dir(dir))`, simplified: `index.html`
/// for directories, else a listing; no range requests). `rel` is clean (no `..`).
async fn serve_static(dir: &Path, rel: &str, request_path: &str) -> Response<ProxyBody> {
    let path = dir.join(rel);
    let meta = match tokio::fs::metadata(&path).await {
        Ok(m) => m,
        Err(_) => return text(StatusCode::NOT_FOUND, "404 page not found\n"),
    };
    let (path, meta) = if meta.is_dir() {
        if !request_path.ends_with('/') {
            let mut r = text(StatusCode::MOVED_PERMANENTLY, "Moved Permanently.\n");
            if let Ok(v) = HeaderValue::from_str(&format!("{request_path}/")) {
                r.headers_mut().insert(header::LOCATION, v);
            }
            return r;
        }
        let index = path.join("index.html");
        match tokio::fs::metadata(&index).await {
            Ok(m) if m.is_file() => (index, m),
            _ => return listing(&path).await,
        }
    } else {
        (path, meta)
    };
    if !meta.is_file() {
        return text(StatusCode::NOT_FOUND, "404 page not found\n");
    }
    match tokio::fs::read(&path).await {
        Ok(bytes) => {
            let mut r = Response::new(ProxyBody::full(Bytes::from(bytes)));
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(content_type(&path)),
            );
            r
        }
        Err(_) => text(StatusCode::FORBIDDEN, "403 Forbidden\n"),
    }
}

async fn listing(dir: &Path) -> Response<ProxyBody> {
    let mut names = Vec::new();
    if let Ok(mut rd) = tokio::fs::read_dir(dir).await {
        while let Ok(Some(e)) = rd.next_entry().await {
            let mut n = e.file_name().to_string_lossy().into_owned();
            if e.file_type().await.map(|t| t.is_dir()).unwrap_or(false) {
                n.push('/');
            }
            names.push(n);
        }
    }
    names.sort();
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&#34;")
    };
    let mut html = String::from("<pre>\n");
    for n in names {
        html.push_str(&format!("<a href=\"{}\">{}</a>\n", esc(&n), esc(&n)));
    }
    html.push_str("</pre>\n");
    let mut r = Response::new(ProxyBody::full(Bytes::from(html)));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    r
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" | "htm" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "txt" => "text/plain; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "wasm" => "application/wasm",
        _ => "application/octet-stream",
    }
}

// ---------------------------------------------------------------------------------------------
// Response body and access log

enum Kind {
    Full(Option<Bytes>),
    Stream(Incoming),
}

/// A response body: a small fixed body, or the API server's body forwarded frame by frame
/// (each frame is handed to hyper as it arrives, so it is written and flushed at once).
pub struct ProxyBody {
    kind: Kind,
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

    /// The API server's body, streamed.
    pub fn stream(body: Incoming) -> ProxyBody {
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
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Full(Some(b)) => SizeHint::with_exact(b.len() as u64),
            Kind::Full(None) => SizeHint::with_exact(0),
            Kind::Stream(s) => s.size_hint(),
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
    note: Option<String>,
}

impl AccessLog {
    /// `Some` only when `access=info` is enabled, so a quiet proxy pays nothing.
    fn start(req: &Request<Incoming>, peer: Peer) -> Option<Box<AccessLog>> {
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

    fn attach(
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
        tracing::info!(
            target: ACCESS_TARGET,
            method = %self.method,
            path = %self.path,
            status = self.status,
            bytes = self.bytes,
            duration_ms = self.start.elapsed().as_secs_f64() * 1000.0,
            client = %client,
            note = self.note.as_deref().unwrap_or(""),
            "request"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hop_by_hop_headers() {
        let mut h = HeaderMap::new();
        h.insert(
            header::CONNECTION,
            HeaderValue::from_static("keep-alive, X-Custom"),
        );
        h.insert("x-custom", HeaderValue::from_static("1"));
        h.insert("keep-alive", HeaderValue::from_static("timeout=5"));
        h.insert(
            header::TRANSFER_ENCODING,
            HeaderValue::from_static("chunked"),
        );
        h.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
        h.insert(header::UPGRADE, HeaderValue::from_static("SPDY/3.1"));
        assert!(!is_upgrade(&h));
        strip_hop_by_hop(&mut h, false);
        assert_eq!(h.len(), 1, "{h:?}");
        assert!(h.contains_key(header::ACCEPT));

        let mut h = HeaderMap::new();
        h.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
        h.insert(header::UPGRADE, HeaderValue::from_static("SPDY/3.1"));
        h.insert(
            "x-stream-protocol-version",
            HeaderValue::from_static("v4.channel.k8s.io"),
        );
        assert!(is_upgrade(&h));
        strip_hop_by_hop(&mut h, true);
        assert_eq!(h.get(header::UPGRADE).unwrap(), "SPDY/3.1");
        assert_eq!(h.get(header::CONNECTION).unwrap(), "Upgrade");
        assert!(h.contains_key("x-stream-protocol-version"));
    }

    #[test]
    fn error_bodies() {
        let r = forbidden();
        assert_eq!(r.status(), 403);
        assert_eq!(
            r.headers()[header::CONTENT_TYPE],
            "text/plain; charset=utf-8"
        );
        let r = status(StatusCode::BAD_GATEWAY, "InternalError", "x".into());
        let Kind::Full(Some(b)) = &r.body().kind else {
            panic!()
        };
        let v: serde_json::Value = serde_json::from_slice(b).unwrap();
        assert_eq!(v["kind"], "Status");
        assert_eq!(v["code"], 502);
        assert_eq!(v["status"], "Failure");
    }

    #[test]
    fn forwarded_for_appends() {
        let mut h = HeaderMap::new();
        append_forwarded_for(&mut h, "127.0.0.1:5".parse().unwrap());
        append_forwarded_for(&mut h, "[::1]:5".parse().unwrap());
        assert_eq!(h["x-forwarded-for"], "127.0.0.1, ::1");
    }
}
