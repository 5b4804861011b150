//! Bucket reconciler: list an S3-compatible bucket (`generic` and `aws` providers), build Flux's
//! etag index of the objects kept by the ignore rules, and when its digest (the revision)
//! changed, download the objects and store them as a deterministic tar.gz artifact.
//!
//! As in Flux, the revision is `sha256:` of the sorted index lines `<key> <etag>\n`, so an
//! unchanged bucket gives the same revision and nothing is downloaded again. Ignore rules are
//! Flux's Bucket flavour: the bucket's root `.sourceignore` object, then `spec.ignore`, applied
//! to the keys while listing, without the default exclusions GitRepository uses.
//!
//! Not supported yet, each reported as a Stalled condition rather than ignored: the `gcp` and
//! `azure` providers, `sts`, `certSecretRef`, `proxySecretRef` and `serviceAccountName`. The
//! `aws` provider takes static keys from `secretRef` or the controller's `AWS_*` environment.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use aws_sdk_s3::config::{
    BehaviorVersion, Credentials, Region, SharedHttpClient, timeout::TimeoutConfig,
};
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use flux_api::meta::{Artifact, FETCH_FAILED, STORAGE_OPERATION_FAILED, SUCCEEDED_REASON};
use flux_api::source::v1::{Bucket, BucketStatus, CloudProvider};
use flux_artifact::{IgnoreRules, Owner, SOURCEIGNORE_FILE, Storage};
use flux_runtime::controller::{self as runtime, Error};
use flux_runtime::events::{Recorder, Severity};
use flux_runtime::reconcile::{Backoff, jitter, patch_status, requested_at};
use futures::{StreamExt, TryStreamExt};
use ignore::gitignore::{Gitignore, GitignoreBuilder};
use k8s_openapi::jiff::Timestamp;
use kube::api::Api;
use kube::runtime::controller::Action;
use kube::{Resource, ResourceExt};
use tokio::io::AsyncWriteExt;

use crate::helm_http::secret_data;
use crate::source_status::{
    StepFailure, failed_before, mark_failed, mark_stored, remove_artifacts,
};

/// Flux's reasons for Bucket failures.
pub const BUCKET_OPERATION_FAILED_REASON: &str = "BucketOperationFailed";
pub const AUTHENTICATION_FAILED_REASON: &str = "AuthenticationFailed";
pub const NEW_ARTIFACT_REASON: &str = "NewArtifact";
/// A spec flux-rs cannot serve yet (gcp/azure providers, STS, custom CA, proxy).
pub const UNSUPPORTED_REASON: &str = "UnsupportedConfiguration";
pub const URL_INVALID_REASON: &str = "URLInvalid";

/// Storage kind segment of Bucket artifacts.
pub const KIND: &str = "bucket";

/// Objects downloaded at once: enough to hide request latency, few enough to keep the
/// controller's footprint small.
const CONCURRENT_DOWNLOADS: usize = 16;

/// Everything the reconciler needs besides the object.
pub struct Context {
    pub client: kube::Client,
    pub storage: Storage,
    pub recorder: Recorder,
    /// Scratch space for downloaded objects.
    pub work_dir: PathBuf,
    /// Largest total size of the objects of one Bucket; consumers unpack artifacts with the
    /// same limit ([`flux_artifact::DEFAULT_MAX_UNPACK_SIZE`]).
    pub max_size: u64,
    /// From [`http_client`].
    pub http: SharedHttpClient,
    pub jitter_percent: u32,
    pub backoff: Backoff,
}

/// Runs the Bucket controller until `shutdown` resolves.
pub async fn run(
    ctx: Arc<Context>,
    namespace: Option<&str>,
    label_selector: Option<&str>,
    concurrency: u16,
    shutdown: impl std::future::Future<Output = ()> + Send + Sync + 'static,
) {
    let api: Api<Bucket> = runtime::api(&ctx.client, namespace);
    let config = runtime::watcher_config(label_selector);
    let controller = runtime::controller_for(api, config);
    runtime::drive(
        controller,
        "Bucket",
        concurrency,
        shutdown,
        reconcile,
        error_policy,
        ctx,
    )
    .await;
}

