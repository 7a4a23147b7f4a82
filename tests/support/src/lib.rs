//! Test-only helpers shared by every test suite of the workspace (the host's unit tests, the
//! emulator's integration tests and `tests/e2e`).
//!
//! One rule for a test that needs something this machine may lack (kubectl, the wasmtime CLI,
//! wasm-tools, wac, jco, cargo-component, the Python `kubernetes` client, an IPv6 loopback): where it is missing the test calls
//! [`missing`], which
//!
//! - prints `skipped: TEST: REASON` on the process's stderr, past the test harness's output
//!   capture, so `.ci/run` and a reader see it even though the test passes; or
//! - panics, failing the test, when [`REQUIRE_TOOLS_ENV`] is `1`. `.ci/run` sets it after
//!   installing every tool, so on CI no test can pass without having run.
#![deny(missing_docs)]

use std::path::PathBuf;

/// Env var that turns every [`missing`] into a failure: `POD_INTROSPECT_REQUIRE_TOOLS=1`.
pub const REQUIRE_TOOLS_ENV: &str = "POD_INTROSPECT_REQUIRE_TOOLS";

/// Whether [`REQUIRE_TOOLS_ENV`] is `1`.
pub fn tools_required() -> bool {
    std::env::var_os(REQUIRE_TOOLS_ENV).is_some_and(|v| v == "1")
}

/// What a test needs is missing: `reason` says what and how to get it. Prints
/// `skipped: TEST: REASON` (TEST is the test's name, which the harness gives its thread) and
/// returns, so the caller returns too; under `POD_INTROSPECT_REQUIRE_TOOLS=1` it panics instead.
pub fn missing(reason: &str) {
    use std::io::Write;
    let thread = std::thread::current();
    match verdict(tools_required(), thread.name().unwrap_or("?"), reason) {
        Ok(line) => {
            let _ = writeln!(std::io::stderr(), "{line}");
        }
        Err(failure) => panic!("{failure}"),
    }
}

/// The `skipped: ` line to print, or (when tools are `required`) the failure message.
fn verdict(required: bool, test: &str, reason: &str) -> Result<String, String> {
    if required {
        Err(format!(
            "{REQUIRE_TOOLS_ENV}=1 but {test} cannot run: {reason}"
        ))
    } else {
        Ok(format!("skipped: {test}: {reason}"))
    }
}

/// The executable `name` on `PATH`, or `None` after [`missing`] said it is not there and that
/// `install` installs it.
pub fn tool(name: &str, install: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| find_in(&paths, name));
    if found.is_none() {
        missing(&format!(
            "`{name}` is not on PATH (install it with `{install}`)"
        ));
    }
    found
}

/// The first `dir/name` that is a file, for `dir` in the `PATH`-style list `paths`.
fn find_in(paths: &std::ffi::OsStr, name: &str) -> Option<PathBuf> {
    std::env::split_paths(paths)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// `kubectl` on `PATH` (any version the emulator supports, 1.27 to 1.33), or `None` after
/// [`missing`].
pub fn kubectl() -> Option<PathBuf> {
    tool(
        "kubectl",
        "your distribution's kubectl package or the Kubernetes release binaries",
    )
}

/// Env var naming the Python interpreter that has the official `kubernetes` client installed
/// (`.ci/run` sets it to its venv's `bin/python`).
pub const PYTHON_ENV: &str = "POD_INTROSPECT_PYTHON";

/// The client version `.ci/run` installs (`pip install kubernetes==PYTHON_CLIENT_VERSION`), for
/// the install hint.
pub const PYTHON_CLIENT_VERSION: &str = "34.1.0";

/// A Python interpreter that can `import kubernetes` (the official client,
/// kubernetes-client/python): [`PYTHON_ENV`] when set, else `python3` on `PATH`. `None` after
/// [`missing`] said which was tried and how to install the client.
pub fn python_kubernetes() -> Option<PathBuf> {
    let install = format!(
        "`python3 -m venv DIR && DIR/bin/pip install kubernetes=={PYTHON_CLIENT_VERSION}`, then set {PYTHON_ENV}=DIR/bin/python"
    );
    let candidate = match std::env::var_os(PYTHON_ENV).filter(|v| !v.is_empty()) {
        Some(p) => PathBuf::from(p),
        None => match std::env::var_os("PATH").and_then(|paths| find_in(&paths, "python3")) {
            Some(p) => p,
            None => {
                missing(&format!(
                    "{PYTHON_ENV} is unset and `python3` is not on PATH (install the client with {install})"
                ));
                return None;
            }
        },
    };
    if imports_kubernetes(&candidate) {
        Some(candidate)
    } else {
        missing(&format!(
            "`{}` cannot `import kubernetes` (install the client with {install})",
            candidate.display()
        ));
        None
    }
}

/// Whether `python -c "import kubernetes"` succeeds.
fn imports_kubernetes(python: &std::path::Path) -> bool {
    std::process::Command::new(python)
        .args(["-c", "import kubernetes"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_tool_skips_with_the_test_name_or_fails_when_required() {
        assert_eq!(
            verdict(false, "kubectl::get_pods", "`kubectl` is not on PATH"),
            Ok("skipped: kubectl::get_pods: `kubectl` is not on PATH".to_string())
        );
        assert_eq!(
            verdict(true, "kubectl::get_pods", "`kubectl` is not on PATH"),
            Err("POD_INTROSPECT_REQUIRE_TOOLS=1 but kubectl::get_pods cannot run: `kubectl` is not on PATH".to_string())
        );
    }

    #[test]
    fn finds_a_file_in_a_path_list_in_order() {
        let (a, b) = (tempfile_dir("a"), tempfile_dir("b"));
        std::fs::write(b.join("tool"), "").unwrap();
        let paths = std::env::join_paths([&a, &b]).unwrap();
        assert_eq!(find_in(&paths, "tool"), Some(b.join("tool")));
        std::fs::write(a.join("tool"), "").unwrap();
        assert_eq!(find_in(&paths, "tool"), Some(a.join("tool")));
        assert_eq!(find_in(&paths, "other"), None);
        // A directory of that name is not a tool.
        std::fs::create_dir(b.join("dir")).unwrap();
        assert_eq!(find_in(&paths, "dir"), None);
    }

    #[test]
    fn an_interpreter_that_cannot_run_is_not_a_python_client() {
        let dir = tempfile_dir("py");
        assert!(!imports_kubernetes(&dir.join("no-such-python")));
        // A directory is not an interpreter either.
        assert!(!imports_kubernetes(&dir));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            // Stand-ins that answer `-c "import kubernetes"` the way Python would: exit 0
            // when the module imports, 1 (`ModuleNotFoundError`) when it does not.
            for (name, code, imports) in [("has", 0, true), ("lacks", 1, false)] {
                let path = dir.join(name);
                std::fs::write(
                    &path,
                    format!(
                        "#!/bin/sh\n[ \"$2\" = \"import kubernetes\" ] || exit 9\nexit {code}\n"
                    ),
                )
                .unwrap();
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
                assert_eq!(imports_kubernetes(&path), imports, "{name}");
            }
        }
    }

    /// A fresh directory under the system temp dir, unique to this process and `name`.
    fn tempfile_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "pod-introspect-test-support-{}-{name}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}
