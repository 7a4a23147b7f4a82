//! Request and response headers across the proxy, as Go's `net/http/httputil` `ReverseProxy`
//! treats them: hop-by-hop headers dropped both ways (kept for an upgrade, as apimachinery's
//! `UpgradeAwareHandler` does), the client's `Host` replaced by the API server's, and the client
//! address appended to `X-Forwarded-For`.

use std::net::SocketAddr;

use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Method, Uri};

/// The largest header list the proxy forwards, in bytes counted as HTTP/2 counts
/// `SETTINGS_MAX_HEADER_LIST_SIZE` (RFC 9113 §6.5.2: name length + value length + 32 per field,
/// pseudo-headers included). A larger request is answered `431` locally ([`super::Proxy`]):
/// Go's HTTP/2 transport refuses to send a list larger than the peer's limit, but hyper's sends
/// it, and an API server then refuses it (hyper-based servers reset the whole connection,
/// cutting every other client's watches). kube-apiserver accepts 1 MiB (Go
/// `http.DefaultMaxHeaderBytes`, x/net/http2 `Server.maxHeaderListSize`) and so does
/// `dev-cluster`; 64 KiB leaves room under every common server limit while far exceeding what
/// any Kubernetes client sends (a bearer token is about 1 KiB).
pub const MAX_HEADER_LIST_BYTES: usize = 64 * 1024;

/// The size of the header list `method uri headers` makes on HTTP/2, as
/// [`MAX_HEADER_LIST_BYTES`] counts it (`uri` absolute: `:scheme`, `:authority` and `:path`
/// come from it).
pub fn header_list_size(method: &Method, uri: &Uri, headers: &HeaderMap) -> usize {
    const PER_FIELD: usize = 32;
    let pseudo = [
        (":method", method.as_str().len()),
        (":scheme", uri.scheme_str().map_or(0, str::len)),
        (
            ":authority",
            uri.authority().map_or(0, |a| a.as_str().len()),
        ),
        (
            ":path",
            uri.path_and_query().map_or(1, |p| p.as_str().len()),
        ),
    ];
    let pseudo: usize = pseudo.iter().map(|(n, v)| n.len() + v + PER_FIELD).sum();
    pseudo
        + headers
            .iter()
            .map(|(n, v)| n.as_str().len() + v.len() + PER_FIELD)
            .sum::<usize>()
}

/// Prepares a client's request headers for the API server: [`strip_hop_by_hop`] (keeping the
/// upgrade headers of an upgrade request), no `Host` (the client sets the API server's), and
/// `client` appended to `X-Forwarded-For` (none on a unix socket).
pub fn prepare_request(headers: &mut HeaderMap, upgrade: bool, client: Option<SocketAddr>) {
    strip_hop_by_hop(headers, upgrade);
    headers.remove(header::HOST);
    if let Some(addr) = client {
        append_forwarded_for(headers, addr);
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

/// Appends the client IP to `X-Forwarded-For` (Go `ReverseProxy`: `prior, ip`).
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
    fn header_list_size_counts_like_http2() {
        let uri: Uri = "https://10.0.0.1:443/version?x=1".parse().unwrap();
        let mut h = HeaderMap::new();
        // :method GET (7+3+32) :scheme https (7+5+32) :authority (10+12+32) :path (5+12+32)
        assert_eq!(header_list_size(&Method::GET, &uri, &h), 42 + 44 + 54 + 49);
        h.insert(header::ACCEPT, HeaderValue::from_static("*/*"));
        assert_eq!(
            header_list_size(&Method::GET, &uri, &h),
            189 + "accept".len() + 3 + 32
        );
    }

    #[test]
    fn forwarded_for_appends() {
        let mut h = HeaderMap::new();
        append_forwarded_for(&mut h, "127.0.0.1:5".parse().unwrap());
        append_forwarded_for(&mut h, "[::1]:5".parse().unwrap());
        assert_eq!(h["x-forwarded-for"], "127.0.0.1, ::1");
    }

    #[test]
    fn requests_lose_host_and_gain_forwarded_for() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static("localhost:8001"));
        h.insert(header::CONNECTION, HeaderValue::from_static("close"));
        prepare_request(&mut h, false, Some("10.0.0.7:5".parse().unwrap()));
        assert!(!h.contains_key(header::HOST));
        assert!(!h.contains_key(header::CONNECTION));
        assert_eq!(h["x-forwarded-for"], "10.0.0.7");
        let mut h = HeaderMap::new();
        prepare_request(&mut h, false, None);
        assert!(h.is_empty());
    }
}
