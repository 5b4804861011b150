//! GitRepository reconciler: fetch the reference with gix, package the tree as a deterministic
//! artifact, store and serve it, and report Flux's conditions and events.
//!
//! The steps follow Flux's source-controller: read credentials, check out, package (skipped when
//! the revision and ignore rules are unchanged and the stored artifact still verifies), store,
//! garbage-collect, then summarise the conditions and patch the status once.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use flux_api::meta::{
    ARTIFACT_IN_STORAGE, Artifact, FETCH_FAILED, INCLUDE_UNAVAILABLE, SOURCE_VERIFIED,
    STORAGE_OPERATION_FAILED, SUCCEEDED_REASON, VERIFICATION_ERROR_REASON,
};
use flux_api::source::v1::{GitRepository, GitRepositoryStatus, GitVerificationMode};
use flux_artifact::{IgnoreRules, Owner, Storage, UnpackLimits};
use flux_git::{Auth, CheckoutOptions, GitRef, Keyring, VerifyMode};
use flux_runtime::conditions::{self, Status};
use flux_runtime::controller::{self as runtime, Error};
use flux_runtime::events::{Recorder, Severity};
use flux_runtime::reconcile::{Backoff, jitter, patch_status, requested_at};
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::jiff::Timestamp;
use kube::api::Api;
use kube::runtime::controller::Action;
use kube::runtime::reflector::ObjectRef;
use kube::{Resource, ResourceExt};

use crate::source_status::remove_artifacts;

/// Flux's reasons for GitRepository failures.
pub const GIT_OPERATION_FAILED_REASON: &str = "GitOperationFailed";
pub const AUTHENTICATION_FAILED_REASON: &str = "AuthenticationFailed";
pub const NEW_ARTIFACT_REASON: &str = "NewArtifact";

/// Everything the reconciler needs besides the object.
pub struct Context {
    pub client: kube::Client,
    pub storage: Storage,
    pub recorder: Recorder,
    /// Bare repository caches, one per GitRepository.
    pub cache_root: PathBuf,
    /// Largest checked-out tree accepted.
    pub max_tree_size: u64,
    pub jitter_percent: u32,
    pub backoff: Backoff,
}

/// Runs the GitRepository controller until `shutdown` resolves.
pub async fn run(
    ctx: Arc<Context>,
    namespace: Option<&str>,
    label_selector: Option<&str>,
    concurrency: u16,
    shutdown: impl std::future::Future<Output = ()> + Send + Sync + 'static,
) {
    let api: Api<GitRepository> = runtime::api(&ctx.client, namespace);
    let config = runtime::watcher_config(label_selector);
    let controller = runtime::controller_for(api.clone(), config.clone());
    let store = controller.store();
    // A new artifact of an included repository must reach every repository including it.
    let includers = move |dep: GitRepository| {
        let (namespace, name) = owner(&dep);
        store
            .state()
            .into_iter()
            .filter(|o| {
                o.namespace().unwrap_or_default() == namespace
                    && o.spec.include.iter().any(|i| i.repository.name == name)
            })
            .map(|o| ObjectRef::from_obj(&*o))
            .collect::<Vec<_>>()
    };
    let controller = controller.watches(api, config, includers);
    runtime::drive(
        controller,
        "GitRepository",
        concurrency,
        shutdown,
        reconcile,
        error_policy,
        ctx,
    )
    .await;
}

fn error_policy(obj: Arc<GitRepository>, _err: &Error, ctx: Arc<Context>) -> Action {
    runtime::requeue_after_failure(&ctx.backoff, obj.as_ref())
}

pub async fn reconcile(obj: Arc<GitRepository>, ctx: Arc<Context>) -> Result<Action, Error> {
    let namespace = obj.namespace().unwrap_or_default();
    let api: Api<GitRepository> = Api::namespaced(ctx.client.clone(), &namespace);
    let (ctx, objects) = (ctx.as_ref(), &api);
    runtime::with_finalizer(
        &api,
        obj,
        |obj| async move { apply(&obj, ctx, objects).await },
        |obj| async move { cleanup(&obj, ctx) },
    )
    .await
}

