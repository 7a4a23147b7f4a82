//! Running components for a command, in one place: [`GuestHost`] is the sandbox → outbound
//! policy → runtime → store sequence every command that runs a component shares (`info`, `api`,
//! `demo`, `run`, the benchmarks), and [`BundledGuest`] is the embedded guest
//! ([`pod_introspect_guest_artifact::GUEST_WASM`]) instantiated there and driven through its
//! typed WIT exports (world `introspection`, [`crate::runtime::bindings`]).
//!
//! The host never re-encodes its parsed flags as the guest's `wasi:cli/run` argv: that grammar
//! (the guest's `command` module) is for `wasmtime run` and other runtimes. What both print is
//! rendered by `pod_introspect_kube::cli_output` and the guest's `info-report` export.

use crate::cli::SandboxArgs;
use crate::outbound::OutboundConfig;
use crate::runtime::{Limits, Runtime, bindings, explain_trap, timeout_error};
use crate::sandbox::{Sandbox, SandboxOptions};
use crate::state::HostState;
use anyhow::Result;
use bindings::exports::pod_introspect::pod::pod_introspect as wit;
use pod_introspect_kube::cli_output::{ApiErrorKind, ApiFailure, FailureDetail, WatchEventType};
use std::future::Future;
use wasmtime::Store;
use wasmtime::component::ResourceAny;

/// Name the bundled guest is given as argv[0].
pub const GUEST_NAME: &str = "pod-introspect-guest.wasm";

/// The sandbox, outbound policy, limits and runtime one command runs its components in.
pub struct GuestHost {
    /// The engine and linker.
    pub runtime: Runtime,
    /// What the guest sees: preopens and env.
    pub sandbox: Sandbox,
    /// Where its wasi:http requests may go, and the TLS trust for them.
    pub outbound: OutboundConfig,
    /// The deadline and the memory cap.
    pub limits: Limits,
}

impl GuestHost {
    /// From a command's sandbox flags, with `default_timeout` seconds (0: none) unless
    /// `--timeout` is given.
    ///
    /// Errors: a bad flag (named: `--timeout`, `--max-memory`, `--root`, `--downward`,
    /// `--allow-outbound`), or the engine cannot be created.
    pub fn from_flags(flags: &SandboxArgs, default_timeout: f64) -> Result<GuestHost> {
        let limits = flags.limits_or(default_timeout)?;
        GuestHost::new(
            &flags.options(),
            &flags.allow_outbound,
            flags.insecure_skip_tls_verify,
            limits,
        )
    }

    /// Builds the sandbox `options` describe, the outbound policy (`allow_outbound` origins besides
    /// the API server; `insecure` skips certificate verification) and the runtime.
    ///
    /// Errors: as [`Sandbox::build`] and [`Sandbox::outbound`], or the engine cannot be created.
    pub fn new(
        options: &SandboxOptions,
        allow_outbound: &[String],
        insecure: bool,
        limits: Limits,
    ) -> Result<GuestHost> {
        let sandbox = Sandbox::build(options)?;
        let outbound = sandbox.outbound(allow_outbound, insecure)?;
        let runtime = Runtime::new()?;
        Ok(GuestHost {
            runtime,
            sandbox,
            outbound,
            limits,
        })
    }

    /// A store for one instance, whose guest gets `args` (argv[0] included).
    pub fn store(&self, args: &[String]) -> Result<Store<HostState>> {
        self.runtime
            .store(&self.sandbox, args, self.limits, &self.outbound)
    }

    /// Runs `work` under the deadline. Epoch interruption stops running wasm; this also stops a
    /// guest blocked in a host call (a sleep, a read of a FIFO, a watch), by dropping its future.
    /// Loading a component (a first compile takes seconds) is not `work`: the deadline is the
    /// component's.
    ///
    /// Errors: `work`'s, or the deadline passed (naming `--timeout`).
    pub async fn within_deadline<T>(&self, work: impl Future<Output = Result<T>>) -> Result<T> {
        match tokio::time::timeout(self.limits.timeout, work).await {
            Ok(result) => result,
            Err(_) => Err(timeout_error(self.limits)),
        }
    }
}

