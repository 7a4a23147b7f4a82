//! Kubernetes resource quantities, `resourceFieldRef` divisors and the kubelet's ceiling rounding.
//!
//! Upstream: k8s.io/apimachinery `pkg/api/resource/quantity.go` (the quantity grammar and
//! `Value`/`MilliValue`, both rounding up), kubernetes `pkg/api/v1/resource/helpers.go`
//! (`ExtractContainerResourceValue`, `convertResourceCPUToString`, `convertResourceMemoryToString`,
//! ...), and `pkg/apis/core/validation/validation.go` (`validContainerResourceDivisorForCPU`, ...).
//!
//! Quantities are kept as exact decimals (sign, significant digits, power of ten) with no size limit,
//! so parsing, rounding and the canonical form agree with apimachinery's `inf.Dec` arithmetic; only
//! the `i64` accessors saturate.

use std::fmt;

/// An error in a quantity, a divisor or a resource name. The message says what was expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuantityError(pub String);

impl fmt::Display for QuantityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for QuantityError {}

/// apimachinery's `Format`: which family of suffix a quantity was written with. It decides the
/// canonical form (`String()`), which divisor validation compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    /// `e3`, `E-2`: a decimal exponent.
    DecimalExponent,
    /// `Ki` .. `Ei`: powers of 1024.
    BinarySi,
    /// `n u m "" k M G T P E`: powers of 1000.
    DecimalSi,
}

/// The accepted forms, quoted in parse errors.
const GRAMMAR: &str = "expected an optional sign, a decimal number (5, 1.5, .5 or 5.) and an optional suffix: \
     a binary SI suffix (Ki Mi Gi Ti Pi Ei), a decimal SI suffix (n u m k M G T P E) or a decimal \
     exponent (e3, E-2)";

/// A parsed Kubernetes quantity such as `500m`, `1.5`, `64Mi`, `1e3`, `2G`.
///
/// Stored exactly (no floating point) so that `value()` and `milli_value()` round the way
/// apimachinery's `Quantity.Value()` / `MilliValue()` do: up, away from zero. For the non-negative
/// quantities of resource requests, limits and divisors that is the ceiling; for a negative quantity
/// `-1.5` gives `-2` (apimachinery's `int64Amount` path; its rarely used `inf.Dec` path is not even
/// self-consistent for negative values).
///
/// Equality (`==`) compares values, like apimachinery's `Quantity.Cmp(...) == 0`: `1000m == 1`
/// and `1Ki == 1024`, whatever the suffix.
#[derive(Debug, Clone)]
pub struct Quantity {
    /// True for a value below zero (never for zero).
    negative: bool,
    /// Significant decimal digits (0..=9), most significant first, without leading or trailing
    /// zeros; empty for zero.
    digits: Vec<u8>,
    /// The value is `digits × 10^exp` (0 for zero).
    exp: i64,
    /// The suffix family, after apimachinery's adjustments.
    format: Format,
    /// What apimachinery's `Quantity.String()` returns for the parsed quantity.
    go_string: String,
}

impl PartialEq for Quantity {
    fn eq(&self, other: &Self) -> bool {
        self.negative == other.negative && self.digits == other.digits && self.exp == other.exp
    }
}

impl Eq for Quantity {}

/// What apimachinery's `parseQuantityString` splits a quantity into.
struct Scanned<'a> {
    positive: bool,
    /// The number with its sign, as `inf.Dec.SetString` would read it.
    value: &'a str,
    /// Integer digits without leading zeros, `"0"` when there are none.
    num: &'a str,
    /// Fraction digits as written.
    denom: &'a str,
    suffix: &'a str,
}

