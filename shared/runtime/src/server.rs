//! The controller's HTTP endpoints: `/healthz` and `/readyz` on `--health-addr`, `/metrics`
//! (OpenMetrics text) on `--metrics-addr`, plus a readiness flag and signal-driven shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use prometheus_client::registry::Registry;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::flags::{ControllerFlags, ListenAddr};
use crate::metrics::{OPENMETRICS_CONTENT_TYPE, ReconcileMetrics, encode};

/// Why a controller's servers could not run.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("unable to bind the {name} address {addr}: {source}")]
    Bind {
        name: &'static str,
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error("unable to install the signal handler: {0}")]
    Signal(#[source] std::io::Error),
}

/// Whether the controller is ready to serve; `/readyz` answers 200 only while it is set.
/// Clones share the flag, so reconcilers can flip it.
#[derive(Debug, Clone, Default)]
pub struct Readiness(Arc<AtomicBool>);

impl Readiness {
    pub fn set_ready(&self, ready: bool) {
        self.0.store(ready, Ordering::SeqCst);
    }

    pub fn is_ready(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// `/healthz` (always ok while the process serves) and `/readyz` (the readiness flag).
pub fn health_router(readiness: Readiness) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .with_state(readiness)
}

async fn readyz(State(readiness): State<Readiness>) -> Response {
    if readiness.is_ready() {
        "ok".into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not ready").into_response()
    }
}

/// `/metrics` rendering `registry` as OpenMetrics text.
pub fn metrics_router(registry: Arc<Registry>) -> Router {
    Router::new()
        .route("/metrics", get(metrics_handler))
        .with_state(registry)
}

async fn metrics_handler(State(registry): State<Arc<Registry>>) -> Response {
    match encode(&registry) {
        Ok(body) => ([(header::CONTENT_TYPE, OPENMETRICS_CONTENT_TYPE)], body).into_response(),
        Err(_) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "unable to encode metrics",
        )
            .into_response(),
    }
}

/// Binds `addr`, or returns `None` when it is disabled (`0`).
pub async fn bind(
    name: &'static str,
    addr: &ListenAddr,
) -> Result<Option<TcpListener>, ServerError> {
    let Some(target) = addr.bind_target() else {
        return Ok(None);
    };
    TcpListener::bind((target.0.as_str(), target.1))
        .await
        .map(Some)
        .map_err(|source| ServerError::Bind {
            name,
            addr: addr.to_string(),
            source,
        })
}

/// SIGTERM/SIGINT handlers, installed up front so a signal that arrives right after the
/// endpoints come up is not lost to the default (kill) action.
pub struct ShutdownSignal {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
}

impl ShutdownSignal {
    /// Installs the handlers; must run inside a tokio runtime.
    pub fn install() -> Result<Self, ServerError> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(ShutdownSignal {
            term: signal(SignalKind::terminate()).map_err(ServerError::Signal)?,
            int: signal(SignalKind::interrupt()).map_err(ServerError::Signal)?,
        })
    }

    /// Resolves on the first SIGTERM or SIGINT, naming it.
    pub async fn wait(mut self) -> &'static str {
        tokio::select! {
            _ = self.term.recv() => "SIGTERM",
            _ = self.int.recv() => "SIGINT",
        }
    }
}

/// One controller process: its metrics registry, reconcile metrics, readiness flag and any
/// extra HTTP servers (artifact server, webhook receiver) added by the controller.
pub struct ControllerServer {
    name: &'static str,
    version: &'static str,
    registry: Registry,
    metrics: ReconcileMetrics,
    readiness: Readiness,
    extra: Vec<(&'static str, ListenAddr, Router)>,
}

/// Where the servers ended up listening (useful when an address used port 0).
#[derive(Debug, Clone, Default)]
pub struct BoundAddrs {
    pub health: Option<SocketAddr>,
    pub metrics: Option<SocketAddr>,
    pub extra: Vec<(&'static str, SocketAddr)>,
}

impl ControllerServer {
    pub fn new(name: &'static str, version: &'static str) -> Self {
        let mut registry = Registry::default();
        let metrics = ReconcileMetrics::register(&mut registry);
        ControllerServer {
            name,
            version,
            registry,
            metrics,
            readiness: Readiness::default(),
            extra: Vec::new(),
        }
    }

