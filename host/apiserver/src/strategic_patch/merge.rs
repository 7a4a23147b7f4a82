//! The server-side half of `staging/src/k8s.io/apimachinery/pkg/util/strategicpatch/patch.go`:
//! `StrategicMergeMapPatchUsingLookupPatchMeta` with `MergeOptions{MergeParallelList: true,
//! IgnoreUnmatchedNulls: true}`, i.e. `mergeMap`, `mergeSlice` and their helpers, function by
//! function (each Rust function names the Go one it follows).
//!
//! Not reproduced: Go's slice aliasing (`append` into a shared backing array can make
//! `mergePatchIntoOriginal` order server-only items against a list already changed by the
//! merge) and Go's panics on uncomparable values (a map used as a merge-key value); here lists
//! are values and such comparisons are structural. Go iterates a patch map in random order;
//! here keys are visited in `serde_json::Map` order, which only matters for which of two
//! errors is reported.

use serde_json::{Map, Value};

use super::schema::Schema;
use super::{StrategicPatchError, gofmt};

type Obj = Map<String, Value>;
type Result<T> = std::result::Result<T, StrategicPatchError>;

/// `directiveMarker`.
const DIRECTIVE_MARKER: &str = "$patch";
const DELETE_DIRECTIVE: &str = "delete";
const REPLACE_DIRECTIVE: &str = "replace";
const MERGE_DIRECTIVE: &str = "merge";
const RETAIN_KEYS_STRATEGY: &str = "retainKeys";
/// `deleteFromPrimitiveListDirectivePrefix`.
const DELETE_FROM_PRIMITIVE_LIST_PREFIX: &str = "$deleteFromPrimitiveList";
/// `retainKeysDirective`.
const RETAIN_KEYS_DIRECTIVE: &str = "$retainKeys";
/// `setElementOrderDirectivePrefix`.
const SET_ELEMENT_ORDER_PREFIX: &str = "$setElementOrder";

/// The Go dynamic type of a decoded JSON value (`reflect.TypeOf`), which upstream compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Map,
    Slice,
    String,
    Int64,
    Float64,
    Bool,
    Nil,
}

fn kind(v: &Value) -> Kind {
    match v {
        Value::Object(_) => Kind::Map,
        Value::Array(_) => Kind::Slice,
        Value::String(_) => Kind::String,
        Value::Number(n) if n.as_i64().is_some() => Kind::Int64,
        Value::Number(_) => Kind::Float64,
        Value::Bool(_) => Kind::Bool,
        Value::Null => Kind::Nil,
    }
}

/// `mergepatch.ErrNoMergeKey`.
fn no_merge_key(m: &Obj, key: &str) -> StrategicPatchError {
    StrategicPatchError::Merge(format!(
        "map: {} does not contain declared merge key: {key}",
        gofmt::v_map(m)
    ))
}

/// `mergepatch.ErrBadArgType(map[string]interface{}, actual)`.
fn expected_map(actual: &Value) -> StrategicPatchError {
    StrategicPatchError::Merge(format!(
        "expected a map[string]interface {{}}, but received a {}",
        gofmt::type_name(Some(actual))
    ))
}

/// `mergepatch.ErrBadArgType([]interface{}, actual)`.
fn expected_slice(actual: &Value) -> StrategicPatchError {
    StrategicPatchError::Merge(format!(
        "expected a []interface {{}}, but received a {}",
        gofmt::type_name(Some(actual))
    ))
}

/// `mergepatch.ErrBadPatchType`.
fn bad_patch_type(directive: &Value, m: &Obj) -> StrategicPatchError {
    StrategicPatchError::Merge(format!(
        "unknown patch type: {} in map: {}",
        gofmt::s(directive),
        gofmt::v_map(m)
    ))
}

