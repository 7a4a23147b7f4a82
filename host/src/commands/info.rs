//! `pod-introspect info`: the bundled guest's JSON report.

use crate::commands::run::run_command;
use crate::runtime::Runtime;
use crate::sandbox::Sandbox;
use anyhow::Result;
use std::process::ExitCode;

/// Name the bundled guest is given as argv[0].
pub const GUEST_NAME: &str = "pod-introspect-guest.wasm";

/// The `info` subcommand: runs the bundled guest's `wasi:cli/run`, which prints the JSON.
pub async fn run(args: crate::cli::InfoArgs) -> Result<ExitCode> {
    let limits = args.sandbox.limits()?;
    let sandbox = Sandbox::build(&args.sandbox.options())?;
    let rt = Runtime::new()?;
    let component = rt.load(
        pod_introspect_guest_artifact::GUEST_WASM,
        "the bundled guest",
    )?;
    let mut argv = vec![GUEST_NAME.to_string()];
    if args.pretty {
        argv.push("--pretty".into());
    }
    if args.strict {
        argv.push("--strict".into());
    }
    run_command(&rt, &component, &sandbox, &argv, limits).await
}
