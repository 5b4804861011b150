//! Kustomization reconciler: dependencies, source artifact, build, server-side apply, prune and
//! health checks, with Flux's conditions, status fields and events.
//!
//! One reconcile ends with one status patch. Kubernetes reads about the Kustomization itself,
//! its source, its variables and its keys use the controller's identity; everything done to the
//! applied objects (apply, prune, health) uses the tenant's ServiceAccount when one is set.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use flux_api::kustomize::v1::{
    DecryptionProvider, DeletionPolicy, Kustomization, KustomizationStatus, SourceKind,
};
use flux_api::meta::{
    ACCESS_DENIED_REASON, ARTIFACT_FAILED_REASON, Artifact, BUILD_FAILED_REASON,
    DEPENDENCY_NOT_READY_REASON, HEALTH_CHECK_FAILED_REASON, HEALTHY, READY,
    RECONCILIATION_FAILED_REASON, RECONCILIATION_SUCCEEDED_REASON, SUCCEEDED_REASON, ValuesKind,
};
use flux_runtime::conditions::{self, Status};
use flux_runtime::controller::{self as runtime, Error};
use flux_runtime::events::{Recorder, Severity};
use flux_runtime::reconcile::{Backoff, jitter, patch_status, requested_at};
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, DynamicObject};
use kube::discovery::ApiResource;
use kube::runtime::controller::Action as ControllerAction;
use kube::runtime::reflector::ObjectRef;
use kube::runtime::watcher;
use kube::{Resource, ResourceExt};
use serde_json::Value;

use crate::apply::{self, Action, Change, NAME_LABEL, NAMESPACE_LABEL, Resolver};
use crate::build::{BuildError, BuildInputs, build_objects};
use crate::godur::{go_duration, go_elapsed};
use crate::inventory::{ObjMeta, inventory_of, stale};

/// Flux's reason for a failed prune.
pub const PRUNE_FAILED_REASON: &str = "PruneFailed";
/// Event reason of the change set.
pub const PROGRESSING_EVENT_REASON: &str = "Progressing";

/// Behaviour switches, from the controller's flags.
#[derive(Debug, Clone)]
pub struct Options {
    /// `--no-cross-namespace-refs`: refuse sources in another namespace.
    pub no_cross_namespace_refs: bool,
    /// `--default-service-account`: impersonated when `spec.serviceAccountName` is empty.
    pub default_service_account: Option<String>,
    /// `--requeue-dependency`: wait between dependency (and missing artifact) checks.
    pub requeue_dependency: Duration,
    /// `StrictPostBuildSubstitutions` feature gate.
    pub strict_substitutions: bool,
    /// `--interval-jitter-percentage`.
    pub jitter_percent: u32,
    /// How often health checks poll the objects.
    pub health_poll_interval: Duration,
    /// Largest artifact downloaded and unpacked.
    pub max_artifact_size: u64,
    /// `--sops-age-secret` in `RUNTIME_NAMESPACE` (namespace, name): age keys for SOPS
    /// Kustomizations without `decryption.secretRef`.
    pub sops_age_secret: Option<(String, String)>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            no_cross_namespace_refs: false,
            default_service_account: None,
            requeue_dependency: Duration::from_secs(30),
            strict_substitutions: false,
            jitter_percent: 5,
            health_poll_interval: Duration::from_secs(2),
            max_artifact_size: flux_artifact::DEFAULT_MAX_DOWNLOAD_SIZE,
            sops_age_secret: None,
        }
    }
}

/// Everything the reconciler needs besides the object.
pub struct Context {
    /// The controller's own client.
    pub client: kube::Client,
    /// The configuration `client` was made from; cloned with impersonation for tenants.
    pub kube_config: kube::Config,
    pub recorder: Recorder,
    /// HTTP client for artifact downloads.
    pub http: reqwest::Client,
    pub options: Options,
    pub backoff: Backoff,
}

