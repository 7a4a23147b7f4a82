//! Runs the emulated API server until Ctrl-C.
//!
//! `cargo run -p pod-introspect-apiserver --example dev-cluster -- STATE_DIR [LISTEN_ADDR]`, then
//! `kubectl --kubeconfig STATE_DIR/kubeconfig get pods -A`. A `demo` namespace with a
//! `reader` ServiceAccount and two pods is created; its token is printed.

use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use pod_introspect_apiserver::{ClusterOptions, DevCluster};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let state_dir = args
        .next()
        .ok_or("usage: dev-cluster STATE_DIR [LISTEN_ADDR]")?;
    let mut opts = ClusterOptions {
        state_dir: Some(state_dir.clone().into()),
        ..Default::default()
    };
    if let Some(listen) = args.next() {
        opts.listen = listen.parse()?;
    }
    let cluster = DevCluster::start(opts).await?;
    for name in ["web-0", "web-1"] {
        let pod = Pod {
            metadata: ObjectMeta {
                name: Some(name.into()),
                namespace: Some("demo".into()),
                labels: Some([("app".to_owned(), "web".to_owned())].into()),
                ..Default::default()
            },
            ..Default::default()
        };
        if let Err(e) = cluster.create_pod(pod) {
            eprintln!("{name}: {e}");
        }
    }
    let token = cluster.issue_token("demo", "reader", Duration::from_secs(3607));
    println!("listening on {}", cluster.url());
    println!("kubeconfig: {state_dir}/kubeconfig");
    println!("demo/reader token: {token}");
    tokio::signal::ctrl_c().await?;
    cluster.shutdown().await;
    Ok(())
}
