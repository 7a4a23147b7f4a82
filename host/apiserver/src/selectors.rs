//! Label and field selectors: parsing the `labelSelector` / `fieldSelector` query parameters and
//! matching objects against them.
//!
//! Upstream: `staging/src/k8s.io/apimachinery/pkg/labels/selector.go` (label grammar:
//! `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`, `a>1`, `a<1`, comma = AND),
//! `staging/src/k8s.io/apimachinery/pkg/fields/selector.go` (field grammar: `f=v`, `f==v`,
//! `f!=v`, backslash escapes), and `pkg/registry/core/pod/strategy.go` `ToSelectableFields` plus
//! `pkg/apis/core/v1/conversion.go` (the field labels pods support).

use std::collections::BTreeMap;

use crate::resources::ResourceType;

/// One label requirement.
#[derive(Debug, Clone, PartialEq, Eq)]
enum LabelOp {
    /// `key=value` / `key==value` / `key in (values)`.
    In(Vec<String>),
    /// `key!=value` / `key notin (values)`.
    NotIn(Vec<String>),
    /// `key`.
    Exists,
    /// `!key`.
    DoesNotExist,
    /// `key>N`.
    Gt(i64),
    /// `key<N`.
    Lt(i64),
}

/// A parsed label selector; the empty selector matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelSelector {
    requirements: Vec<(String, LabelOp)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Ident(String),
    Not,
    Eq,
    DoubleEq,
    NotEq,
    Gt,
    Lt,
    Open,
    Close,
    Comma,
}

impl Token {
    fn describe(&self) -> String {
        match self {
            Token::Ident(s) => s.clone(),
            Token::Not => "!".into(),
            Token::Eq => "=".into(),
            Token::DoubleEq => "==".into(),
            Token::NotEq => "!=".into(),
            Token::Gt => ">".into(),
            Token::Lt => "<".into(),
            Token::Open => "(".into(),
            Token::Close => ")".into(),
            Token::Comma => ",".into(),
        }
    }
}

fn is_special(c: char) -> bool {
    matches!(c, '!' | '=' | '>' | '<' | '(' | ')' | ',') || c.is_whitespace()
}

fn lex(input: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let chars: Vec<char> = input.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        match c {
            c if c.is_whitespace() => i += 1,
            '!' if next == Some('=') => {
                out.push(Token::NotEq);
                i += 2;
            }
            '!' => {
                out.push(Token::Not);
                i += 1;
            }
            '=' if next == Some('=') => {
                out.push(Token::DoubleEq);
                i += 2;
            }
            '=' => {
                out.push(Token::Eq);
                i += 1;
            }
            '>' => {
                out.push(Token::Gt);
                i += 1;
            }
            '<' => {
                out.push(Token::Lt);
                i += 1;
            }
            '(' => {
                out.push(Token::Open);
                i += 1;
            }
            ')' => {
                out.push(Token::Close);
                i += 1;
            }
            ',' => {
                out.push(Token::Comma);
                i += 1;
            }
            _ => {
                let start = i;
                while i < chars.len() && !is_special(chars[i]) {
                    i += 1;
                }
                out.push(Token::Ident(chars[start..i].iter().collect()));
            }
        }
    }
    out
}

/// apimachinery `labels` `validateLabelKey`: `validation.IsQualifiedName`, reported as
/// `field.Invalid(path.Child("key"), key, errs joined by "; ")`.
fn validate_key(key: &str) -> Result<(), String> {
    let errs = pod_introspect_kube::names::is_qualified_name(key);
    if errs.is_empty() {
        return Ok(());
    }
    Err(format!("key: Invalid value: {key:?}: {}", errs.join("; ")))
}

