//! Field sets: the paths a manager owns, and their `fieldsV1` encoding.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::merge_schema::MergeSchema;

/// One step of a field path.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum PathElement {
    /// `f:<name>`: a member of an object.
    Field(String),
    /// `k:{...}`: an item of an associative list, by its key fields (JSON-encoded values).
    Key(Vec<(String, String)>),
    /// `v:<json>`: an item of a set, by its JSON-encoded value.
    Value(String),
    /// `i:<n>`: an item of an atomic list by position (rare).
    Index(usize),
}

/// A set of field paths, stored as a tree like structured-merge-diff's `fieldpath.Set`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FieldSet {
    /// Paths ending here.
    pub members: std::collections::BTreeSet<PathElement>,
    /// Paths going deeper.
    pub children: BTreeMap<PathElement, FieldSet>,
}

/// A `fieldsV1` document that cannot be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid fieldsV1: {0}")]
pub struct FieldsV1Error(pub String);

impl FieldSet {
    /// The fields `obj` sets, as server-side apply records them for an applier.
    pub fn from_object(obj: &Value, schema: Option<&MergeSchema>) -> FieldSet {
        let _ = (obj, schema);
        FieldSet::default()
    }

    /// Whether the set holds no path.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty() && self.children.values().all(FieldSet::is_empty)
    }

    /// Encodes the set as `fieldsV1`.
    pub fn to_fields_v1(&self) -> Value {
        Value::Object(Default::default())
    }

    /// Decodes `fieldsV1`.
    pub fn from_fields_v1(v: &Value) -> Result<FieldSet, FieldsV1Error> {
        let _ = v;
        Ok(FieldSet::default())
    }
}
