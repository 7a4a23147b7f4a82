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

use std::convert::Infallible;
use std::sync::{Arc, MutexGuard};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, Limited};
use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestStatus};
use k8s_openapi::api::core::v1::{Pod, ServiceAccount};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::rbac::{Attributes, UserInfo, forbidden_message};
use crate::selectors::{FieldSelector, LabelSelector, META_FIELDS, POD_FIELDS, pod_field};
use crate::server::Shared;
use crate::status::Status;
use crate::store::Store;
use crate::table::{IncludeObject, pods_table, wants_table};
use crate::tokens::{Ref, TokenSigner, now_unix};
use crate::watch::{self, WatchRequest, WatchStart};

/// The response body type.
pub type Body = BoxBody<Bytes, Infallible>;

/// The request header that makes a too-old watch answer HTTP 410 instead of an in-stream
/// `ERROR` event (a test knob).
pub const GONE_AS_STATUS_HEADER: &str = "x-pod-introspect-gone-as-status";

/// Largest accepted request body (kube-apiserver's `MaxRequestBodyBytes`, 3 MiB).
const MAX_BODY: usize = 3 * 1024 * 1024;

/// The default watch lifetime without `timeoutSeconds` (`--min-request-timeout`).
const DEFAULT_WATCH_TIMEOUT: Duration = Duration::from_secs(1800);

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

/// Decoded query parameters; the last occurrence of a name wins.
#[derive(Debug, Default)]
struct Query(Vec<(String, String)>);

impl Query {
    /// Go `url.ParseQuery`, as `req.URL.Query()` gives it to the handlers: a pair with an
    /// invalid escape is dropped.
    fn parse(q: Option<&str>) -> Self {
        Query(pod_introspect_kube::percent::parse_query(q.unwrap_or("")))
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn flag(&self, name: &str) -> bool {
        matches!(self.get(name), Some("true" | "1" | "True" | "TRUE"))
    }
}

fn lock(shared: &Shared) -> MutexGuard<'_, Store> {
    match shared.store.lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    }
}

/// Authenticates the `Authorization: Bearer` header. `Ok(None)` is anonymous (no header).
fn authenticate(
    shared: &Shared,
    req: &Request<hyper::body::Incoming>,
) -> Result<Option<UserInfo>, ()> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().map_err(|_| ())?;
    let (scheme, token) = value.trim().split_once(' ').ok_or(())?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(());
    }
    let token = token.trim();
    if token.is_empty() {
        return Err(());
    }
    let admin = shared.signer.admin_token().as_bytes();
    if token.len() == admin.len()
        && token
            .bytes()
            .zip(admin)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
    {
        return Ok(Some(UserInfo::admin()));
    }
    let claims = shared.signer.verify(token, now_unix()).map_err(|_| ())?;
    let k = &claims.kubernetes;
    let store = lock(shared);
    // Like the legacy/bound token validator: the ServiceAccount (and a bound pod) must still
    // exist with the same UID (`pkg/serviceaccount/claims.go`).
    let sa = store
        .service_account(&k.namespace, &k.serviceaccount.name)
        .ok_or(())?;
    if sa.metadata.uid.as_deref() != Some(k.serviceaccount.uid.as_str()) {
        return Err(());
    }
    if let Some(pod_ref) = &k.pod {
        let pod = store.pod(&k.namespace, &pod_ref.name).ok_or(())?;
        if pod.metadata.uid.as_deref() != Some(pod_ref.uid.as_str()) {
            return Err(());
        }
    }
    Ok(Some(UserInfo::service_account(
        &k.namespace,
        &k.serviceaccount.name,
    )))
}

const PUBLIC_PATHS: &[&str] = &["/version", "/healthz", "/livez", "/readyz"];

