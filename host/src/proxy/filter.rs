//! kubectl proxy's request filter: which requests may reach the API server.
//!
//! Upstream: kubectl `pkg/proxy/proxy_server.go` (`FilterServer`, `MakeRegexpArray`,
//! `matchesRegexp`, `extractHost`, `FilterServer.ServeHTTP`) and the flag defaults of
//! `pkg/cmd/proxy/proxy.go`. The rules, in kubectl's order:
//!
//! 1. a path matching any `--reject-paths` pattern is refused;
//! 2. a method matching any `--reject-methods` pattern is refused (`--read-only` adds: every
//!    method but `GET`, `HEAD` and `OPTIONS`, and every upgrade request whatever its method:
//!    exec, attach and port-forward tunnels open with a WebSocket `GET`);
//! 3. the request is accepted only if its path matches an `--accept-paths` pattern **and** its
//!    host matches an `--accept-hosts` pattern; otherwise it is refused.
//!
//! A refused request gets `403` with the body `Forbidden\n` (Go's `http.Error`). Each list is
//! comma-separated and each pattern unanchored (Go `regexp.MatchString`, so `^`/`$` must be
//! written out); an empty flag value is an empty list, which matches nothing (kubectl >= 1.20:
//! `--accept-hosts=''` refuses every request, `--reject-paths=''` refuses none). An empty item
//! inside a non-empty list (`a,,b`) is the empty pattern and matches everything, as in Go.
//!
//! The host is the `Host` header (HTTP/1.1) or the `:authority` (HTTP/2) with the port split off.
//! **Difference from kubectl:** kubectl splits with Go's `net.SplitHostPort`, which removes the
//! brackets of an IPv6 literal, so `Host: [::1]:8001` becomes `::1` and never matches its own
//! default `^\[::1\]$` (a known upstream bug: IPv6 clients of `kubectl proxy` get 403 unless they
//! omit the port). [`host_of`] keeps the brackets, so `[::1]` and `[::1]:8001` both match the
//! default, and the patterns keep meaning what they say.

use regex::Regex;
use std::fmt;

/// `--accept-hosts` default (kubectl `DefaultHostAcceptRE`): localhost by name, IPv4 and IPv6.
pub const DEFAULT_ACCEPT_HOSTS: &str = r"^localhost$,^127\.0\.0\.1$,^\[::1\]$";
/// `--accept-paths` default (kubectl `DefaultPathAcceptRE`): every path.
pub const DEFAULT_ACCEPT_PATHS: &str = "^.*";
/// `--reject-paths` default (kubectl `DefaultPathRejectRE`): `exec` and `attach` on pods.
pub const DEFAULT_REJECT_PATHS: &str = "^/api/.*/pods/.*/exec,^/api/.*/pods/.*/attach";
/// `--reject-methods` default (kubectl `DefaultMethodRejectRE`): only the empty method, i.e. none.
pub const DEFAULT_REJECT_METHODS: &str = "^$";
/// The methods `--read-only` lets through.
pub const READ_ONLY_METHODS: [&str; 3] = ["GET", "HEAD", "OPTIONS"];

/// A pattern of a filter flag that is not a valid regular expression.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "--{flag}: {pattern:?} is not a valid regular expression: {reason} (the value is a \
     comma-separated list of unanchored regular expressions, e.g. {example})"
)]
pub struct PatternError {
    /// The flag name without dashes, e.g. `accept-hosts`.
    pub flag: &'static str,
    /// The offending item of the list.
    pub pattern: String,
    /// The regex compiler's explanation.
    pub reason: String,
    example: &'static str,
}

/// One filter flag's list of regular expressions (kubectl `MakeRegexpArray`).
#[derive(Debug, Clone)]
pub struct PatternList {
    patterns: Vec<Regex>,
}

