//! The order-preserving value tree every resource is held in.

use indexmap::IndexMap;

/// A mapping with keys in document order; output sorts them the way kustomize does.
pub type Map = IndexMap<String, Node>;

/// One YAML value after kustomize's JSON round trip: scalars are already typed.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Null,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Map),
}

impl Node {
    pub fn new_map() -> Node {
        Node::Map(Map::new())
    }

    pub fn as_map(&self) -> Option<&Map> {
        match self {
            Node::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_map_mut(&mut self) -> Option<&mut Map> {
        match self {
            Node::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> Option<&Vec<Node>> {
        match self {
            Node::Seq(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_seq_mut(&mut self) -> Option<&mut Vec<Node>> {
        match self {
            Node::Seq(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Node::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Node::Null)
    }

    /// Child of a mapping by key.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map().and_then(|m| m.get(key))
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut Node> {
        self.as_map_mut().and_then(|m| m.get_mut(key))
    }

    /// A string field, if present and a string.
    pub fn get_str(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(Node::as_str)
    }

    /// Follows a path of mapping keys.
    pub fn get_path(&self, path: &[&str]) -> Option<&Node> {
        let mut cur = self;
        for p in path {
            cur = cur.get(p)?;
        }
        Some(cur)
    }

    /// Text of a scalar as kustomize would read it into a string field.
    pub fn scalar_text(&self) -> Option<String> {
        match self {
            Node::Null => None,
            Node::Bool(b) => Some(b.to_string()),
            Node::Int(i) => Some(i.to_string()),
            Node::Uint(u) => Some(u.to_string()),
            Node::Float(f) => Some(super::go_float_g(*f)),
            Node::Str(s) => Some(s.clone()),
            Node::Seq(_) | Node::Map(_) => None,
        }
    }

    /// Ensures a mapping child exists (replacing a null), returning it.
    pub fn ensure_map(&mut self, key: &str) -> Option<&mut Map> {
        let m = self.as_map_mut()?;
        let child = m.entry(key.to_string()).or_insert_with(Node::new_map);
        if child.is_null() {
            *child = Node::new_map();
        }
        child.as_map_mut()
    }
}

/// Serializes like the JSON kustomize hands to Kubernetes (map keys in document order).
impl serde::Serialize for Node {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        match self {
            Node::Null => s.serialize_unit(),
            Node::Bool(b) => s.serialize_bool(*b),
            Node::Int(i) => s.serialize_i64(*i),
            Node::Uint(u) => s.serialize_u64(*u),
            Node::Float(f) => s.serialize_f64(*f),
            Node::Str(v) => s.serialize_str(v),
            Node::Seq(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for i in items {
                    seq.serialize_element(i)?;
                }
                seq.end()
            }
            Node::Map(m) => {
                let mut map = s.serialize_map(Some(m.len()))?;
                for (k, v) in m {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::yaml::parse_documents;

    #[test]
    fn nodes_serialize_to_json_with_their_types() {
        let n = parse_documents("a: 1\nb: [true, null, \"x\", 1.5]\n")
            .unwrap()
            .remove(0);
        assert_eq!(
            serde_json::to_string(&n).unwrap(),
            r#"{"a":1,"b":[true,null,"x",1.5]}"#
        );
    }
}
