//! `pod-introspect info`: the bundled guest's JSON report.

use crate::commands::run::run_command;
use crate::runtime::Runtime;
use crate::sandbox::Sandbox;
use anyhow::Result;
use std::process::ExitCode;

/// Name the bundled guest is given as argv[0].
pub const GUEST_NAME: &str = "pod-introspect-guest.wasm";

/// Runs the bundled guest's `wasi:cli/run` with `guest_args` in the sandbox `flags` describe.
pub async fn run_guest(
    flags: &crate::cli::SandboxArgs,
    guest_args: Vec<String>,
) -> Result<ExitCode> {
    // A watch runs until stopped (or --max-events); everything else gets the default deadline.
    let watching = guest_args.get(1).is_some_and(|a| a == "watch");
    let limits = flags.limits_or(if watching {
        0.0
    } else {
        super::DEFAULT_TIMEOUT_SECS
    })?;
    let sandbox = Sandbox::build(&flags.options())?;
    let outbound = sandbox.outbound(&flags.allow_outbound, flags.insecure_skip_tls_verify)?;
    let rt = Runtime::new()?;
    let component = rt.load(
        pod_introspect_guest_artifact::GUEST_WASM,
        "the bundled guest",
    )?;
    let mut argv = vec![GUEST_NAME.to_string()];
    argv.extend(guest_args);
    run_command(&rt, &component, &sandbox, &argv, limits, &outbound).await
}

/// The `info` subcommand: runs the bundled guest's `wasi:cli/run`, which prints the JSON.
pub async fn run(args: crate::cli::InfoArgs) -> Result<ExitCode> {
    let mut guest_args = vec!["info".to_string()];
    for (on, flag) in [
        (args.pretty, "--pretty"),
        (args.strict, "--strict"),
        (args.api, "--api"),
    ] {
        if on {
            guest_args.push(flag.to_string());
        }
    }
    run_guest(&args.sandbox, guest_args).await
}
