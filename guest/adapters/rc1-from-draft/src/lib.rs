//! `wasi:config/store@0.2.0-rc.1` exported from an `@0.2.0-draft-2024-09-27` import (world
//! `pod-introspect:config-adapters/rc1-from-draft`, wit/adapters/config-adapters.wit): rc.1 (a
//! consumer built against wit/deps/config.wit, like examples/config-consumer) served from a draft
//! provider (Spin's variables).
//! Every call and error is forwarded unchanged (../forward.rs).

mod bindings {
    wit_bindgen::generate!({
        path: [
            "../../../wit/deps/config.wit",
            "../../../wit/adapters/config-draft.wit",
            "../../../wit/adapters/config-adapters.wit",
        ],
        world: "pod-introspect:config-adapters/rc1-from-draft",
        generate_all,
    });
}

use bindings::exports::wasi::config0_2_0_rc_1::store as served;
use bindings::wasi::config0_2_0_draft_2024_09_27::store as provider;

include!("../../forward.rs");
