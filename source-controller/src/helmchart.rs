//! HelmChart reconciler: resolve a chart in a HelmRepository index and pull it, or package it
//! from a GitRepository or Bucket artifact, then store `<name>-<version>.tgz` with revision =
//! chart version and report Flux's conditions and events.
//!
//! Steps as Flux's: get the source, check it has an artifact, build (pull or package, with
//! `valuesFiles` merged and version metadata for `reconcileStrategy: Revision`), store, then
//! summarise the conditions and patch the status once.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use flux_api::meta::{
    Artifact, FETCH_FAILED, SOURCE_VERIFIED, STORAGE_OPERATION_FAILED, SUCCEEDED_REASON,
    VERIFICATION_ERROR_REASON,
};
use flux_api::source::v1::{
    Bucket, GitRepository, HelmChart, HelmChartSourceKind, HelmChartStatus, HelmRepository,
    ReconcileStrategy, VerificationProvider,
};
use flux_artifact::{Owner, Storage, UnpackLimits};
use flux_runtime::conditions::{self, Status};
use flux_runtime::controller::{self as runtime, Error};
use flux_runtime::events::{Recorder, Severity};
use flux_runtime::reconcile::{Backoff, jitter, patch_status, requested_at};
use k8s_openapi::jiff::Timestamp;
use kube::api::Api;
use kube::runtime::controller::Action;
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::watcher;
use kube::{Resource, ResourceExt};

use crate::chart_build::{
    BuildError, BuildReason, ChartFiles, merge_maps, parse_values, secure_join, short_revision,
    with_build_metadata,
};
use crate::cosign;
use crate::helm_http::{RepoClient, secret_data};
use crate::helm_index::{Index, chart_url};
use crate::oci_registry::{Client as OciClient, OciError, Reference, docker_config_auth};
use crate::source_status::{
    BUILD_FAILED, StepFailure, failed_before, mark_failed, mark_stored, remove_artifacts,
};

pub const CHART_PULL_SUCCEEDED_REASON: &str = "ChartPullSucceeded";
pub const CHART_PACKAGE_SUCCEEDED_REASON: &str = "ChartPackageSucceeded";
pub const SOURCE_UNAVAILABLE_REASON: &str = "SourceUnavailable";
pub const NO_SOURCE_ARTIFACT_REASON: &str = "NoSourceArtifact";
/// Flux's BuildFailed reason for a chart whose signature did not verify.
pub const CHART_VERIFICATION_ERROR_REASON: &str = "ChartVerificationError";

/// Storage kind segment of HelmChart artifacts.
pub const KIND: &str = "helmchart";

/// Everything the reconciler needs besides the object.
pub struct Context {
    pub client: kube::Client,
    /// The same storage the source reconcilers write to: source artifacts are read from it.
    pub storage: Storage,
    pub recorder: Recorder,
    /// Scratch space for unpacked sources.
    pub work_dir: std::path::PathBuf,
    pub limits: ChartLimits,
    pub jitter_percent: u32,
    pub backoff: Backoff,
}

/// `--helm-chart-max-size` and `--helm-chart-file-max-size`.
#[derive(Debug, Clone, Copy)]
pub struct ChartLimits {
    /// Largest chart archive downloaded from a repository or registry.
    pub max_chart_size: u64,
    /// Largest single file inside a chart archive.
    pub max_file_size: u64,
}

impl Default for ChartLimits {
    /// Flux's defaults: 10 MiB charts, 5 MiB files.
    fn default() -> Self {
        ChartLimits {
            max_chart_size: 10 << 20,
            max_file_size: 5 << 20,
        }
    }
}

