//! `api create`, `replace`, `apply`, `patch`, `delete`, `label` and `annotate`, and the object
//! files they read.

use super::{Prepared, object_namespace, print_error, print_result, resolve};
use crate::bundled::BundledGuest;
use crate::cli::{ApiCall, DeleteArgs, FileArgs, PatchArgs};
use crate::runtime::bindings::exports::pod_introspect::pod::pod_introspect as wit;
use anyhow::{Context as _, Result, bail};
use pod_introspect_kube::cli_output;
use serde_json::Value;
use std::path::Path;
use std::process::ExitCode;

/// The object in `file` (YAML or JSON, one document; `-` is stdin), as JSON. Errors name the
/// file and what is wrong (not YAML, not an object, no `apiVersion`/`kind`/`metadata.name`).
pub(super) fn read_object(file: &Path) -> Result<Value> {
    let text = if file == Path::new("-") {
        std::io::read_to_string(std::io::stdin()).context("-f -: reading stdin")?
    } else {
        std::fs::read_to_string(file).with_context(|| format!("-f {}", file.display()))?
    };
    let shown = file.display();
    let object: Value = serde_saphyr::from_str(&text)
        .with_context(|| format!("-f {shown}: not a YAML or JSON object (one document)"))?;
    let Some(map) = object.as_object() else {
        bail!("-f {shown}: the document is not an object with apiVersion, kind and metadata");
    };
    for key in ["apiVersion", "kind"] {
        if !map.get(key).is_some_and(Value::is_string) {
            bail!("-f {shown}: no {key}; every object names its apiVersion and kind");
        }
    }
    if map.get("kind").and_then(Value::as_str) == Some("List") {
        bail!("-f {shown}: a List holds several objects; give one object per file");
    }
    Ok(object)
}

/// `KEY=VALUE` (set) and `KEY-` (remove) arguments, as `kubectl label`. Errors name the argument.
pub(super) fn parse_changes(args: &[String]) -> Result<Vec<(String, Option<String>)>> {
    args.iter()
        .map(|a| {
            if let Some((k, v)) = a.split_once('=') {
                if k.is_empty() {
                    bail!("{a:?}: no key before =; give KEY=VALUE or KEY-");
                }
                Ok((k.to_string(), Some(v.to_string())))
            } else if let Some(k) = a.strip_suffix('-').filter(|k| !k.is_empty()) {
                Ok((k.to_string(), None))
            } else {
                bail!("{a:?}: give KEY=VALUE to set or KEY- to remove")
            }
        })
        .collect()
}

/// The resource of an object from its `apiVersion` and `kind`: `kind.version.group`
/// (kubectl's fully qualified form) for a group, the kind alone for the core group, whose
/// resolution is checked to be `v1` of the core group. A kind discovery does not serve is
/// `invalid` with the RESTMapper's text (apimachinery `pkg/api/meta/errors.go`,
/// `NoKindMatchError`): `no matches for kind "Widget" in version "foo.io/v1"`.
async fn object_resource(
    guest: &mut BundledGuest,
    object: &Value,
) -> Result<Result<wit::ApiResource, wit::ApiError>> {
    let api_version = object["apiVersion"].as_str().unwrap_or_default();
    let kind = object["kind"].as_str().unwrap_or_default();
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    let name = if group.is_empty() {
        kind.to_string()
    } else {
        format!("{}.{version}.{group}", kind.to_ascii_lowercase())
    };
    let no_match = || {
        wit::ApiError::Invalid(format!(
            "no matches for kind {kind:?} in version {api_version:?}"
        ))
    };
    Ok(match super::resolve(guest, &name).await? {
        Ok(r) if r.gvr.group == group && r.gvr.version == version && r.kind == kind => Ok(r),
        Ok(_) | Err(wit::ApiError::Invalid(_)) => Err(no_match()),
        Err(e) => Err(e),
    })
}

