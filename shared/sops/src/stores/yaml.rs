//! YAML documents (one or more): mappings keep their key order; the top-level `sops` key of a
//! document holds the metadata.

use serde::Deserialize;
use serde_yaml::Value as Yaml;

use super::{Loaded, emit_error, parse_error};
use crate::error::Error;
use crate::format::Format;
use crate::tree::{Key, Value};

fn key_text(k: &Yaml) -> Result<String, Error> {
    match k {
        Yaml::String(s) => Ok(s.clone()),
        Yaml::Number(n) => Ok(n.to_string()),
        Yaml::Bool(b) => Ok(b.to_string()),
        Yaml::Null => Ok("null".into()),
        Yaml::Tagged(t) => key_text(&t.value),
        Yaml::Sequence(_) | Yaml::Mapping(_) => Err(parse_error(
            Format::Yaml,
            "only scalar mapping keys are supported",
        )),
    }
}

fn from_yaml(v: Yaml) -> Result<Value, Error> {
    Ok(match v {
        Yaml::Null => Value::Null,
        Yaml::Bool(b) => Value::Bool(b),
        Yaml::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::Int(i)
            } else if n.is_f64() {
                Value::Float(n.as_f64().unwrap_or(f64::NAN))
            } else {
                return Err(parse_error(Format::Yaml, "integer out of range"));
            }
        }
        Yaml::String(s) => Value::Str(s),
        Yaml::Sequence(s) => Value::List(s.into_iter().map(from_yaml).collect::<Result<_, _>>()?),
        Yaml::Mapping(m) => Value::Map(
            m.into_iter()
                .map(|(k, v)| Ok((Key::Name(key_text(&k)?), from_yaml(v)?)))
                .collect::<Result<_, Error>>()?,
        ),
        Yaml::Tagged(t) => from_yaml(t.value)?,
    })
}

fn to_yaml(v: Value) -> Yaml {
    match v {
        Value::Null => Yaml::Null,
        Value::Bool(b) => Yaml::Bool(b),
        Value::Int(i) => Yaml::Number(i.into()),
        Value::Float(f) => Yaml::Number(f.into()),
        Value::Str(s) => Yaml::String(s),
        Value::Bytes(b) => Yaml::String(String::from_utf8_lossy(&b).into_owned()),
        Value::List(l) => Yaml::Sequence(l.into_iter().map(to_yaml).collect()),
        Value::Map(items) => Yaml::Mapping(
            items
                .into_iter()
                .filter_map(|(k, v)| match k {
                    Key::Name(k) => Some((Yaml::String(k), to_yaml(v))),
                    Key::Comment(_) => None,
                })
                .collect(),
        ),
    }
}

/// Parses every non-empty document as a mapping.
pub fn parse_documents(input: &[u8]) -> Result<Vec<serde_yaml::Mapping>, Error> {
    let mut docs = Vec::new();
    for doc in serde_yaml::Deserializer::from_slice(input) {
        let value = Yaml::deserialize(doc).map_err(|e| parse_error(Format::Yaml, e.to_string()))?;
        match value {
            Yaml::Mapping(m) => docs.push(m),
            Yaml::Null => continue,
            _ => return Err(parse_error(Format::Yaml, "a document is not a mapping")),
        }
    }
    Ok(docs)
}

/// Converts parsed documents to sops branches.
pub fn to_branches(docs: Vec<serde_yaml::Mapping>) -> Result<Vec<Value>, Error> {
    docs.into_iter()
        .map(|m| from_yaml(Yaml::Mapping(m)))
        .collect()
}

/// Parses every document; the first `sops` entry found is the metadata and every document
/// loses its `sops` key.
pub fn load(input: &[u8]) -> Result<Loaded, Error> {
    let mut docs = parse_documents(input)?;
    let mut metadata = None;
    for map in docs.iter_mut() {
        if let Some(md) = map.remove("sops")
            && metadata.is_none()
        {
            metadata = Some(md);
        }
    }
    let metadata = metadata.ok_or(Error::MetadataNotFound)?;
    let metadata = serde_json::to_value(&metadata)
        .map_err(|e| Error::InvalidMetadata(format!("not representable as JSON: {e}")))?;
    Ok(Loaded {
        branches: to_branches(docs)?,
        metadata,
    })
}

pub fn emit(branches: Vec<Value>) -> Result<Vec<u8>, Error> {
    let mut out = String::new();
    for (i, branch) in branches.into_iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        let text = serde_yaml::to_string(&to_yaml(branch))
            .map_err(|e| emit_error(Format::Yaml, e.to_string()))?;
        out.push_str(&text);
    }
    Ok(out.into_bytes())
}
