//! In-cluster configuration: where the API server is and which credentials a pod uses.
//!
//! Upstream: client-go `rest/config.go` (`InClusterConfig`: both `KUBERNETES_SERVICE_HOST` and
//! `KUBERNETES_SERVICE_PORT` must be non-empty, URL `https://` + `net.JoinHostPort(host, port)`),
//! client-go `transport/token_source.go` (`cachingTokenSource`: the token file is re-read when the
//! cached token is older than a minute, whitespace is trimmed, an empty file is an error, a failed
//! re-read keeps the last good token, a 401 makes the next request re-read), and kube-rs
//! `kube-client/src/config/incluster_config.rs`.

use std::fmt;
use std::time::Duration;

/// Env var with the API server's host (an IP; IPv6 literals come unbracketed, e.g. `fd00::1`).
pub const SERVICE_HOST_ENV: &str = "KUBERNETES_SERVICE_HOST";
/// Env var with the API server's port.
pub const SERVICE_PORT_ENV: &str = "KUBERNETES_SERVICE_PORT";
/// pod-introspect's override of the API server URL, e.g. `http://127.0.0.1:8001` for an
/// ambassador sidecar (`kubectl proxy`, `pod-introspect proxy`); then no token is sent.
pub const API_URL_ENV: &str = "POD_INTROSPECT_API_URL";
/// The ServiceAccount token file (a bound, expiring JWT, refreshed by the kubelet).
pub const TOKEN_FILE: &str = "/var/run/secrets/kubernetes.io/serviceaccount/token";
/// The cluster CA bundle (all PEM certificates in it are trusted).
pub const CA_FILE: &str = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt";
/// How old a cached token may get before it is re-read (client-go and kube-rs: one minute).
pub const TOKEN_MAX_AGE: Duration = Duration::from_secs(60);

/// Why the API server's location could not be determined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LocationError {
    /// `KUBERNETES_SERVICE_HOST` or `KUBERNETES_SERVICE_PORT` is unset or empty.
    NotInCluster {
        /// Which of the two variables is missing.
        missing: &'static str,
    },
    /// The port is not a number from 1 to 65535.
    BadPort(String),
    /// `POD_INTROSPECT_API_URL` is not an `http://` or `https://` URL.
    BadUrl(String),
}

impl fmt::Display for LocationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LocationError::NotInCluster { missing } => write!(
                f,
                "not running in a cluster: {missing} is not set (the kubelet sets {SERVICE_HOST_ENV} and {SERVICE_PORT_ENV} in every container; for a simulated pod, `pod-introspect simulate --cluster DIR` writes them into the pod's env; outside a cluster set {API_URL_ENV}, e.g. http://127.0.0.1:8001 for kubectl proxy)"
            ),
            LocationError::BadPort(p) => {
                write!(f, "{SERVICE_PORT_ENV}={p:?} is not a port number (1-65535)")
            }
            LocationError::BadUrl(u) => write!(
                f,
                "{API_URL_ENV}={u:?} must be an http:// or https:// URL such as http://127.0.0.1:8001"
            ),
        }
    }
}

impl std::error::Error for LocationError {}

/// Where the API server is, and whether the ServiceAccount token is sent to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiLocation {
    /// Base URL without a trailing slash, e.g. `https://10.96.0.1:443` or `https://[fd00::1]:443`.
    pub base_url: String,
    /// False for a `POD_INTROSPECT_API_URL` override: an ambassador holds the credentials.
    pub send_token: bool,
}

/// Resolves the API server location from env lookups, as `rest.InClusterConfig()` does, with
/// `POD_INTROSPECT_API_URL` taking precedence.
pub fn api_location(env: impl Fn(&str) -> Option<String>) -> Result<ApiLocation, LocationError> {
    if let Some(url) = env(API_URL_ENV).filter(|u| !u.is_empty()) {
        let rest = url
            .strip_prefix("http://")
            .or_else(|| url.strip_prefix("https://"))
            .ok_or_else(|| LocationError::BadUrl(url.clone()))?;
        if rest.is_empty() || rest.starts_with('/') {
            return Err(LocationError::BadUrl(url));
        }
        return Ok(ApiLocation {
            base_url: url.trim_end_matches('/').to_string(),
            send_token: false,
        });
    }
    let host =
        env(SERVICE_HOST_ENV)
            .filter(|h| !h.is_empty())
            .ok_or(LocationError::NotInCluster {
                missing: SERVICE_HOST_ENV,
            })?;
    let port =
        env(SERVICE_PORT_ENV)
            .filter(|p| !p.is_empty())
            .ok_or(LocationError::NotInCluster {
                missing: SERVICE_PORT_ENV,
            })?;
    match port.parse::<u16>() {
        Ok(p) if p > 0 => {}
        _ => return Err(LocationError::BadPort(port)),
    }
    Ok(ApiLocation {
        base_url: format!("https://{}", join_host_port(&host, &port)),
        send_token: true,
    })
}

