//! YAML → JSON as sigs.k8s.io/yaml does it for Helm: keys become strings, every number a float64.

use serde_json::{Map, Number, Value};

/// Parses a YAML document into a JSON value with Helm's number semantics (all numbers float64).
pub fn parse_yaml(text: &str) -> Result<Value, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    match crate::yaml11::load(text) {
        Ok(v) => Ok(v),
        // libyaml (behind serde_yaml) is go-yaml's ancestor: its verdict and wording win, and
        // a document only the event loader rejects is still read (as YAML 1.2).
        Err(_) => parse_yaml_1_2(text),
    }
}

/// Like [`parse_yaml`], building only the top-level keys in `keep` (a manifest's head).
pub fn parse_yaml_head(text: &str, keep: &[&str]) -> Result<Value, String> {
    match crate::yaml11::load_head(text, keep) {
        Ok(v) => Ok(v),
        Err(_) => parse_yaml_1_2(text),
    }
}

/// serde_yaml's YAML 1.2 reading (kept for its go-yaml-like error messages).
fn parse_yaml_1_2(text: &str) -> Result<Value, String> {
    let mut y: serde_yaml::Value = serde_yaml::from_str(text).map_err(|e| yaml_error(&e))?;
    // go-yaml applies `<<` merge keys while decoding; serde_yaml leaves them to us.
    y.apply_merge()
        .map_err(|e| format!("error converting YAML to JSON: yaml: {e}"))?;
    convert(y, 0)
}

/// Parses a values document: empty means an empty map, anything but a map is an error.
pub fn parse_values(text: &str) -> Result<Map<String, Value>, String> {
    match parse_yaml(text)? {
        Value::Null => Ok(Map::new()),
        Value::Object(m) => Ok(m),
        other => Err(format!(
            "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
            json_kind(&other)
        )),
    }
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Array(_) => "array",
        Value::String(_) => "string",
        Value::Number(_) => "number",
        Value::Bool(_) => "bool",
        _ => "object",
    }
}

/// Formats a YAML error like go-yaml: `error converting YAML to JSON: yaml: line N: MESSAGE`.
pub fn yaml_error(e: &serde_yaml::Error) -> String {
    let msg = e.to_string();
    // serde_yaml appends " at line L column C"; Go reports only the line.
    let (text, line) = match e.location() {
        Some(loc) => {
            let cut = msg.find(" at line ").unwrap_or(msg.len());
            (msg[..cut].to_string(), Some(loc.line()))
        }
        None => (msg, None),
    };
    match line {
        Some(l) => format!("error converting YAML to JSON: yaml: line {l}: {text}"),
        None => format!("error converting YAML to JSON: yaml: {text}"),
    }
}

const MAX_DEPTH: usize = 512;

fn convert(y: serde_yaml::Value, depth: usize) -> Result<Value, String> {
    if depth > MAX_DEPTH {
        return Err("error converting YAML to JSON: nesting too deep".into());
    }
    Ok(match y {
        serde_yaml::Value::Null => Value::Null,
        serde_yaml::Value::Bool(b) => Value::Bool(b),
        serde_yaml::Value::Number(n) => {
            let f = n.as_f64().unwrap_or(0.0);
            match Number::from_f64(f) {
                Some(n) => Value::Number(n),
                None => {
                    return Err(format!(
                        "error converting YAML to JSON: json: unsupported value: {f}"
                    ));
                }
            }
        }
        serde_yaml::Value::String(s) => Value::String(s),
        serde_yaml::Value::Sequence(seq) => Value::Array(
            seq.into_iter()
                .map(|v| convert(v, depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        serde_yaml::Value::Mapping(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                let key = match k {
                    serde_yaml::Value::String(s) => s,
                    serde_yaml::Value::Bool(b) => b.to_string(),
                    serde_yaml::Value::Number(n) => n.to_string(),
                    serde_yaml::Value::Null => "null".to_string(),
                    _ => {
                        return Err(
                            "error converting YAML to JSON: unsupported map key type".into()
                        );
                    }
                };
                out.insert(key, convert(v, depth + 1)?);
            }
            Value::Object(out)
        }
        serde_yaml::Value::Tagged(t) => convert(t.value, depth + 1)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_become_floats_like_helm_values() {
        let v = parse_values("a: 80\nb: 1.5\n").unwrap();
        assert!(v["a"].as_f64().is_some() && v["a"].is_f64());
        assert!(v["b"].is_f64());
    }

    #[test]
    fn non_string_keys_become_strings() {
        let v = parse_values("1: one\ntrue: yes\n").unwrap();
        assert_eq!(v["1"], Value::String("one".into()));
        assert!(v.contains_key("true"));
    }

    #[test]
    fn invalid_yaml_reports_line() {
        let err = parse_values("a: b\nc: [\n").unwrap_err();
        assert!(err.contains("line"), "{err}");
    }

    #[test]
    fn merge_keys_are_applied_like_go_yaml() {
        let v = parse_values("base: &b\n  a: 1\n  b: 2\nderived:\n  <<: *b\n  b: 3\n").unwrap();
        assert_eq!(v["derived"], serde_json::json!({"a": 1.0, "b": 3.0}));
    }

    #[test]
    fn list_document_is_not_values() {
        assert!(
            parse_values("- a\n")
                .unwrap_err()
                .contains("cannot unmarshal array")
        );
    }
}
