//! Go's predefined template functions (`and`/`or` are in the executor: they short-circuit).

use std::cmp::Ordering;

use crate::func::FuncError;
use crate::gofmt;
use crate::value::Value;

pub(crate) type Builtin = fn(&[Value]) -> Result<Value, FuncError>;

pub(crate) fn lookup(name: &str) -> Option<Builtin> {
    Some(match name {
        "not" => not,
        "len" => len,
        "index" => index,
        "slice" => slice,
        "print" => |a| Ok(Value::String(gofmt::sprint(a))),
        "println" => |a| Ok(Value::String(gofmt::sprintln(a))),
        "printf" => printf,
        "html" => |a| Ok(Value::String(html_escape(&eval_args(a)))),
        "js" => |a| Ok(Value::String(js_escape(&eval_args(a)))),
        "urlquery" => |a| Ok(Value::String(query_escape(&eval_args(a)))),
        "eq" => eq,
        "ne" => ne,
        "lt" => |a| cmp_builtin(a, "lt", |o| o == Ordering::Less),
        "le" => |a| cmp_builtin(a, "le", |o| o != Ordering::Greater),
        "gt" => |a| cmp_builtin(a, "gt", |o| o == Ordering::Greater),
        "ge" => |a| cmp_builtin(a, "ge", |o| o != Ordering::Less),
        "call" => call,
        _ => return None,
    })
}

pub(crate) fn arity(args: &[Value], want: usize) -> Result<(), FuncError> {
    if args.len() != want {
        return Err(FuncError::Arity {
            want: want.to_string(),
            got: args.len(),
        });
    }
    Ok(())
}

pub(crate) fn arity_at_least(args: &[Value], want: usize) -> Result<(), FuncError> {
    if args.len() < want {
        return Err(FuncError::Arity {
            want: format!("at least {want}"),
            got: args.len(),
        });
    }
    Ok(())
}

fn not(a: &[Value]) -> Result<Value, FuncError> {
    arity(a, 1)?;
    Ok(Value::Bool(!a[0].truthy()))
}

fn len(a: &[Value]) -> Result<Value, FuncError> {
    arity(a, 1)?;
    let v = match &a[0] {
        Value::Object(o) => o.data(),
        v => v.clone(),
    };
    match v {
        Value::String(s) => Ok(Value::from(s.len())),
        Value::List(l) => Ok(Value::from(l.len())),
        Value::Map(m) => Ok(Value::from(m.len())),
        Value::Nil => Err(FuncError::failed("len of nil pointer")),
        other => Err(FuncError::failed(format!(
            "len of type {}",
            other.type_name()
        ))),
    }
}

fn index_of(v: &Value, len: usize) -> Result<usize, FuncError> {
    match v {
        Value::Int(i) => {
            let i = usize::try_from(*i)
                .map_err(|_| FuncError::failed(format!("index out of range: {i}")))?;
            if i >= len {
                return Err(FuncError::failed(format!("index out of range: {i}")));
            }
            Ok(i)
        }
        Value::Nil => Err(FuncError::failed("cannot index slice/array with nil")),
        other => Err(FuncError::failed(format!(
            "cannot index slice/array with type {}",
            other.type_name()
        ))),
    }
}

fn index(a: &[Value]) -> Result<Value, FuncError> {
    arity_at_least(a, 1)?;
    let mut item = a[0].clone();
    for idx in &a[1..] {
        if let Value::Object(o) = &item {
            item = o.data();
        }
        item = match &item {
            Value::List(l) => l[index_of(idx, l.len())?].clone(),
            Value::String(s) => Value::Int(i64::from(s.as_bytes()[index_of(idx, s.len())?])),
            Value::Map(m) => match idx {
                Value::String(k) => m.get(k).unwrap_or(Value::Nil),
                Value::Nil => {
                    return Err(FuncError::failed("value is nil; should be of type string"));
                }
                other => {
                    return Err(FuncError::failed(format!(
                        "value has type {}; should be string",
                        other.type_name()
                    )));
                }
            },
            Value::Nil => return Err(FuncError::failed("index of untyped nil")),
            other => {
                return Err(FuncError::failed(format!(
                    "can't index item of type {}",
                    other.type_name()
                )));
            }
        };
    }
    Ok(item)
}

fn slice(a: &[Value]) -> Result<Value, FuncError> {
    arity_at_least(a, 1)?;
    if a.len() > 4 {
        return Err(FuncError::failed(format!(
            "too many slice indexes: {}",
            a.len() - 1
        )));
    }
    let len = match &a[0] {
        Value::List(l) => l.len(),
        Value::String(s) => {
            if a.len() > 3 {
                return Err(FuncError::failed("cannot 3-index slice a string"));
            }
            s.len()
        }
        Value::Nil => return Err(FuncError::failed("slice of untyped nil")),
        other => {
            return Err(FuncError::failed(format!(
                "can't slice item of type {}",
                other.type_name()
            )));
        }
    };
    let mut idx = [0usize, len, len];
    for (i, v) in a[1..].iter().enumerate() {
        let n = match v {
            Value::Int(n) => usize::try_from(*n)
                .map_err(|_| FuncError::failed(format!("index out of range: {n}")))?,
            other => {
                return Err(FuncError::failed(format!(
                    "cannot index slice/array with type {}",
                    other.type_name()
                )));
            }
        };
        if n > len {
            return Err(FuncError::failed(format!("index out of range: {n}")));
        }
        idx[i] = n;
    }
    if idx[0] > idx[1] {
        return Err(FuncError::failed(format!(
            "invalid slice index: {} > {}",
            idx[0], idx[1]
        )));
    }
    match &a[0] {
        Value::List(l) => Ok(Value::list(l[idx[0]..idx[1]].to_vec())),
        Value::String(s) => match s.get(idx[0]..idx[1]) {
            Some(sub) => Ok(Value::String(sub.to_string())),
            None => Ok(Value::String(
                String::from_utf8_lossy(&s.as_bytes()[idx[0]..idx[1]]).into_owned(),
            )),
        },
        _ => Ok(Value::Nil),
    }
}

