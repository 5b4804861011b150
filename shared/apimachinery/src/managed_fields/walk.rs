//! Walks over objects that server-side apply needs: merging an applied configuration into the
//! live object, comparing two versions field by field, and removing owned fields.

use std::collections::{HashMap, HashSet, VecDeque};

use serde_json::Value;

use super::field_set::{FieldSet, Path, PathElement, path_string};
use crate::merge_schema::{ListType, Node};

/// What changed between two versions of an object.
#[derive(Debug, Default)]
pub(crate) struct Comparison {
    pub added: FieldSet,
    pub modified: FieldSet,
    pub removed: FieldSet,
}

impl Comparison {
    pub fn is_same(&self) -> bool {
        self.added.is_empty() && self.modified.is_empty() && self.removed.is_empty()
    }

    /// Paths whose value is now set by the writer.
    pub fn changed(&self) -> FieldSet {
        self.added.union(&self.modified)
    }
}

fn is_granular_map(node: &Node) -> bool {
    matches!(node, Node::Map { atomic: false, .. } | Node::Deduced)
}

/// Merges `config` into `live` the way server-side apply does: objects member by member,
/// associative lists item by item (by key), sets by value, everything else replaced.
pub(crate) fn merge(live: &Value, config: &Value, node: &Node) -> Value {
    match (live, config) {
        (Value::Object(l), Value::Object(c)) if is_granular_map(node) => {
            // Built member by member so each subtree is copied once.
            let mut out = serde_json::Map::with_capacity(l.len() + c.len());
            for (name, existing) in l {
                let merged = match c.get(name) {
                    Some(value) => {
                        merge(existing, value, node.field(name).unwrap_or(&Node::Deduced))
                    }
                    None => existing.clone(),
                };
                out.insert(name.clone(), merged);
            }
            for (name, value) in c {
                if !l.contains_key(name) {
                    out.insert(name.clone(), value.clone());
                }
            }
            Value::Object(out)
        }
        (Value::Array(l), Value::Array(c)) if is_associative(node) => {
            let item_node = node.items().unwrap_or(&Node::Deduced);
            Value::Array(merge_items(l, c, node, item_node))
        }
        _ => config.clone(),
    }
}

/// Merges associative list items as structured-merge-diff does: items only in the live list
/// stay where they were, applied items follow the configuration's order, and an item in both
/// is merged and placed where the configuration puts it.
fn merge_items(live: &[Value], config: &[Value], node: &Node, item_node: &Node) -> Vec<Value> {
    let lhs: Vec<(Option<PathElement>, &Value)> =
        live.iter().map(|i| (item_element(i, node), i)).collect();
    let rhs = keyed_items(config, node);
    let rhs_index: HashMap<&PathElement, usize> =
        rhs.iter().enumerate().map(|(i, (k, _))| (k, i)).collect();
    let lhs_index: HashMap<&PathElement, &Value> = lhs
        .iter()
        .filter_map(|(k, v)| Some((k.as_ref()?, *v)))
        .collect();
    let in_rhs = |e: &Option<PathElement>| e.as_ref().is_some_and(|e| rhs_index.contains_key(e));
    let mut shared: VecDeque<&PathElement> = rhs
        .iter()
        .map(|(k, _)| k)
        .filter(|k| lhs_index.contains_key(k))
        .collect();
    let mut next_shared = shared.pop_front();
    let mut out = Vec::with_capacity(live.len() + config.len());
    let merged_item = |e: &PathElement, r: &Value| match lhs_index.get(e) {
        Some(l) => merge(l, r, item_node),
        None => r.clone(),
    };
    let (mut li, mut ri) = (0, 0);
    while li < lhs.len() || ri < rhs.len() {
        if li < lhs.len() && ri < rhs.len() {
            let l_key = &lhs[li].0;
            let (r_key, r_value) = &rhs[ri];
            if l_key.as_ref() == Some(r_key) {
                out.push(merged_item(r_key, r_value));
                li += 1;
                ri += 1;
                next_shared = shared.pop_front();
                continue;
            }
            if in_rhs(l_key) && next_shared.is_some_and(|n| Some(n) != l_key.as_ref()) {
                // A shared item, placed later where the configuration lists it.
                li += 1;
                continue;
            }
        }
        if li < lhs.len() && !in_rhs(&lhs[li].0) {
            out.push(lhs[li].1.clone());
            li += 1;
            continue;
        }
        if ri < rhs.len() {
            let (r_key, r_value) = &rhs[ri];
            out.push(merged_item(r_key, r_value));
            if next_shared == Some(r_key) {
                next_shared = shared.pop_front();
            }
            ri += 1;
        } else {
            // Only shared live items remain, already placed from the configuration.
            li += 1;
        }
    }
    out
}

