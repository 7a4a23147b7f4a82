//! The `wasi:cli/run` command line of the guest component:
//!
//! ```text
//! pod-introspect-guest.wasm [info] [--pretty] [--strict] [--api]
//! pod-introspect-guest.wasm watch-pod [--interval MS] [--count N]
//! pod-introspect-guest.wasm api [--pretty] version
//! pod-introspect-guest.wasm api [--pretty] get PATH [--query NAME=VALUE]...
//! pod-introspect-guest.wasm api [--pretty] get RESOURCE NAME [-n NAMESPACE]
//! pod-introspect-guest.wasm api [--pretty] label|annotate self [--overwrite] KEY=VALUE|KEY-...
//! pod-introspect-guest.wasm api [--pretty] event --reason R --message M [--type Normal|Warning]
//! pod-introspect-guest.wasm api [--pretty] pods [-n NAMESPACE | -A] [-l SELECTOR] [--field-selector SELECTOR] [--limit N] [--continue TOKEN]
//! pod-introspect-guest.wasm api [--pretty] self
//! pod-introspect-guest.wasm api [--pretty] watch pods [-n NAMESPACE | -A] [-l SELECTOR] [--field-selector SELECTOR] [--resource-version RV] [--bookmarks] [--timeout-seconds N] [--max-events N]
//! ```
//!
//! (`--pretty` may also follow the subcommand.) Everything prints JSON on stdout, one line per
//! document unless `--pretty` (watch: one event per line). Exit status 1 on an API error (also
//! printed as `{"error": {...}}`), a bad argument, or, under `--strict`, field errors or no Downward
//! API source found at all. The output is rendered by [`pod_introspect_kube::cli_output`] and
//! [`crate::report`], as the host's `pod-introspect info` / `api` render it.

use crate::api::{self, ApiError, Client, ListOptions, ObjectWatch, Transport, WatchOptions};
use crate::resolve::Context;
use pod_introspect_kube::cli_output::{self, WatchEventType};
use serde_json::Value;

/// `println!` that ignores a closed stdout (e.g. `| head`) instead of panicking.
macro_rules! out {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($t)*);
    }};
}

/// `eprintln!` that ignores a closed stderr.
macro_rules! err {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($t)*);
    }};
}

const USAGE: &str = "usage:
  pod-introspect-guest.wasm [info] [--pretty] [--strict] [--api]
  pod-introspect-guest.wasm watch-pod [--interval MS] [--count N]
  pod-introspect-guest.wasm api [--pretty] version
  pod-introspect-guest.wasm api [--pretty] get PATH [--query NAME=VALUE]...
  pod-introspect-guest.wasm api [--pretty] get RESOURCE NAME [-n NAMESPACE]
  pod-introspect-guest.wasm api [--pretty] label|annotate self [--overwrite] KEY=VALUE|KEY-...
  pod-introspect-guest.wasm api [--pretty] event --reason R --message M [--type Normal|Warning]
  pod-introspect-guest.wasm api [--pretty] pods [-n NAMESPACE | -A] [-l SELECTOR] [--field-selector SELECTOR] [--limit N] [--continue TOKEN]
  pod-introspect-guest.wasm api [--pretty] self
  pod-introspect-guest.wasm api [--pretty] watch pods [-n NAMESPACE | -A] [-l SELECTOR] [--field-selector SELECTOR] [--resource-version RV] [--bookmarks] [--timeout-seconds N] [--max-events N]

JSON is printed on one line unless --pretty. info prints what the pod exposes through the Downward API (--api: fill the rest from this pod's
object in the Kubernetes API); api talks to the API server found by in-cluster config
(KUBERNETES_SERVICE_HOST/PORT and the ServiceAccount token) or POD_INTROSPECT_API_URL.";

/// Something wrong with the command line.
fn usage_error(msg: &str) -> bool {
    err!("error: {msg}\n\n{USAGE}");
    false
}

fn print_api_error(e: &ApiError, pretty: bool) -> bool {
    let failure = e.failure();
    print_json(&failure.json(), pretty);
    err!("{}", failure.summary());
    false
}

