use serde_json::{Value, json};

use super::*;
use crate::resources::{RESOURCES, Storage};

/// True when every key of `want` is in `got` with a matching value (objects recursively,
/// arrays element by element and of the same length).
fn contains(got: &Value, want: &Value) -> bool {
    match (got, want) {
        (Value::Object(g), Value::Object(w)) => w
            .iter()
            .all(|(k, wv)| g.get(k).is_some_and(|gv| contains(gv, wv))),
        (Value::Array(g), Value::Array(w)) => {
            g.len() == w.len() && g.iter().zip(w).all(|(g, w)| contains(g, w))
        }
        _ => got == want,
    }
}

fn refs(value: &Value) -> Vec<String> {
    let mut out = Vec::new();
    collect_refs(value, "", &mut out);
    out
}

fn property<'a>(defs: &'a Map<String, Value>, def: &str, prop: &str) -> &'a Value {
    &defs[def]["properties"][prop]
}

#[test]
fn patch_extensions_land_where_kubectl_looks() {
    let defs = definitions();
    let cases = [
        ("io.k8s.api.core.v1.PodSpec", "containers", "merge", "name"),
        (
            "io.k8s.api.core.v1.PodSpec",
            "volumes",
            "merge,retainKeys",
            "name",
        ),
        ("io.k8s.api.core.v1.Container", "env", "merge", "name"),
        (
            "io.k8s.api.core.v1.Container",
            "ports",
            "merge",
            "containerPort",
        ),
        (
            "io.k8s.api.core.v1.Container",
            "volumeMounts",
            "merge",
            "mountPath",
        ),
        (
            "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
            "ownerReferences",
            "merge",
            "uid",
        ),
    ];
    for (def, prop, strategy, key) in cases {
        let p = property(defs, def, prop);
        assert_eq!(p["x-kubernetes-patch-strategy"], strategy, "{def}.{prop}");
        assert_eq!(p["x-kubernetes-patch-merge-key"], key, "{def}.{prop}");
        assert_eq!(p["x-kubernetes-list-type"], "map", "{def}.{prop}");
    }
    assert_eq!(
        property(defs, "io.k8s.api.core.v1.Container", "ports")["x-kubernetes-list-map-keys"],
        json!(["containerPort", "protocol"])
    );
    let finalizers = property(
        defs,
        "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
        "finalizers",
    );
    assert_eq!(finalizers["x-kubernetes-patch-strategy"], "merge");
    assert_eq!(finalizers["x-kubernetes-list-type"], "set");
    assert!(finalizers.get("x-kubernetes-patch-merge-key").is_none());
    let args = property(defs, "io.k8s.api.core.v1.Container", "args");
    assert_eq!(args["x-kubernetes-list-type"], "atomic");
    assert!(args.get("x-kubernetes-patch-strategy").is_none());
    // Deployment's pod template reaches the same PodSpec definition.
    assert_eq!(
        property(defs, "io.k8s.api.core.v1.PodTemplateSpec", "spec")["allOf"][0]["$ref"],
        "#/components/schemas/io.k8s.api.core.v1.PodSpec"
    );
}

#[test]
fn every_extension_row_names_a_generated_property() {
    let defs = definitions();
    for f in extensions::FIELDS {
        assert!(
            defs.get(f.definition)
                .and_then(|d| d["properties"].get(f.property))
                .is_some(),
            "{}.{}",
            f.definition,
            f.property
        );
    }
}

#[test]
fn every_resource_kind_has_its_gvk() {
    let defs = definitions();
    for r in RESOURCES {
        let name = (r.schema_name)();
        assert_eq!(
            defs[name.as_ref()]["x-kubernetes-group-version-kind"],
            json!([{"group": r.group, "kind": r.kind, "version": r.version}]),
            "{name}"
        );
        assert!(
            defs[name.as_ref()]["required"]
                .as_array()
                .is_none_or(|req| !req.contains(&json!("metadata"))),
            "{name} requires metadata"
        );
        if r.storage == Storage::Stored {
            let list = &defs[format!("{name}List").as_str()];
            assert_eq!(
                list["x-kubernetes-group-version-kind"],
                json!([{"group": r.group, "kind": format!("{}List", r.kind), "version": r.version}])
            );
            assert_eq!(
                list["properties"]["items"]["items"]["$ref"],
                format!("#/components/schemas/{name}")
            );
            assert_eq!(
                list["properties"]["metadata"]["allOf"][0]["$ref"],
                "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta"
            );
        }
    }
    assert_eq!(
        defs["io.k8s.api.autoscaling.v1.Scale"]["x-kubernetes-group-version-kind"],
        json!([{"group": "autoscaling", "kind": "Scale", "version": "v1"}])
    );
    assert_eq!(
        defs["io.k8s.apimachinery.pkg.apis.meta.v1.Status"]["x-kubernetes-group-version-kind"],
        json!([{"group": "", "kind": "Status", "version": "v1"}])
    );
    let delete = defs["io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions"]
        ["x-kubernetes-group-version-kind"]
        .as_array()
        .unwrap();
    assert!(delete.contains(&json!({"group": "apps", "kind": "DeleteOptions", "version": "v1"})));
    assert!(delete.contains(&json!({"group": "", "kind": "DeleteOptions", "version": "v1"})));
}

