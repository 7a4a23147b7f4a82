//! The outbound allow-list: which `scheme://host:port` origins a guest may reach, and how a
//! request's URI is reduced to one for comparison.
//!
//! Origins follow the shape of Spin's `allowed_outbound_hosts` (`http://127.0.0.1:8001`,
//! `https://10.96.0.1:443`) without wildcards: the Kubernetes API server and a `kubectl proxy`
//! ambassador are exactly one origin each. The in-cluster API server URL is built like client-go's
//! `rest.InClusterConfig()` (`https://` + `net.JoinHostPort(host, port)`), so IPv6 hosts arrive
//! in brackets.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use http::Uri;

/// The scheme of an allowed origin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// Plain HTTP/1.1 over TCP (a `kubectl proxy` ambassador on loopback).
    Http,
    /// TLS (rustls), HTTP/2 when the server selects `h2` by ALPN, else HTTP/1.1.
    Https,
}

impl Scheme {
    /// The port used when a URL names none: 80 for `http`, 443 for `https`.
    pub fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }

    /// `"http"` or `"https"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }

    /// Parses a URI scheme, case-insensitively; `None` for anything but http and https.
    fn parse(s: &str) -> Option<Scheme> {
        if s.eq_ignore_ascii_case("http") {
            Some(Scheme::Http)
        } else if s.eq_ignore_ascii_case("https") {
            Some(Scheme::Https)
        } else {
            None
        }
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One origin a guest may send requests to: scheme, host and port, compared exactly.
///
/// `host` is normalised: ASCII-lowercased, one trailing `.` removed, IPv6 literals without
/// brackets and in canonical text form (`fd00::1`), so `https://[FD00:0::1]` and
/// `https://[fd00::1]:443` are the same origin. Parse one with [`str::parse`] from a URL such as
/// `https://10.96.0.1:443`, `https://[fd00::1]:443`, `http://127.0.0.1:8001` or
/// `https://kubernetes.default.svc` (port defaulted from the scheme). A path other than `/`, a
/// query, a fragment, user info, port 0 or another scheme are refused with
/// [`ParseOriginError`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AllowedOrigin {
    /// `http` or `https`.
    pub scheme: Scheme,
    /// Host name or IP literal, normalised as described above.
    pub host: String,
    /// TCP port, 1-65535.
    pub port: u16,
}

/// Why an allow-list entry could not be parsed; its text names the entry and the expected shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid outbound origin {input:?}: {reason} (expected scheme://host[:port], e.g. \
     https://10.96.0.1:443, https://[fd00::1]:443 or http://127.0.0.1:8001)"
)]
pub struct ParseOriginError {
    input: String,
    reason: &'static str,
}

impl AllowedOrigin {
    /// An origin from its parts; `host` is normalised (brackets stripped, lowercased).
    pub fn new(scheme: Scheme, host: &str, port: u16) -> AllowedOrigin {
        AllowedOrigin {
            scheme,
            host: normalize_host(host),
            port,
        }
    }

    /// Whether a request to `target` is allowed by this origin.
    pub(crate) fn matches(&self, target: &Target) -> bool {
        self.scheme == target.scheme && self.port == target.port && self.host == target.host
    }
}

impl FromStr for AllowedOrigin {
    type Err = ParseOriginError;

    fn from_str(input: &str) -> Result<AllowedOrigin, ParseOriginError> {
        let err = |reason| ParseOriginError {
            input: input.to_string(),
            reason,
        };
        let text = input.trim();
        if !text.contains("://") {
            return Err(err("the scheme is missing"));
        }
        let uri: Uri = text.parse().map_err(|_| err("not a valid URL"))?;
        let scheme = uri
            .scheme_str()
            .and_then(Scheme::parse)
            .ok_or_else(|| err("the scheme must be http or https"))?;
        let authority = uri.authority().ok_or_else(|| err("the host is missing"))?;
        if authority.as_str().contains('@') {
            return Err(err("user info is not allowed"));
        }
        if let Some(pq) = uri.path_and_query() {
            if pq.query().is_some() {
                return Err(err("a query is not allowed"));
            }
            if !matches!(pq.path(), "" | "/") {
                return Err(err("a path is not allowed"));
            }
        }
        let host = authority.host();
        if host.is_empty() || host == "[]" {
            return Err(err("the host is missing"));
        }
        if host.starts_with('[') && parse_ip(host).is_none() {
            return Err(err("the bracketed host is not an IPv6 address"));
        }
        let port = match authority.port() {
            None if authority.as_str().ends_with(':') => return Err(err("the port is empty")),
            None => scheme.default_port(),
            Some(p) => p.as_u16(),
        };
        if port == 0 {
            return Err(err("port 0 is not allowed"));
        }
        Ok(AllowedOrigin::new(scheme, host, port))
    }
}

