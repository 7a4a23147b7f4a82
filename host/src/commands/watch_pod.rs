//! `pod-introspect watch-pod`: the bundled guest's `pod-changes`, one JSON line per change on
//! stdout, and `--exec CMD` run with the change on its stdin (what configmap-reload and
//! similar sidecars do for a mounted volume).

use crate::bundled::{BundledGuest, GuestHost, print_stderr, print_stdout};
use anyhow::{Context as _, Result};
use std::process::{ExitCode, Stdio};
use tokio::io::AsyncWriteExt as _;

/// How long one `next` call waits before the host looks at its signals again, in ms.
const NEXT_SLICE_MS: u32 = 60_000;

/// The `watch-pod` subcommand: exits 0 on SIGTERM or Ctrl-C.
pub async fn run(args: crate::cli::WatchPodArgs) -> Result<ExitCode> {
    let host = GuestHost::from_flags(&args.sandbox, 0.0)?;
    let mut guest = BundledGuest::start(&host).await?;
    let changes = guest
        .call(async |g, s| {
            g.pod_changes()
                .call_constructor(s, Some(args.interval))
                .await
        })
        .await?;
    print_stderr(&pod_introspect_kube::cli_output::watch_pod_started(
        args.interval,
    ));
    let shutdown = super::wait_for_shutdown();
    tokio::pin!(shutdown);
    loop {
        let next = guest.call(async |g, s| {
            g.pod_changes()
                .call_next(s, changes, Some(NEXT_SLICE_MS))
                .await
        });
        let change = tokio::select! {
            _ = &mut shutdown => return Ok(ExitCode::SUCCESS),
            change = next => change?,
        };
        let Some(change) = change else { continue };
        if !print_stdout(&change.json) {
            // The reader of stdout is gone (`watch-pod | head -1`): nothing more to tell.
            return Ok(ExitCode::SUCCESS);
        }
        if let Some(cmd) = &args.exec {
            tokio::select! {
                _ = &mut shutdown => return Ok(ExitCode::SUCCESS),
                _ = exec(cmd, &change.json) => {}
            }
        }
    }
}

/// Runs `cmd` with `sh -c`, `line` and a newline on its stdin, its stdout sent to stderr (stdout
/// carries only the change lines); a failure is logged. Dropped (SIGTERM), the child is killed.
async fn exec(cmd: &str, line: &str) {
    let result: Result<std::process::ExitStatus> = async {
        let mut child = tokio::process::Command::new("sh")
            .arg("-c")
            .arg(cmd)
            .stdin(Stdio::piped())
            .stdout(Stdio::from(std::io::stderr()))
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("--exec {cmd:?}: cannot start sh"))?;
        if let Some(mut stdin) = child.stdin.take() {
            // A command that does not read its stdin closes it: not an error.
            let _ = stdin.write_all(format!("{line}\n").as_bytes()).await;
        }
        child
            .wait()
            .await
            .with_context(|| format!("--exec {cmd:?}"))
    }
    .await;
    match result {
        Ok(status) if status.success() => {}
        Ok(status) => print_stderr(&format!("watch-pod: --exec {cmd:?} exited with {status}")),
        Err(e) => print_stderr(&format!("watch-pod: {e:#}")),
    }
}