/// Runs the HelmChart controller until `shutdown` resolves. Charts are also reconciled when
/// the HelmRepository, GitRepository or Bucket they read from gets a new artifact.
pub async fn run(
    ctx: Arc<Context>,
    namespace: Option<&str>,
    label_selector: Option<&str>,
    concurrency: u16,
    shutdown: impl std::future::Future<Output = ()> + Send + Sync + 'static,
) {
    let config = runtime::watcher_config(label_selector);
    let client = ctx.client.clone();
    let controller = runtime::controller_for(runtime::api::<HelmChart>(&client, namespace), config);
    let store = controller.store();
    let (s1, s2, s3) = (store.clone(), store.clone(), store);
    let controller = controller
        .watches(
            runtime::api::<HelmRepository>(&client, namespace),
            watcher::Config::default(),
            move |repo| charts_of(&s1, HelmChartSourceKind::HelmRepository, &repo),
        )
        .watches(
            runtime::api::<GitRepository>(&client, namespace),
            watcher::Config::default(),
            move |repo| charts_of(&s2, HelmChartSourceKind::GitRepository, &repo),
        )
        .watches(
            runtime::api::<Bucket>(&client, namespace),
            watcher::Config::default(),
            move |bucket| charts_of(&s3, HelmChartSourceKind::Bucket, &bucket),
        );
    runtime::drive(
        controller,
        "HelmChart",
        concurrency,
        shutdown,
        reconcile,
        error_policy,
        ctx,
    )
    .await;
}

/// The charts reading from `source`.
fn charts_of<S: ResourceExt>(
    store: &Store<HelmChart>,
    kind: HelmChartSourceKind,
    source: &S,
) -> Vec<ObjectRef<HelmChart>> {
    let namespace = source.namespace();
    let name = source.name_any();
    store
        .state()
        .iter()
        .filter(|c| {
            c.spec.source_ref.kind == kind
                && c.spec.source_ref.name == name
                && c.namespace() == namespace
        })
        .map(|c| ObjectRef::from_obj(c.as_ref()))
        .collect()
}

fn error_policy(obj: Arc<HelmChart>, _err: &Error, ctx: Arc<Context>) -> Action {
    runtime::requeue_after_failure(&ctx.backoff, obj.as_ref())
}

pub async fn reconcile(obj: Arc<HelmChart>, ctx: Arc<Context>) -> Result<Action, Error> {
    let namespace = obj.namespace().unwrap_or_default();
    let api: Api<HelmChart> = Api::namespaced(ctx.client.clone(), &namespace);
    let (ctx, objects) = (ctx.as_ref(), &api);
    runtime::with_finalizer(
        &api,
        obj,
        |obj| async move { apply(&obj, ctx, objects).await },
        |obj| async move { remove_artifacts(&ctx.storage, KIND, obj.as_ref()) },
    )
    .await
}

/// A finished build (Flux's `chart.Build`).
#[derive(Debug, Clone)]
struct Build {
    name: String,
    version: String,
    values_files: Vec<String>,
    packaged: bool,
    artifact: Artifact,
    /// The chart's cosign signature was checked (`spec.verify`, OCI charts only).
    verified: bool,
}

impl Build {
    /// Flux's `Build.Summary()`.
    fn summary(&self) -> String {
        let action = if self.packaged { "packaged" } else { "pulled" };
        let mut text = format!(
            "{action} '{}' chart with version '{}'",
            self.name, self.version
        );
        if !self.values_files.is_empty() {
            text.push_str(&format!(
                " and merged values files [{}]",
                self.values_files.join(" ")
            ));
        }
        text
    }

    fn reason(&self) -> &'static str {
        if self.packaged {
            CHART_PACKAGE_SUCCEEDED_REASON
        } else {
            CHART_PULL_SUCCEEDED_REASON
        }
    }
}

/// What a failed reconcile reports, and whether it only waits for the source.
struct Failure {
    step: StepFailure,
    waiting_for_source: bool,
}

impl From<StepFailure> for Failure {
    fn from(step: StepFailure) -> Self {
        Failure {
            step,
            waiting_for_source: false,
        }
    }
}

impl From<BuildError> for Failure {
    fn from(e: BuildError) -> Self {
        let condition = match e.reason {
            BuildReason::ChartReference | BuildReason::ChartPull => FETCH_FAILED,
            _ => BUILD_FAILED,
        };
        let mut step = StepFailure::new(condition, e.reason.reason(), e.to_string());
        step.stalled = e.reason.persistent();
        step.into()
    }
}

