//! Sprig regex functions (Go's RE2 syntax, which Rust's `regex` shares; `$1`/`${name}`
//! expansion in replacements works the same way). Compiled patterns are cached per function set.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use regex::Regex;

use super::args::{arity, int, reg, string};
use crate::func::{FuncError, FuncMap};
use crate::value::Value;

/// Go's RE2 `\d`, `\w`, `\s` and `\b` are ASCII-only; Rust's are Unicode-aware. Rewrites
/// them to their ASCII meaning (inside and outside bracket classes).
fn ascii_perl_classes(pat: &str) -> String {
    let mut out = String::with_capacity(pat.len() + 16);
    let cs: Vec<char> = pat.chars().collect();
    let mut i = 0;
    let mut in_class = false;
    while i < cs.len() {
        let c = cs[i];
        if c == '\\' && i + 1 < cs.len() {
            let e = cs[i + 1];
            let rep = match (in_class, e) {
                (false, 'd') => Some("[0-9]"),
                (false, 'D') => Some("[^0-9]"),
                (false, 'w') => Some("[0-9A-Za-z_]"),
                (false, 'W') => Some("[^0-9A-Za-z_]"),
                (false, 's') => Some("[\\t\\n\\f\\r ]"),
                (false, 'S') => Some("[^\\t\\n\\f\\r ]"),
                (false, 'b') => Some("(?-u:\\b)"),
                (false, 'B') => Some("(?-u:\\B)"),
                (true, 'd') => Some("0-9"),
                (true, 'w') => Some("0-9A-Za-z_"),
                (true, 's') => Some("\\t\\n\\f\\r "),
                (true, 'D') => Some("[:^digit:]"),
                (true, 'W') => Some("[:^word:]"),
                (true, 'S') => Some("[:^space:]"),
                _ => None,
            };
            match rep {
                Some(r) => out.push_str(r),
                None => {
                    out.push(c);
                    out.push(e);
                }
            }
            i += 2;
            continue;
        }
        if !in_class && c == '[' {
            in_class = true;
            out.push(c);
            i += 1;
            if cs.get(i) == Some(&'^') {
                out.push('^');
                i += 1;
            }
            // A `]` right after the opening bracket is a literal.
            if cs.get(i) == Some(&']') {
                out.push(']');
                i += 1;
            }
            continue;
        }
        if in_class && c == '[' && cs.get(i + 1) == Some(&':') {
            // POSIX class `[:alpha:]`: copy through its closing `:]`.
            while i < cs.len() {
                out.push(cs[i]);
                if cs[i] == ']' && i > 0 && cs[i - 1] == ':' {
                    i += 1;
                    break;
                }
                i += 1;
            }
            continue;
        }
        if in_class && c == ']' {
            in_class = false;
        }
        out.push(c);
        i += 1;
    }
    out
}

/// A small bounded cache so loops do not recompile the same pattern.
#[derive(Clone, Default)]
struct Cache(Arc<Mutex<HashMap<String, Regex>>>);

impl Cache {
    fn get(&self, pat: &str) -> Result<Regex, FuncError> {
        let mut m = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(r) = m.get(pat) {
            return Ok(r.clone());
        }
        let r = regex::RegexBuilder::new(&ascii_perl_classes(pat))
            .size_limit(8 * 1024 * 1024)
            .build()
            .map_err(|e| FuncError::failed(format!("error parsing regexp: {e}")))?;
        if m.len() > 256 {
            m.clear();
        }
        m.insert(pat.to_string(), r.clone());
        Ok(r)
    }
}

fn both(
    m: &mut FuncMap,
    name: &str,
    f: impl Fn(&[Value]) -> Result<Value, FuncError> + Send + Sync + Clone + 'static,
) {
    reg(m, name, f.clone());
    let must = format!("must{}{}", name[..1].to_uppercase(), &name[1..]);
    reg(m, &must, f);
}

pub(crate) fn register(m: &mut FuncMap) {
    let c = Cache::default();
    let k = c.clone();
    both(m, "regexMatch", move |a| {
        arity(a, 2)?;
        Ok(Value::Bool(k.get(string(a, 0)?)?.is_match(string(a, 1)?)))
    });
    let k = c.clone();
    both(m, "regexFindAll", move |a| {
        arity(a, 3)?;
        let r = k.get(string(a, 0)?)?;
        let n = int(a, 2)?;
        let it = r
            .find_iter(string(a, 1)?)
            .map(|x| Value::String(x.as_str().to_string()));
        let v: Vec<Value> = if n < 0 {
            it.collect()
        } else {
            it.take(n as usize).collect()
        };
        Ok(Value::list(v))
    });
    let k = c.clone();
    both(m, "regexFind", move |a| {
        arity(a, 2)?;
        let r = k.get(string(a, 0)?)?;
        Ok(Value::String(
            r.find(string(a, 1)?)
                .map(|x| x.as_str().to_string())
                .unwrap_or_default(),
        ))
    });
    let k = c.clone();
    both(m, "regexReplaceAll", move |a| {
        arity(a, 3)?;
        let r = k.get(string(a, 0)?)?;
        Ok(Value::String(
            r.replace_all(string(a, 1)?, string(a, 2)?).into_owned(),
        ))
    });
    let k = c.clone();
    both(m, "regexReplaceAllLiteral", move |a| {
        arity(a, 3)?;
        let r = k.get(string(a, 0)?)?;
        Ok(Value::String(
            r.replace_all(string(a, 1)?, regex::NoExpand(string(a, 2)?))
                .into_owned(),
        ))
    });
    let k = c;
    both(m, "regexSplit", move |a| {
        arity(a, 3)?;
        let r = k.get(string(a, 0)?)?;
        let s = string(a, 1)?;
        let n = int(a, 2)?;
        let v: Vec<Value> = go_split(&r, s, n).into_iter().map(Value::String).collect();
        Ok(Value::list(v))
    });
    reg(m, "regexQuoteMeta", |a| {
        arity(a, 1)?;
        let s = string(a, 0)?;
        let mut out = String::with_capacity(s.len());
        for ch in s.chars() {
            if r"\.+*?()|[]{}^$".contains(ch) {
                out.push('\\');
            }
            out.push(ch);
        }
        Ok(Value::String(out))
    });
}

/// Go's `Regexp.Split`: empty matches at the start add nothing and a trailing empty piece is
/// dropped, unlike a plain split.
fn go_split(re: &Regex, s: &str, n: i64) -> Vec<String> {
    if n == 0 {
        return Vec::new();
    }
    if !re.as_str().is_empty() && s.is_empty() {
        return vec![String::new()];
    }
    let limit = usize::try_from(n).ok();
    let mut out = Vec::new();
    let (mut beg, mut end) = (0usize, 0usize);
    for m in re.find_iter(s) {
        if limit.is_some_and(|l| out.len() == l - 1) {
            break;
        }
        end = m.start();
        if m.end() != 0 {
            out.push(s[beg..end].to_string());
        }
        beg = m.end();
    }
    if end != s.len() {
        out.push(s[beg..].to_string());
    }
    out
}
