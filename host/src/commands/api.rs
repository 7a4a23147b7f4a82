//! `pod-introspect api ...`: Kubernetes API calls made by the bundled guest through wasi:http
//! (its typed exports), with the host supplying TLS that trusts the pod's ServiceAccount
//! `ca.crt`. Output as the guest's own `api` command prints it (`cli_output`): one line per JSON
//! document unless `--pretty`; an API error is `{"error": {...}}` and exit status 1.

use crate::bundled::{BundledGuest, GuestHost, event_type, failure, print_stderr, print_stdout};
use crate::cli::{ApiArgs, ApiCall, SelectorArgs};
use crate::runtime::bindings::exports::pod_introspect::pod::pod_introspect as wit;
use anyhow::{Result, bail};
use pod_introspect_kube::cli_output;
use pod_introspect_kube::fields::METADATA_NAMESPACE;
use std::process::ExitCode;

/// The `api` subcommand.
pub async fn run(args: ApiArgs) -> Result<ExitCode> {
    // A watch runs until stopped (or --max-events); everything else gets the default deadline.
    let watching = matches!(args.call, ApiCall::Watch(_));
    let default_timeout = if watching {
        0.0
    } else {
        super::DEFAULT_TIMEOUT_SECS
    };
    let query = match &args.call {
        ApiCall::Get { query, .. } => parse_query(query)?,
        _ => Vec::new(),
    };
    if let ApiCall::Get { path, .. } = &args.call
        && !path.starts_with('/')
    {
        bail!("api get {path:?}: PATH must start with /, e.g. /api/v1/namespaces");
    }
    let host = GuestHost::from_flags(&args.sandbox, default_timeout)?;
    let mut guest = BundledGuest::start(&host).await?;
    host.within_deadline(call(&mut guest, &args.call, &query, args.pretty))
        .await
}

/// `--query NAME=VALUE` flags as pairs. Errors name the flag.
fn parse_query(query: &[String]) -> Result<Vec<(String, String)>> {
    query
        .iter()
        .map(|q| match q.split_once('=') {
            Some((k, v)) => Ok((k.to_string(), v.to_string())),
            None => bail!("--query {q:?}: takes NAME=VALUE, e.g. --query limit=5"),
        })
        .collect()
}

/// Prints `v`; exit status 0.
fn print(v: &serde_json::Value, pretty: bool) -> ExitCode {
    print_stdout(&cli_output::render(v, pretty));
    ExitCode::SUCCESS
}

/// Prints an API error (JSON on stdout, a summary on stderr); exit status 1.
fn print_error(e: &wit::ApiError, pretty: bool) -> ExitCode {
    let f = failure(e);
    print_stdout(&cli_output::render(&f.json(), pretty));
    print_stderr(&f.summary());
    ExitCode::FAILURE
}

/// The namespace to list or watch (`cli_output::list_namespace`): this pod's own is asked of the
/// guest only when neither -A nor -n is given.
async fn namespace(guest: &mut BundledGuest, s: &SelectorArgs) -> Result<Option<String>> {
    let own = if s.all_namespaces || s.namespace.is_some() {
        None
    } else {
        guest.field(METADATA_NAMESPACE).await?.ok()
    };
    Ok(cli_output::list_namespace(
        s.all_namespaces,
        s.namespace.as_deref(),
        || own,
    ))
}

async fn call(
    guest: &mut BundledGuest,
    call: &ApiCall,
    query: &[(String, String)],
    pretty: bool,
) -> Result<ExitCode> {
    let json = cli_output::json_or_string;
    Ok(match call {
        ApiCall::Version => match guest.server_version().await? {
            Ok(v) => print(&json(&v), pretty),
            Err(e) => print_error(&e, pretty),
        },
        ApiCall::SelfPod => match guest.self_pod().await? {
            Ok(pod) => print(&json(&pod), pretty),
            Err(e) => print_error(&e, pretty),
        },
        ApiCall::Get { path, .. } => match guest.get(path, query).await? {
            Ok(r) => {
                print(&cli_output::get_response(r.status, &r.body), pretty);
                if cli_output::get_succeeded(r.status) {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::FAILURE
                }
            }
            Err(e) => print_error(&e, pretty),
        },
        ApiCall::Pods(p) => {
            let options = wit::ListOptions {
                namespace: namespace(guest, &p.select).await?,
                label_selector: p.select.selector.clone(),
                field_selector: p.select.field_selector.clone(),
                limit: p.limit,
                continue_token: p.continue_token.clone(),
                resource_version: None,
            };
            match guest.list_pods(&options).await? {
                Ok(list) => print(
                    &cli_output::pod_list(
                        &list.items,
                        &list.resource_version,
                        list.continue_token.as_deref(),
                        list.remaining_item_count,
                    ),
                    pretty,
                ),
                Err(e) => print_error(&e, pretty),
            }
        }
        ApiCall::Watch(w) => {
            let options = wit::WatchOptions {
                namespace: namespace(guest, &w.select).await?,
                label_selector: w.select.selector.clone(),
                field_selector: w.select.field_selector.clone(),
                resource_version: w.resource_version.clone(),
                allow_bookmarks: w.bookmarks,
                timeout_seconds: w.timeout_seconds,
            };
            let watch = guest.watch(&options).await?;
            let mut seen = 0u64;
            let mut code = ExitCode::SUCCESS;
            while w.max_events.is_none_or(|m| seen < m) {
                match guest.next_event(&watch).await? {
                    Ok(ev) => {
                        let line = cli_output::watch_event(event_type(ev.kind), &ev.object);
                        print_stdout(&cli_output::render(&line, pretty));
                        seen += 1;
                    }
                    Err(e) => {
                        code = print_error(&e, pretty);
                        break;
                    }
                }
            }
            guest.end_watch(watch).await?;
            code
        }
    })
}
