//! `pod-introspect proxy`: wires the flags to [`crate::proxy`], prints kubectl's startup line,
//! and runs until SIGTERM/SIGINT, then shuts down gracefully.
//!
//! Upstream: kubectl `pkg/cmd/proxy/proxy.go` (`Complete`: prefixes get a trailing `/`, the
//! `--disable-filter` warning unless on a unix socket; `Validate`: `--unix-socket` and a
//! non-default `--port` exclude each other, a `--www` that is not a directory is a warning;
//! `RunProxy`: `Starting to serve on ADDR` on stdout).

use std::io::Write as _;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, Result, bail};

use crate::cli::ProxyArgs;
use crate::proxy::filter::{Filter, FilterFlags};
use crate::proxy::forward::Proxy;
use crate::proxy::health::{self, Health};
use crate::proxy::metrics::ProxyMetrics;
use crate::proxy::route::Router;
use crate::proxy::server::{self, Listener};
use crate::proxy::upstream::{Upstream, UpstreamOptions, UpstreamSpec};
use crate::proxy::watch_cache::{CacheResource, WatchCache, WatchCacheConfig};

/// kubectl's default `--port`.
pub const DEFAULT_PORT: u16 = 8001;

/// The `proxy` subcommand. Errors (exit status 2): bad flags, no usable configuration, the
/// address cannot be bound.
pub async fn run(args: ProxyArgs) -> Result<ExitCode> {
    if args.port != DEFAULT_PORT && args.unix_socket.is_some() {
        bail!("cannot set --unix-socket and --port at the same time");
    }
    if let Some(www) = &args.www {
        match std::fs::metadata(www) {
            Err(e) => tracing::warn!(
                "Failed to stat static file directory {}: {e}",
                www.display()
            ),
            Ok(m) if !m.is_dir() => {
                tracing::warn!("Static file directory {} is not a directory", www.display())
            }
            Ok(_) => {}
        }
    }
    let spec = match &args.kubeconfig {
        Some(path) => {
            if args.root.is_some() {
                tracing::warn!("--root is ignored with --kubeconfig");
            }
            UpstreamSpec::from_kubeconfig(path)?
        }
        None => UpstreamSpec::in_cluster(args.root.as_deref(), |k| std::env::var(k).ok())
            .context("in-cluster configuration")?,
    };
    let upstream = Arc::new(Upstream::new(
        &spec,
        &UpstreamOptions {
            keepalive: Some(args.keepalive),
            append_server_path: args.append_server_path,
        },
    )?);
    let metrics = ProxyMetrics::default();
    let watch_cache = match (args.watch_cache, &args.cache_resources) {
        (false, None) => None,
        (false, Some(_)) => bail!("--cache-resources takes effect with --watch-cache; add it"),
        (true, None) => bail!(
            "--watch-cache needs --cache-resources, e.g. --cache-resources pods,configmaps,leases.coordination.k8s.io"
        ),
        (true, Some(list)) => {
            let resources = CacheResource::parse_list(list)
                .map_err(|e| anyhow::anyhow!("--cache-resources: {e}"))?;
            if args.watch_cache_size == 0 {
                bail!("--watch-cache-size must be at least 1 event");
            }
            Some(WatchCache::new(
                WatchCacheConfig {
                    resources,
                    window: args.watch_cache_size,
                    bookmark_interval: args.watch_cache_bookmark_interval,
                },
                upstream.clone(),
                metrics.clone(),
            ))
        }
    };
    let filter = if args.disable_filter {
        if args.unix_socket.is_none() {
            tracing::warn!(
                "Request filter disabled, your proxy is vulnerable to XSRF attacks, please be cautious"
            );
        }
        Filter::disabled(args.read_only)
    } else {
        Filter::new(&FilterFlags {
            accept_paths: args.accept_paths.clone(),
            reject_paths: args.reject_paths.clone(),
            accept_hosts: args.accept_hosts.clone(),
            reject_methods: args.reject_methods.clone(),
            read_only: args.read_only,
        })?
    };
    let exposed_filter = filter.accepts_any_host();
    let router = Router::new(
        &args.api_prefix,
        args.www.as_ref().map(|_| args.www_prefix.as_str()),
    );
    let proxy = Arc::new(Proxy {
        filter,
        router,
        www: args.www.clone(),
        upstream,
        watch_cache,
        metrics,
        read_timeout: args.request_read_timeout,
    });

    let listener = match &args.unix_socket {
        Some(path) => Listener::bind_unix(path)
            .with_context(|| format!("--unix-socket {}: cannot listen", path.display()))?,
        None => Listener::bind_tcp(&args.address, args.port)
            .await
            .with_context(|| {
                format!(
                    "cannot listen on --address {} --port {}",
                    args.address, args.port
                )
            })?,
    };
    if let Some(addr) = listener.local_addr()
        && !addr.ip().is_loopback()
        && exposed_filter
    {
        tracing::warn!(
            address = %addr,
            "the proxy is reachable beyond loopback and accepts requests for any Host \
             (--accept-hosts or --disable-filter): anyone who can reach {addr} acts with this \
             pod's ServiceAccount, and web pages can reach it by DNS rebinding. Bind to \
             127.0.0.1 (the default) or restrict --accept-hosts."
        );
    }
    tracing::info!(upstream = %proxy.upstream.origin, "proxying the Kubernetes API");

    let (shutdown_tx, shutdown_rx) = tokio::sync::watch::channel(false);
    let health = Arc::new(Health::default());
    if let Some(port) = args.health_port {
        let addr = SocketAddr::new(args.health_address, port);
        let l = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("--health-port {port}: cannot listen on {addr}"))?;
        tracing::info!(address = %addr, "serving /healthz, /livez, /readyz and /metrics");
        tokio::spawn(health::serve(l, proxy.clone(), health.clone()));
    }

    println!("Starting to serve on {}", listener.display_addr());
    let _ = std::io::stdout().flush();

    let grace = Duration::from_secs(args.shutdown_grace);
    let serving = tokio::spawn(server::serve(listener, proxy, shutdown_rx, grace));
    super::wait_for_shutdown().await;
    tracing::info!(
        "shutting down: no new connections; in-flight requests may finish within {grace:?}"
    );
    health.shutting_down();
    let _ = shutdown_tx.send(true);
    match serving.await {
        Ok(0) => {}
        Ok(open) => tracing::warn!(
            connections = open,
            "grace period over; closing the remaining connections"
        ),
        Err(e) => tracing::warn!("the server task failed: {e}"),
    }
    Ok(ExitCode::SUCCESS)
}
