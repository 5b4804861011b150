//! OpenAPI v3 validation of custom resources, worded like the Kubernetes API server's
//! messages (`spec.replicas: Invalid value: "string": spec.replicas in body must be of type
//! integer: "string"`).

use std::collections::HashSet;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    JSONSchemaProps, JSONSchemaPropsOrArray, JSONSchemaPropsOrBool,
};
use serde_json::Value;

use super::{FieldError, FieldErrorKind};

/// Validates `obj` against `schema` and returns every violation, in document order.
/// The root's `apiVersion`, `kind` and `metadata` are not checked against the schema: the API
/// server validates them as `ObjectMeta`.
pub fn validate(obj: &Value, schema: &JSONSchemaProps) -> Vec<FieldError> {
    let mut errors = Vec::new();
    validate_node(obj, schema, "", true, &mut errors);
    errors
}

fn child_path(parent: &str, name: &str) -> String {
    if parent.is_empty() {
        name.to_string()
    } else {
        format!("{parent}.{name}")
    }
}

fn display_path(path: &str) -> &str {
    if path.is_empty() { "<root>" } else { path }
}

/// The JSON type name Kubernetes prints for a value.
fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(n) if n.as_f64().is_some_and(|f| f.fract() == 0.0) => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// How a value appears after "Invalid value:" (Go's `%#v` for scalars, the type otherwise).
fn show(value: &Value) -> String {
    match value {
        Value::String(s) => Value::String(s.clone()).to_string(),
        Value::Number(_) | Value::Bool(_) => value.to_string(),
        other => format!("\"{}\"", type_name(other)),
    }
}

fn push(errors: &mut Vec<FieldError>, path: &str, kind: FieldErrorKind, message: String) {
    errors.push(FieldError {
        field: display_path(path).to_string(),
        kind,
        message,
    });
}

fn invalid(errors: &mut Vec<FieldError>, path: &str, value: &Value, detail: String) {
    let message = format!("{}: {} in body {detail}", show(value), display_path(path));
    push(errors, path, FieldErrorKind::Invalid, message);
}

fn type_matches(expected: &str, value: &Value) -> bool {
    match expected {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "boolean" => value.is_boolean(),
        "number" => value.is_number(),
        "integer" => type_name(value) == "integer",
        _ => true,
    }
}

fn validate_node(
    value: &Value,
    schema: &JSONSchemaProps,
    path: &str,
    is_root: bool,
    errors: &mut Vec<FieldError>,
) {
    if value.is_null() {
        if schema.nullable == Some(true) || schema.type_.is_none() {
            return;
        }
        let expected = schema.type_.as_deref().unwrap_or_default();
        let message = format!(
            "\"null\": {} in body must be of type {expected}: \"null\"",
            display_path(path)
        );
        push(errors, path, FieldErrorKind::TypeInvalid, message);
        return;
    }
    if schema.x_kubernetes_int_or_string == Some(true) {
        if !(value.is_string() || type_name(value) == "integer") {
            let message = format!(
                "{}: {} in body must be of type integer,string: \"{}\"",
                show(value),
                display_path(path),
                type_name(value)
            );
            push(errors, path, FieldErrorKind::TypeInvalid, message);
            return;
        }
    } else if let Some(expected) = schema.type_.as_deref()
        && !type_matches(expected, value)
    {
        let actual = type_name(value);
        let message = format!(
            "\"{actual}\": {} in body must be of type {expected}: \"{actual}\"",
            display_path(path)
        );
        push(errors, path, FieldErrorKind::TypeInvalid, message);
        return;
    }

    if let Some(allowed) = &schema.enum_
        && !allowed.iter().any(|a| &a.0 == value)
    {
        let supported = allowed
            .iter()
            .map(|a| a.0.to_string())
            .collect::<Vec<_>>()
            .join(", ");
        let message = format!("{}: supported values: {supported}", value_text(value));
        push(errors, path, FieldErrorKind::NotSupported, message);
    }

    match value {
        Value::String(s) => validate_string(s, value, schema, path, errors),
        Value::Number(_) => validate_number(value, schema, path, errors),
        Value::Array(items) => validate_array(items, value, schema, path, errors),
        Value::Object(_) => validate_object(value, schema, path, is_root, errors),
        _ => {}
    }
    validate_combinators(value, schema, path, errors);
}

