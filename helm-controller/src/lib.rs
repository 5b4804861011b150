//! helm-controller: reconcilers (library) used by the binary and by `flux local`.

pub mod flags;

/// The binary name, also the controller name in events, leases and field managers.
pub const CONTROLLER_NAME: &str = "helm-controller";
pub mod actions;
pub mod apply;
pub mod helmrelease;
pub mod release;
pub mod values;

use std::sync::Arc;

use flux_runtime::events::Recorder;
use flux_runtime::manager::{self, ManagerError};
use flux_runtime::server::RunContext;
use kube::api::ApiResource;

/// The controller's work: the HelmRelease reconciler, configured from Flux's flags, until
/// `run.shutdown` turns.
pub async fn start(flags: flags::Flags, run: RunContext) -> Result<(), ManagerError> {
    let common = &flags.common;
    let namespace = manager::watch_namespace(common)?;
    let (kube_config, client) = manager::kube_client(&common.client).await?;
    let kinds = [
        ApiResource::erase::<flux_api::helm::v2::HelmRelease>(&()),
        ApiResource::erase::<flux_api::source::v1::HelmChart>(&()),
    ];
    manager::require_kinds(&client, namespace.as_deref(), &kinds).await?;
    let ctx = Arc::new(helmrelease::Context {
        recorder: Recorder::new(client.clone(), CONTROLLER_NAME, Some(&common.events_addr)),
        client,
        kube_config,
        default_service_account: Some(common.default_service_account.clone())
            .filter(|s| !s.is_empty()),
        http: reqwest::Client::new(),
        backoff: Default::default(),
        jitter_percent: u32::from(common.jitter.percentage),
        requeue_dependency: common.requeue_dependency.as_duration(),
        max_artifact_size: flux_artifact::DEFAULT_MAX_DOWNLOAD_SIZE,
    });
    tracing::info!(target: "setup", namespace = namespace.as_deref().unwrap_or(""), "starting reconcilers");
    let (selector, concurrency) = (
        manager::label_selector(common),
        manager::concurrency(common),
    );
    flux_runtime::leader::run_elected(
        ctx.client.clone(),
        CONTROLLER_NAME,
        &common.leader_election,
        run.shutdown,
        |stop| async {
            helmrelease::run(
                ctx,
                namespace.as_deref(),
                selector,
                concurrency,
                manager::on_stop(stop),
            )
            .await;
            Ok(())
        },
    )
    .await
}