fn owner(obj: &GitRepository) -> (String, String) {
    (obj.namespace().unwrap_or_default(), obj.name_any())
}

fn cleanup(obj: &GitRepository, ctx: &Context) -> Result<Action, Error> {
    let action = remove_artifacts(&ctx.storage, "gitrepository", obj)?;
    let (namespace, name) = owner(obj);
    let _ = std::fs::remove_dir_all(ctx.cache_root.join(&namespace).join(&name));
    Ok(action)
}

/// A failure of one step: what goes into the conditions and the event.
struct StepFailure {
    condition: &'static str,
    reason: &'static str,
    message: String,
    /// Retrying cannot help until the spec changes.
    stalled: bool,
}

async fn apply(
    obj: &GitRepository,
    ctx: &Context,
    api: &Api<GitRepository>,
) -> Result<Action, Error> {
    let name = obj.name_any();
    if obj.spec.suspend {
        tracing::info!(name, "reconciliation is suspended for this object");
        return Ok(Action::await_change());
    }
    let generation = obj.meta().generation;
    let mut status: GitRepositoryStatus = obj.status.clone().unwrap_or_default();
    if let Some(at) = requested_at(obj.meta()) {
        status.reconcile_request.last_handled_reconcile_at = Some(at.to_string());
    }
    let interval = obj.spec.interval.to_std();
    let object_ref = obj.object_ref(&());

    let outcome = fetch_and_store(obj, ctx, &status).await;
    let now = Timestamp::now();
    match outcome {
        Ok(stored) => {
            let message = format!(
                "stored artifact for revision '{}'",
                stored.artifact.revision
            );
            let changed =
                status.artifact.as_ref().map(|a| &a.revision) != Some(&stored.artifact.revision);
            status.artifact = Some(stored.artifact.clone());
            status.observed_ignore = obj.spec.ignore.clone();
            status.included_artifacts = stored.included;
            status.observed_include = obj.spec.include.clone();
            status.observed_recurse_submodules = obj.spec.recurse_submodules;
            status.observed_sparse_checkout = obj.spec.sparse_checkout.clone();
            match (&obj.spec.verification, &stored.verified) {
                (None, _) => {
                    status.source_verification_mode = None;
                    conditions::remove(&mut status.conditions, SOURCE_VERIFIED);
                }
                (Some(v), Some(message)) => {
                    status.source_verification_mode = Some(verify_mode(v.mode).1);
                    conditions::set(
                        &mut status.conditions,
                        SOURCE_VERIFIED,
                        Status::True,
                        SUCCEEDED_REASON,
                        message,
                        generation,
                        now,
                    );
                }
                // The artifact was kept: what was verified for it still holds.
                (Some(_), None) => {}
            }
            conditions::remove(&mut status.conditions, INCLUDE_UNAVAILABLE);
            conditions::remove(&mut status.conditions, FETCH_FAILED);
            conditions::remove(&mut status.conditions, STORAGE_OPERATION_FAILED);
            conditions::set(
                &mut status.conditions,
                ARTIFACT_IN_STORAGE,
                Status::True,
                SUCCEEDED_REASON,
                &message,
                generation,
                now,
            );
            conditions::mark_ready(
                &mut status.conditions,
                generation,
                SUCCEEDED_REASON,
                &message,
                now,
            );
            status.observed_generation = generation;
            patch_status(api, &name, &status).await?;
            ctx.backoff.succeeded(&runtime::object_key(obj));
            if changed {
                let meta = BTreeMap::from([("revision".to_string(), stored.artifact.revision)]);
                let text = format!("stored artifact for commit '{}'", stored.subject);
                ctx.recorder
                    .record(
                        &object_ref,
                        Severity::Info,
                        NEW_ARTIFACT_REASON,
                        &text,
                        meta,
                    )
                    .await;
            }
            Ok(Action::requeue(jitter(interval, ctx.jitter_percent)))
        }
        Err(failure) => {
            // SourceVerified is the one positive-polarity condition a step can fail.
            let polarity = if failure.condition == SOURCE_VERIFIED {
                Status::False
            } else {
                Status::True
            };
            conditions::set(
                &mut status.conditions,
                failure.condition,
                polarity,
                failure.reason,
                &failure.message,
                generation,
                now,
            );
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
            ctx.recorder
                .record(
                    &object_ref,
                    Severity::Error,
                    failure.reason,
                    &failure.message,
                    BTreeMap::new(),
                )
                .await;
            if failure.stalled {
                return Ok(Action::await_change());
            }
            Err(Error::Reconcile {
                reason: failure.reason.to_string(),
                message: failure.message,
            })
        }
    }
}