/// Compares `old` and `new` below `path`, as structured-merge-diff's `Compare`: leaves are
/// added, removed or modified; objects and list items that appear or disappear are added or
/// removed themselves too. `scaffold` marks objects that a new built-in object already holds
/// as Go zero values (`spec`, `spec.template`, ...), which therefore never count as added.
pub(crate) fn compare(
    old: Option<&Value>,
    new: Option<&Value>,
    node: &Node,
    path: &mut Path,
    out: &mut Comparison,
    builtin: bool,
    scaffold: bool,
) {
    let non_empty_object =
        |v: Option<&Value>| v.and_then(Value::as_object).is_some_and(|m| !m.is_empty());
    let object_or_absent = |v: Option<&Value>| v.is_none_or(Value::is_object);
    let non_empty_array =
        |v: Option<&Value>| v.and_then(Value::as_array).is_some_and(|a| !a.is_empty());
    let array_or_absent = |v: Option<&Value>| v.is_none_or(Value::is_array);

    if is_granular_map(node)
        && (non_empty_object(old) || non_empty_object(new))
        && object_or_absent(old)
        && object_or_absent(new)
    {
        let empty = serde_json::Map::new();
        let o = old.and_then(Value::as_object).unwrap_or(&empty);
        let n = new.and_then(Value::as_object).unwrap_or(&empty);
        for name in o.keys().chain(n.keys().filter(|k| !o.contains_key(*k))) {
            let child = node.field(name).unwrap_or(&Node::Deduced);
            let child_scaffold = scaffold && builtin && is_struct_like(child);
            path.push(PathElement::Field(name.clone()));
            compare(
                o.get(name),
                n.get(name),
                child,
                path,
                out,
                builtin,
                child_scaffold,
            );
            path.pop();
        }
        container_hook(old, new, path, out, scaffold);
    } else if is_associative(node)
        && (non_empty_array(old) || non_empty_array(new))
        && array_or_absent(old)
        && array_or_absent(new)
    {
        let empty = Vec::new();
        let o = old.and_then(Value::as_array).unwrap_or(&empty);
        let n = new.and_then(Value::as_array).unwrap_or(&empty);
        compare_items(o, n, node, path, out, builtin);
        container_hook(old, new, path, out, scaffold);
    } else {
        match (old, new) {
            (None, None) => {}
            (None, Some(_)) => out.added.insert(path.clone()),
            (Some(_), None) => out.removed.insert(path.clone()),
            (Some(o), Some(n)) => {
                if o != n {
                    out.modified.insert(path.clone());
                }
            }
        }
    }
}

/// Objects a Go zero value of a built-in kind already holds: structs reached through structs.
fn is_struct_like(node: &Node) -> bool {
    matches!(
        node,
        Node::Map {
            values: None,
            atomic: false,
            ..
        } | Node::Deduced
    ) || is_associative(node)
}

/// Structured-merge-diff's post-item hook: a container that appears or disappears is itself
/// added or removed.
fn container_hook(
    old: Option<&Value>,
    new: Option<&Value>,
    path: &Path,
    out: &mut Comparison,
    scaffold: bool,
) {
    if path.is_empty() || scaffold {
        return;
    }
    if old.is_none() {
        out.added.insert(path.clone());
    } else if new.is_none() {
        out.removed.insert(path.clone());
    }
}

fn is_associative(node: &Node) -> bool {
    matches!(
        node,
        Node::List {
            list_type: ListType::Set | ListType::Map { .. },
            ..
        }
    )
}

fn item_element(item: &Value, node: &Node) -> Option<PathElement> {
    match node.list_type() {
        ListType::Set => Some(PathElement::Value(item.to_string())),
        list_type @ ListType::Map { .. } => PathElement::key_of(item, &list_type),
        ListType::Atomic => None,
    }
}

