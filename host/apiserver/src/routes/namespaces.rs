//! Namespaces: list and get.

use http::{Response, StatusCode};
use serde_json::Value;

use super::list::{list_body, list_meta, selectors};
use super::{Body, Ctx, json_response, lock};
use crate::status::Status;

pub(super) fn list_namespaces(ctx: &Ctx<'_>) -> Result<Response<Body>, Status> {
    let (labels, fields) = selectors(ctx.query, &["metadata.name", "status.phase"])?;
    let (rv, nss) = {
        let store = lock(ctx.shared);
        (store.resource_version(), store.namespaces())
    };
    let items = nss
        .into_iter()
        .filter(|n| {
            labels.matches(n.metadata.labels.as_ref())
                && fields.matches(|f| match f {
                    "metadata.name" => n.metadata.name.clone().unwrap_or_default(),
                    "status.phase" => n
                        .status
                        .as_ref()
                        .and_then(|s| s.phase.clone())
                        .unwrap_or_default(),
                    _ => String::new(),
                })
        })
        .map(|n| serde_json::to_value(n).unwrap_or(Value::Null))
        .collect();
    Ok(json_response(
        StatusCode::OK,
        &list_body("NamespaceList", list_meta(rv, None, None), items),
    ))
}

pub(super) fn get_namespace(ctx: &Ctx<'_>) -> Result<Response<Body>, Status> {
    let name = &ctx.info.name;
    let ns = lock(ctx.shared)
        .namespace(name)
        .cloned()
        .ok_or_else(|| Status::not_found("namespaces", name))?;
    Ok(json_response(StatusCode::OK, &ns))
}
