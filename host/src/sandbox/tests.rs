use super::*;
use pod_introspect_kubelet::MountKind;

#[test]
fn host_paths_under_a_root() {
    assert_eq!(
        host_path(Some(Path::new("/tmp/r")), "/etc/podinfo"),
        PathBuf::from("/tmp/r/etc/podinfo")
    );
    assert_eq!(
        host_path(None, "/etc/podinfo"),
        PathBuf::from("/etc/podinfo")
    );
}

#[test]
fn container_paths_never_climb_out_of_the_root() {
    assert_eq!(normalize("/../../../etc"), "/etc");
    assert_eq!(normalize("/etc/podinfo/"), "/etc/podinfo");
    assert_eq!(normalize("/etc/./x/../podinfo"), "/etc/podinfo");
    assert_eq!(normalize("/"), "/");
    assert_eq!(
        host_path(Some(Path::new("/tmp/r")), "/../../etc/shadow"),
        PathBuf::from("/tmp/r/etc/shadow")
    );
}

#[test]
fn a_symlink_under_the_root_to_the_host_is_refused() {
    let root = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("etc")).unwrap();
    std::os::unix::fs::symlink(outside.path(), root.path().join("etc/podinfo")).unwrap();
    let err = Sandbox::build(&SandboxOptions {
        root: Some(root.path().to_path_buf()),
        env_clear: true,
        ..Default::default()
    })
    .unwrap_err();
    assert!(
        err.to_string().contains("refusing to preopen /etc/podinfo"),
        "{err}"
    );
}

#[test]
fn relative_downward_is_refused() {
    let err = Sandbox::build(&SandboxOptions {
        downward: vec!["etc/podinfo".into()],
        env_clear: true,
        ..Default::default()
    })
    .unwrap_err();
    assert!(
        err.to_string().contains("must be an absolute path"),
        "{err}"
    );
}

/// A root as `simulate` leaves it: `container.json` with these mounts, each written as a
/// directory (or, for a path ending in `/labels`, a `subPath` file).
fn simulated_root(mounts: &[(&str, MountKind)]) -> tempfile::TempDir {
    use pod_introspect_kubelet::{PodIdentity, SandboxMount};
    let root = tempfile::tempdir().unwrap();
    for (path, _) in mounts {
        let host = host_path(Some(root.path()), path);
        if path.ends_with("/labels") {
            std::fs::create_dir_all(host.parent().unwrap()).unwrap();
            std::fs::write(&host, "app=\"web\"").unwrap();
        } else {
            std::fs::create_dir_all(&host).unwrap();
        }
    }
    ContainerSandbox {
        pod: PodIdentity {
            name: "web".into(),
            namespace: "shop".into(),
            uid: "u".into(),
        },
        container: "app".into(),
        env: Vec::new(),
        mounts: mounts
            .iter()
            .map(|(path, kind)| SandboxMount {
                name: path.trim_start_matches('/').replace('/', "-"),
                mount_path: path.to_string(),
                kind: *kind,
                read_only: true,
            })
            .collect(),
        fields: Vec::new(),
    }
    .save(root.path())
    .unwrap();
    root
}

fn build(root: &Path, downward: &[&str], env: &[(&str, &str)]) -> Sandbox {
    Sandbox::build(&SandboxOptions {
        root: Some(root.to_path_buf()),
        downward: downward.iter().map(|d| d.to_string()).collect(),
        env_clear: true,
        env: env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    })
    .unwrap()
}

#[test]
fn the_guest_is_told_the_downward_volumes_container_json_mounts() {
    let root = simulated_root(&[
        ("/etc/config", MountKind::DownwardApi),
        ("/etc/meta/", MountKind::Projected),
        (fields::SERVICE_ACCOUNT_DIR, MountKind::ServiceAccount),
    ]);
    let sandbox = build(root.path(), &[], &[]);
    assert_eq!(
        sandbox.var(DOWNWARD_DIRS_ENV),
        Some("/etc/config:/etc/meta")
    );
    let guests: Vec<&str> = sandbox.preopens.iter().map(|p| p.guest.as_str()).collect();
    assert_eq!(
        guests,
        ["/etc/config", "/etc/meta", fields::SERVICE_ACCOUNT_DIR]
    );
    // --downward comes first.
    std::fs::create_dir_all(root.path().join("srv/pod")).unwrap();
    let sandbox = build(root.path(), &["/srv/pod/"], &[]);
    assert_eq!(
        sandbox.var(DOWNWARD_DIRS_ENV),
        Some("/srv/pod:/etc/config:/etc/meta")
    );
}

