//! dotenv files: `KEY=value` lines, `#` comments; `sops_*` lines hold the flattened metadata.

use super::{Loaded, emit_error, flat, parse_error, scalar_to_string};
use crate::error::Error;
use crate::format::Format;
use crate::tree::{Key, Value};

const SOPS_PREFIX: &str = "sops_";

pub fn load(input: &[u8]) -> Result<Loaded, Error> {
    let text = std::str::from_utf8(input).map_err(|_| parse_error(Format::Dotenv, "not UTF-8"))?;
    let mut items = Vec::new();
    let mut md = Vec::new();
    for (n, line) in text.split('\n').enumerate() {
        if line.is_empty() {
            continue;
        }
        if let Some(comment) = line.strip_prefix('#') {
            items.push((Key::Comment(comment.to_string()), Value::Null));
            continue;
        }
        // The line itself may be a plaintext secret: name only its number.
        let (key, value) = line
            .split_once('=')
            .ok_or_else(|| parse_error(Format::Dotenv, format!("line {} has no '='", n + 1)))?;
        if let Some(md_key) = key.strip_prefix(SOPS_PREFIX) {
            md.push((md_key.to_string(), value.to_string()));
        } else {
            items.push((
                Key::Name(key.to_string()),
                Value::Str(value.replace("\\n", "\n")),
            ));
        }
    }
    if md.is_empty() {
        return Err(Error::MetadataNotFound);
    }
    let metadata = flat::unflatten(md)
        .ok_or_else(|| Error::InvalidMetadata("malformed flattened sops keys".into()))?;
    Ok(Loaded {
        branches: vec![Value::Map(items)],
        metadata,
    })
}

pub fn emit(branches: Vec<Value>) -> Result<Vec<u8>, Error> {
    let mut out = String::new();
    for branch in branches.into_iter().take(1) {
        let Value::Map(items) = branch else {
            return Err(emit_error(Format::Dotenv, "the document is not a mapping"));
        };
        for (k, v) in items {
            match k {
                Key::Comment(c) => {
                    out.push('#');
                    out.push_str(&c);
                }
                Key::Name(name) => {
                    let value = scalar_to_string(&v).ok_or_else(|| {
                        emit_error(Format::Dotenv, format!("complex value for key {name}"))
                    })?;
                    out.push_str(&name);
                    out.push('=');
                    out.push_str(&value.replace('\n', "\\n"));
                }
            }
            out.push('\n');
        }
    }
    Ok(out.into_bytes())
}
