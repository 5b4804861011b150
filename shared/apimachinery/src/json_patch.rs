//! JSON patch (RFC 6902), the `application/json-patch+json` patch type, with JSON pointers
//! (RFC 6901).

use serde_json::Value;

use crate::PatchError;

/// Applies the operations of `patch` (an array of operation objects) to `doc` in order.
///
/// The whole patch is atomic: on any error the document is left untouched and the error is
/// returned, as the Kubernetes API server rejects the request.
pub fn apply(doc: &Value, patch: &Value) -> Result<Value, PatchError> {
    let Value::Array(ops) = patch else {
        return Err(PatchError::Invalid(
            "a JSON patch must be an array of operations".into(),
        ));
    };
    let mut out = doc.clone();
    for op in ops {
        apply_op(&mut out, op)?;
    }
    Ok(out)
}

fn member<'a>(op: &'a Value, name: &str) -> Result<&'a Value, PatchError> {
    op.get(name)
        .ok_or_else(|| PatchError::Invalid(format!("operation is missing \"{name}\"")))
}

fn string_member<'a>(op: &'a Value, name: &str) -> Result<&'a str, PatchError> {
    member(op, name)?
        .as_str()
        .ok_or_else(|| PatchError::Invalid(format!("operation member \"{name}\" must be a string")))
}

fn apply_op(doc: &mut Value, op: &Value) -> Result<(), PatchError> {
    if !op.is_object() {
        return Err(PatchError::Invalid(
            "each operation must be an object".into(),
        ));
    }
    let kind = string_member(op, "op")?;
    let path = string_member(op, "path")?;
    match kind {
        "add" => add(doc, path, member(op, "value")?.clone()),
        "remove" => remove(doc, path).map(|_| ()),
        "replace" => {
            let value = member(op, "value")?.clone();
            let target = resolve_mut(doc, path)?;
            *target = value;
            Ok(())
        }
        "move" => {
            let from = string_member(op, "from")?;
            if path != from && is_proper_prefix(from, path) {
                return Err(PatchError::Invalid(format!(
                    "cannot move {from} into its own child {path}"
                )));
            }
            let value = remove(doc, from)?;
            add(doc, path, value)
        }
        "copy" => {
            let from = string_member(op, "from")?;
            let value = resolve(doc, from)?.clone();
            add(doc, path, value)
        }
        "test" => {
            let expected = member(op, "value")?;
            // As the API server's json-patch library does, a missing member of an existing
            // object tests equal to null: kube-rs' finalizer helper relies on it to add the
            // first finalizer.
            let matches = match resolve(doc, path) {
                Ok(actual) => actual == expected,
                Err(e) => {
                    let parent = &path[..path.rfind('/').unwrap_or(0)];
                    if expected.is_null() && resolve(doc, parent).is_ok_and(Value::is_object) {
                        true
                    } else {
                        return Err(e);
                    }
                }
            };
            if matches {
                Ok(())
            } else {
                Err(PatchError::TestFailed { path: path.into() })
            }
        }
        other => Err(PatchError::Invalid(format!(
            "unknown operation \"{other}\""
        ))),
    }
}

fn is_proper_prefix(prefix: &str, path: &str) -> bool {
    path.len() > prefix.len() && path.starts_with(prefix) && path.as_bytes()[prefix.len()] == b'/'
}

/// Splits a JSON pointer into unescaped reference tokens (`~1` is `/`, `~0` is `~`).
pub fn parse_pointer(pointer: &str) -> Result<Vec<String>, PatchError> {
    if pointer.is_empty() {
        return Ok(Vec::new());
    }
    let Some(rest) = pointer.strip_prefix('/') else {
        return Err(PatchError::Invalid(format!(
            "JSON pointer \"{pointer}\" must start with /"
        )));
    };
    rest.split('/')
        .map(|token| {
            let mut out = String::with_capacity(token.len());
            let mut chars = token.chars();
            while let Some(c) = chars.next() {
                if c == '~' {
                    match chars.next() {
                        Some('0') => out.push('~'),
                        Some('1') => out.push('/'),
                        _ => {
                            return Err(PatchError::Invalid(format!(
                                "JSON pointer \"{pointer}\" has an invalid ~ escape"
                            )));
                        }
                    }
                } else {
                    out.push(c);
                }
            }
            Ok(out)
        })
        .collect()
}