/// Runs the Kustomization controller until `shutdown` resolves. Changes of a source's artifact
/// trigger the Kustomizations that use it.
pub async fn run(
    ctx: Arc<Context>,
    namespace: Option<&str>,
    label_selector: Option<&str>,
    concurrency: u16,
    shutdown: impl std::future::Future<Output = ()> + Send + Sync + 'static,
) {
    let (api, git, oci, bucket) = match namespace {
        Some(ns) => (
            Api::<Kustomization>::namespaced(ctx.client.clone(), ns),
            Api::namespaced(ctx.client.clone(), ns),
            Api::namespaced(ctx.client.clone(), ns),
            Api::namespaced(ctx.client.clone(), ns),
        ),
        None => (
            Api::all(ctx.client.clone()),
            Api::all(ctx.client.clone()),
            Api::all(ctx.client.clone()),
            Api::all(ctx.client.clone()),
        ),
    };
    let config = runtime::watcher_config(label_selector);
    let controller = runtime::controller_for(api, config);
    let store = controller.store();
    let mapper = move |kind: SourceKind| {
        let store = store.clone();
        move |src_ns: Option<String>, src_name: String| {
            store
                .state()
                .into_iter()
                .filter(|k| {
                    let ks_ns = k.namespace().unwrap_or_default();
                    let r = &k.spec.source_ref;
                    r.kind == kind
                        && r.name == src_name
                        && r.namespace.clone().unwrap_or_else(|| ks_ns.clone())
                            == src_ns.clone().unwrap_or_default()
                })
                .map(|k| ObjectRef::from_obj(k.as_ref()))
                .collect::<Vec<_>>()
        }
    };
    let git_map = mapper(SourceKind::GitRepository);
    let oci_map = mapper(SourceKind::OCIRepository);
    let bucket_map = mapper(SourceKind::Bucket);
    let controller = controller
        .watches(
            git,
            watcher::Config::default(),
            move |s: flux_api::source::v1::GitRepository| git_map(s.namespace(), s.name_any()),
        )
        .watches(
            oci,
            watcher::Config::default(),
            move |s: flux_api::source::v1::OCIRepository| oci_map(s.namespace(), s.name_any()),
        )
        .watches(
            bucket,
            watcher::Config::default(),
            move |s: flux_api::source::v1::Bucket| bucket_map(s.namespace(), s.name_any()),
        );
    runtime::drive(
        controller,
        "Kustomization",
        concurrency,
        shutdown,
        reconcile,
        error_policy,
        ctx,
    )
    .await;
}

fn error_policy(obj: Arc<Kustomization>, _err: &Error, ctx: Arc<Context>) -> ControllerAction {
    // Flux retries a failed Kustomization after its retryInterval; the backoff only spaces out
    // failures that happen faster than that.
    let backoff = ctx.backoff.failed(&runtime::object_key(obj.as_ref()));
    ControllerAction::requeue(
        obj.spec
            .retry_interval()
            .min(backoff.max(Duration::from_secs(1))),
    )
}

/// Reconciles one Kustomization (finalizer added on first sight, cleanup on deletion).
pub async fn reconcile(
    obj: Arc<Kustomization>,
    ctx: Arc<Context>,
) -> Result<ControllerAction, Error> {
    let namespace = obj.namespace().unwrap_or_default();
    let api: Api<Kustomization> = Api::namespaced(ctx.client.clone(), &namespace);
    let (ctx, objects) = (ctx.as_ref(), &api);
    runtime::with_finalizer(
        &api,
        obj,
        |obj| async move { apply_kustomization(&obj, ctx, objects).await },
        |obj| async move { cleanup(&obj, ctx).await },
    )
    .await
}

/// The ServiceAccount whose identity applies the objects, if any.
fn service_account(obj: &Kustomization, ctx: &Context) -> Option<String> {
    obj.spec
        .service_account_name
        .clone()
        .filter(|s| !s.is_empty())
        .or_else(|| ctx.options.default_service_account.clone())
        .filter(|s| !s.is_empty())
}

/// The clients that act on the applied objects: `apply` (as the tenant's ServiceAccount when
/// one is set) and `discovery` (the target cluster's own identity), both for the remote cluster
/// when `spec.kubeConfig` is set.
struct TargetClients {
    apply: kube::Client,
    discovery: kube::Client,
}

async fn target_config(obj: &Kustomization, ctx: &Context) -> Result<kube::Config, StepFailure> {
    let Some(secret_ref) = obj
        .spec
        .kube_config
        .as_ref()
        .and_then(|k| k.secret_ref.as_ref())
    else {
        return Ok(ctx.kube_config.clone());
    };
    let ns = obj.namespace().unwrap_or_default();
    let fail = |detail: String| StepFailure {
        reason: RECONCILIATION_FAILED_REASON,
        message: format!(
            "failed to load kubeconfig from Secret '{ns}/{}': {detail}",
            secret_ref.name
        ),
        stalled: false,
    };
    let api: Api<Secret> = Api::namespaced(ctx.client.clone(), &ns);
    let secret = api
        .get_opt(&secret_ref.name)
        .await
        .map_err(|e| fail(e.to_string()))?
        .ok_or_else(|| fail(format!("secrets \"{}\" not found", secret_ref.name)))?;
    let data = secret_bytes(secret);
    let keys: Vec<&str> = match secret_ref.key.as_deref() {
        Some(k) => vec![k],
        None => vec!["value", "value.yaml"],
    };
    let bytes = keys
        .iter()
        .find_map(|k| data.get(*k))
        .ok_or_else(|| fail(format!("key '{}' not found", keys.join("' or '"))))?;
    let text = std::str::from_utf8(bytes).map_err(|_| fail("kubeconfig is not UTF-8".into()))?;
    let kubeconfig = kube::config::Kubeconfig::from_yaml(text)
        .map_err(|_| fail("kubeconfig is not valid YAML".into()))?;
    kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
        .await
        .map_err(|e| fail(e.to_string()))
}

