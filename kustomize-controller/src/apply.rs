//! Server-side apply of a Kustomization's objects in Flux's stages, prune of stale objects, and
//! the health wait, against any Kubernetes API server through kube's dynamic API.
//!
//! Each stage (cluster definitions first, then everything else) is dry-run whole before any of
//! it is applied, so a bad object, a denied write or an invalid field fails the stage before
//! it changes anything.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use flux_kstatus::{CustomHealthChecks, HealthCheckExpr};
use kube::api::{Api, DeleteParams, DynamicObject, Patch, PatchParams};
use kube::core::GroupVersionKind;
use kube::discovery::{ApiResource, Scope};
use serde_json::Value;

use crate::inventory::ObjMeta;

/// Field manager of every apply.
pub const FIELD_MANAGER: &str = "kustomize-controller";
pub const NAME_LABEL: &str = "kustomize.toolkit.fluxcd.io/name";
pub const NAMESPACE_LABEL: &str = "kustomize.toolkit.fluxcd.io/namespace";
pub const SSA_ANNOTATION: &str = "kustomize.toolkit.fluxcd.io/ssa";
pub const PRUNE_ANNOTATION: &str = "kustomize.toolkit.fluxcd.io/prune";
pub const FORCE_ANNOTATION: &str = "kustomize.toolkit.fluxcd.io/force";
pub const RECONCILE_ANNOTATION: &str = flux_api::meta::RECONCILE_ANNOTATION;

/// What an apply did to one object, in Flux's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Created,
    Configured,
    Unchanged,
    Skipped,
    Deleted,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Created => "created",
            Action::Configured => "configured",
            Action::Unchanged => "unchanged",
            Action::Skipped => "skipped",
            Action::Deleted => "deleted",
        }
    }
}

/// One line of a change set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub object: ObjMeta,
    pub action: Action,
}

impl Change {
    /// `Deployment/default/web created`.
    pub fn line(&self) -> String {
        format!("{} {}", self.object.display(), self.action.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("{object} dry-run failed ({reason}): {message}")]
    DryRun {
        object: String,
        reason: String,
        message: String,
    },
    #[error("{object} apply failed ({reason}): {message}")]
    Apply {
        object: String,
        reason: String,
        message: String,
    },
    #[error("{0}")]
    Invalid(String),
    #[error("{object} delete failed: {message}")]
    Delete { object: String, message: String },
    #[error("{0}")]
    Timeout(String),
}

fn api_reason(e: &kube::Error) -> (String, String) {
    match e {
        kube::Error::Api(status) => {
            let reason = if status.reason.is_empty() {
                status.code.to_string()
            } else {
                status.reason.clone()
            };
            (reason, status.message.clone())
        }
        other => ("Error".to_string(), other.to_string()),
    }
}

fn is_not_found(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 404)
}

/// True for kinds Flux applies in the first stage (cluster definitions).
pub fn is_cluster_definition(kind: &str) -> bool {
    matches!(
        kind,
        "CustomResourceDefinition"
            | "Namespace"
            | "ClusterRole"
            | "ClusterRoleBinding"
            | "StorageClass"
            | "PriorityClass"
            | "IngressClass"
            | "RuntimeClass"
    )
}

fn annotation<'a>(obj: &'a Value, key: &str) -> Option<&'a str> {
    obj.pointer("/metadata/annotations")
        .and_then(|a| a.get(key))
        .and_then(Value::as_str)
}

fn label<'a>(obj: &'a Value, key: &str) -> Option<&'a str> {
    obj.pointer("/metadata/labels")
        .and_then(|a| a.get(key))
        .and_then(Value::as_str)
}

fn in_metadata(obj: &Value, key: &str, value: &str) -> bool {
    annotation(obj, key).is_some_and(|v| v.eq_ignore_ascii_case(value))
        || label(obj, key).is_some_and(|v| v.eq_ignore_ascii_case(value))
}

/// Objects the controller must not touch: `reconcile: disabled` or `ssa: Ignore`.
fn excluded(obj: &Value) -> bool {
    in_metadata(obj, RECONCILE_ANNOTATION, "disabled") || in_metadata(obj, SSA_ANNOTATION, "Ignore")
}

/// Resolves kinds to API resources, caching the answers.
pub struct Resolver {
    /// Discovery is read with the controller's own identity (it is not a privileged read).
    discovery: kube::Client,
    cache: HashMap<(String, String, String), (ApiResource, bool)>,
}