/// Escapes one reference token for use in a JSON pointer.
pub fn escape_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

fn array_index(token: &str, len: usize, path: &str, allow_end: bool) -> Result<usize, PatchError> {
    let bad = || PatchError::BadIndex {
        path: path.into(),
        index: token.into(),
    };
    // RFC 6901: no leading zeros, no signs.
    if token.is_empty()
        || !token.bytes().all(|b| b.is_ascii_digit())
        || (token.len() > 1 && token.starts_with('0'))
    {
        return Err(bad());
    }
    let index: usize = token.parse().map_err(|_| bad())?;
    if index < len || (allow_end && index == len) {
        Ok(index)
    } else {
        Err(bad())
    }
}

/// Resolves `pointer` in `doc`.
pub fn resolve<'a>(doc: &'a Value, pointer: &str) -> Result<&'a Value, PatchError> {
    let mut current = doc;
    for token in parse_pointer(pointer)? {
        current = match current {
            Value::Object(members) => members
                .get(&token)
                .ok_or_else(|| PatchError::PathNotFound(pointer.into()))?,
            Value::Array(items) => &items[array_index(&token, items.len(), pointer, false)?],
            _ => return Err(PatchError::PathNotFound(pointer.into())),
        };
    }
    Ok(current)
}

fn resolve_mut<'a>(doc: &'a mut Value, pointer: &str) -> Result<&'a mut Value, PatchError> {
    let mut current = doc;
    for token in parse_pointer(pointer)? {
        current = match current {
            Value::Object(members) => members
                .get_mut(&token)
                .ok_or_else(|| PatchError::PathNotFound(pointer.into()))?,
            Value::Array(items) => {
                let index = array_index(&token, items.len(), pointer, false)?;
                &mut items[index]
            }
            _ => return Err(PatchError::PathNotFound(pointer.into())),
        };
    }
    Ok(current)
}

fn split_parent(pointer: &str) -> Result<(String, String), PatchError> {
    let mut tokens = parse_pointer(pointer)?;
    let last = tokens
        .pop()
        .ok_or_else(|| PatchError::Invalid("the root cannot be removed or added into".into()))?;
    let parent = tokens
        .iter()
        .map(|t| format!("/{}", escape_token(t)))
        .collect::<String>();
    Ok((parent, last))
}

fn add(doc: &mut Value, pointer: &str, value: Value) -> Result<(), PatchError> {
    if pointer.is_empty() {
        *doc = value;
        return Ok(());
    }
    let (parent, last) = split_parent(pointer)?;
    match resolve_mut(doc, &parent)? {
        Value::Object(members) => {
            members.insert(last, value);
            Ok(())
        }
        Value::Array(items) => {
            let index = if last == "-" {
                items.len()
            } else {
                array_index(&last, items.len(), pointer, true)?
            };
            items.insert(index, value);
            Ok(())
        }
        _ => Err(PatchError::PathNotFound(pointer.into())),
    }
}

fn remove(doc: &mut Value, pointer: &str) -> Result<Value, PatchError> {
    let (parent, last) = split_parent(pointer)?;
    match resolve_mut(doc, &parent)? {
        Value::Object(members) => members
            .shift_remove(&last)
            .ok_or_else(|| PatchError::PathNotFound(pointer.into())),
        Value::Array(items) => {
            let index = array_index(&last, items.len(), pointer, false)?;
            Ok(items.remove(index))
        }
        _ => Err(PatchError::PathNotFound(pointer.into())),
    }
}
