//! Starting and stopping the server: options, the running handle, kubeconfig and clients.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::json;
use tokio::sync::Notify;

use crate::auth::{Auth, UserInfo};
use crate::error::Error;
use crate::registry::{GroupResource, Registry};
use crate::store::{Change, Store};

/// How to run the server.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Enforce RBAC for non-admin users (the admin is in `system:masters`).
    pub rbac: bool,
    /// Make workloads become ready (Deployments, StatefulSets, DaemonSets, ReplicaSets, Jobs, Pods).
    pub simulate_workloads: bool,
    /// Load objects from this file at start (if it exists) and save them there on shutdown.
    pub state_file: Option<PathBuf>,
    /// Watch events kept for resourceVersion replay; older versions get 410 Expired.
    pub watch_history: usize,
    /// Treat requests without credentials as the admin. kubectl (client-go) drops tokens when
    /// the server URL is plain `http://`, so this is what makes kubectl work; the listener is
    /// loopback only, like kube-apiserver's former insecure port.
    pub anonymous_admin: bool,
}

impl Default for ServerOptions {
    fn default() -> Self {
        Self {
            port: 0,
            rbac: true,
            simulate_workloads: false,
            state_file: None,
            watch_history: 10_000,
            anonymous_admin: true,
        }
    }
}

pub(crate) struct ServerState {
    pub store: Store,
    pub registry: Registry,
    pub auth: Auth,
    pub addr: String,
    pub simulate: bool,
    pub gc: Notify,
    pub sim: Notify,
    pub shutdown: tokio::sync::watch::Receiver<bool>,
}

/// A server running in this process.
pub struct RunningServer {
    addr: SocketAddr,
    state: Arc<ServerState>,
    stop: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
    state_file: Option<PathBuf>,
}

const SYSTEM_NAMESPACES: &[&str] = &["default", "kube-system", "kube-public", "kube-node-lease"];

/// Start the server on 127.0.0.1 (plain HTTP on loopback).
pub async fn start(opts: ServerOptions) -> Result<RunningServer, Error> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", opts.port))
        .await
        .map_err(|source| Error::Bind {
            port: opts.port,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| Error::Bind {
        port: opts.port,
        source,
    })?;
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    let state = Arc::new(ServerState {
        store: Store::new(opts.watch_history),
        registry: Registry::new(),
        auth: Auth::new(opts.rbac, opts.anonymous_admin),
        addr: addr.to_string(),
        simulate: opts.simulate_workloads,
        gc: Notify::new(),
        sim: Notify::new(),
        shutdown: shutdown.clone(),
    });
    if let Some(path) = &opts.state_file {
        crate::persist::load(&state, path)?;
    }
    seed(&state);
    let app = axum::Router::new()
        .fallback(crate::api::handle)
        .with_state(state.clone());
    // Watch events are small writes in quick succession: without TCP_NODELAY, Nagle holds each
    // one back until the previous is acknowledged, and the receiver delays its ACKs.
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        let _ = tcp.set_nodelay(true);
    });
    let mut sd = shutdown.clone();
    let task = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = sd.wait_for(|v| *v).await;
            })
            .await
    });
    tokio::spawn(crate::gc::run(state.clone()));
    if opts.simulate_workloads {
        tokio::spawn(crate::simulate::run(state.clone()));
    }
    Ok(RunningServer {
        addr,
        state,
        stop,
        task,
        state_file: opts.state_file,
    })
}

fn seed(state: &ServerState) {
    let gr = GroupResource::new("", "namespaces");
    let Some(def) = state.registry.lookup("", "v1", "namespaces") else {
        return;
    };
    for ns in SYSTEM_NAMESPACES {
        if state.store.get(&gr, "", ns).is_some() {
            continue;
        }
        let body = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}});
        if let Ok(obj) = crate::objects::prepare_create(&def, "", body, false, false) {
            let _ = state
                .store
                .transact(&gr, "", ns, false, |_| Ok(Change::Put(obj)));
        }
        default_service_account(state, ns);
    }
    crate::bootstrap_rbac::seed(state);
    crate::crd::sync_registry(&state.store, &state.registry);
}

