//! `--watch-cache`: the ambassador answers lists and watches of the resources named by
//! `--cache-resources` from one upstream list+watch per (resource, namespace scope), however
//! many clients watch, as kube-apiserver's watch cache does in front of etcd
//! (`staging/src/k8s.io/apiserver/pkg/storage/cacher`) and client-go's SharedInformer does
//! inside one Go process.
//!
//! - [`request`]: which requests the cache answers (the rest pass through unchanged).
//! - [`cacher`]: one cache and the reflector that fills it.
//! - [`serve`]: lists and watch streams from a cache.
//!
//! The cache reads with the proxy's identity, the pod's ServiceAccount: it is only ever as
//! wide as that token may list and watch, and a request with its own `Authorization` header
//! always reaches the API server. A cache starts with the first request for its key and
//! then follows the API server for the life of the process.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::{HeaderMap, Method, Response};

use crate::proxy::forward::ProxyBody;
use crate::proxy::metrics::ProxyMetrics;
use crate::proxy::upstream::Upstream;

pub mod cacher;
pub mod request;
pub mod serve;

use cacher::Cacher;
use request::{CacheKey, CacheRequest};

/// `--watch-cache-size`'s default: events kept per cache.
pub const DEFAULT_WINDOW: usize = 1000;
/// `--watch-cache-bookmark-interval`'s default (the cacher's `bookmarkFrequency`).
pub const DEFAULT_BOOKMARK_INTERVAL: Duration = Duration::from_secs(60);
/// How long a request waits for its cache's first list before it passes through.
pub const FIRST_LIST_WAIT: Duration = Duration::from_secs(30);

/// A resource named by `--cache-resources`, any version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheResource {
    /// API group (`""` for core).
    pub group: String,
    /// Plural resource.
    pub resource: String,
}

impl CacheResource {
    /// Parses `RESOURCE[.GROUP]` the way kubectl names resources: `pods`, `configmaps`,
    /// `leases.coordination.k8s.io`, `deployments.apps`; a name without a group may also be a
    /// built-in kind's singular or short name (`cm`, `deploy`, `lease`), resolved with
    /// dev-cluster's resource table, core first.
    ///
    /// Errors: a name that is empty, not lowercase DNS characters, or without a group and
    /// unknown, with the fix.
    pub fn parse(name: &str) -> Result<CacheResource, String> {
        let name = name.trim();
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
        {
            return Err(format!(
                "{name:?} is not a resource name; use lowercase plural names such as pods or leases.coordination.k8s.io"
            ));
        }
        if let Some((resource, group)) = name.split_once('.') {
            return Ok(CacheResource {
                group: group.to_owned(),
                resource: resource.to_owned(),
            });
        }
        let mut builtins: Vec<_> = pod_introspect_apiserver::resources::group_versions()
            .into_iter()
            .flat_map(|(g, v)| pod_introspect_apiserver::resources::in_group_version(g, v))
            .collect();
        builtins.sort_by_key(|r| !r.group.is_empty());
        builtins
            .iter()
            .find(|r| {
                r.resource == name
                    || r.singular == name
                    || r.short_names.contains(&name)
                    || r.kind.eq_ignore_ascii_case(name)
            })
            .map(|r| CacheResource {
                group: r.group.to_owned(),
                resource: r.resource.to_owned(),
            })
            .ok_or_else(|| {
                format!(
                    "{name:?} is not a built-in resource; name other resources with their group, e.g. widgets.example.com"
                )
            })
    }

    /// Parses the comma-separated `--cache-resources` list.
    ///
    /// Errors: an empty list, or a bad name (see [`CacheResource::parse`]).
    pub fn parse_list(list: &str) -> Result<Vec<CacheResource>, String> {
        let out = list
            .split(',')
            .filter(|s| !s.trim().is_empty())
            .map(CacheResource::parse)
            .collect::<Result<Vec<_>, _>>()?;
        if out.is_empty() {
            return Err("name at least one resource, e.g. pods,configmaps".into());
        }
        Ok(out)
    }
}

