//! `resourceFieldRef` divisors: which ones the API server accepts per resource kind, and the
//! kubelet's division with ceiling rounding.
//!
//! Upstream: kubernetes `pkg/apis/core/validation/validation.go` (`validContainerResourceDivisorFor*`)
//! and `pkg/api/v1/resource/helpers.go` (`ExtractContainerResourceValue`).

use super::{Quantity, QuantityError};

/// The kind of resource a `resourceFieldRef` names, which decides divisor rules and rounding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceKind {
    /// `limits.cpu`, `requests.cpu`: rounded in millicores.
    Cpu,
    /// `limits.memory`, `requests.memory`: bytes.
    Memory,
    /// `limits.ephemeral-storage`, `requests.ephemeral-storage`: bytes.
    EphemeralStorage,
    /// `limits.hugepages-<size>`, `requests.hugepages-<size>`: bytes.
    HugePages,
}

/// validation.go `validContainerResourceDivisorForCPU`.
const CPU_DIVISORS: &[&str] = &["1m", "1"];
/// validation.go `validContainerResourceDivisorForMemory` (also ephemeral storage and hugepages).
const BYTE_DIVISORS: &[&str] = &[
    "1", "1k", "1M", "1G", "1T", "1P", "1E", "1Ki", "1Mi", "1Gi", "1Ti", "1Pi", "1Ei",
];

/// Checks a divisor against the API server's validation for the resource kind: cpu accepts `1m` and
/// `1`; memory, ephemeral-storage and hugepages accept `1`, `1k`, `1M`, `1G`, `1T`, `1P`, `1E`, `1Ki`,
/// `1Mi`, `1Gi`, `1Ti`, `1Pi`, `1Ei`. `0` (how the API server serialises an unset divisor) is allowed
/// and means `1`. The error lists the accepted divisors.
///
/// Like `validateContainerResourceDivisor`, any zero value passes (`0`, `0m`, `0Ki`), and other
/// divisors are compared by apimachinery's `Quantity.String()`: the canonical form, except that
/// apimachinery keeps the text as written for some inputs. So `1000m` and `0.001k` are accepted
/// as `1` for cpu, `1000` as `1k` and `1024Ki` as `1Mi` for memory, but `1e3` (`1e3`), `1024`
/// (`1024`), `+1` and `01` (kept as written) are rejected, as the API server does.
pub fn validate_divisor(kind: ResourceKind, divisor: &Quantity) -> Result<(), QuantityError> {
    if divisor.is_zero() {
        return Ok(());
    }
    let (accepted, resource) = match kind {
        ResourceKind::Cpu => (CPU_DIVISORS, "cpu"),
        ResourceKind::Memory => (BYTE_DIVISORS, "memory"),
        ResourceKind::EphemeralStorage => (BYTE_DIVISORS, "local ephemeral storage"),
        ResourceKind::HugePages => (BYTE_DIVISORS, "hugepages"),
    };
    if accepted.contains(&divisor.go_string.as_str()) {
        return Ok(());
    }
    Err(QuantityError(format!(
        "divisor {:?} is not valid for the {resource} resource: only divisor's values {} are supported with the {resource} resource (0 or unset means 1)",
        divisor.go_string,
        accepted.join(", ")
    )))
}

/// What the kubelet writes for `quantity` under `divisor`: for cpu `ceil(milli / divisorMilli)`, for
/// the byte kinds `ceil(value / divisorValue)`, with a zero divisor treated as `1`.
///
/// `value` and `milli_value` round up first, as apimachinery does (so `0.5` bytes is 1 byte before
/// dividing). Then, like the kubelet, it divides in float64 and takes the ceiling, so the result
/// equals the exact ceiling below 2^53 (8 PiB, or 9·10^12 cores in millicores) and matches the
/// kubelet's float rounding above it. Results beyond i64 saturate.
pub fn divide_ceil(kind: ResourceKind, quantity: &Quantity, divisor: &Quantity) -> i64 {
    let (dividend, divisor) = match (kind, divisor.is_zero()) {
        (ResourceKind::Cpu, true) => (quantity.milli_value(), 1000),
        (ResourceKind::Cpu, false) => (quantity.milli_value(), divisor.milli_value()),
        (_, true) => (quantity.value(), 1),
        (_, false) => (quantity.value(), divisor.value()),
    };
    if divisor == 0 {
        // Unreachable: a non-zero quantity rounds away from zero to at least 1 (or 1m).
        return 0;
    }
    // The kubelet computes `int64(math.Ceil(float64(dividend) / float64(divisor)))`, so values
    // above 2^53 round through float64 (9007199254740993 bytes with divisor 1 is written as
    // 9007199254740992). The same IEEE 754 double arithmetic writes the same bytes. Go's
    // conversion of an out-of-range float to int64 is platform-defined; this saturates.
    (dividend as f64 / divisor as f64).ceil() as i64
}
