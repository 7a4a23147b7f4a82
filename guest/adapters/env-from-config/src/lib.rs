//! The pod's fields from the runtime's configuration (world
//! `pod-introspect:config-source/env-from-config`, wit/adapters/env-from-config.wit): exports
//! `wasi:cli/environment`, returning the real environment plus
//! `POD_INTROSPECT_CONFIG_<key>=<value>` ([`pod_introspect_kube::contract::CONFIG_ENV_PREFIX`]) for
//! every key of [`pod_introspect_kube::fields::CONFIG_KEYS`] that Spin's
//! `wasi:config/store@0.2.0-draft-2024-09-27` has. Composed in front of the guest
//! (`wac plug pod_introspect_guest.wasm --plug env_from_config.wasm`), the guest takes a field from
//! there when no volume file or env var gives it, and names it `config:<key>`. An empty value is
//! left out, as an absent one is (a Spin variable declared `default = ""`); a key the store refuses
//! (an `upstream` or `io` error) is left out with a line on stderr; an env var of the same name
//! already in the real environment is kept, not replaced. Where rc.1 is served (wasmtime,
//! wasmCloud 2), compose the draft-from-rc1 adapter behind it.

mod bindings {
    wit_bindgen::generate!({
        path: [
            "../../../wit/deps/io.wit",
            "../../../wit/deps/clocks.wit",
            "../../../wit/deps/filesystem.wit",
            "../../../wit/deps/sockets.wit",
            "../../../wit/deps/random.wit",
            "../../../wit/deps/cli.wit",
            "../../../wit/deps/config.wit",
            "../../../wit/adapters/config-draft.wit",
            "../../../wit/adapters/env-from-config.wit",
        ],
        world: "pod-introspect:config-source/env-from-config",
        generate_all,
    });
}

use bindings::exports::wasi::cli::environment::Guest;
use bindings::wasi::config0_2_0_draft_2024_09_27::store;
use pod_introspect_kube::{contract::config_env_name, fields::CONFIG_KEYS};

struct EnvFromConfig;

impl Guest for EnvFromConfig {
    fn get_environment() -> Vec<(String, String)> {
        let mut env = wasi::cli::environment::get_environment();
        for (key, _) in CONFIG_KEYS {
            let name = config_env_name(key);
            if env.iter().any(|(n, _)| *n == name) {
                continue;
            }
            match store::get(key) {
                Ok(Some(value)) if !value.is_empty() => env.push((name, value)),
                // Unset, or empty (a Spin variable's `default = ""`): not a value.
                Ok(_) => {}
                Err(e) => eprintln!("env-from-config: wasi:config/store get {key:?}: {e:?}"),
            }
        }
        env
    }

    fn get_arguments() -> Vec<String> {
        wasi::cli::environment::get_arguments()
    }

    fn initial_cwd() -> Option<String> {
        wasi::cli::environment::initial_cwd()
    }
}

bindings::export!(EnvFromConfig with_types_in bindings);
