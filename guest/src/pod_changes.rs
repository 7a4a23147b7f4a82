//! Following the pod's Downward API view (WIT `pod-changes`): which `..data` link moved, what
//! differs from the last view delivered, and the JSON line `pod-introspect watch-pod` prints.
//!
//! The kubelet updates a downwardAPI volume by writing a new version directory and renaming a
//! new `..data` symlink over the old one (kubernetes `pkg/volume/util/atomic_writer.go`), and only
//! when the payload changed. So a poll reads one link per volume ([`data_versions`]); only when a
//! target differs from the last one seen is the view read again ([`Follower::poll`]) and diffed
//! with the last view delivered ([`diff`]). A field whose new file is malformed keeps its last
//! good value, and the problem is reported with the change ([`PodChange::errors`]).
//!
//! Native, so the rules are unit tested off wasm: the filesystem is touched only by
//! [`data_versions`] (a `readlink` per directory), [`read_process_view`] and
//! [`Follower::from_process`]; the WIT resource is in `exports`.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use pod_introspect_kube::atomic_writer::DATA_DIR_NAME;
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::model::{ErrorJson, FieldError, PodInfo, Problem};
use crate::resolve::Context;

/// The poll interval when none is given, in milliseconds.
pub const DEFAULT_INTERVAL_MS: u32 = 1000;

/// One key whose value differs (WIT `key-change`): `old` is `None` when it was added, `new`
/// `None` when it was removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyChange {
    /// Label or annotation key, fieldPath or resource name.
    pub key: String,
    /// The value in the last view delivered.
    pub old: Option<String>,
    /// The value now.
    pub new: Option<String>,
}

/// What changed from the last view delivered to the newest (WIT `pod-change`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PodChange {
    /// Labels added, changed, removed; sorted by key.
    pub labels: Vec<KeyChange>,
    /// Annotations added, changed, removed; sorted by key.
    pub annotations: Vec<KeyChange>,
    /// Other fields (fieldPaths, IP lists comma-joined) and resources (the kubelet's integer).
    pub fields: Vec<KeyChange>,
    /// Each volume directory in the AtomicWriter layout and its `..data` target (directories
    /// searched but absent, or without `..data`, are left out).
    pub versions: Vec<(String, String)>,
    /// Malformed or unreadable values in the new version; those fields kept their last value.
    pub errors: Vec<FieldError>,
}

impl PodChange {
    /// One JSON line: `{"labels": {"KEY": {"old": V|null, "new": V|null}}, "annotations": {..},
    /// "fields": {..}, "versions": {"DIR": "..VERSION"}, "errors": [{field, source, kind, line,
    /// message}]}`; empty sections are left out, `versions` always present.
    pub fn to_json(&self) -> String {
        let section = |changes: &[KeyChange]| -> Value {
            changes
                .iter()
                .map(|c| (c.key.clone(), json!({"old": c.old, "new": c.new})))
                .collect::<Map<String, Value>>()
                .into()
        };
        let mut doc = Map::new();
        for (name, changes) in [
            ("labels", &self.labels),
            ("annotations", &self.annotations),
            ("fields", &self.fields),
        ] {
            if !changes.is_empty() {
                doc.insert(name.into(), section(changes));
            }
        }
        doc.insert(
            "versions".into(),
            self.versions
                .iter()
                .map(|(d, v)| (d.clone(), Value::from(v.as_str())))
                .collect::<Map<String, Value>>()
                .into(),
        );
        if !self.errors.is_empty() {
            let errors: Vec<ErrorJson<'_>> = self.errors.iter().map(ErrorJson::from).collect();
            doc.insert(
                "errors".into(),
                serde_json::to_value(errors).unwrap_or_default(),
            );
        }
        Value::Object(doc).to_string()
    }
}

/// The `..data` target of each directory, "" where there is none (not mounted, or a plain
/// directory). One `readlink` each: what an idle poll costs.
pub fn data_versions(dirs: &[String]) -> Vec<(String, String)> {
    dirs.iter().map(|d| (d.clone(), data_link(d))).collect()
}

