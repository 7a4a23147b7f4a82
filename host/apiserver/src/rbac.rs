//! Authorization: a small RBAC-like rule set and the real denial messages.
//!
//! Upstream: `plugin/pkg/auth/authorizer/rbac/rbac.go` (rule matching) and
//! `staging/src/k8s.io/apiserver/pkg/endpoints/handlers/responsewriters/errors.go`
//! `forbiddenMessage` (the text of a denial).

use serde::Deserialize;

use crate::ClusterError;

/// The group that may do everything (the admin token is in it).
pub const MASTERS_GROUP: &str = "system:masters";

/// The authenticated user of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserInfo {
    /// `system:serviceaccount:NS:SA` or the admin user's name.
    pub name: String,
    /// Groups, e.g. `system:serviceaccounts`, `system:serviceaccounts:NS`, `system:authenticated`.
    pub groups: Vec<String>,
    /// For a ServiceAccount, its namespace.
    pub service_account_namespace: Option<String>,
}

impl UserInfo {
    /// The identity of a ServiceAccount token.
    pub fn service_account(namespace: &str, name: &str) -> Self {
        UserInfo {
            name: format!("system:serviceaccount:{namespace}:{name}"),
            groups: vec![
                "system:serviceaccounts".into(),
                format!("system:serviceaccounts:{namespace}"),
                "system:authenticated".into(),
            ],
            service_account_namespace: Some(namespace.to_owned()),
        }
    }

    /// The admin identity (`system:masters`).
    pub fn admin() -> Self {
        UserInfo {
            name: "pod-introspect-admin".into(),
            groups: vec![MASTERS_GROUP.into(), "system:authenticated".into()],
            service_account_namespace: None,
        }
    }
}

/// What a resource request wants to do (`authorizer.Attributes`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attributes<'a> {
    /// `get`, `list`, `watch`, `create`, `update`, `patch`, `delete`, `deletecollection`.
    pub verb: &'a str,
    /// The API group (`""` for core, `apps`, ...).
    pub api_group: &'a str,
    /// Plural resource, e.g. `pods`.
    pub resource: &'a str,
    /// Subresource, e.g. `token`, or empty.
    pub subresource: &'a str,
    /// Namespace, empty for a cluster-scoped request.
    pub namespace: &'a str,
    /// Object name, empty for list/watch/create.
    pub name: &'a str,
}

impl Attributes<'_> {
    /// `resource` or `resource/subresource`.
    pub fn full_resource(&self) -> String {
        if self.subresource.is_empty() {
            self.resource.to_owned()
        } else {
            format!("{}/{}", self.resource, self.subresource)
        }
    }
}

/// The denial text of `forbiddenMessage`:
/// `User "U" cannot VERB resource "R" in API group "" in the namespace "NS"`, or
/// `... at the cluster scope` without a namespace.
pub fn forbidden_message(user: &UserInfo, attrs: &Attributes<'_>) -> String {
    let resource = attrs.full_resource();
    if attrs.namespace.is_empty() {
        format!(
            "User \"{}\" cannot {} resource \"{resource}\" in API group \"{}\" at the cluster scope",
            user.name, attrs.verb, attrs.api_group
        )
    } else {
        format!(
            "User \"{}\" cannot {} resource \"{resource}\" in API group \"{}\" in the namespace \"{}\"",
            user.name, attrs.verb, attrs.api_group, attrs.namespace
        )
    }
}

/// One rule of [`RbacRules`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// A user name (`system:serviceaccount:NS:SA`), a group (`system:serviceaccounts`,
    /// `system:serviceaccounts:NS`, `system:authenticated`) or `*` for every authenticated user.
    pub subject: String,
    /// Verbs (`get`, `list`, `watch`, `create`, `update`, `delete`) or `*`.
    pub verbs: Vec<String>,
    /// Resources (`pods`, `serviceaccounts`, `serviceaccounts/token`, `namespaces`) or `*`.
    pub resources: Vec<String>,
    /// Namespaces the rule applies in; `*` also covers cluster-scope requests (a
    /// ClusterRoleBinding); `@own` is the ServiceAccount's own namespace. Default: `["@own"]`.
    #[serde(default = "own_namespace")]
    pub namespaces: Vec<String>,
}

fn own_namespace() -> Vec<String> {
    vec![OWN_NAMESPACE.into()]
}

/// The namespace placeholder for "the subject ServiceAccount's own namespace".
pub const OWN_NAMESPACE: &str = "@own";

