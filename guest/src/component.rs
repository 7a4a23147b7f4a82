//! The WIT glue: generated bindings, conversions from the guest's model, and the exports.
//! Only built for wasm32 (the export symbols are component-model names a native linker rejects).

use crate::api::{self, ApiError, Client, ListOptions, WatchOptions};
use crate::model::{PodInfo, Problem, ResourceValue, Source};
use crate::resolve::Context;
use crate::wasi_http::WasiHttp;
use crate::{field, map_key};
use pod_introspect_kube::fields;
use std::cell::RefCell;

pub(crate) mod bindings {
    wit_bindgen::generate!({
        path: "../wit",
        world: "introspector",
        generate_all,
    });
}

use bindings::exports::pod_introspect::pod::pod_introspect as wit;
use bindings::exports::wasi::config::store as config;

struct Component;

bindings::export!(Component with_types_in bindings);

fn to_wit_source(s: Source) -> wit::Source {
    match s {
        Source::VolumeFile(p) => wit::Source::VolumeFile(p),
        Source::Env(n) => wit::Source::Env(n),
        Source::ServiceAccount(p) => wit::Source::ServiceAccount(p),
        Source::Api(p) => wit::Source::Api(p),
    }
}

fn to_wit_error(p: Problem) -> wit::Error {
    match p {
        Problem::NotExposed { field, hint } => {
            wit::Error::NotExposed(wit::NotExposedError { field, hint })
        }
        Problem::Malformed { file, line, reason } => {
            wit::Error::Malformed(wit::MalformedError { file, line, reason })
        }
        Problem::Io { path, message } => wit::Error::Io(wit::IoError { path, message }),
        Problem::Api(e) => wit::Error::Api(to_wit_api_error(e)),
    }
}

fn to_wit_resource(name: String, r: ResourceValue) -> wit::ResourceValue {
    wit::ResourceValue {
        name,
        value: r.value,
        divisor: r.divisor,
        millicores: r.millicores,
        bytes: r.bytes,
    }
}

fn to_wit_info(info: PodInfo) -> wit::PodInfo {
    wit::PodInfo {
        name: info.name,
        namespace: info.namespace,
        uid: info.uid,
        labels: info.labels.map(|m| m.into_iter().collect()),
        annotations: info.annotations.map(|m| m.into_iter().collect()),
        node_name: info.node_name,
        service_account_name: info.service_account_name,
        host_ip: info.host_ip,
        host_ips: info.host_ips,
        pod_ip: info.pod_ip,
        pod_ips: info.pod_ips,
        resources: info
            .resources
            .into_iter()
            .map(|(n, r)| to_wit_resource(n, r))
            .collect(),
        sources: info
            .sources
            .into_iter()
            .map(|(field, s)| wit::FieldSource {
                field,
                source: to_wit_source(s),
            })
            .collect(),
        errors: info
            .errors
            .into_iter()
            .map(|e| wit::FieldError {
                field: e.field,
                source: e.source.map(to_wit_source),
                error: to_wit_error(e.problem),
            })
            .collect(),
    }
}

impl wit::Guest for Component {
    fn info() -> wit::PodInfo {
        to_wit_info(Context::from_process().info())
    }

    fn info_json() -> String {
        Context::from_process().info().to_json(false)
    }

    fn info_report(o: wit::InfoOptions) -> wit::CommandReport {
        let r = crate::report::build(&Context::from_process(), o.api, o.pretty, &mut new_client);
        wit::CommandReport {
            json: r.json,
            error_count: r.error_count,
            nothing_found: r.nothing_found,
        }
    }

    fn label(key: String) -> Result<Option<String>, wit::Error> {
        map_key(&Context::from_process(), fields::METADATA_LABELS, &key).map_err(to_wit_error)
    }

    fn annotation(key: String) -> Result<Option<String>, wit::Error> {
        map_key(&Context::from_process(), fields::METADATA_ANNOTATIONS, &key).map_err(to_wit_error)
    }

    fn field(field_path: String) -> Result<String, wit::Error> {
        field(&Context::from_process(), &field_path).map_err(to_wit_error)
    }

    fn resource_field(name: String) -> Result<wit::ResourceValue, wit::Error> {
        let ctx = Context::from_process();
        let kind = fields::resource_kind(&name).map_err(|e| {
            to_wit_error(Problem::NotExposed {
                field: name.clone(),
                hint: e.to_string(),
            })
        })?;
        let mut errors = Vec::new();
        match ctx.resource(&name, kind, &mut errors) {
            Some((r, _)) => Ok(to_wit_resource(name, r)),
            None => Err(to_wit_error(
                errors
                    .into_iter()
                    .next()
                    .map(|e| e.problem)
                    .unwrap_or_else(|| ctx.not_exposed(&name)),
            )),
        }
    }

    type PodWatch = WatchResource;

    fn server_version() -> Result<String, wit::ApiError> {
        with_client(|c| c.get_json("/version")).map(|v| v.to_string())
    }

    fn get(path: String, query: Vec<(String, String)>) -> Result<wit::ApiResponse, wit::ApiError> {
        if !path.starts_with('/') {
            return Err(wit::ApiError::Invalid(format!(
                "path {path:?} must start with /"
            )));
        }
        let (status, body) = with_client(|c| c.get_raw(&api::path_with_query(&path, &query)))?;
        Ok(wit::ApiResponse {
            status,
            body: String::from_utf8_lossy(&body).into_owned(),
        })
    }

