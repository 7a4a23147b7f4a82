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

impl Snapshot {
    /// Resolves `volume_dir/..data` once with `read_link` (WASI has no `canonicalize`).
    ///
    /// Errors: `NotFound` when `volume_dir` does not exist; `InvalidData` when `..data` is not a
    /// symlink to a single `..`-prefixed directory name inside the volume (the kubelet never writes
    /// anything else, so another target means the volume was tampered with); other I/O errors as is.
    ///
    /// Also `NotFound` when `..data` points to a version directory that does not exist (checked once
    /// more after re-reading the link, since the kubelet removes the old version right after
    /// swapping `..data`), and `NotADirectory` when `volume_dir` is not a directory. The
    /// `InvalidData` message names the link target.
    pub fn open(volume_dir: &Path) -> io::Result<Snapshot> {
        let mut attempts_left = 3;
        loop {
            attempts_left -= 1;
            let Some(version_dir) = read_data_link(volume_dir)? else {
                return Ok(Snapshot {
                    volume_dir: volume_dir.to_path_buf(),
                    data_dir: volume_dir.to_path_buf(),
                    layout: Layout::Plain,
                });
            };
            let data_dir = volume_dir.join(&version_dir);
            match std::fs::metadata(&data_dir) {
                Ok(meta) if meta.is_dir() => {
                    return Ok(Snapshot {
                        volume_dir: volume_dir.to_path_buf(),
                        data_dir,
                        layout: Layout::AtomicWriter { version_dir },
                    });
                }
                Ok(_) => {
                    return Err(invalid_data(format!(
                        "{} points to {version_dir:?}, which is not a directory",
                        volume_dir.join(DATA_DIR_NAME).display()
                    )));
                }
                // The kubelet may have swapped ..data and removed this version meanwhile.
                Err(err) if err.kind() == io::ErrorKind::NotFound && attempts_left > 0 => {}
                Err(err) if err.kind() == io::ErrorKind::NotFound => {
                    return Err(io::Error::new(
                        io::ErrorKind::NotFound,
                        format!(
                            "{} points to {version_dir:?}, which does not exist",
                            volume_dir.join(DATA_DIR_NAME).display()
                        ),
                    ));
                }
                Err(err) => return Err(err),
            }
        }
    }

    /// The path of item `relative` (e.g. `labels`, `cpu/limit`) inside this version.
    pub fn path(&self, relative: &str) -> PathBuf {
        self.data_dir.join(relative)
    }

    /// Reads item `relative` from this version: `Ok(None)` when it does not exist.
    ///
    /// `relative` must be a valid projection path (as for [`FileProjection::path`]: relative, no
    /// `..` element, not starting with `..`), so a read cannot leave this version; otherwise
    /// `InvalidInput`. Reading a directory is an I/O error.
    pub fn read(&self, relative: &str) -> io::Result<Option<Vec<u8>>> {
        let cleaned = clean_projection_path(relative).map_err(invalid_input)?;
        match std::fs::read(self.data_dir.join(cleaned)) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(err),
        }
    }

    /// The visible top-level entry names of this version, sorted, without `..`-prefixed names.
    ///
    /// Sorted in byte order; a name that is not UTF-8 is converted lossily (U+FFFD).
    pub fn entries(&self) -> io::Result<Vec<String>> {
        let mut names = Vec::new();
        for entry in std::fs::read_dir(&self.data_dir)? {
            let name = entry?.file_name().to_string_lossy().into_owned();
            if !name.starts_with("..") {
                names.push(name);
            }
        }
        names.sort();
        Ok(names)
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
    writer::write(volume_dir, files)
}

