//! The dynamic client, discovery cache and event recorder against a scripted transport that
//! records what was sent. API-server answers are written by hand in the server's format.

use super::*;
use crate::event_recorder::{self, EventRequest};
use crate::model::PodInfo;
use pod_introspect_kube::discovery::GroupVersionResource;
use pod_introspect_kube::incluster::ApiLocation;
use serde_json::{Value, json};
use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;
use std::time::Duration;

/// What was sent: method, path and query (after the base URL), content-type, body.
#[derive(Debug, Clone, PartialEq)]
struct Sent {
    method: String,
    path: String,
    content_type: Option<String>,
    user_agent: Option<String>,
    body: Option<String>,
}

/// A scripted answer: status, content-type, body.
type Answer = (u16, &'static str, String);

#[derive(Clone, Default)]
struct Scripted {
    answers: Rc<RefCell<VecDeque<Answer>>>,
    sent: Rc<RefCell<Vec<Sent>>>,
}

struct Once(Option<Vec<u8>>);
impl BodyStream for Once {
    fn next_chunk(&mut self) -> Result<Option<Vec<u8>>, ApiError> {
        Ok(self.0.take())
    }
}

impl Transport for Scripted {
    fn send(&mut self, req: Request<'_>) -> Result<Response, ApiError> {
        let header = |name: &str| {
            req.headers
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        self.sent.borrow_mut().push(Sent {
            method: req.method.into(),
            path: req.url.trim_start_matches("https://10.96.0.1:443").into(),
            content_type: header("content-type"),
            user_agent: header("user-agent"),
            body: req.body.map(|b| String::from_utf8_lossy(b).into_owned()),
        });
        let (status, content_type, body) = self
            .answers
            .borrow_mut()
            .pop_front()
            .ok_or_else(|| ApiError::Transport("no answer scripted".into()))?;
        Ok(Response {
            status,
            headers: vec![("content-type".into(), content_type.into())],
            body: Box::new(Once(Some(body.into_bytes()))),
        })
    }
}

impl Scripted {
    fn answer(&self, status: u16, body: Value) -> &Self {
        self.answers
            .borrow_mut()
            .push_back((status, "application/json", body.to_string()));
        self
    }
    fn sent(&self) -> Vec<Sent> {
        self.sent.borrow().clone()
    }
    fn client(&self) -> Client<Scripted> {
        Client::new(
            self.clone(),
            ApiLocation {
                base_url: "https://10.96.0.1:443".into(),
                send_token: false,
            },
            Box::new(|| Ok(b"t".to_vec())),
            Box::new(|| Duration::ZERO),
        )
    }
}

fn gvr(group: &str, version: &str, resource: &str) -> GroupVersionResource {
    GroupVersionResource::new(group, version, resource)
}

#[test]
fn every_verb_sends_the_method_path_query_and_content_type_client_go_does() {
    let t = Scripted::default();
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "ns"}});
    for _ in 0..6 {
        t.answer(200, cm.clone());
    }
    let mut c = t.client();
    let deploy = gvr("apps", "v1", "deployments");
    let cms = gvr("", "v1", "configmaps");
    c.get_object(&deploy, Some("ns"), "web", Some("scale"), Some("0"))
        .unwrap();
    let w = WriteOptions {
        dry_run: true,
        field_manager: Some("mgr".into()),
        ..WriteOptions::default()
    };
    c.create_object(&cms, Some("ns"), b"{}", &w).unwrap();
    c.replace_object(&cms, Some("ns"), "c", b"{}", &WriteOptions::default())
        .unwrap();
    let apply = WriteOptions {
        field_manager: Some("mgr".into()),
        force: true,
        ..WriteOptions::default()
    };
    c.patch_object(&cms, Some("ns"), "c", PatchType::Apply, b"{}", &apply)
        .unwrap();
    let d = DeleteOptions {
        grace_period_seconds: Some(0),
        propagation_policy: Some("Foreground"),
        precondition_uid: Some("u-1".into()),
        precondition_resource_version: None,
        dry_run: false,
    };
    c.delete_object(&gvr("", "v1", "namespaces"), None, "old", &d)
        .unwrap();
    let sel = ListOptions {
        namespace: Some("ns".into()),
        label_selector: Some("app=a,tier in (x)".into()),
        ..ListOptions::default()
    };
    c.delete_collection(&cms, &sel, &DeleteOptions::default())
        .unwrap();
    let sent = t.sent();
    let brief: Vec<(&str, &str, Option<&str>)> = sent
        .iter()
        .map(|s| {
            (
                s.method.as_str(),
                s.path.as_str(),
                s.content_type.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        brief,
        [
            (
                "GET",
                "/apis/apps/v1/namespaces/ns/deployments/web/scale?resourceVersion=0",
                None
            ),
            (
                "POST",
                "/api/v1/namespaces/ns/configmaps?dryRun=All&fieldManager=mgr",
                Some("application/json")
            ),
            (
                "PUT",
                "/api/v1/namespaces/ns/configmaps/c",
                Some("application/json")
            ),
            (
                "PATCH",
                "/api/v1/namespaces/ns/configmaps/c?fieldManager=mgr&force=true",
                Some("application/apply-patch+yaml")
            ),
            ("DELETE", "/api/v1/namespaces/old", Some("application/json")),
            (
                "DELETE",
                "/api/v1/namespaces/ns/configmaps?labelSelector=app%3Da%2Ctier%20in%20%28x%29",
                Some("application/json")
            ),
        ]
    );
    assert_eq!(
        serde_json::from_str::<Value>(sent[4].body.as_deref().unwrap()).unwrap(),
        json!({"kind": "DeleteOptions", "apiVersion": "v1", "gracePeriodSeconds": 0,
               "propagationPolicy": "Foreground", "preconditions": {"uid": "u-1"}})
    );
    assert_eq!(sent[0].user_agent.as_deref(), Some(USER_AGENT));
    assert!(USER_AGENT.starts_with("pod-introspect/"), "{USER_AGENT}");
}

#[test]
fn list_items_get_the_kind_and_api_version_the_server_leaves_off() {
    let t = Scripted::default();
    t.answer(
        200,
        json!({"kind": "DeploymentList", "apiVersion": "apps/v1",
               "metadata": {"resourceVersion": "41", "continue": "tok", "remainingItemCount": 3},
               "items": [{"metadata": {"name": "a"}}]}),
    );
    let list = t
        .client()
        .list_objects(
            &gvr("apps", "v1", "deployments"),
            &ListOptions {
                limit: Some(1),
                resource_version_match: Some("NotOlderThan".into()),
                resource_version: Some("0".into()),
                ..ListOptions::default()
            },
        )
        .unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&list.items[0]).unwrap(),
        json!({"kind": "Deployment", "apiVersion": "apps/v1", "metadata": {"name": "a"}})
    );
    assert_eq!(
        (
            list.resource_version.as_str(),
            list.continue_token.as_deref(),
            list.remaining_item_count
        ),
        ("41", Some("tok"), Some(3))
    );
    assert_eq!(
        t.sent()[0].path,
        "/apis/apps/v1/deployments?limit=1&resourceVersion=0&resourceVersionMatch=NotOlderThan"
    );
}

