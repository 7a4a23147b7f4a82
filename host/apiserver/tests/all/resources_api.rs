//! The built-in API over raw HTTPS: what kube-apiserver answers, byte for byte where a client
//! depends on it: discovery (legacy and aggregated), generic create/update/delete semantics
//! (generateName, 409s, preconditions, dryRun, finalizers), the ObjectMeta limits, field
//! validation, the two views of Events, streaming lists, and bearer-token parsing.

use http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::{Client, STEP, names, rv_of, start_default};

fn cm(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"k": "v"}})
}

#[tokio::test]
async fn discovery_lists_every_group_legacy_and_aggregated() {
    let cluster = start_default().await;
    let c = Client::admin(&cluster);
    let root = c.get("/").await.json();
    let paths: Vec<&str> = root["paths"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    for p in [
        "/api",
        "/api/v1",
        "/apis",
        "/apis/apps",
        "/apis/apps/v1",
        "/apis/coordination.k8s.io/v1",
        "/openapi/v3",
        "/version",
    ] {
        assert!(paths.contains(&p), "{p} not in {paths:?}");
    }
    let groups = c.get("/apis").await.json();
    let names: Vec<&str> = groups["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "apps",
            "events.k8s.io",
            "authorization.k8s.io",
            "rbac.authorization.k8s.io",
            "coordination.k8s.io",
            "discovery.k8s.io"
        ]
    );
    let apps = c.get("/apis/apps/v1").await.json();
    let deploy = apps["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "deployments")
        .unwrap();
    assert_eq!(deploy["shortNames"], json!(["deploy"]));
    assert_eq!(deploy["categories"], json!(["all"]));
    let scale = apps["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "deployments/scale")
        .unwrap();
    assert_eq!(
        (
            scale["group"].as_str(),
            scale["version"].as_str(),
            scale["kind"].as_str()
        ),
        (Some("autoscaling"), Some("v1"), Some("Scale"))
    );

    let accept =
        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json";
    let r = c
        .request(Method::GET, "/apis", &[("accept", accept)], None)
        .await;
    assert_eq!(
        r.headers["content-type"],
        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
    );
    let v = r.json();
    assert_eq!(v["kind"], "APIGroupDiscoveryList");
    let apps = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["metadata"]["name"] == "apps")
        .unwrap();
    let d = apps["versions"][0]["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["resource"] == "deployments")
        .unwrap();
    assert_eq!(d["scope"], "Namespaced");
    assert_eq!(
        d["responseKind"],
        json!({"group": "apps", "version": "v1", "kind": "Deployment"})
    );
    let core = c
        .request(Method::GET, "/api", &[("accept", accept)], None)
        .await
        .json();
    let pods = core["items"][0]["versions"][0]["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["resource"] == "pods")
        .unwrap()
        .clone();
    assert_eq!(pods["shortNames"], json!(["po"]));
    cluster.shutdown().await;
}

#[tokio::test]
async fn create_update_delete_follow_the_registry() {
    let cluster = start_default().await;
    let c = Client::admin(&cluster);
    let base = "/api/v1/namespaces/default/configmaps";
    let r = c
        .request(
            Method::POST,
            base,
            &[],
            Some(json!({"metadata": {"generateName": "gen-"}, "data": {}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let name = r.json()["metadata"]["name"].as_str().unwrap().to_owned();
    assert!(name.starts_with("gen-") && name.len() == 9, "{name}");

    let r = c.request(Method::POST, base, &[], Some(cm("x"))).await;
    assert_eq!(r.status, StatusCode::CREATED);
    let created = r.json();
    assert!(
        created["metadata"]["uid"]
            .as_str()
            .is_some_and(|u| u.len() == 36)
    );
    assert!(
        created["metadata"]["creationTimestamp"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );
    let r = c.request(Method::POST, base, &[], Some(cm("x"))).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.json()["reason"], "AlreadyExists");
    assert_eq!(r.json()["message"], "configmaps \"x\" already exists");

    // A stale resourceVersion is a Conflict with the real message.
    let mut stale = created.clone();
    stale["data"]["k"] = json!("new");
    let r = c
        .request(Method::PUT, &format!("{base}/x"), &[], Some(stale.clone()))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = c
        .request(Method::PUT, &format!("{base}/x"), &[], Some(stale))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(
        r.json()["message"],
        "Operation cannot be fulfilled on configmaps \"x\": the object has been modified; please apply your changes to the latest version and try again"
    );

    // Delete preconditions (uid, resourceVersion) are checked: 409 and nothing deleted.
    let del =
        |pre: Value| json!({"kind": "DeleteOptions", "apiVersion": "v1", "preconditions": pre});
    let r = c
        .request(
            Method::DELETE,
            &format!("{base}/x"),
            &[],
            Some(del(json!({"uid": "nope"}))),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(
        r.json()["message"],
        format!(
            "Operation cannot be fulfilled on configmaps \"x\": Precondition failed: UID in precondition: nope, UID in object meta: {}",
            created["metadata"]["uid"].as_str().unwrap()
        )
    );
    let r = c
        .request(
            Method::DELETE,
            &format!("{base}/x"),
            &[],
            Some(del(json!({"resourceVersion": "1"}))),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.json()["message"].as_str().unwrap().contains(
        "Precondition failed: ResourceVersion in precondition: 1, ResourceVersion in object meta: "
    ));
    assert_eq!(c.get(&format!("{base}/x")).await.status, StatusCode::OK);

    // dryRun=All answers as if done and changes nothing (kubectl delete --dry-run=server).
    let r = c
        .request(Method::DELETE, &format!("{base}/x?dryRun=All"), &[], None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(c.get(&format!("{base}/x")).await.status, StatusCode::OK);
    let r = c
        .request(
            Method::POST,
            &format!("{base}?dryRun=All"),
            &[],
            Some(cm("dry")),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(
        c.get(&format!("{base}/dry")).await.status,
        StatusCode::NOT_FOUND
    );

    // Finalizers keep an object, with deletionTimestamp, until they are removed.
    let mut fin = cm("held");
    fin["metadata"]["finalizers"] = json!(["example.com/hold"]);
    assert_eq!(
        c.request(Method::POST, base, &[], Some(fin)).await.status,
        StatusCode::CREATED
    );
    let r = c
        .request(Method::DELETE, &format!("{base}/held"), &[], None)
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    let held = c.get(&format!("{base}/held")).await.json();
    assert!(held["metadata"]["deletionTimestamp"].is_string(), "{held}");
    let r = c
        .request(
            Method::PATCH,
            &format!("{base}/held"),
            &[("content-type", "application/merge-patch+json")],
            Some(json!({"metadata": {"finalizers": null}})),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    assert_eq!(
        c.get(&format!("{base}/held")).await.status,
        StatusCode::NOT_FOUND
    );

    // deletecollection with a label selector.
    for n in ["a", "b"] {
        let mut o = cm(n);
        o["metadata"]["labels"] = json!({"batch": "1"});
        c.request(Method::POST, base, &[], Some(o)).await;
    }
    let r = c
        .request(
            Method::DELETE,
            &format!("{base}?labelSelector=batch%3D1"),
            &[],
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(names(&r.json()), ["a", "b"]);
    let left = names(&c.get(base).await.json());
    assert!(
        !left.contains(&"a".to_owned()) && left.contains(&"x".to_owned()),
        "{left:?}"
    );
    cluster.shutdown().await;
}

#[tokio::test]
async fn object_meta_limits_and_field_validation() {
    let cluster = start_default().await;
    let c = Client::admin(&cluster);
    let base = "/api/v1/namespaces/default/configmaps";
    let mut big = cm("big");
    big["metadata"]["annotations"] = json!({"a": "x".repeat(3 * 1024 * 1024 - 1024)});
    let r = c.request(Method::POST, base, &[], Some(big)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        r.json()["message"],
        "ConfigMap \"big\" is invalid: metadata.annotations: Too long: may not be more than 262144 bytes"
    );
    let mut typo = cm("typo");
    typo["dataa"] = json!({"k": "v"});
    let r = c
        .request(
            Method::POST,
            &format!("{base}?fieldValidation=Strict"),
            &[],
            Some(typo.clone()),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.json()["message"],
        "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: strict decoding error: unknown field \"dataa\""
    );
    let r = c.request(Method::POST, base, &[], Some(typo)).await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(
        r.headers["warning"],
        "299 - \"unknown field \\\"dataa\\\"\""
    );
    assert!(r.json().get("dataa").is_none());
    let r = c
        .request(
            Method::POST,
            base,
            &[],
            Some(json!({"metadata": {"name": "Bad_Name"}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.json()["message"].as_str().unwrap().starts_with("ConfigMap \"Bad_Name\" is invalid: metadata.name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain"));
    cluster.shutdown().await;
}

#[tokio::test]
async fn events_are_one_store_in_two_groups() {
    let cluster = start_default().await;
    let c = Client::admin(&cluster);
    let core = json!({"apiVersion": "v1", "kind": "Event", "metadata": {"name": "web.1"},
        "involvedObject": {"kind": "Pod", "name": "web", "namespace": "default"},
        "reason": "Started", "message": "Started container web", "type": "Normal", "count": 3,
        "source": {"component": "kubelet"}});
    let r = c
        .request(
            Method::POST,
            "/api/v1/namespaces/default/events",
            &[],
            Some(core),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let v1 = c
        .get("/apis/events.k8s.io/v1/namespaces/default/events/web.1")
        .await
        .json();
    assert_eq!(v1["apiVersion"], "events.k8s.io/v1");
    assert_eq!(v1["regarding"]["name"], "web");
    assert_eq!(v1["note"], "Started container web");
    assert_eq!(v1["deprecatedCount"], 3);
    let listed = c.get("/api/v1/namespaces/default/events?fieldSelector=involvedObject.name%3Dweb,source%3Dkubelet").await.json();
    assert_eq!(names(&listed), ["web.1"]);
    let listed = c
        .get("/apis/events.k8s.io/v1/events?fieldSelector=regarding.name%3Dweb")
        .await
        .json();
    assert_eq!(listed["kind"], "EventList");
    assert_eq!(names(&listed), ["web.1"]);
    cluster.shutdown().await;
}

#[tokio::test]
async fn streaming_lists_end_their_initial_events_with_a_bookmark() {
    let cluster = start_default().await;
    let c = Client::admin(&cluster);
    let base = "/api/v1/namespaces/default/configmaps";
    for n in ["one", "two"] {
        c.request(Method::POST, base, &[], Some(cm(n))).await;
    }
    let rv = rv_of(&c.get(base).await.json());
    let (status, _, mut events) = c
        .watch(&format!("{base}?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true"), &[])
        .await;
    assert_eq!(status, StatusCode::OK);
    let a = events.next().await;
    let b = events.next().await;
    assert_eq!(
        (a["type"].as_str(), b["type"].as_str()),
        (Some("ADDED"), Some("ADDED"))
    );
    assert_eq!(
        (
            a["object"]["metadata"]["name"].as_str(),
            b["object"]["metadata"]["name"].as_str()
        ),
        (Some("one"), Some("two"))
    );
    let end = events.next().await;
    assert_eq!(end["type"], "BOOKMARK");
    assert_eq!(end["object"]["kind"], "ConfigMap");
    assert_eq!(
        end["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"],
        "true"
    );
    assert_eq!(rv_of(&end["object"]), rv);
    c.request(Method::POST, base, &[], Some(cm("three"))).await;
    let next = events.next_non_bookmark().await;
    assert_eq!(
        (
            next["type"].as_str(),
            next["object"]["metadata"]["name"].as_str()
        ),
        (Some("ADDED"), Some("three"))
    );
    // Without allowWatchBookmarks the request is invalid, as upstream's ValidateListOptions says.
    let r = c
        .get(&format!(
            "{base}?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan"
        ))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        r.json()["message"],
        "ListOptions.meta.k8s.io \"\" is invalid: allowWatchBookmarks: Forbidden: sendInitialEvents requires setting allowWatchBookmarks to true"
    );
    let _ = STEP;
    cluster.shutdown().await;
}

#[tokio::test]
async fn a_bearer_token_after_two_spaces_is_no_credential() {
    let cluster = start_default().await;
    let spaced = Client::with_token(&cluster, Some(&format!(" {}", cluster.admin_token())));
    let r = spaced.get("/api/v1/namespaces").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let ok = Client::admin(&cluster).get("/api/v1/namespaces").await;
    assert_eq!(ok.status, StatusCode::OK);
    cluster.shutdown().await;
}

#[tokio::test]
async fn rbac_manifests_given_at_start_are_the_initial_policy() {
    let rules = pod_introspect_apiserver::RbacRules::from_yaml(
        "apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: cm-reader, namespace: team}
rules:
- apiGroups: [\"\"]
  resources: [configmaps]
  verbs: [get, list]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: reader-cm, namespace: team}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: cm-reader}
subjects:
- {kind: ServiceAccount, name: reader, namespace: team}
",
    )
    .unwrap();
    let cluster = crate::common::start(pod_introspect_apiserver::ClusterOptions {
        rbac: Some(rules),
        ..Default::default()
    })
    .await;
    let token = cluster.issue_token("team", "reader", std::time::Duration::from_secs(3600));
    let c = Client::with_token(&cluster, Some(&token));
    assert_eq!(
        c.get("/api/v1/namespaces/team/configmaps").await.status,
        StatusCode::OK
    );
    // The manifests replace the default rule: no pod reads.
    let r = c.get("/api/v1/namespaces/team/pods").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let admin = Client::admin(&cluster);
    let roles = admin
        .get("/apis/rbac.authorization.k8s.io/v1/namespaces/team/roles")
        .await
        .json();
    assert_eq!(names(&roles), ["cm-reader"]);
    cluster.shutdown().await;
}

#[tokio::test]
async fn writes_record_their_field_manager() {
    let cluster = start_default().await;
    let c = Client::admin(&cluster);
    let base = "/api/v1/namespaces/default/configmaps";
    let r = c
        .request(
            Method::POST,
            &format!("{base}?fieldManager=tester"),
            &[],
            Some(cm("m")),
        )
        .await;
    let v = r.json();
    assert_eq!(
        v["metadata"]["managedFields"][0]["manager"], "tester",
        "{v}"
    );
    assert_eq!(
        v["metadata"]["managedFields"][0]["fieldsV1"],
        json!({"f:data": {".": {}, "f:k": {}}})
    );
    let r = c
        .request(
            Method::PATCH,
            &format!("{base}/m"),
            &[
                ("content-type", "application/merge-patch+json"),
                ("user-agent", "editor/1.0 (linux)"),
            ],
            Some(json!({"data": {"k": "w"}})),
        )
        .await;
    let v = r.json();
    // The changed key moves to the patch's manager (the user agent's prefix); the creator keeps
    // the map itself.
    let mf = v["metadata"]["managedFields"].as_array().unwrap();
    assert_eq!(mf.len(), 2, "{v}");
    assert_eq!(mf[0]["manager"], "editor", "{v}");
    assert_eq!(mf[0]["fieldsV1"], json!({"f:data": {"f:k": {}}}));
    assert_eq!(mf[1]["manager"], "tester");
    assert_eq!(mf[1]["fieldsV1"], json!({"f:data": {}}));
    cluster.shutdown().await;
}

#[tokio::test]
async fn json_patch_copies_cannot_grow_an_object_without_bound() {
    let cluster = start_default().await;
    let c = Client::admin(&cluster);
    let base = "/api/v1/namespaces/default/configmaps";
    let mut o = cm("grow");
    o["data"] = json!({"a": "x".repeat(512 * 1024)});
    assert_eq!(
        c.request(Method::POST, base, &[], Some(o)).await.status,
        StatusCode::CREATED
    );
    // Each copy doubles the data: 30 copies would be 512 KiB x 2^30.
    let ops: Vec<Value> = (0..30)
        .map(|i| json!({"op": "copy", "from": "/data", "path": format!("/data/c{i}")}))
        .collect();
    let r = c
        .request(
            Method::PATCH,
            &format!("{base}/grow"),
            &[("content-type", "application/json-patch+json")],
            Some(Value::Array(ops)),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    assert!(
        r.json()["message"]
            .as_str()
            .unwrap()
            .contains("accumulated size of copied values")
    );
    cluster.shutdown().await;
}

#[tokio::test]
async fn a_resource_version_from_the_future_is_too_large() {
    let cluster = start_default().await;
    let c = Client::admin(&cluster);
    let current = cluster.resource_version();
    let r = c
        .get(&format!(
            "/api/v1/namespaces/default/configmaps?resourceVersion={}&resourceVersionMatch=Exact",
            current + 100
        ))
        .await;
    assert_eq!(r.status, StatusCode::GATEWAY_TIMEOUT);
    let v = r.json();
    assert_eq!(v["reason"], "Timeout");
    assert_eq!(
        v["message"],
        format!(
            "Too large resource version: {}, current: {current}",
            current + 100
        )
    );
    assert_eq!(
        v["details"]["causes"][0]["reason"],
        "ResourceVersionTooLarge"
    );
    let ok = c.get(&format!("/api/v1/namespaces/default/configmaps?resourceVersion={current}&resourceVersionMatch=NotOlderThan")).await;
    assert_eq!(ok.status, StatusCode::OK);
    cluster.shutdown().await;
}

#[tokio::test]
async fn put_creates_a_missing_lease_but_not_a_missing_configmap() {
    let cluster = start_default().await;
    let c = Client::admin(&cluster);
    let lease = json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": "leader"},
                       "spec": {"holderIdentity": "a", "leaseDurationSeconds": 15}});
    let r = c
        .request(
            Method::PUT,
            "/apis/coordination.k8s.io/v1/namespaces/default/leases/leader",
            &[],
            Some(lease),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    assert_eq!(r.json()["spec"]["holderIdentity"], "a");
    let r = c
        .request(
            Method::PUT,
            "/api/v1/namespaces/default/configmaps/none",
            &[],
            Some(cm("none")),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.json()["message"], "configmaps \"none\" not found");
    cluster.shutdown().await;
}
