//! Reading one downwardAPI (or ServiceAccount) volume as one consistent version.
//!
//! The kubelet's AtomicWriter (kubernetes pkg/volume/util/atomic_writer.go) swaps `..data` to a
//! new version directory and then deletes the old one. A reader resolves `..data` once, reads
//! every file it needs from that version right away, then checks that `..data` still points at
//! it; if not (or if a file vanished meanwhile), the whole volume is read again from the new
//! `..data`. Since a version is never modified in place, this yields exactly one whole version.
//! Files are capped in size and must be regular files, so a huge or special file (a FIFO) yields
//! an error for that item instead of exhausting memory or blocking.

use pod_introspect_kube::atomic_writer::{Layout, Snapshot};
use pod_introspect_kube::fields;
use std::collections::BTreeMap;
use std::io::{self, Read};
use std::path::Path;

/// Largest file read: a kubelet-written item is at most about 1 MiB (annotations are limited to
/// 256 KiB, and Go quoting at most quadruples them).
pub const MAX_FILE_BYTES: u64 = 4 << 20;

/// How many times a volume is re-read when its version vanishes under the reader.
const MAX_ATTEMPTS: usize = 32;

/// What reading one item gave.
#[derive(Debug, Clone)]
pub enum Item {
    /// The bytes.
    Data(Vec<u8>),
    /// An error message (the item exists but cannot be used).
    Error(String),
}

/// One volume version, read.
#[derive(Debug)]
pub struct Volume {
    /// The directory as given, e.g. `/etc/podinfo`.
    pub dir: String,
    /// The version read (for nested items read on demand).
    pub snapshot: Snapshot,
    /// Top-level items read eagerly, by name.
    pub items: BTreeMap<String, Item>,
    /// A problem listing the directory (the known item names were probed instead).
    pub listing_error: Option<String>,
}

/// Why a volume could not be read at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeError(pub String);

/// Reads a file of at most [`MAX_FILE_BYTES`] that must be a regular file.
pub fn read_capped(path: &Path) -> io::Result<Vec<u8>> {
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Err(io::Error::other(
            "not a regular file (the kubelet writes downward API items as regular files)",
        ));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(io::Error::other(format!(
            "{} bytes is larger than the {} MiB a downward API file can reasonably be (annotations are limited to 256 KiB)",
            meta.len(),
            MAX_FILE_BYTES >> 20
        )));
    }
    let mut buf = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    std::fs::File::open(path)?
        .take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut buf)?;
    if buf.len() as u64 > MAX_FILE_BYTES {
        return Err(io::Error::other(
            "file grew past the size limit while being read",
        ));
    }
    Ok(buf)
}

/// Names probed when the directory cannot be listed (e.g. an entry name that is not UTF-8).
fn known_names() -> Vec<String> {
    let mut names: Vec<String> = fields::VOLUME_FIELD_PATHS
        .iter()
        .map(|s| s.to_string())
        .collect();
    names.extend(fields::RESOURCE_NAMES.iter().map(|s| s.to_string()));
    names.extend(
        fields::CONVENTIONAL_FILE_NAMES
            .iter()
            .map(|(n, _)| n.to_string()),
    );
    names.push(fields::SERVICE_ACCOUNT_NAMESPACE_FILE.to_string());
    names
}

/// The points of one read attempt at which the kubelet may swap `..data` under the reader; a
/// test changes the volume there to drive each retry path deterministically.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// `..data` resolved and the version listed; no item read yet.
    Listed,
    /// Every wanted item read; `..data` not yet checked again.
    Read,
}

/// Opens `dir` and reads the top-level items `wanted` accepts from one version.
/// `Ok(None)`: the directory does not exist.
///
/// Errors: `..data` cannot be read, or kept pointing at a missing or vanishing version for
/// every one of 32 attempts.
pub fn read_volume(
    dir: &str,
    wanted: &dyn Fn(&str) -> bool,
) -> Result<Option<Volume>, VolumeError> {
    read_volume_observed(dir, wanted, &mut |_| {})
}

/// [`read_volume`], calling `at` at each [`Step`] of each attempt.
fn read_volume_observed(
    dir: &str,
    wanted: &dyn Fn(&str) -> bool,
    at: &mut dyn FnMut(Step),
) -> Result<Option<Volume>, VolumeError> {
    let path = Path::new(dir);
    // A whole read of a version that `..data` had already left, but that still existed after the
    // read: used only if `..data` keeps moving faster than a read completes.
    let mut superseded: Option<Volume> = None;
    'attempt: for _ in 0..MAX_ATTEMPTS {
        let snapshot = match Snapshot::open(path) {
            Ok(s) => s,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                if std::fs::symlink_metadata(path).is_err() {
                    return Ok(None);
                }
                // The directory exists but `..data` points at a missing version: the kubelet may
                // be swapping it; look again, then report.
                continue 'attempt;
            }
            Err(e) => {
                return Err(VolumeError(format!(
                    "cannot open the volume (its ..data link): {e}"
                )));
            }
        };
        let (names, listing_error) = match snapshot.entries() {
            Ok(names) => (names, None),
            Err(e) => (
                known_names(),
                Some(format!(
                    "cannot list {dir}: {e} (an entry name that is not UTF-8?); only the known item names were read"
                )),
            ),
        };
        at(Step::Listed);
        let mut items = BTreeMap::new();
        for name in names.iter().filter(|n| wanted(n)) {
            match read_capped(&snapshot.path(name)) {
                Ok(bytes) => {
                    items.insert(name.clone(), Item::Data(bytes));
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    if matches!(snapshot.layout, Layout::AtomicWriter { .. })
                        && (listing_error.is_none() || data_moved(path, &snapshot))
                    {
                        // The version this name was listed in is gone: read the new one.
                        continue 'attempt;
                    }
                }
                Err(e) => {
                    items.insert(name.clone(), Item::Error(describe(&e)));
                }
            }
        }
        at(Step::Read);
        // The kubelet never changes a version in place: it deletes it only after `..data` has
        // moved on. So a read is of one complete version exactly when `..data` still points at
        // it afterwards (a listing of a version being deleted can come back partial or empty).
        let volume = Volume {
            dir: dir.to_string(),
            snapshot,
            items,
            listing_error,
        };
        if matches!(volume.snapshot.layout, Layout::AtomicWriter { .. })
            && data_moved(path, &volume.snapshot)
        {
            if std::fs::symlink_metadata(&volume.snapshot.data_dir).is_ok() {
                superseded = Some(volume);
            }
            continue 'attempt;
        }
        return Ok(Some(volume));
    }
    if let Some(volume) = superseded {
        return Ok(Some(volume));
    }
    Err(VolumeError(format!(
        "the volume's ..data link kept pointing at a missing or vanishing version ({MAX_ATTEMPTS} attempts); a kubelet-written volume always has a complete version"
    )))
}

/// True when `..data` no longer points at the version `snapshot` resolved.
fn data_moved(dir: &Path, snapshot: &Snapshot) -> bool {
    match (&snapshot.layout, std::fs::read_link(dir.join("..data"))) {
        (Layout::AtomicWriter { version_dir }, Ok(now)) => now.as_os_str() != version_dir.as_str(),
        _ => true,
    }
}

/// An I/O error's message, with the sandbox's reason for a refusal.
pub fn describe(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::PermissionDenied => format!(
            "{e} (a symlink that leaves the volume, or a path outside the preopened directories, is refused)"
        ),
        _ => e.to_string(),
    }
}

#[cfg(test)]
mod tests;
