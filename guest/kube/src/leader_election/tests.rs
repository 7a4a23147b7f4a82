use super::*;

const T0: &str = "2026-12-03T08:00:00.000000Z";
const T1: &str = "2026-12-03T08:00:03.000000Z";
const T2: &str = "2026-12-03T08:00:20.500000Z";

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn config() -> ElectionConfig {
    ElectionConfig::new(secs(15), None, None).unwrap()
}

/// A Lease as the API server returns it from GET.
fn lease(holder: &str, acquire: &str, renew: &str, transitions: i32, rv: &str) -> Value {
    json!({
        "kind": "Lease",
        "apiVersion": "coordination.k8s.io/v1",
        "metadata": {
            "name": "greeter-leader",
            "namespace": "default",
            "uid": "1b0d6c3e-4a57-4a54-9a7d-2f1f4c0c9e11",
            "resourceVersion": rv,
            "creationTimestamp": "2026-12-03T07:00:00Z"
        },
        "spec": {
            "holderIdentity": holder,
            "leaseDurationSeconds": 15,
            "acquireTime": acquire,
            "renewTime": renew,
            "leaseTransitions": transitions
        }
    })
}

fn update_body(step: Step) -> Value {
    match step {
        Step::Update { lease } => lease,
        other => panic!("expected Update, got {other:?}"),
    }
}

#[test]
fn config_defaults_and_checks() {
    assert_eq!(
        config(),
        ElectionConfig {
            lease_duration: secs(15),
            renew_deadline: secs(10),
            retry_period: secs(3),
        }
    );
    let c = ElectionConfig::new(secs(60), Some(secs(30)), Some(secs(5))).unwrap();
    assert_eq!((c.renew_deadline, c.retry_period), (secs(30), secs(5)));
    for (lease, renew, retry, msg) in [
        (
            15,
            Some(15),
            None,
            "leaseDuration must be greater than renewDeadline",
        ),
        (
            15,
            Some(20),
            None,
            "leaseDuration must be greater than renewDeadline",
        ),
        // 10 s is not more than 1.2 × 9 s.
        (
            15,
            Some(10),
            Some(9),
            "renewDeadline must be greater than retryPeriod*JitterFactor",
        ),
        (
            15,
            Some(12),
            Some(10),
            "renewDeadline must be greater than retryPeriod*JitterFactor",
        ),
        // Go checks the ordering first: 0 <= 0.
        (
            0,
            None,
            None,
            "leaseDuration must be greater than renewDeadline",
        ),
        (
            15,
            Some(10),
            Some(0),
            "retryPeriod must be greater than zero",
        ),
    ] {
        assert_eq!(
            ElectionConfig::new(secs(lease), renew.map(secs), retry.map(secs)).unwrap_err(),
            msg,
            "{lease} {renew:?} {retry:?}"
        );
    }
}

#[test]
fn acquires_from_nothing_then_renews() {
    let mut e = Elector::new("pod-a", "default", "greeter-leader", config());
    assert!(!e.is_leader(secs(0)));
    assert_eq!(e.holder(), None);
    let step = e.step(None, secs(100), T0);
    assert_eq!(
        step,
        Step::Create {
            lease: json!({
                "apiVersion": "coordination.k8s.io/v1",
                "kind": "Lease",
                "metadata": {"name": "greeter-leader", "namespace": "default"},
                "spec": {
                    "holderIdentity": "pod-a",
                    "leaseDurationSeconds": 15,
                    "acquireTime": T0,
                    "renewTime": T0,
                    "leaseTransitions": 0
                }
            })
        }
    );
    // Nothing is observed until the write went through.
    assert!(!e.is_leader(secs(100)));
    let created = lease("pod-a", T0, T0, 0, "500");
    e.succeeded(&created, secs(100));
    assert!(e.is_leader(secs(100)));
    assert_eq!(e.holder(), Some("pod-a"));
    assert_eq!(e.transitions(), 0);

    // Renewal: acquireTime and leaseTransitions kept, renewTime now, resourceVersion as read.
    let body = update_body(e.step(Some(&created), secs(103), T1));
    assert_eq!(body, lease("pod-a", T0, T1, 0, "500"));
    e.succeeded(&lease("pod-a", T0, T1, 0, "501"), secs(103));
    assert!(e.is_leader(secs(112)));
    // No renewal for renew_deadline (10 s): no longer leader.
    assert!(!e.is_leader(secs(113)));
}

