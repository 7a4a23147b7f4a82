//! Server-side apply (`application/apply-patch+yaml`) and the `metadata.managedFields` every
//! write records.
//!
//! Upstream: the field manager of `staging/src/k8s.io/apimachinery/pkg/util/managedfields`
//! (`internal/fieldmanager.go`, `structuredmerge.go`, `managedfieldsupdater.go`,
//! `stripmeta.go`, `versioncheck.go`, `conflict.go`), which kube-apiserver's handlers call
//! (`staging/src/k8s.io/apiserver/pkg/endpoints/handlers/patch.go` `applyPatcher`,
//! `create.go`, `update.go`), over `sigs.k8s.io/structured-merge-diff/v4` (`merge/update.go`
//! `Updater.Apply`, `Updater.Update`, `prune`; the typed operations are in [`typed`], field
//! sets and their `FieldsV1` encoding in [`fieldpath`]).
//!
//! - [`apply`]: the applied configuration is merged into the live object (maps and structs by
//!   key, associative lists by their `x-kubernetes-list-map-keys`, sets by value, atomic lists
//!   replaced); its fields become the manager's `Apply` entry; the fields the manager applied
//!   before and applies no more are removed unless another manager owns them; a field another
//!   manager owns that the configuration changes is a conflict (409 with upstream's message and
//!   one `FieldManagerConflict` cause per field) unless `force`, which takes it over.
//! - [`record_update`]: a create, update or non-apply patch: the fields it added or changed
//!   become its manager's `Update` entry and leave the other managers' entries.
//!
//! Both strip what nobody owns (`apiVersion`, `kind`, `metadata.name`, `uid`,
//! `resourceVersion`, ... as `stripmeta.go`) and, for a resource with a `status` subresource,
//! the part the request cannot change (a main-resource write does not own `status`, a
//! `status` write owns only `status`: the `ResetFieldsStrategy` of the registry).
//!
//! ```
//! use pod_introspect_apiserver::{apply, resources};
//! use serde_json::json;
//! let cm = resources::find("", "v1", "configmaps").unwrap();
//! let live = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"},
//!     "data": {"a": "1"}});
//! let body = br#"{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"},
//!     "data": {"b": "2"}}"#;
//! let out = apply::apply_at(cm, Some(&live), body, &apply::ApplyOptions {
//!     manager: "tool", force: false, subresource: "", time: "2025-01-01T00:00:00Z",
//! }).unwrap();
//! assert_eq!(out["data"], json!({"a": "1", "b": "2"}));
//! assert_eq!(out["metadata"]["managedFields"][0]["fieldsV1"], json!({"f:data": {"f:b": {}}}));
//! ```

pub mod fieldpath;
pub mod managed;
#[cfg(test)]
mod tests;
pub mod typed;

use serde_json::{Value, json};

use self::fieldpath::{Path, PathElement, Set, fields};
use self::managed::{APPLY, Entry, UPDATE};
use self::typed::{Ty, WalkError};
use crate::resources::ResourceType;
use crate::status::{Status, StatusCause, StatusDetails};

/// `validation.FieldManagerMaxLength`.
pub const FIELD_MANAGER_MAX_LENGTH: usize = 128;

/// The options of one apply request.
#[derive(Debug, Clone, Copy)]
pub struct ApplyOptions<'a> {
    /// `fieldManager` (required).
    pub manager: &'a str,
    /// `force`: take over conflicting fields.
    pub force: bool,
    /// The subresource applied to (`status`), `""` for the main resource.
    pub subresource: &'a str,
    /// The time recorded for the manager (`2026-01-02T03:04:05Z`).
    pub time: &'a str,
}

/// [`apply_at`] on the main resource at the current time: applies `body` (YAML or JSON) as
/// `manager`'s configuration to `live` (`None`: the object does not exist and is created
/// from it). Returns the object to store, `metadata.managedFields` included.
///
/// # Errors
/// As [`apply_at`].
pub fn apply(
    r: &ResourceType,
    live: Option<&Value>,
    body: &[u8],
    manager: &str,
    force: bool,
) -> Result<Value, Status> {
    let now = crate::store::now_string();
    apply_at(
        r,
        live,
        body,
        &ApplyOptions {
            manager,
            force,
            subresource: "",
            time: now.as_str().unwrap_or_default(),
        },
    )
}

