//! HelmRepository reconciler: fetch `index.yaml`, check it is a Helm index, store it as the
//! artifact (revision: the sha256 digest of the index as fetched) and report Flux's conditions
//! and events.
//!
//! `type: oci` repositories are static in Flux 2.8: no fetch, no artifact, no finalizer and an
//! empty status; objects left from older versions are migrated to that state.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use flux_api::meta::{Artifact, FETCH_FAILED, STORAGE_OPERATION_FAILED, SUCCEEDED_REASON};
use flux_api::source::v1::{HelmRepository, HelmRepositoryStatus};
use flux_artifact::{Owner, Storage};
use flux_runtime::controller::{self as runtime, Error};
use flux_runtime::events::{Recorder, Severity};
use flux_runtime::reconcile::{Backoff, FINALIZER, jitter, patch_status, requested_at};
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::controller::Action;
use kube::{Resource, ResourceExt};

use crate::helm_http::RepoClient;
use crate::helm_index::{Index, human_size, index_url};
use crate::source_status::{
    StepFailure, failed_before, mark_failed, mark_stored, remove_artifacts,
};

/// Flux's reasons for HelmRepository failures.
pub const FAILED_REASON: &str = "Failed";
pub const AUTHENTICATION_FAILED_REASON: &str = "AuthenticationFailed";
pub const URL_INVALID_REASON: &str = "URLInvalid";
pub const INDEXATION_FAILED_REASON: &str = "IndexationFailed";
pub const NEW_ARTIFACT_REASON: &str = "NewArtifact";

/// Storage kind segment of HelmRepository artifacts.
pub const KIND: &str = "helmrepository";

/// Everything the reconciler needs besides the object.
pub struct Context {
    pub client: kube::Client,
    pub storage: Storage,
    pub recorder: Recorder,
    /// `--helm-index-max-size`.
    pub max_index_size: u64,
    pub jitter_percent: u32,
    pub backoff: Backoff,
}

/// Runs the HelmRepository controller until `shutdown` resolves.
pub async fn run(
    ctx: Arc<Context>,
    namespace: Option<&str>,
    label_selector: Option<&str>,
    concurrency: u16,
    shutdown: impl std::future::Future<Output = ()> + Send + Sync + 'static,
) {
    let api: Api<HelmRepository> = runtime::api(&ctx.client, namespace);
    let config = runtime::watcher_config(label_selector);
    let controller = runtime::controller_for(api, config);
    runtime::drive(
        controller,
        "HelmRepository",
        concurrency,
        shutdown,
        reconcile,
        error_policy,
        ctx,
    )
    .await;
}

fn error_policy(obj: Arc<HelmRepository>, _err: &Error, ctx: Arc<Context>) -> Action {
    runtime::requeue_after_failure(&ctx.backoff, obj.as_ref())
}

pub async fn reconcile(obj: Arc<HelmRepository>, ctx: Arc<Context>) -> Result<Action, Error> {
    let namespace = obj.namespace().unwrap_or_default();
    let api: Api<HelmRepository> = Api::namespaced(ctx.client.clone(), &namespace);
    if obj.spec.is_oci() && obj.meta().deletion_timestamp.is_none() {
        return migrate_to_static(&obj, &ctx, &api).await;
    }
    let (ctx, objects) = (ctx.as_ref(), &api);
    runtime::with_finalizer(
        &api,
        obj,
        |obj| async move { apply(&obj, ctx, objects).await },
        |obj| async move { remove_artifacts(&ctx.storage, KIND, obj.as_ref()) },
    )
    .await
}

/// An OCI repository is a plain data object: drop any artifact, finalizer and status left
/// from an earlier reconcile, as Flux's `migrationToStatic`.
async fn migrate_to_static(
    obj: &HelmRepository,
    ctx: &Context,
    api: &Api<HelmRepository>,
) -> Result<Action, Error> {
    if obj.spec.suspend {
        return Ok(Action::await_change());
    }
    let has_finalizer = obj.finalizers().iter().any(|f| f == FINALIZER);
    if !has_finalizer
        && obj
            .status
            .as_ref()
            .is_none_or(|s| *s == HelmRepositoryStatus::default())
    {
        return Ok(Action::await_change());
    }
    remove_artifacts(&ctx.storage, KIND, obj)?;
    let name = obj.name_any();
    if obj.status.is_some() {
        let body = serde_json::json!({ "status": null });
        api.patch_status(&name, &PatchParams::default(), &Patch::Merge(&body))
            .await?;
    }
    if has_finalizer {
        let rest: Vec<&String> = obj
            .finalizers()
            .iter()
            .filter(|f| *f != FINALIZER)
            .collect();
        let body = serde_json::json!({ "metadata": {
            "finalizers": rest,
            "resourceVersion": obj.resource_version(),
        }});
        api.patch(&name, &PatchParams::default(), &Patch::Merge(&body))
            .await?;
    }
    Ok(Action::await_change())
}

