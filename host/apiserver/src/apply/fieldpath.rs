//! Field paths and field sets, and their `FieldsV1` encoding in `metadata.managedFields`.
//!
//! Upstream: `sigs.k8s.io/structured-merge-diff/v4/fieldpath` (`element.go` `PathElement` and
//! its `String`, `set.go` `Set` with `Union`, `Intersection`, `Difference`,
//! `RecursiveDifference`, `Iterate`; `serialize.go` and `serialize-pe.go` for the JSON form).
//!
//! A [`PathElement`] is one step: a field of a map or struct (`f:name`), an item of an
//! associative list by its key fields (`k:{"name":"a"}`), an item of a set by its value
//! (`v:"x"`) or an item of a list by index (`i:0`). A [`Set`] holds *members* (paths owned
//! themselves) and *children* (sets below a step); in `FieldsV1` a member is `{}` and a step
//! that is both a member and has children carries `".": {}`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde_json::{Map, Value};

/// One step of a field path. The variants are ordered as upstream orders them (fields, keys,
/// values, indexes); keys and values hold their compact JSON with object keys sorted, which
/// is also their `FieldsV1` spelling.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PathElement {
    /// A field of a struct or a key of a map: `f:NAME`.
    Field(String),
    /// An item of an associative list, by its key fields: `k:{"name":"a"}` (a JSON object).
    Key(String),
    /// An item of a set (`x-kubernetes-list-type: set`), by its value: `v:"x"`.
    Value(String),
    /// An item of a list by position: `i:0` (lists of untyped values; kube never writes these
    /// for the built-in types, but accepts them).
    Index(usize),
}

impl PathElement {
    /// The key element of `fields` (a JSON object of the key fields and their values).
    pub fn key(fields: &Map<String, Value>) -> PathElement {
        PathElement::Key(Value::Object(fields.clone()).to_string())
    }

    /// The value element of a set item.
    pub fn value(v: &Value) -> PathElement {
        PathElement::Value(v.to_string())
    }

    /// The `FieldsV1` spelling (`f:name`, `k:{"name":"a"}`, `v:"x"`, `i:0`).
    pub fn encode(&self) -> String {
        match self {
            PathElement::Field(f) => format!("f:{f}"),
            PathElement::Key(k) => format!("k:{k}"),
            PathElement::Value(v) => format!("v:{v}"),
            PathElement::Index(i) => format!("i:{i}"),
        }
    }

    /// Parses a `FieldsV1` key (`serialize-pe.go` `DeserializePathElement`); `None` for
    /// anything else (an unknown prefix, a `k:` that is not a JSON object, bad JSON).
    pub fn decode(s: &str) -> Option<PathElement> {
        let (prefix, rest) = s.split_once(':')?;
        match prefix {
            "f" => Some(PathElement::Field(rest.to_owned())),
            "k" => match serde_json::from_str::<Value>(rest).ok()? {
                Value::Object(m) => Some(PathElement::key(&m)),
                _ => None,
            },
            "v" => Some(PathElement::value(
                &serde_json::from_str::<Value>(rest).ok()?,
            )),
            "i" => rest.parse().ok().map(PathElement::Index),
            _ => None,
        }
    }

    /// The field name of a [`PathElement::Field`].
    pub fn field_name(&self) -> Option<&str> {
        match self {
            PathElement::Field(f) => Some(f),
            _ => None,
        }
    }
}

/// `value.ToString` of structured-merge-diff (`value/value.go`) for the scalars key fields
/// and set items are: strings Go-quoted (`%q`), numbers, booleans and `null` as JSON. Lists
/// and maps (which kube's schemas never use as keys) are written as JSON.
fn value_string(v: &Value) -> String {
    match v {
        Value::String(s) => pod_introspect_kube::go_quote::quote(s),
        other => other.to_string(),
    }
}

impl fmt::Display for PathElement {
    /// `element.go` `PathElement.String`: `.name`, `[name="a",port=80]`, `[="x"]`, `[0]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PathElement::Field(name) => write!(f, ".{name}"),
            PathElement::Key(k) => {
                let fields: Map<String, Value> = serde_json::from_str(k).unwrap_or_default();
                let parts: Vec<String> = fields
                    .iter()
                    .map(|(k, v)| format!("{k}={}", value_string(v)))
                    .collect();
                write!(f, "[{}]", parts.join(","))
            }
            PathElement::Value(v) => {
                let v: Value = serde_json::from_str(v).unwrap_or(Value::Null);
                write!(f, "[={}]", value_string(&v))
            }
            PathElement::Index(i) => write!(f, "[{i}]"),
        }
    }
}

