//! Percent-decoding as Go's `net/url` does it, for request paths and query strings, and the one
//! percent-encoder for path segments and query components ([`encode_component`]).
//!
//! Upstream: Go `net/url/url.go` (`unescape` with `encodePath` and `encodeQueryComponent`,
//! `PathUnescape`, `QueryUnescape`, `ParseQuery`). A `%` must be followed by two hex digits,
//! else the whole string is refused; `+` is a space only in a query component. Decoded bytes
//! that are not UTF-8 become U+FFFD (Go keeps the bytes; Go's regexp and our `String`s treat such
//! bytes as U+FFFD).

/// How `+` is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Path,
    Query,
}

fn unescape(raw: &str, mode: Mode) -> Option<String> {
    if !raw.contains('%') && (mode == Mode::Path || !raw.contains('+')) {
        return Some(raw.to_string());
    }
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = |b: u8| (b as char).to_digit(16);
                let hi = bytes.get(i + 1).copied().and_then(hex)?;
                let lo = bytes.get(i + 2).copied().and_then(hex)?;
                out.push((hi * 16 + lo) as u8);
                i += 3;
            }
            b'+' if mode == Mode::Query => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    Some(String::from_utf8_lossy(&out).into_owned())
}

/// Go `url.PathUnescape`: `%XX` becomes the byte, `+` stays `+`; `None` for a `%` not followed
/// by two hex digits (Go: `invalid URL escape`).
pub fn path_unescape(raw: &str) -> Option<String> {
    unescape(raw, Mode::Path)
}

/// Go `url.QueryUnescape`: like [`path_unescape`], and `+` is a space.
pub fn query_unescape(raw: &str) -> Option<String> {
    unescape(raw, Mode::Query)
}

/// Go `url.ParseQuery` (what `req.URL.Query()` returns): `&`-separated `key=value` pairs in order,
/// a pair without `=` has an empty value, empty pairs are skipped, and a pair whose key or value
/// has an invalid escape is dropped (Go records the error, which `URL.Query()` ignores). Go
/// (since 1.17) also drops a pair that contains `;`.
pub fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty() && !p.contains(';'))
        .filter_map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            Some((query_unescape(k)?, query_unescape(v)?))
        })
        .collect()
}

/// A boolean query parameter as the API server reads it (apimachinery
/// `pkg/runtime/conversion.go` `Convert_Slice_string_To_bool`): absent is false, a value of
/// `0` or `false` (any case) is false, and any other value is true, the empty one included
/// (`?watch` and `?watch=True`, which the Python client sends, both watch).
pub fn query_flag(value: Option<&str>) -> bool {
    match value {
        None => false,
        Some(v) => v != "0" && !v.eq_ignore_ascii_case("false"),
    }
}

/// Percent-encodes one path segment or query key/value: the RFC 3986 unreserved characters
/// (`A-Z a-z 0-9 - . _ ~`) stay as they are, every other byte becomes `%XX` (uppercase hex), a
/// space included (`%20`, never `+`). For example `system:node/a b` becomes
/// `system%3Anode%2Fa%20b`.
///
/// This escapes more than Go's `url.PathEscape` (which keeps `:` `@` `=` and a few more); the API
/// server unescapes either the same way, so the request reaches the same object.
pub fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_components() {
        assert_eq!(encode_component("web-0.x_y~"), "web-0.x_y~");
        assert_eq!(encode_component("system:node/a b"), "system%3Anode%2Fa%20b");
        assert_eq!(encode_component("é"), "%C3%A9");
        assert_eq!(
            path_unescape(&encode_component("a/b%c d")).unwrap(),
            "a/b%c d"
        );
    }

    #[test]
    fn paths() {
        assert_eq!(path_unescape("/a%2Fb").unwrap(), "/a/b");
        assert_eq!(path_unescape("/pods/x/%65xec").unwrap(), "/pods/x/exec");
        assert_eq!(path_unescape("/a+b").unwrap(), "/a+b");
        assert_eq!(path_unescape("/a%zz"), None);
        assert_eq!(path_unescape("/a%4"), None);
        assert_eq!(path_unescape("/%ff").unwrap(), "/\u{fffd}");
    }

    #[test]
    fn boolean_query_parameters_read_like_the_api_server() {
        for (v, want) in [
            (None, false),
            (Some("0"), false),
            (Some("false"), false),
            (Some("FALSE"), false),
            (Some("False"), false),
            (Some("true"), true),
            (Some("True"), true),
            (Some("1"), true),
            (Some(""), true),
            (Some("yes"), true),
        ] {
            assert_eq!(query_flag(v), want, "{v:?}");
        }
    }

    #[test]
    fn queries() {
        assert_eq!(query_unescape("a+b%3Dc").unwrap(), "a b=c");
        assert_eq!(query_unescape("%41").unwrap(), "A");
        assert_eq!(query_unescape("50%"), None);
        assert_eq!(
            parse_query("labelSelector=app%3Dweb&limit=10&watch&&x=a+b&bad=%zz&k;x=1&v=a;b"),
            vec![
                ("labelSelector".to_string(), "app=web".to_string()),
                ("limit".to_string(), "10".to_string()),
                ("watch".to_string(), String::new()),
                ("x".to_string(), "a b".to_string()),
            ]
        );
        assert!(parse_query("").is_empty());
    }
}
