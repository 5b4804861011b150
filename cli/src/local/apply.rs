//! Server-side apply of plain manifests (what `flux local` bootstraps with, as `kubectl apply
//! --server-side` would), in Flux's order: CRDs and Namespaces before everything else.

use kube::api::{Api, DynamicObject, Patch, PatchParams};
use kube::core::GroupVersionKind;
use kube::discovery::{Scope, pinned_kind};

/// Field manager of objects `flux local` applies itself.
pub const FIELD_MANAGER: &str = "flux-local";

fn stage(obj: &serde_json::Value) -> u8 {
    match obj.get("kind").and_then(|k| k.as_str()) {
        Some("CustomResourceDefinition") => 0,
        Some("Namespace") => 1,
        _ => 2,
    }
}

/// Applies `objects`; the error names the object that failed.
pub async fn apply_all(
    client: &kube::Client,
    objects: &[serde_json::Value],
) -> Result<usize, String> {
    let mut ordered: Vec<&serde_json::Value> = objects.iter().collect();
    ordered.sort_by_key(|o| stage(o));
    for obj in &ordered {
        apply_one(client, obj).await?;
    }
    Ok(ordered.len())
}

async fn apply_one(client: &kube::Client, obj: &serde_json::Value) -> Result<(), String> {
    let api_version = obj
        .get("apiVersion")
        .and_then(|v| v.as_str())
        .unwrap_or_default();
    let kind = obj.get("kind").and_then(|v| v.as_str()).unwrap_or_default();
    let name = obj
        .pointer("/metadata/name")
        .and_then(|v| v.as_str())
        .unwrap_or_default();
    let id = format!("{kind}/{name}");
    let (group, version) = match api_version.split_once('/') {
        Some((g, v)) => (g, v),
        None => ("", api_version),
    };
    let gvk = GroupVersionKind::gvk(group, version, kind);
    let (resource, caps) = pinned_kind(client, &gvk)
        .await
        .map_err(|e| format!("{id}: no such kind {api_version}/{kind} in the cluster: {e}"))?;
    let api: Api<DynamicObject> = if caps.scope == Scope::Namespaced {
        let ns = obj
            .pointer("/metadata/namespace")
            .and_then(|v| v.as_str())
            .unwrap_or("default");
        Api::namespaced_with(client.clone(), ns, &resource)
    } else {
        Api::all_with(client.clone(), &resource)
    };
    api.patch(
        name,
        &PatchParams::apply(FIELD_MANAGER).force(),
        &Patch::Apply(obj),
    )
    .await
    .map(|_| ())
    .map_err(|e| format!("{id}: {e}"))
}
