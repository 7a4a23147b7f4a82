//! Go's `fmt` rendering of decoded JSON (`map[string]interface{}`, `[]interface{}`, `string`,
//! `int64`, `float64`, `bool`, `nil`), for error messages that upstream builds with `%v`, `%s`
//! and `reflect.TypeOf(...)`.
//!
//! Upstream decodes request bodies with `k8s.io/apimachinery/pkg/util/json.Unmarshal`, which
//! turns a JSON number into `int64` when it parses as one and into `float64` otherwise
//! (`convertMapNumbers` / `convertSliceNumbers` in
//! `staging/src/k8s.io/apimachinery/pkg/util/json/json.go`); `serde_json` keeps the same
//! distinction (`as_i64` is `Some` exactly for integers within `int64`).

use serde_json::{Map, Number, Value};

/// `%v` of a decoded JSON value: `map[k1:v1 k2:v2]` with sorted keys (Go's `fmt` sorts map keys),
/// `[a b]`, bare strings, `<nil>` for null.
pub(crate) fn v(value: &Value) -> String {
    let mut out = String::new();
    write_v(&mut out, value);
    out
}

/// `%v` of a `map[string]interface{}`.
pub(crate) fn v_map(map: &Map<String, Value>) -> String {
    let mut out = String::new();
    write_map(&mut out, map, write_v);
    out
}

/// `%v` of a `[][]interface{}` (what `fmt.Sprint(slices)` prints in `sliceElementType`).
pub(crate) fn v_slices(slices: &[&[Value]]) -> String {
    let mut out = String::from("[");
    for (i, slice) in slices.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        write_list(&mut out, slice, write_v);
    }
    out.push(']');
    out
}

/// `%s` of an `interface{}`: strings bare, everything else in Go's bad-verb form
/// (`%!s(int64=1)`, `%!s(bool=true)`, `%!s(<nil>)`), recursing into maps and slices as `fmt` does.
pub(crate) fn s(value: &Value) -> String {
    let mut out = String::new();
    write_s(&mut out, value);
    out
}

/// `reflect.TypeOf(x)` printed with `%s`: `map[string]interface {}`, `[]interface {}`, `string`,
/// `int64`, `float64`, `bool`; a nil interface (JSON null, or no value) prints `%!s(<nil>)`.
pub(crate) fn type_name(value: Option<&Value>) -> &'static str {
    match value {
        None | Some(Value::Null) => "%!s(<nil>)",
        Some(Value::Object(_)) => "map[string]interface {}",
        Some(Value::Array(_)) => "[]interface {}",
        Some(Value::String(_)) => "string",
        Some(Value::Bool(_)) => "bool",
        Some(Value::Number(n)) => {
            if n.as_i64().is_some() {
                "int64"
            } else {
                "float64"
            }
        }
    }
}

fn write_v(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("<nil>"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&number(n)),
        Value::String(s) => out.push_str(s),
        Value::Array(items) => write_list(out, items, write_v),
        Value::Object(map) => write_map(out, map, write_v),
    }
}

fn write_s(out: &mut String, value: &Value) {
    match value {
        Value::String(s) => out.push_str(s),
        Value::Array(items) => write_list(out, items, write_s),
        Value::Object(map) => write_map(out, map, write_s),
        Value::Null => out.push_str("%!s(<nil>)"),
        other => {
            out.push_str("%!s(");
            out.push_str(type_name(Some(other)));
            out.push('=');
            write_v(out, other);
            out.push(')');
        }
    }
}

fn write_list(out: &mut String, items: &[Value], each: fn(&mut String, &Value)) {
    out.push('[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        each(out, item);
    }
    out.push(']');
}

fn write_map(out: &mut String, map: &Map<String, Value>, each: fn(&mut String, &Value)) {
    let mut keys: Vec<&String> = map.keys().collect();
    keys.sort();
    out.push_str("map[");
    for (i, key) in keys.into_iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(key);
        out.push(':');
        if let Some(value) = map.get(key) {
            each(out, value);
        }
    }
    out.push(']');
}

/// An `int64` prints as itself; anything else was a `float64` upstream.
fn number(n: &Number) -> String {
    match n.as_i64() {
        Some(i) => i.to_string(),
        None => float(n.as_f64().unwrap_or_default()),
    }
}

/// `%v` of a `float64`, which is `%g` with the shortest precision: the shortest digits that
/// round-trip, in exponent form (`1e+06`, `1e-05`) when the decimal exponent is below -4 or at
/// least 6 (`strconv.FormatFloat(f, 'g', -1, 64)`, `%e` decision in Go's `strconv/ftoa.go`).
fn float(f: f64) -> String {
    if f == 0.0 || !f.is_finite() {
        return format!("{f}");
    }
    let sci = format!("{f:e}");
    let (mantissa, exponent) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    if (-4..6).contains(&exponent) {
        format!("{f}")
    } else {
        let sign = if exponent < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exponent.abs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn maps_print_with_sorted_keys_and_bare_strings() {
        let m = json!({"value": "b", "$patch": "foo", "n": 1, "f": 1.5, "l": ["x", 2], "z": null});
        assert_eq!(v(&m), "map[$patch:foo f:1.5 l:[x 2] n:1 value:b z:<nil>]");
    }

    #[test]
    fn floats_print_like_go_percent_v() {
        assert_eq!(v(&json!(1.0)), "1");
        assert_eq!(v(&json!(0.00001)), "1e-05");
        assert_eq!(v(&json!(1e21)), "1e+21");
        assert_eq!(v(&json!(1e6)), "1e+06");
        assert_eq!(v(&json!(999999.5)), "999999.5");
        assert_eq!(v(&json!(123456.5)), "123456.5");
        assert_eq!(v(&json!(18446744073709551615u64)), "1.8446744073709552e+19");
    }

    #[test]
    fn percent_s_of_non_strings_is_the_bad_verb_form() {
        assert_eq!(s(&json!("replace")), "replace");
        assert_eq!(s(&json!(1)), "%!s(int64=1)");
        assert_eq!(s(&json!(true)), "%!s(bool=true)");
        assert_eq!(s(&Value::Null), "%!s(<nil>)");
        assert_eq!(s(&json!({"a": 2})), "map[a:%!s(int64=2)]");
    }

    #[test]
    fn type_names_are_reflect_types() {
        assert_eq!(type_name(Some(&json!({}))), "map[string]interface {}");
        assert_eq!(type_name(Some(&json!([]))), "[]interface {}");
        assert_eq!(type_name(Some(&json!(2.5))), "float64");
        assert_eq!(type_name(Some(&json!(-3))), "int64");
        assert_eq!(type_name(None), "%!s(<nil>)");
    }

    #[test]
    fn slices_of_slices_print_nested() {
        assert_eq!(v_slices(&[&[json!("a"), json!(1)], &[]]), "[[a 1] []]");
    }
}
