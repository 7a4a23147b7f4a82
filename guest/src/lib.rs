//! The pod-introspect guest component.
//!
//! Implements the WIT interface `pod-introspect:pod/pod-introspect` (see `wit/pod-introspect.wit`)
//! with standard WASI 0.2 imports only: the filesystem for downwardAPI and ServiceAccount volume
//! files, `wasi:cli/environment` for env vars, `wasi:http/outgoing-handler` for the Kubernetes
//! API. It also exports `wasi:cli/run`, which prints the same JSON as `info-json`, so `wasmtime
//! run` (or any component runtime) can run it as a command; see [`command`] for its arguments.
//! And it exports `wasi:config/store@0.2.0-rc.1`, the pod's metadata as flat keys; see
//! [`config_store`].

#![deny(missing_docs)]

pub mod api;
pub mod command;
pub mod config_store;
pub mod event_recorder;
pub mod field_table;
pub mod hints;
pub mod model;
pub mod pod_changes;
pub mod report;
pub mod resolve;
pub mod resources;
pub mod self_pod;
pub mod volume;

#[cfg(test)]
mod tests;

// The component glue, wasm32 only, layered without cycles: `world` (generated bindings) ← `wasi_http`
// (the transport) ← `instance_client`; `world` ← `convert` (model ↔ WIT); `leader` (the
// `leader-elector` resource) uses both; `exports` uses them all.
#[cfg(target_arch = "wasm32")]
mod convert;
#[cfg(target_arch = "wasm32")]
mod exports;
#[cfg(target_arch = "wasm32")]
mod instance_client;
#[cfg(target_arch = "wasm32")]
mod leader;
#[cfg(target_arch = "wasm32")]
mod wasi_http;
#[cfg(target_arch = "wasm32")]
mod world;

pub use field_table::{field, map_key};