fn printf(a: &[Value]) -> Result<Value, FuncError> {
    arity_at_least(a, 1)?;
    let Value::String(f) = &a[0] else {
        return Err(wrong_type("string", &a[0]));
    };
    Ok(Value::String(gofmt::sprintf(f, &a[1..])))
}

pub(crate) fn wrong_type(expected: &str, got: &Value) -> FuncError {
    match got {
        Value::Nil => FuncError::Invalid {
            expected: expected.to_string(),
        },
        v => FuncError::WrongType {
            expected: expected.to_string(),
            got: v.type_name(),
        },
    }
}

/// Go's `evalArgs` for html/js/urlquery: a lone string as is, else `fmt.Sprint` with missing
/// values printed as the string `<no value>`.
fn eval_args(a: &[Value]) -> String {
    if let [Value::String(s)] = a {
        return s.clone();
    }
    let printable: Vec<Value> = a
        .iter()
        .map(|v| match v {
            Value::Nil => Value::String("<no value>".into()),
            v => v.clone(),
        })
        .collect();
    gofmt::sprint(&printable)
}

/// Values here are never functions, so `call` can only fail, with Go's wording.
fn call(a: &[Value]) -> Result<Value, FuncError> {
    arity_at_least(a, 1)?;
    match &a[0] {
        Value::Nil => Err(FuncError::failed("call of nil")),
        v => Err(FuncError::failed(format!(
            "non-function of type {}",
            v.type_name()
        ))),
    }
}

pub(crate) fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\0' => out.push('\u{FFFD}'),
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

fn js_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            '<' => out.push_str("\\u003C"),
            '>' => out.push_str("\\u003E"),
            '&' => out.push_str("\\u0026"),
            '=' => out.push_str("\\u003D"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04X}", c as u32)),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// Go's `url.QueryEscape`.
pub(crate) fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Go's basic kinds for comparison.
#[derive(PartialEq)]
enum Kind {
    Bool,
    Int,
    Float,
    Str,
    Other,
    Invalid,
}

fn kind(v: &Value) -> Kind {
    match v {
        Value::Bool(_) => Kind::Bool,
        Value::Int(_) => Kind::Int,
        Value::Float(_) => Kind::Float,
        Value::String(_) => Kind::Str,
        Value::Nil => Kind::Invalid,
        _ => Kind::Other,
    }
}

const BAD_COMPARISON: &str = "incompatible types for comparison";
const BAD_COMPARISON_TYPE: &str = "invalid type for comparison";

/// Go's `eq`: true if the first argument equals any of the others.
fn eq(a: &[Value]) -> Result<Value, FuncError> {
    arity_at_least(a, 1)?;
    if a.len() < 2 {
        return Err(FuncError::failed("missing argument for comparison"));
    }
    let a1 = &a[0];
    let k1 = kind(a1);
    for b in &a[1..] {
        let k2 = kind(b);
        let truth = if k1 != k2 {
            if k1 != Kind::Invalid && k2 != Kind::Invalid {
                return Err(FuncError::failed(BAD_COMPARISON));
            }
            false
        } else {
            match (a1, b) {
                (Value::Bool(x), Value::Bool(y)) => x == y,
                (Value::Int(x), Value::Int(y)) => x == y,
                (Value::Float(x), Value::Float(y)) => x == y,
                (Value::String(x), Value::String(y)) => x == y,
                (Value::Nil, Value::Nil) => true,
                (x, _) => {
                    return Err(FuncError::failed(format!(
                        "non-comparable type {}: {}",
                        gofmt::format_v(x),
                        x.type_name()
                    )));
                }
            }
        };
        if truth {
            return Ok(Value::Bool(true));
        }
    }
    Ok(Value::Bool(false))
}

fn ne(a: &[Value]) -> Result<Value, FuncError> {
    arity(a, 2)?;
    let Value::Bool(b) = eq(a)? else {
        return Ok(Value::Bool(false));
    };
    Ok(Value::Bool(!b))
}

fn cmp_builtin(a: &[Value], _name: &str, f: fn(Ordering) -> bool) -> Result<Value, FuncError> {
    arity(a, 2)?;
    let (k1, k2) = (kind(&a[0]), kind(&a[1]));
    if matches!(k1, Kind::Other | Kind::Invalid) || matches!(k2, Kind::Other | Kind::Invalid) {
        return Err(FuncError::failed(BAD_COMPARISON_TYPE));
    }
    if k1 != k2 {
        return Err(FuncError::failed(BAD_COMPARISON));
    }
    let ord = match (&a[0], &a[1]) {
        (Value::Int(x), Value::Int(y)) => x.cmp(y),
        (Value::Float(x), Value::Float(y)) => match x.partial_cmp(y) {
            Some(o) => o,
            // NaN compares false for lt and eq alike.
            None => return Ok(Value::Bool(false)),
        },
        (Value::String(x), Value::String(y)) => x.cmp(y),
        _ => return Err(FuncError::failed(BAD_COMPARISON_TYPE)),
    };
    Ok(Value::Bool(f(ord)))
}