async fn target_clients(obj: &Kustomization, ctx: &Context) -> Result<TargetClients, StepFailure> {
    let remote = obj
        .spec
        .kube_config
        .as_ref()
        .is_some_and(|k| k.secret_ref.is_some());
    let sa = service_account(obj, ctx);
    if !remote && sa.is_none() {
        return Ok(TargetClients {
            apply: ctx.client.clone(),
            discovery: ctx.client.clone(),
        });
    }
    let config = target_config(obj, ctx).await?;
    let build = |config: kube::Config| {
        kube::Client::try_from(config).map_err(|e| StepFailure {
            reason: RECONCILIATION_FAILED_REASON,
            message: format!("failed to build the Kubernetes client: {e}"),
            stalled: false,
        })
    };
    let discovery = if remote {
        build(config.clone())?
    } else {
        ctx.client.clone()
    };
    let apply = match sa {
        Some(sa) => {
            let ns = obj.namespace().unwrap_or_default();
            let mut config = config;
            config.auth_info.impersonate = Some(format!("system:serviceaccount:{ns}:{sa}"));
            build(config)?
        }
        None => discovery.clone(),
    };
    Ok(TargetClients { apply, discovery })
}

fn owner_labels(obj: &Kustomization) -> BTreeMap<String, String> {
    BTreeMap::from([
        (NAME_LABEL.to_string(), obj.name_any()),
        (
            NAMESPACE_LABEL.to_string(),
            obj.namespace().unwrap_or_default(),
        ),
    ])
}

async fn cleanup(obj: &Kustomization, ctx: &Context) -> Result<ControllerAction, Error> {
    let delete = match obj.spec.deletion_policy() {
        DeletionPolicy::MirrorPrune => obj.spec.prune,
        DeletionPolicy::Delete | DeletionPolicy::WaitForTermination => true,
        DeletionPolicy::Orphan => false,
    };
    let inventory = obj.status.as_ref().and_then(|s| s.inventory.as_ref());
    if !delete || obj.spec.suspend || inventory.is_none() {
        return Ok(ControllerAction::await_change());
    }
    let empty = flux_api::kustomize::v1::ResourceInventory {
        entries: Vec::new(),
    };
    let objects = stale(inventory, &empty);
    let clients = target_clients(obj, ctx)
        .await
        .map_err(|f| Error::Reconcile {
            reason: f.reason.into(),
            message: f.message.clone(),
        })?;
    let client = clients.apply;
    let mut resolver = Resolver::new(clients.discovery);
    match apply::prune(&client, &mut resolver, &objects, &owner_labels(obj)).await {
        Ok(changes) => {
            if !changes.is_empty() {
                let text = change_text(&changes);
                ctx.recorder
                    .record(
                        &obj.object_ref(&()),
                        Severity::Info,
                        PROGRESSING_EVENT_REASON,
                        &text,
                        BTreeMap::new(),
                    )
                    .await;
            }
            Ok(ControllerAction::await_change())
        }
        Err(e) => {
            ctx.recorder
                .record(
                    &obj.object_ref(&()),
                    Severity::Error,
                    PRUNE_FAILED_REASON,
                    &e.to_string(),
                    BTreeMap::new(),
                )
                .await;
            Err(Error::Reconcile {
                reason: PRUNE_FAILED_REASON.into(),
                message: e.to_string(),
            })
        }
    }
}

/// A failure of one step: what goes into the conditions and the event.
struct StepFailure {
    reason: &'static str,
    message: String,
    /// Retrying cannot help until the spec changes.
    stalled: bool,
}

/// Why the reconcile paused without failing (dependencies, source not ready).
enum Wait {
    Failure(StepFailure),
    /// Not an error: Ready=False with this reason and message, then requeue after the delay.
    Requeue {
        reason: &'static str,
        message: String,
        after: Duration,
        /// Info event to record, if any.
        event: Option<String>,
    },
}

impl From<StepFailure> for Wait {
    fn from(f: StepFailure) -> Self {
        Wait::Failure(f)
    }
}

struct Applied {
    revision: String,
    /// The revision an OCI artifact was built from (`org.opencontainers.image.revision`).
    origin_revision: Option<String>,
    changes: Vec<Change>,
    health: Option<Result<Duration, String>>,
    /// Identity of the applied objects in `status.history`.
    digest: String,
}

