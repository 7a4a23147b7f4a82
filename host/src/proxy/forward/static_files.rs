//! `--www DIR`: static files under `--www-prefix` (Go `http.FileServer(http.Dir(dir))`,
//! simplified).

use std::path::Path;

use bytes::Bytes;
use http::header::{self, HeaderValue};
use http::{Response, StatusCode};

use super::body::ProxyBody;
use super::responses::text;

/// `--www`: a file below `dir` (Go `http.FileServer(http.Dir(dir))`, simplified: `index.html`
/// for directories, else a listing; no range requests). `rel` is clean (no `..`).
pub(super) async fn serve_static(dir: &Path, rel: &str, request_path: &str) -> Response<ProxyBody> {
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
