//! Deleting one object with DeleteOptions semantics: preconditions, propagation, finalizers.

use std::sync::Arc;

use http::StatusCode;
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::objects::{self, finalizers, is_deleting, meta_mut};
use crate::patch::set_path;
use crate::registry::ResourceDef;
use crate::server::ServerState;
use crate::store::{Change, meta_str};

/// Delete one object with DeleteOptions semantics (preconditions, propagation, finalizers).
/// Returns 200 with the removed object, or 202 with the object now pending deletion.
pub fn delete_object(
    st: &ServerState,
    def: &ResourceDef,
    ns: &str,
    name: &str,
    opts: &Value,
    dry_run: bool,
) -> Result<(StatusCode, Option<Arc<Value>>), ApiError> {
    let policy = opts
        .get("propagationPolicy")
        .and_then(Value::as_str)
        .unwrap_or("Background")
        .to_string();
    if !matches!(policy.as_str(), "Background" | "Foreground" | "Orphan") {
        return Err(ApiError::invalid_field(
            &def.group,
            &def.kind,
            name,
            "propagationPolicy",
            &format!(
                "Unsupported value: \"{policy}\": supported values: \"Foreground\", \"Background\", \"Orphan\""
            ),
        ));
    }
    let orphan = policy == "Orphan" || opts.get("orphanDependents") == Some(&json!(true));
    let mut pending = false;
    let (_, new) = st.store.transact(&def.gr(), ns, name, dry_run, |old| {
        let Some(old) = old else {
            return Err(ApiError::not_found(&def.group, &def.plural, name));
        };
        if let Some(uid) = opts.pointer("/preconditions/uid").and_then(Value::as_str)
            && uid != meta_str(old, "uid") {
                return Err(ApiError::conflict(&def.group, &def.plural, name, &format!("Precondition failed: UID in precondition: {uid}, UID in object meta: {}", meta_str(old, "uid"))));
            }
        if let Some(rv) = opts.pointer("/preconditions/resourceVersion").and_then(Value::as_str)
            && rv != meta_str(old, "resourceVersion") {
                return Err(ApiError::conflict(&def.group, &def.plural, name, &format!("Precondition failed: ResourceVersion in precondition: {rv}, ResourceVersion in object meta: {}", meta_str(old, "resourceVersion"))));
            }
        let mut fins = finalizers(old);
        let extra = if policy == "Foreground" { Some("foregroundDeletion") } else if orphan { Some("orphan") } else { None };
        if let Some(f) = extra
            && !fins.iter().any(|x| x == f) {
                fins.push(f.to_string());
            }
        let namespace_pending = def.group.is_empty() && def.plural == "namespaces";
        if fins.is_empty() && !namespace_pending {
            return Ok(Change::Delete);
        }
        pending = true;
        if is_deleting(old) && extra.is_none() {
            return Ok(Change::Put(old.as_ref().clone()));
        }
        let mut new = old.as_ref().clone();
        let m = meta_mut(&mut new);
        if !m.contains_key("deletionTimestamp") {
            m.insert("deletionTimestamp".into(), json!(crate::http_util::now_rfc3339()));
            m.insert("deletionGracePeriodSeconds".into(), json!(0));
        }
        m.insert("finalizers".into(), json!(fins));
        if namespace_pending {
            set_path(&mut new, ".status.phase", json!("Terminating"))?;
        }
        objects::bump_generation(def, old, &mut new);
        Ok(Change::Put(new))
    })?;
    Ok((
        if pending {
            StatusCode::ACCEPTED
        } else {
            StatusCode::OK
        },
        new,
    ))
}
