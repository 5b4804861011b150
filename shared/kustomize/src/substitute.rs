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

/// Substitutes variables in `text` the way Flux's envsubst does.
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
        let (name, op, default) = match expr.find([':', '=', '-']) {
            Some(p) => {
                let (n, tail) = expr.split_at(p);
                let (op, d) = if tail.starts_with(":=") || tail.starts_with(":-") {
                    tail.split_at(2)
                } else {
                    tail.split_at(1)
                };
                (n, op, Some(d))
            }
            None => (expr, "", None),
        };
        if !valid_name(name) {
            return Err(SubstituteError::BadName(name.to_string()));
        }
        let value = vars.get(name);
        let use_default = match op {
            ":=" | ":-" => value.is_none_or(|v| v.is_empty()),
            "=" | "-" => value.is_none(),
            _ => false,
        };
        match (value, default) {
            (_, Some(d)) if use_default => out.push_str(d),
            (Some(v), _) => out.push_str(v),
            (None, _) if strict => return Err(SubstituteError::Unset(name.to_string())),
            (None, _) => {}
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
