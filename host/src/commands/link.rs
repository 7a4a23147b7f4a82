//! `pod-introspect link COMPONENT.wasm -o OUT.wasm`: the bundled guest linked into a component's
//! pod-introspect and wasi:config/store imports, written out ([`crate::link`]).

use crate::link::plug_bundled_guest;
use anyhow::{Context as _, Result, bail};
use pod_introspect_guest_artifact::GUEST_WASM;
use std::process::ExitCode;

/// The `link` subcommand. Errors when COMPONENT imports neither interface (nothing to link), or
/// when OUT cannot be written; both name the file.
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
    std::fs::write(&args.output, &linked)
        .with_context(|| format!("writing {}", args.output.display()))?;
    eprintln!(
        "wrote {} ({} bytes): {what} with the pod-introspect guest linked in",
        args.output.display(),
        linked.len()
    );
    Ok(ExitCode::SUCCESS)
}
