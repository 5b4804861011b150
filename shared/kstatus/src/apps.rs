//! kstatus rules for the apps workloads: Deployment, StatefulSet, DaemonSet and ReplicaSet.

use serde_json::Value;

use crate::fields::{self, conditions, int_or, str_or};
use crate::generic::check_generation_set;
use crate::{Error, Status, StatusResult, condition};

const TOO_FEW_READY: &str = "LessReady";
const TOO_FEW_AVAILABLE: &str = "LessAvailable";
const TOO_FEW_UPDATED: &str = "LessUpdated";
const TOO_FEW_REPLICAS: &str = "LessReplicas";
const EXTRA_PODS: &str = "ExtraPods";

pub fn deployment(obj: &Value) -> Result<StatusResult, Error> {
    // Without progressDeadlineSeconds the controller never sets Progressing, so the deployment
    // counts as progressing (the controller treats MaxInt32 the same way).
    let mut progressing =
        int_or(obj, &["spec", "progressDeadlineSeconds"], i32::MAX as i64) == i32::MAX as i64;
    let mut available = false;
    for c in conditions(obj)? {
        match c.type_.as_str() {
            "Progressing" => {
                if c.reason == "ProgressDeadlineExceeded" {
                    return Ok(StatusResult {
                        status: Status::Failed,
                        message: "Progress deadline exceeded".into(),
                        conditions: vec![condition("Stalled", &c.reason, &c.message)],
                    });
                }
                if c.status == "True" && c.reason == "NewReplicaSetAvailable" {
                    progressing = true;
                }
            }
            "Available" if c.status == "True" => available = true,
            _ => {}
        }
    }
    let spec = int_or(obj, &["spec", "replicas"], 1);
    let status = int_or(obj, &["status", "replicas"], 0);
    let updated = int_or(obj, &["status", "updatedReplicas"], 0);
    let ready = int_or(obj, &["status", "readyReplicas"], 0);
    let avail = int_or(obj, &["status", "availableReplicas"], 0);

    if spec > status {
        return Ok(StatusResult::in_progress(
            TOO_FEW_REPLICAS,
            format!("Replicas: {status}/{spec}"),
        ));
    }
    if spec > updated {
        return Ok(StatusResult::in_progress(
            TOO_FEW_UPDATED,
            format!("Updated: {updated}/{spec}"),
        ));
    }
    if status > spec {
        return Ok(StatusResult::in_progress(
            EXTRA_PODS,
            format!("Pending termination: {}", status - spec),
        ));
    }
    if updated > avail {
        return Ok(StatusResult::in_progress(
            TOO_FEW_AVAILABLE,
            format!("Available: {avail}/{updated}"),
        ));
    }
    if spec > ready {
        return Ok(StatusResult::in_progress(
            TOO_FEW_READY,
            format!("Ready: {ready}/{spec}"),
        ));
    }
    if !progressing {
        return Ok(StatusResult::in_progress(
            "ReplicaSetNotAvailable",
            "ReplicaSet not Available",
        ));
    }
    if !available {
        return Ok(StatusResult::in_progress(
            "DeploymentNotAvailable",
            "Deployment not Available",
        ));
    }
    Ok(StatusResult::current(format!(
        "Deployment is available. Replicas: {status}"
    )))
}

