//! config-consumer built against `wasi:config/store@0.2.0-draft-2024-09-27`, the version Spin 3.x
//! serves and the Spin SDK imports (wit/adapters/config-draft.wit): the same program as
//! `config-consumer`. `pod-introspect link` (and `run`) plugs the draft-from-rc1 adapter in
//! between it and the pod-introspect guest, whose export is rc.1.

mod bindings {
    wit_bindgen::generate!({
        path: "../../wit/adapters/config-draft.wit",
        world: "wasi:config/imports",
        generate_all,
    });
}

use bindings::wasi::config::store;

include!("../consume.rs");