async fn apply_kustomization(
    obj: &Kustomization,
    ctx: &Context,
    api: &Api<Kustomization>,
) -> Result<ControllerAction, Error> {
    let name = obj.name_any();
    if obj.spec.suspend {
        tracing::info!(name, "reconciliation is suspended for this object");
        return Ok(ControllerAction::await_change());
    }
    let generation = obj.meta().generation;
    let mut status: KustomizationStatus = obj.status.clone().unwrap_or_default();
    if let Some(at) = requested_at(obj.meta()) {
        status.reconcile_request.last_handled_reconcile_at = Some(at.to_string());
    }
    let object_ref = obj.object_ref(&());
    let was_ready = conditions::is_true(&status.conditions, READY);
    let started = Instant::now();

    let outcome = reconcile_steps(obj, ctx, &mut status).await;
    let now = Timestamp::now();
    match outcome {
        Ok(applied) => {
            let health_failed = match &applied.health {
                Some(Err(message)) => Some(message.clone()),
                _ => None,
            };
            let mut snapshot_meta = revision_meta(&applied.revision);
            if let Some(origin) = &applied.origin_revision {
                snapshot_meta.insert("originRevision".into(), origin.clone());
            }
            crate::history::upsert(
                &mut status.history,
                &applied.digest,
                now,
                started.elapsed(),
                if health_failed.is_some() {
                    HEALTH_CHECK_FAILED_REASON
                } else {
                    RECONCILIATION_SUCCEEDED_REASON
                },
                snapshot_meta,
            );
            if let Some(message) = health_failed {
                conditions::set(
                    &mut status.conditions,
                    HEALTHY,
                    Status::False,
                    HEALTH_CHECK_FAILED_REASON,
                    &message,
                    generation,
                    now,
                );
                conditions::mark_failed(
                    &mut status.conditions,
                    generation,
                    HEALTH_CHECK_FAILED_REASON,
                    &message,
                    false,
                    now,
                );
                patch_status(api, &name, &status).await?;
                record_changes(ctx, &object_ref, &applied).await;
                ctx.recorder
                    .record(
                        &object_ref,
                        Severity::Error,
                        HEALTH_CHECK_FAILED_REASON,
                        &message,
                        revision_meta(&applied.revision),
                    )
                    .await;
                return Err(Error::Reconcile {
                    reason: HEALTH_CHECK_FAILED_REASON.into(),
                    message,
                });
            }
            if let Some(Ok(took)) = applied.health {
                conditions::set(
                    &mut status.conditions,
                    HEALTHY,
                    Status::True,
                    SUCCEEDED_REASON,
                    &format!("Health check passed in {}", go_elapsed(took)),
                    generation,
                    now,
                );
            } else {
                conditions::remove(&mut status.conditions, HEALTHY);
            }
            let message = format!("Applied revision: {}", applied.revision);
            conditions::mark_ready(
                &mut status.conditions,
                generation,
                RECONCILIATION_SUCCEEDED_REASON,
                &message,
                now,
            );
            let new_revision =
                status.last_applied_revision.as_deref() != Some(applied.revision.as_str());
            status.last_applied_revision = Some(applied.revision.clone());
            status.last_applied_origin_revision = applied.origin_revision.clone();
            status.observed_generation = generation;
            patch_status(api, &name, &status).await?;
            ctx.backoff.succeeded(&runtime::object_key(obj));
            record_changes(ctx, &object_ref, &applied).await;
            if new_revision || !was_ready {
                let interval = obj.spec.interval.to_std();
                let text = format!(
                    "Reconciliation finished in {}, next run in {}",
                    go_elapsed(started.elapsed()),
                    go_duration(interval)
                );
                ctx.recorder
                    .record(
                        &object_ref,
                        Severity::Info,
                        RECONCILIATION_SUCCEEDED_REASON,
                        &text,
                        revision_meta(&applied.revision),
                    )
                    .await;
            }
            Ok(ControllerAction::requeue(jitter(
                obj.spec.interval.to_std(),
                ctx.options.jitter_percent,
            )))
        }
        Err(Wait::Requeue {
            reason,
            message,
            after,
            event,
        }) => {
            conditions::mark_failed(
                &mut status.conditions,
                generation,
                reason,
                &message,
                false,
                now,
            );
            patch_status(api, &name, &status).await?;
            tracing::info!(name, "{message}");
            if let Some(text) = event {
                ctx.recorder
                    .record(&object_ref, Severity::Info, reason, &text, BTreeMap::new())
                    .await;
            }
            Ok(ControllerAction::requeue(after))
        }
        Err(Wait::Failure(failure)) => {
            conditions::mark_failed(
                &mut status.conditions,
                generation,
                failure.reason,
                &failure.message,
                failure.stalled,
                now,
            );
            if failure.stalled {
                status.observed_generation = generation;
            }
            patch_status(api, &name, &status).await?;
            let meta = status
                .last_attempted_revision
                .as_deref()
                .map(revision_meta)
                .unwrap_or_default();
            ctx.recorder
                .record(
                    &object_ref,
                    Severity::Error,
                    failure.reason,
                    &failure.message,
                    meta,
                )
                .await;
            if failure.stalled {
                return Ok(ControllerAction::await_change());
            }
            Err(Error::Reconcile {
                reason: failure.reason.to_string(),
                message: failure.message,
            })
        }
    }
}

