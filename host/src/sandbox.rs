//! The pod-shaped sandbox a guest runs in: which host directories are preopened (read-only) at which
//! container paths, and the env the guest sees.
//!
//! With `--root DIR` every container path P is served from DIR/P, as if DIR were the container's
//! root filesystem; when DIR holds the description `simulate` writes
//! (`DIR/.pod-introspect/container.json`) its volume mounts are preopened and its env applied.
//! Only volume roots are preopened: the downwardAPI directories (`/etc/podinfo`, `/etc/downward`,
//! `POD_INTROSPECT_DOWNWARD_DIRS`, `--downward`), the ServiceAccount directory and the parents of
//! `file:` paths in `POD_INTROSPECT_FIELDS`. Nothing else of the host is visible.

use anyhow::{Context as _, Result, bail};
use pod_introspect_downward::fields;
use pod_introspect_kubelet::ContainerSandbox;
use std::path::{Path, PathBuf};

/// Env var naming downwardAPI volume directories (colon-separated), read by the guest.
pub const DOWNWARD_DIRS_ENV: &str = "POD_INTROSPECT_DOWNWARD_DIRS";
/// Env var with explicit field mappings, read by the guest.
pub const FIELDS_ENV: &str = "POD_INTROSPECT_FIELDS";

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
}

impl Sandbox {
    /// Resolves `opts` against the filesystem.
    ///
    /// Errors: a `--downward` path that is not absolute, or that does not exist under the root;
    /// a malformed `container.json`.
    pub fn build(opts: &SandboxOptions) -> Result<Sandbox> {
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
        if !opts.downward.is_empty() {
            let rest = get(&env, DOWNWARD_DIRS_ENV)
                .unwrap_or_else(|| fields::DEFAULT_DOWNWARD_DIRS.join(":"));
            let mut dirs = opts.downward.clone();
            dirs.extend(rest.split(':').filter(|d| !d.is_empty()).map(String::from));
            set(&mut env, DOWNWARD_DIRS_ENV, dirs.join(":"));
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
                list.split(':')
                    .filter(|d| d.starts_with('/'))
                    .map(String::from),
            );
        }
        if let Some(mapping) = get(&env, FIELDS_ENV) {
            guest_dirs.extend(mapped_file_dirs(&mapping));
        }

        let mut preopens: Vec<Preopen> = Vec::new();
        for guest in guest_dirs {
            let guest = normalize(&guest);
            if preopens.iter().any(|p| p.guest == guest) {
                continue;
            }
            let host = host_path(opts.root.as_deref(), &guest);
            if host.is_dir() {
                preopens.push(Preopen { host, guest });
            } else if opts.downward.iter().any(|d| normalize(d) == guest) {
                bail!(
                    "--downward {guest}: {} is not a directory (mount or simulate the downwardAPI volume there first)",
                    host.display()
                );
            }
        }
        Ok(Sandbox { preopens, env })
    }
}

/// `DIR/P` for container path `P` under `--root DIR`, or `P` itself without a root.
pub fn host_path(root: Option<&Path>, guest: &str) -> PathBuf {
    match root {
        Some(root) => root.join(guest.trim_start_matches('/')),
        None => PathBuf::from(guest),
    }
}

fn normalize(path: &str) -> String {
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        "/".to_string()
    } else {
        trimmed.to_string()
    }
}

/// Parent directories of the `file:` paths in a `POD_INTROSPECT_FIELDS` value.
fn mapped_file_dirs(mapping: &str) -> Vec<String> {
    mapping
        .split(',')
        .filter_map(|entry| entry.split_once('=').map(|(_, source)| source))
        .filter_map(|source| source.split(';').next()?.strip_prefix("file:"))
        .filter_map(|path| {
            Path::new(path)
                .parent()
                .map(|p| p.to_string_lossy().into_owned())
        })
        .filter(|dir| dir.starts_with('/') && dir != "/")
        .collect()
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
mod tests {
    use super::*;

    #[test]
    fn mapped_dirs_are_parents_of_file_sources() {
        assert_eq!(
            mapped_file_dirs(
                "metadata.name=env:X,limits.cpu=file:/etc/x/cpu;divisor=1m,metadata.labels=file:/l"
            ),
            vec!["/etc/x".to_string()]
        );
    }

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

    #[test]
    fn env_flag() {
        assert_eq!(parse_env_flag("A=b=c").unwrap(), ("A".into(), "b=c".into()));
        assert!(parse_env_flag("A").is_err());
        assert!(parse_env_flag("=x").is_err());
    }
}