/// `mergeMap`: merge `patch` into `original` at schema position `schema`.
pub(crate) fn merge_map(mut original: Obj, mut patch: Obj, schema: Schema<'_>) -> Result<Obj> {
    if let Some(directive) = patch.get(DIRECTIVE_MARKER).cloned() {
        return handle_directive_in_merge_map(&directive, patch);
    }
    apply_retain_keys_directive(&mut original, &mut patch)?;
    merge_patch_into_original(&mut original, &mut patch, schema)?;

    for (key, patch_v) in patch {
        // preprocessDeletionListForMerging
        let (is_delete_list, k) = if key.starts_with(DELETE_FROM_PRIMITIVE_LIST_PREFIX) {
            (true, extract_key(&key, DELETE_FROM_PRIMITIVE_LIST_PREFIX)?)
        } else {
            (false, key)
        };
        // A null deletes the key; unmatched nulls are dropped (IgnoreUnmatchedNulls).
        if patch_v.is_null() {
            original.remove(&k);
            continue;
        }
        let same_kind = original.get(&k).map(|orig| kind(orig) == kind(&patch_v));
        if same_kind != Some(true) {
            // Not in the original, or of another type: take the patch value.
            if !is_delete_list {
                insert_new_value(&mut original, k, patch_v);
            }
            continue;
        }
        let Some(slot) = original.get_mut(&k) else {
            continue;
        };
        let merged = match (std::mem::take(slot), patch_v) {
            (Value::Object(o), Value::Object(p)) => {
                let (sub, meta) = schema.lookup_struct(&k)?;
                let (_, strategy) = extract_retain_keys_patch_strategy(&meta.strategies)?;
                // mergeMapHandler
                if strategy != REPLACE_DIRECTIVE {
                    Some(Value::Object(merge_map(o, p, sub)?))
                } else {
                    Some(Value::Object(p))
                }
            }
            (Value::Array(o), Value::Array(p)) => {
                let (sub, meta) = schema.lookup_slice(&k)?;
                let (_, strategy) = extract_retain_keys_patch_strategy(&meta.strategies)?;
                Some(Value::Array(merge_slice_handler(
                    o,
                    p,
                    sub,
                    &strategy,
                    &meta.merge_key,
                    is_delete_list,
                )?))
            }
            (_, p) => remove_directives(p),
        };
        match merged {
            Some(v) => {
                original.insert(k, v);
            }
            None => {
                original.remove(&k);
            }
        }
    }
    Ok(original)
}

/// The `!ok` / type-mismatch branches of `mergeMap`: nulls discarded
/// (`discardNullValuesFromPatch`), directives removed (`removeDirectives`).
fn insert_new_value(original: &mut Obj, key: String, mut value: Value) {
    discard_null_values_from_patch(&mut value);
    match remove_directives(value) {
        Some(v) => {
            original.insert(key, v);
        }
        None => {
            original.remove(&key);
        }
    }
}

/// `discardNullValuesFromPatch`: drop null map values, recursively through maps and lists.
fn discard_null_values_from_patch(value: &mut Value) {
    match value {
        Value::Object(m) => {
            m.retain(|_, v| !v.is_null());
            m.values_mut().for_each(discard_null_values_from_patch);
        }
        Value::Array(items) => items.iter_mut().for_each(discard_null_values_from_patch),
        _ => {}
    }
}

/// `removeDirectives`: `None` for a map carrying `$patch` (the field or element is dropped);
/// otherwise the value with such maps removed below it.
fn remove_directives(value: Value) -> Option<Value> {
    match value {
        Value::Object(m) => {
            if m.contains_key(DIRECTIVE_MARKER) {
                return None;
            }
            Some(Value::Object(
                m.into_iter()
                    .filter_map(|(k, v)| remove_directives(v).map(|v| (k, v)))
                    .collect(),
            ))
        }
        Value::Array(items) => Some(Value::Array(
            items.into_iter().filter_map(remove_directives).collect(),
        )),
        other => Some(other),
    }
}