impl Resolver {
    pub fn new(discovery: kube::Client) -> Resolver {
        Resolver {
            discovery,
            cache: HashMap::new(),
        }
    }

    /// The group and preferred version serving `kind`, for references without an apiVersion.
    pub async fn preferred(&self, kind: &str) -> Option<(String, String)> {
        let discovery = kube::discovery::Discovery::new(self.discovery.clone())
            .run()
            .await
            .ok()?;
        discovery
            .groups()
            .find_map(|g| g.recommended_kind(kind))
            .map(|(ar, _)| (ar.group, ar.version))
    }

    /// The API resource of an object and whether it is namespaced.
    pub async fn resolve(&mut self, meta: &ObjMeta) -> Result<(ApiResource, bool), ApplyError> {
        let key = (meta.group.clone(), meta.version.clone(), meta.kind.clone());
        if let Some(hit) = self.cache.get(&key) {
            return Ok(hit.clone());
        }
        let gvk = GroupVersionKind::gvk(&meta.group, &meta.version, &meta.kind);
        let (ar, caps) = kube::discovery::pinned_kind(&self.discovery, &gvk)
            .await
            .map_err(|e| {
                ApplyError::Invalid(format!(
                    "{} failed to get API resource: no matches for kind \"{}\" in version \"{}\" ({})",
                    meta.display(),
                    meta.kind,
                    meta.api_version(),
                    api_reason(&e).1
                ))
            })?;
        let namespaced = caps.scope == Scope::Namespaced;
        self.cache.insert(key, (ar.clone(), namespaced));
        Ok((ar, namespaced))
    }
}

fn dynamic_api(
    client: &kube::Client,
    ar: &ApiResource,
    ns: &str,
    namespaced: bool,
) -> Api<DynamicObject> {
    if namespaced {
        Api::namespaced_with(client.clone(), ns, ar)
    } else {
        Api::all_with(client.clone(), ar)
    }
}

/// The parts of an object that an apply can change, for drift comparison.
fn comparable(obj: &Value) -> Value {
    let mut v = obj.clone();
    if let Some(map) = v.as_object_mut() {
        map.remove("status");
        if let Some(meta) = map.get_mut("metadata").and_then(Value::as_object_mut) {
            for k in [
                "managedFields",
                "resourceVersion",
                "generation",
                "creationTimestamp",
                "uid",
            ] {
                meta.remove(k);
            }
        }
    }
    v
}

struct Planned {
    meta: ObjMeta,
    api: Api<DynamicObject>,
    desired: Value,
    existing: Option<Value>,
}

/// Server-side applies `objects` (already labelled) with `client`, stage by stage.
pub async fn apply_all(
    client: &kube::Client,
    resolver: &mut Resolver,
    objects: &[Value],
    force: bool,
    crd_timeout: Duration,
) -> Result<Vec<Change>, ApplyError> {
    let (first, rest): (Vec<&Value>, Vec<&Value>) = objects.iter().partition(|o| {
        is_cluster_definition(o.get("kind").and_then(Value::as_str).unwrap_or_default())
    });
    let mut changes = apply_stage(client, resolver, &first, force).await?;
    let crds: Vec<String> = first
        .iter()
        .filter(|o| o.get("kind").and_then(Value::as_str) == Some("CustomResourceDefinition"))
        .filter_map(|o| {
            o.pointer("/metadata/name")
                .and_then(Value::as_str)
                .map(String::from)
        })
        .collect();
    wait_established(client, &crds, crd_timeout).await?;
    changes.extend(apply_stage(client, resolver, &rest, force).await?);
    Ok(changes)
}