impl fmt::Display for AllowedOrigin {
    /// `scheme://host:port`, IPv6 hosts in brackets.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}://{}:{}",
            self.scheme,
            HostPort(&self.host, None),
            self.port
        )
    }
}

/// Displays a host (bracketed when IPv6), optionally followed by `:port`.
pub(crate) struct HostPort<'a>(pub &'a str, pub Option<u16>);

impl fmt::Display for HostPort<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.contains(':') {
            write!(f, "[{}]", self.0)?;
        } else {
            f.write_str(self.0)?;
        }
        if let Some(port) = self.1 {
            write!(f, ":{port}")?;
        }
        Ok(())
    }
}

/// The origin a request is addressed to, normalised like [`AllowedOrigin`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    pub scheme: Scheme,
    /// Normalised host: lowercase, no brackets, canonical IP text.
    pub host: String,
    pub port: u16,
    /// The host as an IP address, when it is an IP literal.
    pub ip: Option<IpAddr>,
}

impl Target {
    /// The origin of an absolute request URI; `None` when the scheme is not http(s) or the URI
    /// has no host.
    pub fn of(uri: &Uri) -> Option<Target> {
        let scheme = Scheme::parse(uri.scheme_str()?)?;
        let authority = uri.authority()?;
        let raw = authority.host();
        if raw.is_empty() || authority.as_str().contains('@') {
            return None;
        }
        let port = authority
            .port_u16()
            .unwrap_or_else(|| scheme.default_port());
        Some(Target {
            scheme,
            host: normalize_host(raw),
            port,
            ip: parse_ip(raw),
        })
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}://{}",
            self.scheme,
            HostPort(&self.host, Some(self.port))
        )
    }
}

/// An IP literal, with or without IPv6 brackets.
fn parse_ip(host: &str) -> Option<IpAddr> {
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    bare.parse().ok()
}

/// Lowercase, no IPv6 brackets, canonical IP text, no trailing dot on names.
fn normalize_host(host: &str) -> String {
    if let Some(ip) = parse_ip(host) {
        return ip.to_string();
    }
    let host = host.strip_suffix('.').unwrap_or(host);
    host.to_ascii_lowercase()
}

/// Whether a request is a Kubernetes watch: a `watch` query parameter of `true` or `1`
/// (any case), as client-go sends for `Watch` calls (`?watch=true`), or a path of the
/// deprecated `/api/v1/watch/...` / `/apis/{group}/{version}/watch/...` form.
///
/// The API server decodes `watch` as a boolean query parameter
/// (apimachinery `ListOptions.Watch`), so `watch=1` is a watch too.
pub(crate) fn is_watch(uri: &Uri) -> bool {
    let query_watch = uri.query().is_some_and(|q| {
        q.split('&').any(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            k == "watch" && (v.eq_ignore_ascii_case("true") || v == "1")
        })
    });
    if query_watch {
        return true;
    }
    let segments: Vec<&str> = uri.path().split('/').filter(|s| !s.is_empty()).collect();
    matches!(
        segments.as_slice(),
        ["api", _, "watch", ..] | ["apis", _, _, "watch", ..]
    )
}