/// The bundled guest, instantiated in a [`GuestHost`], with typed calls to its exports. Each
/// call's outer `Result` is a trap (the deadline, `--max-memory`, a guest panic), explained by
/// [`explain_trap`]; the inner one is the WIT result.
pub struct BundledGuest {
    store: Store<HostState>,
    guest: bindings::Introspection,
    limits: Limits,
}

/// A running `pod-watch` of the guest.
pub struct Watch(ResourceAny);

impl BundledGuest {
    /// Loads the bundled guest (compiled, or from the cache) and instantiates it in `host`.
    ///
    /// Errors: the component cannot be compiled or instantiated (e.g. `--max-memory` too small).
    pub async fn start(host: &GuestHost) -> Result<BundledGuest> {
        let component = host.runtime.load(
            pod_introspect_guest_artifact::GUEST_WASM,
            "the bundled guest",
        )?;
        let mut store = host.store(&[GUEST_NAME.to_string()])?;
        let guest = bindings::Introspection::instantiate_async(
            &mut store,
            &component,
            host.runtime.linker(),
        )
        .await
        .map_err(|e| explain_trap(e, host.limits).context("instantiating the bundled guest"))?;
        Ok(BundledGuest {
            store,
            guest,
            limits: host.limits,
        })
    }

    /// Any call of the guest's `pod-introspect` exports: `f` gets the interface's typed functions
    /// and the store, e.g. `guest.call(async |g, s| g.call_resolve_resource(s, "deploy").await)`.
    /// A trap is explained as for the named calls below.
    pub async fn call<R>(
        &mut self,
        f: impl AsyncFnOnce(&wit::Guest, &mut Store<HostState>) -> wasmtime::Result<R>,
    ) -> Result<R> {
        let r = f(
            self.guest.pod_introspect_pod_pod_introspect(),
            &mut self.store,
        )
        .await;
        r.map_err(|e| explain_trap(e, self.limits))
    }

    /// Drops a guest resource (a watch, a leader elector), running its destructor.
    pub async fn drop_resource(&mut self, resource: ResourceAny) -> Result<()> {
        let r = resource.resource_drop_async(&mut self.store).await;
        r.map_err(|e| explain_trap(e, self.limits))
    }

    /// `info`: everything the pod exposes.
    pub async fn info(&mut self) -> Result<wit::PodInfo> {
        let r = self
            .guest
            .pod_introspect_pod_pod_introspect()
            .call_info(&mut self.store)
            .await;
        r.map_err(|e| explain_trap(e, self.limits))
    }

    /// `info-report`: the `info` JSON (with `api`, completed from the pod's API object; indented
    /// when `pretty`), its error count and the note when nothing was found.
    pub async fn info_report(&mut self, api: bool, pretty: bool) -> Result<wit::CommandReport> {
        let options = wit::InfoOptions { api, pretty };
        let r = self
            .guest
            .pod_introspect_pod_pod_introspect()
            .call_info_report(&mut self.store, options)
            .await;
        r.map_err(|e| explain_trap(e, self.limits))
    }

    /// `field`: one field by fieldPath.
    pub async fn field(&mut self, path: &str) -> Result<Result<String, wit::Error>> {
        let r = self
            .guest
            .pod_introspect_pod_pod_introspect()
            .call_field(&mut self.store, path)
            .await;
        r.map_err(|e| explain_trap(e, self.limits))
    }

    /// `server-version`: `GET /version` as JSON.
    pub async fn server_version(&mut self) -> Result<Result<String, wit::ApiError>> {
        let r = self
            .guest
            .pod_introspect_pod_pod_introspect()
            .call_server_version(&mut self.store)
            .await;
        r.map_err(|e| explain_trap(e, self.limits))
    }

    /// `get`: any API path with query parameters.
    pub async fn get(
        &mut self,
        path: &str,
        query: &[(String, String)],
    ) -> Result<Result<wit::ApiResponse, wit::ApiError>> {
        let r = self
            .guest
            .pod_introspect_pod_pod_introspect()
            .call_get(&mut self.store, path, query)
            .await;
        r.map_err(|e| explain_trap(e, self.limits))
    }

    /// `list-pods`: one page of pods.
    pub async fn list_pods(
        &mut self,
        options: &wit::ListOptions,
    ) -> Result<Result<wit::PodList, wit::ApiError>> {
        let r = self
            .guest
            .pod_introspect_pod_pod_introspect()
            .call_list_pods(&mut self.store, options)
            .await;
        r.map_err(|e| explain_trap(e, self.limits))
    }

