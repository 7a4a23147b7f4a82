//! Leader election over a `coordination.k8s.io/v1` Lease, as client-go's `tools/leaderelection`
//! does it, as a pure state machine: the caller does the GET, the POST or PUT, and keeps the
//! clocks.
//!
//! Upstream: client-go `tools/leaderelection/leaderelection.go` (`NewLeaderElector`: the config
//! checks and their messages; `tryAcquireOrRenew`; `release`; `isLeaseValid`; `renew`: leadership
//! ends when no renewal succeeds for `RenewDeadline`), `resourcelock/interface.go`
//! (`LeaderElectionRecord`) and `resourcelock/leaselock.go` (`LeaderElectionRecordToLeaseSpec`,
//! `LeaseSpecToLeaseElectionRecord`, `Create`, `Update`).
//!
//! The rules:
//! - Expiry is judged by the local monotonic time at which this elector last saw the record
//!   change, plus the record's `leaseDurationSeconds` (client-go `isLeaseValid`), never by the
//!   server's `renewTime`: the holder's clock may be skewed.
//! - A record whose `holderIdentity` is empty is free (a released lease).
//! - Taking the lease from another holder (or a free one) sets `acquireTime` to now and adds one
//!   to `leaseTransitions`; renewing our own keeps both.
//! - A lease we hold is renewed (PUT) on every [`Elector::step`]. client-go 1.30+ also has a fast
//!   path (a leader renews without a fresh GET); this machine always wants the GET first, which
//!   costs one read per renewal and is otherwise the same.
//! - The Lease is written whole: `metadata` as read (its `resourceVersion` makes the PUT fail with
//!   409 Conflict if someone wrote in between), `spec` replaced by the record.
//!
//! Times: `mono` arguments are a monotonic clock (any origin); `wall` arguments are the wall
//! clock as a `MicroTime`, RFC 3339 in UTC with 6 fractional digits
//! (`2026-12-03T08:00:00.000000Z`), written as given.

use std::time::Duration;

use serde_json::{Value, json};

/// client-go `JitterFactor`: the retry period is jittered by up to this factor, so the renew
/// deadline must exceed `retry_period * JITTER_FACTOR`.
pub const JITTER_FACTOR: f64 = 1.2;

/// The three durations of an election (client-go `LeaderElectionConfig`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ElectionConfig {
    /// How long a non-leader waits, from its last observation of a change, before it may take the
    /// lease; also written as the Lease's `leaseDurationSeconds`, in whole seconds rounded up
    /// ([`ElectionConfig::lease_duration_seconds`]), so no candidate reading the Lease waits less
    /// than this.
    pub lease_duration: Duration,
    /// How long the leader keeps trying to renew before it gives leadership up.
    pub renew_deadline: Duration,
    /// How often to try (to acquire, or to renew).
    pub retry_period: Duration,
}

impl ElectionConfig {
    /// A checked config. Unset durations get the project's defaults: `renew_deadline` two thirds
    /// of `lease_duration`, `retry_period` a fifth of it (15 s gives client-go's usual 10 s and
    /// 3 s; client-go itself has no defaults).
    ///
    /// Errors, in `NewLeaderElector`'s order and words: `leaseDuration must be greater than
    /// renewDeadline`, `renewDeadline must be greater than retryPeriod*JitterFactor`,
    /// `leaseDuration must be greater than zero`, `renewDeadline must be greater than zero`,
    /// `retryPeriod must be greater than zero`; and ours: `leaseDuration must be at least 1s`,
    /// because the Lease records whole seconds and a 0 there makes every candidate leader at once.
    pub fn new(
        lease_duration: Duration,
        renew_deadline: Option<Duration>,
        retry_period: Option<Duration>,
    ) -> Result<Self, String> {
        let renew_deadline = renew_deadline.unwrap_or(lease_duration * 2 / 3);
        let retry_period = retry_period.unwrap_or(lease_duration / 5);
        if lease_duration <= renew_deadline {
            return Err("leaseDuration must be greater than renewDeadline".into());
        }
        if renew_deadline <= retry_period.mul_f64(JITTER_FACTOR) {
            return Err("renewDeadline must be greater than retryPeriod*JitterFactor".into());
        }
        if lease_duration.is_zero() {
            return Err("leaseDuration must be greater than zero".into());
        }
        if renew_deadline.is_zero() {
            return Err("renewDeadline must be greater than zero".into());
        }
        if retry_period.is_zero() {
            return Err("retryPeriod must be greater than zero".into());
        }
        if lease_duration < Duration::from_secs(1) {
            return Err(
                "leaseDuration must be at least 1s: the Lease records it in whole seconds".into(),
            );
        }
        Ok(ElectionConfig {
            lease_duration,
            renew_deadline,
            retry_period,
        })
    }
}

