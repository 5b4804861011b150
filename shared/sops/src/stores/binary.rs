//! Binary files: sops stores them as JSON `{"data": "ENC[...]", "sops": {...}}`; the plaintext is
//! the decrypted `data` string, byte for byte.

use super::{Loaded, emit_error, json, parse_error};
use crate::error::Error;
use crate::format::Format;
use crate::tree::{Key, Value};

pub fn load(input: &[u8]) -> Result<Loaded, Error> {
    let loaded = json::load_as(input, Format::Binary)?;
    let has_data = matches!(&loaded.branches[0], Value::Map(items)
        if items.iter().any(|(k, v)| *k == Key::Name("data".into()) && matches!(v, Value::Str(_))));
    if !has_data {
        return Err(parse_error(Format::Binary, "no string 'data' key"));
    }
    Ok(loaded)
}

pub fn emit(branches: Vec<Value>) -> Result<Vec<u8>, Error> {
    for branch in branches {
        if let Value::Map(items) = branch {
            for (k, v) in items {
                if k == Key::Name("data".into()) {
                    return match v {
                        Value::Str(s) => Ok(s.into_bytes()),
                        Value::Bytes(b) => Ok(b),
                        _ => Err(emit_error(Format::Binary, "'data' is not a string")),
                    };
                }
            }
        }
    }
    Err(emit_error(Format::Binary, "no 'data' key"))
}
