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
use wac_graph::types::{Package, SubtypeChecker, are_semver_compatible};
use wac_graph::{CompositionGraph, EncodeOptions, PackageId};

/// The interfaces the bundled guest exports for other components to import, without version:
/// an import named `NAME@VERSION` is linked when `NAME` is one of these.
pub const GUEST_PROVIDED: [&str; 2] = ["pod-introspect:pod/pod-introspect", "wasi:config/store"];

/// Spin's `wasi:config/store` (spin v3.6.3, and what the Spin SDK imports): not semver-compatible
/// with the guest's `@0.2.0-rc.1`, so an import of it is linked through the `draft-from-rc1`
/// version adapter (guest/adapters, [`pod_introspect_guest_artifact::CONFIG_DRAFT_FROM_RC1_WASM`]).
pub const DRAFT_CONFIG_STORE: &str = "wasi:config/store@0.2.0-draft-2024-09-27";

/// What `run` and `link` need to know of a component before linking it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComponentFacts {
    /// Its imports the bundled guest is to satisfy, by full name
    /// (`pod-introspect:pod/pod-introspect@0.1.0`); empty when it imports neither interface.
    pub guest_imports: Vec<String>,
    /// All its export names (`wasi:cli/run@0.2.12`, `wasi:http/incoming-handler@0.2.12`).
    pub exports: Vec<String>,
}

impl ComponentFacts {
    /// Whether it exports some `wasi:cli/run@0.2.x`, which `run` calls.
    pub fn is_command(&self) -> bool {
        self.exports
            .iter()
            .any(|e| e.starts_with("wasi:cli/run@0.2."))
    }
}

/// Refuses what is not a component before a parser does, with a message that says what it is
/// and how to make a component of it (wasmparser's own words name its internals).
///
/// Errors: no `\0asm` header; a core module (version 1) rather than a component (layer 1).
pub fn check_is_component(bytes: &[u8], what: &str) -> Result<()> {
    if bytes.len() < 8 || &bytes[..4] != b"\0asm" {
        bail!(
            "{what} is not a WebAssembly binary (it does not start with \\0asm): give a component, \
             e.g. built with `cargo build --target wasm32-wasip2`"
        );
    }
    if bytes[4..8] == [1, 0, 0, 0] {
        bail!(
            "{what} is a core WebAssembly module, not a component: build it for wasm32-wasip2, or \
             wrap a wasm32-wasip1 module with `wasm-tools component new --adapt \
             wasi_snapshot_preview1.wasm`"
        );
    }
    Ok(())
}

/// A component parsed once, for its [`ComponentFacts`] and then, if wanted, for linking
/// ([`ParsedApp::plug`]): `run` needs both and parses the file only here.
pub struct ParsedApp {
    graph: CompositionGraph,
    socket: PackageId,
    what: String,
    /// What the component imports from the guest and what it exports.
    pub facts: ComponentFacts,
}

impl ParsedApp {
    /// Parses `app` (a component's bytes); `what` names it in errors.
    ///
    /// Errors: `app` is not a valid component (see [`check_is_component`]).
    pub fn parse(app: &[u8], what: &str) -> Result<ParsedApp> {
        let mut graph = CompositionGraph::new();
        let package = parse(&mut graph, "app:component", app, what)?;
        let world = &graph.types()[package.ty()];
        let facts = ComponentFacts {
            guest_imports: guest_interfaces(world.imports.keys()),
            exports: world.exports.keys().cloned().collect(),
        };
        let socket = graph
            .register_package(package)
            .context("registering the component for linking")?;
        Ok(ParsedApp {
            graph,
            socket,
            what: what.to_string(),
            facts,
        })
    }