fn revision_meta(revision: &str) -> BTreeMap<String, String> {
    BTreeMap::from([("revision".to_string(), revision.to_string())])
}

fn change_text(changes: &[Change]) -> String {
    changes
        .iter()
        .filter(|c| {
            matches!(
                c.action,
                Action::Created | Action::Configured | Action::Deleted
            )
        })
        .map(Change::line)
        .collect::<Vec<_>>()
        .join("\n")
}

async fn record_changes(
    ctx: &Context,
    object_ref: &k8s_openapi::api::core::v1::ObjectReference,
    applied: &Applied,
) {
    let text = change_text(&applied.changes);
    if text.is_empty() {
        return;
    }
    ctx.recorder
        .record(
            object_ref,
            Severity::Info,
            PROGRESSING_EVENT_REASON,
            &text,
            revision_meta(&applied.revision),
        )
        .await;
}

async fn reconcile_steps(
    obj: &Kustomization,
    ctx: &Context,
    status: &mut KustomizationStatus,
) -> Result<Applied, Wait> {
    // Expressions that do not parse cannot get better by retrying: fail before any work.
    let checks =
        apply::custom_health_checks(&obj.spec.health_check_exprs).map_err(|e| StepFailure {
            reason: apply::INVALID_CEL_EXPRESSION_REASON,
            message: format!("Reconciliation failed terminally due to configuration error: {e}"),
            stalled: true,
        })?;
    check_dependencies(obj, ctx).await?;
    let artifact = source_artifact(obj, ctx).await?;
    let revision = artifact.revision.clone();
    let origin_revision = artifact
        .metadata
        .get("org.opencontainers.image.revision")
        .cloned();
    status.last_attempted_revision = Some(revision.clone());

    let digest = artifact.digest.clone().ok_or_else(|| StepFailure {
        reason: ARTIFACT_FAILED_REASON,
        message: format!("artifact of revision '{revision}' has no digest"),
        stalled: false,
    })?;
    let bytes = flux_artifact::fetch_verified(
        &ctx.http,
        &artifact.url,
        &digest,
        ctx.options.max_artifact_size,
    )
    .await
    .map_err(|e| StepFailure {
        reason: ARTIFACT_FAILED_REASON,
        message: format!("failed to download artifact: {e}"),
        stalled: false,
    })?;

    let inputs = BuildInputs {
        variables: variables(obj, ctx).await?,
        strict_substitution: ctx.options.strict_substitutions,
        keys: decryption_keys(obj, ctx).await?,
    };
    let spec = obj.spec.clone();
    let limits = flux_artifact::UnpackLimits {
        max_size: ctx.options.max_artifact_size,
        ..Default::default()
    };
    let built = tokio::task::spawn_blocking(move || -> Result<Vec<Value>, StepFailure> {
        let dir = tempfile::tempdir().map_err(|e| StepFailure {
            reason: ARTIFACT_FAILED_REASON,
            message: format!("failed to create a build directory: {e}"),
            stalled: false,
        })?;
        flux_artifact::unpack(&bytes, dir.path(), limits).map_err(|e| StepFailure {
            reason: ARTIFACT_FAILED_REASON,
            message: format!("failed to extract artifact: {e}"),
            stalled: false,
        })?;
        build_in(dir.path(), &spec, &inputs)
    })
    .await
    .map_err(|e| StepFailure {
        reason: BUILD_FAILED_REASON,
        message: format!("build task failed: {e}"),
        stalled: false,
    })??;

    let labels = owner_labels(obj);
    let mut objects = built;
    for o in &mut objects {
        crate::build::set_common_metadata(o, &labels, &BTreeMap::new());
    }
    let digest = crate::history::digest(&objects);
    let clients = target_clients(obj, ctx).await?;
    let client = clients.apply;
    let mut resolver = Resolver::new(clients.discovery);
    let changes = apply::apply_all(
        &client,
        &mut resolver,
        &objects,
        obj.spec.force,
        obj.spec.timeout(),
    )
    .await
    .map_err(|e| StepFailure {
        reason: RECONCILIATION_FAILED_REASON,
        message: e.to_string(),
        stalled: false,
    })?;

    let metas: Vec<ObjMeta> = changes.iter().map(|c| c.object.clone()).collect();
    let inventory = inventory_of(&metas);
    let old = status.inventory.replace(inventory.clone());
    let mut changes = changes;
    if obj.spec.prune {
        let gone = stale(old.as_ref(), &inventory);
        let pruned = apply::prune(&client, &mut resolver, &gone, &labels)
            .await
            .map_err(|e| StepFailure {
                reason: PRUNE_FAILED_REASON,
                message: e.to_string(),
                stalled: false,
            })?;
        changes.extend(pruned);
    }

    let ns = obj.namespace().unwrap_or_default();
    let to_check: Vec<ObjMeta> = if obj.spec.wait {
        metas
            .into_iter()
            .filter(|m| {
                changes
                    .iter()
                    .any(|c| &c.object == m && c.action != Action::Skipped)
            })
            .collect()
    } else {
        let mut refs = Vec::with_capacity(obj.spec.health_checks.len());
        for h in &obj.spec.health_checks {
            let api_version = h.api_version.as_deref().filter(|v| !v.is_empty());
            let (group, version) = match api_version {
                Some(v) => match v.rsplit_once('/') {
                    Some((g, v)) => (g.to_string(), v.to_string()),
                    None => (String::new(), v.to_string()),
                },
                // Kubernetes' preferred version, as Flux does; an unknown kind is reported as
                // not found by the health check.
                None => resolver
                    .preferred(&h.kind)
                    .await
                    .unwrap_or_else(|| (String::new(), "v1".to_string())),
            };
            refs.push(ObjMeta {
                namespace: h.namespace.clone().unwrap_or_else(|| ns.clone()),
                name: h.name.clone(),
                group,
                kind: h.kind.clone(),
                version,
            });
        }
        refs
    };
    let health = if to_check.is_empty() {
        None
    } else {
        let started = Instant::now();
        let timeout = obj.spec.timeout();
        Some(
            match apply::wait_healthy(
                &client,
                &mut resolver,
                &to_check,
                &checks,
                timeout,
                ctx.options.health_poll_interval,
            )
            .await
            {
                Ok(()) => Ok(started.elapsed()),
                Err(pending) => {
                    let failed = pending
                        .iter()
                        .any(|(_, s)| *s == flux_kstatus::Status::Failed);
                    // Failing fast names the objects that failed, not those still progressing.
                    let list = pending
                        .iter()
                        .filter(|(_, s)| !failed || *s == flux_kstatus::Status::Failed)
                        .map(|(m, s)| format!("{} status: '{s}'", m.display()))
                        .collect::<Vec<_>>()
                        .join(", ");
                    let what = if failed {
                        "failed early due to stalled resources"
                    } else {
                        "timeout waiting for"
                    };
                    Err(format!(
                        "health check failed after {}: {what}: [{list}]",
                        go_elapsed(started.elapsed())
                    ))
                }
            },
        )
    };
    Ok(Applied {
        revision,
        origin_revision,
        changes,
        health,
        digest,
    })
}

