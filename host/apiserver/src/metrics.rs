//! `GET /metrics`: the API server's Prometheus text, with the one series tests and benchmarks
//! read: `apiserver_longrunning_requests`, the watches really open.
//!
//! Upstream: `staging/src/k8s.io/apiserver/pkg/endpoints/metrics/metrics.go`
//! (`longRunningRequestsGauge`, `[STABLE]`, labels `component`, `group`, `resource`, `scope`,
//! `subresource`, `verb`, `version`; `CleanScope`: `resource` for a named object, `namespace`
//! for a namespaced collection, `cluster` for a collection across namespaces; the verb of a
//! watch is `WATCH`) and `staging/src/k8s.io/apiserver/pkg/server/routes/metrics.go` (`/metrics`
//! is a non-resource path, so reading it takes RBAC `get` on the nonResourceURL `/metrics`, as
//! ClusterRole `system:monitoring` grants; `system:masters` may always).
//!
//! Exposition: Prometheus text format 0.0.4 (`text/plain; version=0.0.4`), written by the
//! Prometheus project's `prometheus-client` crate. A series stays at 0 once its watches close,
//! as a `GaugeVec` keeps its children.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

/// The `Content-Type` of `/metrics`.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The labels of `apiserver_longrunning_requests`, in the order the exposition sorts them.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct LongRunningLabels {
    /// Always `apiserver`.
    pub component: String,
    /// API group (`""` for core).
    pub group: String,
    /// Plural resource.
    pub resource: String,
    /// `cluster`, `namespace` or `resource` (`CleanScope`).
    pub scope: String,
    /// Subresource or `""`.
    pub subresource: String,
    /// `WATCH` for watches.
    pub verb: String,
    /// API version.
    pub version: String,
}

impl LongRunningLabels {
    /// The labels of a watch of `group`/`version`/`resource`, in `namespace` (`None`: across
    /// namespaces) and of one object when `named`.
    pub fn watch(
        group: &str,
        version: &str,
        resource: &str,
        namespace: Option<&str>,
        named: bool,
    ) -> Self {
        let scope = if named {
            "resource"
        } else if namespace.is_some() {
            "namespace"
        } else {
            "cluster"
        };
        LongRunningLabels {
            component: "apiserver".into(),
            group: group.into(),
            resource: resource.into(),
            scope: scope.into(),
            subresource: String::new(),
            verb: "WATCH".into(),
            version: version.into(),
        }
    }
}

/// The server's metrics.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    longrunning: Family<LongRunningLabels, Gauge>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::default();
        let longrunning = Family::<LongRunningLabels, Gauge>::default();
        registry.register(
            "apiserver_longrunning_requests",
            "[STABLE] Gauge of all active long-running apiserver requests broken out by verb, group, version, resource, scope and component. Not all requests are tracked this way",
            longrunning.clone(),
        );
        Metrics {
            registry,
            longrunning,
        }
    }
}

impl Metrics {
    /// Counts one long-running request with `labels` until the guard is dropped.
    pub fn long_running(&self, labels: LongRunningLabels) -> LongRunningGuard {
        let gauge = self.longrunning.get_or_create(&labels).clone();
        gauge.inc();
        LongRunningGuard(gauge)
    }

    /// The exposition text.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode_registry(&mut out, &self.registry);
        out
    }
}

/// Decrements its gauge when dropped (the watch ended).
#[derive(Debug)]
pub struct LongRunningGuard(Gauge);

impl Drop for LongRunningGuard {
    fn drop(&mut self) {
        self.0.dec();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition_counts_open_watches_and_keeps_closed_series_at_zero() {
        let m = Metrics::default();
        let a = m.long_running(LongRunningLabels::watch("", "v1", "pods", None, false));
        let b = m.long_running(LongRunningLabels::watch("", "v1", "pods", None, false));
        let c = m.long_running(LongRunningLabels::watch(
            "coordination.k8s.io",
            "v1",
            "leases",
            Some("default"),
            false,
        ));
        let text = m.render();
        assert!(
            text.contains("# TYPE apiserver_longrunning_requests gauge\n"),
            "{text}"
        );
        assert!(
            text.contains(
                "apiserver_longrunning_requests{component=\"apiserver\",group=\"\",resource=\"pods\",scope=\"cluster\",subresource=\"\",verb=\"WATCH\",version=\"v1\"} 2\n"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "apiserver_longrunning_requests{component=\"apiserver\",group=\"coordination.k8s.io\",resource=\"leases\",scope=\"namespace\",subresource=\"\",verb=\"WATCH\",version=\"v1\"} 1\n"
            ),
            "{text}"
        );
        drop((a, b, c));
        let text = m.render();
        assert!(
            text.contains("resource=\"pods\",scope=\"cluster\",subresource=\"\",verb=\"WATCH\",version=\"v1\"} 0\n"),
            "{text}"
        );
        assert!(
            !text.contains("# EOF"),
            "Prometheus 0.0.4 text has no EOF marker: {text}"
        );
    }
}
