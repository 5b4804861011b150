//! Server-side apply of a set of objects as Flux's CLI does it (`flux install`, `flux create`):
//! cluster definitions first, CRDs waited for until Established, then the rest; and waits for
//! Deployments to become Ready.

use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, ApiResource, DynamicObject, Patch, PatchParams};
use kube::core::GroupVersionKind;
use kube::discovery::Scope;
use serde_json::Value;

use crate::cluster::{self, Log};
use crate::commands::CommandError;

/// Parses a multi-document YAML stream into objects, skipping empty documents.
pub fn parse_yaml(yaml: &str) -> Result<Vec<Value>, CommandError> {
    let mut out = Vec::new();
    for doc in serde_yaml::Deserializer::from_str(yaml) {
        let v: Value = serde::Deserialize::deserialize(doc)
            .map_err(|e| CommandError::Build(format!("invalid YAML: {e}")))?;
        if !v.is_null() {
            out.push(v);
        }
    }
    Ok(out)
}

/// What an apply did to one object, printed as Flux's change set: `Kind/ns/name created`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub subject: String,
    pub action: &'static str,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.subject, self.action)
    }
}

/// `Kind/namespace/name`, or `Kind/name` for cluster-scoped objects, as Flux names objects.
pub fn subject(obj: &Value) -> String {
    let kind = cluster::str_at(obj, &["kind"]);
    let ns = cluster::str_at(obj, &["metadata", "namespace"]);
    let name = cluster::str_at(obj, &["metadata", "name"]);
    if ns.is_empty() {
        format!("{kind}/{name}")
    } else {
        format!("{kind}/{ns}/{name}")
    }
}

fn is_cluster_definition(kind: &str) -> bool {
    matches!(kind, "CustomResourceDefinition" | "Namespace")
}

/// Resolves objects' kinds to API resources with discovery, caching the answers.
#[derive(Default)]
pub struct Resolver {
    cache: HashMap<String, (ApiResource, bool)>,
}

impl Resolver {
    /// The API for `obj`, and whether its kind is namespaced.
    pub async fn api(
        &mut self,
        client: &kube::Client,
        obj: &Value,
    ) -> Result<(Api<DynamicObject>, bool), CommandError> {
        let api_version = cluster::str_at(obj, &["apiVersion"]);
        let kind = cluster::str_at(obj, &["kind"]);
        let key = format!("{api_version}/{kind}");
        let (ar, namespaced) = match self.cache.get(&key) {
            Some(hit) => hit.clone(),
            None => {
                let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
                let gvk = GroupVersionKind::gvk(group, version, kind);
                let (ar, caps) =
                    kube::discovery::pinned_kind(client, &gvk)
                        .await
                        .map_err(|_| {
                            CommandError::Cluster(format!(
                                "{}: no matches for kind \"{kind}\" in version \"{api_version}\"",
                                subject(obj)
                            ))
                        })?;
                let hit = (ar, caps.scope == Scope::Namespaced);
                self.cache.insert(key, hit.clone());
                hit
            }
        };
        let api = if namespaced {
            let ns = cluster::str_at(obj, &["metadata", "namespace"]);
            let ns = if ns.is_empty() { "default" } else { ns };
            Api::namespaced_with(client.clone(), ns, &ar)
        } else {
            Api::all_with(client.clone(), &ar)
        };
        Ok((api, namespaced))
    }
}

/// Server-side applies one object with `manager`, forcing conflicts as Flux does.
pub async fn apply_one(
    client: &kube::Client,
    resolver: &mut Resolver,
    obj: &Value,
    manager: &str,
) -> Result<Change, CommandError> {
    let (api, _) = resolver.api(client, obj).await?;
    let name = cluster::str_at(obj, &["metadata", "name"]);
    let subject = subject(obj);
    let before = api
        .get_opt(name)
        .await
        .map_err(|e| CommandError::Cluster(format!("{subject}: {}", cluster::api_error(e))))?;
    let params = PatchParams::apply(manager).force();
    let after = api
        .patch(name, &params, &Patch::Apply(obj))
        .await
        .map_err(|e| CommandError::Cluster(format!("{subject}: {}", cluster::api_error(e))))?;
    let action = match before {
        None => "created",
        Some(b) if b.metadata.resource_version == after.metadata.resource_version => "unchanged",
        Some(_) => "configured",
    };
    Ok(Change { subject, action })
}

/// Applies `objects`: Namespaces and CRDs first, waiting for the CRDs to be Established, then
/// everything else, in the given order.
pub async fn apply_staged(
    client: &kube::Client,
    objects: &[Value],
    manager: &str,
) -> Result<Vec<Change>, CommandError> {
    let mut resolver = Resolver::default();
    let (first, rest): (Vec<&Value>, Vec<&Value>) = objects
        .iter()
        .partition(|o| is_cluster_definition(cluster::str_at(o, &["kind"])));
    let mut changes = Vec::with_capacity(objects.len());
    for obj in &first {
        changes.push(apply_one(client, &mut resolver, obj, manager).await?);
    }
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    for obj in first
        .iter()
        .filter(|o| cluster::str_at(o, &["kind"]) == "CustomResourceDefinition")
    {
        let name = cluster::str_at(obj, &["metadata", "name"]);
        loop {
            let crd = crds.get(name).await.map_err(cluster::api_error)?;
            let established = crd
                .status
                .and_then(|s| s.conditions)
                .unwrap_or_default()
                .iter()
                .any(|c| c.type_ == "Established" && c.status == "True");
            if established {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    for obj in rest {
        changes.push(apply_one(client, &mut resolver, obj, manager).await?);
    }
    Ok(changes)
}

/// kstatus' rule for Deployments: the controller observed the spec and every replica is
/// updated, ready and available.
pub fn deployment_ready(d: &Value) -> bool {
    let int = |p: &str| d.pointer(p).and_then(Value::as_i64);
    let generation = int("/metadata/generation").unwrap_or(0);
    if int("/status/observedGeneration").unwrap_or(0) < generation {
        return false;
    }
    let replicas = int("/spec/replicas").unwrap_or(1);
    ["updatedReplicas", "readyReplicas", "availableReplicas"]
        .iter()
        .all(|f| int(&format!("/status/{f}")).unwrap_or(0) >= replicas)
}

/// Waits until each Deployment in `names` is Ready or `deadline` passes, logging
/// `<name>: deployment ready` for each ready one and `<name>: deployment not ready` for the
/// others, as Flux's status checker; true when all became Ready.
pub async fn wait_deployments(
    client: &kube::Client,
    namespace: &str,
    names: &[String],
    deadline: tokio::time::Instant,
    log: &mut Log<'_>,
) -> Result<bool, CommandError> {
    let api: Api<Deployment> = Api::namespaced(client.clone(), namespace);
    let mut ready = vec![false; names.len()];
    loop {
        for (i, name) in names.iter().enumerate() {
            if ready[i] {
                continue;
            }
            if let Some(d) = api.get_opt(name).await.map_err(cluster::api_error)? {
                let v = serde_json::to_value(&d)
                    .map_err(|e| CommandError::Cluster(format!("invalid Deployment: {e}")))?;
                ready[i] = deployment_ready(&v);
            }
        }
        if ready.iter().all(|r| *r) || tokio::time::Instant::now() >= deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    for (name, ok) in names.iter().zip(&ready) {
        if *ok {
            log.success(format!("{name}: deployment ready"))?;
        } else {
            log.failure(format!("{name}: deployment not ready"))?;
        }
    }
    Ok(ready.iter().all(|r| *r))
}
