use super::*;

fn q(text: &str) -> Quantity {
    Quantity::parse(text).unwrap_or_else(|err| panic!("{text:?}: {err}"))
}

/// (input, Value(), MilliValue(), String()) as apimachinery computes them.
#[test]
fn divides_through_float64_like_the_kubelet() {
    // float64(9007199254740993) is 9007199254740992; 999999999999999999 rounds to 1e18.
    assert_eq!(
        divide_ceil(ResourceKind::Memory, &q("9007199254740993"), &q("1")),
        9007199254740992
    );
    assert_eq!(
        divide_ceil(ResourceKind::Memory, &q("999999999999999999"), &q("1")),
        1000000000000000000
    );
    assert_eq!(
        divide_ceil(ResourceKind::Memory, &q("9007199254740991"), &q("1")),
        9007199254740991
    );
}

#[test]
fn parses_values_like_apimachinery() {
    let table: &[(&str, i64, i64, &str)] = &[
        ("0", 0, 0, "0"),
        ("1", 1, 1000, "1"),
        ("500m", 1, 500, "500m"),
        ("250m", 1, 250, "250m"),
        ("1.5", 2, 1500, "1500m"),
        ("0.5", 1, 500, "500m"),
        ("2", 2, 2000, "2"),
        ("100m", 1, 100, "100m"),
        ("1000m", 1, 1000, "1"),
        ("0.001", 1, 1, "1m"),
        ("0.0001", 1, 1, "100u"),
        ("1n", 1, 1, "1n"),
        ("5n", 1, 1, "5n"),
        ("4u", 1, 1, "4u"),
        ("8k", 8000, 8_000_000, "8k"),
        ("50k", 50_000, 50_000_000, "50k"),
        ("7M", 7_000_000, 7_000_000_000, "7M"),
        ("6G", 6_000_000_000, 6_000_000_000_000, "6G"),
        ("100M", 100_000_000, 100_000_000_000, "100M"),
        ("1E", 1_000_000_000_000_000_000, i64::MAX, "1E"),
        ("1Ki", 1024, 1_024_000, "1Ki"),
        ("8Ki", 8192, 8_192_000, "8Ki"),
        ("64Mi", 67_108_864, 67_108_864_000, "64Mi"),
        ("1Gi", 1_073_741_824, 1_073_741_824_000, "1Gi"),
        ("1024Mi", 1_073_741_824, 1_073_741_824_000, "1Gi"),
        ("307200Ki", 314_572_800, 314_572_800_000, "300Mi"),
        ("3Ei", 3 << 60, i64::MAX, "3Ei"),
        ("1e3", 1000, 1_000_000, "1e3"),
        ("1E3", 1000, 1_000_000, "1E3"),
        ("1E-2", 1, 10, "10e-3"),
        ("1e-3", 1, 1, "1e-3"),
        ("1.2e3", 1200, 1_200_000, "1200"),
        ("1.3E+6", 1_300_000, 1_300_000_000, "1300e3"),
        ("1e0", 1, 1000, "1e0"),
        (".5", 1, 500, "500m"),
        ("5.", 5, 5000, "5."),
        ("1.", 1, 1000, "1."),
        ("1.G", 1_000_000_000, 1_000_000_000_000, "1.G"),
        (".001", 1, 1, "1m"),
        (".0001k", 1, 100, "100m"),
        ("100.035k", 100_035, 100_035_000, "100.035k"),
        ("10.035M", 10_035_000, 10_035_000_000, "10.035M"),
        ("1.5Gi", 1_610_612_736, 1_610_612_736_000, "1536Mi"),
        ("0.5Mi", 524_288, 524_288_000, "512Ki"),
        ("100.035Ki", 102_436, 102_435_840, "102435840m"),
        (".001Ki", 2, 1024, "1024m"),
        (".000000001Ki", 1, 1, "1024n"),
        // Finer than a nano: rounded up to whole nanos, and 0 < x < 1 leaves BinarySI.
        (".000000000001Ki", 1, 1, "2n"),
        ("0.0000000001", 1, 1, "1n"),
        ("3.001n", 1, 1, "4n"),
        ("0.9n", 1, 1, "1n"),
        ("1.1E-9", 1, 1, "2e-9"),
        ("0.00000012345", 1, 1, "124n"),
        ("1e-20", 1, 1, "1e-9"),
        // Binary SI is capped at 2^63 - 1.
        ("9Ei", i64::MAX, i64::MAX, "9223372036854775807"),
        (
            "9223372036854775807Ki",
            i64::MAX,
            i64::MAX,
            "9223372036854775807",
        ),
        ("12E", i64::MAX, i64::MAX, "12E"),
        ("1000E", i64::MAX, i64::MAX, "1e21"),
        ("+1", 1, 1000, "+1"),
        ("+500m", 1, 500, "+500m"),
        ("01", 1, 1000, "01"),
        ("00", 0, 0, "0"),
        ("0m", 0, 0, "0"),
        ("0Ki", 0, 0, "0"),
        ("-0", 0, 0, "0"),
        ("1.500", 2, 1500, "1.500"),
        ("3Ki", 3072, 3_072_000, "3Ki"),
        // Digit-less numbers on apimachinery's fast path are zero.
        ("Ki", 0, 0, "0"),
        ("m", 0, 0, "0"),
        (".", 0, 0, "0"),
        ("-", 0, 0, "0"),
        ("+", 0, 0, "0"),
        ("e5", 0, 0, "0"),
        // Negative values round away from zero.
        ("-1", -1, -1000, "-1"),
        ("-1.5", -2, -1500, "-1500m"),
        ("-500m", -1, -500, "-500m"),
        ("-0.5n", -1, -1, "-1n"),
        ("-1Ki", -1024, -1_024_000, "-1Ki"),
        ("-9Ei", -i64::MAX, i64::MIN, "-9223372036854775807"),
        // Beyond i64: exact, the accessors saturate.
        (
            "9223372036854775808",
            i64::MAX,
            i64::MAX,
            "9223372036854775808",
        ),
        (
            "-9223372036854775809",
            i64::MIN,
            i64::MIN,
            "-9223372036854775809",
        ),
        (
            "123456789012345678901234567890123456789012345",
            i64::MAX,
            i64::MAX,
            "123456789012345678901234567890123456789012345",
        ),
        ("1e2147483647", i64::MAX, i64::MAX, "10e2147483646"),
        ("1e-2147483647", 1, 1, "1e-9"),
        ("1.000000001", 2, 1001, "1.000000001"),
    ];
    for (text, value, milli, string) in table {
        let quantity = q(text);
        assert_eq!(quantity.value(), *value, "{text}.Value()");
        assert_eq!(quantity.milli_value(), *milli, "{text}.MilliValue()");
        assert_eq!(quantity.go_string, *string, "{text}.String()");
    }
}

