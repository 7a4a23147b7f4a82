//! Tests of the query decoding and the list pagination.

use super::list::{decode_continue, encode_continue, paginate};
use super::request::Query;

#[test]
fn query_decoding() {
    let q = Query::parse(Some(
        "labelSelector=app%3Dweb%2Ctier+in+(a%2Cb)&watch=1&x=%zz",
    ));
    assert_eq!(q.get("labelSelector"), Some("app=web,tier in (a,b)"));
    assert!(q.flag("watch"));
    // Go's ParseQuery drops a pair with a bad escape (the escapes themselves are tested in
    // pod_introspect_kube::percent).
    assert_eq!(q.get("x"), None);
    assert_eq!(Query::parse(Some("a=%&b=a%2&c=1")).0.len(), 1);
}

#[test]
fn continue_round_trip_and_pagination() {
    let t = encode_continue(42, "ns/b");
    let d = decode_continue(&t).unwrap();
    assert_eq!((d.rv, d.start.as_str()), (42, "ns/b\u{0}"));
    assert_eq!(decode_continue("!!!").unwrap_err().code, 400);
    let items: Vec<(String, u32)> = (1..=5).map(|i| (format!("n/p{i}"), i)).collect();
    let (page, last, remaining) = paginate(items.clone(), None, 2);
    assert_eq!(
        (page, last.as_deref(), remaining),
        (vec![1, 2], Some("n/p2"), 3)
    );
    let (page, last, _) = paginate(items, Some("n/p4"), 2);
    assert_eq!((page, last), (vec![5], None));
}
