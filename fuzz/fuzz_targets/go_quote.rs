//! Go `strconv.Unquote` (guest/kube `go_quote::unquote`), the kubelet's label and annotation
//! values. Round trips: any text quotes and unquotes back to itself, and an accepted quoted
//! string that decodes to UTF-8 quotes to the kubelet's form, which unquotes to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pod_introspect_kube::go_quote::{quote, unquote};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    assert_eq!(unquote(&quote(text)).as_deref(), Ok(text.as_bytes()));
    match unquote(text) {
        Ok(bytes) => {
            if let Ok(value) = std::str::from_utf8(&bytes) {
                assert_eq!(unquote(&quote(value)).as_deref(), Ok(value.as_bytes()));
            }
        }
        Err(e) => assert!(
            e.offset <= text.len(),
            "offset {} beyond the input",
            e.offset
        ),
    }
});
