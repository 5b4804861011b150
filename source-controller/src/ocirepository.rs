//! OCIRepository reconciler: resolve `spec.ref` (digest, semver over tags, tag, default
//! `latest`), pull the manifest and the selected layer, store it (extracted and repacked with
//! the ignore rules, or copied) and report Flux's conditions and events.
//!
//! Revisions are written as Flux writes them: `<tag>@sha256:<manifest digest>`, or the bare
//! digest when the reference is one.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use flux_api::meta::{
    Artifact, FETCH_FAILED, SOURCE_VERIFIED, STORAGE_OPERATION_FAILED, SUCCEEDED_REASON,
    VERIFICATION_ERROR_REASON,
};
use flux_api::source::v1::{
    CloudProvider, OCILayerOperation, OCIRepository, OCIRepositoryStatus, VerificationProvider,
};
use flux_artifact::{IgnoreRules, Owner, Storage, UnpackLimits};
use flux_git::{SemverRange, highest_matching};
use flux_runtime::conditions::{self, Status};
use flux_runtime::controller::{self as runtime, Error};
use flux_runtime::events::{Recorder, Severity};
use flux_runtime::reconcile::{Backoff, jitter, patch_status, requested_at};
use k8s_openapi::api::core::v1::ServiceAccount;
use k8s_openapi::jiff::Timestamp;
use kube::api::Api;
use kube::runtime::controller::Action;
use kube::{Resource, ResourceExt};

use crate::cosign;
use crate::helm_http::{secret_data, with_tls_from_secret};
use crate::oci_registry::{Client, OciError, Reference, docker_config_auth, use_plain_http};
use crate::source_status::{
    StepFailure, failed_before, mark_failed, mark_stored, remove_artifacts,
};

pub const OCI_PULL_FAILED_REASON: &str = "OCIArtifactPullFailed";
pub const OCI_LAYER_OPERATION_FAILED_REASON: &str = "OCIArtifactLayerOperationFailed";
pub const AUTHENTICATION_FAILED_REASON: &str = "AuthenticationFailed";
pub const URL_INVALID_REASON: &str = "URLInvalid";
pub const NEW_ARTIFACT_REASON: &str = "NewArtifact";

/// Storage kind segment of OCIRepository artifacts.
pub const KIND: &str = "ocirepository";

/// Everything the reconciler needs besides the object.
pub struct Context {
    pub client: kube::Client,
    pub storage: Storage,
    pub recorder: Recorder,
    /// Scratch space for extracted layers.
    pub work_dir: std::path::PathBuf,
    /// Largest layer pulled (Flux's default is 100 MiB).
    pub max_layer_size: u64,
    pub jitter_percent: u32,
    pub backoff: Backoff,
}

/// Runs the OCIRepository controller until `shutdown` resolves.
pub async fn run(
    ctx: Arc<Context>,
    namespace: Option<&str>,
    label_selector: Option<&str>,
    concurrency: u16,
    shutdown: impl std::future::Future<Output = ()> + Send + Sync + 'static,
) {
    let api: Api<OCIRepository> = runtime::api(&ctx.client, namespace);
    let controller = runtime::controller_for(api, runtime::watcher_config(label_selector));
    runtime::drive(
        controller,
        "OCIRepository",
        concurrency,
        shutdown,
        reconcile,
        error_policy,
        ctx,
    )
    .await;
}

fn error_policy(obj: Arc<OCIRepository>, _err: &Error, ctx: Arc<Context>) -> Action {
    runtime::requeue_after_failure(&ctx.backoff, obj.as_ref())
}

pub async fn reconcile(obj: Arc<OCIRepository>, ctx: Arc<Context>) -> Result<Action, Error> {
    let namespace = obj.namespace().unwrap_or_default();
    let api: Api<OCIRepository> = Api::namespaced(ctx.client.clone(), &namespace);
    let (ctx, objects) = (ctx.as_ref(), &api);
    runtime::with_finalizer(
        &api,
        obj,
        |obj| async move { apply(&obj, ctx, objects).await },
        |obj| async move { remove_artifacts(&ctx.storage, KIND, obj.as_ref()) },
    )
    .await
}

