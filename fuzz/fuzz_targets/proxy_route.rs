//! The proxy's request routing and filter (host/src/proxy/route.rs and filter.rs), which read
//! the request line and `Host` header any local client sends.
//!
//! Both files are compiled here by path, with the proxy's own dependencies (regex, thiserror,
//! pod-introspect-kube): they use nothing else of the host crate, and depending on the host
//! crate would build wasmtime and the wasm guest into every fuzz build.
//!
//! Input: `API_PREFIX\nWWW_PREFIX\nMETHOD\nHOST\nPATH[?QUERY]` (missing lines are empty; an
//! empty WWW_PREFIX means no `--www`). Checked:
//! - an API route's escaped path decodes to exactly the path the filter sees;
//! - a static route's file path is relative and has no `..`;
//! - a redirect keeps the query, and following it ends within two more hops at a non-redirect
//!   (clean path, then subtree slash);
//! - the filter decides every request without panicking, and `host_of` returns part of the
//!   header.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use pod_introspect_kube::percent;

#[allow(dead_code)]
#[path = "../../host/src/proxy/filter.rs"]
mod filter;
#[allow(dead_code)]
#[path = "../../host/src/proxy/route.rs"]
mod route;

use filter::{Filter, FilterFlags, host_of};
use route::{Route, Router};

fn split_target(target: &str) -> (&str, Option<&str>) {
    match target.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (target, None),
    }
}

fn check_route(router: &Router, path: &str, query: Option<&str>, hops: usize) -> Route {
    let route = router.route(path, query);
    match &route {
        Route::Api { path: decoded, raw } => {
            assert!(
                decoded.starts_with('/') && raw.starts_with('/'),
                "{route:?}"
            );
            assert_eq!(
                percent::path_unescape(raw).as_deref(),
                Some(decoded.as_str()),
                "{path:?}: the forwarded path must decode to the filtered path"
            );
        }
        Route::Static { rel } => {
            assert!(!rel.starts_with('/'), "{path:?} -> {route:?}");
            assert!(!rel.split('/').any(|s| s == ".."), "{path:?} -> {route:?}");
        }
        Route::Redirect(location) => {
            let (next, next_query) = split_target(location);
            if let Some(q) = query {
                assert_eq!(next_query, Some(q), "{path:?} -> {location:?}");
            }
            assert!(hops < 2, "{path:?}: redirect loop, last hop {location:?}");
            let end = check_route(router, next, next_query, hops + 1);
            assert_ne!(end, Route::BadRequest, "{path:?} -> {location:?}");
        }
        Route::NotFound | Route::BadRequest => {}
    }
    route
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut lines = text.splitn(5, '\n');
    let mut next = || lines.next().unwrap_or_default();
    let (api_prefix, www_prefix, method, host, target) = (next(), next(), next(), next(), next());
    let router = Router::new(api_prefix, (!www_prefix.is_empty()).then_some(www_prefix));
    let (path, query) = split_target(target);
    let route = check_route(&router, path, query, 0);
    check_route(&Router::new("/", None), path, query, 0);

    let h = host_of(host);
    assert!(host.contains(h), "{host:?} -> {h:?}");
    static DEFAULT: OnceLock<Filter> = OnceLock::new();
    let filter =
        DEFAULT.get_or_init(|| Filter::new(&FilterFlags::default()).expect("the defaults compile"));
    let filtered = match &route {
        Route::Api { path, .. } => path.as_str(),
        _ => path,
    };
    let _ = filter.check(method, filtered, host);
    let _ = Filter::disabled(true).check(method, filtered, host);
});
