//! Built-in kinds decoded through their k8s-openapi types, as the real server decodes into Go
//! structs: unknown fields are dropped (or rejected under `fieldValidation=Strict`), wrongly
//! typed values are a 400, and timestamps come out in the server's canonical form.

use k8s_openapi::api::{
    admissionregistration::v1 as admission, apps::v1 as apps, autoscaling::v2 as autoscaling,
    batch::v1 as batch, certificates::v1 as certificates, coordination::v1 as coordination,
    core::v1 as core, discovery::v1 as discovery, events::v1 as events,
    networking::v1 as networking, node::v1 as node, policy::v1 as policy, rbac::v1 as rbac,
    scheduling::v1 as scheduling, storage::v1 as storage,
};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1 as apiextensions;
use k8s_openapi::kube_aggregator::pkg::apis::apiregistration::v1 as apiregistration;
use serde_json::Value;

use crate::error::ApiError;
use crate::registry::ResourceDef;

type RoundTrip = fn(&Value) -> Result<Value, String>;

fn via<T: serde::de::DeserializeOwned + serde::Serialize>(obj: &Value) -> Result<Value, String> {
    let typed: T = serde_json::from_value(obj.clone()).map_err(|e| e.to_string())?;
    serde_json::to_value(typed).map_err(|e| e.to_string())
}

fn round_trip(group: &str, kind: &str) -> Option<RoundTrip> {
    Some(match (group, kind) {
        ("", "Namespace") => via::<core::Namespace>,
        ("", "ConfigMap") => via::<core::ConfigMap>,
        ("", "Secret") => via::<core::Secret>,
        ("", "ServiceAccount") => via::<core::ServiceAccount>,
        ("", "Service") => via::<core::Service>,
        ("", "Endpoints") => via::<core::Endpoints>,
        ("", "Event") => via::<core::Event>,
        ("", "Pod") => via::<core::Pod>,
        ("", "PersistentVolumeClaim") => via::<core::PersistentVolumeClaim>,
        ("", "ResourceQuota") => via::<core::ResourceQuota>,
        ("", "LimitRange") => via::<core::LimitRange>,
        ("", "PersistentVolume") => via::<core::PersistentVolume>,
        ("", "Node") => via::<core::Node>,
        ("", "ReplicationController") => via::<core::ReplicationController>,
        ("", "PodTemplate") => via::<core::PodTemplate>,
        ("apps", "Deployment") => via::<apps::Deployment>,
        ("apps", "ReplicaSet") => via::<apps::ReplicaSet>,
        ("apps", "StatefulSet") => via::<apps::StatefulSet>,
        ("apps", "DaemonSet") => via::<apps::DaemonSet>,
        ("apps", "ControllerRevision") => via::<apps::ControllerRevision>,
        ("batch", "Job") => via::<batch::Job>,
        ("batch", "CronJob") => via::<batch::CronJob>,
        ("networking.k8s.io", "Ingress") => via::<networking::Ingress>,
        ("networking.k8s.io", "NetworkPolicy") => via::<networking::NetworkPolicy>,
        ("networking.k8s.io", "IngressClass") => via::<networking::IngressClass>,
        ("autoscaling", "HorizontalPodAutoscaler") => via::<autoscaling::HorizontalPodAutoscaler>,
        ("policy", "PodDisruptionBudget") => via::<policy::PodDisruptionBudget>,
        ("rbac.authorization.k8s.io", "Role") => via::<rbac::Role>,
        ("rbac.authorization.k8s.io", "ClusterRole") => via::<rbac::ClusterRole>,
        ("rbac.authorization.k8s.io", "RoleBinding") => via::<rbac::RoleBinding>,
        ("rbac.authorization.k8s.io", "ClusterRoleBinding") => via::<rbac::ClusterRoleBinding>,
        ("coordination.k8s.io", "Lease") => via::<coordination::Lease>,
        ("events.k8s.io", "Event") => via::<events::Event>,
        ("apiextensions.k8s.io", "CustomResourceDefinition") => {
            via::<apiextensions::CustomResourceDefinition>
        }
        ("discovery.k8s.io", "EndpointSlice") => via::<discovery::EndpointSlice>,
        ("storage.k8s.io", "StorageClass") => via::<storage::StorageClass>,
        ("storage.k8s.io", "CSIDriver") => via::<storage::CSIDriver>,
        ("scheduling.k8s.io", "PriorityClass") => via::<scheduling::PriorityClass>,
        ("node.k8s.io", "RuntimeClass") => via::<node::RuntimeClass>,
        ("admissionregistration.k8s.io", "MutatingWebhookConfiguration") => {
            via::<admission::MutatingWebhookConfiguration>
        }
        ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration") => {
            via::<admission::ValidatingWebhookConfiguration>
        }
        ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy") => {
            via::<admission::ValidatingAdmissionPolicy>
        }
        ("admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding") => {
            via::<admission::ValidatingAdmissionPolicyBinding>
        }
        ("apiregistration.k8s.io", "APIService") => via::<apiregistration::APIService>,
        ("certificates.k8s.io", "CertificateSigningRequest") => {
            via::<certificates::CertificateSigningRequest>
        }
        _ => return None,
    })
}

