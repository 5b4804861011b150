//! kstatus rules for the other built-in kinds: Pod, PersistentVolumeClaim, Service, Job,
//! PodDisruptionBudget, CustomResourceDefinition and the always-ready kinds.

use chrono::{DateTime, Duration, Utc};
use serde_json::Value;

use crate::fields::{self, conditions, int_or, str_or};
use crate::{Error, StatusResult};

/// How long a Pod may be unschedulable before kstatus reports it as failed.
const SCHEDULE_WINDOW: Duration = Duration::seconds(15);

/// Secret, ConfigMap and CronJob.
pub fn always_ready() -> StatusResult {
    StatusResult::current("Resource is always ready")
}

pub fn pvc(obj: &Value) -> Result<StatusResult, Error> {
    let phase = str_or(obj, &["status", "phase"], "unknown");
    if phase != "Bound" {
        return Ok(StatusResult::in_progress(
            "NotBound",
            format!("PVC is not Bound. phase: {phase}"),
        ));
    }
    Ok(StatusResult::current("PVC is Bound"))
}

pub fn service(obj: &Value) -> Result<StatusResult, Error> {
    let spec_type = str_or(obj, &["spec", "type"], "ClusterIP");
    let cluster_ip = str_or(obj, &["spec", "clusterIP"], "");
    if spec_type == "LoadBalancer" && cluster_ip.is_empty() {
        return Ok(StatusResult::in_progress(
            "NoIPAssigned",
            "ClusterIP not set. Service type: LoadBalancer",
        ));
    }
    Ok(StatusResult::current("Service is ready"))
}

/// PDBs are current once the disruption controller observed them, which the generic
/// observedGeneration check has already established.
pub fn pdb() -> StatusResult {
    StatusResult::current("AllowedDisruptions has been computed.")
}

pub fn job(obj: &Value) -> Result<StatusResult, Error> {
    let parallelism = int_or(obj, &["spec", "parallelism"], 1);
    let completions = int_or(obj, &["spec", "completions"], parallelism);
    let succeeded = int_or(obj, &["status", "succeeded"], 0);
    let active = int_or(obj, &["status", "active"], 0);
    let failed = int_or(obj, &["status", "failed"], 0);
    let start_time = str_or(obj, &["status", "startTime"], "");
    for c in conditions(obj)? {
        if c.status != "True" {
            continue;
        }
        match c.type_.as_str() {
            "Complete" => {
                return Ok(StatusResult::current(format!(
                    "Job Completed. succeeded: {succeeded}/{completions}"
                )));
            }
            "Failed" => {
                return Ok(StatusResult::failed(
                    "JobFailed",
                    format!("Job Failed. failed: {failed}/{completions}"),
                ));
            }
            // A suspended Job is not making progress and is not expected to.
            "Suspended" => return Ok(StatusResult::current("Job is suspended")),
            _ => {}
        }
    }
    if start_time.is_empty() {
        return Ok(StatusResult::in_progress(
            "JobNotStarted",
            "Job not started",
        ));
    }
    Ok(StatusResult::current(format!(
        "Job in progress. success:{succeeded}, active: {active}, failed: {failed}"
    )))
}

/// kustomize-controller's custom Job reader: Current only when complete, Failed when failed,
/// InProgress otherwise (even while running).
pub fn flux_job(obj: &Value) -> Result<StatusResult, Error> {
    let parallelism = int_or(obj, &["spec", "parallelism"], 1);
    let completions = int_or(obj, &["spec", "completions"], parallelism);
    let succeeded = int_or(obj, &["status", "succeeded"], 0);
    let failed = int_or(obj, &["status", "failed"], 0);
    for c in conditions(obj)? {
        if c.status != "True" {
            continue;
        }
        match c.type_.as_str() {
            "Complete" => {
                return Ok(StatusResult::current(format!(
                    "Job Completed. succeeded: {succeeded}/{completions}"
                )));
            }
            "Failed" => {
                return Ok(StatusResult::failed(
                    "JobFailed",
                    format!("Job Failed. failed: {failed}/{completions}"),
                ));
            }
            _ => {}
        }
    }
    Ok(StatusResult::in_progress(
        "JobInProgress",
        "Job in progress",
    ))
}

