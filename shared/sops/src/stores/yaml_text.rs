//! Decrypted YAML written by editing the encrypted text in place: encrypted scalars and
//! comments are replaced and the `sops` block removed, so comments, key order and layout
//! survive. The result is re-parsed and must equal the decrypted tree, otherwise the caller
//! falls back to re-serializing the tree.

use std::collections::HashMap;

use super::yaml;
use crate::cipher::{self, Plain};
use crate::tree::{Key, Value};

const TOKEN: &str = "ENC[AES256_GCM,";

/// Pairs every encrypted scalar with its plaintext by walking both trees together.
fn collect(enc: &Value, plain: &Value, out: &mut HashMap<String, Value>) {
    match (enc, plain) {
        (Value::Map(a), Value::Map(b)) => {
            for ((_, x), (_, y)) in a.iter().zip(b) {
                collect(x, y, out);
            }
        }
        (Value::List(a), Value::List(b)) => {
            for (x, y) in a.iter().zip(b) {
                collect(x, y, out);
            }
        }
        (Value::Str(s), p) if s.starts_with(TOKEN) && p != enc => {
            out.insert(s.clone(), p.clone());
        }
        _ => {}
    }
}

/// Every path a comment can sit at (its additional data): the root and each mapping.
fn comment_paths(v: &Value, path: &mut Vec<String>, out: &mut Vec<String>) {
    match v {
        Value::Map(items) => {
            out.push(format!("{}:", path.join(":")));
            for (k, v) in items {
                if let Key::Name(k) = k {
                    path.push(k.clone());
                    comment_paths(v, path, out);
                    path.pop();
                }
            }
        }
        Value::List(items) => {
            for v in items {
                comment_paths(v, path, out);
            }
        }
        _ => {}
    }
}

fn is_plain_safe(s: &str) -> bool {
    let mut chars = s.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    let ambiguous = [
        "true", "false", "yes", "no", "on", "off", "y", "n", "null", "~",
    ];
    (first.is_ascii_alphabetic() || first == '_' || first == '/')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_./@=+-".contains(c))
        && !ambiguous.contains(&s.to_ascii_lowercase().as_str())
}

/// A scalar as YAML text that parses back to the same value on one line.
fn render(v: &Value) -> Option<String> {
    Some(match v {
        Value::Str(s) if is_plain_safe(s) => s.clone(),
        // A JSON string is a valid YAML double-quoted scalar.
        Value::Str(s) => serde_json::to_string(s).ok()?,
        Value::Int(i) => i.to_string(),
        Value::Float(f) if f.is_finite() => format!("{f:?}"),
        Value::Bool(b) => b.to_string(),
        _ => return None,
    })
}

fn replace_tokens(
    line: &str,
    values: &HashMap<String, Value>,
    paths: &[String],
    key: &[u8; 32],
) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(start) = rest.find(TOKEN) {
        let Some(len) = rest[start..].find(']') else {
            break;
        };
        let end = start + len + 1;
        let token = &rest[start..end];
        let before = &rest[..start];
        if let Some(prefix) = before.strip_suffix('#') {
            // An encrypted comment: its path is unknown in the text, so try each one; AES-GCM
            // authentication picks the right one. Comments that do not decrypt stay as they are.
            let comment =
                paths
                    .iter()
                    .find_map(|aad| match cipher::decrypt_value(token, key, aad) {
                        Ok(Plain::Comment(c)) => Some(c),
                        _ => None,
                    });
            match comment {
                Some(c) => {
                    out.push_str(prefix);
                    out.push('#');
                    out.push_str(&c);
                }
                None => {
                    out.push_str(before);
                    out.push_str(token);
                }
            }
            rest = &rest[end..];
            continue;
        }
        let quote = before
            .chars()
            .last()
            .filter(|q| (*q == '"' || *q == '\'') && rest[end..].starts_with(*q));
        match values.get(token).and_then(render) {
            Some(text) => {
                match quote {
                    Some(q) => out.push_str(&before[..before.len() - q.len_utf8()]),
                    None => out.push_str(before),
                }
                out.push_str(&text);
                rest = &rest[end + quote.map_or(0, char::len_utf8)..];
            }
            None => {
                out.push_str(before);
                out.push_str(token);
                rest = &rest[end..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Rewrites the encrypted text with the plaintext; `None` when the result would not be
/// exactly the decrypted tree (flow-style documents, exotic scalars).
pub fn rewrite(
    input: &[u8],
    encrypted: &[Value],
    decrypted: &[Value],
    key: &[u8; 32],
) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(input).ok()?;
    let mut values = HashMap::new();
    let mut paths = Vec::new();
    for (e, d) in encrypted.iter().zip(decrypted) {
        collect(e, d, &mut values);
        comment_paths(d, &mut Vec::new(), &mut paths);
    }
    paths.dedup();
    let mut out = String::with_capacity(text.len());
    let mut in_sops = false;
    for line in text.split_inclusive('\n') {
        let content = line.trim_end_matches(['\n', '\r']);
        if in_sops {
            if content.trim().is_empty() || content.starts_with([' ', '\t']) {
                continue;
            }
            in_sops = false;
        }
        if let Some(after) = content.strip_prefix("sops:")
            && (after.is_empty() || after.starts_with([' ', '\t']))
        {
            in_sops = true;
            continue;
        }
        out.push_str(&replace_tokens(line, &values, &paths, key));
    }
    let reparsed = yaml::parse_documents(out.as_bytes())
        .and_then(yaml::to_branches)
        .ok()?;
    (reparsed == decrypted).then(|| out.into_bytes())
}
