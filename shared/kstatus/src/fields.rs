//! Field access over unstructured JSON objects with kstatus' lenient rules (`GetIntField`,
//! `GetStringField`) and its strict ones (`NestedInt64`, conditions decoding).

use serde_json::Value;

use crate::Error;

/// Follows a path of object keys; `None` when a step is missing or not an object.
pub fn lookup<'a>(obj: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(obj, |v, key| v.as_object()?.get(*key))
}

/// `GetIntField`: the integer at `path`, or the default when absent or not an integer.
pub fn int_or(obj: &Value, path: &[&str], default: i64) -> i64 {
    lookup(obj, path).and_then(Value::as_i64).unwrap_or(default)
}

/// `GetStringField`: the string at `path`, or the default when absent or not a string.
pub fn str_or<'a>(obj: &'a Value, path: &[&str], default: &'a str) -> &'a str {
    lookup(obj, path).and_then(Value::as_str).unwrap_or(default)
}

/// `unstructured.NestedInt64`: absent is `None`, a value of another type is an error.
pub fn nested_i64(obj: &Value, path: &[&str]) -> Result<Option<i64>, Error> {
    match lookup(obj, path) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_i64().map(Some).ok_or_else(|| Error::InvalidField {
            field: path.join("."),
            expected: "an integer",
        }),
    }
}

/// `unstructured.NestedString`: absent is `None`, a value of another type is an error.
pub fn nested_str<'a>(obj: &'a Value, path: &[&str]) -> Result<Option<&'a str>, Error> {
    match lookup(obj, path) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_str().map(Some).ok_or_else(|| Error::InvalidField {
            field: path.join("."),
            expected: "a string",
        }),
    }
}

/// A condition as found in `.status.conditions` (kstatus' `BasicCondition`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BasicCondition {
    pub type_: String,
    pub status: String,
    pub reason: String,
    pub message: String,
}

fn string_field(item: &serde_json::Map<String, Value>, key: &str) -> Result<String, Error> {
    match item.get(key) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(Error::InvalidField {
            field: format!("status.conditions[].{key}"),
            expected: "a string",
        }),
    }
}

/// Decodes `.status.conditions` like `GetObjectWithConditions`: a malformed status or condition
/// list is an error, missing ones are empty.
pub fn conditions(obj: &Value) -> Result<Vec<BasicCondition>, Error> {
    let status = match obj.get("status") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Object(s)) => s,
        Some(_) => {
            return Err(Error::InvalidField {
                field: "status".into(),
                expected: "an object",
            });
        }
    };
    let list = match status.get("conditions") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(l)) => l,
        Some(_) => {
            return Err(Error::InvalidField {
                field: "status.conditions".into(),
                expected: "a list",
            });
        }
    };
    list.iter()
        .map(|item| match item {
            Value::Null => Ok(BasicCondition::default()),
            Value::Object(m) => Ok(BasicCondition {
                type_: string_field(m, "type")?,
                status: string_field(m, "status")?,
                reason: string_field(m, "reason")?,
                message: string_field(m, "message")?,
            }),
            _ => Err(Error::InvalidField {
                field: "status.conditions[]".into(),
                expected: "an object",
            }),
        })
        .collect()
}

/// The first condition of the type with the given status.
pub fn find<'a>(
    conds: &'a [BasicCondition],
    type_: &str,
    status: &str,
) -> Option<&'a BasicCondition> {
    conds
        .iter()
        .find(|c| c.type_ == type_ && c.status == status)
}
