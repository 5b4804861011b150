//! Composition of a HelmRelease's values as Flux does: `valuesFrom` references merged in order,
//! then `spec.values` on top (chart defaults are coalesced later by the renderer), and the
//! config digest Flux records for the result.

use std::collections::BTreeMap;

use flux_api::meta::{ValuesKind, ValuesReference};
use flux_helm::{strvals, values::merge_maps, yaml};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// The key read when a reference names none.
pub const DEFAULT_VALUES_KEY: &str = "values.yaml";

/// Why a values reference could not be used, with Flux's wording.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("could not resolve{optional} {kind} chart values reference '{namespace}/{name}' with key '{key}': {reason}", optional = if *.optional { " optional" } else { "" })]
pub struct ValuesError {
    pub kind: &'static str,
    pub namespace: String,
    pub name: String,
    pub key: String,
    pub optional: bool,
    pub reason: String,
}

/// The data of a referenced ConfigMap or Secret (Secret data already decoded), or `None` when
/// the object does not exist.
pub type Referent = Option<BTreeMap<String, String>>;

pub fn kind_name(kind: ValuesKind) -> &'static str {
    match kind {
        ValuesKind::ConfigMap => "ConfigMap",
        ValuesKind::Secret => "Secret",
    }
}

/// Merges the references in order (each looked up with `lookup(kind, name)`), then `spec_values`.
/// A missing object or key is skipped when the reference is optional, an error otherwise.
pub fn compose(
    namespace: &str,
    refs: &[ValuesReference],
    lookup: impl Fn(ValuesKind, &str) -> Referent,
    spec_values: Option<&Value>,
) -> Result<Map<String, Value>, ValuesError> {
    let mut result = Map::new();
    for r in refs {
        let key = r.values_key.as_deref().unwrap_or(DEFAULT_VALUES_KEY);
        let error = |reason: String| ValuesError {
            kind: kind_name(r.kind),
            namespace: namespace.to_string(),
            name: r.name.clone(),
            key: key.to_string(),
            optional: r.optional,
            reason,
        };
        let Some(data) = lookup(r.kind, &r.name) else {
            if r.optional {
                tracing::info!("{}", error("resource not found".into()));
                continue;
            }
            return Err(error("resource not found".into()));
        };
        let Some(text) = data.get(key) else {
            if r.optional {
                tracing::info!("{}", error("key not found".into()));
                continue;
            }
            return Err(error("key not found".into()));
        };
        if let Some(path) = r.target_path.as_deref().filter(|p| !p.is_empty()) {
            replace_path_value(&mut result, path, text).map_err(error)?;
            continue;
        }
        let values = yaml::parse_values(text).map_err(error)?;
        merge_maps(&mut result, values);
    }
    match spec_values {
        Some(Value::Object(m)) => merge_maps(&mut result, m.clone()),
        Some(Value::Null) | None => {}
        Some(_) => {
            return Err(ValuesError {
                kind: "HelmRelease",
                namespace: namespace.to_string(),
                name: "spec.values".into(),
                key: String::new(),
                optional: false,
                reason: "values must be a map".into(),
            });
        }
    }
    Ok(result)
}

/// Sets one value at a dotted path with Helm's `--set` parser; a quoted value is kept a string
/// (`--set-string`), as Flux's `ReplacePathValue`.
fn replace_path_value(
    values: &mut Map<String, Value>,
    path: &str,
    value: &str,
) -> Result<(), String> {
    let quoted = |q: char| value.len() >= 2 && value.starts_with(q) && value.ends_with(q);
    if quoted('\'') || quoted('"') {
        let trimmed = value.trim_matches(|c| c == '\'' || c == '"');
        return strvals::parse_into_string(&format!("{path}={trimmed}"), values);
    }
    strvals::parse_into(&format!("{path}={value}"), values)
}

/// `sha256:<hex>` of the values as JSON with sorted keys, like Flux's `chartutil.DigestValues`.
pub fn config_digest(values: &Map<String, Value>) -> String {
    let sorted = sort_keys(&Value::Object(values.clone()));
    let json = serde_json::to_vec(&sorted).unwrap_or_default();
    format!("sha256:{}", hex::encode(Sha256::digest(&json)))
}

