//! flux-gotemplate: Go's text/template language and Helm's Sprig function library, in Rust.
//!
//! Parse once, execute many times:
//! ```
//! use flux_gotemplate::{Template, Value, sprig};
//! let mut t = Template::new("t");
//! t.funcs(sprig::funcs());
//! t.parse("t", r#"{{ .name | upper | quote }}"#).unwrap();
//! let data = Value::map_from([("name", Value::from("web"))]);
//! assert_eq!(t.execute("t", &data).unwrap(), r#""WEB""#);
//! ```

mod ast;
mod builtins;
pub mod error;
mod exec;
pub mod func;
pub mod gofmt;
mod lex;
mod parse;
pub mod sprig;
pub mod template;
pub mod value;

pub use error::Error;
pub use func::{Func, FuncContext, FuncError, FuncMap, context_func, func};
pub use template::{DEFAULT_MAX_DEPTH, MissingKey, Template};
pub use value::{Map, Object, Value};
