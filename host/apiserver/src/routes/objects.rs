//! The generic REST handlers every stored resource shares: get, list, watch, create, update,
//! patch, delete and deletecollection, for the main resource and its `status` subresource.
//!
//! Upstream: `staging/src/k8s.io/apiserver/pkg/endpoints/handlers/` (`get.go`, `create.go`,
//! `update.go`, `patch.go`, `delete.go`, `watch.go`) over the generic registry
//! (`pkg/registry/generic/registry/store.go`, see [`crate::store`]). Objects of a second view
//! (events.k8s.io events) are converted at the edge ([`crate::views`]).

use std::time::Duration;

use http::{HeaderValue, Response, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};

use super::list::{
    decode_continue, encode_continue, list_meta, ns_opt, paginate, parse_limit, parse_rv,
};
use super::{Body, Ctx, JSON, TABLE_JSON, json_response, lock, respond, to_vec};
use crate::resources::ResourceType;
use crate::selectors::{FieldSelector, LabelSelector};
use crate::status::Status;
use crate::store::{DeleteOptions, Deleted, Part, meta};
use crate::table;
use crate::views;
use crate::watch::{self, WatchRequest, WatchStart};

/// The default watch lifetime without `timeoutSeconds` (`--min-request-timeout`).
pub(super) const DEFAULT_WATCH_TIMEOUT: Duration = Duration::from_secs(1800);

/// Serves `ctx`'s verb on the main resource or (`part` = [`Part::Status`]) its status.
pub(super) fn handle(ctx: &Ctx<'_>, part: Part) -> Result<Response<Body>, Status> {
    match ctx.info.verb.as_str() {
        "get" => get(ctx),
        "list" => list(ctx),
        "watch" => watch_objects(ctx),
        "create" if ctx.info.name.is_empty() => create(ctx),
        "update" => update(ctx, part),
        "patch" => patch(ctx, part),
        "delete" => delete(ctx),
        "deletecollection" => delete_collection(ctx),
        verb => Err(crate::errors::method_not_supported(ctx.resource, verb)),
    }
}