async fn apply(
    obj: &OCIRepository,
    ctx: &Context,
    api: &Api<OCIRepository>,
) -> Result<Action, Error> {
    let name = obj.name_any();
    if obj.spec.suspend {
        tracing::info!(name, "reconciliation is suspended for this object");
        return Ok(Action::await_change());
    }
    let generation = obj.meta().generation;
    let mut status: OCIRepositoryStatus = obj.status.clone().unwrap_or_default();
    if let Some(at) = requested_at(obj.meta()) {
        status.reconcile_request.last_handled_reconcile_at = Some(at.to_string());
    }
    let object_ref = obj.object_ref(&());
    let was_failing = failed_before(&status.conditions);
    let unchanged_spec = status.observed_ignore == obj.spec.ignore
        && status.observed_layer_selector == obj.spec.layer_selector;
    let previous = status.artifact.clone().filter(|a| {
        unchanged_spec
            && a.digest
                .as_deref()
                .is_some_and(|d| ctx.storage.verify(&a.path, d))
    });

    let verify_with = match &obj.spec.verify {
        None => None,
        Some(verify) => match (&verify.provider, &verify.secret_ref) {
            (VerificationProvider::Cosign, Some(secret)) => Some(VerifyWith {
                secret: &secret.name,
                // Flux re-verifies on a new revision, a new generation or after a failure.
                verified_revision: previous
                    .as_ref()
                    .filter(|_| {
                        conditions::get(&status.conditions, SOURCE_VERIFIED).is_some_and(|c| {
                            c.status == "True" && c.observed_generation == generation
                        })
                    })
                    .map(|a| a.revision.as_str()),
            }),
            (provider, _) => {
                return unsupported_verification(obj, ctx, api, status, provider).await;
            }
        },
    };
    if verify_with.is_none() {
        conditions::remove(&mut status.conditions, SOURCE_VERIFIED);
    }
    let was_failing = was_failing
        || conditions::get(&status.conditions, SOURCE_VERIFIED)
            .is_some_and(|c| c.status == "False");

    let outcome = pull_and_store(obj, ctx, previous.as_ref(), verify_with.as_ref()).await;
    let now = Timestamp::now();
    match outcome {
        Ok(artifact) => {
            let message = format!("stored artifact for digest '{}'", artifact.revision);
            let changed = previous.as_ref().map(|a| &a.revision) != Some(&artifact.revision);
            status.url = Some(artifact.url.clone());
            status.artifact = Some(artifact.clone());
            status.observed_ignore = obj.spec.ignore.clone();
            status.observed_layer_selector = obj.spec.layer_selector.clone();
            if verify_with.is_some() {
                conditions::set(
                    &mut status.conditions,
                    SOURCE_VERIFIED,
                    Status::True,
                    SUCCEEDED_REASON,
                    &format!("verified signature of revision {}", artifact.revision),
                    generation,
                    now,
                );
            }
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
                let text = format!(
                    "stored artifact with revision '{}' from '{}'",
                    artifact.revision, obj.spec.url
                );
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
                obj.spec.interval.to_std(),
                ctx.jitter_percent,
            )))
        }
        Err(failure) => {
            if failure.condition == SOURCE_VERIFIED {
                // Not a failure condition of its own: SourceVerified turns False instead.
                conditions::set(
                    &mut status.conditions,
                    SOURCE_VERIFIED,
                    Status::False,
                    &failure.reason,
                    &failure.message,
                    generation,
                    now,
                );
                conditions::mark_failed(
                    &mut status.conditions,
                    generation,
                    &failure.reason,
                    &failure.message,
                    failure.stalled,
                    now,
                );
            } else {
                mark_failed(&mut status.conditions, generation, &failure, now);
            }
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

/// How to verify the artifact's signature (cosign with public keys).
struct VerifyWith<'a> {
    secret: &'a str,
    /// The stored revision whose signature was verified under the current generation.
    verified_revision: Option<&'a str>,
}

