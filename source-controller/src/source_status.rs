//! Condition bookkeeping shared by the Helm reconcilers: one failed step or one stored artifact
//! turned into Flux's conditions, computed in one place.

use flux_api::meta::{
    ARTIFACT_IN_STORAGE, ARTIFACT_OUTDATED, FETCH_FAILED, STORAGE_OPERATION_FAILED,
};
use flux_runtime::conditions::{self, Status};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use k8s_openapi::jiff::Timestamp;

/// Flux's condition for chart builds that failed after the fetch.
pub const BUILD_FAILED: &str = "BuildFailed";

/// Conditions that mean the last reconcile failed (Flux's `*FailConditions`).
const FAILURE_CONDITIONS: [&str; 3] = [FETCH_FAILED, STORAGE_OPERATION_FAILED, BUILD_FAILED];

/// A failure of one step: what goes into the conditions and the event.
#[derive(Debug, Clone)]
pub struct StepFailure {
    pub condition: &'static str,
    pub reason: String,
    pub message: String,
    /// Retrying cannot help until the spec changes.
    pub stalled: bool,
}

impl StepFailure {
    pub fn new(
        condition: &'static str,
        reason: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        StepFailure {
            condition,
            reason: reason.into(),
            message: message.into(),
            stalled: false,
        }
    }

    pub fn stalled(mut self) -> Self {
        self.stalled = true;
        self
    }
}

/// Whether the conditions record a failed reconcile (for Flux's recovery event).
pub fn failed_before(conds: &[Condition]) -> bool {
    FAILURE_CONDITIONS
        .iter()
        .any(|t| conditions::is_true(conds, t))
}

/// The artifact is stored: ArtifactInStorage and Ready carry `message`, failures are cleared.
pub fn mark_stored(
    conds: &mut Vec<Condition>,
    generation: Option<i64>,
    reason: &str,
    message: &str,
    now: Timestamp,
) {
    for t in FAILURE_CONDITIONS {
        conditions::remove(conds, t);
    }
    conditions::remove(conds, ARTIFACT_OUTDATED);
    conditions::set(
        conds,
        ARTIFACT_IN_STORAGE,
        Status::True,
        reason,
        message,
        generation,
        now,
    );
    conditions::mark_ready(conds, generation, reason, message, now);
}

/// A step failed: its condition is True, the other failure conditions are cleared, Ready is
/// False with the same reason and message.
pub fn mark_failed(
    conds: &mut Vec<Condition>,
    generation: Option<i64>,
    failure: &StepFailure,
    now: Timestamp,
) {
    for t in FAILURE_CONDITIONS {
        if t != failure.condition {
            conditions::remove(conds, t);
        }
    }
    conditions::set(
        conds,
        failure.condition,
        Status::True,
        &failure.reason,
        &failure.message,
        generation,
        now,
    );
    conditions::mark_failed(
        conds,
        generation,
        &failure.reason,
        &failure.message,
        failure.stalled,
        now,
    );
}

/// The cleanup of a deleted source: all its artifacts removed from storage.
pub fn remove_artifacts<K: kube::Resource>(
    storage: &flux_artifact::Storage,
    kind: &str,
    obj: &K,
) -> Result<kube::runtime::controller::Action, flux_runtime::controller::Error> {
    use kube::ResourceExt;
    let (namespace, name) = (obj.namespace().unwrap_or_default(), obj.name_any());
    storage
        .remove_all(&flux_artifact::Owner {
            kind,
            namespace: &namespace,
            name: &name,
        })
        .map_err(|e| flux_runtime::controller::Error::Reconcile {
            reason: STORAGE_OPERATION_FAILED.into(),
            message: e.to_string(),
        })?;
    Ok(kube::runtime::controller::Action::await_change())
}