/// Serves one request. Never panics on request input.
pub async fn handle(shared: Arc<Shared>, req: Request<hyper::body::Incoming>) -> Response<Body> {
    let path = req.uri().path().to_owned();
    let method = req.method().clone();
    tracing::debug!(%method, uri = %req.uri(), "request");
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

/// The parsed resource request (`endpoints/request/requestinfo.go`).
#[derive(Debug)]
struct RequestInfo {
    verb: String,
    resource: String,
    subresource: String,
    namespace: String,
    name: String,
}

impl RequestInfo {
    fn new(method: &Method, segments: &[String], query: &Query) -> Option<Self> {
        if segments.iter().any(|s| s.is_empty()) {
            return None;
        }
        let (namespace, resource, name, subresource) = match segments {
            [r] => (String::new(), r.clone(), String::new(), String::new()),
            // namespaces/NAME: the namespace is its own name.
            [ns_kw, ns] if ns_kw == "namespaces" => {
                (ns.clone(), ns_kw.clone(), ns.clone(), String::new())
            }
            [ns_kw, ns, sub] if ns_kw == "namespaces" && (sub == "status" || sub == "finalize") => {
                (ns.clone(), ns_kw.clone(), ns.clone(), sub.clone())
            }
            [ns_kw, ns, r] if ns_kw == "namespaces" => {
                (ns.clone(), r.clone(), String::new(), String::new())
            }
            [ns_kw, ns, r, n] if ns_kw == "namespaces" => {
                (ns.clone(), r.clone(), n.clone(), String::new())
            }
            [ns_kw, ns, r, n, s] if ns_kw == "namespaces" => {
                (ns.clone(), r.clone(), n.clone(), s.clone())
            }
            [r, n] => (String::new(), r.clone(), n.clone(), String::new()),
            _ => return None,
        };
        let watch = query.flag("watch");
        let verb = match *method {
            Method::GET | Method::HEAD if watch => "watch",
            Method::GET | Method::HEAD if name.is_empty() => "list",
            Method::GET | Method::HEAD => "get",
            Method::POST => "create",
            Method::PUT => "update",
            Method::PATCH => "patch",
            Method::DELETE if name.is_empty() => "deletecollection",
            Method::DELETE => "delete",
            _ => "unknown",
        };
        Some(RequestInfo {
            verb: verb.to_owned(),
            resource,
            subresource,
            namespace,
            name,
        })
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

/// `/version` (`staging/src/k8s.io/apimachinery/pkg/version/types.go` `Info`), fields in the
/// Go struct's order.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct VersionInfo {
    major: &'static str,
    minor: &'static str,
    emulation_major: &'static str,
    emulation_minor: &'static str,
    min_compatibility_major: &'static str,
    min_compatibility_minor: &'static str,
    git_version: &'static str,
    git_commit: &'static str,
    git_tree_state: &'static str,
    build_date: &'static str,
    go_version: &'static str,
    compiler: &'static str,
    platform: &'static str,
}

fn version_info() -> VersionInfo {
    VersionInfo {
        major: "1",
        minor: "33",
        emulation_major: "1",
        emulation_minor: "33",
        min_compatibility_major: "1",
        min_compatibility_minor: "32",
        git_version: "v1.33.0-pod-introspect",
        git_commit: "0000000000000000000000000000000000000000",
        git_tree_state: "clean",
        build_date: "2025-04-23T00:00:00Z",
        go_version: "go1.24.2",
        compiler: "gc",
        platform: "linux/amd64",
    }
}

fn api_versions(shared: &Shared) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": shared.local_addr.to_string()}],
    })
}

/// The `/api/v1` APIResourceList: what this server serves.
fn api_resources() -> Value {
    json!({
        "kind": "APIResourceList",
        "groupVersion": "v1",
        "resources": [
            {"name": "namespaces", "singularName": "namespace", "namespaced": false, "kind": "Namespace",
             "verbs": ["get", "list"], "shortNames": ["ns"]},
            {"name": "pods", "singularName": "pod", "namespaced": true, "kind": "Pod",
             "verbs": ["create", "delete", "get", "list", "update", "watch"], "shortNames": ["po"], "categories": ["all"]},
            {"name": "serviceaccounts", "singularName": "serviceaccount", "namespaced": true, "kind": "ServiceAccount",
             "verbs": ["create", "get", "list"], "shortNames": ["sa"]},
            {"name": "serviceaccounts/token", "singularName": "", "namespaced": true, "group": "authentication.k8s.io",
             "version": "v1", "kind": "TokenRequest", "verbs": ["create"]},
        ],
    })
}