/// `handleDirectiveInMergeMap`: `$patch: replace` yields the patch without the marker,
/// `$patch: delete` an empty map.
fn handle_directive_in_merge_map(directive: &Value, mut patch: Obj) -> Result<Obj> {
    match directive.as_str() {
        Some(REPLACE_DIRECTIVE) => {
            patch.remove(DIRECTIVE_MARKER);
            Ok(patch)
        }
        Some(DELETE_DIRECTIVE) => Ok(Obj::new()),
        _ => Err(bad_patch_type(directive, &patch)),
    }
}

/// `extractKey`: the field name after `PREFIX/`.
fn extract_key(s: &str, prefix: &str) -> Result<String> {
    match s.split_once('/') {
        Some((head, rest)) if head == prefix => Ok(rest.to_owned()),
        _ => Err(match prefix {
            DELETE_FROM_PRIMITIVE_LIST_PREFIX => {
                StrategicPatchError::BadPatchFormatForPrimitiveList
            }
            SET_ELEMENT_ORDER_PREFIX => StrategicPatchError::BadPatchFormatForSetElementOrderList,
            _ => StrategicPatchError::Merge(format!(
                "fail to find unknown prefix {prefix:?} in {s}\n"
            )),
        }),
    }
}

/// `extractRetainKeysPatchStrategy`: whether `retainKeys` is among the strategies, and the other.
fn extract_retain_keys_patch_strategy(strategies: &[String]) -> Result<(bool, String)> {
    let unexpected = || {
        StrategicPatchError::Merge(format!(
            "unexpected patch strategy: [{}]",
            strategies.join(" ")
        ))
    };
    match strategies {
        [] => Ok((false, String::new())),
        [single] if single == RETAIN_KEYS_STRATEGY => Ok((true, String::new())),
        [single] => Ok((false, single.clone())),
        [a, b] if a == RETAIN_KEYS_STRATEGY => Ok((true, b.clone())),
        [a, b] if b == RETAIN_KEYS_STRATEGY => Ok((true, a.clone())),
        _ => Err(unexpected()),
    }
}

/// `applyRetainKeysDirective` (server side): every non-null, non-directive patch key must be
/// listed, and keys of `original` not listed are cleared.
fn apply_retain_keys_directive(original: &mut Obj, patch: &mut Obj) -> Result<()> {
    let Some(retain) = patch.remove(RETAIN_KEYS_DIRECTIVE) else {
        return Ok(());
    };
    let Value::Array(list) = retain else {
        return Err(StrategicPatchError::BadPatchFormatForRetainKeys);
    };
    let retained = |k: &str| list.iter().any(|v| v.as_str() == Some(k));
    for (k, v) in patch.iter() {
        if v.is_null()
            || k.starts_with(DELETE_FROM_PRIMITIVE_LIST_PREFIX)
            || k.starts_with(SET_ELEMENT_ORDER_PREFIX)
        {
            continue;
        }
        if !retained(k) {
            return Err(StrategicPatchError::BadPatchFormatForRetainKeys);
        }
    }
    original.retain(|k, _| retained(k));
    Ok(())
}