/// The value as the "Unsupported value" message quotes it.
fn value_text(value: &Value) -> String {
    match value {
        Value::Object(_) | Value::Array(_) => format!("\"{}\"", type_name(value)),
        other => other.to_string(),
    }
}

fn validate_string(
    s: &str,
    value: &Value,
    schema: &JSONSchemaProps,
    path: &str,
    errors: &mut Vec<FieldError>,
) {
    let chars = s.chars().count() as i64;
    if let Some(max) = schema.max_length
        && chars > max
    {
        push(
            errors,
            path,
            FieldErrorKind::TooLong,
            format!(
                "may not be more than {max} {}",
                if max == 1 { "byte" } else { "bytes" }
            ),
        );
    }
    if let Some(min) = schema.min_length
        && chars < min
    {
        invalid(
            errors,
            path,
            value,
            format!("should be at least {min} chars long"),
        );
    }
    if let Some(pattern) = &schema.pattern
        && let Ok(re) = regex::Regex::new(pattern)
        && !re.is_match(s)
    {
        invalid(errors, path, value, format!("should match '{pattern}'"));
    }
    if let Some(format) = &schema.format
        && !super::formats::is_valid(format, s)
    {
        invalid(
            errors,
            path,
            value,
            format!("must be of type {format}: {value}"),
        );
    }
}

fn validate_number(
    value: &Value,
    schema: &JSONSchemaProps,
    path: &str,
    errors: &mut Vec<FieldError>,
) {
    let Some(n) = value.as_f64() else { return };
    if let Some(max) = schema.maximum {
        let exclusive = schema.exclusive_maximum == Some(true);
        if (exclusive && n >= max) || (!exclusive && n > max) {
            let op = if exclusive {
                "less than"
            } else {
                "less than or equal to"
            };
            invalid(
                errors,
                path,
                value,
                format!("should be {op} {}", number_text(max)),
            );
        }
    }
    if let Some(min) = schema.minimum {
        let exclusive = schema.exclusive_minimum == Some(true);
        if (exclusive && n <= min) || (!exclusive && n < min) {
            let op = if exclusive {
                "greater than"
            } else {
                "greater than or equal to"
            };
            invalid(
                errors,
                path,
                value,
                format!("should be {op} {}", number_text(min)),
            );
        }
    }
    if let Some(factor) = schema.multiple_of
        && factor != 0.0
        && (n / factor).fract() != 0.0
    {
        invalid(
            errors,
            path,
            value,
            format!("should be a multiple of {}", number_text(factor)),
        );
    }
    if let Some(format) = &schema.format {
        let out_of_range = match format.as_str() {
            "int32" => n < i32::MIN as f64 || n > i32::MAX as f64,
            "int64" => n < i64::MIN as f64 || n > i64::MAX as f64,
            _ => false,
        };
        if out_of_range {
            invalid(errors, path, value, format!("must be of type {format}"));
        }
    }
}

fn number_text(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        n.to_string()
    }
}

fn validate_array(
    items: &[Value],
    value: &Value,
    schema: &JSONSchemaProps,
    path: &str,
    errors: &mut Vec<FieldError>,
) {
    let len = items.len() as i64;
    if let Some(max) = schema.max_items
        && len > max
    {
        push(
            errors,
            path,
            FieldErrorKind::TooMany,
            format!("{len}: must have at most {max} items"),
        );
    }
    if let Some(min) = schema.min_items
        && len < min
    {
        invalid(
            errors,
            path,
            value,
            format!("should have at least {min} items"),
        );
    }
    let list_type = schema.x_kubernetes_list_type.as_deref();
    if schema.unique_items == Some(true) || list_type == Some("set") {
        let mut seen = HashSet::new();
        for (i, item) in items.iter().enumerate() {
            if !seen.insert(item.to_string()) {
                push(
                    errors,
                    &format!("{path}[{i}]"),
                    FieldErrorKind::Duplicate,
                    value_text(item),
                );
            }
        }
    }
    if list_type == Some("map") {
        let keys = schema
            .x_kubernetes_list_map_keys
            .clone()
            .unwrap_or_default();
        let mut seen = HashSet::new();
        for (i, item) in items.iter().enumerate() {
            let key: Vec<String> = keys
                .iter()
                .map(|k| item.get(k).map(Value::to_string).unwrap_or_default())
                .collect();
            if !seen.insert(key) {
                let shown = keys
                    .iter()
                    .map(|k| {
                        let v = item.get(k).cloned().unwrap_or(Value::Null);
                        format!("\"{k}\":{v}")
                    })
                    .collect::<Vec<_>>()
                    .join(",");
                push(
                    errors,
                    &format!("{path}[{i}]"),
                    FieldErrorKind::Duplicate,
                    format!("map[{shown}]"),
                );
            }
        }
    }
    if let Some(JSONSchemaPropsOrArray::Schema(item_schema)) = &schema.items {
        for (i, item) in items.iter().enumerate() {
            let item_path = format!("{path}[{i}]");
            validate_node(item, item_schema, &item_path, false, errors);
        }
    }
}

