//! Writing the container's downwardAPI, projected and ServiceAccount volumes under the root, in
//! the kubelet's AtomicWriter layout.
//!
//! Upstream: kubernetes `pkg/volume/downwardapi/downwardapi.go` (`CollectData`: each item's path is
//! cleaned, its mode is the item's `mode` or the volume's `defaultMode`, which the API server
//! defaults to 0644, and a later item with the same path replaces an earlier one),
//! `pkg/volume/projected/projected.go` (`collectData`: the sources' files in one payload),
//! `pkg/volume/util/atomic_writer.go` (through [`pod_introspect_kube::atomic_writer::write`]),
//! `pkg/kubelet/kubelet_pods.go` (`makeMounts`: a `subPath` mount binds one entry of the volume,
//! created as a directory when missing; `subPathExpr` is expanded from the container's env) and
//! `plugin/pkg/admission/serviceaccount/admission.go` (the `kube-api-access-*` volume).
//!
//! A `subPath` mount is simulated by writing the whole volume privately at
//! `<root>/.pod-introspect/volumes/<volume>` and copying the one entry to `<root>/<mountPath>` as a
//! plain file or directory. Like the kubelet's bind mount it never updates: a re-run of
//! `simulate` for the same pod keeps an existing copy (the private volume is still rewritten).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use k8s_openapi::api::core::v1::{Container, DownwardAPIVolumeFile, Pod, Volume, VolumeMount};
use pod_introspect_kube::atomic_writer::{self, FileProjection};
use pod_introspect_kube::contract::{self, FIELDS_ENV, MappedSource, Mapping};
use pod_introspect_kube::{fields, go_quote, quantity};

use crate::SimulateError;
use crate::beneath;
use crate::expansion::expand;
use crate::field_values::{extract_field_path, resource_value_by_container_name};
use crate::manifest::PodFacts;
use crate::node::ParsedAllocatable;
use crate::sandbox::{EnvEntry, MountKind, STATE_DIR, SandboxMount};

/// The name of the simulated ServiceAccount volume (the API server names it `kube-api-access-`
/// and five random characters).
pub const SERVICE_ACCOUNT_VOLUME_NAME: &str = "kube-api-access-sim";

/// The default `defaultMode` of downwardAPI and projected volumes (`SetDefaults_*VolumeSource`).
const DEFAULT_MODE: i32 = 0o644;

/// One volume mount as written under the root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenVolume {
    /// The volume name (`kube-api-access-sim` for the ServiceAccount volume).
    pub name: String,
    /// The mountPath as the manifest gives it, e.g. `/etc/podinfo`.
    pub mount_path: String,
    /// Where it was written: `<root>/<mountPath>`. For a `subPath` mount, the copied file or
    /// directory.
    pub host_dir: PathBuf,
    /// The AtomicWriter version directory `..data` points to, e.g. `..2026_11_29_09_55_10.123456789`
    /// (for a `subPath` mount, that of the private copy of the whole volume).
    pub version_dir: String,
    /// The item paths written, relative to the volume, sorted (for a `subPath` mount, those under
    /// the subPath).
    pub files: Vec<String>,
}

/// Everything the volume writer reads.
pub(crate) struct VolumeContext<'a> {
    pub manifest: &'a str,
    pub root: &'a Path,
    pub pod: &'a Pod,
    pub facts: &'a PodFacts,
    pub allocatable: &'a ParsedAllocatable,
    pub container: &'a Container,
    pub env: &'a [EnvEntry],
    /// The previous `simulate` in this root was for the same pod (same name, namespace and uid).
    pub same_pod_as_before: bool,
    /// The cluster's token and CA for the ServiceAccount volume, when registered in one.
    pub api_server: Option<&'a crate::simulate::ApiServerAccess>,
}

/// What was written, the sandbox mounts, and notes.
pub(crate) struct VolumesOutcome {
    pub written: Vec<WrittenVolume>,
    pub mounts: Vec<SandboxMount>,
    pub notes: Vec<String>,
}