/// `mergePatchIntoOriginal` (server side): each `$setElementOrder/FIELD` merges FIELD's patch
/// list and orders the result by the directive, then the patch list is consumed.
fn merge_patch_into_original(
    original: &mut Obj,
    patch: &mut Obj,
    schema: Schema<'_>,
) -> Result<()> {
    let keys: Vec<String> = patch
        .keys()
        .filter(|k| k.starts_with(SET_ELEMENT_ORDER_PREFIX))
        .cloned()
        .collect();
    for key in keys {
        let Some(set_order) = patch.remove(&key) else {
            continue;
        };
        let order = match set_order {
            Value::Array(order) => order,
            other => return Err(expected_slice(&other)),
        };
        let original_key = extract_key(&key, SET_ELEMENT_ORDER_PREFIX)?;
        let as_list = |v: Option<&Value>| -> Result<Option<Vec<Value>>> {
            match v {
                None => Ok(None),
                Some(Value::Array(items)) => Ok(Some(items.clone())),
                Some(other) => Err(expected_slice(other)),
            }
        };
        let original_list = as_list(original.get(&original_key))?;
        let patch_list = as_list(patch.get(&original_key))?;
        let (sub, meta) = schema.lookup_slice(&original_key)?;
        let (_, strategy) = extract_retain_keys_patch_strategy(&meta.strategies)?;
        let merge_key = meta.merge_key.as_str();
        validate_patch_with_set_order_list(
            patch_list.as_deref().unwrap_or_default(),
            &order,
            merge_key,
        )?;
        let merged = match (&original_list, &patch_list) {
            (Some(o), None) => o.clone(),
            (None, Some(p)) => match remove_directives(Value::Array(p.clone())) {
                Some(Value::Array(items)) => items,
                _ => continue,
            },
            (Some(o), Some(p)) => {
                merge_slice_handler(o.clone(), p.clone(), sub, &strategy, merge_key, false)?
            }
            (None, None) => continue,
        };
        let (patch_items, server_only) = if merge_key.is_empty() {
            partition_primitives_by_present_in_list(merged, &order)
        } else {
            partition_maps_by_present_in_list(merged, &order, merge_key)?
        };
        let original_list = original_list.unwrap_or_default();
        let patch_list = patch_list.unwrap_or_default();
        let element_kind = slice_element_type(&[&original_list, &patch_list])?;
        let both = normalize_element_order(
            patch_items,
            server_only,
            &order,
            &original_list,
            merge_key,
            element_kind,
        )?;
        original.insert(original_key.clone(), Value::Array(both));
        patch.remove(&original_key);
    }
    Ok(())
}

/// `validatePatchWithSetOrderList`: the patch list (deletions ignored) must be a subsequence of
/// the `$setElementOrder` list.
fn validate_patch_with_set_order_list(
    patch_list: &[Value],
    order: &[Value],
    merge_key: &str,
) -> Result<()> {
    if order.is_empty() || patch_list.is_empty() {
        return Ok(());
    }
    let non_delete = if merge_key.is_empty() {
        patch_list.to_vec()
    } else {
        extract_to_delete_items(patch_list.to_vec())?.0
    };
    let (mut pi, mut si) = (0, 0);
    while pi < non_delete.len() && si < order.len() {
        if non_delete[pi]
            .as_object()
            .is_some_and(|m| m.contains_key(DIRECTIVE_MARKER))
        {
            pi += 1;
            continue;
        }
        if merge_key_value_equal(&non_delete[pi], &order[si], merge_key)? {
            pi += 1;
        }
        si += 1;
    }
    if pi < non_delete.len() && si >= order.len() {
        return Err(StrategicPatchError::Merge(format!(
            "The order in patch list:\n{}\n doesn't match {SET_ELEMENT_ORDER_PREFIX} list:\n{}\n",
            gofmt::v(&Value::Array(patch_list.to_vec())),
            gofmt::v(&Value::Array(order.to_vec())),
        )));
    }
    Ok(())
}

/// `mergeKeyValueEqual`.
fn merge_key_value_equal(left: &Value, right: &Value, merge_key: &str) -> Result<bool> {
    if merge_key.is_empty() {
        return Ok(left == right);
    }
    let l = left.as_object().ok_or_else(|| expected_map(left))?;
    let r = right.as_object().ok_or_else(|| expected_map(right))?;
    let lv = l.get(merge_key).ok_or_else(|| no_merge_key(l, merge_key))?;
    let rv = r.get(merge_key).ok_or_else(|| no_merge_key(r, merge_key))?;
    Ok(lv == rv)
}

/// `mergeSliceHandler`: lists with strategy `merge`, and `$deleteFromPrimitiveList` lists, are
/// merged; any other list is replaced by the patch.
fn merge_slice_handler(
    original: Vec<Value>,
    patch: Vec<Value>,
    schema: Schema<'_>,
    strategy: &str,
    merge_key: &str,
    is_delete_list: bool,
) -> Result<Vec<Value>> {
    if strategy == MERGE_DIRECTIVE || is_delete_list {
        merge_slice(original, patch, schema, merge_key, is_delete_list)
    } else {
        Ok(patch)
    }
}

