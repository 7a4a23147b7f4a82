//! The retry paths of [`read_volume`], driven deterministically: the test swaps `..data` at a
//! chosen [`Step`] of the first attempt, as the kubelet's AtomicWriter does (new version dir,
//! `..data_tmp` renamed over `..data`, old version removed).

use super::*;
use std::os::unix::fs::symlink;

const V1: &str = "..2026_12_02_10_00_00.1";
const V2: &str = "..2026_12_02_10_00_01.2";

/// A volume at `dir` whose `..data` points at V1, with `labels` and `name` links; V2 is written
/// but not yet current.
fn volume(dir: &Path) {
    for (version, n) in [(V1, 1), (V2, 2)] {
        let d = dir.join(version);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("labels"), format!("version=\"{n}\"")).unwrap();
        std::fs::write(d.join("name"), format!("pod-v{n}")).unwrap();
    }
    symlink(V1, dir.join("..data")).unwrap();
    for name in ["labels", "name"] {
        symlink(format!("..data/{name}"), dir.join(name)).unwrap();
    }
}

/// The kubelet's swap to V2; `remove_old` also deletes V1, as it does right after.
fn swap_to_v2(dir: &Path, remove_old: bool) {
    let tmp = dir.join("..data_tmp");
    symlink(V2, &tmp).unwrap();
    std::fs::rename(&tmp, dir.join("..data")).unwrap();
    if remove_old {
        std::fs::remove_dir_all(dir.join(V1)).unwrap();
    }
}

/// Reads the volume, swapping at `when` of the first attempt; the volume and the steps seen.
fn read_swapping_at(when: Step, remove_old: bool) -> (Volume, Vec<Step>) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("podinfo");
    volume(&dir);
    let mut steps = Vec::new();
    let mut swapped = false;
    let volume = read_volume_observed(dir.to_str().unwrap(), &|_| true, &mut |step| {
        steps.push(step);
        if step == when && !swapped {
            swapped = true;
            swap_to_v2(&dir, remove_old);
        }
    })
    .unwrap()
    .expect("the volume exists");
    (volume, steps)
}

fn text(volume: &Volume, item: &str) -> String {
    match volume.items.get(item) {
        Some(Item::Data(bytes)) => String::from_utf8(bytes.clone()).unwrap(),
        other => panic!("{item}: {other:?}"),
    }
}

/// The read is of V2, whole: every item from the same, new, version.
fn assert_whole_v2(volume: &Volume) {
    assert_eq!(
        volume.snapshot.layout,
        Layout::AtomicWriter {
            version_dir: V2.to_string()
        }
    );
    assert_eq!(text(volume, "labels"), "version=\"2\"");
    assert_eq!(text(volume, "name"), "pod-v2");
    assert_eq!(volume.listing_error, None);
}

#[test]
fn a_version_removed_between_listing_and_reading_is_read_again_from_the_new_one() {
    let (volume, steps) = read_swapping_at(Step::Listed, true);
    // The first attempt stopped at the first vanished item; the second read V2 whole.
    assert_eq!(steps, [Step::Listed, Step::Listed, Step::Read]);
    assert_whole_v2(&volume);
}

#[test]
fn data_moved_between_reading_and_validation_is_read_again_from_the_new_version() {
    // V1 was read completely, but ..data no longer points at it when checked: read again.
    let (volume, steps) = read_swapping_at(Step::Read, false);
    assert_eq!(steps, [Step::Listed, Step::Read, Step::Listed, Step::Read]);
    assert_whole_v2(&volume);
}

#[test]
fn data_moved_and_old_version_removed_before_validation_is_read_again() {
    let (volume, steps) = read_swapping_at(Step::Read, true);
    assert_eq!(steps, [Step::Listed, Step::Read, Step::Listed, Step::Read]);
    assert_whole_v2(&volume);
}

#[test]
fn an_undisturbed_read_takes_one_attempt() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("podinfo");
    volume(&dir);
    let mut steps = Vec::new();
    let volume = read_volume_observed(dir.to_str().unwrap(), &|_| true, &mut |s| steps.push(s))
        .unwrap()
        .unwrap();
    assert_eq!(steps, [Step::Listed, Step::Read]);
    assert_eq!(text(&volume, "labels"), "version=\"1\"");
    assert_eq!(text(&volume, "name"), "pod-v1");
}