/// Server-side apply of `body` to `live` with `opts` (`FieldManager.Apply`). `live` and the
/// result are objects as the resource `r` serves them; `live: None` applies to an empty
/// object (the handler then creates the result). The result has the manager's `Apply` entry
/// (with `opts.time` when the object changed, its previous time otherwise) and the other
/// managers' entries without the fields this apply took over or removed.
///
/// # Errors
/// - 422 `Invalid` (`PatchOptions.meta.k8s.io "" is invalid: fieldManager: ...`) without a
///   field manager, or one longer than 128 bytes or with unprintable characters;
/// - 400 `error decoding YAML: ...` for a body that is not a YAML/JSON object; 400
///   `invalid object type: GROUP/VERSION, Kind=KIND` when its `apiVersion`/`kind` are not
///   the resource's (`versioncheck.go`); 400 `metadata.managedFields must be nil`;
/// - 500 `failed to create typed patch object (GROUP/VERSION, Kind=KIND): PATH: ...` for a
///   configuration whose lists cannot be keyed (an item without its key fields, duplicates);
/// - 409 `Conflict` `Apply failed with N conflict(s): ...` when another manager owns a field
///   the configuration changes and `force` is off.
pub fn apply_at(
    r: &ResourceType,
    live: Option<&Value>,
    body: &[u8],
    opts: &ApplyOptions<'_>,
) -> Result<Value, Status> {
    validate_manager(opts.manager)?;
    let text = std::str::from_utf8(body)
        .map_err(|e| Status::bad_request(format!("error decoding YAML: {e}")))?;
    let config: Value = serde_saphyr::from_str(text)
        .map_err(|e| Status::bad_request(format!("error decoding YAML: {e}")))?;
    if !config.is_object() {
        return Err(Status::bad_request(format!(
            "error decoding YAML: an applied configuration is a {} object",
            r.kind
        )));
    }
    let api_version = config["apiVersion"].as_str().unwrap_or("");
    let kind = config["kind"].as_str().unwrap_or("");
    if api_version != r.api_version() || kind != r.kind {
        return Err(Status::bad_request(format!(
            "invalid object type: {}",
            gvk_string(api_version, kind)
        )));
    }
    if !config["metadata"]["managedFields"].is_null() {
        return Err(Status::bad_request("metadata.managedFields must be nil"));
    }
    apply_config(r, live, &config, opts)
}

/// `schema.GroupVersionKind.String()`: `apps/v1, Kind=Deployment`, `/v1, Kind=ConfigMap`.
fn gvk_string(api_version: &str, kind: &str) -> String {
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    format!("{group}/{version}, Kind={kind}")
}

/// `ValidatePatchOptions` for apply and `ValidateFieldManager`
/// (`staging/src/k8s.io/apimachinery/pkg/apis/meta/v1/validation/validation.go`).
fn validate_manager(manager: &str) -> Result<(), Status> {
    let cause = if manager.is_empty() {
        "fieldManager: Required value: is required for apply patch".to_owned()
    } else if manager.len() > FIELD_MANAGER_MAX_LENGTH {
        format!("fieldManager: Too long: may not be more than {FIELD_MANAGER_MAX_LENGTH} bytes")
    } else if manager.chars().any(char::is_control) {
        format!(
            "fieldManager: Invalid value: {}: invalid characters",
            pod_introspect_kube::go_quote::quote(manager)
        )
    } else {
        return Ok(());
    };
    Err(crate::errors::options_invalid("PatchOptions", &cause))
}

/// The schema root of `r`'s objects.
fn schema_root(r: &ResourceType) -> String {
    (r.schema_name)().into_owned()
}

/// What a write to `subresource` may own (`stripmeta.go` and the reset fields).
fn owned_part(r: &ResourceType, subresource: &str, set: &Set) -> Set {
    let mut strip = Set::new();
    for f in ["apiVersion", "kind", "metadata"] {
        strip.insert(&fields(&[f]));
    }
    for f in [
        "name",
        "namespace",
        "creationTimestamp",
        "selfLink",
        "uid",
        "clusterName",
        "generation",
        "managedFields",
        "resourceVersion",
    ] {
        strip.insert(&fields(&["metadata", f]));
    }
    let set = set.difference(&strip);
    let status = PathElement::Field("status".into());
    if subresource == "status" {
        let mut only = Set::new();
        if set.has_member(&status) {
            only.insert_member(status.clone());
        }
        if let Some(c) = set.child(&status) {
            only.set_child(status, c.clone());
        }
        only
    } else if r.has_status() {
        let mut reset = Set::new();
        reset.insert_member(status);
        set.recursive_difference(&reset)
    } else {
        set
    }
}

