//! `wasi:config/store@0.2.0-draft-2024-09-27` exported from an `@0.2.0-rc.1` import (world
//! `pod-introspect:config-adapters/draft-from-rc1`, wit/adapters/config-adapters.wit): Spin's
//! version (a consumer built with the Spin SDK) served from an rc.1 provider (the pod-introspect
//! guest, wasmtime, wasmCloud 2). `pod-introspect link` and `run` plug it in by themselves.
//! Every call and error is forwarded unchanged (../forward.rs).

mod bindings {
    wit_bindgen::generate!({
        path: [
            "../../../wit/deps/config.wit",
            "../../../wit/adapters/config-draft.wit",
            "../../../wit/adapters/config-adapters.wit",
        ],
        world: "pod-introspect:config-adapters/draft-from-rc1",
        generate_all,
    });
}

use bindings::exports::wasi::config0_2_0_draft_2024_09_27::store as served;
use bindings::wasi::config0_2_0_rc_1::store as provider;

include!("../../forward.rs");