#[derive(Deserialize)]
#[serde(untagged)]
enum RulesDocument {
    List(Vec<Rule>),
    Wrapped { rules: Vec<Rule> },
}

/// Who may do what. Users in `system:masters` (the admin token) may always do everything.
///
/// YAML format for [`RbacRules::from_yaml`], a list of rules (or `{rules: [...]}`):
///
/// ```yaml
/// - subject: "system:serviceaccount:team-a:reader"   # user, group, or "*"
///   verbs: [get, list, watch]                         # or ["*"]
///   resources: [pods]                                 # or ["*"]; subresources as "serviceaccounts/token"
///   namespaces: [team-a, team-b]                      # ["*"] = everywhere incl. cluster scope; "@own"
/// ```
///
/// The default ([`RbacRules::default`]) is what a namespaced pod-reader Role bound to every
/// ServiceAccount in its own namespace gives: `system:serviceaccounts` may `get`, `list`,
/// `watch` `pods` in `@own`.
///
/// The file may instead hold Kubernetes RBAC objects (`Role`, `ClusterRole`, `RoleBinding`,
/// `ClusterRoleBinding` of `rbac.authorization.k8s.io/v1`, one YAML document each or a `List`),
/// as `kubectl apply -f` takes them: they are created when the cluster starts and no legacy
/// rule applies.
#[derive(Debug, Clone, PartialEq)]
pub struct RbacRules {
    rules: Vec<Rule>,
    objects: Vec<serde_json::Value>,
}

impl Default for RbacRules {
    fn default() -> Self {
        RbacRules {
            objects: Vec::new(),
            rules: vec![Rule {
                subject: "system:serviceaccounts".into(),
                verbs: vec!["get".into(), "list".into(), "watch".into()],
                resources: vec!["pods".into()],
                namespaces: own_namespace(),
            }],
        }
    }
}

impl RbacRules {
    /// Parses the YAML format above.
    ///
    /// # Errors
    /// [`ClusterError::Rbac`] when the text is not that shape or a rule has an empty
    /// `subject`, `verbs` or `resources`.
    pub fn from_yaml(text: &str) -> Result<Self, ClusterError> {
        if let Some(objects) = rbac_objects(text)? {
            return Ok(RbacRules {
                rules: Vec::new(),
                objects,
            });
        }
        let doc: RulesDocument = serde_saphyr::from_str(text).map_err(|e| {
            ClusterError::Rbac(format!(
                "{e}; expected a list of {{subject: \"system:serviceaccount:NS:SA\", verbs: [get, list, watch], resources: [pods], namespaces: [NS]}}"
            ))
        })?;
        let rules = match doc {
            RulesDocument::List(r) | RulesDocument::Wrapped { rules: r } => r,
        };
        for (i, r) in rules.iter().enumerate() {
            if r.subject.is_empty()
                || r.verbs.is_empty()
                || r.resources.is_empty()
                || r.namespaces.is_empty()
            {
                return Err(ClusterError::Rbac(format!(
                    "rule {i}: subject, verbs, resources and namespaces must not be empty"
                )));
            }
        }
        Ok(RbacRules {
            rules,
            objects: Vec::new(),
        })
    }

    /// The RBAC objects to create at start (empty for the rule-list format).
    pub fn objects(&self) -> &[serde_json::Value] {
        &self.objects
    }

    /// The rules, in order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// True when `user` may do `attrs`.
    pub fn allows(&self, user: &UserInfo, attrs: &Attributes<'_>) -> bool {
        if user.groups.iter().any(|g| g == MASTERS_GROUP) {
            return true;
        }
        let resource = attrs.full_resource();
        self.rules.iter().any(|rule| {
            let subject_ok = rule.subject == "*"
                || rule.subject == user.name
                || user.groups.contains(&rule.subject);
            let verb_ok = rule.verbs.iter().any(|v| v == "*" || v == attrs.verb);
            let resource_ok = rule.resources.iter().any(|r| r == "*" || *r == resource);
            let ns_ok = rule.namespaces.iter().any(|n| {
                n == "*"
                    || (!attrs.namespace.is_empty()
                        && (n == attrs.namespace
                            || (n == OWN_NAMESPACE
                                && user.service_account_namespace.as_deref()
                                    == Some(attrs.namespace))))
            });
            subject_ok && verb_ok && resource_ok && ns_ok
        })
    }
}

/// The RBAC object kinds `--rbac FILE` may hold.
const RBAC_KINDS: &[&str] = &["Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"];