/// The OpenAPI v3 discovery root (`staging/src/k8s.io/kube-openapi/pkg/handler3`): only the
/// core group version.
fn openapi_v3_root() -> Value {
    json!({"paths": {"api/v1": {"serverRelativeURL": format!("/openapi/v3/api/v1?hash={OPENAPI_HASH}")}}})
}

const OPENAPI_HASH: &str = "0D9A1AE4A6F1D1B7A2C3D4E5F60718293A4B5C6D7E8F90112233445566778899";

/// A minimal OpenAPI v3 document for `api/v1`: no schemas, only the PATCH operations with their
/// `x-kubernetes-group-version-kind` and the `fieldValidation` query parameter. kubectl's
/// `QueryParamVerifierV3` (`k8s.io/cli-runtime/pkg/resource/query_param_verifier_v3.go`) reads
/// exactly that to decide that the server validates fields, so `kubectl create -f` needs no
/// client-side schema (and no `/openapi/v2`, which stays a 404).
fn openapi_v3_core() -> Value {
    let op = |path: &str, kind: &str| {
        (
            path.to_owned(),
            json!({"patch": {
                "x-kubernetes-group-version-kind": {"group": "", "version": "v1", "kind": kind},
                "parameters": [
                    {"name": "dryRun", "in": "query", "schema": {"type": "string", "uniqueItems": true}},
                    {"name": "fieldManager", "in": "query", "schema": {"type": "string", "uniqueItems": true}},
                    {"name": "fieldValidation", "in": "query", "schema": {"type": "string", "uniqueItems": true}},
                ],
                "responses": {"200": {"description": "OK"}},
            }}),
        )
    };
    let paths: serde_json::Map<String, Value> = [
        op("/api/v1/namespaces/{namespace}/pods/{name}", "Pod"),
        op(
            "/api/v1/namespaces/{namespace}/serviceaccounts/{name}",
            "ServiceAccount",
        ),
        op("/api/v1/namespaces/{name}", "Namespace"),
    ]
    .into_iter()
    .collect();
    json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.33.0-pod-introspect"},
        "paths": paths,
        "components": {"schemas": {}},
    })
}

// ---- list helpers ----

/// The `continue` token (`staging/src/k8s.io/apiserver/pkg/storage/continue.go`): base64url of
/// `{"v":"meta.k8s.io/v1","rv":RV,"start":"KEY\u0000"}`.
#[derive(Debug, Serialize, Deserialize)]
struct ContinueToken {
    v: String,
    rv: u64,
    start: String,
}

fn encode_continue(rv: u64, last_key: &str) -> String {
    let token = ContinueToken {
        v: "meta.k8s.io/v1".into(),
        rv,
        start: format!("{last_key}\u{0}"),
    };
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&token).unwrap_or_default())
}

fn decode_continue(s: &str) -> Result<ContinueToken, Status> {
    let bad = |why: &str| Status::bad_request(format!("continue key is not valid: {why}"));
    let raw = URL_SAFE_NO_PAD
        .decode(s.trim_end_matches('='))
        .or_else(|_| base64::engine::general_purpose::URL_SAFE.decode(s))
        .map_err(|_| bad("illegal base64 data"))?;
    let token: ContinueToken =
        serde_json::from_slice(&raw).map_err(|_| bad("not a JSON continue token"))?;
    if token.v != "meta.k8s.io/v1" {
        return Err(bad(&format!(
            "server does not recognize this encoded key version \"{}\"",
            token.v
        )));
    }
    if token.rv == 0 {
        return Err(bad(
            "incorrect encoded start resourceVersion (version meta.k8s.io/v1)",
        ));
    }
    Ok(token)
}