#[test]
fn canonical_strings_match_apimachinery_string_tests() {
    // (input, String()) from apimachinery's TestQuantityString alternates and TestQuantityParseEmit.
    let table: &[(&str, &str)] = &[
        ("1024Mi", "1Gi"),
        ("307200Ki", "300Mi"),
        ("1025024Mi", "1001Gi"),
        ("1024Gi", "1Ti"),
        ("5000m", "5"),
        ("0.5", "500m"),
        ("1000M", "1G"),
        ("0.001T", "1G"),
        ("1000u", "1m"),
        ("1.08", "1080m"),
        ("1080000000n", "1080m"),
        (".001e12", "1e9"),
        ("0.001e0", "1e-3"),
        ("1000e-12", "1e-9"),
        ("00", "0"),
        ("1000E", "1e21"),
        ("5000E", "5e21"),
        ("1000000E", "1e24"),
        (".001Ki", "1024m"),
        (".000001Ki", "1024u"),
        (".000000001Ki", "1024n"),
        (".000000000001Ki", "2n"),
        ("1Ki", "1Ki"),
        ("1025", "1025"),
        ("80e-3", "80e-3"),
        ("300e6", "300e6"),
    ];
    for (text, string) in table {
        assert_eq!(q(text).go_string, *string, "{text}");
    }
}

