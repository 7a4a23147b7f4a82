//! `pod-introspect run COMPONENT.wasm`: any `wasi:cli/run` component in the pod sandbox, with
//! its pod-introspect and wasi:config/store imports linked to the bundled guest ([`crate::link`]).

use crate::bundled::GuestHost;
use crate::link;
use crate::runtime::{Limits, Runtime, explain_trap};
use anyhow::{Context as _, Result, bail};
use pod_introspect_guest_artifact::GUEST_WASM;
use std::process::ExitCode;
use wasmtime::component::Component;
use wasmtime_wasi::p2::bindings::Command;

/// Runs `component`'s `wasi:cli/run` export with `args` (argv[0] included) in `host`'s sandbox,
/// under its deadline. Returns the exit status: 0, 1 for `run` returning an error, or the
/// guest's `exit(n)`.
pub async fn run_command(
    host: &GuestHost,
    component: &Component,
    args: &[String],
) -> Result<ExitCode> {
    let mut store = host.store(args)?;
    host.within_deadline(call_run(&mut store, &host.runtime, component, host.limits))
        .await
}

async fn call_run(
    store: &mut wasmtime::Store<crate::state::HostState>,
    rt: &Runtime,
    component: &Component,
    limits: Limits,
) -> Result<ExitCode> {
    let mut store = store;
    let command = Command::instantiate_async(&mut store, component, rt.linker())
        .await
        .map_err(|e| explain_trap(e, limits).context("instantiating the component"))?;
    match command.wasi_cli_run().call_run(&mut store).await {
        Ok(Ok(())) => Ok(ExitCode::SUCCESS),
        Ok(Err(())) => Ok(ExitCode::FAILURE),
        Err(e) => {
            if let Some(exit) = e.downcast_ref::<wasmtime_wasi::I32Exit>() {
                return Ok(ExitCode::from(u8::try_from(exit.0).unwrap_or(1)));
            }
            Err(explain_trap(e, limits))
        }
    }
}

/// The `run` subcommand.
pub async fn run(args: crate::cli::RunArgs) -> Result<ExitCode> {
    let host = GuestHost::from_flags(&args.sandbox, super::DEFAULT_TIMEOUT_SECS)?;
    let what = args.component.display().to_string();
    let mut wasm =
        std::fs::read(&args.component).with_context(|| format!("reading component {what}"))?;
    let parsed = link::ParsedApp::parse(&wasm, &what)?;
    let facts = &parsed.facts;
    if !facts.is_command() {
        let exports = if facts.exports.is_empty() {
            "nothing".to_string()
        } else {
            facts.exports.join(", ")
        };
        let how = if facts.guest_imports.is_empty() {
            "serve an HTTP component with a wasi:http runtime such as `wasmtime serve`"
        } else {
            "for an HTTP component, write it linked with `pod-introspect link` and serve that \
             with a wasi:http runtime such as `wasmtime serve`"
        };
        bail!(
            "{what} does not export wasi:cli/run (it exports {exports}), so `run` has nothing to \
             call; {how}"
        );
    }
    if args.no_link {
        if !facts.guest_imports.is_empty() {
            bail!(
                "{what} imports {}, which --no-link leaves unsatisfied: drop --no-link to link the \
                 bundled guest",
                facts.guest_imports.join(" and ")
            );
        }
    } else if let Some(linked) = parsed.plug(GUEST_WASM)? {
        tracing::debug!(component = %what, "linked the bundled guest into the component's imports");
        wasm = linked;
    }
    let component = host.runtime.load(&wasm, &what)?;
    let mut argv = vec![args.component.display().to_string()];
    argv.extend(args.args);
    run_command(&host, &component, &argv).await
}
