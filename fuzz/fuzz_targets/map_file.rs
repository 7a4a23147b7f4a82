//! The kubelet's labels/annotations file (guest/kube `map_file::parse`). Round trip: a file
//! that parses formats (kubelet `FormatMap`) to a file that parses to the same map.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pod_introspect_kube::map_file::{format, parse};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match parse(text) {
        Ok(map) => assert_eq!(parse(&format(&map)), Ok(map)),
        Err(e) => assert!(e.line >= 1 && e.line <= text.split('\n').count()),
    }
});
