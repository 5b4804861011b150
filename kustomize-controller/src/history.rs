//! `status.history`: the last reconciliations of each distinct set of applied objects, newest
//! first, as Flux 2.7+ records them. A snapshot is identified by the digest of the built
//! objects, so re-applying the same manifests counts up one entry instead of adding another.

use std::collections::BTreeMap;
use std::time::Duration;

use flux_api::meta::Snapshot;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use sha2::{Digest, Sha256};

use crate::godur::go_elapsed;

/// Snapshots kept, as Flux's default.
pub const MAX_HISTORY: usize = 5;

/// `sha256:<hex>` of the objects as they are applied.
pub fn digest(objects: &[serde_json::Value]) -> String {
    let mut hasher = Sha256::new();
    for obj in objects {
        hasher.update(serde_json::to_vec(obj).unwrap_or_default());
        hasher.update(b"\n---\n");
    }
    format!("sha256:{}", hex::encode(hasher.finalize()))
}

/// Records one reconciliation of `digest` that ended with `status` (the Ready reason).
pub fn upsert(
    history: &mut Vec<Snapshot>,
    digest: &str,
    now: Timestamp,
    took: Duration,
    status: &str,
    metadata: BTreeMap<String, String>,
) {
    let entry = match history.iter().position(|s| s.digest == digest) {
        Some(i) => {
            let mut s = history.remove(i);
            s.total_reconciliations += 1;
            s
        }
        None => Snapshot {
            digest: digest.to_string(),
            first_reconciled: Time(now),
            last_reconciled: Time(now),
            last_reconciled_duration: String::new(),
            last_reconciled_status: String::new(),
            total_reconciliations: 1,
            metadata: BTreeMap::new(),
        },
    };
    history.insert(
        0,
        Snapshot {
            last_reconciled: Time(now),
            last_reconciled_duration: go_elapsed(took),
            last_reconciled_status: status.to_string(),
            metadata,
            ..entry
        },
    );
    history.truncate(MAX_HISTORY);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(history: &mut Vec<Snapshot>, digest: &str, secs: i64, status: &str) {
        let now = Timestamp::from_second(secs).unwrap();
        let meta = BTreeMap::from([("revision".to_string(), format!("main@sha1:{digest}"))]);
        upsert(
            history,
            digest,
            now,
            Duration::from_millis(1500),
            status,
            meta,
        );
    }

    #[test]
    fn the_same_objects_count_up_one_snapshot() {
        let mut history = Vec::new();
        record(&mut history, "sha256:a", 10, "ReconciliationSucceeded");
        record(&mut history, "sha256:a", 20, "HealthCheckFailed");
        assert_eq!(history.len(), 1);
        let s = &history[0];
        assert_eq!(s.total_reconciliations, 2);
        assert_eq!(s.first_reconciled.0.as_second(), 10);
        assert_eq!(s.last_reconciled.0.as_second(), 20);
        assert_eq!(s.last_reconciled_status, "HealthCheckFailed");
        assert_eq!(s.last_reconciled_duration, "1.5s");
    }

    #[test]
    fn newest_first_and_bounded() {
        let mut history = Vec::new();
        for i in 0..7 {
            record(
                &mut history,
                &format!("sha256:{i}"),
                i,
                "ReconciliationSucceeded",
            );
        }
        // An old snapshot applied again moves to the front.
        record(&mut history, "sha256:3", 100, "ReconciliationSucceeded");
        let digests: Vec<&str> = history.iter().map(|s| s.digest.as_str()).collect();
        assert_eq!(
            digests,
            ["sha256:3", "sha256:6", "sha256:5", "sha256:4", "sha256:2"]
        );
    }

    #[test]
    fn digest_depends_on_content() {
        let a = serde_json::json!({"kind": "ConfigMap", "data": {"k": "1"}});
        let b = serde_json::json!({"kind": "ConfigMap", "data": {"k": "2"}});
        assert_eq!(
            digest(std::slice::from_ref(&a)),
            digest(std::slice::from_ref(&a))
        );
        assert_ne!(digest(&[a]), digest(&[b]));
        assert!(digest(&[]).starts_with("sha256:"));
    }
}
