//! Helm actions on the cluster for a HelmRelease: install and upgrade with hooks and readiness
//! waits, rollback, uninstall, and the release records in the storage namespace.

use std::time::Duration;

use flux_api::helm::v2::{CrdsPolicy, HelmRelease};
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::jiff::Timestamp;
use kube::ResourceExt;
use kube::api::{Api, ListParams, PostParams};
use serde_json::{Map, Value};

use crate::apply::{self, Object, Resolver};
use crate::helmrelease::{NAME_LABEL, NAMESPACE_LABEL, Prepared, storage_namespace};
use crate::release::{self, Release};

/// Reads every stored release of `name`, oldest first.
pub(crate) async fn list_releases(
    client: &kube::Client,
    ns: &str,
    name: &str,
) -> Result<Vec<Release>, kube::Error> {
    let api: Api<Secret> = Api::namespaced(client.clone(), ns);
    let list = api
        .list(&ListParams::default().labels(&format!("owner=helm,name={name}")))
        .await?;
    let mut out: Vec<Release> = list
        .items
        .into_iter()
        .filter_map(|s| {
            let data = s.data?.get("release")?.0.clone();
            match Release::decode(&data) {
                Ok(r) => Some(r),
                Err(e) => {
                    tracing::warn!(secret = s.metadata.name.as_deref().unwrap_or_default(), error = %e, "skipping unreadable release");
                    None
                }
            }
        })
        .collect();
    out.sort_by_key(|r| r.version);
    Ok(out)
}

