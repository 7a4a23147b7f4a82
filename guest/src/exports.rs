//! The component's exports: every `impl Guest for ...` of [`crate::world`] is here, each a thin
//! call into the guest's model ([`crate::resolve`], [`crate::field_table`], [`crate::api`],
//! [`crate::config_store`], [`crate::command`]) with its result converted by [`crate::convert`].
//! A new export of `wit/pod-introspect.wit` gets its impl here.
//! Only built for wasm32 (the export symbols are component-model names a native linker rejects).

use crate::api::{self, ApiError};
use crate::convert;
use crate::instance_client::{new_client, with_client};
use crate::model::Problem;
use crate::pod_changes::{DEFAULT_INTERVAL_MS, Follower, read_process_view};
use crate::resolve::Context;
use crate::world;
use crate::world::exports::pod_introspect::pod::pod_introspect as wit;
use crate::world::exports::wasi::config::store as config;
use crate::world::wasi::clocks::monotonic_clock as clock;
use crate::{field, map_key};
use pod_introspect_kube::fields;
use std::cell::RefCell;
use std::time::Duration;

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
    type PodChanges = PodChangesResource;

    fn server_version() -> Result<String, wit::ApiError> {
        with_wit_client(|c| c.get_json("/version")).map(|v| v.to_string())
    }

    fn get(path: String, query: Vec<(String, String)>) -> Result<wit::ApiResponse, wit::ApiError> {
        if !path.starts_with('/') {
            return Err(wit::ApiError::Invalid(format!(
                "path {path:?} must start with /"
            )));
        }
        Self::request("GET".into(), path, query, Vec::new(), None)
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

    type ObjectWatch = ObjectWatchResource;
    type LeaderElector = crate::leader::LeaderElector;

    fn resolve_resource(name: String) -> Result<wit::ApiResource, wit::ApiError> {
        with_wit_client(|c| c.resolve(&name)).map(convert::api_resource)
    }

    fn get_object(
        gvr: wit::GroupVersionResource,
        namespace: Option<String>,
        name: String,
        options: wit::GetOptions,
    ) -> Result<String, wit::ApiError> {
        with_wit_client(|c| {
            c.get_object(
                &convert::gvr(gvr),
                namespace.as_deref(),
                &name,
                options.subresource.as_deref(),
                options.resource_version.as_deref(),
            )
        })
        .map(|v| v.to_string())
    }

    fn list_objects(
        gvr: wit::GroupVersionResource,
        options: wit::ListOptions,
    ) -> Result<wit::ObjectList, wit::ApiError> {
        let options = convert::list_options(options);
        with_wit_client(|c| c.list_objects(&convert::gvr(gvr), &options)).map(convert::object_list)
    }

    fn create_object(
        gvr: wit::GroupVersionResource,
        namespace: Option<String>,
        object: String,
        options: wit::WriteOptions,
    ) -> Result<String, wit::ApiError> {
        let options = convert::write_options(options);
        with_wit_client(|c| {
            c.create_object(
                &convert::gvr(gvr),
                namespace.as_deref(),
                object.as_bytes(),
                &options,
            )
        })
        .map(|v| v.to_string())
    }

    fn replace_object(
        gvr: wit::GroupVersionResource,
        namespace: Option<String>,
        name: String,
        object: String,
        options: wit::WriteOptions,
    ) -> Result<String, wit::ApiError> {
        let options = convert::write_options(options);
        with_wit_client(|c| {
            c.replace_object(
                &convert::gvr(gvr),
                namespace.as_deref(),
                &name,
                object.as_bytes(),
                &options,
            )
        })
        .map(|v| v.to_string())
    }

    fn patch_object(
        gvr: wit::GroupVersionResource,
        namespace: Option<String>,
        name: String,
        patch_type: wit::PatchType,
        patch: String,
        options: wit::WriteOptions,
    ) -> Result<String, wit::ApiError> {
        let options = convert::write_options(options);
        with_wit_client(|c| {
            c.patch_object(
                &convert::gvr(gvr),
                namespace.as_deref(),
                &name,
                convert::patch_type(patch_type),
                patch.as_bytes(),
                &options,
            )
        })
        .map(|v| v.to_string())
    }

    fn delete_object(
        gvr: wit::GroupVersionResource,
        namespace: Option<String>,
        name: String,
        options: wit::DeleteOptions,
    ) -> Result<String, wit::ApiError> {
        let options = convert::delete_options(options);
        with_wit_client(|c| {
            c.delete_object(&convert::gvr(gvr), namespace.as_deref(), &name, &options)
        })
        .map(|v| v.to_string())
    }

    fn delete_collection(
        gvr: wit::GroupVersionResource,
        selection: wit::ListOptions,
        options: wit::DeleteOptions,
    ) -> Result<String, wit::ApiError> {
        let selection = convert::list_options(selection);
        let options = convert::delete_options(options);
        with_wit_client(|c| c.delete_collection(&convert::gvr(gvr), &selection, &options))
            .map(|v| v.to_string())
    }

    fn request(
        method: String,
        path: String,
        query: Vec<(String, String)>,
        headers: Vec<(String, String)>,
        body: Option<String>,
    ) -> Result<wit::ApiResponse, wit::ApiError> {
        if !path.starts_with('/') {
            return Err(wit::ApiError::Invalid(format!(
                "path {path:?} must start with /"
            )));
        }
        let mut headers: Vec<(String, String)> = headers
            .into_iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v))
            .collect();
        if body.is_some() && !headers.iter().any(|(k, _)| k == "content-type") {
            headers.push(("content-type".into(), "application/json".into()));
        }
        let method = method.to_ascii_uppercase();
        with_wit_client(|c| {
            let mut r = c.send(
                &method,
                &api::path_with_query(&path, &query),
                &headers,
                body.as_deref().map(str::as_bytes),
            )?;
            let bytes = api::read_all(r.body.as_mut(), api::MAX_BODY)?;
            Ok(wit::ApiResponse {
                status: r.status,
                headers: std::mem::take(&mut r.headers),
                body: String::from_utf8_lossy(&bytes).into_owned(),
            })
        })
    }

    fn patch_self_labels(changes: Vec<(String, Option<String>)>) -> Result<String, wit::ApiError> {
        patch_self(fields::METADATA_LABELS, changes)
    }

    fn patch_self_annotations(
        changes: Vec<(String, Option<String>)>,
    ) -> Result<String, wit::ApiError> {
        patch_self(fields::METADATA_ANNOTATIONS, changes)
    }

    fn record_event(event: wit::EventOptions) -> Result<String, wit::ApiError> {
        let info = Context::from_process().info();
        let event = crate::event_recorder::EventRequest {
            reason: event.reason,
            note: event.note,
            warning: matches!(event.event_type, wit::EventType::Warning),
            action: event.action,
            reporting_controller: event.reporting_controller,
            reporting_instance: event.reporting_instance,
        };
        with_wit_client(|c| crate::event_recorder::record(c, &info, &event)).map(|v| v.to_string())
    }
}

