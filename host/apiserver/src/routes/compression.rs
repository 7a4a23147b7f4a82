//! Response compression as kube-apiserver negotiates it.
//!
//! Upstream: `staging/src/k8s.io/apiserver/pkg/endpoints/handlers/responsewriters/writers.go`
//! (`negotiateContentEncoding`, `deferredResponseWriter`; feature `APIResponseCompression`, on by
//! default since 1.16). A response is gzipped when the request's `Accept-Encoding` holds the token
//! `gzip` (split on `,`, trimmed, no q-values: `gzip;q=1` is not the token) and the serialized
//! object is over [`GZIP_THRESHOLD_BYTES`]; it then carries `Content-Encoding: gzip` and
//! `Vary: Accept-Encoding`, compressed at level [`GZIP_LEVEL`]. Watch streams are never
//! compressed (their bodies have no known size here, as in the API server their writes go
//! through the watch server, not `SerializeObject`).

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Response, header};
use http_body::Body as _;
use http_body_util::BodyExt as _;
use std::io::Write as _;

use super::{Body, full};

/// `defaultGzipThresholdBytes`: responses of this many bytes or fewer are sent as they are.
pub const GZIP_THRESHOLD_BYTES: u64 = 128 * 1024;

/// `defaultGzipContentEncodingLevel` (kubernetes#112296: level 1 costs the least CPU for a
/// ratio within 1.1x–1.3x of the higher levels).
pub const GZIP_LEVEL: u32 = 1;

/// Whether the request asks for gzip (`negotiateContentEncoding`).
pub fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == "gzip"))
}

/// Gzips `resp` when it is a whole body over [`GZIP_THRESHOLD_BYTES`] not already encoded;
/// anything else (streams, small bodies, `HEAD`) is returned unchanged.
pub async fn compress(method: &Method, resp: Response<Body>) -> Response<Body> {
    let large = resp
        .body()
        .size_hint()
        .exact()
        .is_some_and(|n| n > GZIP_THRESHOLD_BYTES);
    if method == Method::HEAD || !large || resp.headers().contains_key(header::CONTENT_ENCODING) {
        return resp;
    }
    let (mut parts, body) = resp.into_parts();
    let plain: Bytes = match body.collect().await {
        Ok(c) => c.to_bytes(),
        Err(never) => match never {},
    };
    let mut gz = flate2::write::GzEncoder::new(
        Vec::with_capacity(plain.len() / 4),
        flate2::Compression::new(GZIP_LEVEL),
    );
    let Ok(encoded) = gz.write_all(&plain).and_then(|()| gz.finish()) else {
        return Response::from_parts(parts, full(plain));
    };
    parts
        .headers
        .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    parts
        .headers
        .append(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, full(encoded))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read as _;

    fn headers(accept_encoding: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_str(accept_encoding).unwrap(),
        );
        h
    }

    #[test]
    fn only_the_bare_gzip_token_is_accepted() {
        assert!(accepts_gzip(&headers("gzip")));
        assert!(accepts_gzip(&headers("deflate, gzip")));
        assert!(accepts_gzip(&headers(" br ,gzip ")));
        assert!(!accepts_gzip(&headers("gzip;q=1.0")));
        assert!(!accepts_gzip(&headers("x-gzip")));
        assert!(!accepts_gzip(&headers("identity")));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }

    async fn body_of(resp: Response<Body>) -> Vec<u8> {
        match resp.into_body().collect().await {
            Ok(c) => c.to_bytes().to_vec(),
            Err(never) => match never {},
        }
    }

    #[tokio::test]
    async fn over_the_threshold_is_gzipped_and_at_it_is_not() {
        let at = vec![b'a'; GZIP_THRESHOLD_BYTES as usize];
        let resp = compress(&Method::GET, Response::new(full(at.clone()))).await;
        assert!(resp.headers().get(header::CONTENT_ENCODING).is_none());
        assert_eq!(body_of(resp).await, at);

        let over = vec![b'a'; GZIP_THRESHOLD_BYTES as usize + 1];
        let resp = compress(&Method::GET, Response::new(full(over.clone()))).await;
        assert_eq!(resp.headers()[header::CONTENT_ENCODING], "gzip");
        assert_eq!(resp.headers()[header::VARY], "Accept-Encoding");
        let gz = body_of(resp).await;
        assert!(gz.len() < 2048, "{} bytes", gz.len());
        let mut plain = Vec::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_end(&mut plain)
            .unwrap();
        assert_eq!(plain, over);

        let resp = compress(&Method::HEAD, Response::new(full(over))).await;
        assert!(resp.headers().get(header::CONTENT_ENCODING).is_none());
    }
}
