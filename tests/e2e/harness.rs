//! A scenario harness: a temporary container root, hand-made kubelet volumes in it, and the host
//! binary run against it.

use serde_json::Value;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The host binary under test.
pub const HOST: &str = env!("CARGO_BIN_EXE_pod-introspect");

/// The workspace root (for examples/).
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A temporary container root filesystem.
pub struct PodRoot {
    dir: tempfile::TempDir,
    /// Where compiled components are cached for this test (kept out of $HOME).
    cache: PathBuf,
}

impl PodRoot {
    /// An empty root.
    pub fn new() -> PodRoot {
        let dir = tempfile::Builder::new()
            .prefix("pod-root-")
            .tempdir()
            .expect("tempdir");
        // One cache per test binary run keeps tests independent of the user's cache but still fast.
        let cache =
            std::env::temp_dir().join(format!("pod-introspect-test-cache-{}", std::process::id()));
        PodRoot { dir, cache }
    }

    /// The compiled-component cache the host runs of this test binary share
    /// (`POD_INTROSPECT_CACHE_DIR`).
    pub fn cache(&self) -> &Path {
        &self.cache
    }

    /// The root directory on the host.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Host path of container path `p`.
    pub fn host(&self, p: &str) -> PathBuf {
        self.dir.path().join(p.trim_start_matches('/'))
    }

    /// Writes an AtomicWriter version by hand: `<dir>/<version>/<name>` files, and (when
    /// `link` is true) `<dir>/..data -> <version>` plus `<name> -> ..data/<name>` links, the way the
    /// kubelet leaves a downwardAPI volume.
    pub fn atomic_volume(&self, dir: &str, version: &str, files: &[(&str, &str)]) -> PathBuf {
        let vol = self.host(dir);
        let data = vol.join(version);
        std::fs::create_dir_all(&data).expect("mkdir version");
        for (name, content) in files {
            std::fs::write(data.join(name), content).expect("write file");
        }
        swap_data(&vol, version);
        for (name, _) in files {
            let link = vol.join(name);
            if link.symlink_metadata().is_err() {
                symlink(format!("..data/{name}"), &link).expect("top-level link");
            }
        }
        vol
    }

    /// Writes plain files (a subPath-style or hand-made directory, no `..data`).
    pub fn plain_volume(&self, dir: &str, files: &[(&str, &str)]) -> PathBuf {
        let vol = self.host(dir);
        std::fs::create_dir_all(&vol).expect("mkdir");
        for (name, content) in files {
            std::fs::write(vol.join(name), content).expect("write file");
        }
        vol
    }

    /// Runs the host with `args`, with `--root` pointing here for the subcommands that take it.
    pub fn run(&self, args: &[&str]) -> Output {
        Command::new(HOST)
            .args(args)
            .env("POD_INTROSPECT_CACHE_DIR", &self.cache)
            .env_remove("POD_INTROSPECT_FIELDS")
            .env_remove("POD_INTROSPECT_DOWNWARD_DIRS")
            .output()
            .expect("run pod-introspect")
    }

    /// `pod-introspect simulate --pod MANIFEST --root <here> [extra]`, which must exit 0; its
    /// stdout (what it wrote, notes, the next command).
    pub fn simulate(&self, manifest: &Path, extra: &[&str]) -> String {
        let mut args = vec![
            "simulate",
            "--pod",
            manifest.to_str().expect("utf-8 manifest path"),
            "--root",
            self.path().to_str().expect("utf-8 temp path"),
        ];
        args.extend_from_slice(extra);
        let out = self.run(&args);
        assert!(
            out.status.success(),
            "simulate {}: {}",
            manifest.display(),
            stderr(&out)
        );
        stdout(&out)
    }

    /// `pod-introspect info --root <here> --env-clear [extra]`, which must exit 0, as JSON.
    pub fn info(&self, extra: &[&str]) -> Value {
        let root = self.path().to_str().expect("utf-8 temp path");
        let mut args = vec!["info", "--root", root, "--env-clear"];
        args.extend_from_slice(extra);
        let out = self.run(&args);
        assert!(
            out.status.success(),
            "info failed: {}\n{}",
            out.status,
            stderr(&out)
        );
        parse_json(&out)
    }
}

/// Atomically points `<vol>/..data` at `version` (symlink `..data_tmp`, then rename), as the kubelet.
pub fn swap_data(vol: &Path, version: &str) {
    let tmp = vol.join("..data_tmp");
    let _ = std::fs::remove_file(&tmp);
    symlink(version, &tmp).expect("..data_tmp");
    std::fs::rename(&tmp, vol.join("..data")).expect("rename ..data_tmp ..data");
}

/// stdout as JSON.
pub fn parse_json(out: &Output) -> Value {
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(text.trim())
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {text}\nstderr: {}", stderr(out)))
}

/// stderr as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// stdout as text.
pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Reports a test that cannot run here (a tool or a capability of the machine is missing) and
/// returns: `skipped: TEST: REASON` on stderr, or a failure under
/// `POD_INTROSPECT_REQUIRE_TOOLS=1`, as [`pod_introspect_test_support::missing`] rules.
pub fn skip(reason: &str) {
    pod_introspect_test_support::missing(reason);
}

/// `doc` deserialized into `T` with no field left over: an unknown or misspelled field is an error
/// naming its path (`spec.containers.?.0.imagee`), as `kubectl apply --validate=strict`. `file`
/// names the document in the panic.
pub fn strict<T: serde::de::DeserializeOwned>(doc: &Value, file: &str) -> T {
    let mut unknown = Vec::new();
    let value: T = serde_ignored::deserialize(doc.clone(), |path| unknown.push(path.to_string()))
        .unwrap_or_else(|e| panic!("{file}: {e}"));
    assert!(unknown.is_empty(), "{file}: unknown fields {unknown:?}");
    value
}