/// Prints a call's document, or its error; false for exit status 1.
fn print_outcome(r: Result<Value, ApiError>, pretty: bool) -> bool {
    match r {
        Ok(v) => {
            print_json(&v, pretty);
            true
        }
        Err(e) => print_api_error(&e, pretty),
    }
}

fn print_json(v: &Value, pretty: bool) {
    out!("{}", cli_output::render(v, pretty));
}

/// Takes the value of flag `flag` at `args[*i]`.
fn value<'a>(args: &'a [String], i: &mut usize, flag: &str) -> Result<&'a str, String> {
    *i += 1;
    args.get(*i)
        .map(String::as_str)
        .ok_or_else(|| format!("{flag} needs a value"))
}

/// Takes the numeric value of flag `flag` at `args[*i]`.
fn number<T: std::str::FromStr>(args: &[String], i: &mut usize, flag: &str) -> Result<T, String> {
    let v = value(args, i, flag)?;
    v.parse().map_err(|_| format!("{flag} {v:?}: not a number"))
}

/// Runs the command line `args` (without `argv[0]`). `client` makes the API client on first use.
/// Returns false for exit status 1.
pub fn run<T: Transport>(
    args: &[String],
    client: &mut dyn FnMut() -> Result<Client<T>, ApiError>,
) -> bool {
    match args.first().map(String::as_str) {
        Some("api") => api_command(&args[1..], client),
        Some("info") => info_command(&args[1..], client),
        Some("watch-pod") => watch_pod_command(&args[1..]),
        Some("--help" | "-h" | "help") => {
            out!("{USAGE}");
            true
        }
        _ => info_command(args, client),
    }
}

fn info_command<T: Transport>(
    args: &[String],
    client: &mut dyn FnMut() -> Result<Client<T>, ApiError>,
) -> bool {
    let (mut pretty, mut strict, mut with_api) = (false, false, false);
    for arg in args {
        match arg.as_str() {
            "--pretty" => pretty = true,
            "--strict" => strict = true,
            "--api" => with_api = true,
            "--help" | "-h" => {
                out!("{USAGE}");
                return true;
            }
            other => {
                return usage_error(&format!(
                    "unknown argument {other:?}; expected --pretty, --strict, --api or --help"
                ));
            }
        }
    }
    let report = crate::report::build(&Context::from_process(), with_api, pretty, client);
    out!("{}", report.json);
    let (lines, failed) = cli_output::info_outcome(
        report.error_count as usize,
        report.nothing_found.as_deref(),
        strict,
    );
    for line in lines {
        err!("{line}");
    }
    !failed
}

/// `watch-pod`: one JSON line per change of the Downward API view (`PodChange::to_json`), every
/// `--interval` ms (default 1000), until `--count` changes were printed (default: forever).
fn watch_pod_command(args: &[String]) -> bool {
    let (mut interval, mut count) = (crate::pod_changes::DEFAULT_INTERVAL_MS, None::<u64>);
    let mut i = 0;
    while i < args.len() {
        let parsed = match args[i].as_str() {
            "--interval" => number(args, &mut i, "--interval").map(|v: u32| interval = v.max(1)),
            "--count" => number(args, &mut i, "--count").map(|v| count = Some(v)),
            other => Err(format!(
                "unknown watch-pod argument {other:?}; expected --interval MS or --count N"
            )),
        };
        if let Err(e) = parsed {
            return usage_error(&e);
        }
        i += 1;
    }
    let mut follower = crate::pod_changes::Follower::from_process();
    err!("{}", cli_output::watch_pod_started(interval));
    let interval = std::time::Duration::from_millis(u64::from(interval));
    let mut printed = 0u64;
    while count.is_none_or(|c| printed < c) {
        if let Some(change) = follower.next(interval, None, &crate::pod_changes::read_process_view)
        {
            out!("{}", change.to_json());
            printed += 1;
        }
    }
    true
}