async fn apply(
    obj: &HelmRepository,
    ctx: &Context,
    api: &Api<HelmRepository>,
) -> Result<Action, Error> {
    let name = obj.name_any();
    if obj.spec.suspend {
        tracing::info!(name, "reconciliation is suspended for this object");
        return Ok(Action::await_change());
    }
    let generation = obj.meta().generation;
    let mut status: HelmRepositoryStatus = obj.status.clone().unwrap_or_default();
    if let Some(at) = requested_at(obj.meta()) {
        status.reconcile_request.last_handled_reconcile_at = Some(at.to_string());
    }
    let object_ref = obj.object_ref(&());
    let was_failing = failed_before(&status.conditions);
    let previous = status.artifact.clone().filter(|a| {
        a.digest
            .as_deref()
            .is_some_and(|d| ctx.storage.verify(&a.path, d))
    });

    let outcome = fetch_and_store(obj, ctx, previous.as_ref()).await;
    let now = Timestamp::now();
    match outcome {
        Ok(artifact) => {
            let message = format!("stored artifact: revision '{}'", artifact.revision);
            let changed =
                previous.as_ref().and_then(|a| a.digest.as_ref()) != artifact.digest.as_ref();
            status.url = Some(artifact.url.clone());
            status.artifact = Some(artifact.clone());
            mark_stored(
                &mut status.conditions,
                generation,
                SUCCEEDED_REASON,
                &message,
                now,
            );
            status.observed_generation = generation;
            patch_status(api, &name, &status).await?;
            ctx.backoff.succeeded(&runtime::object_key(obj));
            if changed || was_failing {
                let size = artifact
                    .size
                    .and_then(|s| u64::try_from(s).ok())
                    .map(|s| format!("size {}", human_size(s)))
                    .unwrap_or_else(|| "unknown size".into());
                let text = format!("stored fetched index of {size} from '{}'", obj.spec.url);
                let meta = BTreeMap::from([
                    ("revision".to_string(), artifact.revision.clone()),
                    (
                        "digest".to_string(),
                        artifact.digest.clone().unwrap_or_default(),
                    ),
                ]);
                let reason = if changed {
                    NEW_ARTIFACT_REASON
                } else {
                    SUCCEEDED_REASON
                };
                ctx.recorder
                    .record(&object_ref, Severity::Info, reason, &text, meta)
                    .await;
            }
            Ok(Action::requeue(jitter(
                obj.spec.interval(),
                ctx.jitter_percent,
            )))
        }
        Err(failure) => {
            mark_failed(&mut status.conditions, generation, &failure, now);
            if failure.stalled {
                status.observed_generation = generation;
            }
            patch_status(api, &name, &status).await?;
            ctx.recorder
                .record(
                    &object_ref,
                    Severity::Error,
                    &failure.reason,
                    &failure.message,
                    BTreeMap::new(),
                )
                .await;
            if failure.stalled {
                return Ok(Action::await_change());
            }
            Err(Error::Reconcile {
                reason: failure.reason,
                message: failure.message,
            })
        }
    }
}

/// Fetches the index; unless it is the stored one, validates and stores it.
async fn fetch_and_store(
    obj: &HelmRepository,
    ctx: &Context,
    previous: Option<&Artifact>,
) -> Result<Artifact, StepFailure> {
    let url = &obj.spec.url;
    if url.starts_with("oci://") {
        return Err(StepFailure::new(
            FETCH_FAILED,
            URL_INVALID_REASON,
            "invalid Helm repository URL: 'oci' URL scheme cannot be used with 'default' HelmRepository type",
        )
        .stalled());
    }
    let index = index_url(url).map_err(|e| {
        StepFailure::new(
            FETCH_FAILED,
            URL_INVALID_REASON,
            format!("invalid Helm repository URL: {e}"),
        )
        .stalled()
    })?;
    let client = RepoClient::for_repository(&ctx.client, obj)
        .await
        .map_err(|e| StepFailure::new(FETCH_FAILED, AUTHENTICATION_FAILED_REASON, e.0))?;
    let timeout = obj.spec.timeout().max(Duration::from_secs(1));
    let bytes = match tokio::time::timeout(timeout, client.get(&index, ctx.max_index_size)).await {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(message)) => {
            return Err(StepFailure::new(
                FETCH_FAILED,
                FAILED_REASON,
                format!("failed to fetch Helm repository index: {message}"),
            ));
        }
        Err(_) => {
            return Err(StepFailure::new(
                FETCH_FAILED,
                FAILED_REASON,
                format!("failed to fetch Helm repository index: timed out after {timeout:?}"),
            ));
        }
    };
    let revision = flux_artifact::digest(&bytes);
    if let Some(prev) = previous.filter(|p| p.revision == revision) {
        return Ok(prev.clone());
    }
    let storage = ctx.storage.clone();
    let (namespace, name) = (obj.namespace().unwrap_or_default(), obj.name_any());
    let job = tokio::task::spawn_blocking(move || -> Result<Artifact, StepFailure> {
        Index::parse(&bytes).map_err(|e| {
            StepFailure::new(
                FETCH_FAILED,
                INDEXATION_FAILED_REASON,
                format!("failed to load Helm repository from index YAML: {e}"),
            )
        })?;
        let owner = Owner {
            kind: KIND,
            namespace: &namespace,
            name: &name,
        };
        let hex = revision.trim_start_matches("sha256:");
        let stored = storage
            .store(&owner, &format!("index-{hex}.yaml"), &bytes)
            .map_err(|e| {
                StepFailure::new(
                    STORAGE_OPERATION_FAILED,
                    "ArchiveOperationFailed",
                    format!("unable to save artifact to storage: {e}"),
                )
            })?;
        if let Err(e) = storage.garbage_collect(&owner, &stored.path) {
            tracing::warn!(error = %e, "artifact garbage collection failed");
        }
        Ok(Artifact {
            path: stored.path,
            url: stored.url,
            revision,
            digest: Some(stored.digest),
            last_update_time: k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(Timestamp::now()),
            size: i64::try_from(stored.size).ok(),
            metadata: BTreeMap::new(),
        })
    });
    job.await.map_err(|e| {
        StepFailure::new(
            STORAGE_OPERATION_FAILED,
            STORAGE_OPERATION_FAILED,
            format!("index task failed: {e}"),
        )
    })?
}
