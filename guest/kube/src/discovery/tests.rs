use super::*;

/// `/api` with the aggregated Accept, as kube-apiserver 1.33 answers (trimmed to a few
/// resources; the core group's item has no name).
const CORE: &str = r#"{
  "kind": "APIGroupDiscoveryList",
  "apiVersion": "apidiscovery.k8s.io/v2",
  "metadata": {},
  "items": [{
    "metadata": {"creationTimestamp": null},
    "versions": [{
      "version": "v1",
      "resources": [
        {"resource": "configmaps", "responseKind": {"group": "", "version": "", "kind": "ConfigMap"},
         "scope": "Namespaced", "singularResource": "configmap",
         "verbs": ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
         "shortNames": ["cm"]},
        {"resource": "events", "responseKind": {"group": "", "version": "", "kind": "Event"},
         "scope": "Namespaced", "singularResource": "event",
         "verbs": ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
         "shortNames": ["ev"]},
        {"resource": "namespaces", "responseKind": {"group": "", "version": "", "kind": "Namespace"},
         "scope": "Cluster", "singularResource": "namespace",
         "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"],
         "shortNames": ["ns"],
         "subresources": [
           {"subresource": "finalize", "responseKind": {"group": "", "version": "", "kind": "Namespace"}, "verbs": ["update"]},
           {"subresource": "status", "responseKind": {"group": "", "version": "", "kind": "Namespace"}, "verbs": ["get", "patch", "update"]}
         ]},
        {"resource": "pods", "responseKind": {"group": "", "version": "", "kind": "Pod"},
         "scope": "Namespaced", "singularResource": "pod",
         "verbs": ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
         "shortNames": ["po"], "categories": ["all"],
         "subresources": [
           {"subresource": "binding", "responseKind": {"group": "", "version": "", "kind": "Binding"}, "verbs": ["create"]},
           {"subresource": "log", "responseKind": {"group": "", "version": "", "kind": "Pod"}, "verbs": ["get"]},
           {"subresource": "status", "responseKind": {"group": "", "version": "", "kind": "Pod"}, "verbs": ["get", "patch", "update"]}
         ]}
      ],
      "freshness": "Current"
    }]
  }]
}"#;

