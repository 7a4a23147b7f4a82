//! Values walked with their schema: the structured-merge-diff operations server-side apply is
//! built from, over JSON objects and the OpenAPI v3 definitions of
//! [`crate::openapi::definitions`].
//!
//! Upstream: `sigs.k8s.io/structured-merge-diff/v4/typed` (`tofieldset.go` `ToFieldSet`,
//! `merge.go` `Merge`, `compare.go` `Compare`, `remove.go` `RemoveItems`) with the schema as
//! `k8s.io/kube-openapi/pkg/schemaconv` (`openapi.go`, `proto_models.go`) derives it from the
//! OpenAPI document:
//!
//! - an object with `properties` is a struct (its fields "granular": each owned alone) unless
//!   its type is atomic (`+structType=atomic`, [`ATOMIC_STRUCTS`]); `additionalProperties` is a
//!   map whose keys are fields too;
//! - a list is associative by `x-kubernetes-list-map-keys` when `x-kubernetes-list-type: map`,
//!   a set when `set`, atomic when `atomic`; without a list type,
//!   `x-kubernetes-patch-strategy: merge` (or `merge,retainKeys`) makes it associative by
//!   `x-kubernetes-patch-merge-key` (a set without one); every other list is atomic (replaced
//!   as a whole, owned as one field);
//! - scalars, `Quantity`, `RawExtension` and values the schema does not describe are leaves,
//!   except that an undescribed object is a granular map ("deduced" type).
//!
//! Deviation, on purpose: upstream compares against the Go object, where a non-pointer struct
//! and a field without `omitempty` are always present (`{}` or `null`), so a struct that
//! appears, or a list without `omitempty` (declared `required`), is not "added" itself — only
//! its fields are. Without the Go types this module never counts a struct node itself as added
//! or removed, and a required field only by its contents; maps, other lists and list items
//! are counted, which is what gives upstream's `".": {}` entries (`f:labels`, `f:data`,
//! `k:{"name":"a"}`).

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::fieldpath::{Path, PathElement, Set};

/// The definitions marked `+structType=atomic` in their Go types (k8s.io/api v0.33
/// `core/v1/types.go`, k8s.io/apimachinery `pkg/apis/meta/v1/types.go`), which kube's OpenAPI
/// marks `x-kubernetes-map-type: atomic` and [`crate::openapi::definitions`] does not.
pub const ATOMIC_STRUCTS: &[&str] = &[
    "io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector",
    "io.k8s.api.core.v1.NodeSelector",
    "io.k8s.api.core.v1.NodeSelectorTerm",
    "io.k8s.api.core.v1.TopologySelectorTerm",
    "io.k8s.api.core.v1.LocalObjectReference",
    "io.k8s.api.core.v1.TypedLocalObjectReference",
    "io.k8s.api.core.v1.ObjectReference",
    "io.k8s.api.core.v1.ObjectFieldSelector",
    "io.k8s.api.core.v1.ResourceFieldSelector",
    "io.k8s.api.core.v1.ConfigMapKeySelector",
    "io.k8s.api.core.v1.SecretKeySelector",
];

/// Definitions structured-merge-diff treats as untyped scalars (`schemaconv/openapi.go`
/// `quantityResource`, `rawExtensionResource`) or that are strings on the wire.
const LEAF_DEFINITIONS: &[&str] = &[
    "io.k8s.apimachinery.pkg.api.resource.Quantity",
    "io.k8s.apimachinery.pkg.runtime.RawExtension",
    "io.k8s.apimachinery.pkg.util.intstr.IntOrString",
    "io.k8s.apimachinery.pkg.apis.meta.v1.Time",
    "io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime",
];

/// Defaults of list-map key fields (`+default=` tags, which kube's OpenAPI v3 carries as
/// `default` and the generated definitions do not): a port without `protocol` is keyed as
/// `TCP`, as `keyedAssociativeListItemToPathElement` does with the schema default.
const KEY_DEFAULTS: &[(&str, &str, &str)] = &[
    ("io.k8s.api.core.v1.ContainerPort", "protocol", "TCP"),
    ("io.k8s.api.core.v1.ServicePort", "protocol", "TCP"),
];