#[test]
fn v3_root_lists_every_group_version_with_its_hash() {
    let root = v3_root().value();
    let paths = root["paths"].as_object().unwrap();
    let keys: Vec<&str> = paths.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "api/v1",
            "apis/apps/v1",
            "apis/authorization.k8s.io/v1",
            "apis/coordination.k8s.io/v1",
            "apis/discovery.k8s.io/v1",
            "apis/events.k8s.io/v1",
            "apis/rbac.authorization.k8s.io/v1",
        ]
    );
    for (key, entry) in paths {
        let doc = v3_group_version(key).unwrap();
        assert_eq!(doc.hash().len(), 128);
        assert!(
            doc.hash()
                .chars()
                .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
        );
        assert_eq!(
            entry["serverRelativeURL"],
            format!("/openapi/v3/{key}?hash={}", doc.hash())
        );
        assert_eq!(doc.server_relative_url(), entry["serverRelativeURL"]);
        assert_eq!(doc.etag(), format!("\"{}\"", doc.hash()));
        let parsed: Value = serde_json::from_slice(doc.json()).unwrap();
        assert_eq!(&parsed, doc.value());
    }
    assert!(v3_group_version("/apis/apps/v1").is_some());
    assert!(v3_group_version("apis/batch/v1").is_none());
    assert!(v3_group_version("").is_none());
}

#[test]
fn hash_is_upper_hex_sha512() {
    // SHA-512("abc"), FIPS 180-2 appendix C.1.
    assert_eq!(
        hash(b"abc"),
        "DDAF35A193617ABACC417349AE20413112E6FA4E89A97EA20A9EEEE64B55D39A\
         2192992A274FC1A836BA3C23A3FEEBBD454D4423643CE80E2A9AC94FA54CA49F"
    );
}

#[test]
fn refs_resolve_inside_each_document() {
    for (key, doc) in &V3_DOCS.groups {
        let v = doc.value();
        let schemas = v["components"]["schemas"].as_object().unwrap();
        let all = refs(v);
        assert!(!all.is_empty(), "{key}");
        for r in all {
            let name = r
                .strip_prefix("#/components/schemas/")
                .unwrap_or_else(|| panic!("{key}: {r}"));
            assert!(schemas.contains_key(name), "{key}: {r} dangles");
        }
    }
    let apps = v3_group_version("apis/apps/v1").unwrap().value();
    let apps_schemas = apps["components"]["schemas"].as_object().unwrap();
    assert!(apps_schemas.contains_key("io.k8s.api.core.v1.PodSpec"));
    assert!(apps_schemas.contains_key("io.k8s.api.autoscaling.v1.Scale"));
    assert!(!apps_schemas.contains_key("io.k8s.api.core.v1.Pod"));
    let rbac = v3_group_version("apis/rbac.authorization.k8s.io/v1")
        .unwrap()
        .value();
    assert!(
        !rbac["components"]["schemas"]
            .as_object()
            .unwrap()
            .contains_key("io.k8s.api.core.v1.PodSpec")
    );

    let v2 = v2().value();
    let defs = v2["definitions"].as_object().unwrap();
    for r in refs(v2) {
        let name = r
            .strip_prefix("#/definitions/")
            .unwrap_or_else(|| panic!("{r}"));
        assert!(defs.contains_key(name), "v2: {r} dangles");
    }
}

