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

/// Go's answer to a request with more than one `Host` header: `net/http` `readRequest` refuses
/// it (`too many Host headers`) before any handler, and `conn.serve` writes `400 Bad Request` as
/// status and body with `Connection: close` (the reason stays in the server; this is what
/// kubectl 1.32, built with go1.23.8, sends).
pub fn too_many_hosts() -> Response<ProxyBody> {
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