    /// `self-pod`: this pod's own object as JSON.
    pub async fn self_pod(&mut self) -> Result<Result<String, wit::ApiError>> {
        let r = self
            .guest
            .pod_introspect_pod_pod_introspect()
            .call_self_pod(&mut self.store)
            .await;
        r.map_err(|e| explain_trap(e, self.limits))
    }

    /// Starts a `pod-watch` (the request is sent on the first [`BundledGuest::next_event`]).
    pub async fn watch(&mut self, options: &wit::WatchOptions) -> Result<Watch> {
        let r = self
            .guest
            .pod_introspect_pod_pod_introspect()
            .pod_watch()
            .call_constructor(&mut self.store, options)
            .await;
        r.map(Watch).map_err(|e| explain_trap(e, self.limits))
    }

    /// The next event of `watch`, blocking until one arrives.
    pub async fn next_event(
        &mut self,
        watch: &Watch,
    ) -> Result<Result<wit::WatchEvent, wit::ApiError>> {
        let r = self
            .guest
            .pod_introspect_pod_pod_introspect()
            .pod_watch()
            .call_next(&mut self.store, watch.0)
            .await;
        r.map_err(|e| explain_trap(e, self.limits))
    }

    /// Ends `watch` (drops the guest's resource and its connection).
    pub async fn end_watch(&mut self, watch: Watch) -> Result<()> {
        let r = watch.0.resource_drop_async(&mut self.store).await;
        r.map_err(|e| explain_trap(e, self.limits))
    }
}

/// A WIT `api-error` as the command lines print it (`pod_introspect_kube::cli_output`).
pub fn failure(e: &wit::ApiError) -> ApiFailure<'_> {
    use wit::ApiError as E;
    let (kind, status) = match e {
        E::NotInCluster(m) => (ApiErrorKind::NotInCluster, Err(m)),
        E::Credentials(m) => (ApiErrorKind::Credentials, Err(m)),
        E::Unauthorized(s) => (ApiErrorKind::Unauthorized, Ok(s)),
        E::Forbidden(s) => (ApiErrorKind::Forbidden, Ok(s)),
        E::NotFound(s) => (ApiErrorKind::NotFound, Ok(s)),
        E::Gone(s) => (ApiErrorKind::Gone, Ok(s)),
        E::Conflict(s) => (ApiErrorKind::Conflict, Ok(s)),
        E::Rejected(s) => (ApiErrorKind::Rejected, Ok(s)),
        E::ServerError(s) => (ApiErrorKind::ServerError, Ok(s)),
        E::Transport(m) => (ApiErrorKind::Transport, Err(m)),
        E::Tls(m) => (ApiErrorKind::Tls, Err(m)),
        E::Invalid(m) => (ApiErrorKind::Invalid, Err(m)),
    };
    let detail = match status {
        Ok(s) => FailureDetail::Status {
            code: s.code,
            reason: &s.reason,
            message: &s.message,
            status: &s.status,
        },
        Err(m) => FailureDetail::Message(m),
    };
    ApiFailure { kind, detail }
}

/// A WIT `watch-event-kind` as the API server names it.
pub fn event_type(kind: wit::WatchEventKind) -> WatchEventType {
    match kind {
        wit::WatchEventKind::Added => WatchEventType::Added,
        wit::WatchEventKind::Modified => WatchEventType::Modified,
        wit::WatchEventKind::Deleted => WatchEventType::Deleted,
        wit::WatchEventKind::Bookmark => WatchEventType::Bookmark,
    }
}

/// Prints `text` and a newline on stdout, ignoring a closed stdout (`| head`), as the guest does.
/// Says whether the line was written: false when stdout is closed (EPIPE; stdout is line-buffered,
/// so the newline flushes it), for a command that should stop then (`watch-pod`).
pub fn print_stdout(text: &str) -> bool {
    use std::io::Write as _;
    writeln!(std::io::stdout(), "{text}").is_ok()
}

/// Prints `text` and a newline on stderr, ignoring a closed stderr.
pub fn print_stderr(text: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "{text}");
}

#[cfg(test)]
mod tests;