fn error_policy(obj: Arc<Bucket>, _err: &Error, ctx: Arc<Context>) -> Action {
    runtime::requeue_after_failure(&ctx.backoff, obj.as_ref())
}

pub async fn reconcile(obj: Arc<Bucket>, ctx: Arc<Context>) -> Result<Action, Error> {
    let namespace = obj.namespace().unwrap_or_default();
    let api: Api<Bucket> = Api::namespaced(ctx.client.clone(), &namespace);
    let (ctx, objects) = (ctx.as_ref(), &api);
    runtime::with_finalizer(
        &api,
        obj,
        |obj| async move { apply(&obj, ctx, objects).await },
        |obj| async move { remove_artifacts(&ctx.storage, KIND, obj.as_ref()) },
    )
    .await
}

async fn apply(obj: &Bucket, ctx: &Context, api: &Api<Bucket>) -> Result<Action, Error> {
    let name = obj.name_any();
    if obj.spec.suspend {
        tracing::info!(name, "reconciliation is suspended for this object");
        return Ok(Action::await_change());
    }
    let generation = obj.meta().generation;
    let mut status: BucketStatus = obj.status.clone().unwrap_or_default();
    if let Some(at) = requested_at(obj.meta()) {
        status.reconcile_request.last_handled_reconcile_at = Some(at.to_string());
    }
    let object_ref = obj.object_ref(&());
    let was_failing = failed_before(&status.conditions);
    let previous = status.artifact.clone().filter(|a| {
        status.observed_ignore == obj.spec.ignore
            && a.digest
                .as_deref()
                .is_some_and(|d| ctx.storage.verify(&a.path, d))
    });

    let outcome = fetch_and_store(obj, ctx, previous.as_ref()).await;
    let now = Timestamp::now();
    match outcome {
        Ok((artifact, files)) => {
            let message = format!("stored artifact: revision '{}'", artifact.revision);
            let changed = previous.as_ref().map(|a| &a.digest) != Some(&artifact.digest);
            status.url = Some(artifact.url.clone());
            status.artifact = Some(artifact.clone());
            status.observed_ignore = obj.spec.ignore.clone();
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
                    "stored artifact with {files} fetched files from '{}' bucket",
                    obj.spec.bucket_name
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

fn bucket_failure(message: impl Into<String>) -> StepFailure {
    StepFailure::new(FETCH_FAILED, BUCKET_OPERATION_FAILED_REASON, message)
}

fn unsupported(message: impl Into<String>) -> StepFailure {
    StepFailure::new(FETCH_FAILED, UNSUPPORTED_REASON, message).stalled()
}

/// Static keys for the S3 client; `None` is anonymous access.
struct Keys {
    access_key: String,
    secret_key: String,
    session_token: Option<String>,
}

/// The spec parts flux-rs cannot honour yet fail clearly instead of being ignored.
fn check_supported(obj: &Bucket) -> Result<(), StepFailure> {
    let spec = &obj.spec;
    let provider = spec.provider();
    if matches!(provider, CloudProvider::Gcp | CloudProvider::Azure) {
        let name = if provider == CloudProvider::Gcp {
            "gcp"
        } else {
            "azure"
        };
        return Err(unsupported(format!(
            "the '{name}' Bucket provider is not supported yet: use 'generic' or 'aws' (S3 API)"
        )));
    }
    spec.validate()
        .map_err(|e| StepFailure::new(FETCH_FAILED, "InvalidSTSConfiguration", e).stalled())?;
    let not_yet = [
        (spec.sts.is_some(), "spec.sts"),
        (spec.cert_secret_ref.is_some(), "spec.certSecretRef"),
        (spec.proxy_secret_ref.is_some(), "spec.proxySecretRef"),
        (
            spec.service_account_name.is_some(),
            "spec.serviceAccountName",
        ),
    ];
    if let Some((_, field)) = not_yet.iter().find(|(set, _)| *set) {
        return Err(unsupported(format!("{field} is not supported yet")));
    }
    Ok(())
}

async fn credentials(obj: &Bucket, ctx: &Context) -> Result<Option<Keys>, StepFailure> {
    let namespace = obj.namespace().unwrap_or_default();
    let auth = |m: String| StepFailure::new(FETCH_FAILED, AUTHENTICATION_FAILED_REASON, m);
    if let Some(secret_ref) = &obj.spec.secret_ref {
        let data = secret_data(&ctx.client, &namespace, &secret_ref.name)
            .await
            .map_err(|e| auth(e.0))?;
        let text = |k: &str| {
            data.get(k)
                .map(|v| String::from_utf8_lossy(v).trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let (Some(access_key), Some(secret_key)) = (text("accesskey"), text("secretkey")) else {
            return Err(auth(format!(
                "invalid '{}' secret data: required fields 'accesskey' and 'secretkey'",
                secret_ref.name
            )));
        };
        return Ok(Some(Keys {
            access_key,
            secret_key,
            session_token: None,
        }));
    }
    if obj.spec.provider() == CloudProvider::Aws {
        // Flux falls back to the AWS credential chain; of it, flux-rs reads the environment.
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        return match (env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY")) {
            (Some(access_key), Some(secret_key)) => Ok(Some(Keys {
                access_key,
                secret_key,
                session_token: env("AWS_SESSION_TOKEN"),
            })),
            _ => Err(auth(
                "no credentials for the 'aws' provider: set spec.secretRef, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the controller's environment (IRSA and instance metadata are not supported yet)"
                    .into(),
            )),
        };
    }
    Ok(None)
}

/// The S3 HTTP client: hyper with rustls and ring (http and https). Built once per controller
/// and kept in its [`Context`] so connections are pooled across reconciles; not a process-wide
/// static, since pooled connections belong to the tokio runtime that opened them.
pub fn http_client() -> SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
            aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https()
}

/// `endpoint` as a URL: a given scheme is kept, else https unless `insecure`.
fn endpoint_url(endpoint: &str, insecure: bool) -> String {
    if endpoint.contains("://") {
        return endpoint.trim_end_matches('/').to_string();
    }
    let scheme = if insecure { "http" } else { "https" };
    format!("{scheme}://{}", endpoint.trim_end_matches('/'))
}

fn s3_client(
    obj: &Bucket,
    http: SharedHttpClient,
    endpoint: &str,
    keys: Option<&Keys>,
) -> aws_sdk_s3::Client {
    let spec = &obj.spec;
    let url = endpoint_url(endpoint, spec.insecure);
    let host = url
        .split_once("://")
        .map(|(_, rest)| rest)
        .unwrap_or(&url)
        .split(['/', ':'])
        .next()
        .unwrap_or_default()
        .to_string();
    let region = spec
        .region
        .clone()
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| "us-east-1".to_string());
    let mut config = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .http_client(http)
        .region(Region::new(region))
        .endpoint_url(url)
        // Virtual-hosted addressing only where it is known to work (minio-go's "auto" rule).
        .force_path_style(!host.ends_with(".amazonaws.com"))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(spec.timeout().min(Duration::from_secs(30)))
                .build(),
        );
    config = match keys {
        Some(k) => config.credentials_provider(Credentials::new(
            &k.access_key,
            &k.secret_key,
            k.session_token.clone(),
            None,
            "bucket-secret",
        )),
        None => config.allow_no_auth(),
    };
    aws_sdk_s3::Client::from_conf(config.build())
}

/// The text of an S3 failure: the service's code and message, or the HTTP status for answers
/// without a body (HEAD, moto's refusals), or the transport error.
fn describe<E>(err: &SdkError<E>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match err {
        SdkError::ServiceError(service) => {
            let e = service.err();
            match (e.code(), e.message()) {
                (Some(code), Some(message)) => format!("{code}: {message}"),
                (Some(code), None) => code.to_string(),
                // The raw response's Debug would be noise; its status says what happened.
                _ => match service.raw().status().as_u16() {
                    403 => "server answered 403 Forbidden".to_string(),
                    status => format!("server answered {status}"),
                },
            }
        }
        SdkError::TimeoutError(_) => "request timed out".to_string(),
        SdkError::DispatchFailure(_) => {
            format!("unable to reach the endpoint: {}", chain(err))
        }
        other => chain(other),
    }
}

/// An error and its sources, `: `-joined (the SDK's own context printer appends Debug dumps).
fn chain(err: &dyn std::error::Error) -> String {
    let mut parts = vec![err.to_string()];
    let mut source = err.source();
    while let Some(e) = source {
        let text = e.to_string();
        if parts.last() != Some(&text) {
            parts.push(text);
        }
        source = e.source();
    }
    parts.join(": ")
}

/// Whether `key` names a file strictly below the download directory.
fn safe_key(key: &str) -> bool {
    !key.is_empty()
        && !key.starts_with('/')
        && !key.contains('\0')
        && key
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != "..")
}

/// The Bucket flavour of Flux's ignore rules: root `.sourceignore` object, then `spec.ignore`.
fn ignore_matcher(
    root: &Path,
    sourceignore: Option<&str>,
    spec: Option<&str>,
) -> Result<Gitignore, StepFailure> {
    let mut builder = GitignoreBuilder::new(root);
    for (origin, text) in [(SOURCEIGNORE_FILE, sourceignore), ("spec.ignore", spec)] {
        for line in text.unwrap_or_default().lines() {
            builder
                .add_line(None, line)
                .map_err(|e| bucket_failure(format!("invalid ignore pattern in {origin}: {e}")))?;
        }
    }
    builder
        .build()
        .map_err(|e| bucket_failure(format!("invalid ignore rules: {e}")))
}

/// Flux's revision of an etag index: sha256 of `<key> <etag>\n` in key order.
pub fn index_revision(index: &BTreeMap<String, String>) -> String {
    let mut digester = flux_artifact::Digester::default();
    for (key, etag) in index {
        digester.update(key.as_bytes());
        digester.update(b" ");
        digester.update(etag.as_bytes());
        digester.update(b"\n");
    }
    digester.finish()
}

async fn with_timeout<T>(
    timeout: Duration,
    what: &str,
    fut: impl std::future::Future<Output = Result<T, StepFailure>>,
) -> Result<T, StepFailure> {
    tokio::time::timeout(timeout, fut)
        .await
        .unwrap_or_else(|_| {
            Err(bucket_failure(format!(
                "{what}: timeout after {}",
                humantime(timeout)
            )))
        })
}

fn humantime(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}

async fn fetch_and_store(
    obj: &Bucket,
    ctx: &Context,
    previous: Option<&Artifact>,
) -> Result<(Artifact, usize), StepFailure> {
    check_supported(obj)?;
    let Some(endpoint) = obj.spec.endpoint() else {
        return Err(StepFailure::new(
            FETCH_FAILED,
            URL_INVALID_REASON,
            "spec.endpoint is required for the 'generic' provider",
        )
        .stalled());
    };
    let keys = credentials(obj, ctx).await?;
    let secret = keys.as_ref().map(|k| k.secret_key.clone());
    let result = fetch_with(obj, ctx, previous, &endpoint, keys.as_ref()).await;
    // The SDK's errors do not carry the secret key; this keeps it out of conditions and events
    // whatever a server echoes back.
    result.map_err(|mut f| {
        if let Some(secret) = secret.as_deref().filter(|s| !s.is_empty()) {
            f.message = f.message.replace(secret, "***");
        }
        f
    })
}

async fn fetch_with(
    obj: &Bucket,
    ctx: &Context,
    previous: Option<&Artifact>,
    endpoint: &str,
    keys: Option<&Keys>,
) -> Result<(Artifact, usize), StepFailure> {
    let client = s3_client(obj, ctx.http.clone(), endpoint, keys);
    let bucket = obj.spec.bucket_name.clone();
    let timeout = obj.spec.timeout().max(Duration::from_secs(1));
    std::fs::create_dir_all(&ctx.work_dir).map_err(|e| {
        bucket_failure(format!("failed to create temporary working directory: {e}"))
    })?;
    let tmp = tempfile::Builder::new()
        .prefix(&format!(
            "bucket-{}-{}-",
            obj.namespace().unwrap_or_default(),
            obj.name_any()
        ))
        .tempdir_in(&ctx.work_dir)
        .map_err(|e| {
            bucket_failure(format!("failed to create temporary working directory: {e}"))
        })?;
    let dir = tmp.path().to_path_buf();

    let mut index = with_timeout(
        timeout,
        &format!("indexation of objects from bucket '{bucket}' failed"),
        build_index(obj, &client, &dir, ctx.max_size),
    )
    .await?;
    let revision = index_revision(&index);
    if let Some(prev) = previous.filter(|p| p.revision == revision) {
        return Ok((prev.clone(), index.len()));
    }

    with_timeout(
        timeout,
        &format!("fetch from bucket '{bucket}' failed"),
        download(&client, &bucket, &dir, &mut index, ctx.max_size),
    )
    .await?;
    // Objects may have changed or vanished since the listing: the revision follows what was
    // actually downloaded, as in Flux.
    let revision = index_revision(&index);
    let files = index.len();

    let storage = ctx.storage.clone();
    let namespace = obj.namespace().unwrap_or_default();
    let name = obj.name_any();
    let job = tokio::task::spawn_blocking(move || -> Result<Artifact, StepFailure> {
        let archive_failure =
            |m: String| StepFailure::new(STORAGE_OPERATION_FAILED, "ArchiveOperationFailed", m);
        // The listing already applied the ignore rules; the archive holds every downloaded
        // file, as Flux archives a Bucket's directory without a filter.
        let rules = IgnoreRules::load(&dir, Some("!*"))
            .map_err(|e| archive_failure(format!("unable to archive artifact to storage: {e}")))?;
        let mut out = Vec::new();
        flux_artifact::pack_dir(&dir, &rules, &mut out)
            .map_err(|e| archive_failure(format!("unable to archive artifact to storage: {e}")))?;
        drop(tmp);
        let owner = Owner {
            kind: KIND,
            namespace: &namespace,
            name: &name,
        };
        let hex = revision.trim_start_matches("sha256:");
        let stored = storage
            .store(&owner, &format!("{hex}.tar.gz"), &out)
            .map_err(|e| archive_failure(format!("unable to save artifact to storage: {e}")))?;
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
    let artifact = job.await.map_err(|e| {
        StepFailure::new(
            STORAGE_OPERATION_FAILED,
            STORAGE_OPERATION_FAILED,
            e.to_string(),
        )
    })??;
    Ok((artifact, files))
}

/// Confirms the bucket, reads its `.sourceignore` into `dir` and lists the kept objects.
async fn build_index(
    obj: &Bucket,
    client: &aws_sdk_s3::Client,
    dir: &Path,
    max_size: u64,
) -> Result<BTreeMap<String, String>, StepFailure> {
    let bucket = &obj.spec.bucket_name;
    if let Err(e) = client.head_bucket().bucket(bucket).send().await {
        if e.as_service_error().is_some_and(|s| s.is_not_found()) {
            return Err(bucket_failure(format!("bucket '{bucket}' not found")));
        }
        return Err(bucket_failure(format!(
            "failed to confirm existence of '{bucket}' bucket: {}",
            describe(&e)
        )));
    }

    let sourceignore = match client
        .get_object()
        .bucket(bucket)
        .key(SOURCEIGNORE_FILE)
        .send()
        .await
    {
        Ok(out) => {
            let mut body = Vec::new();
            let mut stream = out.body;
            while let Some(chunk) = stream.try_next().await.map_err(|e| {
                bucket_failure(format!("failed to get '{SOURCEIGNORE_FILE}' object: {e}"))
            })? {
                body.extend_from_slice(&chunk);
                if body.len() as u64 > max_size {
                    return Err(bucket_failure(format!(
                        "'{SOURCEIGNORE_FILE}' object is larger than the limit of {max_size} bytes"
                    )));
                }
            }
            // Flux archives the downloaded `.sourceignore` with the objects.
            std::fs::write(dir.join(SOURCEIGNORE_FILE), &body).map_err(|e| {
                bucket_failure(format!("failed to write '{SOURCEIGNORE_FILE}': {e}"))
            })?;
            Some(String::from_utf8_lossy(&body).into_owned())
        }
        Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => None,
        Err(e) => {
            return Err(bucket_failure(format!(
                "failed to get Etag for '{SOURCEIGNORE_FILE}' object: {}",
                describe(&e)
            )));
        }
    };
    let matcher = ignore_matcher(dir, sourceignore.as_deref(), obj.spec.ignore.as_deref())?;

    let mut index = BTreeMap::new();
    let mut total: u64 = 0;
    let mut pages = client
        .list_objects_v2()
        .bucket(bucket)
        .set_prefix(obj.spec.prefix.clone().filter(|p| !p.is_empty()))
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| {
            bucket_failure(format!(
                "indexation of objects from bucket '{bucket}' failed: {}",
                describe(&e)
            ))
        })?;
        for object in page.contents() {
            let Some(key) = object.key() else { continue };
            if key.ends_with('/') || key == SOURCEIGNORE_FILE {
                continue;
            }
            // Matched as a relative path even when hostile, so a rule can also exclude it.
            let rel = key.trim_start_matches('/');
            if !rel.is_empty() && matcher.matched_path_or_any_parents(rel, false).is_ignore() {
                continue;
            }
            if !safe_key(key) {
                return Err(bucket_failure(format!(
                    "object key '{key}' in bucket '{bucket}' is not a safe relative path (absolute, empty, '.' or '..' segments); exclude it with spec.ignore or rename it"
                )));
            }
            let size = u64::try_from(object.size().unwrap_or(0)).unwrap_or(0);
            total = total.saturating_add(size);
            if total > max_size {
                return Err(bucket_failure(format!(
                    "objects in bucket '{bucket}' exceed the size limit of {max_size} bytes"
                )));
            }
            let etag = object
                .e_tag()
                .unwrap_or_default()
                .trim_matches('"')
                .to_string();
            index.insert(key.to_string(), etag);
        }
    }
    Ok(index)
}

/// Downloads every indexed object into `dir`, bounded in concurrency and total size; updates
/// the index with the etags served and drops objects deleted since the listing.
async fn download(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    dir: &Path,
    index: &mut BTreeMap<String, String>,
    max_size: u64,
) -> Result<(), StepFailure> {
    let total = Arc::new(AtomicU64::new(0));
    // Owned futures: the controller needs `Send` futures, which borrowed closures defeat.
    let jobs: Vec<_> = index
        .keys()
        .map(|key| {
            fetch_object(
                client.clone(),
                bucket.to_string(),
                dir.to_path_buf(),
                key.clone(),
                total.clone(),
                max_size,
            )
        })
        .collect();
    let fetched: Vec<(String, Option<String>)> = futures::stream::iter(jobs)
        .buffer_unordered(CONCURRENT_DOWNLOADS)
        .try_collect()
        .await?;
    for (key, etag) in fetched {
        match etag {
            None => {
                index.remove(&key);
            }
            Some(etag) if !etag.is_empty() => {
                if let Some(listed) = index.get_mut(&key) {
                    *listed = etag;
                }
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// One object into `dir/key`; `None` when it was deleted since the listing.
async fn fetch_object(
    client: aws_sdk_s3::Client,
    bucket: String,
    dir: PathBuf,
    key: String,
    total: Arc<AtomicU64>,
    max_size: u64,
) -> Result<(String, Option<String>), StepFailure> {
    let out = match client.get_object().bucket(&bucket).key(&key).send().await {
        Ok(out) => out,
        Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => {
            tracing::info!(key, bucket, "indexed object disappeared from bucket");
            return Ok((key, None));
        }
        Err(e) => {
            return Err(bucket_failure(format!(
                "fetch from bucket '{bucket}' failed: failed to get '{key}' object: {}",
                describe(&e)
            )));
        }
    };
    let etag = out.e_tag().map(|t| t.trim_matches('"').to_string());
    let path = dir.join(&key);
    let io = |e: std::io::Error| {
        bucket_failure(format!(
            "fetch from bucket '{bucket}' failed: failed to write '{key}' object: {e}"
        ))
    };
    if let Some(parent) = path.parent() {
        tokio::fs::create_dir_all(parent).await.map_err(io)?;
    }
    let mut file = tokio::fs::File::create(&path).await.map_err(io)?;
    let mut body = out.body;
    loop {
        let chunk = match body.try_next().await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => break,
            Err(e) => {
                return Err(bucket_failure(format!(
                    "fetch from bucket '{bucket}' failed: failed to get '{key}' object: {e}"
                )));
            }
        };
        let len = chunk.len() as u64;
        if total.fetch_add(len, Ordering::Relaxed) + len > max_size {
            return Err(bucket_failure(format!(
                "objects in bucket '{bucket}' exceed the size limit of {max_size} bytes"
            )));
        }
        file.write_all(&chunk).await.map_err(io)?;
    }
    file.flush().await.map_err(io)?;
    Ok((key, Some(etag.unwrap_or_default())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revision_is_the_digest_of_sorted_key_etag_lines() {
        let index = BTreeMap::from([
            ("b.yaml".to_string(), "2".to_string()),
            ("a.yaml".to_string(), "1".to_string()),
        ]);
        assert_eq!(
            index_revision(&index),
            flux_artifact::digest(b"a.yaml 1\nb.yaml 2\n")
        );
    }

    #[test]
    fn keys_that_could_leave_the_download_directory_are_unsafe() {
        for bad in ["../x", "a/../../x", "/etc/passwd", "a//b", "./a", "a/.", ""] {
            assert!(!safe_key(bad), "{bad}");
        }
        for good in ["a", "apps/app.yaml", "..a/b..", "a/.hidden"] {
            assert!(safe_key(good), "{good}");
        }
    }

    #[test]
    fn bucket_ignore_rules_have_no_default_exclusions_and_match_parents() {
        let dir = tempfile::tempdir().expect("tempdir");
        let m = ignore_matcher(dir.path(), Some("drafts/\n"), Some("*.md\n!keep.md\n"))
            .expect("matcher");
        let ignored = |k: &str| m.matched_path_or_any_parents(k, false).is_ignore();
        assert!(ignored("drafts/x/y.yaml"));
        assert!(ignored("docs/readme.md"));
        assert!(!ignored("keep.md"));
        assert!(!ignored("logo.png"), "no default exclusions for buckets");
        assert!(!ignored(".github/workflow.yaml"));
    }

    #[test]
    fn everything_downloaded_is_archived() {
        let dir = tempfile::tempdir().expect("tempdir");
        for f in [".git/config", "logo.png", "a/.sourceignore", "a/b.yaml"] {
            let p = dir.path().join(f);
            std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            std::fs::write(p, "*\n").expect("write");
        }
        let rules = IgnoreRules::load(dir.path(), Some("!*")).expect("rules");
        let mut out = Vec::new();
        let stats = flux_artifact::pack_dir(dir.path(), &rules, &mut out).expect("pack");
        assert_eq!(stats.files, 4);
    }

    #[test]
    fn endpoints_get_https_unless_insecure() {
        assert_eq!(
            endpoint_url("s3.example.com", false),
            "https://s3.example.com"
        );
        assert_eq!(
            endpoint_url("127.0.0.1:9000", true),
            "http://127.0.0.1:9000"
        );
        assert_eq!(
            endpoint_url("http://minio:9000/", false),
            "http://minio:9000"
        );
    }
}
