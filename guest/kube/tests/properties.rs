//! Property tests of the parsers that read what the kubelet writes, against rules stated
//! independently of our own writer:
//!
//! - Go `strconv.Unquote` inverts `strconv.Quote` for every Unicode string, and `\xNN` / octal
//!   escapes carry arbitrary bytes (Go quotes invalid UTF-8 as `\xNN`).
//! - The kubelet's `FormatMap` label file parses back to the same map for any values and any
//!   keys of the label-key alphabet (pkg/fieldpath/fieldpath.go).
//! - `resourceFieldRef` rounding (pkg/api/v1/resource/helpers.go `ExtractContainerResourceValue`)
//!   is the ceiling of the quotient computed in float64: exactly the integer ceiling below 2^53,
//!   computed here with u128 arithmetic from the quantity's own digits, not from our parser.

use pod_introspect_kube::quantity::{Quantity, ResourceKind, divide_ceil};
use pod_introspect_kube::{go_quote, map_file};
use proptest::prelude::*;
use std::collections::BTreeMap;

proptest! {
    // Failures are reported with the minimal input (and should become a unit test); nothing is
    // written beside the sources.
    #![proptest_config(ProptestConfig {
        cases: 2000,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn unquote_inverts_quote_for_any_unicode(s in any::<String>()) {
        let quoted = go_quote::quote(&s);
        prop_assert!(quoted.starts_with('"') && quoted.ends_with('"'), "{quoted}");
        prop_assert!(!quoted.contains('\n'), "a quoted value is one line: {quoted}");
        prop_assert_eq!(go_quote::unquote(&quoted).unwrap(), s.into_bytes());
    }

    #[test]
    fn hex_and_octal_escapes_carry_any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        let hex: String = bytes.iter().map(|b| format!("\\x{b:02x}")).collect();
        prop_assert_eq!(go_quote::unquote(&format!("\"{hex}\"")).unwrap(), bytes.clone());
        let upper: String = bytes.iter().map(|b| format!("\\x{b:02X}")).collect();
        prop_assert_eq!(go_quote::unquote(&format!("\"{upper}\"")).unwrap(), bytes.clone());
        let octal: String = bytes.iter().map(|b| format!("\\{b:03o}")).collect();
        prop_assert_eq!(go_quote::unquote(&format!("\"{octal}\"")).unwrap(), bytes);
    }

    #[test]
    fn label_files_parse_back_to_the_map(
        map in proptest::collection::btree_map(
            // A qualified label key: optional DNS prefix, then name characters.
            "([a-z0-9]([a-z0-9.-]{0,10}[a-z0-9])?/)?[A-Za-z0-9]([A-Za-z0-9_.-]{0,20}[A-Za-z0-9])?",
            any::<String>(),
            0..12,
        )
    ) {
        let text = map_file::format(&map);
        prop_assert!(!text.ends_with('\n'), "FormatMap trims the final newline");
        prop_assert_eq!(text.lines().count(), map.len());
        prop_assert_eq!(map_file::parse(&text).unwrap(), map);
    }

    #[test]
    fn annotation_values_with_invalid_utf8_become_one_replacement_per_byte(
        prefix in "[a-z]{0,8}",
        bad in proptest::collection::vec(0x80u8..=0xbf, 1..8),
    ) {
        // Lone continuation bytes are each invalid: Go's encoding/json gives one U+FFFD each.
        let escaped: String = bad.iter().map(|b| format!("\\x{b:02x}")).collect();
        let text = format!("k=\"{prefix}{escaped}\"");
        let parsed = map_file::parse(&text).unwrap();
        let expected: BTreeMap<String, String> =
            [("k".to_string(), format!("{prefix}{}", "\u{fffd}".repeat(bad.len())))].into();
        prop_assert_eq!(parsed, expected);
    }

    #[test]
    fn cpu_rounds_up_to_whole_cores_or_millicores(milli in 0u64..1_000_000_000_000) {
        let q = Quantity::parse(&format!("{milli}m")).unwrap();
        let cores = Quantity::parse("1").unwrap();
        let millicores = Quantity::parse("1m").unwrap();
        prop_assert_eq!(divide_ceil(ResourceKind::Cpu, &q, &cores) as u64, milli.div_ceil(1000));
        prop_assert_eq!(divide_ceil(ResourceKind::Cpu, &q, &millicores) as u64, milli);
        // An unset divisor, serialised by the API server as "0", means 1.
        let zero = Quantity::parse("0").unwrap();
        prop_assert_eq!(divide_ceil(ResourceKind::Cpu, &q, &zero) as u64, milli.div_ceil(1000));
    }

    #[test]
    fn bytes_round_up_to_the_divisor_through_float64(
        n in 0u64..(1 << 40),
        suffix in prop::sample::select(vec!["", "k", "M", "G", "Ki", "Mi", "Gi"]),
        divisor in prop::sample::select(vec!["1", "1k", "1M", "1G", "1T", "1Ki", "1Mi", "1Gi", "1Ti"]),
    ) {
        let unit = |s: &str| -> u128 {
            match s {
                "" => 1,
                "k" => 1_000,
                "M" => 1_000_000,
                "G" => 1_000_000_000,
                "T" => 1_000_000_000_000,
                "Ki" => 1 << 10,
                "Mi" => 1 << 20,
                "Gi" => 1 << 30,
                "Ti" => 1 << 40,
                other => unreachable!("{other}"),
            }
        };
        let bytes = n as u128 * unit(suffix);
        // apimachinery caps a quantity at 2^63 - 1 (Value() saturates): stay inside int64.
        prop_assume!(bytes < i64::MAX as u128);
        let div = unit(&divisor[1..]);
        let got = divide_ceil(
            ResourceKind::Memory,
            &Quantity::parse(&format!("{n}{suffix}")).unwrap(),
            &Quantity::parse(divisor).unwrap(),
        );
        // The kubelet: int64(math.Ceil(float64(value) / float64(divisor))).
        let float64 = (bytes as f64 / div as f64).ceil() as i64;
        prop_assert_eq!(got, float64);
        if bytes < (1 << 53) {
            prop_assert_eq!(got as u128, bytes.div_ceil(div));
        }
    }
}