#[test]
fn list_items_keep_their_own_text_and_a_custom_resources_own_kind() {
    let t = Scripted::default();
    // A custom resource's list: the items carry apiVersion and kind (unstructured), kept as they
    // are; the text of each item is the server's, escapes and key order included.
    t.answers.borrow_mut().push_back((
        200,
        "application/json",
        r#"{"apiVersion":"example.com/v1","items":[{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w\u00e9"}},{ },{"z":1,"a":"x\"y"}],"kind":"WidgetList","metadata":{"resourceVersion":"7"}}"#.into(),
    ));
    let list = t
        .client()
        .list_objects(
            &gvr("example.com", "v1", "widgets"),
            &ListOptions::default(),
        )
        .unwrap();
    assert_eq!(
        list.items,
        [
            r#"{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w\u00e9"}}"#,
            r#"{"kind":"Widget","apiVersion":"example.com/v1" }"#,
            r#"{"kind":"Widget","apiVersion":"example.com/v1","z":1,"a":"x\"y"}"#,
        ]
    );
    // Not a list: a clear error, no panic.
    t.answer(200, json!(["not", "a", "list"]));
    match t
        .client()
        .list_objects(&gvr("", "v1", "pods"), &ListOptions::default())
    {
        Err(ApiError::Invalid(m)) => assert!(m.contains("response is not a list"), "{m}"),
        other => panic!("{other:?}"),
    }
}

