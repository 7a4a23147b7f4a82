//! Label and field selectors (host/apiserver `selectors`), the `labelSelector` and
//! `fieldSelector` query parameters any client sends. Parsing never panics and is a function
//! of the input; a parsed selector matches label sets and field values without panicking, and
//! the empty label selector matches everything.
#![no_main]

use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use pod_introspect_apiserver::selectors::{FieldSelector, LabelSelector, POD_FIELDS};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // `selector\nlabels`: the labels as `k=v` lines after the first newline.
    let (selector, labels) = text.split_once('\n').unwrap_or((text, ""));
    let labels: BTreeMap<String, String> = labels
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let parsed = LabelSelector::parse(selector);
    assert_eq!(parsed, LabelSelector::parse(selector));
    if let Ok(s) = &parsed {
        let _ = s.matches(Some(&labels));
        let _ = s.matches(None);
        if s.is_empty() {
            assert!(s.matches(Some(&labels)) && s.matches(None));
        }
    }
    let field = FieldSelector::parse(selector, POD_FIELDS);
    assert_eq!(field, FieldSelector::parse(selector, POD_FIELDS));
    if let Ok(f) = field {
        let _ = f.matches(|name| labels.get(name).cloned().unwrap_or_default());
    }
});
