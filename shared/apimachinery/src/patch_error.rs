//! The error every patch flavour (JSON patch, strategic merge patch) reports.

/// Why a patch could not be applied. The messages follow the wording of the Kubernetes API
/// server where it has one, because clients show them to users verbatim.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PatchError {
    /// The patch document itself is malformed (wrong type, missing member, unknown op).
    #[error("invalid patch: {0}")]
    Invalid(String),
    /// A JSON pointer does not resolve in the document.
    #[error("path not found: {0}")]
    PathNotFound(String),
    /// A JSON patch `test` operation did not match.
    #[error("testing value {path} failed")]
    TestFailed {
        /// The pointer that was tested.
        path: String,
    },
    /// An array index is out of range or not a number.
    #[error("invalid array index {index} at {path}")]
    BadIndex {
        /// The pointer holding the index.
        path: String,
        /// The offending token.
        index: String,
    },
    /// A strategic-merge directive is used where Kubernetes does not allow it.
    #[error("{0}")]
    Directive(String),
}
