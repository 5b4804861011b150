//! values.schema.json validation: the JSON-schema subset charts use (types, required, properties,
//! additionalProperties, items, enum, const, bounds, lengths, pattern-free string checks,
//! allOf/anyOf/oneOf/not, local `$ref`s), reporting errors the way Helm lists them.

use serde_json::Value;

const MAX_DEPTH: usize = 64;

/// Validates `values` against `schema`; returns one line per violation, `- at 'path': message`.
pub fn validate(schema: &Value, values: &Value) -> Vec<String> {
    let mut errs = Vec::new();
    check(schema, schema, values, "", &mut errs, 0);
    errs
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) => {
            if n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0) {
                "integer"
            } else {
                "number"
            }
        }
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn type_matches(t: &str, v: &Value) -> bool {
    let actual = type_name(v);
    t == actual || (t == "number" && actual == "integer")
}

fn at(path: &str) -> String {
    if path.is_empty() {
        "'/'".into()
    } else {
        format!("'{path}'")
    }
}

fn resolve<'a>(root: &'a Value, r: &str) -> Option<&'a Value> {
    let p = r.strip_prefix('#')?;
    if p.is_empty() {
        return Some(root);
    }
    root.pointer(p)
}

fn check(
    root: &Value,
    schema: &Value,
    v: &Value,
    path: &str,
    errs: &mut Vec<String>,
    depth: usize,
) {
    if depth > MAX_DEPTH {
        errs.push(format!("- at {}: schema nesting too deep", at(path)));
        return;
    }
    let s = match schema {
        Value::Bool(false) => {
            errs.push(format!("- at {}: false schema", at(path)));
            return;
        }
        Value::Object(s) => s,
        _ => return,
    };
    if let Some(Value::String(r)) = s.get("$ref") {
        match resolve(root, r) {
            Some(target) => check(root, target, v, path, errs, depth + 1),
            None => errs.push(format!("- at {}: unresolvable $ref {r}", at(path))),
        }
    }
    if let Some(t) = s.get("type") {
        let ok = match t {
            Value::String(t) => type_matches(t, v),
            Value::Array(ts) => ts
                .iter()
                .filter_map(|t| t.as_str())
                .any(|t| type_matches(t, v)),
            _ => true,
        };
        if !ok {
            let want = match t {
                Value::String(t) => t.clone(),
                Value::Array(ts) => ts
                    .iter()
                    .filter_map(|t| t.as_str())
                    .collect::<Vec<_>>()
                    .join(" or "),
                _ => String::new(),
            };
            errs.push(format!(
                "- at {}: got {}, want {want}",
                at(path),
                type_name(v)
            ));
            return;
        }
    }
    if let Some(Value::Array(options)) = s.get("enum")
        && !options.contains(v)
    {
        errs.push(format!(
            "- at {}: value must be one of {}",
            at(path),
            options
                .iter()
                .map(|o| o.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if let Some(c) = s.get("const")
        && c != v
    {
        errs.push(format!("- at {}: value must be {c}", at(path)));
    }
    match v {
        Value::Object(m) => {
            if let Some(Value::Array(req)) = s.get("required") {
                let missing: Vec<String> = req
                    .iter()
                    .filter_map(|r| r.as_str())
                    .filter(|r| !m.contains_key(*r))
                    .map(|r| format!("'{r}'"))
                    .collect();
                if !missing.is_empty() {
                    errs.push(format!(
                        "- at {}: missing property {}",
                        at(path),
                        missing.join(", ")
                    ));
                }
            }
            let props = s.get("properties").and_then(|p| p.as_object());
            let pattern_props: Vec<(regex::Regex, &Value)> = s
                .get("patternProperties")
                .and_then(|p| p.as_object())
                .map(|p| {
                    p.iter()
                        .filter_map(|(re, sub)| regex::Regex::new(re).ok().map(|r| (r, sub)))
                        .collect()
                })
                .unwrap_or_default();
            for (k, child) in m {
                let cpath = format!("{path}/{k}");
                let mut matched = false;
                for (re, sub) in &pattern_props {
                    if re.is_match(k) {
                        matched = true;
                        check(root, sub, child, &cpath, errs, depth + 1);
                    }
                }
                if let Some(ps) = props.and_then(|p| p.get(k)) {
                    check(root, ps, child, &cpath, errs, depth + 1);
                } else if !matched && let Some(ap) = s.get("additionalProperties") {
                    if ap == &Value::Bool(false) {
                        errs.push(format!(
                            "- at {}: additional properties '{k}' not allowed",
                            at(path)
                        ));
                    } else {
                        check(root, ap, child, &cpath, errs, depth + 1);
                    }
                }
            }
            if let Some(n) = s.get("minProperties").and_then(|n| n.as_u64())
                && (m.len() as u64) < n
            {
                errs.push(format!(
                    "- at {}: minProperties: got {}, want {n}",
                    at(path),
                    m.len()
                ));
            }
        }
        Value::Array(items) => {
            if let Some(is) = s.get("items") {
                for (i, item) in items.iter().enumerate() {
                    check(root, is, item, &format!("{path}/{i}"), errs, depth + 1);
                }
            }
            if let Some(n) = s.get("minItems").and_then(|n| n.as_u64())
                && (items.len() as u64) < n
            {
                errs.push(format!(
                    "- at {}: minItems: got {}, want {n}",
                    at(path),
                    items.len()
                ));
            }
            if let Some(n) = s.get("maxItems").and_then(|n| n.as_u64())
                && (items.len() as u64) > n
            {
                errs.push(format!(
                    "- at {}: maxItems: got {}, want {n}",
                    at(path),
                    items.len()
                ));
            }
        }
        Value::String(st) => {
            if let Some(p) = s.get("pattern").and_then(|p| p.as_str()) {
                match regex::Regex::new(p) {
                    // The value itself is left out: it may be a credential.
                    Ok(re) if !re.is_match(st) => {
                        errs.push(format!("- at {}: does not match pattern {:?}", at(path), p))
                    }
                    Ok(_) => {}
                    Err(_) => errs.push(format!(
                        "- at {}: invalid pattern {p:?} in schema",
                        at(path)
                    )),
                }
            }
            let len = st.chars().count() as u64;
            if let Some(n) = s.get("minLength").and_then(|n| n.as_u64())
                && len < n
            {
                errs.push(format!("- at {}: minLength: got {len}, want {n}", at(path)));
            }
            if let Some(n) = s.get("maxLength").and_then(|n| n.as_u64())
                && len > n
            {
                errs.push(format!("- at {}: maxLength: got {len}, want {n}", at(path)));
            }
        }
        Value::Number(n) => {
            let f = n.as_f64().unwrap_or(0.0);
            let bound = |k: &str| s.get(k).and_then(|b| b.as_f64());
            if let Some(b) = bound("minimum")
                && f < b
            {
                errs.push(format!("- at {}: minimum: got {f}, want {b}", at(path)));
            }
            if let Some(b) = bound("maximum")
                && f > b
            {
                errs.push(format!("- at {}: maximum: got {f}, want {b}", at(path)));
            }
            if let Some(b) = bound("exclusiveMinimum")
                && f <= b
            {
                errs.push(format!(
                    "- at {}: exclusiveMinimum: got {f}, want {b}",
                    at(path)
                ));
            }
            if let Some(b) = bound("exclusiveMaximum")
                && f >= b
            {
                errs.push(format!(
                    "- at {}: exclusiveMaximum: got {f}, want {b}",
                    at(path)
                ));
            }
        }
        _ => {}
    }
    if let Some(Value::Array(all)) = s.get("allOf") {
        for sub in all {
            check(root, sub, v, path, errs, depth + 1);
        }
    }
    let passes = |sub: &Value| {
        let mut e = Vec::new();
        check(root, sub, v, path, &mut e, depth + 1);
        e.is_empty()
    };
    if let Some(Value::Array(any)) = s.get("anyOf")
        && !any.iter().any(passes)
    {
        errs.push(format!("- at {}: anyOf failed", at(path)));
    }
    if let Some(Value::Array(one)) = s.get("oneOf") {
        let n = one.iter().filter(|sub| passes(sub)).count();
        if n != 1 {
            errs.push(format!("- at {}: oneOf failed ({n} matched)", at(path)));
        }
    }
    if let Some(not) = s.get("not")
        && passes(not)
    {
        errs.push(format!("- at {}: not failed", at(path)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reports_type_required_and_enum_violations() {
        let schema = json!({
            "type": "object",
            "required": ["name"],
            "properties": {
                "port": {"type": "integer", "minimum": 1},
                "mode": {"enum": ["a", "b"]}
            }
        });
        let errs = validate(&schema, &json!({"port": "x", "mode": "c"}));
        assert_eq!(errs.len(), 3, "{errs:?}");
        assert!(errs.iter().any(|e| e.contains("missing property 'name'")));
        assert!(
            errs.iter()
                .any(|e| e.contains("'/port': got string, want integer"))
        );
    }

    #[test]
    fn whole_floats_count_as_integers_and_refs_resolve() {
        let schema = json!({"$defs": {"p": {"type": "integer"}}, "properties": {"p": {"$ref": "#/$defs/p"}}});
        assert!(validate(&schema, &json!({"p": 80.0})).is_empty());
        assert!(!validate(&schema, &json!({"p": 80.5})).is_empty());
    }

    #[test]
    fn patterns_and_pattern_properties() {
        let schema = json!({
            "properties": {"tag": {"type": "string", "pattern": "^v[0-9]+$"}},
            "patternProperties": {"^x-": {"type": "integer"}},
            "additionalProperties": false
        });
        assert!(validate(&schema, &json!({"tag": "v1", "x-a": 1})).is_empty());
        let errs = validate(&schema, &json!({"tag": "latest", "x-a": "s", "other": 1}));
        assert_eq!(errs.len(), 3, "{errs:?}");
    }

    #[test]
    fn additional_properties_false_rejects_unknown_keys() {
        let schema = json!({"properties": {"a": {}}, "additionalProperties": false});
        assert_eq!(validate(&schema, &json!({"a": 1, "b": 2})).len(), 1);
    }
}
