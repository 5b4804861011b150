//! Workload simulator: workloads become ready, Jobs complete and Pods run, unless annotated to fail.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use crate::registry::GroupResource;
use crate::server::ServerState;
use crate::store::{Change, meta_str};

/// Set this annotation to `fail` on a workload to make it fail instead of becoming ready.
pub const SIMULATE_ANNOTATION: &str = "apiserver.flux-rs.io/simulate";

const KINDS: &[(&str, &str)] = &[
    ("apps", "deployments"),
    ("apps", "statefulsets"),
    ("apps", "daemonsets"),
    ("apps", "replicasets"),
    ("batch", "jobs"),
    ("", "pods"),
    ("", "persistentvolumeclaims"),
    ("", "services"),
];

/// Whether writes to this resource can need the simulator.
pub fn simulated(gr: &GroupResource) -> bool {
    KINDS
        .iter()
        .any(|(g, r)| gr.group == *g && gr.resource == *r)
}

pub async fn run(st: Arc<ServerState>) {
    let mut shutdown = st.shutdown.clone();
    loop {
        pass(&st);
        tokio::select! {
            _ = st.sim.notified() => {},
            _ = tokio::time::sleep(Duration::from_secs(30)) => {},
            _ = shutdown.changed() => return,
        }
    }
}

/// Bring every simulated workload's status to what its controller would report.
fn pass(st: &ServerState) {
    crate::workloads::reconcile(st);
    for (g, r) in KINDS {
        let gr = GroupResource::new(g, r);
        let (items, _) = st.store.list(&gr, None);
        for o in items {
            let Some(status) = desired_status(r, &o) else {
                continue;
            };
            if o.get("status") == Some(&status) {
                continue;
            }
            let _ = st.store.transact(
                &gr,
                meta_str(&o, "namespace"),
                meta_str(&o, "name"),
                false,
                |cur| {
                    let Some(cur) = cur else {
                        return Err(crate::error::ApiError::internal("gone"));
                    };
                    let mut new = cur.as_ref().clone();
                    if let Some(s) = desired_status(r, cur) {
                        new["status"] = s;
                    }
                    Ok(Change::Put(new))
                },
            );
        }
    }
}

fn cond(t: &str, s: &str, reason: &str, message: &str, now: &str) -> Value {
    json!({"type": t, "status": s, "reason": reason, "message": message, "lastTransitionTime": now, "lastUpdateTime": now})
}

fn keep_time(old: Option<&Value>, mut new: Value) -> Value {
    // Keep transition times stable so repeated passes do not rewrite identical conditions.
    if let (Some(old), Some(conds)) = (
        old.and_then(|s| s.get("conditions"))
            .and_then(Value::as_array),
        new.get_mut("conditions").and_then(Value::as_array_mut),
    ) {
        for c in conds.iter_mut() {
            if let Some(prev) = old.iter().find(|p| {
                p.get("type") == c.get("type")
                    && p.get("status") == c.get("status")
                    && p.get("reason") == c.get("reason")
            }) {
                for k in ["lastTransitionTime", "lastUpdateTime"] {
                    if let Some(t) = prev.get(k) {
                        c[k] = t.clone();
                    }
                }
            }
        }
    }
    new
}

fn owned_by_job(o: &Value) -> bool {
    o.pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .is_some_and(|refs| refs.iter().any(|r| r.get("kind") == Some(&json!("Job"))))
}

