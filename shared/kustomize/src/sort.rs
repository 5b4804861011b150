//! Output order: kustomize's legacy kind order (the default) or FIFO.

use crate::resource::Resource;

const ORDER_FIRST: &[&str] = &[
    "Namespace",
    "ResourceQuota",
    "StorageClass",
    "CustomResourceDefinition",
    "ServiceAccount",
    "PodSecurityPolicy",
    "Role",
    "ClusterRole",
    "RoleBinding",
    "ClusterRoleBinding",
    "ConfigMap",
    "Secret",
    "Endpoints",
    "Service",
    "LimitRange",
    "PriorityClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "Deployment",
    "StatefulSet",
    "CronJob",
    "PodDisruptionBudget",
];
const ORDER_LAST: &[&str] = &[
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
];

fn kind_rank(kind: &str, first: &[String], last: &[String]) -> i64 {
    if let Some(i) = first.iter().position(|k| k == kind) {
        return i as i64 - first.len() as i64;
    }
    if let Some(i) = last.iter().position(|k| k == kind) {
        return i as i64 + 1;
    }
    0
}

fn gvk_string(r: &Resource) -> String {
    let g = r.gvk();
    let or = |s: &str, d: &str| {
        if s.is_empty() {
            d.to_string()
        } else {
            s.to_string()
        }
    };
    format!(
        "{}_{}_{}",
        or(&g.group, "~G"),
        or(&g.version, "~V"),
        or(&g.kind, "~K")
    )
}

/// Sorts in kustomize's legacy order; custom first/last kind lists replace the defaults.
pub fn legacy(resources: &mut [Resource], first: Option<Vec<String>>, last: Option<Vec<String>>) {
    let first = first.unwrap_or_else(|| ORDER_FIRST.iter().map(|s| s.to_string()).collect());
    let last = last.unwrap_or_else(|| ORDER_LAST.iter().map(|s| s.to_string()).collect());
    resources.sort_by_cached_key(|r| {
        (
            kind_rank(r.kind(), &first, &last),
            gvk_string(r),
            if r.namespace().is_empty() {
                "~X".to_string()
            } else {
                r.namespace().to_string()
            },
            if r.name().is_empty() {
                "~N".to_string()
            } else {
                r.name().to_string()
            },
        )
    });
}