struct StoredRevision {
    artifact: Artifact,
    subject: String,
    included: Vec<Artifact>,
    /// SourceVerified's message when the commit was (re)verified.
    verified: Option<String>,
}

/// `spec.verify.mode` for flux-git, and as recorded in the status (`head` is spelled `HEAD`).
fn verify_mode(mode: Option<GitVerificationMode>) -> (VerifyMode, GitVerificationMode) {
    match mode.unwrap_or(GitVerificationMode::Head) {
        GitVerificationMode::Head | GitVerificationMode::LegacyHead => {
            (VerifyMode::Head, GitVerificationMode::Head)
        }
        GitVerificationMode::Tag => (VerifyMode::Tag, GitVerificationMode::Tag),
        GitVerificationMode::TagAndHEAD => {
            (VerifyMode::TagAndHead, GitVerificationMode::TagAndHEAD)
        }
    }
}

/// Flux's `requiresVerification`: never verified, or verified for a mode that did not cover
/// what the spec asks now. A failed verification also counts, so that a stale False condition
/// cannot outlive a return to the verified commit.
fn requires_verification(obj: &GitRepository, status: &GitRepositoryStatus) -> bool {
    let Some(v) = &obj.spec.verification else {
        return false;
    };
    if !conditions::is_true(&status.conditions, SOURCE_VERIFIED) {
        return true;
    }
    let (_, want) = verify_mode(v.mode);
    match status
        .source_verification_mode
        .map(|m| verify_mode(Some(m)).1)
    {
        None => true,
        Some(GitVerificationMode::Tag) => want != GitVerificationMode::Tag,
        Some(GitVerificationMode::Head) => want != GitVerificationMode::Head,
        Some(_) => false,
    }
}

/// Reads the trusted public keys from `spec.verify.secretRef` (every value may hold keys).
async fn read_keyring(
    obj: &GitRepository,
    ctx: &Context,
    namespace: &str,
) -> Result<Option<(VerifyMode, Keyring)>, StepFailure> {
    let Some(v) = &obj.spec.verification else {
        return Ok(None);
    };
    let failed = |message: String| StepFailure {
        condition: SOURCE_VERIFIED,
        reason: VERIFICATION_ERROR_REASON,
        message: format!("PGP public keys secret error: {message}"),
        stalled: false,
    };
    let name = &v.secret_ref.name;
    let secret = Api::<Secret>::namespaced(ctx.client.clone(), namespace)
        .get_opt(name)
        .await
        .map_err(|e| failed(e.to_string()))?
        .ok_or_else(|| failed(format!("secrets \"{name}\" not found")))?;
    let values: Vec<Vec<u8>> = (secret.data.unwrap_or_default().into_values().map(|v| v.0))
        .chain((secret.string_data.unwrap_or_default().into_values()).map(String::into_bytes))
        .collect();
    let keys = flux_git::parse_keyrings(&values).map_err(|e| failed(e.to_string()))?;
    Ok(Some((verify_mode(v.mode).0, keys)))
}

/// One `spec.include` entry, resolved: the included artifact and where its contents go.
struct Include {
    name: String,
    from: PathBuf,
    to: PathBuf,
    artifact: Artifact,
}

/// `path` as a relative path below the tree. Flux joins include paths so that they stay inside
/// the tree; a path that tries to leave it is refused rather than silently clamped.
fn tree_relative(path: &str) -> Result<PathBuf, String> {
    let mut out = PathBuf::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => return Err(format!("path '{path}' must not leave the repository tree")),
            part => out.push(part),
        }
    }
    Ok(out)
}

