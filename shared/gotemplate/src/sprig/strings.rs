//! Sprig string functions: trimming, case, padding, splitting, quoting, random strings.

use std::collections::BTreeMap;

use super::args::{MAX_OUTPUT, alias, arity, int, reg, string, strval};
use crate::func::{FuncError, FuncMap};
use crate::gofmt;
use crate::value::Value;

fn s(v: impl Into<String>) -> Result<Value, FuncError> {
    Ok(Value::String(v.into()))
}

pub(crate) fn register(m: &mut FuncMap) {
    reg(m, "hello", |a| {
        arity(a, 0)?;
        s("Hello!")
    });
    reg(m, "upper", |a| {
        arity(a, 1)?;
        s(string(a, 0)?.to_uppercase())
    });
    reg(m, "lower", |a| {
        arity(a, 1)?;
        s(string(a, 0)?.to_lowercase())
    });
    reg(m, "title", |a| {
        arity(a, 1)?;
        s(title(string(a, 0)?))
    });
    reg(m, "untitle", |a| {
        arity(a, 1)?;
        s(map_words(string(a, 0)?, |w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_lowercase().chain(c).collect())
                .unwrap_or_default()
        }))
    });
    reg(m, "trim", |a| {
        arity(a, 1)?;
        s(string(a, 0)?.trim())
    });
    reg(m, "trimAll", |a| {
        arity(a, 2)?;
        let cut: Vec<char> = string(a, 0)?.chars().collect();
        s(string(a, 1)?.trim_matches(|c| cut.contains(&c)))
    });
    alias(m, "trimall", "trimAll");
    reg(m, "trimSuffix", |a| {
        arity(a, 2)?;
        let (suf, v) = (string(a, 0)?, string(a, 1)?);
        s(v.strip_suffix(suf).unwrap_or(v))
    });
    reg(m, "trimPrefix", |a| {
        arity(a, 2)?;
        let (pre, v) = (string(a, 0)?, string(a, 1)?);
        s(v.strip_prefix(pre).unwrap_or(v))
    });
    reg(m, "nospace", |a| {
        arity(a, 1)?;
        s(string(a, 0)?
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>())
    });
    reg(m, "trunc", |a| {
        arity(a, 2)?;
        let c = int(a, 0)?;
        let v = string(a, 1)?;
        let n = v.len() as i64;
        let out = if c < 0 && n + c > 0 {
            byte_slice(v, (n + c) as usize, v.len())
        } else if c >= 0 && n > c {
            byte_slice(v, 0, c as usize)
        } else {
            v.to_string()
        };
        s(out)
    });
    reg(m, "abbrev", |a| {
        arity(a, 2)?;
        let w = int(a, 0)?;
        let v = string(a, 1)?;
        if w < 4 || v.len() as i64 <= w {
            return s(v);
        }
        s(format!("{}...", byte_slice(v, 0, (w - 3) as usize)))
    });
    reg(m, "abbrevboth", |a| {
        arity(a, 3)?;
        let (left, right) = (int(a, 0)?, int(a, 1)?);
        let v = string(a, 2)?;
        if right < 4 || (left > 0 && right < 7) {
            return s(v);
        }
        s(abbreviate_full(v, left.max(0) as usize, right as usize))
    });
    reg(m, "substr", |a| {
        arity(a, 3)?;
        let (start, end) = (int(a, 0)?, int(a, 1)?);
        let v = string(a, 2)?;
        let n = v.len() as i64;
        let out = if start < 0 {
            byte_slice(v, 0, end.clamp(0, n) as usize)
        } else if end < 0 || end > n {
            byte_slice(v, start.min(n) as usize, v.len())
        } else {
            if start > end {
                return Err(FuncError::failed(format!(
                    "slice bounds out of range [{start}:{end}]"
                )));
            }
            byte_slice(v, start as usize, end as usize)
        };
        s(out)
    });
    reg(m, "repeat", |a| {
        arity(a, 2)?;
        let c = int(a, 0)?;
        let v = string(a, 1)?;
        if c < 0 {
            return Err(FuncError::failed("strings: negative Repeat count"));
        }
        if (c as u128) * (v.len() as u128) > MAX_OUTPUT as u128 {
            return Err(FuncError::failed("strings: Repeat output length too large"));
        }
        s(v.repeat(c as usize))
    });
    reg(m, "initials", |a| {
        arity(a, 1)?;
        s(string(a, 0)?
            .split_whitespace()
            .filter_map(|w| w.chars().next())
            .collect::<String>())
    });
    reg(m, "swapcase", |a| {
        arity(a, 1)?;
        s(swapcase(string(a, 0)?))
    });
    reg(m, "shuffle", |a| {
        arity(a, 1)?;
        let mut cs: Vec<char> = string(a, 0)?.chars().collect();
        fastrand::shuffle(&mut cs);
        s(cs.into_iter().collect::<String>())
    });
    reg(m, "snakecase", |a| {
        arity(a, 1)?;
        s(lower_case_words(string(a, 0)?, '_'))
    });
    reg(m, "kebabcase", |a| {
        arity(a, 1)?;
        s(lower_case_words(string(a, 0)?, '-'))
    });
    reg(m, "camelcase", |a| {
        arity(a, 1)?;
        s(camelcase(string(a, 0)?))
    });
    reg(m, "wrap", |a| {
        arity(a, 2)?;
        s(wrap(string(a, 1)?, int(a, 0)?, "\n", false))
    });
    reg(m, "wrapWith", |a| {
        arity(a, 3)?;
        s(wrap(string(a, 2)?, int(a, 0)?, string(a, 1)?, true))
    });
    reg(m, "contains", |a| {
        arity(a, 2)?;
        Ok(Value::Bool(string(a, 1)?.contains(string(a, 0)?)))
    });
    reg(m, "hasPrefix", |a| {
        arity(a, 2)?;
        Ok(Value::Bool(string(a, 1)?.starts_with(string(a, 0)?)))
    });
    reg(m, "hasSuffix", |a| {
        arity(a, 2)?;
        Ok(Value::Bool(string(a, 1)?.ends_with(string(a, 0)?)))
    });
    reg(m, "quote", |a| {
        let parts: Vec<String> = a
            .iter()
            .filter(|v| !v.is_nil())
            .map(|v| gofmt::quote(&strval(v)))
            .collect();
        s(parts.join(" "))
    });
    reg(m, "squote", |a| {
        let parts: Vec<String> = a
            .iter()
            .filter(|v| !v.is_nil())
            .map(|v| format!("'{}'", strval(v)))
            .collect();
        s(parts.join(" "))
    });
    reg(m, "cat", |a| {
        let parts: Vec<String> = a.iter().filter(|v| !v.is_nil()).map(strval).collect();
        s(parts.join(" "))
    });
    reg(m, "indent", |a| {
        arity(a, 2)?;
        s(indent(int(a, 0)?, string(a, 1)?)?)
    });
    reg(m, "nindent", |a| {
        arity(a, 2)?;
        s(format!("\n{}", indent(int(a, 0)?, string(a, 1)?)?))
    });
    reg(m, "replace", |a| {
        arity(a, 3)?;
        let (old, new, src) = (string(a, 0)?, string(a, 1)?, string(a, 2)?);
        s(go_replace_all(src, old, new)?)
    });
    reg(m, "plural", |a| {
        arity(a, 3)?;
        let (one, many) = (string(a, 0)?, string(a, 1)?);
        s(if int(a, 2)? == 1 { one } else { many })
    });
    reg(m, "toString", |a| {
        arity(a, 1)?;
        s(strval(&a[0]))
    });
    reg(m, "toStrings", |a| {
        arity(a, 1)?;
        Ok(Value::list(
            strslice(&a[0]).into_iter().map(Value::String).collect(),
        ))
    });
    reg(m, "join", |a| {
        arity(a, 2)?;
        let sep = string(a, 0)?;
        s(strslice(&a[1]).join(sep))
    });
    reg(m, "sortAlpha", |a| {
        arity(a, 1)?;
        let mut v = match &a[0] {
            Value::List(_) => strslice(&a[0]),
            other => vec![strval(other)],
        };
        v.sort();
        Ok(Value::list(v.into_iter().map(Value::String).collect()))
    });
    reg(m, "split", |a| {
        arity(a, 2)?;
        let (sep, orig) = (string(a, 0)?, string(a, 1)?);
        Ok(indexed_map(go_split(orig, sep, -1)))
    });
    reg(m, "splitList", |a| {
        arity(a, 2)?;
        let (sep, orig) = (string(a, 0)?, string(a, 1)?);
        Ok(Value::list(
            go_split(orig, sep, -1)
                .into_iter()
                .map(Value::String)
                .collect(),
        ))
    });
    reg(m, "splitn", |a| {
        arity(a, 3)?;
        let sep = string(a, 0)?;
        let n = int(a, 1)?;
        let orig = string(a, 2)?;
        Ok(indexed_map(go_split(orig, sep, n)))
    });
    reg(m, "randAlphaNum", |a| rand_string(a, ALNUM));
    reg(m, "randAlpha", |a| rand_string(a, ALPHA));
    reg(m, "randNumeric", |a| rand_string(a, b"0123456789"));
    reg(m, "randAscii", |a| {
        arity(a, 1)?;
        let n = count(a)?;
        s((0..n)
            .map(|_| char::from(fastrand::u8(32..=126)))
            .collect::<String>())
    });
    reg(m, "atoi", |a| {
        arity(a, 1)?;
        Ok(Value::Int(string(a, 0)?.parse::<i64>().unwrap_or(0)))
    });
    reg(m, "toDecimal", |a| {
        arity(a, 1)?;
        let v = strval(&a[0]);
        Ok(Value::Int(i64::from_str_radix(&v, 8).unwrap_or(0)))
    });
    reg(m, "seq", |a| {
        let p: Vec<i64> = (0..a.len()).map(|i| int(a, i)).collect::<Result<_, _>>()?;
        let (start, step, end) = match p.as_slice() {
            [] => return s(""),
            [e] => (1, if *e < 1 { -1 } else { 1 }, *e),
            [st, e] => (*st, if e < st { -1 } else { 1 }, *e),
            [st, sp, e] => (*st, *sp, *e),
            _ => return Err(FuncError::failed("seq: too many arguments")),
        };
        let stop = if step > 0 {
            end.saturating_add(1)
        } else {
            end.saturating_sub(1)
        };
        let items = until_step(start, stop, step)?;
        s(items
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(" "))
    });
    reg(m, "until", |a| {
        arity(a, 1)?;
        let n = int(a, 0)?;
        let step = if n < 0 { -1 } else { 1 };
        Ok(Value::list(
            until_step(0, n, step)?
                .into_iter()
                .map(Value::Int)
                .collect(),
        ))
    });
    reg(m, "untilStep", |a| {
        arity(a, 3)?;
        let (st, stop, step) = (int(a, 0)?, int(a, 1)?, int(a, 2)?);
        Ok(Value::list(
            until_step(st, stop, step)?
                .into_iter()
                .map(Value::Int)
                .collect(),
        ))
    });
    reg(m, "base", |a| {
        arity(a, 1)?;
        s(path_base(string(a, 0)?))
    });
    alias(m, "osBase", "base");
    reg(m, "dir", |a| {
        arity(a, 1)?;
        s(path_dir(string(a, 0)?))
    });
    alias(m, "osDir", "dir");
    reg(m, "clean", |a| {
        arity(a, 1)?;
        s(path_clean(string(a, 0)?))
    });
    alias(m, "osClean", "clean");
    reg(m, "ext", |a| {
        arity(a, 1)?;
        let b = string(a, 0)?;
        let name_start = b.rfind('/').map_or(0, |i| i + 1);
        s(b[name_start..]
            .rfind('.')
            .map_or("", |i| &b[name_start + i..]))
    });
    alias(m, "osExt", "ext");
    reg(m, "isAbs", |a| {
        arity(a, 1)?;
        Ok(Value::Bool(string(a, 0)?.starts_with('/')))
    });
    alias(m, "osIsAbs", "isAbs");
}

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const ALPHA: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