/// StatefulSets never set conditions; only the replica counts and revisions tell.
pub fn statefulset(obj: &Value) -> Result<StatusResult, Error> {
    if str_or(obj, &["spec", "updateStrategy", "type"], "") == "OnDelete" {
        return Ok(StatusResult::current(
            "StatefulSet is using the ondelete update strategy",
        ));
    }
    let spec = int_or(obj, &["spec", "replicas"], 1);
    let ready = int_or(obj, &["status", "readyReplicas"], 0);
    let current = int_or(obj, &["status", "currentReplicas"], 0);
    let updated = int_or(obj, &["status", "updatedReplicas"], 0);
    let status = int_or(obj, &["status", "replicas"], 0);
    let partition = int_or(
        obj,
        &["spec", "updateStrategy", "rollingUpdate", "partition"],
        -1,
    );

    if spec > status {
        return Ok(StatusResult::in_progress(
            TOO_FEW_REPLICAS,
            format!("Replicas: {status}/{spec}"),
        ));
    }
    if spec > ready {
        return Ok(StatusResult::in_progress(
            TOO_FEW_READY,
            format!("Ready: {ready}/{spec}"),
        ));
    }
    if status > spec {
        return Ok(StatusResult::in_progress(
            EXTRA_PODS,
            format!("Pending termination: {}", status - spec),
        ));
    }
    if partition != -1 {
        if updated < spec - partition {
            return Ok(StatusResult::in_progress(
                "PartitionRollout",
                format!("updated: {updated}/{}", spec - partition),
            ));
        }
        return Ok(StatusResult::current(format!(
            "Partition rollout complete. updated: {updated}"
        )));
    }
    if spec > current {
        return Ok(StatusResult::in_progress(
            "LessCurrent",
            format!("current: {current}/{spec}"),
        ));
    }
    if str_or(obj, &["status", "currentRevision"], "")
        != str_or(obj, &["status", "updateRevision"], "")
    {
        return Ok(StatusResult::in_progress(
            "RevisionMismatch",
            "Waiting for updated revision to match current",
        ));
    }
    Ok(StatusResult::current(format!(
        "All replicas scheduled as expected. Replicas: {status}"
    )))
}

pub fn daemonset(obj: &Value) -> Result<StatusResult, Error> {
    if let Some(res) = check_generation_set(obj)? {
        return Ok(res);
    }
    let desired = int_or(obj, &["status", "desiredNumberScheduled"], -1);
    let current = int_or(obj, &["status", "currentNumberScheduled"], 0);
    let updated = int_or(obj, &["status", "updatedNumberScheduled"], 0);
    let available = int_or(obj, &["status", "numberAvailable"], 0);
    let ready = int_or(obj, &["status", "numberReady"], 0);

    if desired == -1 {
        return Ok(StatusResult::in_progress(
            "NoDesiredNumber",
            "Missing .status.desiredNumberScheduled",
        ));
    }
    if desired > current {
        return Ok(StatusResult::in_progress(
            "LessCurrent",
            format!("Current: {current}/{desired}"),
        ));
    }
    if desired > updated {
        return Ok(StatusResult::in_progress(
            TOO_FEW_UPDATED,
            format!("Updated: {updated}/{desired}"),
        ));
    }
    if desired > available {
        return Ok(StatusResult::in_progress(
            TOO_FEW_AVAILABLE,
            format!("Available: {available}/{desired}"),
        ));
    }
    if desired > ready {
        return Ok(StatusResult::in_progress(
            TOO_FEW_READY,
            format!("Ready: {ready}/{desired}"),
        ));
    }
    Ok(StatusResult::current(format!(
        "All replicas scheduled as expected. Replicas: {desired}"
    )))
}