    /// The reconcile metrics to hand to reconcilers.
    pub fn metrics(&self) -> ReconcileMetrics {
        self.metrics.clone()
    }

    /// The registry, for controller-specific metrics registered before serving.
    pub fn registry_mut(&mut self) -> &mut Registry {
        &mut self.registry
    }

    /// The readiness flag (set once serving starts, cleared on shutdown).
    pub fn readiness(&self) -> Readiness {
        self.readiness.clone()
    }

    /// Adds another HTTP server, started and stopped with the others.
    pub fn with_server(mut self, name: &'static str, addr: ListenAddr, router: Router) -> Self {
        self.extra.push((name, addr, router));
        self
    }

    /// Serves health, metrics and extra endpoints until `shutdown` resolves, then stops them
    /// gracefully. `on_bound` sees the bound addresses before the controller is marked ready.
    pub async fn serve_until<F>(
        self,
        flags: &ControllerFlags,
        shutdown: F,
        on_bound: impl FnOnce(&BoundAddrs),
    ) -> Result<(), ServerError>
    where
        F: Future<Output = ()>,
    {
        let (stop_tx, stop_rx) = watch::channel(false);
        let mut tasks = JoinSet::new();
        let mut bound = BoundAddrs::default();

        let mut servers = vec![
            (
                "health",
                flags.health_addr.clone(),
                health_router(self.readiness.clone()),
            ),
            (
                "metrics",
                flags.metrics_addr.clone(),
                metrics_router(Arc::new(self.registry)),
            ),
        ];
        servers.extend(self.extra);
        for (name, addr, router) in servers {
            let Some(listener) = bind(name, &addr).await? else {
                continue;
            };
            let local = listener.local_addr().map_err(|source| ServerError::Bind {
                name,
                addr: addr.to_string(),
                source,
            })?;
            match name {
                "health" => bound.health = Some(local),
                "metrics" => bound.metrics = Some(local),
                _ => bound.extra.push((name, local)),
            }
            let mut stop = stop_rx.clone();
            tasks.spawn(async move {
                let graceful = async move {
                    // A dropped sender also means stop.
                    let _ = stop.wait_for(|stopped| *stopped).await;
                };
                if let Err(err) = axum::serve(listener, router)
                    .with_graceful_shutdown(graceful)
                    .await
                {
                    tracing::error!(target: "setup", server = name, error = %err, "server error");
                }
            });
            tracing::info!(target: "setup", server = name, address = %local, "serving");
        }

        on_bound(&bound);
        self.readiness.set_ready(true);
        tracing::info!(target: "setup", controller = self.name, version = self.version, "starting manager");

        shutdown.await;
        self.readiness.set_ready(false);
        let _ = stop_tx.send(true);
        // In-flight scrapes get a moment to finish; a stuck connection must not block exit.
        let drained = tokio::time::timeout(Duration::from_secs(5), async {
            while tasks.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            tasks.abort_all();
        }
        tracing::info!(target: "setup", controller = self.name, "stopped");
        Ok(())
    }
}

/// What a controller's work (reconcilers, extra loops) receives from [`run_with`].
#[derive(Clone)]
pub struct RunContext {
    pub metrics: ReconcileMetrics,
    pub readiness: Readiness,
    /// Turns `true` when the process is asked to stop; work should then wind down.
    pub shutdown: watch::Receiver<bool>,
}

/// How the process came to stop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stopped {
    /// A signal arrived; `work_finished` tells whether the work wound down within the grace period.
    Signal {
        name: &'static str,
        work_finished: bool,
    },
    /// The work ended on its own without error.
    WorkDone,
    /// The work failed.
    WorkFailed(String),
}

/// Waits for the first of `signal` and `work`. On a signal, sets `stop` and gives `work`
/// up to `grace` to finish (controller-runtime's graceful shutdown, 30 s by default).
pub async fn supervise<S, W, E>(
    signal: S,
    work: W,
    stop: &watch::Sender<bool>,
    grace: Duration,
) -> Stopped
where
    S: Future<Output = &'static str>,
    W: Future<Output = Result<(), E>>,
    E: std::fmt::Display,
{
    tokio::pin!(work);
    let outcome = |r: Result<(), E>| match r {
        Ok(()) => Stopped::WorkDone,
        Err(e) => Stopped::WorkFailed(e.to_string()),
    };
    tokio::select! {
        name = signal => {
            let _ = stop.send(true);
            let finished = tokio::time::timeout(grace, &mut work).await;
            match finished {
                Ok(Err(e)) => Stopped::WorkFailed(e.to_string()),
                Ok(Ok(())) => Stopped::Signal { name, work_finished: true },
                Err(_) => Stopped::Signal { name, work_finished: false },
            }
        }
        result = &mut work => outcome(result),
    }
}

/// A controller's whole `main` until reconcilers exist: logging, feature-gate check, the
/// endpoints, and a clean stop on SIGTERM/SIGINT. Exit code 0 after a signal, 1 on any
/// start-up failure (as Flux's `setupLog.Error(...); os.Exit(1)`).
pub fn run(
    server: ControllerServer,
    flags: &ControllerFlags,
    feature_gates: &[(&str, bool)],
    on_bound: impl FnOnce(&BoundAddrs),
) -> std::process::ExitCode {
    run_with(
        server,
        flags,
        feature_gates,
        on_bound,
        |mut ctx| async move {
            let _ = ctx.shutdown.wait_for(|stop| *stop).await;
            Ok::<(), std::convert::Infallible>(())
        },
    )
}

/// Like [`run`], with `work` (the reconcilers) running beside the endpoints. The process
/// exits 0 after a signal or when `work` returns `Ok`, and 1 when `work` fails.
pub fn run_with<W, Fut, E>(
    server: ControllerServer,
    flags: &ControllerFlags,
    feature_gates: &[(&str, bool)],
    on_bound: impl FnOnce(&BoundAddrs),
    work: W,
) -> std::process::ExitCode
where
    W: FnOnce(RunContext) -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: std::fmt::Display,
{
    use std::process::ExitCode;
    if let Err(err) = crate::telemetry::init(&flags.log) {
        eprintln!("{}: {err}", server.name);
        return ExitCode::from(1);
    }
    let supported: Vec<&str> = feature_gates.iter().map(|(name, _)| *name).collect();
    if let Some(unknown) = flags.features.feature_gates.unknown(&supported).next() {
        tracing::error!(
            target: "setup",
            error = format!("feature-gate '{unknown}' not supported"),
            supported = supported.join(","),
            "unable to load feature gates"
        );
        return ExitCode::from(1);
    }
    for (name, default) in feature_gates {
        if let Some(value) = flags.features.feature_gates.0.get(*name) {
            tracing::info!(target: "setup", gate = *name, enabled = *value, default = *default, "loading feature gate");
        }
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => {
            tracing::error!(target: "setup", error = %err, "unable to start the async runtime");
            return ExitCode::from(1);
        }
    };
    let result = runtime.block_on(async {
        let signal = ShutdownSignal::install()?;
        let (stop_tx, stop_rx) = watch::channel(false);
        crate::metrics::install(server.metrics());
        let ctx = RunContext {
            metrics: server.metrics(),
            readiness: server.readiness(),
            shutdown: stop_rx,
        };
        let mut stopped = None;
        let shutdown = async {
            let outcome = supervise(signal.wait(), work(ctx), &stop_tx, Duration::from_secs(30)).await;
            if let Stopped::Signal { name, work_finished } = &outcome {
                tracing::info!(target: "setup", signal = *name, work_finished = *work_finished, "shutdown signal received");
            }
            stopped = Some(outcome);
        };
        server.serve_until(flags, shutdown, on_bound).await?;
        Ok::<_, ServerError>(stopped)
    });
    match result {
        Ok(Some(Stopped::WorkFailed(err))) => {
            tracing::error!(target: "setup", error = %err, "problem running manager");
            ExitCode::from(1)
        }
        Ok(_) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(target: "setup", error = %err, "problem running manager");
            ExitCode::from(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    async fn get(addr: SocketAddr, path: &str) -> (u16, String) {
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let req = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        stream.write_all(req.as_bytes()).await.unwrap();
        let mut buf = String::new();
        stream.read_to_string(&mut buf).await.unwrap();
        let status = buf.split(' ').nth(1).unwrap().parse().unwrap();
        (status, buf)
    }

    #[tokio::test]
    async fn readyz_follows_the_readiness_flag() {
        let readiness = Readiness::default();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(axum::serve(listener, health_router(readiness.clone())).into_future());
        assert_eq!(get(addr, "/healthz").await.0, 200);
        assert_eq!(get(addr, "/readyz").await.0, 503);
        readiness.set_ready(true);
        assert_eq!(get(addr, "/readyz").await.0, 200);
        assert_eq!(get(addr, "/nope").await.0, 404);
    }

    #[tokio::test]
    async fn metrics_endpoint_serves_openmetrics_text() {
        let mut registry = Registry::default();
        let metrics = ReconcileMetrics::register(&mut registry);
        drop(metrics.start("Bucket", "b", "ns"));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(axum::serve(listener, metrics_router(Arc::new(registry))).into_future());
        let (status, body) = get(addr, "/metrics").await;
        assert_eq!(status, 200);
        assert!(
            body.to_lowercase()
                .contains("content-type: application/openmetrics-text"),
            "{body}"
        );
        assert!(
            body.contains(
                r#"gotk_reconcile_duration_seconds_count{kind="Bucket",name="b",namespace="ns"} 1"#
            ),
            "{body}"
        );
    }

    #[tokio::test]
    async fn signal_stops_work_that_honours_the_shutdown_flag() {
        let (tx, mut rx) = watch::channel(false);
        let work = async move {
            let _ = rx.wait_for(|s| *s).await;
            Ok::<(), String>(())
        };
        let out = supervise(async { "SIGTERM" }, work, &tx, Duration::from_secs(5)).await;
        assert_eq!(
            out,
            Stopped::Signal {
                name: "SIGTERM",
                work_finished: true
            }
        );
    }

    #[tokio::test]
    async fn work_ignoring_shutdown_is_abandoned_after_the_grace_period() {
        let (tx, _rx) = watch::channel(false);
        let work = std::future::pending::<Result<(), String>>();
        let out = supervise(async { "SIGINT" }, work, &tx, Duration::from_millis(20)).await;
        assert_eq!(
            out,
            Stopped::Signal {
                name: "SIGINT",
                work_finished: false
            }
        );
        assert!(*tx.borrow(), "stop flag set");
    }

    #[tokio::test]
    async fn failing_work_ends_the_run_with_its_error() {
        let (tx, _rx) = watch::channel(false);
        let signal = std::future::pending::<&'static str>();
        let out = supervise(
            signal,
            async { Err::<(), _>("watch failed") },
            &tx,
            Duration::from_secs(1),
        )
        .await;
        assert_eq!(out, Stopped::WorkFailed("watch failed".to_string()));
        let out = supervise(
            std::future::pending(),
            async { Ok::<(), String>(()) },
            &tx,
            Duration::from_secs(1),
        )
        .await;
        assert_eq!(out, Stopped::WorkDone);
    }

    #[tokio::test]
    async fn busy_address_is_a_bind_error_naming_the_server() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = taken.local_addr().unwrap().port();
        let addr: ListenAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let err = bind("metrics", &addr).await.unwrap_err();
        assert!(
            err.to_string()
                .starts_with("unable to bind the metrics address"),
            "{err}"
        );
    }
}
