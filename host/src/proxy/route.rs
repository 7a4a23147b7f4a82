//! Which handler a request path goes to, as kubectl proxy's `http.ServeMux` decides it.
//!
//! Upstream: kubectl `pkg/proxy/proxy_server.go` (`NewServer`: the API handler is registered at
//! `--api-prefix`, the static file handler at `--www-prefix` when `--www` is set;
//! `stripLeaveSlash` removes an API prefix that does not start with `/api`, keeping a leading
//! `/`) and Go `net/http` `ServeMux` (`cleanPath`: a path that is not clean is answered with a
//! `301` to its clean form; a subtree root named without its trailing slash is redirected to
//! it; the longest registered prefix wins; no match is `404 page not found`), and
//! `net/url` (`Path` is the percent-decoded path, which is what the filter matches). The Go
//! rules themselves are [`pod_introspect_kube::percent`] and [`pod_introspect_kube::gopath`].

use std::borrow::Cow;

use pod_introspect_kube::{gopath, percent};

/// Where a request goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// To the API server; `path` is the decoded path the filter sees, `raw` the escaped path to
    /// forward (both with the prefix stripped when kubectl strips it).
    Api {
        /// Percent-decoded path, starting with `/`.
        path: String,
        /// The path as received (escaped), prefix stripped, starting with `/`.
        raw: String,
    },
    /// To the `--www` directory; `rel` is the decoded path below `--www-prefix`.
    Static {
        /// Relative file path (no leading `/`, clean, may be empty for the directory itself).
        rel: String,
    },
    /// `301 Moved Permanently` to this location (path and query).
    Redirect(String),
    /// `404 page not found`.
    NotFound,
    /// `400 Bad Request`: the path has an invalid percent escape or does not start with `/` (as
    /// Go's URL parser).
    BadRequest,
}

/// The registered prefixes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Router {
    api_prefix: String,
    static_prefix: Option<String>,
}

impl Router {
    /// `api_prefix` (`--api-prefix`, default `/`) and `static_prefix` (`--www-prefix`, only when
    /// `--www` is set); a missing trailing `/` is added, as kubectl's `Complete` does. Each is
    /// cleaned like a request path first (`//` is `/`, `/a//b/../c` is `/a/c/`): every request
    /// path is cleaned before it is matched, so an unclean prefix could never match, and its
    /// subtree redirect would loop (`/` → `//` → `/`).
    pub fn new(api_prefix: &str, static_prefix: Option<&str>) -> Router {
        let slash = |p: &str| {
            let mut p = gopath::clean_url_path(p).into_owned();
            if !p.ends_with('/') {
                p.push('/');
            }
            p
        };
        Router {
            api_prefix: slash(api_prefix),
            static_prefix: static_prefix.map(slash),
        }
    }

    /// The API prefix with its trailing slash.
    pub fn api_prefix(&self) -> &str {
        &self.api_prefix
    }

    /// Routes a request target's path (`raw_path`, escaped, as on the request line) and query.
    /// A path that does not start with `/` (`*`, `%2F`, empty) is [`Route::BadRequest`], as Go's
    /// `url.ParseRequestURI` refuses it.
    pub fn route(&self, raw_path: &str, query: Option<&str>) -> Route {
        if !raw_path.starts_with('/') {
            return Route::BadRequest;
        }
        let Some(decoded) = percent::path_unescape(raw_path) else {
            return Route::BadRequest;
        };
        let clean = gopath::clean_url_path(&decoded);
        if clean != decoded {
            return Route::Redirect(with_query(&escape_path(&clean), query));
        }
        // ServeMux redirects a subtree root named without its slash before matching anything.
        for prefix in std::iter::once(&self.api_prefix).chain(self.static_prefix.as_ref()) {
            if prefix.len() > 1 && decoded == prefix[..prefix.len() - 1] {
                return Route::Redirect(with_query(&escape_path(prefix), query));
            }
        }
        let api = decoded.starts_with(&self.api_prefix);
        let stat = self
            .static_prefix
            .as_deref()
            .is_some_and(|p| decoded.starts_with(p));
        let use_static = match (api, stat, self.static_prefix.as_deref()) {
            (true, true, Some(sp)) => sp.len() > self.api_prefix.len(),
            (false, true, _) => true,
            _ => false,
        };
        if use_static {
            let sp = self.static_prefix.as_deref().unwrap_or("/");
            return Route::Static {
                rel: decoded[sp.len()..].to_string(),
            };
        }
        if api {
            if self.api_prefix.starts_with("/api") {
                return Route::Api {
                    path: decoded,
                    raw: raw_path.to_string(),
                };
            }
            // stripLeaveSlash: drop the prefix but keep a leading slash.
            let strip = self.api_prefix.len() - 1;
            let path = decoded[strip..].to_string();
            let raw = match raw_path.get(..strip) {
                Some(head) if head == &self.api_prefix[..strip] => raw_path[strip..].to_string(),
                // The prefix itself was percent-encoded: forward the decoded path re-escaped.
                _ => escape_path(&path).into_owned(),
            };
            return Route::Api { path, raw };
        }
        Route::NotFound
    }
}

fn with_query(path: &str, query: Option<&str>) -> String {
    match query {
        Some(q) => format!("{path}?{q}"),
        None => path.to_string(),
    }
}

