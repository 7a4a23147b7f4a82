//! The HTTP layer: authentication, authorization, routing and the handlers.
//!
//! Request flow as in kube-apiserver's filter chain
//! (`staging/src/k8s.io/apiserver/pkg/server/config.go` `DefaultBuildHandlerChain`):
//! authenticate the bearer token (an invalid token is a 401 even on public paths; no token is
//! `system:anonymous`, allowed only `/version`, `/healthz`, `/livez`, `/readyz` like the
//! `system:public-info-viewer` role), build the request attributes
//! (`endpoints/request/requestinfo.go`), authorize (403 with the real message), then serve.
//! Discovery (`/api`, `/apis`, `/api/v1`) is open to every authenticated user
//! (`system:discovery`); `/openapi/*` serves the documents of [`crate::openapi`].

mod authn;
mod compression;
mod discovery;
mod list;
mod objects;
mod openapi;
mod patch;
mod request;
mod reviews;
mod scale;
#[cfg(test)]
mod tests;
mod token;

use std::convert::Infallible;
use std::sync::{Arc, MutexGuard};

use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, Limited};
use serde::Serialize;
use serde_json::Value;

use crate::rbac::{Attributes, UserInfo, forbidden_message};
use crate::resources::{self, ResourceType, Storage};
use crate::server::Shared;
use crate::status::Status;
use crate::store::Store;
use crate::table::{IncludeObject, wants_table};

use self::authn::authenticate;
use self::discovery::{
    AGGREGATED_V2, aggregated, api_group, api_groups, api_resources, api_versions, root_paths,
    version_info, wants_aggregated,
};
use self::request::{Query, RequestInfo};

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

/// Serves one request; a whole response over 128 KiB is gzipped when the client accepts it
/// ([`compression`]). Never panics on request input.
pub async fn handle(shared: Arc<Shared>, req: Request<hyper::body::Incoming>) -> Response<Body> {
    let gzip = compression::accepts_gzip(req.headers());
    let method = req.method().clone();
    let resp = serve(shared, req).await;
    if gzip {
        compression::compress(&method, resp).await
    } else {
        resp
    }
}