    /// The component with `guest` plugged into its pod-introspect and wasi:config/store
    /// imports, as a new component's bytes; `None` when it imports neither (run it as it is).
    ///
    /// An import of [`DRAFT_CONFIG_STORE`] is served through the version adapter first.
    ///
    /// Errors name the component and, for each import that could not be linked, why: the guest
    /// exports no such interface, its version is not semver-compatible (an import of
    /// `wasi:config/store@0.2.0-draft` against the guest's `0.2.0-rc.1`), or its types differ.
    pub fn plug(self, guest: &[u8]) -> Result<Option<Vec<u8>>> {
        let ParsedApp {
            mut graph,
            socket,
            what,
            facts,
        } = self;
        if facts.guest_imports.is_empty() {
            return Ok(None);
        }
        if facts.guest_imports.iter().any(|i| i == DRAFT_CONFIG_STORE) {
            // First the adapter into the draft import (the result imports rc.1 instead), then
            // the guest into that, as `wac plug APP --plug ADAPTER` then `--plug GUEST`.
            let what_adapter = "the draft-from-rc1 wasi:config adapter";
            let adapter = parse(
                &mut graph,
                "pod-introspect:config-draft-from-rc1",
                pod_introspect_guest_artifact::CONFIG_DRAFT_FROM_RC1_WASM,
                what_adapter,
            )?;
            let adapter = graph
                .register_package(adapter)
                .with_context(|| format!("registering {what_adapter} for linking"))?;
            wac_graph::plug(&mut graph, vec![adapter], socket).map_err(|e| {
                anyhow::Error::new(e).context(format!("linking {what_adapter} into {what}"))
            })?;
            let adapted = graph
                .encode(EncodeOptions::default())
                .with_context(|| format!("encoding {what} linked with {what_adapter}"))?;
            return ParsedApp::parse(&adapted, &what)?.plug(guest);
        }
        let plug = parse(
            &mut graph,
            "pod-introspect:guest",
            guest,
            "the bundled guest",
        )?;
        let plug = graph
            .register_package(plug)
            .context("registering the bundled guest for linking")?;
        let unlinked = match wac_graph::plug(&mut graph, vec![plug], socket) {
            // Nothing matched: every wanted import is unlinked.
            Err(wac_graph::PlugError::NoPlugHappened) => facts.guest_imports,
            Err(e) => return Err(anyhow::Error::new(e).context(format!("linking {what}"))),
            // `plug` links each import whose guest export is a semver-compatible subtype, and
            // succeeds when at least one was: what the composition still imports is the rest.
            Ok(()) => guest_interfaces(graph.imports().map(|(name, _, _)| name)),
        };
        if unlinked.is_empty() {
            let bytes = graph
                .encode(EncodeOptions::default())
                .with_context(|| format!("encoding {what} linked with the bundled guest"))?;
            return Ok(Some(bytes));
        }
        let reasons: Vec<String> = unlinked
            .iter()
            .map(|import| why_unlinked(&graph, socket, plug, import))
            .collect();
        bail!(
            "cannot link the bundled pod-introspect guest into {what}: {}. Build it against wit/ \
             of this pod-introspect release, or compose it yourself (`wac plug`)",
            reasons.join("; ")
        )
    }
}

/// The [`ComponentFacts`] of `app` (a component's bytes).
///
/// Errors: `app` is not a valid component (the message names `what`).
pub fn inspect(app: &[u8], what: &str) -> Result<ComponentFacts> {
    Ok(ParsedApp::parse(app, what)?.facts)
}

fn parse(graph: &mut CompositionGraph, name: &str, bytes: &[u8], what: &str) -> Result<Package> {
    check_is_component(bytes, what)?;
    Package::from_bytes(name, None, bytes, graph.types_mut()).map_err(|e| {
        // The root cause is wasmparser's (offset and reason); the wrapper names our package.
        anyhow::anyhow!(
            "{what} is not a valid WebAssembly component: {}",
            e.root_cause()
        )
    })
}

/// The names among `names` whose unversioned part is in [`GUEST_PROVIDED`].
fn guest_interfaces<'a>(
    names: impl Iterator<Item = &'a (impl AsRef<str> + ?Sized + 'a)>,
) -> Vec<String> {
    names
        .map(AsRef::as_ref)
        .filter(|name| GUEST_PROVIDED.contains(&unversioned(name)))
        .map(str::to_string)
        .collect()
}

