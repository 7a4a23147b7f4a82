//! The `paths` of one group version's document: the operations kube-apiserver's installer
//! (`staging/src/k8s.io/apiserver/pkg/endpoints/installer.go` `registerResourceHandlers`)
//! publishes for each resource, with the query parameters of the option structs
//! (`staging/src/k8s.io/apimachinery/pkg/apis/meta/v1/types.go` `ListOptions`,
//! `CreateOptions`, `UpdateOptions`, `PatchOptions`, `DeleteOptions`), their descriptions and
//! the operation ids, tags and `x-kubernetes-action` / `x-kubernetes-group-version-kind`
//! extensions as `api/openapi-spec/v3/api__v1_openapi.json` spells them.

use std::borrow::Cow;

use serde_json::{Map, Value, json};

use crate::resources::{ResourceType, Storage, Subresource};

/// One query or path parameter: name, `in`, type, required, description.
type Param = (
    &'static str,
    &'static str,
    &'static str,
    bool,
    Cow<'static, str>,
);

const DRY_RUN: Param = (
    "dryRun",
    "query",
    "string",
    false,
    Cow::Borrowed(
        "When present, indicates that modifications should not be persisted. An invalid or unrecognized dryRun directive will result in an error response and no further processing of the request. Valid values are: - All: all dry run stages will be processed",
    ),
);
const FIELD_MANAGER: Param = (
    "fieldManager",
    "query",
    "string",
    false,
    Cow::Borrowed(
        "fieldManager is a name associated with the actor or entity that is making these changes. The value must be less than or 128 characters long, and only contain printable characters, as defined by https://golang.org/pkg/unicode/#IsPrint.",
    ),
);
const FIELD_MANAGER_PATCH: Param = (
    "fieldManager",
    "query",
    "string",
    false,
    Cow::Borrowed(
        "fieldManager is a name associated with the actor or entity that is making these changes. The value must be less than or 128 characters long, and only contain printable characters, as defined by https://golang.org/pkg/unicode/#IsPrint. This field is required for apply requests (application/apply-patch) but optional for non-apply patch types (JsonPatch, MergePatch, StrategicMergePatch).",
    ),
);
const FIELD_VALIDATION: Param = (
    "fieldValidation",
    "query",
    "string",
    false,
    Cow::Borrowed(
        "fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore: This will ignore any unknown fields that are silently dropped from the object, and will ignore all but the last duplicate field that the decoder encounters. This is the default behavior prior to v1.23. - Warn: This will send a warning via the standard warning response header for each unknown field that is dropped from the object, and for each duplicate field that is encountered. The request will still succeed if there are no other errors, and will only persist the last of any duplicate fields. This is the default in v1.23+ - Strict: This will fail the request with a BadRequest error if any unknown fields would be dropped from the object, or if any duplicate fields are present. The error returned from the server will contain all unknown and duplicate fields encountered.",
    ),
);
const FORCE: Param = (
    "force",
    "query",
    "boolean",
    false,
    Cow::Borrowed(
        "Force is going to \"force\" Apply requests. It means user will re-acquire conflicting fields owned by other people. Force flag must be unset for non-apply patch requests.",
    ),
);
const GRACE_PERIOD: Param = (
    "gracePeriodSeconds",
    "query",
    "integer",
    false,
    Cow::Borrowed(
        "The duration in seconds before the object should be deleted. Value must be non-negative integer. The value zero indicates delete immediately. If this value is nil, the default grace period for the specified type will be used. Defaults to a per object value if not specified. zero means delete immediately.",
    ),
);
const IGNORE_STORE_READ_ERROR: Param = (
    "ignoreStoreReadErrorWithClusterBreakingPotential",
    "query",
    "boolean",
    false,
    Cow::Borrowed(
        "if set to true, it will trigger an unsafe deletion of the resource in case the normal deletion flow fails with a corrupt object error. A resource is considered corrupt if it can not be retrieved from the underlying storage successfully because of a) its data can not be transformed e.g. decryption failure, or b) it fails to decode into an object. NOTE: unsafe deletion ignores finalizer constraints, skips precondition checks, and removes the object from the storage. WARNING: This may potentially break the cluster if the workload associated with the resource being unsafe-deleted relies on normal deletion flow. Use only if you REALLY know what you are doing. The default value is false, and the user must opt in to enable it",
    ),
);
const ORPHAN: Param = (
    "orphanDependents",
    "query",
    "boolean",
    false,
    Cow::Borrowed(
        "Deprecated: please use the PropagationPolicy, this field will be deprecated in 1.7. Should the dependent objects be orphaned. If true/false, the \"orphan\" finalizer will be added to/removed from the object's finalizers list. Either this field or PropagationPolicy may be set, but not both.",
    ),
);
const PROPAGATION: Param = (
    "propagationPolicy",
    "query",
    "string",
    false,
    Cow::Borrowed(
        "Whether and how garbage collection will be performed. Either this field or OrphanDependents may be set, but not both. The default policy is decided by the existing finalizer set in the metadata.finalizers and the resource-specific default policy. Acceptable values are: 'Orphan' - orphan the dependents; 'Background' - allow the garbage collector to delete the dependents in the background; 'Foreground' - a cascading policy that deletes all dependents in the foreground.",
    ),
);
const ALLOW_BOOKMARKS: Param = (
    "allowWatchBookmarks",
    "query",
    "boolean",
    false,
    Cow::Borrowed(
        "allowWatchBookmarks requests watch events with type \"BOOKMARK\". Servers that do not implement bookmarks may ignore this flag and bookmarks are sent at the server's discretion. Clients should not assume bookmarks are returned at any specific interval, nor may they assume the server will send any BOOKMARK event during a session. If this is not a watch, this field is ignored.",
    ),
);
const CONTINUE: Param = (
    "continue",
    "query",
    "string",
    false,
    Cow::Borrowed(
        "The continue option should be set when retrieving more results from the server. Since this value is server defined, clients may only use the continue value from a previous query result with identical query parameters (except for the value of continue) and the server may reject a continue value it does not recognize. If the specified continue value is no longer valid whether due to expiration (generally five to fifteen minutes) or a configuration change on the server, the server will respond with a 410 ResourceExpired error together with a continue token. If the client needs a consistent list, it must restart their list without the continue field. Otherwise, the client may send another list request with the token received with the 410 error, the server will respond with a list starting from the next key, but from the latest snapshot, which is inconsistent from the previous list results - objects that are created, modified, or deleted after the first list request will be included in the response, as long as their keys are after the \"next key\".\n\nThis field is not supported when watch is true. Clients may start a watch from the last resourceVersion value returned by the server and not miss any modifications.",
    ),
);
const FIELD_SELECTOR: Param = (
    "fieldSelector",
    "query",
    "string",
    false,
    Cow::Borrowed(
        "A selector to restrict the list of returned objects by their fields. Defaults to everything.",
    ),
);
const LABEL_SELECTOR: Param = (
    "labelSelector",
    "query",
    "string",
    false,
    Cow::Borrowed(
        "A selector to restrict the list of returned objects by their labels. Defaults to everything.",
    ),
);
const LIMIT: Param = (
    "limit",
    "query",
    "integer",
    false,
    Cow::Borrowed(
        "limit is a maximum number of responses to return for a list call. If more items exist, the server will set the `continue` field on the list metadata to a value that can be used with the same initial query to retrieve the next set of results. Setting a limit may return fewer than the requested amount of items (up to zero items) in the event all requested objects are filtered out and clients should only use the presence of the continue field to determine whether more results are available. Servers may choose not to support the limit argument and will return all of the available results. If limit is specified and the continue field is empty, clients may assume that no more results are available. This field is not supported if watch is true.\n\nThe server guarantees that the objects returned when using continue will be identical to issuing a single list call without a limit - that is, no objects created, modified, or deleted after the first request is issued will be included in any subsequent continued requests. This is sometimes referred to as a consistent snapshot, and ensures that a client that is using limit to receive smaller chunks of a very large result can ensure they see all possible objects. If objects are updated during a chunked list the version of the object that was present at the time the first list result was calculated is returned.",
    ),
);
const RESOURCE_VERSION: Param = (
    "resourceVersion",
    "query",
    "string",
    false,
    Cow::Borrowed(
        "resourceVersion sets a constraint on what resource versions a request may be served from. See https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-versions for details.\n\nDefaults to unset",
    ),
);
const RESOURCE_VERSION_MATCH: Param = (
    "resourceVersionMatch",
    "query",
    "string",
    false,
    Cow::Borrowed(
        "resourceVersionMatch determines how resourceVersion is applied to list calls. It is highly recommended that resourceVersionMatch be set for list calls where resourceVersion is set See https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-versions for details.\n\nDefaults to unset",
    ),
);
const SEND_INITIAL_EVENTS: Param = (
    "sendInitialEvents",
    "query",
    "boolean",
    false,
    Cow::Borrowed(
        "`sendInitialEvents=true` may be set together with `watch=true`. In that case, the watch stream will begin with synthetic events to produce the current state of objects in the collection. Once all such events have been sent, a synthetic \"Bookmark\" event  will be sent. The bookmark will report the ResourceVersion (RV) corresponding to the set of objects, and be marked with `\"k8s.io/initial-events-end\": \"true\"` annotation. Afterwards, the watch stream will proceed as usual, sending watch events corresponding to changes (subsequent to the RV) to objects watched.\n\nWhen `sendInitialEvents` option is set, we require `resourceVersionMatch` option to also be set. The semantic of the watch request is as following: - `resourceVersionMatch` = NotOlderThan\n  is interpreted as \"data at least as new as the provided `resourceVersion`\"\n  and the bookmark event is send when the state is synced\n  to a `resourceVersion` at least as fresh as the one provided by the ListOptions.\n  If `resourceVersion` is unset, this is interpreted as \"consistent read\" and the\n  bookmark event is send when the state is synced at least to the moment\n  when request started being processed.\n- `resourceVersionMatch` set to any other value or unset\n  Invalid error is returned.\n\nDefaults to true if `resourceVersion=\"\"` or `resourceVersion=\"0\"` (for backward compatibility reasons) and to false otherwise.",
    ),
);
const TIMEOUT: Param = (
    "timeoutSeconds",
    "query",
    "integer",
    false,
    Cow::Borrowed(
        "Timeout for the list/watch call. This limits the duration of the call, regardless of any activity or inactivity.",
    ),
);
const WATCH: Param = (
    "watch",
    "query",
    "boolean",
    false,
    Cow::Borrowed(
        "Watch for changes to the described resources and return them as a stream of add, update, and remove notifications. Specify resourceVersion.",
    ),
);
const NAMESPACE: Param = (
    "namespace",
    "path",
    "string",
    true,
    Cow::Borrowed("object name and auth scope, such as for teams and projects"),
);
const PRETTY: Param = (
    "pretty",
    "query",
    "string",
    false,
    Cow::Borrowed(
        "If 'true', then the output is pretty printed. Defaults to 'false' unless the user-agent indicates a browser or command-line HTTP tool (curl and wget).",
    ),
);