async fn apply(obj: &HelmChart, ctx: &Context, api: &Api<HelmChart>) -> Result<Action, Error> {
    let name = obj.name_any();
    if obj.spec.suspend {
        tracing::info!(name, "reconciliation is suspended for this object");
        return Ok(Action::await_change());
    }
    let generation = obj.meta().generation;
    let mut status: HelmChartStatus = obj.status.clone().unwrap_or_default();
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
    if previous.is_none() {
        status.artifact = None;
    }

    let outcome = build(obj, ctx, &mut status, previous.as_ref()).await;
    let now = Timestamp::now();
    match outcome {
        Ok(build) => {
            let summary = build.summary();
            let changed =
                previous.as_ref().and_then(|a| a.digest.as_ref()) != build.artifact.digest.as_ref();
            status.url = Some(build.artifact.url.clone());
            status.artifact = Some(build.artifact.clone());
            status.observed_chart_name = Some(build.name.clone());
            status.observed_values_files = build.values_files.clone();
            if build.verified {
                conditions::set(
                    &mut status.conditions,
                    SOURCE_VERIFIED,
                    Status::True,
                    SUCCEEDED_REASON,
                    &format!("verified signature of version {}", build.version),
                    generation,
                    now,
                );
            } else {
                conditions::remove(&mut status.conditions, SOURCE_VERIFIED);
            }
            mark_stored(
                &mut status.conditions,
                generation,
                build.reason(),
                &summary,
                now,
            );
            status.observed_generation = generation;
            patch_status(api, &name, &status).await?;
            ctx.backoff.succeeded(&runtime::object_key(obj));
            if changed || was_failing {
                let meta = BTreeMap::from([
                    ("revision".to_string(), build.artifact.revision.clone()),
                    (
                        "digest".to_string(),
                        build.artifact.digest.clone().unwrap_or_default(),
                    ),
                ]);
                ctx.recorder
                    .record(&object_ref, Severity::Info, build.reason(), &summary, meta)
                    .await;
            }
            Ok(Action::requeue(jitter(
                obj.spec.interval.to_std(),
                ctx.jitter_percent,
            )))
        }
        Err(Failure {
            step,
            waiting_for_source,
        }) => {
            if step.condition == SOURCE_VERIFIED {
                conditions::set(
                    &mut status.conditions,
                    SOURCE_VERIFIED,
                    Status::False,
                    &step.reason,
                    &step.message,
                    generation,
                    now,
                );
                conditions::mark_failed(
                    &mut status.conditions,
                    generation,
                    &step.reason,
                    &step.message,
                    step.stalled,
                    now,
                );
            } else {
                if step.reason == CHART_VERIFICATION_ERROR_REASON {
                    conditions::set(
                        &mut status.conditions,
                        SOURCE_VERIFIED,
                        Status::False,
                        VERIFICATION_ERROR_REASON,
                        &step.message,
                        generation,
                        now,
                    );
                }
                mark_failed(&mut status.conditions, generation, &step, now);
            }
            if step.stalled {
                status.observed_generation = generation;
            }
            patch_status(api, &name, &status).await?;
            if waiting_for_source {
                // Flux only logs this; the source's next artifact triggers a reconcile.
                tracing::info!(name, "{}", step.message);
                return Ok(Action::requeue(Duration::from_secs(5)));
            }
            ctx.recorder
                .record(
                    &object_ref,
                    Severity::Error,
                    &step.reason,
                    &step.message,
                    BTreeMap::new(),
                )
                .await;
            if step.stalled {
                return Ok(Action::await_change());
            }
            Err(Error::Reconcile {
                reason: step.reason,
                message: step.message,
            })
        }
    }
}