/// Go's `net.JoinHostPort`: brackets a host that contains a colon (an IPv6 literal).
pub fn join_host_port(host: &str, port: &str) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// Why no token is available. Both cases name the token file that was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenError {
    /// The token file could not be read, or its content cannot be sent; never contains the
    /// token.
    Read {
        /// The file, as the reader sees it (a host path for the proxy's `--root`).
        path: String,
        /// What went wrong (the OS error).
        message: String,
    },
    /// The token file is empty after trimming whitespace.
    Empty {
        /// The file.
        path: String,
    },
}

impl fmt::Display for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenError::Read { path, message } => {
                write!(f, "cannot read the ServiceAccount token {path}: {message}")
            }
            TokenError::Empty { path } => write!(
                f,
                "the ServiceAccount token {path} is empty (is automountServiceAccountToken false, or the projected token not yet written?)"
            ),
        }
    }
}

impl std::error::Error for TokenError {}

/// A caching ServiceAccount token source with client-go's rules. Time is passed in (any monotonic
/// clock, as a [`Duration`] since an arbitrary origin) so the rules are testable and runtime-free.
#[derive(Debug)]
pub struct TokenSource {
    path: String,
    cached: Option<(String, Duration)>,
    stale: bool,
}

impl Default for TokenSource {
    fn default() -> Self {
        TokenSource::new()
    }
}

impl TokenSource {
    /// A source for the pod's [`TOKEN_FILE`]: the first call reads the file.
    pub fn new() -> TokenSource {
        TokenSource::for_file(TOKEN_FILE)
    }

    /// A source for the token file `path` (named in errors, e.g. `--root`'s host path or a
    /// kubeconfig `tokenFile`): the first call reads the file.
    pub fn for_file(path: impl Into<String>) -> TokenSource {
        TokenSource {
            path: path.into(),
            cached: None,
            stale: false,
        }
    }

    /// The token file this source reads, for messages.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The token to send at time `now`. Re-reads with `read` (returning the file's bytes) when
    /// nothing is cached, when the cached token is older than [`TOKEN_MAX_AGE`], or after
    /// [`TokenSource::invalidate`]. A failed or empty re-read keeps the last good token; with no
    /// good token, the error.
    pub fn token(
        &mut self,
        now: Duration,
        read: impl FnOnce() -> Result<Vec<u8>, String>,
    ) -> Result<String, TokenError> {
        let fresh = match &self.cached {
            Some((_, at)) => !self.stale && now.saturating_sub(*at) < TOKEN_MAX_AGE,
            None => false,
        };
        if fresh && let Some((t, _)) = &self.cached {
            return Ok(t.clone());
        }
        let path = &self.path;
        let result = read()
            .map_err(|message| TokenError::Read {
                path: path.clone(),
                message,
            })
            .and_then(|bytes| {
                let text = String::from_utf8_lossy(&bytes).trim().to_string();
                if text.is_empty() {
                    Err(TokenError::Empty { path: path.clone() })
                } else {
                    Ok(text)
                }
            });
        match result {
            Ok(token) => {
                self.cached = Some((token.clone(), now));
                self.stale = false;
                Ok(token)
            }
            Err(e) => match &self.cached {
                Some((t, _)) => Ok(t.clone()),
                None => Err(e),
            },
        }
    }

