//! The one rule for every path `simulate` writes: it stays beneath the container root.
//!
//! A container's root is the kubelet's (the runtime's) to resolve: a symlink inside it that
//! stays inside it (`var/run -> ../run`, common in images) is followed, one that leaves it is
//! not, because a real kubelet mounts volumes into the container's mount namespace and can never
//! write to the host through it. `simulate` writes into a plain directory, so it checks: before
//! writing any volume, the ServiceAccount volume, its private subPath sources or
//! `.pod-introspect/container.json`, the existing part of the path is resolved and must be
//! inside the (resolved) root; a symlink that leads out, or that dangles (creating through it
//! would write wherever it points), is refused. Then only directories that did not exist are
//! created, never through a symlink.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// Why a path cannot be written beneath the root.
#[derive(Debug)]
pub(crate) enum Beneath {
    /// `through` (the deepest existing part of the path) resolves to `resolved`, outside the root.
    Escapes { through: PathBuf, resolved: PathBuf },
    /// The root or a part of the path cannot be resolved (a dangling symlink: `NotFound`).
    Io { path: PathBuf, error: io::Error },
}

impl std::fmt::Display for Beneath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Beneath::Escapes { through, resolved } => write!(
                f,
                "leads out of the container root: {} resolves to {}",
                through.display(),
                resolved.display()
            ),
            Beneath::Io { path, error } => write!(f, "cannot resolve {}: {error}", path.display()),
        }
    }
}

/// Checks that `rel` (clean, relative, `/`-separated) beneath `root` resolves inside `root` as
/// far as it exists (see the module documentation). Returns `root.join(rel)`.
pub(crate) fn check(root: &Path, rel: &str) -> Result<PathBuf, Beneath> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |error| Beneath::Io { path, error }
    };
    let real_root = fs::canonicalize(root).map_err(io(root))?;
    let mut deepest = root.to_path_buf();
    let mut path = root.to_path_buf();
    for part in rel.split('/').filter(|p| !p.is_empty()) {
        path.push(part);
        if fs::symlink_metadata(&path).is_err() {
            break;
        }
        deepest = path.clone();
    }
    let resolved = fs::canonicalize(&deepest).map_err(io(&deepest))?;
    if !resolved.starts_with(&real_root) {
        return Err(Beneath::Escapes {
            through: deepest,
            resolved,
        });
    }
    Ok(root.join(rel))
}

/// [`check`], then creates the directory `rel` and its missing parents.
pub(crate) fn create_dir(root: &Path, rel: &str) -> Result<PathBuf, Beneath> {
    let dir = check(root, rel)?;
    fs::create_dir_all(&dir).map_err(|error| Beneath::Io {
        path: dir.clone(),
        error,
    })?;
    Ok(dir)
}

/// Writes `bytes` to the new file `path` (removing what was there: `O_EXCL` never follows a
/// symlink left at `path`).
pub(crate) fn write_new(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write as _;
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?
        .write_all(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn inside_symlinks_resolve_escapes_and_dangling_links_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        let outside = dir.path().join("outside");
        fs::create_dir_all(root.join("run")).unwrap();
        fs::create_dir_all(root.join("var")).unwrap();
        fs::create_dir_all(&outside).unwrap();
        symlink("../run", root.join("var/run")).unwrap();
        assert_eq!(check(&root, "var/run/x").unwrap(), root.join("var/run/x"));
        symlink(&outside, root.join("etc")).unwrap();
        let e = check(&root, "etc/podinfo").unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "leads out of the container root: {} resolves to {}",
                root.join("etc").display(),
                outside.display()
            )
        );
        symlink(dir.path().join("nowhere"), root.join("dangling")).unwrap();
        assert!(matches!(
            check(&root, "dangling/x").unwrap_err(),
            Beneath::Io { error, .. } if error.kind() == io::ErrorKind::NotFound
        ));
        assert!(fs::read_dir(&outside).unwrap().next().is_none());
    }

    #[test]
    fn write_new_replaces_a_symlink_instead_of_following_it() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("elsewhere");
        fs::write(&target, "keep").unwrap();
        let link = dir.path().join("container.json.tmp");
        symlink(&target, &link).unwrap();
        write_new(&link, b"new").unwrap();
        assert_eq!(fs::read_to_string(&target).unwrap(), "keep");
        assert_eq!(fs::read_to_string(&link).unwrap(), "new");
        assert!(
            !fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
    }
}