/// The source's artifact, or why there is none.
async fn build(
    obj: &HelmChart,
    ctx: &Context,
    status: &mut HelmChartStatus,
    previous: Option<&Artifact>,
) -> Result<Build, Failure> {
    let namespace = obj.namespace().unwrap_or_default();
    let source = &obj.spec.source_ref;
    let kind = format!("{:?}", source.kind);
    let not_found = |e: kube::Error| -> Failure {
        StepFailure::new(
            FETCH_FAILED,
            SOURCE_UNAVAILABLE_REASON,
            format!("failed to get source: {e}"),
        )
        .into()
    };
    let missing = |plural: &str| -> Failure {
        StepFailure::new(
            FETCH_FAILED,
            SOURCE_UNAVAILABLE_REASON,
            format!(
                "failed to get source: {plural}.source.toolkit.fluxcd.io \"{}\" not found",
                source.name
            ),
        )
        .into()
    };
    let (artifact, repo) = match source.kind {
        HelmChartSourceKind::HelmRepository => {
            let api: Api<HelmRepository> = Api::namespaced(ctx.client.clone(), &namespace);
            let repo = api
                .get_opt(&source.name)
                .await
                .map_err(not_found)?
                .ok_or_else(|| missing("helmrepositories"))?;
            if repo.spec.is_oci() {
                // OCI repositories have no artifact: the chart comes straight from the registry.
                let reusable =
                    previous.filter(|_| status.observed_generation == obj.meta().generation);
                return build_from_oci(obj, ctx, &repo, reusable).await;
            }
            (repo.status.clone().and_then(|s| s.artifact), Some(repo))
        }
        HelmChartSourceKind::GitRepository => {
            let api: Api<GitRepository> = Api::namespaced(ctx.client.clone(), &namespace);
            let repo = api
                .get_opt(&source.name)
                .await
                .map_err(not_found)?
                .ok_or_else(|| missing("gitrepositories"))?;
            (repo.status.and_then(|s| s.artifact), None)
        }
        HelmChartSourceKind::Bucket => {
            let api: Api<Bucket> = Api::namespaced(ctx.client.clone(), &namespace);
            let bucket = api
                .get_opt(&source.name)
                .await
                .map_err(not_found)?
                .ok_or_else(|| missing("buckets"))?;
            (bucket.status.and_then(|s| s.artifact), None)
        }
    };
    let Some(artifact) = artifact.filter(|a| ctx.storage.resolve(&a.path).is_some()) else {
        return Err(Failure {
            step: StepFailure::new(
                FETCH_FAILED,
                NO_SOURCE_ARTIFACT_REASON,
                format!("no artifact available for {kind} source '{}'", source.name),
            ),
            waiting_for_source: true,
        });
    };
    status.observed_source_artifact_revision = Some(artifact.revision.clone());
    // A cached chart is reused only when nothing in the spec changed since it was built.
    let reusable = previous.filter(|_| status.observed_generation == obj.meta().generation);
    match repo {
        Some(repo) => build_from_repository(obj, ctx, &repo, &artifact, reusable).await,
        None => build_from_tarball(obj, ctx, &artifact, reusable).await,
    }
}

/// The values files the build merges; a lone `values.yaml` means the chart's own.
fn values_files(obj: &HelmChart) -> Vec<String> {
    let files = obj.spec.values_files();
    if files.len() == 1 && files[0].trim_start_matches("./") == "values.yaml" {
        return Vec::new();
    }
    files
}

async fn build_from_repository(
    obj: &HelmChart,
    ctx: &Context,
    repo: &HelmRepository,
    index_artifact: &Artifact,
    cached: Option<&Artifact>,
) -> Result<Build, Failure> {
    let chart_name = obj.spec.chart.clone();
    let range = obj.spec.version.clone().unwrap_or_else(|| "*".into());
    let index_path = ctx.storage.resolve(&index_artifact.path);
    let version_metadata = (!values_files(obj).is_empty())
        .then(|| obj.meta().generation.unwrap_or_default().to_string());
    let resolved = tokio::task::spawn_blocking(move || -> Result<_, BuildError> {
        let pull = |m: String| BuildError::new(BuildReason::ChartPull, m);
        let path =
            index_path.ok_or_else(|| pull("repository index is missing from storage".into()))?;
        let bytes = std::fs::read(&path).map_err(|e| {
            pull(format!(
                "could not load repository index for remote chart reference: {e}"
            ))
        })?;
        let index = Index::parse(&bytes).map_err(|e| {
            pull(format!(
                "could not load repository index for remote chart reference: {e}"
            ))
        })?;
        let cv = index.get(&chart_name, &range).map_err(|e| {
            BuildError::new(
                BuildReason::ChartReference,
                format!("failed to get chart version for remote reference: {e}"),
            )
        })?;
        Ok(cv.clone())
    })
    .await
    .map_err(|e| StepFailure::new(FETCH_FAILED, "Failed", e.to_string()))??;

    let mut version = resolved.version.clone();
    if let Some(meta) = &version_metadata {
        version = with_build_metadata(&version, meta)?;
    }
    let files = values_files(obj);
    if let Some(cached) = cached.filter(|a| a.revision == version)
        && obj
            .status
            .as_ref()
            .and_then(|s| s.observed_chart_name.as_deref())
            == Some(resolved.name.as_str())
    {
        return Ok(Build {
            name: resolved.name.clone(),
            version,
            packaged: !files.is_empty(),
            values_files: files,
            artifact: cached.clone(),
            verified: false,
        });
    }

    let url = chart_url(&repo.spec.url, &resolved).map_err(|e| {
        BuildError::new(
            BuildReason::ChartPull,
            format!("failed to download chart for remote reference: {e}"),
        )
    })?;
    let client = RepoClient::for_repository(&ctx.client, repo)
        .await
        .map_err(|e| StepFailure::new(FETCH_FAILED, "AuthenticationFailed", e.0))?;
    let bytes = client
        .get(&url, ctx.limits.max_chart_size)
        .await
        .map_err(|e| {
            BuildError::new(
                BuildReason::ChartPull,
                format!("failed to download chart for remote reference: {e}"),
            )
        })?;

    let remote = Remote {
        bytes,
        max_file_size: ctx.limits.max_file_size,
        expected: resolved.name.clone(),
        version,
        files,
        version_metadata: version_metadata.is_some(),
    };
    let owner = owner_of(obj);
    let storage = ctx.storage.clone();
    tokio::task::spawn_blocking(move || package_remote(remote, &storage, &owner))
        .await
        .map_err(|e| StepFailure::new(STORAGE_OPERATION_FAILED, "Failed", e.to_string()))?
}

