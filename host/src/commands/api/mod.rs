//! `pod-introspect api ...`: Kubernetes API calls made by the bundled guest through wasi:http
//! (its typed exports), with the host supplying TLS that trusts the pod's ServiceAccount
//! `ca.crt`. Output as the guest's own `api` command prints it (`cli_output`): one line per JSON
//! document unless `--pretty`; an API error is `{"error": {...}}` and exit status 1.
//!
//! - [`read`]: `version`, `self`, `get`, `list`, `pods`, `watch`;
//! - [`write`]: `create`, `replace`, `apply`, `patch`, `delete`, `label`, `annotate`, and the
//!   object files they read;
//! - [`leader`]: `leader-elect`, and `event`.

mod leader;
mod read;
mod write;

use crate::bundled::{BundledGuest, GuestHost, failure, print_stderr, print_stdout};
use crate::cli::{ApiArgs, ApiCall, SelectorArgs};
use crate::runtime::bindings::exports::pod_introspect::pod::pod_introspect as wit;
use anyhow::Result;
use pod_introspect_kube::cli_output;
use pod_introspect_kube::fields::METADATA_NAMESPACE;
use std::process::ExitCode;

/// The `api` subcommand.
pub async fn run(args: ApiArgs) -> Result<ExitCode> {
    // A watch or an election runs until stopped; everything else gets the default deadline.
    let long_running = matches!(args.call, ApiCall::Watch(_) | ApiCall::LeaderElect(_));
    let default_timeout = if long_running {
        0.0
    } else {
        super::DEFAULT_TIMEOUT_SECS
    };
    // Flags are checked before the guest starts, so a typo costs no compile.
    let prepared = Prepared::check(&args.call)?;
    let host = GuestHost::from_flags(&args.sandbox, default_timeout)?;
    let mut guest = BundledGuest::start(&host).await?;
    let pretty = args.pretty;
    if let ApiCall::LeaderElect(a) = &args.call {
        // Its own deadline handling: it runs until a signal.
        return leader::elect(&mut guest, a, pretty).await;
    }
    host.within_deadline(call(&mut guest, &args.call, &prepared, pretty))
        .await
}

/// What was parsed from the flags before the guest starts.
#[derive(Default)]
struct Prepared {
    /// `get PATH --query`.
    query: Vec<(String, String)>,
    /// The object of `create`, `replace`, `apply`.
    object: Option<serde_json::Value>,
    /// The changes of `label` / `annotate`.
    changes: Vec<(String, Option<String>)>,
}

impl Prepared {
    fn check(call: &ApiCall) -> Result<Prepared> {
        let mut p = Prepared::default();
        match call {
            ApiCall::Get(g) => p.query = read::parse_query(&g.query)?,
            ApiCall::Create(f) | ApiCall::Replace(f) => {
                p.object = Some(write::read_object(&f.file)?)
            }
            ApiCall::Apply(a) => {
                if a.file.field_manager.is_none() {
                    anyhow::bail!(
                        "apply needs --field-manager NAME: server-side apply records which manager owns each field"
                    );
                }
                p.object = Some(write::read_object(&a.file.file)?);
            }
            ApiCall::Label(m) | ApiCall::Annotate(m) => {
                p.changes = write::parse_changes(&m.changes)?
            }
            ApiCall::LeaderElect(a) => {
                leader::durations(a)?;
            }
            _ => {}
        }
        Ok(p)
    }
}

/// Prints `v`; exit status 0.
fn print(v: &serde_json::Value, pretty: bool) -> ExitCode {
    print_stdout(&cli_output::render(v, pretty));
    ExitCode::SUCCESS
}

/// Prints a JSON text the guest returned; exit status 0.
fn print_text(text: &str, pretty: bool) -> ExitCode {
    print(&cli_output::json_or_string(text), pretty)
}

/// Prints an API error (JSON on stdout, a summary on stderr); exit status 1.
fn print_error(e: &wit::ApiError, pretty: bool) -> ExitCode {
    let f = failure(e);
    print_stdout(&cli_output::render(&f.json(), pretty));
    print_stderr(&f.summary());
    ExitCode::FAILURE
}

/// A guest result printed: the JSON on success, the error otherwise.
fn print_result(r: Result<String, wit::ApiError>, pretty: bool) -> ExitCode {
    match r {
        Ok(text) => print_text(&text, pretty),
        Err(e) => print_error(&e, pretty),
    }
}

/// This pod's own namespace, from the Downward API, if exposed.
async fn own_namespace(guest: &mut BundledGuest) -> Result<Option<String>> {
    Ok(guest.field(METADATA_NAMESPACE).await?.ok())
}

/// The namespace to list or watch (`cli_output::list_namespace`): this pod's own is asked of the
/// guest only when neither -A nor -n is given.
async fn namespace(guest: &mut BundledGuest, s: &SelectorArgs) -> Result<Option<String>> {
    let own = if s.all_namespaces || s.namespace.is_some() {
        None
    } else {
        own_namespace(guest).await?
    };
    Ok(cli_output::list_namespace(
        s.all_namespaces,
        s.namespace.as_deref(),
        || own,
    ))
}

/// The list options of the selector flags `s` in `namespace`; the rest unset.
fn selection(namespace: Option<String>, s: &SelectorArgs) -> wit::ListOptions {
    wit::ListOptions {
        namespace,
        label_selector: s.selector.clone(),
        field_selector: s.field_selector.clone(),
        limit: None,
        continue_token: None,
        resource_version: None,
        resource_version_match: None,
        timeout_seconds: None,
    }
}

/// The namespace of one object of `resource`: none for a cluster-scoped resource, else `-n`,
/// else this pod's own, else `default`.
async fn object_namespace(
    guest: &mut BundledGuest,
    resource: &wit::ApiResource,
    flag: Option<&str>,
) -> Result<Option<String>> {
    if !resource.namespaced {
        return Ok(None);
    }
    if let Some(ns) = flag {
        return Ok(Some(ns.to_string()));
    }
    Ok(Some(
        own_namespace(guest)
            .await?
            .unwrap_or_else(|| "default".into()),
    ))
}

/// The resource type `name` names, through the guest's discovery.
async fn resolve(
    guest: &mut BundledGuest,
    name: &str,
) -> Result<Result<wit::ApiResource, wit::ApiError>> {
    guest
        .call(async |g, s| g.call_resolve_resource(s, name).await)
        .await
}

async fn call(
    guest: &mut BundledGuest,
    call: &ApiCall,
    prepared: &Prepared,
    pretty: bool,
) -> Result<ExitCode> {
    match call {
        ApiCall::Version
        | ApiCall::SelfPod
        | ApiCall::Get(_)
        | ApiCall::List(_)
        | ApiCall::Pods(_)
        | ApiCall::Watch(_) => read::call(guest, call, &prepared.query, pretty).await,
        ApiCall::Create(_)
        | ApiCall::Replace(_)
        | ApiCall::Apply(_)
        | ApiCall::Patch(_)
        | ApiCall::Delete(_)
        | ApiCall::Label(_)
        | ApiCall::Annotate(_) => write::call(guest, call, prepared, pretty).await,
        ApiCall::Event(e) => leader::event(guest, e, pretty).await,
        ApiCall::LeaderElect(a) => leader::elect(guest, a, pretty).await,
    }
}
