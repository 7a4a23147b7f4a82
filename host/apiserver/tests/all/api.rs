//! REST behaviour: version, authentication, authorization, pods list/get/create/update/delete,
//! selectors, pagination, TokenRequest, state_dir persistence.

use std::time::Duration;

use http::{Method, StatusCode};
use pod_introspect_apiserver::{
    ClusterOptions, DevCluster, RbacRules, status::CONTINUE_EXPIRED_MESSAGE,
};
use serde_json::{Value, json};

use crate::common::{Client, names, pod, rv_of, start, start_default};

#[tokio::test]
async fn version_is_public_and_complete() {
    let cluster = start_default().await;
    let anon = Client::with_token(&cluster, None);
    let r = anon.get("/version").await;
    assert_eq!(r.status, StatusCode::OK);
    let v = r.json();
    assert_eq!(v["major"], "1");
    assert_eq!(v["minor"], "33");
    assert_eq!(v["gitVersion"], "v1.33.0-pod-introspect");
    assert_eq!(v["gitTreeState"], "clean");
    assert_eq!(v["compiler"], "gc");
    assert_eq!(v["platform"], "linux/amd64");
    for key in ["gitCommit", "buildDate", "goVersion"] {
        assert!(v[key].is_string(), "{key}");
    }
    for path in ["/healthz", "/livez", "/readyz"] {
        let r = anon.get(path).await;
        assert_eq!(
            (r.status, &r.body[..]),
            (StatusCode::OK, &b"ok"[..]),
            "{path}"
        );
    }
    cluster.shutdown().await;
}

#[tokio::test]
async fn unauthorized_without_or_with_bad_or_expired_token() {
    let cluster = start_default().await;
    let want = r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}"#;
    let short = cluster.issue_token("ns1", "reader", Duration::from_secs(1));
    let ok = Client::with_token(&cluster, Some(&short))
        .get("/api/v1/namespaces/ns1/pods")
        .await;
    assert_eq!(ok.status, StatusCode::OK);
    for token in [None, Some("garbage"), Some("a.b.c")] {
        let r = Client::with_token(&cluster, token)
            .get("/api/v1/namespaces/ns1/pods")
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{token:?}");
        assert_eq!(std::str::from_utf8(&r.body).unwrap(), want);
        assert_eq!(r.headers["content-type"], "application/json");
    }
    // A bad token is refused even on a public path; no token there is fine.
    assert_eq!(
        Client::with_token(&cluster, Some("garbage"))
            .get("/version")
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    // Discovery needs authentication.
    assert_eq!(
        Client::with_token(&cluster, None).get("/api").await.status,
        StatusCode::UNAUTHORIZED
    );
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let r = Client::with_token(&cluster, Some(&short))
        .get("/api/v1/namespaces/ns1/pods")
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(std::str::from_utf8(&r.body).unwrap(), want);
    cluster.shutdown().await;
}

