use super::*;

#[test]
fn api_errors_render_kind_status_and_summary() {
    let forbidden = ApiFailure {
        kind: ApiErrorKind::Forbidden,
        detail: FailureDetail::Status {
            code: 403,
            reason: "Forbidden",
            message: "pods is forbidden",
            status: r#"{"kind":"Status","code":403,"reason":"Forbidden","details":{"kind":"pods"}}"#,
        },
    };
    assert_eq!(
        render(&forbidden.json(), false),
        r#"{"error":{"code":403,"details":{"kind":"pods"},"kind":"forbidden","message":"pods is forbidden","reason":"Forbidden"}}"#
    );
    assert_eq!(
        forbidden.summary(),
        "error: 403 Forbidden: pods is forbidden"
    );
    let missing = ApiFailure {
        kind: ApiErrorKind::NotInCluster,
        detail: FailureDetail::Message("KUBERNETES_SERVICE_HOST is not set"),
    };
    assert_eq!(
        render(&missing.json(), false),
        r#"{"error":{"kind":"not-in-cluster","message":"KUBERNETES_SERVICE_HOST is not set"}}"#
    );
    assert_eq!(
        missing.summary(),
        "error: KUBERNETES_SERVICE_HOST is not set"
    );
    assert_eq!(
        render(&missing.json(), true),
        "{\n  \"error\": {\n    \"kind\": \"not-in-cluster\",\n    \"message\": \"KUBERNETES_SERVICE_HOST is not set\"\n  }\n}"
    );
}

#[test]
fn every_kind_has_its_wit_case_name() {
    let all = [
        (ApiErrorKind::NotInCluster, "not-in-cluster"),
        (ApiErrorKind::Credentials, "credentials"),
        (ApiErrorKind::Unauthorized, "unauthorized"),
        (ApiErrorKind::Forbidden, "forbidden"),
        (ApiErrorKind::NotFound, "not-found"),
        (ApiErrorKind::Gone, "gone"),
        (ApiErrorKind::Conflict, "conflict"),
        (ApiErrorKind::Rejected, "rejected"),
        (ApiErrorKind::ServerError, "server-error"),
        (ApiErrorKind::Transport, "transport"),
        (ApiErrorKind::Tls, "tls"),
        (ApiErrorKind::Invalid, "invalid"),
    ];
    for (kind, name) in all {
        assert_eq!(kind.name(), name);
    }
}

#[test]
fn pod_list_has_the_api_servers_shape() {
    let items = vec![
        r#"{"metadata":{"name":"a"}}"#.to_string(),
        "not json".to_string(),
    ];
    assert_eq!(
        render(&pod_list(&items, "42", Some("tok"), Some(3)), false),
        r#"{"apiVersion":"v1","items":[{"metadata":{"name":"a"}}],"kind":"PodList","metadata":{"continue":"tok","remainingItemCount":3,"resourceVersion":"42"}}"#
    );
    assert_eq!(
        render(&pod_list(&[], "7", None, None), false),
        r#"{"apiVersion":"v1","items":[],"kind":"PodList","metadata":{"resourceVersion":"7"}}"#
    );
}

#[test]
fn get_keeps_a_json_body_and_quotes_any_other() {
    assert_eq!(
        render(&get_response(404, r#"{"kind":"Status","code":404}"#), false),
        r#"{"body":{"code":404,"kind":"Status"},"status":404}"#
    );
    assert_eq!(
        render(&get_response(200, "plain text"), false),
        r#"{"body":"plain text","status":200}"#
    );
    assert!(get_succeeded(200) && get_succeeded(299));
    assert!(!get_succeeded(199) && !get_succeeded(300) && !get_succeeded(404));
}

#[test]
fn watch_events_are_one_line_each() {
    assert_eq!(
        render(&watch_event(WatchEventType::Deleted, r#"{"a":1}"#), false),
        r#"{"object":{"a":1},"type":"DELETED"}"#
    );
    assert_eq!(
        render(&watch_event(WatchEventType::Bookmark, "{"), false),
        r#"{"object":null,"type":"BOOKMARK"}"#
    );
    assert_eq!(WatchEventType::Added.name(), "ADDED");
    assert_eq!(WatchEventType::Modified.name(), "MODIFIED");
}

#[test]
fn nothing_found_names_where_it_looked() {
    let dirs = vec!["/etc/podinfo".to_string(), "/etc/downward".to_string()];
    let env = vec!["POD_NAME".to_string(), "MY_POD_NAME".to_string()];
    let note = nothing_found(&Searched {
        volume_dirs: &dirs,
        env_names: &env,
        service_account_dir: "/var/run/secrets/kubernetes.io/serviceaccount",
    });
    assert!(
        note.starts_with(
            "no Downward API source was found: no downwardAPI volume files in /etc/podinfo, \
             /etc/downward; none of the env vars POD_NAME, MY_POD_NAME; no \
             /var/run/secrets/kubernetes.io/serviceaccount/namespace."
        ),
        "{note}"
    );
    let none = nothing_found(&Searched {
        volume_dirs: &[],
        env_names: &env,
        service_account_dir: "/sa/",
    });
    assert!(
        none.contains("files in (none);") && none.contains("no /sa/namespace."),
        "{none}"
    );
}

#[test]
fn info_outcome_applies_strict_to_errors_and_to_nothing_found() {
    assert_eq!(info_outcome(0, None, false), (vec![], false));
    assert_eq!(info_outcome(0, None, true), (vec![], false));
    assert_eq!(info_outcome(2, None, false), (vec![], false));
    assert_eq!(
        info_outcome(2, None, true),
        (
            vec!["error: 2 field(s) had errors (--strict)".to_string()],
            true
        )
    );
    assert_eq!(
        info_outcome(0, Some("nothing"), false),
        (vec!["warning: nothing".to_string()], false)
    );
    assert_eq!(
        info_outcome(0, Some("nothing"), true),
        (vec!["error: nothing (--strict)".to_string()], true)
    );
}

#[test]
fn list_namespace_is_all_then_flag_then_own_then_default() {
    let own = || Some("shop".to_string());
    assert_eq!(list_namespace(true, Some("x"), own), None);
    assert_eq!(
        list_namespace(false, Some("x"), || panic!("not asked")),
        Some("x".into())
    );
    assert_eq!(list_namespace(false, None, own), Some("shop".into()));
    assert_eq!(list_namespace(false, None, || None), Some("default".into()));
}

#[test]
fn label_overwrites_are_refused_as_kubectl_refuses_them() {
    let labels = json!({"app": "web", "tier": "gold"});
    let set = |k: &str, v: Option<&str>| (k.to_string(), v.map(String::from));
    assert_eq!(
        overwrite_conflicts(
            &labels,
            &[
                set("app", Some("api")),
                set("tier", Some("gold")),
                set("new", Some("x"))
            ]
        ),
        Some("'app' already has a value (web), and --overwrite is false".into())
    );
    assert_eq!(overwrite_conflicts(&labels, &[set("app", None)]), None);
    assert_eq!(
        overwrite_conflicts(&Value::Null, &[set("app", Some("x"))]),
        None
    );
}
