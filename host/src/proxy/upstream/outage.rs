//! The WARN lines of an API server outage, aggregated: the first failed request is logged at
//! once, then at most one line per [`OUTAGE_LOG_INTERVAL`] with how many requests failed since
//! and the last error, and one line when a request gets through again. (One line per failed
//! request flooded the log: 4,937 lines in one outage.)

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// The shortest time between two outage lines.
pub const OUTAGE_LOG_INTERVAL: Duration = Duration::from_secs(10);

#[derive(Debug, Default)]
struct State {
    /// Failed requests in the current outage, and since the last line.
    total: u64,
    unlogged: u64,
    last_line: Option<Instant>,
}

/// The outage counter of one upstream.
#[derive(Debug, Default)]
pub struct OutageLog {
    state: Mutex<State>,
    /// Whether `state` counts failures (checked without the lock on every answered request).
    failing: AtomicBool,
}

impl OutageLog {
    /// Counts a failed request; the line to log now, if any.
    pub fn failed(&self, now: Instant, why: &str) -> Option<String> {
        let mut s = self.state.lock().unwrap();
        self.failing.store(true, Ordering::Relaxed);
        s.total += 1;
        s.unlogged += 1;
        match s.last_line {
            None => {
                s.last_line = Some(now);
                s.unlogged = 0;
                Some(format!("error reaching the API server: {why}"))
            }
            Some(t) if now.duration_since(t) >= OUTAGE_LOG_INTERVAL => {
                let line = format!(
                    "error reaching the API server: {} more requests failed in the last {}s \
                     ({} in this outage); last error: {why}",
                    s.unlogged,
                    now.duration_since(t).as_secs(),
                    s.total
                );
                s.last_line = Some(now);
                s.unlogged = 0;
                Some(line)
            }
            Some(_) => None,
        }
    }

    /// A request got an answer; the line to log if that ends an outage.
    pub fn succeeded(&self) -> Option<String> {
        if !self.failing.load(Ordering::Relaxed) {
            return None;
        }
        let mut s = self.state.lock().unwrap();
        self.failing.store(false, Ordering::Relaxed);
        if s.total == 0 {
            return None;
        }
        let line = format!(
            "the API server is reachable again after {} failed requests",
            s.total
        );
        *s = State::default();
        Some(line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_then_one_per_interval_then_recovery() {
        let log = OutageLog::default();
        let t0 = Instant::now();
        assert_eq!(log.succeeded(), None);
        assert_eq!(
            log.failed(t0, "refused").as_deref(),
            Some("error reaching the API server: refused")
        );
        let lines: Vec<String> = (1..=4936)
            .filter_map(|i| log.failed(t0 + Duration::from_millis(i * 5), "refused"))
            .collect();
        // 4,936 failures over 24.7 s: two more lines (at 10 s and 20 s).
        assert_eq!(
            lines,
            [
                "error reaching the API server: 2000 more requests failed in the last 10s \
                 (2001 in this outage); last error: refused",
                "error reaching the API server: 2000 more requests failed in the last 10s \
                 (4001 in this outage); last error: refused",
            ]
        );
        assert_eq!(
            log.succeeded().as_deref(),
            Some("the API server is reachable again after 4937 failed requests")
        );
        assert_eq!(log.succeeded(), None);
        // The next outage starts afresh.
        assert!(log.failed(t0, "x").is_some());
    }
}