const LIST_PARAMS: &[Param] = &[
    ALLOW_BOOKMARKS,
    CONTINUE,
    FIELD_SELECTOR,
    LABEL_SELECTOR,
    LIMIT,
    RESOURCE_VERSION,
    RESOURCE_VERSION_MATCH,
    SEND_INITIAL_EVENTS,
    TIMEOUT,
    WATCH,
];
const CREATE_PARAMS: &[Param] = &[DRY_RUN, FIELD_MANAGER, FIELD_VALIDATION];
const PATCH_PARAMS: &[Param] = &[DRY_RUN, FIELD_MANAGER_PATCH, FIELD_VALIDATION, FORCE];
const DELETE_PARAMS: &[Param] = &[
    DRY_RUN,
    GRACE_PERIOD,
    IGNORE_STORE_READ_ERROR,
    ORPHAN,
    PROPAGATION,
];
const DELETE_COLLECTION_PARAMS: &[Param] = &[
    CONTINUE,
    DRY_RUN,
    FIELD_SELECTOR,
    GRACE_PERIOD,
    IGNORE_STORE_READ_ERROR,
    LABEL_SELECTOR,
    LIMIT,
    ORPHAN,
    PROPAGATION,
    RESOURCE_VERSION,
    RESOURCE_VERSION_MATCH,
    SEND_INITIAL_EVENTS,
    TIMEOUT,
];

