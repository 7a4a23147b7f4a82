//! Go `time.ParseDuration`, as kubectl's duration flags (`--keepalive`) take them.
//!
//! Upstream: Go `time/format.go` (`ParseDuration`): a sequence of decimal numbers, each with an
//! optional fraction and a unit `ns`, `us` (`µs`, `μs`), `ms`, `s`, `m`, `h`, e.g. `30s`,
//! `1m30s`, `1.5h`; `0` alone needs no unit. Negative durations are refused here (no flag
//! takes one).

use std::time::Duration;

/// Parses a Go duration (see the module documentation).
///
/// Errors: `invalid duration "TEXT": expected a Go duration such as 30s, 1m30s or 0` for a
/// missing unit, an unknown unit, a negative value or an empty string.
pub fn parse(text: &str) -> Result<Duration, String> {
    let err =
        || format!("invalid duration {text:?}: expected a Go duration such as 30s, 1m30s or 0");
    let s = text.trim();
    if s == "0" || s == "+0" {
        return Ok(Duration::ZERO);
    }
    let s = s.strip_prefix('+').unwrap_or(s);
    if s.is_empty() || s.starts_with('-') {
        return Err(err());
    }
    let mut total = 0f64;
    let mut rest = s;
    while !rest.is_empty() {
        let num_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(err)?;
        if num_end == 0 {
            return Err(err());
        }
        let value: f64 = rest[..num_end].parse().map_err(|_| err())?;
        rest = &rest[num_end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_end] {
            "ns" => 1e-9,
            "us" | "µs" | "μs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return Err(err()),
        };
        total += value * scale;
        rest = &rest[unit_end..];
    }
    Duration::try_from_secs_f64(total).map_err(|_| err())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations() {
        for (s, secs) in [
            ("0", 0.0),
            ("30s", 30.0),
            ("1m30s", 90.0),
            ("1.5h", 5400.0),
            ("250ms", 0.25),
            ("2h45m", 9900.0),
        ] {
            assert_eq!(parse(s).unwrap(), Duration::from_secs_f64(secs), "{s}");
        }
        for s in ["", "30", "-1s", "1x", "s", "1m30"] {
            assert!(parse(s).is_err(), "{s}");
        }
        assert_eq!(
            parse("1x").unwrap_err(),
            "invalid duration \"1x\": expected a Go duration such as 30s, 1m30s or 0"
        );
    }
}
