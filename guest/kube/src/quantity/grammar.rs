//! apimachinery's quantity scanner (`parseQuantityString`) and suffix table (`quantitySuffixer`).

use super::Format;

/// What apimachinery's `parseQuantityString` splits a quantity into.
pub(super) struct Scanned<'a> {
    pub(super) positive: bool,
    /// The number with its sign, as `inf.Dec.SetString` would read it.
    pub(super) value: &'a str,
    /// Integer digits without leading zeros, `"0"` when there are none.
    pub(super) num: &'a str,
    /// Fraction digits as written.
    pub(super) denom: &'a str,
    pub(super) suffix: &'a str,
}

/// Transcription of apimachinery's `parseQuantityString` scanner: sign, leading zeros, integer
/// digits, optional `.` and fraction digits, then a suffix of `[eEinumkKMGTP]*[-+]?[0-9]*`.
/// `None` is `ErrFormatWrong`.
pub(super) fn scan(text: &str) -> Option<Scanned<'_>> {
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
pub(super) fn parse_go_int(s: &str) -> Option<i64> {
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
pub(super) fn interpret(suffix: &str) -> Option<(Format, bool, i64)> {
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
