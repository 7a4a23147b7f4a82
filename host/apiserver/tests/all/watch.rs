//! Watch streams: ordering, resourceVersions, bookmarks, resumption, 410 both ways, selectors,
//! timeoutSeconds.

use std::time::Duration;

use http::StatusCode;
use pod_introspect_apiserver::{ClusterOptions, GONE_AS_STATUS_HEADER};
use serde_json::json;

use crate::common::{Client, pod, rv_of, start, start_default};

#[tokio::test]
async fn added_modified_deleted_in_order_with_increasing_rvs() {
    let cluster = start_default().await;
    cluster.create_pod(pod("w", "existing", &[])).unwrap();
    let c = Client::admin(&cluster);
    let (status, headers, mut events) = c.watch("/api/v1/namespaces/w/pods?watch=true", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "application/json");
    // Without a resourceVersion: the current state first.
    let first = events.next().await;
    assert_eq!(
        (
            first["type"].as_str(),
            first["object"]["metadata"]["name"].as_str()
        ),
        (Some("ADDED"), Some("existing"))
    );
    assert_eq!(first["object"]["kind"], "Pod");

    let created = cluster.create_pod(pod("w", "live", &[("v", "1")])).unwrap();
    let mut updated = created.clone();
    updated.metadata.labels = Some([("v".to_owned(), "2".to_owned())].into());
    cluster.update_pod(updated).unwrap();
    cluster
        .create_pod(pod("elsewhere", "ignored", &[]))
        .unwrap();
    cluster.delete_pod("w", "live").unwrap();

    let mut last_rv = rv_of(&first["object"]);
    for (want_type, want_label) in [("ADDED", "1"), ("MODIFIED", "2"), ("DELETED", "2")] {
        let e = events.next().await;
        assert_eq!(e["type"], want_type);
        assert_eq!(e["object"]["metadata"]["name"], "live");
        assert_eq!(e["object"]["metadata"]["labels"]["v"], want_label);
        let rv = rv_of(&e["object"]);
        assert!(rv > last_rv, "{rv} > {last_rv}");
        last_rv = rv;
    }
    assert!(
        events
            .next_within(Duration::from_millis(300))
            .await
            .is_none(),
        "other namespaces are not seen"
    );
    cluster.shutdown().await;
}

#[tokio::test]
async fn resume_from_resource_version_and_selector_transitions() {
    let cluster = start_default().await;
    let c = Client::admin(&cluster);
    let list = c.get("/api/v1/namespaces/r/pods").await.json();
    let rv = rv_of(&list);
    // Changes before the watch starts are replayed from history.
    let p = cluster
        .create_pod(pod("r", "a", &[("app", "web")]))
        .unwrap();
    let (_, _, mut all) = c
        .watch(
            &format!("/api/v1/namespaces/r/pods?watch=1&resourceVersion={rv}"),
            &[],
        )
        .await;
    let (_, _, mut web) = c
        .watch(
            &format!(
                "/api/v1/namespaces/r/pods?watch=1&resourceVersion={rv}&labelSelector=app%3Dweb"
            ),
            &[],
        )
        .await;
    let (_, _, mut named) = c
        .watch(
            "/api/v1/namespaces/r/pods?watch=1&fieldSelector=metadata.name%3Db",
            &[],
        )
        .await;
    assert_eq!(all.next().await["type"], "ADDED");
    assert_eq!(web.next().await["type"], "ADDED");
    // Relabel: leaves the selector (DELETED for `web`), then a non-matching create.
    let mut moved = p.clone();
    moved.metadata.labels = Some([("app".to_owned(), "db".to_owned())].into());
    cluster.update_pod(moved).unwrap();
    cluster.create_pod(pod("r", "b", &[("app", "db")])).unwrap();
    assert_eq!(all.next().await["type"], "MODIFIED");
    let e = all.next().await;
    assert_eq!(
        (e["type"].as_str(), e["object"]["metadata"]["name"].as_str()),
        (Some("ADDED"), Some("b"))
    );
    let e = web.next().await;
    assert_eq!(
        (
            e["type"].as_str(),
            e["object"]["metadata"]["labels"]["app"].as_str()
        ),
        (Some("DELETED"), Some("db"))
    );
    assert!(web.next_within(Duration::from_millis(300)).await.is_none());
    let e = named.next().await;
    assert_eq!(
        (e["type"].as_str(), e["object"]["metadata"]["name"].as_str()),
        (Some("ADDED"), Some("b"))
    );
    cluster.shutdown().await;
}

