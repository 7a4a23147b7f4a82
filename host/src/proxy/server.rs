//! The accept loop: HTTP/1.1 with keep-alive and upgrades on TCP or a unix socket, and graceful
//! shutdown.
//!
//! Upstream: kubectl `pkg/proxy/proxy_server.go` (`Listen`: TCP on `--address:--port`;
//! `ListenUnix`: a stale socket file is removed first and the socket is only accessible to its
//! owner) and `pkg/cmd/proxy/proxy.go` (`Starting to serve on ADDR`, printed once the listener
//! is bound, with the port the OS chose for `--port 0`).
//!
//! Shutdown: when the signal arrives the listener is closed, every connection is told to finish
//! its in-flight request and close (idle keep-alive connections close at once), and the loop
//! waits up to the grace period for them. Upgraded streams (exec, port-forward) and watches
//! still running at the end of the grace period are cut.

use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, UnixListener};
use tokio::sync::{mpsc, watch};

use super::forward::{Peer, Proxy};

/// A bound listener.
#[derive(Debug)]
pub enum Listener {
    /// `--address` / `--port`.
    Tcp(TcpListener),
    /// `--unix-socket`; the path is removed when the server stops.
    Unix(UnixListener, PathBuf),
}

impl Listener {
    /// Binds TCP on `address` (an IP, bracketed or not, or a host name resolved to its first
    /// address) and `port` (0: the OS picks one).
    ///
    /// Errors: the address does not resolve, or the bind fails (in use, not local).
    pub async fn bind_tcp(address: &str, port: u16) -> io::Result<Listener> {
        let bare = address.trim_start_matches('[').trim_end_matches(']');
        let addr = match bare.parse::<std::net::IpAddr>() {
            Ok(ip) => SocketAddr::new(ip, port),
            Err(_) => tokio::net::lookup_host((bare, port))
                .await?
                .next()
                .ok_or_else(|| {
                    io::Error::new(io::ErrorKind::NotFound, format!("{address} has no address"))
                })?,
        };
        Ok(Listener::Tcp(TcpListener::bind(addr).await?))
    }

    /// Binds a unix socket at `path`, removing a stale socket first (not other files), with
    /// mode 0600 (kubectl sets umask 077 around the bind).
    pub fn bind_unix(path: &Path) -> io::Result<Listener> {
        use std::os::unix::fs::{FileTypeExt as _, PermissionsExt as _};
        if let Ok(meta) = std::fs::symlink_metadata(path)
            && meta.file_type().is_socket()
        {
            std::fs::remove_file(path)?;
        }
        let listener = UnixListener::bind(path)?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
        Ok(Listener::Unix(listener, path.to_path_buf()))
    }

    /// What kubectl prints after `Starting to serve on`: `127.0.0.1:8001`, `[::1]:8001`, or the
    /// socket path.
    pub fn display_addr(&self) -> String {
        match self {
            Listener::Tcp(l) => l
                .local_addr()
                .map(|a| a.to_string())
                .unwrap_or_else(|_| "?".into()),
            Listener::Unix(_, p) => p.display().to_string(),
        }
    }

    /// The bound TCP address, if TCP.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        match self {
            Listener::Tcp(l) => l.local_addr().ok(),
            Listener::Unix(..) => None,
        }
    }
}

/// Serves `proxy` on `listener` until `shutdown` becomes true, then drains connections for at
/// most `grace`. Returns how many connections were still open when it gave up (0: clean).
pub async fn serve(
    listener: Listener,
    proxy: Arc<Proxy>,
    mut shutdown: watch::Receiver<bool>,
    grace: Duration,
) -> usize {
    let (done_tx, mut done_rx) = mpsc::channel::<()>(1);
    let (count_tx, count_rx) = watch::channel(0usize);
    let count_tx = Arc::new(count_tx);
    loop {
        let accepted = tokio::select! {
            _ = async { let _ = shutdown.wait_for(|v| *v).await; } => break,
            a = accept(&listener) => a,
        };
        let (io, peer) = match accepted {
            Ok(x) => x,
            Err(e) => {
                // EMFILE and friends: back off instead of spinning.
                tracing::warn!("accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let proxy = proxy.clone();
        let shutdown = shutdown.clone();
        let done = done_tx.clone();
        let count = count_tx.clone();
        count.send_modify(|c| *c += 1);
        tokio::spawn(async move {
            serve_connection(io, peer, proxy, shutdown).await;
            count.send_modify(|c| *c -= 1);
            drop(done);
        });
    }
    drop(listener);
    drop(done_tx);
    let open = *count_rx.borrow();
    if open > 0 {
        tracing::info!(connections = open, "draining connections (grace {grace:?})");
    }
    match tokio::time::timeout(grace, done_rx.recv()).await {
        Ok(_) => 0,
        Err(_) => *count_rx.borrow(),
    }
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send + 'static {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + 'static> Io for T {}

async fn accept(listener: &Listener) -> io::Result<(Box<dyn Io>, Peer)> {
    match listener {
        Listener::Tcp(l) => {
            let (s, addr) = l.accept().await?;
            let _ = s.set_nodelay(true);
            Ok((Box::new(s), Peer(Some(addr))))
        }
        Listener::Unix(l, _) => {
            let (s, _) = l.accept().await?;
            Ok((Box::new(s), Peer(None)))
        }
    }
}

async fn serve_connection(
    io: Box<dyn Io>,
    peer: Peer,
    proxy: Arc<Proxy>,
    mut shutdown: watch::Receiver<bool>,
) {
    let header_timeout = proxy.read_timeout;
    let svc = hyper::service::service_fn(move |req| {
        let proxy = proxy.clone();
        async move { Ok::<_, Infallible>(proxy.handle(req, peer).await.unwrap_or_else(|e| match e {})) }
    });
    // Slow headers (slowloris) close the connection after `--request-read-timeout`; the body's
    // deadline is the forwarder's (`RequestBody`).
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        .keep_alive(true)
        .serve_connection(TokioIo::new(io), svc)
        .with_upgrades();
    tokio::pin!(conn);
    tokio::select! {
        r = conn.as_mut() => {
            if let Err(e) = r {
                tracing::debug!("client connection ended: {e}");
            }
        }
        _ = async { let _ = shutdown.wait_for(|v| *v).await; } => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        if let Listener::Unix(_, path) = self {
            let _ = std::fs::remove_file(path);
        }
    }
}