/// Validates the include paths, then reads each included GitRepository's current artifact.
async fn resolve_includes(
    obj: &GitRepository,
    ctx: &Context,
    namespace: &str,
) -> Result<Vec<Include>, StepFailure> {
    let api: Api<GitRepository> = Api::namespaced(ctx.client.clone(), namespace);
    let unavailable = |reason, message, stalled| StepFailure {
        condition: INCLUDE_UNAVAILABLE,
        reason,
        message,
        stalled,
    };
    let mut out = Vec::new();
    for include in &obj.spec.include {
        let name = include.repository.name.clone();
        let illegal = |e: String| {
            unavailable(
                "IllegalPath",
                format!("path calculation for include '{name}' failed: {e}"),
                true,
            )
        };
        let from =
            tree_relative(include.from_path.as_deref().unwrap_or_default()).map_err(illegal)?;
        let to = tree_relative(include.to_path()).map_err(illegal)?;
        if to.as_os_str().is_empty() {
            return Err(illegal(
                "toPath must name a directory below the repository root".into(),
            ));
        }
        let not_found = |e: String| {
            unavailable(
                "NotFound",
                format!("could not get resource for include '{name}': {e}"),
                false,
            )
        };
        let dep = api
            .get_opt(&name)
            .await
            .map_err(|e| not_found(e.to_string()))?
            .ok_or_else(|| not_found(format!("gitrepositories \"{name}\" not found")))?;
        let artifact = dep.status.and_then(|s| s.artifact).ok_or_else(|| {
            unavailable(
                "NoArtifact",
                format!("no artifact available for include '{name}'"),
                false,
            )
        })?;
        out.push(Include {
            name,
            from,
            to,
            artifact,
        });
    }
    Ok(out)
}

/// Unpacks each included artifact and moves its `from` part to `to` in the checked-out tree.
fn copy_includes(
    storage: &Storage,
    work: &Path,
    tree: &Path,
    includes: &[Include],
) -> Result<(), StepFailure> {
    for include in includes {
        let failed = |e: String| StepFailure {
            condition: INCLUDE_UNAVAILABLE,
            reason: "CopyFailure",
            message: format!(
                "failed to copy '{}' include from '{}' to '{}': {e}",
                include.name,
                include.from.display(),
                include.to.display()
            ),
            stalled: false,
        };
        let archive = storage
            .resolve(&include.artifact.path)
            .ok_or_else(|| format!("artifact '{}' is not in storage", include.artifact.path))
            .and_then(|path| std::fs::read(path).map_err(|e| e.to_string()))
            .map_err(failed)?;
        let unpacked = tempfile::tempdir_in(work).map_err(|e| failed(e.to_string()))?;
        flux_artifact::unpack(&archive, unpacked.path(), UnpackLimits::default())
            .map_err(|e| failed(e.to_string()))?;
        // The checkout may hold symlinks; following one would write outside the tree.
        let mut dest = tree.to_path_buf();
        for part in include.to.components() {
            dest.push(part);
            if std::fs::symlink_metadata(&dest).is_ok_and(|m| m.file_type().is_symlink()) {
                return Err(failed(format!(
                    "'{}' is a symlink in the repository",
                    dest.strip_prefix(tree).unwrap_or(&dest).display()
                )));
            }
        }
        match std::fs::symlink_metadata(&dest) {
            Ok(m) if m.is_dir() => std::fs::remove_dir_all(&dest),
            Ok(_) => std::fs::remove_file(&dest),
            Err(_) => Ok(()),
        }
        .and_then(|()| std::fs::create_dir_all(dest.parent().unwrap_or(tree)))
        .and_then(|()| std::fs::rename(unpacked.path().join(&include.from), &dest))
        .map_err(|e| failed(e.to_string()))?;
    }
    Ok(())
}