/// Items of an associative list by key; repeated keys count once, as in
/// structured-merge-diff.
fn keyed_items<'a>(items: &'a [Value], node: &Node) -> Vec<(PathElement, &'a Value)> {
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        if let Some(element) = item_element(item, node)
            && seen.insert(element.clone())
        {
            out.push((element, item));
        }
    }
    out
}

fn compare_items(
    old: &[Value],
    new: &[Value],
    node: &Node,
    path: &mut Path,
    out: &mut Comparison,
    builtin: bool,
) {
    let item_node = node.items().unwrap_or(&Node::Deduced);
    let old_items = keyed_items(old, node);
    let new_items = keyed_items(new, node);
    let old_index: HashMap<&PathElement, &Value> = old_items.iter().map(|(k, v)| (k, *v)).collect();
    let new_index: HashMap<&PathElement, &Value> = new_items.iter().map(|(k, v)| (k, *v)).collect();
    for (element, value) in &old_items {
        path.push(element.clone());
        let new_value = new_index.get(element).copied();
        compare(Some(value), new_value, item_node, path, out, builtin, false);
        path.pop();
    }
    for (element, value) in &new_items {
        if !old_index.contains_key(element) {
            path.push(element.clone());
            compare(None, Some(value), item_node, path, out, builtin, false);
            path.pop();
        }
    }
}

/// The first associative-list item whose key repeats an earlier one, worded as
/// structured-merge-diff rejects such an applied configuration:
/// `.spec.containers: duplicate entries for key [name="app"]`.
pub(crate) fn find_duplicate(value: &Value, node: &Node, path: &mut Path) -> Option<String> {
    match value {
        Value::Object(members) if is_granular_map(node) => {
            members.iter().find_map(|(name, child)| {
                path.push(PathElement::Field(name.clone()));
                let found = find_duplicate(child, node.field(name).unwrap_or(&Node::Deduced), path);
                path.pop();
                found
            })
        }
        Value::Array(items) if is_associative(node) => {
            let item_node = node.items().unwrap_or(&Node::Deduced);
            let mut seen = HashSet::new();
            for item in items {
                let Some(element) = item_element(item, node) else {
                    continue;
                };
                if !seen.insert(element.clone()) {
                    return Some(format!(
                        "{}: duplicate entries for key {}",
                        path_string(path),
                        path_string(std::slice::from_ref(&element))
                    ));
                }
                path.push(element);
                let found = find_duplicate(item, item_node, path);
                path.pop();
                if found.is_some() {
                    return found;
                }
            }
            None
        }
        _ => None,
    }
}

/// Removes the value at `path` from `obj`; a missing path is not an error.
pub(crate) fn remove_path(obj: &mut Value, path: &[PathElement]) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut current = obj;
    for element in parents {
        let next = match (element, current) {
            (PathElement::Field(name), Value::Object(members)) => members.get_mut(name),
            (PathElement::Index(i), Value::Array(items)) => items.get_mut(*i),
            (element, Value::Array(items)) => items.iter_mut().find(|i| item_matches(i, element)),
            _ => None,
        };
        match next {
            Some(next) => current = next,
            None => return,
        }
    }
    match (last, current) {
        (PathElement::Field(name), Value::Object(members)) => {
            members.shift_remove(name);
        }
        (PathElement::Index(i), Value::Array(items)) if *i < items.len() => {
            items.remove(*i);
        }
        (element, Value::Array(items)) => items.retain(|i| !item_matches(i, element)),
        _ => {}
    }
}

fn item_matches(item: &Value, element: &PathElement) -> bool {
    match element {
        PathElement::Value(v) => encoded_equals(item, v),
        PathElement::Key(pairs) => pairs
            .iter()
            .all(|(k, v)| item.get(k).is_some_and(|x| encoded_equals(x, v))),
        _ => false,
    }
}

/// Whether `value` is the value JSON-encoded in `encoded` (as path elements store them).
fn encoded_equals(value: &Value, encoded: &str) -> bool {
    serde_json::from_str::<Value>(encoded).is_ok_and(|decoded| &decoded == value)
}