pub fn crd(obj: &Value) -> Result<StatusResult, Error> {
    for c in conditions(obj)? {
        if c.type_ == "NamesAccepted" && c.status == "False" {
            return Ok(StatusResult::failed(&c.reason, c.message));
        }
        if c.type_ == "Established" {
            if c.status == "False" && c.reason != "Installing" {
                return Ok(StatusResult::failed(&c.reason, c.message));
            }
            if c.status == "True" {
                return Ok(StatusResult::current("CRD is established"));
            }
        }
    }
    Ok(StatusResult::in_progress(
        "Installing",
        "Install in progress",
    ))
}

pub fn pod(obj: &Value, now: DateTime<Utc>) -> Result<StatusResult, Error> {
    let conds = conditions(obj)?;
    match str_or(obj, &["status", "phase"], "") {
        "Succeeded" => Ok(StatusResult::current("Pod has completed successfully")),
        "Failed" => Ok(StatusResult::current(
            "Pod has completed, but not successfully",
        )),
        "Running" => {
            if fields::find(&conds, "Ready", "True").is_some() {
                return Ok(StatusResult::current("Pod is Ready"));
            }
            let looping = crash_looping_containers(obj)?;
            if !looping.is_empty() {
                return Ok(StatusResult::failed(
                    "ContainerCrashLooping",
                    format!("Containers in CrashLoop state: {}", looping.join(",")),
                ));
            }
            Ok(StatusResult::in_progress(
                "PodRunningNotReady",
                "Pod is running but is not Ready",
            ))
        }
        "Pending" => {
            let unschedulable = fields::find(&conds, "PodScheduled", "False")
                .is_some_and(|c| c.reason == "Unschedulable");
            if unschedulable {
                // A missing creationTimestamp is Go's zero time: long past the window.
                let created = fields::lookup(obj, &["metadata", "creationTimestamp"])
                    .and_then(Value::as_str)
                    .and_then(|s| DateTime::parse_from_rfc3339(s).ok());
                if created.is_some_and(|c| now - SCHEDULE_WINDOW < c) {
                    return Ok(StatusResult::in_progress(
                        "PodNotScheduled",
                        "Pod has not been scheduled",
                    ));
                }
                return Ok(StatusResult::failed(
                    "PodUnschedulable",
                    "Pod could not be scheduled",
                ));
            }
            Ok(StatusResult::in_progress(
                "PodPending",
                "Pod is in the Pending phase",
            ))
        }
        "" => Ok(StatusResult::in_progress(
            "PodNotObserved",
            "Pod phase not available",
        )),
        other => Err(Error::UnknownPhase(other.to_string())),
    }
}

