//! Request and response headers across the proxy, as Go's `net/http/httputil` `ReverseProxy`
//! treats them: hop-by-hop headers dropped both ways (kept for an upgrade, as apimachinery's
//! `UpgradeAwareHandler` does), the client's `Host` replaced by the API server's, and the client
//! address appended to `X-Forwarded-For`.

use std::net::SocketAddr;

use http::header::{self, HeaderMap, HeaderName, HeaderValue};

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
