//! Reading one consistent version: [`Snapshot::open`] resolves `..data` once, and every read goes
//! below the version it resolved.

use super::{
    DATA_DIR_NAME, Layout, Snapshot, clean_projection_path, invalid_data, invalid_input,
    read_data_link,
};
use std::io;
use std::path::{Path, PathBuf};

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
    /// `relative` must be a valid projection path (as for [`FileProjection::path`](super::FileProjection::path): relative, no
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
