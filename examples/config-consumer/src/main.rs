//! A component that reads its configuration from `wasi:config/store@0.2.0-rc.1` and knows nothing
//! of Kubernetes or pod-introspect. Composed with the pod-introspect guest (which exports that
//! interface), it learns its pod; in wasmtime with `-S config` or in wasmCloud it reads whatever
//! config the runtime supplies.
//!
//! With no arguments it prints every pair from `get-all` as `KEY=VALUE` lines; with arguments it
//! prints `KEY=VALUE` for each key that is set and `KEY is not set` for each that is not. A store
//! error is printed on stderr and exits 1.

mod bindings {
    wit_bindgen::generate!({
        path: "../../wit/deps/config.wit",
        world: "wasi:config/imports",
        generate_all,
    });
}

use bindings::wasi::config::store;

include!("consume.rs");