async fn fetch_and_store(
    obj: &GitRepository,
    ctx: &Context,
    status: &GitRepositoryStatus,
) -> Result<StoredRevision, StepFailure> {
    let (namespace, name) = owner(obj);
    let includes = resolve_includes(obj, ctx, &namespace).await?;
    let auth = read_auth(obj, ctx, &namespace).await?;
    let verification = read_keyring(obj, ctx, &namespace).await?;
    let reference = obj
        .spec
        .reference
        .as_ref()
        .map(|r| GitRef {
            branch: r.branch.clone(),
            tag: r.tag.clone(),
            semver: r.semver.clone(),
            name: r.name.clone(),
            commit: r.commit.clone(),
        })
        .unwrap_or_default();
    let opts = CheckoutOptions {
        url: obj.spec.url.clone(),
        reference,
        auth,
        max_size: ctx.max_tree_size,
        recurse_submodules: obj.spec.recurse_submodules,
        sparse_checkout: obj.spec.sparse_checkout.clone(),
    };
    let cache = ctx.cache_root.join(&namespace).join(&name);
    let work = ctx.cache_root.join(".work");
    let storage = ctx.storage.clone();
    let previous = status.artifact.clone();
    // Flux's gitContentConfigChanged: any change to what goes into the artifact rebuilds it
    // even when the commit is the same.
    let content_unchanged = status.observed_ignore == obj.spec.ignore
        && status.observed_recurse_submodules == obj.spec.recurse_submodules
        && status.observed_sparse_checkout == obj.spec.sparse_checkout
        && !requires_verification(obj, status);
    // Revisions, not digests, as in Flux: repositories including each other then settle
    // instead of rebuilding one another forever.
    let includes_unchanged = status.observed_include == obj.spec.include
        && status.included_artifacts.len() == includes.len()
        && (status.included_artifacts.iter())
            .zip(&includes)
            .all(|(seen, now)| seen.revision == now.artifact.revision);
    let spec_ignore = obj.spec.ignore.clone();
    let timeout = obj.spec.timeout();

    let job = tokio::task::spawn_blocking(move || {
        checkout_and_package(
            (&cache, &work),
            &opts,
            &storage,
            (&namespace, &name),
            previous.filter(|_| content_unchanged && includes_unchanged),
            spec_ignore.as_deref(),
            (&includes, verification.as_ref()),
        )
        .map(|stored| StoredRevision {
            included: includes.into_iter().map(|i| i.artifact).collect(),
            ..stored
        })
    });
    match tokio::time::timeout(timeout.max(Duration::from_secs(1)), job).await {
        Ok(Ok(result)) => result,
        Ok(Err(join)) => Err(StepFailure {
            condition: STORAGE_OPERATION_FAILED,
            reason: STORAGE_OPERATION_FAILED,
            message: format!("checkout task failed: {join}"),
            stalled: false,
        }),
        Err(_) => Err(StepFailure {
            condition: FETCH_FAILED,
            reason: GIT_OPERATION_FAILED_REASON,
            message: format!("git operation timed out after {timeout:?}"),
            stalled: false,
        }),
    }
}

async fn read_auth(
    obj: &GitRepository,
    ctx: &Context,
    namespace: &str,
) -> Result<Auth, StepFailure> {
    let Some(secret_ref) = &obj.spec.secret_ref else {
        return Ok(Auth::default());
    };
    let secrets: Api<Secret> = Api::namespaced(ctx.client.clone(), namespace);
    let secret = secrets
        .get_opt(&secret_ref.name)
        .await
        .map_err(|e| StepFailure {
            condition: FETCH_FAILED,
            reason: AUTHENTICATION_FAILED_REASON,
            message: format!(
                "failed to get secret '{namespace}/{}': {e}",
                secret_ref.name
            ),
            stalled: false,
        })?;
    let secret = secret.ok_or_else(|| StepFailure {
        condition: FETCH_FAILED,
        reason: AUTHENTICATION_FAILED_REASON,
        message: format!(
            "failed to get secret '{namespace}/{}': secrets \"{}\" not found",
            secret_ref.name, secret_ref.name
        ),
        stalled: false,
    })?;
    let data: BTreeMap<String, Vec<u8>> = secret
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
        .collect();
    Ok(Auth::from_secret_data(&data))
}

