//! A kube-runtime Controller reconciling a custom resource against the server, the way the
//! flux-rs controllers do: watch, reconcile, server-side apply of status, settle without looping.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use flux_apiserver::{ServerOptions, start};
use futures::StreamExt;
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::core::{DynamicObject, GroupVersionKind};
use kube::discovery::ApiResource;
use kube::runtime::controller::{Action, Controller};
use kube::runtime::watcher;
use serde_json::json;

type Res<T = ()> = Result<T, Box<dyn std::error::Error>>;

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Failed(#[from] kube::Error);

struct Ctx {
    api: Api<DynamicObject>,
    runs: AtomicUsize,
}

async fn reconcile(obj: Arc<DynamicObject>, ctx: Arc<Ctx>) -> Result<Action, Failed> {
    ctx.runs.fetch_add(1, Ordering::SeqCst);
    let name = obj.metadata.name.clone().unwrap_or_default();
    let generation = obj.metadata.generation.unwrap_or(0);
    let status = json!({
        "apiVersion": "example.com/v1", "kind": "Widget",
        "status": {"observedGeneration": generation,
                   "conditions": [{"type": "Ready", "status": "True", "reason": "Succeeded",
                                   "message": "ok", "lastTransitionTime": "2026-01-01T00:00:00Z"}]}
    });
    ctx.api
        .patch_status(
            &name,
            &PatchParams::apply("widget-controller").force(),
            &Patch::Apply(status),
        )
        .await?;
    Ok(Action::await_change())
}

fn error_policy(_: Arc<DynamicObject>, _: &Failed, _: Arc<Ctx>) -> Action {
    Action::requeue(Duration::from_millis(200))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn controller_reconciles_status_and_settles() -> Res {
    let s = start(ServerOptions::default()).await?;
    let c = s.client().await?;
    let crds: Api<k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition> =
        Api::all(c.clone());
    crds.create(&PostParams::default(), &serde_json::from_value(json!({
        "metadata": {"name": "widgets.example.com"},
        "spec": {"group": "example.com", "scope": "Namespaced",
            "names": {"plural": "widgets", "kind": "Widget"},
            "versions": [{"name": "v1", "served": true, "storage": true, "subresources": {"status": {}},
                "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                    "spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                    "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}}}]}
    }))?).await?;
    let ar = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("example.com", "v1", "Widget"),
        "widgets",
    );
    let api: Api<DynamicObject> = Api::namespaced_with(c.clone(), "default", &ar);
    api.create(&PostParams::default(), &serde_json::from_value(json!({
        "apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {"size": 1}
    }))?).await?;

    let ctx = Arc::new(Ctx {
        api: api.clone(),
        runs: AtomicUsize::new(0),
    });
    let controller = Controller::new_with(api.clone(), watcher::Config::default(), ar.clone())
        .run(reconcile, error_policy, ctx.clone())
        .for_each(|_| async {});
    let handle = tokio::spawn(controller);

    let ready = |o: &DynamicObject| {
        o.data.pointer("/status/observedGeneration")
            == o.metadata.generation.map(|g| json!(g)).as_ref()
    };
    let mut ok = false;
    for _ in 0..50 {
        if ready(&api.get("w").await?) {
            ok = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ok, "status never reached observedGeneration");
    api.patch(
        "w",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"size": 2}})),
    )
    .await?;
    ok = false;
    for _ in 0..50 {
        let w = api.get("w").await?;
        if w.metadata.generation == Some(2) && ready(&w) {
            ok = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ok, "spec change was not reconciled");
    // Status writes must not retrigger endless reconciles (generation stays, no-op applies are free).
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let settled = ctx.runs.load(Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(
        ctx.runs.load(Ordering::SeqCst),
        settled,
        "controller kept reconciling"
    );
    handle.abort();
    s.shutdown().await?;
    Ok(())
}
