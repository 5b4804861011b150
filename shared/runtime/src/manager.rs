//! What every controller binary does before its reconcilers run: infer the Kubernetes client
//! configuration, pick the watched namespace, and turn the process stop flag into the shutdown
//! future kube's `Controller` wants.

use std::future::Future;

use kube::api::{Api, ApiResource, DynamicObject, ListParams};
use kube::runtime::reflector::Store;
use tokio::sync::watch;

use crate::flags::{ClientFlags, ControllerFlags};
use crate::throttle::ThrottleLayer;

/// The environment variable Flux's deployments set to the pod's namespace (downward API).
pub const RUNTIME_NAMESPACE_ENV: &str = "RUNTIME_NAMESPACE";

/// Why a controller could not start its reconcilers.
#[derive(Debug, thiserror::Error)]
pub enum ManagerError {
    #[error("unable to load the kubeconfig: {0}")]
    Kubeconfig(#[source] kube::config::InferConfigError),
    #[error("unable to create the Kubernetes client: {0}")]
    Client(#[source] kube::Error),
    #[error("--watch-all-namespaces=false needs the {RUNTIME_NAMESPACE_ENV} environment variable")]
    NoRuntimeNamespace,
    #[error(
        "no matches for kind \"{kind}\" in version \"{api_version}\" (are the CRDs installed?)"
    )]
    MissingKind { kind: String, api_version: String },
    #[error("unable to list {kind}: {source}")]
    List {
        kind: String,
        #[source]
        source: kube::Error,
    },
    #[error("{0}")]
    Setup(String),
    #[error("leader election: {0}")]
    LeaderElection(String),
}

/// The Kubernetes configuration as client-go infers it (`KUBECONFIG`, `~/.kube/config`, then
/// the in-cluster service account), and a client made from it, throttled to `--kube-api-qps` and
/// `--kube-api-burst`. The configuration is returned too because reconcilers clone it to
/// impersonate tenants.
pub async fn kube_client(
    throttle: &ClientFlags,
) -> Result<(kube::Config, kube::Client), ManagerError> {
    let config = kube::Config::infer()
        .await
        .map_err(ManagerError::Kubeconfig)?;
    let client = kube::client::ClientBuilder::try_from(config.clone())
        .map_err(ManagerError::Client)?
        .with_layer(&ThrottleLayer::new(throttle))
        .build();
    Ok((config, client))
}

/// Fails unless the API server serves every kind in `kinds` (in `namespace`, or cluster-wide),
/// as controller-runtime refuses to start a controller whose kind is unknown. Starting anyway
/// would leave a watcher retrying forever and a controller that cannot shut down cleanly,
/// because kube's `Controller` holds its runner until the first list succeeds.
pub async fn require_kinds(
    client: &kube::Client,
    namespace: Option<&str>,
    kinds: &[ApiResource],
) -> Result<(), ManagerError> {
    for ar in kinds {
        let api: Api<DynamicObject> = match namespace {
            Some(ns) => Api::namespaced_with(client.clone(), ns, ar),
            None => Api::all_with(client.clone(), ar),
        };
        match api.list(&ListParams::default().limit(1)).await {
            Ok(_) => {}
            Err(kube::Error::Api(status)) if status.code == 404 => {
                return Err(ManagerError::MissingKind {
                    kind: ar.kind.clone(),
                    api_version: ar.api_version.clone(),
                });
            }
            Err(source) => {
                return Err(ManagerError::List {
                    kind: ar.kind.clone(),
                    source,
                });
            }
        }
    }
    Ok(())
}

/// The pod's namespace, from `RUNTIME_NAMESPACE`.
pub fn runtime_namespace() -> Option<String> {
    std::env::var(RUNTIME_NAMESPACE_ENV)
        .ok()
        .filter(|ns| !ns.is_empty())
}

/// The namespace the reconcilers watch: `None` for all (`--watch-all-namespaces`, the default),
/// else the runtime namespace, as in Flux.
pub fn watch_namespace(flags: &ControllerFlags) -> Result<Option<String>, ManagerError> {
    if flags.watch.all_namespaces {
        return Ok(None);
    }
    runtime_namespace()
        .map(Some)
        .ok_or(ManagerError::NoRuntimeNamespace)
}

/// `--watch-label-selector`, or `None` when empty.
pub fn label_selector(flags: &ControllerFlags) -> Option<&str> {
    Some(flags.watch.label_selector.as_str()).filter(|s| !s.is_empty())
}

/// `--concurrent` in the width kube's controller config takes.
pub fn concurrency(flags: &ControllerFlags) -> u16 {
    u16::try_from(flags.concurrent).unwrap_or(u16::MAX)
}

/// Resolves once `stop` turns `true` (or its sender is gone).
pub async fn on_stop(mut stop: watch::Receiver<bool>) {
    let _ = stop.wait_for(|stopped| *stopped).await;
}

/// `shutdown`, held back until `store` has seen its first full list. kube's `Controller` keeps
/// its runner waiting for the store, and stops feeding the store once graceful shutdown fires,
/// so a stop signal that arrives before the first list completes would hang the controller.
pub async fn after_sync<K>(store: Store<K>, shutdown: impl Future<Output = ()>)
where
    K: kube::runtime::reflector::Lookup + Clone + 'static,
    K::DynamicType: Eq + std::hash::Hash + Clone,
{
    shutdown.await;
    let _ = store.wait_until_ready().await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct TestFlags {
        #[command(flatten)]
        common: ControllerFlags,
    }

    fn parse(args: &[&str]) -> ControllerFlags {
        let argv = std::iter::once("x").chain(args.iter().copied());
        crate::flags::try_parse_from::<TestFlags, _, _>(argv, &[])
            .expect("flags")
            .common
    }

    #[test]
    fn watch_options_follow_the_flags() {
        let all = parse(&[]);
        assert_eq!(watch_namespace(&all).expect("all"), None);
        assert_eq!(label_selector(&all), None);
        let f = parse(&["--watch-label-selector=sharding.fluxcd.io/key=shard1"]);
        assert_eq!(label_selector(&f), Some("sharding.fluxcd.io/key=shard1"));
        assert_eq!(concurrency(&parse(&["--concurrent=7"])), 7);
    }

    #[tokio::test]
    async fn on_stop_resolves_when_the_flag_turns() {
        let (tx, rx) = watch::channel(false);
        let fut = on_stop(rx);
        tokio::pin!(fut);
        assert!(futures::poll!(&mut fut).is_pending());
        tx.send(true).expect("send");
        fut.await;
    }
}