/// The blocking part: ls-remote, and unless the stored artifact is still the right one, check
/// out, package and store.
fn checkout_and_package(
    (cache, work): (&Path, &Path),
    opts: &CheckoutOptions,
    storage: &Storage,
    (namespace, name): (&str, &str),
    previous: Option<Artifact>,
    spec_ignore: Option<&str>,
    (includes, verification): (&[Include], Option<&(VerifyMode, Keyring)>),
) -> Result<StoredRevision, StepFailure> {
    let git_failure = |e: flux_git::Error| {
        let (reason, stalled) = match &e {
            flux_git::Error::Authentication { .. }
            | flux_git::Error::InsecureCredentials { .. } => (AUTHENTICATION_FAILED_REASON, false),
            flux_git::Error::InvalidUrl { .. }
            | flux_git::Error::UnsupportedScheme(_)
            | flux_git::Error::InvalidSemver { .. }
            | flux_git::Error::InvalidCommit(_) => ("InvalidURL", true),
            _ => (GIT_OPERATION_FAILED_REASON, false),
        };
        StepFailure {
            condition: FETCH_FAILED,
            reason,
            message: e.to_string(),
            stalled,
        }
    };
    let storage_failure = |message: String| StepFailure {
        condition: STORAGE_OPERATION_FAILED,
        reason: STORAGE_OPERATION_FAILED,
        message,
        stalled: false,
    };

    if let Some(prev) = &previous {
        let refs = flux_git::list_remote_refs(cache, &opts.url, &opts.auth, &opts.reference)
            .map_err(git_failure)?;
        let resolved = opts
            .reference
            .resolve(&refs, &opts.url)
            .map_err(git_failure)?;
        if resolved.revision() == prev.revision
            && prev
                .digest
                .as_deref()
                .is_some_and(|d| storage.verify(&prev.path, d))
        {
            return Ok(StoredRevision {
                artifact: prev.clone(),
                subject: String::new(),
                included: Vec::new(),
                verified: None,
            });
        }
    }

    std::fs::create_dir_all(work).map_err(|e| storage_failure(e.to_string()))?;
    let tree = tempfile::tempdir_in(work).map_err(|e| storage_failure(e.to_string()))?;
    let checkout = flux_git::checkout(cache, tree.path(), opts).map_err(git_failure)?;
    // Before anything is stored: a commit that fails verification leaves the last artifact.
    let verified = verification
        .map(|(mode, keys)| {
            flux_git::verify(
                cache,
                &checkout.commit,
                checkout.tag.as_deref(),
                *mode,
                keys,
            )
        })
        .transpose()
        .map_err(|e| StepFailure {
            condition: SOURCE_VERIFIED,
            reason: e.reason(),
            stalled: matches!(e, flux_git::VerifyError::InvalidMode),
            message: e.to_string(),
        })?;
    copy_includes(storage, work, tree.path(), includes)?;
    let rules = IgnoreRules::load(tree.path(), spec_ignore).map_err(|e| StepFailure {
        condition: STORAGE_OPERATION_FAILED,
        reason: STORAGE_OPERATION_FAILED,
        message: e.to_string(),
        stalled: false,
    })?;
    let mut archive = Vec::new();
    flux_artifact::pack_dir(tree.path(), &rules, &mut archive)
        .map_err(|e| storage_failure(format!("failed to archive the checkout: {e}")))?;
    let owner = Owner {
        kind: "gitrepository",
        namespace,
        name,
    };
    let file = format!("{}.tar.gz", checkout.commit);
    let stored = storage
        .store(&owner, &file, &archive)
        .map_err(|e| storage_failure(format!("failed to store artifact: {e}")))?;
    if let Err(e) = storage.garbage_collect(&owner, &stored.path) {
        tracing::warn!(error = %e, "artifact garbage collection failed");
    }
    Ok(StoredRevision {
        artifact: Artifact {
            path: stored.path,
            url: stored.url,
            revision: checkout.revision,
            digest: Some(stored.digest),
            last_update_time: k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(Timestamp::now()),
            size: i64::try_from(stored.size).ok(),
            metadata: BTreeMap::new(),
        },
        subject: checkout.message,
        included: Vec::new(),
        verified,
    })
}
