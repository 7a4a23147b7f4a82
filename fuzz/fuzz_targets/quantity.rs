//! Quantities and divisors (guest/kube `quantity`). Round trip: a quantity that parses prints
//! (apimachinery `String()`) to text that parses to an equal quantity with the same text;
//! `value()` is `milli_value()` rounded once more; divisor validation and the kubelet's
//! division never panic, and a valid divisor of a
//! non-negative quantity gives a non-negative result.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pod_introspect_kube::quantity::{Quantity, ResourceKind, divide_ceil, validate_divisor};

const KINDS: [ResourceKind; 4] = [
    ResourceKind::Cpu,
    ResourceKind::Memory,
    ResourceKind::EphemeralStorage,
    ResourceKind::HugePages,
];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // `quantity|divisor`, or one quantity used as both.
    let (q_text, d_text) = text.split_once('|').unwrap_or((text, text));
    let Ok(q) = Quantity::parse(q_text) else {
        return;
    };
    let printed = q.to_string();
    let again = Quantity::parse(&printed)
        .unwrap_or_else(|e| panic!("{q_text:?} printed as {printed:?}, which does not parse: {e}"));
    assert_eq!(again, q, "{q_text:?} printed as {printed:?}");
    assert_eq!(again.to_string(), printed, "{q_text:?}");
    // Both round away from zero, so unless the thousandths saturate, the whole units are
    // the thousandths rounded away from zero again.
    let (value, milli) = (q.value(), q.milli_value());
    if milli != i64::MAX && milli != i64::MIN {
        let whole = milli.unsigned_abs().div_ceil(1000) as i64;
        assert_eq!(value, if milli < 0 { -whole } else { whole }, "{q_text:?}");
    }
    let Ok(d) = Quantity::parse(d_text) else {
        return;
    };
    for kind in KINDS {
        if validate_divisor(kind, &d).is_ok() {
            let n = divide_ceil(kind, &q, &d);
            if q.milli_value() >= 0 {
                assert!(n >= 0, "{q_text:?} / {d_text:?} = {n}");
            }
        }
    }
});
