use super::*;

const T0: &str = "2026-12-03T08:00:00.123456Z";
const T1: &str = "2026-12-03T08:00:09.000001Z";
/// 2026-12-03T08:00:00.123456789Z in Unix nanoseconds.
const NANOS: u128 = 1_796_284_800_123_456_789;

fn greeting() -> NewEvent {
    NewEvent {
        regarding: ObjectReference::pod(
            "default",
            "greeter-7d4b9",
            "5f1c2a9e-0b7d-4e55-9c1e-3a8f6d2b4c10",
        ),
        related: None,
        event_type: EventType::Normal,
        reason: "Greeted".into(),
        action: "Greeting".into(),
        note: "said hello to 3 peers".into(),
        reporting_controller: "pod-introspect.dev/greeter".into(),
        reporting_instance: "pod-introspect.dev/greeter-greeter-7d4b9".into(),
    }
}

#[test]
fn new_event_body() {
    let e = new_event(&greeting(), T0, NANOS).unwrap();
    assert_eq!(
        e,
        json!({
            "apiVersion": "events.k8s.io/v1",
            "kind": "Event",
            "metadata": {"name": "greeter-7d4b9.18edaf8232cacd15", "namespace": "default"},
            "eventTime": T0,
            "reportingController": "pod-introspect.dev/greeter",
            "reportingInstance": "pod-introspect.dev/greeter-greeter-7d4b9",
            "action": "Greeting",
            "reason": "Greeted",
            "regarding": {
                "apiVersion": "v1",
                "kind": "Pod",
                "name": "greeter-7d4b9",
                "namespace": "default",
                "uid": "5f1c2a9e-0b7d-4e55-9c1e-3a8f6d2b4c10"
            },
            "note": "said hello to 3 peers",
            "type": "Normal"
        })
    );
    assert_eq!(format!("{NANOS:x}"), "18edaf8232cacd15");

    // A cluster-scoped object's Events go to `default`; related and resourceVersion appear when
    // set; an empty note is omitted.
    let mut ev = greeting();
    ev.regarding = ObjectReference {
        api_version: "v1".into(),
        kind: "Node".into(),
        name: "node-1".into(),
        uid: "node-uid".into(),
        resource_version: "812".into(),
        ..ObjectReference::default()
    };
    ev.related = Some(ObjectReference::pod("default", "greeter-7d4b9", "u1"));
    ev.note = String::new();
    ev.event_type = EventType::Warning;
    let e = new_event(&ev, T0, 255).unwrap();
    assert_eq!(
        e["metadata"],
        json!({"name": "node-1.ff", "namespace": "default"})
    );
    assert_eq!(
        e["regarding"],
        json!({"apiVersion": "v1", "kind": "Node", "name": "node-1", "uid": "node-uid",
               "resourceVersion": "812"})
    );
    assert_eq!(
        e["related"],
        json!({"apiVersion": "v1", "kind": "Pod", "name": "greeter-7d4b9",
               "namespace": "default", "uid": "u1"})
    );
    assert!(e.get("note").is_none());
    assert_eq!(e["type"], "Warning");
}

#[test]
fn long_notes_are_cut() {
    let mut ev = greeting();
    ev.note = "x".repeat(1024);
    assert_eq!(
        new_event(&ev, T0, 1).unwrap()["note"]
            .as_str()
            .unwrap()
            .len(),
        1024
    );
    ev.note = "x".repeat(1025);
    let note = new_event(&ev, T0, 1).unwrap()["note"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(note.len(), 1024);
    assert!(note.ends_with("x ..."));
    // Not inside a character: `é` is two bytes, the cut at 1020 would split the last one.
    let long = format!("{}{}", "a", "é".repeat(600));
    let cut = truncate_note(&long);
    assert_eq!(cut, format!("a{} ...", "é".repeat(509)));
    assert_eq!(cut.len(), 1023);
    assert_eq!(truncate_note("short"), "short");
}

#[test]
fn validation_messages() {
    let check = |f: &dyn Fn(&mut NewEvent)| {
        let mut ev = greeting();
        f(&mut ev);
        new_event(&ev, T0, 1).unwrap_err()
    };
    assert_eq!(check(&|e| e.action.clear()), "action: Required value");
    assert_eq!(
        check(&|e| e.reason = "R".repeat(129)),
        "reason: Invalid value: \"\": can have at most 128 characters"
    );
    assert_eq!(
        check(&|e| e.reporting_instance.clear()),
        "reportingInstance: Required value"
    );
    assert_eq!(
        check(&|e| e.reporting_controller = "Pod Greeter".into()),
        "reportingController: Invalid value: \"Pod Greeter\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
    );
    assert_eq!(
        check(&|e| {
            e.action.clear();
            e.reason.clear();
        }),
        "[action: Required value, reason: Required value]"
    );
    assert_eq!(
        new_event(&greeting(), "", 1).unwrap_err(),
        "eventTime: Required value"
    );

    let mut e = new_event(&greeting(), T0, 1).unwrap();
    assert_eq!(validate(&e), Ok(()));
    e["type"] = json!("Info");
    e["note"] = json!("n".repeat(1025));
    assert_eq!(
        validate(&e).unwrap_err(),
        "[note: Invalid value: \"\": can have at most 1024 characters, type: Invalid value: \"\": has invalid value: Info]"
    );
}

#[test]
fn isomorphism_follows_get_key() {
    let first = new_event(&greeting(), T0, 1).unwrap();
    // Another note and time, same key: a repeat.
    let mut again = greeting();
    again.note = "said hello to 4 peers".into();
    let again = new_event(&again, T1, 2).unwrap();
    assert!(is_isomorphic(&first, &again));
    assert_eq!(event_key(&first), event_key(&again));

    // The server's copy has more metadata, and the reference fields in another order.
    let mut listed = first.clone();
    listed["metadata"]["resourceVersion"] = json!("4711");
    listed["metadata"]["uid"] = json!("ev-uid");
    listed["regarding"] = json!({"uid": "5f1c2a9e-0b7d-4e55-9c1e-3a8f6d2b4c10", "namespace": "default",
        "name": "greeter-7d4b9", "kind": "Pod", "apiVersion": "v1"});
    assert!(is_isomorphic(&listed, &again));

    for change in [
        (|e: &mut NewEvent| e.event_type = EventType::Warning) as fn(&mut NewEvent),
        |e| e.action = "Waving".into(),
        |e| e.reason = "Waved".into(),
        |e| e.reporting_controller = "pod-introspect.dev/other".into(),
        |e| e.reporting_instance = "pod-introspect.dev/greeter-other".into(),
        |e| e.regarding.uid = "another-uid".into(),
        |e| e.related = Some(ObjectReference::pod("default", "peer", "p")),
    ] {
        let mut ev = greeting();
        change(&mut ev);
        assert!(!is_isomorphic(&first, &new_event(&ev, T0, 1).unwrap()));
    }
}

#[test]
fn series_patches() {
    let first = new_event(&greeting(), T0, 1).unwrap();
    assert_eq!(
        series_patch(&first, T1),
        json!({"series": {"count": 2, "lastObservedTime": T1}})
    );
    let mut patched = first.clone();
    patched["series"] = json!({"count": 2, "lastObservedTime": T1});
    assert_eq!(
        series_patch(&patched, "2026-12-03T08:01:00.000000Z"),
        json!({"series": {"count": 3, "lastObservedTime": "2026-12-03T08:01:00.000000Z"}})
    );
}
