//! Finds each Downward API field in what the kubelet gave the container, in this order:
//! an explicit `POD_INTROSPECT_FIELDS` mapping, downwardAPI volume files (by fieldPath, resource or
//! conventional file name), env vars set with `fieldRef` / `resourceFieldRef` (conventional names),
//! for the namespace the ServiceAccount volume's `namespace` file, and last a runtime-configuration
//! key passed as env `POD_INTROSPECT_CONFIG_<key>` ([`fields::CONFIG_KEYS`]; Spin variables).
//!
//! Each volume directory is resolved once per [`Context`] through its `..data` link
//! (kubernetes pkg/volume/util/atomic_writer.go), so every file of one volume comes from one version
//! even while the kubelet swaps in a new one. A source that exists but is malformed is reported and
//! the next source is tried.
//!
//! The directories and the mapping come from the env the host gives, in the syntax of
//! [`pod_introspect_kube::contract`]; [`Context::info`] (all fields at once) is assembled from the
//! one field table in [`crate::field_table`].

use crate::model::{FieldError, Problem, ResourceValue, Source};
use crate::resources::{parse_resource_integer, resource_value};
use crate::volume::{self, Item, Volume};
use pod_introspect_kube::contract::{self, MappedSource, Mapping};
use pod_introspect_kube::quantity::ResourceKind;
use pod_introspect_kube::{fields, map_file};
use std::collections::BTreeMap;
use std::io;
use std::path::Path;

/// A place a field may be read from.
#[derive(Debug, Clone)]
enum Candidate {
    /// Item `item` of volume number `volume`.
    VolumeItem { volume: usize, item: String },
    /// A file outside the scanned volumes (explicit mapping).
    File(String),
    /// An env var.
    Env(String),
    /// The ServiceAccount `namespace` file.
    ServiceAccountNamespace,
    /// A runtime-configuration key, from env `POD_INTROSPECT_CONFIG_<key>`.
    Config(&'static str),
}

/// A value read from one candidate, with its source and divisor (resources).
struct Found {
    bytes: Vec<u8>,
    source: Source,
    divisor: Option<String>,
}

/// What reading one candidate gives: the bytes and their source, nothing when it does not exist,
/// or the source and what went wrong.
type ReadResult = Result<Option<(Vec<u8>, Source)>, (Source, Problem)>;

/// Everything needed to resolve fields: env, mappings and volume snapshots.
pub struct Context {
    env: BTreeMap<String, String>,
    mappings: Vec<Mapping>,
    volumes: Vec<Volume>,
    service_account: Option<Volume>,
    /// Problems found while loading (bad mapping, unreadable volume).
    setup_errors: Vec<FieldError>,
    /// The downwardAPI volume directories searched, in order, and the ServiceAccount volume
    /// directory: where it looked, for the note when nothing is found.
    searched_dirs: (Vec<String>, String),
}

impl Context {
    /// Loads the context from the process env and the filesystem.
    pub fn from_process() -> Context {
        Context::load(std::env::vars().collect(), fields::SERVICE_ACCOUNT_DIR)
    }

    /// Loads the context from `env` and the filesystem, with the ServiceAccount volume at `sa_dir`.
    pub fn load(env: BTreeMap<String, String>, sa_dir: &str) -> Context {
        let mut setup_errors = Vec::new();
        let mappings = match env.get(contract::FIELDS_ENV) {
            Some(text) => {
                let (mappings, errors) = contract::parse_fields(text);
                setup_errors.extend(errors.into_iter().map(|reason| FieldError {
                    field: contract::FIELDS_ENV.into(),
                    source: Some(Source::Env(contract::FIELDS_ENV.into())),
                    problem: Problem::Malformed {
                        file: format!("env:{}", contract::FIELDS_ENV),
                        line: None,
                        reason,
                    },
                }));
                mappings
            }
            None => Vec::new(),
        };
        let dirs =
            contract::downward_dirs(env.get(contract::DOWNWARD_DIRS_ENV).map(String::as_str));
        // Read eagerly: the recognised item names, and the top-level names of mapped files.
        let mapped: Vec<String> = mappings
            .iter()
            .filter_map(|m| match &m.source {
                MappedSource::File(p) => Path::new(p)
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned()),
                MappedSource::Env(_) => None,
            })
            .collect();
        let wanted = |name: &str| {
            fields::field_for_file_name(name).is_some() || mapped.iter().any(|m| m == name)
        };
        let mut volumes = Vec::new();
        for dir in &dirs {
            if let Some(v) = open_volume(dir, &wanted, &mut setup_errors) {
                volumes.push(v);
            }
        }
        let service_account = open_volume(
            sa_dir,
            &|name| name == fields::SERVICE_ACCOUNT_NAMESPACE_FILE,
            &mut setup_errors,
        );
        Context {
            env,
            mappings,
            volumes,
            service_account,
            setup_errors,
            searched_dirs: (dirs, sa_dir.to_string()),
        }
    }

