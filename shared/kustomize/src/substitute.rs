//! Flux postBuild variable substitution: `${var}`, `${var:=default}` (and `:-`, `=`, `-`),
//! `$${var}` as an escape, strict mode, and the `kustomize.toolkit.fluxcd.io/substitute: disabled`
//! opt-out on a resource's annotations or labels.

use std::collections::HashMap;

use crate::yaml::{Node, emit_document, parse_documents};

/// The annotation (or label) that turns substitution off for one resource.
pub const DISABLE_KEY: &str = "kustomize.toolkit.fluxcd.io/substitute";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubstituteError {
    #[error("variable not set (strict mode): \"{0}\"")]
    Unset(String),
    #[error("bad substitution: unclosed '${{' in {0:?}")]
    Unclosed(String),
    #[error("invalid variable name {0:?}")]
    BadName(String),
    #[error("substituted resource is not valid YAML: {0}")]
    Yaml(String),
}

fn valid_name(n: &str) -> bool {
    let mut c = n.chars();
    c.next()
        .is_some_and(|f| f == '_' || f.is_ascii_alphabetic())
        && c.all(|x| x == '_' || x.is_ascii_alphanumeric())
}

/// Checks variable names the way kustomize-controller does: `^[_[:alpha:]][_[:alpha:][:digit:]]*$`.
pub fn validate_var_names<'a>(
    names: impl IntoIterator<Item = &'a String>,
) -> Result<(), SubstituteError> {
    for n in names {
        if !valid_name(n) {
            return Err(SubstituteError::BadName(n.clone()));
        }
    }
    Ok(())
}

/// The operation inside `${...}` after the variable name.
enum Op<'a> {
    Plain,
    /// `:=`, `:-` (unset or empty) and `=`, `-` (unset only).
    Default {
        text: &'a str,
        if_empty: bool,
    },
    Substring {
        offset: i64,
        length: Option<i64>,
    },
    Replace {
        from: &'a str,
        to: &'a str,
        all: bool,
        anchor: Option<char>,
    },
    TrimPrefix {
        pat: &'a str,
        longest: bool,
    },
    TrimSuffix {
        pat: &'a str,
        longest: bool,
    },
    Upper {
        all: bool,
    },
    Lower {
        all: bool,
    },
}

fn parse_op(rest: &str) -> Option<Op<'_>> {
    if rest.is_empty() {
        return Some(Op::Plain);
    }
    for (prefix, if_empty) in [(":=", true), (":-", true), ("=", false), ("-", false)] {
        if let Some(text) = rest.strip_prefix(prefix) {
            return Some(Op::Default { text, if_empty });
        }
    }
    if let Some(r) = rest.strip_prefix(':') {
        let (off, len) = match r.split_once(':') {
            Some((o, l)) => (o, Some(l)),
            None => (r, None),
        };
        let offset = off.trim().parse().ok()?;
        let length = match len {
            Some(l) => Some(l.trim().parse().ok()?),
            None => None,
        };
        return Some(Op::Substring { offset, length });
    }
    if let Some(r) = rest.strip_prefix('/') {
        let (all, anchor, r) = if let Some(r) = r.strip_prefix('/') {
            (true, None, r)
        } else if let Some(r) = r.strip_prefix('#') {
            (false, Some('#'), r)
        } else if let Some(r) = r.strip_prefix('%') {
            (false, Some('%'), r)
        } else {
            (false, None, r)
        };
        let (from, to) = r.split_once('/').unwrap_or((r, ""));
        return Some(Op::Replace {
            from,
            to,
            all,
            anchor,
        });
    }
    if let Some(r) = rest.strip_prefix("##") {
        return Some(Op::TrimPrefix {
            pat: r,
            longest: true,
        });
    }
    if let Some(r) = rest.strip_prefix('#') {
        return Some(Op::TrimPrefix {
            pat: r,
            longest: false,
        });
    }
    if let Some(r) = rest.strip_prefix("%%") {
        return Some(Op::TrimSuffix {
            pat: r,
            longest: true,
        });
    }
    if let Some(r) = rest.strip_prefix('%') {
        return Some(Op::TrimSuffix {
            pat: r,
            longest: false,
        });
    }
    match rest {
        "^^" => Some(Op::Upper { all: true }),
        "^" => Some(Op::Upper { all: false }),
        ",," => Some(Op::Lower { all: true }),
        "," => Some(Op::Lower { all: false }),
        _ => None,
    }
}