fn io_err(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> SimulateError {
    let path = path.to_path_buf();
    move |e| SimulateError::io(action, path, e)
}

/// Go's `filepath.Clean` of a relative item path (validation already excluded `..`): the one
/// copy in [`pod_introspect_kube::gopath::clean`].
fn clean_relative(path: &str) -> String {
    pod_introspect_kube::gopath::clean(path).into_owned()
}

/// The mountPath relative to the container root, lexically cleaned as Go's `path.Clean` does a
/// rooted path (`..` stops at `/`); `None` when it is not absolute.
pub(crate) fn mount_path_in_root(mount_path: &str) -> Option<String> {
    if !mount_path.starts_with('/') {
        return None;
    }
    Some(
        pod_introspect_kube::gopath::clean(mount_path)
            .trim_start_matches('/')
            .to_string(),
    )
}

/// `CollectData` for one list of items, into `payload`; errors are the kubelet's messages.
fn collect_items(
    ctx: &VolumeContext<'_>,
    items: &[DownwardAPIVolumeFile],
    default_mode: i32,
    payload: &mut BTreeMap<String, FileProjection>,
    errors: &mut Vec<String>,
) {
    for item in items {
        let path = clean_relative(&item.path);
        let mode = item.mode.unwrap_or(default_mode);
        let data = if let Some(field_ref) = item.field_ref.as_ref() {
            extract_field_path(ctx.facts, &field_ref.field_path)
        } else if let Some(selector) = item.resource_field_ref.as_ref() {
            let container_name = selector.container_name.as_deref().unwrap_or("");
            resource_value_by_container_name(ctx.pod, container_name, selector, ctx.allocatable)
        } else {
            Ok(String::new())
        };
        let data = match data {
            Ok(data) => data.into_bytes(),
            Err(e) => {
                errors.push(e);
                Vec::new()
            }
        };
        payload.insert(
            path.clone(),
            FileProjection {
                path,
                data,
                // validation keeps modes within 0..=0o777
                mode: u32::try_from(mode).unwrap_or(0o644),
            },
        );
    }
}

/// The files of a downwardAPI or projected volume, sorted by path; `notes` receives the sources
/// that are not simulated. `Ok(None)` for other volume types.
fn project_volume(
    ctx: &VolumeContext<'_>,
    volume: &Volume,
    mut notes: Option<&mut Vec<String>>,
) -> Result<Option<(MountKind, Vec<FileProjection>)>, Vec<String>> {
    let mut payload = BTreeMap::new();
    let mut errors = Vec::new();
    let kind = if let Some(downward) = volume.downward_api.as_ref() {
        let mode = downward.default_mode.unwrap_or(DEFAULT_MODE);
        let items = downward.items.as_deref().unwrap_or_default();
        collect_items(ctx, items, mode, &mut payload, &mut errors);
        MountKind::DownwardApi
    } else if let Some(projected) = volume.projected.as_ref() {
        let mode = projected.default_mode.unwrap_or(DEFAULT_MODE);
        let volume_name = go_quote::quote(&volume.name);
        for (i, source) in projected.sources.iter().flatten().enumerate() {
            if let Some(downward) = source.downward_api.as_ref() {
                let items = downward.items.as_deref().unwrap_or_default();
                collect_items(ctx, items, mode, &mut payload, &mut errors);
            }
            let skipped = if let Some(token) = source.service_account_token.as_ref() {
                Some(format!(
                    "serviceAccountToken (path {}) is not simulated yet: ServiceAccount tokens come with the API server emulation",
                    go_quote::quote(&token.path)
                ))
            } else if let Some(cm) = source.config_map.as_ref() {
                Some(format!(
                    "configMap {} is not simulated: there is no cluster to read ConfigMaps from",
                    go_quote::quote(&cm.name)
                ))
            } else if let Some(secret) = source.secret.as_ref() {
                Some(format!(
                    "secret {} is not simulated: there is no cluster to read Secrets from",
                    go_quote::quote(&secret.name)
                ))
            } else {
                source.cluster_trust_bundle.as_ref().map(|bundle| {
                    format!(
                        "clusterTrustBundle (path {}) is not simulated: there is no cluster to read ClusterTrustBundles from",
                        go_quote::quote(&bundle.path)
                    )
                })
            };
            if let (Some(what), Some(notes)) = (skipped, notes.as_deref_mut()) {
                notes.push(format!(
                    "volume {volume_name}: projected source {i}: {what}"
                ));
            }
        }
        MountKind::Projected
    } else {
        return Ok(None);
    };
    if errors.is_empty() {
        Ok(Some((kind, payload.into_values().collect())))
    } else {
        Err(errors)
    }
}

/// The kubelet's aggregate of several errors: `[a, b]`.
fn aggregate(errors: &[String]) -> String {
    match errors {
        [one] => one.clone(),
        many => format!("[{}]", many.join(", ")),
    }
}

/// A name for a volume type the simulation does not write.
fn volume_type(volume: &Volume) -> &'static str {
    if volume.config_map.is_some() {
        "configMap"
    } else if volume.secret.is_some() {
        "secret"
    } else if volume.empty_dir.is_some() {
        "emptyDir"
    } else if volume.host_path.is_some() {
        "hostPath"
    } else if volume.persistent_volume_claim.is_some() {
        "persistentVolumeClaim"
    } else if volume.ephemeral.is_some() {
        "ephemeral"
    } else if volume.csi.is_some() {
        "csi"
    } else if volume.image.is_some() {
        "image"
    } else {
        "other"
    }
}

