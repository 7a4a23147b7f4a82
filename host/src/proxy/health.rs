//! `--health-port`: liveness and readiness endpoints for the kubelet's probes, on their own
//! listener so they never collide with API paths (`/healthz` on the main port is the API
//! server's own, forwarded like any path, as kubectl proxy does).
//!
//! - `GET /healthz`, `/livez`: `200 ok` while the process serves.
//! - `GET /readyz`: `200 ok` when the API server answers `GET /version` with the proxy's
//!   credentials within 2 s (result cached for 1 s, so probes cannot load the API server);
//!   `503` with the reason otherwise, and from the moment SIGTERM starts the graceful shutdown,
//!   so the pod is taken out of Service endpoints while in-flight requests finish.
//! - `GET /metrics`: [`super::metrics`], Prometheus (OpenMetrics) text.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Request, Response, StatusCode, header};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::Mutex;

use super::forward::{Proxy, ProxyBody};

/// How long the readiness probe waits for the API server.
pub const READY_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a readiness result is reused.
pub const READY_CACHE: Duration = Duration::from_secs(1);

/// Shared health state.
#[derive(Debug, Default)]
pub struct Health {
    shutting_down: AtomicBool,
    last: Mutex<Option<(Instant, Result<(), String>)>>,
}

impl Health {
    /// Marks the proxy as shutting down: `/readyz` answers 503 from now on.
    pub fn shutting_down(&self) {
        self.shutting_down.store(true, Ordering::SeqCst);
    }

    async fn ready(&self, proxy: &Proxy) -> Result<(), String> {
        if self.shutting_down.load(Ordering::SeqCst) {
            return Err("shutting down".into());
        }
        let mut last = self.last.lock().await;
        if let Some((at, result)) = last.as_ref()
            && at.elapsed() < READY_CACHE
        {
            return result.clone();
        }
        let result = proxy.upstream.probe(READY_TIMEOUT).await;
        *last = Some((Instant::now(), result.clone()));
        result
    }

    async fn handle(&self, proxy: &Proxy, req: Request<Incoming>) -> Response<ProxyBody> {
        let reply = |code: StatusCode, body: String| {
            let mut r = Response::new(ProxyBody::full(Bytes::from(body)));
            *r.status_mut() = code;
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                header::HeaderValue::from_static("text/plain; charset=utf-8"),
            );
            r
        };
        match req.uri().path() {
            "/healthz" | "/livez" => reply(StatusCode::OK, "ok\n".into()),
            "/readyz" => match self.ready(proxy).await {
                Ok(()) => reply(StatusCode::OK, "ok\n".into()),
                Err(why) => reply(
                    StatusCode::SERVICE_UNAVAILABLE,
                    format!("not ready: {why}\n"),
                ),
            },
            "/metrics" => {
                let mut r = reply(StatusCode::OK, proxy.metrics.render());
                r.headers_mut().insert(
                    header::CONTENT_TYPE,
                    header::HeaderValue::from_static(super::metrics::CONTENT_TYPE),
                );
                r
            }
            _ => reply(StatusCode::NOT_FOUND, "404 page not found\n".into()),
        }
    }
}

/// Serves the health endpoints on `listener` for the life of the process (during the graceful
/// shutdown too, when `/readyz` answers 503).
pub async fn serve(listener: TcpListener, proxy: Arc<Proxy>, health: Arc<Health>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let proxy = proxy.clone();
        let health = health.clone();
        tokio::spawn(async move {
            let svc = hyper::service::service_fn(move |req| {
                let proxy = proxy.clone();
                let health = health.clone();
                async move { Ok::<_, Infallible>(health.handle(&proxy, req).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .serve_connection(TokioIo::new(stream), svc)
                .await;
        });
    }
}
