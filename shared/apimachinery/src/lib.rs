//! Kubernetes API-machinery semantics as pure functions: patches (JSON, merge, strategic),
//! server-side apply field ownership, structural schemas, RBAC, selectors and object names.
//!
//! Everything works on `serde_json::Value` and k8s-openapi types; nothing here does I/O.

pub mod json_patch;
pub mod managed_fields;
pub mod merge_patch;
pub mod merge_schema;
pub mod names;
pub mod patch_error;
pub mod rbac;
pub mod schema;
pub mod selectors;
pub mod strategic_merge;

mod builtin_schemas;

pub use patch_error::PatchError;