/// The kubelet sets up every volume that some container mounts before any container starts; a
/// failing downwardAPI item (a `containerName` that names no container) keeps the pod from
/// starting. Checks them all, the chosen container's or not.
fn check_pod_volumes(ctx: &VolumeContext<'_>) -> Result<(), SimulateError> {
    let Some(spec) = ctx.pod.spec.as_ref() else {
        return Ok(());
    };
    let mounted: std::collections::HashSet<&str> = spec
        .containers
        .iter()
        .chain(spec.init_containers.iter().flatten())
        .flat_map(|c| c.volume_mounts.iter().flatten())
        .map(|m| m.name.as_str())
        .collect();
    for volume in spec.volumes.iter().flatten() {
        if !mounted.contains(volume.name.as_str()) {
            continue;
        }
        if let Err(errors) = project_volume(ctx, volume, None) {
            return Err(SimulateError::Kubelet {
                manifest: ctx.manifest.to_string(),
                message: format!(
                    "the kubelet cannot start pod {}: MountVolume.SetUp failed for volume {} : {}",
                    go_quote::quote(&ctx.facts.name),
                    go_quote::quote(&volume.name),
                    aggregate(&errors)
                ),
            });
        }
    }
    Ok(())
}

/// `ExpandContainerVolumeMounts`: `subPathExpr` expanded from the container's env; a reference
/// to a missing or empty variable fails the container.
fn expand_sub_path_expr(expr: &str, env: &[EnvEntry]) -> Result<String, String> {
    let mut missing = std::collections::BTreeSet::new();
    let expanded = expand(expr, |name| {
        let value = env
            .iter()
            .rev()
            .find(|e| e.name == name)
            .map(|e| e.value.clone())
            .unwrap_or_default();
        if value.is_empty() {
            missing.insert(name.to_string());
        }
        value
    });
    if missing.is_empty() {
        Ok(expanded)
    } else {
        let names: Vec<String> = missing.into_iter().collect();
        Err(format!("missing value for {}", names.join(", ")))
    }
}

/// Replaces `target` with a plain copy of `source` (a file, or a directory tree), following the
/// AtomicWriter's top-level symlink; a missing `source` becomes an empty directory.
fn copy_entry(source: &Path, target: &Path) -> Result<(), SimulateError> {
    match fs::symlink_metadata(target) {
        Ok(meta) if meta.is_dir() => {
            fs::remove_dir_all(target).map_err(io_err("failed to replace", target))?
        }
        Ok(_) => fs::remove_file(target).map_err(io_err("failed to replace", target))?,
        Err(_) => {}
    }
    if let Some(parent) = target.parent() {
        fs::create_dir_all(parent).map_err(io_err("failed to create directory", parent))?;
    }
    let meta = match fs::metadata(source) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return fs::create_dir_all(target)
                .map_err(io_err("failed to create directory", target));
        }
        Err(e) => return Err(SimulateError::io("failed to read", source, e)),
    };
    if meta.is_dir() {
        fs::create_dir_all(target).map_err(io_err("failed to create directory", target))?;
        let entries = fs::read_dir(source).map_err(io_err("failed to read", source))?;
        for entry in entries {
            let entry = entry.map_err(io_err("failed to read", source))?;
            copy_entry(&entry.path(), &target.join(entry.file_name()))?;
        }
        fs::set_permissions(target, meta.permissions()).map_err(io_err("failed to write", target))
    } else {
        fs::copy(source, target)
            .map(|_| ())
            .map_err(io_err("failed to write", target))
    }
}

