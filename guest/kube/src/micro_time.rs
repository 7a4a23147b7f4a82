//! `metav1.Time` and `metav1.MicroTime` as the API server writes them: RFC 3339 in UTC, whole
//! seconds (`2026-12-03T08:00:00Z`) or six fractional digits (`2026-12-03T08:00:00.123456Z`)
//! (k8s.io/apimachinery `pkg/apis/meta/v1/time.go` `RFC3339Micro`, `micro_time.go`).

use std::time::Duration;

/// `since_epoch` (time since 1970-01-01T00:00:00Z) as a `MicroTime`:
/// `2026-12-03T08:00:00.123456Z` (microseconds truncated, as Go's formatting does).
pub fn micro_time(since_epoch: Duration) -> String {
    let (date, secs) = civil(since_epoch.as_secs());
    format!("{date}T{secs}.{:06}Z", since_epoch.subsec_micros())
}

/// `since_epoch` as a `Time`: `2026-12-03T08:00:00Z` (sub-second part dropped).
pub fn time(since_epoch: Duration) -> String {
    let (date, secs) = civil(since_epoch.as_secs());
    format!("{date}T{secs}Z")
}

/// `YYYY-MM-DD` and `HH:MM:SS` of `secs` since the epoch (Howard Hinnant's `civil_from_days`).
fn civil(secs: u64) -> (String, String) {
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (
        format!("{year:04}-{month:02}-{day:02}"),
        format!("{:02}:{:02}:{:02}", rem / 3_600, rem % 3_600 / 60, rem % 60),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_as_the_api_server_does() {
        // 1764748800 = 2025-12-03T08:00:00Z (date -u -d @1764748800).
        let t = Duration::new(1_764_748_800, 123_456_789);
        assert_eq!(micro_time(t), "2025-12-03T08:00:00.123456Z");
        assert_eq!(time(t), "2025-12-03T08:00:00Z");
        assert_eq!(micro_time(Duration::ZERO), "1970-01-01T00:00:00.000000Z");
        // A leap day: 951782400 = 2000-02-29T00:00:00Z.
        assert_eq!(
            time(Duration::from_secs(951_782_400 + 86_399)),
            "2000-02-29T23:59:59Z"
        );
    }
}
