//! Label selectors (query-string syntax and `LabelSelector` objects) and field selectors,
//! with the matching rules of k8s.io/apimachinery's `labels` and `fields` packages.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector as LabelSelectorObject;
use serde_json::Value;

/// A selector that cannot be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SelectorError(pub String);

/// One requirement of a label selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requirement {
    /// `key=value`, `key==value`.
    Equals(String, String),
    /// `key!=value`: also matches objects without the label.
    NotEquals(String, String),
    /// `key in (a,b)`.
    In(String, Vec<String>),
    /// `key notin (a,b)`: also matches objects without the label.
    NotIn(String, Vec<String>),
    /// `key`.
    Exists(String),
    /// `!key`.
    DoesNotExist(String),
    /// `key>n`: the label is an integer greater than n.
    GreaterThan(String, i64),
    /// `key<n`: the label is an integer less than n.
    LessThan(String, i64),
}

impl Requirement {
    /// Whether `labels` satisfy this requirement.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        match self {
            Requirement::Equals(k, v) => labels.get(k) == Some(v),
            Requirement::NotEquals(k, v) => labels.get(k) != Some(v),
            Requirement::In(k, vs) => labels.get(k).is_some_and(|l| vs.contains(l)),
            Requirement::NotIn(k, vs) => labels.get(k).is_none_or(|l| !vs.contains(l)),
            Requirement::Exists(k) => labels.contains_key(k),
            Requirement::DoesNotExist(k) => !labels.contains_key(k),
            Requirement::GreaterThan(k, n) => label_int(labels, k).is_some_and(|l| l > *n),
            Requirement::LessThan(k, n) => label_int(labels, k).is_some_and(|l| l < *n),
        }
    }
}

fn label_int(labels: &BTreeMap<String, String>, key: &str) -> Option<i64> {
    labels.get(key)?.parse().ok()
}

/// A parsed label selector: all requirements must hold. An empty selector selects everything;
/// [`LabelSelector::nothing`] selects nothing (a null `LabelSelector` object).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LabelSelector {
    /// The requirements.
    pub requirements: Vec<Requirement>,
    /// Matches no object at all.
    pub select_nothing: bool,
}

impl LabelSelector {
    /// The selector that matches nothing.
    pub fn nothing() -> LabelSelector {
        LabelSelector {
            requirements: Vec::new(),
            select_nothing: true,
        }
    }

    /// Parses the query-string syntax (`a=b,c!=d,e in (x,y),f notin (z),!g,h`).
    pub fn parse(s: &str) -> Result<LabelSelector, SelectorError> {
        let mut requirements = Vec::new();
        let mut parser = Parser {
            chars: s.chars().collect(),
            pos: 0,
        };
        parser.skip_ws();
        if parser.at_end() {
            return Ok(LabelSelector::default());
        }
        loop {
            requirements.push(parser.requirement()?);
            parser.skip_ws();
            if parser.at_end() {
                break;
            }
            if !parser.eat(',') {
                return Err(SelectorError(format!(
                    "unable to parse requirement: found '{}', expected: ','",
                    parser.rest()
                )));
            }
        }
        Ok(LabelSelector {
            requirements,
            select_nothing: false,
        })
    }

    /// Converts a `LabelSelector` object (matchLabels and matchExpressions), validating the
    /// operators and values as `metav1.LabelSelectorAsSelector` does.
    pub fn from_object(selector: &LabelSelectorObject) -> Result<LabelSelector, SelectorError> {
        let mut requirements = Vec::new();
        for (k, v) in selector.match_labels.iter().flatten() {
            validate_key(k)?;
            validate_value(v)?;
            requirements.push(Requirement::Equals(k.clone(), v.clone()));
        }
        for expr in selector.match_expressions.iter().flatten() {
            validate_key(&expr.key)?;
            let values = expr.values.clone().unwrap_or_default();
            for v in &values {
                validate_value(v)?;
            }
            let key = expr.key.clone();
            let requirement = match expr.operator.as_str() {
                "In" | "NotIn" if values.is_empty() => {
                    return Err(SelectorError(
                        "for 'in', 'notin' operators, values set can't be empty".into(),
                    ));
                }
                "Exists" | "DoesNotExist" if !values.is_empty() => {
                    return Err(SelectorError(
                        "values set must be empty for exists and does not exist".into(),
                    ));
                }
                "In" => Requirement::In(key, values),
                "NotIn" => Requirement::NotIn(key, values),
                "Exists" => Requirement::Exists(key),
                "DoesNotExist" => Requirement::DoesNotExist(key),
                other => {
                    return Err(SelectorError(format!(
                        "\"{other}\" is not a valid label selector operator"
                    )));
                }
            };
            requirements.push(requirement);
        }
        Ok(LabelSelector {
            requirements,
            select_nothing: false,
        })
    }