/// The namespace flags shared by `pods` and `watch pods`: `-n NS`, `-A`, or this pod's own
/// namespace (as kubectl defaults to its context's namespace).
fn default_namespace() -> Option<String> {
    let mut errors = Vec::new();
    Context::from_process()
        .scalar(pod_introspect_kube::fields::METADATA_NAMESPACE, &mut errors)
        .map(|(ns, _)| ns)
}

fn api_command<T: Transport>(
    args: &[String],
    client: &mut dyn FnMut() -> Result<Client<T>, ApiError>,
) -> bool {
    // `--pretty` before the subcommand, as after it.
    let leading = args.iter().take_while(|a| *a == "--pretty").count();
    let pretty_first = leading > 0;
    let args = &args[leading..];
    let Some(sub) = args.first() else {
        return usage_error("api needs a subcommand");
    };
    let rest = &args[1..];
    // version and self take only --pretty.
    let bare = rest.iter().all(|a| a == "--pretty");
    let pretty = pretty_first || !rest.is_empty() && bare;
    let result = match sub.as_str() {
        "version" if bare => client()
            .and_then(|mut c| c.get_json("/version"))
            .map(|v| print_json(&v, pretty)),
        "get" => return api_get(rest, pretty_first, client),
        "label" | "annotate" => return api_patch_self(sub, rest, pretty_first, client),
        "event" => return api_event(rest, pretty_first, client),
        "pods" => return api_pods(rest, pretty_first, client),
        "self" if bare => client().and_then(|mut c| {
            let info = Context::from_process().info();
            crate::self_pod::fetch(&mut c, &info).map(|(_, pod)| print_json(&pod, pretty))
        }),
        // `watch pods`, `--pretty` on either side of `pods`.
        "watch" if rest.iter().find(|a| *a != "--pretty").map(String::as_str) == Some("pods") => {
            let mut flags = rest.to_vec();
            if let Some(at) = flags.iter().position(|a| a == "pods") {
                flags.remove(at);
            }
            return api_watch(&flags, pretty_first, client);
        }
        other => {
            return usage_error(&format!(
                "unknown api subcommand {other:?} or extra arguments"
            ));
        }
    };
    match result {
        Ok(()) => true,
        Err(e) => print_api_error(&e, pretty),
    }
}

fn api_get<T: Transport>(
    args: &[String],
    mut pretty: bool,
    client: &mut dyn FnMut() -> Result<Client<T>, ApiError>,
) -> bool {
    let mut path = None;
    let mut words: Vec<String> = Vec::new();
    let mut namespace = None;
    let mut query = Vec::new();
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "--pretty" => pretty = true,
            "--query" => match value(args, &mut i, "--query").map(|v| v.split_once('=')) {
                Ok(Some((k, v))) => query.push((k.to_string(), v.to_string())),
                Ok(None) => return usage_error("--query takes NAME=VALUE"),
                Err(e) => return usage_error(&e),
            },
            "-n" | "--namespace" => match value(args, &mut i, "--namespace") {
                Ok(v) => namespace = Some(v.to_string()),
                Err(e) => return usage_error(&e),
            },
            p if p.starts_with('/') && path.is_none() && words.is_empty() => {
                path = Some(p.to_string())
            }
            w if !w.starts_with('-') && path.is_none() && words.len() < 2 => words.push(w.into()),
            other => {
                return usage_error(&format!(
                    "api get: unexpected {other:?} (give PATH starting with /, or RESOURCE NAME)"
                ));
            }
        }
        i += 1;
    }
    if let [resource, name] = words.as_slice() {
        let r = client().and_then(|mut c| {
            let found = c.resolve(resource)?;
            let ns = found.namespaced.then(|| {
                namespace
                    .clone()
                    .or_else(default_namespace)
                    .unwrap_or_else(|| "default".into())
            });
            c.get_object(&found.gvr(), ns.as_deref(), name, None, None)
        });
        return print_outcome(r, pretty);
    }
    let Some(path) = path else {
        return usage_error("api get needs a PATH such as /api/v1/namespaces, or RESOURCE NAME");
    };
    match client().and_then(|mut c| c.get_raw(&api::path_with_query(&path, &query))) {
        Ok((status, body)) => {
            let body = String::from_utf8_lossy(&body);
            print_json(&cli_output::get_response(status, &body), pretty);
            cli_output::get_succeeded(status)
        }
        Err(e) => print_api_error(&e, pretty),
    }
}

