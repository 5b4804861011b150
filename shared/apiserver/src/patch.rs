//! Patches of the three JSON flavours and setting a dotted field path.

use flux_apimachinery::{json_patch, merge_patch, strategic_merge};
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::objects::meta_mut;
use crate::registry::ResourceDef;

pub fn set_path(obj: &mut Value, path: &str, v: Value) -> Result<(), ApiError> {
    let keys: Vec<&str> = path
        .trim_start_matches('.')
        .split('.')
        .filter(|k| !k.is_empty())
        .collect();
    let mut cur = obj;
    for (i, k) in keys.iter().enumerate() {
        if cur.is_null() {
            *cur = json!({});
        }
        let Some(m) = cur.as_object_mut() else {
            return Err(ApiError::bad_request(format!(
                "cannot set {path}: not an object"
            )));
        };
        if i + 1 == keys.len() {
            m.insert(k.to_string(), v);
            return Ok(());
        }
        cur = m.entry(k.to_string()).or_insert_with(|| json!({}));
    }
    Ok(())
}

pub fn apply_patch(
    def: &ResourceDef,
    ctype: &str,
    old: &Value,
    patch: &Value,
) -> Result<Value, ApiError> {
    let bad = |e: flux_apimachinery::PatchError| match e {
        flux_apimachinery::PatchError::TestFailed { .. } => {
            ApiError::new(422, "Invalid", e.to_string())
        }
        _ => ApiError::new(422, "Invalid", e.to_string()),
    };
    let mut base = old.clone();
    if let Some(m) = base.get_mut("metadata").and_then(Value::as_object_mut) {
        m.remove("managedFields");
    }
    let mut out = match ctype {
        "application/json-patch+json" => json_patch::apply(&base, patch).map_err(bad)?,
        "application/merge-patch+json" | "application/json" => {
            if !patch.is_object() {
                return Err(ApiError::bad_request("merge patch must be a JSON object"));
            }
            merge_patch::apply(&base, patch)
        }
        "application/strategic-merge-patch+json" => {
            strategic_merge::apply(&base, patch, def.merge.as_deref()).map_err(bad)?
        }
        other => return Err(ApiError::unsupported_media_type(other)),
    };
    if !out.is_object() {
        return Err(ApiError::new(
            422,
            "Invalid",
            "the patched object is not a JSON object",
        ));
    }
    if let Some(mf) = old.pointer("/metadata/managedFields")
        && out.pointer("/metadata/managedFields").is_none()
    {
        meta_mut(&mut out).insert("managedFields".into(), mf.clone());
    }
    Ok(out)
}