/// A chart archive downloaded from a repository or registry, and what the build does to it.
struct Remote {
    bytes: Vec<u8>,
    max_file_size: u64,
    expected: String,
    version: String,
    files: Vec<String>,
    version_metadata: bool,
}

/// Checks a downloaded chart and stores it: as downloaded, or repackaged with merged values
/// and version metadata (Flux's remote builder).
fn package_remote(
    remote: Remote,
    storage: &Storage,
    owner: &(String, String),
) -> Result<Build, Failure> {
    let Remote {
        bytes,
        max_file_size,
        expected,
        version,
        files,
        version_metadata,
    } = remote;
    let mut chart = ChartFiles::from_archive(&bytes, max_file_size).map_err(|e| {
        BuildError::new(
            BuildReason::ChartPull,
            format!("failed to load chart metadata from written chart: {e}"),
        )
    })?;
    if chart.metadata.name != expected {
        return Err(BuildError::new(
            BuildReason::ChartPull,
            format!(
                "chart name mismatch: expected '{expected}' but the archive holds '{}'",
                chart.metadata.name
            ),
        )
        .into());
    }
    let packaged = !files.is_empty() || version_metadata;
    let payload = if packaged {
        let mut values = serde_yaml::Mapping::new();
        for file in &files {
            let clean = file.trim_start_matches("./");
            let data = chart.file(clean).ok_or_else(|| {
                BuildError::new(
                    BuildReason::ValuesFiles,
                    format!("failed to merge chart values: no values file found at path '{file}'"),
                )
            })?;
            let parsed = parse_values(file, data)
                .map_err(|e| BuildError::new(BuildReason::ValuesFiles, e))?;
            merge_maps(&mut values, parsed);
        }
        chart
            .set_version(&version)
            .map_err(|e| BuildError::new(BuildReason::ChartPackage, e))?;
        if !files.is_empty() {
            chart
                .set_values(&values)
                .map_err(|e| BuildError::new(BuildReason::ValuesFiles, e))?;
        }
        chart
            .package()
            .map_err(|e| BuildError::new(BuildReason::ChartPackage, e))?
    } else {
        bytes
    };
    let artifact = store(storage, owner, &chart.metadata.name, &version, &payload)?;
    Ok(Build {
        name: chart.metadata.name,
        version,
        values_files: files,
        packaged,
        artifact,
        verified: false,
    })
}

/// Helm's media type for the chart layer of an OCI chart.
pub const HELM_CHART_LAYER_MEDIA_TYPE: &str = "application/vnd.cncf.helm.chart.content.v1.tar+gzip";

