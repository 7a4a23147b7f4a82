//! `api leader-elect` (client-go `tools/leaderelection`'s run loop around the guest's
//! `leader-elector`) and `api event`.

use super::{print_error, print_result};
use crate::bundled::{BundledGuest, print_stdout};
use crate::cli::{EventArgs, LeaderElectArgs};
use crate::runtime::bindings::exports::pod_introspect::pod::pod_introspect as wit;
use anyhow::{Result, bail};
use pod_introspect_kube::{cli_output, duration};
use serde_json::json;
use std::process::ExitCode;
use std::time::Duration;

/// The three durations of `leader-elect`, in milliseconds: `--lease-duration`,
/// `--renew-deadline` (none: the guest's default, 2/3), `--retry-period` (none: 1/5). Errors name
/// the flag.
pub(super) fn durations(a: &LeaderElectArgs) -> Result<(u32, Option<u32>, Option<u32>)> {
    let ms = |flag: &str, text: &str| -> Result<u32> {
        let d = duration::parse(text).map_err(|e| anyhow::anyhow!("{flag} {text:?}: {e}"))?;
        match u32::try_from(d.as_millis()) {
            Ok(v) if v > 0 => Ok(v),
            _ => bail!("{flag} {text:?}: must be more than 0 and at most 49 days"),
        }
    };
    Ok((
        ms("--lease-duration", &a.lease_duration)?,
        a.renew_deadline
            .as_deref()
            .map(|t| ms("--renew-deadline", t))
            .transpose()?,
        a.retry_period
            .as_deref()
            .map(|t| ms("--retry-period", t))
            .transpose()?,
    ))
}

/// One line per transition: `{"identity", "leader", "holder", "transitions"}`, printed when
/// `leader` or `holder` changes (client-go's OnStartedLeading / OnStoppedLeading / OnNewLeader),
/// and a last line with `"released": true` when the Lease was given up on exit.
fn line(state: &wit::LeaderState, released: Option<bool>) -> serde_json::Value {
    let mut v = json!({
        "identity": state.identity,
        "leader": state.leader,
        "holder": state.holder,
        "transitions": state.transitions,
    });
    if let Some(r) = released {
        v["released"] = r.into();
    }
    v
}

/// Runs the candidate until SIGTERM or SIGINT: an attempt every retry period; on a signal the
/// Lease is released if held (client-go `ReleaseOnCancel`) and the exit status is 0. An API
/// error is printed to stderr and retried at the next period, as client-go logs and retries;
/// a bad configuration ends the run with status 1.
pub(super) async fn elect(
    guest: &mut BundledGuest,
    a: &LeaderElectArgs,
    pretty: bool,
) -> Result<ExitCode> {
    let (lease_duration_ms, renew_deadline_ms, retry_period_ms) = durations(a)?;
    let config = wit::LeaderElectionConfig {
        lease_name: a.lease.clone(),
        namespace: a.namespace.clone(),
        identity: a.identity.clone(),
        lease_duration_ms,
        renew_deadline_ms,
        retry_period_ms,
    };
    let elector = guest
        .call(async |x, s| x.leader_elector().call_constructor(s, &config).await)
        .await?;
    let used = guest
        .call(async |x, s| x.leader_elector().call_config(s, elector).await)
        .await?;
    let retry = Duration::from_millis(u64::from(
        used.retry_period_ms.unwrap_or(lease_duration_ms / 5).max(1),
    ));
    // Installed before the first attempt, so a SIGTERM during a guest call is kept for the
    // next wait instead of killing the process with the Lease held.
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut last: Option<(bool, Option<String>)> = None;
    let mut last_state = None;
    let code = loop {
        let attempt = guest
            .call(async |x, s| {
                x.leader_elector()
                    .call_try_acquire_or_renew(s, elector)
                    .await
            })
            .await?;
        match attempt {
            Ok(state) => {
                let now = (state.leader, state.holder.clone());
                if last.as_ref() != Some(&now) {
                    print_stdout(&cli_output::render(&line(&state, None), pretty));
                    last = Some(now);
                }
                last_state = Some(state);
            }
            Err(wit::ApiError::Invalid(m)) => {
                break print_error(&wit::ApiError::Invalid(m), pretty);
            }
            Err(e) => {
                crate::bundled::print_stderr(&crate::bundled::failure(&e).summary());
                // A leader that cannot renew within renewDeadline is no longer leader.
                let leader = guest
                    .call(async |x, s| x.leader_elector().call_is_leader(s, elector).await)
                    .await?;
                if let Some(state) = last_state.as_mut()
                    && state.leader
                    && !leader
                {
                    state.leader = false;
                    print_stdout(&cli_output::render(&line(state, None), pretty));
                    last = Some((false, state.holder.clone()));
                }
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(retry) => {}
            _ = term.recv() => break ExitCode::SUCCESS,
            _ = interrupt.recv() => break ExitCode::SUCCESS,
        }
    };
    let was_leader = last.as_ref().is_some_and(|(l, _)| *l);
    let released = guest
        .call(async |x, s| x.leader_elector().call_release(s, elector).await)
        .await?;
    if let Err(e) = &released {
        crate::bundled::print_stderr(&crate::bundled::failure(e).summary());
    }
    if let Some(mut state) = last_state {
        if was_leader {
            state.leader = false;
            state.holder = None;
        }
        print_stdout(&cli_output::render(
            &line(&state, Some(was_leader && released.is_ok())),
            pretty,
        ));
    }
    guest.drop_resource(elector).await?;
    Ok(code)
}

/// `api event --reason R --message M [--type Normal|Warning]`.
pub(super) async fn event(
    guest: &mut BundledGuest,
    e: &EventArgs,
    pretty: bool,
) -> Result<ExitCode> {
    let options = wit::EventOptions {
        reason: e.reason.clone(),
        note: e.message.clone(),
        event_type: if e.event_type == "Warning" {
            wit::EventType::Warning
        } else {
            wit::EventType::Normal
        },
        action: e.action.clone(),
        reporting_controller: e.reporting_controller.clone(),
        reporting_instance: None,
    };
    let r = guest
        .call(async |x, s| x.call_record_event(s, &options).await)
        .await?;
    Ok(print_result(r, pretty))
}
