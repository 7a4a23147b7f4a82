//! The guards kube-apiserver keeps and an adversarial pass found missing: RBAC escalation
//! prevention, dry runs that store nothing, no cluster-scoped object under `namespaces/NS/`, no
//! new finalizers while deleting, the JSON patch operation limit, an immutable cluster IP.

use std::time::Duration;

use http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::*;

const MERGE: (&str, &str) = ("content-type", "application/merge-patch+json");
const JSON_PATCH: (&str, &str) = ("content-type", "application/json-patch+json");

async fn post(c: &Client, path: &str, body: Value) -> Reply {
    c.request(Method::POST, path, &[], Some(body)).await
}

/// A ServiceAccount `a:sa` bound (RoleBinding in `a`) to a Role in `a` with `rules`.
async fn grant(c: &Client, rules: Value) {
    let r = post(
        c,
        "/apis/rbac.authorization.k8s.io/v1/namespaces/a/roles",
        json!({"metadata": {"name": "r"}, "rules": rules}),
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    let r = post(
        c,
        "/apis/rbac.authorization.k8s.io/v1/namespaces/a/rolebindings",
        json!({"metadata": {"name": "rb"},
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "r"},
               "subjects": [{"kind": "ServiceAccount", "name": "sa", "namespace": "a"}]}),
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
}

/// RBAC escalation prevention (`pkg/registry/rbac/rolebinding/policybased/storage.go`
/// `Create`: `BindingAuthorized` or `ConfirmNoEscalation`, else 403): a ServiceAccount that may
/// create RoleBindings but holds neither the role's permissions nor `bind` cannot bind
/// `cluster-admin` to itself.
#[tokio::test]
async fn rolebinding_to_cluster_admin_is_refused_without_bind() {
    let cluster = start_default().await;
    let c = Client::admin(&cluster);
    post(&c, "/api/v1/namespaces", json!({"metadata": {"name": "a"}})).await;
    grant(
        &c,
        json!([{"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["rolebindings"], "verbs": ["create"]}]),
    )
    .await;
    let sa = Client::with_token(
        &cluster,
        Some(&cluster.issue_token("a", "sa", Duration::from_secs(600))),
    );
    let r = post(
        &sa,
        "/apis/rbac.authorization.k8s.io/v1/namespaces/a/rolebindings",
        json!({"metadata": {"name": "mine"},
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
               "subjects": [{"kind": "ServiceAccount", "name": "sa", "namespace": "a"}]}),
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    let msg = r.json()["message"].as_str().unwrap_or("").to_owned();
    assert!(
        msg.starts_with("rolebindings.rbac.authorization.k8s.io \"mine\" is forbidden: user \"system:serviceaccount:a:sa\""),
        "{msg}"
    );
    assert!(
        msg.contains("is attempting to grant RBAC permissions not currently held"),
        "{msg}"
    );
    // And nothing was gained.
    assert_eq!(
        sa.get("/api/v1/namespaces/a/secrets").await.status,
        StatusCode::FORBIDDEN
    );
    cluster.shutdown().await;
}

/// Creating a Role with rules the user does not hold is an escalation too
/// (`pkg/registry/rbac/role/policybased/storage.go`: `ConfirmNoEscalation` unless `escalate`).
#[tokio::test]
async fn role_with_permissions_not_held_is_refused_without_escalate() {
    let cluster = start_default().await;
    let c = Client::admin(&cluster);
    post(&c, "/api/v1/namespaces", json!({"metadata": {"name": "a"}})).await;
    grant(
        &c,
        json!([{"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["roles"], "verbs": ["create", "update", "patch"]}]),
    )
    .await;
    let sa = Client::with_token(
        &cluster,
        Some(&cluster.issue_token("a", "sa", Duration::from_secs(600))),
    );
    let r = post(
        &sa,
        "/apis/rbac.authorization.k8s.io/v1/namespaces/a/roles",
        json!({"metadata": {"name": "all"},
               "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list"]}]}),
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    // Widening its own role by a patch is refused the same way.
    let r = sa
        .request(
            Method::PATCH,
            "/apis/rbac.authorization.k8s.io/v1/namespaces/a/roles/r",
            &[JSON_PATCH],
            Some(json!([{"op": "add", "path": "/rules/-", "value":
                {"apiGroups": [""], "resources": ["secrets"], "verbs": ["list"]}}])),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    assert_eq!(
        sa.get("/api/v1/namespaces/a/secrets").await.status,
        StatusCode::FORBIDDEN
    );
    cluster.shutdown().await;
}

/// `DELETE /api/v1/namespaces/NS?dryRun=All` must not delete what is in NS
/// (`registry/core/namespace/storage/storage.go` Delete: dry run stores nothing, and the
/// namespace controller never sees a deletionTimestamp).
#[tokio::test]
async fn dry_run_namespace_delete_keeps_its_contents() {
    let cluster = start_default().await;
    let c = Client::admin(&cluster);
    let r = post(
        &c,
        "/api/v1/namespaces",
        json!({"metadata": {"name": "dry"}}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let r = post(
        &c,
        "/api/v1/namespaces/dry/configmaps",
        json!({"metadata": {"name": "keep"}, "data": {"k": "v"}}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let r = c
        .request(
            Method::DELETE,
            "/api/v1/namespaces/dry?dryRun=All",
            &[],
            None,
        )
        .await;
    assert!(
        r.status.is_success(),
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    assert_eq!(c.get("/api/v1/namespaces/dry").await.status, StatusCode::OK);
    assert_eq!(
        c.get("/api/v1/namespaces/dry/configmaps/keep").await.status,
        StatusCode::OK,
        "a dry-run namespace delete deleted its contents"
    );
    cluster.shutdown().await;
}

/// `/api/v1/namespaces/a/namespaces/b` is no route of kube-apiserver (namespaces are
/// cluster-scoped; only `/api/v1/namespaces/{name}` is installed): 404 after authorization.
/// Here it was authorized against namespace `a` and then acted on namespace `b`.
#[tokio::test]
async fn namespaced_path_to_another_namespace_is_not_found() {
    let cluster = start_default().await;
    let c = Client::admin(&cluster);
    for ns in ["a", "b"] {
        post(&c, "/api/v1/namespaces", json!({"metadata": {"name": ns}})).await;
    }
    grant(
        &c,
        json!([{"apiGroups": [""], "resources": ["namespaces"], "verbs": ["*"]}]),
    )
    .await;
    let sa = Client::with_token(
        &cluster,
        Some(&cluster.issue_token("a", "sa", Duration::from_secs(600))),
    );
    let r = sa.get("/api/v1/namespaces/a/namespaces/b").await;
    assert_eq!(
        r.status,
        StatusCode::NOT_FOUND,
        "get: {}",
        String::from_utf8_lossy(&r.body)
    );
    let r = sa
        .request(
            Method::DELETE,
            "/api/v1/namespaces/a/namespaces/b",
            &[],
            None,
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::NOT_FOUND,
        "delete: {}",
        String::from_utf8_lossy(&r.body)
    );
    let r = c.get("/api/v1/namespaces/b").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.json()["metadata"]["deletionTimestamp"].is_null(),
        "namespace b deleted"
    );
    cluster.shutdown().await;
}

/// `ValidateObjectMetaUpdate`: "no new finalizers can be added if the object is being
/// deleted" (`staging/src/k8s.io/apimachinery/pkg/api/validation/objectmeta.go`).
#[tokio::test]
async fn no_new_finalizers_on_an_object_being_deleted() {
    let cluster = start_default().await;
    let c = Client::admin(&cluster);
    let base = "/api/v1/namespaces/default/configmaps";
    let r = post(
        &c,
        base,
        json!({"metadata": {"name": "f", "finalizers": ["example.com/a"]}}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let r = c
        .request(Method::DELETE, &format!("{base}/f"), &[], None)
        .await;
    assert!(r.status.is_success());
    let r = c
        .request(
            Method::PATCH,
            &format!("{base}/f"),
            &[MERGE],
            Some(json!({"metadata": {"finalizers": ["example.com/a", "example.com/b"]}})),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    assert_eq!(
        r.json()["message"],
        "ConfigMap \"f\" is invalid: metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{\"example.com/b\"}"
    );
    cluster.shutdown().await;
}

/// `maxJSONPatchOperations` (`endpoints/handlers/patch.go`): more than 10000 operations is
/// 413 "The allowed maximum operations in a JSON patch is 10000, got N".
#[tokio::test]
async fn json_patch_with_too_many_operations_is_413() {
    let cluster = start_default().await;
    let c = Client::admin(&cluster);
    let base = "/api/v1/namespaces/default/configmaps";
    post(&c, base, json!({"metadata": {"name": "p"}})).await;
    let ops: Vec<Value> = (0..10001)
        .map(|_| json!({"op": "test", "path": "/metadata/name", "value": "p"}))
        .collect();
    let r = c
        .request(
            Method::PATCH,
            &format!("{base}/p"),
            &[JSON_PATCH],
            Some(Value::Array(ops)),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    assert_eq!(
        r.json()["message"],
        "Request entity too large: The allowed maximum operations in a JSON patch is 10000, got 10001"
    );
    cluster.shutdown().await;
}

/// A Service's `spec.clusterIP` may not change once set (`pkg/apis/core/validation`
/// `ValidateServiceUpdate`): 422.
#[tokio::test]
async fn service_cluster_ip_is_immutable() {
    let cluster = start_default().await;
    let c = Client::admin(&cluster);
    let base = "/api/v1/namespaces/default/services";
    let r = post(
        &c,
        base,
        json!({"metadata": {"name": "s"}, "spec": {"ports": [{"port": 80}]}}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let ip = r.json()["spec"]["clusterIP"].as_str().unwrap().to_owned();
    let r = c
        .request(
            Method::PATCH,
            &format!("{base}/s"),
            &[MERGE],
            Some(json!({"spec": {"clusterIP": "10.96.200.200", "clusterIPs": ["10.96.200.200"]}})),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    assert_eq!(
        r.json()["message"],
        "Service \"s\" is invalid: spec.clusterIPs[0]: Invalid value: [\"10.96.200.200\"]: may not change once set"
    );
    assert_eq!(
        c.get(&format!("{base}/s")).await.json()["spec"]["clusterIP"],
        json!(ip)
    );
    cluster.shutdown().await;
}