/// A chart from an OCI HelmRepository: `<repository url>/<chart>`, the version an exact tag or
/// the highest tag in range (`+` written `_` in tags, as Helm pushes them).
async fn build_from_oci(
    obj: &HelmChart,
    ctx: &Context,
    repo: &HelmRepository,
    cached: Option<&Artifact>,
) -> Result<Build, Failure> {
    let verify_secret = match &obj.spec.verify {
        None => None,
        Some(verify) => match (&verify.provider, &verify.secret_ref) {
            (VerificationProvider::Cosign, Some(secret)) => Some(secret.name.as_str()),
            (provider, _) => {
                // Never serve a chart as verified without checking its signature.
                let (shown, what) = match provider {
                    VerificationProvider::Cosign => ("cosign keyless", "keyless verification"),
                    VerificationProvider::Notation => ("notation", "notation verification"),
                };
                let mut step = StepFailure::new(
                    SOURCE_VERIFIED,
                    VERIFICATION_ERROR_REASON,
                    format!(
                        "failed to verify the signature using provider '{shown}': {what} is not supported yet"
                    ),
                );
                step.stalled = true;
                return Err(step.into());
            }
        },
    };
    let url = format!("{}/{}", repo.spec.url.trim_end_matches('/'), obj.spec.chart);
    let reference = Reference::parse(&url).map_err(|e| {
        let mut f = StepFailure::new(
            FETCH_FAILED,
            "URLInvalid",
            format!("invalid Helm repository URL: {e}"),
        );
        f.stalled = true;
        f
    })?;
    let namespace = obj.namespace().unwrap_or_default();
    let mut basic = None;
    if let Some(secret_ref) = &repo.spec.secret_ref {
        let data = secret_data(&ctx.client, &namespace, &secret_ref.name)
            .await
            .map_err(|e| StepFailure::new(FETCH_FAILED, "AuthenticationFailed", e.0))?;
        basic = data
            .get(".dockerconfigjson")
            .and_then(|c| docker_config_auth(c, &reference.registry))
            .or_else(|| {
                Some((
                    String::from_utf8_lossy(data.get("username")?).into_owned(),
                    String::from_utf8_lossy(data.get("password")?).into_owned(),
                ))
            });
    }
    let http = reqwest::Client::builder()
        .timeout(repo.spec.timeout().max(Duration::from_secs(1)))
        .use_rustls_tls()
        .build()
        .map_err(|e| StepFailure::new(FETCH_FAILED, "Failed", e.to_string()))?;
    let client = OciClient::new(http, reference, repo.spec.insecure, basic)
        .map_err(|e| StepFailure::new(FETCH_FAILED, "URLInvalid", e.to_string()))?;
    let pull = |e: OciError| -> Failure {
        match e {
            OciError::Unauthorized(..) => {
                StepFailure::new(FETCH_FAILED, "AuthenticationFailed", e.to_string()).into()
            }
            other => BuildError::new(
                BuildReason::ChartPull,
                format!("failed to download chart for remote reference: {other}"),
            )
            .into(),
        }
    };
    let range = obj.spec.version.clone().unwrap_or_else(|| "*".into());
    let tag = if semver::Version::parse(range.trim()).is_ok() {
        range.trim().replace('+', "_")
    } else {
        let tags = client.tags().await.map_err(pull)?;
        let parsed = flux_git::SemverRange::parse(&range).map_err(|e| {
            BuildError::new(
                BuildReason::ChartReference,
                format!("failed to get chart version for remote reference: {e}"),
            )
        })?;
        let versions: Vec<String> = tags.iter().map(|t| t.replace('_', "+")).collect();
        let (best, _) = flux_git::highest_matching(&parsed, versions.iter().map(String::as_str))
            .ok_or_else(|| {
                BuildError::new(
                    BuildReason::ChartReference,
                    format!(
                        "failed to get chart version for remote reference: could not locate a version matching provided version string {range}"
                    ),
                )
            })?;
        best.replace('+', "_")
    };
    let mut version = tag.replace('_', "+");
    let files = values_files(obj);
    let version_metadata = !files.is_empty();
    if version_metadata {
        version = with_build_metadata(
            &version,
            &obj.meta().generation.unwrap_or_default().to_string(),
        )?;
    }
    let chart_name = obj
        .spec
        .chart
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_string();
    if let Some(cached) = cached.filter(|a| a.revision == version)
        && obj
            .status
            .as_ref()
            .and_then(|s| s.observed_chart_name.as_deref())
            == Some(chart_name.as_str())
    {
        // Reused only within the generation it was built in, so it passed the same checks.
        return Ok(Build {
            name: chart_name,
            version,
            packaged: version_metadata,
            values_files: files,
            artifact: cached.clone(),
            verified: verify_secret.is_some(),
        });
    }
    let (manifest, digest) = client.manifest(&tag).await.map_err(pull)?;
    if let Some(secret) = verify_secret {
        verify_chart(obj, ctx, &client, secret, &format!("{url}:{tag}"), &digest).await?;
    }
    let layer = manifest
        .layers
        .iter()
        .find(|l| l.media_type == HELM_CHART_LAYER_MEDIA_TYPE)
        .ok_or_else(|| {
            BuildError::new(
                BuildReason::ChartPull,
                format!("artifact does not contain a layer of type {HELM_CHART_LAYER_MEDIA_TYPE}"),
            )
        })?;
    let bytes = client
        .blob(layer, ctx.limits.max_chart_size)
        .await
        .map_err(pull)?;
    let remote = Remote {
        bytes,
        max_file_size: ctx.limits.max_file_size,
        expected: chart_name,
        version,
        files,
        version_metadata,
    };
    let owner = owner_of(obj);
    let storage = ctx.storage.clone();
    let verified = verify_secret.is_some();
    let build = tokio::task::spawn_blocking(move || package_remote(remote, &storage, &owner))
        .await
        .map_err(|e| StepFailure::new(STORAGE_OPERATION_FAILED, "Failed", e.to_string()))??;
    Ok(Build { verified, ..build })
}

