//! Helm's own template functions on top of Sprig: include, tpl, required, fail, toYaml,
//! fromYaml(Array), toJson, fromJson(Array), toToml, lookup (offline: empty map).

use flux_gotemplate::{FuncContext, FuncError, FuncMap, Value, context_func, func};

/// Helm wraps `required`/`fail` messages in these so the engine can print them cleanly.
pub const WARN_START: &str = "HELM_ERR_START";
pub const WARN_END: &str = "HELM_ERR_END";
const NESTED_REFERENCE: &str = "rendering template has a nested reference name: ";

fn arity(args: &[Value], n: usize) -> Result<(), FuncError> {
    if args.len() != n {
        return Err(FuncError::Arity {
            want: n.to_string(),
            got: args.len(),
        });
    }
    Ok(())
}

fn string_arg(v: &Value) -> Result<String, FuncError> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Nil => Err(FuncError::Invalid {
            expected: "string".into(),
        }),
        other => Err(FuncError::WrongType {
            expected: "string".into(),
            got: other.type_name(),
        }),
    }
}

/// Helm's function map (added after Sprig, so these win).
/// Where `lookup` reads live objects from (helm-controller passes a cluster client).
pub trait Lookup: Send + Sync {
    /// The object `apiVersion`/`kind` named `name` in `namespace` (empty for cluster scope),
    /// or, when `name` is empty, a list object with `items`. `Ok(None)` when it does not exist.
    fn lookup(
        &self,
        api_version: &str,
        kind: &str,
        namespace: &str,
        name: &str,
    ) -> Result<Option<serde_json::Value>, String>;
}

/// Helm's function map without a cluster: `lookup` returns empty maps.
pub fn helm_funcs() -> FuncMap {
    helm_funcs_with(None)
}