fn crash_looping_containers(obj: &Value) -> Result<Vec<String>, Error> {
    let statuses = match fields::lookup(obj, &["status", "containerStatuses"]) {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(a)) => a,
        Some(_) => {
            return Err(Error::InvalidField {
                field: "status.containerStatuses".into(),
                expected: "a list",
            });
        }
    };
    Ok(statuses
        .iter()
        .filter(|cs| str_or(cs, &["state", "waiting", "reason"], "") == "CrashLoopBackOff")
        .filter_map(|cs| cs.get("name").and_then(Value::as_str).map(str::to_string))
        .collect())
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};
    use serde_json::{Value, json};

    use crate::{Error, Status, compute, compute_at};

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-25T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn pod(status: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "Pod",
               "metadata": {"name": "web-0", "creationTimestamp": "2026-11-25T11:00:00Z"}, "status": status})
    }

    #[test]
    fn pod_phases_map_to_kstatus() {
        let cases = [
            (
                json!({"phase": "Succeeded"}),
                Status::Current,
                "Pod has completed successfully",
            ),
            (
                json!({"phase": "Failed"}),
                Status::Current,
                "Pod has completed, but not successfully",
            ),
            (
                json!({"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}),
                Status::Current,
                "Pod is Ready",
            ),
            (
                json!({"phase": "Running"}),
                Status::InProgress,
                "Pod is running but is not Ready",
            ),
            (
                json!({"phase": "Pending"}),
                Status::InProgress,
                "Pod is in the Pending phase",
            ),
            (json!({}), Status::InProgress, "Pod phase not available"),
        ];
        for (status, want, msg) in cases {
            let res = compute_at(&pod(status), now()).unwrap();
            assert_eq!((res.status, res.message.as_str()), (want, msg));
        }
    }

    #[test]
    fn pod_with_crash_looping_containers_is_failed_naming_them() {
        let res = compute_at(
            &pod(json!({"phase": "Running", "containerStatuses": [
                {"name": "app", "state": {"waiting": {"reason": "CrashLoopBackOff"}}},
                {"name": "sidecar", "state": {"running": {}}},
                {"name": "init", "state": {"waiting": {"reason": "CrashLoopBackOff"}}}
            ]})),
            now(),
        )
        .unwrap();
        assert_eq!(res.status, Status::Failed);
        assert_eq!(res.message, "Containers in CrashLoop state: app,init");
        assert_eq!(res.conditions[0].reason, "ContainerCrashLooping");
    }

    #[test]
    fn unschedulable_pod_fails_only_after_the_schedule_window() {
        let status = json!({"phase": "Pending", "conditions": [
            {"type": "PodScheduled", "status": "False", "reason": "Unschedulable"}]});
        let old = compute_at(&pod(status.clone()), now()).unwrap();
        assert_eq!(old.status, Status::Failed);
        assert_eq!(old.message, "Pod could not be scheduled");

        let mut fresh = pod(status);
        fresh["metadata"]["creationTimestamp"] = json!("2026-11-25T11:59:50Z");
        let res = compute_at(&fresh, now()).unwrap();
        assert_eq!(res.status, Status::InProgress);
        assert_eq!(res.conditions[0].reason, "PodNotScheduled");
    }

    #[test]
    fn pod_with_unknown_phase_is_an_error() {
        assert_eq!(
            compute_at(&pod(json!({"phase": "Exploded"})), now()),
            Err(Error::UnknownPhase("Exploded".into()))
        );
    }

    #[test]
    fn pvc_is_current_only_when_bound() {
        let pvc = |phase: Value| json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "status": {"phase": phase}});
        let res = compute(&pvc(json!("Pending"))).unwrap();
        assert_eq!(
            (res.status, res.message.as_str()),
            (Status::InProgress, "PVC is not Bound. phase: Pending")
        );
        assert_eq!(res.conditions[0].reason, "NotBound");
        assert_eq!(
            compute(&pvc(json!("Bound"))).unwrap().message,
            "PVC is Bound"
        );
        let missing = json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim"});
        assert_eq!(
            compute(&missing).unwrap().message,
            "PVC is not Bound. phase: unknown"
        );
    }

    #[test]
    fn load_balancer_service_waits_for_cluster_ip() {
        let svc = |spec: Value| json!({"apiVersion": "v1", "kind": "Service", "spec": spec});
        let res = compute(&svc(json!({"type": "LoadBalancer"}))).unwrap();
        assert_eq!(res.status, Status::InProgress);
        assert_eq!(res.message, "ClusterIP not set. Service type: LoadBalancer");
        assert_eq!(res.conditions[0].reason, "NoIPAssigned");
        let res = compute(&svc(
            json!({"type": "LoadBalancer", "clusterIP": "10.0.0.7"}),
        ))
        .unwrap();
        assert_eq!(
            (res.status, res.message.as_str()),
            (Status::Current, "Service is ready")
        );
        assert_eq!(compute(&svc(json!({}))).unwrap().status, Status::Current);
    }

    fn job(spec: Value, status: Value) -> Value {
        json!({"apiVersion": "batch/v1", "kind": "Job", "spec": spec, "status": status})
    }

    #[test]
    fn job_states() {
        let res = compute(&job(
            json!({"completions": 3}),
            json!({"succeeded": 3,
            "conditions": [{"type": "Complete", "status": "True"}]}),
        ))
        .unwrap();
        assert_eq!(
            (res.status, res.message.as_str()),
            (Status::Current, "Job Completed. succeeded: 3/3")
        );

        let res = compute(&job(json!({"parallelism": 2}), json!({"failed": 4,
            "conditions": [{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded"}]}))).unwrap();
        assert_eq!(
            (res.status, res.message.as_str()),
            (Status::Failed, "Job Failed. failed: 4/2")
        );
        assert_eq!(res.conditions[0].reason, "JobFailed");

        let res = compute(&job(
            json!({}),
            json!({"conditions": [{"type": "Suspended", "status": "True"}]}),
        ))
        .unwrap();
        assert_eq!(
            (res.status, res.message.as_str()),
            (Status::Current, "Job is suspended")
        );

        let res = compute(&job(json!({}), json!({}))).unwrap();
        assert_eq!(
            (res.status, res.message.as_str()),
            (Status::InProgress, "Job not started")
        );

        let res = compute(&job(
            json!({}),
            json!({"startTime": "2026-11-25T11:00:00Z", "active": 1}),
        ))
        .unwrap();
        assert_eq!(
            res.message,
            "Job in progress. success:0, active: 1, failed: 0"
        );
    }

    #[test]
    fn flux_job_reader_waits_for_completion() {
        use crate::compute_flux;
        let running = job(
            json!({}),
            json!({"startTime": "2026-11-25T11:00:00Z", "active": 1}),
        );
        assert_eq!(compute(&running).unwrap().status, Status::Current);
        let res = compute_flux(&running).unwrap();
        assert_eq!(
            (res.status, res.message.as_str()),
            (Status::InProgress, "Job in progress")
        );
        assert_eq!(res.conditions[0].reason, "JobInProgress");

        let done = job(
            json!({"completions": 2}),
            json!({"succeeded": 2,
            "conditions": [{"type": "Complete", "status": "True"}]}),
        );
        let res = compute_flux(&done).unwrap();
        assert_eq!(
            (res.status, res.message.as_str()),
            (Status::Current, "Job Completed. succeeded: 2/2")
        );

        let failed = job(
            json!({}),
            json!({"failed": 1,
            "conditions": [{"type": "Failed", "status": "True"}]}),
        );
        let res = compute_flux(&failed).unwrap();
        assert_eq!(
            (res.status, res.message.as_str()),
            (Status::Failed, "Job Failed. failed: 1/1")
        );

        // A suspended Job is not complete, so Flux keeps waiting for it.
        let suspended = job(
            json!({}),
            json!({"conditions": [{"type": "Suspended", "status": "True"}]}),
        );
        assert_eq!(compute_flux(&suspended).unwrap().status, Status::InProgress);
    }

    #[test]
    fn flux_computation_matches_kstatus_for_other_kinds() {
        use crate::compute_flux_at;
        let obj = pod(json!({"phase": "Running"}));
        assert_eq!(compute_flux_at(&obj, now()), compute_at(&obj, now()));
    }

    #[test]
    fn crd_established_names_rejected_and_installing() {
        let crd = |conds: Value| {
            json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
                                        "status": {"conditions": conds}})
        };
        let res = compute(&crd(json!([{"type": "NamesAccepted", "status": "True"}, {"type": "Established", "status": "True"}]))).unwrap();
        assert_eq!(
            (res.status, res.message.as_str()),
            (Status::Current, "CRD is established")
        );

        let res = compute(&crd(json!([{"type": "NamesAccepted", "status": "False", "reason": "MultipleNamesConflict", "message": "plural conflicts"}]))).unwrap();
        assert_eq!(
            (res.status, res.message.as_str()),
            (Status::Failed, "plural conflicts")
        );
        assert_eq!(res.conditions[0].reason, "MultipleNamesConflict");

        let res = compute(&crd(
            json!([{"type": "Established", "status": "False", "reason": "Installing"}]),
        ))
        .unwrap();
        assert_eq!(
            (res.status, res.message.as_str()),
            (Status::InProgress, "Install in progress")
        );
        let res = compute(&crd(json!([]))).unwrap();
        assert_eq!(res.conditions[0].reason, "Installing");
    }

    #[test]
    fn always_ready_kinds_and_pdb_are_current() {
        for (api, kind, msg) in [
            ("v1", "Secret", "Resource is always ready"),
            ("v1", "ConfigMap", "Resource is always ready"),
            ("batch/v1", "CronJob", "Resource is always ready"),
            (
                "policy/v1",
                "PodDisruptionBudget",
                "AllowedDisruptions has been computed.",
            ),
        ] {
            let res = compute(&json!({"apiVersion": api, "kind": kind})).unwrap();
            assert_eq!(
                (res.status, res.message.as_str()),
                (Status::Current, msg),
                "{kind}"
            );
        }
    }

    #[test]
    fn pdb_not_yet_observed_is_in_progress() {
        let obj = json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
                         "metadata": {"generation": 2}, "status": {"observedGeneration": 1}});
        assert_eq!(compute(&obj).unwrap().status, Status::InProgress);
    }

    #[test]
    fn kind_in_another_group_does_not_get_builtin_rules() {
        // A custom "Service" kind is a generic resource, not a core/v1 Service.
        let obj = json!({"apiVersion": "serving.knative.dev/v1", "kind": "Service", "spec": {"type": "LoadBalancer"}});
        assert_eq!(compute(&obj).unwrap().message, "Resource is current");
    }
}
