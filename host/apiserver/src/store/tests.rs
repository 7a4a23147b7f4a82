//! Tests of the store: pod defaults, snapshots at old resourceVersions, compaction and
//! update conflicts.

use super::*;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

fn pod(name: &str) -> Pod {
    Pod {
        metadata: ObjectMeta {
            name: Some(name.into()),
            ..Default::default()
        },
        ..Default::default()
    }
}

#[test]
fn create_defaults_and_rv() {
    let mut s = Store::new(10, None).unwrap();
    let rv0 = s.resource_version();
    let p = s.create_pod(pod("a"), "ns1").unwrap();
    assert_eq!(p.metadata.namespace.as_deref(), Some("ns1"));
    assert!(
        p.metadata
            .resource_version
            .as_deref()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            > rv0
    );
    let spec = p.spec.unwrap();
    assert_eq!(spec.service_account_name.as_deref(), Some("default"));
    assert_eq!(spec.node_name.as_deref(), Some(NODE_NAME));
    let st = p.status.unwrap();
    assert_eq!(st.phase.as_deref(), Some("Running"));
    assert!(st.pod_ip.unwrap().starts_with("10.244."));
    assert!(s.namespace("ns1").is_some());
    assert!(s.service_account("ns1", "default").is_some());
    assert_eq!(s.create_pod(pod("a"), "ns1").unwrap_err().code, 409);
    assert_eq!(s.create_pod(pod("Bad_Name"), "ns1").unwrap_err().code, 422);
}

#[test]
fn snapshot_at_old_rv_and_compaction() {
    let mut s = Store::new(10, None).unwrap();
    s.create_pod(pod("a"), "n").unwrap();
    let rv1 = s.resource_version();
    s.create_pod(pod("b"), "n").unwrap();
    let mut a = s.pod("n", "a").unwrap().clone();
    a.metadata.labels = Some(BTreeMap::from([("x".into(), "y".into())]));
    s.update_pod(a, "n", "a", false).unwrap();
    s.delete_pod("n", "a").unwrap();
    assert_eq!(s.pods_at(Some("n"), None).unwrap().len(), 1);
    let old = s.pods_at(Some("n"), Some(rv1)).unwrap();
    assert_eq!(old.len(), 1);
    assert_eq!(old[0].metadata.name.as_deref(), Some("a"));
    assert!(old[0].metadata.labels.is_none());
    s.compact();
    assert!(s.pods_at(Some("n"), Some(rv1)).is_err());
    assert!(s.events_since(s.floor()).is_empty());
}

#[test]
fn update_conflict_and_history_limit() {
    let mut s = Store::new(2, None).unwrap();
    let p = s.create_pod(pod("a"), "n").unwrap();
    let mut stale = p.clone();
    // An update that changes nothing is not written (etcd sees no change, the RV stays), so
    // change a label.
    let mut changed = p;
    changed.metadata.labels = Some(BTreeMap::from([("x".into(), "y".into())]));
    s.update_pod(changed, "n", "a", false).unwrap();
    stale.metadata.labels = Some(BTreeMap::new());
    assert_eq!(
        s.update_pod(stale, "n", "a", false).unwrap_err().reason,
        "Conflict"
    );
    s.create_pod(pod("b"), "n").unwrap();
    s.create_pod(pod("c"), "n").unwrap();
    assert_eq!(s.events_since(0).len(), 2);
    assert!(s.floor() > 1);
    assert_eq!(s.delete_pod("n", "zzz").unwrap_err().code, 404);
}