fn write_atomic(dir: &Path, files: &[FileProjection]) -> Result<String, SimulateError> {
    atomic_writer::write(dir, files).map_err(io_err("failed to write volume", dir))
}

/// The divisor hint for a resource item written with a divisor other than 1 under a conventional
/// file name (`cpu_limit`): files carry no unit, so in a cluster (no `container.json`, whose
/// `fields` give the divisor here) the guest needs `POD_INTROSPECT_FIELDS` or `info --api`.
fn divisor_hints(
    ctx: &VolumeContext<'_>,
    volume: &Volume,
    mount_dir: &str,
    notes: &mut Vec<String>,
) {
    let mut items: Vec<&DownwardAPIVolumeFile> = Vec::new();
    if let Some(d) = volume.downward_api.as_ref() {
        items.extend(d.items.iter().flatten());
    }
    if let Some(p) = volume.projected.as_ref() {
        let sources = p.sources.iter().flatten();
        items.extend(
            sources
                .filter_map(|s| s.downward_api.as_ref())
                .flat_map(|d| d.items.iter().flatten()),
        );
    }
    let declared = ctx
        .env
        .iter()
        .rev()
        .find(|e| e.name == FIELDS_ENV)
        .map(|e| contract::parse_fields(&e.value).0)
        .unwrap_or_default();
    for item in items {
        let Some(selector) = item.resource_field_ref.as_ref() else {
            continue;
        };
        let Some(divisor_text) = selector.divisor.as_ref().map(|d| d.0.as_str()) else {
            continue;
        };
        let Ok(divisor) = quantity::Quantity::parse(divisor_text) else {
            continue;
        };
        if divisor.is_zero() || divisor.milli_value() == 1000 {
            continue;
        }
        let path = clean_relative(&item.path);
        let file_name = path.rsplit('/').next().unwrap_or(&path);
        let conventional = fields::field_for_file_name(file_name).is_some_and(fields::is_resource);
        if !conventional {
            continue;
        }
        let full = format!("/{mount_dir}/{path}");
        let source = MappedSource::File(full.clone());
        if declared
            .iter()
            .any(|m| m.field == selector.resource && m.source == source)
        {
            continue;
        }
        let entry = Mapping {
            field: selector.resource.clone(),
            source,
            divisor: Some(divisor_text.to_string()),
        };
        notes.push(format!(
            "{full} holds {resource} in units of {divisor_text}: `pod-introspect info --root` takes the divisor from the spec, but in a cluster files do not carry it; add env {FIELDS_ENV}={entry} to the container (or read the pod's spec with `info --api`)",
            resource = selector.resource
        ));
    }
}

/// Refuses a path that leaves the container root ([`beneath::check`]): `what` names it in the
/// error (`mountPath "/etc/podinfo"`, `the ServiceAccount volume at ...`).
fn in_root(ctx: &VolumeContext<'_>, rel: &str, what: &str) -> Result<PathBuf, SimulateError> {
    beneath::check(ctx.root, rel).map_err(|e| match e {
        beneath::Beneath::Escapes { .. } => kubelet_error(ctx, format!("{what} {e}")),
        beneath::Beneath::Io { path, error } => SimulateError::io("failed to read", &path, error),
    })
}

fn kubelet_error(ctx: &VolumeContext<'_>, message: String) -> SimulateError {
    SimulateError::Kubelet {
        manifest: ctx.manifest.to_string(),
        message: format!(
            "the kubelet cannot start container {}: {message}",
            go_quote::quote(&ctx.container.name)
        ),
    }
}

