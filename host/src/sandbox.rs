//! The pod-shaped sandbox a guest runs in: which host directories are preopened (read-only) at which
//! container paths, and the env the guest sees.
//!
//! With `--root DIR` every container path P is served from DIR/P, as if DIR were the container's
//! root filesystem; when DIR holds the description `simulate` writes
//! (`DIR/.pod-introspect/container.json`) its volume mounts are preopened and its env applied.
//! Only volume roots are preopened: the downwardAPI directories (`/etc/podinfo`, `/etc/downward`,
//! `POD_INTROSPECT_DOWNWARD_DIRS`, `--downward`), the ServiceAccount directory and the parents of
//! `file:` paths in `POD_INTROSPECT_FIELDS`. Nothing else of the host is visible.
//!
//! The guest learns which directories are downwardAPI volumes from `POD_INTROSPECT_DOWNWARD_DIRS`
//! (see [`pod_introspect_kube::contract`]), which the host sets as follows:
//!
//! 1. the `--downward` directories come first, in flag order;
//! 2. then the value already in the guest's env (the host's env unless `--env-clear`, the
//!    container's env from `container.json`, `--env`), kept as it is: an explicit list wins;
//! 3. else, with a `container.json`, the container's downwardAPI and projected volume mounts in
//!    mount order (a `subPath` file mount counts as its directory; the ServiceAccount volume is read
//!    as such, not as a downwardAPI volume), so a volume at `/etc/config` or `/etc/meta` is read;
//! 4. else, without `--root` (inside a real container), the mounts of `/proc/self/mountinfo` that
//!    hold a `..data` link and a file the guest knows, in mount order ([`mountinfo`]), then the
//!    defaults, so a volume mounted anywhere is read;
//! 5. else the guest's defaults (`/etc/podinfo`, `/etc/downward`), and the variable is left unset
//!    unless `--downward` was given.
//!
//! With a `container.json`, its `fields` (where the pod's spec puts each Downward API field,
//! resources with their divisors) are appended to the guest's `POD_INTROSPECT_FIELDS`, after the
//! entries already there, which therefore win.

use crate::credential_files::CredentialPath;
use crate::outbound::{AllowedOrigin, OutboundConfig, Scheme};
use anyhow::{Context as _, Result, bail};
use pod_introspect_kube::contract::{self, DOWNWARD_DIRS_ENV, FIELDS_ENV};
use pod_introspect_kube::fields;
use pod_introspect_kubelet::ContainerSandbox;
use std::path::{Path, PathBuf};

pub mod mountinfo;
use mountinfo::MOUNTINFO;

/// How to build a sandbox, from command-line flags.
#[derive(Debug, Clone, Default)]
pub struct SandboxOptions {
    /// `--root DIR`: the container's root filesystem.
    pub root: Option<PathBuf>,
    /// `--downward PATH`: extra downwardAPI volume directories (container paths).
    pub downward: Vec<String>,
    /// `--env-clear`: do not pass the host's environment.
    pub env_clear: bool,
    /// `--env NAME=VALUE`: extra variables, applied last.
    pub env: Vec<(String, String)>,
}

/// A directory preopened read-only for the guest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preopen {
    /// Host directory.
    pub host: PathBuf,
    /// Path the guest sees, e.g. `/etc/podinfo`.
    pub guest: String,
}

/// The resolved sandbox.
#[derive(Debug, Clone, Default)]
pub struct Sandbox {
    /// Read-only preopens.
    pub preopens: Vec<Preopen>,
    /// The guest's env, in order.
    pub env: Vec<(String, String)>,
    /// The root the container paths were resolved under, canonical.
    pub root: Option<PathBuf>,
    /// Without `--root`: mounts of this container that look like downwardAPI volumes but could not
    /// be read, `(mount point, what went wrong)` ([`mountinfo::downward_volumes`]). They are
    /// warned about on stderr and still listed in `POD_INTROSPECT_DOWNWARD_DIRS`, so the guest
    /// reports each one it can open (a `..data` that does not resolve) in `info`'s `errors`.
    pub unreadable_volumes: Vec<(String, String)>,
}

