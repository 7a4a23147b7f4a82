//! An application component that learns its pod through the `pod-introspect` interface.
//!
//! It imports `pod-introspect:pod/pod-introspect@0.2.1` (world `pod-aware` in `wit/`) and, being a
//! Rust `wasm32-wasip2` binary, exports `wasi:cli/run`. Nothing here reads a file or an env var:
//! the import is satisfied by the pod-introspect guest, either by `pod-introspect run` linking its
//! bundled guest, or by composing ahead of time:
//!
//! ```text
//! wac plug pod_greeter.wasm --plug pod_introspect_guest.wasm -o greeter.wasm
//! ```
//!
//! Output, one `key: value` line each, for fields the pod exposes:
//! `pod: NAME`, `namespace: NS`, `node: NODE`, `label app: VALUE`, `limits.cpu: N millicores`.
//! Exits 1 with a message on stderr when the pod's name is not exposed.

mod bindings {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "pod-introspect:pod/pod-aware",
        generate_all,
    });
}

use bindings::pod_introspect::pod::pod_introspect as pod;

fn main() {
    let info = pod::info();
    let Some(name) = info.name else {
        eprintln!(
            "pod-greeter: the pod's name is not exposed (add a metadata.name downwardAPI item or env fieldRef)"
        );
        std::process::exit(1);
    };
    println!("pod: {name}");
    if let Some(ns) = info.namespace {
        println!("namespace: {ns}");
    }
    if let Some(node) = info.node_name {
        println!("node: {node}");
    }
    match pod::label("app") {
        Ok(Some(app)) => println!("label app: {app}"),
        Ok(None) => println!("label app: (none)"),
        Err(e) => println!("label app: error: {e:?}"),
    }
    match pod::resource_field("limits.cpu") {
        Ok(r) => match r.millicores {
            Some(m) => println!("limits.cpu: {m} millicores"),
            None => println!("limits.cpu: {} (divisor {})", r.value, r.divisor),
        },
        Err(e) => println!("limits.cpu: error: {e:?}"),
    }
}