#[cfg(unix)]
mod writer {
    use std::collections::{BTreeMap, BTreeSet};
    use std::fs;
    use std::io::{self, Write as _};
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt, symlink};
    use std::path::Path;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::time::{SystemTime, UNIX_EPOCH};

    use super::{
        DATA_DIR_NAME, FileProjection, NEW_DATA_DIR_NAME, clean_projection_path, invalid_input,
        read_data_link,
    };

    /// A validated payload: cleaned path → (contents, permission bits).
    type Payload<'a> = BTreeMap<String, (&'a [u8], u32)>;

    pub(super) fn write(volume_dir: &Path, files: &[FileProjection]) -> io::Result<String> {
        // (1) Validate the payload.
        let payload = validate_payload(files)?;
        fs::create_dir_all(volume_dir)?;

        // (2) The current version, if any.
        let old_version = read_data_link(volume_dir)?;

        // (3) + (4) What the current version holds that the new one does not, and whether anything
        // changed.
        let mut paths_to_remove = BTreeSet::new();
        let mut unchanged_version = None;
        if let Some(old) = &old_version {
            let old_dir = volume_dir.join(old);
            let mut old_paths = BTreeSet::new();
            walk(&old_dir, "", &mut old_paths)?;
            let new_paths = with_parents(&payload);
            paths_to_remove = old_paths.difference(&new_paths).cloned().collect();
            if paths_to_remove.is_empty() && !payload_differs(&payload, &old_dir) {
                unchanged_version = Some(old.clone());
            }
        }

        let version = match unchanged_version {
            Some(version) => version,
            None => {
                // (5) + (6) A new timestamped directory with the payload.
                let (ts_dir, ts_name) = new_timestamp_dir(volume_dir)?;
                if let Err(err) = write_payload(&payload, &ts_dir) {
                    let _ = fs::remove_dir_all(&ts_dir);
                    return Err(err);
                }
                // (8) ..data_tmp -> the new version.
                let tmp_link = volume_dir.join(NEW_DATA_DIR_NAME);
                if fs::symlink_metadata(&tmp_link).is_ok_and(|m| m.file_type().is_symlink()) {
                    fs::remove_file(&tmp_link)?;
                }
                if let Err(err) = symlink(&ts_name, &tmp_link) {
                    let _ = fs::remove_dir_all(&ts_dir);
                    return Err(err);
                }
                // (9) The atomic step: rename(2) over ..data.
                if let Err(err) = fs::rename(&tmp_link, volume_dir.join(DATA_DIR_NAME)) {
                    let _ = fs::remove_file(&tmp_link);
                    let _ = fs::remove_dir_all(&ts_dir);
                    return Err(err);
                }
                ts_name
            }
        };

        // (10) User-visible links for the top-level entries.
        create_user_visible_links(volume_dir, &payload)?;

        // (11) Stale top-level links (nested paths disappear with the old version directory).
        for path in paths_to_remove.iter().filter(|p| !p.contains('/')) {
            remove_visible(&volume_dir.join(path))?;
        }

        // (12) The previous version directory.
        if let Some(old) = &old_version
            && *old != version
        {
            match fs::remove_dir_all(volume_dir.join(old)) {
                Err(err) if err.kind() != io::ErrorKind::NotFound => return Err(err),
                _ => {}
            }
        }
        Ok(version)
    }

    fn validate_payload(files: &[FileProjection]) -> io::Result<Payload<'_>> {
        let mut payload = Payload::new();
        for file in files {
            let cleaned = clean_projection_path(&file.path).map_err(invalid_input)?;
            if payload.contains_key(&cleaned) {
                return Err(invalid_input(format!(
                    "invalid payload: more than one file at path {cleaned:?}"
                )));
            }
            payload.insert(cleaned, (file.data.as_slice(), file.mode & 0o777));
        }
        for path in payload.keys() {
            for (i, _) in path.match_indices('/') {
                let parent = &path[..i];
                if payload.contains_key(parent) {
                    return Err(invalid_input(format!(
                        "invalid payload: {parent:?} is a file and also the directory of {path:?}"
                    )));
                }
            }
        }
        Ok(payload)
    }

    /// Every payload path and all of its parent directories (the kubelet's `newPaths`).
    fn with_parents(payload: &Payload<'_>) -> BTreeSet<String> {
        let mut paths = BTreeSet::new();
        for path in payload.keys() {
            paths.insert(path.clone());
            for (i, _) in path.match_indices('/') {
                paths.insert(path[..i].to_string());
            }
        }
        paths
    }

    /// Collects the relative paths of everything below `dir` (files, directories and symlinks,
    /// without following symlinks, like `filepath.Walk`). A missing `dir` holds nothing.
    fn walk(dir: &Path, prefix: &str, out: &mut BTreeSet<String>) -> io::Result<()> {
        let entries = match fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(err) if err.kind() == io::ErrorKind::NotFound && prefix.is_empty() => return Ok(()),
            Err(err) => return Err(err),
        };
        for entry in entries {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let relative = if prefix.is_empty() {
                name
            } else {
                format!("{prefix}/{name}")
            };
            if entry.file_type()?.is_dir() {
                walk(&entry.path(), &relative, out)?;
            }
            out.insert(relative);
        }
        Ok(())
    }

    /// True when some payload file is missing from `old_dir` or differs in bytes or mode.
    fn payload_differs(payload: &Payload<'_>, old_dir: &Path) -> bool {
        payload.iter().any(|(path, (data, mode))| {
            let full = old_dir.join(path);
            let Ok(meta) = fs::symlink_metadata(&full) else {
                return true;
            };
            if !meta.is_file() || meta.permissions().mode() & 0o777 != *mode {
                return true;
            }
            fs::read(&full).map_or(true, |on_disk| on_disk != *data)
        })
    }

    fn write_payload(payload: &Payload<'_>, dir: &Path) -> io::Result<()> {
        for (path, (data, mode)) in payload {
            let full = dir.join(path);
            if let Some(parent) = full.parent() {
                fs::create_dir_all(parent)?;
            }
            let mut file = fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(*mode)
                .open(&full)?;
            file.write_all(data)?;
            drop(file);
            // The umask applied at creation: set the exact mode, as the kubelet's os.Chmod does.
            fs::set_permissions(&full, fs::Permissions::from_mode(*mode))?;
        }
        Ok(())
    }

    fn create_user_visible_links(volume_dir: &Path, payload: &Payload<'_>) -> io::Result<()> {
        let tops: BTreeSet<&str> = payload
            .keys()
            .map(|path| path.split_once('/').map_or(path.as_str(), |(top, _)| top))
            .collect();
        for top in tops {
            let visible = volume_dir.join(top);
            match fs::read_link(&visible) {
                Err(err) if err.kind() == io::ErrorKind::NotFound => {
                    symlink(format!("{DATA_DIR_NAME}/{top}"), &visible)?;
                }
                // A link already, or something else the kubelet would leave alone.
                _ => {}
            }
        }
        Ok(())
    }

    fn remove_visible(path: &Path) -> io::Result<()> {
        let result = match fs::symlink_metadata(path) {
            Ok(meta) if meta.is_dir() => fs::remove_dir(path),
            Ok(_) => fs::remove_file(path),
            Err(err) => Err(err),
        };
        match result {
            Err(err) if err.kind() != io::ErrorKind::NotFound => Err(err),
            _ => Ok(()),
        }
    }

    /// Creates `..<UTC timestamp>.<random digits>` (mode 0700, then 0755, as the kubelet's
    /// `os.MkdirTemp` + `os.Chmod`), returning its path and name.
    fn new_timestamp_dir(volume_dir: &Path) -> io::Result<(std::path::PathBuf, String)> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let prefix = timestamp_prefix(now.as_secs());
        let mut last_err = None;
        // os.MkdirTemp gives up after 10000 collisions.
        for _ in 0..10_000 {
            let name = format!("{prefix}{}", random_u32(now.subsec_nanos()));
            let path = volume_dir.join(&name);
            match fs::DirBuilder::new().mode(0o700).create(&path) {
                Ok(()) => {
                    fs::set_permissions(&path, fs::Permissions::from_mode(0o755))?;
                    return Ok((path, name));
                }
                Err(err) if err.kind() == io::ErrorKind::AlreadyExists => last_err = Some(err),
                Err(err) => return Err(err),
            }
        }
        Err(last_err.unwrap_or_else(|| io::Error::other("no unique version directory name")))
    }

    /// Go's `time.Now().UTC().Format("..2006_01_02_15_04_05.")` for `secs` since the Unix epoch.
    pub(super) fn timestamp_prefix(secs: u64) -> String {
        let days = secs / 86_400;
        let rem = secs % 86_400;
        let (year, month, day) = civil_from_days(days as i64);
        format!(
            "..{year:04}_{month:02}_{day:02}_{:02}_{:02}_{:02}.",
            rem / 3600,
            rem % 3600 / 60,
            rem % 60
        )
    }

    /// (year, month, day) of the proleptic Gregorian calendar for days since 1970-01-01
    /// (Howard Hinnant's `civil_from_days`).
    fn civil_from_days(days: i64) -> (i64, u32, u32) {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = yoe + era * 400 + i64::from(month <= 2);
        (year, month, day)
    }

    /// A random u32 (the digits `os.MkdirTemp` appends): the clock, the process id and a counter
    /// mixed by splitmix64. Uniqueness is guaranteed by `create_dir` failing on collisions.
    fn random_u32(nanos: u32) -> u32 {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let count = COUNTER.fetch_add(1, Ordering::Relaxed);
        let mut z = u64::from(nanos)
            ^ (u64::from(std::process::id()) << 32)
            ^ count.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        (z ^ (z >> 31)) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn projection_paths_are_validated_like_the_kubelet() {
        let ok: &[(&str, &str)] = &[
            ("labels", "labels"),
            ("cpu/limit", "cpu/limit"),
            ("./labels", "labels"),
            ("a//b", "a/b"),
            ("a/./b/", "a/b"),
            ("a/..b", "a/..b"),
            (".hidden", ".hidden"),
            ("a.b", "a.b"),
        ];
        for (path, cleaned) in ok {
            assert_eq!(
                clean_projection_path(path).as_deref(),
                Ok(*cleaned),
                "{path}"
            );
        }
        let long_name = "x".repeat(256);
        let long_path = format!("{}/{}", "y".repeat(200), "z/".repeat(2000));
        let bad: &[(&str, &str)] = &[
            ("", "must not be empty"),
            ("/etc/passwd", "relative"),
            ("..", "must not contain '..'"),
            ("../x", "must not contain '..'"),
            ("a/../b", "must not contain '..'"),
            ("a/..", "must not contain '..'"),
            ("..data", "must not start with '..'"),
            ("..data/labels", "must not start with '..'"),
            ("...", "must not start with '..'"),
            ("..2026_01_01_00_00_00.1/x", "must not start with '..'"),
            ("./..data", "must not start with '..'"),
            (".", "names no file"),
            ("./", "names no file"),
            (&long_name, "filenames must be less than or equal to 255"),
            (&long_path, "less than or equal to 4096"),
        ];
        for (path, reason) in bad {
            let err = clean_projection_path(path).expect_err(path);
            assert!(err.contains(reason), "{path:?}: {err}");
        }
    }

    #[test]
    fn snapshot_of_a_missing_directory_is_not_found() {
        let tmp = tempfile::tempdir().unwrap();
        let err = Snapshot::open(&tmp.path().join("nope")).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert!(err.to_string().contains("nope"), "{err}");
    }

    #[test]
    fn snapshot_of_a_plain_directory() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        fs::write(dir.join("labels"), "app=\"web\"").unwrap();
        fs::write(dir.join("..hidden"), "x").unwrap();
        fs::create_dir(dir.join("cpu")).unwrap();
        fs::write(dir.join("cpu/limit"), "2").unwrap();
        let snap = Snapshot::open(dir).unwrap();
        assert_eq!(snap.layout, Layout::Plain);
        assert_eq!(snap.data_dir, dir);
        assert_eq!(snap.volume_dir, dir);
        assert_eq!(snap.entries().unwrap(), ["cpu", "labels"]);
        assert_eq!(
            snap.read("labels").unwrap().as_deref(),
            Some(&b"app=\"web\""[..])
        );
        assert_eq!(snap.read("cpu/limit").unwrap().as_deref(), Some(&b"2"[..]));
        assert_eq!(snap.read("missing").unwrap(), None);
        assert_eq!(snap.read("cpu/missing").unwrap(), None);
        assert_eq!(snap.path("cpu/limit"), dir.join("cpu/limit"));
        assert!(snap.read("cpu").is_err(), "a directory is not an item");
        for bad in [
            "../etc/passwd",
            "/etc/passwd",
            "..hidden",
            "..data/labels",
            "",
        ] {
            let err = snap.read(bad).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{bad}");
        }
    }

    #[test]
    fn snapshot_of_a_file_is_not_a_directory() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("file");
        fs::write(&file, "x").unwrap();
        assert!(Snapshot::open(&file).is_err());
    }

    #[cfg(unix)]
    mod unix {
        use super::super::writer::timestamp_prefix;
        use super::*;
        use std::os::unix::fs::{PermissionsExt, symlink};

        fn mode(path: &Path) -> u32 {
            fs::symlink_metadata(path).unwrap().permissions().mode() & 0o7777
        }

        fn link(path: &Path) -> String {
            fs::read_link(path).unwrap().to_str().unwrap().to_string()
        }

        fn file(path: &str, data: &str, mode: u32) -> FileProjection {
            FileProjection {
                path: path.to_string(),
                data: data.as_bytes().to_vec(),
                mode,
            }
        }

        /// `..` + `YYYY_MM_DD_HH_MM_SS` + `.` + digits.
        fn is_version_name(name: &str) -> bool {
            let Some(rest) = name.strip_prefix("..") else {
                return false;
            };
            let Some((stamp, digits)) = rest.split_once('.') else {
                return false;
            };
            let parts: Vec<&str> = stamp.split('_').collect();
            let widths = [4, 2, 2, 2, 2, 2];
            parts.len() == 6
                && parts
                    .iter()
                    .zip(widths)
                    .all(|(p, w)| p.len() == w && p.bytes().all(|b| b.is_ascii_digit()))
                && !digits.is_empty()
                && digits.len() <= 10
                && digits.bytes().all(|b| b.is_ascii_digit())
        }

        fn sorted(names: &[&str]) -> Vec<String> {
            let mut names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
            names.sort();
            names
        }

        fn names(dir: &Path) -> Vec<String> {
            let mut names: Vec<String> = fs::read_dir(dir)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_str().unwrap().to_string())
                .collect();
            names.sort();
            names
        }

        /// The layout a kubelet leaves, built by hand.
        fn kubelet_volume(dir: &Path) -> &'static str {
            let version = "..2024_02_29_12_00_00.3735928559";
            fs::create_dir(dir.join(version)).unwrap();
            fs::write(dir.join(version).join("labels"), "app=\"web\"").unwrap();
            fs::write(dir.join(version).join("annotations"), "").unwrap();
            fs::create_dir(dir.join(version).join("cpu")).unwrap();
            fs::write(dir.join(version).join("cpu/limit"), "2").unwrap();
            symlink(version, dir.join("..data")).unwrap();
            symlink("..data/labels", dir.join("labels")).unwrap();
            symlink("..data/annotations", dir.join("annotations")).unwrap();
            symlink("..data/cpu", dir.join("cpu")).unwrap();
            version
        }

        #[test]
        fn timestamps_are_utc_go_layout() {
            let table: &[(u64, &str)] = &[
                (0, "..1970_01_01_00_00_00."),
                (951_782_400, "..2000_02_29_00_00_00."),
                (1_234_567_890, "..2009_02_13_23_31_30."),
                (1_709_164_800, "..2024_02_29_00_00_00."),
                (1_798_761_599, "..2026_12_31_23_59_59."),
                (4_102_444_799, "..2099_12_31_23_59_59."),
                (4_107_542_400, "..2100_03_01_00_00_00."),
            ];
            for (secs, want) in table {
                assert_eq!(timestamp_prefix(*secs), *want, "{secs}");
            }
        }

        #[test]
        fn snapshot_of_a_kubelet_volume() {
            let tmp = tempfile::tempdir().unwrap();
            let dir = tmp.path();
            let version = kubelet_volume(dir);
            let snap = Snapshot::open(dir).unwrap();
            assert_eq!(
                snap.layout,
                Layout::AtomicWriter {
                    version_dir: version.to_string()
                }
            );
            assert_eq!(snap.data_dir, dir.join(version));
            assert_eq!(snap.entries().unwrap(), ["annotations", "cpu", "labels"]);
            assert_eq!(
                snap.read("labels").unwrap().as_deref(),
                Some(&b"app=\"web\""[..])
            );
            assert_eq!(snap.read("annotations").unwrap().as_deref(), Some(&b""[..]));
            assert_eq!(snap.read("cpu/limit").unwrap().as_deref(), Some(&b"2"[..]));
            assert_eq!(snap.read("nope").unwrap(), None);

            // The snapshot keeps reading its version even after the kubelet swaps ..data.
            let newer = "..2024_02_29_12_00_05.1";
            fs::create_dir(dir.join(newer)).unwrap();
            fs::write(dir.join(newer).join("labels"), "app=\"db\"").unwrap();
            symlink(newer, dir.join("..data_tmp")).unwrap();
            fs::rename(dir.join("..data_tmp"), dir.join("..data")).unwrap();
            assert_eq!(
                snap.read("labels").unwrap().as_deref(),
                Some(&b"app=\"web\""[..])
            );
            let fresh = Snapshot::open(dir).unwrap();
            assert_eq!(
                fresh.read("labels").unwrap().as_deref(),
                Some(&b"app=\"db\""[..])
            );
        }

        #[test]
        fn snapshot_rejects_bad_data_links() {
            for target in [
                "/etc",
                "../x",
                "foo",
                "..data",
                "..data_tmp",
                ".",
                "..",
                "..a/b",
                "",
            ] {
                let tmp = tempfile::tempdir().unwrap();
                let dir = tmp.path();
                if target.is_empty() {
                    // An empty link target cannot be created on Linux; skip it.
                    continue;
                }
                symlink(target, dir.join("..data")).unwrap();
                let err = Snapshot::open(dir).unwrap_err();
                assert_eq!(err.kind(), io::ErrorKind::InvalidData, "{target}: {err}");
                assert!(
                    err.to_string().contains(&format!("{target:?}")),
                    "{target}: {err}"
                );
                // The writer refuses to touch such a volume too.
                let err = write(dir, &[file("labels", "", 0o644)]).unwrap_err();
                assert_eq!(err.kind(), io::ErrorKind::InvalidData, "{target}: {err}");
                assert_eq!(names(dir), ["..data"], "{target}: nothing written");
            }
        }

        #[test]
        fn snapshot_rejects_a_data_directory() {
            let tmp = tempfile::tempdir().unwrap();
            fs::create_dir(tmp.path().join("..data")).unwrap();
            let err = Snapshot::open(tmp.path()).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidData, "{err}");
            assert!(err.to_string().contains("not a symlink"), "{err}");
        }

        #[test]
        fn snapshot_of_a_dangling_data_link_is_not_found() {
            let tmp = tempfile::tempdir().unwrap();
            symlink("..2024_01_01_00_00_00.1", tmp.path().join("..data")).unwrap();
            let err = Snapshot::open(tmp.path()).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::NotFound, "{err}");
            assert!(err.to_string().contains("..2024_01_01_00_00_00.1"), "{err}");
        }

        #[test]
        fn first_write_creates_the_kubelet_layout() {
            let tmp = tempfile::tempdir().unwrap();
            let dir = tmp.path().join("podinfo");
            let files = [
                file("labels", "app=\"web\"", 0o644),
                file("annotations", "", 0o600),
                file("cpu/limit", "2", 0o400),
                file("cpu/request", "1", 0o644),
                file("deep/a/b/c", "x", 0o640),
            ];
            let version = write(&dir, &files).unwrap();
            assert!(is_version_name(&version), "{version}");
            assert_eq!(link(&dir.join("..data")), version);
            assert_eq!(mode(&dir.join(&version)), 0o755);
            assert_eq!(link(&dir.join("labels")), "..data/labels");
            assert_eq!(link(&dir.join("annotations")), "..data/annotations");
            assert_eq!(link(&dir.join("cpu")), "..data/cpu");
            assert_eq!(link(&dir.join("deep")), "..data/deep");
            assert_eq!(
                names(&dir),
                sorted(&["..data", &version, "annotations", "cpu", "deep", "labels"])
            );
            let data = dir.join(&version);
            assert_eq!(names(&data), ["annotations", "cpu", "deep", "labels"]);
            assert_eq!(mode(&data.join("labels")), 0o644);
            assert_eq!(mode(&data.join("annotations")), 0o600);
            assert_eq!(mode(&data.join("cpu/limit")), 0o400);
            assert_eq!(mode(&data.join("deep/a/b/c")), 0o640);
            assert!(fs::symlink_metadata(data.join("cpu")).unwrap().is_dir());
            assert_eq!(
                fs::read_to_string(dir.join("labels")).unwrap(),
                "app=\"web\""
            );
            assert_eq!(fs::read_to_string(dir.join("cpu/limit")).unwrap(), "2");
            assert_eq!(fs::read_to_string(dir.join("deep/a/b/c")).unwrap(), "x");

            let snap = Snapshot::open(&dir).unwrap();
            assert_eq!(
                snap.layout,
                Layout::AtomicWriter {
                    version_dir: version
                }
            );
            assert_eq!(
                snap.entries().unwrap(),
                ["annotations", "cpu", "deep", "labels"]
            );
            assert_eq!(
                snap.read("cpu/request").unwrap().as_deref(),
                Some(&b"1"[..])
            );
        }

        #[test]
        fn unchanged_write_is_a_no_op() {
            let tmp = tempfile::tempdir().unwrap();
            let dir = tmp.path();
            let files = [
                file("labels", "a=\"1\"", 0o644),
                file("cpu/limit", "2", 0o644),
            ];
            let first = write(dir, &files).unwrap();
            let before = names(dir);
            // Same payload in another order and spelling.
            let again = [
                file("./cpu//limit", "2", 0o644),
                file("labels", "a=\"1\"", 0o644),
            ];
            assert_eq!(write(dir, &again).unwrap(), first);
            assert_eq!(names(dir), before);
            assert_eq!(link(&dir.join("..data")), first);

            // A lost top-level link is recreated without a new version (kubernetes #121472).
            fs::remove_file(dir.join("labels")).unwrap();
            assert_eq!(write(dir, &files).unwrap(), first);
            assert_eq!(link(&dir.join("labels")), "..data/labels");
        }

        #[test]
        fn changed_write_swaps_versions_and_cleans_up() {
            let tmp = tempfile::tempdir().unwrap();
            let dir = tmp.path();
            let first = write(
                dir,
                &[
                    file("labels", "a=\"1\"", 0o644),
                    file("annotations", "", 0o644),
                    file("cpu/limit", "2", 0o644),
                    file("cpu/request", "1", 0o644),
                ],
            )
            .unwrap();

            // New label value, annotations dropped, one nested file dropped.
            let second = write(
                dir,
                &[
                    file("labels", "a=\"2\"", 0o644),
                    file("cpu/limit", "2", 0o644),
                ],
            )
            .unwrap();
            assert_ne!(second, first);
            assert!(is_version_name(&second), "{second}");
            assert_eq!(link(&dir.join("..data")), second);
            assert_eq!(
                names(dir),
                sorted(&["..data", second.as_str(), "cpu", "labels"])
            );
            assert_eq!(names(&dir.join(&second)), ["cpu", "labels"]);
            assert_eq!(names(&dir.join(&second).join("cpu")), ["limit"]);
            assert_eq!(fs::read_to_string(dir.join("labels")).unwrap(), "a=\"2\"");

            // A mode change alone is a new version too.
            let third = write(
                dir,
                &[
                    file("labels", "a=\"2\"", 0o600),
                    file("cpu/limit", "2", 0o644),
                ],
            )
            .unwrap();
            assert_ne!(third, second);
            assert_eq!(mode(&dir.join(&third).join("labels")), 0o600);
            assert_eq!(
                names(dir),
                sorted(&["..data", third.as_str(), "cpu", "labels"])
            );

            // Dropping only a file (content of the rest unchanged) is a new version.
            let fourth = write(dir, &[file("labels", "a=\"2\"", 0o600)]).unwrap();
            assert_ne!(fourth, third);
            assert_eq!(names(dir), sorted(&["..data", fourth.as_str(), "labels"]));

            // An empty payload leaves an empty version and no visible entries.
            let fifth = write(dir, &[]).unwrap();
            assert_eq!(names(dir), sorted(&["..data", fifth.as_str()]));
            assert!(Snapshot::open(dir).unwrap().entries().unwrap().is_empty());
        }

        #[test]
        fn write_updates_a_kubelet_volume() {
            let tmp = tempfile::tempdir().unwrap();
            let dir = tmp.path();
            let old = kubelet_volume(dir);
            // A leftover ..data_tmp from an interrupted update.
            symlink("..gone", dir.join("..data_tmp")).unwrap();
            let files = [
                file("labels", "app=\"web\"", 0o644),
                file("cpu/limit", "2", 0o644),
            ];
            let version = write(dir, &files).unwrap();
            // annotations is no longer in the payload: a new version, and its link goes away.
            assert_ne!(version, old);
            assert_eq!(
                names(dir),
                sorted(&["..data", version.as_str(), "cpu", "labels"])
            );
            assert_eq!(link(&dir.join("labels")), "..data/labels");
        }

        #[test]
        fn write_keeps_non_link_entries_and_creates_the_directory() {
            let tmp = tempfile::tempdir().unwrap();
            let dir = tmp.path().join("a/b/volume");
            fs::create_dir_all(&dir).unwrap();
            fs::write(dir.join("labels"), "user file").unwrap();
            let version = write(&dir, &[file("labels", "x", 0o644)]).unwrap();
            // Like the kubelet, an existing non-symlink under a visible name is left alone.
            assert_eq!(fs::read_to_string(dir.join("labels")).unwrap(), "user file");
            assert_eq!(
                fs::read_to_string(dir.join(&version).join("labels")).unwrap(),
                "x"
            );
        }

        #[test]
        fn write_rejects_bad_payloads() {
            let tmp = tempfile::tempdir().unwrap();
            let dir = tmp.path();
            let bad: &[&[FileProjection]] = &[
                &[file("", "", 0o644)],
                &[file("/abs", "", 0o644)],
                &[file("../escape", "", 0o644)],
                &[file("a/../b", "", 0o644)],
                &[file("..data", "", 0o644)],
                &[file("..2024_01_01_00_00_00.1/x", "", 0o644)],
                &[file("a", "", 0o644), file("./a", "", 0o644)],
                &[file("a", "", 0o644), file("a/b", "", 0o644)],
                &[file("a/b/c", "", 0o644), file("a/b", "", 0o644)],
            ];
            for files in bad {
                let err = write(dir, files).unwrap_err();
                assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{files:?}: {err}");
            }
            assert!(names(dir).is_empty(), "nothing written");
        }

        #[test]
        fn only_permission_bits_are_applied() {
            let tmp = tempfile::tempdir().unwrap();
            let dir = tmp.path();
            let version = write(dir, &[file("x", "", 0o4755)]).unwrap();
            assert_eq!(mode(&dir.join(version).join("x")), 0o755);
        }
    }
}