/// Keyless cosign and notation: reported, never served unverified.
async fn unsupported_verification(
    obj: &OCIRepository,
    ctx: &Context,
    api: &Api<OCIRepository>,
    mut status: OCIRepositoryStatus,
    provider: &VerificationProvider,
) -> Result<Action, Error> {
    // Keyed cosign never gets here.
    let (shown, what) = match provider {
        VerificationProvider::Cosign => ("cosign keyless", "keyless verification"),
        VerificationProvider::Notation => ("notation", "notation verification"),
    };
    let message = format!(
        "failed to verify the signature using provider '{shown}': {what} is not supported yet"
    );
    let generation = obj.meta().generation;
    let now = Timestamp::now();
    conditions::set(
        &mut status.conditions,
        SOURCE_VERIFIED,
        Status::False,
        VERIFICATION_ERROR_REASON,
        &message,
        generation,
        now,
    );
    // Stalled: retrying cannot help until the spec changes.
    conditions::mark_failed(
        &mut status.conditions,
        generation,
        VERIFICATION_ERROR_REASON,
        &message,
        true,
        now,
    );
    status.observed_generation = generation;
    patch_status(api, &obj.name_any(), &status).await?;
    ctx.recorder
        .record(
            &obj.object_ref(&()),
            Severity::Error,
            VERIFICATION_ERROR_REASON,
            &message,
            BTreeMap::new(),
        )
        .await;
    Ok(Action::await_change())
}

/// Checks the cosign signature of `digest` with the `.pub` keys of the Secret.
async fn verify_cosign(
    obj: &OCIRepository,
    ctx: &Context,
    client: &Client,
    secret: &str,
    digest: &str,
) -> Result<(), StepFailure> {
    let failure = |m: String| {
        StepFailure::new(
            SOURCE_VERIFIED,
            VERIFICATION_ERROR_REASON,
            format!("failed to verify the signature using provider 'cosign': {m}"),
        )
    };
    let namespace = obj.namespace().unwrap_or_default();
    let data = secret_data(&ctx.client, &namespace, secret)
        .await
        .map_err(|e| failure(e.0))?;
    let keys = cosign::PublicKeys::from_secret(&format!("{namespace}/{secret}"), &data)
        .map_err(|e| failure(e.to_string()))?;
    let image = format!(
        "{}@{digest}",
        obj.spec
            .url
            .trim_start_matches("oci://")
            .trim_end_matches('/')
    );
    cosign::verify(client, &image, digest, &keys)
        .await
        .map_err(|e| failure(e.to_string()))
}

fn pull_failure(e: OciError) -> StepFailure {
    match e {
        OciError::Unauthorized(..) => {
            StepFailure::new(FETCH_FAILED, AUTHENTICATION_FAILED_REASON, e.to_string())
        }
        other => StepFailure::new(FETCH_FAILED, OCI_PULL_FAILED_REASON, other.to_string()),
    }
}

/// Which manifest to pull, and the revision prefix it gives.
async fn resolve(
    obj: &OCIRepository,
    client: &Client,
) -> Result<(String, Option<String>), StepFailure> {
    let reference = obj.spec.reference.clone().unwrap_or_default();
    if let Some(digest) = reference.digest.filter(|d| !d.is_empty()) {
        return Ok((digest, None));
    }
    if let Some(range) = reference.semver.filter(|s| !s.is_empty()) {
        let parsed = SemverRange::parse(&range).map_err(|e| {
            StepFailure::new(FETCH_FAILED, OCI_PULL_FAILED_REASON, e.to_string()).stalled()
        })?;
        let filter = match reference.semver_filter.as_deref().filter(|f| !f.is_empty()) {
            Some(f) => Some(regex::Regex::new(f).map_err(|e| {
                StepFailure::new(
                    FETCH_FAILED,
                    OCI_PULL_FAILED_REASON,
                    format!("failed to parse semver filter '{f}': {e}"),
                )
                .stalled()
            })?),
            None => None,
        };
        let tags = client.tags().await.map_err(|e| {
            let mut f = pull_failure(e);
            f.message = format!(
                "failed to determine the artifact tag for '{}': {}",
                obj.spec.url, f.message
            );
            f
        })?;
        let candidates = tags
            .iter()
            .filter(|t| filter.as_ref().is_none_or(|re| re.is_match(t)))
            .map(String::as_str);
        let (tag, _) = highest_matching(&parsed, candidates).ok_or_else(|| {
            StepFailure::new(
                FETCH_FAILED,
                OCI_PULL_FAILED_REASON,
                format!(
                    "failed to determine the artifact tag for '{}': no match found for semver: {range}",
                    obj.spec.url
                ),
            )
        })?;
        return Ok((tag.to_string(), Some(tag.to_string())));
    }
    let tag = reference
        .tag
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| "latest".into());
    Ok((tag.clone(), Some(tag)))
}

