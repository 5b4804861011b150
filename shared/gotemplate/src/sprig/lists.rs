//! Sprig list functions (lists are never mutated in place: `append` returns a new list).

use super::args::{arity, arity_at_least, int, is_empty, list_arg, reg, to_i64};
use crate::func::{FuncError, FuncMap};
use crate::value::Value;

/// Registers `name` and `mustName`; both return errors here (a Go panic in the non-must
/// variant also ends template execution with an error).
fn reg2<F>(m: &mut FuncMap, name: &str, f: F)
where
    F: Fn(&[Value]) -> Result<Value, FuncError> + Send + Sync + Clone + 'static,
{
    reg(m, name, f.clone());
    let mut must = String::from("must");
    let mut cs = name.chars();
    if let Some(c) = cs.next() {
        must.extend(c.to_uppercase());
        must.push_str(cs.as_str());
    }
    reg(m, &must, f);
}

pub(crate) fn register(m: &mut FuncMap) {
    reg(m, "list", |a| Ok(Value::list(a.to_vec())));
    reg(m, "tuple", |a| Ok(Value::list(a.to_vec())));
    reg2(m, "append", |a| {
        arity(a, 2)?;
        let mut l = list_arg(&a[0], "push")?.as_ref().clone();
        l.push(a[1].clone());
        Ok(Value::list(l))
    });
    reg2(m, "push", |a| {
        arity(a, 2)?;
        let mut l = list_arg(&a[0], "push")?.as_ref().clone();
        l.push(a[1].clone());
        Ok(Value::list(l))
    });
    reg2(m, "prepend", |a| {
        arity(a, 2)?;
        let l = list_arg(&a[0], "prepend")?;
        let mut out = Vec::with_capacity(l.len() + 1);
        out.push(a[1].clone());
        out.extend(l.iter().cloned());
        Ok(Value::list(out))
    });
    reg2(m, "first", |a| {
        arity(a, 1)?;
        Ok(list_arg(&a[0], "find first")?
            .first()
            .cloned()
            .unwrap_or_default())
    });
    reg2(m, "last", |a| {
        arity(a, 1)?;
        Ok(list_arg(&a[0], "find last")?
            .last()
            .cloned()
            .unwrap_or_default())
    });
    reg2(m, "rest", |a| {
        arity(a, 1)?;
        let l = list_arg(&a[0], "find rest")?;
        if l.is_empty() {
            return Ok(Value::Nil);
        }
        Ok(Value::list(l[1..].to_vec()))
    });
    reg2(m, "initial", |a| {
        arity(a, 1)?;
        let l = list_arg(&a[0], "find initial")?;
        if l.is_empty() {
            return Ok(Value::Nil);
        }
        Ok(Value::list(l[..l.len() - 1].to_vec()))
    });
    reg2(m, "reverse", |a| {
        arity(a, 1)?;
        let mut l = list_arg(&a[0], "find reverse")?.as_ref().clone();
        l.reverse();
        Ok(Value::list(l))
    });
    reg2(m, "uniq", |a| {
        arity(a, 1)?;
        let l = list_arg(&a[0], "find uniq")?;
        let mut out: Vec<Value> = Vec::new();
        for v in l.iter() {
            if !out.contains(v) {
                out.push(v.clone());
            }
        }
        Ok(Value::list(out))
    });
    reg2(m, "without", |a| {
        arity_at_least(a, 1)?;
        let l = list_arg(&a[0], "find without")?;
        let omit = &a[1..];
        Ok(Value::list(
            l.iter().filter(|v| !omit.contains(v)).cloned().collect(),
        ))
    });
    reg2(m, "has", |a| {
        arity(a, 2)?;
        if a[1].is_nil() {
            return Ok(Value::Bool(false));
        }
        let l = list_arg(&a[1], "find has")?;
        Ok(Value::Bool(l.contains(&a[0])))
    });
    reg2(m, "compact", |a| {
        arity(a, 1)?;
        let l = list_arg(&a[0], "compact")?;
        Ok(Value::list(
            l.iter().filter(|v| !is_empty(v)).cloned().collect(),
        ))
    });
    reg2(m, "slice", |a| {
        arity_at_least(a, 1)?;
        let l = match &a[0] {
            Value::List(l) => l.clone(),
            other => {
                return Err(FuncError::failed(format!(
                    "list should be type of slice or array but {}",
                    other.kind_name()
                )));
            }
        };
        let n = l.len() as i64;
        if n == 0 {
            return Ok(Value::Nil);
        }
        let start = a.get(1).map_or(0, to_i64);
        let end = a.get(2).map_or(n, to_i64);
        if start < 0 || end > n || start > end {
            return Err(FuncError::failed(format!(
                "reflect: slice index out of range [{start}:{end}] with capacity {n}"
            )));
        }
        Ok(Value::list(l[start as usize..end as usize].to_vec()))
    });
    reg2(m, "chunk", |a| {
        arity(a, 2)?;
        let size = int(a, 0)?;
        let l = list_arg(&a[1], "chunk")?;
        if size <= 0 {
            return Err(FuncError::failed("chunk size must be positive"));
        }
        Ok(Value::list(
            l.chunks(size as usize)
                .map(|c| Value::list(c.to_vec()))
                .collect(),
        ))
    });
    reg(m, "concat", |a| {
        let mut out = Vec::new();
        for v in a {
            out.extend(list_arg(v, "concat")?.iter().cloned());
        }
        Ok(Value::list(out))
    });
}