#[tokio::test]
async fn bookmarks_only_when_allowed() {
    let cluster = start(ClusterOptions {
        bookmark_interval: Duration::from_millis(200),
        ..Default::default()
    })
    .await;
    let c = Client::admin(&cluster);
    let rv = cluster.resource_version();
    let (_, _, mut with) = c
        .watch(
            &format!(
                "/api/v1/namespaces/b/pods?watch=true&resourceVersion={rv}&allowWatchBookmarks=true"
            ),
            &[],
        )
        .await;
    let (_, _, mut without) = c
        .watch(
            &format!("/api/v1/namespaces/b/pods?watch=true&resourceVersion={rv}"),
            &[],
        )
        .await;
    let e = with.next().await;
    assert_eq!(e["type"], "BOOKMARK");
    assert_eq!(e["object"]["kind"], "Pod");
    assert_eq!(rv_of(&e["object"]), rv);
    cluster.create_pod(pod("b", "p", &[])).unwrap();
    assert_eq!(with.next_non_bookmark().await["type"], "ADDED");
    let after = with.next().await;
    assert_eq!(after["type"], "BOOKMARK");
    assert!(rv_of(&after["object"]) > rv, "bookmark RV advances");
    assert_eq!(without.next().await["type"], "ADDED");
    assert!(
        without
            .next_within(Duration::from_millis(600))
            .await
            .is_none(),
        "no bookmarks unless allowed"
    );
    cluster.shutdown().await;
}

#[tokio::test]
async fn too_old_resource_version_in_stream_and_as_http_410() {
    let cluster = start_default().await;
    let c = Client::admin(&cluster);
    let old = cluster.resource_version();
    cluster.create_pod(pod("g", "p", &[])).unwrap();
    cluster.compact();
    let floor = cluster.resource_version();
    let path = format!("/api/v1/namespaces/g/pods?watch=true&resourceVersion={old}");
    let (status, _, mut events) = c.watch(&path, &[]).await;
    assert_eq!(status, StatusCode::OK);
    let e = events.next().await;
    assert_eq!(e["type"], "ERROR");
    assert_eq!(
        e["object"],
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
               "message": format!("too old resource version: {old} ({floor})"), "reason": "Expired", "code": 410})
    );
    assert!(events.next_within(Duration::from_secs(2)).await.is_none());
    assert!(events.ended, "the stream ends after the ERROR event");

    let (status, _, _) = c.watch(&path, &[(GONE_AS_STATUS_HEADER, "true")]).await;
    assert_eq!(status, StatusCode::GONE);
    let r = c
        .request(
            http::Method::GET,
            &path,
            &[(GONE_AS_STATUS_HEADER, "true")],
            None,
        )
        .await;
    assert_eq!(r.json()["reason"], "Expired");
    assert_eq!(r.json()["code"], 410);

    // Watching from the compaction point works.
    let (status, _, mut ok) = c
        .watch(
            &format!("/api/v1/namespaces/g/pods?watch=true&resourceVersion={floor}"),
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    cluster.delete_pod("g", "p").unwrap();
    assert_eq!(ok.next().await["type"], "DELETED");
    cluster.shutdown().await;
}

#[tokio::test]
async fn timeout_seconds_ends_the_stream() {
    let cluster = start_default().await;
    let c = Client::admin(&cluster);
    let started = std::time::Instant::now();
    let (_, _, mut events) = c
        .watch("/api/v1/namespaces/t/pods?watch=true&timeoutSeconds=1", &[])
        .await;
    assert!(events.next_within(Duration::from_secs(5)).await.is_none());
    assert!(events.ended, "stream closed cleanly");
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(4),
        "{took:?}"
    );
    cluster.shutdown().await;
}

#[tokio::test]
async fn table_watch_for_kubectl() {
    let cluster = start_default().await;
    let c = Client::admin(&cluster);
    let accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";
    cluster.create_pod(pod("tb", "one", &[])).unwrap();
    let r = c
        .request(
            http::Method::GET,
            "/api/v1/namespaces/tb/pods",
            &[("accept", accept)],
            None,
        )
        .await;
    let table = r.json();
    assert_eq!(table["kind"], "Table");
    assert_eq!(table["apiVersion"], "meta.k8s.io/v1");
    let columns: Vec<&str> = table["columnDefinitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        &columns[..5],
        ["Name", "Ready", "Status", "Restarts", "Age"]
    );
    let cells = &table["rows"][0]["cells"];
    assert_eq!(
        (
            cells[0].as_str(),
            cells[1].as_str(),
            cells[2].as_str(),
            cells[3].as_str()
        ),
        (Some("one"), Some("1/1"), Some("Running"), Some("0"))
    );
    assert_eq!(table["rows"][0]["object"]["kind"], "PartialObjectMetadata");
    let (_, _, mut events) = c
        .watch(
            "/api/v1/namespaces/tb/pods?watch=true",
            &[("accept", accept)],
        )
        .await;
    let e = events.next().await;
    assert_eq!(e["object"]["kind"], "Table");
    assert_eq!(e["object"]["rows"][0]["cells"][0], "one");
    cluster.shutdown().await;
}

