//! `pod-introspect proxy`: a drop-in for `kubectl proxy` in a pod's ambassador sidecar.
//!
//! It listens on loopback (default `127.0.0.1:8001`), applies kubectl proxy's request filter,
//! and forwards what passes to the API server with the pod's ServiceAccount credentials, so the
//! application container (and the pod-introspect guest with
//! `POD_INTROSPECT_API_URL=http://127.0.0.1:8001`) talks plain HTTP without a token.
//!
//! Upstream sources followed: kubectl `pkg/cmd/proxy/proxy.go` (flags, defaults, the
//! `Starting to serve on` line), kubectl `pkg/proxy/proxy_server.go` (`FilterServer`,
//! `MakeRegexpArray`, `extractHost`, `NewServer` routing, `ListenUnix`), apimachinery
//! `pkg/util/proxy/upgradeaware.go` (path and query kept, `Host` rewritten, upgrades on their own
//! HTTP/1.1 connection), client-go `rest/config.go` and `transport/token_source.go` (in-cluster
//! location and token rules, shared with the guest through `pod_introspect_kube::incluster`).
//!
//! Modules: [`filter`] (the pure filter, with kubectl's semantics and the `[::1]:port` fix),
//! [`route`] (prefix routing and path cleaning like Go's `ServeMux`), [`upstream`] (location,
//! TLS with CA reload, token, pooled HTTP/2-or-1.1 client), [`kubeconfig`] (`--kubeconfig`),
//! [`forward`] (one request: filter, credentials, streaming, upgrades, `Status` errors, access
//! log), [`server`] (accept loop on TCP or a unix socket, graceful shutdown), [`health`]
//! (`--health-port`).
//!
//! Differences from kubectl proxy (each also documented where it is implemented):
//! - `Host: [::1]:8001` is accepted by the default `--accept-hosts` (kubectl strips the brackets
//!   with the port and refuses it).
//! - Watch events are flushed as they arrive (kubectl's handler is configured with a 200 ms
//!   flush interval); request and response bodies are never buffered whole.
//! - API server errors are `502`/`503` with a Kubernetes `Status` body (kubectl: `500`, text).
//! - A `401` re-reads the rotated ServiceAccount token and retries a body-less idempotent
//!   request once.
//! - `--read-only` also refuses every upgrade request (a WebSocket exec is a `GET`).
//! - Local limits kubectl proxy does not have: a header list over
//!   [`forward::MAX_HEADER_LIST_BYTES`] is `431` (kubectl: `500` once its HTTP/2 transport
//!   refuses it), and `--request-read-timeout` bounds reading a request (headers: the
//!   connection is closed; body: `408`).
//! - Extra flags: `--kubeconfig`, `--root`, `--read-only`, `--request-read-timeout`,
//!   `--health-port`, `--health-address`,
//!   `--log-format`, and a startup warning when the listener is reachable beyond loopback with
//!   `--accept-hosts` that accept any host or `--disable-filter`.

pub mod filter;
pub mod forward;
pub mod health;
pub mod kubeconfig;
pub mod metrics;
pub mod route;
pub mod server;
pub mod upstream;
pub mod watch_cache;

pub use filter::{Filter, FilterFlags, Verdict};
pub use forward::Proxy;
pub use route::Router;
pub use upstream::{Upstream, UpstreamOptions, UpstreamSpec};