/// Credentials for `registry`, as Flux's keychain finds them: `spec.secretRef` (a
/// dockerconfigjson, or `username` and `password`), then the imagePullSecrets of
/// `spec.serviceAccountName`.
async fn registry_credentials(
    obj: &OCIRepository,
    ctx: &Context,
    registry: &str,
) -> Result<Option<(String, String)>, String> {
    let namespace = obj.namespace().unwrap_or_default();
    let mut secrets = Vec::new();
    if let Some(secret_ref) = &obj.spec.secret_ref {
        secrets.push(secret_ref.name.clone());
    }
    if let Some(name) = obj.spec.service_account_name.as_deref() {
        let accounts: Api<ServiceAccount> = Api::namespaced(ctx.client.clone(), &namespace);
        let account = accounts
            .get_opt(name)
            .await
            .map_err(|e| format!("failed to get service account '{namespace}/{name}': {e}"))?
            .ok_or_else(|| {
                format!(
                    "failed to get service account '{namespace}/{name}': serviceaccounts \"{name}\" not found"
                )
            })?;
        secrets.extend(
            account
                .image_pull_secrets
                .unwrap_or_default()
                .into_iter()
                .map(|s| s.name),
        );
    }
    for name in secrets {
        let data = secret_data(&ctx.client, &namespace, &name)
            .await
            .map_err(|e| e.0)?;
        let found = data
            .get(".dockerconfigjson")
            .and_then(|c| docker_config_auth(c, registry))
            .or_else(|| {
                let u = data.get("username")?;
                let p = data.get("password")?;
                Some((
                    String::from_utf8_lossy(u).into_owned(),
                    String::from_utf8_lossy(p).into_owned(),
                ))
            });
        if found.is_some() {
            return Ok(found);
        }
    }
    Ok(None)
}

/// The proxy of a `proxySecretRef`: `address`, with optional `username` and `password`.
fn proxy_from_secret(
    data: &BTreeMap<String, Vec<u8>>,
    secret: &str,
) -> Result<reqwest::Proxy, String> {
    let text = |key: &str| {
        data.get(key)
            .map(|v| String::from_utf8_lossy(v).into_owned())
    };
    let address = text("address")
        .ok_or_else(|| format!("invalid proxy secret '{secret}': key 'address' is missing"))?;
    let mut proxy = reqwest::Proxy::all(&address)
        .map_err(|_| format!("invalid proxy secret '{secret}': 'address' is not a valid URL"))?;
    if let (Some(user), Some(password)) = (text("username"), text("password")) {
        proxy = proxy.basic_auth(&user, &password);
    }
    Ok(proxy)
}

