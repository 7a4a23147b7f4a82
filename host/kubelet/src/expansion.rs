//! `$(VAR)` expansion of env values (and of `subPathExpr`).
//!
//! Upstream: kubernetes `third_party/forked/golang/expansion/expand.go` (`Expand`,
//! `MappingFuncFor`). The rules, byte by byte: `$(NAME)` is replaced by the mapping's value for
//! `NAME`; `$$` is an escaped `$`; `$(` without a closing `)` is kept as is; a `$` followed by any
//! other character, or at the end, is kept as is. With `MappingFuncFor`, a name the mapping does
//! not know is kept verbatim as `$(NAME)`.

/// Expands `input`, calling `mapping` with each referenced name.
pub(crate) fn expand(input: &str, mut mapping: impl FnMut(&str) -> String) -> String {
    let bytes = input.as_bytes();
    let mut out = String::with_capacity(input.len());
    let mut checkpoint = 0;
    let mut cursor = 0;
    while cursor < bytes.len() {
        if bytes[cursor] == b'$' && cursor + 1 < bytes.len() {
            out.push_str(&input[checkpoint..cursor]);
            let rest = &input[cursor + 1..];
            // Every split below falls next to an ASCII byte, so the slices stay on char boundaries.
            let advance = match bytes[cursor + 1] {
                b'$' => {
                    out.push('$');
                    1
                }
                b'(' => match rest[1..].find(')') {
                    Some(close) => {
                        out.push_str(&mapping(&rest[1..1 + close]));
                        close + 2
                    }
                    None => {
                        out.push_str("$(");
                        1
                    }
                },
                _ => {
                    // `$` and the next character are copied; the character is copied as part of
                    // the following run so that a multi-byte character is never split.
                    out.push('$');
                    0
                }
            };
            cursor += advance;
            checkpoint = cursor + 1;
        }
        cursor += 1;
    }
    out.push_str(&input[checkpoint.min(input.len())..]);
    out
}

/// The kubelet's mapping for env values: a name defined earlier (`lookup` returns `Some`) is
/// replaced, any other reference stays as `$(NAME)`.
pub(crate) fn expand_env(input: &str, lookup: impl Fn(&str) -> Option<String>) -> String {
    expand(input, |name| {
        lookup(name).unwrap_or_else(|| format!("$({name})"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn expansion_table() {
        let vars: HashMap<&str, &str> = [("A", "a"), ("EMPTY", ""), ("B", "$(A)")]
            .into_iter()
            .collect();
        let lookup = |n: &str| vars.get(n).map(|v| v.to_string());
        let cases = [
            ("$(A)", "a"),
            ("x-$(A)-y", "x-a-y"),
            ("$(A)$(A)", "aa"),
            ("$(UNDEFINED)", "$(UNDEFINED)"),
            ("$(EMPTY)", ""),
            ("$$(A)", "$(A)"),
            ("$$$(A)", "$a"),
            ("$$", "$"),
            ("$$$$", "$$"),
            ("$", "$"),
            ("a$", "a$"),
            ("$A", "$A"),
            ("$(A", "$(A"),
            ("$()", "$()"),
            ("$(B)", "$(A)"),
            ("no refs", "no refs"),
            ("é$é$(A)ü", "é$éaü"),
            ("$((A))", "$((A))"),
            ("", ""),
        ];
        for (input, want) in cases {
            assert_eq!(expand_env(input, lookup), want, "input {input:?}");
        }
    }
}
