//! The proxy's own answers: kubectl's plain-text ones (Go `http.Error`) and Kubernetes `Status`
//! bodies for API server errors.

use bytes::Bytes;
use http::header::{self, HeaderValue};
use http::{Response, StatusCode};
use pod_introspect_kube::status::Status;

use super::body::ProxyBody;

/// `403` with kubectl's body (Go `http.Error(rw, "Forbidden", 403)`).
pub fn forbidden() -> Response<ProxyBody> {
    text(StatusCode::FORBIDDEN, "Forbidden\n")
}

/// Go's answer to a request line or header it cannot parse: `net/http` `readRequest` fails
/// (more than one `Host` header: `too many Host headers`; a target `url.ParseRequestURI` refuses:
/// an invalid `%` escape, a path not starting with `/`) before any handler, and `conn.serve`
/// writes `400 Bad Request` as status and body with `Connection: close` (the reason stays in the
/// server; this is byte for byte what kubectl 1.32, built with go1.23.8, sends).
pub fn unparsable_request() -> Response<ProxyBody> {
    let mut r = Response::new(ProxyBody::full(Bytes::from_static(b"400 Bad Request")));
    *r.status_mut() = StatusCode::BAD_REQUEST;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    r
}

/// Go's answers to the asterisk-form target `*` (RFC 9112 §3.2.4): `serverHandler.ServeHTTP`
/// answers `OPTIONS *` itself with `200` and an empty body (`globalOptionsHandler`), and
/// `ServeMux.ServeHTTP` answers any other method on `*` with an empty `400` and `Connection:
/// close` (net/http `server.go`).
pub fn asterisk(method: &http::Method) -> Response<ProxyBody> {
    let mut r = Response::new(ProxyBody::full(Bytes::new()));
    r.headers_mut()
        .insert(header::CONTENT_LENGTH, HeaderValue::from_static("0"));
    if method != http::Method::OPTIONS {
        *r.status_mut() = StatusCode::BAD_REQUEST;
        r.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    r
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

#[cfg(test)]
mod tests {
    use super::super::body::Kind;
    use super::*;

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
}
