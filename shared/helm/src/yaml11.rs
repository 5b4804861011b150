//! A YAML loader resolving plain scalars as go-yaml v2 does (YAML 1.1: `yes`/`on`/`y` are
//! booleans, `0644` is octal, `1_000` an int), which serde_yaml (YAML 1.2) cannot reproduce
//! because it forgets whether a scalar was quoted. Output is JSON with every number a float64,
//! like sigs.k8s.io/yaml.

use std::collections::HashMap;

use serde_json::{Map, Number, Value};
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};

const MAX_DEPTH: usize = 512;

/// Parses the first YAML document of `text`; `Ok(Value::Null)` for an empty document.
pub fn load(text: &str) -> Result<Value, String> {
    run(text, None)
}

/// Parses (and so validates) the whole document but builds only the top-level keys in `keep`
/// (a Kubernetes object's head: `kind`, `metadata`), which is all manifest sorting needs.
pub fn load_head(text: &str, keep: &[&str]) -> Result<Value, String> {
    match run(text, Some(keep)) {
        // An alias into a skipped part: build everything instead.
        Err(e) if e.contains(UNKNOWN_ANCHOR) => load(text),
        other => other,
    }
}

const UNKNOWN_ANCHOR: &str = "yaml: unknown anchor";

fn run(text: &str, keep: Option<&[&str]>) -> Result<Value, String> {
    let mut b = Builder {
        keep: keep.map(|k| k.iter().map(|s| s.to_string()).collect()),
        ..Default::default()
    };
    let mut parser = Parser::new_from_str(text);
    parser.load(&mut b, false).map_err(|e| e.to_string())?;
    if let Some(e) = b.err {
        return Err(e);
    }
    Ok(b.root.unwrap_or(Value::Null))
}

enum Frame {
    Seq {
        items: Vec<Value>,
        anchor: usize,
    },
    Map {
        map: Map<String, Value>,
        key: Option<String>,
        merges: Vec<Value>,
        anchor: usize,
    },
}

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    anchors: HashMap<usize, Value>,
    root: Option<Value>,
    err: Option<String>,
    done: bool,
    /// Top-level keys to build; others are parsed and dropped (`None`: build everything).
    keep: Option<Vec<String>>,
    /// Nesting depth inside a dropped value.
    skipping: usize,
}

impl Builder {
    fn fail(&mut self, msg: String) {
        if self.err.is_none() {
            self.err = Some(msg);
        }
    }

    /// Adds a finished node to its parent (or makes it the document).
    fn push(&mut self, v: Value, key_text: Option<String>) {
        match self.stack.last_mut() {
            None => {
                if self.root.is_none() {
                    self.root = Some(v);
                }
                self.done = true;
            }
            Some(Frame::Seq { items, .. }) => items.push(v),
            Some(Frame::Map {
                map, key, merges, ..
            }) => match key.take() {
                None => {
                    let k = match key_text {
                        Some(k) => k,
                        None => match &v {
                            Value::String(s) => s.clone(),
                            Value::Bool(b) => b.to_string(),
                            Value::Number(n) => n
                                .as_f64()
                                .map(crate::toyaml::go_format_g)
                                .unwrap_or_default(),
                            Value::Null => "null".into(),
                            _ => {
                                self.err.get_or_insert_with(|| {
                                    "error converting YAML to JSON: unsupported map key type".into()
                                });
                                return;
                            }
                        },
                    };
                    *key = Some(k);
                }
                Some(k) if k == MERGE_KEY => merges.push(v),
                Some(k) => {
                    map.insert(k, v);
                }
            },
        }
    }
}