/// `/apis` with the aggregated Accept (kube-apiserver 1.33, trimmed), plus an aggregated API
/// whose server is down (`Stale`) and a CRD group with an ambiguous name.
const APIS: &str = r#"{
  "kind": "APIGroupDiscoveryList",
  "apiVersion": "apidiscovery.k8s.io/v2",
  "metadata": {},
  "items": [
    {"metadata": {"name": "apps", "creationTimestamp": null},
     "versions": [{"version": "v1", "resources": [
       {"resource": "deployments", "responseKind": {"group": "", "version": "", "kind": "Deployment"},
        "scope": "Namespaced", "singularResource": "deployment",
        "verbs": ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
        "shortNames": ["deploy"], "categories": ["all"],
        "subresources": [
          {"subresource": "scale", "responseKind": {"group": "autoscaling", "version": "v1", "kind": "Scale"}, "verbs": ["get", "patch", "update"]},
          {"subresource": "status", "responseKind": {"group": "", "version": "", "kind": "Deployment"}, "verbs": ["get", "patch", "update"]}
        ]}
     ], "freshness": "Current"}]},
    {"metadata": {"name": "events.k8s.io", "creationTimestamp": null},
     "versions": [{"version": "v1", "resources": [
       {"resource": "events", "responseKind": {"group": "", "version": "", "kind": "Event"},
        "scope": "Namespaced", "singularResource": "event",
        "verbs": ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
        "shortNames": ["ev"]}
     ], "freshness": "Current"}]},
    {"metadata": {"name": "autoscaling", "creationTimestamp": null},
     "versions": [
       {"version": "v2", "resources": [
         {"resource": "horizontalpodautoscalers", "responseKind": {"group": "", "version": "", "kind": "HorizontalPodAutoscaler"},
          "scope": "Namespaced", "singularResource": "horizontalpodautoscaler",
          "verbs": ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
          "shortNames": ["hpa"], "categories": ["all"],
          "subresources": [{"subresource": "status", "responseKind": {"group": "", "version": "", "kind": "HorizontalPodAutoscaler"}, "verbs": ["get", "patch", "update"]}]}
       ], "freshness": "Current"},
       {"version": "v1", "resources": [
         {"resource": "horizontalpodautoscalers", "responseKind": {"group": "", "version": "", "kind": "HorizontalPodAutoscaler"},
          "scope": "Namespaced", "singularResource": "horizontalpodautoscaler",
          "verbs": ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
          "shortNames": ["hpa"], "categories": ["all"]}
       ], "freshness": "Current"}
     ]},
    {"metadata": {"name": "certificates.k8s.io", "creationTimestamp": null},
     "versions": [{"version": "v1", "resources": [
       {"resource": "certificatesigningrequests", "responseKind": {"group": "", "version": "", "kind": "CertificateSigningRequest"},
        "scope": "Cluster", "singularResource": "certificatesigningrequest",
        "verbs": ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
        "shortNames": ["csr"]}
     ], "freshness": "Current"}]},
    {"metadata": {"name": "coordination.k8s.io", "creationTimestamp": null},
     "versions": [{"version": "v1", "resources": [
       {"resource": "leases", "responseKind": {"group": "", "version": "", "kind": "Lease"},
        "scope": "Namespaced", "singularResource": "lease",
        "verbs": ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]}
     ], "freshness": "Current"}]},
    {"metadata": {"name": "metrics.k8s.io", "creationTimestamp": null},
     "versions": [{"version": "v1beta1", "freshness": "Stale"}]},
    {"metadata": {"name": "example.com", "creationTimestamp": null},
     "versions": [{"version": "v1", "resources": [
       {"resource": "foos", "responseKind": {"group": "example.com", "version": "v1", "kind": "Foo"},
        "scope": "Namespaced", "singularResource": "foo", "verbs": ["get", "list"]},
       {"resource": "foo", "responseKind": {"group": "example.com", "version": "v1", "kind": "FooThing"},
        "scope": "Namespaced", "singularResource": "foothing", "verbs": ["get", "list"]},
       {"resource": "gizmos", "responseKind": {"group": "example.com", "version": "v1", "kind": "Widget"},
        "scope": "Namespaced", "singularResource": "gizmo", "verbs": ["get", "list"]},
       {"resource": "gizmo", "responseKind": {"group": "example.com", "version": "v1", "kind": "Doohickey"},
        "scope": "Namespaced", "singularResource": "doohickey", "verbs": ["get", "list"]}
     ], "freshness": "Current"}]}
  ]
}"#;

fn all() -> Vec<ApiResource> {
    let mut r = parse_aggregated(CORE.as_bytes()).unwrap();
    r.extend(parse_aggregated(APIS.as_bytes()).unwrap());
    r
}

fn gvr_of(name: &str, resources: &[ApiResource]) -> String {
    match resolve(name, resources) {
        Ok(r) => r.gvr().to_string(),
        Err(e) => e.to_string(),
    }
}