/// Writes one volumeMount of the chosen container.
fn write_mount(
    ctx: &VolumeContext<'_>,
    mount: &VolumeMount,
    out: &mut VolumesOutcome,
) -> Result<(), SimulateError> {
    let volumes = ctx.pod.spec.as_ref().and_then(|s| s.volumes.as_ref());
    let Some(volume) = volumes.into_iter().flatten().find(|v| v.name == mount.name) else {
        return Ok(()); // validation reported it
    };
    let (kind, files) = match project_volume(ctx, volume, Some(&mut out.notes)) {
        Ok(Some(projection)) => projection,
        Ok(None) => {
            out.notes.push(format!(
                "volume {} ({}) mounted at {} is not simulated: only downwardAPI and projected volumes are",
                go_quote::quote(&volume.name),
                volume_type(volume),
                mount.mount_path
            ));
            return Ok(());
        }
        Err(errors) => return Err(kubelet_error(ctx, aggregate(&errors))),
    };
    let Some(rel) = mount_path_in_root(&mount.mount_path) else {
        return Err(kubelet_error(
            ctx,
            format!(
                "mountPath {} of volume {} is not absolute; pod-introspect writes each volume at <root>/<mountPath>",
                go_quote::quote(&mount.mount_path),
                go_quote::quote(&volume.name)
            ),
        ));
    };
    if rel.is_empty() || rel == STATE_DIR || rel.starts_with(&format!("{STATE_DIR}/")) {
        return Err(kubelet_error(
            ctx,
            format!(
                "mountPath {} cannot be simulated: it would cover the container root or pod-introspect's {STATE_DIR}",
                go_quote::quote(&mount.mount_path)
            ),
        ));
    }
    let target = in_root(
        ctx,
        &rel,
        &format!("mountPath {}", go_quote::quote(&mount.mount_path)),
    )?;
    let sub_path = match mount.sub_path_expr.as_deref().filter(|e| !e.is_empty()) {
        Some(expr) => expand_sub_path_expr(expr, ctx.env).map_err(|e| kubelet_error(ctx, e))?,
        None => mount.sub_path.clone().unwrap_or_default(),
    };
    let paths: Vec<String> = files.iter().map(|f| f.path.clone()).collect();
    let written = if sub_path.is_empty() {
        let version_dir = write_atomic(&target, &files)?;
        divisor_hints(ctx, volume, &rel, &mut out.notes);
        WrittenVolume {
            name: volume.name.clone(),
            mount_path: mount.mount_path.clone(),
            host_dir: target,
            version_dir,
            files: paths,
        }
    } else {
        let sub_path = clean_relative(&sub_path);
        let private = in_root(
            ctx,
            &format!("{STATE_DIR}/volumes/{}", volume.name),
            &format!(
                "the subPath source of volume {}",
                go_quote::quote(&volume.name)
            ),
        )?;
        let version_dir = write_atomic(&private, &files)?;
        let keep = ctx.same_pod_as_before && fs::symlink_metadata(&target).is_ok();
        if keep {
            out.notes.push(format!(
                "{} (subPath {} of volume {}) kept as first written: subPath mounts never update",
                mount.mount_path,
                go_quote::quote(&sub_path),
                go_quote::quote(&volume.name)
            ));
        } else {
            copy_entry(&private.join(&sub_path), &target)?;
        }
        let prefix = format!("{sub_path}/");
        WrittenVolume {
            name: volume.name.clone(),
            mount_path: mount.mount_path.clone(),
            host_dir: target,
            version_dir,
            files: paths
                .into_iter()
                .filter(|p| *p == sub_path || p.starts_with(&prefix))
                .collect(),
        }
    };
    out.written.push(written);
    out.mounts.push(SandboxMount {
        name: volume.name.clone(),
        mount_path: mount.mount_path.clone(),
        kind,
        read_only: true,
    });
    Ok(())
}