    /// The downwardAPI volume directories searched, in order.
    pub fn volume_dirs(&self) -> &[String] {
        &self.searched_dirs.0
    }

    /// Each downwardAPI volume directory searched with the `..data` target its files were read
    /// from ("" when the directory has no `..data` or was not found), for `pod-changes`. A
    /// directory that could not be read as a volume (its `..data` points at a missing version)
    /// gets the link's target as [`crate::pod_changes::data_link`] reads it, so the next
    /// poll sees no move until the link really moves.
    pub fn data_versions(&self) -> Vec<(String, String)> {
        use pod_introspect_kube::atomic_writer::Layout;
        self.searched_dirs
            .0
            .iter()
            .map(|dir| match self.volumes.iter().find(|v| &v.dir == dir) {
                Some(v) => {
                    let version = match &v.snapshot.layout {
                        Layout::AtomicWriter { version_dir } => version_dir.clone(),
                        Layout::Plain => String::new(),
                    };
                    (dir.clone(), version)
                }
                None => (dir.clone(), crate::pod_changes::data_link(dir)),
            })
            .collect()
    }

    /// The ServiceAccount volume directory.
    pub fn service_account_dir(&self) -> &str {
        &self.searched_dirs.1
    }

    /// The env var names read: those `POD_INTROSPECT_FIELDS` maps, then the conventional ones.
    pub fn env_names(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        let mapped = self.mappings.iter().filter_map(|m| match &m.source {
            MappedSource::Env(n) => Some(n.as_str()),
            MappedSource::File(_) => None,
        });
        let conventional = fields::CONVENTIONAL_ENV_NAMES.iter().map(|(n, _)| *n);
        for name in mapped.chain(conventional) {
            if !names.iter().any(|n| n == name) {
                names.push(name.to_string());
            }
        }
        names
    }

    /// Candidates for `field` in lookup order.
    fn candidates(&self, field: &str) -> Vec<(Candidate, Option<String>)> {
        let mut out = Vec::new();
        for m in self.mappings.iter().filter(|m| m.field == field) {
            let c = match &m.source {
                MappedSource::Env(name) => Candidate::Env(name.clone()),
                MappedSource::File(path) => self.volume_item_for_path(path),
            };
            out.push((c, m.divisor.clone()));
        }
        for (i, v) in self.volumes.iter().enumerate() {
            for item in v.items.keys() {
                if fields::field_for_file_name(item) == Some(field) {
                    out.push((
                        Candidate::VolumeItem {
                            volume: i,
                            item: item.clone(),
                        },
                        None,
                    ));
                }
            }
        }
        for (name, f) in fields::CONVENTIONAL_ENV_NAMES {
            if *f == field {
                out.push((Candidate::Env(name.to_string()), None));
            }
        }
        if field == fields::METADATA_NAMESPACE && self.service_account.is_some() {
            out.push((Candidate::ServiceAccountNamespace, None));
        }
        for (key, f) in fields::CONFIG_KEYS {
            if *f == field {
                out.push((Candidate::Config(key), None));
            }
        }
        out
    }