/// `mergeSlice`: set union for scalars (or deletion for a `$deleteFromPrimitiveList`), merge by
/// `merge_key` for maps, then patch order first, server-only items kept in place.
fn merge_slice(
    original: Vec<Value>,
    patch: Vec<Value>,
    schema: Schema<'_>,
    merge_key: &str,
    is_delete_list: bool,
) -> Result<Vec<Value>> {
    if original.is_empty() && patch.is_empty() {
        return Ok(original);
    }
    let element_kind = slice_element_type(&[&original, &patch])?;
    let (original, patch, merged) = if element_kind != Kind::Map {
        if is_delete_list {
            return Ok(delete_from_slice(original, &patch));
        }
        let mut both = original.clone();
        both.extend(patch.iter().cloned());
        let merged = deduplicate_scalars(both);
        (original, patch, merged)
    } else {
        if merge_key.is_empty() {
            return Err(StrategicPatchError::Merge(format!(
                "cannot merge lists without merge key for {}",
                schema.name()
            )));
        }
        let (original, patch) = merge_slice_with_special_elements(original, patch, merge_key)?;
        let merged =
            merge_slice_without_special_elements(original.clone(), &patch, merge_key, schema)?;
        (original, patch, merged)
    };
    let (patch_items, server_only) = if merge_key.is_empty() {
        partition_primitives_by_present_in_list(merged, &patch)
    } else {
        partition_maps_by_present_in_list(merged, &patch, merge_key)?
    };
    normalize_element_order(
        patch_items,
        server_only,
        &patch,
        &original,
        merge_key,
        element_kind,
    )
}

/// `mergeSliceWithSpecialElements`: apply `$patch: delete` elements to `original`; a
/// `$patch: replace` element makes the other patch elements the whole list.
fn merge_slice_with_special_elements(
    mut original: Vec<Value>,
    patch: Vec<Value>,
    merge_key: &str,
) -> Result<(Vec<Value>, Vec<Value>)> {
    let mut without_special = Vec::with_capacity(patch.len());
    let mut replace = false;
    for v in patch {
        let Some(m) = v.as_object() else {
            return Err(expected_map(&v));
        };
        let Some(directive) = m.get(DIRECTIVE_MARKER) else {
            without_special.push(v);
            continue;
        };
        match directive.as_str() {
            Some(DELETE_DIRECTIVE) => {
                let value = m.get(merge_key).ok_or_else(|| no_merge_key(m, merge_key))?;
                original = delete_matching_entries(original, merge_key, value)?;
            }
            Some(REPLACE_DIRECTIVE) => replace = true,
            Some(MERGE_DIRECTIVE) => {
                return Err(StrategicPatchError::Merge(
                    "merging lists cannot yet be specified in the patch".to_owned(),
                ));
            }
            _ => return Err(bad_patch_type(directive, m)),
        }
    }
    if replace {
        Ok((without_special, Vec::new()))
    } else {
        Ok((original, without_special))
    }
}

/// `deleteMatchingEntries`: remove every element whose merge key equals `value`.
fn delete_matching_entries(
    mut original: Vec<Value>,
    merge_key: &str,
    value: &Value,
) -> Result<Vec<Value>> {
    while let Some(i) = find_map_in_slice_based_on_key_value(&original, merge_key, value)? {
        original.remove(i);
    }
    Ok(original)
}

/// `mergeSliceWithoutSpecialElements`: merge each patch element into the original element with
/// the same merge key, or append it.
fn merge_slice_without_special_elements(
    mut original: Vec<Value>,
    patch: &[Value],
    merge_key: &str,
    schema: Schema<'_>,
) -> Result<Vec<Value>> {
    for v in patch {
        let m = v.as_object().ok_or_else(|| expected_map(v))?;
        let value = m.get(merge_key).ok_or_else(|| no_merge_key(m, merge_key))?;
        match find_map_in_slice_based_on_key_value(&original, merge_key, value)? {
            Some(i) => {
                if let Value::Object(o) = std::mem::take(&mut original[i]) {
                    original[i] = Value::Object(merge_map(o, m.clone(), schema)?);
                }
            }
            None => original.push(v.clone()),
        }
    }
    Ok(original)
}

