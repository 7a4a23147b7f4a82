//! The host↔guest contract: the env vars through which a host (pod-introspect's own, the kubelet
//! simulation, or any other runtime) tells the guest where its pod's Downward API is, and their
//! syntax. Guest, host and kubelet simulation all read and write them through this module.
//!
//! | env var | value | read by |
//! |---|---|---|
//! | [`DOWNWARD_DIRS_ENV`] | container paths of downwardAPI volumes, colon-separated ([`parse_dirs`]); unset: [`DEFAULT_DOWNWARD_DIRS`]; set but empty: none | guest |
//! | [`FIELDS_ENV`] | `FIELD=SOURCE[;divisor=QUANTITY]` entries, comma-separated ([`parse_fields`]) | guest, host (preopens), kubelet (divisor hints) |
//! | [`API_URL_ENV`] | an `http(s)://` URL that replaces in-cluster config (see [`crate::incluster`]) | guest, host (outbound policy) |
//! | [`CONFIG_ENV_PREFIX`]`KEY` | the value of runtime-configuration key `KEY` ([`crate::fields::CONFIG_KEYS`]) | guest (set by `env-from-config`) |
//!
//! Who sets [`DOWNWARD_DIRS_ENV`]: inside a real pod nobody does unless the manifest says so, and
//! the guest reads the defaults. `pod-introspect --root R` on a root that `simulate` wrote sets it
//! to the `--downward` directories followed by the downwardAPI and projected volumes of
//! `R/.pod-introspect/container.json`, so a volume mounted at any path is read; a value already in
//! the guest's environment (the host's env without `--env-clear`, the manifest's env, `--env`) is
//! kept as it is, after the `--downward` directories. Under `wasmtime run` or another runtime the
//! guest sees only what that runtime passes, so the defaults apply.
//!
//! `POD_INTROSPECT_FIELDS` grammar: comma-separated `FIELD=SOURCE[;divisor=QUANTITY]` entries, where
//! FIELD is a fieldPath (`metadata.name`, `metadata.labels`, `metadata.labels['app']`,
//! `spec.nodeName`, ...) or a `resourceFieldRef` resource (`limits.cpu`), and SOURCE is `env:NAME`
//! or `file:/absolute/path`. Example: `metadata.name=env:APP_POD,limits.cpu=file:/etc/x/cpu;divisor=1m`.
//! The divisor must be one the API server accepts for the resource (kubernetes
//! `pkg/apis/core/validation/validation.go`, `validContainerResourceDivisorFor*`); files and env
//! vars do not carry it, so this is the only way for a reader to know the unit of a resource value.

use crate::{fields, quantity};
use std::fmt;

/// Env var listing downwardAPI volume directories (container paths), colon-separated.
pub const DOWNWARD_DIRS_ENV: &str = "POD_INTROSPECT_DOWNWARD_DIRS";
/// Env var holding the explicit field → source mapping that overrides the naming conventions.
pub const FIELDS_ENV: &str = "POD_INTROSPECT_FIELDS";
/// The prefix of the env vars through which a runtime's configuration reaches the guest:
/// `POD_INTROSPECT_CONFIG_pod_name` holds configuration key `pod_name` (a Spin variable, a
/// `wasi:config/store` key; [`crate::fields::CONFIG_KEYS`] lists them). The `env-from-config`
/// component (guest/adapters) sets them, composed in front of the guest's
/// `wasi:cli/environment` import, so the guest itself imports no `wasi:config` and runs where
/// none is served. The guest reads them after every other source, and its `sources` say
/// `config:pod_name`.
pub const CONFIG_ENV_PREFIX: &str = "POD_INTROSPECT_CONFIG_";

/// The env var that carries configuration key `key`: [`CONFIG_ENV_PREFIX`] + `key`
/// (`POD_INTROSPECT_CONFIG_pod_name`).
pub fn config_env_name(key: &str) -> String {
    format!("{CONFIG_ENV_PREFIX}{key}")
}
/// Env var with an API server URL overriding in-cluster config (defined with the in-cluster rules).
pub use crate::incluster::API_URL_ENV;

/// Directories searched for downwardAPI volumes when [`DOWNWARD_DIRS_ENV`] is unset: where the
/// Kubernetes docs' examples (`/etc/podinfo`) and common manifests (`/etc/downward`) mount them.
pub const DEFAULT_DOWNWARD_DIRS: &[&str] = &["/etc/podinfo", "/etc/downward"];

/// The separator of a [`DOWNWARD_DIRS_ENV`] list (as in `PATH`).
pub const DIRS_SEPARATOR: char = ':';

/// The directories of a [`DOWNWARD_DIRS_ENV`] value, in order; empty entries are dropped, so an
/// empty value names no directory.
pub fn parse_dirs(list: &str) -> Vec<String> {
    list.split(DIRS_SEPARATOR)
        .filter(|d| !d.is_empty())
        .map(String::from)
        .collect()
}

/// A [`DOWNWARD_DIRS_ENV`] value naming `dirs` (the inverse of [`parse_dirs`]).
pub fn join_dirs<S: AsRef<str>>(dirs: &[S]) -> String {
    let parts: Vec<&str> = dirs.iter().map(AsRef::as_ref).collect();
    parts.join(&DIRS_SEPARATOR.to_string())
}

/// The directories the guest searches, given the value of [`DOWNWARD_DIRS_ENV`] (`None`: unset,
/// so [`DEFAULT_DOWNWARD_DIRS`]).
pub fn downward_dirs(value: Option<&str>) -> Vec<String> {
    match value {
        Some(list) => parse_dirs(list),
        None => DEFAULT_DOWNWARD_DIRS
            .iter()
            .map(|d| d.to_string())
            .collect(),
    }
}

