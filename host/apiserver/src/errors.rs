//! The `Status` errors of `k8s.io/apimachinery/pkg/api/errors/errors.go` for a resource of the
//! [resource table](crate::resources): the message names the group-qualified resource
//! (`deployments.apps "web" not found`) or kind (`Deployment.apps "web" is invalid: ...`), and
//! `details` carries `name`, `group` and `kind` (the plural resource, or the kind for
//! `Invalid`), exactly as kube-apiserver writes them.

use crate::resources::ResourceType;
use crate::status::{Status, StatusDetails};

fn details(name: &str, group: &str, kind: &str) -> Option<StatusDetails> {
    Some(StatusDetails {
        name: name.to_owned(),
        group: group.to_owned(),
        kind: kind.to_owned(),
        ..Default::default()
    })
}

/// `kind.group` (`Deployment.apps`), or the kind for core (`errors.NewInvalid`'s
/// `qualifiedKind.String()`).
pub fn qualified_kind(r: &ResourceType) -> String {
    if r.group.is_empty() {
        r.kind.to_owned()
    } else {
        format!("{}.{}", r.kind, r.group)
    }
}

/// 404 `NotFound`: `configmaps "x" not found` (`errors.NewNotFound`).
pub fn not_found(r: &ResourceType, name: &str) -> Status {
    Status::new(
        404,
        "NotFound",
        format!("{} \"{name}\" not found", r.qualified()),
        details(name, r.group, r.resource),
    )
}

/// 409 `AlreadyExists`: `configmaps "x" already exists` (`errors.NewAlreadyExists`).
pub fn already_exists(r: &ResourceType, name: &str) -> Status {
    Status::new(
        409,
        "AlreadyExists",
        format!("{} \"{name}\" already exists", r.qualified()),
        details(name, r.group, r.resource),
    )
}

/// The message of an optimistic-lock failure (`registry/generic/registry/store.go`
/// `OptimisticLockErrorMsg`).
pub const OPTIMISTIC_LOCK_ERROR_MSG: &str =
    "the object has been modified; please apply your changes to the latest version and try again";

/// 409 `Conflict`: `Operation cannot be fulfilled on configmaps "x": WHY`
/// (`errors.NewConflict`).
pub fn conflict(r: &ResourceType, name: &str, why: &str) -> Status {
    Status::new(
        409,
        "Conflict",
        format!(
            "Operation cannot be fulfilled on {} \"{name}\": {why}",
            r.qualified()
        ),
        details(name, r.group, r.resource),
    )
}

/// 409 `Conflict` for a failed `uid` precondition (`registry/generic/registry/store.go`
/// `checkPreconditions` via `storage.Preconditions.Check`): `Precondition failed: UID in
/// precondition: GIVEN, UID in object meta: ACTUAL`.
pub fn uid_precondition_failed(r: &ResourceType, name: &str, given: &str, actual: &str) -> Status {
    conflict(
        r,
        name,
        &format!("Precondition failed: UID in precondition: {given}, UID in object meta: {actual}"),
    )
}

/// 409 `Conflict` for a failed `resourceVersion` precondition: `Precondition failed:
/// ResourceVersion in precondition: GIVEN, ResourceVersion in object meta: ACTUAL`.
pub fn resource_version_precondition_failed(
    r: &ResourceType,
    name: &str,
    given: &str,
    actual: &str,
) -> Status {
    conflict(
        r,
        name,
        &format!(
            "Precondition failed: ResourceVersion in precondition: {given}, ResourceVersion in object meta: {actual}"
        ),
    )
}

/// 422 `Invalid` for bad request options (`ListOptions`, `DeleteOptions`, `PatchOptions`, the
/// `meta.k8s.io` kinds their validators name): `KIND.meta.k8s.io "" is invalid: CAUSE`
/// (`errors.NewInvalid(schema.GroupKind{Group: metav1.GroupName, Kind: KIND}, "", errs)`).
pub fn options_invalid(kind: &str, cause: &str) -> Status {
    Status::new(
        422,
        "Invalid",
        format!("{kind}.meta.k8s.io \"\" is invalid: {cause}"),
        Some(StatusDetails {
            group: "meta.k8s.io".into(),
            kind: kind.to_owned(),
            ..Default::default()
        }),
    )
}

/// 422 `Invalid`: `ConfigMap "x" is invalid: CAUSES` (`errors.NewInvalid`; `causes` is the
/// field errors joined as `ToAggregate` prints them: one as is, several as `[a, b]`).
pub fn invalid(r: &ResourceType, name: &str, causes: &[String]) -> Status {
    let joined = match causes {
        [one] => one.clone(),
        many => format!("[{}]", many.join(", ")),
    };
    Status::new(
        422,
        "Invalid",
        format!("{} \"{name}\" is invalid: {joined}", qualified_kind(r)),
        details(name, r.group, r.kind),
    )
}

/// 405 `MethodNotAllowed`: `VERB is not supported on resources of kind "KIND"`... as the
/// generic handler answers a verb the storage does not implement.
pub fn method_not_supported(r: &ResourceType, verb: &str) -> Status {
    Status::new(
        405,
        "MethodNotAllowed",
        format!(
            "{verb} is not supported on resources of kind \"{}\"",
            r.qualified()
        ),
        details("", r.group, r.resource),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::find;

    #[test]
    fn messages_name_the_qualified_resource() {
        let d = find("apps", "v1", "deployments").unwrap();
        let s = not_found(d, "web");
        assert_eq!(s.message, "deployments.apps \"web\" not found");
        let det = s.details.unwrap();
        assert_eq!(
            (det.group.as_str(), det.kind.as_str()),
            ("apps", "deployments")
        );
        let cm = find("", "v1", "configmaps").unwrap();
        assert_eq!(
            conflict(cm, "x", OPTIMISTIC_LOCK_ERROR_MSG).message,
            "Operation cannot be fulfilled on configmaps \"x\": the object has been modified; please apply your changes to the latest version and try again"
        );
        assert_eq!(
            invalid(
                d,
                "web",
                &["spec.replicas: Invalid value: -1: must be greater than or equal to 0".into()]
            )
            .message,
            "Deployment.apps \"web\" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0"
        );
    }
}