/// Checks the cosign signature of the chart manifest `digest` with the `.pub` keys of the
/// Secret; `chart_ref` is `oci://host/repo/chart:tag`, for messages.
async fn verify_chart(
    obj: &HelmChart,
    ctx: &Context,
    client: &OciClient,
    secret: &str,
    chart_ref: &str,
    digest: &str,
) -> Result<(), Failure> {
    let failure = |m: String| -> Failure {
        StepFailure::new(
            BUILD_FAILED,
            CHART_VERIFICATION_ERROR_REASON,
            format!("chart verification error: failed to verify {chart_ref}: {m}"),
        )
        .into()
    };
    let namespace = obj.namespace().unwrap_or_default();
    let data = secret_data(&ctx.client, &namespace, secret)
        .await
        .map_err(|e| failure(e.0))?;
    let keys = cosign::PublicKeys::from_secret(&format!("{namespace}/{secret}"), &data)
        .map_err(|e| failure(e.to_string()))?;
    let image = format!("{}@{digest}", chart_ref.trim_start_matches("oci://"));
    cosign::verify(client, &image, digest, &keys)
        .await
        .map_err(|e| failure(e.to_string()))
}

async fn build_from_tarball(
    obj: &HelmChart,
    ctx: &Context,
    source: &Artifact,
    cached: Option<&Artifact>,
) -> Result<Build, Failure> {
    let mut metadata = String::new();
    if obj.spec.reconcile_strategy == Some(ReconcileStrategy::Revision) {
        metadata = short_revision(&source.revision);
    }
    let files = values_files(obj);
    if !files.is_empty() {
        if !metadata.is_empty() {
            metadata.push('.');
        }
        metadata.push_str(&obj.meta().generation.unwrap_or_default().to_string());
    }
    let source_path = ctx.storage.resolve(&source.path);
    let digest = source.digest.clone();
    let chart_path = obj.spec.chart.clone();
    let ignore_missing = obj.spec.ignore_missing_values_files;
    let work_dir = ctx.work_dir.clone();
    let storage = ctx.storage.clone();
    let max_file_size = ctx.limits.max_file_size;
    let owner = owner_of(obj);
    let cached = cached.cloned();
    let observed_name = obj
        .status
        .as_ref()
        .and_then(|s| s.observed_chart_name.clone());
    tokio::task::spawn_blocking(move || -> Result<Build, Failure> {
        let fail = |m: String| -> Failure { StepFailure::new(FETCH_FAILED, "Failed", m).into() };
        let path =
            source_path.ok_or_else(|| fail("source artifact is missing from storage".into()))?;
        let bytes = std::fs::read(&path)
            .map_err(|e| fail(format!("failed to open source artifact: {e}")))?;
        if let Some(d) = digest.as_deref() {
            flux_artifact::verify_digest(&bytes, d)
                .map_err(|e| fail(format!("failed to verify source artifact: {e}")))?;
        }
        std::fs::create_dir_all(&work_dir)
            .map_err(|e| fail(format!("failed to create temporary working directory: {e}")))?;
        let tmp = tempfile::tempdir_in(&work_dir)
            .map_err(|e| fail(format!("failed to create temporary working directory: {e}")))?;
        flux_artifact::unpack(&bytes, tmp.path(), UnpackLimits::default())
            .map_err(|e| fail(format!("artifact untar error: {e}")))?;
        build_local(
            tmp.path(),
            &chart_path,
            &metadata,
            &files,
            ignore_missing,
            cached.as_ref().zip(observed_name.as_deref()),
            &storage,
            &owner,
            max_file_size,
        )
    })
    .await
    .map_err(|e| StepFailure::new(STORAGE_OPERATION_FAILED, "Failed", e.to_string()))?
}

