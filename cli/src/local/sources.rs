//! Sources in `flux local`: GitRepositories (and OCIRepositories and Buckets) whose name is
//! mapped to a directory get that directory as their artifact, packed exactly as
//! source-controller packs a checkout; unmapped ones fail with a message naming the flag.
//! Nothing is fetched from the network.

use std::collections::BTreeMap;
use std::time::Duration;

use flux_api::meta::{ARTIFACT_IN_STORAGE, Artifact, FETCH_FAILED, SUCCEEDED_REASON};
use flux_artifact::{IgnoreRules, Owner, Storage, pack_dir};
use flux_runtime::conditions::{self, Status};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, ApiResource, DynamicObject, ListParams, Patch, PatchParams};

use super::build::FleetOptions;

/// Reason on sources that `flux local` cannot serve.
pub const NOT_MAPPED_REASON: &str = "SourceNotMapped";

/// Source kinds served from directories, with the storage kind segment Flux uses.
const KINDS: &[(&str, &str, &str)] = &[
    ("GitRepository", "gitrepositories", "gitrepository"),
    ("OCIRepository", "ocirepositories", "ocirepository"),
    ("Bucket", "buckets", "bucket"),
];

/// Serves every source object until the task is dropped.
pub async fn serve(client: kube::Client, storage: Storage, fleet: FleetOptions) {
    loop {
        for (kind, plural, storage_kind) in KINDS {
            let resource = ApiResource {
                group: "source.toolkit.fluxcd.io".into(),
                version: "v1".into(),
                api_version: "source.toolkit.fluxcd.io/v1".into(),
                kind: kind.to_string(),
                plural: plural.to_string(),
            };
            let api: Api<DynamicObject> = Api::all_with(client.clone(), &resource);
            let Ok(list) = api.list(&ListParams::default()).await else {
                continue;
            };
            for obj in list.items {
                if let Err(e) =
                    reconcile(&client, &resource, &storage, &fleet, storage_kind, &obj).await
                {
                    tracing::warn!(kind, error = %e, "local source");
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

async fn reconcile(
    client: &kube::Client,
    resource: &ApiResource,
    storage: &Storage,
    fleet: &FleetOptions,
    storage_kind: &str,
    obj: &DynamicObject,
) -> Result<(), kube::Error> {
    let namespace = obj.metadata.namespace.clone().unwrap_or_default();
    let name = obj.metadata.name.clone().unwrap_or_default();
    let generation = obj.metadata.generation;
    let status = obj.data.get("status");
    let observed = status
        .and_then(|s| s.get("observedGeneration"))
        .and_then(|g| g.as_i64());
    let has_ready = status
        .and_then(|s| s.get("conditions"))
        .and_then(|c| c.as_array())
        .is_some_and(|c| {
            c.iter()
                .any(|c| c.get("type").and_then(|t| t.as_str()) == Some("Ready"))
        });
    if observed == generation && has_ready {
        return Ok(());
    }
    let mut conds: Vec<Condition> = status
        .and_then(|s| s.get("conditions"))
        .and_then(|c| serde_json::from_value(c.clone()).ok())
        .unwrap_or_default();
    let now = Timestamp::now();
    let mut new_status = serde_json::Map::new();
    match fleet.source_dir(&namespace, &name) {
        Some(dir) => {
            // The repository's own revision names the checked-out ref; mapped directories
            // are identified by their content digest.
            let revision = (dir == fleet.root)
                .then_some(fleet.revision.as_ref())
                .flatten();
            let ignore = obj
                .data
                .get("spec")
                .and_then(|s| s.get("ignore"))
                .and_then(|i| i.as_str())
                .map(str::to_string);
            let stored = pack_and_store(
                storage,
                storage_kind,
                &namespace,
                &name,
                &dir,
                ignore.as_deref(),
                revision,
            );
            match stored {
                Ok(artifact) => {
                    let message = format!("stored artifact for revision '{}'", artifact.revision);
                    conditions::remove(&mut conds, FETCH_FAILED);
                    conditions::set(
                        &mut conds,
                        ARTIFACT_IN_STORAGE,
                        Status::True,
                        SUCCEEDED_REASON,
                        &message,
                        generation,
                        now,
                    );
                    conditions::mark_ready(&mut conds, generation, SUCCEEDED_REASON, &message, now);
                    new_status.insert(
                        "artifact".into(),
                        serde_json::to_value(&artifact).unwrap_or_default(),
                    );
                }
                Err(message) => {
                    conditions::set(
                        &mut conds,
                        FETCH_FAILED,
                        Status::True,
                        "StorageOperationFailed",
                        &message,
                        generation,
                        now,
                    );
                    conditions::mark_failed(
                        &mut conds,
                        generation,
                        "StorageOperationFailed",
                        &message,
                        true,
                        now,
                    );
                }
            }
        }
        None => {
            let url = obj
                .data
                .get("spec")
                .and_then(|s| s.get("url"))
                .and_then(|u| u.as_str())
                .unwrap_or("its URL");
            let message = format!(
                "flux local does not fetch {url}: map this source to a directory with --source {name}=DIR"
            );
            conditions::set(
                &mut conds,
                FETCH_FAILED,
                Status::True,
                NOT_MAPPED_REASON,
                &message,
                generation,
                now,
            );
            conditions::mark_failed(
                &mut conds,
                generation,
                NOT_MAPPED_REASON,
                &message,
                true,
                now,
            );
        }
    }
    new_status.insert(
        "conditions".into(),
        serde_json::to_value(&conds).unwrap_or_default(),
    );
    new_status.insert("observedGeneration".into(), serde_json::json!(generation));
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), &namespace, resource);
    let body = serde_json::json!({ "status": new_status });
    api.patch_status(&name, &PatchParams::default(), &Patch::Merge(&body))
        .await
        .map(|_| ())
}

fn pack_and_store(
    storage: &Storage,
    storage_kind: &str,
    namespace: &str,
    name: &str,
    dir: &std::path::Path,
    ignore: Option<&str>,
    revision: Option<&String>,
) -> Result<Artifact, String> {
    let rules = IgnoreRules::load(dir, ignore).map_err(|e| e.to_string())?;
    let mut archive = Vec::new();
    pack_dir(dir, &rules, &mut archive).map_err(|e| e.to_string())?;
    let digest = flux_artifact::digest(&archive);
    let owner = Owner {
        kind: storage_kind,
        namespace,
        name,
    };
    let hex = digest.trim_start_matches("sha256:");
    let stored = storage
        .store(&owner, &format!("{hex}.tar.gz"), &archive)
        .map_err(|e| e.to_string())?;
    Ok(Artifact {
        path: stored.path,
        url: stored.url,
        revision: revision
            .cloned()
            .unwrap_or_else(|| format!("local@{digest}")),
        digest: Some(stored.digest),
        last_update_time: Time(Timestamp::now()),
        size: i64::try_from(stored.size).ok(),
        metadata: BTreeMap::new(),
    })
}