/// The `default` ServiceAccount the ServiceAccount controller creates in every namespace.
pub(crate) fn default_service_account(state: &ServerState, ns: &str) {
    let gr = GroupResource::new("", "serviceaccounts");
    let Some(def) = state.registry.lookup("", "v1", "serviceaccounts") else {
        return;
    };
    let body =
        json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default"}});
    if let Ok(obj) = crate::objects::prepare_create(&def, ns, body, false, false) {
        let _ = state
            .store
            .transact(&gr, ns, "default", false, |old| match old {
                Some(_) => Err(crate::error::ApiError::already_exists(
                    "",
                    "serviceaccounts",
                    "default",
                )),
                None => Ok(Change::Put(obj)),
            });
    }
}

impl RunningServer {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bearer token of the cluster-admin user (`system:masters`).
    pub fn admin_token(&self) -> &str {
        &self.state.auth.admin_token
    }

    /// A kubeconfig for the cluster-admin user, current context `flux-local`.
    pub fn kubeconfig_yaml(&self) -> String {
        kubeconfig_for(&self.url(), "admin", self.admin_token())
    }

    /// Write the admin kubeconfig to `path` (readable by kubectl and `kube::Client::try_default`).
    pub fn write_kubeconfig(&self, path: &Path) -> Result<(), Error> {
        std::fs::write(path, self.kubeconfig_yaml()).map_err(|source| Error::WriteKubeconfig {
            path: path.display().to_string(),
            source,
        })
    }

    /// A kube client acting as cluster-admin.
    pub async fn client(&self) -> Result<kube::Client, Error> {
        client_from(&self.kubeconfig_yaml()).await
    }

    /// Mint a bearer token that authenticates as ServiceAccount `ns/name`.
    pub fn token_for_service_account(&self, ns: &str, name: &str) -> String {
        self.state.auth.mint(UserInfo::service_account(ns, name))
    }

    /// Mint a token for any user name and groups.
    pub fn token_for_user(&self, name: &str, groups: &[&str]) -> String {
        let mut groups: Vec<String> = groups.iter().map(|g| g.to_string()).collect();
        groups.push("system:authenticated".into());
        self.state.auth.mint(UserInfo {
            name: name.into(),
            groups,
        })
    }

    /// A kube client authenticating as ServiceAccount `ns/name` (subject to RBAC).
    pub async fn service_account_client(
        &self,
        ns: &str,
        name: &str,
    ) -> Result<kube::Client, Error> {
        let token = self.token_for_service_account(ns, name);
        client_from(&kubeconfig_for(
            &self.url(),
            &format!("{ns}-{name}"),
            &token,
        ))
        .await
    }

    /// The current global resourceVersion.
    pub fn resource_version(&self) -> u64 {
        self.state.store.current_rv()
    }

    /// Stop serving (ending open watches) and save the state file if one was configured.
    pub async fn shutdown(self) -> Result<(), Error> {
        let _ = self.stop.send(true);
        let res = self.task.await;
        if let Some(path) = &self.state_file {
            crate::persist::save(&self.state, path)?;
        }
        match res {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(Error::Serve(e.to_string())),
            Err(e) => Err(Error::Serve(e.to_string())),
        }
    }
}

fn kubeconfig_for(url: &str, user: &str, token: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: flux-local\n  cluster:\n    server: {url}\nusers:\n- name: {user}\n  user:\n    token: {token}\ncontexts:\n- name: flux-local\n  context:\n    cluster: flux-local\n    user: {user}\n    namespace: default\ncurrent-context: flux-local\npreferences: {{}}\n"
    )
}

async fn client_from(kubeconfig: &str) -> Result<kube::Client, Error> {
    let kc = kube::config::Kubeconfig::from_yaml(kubeconfig)
        .map_err(|e| Error::Client(e.to_string()))?;
    let cfg = kube::Config::from_custom_kubeconfig(kc, &kube::config::KubeConfigOptions::default())
        .await
        .map_err(|e| Error::Client(e.to_string()))?;
    kube::Client::try_from(cfg).map_err(|e| Error::Client(e.to_string()))
}

/// Serves in the foreground until SIGINT/SIGTERM, with `crds` installed and `namespaces`
/// created before the kubeconfig is written (so whoever waits for the file finds them).
pub async fn serve_foreground_with(
    opts: ServerOptions,
    kubeconfig_path: &Path,
    crds: &[k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition],
    namespaces: &[&str],
) -> Result<(), Error> {
    let (server, _) = crate::background::start_seeded_with(opts, crds, namespaces).await?;
    server.write_kubeconfig(kubeconfig_path)?;
    tracing::info!(url = %server.url(), kubeconfig = %kubeconfig_path.display(), "in-memory API server listening");
    wait_for_signal().await;
    server.shutdown().await
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {},
                    _ = term.recv() => {},
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
