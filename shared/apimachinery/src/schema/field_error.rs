//! Validation errors worded like Kubernetes' `field.Error`.

use std::fmt;

/// The kind of a validation error, as `field.ErrorType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldErrorKind {
    /// "Required value".
    Required,
    /// "Invalid value".
    Invalid,
    /// "Unsupported value" (not in an enum).
    NotSupported,
    /// "Invalid value" for a value of the wrong type.
    TypeInvalid,
    /// "Too long".
    TooLong,
    /// "Too many".
    TooMany,
    /// "Duplicate value".
    Duplicate,
    /// "Forbidden".
    Forbidden,
}

/// One validation failure at a field path such as `spec.interval`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The field path, dotted with `[i]` indexes.
    pub field: String,
    /// What went wrong.
    pub kind: FieldErrorKind,
    /// The detail after the kind, e.g. `"foo": supported values: "generic", "aws"`.
    pub message: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            FieldErrorKind::Required => "Required value",
            FieldErrorKind::Invalid | FieldErrorKind::TypeInvalid => "Invalid value",
            FieldErrorKind::NotSupported => "Unsupported value",
            FieldErrorKind::TooLong => "Too long",
            FieldErrorKind::TooMany => "Too many",
            FieldErrorKind::Duplicate => "Duplicate value",
            FieldErrorKind::Forbidden => "Forbidden",
        };
        if self.message.is_empty() {
            write!(f, "{}: {kind}", self.field)
        } else {
            write!(f, "{}: {kind}: {}", self.field, self.message)
        }
    }
}