/// `patch-self-labels` / `patch-self-annotations`: one merge patch on this pod's `field`.
fn patch_self(
    field: &str,
    changes: Vec<(String, Option<String>)>,
) -> Result<String, wit::ApiError> {
    let info = Context::from_process().info();
    with_wit_client(|c| crate::self_pod::patch_map(c, &info, field, &changes, true))
        .map(|v| v.to_string())
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
pub struct WatchResource(RefCell<api::ObjectWatch>);

impl wit::GuestPodWatch for WatchResource {
    fn new(o: wit::WatchOptions) -> Self {
        WatchResource(RefCell::new(api::ObjectWatch::pods(
            convert::watch_options(o),
        )))
    }

    fn next(&self) -> Result<wit::WatchEvent, wit::ApiError> {
        with_wit_client(|c| self.0.borrow_mut().next(c)).map(convert::watch_event)
    }

    fn resource_version(&self) -> Option<String> {
        self.0.borrow().resource_version()
    }
}

/// The `object-watch` resource.
pub struct ObjectWatchResource(RefCell<api::ObjectWatch>);

impl wit::GuestObjectWatch for ObjectWatchResource {
    fn new(gvr: wit::GroupVersionResource, o: wit::WatchOptions) -> Self {
        ObjectWatchResource(RefCell::new(api::ObjectWatch::new(
            convert::gvr(gvr),
            convert::watch_options(o),
        )))
    }

    fn next(&self) -> Result<wit::WatchEvent, wit::ApiError> {
        with_wit_client(|c| self.0.borrow_mut().next(c)).map(convert::watch_event)
    }

    fn resource_version(&self) -> Option<String> {
        self.0.borrow().resource_version()
    }
}

/// The `pod-changes` resource: a [`Follower`] and its poll interval.
pub struct PodChangesResource {
    follower: RefCell<Follower>,
    interval: Duration,
}

impl wit::GuestPodChanges for PodChangesResource {
    fn new(interval_ms: Option<u32>) -> Self {
        let interval_ms = interval_ms.unwrap_or(DEFAULT_INTERVAL_MS).max(1);
        PodChangesResource {
            follower: RefCell::new(Follower::from_process()),
            interval: Duration::from_millis(u64::from(interval_ms)),
        }
    }

    fn next(&self, timeout_ms: Option<u32>) -> Option<wit::PodChange> {
        let timeout = timeout_ms.map(|t| Duration::from_millis(u64::from(t)));
        self.follower
            .borrow_mut()
            .next(self.interval, timeout, &read_process_view)
            .map(convert::pod_change)
    }

    fn subscribe(&self) -> wit::Pollable {
        let ns = u64::try_from(self.interval.as_nanos()).unwrap_or(u64::MAX);
        clock::subscribe_duration(ns)
    }

    fn current(&self) -> wit::PodInfo {
        convert::info(self.follower.borrow().view().clone())
    }
}
