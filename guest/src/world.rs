//! The bindings wit-bindgen generates for world `introspector` (`wit/pod-introspect.wit` and the
//! WASI packages in `wit/deps/`): the imported WASI interfaces the guest calls, and the export
//! traits [`crate::exports`] implements. Nothing else lives here; the conversions between these
//! types and the guest's own model are in [`crate::convert`].
//! Only built for wasm32 (the export symbols are component-model names a native linker rejects).
//! Named `world`, not `bindings`: `cargo component build` writes its own `src/bindings.rs`.

wit_bindgen::generate!({
    path: "../wit",
    world: "introspector",
    generate_all,
});