fn parse_limit(q: &Query) -> Result<usize, Status> {
    match q.get("limit") {
        None | Some("") => Ok(0),
        Some(v) => v
            .parse::<i64>()
            .map(|n| usize::try_from(n.max(0)).unwrap_or(0))
            .map_err(|_| {
                Status::bad_request(format!("limit: Invalid value: \"{v}\": must be an integer"))
            }),
    }
}

fn parse_rv(v: Option<&str>) -> Result<Option<u64>, Status> {
    match v {
        None | Some("") | Some("0") => Ok(None),
        Some(v) => v.parse::<u64>().map(Some).map_err(|_| {
            Status::bad_request(format!(
                "resourceVersion: Invalid value: \"{v}\": must be a non-negative integer"
            ))
        }),
    }
}

/// One page of a keyed, sorted list: the items after `start`, at most `limit` (0 = all), the
/// last key when more remain, and how many remain.
fn paginate<T>(
    items: Vec<(String, T)>,
    start: Option<&str>,
    limit: usize,
) -> (Vec<T>, Option<String>, usize) {
    let mut rest: Vec<(String, T)> = items
        .into_iter()
        .filter(|(k, _)| start.is_none_or(|s| k.as_str() > s))
        .collect();
    if limit == 0 || rest.len() <= limit {
        return (rest.into_iter().map(|(_, v)| v).collect(), None, 0);
    }
    let remaining = rest.len() - limit;
    rest.truncate(limit);
    let last = rest.last().map(|(k, _)| k.clone());
    (rest.into_iter().map(|(_, v)| v).collect(), last, remaining)
}

fn list_meta(rv: u64, cont: Option<String>, remaining: Option<usize>) -> Value {
    let mut meta = json!({"resourceVersion": rv.to_string()});
    if let Some(c) = cont {
        meta["continue"] = json!(c);
        if let Some(n) = remaining {
            meta["remainingItemCount"] = json!(n);
        }
    }
    meta
}

fn list_body(kind: &str, meta: Value, items: Vec<Value>) -> Value {
    json!({"kind": kind, "apiVersion": "v1", "metadata": meta, "items": items})
}

// ---- pods ----

fn ns_opt(info: &RequestInfo) -> Option<&str> {
    (!info.namespace.is_empty()).then_some(info.namespace.as_str())
}

fn selectors(q: &Query, fields: &[&str]) -> Result<(LabelSelector, FieldSelector), Status> {
    let labels =
        LabelSelector::parse(q.get("labelSelector").unwrap_or("")).map_err(Status::bad_request)?;
    let fields = FieldSelector::parse(q.get("fieldSelector").unwrap_or(""), fields)
        .map_err(Status::bad_request)?;
    Ok((labels, fields))
}

fn pod_key(p: &Pod) -> String {
    format!(
        "{}/{}",
        p.metadata.namespace.as_deref().unwrap_or(""),
        p.metadata.name.as_deref().unwrap_or("")
    )
}