/// Escapes what cannot appear literally in a request path (`%`, `?`, `#`, space, controls,
/// non-ASCII), for redirect locations built from a decoded path.
pub fn escape_path(path: &str) -> Cow<'_, str> {
    let needs = |b: u8| b <= b' ' || b >= 0x7f || matches!(b, b'%' | b'?' | b'#' | b'"');
    if !path.bytes().any(needs) {
        return Cow::Borrowed(path);
    }
    let mut out = String::with_capacity(path.len() + 8);
    for b in path.bytes() {
        if needs(b) {
            out.push_str(&format!("%{b:02X}"));
        } else {
            out.push(b as char);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(path: &str, raw: &str) -> Route {
        Route::Api {
            path: path.into(),
            raw: raw.into(),
        }
    }

    #[test]
    fn routes_like_kubectl() {
        let r = Router::new("/", None);
        assert_eq!(
            r.route("/api/v1/pods", None),
            api("/api/v1/pods", "/api/v1/pods")
        );
        assert_eq!(r.route("/", None), api("/", "/"));
        assert_eq!(
            r.route("/version", Some("x=1")),
            api("/version", "/version")
        );
        // The filter sees the decoded path: an encoded exec is still exec.
        assert_eq!(
            r.route("/api/v1/namespaces/a/pods/b/%65xec", None),
            api(
                "/api/v1/namespaces/a/pods/b/exec",
                "/api/v1/namespaces/a/pods/b/%65xec"
            )
        );
        assert_eq!(
            r.route("/api/v1/namespaces/a/pods/b/x/../exec", Some("c=sh")),
            Route::Redirect("/api/v1/namespaces/a/pods/b/exec?c=sh".into())
        );
        assert_eq!(r.route("//api", None), Route::Redirect("/api".into()));
        assert_eq!(r.route("/a%zz", None), Route::BadRequest);

        let r = Router::new("/custom", None);
        assert_eq!(
            r.route("/custom/api/v1/pods", None),
            api("/api/v1/pods", "/api/v1/pods")
        );
        assert_eq!(r.route("/custom/", None), api("/", "/"));
        assert_eq!(
            r.route("/custom", Some("q")),
            Route::Redirect("/custom/?q".into())
        );
        assert_eq!(r.route("/api/v1/pods", None), Route::NotFound);
        assert_eq!(r.route("/customer", None), Route::NotFound);

        // A prefix starting with /api is not stripped.
        let r = Router::new("/api/", None);
        assert_eq!(
            r.route("/api/v1/pods", None),
            api("/api/v1/pods", "/api/v1/pods")
        );
        assert_eq!(r.route("/apis/apps/v1", None), Route::NotFound);
        assert_eq!(r.route("/version", None), Route::NotFound);

        let r = Router::new("/", Some("/static"));
        assert_eq!(
            r.route("/static/a/b.html", None),
            Route::Static {
                rel: "a/b.html".into()
            }
        );
        assert_eq!(r.route("/static/", None), Route::Static { rel: "".into() });
        assert_eq!(r.route("/static", None), Route::Redirect("/static/".into()));
        assert_eq!(r.route("/staticx", None), api("/staticx", "/staticx"));
        assert_eq!(r.route("/api", None), api("/api", "/api"));

        let r = Router::new("/k8s-api/", Some("/static/"));
        assert_eq!(r.route("/static", None), Route::Redirect("/static/".into()));
        assert_eq!(r.route("/other", None), Route::NotFound);
    }

    /// Found by fuzz/fuzz_targets/proxy_route.rs: with `--api-prefix=//` the subtree redirect
    /// sent `/` to `//`, whose clean form is `/` again: a redirect loop. A prefix is a path
    /// and is cleaned like one, so `//` is `/` and `/a//b/../c` is `/a/c/`.
    #[test]
    fn prefixes_are_clean_so_redirects_end() {
        let r = Router::new("//", None);
        assert_eq!(r.api_prefix(), "/");
        assert_eq!(r.route("/", None), api("/", "/"));
        assert_eq!(r.route("//", None), Route::Redirect("/".into()));
        let r = Router::new("/a//b/../c", Some("/s/./t//"));
        assert_eq!(r.api_prefix(), "/a/c/");
        assert_eq!(r.route("/a/c", None), Route::Redirect("/a/c/".into()));
        assert_eq!(r.route("/a/c/x", None), api("/x", "/x"));
        assert_eq!(r.route("/s/t/f", None), Route::Static { rel: "f".into() });
    }

    /// Found by fuzz/fuzz_targets/proxy_route.rs: the request target `%2F` was routed to the
    /// API as `/`, with `%2F` (no leading `/`) as the path to forward. Go's
    /// `url.ParseRequestURI` refuses a target that is not `/`-rooted: 400.
    #[test]
    fn a_path_that_is_not_rooted_is_a_bad_request() {
        let r = Router::new("/", None);
        assert_eq!(r.route("%2F", None), Route::BadRequest);
        assert_eq!(r.route("api/v1/pods", None), Route::BadRequest);
        assert_eq!(r.route("", None), Route::BadRequest);
        assert_eq!(r.route("/%2F", None), Route::Redirect("/".into()));
    }
}
