//! `pod-introspect run COMPONENT.wasm`: any `wasi:cli/run` component in the pod sandbox, with
//! its pod-introspect and wasi:config/store imports linked to the bundled guest ([`crate::link`]).

use crate::link;
use crate::outbound::OutboundConfig;
use crate::runtime::{Limits, Runtime, explain_trap};
use crate::sandbox::Sandbox;
use anyhow::{Context as _, Result, bail};
use pod_introspect_guest_artifact::GUEST_WASM;
use std::process::ExitCode;
use wasmtime::component::Component;
use wasmtime_wasi::p2::bindings::Command;

/// Runs `component`'s `wasi:cli/run` export with `args` (argv[0] included) in `sandbox`.
/// Returns the exit status: 0, 1 for `run` returning an error, or the guest's `exit(n)`.
pub async fn run_command(
    rt: &Runtime,
    component: &Component,
    sandbox: &Sandbox,
    args: &[String],
    limits: Limits,
    outbound: &OutboundConfig,
) -> Result<ExitCode> {
    let mut store = rt.store(sandbox, args, limits, outbound)?;
    // Epoch interruption stops running wasm; this also stops a guest blocked in a host call
    // (a sleep, a read of a FIFO), by dropping its future.
    match tokio::time::timeout(limits.timeout, call_run(&mut store, rt, component, limits)).await {
        Ok(result) => result,
        Err(_) => Err(crate::runtime::timeout_error(limits)),
    }
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
    let limits = args.sandbox.limits()?;
    let sandbox = Sandbox::build(&args.sandbox.options())?;
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
    let rt = Runtime::new()?;
    let component = rt.load(&wasm, &what)?;
    let mut argv = vec![args.component.display().to_string()];
    argv.extend(args.args);
    let outbound = sandbox.outbound(
        &args.sandbox.allow_outbound,
        args.sandbox.insecure_skip_tls_verify,
    )?;
    run_command(&rt, &component, &sandbox, &argv, limits, &outbound).await
}
