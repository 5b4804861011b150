//! INI files as sops reads them with go-ini: a `DEFAULT` section first, then each section as a
//! mapping; the `[sops]` section holds the flattened metadata.

use super::{Loaded, emit_error, flat, parse_error, scalar_to_string};
use crate::error::Error;
use crate::format::Format;
use crate::tree::{Key, Value};

const DEFAULT_SECTION: &str = "DEFAULT";

fn unquote(v: &str) -> &str {
    for q in ['"', '\'', '`'] {
        if v.len() >= 2 && v.starts_with(q) && v.ends_with(q) {
            return &v[1..v.len() - 1];
        }
    }
    v
}

pub fn load(input: &[u8]) -> Result<Loaded, Error> {
    let text = std::str::from_utf8(input).map_err(|_| parse_error(Format::Ini, "not UTF-8"))?;
    let mut sections: Vec<(String, Vec<(Key, Value)>)> = vec![(DEFAULT_SECTION.into(), Vec::new())];
    let mut pending_comment: Option<String> = None;
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        if line.starts_with(';') || line.starts_with('#') {
            let c = line.trim_start_matches([';', '#', ' ']).to_string();
            pending_comment = Some(match pending_comment {
                Some(prev) => format!("{prev}\n{c}"),
                None => c,
            });
            continue;
        }
        if let Some(name) = line.strip_prefix('[') {
            let name = name
                .strip_suffix(']')
                .ok_or_else(|| {
                    parse_error(Format::Ini, format!("line {}: unclosed section", n + 1))
                })?
                .trim();
            let mut items = Vec::new();
            if let Some(c) = pending_comment.take() {
                items.push((Key::Comment(c), Value::Null));
            }
            if let Some(existing) = sections.iter_mut().find(|(s, _)| s == name) {
                existing.1.extend(items);
            } else {
                sections.push((name.to_string(), items));
            }
            continue;
        }
        let pos = line
            .find(['=', ':'])
            .ok_or_else(|| parse_error(Format::Ini, format!("line {} has no '='", n + 1)))?;
        let key = line[..pos].trim().to_string();
        let value = unquote(line[pos + 1..].trim()).to_string();
        let section = &mut sections
            .last_mut()
            .ok_or_else(|| parse_error(Format::Ini, "no section"))?
            .1;
        section.push((Key::Name(key), Value::Str(value)));
        // sops places a key's comment after the key.
        if let Some(c) = pending_comment.take() {
            section.push((Key::Comment(c), Value::Null));
        }
    }
    let idx = sections
        .iter()
        .position(|(s, _)| s == "sops")
        .ok_or(Error::MetadataNotFound)?;
    let (_, md_items) = sections.remove(idx);
    let md_pairs = md_items
        .into_iter()
        .filter_map(|(k, v)| match (k, v) {
            (Key::Name(k), Value::Str(v)) => Some((k, v)),
            _ => None,
        })
        .collect();
    let metadata = flat::unflatten(md_pairs)
        .ok_or_else(|| Error::InvalidMetadata("malformed flattened sops keys".into()))?;
    let branch = Value::Map(
        sections
            .into_iter()
            .map(|(name, items)| (Key::Name(name), Value::Map(items)))
            .collect(),
    );
    Ok(Loaded {
        branches: vec![branch],
        metadata,
    })
}

pub fn emit(branches: Vec<Value>) -> Result<Vec<u8>, Error> {
    let mut out = String::new();
    for branch in branches {
        let Value::Map(sections) = branch else {
            return Err(emit_error(Format::Ini, "the document is not a mapping"));
        };
        for (name, section) in sections {
            let Key::Name(name) = name else { continue };
            let Value::Map(items) = section else {
                return Err(emit_error(Format::Ini, "section values must be mappings"));
            };
            if name == DEFAULT_SECTION && items.is_empty() {
                continue;
            }
            let mut lines = String::new();
            for (k, v) in items {
                match k {
                    Key::Comment(c) => {
                        for l in c.lines() {
                            lines.push_str("; ");
                            lines.push_str(l);
                            lines.push('\n');
                        }
                    }
                    Key::Name(k) => {
                        let value = scalar_to_string(&v).ok_or_else(|| {
                            emit_error(Format::Ini, "nested values are not allowed")
                        })?;
                        lines.push_str(&format!("{k} = {value}\n"));
                    }
                }
            }
            if name != DEFAULT_SECTION {
                out.push_str(&format!("[{name}]\n"));
            }
            out.push_str(&lines);
            out.push('\n');
        }
    }
    Ok(out.into_bytes())
}
