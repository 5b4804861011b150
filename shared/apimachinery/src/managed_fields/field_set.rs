//! Field sets: the paths a manager owns, in structured-merge-diff's model, and their
//! `fieldsV1` encoding (`f:<name>`, `k:{...}`, `v:<json>`, `i:<n>`, `.`).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use crate::merge_schema::{ListType, MergeSchema, Node};

/// One step of a field path.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PathElement {
    /// `f:<name>`: a member of an object.
    Field(String),
    /// `k:{...}`: an item of an associative list, by its key fields sorted by name, each
    /// value JSON-encoded.
    Key(Vec<(String, String)>),
    /// `v:<json>`: an item of a set, by its JSON-encoded value.
    Value(String),
    /// `i:<n>`: an item of a list by position.
    Index(usize),
}

/// A path from the object root.
pub type Path = Vec<PathElement>;

impl PathElement {
    /// The key element of an item of a list-map (`listType=map`) node, or `None` when the
    /// item is not an object. Key fields the item omits take their declared default; other
    /// missing key fields are left out.
    pub fn key_of(item: &Value, list_type: &ListType) -> Option<PathElement> {
        let fields = item.as_object()?;
        let ListType::Map { keys, key_defaults } = list_type else {
            return None;
        };
        let mut pairs: Vec<(String, String)> = keys
            .iter()
            .filter_map(|k| {
                let value = fields.get(k).or_else(|| key_defaults.get(k))?;
                Some((k.clone(), value.to_string()))
            })
            .collect();
        pairs.sort();
        Some(PathElement::Key(pairs))
    }

    fn encode(&self) -> String {
        match self {
            PathElement::Field(name) => format!("f:{name}"),
            PathElement::Key(pairs) => {
                let body = pairs
                    .iter()
                    .map(|(k, v)| format!("{}:{v}", Value::String(k.clone())))
                    .collect::<Vec<_>>()
                    .join(",");
                format!("k:{{{body}}}")
            }
            PathElement::Value(v) => format!("v:{v}"),
            PathElement::Index(i) => format!("i:{i}"),
        }
    }

    fn decode(s: &str) -> Result<PathElement, FieldsV1Error> {
        let bad = || FieldsV1Error(format!("unrecognised path element {s:?}"));
        if let Some(name) = s.strip_prefix("f:") {
            Ok(PathElement::Field(name.to_string()))
        } else if let Some(json) = s.strip_prefix("k:") {
            let fields: Map<String, Value> = serde_json::from_str(json).map_err(|_| bad())?;
            let mut pairs: Vec<(String, String)> = fields
                .into_iter()
                .map(|(k, v)| (k, v.to_string()))
                .collect();
            pairs.sort();
            Ok(PathElement::Key(pairs))
        } else if let Some(json) = s.strip_prefix("v:") {
            let value: Value = serde_json::from_str(json).map_err(|_| bad())?;
            Ok(PathElement::Value(value.to_string()))
        } else if let Some(index) = s.strip_prefix("i:") {
            index.parse().map(PathElement::Index).map_err(|_| bad())
        } else {
            Err(bad())
        }
    }
}

