//! Go string quoting as the kubelet writes label and annotation values.
//!
//! Upstream: Go `strconv.Quote` / `strconv.Unquote` (src/strconv/quote.go), used by kubernetes
//! `pkg/fieldpath/fieldpath.go` through `fmt.Sprintf("%v=%q", key, value)`.
//!
//! Printability follows Go's `strconv.IsPrint` (the same definition as `unicode.IsPrint`): Unicode
//! general categories L, M, N, P and S plus the ASCII space. Categories come from the
//! `unicode-properties` tables; Go ships its own Unicode version, so a code point assigned only in a
//! newer Unicode version than the kubelet's Go toolchain knows may be escaped by the kubelet
//! (`\uNNNN`) and left literal by [`quote`]. Both forms unquote to the same text.

use std::fmt;

use unicode_properties::{GeneralCategoryGroup, UnicodeGeneralCategory};

/// Why a quoted Go string could not be unquoted. `offset` is the byte offset in the quoted input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnquoteError {
    /// Byte offset into the quoted text where the problem starts.
    pub offset: usize,
    /// What is wrong, e.g. `unknown escape sequence \q` or `missing closing quote`.
    pub reason: String,
}

impl fmt::Display for UnquoteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (at byte {})", self.reason, self.offset)
    }
}

impl std::error::Error for UnquoteError {}

const LOWER_HEX: &[u8; 16] = b"0123456789abcdef";

/// Go's `strconv.IsPrint`: letters, marks, numbers, punctuation, symbols and the ASCII space.
fn is_print(c: char) -> bool {
    // Go's Latin-1 fast path, which agrees with the categories: U+0020..U+007E, and U+00A1..U+00FF
    // except the soft hyphen U+00AD (category Cf).
    let cp = u32::from(c);
    if cp <= 0xff {
        return (0x20..=0x7e).contains(&cp) || ((0xa1..=0xff).contains(&cp) && cp != 0xad);
    }
    matches!(
        c.general_category_group(),
        GeneralCategoryGroup::Letter
            | GeneralCategoryGroup::Mark
            | GeneralCategoryGroup::Number
            | GeneralCategoryGroup::Punctuation
            | GeneralCategoryGroup::Symbol
    )
}

/// Appends `\x`/`\u`/`\U` followed by `digits` lowercase hex digits of `value`.
fn push_hex_escape(out: &mut String, prefix: &str, value: u32, digits: u32) {
    out.push_str(prefix);
    for shift in (0..digits).rev() {
        let nibble = (value >> (shift * 4)) & 0xf;
        out.push(char::from(LOWER_HEX[nibble as usize]));
    }
}

/// Quotes `value` exactly as Go's `strconv.Quote` does (the `%q` verb): surrounding `"`, escapes
/// `\a \b \f \n \r \t \v \\ \"`, other control characters and DEL as `\xNN`, non-printable runes as
/// `\uNNNN` / `\UNNNNNNNN`, and printable non-ASCII (per Go's `strconv.IsPrint`) left as UTF-8.
///
/// Hex digits are lowercase. For example `a\u{a0}b` (NBSP, category Zs, not printable for Go)
/// becomes `"a\u00a0b"`, `é` and `😀` stay literal, `\u{7f}` becomes `"\x7f"`. A `&str` is always
/// valid UTF-8, so Go's `\xNN` form for invalid bytes never occurs here.
pub fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c if is_print(c) => out.push(c),
            '\u{07}' => out.push_str("\\a"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{0b}' => out.push_str("\\v"),
            c if c < ' ' || c == '\u{7f}' => push_hex_escape(&mut out, "\\x", u32::from(c), 2),
            c if u32::from(c) < 0x10000 => push_hex_escape(&mut out, "\\u", u32::from(c), 4),
            c => push_hex_escape(&mut out, "\\U", u32::from(c), 8),
        }
    }
    out.push('"');
    out
}

/// Parses `count` hex digits of `bytes` starting at `start` (Go's `unhex`, both letter cases).
fn parse_hex(bytes: &[u8], start: usize, count: usize, escape: char) -> Result<u32, UnquoteError> {
    let backslash = start.saturating_sub(2);
    let digits = bytes
        .get(start..start + count)
        .ok_or_else(|| UnquoteError {
            offset: backslash,
            reason: format!("incomplete \\{escape} escape: expected {count} hex digits"),
        })?;
    let mut value: u32 = 0;
    for (i, &b) in digits.iter().enumerate() {
        let digit = char::from(b).to_digit(16).ok_or_else(|| UnquoteError {
            offset: start + i,
            reason: format!(
                "invalid hex digit {:?} in \\{escape} escape: expected {count} hex digits",
                char::from(b)
            ),
        })?;
        value = (value << 4) | digit;
    }
    Ok(value)
}

