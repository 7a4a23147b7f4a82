//! The sandbox description that `simulate` leaves in the container root, and that the host's
//! `info` and `run --root` load to give a guest the pod's environment and mounts.
//!
//! The file is `<root>/.pod-introspect/container.json`, pretty-printed JSON with camelCase keys:
//!
//! ```json
//! {
//!   "pod": { "name": "seed-demo", "namespace": "demo", "uid": "0b6c…" },
//!   "container": "myapp",
//!   "env": [ { "name": "POD_NAME", "value": "seed-demo" } ],
//!   "mounts": [ { "name": "downward", "mountPath": "/etc/downward", "kind": "downwardAPI", "readOnly": true } ],
//!   "fields": [ "metadata.labels=file:/etc/downward/labels", "limits.cpu=env:CPU;divisor=1m" ]
//! }
//! ```

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use pod_introspect_kube::fields;
use serde::{Deserialize, Serialize};

use crate::SimulateError;

/// Where the sandbox description lives, relative to the container root.
pub const SANDBOX_FILE: &str = ".pod-introspect/container.json";

/// The directory, relative to the container root, that holds pod-introspect's own state
/// (the sandbox description, and the private copies of volumes that are mounted with `subPath`).
pub const STATE_DIR: &str = ".pod-introspect";

/// The pod's identity as the API server assigned it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PodIdentity {
    /// `metadata.name`.
    pub name: String,
    /// `metadata.namespace` (`default` when the manifest sets none).
    pub namespace: String,
    /// `metadata.uid`: kept across re-runs of `simulate` for the same name and namespace.
    pub uid: String,
}

/// One resolved environment variable of the container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnvEntry {
    /// The variable name.
    pub name: String,
    /// The value after `$(VAR)` expansion or downward API resolution.
    pub value: String,
}

/// What kind of volume a mount is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MountKind {
    /// A `downwardAPI` volume.
    #[serde(rename = "downwardAPI")]
    DownwardApi,
    /// A `projected` volume from the manifest.
    #[serde(rename = "projected")]
    Projected,
    /// The ServiceAccount volume the API server's admission adds (`kube-api-access-*`).
    #[serde(rename = "serviceAccount")]
    ServiceAccount,
}

/// One volume mount of the container that `simulate` wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SandboxMount {
    /// The volume name.
    pub name: String,
    /// The absolute path in the container, e.g. `/etc/podinfo`; the data is at `<root>/<mountPath>`.
    /// With a `subPath` mount this may be a single file rather than a directory.
    pub mount_path: String,
    /// The volume kind.
    pub kind: MountKind,
    /// Always true for these kinds: the kubelet mounts downwardAPI, projected and ServiceAccount
    /// volumes read-only whatever the volumeMount says.
    pub read_only: bool,
}

/// The container a guest runs as: what `simulate` wrote and `run --root` loads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerSandbox {
    /// The pod's identity.
    pub pod: PodIdentity,
    /// The container's name.
    pub container: String,
    /// The resolved environment, in manifest order (a repeated name keeps its first position and
    /// its last value, as the kubelet's map does).
    pub env: Vec<EnvEntry>,
    /// The simulated mounts, in volumeMount order, then the ServiceAccount volume.
    pub mounts: Vec<SandboxMount>,
    /// Where the spec puts each Downward API field of this container, as
    /// `POD_INTROSPECT_FIELDS` entries (`limits.cpu=file:/etc/podinfo/cpu_limit;divisor=1m`,
    /// `metadata.name=env:MY_POD`; see `pod_introspect_kube::spec_fields`). A host adds them to
    /// the guest's `POD_INTROSPECT_FIELDS` after the entries already there, so the guest knows
    /// each resource's divisor and env vars of any name. May be absent (older files, hand-made roots).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<String>,
}

impl ContainerSandbox {
    /// The downwardAPI volume directories of this container, as a host tells the guest in
    /// `POD_INTROSPECT_DOWNWARD_DIRS` (see `pod_introspect_kube::contract`): the container paths
    /// of its downwardAPI and projected mounts, cleaned, in mount order, without repeats. A
    /// `subPath` mount of a file (`/etc/meta/labels`, a file under `root`) counts as the directory
    /// that holds it. Never the ServiceAccount directory, which the guest reads as the
    /// ServiceAccount volume.
    pub fn downward_dirs(&self, root: &Path) -> Vec<String> {
        let mut dirs: Vec<String> = Vec::new();
        for m in &self.mounts {
            if !matches!(m.kind, MountKind::DownwardApi | MountKind::Projected) {
                continue;
            }
            let Some(rel) = crate::volumes::mount_path_in_root(&m.mount_path) else {
                continue;
            };
            let rel = if root.join(&rel).is_file() {
                match rel.rsplit_once('/') {
                    Some((parent, _)) => parent.to_string(),
                    None => continue,
                }
            } else {
                rel
            };
            let dir = format!("/{rel}");
            if rel.is_empty() || dir == fields::SERVICE_ACCOUNT_DIR || dirs.contains(&dir) {
                continue;
            }
            dirs.push(dir);
        }
        dirs
    }
}

/// The sandbox file's path under `root`.
pub fn sandbox_path(root: &Path) -> PathBuf {
    root.join(SANDBOX_FILE)
}