/// Marks a plain `<<` key (go-yaml's merge key) while it waits for its value.
const MERGE_KEY: &str = "\u{0}<<";

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, _mark: Marker) {
        if self.err.is_some() || self.done {
            return;
        }
        if self.skipping > 0 {
            match ev {
                Event::SequenceStart(..) | Event::MappingStart(..) => self.skipping += 1,
                Event::SequenceEnd | Event::MappingEnd => {
                    self.skipping -= 1;
                    if self.skipping == 0 {
                        self.push(Value::Null, None);
                    }
                }
                _ => {}
            }
            return;
        }
        // A collection that is the value of a top-level key we do not keep is skipped.
        if let (Some(keep), [Frame::Map { key: Some(k), .. }]) = (&self.keep, self.stack.as_slice())
            && !keep.iter().any(|x| x == k)
            && matches!(ev, Event::SequenceStart(..) | Event::MappingStart(..))
        {
            self.skipping = 1;
            return;
        }
        match ev {
            Event::SequenceStart(anchor, _) => {
                if self.stack.len() > MAX_DEPTH {
                    return self.fail("error converting YAML to JSON: nesting too deep".into());
                }
                self.stack.push(Frame::Seq {
                    items: Vec::new(),
                    anchor,
                })
            }
            Event::MappingStart(anchor, _) => {
                if self.stack.len() > MAX_DEPTH {
                    return self.fail("error converting YAML to JSON: nesting too deep".into());
                }
                self.stack.push(Frame::Map {
                    map: Map::new(),
                    key: None,
                    merges: Vec::new(),
                    anchor,
                })
            }
            Event::SequenceEnd => {
                if let Some(Frame::Seq { items, anchor }) = self.stack.pop() {
                    let v = Value::Array(items);
                    if anchor > 0 {
                        self.anchors.insert(anchor, v.clone());
                    }
                    self.push(v, None);
                }
            }
            Event::MappingEnd => {
                if let Some(Frame::Map {
                    mut map,
                    merges,
                    anchor,
                    ..
                }) = self.stack.pop()
                {
                    // Merged keys never override the mapping's own keys; earlier merges win.
                    for m in merges {
                        let sources = match m {
                            Value::Array(a) => a,
                            other => vec![other],
                        };
                        for s in sources {
                            match s {
                                Value::Object(o) => {
                                    for (k, v) in o {
                                        map.entry(k).or_insert(v);
                                    }
                                }
                                _ => {
                                    return self.fail(
                                        "error converting YAML to JSON: yaml: map merge requires map or sequence of maps as the value".into(),
                                    );
                                }
                            }
                        }
                    }
                    let v = Value::Object(map);
                    if anchor > 0 {
                        self.anchors.insert(anchor, v.clone());
                    }
                    self.push(v, None);
                }
            }
            Event::Alias(id) => match self.anchors.get(&id) {
                Some(v) => {
                    let v = v.clone();
                    self.push(v, None);
                }
                None => self.fail(format!("error converting YAML to JSON: {UNKNOWN_ANCHOR}")),
            },
            Event::Scalar(text, style, anchor, tag) => {
                let is_key = matches!(self.stack.last(), Some(Frame::Map { key: None, .. }));
                if is_key && style == TScalarStyle::Plain && tag.is_none() && text == "<<" {
                    if let Some(Frame::Map { key, .. }) = self.stack.last_mut() {
                        *key = Some(MERGE_KEY.to_string());
                    }
                    return;
                }
                let v = match resolve(&text, style, tag.as_ref()) {
                    Ok(v) => v,
                    Err(e) => return self.fail(e),
                };
                if anchor > 0 {
                    self.anchors.insert(anchor, v.clone());
                }
                // Keys keep their text when they resolve to a string; other scalars go through
                // sigs.k8s.io/yaml's key conversion (`yes:` becomes "true").
                let key_text = match (&v, is_key) {
                    (Value::Number(_), true) => Some(number_key(&text)),
                    _ => None,
                };
                self.push(v, key_text);
            }
            _ => {}
        }
    }
}

fn number_key(text: &str) -> String {
    let plain = text.replace('_', "");
    match parse_go_int(&plain) {
        Some(i) => i.to_string(),
        None => plain
            .parse::<f64>()
            .map(crate::toyaml::go_format_g)
            .unwrap_or(plain),
    }
}

fn float(f: f64) -> Result<Value, String> {
    Number::from_f64(f)
        .map(Value::Number)
        .ok_or_else(|| format!("error converting YAML to JSON: json: unsupported value: {f}"))
}

/// go-yaml v2's `resolve` for one scalar, then JSON's view of it.
fn resolve(text: &str, style: TScalarStyle, tag: Option<&Tag>) -> Result<Value, String> {
    if let Some(t) = tag {
        let suffix = t.suffix.as_str();
        let core = t.handle == "!!" || t.handle.starts_with("tag:yaml.org,2002:");
        return Ok(match (core, suffix) {
            (true, "str") | (true, "binary") | (false, _) => Value::String(text.to_string()),
            (true, "null") => Value::Null,
            (true, "bool") => match bool_value(text) {
                Some(b) => Value::Bool(b),
                None => return Err(format!("yaml: cannot decode !!str `{text}` as a !!bool")),
            },
            (true, "int") | (true, "float") => match plain_number(text) {
                Some(f) => float(f)?,
                None => {
                    return Err(format!(
                        "yaml: cannot decode !!str `{text}` as a !!{suffix}"
                    ));
                }
            },
            _ => resolve_plain(text)?,
        });
    }
    if style != TScalarStyle::Plain {
        return Ok(Value::String(text.to_string()));
    }
    resolve_plain(text)
}

fn bool_value(s: &str) -> Option<bool> {
    match s {
        "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" | "true" | "True" | "TRUE" => {
            Some(true)
        }
        "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" | "false" | "False" | "FALSE" => {
            Some(false)
        }
        _ => None,
    }
}

fn resolve_plain(s: &str) -> Result<Value, String> {
    if matches!(s, "" | "~" | "null" | "Null" | "NULL") {
        return Ok(Value::Null);
    }
    if let Some(b) = bool_value(s) {
        return Ok(Value::Bool(b));
    }
    match plain_number(s) {
        Some(f) => float(f),
        None => Ok(Value::String(s.to_string())),
    }
}