fn sort_keys(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let sorted: BTreeMap<&String, Value> =
                m.iter().map(|(k, v)| (k, sort_keys(v))).collect();
            Value::Object(sorted.into_iter().map(|(k, v)| (k.clone(), v)).collect())
        }
        Value::Array(a) => Value::Array(a.iter().map(sort_keys).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn reference(
        kind: ValuesKind,
        name: &str,
        key: Option<&str>,
        path: Option<&str>,
        optional: bool,
    ) -> ValuesReference {
        ValuesReference {
            kind,
            name: name.into(),
            values_key: key.map(String::from),
            target_path: path.map(String::from),
            optional,
        }
    }

    fn data(pairs: &[(&str, &str)]) -> Referent {
        Some(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn references_merge_in_order_and_spec_values_win() {
        let refs = [
            reference(ValuesKind::ConfigMap, "base", None, None, false),
            reference(ValuesKind::Secret, "override", Some("extra"), None, false),
        ];
        let lookup = |kind, name: &str| match (kind, name) {
            (ValuesKind::ConfigMap, "base") => data(&[(
                "values.yaml",
                "a: 1\nnested:\n  first: base\n  second: base\n",
            )]),
            (ValuesKind::Secret, "override") => {
                data(&[("extra", "nested:\n  second: secret\nb: 2\n")])
            }
            _ => None,
        };
        let spec = json!({"b": 3, "nested": {"z": "spec"}});
        let out = compose("apps", &refs, lookup, Some(&spec)).expect("compose");
        assert_eq!(
            Value::Object(out),
            // Values read from YAML are float64 numbers, as in Helm.
            json!({"a": 1.0, "nested": {"first": "base", "second": "secret", "z": "spec"}, "b": 3})
        );
    }

    #[test]
    fn missing_optional_reference_and_key_are_skipped() {
        let refs = [
            reference(ValuesKind::ConfigMap, "absent", None, None, true),
            reference(ValuesKind::ConfigMap, "present", Some("nokey"), None, true),
        ];
        let lookup = |_, name: &str| {
            if name == "present" {
                data(&[("values.yaml", "a: 1")])
            } else {
                None
            }
        };
        let out = compose("apps", &refs, lookup, None).expect("compose");
        assert!(out.is_empty());
    }

    #[test]
    fn missing_required_reference_reports_flux_message() {
        let refs = [reference(
            ValuesKind::ConfigMap,
            "absent",
            None,
            None,
            false,
        )];
        let err = compose("apps", &refs, |_, _| None, None).expect_err("must fail");
        assert_eq!(
            err.to_string(),
            "could not resolve ConfigMap chart values reference 'apps/absent' with key 'values.yaml': resource not found"
        );
    }

    #[test]
    fn missing_required_key_reports_key_not_found() {
        let refs = [reference(ValuesKind::Secret, "s", Some("k"), None, false)];
        let err =
            compose("apps", &refs, |_, _| data(&[("other", "x")]), None).expect_err("must fail");
        assert!(
            err.to_string()
                .ends_with("'apps/s' with key 'k': key not found"),
            "{err}"
        );
    }

    #[test]
    fn target_path_sets_a_typed_value_and_quoted_stays_string() {
        let refs = [
            reference(
                ValuesKind::ConfigMap,
                "cm",
                Some("replicas"),
                Some("deploy.replicas"),
                false,
            ),
            reference(
                ValuesKind::ConfigMap,
                "cm",
                Some("tag"),
                Some("image.tag"),
                false,
            ),
        ];
        let lookup = |_, _: &str| data(&[("replicas", "3"), ("tag", "\"123\"")]);
        let out = compose("apps", &refs, lookup, None).expect("compose");
        assert_eq!(
            Value::Object(out),
            json!({"deploy": {"replicas": 3}, "image": {"tag": "123"}})
        );
    }

    #[test]
    fn invalid_yaml_in_reference_is_an_error_not_a_panic() {
        let refs = [reference(ValuesKind::ConfigMap, "cm", None, None, false)];
        let err = compose(
            "apps",
            &refs,
            |_, _| data(&[("values.yaml", "- a\n- b\n")]),
            None,
        )
        .expect_err("list is not a map");
        assert!(err.to_string().contains("'apps/cm'"));
    }

    #[test]
    fn config_digest_ignores_key_order() {
        let a = json!({"a": 1, "b": {"c": 2, "d": 3}});
        let b = json!({"b": {"d": 3, "c": 2}, "a": 1});
        let (Value::Object(a), Value::Object(b)) = (a, b) else {
            unreachable!()
        };
        assert_eq!(config_digest(&a), config_digest(&b));
        assert!(config_digest(&a).starts_with("sha256:"));
    }
}
