use super::*;
use std::time::Duration;

fn limits() -> Limits {
    Limits {
        timeout: Duration::from_secs(60),
        max_memory: 256 << 20,
    }
}

/// A host over an empty root with `env` as the container's env.
fn host(root: &std::path::Path, env: &[(&str, &str)]) -> GuestHost {
    GuestHost::new(
        &SandboxOptions {
            root: Some(root.to_path_buf()),
            env_clear: true,
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..SandboxOptions::default()
        },
        &[],
        false,
        limits(),
    )
    .expect("host")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_calls_reach_the_bundled_guest() {
    let root = tempfile::tempdir().unwrap();
    let host = host(
        root.path(),
        &[("POD_NAME", "web-0"), ("POD_NAMESPACE", "shop")],
    );
    let mut guest = BundledGuest::start(&host).await.expect("start");

    let report = guest.info_report(false, false).await.unwrap();
    assert_eq!(
        report.json,
        r#"{"name":"web-0","namespace":"shop","resources":{},"sources":{"metadata.name":"env:POD_NAME","metadata.namespace":"env:POD_NAMESPACE"},"errors":[]}"#
    );
    assert_eq!(report.error_count, 0);
    assert_eq!(report.nothing_found, None);

    let info = guest.info().await.unwrap();
    assert_eq!(info.name.as_deref(), Some("web-0"));
    assert_eq!(
        guest.field("metadata.namespace").await.unwrap().unwrap(),
        "shop"
    );

    // No KUBERNETES_SERVICE_HOST: the API calls fail as not-in-cluster, and so does a watch.
    let e = guest.server_version().await.unwrap().unwrap_err();
    let f = failure(&e);
    assert_eq!(f.kind, ApiErrorKind::NotInCluster);
    assert!(
        f.summary()
            .starts_with("error: not running in a cluster: KUBERNETES_SERVICE_HOST is not set"),
        "{}",
        f.summary()
    );
    let watch = guest
        .watch(&wit::WatchOptions {
            namespace: Some("shop".into()),
            label_selector: None,
            field_selector: None,
            resource_version: None,
            allow_bookmarks: false,
            timeout_seconds: None,
        })
        .await
        .unwrap();
    let e = guest.next_event(&watch).await.unwrap().unwrap_err();
    assert_eq!(failure(&e).kind, ApiErrorKind::NotInCluster);
    guest.end_watch(watch).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_root_is_noted_and_api_completion_fails_as_an_error_of_self() {
    let root = tempfile::tempdir().unwrap();
    let host = host(root.path(), &[]);
    let mut guest = BundledGuest::start(&host).await.expect("start");
    let report = guest.info_report(true, false).await.unwrap();
    assert_eq!(report.error_count, 1);
    let v: serde_json::Value = serde_json::from_str(&report.json).unwrap();
    assert_eq!(v["errors"][0]["field"], "self");
    let note = report.nothing_found.expect("nothing found");
    assert!(
        note.starts_with("no Downward API source was found: no downwardAPI volume files in /"),
        "{note}"
    );
    assert!(
        note.contains("POD_NAME, MY_POD_NAME")
            && note.contains("no /var/run/secrets/kubernetes.io/serviceaccount/namespace."),
        "{note}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_deadline_stops_work_and_names_the_flag() {
    let root = tempfile::tempdir().unwrap();
    let mut host = host(root.path(), &[]);
    host.limits.timeout = Duration::from_millis(50);
    let e = host
        .within_deadline(async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            Ok(())
        })
        .await
        .unwrap_err();
    assert!(e.to_string().contains("--timeout 0.05s"), "{e}");
}

#[test]
fn every_api_error_case_maps_to_its_kind_and_status() {
    let status = || wit::ApiStatus {
        code: 403,
        reason: "Forbidden".into(),
        message: "no".into(),
        details: None,
        status: String::new(),
    };
    let cases = [
        (
            wit::ApiError::NotInCluster("m".into()),
            ApiErrorKind::NotInCluster,
        ),
        (
            wit::ApiError::Credentials("m".into()),
            ApiErrorKind::Credentials,
        ),
        (
            wit::ApiError::Unauthorized(status()),
            ApiErrorKind::Unauthorized,
        ),
        (wit::ApiError::Forbidden(status()), ApiErrorKind::Forbidden),
        (wit::ApiError::NotFound(status()), ApiErrorKind::NotFound),
        (wit::ApiError::Gone(status()), ApiErrorKind::Gone),
        (wit::ApiError::Conflict(status()), ApiErrorKind::Conflict),
        (wit::ApiError::Rejected(status()), ApiErrorKind::Rejected),
        (
            wit::ApiError::ServerError(status()),
            ApiErrorKind::ServerError,
        ),
        (
            wit::ApiError::Transport("m".into()),
            ApiErrorKind::Transport,
        ),
        (wit::ApiError::Tls("m".into()), ApiErrorKind::Tls),
        (wit::ApiError::Invalid("m".into()), ApiErrorKind::Invalid),
    ];
    for (e, kind) in cases {
        let f = failure(&e);
        assert_eq!(f.kind, kind);
        let want = match &e {
            wit::ApiError::NotInCluster(_)
            | wit::ApiError::Credentials(_)
            | wit::ApiError::Transport(_)
            | wit::ApiError::Tls(_)
            | wit::ApiError::Invalid(_) => "m",
            _ => "403 Forbidden: no",
        };
        assert_eq!(f.to_string(), want);
    }
    // The Status's details reach the printed error: a 422's causes name the fields.
    let rejected = wit::ApiError::Rejected(wit::ApiStatus {
        code: 422,
        reason: "Invalid".into(),
        message: "ConfigMap \"Bad\" is invalid".into(),
        details: None,
        status: r#"{"kind":"Status","code":422,"reason":"Invalid","details":{"name":"Bad","kind":"ConfigMap","causes":[{"reason":"FieldValueInvalid","field":"metadata.name"}]}}"#.into(),
    });
    let json = failure(&rejected).json();
    assert_eq!(json["error"]["kind"], "rejected");
    assert_eq!(
        json["error"]["details"]["causes"][0]["field"],
        "metadata.name"
    );
    assert_eq!(
        event_type(wit::WatchEventKind::Bookmark),
        WatchEventType::Bookmark
    );
    assert_eq!(
        event_type(wit::WatchEventKind::Added),
        WatchEventType::Added
    );
    assert_eq!(
        event_type(wit::WatchEventKind::Modified),
        WatchEventType::Modified
    );
    assert_eq!(
        event_type(wit::WatchEventKind::Deleted),
        WatchEventType::Deleted
    );
}
