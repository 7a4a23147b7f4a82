use super::*;

#[test]
fn parses_the_documented_example() {
    let (m, errors) =
        parse_fields("metadata.name=env:APP_POD,limits.cpu=file:/etc/x/cpu;divisor=1m");
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(
        m,
        vec![
            Mapping {
                field: "metadata.name".into(),
                source: MappedSource::Env("APP_POD".into()),
                divisor: None
            },
            Mapping {
                field: "limits.cpu".into(),
                source: MappedSource::File("/etc/x/cpu".into()),
                divisor: Some("1m".into())
            },
        ]
    );
}

#[test]
fn subscripted_and_whole_maps() {
    let (m, errors) =
        parse_fields("metadata.labels['app']=env:APP, metadata.annotations=file:/etc/a/ann");
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(m[0].field, "metadata.labels['app']");
    assert_eq!(m[1].source, MappedSource::File("/etc/a/ann".into()));
}

#[test]
fn bad_entries_name_the_entry_and_the_fix() {
    let cases = [
        ("metadata.name", "expected FIELD=env:NAME"),
        ("metadata.name=POD", "must start with env: or file:"),
        ("metadata.name=file:rel/path", "absolute path"),
        ("metadata.nam=env:X", "unknown field \"metadata.nam\""),
        ("limits.cpu=env:CPU;divisor=2m", "divisor"),
        ("metadata.name=env:X;divisor=1", "takes no divisor"),
        ("limits.memory=env:M;unit=1Mi", "unknown option"),
        ("metadata.name=env:", "needs a variable name"),
    ];
    for (input, want) in cases {
        let (m, errors) = parse_fields(input);
        assert!(m.is_empty(), "{input}");
        assert_eq!(errors.len(), 1, "{input}");
        assert!(errors[0].contains(want), "{input}: {}", errors[0]);
        assert!(errors[0].contains(FIELDS_ENV), "{input}: {}", errors[0]);
    }
}

#[test]
fn one_bad_entry_keeps_the_good_ones() {
    let (m, errors) = parse_fields("metadata.name=env:A,,bogus,metadata.uid=env:U");
    assert_eq!(m.len(), 2);
    assert_eq!(errors.len(), 1);
}

#[test]
fn an_entry_prints_as_it_parses() {
    for text in [
        "limits.cpu=file:/etc/x/cpu;divisor=1m",
        "metadata.labels['app']=env:APP",
        "requests.memory=env:MEM;divisor=1Mi",
    ] {
        let (m, errors) = parse_fields(text);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(m[0].to_string(), text);
    }
}

#[test]
fn mapped_dirs_are_parents_of_file_sources() {
    let (m, errors) = parse_fields(
        "metadata.name=env:X,limits.cpu=file:/etc/x/cpu;divisor=1m,metadata.labels=file:/l",
    );
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(mapped_file_dirs(&m), vec!["/etc/x".to_string()]);
}

#[test]
fn dirs_lists() {
    assert_eq!(
        parse_dirs("/etc/config::/etc/meta:"),
        vec!["/etc/config".to_string(), "/etc/meta".to_string()]
    );
    assert_eq!(parse_dirs(""), Vec::<String>::new());
    assert_eq!(
        join_dirs(&["/etc/config", "/etc/meta"]),
        "/etc/config:/etc/meta"
    );
    assert_eq!(join_dirs::<&str>(&[]), "");
    // Unset: the defaults; set but empty: none.
    assert_eq!(
        downward_dirs(None),
        vec!["/etc/podinfo".to_string(), "/etc/downward".to_string()]
    );
    assert!(downward_dirs(Some("")).is_empty());
    assert_eq!(downward_dirs(Some("/x")), vec!["/x".to_string()]);
}

#[test]
fn env_names() {
    assert_eq!(DOWNWARD_DIRS_ENV, "POD_INTROSPECT_DOWNWARD_DIRS");
    assert_eq!(FIELDS_ENV, "POD_INTROSPECT_FIELDS");
    assert_eq!(API_URL_ENV, "POD_INTROSPECT_API_URL");
}

#[test]
fn appended_fields_come_after_and_do_not_repeat() {
    let more = [
        "limits.cpu=file:/etc/podinfo/cpu_limit;divisor=1m",
        " metadata.name=env:APP_POD ",
    ];
    assert_eq!(
        append_fields(Some("metadata.name=env:APP_POD, ,"), &more),
        "metadata.name=env:APP_POD,limits.cpu=file:/etc/podinfo/cpu_limit;divisor=1m"
    );
    assert_eq!(
        append_fields(None, &more[..1]),
        "limits.cpu=file:/etc/podinfo/cpu_limit;divisor=1m"
    );
    assert_eq!(append_fields::<&str>(Some(""), &[]), "");
}
