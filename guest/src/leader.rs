//! The `leader-elector` resource: client-go `tools/leaderelection` over a coordination.k8s.io/v1
//! Lease, the state machine in [`pod_introspect_kube::leader_election`], the Lease read and
//! written with the instance's client (GET, then POST or a PUT that carries the Lease's
//! resourceVersion, so the API server's compare-and-swap decides between candidates).

use crate::api::{ApiError, Client, Transport, WriteOptions};
use crate::convert;
use crate::instance_client::with_client;
use crate::resolve::Context;
use crate::world::exports::pod_introspect::pod::pod_introspect as wit;
use pod_introspect_kube::discovery::GroupVersionResource;
use pod_introspect_kube::leader_election::{ElectionConfig, Elector, Step};
use pod_introspect_kube::micro_time::micro_time;
use std::cell::RefCell;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// coordination.k8s.io/v1 `leases`.
fn leases() -> GroupVersionResource {
    GroupVersionResource {
        group: "coordination.k8s.io".into(),
        version: "v1".into(),
        resource: "leases".into(),
    }
}

/// The wall clock as a `MicroTime`.
fn wall_now() -> String {
    micro_time(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default(),
    )
}

/// A candidate: the WIT config as given, and the elector once the config was checked.
pub struct LeaderElector {
    config: wit::LeaderElectionConfig,
    state: RefCell<Result<Candidate, String>>,
}

/// A checked candidate.
struct Candidate {
    namespace: String,
    lease: String,
    elector: Elector,
    config: ElectionConfig,
    identity: String,
}

impl LeaderElector {
    fn check(config: &wit::LeaderElectionConfig) -> Result<Candidate, String> {
        let ms = |v: u32| Duration::from_millis(u64::from(v));
        let election = ElectionConfig::new(
            ms(config.lease_duration_ms),
            config.renew_deadline_ms.map(ms),
            config.retry_period_ms.map(ms),
        )?;
        if config.lease_name.is_empty() {
            return Err("lease-name is empty: name the Lease the candidates share".into());
        }
        let ctx = Context::from_process();
        let mut errors = Vec::new();
        let field = |path: &str, errors: &mut Vec<_>| ctx.scalar(path, errors).map(|(v, _)| v);
        let namespace = match &config.namespace {
            Some(ns) => ns.clone(),
            None => field(pod_introspect_kube::fields::METADATA_NAMESPACE, &mut errors)
                .ok_or("namespace is not set and this pod's namespace is not exposed: set namespace, or expose metadata.namespace")?,
        };
        let identity = match &config.identity {
            Some(id) => id.clone(),
            None => field(pod_introspect_kube::fields::METADATA_NAME, &mut errors)
                .ok_or("identity is not set and this pod's name is not exposed: set identity, or expose metadata.name (env POD_NAME from fieldRef metadata.name)")?,
        };
        if identity.is_empty() {
            return Err("identity is empty: each candidate needs a unique holderIdentity".into());
        }
        Ok(Candidate {
            elector: Elector::new(&identity, &namespace, &config.lease_name, election),
            namespace,
            lease: config.lease_name.clone(),
            config: election,
            identity,
        })
    }

    fn with<R>(
        &self,
        f: impl FnOnce(&mut Candidate) -> Result<R, ApiError>,
    ) -> Result<R, wit::ApiError> {
        match &mut *self.state.borrow_mut() {
            Ok(c) => f(c).map_err(convert::api_error),
            Err(e) => Err(wit::ApiError::Invalid(format!("leader election: {e}"))),
        }
    }
}

/// What is left until `deadline` on `c`'s clock, at least a millisecond (a zero timeout would
/// mean none to some runtimes).
fn left<T: Transport>(c: &Client<T>, deadline: Duration) -> Duration {
    deadline
        .saturating_sub(c.now())
        .max(Duration::from_millis(1))
}

impl Candidate {
    /// One `tryAcquireOrRenew`. A 409 from the compare-and-swap (another candidate wrote first)
    /// is an outcome, not an error: the attempt failed and leadership is kept only within the
    /// renew deadline.
    fn attempt<T: Transport>(&mut self, c: &mut Client<T>) -> Result<wit::LeaderState, ApiError> {
        // Every request of an attempt ends within the renew deadline (what is left of it, for a
        // leader), as client-go's renew runs under a context with that deadline: a hung API
        // server cannot keep a leader believing it leads after the others may have taken over.
        let deadline = self.elector.renew_deadline_at(c.now());
        c.with_timeout(Some(left(c, deadline)), |c| {
            self.attempt_within(c, deadline)
        })
    }