async fn serve(shared: Arc<Shared>, req: Request<hyper::body::Incoming>) -> Response<Body> {
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
    let accept = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let aggregated_ok = wants_aggregated(&accept);
    if trimmed == "/metrics" {
        return metrics_response(&shared, &user, &method);
    }
    match trimmed {
        "/" => return json_response(StatusCode::OK, &root_paths()),
        "/api" if aggregated_ok => {
            return respond(StatusCode::OK, AGGREGATED_V2, to_vec(&aggregated(true)));
        }
        "/apis" if aggregated_ok => {
            return respond(StatusCode::OK, AGGREGATED_V2, to_vec(&aggregated(false)));
        }
        "/api" => return json_response(StatusCode::OK, &api_versions(&shared)),
        "/apis" => return json_response(StatusCode::OK, &api_groups()),
        _ => {}
    }
    if let Some(r) = openapi::handle(&path, req.uri().query(), req.headers()) {
        return r;
    }
    // `/api/v1/...` or `/apis/GROUP/VERSION/...`.
    let (group, version, rest) = if let Some(rest) = trimmed.strip_prefix("/api/") {
        let (v, rest) = rest.split_once('/').unwrap_or((rest, ""));
        ("", v, rest)
    } else if let Some(rest) = trimmed.strip_prefix("/apis/") {
        let mut parts = rest.splitn(3, '/');
        let g = parts.next().unwrap_or("");
        match parts.next() {
            None => {
                return match api_group(g) {
                    Some(v) => json_response(StatusCode::OK, &v),
                    None => text_404(),
                };
            }
            Some(v) => (g, v, parts.next().unwrap_or("")),
        }
    } else {
        return text_404();
    };
    if rest.is_empty() {
        return match api_resources(group, version) {
            Some(v) => json_response(StatusCode::OK, &v),
            None => text_404(),
        };
    }
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
    let info = match RequestInfo::new(&method, group, version, &segments, &query) {
        Some(info) => info,
        None => return status_response(&Status::path_not_found()),
    };
    let attrs = Attributes {
        verb: &info.verb,
        api_group: &info.group,
        resource: &info.resource,
        subresource: &info.subresource,
        namespace: &info.namespace,
        name: &info.name,
    };
    let allowed = {
        let store = lock(&shared);
        shared.rbac.allows(&user, &attrs) || crate::rbac::allowed_by_objects(&store, &user, &attrs)
    };
    if !allowed {
        let message = forbidden_message(&user, &attrs);
        let qualified = if info.group.is_empty() {
            info.resource.clone()
        } else {
            format!("{}.{}", info.resource, info.group)
        };
        let status = if info.resource.is_empty() {
            Status::forbidden_path(&message)
        } else {
            let mut s = Status::forbidden(&qualified, &info.name, &message);
            if let Some(d) = s.details.as_mut() {
                d.kind = info.resource.clone();
                d.group = info.group.clone();
            }
            s
        };
        return status_response(&status);
    }
    let Some(resource) = resources::find(&info.group, &info.version, &info.resource) else {
        return status_response(&Status::path_not_found());
    };
    let table = wants_table(&accept).then(|| IncludeObject::parse(query.get("includeObject")));
    let gone_as_status = req
        .headers()
        .get(GONE_AS_STATUS_HEADER)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let user_agent = req
        .headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let body = if matches!(
        method,
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    ) {
        match Limited::new(req.into_body(), MAX_BODY).collect().await {
            Ok(b) => b.to_bytes(),
            Err(e) => {
                let status = if e.is::<http_body_util::LengthLimitError>() {
                    Status::new(
                        413,
                        "RequestEntityTooLarge",
                        format!("Request entity too large: limit is {MAX_BODY}"),
                        None,
                    )
                } else {
                    Status::bad_request(format!("failed to read request body: {e}"))
                };
                return status_response(&status);
            }
        }
    } else {
        Bytes::new()
    };
    let ctx = Ctx {
        shared: &shared,
        info: &info,
        resource,
        user: &user,
        query: &query,
        table,
        gone_as_status,
        content_type,
        user_agent,
        body,
    };
    match dispatch(&ctx) {
        Ok(r) => r,
        Err(status) => status_response(&status),
    }
}

/// `GET /metrics` ([`crate::metrics`]): RBAC `get` on the non-resource path, else 403 with
/// `forbiddenMessage`'s path text.
fn metrics_response(shared: &Shared, user: &UserInfo, method: &Method) -> Response<Body> {
    if method != Method::GET && method != Method::HEAD {
        return status_response(&Status::method_not_supported("", method.as_str()));
    }
    let allowed = crate::rbac::allows_non_resource(&lock(shared), user, "get", "/metrics");
    if !allowed {
        return status_response(&Status::forbidden_path(&format!(
            "User \"{}\" cannot get path \"/metrics\"",
            user.name
        )));
    }
    respond(
        StatusCode::OK,
        crate::metrics::CONTENT_TYPE,
        shared.metrics.render(),
    )
}

/// One resource request, parsed, authenticated and authorized.
struct Ctx<'a> {
    shared: &'a Shared,
    info: &'a RequestInfo,
    /// The resource the path names (a view: `events.k8s.io` events are stored as core events).
    resource: &'static ResourceType,
    user: &'a crate::rbac::UserInfo,
    query: &'a Query,
    table: Option<IncludeObject>,
    gone_as_status: bool,
    content_type: String,
    /// `User-Agent`, whose prefix names the field manager of a write without `fieldManager`.
    user_agent: String,
    body: Bytes,
}