/// Unquotes one Go double-quoted string literal (the whole input, including both quotes) as Go's
/// `strconv.Unquote` does, returning the raw bytes (escapes like `\xff` may produce invalid UTF-8).
///
/// Accepts `\a \b \f \n \r \t \v \\ \"`, `\xNN`, octal `\NNN` (≤ 0o377), `\uNNNN` and `\UNNNNNNNN`
/// (valid Unicode scalar values only). Rejects a missing quote, a raw newline, `\'` and unknown escapes.
/// Also rejects anything after the closing quote, and single-quoted or backquoted literals (which Go's
/// `Unquote` would accept, but the kubelet never writes). Hex digits may be either case.
pub fn unquote(quoted: &str) -> Result<Vec<u8>, UnquoteError> {
    let bytes = quoted.as_bytes();
    match bytes.first() {
        Some(b'"') => {}
        None => {
            return Err(UnquoteError {
                offset: 0,
                reason: "empty input: expected a double-quoted string".to_string(),
            });
        }
        Some(_) => {
            let found = quoted.chars().next().unwrap_or('"');
            return Err(UnquoteError {
                offset: 0,
                reason: format!("expected an opening double quote '\"', found {found:?}"),
            });
        }
    }

    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 1;
    loop {
        let Some(&b) = bytes.get(i) else {
            return Err(UnquoteError {
                offset: bytes.len(),
                reason: "missing closing quote".to_string(),
            });
        };
        match b {
            b'"' => {
                if i + 1 != bytes.len() {
                    return Err(UnquoteError {
                        offset: i + 1,
                        reason: format!(
                            "unexpected text {:?} after the closing quote",
                            &quoted[i + 1..]
                        ),
                    });
                }
                return Ok(out);
            }
            b'\n' => {
                return Err(UnquoteError {
                    offset: i,
                    reason: "raw newline inside a quoted string (Go writes it as \\n)".to_string(),
                });
            }
            b'\\' => {
                let Some(&e) = bytes.get(i + 1) else {
                    return Err(UnquoteError {
                        offset: i,
                        reason: "unfinished escape sequence at the end of the input".to_string(),
                    });
                };
                let simple = match e {
                    b'a' => Some(0x07),
                    b'b' => Some(0x08),
                    b'f' => Some(0x0c),
                    b'n' => Some(b'\n'),
                    b'r' => Some(b'\r'),
                    b't' => Some(b'\t'),
                    b'v' => Some(0x0b),
                    b'\\' => Some(b'\\'),
                    b'"' => Some(b'"'),
                    _ => None,
                };
                if let Some(byte) = simple {
                    out.push(byte);
                    i += 2;
                    continue;
                }
                match e {
                    b'x' => {
                        let v = parse_hex(bytes, i + 2, 2, 'x')?;
                        // A single byte, possibly not UTF-8 (Go: "single-byte string").
                        out.push(v as u8);
                        i += 4;
                    }
                    b'u' | b'U' => {
                        let (count, name) = if e == b'u' { (4, 'u') } else { (8, 'U') };
                        let v = parse_hex(bytes, i + 2, count, name)?;
                        let c = char::from_u32(v).ok_or_else(|| UnquoteError {
                            offset: i,
                            reason: if (0xd800..=0xdfff).contains(&v) {
                                format!(
                                    "\\{name} escape {v:0w$x} is a surrogate, not a Unicode scalar value",
                                    w = count
                                )
                            } else {
                                format!("\\{name} escape {v:0w$x} is beyond U+10FFFF", w = count)
                            },
                        })?;
                        let mut buf = [0u8; 4];
                        out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                        i += 2 + count;
                    }
                    b'0'..=b'7' => {
                        let mut v = u32::from(e - b'0');
                        for j in 0..2 {
                            let pos = i + 2 + j;
                            match bytes.get(pos) {
                                Some(&d @ b'0'..=b'7') => v = (v << 3) | u32::from(d - b'0'),
                                Some(&d) => {
                                    return Err(UnquoteError {
                                        offset: pos,
                                        reason: format!(
                                            "invalid octal digit {:?}: an octal escape is a backslash and exactly 3 octal digits",
                                            char::from(d)
                                        ),
                                    });
                                }
                                None => {
                                    return Err(UnquoteError {
                                        offset: i,
                                        reason: "incomplete octal escape: expected 3 octal digits"
                                            .to_string(),
                                    });
                                }
                            }
                        }
                        let byte = u8::try_from(v).map_err(|_| UnquoteError {
                            offset: i,
                            reason: format!("octal escape \\{v:o} is greater than \\377"),
                        })?;
                        out.push(byte);
                        i += 4;
                    }
                    b'\'' => {
                        return Err(UnquoteError {
                            offset: i,
                            reason: "escape sequence \\' is not allowed in a double-quoted string"
                                .to_string(),
                        });
                    }
                    _ => {
                        let shown = quoted[i + 1..].chars().next().unwrap_or('?');
                        return Err(UnquoteError {
                            offset: i,
                            reason: format!("unknown escape sequence \\{shown}"),
                        });
                    }
                }
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Expected outputs are what Go's `strconv.Quote` (`fmt.Sprintf("%q", s)`) produces, worked out
    /// from src/strconv/quote.go (appendEscapedRune) and Go's IsPrint.
    #[test]
    fn quote_matches_go() {
        let table: &[(&str, &str)] = &[
            ("", r#""""#),
            ("plain", r#""plain""#),
            ("with space", r#""with space""#),
            ("a\"b", r#""a\"b""#),
            ("back\\slash", r#""back\\slash""#),
            ("'single'", r#""'single'""#),
            ("a=b", r#""a=b""#),
            ("line1\nline2", r#""line1\nline2""#),
            ("tab\there", r#""tab\there""#),
            ("\r\u{7}\u{8}\u{c}\u{b}", r#""\r\a\b\f\v""#),
            ("\u{0}", r#""\x00""#),
            ("\u{1}", r#""\x01""#),
            ("\u{1b}[0m", r#""\x1b[0m""#),
            ("\u{1f}", r#""\x1f""#),
            ("\u{7f}", r#""\x7f""#),
            ("\u{80}", r#""\u0080""#),
            ("\u{9f}", r#""\u009f""#),
            ("a\u{a0}b", r#""a\u00a0b""#),
            ("\u{a1}", "\"\u{a1}\""),
            ("soft\u{ad}hyphen", r#""soft\u00adhyphen""#),
            ("é", "\"é\""),
            ("ÿ", "\"ÿ\""),
            ("日本語", "\"日本語\""),
            ("\u{200b}", r#""\u200b""#),
            ("\u{2028}", r#""\u2028""#),
            ("\u{3000}", r#""\u3000""#),
            ("\u{feff}", r#""\ufeff""#),
            ("\u{fffd}", "\"\u{fffd}\""),
            ("\u{e000}", r#""\ue000""#),
            ("😀", "\"😀\""),
            ("\u{1f600}\u{1f3fd}", "\"\u{1f600}\u{1f3fd}\""),
            ("e\u{301}", "\"e\u{301}\""),
            ("\u{e0001}", r#""\U000e0001""#),
            ("\u{10ffff}", r#""\U0010ffff""#),
            ("\u{f0000}", r#""\U000f0000""#),
            (
                r#"{"apiVersion":"v1","kind":"Pod"}"#,
                r#""{\"apiVersion\":\"v1\",\"kind\":\"Pod\"}""#,
            ),
        ];
        for (input, want) in table {
            assert_eq!(quote(input), *want, "quote({input:?})");
        }
    }

    #[test]
    fn is_print_matches_go_categories() {
        for c in [
            'a', 'Z', '0', ' ', '~', '!', '¡', 'é', '€', '😀', '\u{301}', '中',
        ] {
            assert!(is_print(c), "{c:?} is printable in Go");
        }
        for c in [
            '\u{0}',
            '\n',
            '\u{7f}',
            '\u{85}',
            '\u{a0}',
            '\u{ad}',
            '\u{2007}',
            '\u{200d}',
            '\u{2029}',
            '\u{fff9}',
            '\u{e000}',
            '\u{f0000}',
        ] {
            assert!(!is_print(c), "{c:?} is not printable in Go");
        }
    }

    #[test]
    fn unquote_accepts_go_escapes() {
        let table: &[(&str, &[u8])] = &[
            (r#""""#, b""),
            (r#""abc""#, b"abc"),
            (r#""a\"b""#, b"a\"b"),
            (r#""a\\b""#, b"a\\b"),
            (r#""\a\b\f\n\r\t\v""#, b"\x07\x08\x0c\n\r\t\x0b"),
            (r#""\x00\x01\x7f""#, b"\x00\x01\x7f"),
            (r#""\xff""#, b"\xff"),
            (r#""\xFF\xAb""#, b"\xff\xab"),
            (r#""\000\101\377""#, b"\x00A\xff"),
            (r#""\u00a0""#, "\u{a0}".as_bytes()),
            (r#""\u00E9""#, "é".as_bytes()),
            (r#""\U0001f600""#, "😀".as_bytes()),
            (r#""\U0010FFFF""#, "\u{10ffff}".as_bytes()),
            ("\"😀 é\"", "😀 é".as_bytes()),
            ("\"tab\tliteral\"", b"tab\tliteral"),
            ("\"cr\rliteral\"", b"cr\rliteral"),
            (r#""a=b""#, b"a=b"),
            (r#""'""#, b"'"),
        ];
        for (input, want) in table {
            assert_eq!(unquote(input).as_deref(), Ok(*want), "unquote({input})");
        }
    }

    #[test]
    fn unquote_rejects_what_go_rejects() {
        // (input, byte offset, fragment of the reason)
        let table: &[(&str, usize, &str)] = &[
            ("", 0, "empty input"),
            ("abc", 0, "opening double quote"),
            ("'a'", 0, "opening double quote"),
            ("`a`", 0, "opening double quote"),
            ("\"", 1, "missing closing quote"),
            ("\"abc", 4, "missing closing quote"),
            (r#""abc\""#, 6, "missing closing quote"),
            ("\"a\nb\"", 2, "raw newline"),
            (r#""a"b""#, 3, "after the closing quote"),
            (r#""a" "#, 3, "after the closing quote"),
            (r#""\'""#, 1, r"\'"),
            (r#""\q""#, 1, r"unknown escape sequence \q"),
            (r#""\é""#, 1, r"unknown escape sequence \é"),
            (r#""\8""#, 1, "unknown escape sequence"),
            (r#""\x4""#, 4, "invalid hex digit"),
            (r#""\x""#, 1, "incomplete \\x escape"),
            (r#""\xg0""#, 3, "invalid hex digit 'g'"),
            ("\"\\x", 1, "incomplete \\x escape"),
            (r#""\u12""#, 1, "incomplete \\u escape"),
            (r#""\u12g4""#, 5, "invalid hex digit 'g'"),
            (r#""\ud800""#, 1, "surrogate"),
            (r#""\uDFFF""#, 1, "surrogate"),
            (r#""\U00110000""#, 1, "beyond U+10FFFF"),
            (r#""\Uffffffff""#, 1, "beyond U+10FFFF"),
            (r#""\400""#, 1, "greater than \\377"),
            (r#""\777""#, 1, "greater than \\377"),
            (r#""\18""#, 3, "invalid octal digit '8'"),
            (r#""\1""#, 3, "invalid octal digit '\"'"),
            ("\"\\", 1, "unfinished escape"),
        ];
        for (input, offset, reason) in table {
            let err = unquote(input).expect_err(input);
            assert_eq!(err.offset, *offset, "offset for {input:?}: {err}");
            assert!(err.reason.contains(reason), "reason for {input:?}: {err}");
        }
    }

    #[test]
    fn round_trip_every_interesting_char() {
        let mut all = String::new();
        for cp in (0u32..0x300)
            .chain(0x1f00..0x2100)
            .chain([0xfeff, 0xfffd, 0x1f600, 0xe0001])
        {
            if let Some(c) = char::from_u32(cp) {
                all.push(c);
                let one = c.to_string();
                assert_eq!(unquote(&quote(&one)), Ok(one.clone().into_bytes()), "{c:?}");
            }
        }
        assert_eq!(unquote(&quote(&all)), Ok(all.into_bytes()));
    }

    #[test]
    fn quote_output_is_a_single_line_of_printable_text() {
        let q = quote("a\nb\u{2028}c\u{85}d\re");
        assert!(!q.contains('\n') && !q.contains('\r') && !q.contains('\u{85}'));
        assert!(!q.contains('\u{2028}'));
        assert_eq!(q, r#""a\nb\u2028c\u0085d\re""#);
    }

    #[test]
    fn error_display_names_offset() {
        let err = unquote(r#""\q""#).unwrap_err();
        assert_eq!(err.to_string(), r"unknown escape sequence \q (at byte 1)");
    }
}