/// Writes the ServiceAccount volume the API server's admission would add, unless the pod opts
/// out or the container mounts something at its path.
fn write_service_account(
    ctx: &VolumeContext<'_>,
    out: &mut VolumesOutcome,
) -> Result<(), SimulateError> {
    let automount = ctx
        .pod
        .spec
        .as_ref()
        .and_then(|s| s.automount_service_account_token);
    if automount == Some(false) {
        out.notes.push(
            "no ServiceAccount volume: the pod sets automountServiceAccountToken: false"
                .to_string(),
        );
        return Ok(());
    }
    let taken = ctx
        .container
        .volume_mounts
        .iter()
        .flatten()
        .any(|m| m.mount_path == fields::SERVICE_ACCOUNT_DIR);
    if taken {
        out.notes.push(format!(
            "no ServiceAccount volume: the container already mounts a volume at {}",
            fields::SERVICE_ACCOUNT_DIR
        ));
        return Ok(());
    }
    let dir = in_root(
        ctx,
        fields::SERVICE_ACCOUNT_DIR.trim_start_matches('/'),
        &format!(
            "the ServiceAccount volume at {}",
            fields::SERVICE_ACCOUNT_DIR
        ),
    )?;
    // The kube-api-access projected volume: token (serviceAccountToken), ca.crt (the
    // kube-root-ca.crt ConfigMap) and namespace (downwardAPI), defaultMode 0644
    // (plugin/pkg/admission/serviceaccount/admission.go).
    let mut files = vec![FileProjection {
        path: fields::SERVICE_ACCOUNT_NAMESPACE_FILE.to_string(),
        data: ctx.facts.namespace.clone().into_bytes(),
        mode: 0o644,
    }];
    match ctx.api_server {
        Some(access) => {
            files.push(FileProjection { path: "token".into(), data: access.token.clone().into_bytes(), mode: 0o644 });
            files.push(FileProjection { path: "ca.crt".into(), data: access.ca_crt.clone().into_bytes(), mode: 0o644 });
        }
        None => out.notes.push(format!(
            "ServiceAccount volume {SERVICE_ACCOUNT_VOLUME_NAME} at {}: only `namespace` is written; give --cluster DIR (a running `pod-introspect dev-cluster --state DIR`) for `token` and `ca.crt`",
            fields::SERVICE_ACCOUNT_DIR
        )),
    }
    let version_dir = write_atomic(&dir, &files)?;
    out.written.push(WrittenVolume {
        name: SERVICE_ACCOUNT_VOLUME_NAME.to_string(),
        mount_path: fields::SERVICE_ACCOUNT_DIR.to_string(),
        host_dir: dir,
        version_dir,
        files: files.iter().map(|f| f.path.clone()).collect(),
    });
    out.mounts.push(SandboxMount {
        name: SERVICE_ACCOUNT_VOLUME_NAME.to_string(),
        mount_path: fields::SERVICE_ACCOUNT_DIR.to_string(),
        kind: MountKind::ServiceAccount,
        read_only: true,
    });
    Ok(())
}

/// Writes every simulated volume of the chosen container, then the ServiceAccount volume.
pub(crate) fn write_volumes(ctx: &VolumeContext<'_>) -> Result<VolumesOutcome, SimulateError> {
    check_pod_volumes(ctx)?;
    let mut out = VolumesOutcome {
        written: Vec::new(),
        mounts: Vec::new(),
        notes: Vec::new(),
    };
    for mount in ctx.container.volume_mounts.iter().flatten() {
        write_mount(ctx, mount, &mut out)?;
    }
    write_service_account(ctx, &mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_cleaning() {
        assert_eq!(clean_relative("a//b/./c/"), "a/b/c");
        assert_eq!(clean_relative("./x"), "x");
        assert_eq!(clean_relative("."), ".");
        assert_eq!(
            mount_path_in_root("/etc/podinfo/").as_deref(),
            Some("etc/podinfo")
        );
        assert_eq!(
            mount_path_in_root("/../../etc//x").as_deref(),
            Some("etc/x")
        );
        assert_eq!(mount_path_in_root("/").as_deref(), Some(""));
        assert_eq!(mount_path_in_root("etc"), None);
    }

    #[test]
    fn sub_path_expr_expansion() {
        let env = vec![
            EnvEntry {
                name: "POD_NAME".into(),
                value: "web-0".into(),
            },
            EnvEntry {
                name: "EMPTY".into(),
                value: String::new(),
            },
        ];
        assert_eq!(
            expand_sub_path_expr("logs/$(POD_NAME)", &env).unwrap(),
            "logs/web-0"
        );
        assert_eq!(
            expand_sub_path_expr("$(EMPTY)/$(NOPE)", &env).unwrap_err(),
            "missing value for EMPTY, NOPE"
        );
    }
}
