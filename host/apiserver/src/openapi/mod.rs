//! The OpenAPI documents kubectl and client libraries download, generated from the types:
//! the `/openapi/v3` discovery root, one OpenAPI 3.0 document per group version
//! (`/openapi/v3/api/v1`, `/openapi/v3/apis/GROUP/VERSION`) and the Swagger 2.0 document
//! (`/openapi/v2`).
//!
//! The schemas are k8s-openapi's `schemars` implementations ([`ResourceType::schema`]) with
//! the Kubernetes extensions kube-apiserver adds ([`extensions`]); every document is built
//! once and served as bytes. How kube-apiserver serves them
//! (`staging/src/k8s.io/kube-openapi/pkg/handler3/handler.go`, `pkg/handler/handler.go` in
//! kubernetes/kube-openapi):
//!
//! - `/openapi/v3`: [`v3_root`] as `application/json`, `ETag` the quoted [`Document::hash`];
//! - `/openapi/v3/<gv>`: [`v3_group_version`]; `Vary: Accept`, `Content-Type:
//!   application/json`, quoted `ETag`; with a `hash` query equal to the document's hash also
//!   `Cache-Control: public, immutable` and `Expires` a year ahead; a different `hash` is a
//!   301 to [`Document::server_relative_url`]; an `Accept` that admits no JSON
//!   ([`accepts_json`]) is a bare 406; an unknown group version a 404;
//! - `/openapi/v2`: [`v2`] as `application/json` when `Accept` admits JSON, else 406 (client-go
//!   asks only for `application/com.github.proto-openapi.spec.v2@v1.0+protobuf`, which this
//!   server does not produce; see [`accepts_json`]).
//!
//! [`ResourceType::schema`]: crate::resources::ResourceType::schema

pub mod extensions;
mod paths;
mod schemas;
#[cfg(test)]
mod tests;
pub mod v2_protobuf;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

use serde_json::{Map, Value, json};

use crate::resources::{group_versions, in_group_version};

/// The `info.version` of the documents (kube-apiserver puts its `gitVersion` there).
pub const INFO_VERSION: &str = "v1.33.0-pod-introspect";

/// A built document: its compact JSON and the hash kube-openapi computes for it.
#[derive(Debug)]
pub struct Document {
    value: Value,
    json: Vec<u8>,
    hash: String,
    url: String,
}

impl Document {
    fn new(value: Value, url: String) -> Document {
        let json = serde_json::to_vec(&value).unwrap_or_default();
        let hash = hash(&json);
        Document {
            value,
            json,
            hash,
            url,
        }
    }

    /// The document.
    pub fn value(&self) -> &Value {
        &self.value
    }

    /// The serialized body (compact JSON).
    pub fn json(&self) -> &[u8] {
        &self.json
    }

    /// Upper-case hex SHA-512 of [`Document::json`] (kube-openapi `computeETag`), the `hash`
    /// query of the discovery root's URLs.
    pub fn hash(&self) -> &str {
        &self.hash
    }

    /// The `ETag` header value: the hash in double quotes (`strconv.Quote(etag)` upstream).
    pub fn etag(&self) -> String {
        format!("\"{}\"", self.hash)
    }

    /// The URL with its hash (`/openapi/v3/apis/apps/v1?hash=HASH`, `/openapi/v3`,
    /// `/openapi/v2` without one).
    pub fn server_relative_url(&self) -> &str {
        &self.url
    }

    /// True when an `If-None-Match` header value names this document's ETag (`*`, or one of
    /// a comma-separated list, weak or strong), so the answer is a 304 as Go's
    /// `http.ServeContent` gives.
    pub fn not_modified(&self, if_none_match: &str) -> bool {
        let etag = self.etag();
        if_none_match
            .split(',')
            .map(str::trim)
            .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag)
    }
}

/// Upper-case hex SHA-512 (`fmt.Sprintf("%X", sha512.Sum512(data))`).
fn hash(data: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA512, data);
    digest.as_ref().iter().map(|b| format!("{b:02X}")).collect()
}