impl ElectionConfig {
    /// `leaseDurationSeconds` of the Lease: the lease duration in whole seconds, rounded up.
    /// client-go truncates (`int(LeaseDuration / time.Second)`), harmless for its usual whole
    /// seconds; rounding up keeps a 1.5 s lease from being read as 1 s by the other candidates
    /// while this one still counts itself leader for its 1 s renew deadline.
    pub fn lease_duration_seconds(&self) -> i32 {
        let d = self.lease_duration;
        let secs = d.as_secs() + u64::from(d.subsec_nanos() > 0);
        i32::try_from(secs).unwrap_or(i32::MAX)
    }
}

/// client-go `resourcelock.LeaderElectionRecord`, as a Lease's `spec` holds it
/// (`holderIdentity`, `leaseDurationSeconds`, `acquireTime`, `renewTime`, `leaseTransitions`).
/// Absent fields read as empty or zero.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LeaderElectionRecord {
    /// Who holds the lease; empty when it is free.
    pub holder_identity: String,
    /// `leaseDurationSeconds`.
    pub lease_duration_seconds: i32,
    /// `acquireTime`, MicroTime text; empty when absent.
    pub acquire_time: String,
    /// `renewTime`, MicroTime text; empty when absent.
    pub renew_time: String,
    /// `leaseTransitions`: how many times the holder changed.
    pub leader_transitions: i32,
}

impl LeaderElectionRecord {
    /// Reads the record from a Lease object (`LeaseSpecToLeaseElectionRecord`).
    pub fn from_lease(lease: &Value) -> Self {
        let spec = &lease["spec"];
        let int = |v: &Value| {
            v.as_i64()
                .and_then(|n| i32::try_from(n).ok())
                .unwrap_or_default()
        };
        let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
        LeaderElectionRecord {
            holder_identity: text(&spec["holderIdentity"]),
            lease_duration_seconds: int(&spec["leaseDurationSeconds"]),
            acquire_time: text(&spec["acquireTime"]),
            renew_time: text(&spec["renewTime"]),
            leader_transitions: int(&spec["leaseTransitions"]),
        }
    }

    /// The Lease `spec` for this record (`LeaderElectionRecordToLeaseSpec`): all five fields, an
    /// empty holder as `""` (client-go writes the pointer to an empty string), an empty time as
    /// `null` (a zero `MicroTime`).
    pub fn to_spec(&self) -> Value {
        let time = |t: &str| {
            if t.is_empty() {
                Value::Null
            } else {
                Value::from(t)
            }
        };
        json!({
            "holderIdentity": self.holder_identity,
            "leaseDurationSeconds": self.lease_duration_seconds,
            "acquireTime": time(&self.acquire_time),
            "renewTime": time(&self.renew_time),
            "leaseTransitions": self.leader_transitions,
        })
    }
}