/// `/api` and `/apis` as kube-apiserver answers the aggregated Accept (trimmed).
fn script_aggregated_discovery(t: &Scripted) {
    let ct = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";
    let core = json!({"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": {},
        "items": [{"metadata": {}, "versions": [{"version": "v1", "resources": [
            {"resource": "configmaps", "responseKind": {"group": "", "version": "", "kind": "ConfigMap"},
             "scope": "Namespaced", "singularResource": "configmap", "verbs": ["get", "list"], "shortNames": ["cm"]}]}]}]});
    let apis = json!({"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": {},
        "items": [{"metadata": {"name": "coordination.k8s.io"}, "versions": [{"version": "v1", "resources": [
            {"resource": "leases", "responseKind": {"group": "", "version": "", "kind": "Lease"},
             "scope": "Namespaced", "singularResource": "lease", "verbs": ["get", "update"]}]}]}]});
    let mut a = t.answers.borrow_mut();
    a.push_back((200, ct, core.to_string()));
    a.push_back((200, ct, apis.to_string()));
}

#[test]
fn discovery_is_read_once_and_again_only_for_an_unknown_name() {
    let t = Scripted::default();
    script_aggregated_discovery(&t);
    let mut c = t.client();
    assert_eq!(c.resolve("cm").unwrap().resource, "configmaps");
    let lease = c.resolve("leases.coordination.k8s.io").unwrap();
    assert_eq!(
        (lease.group.as_str(), lease.kind.as_str()),
        ("coordination.k8s.io", "Lease")
    );
    assert_eq!(c.resolve("Lease").unwrap().resource, "leases");
    let paths: Vec<String> = t.sent().iter().map(|s| s.path.clone()).collect();
    assert_eq!(paths, ["/api", "/apis"], "read once, then from the cache");
    assert!(t.sent()[0].content_type.is_none());
    // An unknown name: discovery is read once more (a CRD installed since), then NotFound.
    script_aggregated_discovery(&t);
    match c.resolve("widgets") {
        Err(ApiError::Invalid(m)) => {
            assert_eq!(m, "the server doesn't have a resource type \"widgets\"")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(t.sent().len(), 4);
}

#[test]
fn legacy_discovery_asks_each_group_for_its_preferred_version() {
    let t = Scripted::default();
    t.answer(200, json!({"kind": "APIVersions", "versions": ["v1"]}))
        .answer(200, json!({"kind": "APIResourceList", "groupVersion": "v1", "resources": [
            {"name": "pods", "singularName": "pod", "namespaced": true, "kind": "Pod", "verbs": ["get"], "shortNames": ["po"]},
            {"name": "pods/status", "singularName": "", "namespaced": true, "kind": "Pod", "verbs": ["get"]}]}))
        .answer(200, json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": [
            {"name": "apps", "versions": [{"groupVersion": "apps/v1", "version": "v1"}],
             "preferredVersion": {"groupVersion": "apps/v1", "version": "v1"}}]}))
        .answer(200, json!({"kind": "APIResourceList", "groupVersion": "apps/v1", "resources": [
            {"name": "deployments", "singularName": "deployment", "namespaced": true, "kind": "Deployment", "verbs": ["get"], "shortNames": ["deploy"]}]}));
    let mut c = t.client();
    let d = c.resolve("deploy").unwrap();
    assert_eq!((d.group.as_str(), d.version.as_str()), ("apps", "v1"));
    assert_eq!(c.resolve("po").unwrap().subresources, ["status"]);
    let paths: Vec<String> = t.sent().iter().map(|s| s.path.clone()).collect();
    assert_eq!(paths, ["/api", "/api/v1", "/apis", "/apis/apps/v1"]);
}