#[test]
fn reads_aggregated_discovery_in_order() {
    let r = all();
    let names: Vec<String> = r
        .iter()
        .map(|r| format!("{}/{}/{}", r.group, r.version, r.resource))
        .collect();
    assert_eq!(
        names,
        [
            "/v1/configmaps",
            "/v1/events",
            "/v1/namespaces",
            "/v1/pods",
            "apps/v1/deployments",
            "events.k8s.io/v1/events",
            "autoscaling/v2/horizontalpodautoscalers",
            "autoscaling/v1/horizontalpodautoscalers",
            "certificates.k8s.io/v1/certificatesigningrequests",
            "coordination.k8s.io/v1/leases",
            "example.com/v1/foos",
            "example.com/v1/foo",
            "example.com/v1/gizmos",
            "example.com/v1/gizmo",
        ]
    );
    let deploy = &r[4];
    assert_eq!(
        *deploy,
        ApiResource {
            group: "apps".into(),
            version: "v1".into(),
            resource: "deployments".into(),
            kind: "Deployment".into(),
            singular: "deployment".into(),
            namespaced: true,
            verbs: [
                "create",
                "delete",
                "deletecollection",
                "get",
                "list",
                "patch",
                "update",
                "watch"
            ]
            .map(String::from)
            .to_vec(),
            short_names: vec!["deploy".into()],
            categories: vec!["all".into()],
            subresources: vec!["scale".into(), "status".into()],
        }
    );
    assert!(!r[2].namespaced);
    assert_eq!(r[2].subresources, ["finalize", "status"]);
    assert_eq!(r[3].subresources, ["binding", "log", "status"]);
    assert_eq!(r[9].kind, "Lease");
    assert!(r[9].short_names.is_empty() && r[9].subresources.is_empty());

    assert_eq!(
        parse_aggregated(b"{").unwrap_err(),
        "aggregated discovery document is not JSON: EOF while parsing an object at line 1 column 1"
    );
    assert_eq!(
        parse_aggregated(br#"{"kind":"APIGroupList","groups":[]}"#).unwrap_err(),
        "not an APIGroupDiscoveryList: kind \"APIGroupList\", no items list"
    );
}

#[test]
fn aggregated_content_types() {
    assert!(is_aggregated(
        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
    ));
    assert!(is_aggregated(
        "application/json; as=APIGroupDiscoveryList; V=\"v2\"; g=apidiscovery.k8s.io"
    ));
    assert!(!is_aggregated("application/json"));
    assert!(!is_aggregated(
        "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"
    ));
    assert!(!is_aggregated(
        "application/yaml;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
    ));
    assert_eq!(
        AGGREGATED_ACCEPT,
        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"
    );
}

#[test]
fn reads_legacy_discovery() {
    let groups = br#"{"kind":"APIGroupList","apiVersion":"v1","groups":[
      {"name":"apps","versions":[{"groupVersion":"apps/v1","version":"v1"}],
       "preferredVersion":{"groupVersion":"apps/v1","version":"v1"}},
      {"name":"autoscaling","versions":[{"groupVersion":"autoscaling/v1","version":"v1"},
        {"groupVersion":"autoscaling/v2","version":"v2"}],
       "preferredVersion":{"groupVersion":"autoscaling/v2","version":"v2"}}]}"#;
    assert_eq!(
        parse_group_list(groups).unwrap(),
        vec![
            ("apps".to_string(), vec!["v1".to_string()]),
            (
                "autoscaling".to_string(),
                vec!["v2".to_string(), "v1".to_string()]
            ),
        ]
    );
    assert_eq!(
        parse_group_list(b"[]").unwrap_err(),
        "not an APIGroupList: kind \"\", no groups list"
    );

    // `/api/v1` as kube-apiserver 1.33 answers without the aggregated Accept (trimmed).
    let core = br#"{"kind":"APIResourceList","groupVersion":"v1","resources":[
      {"name":"pods","singularName":"pod","namespaced":true,"kind":"Pod",
       "verbs":["create","delete","deletecollection","get","list","patch","update","watch"],
       "shortNames":["po"],"categories":["all"],"storageVersionHash":"xPOwRZ+Yhw8="},
      {"name":"pods/binding","singularName":"","namespaced":true,"kind":"Binding","verbs":["create"]},
      {"name":"pods/log","singularName":"","namespaced":true,"kind":"Pod","verbs":["get"]},
      {"name":"pods/status","singularName":"","namespaced":true,"kind":"Pod","verbs":["get","patch","update"]},
      {"name":"namespaces","singularName":"namespace","namespaced":false,"kind":"Namespace",
       "verbs":["create","delete","get","list","patch","update","watch"],"shortNames":["ns"]},
      {"name":"bindings","singularName":"","namespaced":true,"kind":"Binding","verbs":["create"]}]}"#;
    let r = parse_resource_list(core, "", "v1").unwrap();
    assert_eq!(r.len(), 3);
    assert_eq!(r[0].resource, "pods");
    assert_eq!(r[0].subresources, ["binding", "log", "status"]);
    assert_eq!(r[0].short_names, ["po"]);
    assert_eq!(r[0].categories, ["all"]);
    assert!(r[0].namespaced && !r[1].namespaced);
    assert_eq!((r[1].group.as_str(), r[1].version.as_str()), ("", "v1"));
    // No singular listed: the lowercase kind is the singular, as apimachinery guesses.
    assert_eq!(resolve("binding", &r).unwrap().resource, "bindings");
    // A subresource is no resource.
    assert!(resolve("pods/status", &r).is_err());
    assert!(resolve("status", &r).is_err());

    let apps =
        br#"{"kind":"APIResourceList","apiVersion":"v1","groupVersion":"apps/v1","resources":[
      {"name":"deployments","singularName":"deployment","namespaced":true,"kind":"Deployment",
       "verbs":["get","list"],"shortNames":["deploy"],"categories":["all"]},
      {"name":"deployments/scale","singularName":"","namespaced":true,"group":"autoscaling",
       "version":"v1","kind":"Scale","verbs":["get","patch","update"]}]}"#;
    let r = parse_resource_list(apps, "apps", "v1").unwrap();
    assert_eq!(r.len(), 1);
    assert_eq!(
        r[0].gvr(),
        GroupVersionResource::new("apps", "v1", "deployments")
    );
    assert_eq!(r[0].subresources, ["scale"]);
    assert_eq!(
        parse_resource_list(b"{}", "apps", "v1").unwrap_err(),
        "not an APIResourceList: kind \"\", no resources list"
    );
}

