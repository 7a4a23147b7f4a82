use super::*;
use pod_introspect_kube::contract::DOWNWARD_DIRS_ENV;
use std::collections::BTreeMap;

/// A transport that is never reached (the client factory fails first).
struct Unreachable;

impl Transport for Unreachable {
    fn send(&mut self, _req: crate::api::Request<'_>) -> Result<crate::api::Response, ApiError> {
        Err(ApiError::Transport("unreachable".into()))
    }
}

fn context(dir: &std::path::Path, env: &[(&str, &str)]) -> Context {
    let mut map: BTreeMap<String, String> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let podinfo = dir.join("podinfo");
    map.insert(DOWNWARD_DIRS_ENV.into(), podinfo.to_str().unwrap().into());
    Context::load(map, dir.join("sa").to_str().unwrap())
}

fn no_client() -> Result<Client<Unreachable>, ApiError> {
    Err(ApiError::NotInCluster(
        "KUBERNETES_SERVICE_HOST is not set".into(),
    ))
}

#[test]
fn an_empty_root_says_where_it_looked() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = context(dir.path(), &[]);
    let r = build(&ctx, false, false, &mut no_client);
    assert_eq!(r.json, r#"{"resources":{},"sources":{},"errors":[]}"#);
    assert_eq!(r.error_count, 0);
    let note = r.nothing_found.expect("nothing found");
    let podinfo = dir.path().join("podinfo");
    let sa = dir.path().join("sa");
    assert!(
        note.starts_with(&format!(
            "no Downward API source was found: no downwardAPI volume files in {}; none of the env \
             vars POD_NAME, MY_POD_NAME, POD_NAMESPACE,",
            podinfo.display()
        )),
        "{note}"
    );
    assert!(
        note.contains(&format!("no {}/namespace.", sa.display())),
        "{note}"
    );
}

#[test]
fn one_env_var_is_a_source_found() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = context(dir.path(), &[("POD_NAME", "web-0")]);
    let r = build(&ctx, false, true, &mut no_client);
    assert_eq!(r.nothing_found, None);
    assert_eq!(
        r.json,
        "{\n  \"name\": \"web-0\",\n  \"resources\": {},\n  \"sources\": {\n    \"metadata.name\": \"env:POD_NAME\"\n  },\n  \"errors\": []\n}"
    );
}

#[test]
fn mapped_env_names_are_listed_first_and_once() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = context(
        dir.path(),
        &[(
            "POD_INTROSPECT_FIELDS",
            "metadata.name=env:APP_POD,metadata.uid=env:POD_NAME",
        )],
    );
    let names = ctx.env_names();
    assert_eq!(&names[..3], ["APP_POD", "POD_NAME", "MY_POD_NAME"]);
    assert_eq!(names.iter().filter(|n| *n == "POD_NAME").count(), 1);
}

#[test]
fn api_without_a_client_is_an_error_of_self_and_still_notes_nothing_found() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = context(dir.path(), &[]);
    let r = build(&ctx, true, false, &mut no_client);
    assert_eq!(r.error_count, 1);
    assert!(r.nothing_found.is_some());
    let v: serde_json::Value = serde_json::from_str(&r.json).unwrap();
    assert_eq!(v["errors"][0]["field"], "self");
    assert_eq!(v["errors"][0]["kind"], "api");
    assert_eq!(
        v["errors"][0]["message"],
        "Kubernetes API: KUBERNETES_SERVICE_HOST is not set"
    );
}
