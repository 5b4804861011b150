//! flux-gotemplate: Go's text/template language and Helm's Sprig function library, in Rust.
//!
//! - [`Template`] is a set of associated templates like Go's `*template.Template`: `parse`
//!   adds a text and its `define`/`block`s (a later non-empty definition replaces an earlier
//!   one), `execute` runs one by name. Trees are parsed once and shared (`Arc`), so a set is
//!   cheap to clone (Helm's `tpl` parses into a clone) and can be used from many threads.
//! - [`Value`] is what templates see: nil, bool, int64, float64, string, lists (shared,
//!   immutable), maps (shared and mutable like Go maps, iterated in sorted key order) and host
//!   [`Object`]s with fields and methods. Values from Helm values files are float64
//!   ([`Value::from_json_floats`]); `From<serde_json::Value>` keeps integers as int64.
//! - Functions are [`Func`]s: closures over the arguments and a [`FuncContext`] through which a
//!   function can execute templates of the running set (`include`) or a new text (`tpl`).
//!   [`sprig::funcs`] is Sprig as Helm ships it.
//! - Semantics follow Go: missing map keys print `<no value>` (see [`MissingKey`]), fields of
//!   nil fail with `nil pointer evaluating interface {}.x`, `and`/`or` short-circuit, `eq`
//!   refuses int against float, printf follows `fmt` (`%!d(string=x)`, `1e+06`), and errors
//!   read `template: NAME:LINE:COL: executing "NAME" at <NODE>: ...`.
//! - Execution is bounded: nested template calls stop at [`DEFAULT_MAX_DEPTH`] (configurable),
//!   the native stack grows on demand for deep nesting, output stops at 256 MiB, and ranges
//!   over huge integers and oversized `repeat`/`indent`/`until` results are refused.
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