/// Renders a path as structured-merge-diff prints it in conflicts:
/// `.spec.containers[name="app"].image`, `.metadata.finalizers[="x"]`.
pub fn path_string(path: &[PathElement]) -> String {
    let mut out = String::new();
    for element in path {
        match element {
            PathElement::Field(name) => {
                out.push('.');
                out.push_str(name);
            }
            PathElement::Key(pairs) => {
                let body = pairs
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(",");
                out.push_str(&format!("[{body}]"));
            }
            PathElement::Value(v) => out.push_str(&format!("[={v}]")),
            PathElement::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// A set of field paths. A path in the set is owned itself; its descendants are owned only
/// if they are in the set too.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FieldSet {
    paths: BTreeSet<Path>,
}

/// A `fieldsV1` document that cannot be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid fieldsV1: {0}")]
pub struct FieldsV1Error(pub String);

impl FromIterator<Path> for FieldSet {
    fn from_iter<I: IntoIterator<Item = Path>>(iter: I) -> Self {
        FieldSet {
            paths: iter.into_iter().collect(),
        }
    }
}

impl FieldSet {
    /// An empty set.
    pub fn new() -> FieldSet {
        FieldSet::default()
    }

    /// The fields `obj` sets, as server-side apply records them for an applier: every leaf,
    /// every associative-list and set item, and atomic lists and maps as single leaves.
    /// Empty objects are leaves too, so that `emptyDir: {}` can be owned.
    pub fn from_object(obj: &Value, schema: Option<&MergeSchema>) -> FieldSet {
        let deduced = Node::Deduced;
        let node = schema.map_or(&deduced, |s| &s.root);
        let builtin = schema.is_some_and(|s| s.builtin);
        let mut set = FieldSet::new();
        if obj.as_object().is_some_and(|m| !m.is_empty()) {
            collect(obj, node, &mut Vec::new(), &mut set, builtin);
        }
        set
    }

    /// Adds a path.
    pub fn insert(&mut self, path: Path) {
        self.paths.insert(path);
    }

    /// Whether `path` itself is in the set.
    pub fn contains(&self, path: &[PathElement]) -> bool {
        self.paths.contains(path)
    }

    /// Whether the set holds `prefix` or any path below it.
    pub fn has_prefix(&self, prefix: &[PathElement]) -> bool {
        self.paths
            .range(prefix.to_vec()..)
            .next()
            .is_some_and(|p| p.starts_with(prefix))
    }

    /// Whether the set holds no path.
    pub fn is_empty(&self) -> bool {
        self.paths.is_empty()
    }

    /// Number of paths.
    pub fn len(&self) -> usize {
        self.paths.len()
    }

    /// The paths in order.
    pub fn iter(&self) -> impl Iterator<Item = &Path> {
        self.paths.iter()
    }

    /// Paths in either set.
    pub fn union(&self, other: &FieldSet) -> FieldSet {
        self.paths.union(&other.paths).cloned().collect()
    }

    /// Paths in both sets.
    pub fn intersection(&self, other: &FieldSet) -> FieldSet {
        self.paths.intersection(&other.paths).cloned().collect()
    }

    /// Paths in `self` but not in `other`.
    pub fn difference(&self, other: &FieldSet) -> FieldSet {
        self.paths.difference(&other.paths).cloned().collect()
    }

    /// Removes every path at or below one of `prefixes` (fields the server never tracks).
    pub fn without_prefixes(&self, prefixes: &[Path]) -> FieldSet {
        self.paths
            .iter()
            .filter(|p| !prefixes.iter().any(|prefix| p.starts_with(prefix)))
            .cloned()
            .collect()
    }

    /// Encodes the set as `fieldsV1`: a path owned itself and through descendants gets a
    /// `"."` member, listed first.
    pub fn to_fields_v1(&self) -> Value {
        #[derive(Default)]
        struct Tree<'a> {
            member: bool,
            children: BTreeMap<&'a PathElement, Tree<'a>>,
        }
        fn encode(tree: &Tree<'_>) -> Value {
            let mut out = Map::new();
            if tree.member && !tree.children.is_empty() {
                out.insert(".".into(), Value::Object(Map::new()));
            }
            for (element, child) in &tree.children {
                out.insert(element.encode(), encode(child));
            }
            Value::Object(out)
        }
        let mut root = Tree::default();
        for path in &self.paths {
            let mut node = &mut root;
            for element in path {
                node = node.children.entry(element).or_default();
            }
            node.member = true;
        }
        root.member = false;
        encode(&root)
    }

    /// Decodes `fieldsV1`.
    pub fn from_fields_v1(v: &Value) -> Result<FieldSet, FieldsV1Error> {
        let mut set = FieldSet::new();
        let Value::Object(members) = v else {
            return Err(FieldsV1Error("fieldsV1 must be an object".into()));
        };
        decode_into(members, &mut Vec::new(), &mut set)?;
        Ok(set)
    }
}

fn decode_into(
    members: &Map<String, Value>,
    path: &mut Path,
    set: &mut FieldSet,
) -> Result<(), FieldsV1Error> {
    if members.is_empty() && !path.is_empty() {
        set.insert(path.clone());
        return Ok(());
    }
    for (key, value) in members {
        if key == "." {
            if !path.is_empty() {
                set.insert(path.clone());
            }
            continue;
        }
        let Value::Object(children) = value else {
            return Err(FieldsV1Error(format!("{key} must map to an object")));
        };
        path.push(PathElement::decode(key)?);
        decode_into(children, path, set)?;
        path.pop();
    }
    Ok(())
}

/// Whether member `name` of object `node` is a declared field rather than an entry of a
/// free-form map. Structured-merge-diff owns free-form entries themselves (a `"."` when they
/// hold objects) but declared fields only through their leaves. Built-in schemas only list
/// the fields that matter for merging, so there everything but `map_of` maps is a struct.
fn declared(node: &Node, name: &str, builtin: bool) -> bool {
    if builtin {
        !matches!(
            node,
            Node::Map {
                values: Some(_),
                ..
            }
        )
    } else {
        node.declares(name)
    }
}

/// Adds the paths `value` sets under `path` to `set`, as structured-merge-diff's
/// `ToFieldSet`: leaves, empty objects, items of associative lists and sets, free-form map
/// entries, and atomic lists and maps as single leaves.
pub(crate) fn collect(
    value: &Value,
    node: &Node,
    path: &mut Path,
    set: &mut FieldSet,
    builtin: bool,
) {
    match (value, node) {
        (Value::Object(members), Node::Map { atomic: false, .. } | Node::Deduced)
            if !members.is_empty() =>
        {
            for (name, child) in members {
                path.push(PathElement::Field(name.clone()));
                collect(
                    child,
                    node.field(name).unwrap_or(&Node::Deduced),
                    path,
                    set,
                    builtin,
                );
                if !declared(node, name, builtin) {
                    set.insert(path.clone());
                }
                path.pop();
            }
        }
        (
            Value::Array(items),
            Node::List {
                list_type,
                items: item_node,
            },
        ) => match list_type {
            ListType::Atomic => set.insert(path.clone()),
            ListType::Set => {
                for item in items {
                    path.push(PathElement::Value(item.to_string()));
                    set.insert(path.clone());
                    path.pop();
                }
            }
            ListType::Map { .. } => {
                for item in items {
                    let Some(key) = PathElement::key_of(item, list_type) else {
                        continue;
                    };
                    path.push(key);
                    collect(item, item_node, path, set, builtin);
                    set.insert(path.clone());
                    path.pop();
                }
            }
        },
        _ => set.insert(path.clone()),
    }
}
