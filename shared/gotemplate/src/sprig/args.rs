//! Argument helpers shared by Sprig functions: arity checks and the conversions Sprig does with
//! `strval`, `cast.ToInt64` and `cast.ToFloat64`.

use crate::builtins::wrong_type;
use crate::func::{Func, FuncError, FuncMap, func};
use crate::gofmt;
use crate::value::Value;

pub(crate) use crate::builtins::{arity, arity_at_least};

/// Registers a context-free function.
pub(crate) fn reg<F>(m: &mut FuncMap, name: &str, f: F)
where
    F: Fn(&[Value]) -> Result<Value, FuncError> + Send + Sync + 'static,
{
    m.insert(name.to_string(), func(f));
}

/// Registers the same function under several names.
pub(crate) fn alias(m: &mut FuncMap, name: &str, existing: &str) {
    if let Some(f) = m.get(existing).cloned() {
        let f: Func = f;
        m.insert(name.to_string(), f);
    }
}

/// A `string` parameter: anything else is Go's "wrong type for value" error.
pub(crate) fn string(args: &[Value], i: usize) -> Result<&str, FuncError> {
    match args.get(i) {
        Some(Value::String(s)) => Ok(s),
        Some(v) => Err(wrong_type("string", v)),
        None => Err(FuncError::Invalid {
            expected: "string".into(),
        }),
    }
}

/// An `int` parameter: Go converts untyped constants, so ints are required.
pub(crate) fn int(args: &[Value], i: usize) -> Result<i64, FuncError> {
    match args.get(i) {
        Some(Value::Int(n)) => Ok(*n),
        Some(v) => Err(wrong_type("int", v)),
        None => Err(FuncError::Invalid {
            expected: "int".into(),
        }),
    }
}

/// A `bool` parameter.
pub(crate) fn boolean(args: &[Value], i: usize) -> Result<bool, FuncError> {
    match args.get(i) {
        Some(Value::Bool(b)) => Ok(*b),
        Some(v) => Err(wrong_type("bool", v)),
        None => Err(FuncError::Invalid {
            expected: "bool".into(),
        }),
    }
}

/// Sprig's `strval`: strings as is, nil as "", everything else `%v`.
pub(crate) fn strval(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        v => gofmt::format_v(v),
    }
}

/// `cast.ToInt64`: strings parsed (base prefixes allowed, ".0" suffix ignored), floats
/// truncated, anything unconvertible 0.
pub(crate) fn to_i64(v: &Value) -> i64 {
    match v {
        Value::Int(i) => *i,
        Value::Float(f) => *f as i64,
        Value::Bool(b) => i64::from(*b),
        Value::String(s) => {
            let t = s.trim();
            let t = trim_zero_decimal(t);
            match crate::parse::parse_number(t) {
                Some(Value::Int(i)) if !t.starts_with('\'') => i,
                _ => 0,
            }
        }
        _ => 0,
    }
}

/// cast's trimZeroDecimal: "3.00" → "3".
fn trim_zero_decimal(s: &str) -> &str {
    if let Some((int, frac)) = s.split_once('.')
        && !frac.is_empty()
        && frac.bytes().all(|b| b == b'0')
    {
        return int;
    }
    s
}

/// `cast.ToFloat64`.
pub(crate) fn to_f64(v: &Value) -> f64 {
    match v {
        Value::Int(i) => *i as f64,
        Value::Float(f) => *f,
        Value::Bool(b) => f64::from(u8::from(*b)),
        Value::String(s) => s.trim().parse().unwrap_or(0.0),
        _ => 0.0,
    }
}

/// Sprig's list coercion: a list (or a host object's list data), else an error naming the type.
pub(crate) fn list_arg(v: &Value, what: &str) -> Result<std::sync::Arc<Vec<Value>>, FuncError> {
    match v {
        Value::List(l) => Ok(l.clone()),
        Value::Object(o) => match o.data() {
            Value::List(l) => Ok(l),
            _ => Err(FuncError::failed(format!(
                "Cannot {what} on type {}",
                v.type_name()
            ))),
        },
        Value::Nil => Err(FuncError::failed(format!("Cannot {what} on type <nil>"))),
        other => Err(FuncError::failed(format!(
            "Cannot {what} on type {}",
            other.kind_name()
        ))),
    }
}

/// Go's `isEmptyValue` as Sprig's `empty` uses it.
pub(crate) fn is_empty(v: &Value) -> bool {
    match v {
        Value::Nil => true,
        Value::Bool(b) => !b,
        Value::Int(i) => *i == 0,
        Value::Float(f) => *f == 0.0,
        Value::String(s) => s.is_empty(),
        Value::List(l) => l.is_empty(),
        Value::Map(m) => m.is_empty(),
        Value::Object(_) => false,
    }
}

/// Output larger than this (e.g. `repeat 1000000000`) is refused instead of exhausting memory.
pub(crate) const MAX_OUTPUT: usize = 64 * 1024 * 1024;
