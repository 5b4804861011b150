//! CustomResourceDefinition handling: name checks, accepted status, and serving its resources.

use serde_json::{Value, json};

use crate::error::{ApiError, Cause};
use crate::registry::{GroupResource, Registry, defs_from_crd};
use crate::store::Store;

pub const GROUP: &str = "apiextensions.k8s.io";

fn invalid(name: &str, field: &str, message: String) -> ApiError {
    ApiError::invalid(
        GROUP,
        "CustomResourceDefinition",
        name,
        vec![Cause {
            reason: "FieldValueInvalid".into(),
            message,
            field: field.into(),
        }],
    )
}

/// Validate a CRD the way the real server insists on, and fill its status.
pub fn prepare(crd: &mut Value) -> Result<(), ApiError> {
    let name = crate::store::meta_str(crd, "name").to_string();
    let text = |p: &str| {
        crd.pointer(p)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let (group, plural, kind) = (
        text("/spec/group"),
        text("/spec/names/plural"),
        text("/spec/names/kind"),
    );
    if group.is_empty() || plural.is_empty() || kind.is_empty() {
        return Err(invalid(
            &name,
            "spec",
            "Required value: spec.group, spec.names.plural and spec.names.kind are required".into(),
        ));
    }
    if name != format!("{plural}.{group}") {
        return Err(invalid(
            &name,
            "metadata.name",
            format!("Invalid value: \"{name}\": must be spec.names.plural+\".\"+spec.group"),
        ));
    }
    let versions = crd
        .pointer("/spec/versions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if versions.is_empty() {
        return Err(invalid(
            &name,
            "spec.versions",
            "Invalid value: must have exactly one version marked as storage version".into(),
        ));
    }
    let storage: Vec<&str> = versions
        .iter()
        .filter(|v| v.get("storage").and_then(Value::as_bool) == Some(true))
        .filter_map(|v| v.get("name").and_then(Value::as_str))
        .collect();
    if storage.len() != 1 {
        return Err(invalid(
            &name,
            "spec.versions",
            "Invalid value: must have exactly one version marked as storage version".into(),
        ));
    }
    if crd.pointer("/spec/scope").is_none() {
        crd["spec"]["scope"] = json!("Namespaced");
    }
    if crd.pointer("/spec/names/singular").is_none() {
        crd["spec"]["names"]["singular"] = json!(kind.to_ascii_lowercase());
    }
    if crd.pointer("/spec/names/listKind").is_none() {
        crd["spec"]["names"]["listKind"] = json!(format!("{kind}List"));
    }
    let storage = storage[0].to_string();
    prepare_status(crd);
    let stored = crd
        .pointer("/status/storedVersions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut stored: Vec<Value> = stored;
    if !stored.iter().any(|v| v == &json!(storage)) {
        stored.push(json!(storage));
    }
    crd["status"]["storedVersions"] = json!(stored);
    Ok(())
}

/// Conditions Established and NamesAccepted, and acceptedNames, as the CRD controller sets them.
pub fn prepare_status(crd: &mut Value) {
    let names = crd.pointer("/spec/names").cloned().unwrap_or(json!({}));
    if !crd.get("status").is_some_and(Value::is_object) {
        crd["status"] = json!({});
    }
    let now = crate::http_util::now_rfc3339();
    let cond = |t: &str, reason: &str, msg: &str| json!({"type": t, "status": "True", "lastTransitionTime": now, "reason": reason, "message": msg});
    crd["status"]["acceptedNames"] = names;
    if crd
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .is_none_or(|c| c.len() < 2)
    {
        crd["status"]["conditions"] = json!([
            cond("NamesAccepted", "NoConflicts", "no conflicts found"),
            cond(
                "Established",
                "InitialNamesAccepted",
                "the initial names have been accepted"
            ),
        ]);
    }
}

/// Re-register every resource defined by the stored CRDs.
pub fn sync_registry(store: &Store, registry: &Registry) {
    let (crds, _) = store.list(
        &GroupResource::new(GROUP, "customresourcedefinitions"),
        None,
    );
    let defs: Vec<_> = crds.iter().flat_map(|c| defs_from_crd(c)).collect();
    registry.set_custom(defs.into_iter().collect());
}