    /// A mapped file inside a scanned volume is read through that volume's snapshot.
    fn volume_item_for_path(&self, path: &str) -> Candidate {
        for (i, v) in self.volumes.iter().enumerate() {
            let prefix = format!("{}/", v.dir.trim_end_matches('/'));
            if let Some(item) = path.strip_prefix(&prefix) {
                return Candidate::VolumeItem {
                    volume: i,
                    item: item.to_string(),
                };
            }
        }
        Candidate::File(path.to_string())
    }

    /// Reads one candidate: `Ok(None)` when it does not exist.
    fn read(&self, c: &Candidate) -> ReadResult {
        match c {
            Candidate::VolumeItem { volume, item } => {
                let v = &self.volumes[*volume];
                let shown = format!("{}/{}", v.dir.trim_end_matches('/'), item);
                read_item(v, item, &shown, Source::VolumeFile(shown.clone()))
            }
            Candidate::File(path) => match volume::read_capped(Path::new(path)) {
                Ok(b) => Ok(Some((b, Source::VolumeFile(path.clone())))),
                Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(io_problem(path, Source::VolumeFile(path.clone()), &e)),
            },
            Candidate::Env(name) => Ok(self
                .env
                .get(name)
                .map(|v| (v.clone().into_bytes(), Source::Env(name.clone())))),
            Candidate::Config(key) => Ok(self
                .env
                .get(&contract::config_env_name(key))
                .map(|v| (v.clone().into_bytes(), Source::Config(key.to_string())))),
            Candidate::ServiceAccountNamespace => {
                let Some(v) = &self.service_account else {
                    return Ok(None);
                };
                let shown = format!(
                    "{}/{}",
                    v.dir.trim_end_matches('/'),
                    fields::SERVICE_ACCOUNT_NAMESPACE_FILE
                );
                read_item(
                    v,
                    fields::SERVICE_ACCOUNT_NAMESPACE_FILE,
                    &shown,
                    Source::ServiceAccount(shown.clone()),
                )
            }
        }
    }

    /// The first candidate of `field` that exists and passes `parse`; problems of earlier
    /// candidates go to `errors`.
    fn resolve<T>(
        &self,
        field: &str,
        errors: &mut Vec<FieldError>,
        parse: impl Fn(&Found) -> Result<T, Problem>,
    ) -> Option<(T, Source)> {
        for (candidate, divisor) in self.candidates(field) {
            let found = match self.read(&candidate) {
                Ok(Some((bytes, source))) => Found {
                    bytes,
                    source,
                    divisor,
                },
                Ok(None) => continue,
                Err((source, problem)) => {
                    errors.push(FieldError {
                        field: field.into(),
                        source: Some(source),
                        problem,
                    });
                    continue;
                }
            };
            match parse(&found) {
                Ok(v) => return Some((v, found.source)),
                Err(problem) => errors.push(FieldError {
                    field: field.into(),
                    source: Some(found.source),
                    problem,
                }),
            }
        }
        None
    }

    /// A scalar string field (`metadata.name`, `spec.nodeName`, ...).
    pub fn scalar(&self, field: &str, errors: &mut Vec<FieldError>) -> Option<(String, Source)> {
        self.resolve(field, errors, |f| utf8(f).map(str::to_string))
    }

    /// A comma-joined IP list (`status.podIPs`, `status.hostIPs`).
    pub fn ip_list(
        &self,
        field: &str,
        errors: &mut Vec<FieldError>,
    ) -> Option<(Vec<String>, Source)> {
        self.resolve(field, errors, |f| {
            let text = utf8(f)?;
            if text.is_empty() {
                return Ok(Vec::new());
            }
            Ok(text.split(',').map(|s| s.trim().to_string()).collect())
        })
    }

    /// A labels or annotations map in the kubelet's `key="value"` format.
    pub fn map(
        &self,
        field: &str,
        errors: &mut Vec<FieldError>,
    ) -> Option<(BTreeMap<String, String>, Source)> {
        self.resolve(field, errors, |f| {
            let text = utf8(f)?;
            map_file::parse(text).map_err(|e| Problem::Malformed {
                file: source_location(&f.source),
                line: u32::try_from(e.line).ok(),
                reason: e.reason,
            })
        })
    }