/// Helm's function map; `lookup` asks `lookup` when given.
pub fn helm_funcs_with(lookup: Option<std::sync::Arc<dyn Lookup>>) -> FuncMap {
    let mut m = FuncMap::new();
    m.insert(
        "toYaml".into(),
        func(|a| {
            arity(a, 1)?;
            Ok(Value::String(to_yaml_trimmed(&a[0])))
        }),
    );
    m.insert(
        "mustToYaml".into(),
        func(|a| {
            arity(a, 1)?;
            Ok(Value::String(to_yaml_trimmed(&a[0])))
        }),
    );
    m.insert(
        "toYamlPretty".into(),
        func(|a| {
            arity(a, 1)?;
            let y = crate::toyaml::to_yaml_pretty(&a[0].to_json());
            Ok(Value::String(
                y.strip_suffix('\n').unwrap_or(&y).to_string(),
            ))
        }),
    );
    m.insert(
        "fromYaml".into(),
        func(|a| {
            arity(a, 1)?;
            let s = string_arg(&a[0])?;
            Ok(match crate::yaml::parse_yaml(&s) {
                Ok(serde_json::Value::Object(o)) => Value::from(serde_json::Value::Object(o)),
                Ok(serde_json::Value::Null) => Value::empty_map(),
                Ok(_) => error_map("error unmarshaling JSON: json: cannot unmarshal into Go value of type map[string]interface {}"),
                Err(e) => error_map(&e),
            })
        }),
    );
    m.insert(
        "fromYamlArray".into(),
        func(|a| {
            arity(a, 1)?;
            let s = string_arg(&a[0])?;
            Ok(match crate::yaml::parse_yaml(&s) {
                Ok(serde_json::Value::Array(l)) => Value::from(serde_json::Value::Array(l)),
                Ok(serde_json::Value::Null) => Value::list(vec![]),
                Ok(_) => Value::list(vec![Value::from(
                    "error unmarshaling JSON: json: cannot unmarshal into Go value of type []interface {}",
                )]),
                Err(e) => Value::list(vec![Value::from(e)]),
            })
        }),
    );
    m.insert(
        "toJson".into(),
        func(|a| {
            arity(a, 1)?;
            Ok(Value::String(go_json(&a[0])))
        }),
    );
    m.insert(
        "mustToJson".into(),
        func(|a| {
            arity(a, 1)?;
            Ok(Value::String(go_json(&a[0])))
        }),
    );
    m.insert(
        "fromJson".into(),
        func(|a| {
            arity(a, 1)?;
            let s = string_arg(&a[0])?;
            Ok(match serde_json::from_str::<serde_json::Value>(&s) {
                Ok(serde_json::Value::Object(o)) => {
                    Value::from_json_floats(serde_json::Value::Object(o))
                }
                Ok(serde_json::Value::Null) => Value::empty_map(),
                Ok(_) => error_map(
                    "json: cannot unmarshal into Go value of type map[string]interface {}",
                ),
                Err(e) => error_map(&e.to_string()),
            })
        }),
    );
    m.insert(
        "fromJsonArray".into(),
        func(|a| {
            arity(a, 1)?;
            let s = string_arg(&a[0])?;
            Ok(match serde_json::from_str::<serde_json::Value>(&s) {
                Ok(serde_json::Value::Array(l)) => {
                    Value::from_json_floats(serde_json::Value::Array(l))
                }
                Ok(serde_json::Value::Null) => Value::list(vec![]),
                Ok(_) => Value::list(vec![Value::from(
                    "json: cannot unmarshal into Go value of type []interface {}",
                )]),
                Err(e) => Value::list(vec![Value::from(e.to_string())]),
            })
        }),
    );
    m.insert(
        "toToml".into(),
        func(|a| {
            arity(a, 1)?;
            Ok(Value::String(to_toml(&a[0])))
        }),
    );
    m.insert(
        "lookup".into(),
        func(move |a| {
            arity(a, 4)?;
            let Some(l) = &lookup else {
                return Ok(Value::empty_map());
            };
            let s: Vec<String> = a.iter().map(string_arg).collect::<Result<_, _>>()?;
            match l.lookup(&s[0], &s[1], &s[2], &s[3]) {
                Ok(Some(obj)) => Ok(Value::from(obj)),
                Ok(None) => Ok(Value::empty_map()),
                Err(e) => Err(FuncError::failed(e)),
            }
        }),
    );
    m.insert(
        "required".into(),
        func(|a| {
            arity(a, 2)?;
            let warn = string_arg(&a[0])?;
            match &a[1] {
                Value::Nil => Err(FuncError::failed(format!("{WARN_START}{warn}{WARN_END}"))),
                Value::String(s) if s.is_empty() => {
                    Err(FuncError::failed(format!("{WARN_START}{warn}{WARN_END}")))
                }
                v => Ok(v.clone()),
            }
        }),
    );
    m.insert(
        "fail".into(),
        func(|a| {
            arity(a, 1)?;
            let msg = string_arg(&a[0])?;
            Err(FuncError::failed(format!("{WARN_START}{msg}{WARN_END}")))
        }),
    );
    m.insert(
        "include".into(),
        context_func(|ctx: &mut dyn FuncContext, a: &[Value]| {
            arity(a, 2)?;
            let name = string_arg(&a[0])?;
            match ctx.execute_template(&name, &a[1]) {
                Ok(s) => Ok(Value::String(s)),
                // Report runaway recursion once, as Helm does, not once per nesting level.
                Err(e)
                    if matches!(e, flux_gotemplate::Error::DepthExceeded { .. })
                        || e.message().contains(NESTED_REFERENCE) =>
                {
                    Err(FuncError::failed(format!(
                        "{NESTED_REFERENCE}{name}: unable to execute template"
                    )))
                }
                Err(e) => Err(e.into()),
            }
        }),
    );
    m.insert(
        "tpl".into(),
        context_func(|ctx: &mut dyn FuncContext, a: &[Value]| {
            arity(a, 2)?;
            let text = string_arg(&a[0])?;
            let name = ctx.template_name().to_string();
            let out = ctx.execute_text(&name, &text, &a[1])?;
            Ok(Value::String(out.replace("<no value>", "")))
        }),
    );
    m
}

fn error_map(msg: &str) -> Value {
    Value::map_from([("Error", Value::from(msg))])
}

/// `toYaml`: go-yaml output without its final newline.
pub fn to_yaml_trimmed(v: &Value) -> String {
    let y = crate::toyaml::to_yaml(&v.to_json());
    y.strip_suffix('\n').unwrap_or(&y).to_string()
}

/// Go's `json.Marshal`: sorted keys, HTML-safe escaping, Go float formatting.
pub fn go_json(v: &Value) -> String {
    let mut out = String::new();
    write_json(v, &mut out, 0);
    out
}

fn write_json(v: &Value, out: &mut String, depth: usize) {
    if depth > 1000 {
        out.push_str("null");
        return;
    }
    match v {
        Value::Nil => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::Float(f) => out.push_str(&go_json_float(*f)),
        Value::String(s) => write_json_string(s, out),
        Value::List(l) => {
            out.push('[');
            for (i, x) in l.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(x, out, depth + 1);
            }
            out.push(']');
        }
        Value::Map(m) => {
            out.push('{');
            for (i, (k, x)) in m.read().iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json_string(k, out);
                out.push(':');
                write_json(x, out, depth + 1);
            }
            out.push('}');
        }
        Value::Object(o) => write_json(&o.data(), out, depth + 1),
        _ => out.push_str("null"),
    }
}