/// The documents of `text` when they are Kubernetes objects (they have a `kind`): `Some` with
/// the RBAC objects (`List` items flattened), an error naming any other kind; `None` for the
/// rule-list format.
fn rbac_objects(text: &str) -> Result<Option<Vec<serde_json::Value>>, ClusterError> {
    let Ok(docs) = serde_saphyr::from_multiple::<serde_json::Value>(text) else {
        return Ok(None);
    };
    let docs: Vec<serde_json::Value> = docs.into_iter().filter(|d| !d.is_null()).collect();
    if docs.is_empty() || !docs.iter().all(|d| d.get("kind").is_some()) {
        return Ok(None);
    }
    let mut out = Vec::new();
    for (i, d) in docs.into_iter().enumerate() {
        let items = if d["kind"] == "List" {
            d["items"].as_array().cloned().unwrap_or_default()
        } else {
            vec![d]
        };
        for o in items {
            let kind = o["kind"].as_str().unwrap_or("");
            let api_version = o["apiVersion"].as_str().unwrap_or("");
            if !RBAC_KINDS.contains(&kind) || api_version != "rbac.authorization.k8s.io/v1" {
                return Err(ClusterError::Rbac(format!(
                    "document {}: {api_version} {kind} is not an RBAC object; the file holds Role, ClusterRole, RoleBinding and ClusterRoleBinding objects of rbac.authorization.k8s.io/v1 (or the rule list format)",
                    i + 1
                )));
            }
            out.push(o);
        }
    }
    Ok(Some(out))
}

/// True when an RBAC object in the store grants `attrs` to `user`: a ClusterRoleBinding
/// anywhere, or a RoleBinding in the request's namespace, whose subjects include the user and
/// whose role has a matching rule (`plugin/pkg/auth/authorizer/rbac/rbac.go`
/// `VisitRulesFor`, `pkg/apis/rbac/v1/evaluation_helpers.go` `RuleAllows`: verbs, apiGroups,
/// resources with `*` and `*/subresource`, resourceNames). Users in `system:masters` are
/// always allowed by [`RbacRules::allows`].
pub fn allowed_by_objects(
    store: &crate::store::Store,
    user: &UserInfo,
    attrs: &Attributes<'_>,
) -> bool {
    granting_binding(store, user, attrs).is_some()
}

/// The binding that grants `attrs` to `user`, as `(binding kind, binding name, role kind,
/// role name)`, for the reason of a SelfSubjectAccessReview.
pub fn granting_binding(
    store: &crate::store::Store,
    user: &UserInfo,
    attrs: &Attributes<'_>,
) -> Option<(String, String, String, String)> {
    use crate::resources::find;
    const G: &str = "rbac.authorization.k8s.io";
    let (crb, rb, cr, role) = (
        find(G, "v1", "clusterrolebindings")?,
        find(G, "v1", "rolebindings")?,
        find(G, "v1", "clusterroles")?,
        find(G, "v1", "roles")?,
    );
    let rules_allow = |role_obj: Option<&serde_json::Value>| {
        role_obj
            .and_then(|r| r["rules"].as_array())
            .is_some_and(|rules| rules.iter().any(|rule| rule_allows(rule, attrs)))
    };
    for b in store.objects(crb, None) {
        if subjects_match(b, user, "")
            && b["roleRef"]["kind"] == "ClusterRole"
            && let Some(name) = b["roleRef"]["name"].as_str()
            && rules_allow(store.get(cr, "", name))
        {
            let bname = b["metadata"]["name"].as_str().unwrap_or("").to_owned();
            return Some((
                "ClusterRoleBinding".into(),
                bname,
                "ClusterRole".into(),
                name.into(),
            ));
        }
    }
    if attrs.namespace.is_empty() {
        return None;
    }
    for b in store.objects(rb, Some(attrs.namespace)) {
        if !subjects_match(b, user, attrs.namespace) {
            continue;
        }
        let Some(name) = b["roleRef"]["name"].as_str() else {
            continue;
        };
        let (kind, obj) = match b["roleRef"]["kind"].as_str() {
            Some("ClusterRole") => ("ClusterRole", store.get(cr, "", name)),
            Some("Role") => ("Role", store.get(role, attrs.namespace, name)),
            _ => continue,
        };
        if rules_allow(obj) {
            let bname = b["metadata"]["name"].as_str().unwrap_or("").to_owned();
            return Some(("RoleBinding".into(), bname, kind.into(), name.into()));
        }
    }
    None
}

