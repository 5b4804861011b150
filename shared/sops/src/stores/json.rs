//! JSON documents: objects keep their key order; the top-level `sops` key is the metadata.

use serde::Serialize;
use serde_json::Value as Json;

use super::{Loaded, emit_error, parse_error};
use crate::error::Error;
use crate::format::Format;
use crate::tree::{Key, Value};

pub fn load(input: &[u8]) -> Result<Loaded, Error> {
    load_as(input, Format::Json)
}

pub(super) fn load_as(input: &[u8], format: Format) -> Result<Loaded, Error> {
    let doc: Json =
        serde_json::from_slice(input).map_err(|e| parse_error(format, e.to_string()))?;
    let Json::Object(mut obj) = doc else {
        return Err(parse_error(format, "the document is not an object"));
    };
    let metadata = obj.shift_remove("sops").ok_or(Error::MetadataNotFound)?;
    Ok(Loaded {
        branches: vec![from_json(Json::Object(obj))],
        metadata,
    })
}

pub fn from_json(v: Json) -> Value {
    match v {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Json::String(s) => Value::Str(s),
        Json::Array(a) => Value::List(a.into_iter().map(from_json).collect()),
        Json::Object(o) => Value::Map(
            o.into_iter()
                .map(|(k, v)| (Key::Name(k), from_json(v)))
                .collect(),
        ),
    }
}

pub fn to_json(v: Value) -> Result<Json, Error> {
    Ok(match v {
        Value::Null => Json::Null,
        Value::Bool(b) => Json::Bool(b),
        Value::Int(i) => Json::from(i),
        Value::Float(f) => serde_json::Number::from_f64(f)
            .map(Json::Number)
            .ok_or_else(|| emit_error(Format::Json, "a float is not finite"))?,
        Value::Str(s) => Json::String(s),
        Value::Bytes(b) => Json::String(String::from_utf8_lossy(&b).into_owned()),
        Value::List(a) => Json::Array(a.into_iter().map(to_json).collect::<Result<_, _>>()?),
        Value::Map(items) => {
            let mut obj = serde_json::Map::new();
            for (k, v) in items {
                if let Key::Name(k) = k {
                    obj.insert(k, to_json(v)?);
                }
            }
            Json::Object(obj)
        }
    })
}

pub fn emit(branches: Vec<Value>) -> Result<Vec<u8>, Error> {
    let branch = branches
        .into_iter()
        .next()
        .unwrap_or(Value::Map(Vec::new()));
    let doc = to_json(branch)?;
    // sops' JSON store indents with a tab by default.
    let mut out = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"\t");
    let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
    doc.serialize(&mut ser)
        .map_err(|e| emit_error(Format::Json, e.to_string()))?;
    out.push(b'\n');
    Ok(out)
}
