//! The `info` report of a command line: what the guest's `wasi:cli/run` prints, and what the WIT
//! export `info-report` hands the host's `pod-introspect info`, built once for both.
//!
//! The Downward API as read ([`Context::info`]), with `api` completed from this pod's object
//! ([`crate::self_pod::complete`]), rendered by [`PodInfo::to_json`], and, when no Downward API
//! source was found at all, the note naming where the guest looked
//! ([`pod_introspect_kube::cli_output::nothing_found`]).

use crate::api::{ApiError, Client, Transport};
use crate::model::{FieldError, PodInfo, Problem};
use crate::resolve::Context;
use pod_introspect_kube::cli_output::{self, Searched};

/// The report (WIT `command-report`, what `info-report` returns).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InfoReport {
    /// The JSON document.
    pub json: String,
    /// How many entries its `errors` has.
    pub error_count: u32,
    /// The note when no Downward API source was found.
    pub nothing_found: Option<String>,
}

/// Whether `info` (the Downward API alone, before any API completion) found no source at all:
/// no field, and no error, since a malformed file is a source found.
pub fn found_nothing(info: &PodInfo) -> bool {
    info.sources.is_empty() && info.errors.is_empty()
}

/// The note for `ctx` when it found nothing (see [`cli_output::nothing_found`]).
pub fn nothing_found_note(ctx: &Context) -> String {
    let env_names = ctx.env_names();
    cli_output::nothing_found(&Searched {
        volume_dirs: ctx.volume_dirs(),
        env_names: &env_names,
        service_account_dir: ctx.service_account_dir(),
    })
}

/// Builds the report from `ctx`; with `api`, `client` makes the API client (its failure is an
/// error of field `self`, as a failed lookup is).
pub fn build<T: Transport>(
    ctx: &Context,
    api: bool,
    pretty: bool,
    client: &mut dyn FnMut() -> Result<Client<T>, ApiError>,
) -> InfoReport {
    let mut info = ctx.info();
    let nothing_found = found_nothing(&info).then(|| nothing_found_note(ctx));
    if api {
        match client() {
            Ok(mut c) => crate::self_pod::complete(&mut c, &mut info),
            Err(e) => info.errors.push(FieldError {
                field: "self".into(),
                source: None,
                problem: Problem::Api(e),
            }),
        }
    }
    InfoReport {
        json: info.to_json(pretty),
        error_count: u32::try_from(info.errors.len()).unwrap_or(u32::MAX),
        nothing_found,
    }
}

#[cfg(test)]
mod tests;