#[tokio::test]
async fn forbidden_messages_are_the_real_ones() {
    let cluster = start_default().await;
    cluster.create_pod(pod("other", "p1", &[])).unwrap();
    let token = cluster.issue_token("mine", "reader", Duration::from_secs(600));
    let c = Client::with_token(&cluster, Some(&token));
    let user = "system:serviceaccount:mine:reader";

    let r = c.get("/api/v1/namespaces/other/pods").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let v = r.json();
    assert_eq!(v["reason"], "Forbidden");
    assert_eq!(v["code"], 403);
    assert_eq!(
        v["message"],
        format!(
            "pods is forbidden: User \"{user}\" cannot list resource \"pods\" in API group \"\" in the namespace \"other\""
        )
    );
    assert_eq!(v["details"], json!({"kind": "pods"}));

    let v = c.get("/api/v1/namespaces/other/pods/p1").await.json();
    assert_eq!(
        v["message"],
        format!(
            "pods \"p1\" is forbidden: User \"{user}\" cannot get resource \"pods\" in API group \"\" in the namespace \"other\""
        )
    );
    assert_eq!(v["details"], json!({"name": "p1", "kind": "pods"}));

    let v = c.get("/api/v1/pods").await.json();
    assert_eq!(
        v["message"],
        format!(
            "pods is forbidden: User \"{user}\" cannot list resource \"pods\" in API group \"\" at the cluster scope"
        )
    );
    let (status, _, _) = c
        .watch("/api/v1/namespaces/mine/pods?watch=true", &[])
        .await;
    assert_eq!(status, StatusCode::OK, "watch in own namespace is allowed");
    let (status, _, _) = c
        .watch("/api/v1/namespaces/other/pods?watch=true", &[])
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let v = c
        .request(
            Method::POST,
            "/api/v1/namespaces/mine/pods",
            &[],
            Some(json!({"metadata": {"name": "x"}})),
        )
        .await
        .json();
    assert!(
        v["message"].as_str().unwrap().ends_with(
            "cannot create resource \"pods\" in API group \"\" in the namespace \"mine\""
        )
    );
    // Own namespace reads work; discovery works for any authenticated user.
    assert_eq!(
        c.get("/api/v1/namespaces/mine/pods").await.status,
        StatusCode::OK
    );
    assert_eq!(c.get("/api/v1").await.status, StatusCode::OK);
    cluster.shutdown().await;
}

#[tokio::test]
async fn custom_rbac_rules_grant_cluster_scope() {
    let rules = RbacRules::from_yaml(
        "- subject: system:serviceaccount:ops:viewer\n  verbs: [list, get]\n  resources: [pods]\n  namespaces: ['*']\n",
    )
    .unwrap();
    let cluster = start(ClusterOptions {
        rbac: Some(rules),
        ..Default::default()
    })
    .await;
    cluster.create_pod(pod("a", "p", &[])).unwrap();
    let viewer = Client::with_token(
        &cluster,
        Some(&cluster.issue_token("ops", "viewer", Duration::from_secs(600))),
    );
    assert_eq!(names(&viewer.get("/api/v1/pods").await.json()), ["p"]);
    let other = Client::with_token(
        &cluster,
        Some(&cluster.issue_token("a", "default", Duration::from_secs(600))),
    );
    assert_eq!(
        other.get("/api/v1/namespaces/a/pods").await.status,
        StatusCode::FORBIDDEN,
        "default rules replaced"
    );
    cluster.shutdown().await;
}

