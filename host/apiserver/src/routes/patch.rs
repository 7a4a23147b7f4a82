//! `PATCH`: the four patch types of `staging/src/k8s.io/apiserver/pkg/endpoints/handlers/patch.go`
//! applied to the current object (as the resource serves it).
//!
//! - `application/json-patch+json`: RFC 6902, with the `json-patch` crate.
//! - `application/merge-patch+json`: RFC 7386, with the `json-patch` crate's `merge`.
//! - `application/strategic-merge-patch+json`: [`crate::strategic_patch`], with the patch
//!   metadata (`x-kubernetes-patch-merge-key` / `-strategy`) of the served OpenAPI schemas.
//! - `application/apply-patch+yaml`: server-side apply, [`crate::apply`].
//!
//! Only apply may create a missing object; the others answer 404.

use serde_json::Value;

use super::Ctx;
use super::objects::field_validation;
use crate::status::Status;

/// The patched object and the unknown fields the patch set (for `Warning` headers).
pub(super) struct Patched {
    pub(super) object: Value,
    pub(super) unknown: Vec<String>,
    /// True for server-side apply, which recorded its manager itself.
    pub(super) applied: bool,
}

/// The patch types, by `Content-Type` (parameters ignored).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PatchType {
    Json,
    Merge,
    Strategic,
    Apply,
}

fn patch_type(content_type: &str) -> Option<PatchType> {
    match content_type.split(';').next().unwrap_or("").trim() {
        "application/json-patch+json" => Some(PatchType::Json),
        "application/merge-patch+json" => Some(PatchType::Merge),
        "application/strategic-merge-patch+json" => Some(PatchType::Strategic),
        "application/apply-patch+yaml" | "application/apply-patch+cbor" => Some(PatchType::Apply),
        _ => None,
    }
}

/// Applies the request's patch to `existing` (`None`: no such object).
///
/// # Errors
/// 415 for another content type, 404 when the object is missing (except for apply), 400 for
/// a patch that does not decode, 422 for one that cannot be applied, the strategic and apply
/// errors of their modules.
pub(super) fn apply(ctx: &Ctx<'_>, existing: Option<&Value>) -> Result<Patched, Status> {
    let r = ctx.resource;
    let Some(kind) = patch_type(&ctx.content_type) else {
        return Err(Status::new(
            415,
            "UnsupportedMediaType",
            "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json",
            None,
        ));
    };
    if kind == PatchType::Apply {
        let time = crate::store::now_string();
        let applied = crate::apply::apply_at(
            r,
            existing,
            &ctx.body,
            &crate::apply::ApplyOptions {
                manager: ctx.query.get("fieldManager").unwrap_or(""),
                force: ctx.query.flag("force"),
                subresource: ctx.field_manager_subresource(),
                time: time.as_str().unwrap_or(""),
            },
        )?;
        let unknown = field_validation(ctx, &applied)?;
        return Ok(Patched {
            object: applied,
            unknown,
            applied: true,
        });
    }
    let Some(existing) = existing else {
        return Err(crate::errors::not_found(r, &ctx.info.name));
    };
    let patch: Value = serde_json::from_slice(&ctx.body)
        .map_err(|e| Status::bad_request(format!("error decoding patch: {e}")))?;
    let mut object = existing.clone();
    match kind {
        PatchType::Json => {
            let ops: json_patch::Patch = serde_json::from_value(patch)
                .map_err(|e| Status::bad_request(format!("error decoding patch: {e}")))?;
            // `maxJSONPatchOperations` of `endpoints/handlers/patch.go`.
            const MAX_OPS: usize = 10_000;
            if ops.0.len() > MAX_OPS {
                return Err(Status::new(
                    413,
                    "RequestEntityTooLarge",
                    format!(
                        "Request entity too large: The allowed maximum operations in a JSON patch is {MAX_OPS}, got {}",
                        ops.0.len()
                    ),
                    None,
                ));
            }
            let invalid = |e: String| {
                Status::new(
                    422,
                    "Invalid",
                    format!("the server rejected our request due to an error in our request: {e}"),
                    None,
                )
            };
            // evanphx/json-patch's `AccumulatedCopySizeLimit`, which kube-apiserver sets to the
            // request body limit: doubling `copy` operations cannot grow an object without bound.
            let mut copied = 0usize;
            for op in &ops.0 {
                if let json_patch::PatchOperation::Copy(c) = op {
                    let size = object
                        .pointer(c.from.as_str())
                        .map_or(0, |v| serde_json::to_vec(v).map_or(0, |b| b.len()));
                    copied += size;
                    if copied > super::MAX_BODY {
                        return Err(Status::new(
                            413,
                            "RequestEntityTooLarge",
                            format!(
                                "Request entity too large: the accumulated size of copied values in the JSON patch exceeds {} bytes",
                                super::MAX_BODY
                            ),
                            None,
                        ));
                    }
                }
                json_patch::patch(&mut object, std::slice::from_ref(op))
                    .map_err(|e| invalid(e.to_string()))?;
            }
        }
        PatchType::Merge => {
            if !patch.is_object() {
                return Err(Status::bad_request(
                    "error decoding patch: a merge patch must be a JSON object",
                ));
            }
            json_patch::merge(&mut object, &patch);
        }
        PatchType::Strategic => {
            let root = if ctx.info.subresource == "scale" {
                "io.k8s.api.autoscaling.v1.Scale".to_owned()
            } else {
                (r.schema_name)().into_owned()
            };
            object = crate::strategic_patch::apply(
                existing,
                &patch,
                crate::openapi::definitions(),
                &root,
            )
            .map_err(|e| e.status())?;
        }
        PatchType::Apply => {}
    }
    // A patch may not move the object: name and namespace stay the URL's.
    let unknown = field_validation(ctx, &object)?;
    Ok(Patched {
        object,
        unknown,
        applied: false,
    })
}
