//! `pod-introspect info`: the bundled guest's JSON report, through its `info-report` export.

use crate::bundled::{BundledGuest, GuestHost, print_stderr, print_stdout};
use anyhow::Result;
use pod_introspect_kube::cli_output;
use std::process::ExitCode;

/// The `info` subcommand: prints the guest's report; exit status 1 under `--strict` when a field
/// had an error or no Downward API source was found (then noted on stderr in any case).
pub async fn run(args: crate::cli::InfoArgs) -> Result<ExitCode> {
    let host = GuestHost::from_flags(&args.sandbox, super::DEFAULT_TIMEOUT_SECS)?;
    let mut guest = BundledGuest::start(&host).await?;
    let report = host
        .within_deadline(guest.info_report(args.api, args.pretty))
        .await?;
    print_stdout(&report.json);
    // The guest names container paths; say where they are on this machine.
    let note = report.nothing_found.map(|note| match &host.sandbox.root {
        Some(root) => format!("{note} (container paths, under --root {})", root.display()),
        None => note,
    });
    let (lines, failed) =
        cli_output::info_outcome(report.error_count as usize, note.as_deref(), args.strict);
    for line in lines {
        print_stderr(&line);
    }
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