/// The media types kube-apiserver lists for a response body.
const RESPONSE_TYPES: &[&str] = &[
    "application/json",
    "application/vnd.kubernetes.protobuf",
    "application/yaml",
];
/// ... and for a list that can also be watched.
const LIST_RESPONSE_TYPES: &[&str] = &[
    "application/json",
    "application/json;stream=watch",
    "application/vnd.kubernetes.protobuf",
    "application/vnd.kubernetes.protobuf;stream=watch",
    "application/yaml",
];
/// The patch media types (`staging/src/k8s.io/apimachinery/pkg/types/patch.go`).
const PATCH_TYPES: &[&str] = &[
    "application/apply-patch+yaml",
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
];

/// The group-version-kind an operation is about.
#[derive(Clone, Copy)]
pub(super) struct Gvk<'a> {
    pub group: &'a str,
    pub version: &'a str,
    pub kind: &'a str,
}

/// One operation before it is rendered in the v3 or v2 flavour.
pub(super) struct Operation<'a> {
    /// `get`, `put`, `post`, `patch`, `delete`.
    pub method: &'static str,
    /// `x-kubernetes-action`.
    pub action: &'static str,
    pub operation_id: String,
    pub description: String,
    pub tag: String,
    pub params: &'static [Param],
    /// The request body's definition and media types.
    pub body: Option<(String, &'static [&'static str], bool)>,
    /// Response codes with their description; each with the response definition.
    pub responses: &'static [(&'static str, &'static str)],
    pub response: String,
    pub response_types: &'static [&'static str],
    pub gvk: Gvk<'a>,
}