impl ContainerSandbox {
    /// Loads `<root>/.pod-introspect/container.json`.
    ///
    /// Returns `Ok(None)` when the file does not exist. Errors: [`SimulateError::Io`] when it
    /// cannot be read, [`SimulateError::Sandbox`] naming the file when it is not a sandbox
    /// description.
    pub fn load(root: &Path) -> Result<Option<ContainerSandbox>, SimulateError> {
        let path = sandbox_path(root);
        let text = match fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(SimulateError::io("failed to read", path, e)),
        };
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| SimulateError::Sandbox {
                path,
                message: e.to_string(),
            })
    }

    /// Writes the description to `<root>/.pod-introspect/container.json` (pretty JSON and a final
    /// newline), creating the directories; the file is replaced by a rename so a reader never sees
    /// half of it. Returns the file's path.
    pub fn save(&self, root: &Path) -> Result<PathBuf, SimulateError> {
        let path = sandbox_path(root);
        let dir = crate::beneath::create_dir(root, STATE_DIR).map_err(|e| match e {
            crate::beneath::Beneath::Io { path, error } => {
                SimulateError::io("failed to create directory", &path, error)
            }
            escape => SimulateError::Sandbox {
                path: path.clone(),
                message: format!("{STATE_DIR} {escape}"),
            },
        })?;
        let mut text = serde_json::to_string_pretty(self).map_err(|e| SimulateError::Sandbox {
            path: path.clone(),
            message: e.to_string(),
        })?;
        text.push('\n');
        let tmp = dir.join("container.json.tmp");
        crate::beneath::write_new(&tmp, text.as_bytes())
            .map_err(|e| SimulateError::io("failed to write", &tmp, e))?;
        fs::rename(&tmp, &path).map_err(|e| SimulateError::io("failed to write", &path, e))?;
        Ok(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> ContainerSandbox {
        ContainerSandbox {
            pod: PodIdentity {
                name: "seed-demo".into(),
                namespace: "demo".into(),
                uid: "7d3c9f0e-0000-4000-8000-000000000001".into(),
            },
            container: "myapp".into(),
            env: vec![EnvEntry {
                name: "POD_NAME".into(),
                value: "seed-demo".into(),
            }],
            mounts: vec![
                SandboxMount {
                    name: "downward".into(),
                    mount_path: "/etc/downward".into(),
                    kind: MountKind::DownwardApi,
                    read_only: true,
                },
                SandboxMount {
                    name: "kube-api-access-sim".into(),
                    mount_path: "/var/run/secrets/kubernetes.io/serviceaccount".into(),
                    kind: MountKind::ServiceAccount,
                    read_only: true,
                },
            ],
            fields: vec!["limits.cpu=file:/etc/downward/cpu_limit;divisor=1m".into()],
        }
    }

    #[test]
    fn round_trip_and_json_shape() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(ContainerSandbox::load(dir.path()).unwrap(), None);
        let s = sample();
        let path = s.save(dir.path()).unwrap();
        assert_eq!(path, dir.path().join(".pod-introspect/container.json"));
        assert_eq!(ContainerSandbox::load(dir.path()).unwrap(), Some(s));
        let json: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(json["pod"]["uid"], "7d3c9f0e-0000-4000-8000-000000000001");
        assert_eq!(json["mounts"][0]["mountPath"], "/etc/downward");
        assert_eq!(json["mounts"][0]["kind"], "downwardAPI");
        assert_eq!(json["mounts"][0]["readOnly"], true);
        assert_eq!(json["mounts"][1]["kind"], "serviceAccount");
        assert_eq!(json["env"][0]["value"], "seed-demo");
        assert_eq!(
            json["fields"][0],
            "limits.cpu=file:/etc/downward/cpu_limit;divisor=1m"
        );
        // A description without `fields` (hand-made, or older) still loads.
        let mut old = json.clone();
        old.as_object_mut().unwrap().remove("fields");
        fs::write(&path, old.to_string()).unwrap();
        assert!(
            ContainerSandbox::load(dir.path())
                .unwrap()
                .unwrap()
                .fields
                .is_empty()
        );
    }

    #[test]
    fn downward_dirs_are_the_downward_and_projected_mounts() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("etc/meta")).unwrap();
        fs::write(dir.path().join("etc/meta/labels"), "a=\"b\"").unwrap();
        let mut s = sample();
        let mount = |path: &str, kind| SandboxMount {
            name: "v".into(),
            mount_path: path.into(),
            kind,
            read_only: true,
        };
        s.mounts
            .insert(0, mount("/etc/config/", MountKind::DownwardApi));
        s.mounts
            .push(mount("/etc/meta/labels", MountKind::DownwardApi));
        s.mounts
            .push(mount("/var/lib/x/../pod", MountKind::Projected));
        s.mounts.push(mount("/etc/config", MountKind::Projected));
        assert_eq!(
            s.downward_dirs(dir.path()),
            ["/etc/config", "/etc/downward", "/etc/meta", "/var/lib/pod"]
        );
    }

    #[test]
    fn malformed_file_names_the_path() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join(STATE_DIR)).unwrap();
        fs::write(dir.path().join(SANDBOX_FILE), "{\"pod\": 1}").unwrap();
        let err = ContainerSandbox::load(dir.path()).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains(".pod-introspect/container.json: malformed sandbox description"),
            "{msg}"
        );
    }
}
