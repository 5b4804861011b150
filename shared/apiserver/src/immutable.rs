//! Fields the real server refuses to change after creation. kustomize-controller's `force`
//! recreates objects when it sees these errors, so their wording follows Kubernetes.

use serde_json::{Value, json};

use crate::error::{ApiError, Cause};
use crate::registry::ResourceDef;
use crate::store::meta_str;

fn at<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    v.pointer(path)
}

fn changed(old: &Value, new: &Value, path: &str) -> bool {
    at(old, path) != at(new, path)
}

fn cause(field: &str, message: String) -> Cause {
    Cause {
        reason: if message.starts_with("Forbidden") {
            "FieldValueForbidden"
        } else {
            "FieldValueInvalid"
        }
        .into(),
        message,
        field: field.into(),
    }
}

fn immutable_value(old: &Value, new: &Value, path: &str, field: &str, out: &mut Vec<Cause>) {
    if changed(old, new, path) {
        let shown = at(new, path)
            .map(Value::to_string)
            .unwrap_or_else(|| "null".into());
        out.push(cause(
            field,
            format!("Invalid value: {shown}: field is immutable"),
        ));
    }
}

/// Carry over values the server allocated and the client did not resend (Service cluster IPs).
pub fn keep_allocated(def: &ResourceDef, old: &Value, new: &mut Value) {
    if def.group.is_empty() && def.plural == "services" {
        for key in ["clusterIP", "clusterIPs"] {
            if at(new, &format!("/spec/{key}")).is_none()
                && let Some(v) = at(old, &format!("/spec/{key}"))
                && let Some(spec) = new.get_mut("spec").and_then(Value::as_object_mut)
            {
                spec.insert(key.into(), v.clone());
            }
        }
    }
}

/// The 422 for an update that changes an immutable field, if it does.
pub fn check(def: &ResourceDef, old: &Value, new: &Value) -> Result<(), ApiError> {
    let mut out = Vec::new();
    match (def.group.as_str(), def.plural.as_str()) {
        ("", "configmaps" | "secrets") if at(old, "/immutable") == Some(&json!(true)) => {
            for field in ["data", "binaryData"] {
                if changed(old, new, &format!("/{field}")) {
                    out.push(cause(
                        field,
                        "Forbidden: field is immutable when `immutable` is set".into(),
                    ));
                }
            }
            if at(new, "/immutable") != Some(&json!(true)) {
                out.push(cause(
                    "immutable",
                    "Forbidden: field is immutable when `immutable` is set".into(),
                ));
            }
        }
        ("apps", "deployments" | "replicasets" | "daemonsets") => {
            immutable_value(old, new, "/spec/selector", "spec.selector", &mut out);
        }
        ("apps", "statefulsets") => {
            let mut o = at(old, "/spec").cloned().unwrap_or(json!({}));
            let mut n = at(new, "/spec").cloned().unwrap_or(json!({}));
            for v in [&mut o, &mut n] {
                if let Some(m) = v.as_object_mut() {
                    for k in [
                        "replicas",
                        "ordinals",
                        "template",
                        "updateStrategy",
                        "persistentVolumeClaimRetentionPolicy",
                        "minReadySeconds",
                    ] {
                        m.remove(k);
                    }
                }
            }
            if o != n {
                out.push(cause("spec", "Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden".into()));
            }
        }
        ("batch", "jobs") => {
            immutable_value(old, new, "/spec/selector", "spec.selector", &mut out);
            immutable_value(old, new, "/spec/template", "spec.template", &mut out);
        }
        ("", "services") => {
            let (o, n) = (at(old, "/spec/clusterIP"), at(new, "/spec/clusterIP"));
            if o.is_some() && n.is_some() && o != n {
                out.push(cause(
                    "spec.clusterIPs[0]",
                    format!(
                        "Invalid value: []string{{{}}}: may not change once set",
                        n.map(Value::to_string).unwrap_or_default()
                    ),
                ));
            }
        }
        ("", "persistentvolumeclaims") => {
            let strip = |v: &Value| {
                let mut s = at(v, "/spec").cloned().unwrap_or(json!({}));
                if let Some(r) = s.pointer_mut("/resources").and_then(Value::as_object_mut) {
                    r.remove("requests");
                }
                if let Some(m) = s.as_object_mut() {
                    m.remove("volumeAttributesClassName");
                    // The binder fills volumeName; clients leaving it out are not changing it.
                    if at(new, "/spec/volumeName").is_none() {
                        m.remove("volumeName");
                    }
                }
                s
            };
            if strip(old) != strip(new) {
                out.push(cause("spec", "Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims".into()));
            }
        }
        _ => {}
    }
    if out.is_empty() {
        Ok(())
    } else {
        Err(ApiError::invalid(
            &def.group,
            &def.kind,
            meta_str(old, "name"),
            out,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::Registry;

    fn def(group: &str, plural: &str) -> std::sync::Arc<ResourceDef> {
        match Registry::new().lookup(group, "v1", plural) {
            Some(d) => d,
            None => panic!("{plural} not served"),
        }
    }

    #[test]
    fn deployment_selector_change_is_field_is_immutable() {
        let d = def("apps", "deployments");
        let old =
            json!({"metadata": {"name": "d"}, "spec": {"selector": {"matchLabels": {"a": "1"}}}});
        let new =
            json!({"metadata": {"name": "d"}, "spec": {"selector": {"matchLabels": {"a": "2"}}}});
        let e = check(&d, &old, &new)
            .err()
            .map(|e| e.message)
            .unwrap_or_default();
        assert!(
            e.contains("spec.selector") && e.contains("field is immutable"),
            "{e}"
        );
        assert!(check(&d, &old, &old).is_ok());
    }

    #[test]
    fn immutable_configmap_data_cannot_change() {
        let d = def("", "configmaps");
        let old = json!({"metadata": {"name": "c"}, "immutable": true, "data": {"a": "1"}});
        let new = json!({"metadata": {"name": "c"}, "immutable": true, "data": {"a": "2"}});
        assert_eq!(check(&d, &old, &new).err().map(|e| e.code), Some(422));
    }

    #[test]
    fn service_update_without_cluster_ip_keeps_the_allocated_one() {
        let d = def("", "services");
        let old = json!({"spec": {"clusterIP": "10.96.0.5", "clusterIPs": ["10.96.0.5"]}});
        let mut new = json!({"spec": {"ports": []}});
        keep_allocated(&d, &old, &mut new);
        assert_eq!(new["spec"]["clusterIP"], "10.96.0.5");
        assert!(check(&d, &old, &new).is_ok());
    }
}
