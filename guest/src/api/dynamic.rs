//! Every verb on any resource, client-go's dynamic client (`k8s.io/client-go/dynamic/simple.go`)
//! over JSON: the paths of [`pod_introspect_kube::discovery`], the query parameters of
//! `metav1.CreateOptions` / `UpdateOptions` / `PatchOptions` / `GetOptions`, and a
//! `metav1.DeleteOptions` body for deletes (k8s.io/apimachinery `pkg/apis/meta/v1/types.go`).

use pod_introspect_kube::discovery::{GroupVersionResource, collection_path, object_path};
use serde_json::{Value, json};

use super::paths::{path_with_query, push};
use super::{ApiError, Client, ListOptions, PodList, Transport};

/// Query parameters of a write (WIT `write-options`).
#[derive(Debug, Clone, Default)]
pub struct WriteOptions {
    /// `dryRun=All`.
    pub dry_run: bool,
    /// `fieldManager`.
    pub field_manager: Option<String>,
    /// `fieldValidation`: `Ignore`, `Warn`, `Strict`.
    pub field_validation: Option<String>,
    /// The subresource written, e.g. `status`, `scale`.
    pub subresource: Option<String>,
    /// `force=true` (apply only).
    pub force: bool,
}

impl WriteOptions {
    fn query(&self) -> Vec<(String, String)> {
        let mut q = Vec::new();
        if self.dry_run {
            q.push(("dryRun".into(), "All".into()));
        }
        push(&mut q, "fieldManager", &self.field_manager);
        push(&mut q, "fieldValidation", &self.field_validation);
        if self.force {
            q.push(("force".into(), "true".into()));
        }
        q
    }
}

/// A patch's type (WIT `patch-type`), named by its `Content-Type`
/// (k8s.io/apimachinery `pkg/types/patch.go`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchType {
    /// `application/json-patch+json` (RFC 6902).
    Json,
    /// `application/merge-patch+json` (RFC 7386).
    Merge,
    /// `application/strategic-merge-patch+json`.
    Strategic,
    /// `application/apply-patch+yaml`: server-side apply (JSON is YAML).
    Apply,
}

impl PatchType {
    /// The `Content-Type` header value.
    pub fn content_type(self) -> &'static str {
        match self {
            PatchType::Json => "application/json-patch+json",
            PatchType::Merge => "application/merge-patch+json",
            PatchType::Strategic => "application/strategic-merge-patch+json",
            PatchType::Apply => "application/apply-patch+yaml",
        }
    }

    /// `json`, `merge`, `strategic` or `apply` (kubectl's `--type` names, plus `apply`).
    pub fn parse(name: &str) -> Option<PatchType> {
        Some(match name {
            "json" => PatchType::Json,
            "merge" => PatchType::Merge,
            "strategic" => PatchType::Strategic,
            "apply" => PatchType::Apply,
            _ => return None,
        })
    }
}

/// A delete's options (WIT `delete-options`), sent as a `DeleteOptions` body as kubectl does.
#[derive(Debug, Clone, Default)]
pub struct DeleteOptions {
    /// `gracePeriodSeconds`.
    pub grace_period_seconds: Option<i64>,
    /// `propagationPolicy`: `Orphan`, `Background` or `Foreground`.
    pub propagation_policy: Option<&'static str>,
    /// `preconditions.uid`.
    pub precondition_uid: Option<String>,
    /// `preconditions.resourceVersion`.
    pub precondition_resource_version: Option<String>,
    /// `dryRun: [All]`.
    pub dry_run: bool,
}

impl DeleteOptions {
    /// The `meta/v1` `DeleteOptions` object.
    pub fn body(&self) -> Value {
        let mut body = json!({"kind": "DeleteOptions", "apiVersion": "v1"});
        if let Some(g) = self.grace_period_seconds {
            body["gracePeriodSeconds"] = g.into();
        }
        if let Some(p) = self.propagation_policy {
            body["propagationPolicy"] = p.into();
        }
        let mut pre = serde_json::Map::new();
        if let Some(uid) = &self.precondition_uid {
            pre.insert("uid".into(), uid.clone().into());
        }
        if let Some(rv) = &self.precondition_resource_version {
            pre.insert("resourceVersion".into(), rv.clone().into());
        }
        if !pre.is_empty() {
            body["preconditions"] = Value::Object(pre);
        }
        if self.dry_run {
            body["dryRun"] = json!(["All"]);
        }
        body
    }
}