fn count(a: &[Value]) -> Result<usize, FuncError> {
    let n = int(a, 0)?;
    let n = usize::try_from(n).map_err(|_| FuncError::failed("count must be non-negative"))?;
    if n > MAX_OUTPUT {
        return Err(FuncError::failed("count too large"));
    }
    Ok(n)
}

fn rand_string(a: &[Value], set: &[u8]) -> Result<Value, FuncError> {
    arity(a, 1)?;
    let n = count(a)?;
    s((0..n)
        .map(|_| char::from(set[fastrand::usize(..set.len())]))
        .collect::<String>())
}

/// `s[from..to]` by bytes, as Go slices strings (a cut inside a character keeps the bytes).
fn byte_slice(v: &str, from: usize, to: usize) -> String {
    let to = to.min(v.len());
    let from = from.min(to);
    match v.get(from..to) {
        Some(x) => x.to_string(),
        None => String::from_utf8_lossy(&v.as_bytes()[from..to]).into_owned(),
    }
}

/// goutils.AbbreviateFull.
fn abbreviate_full(v: &str, offset: usize, max_width: usize) -> String {
    let n = v.len();
    if n <= max_width {
        return v.to_string();
    }
    let mut offset = offset.min(n);
    if n - offset < max_width - 3 {
        offset = n - (max_width - 3);
    }
    if offset <= 4 {
        return format!("{}...", byte_slice(v, 0, max_width - 3));
    }
    if offset + max_width - 3 < n {
        let rest = byte_slice(v, offset, n);
        let inner = if rest.len() <= max_width - 3 || max_width - 3 < 4 {
            rest
        } else {
            format!("{}...", byte_slice(&rest, 0, max_width - 6))
        };
        return format!("...{inner}");
    }
    format!("...{}", byte_slice(v, n - (max_width - 3), n))
}

