//! The WIT glue: generated bindings, conversions from the guest's model, and the exports.
//! Only built for wasm32 (the export symbols are component-model names a native linker rejects).

use crate::model::{PodInfo, Problem, ResourceValue, Source};
use crate::resolve::Context;
use crate::{field, map_key, run_command};
use pod_introspect_downward::fields;

mod bindings {
    wit_bindgen::generate!({
        path: "../wit",
        world: "introspector",
        generate_all,
    });
}

use bindings::exports::pod_introspect::pod::pod_introspect as wit;

struct Component;

bindings::export!(Component with_types_in bindings);

fn to_wit_source(s: Source) -> wit::Source {
    match s {
        Source::VolumeFile(p) => wit::Source::VolumeFile(p),
        Source::Env(n) => wit::Source::Env(n),
        Source::ServiceAccount(p) => wit::Source::ServiceAccount(p),
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
}

impl bindings::exports::wasi::cli::run::Guest for Component {
    fn run() -> Result<(), ()> {
        let args: Vec<String> = std::env::args().skip(1).collect();
        if run_command(&args) { Ok(()) } else { Err(()) }
    }
}
