//! Label and field selectors (host/apiserver `selectors`), the `labelSelector` and
//! `fieldSelector` query parameters any client sends. Parsing never panics and is a function
//! of the input; a parsed selector matches label sets and field values without panicking, and
//! the empty label selector matches everything. Each valid label written as a selector (`k=v`,
//! `k in (v)`, `!k`, ...) holds or fails on its own label set as it should, and a value escaped
//! for a field selector selects exactly that value.
#![no_main]

use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use pod_introspect_apiserver::selectors::{FieldSelector, LabelSelector, POD_FIELDS};
use pod_introspect_kube::names::{is_qualified_name, is_valid_label_value};

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
    // Each valid label, as a selector, holds for the labels it came from.
    for (k, v) in &labels {
        if !is_qualified_name(k).is_empty() || !is_valid_label_value(v).is_empty() {
            continue;
        }
        for (s, want) in [
            (format!("{k}={v}"), true),
            (format!("{k}=={v}"), true),
            (format!("{k} in ({v})"), true),
            (k.to_string(), true),
            (format!("{k}!={v}"), false),
            (format!("{k} notin ({v})"), false),
            (format!("!{k}"), false),
        ] {
            let parsed = LabelSelector::parse(&s).unwrap_or_else(|e| panic!("{s:?}: {e}"));
            assert_eq!(parsed.matches(Some(&labels)), want, "{s:?} on {labels:?}");
        }
    }
    // A field value escaped as the field grammar says selects exactly that value.
    if let Some(v) = labels.values().next() {
        let mut escaped = String::new();
        for c in v.chars() {
            if matches!(c, '\\' | ',' | '=') {
                escaped.push('\\');
            }
            escaped.push(c);
        }
        let s = format!("metadata.name={escaped}");
        let f = FieldSelector::parse(&s, POD_FIELDS).unwrap_or_else(|e| panic!("{s:?}: {e}"));
        assert!(f.matches(|_| v.clone()), "{s:?}");
        assert!(!f.matches(|_| format!("{v}x")), "{s:?}");
    }
    let field = FieldSelector::parse(selector, POD_FIELDS);
    assert_eq!(field, FieldSelector::parse(selector, POD_FIELDS));
    if let Ok(f) = field {
        let _ = f.matches(|name| labels.get(name).cloned().unwrap_or_default());
    }
});
