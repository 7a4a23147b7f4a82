//! The per-instance store state: WASI context, wasi:http context and policy, resource limits.

use wasmtime::component::ResourceTable;
use wasmtime::{StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use crate::outbound::OutboundPolicy;

/// What a guest's `Store` holds.
pub struct HostState {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    hooks: OutboundPolicy,
    table: ResourceTable,
    /// Memory and instance caps, enforced through `Store::limiter`.
    pub limits: StoreLimits,
}

impl HostState {
    /// A state with `wasi` as the guest's WASI context, `hooks` deciding and sending its outgoing
    /// HTTP requests, and at most `max_memory` bytes of linear memory per instance.
    pub fn new(wasi: WasiCtx, hooks: OutboundPolicy, max_memory: usize) -> HostState {
        HostState {
            wasi,
            http: WasiHttpCtx::new(),
            hooks,
            table: ResourceTable::new(),
            limits: StoreLimitsBuilder::new()
                .memory_size(max_memory)
                .trap_on_grow_failure(true)
                .build(),
        }
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for HostState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.hooks,
        }
    }
}
