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

fn main() {
    let keys: Vec<String> = std::env::args().skip(1).collect();
    if keys.is_empty() {
        match store::get_all() {
            Ok(pairs) => pairs.iter().for_each(|(k, v)| println!("{k}={v}")),
            Err(e) => fail(&e),
        }
        return;
    }
    for key in keys {
        match store::get(&key) {
            Ok(Some(v)) => println!("{key}={v}"),
            Ok(None) => println!("{key} is not set"),
            Err(e) => fail(&e),
        }
    }
}

fn fail(e: &store::Error) -> ! {
    eprintln!("config-consumer: wasi:config/store: {e:?}");
    std::process::exit(1);
}
