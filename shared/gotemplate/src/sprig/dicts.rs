//! Sprig dict functions. Dicts are Go maps: `set`, `unset` and `merge` change them in place.

use std::collections::BTreeMap;

use super::args::{arity, arity_at_least, is_empty, reg, string, strval};
use crate::builtins::wrong_type;
use crate::func::{FuncError, FuncMap};
use crate::value::{MAX_VALUE_DEPTH, Map, Value};

/// A map parameter that may be nil: Go passes a nil map, which reads as empty (so
/// `hasKey .Values.missing "k"` is false, not an error).
fn map_or_nil(a: &[Value], i: usize) -> Result<Map, FuncError> {
    match a.get(i) {
        Some(Value::Nil) | None => Ok(Map::new()),
        _ => map_arg(a, i).cloned(),
    }
}

fn map_arg(a: &[Value], i: usize) -> Result<&Map, FuncError> {
    match a.get(i) {
        Some(Value::Map(m)) => Ok(m),
        Some(v) => Err(wrong_type("map[string]interface {}", v)),
        None => Err(FuncError::Invalid {
            expected: "map[string]interface {}".into(),
        }),
    }
}

pub(crate) fn register(m: &mut FuncMap) {
    reg(m, "dict", |a| {
        let mut d = BTreeMap::new();
        for pair in a.chunks(2) {
            let k = strval(&pair[0]);
            let v = pair.get(1).cloned().unwrap_or(Value::String(String::new()));
            d.insert(k, v);
        }
        Ok(Value::map(d))
    });
    reg(m, "get", |a| {
        arity(a, 2)?;
        let d = map_or_nil(a, 0)?;
        Ok(d.get(string(a, 1)?).unwrap_or(Value::String(String::new())))
    });
    reg(m, "set", |a| {
        arity(a, 3)?;
        let d = map_arg(a, 0)?;
        d.insert(string(a, 1)?, a[2].clone());
        Ok(a[0].clone())
    });
    reg(m, "unset", |a| {
        arity(a, 2)?;
        let d = map_or_nil(a, 0)?;
        d.remove(string(a, 1)?);
        Ok(a[0].clone())
    });
    reg(m, "hasKey", |a| {
        arity(a, 2)?;
        Ok(Value::Bool(map_or_nil(a, 0)?.contains_key(string(a, 1)?)))
    });
    reg(m, "pluck", |a| {
        arity_at_least(a, 1)?;
        let name = string(a, 0)?;
        let mut out = Vec::new();
        for i in 1..a.len() {
            if let Some(v) = map_or_nil(a, i)?.get(name) {
                out.push(v);
            }
        }
        Ok(Value::list(out))
    });
    reg(m, "keys", |a| {
        // Go's map order is random; sorted order is one valid answer and reproducible.
        let mut out = Vec::new();
        for i in 0..a.len() {
            out.extend(map_or_nil(a, i)?.keys().into_iter().map(Value::String));
        }
        Ok(Value::list(out))
    });
    reg(m, "values", |a| {
        arity(a, 1)?;
        Ok(Value::list(
            map_or_nil(a, 0)?.read().values().cloned().collect(),
        ))
    });
    reg(m, "pick", |a| {
        arity_at_least(a, 1)?;
        let d = map_or_nil(a, 0)?;
        let mut out = BTreeMap::new();
        for k in &a[1..] {
            let k = strval(k);
            if let Some(v) = d.get(&k) {
                out.insert(k, v);
            }
        }
        Ok(Value::map(out))
    });
    reg(m, "omit", |a| {
        arity_at_least(a, 1)?;
        let d = map_or_nil(a, 0)?;
        let drop: Vec<String> = a[1..].iter().map(strval).collect();
        let out: BTreeMap<String, Value> = d
            .read()
            .iter()
            .filter(|(k, _)| !drop.contains(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        Ok(Value::map(out))
    });
    for (name, overwrite) in [
        ("merge", false),
        ("mustMerge", false),
        ("mergeOverwrite", true),
        ("mustMergeOverwrite", true),
    ] {
        reg(m, name, move |a| {
            arity_at_least(a, 1)?;
            let dst = map_arg(a, 0)?;
            for i in 1..a.len() {
                let src = map_or_nil(a, i)?;
                if src.ptr_eq(dst) {
                    continue;
                }
                merge_into(dst, &src, overwrite, 0);
            }
            Ok(a[0].clone())
        });
    }
    reg(m, "dig", |a| {
        arity_at_least(a, 3)?;
        let d = map_or_nil(a, a.len() - 1)?;
        let default = a[a.len() - 2].clone();
        let keys = &a[..a.len() - 2];
        let mut cur = Value::Map(d.clone());
        for k in keys {
            let k = string(std::slice::from_ref(k), 0)?;
            let next = match &cur {
                Value::Map(m) => m.get(k),
                _ => None,
            };
            match next {
                Some(v) => cur = v,
                None => return Ok(default),
            }
        }
        Ok(cur)
    });
    reg(m, "deepCopy", |a| {
        arity(a, 1)?;
        Ok(a[0].deep_copy())
    });
    reg(m, "mustDeepCopy", |a| {
        arity(a, 1)?;
        if a[0].is_nil() {
            return Err(FuncError::failed("must pass non nil value"));
        }
        Ok(a[0].deep_copy())
    });
}

/// mergo's map merge as Sprig calls it: missing or empty destination entries are filled, nested
/// maps merged recursively; with `overwrite`, source entries replace destination ones.
pub(crate) fn merge_into(dst: &Map, src: &Map, overwrite: bool, depth: usize) {
    if depth > MAX_VALUE_DEPTH {
        return;
    }
    let entries = src.snapshot();
    for (k, sv) in entries {
        let dv = dst.get(&k);
        match (&dv, &sv) {
            (Some(Value::Map(dm)), Value::Map(sm)) => {
                if !dm.ptr_eq(sm) {
                    merge_into(dm, sm, overwrite, depth + 1);
                }
            }
            (_, Value::Nil) => {
                if overwrite {
                    dst.insert(k, Value::Nil);
                }
            }
            (Some(d), _) if !is_empty(d) && !overwrite => {}
            _ => {
                dst.insert(k, sv);
            }
        }
    }
}
