//! Stores: how each file format maps to the sops tree and metadata, and back to plaintext.

mod binary;
mod dotenv;
mod flat;
mod ini;
mod json;
mod yaml;
pub mod yaml_text;

use serde_json::Value as Json;

use crate::error::Error;
use crate::format::Format;
use crate::tree::Value;

/// An encrypted document split into its data branches and its raw `sops` metadata.
pub struct Loaded {
    pub branches: Vec<Value>,
    pub metadata: Json,
}

pub fn load(format: Format, input: &[u8]) -> Result<Loaded, Error> {
    match format {
        Format::Yaml => yaml::load(input),
        Format::Json => json::load(input),
        Format::Binary => binary::load(input),
        Format::Dotenv => dotenv::load(input),
        Format::Ini => ini::load(input),
    }
}

pub fn emit(format: Format, branches: Vec<Value>) -> Result<Vec<u8>, Error> {
    match format {
        Format::Yaml => yaml::emit(branches),
        Format::Json => json::emit(branches),
        Format::Binary => binary::emit(branches),
        Format::Dotenv => dotenv::emit(branches),
        Format::Ini => ini::emit(branches),
    }
}

pub(crate) fn parse_error(format: Format, reason: impl Into<String>) -> Error {
    Error::Parse {
        format: format.name(),
        reason: reason.into(),
    }
}

pub(crate) fn emit_error(format: Format, reason: impl Into<String>) -> Error {
    Error::Emit {
        format: format.name(),
        reason: reason.into(),
    }
}

/// Writes a scalar as text for the flat formats (dotenv, INI), like sops' `ValueToString`.
pub(crate) fn scalar_to_string(v: &Value) -> Option<String> {
    match v {
        Value::Str(s) => Some(s.clone()),
        Value::Int(i) => Some(i.to_string()),
        Value::Float(f) => Some(crate::tree::format_go_float(*f)),
        Value::Bool(b) => Some(b.to_string()),
        Value::Bytes(b) => Some(String::from_utf8_lossy(b).into_owned()),
        Value::Null => Some(String::new()),
        Value::Map(_) | Value::List(_) => None,
    }
}
