//! The wasmtime embedding: one engine with epoch interruption, a linker with WASI 0.2 and
//! wasi:http, and a store per run with a memory cap and a deadline.

use anyhow::{Context as _, Result, anyhow};
use std::sync::OnceLock;
use std::time::Duration;
use wasmtime::component::{Component, Linker};
use wasmtime::{Config, Engine, Store};
use wasmtime_wasi::{FsPerms, WasiCtxBuilder};

use crate::outbound::{OutboundConfig, OutboundPolicy};
use crate::sandbox::Sandbox;
use crate::state::HostState;

/// How often the engine's epoch advances; deadlines are counted in these ticks.
const EPOCH_TICK: Duration = Duration::from_millis(50);

/// Typed bindings for the exports of a pod-introspect component (WIT world `introspection`).
#[allow(missing_docs)]
pub mod bindings {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "introspection",
        exports: { default: async },
        // `pod-changes.subscribe` returns wasi:io's pollable: the one wasmtime-wasi serves.
        with: { "wasi:io/poll": wasmtime_wasi::p2::bindings::io::poll },
    });
}

/// The timeout that stands for "no deadline" (`--timeout 0`): a hundred years.
pub const NO_DEADLINE: Duration = Duration::from_secs(100 * 365 * 86_400);

/// Limits applied to every guest run.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Wall-clock deadline for the whole run.
    pub timeout: Duration,
    /// Maximum linear memory per instance, in bytes.
    pub max_memory: usize,
}

/// An engine and linker shared by the runs of one process.
pub struct Runtime {
    engine: Engine,
    linker: Linker<HostState>,
}

impl Runtime {
    /// Creates the engine (Cranelift, epoch interruption) and the linker (WASI 0.2 + wasi:http).
    pub fn new() -> Result<Runtime> {
        let mut config = Config::new();
        config.epoch_interruption(true);
        let engine = Engine::new(&config)?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
        Ok(Runtime { engine, linker })
    }

    /// Loads a component, compiled or from the cache.
    pub fn load(&self, wasm: &[u8], what: &str) -> Result<Component> {
        crate::cache::load_component(&self.engine, wasm, what)
    }

    /// A store whose guest sees `sandbox` (read-only preopens, env), `args` as its arguments, the
    /// host's stdout/stderr, no sockets, the given limits, and outgoing wasi:http requests
    /// governed by `outbound`.
    pub fn store(
        &self,
        sandbox: &Sandbox,
        args: &[String],
        limits: Limits,
        outbound: &OutboundConfig,
    ) -> Result<Store<HostState>> {
        let mut wasi = WasiCtxBuilder::new();
        wasi.inherit_stdout()
            .inherit_stderr()
            .args(args)
            .envs(&sandbox.env)
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            // The guest's file operations (kubelet files of a few KiB, one `readlink` per poll
            // for pod-changes) run on the calling thread instead of tokio's blocking pool: a
            // hand-off costs more than the operation (bench/watch-pod-idle.sh).
            .allow_blocking_current_thread(true);
        for p in &sandbox.preopens {
            wasi.preopened_dir(&p.host, &p.guest, FsPerms::ReadOnly)
                .map_err(anyhow::Error::from)
                .with_context(|| format!("preopening {} at {}", p.host.display(), p.guest))?;
        }
        let mut store = Store::new(
            &self.engine,
            HostState::new(
                wasi.build(),
                OutboundPolicy::new(outbound),
                limits.max_memory,
            ),
        );
        store.limiter(|s| &mut s.limits);
        // Without a deadline nothing needs the epoch: no ticker thread waking 20 times a second
        // (most of an idle `watch-pod`'s CPU, bench/watch-pod-idle.sh).
        if limits.timeout < NO_DEADLINE {
            start_epoch_ticker(&self.engine);
        }
        let ticks = (limits.timeout.as_millis() / EPOCH_TICK.as_millis()).max(1);
        store.set_epoch_deadline(u64::try_from(ticks).unwrap_or(u64::MAX));
        store.epoch_deadline_trap();
        Ok(store)
    }

    /// The linker, for instantiation.
    pub fn linker(&self) -> &Linker<HostState> {
        &self.linker
    }
}

/// Advances the epoch of the process's engine every [`EPOCH_TICK`] from a background thread,
/// started by the first store that has a deadline.
fn start_epoch_ticker(engine: &Engine) {
    static TICKER: OnceLock<()> = OnceLock::new();
    let weak = engine.weak();
    TICKER.get_or_init(|| {
        std::thread::spawn(move || {
            loop {
                std::thread::sleep(EPOCH_TICK);
                match weak.upgrade() {
                    Some(engine) => engine.increment_epoch(),
                    None => break,
                }
            }
        });
    });
}

/// The error for a guest stopped at its deadline.
pub fn timeout_error(limits: Limits) -> anyhow::Error {
    anyhow!(
        "the component ran longer than --timeout {}s and was stopped",
        limits.timeout.as_secs_f64()
    )
}

/// Turns a guest trap into an error that says which limit was hit and which flag raises it;
/// other errors pass through with wasmtime's message (and the guest's backtrace).
pub fn explain_trap(err: wasmtime::Error, limits: Limits) -> anyhow::Error {
    if let Some(wasmtime::Trap::Interrupt) = err.downcast_ref::<wasmtime::Trap>() {
        return timeout_error(limits);
    }
    let text = format!("{err:?}");
    if text.contains("forcing trap when growing memory") || text.contains("memory minimum size") {
        return anyhow!(
            "the component tried to use more than --max-memory {} MiB of linear memory and was stopped",
            limits.max_memory / (1024 * 1024)
        );
    }
    anyhow::Error::from(err)
}
