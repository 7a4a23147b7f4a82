//! The HTTP layer: authentication, authorization, routing and the handlers.
//!
//! Request flow as in kube-apiserver's filter chain
//! (`staging/src/k8s.io/apiserver/pkg/server/config.go` `DefaultBuildHandlerChain`):
//! authenticate the bearer token (an invalid token is a 401 even on public paths; no token is
//! `system:anonymous`, allowed only `/version`, `/healthz`, `/livez`, `/readyz` like the
//! `system:public-info-viewer` role), build the request attributes
//! (`endpoints/request/requestinfo.go`), authorize (403 with the real message), then serve.
//! Discovery (`/api`, `/apis`, `/api/v1`) is open to every authenticated user
//! (`system:discovery`); `/openapi/*` is a 404, which kubectl tolerates.

mod authn;
mod discovery;
mod list;
mod namespaces;
mod pods;
mod request;
mod service_accounts;
#[cfg(test)]
mod tests;

use std::convert::Infallible;
use std::sync::{Arc, MutexGuard};

use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, Limited};
use serde::Serialize;
use serde_json::{Value, json};

use crate::rbac::{Attributes, forbidden_message};
use crate::server::Shared;
use crate::status::Status;
use crate::store::Store;
use crate::table::{IncludeObject, wants_table};

use self::authn::authenticate;
use self::discovery::{
    api_resources, api_versions, openapi_v3_core, openapi_v3_root, version_info,
};
use self::namespaces::{get_namespace, list_namespaces};
use self::pods::{create_pod, delete_pod, get_pod, list_pods, update_pod, watch_pods};
use self::request::{Query, RequestInfo};
use self::service_accounts::{
    create_service_account, create_token, get_service_account, list_service_accounts,
};

/// The response body type.
pub type Body = BoxBody<Bytes, Infallible>;

/// The request header that makes a too-old watch answer HTTP 410 instead of an in-stream
/// `ERROR` event (a test knob).
pub const GONE_AS_STATUS_HEADER: &str = "x-pod-introspect-gone-as-status";

/// Largest accepted request body (kube-apiserver's `MaxRequestBodyBytes`, 3 MiB).
const MAX_BODY: usize = 3 * 1024 * 1024;

const JSON: &str = "application/json";
const TABLE_JSON: &str = "application/json;as=Table;v=v1;g=meta.k8s.io";

fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into()).boxed()
}

fn respond(code: StatusCode, content_type: &str, body: impl Into<Bytes>) -> Response<Body> {
    let mut r = Response::new(full(body));
    *r.status_mut() = code;
    if let Ok(v) = HeaderValue::from_str(content_type) {
        r.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache, private"),
    );
    r
}

fn json_response(code: StatusCode, value: &impl Serialize) -> Response<Body> {
    respond(code, JSON, serde_json::to_vec(value).unwrap_or_default())
}

fn status_response(status: &Status) -> Response<Body> {
    let code = StatusCode::from_u16(status.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    respond(code, JSON, status.to_json())
}

fn text_404() -> Response<Body> {
    respond(
        StatusCode::NOT_FOUND,
        "text/plain; charset=utf-8",
        "404 page not found\n",
    )
}

fn lock(shared: &Shared) -> MutexGuard<'_, Store> {
    match shared.store.lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    }
}

const PUBLIC_PATHS: &[&str] = &["/version", "/healthz", "/livez", "/readyz"];