impl PatternList {
    /// Parses a flag value: split at every `,`, each item compiled as an unanchored regex. The
    /// empty string is the empty list (matches nothing). `flag` names the flag in errors.
    ///
    /// Errors: [`PatternError`] for the first item that does not compile. Go RE2 and the Rust
    /// `regex` crate share their syntax for everything kubectl's defaults and documentation use
    /// (anchors, classes, `.*`, escapes, alternation); neither has look-around or back-references.
    pub fn parse(flag: &'static str, value: &str) -> Result<PatternList, PatternError> {
        if value.is_empty() {
            return Ok(PatternList {
                patterns: Vec::new(),
            });
        }
        let example = match flag {
            "accept-hosts" => DEFAULT_ACCEPT_HOSTS,
            "reject-paths" => DEFAULT_REJECT_PATHS,
            "reject-methods" => "POST,PUT,PATCH",
            _ => "^/api/.*,^/version$",
        };
        let patterns = value
            .split(',')
            .map(|item| {
                Regex::new(item).map_err(|e| PatternError {
                    flag,
                    pattern: item.to_string(),
                    reason: e.to_string().lines().last().unwrap_or_default().to_string(),
                    example,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(PatternList { patterns })
    }

    /// Whether any pattern matches somewhere in `text` (kubectl `matchesRegexp`).
    pub fn is_match(&self, text: &str) -> bool {
        self.patterns.iter().any(|re| re.is_match(text))
    }

    /// Whether the list has no pattern (and so matches nothing).
    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }
}

/// The four filter flags, as given on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterFlags {
    /// `--accept-paths`.
    pub accept_paths: String,
    /// `--reject-paths`.
    pub reject_paths: String,
    /// `--accept-hosts`.
    pub accept_hosts: String,
    /// `--reject-methods`.
    pub reject_methods: String,
    /// `--read-only`: also reject every method but `GET`, `HEAD` and `OPTIONS`.
    pub read_only: bool,
}

impl Default for FilterFlags {
    /// kubectl's defaults, not read-only.
    fn default() -> Self {
        FilterFlags {
            accept_paths: DEFAULT_ACCEPT_PATHS.into(),
            reject_paths: DEFAULT_REJECT_PATHS.into(),
            accept_hosts: DEFAULT_ACCEPT_HOSTS.into(),
            reject_methods: DEFAULT_REJECT_METHODS.into(),
            read_only: false,
        }
    }
}

/// Why the filter refused a request (for logs; the client always sees `403 Forbidden`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Passed every rule.
    Accept,
    /// The path matched `--reject-paths`.
    RejectedPath,
    /// The method matched `--reject-methods`.
    RejectedMethod,
    /// `--read-only` and the method is not GET, HEAD or OPTIONS.
    ReadOnly,
    /// `--read-only` and the request asks for an upgrade (`Connection: Upgrade`).
    ReadOnlyUpgrade,
    /// No `--accept-paths` pattern matched the path.
    PathNotAccepted,
    /// No `--accept-hosts` pattern matched the host.
    HostNotAccepted,
}

impl Verdict {
    /// True for [`Verdict::Accept`].
    pub fn accepted(self) -> bool {
        self == Verdict::Accept
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Verdict::Accept => "accepted",
            Verdict::RejectedPath => "path matches --reject-paths",
            Verdict::RejectedMethod => "method matches --reject-methods",
            Verdict::ReadOnly => "method not allowed by --read-only",
            Verdict::ReadOnlyUpgrade => {
                "upgrade (exec, attach, port-forward) not allowed by --read-only"
            }
            Verdict::PathNotAccepted => "path does not match --accept-paths",
            Verdict::HostNotAccepted => "host does not match --accept-hosts",
        })
    }
}

/// The compiled pattern lists of kubectl's filter.
#[derive(Debug, Clone)]
struct Patterns {
    accept_paths: PatternList,
    reject_paths: PatternList,
    accept_hosts: PatternList,
    reject_methods: PatternList,
}

/// kubectl's `FilterServer` (or none, with `--disable-filter`) plus `--read-only`, which is
/// enforced here and nowhere else, with or without the patterns.
#[derive(Debug, Clone)]
pub struct Filter {
    patterns: Option<Patterns>,
    read_only: bool,
}

