//! The parts every Flux reconciler shares around its own logic: where it watches, the error it
//! returns, Flux's finalizer, the retry backoff and the loop that drives kube's `Controller`.
//! A reconciler module keeps only what is its own: the watches that map other objects to it,
//! `apply` and `cleanup`.

use std::fmt::Debug;
use std::future::Future;
use std::hash::Hash;
use std::sync::Arc;

use futures::StreamExt;
use kube::api::Api;
use kube::runtime::controller::{Action, Controller};
use kube::runtime::finalizer::{self, Event as FinalizerEvent};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::reconcile::{Backoff, FINALIZER};

/// Why a reconcile ended without success.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("kubernetes API: {0}")]
    Kube(#[from] kube::Error),
    #[error("finalizer: {0}")]
    Finalizer(String),
    /// Already reported in the status; the error only drives the retry backoff.
    #[error("{reason}: {message}")]
    Reconcile { reason: String, message: String },
}

/// The objects of kind `K` in `namespace`, or in all namespaces.
pub fn api<K>(client: &kube::Client, namespace: Option<&str>) -> Api<K>
where
    K: Resource<Scope = k8s_openapi::NamespaceResourceScope>,
    K::DynamicType: Default,
{
    match namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    }
}

/// A watch restricted to `--watch-label-selector`, when one is set.
pub fn watcher_config(label_selector: Option<&str>) -> watcher::Config {
    let config = watcher::Config::default();
    match label_selector.filter(|s| !s.is_empty()) {
        Some(selector) => config.labels(selector),
        None => config,
    }
}

/// A controller of the objects `api` and `config` select, woken only when an object's
/// generation, reconcile request, deletion or finalizers change
/// ([`reconcile_trigger`](crate::reconcile::reconcile_trigger)), as Flux's predicates do: the
/// status a reconciler writes does not wake it again. Watches added with `.watches` are not
/// filtered, so a source's new artifact still reaches the objects that use it.
pub fn controller_for<K>(api: Api<K>, config: watcher::Config) -> Controller<K>
where
    K: Resource + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
    K::DynamicType: Default + Debug + Eq + Hash + Clone + Unpin,
{
    let (store, writer) = kube::runtime::reflector::store();
    let objects = kube::runtime::reflector(writer, watcher::watcher(api, config))
        .default_backoff()
        .applied_objects()
        .predicate_filter(crate::reconcile::reconcile_trigger, Default::default());
    Controller::for_stream(objects, store)
}

/// `namespace/name`, the key of an object's retry backoff.
pub fn object_key<K: Resource>(obj: &K) -> String {
    format!("{}/{}", obj.namespace().unwrap_or_default(), obj.name_any())
}

/// The requeue after a failed reconcile: the object's next exponential backoff step.
pub fn requeue_after_failure<K: Resource>(backoff: &Backoff, obj: &K) -> Action {
    Action::requeue(backoff.failed(&object_key(obj)))
}

/// Runs `apply`, or `cleanup` once the object is being deleted, under Flux's finalizer
/// (added before the first apply, removed after a successful cleanup).
pub async fn with_finalizer<K, A, AFut, C, CFut>(
    api: &Api<K>,
    obj: Arc<K>,
    apply: A,
    cleanup: C,
) -> Result<Action, Error>
where
    K: Resource + Clone + DeserializeOwned + Serialize + Debug,
    K::DynamicType: Default,
    A: FnOnce(Arc<K>) -> AFut,
    AFut: Future<Output = Result<Action, Error>>,
    C: FnOnce(Arc<K>) -> CFut,
    CFut: Future<Output = Result<Action, Error>>,
{
    finalizer::finalizer(api, FINALIZER, obj, |event| async move {
        match event {
            FinalizerEvent::Apply(obj) => apply(obj).await,
            FinalizerEvent::Cleanup(obj) => cleanup(obj).await,
        }
    })
    .await
    .map_err(|e| match e {
        finalizer::Error::ApplyFailed(err) | finalizer::Error::CleanupFailed(err) => err,
        other => Error::Finalizer(other.to_string()),
    })
}

/// Drives `controller` until `shutdown` resolves (and its caches have synced, so a stop during
/// start-up is clean): `concurrency` reconciles at a time, each timed into the metrics under
/// `kind`, failures requeued by `error_policy`.
pub async fn drive<K, Ctx, R, Fut, P>(
    controller: Controller<K>,
    kind: &'static str,
    concurrency: u16,
    shutdown: impl Future<Output = ()> + Send + Sync + 'static,
    reconcile: R,
    error_policy: P,
    ctx: Arc<Ctx>,
) where
    K: Resource + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
    K::DynamicType: Debug + Eq + Hash + Clone + Unpin,
    Ctx: Send + Sync + 'static,
    R: FnMut(Arc<K>, Arc<Ctx>) -> Fut,
    Fut: Future<Output = Result<Action, Error>> + Send + 'static,
    P: Fn(Arc<K>, &Error, Arc<Ctx>) -> Action,
{
    let shutdown = crate::manager::after_sync(controller.store(), shutdown);
    controller
        .with_config(kube::runtime::controller::Config::default().concurrency(concurrency))
        .graceful_shutdown_on(shutdown)
        .run(crate::metrics::timed(kind, reconcile), error_policy, ctx)
        .for_each(|result| async move {
            if let Err(err) = result {
                tracing::debug!(kind, error = %err, "reconcile ended with an error");
            }
        })
        .await;
}