/// The value of `apiserver_longrunning_requests` for `resource` at `scope`.
async fn open_watches(c: &Client, resource: &str, scope: &str) -> Option<u64> {
    let reply = c.get("/metrics").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.headers["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let text = String::from_utf8(reply.body.to_vec()).unwrap();
    let series = format!(
        "apiserver_longrunning_requests{{component=\"apiserver\",group=\"\",resource=\"{resource}\",scope=\"{scope}\",subresource=\"\",verb=\"WATCH\",version=\"v1\"}} "
    );
    text.lines()
        .find_map(|l| l.strip_prefix(&series))
        .map(|v| v.parse().unwrap())
}

#[tokio::test]
async fn metrics_count_open_watches_and_take_rbac_on_the_path() {
    let cluster = start_default().await;
    let admin = Client::admin(&cluster);
    assert_eq!(open_watches(&admin, "pods", "cluster").await, None);
    let (_, _, a) = admin.watch("/api/v1/pods?watch=1", &[]).await;
    let (_, _, b) = admin.watch("/api/v1/pods?watch=1", &[]).await;
    let (_, _, c) = admin.watch("/api/v1/namespaces/x/pods?watch=1", &[]).await;
    assert_eq!(open_watches(&admin, "pods", "cluster").await, Some(2));
    assert_eq!(open_watches(&admin, "pods", "namespace").await, Some(1));
    drop((a, b, c));
    let mut closed = None;
    for _ in 0..50 {
        closed = open_watches(&admin, "pods", "cluster").await;
        if closed == Some(0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(closed, Some(0), "a closed watch is no longer counted");

    // /metrics is a non-resource path: a ServiceAccount needs `get` on it.
    cluster.create_service_account("mon", "scraper");
    let token = cluster.issue_token("mon", "scraper", Duration::from_secs(600));
    let scraper = Client::with_token(&cluster, Some(&token));
    let denied = scraper.get("/metrics").await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    assert_eq!(
        denied.json()["message"],
        "forbidden: User \"system:serviceaccount:mon:scraper\" cannot get path \"/metrics\""
    );
    for (path, body) in [
        (
            "/apis/rbac.authorization.k8s.io/v1/clusterroles",
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                   "metadata": {"name": "monitoring"},
                   "rules": [{"nonResourceURLs": ["/metrics"], "verbs": ["get"]}]}),
        ),
        (
            "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                   "metadata": {"name": "monitoring"},
                   "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "monitoring"},
                   "subjects": [{"kind": "ServiceAccount", "name": "scraper", "namespace": "mon"}]}),
        ),
    ] {
        let r = admin
            .request(http::Method::POST, path, &[], Some(body))
            .await;
        assert_eq!(
            r.status,
            StatusCode::CREATED,
            "{}",
            String::from_utf8_lossy(&r.body)
        );
    }
    assert_eq!(open_watches(&scraper, "pods", "cluster").await, Some(0));
    cluster.shutdown().await;
}

#[tokio::test]
async fn resource_versions_never_go_back_across_a_restart_even_after_a_deletion() {
    let dir = tempfile::tempdir().unwrap();
    let opts = || ClusterOptions {
        state_dir: Some(dir.path().join("state")),
        ..Default::default()
    };
    let cluster = start(opts()).await;
    cluster.create_pod(pod("r", "kept", &[])).unwrap();
    cluster.create_pod(pod("r", "gone", &[])).unwrap();
    let deleted = cluster.delete_pod("r", "gone").unwrap();
    let deleted_rv: u64 = deleted.metadata.resource_version.unwrap().parse().unwrap();
    assert_eq!(cluster.resource_version(), deleted_rv);
    cluster.shutdown().await;
    let restarted = start(opts()).await;
    assert!(
        restarted.resource_version() >= deleted_rv,
        "{} < {deleted_rv}: the deletion's revision would be handed out again",
        restarted.resource_version()
    );
    let next = restarted.create_pod(pod("r", "new", &[])).unwrap();
    let next_rv: u64 = next.metadata.resource_version.unwrap().parse().unwrap();
    assert!(next_rv > deleted_rv, "{next_rv} > {deleted_rv}");
    restarted.shutdown().await;
}