impl Filter {
    /// Compiles the flags. Errors: [`PatternError`] naming the flag and the bad item.
    pub fn new(flags: &FilterFlags) -> Result<Filter, PatternError> {
        Ok(Filter {
            patterns: Some(Patterns {
                accept_paths: PatternList::parse("accept-paths", &flags.accept_paths)?,
                reject_paths: PatternList::parse("reject-paths", &flags.reject_paths)?,
                accept_hosts: PatternList::parse("accept-hosts", &flags.accept_hosts)?,
                reject_methods: PatternList::parse("reject-methods", &flags.reject_methods)?,
            }),
            read_only: flags.read_only,
        })
    }

    /// `--disable-filter`: every request passes, except what `--read-only` refuses.
    pub fn disabled(read_only: bool) -> Filter {
        Filter {
            patterns: None,
            read_only,
        }
    }

    /// Decides one request. `method` as sent (`GET`), `path` percent-decoded and after the
    /// `--api-prefix` is stripped (what kubectl matches: Go's `req.URL.Path`), `host` the `Host`
    /// header value or `:authority`, port included or not (see [`host_of`]). Never panics.
    ///
    /// Order: `--reject-paths`, `--reject-methods`, `--read-only`, `--accept-paths`,
    /// `--accept-hosts` (kubectl's order, with `--read-only` among the rejections).
    pub fn check(&self, method: &str, path: &str, host: &str) -> Verdict {
        self.check_request(method, path, host, false)
    }

    /// [`Filter::check`] for a request that may ask to switch protocols: with `--read-only`, an
    /// `upgrade` request ([`crate::proxy::forward::is_upgrade`]) is refused whatever its method,
    /// since a WebSocket exec, attach or port-forward is a `GET` that writes to the pod.
    pub fn check_request(&self, method: &str, path: &str, host: &str, upgrade: bool) -> Verdict {
        if let Some(p) = &self.patterns {
            if p.reject_paths.is_match(path) {
                return Verdict::RejectedPath;
            }
            if p.reject_methods.is_match(method) {
                return Verdict::RejectedMethod;
            }
        }
        if self.read_only && !READ_ONLY_METHODS.contains(&method) {
            return Verdict::ReadOnly;
        }
        if self.read_only && upgrade {
            return Verdict::ReadOnlyUpgrade;
        }
        if let Some(p) = &self.patterns {
            if !p.accept_paths.is_match(path) {
                return Verdict::PathNotAccepted;
            }
            if !p.accept_hosts.is_match(host_of(host)) {
                return Verdict::HostNotAccepted;
            }
        }
        Verdict::Accept
    }

    /// Whether a request for an arbitrary outside name would get through (`--disable-filter`,
    /// or an `--accept-hosts` pattern such as `.*` or the empty item), i.e. DNS rebinding / XSRF
    /// from a browser would work once the port is reachable from elsewhere. Used for the startup
    /// warning.
    pub fn accepts_any_host(&self) -> bool {
        let Some(p) = &self.patterns else {
            return true;
        };
        ["pod-introspect-probe.example.com", "203.0.113.7"]
            .iter()
            .any(|h| p.accept_hosts.is_match(h))
    }
}

/// The host part of a `Host` header value: `localhost:8001` → `localhost`, `[::1]:8001` →
/// `[::1]` (brackets kept, unlike kubectl's `extractHost`; see the module documentation),
/// `[::1]` → `[::1]`, `example.com` → itself. Like Go's `net.SplitHostPort`, the port is not
/// validated (`h:x` → `h`); a value it would refuse (`::1`, `[::1`, `a:b:c`) is returned whole.
pub fn host_of(header: &str) -> &str {
    if header.starts_with('[') {
        return match header.find(']') {
            Some(end) => {
                let rest = &header[end + 1..];
                if rest.is_empty() || (rest.starts_with(':') && !rest[1..].contains([':', ']'])) {
                    &header[..=end]
                } else {
                    header
                }
            }
            None => header,
        };
    }
    match header.rfind(':') {
        Some(i) if !header[..i].contains(':') => &header[..i],
        _ => header,
    }
}

