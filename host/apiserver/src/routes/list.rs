//! List helpers: `continue` tokens, `limit` and `resourceVersion` parsing, pagination and list
//! metadata.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::request::{Query, RequestInfo};
use crate::status::Status;

/// The `continue` token (`staging/src/k8s.io/apiserver/pkg/storage/continue.go`): base64url of
/// `{"v":"meta.k8s.io/v1","rv":RV,"start":"KEY\u0000"}`.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct ContinueToken {
    pub(super) v: String,
    pub(super) rv: u64,
    pub(super) start: String,
}

pub(super) fn encode_continue(rv: u64, last_key: &str) -> String {
    let token = ContinueToken {
        v: "meta.k8s.io/v1".into(),
        rv,
        start: format!("{last_key}\u{0}"),
    };
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&token).unwrap_or_default())
}

pub(super) fn decode_continue(s: &str) -> Result<ContinueToken, Status> {
    let bad = |why: &str| Status::bad_request(format!("continue key is not valid: {why}"));
    let raw = URL_SAFE_NO_PAD
        .decode(s.trim_end_matches('='))
        .or_else(|_| base64::engine::general_purpose::URL_SAFE.decode(s))
        .map_err(|_| bad("illegal base64 data"))?;
    let token: ContinueToken =
        serde_json::from_slice(&raw).map_err(|_| bad("not a JSON continue token"))?;
    if token.v != "meta.k8s.io/v1" {
        return Err(bad(&format!(
            "server does not recognize this encoded key version \"{}\"",
            token.v
        )));
    }
    if token.rv == 0 {
        return Err(bad(
            "incorrect encoded start resourceVersion (version meta.k8s.io/v1)",
        ));
    }
    Ok(token)
}

pub(super) fn parse_limit(q: &Query) -> Result<usize, Status> {
    match q.get("limit") {
        None | Some("") => Ok(0),
        Some(v) => v
            .parse::<i64>()
            .map(|n| usize::try_from(n.max(0)).unwrap_or(0))
            .map_err(|_| {
                Status::bad_request(format!("limit: Invalid value: \"{v}\": must be an integer"))
            }),
    }
}

pub(super) fn parse_rv(v: Option<&str>) -> Result<Option<u64>, Status> {
    match v {
        None | Some("") | Some("0") => Ok(None),
        Some(v) => v.parse::<u64>().map(Some).map_err(|_| {
            Status::bad_request(format!(
                "resourceVersion: Invalid value: \"{v}\": must be a non-negative integer"
            ))
        }),
    }
}

/// One page of a keyed, sorted list: the items after `start`, at most `limit` (0 = all), the
/// last key when more remain, and how many remain.
pub(super) fn paginate<T>(
    items: Vec<(String, T)>,
    start: Option<&str>,
    limit: usize,
) -> (Vec<T>, Option<String>, usize) {
    let mut rest: Vec<(String, T)> = items
        .into_iter()
        .filter(|(k, _)| start.is_none_or(|s| k.as_str() > s))
        .collect();
    if limit == 0 || rest.len() <= limit {
        return (rest.into_iter().map(|(_, v)| v).collect(), None, 0);
    }
    let remaining = rest.len() - limit;
    rest.truncate(limit);
    let last = rest.last().map(|(k, _)| k.clone());
    (rest.into_iter().map(|(_, v)| v).collect(), last, remaining)
}

pub(super) fn list_meta(rv: u64, cont: Option<String>, remaining: Option<usize>) -> Value {
    let mut meta = json!({"resourceVersion": rv.to_string()});
    if let Some(c) = cont {
        meta["continue"] = json!(c);
        if let Some(n) = remaining {
            meta["remainingItemCount"] = json!(n);
        }
    }
    meta
}

pub(super) fn ns_opt(info: &RequestInfo) -> Option<&str> {
    (!info.namespace.is_empty()).then_some(info.namespace.as_str())
}