/// apimachinery `labels` `validateLabelValue`: `validation.IsValidLabelValue`, reported as
/// `field.Invalid(path.Child("values").Index(i).Key(key), value, ...)`.
fn validate_value(key: &str, index: usize, value: &str) -> Result<(), String> {
    let errs = pod_introspect_kube::names::is_valid_label_value(value);
    if errs.is_empty() {
        return Ok(());
    }
    Err(format!(
        "values[{index}][{key}]: Invalid value: {value:?}: {}",
        errs.join("; ")
    ))
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn unexpected(found: Option<Token>, expected: &str) -> String {
        match found {
            Some(t) => format!("found '{}', expected: {expected}", t.describe()),
            None => format!("found '', expected: {expected}"),
        }
    }

    fn requirement(&mut self) -> Result<(String, LabelOp), String> {
        let negated = if self.peek() == Some(&Token::Not) {
            self.pos += 1;
            true
        } else {
            false
        };
        let key = match self.next() {
            Some(Token::Ident(k)) if k != "in" && k != "notin" => k,
            other => return Err(Parser::unexpected(other, "!, identifier")),
        };
        validate_key(&key)?;
        if negated {
            return match self.peek() {
                None | Some(Token::Comma) => Ok((key, LabelOp::DoesNotExist)),
                Some(t) => Err(format!(
                    "found '{}', expected: ',' or 'end of string'",
                    t.describe()
                )),
            };
        }
        match self.next() {
            None => Ok((key, LabelOp::Exists)),
            Some(Token::Comma) => {
                self.pos -= 1;
                Ok((key, LabelOp::Exists))
            }
            Some(Token::Eq | Token::DoubleEq) => {
                let v = self.single_value(&key)?;
                Ok((key, LabelOp::In(vec![v])))
            }
            Some(Token::NotEq) => {
                let v = self.single_value(&key)?;
                Ok((key, LabelOp::NotIn(vec![v])))
            }
            Some(op @ (Token::Gt | Token::Lt)) => {
                let v = self.single_value(&key)?;
                let n: i64 = v.parse().map_err(|_| {
                    format!("for 'Gt', 'Lt' operators, the value must be an integer, got \"{v}\"")
                })?;
                Ok((
                    key,
                    if op == Token::Gt {
                        LabelOp::Gt(n)
                    } else {
                        LabelOp::Lt(n)
                    },
                ))
            }
            Some(Token::Ident(op)) if op == "in" || op == "notin" => {
                let values = self.value_set(&key)?;
                Ok((
                    key,
                    if op == "in" {
                        LabelOp::In(values)
                    } else {
                        LabelOp::NotIn(values)
                    },
                ))
            }
            other => Err(Parser::unexpected(other, "'=', '!=', '==', 'in', notin'")),
        }
    }

    fn single_value(&mut self, key: &str) -> Result<String, String> {
        let v = match self.peek() {
            Some(Token::Ident(v)) => {
                let v = v.clone();
                self.pos += 1;
                v
            }
            // `a=` means the empty value.
            None | Some(Token::Comma) => String::new(),
            Some(t) => return Err(format!("found '{}', expected: identifier", t.describe())),
        };
        validate_value(key, 0, &v)?;
        Ok(v)
    }

    fn value_set(&mut self, key: &str) -> Result<Vec<String>, String> {
        match self.next() {
            Some(Token::Open) => {}
            other => return Err(Parser::unexpected(other, "'('")),
        }
        let mut values = Vec::new();
        loop {
            match self.next() {
                Some(Token::Ident(v)) => {
                    validate_value(key, values.len(), &v)?;
                    values.push(v);
                    match self.next() {
                        Some(Token::Comma) => continue,
                        Some(Token::Close) => break,
                        other => return Err(Parser::unexpected(other, "',' or ')'")),
                    }
                }
                Some(Token::Close) => {
                    values.push(String::new());
                    break;
                }
                Some(Token::Comma) => values.push(String::new()),
                other => return Err(Parser::unexpected(other, "',', ')' or identifier")),
            }
        }
        Ok(values)
    }
}

impl LabelSelector {
    /// Parses a `labelSelector` query value. Errors carry the message for a 400 `BadRequest`,
    /// e.g. `unable to parse requirement: found '(', expected: identifier`.
    pub fn parse(input: &str) -> Result<Self, String> {
        let mut p = Parser {
            tokens: lex(input),
            pos: 0,
        };
        let mut requirements = Vec::new();
        if p.tokens.is_empty() {
            return Ok(LabelSelector::default());
        }
        loop {
            let r = p
                .requirement()
                .map_err(|e| format!("unable to parse requirement: {e}"))?;
            requirements.push(r);
            match p.next() {
                None => break,
                Some(Token::Comma) => {
                    if p.peek().is_none() {
                        return Err(
                            "unable to parse requirement: found '', expected: identifier after ','"
                                .into(),
                        );
                    }
                }
                Some(t) => {
                    return Err(format!(
                        "unable to parse requirement: found '{}', expected: ',' or 'end of string'",
                        t.describe()
                    ));
                }
            }
        }
        Ok(LabelSelector { requirements })
    }