    /// Whether `labels` satisfy every requirement.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        !self.select_nothing && self.requirements.iter().all(|r| r.matches(labels))
    }

    /// Matches the `metadata.labels` of a JSON object.
    pub fn matches_object(&self, obj: &Value) -> bool {
        self.matches(&labels_of(obj))
    }

    /// Whether the selector selects every object.
    pub fn is_everything(&self) -> bool {
        !self.select_nothing && self.requirements.is_empty()
    }
}

/// The labels of a JSON object (non-string values are ignored).
pub fn labels_of(obj: &Value) -> BTreeMap<String, String> {
    obj.pointer("/metadata/labels")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

fn validate_key(key: &str) -> Result<(), SelectorError> {
    let errors = crate::names::validate_qualified_name(key);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(SelectorError(format!(
            "key: Invalid value: \"{key}\": {}",
            errors.join("; ")
        )))
    }
}

fn validate_value(value: &str) -> Result<(), SelectorError> {
    let errors = crate::names::validate_label_value(value);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(SelectorError(format!(
            "values[0]: Invalid value: \"{value}\": {}",
            errors.join("; ")
        )))
    }
}

struct Parser {
    chars: Vec<char>,
    pos: usize,
}

impl Parser {
    fn at_end(&self) -> bool {
        self.pos >= self.chars.len()
    }

    fn rest(&self) -> String {
        self.chars[self.pos.min(self.chars.len())..]
            .iter()
            .collect()
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn eat_word(&mut self, word: &str) -> bool {
        let end = self.pos + word.chars().count();
        if end <= self.chars.len()
            && self.chars[self.pos..end].iter().copied().eq(word.chars())
            && self
                .chars
                .get(end)
                .is_none_or(|c| c.is_whitespace() || *c == '(')
        {
            self.pos = end;
            true
        } else {
            false
        }
    }

    /// A key or value: everything up to whitespace or a special character.
    fn identifier(&mut self) -> String {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if c.is_whitespace() || "=!(),<>".contains(c) {
                break;
            }
            self.pos += 1;
        }
        self.chars[start..self.pos].iter().collect()
    }

    fn requirement(&mut self) -> Result<Requirement, SelectorError> {
        self.skip_ws();
        if self.eat('!') {
            self.skip_ws();
            let key = self.identifier();
            validate_key(&key)?;
            return Ok(Requirement::DoesNotExist(key));
        }
        let key = self.identifier();
        if key.is_empty() {
            return Err(SelectorError(format!(
                "unable to parse requirement: found '{}', expected: identifier",
                self.rest()
            )));
        }
        validate_key(&key)?;
        self.skip_ws();
        if self.at_end() || self.peek() == Some(',') {
            return Ok(Requirement::Exists(key));
        }
        if self.eat('!') {
            if !self.eat('=') {
                return Err(SelectorError("expected '=' after '!'".into()));
            }
            return Ok(Requirement::NotEquals(key, self.single_value()?));
        }
        if self.eat('=') {
            self.eat('=');
            return Ok(Requirement::Equals(key, self.single_value()?));
        }
        if self.eat('>') {
            return Ok(Requirement::GreaterThan(key, self.int_value()?));
        }
        if self.eat('<') {
            return Ok(Requirement::LessThan(key, self.int_value()?));
        }
        if self.eat_word("notin") {
            return Ok(Requirement::NotIn(key, self.value_set()?));
        }
        if self.eat_word("in") {
            return Ok(Requirement::In(key, self.value_set()?));
        }
        Err(SelectorError(format!(
            "unable to parse requirement: found '{}', expected: in, notin, =, ==, !=, gt, lt",
            self.rest()
        )))
    }

    fn single_value(&mut self) -> Result<String, SelectorError> {
        self.skip_ws();
        let value = self.identifier();
        validate_value(&value)?;
        Ok(value)
    }

    fn int_value(&mut self) -> Result<i64, SelectorError> {
        let value = self.single_value()?;
        value.parse().map_err(|_| {
            SelectorError(format!(
                "for 'Gt', 'Lt' operators, the value must be an integer, got \"{value}\""
            ))
        })
    }

