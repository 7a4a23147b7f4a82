//! `resourceFieldRef` figures: the integer the kubelet wrote, and what it means in millicores or
//! bytes when the divisor is declared.
//!
//! Upstream: kubernetes `pkg/api/v1/resource/helpers.go` (`ExtractContainerResourceValue`:
//! `strconv.FormatInt(ceil(quantity / divisor), 10)`).

use crate::model::ResourceValue;
use pod_introspect_kube::quantity::{Quantity, ResourceKind};

/// Parses a `resourceFieldRef` value strictly: ASCII digits only, as the kubelet writes
/// `strconv.FormatInt(ceil(quantity / divisor), 10)` (pkg/api/v1/resource/helpers.go).
pub fn parse_resource_integer(text: &str) -> Result<u64, String> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "expected a decimal integer such as 500 (the kubelet writes resourceFieldRef values already divided by the divisor and rounded up, with no sign, unit or newline), found {text:?}"
        ));
    }
    text.parse::<u64>()
        .map_err(|_| format!("{text} does not fit in 64 bits"))
}

/// A figure with its divisor and, where the divisor parses, millicores or bytes.
///
/// Files and env vars do not say which divisor the manifest used. With `declared` (from
/// `POD_INTROSPECT_FIELDS`) the figure is also given in millicores or bytes; without, the divisor
/// is reported as `1` (the Kubernetes default) and no unit figure is given, since a wrong guess
/// (250 read as 250 cores when the manifest said `divisor: 1m`) is worse than none.
pub fn resource_value(kind: ResourceKind, value: u64, declared: Option<String>) -> ResourceValue {
    let Some(divisor) = declared else {
        return ResourceValue {
            value,
            divisor: "1".into(),
            millicores: None,
            bytes: None,
        };
    };
    let q = Quantity::parse(&divisor).ok();
    let unit = |f: fn(&Quantity) -> i64| {
        let d = q.as_ref().map(|q| if q.is_zero() { 1 } else { f(q) })?;
        value.checked_mul(u64::try_from(d).ok()?)
    };
    let (millicores, bytes) = match kind {
        ResourceKind::Cpu => (unit(Quantity::milli_value), None),
        _ => (None, unit(Quantity::value)),
    };
    ResourceValue {
        value,
        divisor,
        millicores,
        bytes,
    }
}