/// The namespace of an object from a file: its `metadata.namespace`, else `-n`, else this
/// pod's. `-n` different from the object's is an error, as kubectl's.
async fn file_namespace(
    guest: &mut BundledGuest,
    resource: &wit::ApiResource,
    object: &Value,
    flag: Option<&str>,
) -> Result<Option<String>> {
    let own = object["metadata"]["namespace"].as_str();
    if let (Some(own), Some(flag)) = (own, flag)
        && own != flag
    {
        bail!(
            "the namespace from the object ({own}) does not match the namespace from -n ({flag})"
        );
    }
    object_namespace(guest, resource, own.or(flag)).await
}

fn write_options(f: &FileArgs, force: bool) -> wit::WriteOptions {
    wit::WriteOptions {
        dry_run: f.dry_run,
        field_manager: f.field_manager.clone(),
        field_validation: None,
        subresource: None,
        force,
    }
}

pub(super) async fn call(
    guest: &mut BundledGuest,
    call: &ApiCall,
    prepared: &Prepared,
    pretty: bool,
) -> Result<ExitCode> {
    match call {
        ApiCall::Create(f)
        | ApiCall::Replace(f)
        | ApiCall::Apply(crate::cli::ApplyArgs { file: f, .. }) => {
            let Some(object) = &prepared.object else {
                bail!("no object read from -f");
            };
            let resource = match object_resource(guest, object).await? {
                Ok(r) => r,
                Err(e) => return Ok(print_error(&e, pretty)),
            };
            let ns = file_namespace(guest, &resource, object, f.namespace.as_deref()).await?;
            let name = object["metadata"]["name"].as_str().unwrap_or_default();
            let text = object.to_string();
            let r = match call {
                ApiCall::Create(_) => {
                    let o = write_options(f, false);
                    guest
                        .call(async |x, s| {
                            x.call_create_object(s, &resource.gvr, ns.as_deref(), &text, &o)
                                .await
                        })
                        .await?
                }
                ApiCall::Replace(_) => {
                    if name.is_empty() {
                        bail!(
                            "-f {}: metadata.name is required to replace",
                            f.file.display()
                        );
                    }
                    let o = write_options(f, false);
                    guest
                        .call(async |x, s| {
                            x.call_replace_object(s, &resource.gvr, ns.as_deref(), name, &text, &o)
                                .await
                        })
                        .await?
                }
                ApiCall::Apply(a) => {
                    if name.is_empty() {
                        bail!(
                            "-f {}: metadata.name is required to apply",
                            f.file.display()
                        );
                    }
                    let o = write_options(f, a.force_conflicts);
                    guest
                        .call(async |x, s| {
                            x.call_patch_object(
                                s,
                                &resource.gvr,
                                ns.as_deref(),
                                name,
                                wit::PatchType::Apply,
                                &text,
                                &o,
                            )
                            .await
                        })
                        .await?
                }
                _ => bail!("not a write"),
            };
            Ok(print_result(r, pretty))
        }
        ApiCall::Patch(p) => patch(guest, p, pretty).await,
        ApiCall::Delete(d) => delete(guest, d, pretty).await,
        ApiCall::Label(m) | ApiCall::Annotate(m) => {
            let changes = &prepared.changes;
            let labels = matches!(call, ApiCall::Label(_));
            if !m.overwrite {
                // kubectl reads the object and refuses a change of value without --overwrite.
                let pod = match guest.call(async |x, s| x.call_self_pod(s).await).await? {
                    Ok(pod) => pod,
                    Err(e) => return Ok(print_error(&e, pretty)),
                };
                let pod: Value = serde_json::from_str(&pod)?;
                let map = &pod["metadata"][if labels { "labels" } else { "annotations" }];
                if let Some(refused) = cli_output::overwrite_conflicts(map, changes) {
                    bail!("{refused}");
                }
            }
            let r = guest
                .call(async |x, s| {
                    if labels {
                        x.call_patch_self_labels(s, changes).await
                    } else {
                        x.call_patch_self_annotations(s, changes).await
                    }
                })
                .await?;
            Ok(print_result(r, pretty))
        }
        _ => bail!("not a write"),
    }
}

