//! HelmRelease reconciler: resolve the chart artifact (the HelmChart it templates, or the
//! `chartRef` source), compose values, install or upgrade the release with hooks and readiness
//! waits, remediate failures, record the release as Helm does, and report Flux's status.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use flux_api::helm::v2::{
    ChartRefKind, HelmRelease, HelmReleaseStatus, ReleaseAction, RemediationStrategy, Snapshot,
};
use flux_api::meta::{
    ARTIFACT_FAILED_REASON, DEPENDENCY_NOT_READY_REASON, FORCE_REQUEST_ANNOTATION, READY, RELEASED,
    REMEDIATED, RESET_REQUEST_ANNOTATION, STALLED, ValuesKind,
};
use flux_runtime::conditions::{self, Status};
use flux_runtime::controller::{self as runtime, Error};
use flux_runtime::events::{Recorder, Severity};
use flux_runtime::reconcile::{Backoff, jitter, patch_status, requested_at};
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use kube::discovery::ApiResource;
use kube::runtime::controller::Action;
use kube::runtime::reflector::ObjectRef;
use kube::runtime::watcher;
use kube::{Resource, ResourceExt};
use serde_json::{Map, Value};

use crate::CONTROLLER_NAME;
use crate::actions::{
    chart_id, delete_release_secrets, list_releases, rollback, run_action, uninstall,
};
use crate::apply::Resolver;
use crate::release::{self, Release};
use crate::values;

pub const INSTALL_SUCCEEDED: &str = "InstallSucceeded";
pub const INSTALL_FAILED: &str = "InstallFailed";
pub const UPGRADE_SUCCEEDED: &str = "UpgradeSucceeded";
pub const UPGRADE_FAILED: &str = "UpgradeFailed";
pub const ROLLBACK_SUCCEEDED: &str = "RollbackSucceeded";
pub const UNINSTALL_SUCCEEDED: &str = "UninstallSucceeded";
pub const RETRIES_EXCEEDED: &str = "RetriesExceeded";
pub const SOURCE_NOT_READY: &str = "SourceNotReady";
pub const VALUES_ERROR: &str = "ValuesError";
/// Labels Flux puts on the HelmChart it creates and on the objects of the release.
pub const NAME_LABEL: &str = "helm.toolkit.fluxcd.io/name";
pub const NAMESPACE_LABEL: &str = "helm.toolkit.fluxcd.io/namespace";

/// Everything the reconciler needs besides the object.
pub struct Context {
    pub client: kube::Client,
    /// The configuration `client` was made from; cloned with impersonation for
    /// `spec.serviceAccountName`.
    pub kube_config: kube::Config,
    /// `--default-service-account`: impersonated when `spec.serviceAccountName` is empty.
    pub default_service_account: Option<String>,
    pub recorder: Recorder,
    /// Downloads chart artifacts from source-controller.
    pub http: reqwest::Client,
    pub backoff: Backoff,
    pub jitter_percent: u32,
    /// How often to check a dependency or a source that is not ready (`--requeue-dependency`).
    pub requeue_dependency: Duration,
    /// Largest chart artifact downloaded.
    pub max_artifact_size: u64,
}

/// Runs the HelmRelease controller until `shutdown` resolves.
pub async fn run(
    ctx: Arc<Context>,
    namespace: Option<&str>,
    label_selector: Option<&str>,
    concurrency: u16,
    shutdown: impl std::future::Future<Output = ()> + Send + Sync + 'static,
) {
    let api: Api<HelmRelease> = runtime::api(&ctx.client, namespace);
    let config = runtime::watcher_config(label_selector);
    let charts: Api<flux_api::source::v1::HelmChart> = Api::all(ctx.client.clone());
    let controller =
        runtime::controller_for(api, config).watches(charts, watcher::Config::default(), |chart| {
            // The HelmChart a release templates carries the release's name and namespace.
            let labels = chart.labels();
            match (labels.get(NAME_LABEL), labels.get(NAMESPACE_LABEL)) {
                (Some(name), Some(ns)) => Some(ObjectRef::<HelmRelease>::new(name).within(ns)),
                _ => None,
            }
        });
    runtime::drive(
        controller,
        "HelmRelease",
        concurrency,
        shutdown,
        reconcile,
        error_policy,
        ctx,
    )
    .await;
}

