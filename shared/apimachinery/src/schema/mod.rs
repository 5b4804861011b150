//! Structural schemas of custom resources: defaulting, pruning and validation.

mod defaults;
mod field_error;
mod formats;
mod prune;
mod validate;

pub use defaults::apply_defaults;
pub use field_error::{FieldError, FieldErrorKind};
pub use prune::prune;
pub use validate::validate;