#[tokio::test]
async fn list_with_label_and_field_selectors() {
    let cluster = start_default().await;
    cluster
        .create_pod(pod("s", "web-1", &[("app", "web"), ("tier", "front")]))
        .unwrap();
    cluster
        .create_pod(pod("s", "web-2", &[("app", "web"), ("tier", "back")]))
        .unwrap();
    cluster
        .create_pod(pod("s", "db-1", &[("app", "db")]))
        .unwrap();
    cluster
        .create_pod(pod("t", "web-3", &[("app", "web")]))
        .unwrap();
    let mut pending = pod("s", "pending-1", &[("app", "web"), ("canary", "true")]);
    pending.status = Some(k8s_openapi::api::core::v1::PodStatus {
        phase: Some("Pending".into()),
        ..Default::default()
    });
    cluster.create_pod(pending).unwrap();
    let c = Client::admin(&cluster);
    let list = |q: &'static str| {
        let c = &c;
        async move { c.get(&format!("/api/v1/namespaces/s/pods?{q}")).await }
    };
    let v = list("").await.json();
    assert_eq!(v["kind"], "PodList");
    assert_eq!(v["apiVersion"], "v1");
    assert_eq!(rv_of(&v), cluster.resource_version());
    assert_eq!(names(&v), ["db-1", "pending-1", "web-1", "web-2"]);
    for (q, want) in [
        (
            "labelSelector=app%3Dweb",
            vec!["pending-1", "web-1", "web-2"],
        ),
        (
            "labelSelector=app%3D%3Dweb,tier!%3Dback",
            vec!["pending-1", "web-1"],
        ),
        ("labelSelector=tier+in+(front,back)", vec!["web-1", "web-2"]),
        ("labelSelector=app+notin+(web)", vec!["db-1"]),
        ("labelSelector=!canary,app", vec!["db-1", "web-1", "web-2"]),
        ("labelSelector=canary", vec!["pending-1"]),
        ("fieldSelector=metadata.name%3Dweb-2", vec!["web-2"]),
        ("fieldSelector=status.phase%3DPending", vec!["pending-1"]),
        (
            "fieldSelector=status.phase!%3DPending,spec.nodeName%3Dpod-introspect-node",
            vec!["db-1", "web-1", "web-2"],
        ),
        (
            "fieldSelector=spec.serviceAccountName%3Ddefault&labelSelector=tier%3Dfront",
            vec!["web-1"],
        ),
        (
            "fieldSelector=spec.hostNetwork%3Dfalse,spec.restartPolicy%3DAlways",
            vec!["db-1", "pending-1", "web-1", "web-2"],
        ),
    ] {
        assert_eq!(names(&list(q).await.json()), want, "{q}");
    }
    // All namespaces, with a field selector on the namespace.
    let v = c
        .get("/api/v1/pods?fieldSelector=metadata.namespace%3Dt")
        .await
        .json();
    assert_eq!(names(&v), ["web-3"]);
    // Errors.
    let r = list("fieldSelector=spec.foo%3Dx").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["message"], "field label not supported: spec.foo");
    assert_eq!(r.json()["reason"], "BadRequest");
    let r = list("labelSelector=app+in+web").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.json()["message"]
            .as_str()
            .unwrap()
            .starts_with("unable to parse requirement"),
        "{}",
        r.json()
    );
    cluster.shutdown().await;
}

#[tokio::test]
async fn pagination_and_expired_continue() {
    let cluster = start_default().await;
    for i in 1..=5 {
        cluster
            .create_pod(pod("pg", &format!("p{i}"), &[]))
            .unwrap();
    }
    let c = Client::admin(&cluster);
    let first = c.get("/api/v1/namespaces/pg/pods?limit=2").await.json();
    assert_eq!(names(&first), ["p1", "p2"]);
    assert_eq!(first["metadata"]["remainingItemCount"], 3);
    let list_rv = rv_of(&first);
    // Changes after the first page do not show up in later pages (consistent snapshot).
    cluster.delete_pod("pg", "p4").unwrap();
    cluster.create_pod(pod("pg", "p6", &[])).unwrap();
    let token = first["metadata"]["continue"].as_str().unwrap().to_owned();
    let second = c
        .get(&format!(
            "/api/v1/namespaces/pg/pods?limit=2&continue={token}"
        ))
        .await
        .json();
    assert_eq!(names(&second), ["p3", "p4"]);
    assert_eq!(rv_of(&second), list_rv);
    assert_eq!(second["metadata"]["remainingItemCount"], 1);
    let token2 = second["metadata"]["continue"].as_str().unwrap().to_owned();
    let third = c
        .get(&format!(
            "/api/v1/namespaces/pg/pods?limit=2&continue={token2}"
        ))
        .await
        .json();
    assert_eq!(names(&third), ["p5"]);
    assert!(third["metadata"].get("continue").is_none());
    // A fresh list sees the changes.
    assert_eq!(
        names(&c.get("/api/v1/namespaces/pg/pods").await.json()),
        ["p1", "p2", "p3", "p5", "p6"]
    );
    // After compaction the old token is too old.
    cluster.compact();
    let r = c
        .get(&format!(
            "/api/v1/namespaces/pg/pods?limit=2&continue={token2}"
        ))
        .await;
    assert_eq!(r.status, StatusCode::GONE);
    let v = r.json();
    assert_eq!(v["reason"], "Expired");
    assert_eq!(v["code"], 410);
    assert_eq!(v["message"], CONTINUE_EXPIRED_MESSAGE);
    let r = c
        .get("/api/v1/namespaces/pg/pods?limit=2&continue=bm90LWpzb24")
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    cluster.shutdown().await;
}