/// Go's `strconv.ParseInt(s, 0, 64)` (sign, 0x/0o/0b prefixes, leading-zero octal).
fn parse_go_int(s: &str) -> Option<i64> {
    let (neg, body) = match s.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let (radix, digits) =
        if let Some(h) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
            (16, h)
        } else if let Some(o) = body.strip_prefix("0o").or_else(|| body.strip_prefix("0O")) {
            (8, o)
        } else if let Some(b) = body.strip_prefix("0b").or_else(|| body.strip_prefix("0B")) {
            (2, b)
        } else if body.len() > 1 && body.starts_with('0') {
            (8, &body[1..])
        } else {
            (10, body)
        };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let v = i128::from_str_radix(digits, radix).ok()?;
    let v = if neg { -v } else { v };
    i64::try_from(v).ok()
}

/// A plain scalar that go-yaml reads as a number (int, uint or float), as float64.
fn plain_number(s: &str) -> Option<f64> {
    let first = s.chars().next()?;
    if !(first.is_ascii_digit() || matches!(first, '-' | '+' | '.')) {
        return None;
    }
    let plain = s.replace('_', "");
    if let Some(i) = parse_go_int(&plain) {
        return Some(i as f64);
    }
    if let Ok(u) = plain.parse::<u64>() {
        return Some(u as f64);
    }
    // ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$
    let b = plain.strip_prefix(['-', '+']).unwrap_or(&plain);
    let (mant, exp) = match b.find(['e', 'E']) {
        Some(i) => (&b[..i], Some(&b[i + 1..])),
        None => (b, None),
    };
    let mant_ok = match mant.split_once('.') {
        Some(("", f)) => !f.is_empty() && f.chars().all(|c| c.is_ascii_digit()),
        Some((i, f)) => {
            i.chars().all(|c| c.is_ascii_digit()) && f.chars().all(|c| c.is_ascii_digit())
        }
        None => !mant.is_empty() && mant.chars().all(|c| c.is_ascii_digit()),
    };
    let exp_ok = exp.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && e.chars().all(|c| c.is_ascii_digit())
    });
    if mant_ok && exp_ok {
        return plain.parse::<f64>().ok();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn yaml_1_1_booleans_and_octals_resolve_like_go_yaml_v2() {
        let v = load("a: yes\nb: off\nc: \"yes\"\nd: 0644\ne: '0644'\nf: 1_000\ng: 0x1F\nh: ~\n")
            .unwrap();
        assert_eq!(
            v,
            json!({"a": true, "b": false, "c": "yes", "d": 420.0, "e": "0644", "f": 1000.0, "g": 31.0, "h": null})
        );
    }

    #[test]
    fn numbers_are_float64_and_timestamps_stay_strings() {
        let v = load("i: 80\nf: 1.5\nt: 2001-12-14\nv: 1.2.3\n").unwrap();
        assert_eq!(
            v,
            json!({"i": 80.0, "f": 1.5, "t": "2001-12-14", "v": "1.2.3"})
        );
        assert!(v["i"].is_f64());
    }

    #[test]
    fn anchors_aliases_and_merge_keys() {
        let v = load("base: &b {p: 1, q: 2}\nd:\n  <<: *b\n  q: 3\nl: [*b]\n").unwrap();
        assert_eq!(v["d"], json!({"p": 1.0, "q": 3.0}));
        assert_eq!(v["l"], json!([{"p": 1.0, "q": 2.0}]));
    }

    #[test]
    fn non_string_keys_become_strings_like_sigs_yaml() {
        let v = load("1: a\nyes: b\n0o10: c\n").unwrap();
        assert_eq!(v, json!({"1": "a", "true": "b", "8": "c"}));
    }

    #[test]
    fn tags_force_types() {
        let v = load("a: !!str 123\nb: !!int \"7\"\nc: !custom x\n").unwrap();
        assert_eq!(v, json!({"a": "123", "b": 7.0, "c": "x"}));
    }

    #[test]
    fn only_the_first_document_is_read() {
        assert_eq!(load("a: 1\n---\nb: 2\n").unwrap(), json!({"a": 1.0}));
        assert_eq!(load("").unwrap(), Value::Null);
    }

    #[test]
    fn head_loading_keeps_only_the_named_top_level_keys() {
        let doc = "kind: Pod\nmetadata:\n  name: p\n  annotations: {a: b}\nspec:\n  containers: [{name: c}]\n";
        let v = load_head(doc, &["kind", "metadata"]).unwrap();
        assert_eq!(v["kind"], json!("Pod"));
        assert_eq!(
            v["metadata"],
            json!({"name": "p", "annotations": {"a": "b"}})
        );
        assert_eq!(v["spec"], Value::Null);
        // Broken YAML in a dropped part is still an error.
        assert!(load_head("kind: Pod\nspec: {a: [1,\n", &["kind"]).is_err());
        // An alias from a kept part into a dropped part falls back to a full load.
        let v = load_head("spec: &s {x: 1}\nmetadata: *s\n", &["metadata"]).unwrap();
        assert_eq!(v["metadata"], json!({"x": 1.0}));
    }

    #[test]
    fn broken_yaml_is_an_error() {
        assert!(load("a: [1, 2\n").is_err());
        assert!(load("a: *nope\n").is_err());
    }
}