#[test]
fn another_holder_unexpired_then_expired() {
    let mut e = Elector::new("pod-b", "default", "greeter-leader", config());
    let held = lease("pod-a", T0, T0, 4, "700");
    assert_eq!(
        e.step(Some(&held), secs(1000), T1),
        Step::Held {
            holder: "pod-a".into()
        }
    );
    assert_eq!(e.holder(), Some("pod-a"));
    assert_eq!(e.transitions(), 4);
    // The holder's renewTime is long past by the wall clock, but we judge by our own
    // observation: 14 s after we first saw this record it is still held.
    assert!(matches!(
        e.step(Some(&held), secs(1014), T2),
        Step::Held { .. }
    ));
    // A renewal by pod-a (the record changed) restarts our observation clock.
    let renewed = lease("pod-a", T0, T1, 4, "701");
    assert!(matches!(
        e.step(Some(&renewed), secs(1014), T2),
        Step::Held { .. }
    ));
    assert!(matches!(
        e.step(Some(&renewed), secs(1028), T2),
        Step::Held { .. }
    ));
    // 15 s without a change: expired. We take it: our identity, acquireTime now, transitions + 1.
    let body = update_body(e.step(Some(&renewed), secs(1029), T2));
    assert_eq!(body, lease("pod-b", T2, T2, 5, "701"));
    assert!(!e.is_leader(secs(1029)));
    e.succeeded(&lease("pod-b", T2, T2, 5, "702"), secs(1029));
    assert!(e.is_leader(secs(1029)));
    assert_eq!(e.transitions(), 5);
}

#[test]
fn a_free_lease_is_taken_at_once() {
    let mut e = Elector::new("pod-b", "default", "greeter-leader", config());
    let mut released = lease("", T1, T1, 2, "900");
    released["spec"]["leaseDurationSeconds"] = json!(1);
    let body = update_body(e.step(Some(&released), secs(5), T2));
    assert_eq!(body["spec"], lease("pod-b", T2, T2, 3, "900")["spec"]);
    assert_eq!(body["metadata"]["resourceVersion"], "900");
}

#[test]
fn a_restarted_holder_renews_its_own_lease() {
    // A fresh elector whose identity holds the lease (the process restarted) renews it without
    // waiting and without counting a transition.
    let mut e = Elector::new("pod-a", "default", "greeter-leader", config());
    let body = update_body(e.step(Some(&lease("pod-a", T0, T1, 3, "42")), secs(7), T2));
    assert_eq!(body, lease("pod-a", T0, T2, 3, "42"));
}

#[test]
fn leadership_lost_after_renew_deadline_of_failures() {
    let mut e = Elector::new("pod-a", "default", "greeter-leader", config());
    let l = lease("pod-a", T0, T0, 0, "1");
    e.succeeded(&l, secs(50));
    // Conflicts within the renew deadline keep leadership.
    assert!(matches!(
        e.step(Some(&l), secs(53), T1),
        Step::Update { .. }
    ));
    e.failed(secs(53));
    assert!(e.is_leader(secs(53)));
    e.failed(secs(59));
    assert!(e.is_leader(secs(59)));
    // 10 s after the last good renewal: over, and it stays over.
    e.failed(secs(60));
    assert!(!e.is_leader(secs(60)));
    assert!(!e.is_leader(secs(55)));
    // A later successful renewal makes us leader again.
    e.succeeded(&lease("pod-a", T0, T2, 0, "9"), secs(61));
    assert!(e.is_leader(secs(61)));
}

#[test]
fn a_lost_race_is_observed() {
    // We wanted to take an expired lease, but pod-c took it first (our PUT got 409); the next
    // GET shows pod-c, which is then held.
    let mut e = Elector::new("pod-b", "default", "greeter-leader", config());
    let old = lease("pod-a", T0, T0, 1, "10");
    assert!(matches!(e.step(Some(&old), secs(0), T1), Step::Held { .. }));
    assert!(matches!(
        e.step(Some(&old), secs(16), T1),
        Step::Update { .. }
    ));
    e.failed(secs(16));
    assert_eq!(
        e.step(Some(&lease("pod-c", T1, T1, 2, "11")), secs(17), T2),
        Step::Held {
            holder: "pod-c".into()
        }
    );
    assert!(!e.is_leader(secs(17)));
}

