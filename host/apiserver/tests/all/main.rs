//! End-to-end tests of the emulated API server over real HTTPS on loopback.

mod common;

mod api;
mod apply;
mod concurrency;
mod guards;
mod kubectl;
mod kubectl_resources;
mod python_client;
mod resources_api;
mod strategic_patch;
mod tls;
mod watch;
