//! Sprig string functions.

use super::args::{arity, string, strval};
use crate::func::{FuncMap, func};
use crate::value::Value;

pub(crate) fn register(m: &mut FuncMap) {
    m.insert(
        "upper".into(),
        func(|a| {
            arity(a, 1)?;
            Ok(Value::String(string(a, 0)?.to_uppercase()))
        }),
    );
    m.insert(
        "lower".into(),
        func(|a| {
            arity(a, 1)?;
            Ok(Value::String(string(a, 0)?.to_lowercase()))
        }),
    );
    m.insert(
        "quote".into(),
        func(|a| {
            let parts: Vec<String> = a
                .iter()
                .filter(|v| !v.is_nil())
                .map(|v| crate::gofmt::quote(&strval(v)))
                .collect();
            Ok(Value::String(parts.join(" ")))
        }),
    );
}