    fn attempt_within<T: Transport>(
        &mut self,
        c: &mut Client<T>,
        deadline: Duration,
    ) -> Result<wit::LeaderState, ApiError> {
        let mono = c.now();
        let current = match c.get_object(&leases(), Some(&self.namespace), &self.lease, None, None)
        {
            Ok(v) => Some(v),
            Err(ApiError::NotFound(_)) => None,
            Err(e) => {
                self.elector.failed(mono);
                return Err(e);
            }
        };
        // The PUT gets what the GET left.
        c.set_timeout(Some(left(c, deadline)));
        let written = match self.elector.step(current.as_ref(), mono, &wall_now()) {
            Step::Create { lease } => c.create_object(
                &leases(),
                Some(&self.namespace),
                lease.to_string().as_bytes(),
                &WriteOptions::default(),
            ),
            Step::Update { lease } => c.replace_object(
                &leases(),
                Some(&self.namespace),
                &self.lease,
                lease.to_string().as_bytes(),
                &WriteOptions::default(),
            ),
            Step::Held { .. } => return Ok(self.state(mono)),
        };
        match written {
            // Renewed at the time of the GET, the earlier of the two (the conservative reading).
            Ok(lease) => self.elector.succeeded(&lease, mono),
            Err(ApiError::Conflict(_)) => self.elector.failed(mono),
            Err(e) => {
                self.elector.failed(mono);
                return Err(e);
            }
        }
        Ok(self.state(mono))
    }

    fn state(&self, mono: Duration) -> wit::LeaderState {
        wit::LeaderState {
            leader: self.elector.is_leader(mono),
            holder: self.elector.holder().map(String::from),
            identity: self.identity.clone(),
            transitions: self.elector.transitions(),
        }
    }

    /// client-go `release`: only when this candidate holds the Lease.
    fn release<T: Transport>(&mut self, c: &mut Client<T>) -> Result<(), ApiError> {
        let current = match c.get_object(&leases(), Some(&self.namespace), &self.lease, None, None)
        {
            Ok(v) => v,
            Err(ApiError::NotFound(_)) => return Ok(()),
            Err(e) => return Err(e),
        };
        if let Some(lease) = self.elector.release(&current, &wall_now()) {
            let written = c.replace_object(
                &leases(),
                Some(&self.namespace),
                &self.lease,
                lease.to_string().as_bytes(),
                &WriteOptions::default(),
            )?;
            // Observed free: no longer leader.
            self.elector.succeeded(&written, c.now());
        }
        Ok(())
    }
}

impl wit::GuestLeaderElector for LeaderElector {
    fn new(config: wit::LeaderElectionConfig) -> Self {
        let state = LeaderElector::check(&config);
        LeaderElector {
            config,
            state: RefCell::new(state),
        }
    }

    fn try_acquire_or_renew(&self) -> Result<wit::LeaderState, wit::ApiError> {
        self.with(|cand| with_client(|c| cand.attempt(c)))
    }

    fn is_leader(&self) -> bool {
        match &*self.state.borrow() {
            Ok(cand) => with_client(|c| Ok(cand.elector.is_leader(c.now()))).unwrap_or(false),
            Err(_) => false,
        }
    }

    fn release(&self) -> Result<(), wit::ApiError> {
        self.with(|cand| {
            with_client(|c| c.with_timeout(Some(cand.config.renew_deadline), |c| cand.release(c)))
        })
    }

    fn config(&self) -> wit::LeaderElectionConfig {
        let ms = |d: Duration| u32::try_from(d.as_millis()).unwrap_or(u32::MAX);
        match &*self.state.borrow() {
            Ok(cand) => wit::LeaderElectionConfig {
                lease_name: cand.lease.clone(),
                namespace: Some(cand.namespace.clone()),
                identity: Some(cand.identity.clone()),
                lease_duration_ms: ms(cand.config.lease_duration),
                renew_deadline_ms: Some(ms(cand.config.renew_deadline)),
                retry_period_ms: Some(ms(cand.config.retry_period)),
            },
            Err(_) => self.config.clone(),
        }
    }
}

impl Drop for LeaderElector {
    /// client-go `ReleaseOnCancel`: a candidate dropped while it holds the Lease (as last
    /// observed, also past its renew deadline) gives it up, so the next candidate need not wait
    /// out the lease duration. `release` reads the Lease first and writes only if it still names
    /// this candidate.
    fn drop(&mut self) {
        if let Ok(cand) = self.state.get_mut()
            && cand.elector.holds_observed()
        {
            let _ = with_client(|c| {
                c.with_timeout(Some(cand.config.renew_deadline), |c| cand.release(c))
            });
        }
    }
}
