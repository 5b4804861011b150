//! Kubernetes side of a release: server-side apply of rendered documents with the
//! `helm-controller` field manager, deletion, and readiness waits with kstatus.

use std::collections::HashMap;
use std::time::Duration;

use kube::api::{Api, DeleteParams, DynamicObject, Patch, PatchParams};
use kube::core::GroupVersionKind;
use kube::discovery::{ApiResource, Scope};
use serde_json::Value;

use crate::CONTROLLER_NAME;

#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("{0}")]
    Invalid(String),
    #[error("{id} apply failed: {message}")]
    Apply { id: String, message: String },
    #[error("{id} delete failed: {message}")]
    Delete { id: String, message: String },
    #[error("timeout waiting for: [{0}]")]
    Timeout(String),
    #[error("{0}")]
    Failed(String),
}

/// One rendered document, parsed.
#[derive(Debug, Clone)]
pub struct Object {
    pub value: Value,
    pub api_version: String,
    pub kind: String,
    pub name: String,
    pub namespace: Option<String>,
}

impl Object {
    /// `Kind/namespace/name` as Flux prints objects.
    pub fn id(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{}/{}/{}", self.kind, ns, self.name),
            None => format!("{}/{}", self.kind, self.name),
        }
    }
}

/// Parses the documents of a rendered template (one or more YAML documents) into objects; empty
/// documents are skipped, as Helm does.
pub fn parse_documents(source: &str, text: &str) -> Result<Vec<Object>, ApplyError> {
    let mut out = Vec::new();
    for doc in serde_yaml::Deserializer::from_str(text) {
        let value: Value = serde::Deserialize::deserialize(doc)
            .map_err(|e| ApplyError::Invalid(format!("{source}: invalid YAML: {e}")))?;
        if value.is_null() {
            continue;
        }
        let field = |p: &str| value.pointer(p).and_then(Value::as_str).map(String::from);
        let (Some(api_version), Some(kind), Some(name)) = (
            field("/apiVersion"),
            field("/kind"),
            field("/metadata/name"),
        ) else {
            return Err(ApplyError::Invalid(format!(
                "{source}: object has no apiVersion, kind or metadata.name"
            )));
        };
        let namespace = field("/metadata/namespace");
        out.push(Object {
            value,
            api_version,
            kind,
            name,
            namespace,
        });
    }
    Ok(out)
}

/// Resolves kinds to API resources with discovery, caching the answers.
pub struct Resolver {
    client: kube::Client,
    cache: HashMap<(String, String), (ApiResource, bool)>,
}

impl Resolver {
    pub fn new(client: kube::Client) -> Self {
        Resolver {
            client,
            cache: HashMap::new(),
        }
    }

    /// The client objects are applied with (impersonating the release's ServiceAccount).
    pub fn client(&self) -> &kube::Client {
        &self.client
    }

    async fn resolve(&mut self, obj: &Object) -> Result<(ApiResource, bool), ApplyError> {
        let key = (obj.api_version.clone(), obj.kind.clone());
        if let Some(hit) = self.cache.get(&key) {
            return Ok(hit.clone());
        }
        let (group, version) = match obj.api_version.split_once('/') {
            Some((g, v)) => (g, v),
            None => ("", obj.api_version.as_str()),
        };
        let gvk = GroupVersionKind::gvk(group, version, &obj.kind);
        let (ar, caps) = kube::discovery::pinned_kind(&self.client, &gvk)
            .await
            .map_err(|_| {
                ApplyError::Invalid(format!(
                    "resource mapping not found for name: \"{}\" namespace: \"{}\": no matches for kind \"{}\" in version \"{}\"",
                    obj.name,
                    obj.namespace.as_deref().unwrap_or_default(),
                    obj.kind,
                    obj.api_version
                ))
            })?;
        let namespaced = caps.scope == Scope::Namespaced;
        self.cache.insert(key, (ar.clone(), namespaced));
        Ok((ar, namespaced))
    }

    /// The API of `obj`, with the namespace defaulted to `namespace` for namespaced kinds.
    pub async fn api(
        &mut self,
        obj: &mut Object,
        namespace: &str,
    ) -> Result<Api<DynamicObject>, ApplyError> {
        let (ar, namespaced) = self.resolve(obj).await?;
        if namespaced {
            let ns = obj
                .namespace
                .get_or_insert_with(|| namespace.to_string())
                .clone();
            if let Some(meta) = obj.value.get_mut("metadata").and_then(Value::as_object_mut) {
                meta.insert("namespace".into(), Value::String(ns.clone()));
            }
            Ok(Api::namespaced_with(self.client.clone(), &ns, &ar))
        } else {
            obj.namespace = None;
            if let Some(meta) = obj.value.get_mut("metadata").and_then(Value::as_object_mut) {
                meta.remove("namespace");
            }
            Ok(Api::all_with(self.client.clone(), &ar))
        }
    }
}

fn api_message(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(s) => s.message.clone(),
        other => other.to_string(),
    }
}

fn is_not_found(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 404)
}

/// Server-side applies one object (forced, as Helm's SSA mode takes ownership).
pub async fn apply(
    resolver: &mut Resolver,
    obj: &mut Object,
    namespace: &str,
) -> Result<Value, ApplyError> {
    let api = resolver.api(obj, namespace).await?;
    let params = PatchParams::apply(CONTROLLER_NAME).force();
    let applied = api
        .patch(&obj.name, &params, &Patch::Apply(&obj.value))
        .await
        .map_err(|e| ApplyError::Apply {
            id: obj.id(),
            message: api_message(&e),
        })?;
    serde_json::to_value(applied).map_err(|e| ApplyError::Apply {
        id: obj.id(),
        message: e.to_string(),
    })
}

/// Deletes one object (background propagation); a missing object is not an error.
pub async fn delete(
    resolver: &mut Resolver,
    obj: &mut Object,
    namespace: &str,
) -> Result<(), ApplyError> {
    let api = resolver.api(obj, namespace).await?;
    match api.delete(&obj.name, &DeleteParams::background()).await {
        Ok(_) => Ok(()),
        Err(e) if is_not_found(&e) => Ok(()),
        Err(e) => Err(ApplyError::Delete {
            id: obj.id(),
            message: api_message(&e),
        }),
    }
}

/// Waits until every object is Current by kstatus; a Failed object ends the wait early.
pub async fn wait_ready(
    resolver: &mut Resolver,
    objects: &mut [Object],
    namespace: &str,
    timeout: Duration,
) -> Result<(), ApplyError> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let mut pending = Vec::new();
        for obj in objects.iter_mut() {
            let api = resolver.api(obj, namespace).await?;
            let current = match api.get_opt(&obj.name).await {
                Ok(Some(o)) => serde_json::to_value(o).unwrap_or(Value::Null),
                Ok(None) => {
                    pending.push(format!("{} status: 'NotFound'", obj.id()));
                    continue;
                }
                Err(e) => {
                    pending.push(format!("{}: {}", obj.id(), api_message(&e)));
                    continue;
                }
            };
            match flux_kstatus::compute_flux(&current) {
                Ok(r) if r.status == flux_kstatus::Status::Current => {}
                Ok(r) if r.status == flux_kstatus::Status::Failed => {
                    return Err(ApplyError::Failed(format!(
                        "{} status: 'Failed': {}",
                        obj.id(),
                        r.message
                    )));
                }
                Ok(r) => pending.push(format!("{} status: '{:?}'", obj.id(), r.status)),
                Err(e) => pending.push(format!("{}: {e}", obj.id())),
            }
        }
        if pending.is_empty() {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(ApplyError::Timeout(pending.join(", ")));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
