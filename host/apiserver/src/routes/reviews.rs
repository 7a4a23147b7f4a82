//! `SelfSubjectAccessReview` (`pkg/registry/authorization/selfsubjectaccessreview/rest.go`):
//! asks the authorizer whether the requesting user may do what `spec` describes, and answers
//! with `status.allowed` (and the granting binding as `reason`), nothing stored. `kubectl auth
//! can-i` prints `yes` or `no` from it.

use http::{Response, StatusCode};
use serde_json::{Value, json};

use super::objects::body_value;
use super::{Body, Ctx, json_response, lock};
use crate::rbac::{Attributes, MASTERS_GROUP, allowed_by_objects, granting_binding};
use crate::status::Status;

/// Non-resource paths every authenticated user may `get` (`system:discovery`,
/// `system:public-info-viewer`).
const DISCOVERY_PATHS: &[&str] = &[
    "/api",
    "/api/*",
    "/apis",
    "/apis/*",
    "/healthz",
    "/livez",
    "/openapi",
    "/openapi/*",
    "/readyz",
    "/version",
    "/version/",
];

/// `create` of a SelfSubjectAccessReview.
pub(super) fn create(ctx: &Ctx<'_>) -> Result<Response<Body>, Status> {
    let review = body_value(ctx)?;
    let spec = &review["spec"];
    let user = ctx.user;
    let master = user.groups.iter().any(|g| g == MASTERS_GROUP);
    let (allowed, reason) = if let Some(ra) =
        spec.get("resourceAttributes").filter(|v| v.is_object())
    {
        let s = |f: &str| ra[f].as_str().unwrap_or("").to_owned();
        let (verb, group, resource, sub, ns, name) = (
            s("verb"),
            s("group"),
            s("resource"),
            s("subresource"),
            s("namespace"),
            s("name"),
        );
        let attrs = Attributes {
            verb: &verb,
            api_group: &group,
            resource: &resource,
            subresource: &sub,
            namespace: &ns,
            name: &name,
        };
        let store = lock(ctx.shared);
        if master {
            (true, String::new())
        } else if let Some((bk, bn, rk, rn)) = granting_binding(&store, user, &attrs) {
            (
                true,
                format!(
                    "RBAC: allowed by {bk} \"{bn}\" of {rk} \"{rn}\" to User \"{}\"",
                    user.name
                ),
            )
        } else {
            let allowed =
                ctx.shared.rbac.allows(user, &attrs) || allowed_by_objects(&store, user, &attrs);
            (allowed, String::new())
        }
    } else if let Some(nra) = spec.get("nonResourceAttributes").filter(|v| v.is_object()) {
        let path = nra["path"].as_str().unwrap_or("");
        let verb = nra["verb"].as_str().unwrap_or("");
        let public = verb == "get"
            && DISCOVERY_PATHS.iter().any(|p| match p.strip_suffix('*') {
                Some(prefix) => path.starts_with(prefix),
                None => path == *p,
            });
        (master || public, String::new())
    } else {
        return Err(Status::new(
            422,
            "Invalid",
            "SelfSubjectAccessReview.authorization.k8s.io \"\" is invalid: [spec.resourceAttributes: Invalid value: \"null\": exactly one of nonResourceAttributes or resourceAttributes must be specified, spec.nonResourceAttributes: Invalid value: \"null\": exactly one of nonResourceAttributes or resourceAttributes must be specified]",
            None,
        ));
    };
    let mut status = json!({"allowed": allowed});
    if !reason.is_empty() {
        status["reason"] = json!(reason);
    }
    let out: Value = json!({
        "kind": "SelfSubjectAccessReview",
        "apiVersion": "authorization.k8s.io/v1",
        "metadata": {"creationTimestamp": null},
        "spec": spec,
        "status": status,
    });
    Ok(json_response(StatusCode::CREATED, &out))
}
