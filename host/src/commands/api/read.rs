//! `api version`, `self`, `get`, `list`, `pods` and `watch`.

use super::{namespace, object_namespace, print, print_error, print_result, resolve, selection};
use crate::bundled::{BundledGuest, event_type, print_stderr, print_stdout};
use crate::cli::{ApiCall, GetArgs, ListArgs, SelectorArgs, WatchArgs};
use crate::runtime::bindings::exports::pod_introspect::pod::pod_introspect as wit;
use anyhow::{Result, bail};
use pod_introspect_kube::cli_output;
use std::process::ExitCode;

/// `--query NAME=VALUE` flags as pairs. Errors name the flag.
pub(super) fn parse_query(query: &[String]) -> Result<Vec<(String, String)>> {
    query
        .iter()
        .map(|q| match q.split_once('=') {
            Some((k, v)) => Ok((k.to_string(), v.to_string())),
            None => bail!("--query {q:?}: takes NAME=VALUE, e.g. --query limit=5"),
        })
        .collect()
}

/// The list options of `-n`/`-A`/`-l`/`--field-selector` for `resource`.
async fn list_options(
    guest: &mut BundledGuest,
    resource: &wit::ApiResource,
    s: &SelectorArgs,
) -> Result<wit::ListOptions> {
    let namespace = if resource.namespaced {
        namespace(guest, s).await?
    } else {
        None
    };
    Ok(selection(namespace, s))
}

pub(super) async fn call(
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
        ApiCall::Get(g) if g.target.starts_with('/') => raw_get(guest, g, query, pretty).await?,
        ApiCall::Get(g) => match &g.name {
            Some(name) => get_one(guest, g, name, pretty).await?,
            None => {
                let list = ListArgs {
                    resource: g.target.clone(),
                    select: g.select.clone(),
                    limit: None,
                    continue_token: None,
                    chunk_size: 500,
                    resource_version: None,
                };
                list_all(guest, &list, pretty).await?
            }
        },
        ApiCall::List(l) => list_all(guest, l, pretty).await?,
        ApiCall::Pods(p) => {
            let options = wit::ListOptions {
                limit: p.limit,
                continue_token: p.continue_token.clone(),
                ..selection(namespace(guest, &p.select).await?, &p.select)
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
        ApiCall::Watch(w) => watch(guest, w, pretty).await?,
        _ => ExitCode::FAILURE,
    })
}

