//! The AtomicWriter layout the kubelet uses for downwardAPI, projected, ConfigMap, Secret and
//! ServiceAccount volumes.
//!
//! Upstream: kubernetes `pkg/volume/util/atomic_writer.go`. A volume directory holds
//!
//! ```text
//! <dir>/..2026_11_29_09_55_10.123456789/   the data of one version (mode 0755)
//! <dir>/..data -> ..2026_11_29_09_55_10.123456789   relative symlink, swapped atomically by rename(2)
//! <dir>/labels -> ..data/labels            one relative symlink per visible top-level entry
//! ```
//!
//! A reader that wants one consistent version resolves `..data` once ([`Snapshot::open`]) and reads
//! every file under the resolved directory. A plain directory without `..data` (a `subPath` mount or
//! a hand-made directory) is read as it is.

use std::io;
use std::path::{Path, PathBuf};

/// Name of the symlink that points at the current version directory.
pub const DATA_DIR_NAME: &str = "..data";
/// Name of the temporary symlink renamed over [`DATA_DIR_NAME`] during an update.
pub const NEW_DATA_DIR_NAME: &str = "..data_tmp";

/// How a volume directory is laid out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Layout {
    /// The kubelet's layout: `..data` resolved to this version directory name (e.g.
    /// `..2026_11_29_09_55_10.123456789`).
    AtomicWriter {
        /// The `..data` link target, a single path component starting with `..`.
        version_dir: String,
    },
    /// No `..data` link: files are read directly from the directory (subPath-style mount).
    Plain,
}

/// One consistent version of a volume: every read goes below [`Snapshot::data_dir`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// The volume directory as mounted, e.g. `/etc/podinfo`.
    pub volume_dir: PathBuf,
    /// Where the files of this version are read from: `volume_dir/<version_dir>` or `volume_dir`.
    pub data_dir: PathBuf,
    /// Which layout was found.
    pub layout: Layout,
}

/// Longest path the kubelet's `validatePath` accepts (`maxPathLength`).
const MAX_PATH_LENGTH: usize = 4096;
/// Longest path element the kubelet's `validatePath` accepts (`maxFileNameLength`).
const MAX_FILE_NAME_LENGTH: usize = 255;

fn invalid_data(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

fn invalid_input(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, message)
}

/// Checks the text of a `..data` link: one path component starting with `..`, not `..` itself and
/// not one of the reserved link names. The kubelet writes `..<timestamp>.<digits>`.
fn check_version_dir_name(link: &Path, target: &Path) -> io::Result<String> {
    let expected = "expected a single `..`-prefixed version directory name such as \
                    `..2026_11_29_09_55_10.123456789`, as the kubelet writes";
    let Some(name) = target.to_str() else {
        return Err(invalid_data(format!(
            "{} points to {:?}, which is not UTF-8: {expected}",
            link.display(),
            target
        )));
    };
    let valid = name.starts_with("..")
        && name != ".."
        && name != DATA_DIR_NAME
        && name != NEW_DATA_DIR_NAME
        && !name.contains('/')
        && !name.contains('\\')
        && !name.contains('\0');
    if valid {
        Ok(name.to_string())
    } else {
        Err(invalid_data(format!(
            "{} points to {name:?}: {expected}",
            link.display()
        )))
    }
}

/// Reads the `..data` link of `volume_dir`: `Ok(None)` when there is none (plain directory).
fn read_data_link(volume_dir: &Path) -> io::Result<Option<String>> {
    let link = volume_dir.join(DATA_DIR_NAME);
    match std::fs::read_link(&link) {
        Ok(target) => check_version_dir_name(&link, &target).map(Some),
        Err(err) if err.kind() == io::ErrorKind::NotFound => {
            let meta = std::fs::metadata(volume_dir).map_err(|err| {
                io::Error::new(
                    err.kind(),
                    format!("volume directory {}: {err}", volume_dir.display()),
                )
            })?;
            if meta.is_dir() {
                Ok(None)
            } else {
                Err(io::Error::new(
                    io::ErrorKind::NotADirectory,
                    format!(
                        "volume directory {} is not a directory",
                        volume_dir.display()
                    ),
                ))
            }
        }
        Err(err) => match std::fs::symlink_metadata(&link) {
            Ok(meta) if !meta.file_type().is_symlink() => Err(invalid_data(format!(
                "{} exists but is not a symlink: the kubelet's ..data is a symlink to the current version directory",
                link.display()
            ))),
            _ => Err(err),
        },
    }
}

