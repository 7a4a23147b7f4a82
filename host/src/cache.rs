//! A cache of compiled components, so a command does not run Cranelift on every start.
//!
//! A component is compiled once with `Engine::precompile_component` and stored as
//! `<cache dir>/<sha256 of the wasm and of the engine's compatibility hash>.cwasm`; later starts
//! load it with `Component::deserialize_file`. The cache dir is `$POD_INTROSPECT_CACHE_DIR`, else
//! `$XDG_CACHE_HOME/pod-introspect`, else `$HOME/.cache/pod-introspect`. An unwritable cache only
//! costs time: the component is then compiled in memory. A compile (no cache hit) is announced
//! with one line on stderr ([`compiling_note`]), since in a debug build it takes seconds.

use anyhow::{Context as _, Result};
use sha2::{Digest, Sha256};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use wasmtime::Engine;
use wasmtime::component::Component;

/// Env var overriding the cache directory.
pub const CACHE_DIR_ENV: &str = "POD_INTROSPECT_CACHE_DIR";

/// The cache directory, if one can be named.
pub fn cache_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os(CACHE_DIR_ENV).filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir).join("pod-introspect"));
    }
    std::env::var_os("HOME")
        .filter(|d| !d.is_empty())
        .map(|home| PathBuf::from(home).join(".cache").join("pod-introspect"))
}

/// Hex key for `wasm` compiled by `engine`.
fn cache_key(engine: &Engine, wasm: &[u8]) -> String {
    struct ShaHasher(Sha256);
    impl Hasher for ShaHasher {
        fn finish(&self) -> u64 {
            0
        }
        fn write(&mut self, bytes: &[u8]) {
            self.0.update(bytes);
        }
    }
    let mut h = ShaHasher(Sha256::new());
    engine.precompile_compatibility_hash().hash(&mut h);
    h.0.update(wasm);
    h.0.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// The line printed before compiling `what` because the cache (`dir`, if any) has no compiled
/// copy: a first compile takes seconds (about 10 s in a debug build), later runs do not.
pub fn compiling_note(what: &str, dir: Option<&Path>) -> String {
    match dir {
        Some(dir) => format!(
            "pod-introspect: compiling {what} (once: later runs load it from the cache in {})",
            dir.display()
        ),
        None => format!(
            "pod-introspect: compiling {what} (no cache directory: set {CACHE_DIR_ENV} or HOME to \
             keep the compiled copy)"
        ),
    }
}

fn announce_compile(what: &str, dir: Option<&Path>) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "{}", compiling_note(what, dir));
}

/// Loads `wasm` (a component binary) for `engine`, from the cache when possible.
///
/// Errors: `wasm` is not a valid component (the message is wasmtime's, prefixed with `what`).
pub fn load_component(engine: &Engine, wasm: &[u8], what: &str) -> Result<Component> {
    let Some(dir) = cache_dir() else {
        announce_compile(what, None);
        return Component::new(engine, wasm)
            .map_err(anyhow::Error::from)
            .with_context(|| format!("compiling {what}"));
    };
    let path = dir.join(format!("{}.cwasm", cache_key(engine, wasm)));
    if path.is_file() {
        // SAFETY: the file was written by `precompile_component` of an engine with the same
        // compatibility hash (it is part of the name), in the user's own cache directory.
        match unsafe { Component::deserialize_file(engine, &path) } {
            Ok(c) => return Ok(c),
            Err(e) => {
                tracing::debug!(path = %path.display(), "ignoring unusable cached component: {e:#}")
            }
        }
    }
    announce_compile(what, Some(&dir));
    let compiled = engine
        .precompile_component(wasm)
        .map_err(anyhow::Error::from)
        .with_context(|| format!("compiling {what}"))?;
    if let Err(e) = store(&dir, &path, &compiled) {
        tracing::debug!(path = %path.display(), "not caching the compiled component: {e:#}");
    }
    // SAFETY: `compiled` was just produced by `precompile_component` on this engine.
    unsafe { Component::deserialize(engine, &compiled) }
        .map_err(anyhow::Error::from)
        .with_context(|| format!("loading {what}"))
}

fn store(dir: &PathBuf, path: &PathBuf, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let tmp = tempfile::NamedTempFile::new_in(dir)?;
    std::fs::write(tmp.path(), bytes)?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_compiling_note_names_the_component_and_the_cache() {
        assert_eq!(
            compiling_note("app.wasm", Some(Path::new("/home/u/.cache/pod-introspect"))),
            "pod-introspect: compiling app.wasm (once: later runs load it from the cache in \
             /home/u/.cache/pod-introspect)"
        );
        assert!(compiling_note("app.wasm", None).contains("set POD_INTROSPECT_CACHE_DIR"));
    }
}