fn pod_info() -> PodInfo {
    PodInfo {
        name: Some("web-0".into()),
        namespace: Some("ns".into()),
        uid: Some("u-1".into()),
        ..PodInfo::default()
    }
}

fn request() -> EventRequest {
    EventRequest {
        reason: "ConfigReloaded".into(),
        note: "reloaded v2".into(),
        warning: false,
        action: None,
        reporting_controller: None,
        reporting_instance: None,
    }
}

#[test]
fn a_first_event_is_created_about_this_pod() {
    let t = Scripted::default();
    t.answer(200, json!({"kind": "EventList", "apiVersion": "events.k8s.io/v1", "metadata": {"resourceVersion": "5"}, "items": []}))
        .answer(201, json!({"kind": "Event"}));
    event_recorder::record(&mut t.client(), &pod_info(), &request()).unwrap();
    let sent = t.sent();
    assert_eq!(sent[0].path, "/apis/events.k8s.io/v1/namespaces/ns/events");
    assert_eq!(
        (sent[1].method.as_str(), sent[1].path.as_str()),
        ("POST", "/apis/events.k8s.io/v1/namespaces/ns/events")
    );
    let ev: Value = serde_json::from_str(sent[1].body.as_deref().unwrap()).unwrap();
    assert_eq!(
        ev["regarding"],
        json!({"kind": "Pod", "namespace": "ns", "name": "web-0", "uid": "u-1", "apiVersion": "v1"})
    );
    assert_eq!(
        (
            ev["reason"].as_str(),
            ev["action"].as_str(),
            ev["note"].as_str(),
            ev["type"].as_str()
        ),
        (
            Some("ConfigReloaded"),
            Some("ConfigReloaded"),
            Some("reloaded v2"),
            Some("Normal")
        )
    );
    assert_eq!(
        ev["reportingController"],
        event_recorder::DEFAULT_REPORTING_CONTROLLER
    );
    assert_eq!(ev["reportingInstance"], "web-0");
    assert!(
        ev["metadata"]["name"]
            .as_str()
            .unwrap()
            .starts_with("web-0.")
    );
}

#[test]
fn a_repeat_patches_the_series_of_the_existing_event() {
    let existing = json!({"kind": "Event", "apiVersion": "events.k8s.io/v1",
        "metadata": {"name": "web-0.abc", "namespace": "ns"},
        "eventTime": "2026-12-03T08:00:00.000000Z", "type": "Normal", "reason": "ConfigReloaded",
        "action": "ConfigReloaded", "note": "reloaded v2",
        "reportingController": event_recorder::DEFAULT_REPORTING_CONTROLLER, "reportingInstance": "web-0",
        "regarding": {"kind": "Pod", "namespace": "ns", "name": "web-0", "uid": "u-1", "apiVersion": "v1"}});
    let other = json!({"metadata": {"name": "x.1"}, "reason": "Other", "type": "Normal"});
    let t = Scripted::default();
    t.answer(200, json!({"kind": "EventList", "apiVersion": "events.k8s.io/v1", "metadata": {}, "items": [other, existing]}))
        .answer(200, json!({"kind": "Event"}));
    event_recorder::record(&mut t.client(), &pod_info(), &request()).unwrap();
    let sent = t.sent();
    assert_eq!(
        (
            sent[1].method.as_str(),
            sent[1].path.as_str(),
            sent[1].content_type.as_deref()
        ),
        (
            "PATCH",
            "/apis/events.k8s.io/v1/namespaces/ns/events/web-0.abc",
            Some("application/merge-patch+json")
        )
    );
    let patch: Value = serde_json::from_str(sent[1].body.as_deref().unwrap()).unwrap();
    assert_eq!(patch["series"]["count"], 2);
    assert!(patch["series"]["lastObservedTime"].is_string());
}