fn substring(v: &str, offset: i64, length: Option<i64>) -> String {
    let chars: Vec<char> = v.chars().collect();
    let n = chars.len() as i64;
    let start = if offset < 0 {
        (n + offset).max(0)
    } else {
        offset.min(n)
    };
    let end = match length {
        Some(l) if l < 0 => (n + l).max(start),
        Some(l) => (start + l).min(n),
        None => n,
    };
    chars[start as usize..end as usize].iter().collect()
}

fn apply_op(op: &Op<'_>, value: &str) -> String {
    match op {
        Op::Plain | Op::Default { .. } => value.to_string(),
        Op::Substring { offset, length } => substring(value, *offset, *length),
        Op::Replace {
            from,
            to,
            all,
            anchor,
        } => match anchor {
            _ if from.is_empty() => value.to_string(),
            Some('#') => match value.strip_prefix(from) {
                Some(r) => format!("{to}{r}"),
                None => value.to_string(),
            },
            Some(_) => match value.strip_suffix(from) {
                Some(r) => format!("{r}{to}"),
                None => value.to_string(),
            },
            None if *all => value.replace(from, to),
            None => value.replacen(from, to, 1),
        },
        Op::TrimPrefix { pat, longest } => trim(value, pat, *longest, true),
        Op::TrimSuffix { pat, longest } => trim(value, pat, *longest, false),
        Op::Upper { all } => change_case(value, *all, true),
        Op::Lower { all } => change_case(value, *all, false),
    }
}

/// Glob match with `*` and `?`, as the shell's `${var#pattern}` family uses.
fn glob(p: &[char], s: &[char]) -> bool {
    match p.split_first() {
        None => s.is_empty(),
        Some(('*', rest)) => (0..=s.len()).any(|i| glob(rest, &s[i..])),
        Some(('?', rest)) => !s.is_empty() && glob(rest, &s[1..]),
        Some((c, rest)) => s.first() == Some(c) && glob(rest, &s[1..]),
    }
}

/// Removes the shortest (or longest) prefix or suffix matching `pat`.
fn trim(v: &str, pat: &str, longest: bool, prefix: bool) -> String {
    let chars: Vec<char> = v.chars().collect();
    let p: Vec<char> = pat.chars().collect();
    let n = chars.len();
    let mut cuts: Vec<usize> = (0..=n).collect();
    if longest {
        cuts.reverse();
    }
    for k in cuts {
        let (part, keep) = if prefix {
            (&chars[..k], &chars[k..])
        } else {
            (&chars[n - k..], &chars[..n - k])
        };
        if glob(&p, part) {
            return keep.iter().collect();
        }
    }
    v.to_string()
}

fn change_case(v: &str, all: bool, upper: bool) -> String {
    let conv = |c: char| -> String {
        if upper {
            c.to_uppercase().collect()
        } else {
            c.to_lowercase().collect()
        }
    };
    if all {
        return v.chars().map(conv).collect();
    }
    let mut it = v.chars();
    match it.next() {
        Some(first) => conv(first) + it.as_str(),
        None => String::new(),
    }
}

/// Substitutes variables in `text` the way Flux's envsubst does: only `${...}` forms
/// (`$var` is left alone), bash string operations, `$${var}` as an escape.
pub fn substitute_str(
    text: &str,
    vars: &HashMap<String, String>,
    strict: bool,
) -> Result<String, SubstituteError> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i..];
        if after.starts_with("$${") {
            // `$${var}` is an escape for a literal `${var}`.
            out.push('$');
            rest = &after[2..];
            let close = rest
                .find('}')
                .ok_or_else(|| SubstituteError::Unclosed(after.chars().take(40).collect()))?;
            out.push_str(&rest[..=close]);
            rest = &rest[close + 1..];
            continue;
        }
        if !after.starts_with("${") {
            out.push('$');
            rest = &after[1..];
            continue;
        }
        let body_start = &after[2..];
        let close = body_start
            .find('}')
            .ok_or_else(|| SubstituteError::Unclosed(after.chars().take(40).collect()))?;
        let expr = &body_start[..close];
        rest = &body_start[close + 1..];
        if let Some(name) = expr.strip_prefix('#')
            && valid_name(name)
        {
            match vars.get(name) {
                Some(v) => out.push_str(&v.chars().count().to_string()),
                None if strict => return Err(SubstituteError::Unset(name.to_string())),
                None => out.push('0'),
            }
            continue;
        }
        let name_len = expr
            .find(|c: char| !(c == '_' || c.is_ascii_alphanumeric()))
            .unwrap_or(expr.len());
        let (name, op_text) = expr.split_at(name_len);
        if !valid_name(name) {
            return Err(SubstituteError::BadName(name.to_string()));
        }
        let op = parse_op(op_text).ok_or_else(|| SubstituteError::BadName(expr.to_string()))?;
        let value = vars.get(name);
        match (&op, value) {
            (Op::Default { text, if_empty }, v)
                if v.is_none() || (*if_empty && v.is_some_and(|v| v.is_empty())) =>
            {
                out.push_str(text)
            }
            (_, Some(v)) => out.push_str(&apply_op(&op, v)),
            (_, None) if strict => return Err(SubstituteError::Unset(name.to_string())),
            (_, None) => {}
        }
    }
    out.push_str(rest);
    Ok(out)
}