/// `api get /PATH`: `{"status", "body"}`, exit status 1 unless 2xx.
async fn raw_get(
    guest: &mut BundledGuest,
    g: &GetArgs,
    query: &[(String, String)],
    pretty: bool,
) -> Result<ExitCode> {
    if g.name.is_some() {
        bail!(
            "api get {}: a PATH takes no NAME; use `api get RESOURCE NAME` or put the name in the path",
            g.target
        );
    }
    Ok(match guest.get(&g.target, query).await? {
        Ok(r) => {
            print(&cli_output::get_response(r.status, &r.body), pretty);
            if cli_output::get_succeeded(r.status) {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => print_error(&e, pretty),
    })
}

/// `api get RESOURCE NAME`.
async fn get_one(
    guest: &mut BundledGuest,
    g: &GetArgs,
    name: &str,
    pretty: bool,
) -> Result<ExitCode> {
    if !g.query.is_empty() {
        bail!("--query is for `api get /PATH`; with RESOURCE NAME use the typed flags");
    }
    let resource = match resolve(guest, &g.target).await? {
        Ok(r) => r,
        Err(e) => return Ok(print_error(&e, pretty)),
    };
    let ns = object_namespace(guest, &resource, g.select.namespace.as_deref()).await?;
    let options = wit::GetOptions {
        subresource: g.subresource.clone(),
        resource_version: None,
    };
    let r = guest
        .call(async |x, s| {
            x.call_get_object(s, &resource.gvr, ns.as_deref(), name, &options)
                .await
        })
        .await?;
    Ok(print_result(r, pretty))
}

/// `api list RESOURCE` (and `api get RESOURCE`): every page, as kubectl does with
/// `--chunk-size`, printed as one `List` (`kind: List`, as `kubectl get -o json`); with
/// `--limit`, one page with its `metadata.continue`.
async fn list_all(guest: &mut BundledGuest, l: &ListArgs, pretty: bool) -> Result<ExitCode> {
    let resource = match resolve(guest, &l.resource).await? {
        Ok(r) => r,
        Err(e) => return Ok(print_error(&e, pretty)),
    };
    let mut options = list_options(guest, &resource, &l.select).await?;
    options.resource_version = l.resource_version.clone();
    options.limit = Some(l.limit.unwrap_or(l.chunk_size));
    options.continue_token = l.continue_token.clone();
    let mut items = Vec::new();
    loop {
        let page = guest
            .call(async |x, s| x.call_list_objects(s, &resource.gvr, &options).await)
            .await?;
        let page = match page {
            Ok(p) => p,
            Err(e) => return Ok(print_error(&e, pretty)),
        };
        items.extend(page.items);
        match page.continue_token {
            Some(token) if l.limit.is_none() => {
                options.continue_token = Some(token);
                // A continued list is served at the first page's resourceVersion.
                options.resource_version = None;
            }
            token => {
                let mut list = cli_output::pod_list(
                    &items,
                    &page.resource_version,
                    token.as_deref(),
                    page.remaining_item_count.filter(|_| l.limit.is_some()),
                );
                list["kind"] = "List".into();
                list["apiVersion"] = "v1".into();
                return Ok(print(&list, pretty));
            }
        }
    }
}

/// `api watch RESOURCE`: one JSON line per event. Without `--resource-version` the guest lists
/// first (ADDED for each object) and owns its position: a `gone` (410) on a reconnect lists
/// again and goes on, as client-go's reflector does after `too old resource version` (at most
/// three times in a row without an event in between). With `--resource-version RV` the caller
/// owns the position, and a 410 ends the watch with the `gone` error (status 1), so the caller
/// lists again. Other errors end the watch with status 1.
async fn watch(guest: &mut BundledGuest, w: &WatchArgs, pretty: bool) -> Result<ExitCode> {
    let resource = match resolve(guest, &w.resource).await? {
        Ok(r) => r,
        Err(e) => return Ok(print_error(&e, pretty)),
    };
    let ns = if resource.namespaced {
        namespace(guest, &w.select).await?
    } else {
        None
    };
    let mut options = wit::WatchOptions {
        namespace: ns,
        label_selector: w.select.selector.clone(),
        field_selector: w.select.field_selector.clone(),
        resource_version: w.resource_version.clone(),
        allow_bookmarks: w.bookmarks,
        timeout_seconds: w.timeout_seconds,
    };
    let mut seen = 0u64;
    let mut gone_in_a_row = 0;
    loop {
        let seen_before = seen;
        let watch = guest
            .call(async |x, s| {
                x.object_watch()
                    .call_constructor(s, &resource.gvr, &options)
                    .await
            })
            .await?;
        let mut outcome = None;
        while w.max_events.is_none_or(|m| seen < m) {
            let next = guest
                .call(async |x, s| x.object_watch().call_next(s, watch).await)
                .await?;
            match next {
                Ok(ev) => {
                    let line = cli_output::watch_event(event_type(ev.kind), &ev.object);
                    print_stdout(&cli_output::render(&line, pretty));
                    seen += 1;
                }
                Err(e) => {
                    outcome = Some(e);
                    break;
                }
            }
        }
        guest.drop_resource(watch).await?;
        match outcome {
            None => return Ok(ExitCode::SUCCESS),
            Some(wit::ApiError::Gone(s)) if w.resource_version.is_none() && gone_in_a_row < 3 => {
                gone_in_a_row = if seen > seen_before {
                    1
                } else {
                    gone_in_a_row + 1
                };
                print_stderr(&format!(
                    "watch: {} {}: {}; listing again",
                    s.code, s.reason, s.message
                ));
                options.resource_version = None;
            }
            Some(e) => return Ok(print_error(&e, pretty)),
        }
    }
}