/// The document path of a group version (`api/v1`, `apis/apps/v1`).
fn gv_path(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

static DEFINITIONS_V3: LazyLock<Map<String, Value>> =
    LazyLock::new(|| schemas::generate(schemas::v3_settings()));

struct V3 {
    root: Document,
    groups: BTreeMap<String, Document>,
}

static V3_DOCS: LazyLock<V3> = LazyLock::new(|| {
    let mut groups = BTreeMap::new();
    let mut root_paths = Map::new();
    for (group, version) in group_versions() {
        let key = gv_path(group, version);
        let resources: Vec<_> = in_group_version(group, version).collect();
        let items = paths::paths_for(&resources);
        let paths = paths::render_v3(&items);
        let schemas = referenced(&paths, &DEFINITIONS_V3, "#/components/schemas/");
        let value = json!({
            "openapi": "3.0.0",
            "info": {"title": "Kubernetes", "version": INFO_VERSION},
            "paths": paths,
            "components": {
                "schemas": schemas,
                "securitySchemes": {"BearerToken": {
                    "description": "Bearer Token authentication",
                    "in": "header",
                    "name": "authorization",
                    "type": "apiKey",
                }},
            },
            "security": [{"BearerToken": []}],
        });
        let mut doc = Document::new(value, String::new());
        doc.url = format!("/openapi/v3/{key}?hash={}", doc.hash);
        root_paths.insert(key.clone(), json!({"serverRelativeURL": doc.url}));
        groups.insert(key, doc);
    }
    let root = Document::new(json!({"paths": root_paths}), "/openapi/v3".into());
    V3 { root, groups }
});

static V2_DOC: LazyLock<Document> = LazyLock::new(|| {
    let definitions = schemas::generate(schemas::v2_settings());
    let mut all = Vec::new();
    for (group, version) in group_versions() {
        let resources: Vec<_> = in_group_version(group, version).collect();
        all.extend(paths::paths_for(&resources));
    }
    all.sort_by(|a, b| a.path.cmp(&b.path));
    let value = json!({
        "swagger": "2.0",
        "info": {"title": "Kubernetes", "version": INFO_VERSION},
        "paths": paths::render_v2(&all),
        "definitions": definitions,
        "securityDefinitions": {"BearerToken": {
            "description": "Bearer Token authentication",
            "in": "header",
            "name": "authorization",
            "type": "apiKey",
        }},
        "security": [{"BearerToken": []}],
    });
    Document::new(value, "/openapi/v2".into())
});

/// The definitions `root` references, directly or through other definitions, keyed by name.
fn referenced(root: &Value, all: &Map<String, Value>, prefix: &str) -> Map<String, Value> {
    let mut seen = BTreeSet::new();
    let mut todo = Vec::new();
    collect_refs(root, prefix, &mut todo);
    while let Some(name) = todo.pop() {
        if !seen.insert(name.clone()) {
            continue;
        }
        if let Some(def) = all.get(&name) {
            collect_refs(def, prefix, &mut todo);
        }
    }
    seen.into_iter()
        .filter_map(|n| all.get(&n).map(|d| (n, d.clone())))
        .collect()
}

/// Pushes the names of every `$ref` under `value` that starts with `prefix`.
fn collect_refs(value: &Value, prefix: &str, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                if k == "$ref"
                    && let Some(name) = v.as_str().and_then(|s| s.strip_prefix(prefix))
                {
                    out.push(name.to_owned());
                } else {
                    collect_refs(v, prefix, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, prefix, out)),
        _ => {}
    }
}

/// Every schema definition in the OpenAPI 3 flavour, keyed by definition name
/// (`io.k8s.api.core.v1.ConfigMap`), refs `#/components/schemas/NAME`: the kinds of
/// [`crate::resources::RESOURCES`] and everything they reference, their `{Kind}List`s,
/// `Status`, `DeleteOptions`, `Patch`, autoscaling/v1 `Scale` and `TokenRequest`. Each
/// top-level kind has `x-kubernetes-group-version-kind` (an array of `{group, kind,
/// version}`), properties have the [`extensions::FIELDS`] extensions.
pub fn definitions() -> &'static Map<String, Value> {
    &DEFINITIONS_V3
}

