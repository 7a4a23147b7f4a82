//! `pod-introspect simulate`: plays the kubelet for one container of a Pod manifest.

use anyhow::{Context as _, Result};
use pod_introspect_kubelet::{NodeAllocatable, SimulateOptions, SimulateReport};
use std::path::Path;
use std::process::ExitCode;

/// Simulates `pod_yaml` (named `manifest_name` in messages) into `root`.
pub fn simulate(
    pod_yaml: String,
    manifest_name: &str,
    root: &Path,
    container: Option<String>,
    node_allocatable: &str,
) -> Result<SimulateReport> {
    let node_allocatable: NodeAllocatable = node_allocatable
        .parse()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let report = pod_introspect_kubelet::simulate(&SimulateOptions {
        pod_yaml,
        manifest_name: manifest_name.to_string(),
        root: root.to_path_buf(),
        container,
        node_allocatable,
    })?;
    Ok(report)
}

/// The `simulate` subcommand.
pub fn run(args: crate::cli::SimulateArgs) -> Result<ExitCode> {
    let text = std::fs::read_to_string(&args.pod)
        .with_context(|| format!("--pod {}: cannot read the manifest", args.pod.display()))?;
    let report = simulate(
        text,
        &args.pod.display().to_string(),
        &args.root,
        args.container,
        &args.node_allocatable,
    )?;
    println!(
        "simulated pod {}/{} container {} under {}",
        report.namespace,
        report.pod,
        report.container,
        args.root.display()
    );
    for v in &report.volumes {
        println!(
            "  volume {:<24} {:<48} {} ({})",
            v.name,
            v.mount_path,
            v.version_dir,
            v.files.join(", ")
        );
    }
    println!(
        "  sandbox description        {}",
        report.sandbox_file.display()
    );
    for note in &report.notes {
        println!("  note: {note}");
    }
    println!(
        "next: pod-introspect info --root {} --env-clear",
        args.root.display()
    );
    Ok(ExitCode::SUCCESS)
}