fn write_json_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Go's JSON float: `%f`-style between 1e-6 and 1e21, exponent form otherwise (`1e-07`→`1e-7`).
fn go_json_float(f: f64) -> String {
    if !f.is_finite() {
        return "null".into();
    }
    let a = f.abs();
    if a != 0.0 && !(1e-6..1e21).contains(&a) {
        let g = format!("{f:e}");
        let (m, e) = g.split_once('e').unwrap_or((&g, "0"));
        let exp: i32 = e.parse().unwrap_or(0);
        return format!("{m}e{}{}", if exp < 0 { "-" } else { "+" }, exp.abs());
    }
    let s = format!("{f}");
    s.strip_suffix(".0").map(str::to_string).unwrap_or(s)
}

/// A small TOML encoder for `toToml` (BurntSushi order: plain keys first, then tables).
pub fn to_toml(v: &Value) -> String {
    let mut out = String::new();
    if let Value::Map(m) = v {
        write_toml_table(&m.snapshot(), &mut Vec::new(), &mut out);
    }
    out
}

fn toml_key(k: &str) -> String {
    if !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        k.to_string()
    } else {
        toml_string(k)
    }
}

fn toml_string(s: &str) -> String {
    let mut o = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            '\n' => o.push_str("\\n"),
            '\t' => o.push_str("\\t"),
            '\r' => o.push_str("\\r"),
            c if (c as u32) < 0x20 => o.push_str(&format!("\\u{:04X}", c as u32)),
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

fn toml_scalar(v: &Value) -> Option<String> {
    Some(match v {
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => {
            if f.fract() == 0.0 && f.abs() < 1e16 {
                format!("{f:.1}")
            } else {
                format!("{f}")
            }
        }
        Value::String(s) => toml_string(s),
        Value::List(l) => {
            let items: Option<Vec<String>> = l.iter().map(toml_scalar).collect();
            format!("[{}]", items?.join(", "))
        }
        _ => return None,
    })
}

fn write_toml_table(
    m: &std::collections::BTreeMap<String, Value>,
    path: &mut Vec<String>,
    out: &mut String,
) {
    let indent = "  ".repeat(path.len().saturating_sub(1));
    for (k, v) in m {
        if let Some(s) = toml_scalar(v) {
            out.push_str(&format!("{indent}{} = {s}\n", toml_key(k)));
        }
    }
    for (k, v) in m {
        if let Value::Map(sub) = v {
            path.push(toml_key(k));
            let ind = "  ".repeat(path.len() - 1);
            out.push_str(&format!("\n{ind}[{}]\n", path.join(".")));
            write_toml_table(&sub.snapshot(), path, out);
            path.pop();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn to_json_sorts_keys_escapes_html_and_formats_floats_like_go() {
        let v = Value::map_from([
            ("b", Value::Float(80.0)),
            ("a", Value::from("<x&y>")),
            ("c", Value::Float(0.5)),
            ("d", Value::Float(1e21)),
        ]);
        assert_eq!(
            go_json(&v),
            r#"{"a":"\u003cx\u0026y\u003e","b":80,"c":0.5,"d":1e+21}"#
        );
    }

    struct OneConfigMap;

    impl Lookup for OneConfigMap {
        fn lookup(
            &self,
            v: &str,
            k: &str,
            ns: &str,
            n: &str,
        ) -> Result<Option<serde_json::Value>, String> {
            if (v, k, ns, n) == ("v1", "ConfigMap", "ns", "cm") {
                Ok(Some(serde_json::json!({"data": {"a": "b"}})))
            } else {
                Ok(None)
            }
        }
    }

    #[test]
    fn lookup_asks_the_cluster_when_given_one() {
        let mut t = flux_gotemplate::Template::new("t");
        t.funcs(helm_funcs_with(Some(std::sync::Arc::new(OneConfigMap))));
        t.parse("t", r#"{{ (lookup "v1" "ConfigMap" "ns" "cm").data.a }}|{{ lookup "v1" "ConfigMap" "ns" "x" | len }}"#)
            .unwrap();
        assert_eq!(t.execute("t", &Value::Nil).unwrap(), "b|0");
    }

    #[test]
    fn to_yaml_trims_the_final_newline() {
        let v = Value::map_from([("a", Value::Int(1))]);
        assert_eq!(to_yaml_trimmed(&v), "a: 1");
    }

    #[test]
    fn to_toml_writes_scalars_then_tables() {
        let v = Value::map_from([
            ("name", Value::from("x")),
            ("sub", Value::map_from([("port", Value::Int(80))])),
        ]);
        assert_eq!(to_toml(&v), "name = \"x\"\n\n[sub]\nport = 80\n");
    }
}