    /// True when every requirement holds for `labels`.
    pub fn matches(&self, labels: Option<&BTreeMap<String, String>>) -> bool {
        self.requirements.iter().all(|(key, op)| {
            let value = labels.and_then(|l| l.get(key));
            match op {
                LabelOp::In(vs) => value.is_some_and(|v| vs.contains(v)),
                LabelOp::NotIn(vs) => value.is_none_or(|v| !vs.contains(v)),
                LabelOp::Exists => value.is_some(),
                LabelOp::DoesNotExist => value.is_none(),
                LabelOp::Gt(n) => value
                    .and_then(|v| v.parse::<i64>().ok())
                    .is_some_and(|v| v > *n),
                LabelOp::Lt(n) => value
                    .and_then(|v| v.parse::<i64>().ok())
                    .is_some_and(|v| v < *n),
            }
        })
    }

    /// True for the empty selector.
    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }
}

/// A parsed field selector: AND of `field=value` / `field!=value` terms.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldSelector {
    terms: Vec<(String, bool, String)>,
}

/// Splits on commas that are not escaped with a backslash.
fn split_terms(s: &str) -> Vec<String> {
    let mut terms = Vec::new();
    let mut cur = String::new();
    let mut escaped = false;
    for c in s.chars() {
        if escaped {
            cur.push('\\');
            cur.push(c);
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == ',' {
            terms.push(std::mem::take(&mut cur));
        } else {
            cur.push(c);
        }
    }
    if escaped {
        cur.push('\\');
    }
    terms.push(cur);
    terms
}

fn unescape(v: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut chars = v.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(e @ ('\\' | ',' | '=')) => out.push(e),
                _ => {
                    return Err(format!(
                        "invalid field selector: invalid escape sequence in value \"{v}\""
                    ));
                }
            },
            ',' | '=' => {
                return Err(format!(
                    "invalid field selector: unescaped '{c}' in value \"{v}\""
                ));
            }
            c => out.push(c),
        }
    }
    Ok(out)
}

impl FieldSelector {
    /// Parses a `fieldSelector` value and checks every field against `supported`.
    /// Errors are 400 messages: `invalid selector: 'S'; can't understand 'T'` for syntax and
    /// `field label not supported: F` for an unknown field.
    pub fn parse(input: &str, supported: &[&str]) -> Result<Self, String> {
        let mut terms = Vec::new();
        for term in split_terms(input) {
            if term.is_empty() {
                continue;
            }
            let found = ["!=", "==", "="]
                .iter()
                .filter_map(|op| term.find(op).map(|i| (i, *op)))
                .min_by_key(|(i, op)| (*i, std::cmp::Reverse(op.len())));
            let Some((i, op)) = found else {
                return Err(format!(
                    "invalid selector: '{input}'; can't understand '{term}'"
                ));
            };
            let field = &term[..i];
            let value = unescape(&term[i + op.len()..])?;
            if !supported.contains(&field) {
                return Err(format!("field label not supported: {field}"));
            }
            terms.push((field.to_owned(), op != "!=", value));
        }
        Ok(FieldSelector { terms })
    }

    /// True when every term holds for the object's field set (`get` returns a field's value).
    pub fn matches(&self, get: impl Fn(&str) -> String) -> bool {
        self.terms
            .iter()
            .all(|(field, equal, value)| (get(field) == *value) == *equal)
    }
}

/// True when `obj` has the labels and fields the selectors ask for: the rule the list, the
/// watch and the ambassador's watch cache share. `r` is the object's type (`None` for a type
/// this table does not know: only `metadata.name` and `metadata.namespace` are fields).
pub fn selects(
    r: Option<&ResourceType>,
    labels: &LabelSelector,
    fields: &FieldSelector,
    obj: &serde_json::Value,
) -> bool {
    use crate::store::meta;
    labels.matches(meta::labels(obj).as_ref())
        && fields.matches(|f| match r {
            Some(r) => field_of(r, obj, f),
            None => match f {
                "metadata.name" => meta::name(obj).to_owned(),
                "metadata.namespace" => meta::namespace(obj).to_owned(),
                _ => String::new(),
            },
        })
}