/// `deleteFromSlice`.
fn delete_from_slice(current: Vec<Value>, to_delete: &[Value]) -> Vec<Value> {
    current
        .into_iter()
        .filter(|v| !to_delete.contains(v))
        .collect()
}

/// `findMapInSliceBasedOnKeyValue`: the index of the first map whose `key` equals `value`.
fn find_map_in_slice_based_on_key_value(
    list: &[Value],
    key: &str,
    value: &Value,
) -> Result<Option<usize>> {
    for (i, v) in list.iter().enumerate() {
        let m = v.as_object().ok_or_else(|| {
            StrategicPatchError::Merge(format!("value for key {i} is not a map."))
        })?;
        if m.get(key) == Some(value) {
            return Ok(Some(i));
        }
    }
    Ok(None)
}

/// `partitionPrimitivesByPresentInList`.
fn partition_primitives_by_present_in_list(
    items: Vec<Value>,
    by: &[Value],
) -> (Vec<Value>, Vec<Value>) {
    items.into_iter().partition(|v| by.contains(v))
}

/// `partitionMapsByPresentInList`.
fn partition_maps_by_present_in_list(
    items: Vec<Value>,
    by: &[Value],
    merge_key: &str,
) -> Result<(Vec<Value>, Vec<Value>)> {
    let (mut patch, mut server_only) = (Vec::new(), Vec::new());
    for v in items {
        let m = v.as_object().ok_or_else(|| expected_map(&v))?;
        let value = m.get(merge_key).ok_or_else(|| no_merge_key(m, merge_key))?;
        if find_map_in_slice_based_on_key_value(by, merge_key, value)?.is_some() {
            patch.push(v);
        } else {
            server_only.push(v);
        }
    }
    Ok((patch, server_only))
}

/// `normalizeElementOrder`: patch items sorted by `patch_order`, server-only items by
/// `server_order`, then interleaved by `mergeSortedSlice`.
fn normalize_element_order(
    patch: Vec<Value>,
    server_only: Vec<Value>,
    patch_order: &[Value],
    server_order: &[Value],
    merge_key: &str,
    element_kind: Kind,
) -> Result<Vec<Value>> {
    let patch = normalize_slice_order(patch, patch_order, merge_key, element_kind)?;
    let server_only = normalize_slice_order(server_only, server_order, merge_key, element_kind)?;
    Ok(merge_sorted_slice(
        server_only,
        patch,
        server_order,
        merge_key,
        element_kind,
    ))
}

/// `mergeSortedSlice`: take from `left` (server-only) while it precedes the head of `right`
/// (patch items) in `server_order`; an item absent from `server_order` never precedes.
fn merge_sorted_slice(
    left: Vec<Value>,
    right: Vec<Value>,
    server_order: &[Value],
    merge_key: &str,
    element_kind: Kind,
) -> Vec<Value> {
    let mut out = Vec::with_capacity(left.len() + right.len());
    let mut left = left.into_iter().peekable();
    let mut right = right.into_iter().peekable();
    while let (Some(l), Some(r)) = (left.peek(), right.peek()) {
        let li = index(server_order, l, merge_key, element_kind);
        let ri = index(server_order, r, merge_key, element_kind);
        let take_left = matches!((li, ri), (Some(a), Some(b)) if a < b);
        let next = if take_left { left.next() } else { right.next() };
        out.extend(next);
    }
    out.extend(left);
    out.extend(right);
    out
}

/// `index`: position of `item` in `list`, comparing merge-key values for maps (a missing or null
/// value is Go's `nil`, which equals another `nil`) and whole values otherwise.
fn index(list: &[Value], item: &Value, merge_key: &str, element_kind: Kind) -> Option<usize> {
    let key_of = |v: &'_ Value| -> Option<Value> {
        let k = if element_kind == Kind::Map {
            v.as_object().and_then(|m| m.get(merge_key))
        } else {
            Some(v)
        };
        k.filter(|k| !k.is_null()).cloned()
    };
    let wanted = key_of(item);
    list.iter().position(|v| key_of(v) == wanted)
}

