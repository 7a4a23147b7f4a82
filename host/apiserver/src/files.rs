//! The files under `state_dir`, written atomically (temporary file in the same directory, then
//! `rename`), private ones with mode 0600.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::ClusterError;

/// The cluster CA certificate (PEM), what a pod's `ca.crt` holds.
pub const CA_CERT_FILE: &str = "ca.crt";
/// The cluster CA private key (PKCS#8 PEM), mode 0600.
pub const CA_KEY_FILE: &str = "ca.key";
/// The ServiceAccount token signing secret (base64), mode 0600.
pub const SIGNING_KEY_FILE: &str = "sa-signing.key";
/// The admin kubeconfig, mode 0600 (it holds the admin token).
pub const KUBECONFIG_FILE: &str = "kubeconfig";
/// Every stored object (JSON list), mode 0600 (it holds Secrets), so a restarted cluster still
/// has them, as etcd keeps them for a real API server, and the tokens bound to its pods and
/// ServiceAccounts stay valid.
pub const OBJECTS_FILE: &str = "objects.json";
/// The store's resourceVersion counter (decimal text), written with [`OBJECTS_FILE`]: etcd's
/// revision never goes back, and the objects alone would lose the revisions of deletions, so
/// a restarted cluster could hand out a resourceVersion a watcher already saw.
pub const REVISION_FILE: &str = "revision";
/// What earlier versions wrote instead of [`OBJECTS_FILE`]: the registered ServiceAccounts
/// (JSON list); read once, then replaced by `objects.json`.
pub const SERVICE_ACCOUNTS_FILE: &str = "serviceaccounts.json";
/// What earlier versions wrote instead of [`OBJECTS_FILE`]: the pods (JSON list).
pub const PODS_FILE: &str = "pods.json";

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> ClusterError + '_ {
    move |source| ClusterError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Writes `contents` to `dir/name` atomically; `private` files get mode 0600, others 0644.
pub fn write_atomic(
    dir: &Path,
    name: &str,
    contents: &[u8],
    private: bool,
) -> Result<PathBuf, ClusterError> {
    std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    let path = dir.join(name);
    let tmp = dir.join(format!(".{name}.tmp.{}", std::process::id()));
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(if private { 0o600 } else { 0o644 });
    }
    let mut f = opts.open(&tmp).map_err(io_err(&tmp))?;
    f.write_all(contents).map_err(io_err(&tmp))?;
    f.sync_all().map_err(io_err(&tmp))?;
    drop(f);
    std::fs::rename(&tmp, &path).map_err(io_err(&path))?;
    Ok(path)
}

/// Reads `dir/name` as text; `Ok(None)` when it does not exist.
pub fn read_optional(dir: &Path, name: &str) -> Result<Option<String>, ClusterError> {
    let path = dir.join(name);
    match std::fs::read_to_string(&path) {
        Ok(s) => Ok(Some(s)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(ClusterError::Io { path, source }),
    }
}
