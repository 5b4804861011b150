//! A server on a runtime of its own, for synchronous tests that start controller binaries
//! against it: the server keeps serving while the test blocks on a child process.

use std::path::PathBuf;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;

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

impl BackgroundServer {
    /// Starts a server with default options and `crds` installed.
    pub fn start(crds: Vec<CustomResourceDefinition>) -> Result<Self, Error> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .map_err(|e| Error::Serve(e.to_string()))?;
        let server = runtime.block_on(async {
            let server = start(ServerOptions::default()).await?;
            let client = server.client().await?;
            let api: kube::Api<CustomResourceDefinition> = kube::Api::all(client);
            for crd in &crds {
                api.create(&Default::default(), crd)
                    .await
                    .map_err(|e| Error::Client(e.to_string()))?;
            }
            Ok::<_, Error>(server)
        })?;
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
