//! Pods: list (with Table output), watch, get, create, update and delete.

use std::time::Duration;

use http::{HeaderValue, Response, StatusCode, header};
use http_body_util::BodyExt;
use k8s_openapi::api::core::v1::Pod;
use serde::Serialize;
use serde_json::{Value, json};

use super::list::{
    decode_continue, encode_continue, list_body, list_meta, ns_opt, paginate, parse_limit,
    parse_rv, selectors,
};
use super::{Body, Ctx, JSON, TABLE_JSON, decode_body, json_response, lock, respond};
use crate::selectors::{FieldSelector, POD_FIELDS, pod_field};
use crate::status::Status;
use crate::table::pods_table;
use crate::watch::{self, WatchRequest, WatchStart};

/// The default watch lifetime without `timeoutSeconds` (`--min-request-timeout`).
pub(super) const DEFAULT_WATCH_TIMEOUT: Duration = Duration::from_secs(1800);

pub(super) fn pod_key(p: &Pod) -> String {
    format!(
        "{}/{}",
        p.metadata.namespace.as_deref().unwrap_or(""),
        p.metadata.name.as_deref().unwrap_or("")
    )
}

pub(super) fn list_pods(ctx: &Ctx<'_>) -> Result<Response<Body>, Status> {
    let (labels, fields) = selectors(ctx.query, POD_FIELDS)?;
    parse_rv(ctx.query.get("resourceVersion"))?;
    let limit = parse_limit(ctx.query)?;
    let cont = match ctx.query.get("continue").filter(|c| !c.is_empty()) {
        Some(c) => Some(decode_continue(c)?),
        None => None,
    };
    let (rv, pods) = {
        let store = lock(ctx.shared);
        let rv = cont
            .as_ref()
            .map(|c| c.rv)
            .unwrap_or_else(|| store.resource_version());
        let pods = store
            .pods_at(ns_opt(ctx.info), Some(rv))
            .map_err(|()| Status::continue_expired())?;
        (rv, pods)
    };
    let keyed: Vec<(String, Pod)> = pods
        .into_iter()
        .filter(|p| {
            labels.matches(p.metadata.labels.as_ref()) && fields.matches(|f| pod_field(p, f))
        })
        .map(|p| (pod_key(&p), p))
        .collect();
    let start = cont
        .as_ref()
        .map(|c| c.start.trim_end_matches('\u{0}').to_owned());
    let (page, last, remaining) = paginate(keyed, start.as_deref(), limit);
    let selected = !labels.is_empty()
        || ctx
            .query
            .get("fieldSelector")
            .is_some_and(|f| !f.is_empty());
    let meta = list_meta(
        rv,
        last.map(|k| encode_continue(rv, &k)),
        (!selected).then_some(remaining),
    );
    if let Some(include) = ctx.table {
        return Ok(respond(
            StatusCode::OK,
            TABLE_JSON,
            serde_json::to_vec(&pods_table(&page, meta, include)).unwrap_or_default(),
        ));
    }
    let items = page
        .iter()
        .map(|p| serde_json::to_value(p).unwrap_or(Value::Null))
        .collect();
    Ok(json_response(
        StatusCode::OK,
        &list_body("PodList", meta, items),
    ))
}

