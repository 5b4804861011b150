//! The shape of an object as far as merging is concerned: which lists are associative (and by
//! which keys), which are sets, and which lists and maps are atomic.
//!
//! One description serves both strategic merge patch (`patchStrategy`/`patchMergeKey` tags) and
//! server-side apply (`x-kubernetes-list-type`/`listMapKeys`/`map-type`), because for the
//! built-in kinds Kubernetes declares them consistently.

use std::collections::BTreeMap;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    JSONSchemaProps, JSONSchemaPropsOrArray, JSONSchemaPropsOrBool,
};

/// How the items of a list relate to each other.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListType {
    /// The list is one value: any change replaces it whole (the default).
    Atomic,
    /// A list of unique scalars merged by value (`patchStrategy:"merge"` on a scalar list).
    Set,
    /// A list of objects identified by the values of `keys`. The first key is the strategic
    /// merge patch `patchMergeKey`; server-side apply uses all of them.
    Map {
        /// The list-map keys, in declaration order.
        keys: Vec<String>,
        /// Defaults of key fields (container port `protocol` is `TCP`): an item that omits
        /// one is the same item as one that spells the default out.
        key_defaults: BTreeMap<String, serde_json::Value>,
    },
}

/// A node in a merge schema.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Node {
    /// Nothing is known: maps are merged field by field and lists are atomic, which is what
    /// Kubernetes deduces for untyped values.
    #[default]
    Deduced,
    /// A scalar value.
    Scalar,
    /// An object. `fields` describes known members; `values` describes the members of a
    /// free-form map (`additionalProperties`) and members not in `fields`.
    Map {
        /// Known fields.
        fields: BTreeMap<String, Node>,
        /// Schema for other members; `None` means deduced.
        values: Option<Box<Node>>,
        /// Replaced as a whole (`x-kubernetes-map-type: atomic`, `structType=atomic`).
        atomic: bool,
        /// `patchStrategy:"retainKeys"`: a patch clears members it does not mention.
        retain_keys: bool,
    },
    /// A list.
    List {
        /// How items are identified.
        list_type: ListType,
        /// The schema of each item.
        items: Box<Node>,
    },
}

/// The merge schema of a whole object.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MergeSchema {
    /// The schema of the object root.
    pub root: Node,
    /// A built-in kind: its objects are Go structs, so object members the schema does not
    /// list are struct fields (not free-form map entries), and a new object already holds
    /// its nested structs as zero values. Both shape how server-side apply records
    /// ownership of the objects themselves (the `"."` markers).
    pub builtin: bool,
}