/// A field path, printed as upstream's `Path.String` (the elements concatenated:
/// `.spec.template.spec.containers[name="a"].image`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Path(pub Vec<PathElement>);

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for pe in &self.0 {
            write!(f, "{pe}")?;
        }
        Ok(())
    }
}

/// A set of field paths (`fieldpath.Set`): `members` are the paths ending at this level,
/// `children` the sets below each element. Kept normalized: no empty child sets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Set {
    members: BTreeSet<PathElement>,
    children: BTreeMap<PathElement, Set>,
}

impl Set {
    /// The empty set.
    pub fn new() -> Set {
        Set::default()
    }

    /// True when the set holds no path.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty() && self.children.is_empty()
    }

    /// Adds `path` (the empty path is not a member of anything and is ignored).
    pub fn insert(&mut self, path: &[PathElement]) {
        match path {
            [] => {}
            [last] => {
                self.members.insert(last.clone());
            }
            [first, rest @ ..] => self.children.entry(first.clone()).or_default().insert(rest),
        }
    }

    /// True when `path` is a member.
    pub fn has(&self, path: &[PathElement]) -> bool {
        match path {
            [] => false,
            [last] => self.members.contains(last),
            [first, rest @ ..] => self.children.get(first).is_some_and(|c| c.has(rest)),
        }
    }

    /// True when `pe` is a member at this level.
    pub fn has_member(&self, pe: &PathElement) -> bool {
        self.members.contains(pe)
    }

    /// The set below `pe`, if any.
    pub fn child(&self, pe: &PathElement) -> Option<&Set> {
        self.children.get(pe)
    }

    /// The members at this level.
    pub fn members(&self) -> impl Iterator<Item = &PathElement> {
        self.members.iter()
    }

    /// The children at this level.
    pub fn children(&self) -> impl Iterator<Item = (&PathElement, &Set)> {
        self.children.iter()
    }

    /// Adds `pe` as a member at this level.
    pub fn insert_member(&mut self, pe: PathElement) {
        self.members.insert(pe);
    }

    /// Removes `pe` from the members at this level.
    pub fn remove_member(&mut self, pe: &PathElement) {
        self.members.remove(pe);
    }

    /// Sets the child below `pe` (dropped when empty).
    pub fn set_child(&mut self, pe: PathElement, child: Set) {
        if child.is_empty() {
            self.children.remove(&pe);
        } else {
            self.children.insert(pe, child);
        }
    }

    /// Every path in `self` or `other`.
    pub fn union(&self, other: &Set) -> Set {
        let mut out = self.clone();
        out.members.extend(other.members.iter().cloned());
        for (pe, c) in &other.children {
            let merged = match out.children.get(pe) {
                Some(mine) => mine.union(c),
                None => c.clone(),
            };
            out.children.insert(pe.clone(), merged);
        }
        out
    }

    /// The paths in both `self` and `other`.
    pub fn intersection(&self, other: &Set) -> Set {
        let mut out = Set::new();
        out.members = self.members.intersection(&other.members).cloned().collect();
        for (pe, c) in &self.children {
            if let Some(o) = other.children.get(pe) {
                out.set_child(pe.clone(), c.intersection(o));
            }
        }
        out
    }

    /// The paths of `self` that are not in `other` (path by path: removing a member does not
    /// remove the paths below it; `Set.Difference`).
    pub fn difference(&self, other: &Set) -> Set {
        let mut out = Set::new();
        out.members = self.members.difference(&other.members).cloned().collect();
        for (pe, c) in &self.children {
            let rest = match other.children.get(pe) {
                Some(o) => c.difference(o),
                None => c.clone(),
            };
            out.set_child(pe.clone(), rest);
        }
        out
    }

    /// Like [`Set::difference`], but a member of `other` also removes every path below it
    /// (`Set.RecursiveDifference`).
    pub fn recursive_difference(&self, other: &Set) -> Set {
        let mut out = Set::new();
        out.members = self.members.difference(&other.members).cloned().collect();
        for (pe, c) in &self.children {
            if other.members.contains(pe) {
                continue;
            }
            let rest = match other.children.get(pe) {
                Some(o) => c.recursive_difference(o),
                None => c.clone(),
            };
            out.set_child(pe.clone(), rest);
        }
        out
    }

    /// Every member path in upstream's `Iterate` order: this level's members (sorted), then
    /// each child's paths (children sorted).
    pub fn paths(&self) -> Vec<Path> {
        let mut out = Vec::new();
        self.collect_paths(&mut Vec::new(), &mut out);
        out
    }

    fn collect_paths(&self, prefix: &mut Vec<PathElement>, out: &mut Vec<Path>) {
        for pe in &self.members {
            let mut p = prefix.clone();
            p.push(pe.clone());
            out.push(Path(p));
        }
        for (pe, c) in &self.children {
            prefix.push(pe.clone());
            c.collect_paths(prefix, out);
            prefix.pop();
        }
    }

    /// The `FieldsV1` JSON (`Set.ToJSON`): `{"f:data":{".":{},"f:key":{}}}`.
    pub fn to_fields_v1(&self) -> Value {
        let mut out = Map::new();
        for pe in &self.members {
            if !self.children.contains_key(pe) {
                out.insert(pe.encode(), Value::Object(Map::new()));
            }
        }
        for (pe, c) in &self.children {
            let mut inner = match c.to_fields_v1() {
                Value::Object(m) => m,
                _ => Map::new(),
            };
            if self.members.contains(pe) {
                inner.insert(".".into(), Value::Object(Map::new()));
            }
            out.insert(pe.encode(), Value::Object(inner));
        }
        Value::Object(out)
    }

    /// Parses `FieldsV1` JSON (`Set.FromJSON`).
    ///
    /// # Errors
    /// A message naming the first key that is not a path element, or a value that is not an
    /// object.
    pub fn from_fields_v1(v: &Value) -> Result<Set, String> {
        let Value::Object(m) = v else {
            return Err(format!("expected an object, got {v}"));
        };
        let mut out = Set::new();
        for (k, child) in m {
            if k == "." {
                continue;
            }
            let pe = PathElement::decode(k)
                .ok_or_else(|| format!("parsing JSON: invalid path element {k:?}"))?;
            let Value::Object(cm) = child else {
                return Err(format!("parsing JSON: {k}: expected an object"));
            };
            if cm.is_empty() || cm.contains_key(".") {
                out.members.insert(pe.clone());
            }
            let sub = Set::from_fields_v1(child)?;
            out.set_child(pe, sub);
        }
        Ok(out)
    }
}

