//! The downwardAPI volumes of the container this host runs in, found from `/proc/self/mountinfo`
//! when there is no `container.json` (a real pod, not a `simulate` root).
//!
//! The format is the kernel's (`Documentation/filesystems/proc.rst`, "3.5 /proc/<pid>/mountinfo";
//! written by `show_mountinfo` in `fs/proc_namespace.c`): one line per mount,
//!
//! ```text
//! 36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
//! (1)(2)(3)   (4)   (5)      (6)      (7)   (8) (9)   (10)         (11)
//! ```
//!
//! mount ID, parent ID, major:minor, root, mount point, mount options, optional fields ended by a
//! single `-`, filesystem type, mount source, super options. Space, tab, newline and backslash in
//! paths are written as octal escapes (`\040`, `\011`, `\012`, `\134`).
//!
//! A volume is a mount point holding the kubelet's `..data` link (`pkg/volume/util/atomic_writer.go`
//! writes downwardAPI, projected, configMap and secret volumes that way) whose current version
//! holds a file name the guest recognises, so a secret volume is not opened to the guest; one
//! whose `..data` does not resolve is reported as a volume that could not be read. The
//! ServiceAccount volume is left to the guest's ServiceAccount reader; `subPath` mounts (a single
//! file, never updated by the kubelet) and `/proc`, `/sys`, `/dev` are skipped.

use pod_introspect_kube::atomic_writer::{DATA_DIR_NAME, Layout, Snapshot};
use pod_introspect_kube::fields;
use std::path::Path;

/// Where the kernel lists this process's mounts.
pub const MOUNTINFO: &str = "/proc/self/mountinfo";

/// One line of `/proc/self/mountinfo`, the fields this module reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountInfo {
    /// Field 5: where it is mounted, unescaped, e.g. `/etc/podinfo`.
    pub mount_point: String,
    /// Field 6: per-mount options, e.g. `ro,relatime`.
    pub mount_options: String,
    /// Field 9: the filesystem type, e.g. `tmpfs`.
    pub fs_type: String,
}

impl MountInfo {
    /// Whether the mount is read-only (`ro` among the per-mount options).
    pub fn read_only(&self) -> bool {
        self.mount_options.split(',').any(|o| o == "ro")
    }
}

/// Parses a mountinfo text: the mounts in order. Errors: the 1-based line number and what is wrong
/// (fewer than ten fields, no `-` separator).
pub fn parse(text: &str) -> Result<Vec<MountInfo>, String> {
    let mut mounts = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split(' ').collect();
        let bad = |what: &str| format!("{MOUNTINFO} line {}: {what}: {line:?}", i + 1);
        if fields.len() < 10 {
            return Err(bad("expected at least 10 space-separated fields"));
        }
        let Some(dash) = fields[6..].iter().position(|f| *f == "-").map(|p| p + 6) else {
            return Err(bad("no \"-\" after the optional fields"));
        };
        let Some(fs_type) = fields.get(dash + 1) else {
            return Err(bad("no filesystem type after \"-\""));
        };
        mounts.push(MountInfo {
            mount_point: unescape(fields[4]),
            mount_options: fields[5].to_string(),
            fs_type: unescape(fs_type),
        });
    }
    Ok(mounts)
}