/// The `/openapi/v3` discovery document (`handler3.OpenAPIV3Discovery`):
/// `{"paths": {"api/v1": {"serverRelativeURL": "/openapi/v3/api/v1?hash=HASH"}, ...}}`, one
/// entry per served group version.
pub fn v3_root() -> &'static Document {
    &V3_DOCS.root
}

/// The OpenAPI 3.0 document of one group version, `path` as in the discovery root and the URL
/// after `/openapi/v3/` (`api/v1`, `apis/apps/v1`; a leading `/` is ignored). `None` for a
/// group version this server does not serve.
pub fn v3_group_version(path: &str) -> Option<&'static Document> {
    V3_DOCS.groups.get(path.trim_start_matches('/'))
}

/// The Swagger 2.0 document (`/openapi/v2`) of every served group version, refs
/// `#/definitions/NAME`.
pub fn v2() -> &'static Document {
    &V2_DOC
}

/// How a `$ref` names a definition: OpenAPI v3 (`#/components/schemas/NAME`), Swagger 2.0
/// (`#/definitions/NAME`) or JSON Schema 2020-12 (`#/$defs/NAME`).
const REF_PREFIXES: [&str; 3] = ["#/components/schemas/", "#/definitions/", "#/$defs/"];

/// Bound on `$ref` / single-`allOf` hops while resolving one node (a cycle ends as `None`).
const MAX_REF_HOPS: usize = 32;

/// The schema object `node` stands for, in `defs` (definitions keyed by name, as
/// [`definitions`] returns them): `$ref`s followed, and a single-element `allOf` without a shape
/// of its own (`properties`, `items`, `additionalProperties`, `type`) unwrapped, which is how
/// OpenAPI v3 puts a description or default beside a reference. With it, the name of the last
/// definition a `$ref` reached. `None` for a dangling reference, a non-object node or a cycle.
/// The one resolver the strategic merge patch and server-side apply both read schemas with
/// (`k8s.io/kube-openapi/pkg/util/proto`'s reference resolution).
pub fn resolve<'a>(
    defs: &'a Map<String, Value>,
    node: &'a Value,
) -> Option<(&'a Map<String, Value>, Option<&'a str>)> {
    let mut node = node;
    let mut name = None;
    for _ in 0..MAX_REF_HOPS {
        let obj = node.as_object()?;
        if let Some(reference) = obj.get("$ref").and_then(Value::as_str) {
            let n = REF_PREFIXES
                .iter()
                .find_map(|prefix| reference.strip_prefix(prefix))?;
            let (key, def) = defs.get_key_value(n)?;
            name = Some(key.as_str());
            node = def;
            continue;
        }
        let own_shape = ["properties", "items", "additionalProperties", "type"]
            .iter()
            .any(|k| obj.contains_key(*k));
        if !own_shape
            && let Some(Value::Array(all)) = obj.get("allOf")
            && let [single] = all.as_slice()
        {
            node = single;
            continue;
        }
        return Some((obj, name));
    }
    None
}

/// True when an `Accept` header value admits `application/json` (`application/json`,
/// `application/*`, `*/*`, with a non-zero `q`), or is absent or empty (kube-openapi reads
/// that as `*/*`). kube-openapi also serves protobuf; this server never does, so a header
/// that admits only protobuf — client-go's `OpenAPISchema` sends exactly
/// `application/com.github.proto-openapi.spec.v2@v1.0+protobuf` — gets the 406 kube-openapi
/// gives for an unsupported type, rather than JSON the client would fail to `proto.Unmarshal`.
pub fn accepts_json(accept: Option<&str>) -> bool {
    let Some(accept) = accept.map(str::trim).filter(|a| !a.is_empty()) else {
        return true;
    };
    accept.split(',').any(|clause| {
        let mut parts = clause.split(';');
        let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let zero_q = parts.any(|p| {
            let p = p.trim();
            p.strip_prefix("q=")
                .and_then(|q| q.trim().parse::<f32>().ok())
                .is_some_and(|q| q <= 0.0)
        });
        !zero_q && matches!(media.as_str(), "application/json" | "application/*" | "*/*")
    })
}