#[test]
fn an_explicit_downward_dirs_value_is_kept() {
    let root = simulated_root(&[
        ("/etc/config", MountKind::DownwardApi),
        ("/etc/meta", MountKind::DownwardApi),
    ]);
    let env = [(DOWNWARD_DIRS_ENV, "/etc/meta")];
    assert_eq!(
        build(root.path(), &[], &env).var(DOWNWARD_DIRS_ENV),
        Some("/etc/meta")
    );
    std::fs::create_dir_all(root.path().join("srv/pod")).unwrap();
    assert_eq!(
        build(root.path(), &["/srv/pod"], &env).var(DOWNWARD_DIRS_ENV),
        Some("/srv/pod:/etc/meta")
    );
}

#[test]
fn a_sub_path_file_mount_is_read_as_its_directory_and_no_mounts_means_none() {
    let root = simulated_root(&[("/etc/meta/labels", MountKind::DownwardApi)]);
    assert_eq!(
        build(root.path(), &[], &[]).var(DOWNWARD_DIRS_ENV),
        Some("/etc/meta")
    );
    let root = simulated_root(&[(fields::SERVICE_ACCOUNT_DIR, MountKind::ServiceAccount)]);
    assert_eq!(
        build(root.path(), &[], &[]).var(DOWNWARD_DIRS_ENV),
        Some("")
    );
}

#[test]
fn without_container_json_the_guest_keeps_its_defaults() {
    let root = tempfile::tempdir().unwrap();
    assert_eq!(build(root.path(), &[], &[]).var(DOWNWARD_DIRS_ENV), None);
    std::fs::create_dir_all(root.path().join("srv/pod")).unwrap();
    assert_eq!(
        build(root.path(), &["/srv/pod"], &[]).var(DOWNWARD_DIRS_ENV),
        Some("/srv/pod:/etc/podinfo:/etc/downward")
    );
}

#[test]
fn env_flag() {
    assert_eq!(parse_env_flag("A=b=c").unwrap(), ("A".into(), "b=c".into()));
    assert!(parse_env_flag("A").is_err());
    assert!(parse_env_flag("=x").is_err());
}

#[test]
fn only_the_spec_mappings_the_conventions_miss_are_added() {
    let entries: Vec<String> = [
        "metadata.name=env:POD_NAME",
        "metadata.name=env:WHO_AM_I",
        "metadata.labels=file:/etc/podinfo/labels",
        "metadata.labels=file:/etc/podinfo/tags",
        "limits.cpu=file:/etc/podinfo/cpu_limit;divisor=1m",
        "limits.memory=env:MEMORY_LIMIT;divisor=1Mi",
        "metadata.annotations=file:/etc/unread/annotations-x",
    ]
    .iter()
    .map(|e| e.to_string())
    .collect();
    assert_eq!(
        spec_mappings_needed(&entries, &["/etc/podinfo".to_string()]),
        [
            "metadata.labels=file:/etc/podinfo/tags",
            "limits.cpu=file:/etc/podinfo/cpu_limit;divisor=1m",
            "metadata.name=env:WHO_AM_I",
            "limits.memory=env:MEMORY_LIMIT;divisor=1Mi",
        ]
    );
}

#[test]
fn without_a_root_the_mounted_volumes_are_the_downward_dirs() {
    let vol = tempfile::tempdir().unwrap();
    let dir = vol.path().to_string_lossy().into_owned();
    let found = mountinfo::MountedVolumes {
        dirs: vec![dir.clone()],
        unreadable: Vec::new(),
    };
    let opts = SandboxOptions {
        env_clear: true,
        ..SandboxOptions::default()
    };
    let s = Sandbox::build_with(&opts, || Some(found)).unwrap();
    assert_eq!(
        s.var(DOWNWARD_DIRS_ENV),
        Some(format!("{dir}:/etc/podinfo:/etc/downward").as_str())
    );
    assert!(
        s.preopens
            .iter()
            .any(|p| p.guest == dir && p.host == vol.path())
    );
    // An explicit list still wins.
    let opts = SandboxOptions {
        env_clear: true,
        env: vec![(DOWNWARD_DIRS_ENV.into(), "/etc/podinfo".into())],
        ..SandboxOptions::default()
    };
    let found = mountinfo::MountedVolumes {
        dirs: vec![dir.clone()],
        unreadable: Vec::new(),
    };
    let s = Sandbox::build_with(&opts, || Some(found)).unwrap();
    assert_eq!(s.var(DOWNWARD_DIRS_ENV), Some("/etc/podinfo"));
    // Nothing mounted: the guest keeps its defaults.
    let opts = SandboxOptions {
        env_clear: true,
        ..SandboxOptions::default()
    };
    let s = Sandbox::build_with(&opts, || None).unwrap();
    assert_eq!(s.var(DOWNWARD_DIRS_ENV), None);
}