#[test]
fn resolves_like_kubectl() {
    let r = all();
    for (name, want) in [
        ("deploy", "apps/v1, Resource=deployments"),
        ("deployments", "apps/v1, Resource=deployments"),
        ("deployment", "apps/v1, Resource=deployments"),
        ("Deployment", "apps/v1, Resource=deployments"),
        ("DEPLOYMENTS", "apps/v1, Resource=deployments"),
        ("deployments.apps", "apps/v1, Resource=deployments"),
        ("deploy.apps", "apps/v1, Resource=deployments"),
        ("Deployment.apps", "apps/v1, Resource=deployments"),
        ("deployments.v1.apps", "apps/v1, Resource=deployments"),
        ("Deployment.v1.apps", "apps/v1, Resource=deployments"),
        (
            "leases.coordination.k8s.io",
            "coordination.k8s.io/v1, Resource=leases",
        ),
        ("lease", "coordination.k8s.io/v1, Resource=leases"),
        ("Lease", "coordination.k8s.io/v1, Resource=leases"),
        ("cm", "/v1, Resource=configmaps"),
        ("CM", "/v1, Resource=configmaps"),
        ("po", "/v1, Resource=pods"),
        ("pod", "/v1, Resource=pods"),
        ("ns", "/v1, Resource=namespaces"),
        // Core v1 before events.k8s.io.
        ("events", "/v1, Resource=events"),
        ("event", "/v1, Resource=events"),
        ("ev", "/v1, Resource=events"),
        ("events.events.k8s.io", "events.k8s.io/v1, Resource=events"),
        ("ev.events.k8s.io", "events.k8s.io/v1, Resource=events"),
        (
            "events.v1.events.k8s.io",
            "events.k8s.io/v1, Resource=events",
        ),
        (
            "csr",
            "certificates.k8s.io/v1, Resource=certificatesigningrequests",
        ),
        (
            "certificatesigningrequests.certificates.k8s.io",
            "certificates.k8s.io/v1, Resource=certificatesigningrequests",
        ),
        // The preferred version first, an explicit one when asked.
        ("hpa", "autoscaling/v2, Resource=horizontalpodautoscalers"),
        (
            "horizontalpodautoscalers",
            "autoscaling/v2, Resource=horizontalpodautoscalers",
        ),
        (
            "horizontalpodautoscalers.v1.autoscaling",
            "autoscaling/v1, Resource=horizontalpodautoscalers",
        ),
        // A group prefix for a short name (shortcut.go: `autoscal` matches `autoscaling`).
        (
            "hpa.autoscal",
            "autoscaling/v2, Resource=horizontalpodautoscalers",
        ),
        ("foos", "example.com/v1, Resource=foos"),
    ] {
        assert_eq!(gvr_of(name, &r), want, "{name}");
    }
}

