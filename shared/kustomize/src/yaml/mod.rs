//! YAML layer: the value tree kustomize works on, its parser and an emitter matching kustomize's output.

mod emit;
mod keyorder;
mod node;
mod parse;
mod quoted;
mod scalar;

pub use emit::{emit_document, emit_documents};
pub use keyorder::go_yaml_key_less;
pub use node::{Map, Node};
pub use parse::{ParseError, parse_documents, parse_documents_plain, parse_documents_yaml11};
pub(crate) use scalar::resolve_plain;
pub use scalar::{go_float_g, go_json_float};
