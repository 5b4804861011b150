//! The controllers `flux local run` runs in-process, tuned for a run that should finish in
//! seconds: dependencies are re-checked every second and health polled often.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use flux_artifact::Storage;
use flux_runtime::events::Recorder;
use tokio::task::JoinSet;

/// What the in-process controllers share.
pub struct Shared<'a> {
    pub client: &'a kube::Client,
    pub kube_config: &'a kube::Config,
    pub storage: &'a Storage,
    pub work_dir: &'a Path,
}

/// How often a Kustomization or HelmRelease waiting on a dependency looks again.
const REQUEUE_DEPENDENCY: Duration = Duration::from_secs(1);
const CONCURRENCY: u16 = 4;

/// Starts kustomize-controller, helm-controller and the HelmChart part of source-controller;
/// they stop when `tasks` is aborted.
pub fn start(tasks: &mut JoinSet<()>, shared: &Shared<'_>) {
    let client = shared.client.clone();
    let recorder = |controller: &str| Recorder::new(client.clone(), controller, None);

    let kustomize = Arc::new(kustomize_controller::kustomization::Context {
        client: client.clone(),
        kube_config: shared.kube_config.clone(),
        recorder: recorder("kustomize-controller"),
        http: reqwest::Client::new(),
        options: kustomize_controller::kustomization::Options {
            requeue_dependency: REQUEUE_DEPENDENCY,
            health_poll_interval: Duration::from_millis(250),
            jitter_percent: 0,
            ..Default::default()
        },
        backoff: Default::default(),
    });
    tasks.spawn(kustomize_controller::kustomization::run(
        kustomize,
        None,
        None,
        CONCURRENCY,
        std::future::pending(),
    ));

    let helm = Arc::new(helm_controller::helmrelease::Context {
        client: client.clone(),
        kube_config: shared.kube_config.clone(),
        default_service_account: None,
        recorder: recorder("helm-controller"),
        http: reqwest::Client::new(),
        backoff: Default::default(),
        jitter_percent: 0,
        requeue_dependency: REQUEUE_DEPENDENCY,
        max_artifact_size: flux_artifact::DEFAULT_MAX_DOWNLOAD_SIZE,
    });
    tasks.spawn(helm_controller::helmrelease::run(
        helm,
        None,
        None,
        CONCURRENCY,
        std::future::pending(),
    ));

    let charts = Arc::new(source_controller::helmchart::Context {
        client: client.clone(),
        storage: shared.storage.clone(),
        recorder: recorder("source-controller"),
        work_dir: shared.work_dir.to_path_buf(),
        limits: Default::default(),
        jitter_percent: 0,
        backoff: Default::default(),
    });
    tasks.spawn(source_controller::helmchart::run(
        charts,
        None,
        None,
        CONCURRENCY,
        std::future::pending(),
    ));
}
