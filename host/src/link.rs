//! Linking the bundled guest into an application component, so `pod-introspect run APP.wasm`
//! satisfies APP's imports of `pod-introspect:pod/pod-introspect` and `wasi:config/store` itself.
//!
//! This is what `wac plug APP.wasm --plug pod_introspect_guest.wasm` does (wac-graph's
//! [`plug`](wac_graph::plug), https://github.com/bytecodealliance/wac): the guest is instantiated
//! inside a new component, its matching exports (same name, or a semver-compatible version, and a
//! subtype of what APP expects) are passed as APP's imports, and the new component imports the
//! union of both components' remaining imports (WASI), which the sandbox supplies as usual.
//! APP's own exports (`wasi:cli/run`) are the new component's exports.

use anyhow::{Context as _, Result, bail};
use wac_graph::types::Package;
use wac_graph::{CompositionGraph, EncodeOptions};

/// The interfaces the bundled guest exports for other components to import, without version:
/// an import named `NAME@VERSION` is linked when `NAME` is one of these.
pub const GUEST_PROVIDED: [&str; 2] = ["pod-introspect:pod/pod-introspect", "wasi:config/store"];

/// The imports of `app` (a component's bytes) that the bundled guest is to satisfy, by full name
/// (`pod-introspect:pod/pod-introspect@0.1.0`). Empty when it imports neither interface.
///
/// Errors: `app` is not a valid component (the message names `what`).
pub fn guest_provided_imports(app: &[u8], what: &str) -> Result<Vec<String>> {
    let mut graph = CompositionGraph::new();
    let package = Package::from_bytes("app:component", None, app, graph.types_mut())
        .with_context(|| format!("{what} is not a valid WebAssembly component"))?;
    Ok(provided(&graph, &package))
}

fn provided(graph: &CompositionGraph, package: &Package) -> Vec<String> {
    guest_interfaces(graph.types()[package.ty()].imports.keys())
}

/// The names among `names` whose unversioned part is in [`GUEST_PROVIDED`].
fn guest_interfaces<'a>(names: impl Iterator<Item = &'a String>) -> Vec<String> {
    names
        .filter(|name| {
            let unversioned = name.split('@').next().unwrap_or(name);
            GUEST_PROVIDED.contains(&unversioned)
        })
        .cloned()
        .collect()
}

/// `app` with the bundled guest `guest` plugged into its pod-introspect and wasi:config/store
/// imports, as a new component's bytes; `None` when `app` imports neither (run it as it is).
///
/// Errors name `what` (the component's path) and say which import could not be linked, e.g. an
/// import of `wasi:config/store@0.2.0-draft`, which is not semver-compatible with the guest's
/// `0.2.0-rc.1`.
pub fn plug_bundled_guest(app: &[u8], guest: &[u8], what: &str) -> Result<Option<Vec<u8>>> {
    let mut graph = CompositionGraph::new();
    let socket = Package::from_bytes("app:component", None, app, graph.types_mut())
        .with_context(|| format!("{what} is not a valid WebAssembly component"))?;
    let wanted = provided(&graph, &socket);
    if wanted.is_empty() {
        return Ok(None);
    }
    let socket = graph
        .register_package(socket)
        .context("registering the component for linking")?;
    let plug = Package::from_bytes("pod-introspect:guest", None, guest, graph.types_mut())
        .context("the bundled pod-introspect guest is not a valid component")?;
    let exported = guest_interfaces(graph.types()[plug.ty()].exports.keys()).join(" and ");
    let plug = graph
        .register_package(plug)
        .context("registering the bundled guest for linking")?;
    let unlinked = || {
        format!(
            "{what} imports {}, but the bundled guest exports {exported}; build it \
             against wit/ of this pod-introspect release, or compose it yourself with `wac plug`",
            wanted.join(", ")
        )
    };
    wac_graph::plug(&mut graph, vec![plug], socket).with_context(unlinked)?;
    let bytes = graph
        .encode(EncodeOptions::default())
        .with_context(|| format!("encoding {what} linked with the bundled guest"))?;
    // Every wanted import must now be satisfied: `plug` links an import only when the guest's export
    // is a semver-compatible subtype, and succeeds when at least one was linked.
    let still = guest_provided_imports(&bytes, "the linked component")?;
    if !still.is_empty() {
        bail!("{}", unlinked());
    }
    Ok(Some(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use pod_introspect_guest_artifact::GUEST_WASM;

    #[test]
    fn guest_exports_are_not_imports() {
        // The guest imports only WASI: linking it into itself has nothing to do.
        assert!(
            guest_provided_imports(GUEST_WASM, "guest")
                .unwrap()
                .is_empty()
        );
        assert!(
            plug_bundled_guest(GUEST_WASM, GUEST_WASM, "guest")
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn not_a_component_names_the_file() {
        let err = plug_bundled_guest(b"\0asm\x01\0\0\0", GUEST_WASM, "app.wasm").unwrap_err();
        assert_eq!(
            err.to_string(),
            "app.wasm is not a valid WebAssembly component"
        );
    }
}
