//! The kubelet's file format for `metadata.labels` and `metadata.annotations` volume items.
//!
//! Upstream: kubernetes `pkg/fieldpath/fieldpath.go` `FormatMap`: keys in byte-sorted order, one
//! `key="value"` line each (`fmt.Sprintf("%v=%q\n", k, v)`), and the final newline trimmed, so an empty
//! map is an empty file and there is no trailing newline.

use std::collections::BTreeMap;
use std::fmt;

use crate::go_quote;

/// A line of a labels/annotations file that does not have the kubelet's `key="value"` form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapFileError {
    /// 1-based line number in the file.
    pub line: usize,
    /// What is wrong with that line and how the kubelet would have written it.
    pub reason: String,
}

impl fmt::Display for MapFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

impl std::error::Error for MapFileError {}

/// The form every line must have, quoted in error reasons.
const EXPECTED: &str = "expected key=\"value\" (kubelet FormatMap form)";

/// Formats a label or annotation map exactly as the kubelet's `FormatMap` does.
///
/// Output: one `key=` + [`go_quote::quote`]`(value)` line per entry in byte order of the keys
/// (`BTreeMap<String, _>` iterates in that order, like Go's `sets.String.List()`), joined by `\n`,
/// with no trailing newline; an empty map gives an empty string. Keys are written as they are: a key
/// containing `=` or a newline (never a valid label or annotation key) would not parse back.
pub fn format(map: &BTreeMap<String, String>) -> String {
    let mut out = String::new();
    for (i, (key, value)) in map.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(key);
        out.push('=');
        out.push_str(&go_quote::quote(value));
    }
    out
}

/// Parses a labels/annotations file written by the kubelet.
///
/// Each line is split at its first `=`; the key must be non-empty and the value a Go quoted string
/// (see [`crate::go_quote::unquote`]). An empty file is an empty map. A value whose escapes decode to
/// bytes that are not UTF-8 (`\xff`) is converted with U+FFFD replacing each invalid byte, the way
/// Go's `encoding/json` (and so the API server) treats invalid UTF-8 in strings: `\xff` gives one
/// U+FFFD, a truncated sequence such as `\xe2\x82` gives two (where `String::from_utf8_lossy`
/// would give one).
/// Errors name the 1-based line; the whole file is rejected on the first bad line.
///
/// Lines are separated by `\n` only. Because the kubelet trims the final newline and writes no
/// blank lines, an empty line anywhere in a non-empty file, including the one a trailing `\n` leaves
/// at the end, is an error; so is a `\r` after the closing quote (CRLF line ends), text after the
/// closing quote, and a key that appears twice (the error names both lines).
pub fn parse(text: &str) -> Result<BTreeMap<String, String>, MapFileError> {
    let mut map = BTreeMap::new();
    if text.is_empty() {
        return Ok(map);
    }
    // 1-based line of each key, to name the first occurrence of a duplicate.
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for (index, line) in text.split('\n').enumerate() {
        let line_no = index + 1;
        let fail = |reason: String| MapFileError {
            line: line_no,
            reason,
        };
        if line.is_empty() {
            return Err(fail(format!(
                "{EXPECTED}, found an empty line; the kubelet writes no blank lines and no trailing newline"
            )));
        }
        let Some((key, quoted)) = line.split_once('=') else {
            return Err(fail(format!("{EXPECTED}, found no '='")));
        };
        if key.is_empty() {
            return Err(fail(format!("{EXPECTED}, found an empty key before '='")));
        }
        if !quoted.starts_with('"') {
            return Err(fail(format!(
                "{EXPECTED}, found an unquoted value for key {key:?}: the kubelet writes values as Go quoted strings"
            )));
        }
        let bytes = go_quote::unquote(quoted).map_err(|err| {
            // Column of the problem, 1-based, counted in bytes from the start of the line.
            let column = key.len() + 1 + err.offset + 1;
            fail(format!(
                "{EXPECTED}, but the value of key {key:?} is not a valid Go quoted string: {} (column {column})",
                err.reason
            ))
        })?;
        if let Some(first) = seen.insert(key, line_no) {
            return Err(fail(format!(
                "duplicate key {key:?}, first on line {first}; the kubelet writes each key once"
            )));
        }
        map.insert(key.to_string(), utf8_like_go_json(bytes));
    }
    Ok(map)
}