impl Ctx<'_> {
    /// The field manager of a non-apply write: `fieldManager`, else the user agent's prefix
    /// (`manager_or_user_agent`).
    fn manager(&self) -> String {
        crate::apply::manager_or_user_agent(
            self.query.get("fieldManager").unwrap_or(""),
            &self.user_agent,
        )
    }

    /// [`crate::rbac::confirm_no_escalation`] for an RBAC object about to be stored.
    fn confirm_no_escalation(&self, store: &Store, obj: &Value) -> Result<(), Status> {
        if self.resource.group != "rbac.authorization.k8s.io" {
            return Ok(());
        }
        crate::rbac::confirm_no_escalation(
            store,
            &self.shared.rbac,
            self.user,
            self.resource.resource,
            self.ns(),
            obj,
        )
    }

    /// The subresource field managers are recorded for: `status`, or `""` for the main
    /// resource (and for `scale`, which writes the main resource's `spec.replicas`).
    fn field_manager_subresource(&self) -> &'static str {
        if self.info.subresource == "status" {
            "status"
        } else {
            ""
        }
    }

    /// Records the write of `new` (replacing `old`) in `new`'s `managedFields` as an `Update`
    /// by [`Ctx::manager`] ([`crate::apply::record_update`]).
    fn record_update(&self, old: Option<&Value>, new: &mut Value) {
        let time = crate::store::now_string();
        let sub = self.field_manager_subresource();
        crate::apply::record_update(
            crate::resources::storage_of(self.resource),
            old,
            new,
            &self.manager(),
            sub,
            time.as_str().unwrap_or(""),
        );
    }

    /// The namespace of the object the request names: the path's for a namespaced resource,
    /// `""` for a cluster-scoped one (`namespaces/NAME` puts NAME in the request's namespace
    /// for authorization, as `requestinfo.go` does, but a Namespace is stored unnamespaced).
    fn ns(&self) -> &str {
        if self.resource.namespaced {
            &self.info.namespace
        } else {
            ""
        }
    }

    /// `dryRun=All` (the only value; anything else is 400 as `ValidateDryRun` answers).
    fn dry_run(&self) -> Result<bool, Status> {
        let values: Vec<&str> = self
            .query
            .0
            .iter()
            .filter(|(k, _)| k == "dryRun")
            .map(|(_, v)| v.as_str())
            .collect();
        for v in &values {
            if *v != "All" {
                return Err(Status::bad_request(format!(
                    "Invalid dry run value: {v}: supported values: [\"All\"]"
                )));
            }
        }
        Ok(!values.is_empty())
    }
}

fn to_vec(v: &impl Serialize) -> Vec<u8> {
    serde_json::to_vec(v).unwrap_or_default()
}

fn dispatch(ctx: &Ctx<'_>) -> Result<Response<Body>, Status> {
    let i = ctx.info;
    let r = ctx.resource;
    if r.namespaced && i.namespace.is_empty() && !matches!(i.verb.as_str(), "list" | "watch") {
        return Err(Status::path_not_found());
    }
    // A cluster-scoped resource has no route under `namespaces/NS/` (`namespaces/a/namespaces/b`
    // was authorized in `a` and would act on `b`).
    if !r.namespaced && (i.in_namespace || (!i.namespace.is_empty() && r.resource != "namespaces"))
    {
        return Err(Status::path_not_found());
    }
    if !i.subresource.is_empty() {
        let Some(sub) = r.subresource(&i.subresource) else {
            return Err(Status::path_not_found());
        };
        if !sub.verbs.contains(&i.verb.as_str()) {
            return Err(crate::errors::method_not_supported(r, &i.verb));
        }
        return match sub.name {
            "token" => token::create_token(ctx),
            "scale" => scale::handle(ctx),
            "status" => objects::handle(ctx, crate::store::Part::Status),
            _ => Err(Status::path_not_found()),
        };
    }
    if !r.serves(&i.verb) {
        return Err(crate::errors::method_not_supported(r, &i.verb));
    }
    match r.storage {
        Storage::Review => reviews::create(ctx),
        Storage::Stored => objects::handle(ctx, crate::store::Part::Main),
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
