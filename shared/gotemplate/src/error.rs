//! Parse and execution errors, worded like Go's text/template errors.

/// A template error. `Display` gives Go's message, e.g.
/// `template: t:1: unexpected "}" in operand` or
/// `template: t:1:3: executing "t" at <.a.b>: nil pointer evaluating interface {}.b`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// A syntax error: `template: NAME:LINE: MESSAGE`.
    #[error("template: {name}:{line}: {message}")]
    Parse {
        name: String,
        line: usize,
        message: String,
    },
    /// An execution error at a node: `template: LOCATION: executing "NAME" at <CONTEXT>: MESSAGE`.
    #[error("template: {location}: executing \"{name}\" at <{context}>: {message}")]
    Exec {
        /// `parse-name:line:column` (column is Go's 0-based byte offset in the line).
        location: String,
        /// The template being executed.
        name: String,
        /// The source of the node that failed, as Go prints it.
        context: String,
        message: String,
    },
    /// An execution error without a node: `template: NAME: MESSAGE`.
    #[error("template: {name}: {message}")]
    Template { name: String, message: String },
    /// Nested template executions went deeper than the limit.
    #[error("template: {name}: exceeded maximum template depth ({limit})")]
    DepthExceeded { name: String, limit: usize },
}

impl Error {
    /// The innermost message, without location prefixes.
    pub fn message(&self) -> &str {
        match self {
            Error::Parse { message, .. }
            | Error::Exec { message, .. }
            | Error::Template { message, .. } => message,
            Error::DepthExceeded { .. } => "exceeded maximum template depth",
        }
    }
}