/// Where a mapped field is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MappedSource {
    /// An env var by name (`env:NAME`).
    Env(String),
    /// A file by absolute container path (`file:/path`).
    File(String),
}

/// One `FIELD=SOURCE[;divisor=Q]` entry of [`FIELDS_ENV`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    /// fieldPath or resource name.
    pub field: String,
    /// Where to read it.
    pub source: MappedSource,
    /// The divisor the value was written with (resources only), as written, e.g. `1m`.
    pub divisor: Option<String>,
}

impl fmt::Display for Mapping {
    /// The entry as [`parse_fields`] reads it: `limits.cpu=file:/etc/x/cpu;divisor=1m`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.source {
            MappedSource::Env(name) => write!(f, "{}=env:{name}", self.field)?,
            MappedSource::File(path) => write!(f, "{}=file:{path}", self.field)?,
        }
        if let Some(d) = &self.divisor {
            write!(f, ";divisor={d}")?;
        }
        Ok(())
    }
}

/// Parses a whole [`FIELDS_ENV`] value: the good entries, and one message per bad entry naming
/// the variable, the entry and the fix (a bad entry does not stop the others).
pub fn parse_fields(text: &str) -> (Vec<Mapping>, Vec<String>) {
    let mut mappings = Vec::new();
    let mut errors = Vec::new();
    for entry in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        match parse_entry(entry) {
            Ok(m) => mappings.push(m),
            Err(e) => errors.push(format!("{FIELDS_ENV} entry {entry:?}: {e}")),
        }
    }
    (mappings, errors)
}

fn parse_entry(entry: &str) -> Result<Mapping, String> {
    let (field, rest) = entry
        .split_once('=')
        .ok_or("expected FIELD=env:NAME or FIELD=file:/path[;divisor=1m]")?;
    let field = field.trim();
    let mut parts = rest.split(';');
    let source = parts.next().unwrap_or_default().trim();
    let source = if let Some(name) = source.strip_prefix("env:") {
        if name.is_empty() {
            return Err("env: needs a variable name, e.g. env:POD_NAME".into());
        }
        MappedSource::Env(name.to_string())
    } else if let Some(path) = source.strip_prefix("file:") {
        if !path.starts_with('/') {
            return Err(format!(
                "file: needs an absolute path in the container, e.g. file:/etc/podinfo/name (got {path:?})"
            ));
        }
        MappedSource::File(path.to_string())
    } else {
        return Err(format!(
            "source {source:?} must start with env: or file: (e.g. env:POD_NAME, file:/etc/podinfo/labels)"
        ));
    };
    let resource_kind = fields::resource_kind(field).ok();
    if resource_kind.is_none() && !is_known_field(field) {
        return Err(format!(
            "unknown field {field:?}: use a fieldPath ({}, {}, {}, metadata.labels['KEY'], metadata.annotations['KEY']) or a resource such as limits.cpu",
            fields::SCALAR_FIELD_PATHS.join(", "),
            fields::METADATA_LABELS,
            fields::METADATA_ANNOTATIONS
        ));
    }
    let mut divisor = None;
    for option in parts.map(str::trim).filter(|o| !o.is_empty()) {
        let Some(value) = option.strip_prefix("divisor=") else {
            return Err(format!(
                "unknown option {option:?}: the only option is ;divisor=QUANTITY"
            ));
        };
        let Some(kind) = resource_kind else {
            return Err(format!("{field} is not a resource, so it takes no divisor"));
        };
        let q = quantity::Quantity::parse(value).map_err(|e| format!("divisor: {e}"))?;
        quantity::validate_divisor(kind, &q).map_err(|e| format!("divisor: {e}"))?;
        divisor = Some(value.to_string());
    }
    Ok(Mapping {
        field: field.to_string(),
        source,
        divisor,
    })
}

/// A [`FIELDS_ENV`] value with `more` entries (in [`parse_fields`] syntax) after those of
/// `current`, leaving out an entry already there (same text, spaces trimmed). The entries of
/// `current` come first, so they win: the guest tries a field's mappings in order.
pub fn append_fields<S: AsRef<str>>(current: Option<&str>, more: &[S]) -> String {
    let mut entries: Vec<&str> = current
        .into_iter()
        .flat_map(|c| c.split(','))
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .collect();
    for e in more.iter().map(|e| e.as_ref().trim()) {
        if !e.is_empty() && !entries.contains(&e) {
            entries.push(e);
        }
    }
    entries.join(",")
}

fn is_known_field(field: &str) -> bool {
    fields::SCALAR_FIELD_PATHS.contains(&field)
        || field == fields::METADATA_LABELS
        || field == fields::METADATA_ANNOTATIONS
        || fields::split_subscript(field).is_some()
}

/// The directories holding the `file:` sources of `mappings` (what a host must preopen for them),
/// in order, without `/` itself.
pub fn mapped_file_dirs(mappings: &[Mapping]) -> Vec<String> {
    mappings
        .iter()
        .filter_map(|m| match &m.source {
            MappedSource::File(path) => std::path::Path::new(path)
                .parent()
                .map(|p| p.to_string_lossy().into_owned()),
            MappedSource::Env(_) => None,
        })
        .filter(|dir| dir.starts_with('/') && dir != "/")
        .collect()
}

#[cfg(test)]
mod tests;
