//! A minimal native HTTPS client for the Kubernetes REST API (hyper + rustls), used by
//! `pod-introspect simulate --cluster` to register pods and request ServiceAccount tokens, by
//! the end-to-end tests, and as the native baseline in benchmarks.
//!
//! Like client-go with a kubeconfig: the server URL, the cluster CA (only it is trusted) and a
//! bearer token. One connection per request (HTTP/1.1): simple and enough for setting up tests.
//! Latency comparisons with the guest, whose wasi:http sender pools connections, use a pooled
//! client instead (`host/benches/api_latency.rs`).

use bytes::Bytes;
use http::{Method, Request, StatusCode, Uri};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use rustls::pki_types::{CertificateDer, ServerName, pem::PemObject};
use std::sync::Arc;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// Why a request failed before a response arrived.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The base URL or a path is not usable.
    #[error("invalid URL {0}")]
    Url(String),
    /// The CA PEM holds no certificate.
    #[error("no CA certificate in the given PEM")]
    NoCa,
    /// Connecting failed.
    #[error("connecting to {addr}: {source}")]
    Connect {
        /// host:port.
        addr: String,
        /// The cause.
        source: std::io::Error,
    },
    /// TLS or HTTP failed.
    #[error("request to {addr} failed: {message}")]
    Http {
        /// host:port.
        addr: String,
        /// The cause (never contains the token).
        message: String,
    },
}

/// A client bound to one API server.
#[derive(Clone)]
pub struct Client {
    https: bool,
    host: String,
    port: u16,
    token: Option<String>,
    tls: Arc<rustls::ClientConfig>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the token.
        write!(
            f,
            "Client({}://{}:{})",
            if self.https { "https" } else { "http" },
            self.host,
            self.port
        )
    }
}

impl Client {
    /// A client for `base_url` (`https://127.0.0.1:6443`, `https://[::1]:6443`,
    /// `http://127.0.0.1:8001`) trusting the certificates in `ca_pem`, sending `token` as a
    /// bearer token when given.
    pub fn new(base_url: &str, ca_pem: &str, token: Option<String>) -> Result<Client, ClientError> {
        let uri: Uri = base_url
            .parse()
            .map_err(|_| ClientError::Url(base_url.to_string()))?;
        let https = match uri.scheme_str() {
            Some("https") => true,
            Some("http") => false,
            _ => return Err(ClientError::Url(base_url.to_string())),
        };
        let host = uri
            .host()
            .ok_or_else(|| ClientError::Url(base_url.to_string()))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(ca_pem.as_bytes()).flatten() {
            let _ = roots.add(cert);
        }
        if https && roots.is_empty() {
            return Err(ClientError::NoCa);
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| ClientError::Http {
                addr: base_url.to_string(),
                message: e.to_string(),
            })?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Client {
            https,
            host,
            port,
            token,
            tls: Arc::new(tls),
        })
    }

    fn addr(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// Sends `method path` with an optional JSON body; returns the status and the whole body.
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        json: Option<Vec<u8>>,
    ) -> Result<(StatusCode, Bytes), ClientError> {
        let body = json.map(|b| ("application/json", b));
        self.send(method, path, body).await
    }

    /// A server-side apply (`PATCH` with `application/apply-patch+yaml`; JSON is YAML) of
    /// `object` at `path`, which must carry `fieldManager` (and `force=true` to take fields
    /// over); creates the object when it does not exist.
    pub async fn apply(
        &self,
        path: &str,
        object: Vec<u8>,
    ) -> Result<(StatusCode, Bytes), ClientError> {
        self.send(
            Method::PATCH,
            path,
            Some(("application/apply-patch+yaml", object)),
        )
        .await
    }

    /// Sends `method path` with an optional `(content type, body)`; the status and the whole
    /// body.
    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<(&str, Vec<u8>)>,
    ) -> Result<(StatusCode, Bytes), ClientError> {
        let response = self.exchange(method, path, body).await?;
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| ClientError::Http {
                addr: self.addr(),
                message: e.to_string(),
            })?
            .to_bytes();
        Ok((status, body))
    }

    /// Sends `method path` with an optional `(content type, body)`; the response, its body
    /// unread.
    async fn exchange(
        &self,
        method: Method,
        path: &str,
        body: Option<(&str, Vec<u8>)>,
    ) -> Result<http::Response<hyper::body::Incoming>, ClientError> {
        let addr = self.addr();
        let http_err = |message: String| ClientError::Http {
            addr: addr.clone(),
            message,
        };
        let tcp = TcpStream::connect(&addr)
            .await
            .map_err(|source| ClientError::Connect {
                addr: addr.clone(),
                source,
            })?;
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header(http::header::HOST, addr.clone())
            .header(http::header::ACCEPT, "application/json");
        if let Some(t) = &self.token {
            req = req.header(http::header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let body = match body {
            Some((content_type, bytes)) => {
                req = req.header(http::header::CONTENT_TYPE, content_type);
                bytes
            }
            None => Vec::new(),
        };
        let req = req
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| http_err(e.to_string()))?;
        let response = if self.https {
            let name =
                ServerName::try_from(self.host.clone()).map_err(|e| http_err(e.to_string()))?;
            let tls = TlsConnector::from(self.tls.clone())
                .connect(name, tcp)
                .await
                .map_err(|e| http_err(format!("TLS: {e}")))?;
            send(TokioIo::new(tls), req).await
        } else {
            send(TokioIo::new(tcp), req).await
        };
        response.map_err(http_err)
    }

    /// GET `path`.
    pub async fn get(&self, path: &str) -> Result<(StatusCode, Bytes), ClientError> {
        self.request(Method::GET, path, None).await
    }

    /// GET `path` with the body left streaming (a watch): the status and the body.
    pub async fn get_stream(
        &self,
        path: &str,
    ) -> Result<(StatusCode, hyper::body::Incoming), ClientError> {
        let response = self.exchange(Method::GET, path, None).await?;
        Ok((response.status(), response.into_body()))
    }
}

async fn send<I>(
    io: I,
    req: Request<Full<Bytes>>,
) -> Result<http::Response<hyper::body::Incoming>, String>
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (mut sender, conn) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    sender.send_request(req).await.map_err(|e| e.to_string())
}
