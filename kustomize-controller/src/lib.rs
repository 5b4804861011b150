//! kustomize-controller: reconcilers (library) used by the binary and by `flux local`.

pub mod flags;

/// The binary name, also the controller name in events, leases and field managers.
pub const CONTROLLER_NAME: &str = "kustomize-controller";
pub mod apply;
pub mod build;
pub mod convert;
pub mod godur;
pub mod history;
pub mod inventory;
pub mod kustomization;
pub mod overrides;

use std::sync::Arc;

use flux_runtime::events::Recorder;
use flux_runtime::manager::{self, ManagerError};
use flux_runtime::server::RunContext;
use kube::api::ApiResource;

/// The controller's work: the Kustomization reconciler, configured from Flux's flags, until
/// `run.shutdown` turns.
pub async fn start(flags: flags::Flags, run: RunContext) -> Result<(), ManagerError> {
    let common = &flags.common;
    let namespace = manager::watch_namespace(common)?;
    let (kube_config, client) = manager::kube_client(&common.client).await?;
    let kinds = [
        ApiResource::erase::<flux_api::kustomize::v1::Kustomization>(&()),
        ApiResource::erase::<flux_api::source::v1::GitRepository>(&()),
        ApiResource::erase::<flux_api::source::v1::OCIRepository>(&()),
        ApiResource::erase::<flux_api::source::v1::Bucket>(&()),
    ];
    manager::require_kinds(&client, namespace.as_deref(), &kinds).await?;
    let ctx = Arc::new(kustomization::Context {
        recorder: Recorder::new(client.clone(), CONTROLLER_NAME, Some(&common.events_addr)),
        client,
        kube_config,
        http: reqwest::Client::new(),
        options: kustomization::Options::from_flags(&flags),
        backoff: Default::default(),
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
            kustomization::run(
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