/// The flags.
#[derive(Debug, Clone)]
pub struct WatchCacheConfig {
    /// `--cache-resources`.
    pub resources: Vec<CacheResource>,
    /// `--watch-cache-size`: events kept per cache for watches from an older resourceVersion.
    pub window: usize,
    /// `--watch-cache-bookmark-interval`.
    pub bookmark_interval: Duration,
}

/// The caches of one proxy.
#[derive(Debug)]
pub struct WatchCache {
    config: WatchCacheConfig,
    upstream: Arc<Upstream>,
    metrics: ProxyMetrics,
    cachers: Mutex<HashMap<CacheKey, Arc<Cacher>>>,
}

impl WatchCache {
    /// Caches for `config`, reading through `upstream`; nothing starts until a request needs it.
    pub fn new(config: WatchCacheConfig, upstream: Arc<Upstream>, metrics: ProxyMetrics) -> Self {
        WatchCache {
            config,
            upstream,
            metrics,
            cachers: Mutex::new(HashMap::new()),
        }
    }

    /// Answers the request from a cache, or `None` to pass it through: not a request the
    /// cache answers ([`request::classify`]), or its cache could not list (the client then
    /// gets the API server's own answer, e.g. the RBAC denial).
    pub async fn serve(
        &self,
        method: &Method,
        path: &str,
        query: Option<&str>,
        headers: &HeaderMap,
    ) -> Option<Response<ProxyBody>> {
        let req = request::classify(method, path, query, headers, &self.config.resources)?;
        let key = match &req {
            CacheRequest::List { key, .. } | CacheRequest::Watch { key, .. } => key.clone(),
        };
        let cacher = self.cacher(key);
        if !cacher.wait_ready(FIRST_LIST_WAIT).await {
            return None;
        }
        Some(match req {
            CacheRequest::List {
                selection,
                not_older_than,
                table,
                ..
            } => serve::list(&cacher, &selection, not_older_than, table, &self.metrics).await,
            CacheRequest::Watch {
                selection,
                start,
                bookmarks,
                timeout_seconds,
                table,
                ..
            } => {
                let timeout = match timeout_seconds {
                    0 => serve::DEFAULT_WATCH_TIMEOUT,
                    s => Duration::from_secs(s),
                };
                let opts = serve::WatchOptions {
                    selection,
                    start,
                    bookmarks,
                    timeout,
                    table,
                    bookmark_interval: self.config.bookmark_interval,
                };
                serve::watch(cacher, opts, self.metrics.clone()).await
            }
        })
    }

    /// The cache for `key`, started on first use.
    fn cacher(&self, key: CacheKey) -> Arc<Cacher> {
        let mut map = match self.cachers.lock() {
            Ok(m) => m,
            Err(p) => p.into_inner(),
        };
        map.entry(key)
            .or_insert_with_key(|key| {
                let c = Cacher::new(key.clone(), self.config.window, self.metrics.clone());
                tracing::info!(resource = %c.labels.resource, namespace = %c.labels.namespace, "watch cache: starting");
                tokio::spawn(c.clone().run(self.upstream.clone()));
                c
            })
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_resources_resolve_like_kubectl_names() {
        let r = |n: &str| CacheResource::parse(n).map(|c| format!("{}/{}", c.group, c.resource));
        assert_eq!(r("pods"), Ok("/pods".into()));
        assert_eq!(r("cm"), Ok("/configmaps".into()));
        assert_eq!(r("deploy"), Ok("apps/deployments".into()));
        assert_eq!(r("lease"), Ok("coordination.k8s.io/leases".into()));
        assert_eq!(
            r("leases.coordination.k8s.io"),
            Ok("coordination.k8s.io/leases".into())
        );
        assert_eq!(r("widgets.example.com"), Ok("example.com/widgets".into()));
        assert!(r("widgets").unwrap_err().contains("widgets.example.com"));
        assert!(r("Pods").unwrap_err().contains("lowercase"));
        assert!(CacheResource::parse_list(" , ").is_err());
        assert_eq!(
            CacheResource::parse_list("pods,configmaps,leases.coordination.k8s.io")
                .unwrap()
                .len(),
            3
        );
    }
}
