//! source-controller: reconcilers (library) used by the binary and by `flux local`.

pub mod flags;

/// The binary name, also the controller name in events, leases and field managers.
pub const CONTROLLER_NAME: &str = "source-controller";
pub mod bucket;
pub mod chart_build;
pub mod cosign;
pub mod gitrepository;
pub mod helm_http;
pub mod helm_index;
pub mod helmchart;
pub mod helmrepository;
pub mod oci_registry;
pub mod ocirepository;
pub mod source_status;

use std::sync::Arc;

use flux_runtime::events::Recorder;
use flux_runtime::flags::ListenAddr;
use flux_runtime::manager::{self, ManagerError};
use flux_runtime::server::RunContext;
use kube::api::ApiResource;

/// Largest OCI layer pulled, as Flux's source-controller.
const MAX_OCI_LAYER_SIZE: u64 = 100 << 20;

/// The host:port artifact URLs are built from: `--storage-adv-addr`, else the storage address
/// with the pod's hostname for an empty host (Flux's `determineAdvStorageAddr`).
pub fn advertised_storage_addr(flags: &flags::Flags) -> String {
    if !flags.storage_adv_addr.is_empty() {
        return flags.storage_adv_addr.clone();
    }
    match &flags.storage_addr {
        ListenAddr::Tcp { host, port } if host.is_empty() => {
            let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "localhost".into());
            format!("{host}:{port}")
        }
        addr => addr.to_string(),
    }
}

/// The controller's work: the artifact server on `--storage-addr` and the GitRepository,
/// HelmRepository, HelmChart and OCIRepository reconcilers, until `run.shutdown` turns.
pub async fn start(flags: flags::Flags, run: RunContext) -> Result<(), ManagerError> {
    let common = &flags.common;
    let namespace = manager::watch_namespace(common)?;
    let (_, client) = manager::kube_client(&common.client).await?;
    let kinds = [
        ApiResource::erase::<flux_api::source::v1::GitRepository>(&()),
        ApiResource::erase::<flux_api::source::v1::HelmRepository>(&()),
        ApiResource::erase::<flux_api::source::v1::HelmChart>(&()),
        ApiResource::erase::<flux_api::source::v1::OCIRepository>(&()),
        ApiResource::erase::<flux_api::source::v1::Bucket>(&()),
    ];
    manager::require_kinds(&client, namespace.as_deref(), &kinds).await?;
    // As in Flux, the artifact server runs on the leader only, with the reconcilers.
    flux_runtime::leader::run_elected(
        client.clone(),
        CONTROLLER_NAME,
        &common.leader_election,
        run.shutdown,
        |stop| run_sources(&flags, client, namespace.as_deref(), stop),
    )
    .await
}

async fn run_sources(
    flags: &flags::Flags,
    client: kube::Client,
    namespace: Option<&str>,
    shutdown: tokio::sync::watch::Receiver<bool>,
) -> Result<(), ManagerError> {
    let common = &flags.common;
    let setup = |what: &str, e: &dyn std::fmt::Display| ManagerError::Setup(format!("{what}: {e}"));
    let storage = flux_artifact::Storage::new(
        &flags.storage_path,
        &advertised_storage_addr(flags),
        usize::try_from(flags.artifact_retention_records).unwrap_or(usize::MAX),
    )
    .map_err(|e| setup("unable to initialise storage", &e))?
    .with_retention_ttl(flags.artifact_retention_ttl.into());
    // Git caches and chart/layer scratch space live outside the served storage root.
    let scratch = tempfile::Builder::new()
        .prefix("source-controller-")
        .tempdir()
        .map_err(|e| setup("unable to create a work directory", &e))?;
    let listener = flux_runtime::server::bind("storage", &flags.storage_addr)
        .await
        .map_err(|e| setup("artifact server", &e))?;
    let router = flux_artifact::router(storage.clone());
    let artifact_server = async {
        let Some(listener) = listener else { return };
        tracing::info!(target: "setup", storage_path = %flags.storage_path, storage_addr = %flags.storage_addr, advertised = %advertised_storage_addr(flags), "serving artifacts");
        if let Err(err) = axum::serve(listener, router)
            .with_graceful_shutdown(manager::on_stop(shutdown.clone()))
            .await
        {
            tracing::error!(target: "setup", error = %err, "artifact server error");
        }
    };

    let recorder = Recorder::new(client.clone(), CONTROLLER_NAME, Some(&common.events_addr));
    let jitter_percent = u32::from(common.jitter.percentage);
    let git = Arc::new(gitrepository::Context {
        client: client.clone(),
        storage: storage.clone(),
        recorder: recorder.clone(),
        cache_root: scratch.path().join("git"),
        max_tree_size: flux_artifact::DEFAULT_MAX_UNPACK_SIZE,
        jitter_percent,
        backoff: Default::default(),
    });
    let helm_repo = Arc::new(helmrepository::Context {
        client: client.clone(),
        storage: storage.clone(),
        recorder: recorder.clone(),
        max_index_size: flags.helm_index_max_size,
        jitter_percent,
        backoff: Default::default(),
    });
    let chart = Arc::new(helmchart::Context {
        client: client.clone(),
        storage: storage.clone(),
        recorder: recorder.clone(),
        work_dir: scratch.path().join("helmchart"),
        limits: helmchart::ChartLimits {
            max_chart_size: flags.helm_chart_max_size,
            max_file_size: flags.helm_chart_file_max_size,
        },
        jitter_percent,
        backoff: Default::default(),
    });
    let bucket = Arc::new(bucket::Context {
        client: client.clone(),
        storage: storage.clone(),
        recorder: recorder.clone(),
        work_dir: scratch.path().join("bucket"),
        max_size: flux_artifact::DEFAULT_MAX_UNPACK_SIZE,
        http: bucket::http_client(),
        jitter_percent,
        backoff: Default::default(),
    });
    let oci = Arc::new(ocirepository::Context {
        client,
        storage,
        recorder,
        work_dir: scratch.path().join("oci"),
        max_layer_size: MAX_OCI_LAYER_SIZE,
        jitter_percent,
        backoff: Default::default(),
    });
    for dir in ["git", "helmchart", "oci"] {
        std::fs::create_dir_all(scratch.path().join(dir))
            .map_err(|e| setup("unable to create a work directory", &e))?;
    }
    let (ns, selector, n) = (
        namespace,
        manager::label_selector(common),
        manager::concurrency(common),
    );
    let stop = || manager::on_stop(shutdown.clone());
    tracing::info!(target: "setup", namespace = ns.unwrap_or(""), "starting reconcilers");
    tokio::join!(
        artifact_server,
        gitrepository::run(git, ns, selector, n, stop()),
        helmrepository::run(helm_repo, ns, selector, n, stop()),
        helmchart::run(chart, ns, selector, n, stop()),
        ocirepository::run(oci, ns, selector, n, stop()),
        bucket::run(bucket, ns, selector, n, stop()),
    );
    Ok(())
}
