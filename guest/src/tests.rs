//! Native tests of the resolver on hand-made volume directories (kubelet format written by hand).

use crate::model::{Problem, Source};
use crate::resolve::{Context, DOWNWARD_DIRS_ENV, parse_resource_integer};
use std::collections::BTreeMap;
use std::os::unix::fs::symlink;
use std::path::Path;

struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Fixture {
        Fixture {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// A kubelet-layout volume `name` with `files`.
    fn volume(&self, name: &str, files: &[(&str, &str)]) -> String {
        let vol = self.dir.path().join(name);
        let data = vol.join("..2026_11_29_09_00_00.42");
        std::fs::create_dir_all(&data).unwrap();
        for (f, c) in files {
            std::fs::write(data.join(f), c).unwrap();
            symlink(format!("..data/{f}"), vol.join(f)).unwrap();
        }
        symlink("..2026_11_29_09_00_00.42", vol.join("..data")).unwrap();
        vol.to_str().unwrap().to_string()
    }

    fn context(&self, dirs: &[&str], env: &[(&str, &str)]) -> Context {
        let mut map: BTreeMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        map.insert(DOWNWARD_DIRS_ENV.into(), dirs.join(":"));
        let sa = self.dir.path().join("sa");
        Context::load(map, sa.to_str().unwrap())
    }
}

fn path(p: &str) -> &Path {
    Path::new(p)
}

#[test]
fn volume_file_beats_env_and_env_beats_service_account() {
    let f = Fixture::new();
    let vol = f.volume("podinfo", &[("pod_name", "from-file")]);
    f.volume("sa", &[("namespace", "from-sa")]);
    let ctx = f.context(
        &[&vol],
        &[("POD_NAME", "from-env"), ("POD_NAMESPACE", "ns-env")],
    );
    let info = ctx.info();
    assert_eq!(info.name.as_deref(), Some("from-file"));
    assert_eq!(info.namespace.as_deref(), Some("ns-env"));
    assert_eq!(
        info.sources["metadata.name"],
        Source::VolumeFile(format!("{vol}/pod_name"))
    );
    let ctx = f.context(&[&vol], &[]);
    assert_eq!(ctx.info().namespace.as_deref(), Some("from-sa"));
    assert!(path(&vol).exists());
}

#[test]
fn first_directory_wins_and_missing_directories_are_skipped() {
    let f = Fixture::new();
    let a = f.volume("a", &[("labels", "from=\"a\"")]);
    let b = f.volume("b", &[("labels", "from=\"b\""), ("annotations", "x=\"1\"")]);
    let info = f.context(&["/does/not/exist", &a, &b], &[]).info();
    assert_eq!(info.labels.unwrap()["from"], "a");
    assert_eq!(info.annotations.unwrap()["x"], "1");
    assert!(info.errors.is_empty(), "{:?}", info.errors);
}

#[test]
fn malformed_source_falls_through_to_the_next_and_is_reported() {
    let f = Fixture::new();
    let vol = f.volume("podinfo", &[("cpu_limit", "0.5")]);
    let info = f.context(&[&vol], &[("CPU_LIMIT", "1")]).info();
    assert_eq!(info.resources["limits.cpu"].value, 1);
    assert_eq!(info.sources["limits.cpu"], Source::Env("CPU_LIMIT".into()));
    assert_eq!(info.errors.len(), 1);
    assert!(
        matches!(&info.errors[0].problem, Problem::Malformed { reason, .. } if reason.contains("\"0.5\""))
    );
}

#[test]
fn accessors() {
    let f = Fixture::new();
    let vol = f.volume("podinfo", &[("labels", "app=\"web\"\ntier=\"db\"")]);
    let ctx = f.context(&[&vol], &[("POD_IPS", "10.1.2.3,fd00::3")]);
    assert_eq!(crate::field(&ctx, "metadata.labels['tier']").unwrap(), "db");
    // A missing key gives "" like the kubelet's ExtractFieldPathAsString.
    assert_eq!(crate::field(&ctx, "metadata.labels['nope']").unwrap(), "");
    assert_eq!(
        crate::field(&ctx, "status.podIPs").unwrap(),
        "10.1.2.3,fd00::3"
    );
    assert_eq!(crate::field(&ctx, "status.podIP").unwrap(), "10.1.2.3");
    match crate::field(&ctx, "spec.nodeName") {
        Err(Problem::NotExposed { field, hint }) => {
            assert_eq!(field, "spec.nodeName");
            assert!(hint.contains("fieldPath: spec.nodeName"), "{hint}");
        }
        other => panic!("{other:?}"),
    }
    match crate::field(&ctx, "metadata.annotations['a']") {
        Err(Problem::NotExposed { field, .. }) => assert_eq!(field, "metadata.annotations"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn resource_integers_are_strict() {
    assert_eq!(parse_resource_integer("500"), Ok(500));
    assert_eq!(parse_resource_integer("0"), Ok(0));
    for bad in [
        "",
        "500m",
        "-1",
        "+1",
        " 1",
        "1\n",
        "1.0",
        "18446744073709551616",
    ] {
        assert!(parse_resource_integer(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn resource_units() {
    use pod_introspect_downward::quantity::ResourceKind;
    let r = crate::resolve::resource_value(ResourceKind::Cpu, 500, "1m".into());
    assert_eq!((r.millicores, r.bytes), (Some(500), None));
    let r = crate::resolve::resource_value(ResourceKind::Cpu, 2, "1".into());
    assert_eq!(r.millicores, Some(2000));
    let r = crate::resolve::resource_value(ResourceKind::Memory, 64, "1Mi".into());
    assert_eq!((r.millicores, r.bytes), (None, Some(67_108_864)));
    let r = crate::resolve::resource_value(ResourceKind::Memory, 3, "1k".into());
    assert_eq!(r.bytes, Some(3000));
    let r = crate::resolve::resource_value(ResourceKind::Memory, u64::MAX, "1Ki".into());
    assert_eq!(r.bytes, None, "overflow gives none");
}
