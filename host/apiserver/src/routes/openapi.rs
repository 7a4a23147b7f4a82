//! Serving the OpenAPI documents of [`crate::openapi`] as kube-openapi's handlers do
//! (`pkg/handler3/handler.go` for `/openapi/v3[/GV]`, `pkg/handler/handler.go` for
//! `/openapi/v2`): `ETag`, `304` on a matching `If-None-Match`, `Vary: Accept`, `406` for an
//! `Accept` without JSON, an immutable year-long cache for a URL with the document's `hash`,
//! and a `301` to the current URL for a stale one.

use http::{HeaderMap, HeaderValue, Response, StatusCode, header};

use super::{Body, full, text_404};
use crate::openapi::{self, Document};

fn serve(doc: &Document, headers: &HeaderMap, immutable: bool) -> Response<Body> {
    let if_none_match = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mut r = if doc.not_modified(if_none_match) {
        let mut r = Response::new(full(Vec::new()));
        *r.status_mut() = StatusCode::NOT_MODIFIED;
        r
    } else {
        let mut r = Response::new(full(doc.json().to_vec()));
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        r
    };
    let h = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&doc.etag()) {
        h.insert(header::ETAG, v);
    }
    h.insert(header::VARY, HeaderValue::from_static("Accept"));
    if immutable {
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, immutable"),
        );
        let expires = k8s_openapi::jiff::Timestamp::from_second(
            i64::try_from(crate::tokens::now_unix()).unwrap_or(0) + 365 * 24 * 3600,
        )
        .unwrap_or(k8s_openapi::jiff::Timestamp::UNIX_EPOCH)
        .strftime("%a, %d %b %Y %H:%M:%S GMT")
        .to_string();
        if let Ok(v) = HeaderValue::from_str(&expires) {
            h.insert(header::EXPIRES, v);
        }
    }
    r
}

fn not_acceptable() -> Response<Body> {
    let mut r = Response::new(full(Vec::new()));
    *r.status_mut() = StatusCode::NOT_ACCEPTABLE;
    r
}

/// Serves `path` (`/openapi/v2`, `/openapi/v3`, `/openapi/v3/GV`), `None` for other paths.
pub(super) fn handle(
    path: &str,
    query: Option<&str>,
    headers: &HeaderMap,
) -> Option<Response<Body>> {
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    if path == "/openapi/v2" {
        if accept.is_some_and(|a| a.contains(openapi::v2_protobuf::MEDIA_TYPE)) {
            let mut r = Response::new(full(openapi::v2_protobuf::document().to_vec()));
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                // kube-openapi labels it `application/octet-stream`: Go's mime parser refuses
                // the `@` of the requested type.
                HeaderValue::from_static("application/octet-stream"),
            );
            return Some(r);
        }
        return Some(if openapi::accepts_json(accept) {
            serve(openapi::v2(), headers, false)
        } else {
            not_acceptable()
        });
    }
    if path == "/openapi/v3" || path == "/openapi/v3/" {
        return Some(serve(openapi::v3_root(), headers, false));
    }
    let gv = path.strip_prefix("/openapi/v3/")?;
    let Some(doc) = openapi::v3_group_version(gv) else {
        return Some(text_404());
    };
    if !openapi::accepts_json(accept) {
        return Some(not_acceptable());
    }
    let hash = pod_introspect_kube::percent::parse_query(query.unwrap_or(""))
        .into_iter()
        .rev()
        .find(|(k, _)| k == "hash")
        .map(|(_, v)| v);
    Some(match hash {
        Some(h) if h != doc.hash() => {
            let mut r = Response::new(full(Vec::new()));
            *r.status_mut() = StatusCode::MOVED_PERMANENTLY;
            if let Ok(v) = HeaderValue::from_str(doc.server_relative_url()) {
                r.headers_mut().insert(header::LOCATION, v);
            }
            r
        }
        Some(_) => serve(doc, headers, true),
        None => serve(doc, headers, false),
    })
}
