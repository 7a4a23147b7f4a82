//! `pod-introspect api leader-elect`: two real host processes (two pods of one namespace) elect
//! a leader on one coordination.k8s.io/v1 Lease of the API-server emulator, as client-go's
//! `tools/leaderelection` does: one leader at a time, failover after the lease expires when the
//! leader dies, release on SIGTERM.

use crate::api_verbs::ok;
use crate::cluster::{Cluster, InClusterPod, Running, own_namespace_rules};
use pod_introspect_apiserver::ClusterOptions;
use serde_json::Value;
use std::time::{Duration, Instant};

const NAMESPACE: &str = "elect";
const LEASE: &str = "e2e-lock";
/// `--lease-duration 2s`.
const LEASE_DURATION: Duration = Duration::from_secs(2);
/// The default retry period: 1/5 of the lease duration.
const RETRY_PERIOD: Duration = Duration::from_millis(400);
/// How long a process may go on claiming leadership while the Lease (the ground truth, read
/// from the emulator) names another holder or none. A process prints its state after each
/// attempt, so its last line is at most one retry period (plus the attempt itself, a GET and
/// a PUT through the guest) behind the Lease; and a sample reads the Lease before the lines, so
/// a line can be up to one sampling interval newer than the Lease it is compared with.
/// 600 ms covers the attempt and the 100 ms sampling on a loaded 2-core machine.
const CLAIM_LAG: Duration = Duration::from_millis(400 + 600);
/// Scheduling margin on top of leaseDuration + retryPeriod for the failover: the survivor
/// judges expiry from when *it* last saw the Lease change, which is up to one more retry period
/// after the dead leader's last renewal, and each attempt costs a guest call.
const FAILOVER_MARGIN: Duration = Duration::from_millis(1500);

fn lease_path() -> String {
    format!("/apis/coordination.k8s.io/v1/namespaces/{NAMESPACE}/leases/{LEASE}")
}

