//! The pod-introspect guest component.
//!
//! Implements the WIT interface `pod-introspect:pod/pod-introspect` (see `wit/pod-introspect.wit`)
//! with standard WASI 0.2 imports only: the filesystem for downwardAPI and ServiceAccount volume
//! files, `wasi:cli/environment` for env vars, `wasi:http/outgoing-handler` for the Kubernetes
//! API. It also exports `wasi:cli/run`, which prints the same JSON as `info-json`, so `wasmtime
//! run` (or any component runtime) can run it as a command; see [`command`] for its arguments.
//! And it exports `wasi:config/store@0.2.0-rc.1`, the pod's metadata as flat keys; see
//! [`config_store`].

pub mod api;
pub mod command;
pub mod config_store;
pub mod hints;
pub mod mapping;
pub mod model;
pub mod report;
pub mod resolve;
pub mod self_pod;
pub mod volume;

#[cfg(test)]
mod tests;

#[cfg(target_arch = "wasm32")]
mod component;
#[cfg(target_arch = "wasm32")]
mod wasi_http;

use model::Problem;
use pod_introspect_kube::fields;
use resolve::Context;

/// One key of labels or annotations.
pub fn map_key(ctx: &Context, field: &str, key: &str) -> Result<Option<String>, Problem> {
    let mut errors = Vec::new();
    if let Some((map, _)) = ctx.map(field, &mut errors) {
        return Ok(map.get(key).cloned());
    }
    let subscripted = format!("{field}['{key}']");
    if let Some((value, _)) = ctx.scalar(&subscripted, &mut errors) {
        return Ok(Some(value));
    }
    Err(errors
        .into_iter()
        .next()
        .map(|e| e.problem)
        .unwrap_or_else(|| ctx.not_exposed(field)))
}

/// One field by fieldPath.
pub fn field(ctx: &Context, path: &str) -> Result<String, Problem> {
    if let Some((base, key)) = fields::split_subscript(path) {
        // The kubelet gives "" for a missing key (pkg/fieldpath/fieldpath.go ExtractFieldPathAsString).
        return map_key(ctx, base, key).map(Option::unwrap_or_default);
    }
    let mut errors = Vec::new();
    let found = match path {
        fields::STATUS_POD_IPS | fields::STATUS_HOST_IPS => {
            ctx.ip_list(path, &mut errors).map(|(ips, _)| ips.join(","))
        }
        p if fields::SCALAR_FIELD_PATHS.contains(&p) => {
            ctx.scalar(p, &mut errors).map(|(v, _)| v).or_else(|| {
                // status.podIP / status.hostIP: the first of the list when only the list is exposed.
                let list = match p {
                    fields::STATUS_POD_IP => fields::STATUS_POD_IPS,
                    fields::STATUS_HOST_IP => fields::STATUS_HOST_IPS,
                    _ => return None,
                };
                ctx.ip_list(list, &mut errors)
                    .and_then(|(ips, _)| ips.into_iter().next())
            })
        }
        _ => None,
    };
    found.ok_or_else(|| {
        errors
            .into_iter()
            .next()
            .map(|e| e.problem)
            .unwrap_or_else(|| ctx.not_exposed(path))
    })
}
