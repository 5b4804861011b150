//! Strategic merge patch (`application/strategic-merge-patch+json`) for built-in kinds, with
//! the directives of k8s.io/apimachinery's `strategicpatch` package: `$patch`
//! (`replace`/`delete`; `merge` is refused, as there), `$retainKeys`, `$deleteFromPrimitiveList/<field>`,
//! `$setElementOrder/<field>`, and `null` deleting a member.
//!
//! Custom resources have no patch strategies: the API server answers a strategic merge patch
//! for one with 415 Unsupported Media Type, so callers must not use this module for them.

use serde_json::{Map, Value};

use crate::PatchError;
pub use crate::builtin_schemas::builtin_schema;
pub use crate::merge_schema::{ListType, MergeSchema, Node};

const PATCH: &str = "$patch";
const RETAIN_KEYS: &str = "$retainKeys";
const DELETE_FROM_PRIMITIVE_LIST: &str = "$deleteFromPrimitiveList/";
const SET_ELEMENT_ORDER: &str = "$setElementOrder/";

/// Applies a strategic merge patch to `doc`. Lists are merged by their merge key where the
/// schema declares one and replaced otherwise; without a schema every list is replaced and
/// objects merge, like a JSON merge patch that also understands the directives.
pub fn apply(
    doc: &Value,
    patch: &Value,
    schema: Option<&MergeSchema>,
) -> Result<Value, PatchError> {
    let Value::Object(patch) = patch else {
        return Err(PatchError::Invalid(
            "a strategic merge patch must be a JSON object".into(),
        ));
    };
    let original = match doc {
        Value::Object(m) => m.clone(),
        Value::Null => Map::new(),
        _ => {
            return Err(PatchError::Invalid(
                "a strategic merge patch applies to a JSON object".into(),
            ));
        }
    };
    let deduced = Node::Deduced;
    let root = schema.map_or(&deduced, |s| &s.root);
    merge_map(original, patch, root).map(Value::Object)
}

