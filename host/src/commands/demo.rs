//! `pod-introspect demo`: the embedded default. Simulates the bundled example pod
//! (`examples/seed-pod.yaml`) in a temporary root, runs the bundled guest on it through the typed
//! WIT interface, and prints what the guest learned.

use crate::runtime::{Limits, Runtime, bindings, explain_trap};
use crate::sandbox::{Sandbox, SandboxOptions};
use anyhow::Result;
use bindings::exports::pod_introspect::pod::pod_introspect::{PodInfo, Source};
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
    let report = super::simulate::simulate(
        SEED_POD.to_string(),
        "examples/seed-pod.yaml",
        &root,
        None,
        "cpu=4,memory=8Gi,ephemeral-storage=100Gi",
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

    let sandbox = Sandbox::build(&SandboxOptions {
        root: Some(root.clone()),
        env_clear: true,
        ..SandboxOptions::default()
    })?;
    let limits = Limits {
        timeout: Duration::from_secs(30),
        max_memory: 256 << 20,
    };
    let rt = Runtime::new()?;
    let component = rt.load(
        pod_introspect_guest_artifact::GUEST_WASM,
        "the bundled guest",
    )?;
    let mut store = rt.store(&sandbox, &["pod-introspect-guest.wasm".to_string()], limits)?;
    let guest = bindings::Introspection::instantiate_async(&mut store, &component, rt.linker())
        .await
        .map_err(|e| explain_trap(e, limits).context("instantiating the bundled guest"))?;
    let info = guest
        .pod_introspect_pod_pod_introspect()
        .call_info(&mut store)
        .await
        .map_err(|e| explain_trap(e, limits))?;
    println!();
    println!("What the WebAssembly guest learned through the Downward API:");
    print!("{}", render(&info));
    if args.keep.is_some() {
        println!();
        println!(
            "Kept the simulated root; try: pod-introspect info --root {} --env-clear --pretty",
            root.display()
        );
    }
    Ok(ExitCode::SUCCESS)
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
