//! Sprig defaults, JSON and type reflection: default/empty/coalesce/all/any/ternary,
//! toJson/fromJson (Go's encoding/json output), typeOf/kindOf/deepEqual.

use super::args::{arity, boolean, is_empty, reg, string};
use crate::func::{FuncError, FuncMap};
use crate::value::{MAX_VALUE_DEPTH, Value};

pub(crate) fn register(m: &mut FuncMap) {
    reg(m, "default", |a| {
        if a.is_empty() {
            return Err(FuncError::Arity {
                want: "at least 1".into(),
                got: 0,
            });
        }
        match a.get(1) {
            Some(g) if !is_empty(g) => Ok(g.clone()),
            _ => Ok(a[0].clone()),
        }
    });
    reg(m, "empty", |a| {
        arity(a, 1)?;
        Ok(Value::Bool(is_empty(&a[0])))
    });
    reg(m, "coalesce", |a| {
        Ok(a.iter().find(|v| !is_empty(v)).cloned().unwrap_or_default())
    });
    reg(m, "all", |a| {
        Ok(Value::Bool(a.iter().all(|v| !is_empty(v))))
    });
    reg(m, "any", |a| {
        Ok(Value::Bool(a.iter().any(|v| !is_empty(v))))
    });
    reg(m, "ternary", |a| {
        arity(a, 3)?;
        Ok(if boolean(a, 2)? {
            a[0].clone()
        } else {
            a[1].clone()
        })
    });
    reg(m, "fromJson", |a| {
        arity(a, 1)?;
        Ok(from_json(string(a, 0)?).unwrap_or_default())
    });
    reg(m, "mustFromJson", |a| {
        arity(a, 1)?;
        from_json(string(a, 0)?)
    });
    for (name, must, pretty, html) in [
        ("toJson", false, false, true),
        ("mustToJson", true, false, true),
        ("toPrettyJson", false, true, true),
        ("mustToPrettyJson", true, true, true),
        ("toRawJson", false, false, false),
        ("mustToRawJson", true, false, false),
    ] {
        reg(m, name, move |a| {
            arity(a, 1)?;
            match to_json(&a[0], pretty, html) {
                Ok(s) => Ok(Value::String(s)),
                Err(e) if must => Err(e),
                Err(_) => Ok(Value::String(String::new())),
            }
        });
    }
    reg(m, "typeOf", |a| {
        arity(a, 1)?;
        Ok(Value::String(a[0].type_name()))
    });
    reg(m, "typeIs", |a| {
        arity(a, 2)?;
        Ok(Value::Bool(string(a, 0)? == a[1].type_name()))
    });
    reg(m, "typeIsLike", |a| {
        arity(a, 2)?;
        let t = a[1].type_name();
        let target = string(a, 0)?;
        Ok(Value::Bool(target == t || format!("*{target}") == t))
    });
    reg(m, "kindOf", |a| {
        arity(a, 1)?;
        Ok(Value::String(a[0].kind_name().to_string()))
    });
    reg(m, "kindIs", |a| {
        arity(a, 2)?;
        Ok(Value::Bool(string(a, 0)? == a[1].kind_name()))
    });
    reg(m, "deepEqual", |a| {
        arity(a, 2)?;
        Ok(Value::Bool(a[0] == a[1]))
    });
}

/// Go's `json.Unmarshal` into `interface{}`: numbers become float64.
pub fn from_json(s: &str) -> Result<Value, FuncError> {
    serde_json::from_str::<serde_json::Value>(s)
        .map(Value::from_json_floats)
        .map_err(|e| FuncError::failed(e.to_string()))
}

/// Go's `json.Marshal` (or `MarshalIndent(v, "", "  ")` when `pretty`); `escape_html` escapes
/// `<`, `>` and `&` as Go's encoder does by default.
pub fn to_json(v: &Value, pretty: bool, escape_html: bool) -> Result<String, FuncError> {
    let mut out = String::new();
    write_json(v, &mut out, pretty, escape_html, 0)?;
    Ok(out)
}

fn newline(out: &mut String, pretty: bool, depth: usize) {
    if pretty {
        out.push('\n');
        for _ in 0..depth {
            out.push_str("  ");
        }
    }
}

fn write_json(
    v: &Value,
    out: &mut String,
    pretty: bool,
    html: bool,
    depth: usize,
) -> Result<(), FuncError> {
    if depth > MAX_VALUE_DEPTH {
        return Err(FuncError::failed(
            "json: unsupported value: encountered a cycle",
        ));
    }
    match v {
        Value::Nil => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::Float(f) => out.push_str(&json_float(*f)?),
        Value::String(s) => json_string(s, out, html),
        Value::List(l) => {
            if l.is_empty() {
                out.push_str("[]");
                return Ok(());
            }
            out.push('[');
            for (i, e) in l.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, pretty, depth + 1);
                write_json(e, out, pretty, html, depth + 1)?;
            }
            newline(out, pretty, depth);
            out.push(']');
        }
        Value::Map(m) => {
            let m = m.read();
            if m.is_empty() {
                out.push_str("{}");
                return Ok(());
            }
            out.push('{');
            for (i, (k, e)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, pretty, depth + 1);
                json_string(k, out, html);
                out.push(':');
                if pretty {
                    out.push(' ');
                }
                write_json(e, out, pretty, html, depth + 1)?;
            }
            newline(out, pretty, depth);
            out.push('}');
        }
        Value::Object(o) => write_json(&o.data(), out, pretty, html, depth + 1)?,
    }
    Ok(())
}

/// Go's float encoding: shortest digits, exponent form below 1e-6 or from 1e21.
fn json_float(f: f64) -> Result<String, FuncError> {
    if !f.is_finite() {
        return Err(FuncError::failed(format!(
            "json: unsupported value: {}",
            crate::gofmt::format_v(&Value::Float(f))
        )));
    }
    let a = f.abs();
    if a != 0.0 && !(1e-6..1e21).contains(&a) {
        // Shortest digits in exponent form, exponent without a leading zero ("1e-07" → "1e-7").
        let g = crate::gofmt::format_g(f, None, false);
        let g = if g.contains('e') {
            g
        } else {
            crate::gofmt::format_e(f, 6, false)
        };
        let (mant, exp) = g.split_once('e').unwrap_or((&g, "+00"));
        let sign = &exp[..1];
        let digits = exp[1..].trim_start_matches('0');
        return Ok(format!(
            "{mant}e{sign}{}",
            if digits.is_empty() { "0" } else { digits }
        ));
    }
    Ok(crate::gofmt::format_f_shortest(f))
}

fn json_string(s: &str, out: &mut String, html: bool) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            '<' | '>' | '&' if html => out.push_str(&format!("\\u{:04x}", c as u32)),
            '\u{2028}' | '\u{2029}' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}