/// The value of field selector `field` on object `obj` of resource `r` (both as the path
/// serves them): `metadata.name`, `metadata.namespace`, then the type's own fields
/// ([`ResourceType::fields`], each a JSON path), printed as the type's `GetAttrs` prints them
/// (`spec.hostNetwork` is `false` when unset; pods' `status.podIP` is the first of
/// `status.podIPs`). Anything missing is `""`.
pub fn field_of(r: &ResourceType, obj: &serde_json::Value, field: &str) -> String {
    use crate::store::meta;
    match field {
        "metadata.name" => return meta::name(obj).to_owned(),
        "metadata.namespace" => return meta::namespace(obj).to_owned(),
        _ => {}
    }
    if r.group.is_empty() && r.resource == "pods" {
        match field {
            "spec.hostNetwork" => {
                return obj["spec"]["hostNetwork"]
                    .as_bool()
                    .unwrap_or(false)
                    .to_string();
            }
            "status.podIP" => {
                if let Some(ip) = obj["status"]["podIPs"][0]["ip"].as_str() {
                    return ip.to_owned();
                }
            }
            _ => {}
        }
    }
    r.fields
        .iter()
        .find(|(name, _)| *name == field)
        .map(|(_, path)| meta::field_value(obj, path))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn label_selector_table() {
        let l = labels(&[("app", "web"), ("tier", "front"), ("n", "5")]);
        let cases: &[(&str, bool)] = &[
            ("", true),
            ("app=web", true),
            ("app==web", true),
            ("app!=web", false),
            ("app!=db", true),
            ("missing!=x", true),
            ("app in (web,db)", true),
            ("app in (db)", false),
            ("app notin (db)", true),
            ("app notin (web, db)", false),
            ("missing notin (x)", true),
            ("app", true),
            ("!app", false),
            ("!missing", true),
            ("app=web,tier=front", true),
            ("app=web,tier=back", false),
            ("app=web, tier in (front), !canary", true),
            ("n>4", true),
            ("n<5", false),
            ("example.com/role", false),
        ];
        for (sel, want) in cases {
            let s = LabelSelector::parse(sel).unwrap_or_else(|e| panic!("{sel}: {e}"));
            assert_eq!(s.matches(Some(&l)), *want, "{sel}");
        }
    }

    #[test]
    fn label_selector_errors() {
        for bad in [
            "app in web",
            "=x",
            "app=(x)",
            "app in (a b)",
            "a=b,",
            "app notin",
            "!a=b",
            "a b",
            "in",
            "-bad-=x",
            "a=b c",
        ] {
            let err = LabelSelector::parse(bad).expect_err(bad);
            assert!(
                err.starts_with("unable to parse requirement"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn label_selector_validation_messages_are_apimachinerys() {
        assert_eq!(
            LabelSelector::parse("-bad-=x").unwrap_err(),
            "unable to parse requirement: key: Invalid value: \"-bad-\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
        );
        assert_eq!(
            LabelSelector::parse("Example.com/x").unwrap_err(),
            "unable to parse requirement: key: Invalid value: \"Example.com/x\": prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
        );
        let err = LabelSelector::parse("app in (web,-x)").unwrap_err();
        assert!(
            err.starts_with(
                "unable to parse requirement: values[1][app]: Invalid value: \"-x\": a valid label must be an empty string"
            ),
            "{err}"
        );
    }

    /// The pod field labels (`pkg/apis/core/v1/conversion.go`), written out here.
    const POD_FIELDS: &[&str] = &[
        "metadata.name",
        "metadata.namespace",
        "spec.nodeName",
        "status.phase",
    ];

    #[test]
    fn field_selector_table() {
        let get = |f: &str| match f {
            "metadata.name" => "p1".to_string(),
            "status.phase" => "Running".to_string(),
            _ => String::new(),
        };
        for (sel, want) in [
            ("metadata.name=p1", true),
            ("metadata.name==p1", true),
            ("metadata.name!=p1", false),
            ("metadata.name=p1,status.phase=Running", true),
            ("status.phase!=Pending", true),
            ("spec.nodeName=", true),
            ("", true),
        ] {
            let s = FieldSelector::parse(sel, POD_FIELDS).unwrap();
            assert_eq!(s.matches(get), want, "{sel}");
        }
    }

    #[test]
    fn field_selector_errors() {
        assert_eq!(
            FieldSelector::parse("foo=bar", POD_FIELDS).unwrap_err(),
            "field label not supported: foo"
        );
        assert_eq!(
            FieldSelector::parse("metadata.name", POD_FIELDS).unwrap_err(),
            "invalid selector: 'metadata.name'; can't understand 'metadata.name'"
        );
        assert!(FieldSelector::parse("metadata.name=a\\x", POD_FIELDS).is_err());
        let s = FieldSelector::parse("metadata.name=a\\,b", POD_FIELDS).unwrap();
        assert!(s.matches(|_| "a,b".into()));
    }
}