pub fn replicaset(obj: &Value) -> Result<StatusResult, Error> {
    if fields::find(&conditions(obj)?, "ReplicaFailure", "True").is_some() {
        return Ok(StatusResult::in_progress(
            "ReplicaFailure",
            "Replica Failure condition. Check Pods",
        ));
    }
    let spec = int_or(obj, &["spec", "replicas"], 1);
    let status = int_or(obj, &["status", "replicas"], 0);
    let ready = int_or(obj, &["status", "readyReplicas"], 0);
    let available = int_or(obj, &["status", "availableReplicas"], 0);
    let labelled = int_or(obj, &["status", "fullyLabeledReplicas"], 0);

    if spec > labelled {
        return Ok(StatusResult::in_progress(
            "LessLabelled",
            format!("Labelled: {labelled}/{spec}"),
        ));
    }
    if spec > available {
        return Ok(StatusResult::in_progress(
            TOO_FEW_AVAILABLE,
            format!("Available: {available}/{spec}"),
        ));
    }
    if spec > ready {
        return Ok(StatusResult::in_progress(
            TOO_FEW_READY,
            format!("Ready: {ready}/{spec}"),
        ));
    }
    if status > spec {
        return Ok(StatusResult::in_progress(
            EXTRA_PODS,
            format!("Pending termination: {}", status - spec),
        ));
    }
    Ok(StatusResult::current(format!(
        "ReplicaSet is available. Replicas: {status}"
    )))
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use crate::{Status, StatusResult, compute};

    fn reason(res: &StatusResult) -> &str {
        &res.conditions[0].reason
    }

    fn deployment(spec: Value, status: Value) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
               "metadata": {"name": "web", "generation": 1}, "spec": spec, "status": status})
    }

    fn healthy_deployment_status() -> Value {
        json!({"observedGeneration": 1, "replicas": 3, "updatedReplicas": 3, "readyReplicas": 3,
               "availableReplicas": 3, "conditions": [
                   {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"},
                   {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"}]})
    }

    #[test]
    fn deployment_with_all_replicas_available_is_current() {
        let res = compute(&deployment(
            json!({"replicas": 3, "progressDeadlineSeconds": 600}),
            healthy_deployment_status(),
        ))
        .unwrap();
        assert_eq!(res.status, Status::Current);
        assert_eq!(res.message, "Deployment is available. Replicas: 3");
        assert!(res.conditions.is_empty());
    }

    #[test]
    fn deployment_replica_shortfalls_are_reported_in_kstatus_order() {
        let spec = json!({"replicas": 3});
        let cases = [
            (json!({"replicas": 1}), "LessReplicas", "Replicas: 1/3"),
            (
                json!({"replicas": 3, "updatedReplicas": 2}),
                "LessUpdated",
                "Updated: 2/3",
            ),
            (
                json!({"replicas": 4, "updatedReplicas": 3}),
                "ExtraPods",
                "Pending termination: 1",
            ),
            (
                json!({"replicas": 3, "updatedReplicas": 3, "availableReplicas": 2}),
                "LessAvailable",
                "Available: 2/3",
            ),
            (
                json!({"replicas": 3, "updatedReplicas": 3, "availableReplicas": 3, "readyReplicas": 1}),
                "LessReady",
                "Ready: 1/3",
            ),
        ];
        for (status, want_reason, want_msg) in cases {
            let res = compute(&deployment(spec.clone(), status)).unwrap();
            assert_eq!(res.status, Status::InProgress, "{want_msg}");
            assert_eq!(reason(&res), want_reason);
            assert_eq!(res.message, want_msg);
        }
    }

    #[test]
    fn deployment_missing_replicas_defaults_to_one() {
        let res = compute(&deployment(json!({}), json!({}))).unwrap();
        assert_eq!(res.message, "Replicas: 0/1");
    }

    #[test]
    fn deployment_past_progress_deadline_is_failed() {
        let mut status = healthy_deployment_status();
        status["conditions"] = json!([{"type": "Progressing", "status": "False",
            "reason": "ProgressDeadlineExceeded", "message": "ReplicaSet \"web-1\" has timed out progressing."}]);
        let res = compute(&deployment(json!({"replicas": 3}), status)).unwrap();
        assert_eq!(res.status, Status::Failed);
        assert_eq!(res.message, "Progress deadline exceeded");
        assert_eq!(res.conditions[0].type_, "Stalled");
        assert_eq!(res.conditions[0].reason, "ProgressDeadlineExceeded");
    }

    #[test]
    fn deployment_with_deadline_waits_for_new_replicaset_and_availability() {
        let mut status = healthy_deployment_status();
        status["conditions"] = json!([{"type": "Available", "status": "True"}]);
        let res = compute(&deployment(
            json!({"replicas": 3, "progressDeadlineSeconds": 600}),
            status,
        ))
        .unwrap();
        assert_eq!(reason(&res), "ReplicaSetNotAvailable");

        let mut status = healthy_deployment_status();
        status["conditions"] =
            json!([{"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"}]);
        let res = compute(&deployment(
            json!({"replicas": 3, "progressDeadlineSeconds": 600}),
            status,
        ))
        .unwrap();
        assert_eq!(reason(&res), "DeploymentNotAvailable");
        assert_eq!(res.message, "Deployment not Available");
    }

    #[test]
    fn extensions_group_deployments_use_the_same_rules() {
        let mut obj = deployment(json!({"replicas": 2}), json!({"replicas": 1}));
        obj["apiVersion"] = json!("extensions/v1beta1");
        assert_eq!(compute(&obj).unwrap().message, "Replicas: 1/2");
    }

    fn sts(spec: Value, status: Value) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db"}, "spec": spec, "status": status})
    }

    #[test]
    fn statefulset_rollout_states() {
        let full = json!({"replicas": 2, "readyReplicas": 2, "currentReplicas": 2, "updatedReplicas": 2,
                          "currentRevision": "db-1", "updateRevision": "db-1"});
        let res = compute(&sts(json!({"replicas": 2}), full.clone())).unwrap();
        assert_eq!(res.status, Status::Current);
        assert_eq!(
            res.message,
            "All replicas scheduled as expected. Replicas: 2"
        );

        let mut rev = full.clone();
        rev["updateRevision"] = json!("db-2");
        let res = compute(&sts(json!({"replicas": 2}), rev)).unwrap();
        assert_eq!(reason(&res), "RevisionMismatch");
        assert_eq!(res.message, "Waiting for updated revision to match current");

        let res = compute(&sts(
            json!({"replicas": 2}),
            json!({"replicas": 2, "readyReplicas": 1}),
        ))
        .unwrap();
        assert_eq!(res.message, "Ready: 1/2");
        let res = compute(&sts(json!({"replicas": 2}), json!({"replicas": 1}))).unwrap();
        assert_eq!(res.message, "Replicas: 1/2");
        let res = compute(&sts(
            json!({"replicas": 2}),
            json!({"replicas": 2, "readyReplicas": 2, "currentReplicas": 1}),
        ))
        .unwrap();
        assert_eq!(
            (reason(&res), res.message.as_str()),
            ("LessCurrent", "current: 1/2")
        );
    }

    #[test]
    fn statefulset_partitioned_rollout_counts_only_updated_partition() {
        let spec = json!({"replicas": 4, "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 2}}});
        let base = json!({"replicas": 4, "readyReplicas": 4, "updatedReplicas": 1});
        let res = compute(&sts(spec.clone(), base)).unwrap();
        assert_eq!(
            (reason(&res), res.message.as_str()),
            ("PartitionRollout", "updated: 1/2")
        );
        let done = json!({"replicas": 4, "readyReplicas": 4, "updatedReplicas": 2});
        let res = compute(&sts(spec, done)).unwrap();
        assert_eq!(res.status, Status::Current);
        assert_eq!(res.message, "Partition rollout complete. updated: 2");
    }

    #[test]
    fn statefulset_with_ondelete_strategy_is_current() {
        let res = compute(&sts(
            json!({"replicas": 3, "updateStrategy": {"type": "OnDelete"}}),
            json!({}),
        ))
        .unwrap();
        assert_eq!(res.status, Status::Current);
        assert_eq!(
            res.message,
            "StatefulSet is using the ondelete update strategy"
        );
    }

    fn ds(metadata: Value, status: Value) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": metadata, "status": status})
    }

    #[test]
    fn daemonset_requires_generation_fields() {
        let res = compute(&ds(json!({"name": "agent"}), json!({}))).unwrap();
        assert_eq!(
            (reason(&res), res.message.as_str()),
            ("NoGeneration", "DaemonSet metadata.generation not found")
        );
        let res = compute(&ds(
            json!({"generation": 1}),
            json!({"desiredNumberScheduled": 1}),
        ))
        .unwrap();
        assert_eq!(reason(&res), "NoObservedGeneration");
    }

    #[test]
    fn daemonset_counts_scheduled_updated_available_ready() {
        let md = json!({"generation": 1});
        let cases = [
            (
                json!({"observedGeneration": 1}),
                "NoDesiredNumber",
                "Missing .status.desiredNumberScheduled",
            ),
            (
                json!({"observedGeneration": 1, "desiredNumberScheduled": 3, "currentNumberScheduled": 2}),
                "LessCurrent",
                "Current: 2/3",
            ),
            (
                json!({"observedGeneration": 1, "desiredNumberScheduled": 3, "currentNumberScheduled": 3, "updatedNumberScheduled": 1}),
                "LessUpdated",
                "Updated: 1/3",
            ),
            (
                json!({"observedGeneration": 1, "desiredNumberScheduled": 3, "currentNumberScheduled": 3, "updatedNumberScheduled": 3, "numberAvailable": 2}),
                "LessAvailable",
                "Available: 2/3",
            ),
            (
                json!({"observedGeneration": 1, "desiredNumberScheduled": 3, "currentNumberScheduled": 3, "updatedNumberScheduled": 3, "numberAvailable": 3, "numberReady": 0}),
                "LessReady",
                "Ready: 0/3",
            ),
        ];
        for (status, want_reason, want_msg) in cases {
            let res = compute(&ds(md.clone(), status)).unwrap();
            assert_eq!(
                (reason(&res), res.message.as_str()),
                (want_reason, want_msg)
            );
        }
        let ok = json!({"observedGeneration": 1, "desiredNumberScheduled": 3, "currentNumberScheduled": 3,
                        "updatedNumberScheduled": 3, "numberAvailable": 3, "numberReady": 3});
        let res = compute(&ds(md, ok)).unwrap();
        assert_eq!(res.status, Status::Current);
        assert_eq!(
            res.message,
            "All replicas scheduled as expected. Replicas: 3"
        );
    }

    fn rs(status: Value) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "ReplicaSet", "spec": {"replicas": 2}, "status": status})
    }

    #[test]
    fn replicaset_states() {
        let res = compute(&rs(
            json!({"conditions": [{"type": "ReplicaFailure", "status": "True"}]}),
        ))
        .unwrap();
        assert_eq!(
            (reason(&res), res.message.as_str()),
            ("ReplicaFailure", "Replica Failure condition. Check Pods")
        );
        let res = compute(&rs(json!({"fullyLabeledReplicas": 1}))).unwrap();
        assert_eq!(res.message, "Labelled: 1/2");
        let res = compute(&rs(
            json!({"fullyLabeledReplicas": 2, "availableReplicas": 1}),
        ))
        .unwrap();
        assert_eq!(res.message, "Available: 1/2");
        let res = compute(&rs(
            json!({"fullyLabeledReplicas": 2, "availableReplicas": 2, "readyReplicas": 1}),
        ))
        .unwrap();
        assert_eq!(res.message, "Ready: 1/2");
        let res = compute(&rs(json!({"replicas": 3, "fullyLabeledReplicas": 2, "availableReplicas": 2, "readyReplicas": 2}))).unwrap();
        assert_eq!(res.message, "Pending termination: 1");
        let res = compute(&rs(json!({"replicas": 2, "fullyLabeledReplicas": 2, "availableReplicas": 2, "readyReplicas": 2}))).unwrap();
        assert_eq!(res.status, Status::Current);
        assert_eq!(res.message, "ReplicaSet is available. Replicas: 2");
    }
}