/// A position in the schema: a node of the definitions (`None`: not described).
#[derive(Debug, Clone, Copy)]
pub struct Ty<'a> {
    defs: &'a Map<String, Value>,
    node: Option<&'a Value>,
}

/// How a list's items are identified.
#[derive(Debug, Clone, PartialEq, Eq)]
enum ListKind {
    /// Replaced and owned as a whole.
    Atomic,
    /// Items by value (`v:`).
    Set,
    /// Items by these key fields (`k:`).
    Map(Vec<String>),
}

/// What a node is, for a walk.
enum Node<'a> {
    /// Owned and replaced as one field.
    Leaf,
    /// A struct (`props`) or map (`values`), each key a field.
    Map {
        props: Option<&'a Map<String, Value>>,
        required: Vec<&'a str>,
        values: Option<Ty<'a>>,
    },
    /// A list of items with identity.
    List { items: Ty<'a>, kind: ListKind },
}

impl<'a> Ty<'a> {
    /// The definition named `root` (`io.k8s.api.core.v1.ConfigMap`); undescribed when absent.
    pub fn root(defs: &'a Map<String, Value>, root: &str) -> Ty<'a> {
        Ty {
            defs,
            node: defs.get(root),
        }
    }

    fn at(self, node: Option<&'a Value>) -> Ty<'a> {
        Ty {
            defs: self.defs,
            node,
        }
    }

    /// The node with `$ref`s and one-element `allOf`s followed, and the last definition name.
    fn resolved(self) -> Option<(&'a Map<String, Value>, Option<&'a str>)> {
        crate::openapi::resolve(self.defs, self.node?)
    }

    /// The node's shape for a value `v` (undescribed nodes are deduced from the value).
    fn node(self, v: Option<&Value>) -> Node<'a> {
        let deduced = |v: Option<&Value>| match v {
            Some(Value::Object(_)) => Node::Map {
                props: None,
                required: Vec::new(),
                values: Some(self.at(None)),
            },
            _ => Node::Leaf,
        };
        let Some((obj, name)) = self.resolved() else {
            return deduced(v);
        };
        if name.is_some_and(|n| LEAF_DEFINITIONS.contains(&n)) {
            return Node::Leaf;
        }
        let atomic_map = name.is_some_and(|n| ATOMIC_STRUCTS.contains(&n))
            || self.extension("x-kubernetes-map-type") == Some("atomic")
            || obj.get("x-kubernetes-map-type").and_then(Value::as_str) == Some("atomic");
        if let Some(props) = obj.get("properties").and_then(Value::as_object) {
            if atomic_map {
                return Node::Leaf;
            }
            let values = match obj.get("additionalProperties") {
                Some(v @ Value::Object(_)) => Some(self.at(Some(v))),
                _ => Some(self.at(None)),
            };
            let required = obj
                .get("required")
                .and_then(Value::as_array)
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            return Node::Map {
                props: Some(props),
                required,
                values,
            };
        }
        if let Some(values) = obj.get("additionalProperties") {
            if atomic_map {
                return Node::Leaf;
            }
            return Node::Map {
                props: None,
                required: Vec::new(),
                values: Some(self.at(values.as_object().map(|_| values))),
            };
        }
        let ty = obj.get("type").and_then(Value::as_str).unwrap_or("");
        match ty {
            "array" => {
                let items = self.at(obj.get("items"));
                Node::List {
                    items,
                    kind: self.list_kind(),
                }
            }
            "object" if !atomic_map => deduced(v),
            "" => deduced(v),
            _ => Node::Leaf,
        }
    }

    /// A string extension of the node itself (before resolving references): where the list
    /// and map extensions of a property are.
    fn extension(self, key: &str) -> Option<&'a str> {
        self.node?.get(key)?.as_str()
    }

