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

impl Snapshot {
    /// Resolves `volume_dir/..data` once with `read_link` (WASI has no `canonicalize`).
    ///
    /// Errors: `NotFound` when `volume_dir` does not exist; `InvalidData` when `..data` is not a
    /// symlink to a single `..`-prefixed directory name inside the volume (the kubelet never writes
    /// anything else, so another target means the volume was tampered with); other I/O errors as is.
    pub fn open(volume_dir: &Path) -> io::Result<Snapshot> {
        let _ = volume_dir;
        todo!()
    }

    /// The path of item `relative` (e.g. `labels`, `cpu/limit`) inside this version.
    pub fn path(&self, relative: &str) -> PathBuf {
        self.data_dir.join(relative)
    }

    /// Reads item `relative` from this version: `Ok(None)` when it does not exist.
    pub fn read(&self, relative: &str) -> io::Result<Option<Vec<u8>>> {
        let _ = relative;
        todo!()
    }

    /// The visible top-level entry names of this version, sorted, without `..`-prefixed names.
    pub fn entries(&self) -> io::Result<Vec<String>> {
        todo!()
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
#[cfg(unix)]
pub fn write(volume_dir: &Path, files: &[FileProjection]) -> io::Result<String> {
    let _ = (volume_dir, files);
    todo!()
}
