//! Walks over objects that server-side apply needs: merging an applied configuration into the
//! live object, comparing two versions field by field, and removing owned fields.

use serde_json::Value;

use super::field_set::{FieldSet, Path, PathElement, collect};
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
            let mut out = l.clone();
            for (name, value) in c {
                let child = node.field(name).unwrap_or(&Node::Deduced);
                let merged = match l.get(name) {
                    Some(existing) => merge(existing, value, child),
                    None => value.clone(),
                };
                out.insert(name.clone(), merged);
            }
            Value::Object(out)
        }
        (Value::Array(l), Value::Array(c)) => match node {
            Node::List {
                list_type: ListType::Set,
                ..
            } => {
                let mut out = l.clone();
                for item in c {
                    if !out.contains(item) {
                        out.push(item.clone());
                    }
                }
                Value::Array(out)
            }
            Node::List {
                list_type: ListType::Map { keys },
                items,
            } => {
                let mut out = l.clone();
                for item in c {
                    let key = PathElement::key_of(item, keys);
                    let existing = out
                        .iter_mut()
                        .find(|o| key.is_some() && PathElement::key_of(o, keys) == key);
                    match existing {
                        Some(o) => *o = merge(o, item, items),
                        None => out.push(item.clone()),
                    }
                }
                Value::Array(out)
            }
            _ => config.clone(),
        },
        _ => config.clone(),
    }
}

/// Compares `old` and `new` below `path`.
pub(crate) fn compare(
    old: Option<&Value>,
    new: Option<&Value>,
    node: &Node,
    path: &mut Path,
    out: &mut Comparison,
) {
    match (old, new) {
        (None, None) => {}
        (None, Some(n)) => collect_added(n, node, path, &mut out.added),
        (Some(o), None) => collect_removed(o, node, path, &mut out.removed),
        (Some(Value::Object(o)), Some(Value::Object(n))) if is_granular_map(node) => {
            if o.is_empty() != n.is_empty() {
                // An empty object is a leaf of its own.
                if n.is_empty() {
                    out.added.insert(path.clone());
                } else if !path.is_empty() {
                    out.removed.insert(path.clone());
                }
            }
            for name in o.keys().chain(n.keys().filter(|k| !o.contains_key(*k))) {
                path.push(PathElement::Field(name.clone()));
                let child = node.field(name).unwrap_or(&Node::Deduced);
                compare(o.get(name), n.get(name), child, path, out);
                path.pop();
            }
        }
        (Some(Value::Array(o)), Some(Value::Array(n))) if is_associative(node) => {
            compare_items(o, n, node, path, out)
        }
        (Some(o), Some(n)) => {
            if o != n {
                out.modified.insert(path.clone());
            }
        }
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
        ListType::Map { keys } => PathElement::key_of(item, &keys),
        ListType::Atomic => None,
    }
}

fn compare_items(old: &[Value], new: &[Value], node: &Node, path: &mut Path, out: &mut Comparison) {
    let item_node = node.items().unwrap_or(&Node::Deduced);
    let keyed = |items: &[Value]| -> Vec<(PathElement, Value)> {
        items
            .iter()
            .filter_map(|i| Some((item_element(i, node)?, i.clone())))
            .collect()
    };
    let old_items = keyed(old);
    let new_items = keyed(new);
    let find = |items: &[(PathElement, Value)], e: &PathElement| {
        items.iter().find(|(k, _)| k == e).map(|(_, v)| v.clone())
    };
    for (element, value) in &old_items {
        path.push(element.clone());
        match find(&new_items, element) {
            None => {
                out.removed.insert(path.clone());
                collect_item_fields(value, item_node, path, &mut out.removed);
            }
            Some(new_value) => {
                if let (Value::Object(o), Value::Object(n)) = (value, &new_value) {
                    for name in o.keys().chain(n.keys().filter(|k| !o.contains_key(*k))) {
                        path.push(PathElement::Field(name.clone()));
                        let child = item_node.field(name).unwrap_or(&Node::Deduced);
                        compare(o.get(name), n.get(name), child, path, out);
                        path.pop();
                    }
                }
            }
        }
        path.pop();
    }
    for (element, value) in &new_items {
        if find(&old_items, element).is_none() {
            path.push(element.clone());
            out.added.insert(path.clone());
            collect_item_fields(value, item_node, path, &mut out.added);
            path.pop();
        }
    }
}

fn collect_item_fields(item: &Value, item_node: &Node, path: &mut Path, set: &mut FieldSet) {
    if let Value::Object(members) = item {
        for (name, child) in members {
            path.push(PathElement::Field(name.clone()));
            collect(
                child,
                item_node.field(name).unwrap_or(&Node::Deduced),
                path,
                set,
            );
            path.pop();
        }
    }
}

/// The fields of a newly added value. Free-form maps (labels, annotations, untyped objects)
/// are owned themselves too, which is what puts the `"."` marker into an updater's entry.
fn collect_added(value: &Value, node: &Node, path: &mut Path, set: &mut FieldSet) {
    collect(value, node, path, set);
    mark_free_form_maps(value, node, path, set);
}

fn collect_removed(value: &Value, node: &Node, path: &mut Path, set: &mut FieldSet) {
    collect(value, node, path, set);
    if value.is_object() {
        set.insert(path.clone());
    }
}

fn mark_free_form_maps(value: &Value, node: &Node, path: &mut Path, set: &mut FieldSet) {
    let Value::Object(members) = value else {
        return;
    };
    let free_form = match node {
        Node::Deduced => true,
        Node::Map {
            fields,
            atomic: false,
            ..
        } => fields.is_empty(),
        _ => false,
    };
    if !is_granular_map(node) || members.is_empty() {
        return;
    }
    if free_form && !path.is_empty() {
        set.insert(path.clone());
    }
    for (name, child) in members {
        path.push(PathElement::Field(name.clone()));
        mark_free_form_maps(child, node.field(name).unwrap_or(&Node::Deduced), path, set);
        path.pop();
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