/// What [`Elector::step`] asks the caller to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// There is no Lease: POST this one to
    /// `/apis/coordination.k8s.io/v1/namespaces/NS/leases`; then [`Elector::succeeded`] with the
    /// server's answer, or [`Elector::failed`] (409 AlreadyExists: another candidate was first).
    Create {
        /// The whole Lease object.
        lease: Value,
    },
    /// PUT this Lease to `.../leases/NAME` (a renewal, or taking an expired or free lease); then
    /// [`Elector::succeeded`] or [`Elector::failed`] (409 Conflict: it changed since the GET).
    Update {
        /// The Lease as read, its `spec` replaced; `metadata.resourceVersion` kept.
        lease: Value,
    },
    /// Someone else holds a lease that has not expired: write nothing, try again after
    /// `retry_period`.
    Held {
        /// The holder's identity.
        holder: String,
    },
}

/// One candidate's election state (client-go `LeaderElector`: `observedRecord`, `observedTime`).
#[derive(Debug, Clone)]
pub struct Elector {
    identity: String,
    namespace: String,
    lease_name: String,
    config: ElectionConfig,
    /// The record last read or written; `None` before the first.
    observed: Option<LeaderElectionRecord>,
    /// The monotonic time `observed` last changed.
    observed_time: Duration,
    /// The monotonic time of our last successful write as holder; `None` when we do not lead.
    last_renew: Option<Duration>,
}

impl Elector {
    /// A candidate named `identity` (unique among candidates, e.g. the pod name) for the Lease
    /// `namespace`/`lease_name`.
    pub fn new(
        identity: impl Into<String>,
        namespace: impl Into<String>,
        lease_name: impl Into<String>,
        config: ElectionConfig,
    ) -> Self {
        Elector {
            identity: identity.into(),
            namespace: namespace.into(),
            lease_name: lease_name.into(),
            config,
            observed: None,
            observed_time: Duration::ZERO,
            last_renew: None,
        }
    }

    /// When the current attempt must have ended (monotonic): for a leader, its last renewal plus
    /// `renew_deadline` (after that it is no longer leader anyway); for a candidate, `mono` plus
    /// `renew_deadline`. client-go bounds its renew requests by the same deadline.
    pub fn renew_deadline_at(&self, mono: Duration) -> Duration {
        match self.last_renew {
            Some(t) if self.is_leader(mono) => t + self.config.renew_deadline,
            _ => mono + self.config.renew_deadline,
        }
    }

    /// Whether the last Lease observed names us as holder (whether or not we still count as
    /// leader): what decides a release on drop.
    pub fn holds_observed(&self) -> bool {
        self.observed
            .as_ref()
            .is_some_and(|r| r.holder_identity == self.identity)
    }

    /// client-go `tryAcquireOrRenew`, after its GET: `current` is the Lease as read (`None` on
    /// 404), `mono` the monotonic now, `wall` the wall-clock now as MicroTime text.
    ///
    /// A record that differs from the last one observed is observed now (its expiry clock
    /// restarts at `mono`). No Lease: [`Step::Create`] with us as holder. A holder other than us
    /// whose lease is still valid by our observation: [`Step::Held`]. Else [`Step::Update`]: our
    /// renewal (acquireTime and leaseTransitions kept), or our acquisition (acquireTime now,
    /// leaseTransitions + 1).
    pub fn step(&mut self, current: Option<&Value>, mono: Duration, wall: &str) -> Step {
        let mut record = LeaderElectionRecord {
            holder_identity: self.identity.clone(),
            lease_duration_seconds: self.config.lease_duration_seconds(),
            acquire_time: wall.to_string(),
            renew_time: wall.to_string(),
            leader_transitions: 0,
        };
        let Some(current) = current else {
            return Step::Create {
                lease: json!({
                    "apiVersion": "coordination.k8s.io/v1",
                    "kind": "Lease",
                    "metadata": {"name": self.lease_name, "namespace": self.namespace},
                    "spec": record.to_spec(),
                }),
            };
        };
        let old = LeaderElectionRecord::from_lease(current);
        if self.observed.as_ref() != Some(&old) {
            self.observed = Some(old.clone());
            self.observed_time = mono;
        }
        if !old.holder_identity.is_empty() && self.lease_valid(mono) && !self.holds_observed() {
            return Step::Held {
                holder: old.holder_identity,
            };
        }
        if self.holds_observed() {
            record.acquire_time = old.acquire_time;
            record.leader_transitions = old.leader_transitions;
        } else {
            record.leader_transitions = old.leader_transitions.saturating_add(1);
        }
        Step::Update {
            lease: with_spec(current, &record),
        }
    }

