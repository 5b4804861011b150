//! Conversions between kustomize's value tree and JSON objects.

use flux_kustomize::yaml::{Map, Node};
use serde_json::{Number, Value};

/// The JSON form of a built resource.
pub fn node_to_json(node: &Node) -> Value {
    match node {
        Node::Null => Value::Null,
        Node::Bool(b) => Value::Bool(*b),
        Node::Int(i) => Value::Number((*i).into()),
        Node::Uint(u) => Value::Number((*u).into()),
        Node::Float(f) => Number::from_f64(*f).map_or(Value::Null, Value::Number),
        Node::Str(s) => Value::String(s.clone()),
        Node::Seq(items) => Value::Array(items.iter().map(node_to_json).collect()),
        Node::Map(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), node_to_json(v)))
                .collect(),
        ),
    }
}

/// kustomize's value tree for a JSON value.
pub fn json_to_node(value: &Value) -> Node {
    match value {
        Value::Null => Node::Null,
        Value::Bool(b) => Node::Bool(*b),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Node::Int(i)
            } else if let Some(u) = n.as_u64() {
                Node::Uint(u)
            } else {
                Node::Float(n.as_f64().unwrap_or_default())
            }
        }
        Value::String(s) => Node::Str(s.clone()),
        Value::Array(items) => Node::Seq(items.iter().map(json_to_node).collect()),
        Value::Object(map) => Node::Map(
            map.iter()
                .map(|(k, v)| (k.clone(), json_to_node(v)))
                .collect::<Map>(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trips_through_nodes_keeping_types() {
        let v = serde_json::json!({"a": 1, "b": [true, null, "x", 1.5, -2], "c": {"d": "e"}});
        assert_eq!(node_to_json(&json_to_node(&v)), v);
    }
}
