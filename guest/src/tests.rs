//! Native tests of the resolver on hand-made volume directories (kubelet format written by hand).

use crate::model::{Problem, Source};
use crate::resolve::Context;
use crate::resources::parse_resource_integer;
use pod_introspect_kube::contract::DOWNWARD_DIRS_ENV;
use std::collections::BTreeMap;
use std::os::unix::fs::symlink;
use std::path::Path;

struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Fixture {
        Fixture {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// A kubelet-layout volume `name` with `files`.
    fn volume(&self, name: &str, files: &[(&str, &str)]) -> String {
        let vol = self.dir.path().join(name);
        let data = vol.join("..2026_11_29_09_00_00.42");
        std::fs::create_dir_all(&data).unwrap();
        for (f, c) in files {
            std::fs::write(data.join(f), c).unwrap();
            symlink(format!("..data/{f}"), vol.join(f)).unwrap();
        }
        symlink("..2026_11_29_09_00_00.42", vol.join("..data")).unwrap();
        vol.to_str().unwrap().to_string()
    }

    fn context(&self, dirs: &[&str], env: &[(&str, &str)]) -> Context {
        let mut map: BTreeMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        map.insert(DOWNWARD_DIRS_ENV.into(), dirs.join(":"));
        let sa = self.dir.path().join("sa");
        Context::load(map, sa.to_str().unwrap())
    }
}

fn path(p: &str) -> &Path {
    Path::new(p)
}

#[test]
fn volume_file_beats_env_and_env_beats_service_account() {
    let f = Fixture::new();
    let vol = f.volume("podinfo", &[("pod_name", "from-file")]);
    f.volume("sa", &[("namespace", "from-sa")]);
    let ctx = f.context(
        &[&vol],
        &[("POD_NAME", "from-env"), ("POD_NAMESPACE", "ns-env")],
    );
    let info = ctx.info();
    assert_eq!(info.name.as_deref(), Some("from-file"));
    assert_eq!(info.namespace.as_deref(), Some("ns-env"));
    assert_eq!(
        info.sources["metadata.name"],
        Source::VolumeFile(format!("{vol}/pod_name"))
    );
    let ctx = f.context(&[&vol], &[]);
    assert_eq!(ctx.info().namespace.as_deref(), Some("from-sa"));
    assert!(path(&vol).exists());
}

#[test]
fn a_configuration_key_is_the_last_source() {
    let f = Fixture::new();
    f.volume("sa", &[("namespace", "from-sa")]);
    let config = [
        ("POD_INTROSPECT_CONFIG_pod_name", "from-config"),
        ("POD_INTROSPECT_CONFIG_pod_namespace", "ns-config"),
        ("POD_INTROSPECT_CONFIG_mem_limit", "67108864"),
    ];
    let ctx = f.context(&[], &config);
    let info = ctx.info();
    assert_eq!(info.name.as_deref(), Some("from-config"));
    assert_eq!(
        info.sources["metadata.name"],
        Source::Config("pod_name".into())
    );
    assert_eq!(info.sources["metadata.name"].to_string(), "config:pod_name");
    // The ServiceAccount namespace file comes before it.
    assert_eq!(info.namespace.as_deref(), Some("from-sa"));
    assert_eq!(info.resources["limits.memory"].value, 67108864);
    // And an env var set with fieldRef before that.
    let mut env = config.to_vec();
    env.push(("POD_NAME", "from-env"));
    assert_eq!(
        f.context(&[], &env).info().name.as_deref(),
        Some("from-env")
    );
}

#[test]
fn first_directory_wins_and_missing_directories_are_skipped() {
    let f = Fixture::new();
    let a = f.volume("a", &[("labels", "from=\"a\"")]);
    let b = f.volume("b", &[("labels", "from=\"b\""), ("annotations", "x=\"1\"")]);
    let info = f.context(&["/does/not/exist", &a, &b], &[]).info();
    assert_eq!(info.labels.unwrap()["from"], "a");
    assert_eq!(info.annotations.unwrap()["x"], "1");
    assert!(info.errors.is_empty(), "{:?}", info.errors);
}

#[test]
fn malformed_source_falls_through_to_the_next_and_is_reported() {
    let f = Fixture::new();
    let vol = f.volume("podinfo", &[("cpu_limit", "0.5")]);
    let info = f.context(&[&vol], &[("CPU_LIMIT", "1")]).info();
    assert_eq!(info.resources["limits.cpu"].value, 1);
    assert_eq!(info.sources["limits.cpu"], Source::Env("CPU_LIMIT".into()));
    assert_eq!(info.errors.len(), 1);
    assert!(
        matches!(&info.errors[0].problem, Problem::Malformed { reason, .. } if reason.contains("\"0.5\""))
    );
}

#[test]
fn accessors() {
    let f = Fixture::new();
    let vol = f.volume("podinfo", &[("labels", "app=\"web\"\ntier=\"db\"")]);
    let ctx = f.context(&[&vol], &[("POD_IPS", "10.1.2.3,fd00::3")]);
    assert_eq!(crate::field(&ctx, "metadata.labels['tier']").unwrap(), "db");
    // A missing key gives "" like the kubelet's ExtractFieldPathAsString.
    assert_eq!(crate::field(&ctx, "metadata.labels['nope']").unwrap(), "");
    assert_eq!(
        crate::field(&ctx, "status.podIPs").unwrap(),
        "10.1.2.3,fd00::3"
    );
    assert_eq!(crate::field(&ctx, "status.podIP").unwrap(), "10.1.2.3");
    match crate::field(&ctx, "spec.nodeName") {
        Err(Problem::NotExposed { field, hint }) => {
            assert_eq!(field, "spec.nodeName");
            assert!(hint.contains("fieldPath: spec.nodeName"), "{hint}");
        }
        other => panic!("{other:?}"),
    }
    match crate::field(&ctx, "metadata.annotations['a']") {
        Err(Problem::NotExposed { field, .. }) => assert_eq!(field, "metadata.annotations"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn resource_integers_are_strict() {
    assert_eq!(parse_resource_integer("500"), Ok(500));
    assert_eq!(parse_resource_integer("0"), Ok(0));
    for bad in [
        "",
        "500m",
        "-1",
        "+1",
        " 1",
        "1\n",
        "1.0",
        "18446744073709551616",
    ] {
        assert!(parse_resource_integer(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn resource_units() {
    use pod_introspect_kube::quantity::ResourceKind;
    let r = crate::resources::resource_value(ResourceKind::Cpu, 500, Some("1m".into()));
    assert_eq!((r.millicores, r.bytes), (Some(500), None));
    let r = crate::resources::resource_value(ResourceKind::Cpu, 2, Some("1".into()));
    assert_eq!(r.millicores, Some(2000));
    let r = crate::resources::resource_value(ResourceKind::Memory, 64, Some("1Mi".into()));
    assert_eq!((r.millicores, r.bytes), (None, Some(67_108_864)));
    let r = crate::resources::resource_value(ResourceKind::Memory, 3, Some("1k".into()));
    assert_eq!(r.bytes, Some(3000));
    let r = crate::resources::resource_value(ResourceKind::Memory, u64::MAX, Some("1Ki".into()));
    assert_eq!(r.bytes, None, "overflow gives none");
    let r = crate::resources::resource_value(ResourceKind::Cpu, 250, None);
    assert_eq!(
        (r.divisor.as_str(), r.millicores, r.bytes),
        ("1", None, None),
        "no unit figure without a declared divisor"
    );
}

mod api_client {
    use crate::api::*;
    use pod_introspect_kube::incluster::ApiLocation;
    use std::cell::RefCell;
    use std::collections::VecDeque;
    use std::rc::Rc;
    use std::time::Duration;

    /// A scripted response: status and body chunks.
    type Scripted = (u16, Vec<&'static str>);
    /// A recorded request: URL and Authorization header.
    type Seen = (String, Option<String>);

    /// A scripted server: each request pops the next (status, chunks); requests are recorded.
    #[derive(Clone, Default)]
    struct Fake {
        script: Rc<RefCell<VecDeque<Scripted>>>,
        seen: Rc<RefCell<Vec<Seen>>>,
    }

    struct Chunks(VecDeque<Vec<u8>>);
    impl BodyStream for Chunks {
        fn next_chunk(&mut self) -> Result<Option<Vec<u8>>, ApiError> {
            Ok(self.0.pop_front())
        }
    }

    impl Transport for Fake {
        fn send(&mut self, req: Request<'_>) -> Result<Response, ApiError> {
            let auth = req
                .headers
                .iter()
                .find(|(k, _)| k == "authorization")
                .map(|(_, v)| v.clone());
            self.seen.borrow_mut().push((req.url.to_string(), auth));
            let (status, chunks) = self
                .script
                .borrow_mut()
                .pop_front()
                .ok_or_else(|| ApiError::Transport("connection refused".into()))?;
            Ok(Response {
                status,
                headers: vec![("content-type".into(), "application/json".into())],
                body: Box::new(Chunks(
                    chunks.into_iter().map(|c| c.as_bytes().to_vec()).collect(),
                )),
            })
        }
    }

    fn client(fake: &Fake, tokens: &'static [&'static str], send_token: bool) -> Client<Fake> {
        let reads = Rc::new(RefCell::new(tokens.iter()));
        Client::new(
            fake.clone(),
            ApiLocation {
                base_url: "https://10.96.0.1:443".into(),
                send_token,
            },
            Box::new(move || {
                reads
                    .borrow_mut()
                    .next()
                    .map(|t| t.as_bytes().to_vec())
                    .ok_or_else(|| "gone".to_string())
            }),
            Box::new(|| Duration::ZERO),
        )
    }

    const FORBIDDEN: &str = r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"pods is forbidden: User \"system:serviceaccount:demo:default\" cannot list resource \"pods\" in API group \"\" in the namespace \"kube-system\"","reason":"Forbidden","details":{"kind":"pods"},"code":403}"#;

    #[test]
    fn status_objects_map_to_error_cases() {
        match status_error(403, FORBIDDEN.as_bytes()) {
            ApiError::Forbidden(s) => {
                assert_eq!(s.reason, "Forbidden");
                assert!(
                    s.message.starts_with(
                        "pods is forbidden: User \"system:serviceaccount:demo:default\""
                    )
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(
            matches!(status_error(404, b"not json"), ApiError::NotFound(s) if s.reason == "NotFound" && s.message == "not json")
        );
        assert!(
            matches!(status_error(410, br#"{"kind":"Status","reason":"Expired","code":410,"message":"too old"}"#), ApiError::Gone(s) if s.reason == "Expired")
        );
        assert!(matches!(status_error(503, b""), ApiError::ServerError(s) if s.code == 503));
        assert!(
            matches!(status_error(400, br#"{"kind":"Status","code":400,"reason":"BadRequest","message":"unable to parse requirement"}"#), ApiError::Rejected(s) if s.reason == "BadRequest" && s.message == "unable to parse requirement" && s.status.contains("\"kind\":\"Status\""))
        );
        // A 422 keeps the whole Status: its causes name each invalid field.
        let invalid = br#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"ConfigMap \"Bad\" is invalid: metadata.name: Invalid value: \"Bad\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters","reason":"Invalid","details":{"name":"Bad","kind":"ConfigMap","causes":[{"reason":"FieldValueInvalid","message":"Invalid value: \"Bad\": a lowercase RFC 1123 subdomain","field":"metadata.name"}]},"code":422}"#;
        match status_error(422, invalid) {
            ApiError::Rejected(s) => {
                let d = s.details.expect("details");
                assert_eq!((d.name.as_str(), d.kind.as_str()), ("Bad", "ConfigMap"));
                assert_eq!(d.causes[0].field, "metadata.name");
                assert_eq!(d.causes[0].reason, "FieldValueInvalid");
            }
            other => panic!("422 is rejected, got {other:?}"),
        }
        assert!(matches!(status_error(409, b"{}"), ApiError::Conflict(_)));
        assert!(matches!(
            status_error(401, b"{}"),
            ApiError::Unauthorized(_)
        ));
    }

    #[test]
    fn a_401_rereads_the_token_and_retries_once() {
        let fake = Fake::default();
        fake.script.borrow_mut().extend([
            (401, vec!["{}"]),
            (200, vec![r#"{"major":"1","#, r#""minor":"33"}"#]),
        ]);
        let mut c = client(&fake, &["old\n", "new"], true);
        let v = c.get_json("/version").unwrap();
        assert_eq!(v["minor"], "33");
        let seen = fake.seen.borrow();
        assert_eq!(
            seen[0],
            (
                "https://10.96.0.1:443/version".into(),
                Some("Bearer old".into())
            )
        );
        assert_eq!(seen[1].1.as_deref(), Some("Bearer new"));
    }

    #[test]
    fn a_second_401_is_unauthorized_and_no_token_goes_to_an_ambassador() {
        let fake = Fake::default();
        fake.script.borrow_mut().extend([(401, vec!["{}"]), (401, vec![r#"{"kind":"Status","code":401,"reason":"Unauthorized","message":"Unauthorized"}"#])]);
        let mut c = client(&fake, &["t1", "t2"], true);
        assert!(matches!(c.get_json("/api"), Err(ApiError::Unauthorized(_))));
        let fake = Fake::default();
        fake.script.borrow_mut().push_back((200, vec!["{}"]));
        let mut c = client(&fake, &[], false);
        c.get_json("/api").unwrap();
        assert_eq!(fake.seen.borrow()[0].1, None);
    }

    #[test]
    fn list_pods_builds_the_query_and_reads_the_page() {
        let fake = Fake::default();
        fake.script.borrow_mut().push_back((200, vec![r#"{"kind":"PodList","metadata":{"resourceVersion":"42","continue":"abc","remainingItemCount":3},"items":[{"metadata":{"name":"a"}},{"metadata":{"name":"b"}}]}"#]));
        let mut c = client(&fake, &["t"], true);
        let page = c
            .list_pods(&ListOptions {
                namespace: Some("demo".into()),
                label_selector: Some("app=web,tier in (a,b)".into()),
                limit: Some(2),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(
            fake.seen.borrow()[0].0,
            "https://10.96.0.1:443/api/v1/namespaces/demo/pods?labelSelector=app%3Dweb%2Ctier%20in%20%28a%2Cb%29&limit=2"
        );
        assert_eq!(page.items.len(), 2);
        assert_eq!(page.resource_version, "42");
        assert_eq!(page.continue_token.as_deref(), Some("abc"));
        assert_eq!(page.remaining_item_count, Some(3));
    }

    #[test]
    fn watch_splits_lines_across_chunks_and_resumes_from_the_last_rv() {
        let fake = Fake::default();
        fake.script.borrow_mut().extend([
            (200, vec![r#"{"type":"ADDED","object":{"metadata":{"name":"a","resourceVersion":"5"}}}"#, "\n{\"type\":\"BOOK", r#"MARK","object":{"metadata":{"resourceVersion":"7"}}}"#, "\n"]),
            (200, vec![r#"{"type":"DELETED","object":{"metadata":{"name":"a","resourceVersion":"9"}}}"#, "\n"]),
        ]);
        let mut c = client(&fake, &["t"], true);
        let mut w = ObjectWatch::pods(WatchOptions {
            namespace: Some("demo".into()),
            allow_bookmarks: true,
            resource_version: Some("4".into()),
            ..Default::default()
        });
        assert_eq!(w.next(&mut c).unwrap().kind, EventKind::Added);
        let b = w.next(&mut c).unwrap();
        assert_eq!(
            (b.kind, b.resource_version.as_str()),
            (EventKind::Bookmark, "7")
        );
        assert_eq!(w.next(&mut c).unwrap().kind, EventKind::Deleted);
        assert_eq!(w.resource_version().as_deref(), Some("9"));
        let seen = fake.seen.borrow();
        assert_eq!(
            seen[0].0,
            "https://10.96.0.1:443/api/v1/namespaces/demo/pods?watch=true&resourceVersion=4&allowWatchBookmarks=true"
        );
        assert_eq!(
            seen[1].0,
            "https://10.96.0.1:443/api/v1/namespaces/demo/pods?watch=true&resourceVersion=7&allowWatchBookmarks=true"
        );
    }

    #[test]
    fn watch_reports_gone_in_stream_and_as_status() {
        let fake = Fake::default();
        fake.script.borrow_mut().push_back((200, vec![r#"{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"too old resource version: 5 (12)","reason":"Expired","code":410}}"#, "\n"]));
        let mut c = client(&fake, &["t"], true);
        let mut w = ObjectWatch::pods(WatchOptions {
            resource_version: Some("5".into()),
            ..Default::default()
        });
        assert!(
            matches!(w.next(&mut c), Err(ApiError::Gone(s)) if s.message.contains("too old resource version"))
        );
        let fake = Fake::default();
        fake.script.borrow_mut().push_back((
            410,
            vec![r#"{"kind":"Status","code":410,"reason":"Expired","message":"too old"}"#],
        ));
        let mut c = client(&fake, &["t"], true);
        let mut w = ObjectWatch::pods(WatchOptions {
            resource_version: Some("5".into()),
            ..Default::default()
        });
        assert!(matches!(w.next(&mut c), Err(ApiError::Gone(_))));
    }

    #[test]
    fn a_watch_without_a_resource_version_lists_first_and_watches_from_the_list() {
        let fake = Fake::default();
        fake.script.borrow_mut().extend([
            (200, vec![r#"{"kind":"PodList","metadata":{"resourceVersion":"20"},"items":[{"metadata":{"name":"a","resourceVersion":"11"}}]}"#]),
            (200, vec![r#"{"type":"ADDED","object":{"metadata":{"name":"b","resourceVersion":"21"}}}"#, "\n"]),
        ]);
        let mut c = client(&fake, &["t"], true);
        let mut w = ObjectWatch::pods(WatchOptions {
            namespace: Some("demo".into()),
            ..Default::default()
        });
        let first = w.next(&mut c).unwrap();
        assert_eq!(
            (first.kind, first.resource_version.as_str()),
            (EventKind::Added, "11")
        );
        assert_eq!(w.next(&mut c).unwrap().resource_version, "21");
        // Watching resumed from the list's resourceVersion, not the oldest object's.
        assert_eq!(
            fake.seen.borrow()[1].0,
            "https://10.96.0.1:443/api/v1/namespaces/demo/pods?watch=true&resourceVersion=20"
        );
    }

    #[test]
    fn a_watch_closed_at_once_again_and_again_gives_up() {
        let fake = Fake::default();
        fake.script
            .borrow_mut()
            .extend([(200, vec![]), (200, vec![]), (200, vec![])]);
        let mut c = client(&fake, &["t"], true);
        let mut w = ObjectWatch::pods(WatchOptions {
            resource_version: Some("1".into()),
            ..Default::default()
        });
        assert!(
            matches!(w.next(&mut c), Err(ApiError::Transport(m)) if m.contains("closed 3 times"))
        );
    }

    #[test]
    fn a_token_with_a_line_break_inside_is_a_credentials_error() {
        let fake = Fake::default();
        let mut c = client(&fake, &["abc\r\ndef"], true);
        assert!(
            matches!(c.get_json("/version"), Err(ApiError::Credentials(m)) if m.contains("control character") && !m.contains("abc"))
        );
        assert!(fake.seen.borrow().is_empty(), "nothing was sent");
    }

    #[test]
    fn the_token_never_appears_in_errors() {
        let fake = Fake::default();
        let mut c = client(&fake, &["s3cr3t-token"], true);
        let e = c.get_json("/version").unwrap_err();
        assert!(!format!("{e} {e:?}").contains("s3cr3t"), "{e:?}");
    }
}