/// The selector and namespace flags shared by `pods` and `watch pods`.
#[derive(Default)]
struct Selection {
    namespace: Option<String>,
    all: bool,
    label: Option<String>,
    field: Option<String>,
}

fn api_pods<T: Transport>(
    args: &[String],
    mut pretty: bool,
    client: &mut dyn FnMut() -> Result<Client<T>, ApiError>,
) -> bool {
    let mut sel = Selection::default();
    let mut opts = ListOptions::default();
    let mut i = 0;
    while i < args.len() {
        let r = match args[i].as_str() {
            "--pretty" => {
                pretty = true;
                Ok(())
            }
            "--limit" => number(args, &mut i, "--limit").map(|n| opts.limit = Some(n)),
            "--continue" => {
                value(args, &mut i, "--continue").map(|v| opts.continue_token = Some(v.into()))
            }
            "--resource-version" => value(args, &mut i, "--resource-version")
                .map(|v| opts.resource_version = Some(v.into())),
            _ => selection_flag(args, &mut i, &mut sel),
        };
        if let Err(e) = r {
            return usage_error(&e);
        }
        i += 1;
    }
    opts.namespace = resolve_namespace(&sel);
    opts.label_selector = sel.label;
    opts.field_selector = sel.field;
    match client().and_then(|mut c| c.list_pods(&opts)) {
        Ok(list) => {
            let doc = cli_output::pod_list(
                &list.items,
                &list.resource_version,
                list.continue_token.as_deref(),
                list.remaining_item_count,
            );
            print_json(&doc, pretty);
            true
        }
        Err(e) => print_api_error(&e, pretty),
    }
}

fn selection_flag(args: &[String], i: &mut usize, sel: &mut Selection) -> Result<(), String> {
    match args[*i].as_str() {
        "-n" | "--namespace" => sel.namespace = Some(value(args, i, "--namespace")?.to_string()),
        "-A" | "--all-namespaces" => sel.all = true,
        "-l" | "--selector" => sel.label = Some(value(args, i, "--selector")?.to_string()),
        "--field-selector" => sel.field = Some(value(args, i, "--field-selector")?.to_string()),
        other => return Err(format!("unknown argument {other:?}")),
    }
    Ok(())
}

fn resolve_namespace(sel: &Selection) -> Option<String> {
    cli_output::list_namespace(sel.all, sel.namespace.as_deref(), default_namespace)
}

fn api_watch<T: Transport>(
    args: &[String],
    mut pretty: bool,
    client: &mut dyn FnMut() -> Result<Client<T>, ApiError>,
) -> bool {
    let mut sel = Selection::default();
    let mut opts = WatchOptions::default();
    let mut max_events: Option<u64> = None;
    let mut i = 0;
    while i < args.len() {
        let r = match args[i].as_str() {
            "--pretty" => {
                pretty = true;
                Ok(())
            }
            "--bookmarks" => {
                opts.allow_bookmarks = true;
                Ok(())
            }
            "--resource-version" => value(args, &mut i, "--resource-version")
                .map(|v| opts.resource_version = Some(v.into())),
            "--timeout-seconds" => {
                number(args, &mut i, "--timeout-seconds").map(|n| opts.timeout_seconds = Some(n))
            }
            "--max-events" => number(args, &mut i, "--max-events").map(|n| max_events = Some(n)),
            _ => selection_flag(args, &mut i, &mut sel),
        };
        if let Err(e) = r {
            return usage_error(&e);
        }
        i += 1;
    }
    opts.namespace = resolve_namespace(&sel);
    opts.label_selector = sel.label;
    opts.field_selector = sel.field;
    let mut c = match client() {
        Ok(c) => c,
        Err(e) => return print_api_error(&e, pretty),
    };
    let mut watch = ObjectWatch::pods(opts);
    let mut seen = 0u64;
    while max_events.is_none_or(|m| seen < m) {
        match watch.next(&mut c) {
            Ok(ev) => {
                let kind = match ev.kind {
                    api::EventKind::Added => WatchEventType::Added,
                    api::EventKind::Modified => WatchEventType::Modified,
                    api::EventKind::Deleted => WatchEventType::Deleted,
                    api::EventKind::Bookmark => WatchEventType::Bookmark,
                };
                print_json(&cli_output::watch_event(kind, &ev.object), pretty);
                seen += 1;
            }
            Err(e) => return print_api_error(&e, pretty),
        }
    }
    true
}