fn merge_map(
    mut original: Map<String, Value>,
    patch: &Map<String, Value>,
    node: &Node,
) -> Result<Map<String, Value>, PatchError> {
    match patch.get(PATCH) {
        None => {}
        Some(Value::String(d)) if d == "replace" => {
            let mut replaced = patch.clone();
            replaced.shift_remove(PATCH);
            return Ok(replaced);
        }
        Some(Value::String(d)) if d == "delete" => return Ok(Map::new()),
        // Like strategicpatch, even "merge" is refused: merging is what happens without one.
        Some(other) => {
            return Err(PatchError::Directive(format!(
                "unknown patch type: {} in map: {}",
                other
                    .as_str()
                    .map_or_else(|| other.to_string(), String::from),
                Value::Object(patch.clone())
            )));
        }
    }

    if let Some(retain) = patch.get(RETAIN_KEYS) {
        let Value::Array(keys) = retain else {
            return Err(PatchError::Directive(format!(
                "invalid $retainKeys directive: {retain}, expected a list"
            )));
        };
        let keep: Vec<&str> = keys.iter().filter_map(Value::as_str).collect();
        // Every member the patch sets must be retained, or the patch contradicts itself.
        let contradicts = patch
            .iter()
            .any(|(k, v)| !v.is_null() && !k.starts_with('$') && !keep.contains(&k.as_str()));
        if keep.len() != keys.len() || contradicts {
            return Err(PatchError::Directive(
                "invalid patch format of retainKeys".into(),
            ));
        }
        original.retain(|k, _| keep.contains(&k.as_str()));
    }

    for (key, value) in patch {
        if let Some(field) = key.strip_prefix(DELETE_FROM_PRIMITIVE_LIST) {
            let Value::Array(remove) = value else {
                return Err(PatchError::Directive(format!(
                    "{key} must be a list, got {value}"
                )));
            };
            if let Some(Value::Array(items)) = original.get_mut(field) {
                items.retain(|item| !remove.contains(item));
            }
        }
    }

    for (key, value) in patch {
        if key == PATCH || key == RETAIN_KEYS || key.starts_with(DELETE_FROM_PRIMITIVE_LIST) {
            continue;
        }
        if let Some(field) = key.strip_prefix(SET_ELEMENT_ORDER) {
            if patch.contains_key(field) {
                continue; // applied while merging the field itself
            }
            let Value::Array(order) = value else {
                return Err(PatchError::Directive(format!(
                    "{key} must be a list, got {value}"
                )));
            };
            let child = node.field(field).unwrap_or(&Node::Deduced);
            if let Some(Value::Array(items)) = original.get_mut(field) {
                let current = std::mem::take(items);
                *items = normalize_order(current.clone(), order, &current, &merge_key(child));
            }
            continue;
        }
        let child = node.field(key).unwrap_or(&Node::Deduced);
        if value.is_null() {
            original.shift_remove(key);
            continue;
        }
        let order = match patch.get(&format!("{SET_ELEMENT_ORDER}{key}")) {
            Some(Value::Array(order)) => Some(order.as_slice()),
            Some(other) => {
                return Err(PatchError::Directive(format!(
                    "{SET_ELEMENT_ORDER}{key} must be a list, got {other}"
                )));
            }
            None => None,
        };
        // Taking the value in place keeps the member where it was in the document.
        let merged = match (original.get_mut(key).map(Value::take), value) {
            // `$patch: delete` on a map leaves an empty map, as Kubernetes does.
            (Some(Value::Object(o)), Value::Object(p)) => Value::Object(merge_map(o, p, child)?),
            (Some(Value::Array(o)), Value::Array(p)) => {
                Value::Array(merge_list(o, p, child, order)?)
            }
            // Absent in the original (or of another type): take the patch value, with its
            // directives and nulls resolved against nothing.
            (_, Value::Object(p)) => Value::Object(merge_map(Map::new(), p, child)?),
            (_, Value::Array(p)) => Value::Array(merge_list(Vec::new(), p, child, order)?),
            (_, scalar) => scalar.clone(),
        };
        original.insert(key.clone(), merged);
    }
    Ok(original)
}

/// The strategic merge key of a list, if it is merged rather than replaced.
fn merge_key(node: &Node) -> MergeKey {
    match node.list_type() {
        ListType::Atomic => MergeKey::Replace,
        ListType::Set => MergeKey::Primitive,
        ListType::Map { keys, .. } => match keys.into_iter().next() {
            Some(k) => MergeKey::Field(k),
            None => MergeKey::Replace,
        },
    }
}

#[derive(Debug, Clone, PartialEq)]
enum MergeKey {
    Replace,
    Primitive,
    Field(String),
}

fn key_of<'a>(item: &'a Value, key: &MergeKey) -> Option<&'a Value> {
    match key {
        MergeKey::Field(k) => item.get(k),
        _ => Some(item),
    }
}

