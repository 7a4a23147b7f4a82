//! The pod-introspect host: a wasmtime 48 embedding that runs WebAssembly components in a
//! pod-shaped sandbox (read-only preopens of the pod's volumes, the container's env, a memory cap
//! and a deadline), supplies the TLS that trusts the cluster CA for their `wasi:http` requests,
//! and plays the kubelet's Downward API for them. The `pod-introspect` binary is a thin CLI over
//! these modules; see README.md.

#![deny(missing_docs)]

pub mod bundled;
pub mod cache;
pub mod cli;
pub mod commands;
pub mod credential_files;
pub mod link;
pub mod outbound;
pub mod proxy;
pub mod runtime;
pub mod sandbox;
pub mod state;
mod trust;