fn validate_object(
    value: &Value,
    schema: &JSONSchemaProps,
    path: &str,
    is_root: bool,
    errors: &mut Vec<FieldError>,
) {
    let Value::Object(members) = value else {
        return;
    };
    let skip = |name: &str| is_root && matches!(name, "apiVersion" | "kind" | "metadata");
    for name in schema.required.iter().flatten() {
        if !skip(name) && !members.contains_key(name) {
            push(
                errors,
                &child_path(path, name),
                FieldErrorKind::Required,
                String::new(),
            );
        }
    }
    if schema.x_kubernetes_embedded_resource == Some(true) {
        for name in ["apiVersion", "kind"] {
            if members
                .get(name)
                .and_then(Value::as_str)
                .is_none_or(str::is_empty)
            {
                push(
                    errors,
                    &child_path(path, name),
                    FieldErrorKind::Required,
                    "must not be empty".into(),
                );
            }
        }
    }
    let count = members.len() as i64;
    if let Some(max) = schema.max_properties
        && count > max
    {
        // Only maxItems becomes "Too many"; the API server reports other bounds as invalid.
        invalid(
            errors,
            path,
            value,
            format!("should have at most {max} properties"),
        );
    }
    if let Some(min) = schema.min_properties
        && count < min
    {
        invalid(
            errors,
            path,
            value,
            format!("should have at least {min} properties"),
        );
    }
    for (name, member) in members {
        if skip(name) {
            continue;
        }
        let member_path = child_path(path, name);
        if let Some(prop) = schema.properties.as_ref().and_then(|p| p.get(name)) {
            validate_node(member, prop, &member_path, false, errors);
        } else {
            match &schema.additional_properties {
                Some(JSONSchemaPropsOrBool::Schema(values)) => {
                    validate_node(member, values, &member_path, false, errors)
                }
                Some(JSONSchemaPropsOrBool::Bool(false)) => push(
                    errors,
                    &member_path,
                    FieldErrorKind::Forbidden,
                    format!("{member_path} in body is a forbidden property"),
                ),
                _ => {}
            }
        }
    }
}

fn errors_of(value: &Value, schema: &JSONSchemaProps, path: &str) -> Vec<FieldError> {
    let mut errors = Vec::new();
    validate_node(value, schema, path, false, &mut errors);
    errors
}

fn validate_combinators(
    value: &Value,
    schema: &JSONSchemaProps,
    path: &str,
    errors: &mut Vec<FieldError>,
) {
    for sub in schema.all_of.iter().flatten() {
        errors.extend(errors_of(value, sub, path));
    }
    if let Some(any_of) = &schema.any_of
        && !any_of.is_empty()
        && !any_of.iter().any(|s| errors_of(value, s, path).is_empty())
    {
        invalid(
            errors,
            path,
            value,
            "must validate at least one schema (anyOf)".into(),
        );
    }
    if let Some(one_of) = &schema.one_of
        && !one_of.is_empty()
    {
        let passing = one_of
            .iter()
            .filter(|s| errors_of(value, s, path).is_empty())
            .count();
        if passing != 1 {
            invalid(
                errors,
                path,
                value,
                "must validate one and only one schema (oneOf)".into(),
            );
        }
    }
    if let Some(not) = &schema.not
        && errors_of(value, not, path).is_empty()
    {
        invalid(
            errors,
            path,
            value,
            "must not validate the schema (not)".into(),
        );
    }
}