#[tokio::test]
async fn get_create_update_delete_and_errors() {
    let cluster = start_default().await;
    let c = Client::admin(&cluster);
    let r = c.get("/api/v1/namespaces/default/pods/missing").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        std::str::from_utf8(&r.body).unwrap(),
        r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"pods \"missing\" not found","reason":"NotFound","details":{"name":"missing","kind":"pods"},"code":404}"#
    );
    let body = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "made", "labels": {"a": "b"}},
        "spec": {"containers": [{"name": "c", "image": "busybox:1.36"}]}});
    let r = c
        .request(
            Method::POST,
            "/api/v1/namespaces/default/pods",
            &[],
            Some(body.clone()),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let created = r.json();
    assert_eq!(created["metadata"]["namespace"], "default");
    assert!(created["metadata"]["uid"].is_string());
    assert!(created["metadata"]["creationTimestamp"].is_string());
    assert_eq!(created["spec"]["serviceAccountName"], "default");
    assert_eq!(created["status"]["phase"], "Running");
    assert!(created["status"]["podIP"].is_string());
    assert_eq!(created["status"]["hostIP"], "10.0.0.10");
    assert!(
        created["status"]["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["type"] == "Ready" && c["status"] == "True")
    );
    let r = c
        .request(
            Method::POST,
            "/api/v1/namespaces/default/pods",
            &[],
            Some(body),
        )
        .await;
    assert_eq!(
        (r.status, r.json()["reason"].clone()),
        (StatusCode::CONFLICT, Value::from("AlreadyExists"))
    );
    assert_eq!(r.json()["message"], "pods \"made\" already exists");
    let got = c.get("/api/v1/namespaces/default/pods/made").await.json();
    assert_eq!(got, created);
    // Update with the current RV, then a stale one.
    let mut changed = got.clone();
    changed["metadata"]["labels"]["a"] = json!("c");
    let r = c
        .request(
            Method::PUT,
            "/api/v1/namespaces/default/pods/made",
            &[],
            Some(changed.clone()),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(rv_of(&r.json()) > rv_of(&got));
    let r = c
        .request(
            Method::PUT,
            "/api/v1/namespaces/default/pods/made",
            &[],
            Some(changed),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.json()["reason"], "Conflict");
    assert_eq!(
        r.json()["message"],
        "Operation cannot be fulfilled on pods \"made\": the object has been modified; please apply your changes to the latest version and try again"
    );
    let r = c
        .request(
            Method::PATCH,
            "/api/v1/namespaces/default/pods/made",
            &[],
            None,
        )
        .await;
    // A PATCH without a patch Content-Type (patch.go: 415).
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(r.json()["reason"], "UnsupportedMediaType");
    let r = c
        .request(
            Method::DELETE,
            "/api/v1/namespaces/default/pods/made",
            &[],
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["metadata"]["name"], "made");
    assert_eq!(
        c.get("/api/v1/namespaces/default/pods/made").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        c.get("/api/v1/namespaces/default/widgets").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(c.get("/nope").await.status, StatusCode::NOT_FOUND);
    // Rust API errors carry the same Status.
    let err = cluster.delete_pod("default", "made").unwrap_err();
    assert_eq!(err.code(), Some(404));
    assert_eq!(err.to_string(), "pods \"made\" not found");
    cluster.shutdown().await;
}

#[tokio::test]
async fn discovery_documents() {
    let cluster = start_default().await;
    let c = Client::admin(&cluster);
    let v = c.get("/api").await.json();
    assert_eq!(v["kind"], "APIVersions");
    assert_eq!(v["versions"], json!(["v1"]));
    let v = c.get("/apis").await.json();
    assert_eq!(v["kind"], "APIGroupList");
    let v = c.get("/api/v1").await.json();
    assert_eq!(v["kind"], "APIResourceList");
    let pods = v["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "pods")
        .unwrap()
        .clone();
    assert_eq!(pods["namespaced"], true);
    assert_eq!(pods["shortNames"], json!(["po"]));
    for verb in ["create", "delete", "get", "list", "watch"] {
        assert!(
            pods["verbs"].as_array().unwrap().contains(&json!(verb)),
            "{verb}"
        );
    }
    let ns = c.get("/api/v1/namespaces").await.json();
    assert_eq!(ns["kind"], "NamespaceList");
    assert!(names(&ns).contains(&"default".to_owned()));
    assert_eq!(
        c.get("/api/v1/namespaces/kube-system").await.json()["status"]["phase"],
        "Active"
    );
    cluster.shutdown().await;
}

#[tokio::test]
async fn service_accounts_and_token_request() {
    let cluster = start_default().await;
    let c = Client::admin(&cluster);
    let r = c
        .request(
            Method::POST,
            "/api/v1/namespaces/tr/serviceaccounts",
            &[],
            Some(json!({"metadata": {"name": "bot"}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert!(r.json()["metadata"]["uid"].is_string());
    assert_eq!(
        c.get("/api/v1/namespaces/tr/serviceaccounts/bot")
            .await
            .json()["metadata"]["name"],
        "bot"
    );
    let list = c.get("/api/v1/namespaces/tr/serviceaccounts").await.json();
    assert_eq!(names(&list), ["bot", "default"]);
    let p = cluster
        .create_pod({
            let mut p = pod("tr", "runner", &[]);
            p.spec = Some(k8s_openapi::api::core::v1::PodSpec {
                service_account_name: Some("bot".into()),
                containers: vec![k8s_openapi::api::core::v1::Container {
                    name: "c".into(),
                    ..Default::default()
                }],
                ..Default::default()
            });
            p
        })
        .unwrap();
    let req = json!({"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
        "spec": {"expirationSeconds": 3607, "boundObjectRef": {"kind": "Pod", "apiVersion": "v1", "name": "runner", "uid": p.metadata.uid}}});
    let r = c
        .request(
            Method::POST,
            "/api/v1/namespaces/tr/serviceaccounts/bot/token",
            &[],
            Some(req),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    let v = r.json();
    assert_eq!(v["kind"], "TokenRequest");
    assert!(v["status"]["expirationTimestamp"].is_string());
    let token = v["status"]["token"].as_str().unwrap().to_owned();
    let claims = decode_claims(&token);
    assert_eq!(claims["sub"], "system:serviceaccount:tr:bot");
    assert_eq!(
        claims["iss"],
        "https://kubernetes.default.svc.cluster.local"
    );
    assert_eq!(
        claims["aud"],
        json!(["https://kubernetes.default.svc.cluster.local"])
    );
    assert_eq!(
        claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
        3607
    );
    assert_eq!(claims["kubernetes.io"]["pod"]["name"], "runner");
    assert_eq!(claims["kubernetes.io"]["serviceaccount"]["name"], "bot");
    // The token works and stops working when its pod is deleted.
    let bot = Client::with_token(&cluster, Some(&token));
    assert_eq!(
        bot.get("/api/v1/namespaces/tr/pods").await.status,
        StatusCode::OK
    );
    cluster.delete_pod("tr", "runner").unwrap();
    assert_eq!(
        bot.get("/api/v1/namespaces/tr/pods").await.status,
        StatusCode::UNAUTHORIZED
    );
    // Errors: too short, unknown SA, non-admin.
    let r = c
        .request(
            Method::POST,
            "/api/v1/namespaces/tr/serviceaccounts/bot/token",
            &[],
            Some(json!({"spec": {"expirationSeconds": 60}})),
        )
        .await;
    assert_eq!(r.status.as_u16(), 422);
    let r = c
        .request(
            Method::POST,
            "/api/v1/namespaces/tr/serviceaccounts/ghost/token",
            &[],
            Some(json!({"spec": {}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.json()["message"], "serviceaccounts \"ghost\" not found");
    let reader = Client::with_token(
        &cluster,
        Some(&cluster.issue_token("tr", "bot", Duration::from_secs(600))),
    );
    let r = reader
        .request(
            Method::POST,
            "/api/v1/namespaces/tr/serviceaccounts/bot/token",
            &[],
            Some(json!({"spec": {}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(
        r.json()["message"]
            .as_str()
            .unwrap()
            .contains("cannot create resource \"serviceaccounts/token\"")
    );
    cluster.shutdown().await;
}

fn decode_claims(token: &str) -> Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap()
}

#[tokio::test]
async fn state_dir_persists_ca_token_and_kubeconfig() {
    let dir = tempfile::tempdir().unwrap();
    let opts = ClusterOptions {
        state_dir: Some(dir.path().to_owned()),
        ..Default::default()
    };
    let first = start(opts.clone()).await;
    let ca = first.ca_pem();
    let admin = first.admin_token();
    let token = first.issue_token("keep", "sa", Duration::from_secs(600));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("ca.crt")).unwrap(),
        ca
    );
    let kubeconfig = std::fs::read_to_string(dir.path().join("kubeconfig")).unwrap();
    assert!(kubeconfig.contains(&first.url()));
    assert!(kubeconfig.contains("current-context: pod-introspect-dev"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for private in ["ca.key", "sa-signing.key", "kubeconfig"] {
            let mode = std::fs::metadata(dir.path().join(private))
                .unwrap()
                .permissions()
                .mode()
                & 0o777;
            assert_eq!(mode, 0o600, "{private}");
        }
    }
    first.shutdown().await;
    let second: DevCluster = start(opts).await;
    assert_eq!(second.ca_pem(), ca);
    assert_eq!(second.admin_token(), admin);
    // The new serving certificate chains to the persisted CA, and the old token still works.
    let c = Client::with_token(&second, Some(&token));
    assert_eq!(
        c.get("/api/v1/namespaces/keep/pods").await.status,
        StatusCode::OK
    );
    second.shutdown().await;
}

/// A pod-bound token (what `simulate --cluster` writes) survives a restart on the same state
/// directory: the signing key and the pod it is bound to persist, as in a real cluster.
#[tokio::test]
async fn bound_tokens_survive_a_restart_on_the_same_state() {
    let dir = tempfile::tempdir().unwrap();
    let opts = ClusterOptions {
        state_dir: Some(dir.path().to_owned()),
        ..Default::default()
    };
    let first = start(opts.clone()).await;
    let p = first.create_pod(pod("keep", "runner", &[])).unwrap();
    let req = json!({"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
        "spec": {"expirationSeconds": 3607, "boundObjectRef": {"kind": "Pod", "apiVersion": "v1", "name": "runner", "uid": p.metadata.uid}}});
    let r = Client::admin(&first)
        .request(
            Method::POST,
            "/api/v1/namespaces/keep/serviceaccounts/default/token",
            &[],
            Some(req),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let token = r.json()["status"]["token"].as_str().unwrap().to_owned();
    let rv: u64 = first
        .get_pod("keep", "runner")
        .unwrap()
        .metadata
        .resource_version
        .unwrap()
        .parse()
        .unwrap();
    first.shutdown().await;

    let second: DevCluster = start(opts).await;
    let kept = second.get_pod("keep", "runner").expect("the pod survives");
    assert_eq!(kept.metadata.uid, p.metadata.uid);
    let c = Client::with_token(&second, Some(&token));
    let r = c.get("/api/v1/namespaces/keep/pods/runner").await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    assert_eq!(r.json()["metadata"]["name"], "runner");
    // resourceVersions keep increasing across the restart (a write that changes something:
    // an unchanged object is not written again).
    let mut kept = kept;
    kept.metadata.labels = Some([("restarted".to_owned(), "yes".to_owned())].into());
    let updated = second.update_pod(kept).unwrap();
    assert!(
        updated
            .metadata
            .resource_version
            .unwrap()
            .parse::<u64>()
            .unwrap()
            > rv
    );
    second.shutdown().await;
}
