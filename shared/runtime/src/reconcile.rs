//! Small pieces every Flux reconciler shares: the finalizer name, the requestedAt annotation,
//! requeue intervals with jitter, failure backoff, and status patches.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::sync::Mutex;
use std::time::Duration;

use flux_api::meta::RECONCILE_REQUEST_ANNOTATION;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, Patch, PatchParams};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// What makes an object worth reconciling again, as Flux's controllers filter their own
/// kind (`GenerationChangedPredicate` or `ReconcileRequestedPredicate`): its generation, the
/// `reconcile.fluxcd.io/requestedAt` annotation, or a deletion. Status updates, which
/// reconcilers make themselves, do not count; use with kube's `predicate_filter`.
pub fn reconcile_trigger<K: kube::Resource>(obj: &K) -> Option<u64> {
    let meta = obj.meta();
    let mut hasher = std::hash::DefaultHasher::new();
    std::hash::Hash::hash(&meta.generation, &mut hasher);
    std::hash::Hash::hash(&requested_at(meta), &mut hasher);
    std::hash::Hash::hash(&meta.deletion_timestamp.is_some(), &mut hasher);
    std::hash::Hash::hash(&meta.finalizers, &mut hasher);
    Some(hasher.finish())
}

/// The finalizer every Flux controller puts on the objects it reconciles.
pub const FINALIZER: &str = "finalizers.fluxcd.io";

/// The value of `reconcile.fluxcd.io/requestedAt`, if set.
pub fn requested_at(meta: &ObjectMeta) -> Option<&str> {
    meta.annotations
        .as_ref()?
        .get(RECONCILE_REQUEST_ANNOTATION)
        .map(String::as_str)
}

/// `interval` moved by up to ±`percent`% at random (Flux's `--interval-jitter-percentage`), so
/// objects created together do not stay in lockstep.
pub fn jitter(interval: Duration, percent: u32) -> Duration {
    if percent == 0 || interval.is_zero() {
        return interval;
    }
    let spread = interval.as_secs_f64() * f64::from(percent.min(100)) / 100.0;
    let unit = random_unit();
    Duration::from_secs_f64((interval.as_secs_f64() + spread * (2.0 * unit - 1.0)).max(0.0))
}

/// A number in [0, 1) from the process's random hasher keys: enough for jitter.
fn random_unit() -> f64 {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default(),
    );
    (h.finish() >> 11) as f64 / (1u64 << 53) as f64
}

/// Per-object exponential backoff after failures (Flux's defaults: 750ms doubling up to 15m),
/// reset by a success.
#[derive(Default)]
pub struct Backoff {
    failures: Mutex<HashMap<String, u32>>,
}

impl Backoff {
    pub const MIN: Duration = Duration::from_millis(750);
    pub const MAX: Duration = Duration::from_secs(15 * 60);

    /// Records a failure of `key` and returns how long to wait before the next attempt.
    pub fn failed(&self, key: &str) -> Duration {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let n = map.entry(key.to_string()).or_default();
        *n = n.saturating_add(1);
        let factor = 2u32.saturating_pow((*n - 1).min(20));
        Self::MIN.saturating_mul(factor).min(Self::MAX)
    }

    pub fn succeeded(&self, key: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(key);
    }
}

/// Writes `status` through the status subresource with a merge patch.
pub async fn patch_status<K, S>(api: &Api<K>, name: &str, status: &S) -> Result<K, kube::Error>
where
    K: Clone + DeserializeOwned + std::fmt::Debug,
    S: Serialize,
{
    let body = serde_json::json!({ "status": status });
    api.patch_status(name, &PatchParams::default(), &Patch::Merge(&body))
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_within_the_percentage() {
        let base = Duration::from_secs(100);
        for _ in 0..200 {
            let d = jitter(base, 10);
            assert!(
                d >= Duration::from_secs(90) && d <= Duration::from_secs(110),
                "{d:?}"
            );
        }
        assert_eq!(jitter(base, 0), base);
    }

    #[test]
    fn backoff_doubles_per_failure_caps_and_resets() {
        let b = Backoff::default();
        assert_eq!(b.failed("a"), Duration::from_millis(750));
        assert_eq!(b.failed("a"), Duration::from_millis(1500));
        assert_eq!(b.failed("a"), Duration::from_millis(3000));
        assert_eq!(b.failed("other"), Duration::from_millis(750));
        for _ in 0..30 {
            b.failed("a");
        }
        assert_eq!(b.failed("a"), Backoff::MAX);
        b.succeeded("a");
        assert_eq!(b.failed("a"), Duration::from_millis(750));
    }

    #[test]
    fn requested_at_reads_the_flux_annotation() {
        let mut meta = ObjectMeta::default();
        assert_eq!(requested_at(&meta), None);
        meta.annotations = Some(
            [(
                RECONCILE_REQUEST_ANNOTATION.to_string(),
                "2026-11-25T10:00:00Z".to_string(),
            )]
            .into(),
        );
        assert_eq!(requested_at(&meta), Some("2026-11-25T10:00:00Z"));
    }
}