fn list_pods(ctx: &Ctx<'_>) -> Result<Response<Body>, Status> {
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

fn watch_pods(ctx: &Ctx<'_>) -> Result<Response<Body>, Status> {
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

fn object_response<T: Serialize>(
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

fn get_pod(ctx: &Ctx<'_>) -> Result<Response<Body>, Status> {
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

fn create_pod(ctx: &Ctx<'_>) -> Result<Response<Body>, Status> {
    let pod: Pod = decode_body(ctx, "Pod", "v1")?;
    let created = lock(ctx.shared).create_pod(pod, &ctx.info.namespace)?;
    Ok(object_response(
        ctx,
        StatusCode::CREATED,
        Some(&created),
        &created,
    ))
}

fn update_pod(ctx: &Ctx<'_>) -> Result<Response<Body>, Status> {
    let pod: Pod = decode_body(ctx, "Pod", "v1")?;
    let updated = lock(ctx.shared).update_pod(pod, &ctx.info.namespace, &ctx.info.name, true)?;
    Ok(object_response(
        ctx,
        StatusCode::OK,
        Some(&updated),
        &updated,
    ))
}

fn delete_pod(ctx: &Ctx<'_>) -> Result<Response<Body>, Status> {
    let deleted = lock(ctx.shared).delete_pod(&ctx.info.namespace, &ctx.info.name)?;
    Ok(object_response(
        ctx,
        StatusCode::OK,
        Some(&deleted),
        &deleted,
    ))
}

// ---- service accounts, tokens, namespaces ----

fn list_service_accounts(ctx: &Ctx<'_>) -> Result<Response<Body>, Status> {
    let (labels, fields) = selectors(ctx.query, META_FIELDS)?;
    let limit = parse_limit(ctx.query)?;
    let cont = match ctx.query.get("continue").filter(|c| !c.is_empty()) {
        Some(c) => Some(decode_continue(c)?),
        None => None,
    };
    let (rv, sas) = {
        let store = lock(ctx.shared);
        (
            store.resource_version(),
            store.service_accounts(ns_opt(ctx.info)),
        )
    };
    let keyed: Vec<(String, ServiceAccount)> = sas
        .into_iter()
        .filter(|s| {
            labels.matches(s.metadata.labels.as_ref())
                && fields.matches(|f| match f {
                    "metadata.name" => s.metadata.name.clone().unwrap_or_default(),
                    "metadata.namespace" => s.metadata.namespace.clone().unwrap_or_default(),
                    _ => String::new(),
                })
        })
        .map(|s| {
            (
                format!(
                    "{}/{}",
                    s.metadata.namespace.as_deref().unwrap_or(""),
                    s.metadata.name.as_deref().unwrap_or("")
                ),
                s,
            )
        })
        .collect();
    let start = cont
        .as_ref()
        .map(|c| c.start.trim_end_matches('\u{0}').to_owned());
    let (page, last, remaining) = paginate(keyed, start.as_deref(), limit);
    let meta = list_meta(rv, last.map(|k| encode_continue(rv, &k)), Some(remaining));
    let items = page
        .iter()
        .map(|s| serde_json::to_value(s).unwrap_or(Value::Null))
        .collect();
    Ok(json_response(
        StatusCode::OK,
        &list_body("ServiceAccountList", meta, items),
    ))
}

fn get_service_account(ctx: &Ctx<'_>) -> Result<Response<Body>, Status> {
    let i = ctx.info;
    let sa = lock(ctx.shared)
        .service_account(&i.namespace, &i.name)
        .cloned()
        .ok_or_else(|| Status::not_found("serviceaccounts", &i.name))?;
    Ok(json_response(StatusCode::OK, &sa))
}

fn create_service_account(ctx: &Ctx<'_>) -> Result<Response<Body>, Status> {
    let sa: ServiceAccount = decode_body(ctx, "ServiceAccount", "v1")?;
    let created = lock(ctx.shared).create_service_account(sa, &ctx.info.namespace)?;
    Ok(json_response(StatusCode::CREATED, &created))
}

/// TokenRequest (`pkg/registry/core/serviceaccount/storage/token.go`): `spec.expirationSeconds`
/// defaults to the cluster's `token_ttl` and must be at least 600; `boundObjectRef` may name a
/// Pod of the same namespace (its UID must match when given), which adds the `pod` claim.
fn create_token(ctx: &Ctx<'_>) -> Result<Response<Body>, Status> {
    let i = ctx.info;
    let mut tr: TokenRequest = decode_body(ctx, "TokenRequest", "authentication.k8s.io/v1")?;
    let seconds = tr
        .spec
        .expiration_seconds
        .unwrap_or(i64::try_from(ctx.shared.token_ttl.as_secs()).unwrap_or(3607));
    if seconds < 600 {
        return Err(Status::invalid(
            "TokenRequest",
            &i.name,
            &format!(
                "spec.expirationSeconds: Invalid value: {seconds}: may not specify a duration less than 10 minutes"
            ),
        ));
    }
    let (sa_ref, pod_ref) = {
        let store = lock(ctx.shared);
        let sa = store
            .service_account(&i.namespace, &i.name)
            .ok_or_else(|| Status::not_found("serviceaccounts", &i.name))?;
        let sa_ref = Ref {
            name: i.name.clone(),
            uid: sa.metadata.uid.clone().unwrap_or_default(),
        };
        let pod_ref = match &tr.spec.bound_object_ref {
            None => None,
            Some(b) if b.kind.as_deref() == Some("Pod") => {
                let name = b.name.clone().unwrap_or_default();
                let pod = store
                    .pod(&i.namespace, &name)
                    .ok_or_else(|| Status::not_found("pods", &name))?;
                let uid = pod.metadata.uid.clone().unwrap_or_default();
                if b.uid.as_deref().is_some_and(|u| !u.is_empty() && u != uid) {
                    return Err(Status::conflict("pods", &name));
                }
                Some(Ref { name, uid })
            }
            Some(b) => {
                return Err(Status::bad_request(format!(
                    "cannot bind token to object of kind {:?}: only Pod is supported",
                    b.kind.as_deref().unwrap_or("")
                )));
            }
        };
        (sa_ref, pod_ref)
    };
    let mut claims = TokenSigner::claims(
        &i.namespace,
        sa_ref,
        pod_ref,
        Duration::from_secs(u64::try_from(seconds).unwrap_or(3607)),
    );
    if !tr.spec.audiences.is_empty() {
        claims.aud = tr.spec.audiences.clone();
    }
    tr.spec.audiences = claims.aud.clone();
    tr.spec.expiration_seconds = Some(seconds);
    let token = ctx.shared.signer.sign(&claims);
    let exp = k8s_openapi::jiff::Timestamp::from_second(i64::try_from(claims.exp).unwrap_or(0))
        .unwrap_or(k8s_openapi::jiff::Timestamp::UNIX_EPOCH);
    tr.status = Some(TokenRequestStatus {
        token,
        expiration_timestamp: k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(exp),
    });
    tr.metadata.name = Some(i.name.clone());
    tr.metadata.namespace = Some(i.namespace.clone());
    tr.metadata.creation_timestamp = Some(crate::store::now_time());
    Ok(json_response(StatusCode::CREATED, &tr))
}

fn list_namespaces(ctx: &Ctx<'_>) -> Result<Response<Body>, Status> {
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

fn get_namespace(ctx: &Ctx<'_>) -> Result<Response<Body>, Status> {
    let name = &ctx.info.name;
    let ns = lock(ctx.shared)
        .namespace(name)
        .cloned()
        .ok_or_else(|| Status::not_found("namespaces", name))?;
    Ok(json_response(StatusCode::OK, &ns))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_decoding() {
        let q = Query::parse(Some(
            "labelSelector=app%3Dweb%2Ctier+in+(a%2Cb)&watch=1&x=%zz",
        ));
        assert_eq!(q.get("labelSelector"), Some("app=web,tier in (a,b)"));
        assert!(q.flag("watch"));
        // Go's ParseQuery drops a pair with a bad escape (the escapes themselves are tested in
        // pod_introspect_kube::percent).
        assert_eq!(q.get("x"), None);
        assert_eq!(Query::parse(Some("a=%&b=a%2&c=1")).0.len(), 1);
    }

    #[test]
    fn continue_round_trip_and_pagination() {
        let t = encode_continue(42, "ns/b");
        let d = decode_continue(&t).unwrap();
        assert_eq!((d.rv, d.start.as_str()), (42, "ns/b\u{0}"));
        assert_eq!(decode_continue("!!!").unwrap_err().code, 400);
        let items: Vec<(String, u32)> = (1..=5).map(|i| (format!("n/p{i}"), i)).collect();
        let (page, last, remaining) = paginate(items.clone(), None, 2);
        assert_eq!(
            (page, last.as_deref(), remaining),
            (vec![1, 2], Some("n/p2"), 3)
        );
        let (page, last, _) = paginate(items, Some("n/p4"), 2);
        assert_eq!((page, last), (vec![5], None));
    }
}
