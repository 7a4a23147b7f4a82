//! TLS: the serving certificate chains to the cluster CA and carries the right SANs; HTTP/2.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use http::StatusCode;
use pod_introspect_apiserver::ClusterOptions;
use rustls::pki_types::ServerName;

use crate::common::{Client, client_config, start, start_default};

#[tokio::test]
async fn a_client_trusting_another_ca_is_refused() {
    let cluster = start_default().await;
    let other = start_default().await;
    let mut c = Client::admin(&cluster);
    c.config = client_config(&other.ca_pem());
    let Err(err) = c.connect().await else {
        panic!("handshake must fail")
    };
    assert!(err.to_lowercase().contains("certificate"), "{err}");
    // The right CA works for every in-cluster name and the loopback IPs.
    for name in [
        "kubernetes",
        "kubernetes.default",
        "kubernetes.default.svc",
        "kubernetes.default.svc.cluster.local",
        "localhost",
        "127.0.0.1",
    ] {
        let mut ok = Client::admin(&cluster);
        ok.server_name = ServerName::try_from(name.to_owned()).unwrap();
        assert!(ok.connect().await.is_ok(), "{name}");
    }
    cluster.shutdown().await;
    other.shutdown().await;
}

#[tokio::test]
async fn ip_sans_only_certificate() {
    let cluster = start(ClusterOptions {
        serving_ip_sans_only: true,
        ..Default::default()
    })
    .await;
    let mut c = Client::admin(&cluster);
    c.server_name = ServerName::IpAddress(IpAddr::from([127, 0, 0, 1]).into());
    assert_eq!(c.get("/version").await.status, StatusCode::OK);
    c.server_name = ServerName::try_from("kubernetes.default.svc").unwrap();
    assert!(c.connect().await.is_err(), "no DNS SANs");
    cluster.shutdown().await;
}

#[tokio::test]
async fn ipv6_loopback() {
    if std::net::TcpListener::bind("[::1]:0").is_err() {
        pod_introspect_test_support::missing("no IPv6 loopback ([::1]) on this machine");
        return;
    }
    let cluster = start(ClusterOptions {
        listen: SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), 0),
        ..Default::default()
    })
    .await;
    assert!(
        cluster.url().starts_with("https://[::1]:"),
        "{}",
        cluster.url()
    );
    let mut c = Client::admin(&cluster);
    c.server_name = ServerName::IpAddress(IpAddr::V6(Ipv6Addr::LOCALHOST).into());
    assert_eq!(
        c.get("/api/v1/namespaces/default/pods").await.status,
        StatusCode::OK
    );
    cluster.shutdown().await;
}

#[tokio::test]
async fn http2_is_negotiated() {
    let cluster = start_default().await;
    let c = Client::admin(&cluster);
    let mut config = (*c.config).clone();
    config.alpn_protocols = vec![b"h2".to_vec()];
    let tcp = tokio::net::TcpStream::connect(c.addr).await.unwrap();
    let tls = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config))
        .connect(c.server_name.clone(), tcp)
        .await
        .unwrap();
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    let (mut sender, conn) = hyper::client::conn::http2::handshake(
        hyper_util::rt::TokioExecutor::new(),
        hyper_util::rt::TokioIo::new(tls),
    )
    .await
    .unwrap();
    tokio::spawn(conn);
    let req = http::Request::builder()
        .uri(format!("{}/version", cluster.url()))
        .body(http_body_util::Full::new(bytes::Bytes::new()))
        .unwrap();
    let resp = tokio::time::timeout(crate::common::STEP, sender.send_request(req))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.version(), http::Version::HTTP_2);
    cluster.shutdown().await;
}