/// `api label self [--overwrite] KEY=VALUE|KEY-...` and `api annotate self ...`: one merge
/// patch on this pod's labels or annotations ([`crate::self_pod::patch_map`]); changing a value
/// needs `--overwrite`, as with kubectl.
fn api_patch_self<T: Transport>(
    sub: &str,
    args: &[String],
    mut pretty: bool,
    client: &mut dyn FnMut() -> Result<Client<T>, ApiError>,
) -> bool {
    let mut changes = Vec::new();
    let (mut target, mut overwrite) = (None, false);
    for a in args {
        match a.as_str() {
            "--pretty" => pretty = true,
            "--overwrite" => overwrite = true,
            "self" if target.is_none() => target = Some(()),
            kv => match kv.split_once('=') {
                Some((k, v)) if !k.is_empty() => changes.push((k.to_string(), Some(v.to_string()))),
                _ => match kv.strip_suffix('-').filter(|k| !k.is_empty()) {
                    Some(k) => changes.push((k.to_string(), None)),
                    None => {
                        return usage_error(&format!(
                            "api {sub}: {kv:?}: give self, then KEY=VALUE to set or KEY- to remove"
                        ));
                    }
                },
            },
        }
    }
    if target.is_none() {
        return usage_error(&format!("api {sub} takes self: api {sub} self KEY=VALUE"));
    }
    let field = if sub == "label" {
        pod_introspect_kube::fields::METADATA_LABELS
    } else {
        pod_introspect_kube::fields::METADATA_ANNOTATIONS
    };
    let info = Context::from_process().info();
    print_outcome(
        client().and_then(|mut c| {
            crate::self_pod::patch_map(&mut c, &info, field, &changes, overwrite)
        }),
        pretty,
    )
}

/// `api event --reason R --message M [--type Normal|Warning]`
/// ([`crate::event_recorder::record`]).
fn api_event<T: Transport>(
    args: &[String],
    mut pretty: bool,
    client: &mut dyn FnMut() -> Result<Client<T>, ApiError>,
) -> bool {
    let (mut reason, mut message, mut warning) = (None, None, false);
    let mut i = 0;
    while i < args.len() {
        let r = match args[i].as_str() {
            "--pretty" => {
                pretty = true;
                Ok(())
            }
            "--reason" => value(args, &mut i, "--reason").map(|v| reason = Some(v.to_string())),
            "--message" => value(args, &mut i, "--message").map(|v| message = Some(v.to_string())),
            "--type" => match value(args, &mut i, "--type") {
                Ok("Normal") => Ok(()),
                Ok("Warning") => {
                    warning = true;
                    Ok(())
                }
                Ok(other) => Err(format!("--type {other:?}: Normal or Warning")),
                Err(e) => Err(e),
            },
            other => Err(format!("api event: unknown argument {other:?}")),
        };
        if let Err(e) = r {
            return usage_error(&e);
        }
        i += 1;
    }
    let (Some(reason), Some(note)) = (reason, message) else {
        return usage_error("api event needs --reason R and --message M");
    };
    let request = crate::event_recorder::EventRequest {
        reason,
        note,
        warning,
        action: None,
        reporting_controller: None,
        reporting_instance: None,
    };
    let info = Context::from_process().info();
    print_outcome(
        client().and_then(|mut c| crate::event_recorder::record(&mut c, &info, &request)),
        pretty,
    )
}