/// A path with its path-level parameters and its operations.
pub(super) struct PathItem<'a> {
    pub path: String,
    pub params: Vec<Param>,
    pub operations: Vec<Operation<'a>>,
}

/// `Core`, `Apps`, `RbacAuthorization`, `Events` as operation ids spell a group
/// (`staging/src/k8s.io/apiserver/pkg/endpoints/openapi/openapi.go` `GetOperationIDAndTags`:
/// `.k8s.io` dropped, the remaining dot-separated words capitalised).
fn group_id(group: &str) -> String {
    if group.is_empty() {
        return "Core".into();
    }
    group
        .trim_end_matches(".k8s.io")
        .split('.')
        .map(capitalize)
        .collect()
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// The tag (`core_v1`, `rbacAuthorization_v1`).
fn tag(group: &str, version: &str) -> String {
    let id = group_id(group);
    let mut c = id.chars();
    let lower: String = match c.next() {
        Some(first) => first.to_lowercase().chain(c).collect(),
        None => String::new(),
    };
    format!("{lower}_{version}")
}

/// The URL prefix of a group version (`/api/v1`, `/apis/apps/v1`).
pub(super) fn prefix(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("/api/{version}")
    } else {
        format!("/apis/{group}/{version}")
    }
}

/// The schema definition of a kind in `group`/`version`, `io.k8s.api.GROUP.VERSION.Kind` as
/// k8s-openapi names them (`rbac.authorization.k8s.io` is `rbac`).
fn definition_of(r: &ResourceType, sub: Option<&Subresource>) -> (String, Gvk<'static>) {
    match sub.and_then(|s| s.group_version.map(|gv| (s.kind, gv))) {
        Some(("Scale", (g, v))) => (
            "io.k8s.api.autoscaling.v1.Scale".into(),
            Gvk {
                group: g,
                version: v,
                kind: "Scale",
            },
        ),
        Some(("TokenRequest", (g, v))) => (
            "io.k8s.api.authentication.v1.TokenRequest".into(),
            Gvk {
                group: g,
                version: v,
                kind: "TokenRequest",
            },
        ),
        _ => (
            (r.schema_name)().into_owned(),
            Gvk {
                group: r.group,
                version: r.version,
                kind: r.kind,
            },
        ),
    }
}

