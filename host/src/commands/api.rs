//! `pod-introspect api ...`: Kubernetes API calls made by the bundled guest through wasi:http,
//! with the host supplying TLS that trusts the pod's ServiceAccount `ca.crt`.

use crate::cli::{ApiArgs, ApiCall, SelectorArgs};
use anyhow::Result;
use std::process::ExitCode;

fn selector_args(s: &SelectorArgs, out: &mut Vec<String>) {
    if s.all_namespaces {
        out.push("-A".into());
    }
    for (flag, v) in [
        ("-n", &s.namespace),
        ("-l", &s.selector),
        ("--field-selector", &s.field_selector),
    ] {
        if let Some(v) = v {
            out.push(flag.into());
            out.push(v.clone());
        }
    }
}

/// The guest command line for `call` (see the guest's `command` module).
pub fn guest_args(call: &ApiCall) -> Vec<String> {
    let mut a = vec!["api".to_string()];
    match call {
        ApiCall::Version => a.push("version".into()),
        ApiCall::SelfPod => a.push("self".into()),
        ApiCall::Get { path, query } => {
            a.extend(["get".into(), path.clone()]);
            for q in query {
                a.extend(["--query".into(), q.clone()]);
            }
        }
        ApiCall::Pods(p) => {
            a.push("pods".into());
            selector_args(&p.select, &mut a);
            if let Some(n) = p.limit {
                a.extend(["--limit".into(), n.to_string()]);
            }
            if let Some(c) = &p.continue_token {
                a.extend(["--continue".into(), c.clone()]);
            }
        }
        ApiCall::Watch(w) => {
            a.extend(["watch".into(), w.resource.clone()]);
            selector_args(&w.select, &mut a);
            if let Some(rv) = &w.resource_version {
                a.extend(["--resource-version".into(), rv.clone()]);
            }
            if w.bookmarks {
                a.push("--bookmarks".into());
            }
            if let Some(n) = w.max_events {
                a.extend(["--max-events".into(), n.to_string()]);
            }
            if let Some(t) = w.timeout_seconds {
                a.extend(["--timeout-seconds".into(), t.to_string()]);
            }
        }
    }
    a
}

/// The `api` subcommand.
pub async fn run(args: ApiArgs) -> Result<ExitCode> {
    super::info::run_guest(&args.sandbox, guest_args(&args.call)).await
}