    /// `getListElementRelationship` (`schemaconv/proto_models.go`).
    fn list_kind(self) -> ListKind {
        let Some(node) = self.node else {
            return ListKind::Atomic;
        };
        match node.get("x-kubernetes-list-type").and_then(Value::as_str) {
            Some("set") => return ListKind::Set,
            Some("map") => {
                let keys = node
                    .get("x-kubernetes-list-map-keys")
                    .and_then(Value::as_array)
                    .map(|k| {
                        k.iter()
                            .filter_map(Value::as_str)
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_default();
                return ListKind::Map(keys);
            }
            Some(_) => return ListKind::Atomic,
            None => {}
        }
        match self.extension("x-kubernetes-patch-strategy") {
            Some("merge" | "merge,retainKeys") => {
                match self.extension("x-kubernetes-patch-merge-key") {
                    Some(key) => ListKind::Map(vec![key.to_owned()]),
                    None => ListKind::Set,
                }
            }
            _ => ListKind::Atomic,
        }
    }
}

impl<'a> Node<'a> {
    /// The type of field `key` of a map node.
    fn field(&self, outer: Ty<'a>, key: &str) -> Ty<'a> {
        match self {
            Node::Map { props, values, .. } => match props.and_then(|p| p.get(key)) {
                Some(prop) => outer.at(Some(prop)),
                None => values.unwrap_or(outer.at(None)),
            },
            _ => outer.at(None),
        }
    }

    /// True when `key` is a declared struct field (not a map key).
    fn declared(&self, key: &str) -> bool {
        matches!(self, Node::Map { props: Some(p), .. } if p.contains_key(key))
    }

    /// True for a struct node (one with declared fields).
    fn is_struct(&self) -> bool {
        matches!(self, Node::Map { props: Some(_), .. })
    }

    /// True when `key` is a required field (no `omitempty` in Go).
    fn required(&self, key: &str) -> bool {
        matches!(self, Node::Map { required, .. } if required.contains(&key))
    }
}

/// An error of a walk: upstream's `ValidationError` text, `PATH: MESSAGE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalkError(pub String);

fn err_at(path: &[PathElement], message: impl std::fmt::Display) -> WalkError {
    let p = Path(path.to_vec()).to_string();
    if p.is_empty() {
        WalkError(message.to_string())
    } else {
        WalkError(format!("{p}: {message}"))
    }
}

/// The path element of one item of a list of `kind` with item type `items`
/// (`listItemToPathElement`).
fn item_element(
    items: Ty<'_>,
    kind: &ListKind,
    item: &Value,
    index: usize,
    path: &[PathElement],
) -> Result<PathElement, WalkError> {
    match kind {
        ListKind::Map(keys) if !keys.is_empty() => {
            let Value::Object(obj) = item else {
                return Err(err_at(
                    path,
                    "associative list with keys may not have non-map elements",
                ));
            };
            let def_name = items.resolved().and_then(|(_, n)| n);
            let def_props = items
                .resolved()
                .and_then(|(o, _)| o.get("properties"))
                .and_then(Value::as_object);
            let mut fields = Map::new();
            for k in keys {
                let v = match obj.get(k).filter(|v| !v.is_null()) {
                    Some(v) => v.clone(),
                    None => {
                        let from_schema = def_props
                            .and_then(|p| p.get(k))
                            .and_then(|p| p.get("default"))
                            .cloned();
                        let from_table = KEY_DEFAULTS
                            .iter()
                            .find(|(d, f, _)| Some(*d) == def_name && f == k)
                            .map(|(_, _, v)| Value::String((*v).to_owned()));
                        match from_schema.or(from_table) {
                            Some(v) => v,
                            None => {
                                return Err(err_at(
                                    path,
                                    format!(
                                        "associative list with keys has an element that omits key field {} (and doesn't have default value)",
                                        pod_introspect_kube::go_quote::quote(k)
                                    ),
                                ));
                            }
                        }
                    }
                };
                fields.insert(k.clone(), v);
            }
            Ok(PathElement::key(&fields))
        }
        ListKind::Map(_) | ListKind::Set => {
            if item.is_object() {
                return Err(err_at(
                    path,
                    "associative list without keys has an element that's a map type",
                ));
            }
            Ok(PathElement::value(item))
        }
        ListKind::Atomic => Ok(PathElement::Index(index)),
    }
}

/// The items of `list` with their path elements; with `allow_duplicates` the first of equal
/// elements is kept, otherwise a duplicate is `duplicate entries for key ...` as upstream
/// (live objects are read with `typed.AllowDuplicates`, applied configurations are not).
fn index_items<'v>(
    items: Ty<'_>,
    kind: &ListKind,
    list: &'v [Value],
    path: &[PathElement],
    allow_duplicates: bool,
) -> Result<Vec<(PathElement, &'v Value)>, WalkError> {
    let mut out: Vec<(PathElement, &Value)> = Vec::with_capacity(list.len());
    let mut seen = std::collections::BTreeSet::new();
    for (i, item) in list.iter().enumerate() {
        let pe = item_element(items, kind, item, i, path)?;
        if !seen.insert(pe.clone()) {
            if allow_duplicates {
                continue;
            }
            let what = match &pe {
                PathElement::Value(_) => "value",
                _ => "key",
            };
            return Err(err_at(path, format!("duplicate entries for {what} {pe}")));
        }
        out.push((pe, item));
    }
    Ok(out)
}

/// The fields `v` sets (`TypedValue.ToFieldSet`): every leaf, every list item (with its
/// fields below it), map keys and fields set to `null` or `{}`.
///
/// # Errors
/// A list item without its key fields, duplicate items, a map in a set.
pub fn to_field_set(ty: Ty<'_>, v: &Value) -> Result<Set, WalkError> {
    let mut out = Set::new();
    field_set_into(ty, v, &mut Vec::new(), &mut out)?;
    Ok(out)
}

fn field_set_into(
    ty: Ty<'_>,
    v: &Value,
    path: &mut Vec<PathElement>,
    out: &mut Set,
) -> Result<(), WalkError> {
    match ty.node(Some(v)) {
        Node::Leaf => out.insert(path),
        node @ Node::Map { .. } => {
            let Value::Object(m) = v else {
                if !v.is_null() {
                    out.insert(path);
                }
                return Ok(());
            };
            for (k, val) in m {
                path.push(PathElement::Field(k.clone()));
                field_set_into(node.field(ty, k), val, path, out)?;
                let empty_map = matches!(val, Value::Object(o) if o.is_empty());
                if val.is_null() || empty_map || !node.declared(k) {
                    out.insert(path);
                }
                path.pop();
            }
        }
        Node::List { items, kind } => {
            let Value::Array(list) = v else {
                if !v.is_null() {
                    out.insert(path);
                }
                return Ok(());
            };
            if kind == ListKind::Atomic {
                out.insert(path);
                return Ok(());
            }
            for (pe, item) in index_items(items, &kind, list, path, false)? {
                path.push(pe);
                field_set_into(items, item, path, out)?;
                out.insert(path);
                path.pop();
            }
        }
    }
    Ok(())
}

/// `live` with `config` merged in (`TypedValue.Merge`): maps and structs key by key, lists by
/// their item identity (items of both merged, the config's order for shared items, live-only
/// items kept where they were), leaves and atomic values replaced by the config's.
///
/// # Errors
/// As [`to_field_set`], for either side.
pub fn merge(ty: Ty<'_>, live: &Value, config: &Value) -> Result<Value, WalkError> {
    merge_at(ty, Some(live), Some(config), &mut Vec::new())
}

fn merge_at(
    ty: Ty<'_>,
    lhs: Option<&Value>,
    rhs: Option<&Value>,
    path: &mut Vec<PathElement>,
) -> Result<Value, WalkError> {
    let (l, r) = match (lhs, rhs) {
        (Some(l), Some(r)) => (l, r),
        (Some(l), None) => return Ok(l.clone()),
        (None, Some(r)) => return Ok(r.clone()),
        (None, None) => return Ok(Value::Null),
    };
    match ty.node(Some(r)) {
        Node::Leaf => Ok(r.clone()),
        node @ Node::Map { .. } => {
            let empty = |v: &Value| match v {
                Value::Object(m) => m.is_empty(),
                Value::Null => true,
                _ => false,
            };
            match (l, r) {
                _ if empty(l) && empty(r) => Ok(r.clone()),
                (Value::Object(lm), Value::Object(rm)) => {
                    let mut out = lm.clone();
                    for (k, rv) in rm {
                        path.push(PathElement::Field(k.clone()));
                        let merged = merge_at(node.field(ty, k), lm.get(k), Some(rv), path)?;
                        path.pop();
                        out.insert(k.clone(), merged);
                    }
                    Ok(Value::Object(out))
                }
                (Value::Object(_), Value::Null) => Ok(l.clone()),
                _ => Ok(r.clone()),
            }
        }
        Node::List { items, kind } => match (l, r) {
            (Value::Array(ll), Value::Array(rl)) if kind != ListKind::Atomic => {
                merge_lists(items, &kind, ll, rl, path).map(Value::Array)
            }
            _ => Ok(r.clone()),
        },
    }
}

/// `mergingWalker.visitListItems`: walks both lists in step; an item of both sides is merged
/// where it comes next in the config's order of shared items, a live-only item stays where it
/// was, a config-only item is placed where it is in the config.
fn merge_lists(
    items: Ty<'_>,
    kind: &ListKind,
    lhs: &[Value],
    rhs: &[Value],
    path: &mut Vec<PathElement>,
) -> Result<Vec<Value>, WalkError> {
    let r_items = index_items(items, kind, rhs, path, false)?;
    let l_items = index_items(items, kind, lhs, path, true)?;
    let l_by: BTreeMap<&PathElement, &Value> = l_items.iter().map(|(p, v)| (p, *v)).collect();
    let r_by: BTreeMap<&PathElement, &Value> = r_items.iter().map(|(p, v)| (p, *v)).collect();
    let mut shared: std::collections::VecDeque<&PathElement> = r_items
        .iter()
        .map(|(p, _)| p)
        .filter(|p| l_by.contains_key(p))
        .collect();
    let mut next_shared = shared.pop_front();
    let mut merged_rhs = std::collections::BTreeSet::new();
    let mut out = Vec::with_capacity(lhs.len().max(rhs.len()));
    let (mut li, mut ri) = (0, 0);
    let mut merge_item =
        |pe: &PathElement, l: Option<&Value>, r: Option<&Value>| -> Result<Value, WalkError> {
            path.push(pe.clone());
            let v = merge_at(items, l, r, path);
            path.pop();
            v
        };
    while li < l_items.len() || ri < r_items.len() {
        if li < l_items.len() && ri < r_items.len() {
            let pe = &l_items[li].0;
            if *pe == r_items[ri].0 {
                merged_rhs.insert(pe.clone());
                out.push(merge_item(
                    pe,
                    l_by.get(pe).copied(),
                    r_by.get(pe).copied(),
                )?);
                li += 1;
                ri += 1;
                next_shared = shared.pop_front();
                continue;
            }
            if r_by.contains_key(pe) && next_shared.is_some_and(|n| n != pe) {
                li += 1;
                continue;
            }
        }
        if li < l_items.len() {
            let (pe, item) = &l_items[li];
            if !r_by.contains_key(pe) {
                out.push(merge_item(pe, Some(item), None)?);
                li += 1;
                continue;
            } else if merged_rhs.contains(pe) {
                li += 1;
                continue;
            }
        }
        if ri < r_items.len() {
            let pe = &r_items[ri].0;
            merged_rhs.insert(pe.clone());
            out.push(merge_item(
                pe,
                l_by.get(pe).copied(),
                r_by.get(pe).copied(),
            )?);
            ri += 1;
            if next_shared.is_some_and(|n| n == pe) {
                next_shared = shared.pop_front();
            }
        }
    }
    Ok(out)
}

/// What changed between two values (`typed.Comparison`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Comparison {
    /// Fields only the new value has.
    pub added: Set,
    /// Fields whose value differs.
    pub modified: Set,
    /// Fields only the old value has.
    pub removed: Set,
}

/// Compares `old` (`None`: the object is being created) with `new` (`TypedValue.Compare`).
pub fn compare(ty: Ty<'_>, old: Option<&Value>, new: &Value) -> Comparison {
    let mut c = Comparison::default();
    compare_at(ty, old, Some(new), &mut Vec::new(), &mut c, false);
    c
}

/// `own`: whether this node itself counts as added/removed when one side lacks it (see the
/// module documentation).
fn compare_at(
    ty: Ty<'_>,
    lhs: Option<&Value>,
    rhs: Option<&Value>,
    path: &mut Vec<PathElement>,
    c: &mut Comparison,
    own: bool,
) {
    let leaf = |c: &mut Comparison, path: &[PathElement]| match (lhs, rhs) {
        (None, Some(_)) => c.added.insert(path),
        (Some(_), None) => c.removed.insert(path),
        (Some(l), Some(r)) if l != r => c.modified.insert(path),
        _ => {}
    };
    let sample = rhs.or(lhs);
    let node = match (lhs, rhs) {
        (Some(l), Some(r))
            if std::mem::discriminant(l) != std::mem::discriminant(r)
                && !l.is_null()
                && !r.is_null() =>
        {
            Node::Leaf
        }
        _ => ty.node(sample),
    };
    match node {
        Node::Leaf => leaf(c, path),
        node @ Node::Map { .. } => {
            let lm = lhs.and_then(Value::as_object);
            let rm = rhs.and_then(Value::as_object);
            if lm.is_none_or(Map::is_empty) && rm.is_none_or(Map::is_empty) {
                leaf(c, path);
                return;
            }
            let mut keys: Vec<&String> = lm.into_iter().flat_map(|m| m.keys()).collect();
            keys.extend(rm.into_iter().flat_map(|m| m.keys()));
            keys.sort();
            keys.dedup();
            for k in keys {
                let child = node.field(ty, k);
                let child_own = !node.required(k) && !child_is_struct(child, lm, rm, k);
                path.push(PathElement::Field(k.clone()));
                compare_at(
                    child,
                    lm.and_then(|m| m.get(k)),
                    rm.and_then(|m| m.get(k)),
                    path,
                    c,
                    child_own,
                );
                path.pop();
            }
            if own {
                match (lhs, rhs) {
                    (None, Some(_)) => c.added.insert(path),
                    (Some(_), None) => c.removed.insert(path),
                    _ => {}
                }
            }
        }
        Node::List { items, kind } => {
            let ll = lhs.and_then(Value::as_array);
            let rl = rhs.and_then(Value::as_array);
            if kind == ListKind::Atomic
                || (ll.is_none_or(Vec::is_empty) && rl.is_none_or(Vec::is_empty))
            {
                leaf(c, path);
                return;
            }
            let l_items = ll
                .and_then(|l| index_items(items, &kind, l, path, true).ok())
                .unwrap_or_default();
            let r_items = rl
                .and_then(|l| index_items(items, &kind, l, path, true).ok())
                .unwrap_or_default();
            let l_by: BTreeMap<PathElement, &Value> = l_items.into_iter().collect();
            let r_by: BTreeMap<PathElement, &Value> = r_items.into_iter().collect();
            let mut pes: Vec<&PathElement> = l_by.keys().chain(r_by.keys()).collect();
            pes.sort();
            pes.dedup();
            for pe in pes {
                path.push(pe.clone());
                compare_at(
                    items,
                    l_by.get(pe).copied(),
                    r_by.get(pe).copied(),
                    path,
                    c,
                    true,
                );
                path.pop();
            }
            if own {
                match (lhs, rhs) {
                    (None, Some(_)) => c.added.insert(path),
                    (Some(_), None) => c.removed.insert(path),
                    _ => {}
                }
            }
        }
    }
}

/// True when field `k` (of type `child`) is a struct for the values at hand.
fn child_is_struct(
    child: Ty<'_>,
    lm: Option<&Map<String, Value>>,
    rm: Option<&Map<String, Value>>,
    k: &str,
) -> bool {
    let sample = rm.and_then(|m| m.get(k)).or(lm.and_then(|m| m.get(k)));
    child.node(sample).is_struct()
}

/// `s` with every declared struct field that has paths below it also a member
/// (`Set.EnsureNamedFieldsAreMembers`): so removing a struct field's last owned child removes
/// the field.
pub fn ensure_named_fields_are_members(ty: Ty<'_>, s: &Set) -> Set {
    let node = ty.node(None);
    let mut out = s.clone();
    for (pe, child) in s.children() {
        let child_ty = match (&node, pe) {
            (Node::Map { .. }, PathElement::Field(name)) => {
                if node.declared(name) {
                    out.insert_member(pe.clone());
                }
                node.field(ty, name)
            }
            (Node::List { items, .. }, _) => *items,
            _ => ty.at(None),
        };
        out.set_child(pe.clone(), ensure_named_fields_are_members(child_ty, child));
    }
    out
}

/// `v` without the fields in `s` (`TypedValue.RemoveItems`): a member is removed with
/// everything below it, a child set is removed inside. The key fields of an associative
/// list item that stays are never removed. A map or list field left empty by a removal is
/// dropped, as Go's `omitempty` drops an empty map or slice.
pub fn remove_items(ty: Ty<'_>, v: &Value, s: &Set) -> Value {
    if s.is_empty() {
        return v.clone();
    }
    match (ty.node(Some(v)), v) {
        (node @ Node::Map { .. }, Value::Object(m)) => {
            let mut out = Map::new();
            for (k, val) in m {
                let pe = PathElement::Field(k.clone());
                if s.has_member(&pe) {
                    continue;
                }
                match s.child(&pe) {
                    Some(child) => {
                        let child_ty = node.field(ty, k);
                        let kept = remove_items(child_ty, val, child);
                        let emptied = match (&kept, val) {
                            (Value::Object(a), Value::Object(b)) => a.is_empty() && !b.is_empty(),
                            (Value::Array(a), Value::Array(b)) => a.is_empty() && !b.is_empty(),
                            _ => false,
                        };
                        if emptied && !child_ty.node(Some(&kept)).is_struct() {
                            continue;
                        }
                        out.insert(k.clone(), kept);
                    }
                    None => {
                        out.insert(k.clone(), val.clone());
                    }
                }
            }
            Value::Object(out)
        }
        (Node::List { items, kind }, Value::Array(list)) if kind != ListKind::Atomic => {
            let mut out = Vec::with_capacity(list.len());
            for (i, item) in list.iter().enumerate() {
                let Ok(pe) = item_element(items, &kind, item, i, &[]) else {
                    out.push(item.clone());
                    continue;
                };
                if s.has_member(&pe) {
                    continue;
                }
                match s.child(&pe) {
                    Some(child) => {
                        let mut child = child.clone();
                        if let ListKind::Map(keys) = &kind {
                            for k in keys {
                                child.remove_member(&PathElement::Field(k.clone()));
                            }
                        }
                        out.push(remove_items(items, item, &child));
                    }
                    None => out.push(item.clone()),
                }
            }
            Value::Array(out)
        }
        _ => v.clone(),
    }
}
