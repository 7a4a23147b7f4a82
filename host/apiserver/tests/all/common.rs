//! The shared harness: a started cluster and a small HTTPS client (hyper HTTP/1.1 over
//! tokio-rustls, trusting the cluster CA) that every scenario uses.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use pod_introspect_apiserver::{ClusterOptions, DevCluster};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use serde_json::Value;

/// Every network step of a test is bounded by this.
pub const STEP: Duration = Duration::from_secs(10);

pub async fn start(opts: ClusterOptions) -> DevCluster {
    tokio::time::timeout(STEP, DevCluster::start(opts))
        .await
        .expect("start timed out")
        .expect("start failed")
}

pub async fn start_default() -> DevCluster {
    start(ClusterOptions::default()).await
}

pub fn pod(namespace: &str, name: &str, labels: &[(&str, &str)]) -> Pod {
    Pod {
        metadata: ObjectMeta {
            name: Some(name.into()),
            namespace: Some(namespace.into()),
            labels: Some(
                labels
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            ),
            ..Default::default()
        },
        ..Default::default()
    }
}

pub fn client_config(ca_pem: &str) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(cert.expect("CA PEM")).expect("add root");
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    Arc::new(config)
}

/// A client for one cluster.
pub struct Client {
    pub addr: SocketAddr,
    pub server_name: ServerName<'static>,
    pub config: Arc<rustls::ClientConfig>,
    pub token: Option<String>,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
}

impl Client {
    /// Trusts the cluster CA, verifies the name `localhost`, uses the admin token.
    pub fn admin(cluster: &DevCluster) -> Self {
        Client {
            addr: cluster.local_addr(),
            server_name: ServerName::try_from("localhost").unwrap(),
            config: client_config(&cluster.ca_pem()),
            token: Some(cluster.admin_token()),
        }
    }

    pub fn with_token(cluster: &DevCluster, token: Option<&str>) -> Self {
        Client {
            token: token.map(str::to_owned),
            ..Client::admin(cluster)
        }
    }

    pub async fn connect(
        &self,
    ) -> Result<hyper::client::conn::http1::SendRequest<Full<Bytes>>, String> {
        let tcp = tokio::net::TcpStream::connect(self.addr)
            .await
            .map_err(|e| e.to_string())?;
        let tls = tokio_rustls::TlsConnector::from(self.config.clone())
            .connect(self.server_name.clone(), tcp)
            .await
            .map_err(|e| e.to_string())?;
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
            .await
            .map_err(|e| e.to_string())?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(sender)
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> Result<http::Response<Incoming>, String> {
        let mut sender = self.connect().await?;
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header("host", "localhost");
        if let Some(t) = &self.token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let body = match body {
            Some(v) => {
                req = req.header("content-type", "application/json");
                Bytes::from(serde_json::to_vec(&v).unwrap())
            }
            None => Bytes::new(),
        };
        sender
            .send_request(req.body(Full::new(body)).unwrap())
            .await
            .map_err(|e| e.to_string())
    }

    pub async fn request(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> Reply {
        tokio::time::timeout(STEP, async {
            let resp = self
                .send(method, path, headers, body)
                .await
                .expect("request failed");
            let status = resp.status();
            let headers = resp.headers().clone();
            let body = resp.into_body().collect().await.expect("body").to_bytes();
            Reply {
                status,
                headers,
                body,
            }
        })
        .await
        .expect("request timed out")
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.request(Method::GET, path, &[], None).await
    }

    /// Opens a watch; returns the status, headers and a reader of its events.
    pub async fn watch(
        &self,
        path: &str,
        headers: &[(&str, &str)],
    ) -> (StatusCode, HeaderMap, EventReader) {
        let resp = tokio::time::timeout(STEP, self.send(Method::GET, path, headers, None))
            .await
            .expect("watch timed out")
            .expect("watch failed");
        let status = resp.status();
        let headers = resp.headers().clone();
        (
            status,
            headers,
            EventReader {
                body: resp.into_body(),
                buf: Vec::new(),
                ended: false,
            },
        )
    }
}

/// Reads newline-delimited JSON watch events.
pub struct EventReader {
    body: Incoming,
    buf: Vec<u8>,
    pub ended: bool,
}

impl EventReader {
    /// The next event, or `None` when the stream ends or nothing arrives within `wait`.
    pub async fn next_within(&mut self, wait: Duration) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(i) = self.buf.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = self.buf.drain(..=i).collect();
                return Some(serde_json::from_slice(&line).expect("event JSON"));
            }
            if self.ended {
                return None;
            }
            match tokio::time::timeout_at(deadline, self.body.frame()).await {
                Err(_) => return None,
                Ok(None) => self.ended = true,
                Ok(Some(Err(e))) => panic!("watch body error: {e}"),
                Ok(Some(Ok(frame))) => {
                    if let Ok(data) = frame.into_data() {
                        self.buf.extend_from_slice(&data);
                    }
                }
            }
        }
    }

    pub async fn next(&mut self) -> Value {
        self.next_within(STEP)
            .await
            .expect("no watch event in time")
    }

    /// The next event that is not a BOOKMARK.
    pub async fn next_non_bookmark(&mut self) -> Value {
        loop {
            let e = self.next().await;
            if e["type"] != "BOOKMARK" {
                return e;
            }
        }
    }
}

pub fn rv_of(v: &Value) -> u64 {
    v["metadata"]["resourceVersion"]
        .as_str()
        .expect("resourceVersion")
        .parse()
        .expect("numeric RV")
}

pub fn names(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["metadata"]["name"].as_str().unwrap().to_owned())
        .collect()
}
