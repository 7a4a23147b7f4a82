//! One module per subcommand.

pub mod api;
pub mod demo;
pub mod dev_cluster;
pub mod info;
pub mod link;
pub mod proxy;
pub mod run;
pub mod simulate;
pub mod watch_pod;

use crate::cli::SandboxArgs;
use crate::runtime::Limits;
use crate::sandbox::SandboxOptions;
use anyhow::{Result, bail};
use std::time::Duration;

/// The deadline of a guest run when `--timeout` is not given, in seconds.
pub const DEFAULT_TIMEOUT_SECS: f64 = 30.0;

impl SandboxArgs {
    /// The sandbox options these flags describe.
    pub fn options(&self) -> SandboxOptions {
        SandboxOptions {
            root: self.root.clone(),
            downward: self.downward.clone(),
            env_clear: self.env_clear,
            env: self.env.clone(),
        }
    }

    /// The limits these flags describe, with a 30 s deadline unless `--timeout` says otherwise.
    /// Errors name the bad flag.
    pub fn limits(&self) -> Result<Limits> {
        self.limits_or(DEFAULT_TIMEOUT_SECS)
    }

    /// The limits, with `default_timeout` seconds (0: none) when `--timeout` is not given.
    pub fn limits_or(&self, default_timeout: f64) -> Result<Limits> {
        let timeout = self.timeout.unwrap_or(default_timeout);
        if !(timeout.is_finite() && timeout >= 0.0) {
            bail!("--timeout {timeout}: must be a number of seconds, or 0 for no deadline");
        }
        if self.max_memory == 0 {
            bail!("--max-memory 0: must be at least 1 MiB");
        }
        Ok(Limits {
            // 0 means no deadline: a long-running component (a server) runs until it exits.
            timeout: if timeout == 0.0 {
                crate::runtime::NO_DEADLINE
            } else {
                Duration::from_secs_f64(timeout.min(crate::runtime::NO_DEADLINE.as_secs_f64()))
            },
            max_memory: self.max_memory.saturating_mul(1024 * 1024),
        })
    }
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM (what the kubelet sends to stop a container).
pub async fn wait_for_shutdown() {
    use tokio::signal::unix::{SignalKind, signal};
    if let Ok(mut term) = signal(SignalKind::terminate()) {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        return;
    }
    let _ = tokio::signal::ctrl_c().await;
}