fn build_in(
    root: &Path,
    spec: &flux_api::kustomize::v1::KustomizationSpec,
    inputs: &BuildInputs,
) -> Result<Vec<Value>, StepFailure> {
    build_objects(root, spec, inputs).map_err(|e| StepFailure {
        reason: match e {
            BuildError::PathNotFound(_) => ARTIFACT_FAILED_REASON,
            _ => BUILD_FAILED_REASON,
        },
        message: e.to_string(),
        stalled: false,
    })
}

async fn check_dependencies(obj: &Kustomization, ctx: &Context) -> Result<(), Wait> {
    let ns = obj.namespace().unwrap_or_default();
    for dep in &obj.spec.depends_on {
        let dep_ns = dep.namespace.clone().unwrap_or_else(|| ns.clone());
        let api: Api<Kustomization> = Api::namespaced(ctx.client.clone(), &dep_ns);
        let problem = match api.get_opt(&dep.name).await {
            Err(e) => Some(format!(
                "unable to get '{dep_ns}/{}' dependency: {e}",
                dep.name
            )),
            Ok(None) => Some(format!(
                "unable to get '{dep_ns}/{}' dependency: kustomizations.kustomize.toolkit.fluxcd.io \"{}\" not found",
                dep.name, dep.name
            )),
            Ok(Some(d)) => {
                let st = d.status.clone().unwrap_or_default();
                let ready = d.meta().generation == st.observed_generation
                    && conditions::is_true(&st.conditions, READY);
                if !ready {
                    Some(format!("dependency '{dep_ns}/{}' is not ready", dep.name))
                } else {
                    None
                }
            }
        };
        if let Some(problem) = problem {
            let after = ctx.options.requeue_dependency;
            return Err(Wait::Requeue {
                reason: DEPENDENCY_NOT_READY_REASON,
                message: problem,
                after,
                event: Some(format!(
                    "Dependencies do not meet ready condition, retrying in {}",
                    go_duration(after)
                )),
            });
        }
    }
    Ok(())
}