/// The Lease's `spec.holderIdentity` ("" when free or absent) and the Lease.
fn lease(cluster: &Cluster) -> (String, Value) {
    match cluster.admin_get(&lease_path()) {
        Some(l) => (
            l["spec"]["holderIdentity"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            l,
        ),
        None => (String::new(), Value::Null),
    }
}

struct Candidate {
    name: &'static str,
    process: Running,
    alive: bool,
}

impl Candidate {
    /// Whether its latest line says it leads (a dead process claims nothing).
    fn claims(&self) -> bool {
        self.alive
            && self
                .process
                .last_json()
                .is_some_and(|v| v["leader"] == true)
    }
}

/// The safety check, sample by sample: a process that claims leadership while the Lease names
/// someone else may do so for at most [`CLAIM_LAG`]; two processes may both claim it for at
/// most that long too. Past that there would be two leaders at once.
#[derive(Default)]
struct Safety {
    wrong_since: [Option<Instant>; 2],
    both_since: Option<Instant>,
    samples: usize,
}

impl Safety {
    /// One sample: the Lease, then each process's last line. Returns the holder.
    fn sample(&mut self, cluster: &Cluster, c: &[Candidate; 2]) -> String {
        let (holder, _) = lease(cluster);
        let now = Instant::now();
        let claims = [c[0].claims(), c[1].claims()];
        self.samples += 1;
        for i in 0..2 {
            if claims[i] && holder != c[i].name {
                let since = *self.wrong_since[i].get_or_insert(now);
                assert!(
                    now - since <= CLAIM_LAG,
                    "{} has claimed leadership for {:?} while the Lease holder is {holder:?}\n{}",
                    c[i].name,
                    now - since,
                    transcript(c)
                );
            } else {
                self.wrong_since[i] = None;
            }
        }
        if claims[0] && claims[1] {
            let since = *self.both_since.get_or_insert(now);
            assert!(
                now - since <= CLAIM_LAG,
                "two leaders for {:?}\n{}",
                now - since,
                transcript(c)
            );
        } else {
            self.both_since = None;
        }
        holder
    }
}

fn transcript(c: &[Candidate; 2]) -> String {
    c.iter()
        .map(|c| {
            format!(
                "--- {} stdout:\n{}\n--- {} stderr:\n{}",
                c.name,
                c.process.lines().join("\n"),
                c.name,
                c.process.stderr()
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Two candidates (pods `cand-a` and `cand-b`, default identity = the pod's name) run `api
/// leader-elect --lease e2e-lock --lease-duration 2s` at once (renewDeadline and retryPeriod
/// default to 2/3 and 1/5 of it, 1.33 s and 0.4 s). Checked against the Lease read from the
/// emulator every 100 ms:
///
/// - never two leaders: see [`Safety`] (a claim contradicting the Lease is tolerated for at
///   most one retry period plus a margin, the lag of a process's last line);
/// - exactly one becomes leader (the other reports it as holder), and for 6 s the leadership
///   stays put while the leader renews (the Lease's renewTime advances; nothing is printed,
///   since lines are printed only when leader or holder change);
/// - SIGKILL of the leader: the survivor takes over once the lease expires, not before
///   leaseDuration - retryPeriod (it may not steal a valid lease) and within leaseDuration +
///   retryPeriod + [`FAILOVER_MARGIN`] of the kill (client-go: expiry is judged from the
///   candidate's own observation of the last renewal); the Lease then names the survivor and
///   `leaseTransitions` went up by exactly one;
/// - SIGTERM of the survivor: it releases the Lease (client-go `ReleaseOnCancel`:
///   holderIdentity emptied), prints a last line with `"released": true`, and exits 0.
#[test]
fn one_leader_failover_after_kill_and_release_on_sigterm() {
    let cluster = Cluster::start(ClusterOptions {
        rbac: Some(own_namespace_rules()),
        ..Default::default()
    });
    let pod_a = InClusterPod::new(&cluster, NAMESPACE, "cand-a");
    let pod_b = InClusterPod::new(&cluster, NAMESPACE, "cand-b");
    // Compile the guest into this run's cache first, so both start as fast as each other.
    ok(&pod_a.run(&["api", "version"], &[]));
    let args = [
        "api",
        "leader-elect",
        "--lease",
        LEASE,
        "--lease-duration",
        "2s",
    ];
    let mut c = [
        Candidate {
            name: "cand-a",
            process: pod_a.spawn(&args, &[]),
            alive: true,
        },
        Candidate {
            name: "cand-b",
            process: pod_b.spawn(&args, &[]),
            alive: true,
        },
    ];
    let mut safety = Safety::default();

    // Both report, one leads.
    let started = Instant::now();
    let leader = loop {
        let holder = safety.sample(&cluster, &c);
        let both_spoke = c.iter().all(|c| c.process.last_json().is_some());
        let leaders: Vec<usize> = (0..2).filter(|&i| c[i].claims()).collect();
        if both_spoke && leaders.len() == 1 && holder == c[leaders[0]].name {
            let follower = c[1 - leaders[0]].process.last_json().unwrap();
            if follower["holder"] == c[leaders[0]].name {
                break leaders[0];
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no single leader within 60 s\n{}",
            transcript(&c)
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let follower = 1 - leader;
    let (lname, fname) = (c[leader].name, c[follower].name);
    let line = c[leader].process.last_json().unwrap();
    assert_eq!(
        line["identity"], lname,
        "the default identity is the pod's name: {line}"
    );
    assert_eq!(line["holder"], lname, "{line}");
    assert_eq!(line["transitions"], 0, "a new Lease: {line}");
    let line = c[follower].process.last_json().unwrap();
    assert_eq!(line["identity"], fname, "{line}");
    assert_eq!(line["leader"], false, "{line}");
    let (_, l) = lease(&cluster);
    assert_eq!(l["spec"]["leaseDurationSeconds"], 2, "{l}");
    let transitions0 = l["spec"]["leaseTransitions"].as_i64().unwrap_or(0);
    let renew0 = l["spec"]["renewTime"].clone();

    // Steady state for 6 s.
    let lines_before = [c[0].process.lines().len(), c[1].process.lines().len()];
    let steady = Instant::now();
    while steady.elapsed() < Duration::from_secs(6) {
        let holder = safety.sample(&cluster, &c);
        assert_eq!(holder, lname, "leadership stays put\n{}", transcript(&c));
        assert!(!c[follower].claims(), "{}", transcript(&c));
        std::thread::sleep(Duration::from_millis(100));
    }
    let (_, l) = lease(&cluster);
    assert_ne!(l["spec"]["renewTime"], renew0, "the leader renews: {l}");
    assert_eq!(
        l["spec"]["leaseTransitions"].as_i64().unwrap_or(0),
        transitions0
    );
    assert_eq!(
        [c[0].process.lines().len(), c[1].process.lines().len()],
        lines_before,
        "no transitions printed while nothing changed\n{}",
        transcript(&c)
    );

    // The leader dies without releasing.
    let _ = c[leader].process.child.kill();
    let killed = Instant::now();
    let _ = c[leader].process.child.wait();
    c[leader].alive = false;
    let survivor_lines = c[follower].process.lines().len();
    let bound = LEASE_DURATION + RETRY_PERIOD + FAILOVER_MARGIN;
    loop {
        safety.sample(&cluster, &c);
        if c[follower].claims() {
            break;
        }
        assert!(
            killed.elapsed() < bound + Duration::from_secs(5),
            "{fname} never took over\n{}",
            transcript(&c)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // When the line saying so arrived.
    let took_over = c[follower].process.timed_lines()[survivor_lines..]
        .iter()
        .find(|(_, l)| serde_json::from_str::<Value>(l).is_ok_and(|v| v["leader"] == true))
        .map(|(t, _)| *t)
        .unwrap();
    let after = took_over.saturating_duration_since(killed);
    assert!(
        after <= bound,
        "{fname} took over {after:?} after the kill; bound {bound:?}\n{}",
        transcript(&c)
    );
    assert!(
        after >= LEASE_DURATION - RETRY_PERIOD - Duration::from_millis(300),
        "{fname} took over {after:?} after the kill, before the lease could expire\n{}",
        transcript(&c)
    );
    let (holder, l) = lease(&cluster);
    assert_eq!(holder, fname, "{l}");
    assert_eq!(
        l["spec"]["leaseTransitions"].as_i64(),
        Some(transitions0 + 1),
        "one transition: {l}"
    );
    let line = c[follower].process.last_json().unwrap();
    assert_eq!(line["holder"], fname, "{line}");
    assert_eq!(line["transitions"], transitions0 + 1, "{line}");
    // It keeps the lease.
    let keep = Instant::now();
    while keep.elapsed() < Duration::from_secs(1) {
        assert_eq!(safety.sample(&cluster, &c), fname);
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(safety.samples > 60, "{} samples", safety.samples);

    // SIGTERM: release and a last line.
    c[follower].process.signal(libc::SIGTERM);
    let status = c[follower].process.wait_exit(Duration::from_secs(15));
    assert!(
        status.is_some_and(|s| s.success()),
        "{status:?}\n{}",
        transcript(&c)
    );
    let last = c[follower].process.last_json().unwrap();
    assert_eq!(last["released"], true, "{}", transcript(&c));
    assert_eq!(last["leader"], false, "{last}");
    assert_eq!(last["identity"], fname, "{last}");
    let (holder, l) = lease(&cluster);
    assert_eq!(holder, "", "released: holderIdentity emptied: {l}");
    assert_eq!(
        l["spec"]["leaseTransitions"].as_i64(),
        Some(transitions0 + 1),
        "a release is no transition: {l}"
    );
}
