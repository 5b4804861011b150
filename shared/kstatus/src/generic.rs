//! Rules that apply to every object: deletion, observed generation and the standard
//! `Reconciling`/`Stalled` conditions (kstatus' `checkGenericProperties`).

use serde_json::Value;

use crate::fields::{self, conditions};
use crate::{Condition, Error, Status, StatusResult};

pub fn check_generic_properties(obj: &Value) -> Result<Option<StatusResult>, Error> {
    if let Some(ts) = fields::nested_str(obj, &["metadata", "deletionTimestamp"])?
        && !ts.is_empty()
    {
        return Ok(Some(StatusResult {
            status: Status::Terminating,
            message: "Resource scheduled for deletion".into(),
            conditions: Vec::new(),
        }));
    }
    if let Some(res) = check_generation(obj)? {
        return Ok(Some(res));
    }
    for c in conditions(obj)? {
        if c.status != "True" {
            continue;
        }
        let status = match c.type_.as_str() {
            "Reconciling" => Status::InProgress,
            "Stalled" => Status::Failed,
            _ => continue,
        };
        return Ok(Some(StatusResult {
            status,
            message: c.message.clone(),
            conditions: vec![Condition {
                type_: c.type_,
                status: "True".into(),
                reason: c.reason,
                message: c.message,
            }],
        }));
    }
    Ok(None)
}

/// InProgress while the controller has not observed the latest generation; objects without
/// `status.observedGeneration` skip the check.
fn check_generation(obj: &Value) -> Result<Option<StatusResult>, Error> {
    let Some(generation) = fields::nested_i64(obj, &["metadata", "generation"])? else {
        return Ok(None);
    };
    let Some(observed) = fields::nested_i64(obj, &["status", "observedGeneration"])? else {
        return Ok(None);
    };
    if observed != generation {
        let kind = fields::str_or(obj, &["kind"], "");
        return Ok(Some(StatusResult::in_progress(
            "LatestGenerationNotObserved",
            format!(
                "{kind} generation is {generation}, but latest observed generation is {observed}"
            ),
        )));
    }
    Ok(None)
}

/// DaemonSets must have both generation fields set (`checkGenerationSet`).
pub fn check_generation_set(obj: &Value) -> Result<Option<StatusResult>, Error> {
    let kind = fields::str_or(obj, &["kind"], "");
    if fields::nested_i64(obj, &["metadata", "generation"])?.is_none() {
        return Ok(Some(StatusResult::in_progress(
            "NoGeneration",
            format!("{kind} metadata.generation not found"),
        )));
    }
    if fields::nested_i64(obj, &["status", "observedGeneration"])?.is_none() {
        return Ok(Some(StatusResult::in_progress(
            "NoObservedGeneration",
            format!("{kind} status.observedGeneration not found"),
        )));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::{Error, Status, compute};

    fn flux_kustomization(conditions: serde_json::Value) -> serde_json::Value {
        json!({
            "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
            "kind": "Kustomization",
            "metadata": {"name": "apps", "namespace": "flux-system", "generation": 3},
            "status": {"observedGeneration": 3, "conditions": conditions}
        })
    }

    #[test]
    fn deletion_timestamp_means_terminating_before_any_other_rule() {
        let obj = json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "deletionTimestamp": "2026-01-01T00:00:00Z", "generation": 2},
            "status": {"observedGeneration": 1}
        });
        let res = compute(&obj).unwrap();
        assert_eq!(res.status, Status::Terminating);
        assert_eq!(res.message, "Resource scheduled for deletion");
    }

    #[test]
    fn unobserved_generation_is_in_progress_with_kstatus_message() {
        let obj = json!({
            "apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
            "metadata": {"generation": 5},
            "status": {"observedGeneration": 4, "conditions": [{"type": "Ready", "status": "True"}]}
        });
        let res = compute(&obj).unwrap();
        assert_eq!(res.status, Status::InProgress);
        assert_eq!(
            res.message,
            "HelmRelease generation is 5, but latest observed generation is 4"
        );
        assert_eq!(res.conditions[0].type_, "Reconciling");
        assert_eq!(res.conditions[0].reason, "LatestGenerationNotObserved");
    }

    #[test]
    fn flux_object_not_yet_reconciled_is_in_progress() {
        // Flux CRDs default status.observedGeneration to -1 so that kstatus does not report a
        // freshly applied object as Current before its controller saw it.
        let obj = json!({
            "apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
            "metadata": {"name": "podinfo", "generation": 1},
            "status": {"observedGeneration": -1}
        });
        let res = compute(&obj).unwrap();
        assert_eq!(res.status, Status::InProgress);
        assert_eq!(
            res.message,
            "HelmRelease generation is 1, but latest observed generation is -1"
        );
    }

    #[test]
    fn reconciling_true_is_in_progress_with_its_message() {
        let obj = flux_kustomization(json!([
            {"type": "Ready", "status": "Unknown", "reason": "Progressing"},
            {"type": "Reconciling", "status": "True", "reason": "Progressing", "message": "building"}
        ]));
        let res = compute(&obj).unwrap();
        assert_eq!(res.status, Status::InProgress);
        assert_eq!(res.message, "building");
        assert_eq!(res.conditions[0].reason, "Progressing");
    }

    #[test]
    fn stalled_true_is_failed() {
        let obj = flux_kustomization(json!([
            {"type": "Ready", "status": "False", "reason": "BuildFailed", "message": "kustomize build failed"},
            {"type": "Stalled", "status": "True", "reason": "BuildFailed", "message": "kustomize build failed"}
        ]));
        let res = compute(&obj).unwrap();
        assert_eq!(res.status, Status::Failed);
        assert_eq!(res.message, "kustomize build failed");
        assert_eq!(res.conditions[0].type_, "Stalled");
    }

    #[test]
    fn ready_custom_resource_at_latest_generation_is_current() {
        let obj = flux_kustomization(
            json!([{"type": "Ready", "status": "True", "reason": "ReconciliationSucceeded"}]),
        );
        let res = compute(&obj).unwrap();
        assert_eq!(res.status, Status::Current);
        assert_eq!(res.message, "Resource is current");
    }

    #[test]
    fn reconciling_false_does_not_count() {
        let obj = flux_kustomization(json!([{"type": "Reconciling", "status": "False"}]));
        assert_eq!(compute(&obj).unwrap().status, Status::Current);
    }

    #[test]
    fn namespace_is_current_until_deleted() {
        let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "apps"}, "status": {"phase": "Active"}});
        assert_eq!(compute(&ns).unwrap().status, Status::Current);
        let deleting = json!({"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": "apps", "deletionTimestamp": "2026-01-01T00:00:00Z"}, "status": {"phase": "Terminating"}});
        assert_eq!(compute(&deleting).unwrap().status, Status::Terminating);
    }

    #[test]
    fn malformed_generation_or_conditions_are_errors() {
        let obj = json!({"kind": "X", "metadata": {"generation": "two"}});
        assert!(matches!(compute(&obj), Err(Error::InvalidField { .. })));
        let obj = json!({"kind": "X", "status": {"conditions": {"type": "Ready"}}});
        assert!(matches!(compute(&obj), Err(Error::InvalidField { .. })));
        let obj = json!({"kind": "X", "status": {"conditions": [{"type": 1}]}});
        assert!(matches!(compute(&obj), Err(Error::InvalidField { .. })));
        let obj = json!({"kind": "X", "metadata": {"deletionTimestamp": 5}});
        assert!(matches!(compute(&obj), Err(Error::InvalidField { .. })));
        assert_eq!(compute(&json!("not an object")), Err(Error::NotAnObject));
    }
}