/// The `..data` target of directory `dir`, "" where there is none: one `readlink`.
pub fn data_link(dir: &str) -> String {
    std::fs::read_link(Path::new(dir).join(DATA_DIR_NAME))
        .map(|t| t.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The changes of one key→value map.
fn map_changes(
    old: Option<&BTreeMap<String, String>>,
    new: Option<&BTreeMap<String, String>>,
) -> Vec<KeyChange> {
    let empty = BTreeMap::new();
    let (old, new) = (old.unwrap_or(&empty), new.unwrap_or(&empty));
    let mut keys: Vec<&String> = old.keys().chain(new.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| old.get(*k) != new.get(*k))
        .map(|k| KeyChange {
            key: k.clone(),
            old: old.get(k).cloned(),
            new: new.get(k).cloned(),
        })
        .collect()
}

/// The scalar fields of a view by fieldPath (IP lists comma-joined, as their env values) and
/// its resources by name (the kubelet's integer), from the one field table.
fn scalar_fields(info: &PodInfo) -> BTreeMap<String, String> {
    use crate::field_table::{SCALAR_FIELDS, Slot};
    let mut out = BTreeMap::new();
    for f in SCALAR_FIELDS {
        let value = match f.slot {
            Slot::Text(get, _) => get(info).clone(),
            Slot::IpList(get, _) => get(info).as_ref().map(|v| v.join(",")),
        };
        if let Some(v) = value {
            out.insert(f.path.to_string(), v);
        }
    }
    for (name, r) in &info.resources {
        out.insert(name.clone(), r.value.to_string());
    }
    out
}

/// What differs from `old` to `new`: labels, annotations, other fields.
pub fn diff(old: &PodInfo, new: &PodInfo) -> (Vec<KeyChange>, Vec<KeyChange>, Vec<KeyChange>) {
    (
        map_changes(old.labels.as_ref(), new.labels.as_ref()),
        map_changes(old.annotations.as_ref(), new.annotations.as_ref()),
        map_changes(Some(&scalar_fields(old)), Some(&scalar_fields(new))),
    )
}

/// Gives each field of `new` that could not be read (a malformed or unreadable file, not a
/// field the manifest does not expose) its value from `old`, and returns those errors. A whole
/// volume that could not be read (error field `volume DIR`) keeps every field `old` read from it.
fn keep_last_good(old: &PodInfo, new: &mut PodInfo) -> Vec<FieldError> {
    let bad = read_errors(new);
    for e in &bad {
        match e.field.strip_prefix(crate::resolve::VOLUME_ERROR_PREFIX) {
            Some(dir) => {
                let prefix = format!("{}/", dir.trim_end_matches('/'));
                let from_dir: Vec<String> = old
                    .sources
                    .iter()
                    .filter(|(_, s)| {
                        matches!(s, crate::model::Source::VolumeFile(p) if p.starts_with(&prefix))
                    })
                    .map(|(f, _)| f.clone())
                    .collect();
                // A volume opened but not fully listed still gave what it read: only the
                // fields it did not give take their last value.
                let missing: Vec<&String> = from_dir
                    .iter()
                    .filter(|f| !new.sources.contains_key(*f))
                    .collect();
                for field in missing {
                    restore(old, new, field);
                }
            }
            None => restore(old, new, &e.field),
        }
    }
    bad
}

/// Field `field` (a fieldPath or resource name) of `new` set to its value and source in `old`,
/// through the one field table ([`crate::field_table`]).
fn restore(old: &PodInfo, new: &mut PodInfo, field: &str) {
    use crate::field_table::{MAP_FIELDS, SCALAR_FIELDS, Slot};
    if let Some(f) = MAP_FIELDS.iter().find(|f| f.path == field) {
        (f.get_mut)(new).clone_from((f.get)(old));
    } else if let Some(f) = SCALAR_FIELDS.iter().find(|f| f.path == field) {
        match f.slot {
            Slot::Text(get, set) => set(new).clone_from(get(old)),
            Slot::IpList(get, set) => set(new).clone_from(get(old)),
        }
    } else {
        match old.resources.get(field) {
            Some(r) => new.resources.insert(field.to_string(), r.clone()),
            None => new.resources.remove(field),
        };
    }
    match old.sources.get(field) {
        Some(s) => new.sources.insert(field.to_string(), s.clone()),
        None => new.sources.remove(field),
    };
}

/// The errors of `view` that [`keep_last_good`] keeps the last value for (malformed, unreadable).
fn read_errors(view: &PodInfo) -> Vec<FieldError> {
    view.errors
        .iter()
        .filter(|e| matches!(e.problem, Problem::Malformed { .. } | Problem::Io { .. }))
        .cloned()
        .collect()
}

/// Reads the view, and the `..data` target of each followed directory it was read from.
pub type Load<'a> = &'a dyn Fn() -> (PodInfo, Vec<(String, String)>);

/// The [`Load`] of a running component: its env and filesystem ([`Context::from_process`]).
pub fn read_process_view() -> (PodInfo, Vec<(String, String)>) {
    let context = Context::from_process();
    (context.info(), context.data_versions())
}

/// The state of one `pod-changes`: the volume directories it watches, the `..data` targets it
/// last saw, and the view it last delivered.
#[derive(Debug, Clone)]
pub struct Follower {
    dirs: Vec<String>,
    seen: Vec<(String, String)>,
    view: PodInfo,
    /// The read errors of the view last delivered: a change reports errors only when they differ.
    errors: Vec<FieldError>,
}

impl Follower {
    /// Starts from `view`, read when the links were `versions` (from [`data_versions`] of the
    /// same directories, taken before the view was read).
    pub fn new(versions: Vec<(String, String)>, view: PodInfo) -> Follower {
        let errors = read_errors(&view);
        Follower {
            dirs: versions.iter().map(|(d, _)| d.clone()).collect(),
            seen: versions,
            view,
            errors,
        }
    }

    /// Starts from the running component's view ([`Context::from_process`]) and the `..data`
    /// targets that view was read from ([`Context::data_versions`]), so a swap while it is read
    /// is seen by the first poll.
    pub fn from_process() -> Follower {
        let context = Context::from_process();
        Follower::new(context.data_versions(), context.info())
    }

    /// The directories followed.
    pub fn dirs(&self) -> &[String] {
        &self.dirs
    }

    /// The view last delivered.
    pub fn view(&self) -> &PodInfo {
        &self.view
    }

    /// One poll: `versions` are the links now; when one moved, `load` reads the view and the
    /// versions it was read from (the kubelet may swap again in between: the change names the
    /// versions the view really comes from), and the change from the last delivered view is
    /// returned (and becomes the delivered view). `None` when no link moved or the new version
    /// reads the same.
    pub fn poll(
        &mut self,
        versions: Vec<(String, String)>,
        load: impl FnOnce() -> (PodInfo, Vec<(String, String)>),
    ) -> Option<PodChange> {
        if versions == self.seen {
            return None;
        }
        let (mut view, versions) = load();
        let errors = keep_last_good(&self.view, &mut view);
        let errors_changed = errors != self.errors;
        let (labels, annotations, fields) = diff(&self.view, &view);
        let change = PodChange {
            labels,
            annotations,
            fields,
            versions: versions
                .iter()
                .filter(|(_, v)| !v.is_empty())
                .cloned()
                .collect(),
            errors,
        };
        self.seen = versions;
        self.view = view;
        let changed = !(change.labels.is_empty()
            && change.annotations.is_empty()
            && change.fields.is_empty())
            || errors_changed;
        self.errors = change.errors.clone();
        changed.then_some(change)
    }

    /// Polls every `interval` until a change ([`Follower::poll`] of [`data_versions`], `load`
    /// reading the view), or `None` once `timeout` has passed (`None`: no limit; zero: one
    /// poll). Sleeps with `std::thread::sleep`, which on wasm32-wasip2 blocks on a
    /// `wasi:clocks/monotonic-clock` pollable (`wasi:io/poll`), so it runs in any WASI 0.2
    /// runtime.
    pub fn next(
        &mut self,
        interval: Duration,
        timeout: Option<Duration>,
        load: Load<'_>,
    ) -> Option<PodChange> {
        let deadline = timeout.map(|t| Instant::now() + t);
        loop {
            let versions = data_versions(&self.dirs);
            if let Some(change) = self.poll(versions, load) {
                return Some(change);
            }
            let wait = match deadline {
                None => interval,
                Some(d) => {
                    let left = d.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return None;
                    }
                    left.min(interval)
                }
            };
            std::thread::sleep(wait);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ResourceValue, Source};
    use pod_introspect_kube::fields;

    fn view(labels: &[(&str, &str)]) -> PodInfo {
        PodInfo {
            name: Some("web-0".into()),
            labels: Some(
                labels
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            ),
            ..PodInfo::default()
        }
    }

    fn at(version: &str) -> Vec<(String, String)> {
        vec![("/etc/podinfo".into(), version.into())]
    }

    /// A load that reads `info` from `version`.
    fn read(info: PodInfo, version: &str) -> impl FnOnce() -> (PodInfo, Vec<(String, String)>) {
        let versions = at(version);
        move || (info, versions)
    }

    #[test]
    fn a_moved_link_gives_exactly_the_keys_that_changed() {
        let mut f = Follower::new(at("..v1"), view(&[("app", "web"), ("tier", "a")]));
        assert_eq!(
            f.poll(at("..v1"), || panic!("no read without a swap")),
            None
        );
        let change = f
            .poll(
                at("..v2"),
                read(view(&[("app", "web"), ("tier", "b"), ("v", "2")]), "..v2"),
            )
            .unwrap();
        assert_eq!(
            change.labels,
            vec![
                KeyChange {
                    key: "tier".into(),
                    old: Some("a".into()),
                    new: Some("b".into())
                },
                KeyChange {
                    key: "v".into(),
                    old: None,
                    new: Some("2".into())
                },
            ]
        );
        assert!(change.annotations.is_empty() && change.fields.is_empty());
        let line: Value = serde_json::from_str(&change.to_json()).unwrap();
        assert_eq!(
            line,
            json!({
                "labels": {"tier": {"old": "a", "new": "b"}, "v": {"old": null, "new": "2"}},
                "versions": {"/etc/podinfo": "..v2"}
            })
        );
        // Delivered once: the same version again is nothing.
        assert_eq!(f.poll(at("..v2"), || unreachable!()), None);
        let removed = f
            .poll(at("..v3"), read(view(&[("app", "web")]), "..v3"))
            .unwrap();
        assert_eq!(
            removed
                .labels
                .iter()
                .map(|c| c.key.as_str())
                .collect::<Vec<_>>(),
            ["tier", "v"]
        );
        assert!(removed.labels.iter().all(|c| c.new.is_none()));
    }

    #[test]
    fn the_change_names_the_version_the_view_was_read_from() {
        let mut f = Follower::new(at("..v1"), view(&[("n", "1")]));
        // The link moved to ..v2, and again to ..v3 before the files were read.
        let change = f
            .poll(at("..v2"), read(view(&[("n", "3")]), "..v3"))
            .unwrap();
        assert_eq!(change.versions, at("..v3"));
        assert_eq!(f.poll(at("..v3"), || unreachable!()), None);
    }

    #[test]
    fn a_swap_to_the_same_content_is_not_a_change_but_is_remembered() {
        let mut f = Follower::new(at("..v1"), view(&[("app", "web")]));
        assert_eq!(
            f.poll(at("..v2"), read(view(&[("app", "web")]), "..v2")),
            None
        );
        let mut was_read = false;
        assert_eq!(
            f.poll(at("..v2"), || {
                was_read = true;
                (view(&[]), at("..v2"))
            }),
            None
        );
        assert!(!was_read, "the new version was recorded");
    }

    #[test]
    fn a_malformed_version_is_reported_and_the_last_good_values_kept() {
        let mut f = Follower::new(at("..v1"), view(&[("app", "web")]));
        let mut bad = view(&[]);
        bad.labels = None;
        bad.errors.push(FieldError {
            field: fields::METADATA_LABELS.into(),
            source: Some(Source::VolumeFile("/etc/podinfo/labels".into())),
            problem: Problem::Malformed {
                file: "/etc/podinfo/labels".into(),
                line: Some(1),
                reason: "missing closing quote".into(),
            },
        });
        let change = f.poll(at("..v2"), read(bad, "..v2")).unwrap();
        assert!(change.labels.is_empty(), "{change:?}");
        assert_eq!(change.errors.len(), 1);
        assert_eq!(f.view().labels, view(&[("app", "web")]).labels);
        let line: Value = serde_json::from_str(&change.to_json()).unwrap();
        assert_eq!(line["errors"][0]["field"], "metadata.labels");
        assert_eq!(line["errors"][0]["line"], 1);
        // The next good version is diffed against the last good view.
        let change = f
            .poll(at("..v3"), read(view(&[("app", "api")]), "..v3"))
            .unwrap();
        assert_eq!(change.labels[0].old.as_deref(), Some("web"));
        assert_eq!(change.labels[0].new.as_deref(), Some("api"));
    }

    #[test]
    fn an_unreadable_volume_keeps_its_fields_and_a_standing_error_is_not_a_change() {
        let mut good = view(&[("app", "web")]);
        good.sources.insert(
            fields::METADATA_LABELS.into(),
            Source::VolumeFile("/etc/podinfo/labels".into()),
        );
        good.sources
            .insert(fields::METADATA_NAME.into(), Source::Env("POD_NAME".into()));
        let mut f = Follower::new(at("..v1"), good.clone());
        // The whole volume cannot be read: nothing of it, one `volume DIR` error.
        let unreadable = || {
            let mut v = view(&[]);
            v.labels = None;
            v.sources
                .insert(fields::METADATA_NAME.into(), Source::Env("POD_NAME".into()));
            v.errors.push(FieldError {
                field: format!("{}/etc/podinfo", crate::resolve::VOLUME_ERROR_PREFIX),
                source: Some(Source::VolumeFile("/etc/podinfo".into())),
                problem: Problem::Io {
                    path: "/etc/podinfo".into(),
                    message: "..data points at a missing version".into(),
                },
            });
            v
        };
        let change = f.poll(at("..v2"), read(unreadable(), "..v2")).unwrap();
        assert!(change.labels.is_empty(), "labels kept: {change:?}");
        assert_eq!(change.errors.len(), 1);
        assert_eq!(f.view().labels, good.labels);
        assert_eq!(
            f.view().sources.get(fields::METADATA_LABELS),
            Some(&Source::VolumeFile("/etc/podinfo/labels".into()))
        );
        // Another swap, still unreadable and nothing else new: the same error is not re-reported.
        assert_eq!(f.poll(at("..v3"), read(unreadable(), "..v3")), None);
        // Readable again with the same labels: the error is gone, which is a change.
        let healed = f.poll(at("..v4"), read(good, "..v4")).unwrap();
        assert!(healed.labels.is_empty() && healed.errors.is_empty());
    }

    #[test]
    fn fields_and_resources_are_diffed_by_field_path() {
        let mut old = view(&[]);
        old.pod_ips = Some(vec!["10.0.0.5".into()]);
        old.resources.insert(
            "limits.cpu".into(),
            ResourceValue {
                value: 1,
                divisor: "1".into(),
                millicores: None,
                bytes: None,
            },
        );
        let mut new = old.clone();
        new.pod_ips = Some(vec!["10.0.0.5".into(), "fd00::5".into()]);
        new.resources.get_mut("limits.cpu").unwrap().value = 2;
        let (_, _, changed) = diff(&old, &new);
        assert_eq!(
            changed,
            vec![
                KeyChange {
                    key: "limits.cpu".into(),
                    old: Some("1".into()),
                    new: Some("2".into())
                },
                KeyChange {
                    key: "status.podIPs".into(),
                    old: Some("10.0.0.5".into()),
                    new: Some("10.0.0.5,fd00::5".into())
                },
            ]
        );
    }

    #[test]
    fn next_times_out_without_a_swap_and_returns_one_when_the_link_moves() {
        let dir = tempfile::tempdir().unwrap();
        let vol = dir.path().join("podinfo");
        std::fs::create_dir_all(vol.join("..1")).unwrap();
        std::fs::create_dir_all(vol.join("..2")).unwrap();
        std::os::unix::fs::symlink("..1", vol.join(DATA_DIR_NAME)).unwrap();
        let dirs = vec![vol.to_string_lossy().into_owned()];
        let mut f = Follower::new(data_versions(&dirs), view(&[("app", "web")]));
        let tick = Duration::from_millis(5);
        let t = Instant::now();
        assert_eq!(
            f.next(tick, Some(Duration::from_millis(30)), &|| unreachable!()),
            None
        );
        assert!(t.elapsed() >= Duration::from_millis(30));
        // The kubelet's swap: a new link renamed over `..data`.
        std::os::unix::fs::symlink("..2", vol.join("..data_tmp")).unwrap();
        std::fs::rename(vol.join("..data_tmp"), vol.join(DATA_DIR_NAME)).unwrap();
        let change = f
            .next(tick, Some(Duration::ZERO), &|| {
                (view(&[("app", "api")]), data_versions(&dirs))
            })
            .unwrap();
        assert_eq!(change.versions[0].1, "..2");
        assert_eq!(change.labels[0].new.as_deref(), Some("api"));
    }

    #[test]
    fn data_versions_read_the_link_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let vol = dir.path().join("podinfo");
        std::fs::create_dir_all(vol.join("..2026_12_03_20_00_00.1")).unwrap();
        std::os::unix::fs::symlink("..2026_12_03_20_00_00.1", vol.join(DATA_DIR_NAME)).unwrap();
        let plain = dir.path().join("plain");
        std::fs::create_dir_all(&plain).unwrap();
        let dirs = [vol, plain, dir.path().join("absent")]
            .map(|p| p.to_string_lossy().into_owned())
            .to_vec();
        let v = data_versions(&dirs);
        assert_eq!(v[0].1, "..2026_12_03_20_00_00.1");
        assert_eq!(v[1].1, "");
        assert_eq!(v[2].1, "");
    }
}
