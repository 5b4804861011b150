//! Servers seeded for tests: CRDs installed and namespaces created, on the caller's runtime
//! ([`start_seeded`]) or on a runtime of its own ([`BackgroundServer`], for synchronous tests
//! that start controller binaries: the server keeps serving while the test blocks on a child).

use std::path::PathBuf;

use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::error::Error;
use crate::server::{RunningServer, ServerOptions, start};

/// Serves until dropped; its admin kubeconfig is written to [`BackgroundServer::kubeconfig`].
pub struct BackgroundServer {
    server: RunningServer,
    // Dropped after `server`, so the runtime outlives the tasks it runs.
    _runtime: tokio::runtime::Runtime,
    _dir: tempfile::TempDir,
    kubeconfig: PathBuf,
}

/// Starts a server with default options, `crds` installed and `namespaces` created, and a
/// client for it: the state every controller test starts from.
pub async fn start_seeded(
    crds: &[CustomResourceDefinition],
    namespaces: &[&str],
) -> Result<(RunningServer, kube::Client), Error> {
    start_seeded_with(ServerOptions::default(), crds, namespaces).await
}

/// [`start_seeded`] with explicit options.
pub async fn start_seeded_with(
    opts: ServerOptions,
    crds: &[CustomResourceDefinition],
    namespaces: &[&str],
) -> Result<(RunningServer, kube::Client), Error> {
    let server = start(opts).await?;
    let client = server.client().await?;
    let failed = |e: kube::Error| Error::Client(e.to_string());
    let api: kube::Api<CustomResourceDefinition> = kube::Api::all(client.clone());
    for crd in crds {
        api.create(&Default::default(), crd).await.map_err(failed)?;
    }
    let api: kube::Api<Namespace> = kube::Api::all(client.clone());
    for name in namespaces {
        let ns = Namespace {
            metadata: ObjectMeta {
                name: Some(name.to_string()),
                ..Default::default()
            },
            ..Default::default()
        };
        api.create(&Default::default(), &ns).await.map_err(failed)?;
    }
    Ok((server, client))
}

impl BackgroundServer {
    /// Starts a server with default options and `crds` installed.
    pub fn start(crds: Vec<CustomResourceDefinition>) -> Result<Self, Error> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .map_err(|e| Error::Serve(e.to_string()))?;
        let (server, _) = runtime.block_on(start_seeded(&crds, &[]))?;
        let dir = tempfile::tempdir().map_err(|e| Error::Serve(e.to_string()))?;
        let kubeconfig = dir.path().join("kubeconfig");
        server.write_kubeconfig(&kubeconfig)?;
        Ok(BackgroundServer {
            server,
            _runtime: runtime,
            _dir: dir,
            kubeconfig,
        })
    }

    /// Path of the admin kubeconfig (for `KUBECONFIG`).
    pub fn kubeconfig(&self) -> String {
        self.kubeconfig.display().to_string()
    }

    pub fn server(&self) -> &RunningServer {
        &self.server
    }
}