/// `obj` without `metadata.managedFields`.
fn without_managed_fields(obj: &Value) -> Value {
    let mut v = obj.clone();
    if let Some(m) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        m.remove("managedFields");
    }
    v
}

/// The 500 of a configuration the schema cannot type (`structuredmerge.go`).
fn typed_patch_error(r: &ResourceType, e: WalkError) -> Status {
    Status::new(
        500,
        "",
        format!(
            "failed to create typed patch object ({}): {}",
            gvk_string(&r.api_version(), r.kind),
            e.0
        ),
        None,
    )
}

fn apply_config(
    r: &ResourceType,
    live: Option<&Value>,
    config: &Value,
    opts: &ApplyOptions<'_>,
) -> Result<Value, Status> {
    let root = schema_root(r);
    let ty = Ty::root(crate::openapi::definitions(), &root);
    let applied = typed::to_field_set(ty, config).map_err(|e| typed_patch_error(r, e))?;
    let applied = owned_part(r, opts.subresource, &applied);
    let empty = json!({});
    let live_obj = live.unwrap_or(&empty);
    let mut managers = managed::decode(live_obj);
    let live_clean = without_managed_fields(live_obj);
    let merged = typed::merge(ty, &live_clean, config).map_err(|e| typed_patch_error(r, e))?;

    let me = Entry {
        manager: opts.manager.to_owned(),
        operation: APPLY.to_owned(),
        api_version: r.api_version(),
        time: None,
        subresource: opts.subresource.to_owned(),
        set: applied,
    };
    let my_id = me.id();
    let previous = managers.iter().position(|e| e.id() == my_id);
    let previous = previous.map(|i| managers.remove(i));
    managers.push(me);

    // `Updater.prune`: what this manager applied last time and nobody owns now goes.
    let pruned = match previous.as_ref().map(|p| &p.set) {
        Some(last) if !last.is_empty() => {
            let owned = managers.iter().fold(Set::new(), |acc, e| acc.union(&e.set));
            let gone = typed::ensure_named_fields_are_members(ty, last)
                .difference(&typed::ensure_named_fields_are_members(ty, &owned));
            typed::remove_items(ty, &merged, &gone)
        }
        _ => merged,
    };

    // `Updater.update`: conflicts with the other managers, and their removed fields.
    let cmp = typed::compare(ty, live.map(|_| &live_clean), &pruned);
    let changed = owned_part(r, opts.subresource, &cmp.modified.union(&cmp.added));
    let removed = owned_part(r, opts.subresource, &cmp.removed);
    let mut conflicts: Vec<(usize, Set)> = Vec::new();
    for (i, e) in managers.iter().enumerate() {
        if e.id() == my_id {
            continue;
        }
        let c = e.set.intersection(&changed);
        if !c.is_empty() {
            conflicts.push((i, c));
        }
    }
    if !opts.force && !conflicts.is_empty() {
        return Err(conflict_error(&managers, &conflicts));
    }
    for (i, c) in &conflicts {
        managers[*i].set = managers[*i].set.difference(c);
    }
    for e in managers.iter_mut() {
        if e.id() != my_id {
            e.set = e.set.difference(&removed);
        }
    }

    // `managedFieldsUpdater.Apply`: the time moves only when the object changed.
    let changed_object = pruned != live_clean || live.is_none();
    let previous_time = previous.and_then(|p| p.time);
    if let Some(me) = managers.iter_mut().find(|e| e.id() == my_id) {
        me.time = if changed_object {
            Some(opts.time.to_owned())
        } else {
            previous_time
        };
    }
    let mut out = pruned;
    managed::encode(&mut out, managers);
    Ok(out)
}