pub(crate) async fn delete_release_secrets(
    client: &kube::Client,
    ns: &str,
    releases: &[Release],
) -> Result<(), kube::Error> {
    let api: Api<Secret> = Api::namespaced(client.clone(), ns);
    for r in releases {
        match api.delete(&r.secret_name(), &Default::default()).await {
            Ok(_) => {}
            Err(kube::Error::Api(s)) if s.code == 404 => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Creates or replaces the release Secret, as Helm's secret driver stores it.
pub(crate) async fn store_release(
    client: &kube::Client,
    ns: &str,
    rel: &Release,
) -> Result<(), String> {
    let api: Api<Secret> = Api::namespaced(client.clone(), ns);
    let encoded = rel.encode().map_err(|e| e.to_string())?;
    let secret: Secret = serde_json::from_value(serde_json::json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": { "name": rel.secret_name(), "namespace": ns, "labels": rel.secret_labels() },
        "type": release::SECRET_TYPE,
        "stringData": {},
        "data": { "release": base64::Engine::encode(&base64::engine::general_purpose::STANDARD, encoded.as_bytes()) },
    }))
    .map_err(|e| e.to_string())?;
    match api
        .get_opt(&rel.secret_name())
        .await
        .map_err(|e| e.to_string())?
    {
        Some(existing) => {
            let mut s = secret;
            s.metadata.resource_version = existing.metadata.resource_version;
            api.replace(&rel.secret_name(), &PostParams::default(), &s)
                .await
                .map_err(|e| e.to_string())?;
        }
        None => {
            api.create(&PostParams::default(), &secret)
                .await
                .map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}

pub(crate) fn chart_id(rel: &Release) -> String {
    let text = |k: &str| {
        rel.chart
            .metadata
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    format!("{}@{}", text("name"), text("version"))
}

/// Re-applies the previous release as a new version, Helm's `rollback`.
pub(crate) async fn rollback(
    obj: &HelmRelease,
    resolver: &mut Resolver,
    prev: &Release,
    failed: Option<&Release>,
    version: i64,
) -> Result<String, String> {
    let storage_ns = storage_namespace(obj);
    let ns = prev.namespace.clone();
    let mut objects = parse_manifest(&prev.manifest).map_err(|e| e.to_string())?;
    for o in objects.iter_mut() {
        label_object(obj, &prev.name, &ns, o);
        apply::apply(resolver, o, &ns)
            .await
            .map_err(|e| e.to_string())?;
    }
    if let Some(failed) = failed {
        delete_removed(resolver, &failed.manifest, &objects, &ns).await;
    }
    let now = release::timestamp(Timestamp::now());
    let mut rel = prev.clone();
    rel.version = version;
    rel.info.status = release::STATUS_DEPLOYED.into();
    rel.info.last_deployed = now;
    rel.info.description = format!("Rollback to {}", prev.version);
    if let Some(f) = failed {
        let mut f = f.clone();
        f.info.status = release::STATUS_SUPERSEDED.into();
        store_release(resolver.client(), &storage_ns, &f).await?;
    }
    store_release(resolver.client(), &storage_ns, &rel).await?;
    Ok(format!(
        "Helm rollback to previous release {} with chart {} succeeded",
        prev.full_name(),
        chart_id(prev)
    ))
}

/// Deletes the release's objects (reverse install order) and its hooks' leftovers.
pub(crate) async fn uninstall(
    resolver: &mut Resolver,
    rel: &Release,
    storage_ns: &str,
    keep_history: bool,
) -> Result<(), String> {
    let mut objects = parse_manifest(&rel.manifest).map_err(|e| e.to_string())?;
    objects.reverse();
    for o in objects.iter_mut() {
        apply::delete(resolver, o, &rel.namespace)
            .await
            .map_err(|e| e.to_string())?;
    }
    if keep_history {
        let mut r = rel.clone();
        r.info.status = release::STATUS_UNINSTALLED.into();
        r.info.deleted = release::timestamp(Timestamp::now());
        r.info.description = "Uninstallation complete".into();
        store_release(resolver.client(), storage_ns, &r).await?;
    }
    Ok(())
}

pub(crate) fn parse_manifest(text: &str) -> Result<Vec<Object>, apply::ApplyError> {
    apply::parse_documents("release manifest", text)
}

/// Helm's ownership metadata plus Flux's origin labels.
pub(crate) fn label_object(
    obj: &HelmRelease,
    release_name: &str,
    release_ns: &str,
    o: &mut Object,
) {
    let Some(meta) = o.value.get_mut("metadata").and_then(Value::as_object_mut) else {
        return;
    };
    let labels = meta
        .entry("labels")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Some(l) = labels.as_object_mut() {
        l.insert("app.kubernetes.io/managed-by".into(), "Helm".into());
        l.insert(NAME_LABEL.into(), obj.name_any().into());
        l.insert(
            NAMESPACE_LABEL.into(),
            obj.namespace().unwrap_or_default().into(),
        );
    }
    let annotations = meta
        .entry("annotations")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Some(a) = annotations.as_object_mut() {
        a.insert("meta.helm.sh/release-name".into(), release_name.into());
        a.insert("meta.helm.sh/release-namespace".into(), release_ns.into());
    }
}

/// Deletes objects of `old_manifest` that are no longer rendered, as Helm's upgrade does.
pub(crate) async fn delete_removed(
    resolver: &mut Resolver,
    old_manifest: &str,
    new: &[Object],
    ns: &str,
) {
    let Ok(old) = parse_manifest(old_manifest) else {
        return;
    };
    for mut o in old {
        let kept = new.iter().any(|n| {
            n.kind == o.kind
                && n.name == o.name
                && n.api_version.split('/').next() == o.api_version.split('/').next()
                && n.namespace.as_deref().unwrap_or(ns) == o.namespace.as_deref().unwrap_or(ns)
        });
        if !kept && let Err(e) = apply::delete(resolver, &mut o, ns).await {
            tracing::warn!(error = %e, "failed to delete an object removed from the release");
        }
    }
}

/// Renders and performs install or upgrade. Returns the stored release (if one was recorded)
/// and the error, if the action failed.
pub(crate) async fn run_action(
    obj: &HelmRelease,
    resolver: &mut Resolver,
    p: &Prepared,
    current: Option<&Release>,
    version: i64,
) -> (Option<Release>, Option<String>) {
    let install = current.is_none();
    let release_name = obj.release_name();
    let ns = obj.release_namespace();
    let storage_ns = storage_namespace(obj);

    let rendered = match render(&p.chart, &p.values, &release_name, &ns, !install) {
        Ok(r) => r,
        Err(e) => return (None, Some(e)),
    };
    let now = release::timestamp(Timestamp::now());
    let mut rel = Release {
        name: release_name.clone(),
        info: release::Info {
            first_deployed: current
                .map(|c| c.info.first_deployed.clone())
                .unwrap_or_else(|| now.clone()),
            last_deployed: now.clone(),
            status: if install {
                release::STATUS_PENDING_INSTALL
            } else {
                release::STATUS_PENDING_UPGRADE
            }
            .into(),
            description: if install {
                "Initial install underway"
            } else {
                "Preparing upgrade"
            }
            .into(),
            ..Default::default()
        },
        chart: release::chart_record(&p.chart),
        config: p.values_user(),
        manifest: release::manifest_text(&rendered.manifests),
        hooks: rendered
            .hooks
            .iter()
            .map(|h| release::HookRecord {
                name: h.name.clone(),
                kind: h.kind.clone(),
                path: h.path.clone(),
                manifest: h.manifest.clone(),
                events: h.events.clone(),
                weight: h.weight,
                delete_policies: h.delete_policies.clone(),
                ..Default::default()
            })
            .collect(),
        version,
        namespace: ns.clone(),
    };
    if let Err(e) = store_release(resolver.client(), &storage_ns, &rel).await {
        return (None, Some(format!("failed to record the release: {e}")));
    }
    let result = perform(obj, resolver, &rendered, &mut rel, current, install).await;
    match &result {
        Ok(()) => {
            rel.info.status = release::STATUS_DEPLOYED.into();
            rel.info.description = if install {
                "Install complete"
            } else {
                "Upgrade complete"
            }
            .into();
            if let Some(prev) = current {
                let mut prev = prev.clone();
                prev.info.status = release::STATUS_SUPERSEDED.into();
                if let Err(e) = store_release(resolver.client(), &storage_ns, &prev).await {
                    tracing::warn!(error = %e, "failed to mark the previous release superseded");
                }
            }
        }
        Err(e) => {
            rel.info.status = release::STATUS_FAILED.into();
            rel.info.description = format!("Release \"{release_name}\" failed: {e}");
        }
    }
    if let Err(e) = store_release(resolver.client(), &storage_ns, &rel).await {
        return (
            Some(rel),
            Some(format!("failed to record the release: {e}")),
        );
    }
    prune_history(
        resolver.client(),
        &storage_ns,
        &release_name,
        obj.spec.max_history(),
    )
    .await;
    (Some(rel), result.err())
}

impl Prepared {
    /// The user-supplied values (what Helm stores as `config`).
    fn values_user(&self) -> Map<String, Value> {
        self.values.clone()
    }
}

pub(crate) async fn prune_history(client: &kube::Client, ns: &str, name: &str, max: i64) {
    if max <= 0 {
        return;
    }
    let Ok(all) = list_releases(client, ns, name).await else {
        return;
    };
    let excess = all.len().saturating_sub(max as usize);
    if excess > 0 {
        let _ = delete_release_secrets(client, ns, &all[..excess]).await;
    }
}

pub(crate) fn render(
    chart: &flux_helm::Chart,
    vals: &Map<String, Value>,
    release_name: &str,
    ns: &str,
    upgrade: bool,
) -> Result<flux_helm::Rendered, String> {
    // The renderer reads user values from files, like `helm -f`; JSON is valid YAML.
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let path = dir.path().join("values.json");
    std::fs::write(&path, serde_json::to_vec(vals).map_err(|e| e.to_string())?)
        .map_err(|e| e.to_string())?;
    let opts = flux_helm::TemplateOptions {
        release_name: release_name.to_string(),
        namespace: ns.to_string(),
        values_files: vec![path],
        is_upgrade: upgrade,
        include_crds: false,
        ..Default::default()
    };
    flux_helm::render_chart(chart.clone(), &opts).map_err(|e| e.to_string())
}

pub(crate) async fn perform(
    obj: &HelmRelease,
    resolver: &mut Resolver,
    rendered: &flux_helm::Rendered,
    rel: &mut Release,
    current: Option<&Release>,
    install: bool,
) -> Result<(), String> {
    let ns = rel.namespace.clone();
    let (disable_wait, disable_hooks, crds, create_ns, timeout) = if install {
        let i = obj.spec.install.clone().unwrap_or_default();
        (
            i.disable_wait,
            i.disable_hooks,
            i.crds.unwrap_or(if i.skip_crds {
                CrdsPolicy::Skip
            } else {
                CrdsPolicy::Create
            }),
            i.create_namespace,
            i.timeout
                .as_ref()
                .map(|d| d.to_std())
                .unwrap_or_else(|| obj.spec.timeout()),
        )
    } else {
        let u = obj.spec.upgrade.clone().unwrap_or_default();
        (
            u.disable_wait,
            u.disable_hooks,
            u.crds.unwrap_or(CrdsPolicy::Skip),
            false,
            u.timeout
                .as_ref()
                .map(|d| d.to_std())
                .unwrap_or_else(|| obj.spec.timeout()),
        )
    };
    if create_ns {
        let mut nsobj = apply::parse_documents(
            "namespace",
            &format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n"),
        )
        .map_err(|e| e.to_string())?;
        for o in nsobj.iter_mut() {
            apply::apply(resolver, o, &ns)
                .await
                .map_err(|e| e.to_string())?;
        }
    }
    if crds != CrdsPolicy::Skip {
        for (path, content) in &rendered.crds {
            let mut objs = apply::parse_documents(path, content).map_err(|e| e.to_string())?;
            for o in objs.iter_mut() {
                if crds == CrdsPolicy::Create {
                    let api = resolver.api(o, &ns).await.map_err(|e| e.to_string())?;
                    if api
                        .get_opt(&o.name)
                        .await
                        .map_err(|e| e.to_string())?
                        .is_some()
                    {
                        continue;
                    }
                }
                apply::apply(resolver, o, &ns)
                    .await
                    .map_err(|e| e.to_string())?;
            }
        }
    }
    let (pre, post) = if install {
        ("pre-install", "post-install")
    } else {
        ("pre-upgrade", "post-upgrade")
    };
    if !disable_hooks {
        run_hooks(obj, resolver, rendered, rel, pre, &ns, timeout).await?;
    }
    let mut objects = Vec::new();
    for m in &rendered.manifests {
        objects.extend(apply::parse_documents(&m.name, &m.content).map_err(|e| e.to_string())?);
    }
    for o in objects.iter_mut() {
        label_object(obj, &rel.name, &ns, o);
        apply::apply(resolver, o, &ns)
            .await
            .map_err(|e| e.to_string())?;
    }
    if let Some(cur) = current {
        delete_removed(resolver, &cur.manifest, &objects, &ns).await;
    }
    if !disable_wait {
        apply::wait_ready(resolver, &mut objects, &ns, timeout)
            .await
            .map_err(|e| e.to_string())?;
    }
    if !disable_hooks {
        run_hooks(obj, resolver, rendered, rel, post, &ns, timeout).await?;
    }
    Ok(())
}

/// Runs the hooks of `event` in Helm's order (weight, then name), honouring delete policies.
pub(crate) async fn run_hooks(
    obj: &HelmRelease,
    resolver: &mut Resolver,
    rendered: &flux_helm::Rendered,
    rel: &mut Release,
    event: &str,
    ns: &str,
    timeout: Duration,
) -> Result<(), String> {
    for hook in flux_helm::manifest::hooks_for_event(&rendered.hooks, event) {
        let policies: Vec<&str> = if hook.delete_policies.is_empty() {
            vec!["before-hook-creation"]
        } else {
            hook.delete_policies.iter().map(String::as_str).collect()
        };
        let mut objs =
            apply::parse_documents(&hook.path, &hook.manifest).map_err(|e| e.to_string())?;
        let record = rel
            .hooks
            .iter_mut()
            .find(|h| h.path == hook.path && h.name == hook.name);
        let started = release::timestamp(Timestamp::now());
        if let Some(r) = record {
            r.last_run.started_at = started;
            r.last_run.phase = "Running".into();
        }
        let mut result = Ok(());
        for o in objs.iter_mut() {
            label_object(obj, &rel.name, ns, o);
            if policies.contains(&"before-hook-creation") {
                apply::delete(resolver, o, ns)
                    .await
                    .map_err(|e| e.to_string())?;
                wait_gone(resolver, o, ns).await;
            }
            if let Err(e) = apply::apply(resolver, o, ns).await {
                result = Err(e.to_string());
                break;
            }
        }
        if result.is_ok() && matches!(hook.kind.as_str(), "Job" | "Pod") {
            result = apply::wait_ready(resolver, &mut objs, ns, timeout)
                .await
                .map_err(|e| e.to_string());
        }
        let phase = if result.is_ok() {
            "Succeeded"
        } else {
            "Failed"
        };
        if let Some(r) = rel
            .hooks
            .iter_mut()
            .find(|h| h.path == hook.path && h.name == hook.name)
        {
            r.last_run.completed_at = release::timestamp(Timestamp::now());
            r.last_run.phase = phase.into();
        }
        let delete_now = (result.is_ok() && policies.contains(&"hook-succeeded"))
            || (result.is_err() && policies.contains(&"hook-failed"));
        if delete_now {
            for o in objs.iter_mut() {
                let _ = apply::delete(resolver, o, ns).await;
            }
        }
        if let Err(e) = result {
            return Err(format!("{event} hooks failed: {e}"));
        }
    }
    Ok(())
}

pub(crate) async fn wait_gone(resolver: &mut Resolver, o: &mut Object, ns: &str) {
    let Ok(api) = resolver.api(o, ns).await else {
        return;
    };
    for _ in 0..40 {
        match api.get_opt(&o.name).await {
            Ok(Some(_)) => tokio::time::sleep(Duration::from_millis(250)).await,
            _ => return,
        }
    }
}