fn merge_list(
    original: Vec<Value>,
    patch: &[Value],
    node: &Node,
    order: Option<&[Value]>,
) -> Result<Vec<Value>, PatchError> {
    let key = merge_key(node);
    if key == MergeKey::Replace {
        return Ok(patch.to_vec());
    }
    let item_node = node.items().unwrap_or(&Node::Deduced);

    // Special elements, as strategicpatch's mergeSliceWithSpecialElements: a
    // `$patch: replace` element replaces the whole list with the ordinary elements.
    let mut replace = false;
    for item in patch {
        match item.get(PATCH) {
            None => {}
            Some(Value::String(d)) if d == "delete" => {}
            Some(Value::String(d)) if d == "replace" => replace = true,
            Some(Value::String(d)) if d == "merge" => {
                return Err(PatchError::Directive(
                    "merging lists cannot yet be specified in the patch".into(),
                ));
            }
            Some(other) => {
                return Err(PatchError::Directive(format!(
                    "unknown patch type: {} in map: {item}",
                    other
                        .as_str()
                        .map_or_else(|| other.to_string(), String::from)
                )));
            }
        }
    }
    if replace {
        return Ok(patch
            .iter()
            .filter(|v| v.get(PATCH).is_none())
            .cloned()
            .collect());
    }

    let mut merged = original.clone();
    let mut patch_items = Vec::new();
    for item in patch {
        match &key {
            MergeKey::Primitive => {
                if item.is_object() || item.is_array() {
                    return Err(PatchError::Invalid(format!(
                        "unexpected non-scalar {item} in a list of primitives"
                    )));
                }
                if !merged.contains(item) {
                    merged.push(item.clone());
                }
                patch_items.push(item.clone());
            }
            MergeKey::Field(k) => {
                let Value::Object(fields) = item else {
                    return Err(PatchError::Invalid(format!(
                        "expected a map in a list merged by {k}, got {item}"
                    )));
                };
                let Some(id) = fields.get(k) else {
                    return Err(PatchError::Invalid(format!(
                        "map: {item} does not contain declared merge key: {k}"
                    )));
                };
                let directive = fields.get(PATCH).and_then(Value::as_str);
                if directive == Some("delete") {
                    merged.retain(|o| o.get(k) != Some(id));
                    continue;
                }
                match merged.iter_mut().find(|o| o.get(k) == Some(id)) {
                    Some(existing) => {
                        let base = match existing.take() {
                            Value::Object(m) => m,
                            _ => Map::new(),
                        };
                        *existing = Value::Object(merge_map(base, fields, item_node)?);
                    }
                    None => merged.push(Value::Object(merge_map(Map::new(), fields, item_node)?)),
                }
                patch_items.push(item.clone());
            }
            MergeKey::Replace => {}
        }
    }
    let order = order.map(<[Value]>::to_vec).unwrap_or(patch_items);
    Ok(normalize_order(merged, &order, &original, &key))
}

/// Orders a merged list as Kubernetes' `normalizeElementOrder` does: items named in
/// `patch_order` follow that order, items only on the server keep their original relative
/// order, and the two runs are interleaved: a server-only item goes first only when both it
/// and the next patch item are in the original list and it came first there. So items new
/// to the list land before the server-only items that follow them.
fn normalize_order(
    merged: Vec<Value>,
    patch_order: &[Value],
    server_order: &[Value],
    key: &MergeKey,
) -> Vec<Value> {
    if *key == MergeKey::Replace {
        return merged;
    }
    let position = |list: &[Value], item: &Value| -> Option<usize> {
        let id = key_of(item, key)?;
        list.iter().position(|o| key_of(o, key) == Some(id))
    };
    let (mut patch_items, mut server_only): (Vec<Value>, Vec<Value>) = merged
        .into_iter()
        .partition(|item| position(patch_order, item).is_some());
    patch_items.sort_by_key(|item| position(patch_order, item));
    server_only.sort_by_key(|item| position(server_order, item));

    let mut out = Vec::with_capacity(patch_items.len() + server_only.len());
    let mut patch_iter = patch_items.into_iter().peekable();
    let mut server_iter = server_only.into_iter().peekable();
    loop {
        match (patch_iter.peek(), server_iter.peek()) {
            (Some(p), Some(s)) => {
                let p_index = position(server_order, p);
                let s_index = position(server_order, s);
                let take_server = matches!((s_index, p_index), (Some(si), Some(pi)) if si < pi);
                let next = if take_server {
                    server_iter.next()
                } else {
                    patch_iter.next()
                };
                out.extend(next);
            }
            (Some(_), None) => out.extend(patch_iter.by_ref()),
            (None, Some(_)) => out.extend(server_iter.by_ref()),
            (None, None) => break,
        }
    }
    out
}
