//! `pod-introspect dev-cluster`: the Kubernetes API-server emulator as a long-running process.

use anyhow::{Context as _, Result};
use pod_introspect_apiserver::ClusterError;
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
    .map_err(|e| anyhow::anyhow!("{}", start_error(&e, args.listen)))?;
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

/// The message for a failed start: the OS error once (the emulator's error carries it), and for
/// a taken port what to do about it.
fn start_error(e: &ClusterError, listen: std::net::SocketAddr) -> String {
    match e {
        ClusterError::Bind { error, .. } if error.kind() == std::io::ErrorKind::AddrInUse => {
            format!(
                "cannot listen on --listen {listen}: {error} (another process, perhaps an earlier \
                 dev-cluster, holds the port; stop it or give another --listen)"
            )
        }
        ClusterError::Bind { error, .. } => format!("cannot listen on --listen {listen}: {error}"),
        other => format!("starting the API-server emulator on --listen {listen}: {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_taken_port_is_said_once_with_what_to_do() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = taken.local_addr().unwrap();
        let e = DevCluster::start(ClusterOptions {
            listen: addr,
            ..ClusterOptions::default()
        })
        .await
        .err()
        .unwrap();
        assert!(std::error::Error::source(&e).is_none());
        let text = start_error(&e, addr);
        assert!(
            text.starts_with(&format!("cannot listen on --listen {addr}: ")),
            "{text}"
        );
        assert!(text.contains("give another --listen"), "{text}");
        assert_eq!(text.matches("os error").count(), 1, "{text}");
    }
}
