//! `pod-introspect proxy` against a fake HTTP/2 API server (TLS, ALPN `h2`, 2 streams per
//! connection) that resets one stream, holds others open and sends `GOAWAY` on request: a
//! stream's error fails only that request, a connection's `GOAWAY` only stops new requests on it
//! (its open streams keep delivering) and new requests dial a fresh connection, and a full
//! connection makes the proxy dial another.

use crate::proxy_load::{Proxy, delivers, open};
use bytes::Bytes;
use http::{Request, Response};
use http_body::{Body, Frame};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::mpsc;

/// A body fed by a channel: open until its sender is dropped.
struct Held(mpsc::UnboundedReceiver<Bytes>);

impl Body for Held {
    type Data = Bytes;
    type Error = Infallible;
    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.0.poll_recv(cx).map(|b| b.map(|b| Ok(Frame::data(b))))
    }
}

#[derive(Default)]
struct Fake {
    accepted: AtomicUsize,
    /// Senders of the `/hold` bodies, in order.
    held: Mutex<Vec<mpsc::UnboundedSender<Bytes>>>,
}

fn tls_config() -> (Arc<rustls::ServerConfig>, String) {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_key = KeyPair::generate().unwrap();
    let ca_pem = params.self_signed(&ca_key).unwrap().pem();
    let issuer = Issuer::new(params, ca_key);
    let key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_string()])
        .unwrap()
        .signed_by(&key, &issuer)
        .unwrap();
    let chain: Vec<CertificateDer<'static>> = vec![leaf.der().clone()];
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
    config.alpn_protocols = vec![b"h2".to_vec()];
    (Arc::new(config), ca_pem)
}

/// Serves the fake on 127.0.0.1:0: `/hold` (a body that stays open), `/reset` (the handler
/// fails: hyper resets the stream), `/goaway` (200, then `GOAWAY` on that connection), anything
/// else `200 ok`.
async fn serve(fake: Arc<Fake>, tls: Arc<rustls::ServerConfig>) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            fake.accepted.fetch_add(1, Ordering::SeqCst);
            let (acceptor, fake) = (acceptor.clone(), fake.clone());
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let (bye_tx, mut bye_rx) = mpsc::unbounded_channel::<()>();
                let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                    let (fake, bye_tx) = (fake.clone(), bye_tx.clone());
                    async move {
                        let body: Pin<Box<dyn Body<Data = Bytes, Error = Infallible> + Send>> =
                            match req.uri().path() {
                                "/reset" => return Err("reset this stream"),
                                "/hold" => {
                                    let (tx, rx) = mpsc::unbounded_channel();
                                    tx.send(Bytes::from_static(b"tick\n")).unwrap();
                                    fake.held.lock().unwrap().push(tx);
                                    Box::pin(Held(rx))
                                }
                                "/goaway" => {
                                    let _ = bye_tx.send(());
                                    Box::pin(http_body_util::Full::new(Bytes::from_static(b"bye")))
                                }
                                _ => Box::pin(http_body_util::Full::new(Bytes::from_static(b"ok"))),
                            };
                        Ok::<_, &'static str>(Response::new(body))
                    }
                });
                let conn = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                    .max_concurrent_streams(2)
                    .serve_connection(TokioIo::new(tls), service);
                let mut conn = std::pin::pin!(conn);
                tokio::select! {
                    _ = conn.as_mut() => return,
                    _ = bye_rx.recv() => {}
                }
                // Graceful: GOAWAY, the open streams finish.
                conn.as_mut().graceful_shutdown();
                let _ = conn.await;
            });
        }
    });
    addr
}

#[test]
fn stream_and_connection_errors_stay_where_they_happen() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let fake = Arc::new(Fake::default());
    let (tls, ca_pem) = tls_config();
    let addr = rt.block_on(serve(fake.clone(), tls));
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ca.crt"), &ca_pem).unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters:\n- name: c\n  cluster:\n    server: https://{addr}\n    certificate-authority: ca.crt\ncontexts:\n- name: c\n  context: {{cluster: c, user: u}}\nusers:\n- name: u\n  user: {{token: fake-token-0123456789abcdef}}\n"
        ),
    )
    .unwrap();
    let proxy = Proxy::with_args(&["--kubeconfig", kubeconfig.to_str().unwrap()], &[]);
    let p = proxy.addr.clone();
    rt.block_on(async {
        // Two held streams fill the first connection (the server allows 2).
        let (status, mut hold1, rest1) = open(&p, "/hold").await;
        assert_eq!(status, 200);
        assert!(delivers(&mut hold1, rest1, b"tick").await);
        let (status, mut hold2, rest2) = open(&p, "/hold").await;
        assert_eq!(status, 200);
        assert!(delivers(&mut hold2, rest2, b"tick").await);
        assert_eq!(fake.accepted.load(Ordering::SeqCst), 1);
        // The first connection is full: the next request dials a second one.
        let (status, _, _) = open(&p, "/version").await;
        assert_eq!(status, 200);
        assert_eq!(fake.accepted.load(Ordering::SeqCst), 2);
        // A reset stream fails only its request (502, after the one replay of a GET) ...
        let (status, _, _) = open(&p, "/reset").await;
        assert_eq!(status, 502);
        // ... no connection was dropped or dialled for it, and the held streams still deliver.
        assert_eq!(fake.accepted.load(Ordering::SeqCst), 2);
        for (i, tx) in fake.held.lock().unwrap().iter().enumerate() {
            tx.send(Bytes::from(format!("tock-{i}\n"))).unwrap();
        }
        assert!(delivers(&mut hold1, Vec::new(), b"tock-0").await);
        assert!(delivers(&mut hold2, Vec::new(), b"tock-1").await);
        // GOAWAY on the second connection: new requests go to a fresh one (the first is full),
        // and the streams of the first keep delivering.
        let (status, _, _) = open(&p, "/goaway").await;
        assert_eq!(status, 200);
        tokio::time::sleep(Duration::from_millis(200)).await;
        for _ in 0..3 {
            let (status, _, _) = open(&p, "/version").await;
            assert_eq!(status, 200);
        }
        assert_eq!(fake.accepted.load(Ordering::SeqCst), 3);
        for (i, tx) in fake.held.lock().unwrap().iter().enumerate() {
            tx.send(Bytes::from(format!("again-{i}\n"))).unwrap();
        }
        assert!(delivers(&mut hold1, Vec::new(), b"again-0").await);
        assert!(delivers(&mut hold2, Vec::new(), b"again-1").await);
    });
    let log = proxy.stderr.lock().unwrap().clone();
    assert!(!log.contains("fake-token-0123456789abcdef"), "{log}");
}