#[test]
fn resolve_errors() {
    let r = all();
    // `foo` is the plural of one resource and the singular of another in the same group
    // version: ambiguous as a resource, but kubectl then reads it as a kind, and `Foo`
    // lowercased is one kind only.
    assert_eq!(gvr_of("foo", &r), "example.com/v1, Resource=foos");
    // `gizmo` is ambiguous both ways.
    assert_eq!(
        resolve("gizmo", &r).unwrap_err(),
        ResolveError::Ambiguous {
            name: "gizmo".into(),
            partial: GroupVersionResource::new("", "", "gizmo"),
            candidates: vec![
                GroupVersionResource::new("example.com", "v1", "gizmos"),
                GroupVersionResource::new("example.com", "v1", "gizmo"),
            ],
        }
    );
    assert_eq!(
        gvr_of("gizmo", &r),
        "/, Resource=gizmo matches multiple resources [example.com/v1, Resource=gizmos example.com/v1, Resource=gizmo]"
    );
    assert_eq!(gvr_of("Widget", &r), "example.com/v1, Resource=gizmos");
    assert_eq!(
        resolve("widgets", &r).unwrap_err(),
        ResolveError::NotFound {
            name: "widgets".into()
        }
    );
    assert_eq!(
        gvr_of("widgets", &r),
        "the server doesn't have a resource type \"widgets\""
    );
    // kubectl names only the part before the first dot.
    assert_eq!(
        gvr_of("deployments.nope", &r),
        "the server doesn't have a resource type \"deployments\""
    );
    assert_eq!(
        gvr_of("leases.v2.coordination.k8s.io", &r),
        "the server doesn't have a resource type \"leases\""
    );
    // A Stale group contributes nothing.
    assert_eq!(
        gvr_of("pods.metrics.k8s.io", &r),
        "the server doesn't have a resource type \"pods\""
    );
    assert!(matches!(
        resolve("pods", &[]),
        Err(ResolveError::NotFound { .. })
    ));
}

#[test]
fn paths() {
    let r = all();
    let pods = resolve("pods", &r).unwrap().gvr();
    let deploy = resolve("deploy", &r).unwrap().gvr();
    let ns = resolve("ns", &r).unwrap().gvr();
    assert_eq!(collection_path(&pods, None), "/api/v1/pods");
    assert_eq!(
        collection_path(&pods, Some("default")),
        "/api/v1/namespaces/default/pods"
    );
    assert_eq!(
        object_path(&pods, Some("default"), "web-0", Some("status")),
        "/api/v1/namespaces/default/pods/web-0/status"
    );
    assert_eq!(
        object_path(&deploy, Some("prod"), "web", Some("scale")),
        "/apis/apps/v1/namespaces/prod/deployments/web/scale"
    );
    assert_eq!(collection_path(&deploy, None), "/apis/apps/v1/deployments");
    assert_eq!(
        object_path(&ns, None, "kube-system", None),
        "/api/v1/namespaces/kube-system"
    );
    let roles = GroupVersionResource::new("rbac.authorization.k8s.io", "v1", "clusterroles");
    assert_eq!(
        object_path(&roles, None, "system:node", None),
        "/apis/rbac.authorization.k8s.io/v1/clusterroles/system%3Anode"
    );
    assert_eq!(
        object_path(&pods, Some("a b"), "x/y", None),
        "/api/v1/namespaces/a%20b/pods/x%2Fy"
    );
}