fn unversioned(name: &str) -> &str {
    name.split('@').next().unwrap_or(name)
}

/// `app` with the bundled guest `guest` plugged into its pod-introspect and wasi:config/store
/// imports ([`ParsedApp::plug`]), for a component not parsed yet; `None` when it imports neither.
///
/// Errors: as [`ParsedApp::parse`] and [`ParsedApp::plug`], naming `what`.
pub fn plug_bundled_guest(app: &[u8], guest: &[u8], what: &str) -> Result<Option<Vec<u8>>> {
    ParsedApp::parse(app, what)?.plug(guest)
}

/// Why the guest's export cannot satisfy `import` of the socket.
fn why_unlinked(
    graph: &CompositionGraph,
    socket: PackageId,
    plug: PackageId,
    import: &str,
) -> String {
    let types = graph.types();
    let socket_world = &types[graph[socket].ty()];
    let plug_world = &types[graph[plug].ty()];
    let Some((export, export_kind)) = plug_world
        .exports
        .iter()
        .find(|(name, _)| unversioned(name) == unversioned(import))
    else {
        return format!("{import}: the guest exports no {}", unversioned(import));
    };
    if !are_semver_compatible(export, import) {
        return format!("{import} is not semver-compatible with the guest's {export}");
    }
    let Some(import_kind) = socket_world.imports.get(import) else {
        return format!("{import}: not linked");
    };
    let mut cache = Default::default();
    match SubtypeChecker::new(&mut cache).is_subtype(*export_kind, types, *import_kind, types) {
        Err(e) => format!("{import} expects other types than the guest's {export} has: {e:#}"),
        Ok(()) => format!("{import}: not linked"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pod_introspect_guest_artifact::GUEST_WASM;

    #[test]
    fn guest_exports_are_not_imports() {
        // The guest imports only WASI: linking it into itself has nothing to do.
        let facts = inspect(GUEST_WASM, "guest").unwrap();
        assert!(facts.guest_imports.is_empty());
        assert!(facts.is_command());
        assert!(
            facts
                .exports
                .contains(&"wasi:config/store@0.2.0-rc.1".to_string())
        );
        assert!(
            plug_bundled_guest(GUEST_WASM, GUEST_WASM, "guest")
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn a_draft_consumer_is_linked_through_the_version_adapter() {
        use pod_introspect_guest_artifact::CONFIG_CONSUMER_DRAFT_WASM_PATH;
        let app = std::fs::read(CONFIG_CONSUMER_DRAFT_WASM_PATH).unwrap();
        let facts = inspect(&app, "draft consumer").unwrap();
        assert_eq!(facts.guest_imports, [DRAFT_CONFIG_STORE]);
        let linked = plug_bundled_guest(&app, GUEST_WASM, "draft consumer")
            .unwrap()
            .expect("linked");
        let facts = inspect(&linked, "linked").unwrap();
        assert!(facts.guest_imports.is_empty(), "{:?}", facts.guest_imports);
        assert!(facts.is_command());
    }

    #[test]
    fn what_is_not_a_component_is_named_and_explained() {
        let err = |bytes: &[u8]| {
            plug_bundled_guest(bytes, GUEST_WASM, "app.wasm")
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            err(b"\0asm\x01\0\0\0"),
            "app.wasm is a core WebAssembly module, not a component: build it for wasm32-wasip2, \
             or wrap a wasm32-wasip1 module with `wasm-tools component new --adapt \
             wasi_snapshot_preview1.wasm`"
        );
        assert!(err(b"").starts_with("app.wasm is not a WebAssembly binary"));
        assert!(err(b"hello world\n").starts_with("app.wasm is not a WebAssembly binary"));
        // A truncated component: wasmparser's reason, without our internal package name.
        let truncated = err(&GUEST_WASM[..GUEST_WASM.len() / 2]);
        assert!(
            truncated.starts_with("app.wasm is not a valid WebAssembly component: "),
            "{truncated}"
        );
        assert!(!truncated.contains("app:component"), "{truncated}");
    }
}