#[test]
fn rejects_malformed_quantities() {
    let table: &[(&str, &str)] = &[
        ("", "empty"),
        (" 1", "malformed"),
        ("1 ", "malformed"),
        ("1 Gi", "malformed"),
        ("1.2.3", "malformed"),
        ("1.1.M", "malformed"),
        ("1+1.0M", "malformed"),
        ("aoeu", "malformed"),
        ("0.1am", "malformed"),
        ("1_000", "malformed"),
        ("1,5", "malformed"),
        ("\u{661}", "malformed"),
        ("1\u{b5}", "malformed"),
        ("1\n", "malformed"),
        ("1K", "unknown suffix \"K\""),
        ("1i", "unknown suffix \"i\""),
        (".5i", "unknown suffix"),
        ("-3.01i", "unknown suffix"),
        ("0.1mi", "unknown suffix \"mi\""),
        ("1e", "unknown suffix \"e\""),
        ("-3.01e-", "unknown suffix"),
        ("1Kie3", "unknown suffix"),
        ("1e4294967297", "unknown suffix"),
        ("1e2147483648", "unknown suffix"),
        ("1e-2147483648", "unknown suffix"),
        ("1e99999999999999999999", "unknown suffix"),
        ("--1", "unknown suffix \"-1\""),
        ("e-10", "no digits"),
        (".e-10", "no digits"),
    ];
    for (text, reason) in table {
        let err = Quantity::parse(text).expect_err(text);
        assert!(err.0.contains(reason), "{text:?}: {err}");
        assert!(
            err.0.contains(&format!("{text:?}")),
            "error quotes the input: {err}"
        );
        assert!(err.0.contains("Ki Mi Gi"), "error names the forms: {err}");
    }
}

/// apimachinery's String() output parses back to the same value (its round-trip tests).
#[test]
fn strings_parse_back_to_the_same_value() {
    let inputs = [
        "0",
        "1",
        "1.5",
        "0.5",
        "100.035k",
        "1.5Gi",
        "100.035Ki",
        ".000000000001Ki",
        "9Ei",
        "1E-2",
        "1.3E+6",
        "1000E",
        "-1.5",
        "-9Ei",
        "3.001n",
        "1e-20",
        "123456789012345678901234",
        "1e2147483647",
        "64Mi",
        "307200Ki",
        "+1",
        "01",
        "1.500",
        "1.",
    ];
    for text in inputs {
        let quantity = q(text);
        assert_eq!(
            q(&quantity.go_string),
            quantity,
            "{text} -> {}",
            quantity.go_string
        );
    }
}

#[test]
fn equality_is_numeric() {
    assert_eq!(q("1000m"), q("1"));
    assert_eq!(q("1Ki"), q("1024"));
    assert_eq!(q("1e3"), q("1k"));
    assert_eq!(q("0"), q("-0"));
    assert_eq!(q("0Ki"), q("0m"));
    assert_ne!(q("1"), q("-1"));
    assert_ne!(q("1Ki"), q("1k"));
    assert!(q("0").is_zero() && q("0Mi").is_zero() && !q("1n").is_zero());
}

