//! The connector of the proxy's clients: TCP via hyper-util's `HttpConnector`, then rustls for
//! `https` with [`TlsState`]'s configuration and [`crate::trust::server_name`].

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::Uri;
use hyper_util::client::legacy::connect::{Connected, Connection, HttpConnector};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, BufReader, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

use super::tls::TlsState;
use crate::trust;

/// The socket read buffer under TLS. rustls reads at most 4 KiB of records per `read_tls`
/// (`DeframerVecBuffer::prepare_read`), which is one `recvfrom` per 4 KiB of a list; reading
/// the socket 64 KiB at a time and handing rustls its 4 KiB from memory cut the proxy's
/// syscalls on a 100-pod list (docs/benchmarks.md, `bench/proxy-cpu.sh`).
const TLS_READ_BUFFER: usize = 64 * 1024;

/// A connection to the API server: plain TCP (`http://` servers) or TLS.
pub enum UpstreamStream {
    /// `http://`.
    Plain(TcpStream),
    /// `https://`, over a [`TLS_READ_BUFFER`] read buffer (writes go straight to the socket).
    Tls(Box<TlsStream<BufReader<TcpStream>>>),
}

impl Connection for UpstreamStream {
    fn connected(&self) -> Connected {
        match self {
            UpstreamStream::Plain(s) => s.connected(),
            UpstreamStream::Tls(s) => {
                let (tcp, tls) = s.get_ref();
                let c = tcp.get_ref().connected();
                if tls.alpn_protocol() == Some(b"h2") {
                    c.negotiated_h2()
                } else {
                    c
                }
            }
        }
    }
}

impl AsyncRead for UpstreamStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            UpstreamStream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            UpstreamStream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for UpstreamStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            UpstreamStream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            UpstreamStream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            UpstreamStream::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            UpstreamStream::Tls(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            UpstreamStream::Plain(s) => s.is_write_vectored(),
            UpstreamStream::Tls(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            UpstreamStream::Plain(s) => Pin::new(s).poll_flush(cx),
            UpstreamStream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            UpstreamStream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            UpstreamStream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The connector of both clients: TCP via hyper-util's `HttpConnector` (resolution, connect
/// timeout, nodelay, keepalive), then rustls for `https`.
#[derive(Clone)]
pub(super) struct Connector {
    pub(super) http: HttpConnector,
    pub(super) tls: Arc<TlsState>,
    /// Offer only HTTP/1.1 ([`crate::trust::ALPN_UPGRADE`]).
    pub(super) upgrade: bool,
}

impl tower_service::Service<Uri> for Connector {
    type Response = TokioIo<UpstreamStream>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        tower_service::Service::<Uri>::poll_ready(&mut self.http, cx).map_err(Into::into)
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let mut http = self.http.clone();
        let tls = self.tls.clone();
        let upgrade = self.upgrade;
        Box::pin(async move {
            let https = uri.scheme_str() == Some("https");
            let tcp = tower_service::Service::call(&mut http, uri.clone())
                .await?
                .into_inner();
            if !https {
                return Ok(TokioIo::new(UpstreamStream::Plain(tcp)));
            }
            let configs = tls.configs().map_err(|e| -> BoxError { e.into() })?;
            let config = if upgrade {
                configs.upgrade
            } else {
                configs.pooled
            };
            let name = match &tls.server_name {
                Some(n) => n.clone(),
                None => trust::server_name(uri.host().unwrap_or_default())?,
            };
            let stream = tokio_rustls::TlsConnector::from(config)
                .connect(name, BufReader::with_capacity(TLS_READ_BUFFER, tcp))
                .await
                .map_err(|e| -> BoxError { format!("TLS handshake: {}", tls_reason(&e)).into() })?;
            Ok(TokioIo::new(UpstreamStream::Tls(Box::new(stream))))
        })
    }
}

fn tls_reason(e: &io::Error) -> String {
    match e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
        Some(rustls::Error::InvalidCertificate(c)) => {
            format!("the API server's certificate is not trusted by the CA bundle ({c:?})")
        }
        Some(other) => other.to_string(),
        None => e.to_string(),
    }
}