#[test]
fn release_body() {
    let mut e = Elector::new("pod-a", "default", "greeter-leader", config());
    let held = lease("pod-a", T0, T1, 7, "300");
    // Not observed as ours yet: nothing to release.
    assert_eq!(e.release(&held, T2), None);
    e.succeeded(&held, secs(1));
    assert_eq!(
        e.release(&held, T2).unwrap(),
        json!({
            "kind": "Lease",
            "apiVersion": "coordination.k8s.io/v1",
            "metadata": {
                "name": "greeter-leader",
                "namespace": "default",
                "uid": "1b0d6c3e-4a57-4a54-9a7d-2f1f4c0c9e11",
                "resourceVersion": "300",
                "creationTimestamp": "2026-12-03T07:00:00Z"
            },
            "spec": {
                "holderIdentity": "",
                "leaseDurationSeconds": 1,
                "acquireTime": T2,
                "renewTime": T2,
                "leaseTransitions": 7
            }
        })
    );
    // Someone else holds it now: we do not clobber their record.
    assert_eq!(e.release(&lease("pod-c", T1, T1, 8, "301"), T2), None);
    // After the release is written we are not leader and the lease is free.
    e.succeeded(&e.release(&held, T2).unwrap(), secs(2));
    assert!(!e.is_leader(secs(2)));
    assert_eq!(e.holder(), None);
    assert_eq!(e.transitions(), 7);
}

#[test]
fn record_round_trip() {
    let r = LeaderElectionRecord::from_lease(&lease("pod-a", T0, T1, 2, "5"));
    assert_eq!(
        r,
        LeaderElectionRecord {
            holder_identity: "pod-a".into(),
            lease_duration_seconds: 15,
            acquire_time: T0.into(),
            renew_time: T1.into(),
            leader_transitions: 2,
        }
    );
    assert_eq!(r.to_spec(), lease("pod-a", T0, T1, 2, "5")["spec"]);
    // An empty spec (a Lease created by someone else without a holder).
    let empty = LeaderElectionRecord::from_lease(&json!({"spec": {}}));
    assert_eq!(empty, LeaderElectionRecord::default());
    assert_eq!(
        empty.to_spec(),
        json!({"holderIdentity": "", "leaseDurationSeconds": 0, "acquireTime": null,
               "renewTime": null, "leaseTransitions": 0})
    );
}

#[test]
fn sub_second_leases_are_refused_and_fractions_round_up() {
    let ms = Duration::from_millis;
    assert_eq!(
        ElectionConfig::new(ms(900), None, None).unwrap_err(),
        "leaseDuration must be at least 1s: the Lease records it in whole seconds"
    );
    // 1.9 s is written as 2 s: the others wait at least as long as we count ourselves leader.
    let c = ElectionConfig::new(ms(1900), None, None).unwrap();
    assert_eq!(c.lease_duration_seconds(), 2);
    assert_eq!(config().lease_duration_seconds(), 15);
    let mut e = Elector::new("a", "default", "l", c);
    match e.step(None, Duration::ZERO, T0) {
        Step::Create { lease } => assert_eq!(lease["spec"]["leaseDurationSeconds"], 2),
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_attempt_ends_within_the_renew_deadline() {
    let mut e = Elector::new("a", "default", "greeter-leader", config());
    // A candidate: ten seconds (the renew deadline) from now.
    assert_eq!(e.renew_deadline_at(secs(100)), secs(110));
    let Step::Create { lease } = e.step(None, secs(100), T0) else {
        panic!("create")
    };
    e.succeeded(&lease, secs(100));
    // A leader renewed at 100 s: its attempts must end by 110 s, whenever they start.
    assert_eq!(e.renew_deadline_at(secs(104)), secs(110));
    assert!(e.holds_observed());
}