async fn pull_and_store(
    obj: &OCIRepository,
    ctx: &Context,
    previous: Option<&Artifact>,
    verify: Option<&VerifyWith<'_>>,
) -> Result<Artifact, StepFailure> {
    let reference = Reference::parse(&obj.spec.url)
        .map_err(|e| StepFailure::new(FETCH_FAILED, URL_INVALID_REASON, e.to_string()).stalled())?;
    let auth_failed = |m: String| StepFailure::new(FETCH_FAILED, AUTHENTICATION_FAILED_REASON, m);
    if obj.spec.provider() != CloudProvider::Generic {
        let provider = serde_json::to_value(obj.spec.provider())
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        return Err(auth_failed(format!(
            "failed to get credential from '{provider}': cloud provider authentication is not supported yet"
        ))
        .stalled());
    }
    let basic = registry_credentials(obj, ctx, &reference.registry)
        .await
        .map_err(auth_failed)?;
    let timeout = obj.spec.timeout().max(Duration::from_secs(1));
    let mut builder = reqwest::Client::builder().timeout(timeout).use_rustls_tls();
    let namespace = obj.namespace().unwrap_or_default();
    if let Some(cert_ref) = &obj.spec.cert_secret_ref {
        let data = secret_data(&ctx.client, &namespace, &cert_ref.name)
            .await
            .map_err(|e| auth_failed(e.0))?;
        builder =
            with_tls_from_secret(builder, &data, &cert_ref.name).map_err(|e| auth_failed(e.0))?;
    }
    if let Some(proxy_ref) = &obj.spec.proxy_secret_ref {
        let data = secret_data(&ctx.client, &namespace, &proxy_ref.name)
            .await
            .map_err(|e| auth_failed(e.0))?;
        builder = builder.proxy(proxy_from_secret(&data, &proxy_ref.name).map_err(auth_failed)?);
    }
    let http = builder
        .build()
        .map_err(|e| StepFailure::new(FETCH_FAILED, OCI_PULL_FAILED_REASON, e.to_string()))?;
    let plain = use_plain_http(&http, &reference.registry, obj.spec.insecure).await;
    let client = Client::new(http, reference, plain, basic)
        .map_err(|e| StepFailure::new(FETCH_FAILED, URL_INVALID_REASON, e.to_string()).stalled())?;

    let (want, tag) = resolve(obj, &client).await?;
    let (manifest, digest) = client.manifest(&want).await.map_err(|e| {
        let mut f = pull_failure(e);
        f.message = format!("failed to determine artifact digest: {}", f.message);
        f
    })?;
    let revision = match &tag {
        Some(tag) => format!("{tag}@{digest}"),
        None => digest.clone(),
    };
    if let Some(v) = verify.filter(|v| v.verified_revision != Some(revision.as_str())) {
        verify_cosign(obj, ctx, &client, v.secret, &digest).await?;
    }
    if let Some(prev) = previous.filter(|p| p.revision == revision) {
        return Ok(prev.clone());
    }

    let selector = obj.spec.layer_selector.clone().unwrap_or_default();
    let layer = match selector.media_type.as_deref().filter(|m| !m.is_empty()) {
        Some(media) => manifest
            .layers
            .iter()
            .find(|l| l.media_type == media)
            .ok_or_else(|| {
                StepFailure::new(
                    FETCH_FAILED,
                    OCI_LAYER_OPERATION_FAILED_REASON,
                    format!("failed to find layer with media type '{media}' in OCI artifact"),
                )
            })?,
        None => manifest.layers.first().ok_or_else(|| {
            StepFailure::new(
                FETCH_FAILED,
                OCI_LAYER_OPERATION_FAILED_REASON,
                "no layers found in artifact",
            )
        })?,
    };
    let bytes = client.blob(layer, ctx.max_layer_size).await.map_err(|e| {
        let mut f = pull_failure(e);
        f.message = format!(
            "failed to pull artifact from '{}': {}",
            obj.spec.url, f.message
        );
        f
    })?;
    let copy = selector.operation == Some(OCILayerOperation::Copy);
    let metadata: BTreeMap<String, String> = manifest
        .annotations
        .iter()
        .filter(|(k, _)| k.starts_with("org.opencontainers.image."))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let storage = ctx.storage.clone();
    let work = ctx.work_dir.clone();
    let ignore = obj.spec.ignore.clone();
    let name = obj.name_any();
    let hex = digest.trim_start_matches("sha256:").to_string();
    let job = tokio::task::spawn_blocking(move || -> Result<Artifact, StepFailure> {
        let layer_failure =
            |m: String| StepFailure::new(FETCH_FAILED, OCI_LAYER_OPERATION_FAILED_REASON, m);
        let payload = if copy {
            bytes
        } else {
            std::fs::create_dir_all(&work).map_err(|e| layer_failure(e.to_string()))?;
            let tmp = tempfile::tempdir_in(&work).map_err(|e| layer_failure(e.to_string()))?;
            flux_artifact::unpack(&bytes, tmp.path(), UnpackLimits::default()).map_err(|e| {
                layer_failure(format!(
                    "failed to extract layer contents from artifact: {e}"
                ))
            })?;
            let rules = IgnoreRules::load(tmp.path(), ignore.as_deref())
                .map_err(|e| layer_failure(e.to_string()))?;
            let mut out = Vec::new();
            flux_artifact::pack_dir(tmp.path(), &rules, &mut out).map_err(|e| {
                StepFailure::new(
                    STORAGE_OPERATION_FAILED,
                    "ArchiveOperationFailed",
                    format!("unable to archive artifact to storage: {e}"),
                )
            })?;
            out
        };
        let owner = Owner {
            kind: KIND,
            namespace: &namespace,
            name: &name,
        };
        let stored = storage
            .store(&owner, &format!("{hex}.tar.gz"), &payload)
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
            metadata,
        })
    });
    job.await.map_err(|e| {
        StepFailure::new(
            STORAGE_OPERATION_FAILED,
            STORAGE_OPERATION_FAILED,
            e.to_string(),
        )
    })?
}
