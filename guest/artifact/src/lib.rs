//! The pod-introspect guest component (`wasm32-wasip2`), and the example components that use it,
//! built by this crate's build script.
//!
//! The host embeds [`GUEST_WASM`] and [`CONFIG_DRAFT_FROM_RC1_WASM`]; tests that need a file on
//! disk use the `*_PATH` constants.

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

/// Path of `examples/config-consumer`'s twin built against Spin's
/// `wasi:config/store@0.2.0-draft-2024-09-27` (`config-consumer-draft`).
pub const CONFIG_CONSUMER_DRAFT_WASM_PATH: &str = env!("CONFIG_CONSUMER_DRAFT_WASM");

/// The `draft-from-rc1` version adapter (guest/adapters): exports
/// `wasi:config/store@0.2.0-draft-2024-09-27`, imports `@0.2.0-rc.1`. The host embeds it to link
/// a draft consumer with the guest.
pub const CONFIG_DRAFT_FROM_RC1_WASM: &[u8] = include_bytes!(env!("CONFIG_DRAFT_FROM_RC1_WASM"));

/// Path of [`CONFIG_DRAFT_FROM_RC1_WASM`].
pub const CONFIG_DRAFT_FROM_RC1_WASM_PATH: &str = env!("CONFIG_DRAFT_FROM_RC1_WASM");

/// Path of the `rc1-from-draft` version adapter (guest/adapters): exports
/// `wasi:config/store@0.2.0-rc.1`, imports `@0.2.0-draft-2024-09-27` (an rc.1 consumer in Spin).
pub const CONFIG_RC1_FROM_DRAFT_WASM_PATH: &str = env!("CONFIG_RC1_FROM_DRAFT_WASM");

/// Path of the `env-from-config` component (guest/adapters): exports `wasi:cli/environment` with
/// the runtime's configuration keys added as `POD_INTROSPECT_CONFIG_<key>` env vars, imports
/// `wasi:config/store@0.2.0-draft-2024-09-27`.
pub const ENV_FROM_CONFIG_WASM_PATH: &str = env!("ENV_FROM_CONFIG_WASM");