async fn apply_stage(
    client: &kube::Client,
    resolver: &mut Resolver,
    objects: &[&Value],
    force: bool,
) -> Result<Vec<Change>, ApplyError> {
    let mut planned = Vec::with_capacity(objects.len());
    let mut changes = Vec::new();
    for obj in objects {
        let mut desired = (*obj).clone();
        let meta = ObjMeta::of(&desired)
            .ok_or_else(|| ApplyError::Invalid("object without kind, apiVersion or name".into()))?;
        let (ar, namespaced) = resolver.resolve(&meta).await?;
        let mut meta = meta;
        if namespaced && meta.namespace.is_empty() {
            return Err(ApplyError::Invalid(format!(
                "{} namespace not specified: the server could not find the requested resource",
                meta.display()
            )));
        }
        if !namespaced && !meta.namespace.is_empty() {
            if let Some(m) = desired.get_mut("metadata").and_then(Value::as_object_mut) {
                m.remove("namespace");
            }
            meta.namespace.clear();
        }
        let api = dynamic_api(client, &ar, &meta.namespace, namespaced);
        let existing = match api.get_opt(&meta.name).await {
            Ok(found) => found.and_then(|o| serde_json::to_value(o).ok()),
            Err(e) => {
                let (reason, message) = api_reason(&e);
                return Err(ApplyError::DryRun {
                    object: meta.display(),
                    reason,
                    message,
                });
            }
        };
        let skip = excluded(&desired)
            || existing.as_ref().is_some_and(excluded)
            || (existing.is_some() && in_metadata(&desired, SSA_ANNOTATION, "IfNotPresent"));
        if skip {
            changes.push(Change {
                object: meta,
                action: Action::Skipped,
            });
            continue;
        }
        planned.push(Planned {
            meta,
            api,
            desired,
            existing,
        });
    }

    // Dry-run everything first: nothing changes unless the whole stage is accepted.
    let mut to_apply = Vec::new();
    for p in planned {
        let dry = PatchParams::apply(FIELD_MANAGER).force().dry_run();
        match p
            .api
            .patch(&p.meta.name, &dry, &Patch::Apply(&p.desired))
            .await
        {
            Ok(result) => {
                let after = serde_json::to_value(result).unwrap_or(Value::Null);
                let unchanged = p
                    .existing
                    .as_ref()
                    .is_some_and(|e| comparable(e) == comparable(&after));
                to_apply.push((p, unchanged, false));
            }
            Err(e) => {
                let (reason, message) = api_reason(&e);
                let immutable = reason == "Invalid" && message.contains("immutable");
                let recreate = p.existing.is_some()
                    && immutable
                    && (force || in_metadata(&p.desired, FORCE_ANNOTATION, "enabled"));
                if !recreate {
                    return Err(ApplyError::DryRun {
                        object: p.meta.display(),
                        reason,
                        message,
                    });
                }
                to_apply.push((p, false, true));
            }
        }
    }

    for (p, unchanged, recreate) in to_apply {
        if unchanged {
            changes.push(Change {
                object: p.meta,
                action: Action::Unchanged,
            });
            continue;
        }
        if recreate {
            delete_and_wait(&p.api, &p.meta).await?;
        }
        let params = PatchParams::apply(FIELD_MANAGER).force();
        p.api
            .patch(&p.meta.name, &params, &Patch::Apply(&p.desired))
            .await
            .map_err(|e| {
                let (reason, message) = api_reason(&e);
                ApplyError::Apply {
                    object: p.meta.display(),
                    reason,
                    message,
                }
            })?;
        let action = if p.existing.is_none() || recreate {
            Action::Created
        } else {
            Action::Configured
        };
        changes.push(Change {
            object: p.meta,
            action,
        });
    }
    Ok(changes)
}

async fn delete_and_wait(api: &Api<DynamicObject>, meta: &ObjMeta) -> Result<(), ApplyError> {
    let fail = |e: kube::Error| ApplyError::Delete {
        object: meta.display(),
        message: api_reason(&e).1,
    };
    match api.delete(&meta.name, &DeleteParams::background()).await {
        Ok(_) => {}
        Err(e) if is_not_found(&e) => return Ok(()),
        Err(e) => return Err(fail(e)),
    }
    for _ in 0..100 {
        match api.get_opt(&meta.name).await {
            Ok(None) => return Ok(()),
            Ok(Some(_)) => tokio::time::sleep(Duration::from_millis(100)).await,
            Err(e) => return Err(fail(e)),
        }
    }
    Err(ApplyError::Timeout(format!(
        "{} was not deleted in time for recreation",
        meta.display()
    )))
}