/// What kubectl's `extractHost` returns (Go `net.SplitHostPort`, brackets removed), for the
/// comparison table in the tests and documentation: `[::1]:8001` → `::1`.
pub fn kubectl_host_of(header: &str) -> &str {
    if header.starts_with('[') {
        if let Some(end) = header.find(']') {
            let rest = &header[end + 1..];
            if rest.starts_with(':') && !rest[1..].contains([':', ']']) {
                return &header[1..end];
            }
        }
        return header;
    }
    host_of(header)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(ap: &str, rp: &str, ah: &str, rm: &str) -> FilterFlags {
        FilterFlags {
            accept_paths: ap.into(),
            reject_paths: rp.into(),
            accept_hosts: ah.into(),
            reject_methods: rm.into(),
            read_only: false,
        }
    }

    #[test]
    fn kubectl_default_table() {
        use Verdict::*;
        let f = Filter::new(&FilterFlags::default()).unwrap();
        // (method, path, Host header, verdict)
        let cases: &[(&str, &str, &str, Verdict)] = &[
            ("GET", "/api/v1/pods", "localhost", Accept),
            ("GET", "/api/v1/pods", "localhost:8001", Accept),
            ("GET", "/api/v1/pods", "127.0.0.1", Accept),
            ("GET", "/api/v1/pods", "127.0.0.1:8001", Accept),
            ("GET", "/api/v1/pods", "[::1]", Accept),
            // kubectl refuses this one (brackets lost with the port); we accept it.
            ("GET", "/api/v1/pods", "[::1]:8001", Accept),
            ("GET", "/api/v1/pods", "::1", HostNotAccepted),
            ("GET", "/api/v1/pods", "evil.com", HostNotAccepted),
            ("GET", "/api/v1/pods", "evil.com:8001", HostNotAccepted),
            ("GET", "/api/v1/pods", "localhost.evil.com", HostNotAccepted),
            (
                "GET",
                "/api/v1/pods",
                "localhost.evil.com:8001",
                HostNotAccepted,
            ),
            ("GET", "/api/v1/pods", "127a0b0c1", HostNotAccepted),
            ("GET", "/api/v1/pods", "127.0.0.1.nip.io", HostNotAccepted),
            ("GET", "/api/v1/pods", "[::2]:8001", HostNotAccepted),
            ("GET", "/api/v1/pods", "LOCALHOST", HostNotAccepted),
            ("GET", "/api/v1/pods", "", HostNotAccepted),
            ("GET", "/version", "localhost", Accept),
            ("POST", "/api/v1/namespaces/a/pods", "localhost", Accept),
            ("DELETE", "/api/v1/namespaces/a/pods/b", "localhost", Accept),
            ("", "/version", "localhost", RejectedMethod),
            (
                "POST",
                "/api/v1/namespaces/a/pods/b/exec",
                "localhost",
                RejectedPath,
            ),
            (
                "GET",
                "/api/v1/namespaces/a/pods/b/exec",
                "localhost",
                RejectedPath,
            ),
            (
                "GET",
                "/api/v1/namespaces/a/pods/b/exec?command=sh",
                "localhost",
                RejectedPath,
            ),
            (
                "POST",
                "/api/v1/namespaces/a/pods/b/attach",
                "localhost",
                RejectedPath,
            ),
            (
                "GET",
                "/api/v1/namespaces/a/pods/exec-worker",
                "localhost",
                Accept,
            ),
            (
                "GET",
                "/api/v1/namespaces/a/pods/attach-me",
                "localhost",
                Accept,
            ),
            (
                "GET",
                "/api/v1/namespaces/a/pods/b/portforward",
                "localhost",
                Accept,
            ),
            (
                "GET",
                "/api/v1/namespaces/a/pods/b/log",
                "localhost",
                Accept,
            ),
            // Unanchored at the end: anything after exec is still exec.
            (
                "GET",
                "/api/v1/namespaces/a/pods/b/execute",
                "localhost",
                RejectedPath,
            ),
            // The reject check comes before the host check.
            (
                "GET",
                "/api/v1/namespaces/a/pods/b/exec",
                "evil.com",
                RejectedPath,
            ),
            ("", "/version", "evil.com", RejectedMethod),
            // /apis paths are not covered by kubectl's exec pattern.
            ("GET", "/apis/apps/v1/deployments", "localhost", Accept),
        ];
        for (method, path, host, want) in cases {
            assert_eq!(
                f.check(method, path, host),
                *want,
                "{method} {path} Host: {host}"
            );
        }
    }

    #[test]
    fn empty_lists_match_nothing_and_custom_lists() {
        use Verdict::*;
        let d = FilterFlags::default();
        // Empty accept-hosts refuses everything.
        let f = Filter::new(&flags(
            &d.accept_paths,
            &d.reject_paths,
            "",
            &d.reject_methods,
        ))
        .unwrap();
        for host in ["localhost", "127.0.0.1", "[::1]", ""] {
            assert_eq!(f.check("GET", "/version", host), HostNotAccepted, "{host}");
        }
        // Empty reject-paths refuses nothing.
        let f = Filter::new(&flags(
            &d.accept_paths,
            "",
            &d.accept_hosts,
            &d.reject_methods,
        ))
        .unwrap();
        assert_eq!(
            f.check("POST", "/api/v1/namespaces/a/pods/b/exec", "localhost"),
            Accept
        );
        assert_eq!(
            f.check("GET", "/api/v1/namespaces/a/pods/b/attach", "localhost"),
            Accept
        );
        // Empty accept-paths refuses everything.
        let f = Filter::new(&flags(
            "",
            &d.reject_paths,
            &d.accept_hosts,
            &d.reject_methods,
        ))
        .unwrap();
        assert_eq!(f.check("GET", "/version", "localhost"), PathNotAccepted);
        // Empty reject-methods: even the empty method passes.
        let f = Filter::new(&flags(
            &d.accept_paths,
            &d.reject_paths,
            &d.accept_hosts,
            "",
        ))
        .unwrap();
        assert_eq!(f.check("", "/version", "localhost"), Accept);
        // An empty item in a non-empty list is Go's empty pattern: it matches everything.
        let f = Filter::new(&flags(
            &d.accept_paths,
            &d.reject_paths,
            "^nope$,",
            &d.reject_methods,
        ))
        .unwrap();
        assert_eq!(f.check("GET", "/version", "evil.com"), Accept);
        assert!(f.accepts_any_host());
        // kubectl's documented example: --reject-methods='POST,PUT,PATCH' (unanchored).
        let f = Filter::new(&flags(
            &d.accept_paths,
            &d.reject_paths,
            &d.accept_hosts,
            "POST,PUT,PATCH",
        ))
        .unwrap();
        assert_eq!(f.check("POST", "/api", "localhost"), RejectedMethod);
        assert_eq!(f.check("PATCH", "/api", "localhost"), RejectedMethod);
        assert_eq!(f.check("GET", "/api", "localhost"), Accept);
        assert_eq!(f.check("DELETE", "/api", "localhost"), Accept);
        // Unanchored host patterns are as permissive as they look.
        let f = Filter::new(&flags(
            &d.accept_paths,
            &d.reject_paths,
            "localhost",
            &d.reject_methods,
        ))
        .unwrap();
        assert_eq!(f.check("GET", "/", "localhost.evil.com"), Accept);
        assert!(
            !Filter::new(&FilterFlags::default())
                .unwrap()
                .accepts_any_host()
        );
        // Unescaped dots: 127.0.0.1 also matches 127a0b0c1 — why kubectl escapes them.
        let f = Filter::new(&flags(
            &d.accept_paths,
            &d.reject_paths,
            "^127.0.0.1$",
            &d.reject_methods,
        ))
        .unwrap();
        assert_eq!(f.check("GET", "/", "127a0b0c1"), Accept);
        // Only /api/ paths.
        let f = Filter::new(&flags(
            "^/api/",
            &d.reject_paths,
            &d.accept_hosts,
            &d.reject_methods,
        ))
        .unwrap();
        assert_eq!(f.check("GET", "/api/v1/pods", "localhost"), Accept);
        assert_eq!(
            f.check("GET", "/apis/apps/v1", "localhost"),
            PathNotAccepted
        );
        assert_eq!(f.check("GET", "/version", "localhost"), PathNotAccepted);
    }

    #[test]
    fn read_only() {
        use Verdict::*;
        let f = Filter::new(&FilterFlags {
            read_only: true,
            ..FilterFlags::default()
        })
        .unwrap();
        for m in ["GET", "HEAD", "OPTIONS"] {
            assert_eq!(f.check(m, "/api/v1/pods", "localhost"), Accept, "{m}");
        }
        for m in ["POST", "PUT", "PATCH", "DELETE", "CONNECT", "get", "TRACE"] {
            assert_eq!(f.check(m, "/api/v1/pods", "localhost"), ReadOnly, "{m}");
        }
        // reject-paths still comes first.
        assert_eq!(
            f.check("POST", "/api/v1/namespaces/a/pods/b/exec", "localhost"),
            RejectedPath
        );
        // Every upgrade is refused, GET included (WebSocket exec, port-forward).
        let pf = "/api/v1/namespaces/a/pods/b/portforward";
        assert_eq!(
            f.check_request("GET", pf, "localhost", true),
            ReadOnlyUpgrade
        );
        assert_eq!(f.check_request("GET", pf, "localhost", false), Accept);
        assert_eq!(
            Filter::disabled(true).check_request("GET", pf, "evil", true),
            ReadOnlyUpgrade
        );
        let open = Filter::new(&FilterFlags::default()).unwrap();
        assert_eq!(open.check_request("GET", pf, "localhost", true), Accept);
        // --disable-filter keeps --read-only (the one place it is enforced), and nothing else.
        let f = Filter::disabled(true);
        assert_eq!(
            f.check("GET", "/api/v1/namespaces/a/pods/b/exec", "evil"),
            Accept
        );
        assert_eq!(f.check("DELETE", "/api/v1/pods", "localhost"), ReadOnly);
        assert!(f.accepts_any_host());
        assert_eq!(
            Filter::disabled(false).check("DELETE", "/x", "evil"),
            Accept
        );
    }

    #[test]
    fn hosts_with_and_without_ports() {
        // (Host header, ours, kubectl's extractHost)
        let cases = [
            ("localhost", "localhost", "localhost"),
            ("localhost:8001", "localhost", "localhost"),
            ("localhost:", "localhost", "localhost"),
            ("localhost:abc", "localhost", "localhost"),
            ("127.0.0.1:0", "127.0.0.1", "127.0.0.1"),
            ("[::1]", "[::1]", "[::1]"),
            ("[::1]:8001", "[::1]", "::1"),
            (
                "[fe80::1%25eth0]:8001",
                "[fe80::1%25eth0]",
                "fe80::1%25eth0",
            ),
            ("::1", "::1", "::1"),
            ("[::1", "[::1", "[::1"),
            ("[::1]x", "[::1]x", "[::1]x"),
            ("[::1]:1:2", "[::1]:1:2", "[::1]:1:2"),
            ("a:b:c", "a:b:c", "a:b:c"),
            ("", "", ""),
        ];
        for (header, ours, kubectl) in cases {
            assert_eq!(host_of(header), ours, "{header}");
            assert_eq!(kubectl_host_of(header), kubectl, "{header}");
        }
    }

    #[test]
    fn bad_patterns_name_the_flag() {
        let e = Filter::new(&flags("^/(", "", "", "")).unwrap_err();
        assert_eq!(e.flag, "accept-paths");
        assert_eq!(e.pattern, "^/(");
        assert!(e.to_string().contains("--accept-paths"), "{e}");
        let e = PatternList::parse("accept-hosts", r"^localhost$,[").unwrap_err();
        assert_eq!(e.pattern, "[");
        assert!(e.to_string().contains("comma-separated"), "{e}");
    }
}