const JSON: &str = "application/json";

impl<T: Transport> Client<T> {
    /// `GET` one object (`subresource`: `status`, `scale`; `resource_version`: `0` for a cached
    /// answer).
    pub fn get_object(
        &mut self,
        gvr: &GroupVersionResource,
        namespace: Option<&str>,
        name: &str,
        subresource: Option<&str>,
        resource_version: Option<&str>,
    ) -> Result<Value, ApiError> {
        let mut q = Vec::new();
        push(
            &mut q,
            "resourceVersion",
            &resource_version.map(String::from),
        );
        let path = object_path(gvr, namespace, name, subresource);
        self.get_json(&path_with_query(&path, &q))
    }

    /// A page of a collection; items carry `kind` and `apiVersion`.
    pub fn list_objects(
        &mut self,
        gvr: &GroupVersionResource,
        options: &ListOptions,
    ) -> Result<PodList, ApiError> {
        let path = collection_path(gvr, options.namespace.as_deref());
        self.list_at(&path, options)
    }

    /// `POST` an object.
    pub fn create_object(
        &mut self,
        gvr: &GroupVersionResource,
        namespace: Option<&str>,
        object: &[u8],
        options: &WriteOptions,
    ) -> Result<Value, ApiError> {
        let path = match &options.subresource {
            // e.g. pods/NAME/eviction, serviceaccounts/NAME/token: POST to a subresource.
            Some(_) => {
                return Err(ApiError::Invalid(
                    "create takes no subresource; use request() to POST to one".into(),
                ));
            }
            None => collection_path(gvr, namespace),
        };
        self.json(
            "POST",
            &path_with_query(&path, &options.query()),
            Some((JSON, object)),
            &[],
        )
    }

    /// `PUT` an object over `name` (a compare-and-swap when it carries a resourceVersion).
    pub fn replace_object(
        &mut self,
        gvr: &GroupVersionResource,
        namespace: Option<&str>,
        name: &str,
        object: &[u8],
        options: &WriteOptions,
    ) -> Result<Value, ApiError> {
        let path = object_path(gvr, namespace, name, options.subresource.as_deref());
        self.json(
            "PUT",
            &path_with_query(&path, &options.query()),
            Some((JSON, object)),
            &[],
        )
    }

    /// `PATCH` an object.
    pub fn patch_object(
        &mut self,
        gvr: &GroupVersionResource,
        namespace: Option<&str>,
        name: &str,
        patch_type: PatchType,
        patch: &[u8],
        options: &WriteOptions,
    ) -> Result<Value, ApiError> {
        let path = object_path(gvr, namespace, name, options.subresource.as_deref());
        self.json(
            "PATCH",
            &path_with_query(&path, &options.query()),
            Some((patch_type.content_type(), patch)),
            &[],
        )
    }

    /// `DELETE` an object: the object while its deletion is pending, else a `Status`.
    pub fn delete_object(
        &mut self,
        gvr: &GroupVersionResource,
        namespace: Option<&str>,
        name: &str,
        options: &DeleteOptions,
    ) -> Result<Value, ApiError> {
        let path = object_path(gvr, namespace, name, None);
        let body = options.body().to_string();
        self.json("DELETE", &path, Some((JSON, body.as_bytes())), &[])
    }

    /// `DELETE` a collection: what `selection` selects (its namespace and selectors).
    pub fn delete_collection(
        &mut self,
        gvr: &GroupVersionResource,
        selection: &ListOptions,
        options: &DeleteOptions,
    ) -> Result<Value, ApiError> {
        let path = collection_path(gvr, selection.namespace.as_deref());
        let body = options.body().to_string();
        self.json(
            "DELETE",
            &path_with_query(&path, &selection.query()),
            Some((JSON, body.as_bytes())),
            &[],
        )
    }
}