/// The 409 of `NewConflictError` (`internal/conflict.go`): one cause per conflicting field,
/// `Apply failed with 1 conflict: conflict with "M": .data.key` or, for several,
/// `Apply failed with N conflicts: conflicts with "M":\n- .a\n- .b` grouped by manager
/// (managers sorted by their identifier).
fn conflict_error(managers: &[Entry], conflicts: &[(usize, Set)]) -> Status {
    let mut listed: Vec<(&Entry, Vec<Path>)> = conflicts
        .iter()
        .map(|(i, set)| (&managers[*i], set.paths()))
        .collect();
    listed.sort_by_key(|(e, _)| e.id());
    let total: usize = listed.iter().map(|(_, p)| p.len()).sum();
    let causes: Vec<StatusCause> = listed
        .iter()
        .flat_map(|(e, paths)| {
            paths.iter().map(|p| StatusCause {
                reason: "FieldManagerConflict".into(),
                message: format!("conflict with {}", e.printed()),
                field: p.to_string(),
            })
        })
        .collect();
    let message = if total == 1 {
        let (e, paths) = &listed[0];
        format!(
            "Apply failed with 1 conflict: conflict with {}: {}",
            e.printed(),
            paths[0]
        )
    } else {
        let mut lines = Vec::new();
        for (e, paths) in &listed {
            lines.push(format!("conflicts with {}:", e.printed()));
            lines.extend(paths.iter().map(|p| format!("- {p}")));
        }
        format!("Apply failed with {total} conflicts: {}", lines.join("\n"))
    };
    Status::new(
        409,
        "Conflict",
        message,
        Some(StatusDetails {
            causes,
            ..Default::default()
        }),
    )
}

/// Records `manager`'s `Update` entry on `new`, the object a create (`old: None`), update or
/// non-apply patch of `subresource` (`""` for the main resource) is about to store
/// (`FieldManager.Update` with `managedFieldsUpdater`). Call it with the object as it will be
/// stored (after the patch or the request body is applied, before the store writes it).
///
/// The managed fields start from `new`'s own `metadata.managedFields` when the request sets a
/// non-empty list (clients may rewrite them; not for a subresource), else from `old`'s. The
/// fields the write added or changed become `manager`'s (with `time` as the entry's time, for
/// `apiVersion` [`ResourceType::api_version`]) and are taken from every other manager, and the
/// fields it removed leave every manager. A write that changed nothing it may own leaves the
/// entries as they were (no new entry, no new time). `manager` is the request's
/// `fieldManager`, or [`manager_or_user_agent`] of its `User-Agent`; kubectl sends
/// `kubectl-create`, `kubectl-edit`, `kubectl-client-side-apply`, `kubectl-replace`,
/// `kubectl-patch`, `kubectl-label`, `kubectl-annotate`, `kubectl-scale`, ...
///
/// Never fails: an object the schema cannot key (a list item without its key fields) gets no
/// entries from that list (kube-apiserver logs and drops the managed fields then).
pub fn record_update(
    r: &ResourceType,
    old: Option<&Value>,
    new: &mut Value,
    manager: &str,
    subresource: &str,
    time: &str,
) {
    let root = schema_root(r);
    let ty = Ty::root(crate::openapi::definitions(), &root);
    let mut managers = if subresource.is_empty() && managed::has_managed_fields(new) {
        managed::decode(new)
    } else {
        old.map(managed::decode).unwrap_or_default()
    };
    let new_clean = without_managed_fields(new);
    let old_clean = old.map(without_managed_fields);
    let cmp = typed::compare(ty, old_clean.as_ref(), &new_clean);
    let changed = owned_part(r, subresource, &cmp.modified.union(&cmp.added));
    let removed = owned_part(r, subresource, &cmp.removed);
    let me = Entry {
        manager: manager.to_owned(),
        operation: UPDATE.to_owned(),
        api_version: r.api_version(),
        time: Some(time.to_owned()),
        subresource: subresource.to_owned(),
        set: Set::new(),
    };
    let my_id = me.id();
    for e in managers.iter_mut() {
        e.set = e.set.difference(&changed).difference(&removed);
    }
    if !changed.is_empty() {
        match managers.iter_mut().find(|e| e.id() == my_id) {
            Some(e) => {
                e.set = e.set.union(&changed);
                e.time = Some(time.to_owned());
            }
            None => managers.push(Entry { set: changed, ..me }),
        }
    }
    managed::encode(new, managers);
}

/// `managerOrUserAgent` (`handlers/rest.go`): the `fieldManager` when set, else the
/// `User-Agent` up to its first `/` with unprintable characters dropped, cut to 128 bytes
/// (`prefixFromUserAgent`): `kubectl/v1.32.0 (linux/amd64) kubernetes/abc` → `kubectl`.
pub fn manager_or_user_agent(field_manager: &str, user_agent: &str) -> String {
    if !field_manager.is_empty() {
        return field_manager.to_owned();
    }
    let prefix = user_agent.split('/').next().unwrap_or("");
    let mut out = String::new();
    for c in prefix.chars().filter(|c| !c.is_control()) {
        if out.len() + c.len_utf8() > FIELD_MANAGER_MAX_LENGTH {
            break;
        }
        out.push(c);
    }
    out
}