/// Transcription of apimachinery's `parseQuantityString` scanner: sign, leading zeros, integer
/// digits, optional `.` and fraction digits, then a suffix of `[eEinumkKMGTP]*[-+]?[0-9]*`.
/// `None` is `ErrFormatWrong`.
fn scan(text: &str) -> Option<Scanned<'_>> {
    let b = text.as_bytes();
    let end = b.len();
    let mut positive = true;
    let mut pos = 0;
    match b.first() {
        Some(b'-') => {
            positive = false;
            pos += 1;
        }
        Some(b'+') => pos += 1,
        _ => {}
    }
    // Strip leading zeros; only a sign and zeros is zero.
    while pos < end && b[pos] == b'0' {
        pos += 1;
    }
    if pos >= end {
        return Some(Scanned {
            positive,
            value: "0",
            num: "0",
            denom: "",
            suffix: "",
        });
    }
    let num_start = pos;
    while pos < end && b[pos].is_ascii_digit() {
        pos += 1;
    }
    let mut num = &text[num_start..pos];
    if pos >= end {
        return Some(Scanned {
            positive,
            value: text,
            num,
            denom: "",
            suffix: "",
        });
    }
    if num.is_empty() {
        num = "0";
    }
    let mut denom = "";
    if b[pos] == b'.' {
        pos += 1;
        let denom_start = pos;
        while pos < end && b[pos].is_ascii_digit() {
            pos += 1;
        }
        denom = &text[denom_start..pos];
        if pos >= end {
            return Some(Scanned {
                positive,
                value: text,
                num,
                denom,
                suffix: "",
            });
        }
    }
    let value = &text[..pos];
    let suffix_start = pos;
    while pos < end && b"eEinumkKMGTP".contains(&b[pos]) {
        pos += 1;
    }
    if pos < end && (b[pos] == b'-' || b[pos] == b'+') {
        pos += 1;
    }
    while pos < end && b[pos].is_ascii_digit() {
        pos += 1;
    }
    (pos >= end).then_some(Scanned {
        positive,
        value,
        num,
        denom,
        suffix: &text[suffix_start..],
    })
}

