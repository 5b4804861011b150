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

/// Something done with the Rust type of a built-in kind.
pub trait KindVisitor {
    type Out;
    fn visit<T>(self) -> Self::Out
    where
        T: serde::de::DeserializeOwned + serde::Serialize + schemars::JsonSchema;
}

/// Calls `v` with the k8s-openapi type of a built-in kind, if there is one.
pub fn visit_kind<V: KindVisitor>(group: &str, kind: &str, v: V) -> Option<V::Out> {
    Some(match (group, kind) {
        ("", "Namespace") => v.visit::<core::Namespace>(),
        ("", "ConfigMap") => v.visit::<core::ConfigMap>(),
        ("", "Secret") => v.visit::<core::Secret>(),
        ("", "ServiceAccount") => v.visit::<core::ServiceAccount>(),
        ("", "Service") => v.visit::<core::Service>(),
        ("", "Endpoints") => v.visit::<core::Endpoints>(),
        ("", "Event") => v.visit::<core::Event>(),
        ("", "Pod") => v.visit::<core::Pod>(),
        ("", "PersistentVolumeClaim") => v.visit::<core::PersistentVolumeClaim>(),
        ("", "ResourceQuota") => v.visit::<core::ResourceQuota>(),
        ("", "LimitRange") => v.visit::<core::LimitRange>(),
        ("", "PersistentVolume") => v.visit::<core::PersistentVolume>(),
        ("", "Node") => v.visit::<core::Node>(),
        ("", "ReplicationController") => v.visit::<core::ReplicationController>(),
        ("", "PodTemplate") => v.visit::<core::PodTemplate>(),
        ("apps", "Deployment") => v.visit::<apps::Deployment>(),
        ("apps", "ReplicaSet") => v.visit::<apps::ReplicaSet>(),
        ("apps", "StatefulSet") => v.visit::<apps::StatefulSet>(),
        ("apps", "DaemonSet") => v.visit::<apps::DaemonSet>(),
        ("apps", "ControllerRevision") => v.visit::<apps::ControllerRevision>(),
        ("batch", "Job") => v.visit::<batch::Job>(),
        ("batch", "CronJob") => v.visit::<batch::CronJob>(),
        ("networking.k8s.io", "Ingress") => v.visit::<networking::Ingress>(),
        ("networking.k8s.io", "NetworkPolicy") => v.visit::<networking::NetworkPolicy>(),
        ("networking.k8s.io", "IngressClass") => v.visit::<networking::IngressClass>(),
        ("autoscaling", "HorizontalPodAutoscaler") => {
            v.visit::<autoscaling::HorizontalPodAutoscaler>()
        }
        ("policy", "PodDisruptionBudget") => v.visit::<policy::PodDisruptionBudget>(),
        ("rbac.authorization.k8s.io", "Role") => v.visit::<rbac::Role>(),
        ("rbac.authorization.k8s.io", "ClusterRole") => v.visit::<rbac::ClusterRole>(),
        ("rbac.authorization.k8s.io", "RoleBinding") => v.visit::<rbac::RoleBinding>(),
        ("rbac.authorization.k8s.io", "ClusterRoleBinding") => {
            v.visit::<rbac::ClusterRoleBinding>()
        }
        ("coordination.k8s.io", "Lease") => v.visit::<coordination::Lease>(),
        ("events.k8s.io", "Event") => v.visit::<events::Event>(),
        ("apiextensions.k8s.io", "CustomResourceDefinition") => {
            v.visit::<apiextensions::CustomResourceDefinition>()
        }
        ("discovery.k8s.io", "EndpointSlice") => v.visit::<discovery::EndpointSlice>(),
        ("storage.k8s.io", "StorageClass") => v.visit::<storage::StorageClass>(),
        ("storage.k8s.io", "CSIDriver") => v.visit::<storage::CSIDriver>(),
        ("scheduling.k8s.io", "PriorityClass") => v.visit::<scheduling::PriorityClass>(),
        ("node.k8s.io", "RuntimeClass") => v.visit::<node::RuntimeClass>(),
        ("admissionregistration.k8s.io", "MutatingWebhookConfiguration") => {
            v.visit::<admission::MutatingWebhookConfiguration>()
        }
        ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration") => {
            v.visit::<admission::ValidatingWebhookConfiguration>()
        }
        ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy") => {
            v.visit::<admission::ValidatingAdmissionPolicy>()
        }
        ("admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding") => {
            v.visit::<admission::ValidatingAdmissionPolicyBinding>()
        }
        ("apiregistration.k8s.io", "APIService") => v.visit::<apiregistration::APIService>(),
        ("certificates.k8s.io", "CertificateSigningRequest") => {
            v.visit::<certificates::CertificateSigningRequest>()
        }
        _ => return None,
    })
}

fn via<T: serde::de::DeserializeOwned + serde::Serialize>(obj: &Value) -> Result<Value, String> {
    // Deserialising from a borrowed Value spares a deep copy of the object.
    let typed = T::deserialize(obj).map_err(|e| e.to_string())?;
    serde_json::to_value(typed).map_err(|e| e.to_string())
}

struct RoundTripOf;

impl KindVisitor for RoundTripOf {
    type Out = RoundTrip;
    fn visit<T>(self) -> RoundTrip
    where
        T: serde::de::DeserializeOwned + serde::Serialize + schemars::JsonSchema,
    {
        via::<T>
    }
}

fn round_trip(group: &str, kind: &str) -> Option<RoundTrip> {
    visit_kind(group, kind, RoundTripOf)
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