/// Refuses an RBAC write that would grant permissions its author does not hold, as
/// kube-apiserver's RBAC storage does (`pkg/registry/rbac/role/policybased/storage.go`,
/// `rolebinding/policybased/storage.go` and their cluster-scoped twins: `ConfirmNoEscalation`,
/// `BindingAuthorized`, `EscalationAllowed`). `obj` is the Role/ClusterRole/RoleBinding/
/// ClusterRoleBinding about to be stored, `namespace` its namespace (`""` cluster-scoped).
///
/// Allowed for `system:masters`; for a role, when the user may `escalate` it or already holds
/// every rule (each verb × group × resource × resourceName allowed by the authorizers; `*`
/// only by `*`; `nonResourceURLs` rules need `escalate`); for a binding, when the user may
/// `bind` the referenced role or holds every rule of it.
///
/// # Errors
/// 403 `Forbidden` with upstream's text: `KIND.rbac.authorization.k8s.io "NAME" is forbidden:
/// user "U" (groups=["G" ...]) is attempting to grant RBAC permissions not currently held:`
/// followed by the rules not held.
pub fn confirm_no_escalation(
    store: &crate::store::Store,
    legacy: &RbacRules,
    user: &UserInfo,
    resource: &str,
    namespace: &str,
    obj: &serde_json::Value,
) -> Result<(), crate::status::Status> {
    const G: &str = "rbac.authorization.k8s.io";
    if user.groups.iter().any(|g| g == MASTERS_GROUP) {
        return Ok(());
    }
    let name = obj["metadata"]["name"].as_str().unwrap_or("");
    let allows = |verb: &str, group: &str, res: &str, res_name: &str, ns: &str| {
        let attrs = Attributes {
            verb,
            api_group: group,
            resource: res,
            subresource: "",
            namespace: ns,
            name: res_name,
        };
        legacy.allows(user, &attrs) || allowed_by_objects(store, user, &attrs)
    };
    let rules: Vec<serde_json::Value> = match resource {
        "roles" | "clusterroles" => {
            if allows("escalate", G, resource, name, namespace) {
                return Ok(());
            }
            obj["rules"].as_array().cloned().unwrap_or_default()
        }
        "rolebindings" | "clusterrolebindings" => {
            let role_kind = obj["roleRef"]["kind"].as_str().unwrap_or("");
            let role_name = obj["roleRef"]["name"].as_str().unwrap_or("");
            let (role_res, role_ns) = match role_kind {
                "ClusterRole" => ("clusterroles", ""),
                _ => ("roles", namespace),
            };
            // `bind` is asked in the binding's namespace (`BindingAuthorized`).
            if allows("bind", G, role_res, role_name, namespace) {
                return Ok(());
            }
            let r = crate::resources::find(G, "v1", role_res);
            r.and_then(|r| store.get(r, role_ns, role_name))
                .and_then(|role| role["rules"].as_array().cloned())
                .unwrap_or_default()
        }
        _ => return Ok(()),
    };
    let strings = |rule: &serde_json::Value, field: &str| -> Vec<String> {
        rule[field]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut missing = Vec::new();
    for rule in &rules {
        let verbs = strings(rule, "verbs");
        let groups = strings(rule, "apiGroups");
        let resources = strings(rule, "resources");
        let names = strings(rule, "resourceNames");
        let urls = strings(rule, "nonResourceURLs");
        let mut held = urls.is_empty();
        if held {
            let names: Vec<String> = if names.is_empty() {
                vec![String::new()]
            } else {
                names.clone()
            };
            'all: for v in &verbs {
                for g in &groups {
                    for r in &resources {
                        for n in &names {
                            // A rule on `resource/sub` is checked on that subresource.
                            let (res, sub) = r.split_once('/').unwrap_or((r, ""));
                            let attrs = Attributes {
                                verb: v,
                                api_group: g,
                                resource: res,
                                subresource: sub,
                                namespace,
                                name: n,
                            };
                            if !(legacy.allows(user, &attrs)
                                || allowed_by_objects(store, user, &attrs))
                            {
                                held = false;
                                break 'all;
                            }
                        }
                    }
                }
            }
        }
        if !held {
            missing.push(format_rule(&verbs, &groups, &resources, &names, &urls));
        }
    }
    if missing.is_empty() {
        return Ok(());
    }
    let groups: Vec<String> = user.groups.iter().map(|g| format!("{g:?}")).collect();
    let kind = resource.to_owned() + "." + G;
    let mut status = crate::status::Status::forbidden(
        &kind,
        name,
        &format!(
            "user {:?} (groups=[{}]) is attempting to grant RBAC permissions not currently held:\n{}",
            user.name,
            groups.join(" "),
            missing.join("\n")
        ),
    );
    if let Some(d) = status.details.as_mut() {
        d.kind = resource.to_owned();
        d.group = G.to_owned();
    }
    Err(status)
}

