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
    use super::super::write::timestamp_prefix;
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
