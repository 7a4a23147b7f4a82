//! The proxy's own metrics, served at `/metrics` on `--health-port` in the OpenMetrics text
//! format (`application/openmetrics-text; version=1.0.0`, which Prometheus scrapes), written by
//! the Prometheus project's `prometheus-client` crate.
//!
//! Series (label `resource` is `pods` or `RESOURCE.GROUP`, `namespace` is empty for a cache
//! across namespaces):
//!
//! - `pod_introspect_proxy_requests_total{code}`: responses by HTTP status, every path.
//! - `pod_introspect_proxy_cache_requests_total{resource,namespace,verb}`: lists and watches
//!   the watch cache answered (`verb` is `list` or `watch`).
//! - `pod_introspect_proxy_upstream_watches{resource,namespace}`: watches the cache holds open
//!   to the API server (1 while a cache is connected, however many clients watch).
//! - `pod_introspect_proxy_watch_clients{resource,namespace}`: client watches served from the
//!   cache.
//! - `pod_introspect_proxy_watch_events_sent_total{resource,namespace}`: watch events written
//!   to clients (one per event per client that selected it; bookmarks included).
//! - `pod_introspect_proxy_cache_objects{resource,namespace}`: objects the cache holds.
//! - `pod_introspect_proxy_cache_relists_total{resource,namespace}`: upstream lists the cache
//!   made (1 at start, one more after each 410 or failed watch).

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

/// The `Content-Type` of the proxy's `/metrics`.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// `code` of `requests_total`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CodeLabels {
    /// HTTP status code.
    pub code: u16,
}

/// Which cache a series is about.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CacheLabels {
    /// `pods`, `leases.coordination.k8s.io`.
    pub resource: String,
    /// The cache's namespace, empty across namespaces.
    pub namespace: String,
}

/// `cache_requests_total`'s labels.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CacheRequestLabels {
    /// As [`CacheLabels::resource`].
    pub resource: String,
    /// As [`CacheLabels::namespace`].
    pub namespace: String,
    /// `list` or `watch`.
    pub verb: String,
}

/// Every series; cheap to clone (the families are shared handles).
#[derive(Debug, Clone, Default)]
pub struct ProxyMetrics {
    /// `requests_total`.
    pub requests: Family<CodeLabels, Counter>,
    /// `cache_requests_total`.
    pub cache_requests: Family<CacheRequestLabels, Counter>,
    /// `upstream_watches`.
    pub upstream_watches: Family<CacheLabels, Gauge>,
    /// `watch_clients`.
    pub watch_clients: Family<CacheLabels, Gauge>,
    /// `watch_events_sent_total`.
    pub events_sent: Family<CacheLabels, Counter>,
    /// `cache_objects`.
    pub cache_objects: Family<CacheLabels, Gauge>,
    /// `cache_relists_total`.
    pub relists: Family<CacheLabels, Counter>,
}

impl ProxyMetrics {
    /// The exposition text, ending in `# EOF`.
    pub fn render(&self) -> String {
        let mut registry = Registry::with_prefix("pod_introspect_proxy");
        registry.register(
            "requests",
            "Responses by HTTP status code",
            self.requests.clone(),
        );
        registry.register(
            "cache_requests",
            "Lists and watches answered from the watch cache",
            self.cache_requests.clone(),
        );
        registry.register(
            "upstream_watches",
            "Watches the watch cache holds open to the API server",
            self.upstream_watches.clone(),
        );
        registry.register(
            "watch_clients",
            "Client watches served from the watch cache",
            self.watch_clients.clone(),
        );
        registry.register(
            "watch_events_sent",
            "Watch events written to clients from the watch cache",
            self.events_sent.clone(),
        );
        registry.register(
            "cache_objects",
            "Objects held by the watch cache",
            self.cache_objects.clone(),
        );
        registry.register(
            "cache_relists",
            "Lists the watch cache made to the API server",
            self.relists.clone(),
        );
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &registry);
        out
    }

    /// Counts one response.
    pub fn response(&self, code: u16) {
        self.requests.get_or_create(&CodeLabels { code }).inc();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition_names_and_labels() {
        let m = ProxyMetrics::default();
        m.response(200);
        m.response(200);
        m.response(403);
        let pods = CacheLabels {
            resource: "pods".into(),
            namespace: String::new(),
        };
        m.upstream_watches.get_or_create(&pods).set(1);
        m.watch_clients.get_or_create(&pods).set(3);
        let text = m.render();
        for line in [
            "# TYPE pod_introspect_proxy_requests counter\n",
            "pod_introspect_proxy_requests_total{code=\"200\"} 2\n",
            "pod_introspect_proxy_requests_total{code=\"403\"} 1\n",
            "pod_introspect_proxy_upstream_watches{resource=\"pods\",namespace=\"\"} 1\n",
            "pod_introspect_proxy_watch_clients{resource=\"pods\",namespace=\"\"} 3\n",
        ] {
            assert!(text.contains(line), "{line:?} missing from {text}");
        }
        assert!(text.ends_with("# EOF\n"), "{text}");
    }
}