async fn source_artifact(obj: &Kustomization, ctx: &Context) -> Result<Artifact, Wait> {
    let ns = obj.namespace().unwrap_or_default();
    let r = &obj.spec.source_ref;
    let src_ns = r
        .namespace
        .clone()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| ns.clone());
    let display = format!("{}/{}/{}", r.kind.as_str(), src_ns, r.name);
    if ctx.options.no_cross_namespace_refs && src_ns != ns {
        return Err(StepFailure {
            reason: ACCESS_DENIED_REASON,
            message: format!(
                "can't access '{display}', cross-namespace references have been blocked"
            ),
            stalled: true,
        }
        .into());
    }
    let plural = match r.kind {
        SourceKind::GitRepository => "gitrepositories",
        SourceKind::OCIRepository => "ocirepositories",
        SourceKind::Bucket => "buckets",
        SourceKind::ExternalArtifact => "externalartifacts",
    };
    let gvk = kube::core::GroupVersionKind::gvk("source.toolkit.fluxcd.io", "v1", r.kind.as_str());
    let ar = ApiResource::from_gvk_with_plural(&gvk, plural);
    let api: Api<DynamicObject> = Api::namespaced_with(ctx.client.clone(), &src_ns, &ar);
    let retry = obj.spec.retry_interval();
    let source = match api.get_opt(&r.name).await {
        Ok(Some(s)) => s,
        Ok(None) => {
            return Err(Wait::Requeue {
                reason: ARTIFACT_FAILED_REASON,
                message: format!("Source '{display}' not found"),
                after: retry,
                event: None,
            });
        }
        Err(e) => {
            return Err(StepFailure {
                reason: ARTIFACT_FAILED_REASON,
                message: format!("unable to get source '{display}': {e}"),
                stalled: false,
            }
            .into());
        }
    };
    let artifact = source
        .data
        .pointer("/status/artifact")
        .cloned()
        .and_then(|a| serde_json::from_value::<Artifact>(a).ok());
    match artifact {
        Some(a) => Ok(a),
        None => {
            let after = ctx.options.requeue_dependency;
            Err(Wait::Requeue {
                reason: ARTIFACT_FAILED_REASON,
                message: format!(
                    "Source artifact not found, retrying in {}",
                    go_duration(after)
                ),
                after,
                event: None,
            })
        }
    }
}

fn secret_bytes(secret: Secret) -> BTreeMap<String, Vec<u8>> {
    secret
        .data
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k, v.0))
        .chain(
            secret
                .string_data
                .unwrap_or_default()
                .into_iter()
                .map(|(k, v)| (k, v.into_bytes())),
        )
        .collect()
}

/// Post-build variables: `substituteFrom` in order, then `substitute` on top, as Flux does.
async fn variables(
    obj: &Kustomization,
    ctx: &Context,
) -> Result<Option<HashMap<String, String>>, StepFailure> {
    let Some(post) = &obj.spec.post_build else {
        return Ok(None);
    };
    let ns = obj.namespace().unwrap_or_default();
    let mut vars = HashMap::new();
    for from in &post.substitute_from {
        let fail = |detail: String| StepFailure {
            reason: BUILD_FAILED_REASON,
            message: format!(
                "substitute from '{}/{}' failed: {detail}",
                match from.kind {
                    ValuesKind::ConfigMap => "ConfigMap",
                    ValuesKind::Secret => "Secret",
                },
                from.name
            ),
            stalled: false,
        };
        match from.kind {
            ValuesKind::ConfigMap => {
                let api: Api<ConfigMap> = Api::namespaced(ctx.client.clone(), &ns);
                match api
                    .get_opt(&from.name)
                    .await
                    .map_err(|e| fail(e.to_string()))?
                {
                    Some(cm) => vars.extend(cm.data.unwrap_or_default()),
                    None if from.optional => {}
                    None => {
                        return Err(fail(format!("configmaps \"{}\" not found", from.name)));
                    }
                }
            }
            ValuesKind::Secret => {
                let api: Api<Secret> = Api::namespaced(ctx.client.clone(), &ns);
                match api
                    .get_opt(&from.name)
                    .await
                    .map_err(|e| fail(e.to_string()))?
                {
                    Some(secret) => {
                        for (k, v) in secret_bytes(secret) {
                            vars.insert(k, String::from_utf8_lossy(&v).into_owned());
                        }
                    }
                    None if from.optional => {}
                    None => return Err(fail(format!("secrets \"{}\" not found", from.name))),
                }
            }
        }
    }
    vars.extend(post.substitute.clone());
    Ok(Some(vars))
}

