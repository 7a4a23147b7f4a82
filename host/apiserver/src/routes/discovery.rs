//! Discovery: `/version`, `/api`, `/api/v1` and the OpenAPI v3 documents kubectl reads.

use serde::Serialize;
use serde_json::{Value, json};

use crate::server::Shared;

/// `/version` (`staging/src/k8s.io/apimachinery/pkg/version/types.go` `Info`), fields in the
/// Go struct's order.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct VersionInfo {
    major: &'static str,
    minor: &'static str,
    emulation_major: &'static str,
    emulation_minor: &'static str,
    min_compatibility_major: &'static str,
    min_compatibility_minor: &'static str,
    git_version: &'static str,
    git_commit: &'static str,
    git_tree_state: &'static str,
    build_date: &'static str,
    go_version: &'static str,
    compiler: &'static str,
    platform: &'static str,
}

pub(super) fn version_info() -> VersionInfo {
    VersionInfo {
        major: "1",
        minor: "33",
        emulation_major: "1",
        emulation_minor: "33",
        min_compatibility_major: "1",
        min_compatibility_minor: "32",
        git_version: "v1.33.0-pod-introspect",
        git_commit: "0000000000000000000000000000000000000000",
        git_tree_state: "clean",
        build_date: "2025-04-23T00:00:00Z",
        go_version: "go1.24.2",
        compiler: "gc",
        platform: "linux/amd64",
    }
}

pub(super) fn api_versions(shared: &Shared) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": shared.local_addr.to_string()}],
    })
}

/// The `/api/v1` APIResourceList: what this server serves.
pub(super) fn api_resources() -> Value {
    json!({
        "kind": "APIResourceList",
        "groupVersion": "v1",
        "resources": [
            {"name": "namespaces", "singularName": "namespace", "namespaced": false, "kind": "Namespace",
             "verbs": ["get", "list"], "shortNames": ["ns"]},
            {"name": "pods", "singularName": "pod", "namespaced": true, "kind": "Pod",
             "verbs": ["create", "delete", "get", "list", "update", "watch"], "shortNames": ["po"], "categories": ["all"]},
            {"name": "serviceaccounts", "singularName": "serviceaccount", "namespaced": true, "kind": "ServiceAccount",
             "verbs": ["create", "get", "list"], "shortNames": ["sa"]},
            {"name": "serviceaccounts/token", "singularName": "", "namespaced": true, "group": "authentication.k8s.io",
             "version": "v1", "kind": "TokenRequest", "verbs": ["create"]},
        ],
    })
}

/// The OpenAPI v3 discovery root (`staging/src/k8s.io/kube-openapi/pkg/handler3`): only the
/// core group version.
pub(super) fn openapi_v3_root() -> Value {
    json!({"paths": {"api/v1": {"serverRelativeURL": format!("/openapi/v3/api/v1?hash={OPENAPI_HASH}")}}})
}

pub(super) const OPENAPI_HASH: &str =
    "0D9A1AE4A6F1D1B7A2C3D4E5F60718293A4B5C6D7E8F90112233445566778899";

/// A minimal OpenAPI v3 document for `api/v1`: no schemas, only the PATCH operations with their
/// `x-kubernetes-group-version-kind` and the `fieldValidation` query parameter. kubectl's
/// `QueryParamVerifierV3` (`k8s.io/cli-runtime/pkg/resource/query_param_verifier_v3.go`) reads
/// exactly that to decide that the server validates fields, so `kubectl create -f` needs no
/// client-side schema (and no `/openapi/v2`, which stays a 404).
pub(super) fn openapi_v3_core() -> Value {
    let op = |path: &str, kind: &str| {
        (
            path.to_owned(),
            json!({"patch": {
                "x-kubernetes-group-version-kind": {"group": "", "version": "v1", "kind": kind},
                "parameters": [
                    {"name": "dryRun", "in": "query", "schema": {"type": "string", "uniqueItems": true}},
                    {"name": "fieldManager", "in": "query", "schema": {"type": "string", "uniqueItems": true}},
                    {"name": "fieldValidation", "in": "query", "schema": {"type": "string", "uniqueItems": true}},
                ],
                "responses": {"200": {"description": "OK"}},
            }}),
        )
    };
    let paths: serde_json::Map<String, Value> = [
        op("/api/v1/namespaces/{namespace}/pods/{name}", "Pod"),
        op(
            "/api/v1/namespaces/{namespace}/serviceaccounts/{name}",
            "ServiceAccount",
        ),
        op("/api/v1/namespaces/{name}", "Namespace"),
    ]
    .into_iter()
    .collect();
    json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.33.0-pod-introspect"},
        "paths": paths,
        "components": {"schemas": {}},
    })
}