impl Sandbox {
    /// The guest's value of env var `name`.
    pub fn var(&self, name: &str) -> Option<&str> {
        self.env
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The outbound HTTP policy for this pod: the API server that in-cluster config names
    /// (`https://KUBERNETES_SERVICE_HOST:KUBERNETES_SERVICE_PORT`, as client-go
    /// `rest.InClusterConfig()` builds it) and the `POD_INTROSPECT_API_URL` ambassador, plus
    /// `extra` origins (`--allow-outbound`); TLS trusts the pod's ServiceAccount `ca.crt`.
    ///
    /// Errors: an `--allow-outbound` value that is not `scheme://host[:port]`.
    pub fn outbound(
        &self,
        extra: &[String],
        insecure_skip_tls_verify: bool,
    ) -> Result<OutboundConfig> {
        use pod_introspect_kube::incluster;
        let mut allowed = Vec::new();
        if let (Some(host), Some(port)) = (
            self.var(incluster::SERVICE_HOST_ENV),
            self.var(incluster::SERVICE_PORT_ENV),
        ) && let Ok(port) = port.parse::<u16>()
            && !host.is_empty()
        {
            allowed.push(AllowedOrigin::new(Scheme::Https, host, port));
        }
        if let Some(url) = self.var(incluster::API_URL_ENV).filter(|u| !u.is_empty()) {
            // An ambassador URL may carry a path prefix (`kubectl proxy --api-prefix=/k8s/`):
            // the origin is what is allowed.
            let origin = url
                .parse::<http::Uri>()
                .ok()
                .and_then(|u| Some(format!("{}://{}", u.scheme_str()?, u.authority()?)))
                .unwrap_or_else(|| url.to_string());
            match origin.parse::<AllowedOrigin>() {
                Ok(o) => allowed.push(o),
                Err(e) => tracing::warn!("ignoring {}={url}: {e}", incluster::API_URL_ENV),
            }
        }
        for url in extra {
            let origin = url
                .trim_end_matches('/')
                .parse::<AllowedOrigin>()
                .map_err(|e| anyhow::anyhow!("--allow-outbound {url}: {e}"))?;
            allowed.push(origin);
        }
        let ca = CredentialPath::in_container(self.root.as_deref(), incluster::CA_FILE);
        Ok(OutboundConfig {
            allowed,
            ca_file: Some(ca),
            insecure_skip_tls_verify,
            ..OutboundConfig::deny_all()
        })
    }
}

impl Sandbox {
    /// Resolves `opts` against the filesystem.
    ///
    /// Errors: a `--downward` path that is not absolute, or that does not exist under the root;
    /// a malformed `container.json`.
    pub fn build(opts: &SandboxOptions) -> Result<Sandbox> {
        Sandbox::build_with(opts, mountinfo::of_this_process)
    }