    fn value_set(&mut self) -> Result<Vec<String>, SelectorError> {
        self.skip_ws();
        if !self.eat('(') {
            return Err(SelectorError(format!(
                "found '{}', expected: '('",
                self.rest()
            )));
        }
        self.skip_ws();
        if self.peek() == Some(')') {
            return Err(SelectorError(
                "for 'in', 'notin' operators, values set can't be empty".into(),
            ));
        }
        let mut values = Vec::new();
        loop {
            self.skip_ws();
            let value = self.identifier();
            validate_value(&value)?;
            values.push(value);
            self.skip_ws();
            if self.eat(')') {
                break;
            }
            if !self.eat(',') {
                return Err(SelectorError(format!(
                    "found '{}', expected: ',' or ')'",
                    self.rest()
                )));
            }
        }
        Ok(values)
    }
}

/// One term of a field selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldRequirement {
    /// `field=value` or `field==value`.
    Equals(String, String),
    /// `field!=value`.
    NotEquals(String, String),
}

/// A parsed field selector such as `metadata.name=x,metadata.namespace!=y`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FieldSelector {
    /// The terms, all of which must hold.
    pub requirements: Vec<FieldRequirement>,
}

impl FieldSelector {
    /// Parses a field selector; `\,`, `\=` and `\\` escape separators in values.
    pub fn parse(s: &str) -> Result<FieldSelector, SelectorError> {
        let mut requirements = Vec::new();
        for term in split_unescaped(s, ',') {
            if term.trim().is_empty() {
                continue;
            }
            let (field, op, value) = split_term(&term).ok_or_else(|| {
                SelectorError(format!(
                    "invalid selector: '{s}'; can't understand '{term}'"
                ))
            })?;
            let value = unescape(value)?;
            let field = field.trim().to_string();
            requirements.push(match op {
                "!=" => FieldRequirement::NotEquals(field, value),
                _ => FieldRequirement::Equals(field, value),
            });
        }
        Ok(FieldSelector { requirements })
    }

    /// Whether `obj` satisfies every term. A field is read by its dotted path
    /// (`metadata.name`, `spec.nodeName`, `involvedObject.kind`, `type`); a missing field
    /// reads as the empty string, as in Kubernetes' field sets.
    pub fn matches(&self, obj: &Value) -> bool {
        self.requirements.iter().all(|r| match r {
            FieldRequirement::Equals(f, v) => field_value(obj, f) == *v,
            FieldRequirement::NotEquals(f, v) => field_value(obj, f) != *v,
        })
    }

    /// The fields this selector refers to, so a server can reject unsupported ones.
    pub fn fields(&self) -> impl Iterator<Item = &str> {
        self.requirements.iter().map(|r| match r {
            FieldRequirement::Equals(f, _) | FieldRequirement::NotEquals(f, _) => f.as_str(),
        })
    }
}

/// The string form of the field at dotted `path` in `obj` ("" when absent).
pub fn field_value(obj: &Value, path: &str) -> String {
    let mut current = obj;
    for part in path.split('.') {
        match current.get(part) {
            Some(v) => current = v,
            None => return String::new(),
        }
    }
    match current {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn split_unescaped(s: &str, sep: char) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut escaped = false;
    for c in s.chars() {
        if escaped {
            current.push('\\');
            current.push(c);
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == sep {
            parts.push(std::mem::take(&mut current));
        } else {
            current.push(c);
        }
    }
    if escaped {
        current.push('\\');
    }
    parts.push(current);
    parts
}

fn split_term(term: &str) -> Option<(&str, &'static str, &str)> {
    let mut escaped = false;
    for (i, c) in term.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        if c == '\\' {
            escaped = true;
            continue;
        }
        for op in ["!=", "==", "="] {
            if term[i..].starts_with(op) {
                return Some((&term[..i], op, &term[i + op.len()..]));
            }
        }
    }
    None
}

fn unescape(value: &str) -> Result<String, SelectorError> {
    let mut out = String::new();
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some(e @ ('\\' | ',' | '=')) => out.push(e),
                _ => {
                    return Err(SelectorError(format!(
                        "invalid field selector: invalid escape sequence in '{value}'"
                    )));
                }
            }
        } else {
            out.push(c);
        }
    }
    Ok(out)
}
