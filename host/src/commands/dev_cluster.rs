//! `pod-introspect dev-cluster`: the Kubernetes API-server emulator as a long-running process.

use anyhow::{Context as _, Result};
use pod_introspect_apiserver::{ClusterOptions, DevCluster, RbacRules};
use std::process::ExitCode;

/// The `dev-cluster` subcommand: serves until SIGINT/SIGTERM.
pub async fn run(args: crate::cli::DevClusterArgs) -> Result<ExitCode> {
    let rbac = match &args.rbac {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("--rbac {}: cannot read", path.display()))?;
            Some(
                RbacRules::from_yaml(&text)
                    .with_context(|| format!("--rbac {}", path.display()))?,
            )
        }
        None => None,
    };
    let cluster = DevCluster::start(ClusterOptions {
        listen: args.listen,
        state_dir: args.state.clone(),
        rbac,
        ..ClusterOptions::default()
    })
    .await
    .with_context(|| {
        format!(
            "starting the API-server emulator on --listen {}",
            args.listen
        )
    })?;
    println!("Serving the Kubernetes API on {}", cluster.url());
    if let Some(dir) = &args.state {
        println!(
            "  kubeconfig (admin): {}",
            dir.join(pod_introspect_apiserver::KUBECONFIG_FILE)
                .display()
        );
        println!(
            "  cluster CA:         {}",
            dir.join(pod_introspect_apiserver::CA_CERT_FILE).display()
        );
        println!(
            "  try: kubectl --kubeconfig {} get pods -A",
            dir.join(pod_introspect_apiserver::KUBECONFIG_FILE)
                .display()
        );
    }
    super::wait_for_shutdown().await;
    cluster.shutdown().await;
    Ok(ExitCode::SUCCESS)
}