    /// [`Sandbox::build`] with the volumes of this container found by `mounted_volumes` when there
    /// is no `--root` (a real pod: [`mountinfo::of_this_process`]; tests: a fixture).
    pub fn build_with(
        opts: &SandboxOptions,
        mounted_volumes: impl FnOnce() -> Option<mountinfo::MountedVolumes>,
    ) -> Result<Sandbox> {
        let container = match &opts.root {
            Some(root) => {
                if !root.is_dir() {
                    bail!(
                        "--root {}: not a directory (give the directory `pod-introspect simulate --root` wrote, or a hand-made container root)",
                        root.display()
                    );
                }
                ContainerSandbox::load(root)?
            }
            None => None,
        };
        let mut env: Vec<(String, String)> = if opts.env_clear {
            Vec::new()
        } else {
            std::env::vars().collect()
        };
        let set = |env: &mut Vec<(String, String)>, k: &str, v: String| {
            env.retain(|(name, _)| name != k);
            env.push((k.to_string(), v));
        };
        if let Some(c) = &container {
            for e in &c.env {
                set(&mut env, &e.name, e.value.clone());
            }
        }
        for (k, v) in &opts.env {
            set(&mut env, k, v.clone());
        }
        for d in &opts.downward {
            if !d.starts_with('/') {
                bail!(
                    "--downward {d}: must be an absolute path in the container, e.g. --downward /etc/podinfo"
                );
            }
        }
        let get = |env: &Vec<(String, String)>, k: &str| {
            env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
        };
        let root = match &opts.root {
            Some(r) => Some(
                r.canonicalize()
                    .with_context(|| format!("--root {}", r.display()))?,
            ),
            None => None,
        };
        let explicit = get(&env, DOWNWARD_DIRS_ENV);
        let mut unreadable_volumes = Vec::new();
        let mounted = match (&container, &root) {
            (Some(c), Some(root)) => Some(c.downward_dirs(root)),
            // The defaults stay after the volumes found, for what mountinfo does not show as a
            // volume (a `subPath` file mounted at /etc/podinfo/labels).
            (_, None) => mounted_volumes().and_then(|found| {
                unreadable_volumes = found.unreadable;
                let mut dirs = found.dirs;
                if dirs.is_empty() {
                    return None;
                }
                for d in contract::downward_dirs(None) {
                    if !dirs.contains(&d) {
                        dirs.push(d);
                    }
                }
                Some(dirs)
            }),
            _ => None,
        };
        let described = if container.is_some() {
            "container.json"
        } else {
            MOUNTINFO
        };
        if let (Some(list), Some(mounted)) = (&explicit, &mounted) {
            let listed: Vec<String> = opts
                .downward
                .iter()
                .cloned()
                .chain(contract::parse_dirs(list))
                .map(|d| normalize(&d))
                .collect();
            let left_out: Vec<&str> = mounted
                .iter()
                .filter(|m| !listed.contains(m))
                .map(String::as_str)
                .collect();
            if !left_out.is_empty() {
                tracing::warn!(
                    "{DOWNWARD_DIRS_ENV}={list} is set, so the guest does not read the downwardAPI volume(s) mounted at {}; unset it to read every volume {described} lists",
                    left_out.join(", ")
                );
            }
        }
        if !opts.downward.is_empty() || (explicit.is_none() && mounted.is_some()) {
            let rest = match (&explicit, &mounted) {
                (Some(list), _) => contract::parse_dirs(list),
                (None, Some(mounted)) => mounted.clone(),
                (None, None) => contract::downward_dirs(None),
            };
            let mut dirs: Vec<String> = Vec::new();
            for d in opts.downward.iter().map(|d| normalize(d)).chain(rest) {
                if !dirs.contains(&d) {
                    dirs.push(d);
                }
            }
            set(&mut env, DOWNWARD_DIRS_ENV, contract::join_dirs(&dirs));
        }
        if let Some(c) = container.as_ref().filter(|c| !c.fields.is_empty()) {
            let read = contract::downward_dirs(get(&env, DOWNWARD_DIRS_ENV).as_deref());
            let wanted = spec_mappings_needed(&c.fields, &read);
            if !wanted.is_empty() {
                let current = get(&env, FIELDS_ENV);
                set(
                    &mut env,
                    FIELDS_ENV,
                    contract::append_fields(current.as_deref(), &wanted),
                );
            }
        }

        let mut guest_dirs: Vec<String> = Vec::new();
        match &container {
            Some(c) => guest_dirs.extend(c.mounts.iter().map(|m| m.mount_path.clone())),
            None => {
                guest_dirs.extend(fields::DEFAULT_DOWNWARD_DIRS.iter().map(|d| d.to_string()));
                guest_dirs.push(fields::SERVICE_ACCOUNT_DIR.to_string());
            }
        }
        if let Some(list) = get(&env, DOWNWARD_DIRS_ENV) {
            guest_dirs.extend(
                contract::parse_dirs(&list)
                    .into_iter()
                    .filter(|d| d.starts_with('/')),
            );
        }
        if let Some(mapping) = get(&env, FIELDS_ENV) {
            guest_dirs.extend(contract::mapped_file_dirs(
                &contract::parse_fields(&mapping).0,
            ));
        }

        let mut preopens: Vec<Preopen> = Vec::new();
        for guest in guest_dirs {
            let guest = normalize(&guest);
            let explicit = opts.downward.iter().any(|d| normalize(d) == guest);
            let mut host = host_path(root.as_deref(), &guest);
            let mut guest = guest;
            if host.is_file() {
                // A file mounted with subPath (e.g. /etc/podinfo/labels): its directory is the
                // volume root the guest reads.
                match (Path::new(&guest).parent(), host.parent()) {
                    (Some(g), Some(h)) if g != Path::new("/") => {
                        guest = g.to_string_lossy().into_owned();
                        host = h.to_path_buf();
                    }
                    _ => continue,
                }
            }
            if preopens.iter().any(|p| p.guest == guest) {
                continue;
            }
            if !host.is_dir() {
                if explicit {
                    bail!(
                        "--downward {guest}: {} is not a directory (mount or simulate the downwardAPI volume there first)",
                        host.display()
                    );
                }
                continue;
            }
            if let Some(root) = &root {
                // A symlink under --root must not lead the sandbox to the host's own files.
                let real = host
                    .canonicalize()
                    .with_context(|| format!("resolving {}", host.display()))?;
                if !real.starts_with(root) {
                    bail!(
                        "refusing to preopen {guest}: {} resolves to {}, outside --root {}",
                        host.display(),
                        real.display(),
                        root.display()
                    );
                }
            }
            if let Err(e) = std::fs::read_dir(&host) {
                if explicit {
                    bail!("--downward {guest}: cannot read {}: {e}", host.display());
                }
                tracing::warn!(
                    "not preopening {guest}: cannot read {}: {e}",
                    host.display()
                );
                continue;
            }
            preopens.push(Preopen { host, guest });
        }
        let told = contract::downward_dirs(get(&env, DOWNWARD_DIRS_ENV).as_deref());
        unreadable_volumes.retain(|(mount_point, _)| told.contains(mount_point));
        for (mount_point, problem) in &unreadable_volumes {
            tracing::warn!(
                "{mount_point} looks like a downwardAPI volume ({MOUNTINFO}) but cannot be read: {problem}"
            );
        }
        Ok(Sandbox {
            preopens,
            env,
            root,
            unreadable_volumes,
        })
    }
}

/// The entries of `container.json`'s `fields` the guest needs in `POD_INTROSPECT_FIELDS`, given
/// the downwardAPI directories it reads (`dirs`): every resource (the spec is where its divisor
/// is), and any other field whose env var or file name the guest would not recognise by
/// convention. A file outside `dirs` is left out, so an explicit `--downward` or
/// `POD_INTROSPECT_DOWNWARD_DIRS` that omits a volume still keeps it unread, and a field found by
/// convention keeps the order of `dirs`. File entries come before env entries.
fn spec_mappings_needed(entries: &[String], dirs: &[String]) -> Vec<String> {
    use pod_introspect_kube::contract::MappedSource;
    let (mut mappings, _) = contract::parse_fields(&entries.join(","));
    // The guest tries mappings in order, before its volume files and conventional env vars:
    // files first, so a resource given both ways is read from the volume, as without a mapping.
    mappings.sort_by_key(|m| matches!(m.source, MappedSource::Env(_)));
    mappings
        .iter()
        .filter(|m| match &m.source {
            MappedSource::Env(name) => {
                fields::is_resource(&m.field)
                    || !fields::CONVENTIONAL_ENV_NAMES
                        .iter()
                        .any(|(n, f)| n == name && *f == m.field)
            }
            MappedSource::File(path) => {
                let path = Path::new(path);
                let in_dirs = dirs.iter().any(|d| path.starts_with(d));
                let conventional = path
                    .file_name()
                    .and_then(|n| n.to_str())
                    .and_then(fields::field_for_file_name)
                    == Some(m.field.as_str());
                in_dirs && (fields::is_resource(&m.field) || !conventional)
            }
        })
        .map(ToString::to_string)
        .collect()
}

/// `DIR/P` for container path `P` (cleaned by [`normalize`]) under `--root DIR`, or `P` itself
/// without a root.
pub fn host_path(root: Option<&Path>, guest: &str) -> PathBuf {
    let guest = normalize(guest);
    match root {
        Some(root) => root.join(guest.trim_start_matches('/')),
        None => PathBuf::from(guest),
    }
}

/// A container path made absolute and clean, the way a container's root resolves it: `.` and
/// empty components dropped, `..` going up but never above `/` (so `/../../etc` is `/etc`, inside
/// the root, never the host's `/etc`).
pub fn normalize(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for c in path.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    format!("/{}", parts.join("/"))
}

/// Parses `--env NAME=VALUE`.
pub fn parse_env_flag(s: &str) -> Result<(String, String)> {
    let (k, v) = s
        .split_once('=')
        .with_context(|| format!("--env {s:?}: expected NAME=VALUE"))?;
    if k.is_empty() {
        bail!("--env {s:?}: the variable name is empty; expected NAME=VALUE");
    }
    Ok((k.to_string(), v.to_string()))
}

#[cfg(test)]
mod tests;