/// Go's `strings.Title`: upper-cases the first letter of each word.
fn title(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    let mut prev_sep = true;
    for c in v.chars() {
        if prev_sep {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        prev_sep = if c.is_ascii() {
            !(c.is_ascii_alphanumeric() || c == '_')
        } else {
            !c.is_alphanumeric() && c.is_whitespace()
        };
    }
    out
}

/// Applies `f` to each whitespace-delimited word, keeping the whitespace.
fn map_words(v: &str, f: impl Fn(&str) -> String) -> String {
    let mut out = String::with_capacity(v.len());
    let mut word = String::new();
    for c in v.chars() {
        if c.is_whitespace() {
            if !word.is_empty() {
                out.push_str(&f(&word));
                word.clear();
            }
            out.push(c);
        } else {
            word.push(c);
        }
    }
    if !word.is_empty() {
        out.push_str(&f(&word));
    }
    out
}

/// goutils.SwapCase: upper→lower, title/lower→upper (lower after whitespace→title).
fn swapcase(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    let mut ws = true;
    for c in v.chars() {
        if c.is_uppercase() {
            out.extend(c.to_lowercase());
            ws = false;
        } else if c.is_lowercase() {
            if ws {
                out.extend(c.to_uppercase());
                ws = false;
            } else {
                out.extend(c.to_uppercase());
            }
        } else {
            ws = c.is_whitespace();
            out.push(c);
        }
    }
    out
}

#[derive(Clone, Copy, PartialEq)]
enum Word {
    Number,
    Upper,
    Alpha,
    Connector,
    Punct,
    Other,
}

fn is_conn(c: char) -> bool {
    c == '-' || c == '_' || c.is_whitespace()
}

/// Go's unicode.IsPunct for ASCII (`$+<=>^`|~` are symbols, not punctuation).
fn is_punct(c: char) -> bool {
    c.is_ascii_punctuation() && !matches!(c, '$' | '+' | '<' | '=' | '>' | '^' | '`' | '|' | '~')
}

/// xstrings' nextWord: the type and text of the next word, and the rest.
fn next_word(s: &str) -> (Word, &str, &str) {
    let mut it = s.char_indices().peekable();
    let Some((_, r)) = it.next() else {
        return (Word::Other, "", "");
    };
    let mut end = r.len_utf8();
    let take_while = |end: &mut usize, f: &dyn Fn(char) -> bool| {
        for c in s[*end..].chars() {
            if !f(c) {
                break;
            }
            *end += c.len_utf8();
        }
    };
    let wt = if is_conn(r) {
        take_while(&mut end, &is_conn);
        Word::Connector
    } else if is_punct(r) {
        take_while(&mut end, &is_punct);
        Word::Punct
    } else if r.is_uppercase() {
        if let Some(n) = s[end..].chars().next() {
            if n.is_uppercase() {
                let mut prev = end;
                for c in s[end..].chars() {
                    if !c.is_uppercase() {
                        break;
                    }
                    prev = end;
                    end += c.len_utf8();
                }
                // "HTTPStatus": the last capital starts the next word.
                if let Some(c) = s[end..].chars().next()
                    && c.is_alphabetic()
                {
                    end = prev;
                }
            } else if n.is_alphabetic() {
                take_while(&mut end, &|c: char| c.is_alphabetic() && !c.is_uppercase());
            }
        }
        Word::Upper
    } else if r.is_alphabetic() {
        take_while(&mut end, &|c: char| c.is_alphabetic() && !c.is_uppercase());
        Word::Alpha
    } else if r.is_numeric() {
        take_while(&mut end, &|c: char| c.is_numeric());
        Word::Number
    } else {
        take_while(&mut end, &|c: char| {
            !(is_conn(c) || c.is_alphabetic() || c.is_numeric() || is_punct(c))
        });
        Word::Other
    };
    (wt, &s[..end], &s[end..])
}

fn to_lower(out: &mut String, wt: Word, w: &str, conn: char) {
    if wt != Word::Upper && wt != Word::Connector {
        out.push_str(w);
        return;
    }
    for c in w.chars() {
        if is_conn(c) {
            out.push(conn);
        } else {
            out.extend(c.to_lowercase());
        }
    }
}

/// xstrings (v1.5) camelCaseToLowerCase, behind Sprig's snakecase and kebabcase.
fn lower_case_words(s: &str, conn: char) -> String {
    let mut out = String::with_capacity(s.len() + 4);
    if s.is_empty() {
        return out;
    }
    let (mut wt, mut word, mut rest) = next_word(s);
    while !rest.is_empty() {
        if wt != Word::Connector {
            to_lower(&mut out, wt, word, conn);
        }
        let prev = wt;
        let last = word;
        (wt, word, rest) = next_word(rest);
        match prev {
            Word::Number => {
                while wt == Word::Alpha || wt == Word::Number {
                    to_lower(&mut out, wt, word, conn);
                    (wt, word, rest) = next_word(rest);
                }
                if wt != Word::Punct && wt != Word::Connector && !word.is_empty() {
                    out.push(conn);
                }
            }
            Word::Connector => to_lower(&mut out, prev, last, conn),
            Word::Punct => {}
            _ => {
                if wt != Word::Number {
                    if wt != Word::Connector && wt != Word::Punct {
                        out.push(conn);
                    }
                    continue;
                }
                if rest.is_empty() {
                    continue;
                }
                let last = word;
                (wt, word, rest) = next_word(rest);
                // "Bld4Floor" keeps the number with the word before it.
                if wt != Word::Alpha {
                    to_lower(&mut out, Word::Number, last, conn);
                    if wt != Word::Connector && wt != Word::Punct {
                        out.push(conn);
                    }
                    continue;
                }
                // "HTTP2xx": lower-case letters after a number start a new word.
                out.push(conn);
                to_lower(&mut out, Word::Number, last, conn);
                while wt == Word::Alpha || wt == Word::Number {
                    to_lower(&mut out, wt, word, conn);
                    (wt, word, rest) = next_word(rest);
                }
                if wt != Word::Connector && wt != Word::Punct && !word.is_empty() {
                    out.push(conn);
                }
            }
        }
    }
    to_lower(&mut out, wt, word, conn);
    out
}

/// xstrings (v1.5) ToPascalCase, which Sprig's camelcase is: connectors dropped and the next
/// letter upper-cased; runs of capitals after a capital are lower-cased.
fn camelcase(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    let mut it = v.chars();
    let mut first_upper = false;
    let mut r0 = None;
    for c in it.by_ref() {
        if !is_conn(c) {
            first_upper = c.is_uppercase();
            r0 = Some(c.to_uppercase().next().unwrap_or(c));
            break;
        }
        out.push(c);
    }
    let Some(mut r0) = r0 else {
        return out;
    };
    for c in it {
        let r1 = r0;
        r0 = c;
        if is_conn(r0) && is_conn(r1) {
            out.push(r1);
            continue;
        }
        if is_conn(r1) {
            first_upper = r0.is_uppercase();
            r0 = r0.to_uppercase().next().unwrap_or(r0);
        } else {
            if first_upper {
                if r0.is_uppercase() {
                    r0 = r0.to_lowercase().next().unwrap_or(r0);
                } else {
                    first_upper = false;
                }
            }
            out.push(r1);
        }
    }
    out.push(r0);
    out
}

/// goutils.WrapCustom: breaks at the last space within `width` bytes; long words are cut
/// (`wrap_long`) or left whole.
fn wrap(v: &str, width: i64, newline: &str, wrap_long: bool) -> String {
    if v.is_empty() {
        return String::new();
    }
    let newline = if newline.is_empty() { "\n" } else { newline };
    let width = usize::try_from(width.max(1)).unwrap_or(1);
    let b = v.as_bytes();
    let n = b.len();
    let mut offset = 0;
    let mut out: Vec<u8> = Vec::with_capacity(n + n / width.max(1));
    while n - offset > width {
        if b[offset] == b' ' {
            offset += 1;
            continue;
        }
        let end = (width + offset + 1).min(n);
        match b[offset..end].iter().rposition(|&c| c == b' ') {
            Some(sp) => {
                let at = offset + sp;
                out.extend_from_slice(&b[offset..at]);
                out.extend_from_slice(newline.as_bytes());
                offset = at + 1;
            }
            None if wrap_long => {
                out.extend_from_slice(&b[offset..offset + width]);
                out.extend_from_slice(newline.as_bytes());
                offset += width;
            }
            None => {
                let end = width + offset;
                match b[end..].iter().position(|&c| c == b' ') {
                    None => {
                        out.extend_from_slice(&b[offset..]);
                        offset = n;
                    }
                    Some(i) => {
                        let at = end + i;
                        out.extend_from_slice(&b[offset..at]);
                        out.extend_from_slice(newline.as_bytes());
                        offset = at + 1;
                    }
                }
            }
        }
    }
    out.extend_from_slice(&b[offset.min(n)..]);
    String::from_utf8_lossy(&out).into_owned()
}

fn indent(n: i64, v: &str) -> Result<String, FuncError> {
    let n = usize::try_from(n.max(0)).unwrap_or(0);
    let lines = v.matches('\n').count() + 1;
    if n.saturating_mul(lines).saturating_add(v.len()) > MAX_OUTPUT {
        return Err(FuncError::failed("indent output too large"));
    }
    let pad = " ".repeat(n);
    Ok(format!("{pad}{}", v.replace('\n', &format!("\n{pad}"))))
}

/// Go's `strings.Replace(s, old, new, -1)` (an empty `old` inserts between characters).
fn go_replace_all(src: &str, old: &str, new: &str) -> Result<String, FuncError> {
    if old.is_empty() {
        let n = src.chars().count() + 1;
        if n.saturating_mul(new.len()).saturating_add(src.len()) > MAX_OUTPUT {
            return Err(FuncError::failed("replace output too large"));
        }
        let mut out = String::from(new);
        for c in src.chars() {
            out.push(c);
            out.push_str(new);
        }
        return Ok(out);
    }
    let count = src.matches(old).count();
    if new.len() > old.len()
        && count
            .saturating_mul(new.len() - old.len())
            .saturating_add(src.len())
            > MAX_OUTPUT
    {
        return Err(FuncError::failed("replace output too large"));
    }
    Ok(src.replace(old, new))
}

/// Go's `strings.SplitN` (n < 0: all; n == 0: none).
pub(crate) fn go_split(orig: &str, sep: &str, n: i64) -> Vec<String> {
    if n == 0 {
        return Vec::new();
    }
    if sep.is_empty() {
        let cs: Vec<String> = orig.chars().map(String::from).collect();
        if n > 0 && cs.len() > n as usize {
            let k = n as usize - 1;
            let mut head: Vec<String> = cs[..k].to_vec();
            head.push(cs[k..].concat());
            return head;
        }
        return cs;
    }
    if n < 0 {
        orig.split(sep).map(String::from).collect()
    } else {
        orig.splitn(n as usize, sep).map(String::from).collect()
    }
}

/// Sprig's `split`/`splitn` result: a dict with keys `_0`, `_1`, ...
fn indexed_map(parts: Vec<String>) -> Value {
    let m: BTreeMap<String, Value> = parts
        .into_iter()
        .enumerate()
        .map(|(i, p)| (format!("_{i}"), Value::String(p)))
        .collect();
    Value::map(m)
}

/// Sprig's `strslice`: lists become strings element-wise (nils dropped), a lone value becomes
/// a one-element list, nil an empty list.
pub(crate) fn strslice(v: &Value) -> Vec<String> {
    match v {
        Value::List(l) => l.iter().filter(|e| !e.is_nil()).map(strval).collect(),
        Value::Nil => Vec::new(),
        Value::Object(o) => strslice(&o.data()),
        other => vec![strval(other)],
    }
}

/// Sprig's `untilStep`.
pub(crate) fn until_step(start: i64, stop: i64, step: i64) -> Result<Vec<i64>, FuncError> {
    let mut v = Vec::new();
    if step == 0 {
        return Ok(v);
    }
    let n = if step > 0 {
        if stop <= start {
            return Ok(v);
        }
        ((stop as i128 - start as i128 + step as i128 - 1) / step as i128) as u128
    } else {
        if stop >= start {
            return Ok(v);
        }
        ((start as i128 - stop as i128 - step as i128 - 1) / (-(step as i128))) as u128
    };
    if n > 1_000_000 {
        return Err(FuncError::failed("sequence longer than 1000000 elements"));
    }
    let mut i = start;
    for _ in 0..n {
        v.push(i);
        i = i.saturating_add(step);
    }
    Ok(v)
}

/// Go's `path.Base`.
fn path_base(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let t = p.trim_end_matches('/');
    if t.is_empty() {
        return "/".into();
    }
    t.rsplit('/').next().unwrap_or(t).to_string()
}

/// Go's `path.Dir`.
fn path_dir(p: &str) -> String {
    let dir = match p.rfind('/') {
        Some(i) => &p[..=i],
        None => "",
    };
    path_clean(dir)
}

/// Go's `path.Clean`.
pub(crate) fn path_clean(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let rooted = p.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|l| *l != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            s => parts.push(s),
        }
    }
    let body = parts.join("/");
    match (rooted, body.is_empty()) {
        (true, _) => format!("/{body}"),
        (false, true) => ".".into(),
        (false, false) => body,
    }
}