/// Serves one request. Never panics on request input.
pub async fn handle(shared: Arc<Shared>, req: Request<hyper::body::Incoming>) -> Response<Body> {
    let path = req.uri().path().to_owned();
    let method = req.method().clone();
    // Client text, Go-quoted (`%q`) so it cannot forge log lines.
    tracing::debug!(
        method = %pod_introspect_kube::go_quote::quote(method.as_str()),
        uri = %pod_introspect_kube::go_quote::quote(&req.uri().to_string()),
        "request"
    );
    let user = match authenticate(&shared, &req) {
        Ok(u) => u,
        Err(()) => return status_response(&Status::unauthorized()),
    };
    let trimmed = if path.len() > 1 {
        path.trim_end_matches('/')
    } else {
        path.as_str()
    };
    if PUBLIC_PATHS.contains(&trimmed)
        || trimmed.starts_with("/healthz/")
        || trimmed.starts_with("/livez/")
        || trimmed.starts_with("/readyz/")
    {
        if method != Method::GET && method != Method::HEAD {
            return status_response(&Status::method_not_supported("", method.as_str()));
        }
        return if trimmed == "/version" {
            json_response(StatusCode::OK, &version_info())
        } else {
            respond(StatusCode::OK, "text/plain; charset=utf-8", "ok")
        };
    }
    let Some(user) = user else {
        return status_response(&Status::unauthorized());
    };
    match trimmed {
        "/api" => return json_response(StatusCode::OK, &api_versions(&shared)),
        "/apis" => {
            return json_response(
                StatusCode::OK,
                &json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": []}),
            );
        }
        "/api/v1" => return json_response(StatusCode::OK, &api_resources()),
        "/openapi/v3" => return json_response(StatusCode::OK, &openapi_v3_root()),
        "/openapi/v3/api/v1" => return json_response(StatusCode::OK, &openapi_v3_core()),
        _ => {}
    }
    let Some(rest) = trimmed.strip_prefix("/api/v1/") else {
        return text_404();
    };
    // Go's server hands the handlers `URL.Path`, the path unescaped (`+` stays `+`); a bad
    // escape never reaches them.
    let Some(segments) = rest
        .split('/')
        .map(pod_introspect_kube::percent::path_unescape)
        .collect::<Option<Vec<String>>>()
    else {
        return status_response(&Status::bad_request(format!(
            "invalid URL escape in the path {path:?}"
        )));
    };
    let query = Query::parse(req.uri().query());
    let info = match RequestInfo::new(&method, &segments, &query) {
        Some(info) => info,
        None => return status_response(&Status::path_not_found()),
    };
    let attrs = Attributes {
        verb: &info.verb,
        resource: &info.resource,
        subresource: &info.subresource,
        namespace: &info.namespace,
        name: &info.name,
    };
    if !shared.rbac.allows(&user, &attrs) {
        let message = forbidden_message(&user, &attrs);
        let status = if info.resource.is_empty() {
            Status::forbidden_path(&message)
        } else {
            Status::forbidden(&info.resource, &info.name, &message)
        };
        return status_response(&status);
    }
    let accept = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let table = wants_table(&accept).then(|| IncludeObject::parse(query.get("includeObject")));
    let gone_as_status = req
        .headers()
        .get(GONE_AS_STATUS_HEADER)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let body = if method == Method::POST || method == Method::PUT {
        match Limited::new(req.into_body(), MAX_BODY).collect().await {
            Ok(b) => b.to_bytes(),
            Err(e) => {
                return status_response(&Status::bad_request(format!(
                    "failed to read request body: {e}"
                )));
            }
        }
    } else {
        Bytes::new()
    };
    let ctx = Ctx {
        shared: &shared,
        info: &info,
        query: &query,
        table,
        gone_as_status,
        body,
    };
    match dispatch(&ctx) {
        Ok(r) => r,
        Err(status) => status_response(&status),
    }
}

struct Ctx<'a> {
    shared: &'a Shared,
    info: &'a RequestInfo,
    query: &'a Query,
    table: Option<IncludeObject>,
    gone_as_status: bool,
    body: Bytes,
}

fn dispatch(ctx: &Ctx<'_>) -> Result<Response<Body>, Status> {
    let i = ctx.info;
    match (i.resource.as_str(), i.subresource.as_str(), i.verb.as_str()) {
        ("pods", "", "list") => list_pods(ctx),
        ("pods", "", "watch") => watch_pods(ctx),
        ("pods", "", "get") => get_pod(ctx),
        ("pods", "", "create") if !i.namespace.is_empty() && i.name.is_empty() => create_pod(ctx),
        ("pods", "", "update") if !i.namespace.is_empty() => update_pod(ctx),
        ("pods", "", "delete") if !i.namespace.is_empty() => delete_pod(ctx),
        ("serviceaccounts", "", "list") => list_service_accounts(ctx),
        ("serviceaccounts", "", "get") if !i.namespace.is_empty() => get_service_account(ctx),
        ("serviceaccounts", "", "create") if !i.namespace.is_empty() && i.name.is_empty() => {
            create_service_account(ctx)
        }
        ("serviceaccounts", "token", "create") if !i.namespace.is_empty() => create_token(ctx),
        ("namespaces", "", "list") => list_namespaces(ctx),
        ("namespaces", "", "get") => get_namespace(ctx),
        ("pods" | "serviceaccounts" | "namespaces", "", verb) => {
            Err(Status::method_not_supported(&i.resource, verb))
        }
        _ => Err(Status::path_not_found()),
    }
}

fn decode_body<T: serde::de::DeserializeOwned>(
    ctx: &Ctx<'_>,
    kind: &str,
    api_version: &str,
) -> Result<T, Status> {
    let value: Value = serde_json::from_slice(&ctx.body)
        .map_err(|e| Status::bad_request(format!("the body of the request was in an unknown format - accepted media types include: application/json ({e})")))?;
    for (field, want) in [("kind", kind), ("apiVersion", api_version)] {
        if let Some(got) = value.get(field).and_then(Value::as_str)
            && got != want
        {
            return Err(Status::bad_request(format!(
                "{field} \"{got}\" does not match the expected \"{want}\""
            )));
        }
    }
    serde_json::from_value(value).map_err(|e| Status::bad_request(format!("invalid {kind}: {e}")))
}