/// (kind, quantity, divisor, what the kubelet writes).
#[test]
fn divide_ceil_matches_kubelet_rounding() {
    use ResourceKind::*;
    let table: &[(ResourceKind, &str, &str, i64)] = &[
        (Cpu, "500m", "1", 1),
        (Cpu, "500m", "1m", 500),
        (Cpu, "250m", "1", 1),
        (Cpu, "250m", "1m", 250),
        (Cpu, "1.5", "1", 2),
        (Cpu, "1.5", "1m", 1500),
        (Cpu, "2", "1", 2),
        (Cpu, "2", "1m", 2000),
        (Cpu, "1", "0", 1),
        (Cpu, "250m", "0", 1),
        (Cpu, "0", "1", 0),
        (Cpu, "0", "1m", 0),
        (Cpu, "100u", "1m", 1),
        (Cpu, "1001m", "1", 2),
        (Cpu, "4", "1000m", 4),
        (Memory, "64Mi", "1", 67_108_864),
        (Memory, "64Mi", "1Mi", 64),
        (Memory, "64Mi", "1Ki", 65_536),
        (Memory, "64Mi", "1M", 68),
        (Memory, "64Mi", "1Gi", 1),
        (Memory, "64Mi", "0", 67_108_864),
        (Memory, "100M", "1Mi", 96),
        (Memory, "100M", "1M", 100),
        (Memory, "128974848", "1Mi", 123),
        (Memory, "129e6", "1Mi", 124),
        (Memory, "1.5", "1", 2),
        (Memory, "1Gi", "1k", 1_073_742),
        (Memory, "0", "1Mi", 0),
        (EphemeralStorage, "2Gi", "1Gi", 2),
        (EphemeralStorage, "1G", "1Gi", 1),
        (EphemeralStorage, "10G", "0", 10_000_000_000),
        (HugePages, "2Mi", "1Ki", 2048),
        (HugePages, "1Gi", "1Mi", 1024),
        (Memory, "9Ei", "1", i64::MAX),
        (Memory, "8Ei", "1Ei", 8),
        (Memory, "1Ki", "-1", -1024),
    ];
    for (kind, quantity, divisor, want) in table {
        assert_eq!(
            divide_ceil(*kind, &q(quantity), &q(divisor)),
            *want,
            "{kind:?} {quantity} / {divisor}"
        );
    }
}

#[test]
fn divisors_validate_like_the_api_server() {
    use ResourceKind::*;
    let accepted: &[(ResourceKind, &str)] = &[
        (Cpu, "1"),
        (Cpu, "1m"),
        (Cpu, "0"),
        (Cpu, "0m"),
        (Cpu, "1000m"),
        (Cpu, "0.001"),
        (Memory, "1"),
        (Memory, "0"),
        (Memory, "1k"),
        (Memory, "1M"),
        (Memory, "1G"),
        (Memory, "1T"),
        (Memory, "1P"),
        (Memory, "1E"),
        (Memory, "1Ki"),
        (Memory, "1Mi"),
        (Memory, "1Gi"),
        (Memory, "1Ti"),
        (Memory, "1Pi"),
        (Memory, "1Ei"),
        (Memory, "1000"),
        (Memory, "1000k"),
        (Memory, "1024Ki"),
        (Memory, "0.001T"),
        (EphemeralStorage, "1Gi"),
        (EphemeralStorage, "0Ki"),
        (HugePages, "1Mi"),
        (HugePages, "1"),
    ];
    for (kind, divisor) in accepted {
        assert_eq!(
            validate_divisor(*kind, &q(divisor)),
            Ok(()),
            "{kind:?} {divisor}"
        );
    }
    let rejected: &[(ResourceKind, &str)] = &[
        (Cpu, "1k"),
        (Cpu, "1Ki"),
        (Cpu, "0.5"),
        (Cpu, "2"),
        (Cpu, "1u"),
        (Cpu, "1e-3"),
        (Cpu, "1e0"),
        (Cpu, "+1"),
        (Cpu, "01"),
        (Cpu, "-1"),
        (Memory, "1m"),
        (Memory, "1024"),
        (Memory, "2Mi"),
        (Memory, "1e3"),
        (Memory, "0.5Ki"),
        (Memory, "1.500"),
        (EphemeralStorage, "1m"),
        (HugePages, "2Mi"),
    ];
    for (kind, divisor) in rejected {
        let err = validate_divisor(*kind, &q(divisor)).expect_err(divisor);
        assert!(err.0.contains("only divisor's values"), "{err}");
    }
    let err = validate_divisor(Cpu, &q("0.5")).unwrap_err();
    assert_eq!(
        err.0,
        "divisor \"500m\" is not valid for the cpu resource: only divisor's values 1m, 1 are supported with the cpu resource (0 or unset means 1)"
    );
    let err = validate_divisor(HugePages, &q("3")).unwrap_err();
    assert!(
        err.0
            .contains("1, 1k, 1M, 1G, 1T, 1P, 1E, 1Ki, 1Mi, 1Gi, 1Ti, 1Pi, 1Ei"),
        "{err}"
    );
    assert!(err.0.contains("hugepages"), "{err}");
}
