//! Field specs: kustomize's `path: a/b/c` addressing of fields, sequences traversed implicitly.

use crate::yaml::Node;

/// A field spec: which kinds it applies to, its path and whether missing fields are created.
#[derive(Debug, Clone)]
pub struct FieldSpec {
    pub group: Option<String>,
    pub version: Option<String>,
    pub kind: Option<String>,
    pub path: String,
    pub create: bool,
}

impl FieldSpec {
    pub fn new(kind: Option<&str>, path: &str, create: bool) -> FieldSpec {
        FieldSpec {
            group: None,
            version: None,
            kind: kind.map(str::to_string),
            path: path.to_string(),
            create,
        }
    }

    pub fn from_node(n: &Node) -> FieldSpec {
        FieldSpec {
            group: n.get_str("group").map(str::to_string),
            version: n.get_str("version").map(str::to_string),
            kind: n.get_str("kind").map(str::to_string),
            path: n.get_str("path").unwrap_or("").to_string(),
            create: matches!(n.get("create"), Some(Node::Bool(true))),
        }
    }

    pub fn applies_to(&self, res: &Node) -> bool {
        let gvk = crate::resource::Gvk::of(res);
        self.kind.as_deref().is_none_or(|k| k == gvk.kind)
            && self.group.as_deref().is_none_or(|g| g == gvk.group)
            && self.version.as_deref().is_none_or(|v| v == gvk.version)
    }

    pub fn segments(&self) -> Vec<&str> {
        split_path(&self.path)
    }
}

/// Splits `a/b[]/c` into segments (keeping `[]`); `\/` escapes a slash inside a key.
pub fn split_path(path: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let b = path.as_bytes();
    for i in 0..b.len() {
        if b[i] == b'/' && (i == 0 || b[i - 1] != b'\\') {
            out.push(&path[start..i]);
            start = i + 1;
        }
    }
    out.push(&path[start..]);
    out.into_iter().filter(|s| !s.is_empty()).collect()
}

/// Calls `f` on every field the path reaches; with `create`, missing mappings are made and the
/// final field is passed as `Null` for `f` to fill.
pub fn visit(node: &mut Node, path: &[&str], create: bool, f: &mut dyn FnMut(&mut Node)) {
    if path.is_empty() {
        f(node);
        return;
    }
    match node {
        Node::Seq(items) => {
            for it in items {
                visit(it, path, create, f);
            }
        }
        Node::Map(m) => {
            // `name[]` marks a list: traversed when present, never created.
            let (raw, is_list) = match path[0].strip_suffix("[]") {
                Some(k) => (k, true),
                None => (path[0], false),
            };
            let create_here = create && !is_list;
            let key = raw.replace("\\/", "/");
            match m.get_mut(&key) {
                Some(child) if !child.is_null() => visit(child, &path[1..], create, f),
                Some(child) if create_here || path.len() == 1 => {
                    if path.len() > 1 {
                        *child = Node::new_map();
                    }
                    visit(child, &path[1..], create, f);
                }
                Some(_) => {}
                None if create_here => {
                    let mut child = if path.len() == 1 {
                        Node::Null
                    } else {
                        Node::new_map()
                    };
                    visit(&mut child, &path[1..], create, f);
                    if !child.is_null() {
                        m.insert(key, child);
                    }
                }
                None => {}
            }
        }
        _ => {}
    }
}