    /// Marks the cached token stale after a 401, so the next [`TokenSource::token`] re-reads.
    pub fn invalidate(&mut self) {
        self.stale = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    /// (env, expected base URL and whether the token is sent, or a part of the error message).
    type LocationCase<'a> = (&'a [(&'a str, &'a str)], Result<(&'a str, bool), &'a str>);

    #[test]
    fn locations() {
        let cases: &[LocationCase] = &[
            (
                &[
                    ("KUBERNETES_SERVICE_HOST", "10.96.0.1"),
                    ("KUBERNETES_SERVICE_PORT", "443"),
                ],
                Ok(("https://10.96.0.1:443", true)),
            ),
            (
                &[
                    ("KUBERNETES_SERVICE_HOST", "fd00::1"),
                    ("KUBERNETES_SERVICE_PORT", "443"),
                ],
                Ok(("https://[fd00::1]:443", true)),
            ),
            (
                &[
                    ("KUBERNETES_SERVICE_HOST", "::1"),
                    ("KUBERNETES_SERVICE_PORT", "6443"),
                ],
                Ok(("https://[::1]:6443", true)),
            ),
            (
                &[
                    ("KUBERNETES_SERVICE_HOST", "kubernetes.default.svc"),
                    ("KUBERNETES_SERVICE_PORT", "443"),
                ],
                Ok(("https://kubernetes.default.svc:443", true)),
            ),
            (
                &[
                    ("POD_INTROSPECT_API_URL", "http://127.0.0.1:8001/"),
                    ("KUBERNETES_SERVICE_HOST", "10.96.0.1"),
                ],
                Ok(("http://127.0.0.1:8001", false)),
            ),
            (
                &[("KUBERNETES_SERVICE_HOST", "10.96.0.1")],
                Err("KUBERNETES_SERVICE_PORT is not set"),
            ),
            (
                &[
                    ("KUBERNETES_SERVICE_HOST", ""),
                    ("KUBERNETES_SERVICE_PORT", "443"),
                ],
                Err("KUBERNETES_SERVICE_HOST is not set"),
            ),
            (
                &[
                    ("KUBERNETES_SERVICE_HOST", "10.96.0.1"),
                    ("KUBERNETES_SERVICE_PORT", "https"),
                ],
                Err("not a port number"),
            ),
            (
                &[
                    ("KUBERNETES_SERVICE_HOST", "10.96.0.1"),
                    ("KUBERNETES_SERVICE_PORT", "70000"),
                ],
                Err("not a port number"),
            ),
            (
                &[
                    ("KUBERNETES_SERVICE_HOST", "10.96.0.1"),
                    ("KUBERNETES_SERVICE_PORT", "0"),
                ],
                Err("not a port number"),
            ),
            (
                &[("POD_INTROSPECT_API_URL", "127.0.0.1:8001")],
                Err("must be an http:// or https:// URL"),
            ),
        ];
        for (vars, want) in cases {
            let got = api_location(env(vars));
            match (want, got) {
                (Ok((url, token)), Ok(loc)) => {
                    assert_eq!(loc.base_url, *url, "{vars:?}");
                    assert_eq!(loc.send_token, *token, "{vars:?}");
                }
                (Err(msg), Err(e)) => assert!(e.to_string().contains(msg), "{vars:?}: {e}"),
                (want, got) => panic!("{vars:?}: want {want:?}, got {got:?}"),
            }
        }
    }

    #[test]
    fn token_is_trimmed_cached_and_reread_after_a_minute() {
        let mut ts = TokenSource::new();
        let t0 = Duration::from_secs(100);
        assert_eq!(ts.token(t0, || Ok(b"abc\n".to_vec())).unwrap(), "abc");
        // Within a minute the file is not read again.
        assert_eq!(
            ts.token(t0 + Duration::from_secs(59), || panic!("re-read too early"))
                .unwrap(),
            "abc"
        );
        assert_eq!(
            ts.token(t0 + Duration::from_secs(60), || Ok(b"  def \r\n".to_vec()))
                .unwrap(),
            "def"
        );
    }

    #[test]
    fn failed_rereads_keep_the_last_good_token_and_401_forces_a_reread() {
        let mut ts = TokenSource::new();
        let t0 = Duration::ZERO;
        assert_eq!(
            ts.token(t0, || Err("permission denied".into())),
            Err(TokenError::Read {
                path: TOKEN_FILE.into(),
                message: "permission denied".into()
            })
        );
        assert_eq!(
            ts.token(t0, || Ok(b"\n\t ".to_vec())),
            Err(TokenError::Empty {
                path: TOKEN_FILE.into()
            })
        );
        assert_eq!(ts.token(t0, || Ok(b"good".to_vec())).unwrap(), "good");
        ts.invalidate();
        assert_eq!(ts.token(t0, || Err("gone".into())).unwrap(), "good");
        assert_eq!(ts.token(t0, || Ok(b"".to_vec())).unwrap(), "good");
        ts.invalidate();
        assert_eq!(
            ts.token(t0 + Duration::from_secs(1), || Ok(b"rotated".to_vec()))
                .unwrap(),
            "rotated"
        );
        assert_eq!(
            ts.token(t0 + Duration::from_secs(2), || panic!("cached"))
                .unwrap(),
            "rotated"
        );
    }

    #[test]
    fn errors_name_the_file_that_was_read() {
        let e = TokenError::Read {
            path: TOKEN_FILE.into(),
            message: "x".into(),
        }
        .to_string();
        assert!(e.contains(TOKEN_FILE));
        let mut ts = TokenSource::for_file("/tmp/pod-root/var/run/token");
        assert_eq!(ts.path(), "/tmp/pod-root/var/run/token");
        assert_eq!(
            ts.token(Duration::ZERO, || Err(
                "No such file or directory (os error 2)".into()
            ))
            .unwrap_err()
            .to_string(),
            "cannot read the ServiceAccount token /tmp/pod-root/var/run/token: No such file or directory (os error 2)"
        );
        let e = ts
            .token(Duration::ZERO, || Ok(b" \n".to_vec()))
            .unwrap_err();
        assert!(
            e.to_string()
                .starts_with("the ServiceAccount token /tmp/pod-root/var/run/token is empty"),
            "{e}"
        );
    }

    #[test]
    fn not_in_cluster_says_how_to_get_the_env() {
        let e = api_location(|_| None).unwrap_err().to_string();
        assert!(e.contains("KUBERNETES_SERVICE_HOST is not set"), "{e}");
        assert!(e.contains("simulate --cluster DIR"), "{e}");
        assert!(e.contains("POD_INTROSPECT_API_URL"), "{e}");
    }
}