/// Go's `strconv.ParseInt(s, 10, 64)`: optional sign, at least one ASCII digit, in i64 range.
fn parse_go_int(s: &str) -> Option<i64> {
    let (negative, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || !digits.bytes().all(|d| d.is_ascii_digit()) {
        return None;
    }
    let mut value: i128 = 0;
    for d in digits.bytes() {
        value = value * 10 + i128::from(d - b'0');
        if value > i128::from(i64::MAX) + 1 {
            return None;
        }
    }
    i64::try_from(if negative { -value } else { value }).ok()
}

/// apimachinery's `quantitySuffixer.interpret`: (format, binary?, exponent). Decimal exponents are
/// accepted within ±(2^31 - 1), as current apimachinery does (older releases wrapped larger ones).
fn interpret(suffix: &str) -> Option<(Format, bool, i64)> {
    let decimal = |e| Some((Format::DecimalSi, false, e));
    let binary = |e| Some((Format::BinarySi, true, e));
    match suffix {
        "" => decimal(0),
        "n" => decimal(-9),
        "u" => decimal(-6),
        "m" => decimal(-3),
        "k" => decimal(3),
        "M" => decimal(6),
        "G" => decimal(9),
        "T" => decimal(12),
        "P" => decimal(15),
        "E" => decimal(18),
        "Ki" => binary(10),
        "Mi" => binary(20),
        "Gi" => binary(30),
        "Ti" => binary(40),
        "Pi" => binary(50),
        "Ei" => binary(60),
        _ => {
            let rest = suffix
                .strip_prefix('e')
                .or_else(|| suffix.strip_prefix('E'))?;
            let e = parse_go_int(rest)?;
            (e.abs() <= i64::from(i32::MAX)).then_some((Format::DecimalExponent, false, e))
        }
    }
}

/// Strips leading and trailing zeros of `digits` (moving trailing ones into `exp`).
fn normalize(mut digits: Vec<u8>, mut exp: i64) -> (Vec<u8>, i64) {
    let leading = digits.iter().take_while(|&&d| d == 0).count();
    digits.drain(..leading);
    while digits.last() == Some(&0) {
        digits.pop();
        exp += 1;
    }
    if digits.is_empty() {
        exp = 0;
    }
    (digits, exp)
}

/// `digits × factor` for a decimal digit string (most significant first).
fn mul_small(digits: &[u8], factor: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(digits.len() + 20);
    let mut carry: u128 = 0;
    for &d in digits.iter().rev() {
        let v = u128::from(d) * u128::from(factor) + carry;
        out.push((v % 10) as u8);
        carry = v / 10;
    }
    while carry > 0 {
        out.push((carry % 10) as u8);
        carry /= 10;
    }
    out.reverse();
    out
}

/// `digits + 1` for a decimal digit string (most significant first).
fn add_one(mut digits: Vec<u8>) -> Vec<u8> {
    for d in digits.iter_mut().rev() {
        if *d == 9 {
            *d = 0;
        } else {
            *d += 1;
            return digits;
        }
    }
    digits.insert(0, 1);
    digits
}

/// The decimal digits of `n`, most significant first.
fn digits_of(mut n: u128) -> Vec<u8> {
    let mut out = Vec::new();
    while n > 0 {
        out.push((n % 10) as u8);
        n /= 10;
    }
    out.reverse();
    out
}

impl Quantity {
    /// Parses the canonical quantity grammar: optional sign, decimal number, and a suffix that is a
    /// binary SI suffix (`Ki Mi Gi Ti Pi Ei`), a decimal SI suffix (`n u m "" k M G T P E`) or a decimal
    /// exponent (`e3`, `E-2`). The error quotes the input and names the accepted forms.
    ///
    /// A transcription of apimachinery's `ParseQuantity`, quirks included: a value finer than 1n is
    /// rounded away from zero to whole nanos (`0.1n` is `1n`), a binary SI quantity is capped at
    /// 2^63 - 1 in magnitude (`9Ei`), and a number without digits is zero rather than an error
    /// when apimachinery's fast path takes it (`Ki`, `m`, `.`, `-` and `+` all parse as 0; `e-10`
    /// is rejected). Rejected: the empty string, any whitespace, an unknown suffix (`1K`, `1i`,
    /// `1mi`), a second `.` (`1.2.3`), an exponent without digits (`1e`, `1e-`) or outside
    /// ±(2^31 - 1).
    pub fn parse(text: &str) -> Result<Quantity, QuantityError> {
        if text.is_empty() {
            return Err(QuantityError(format!(
                "invalid quantity \"\": the quantity is empty; {GRAMMAR}"
            )));
        }
        if text == "0" {
            return Ok(Quantity::zero(Format::DecimalSi, "0".to_string()));
        }
        let scanned = scan(text).ok_or_else(|| {
            QuantityError(format!(
                "invalid quantity {text:?}: malformed, not a number followed by a suffix; {GRAMMAR}"
            ))
        })?;
        let (format, binary, exponent) = interpret(scanned.suffix).ok_or_else(|| {
            QuantityError(format!(
                "invalid quantity {text:?}: unknown suffix {:?}; {GRAMMAR}",
                scanned.suffix
            ))
        })?;
        let (num, denom) = (scanned.num, scanned.denom);
        let shifted = format!("{num}{denom}");

        // apimachinery's int64 fast path: which inputs take it decides whether a digit-less number
        // is an error and whether String() reuses the input text.
        let digit_count = (num.len() + denom.len()) as i64;
        let precision = match format {
            Format::DecimalSi | Format::DecimalExponent => 18 - digit_count,
            Format::BinarySi if denom.is_empty() => 15 - num.len() as i64 - exponent * 3 / 10 - 1,
            Format::BinarySi => -1,
        };
        let fast_scale = if binary { 0 } else { exponent } - denom.len() as i64;
        let mut fast_value = None;
        if precision >= 0 && fast_scale >= -9 {
            // At most 18 digits: always fits.
            let value: i64 = shifted.parse().unwrap_or(i64::MAX);
            let mantissa: i64 = if binary { 1i64 << exponent } else { 1 };
            if value.checked_mul(mantissa).is_some() {
                fast_value = Some(value);
            }
        }
        if fast_value.is_none() && !scanned.value.bytes().any(|b| b.is_ascii_digit()) {
            return Err(QuantityError(format!(
                "invalid quantity {text:?}: the number has no digits; {GRAMMAR}"
            )));
        }

        // The exact value: (num.denom) × 10^exponent or × 2^exponent.
        let mut digits: Vec<u8> = shifted.bytes().map(|b| b - b'0').collect();
        let mut exp = -(denom.len() as i64);
        if binary {
            digits = mul_small(&digits, 1u64 << exponent);
        } else {
            exp += exponent;
        }
        let (mut digits, mut exp) = normalize(digits, exp);
        let negative = !scanned.positive && !digits.is_empty();
        let mut format = format;

        if fast_value.is_none() && !digits.is_empty() {
            // Round a non-zero value away from zero to whole nanos.
            if exp < -9 {
                let drop = -9 - exp;
                if drop >= digits.len() as i64 {
                    digits = vec![1];
                } else {
                    digits.truncate(digits.len() - drop as usize);
                    digits = add_one(digits);
                }
                (digits, exp) = normalize(digits, -9);
            }
            if format == Format::BinarySi {
                let max = Quantity::exact(false, digits_of(i64::MAX as u128), 0);
                let magnitude = Quantity::exact(false, digits.clone(), exp);
                if magnitude
                    .scaled_ceil_abs(0)
                    .is_none_or(|v| v > i64::MAX as u128)
                {
                    (digits, exp) = (max.digits, max.exp);
                }
                // 0 < |x| < 1: shown as DecimalSI rather than rounded.
                if magnitude.scaled_ceil_abs(0) == Some(1) && exp < 0 {
                    format = Format::DecimalSi;
                }
            }
        }

        let mut quantity = Quantity {
            negative,
            digits,
            exp,
            format,
            go_string: String::new(),
        };
        let reuse_text = fast_value.is_some_and(|value| match format {
            Format::BinarySi => exponent % 10 == 0 && value & 0x07 != 0,
            Format::DecimalSi | Format::DecimalExponent => {
                fast_scale % 3 == 0 && !shifted.ends_with("000") && !shifted.starts_with('0')
            }
        });
        quantity.go_string = if reuse_text {
            text.to_string()
        } else {
            quantity.canonical()
        };
        Ok(quantity)
    }

    fn zero(format: Format, go_string: String) -> Quantity {
        Quantity {
            negative: false,
            digits: Vec::new(),
            exp: 0,
            format,
            go_string,
        }
    }

    /// A value without a canonical string (for internal arithmetic).
    fn exact(negative: bool, digits: Vec<u8>, exp: i64) -> Quantity {
        let (digits, exp) = normalize(digits, exp);
        Quantity {
            negative: negative && !digits.is_empty(),
            digits,
            exp,
            format: Format::DecimalSi,
            go_string: String::new(),
        }
    }

    /// `ceil(|x| × 10^scale)`, or `None` when it does not fit in a u128.
    fn scaled_ceil_abs(&self, scale: i64) -> Option<u128> {
        if self.digits.is_empty() {
            return Some(0);
        }
        let k = self.exp.checked_add(scale)?;
        let n = self.digits.len() as i64;
        let to_u128 = |digits: &[u8]| {
            digits.iter().try_fold(0u128, |acc, &d| {
                acc.checked_mul(10)?.checked_add(u128::from(d))
            })
        };
        if k >= 0 {
            if n + k > 40 {
                return None;
            }
            let mut v = to_u128(&self.digits)?;
            for _ in 0..k {
                v = v.checked_mul(10)?;
            }
            Some(v)
        } else {
            let drop = k.unsigned_abs();
            if drop >= n as u64 {
                // 0 < |x| × 10^scale < 1.
                return Some(1);
            }
            let keep = self.digits.len() - drop as usize;
            // The dropped digits end in a non-zero digit, so there is always a fraction.
            to_u128(&self.digits[..keep])?.checked_add(1)
        }
    }

    /// `x × 10^scale` rounded away from zero, saturated to i64.
    fn scaled_value(&self, scale: i64) -> i64 {
        match (self.negative, self.scaled_ceil_abs(scale)) {
            (false, Some(v)) => i64::try_from(v).unwrap_or(i64::MAX),
            (false, None) => i64::MAX,
            (true, Some(v)) => {
                i64::try_from(-i128::try_from(v).unwrap_or(i128::MAX)).unwrap_or(i64::MIN)
            }
            (true, None) => i64::MIN,
        }
    }

    /// apimachinery's `CanonicalizeBytes`: the largest suffix of the format that leaves an integer.
    fn canonical(&self) -> String {
        if self.digits.is_empty() {
            return "0".to_string();
        }
        let sign = if self.negative { "-" } else { "" };
        if self.format == Format::BinarySi {
            // Non-integers and |x| < 1024 are shown as DecimalSI.
            let magnitude = self.scaled_ceil_abs(0);
            if self.exp >= 0
                && let Some(mut amount) = magnitude.filter(|&v| v >= 1024)
            {
                let mut power = 0;
                while amount % 1024 == 0 {
                    amount /= 1024;
                    power += 1;
                }
                let suffix = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"];
                if let Some(suffix) = suffix.get(power) {
                    return format!("{sign}{amount}{suffix}");
                }
            }
        }
        // A multiple-of-three exponent, lowered (so the digits stay an integer).
        let exp3 = self.exp.div_euclid(3) * 3;
        let mut number: String = self.digits.iter().map(|d| char::from(b'0' + d)).collect();
        for _ in exp3..self.exp {
            number.push('0');
        }
        let suffix = match (self.format, exp3) {
            (Format::DecimalExponent, 0) => String::new(),
            (Format::DecimalExponent, e) => format!("e{e}"),
            (_, -9) => "n".to_string(),
            (_, -6) => "u".to_string(),
            (_, -3) => "m".to_string(),
            (_, 0) => String::new(),
            (_, 3) => "k".to_string(),
            (_, 6) => "M".to_string(),
            (_, 9) => "G".to_string(),
            (_, 12) => "T".to_string(),
            (_, 15) => "P".to_string(),
            (_, 18) => "E".to_string(),
            // No SI suffix beyond E: current apimachinery falls back to an exponent.
            (_, e) => format!("e{e}"),
        };
        format!("{sign}{number}{suffix}")
    }

    /// The value in whole units, rounded up (apimachinery `Quantity.Value()`); saturates at i64 bounds.
    ///
    /// "Up" is away from zero: `1.5` → 2, `1n` → 1, `-1.5` → -2. Beyond i64 the result saturates
    /// (apimachinery's result is undefined there).
    pub fn value(&self) -> i64 {
        self.scaled_value(0)
    }

    /// The value in thousandths, rounded up (apimachinery `Quantity.MilliValue()`); saturates.
    ///
    /// `500m` → 500, `1.5` → 1500, `0.1m` → 1, `1Ki` → 1024000.
    pub fn milli_value(&self) -> i64 {
        self.scaled_value(3)
    }

    /// True when the quantity is zero (a divisor of `0` means `1`).
    pub fn is_zero(&self) -> bool {
        self.digits.is_empty()
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    fn q(text: &str) -> Quantity {
        Quantity::parse(text).unwrap_or_else(|err| panic!("{text:?}: {err}"))
    }

    /// (input, Value(), MilliValue(), String()) as apimachinery computes them.
    #[test]
    fn divides_through_float64_like_the_kubelet() {
        // float64(9007199254740993) is 9007199254740992; 999999999999999999 rounds to 1e18.
        assert_eq!(
            divide_ceil(ResourceKind::Memory, &q("9007199254740993"), &q("1")),
            9007199254740992
        );
        assert_eq!(
            divide_ceil(ResourceKind::Memory, &q("999999999999999999"), &q("1")),
            1000000000000000000
        );
        assert_eq!(
            divide_ceil(ResourceKind::Memory, &q("9007199254740991"), &q("1")),
            9007199254740991
        );
    }

    #[test]
    fn parses_values_like_apimachinery() {
        let table: &[(&str, i64, i64, &str)] = &[
            ("0", 0, 0, "0"),
            ("1", 1, 1000, "1"),
            ("500m", 1, 500, "500m"),
            ("250m", 1, 250, "250m"),
            ("1.5", 2, 1500, "1500m"),
            ("0.5", 1, 500, "500m"),
            ("2", 2, 2000, "2"),
            ("100m", 1, 100, "100m"),
            ("1000m", 1, 1000, "1"),
            ("0.001", 1, 1, "1m"),
            ("0.0001", 1, 1, "100u"),
            ("1n", 1, 1, "1n"),
            ("5n", 1, 1, "5n"),
            ("4u", 1, 1, "4u"),
            ("8k", 8000, 8_000_000, "8k"),
            ("50k", 50_000, 50_000_000, "50k"),
            ("7M", 7_000_000, 7_000_000_000, "7M"),
            ("6G", 6_000_000_000, 6_000_000_000_000, "6G"),
            ("100M", 100_000_000, 100_000_000_000, "100M"),
            ("1E", 1_000_000_000_000_000_000, i64::MAX, "1E"),
            ("1Ki", 1024, 1_024_000, "1Ki"),
            ("8Ki", 8192, 8_192_000, "8Ki"),
            ("64Mi", 67_108_864, 67_108_864_000, "64Mi"),
            ("1Gi", 1_073_741_824, 1_073_741_824_000, "1Gi"),
            ("1024Mi", 1_073_741_824, 1_073_741_824_000, "1Gi"),
            ("307200Ki", 314_572_800, 314_572_800_000, "300Mi"),
            ("3Ei", 3 << 60, i64::MAX, "3Ei"),
            ("1e3", 1000, 1_000_000, "1e3"),
            ("1E3", 1000, 1_000_000, "1E3"),
            ("1E-2", 1, 10, "10e-3"),
            ("1e-3", 1, 1, "1e-3"),
            ("1.2e3", 1200, 1_200_000, "1200"),
            ("1.3E+6", 1_300_000, 1_300_000_000, "1300e3"),
            ("1e0", 1, 1000, "1e0"),
            (".5", 1, 500, "500m"),
            ("5.", 5, 5000, "5."),
            ("1.", 1, 1000, "1."),
            ("1.G", 1_000_000_000, 1_000_000_000_000, "1.G"),
            (".001", 1, 1, "1m"),
            (".0001k", 1, 100, "100m"),
            ("100.035k", 100_035, 100_035_000, "100.035k"),
            ("10.035M", 10_035_000, 10_035_000_000, "10.035M"),
            ("1.5Gi", 1_610_612_736, 1_610_612_736_000, "1536Mi"),
            ("0.5Mi", 524_288, 524_288_000, "512Ki"),
            ("100.035Ki", 102_436, 102_435_840, "102435840m"),
            (".001Ki", 2, 1024, "1024m"),
            (".000000001Ki", 1, 1, "1024n"),
            // Finer than a nano: rounded up to whole nanos, and 0 < x < 1 leaves BinarySI.
            (".000000000001Ki", 1, 1, "2n"),
            ("0.0000000001", 1, 1, "1n"),
            ("3.001n", 1, 1, "4n"),
            ("0.9n", 1, 1, "1n"),
            ("1.1E-9", 1, 1, "2e-9"),
            ("0.00000012345", 1, 1, "124n"),
            ("1e-20", 1, 1, "1e-9"),
            // Binary SI is capped at 2^63 - 1.
            ("9Ei", i64::MAX, i64::MAX, "9223372036854775807"),
            (
                "9223372036854775807Ki",
                i64::MAX,
                i64::MAX,
                "9223372036854775807",
            ),
            ("12E", i64::MAX, i64::MAX, "12E"),
            ("1000E", i64::MAX, i64::MAX, "1e21"),
            ("+1", 1, 1000, "+1"),
            ("+500m", 1, 500, "+500m"),
            ("01", 1, 1000, "01"),
            ("00", 0, 0, "0"),
            ("0m", 0, 0, "0"),
            ("0Ki", 0, 0, "0"),
            ("-0", 0, 0, "0"),
            ("1.500", 2, 1500, "1.500"),
            ("3Ki", 3072, 3_072_000, "3Ki"),
            // Digit-less numbers on apimachinery's fast path are zero.
            ("Ki", 0, 0, "0"),
            ("m", 0, 0, "0"),
            (".", 0, 0, "0"),
            ("-", 0, 0, "0"),
            ("+", 0, 0, "0"),
            ("e5", 0, 0, "0"),
            // Negative values round away from zero.
            ("-1", -1, -1000, "-1"),
            ("-1.5", -2, -1500, "-1500m"),
            ("-500m", -1, -500, "-500m"),
            ("-0.5n", -1, -1, "-1n"),
            ("-1Ki", -1024, -1_024_000, "-1Ki"),
            ("-9Ei", -i64::MAX, i64::MIN, "-9223372036854775807"),
            // Beyond i64: exact, the accessors saturate.
            (
                "9223372036854775808",
                i64::MAX,
                i64::MAX,
                "9223372036854775808",
            ),
            (
                "-9223372036854775809",
                i64::MIN,
                i64::MIN,
                "-9223372036854775809",
            ),
            (
                "123456789012345678901234567890123456789012345",
                i64::MAX,
                i64::MAX,
                "123456789012345678901234567890123456789012345",
            ),
            ("1e2147483647", i64::MAX, i64::MAX, "10e2147483646"),
            ("1e-2147483647", 1, 1, "1e-9"),
            ("1.000000001", 2, 1001, "1.000000001"),
        ];
        for (text, value, milli, string) in table {
            let quantity = q(text);
            assert_eq!(quantity.value(), *value, "{text}.Value()");
            assert_eq!(quantity.milli_value(), *milli, "{text}.MilliValue()");
            assert_eq!(quantity.go_string, *string, "{text}.String()");
        }
    }

    #[test]
    fn canonical_strings_match_apimachinery_string_tests() {
        // (input, String()) from apimachinery's TestQuantityString alternates and TestQuantityParseEmit.
        let table: &[(&str, &str)] = &[
            ("1024Mi", "1Gi"),
            ("307200Ki", "300Mi"),
            ("1025024Mi", "1001Gi"),
            ("1024Gi", "1Ti"),
            ("5000m", "5"),
            ("0.5", "500m"),
            ("1000M", "1G"),
            ("0.001T", "1G"),
            ("1000u", "1m"),
            ("1.08", "1080m"),
            ("1080000000n", "1080m"),
            (".001e12", "1e9"),
            ("0.001e0", "1e-3"),
            ("1000e-12", "1e-9"),
            ("00", "0"),
            ("1000E", "1e21"),
            ("5000E", "5e21"),
            ("1000000E", "1e24"),
            (".001Ki", "1024m"),
            (".000001Ki", "1024u"),
            (".000000001Ki", "1024n"),
            (".000000000001Ki", "2n"),
            ("1Ki", "1Ki"),
            ("1025", "1025"),
            ("80e-3", "80e-3"),
            ("300e6", "300e6"),
        ];
        for (text, string) in table {
            assert_eq!(q(text).go_string, *string, "{text}");
        }
    }

    #[test]
    fn rejects_malformed_quantities() {
        let table: &[(&str, &str)] = &[
            ("", "empty"),
            (" 1", "malformed"),
            ("1 ", "malformed"),
            ("1 Gi", "malformed"),
            ("1.2.3", "malformed"),
            ("1.1.M", "malformed"),
            ("1+1.0M", "malformed"),
            ("aoeu", "malformed"),
            ("0.1am", "malformed"),
            ("1_000", "malformed"),
            ("1,5", "malformed"),
            ("\u{661}", "malformed"),
            ("1\u{b5}", "malformed"),
            ("1\n", "malformed"),
            ("1K", "unknown suffix \"K\""),
            ("1i", "unknown suffix \"i\""),
            (".5i", "unknown suffix"),
            ("-3.01i", "unknown suffix"),
            ("0.1mi", "unknown suffix \"mi\""),
            ("1e", "unknown suffix \"e\""),
            ("-3.01e-", "unknown suffix"),
            ("1Kie3", "unknown suffix"),
            ("1e4294967297", "unknown suffix"),
            ("1e2147483648", "unknown suffix"),
            ("1e-2147483648", "unknown suffix"),
            ("1e99999999999999999999", "unknown suffix"),
            ("--1", "unknown suffix \"-1\""),
            ("e-10", "no digits"),
            (".e-10", "no digits"),
        ];
        for (text, reason) in table {
            let err = Quantity::parse(text).expect_err(text);
            assert!(err.0.contains(reason), "{text:?}: {err}");
            assert!(
                err.0.contains(&format!("{text:?}")),
                "error quotes the input: {err}"
            );
            assert!(err.0.contains("Ki Mi Gi"), "error names the forms: {err}");
        }
    }

    /// apimachinery's String() output parses back to the same value (its round-trip tests).
    #[test]
    fn strings_parse_back_to_the_same_value() {
        let inputs = [
            "0",
            "1",
            "1.5",
            "0.5",
            "100.035k",
            "1.5Gi",
            "100.035Ki",
            ".000000000001Ki",
            "9Ei",
            "1E-2",
            "1.3E+6",
            "1000E",
            "-1.5",
            "-9Ei",
            "3.001n",
            "1e-20",
            "123456789012345678901234",
            "1e2147483647",
            "64Mi",
            "307200Ki",
            "+1",
            "01",
            "1.500",
            "1.",
        ];
        for text in inputs {
            let quantity = q(text);
            assert_eq!(
                q(&quantity.go_string),
                quantity,
                "{text} -> {}",
                quantity.go_string
            );
        }
    }

    #[test]
    fn equality_is_numeric() {
        assert_eq!(q("1000m"), q("1"));
        assert_eq!(q("1Ki"), q("1024"));
        assert_eq!(q("1e3"), q("1k"));
        assert_eq!(q("0"), q("-0"));
        assert_eq!(q("0Ki"), q("0m"));
        assert_ne!(q("1"), q("-1"));
        assert_ne!(q("1Ki"), q("1k"));
        assert!(q("0").is_zero() && q("0Mi").is_zero() && !q("1n").is_zero());
    }

    /// (kind, quantity, divisor, what the kubelet writes).
    #[test]
    fn divide_ceil_matches_kubelet_rounding() {
        use ResourceKind::*;
        let table: &[(ResourceKind, &str, &str, i64)] = &[
            (Cpu, "500m", "1", 1),
            (Cpu, "500m", "1m", 500),
            (Cpu, "250m", "1", 1),
            (Cpu, "250m", "1m", 250),
            (Cpu, "1.5", "1", 2),
            (Cpu, "1.5", "1m", 1500),
            (Cpu, "2", "1", 2),
            (Cpu, "2", "1m", 2000),
            (Cpu, "1", "0", 1),
            (Cpu, "250m", "0", 1),
            (Cpu, "0", "1", 0),
            (Cpu, "0", "1m", 0),
            (Cpu, "100u", "1m", 1),
            (Cpu, "1001m", "1", 2),
            (Cpu, "4", "1000m", 4),
            (Memory, "64Mi", "1", 67_108_864),
            (Memory, "64Mi", "1Mi", 64),
            (Memory, "64Mi", "1Ki", 65_536),
            (Memory, "64Mi", "1M", 68),
            (Memory, "64Mi", "1Gi", 1),
            (Memory, "64Mi", "0", 67_108_864),
            (Memory, "100M", "1Mi", 96),
            (Memory, "100M", "1M", 100),
            (Memory, "128974848", "1Mi", 123),
            (Memory, "129e6", "1Mi", 124),
            (Memory, "1.5", "1", 2),
            (Memory, "1Gi", "1k", 1_073_742),
            (Memory, "0", "1Mi", 0),
            (EphemeralStorage, "2Gi", "1Gi", 2),
            (EphemeralStorage, "1G", "1Gi", 1),
            (EphemeralStorage, "10G", "0", 10_000_000_000),
            (HugePages, "2Mi", "1Ki", 2048),
            (HugePages, "1Gi", "1Mi", 1024),
            (Memory, "9Ei", "1", i64::MAX),
            (Memory, "8Ei", "1Ei", 8),
            (Memory, "1Ki", "-1", -1024),
        ];
        for (kind, quantity, divisor, want) in table {
            assert_eq!(
                divide_ceil(*kind, &q(quantity), &q(divisor)),
                *want,
                "{kind:?} {quantity} / {divisor}"
            );
        }
    }

    #[test]
    fn divisors_validate_like_the_api_server() {
        use ResourceKind::*;
        let accepted: &[(ResourceKind, &str)] = &[
            (Cpu, "1"),
            (Cpu, "1m"),
            (Cpu, "0"),
            (Cpu, "0m"),
            (Cpu, "1000m"),
            (Cpu, "0.001"),
            (Memory, "1"),
            (Memory, "0"),
            (Memory, "1k"),
            (Memory, "1M"),
            (Memory, "1G"),
            (Memory, "1T"),
            (Memory, "1P"),
            (Memory, "1E"),
            (Memory, "1Ki"),
            (Memory, "1Mi"),
            (Memory, "1Gi"),
            (Memory, "1Ti"),
            (Memory, "1Pi"),
            (Memory, "1Ei"),
            (Memory, "1000"),
            (Memory, "1000k"),
            (Memory, "1024Ki"),
            (Memory, "0.001T"),
            (EphemeralStorage, "1Gi"),
            (EphemeralStorage, "0Ki"),
            (HugePages, "1Mi"),
            (HugePages, "1"),
        ];
        for (kind, divisor) in accepted {
            assert_eq!(
                validate_divisor(*kind, &q(divisor)),
                Ok(()),
                "{kind:?} {divisor}"
            );
        }
        let rejected: &[(ResourceKind, &str)] = &[
            (Cpu, "1k"),
            (Cpu, "1Ki"),
            (Cpu, "0.5"),
            (Cpu, "2"),
            (Cpu, "1u"),
            (Cpu, "1e-3"),
            (Cpu, "1e0"),
            (Cpu, "+1"),
            (Cpu, "01"),
            (Cpu, "-1"),
            (Memory, "1m"),
            (Memory, "1024"),
            (Memory, "2Mi"),
            (Memory, "1e3"),
            (Memory, "0.5Ki"),
            (Memory, "1.500"),
            (EphemeralStorage, "1m"),
            (HugePages, "2Mi"),
        ];
        for (kind, divisor) in rejected {
            let err = validate_divisor(*kind, &q(divisor)).expect_err(divisor);
            assert!(err.0.contains("only divisor's values"), "{err}");
        }
        let err = validate_divisor(Cpu, &q("0.5")).unwrap_err();
        assert_eq!(
            err.0,
            "divisor \"500m\" is not valid for the cpu resource: only divisor's values 1m, 1 are supported with the cpu resource (0 or unset means 1)"
        );
        let err = validate_divisor(HugePages, &q("3")).unwrap_err();
        assert!(
            err.0
                .contains("1, 1k, 1M, 1G, 1T, 1P, 1E, 1Ki, 1Mi, 1Gi, 1Ti, 1Pi, 1Ei"),
            "{err}"
        );
        assert!(err.0.contains("hugepages"), "{err}");
    }
}