    fn get_pod(namespace: String, name: String) -> Result<String, wit::ApiError> {
        with_client(|c| c.get_json(&crate::self_pod::pod_path(&namespace, &name)))
            .map(|v| v.to_string())
    }

    fn list_pods(o: wit::ListOptions) -> Result<wit::PodList, wit::ApiError> {
        let list = with_client(|c| {
            c.list_pods(&ListOptions {
                namespace: o.namespace,
                label_selector: o.label_selector,
                field_selector: o.field_selector,
                limit: o.limit,
                continue_token: o.continue_token,
                resource_version: o.resource_version,
            })
        })?;
        Ok(wit::PodList {
            items: list.items,
            resource_version: list.resource_version,
            continue_token: list.continue_token,
            remaining_item_count: list.remaining_item_count,
        })
    }

    fn self_pod() -> Result<String, wit::ApiError> {
        let info = Context::from_process().info();
        with_client(|c| crate::self_pod::fetch(c, &info)).map(|(_, pod)| pod.to_string())
    }
}

impl bindings::exports::wasi::config::store::Guest for Component {
    fn get(key: String) -> Result<Option<String>, config::Error> {
        crate::config_store::get(&Context::from_process().info(), &key).map_err(to_config_error)
    }

    fn get_all() -> Result<Vec<(String, String)>, config::Error> {
        crate::config_store::get_all(&Context::from_process().info()).map_err(to_config_error)
    }
}

fn to_config_error(e: crate::config_store::StoreError) -> config::Error {
    match e {
        crate::config_store::StoreError::Io(m) => config::Error::Io(m),
        crate::config_store::StoreError::Upstream(m) => config::Error::Upstream(m),
    }
}

impl bindings::exports::wasi::cli::run::Guest for Component {
    fn run() -> Result<(), ()> {
        let args: Vec<String> = std::env::args().skip(1).collect();
        if crate::command::run(&args, &mut new_client) {
            Ok(())
        } else {
            Err(())
        }
    }
}

/// A client from in-cluster config, reading the token file with std::fs.
fn new_client() -> Result<Client<WasiHttp>, ApiError> {
    let location = api::location_from_env()?;
    let start = std::time::Instant::now();
    Ok(Client::new(
        WasiHttp,
        location,
        Box::new(|| {
            std::fs::read(pod_introspect_kube::incluster::TOKEN_FILE).map_err(|e| e.to_string())
        }),
        Box::new(move || start.elapsed()),
    ))
}

thread_local! {
    /// One client per instance, so the token cache lives across calls.
    static CLIENT: RefCell<Option<Client<WasiHttp>>> = const { RefCell::new(None) };
}

fn with_client<R>(
    f: impl FnOnce(&mut Client<WasiHttp>) -> Result<R, ApiError>,
) -> Result<R, wit::ApiError> {
    CLIENT
        .with(|cell| {
            let mut slot = cell.borrow_mut();
            if slot.is_none() {
                *slot = Some(new_client()?);
            }
            match slot.as_mut() {
                Some(c) => f(c),
                None => Err(ApiError::Invalid("no client".into())),
            }
        })
        .map_err(to_wit_api_error)
}

fn to_wit_status(s: api::ApiStatus) -> wit::ApiStatus {
    wit::ApiStatus {
        code: s.code,
        reason: s.reason,
        message: s.message,
    }
}

fn to_wit_api_error(e: ApiError) -> wit::ApiError {
    match e {
        ApiError::NotInCluster(m) => wit::ApiError::NotInCluster(m),
        ApiError::Credentials(m) => wit::ApiError::Credentials(m),
        ApiError::Unauthorized(s) => wit::ApiError::Unauthorized(to_wit_status(s)),
        ApiError::Forbidden(s) => wit::ApiError::Forbidden(to_wit_status(s)),
        ApiError::NotFound(s) => wit::ApiError::NotFound(to_wit_status(s)),
        ApiError::Gone(s) => wit::ApiError::Gone(to_wit_status(s)),
        ApiError::Conflict(s) => wit::ApiError::Conflict(to_wit_status(s)),
        ApiError::ServerError(s) => wit::ApiError::ServerError(to_wit_status(s)),
        ApiError::Transport(m) => wit::ApiError::Transport(m),
        ApiError::Tls(m) => wit::ApiError::Tls(m),
        ApiError::Invalid(m) => wit::ApiError::Invalid(m),
    }
}

/// The `pod-watch` resource.
pub struct WatchResource(RefCell<api::PodWatch>);

impl wit::GuestPodWatch for WatchResource {
    fn new(o: wit::WatchOptions) -> Self {
        WatchResource(RefCell::new(api::PodWatch::new(WatchOptions {
            namespace: o.namespace,
            label_selector: o.label_selector,
            field_selector: o.field_selector,
            resource_version: o.resource_version,
            allow_bookmarks: o.allow_bookmarks,
            timeout_seconds: o.timeout_seconds,
        })))
    }

    fn next(&self) -> Result<wit::WatchEvent, wit::ApiError> {
        let ev = with_client(|c| self.0.borrow_mut().next(c))?;
        Ok(wit::WatchEvent {
            kind: match ev.kind {
                api::EventKind::Added => wit::WatchEventKind::Added,
                api::EventKind::Modified => wit::WatchEventKind::Modified,
                api::EventKind::Deleted => wit::WatchEventKind::Deleted,
                api::EventKind::Bookmark => wit::WatchEventKind::Bookmark,
            },
            object: ev.object,
            resource_version: ev.resource_version,
        })
    }

    fn resource_version(&self) -> Option<String> {
        self.0.borrow().resource_version()
    }
}
