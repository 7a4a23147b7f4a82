//! `pod-introspect link COMPONENT.wasm -o OUT.wasm`: the bundled guest linked into a component's
//! pod-introspect and wasi:config/store imports, written out ([`crate::link`]).

use crate::link::plug_bundled_guest;
use anyhow::{Context as _, Result, bail};
use pod_introspect_guest_artifact::GUEST_WASM;
use std::io::Write as _;
use std::path::Path;
use std::process::ExitCode;

/// The `link` subcommand.
///
/// Errors, each naming the file: COMPONENT imports neither interface (nothing to link), cannot
/// be linked (see [`plug_bundled_guest`]), or OUT's directory does not exist or cannot be written.
/// OUT is written to a temporary file beside it and renamed, so a failure never leaves a partial
/// file, nor destroys COMPONENT when OUT is the same path.
pub fn run(args: &crate::cli::LinkArgs) -> Result<ExitCode> {
    let what = args.component.display().to_string();
    let wasm =
        std::fs::read(&args.component).with_context(|| format!("reading component {what}"))?;
    let Some(linked) = plug_bundled_guest(&wasm, GUEST_WASM, &what)? else {
        bail!(
            "{what} imports neither pod-introspect:pod/pod-introspect nor wasi:config/store: \
             there is nothing to link (run it as it is)"
        );
    };
    write_atomically(&args.output, &linked)?;
    eprintln!(
        "wrote {} ({} bytes): {what} with the pod-introspect guest linked in",
        args.output.display(),
        linked.len()
    );
    Ok(ExitCode::SUCCESS)
}

fn write_atomically(out: &Path, bytes: &[u8]) -> Result<()> {
    let dir = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if !dir.is_dir() {
        bail!(
            "-o {}: the directory {} does not exist (create it first)",
            out.display(),
            dir.display()
        );
    }
    let written = (|| -> std::io::Result<()> {
        let mut tmp = tempfile::Builder::new()
            .prefix(".pod-introspect-link-")
            .tempfile_in(dir)?;
        tmp.write_all(bytes)?;
        // tempfile creates 0600; a component is no secret (what `std::fs::write` gives, umask 022).
        use std::os::unix::fs::PermissionsExt as _;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))?;
        tmp.as_file().sync_all()?;
        tmp.persist(out).map_err(|e| e.error)?;
        Ok(())
    })();
    written.with_context(|| format!("writing {}", out.display()))
}
