//! Query-string parts of list, watch and deletecollection: selectors and continue tokens.

use std::collections::HashMap;

use base64::Engine;
use flux_apimachinery::selectors::{FieldRequirement, FieldSelector, LabelSelector};
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::objects;
use crate::store::meta_str;

/// The name an equality field selector pins (`metadata.name=x`), for watches of one object.
pub fn selected_name(f: &FieldSelector) -> Option<&str> {
    f.requirements.iter().find_map(|r| match r {
        FieldRequirement::Equals(k, v) if k == "metadata.name" => Some(v.as_str()),
        _ => None,
    })
}

/// Label and field selector of a list, watch or deletecollection.
pub struct Filter {
    pub labels: Option<LabelSelector>,
    pub fields: FieldSelector,
}

impl Filter {
    pub fn from_query(q: &HashMap<String, String>) -> Result<Self, ApiError> {
        let labels =
            match q.get("labelSelector").filter(|s| !s.is_empty()) {
                Some(s) => Some(LabelSelector::parse(s).map_err(|e| {
                    ApiError::bad_request(format!("unable to parse requirement: {e}"))
                })?),
                None => None,
            };
        let fields = FieldSelector::parse(q.get("fieldSelector").map(String::as_str).unwrap_or(""))
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
        Ok(Self { labels, fields })
    }

    pub fn matches(&self, obj: &Value) -> bool {
        self.labels
            .as_ref()
            .is_none_or(|l| l.matches(&objects::labels(obj)))
            && self.fields.matches(obj)
    }
}

pub fn encode_continue(rv: u64, last: &Value) -> String {
    let raw = json!({"rv": rv, "ns": meta_str(last, "namespace"), "name": meta_str(last, "name")})
        .to_string();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

pub fn decode_continue(token: &str) -> Result<(u64, (String, String)), ApiError> {
    let bad = || ApiError::bad_request("continue key is not valid: could not decode");
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .map_err(|_| bad())?;
    let v: Value = serde_json::from_slice(&raw).map_err(|_| bad())?;
    let rv = v.get("rv").and_then(Value::as_u64).ok_or_else(bad)?;
    let s = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    Ok((rv, (s("ns"), s("name"))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continue_tokens_round_trip_and_reject_garbage() {
        let t = encode_continue(7, &json!({"metadata": {"name": "b", "namespace": "x"}}));
        assert_eq!(
            decode_continue(&t).ok(),
            Some((7, ("x".into(), "b".into())))
        );
        assert!(decode_continue("!!!").is_err());
    }
}