async fn wait_established(
    client: &kube::Client,
    names: &[String],
    timeout: Duration,
) -> Result<(), ApplyError> {
    if names.is_empty() {
        return Ok(());
    }
    let api: Api<k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition> =
        Api::all(client.clone());
    let deadline = tokio::time::Instant::now() + timeout;
    for name in names {
        loop {
            let established = api.get_opt(name).await.ok().flatten().is_some_and(|crd| {
                crd.status
                    .and_then(|s| s.conditions)
                    .unwrap_or_default()
                    .iter()
                    .any(|c| c.type_ == "Established" && c.status == "True")
            });
            if established {
                break;
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(ApplyError::Timeout(format!(
                    "CustomResourceDefinition/{name} is not established after {timeout:?}"
                )));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    Ok(())
}

/// Deletes `stale` objects that still carry this Kustomization's labels, unless marked
/// `prune: disabled`; objects are deleted in reverse apply order (namespaces last).
pub async fn prune(
    client: &kube::Client,
    resolver: &mut Resolver,
    stale: &[ObjMeta],
    owner: &BTreeMap<String, String>,
) -> Result<Vec<Change>, ApplyError> {
    let mut ordered: Vec<&ObjMeta> = stale.iter().collect();
    // Cluster definitions go last so their contents are removed before them.
    ordered.sort_by_key(|m| is_cluster_definition(&m.kind));
    let mut changes = Vec::new();
    for meta in ordered {
        let (ar, namespaced) = match resolver.resolve(meta).await {
            Ok(found) => found,
            // The kind is gone (its CRD was removed): so are its objects.
            Err(_) => continue,
        };
        let api = dynamic_api(client, &ar, &meta.namespace, namespaced);
        let existing = match api.get_opt(&meta.name).await {
            Ok(Some(obj)) => serde_json::to_value(obj).unwrap_or(Value::Null),
            Ok(None) => continue,
            Err(e) => {
                return Err(ApplyError::Delete {
                    object: meta.display(),
                    message: api_reason(&e).1,
                });
            }
        };
        let owned = owner
            .iter()
            .all(|(k, v)| label(&existing, k) == Some(v.as_str()));
        if !owned || in_metadata(&existing, PRUNE_ANNOTATION, "disabled") {
            continue;
        }
        match api.delete(&meta.name, &DeleteParams::background()).await {
            Ok(_) => {}
            Err(e) if is_not_found(&e) => continue,
            Err(e) => {
                return Err(ApplyError::Delete {
                    object: meta.display(),
                    message: api_reason(&e).1,
                });
            }
        }
        changes.push(Change {
            object: meta.clone(),
            action: Action::Deleted,
        });
    }
    Ok(changes)
}

/// Flux's reason for `healthCheckExprs` that do not parse.
pub const INVALID_CEL_EXPRESSION_REASON: &str = "InvalidCELExpression";

/// Parses a Kustomization's `healthCheckExprs`.
pub fn custom_health_checks(
    exprs: &[flux_api::meta::CustomHealthCheck],
) -> Result<CustomHealthChecks, flux_kstatus::cel::ConfigError> {
    let entries: Vec<HealthCheckExpr> = exprs
        .iter()
        .map(|e| HealthCheckExpr {
            api_version: e.api_version.clone(),
            kind: e.kind.clone(),
            current: e.current.clone(),
            in_progress: e.in_progress.clone(),
            failed: e.failed.clone(),
        })
        .collect();
    CustomHealthChecks::new(&entries)
}

/// Waits until every object is Current, by the `healthCheckExprs` of its kind when `checks`
/// has some, else by kstatus rules. Returns the objects still not ready (with their status)
/// when `timeout` passes or as soon as one of them has Failed.
pub async fn wait_healthy(
    client: &kube::Client,
    resolver: &mut Resolver,
    objects: &[ObjMeta],
    checks: &CustomHealthChecks,
    timeout: Duration,
    poll: Duration,
) -> Result<(), Vec<(ObjMeta, flux_kstatus::Status)>> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let mut pending = Vec::new();
        let mut failed = false;
        for meta in objects {
            let status = match resolver.resolve(meta).await {
                Err(_) => flux_kstatus::Status::NotFound,
                Ok((ar, namespaced)) => {
                    let api = dynamic_api(client, &ar, &meta.namespace, namespaced);
                    match api.get_opt(&meta.name).await {
                        Ok(Some(obj)) => serde_json::to_value(obj)
                            .ok()
                            // An expression that cannot be evaluated yet (a field the
                            // object does not have) leaves the status unknown until timeout.
                            .and_then(|v| checks.compute(&v).ok())
                            .map_or(flux_kstatus::Status::Unknown, |r| r.status),
                        Ok(None) => flux_kstatus::Status::NotFound,
                        Err(_) => flux_kstatus::Status::Unknown,
                    }
                }
            };
            if status != flux_kstatus::Status::Current {
                failed |= status == flux_kstatus::Status::Failed;
                pending.push((meta.clone(), status));
            }
        }
        if pending.is_empty() {
            return Ok(());
        }
        if failed || tokio::time::Instant::now() >= deadline {
            return Err(pending);
        }
        tokio::time::sleep(poll).await;
    }
}