/// The kubelet's `validatePath` for a projection (or read) path, then `filepath.Clean`.
///
/// Rejects: empty, absolute, longer than 4096 bytes, an element longer than 255 bytes, a `..`
/// element, a first element starting with `..` (reserved), and (stricter than the kubelet, which
/// checks before cleaning) a path that cleans to nothing (`.`) or to a `..`-prefixed first element
/// (`./..data`). Returns the cleaned path: no empty or `.` elements.
fn clean_projection_path(path: &str) -> Result<String, String> {
    if path.is_empty() {
        return Err("invalid path \"\": must not be empty".to_string());
    }
    if path.starts_with('/') {
        return Err(format!("invalid path {path:?}: must be a relative path"));
    }
    if path.len() > MAX_PATH_LENGTH {
        return Err(format!(
            "invalid path: must be less than or equal to {MAX_PATH_LENGTH} characters"
        ));
    }
    let items: Vec<&str> = path.split('/').collect();
    for item in &items {
        if *item == ".." {
            return Err(format!("invalid path {path:?}: must not contain '..'"));
        }
        if item.len() > MAX_FILE_NAME_LENGTH {
            return Err(format!(
                "invalid path {path:?}: filenames must be less than or equal to {MAX_FILE_NAME_LENGTH} characters"
            ));
        }
    }
    // No `..` element is left, so Go's path.Clean only drops empty and `.` elements here.
    let cleaned = crate::gopath::clean(path);
    match cleaned.split('/').next() {
        _ if cleaned == "." => Err(format!("invalid path {path:?}: names no file")),
        Some(first) if first.starts_with("..") => Err(format!(
            "invalid path {path:?}: must not start with '..' (names starting with '..' are reserved for the AtomicWriter)"
        )),
        _ => Ok(cleaned.into_owned()),
    }
}

/// One file of a volume version, as the kubelet's `FileProjection`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileProjection {
    /// Path relative to the volume directory, e.g. `labels` or `cpu/limit`; must not start with `..`
    /// nor contain a `..` component, and must not be absolute.
    pub path: String,
    /// File contents.
    pub data: Vec<u8>,
    /// Unix permission bits, e.g. `0o644` (the item's `mode` or the volume's `defaultMode`).
    pub mode: u32,
}

/// Writes `files` as the new version of the volume at `volume_dir`, the way the kubelet's
/// `AtomicWriter.Write` does: a new `..<UTC timestamp>.<digits>` directory (mode 0755) holding the
/// files with their modes, a `..data_tmp` symlink renamed over `..data` (the atomic step), a relative
/// `name -> ..data/name` symlink for each top-level entry, removal of stale top-level links, and
/// removal of the previous version directory. Creates `volume_dir` when missing. When the files are
/// byte-for-byte and mode-for-mode the same as the current version nothing is written.
///
/// Returns the new version directory name. Errors: `InvalidInput` for a bad projection path; I/O
/// errors from the filesystem.
///
/// Details, following `atomic_writer.go` step by step:
/// - Paths are validated like the kubelet's `validatePath` and cleaned (`./a` and `a//b` are `a`
///   and `a/b`); two files with the same cleaned path, or a file that is also the parent directory
///   of another, are `InvalidInput`. Subdirectories get the default mode (0777 minus the umask, like
///   Go's `MkdirAll(os.ModePerm)`); only the permission bits `mode & 0o777` are applied, as Go's
///   `os.FileMode` conversion does.
/// - The version name is `..` + `YYYY_MM_DD_HH_MM_SS` (UTC) + `.` + the decimal digits of a random
///   u32, as `os.MkdirTemp` appends them.
/// - No-op: nothing changed when every file exists in the current version with the same bytes and
///   mode (the kubelet compares bytes only; pod volumes cannot change mode) and the current version
///   holds nothing else. Even then missing top-level links are recreated (kubernetes #121472) and
///   the current version name is returned.
/// - A top-level link is created only where nothing exists under that name (the kubelet leaves a
///   non-symlink in place); stale links are those top-level names of the previous version that the
///   new one lacks.
/// - Robustness beyond the kubelet: an existing `..data` whose target is not a `..`-prefixed
///   single name (or that is not a symlink) is `InvalidData` and nothing is touched (the kubelet
///   would delete whatever it points to); a leftover `..data_tmp` symlink from an interrupted write
///   is replaced; a new version directory is removed again when writing it fails; an unreadable file
///   of the current version counts as changed; a stale link that is already gone is not an error.
#[cfg(unix)]
pub fn write(volume_dir: &Path, files: &[FileProjection]) -> io::Result<String> {
    write::write(volume_dir, files)
}

mod read;
#[cfg(unix)]
mod write;

#[cfg(test)]
mod tests;