/// A rule as `rbacv1helpers.CompactString` prints it: `{APIGroups:["apps"], Resources:["deployments"], Verbs:["get"]}`.
fn format_rule(
    verbs: &[String],
    groups: &[String],
    resources: &[String],
    names: &[String],
    urls: &[String],
) -> String {
    let list = |v: &[String]| {
        v.iter()
            .map(|s| format!("{s:?}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut parts = Vec::new();
    if !groups.is_empty() {
        parts.push(format!("APIGroups:[{}]", list(groups)));
    }
    if !resources.is_empty() {
        parts.push(format!("Resources:[{}]", list(resources)));
    }
    if !names.is_empty() {
        parts.push(format!("ResourceNames:[{}]", list(names)));
    }
    if !urls.is_empty() {
        parts.push(format!("NonResourceURLs:[{}]", list(urls)));
    }
    parts.push(format!("Verbs:[{}]", list(verbs)));
    format!("{{{}}}", parts.join(", "))
}

/// `appliesToUser`: a `User` subject by name, a `Group` by membership, a `ServiceAccount` by
/// `system:serviceaccount:NS:NAME` (NS defaults to the binding's namespace).
fn subjects_match(binding: &serde_json::Value, user: &UserInfo, binding_ns: &str) -> bool {
    binding["subjects"].as_array().is_some_and(|subjects| {
        subjects.iter().any(|s| {
            let name = s["name"].as_str().unwrap_or("");
            match s["kind"].as_str() {
                Some("User") => name == user.name,
                Some("Group") => user.groups.iter().any(|g| g == name),
                Some("ServiceAccount") => {
                    let ns = s["namespace"]
                        .as_str()
                        .filter(|n| !n.is_empty())
                        .unwrap_or(binding_ns);
                    user.name == format!("system:serviceaccount:{ns}:{name}")
                }
                _ => false,
            }
        })
    })
}

/// True when `user` may `verb` (`get`) the non-resource `path` (`/metrics`): `system:masters`,
/// or a ClusterRoleBinding whose ClusterRole has a rule with the verb and a matching
/// `nonResourceURLs` entry (`pkg/apis/rbac/v1/evaluation_helpers.go` `NonResourceURLMatches`:
/// `*` matches every path, an entry ending in `*` is a prefix, any other entry is exact).
/// RoleBindings never grant non-resource paths (they are cluster-scoped).
pub fn allows_non_resource(
    store: &crate::store::Store,
    user: &UserInfo,
    verb: &str,
    path: &str,
) -> bool {
    if user.groups.iter().any(|g| g == MASTERS_GROUP) {
        return true;
    }
    const G: &str = "rbac.authorization.k8s.io";
    let (Some(crb), Some(cr)) = (
        crate::resources::find(G, "v1", "clusterrolebindings"),
        crate::resources::find(G, "v1", "clusterroles"),
    ) else {
        return false;
    };
    let rule_allows = |rule: &serde_json::Value| {
        let has = |field: &str, f: &dyn Fn(&str) -> bool| {
            rule[field]
                .as_array()
                .is_some_and(|a| a.iter().filter_map(serde_json::Value::as_str).any(f))
        };
        has("verbs", &|v| v == "*" || v == verb)
            && has("nonResourceURLs", &|u| {
                u == "*" || u == path || u.strip_suffix('*').is_some_and(|p| path.starts_with(p))
            })
    };
    store.objects(crb, None).any(|b| {
        subjects_match(b, user, "")
            && b["roleRef"]["kind"] == "ClusterRole"
            && b["roleRef"]["name"]
                .as_str()
                .and_then(|name| store.get(cr, "", name))
                .and_then(|role| role["rules"].as_array())
                .is_some_and(|rules| rules.iter().any(rule_allows))
    })
}

/// `RuleAllows` for a resource request.
fn rule_allows(rule: &serde_json::Value, attrs: &Attributes<'_>) -> bool {
    let list = |field: &str| -> Vec<&str> {
        rule[field]
            .as_array()
            .map(|a| a.iter().filter_map(serde_json::Value::as_str).collect())
            .unwrap_or_default()
    };
    let verbs = list("verbs");
    if !verbs.iter().any(|v| *v == "*" || *v == attrs.verb) {
        return false;
    }
    let groups = list("apiGroups");
    if !groups.iter().any(|g| *g == "*" || *g == attrs.api_group) {
        return false;
    }
    let combined = attrs.full_resource();
    let resources_ok = list("resources").iter().any(|r| {
        *r == "*"
            || *r == combined
            || (!attrs.subresource.is_empty()
                && r.len() == attrs.subresource.len() + 2
                && r.starts_with("*/")
                && r.ends_with(attrs.subresource))
    });
    if !resources_ok {
        return false;
    }
    let names = list("resourceNames");
    names.is_empty() || names.contains(&attrs.name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs<'a>(verb: &'a str, ns: &'a str) -> Attributes<'a> {
        Attributes {
            verb,
            api_group: "",
            resource: "pods",
            subresource: "",
            namespace: ns,
            name: "",
        }
    }

    #[test]
    fn default_rules_allow_own_namespace_reads_only() {
        let rules = RbacRules::default();
        let u = UserInfo::service_account("a", "reader");
        assert!(rules.allows(&u, &attrs("get", "a")));
        assert!(rules.allows(&u, &attrs("list", "a")));
        assert!(rules.allows(&u, &attrs("watch", "a")));
        assert!(!rules.allows(&u, &attrs("create", "a")));
        assert!(!rules.allows(&u, &attrs("list", "b")));
        assert!(!rules.allows(&u, &attrs("list", "")));
        assert!(rules.allows(&UserInfo::admin(), &attrs("delete", "")));
    }

    #[test]
    fn yaml_rules() {
        let rules = RbacRules::from_yaml(
            "- subject: \"system:serviceaccount:a:reader\"\n  verbs: [list]\n  resources: [pods]\n  namespaces: [\"*\"]\n",
        )
        .unwrap();
        let u = UserInfo::service_account("a", "reader");
        assert!(rules.allows(&u, &attrs("list", "")));
        assert!(rules.allows(&u, &attrs("list", "zzz")));
        assert!(!rules.allows(&u, &attrs("get", "a")));
        assert!(!rules.allows(
            &UserInfo::service_account("a", "other"),
            &attrs("list", "a")
        ));
        let wrapped = RbacRules::from_yaml(
            "rules:\n- {subject: x, verbs: [get], resources: [pods], namespaces: [b]}\n",
        )
        .unwrap();
        assert_eq!(wrapped.rules().len(), 1);
        assert!(RbacRules::from_yaml("- subject: x\n  verbs: []\n  resources: [pods]\n").is_err());
        assert!(RbacRules::from_yaml("- nope: 1\n").is_err());
    }

    #[test]
    fn rbac_manifests_are_objects_to_create() {
        let text = "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: r, namespace: a}\nrules: [{apiGroups: [\"\"], resources: [configmaps], verbs: [get]}]\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: b, namespace: a}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: r}\nsubjects: [{kind: ServiceAccount, name: reader, namespace: a}]\n";
        let rules = RbacRules::from_yaml(text).unwrap();
        assert!(rules.rules().is_empty());
        assert_eq!(rules.objects().len(), 2);
        assert_eq!(rules.objects()[1]["roleRef"]["name"], "r");
        let err = RbacRules::from_yaml("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid RBAC rules: document 1: v1 ConfigMap is not an RBAC object; the file holds Role, ClusterRole, RoleBinding and ClusterRoleBinding objects of rbac.authorization.k8s.io/v1 (or the rule list format)"
        );
    }

    #[test]
    fn forbidden_messages() {
        let u = UserInfo::service_account("a", "reader");
        assert_eq!(
            forbidden_message(&u, &attrs("list", "b")),
            "User \"system:serviceaccount:a:reader\" cannot list resource \"pods\" in API group \"\" in the namespace \"b\""
        );
        assert_eq!(
            forbidden_message(&u, &attrs("list", "")),
            "User \"system:serviceaccount:a:reader\" cannot list resource \"pods\" in API group \"\" at the cluster scope"
        );
        let sub = Attributes {
            verb: "create",
            api_group: "",
            resource: "serviceaccounts",
            subresource: "token",
            namespace: "a",
            name: "x",
        };
        assert!(
            forbidden_message(&u, &sub)
                .contains("cannot create resource \"serviceaccounts/token\"")
        );
    }
}