fn disabled(node: &Node) -> bool {
    ["annotations", "labels"].iter().any(|f| {
        node.get_path(&["metadata", f, DISABLE_KEY])
            .and_then(Node::as_str)
            == Some("disabled")
    })
}

/// Substitutes variables in one resource, as Flux does: on its YAML text, parsed back afterwards
/// (so `replicas: ${n}` becomes a number). Resources that opt out are returned unchanged.
pub fn substitute(
    resource: &Node,
    vars: &HashMap<String, String>,
    strict: bool,
) -> Result<Node, SubstituteError> {
    if disabled(resource) {
        return Ok(resource.clone());
    }
    let text = emit_document(resource);
    if !text.contains('$') {
        return Ok(resource.clone());
    }
    let replaced = substitute_str(&text, vars, strict)?;
    let mut docs = parse_documents(&replaced).map_err(|e| SubstituteError::Yaml(e.to_string()))?;
    match docs.len() {
        1 => Ok(docs.remove(0)),
        n => Err(SubstituteError::Yaml(format!(
            "expected one document after substitution, got {n}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn substitutes_variables_and_defaults() {
        let v = vars(&[("name", "web"), ("empty", "")]);
        assert_eq!(
            substitute_str("a-${name}-${missing:=dflt}-${empty:=e}", &v, false).unwrap(),
            "a-web-dflt-e"
        );
    }

    #[test]
    fn bash_string_operations_apply_to_values() {
        let v = vars(&[("s", "Hello-World")]);
        assert_eq!(
            substitute_str("${s:0:5}|${s:6}|${s/-/_}|${s^^}|${s,,}|${#s}", &v, true).unwrap(),
            "Hello|World|Hello_World|HELLO-WORLD|hello-world|11"
        );
    }

    #[test]
    fn dollar_var_without_braces_is_left_alone() {
        assert_eq!(
            substitute_str("echo $HOME ${x}", &vars(&[("x", "1")]), true).unwrap(),
            "echo $HOME 1"
        );
    }

    #[test]
    fn invalid_variable_names_are_rejected() {
        let bad = vars(&[("1abc", "x")]);
        assert!(validate_var_names(bad.keys()).is_err());
        assert!(validate_var_names(vars(&[("_ok9", "x")]).keys()).is_ok());
    }

    #[test]
    fn double_dollar_escapes_a_variable() {
        assert_eq!(
            substitute_str("x: $${name}", &vars(&[("name", "web")]), true).unwrap(),
            "x: ${name}"
        );
    }

    #[test]
    fn strict_mode_fails_on_unset_variable() {
        assert_eq!(
            substitute_str("${nope}", &vars(&[]), true),
            Err(SubstituteError::Unset("nope".into()))
        );
        assert_eq!(
            substitute_str("a${nope}b", &vars(&[]), false).unwrap(),
            "ab"
        );
    }

    #[test]
    fn substituted_numbers_become_numbers_and_disabled_resources_are_skipped() {
        let doc = parse_documents("kind: Deployment\nspec:\n  replicas: ${n}\n")
            .unwrap()
            .remove(0);
        let out = substitute(&doc, &vars(&[("n", "3")]), true).unwrap();
        assert_eq!(out.get_path(&["spec", "replicas"]), Some(&Node::Int(3)));
        let off = parse_documents(
            "kind: X\nmetadata:\n  annotations:\n    kustomize.toolkit.fluxcd.io/substitute: disabled\nv: ${n}\n",
        )
        .unwrap()
        .remove(0);
        assert_eq!(substitute(&off, &vars(&[("n", "3")]), true).unwrap(), off);
    }
}