/// The status a healthy (or, when annotated, failing) controller would report.
pub fn desired_status(resource: &str, o: &Value) -> Option<Value> {
    if crate::objects::is_deleting(o) {
        return None;
    }
    let fail = o
        .pointer("/metadata/annotations")
        .and_then(|a| a.get(SIMULATE_ANNOTATION))
        .and_then(Value::as_str)
        == Some("fail");
    let generation = o
        .pointer("/metadata/generation")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    let replicas = o
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    let now = crate::http_util::now_rfc3339();
    let old = o.get("status");
    let status = match resource {
        "deployments" => {
            let ready = if fail { 0 } else { replicas };
            let conds = if fail {
                vec![
                    cond(
                        "Available",
                        "False",
                        "MinimumReplicasUnavailable",
                        "Deployment does not have minimum availability.",
                        &now,
                    ),
                    cond(
                        "Progressing",
                        "False",
                        "ProgressDeadlineExceeded",
                        &format!(
                            "ReplicaSet \"{}\" has timed out progressing.",
                            meta_str(o, "name")
                        ),
                        &now,
                    ),
                ]
            } else {
                vec![
                    cond(
                        "Available",
                        "True",
                        "MinimumReplicasAvailable",
                        "Deployment has minimum availability.",
                        &now,
                    ),
                    cond(
                        "Progressing",
                        "True",
                        "NewReplicaSetAvailable",
                        &format!(
                            "ReplicaSet \"{}\" has successfully progressed.",
                            meta_str(o, "name")
                        ),
                        &now,
                    ),
                ]
            };
            let mut s = json!({"observedGeneration": generation, "replicas": replicas, "updatedReplicas": replicas, "conditions": conds});
            if ready > 0 {
                s["readyReplicas"] = json!(ready);
                s["availableReplicas"] = json!(ready);
            } else {
                s["unavailableReplicas"] = json!(replicas);
            }
            s
        }
        "statefulsets" | "replicasets" => {
            let ready = if fail { 0 } else { replicas };
            let mut s = json!({"observedGeneration": generation, "replicas": replicas, "readyReplicas": ready, "availableReplicas": ready});
            if resource == "statefulsets" {
                s["currentReplicas"] = json!(replicas);
                s["updatedReplicas"] = json!(replicas);
            } else {
                s["fullyLabeledReplicas"] = json!(replicas);
            }
            s
        }
        "daemonsets" => {
            let ready = if fail { 0 } else { 1 };
            json!({"observedGeneration": generation, "currentNumberScheduled": 1, "desiredNumberScheduled": 1,
                   "numberMisscheduled": 0, "numberReady": ready, "numberAvailable": ready, "updatedNumberScheduled": 1})
        }
        "jobs" => {
            if fail {
                json!({"failed": 1, "conditions": [cond("Failed", "True", "BackoffLimitExceeded", "Job has reached the specified backoff limit", &now)]})
            } else {
                let start = old
                    .and_then(|s| s.get("startTime"))
                    .cloned()
                    .unwrap_or(json!(now));
                json!({"succeeded": 1, "startTime": start, "completionTime": old.and_then(|s| s.get("completionTime")).cloned().unwrap_or(json!(now)),
                       "conditions": [cond("Complete", "True", "", "", &now)]})
            }
        }
        "pods" if owned_by_job(o) => {
            let phase = if fail { "Failed" } else { "Succeeded" };
            json!({"phase": phase, "conditions": [cond("Ready", "False", "PodCompleted", "", &now)],
                   "podIP": "10.244.0.10", "hostIP": "10.0.0.1"})
        }
        "pods" => {
            let containers: Vec<Value> = o.pointer("/spec/containers").and_then(Value::as_array).map(|cs| {
                cs.iter().map(|c| json!({"name": c.get("name"), "image": c.get("image"), "ready": !fail, "restartCount": 0,
                    "started": !fail, "state": if fail { json!({"waiting": {"reason": "CrashLoopBackOff"}}) } else { json!({"running": {"startedAt": now}}) }})).collect()
            }).unwrap_or_default();
            let status = if fail { "False" } else { "True" };
            json!({"phase": if fail { "Failed" } else { "Running" },
                   "conditions": [cond("Ready", status, "", "", &now), cond("ContainersReady", status, "", "", &now)],
                   "containerStatuses": containers, "podIP": "10.244.0.10", "hostIP": "10.0.0.1"})
        }
        "persistentvolumeclaims" => {
            if fail {
                json!({"phase": "Pending"})
            } else {
                let mut s = json!({"phase": "Bound"});
                if let Some(modes) = o.pointer("/spec/accessModes") {
                    s["accessModes"] = modes.clone();
                }
                if let Some(size) = o.pointer("/spec/resources/requests/storage") {
                    s["capacity"] = json!({"storage": size});
                }
                s
            }
        }
        // Only LoadBalancer Services have a status a controller fills in.
        "services" if o.pointer("/spec/type").and_then(Value::as_str) == Some("LoadBalancer") => {
            if fail {
                json!({"loadBalancer": {}})
            } else {
                json!({"loadBalancer": {"ingress": [{"ip": "172.18.255.200", "ipMode": "VIP"}]}})
            }
        }
        _ => return None,
    };
    Some(keep_time(old, status))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failing_annotation_makes_deployment_unavailable() {
        let o = json!({"metadata": {"name": "d", "generation": 2, "annotations": {SIMULATE_ANNOTATION: "fail"}}, "spec": {"replicas": 2}});
        let s = desired_status("deployments", &o).unwrap_or_default();
        assert_eq!(s["conditions"][0]["status"], "False");
        assert!(s.get("readyReplicas").is_none());
        let ok = json!({"metadata": {"name": "d", "generation": 2}, "spec": {"replicas": 2}});
        let s = desired_status("deployments", &ok).unwrap_or_default();
        assert_eq!(
            (s["readyReplicas"].clone(), s["observedGeneration"].clone()),
            (json!(2), json!(2))
        );
    }

    #[test]
    fn claims_bind_and_load_balancers_get_an_address() {
        let pvc = json!({"metadata": {"name": "c"}, "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}});
        let s = desired_status("persistentvolumeclaims", &pvc).unwrap_or_default();
        assert_eq!(
            (s["phase"].clone(), s["capacity"]["storage"].clone()),
            (json!("Bound"), json!("1Gi"))
        );
        let lb = json!({"metadata": {"name": "s"}, "spec": {"type": "LoadBalancer"}});
        assert!(
            desired_status("services", &lb)
                .is_some_and(|s| s["loadBalancer"]["ingress"][0]["ip"].is_string())
        );
        let cip = json!({"metadata": {"name": "s"}, "spec": {"type": "ClusterIP"}});
        assert_eq!(desired_status("services", &cip), None);
    }

    #[test]
    fn repeated_status_is_stable() {
        let o = json!({"metadata": {"name": "j"}});
        let first = desired_status("jobs", &o).unwrap_or_default();
        let o2 = json!({"metadata": {"name": "j"}, "status": first.clone()});
        assert_eq!(desired_status("jobs", &o2), Some(first));
    }
}
