//! Printers of the `rbac.authorization.k8s.io/v1` bindings; roles and cluster roles have no
//! printer upstream and get the default convertor (`Name`, `Created At`).
//!
//! Upstream: `pkg/printers/internalversion/printers.go` (`roleBindingsColumnDefinitions`,
//! `clusterRoleBindingsColumnDefinitions`, `printRoleBinding`, `printClusterRoleBinding`) and
//! `pkg/apis/rbac/helpers.go` (`SubjectsStrings`). Upstream describes ROLE with the
//! `rbac/v1beta1` `roleRef`; k8s-openapi has no such type, so it uses the `v1` field.

use k8s_openapi::api::rbac::v1::{ClusterRoleBinding, RoleBinding, RoleRef, Subject};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::jiff::Timestamp;
use serde_json::json;

use super::{AGE, Doc, NAME, Printer, Row, col, decode, field, name_age, wide};

/// `roleBindingsColumnDefinitions`: NAME, ROLE (`Kind/name`), AGE, then USERS, GROUPS,
/// SERVICEACCOUNTS.
pub(super) static ROLE_BINDINGS: Printer = Printer::new(
    &[
        NAME,
        col("Role", field::<RoleBinding>("roleRef")),
        AGE,
        wide("Users", Doc::Text("Users in the roleBinding")),
        wide("Groups", Doc::Text("Groups in the roleBinding")),
        wide(
            "ServiceAccounts",
            Doc::Text("ServiceAccounts in the roleBinding"),
        ),
    ],
    |obj, now| {
        let b: RoleBinding = decode(obj);
        binding_row(&b.metadata, &b.role_ref, b.subjects.as_deref(), now)
    },
);

/// `clusterRoleBindingsColumnDefinitions`: as [`ROLE_BINDINGS`], described for cluster role
/// bindings.
pub(super) static CLUSTER_ROLE_BINDINGS: Printer = Printer::new(
    &[
        NAME,
        col("Role", field::<ClusterRoleBinding>("roleRef")),
        AGE,
        wide("Users", Doc::Text("Users in the clusterRoleBinding")),
        wide("Groups", Doc::Text("Groups in the clusterRoleBinding")),
        wide(
            "ServiceAccounts",
            Doc::Text("ServiceAccounts in the clusterRoleBinding"),
        ),
    ],
    |obj, now| {
        let b: ClusterRoleBinding = decode(obj);
        binding_row(&b.metadata, &b.role_ref, b.subjects.as_deref(), now)
    },
);

/// `printRoleBinding` with `wide`: the subjects split by `SubjectsStrings` (users and groups
/// by name, service accounts as `namespace/name`; other kinds not shown), each list joined
/// with `", "`.
fn binding_row(
    meta: &ObjectMeta,
    role_ref: &RoleRef,
    subjects: Option<&[Subject]>,
    now: Timestamp,
) -> Row {
    let (mut users, mut groups, mut sas) = (Vec::new(), Vec::new(), Vec::new());
    for s in subjects.unwrap_or_default() {
        match s.kind.as_str() {
            "ServiceAccount" => sas.push(format!(
                "{}/{}",
                s.namespace.as_deref().unwrap_or_default(),
                s.name
            )),
            "User" => users.push(s.name.clone()),
            "Group" => groups.push(s.name.clone()),
            _ => {}
        }
    }
    let (name, age) = name_age(meta, now);
    Row::cells(vec![
        name,
        json!(format!("{}/{}", role_ref.kind, role_ref.name)),
        age,
        json!(users.join(", ")),
        json!(groups.join(", ")),
        json!(sas.join(", ")),
    ])
}