async fn decryption_keys(
    obj: &Kustomization,
    ctx: &Context,
) -> Result<Option<flux_sops::Keyring>, StepFailure> {
    let Some(dec) = &obj.spec.decryption else {
        return Ok(None);
    };
    if dec.provider != DecryptionProvider::Sops {
        return Ok(None);
    }
    let Some(secret_ref) = &dec.secret_ref else {
        return match &ctx.options.sops_age_secret {
            Some((ns, name)) => global_age_keys(ctx, ns, name).await.map(Some),
            None => Ok(Some(flux_sops::Keyring::new())),
        };
    };
    let ns = obj.namespace().unwrap_or_default();
    let fail = |detail: String| StepFailure {
        reason: BUILD_FAILED_REASON,
        message: format!(
            "cannot get sops decryption Secret '{ns}/{}': {detail}",
            secret_ref.name
        ),
        stalled: false,
    };
    let api: Api<Secret> = Api::namespaced(ctx.client.clone(), &ns);
    let secret = api
        .get_opt(&secret_ref.name)
        .await
        .map_err(|e| fail(e.to_string()))?
        .ok_or_else(|| fail(format!("secrets \"{}\" not found", secret_ref.name)))?;
    flux_sops::Keyring::from_secret_data(&secret_bytes(secret))
        .map(Some)
        .map_err(|e| StepFailure {
            reason: BUILD_FAILED_REASON,
            message: format!("failed to import keys from '{ns}/{}': {e}", secret_ref.name),
            stalled: false,
        })
}

/// The age identities of the `--sops-age-secret` Secret; its other entries (PGP keys, cloud
/// credentials) are ignored, as in Flux, so it cannot stand in for workload identity.
async fn global_age_keys(
    ctx: &Context,
    ns: &str,
    name: &str,
) -> Result<flux_sops::Keyring, StepFailure> {
    let fail = |message: String| StepFailure {
        reason: BUILD_FAILED_REASON,
        message,
        stalled: false,
    };
    let api: Api<Secret> = Api::namespaced(ctx.client.clone(), ns);
    let secret = api
        .get_opt(name)
        .await
        .map_err(|e| {
            fail(format!(
                "cannot get sops SOPS age decryption Secret '{ns}/{name}': {e}"
            ))
        })?
        .ok_or_else(|| fail(format!("secrets \"{name}\" not found")))?;
    let mut keys = flux_sops::Keyring::new();
    for (entry, value) in secret_bytes(secret) {
        if entry.ends_with(".agekey") {
            keys.add_age_identities(&entry, &value).map_err(|e| {
                fail(format!(
                    "failed to import '{entry}' data from sops SOPS age decryption Secret '{ns}/{name}': {e}"
                ))
            })?;
        }
    }
    Ok(keys)
}

impl Options {
    /// The reconciler options Flux derives from kustomize-controller's flags.
    pub fn from_flags(flags: &crate::flags::Flags) -> Options {
        let common = &flags.common;
        let gate = |name: &str| {
            let default = crate::flags::FEATURE_GATES
                .iter()
                .find(|(n, _)| *n == name)
                .is_some_and(|(_, d)| *d);
            common.features.feature_gates.enabled(name, default)
        };
        Options {
            no_cross_namespace_refs: common.acl.no_cross_namespace_refs,
            default_service_account: Some(common.default_service_account.clone())
                .filter(|s| !s.is_empty()),
            requeue_dependency: common.requeue_dependency.as_duration(),
            strict_substitutions: gate("StrictPostBuildSubstitutions"),
            jitter_percent: u32::from(common.jitter.percentage),
            sops_age_secret: crate::flags::sops_age_secret(
                flags,
                flux_runtime::manager::runtime_namespace(),
            ),
            ..Options::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_follow_flux_flags_and_feature_gates() {
        let flags = crate::flags::Flags::try_parse_from([
            "kustomize-controller",
            "--no-cross-namespace-refs=true",
            "--default-service-account=tenant",
            "--requeue-dependency=5s",
            "--feature-gates=StrictPostBuildSubstitutions=true",
        ])
        .expect("flags");
        let o = Options::from_flags(&flags);
        assert!(o.no_cross_namespace_refs);
        assert_eq!(o.default_service_account.as_deref(), Some("tenant"));
        assert_eq!(o.requeue_dependency, Duration::from_secs(5));
        assert!(o.strict_substitutions);
        let defaults = Options::from_flags(
            &crate::flags::Flags::try_parse_from(["kustomize-controller"]).expect("flags"),
        );
        assert!(!defaults.no_cross_namespace_refs);
        assert_eq!(defaults.default_service_account, None);
        assert_eq!(defaults.requeue_dependency, Duration::from_secs(30));
        assert!(!defaults.strict_substitutions);
    }
}