/// `api patch RESOURCE NAME --type T -p JSON`.
async fn patch(guest: &mut BundledGuest, p: &PatchArgs, pretty: bool) -> Result<ExitCode> {
    if let Err(e) = serde_json::from_str::<Value>(&p.patch) {
        bail!("-p: the patch is not JSON: {e}");
    }
    let patch_type = match p.patch_type.as_str() {
        "json" => wit::PatchType::Json,
        "merge" => wit::PatchType::Merge,
        _ => wit::PatchType::Strategic,
    };
    let resource = match resolve(guest, &p.resource).await? {
        Ok(r) => r,
        Err(e) => return Ok(print_error(&e, pretty)),
    };
    let ns = object_namespace(guest, &resource, p.namespace.as_deref()).await?;
    let o = wit::WriteOptions {
        dry_run: p.dry_run,
        field_manager: p.field_manager.clone(),
        field_validation: None,
        subresource: p.subresource.clone(),
        force: false,
    };
    let r = guest
        .call(async |x, s| {
            x.call_patch_object(
                s,
                &resource.gvr,
                ns.as_deref(),
                &p.name,
                patch_type,
                &p.patch,
                &o,
            )
            .await
        })
        .await?;
    Ok(print_result(r, pretty))
}

/// `api delete RESOURCE NAME`, or a collection with `-l`, `--field-selector` or `--all`.
async fn delete(guest: &mut BundledGuest, d: &DeleteArgs, pretty: bool) -> Result<ExitCode> {
    let selects = d.select.selector.is_some() || d.select.field_selector.is_some();
    if d.name.is_none() && !selects && !d.all {
        bail!(
            "api delete {}: give a NAME, or -l / --field-selector / --all to delete a collection",
            d.resource
        );
    }
    if d.name.is_some() && selects {
        bail!("api delete: a NAME and a selector cannot be combined");
    }
    if d.name.is_none() && d.select.all_namespaces {
        // kube-apiserver registers deletecollection per namespace only
        // (apiserver/pkg/endpoints/installer.go: no DELETE on the all-namespaces path).
        bail!(
            "api delete {} -A: the API server deletes a collection in one namespace at a time; give -n NAMESPACE instead of -A",
            d.resource
        );
    }
    let resource = match resolve(guest, &d.resource).await? {
        Ok(r) => r,
        Err(e) => return Ok(print_error(&e, pretty)),
    };
    let options = wit::DeleteOptions {
        // kubectl: a negative --grace-period (its default -1) means the object's own.
        grace_period_seconds: d.grace_period.filter(|s| *s >= 0),
        propagation_policy: d.cascade.as_deref().map(|c| match c {
            "foreground" => wit::PropagationPolicy::Foreground,
            "orphan" => wit::PropagationPolicy::Orphan,
            _ => wit::PropagationPolicy::Background,
        }),
        precondition_uid: d.uid.clone(),
        precondition_resource_version: d.resource_version.clone(),
        dry_run: d.dry_run,
    };
    let r = match &d.name {
        Some(name) => {
            let ns = object_namespace(guest, &resource, d.select.namespace.as_deref()).await?;
            guest
                .call(async |x, s| {
                    x.call_delete_object(s, &resource.gvr, ns.as_deref(), name, &options)
                        .await
                })
                .await?
        }
        None => {
            let ns = if resource.namespaced {
                super::namespace(guest, &d.select).await?
            } else {
                None
            };
            let selection = super::selection(ns, &d.select);
            guest
                .call(async |x, s| {
                    x.call_delete_collection(s, &resource.gvr, &selection, &options)
                        .await
                })
                .await?
        }
    };
    Ok(print_result(r, pretty))
}