/// Undoes the kernel's `mangle` / `seq_escape`: `\ooo` (three octal digits) is that byte.
fn unescape(field: &str) -> String {
    let b = field.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 3 < b.len()
            && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c))
        {
            let v = (b[i + 1] - b'0') as u32 * 64
                + (b[i + 2] - b'0') as u32 * 8
                + (b[i + 3] - b'0') as u32;
            if let Ok(byte) = u8::try_from(v) {
                out.push(byte);
                i += 4;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// What the mounts say about downwardAPI volumes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MountedVolumes {
    /// Mount points holding a `..data` link, and those that look like a downwardAPI volume but
    /// could not be read, in mount order, without repeats: what the guest is told to read (it
    /// reports a volume it cannot read in `errors`).
    pub dirs: Vec<String>,
    /// The mounts among `dirs` that could not be read here: `(mount point, what went wrong)`.
    pub unreadable: Vec<(String, String)>,
}

/// Finds the volumes among `mounts`, checking each mount point on this filesystem. A volume's
/// current version must hold a file the guest recognises ([`fields::field_for_file_name`]:
/// `labels`, `cpu_limit`, ...), so a secret or configMap volume that holds none is not passed to
/// the guest; one whose `..data` link is there but does not resolve is passed, and listed in
/// [`MountedVolumes::unreadable`]. A mount point whose path holds the `:` of the directory list
/// syntax cannot be named in it and is skipped.
pub fn downward_volumes(mounts: &[MountInfo]) -> MountedVolumes {
    let mut found = MountedVolumes::default();
    let service_account = std::fs::canonicalize(fields::SERVICE_ACCOUNT_DIR).ok();
    for (i, m) in mounts.iter().enumerate() {
        let mp = m.mount_point.as_str();
        let system = ["/proc", "/sys", "/dev"]
            .iter()
            .any(|s| mp == *s || mp.starts_with(&format!("{s}/")));
        if system
            || mp == "/"
            || mp.contains(pod_introspect_kube::contract::DIRS_SEPARATOR)
            || mp == fields::SERVICE_ACCOUNT_DIR
            || found.dirs.iter().any(|d| d == mp)
        {
            continue;
        }
        let dir = Path::new(mp);
        // A later mount over the same point hides this one: only the last is looked at.
        if mounts[i + 1..].iter().any(|o| o.mount_point == mp) {
            continue;
        }
        // The ServiceAccount volume under another spelling (`/run/secrets/...` when the image's
        // `/var/run` is a link to `/run`): read as such by the guest, not as a downwardAPI volume.
        if service_account.is_some() && std::fs::canonicalize(dir).ok() == service_account {
            continue;
        }
        if !dir.symlink_metadata().is_ok_and(|m| m.is_dir()) {
            continue; // gone, unreadable, or a subPath file mount
        }
        let has_data = dir.join(DATA_DIR_NAME).symlink_metadata().is_ok();
        match Snapshot::open(dir) {
            Ok(s) if matches!(s.layout, Layout::AtomicWriter { .. }) => {
                let known = s.entries().is_ok_and(|names| {
                    names
                        .iter()
                        .any(|n| fields::field_for_file_name(n).is_some())
                });
                if known {
                    found.dirs.push(mp.to_string());
                }
            }
            Ok(_) => {}
            Err(e) if has_data => {
                found.dirs.push(mp.to_string());
                found.unreadable.push((mp.to_string(), e.to_string()));
            }
            Err(_) => {}
        }
    }
    found
}

/// [`downward_volumes`] of this process's [`MOUNTINFO`] (a line that does not parse is skipped);
/// `None` when it cannot be read (not Linux, no `/proc`), with the reason logged at debug level.
pub fn of_this_process() -> Option<MountedVolumes> {
    let text = match std::fs::read_to_string(MOUNTINFO) {
        Ok(t) => t,
        Err(e) => {
            tracing::debug!("{MOUNTINFO}: {e}; downwardAPI volumes are searched at the defaults");
            return None;
        }
    };
    let mounts: Vec<MountInfo> = text
        .lines()
        .filter_map(|line| match parse(line) {
            Ok(mut m) => m.pop(),
            Err(e) => {
                tracing::debug!("{e}; line skipped");
                None
            }
        })
        .collect();
    Some(downward_volumes(&mounts))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    /// Lines as a container's mountinfo shows them under containerd (written by hand from the
    /// kernel's format): the overlay root, /proc and a masked /proc path, the downwardAPI and
    /// ServiceAccount tmpfs volumes, a subPath file, a path with a space.
    const CONTAINER: &str = "\
1843 1650 0:312 / / rw,relatime master:610 - overlay overlay rw,lowerdir=/var/lib/containerd/l1,upperdir=/var/lib/containerd/u,workdir=/var/lib/containerd/w
1844 1843 0:315 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw
1850 1844 0:319 / /proc/acpi ro,relatime - tmpfs tmpfs ro,inode64
1860 1843 0:301 / @DIR@/podinfo ro,relatime - tmpfs tmpfs rw,size=65536k,inode64
1861 1843 0:302 / /var/run/secrets/kubernetes.io/serviceaccount ro,relatime - tmpfs tmpfs rw,size=65536k,inode64
1862 1843 0:301 /..2026_12_04_10_00_00.123456789/labels @DIR@/labels-only ro,relatime - tmpfs tmpfs rw,size=65536k,inode64
1863 1843 0:303 / @DIR@/pod\\040meta ro,relatime shared:5 master:9 - tmpfs tmpfs rw,inode64
1864 1843 0:304 / @DIR@/broken ro,relatime - tmpfs tmpfs rw,inode64
1865 1843 0:305 / @DIR@/empty-tmp ro,relatime - tmpfs tmpfs rw,inode64
1866 1843 0:306 / @DIR@/secret ro,relatime - tmpfs tmpfs rw,inode64
";

    fn volume(dir: &Path, version: &str) {
        std::fs::create_dir_all(dir.join(version)).unwrap();
        std::fs::write(dir.join(version).join("labels"), "app=\"web\"").unwrap();
        symlink(version, dir.join("..data")).unwrap();
        symlink("..data/labels", dir.join("labels")).unwrap();
    }

    #[test]
    fn fields_and_escapes_as_the_kernel_writes_them() {
        let m = parse(&CONTAINER.replace("@DIR@", "/t")).unwrap();
        assert_eq!(m.len(), 10);
        assert_eq!(m[3].mount_point, "/t/podinfo");
        assert_eq!(m[3].fs_type, "tmpfs");
        assert!(m[3].read_only());
        assert!(!m[0].read_only());
        assert_eq!(m[6].mount_point, "/t/pod meta");
        assert_eq!(unescape(r"a\011b\012c\134d\0"), "a\tb\nc\\d\\0");
        let err = parse("36 35 98:0 / /mnt rw - ext3\n").unwrap_err();
        assert!(err.contains("line 1: expected at least 10"), "{err}");
        let err = parse("36 35 98:0 / /mnt rw shared:1 master:2 ext3 /dev/root rw\n").unwrap_err();
        assert!(err.contains("no \"-\""), "{err}");
    }

    #[test]
    fn volumes_are_the_mounts_holding_data_links() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path();
        volume(&d.join("podinfo"), "..2026_12_04_10_00_00.123456789");
        volume(&d.join("pod meta"), "..2026_12_04_10_00_01.000000001");
        std::fs::write(d.join("labels-only"), "app=\"web\"").unwrap();
        std::fs::create_dir(d.join("broken")).unwrap();
        symlink("..2026_01_01_00_00_00.000000000", d.join("broken/..data")).unwrap();
        std::fs::create_dir(d.join("empty-tmp")).unwrap();
        // A secret volume: the same layout, no file the guest knows; not opened to it.
        let secret = d.join("secret");
        std::fs::create_dir_all(secret.join("..2026_12_04_10_00_02.000000002")).unwrap();
        std::fs::write(secret.join("..2026_12_04_10_00_02.000000002/tls.key"), "k").unwrap();
        symlink("..2026_12_04_10_00_02.000000002", secret.join("..data")).unwrap();
        let mounts = parse(&CONTAINER.replace("@DIR@", d.to_str().unwrap())).unwrap();
        let found = downward_volumes(&mounts);
        let at = |name: &str| d.join(name).to_string_lossy().into_owned();
        assert_eq!(found.dirs, [at("podinfo"), at("pod meta"), at("broken")]);
        assert_eq!(found.unreadable.len(), 1, "{:?}", found.unreadable);
        assert_eq!(found.unreadable[0].0, at("broken"));
        assert!(
            found.unreadable[0]
                .1
                .contains("points to \"..2026_01_01_00_00_00.000000000\", which does not exist"),
            "{:?}",
            found.unreadable
        );
    }
}
