//! Writing a new version the way the kubelet's `AtomicWriter.Write` does (see [`super::write`]).

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