/// The paths of every resource in `resources` (one group version).
pub(super) fn paths_for(resources: &[&'static ResourceType]) -> Vec<PathItem<'static>> {
    let mut out = Vec::new();
    for r in resources {
        resource_paths(r, &mut out);
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

fn resource_paths(r: &'static ResourceType, out: &mut Vec<PathItem<'static>>) {
    let base = prefix(r.group, r.version);
    let group = group_id(r.group);
    let version = capitalize(r.version);
    let scope = if r.namespaced { "Namespaced" } else { "" };
    let tag = tag(r.group, r.version);
    let (def, gvk) = definition_of(r, None);
    let list_def = super::schemas::list_name(&def);
    let collection = if r.namespaced {
        format!("{base}/namespaces/{{namespace}}/{}", r.resource)
    } else {
        format!("{base}/{}", r.resource)
    };
    let scope_params = |name: Option<&str>| -> Vec<Param> {
        let mut p = Vec::new();
        if let Some(name) = name {
            p.push((
                "name",
                "path",
                "string",
                true,
                Cow::Owned(format!("name of the {name}")),
            ));
        }
        if r.namespaced {
            p.push(NAMESPACE);
        }
        p.push(PRETTY);
        p
    };
    let op = |method: &'static str,
              action: &'static str,
              id: String,
              description: String,
              params: &'static [Param],
              body: Option<(String, &'static [&'static str], bool)>,
              responses: &'static [(&'static str, &'static str)],
              response: String,
              response_types: &'static [&'static str],
              gvk: Gvk<'static>| Operation {
        method,
        action,
        operation_id: id,
        description,
        tag: tag.clone(),
        params,
        body,
        responses,
        response,
        response_types,
        gvk,
    };
    const OK: &[(&str, &str)] = &[("200", "OK"), ("401", "Unauthorized")];
    const CREATED: &[(&str, &str)] = &[
        ("200", "OK"),
        ("201", "Created"),
        ("202", "Accepted"),
        ("401", "Unauthorized"),
    ];
    const REPLACED: &[(&str, &str)] = &[("200", "OK"), ("201", "Created"), ("401", "Unauthorized")];
    const DELETED: &[(&str, &str)] = &[("200", "OK"), ("202", "Accepted"), ("401", "Unauthorized")];
    let kind = r.kind;
    let status = "io.k8s.apimachinery.pkg.apis.meta.v1.Status".to_owned();
    let delete_options = "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions".to_owned();
    let patch = "io.k8s.apimachinery.pkg.apis.meta.v1.Patch".to_owned();

    if r.storage == Storage::Review {
        out.push(PathItem {
            path: collection,
            params: scope_params(None),
            operations: vec![op(
                "post",
                "post",
                format!("create{group}{version}{scope}{kind}"),
                format!("create a {kind}"),
                CREATE_PARAMS,
                Some((def.clone(), &["*/*"], true)),
                CREATED,
                def,
                RESPONSE_TYPES,
                gvk,
            )],
        });
        return;
    }

    let mut ops = Vec::new();
    if r.serves("deletecollection") {
        ops.push(op(
            "delete",
            "deletecollection",
            format!("delete{group}{version}Collection{scope}{kind}"),
            format!("delete collection of {kind}"),
            DELETE_COLLECTION_PARAMS,
            Some((delete_options.clone(), &["*/*"], false)),
            OK,
            status.clone(),
            RESPONSE_TYPES,
            gvk,
        ));
    }
    if r.serves("list") {
        ops.push(op(
            "get",
            "list",
            format!("list{group}{version}{scope}{kind}"),
            format!("list or watch objects of kind {kind}"),
            LIST_PARAMS,
            None,
            OK,
            list_def.clone(),
            LIST_RESPONSE_TYPES,
            gvk,
        ));
    }
    if r.serves("create") {
        ops.push(op(
            "post",
            "post",
            format!("create{group}{version}{scope}{kind}"),
            format!("create a {kind}"),
            CREATE_PARAMS,
            Some((def.clone(), &["*/*"], true)),
            CREATED,
            def.clone(),
            RESPONSE_TYPES,
            gvk,
        ));
    }
    out.push(PathItem {
        path: collection.clone(),
        params: scope_params(None),
        operations: ops,
    });

    if r.namespaced && r.serves("list") {
        out.push(PathItem {
            path: format!("{base}/{}", r.resource),
            params: vec![PRETTY],
            operations: vec![op(
                "get",
                "list",
                format!("list{group}{version}{kind}ForAllNamespaces"),
                format!("list or watch objects of kind {kind}"),
                LIST_PARAMS,
                None,
                OK,
                list_def,
                LIST_RESPONSE_TYPES,
                gvk,
            )],
        });
    }

    let item = format!("{collection}/{{name}}");
    let mut ops = Vec::new();
    if r.serves("delete") {
        ops.push(op(
            "delete",
            "delete",
            format!("delete{group}{version}{scope}{kind}"),
            format!("delete a {kind}"),
            DELETE_PARAMS,
            Some((delete_options, &["*/*"], false)),
            DELETED,
            def.clone(),
            RESPONSE_TYPES,
            gvk,
        ));
    }
    if r.serves("get") {
        ops.push(op(
            "get",
            "get",
            format!("read{group}{version}{scope}{kind}"),
            format!("read the specified {kind}"),
            &[],
            None,
            OK,
            def.clone(),
            RESPONSE_TYPES,
            gvk,
        ));
    }
    if r.serves("patch") {
        ops.push(op(
            "patch",
            "patch",
            format!("patch{group}{version}{scope}{kind}"),
            format!("partially update the specified {kind}"),
            PATCH_PARAMS,
            Some((patch.clone(), PATCH_TYPES, true)),
            REPLACED,
            def.clone(),
            RESPONSE_TYPES,
            gvk,
        ));
    }
    if r.serves("update") {
        ops.push(op(
            "put",
            "put",
            format!("replace{group}{version}{scope}{kind}"),
            format!("replace the specified {kind}"),
            CREATE_PARAMS,
            Some((def.clone(), &["*/*"], true)),
            REPLACED,
            def.clone(),
            RESPONSE_TYPES,
            gvk,
        ));
    }
    out.push(PathItem {
        path: item.clone(),
        params: scope_params(Some(kind)),
        operations: ops,
    });

    for sub in r.subresources {
        let (sdef, sgvk) = definition_of(r, Some(sub));
        let suffix = capitalize(sub.name);
        let what = if sub.name == "status" {
            format!("status of the specified {kind}")
        } else {
            format!("{} of the specified {kind}", sub.name)
        };
        let mut ops = Vec::new();
        let serves = |v: &str| sub.verbs.contains(&v);
        if serves("get") {
            ops.push(op(
                "get",
                "get",
                format!("read{group}{version}{scope}{kind}{suffix}"),
                format!("read {what}"),
                &[],
                None,
                OK,
                sdef.clone(),
                RESPONSE_TYPES,
                sgvk,
            ));
        }
        if serves("patch") {
            ops.push(op(
                "patch",
                "patch",
                format!("patch{group}{version}{scope}{kind}{suffix}"),
                format!("partially update {what}"),
                PATCH_PARAMS,
                Some((patch.clone(), PATCH_TYPES, true)),
                REPLACED,
                sdef.clone(),
                RESPONSE_TYPES,
                sgvk,
            ));
        }
        if serves("create") {
            ops.push(op(
                "post",
                "post",
                format!("create{group}{version}{scope}{kind}{suffix}"),
                format!("create {} of a {kind}", sub.name),
                CREATE_PARAMS,
                Some((sdef.clone(), &["*/*"], true)),
                CREATED,
                sdef.clone(),
                RESPONSE_TYPES,
                sgvk,
            ));
        }
        if serves("update") {
            ops.push(op(
                "put",
                "put",
                format!("replace{group}{version}{scope}{kind}{suffix}"),
                format!("replace {what}"),
                CREATE_PARAMS,
                Some((sdef.clone(), &["*/*"], true)),
                REPLACED,
                sdef.clone(),
                RESPONSE_TYPES,
                sgvk,
            ));
        }
        let name_of = if sub.kind.is_empty() || sub.kind == kind {
            kind
        } else {
            sub.kind
        };
        out.push(PathItem {
            path: format!("{item}/{}", sub.name),
            params: scope_params(Some(name_of)),
            operations: ops,
        });
    }
}

fn v3_param(p: &Param) -> Value {
    let (name, location, ty, required, description) = p;
    let required = *required;
    let description: &str = description;
    let mut v = json!({
        "description": description,
        "in": location,
        "name": name,
        "schema": {"type": ty, "uniqueItems": true},
    });
    if required && let Some(o) = v.as_object_mut() {
        o.insert("required".into(), json!(true));
    }
    v
}

fn v2_param(p: &Param) -> Value {
    let (name, location, ty, required, description) = p;
    let required = *required;
    let description: &str = description;
    let mut v = json!({
        "description": description,
        "in": location,
        "name": name,
        "type": ty,
        "uniqueItems": true,
    });
    if required && let Some(o) = v.as_object_mut() {
        o.insert("required".into(), json!(true));
    }
    v
}

fn gvk_value(g: &Gvk<'_>) -> Value {
    json!({"group": g.group, "kind": g.kind, "version": g.version})
}

/// The `paths` object of a v3 document.
pub(super) fn render_v3(items: &[PathItem<'_>]) -> Value {
    let mut paths = Map::new();
    for item in items {
        let mut path = Map::new();
        path.insert(
            "parameters".into(),
            item.params.iter().map(v3_param).collect(),
        );
        for op in &item.operations {
            let schema =
                |def: &str| json!({"schema": {"$ref": format!("#/components/schemas/{def}")}});
            let content: Map<String, Value> = op
                .response_types
                .iter()
                .map(|t| ((*t).to_owned(), schema(&op.response)))
                .collect();
            let mut responses = Map::new();
            for (code, description) in op.responses {
                let r = if *code == "401" {
                    json!({"description": description})
                } else {
                    json!({"content": content, "description": description})
                };
                responses.insert((*code).to_owned(), r);
            }
            let mut o = json!({
                "description": op.description,
                "operationId": op.operation_id,
                "responses": responses,
                "tags": [op.tag],
                "x-kubernetes-action": op.action,
                "x-kubernetes-group-version-kind": gvk_value(&op.gvk),
            });
            if let Some(obj) = o.as_object_mut() {
                if !op.params.is_empty() {
                    obj.insert(
                        "parameters".into(),
                        op.params.iter().map(v3_param).collect(),
                    );
                }
                if let Some((def, types, required)) = &op.body {
                    let content: Map<String, Value> = types
                        .iter()
                        .map(|t| ((*t).to_owned(), schema(def)))
                        .collect();
                    let mut body = json!({"content": content});
                    if *required && let Some(b) = body.as_object_mut() {
                        b.insert("required".into(), json!(true));
                    }
                    obj.insert("requestBody".into(), body);
                }
            }
            path.insert(op.method.into(), o);
        }
        paths.insert(item.path.clone(), Value::Object(path));
    }
    Value::Object(paths)
}

/// The `paths` object of the Swagger 2.0 document (`in: body` parameters, `consumes` /
/// `produces`, `schemes`).
pub(super) fn render_v2(items: &[PathItem<'_>]) -> Value {
    let mut paths = Map::new();
    for item in items {
        let mut path = Map::new();
        path.insert(
            "parameters".into(),
            item.params.iter().map(v2_param).collect(),
        );
        for op in &item.operations {
            let schema = json!({"$ref": format!("#/definitions/{}", op.response)});
            let mut responses = Map::new();
            for (code, description) in op.responses {
                let r = if *code == "401" {
                    json!({"description": description})
                } else {
                    json!({"description": description, "schema": schema})
                };
                responses.insert((*code).to_owned(), r);
            }
            let mut params: Vec<Value> = Vec::new();
            let mut consumes = json!(["*/*"]);
            if let Some((def, types, required)) = &op.body {
                params.push(json!({"in": "body", "name": "body", "required": required, "schema": {"$ref": format!("#/definitions/{def}")}}));
                consumes = json!(types);
            }
            params.extend(op.params.iter().map(v2_param));
            let mut o = json!({
                "consumes": consumes,
                "description": op.description,
                "operationId": op.operation_id,
                "produces": op.response_types,
                "responses": responses,
                "schemes": ["https"],
                "tags": [op.tag],
                "x-kubernetes-action": op.action,
                "x-kubernetes-group-version-kind": gvk_value(&op.gvk),
            });
            if !params.is_empty()
                && let Some(obj) = o.as_object_mut()
            {
                obj.insert("parameters".into(), Value::Array(params));
            }
            path.insert(op.method.into(), o);
        }
        paths.insert(item.path.clone(), Value::Object(path));
    }
    Value::Object(paths)
}
