//! `pod-introspect demo`: the embedded default. Simulates the bundled example pod
//! (`examples/seed-pod.yaml`) in a temporary root, runs the bundled guest on it through the typed
//! WIT interface, and prints what the guest learned.

use crate::bundled::{BundledGuest, GuestHost};
use crate::runtime::{Limits, bindings};
use crate::sandbox::SandboxOptions;
use anyhow::Result;
use bindings::exports::pod_introspect::pod::pod_introspect::{
    ApiError, ListOptions, PodInfo, Source,
};
use k8s_openapi::api::core::v1::Pod;
use pod_introspect_apiserver::{ClusterOptions, DevCluster};
use pod_introspect_kubelet::ApiServerAccess;
use std::fmt::Write as _;
use std::process::ExitCode;
use std::time::Duration;

/// The bundled example pod.
pub const SEED_POD: &str = include_str!("../../../examples/seed-pod.yaml");

/// The `demo` subcommand.
pub async fn run(args: crate::cli::DemoArgs) -> Result<ExitCode> {
    let tmp;
    let root = match &args.keep {
        Some(dir) => dir.clone(),
        None => {
            tmp = tempfile::Builder::new()
                .prefix("pod-introspect-demo-")
                .tempdir()?;
            tmp.path().to_path_buf()
        }
    };
    // The embedded API-server emulator on a free loopback port, with the seed pod registered
    // (the API server assigns its uid, node and IPs) and two neighbours to list.
    let cluster = DevCluster::start(ClusterOptions::default()).await?;
    let manifest: Pod = serde_saphyr::from_str(SEED_POD)
        .map_err(|e| anyhow::anyhow!("examples/seed-pod.yaml: {e}"))?;
    let pod = cluster.create_pod(manifest)?;
    for (name, tier) in [("seed-web-1", "frontend"), ("seed-web-2", "frontend")] {
        let mut p: Pod = serde_saphyr::from_str(SEED_POD).map_err(|e| anyhow::anyhow!("{e}"))?;
        p.metadata.name = Some(name.to_string());
        p.metadata.labels = Some(
            [
                ("app".to_string(), "seed-demo".to_string()),
                ("tier".to_string(), tier.to_string()),
            ]
            .into(),
        );
        cluster.create_pod(p)?;
    }
    let (name, namespace) = (
        pod.metadata.name.clone().unwrap_or_default(),
        pod.metadata.namespace.clone().unwrap_or_default(),
    );
    let token = cluster.issue_pod_token(&namespace, &name, Duration::from_secs(3607))?;
    let access = ApiServerAccess {
        token,
        ca_crt: cluster.ca_pem(),
        service_host: cluster.local_addr().ip().to_string(),
        service_port: cluster.local_addr().port(),
    };
    let report = super::simulate::simulate(
        serde_json::to_string(&pod)?,
        "examples/seed-pod.yaml",
        &root,
        None,
        "cpu=4,memory=8Gi,ephemeral-storage=100Gi",
        Some(access),
    )?;
    println!(
        "Simulated the kubelet for pod {}/{} (container {}) in {}:",
        report.namespace,
        report.pod,
        report.container,
        root.display()
    );
    for v in &report.volumes {
        println!("  {:<46} {}", v.mount_path, v.files.join(", "));
    }

    let host = GuestHost::new(
        &SandboxOptions {
            root: Some(root.clone()),
            env_clear: true,
            ..SandboxOptions::default()
        },
        &[],
        false,
        Limits {
            timeout: Duration::from_secs(30),
            max_memory: 256 << 20,
        },
    )?;
    let mut guest = BundledGuest::start(&host).await?;
    host.within_deadline(show_guest(&mut guest, &cluster.url(), &namespace))
        .await?;
    cluster.shutdown().await;
    if args.keep.is_some() {
        println!();
        println!(
            "Kept the simulated root; try: pod-introspect info --root {} --env-clear --pretty",
            root.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// What the bundled `guest` learns: the Downward API, and the API server at `url` (this pod's
/// `namespace`).
async fn show_guest(guest: &mut BundledGuest, url: &str, namespace: &str) -> Result<()> {
    let info = guest.info().await?;
    println!();
    println!("What the WebAssembly guest learned through the Downward API:");
    print!("{}", render(&info));

    println!();
    println!(
        "Through the Kubernetes API at {} (in-cluster config: KUBERNETES_SERVICE_HOST/PORT, the ServiceAccount token; TLS trusting ca.crt):",
        url
    );
    let version: serde_json::Value =
        serde_json::from_str(&api_result(guest.server_version().await?)?)?;
    println!(
        "  server version         {}",
        version["gitVersion"].as_str().unwrap_or("?")
    );
    let me: serde_json::Value = serde_json::from_str(&api_result(guest.self_pod().await?)?)?;
    println!(
        "  self: uid              {}",
        me["metadata"]["uid"].as_str().unwrap_or("?")
    );
    println!(
        "  self: node             {}",
        me["spec"]["nodeName"].as_str().unwrap_or("?")
    );
    println!(
        "  self: pod IP           {}",
        me["status"]["podIP"].as_str().unwrap_or("?")
    );
    println!(
        "  self: phase            {}",
        me["status"]["phase"].as_str().unwrap_or("?")
    );
    let images: Vec<&str> = me["spec"]["containers"]
        .as_array()
        .map(|cs| cs.iter().filter_map(|c| c["image"].as_str()).collect())
        .unwrap_or_default();
    println!("  self: images           {}", images.join(", "));
    let options = ListOptions {
        namespace: Some(namespace.to_string()),
        label_selector: Some("app=seed-demo".into()),
        field_selector: None,
        limit: None,
        continue_token: None,
        resource_version: None,
        resource_version_match: None,
        timeout_seconds: None,
    };
    let list = api_result(guest.list_pods(&options).await?)?;
    println!(
        "  pods -l app=seed-demo  {} in namespace {namespace} (list resourceVersion {})",
        list.items.len(),
        list.resource_version
    );
    for item in &list.items {
        let p: serde_json::Value = serde_json::from_str(item)?;
        println!(
            "      {:<20} {:<10} {}",
            p["metadata"]["name"].as_str().unwrap_or("?"),
            p["status"]["phase"].as_str().unwrap_or("?"),
            p["metadata"]["labels"]["tier"].as_str().unwrap_or("")
        );
    }
    let forbidden = guest
        .list_pods(&ListOptions {
            namespace: Some("kube-system".into()),
            ..options.clone()
        })
        .await?;
    if let Err(ApiError::Forbidden(s)) = forbidden {
        println!("  pods -n kube-system    403 {}", s.message);
    }
    Ok(())
}

fn source_text(s: &Source) -> String {
    match s {
        Source::VolumeFile(p) => format!("file {p}"),
        Source::Env(n) => format!("env {n}"),
        Source::ServiceAccount(p) => format!("ServiceAccount {p}"),
        Source::Api(p) => format!("API {p}"),
    }
}

/// The human-readable form of `info`.
pub fn render(info: &PodInfo) -> String {
    let source = |field: &str| {
        info.sources
            .iter()
            .find(|s| s.field == field)
            .map(|s| format!("  ({})", source_text(&s.source)))
            .unwrap_or_default()
    };
    let mut out = String::new();
    let line = |out: &mut String, label: &str, value: Option<String>, field: &str| {
        let text = value.unwrap_or_else(|| "(not exposed)".into());
        let _ = writeln!(out, "  {label:<22} {text}{}", source(field));
    };
    line(&mut out, "name", info.name.clone(), "metadata.name");
    line(
        &mut out,
        "namespace",
        info.namespace.clone(),
        "metadata.namespace",
    );
    line(&mut out, "uid", info.uid.clone(), "metadata.uid");
    line(&mut out, "node", info.node_name.clone(), "spec.nodeName");
    line(
        &mut out,
        "service account",
        info.service_account_name.clone(),
        "spec.serviceAccountName",
    );
    line(
        &mut out,
        "pod IPs",
        info.pod_ips
            .as_ref()
            .map(|v| v.join(", "))
            .or(info.pod_ip.clone()),
        "status.podIPs",
    );
    line(
        &mut out,
        "host IPs",
        info.host_ips
            .as_ref()
            .map(|v| v.join(", "))
            .or(info.host_ip.clone()),
        "status.hostIPs",
    );
    for (label, map, field) in [
        ("labels", &info.labels, "metadata.labels"),
        ("annotations", &info.annotations, "metadata.annotations"),
    ] {
        match map {
            Some(pairs) => {
                line(
                    &mut out,
                    label,
                    Some(format!("{} entries", pairs.len())),
                    field,
                );
                for (k, v) in pairs {
                    let shown: String = if v.chars().count() > 60 {
                        format!("{}…", v.chars().take(60).collect::<String>())
                    } else {
                        v.clone()
                    };
                    let _ = writeln!(out, "      {k} = {shown:?}");
                }
            }
            None => line(&mut out, label, None, field),
        }
    }
    for r in &info.resources {
        let unit = match (r.millicores, r.bytes) {
            (Some(m), _) => format!(" = {m} millicores"),
            (_, Some(b)) => format!(" = {b} bytes"),
            _ => String::new(),
        };
        let _ = writeln!(
            out,
            "  {:<22} {} × {}{unit}{}",
            r.name,
            r.value,
            r.divisor,
            source(&r.name)
        );
    }
    if info.errors.is_empty() {
        let _ = writeln!(out, "  no errors");
    }
    for e in &info.errors {
        let _ = writeln!(out, "  error in {}: {:?}", e.field, e.error);
    }
    out
}

/// An API result of the guest, its error shown as is.
fn api_result<T>(r: Result<T, ApiError>) -> Result<T> {
    r.map_err(|e| anyhow::anyhow!("the guest's API call failed: {e:?}"))
}