    /// A `resourceFieldRef` figure: a strict decimal integer.
    pub fn resource(
        &self,
        name: &str,
        kind: ResourceKind,
        errors: &mut Vec<FieldError>,
    ) -> Option<(ResourceValue, Source)> {
        self.resolve(name, errors, |f| {
            let text = utf8(f)?;
            let value = parse_resource_integer(text).map_err(|reason| Problem::Malformed {
                file: source_location(&f.source),
                line: None,
                reason,
            })?;
            Ok(resource_value(kind, value, f.divisor.clone()))
        })
    }

    /// Every resource name any source could provide, sorted.
    pub(crate) fn resource_names(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        let mut add = |n: &str| {
            if fields::is_resource(n) && !names.iter().any(|x| x == n) {
                names.push(n.to_string());
            }
        };
        for m in &self.mappings {
            add(&m.field);
        }
        for v in &self.volumes {
            for item in v.items.keys() {
                if let Some(f) = fields::field_for_file_name(item) {
                    add(f);
                }
            }
        }
        for (_, f) in fields::CONVENTIONAL_ENV_NAMES {
            add(f);
        }
        names.sort();
        names
    }

    /// Problems found while loading (a bad `POD_INTROSPECT_FIELDS`, an unreadable volume).
    pub fn setup_errors(&self) -> &[FieldError] {
        &self.setup_errors
    }

    /// The error for a field that no source provides, with the manifest change that exposes it.
    pub fn not_exposed(&self, field: &str) -> Problem {
        Problem::NotExposed {
            field: field.to_string(),
            hint: crate::hints::hint(field),
        }
    }
}

/// The start of the error field of a volume that could not be read: `volume /etc/podinfo`.
pub const VOLUME_ERROR_PREFIX: &str = "volume ";

fn open_volume(
    dir: &str,
    wanted: &dyn Fn(&str) -> bool,
    errors: &mut Vec<FieldError>,
) -> Option<Volume> {
    let problem = |message: String| FieldError {
        field: format!("{VOLUME_ERROR_PREFIX}{dir}"),
        source: Some(Source::VolumeFile(dir.to_string())),
        problem: Problem::Io {
            path: dir.to_string(),
            message,
        },
    };
    match volume::read_volume(dir, wanted) {
        Ok(Some(v)) => {
            if let Some(e) = &v.listing_error {
                errors.push(problem(e.clone()));
            }
            Some(v)
        }
        Ok(None) => None,
        Err(e) => {
            errors.push(problem(e.0));
            None
        }
    }
}

/// An item of a volume: read eagerly with the volume, or (a nested mapped path) from its version.
fn read_item(v: &Volume, item: &str, shown: &str, source: Source) -> ReadResult {
    match v.items.get(item) {
        Some(Item::Data(bytes)) => Ok(Some((bytes.clone(), source))),
        Some(Item::Error(message)) => Err((
            source,
            Problem::Io {
                path: shown.to_string(),
                message: message.clone(),
            },
        )),
        None if item.contains('/') => match volume::read_capped(&v.snapshot.path(item)) {
            Ok(bytes) => Ok(Some((bytes, source))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_problem(shown, source, &e)),
        },
        None => Ok(None),
    }
}

/// The problem for a failed read of `path`, with the sandbox's reason for a refusal.
fn io_problem(path: &str, source: Source, e: &io::Error) -> (Source, Problem) {
    (
        source,
        Problem::Io {
            path: path.to_string(),
            message: volume::describe(e),
        },
    )
}

/// `/etc/podinfo/labels` or `env:NAME`: how a malformed error names its input.
fn source_location(source: &Source) -> String {
    match source {
        Source::VolumeFile(p) | Source::ServiceAccount(p) => p.clone(),
        Source::Env(_) | Source::Api(_) | Source::Config(_) => source.to_string(),
    }
}

fn utf8(found: &Found) -> Result<&str, Problem> {
    std::str::from_utf8(&found.bytes).map_err(|e| Problem::Malformed {
        file: source_location(&found.source),
        line: None,
        reason: format!("not UTF-8 text ({e}); the kubelet writes field values as UTF-8"),
    })
}
