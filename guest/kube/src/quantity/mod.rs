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
//!
//! Here: the [`Quantity`] type, its parsing, accessors and canonical form. The scanner and suffix
//! table are in `grammar`, the digit-string arithmetic in `decimal`, and divisor validation and
//! the kubelet's rounding ([`ResourceKind`], [`validate_divisor`], [`divide_ceil`]) in `divisor`.

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

impl fmt::Display for Quantity {
    /// What apimachinery's `Quantity.String()` returns: the canonical form (`1500m` → `1500m`,
    /// `1.5` → `1500m`, `1024Ki` → `1Mi`), or the text as written where apimachinery keeps it
    /// (`+1`, `01`). [`Quantity::parse`] reads it back to an equal quantity.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.go_string)
    }
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

mod decimal;
mod divisor;
mod grammar;

pub use divisor::{ResourceKind, divide_ceil, validate_divisor};

use decimal::{add_one, digits_of, mul_small, normalize};
use grammar::{interpret, scan};

#[cfg(test)]
mod tests;