/// What kubectl's `QueryParamVerifierV3` (`k8s.io/cli-runtime/pkg/resource/
/// query_param_verifier_v3.go` `supportsQueryParamV3`) does: the first PATCH operation with
/// the kind's group-version-kind decides whether `param` is a query parameter.
fn supports_query_param(doc: &Value, gvk: &Value, param: &str) -> bool {
    for path in doc["paths"].as_object().unwrap().values() {
        let Some(op) = path.get("patch") else {
            continue;
        };
        if op["x-kubernetes-group-version-kind"] != *gvk {
            continue;
        }
        return op["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == param && p["in"] == "query");
    }
    false
}

#[test]
fn kubectl_finds_field_validation_for_every_patchable_kind() {
    for r in RESOURCES.iter().filter(|r| r.serves("patch")) {
        let key = if r.group.is_empty() {
            format!("api/{}", r.version)
        } else {
            format!("apis/{}/{}", r.group, r.version)
        };
        let doc = v3_group_version(&key).unwrap().value();
        let gvk = json!({"group": r.group, "kind": r.kind, "version": r.version});
        for param in ["dryRun", "fieldManager", "fieldValidation"] {
            assert!(supports_query_param(doc, &gvk, param), "{} {param}", r.kind);
        }
    }
}

/// An excerpt of `api/openapi-spec/v3/api__v1_openapi.json` (kubernetes v1.33), written by
/// hand from the published document: the ConfigMap schema and its item path (descriptions of
/// schema properties and upstream's `default: {}` markers left out; k8s-openapi drops
/// defaults).
const UPSTREAM_CONFIGMAP_EXCERPT: &str = r##"{
  "components": {"schemas": {
    "io.k8s.api.core.v1.ConfigMap": {
      "description": "ConfigMap holds configuration data for pods to consume.",
      "properties": {
        "apiVersion": {"type": "string"},
        "binaryData": {"additionalProperties": {"format": "byte", "type": "string"}, "type": "object"},
        "data": {"additionalProperties": {"type": "string"}, "type": "object"},
        "immutable": {"type": "boolean"},
        "kind": {"type": "string"},
        "metadata": {
          "allOf": [{"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}],
          "description": "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"
        }
      },
      "type": "object",
      "x-kubernetes-group-version-kind": [{"group": "", "kind": "ConfigMap", "version": "v1"}]
    }
  }},
  "paths": {
    "/api/v1/namespaces/{namespace}/configmaps/{name}": {
      "parameters": [
        {"description": "name of the ConfigMap", "in": "path", "name": "name", "required": true,
         "schema": {"type": "string", "uniqueItems": true}},
        {"description": "object name and auth scope, such as for teams and projects", "in": "path",
         "name": "namespace", "required": true, "schema": {"type": "string", "uniqueItems": true}},
        {"in": "query", "name": "pretty", "schema": {"type": "string", "uniqueItems": true}}
      ],
      "get": {
        "description": "read the specified ConfigMap",
        "operationId": "readCoreV1NamespacedConfigMap",
        "responses": {
          "200": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/io.k8s.api.core.v1.ConfigMap"}}}, "description": "OK"},
          "401": {"description": "Unauthorized"}
        },
        "tags": ["core_v1"],
        "x-kubernetes-action": "get",
        "x-kubernetes-group-version-kind": {"group": "", "kind": "ConfigMap", "version": "v1"}
      },
      "patch": {
        "description": "partially update the specified ConfigMap",
        "operationId": "patchCoreV1NamespacedConfigMap",
        "parameters": [
          {"in": "query", "name": "dryRun", "schema": {"type": "string", "uniqueItems": true}},
          {"in": "query", "name": "fieldManager", "schema": {"type": "string", "uniqueItems": true}},
          {"in": "query", "name": "fieldValidation", "schema": {"type": "string", "uniqueItems": true}},
          {"description": "Force is going to \"force\" Apply requests. It means user will re-acquire conflicting fields owned by other people. Force flag must be unset for non-apply patch requests.",
           "in": "query", "name": "force", "schema": {"type": "boolean", "uniqueItems": true}}
        ],
        "requestBody": {
          "content": {
            "application/apply-patch+yaml": {"schema": {"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Patch"}},
            "application/json-patch+json": {"schema": {"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Patch"}},
            "application/merge-patch+json": {"schema": {"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Patch"}},
            "application/strategic-merge-patch+json": {"schema": {"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Patch"}}
          },
          "required": true
        },
        "responses": {
          "200": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/io.k8s.api.core.v1.ConfigMap"}}}, "description": "OK"},
          "201": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/io.k8s.api.core.v1.ConfigMap"}}}, "description": "Created"},
          "401": {"description": "Unauthorized"}
        },
        "tags": ["core_v1"],
        "x-kubernetes-action": "patch",
        "x-kubernetes-group-version-kind": {"group": "", "kind": "ConfigMap", "version": "v1"}
      }
    },
    "/api/v1/namespaces/{namespace}/configmaps": {
      "get": {
        "operationId": "listCoreV1NamespacedConfigMap",
        "x-kubernetes-action": "list"
      },
      "post": {
        "operationId": "createCoreV1NamespacedConfigMap",
        "x-kubernetes-action": "post"
      },
      "delete": {
        "operationId": "deleteCoreV1CollectionNamespacedConfigMap",
        "x-kubernetes-action": "deletecollection"
      }
    },
    "/api/v1/configmaps": {
      "get": {
        "operationId": "listCoreV1ConfigMapForAllNamespaces",
        "responses": {"200": {"content": {"application/json;stream=watch": {"schema": {"$ref": "#/components/schemas/io.k8s.api.core.v1.ConfigMapList"}}}, "description": "OK"}}
      }
    }
  },
  "openapi": "3.0.0"
}"##;

#[test]
fn configmap_matches_the_upstream_document() {
    let want: Value = serde_json::from_str(UPSTREAM_CONFIGMAP_EXCERPT).unwrap();
    let got = v3_group_version("api/v1").unwrap().value();
    let schema = &want["components"]["schemas"]["io.k8s.api.core.v1.ConfigMap"];
    let got_schema = &got["components"]["schemas"]["io.k8s.api.core.v1.ConfigMap"];
    assert!(contains(got_schema, schema), "{got_schema:#}");
    assert!(got_schema.get("required").is_none());
    for (path, item) in want["paths"].as_object().unwrap() {
        assert!(
            contains(&got["paths"][path], item),
            "{path}: {:#}",
            got["paths"][path]
        );
    }
    assert_eq!(got["openapi"], "3.0.0");
    // The same operations in another group, cluster-scoped and with a subresource.
    let apps = v3_group_version("apis/apps/v1").unwrap().value();
    let scale =
        &apps["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale"]["patch"];
    assert_eq!(scale["operationId"], "patchAppsV1NamespacedDeploymentScale");
    assert_eq!(
        scale["x-kubernetes-group-version-kind"],
        json!({"group": "autoscaling", "kind": "Scale", "version": "v1"})
    );
    let rbac = v3_group_version("apis/rbac.authorization.k8s.io/v1")
        .unwrap()
        .value();
    assert_eq!(
        rbac["paths"]["/apis/rbac.authorization.k8s.io/v1/clusterroles/{name}"]["put"]["operationId"],
        "replaceRbacAuthorizationV1ClusterRole"
    );
    assert_eq!(
        got["paths"]["/api/v1/namespaces/{namespace}/serviceaccounts/{name}/token"]["post"]["operationId"],
        "createCoreV1NamespacedServiceAccountToken"
    );
}

#[test]
fn v2_is_swagger_with_definitions_refs() {
    let v = v2().value();
    assert_eq!(v["swagger"], "2.0");
    let defs = v["definitions"].as_object().unwrap();
    let meta = &defs["io.k8s.api.core.v1.ConfigMap"]["properties"]["metadata"];
    assert_eq!(
        meta["$ref"],
        "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
    );
    assert!(meta.get("allOf").is_none());
    let containers = &defs["io.k8s.api.core.v1.PodSpec"]["properties"]["containers"];
    assert_eq!(containers["x-kubernetes-patch-merge-key"], "name");
    assert_eq!(
        containers["items"]["$ref"],
        "#/definitions/io.k8s.api.core.v1.Container"
    );
    let patch = &v["paths"]["/api/v1/namespaces/{namespace}/pods/{name}"]["patch"];
    assert_eq!(
        patch["parameters"][0],
        json!({"in": "body", "name": "body", "required": true,
        "schema": {"$ref": "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.Patch"}})
    );
    assert_eq!(
        patch["consumes"][3],
        "application/strategic-merge-patch+json"
    );
    assert_eq!(
        defs["io.k8s.api.apps.v1.Deployment"]["x-kubernetes-group-version-kind"],
        json!([{"group": "apps", "kind": "Deployment", "version": "v1"}])
    );
}

#[test]
fn accept_negotiation() {
    assert!(accepts_json(None));
    assert!(accepts_json(Some("")));
    assert!(accepts_json(Some("application/json")));
    assert!(accepts_json(Some("application/json, */*")));
    assert!(accepts_json(Some(
        "application/com.github.proto-openapi.spec.v2@v1.0+protobuf, application/json;q=0.5"
    )));
    assert!(accepts_json(Some("*/*")));
    assert!(!accepts_json(Some(
        "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"
    )));
    assert!(!accepts_json(Some("application/json;q=0")));
    assert!(!accepts_json(Some("text/html")));
}

#[test]
fn if_none_match() {
    let doc = v3_root();
    assert!(doc.not_modified(&doc.etag()));
    assert!(doc.not_modified(&format!("W/{}, \"x\"", doc.etag())));
    assert!(doc.not_modified("*"));
    assert!(!doc.not_modified("\"0\""));
    assert_eq!(doc.server_relative_url(), "/openapi/v3");
}
