//! Server-side apply: field ownership recorded in `metadata.managedFields`.

mod field_set;

pub use field_set::{FieldSet, FieldsV1Error, PathElement};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ManagedFieldsEntry, Time};
use serde_json::Value;

use crate::merge_schema::MergeSchema;

/// The result of a server-side apply.
#[derive(Debug, Clone, PartialEq)]
pub struct Applied {
    /// The object after the apply, without `metadata.managedFields`.
    pub object: Value,
    /// The new managed fields of the object.
    pub managed_fields: Vec<ManagedFieldsEntry>,
}

/// One field another manager owns with a different value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    /// The manager owning the field.
    pub manager: String,
    /// The field path as kubectl prints it, e.g. `.spec.replicas`.
    pub path: String,
}

/// Conflicts that make a non-forced apply fail (HTTP 409).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", conflicts_message(.conflicts))]
pub struct ApplyConflicts {
    /// Each conflicting field.
    pub conflicts: Vec<Conflict>,
}

fn conflicts_message(conflicts: &[Conflict]) -> String {
    match conflicts {
        [one] => format!(
            "Apply failed with 1 conflict: conflict with \"{}\": {}",
            one.manager, one.path
        ),
        many => {
            let mut out = format!("Apply failed with {} conflicts:", many.len());
            for c in many {
                out.push_str(&format!(" conflict with \"{}\": {}", c.manager, c.path));
            }
            out
        }
    }
}

/// Why a server-side apply failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ApplyError {
    /// Fields owned by other managers would change; retry with force to take them.
    #[error(transparent)]
    Conflicts(#[from] ApplyConflicts),
    /// The configuration is not an object or is otherwise unusable.
    #[error("invalid apply configuration: {0}")]
    Invalid(String),
}

/// Server-side apply of `config` by `manager` onto `live` (`None` when creating).
pub fn apply(
    live: Option<&Value>,
    config: &Value,
    manager: &str,
    force: bool,
    managed: &[ManagedFieldsEntry],
    now: Time,
    schema: Option<&MergeSchema>,
) -> Result<Applied, ApplyError> {
    let _ = (live, manager, force, managed, now, schema);
    Err(ApplyError::Invalid(format!("not implemented for {config}")))
}

/// Records ownership for a create, update or patch by a non-apply manager.
pub fn update(
    old: Option<&Value>,
    new: &Value,
    manager: &str,
    operation: &str,
    managed: &[ManagedFieldsEntry],
    now: Time,
    schema: Option<&MergeSchema>,
) -> Vec<ManagedFieldsEntry> {
    let _ = (old, new, manager, operation, now, schema);
    managed.to_vec()
}