impl Node {
    /// An object with the given fields whose other members are deduced.
    pub fn map(fields: impl IntoIterator<Item = (&'static str, Node)>) -> Node {
        Node::Map {
            fields: fields
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
            values: None,
            atomic: false,
            retain_keys: false,
        }
    }

    /// A free-form map whose values all follow `values`.
    pub fn map_of(values: Node) -> Node {
        Node::Map {
            fields: BTreeMap::new(),
            values: Some(Box::new(values)),
            atomic: false,
            retain_keys: false,
        }
    }

    /// An atomic object.
    pub fn atomic_map() -> Node {
        Node::Map {
            fields: BTreeMap::new(),
            values: None,
            atomic: true,
            retain_keys: false,
        }
    }

    /// A list of objects keyed by `keys`.
    pub fn list_map(keys: &[&str], items: Node) -> Node {
        Node::List {
            list_type: ListType::Map {
                keys: keys.iter().map(|k| k.to_string()).collect(),
                key_defaults: BTreeMap::new(),
            },
            items: Box::new(items),
        }
    }

    /// Declares the default of key field `key` of a list-map node.
    pub fn with_key_default(mut self, key: &str, value: serde_json::Value) -> Node {
        if let Node::List {
            list_type: ListType::Map { key_defaults, .. },
            ..
        } = &mut self
        {
            key_defaults.insert(key.to_string(), value);
        }
        self
    }

    /// A set of scalars.
    pub fn set() -> Node {
        Node::List {
            list_type: ListType::Set,
            items: Box::new(Node::Scalar),
        }
    }

    /// An atomic list.
    pub fn atomic_list() -> Node {
        Node::List {
            list_type: ListType::Atomic,
            items: Box::new(Node::Deduced),
        }
    }

    /// Marks an object node as `retainKeys`.
    pub fn retaining_keys(mut self) -> Node {
        if let Node::Map { retain_keys, .. } = &mut self {
            *retain_keys = true;
        }
        self
    }

    /// The schema of member `name` of this node.
    pub fn field(&self, name: &str) -> Option<&Node> {
        match self {
            Node::Map { fields, values, .. } => fields.get(name).or(values.as_deref()),
            _ => None,
        }
    }

    /// The schema of the items of this node if it is a list.
    pub fn items(&self) -> Option<&Node> {
        match self {
            Node::List { items, .. } => Some(items),
            _ => None,
        }
    }

    /// The list type of this node (atomic for anything that is not a declared list).
    pub fn list_type(&self) -> ListType {
        match self {
            Node::List { list_type, .. } => list_type.clone(),
            _ => ListType::Atomic,
        }
    }

    /// Whether `name` is a declared member of this object node (not a free-form entry).
    pub fn declares(&self, name: &str) -> bool {
        matches!(self, Node::Map { fields, .. } if fields.contains_key(name))
    }

    /// Whether an object node is replaced wholesale.
    pub fn is_atomic_map(&self) -> bool {
        matches!(self, Node::Map { atomic: true, .. })
    }
}

impl MergeSchema {
    /// Builds the merge schema of a custom resource from its structural OpenAPI v3 schema,
    /// reading `x-kubernetes-list-type`, `x-kubernetes-list-map-keys` and
    /// `x-kubernetes-map-type`. Lists without a list type are atomic, as for CRDs.
    pub fn from_json_schema(schema: &JSONSchemaProps) -> MergeSchema {
        MergeSchema {
            root: crate::builtin_schemas::with_object_meta(node_from_json_schema(schema)),
            builtin: false,
        }
    }
}

fn node_from_json_schema(schema: &JSONSchemaProps) -> Node {
    match schema.type_.as_deref() {
        Some("object") => {
            let fields = schema
                .properties
                .iter()
                .flatten()
                .map(|(k, v)| (k.clone(), node_from_json_schema(v)))
                .collect();
            let values = match &schema.additional_properties {
                Some(JSONSchemaPropsOrBool::Schema(s)) => Some(Box::new(node_from_json_schema(s))),
                _ => None,
            };
            Node::Map {
                fields,
                values,
                atomic: schema.x_kubernetes_map_type.as_deref() == Some("atomic"),
                retain_keys: false,
            }
        }
        Some("array") => {
            let items = match &schema.items {
                Some(JSONSchemaPropsOrArray::Schema(s)) => node_from_json_schema(s),
                _ => Node::Deduced,
            };
            let list_type = match schema.x_kubernetes_list_type.as_deref() {
                Some("set") => ListType::Set,
                Some("map") => {
                    let keys = schema
                        .x_kubernetes_list_map_keys
                        .clone()
                        .unwrap_or_default();
                    let item_properties = match &schema.items {
                        Some(JSONSchemaPropsOrArray::Schema(s)) => s.properties.as_ref(),
                        _ => None,
                    };
                    let key_defaults = keys
                        .iter()
                        .filter_map(|k| {
                            let default = item_properties?.get(k)?.default.as_ref()?;
                            Some((k.clone(), default.0.clone()))
                        })
                        .collect();
                    ListType::Map { keys, key_defaults }
                }
                _ => ListType::Atomic,
            };
            Node::List {
                list_type,
                items: Box::new(items),
            }
        }
        Some(_) => Node::Scalar,
        None if schema.x_kubernetes_int_or_string == Some(true) => Node::Scalar,
        None => Node::Deduced,
    }
}
