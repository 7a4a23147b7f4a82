//! Watch event lines (guest/kube `watch::parse_line`) and the `Status` of an in-stream ERROR
//! (guest/kube `status::Status::parse`), as the API server writes them. Round trips: an event
//! written back the way `api watch` prints it (`cli_output::watch_event`) parses to the same
//! event, and a Status that parses serialises (`to_json`) to one that parses equal.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pod_introspect_kube::cli_output::{render, watch_event};
use pod_introspect_kube::status::Status;
use pod_introspect_kube::watch::{WatchLine, parse_line};

fuzz_target!(|data: &[u8]| {
    match parse_line(data) {
        Ok(event @ WatchLine::Event { .. }) => {
            let WatchLine::Event { kind, object, .. } = &event else {
                unreachable!()
            };
            let printed = render(&watch_event(*kind, object), false);
            assert_eq!(
                parse_line(printed.as_bytes()),
                Ok(event.clone()),
                "{printed}"
            );
        }
        Ok(WatchLine::Error { code, body }) => {
            if let Some(status) = Status::parse(body.as_bytes(), code) {
                let json = status.to_json();
                assert_eq!(Status::parse(&json, 500), Some(status));
            }
        }
        Err(_) => {}
    }
    if let Some(status) = Status::parse(data, 503) {
        assert_eq!(Status::parse(&status.to_json(), 500), Some(status));
    }
});
