//! Argument helpers shared by Sprig functions: arity checks and Go-like conversions.
#![allow(dead_code, unused_imports)]

use crate::builtins::wrong_type;
use crate::func::FuncError;
use crate::gofmt;
use crate::value::Value;

pub(crate) use crate::builtins::{arity, arity_at_least};

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

/// Sprig's `strval`: strings as is, nil as "", everything else `%v`.
pub(crate) fn strval(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Nil => String::new(),
        v => gofmt::format_v(v),
    }
}

/// cast.ToInt64-like conversion used by Sprig's math: strings are parsed, floats truncated.
pub(crate) fn to_i64(v: &Value) -> i64 {
    match v {
        Value::Int(i) => *i,
        Value::Float(f) => *f as i64,
        Value::Bool(b) => i64::from(*b),
        Value::String(s) => {
            let t = s.trim();
            crate::parse::parse_number(t)
                .and_then(|n| match n {
                    Value::Int(i) => Some(i),
                    _ => None,
                })
                .or_else(|| t.parse::<f64>().ok().map(|f| f as i64))
                .unwrap_or(0)
        }
        _ => 0,
    }
}

/// cast.ToFloat64-like conversion.
pub(crate) fn to_f64(v: &Value) -> f64 {
    match v {
        Value::Int(i) => *i as f64,
        Value::Float(f) => *f,
        Value::Bool(b) => f64::from(u8::from(*b)),
        Value::String(s) => s.trim().parse().unwrap_or(0.0),
        _ => 0.0,
    }
}

/// An `int` parameter (Go converts untyped constants; values must already be ints).
pub(crate) fn int(args: &[Value], i: usize) -> Result<i64, FuncError> {
    match args.get(i) {
        Some(Value::Int(n)) => Ok(*n),
        Some(v) => Err(wrong_type("int", v)),
        None => Err(FuncError::Invalid {
            expected: "int".into(),
        }),
    }
}