fn error_policy(obj: Arc<HelmRelease>, _err: &Error, ctx: Arc<Context>) -> Action {
    runtime::requeue_after_failure(&ctx.backoff, obj.as_ref())
}

pub async fn reconcile(obj: Arc<HelmRelease>, ctx: Arc<Context>) -> Result<Action, Error> {
    let namespace = obj.namespace().unwrap_or_default();
    let api: Api<HelmRelease> = Api::namespaced(ctx.client.clone(), &namespace);
    let (ctx, objects) = (ctx.as_ref(), &api);
    runtime::with_finalizer(
        &api,
        obj,
        |obj| async move { reconcile_release(&obj, ctx, objects).await },
        |obj| async move { cleanup(&obj, ctx).await },
    )
    .await
}

/// A failure before any Helm action: what goes into Ready and the event.
struct StepFailure {
    reason: &'static str,
    message: String,
    /// Waiting on something else (source, dependency): requeue without backoff.
    requeue: Option<Duration>,
}

/// The client Helm actions use: the controller's own, or one impersonating
/// `spec.serviceAccountName` (else `--default-service-account`) in the release's namespace.
fn target_client(obj: &HelmRelease, ctx: &Context) -> Result<kube::Client, String> {
    let sa = obj
        .spec
        .service_account_name
        .clone()
        .filter(|s| !s.is_empty())
        .or_else(|| ctx.default_service_account.clone());
    let Some(sa) = sa else {
        return Ok(ctx.client.clone());
    };
    let ns = obj.namespace().unwrap_or_default();
    let mut config = ctx.kube_config.clone();
    config.auth_info.impersonate = Some(format!("system:serviceaccount:{ns}:{sa}"));
    kube::Client::try_from(config).map_err(|e| {
        format!("failed to build the Kubernetes client for ServiceAccount '{ns}/{sa}': {e}")
    })
}

/// True once for a new value of `annotation` that equals `reconcile.fluxcd.io/requestedAt`
/// (Flux requires both), recording it as handled.
fn handle_request(obj: &HelmRelease, annotation: &str, handled: &mut Option<String>) -> bool {
    let Some(value) = obj.annotations().get(annotation) else {
        return false;
    };
    if handled.as_deref() == Some(value.as_str())
        || requested_at(obj.meta()) != Some(value.as_str())
    {
        return false;
    }
    *handled = Some(value.clone());
    true
}

/// The API server's message without the client's debug dump of the status.
fn kube_message(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(s) => s.message.clone(),
        other => other.to_string(),
    }
}

pub(crate) fn storage_namespace(obj: &HelmRelease) -> String {
    obj.spec
        .storage_namespace
        .clone()
        .filter(|s| !s.is_empty())
        .or_else(|| obj.namespace())
        .unwrap_or_default()
}

