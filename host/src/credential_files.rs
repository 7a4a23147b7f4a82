//! Where the host opens the credential files it reads (the ServiceAccount `token` and `ca.crt`,
//! a kubeconfig's `tokenFile` or `certificate-authority`): [`CredentialPath`].
//!
//! Under `--root DIR` a container path is opened *beneath* `DIR`, following symlinks only while
//! they stay inside it, exactly as the guest's WASI preopen of the same directory does (both are
//! cap-std's sandboxed path resolution; wasmtime-wasi's preopens use it too): the kubelet's
//! `token -> ..data/token -> ..2026_…/token` chain resolves, a `token -> /etc/shadow` or
//! `token -> ../../../outside` is refused. The file is then read with the one rule of
//! [`pod_introspect_kube::credential_file`] (regular file, size cap, `O_NONBLOCK`).

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use pod_introspect_kube::credential_file;

/// A credential file: a host path, or a container path beneath a `--root`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CredentialPath {
    root: Option<PathBuf>,
    /// The host path; under a root, `root` joined with the clean container path.
    host: PathBuf,
    /// Under a root: the clean container path relative to it (no leading `/`).
    relative: Option<PathBuf>,
}

impl CredentialPath {
    /// A file named by a host path (a kubeconfig's `tokenFile`, the in-cluster files without
    /// `--root`): opened as it is, symlinks followed.
    pub fn host(path: impl Into<PathBuf>) -> CredentialPath {
        CredentialPath {
            root: None,
            host: path.into(),
            relative: None,
        }
    }

    /// The container path `container` (e.g. [`pod_introspect_kube::incluster::TOKEN_FILE`])
    /// beneath `root` when there is one, else the same path on the host.
    pub fn in_container(root: Option<&Path>, container: &str) -> CredentialPath {
        let clean = crate::sandbox::normalize(container);
        match root {
            Some(root) => CredentialPath {
                root: Some(root.to_path_buf()),
                host: root.join(clean.trim_start_matches('/')),
                relative: Some(PathBuf::from(clean.trim_start_matches('/'))),
            },
            None => CredentialPath::host(clean),
        }
    }

    /// The host path, for messages and logs (never the file's content).
    pub fn display(&self) -> std::path::Display<'_> {
        self.host.display()
    }

    /// The host path.
    pub fn as_host_path(&self) -> &Path {
        &self.host
    }

    /// Opens the file for reading without blocking (`O_NONBLOCK`), beneath the root if any.
    ///
    /// Errors: the OS error; a symlink leading out of the root is
    /// `it is a symlink that leads out of --root DIR`.
    pub fn open(&self) -> Result<File, String> {
        let (Some(root), Some(relative)) = (&self.root, &self.relative) else {
            let mut options = std::fs::OpenOptions::new();
            options.read(true);
            use std::os::unix::fs::OpenOptionsExt as _;
            options.custom_flags(libc::O_NONBLOCK);
            return options.open(&self.host).map_err(|e| e.to_string());
        };
        use cap_primitives::fs::OpenOptionsExt as _;
        let dir = cap_primitives::fs::open_ambient_dir(root, cap_primitives::ambient_authority())
            .map_err(|e| format!("cannot open --root {}: {e}", root.display()))?;
        let mut options = cap_primitives::fs::OpenOptions::new();
        options.read(true).custom_flags(libc::O_NONBLOCK);
        cap_primitives::fs::open(&dir, relative, &options).map_err(|e| {
            if escapes(&e) {
                format!(
                    "it is a symlink that leads out of --root {}",
                    root.display()
                )
            } else {
                e.to_string()
            }
        })
    }

    /// Opens and reads the file with [`credential_file::read_open`]'s rule and `cap` bytes
    /// at most. Errors: as [`CredentialPath::open`] and [`credential_file::read_open`].
    pub fn read(&self, cap: u64) -> Result<Vec<u8>, String> {
        credential_file::read_open(self.open()?, cap)
    }
}

/// cap-std's error for a path that resolves outside the directory ("a path led outside of the
/// filesystem", `PermissionDenied`).
fn escapes(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::PermissionDenied
        && e.to_string().contains("outside of the filesystem")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn beneath_the_root_symlinks_inside_resolve_and_escapes_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        let sa = root.join("var/run/secrets/kubernetes.io/serviceaccount");
        std::fs::create_dir_all(sa.join("..2026_12_02_10_00_00.1")).unwrap();
        std::fs::write(sa.join("..2026_12_02_10_00_00.1/token"), "jwt").unwrap();
        symlink("..2026_12_02_10_00_00.1", sa.join("..data")).unwrap();
        symlink("..data/token", sa.join("token")).unwrap();
        std::fs::write(dir.path().join("secret"), "host secret").unwrap();
        symlink("../../../../../../secret", sa.join("ca.crt")).unwrap();
        symlink(dir.path().join("secret"), sa.join("abs")).unwrap();

        let token =
            CredentialPath::in_container(Some(&root), pod_introspect_kube::incluster::TOKEN_FILE);
        assert_eq!(token.read(64).unwrap(), b"jwt");
        let out = format!(
            "it is a symlink that leads out of --root {}",
            root.display()
        );
        let ca = CredentialPath::in_container(Some(&root), pod_introspect_kube::incluster::CA_FILE);
        assert_eq!(ca.read(64).unwrap_err(), out);
        let abs = CredentialPath::in_container(
            Some(&root),
            "/var/run/secrets/kubernetes.io/serviceaccount/abs",
        );
        assert_eq!(abs.read(64).unwrap_err(), out);
        // Without a root, a host path is a host path.
        assert_eq!(
            CredentialPath::host(sa.join("abs")).read(64).unwrap(),
            b"host secret"
        );
    }
}
