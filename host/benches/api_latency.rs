//! Kubernetes API latency through the guest (wasi:http, the host's rustls sender) against the
//! anchor, a native Rust client (hyper + rustls, `pod_introspect_apiserver::client`), on the same
//! in-process API-server emulator, in one run. Both open one connection per request.
//!
//! Run: `cargo bench -p pod-introspect --bench api_latency` (optionally `-- ROUNDS`, default 50).
//! Prints a markdown table of medians and ratios (guest / native).

use k8s_openapi::api::core::v1::Pod;
use pod_introspect::bundled::{BundledGuest, GuestHost};
use pod_introspect::runtime::{Limits, bindings};
use pod_introspect::sandbox::SandboxOptions;
use pod_introspect_apiserver::client::Client;
use pod_introspect_apiserver::{ClusterOptions, DevCluster};
use pod_introspect_kubelet::{ApiServerAccess, SimulateOptions};
use std::time::{Duration, Instant};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(50);
    let cluster = DevCluster::start(ClusterOptions::default()).await?;
    let pod_yaml = "apiVersion: v1\nkind: Pod\nmetadata: {name: bench-self, namespace: bench}\nspec:\n  containers: [{name: app, image: app:1}]\n";
    let me = cluster.create_pod(serde_saphyr::from_str::<Pod>(pod_yaml)?)?;
    for i in 0..499 {
        let mut p: Pod = serde_saphyr::from_str(pod_yaml)?;
        p.metadata.name = Some(format!("bench-{i:03}"));
        p.metadata.labels = Some([("app".to_string(), "bench".to_string())].into());
        cluster.create_pod(p)?;
    }
    let token = cluster.issue_pod_token("bench", "bench-self", Duration::from_secs(3600))?;
    let root = tempfile::tempdir()?;
    pod_introspect_kubelet::simulate(&SimulateOptions {
        pod_yaml: serde_json::to_string(&me)?,
        manifest_name: "bench".into(),
        root: root.path().to_path_buf(),
        container: None,
        node_allocatable: Default::default(),
        api_server: Some(ApiServerAccess {
            token: token.clone(),
            ca_crt: cluster.ca_pem(),
            service_host: cluster.local_addr().ip().to_string(),
            service_port: cluster.local_addr().port(),
        }),
    })?;
    let host = GuestHost::new(
        &SandboxOptions {
            root: Some(root.path().to_path_buf()),
            env_clear: true,
            ..Default::default()
        },
        &[],
        false,
        Limits {
            timeout: Duration::from_secs(600),
            max_memory: 1 << 30,
        },
    )?;
    let mut guest = BundledGuest::start(&host).await?;
    let native = Client::new(&cluster.url(), &cluster.ca_pem(), Some(token))?;
    let options = bindings::exports::pod_introspect::pod::pod_introspect::ListOptions {
        namespace: Some("bench".into()),
        label_selector: None,
        field_selector: None,
        limit: None,
        continue_token: None,
        resource_version: None,
    };

    // Warm up both paths (and check they agree).
    let v = guest.server_version().await?;
    assert!(v.is_ok(), "{v:?}");
    let list = guest.list_pods(&options).await?;
    assert_eq!(
        list.as_ref().map(|l| l.items.len()).unwrap_or(0),
        500,
        "{:?}",
        list.err()
    );
    let (status, body) = native.get("/api/v1/namespaces/bench/pods").await?;
    assert!(status.is_success());
    let list_bytes = body.len();

    let (mut gv, mut nv, mut gl, mut nl) = (vec![], vec![], vec![], vec![]);
    for _ in 0..rounds {
        let t = Instant::now();
        let r = guest.server_version().await?;
        gv.push(t.elapsed());
        assert!(r.is_ok());
        let t = Instant::now();
        let (s, _) = native.get("/version").await?;
        nv.push(t.elapsed());
        assert!(s.is_success());
        let t = Instant::now();
        let r = guest.list_pods(&options).await?;
        gl.push(t.elapsed());
        assert_eq!(r.map(|l| l.items.len()).unwrap_or(0), 500);
        let t = Instant::now();
        let (s, b) = native.get("/api/v1/namespaces/bench/pods").await?;
        // The native client also parses the list, as the guest does.
        let parsed: serde_json::Value = serde_json::from_slice(&b)?;
        nl.push(t.elapsed());
        assert!(s.is_success() && parsed["items"].as_array().map(Vec::len) == Some(500));
    }
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let (gv, nv, gl, nl) = (median(gv), median(nv), median(gl), median(nl));
    println!("{rounds} rounds, medians; list body {list_bytes} bytes (500 pods)");
    println!("| call | guest via wasi:http (ms) | native hyper+rustls (ms) | guest / native |");
    println!("|---|---|---|---|");
    println!(
        "| GET /version | {:.2} | {:.2} | {:.2} |",
        ms(gv),
        ms(nv),
        ms(gv) / ms(nv)
    );
    println!(
        "| list 500 pods | {:.2} | {:.2} | {:.2} |",
        ms(gl),
        ms(nl),
        ms(gl) / ms(nl)
    );
    cluster.shutdown().await;
    Ok(())
}