/// A path from field names (`&["data", "key"]`).
pub fn fields(names: &[&str]) -> Vec<PathElement> {
    names
        .iter()
        .map(|n| PathElement::Field((*n).to_owned()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fields_v1_round_trips_the_upstream_encoding() {
        // As kube-apiserver writes an Update entry of a Deployment (hand-copied shape).
        let v = json!({
            "f:metadata": {"f:labels": {".": {}, "f:app": {}}},
            "f:spec": {"f:template": {"f:spec": {"f:containers": {
                "k:{\"name\":\"nginx\"}": {".": {}, "f:image": {}, "f:name": {}}
            }}}},
            "f:finalizers": {".": {}, "v:\"example.com/x\"": {}}
        });
        let set = Set::from_fields_v1(&v).unwrap();
        assert!(set.has(&fields(&["metadata", "labels"])));
        assert!(set.has(&fields(&["metadata", "labels", "app"])));
        assert!(!set.has(&fields(&["metadata"])));
        assert_eq!(set.to_fields_v1(), v);
        let printed: Vec<String> = set.paths().iter().map(ToString::to_string).collect();
        assert_eq!(
            printed,
            [
                ".finalizers",
                ".finalizers[=\"example.com/x\"]",
                ".metadata.labels",
                ".metadata.labels.app",
                ".spec.template.spec.containers[name=\"nginx\"]",
                ".spec.template.spec.containers[name=\"nginx\"].image",
                ".spec.template.spec.containers[name=\"nginx\"].name",
            ]
        );
    }

    #[test]
    fn keys_print_sorted_with_go_quoting() {
        let pe = PathElement::decode(r#"k:{"protocol":"TCP","containerPort":80}"#).unwrap();
        assert_eq!(pe.encode(), r#"k:{"containerPort":80,"protocol":"TCP"}"#);
        assert_eq!(pe.to_string(), r#"[containerPort=80,protocol="TCP"]"#);
        assert_eq!(PathElement::decode("x:1"), None);
        assert_eq!(PathElement::decode("i:3"), Some(PathElement::Index(3)));
    }

    #[test]
    fn set_operations() {
        let mut a = Set::new();
        a.insert(&fields(&["data", "a"]));
        a.insert(&fields(&["data", "b"]));
        a.insert(&fields(&["spec"]));
        let mut b = Set::new();
        b.insert(&fields(&["data", "b"]));
        b.insert(&fields(&["spec", "x"]));
        assert_eq!(a.intersection(&b).paths().len(), 1);
        assert_eq!(
            a.difference(&b)
                .paths()
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
            [".spec", ".data.a"]
        );
        let mut spec = Set::new();
        spec.insert(&fields(&["spec"]));
        assert!(b.recursive_difference(&spec).has(&fields(&["data", "b"])));
        assert!(!b.recursive_difference(&spec).has(&fields(&["spec", "x"])));
        assert!(!b.difference(&spec).is_empty());
    }
}
