//! The whole chain with real parts: a git repository served over smart HTTP, source-controller
//! packaging it into an artifact, and the Kustomization applying it and following new commits.

mod common;

use std::sync::Arc;

use common::{Harness, ready_at};
use flux_testservers::{HttpAuth, HttpGitServer, SourceRepo};
use kube::api::{Patch, PatchParams};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kustomization_applies_a_git_repository_artifact_and_follows_new_commits() {
    let h = Harness::start().await;
    let repo = SourceRepo::new();
    repo.commit_file(
        "deploy/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-git\n  namespace: apps\ndata:\n  n: \"1\"\n",
        "deploy",
    );
    let git = HttpGitServer::start(repo.root(), HttpAuth::None);
    let cache = tempfile::tempdir().expect("tempdir");
    let ctx = Arc::new(source_controller::gitrepository::Context {
        client: h.client.clone(),
        storage: h.storage.clone(),
        recorder: flux_runtime::events::Recorder::new(h.client.clone(), "source-controller", None),
        cache_root: cache.path().to_path_buf(),
        max_tree_size: 10 << 20,
        jitter_percent: 5,
        backoff: Default::default(),
    });
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(source_controller::gitrepository::run(
        ctx,
        None,
        None,
        2,
        async move {
            let _ = stopped.await;
        },
    ));
    h.apply_json(serde_json::json!({
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "GitRepository",
        "metadata": {"name": "fleet", "namespace": "flux-system"},
        "spec": {"interval": "1m", "url": git.url("fleet.git"), "ref": {"branch": "main"}}
    }))
    .await;
    h.create_ks(
        "flux-system",
        "git",
        serde_json::json!({"path": "./deploy"}),
    )
    .await;
    let rev1 = format!("main@sha1:{}", repo.rev("main"));
    h.wait_ks_within("flux-system", "git", 60, ready_at(&rev1))
        .await;
    let cm = h
        .get("v1", "ConfigMap", "apps", "from-git")
        .await
        .expect("cm");
    assert_eq!(cm["data"]["n"], "1");

    // A new commit, picked up on request: the Kustomization follows the new artifact.
    repo.commit_file(
        "deploy/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-git\n  namespace: apps\ndata:\n  n: \"2\"\n",
        "bump",
    );
    let rev2 = format!("main@sha1:{}", repo.rev("main"));
    let repos: kube::Api<flux_api::source::v1::GitRepository> =
        kube::Api::namespaced(h.client.clone(), "flux-system");
    repos
        .patch(
            "fleet",
            &PatchParams::default(),
            &Patch::Merge(serde_json::json!({"metadata": {"annotations": {"reconcile.fluxcd.io/requestedAt": "bump"}}})),
        )
        .await
        .expect("request");
    h.wait_ks_within("flux-system", "git", 60, ready_at(&rev2))
        .await;
    let cm = h
        .get("v1", "ConfigMap", "apps", "from-git")
        .await
        .expect("cm");
    assert_eq!(cm["data"]["n"], "2");
    let events = h.events_for("flux-system", "git").await;
    let changed = events
        .iter()
        .find(|e| e.message.as_deref() == Some("ConfigMap/apps/from-git configured"))
        .expect("change-set event");
    assert_eq!(changed.reason.as_deref(), Some("Progressing"));
    assert_eq!(
        changed
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get("kustomize.toolkit.fluxcd.io/revision")),
        Some(&rev2)
    );
    let _ = stop.send(());
}