/// The store's row for `ctx.resource`.
fn storage(ctx: &Ctx<'_>) -> &'static ResourceType {
    crate::resources::storage_of(ctx.resource)
}

/// A response with one object, or a one-row `Table` when asked for.
pub(super) fn object_response(ctx: &Ctx<'_>, code: StatusCode, obj: Value) -> Response<Body> {
    match ctx.table {
        Some(include) => {
            let meta = json!({"resourceVersion": meta::resource_version(&obj)});
            respond(
                code,
                TABLE_JSON,
                to_vec(&table::table(
                    ctx.resource,
                    std::slice::from_ref(&obj),
                    meta,
                    include,
                )),
            )
        }
        None => json_response(code, &obj),
    }
}

/// The stored object the request names, as its resource serves it; 404 otherwise.
pub(super) fn current(ctx: &Ctx<'_>) -> Result<Value, Status> {
    let i = ctx.info;
    lock(ctx.shared)
        .get(storage(ctx), ctx.ns(), &i.name)
        .cloned()
        .map(|o| views::to_view(ctx.resource, o))
        .ok_or_else(|| crate::errors::not_found(ctx.resource, &i.name))
}

fn get(ctx: &Ctx<'_>) -> Result<Response<Body>, Status> {
    Ok(object_response(ctx, StatusCode::OK, current(ctx)?))
}

/// `labelSelector` and `fieldSelector` for `r` (`field label not supported: X` otherwise).
fn selectors(ctx: &Ctx<'_>) -> Result<(LabelSelector, FieldSelector), Status> {
    let names = ctx.resource.field_names();
    let labels = LabelSelector::parse(ctx.query.get("labelSelector").unwrap_or(""))
        .map_err(Status::bad_request)?;
    let fields = FieldSelector::parse(ctx.query.get("fieldSelector").unwrap_or(""), &names)
        .map_err(Status::bad_request)?;
    Ok((labels, fields))
}

fn selected(r: &ResourceType, labels: &LabelSelector, fields: &FieldSelector, o: &Value) -> bool {
    crate::selectors::selects(Some(r), labels, fields, o)
}

fn list(ctx: &Ctx<'_>) -> Result<Response<Body>, Status> {
    let (labels, fields) = selectors(ctx)?;
    if ctx.query.flag("sendInitialEvents") {
        return Err(list_options_invalid(
            "sendInitialEvents: Forbidden: sendInitialEvents is forbidden for list",
        ));
    }
    let requested = parse_rv(ctx.query.get("resourceVersion"))?;
    let exact = match ctx.query.get("resourceVersionMatch").unwrap_or("") {
        "" | "NotOlderThan" => false,
        "Exact" => true,
        other => {
            return Err(list_options_invalid(&format!(
                "resourceVersionMatch: Unsupported value: \"{other}\": supported values: \"Exact\", \"NotOlderThan\", \"\""
            )));
        }
    };
    let limit = parse_limit(ctx.query)?;
    let cont = match ctx.query.get("continue").filter(|c| !c.is_empty()) {
        Some(c) => Some(decode_continue(c)?),
        None => None,
    };
    let r = ctx.resource;
    let (rv, objects) = {
        let store = lock(ctx.shared);
        // A resourceVersion the server has not reached yet: the watch cache waits for it, then
        // answers 504 `Too large resource version` (`storage.NewTooLargeResourceVersionError`);
        // this store is never behind, so the answer is at once.
        if let Some(want) = requested.filter(|rv| *rv > store.resource_version()) {
            return Err(Status::too_large_resource_version(
                want,
                store.resource_version(),
            ));
        }
        let at = match (&cont, requested) {
            (Some(c), _) => Some(c.rv),
            (None, Some(rv)) if exact => Some(rv),
            _ => None,
        };
        let rv = at.unwrap_or_else(|| store.resource_version());
        let objects = store
            .list(storage(ctx), ns_opt(ctx.info), at)
            .map_err(|()| match cont {
                Some(_) => Status::continue_expired(),
                None => Status::too_old_resource_version(rv, store.floor()),
            })?;
        (rv, objects)
    };
    let keyed: Vec<(String, Value)> = objects
        .into_iter()
        .map(|o| views::to_view(r, o))
        .filter(|o| selected(r, &labels, &fields, o))
        .map(|o| (format!("{}/{}", meta::namespace(&o), meta::name(&o)), o))
        .collect();
    let start = cont
        .as_ref()
        .map(|c| c.start.trim_end_matches('\u{0}').to_owned());
    let (page, last, remaining) = paginate(keyed, start.as_deref(), limit);
    let selecting = !labels.is_empty()
        || ctx
            .query
            .get("fieldSelector")
            .is_some_and(|f| !f.is_empty());
    let meta = list_meta(
        rv,
        last.map(|k| encode_continue(rv, &k)),
        (!selecting).then_some(remaining),
    );
    if let Some(include) = ctx.table {
        return Ok(respond(
            StatusCode::OK,
            TABLE_JSON,
            to_vec(&table::table(r, &page, meta, include)),
        ));
    }
    Ok(json_response(
        StatusCode::OK,
        &json!({
            "kind": format!("{}List", r.kind),
            "apiVersion": r.api_version(),
            "metadata": meta,
            "items": page,
        }),
    ))
}

/// 422 for bad list options (`pkg/apis/meta/internalversion/validation/validation.go`
/// `ValidateListOptions`).
fn list_options_invalid(cause: &str) -> Status {
    crate::errors::options_invalid("ListOptions", cause)
}

fn watch_objects(ctx: &Ctx<'_>) -> Result<Response<Body>, Status> {
    let (labels, mut fields) = selectors(ctx)?;
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
        fields = FieldSelector::parse(&narrowed, &ctx.resource.field_names())
            .map_err(Status::bad_request)?;
    }
    let resource_version = parse_rv(ctx.query.get("resourceVersion"))?;
    let send_initial_events = ctx.query.flag("sendInitialEvents");
    let bookmarks = ctx.query.flag("allowWatchBookmarks");
    let rv_match = ctx.query.get("resourceVersionMatch").unwrap_or("");
    if send_initial_events || ctx.query.get("sendInitialEvents") == Some("false") {
        if rv_match != "NotOlderThan" {
            return Err(list_options_invalid(
                "resourceVersionMatch: Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan",
            ));
        }
        if send_initial_events && !bookmarks {
            return Err(list_options_invalid(
                "allowWatchBookmarks: Forbidden: sendInitialEvents requires setting allowWatchBookmarks to true",
            ));
        }
    } else if !rv_match.is_empty() {
        return Err(list_options_invalid(
            "resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided",
        ));
    }
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
        resource: ctx.resource,
        namespace: ns_opt(ctx.info).map(str::to_owned),
        labels,
        fields,
        resource_version,
        send_initial_events,
        bookmarks,
        timeout,
        bookmark_interval: ctx.shared.bookmark_interval,
        table: ctx.table,
    };
    let content_type = if ctx.table.is_some() {
        TABLE_JSON
    } else {
        JSON
    };
    let open = ctx
        .shared
        .metrics
        .long_running(crate::metrics::LongRunningLabels::watch(
            &ctx.info.group,
            &ctx.info.version,
            &ctx.info.resource,
            ns_opt(ctx.info),
            !ctx.info.name.is_empty(),
        ));
    let body = match watch::start(&ctx.shared.store, req, open) {
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

/// The request body as JSON: `application/json` (also when no `Content-Type` is given),
/// `application/yaml`, or `application/vnd.kubernetes.protobuf` for the kinds
/// [`crate::protobuf`] decodes; any other media type (CBOR) is `415 UnsupportedMediaType`
/// naming the accepted ones (`negotiation.NegotiateInputSerializer`); a body that does not
/// decode is 400 (protobuf: 415 with what it could not decode).
pub(super) fn body_value(ctx: &Ctx<'_>) -> Result<Value, Status> {
    let media = ctx.content_type.split(';').next().unwrap_or("").trim();
    const ACCEPTED: &str = "accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf";
    if media == "application/vnd.kubernetes.protobuf" {
        return crate::protobuf::decode_object(&ctx.body).map_err(|e| {
            Status::new(
                415,
                "UnsupportedMediaType",
                format!("the body of the request was in an unknown format - {e}"),
                None,
            )
        });
    }
    let yaml = match media {
        "" | "application/json" | "*/*" => false,
        "application/yaml" => true,
        _ => {
            return Err(Status::new(
                415,
                "UnsupportedMediaType",
                format!("the body of the request was in an unknown format - {ACCEPTED}"),
                None,
            ));
        }
    };
    let parsed: Result<Value, String> = if yaml {
        let text = std::str::from_utf8(&ctx.body).map_err(|e| e.to_string());
        text.and_then(|t| serde_saphyr::from_str(t).map_err(|e| e.to_string()))
    } else {
        serde_json::from_slice(&ctx.body).map_err(|e| e.to_string())
    };
    parsed.map_err(|e| {
        Status::bad_request(format!("the body of the request could not be decoded: {e}"))
    })
}

/// The `apiVersion` and `kind` of a body must be the resource's (when set).
fn check_type(r: &ResourceType, obj: &Value) -> Result<(), Status> {
    let api_version = obj["apiVersion"].as_str().unwrap_or("");
    let kind = obj["kind"].as_str().unwrap_or("");
    if !api_version.is_empty() && api_version != r.api_version() {
        return Err(Status::bad_request(format!(
            "the API version in the data ({api_version}) does not match the expected API version ({})",
            r.api_version()
        )));
    }
    if !kind.is_empty() && kind != r.kind {
        return Err(Status::bad_request(format!(
            "the kind in the data ({kind}) does not match the expected kind ({})",
            r.kind
        )));
    }
    Ok(())
}

/// `fieldValidation` (`Ignore`, `Warn` (the default), `Strict`): the fields of `given` that
/// the type does not have. Strict refuses them with upstream's `strict decoding error`; Warn
/// returns them for `Warning` headers.
pub(super) fn field_validation(ctx: &Ctx<'_>, given: &Value) -> Result<Vec<String>, Status> {
    let mode = ctx.query.get("fieldValidation").unwrap_or("Warn");
    if !matches!(mode, "Ignore" | "Warn" | "Strict") {
        return Err(Status::bad_request(format!(
            "fieldValidation: Invalid value: \"{mode}\": fieldValidation must be one of \"Ignore\", \"Warn\", or \"Strict\""
        )));
    }
    if mode == "Ignore" {
        return Ok(Vec::new());
    }
    let storage_form = views::from_view(ctx.resource, given.clone());
    let mut typed = storage_form.clone();
    typed["apiVersion"] = json!(storage(ctx).api_version());
    typed["kind"] = json!(storage(ctx).kind);
    let Ok(normalized) = (storage(ctx).normalize)(typed) else {
        return Ok(Vec::new());
    };
    let mut unknown = Vec::new();
    unknown_fields(&storage_form, &normalized, "", &mut unknown);
    let r = ctx.resource;
    if mode == "Strict" && !unknown.is_empty() {
        let list: Vec<String> = unknown
            .iter()
            .map(|f| format!("unknown field {}", pod_introspect_kube::go_quote::quote(f)))
            .collect();
        return Err(Status::bad_request(format!(
            "{} in version \"{}\" cannot be handled as a {}: strict decoding error: {}",
            r.kind,
            r.version,
            r.kind,
            list.join(", ")
        )));
    }
    Ok(unknown)
}

/// Paths (`spec.foo`, `spec.containers[0].bar`) present in `given` and absent from
/// `normalized` (the same object after a round trip through the type); `null`s do not count.
fn unknown_fields(given: &Value, normalized: &Value, at: &str, out: &mut Vec<String>) {
    match (given, normalized) {
        (Value::Object(g), Value::Object(n)) => {
            for (k, v) in g {
                if v.is_null() || (at.is_empty() && (k == "apiVersion" || k == "kind")) {
                    continue;
                }
                let path = if at.is_empty() {
                    k.clone()
                } else {
                    format!("{at}.{k}")
                };
                match n.get(k) {
                    Some(nv) => unknown_fields(v, nv, &path, out),
                    None => {
                        let empty = matches!(v, Value::Object(m) if m.is_empty())
                            || matches!(v, Value::Array(a) if a.is_empty());
                        if !empty {
                            out.push(path);
                        }
                    }
                }
            }
        }
        (Value::Array(g), Value::Array(n)) => {
            for (i, (gv, nv)) in g.iter().zip(n).enumerate() {
                unknown_fields(gv, nv, &format!("{at}[{i}]"), out);
            }
        }
        _ => {}
    }
}

/// Adds a `Warning: 299 - "..."` header per message (RFC 7234 §5.5, as kube-apiserver's
/// `warning.AddWarning`).
pub(super) fn with_warnings(mut r: Response<Body>, unknown: &[String]) -> Response<Body> {
    for f in unknown {
        let text = format!(
            "299 - {}",
            pod_introspect_kube::go_quote::quote(&format!(
                "unknown field {}",
                pod_introspect_kube::go_quote::quote(f)
            ))
        );
        if let Ok(v) = HeaderValue::from_str(&text) {
            r.headers_mut().append(header::WARNING, v);
        }
    }
    r
}

fn create(ctx: &Ctx<'_>) -> Result<Response<Body>, Status> {
    let given = body_value(ctx)?;
    check_type(ctx.resource, &given)?;
    let unknown = field_validation(ctx, &given)?;
    let dry_run = ctx.dry_run()?;
    let mut obj = views::from_view(ctx.resource, given);
    ctx.record_update(None, &mut obj);
    let mut store = lock(ctx.shared);
    ctx.confirm_no_escalation(&store, &obj)?;
    let created = store.create(storage(ctx), ctx.ns(), obj, dry_run)?;
    drop(store);
    let created = views::to_view(ctx.resource, created);
    Ok(with_warnings(
        object_response(ctx, StatusCode::CREATED, created),
        &unknown,
    ))
}

fn update(ctx: &Ctx<'_>, part: Part) -> Result<Response<Body>, Status> {
    let given = body_value(ctx)?;
    check_type(ctx.resource, &given)?;
    let unknown = field_validation(ctx, &given)?;
    let dry_run = ctx.dry_run()?;
    let mut obj = views::from_view(ctx.resource, given);
    let i = ctx.info;
    let mut store = lock(ctx.shared);
    let old = store.get(storage(ctx), ctx.ns(), &i.name).cloned();
    ctx.record_update(old.as_ref(), &mut obj);
    ctx.confirm_no_escalation(&store, &obj)?;
    let (code, stored) =
        if old.is_none() && part == Part::Main && ctx.resource.allows_create_on_update() {
            if meta::name(&obj).is_empty() {
                meta::set(&mut obj, "name", json!(i.name));
            }
            if meta::name(&obj) != i.name {
                return Err(Status::bad_request(format!(
                    "the name of the object ({}) does not match the name on the URL ({})",
                    meta::name(&obj),
                    i.name
                )));
            }
            (
                StatusCode::CREATED,
                store.create(storage(ctx), ctx.ns(), obj, dry_run)?,
            )
        } else {
            (
                StatusCode::OK,
                store.update(storage(ctx), ctx.ns(), &i.name, obj, part, dry_run)?,
            )
        };
    drop(store);
    let stored = views::to_view(ctx.resource, stored);
    Ok(with_warnings(object_response(ctx, code, stored), &unknown))
}

fn patch(ctx: &Ctx<'_>, part: Part) -> Result<Response<Body>, Status> {
    let dry_run = ctx.dry_run()?;
    let i = ctx.info;
    let mut store = lock(ctx.shared);
    let existing = store
        .get(storage(ctx), ctx.ns(), &i.name)
        .cloned()
        .map(|o| views::to_view(ctx.resource, o));
    let outcome = super::patch::apply(ctx, existing.as_ref())?;
    let mut obj = views::from_view(ctx.resource, outcome.object);
    if !outcome.applied {
        let old = existing.clone().map(|o| views::from_view(ctx.resource, o));
        ctx.record_update(old.as_ref(), &mut obj);
    }
    ctx.confirm_no_escalation(&store, &obj)?;
    let (code, result) = if existing.is_none() {
        // Only server-side apply creates (`patch.go` `applyPatcher` with create-on-update).
        let created = store.create(storage(ctx), ctx.ns(), obj, dry_run)?;
        (StatusCode::CREATED, created)
    } else {
        let updated = store.update(storage(ctx), ctx.ns(), &i.name, obj, part, dry_run)?;
        (StatusCode::OK, updated)
    };
    drop(store);
    let result = views::to_view(ctx.resource, result);
    Ok(with_warnings(
        object_response(ctx, code, result),
        &outcome.unknown,
    ))
}

/// `DeleteOptions` from the body (optional) and the query (`gracePeriodSeconds`,
/// `propagationPolicy`, `preconditions` only in the body), validated as
/// `ValidateDeleteOptions` does.
fn delete_options(ctx: &Ctx<'_>) -> Result<DeleteOptions, Status> {
    let body: Value = if ctx.body.is_empty() {
        json!({})
    } else {
        body_value(ctx)?
    };
    let propagation = body["propagationPolicy"]
        .as_str()
        .map(str::to_owned)
        .or_else(|| ctx.query.get("propagationPolicy").map(str::to_owned));
    if let Some(p) = propagation.as_deref()
        && !matches!(p, "Orphan" | "Background" | "Foreground")
    {
        return Err(crate::errors::options_invalid(
            "DeleteOptions",
            &format!(
                "propagationPolicy: Unsupported value: \"{p}\": supported values: \"Foreground\", \"Background\", \"Orphan\", \"nil\""
            ),
        ));
    }
    let grace = match body["gracePeriodSeconds"].as_i64() {
        Some(g) => Some(g),
        None => match ctx.query.get("gracePeriodSeconds") {
            Some(g) => Some(g.parse::<i64>().map_err(|_| {
                Status::bad_request(format!(
                    "gracePeriodSeconds: Invalid value: \"{g}\": must be an integer"
                ))
            })?),
            None => None,
        },
    };
    let pre = &body["preconditions"];
    Ok(DeleteOptions {
        uid: pre["uid"].as_str().map(str::to_owned),
        resource_version: pre["resourceVersion"].as_str().map(str::to_owned),
        grace_period_seconds: grace,
    })
}

/// True for the resources whose `DELETE` answers the deleted object rather than a `Success`
/// Status (`ReturnDeletedObject` in their `storage.go`: pods, services, namespaces,
/// persistentvolumeclaims).
fn returns_deleted_object(r: &ResourceType) -> bool {
    r.group.is_empty()
        && matches!(
            r.resource,
            "pods" | "services" | "namespaces" | "persistentvolumeclaims"
        )
}

fn delete(ctx: &Ctx<'_>) -> Result<Response<Body>, Status> {
    let opts = delete_options(ctx)?;
    let dry_run = ctx.dry_run()?;
    let i = ctx.info;
    let outcome = lock(ctx.shared).delete(storage(ctx), ctx.ns(), &i.name, &opts, dry_run)?;
    let r = ctx.resource;
    Ok(match outcome {
        Deleted::Pending(obj) => object_response(ctx, StatusCode::ACCEPTED, views::to_view(r, obj)),
        Deleted::Gone(obj) if returns_deleted_object(r) => {
            object_response(ctx, StatusCode::OK, views::to_view(r, obj))
        }
        Deleted::Gone(obj) => json_response(
            StatusCode::OK,
            &json!({
                "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                "details": {"name": i.name, "group": r.group, "kind": r.resource, "uid": meta::uid(&obj)},
            }),
        ),
    })
}

fn delete_collection(ctx: &Ctx<'_>) -> Result<Response<Body>, Status> {
    let (labels, fields) = selectors(ctx)?;
    let opts = delete_options(ctx)?;
    let dry_run = ctx.dry_run()?;
    let r = ctx.resource;
    let mut store = lock(ctx.shared);
    let targets: Vec<Value> = store
        .list(storage(ctx), ns_opt(ctx.info), None)
        .unwrap_or_default()
        .into_iter()
        .map(|o| views::to_view(r, o))
        .filter(|o| selected(r, &labels, &fields, o))
        .collect();
    let mut items = Vec::new();
    for t in targets {
        let (ns, name) = (meta::namespace(&t).to_owned(), meta::name(&t).to_owned());
        match store.delete(storage(ctx), &ns, &name, &opts, dry_run)? {
            Deleted::Gone(o) | Deleted::Pending(o) => items.push(views::to_view(r, o)),
        }
    }
    let rv = store.resource_version();
    drop(store);
    Ok(json_response(
        StatusCode::OK,
        &json!({
            "kind": format!("{}List", r.kind), "apiVersion": r.api_version(),
            "metadata": {"resourceVersion": rv.to_string()}, "items": items,
        }),
    ))
}
