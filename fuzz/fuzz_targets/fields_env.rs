//! `POD_INTROSPECT_FIELDS` and `POD_INTROSPECT_DOWNWARD_DIRS` (guest/kube `contract`), set by
//! whoever writes the manifest. Round trips: every accepted entry prints (`Display`) to an
//! entry that parses alone to the same mapping, the accepted entries joined by `,` parse to the
//! same list, and a directory list joins and splits back to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pod_introspect_kube::contract::{join_dirs, mapped_file_dirs, parse_dirs, parse_fields};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (mappings, errors) = parse_fields(text);
    for e in &errors {
        assert!(e.starts_with("POD_INTROSPECT_FIELDS entry "), "{e}");
    }
    for m in &mappings {
        let printed = m.to_string();
        assert_eq!(
            parse_fields(&printed),
            (vec![m.clone()], vec![]),
            "{printed:?}"
        );
    }
    let joined: Vec<String> = mappings.iter().map(ToString::to_string).collect();
    assert_eq!(parse_fields(&joined.join(",")), (mappings.clone(), vec![]));
    for dir in mapped_file_dirs(&mappings) {
        assert!(dir.starts_with('/') && dir != "/", "{dir:?}");
    }

    let dirs = parse_dirs(text);
    assert_eq!(parse_dirs(&join_dirs(&dirs)), dirs);
});
