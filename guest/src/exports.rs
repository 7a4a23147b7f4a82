//! The component's exports: every `impl Guest for ...` of [`crate::world`] is here, each a thin
//! call into the guest's model ([`crate::resolve`], [`crate::field_table`], [`crate::api`],
//! [`crate::config_store`], [`crate::command`]) with its result converted by [`crate::convert`].
//! A new export of `wit/pod-introspect.wit` gets its impl here.
//! Only built for wasm32 (the export symbols are component-model names a native linker rejects).

use crate::api::{self, ApiError};
use crate::convert;
use crate::instance_client::{new_client, with_client};
use crate::model::Problem;
use crate::resolve::Context;
use crate::world;
use crate::world::exports::pod_introspect::pod::pod_introspect as wit;
use crate::world::exports::wasi::config::store as config;
use crate::{field, map_key};
use pod_introspect_kube::fields;
use std::cell::RefCell;

/// The component: the type the exports are implemented on.
struct Component;

world::export!(Component with_types_in world);

/// [`with_client`], its error as WIT's `api-error`.
fn with_wit_client<R>(
    f: impl FnOnce(&mut api::Client<crate::wasi_http::WasiHttp>) -> Result<R, ApiError>,
) -> Result<R, wit::ApiError> {
    with_client(f).map_err(convert::api_error)
}

impl wit::Guest for Component {
    fn info() -> wit::PodInfo {
        convert::info(Context::from_process().info())
    }

    fn info_json() -> String {
        Context::from_process().info().to_json(false)
    }

    fn info_report(o: wit::InfoOptions) -> wit::CommandReport {
        convert::command_report(crate::report::build(
            &Context::from_process(),
            o.api,
            o.pretty,
            &mut new_client,
        ))
    }

    fn label(key: String) -> Result<Option<String>, wit::Error> {
        map_key(&Context::from_process(), fields::METADATA_LABELS, &key).map_err(convert::error)
    }

    fn annotation(key: String) -> Result<Option<String>, wit::Error> {
        map_key(&Context::from_process(), fields::METADATA_ANNOTATIONS, &key)
            .map_err(convert::error)
    }

    fn field(field_path: String) -> Result<String, wit::Error> {
        field(&Context::from_process(), &field_path).map_err(convert::error)
    }

    fn resource_field(name: String) -> Result<wit::ResourceValue, wit::Error> {
        let ctx = Context::from_process();
        let kind = fields::resource_kind(&name).map_err(|e| {
            convert::error(Problem::NotExposed {
                field: name.clone(),
                hint: e.to_string(),
            })
        })?;
        let mut errors = Vec::new();
        match ctx.resource(&name, kind, &mut errors) {
            Some((r, _)) => Ok(convert::resource(name, r)),
            None => Err(convert::error(
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
        with_wit_client(|c| c.get_json("/version")).map(|v| v.to_string())
    }

    fn get(path: String, query: Vec<(String, String)>) -> Result<wit::ApiResponse, wit::ApiError> {
        if !path.starts_with('/') {
            return Err(wit::ApiError::Invalid(format!(
                "path {path:?} must start with /"
            )));
        }
        let (status, body) = with_wit_client(|c| c.get_raw(&api::path_with_query(&path, &query)))?;
        Ok(wit::ApiResponse {
            status,
            body: String::from_utf8_lossy(&body).into_owned(),
        })
    }

    fn get_pod(namespace: String, name: String) -> Result<String, wit::ApiError> {
        with_wit_client(|c| c.get_json(&crate::self_pod::pod_path(&namespace, &name)))
            .map(|v| v.to_string())
    }

    fn list_pods(o: wit::ListOptions) -> Result<wit::PodList, wit::ApiError> {
        let options = convert::list_options(o);
        with_wit_client(|c| c.list_pods(&options)).map(convert::pod_list)
    }

    fn self_pod() -> Result<String, wit::ApiError> {
        let info = Context::from_process().info();
        with_wit_client(|c| crate::self_pod::fetch(c, &info)).map(|(_, pod)| pod.to_string())
    }
}

impl config::Guest for Component {
    fn get(key: String) -> Result<Option<String>, config::Error> {
        crate::config_store::get(&Context::from_process().info(), &key)
            .map_err(convert::config_error)
    }

    fn get_all() -> Result<Vec<(String, String)>, config::Error> {
        crate::config_store::get_all(&Context::from_process().info()).map_err(convert::config_error)
    }
}

impl world::exports::wasi::cli::run::Guest for Component {
    fn run() -> Result<(), ()> {
        let args: Vec<String> = std::env::args().skip(1).collect();
        if crate::command::run(&args, &mut new_client) {
            Ok(())
        } else {
            Err(())
        }
    }
}

/// The `pod-watch` resource.
pub struct WatchResource(RefCell<api::PodWatch>);

impl wit::GuestPodWatch for WatchResource {
    fn new(o: wit::WatchOptions) -> Self {
        WatchResource(RefCell::new(api::PodWatch::new(convert::watch_options(o))))
    }

    fn next(&self) -> Result<wit::WatchEvent, wit::ApiError> {
        with_wit_client(|c| self.0.borrow_mut().next(c)).map(convert::watch_event)
    }

    fn resource_version(&self) -> Option<String> {
        self.0.borrow().resource_version()
    }
}
