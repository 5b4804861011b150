//! Template functions: the callable type, the name→function map, and what a function may ask of
//! the running template (Helm's `include` and `tpl` need to execute templates).

use std::collections::HashMap;
use std::sync::Arc;

use crate::error::Error;
use crate::value::Value;

/// A template function. Arguments arrive evaluated; a missing value arrives as `Value::Nil`.
pub type Func =
    Arc<dyn Fn(&mut dyn FuncContext, &[Value]) -> Result<Value, FuncError> + Send + Sync>;

/// Functions by name, as Go's `template.FuncMap`.
pub type FuncMap = HashMap<String, Func>;

/// Wraps a closure that does not need the execution context.
pub fn func<F>(f: F) -> Func
where
    F: Fn(&[Value]) -> Result<Value, FuncError> + Send + Sync + 'static,
{
    Arc::new(move |_: &mut dyn FuncContext, args: &[Value]| f(args))
}

/// Wraps a closure that uses the execution context (to run templates).
pub fn context_func<F>(f: F) -> Func
where
    F: Fn(&mut dyn FuncContext, &[Value]) -> Result<Value, FuncError> + Send + Sync + 'static,
{
    Arc::new(f)
}

/// What a function can do with the template that calls it.
pub trait FuncContext {
    /// Executes the named template of the running set with `data`, as `{{template}}` would, and
    /// returns its output (Helm's `include`). Counts towards the nesting depth limit.
    fn execute_template(&mut self, name: &str, data: &Value) -> Result<String, Error>;

    /// Parses `text` into a copy of the running set under the name `name` (its `define`s are
    /// visible only to it) and executes it with `data` (Helm's `tpl`). Counts towards the nesting
    /// depth limit.
    fn execute_text(&mut self, name: &str, text: &str, data: &Value) -> Result<String, Error>;

    /// The name of the template being executed (`executing "NAME"`).
    fn template_name(&self) -> &str;

    /// The name of the template set itself (`Template::new(NAME)`): Helm names `tpl` texts
    /// after it (`gotpl`).
    fn root_name(&self) -> &str {
        self.template_name()
    }

    /// The current nesting depth of template executions.
    fn depth(&self) -> usize;
}

/// Why a function call failed. The executor adds the template location and function name.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FuncError {
    /// Wrong argument count; rendered `wrong number of args for NAME: want WANT got GOT`.
    #[error("wrong number of args: want {want} got {got}")]
    Arity { want: String, got: usize },
    /// An argument of the wrong Go type; rendered `wrong type for value; expected T; got U`.
    #[error("wrong type for value; expected {expected}; got {got}")]
    WrongType { expected: String, got: String },
    /// A nil/missing argument where a concrete type is needed.
    #[error("invalid value; expected {expected}")]
    Invalid { expected: String },
    /// The function returned an error; rendered `error calling NAME: MESSAGE`.
    #[error("{0}")]
    Failed(String),
    /// A nested template execution failed; its message is kept as is.
    #[error("{0}")]
    Template(Box<Error>),
}

impl FuncError {
    pub fn failed(msg: impl Into<String>) -> Self {
        FuncError::Failed(msg.into())
    }
}

impl From<Error> for FuncError {
    fn from(e: Error) -> Self {
        FuncError::Template(Box::new(e))
    }
}
