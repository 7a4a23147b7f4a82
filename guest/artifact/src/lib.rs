//! The pod-introspect guest component (`wasm32-wasip2`), and the example components that use it,
//! built by this crate's build script.
//!
//! The host embeds [`GUEST_WASM`]; tests that need a file on disk use [`GUEST_WASM_PATH`],
//! [`POD_GREETER_WASM_PATH`], [`CONFIG_CONSUMER_WASM_PATH`] and [`POD_HTTP_WASM_PATH`].

/// Path of the built guest component (`pod_introspect_guest.wasm`, release, wasm32-wasip2).
pub const GUEST_WASM_PATH: &str = env!("POD_INTROSPECT_GUEST_WASM");

/// The guest component's bytes.
pub const GUEST_WASM: &[u8] = include_bytes!(env!("POD_INTROSPECT_GUEST_WASM"));

/// Path of `examples/pod-greeter` built as a component: imports `pod-introspect`, exports
/// `wasi:cli/run`.
pub const POD_GREETER_WASM_PATH: &str = env!("POD_GREETER_WASM");

/// Path of `examples/config-consumer` built as a component: imports `wasi:config/store`, exports
/// `wasi:cli/run`.
pub const CONFIG_CONSUMER_WASM_PATH: &str = env!("CONFIG_CONSUMER_WASM");

/// Path of `examples/pod-http` built as a component: imports `pod-introspect`, exports
/// `wasi:http/incoming-handler`.
pub const POD_HTTP_WASM_PATH: &str = env!("POD_HTTP_WASM");