async fn cleanup(obj: &HelmRelease, ctx: &Context) -> Result<Action, Error> {
    if obj.spec.suspend {
        return Ok(Action::await_change());
    }
    let keep_history = obj.spec.uninstall.as_ref().is_some_and(|u| u.keep_history);
    let storage_ns = storage_namespace(obj);
    let target = target_client(obj, ctx).map_err(|message| Error::Reconcile {
        reason: "UninstallFailed".into(),
        message,
    })?;
    let releases = list_releases(&target, &storage_ns, &obj.release_name()).await?;
    if let Some(latest) = releases
        .last()
        .filter(|r| r.info.status != release::STATUS_UNINSTALLED)
    {
        let mut resolver = Resolver::new(target.clone());
        if let Err(e) = uninstall(&mut resolver, latest, &storage_ns, keep_history).await {
            return Err(Error::Reconcile {
                reason: "UninstallFailed".into(),
                message: e,
            });
        }
    }
    if !keep_history {
        delete_release_secrets(&target, &storage_ns, &releases).await?;
    }
    if let Some(chart) = &obj.spec.chart {
        let ns = chart
            .spec
            .source_ref
            .namespace
            .clone()
            .or_else(|| obj.namespace())
            .unwrap_or_default();
        let charts: Api<flux_api::source::v1::HelmChart> = Api::namespaced(ctx.client.clone(), &ns);
        match charts
            .delete(&obj.helm_chart_name(), &Default::default())
            .await
        {
            Ok(_) => {}
            Err(kube::Error::Api(s)) if s.code == 404 => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(Action::await_change())
}

async fn reconcile_release(
    obj: &HelmRelease,
    ctx: &Context,
    api: &Api<HelmRelease>,
) -> Result<Action, Error> {
    let name = obj.name_any();
    if obj.spec.suspend {
        tracing::info!(name, "reconciliation is suspended for this object");
        return Ok(Action::await_change());
    }
    let generation = obj.meta().generation;
    let mut status: HelmReleaseStatus = obj.status.clone().unwrap_or_default();
    if let Some(at) = requested_at(obj.meta()) {
        status.reconcile_request.last_handled_reconcile_at = Some(at.to_string());
    }
    status.storage_namespace = Some(storage_namespace(obj));
    let object_ref = obj.object_ref(&());
    let interval = obj.spec.interval.to_std();

    let prepared = prepare(obj, ctx, &mut status).await;
    let now = Timestamp::now();
    let prepared = match prepared {
        Ok(p) => p,
        Err(failure) => {
            conditions::mark_failed(
                &mut status.conditions,
                generation,
                failure.reason,
                &failure.message,
                false,
                now,
            );
            patch_status(api, &name, &status).await?;
            if let Some(after) = failure.requeue {
                return Ok(Action::requeue(jitter(after, ctx.jitter_percent)));
            }
            ctx.recorder
                .record(
                    &object_ref,
                    Severity::Error,
                    failure.reason,
                    &failure.message,
                    BTreeMap::new(),
                )
                .await;
            return Err(Error::Reconcile {
                reason: failure.reason.into(),
                message: failure.message,
            });
        }
    };

    let outcome = release_step(obj, ctx, &mut status, prepared).await;
    let now = Timestamp::now();
    match outcome {
        Outcome::InSync(message) | Outcome::Succeeded { message } => {
            let reason = conditions::get(&status.conditions, RELEASED)
                .map(|c| c.reason.clone())
                .unwrap_or_else(|| INSTALL_SUCCEEDED.into());
            conditions::mark_ready(&mut status.conditions, generation, &reason, &message, now);
            status.observed_generation = generation;
            status.last_attempted_generation = generation;
            patch_status(api, &name, &status).await?;
            ctx.backoff.succeeded(&runtime::object_key(obj));
            Ok(Action::requeue(jitter(interval, ctx.jitter_percent)))
        }
        Outcome::Failed {
            reason,
            message,
            stalled,
        } => {
            conditions::mark_failed(
                &mut status.conditions,
                generation,
                reason,
                &message,
                stalled.is_some(),
                now,
            );
            status.last_attempted_generation = generation;
            if let Some(stall) = &stalled {
                conditions::set(
                    &mut status.conditions,
                    STALLED,
                    Status::True,
                    RETRIES_EXCEEDED,
                    stall,
                    generation,
                    now,
                );
                status.observed_generation = generation;
            }
            patch_status(api, &name, &status).await?;
            if stalled.is_some() {
                return Ok(Action::await_change());
            }
            Err(Error::Reconcile {
                reason: reason.into(),
                message,
            })
        }
    }
}

/// The chart and values, ready for an action.
pub(crate) struct Prepared {
    pub(crate) chart: flux_helm::Chart,
    pub(crate) values: Map<String, Value>,
    pub(crate) config_digest: String,
    /// Source artifact revision (the chart version for a HelmChart).
    pub(crate) revision: String,
}

async fn prepare(
    obj: &HelmRelease,
    ctx: &Context,
    status: &mut HelmReleaseStatus,
) -> Result<Prepared, StepFailure> {
    check_dependencies(obj, ctx).await?;
    let source = chart_source(obj, ctx, status).await?;
    let (url, digest, revision) = source;
    let bytes = flux_artifact::fetch_verified(&ctx.http, &url, &digest, ctx.max_artifact_size)
        .await
        .map_err(|e| StepFailure {
            reason: ARTIFACT_FAILED_REASON,
            message: format!("could not load chart: {e}"),
            requeue: None,
        })?;
    let chart = tokio::task::spawn_blocking(move || flux_helm::loader::load_archive(&bytes))
        .await
        .map_err(|e| e.to_string())
        .and_then(|r| r.map_err(|e| e.to_string()))
        .map_err(|e| StepFailure {
            reason: ARTIFACT_FAILED_REASON,
            message: format!("could not load chart: {e}"),
            requeue: None,
        })?;
    let values = compose_values(obj, ctx).await?;
    let config_digest = values::config_digest(&values);
    Ok(Prepared {
        chart,
        values,
        config_digest,
        revision,
    })
}

async fn check_dependencies(obj: &HelmRelease, ctx: &Context) -> Result<(), StepFailure> {
    for dep in &obj.spec.depends_on {
        let ns = dep
            .namespace
            .clone()
            .or_else(|| obj.namespace())
            .unwrap_or_default();
        let api: Api<HelmRelease> = Api::namespaced(ctx.client.clone(), &ns);
        let not_ready = |detail: String| StepFailure {
            reason: DEPENDENCY_NOT_READY_REASON,
            message: format!("dependency '{ns}/{}' is not ready: {detail}", dep.name),
            requeue: Some(ctx.requeue_dependency),
        };
        let Some(d) = api
            .get_opt(&dep.name)
            .await
            .map_err(|e| not_ready(e.to_string()))?
        else {
            return Err(StepFailure {
                reason: DEPENDENCY_NOT_READY_REASON,
                message: format!(
                    "unable to get '{ns}/{}' dependency: helmreleases.helm.toolkit.fluxcd.io \"{}\" not found",
                    dep.name, dep.name
                ),
                requeue: Some(ctx.requeue_dependency),
            });
        };
        let st = d.status.clone().unwrap_or_default();
        let ready = st.observed_generation == d.metadata.generation
            && conditions::is_true(&st.conditions, READY);
        if !ready {
            return Err(not_ready("dependency is not ready".into()));
        }
    }
    Ok(())
}

fn source_failure(reason: &'static str, message: String, requeue: Option<Duration>) -> StepFailure {
    StepFailure {
        reason,
        message,
        requeue,
    }
}

/// Creates or updates the HelmChart template (or reads `chartRef`) and returns the artifact's
/// URL, digest and revision once the source is ready.
async fn chart_source(
    obj: &HelmRelease,
    ctx: &Context,
    status: &mut HelmReleaseStatus,
) -> Result<(String, String, String), StepFailure> {
    let hr_ns = obj.namespace().unwrap_or_default();
    let (ar, ns, name, kind) = if let Some(chart) = &obj.spec.chart {
        let ns = chart
            .spec
            .source_ref
            .namespace
            .clone()
            .unwrap_or_else(|| hr_ns.clone());
        let name = obj.helm_chart_name();
        let desired = helm_chart_template(obj, &ns);
        let charts: Api<flux_api::source::v1::HelmChart> = Api::namespaced(ctx.client.clone(), &ns);
        charts
            .patch(
                &name,
                &PatchParams::apply(CONTROLLER_NAME).force(),
                &Patch::Apply(&desired),
            )
            .await
            .map_err(|e| {
                source_failure(
                    ARTIFACT_FAILED_REASON,
                    format!("failed to create or update HelmChart '{ns}/{name}': {e}"),
                    None,
                )
            })?;
        status.helm_chart = Some(format!("{ns}/{name}"));
        (
            ApiResource::erase::<flux_api::source::v1::HelmChart>(&()),
            ns,
            name,
            "HelmChart",
        )
    } else if let Some(r) = &obj.spec.chart_ref {
        let ns = r.namespace.clone().unwrap_or_else(|| hr_ns.clone());
        let (ar, kind) = match r.kind {
            ChartRefKind::OCIRepository => (
                ApiResource::erase::<flux_api::source::v1::OCIRepository>(&()),
                "OCIRepository",
            ),
            ChartRefKind::HelmChart => (
                ApiResource::erase::<flux_api::source::v1::HelmChart>(&()),
                "HelmChart",
            ),
            other => {
                return Err(source_failure(
                    ARTIFACT_FAILED_REASON,
                    format!("unsupported chartRef kind {other:?}"),
                    None,
                ));
            }
        };
        (ar, ns, r.name.clone(), kind)
    } else {
        return Err(source_failure(
            "InvalidChartReference",
            "spec: either chart or chartRef must be set".into(),
            None,
        ));
    };
    let api: Api<DynamicObject> = Api::namespaced_with(ctx.client.clone(), &ns, &ar);
    let source = api.get_opt(&name).await.map_err(|e| {
        source_failure(
            ARTIFACT_FAILED_REASON,
            format!("could not get Source object: {e}"),
            None,
        )
    })?;
    let Some(source) = source else {
        return Err(source_failure(
            ARTIFACT_FAILED_REASON,
            format!("could not get Source object: {kind} '{ns}/{name}' not found"),
            Some(ctx.requeue_dependency),
        ));
    };
    let st = source.data.get("status").cloned().unwrap_or(Value::Null);
    let not_ready = |detail: &str| {
        source_failure(
            SOURCE_NOT_READY,
            format!("{kind} '{ns}/{name}' is not ready: {detail}"),
            Some(ctx.requeue_dependency),
        )
    };
    let observed = st.get("observedGeneration").and_then(Value::as_i64);
    if observed != source.metadata.generation {
        return Err(not_ready(
            "latest generation of object has not been reconciled",
        ));
    }
    let ready = st
        .get("conditions")
        .and_then(Value::as_array)
        .and_then(|cs| {
            cs.iter()
                .find(|c| c.get("type").and_then(Value::as_str) == Some(READY))
        });
    let ready_true = ready.and_then(|c| c.get("status")).and_then(Value::as_str) == Some("True");
    let artifact = st.get("artifact");
    let field = |k: &str| {
        artifact
            .and_then(|a| a.get(k))
            .and_then(Value::as_str)
            .map(String::from)
    };
    match (ready_true, field("url"), field("digest"), field("revision")) {
        (true, Some(url), Some(digest), Some(revision)) => Ok((url, digest, revision)),
        _ => {
            let msg = ready
                .and_then(|c| c.get("message"))
                .and_then(Value::as_str)
                .filter(|m| !m.is_empty())
                .unwrap_or("artifact is not available");
            Err(not_ready(msg))
        }
    }
}

/// The HelmChart object Flux creates from `spec.chart`.
fn helm_chart_template(obj: &HelmRelease, namespace: &str) -> Value {
    let Some(chart) = &obj.spec.chart else {
        return Value::Null;
    };
    let s = &chart.spec;
    let mut labels: BTreeMap<String, String> = chart
        .object_meta
        .as_ref()
        .map(|m| m.labels.clone())
        .unwrap_or_default();
    labels.insert(NAME_LABEL.into(), obj.name_any());
    labels.insert(NAMESPACE_LABEL.into(), obj.namespace().unwrap_or_default());
    let annotations = chart
        .object_meta
        .as_ref()
        .map(|m| m.annotations.clone())
        .unwrap_or_default();
    let mut spec = serde_json::json!({
        "chart": s.chart,
        "version": s.version.clone().unwrap_or_else(|| "*".into()),
        "sourceRef": { "kind": s.source_ref.kind, "name": s.source_ref.name },
        "interval": s.interval.as_ref().unwrap_or(&obj.spec.interval).as_str(),
        "reconcileStrategy": s.reconcile_strategy,
    });
    if let Some(api_version) = &s.source_ref.api_version {
        spec["sourceRef"]["apiVersion"] = Value::String(api_version.clone());
    }
    if s.reconcile_strategy.is_none() {
        spec["reconcileStrategy"] = Value::String("ChartVersion".into());
    }
    if !s.values_files.is_empty() {
        spec["valuesFiles"] = serde_json::json!(s.values_files);
    }
    if s.ignore_missing_values_files {
        spec["ignoreMissingValuesFiles"] = Value::Bool(true);
    }
    if let Some(verify) = &s.verify {
        spec["verify"] = serde_json::to_value(verify).unwrap_or(Value::Null);
    }
    serde_json::json!({
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "HelmChart",
        "metadata": {
            "name": obj.helm_chart_name(),
            "namespace": namespace,
            "labels": labels,
            "annotations": annotations,
        },
        "spec": spec,
    })
}

async fn compose_values(
    obj: &HelmRelease,
    ctx: &Context,
) -> Result<Map<String, Value>, StepFailure> {
    let ns = obj.namespace().unwrap_or_default();
    let mut fetched: BTreeMap<(bool, String), values::Referent> = BTreeMap::new();
    for r in &obj.spec.values_from {
        let is_secret = r.kind == ValuesKind::Secret;
        if fetched.contains_key(&(is_secret, r.name.clone())) {
            continue;
        }
        let failure = |e: kube::Error| StepFailure {
            reason: VALUES_ERROR,
            message: format!(
                "could not get {} '{ns}/{}': {e}",
                values::kind_name(r.kind),
                r.name
            ),
            requeue: None,
        };
        let data = if is_secret {
            let api: Api<Secret> = Api::namespaced(ctx.client.clone(), &ns);
            api.get_opt(&r.name).await.map_err(failure)?.map(|s| {
                s.data
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(k, v)| (k, String::from_utf8_lossy(&v.0).into_owned()))
                    .collect()
            })
        } else {
            let api: Api<ConfigMap> = Api::namespaced(ctx.client.clone(), &ns);
            api.get_opt(&r.name)
                .await
                .map_err(failure)?
                .map(|c| c.data.unwrap_or_default())
        };
        fetched.insert((is_secret, r.name.clone()), data);
    }
    values::compose(
        &ns,
        &obj.spec.values_from,
        |kind, name| {
            fetched
                .get(&(kind == ValuesKind::Secret, name.to_string()))
                .cloned()
                .flatten()
        },
        obj.spec.values.as_ref(),
    )
    .map_err(|e| StepFailure {
        reason: VALUES_ERROR,
        message: e.to_string(),
        requeue: None,
    })
}

enum Outcome {
    InSync(String),
    Succeeded {
        message: String,
    },
    Failed {
        reason: &'static str,
        message: String,
        /// Retries are exhausted: the Stalled message (reason RetriesExceeded).
        stalled: Option<String>,
    },
}

fn snapshot(rel: &Release, config_digest: &str) -> Snapshot {
    let time = |s: &str| Time(s.parse::<Timestamp>().unwrap_or_else(|_| Timestamp::now()));
    let meta = &rel.chart.metadata;
    let text = |k: &str| {
        meta.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    Snapshot {
        api_version: Some("helm.toolkit.fluxcd.io/v2".into()),
        digest: rel.digest(),
        name: rel.name.clone(),
        namespace: rel.namespace.clone(),
        version: rel.version,
        status: rel.info.status.clone(),
        chart_name: text("name"),
        chart_version: text("version"),
        app_version: Some(text("appVersion")).filter(|s| !s.is_empty()),
        config_digest: config_digest.to_string(),
        first_deployed: time(&rel.info.first_deployed),
        last_deployed: time(&rel.info.last_deployed),
        action: None,
        deleted: None,
        test_hooks: None,
        oci_digest: None,
    }
}

/// Decides and runs install, upgrade or nothing, then remediation on failure.
async fn release_step(
    obj: &HelmRelease,
    ctx: &Context,
    status: &mut HelmReleaseStatus,
    p: Prepared,
) -> Outcome {
    let generation = obj.meta().generation;
    let storage_ns = storage_namespace(obj);
    let release_name = obj.release_name();
    let target = match target_client(obj, ctx) {
        Ok(c) => c,
        Err(message) => {
            return Outcome::Failed {
                reason: "InitFailed",
                message,
                stalled: None,
            };
        }
    };
    let releases = match list_releases(&target, &storage_ns, &release_name).await {
        Ok(r) => r,
        Err(e) => {
            return Outcome::Failed {
                reason: "GetLastReleaseFailed",
                message: format!("failed to get last release: {}", kube_message(&e)),
                stalled: None,
            };
        }
    };
    let latest = releases
        .last()
        .filter(|r| r.info.status != release::STATUS_UNINSTALLED)
        .cloned();
    let chart_version = p.chart.metadata.version.clone();
    let chart_name = p.chart.metadata.name.clone();
    let chart_id = format!("{chart_name}@{chart_version}");

    // A new revision, config or generation resets the failure counters, as Flux does.
    let changed = status.last_attempted_revision.as_deref() != Some(p.revision.as_str())
        || status.last_attempted_config_digest.as_deref() != Some(p.config_digest.as_str())
        || status.last_attempted_generation != generation;
    // `resetAt` (with a matching `requestedAt`) resets the counters once; `forceAt` forces
    // one release action even when the release is in sync.
    let reset = handle_request(
        obj,
        RESET_REQUEST_ANNOTATION,
        &mut status.last_handled_reset_at,
    );
    let force = handle_request(
        obj,
        FORCE_REQUEST_ANNOTATION,
        &mut status.last_handled_force_at,
    );
    if changed || reset {
        status.failures = 0;
        status.install_failures = 0;
        status.upgrade_failures = 0;
    }

    if let Some(cur) = &latest {
        let in_sync = cur.info.status == release::STATUS_DEPLOYED
            && cur.chart.metadata.get("version").and_then(Value::as_str)
                == Some(chart_version.as_str())
            && cur.chart.metadata.get("name").and_then(Value::as_str) == Some(chart_name.as_str())
            && values::config_digest(&cur.config) == p.config_digest
            && !force;
        if in_sync {
            let message = conditions::get(&status.conditions, RELEASED)
                .filter(|c| c.status == "True")
                .map(|c| c.message.clone())
                .unwrap_or_else(|| format!("Helm release {} is in-sync", cur.full_name()));
            return Outcome::InSync(message);
        }
    }

    // A release that never deployed (a failed install left in place) is installed again.
    let ever_deployed = releases.iter().any(|r| {
        r.info.status == release::STATUS_DEPLOYED || r.info.status == release::STATUS_SUPERSEDED
    });
    let install = latest.is_none() || !ever_deployed;
    let (retries, action_reason) = if install {
        let r = obj
            .spec
            .install
            .as_ref()
            .and_then(|i| i.remediation.as_ref())
            .map(|r| r.retries)
            .unwrap_or(0);
        (r, INSTALL_FAILED)
    } else {
        let r = obj
            .spec
            .upgrade
            .as_ref()
            .and_then(|u| u.remediation.as_ref())
            .map(|r| r.retries)
            .unwrap_or(0);
        (r, UPGRADE_FAILED)
    };
    let failures = if install {
        status.install_failures
    } else {
        status.upgrade_failures
    };
    if !changed && !reset && !force && failures > 0 && retries >= 0 && failures > retries {
        let what = if install { "install" } else { "upgrade" };
        // Ready keeps the last action's failure; Stalled says why nothing more is tried.
        let (reason, message) = conditions::get(&status.conditions, RELEASED)
            .filter(|c| c.status == "False")
            .map(|c| {
                (
                    if install {
                        INSTALL_FAILED
                    } else {
                        UPGRADE_FAILED
                    },
                    c.message.clone(),
                )
            })
            .unwrap_or((RETRIES_EXCEEDED, String::new()));
        return Outcome::Failed {
            reason,
            message,
            stalled: Some(format!("Failed to {what} after {failures} attempt(s)")),
        };
    }

    status.last_attempted_revision = Some(p.revision.clone());
    status.last_attempted_config_digest = Some(p.config_digest.clone());
    status.last_attempted_generation = generation;
    status.last_attempted_release_action = Some(if install {
        ReleaseAction::Install
    } else {
        ReleaseAction::Upgrade
    });

    let mut resolver = Resolver::new(target);
    let version = releases.last().map(|r| r.version + 1).unwrap_or(1);
    let started = std::time::Instant::now();
    let current = if install { None } else { latest.as_ref() };
    let result = run_action(obj, &mut resolver, &p, current, version).await;
    status.last_attempted_release_action_duration =
        Some(format!("{:.3}s", started.elapsed().as_secs_f64()));
    let object_ref = obj.object_ref(&());
    let meta = BTreeMap::from([("revision".to_string(), chart_version.clone())]);
    let generation_now = Timestamp::now();
    let (rel, err) = result;
    if let Some(rel) = &rel {
        status.history.insert(0, snapshot(rel, &p.config_digest));
        status
            .history
            .retain(|s| s.version != rel.version || s.digest == rel.digest());
        let max = obj.spec.max_history();
        let keep = if max > 0 {
            max as usize + 1
        } else {
            usize::MAX
        };
        status.history.truncate(keep);
        status.last_release_revision = Some(rel.version);
    }
    match err {
        None => {
            let rel = rel.unwrap_or_default();
            let (reason, verb) = if install {
                (INSTALL_SUCCEEDED, "install")
            } else {
                (UPGRADE_SUCCEEDED, "upgrade")
            };
            let message = format!(
                "Helm {verb} succeeded for release {} with chart {chart_id}",
                rel.full_name()
            );
            conditions::set(
                &mut status.conditions,
                RELEASED,
                Status::True,
                reason,
                &message,
                generation,
                generation_now,
            );
            conditions::remove(&mut status.conditions, REMEDIATED);
            status.last_applied_revision = Some(p.revision.clone());
            status.failures = 0;
            status.install_failures = 0;
            status.upgrade_failures = 0;
            ctx.recorder
                .record(&object_ref, Severity::Info, reason, &message, meta)
                .await;
            Outcome::Succeeded { message }
        }
        Some(e) => {
            let verb = if install { "install" } else { "upgrade" };
            let message = format!(
                "Helm {verb} failed for release {}/{release_name} with chart {chart_id}: {e}",
                obj.release_namespace()
            );
            status.failures += 1;
            if install {
                status.install_failures += 1;
            } else {
                status.upgrade_failures += 1;
            }
            conditions::set(
                &mut status.conditions,
                RELEASED,
                Status::False,
                action_reason,
                &message,
                generation,
                generation_now,
            );
            ctx.recorder
                .record(
                    &object_ref,
                    Severity::Error,
                    action_reason,
                    &message,
                    meta.clone(),
                )
                .await;
            let failures = if install {
                status.install_failures
            } else {
                status.upgrade_failures
            };
            let exhausted = retries >= 0 && failures > retries;
            let remediate_last = if install {
                obj.spec
                    .install
                    .as_ref()
                    .and_then(|i| i.remediation.as_ref())
                    .and_then(|r| r.remediate_last_failure)
                    .unwrap_or(false)
            } else {
                obj.spec
                    .upgrade
                    .as_ref()
                    .and_then(|u| u.remediation.as_ref())
                    .map(|r| r.remediate_last_failure())
                    .unwrap_or(false)
            };
            if !exhausted || remediate_last {
                remediate(
                    obj,
                    ctx,
                    &mut resolver,
                    status,
                    rel.as_ref(),
                    latest.as_ref(),
                    version + 1,
                    install,
                )
                .await;
            }
            if exhausted {
                return Outcome::Failed {
                    reason: action_reason,
                    message,
                    stalled: Some(format!("Failed to {verb} after {failures} attempt(s)")),
                };
            }
            Outcome::Failed {
                reason: action_reason,
                message,
                stalled: None,
            }
        }
    }
}

/// Uninstalls a failed install, or rolls back / uninstalls a failed upgrade.
#[allow(clippy::too_many_arguments)]
async fn remediate(
    obj: &HelmRelease,
    ctx: &Context,
    resolver: &mut Resolver,
    status: &mut HelmReleaseStatus,
    failed: Option<&Release>,
    previous: Option<&Release>,
    next_version: i64,
    install: bool,
) {
    let generation = obj.meta().generation;
    let object_ref = obj.object_ref(&());
    let strategy = obj
        .spec
        .upgrade
        .as_ref()
        .and_then(|u| u.remediation.as_ref())
        .map(|r| r.strategy())
        .unwrap_or(RemediationStrategy::Rollback);
    let (reason, result) = if install || strategy == RemediationStrategy::Uninstall {
        let Some(failed) = failed else { return };
        let r = uninstall(resolver, failed, &storage_namespace(obj), false).await;
        if r.is_ok() {
            let storage_ns = storage_namespace(obj);
            if let Ok(all) = list_releases(resolver.client(), &storage_ns, &failed.name).await {
                let _ = delete_release_secrets(resolver.client(), &storage_ns, &all).await;
            }
        }
        (
            UNINSTALL_SUCCEEDED,
            r.map(|_| {
                format!(
                    "Helm uninstall succeeded for release {} with chart {}",
                    failed.full_name(),
                    chart_id(failed)
                )
            }),
        )
    } else {
        let Some(prev) = previous else { return };
        (
            ROLLBACK_SUCCEEDED,
            rollback(obj, resolver, prev, failed, next_version).await,
        )
    };
    let now = Timestamp::now();
    match result {
        Ok(message) => {
            conditions::set(
                &mut status.conditions,
                REMEDIATED,
                Status::True,
                reason,
                &message,
                generation,
                now,
            );
            ctx.recorder
                .record(
                    &object_ref,
                    Severity::Info,
                    reason,
                    &message,
                    BTreeMap::new(),
                )
                .await;
        }
        Err(e) => {
            let fail_reason = if reason == UNINSTALL_SUCCEEDED {
                "UninstallFailed"
            } else {
                "RollbackFailed"
            };
            conditions::set(
                &mut status.conditions,
                REMEDIATED,
                Status::False,
                fail_reason,
                &e,
                generation,
                now,
            );
            ctx.recorder
                .record(
                    &object_ref,
                    Severity::Error,
                    fail_reason,
                    &e,
                    BTreeMap::new(),
                )
                .await;
        }
    }
}
