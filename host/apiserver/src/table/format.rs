//! The formatting helpers the printers share, each a port of the upstream function it names.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Container;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::jiff::Timestamp;

/// `duration.HumanDuration` (`staging/src/k8s.io/apimachinery/pkg/util/duration/duration.go`)
/// for a whole number of seconds: `<invalid>` below -1 s, `0s` for -1 s, then `59s`, `2m5s`,
/// `10m`, `3h1m`, `10h`, `2d2h`, `10d`, `2y70d`, `8y`.
pub fn human_duration(seconds: i64) -> String {
    if seconds < -1 {
        return "<invalid>".into();
    }
    if seconds < 0 {
        return "0s".into();
    }
    if seconds < 120 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 10 {
        let s = seconds % 60;
        return if s == 0 {
            format!("{minutes}m")
        } else {
            format!("{minutes}m{s}s")
        };
    }
    if minutes < 180 {
        return format!("{minutes}m");
    }
    let hours = seconds / 3600;
    if hours < 8 {
        let m = minutes % 60;
        return if m == 0 {
            format!("{hours}h")
        } else {
            format!("{hours}h{m}m")
        };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        let h = hours % 24;
        return if h == 0 {
            format!("{}d", hours / 24)
        } else {
            format!("{}d{h}h", hours / 24)
        };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        let d = (hours / 24) % 365;
        return if d == 0 {
            format!("{}y", hours / 24 / 365)
        } else {
            format!("{}y{d}d", hours / 24 / 365)
        };
    }
    format!("{}y", hours / 24 / 365)
}

/// Go's zero `time.Time` (0001-01-01T00:00:00Z) in Unix seconds: what an unset `metav1.Time`
/// decodes to, and what `IsZero` tests.
const GO_ZERO_TIME: i64 = -62_135_596_800;

/// True for an unset or zero timestamp (`metav1.Time.IsZero`).
pub(super) fn is_zero(t: Option<Timestamp>) -> bool {
    t.is_none_or(|t| t.as_second() == GO_ZERO_TIME && t.subsec_nanosecond() == 0)
}

/// `translateTimestampSince` / `translateMicroTimestampSince` (`printers.go`): `<unknown>`
/// for a zero time, else `HumanDuration(time.Since(t))` (whole seconds, truncated toward zero
/// as Go's `int(d.Seconds())`).
pub(super) fn since(t: Option<Timestamp>, now: Timestamp) -> String {
    match t {
        Some(t) if !is_zero(Some(t)) => human_duration(now.duration_since(t).as_secs()),
        _ => "<unknown>".into(),
    }
}

/// `labels.FormatLabels` (`staging/src/k8s.io/apimachinery/pkg/labels/labels.go`): `k=v`
/// pairs sorted by key, comma-separated; `<none>` when empty.
pub(super) fn format_labels(labels: Option<&BTreeMap<String, String>>) -> String {
    let s = labels
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default();
    if s.is_empty() { "<none>".into() } else { s }
}

/// `metav1.LabelSelectorAsSelector(s).String()`
/// (`staging/src/k8s.io/apimachinery/pkg/apis/meta/v1/helpers.go`, `labels/selector.go`):
/// requirements sorted by key, `k=v` for `matchLabels`, `k in (a,b)`, `k notin (a,b)`, `k`,
/// `!k` for the expressions (values sorted); `""` for a nil or empty selector. `Err` where
/// upstream's `NewRequirement` rejects a key, value, operator or value count.
pub(super) fn selector_string(selector: Option<&LabelSelector>) -> Result<String, ()> {
    let Some(selector) = selector else {
        return Ok(String::new());
    };
    let mut reqs: Vec<(String, String)> = Vec::new();
    for (k, v) in selector.match_labels.iter().flatten() {
        if !valid_label_key(k) || !valid_label_value(v) {
            return Err(());
        }
        reqs.push((k.clone(), format!("{k}={v}")));
    }
    for e in selector.match_expressions.iter().flatten() {
        if !valid_label_key(&e.key) {
            return Err(());
        }
        let values = e.values.clone().unwrap_or_default();
        let rendered = match e.operator.as_str() {
            "In" | "NotIn" => {
                if values.is_empty() || !values.iter().all(|v| valid_label_value(v)) {
                    return Err(());
                }
                let mut sorted = values;
                sorted.sort();
                let op = if e.operator == "In" { "in" } else { "notin" };
                format!("{} {op} ({})", e.key, sorted.join(","))
            }
            "Exists" | "DoesNotExist" => {
                if !values.is_empty() {
                    return Err(());
                }
                let bang = if e.operator == "DoesNotExist" {
                    "!"
                } else {
                    ""
                };
                format!("{bang}{}", e.key)
            }
            _ => return Err(()),
        };
        reqs.push((e.key.clone(), rendered));
    }
    reqs.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(reqs
        .into_iter()
        .map(|(_, r)| r)
        .collect::<Vec<_>>()
        .join(","))
}

/// `metav1.FormatLabelSelector`: [`selector_string`], `<none>` when empty, `<error>` when
/// invalid.
pub(super) fn format_label_selector(selector: Option<&LabelSelector>) -> String {
    match selector_string(selector) {
        Ok(s) if s.is_empty() => "<none>".into(),
        Ok(s) => s,
        Err(()) => "<error>".into(),
    }
}

/// `validation.IsQualifiedName` (`staging/src/k8s.io/apimachinery/pkg/util/validation`): an
/// optional DNS-1123 subdomain prefix and `/`, then a name of at most 63 characters,
/// alphanumeric at both ends with `-`, `_`, `.` inside.
fn valid_label_key(key: &str) -> bool {
    let (prefix, name) = match key.split_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    if let Some(p) = prefix {
        let label_ok = |l: &str| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        };
        if p.is_empty() || p.len() > 253 || !p.split('.').all(label_ok) {
            return false;
        }
    }
    !name.is_empty() && valid_label_value(name)
}

/// `validation.IsValidLabelValue`: empty, or at most 63 characters, alphanumeric at both ends
/// with `-`, `_`, `.` inside.
fn valid_label_value(v: &str) -> bool {
    if v.is_empty() {
        return true;
    }
    let b = v.as_bytes();
    v.len() <= 63
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
}

/// `layoutContainerCells` (`printers.go`): the containers' names and images, each
/// comma-separated.
pub(super) fn container_cells(containers: &[Container]) -> (String, String) {
    let names: Vec<&str> = containers.iter().map(|c| c.name.as_str()).collect();
    let images: Vec<&str> = containers
        .iter()
        .map(|c| c.image.as_deref().unwrap_or_default())
        .collect();
    (names.join(","), images.join(","))
}

/// `listWithMoreString` (`printers.go`): the first `max` items, `"a,b,c + N more..."` when
/// there were more, `<unset>` when there were none.
pub(super) fn list_with_more(items: &[String], total: usize, max: usize) -> String {
    let shown = &items[..items.len().min(max)];
    let ret = shown.join(",");
    if total > max {
        return format!("{ret} + {} more...", total - max);
    }
    if ret.is_empty() {
        "<unset>".into()
    } else {
        ret
    }
}

/// `net.JoinHostPort`: `[host]:port` when the host has a colon (IPv6), else `host:port`.
pub(super) fn join_host_port(host: &str, port: i32) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}