#[test]
fn a_recorder_that_may_not_list_creates_and_a_vanished_event_is_created_with_its_series() {
    // Only create/patch/update on events (client-go's recorder's rights): the list is 403.
    let t = Scripted::default();
    t.answer(403, json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 403, "reason": "Forbidden",
        "message": "events.events.k8s.io is forbidden: User \"system:serviceaccount:ns:default\" cannot list resource \"events\""}))
        .answer(201, json!({"kind": "Event"}));
    event_recorder::record(&mut t.client(), &pod_info(), &request()).unwrap();
    assert_eq!(t.sent()[1].method, "POST");

    // The isomorphic Event is listed, then expires before the patch: 404, created with series.
    let existing = json!({"kind": "Event", "apiVersion": "events.k8s.io/v1",
        "metadata": {"name": "web-0.abc", "namespace": "ns"},
        "eventTime": "2026-12-03T08:00:00.000000Z", "type": "Normal", "reason": "ConfigReloaded",
        "action": "ConfigReloaded", "reportingController": event_recorder::DEFAULT_REPORTING_CONTROLLER,
        "reportingInstance": "web-0",
        "regarding": {"kind": "Pod", "namespace": "ns", "name": "web-0", "uid": "u-1", "apiVersion": "v1"}});
    let t = Scripted::default();
    t.answer(200, json!({"kind": "EventList", "apiVersion": "events.k8s.io/v1", "metadata": {}, "items": [existing]}))
        .answer(404, json!({"kind": "Status", "code": 404, "reason": "NotFound", "message": "events.events.k8s.io \"web-0.abc\" not found"}))
        .answer(201, json!({"kind": "Event"}));
    event_recorder::record(&mut t.client(), &pod_info(), &request()).unwrap();
    let sent = t.sent();
    assert_eq!(
        sent.iter().map(|s| s.method.as_str()).collect::<Vec<_>>(),
        ["GET", "PATCH", "POST"]
    );
    let created: Value = serde_json::from_str(sent[2].body.as_deref().unwrap()).unwrap();
    assert_eq!(created["series"]["count"], 2);
    assert_eq!(created["reason"], "ConfigReloaded");
}

/// `api label self` without `--overwrite`: the pod is read and a change of value is refused
/// with kubectl's text before any patch is sent; a new key, or the same value, is patched.
#[test]
fn self_patch_without_overwrite_refuses_a_changed_value() {
    let pod = json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "web-0", "namespace": "ns", "labels": {"app": "web"}}});
    let fake = Scripted::default();
    fake.answer(200, pod.clone());
    let mut c = fake.client();
    let labels = pod_introspect_kube::fields::METADATA_LABELS;
    let change = |k: &str, v: &str| vec![(k.to_string(), Some(v.to_string()))];
    match crate::self_pod::patch_map(&mut c, &pod_info(), labels, &change("app", "api"), false) {
        Err(ApiError::Invalid(m)) => {
            assert_eq!(
                m,
                "'app' already has a value (web), and --overwrite is false"
            )
        }
        other => panic!("{other:?}"),
    }
    let sent = fake.sent();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(
        (sent[0].method.as_str(), sent[0].path.as_str()),
        ("GET", "/api/v1/namespaces/ns/pods/web-0")
    );

    fake.answer(200, pod.clone()).answer(200, pod.clone());
    crate::self_pod::patch_map(&mut c, &pod_info(), labels, &change("app", "web"), false).unwrap();
    let sent = fake.sent();
    assert_eq!(sent[2].method, "PATCH");
    assert_eq!(
        sent[2].body.as_deref(),
        Some(r#"{"metadata":{"labels":{"app":"web"}}}"#)
    );

    // --overwrite: no read, one patch.
    fake.answer(200, pod);
    crate::self_pod::patch_map(&mut c, &pod_info(), labels, &change("app", "api"), true).unwrap();
    let sent = fake.sent();
    assert_eq!(sent.len(), 4);
    assert_eq!(sent[3].method, "PATCH");
}
