//! JSON merge patch (RFC 7386), the `application/merge-patch+json` patch type.

use serde_json::{Map, Value};

/// Applies `patch` to `doc` as RFC 7386 describes: objects merge recursively, `null` deletes a
/// member, anything else (arrays included) replaces the target wholesale.
pub fn apply(doc: &Value, patch: &Value) -> Value {
    let Value::Object(patch_members) = patch else {
        return patch.clone();
    };
    let mut target = match doc {
        Value::Object(members) => members.clone(),
        _ => Map::new(),
    };
    for (key, value) in patch_members {
        if value.is_null() {
            target.remove(key);
        } else {
            let merged = apply(target.get(key).unwrap_or(&Value::Null), value);
            target.insert(key.clone(), merged);
        }
    }
    Value::Object(target)
}