    /// client-go `isLeaseValid`: the observed record's `leaseDurationSeconds` have not passed
    /// since we observed it.
    fn lease_valid(&self, mono: Duration) -> bool {
        let secs = self
            .observed
            .as_ref()
            .map_or(0, |r| u64::try_from(r.lease_duration_seconds).unwrap_or(0));
        self.observed_time + Duration::from_secs(secs) > mono
    }

    /// The Create or Update went through: `written` (the server's answer, or the body sent) is
    /// observed at `mono`; when we are its holder, this is a successful renewal.
    pub fn succeeded(&mut self, written: &Value, mono: Duration) {
        let record = LeaderElectionRecord::from_lease(written);
        self.last_renew = (record.holder_identity == self.identity).then_some(mono);
        self.observed = Some(record);
        self.observed_time = mono;
    }

    /// The write failed (a conflict, an error, a timeout). Leadership survives it only while
    /// `mono` is less than `renew_deadline` after the last successful renewal (client-go `renew`
    /// gives up after `RenewDeadline` without one); once over, it is over until a later
    /// [`Elector::succeeded`] as holder.
    pub fn failed(&mut self, mono: Duration) {
        if let Some(t) = self.last_renew
            && mono.saturating_sub(t) >= self.config.renew_deadline
        {
            self.last_renew = None;
        }
    }

    /// Whether we lead at `mono`: the observed holder is us, and our last successful renewal is
    /// less than `renew_deadline` old (so a caller that stops stepping stops leading, as
    /// client-go's renew loop would).
    pub fn is_leader(&self, mono: Duration) -> bool {
        self.holds_observed()
            && self
                .last_renew
                .is_some_and(|t| mono.saturating_sub(t) < self.config.renew_deadline)
    }

    /// The observed holder (client-go `GetLeader`); `None` before any observation and when the
    /// lease is free.
    pub fn holder(&self) -> Option<&str> {
        self.observed
            .as_ref()
            .map(|r| r.holder_identity.as_str())
            .filter(|h| !h.is_empty())
    }

    /// The observed `leaseTransitions` (0 before any observation).
    pub fn transitions(&self) -> u32 {
        self.observed
            .as_ref()
            .map_or(0, |r| u32::try_from(r.leader_transitions).unwrap_or(0))
    }

    /// client-go `release`: the Lease to PUT to give the lease up, or `None` when we are not the
    /// holder (neither as observed nor in `current`, the Lease as just read). The record has an
    /// empty `holderIdentity`, `leaseDurationSeconds` 1, `acquireTime` and `renewTime` `wall`,
    /// `leaseTransitions` kept; other candidates may take it at once. Pass the server's answer
    /// to [`Elector::succeeded`] afterwards.
    pub fn release(&self, current: &Value, wall: &str) -> Option<Value> {
        if !self.holds_observed()
            || LeaderElectionRecord::from_lease(current).holder_identity != self.identity
        {
            return None;
        }
        let record = LeaderElectionRecord {
            holder_identity: String::new(),
            lease_duration_seconds: 1,
            acquire_time: wall.to_string(),
            renew_time: wall.to_string(),
            leader_transitions: self.observed.as_ref().map_or(0, |r| r.leader_transitions),
        };
        Some(with_spec(current, &record))
    }
}

/// `current` with its `spec` replaced by `record` (leaselock `Update`).
fn with_spec(current: &Value, record: &LeaderElectionRecord) -> Value {
    let mut lease = current.clone();
    if let Some(obj) = lease.as_object_mut() {
        obj.insert("spec".into(), record.to_spec());
    }
    lease
}

#[cfg(test)]
mod tests;