pub(super) fn watch_pods(ctx: &Ctx<'_>) -> Result<Response<Body>, Status> {
    let (labels, mut fields) = selectors(ctx.query, POD_FIELDS)?;
    if !ctx.info.name.is_empty() {
        // A watch on one object is a watch on the collection narrowed to its name.
        let escaped = ctx
            .info
            .name
            .replace('\\', "\\\\")
            .replace(',', "\\,")
            .replace('=', "\\=");
        let narrowed = format!(
            "{},metadata.name={escaped}",
            ctx.query.get("fieldSelector").unwrap_or("")
        );
        fields = FieldSelector::parse(&narrowed, POD_FIELDS).map_err(Status::bad_request)?;
    }
    let resource_version = parse_rv(ctx.query.get("resourceVersion"))?;
    // kube-apiserver treats a missing or zero timeoutSeconds as "the server's default"
    // (staging/src/k8s.io/apiserver/pkg/endpoints/handlers/get.go, ListResource).
    let timeout = match ctx.query.get("timeoutSeconds") {
        Some(t) if !t.is_empty() => match t.parse::<u64>().map_err(|_| {
            Status::bad_request(format!(
                "timeoutSeconds: Invalid value: \"{t}\": must be a non-negative integer"
            ))
        })? {
            0 => DEFAULT_WATCH_TIMEOUT,
            secs => Duration::from_secs(secs),
        },
        _ => DEFAULT_WATCH_TIMEOUT,
    };
    let req = WatchRequest {
        namespace: ns_opt(ctx.info).map(str::to_owned),
        labels,
        fields,
        resource_version,
        bookmarks: ctx.query.flag("allowWatchBookmarks"),
        timeout,
        bookmark_interval: ctx.shared.bookmark_interval,
        table: ctx.table,
    };
    let content_type = if ctx.table.is_some() {
        TABLE_JSON
    } else {
        JSON
    };
    let body = match watch::start(&ctx.shared.store, req) {
        WatchStart::Stream(body) => body,
        WatchStart::TooOld(status) if ctx.gone_as_status => return Err(status),
        WatchStart::TooOld(status) => watch::single_line_body(watch::error_event(&status)),
    };
    let mut r = Response::new(body.boxed());
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache, private"),
    );
    Ok(r)
}

pub(super) fn object_response<T: Serialize>(
    ctx: &Ctx<'_>,
    code: StatusCode,
    pod: Option<&Pod>,
    obj: &T,
) -> Response<Body> {
    match (ctx.table, pod) {
        (Some(include), Some(p)) => {
            let meta =
                json!({"resourceVersion": p.metadata.resource_version.clone().unwrap_or_default()});
            respond(
                code,
                TABLE_JSON,
                serde_json::to_vec(&pods_table(std::slice::from_ref(p), meta, include))
                    .unwrap_or_default(),
            )
        }
        _ => json_response(code, obj),
    }
}

pub(super) fn get_pod(ctx: &Ctx<'_>) -> Result<Response<Body>, Status> {
    let i = ctx.info;
    if i.namespace.is_empty() {
        return Err(Status::path_not_found());
    }
    let pod = lock(ctx.shared)
        .pod(&i.namespace, &i.name)
        .cloned()
        .ok_or_else(|| Status::not_found("pods", &i.name))?;
    Ok(object_response(ctx, StatusCode::OK, Some(&pod), &pod))
}

pub(super) fn create_pod(ctx: &Ctx<'_>) -> Result<Response<Body>, Status> {
    let pod: Pod = decode_body(ctx, "Pod", "v1")?;
    let created = lock(ctx.shared).create_pod(pod, &ctx.info.namespace)?;
    Ok(object_response(
        ctx,
        StatusCode::CREATED,
        Some(&created),
        &created,
    ))
}

pub(super) fn update_pod(ctx: &Ctx<'_>) -> Result<Response<Body>, Status> {
    let pod: Pod = decode_body(ctx, "Pod", "v1")?;
    let updated = lock(ctx.shared).update_pod(pod, &ctx.info.namespace, &ctx.info.name, true)?;
    Ok(object_response(
        ctx,
        StatusCode::OK,
        Some(&updated),
        &updated,
    ))
}

pub(super) fn delete_pod(ctx: &Ctx<'_>) -> Result<Response<Body>, Status> {
    let deleted = lock(ctx.shared).delete_pod(&ctx.info.namespace, &ctx.info.name)?;
    Ok(object_response(
        ctx,
        StatusCode::OK,
        Some(&deleted),
        &deleted,
    ))
}
