//! The pod-introspect guest component (`wasm32-wasip2`), built by this crate's build script.
//!
//! The host embeds [`GUEST_WASM`]; tests that need a file on disk use [`GUEST_WASM_PATH`].

/// Path of the built guest component (`pod_introspect_guest.wasm`, release, wasm32-wasip2).
pub const GUEST_WASM_PATH: &str = env!("POD_INTROSPECT_GUEST_WASM");

/// The guest component's bytes.
pub const GUEST_WASM: &[u8] = include_bytes!(env!("POD_INTROSPECT_GUEST_WASM"));