/// Paths present (and not null) in `before` but missing from `after`.
pub fn removed_fields(before: &Value, after: &Value, prefix: &str, out: &mut Vec<String>) {
    match (before, after) {
        (Value::Object(b), Value::Object(a)) => {
            for (k, bv) in b {
                let path = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                match a.get(k) {
                    Some(av) => removed_fields(bv, av, &path, out),
                    None if bv.is_null() => {}
                    None => out.push(path),
                }
            }
        }
        (Value::Array(b), Value::Array(a)) if a.len() == b.len() => {
            for (i, (bv, av)) in b.iter().zip(a).enumerate() {
                removed_fields(bv, av, &format!("{prefix}[{i}]"), out);
            }
        }
        _ => {}
    }
}

/// The error the real server returns when a body cannot be decoded into the kind.
pub fn cannot_handle(def: &ResourceDef, why: &str) -> ApiError {
    ApiError::bad_request(format!(
        "{kind} in version \"{v}\" cannot be handled as a {kind}: {why}",
        kind = def.kind,
        v = def.version
    ))
}

/// Unknown fields as a strict decoding error, if there are any.
pub fn strict_error(def: &ResourceDef, unknown: &[String]) -> Option<ApiError> {
    if unknown.is_empty() {
        return None;
    }
    let list: Vec<String> = unknown
        .iter()
        .map(|f| format!("unknown field \"{f}\""))
        .collect();
    Some(cannot_handle(
        def,
        &format!("strict decoding error: {}", list.join(", ")),
    ))
}

/// Decode a built-in object through its type; other kinds pass through unchanged.
pub fn normalize(def: &ResourceDef, obj: Value, strict: bool) -> Result<Value, ApiError> {
    if def.custom {
        return Ok(obj);
    }
    let Some(rt) = round_trip(&def.group, &def.kind) else {
        return Ok(obj);
    };
    let after = rt(&obj).map_err(|e| cannot_handle(def, &e))?;
    if strict {
        let mut unknown = Vec::new();
        removed_fields(&obj, &after, "", &mut unknown);
        if let Some(e) = strict_error(def, &unknown) {
            return Err(e);
        }
    }
    Ok(after)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::Registry;
    use serde_json::json;

    fn deployment_def() -> std::sync::Arc<ResourceDef> {
        match Registry::new().lookup("apps", "v1", "deployments") {
            Some(d) => d,
            None => panic!("deployments not served"),
        }
    }

    #[test]
    fn unknown_builtin_fields_are_dropped_or_rejected_when_strict() {
        let d = deployment_def();
        let obj = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x", "labels": null},
            "spec": {"replica": 3, "selector": {"matchLabels": {"a": "b"}}, "template": {"spec": {"containers": []}}}});
        let kept = normalize(&d, obj.clone(), false).ok().unwrap_or_default();
        assert!(kept.pointer("/spec/replica").is_none());
        assert!(kept.pointer("/spec/selector/matchLabels/a").is_some());
        let err = normalize(&d, obj, true)
            .err()
            .map(|e| e.message)
            .unwrap_or_default();
        assert!(err.contains("unknown field \"spec.replica\""), "{err}");
        assert!(
            !err.contains("labels"),
            "null fields are not unknown: {err}"
        );
    }

    #[test]
    fn wrongly_typed_builtin_field_is_a_bad_request() {
        let d = deployment_def();
        let obj = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x"},
            "spec": {"replicas": "three", "selector": {}, "template": {}}});
        let e = normalize(&d, obj, false).err();
        assert_eq!(e.as_ref().map(|e| e.code), Some(400));
        assert!(e.is_some_and(|e| e.message.contains("cannot be handled as a Deployment")));
    }
}