/// The allow-list as text for log messages: `https://10.96.0.1:443, http://127.0.0.1:8001`, or
/// `none` when it is empty.
pub(crate) fn describe(allowed: &[AllowedOrigin]) -> String {
    if allowed.is_empty() {
        return "none".to_string();
    }
    allowed
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin(s: &str) -> AllowedOrigin {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn target(s: &str) -> Target {
        Target::of(&s.parse::<Uri>().unwrap()).unwrap()
    }

    #[test]
    fn parses_origins_with_default_ports() {
        assert_eq!(
            origin("https://10.96.0.1:443"),
            AllowedOrigin {
                scheme: Scheme::Https,
                host: "10.96.0.1".into(),
                port: 443
            }
        );
        assert_eq!(origin("https://kubernetes.default.svc").port, 443);
        assert_eq!(origin("http://127.0.0.1").port, 80);
        assert_eq!(origin("http://127.0.0.1:8001/").port, 8001);
        assert_eq!(
            origin("HTTPS://Kubernetes.Default.SVC.").host,
            "kubernetes.default.svc"
        );
        assert_eq!(origin(" https://h:1 ").to_string(), "https://h:1");
    }

    #[test]
    fn parses_ipv6_in_brackets() {
        let o = origin("https://[fd00::1]:443");
        assert_eq!(o.host, "fd00::1");
        assert_eq!(o.port, 443);
        assert_eq!(o.to_string(), "https://[fd00::1]:443");
        assert_eq!(origin("https://[FD00:0:0::1]").host, "fd00::1");
        assert_eq!(origin("http://[::1]:8001").to_string(), "http://[::1]:8001");
    }

    #[test]
    fn refuses_bad_origins() {
        for bad in [
            "",
            "10.96.0.1:443",
            "ftp://h:21",
            "https://",
            "https://h:0",
            "https://h:",
            "https://h/api",
            "https://h/?x=1",
            "https://user@h:443",
            "https://fd00::1:443",
            "https://[zz]:443",
        ] {
            let e = bad.parse::<AllowedOrigin>();
            assert!(e.is_err(), "{bad:?} parsed as {e:?}");
        }
        let text = "ftp://h".parse::<AllowedOrigin>().unwrap_err().to_string();
        assert!(
            text.contains("ftp://h") && text.contains("http or https"),
            "{text}"
        );
    }

    #[test]
    fn matches_scheme_host_port() {
        let o = origin("https://10.96.0.1:443");
        assert!(o.matches(&target("https://10.96.0.1/api")));
        assert!(o.matches(&target("https://10.96.0.1:443/api?watch=1")));
        assert!(!o.matches(&target("http://10.96.0.1:443/")));
        assert!(!o.matches(&target("https://10.96.0.1:6443/")));
        assert!(!o.matches(&target("https://10.96.0.2/")));

        let o = origin("https://Kubernetes.Default.Svc");
        assert!(o.matches(&target("https://KUBERNETES.default.svc/version")));
        assert!(o.matches(&target("https://kubernetes.default.svc.:443/")));
        assert!(!o.matches(&target("https://kubernetes.default.svc.cluster.local/")));

        let o = origin("https://[fd00::1]:443");
        assert!(o.matches(&target("https://[fd00:0::1]/api")));
        assert!(o.matches(&target("https://[FD00::1]:443/api")));
        assert!(!o.matches(&target("https://[fd00::2]/api")));

        let o = origin("http://127.0.0.1:8001");
        assert!(o.matches(&target("http://127.0.0.1:8001/api")));
        assert!(!o.matches(&target("http://localhost:8001/api")));
        assert!(!o.matches(&target("http://127.0.0.1/api")));
    }

    #[test]
    fn target_keeps_ip_and_defaults_port() {
        let t = target("https://[::1]/x");
        assert_eq!(t.host, "::1");
        assert_eq!(t.port, 443);
        assert_eq!(t.ip, Some("::1".parse().unwrap()));
        assert_eq!(t.to_string(), "https://[::1]:443");
        assert_eq!(target("http://h/").port, 80);
        assert_eq!(target("http://h/").ip, None);
        assert!(Target::of(&"/relative".parse::<Uri>().unwrap()).is_none());
    }

    #[test]
    fn detects_watch_requests() {
        let w = |s: &str| is_watch(&s.parse::<Uri>().unwrap());
        assert!(w("https://h/api/v1/namespaces/ns/pods?watch=true"));
        assert!(w(
            "https://h/api/v1/pods?resourceVersion=5&watch=1&timeoutSeconds=30"
        ));
        assert!(w("https://h/api/v1/pods?watch=True"));
        assert!(w("https://h/api/v1/watch/namespaces/ns/pods"));
        assert!(w("https://h/apis/apps/v1/watch/deployments"));
        assert!(!w("https://h/api/v1/pods"));
        assert!(!w("https://h/api/v1/pods?watch=false"));
        assert!(!w("https://h/api/v1/pods?watch=0"));
        assert!(!w("https://h/api/v1/pods?watch"));
        assert!(!w("https://h/api/v1/pods?allowWatchBookmarks=true"));
        assert!(!w("https://h/api/v1/pods?nowatch=true"));
        assert!(!w("https://h/api/v1/namespaces/watch/pods"));
    }

    #[test]
    fn describes_allow_list() {
        assert_eq!(describe(&[]), "none");
        assert_eq!(
            describe(&[
                origin("https://[fd00::1]:443"),
                origin("http://127.0.0.1:8001")
            ]),
            "https://[fd00::1]:443, http://127.0.0.1:8001"
        );
    }
}