/// Flux's local builder over an unpacked source at `root`.
#[allow(clippy::too_many_arguments)]
fn build_local(
    root: &Path,
    chart_path: &str,
    metadata: &str,
    files: &[String],
    ignore_missing: bool,
    cached: Option<(&Artifact, &str)>,
    storage: &Storage,
    owner: &(String, String),
    max_file_size: u64,
) -> Result<Build, Failure> {
    let reference = |m: String| BuildError::new(BuildReason::ChartReference, m);
    let path = secure_join(root, chart_path).map_err(reference)?;
    let mut chart = if path.is_dir() {
        ChartFiles::from_dir(&path)
    } else if path.is_file() {
        std::fs::read(&path)
            .map_err(|e| e.to_string())
            .and_then(|b| ChartFiles::from_archive(&b, max_file_size))
    } else {
        Err(format!("no chart found at path '{chart_path}'"))
    }
    .map_err(reference)?;
    let mut version = chart.metadata.version.clone();
    if !metadata.is_empty() {
        version = with_build_metadata(&version, metadata)?;
    }
    if let Some((artifact, name)) = cached
        && artifact.revision == version
        && name == chart.metadata.name
    {
        return Ok(Build {
            name: chart.metadata.name.clone(),
            version,
            values_files: files.to_vec(),
            packaged: true,
            artifact: artifact.clone(),
            verified: false,
        });
    }
    let mut merged = serde_yaml::Mapping::new();
    let mut used = Vec::new();
    for file in files {
        let merge = |m: String| BuildError::new(BuildReason::ValuesFiles, m);
        let p = secure_join(root, file).map_err(merge)?;
        if !p.is_file() {
            if ignore_missing && !p.exists() {
                continue;
            }
            return Err(merge(format!(
                "no values file found at path '{}' (reference '{file}')",
                p.strip_prefix(root).unwrap_or(&p).display()
            ))
            .into());
        }
        let data = std::fs::read(&p)
            .map_err(|e| merge(format!("could not read values from file '{file}': {e}")))?;
        merge_maps(&mut merged, parse_values(file, &data).map_err(merge)?);
        used.push(file.clone());
    }
    chart
        .set_version(&version)
        .map_err(|e| BuildError::new(BuildReason::ChartPackage, e))?;
    if !files.is_empty() {
        chart
            .set_values(&merged)
            .map_err(|e| BuildError::new(BuildReason::ValuesFiles, e))?;
    }
    let payload = chart
        .package()
        .map_err(|e| BuildError::new(BuildReason::ChartPackage, e))?;
    let artifact = store(storage, owner, &chart.metadata.name, &version, &payload)?;
    Ok(Build {
        name: chart.metadata.name,
        version,
        values_files: used,
        packaged: true,
        artifact,
        verified: false,
    })
}

fn owner_of(obj: &HelmChart) -> (String, String) {
    (obj.namespace().unwrap_or_default(), obj.name_any())
}

fn store(
    storage: &Storage,
    (namespace, name): &(String, String),
    chart: &str,
    version: &str,
    bytes: &[u8],
) -> Result<Artifact, Failure> {
    let owner = Owner {
        kind: KIND,
        namespace,
        name,
    };
    let stored = storage
        .store(&owner, &format!("{chart}-{version}.tgz"), bytes)
        .map_err(|e| {
            StepFailure::new(
                STORAGE_OPERATION_FAILED,
                "ArchiveOperationFailed",
                format!("unable to copy Helm chart to storage: {e}"),
            )
        })?;
    if let Err(e) = storage.garbage_collect(&owner, &stored.path) {
        tracing::warn!(error = %e, "artifact garbage collection failed");
    }
    Ok(Artifact {
        path: stored.path,
        url: stored.url,
        revision: version.to_string(),
        digest: Some(stored.digest),
        last_update_time: k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(Timestamp::now()),
        size: i64::try_from(stored.size).ok(),
        metadata: BTreeMap::new(),
    })
}