/// `extractToDeleteItems`: (elements kept, `$patch: delete` elements).
fn extract_to_delete_items(list: Vec<Value>) -> Result<(Vec<Value>, Vec<Value>)> {
    let (mut keep, mut delete) = (Vec::new(), Vec::new());
    for v in list {
        let m = v.as_object().ok_or_else(|| expected_map(&v))?;
        if m.get(DIRECTIVE_MARKER).and_then(Value::as_str) == Some(DELETE_DIRECTIVE) {
            delete.push(v);
        } else {
            keep.push(v);
        }
    }
    Ok((keep, delete))
}

/// `validateMergeKeyInLists`.
fn validate_merge_key_in_lists(merge_key: &str, lists: &[&[Value]]) -> Result<()> {
    for item in lists.iter().flat_map(|l| l.iter()) {
        let m = item.as_object().ok_or_else(|| expected_map(item))?;
        if !m.contains_key(merge_key) {
            return Err(no_merge_key(m, merge_key));
        }
    }
    Ok(())
}

/// `normalizeSliceOrder`: sort by position in `order` with Go's `sort.SliceStable` and upstream's
/// `less` (true whenever either item is absent from `order`), deletions moved to the end.
fn normalize_slice_order(
    to_sort: Vec<Value>,
    order: &[Value],
    merge_key: &str,
    element_kind: Kind,
) -> Result<Vec<Value>> {
    let (to_sort, to_delete) = if element_kind == Kind::Map {
        validate_merge_key_in_lists(merge_key, &[&to_sort, order])?;
        extract_to_delete_items(to_sort)?
    } else {
        (to_sort, Vec::new())
    };
    let mut keyed: Vec<(Option<usize>, Value)> = to_sort
        .into_iter()
        .map(|v| (index(order, &v, merge_key, element_kind), v))
        .collect();
    // Go's sort.SliceStable is an insertion sort for up to 20 elements (blocks of 20 merged
    // stably beyond that); with a consistent `less` every stable sort gives this result.
    let less = |a: Option<usize>, b: Option<usize>| match (a, b) {
        (Some(a), Some(b)) => a < b,
        _ => true,
    };
    for i in 1..keyed.len() {
        let mut j = i;
        while j > 0 && less(keyed[j].0, keyed[j - 1].0) {
            keyed.swap(j, j - 1);
            j -= 1;
        }
    }
    let mut sorted: Vec<Value> = keyed.into_iter().map(|(_, v)| v).collect();
    sorted.extend(to_delete);
    Ok(sorted)
}

/// `deduplicateScalars`, Go's in-place algorithm (a duplicate is replaced by the last element).
fn deduplicate_scalars(mut s: Vec<Value>) -> Vec<Value> {
    let mut i = 0;
    while i + 1 < s.len() {
        let mut j = i + 1;
        while j < s.len() {
            if s[i] == s[j] {
                s.swap_remove(j);
            } else {
                j += 1;
            }
        }
        i += 1;
    }
    s
}

/// `sliceElementType`: the common Go type of the elements of all `slices`.
fn slice_element_type(slices: &[&[Value]]) -> Result<Kind> {
    let mut prev: Option<Kind> = None;
    for v in slices.iter().flat_map(|s| s.iter()) {
        let k = kind(v);
        match prev {
            None if k == Kind::Slice => return Err(StrategicPatchError::NoListOfLists),
            None => prev = Some(k),
            Some(p) if p != k => {
                return Err(StrategicPatchError::Merge(format!(
                    "list element types are not identical: {}",
                    gofmt::v_slices(slices)
                )));
            }
            Some(_) => {}
        }
    }
    prev.ok_or_else(|| {
        StrategicPatchError::Merge("no elements in any of the given slices".to_owned())
    })
}
