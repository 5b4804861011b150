//! Prints how long kstatus takes per object for a mix of kinds:
//! `cargo bench -p flux-kstatus --bench compute`.

use std::time::Instant;

use serde_json::json;

fn main() {
    let objects = [
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"generation": 3},
               "spec": {"replicas": 3, "progressDeadlineSeconds": 600},
               "status": {"observedGeneration": 3, "replicas": 3, "updatedReplicas": 3, "readyReplicas": 3,
                          "availableReplicas": 3, "conditions": [
                              {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"},
                              {"type": "Available", "status": "True"}]}}),
        json!({"apiVersion": "v1", "kind": "Pod", "status": {"phase": "Running",
               "conditions": [{"type": "Ready", "status": "True"}]}}),
        json!({"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease", "metadata": {"generation": 1},
               "status": {"observedGeneration": 1, "conditions": [{"type": "Ready", "status": "True"}]}}),
        json!({"apiVersion": "batch/v1", "kind": "Job", "status": {"conditions": [{"type": "Complete", "status": "True"}]}}),
    ];
    let rounds = 100_000u32;
    let started = Instant::now();
    let mut current = 0usize;
    for _ in 0..rounds {
        for obj in &objects {
            if matches!(flux_kstatus::compute_flux(obj), Ok(r) if r.status == flux_kstatus::Status::Current)
            {
                current += 1;
            }
        }
    }
    let total = rounds * objects.len() as u32;
    println!(
        "{total} computations ({current} Current) in {:?}: {:?} per object",
        started.elapsed(),
        started.elapsed() / total
    );
}