/// Converts unquoted bytes to a `String` the way Go's `encoding/json` encodes a string holding
/// invalid UTF-8: every byte that does not start a valid UTF-8 sequence (Go's
/// `utf8.DecodeRuneInString` returning `RuneError` with width 1) becomes one U+FFFD.
///
/// This differs from `String::from_utf8_lossy` only for a truncated multi-byte sequence: `\xe2\x82`
/// is two U+FFFD here (Go) and one there.
fn utf8_like_go_json(bytes: Vec<u8>) -> String {
    match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(err) => {
            let bytes = err.into_bytes();
            let mut out = String::with_capacity(bytes.len() + 8);
            for chunk in bytes.utf8_chunks() {
                out.push_str(chunk.valid());
                // Each byte of a maximal invalid subpart is a lone invalid byte for Go's decoder.
                out.extend(std::iter::repeat_n('\u{fffd}', chunk.invalid().len()));
            }
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(entries: &[(&str, &str)]) -> BTreeMap<String, String> {
        entries
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// Hand-written files in the kubelet's format, as `fmt.Sprintf("%v=%q\n")` lines with the final
    /// newline trimmed, and the map they hold.
    #[test]
    fn parses_kubelet_files() {
        let table: &[(&str, &[(&str, &str)])] = &[
            ("", &[]),
            ("app=\"web\"", &[("app", "web")]),
            (
                "app=\"web\"\ntier=\"frontend\"",
                &[("app", "web"), ("tier", "frontend")],
            ),
            ("k=\"\"", &[("k", "")]),
            ("a=\"b=c\"", &[("a", "b=c")]),
            ("a=\"==\"", &[("a", "==")]),
            ("q=\"say \\\"hi\\\"\"", &[("q", "say \"hi\"")]),
            ("path=\"C:\\\\dir\\\\file\"", &[("path", "C:\\dir\\file")]),
            (
                "kubectl.kubernetes.io/last-applied-configuration=\"{\\\"apiVersion\\\":\\\"v1\\\",\\\"kind\\\":\\\"Pod\\\"}\\n\"",
                &[(
                    "kubectl.kubernetes.io/last-applied-configuration",
                    "{\"apiVersion\":\"v1\",\"kind\":\"Pod\"}\n",
                )],
            ),
            (
                "multi=\"line one\\nline two\\n\"",
                &[("multi", "line one\nline two\n")],
            ),
            ("tabs=\"a\\tb\"", &[("tabs", "a\tb")]),
            ("nbsp=\"a\\u00a0b\"", &[("nbsp", "a\u{a0}b")]),
            ("ctl=\"\\x01\"", &[("ctl", "\u{1}")]),
            ("del=\"\\x7f\"", &[("del", "\u{7f}")]),
            ("emoji=\"😀\"", &[("emoji", "😀")]),
            ("emoji=\"\\U0001f600\"", &[("emoji", "😀")]),
            ("accent=\"é\"", &[("accent", "é")]),
            ("bad=\"\\xff\"", &[("bad", "\u{fffd}")]),
            ("bad=\"a\\xffb\\xfe\"", &[("bad", "a\u{fffd}b\u{fffd}")]),
            // A truncated UTF-8 sequence: Go's decoder rejects it byte by byte, so one U+FFFD per
            // byte (from_utf8_lossy would give one for both).
            ("cut=\"\\xe2\\x82\"", &[("cut", "\u{fffd}\u{fffd}")]),
            ("cut=\"\\xe2\\x82A\"", &[("cut", "\u{fffd}\u{fffd}A")]),
            // An encoded surrogate is invalid UTF-8: three bytes, three U+FFFD.
            (
                "sur=\"\\xed\\xa0\\x80\"",
                &[("sur", "\u{fffd}\u{fffd}\u{fffd}")],
            ),
            // Escaped bytes that do form valid UTF-8 decode to the character.
            ("hex=\"\\xc3\\xa9\"", &[("hex", "é")]),
            ("oct=\"\\101\\102\"", &[("oct", "AB")]),
            ("oct=\"\\303\\251\"", &[("oct", "é")]),
            (
                "bell=\"\\a\\b\\f\\r\\v\"",
                &[("bell", "\u{7}\u{8}\u{c}\r\u{b}")],
            ),
            ("zwsp=\"\\u200b\"", &[("zwsp", "\u{200b}")]),
            (
                "app.kubernetes.io/name=\"x\"\nexample.com/empty=\"\"\npod-template-hash=\"5d8f7c9b4\"",
                &[
                    ("app.kubernetes.io/name", "x"),
                    ("example.com/empty", ""),
                    ("pod-template-hash", "5d8f7c9b4"),
                ],
            ),
        ];
        for (text, entries) in table {
            assert_eq!(parse(text), Ok(map(entries)), "parse({text:?})");
        }
    }

    #[test]
    fn rejects_malformed_lines() {
        // (file, line, fragment of the reason)
        let table: &[(&str, usize, &str)] = &[
            ("novalue", 1, "found no '='"),
            ("a=\"1\"\nnovalue", 2, "found no '='"),
            ("a=1", 1, "unquoted value for key \"a\""),
            ("a=", 1, "unquoted value"),
            ("a= \"1\"", 1, "unquoted value"),
            ("a='1'", 1, "unquoted value"),
            ("a=\"1", 1, "missing closing quote"),
            ("a=\"1\"x", 1, "after the closing quote"),
            ("a=\"1\" ", 1, "after the closing quote"),
            ("a=\"1\"\r\nb=\"2\"", 1, "after the closing quote"),
            ("=\"1\"", 1, "empty key"),
            ("a=\"1\"\n\nb=\"2\"", 2, "empty line"),
            ("a=\"1\"\n", 2, "no trailing newline"),
            ("\n", 1, "empty line"),
            (
                "a=\"1\"\nb=\"2\"\na=\"3\"",
                3,
                "duplicate key \"a\", first on line 1",
            ),
            ("a=\"\\q\"", 1, "unknown escape sequence \\q (column 4)"),
            ("a=\"\\ud800\"", 1, "surrogate"),
            ("a=\"\\400\"", 1, "greater than \\377"),
            ("a=\"x\\'\"", 1, "\\'"),
            ("a=\"b\"c=\"d\"", 1, "after the closing quote"),
        ];
        for (text, line, reason) in table {
            let err = parse(text).expect_err(text);
            assert_eq!(err.line, *line, "line for {text:?}: {err}");
            assert!(err.reason.contains(reason), "reason for {text:?}: {err}");
        }
    }

    #[test]
    fn reasons_say_what_was_expected() {
        let err = parse("novalue").unwrap_err();
        assert_eq!(
            err.to_string(),
            "line 1: expected key=\"value\" (kubelet FormatMap form), found no '='"
        );
    }

    /// `format` against hand-written kubelet output.
    #[test]
    fn formats_like_format_map() {
        let table: &[(&[(&str, &str)], &str)] = &[
            (&[], ""),
            (&[("k", "")], "k=\"\""),
            (
                &[("tier", "frontend"), ("app", "web")],
                "app=\"web\"\ntier=\"frontend\"",
            ),
            // Byte order: uppercase before lowercase, '.' and '/' before letters.
            (
                &[("b", "1"), ("B", "2"), ("a.b/c", "3"), ("a", "4")],
                "B=\"2\"\na=\"4\"\na.b/c=\"3\"\nb=\"1\"",
            ),
            (&[("a", "b=c")], "a=\"b=c\""),
            (&[("j", "{\"a\":1}\n")], "j=\"{\\\"a\\\":1}\\n\""),
            (
                &[("w", "a\u{a0}b\t\u{1}\u{7f}😀é\\")],
                "w=\"a\\u00a0b\\t\\x01\\x7f😀é\\\\\"",
            ),
        ];
        for (entries, want) in table {
            assert_eq!(format(&map(entries)), *want);
        }
    }

    #[test]
    fn round_trips() {
        let values = [
            "",
            "plain",
            "b=c",
            "\"quoted\"",
            "back\\slash",
            "multi\nline\n",
            "\t\r\u{0}\u{1b}\u{7f}\u{85}\u{a0}\u{ad}\u{200b}\u{2028}\u{feff}\u{e000}\u{10ffff}",
            "日本語 😀 e\u{301}",
        ];
        let m: BTreeMap<String, String> = values
            .iter()
            .enumerate()
            .map(|(i, v)| (format!("example.com/key-{i}"), v.to_string()))
            .collect();
        let text = format(&m);
        assert!(!text.ends_with('\n'));
        assert_eq!(text.lines().count(), values.len());
        assert_eq!(parse(&text), Ok(m));
    }
}
