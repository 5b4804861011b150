//! HelmRepository and HelmChart end to end: the in-memory API server, a real HTTP server on
//! loopback serving `index.yaml` and chart tarballs (optionally behind basic auth), the
//! reconcilers and the artifact server, with artifacts downloaded and checked as a consumer
//! would.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path as AxumPath, State};
use axum::http::{HeaderMap, StatusCode};
use flux_api::source::v1::{HelmChart, HelmRepository};
use flux_artifact::fetch_verified;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use source_controller::{gitrepository, helmchart, helmrepository};

const NS: &str = "flux-system";
/// `--helm-index-max-size`, `--helm-chart-max-size` and `--helm-chart-file-max-size` of the
/// harness: small enough for the tests to cross them.
const INDEX_LIMIT: u64 = 1 << 20;
const CHART_LIMITS: helmchart::ChartLimits = helmchart::ChartLimits {
    max_chart_size: 1 << 20,
    max_file_size: 64 << 10,
};

fn fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/charts")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A static chart repository: files by path, replaceable while the test runs.
#[derive(Clone, Default)]
struct ChartServer {
    files: Arc<Mutex<HashMap<String, Vec<u8>>>>,
    /// `Basic <base64>` the server insists on, if any.
    auth: Option<String>,
}

impl ChartServer {
    fn put(&self, path: &str, bytes: Vec<u8>) {
        self.files
            .lock()
            .expect("lock")
            .insert(path.to_string(), bytes);
    }

    async fn start(self) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let app = axum::Router::new()
            .route("/{*path}", axum::routing::get(serve))
            .with_state(self);
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        format!("http://{addr}")
    }
}

impl ChartServer {
    /// Serves over HTTPS with the test certificate for `localhost` / `127.0.0.1`, signed by
    /// `tests/fixtures/tls/ca.crt`.
    async fn start_tls(self) -> String {
        use tokio_rustls::rustls;
        use tokio_rustls::rustls::pki_types::pem::PemObject;
        use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
        let certs: Vec<CertificateDer<'static>> =
            CertificateDer::pem_slice_iter(&fixture_tls("server.crt"))
                .collect::<Result<_, _>>()
                .expect("server certificate");
        let key = PrivateKeyDer::from_pem_slice(&fixture_tls("server.key")).expect("server key");
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("protocols")
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .expect("server config");
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let app = axum::Router::new()
            .route("/{*path}", axum::routing::get(serve))
            .with_state(self);
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                let app = app.clone();
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let service = hyper_util::service::TowerToHyperService::new(app);
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                        .await;
                });
            }
        });
        format!("https://localhost:{}", addr.port())
    }
}

fn fixture_tls(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/tls")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

async fn serve(
    State(server): State<ChartServer>,
    AxumPath(path): AxumPath<String>,
    headers: HeaderMap,
) -> Result<Bytes, StatusCode> {
    if let Some(want) = &server.auth {
        let got = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if got != want {
            return Err(StatusCode::UNAUTHORIZED);
        }
    }
    let files = server.files.lock().expect("lock");
    files
        .get(&path)
        .cloned()
        .map(Bytes::from)
        .ok_or(StatusCode::NOT_FOUND)
}

fn index_yaml(entries: &[(&str, &str, &str)]) -> Vec<u8> {
    let mut out = String::from("apiVersion: v1\nentries:\n");
    let mut names: Vec<&str> = entries.iter().map(|e| e.0).collect();
    names.dedup();
    for name in names {
        out.push_str(&format!("  {name}:\n"));
        for (_, version, url) in entries.iter().filter(|e| e.0 == name) {
            out.push_str(&format!(
                "  - apiVersion: v1\n    name: {name}\n    version: {version}\n    description: a chart\n    urls:\n    - {url}\n"
            ));
        }
    }
    out.push_str("generated: \"2026-11-25T00:00:00Z\"\n");
    out.into_bytes()
}

struct Harness {
    _server: flux_apiserver::RunningServer,
    client: kube::Client,
    storage_dir: tempfile::TempDir,
    _work_dir: tempfile::TempDir,
    stop: Vec<tokio::sync::oneshot::Sender<()>>,
}

impl Harness {
    async fn start() -> Self {
        let crds = flux_api::crds::for_component("source-controller").expect("component");
        let (server, client) = flux_apiserver::start_seeded(&crds, &[NS])
            .await
            .expect("apiserver");
        let storage_dir = tempfile::tempdir().expect("tempdir");
        let work_dir = tempfile::tempdir().expect("tempdir");
        let storage = flux_artifact::serve_on_loopback(storage_dir.path(), 2)
            .await
            .expect("storage");
        let recorder =
            || flux_runtime::events::Recorder::new(client.clone(), "source-controller", None);
        let mut stop = Vec::new();
        let mut stopper = || {
            let (tx, rx) = tokio::sync::oneshot::channel::<()>();
            stop.push(tx);
            async move {
                let _ = rx.await;
            }
        };
        let repo_ctx = Arc::new(helmrepository::Context {
            client: client.clone(),
            storage: storage.clone(),
            recorder: recorder(),
            max_index_size: INDEX_LIMIT,
            jitter_percent: 0,
            backoff: Default::default(),
        });
        tokio::spawn(helmrepository::run(repo_ctx, None, None, 2, stopper()));
        let chart_ctx = Arc::new(helmchart::Context {
            client: client.clone(),
            storage: storage.clone(),
            recorder: recorder(),
            work_dir: work_dir.path().join("charts"),
            limits: CHART_LIMITS,
            jitter_percent: 0,
            backoff: Default::default(),
        });
        tokio::spawn(helmchart::run(chart_ctx, None, None, 2, stopper()));
        let git_ctx = Arc::new(gitrepository::Context {
            client: client.clone(),
            storage,
            recorder: recorder(),
            cache_root: work_dir.path().join("git"),
            max_tree_size: 10 << 20,
            jitter_percent: 0,
            backoff: Default::default(),
        });
        tokio::spawn(gitrepository::run(git_ctx, None, None, 2, stopper()));
        Harness {
            _server: server,
            client,
            storage_dir,
            _work_dir: work_dir,
            stop,
        }
    }

    fn repos(&self) -> Api<HelmRepository> {
        Api::namespaced(self.client.clone(), NS)
    }

    fn charts(&self) -> Api<HelmChart> {
        Api::namespaced(self.client.clone(), NS)
    }

    async fn create_repo(&self, name: &str, spec: serde_json::Value) {
        let obj: HelmRepository = serde_json::from_value(serde_json::json!({
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "HelmRepository",
            "metadata": {"name": name, "namespace": NS},
            "spec": spec,
        }))
        .expect("helmrepository");
        self.repos()
            .create(&PostParams::default(), &obj)
            .await
            .expect("create repo");
    }

    async fn create_chart(&self, name: &str, spec: serde_json::Value) {
        let obj: HelmChart = serde_json::from_value(serde_json::json!({
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "HelmChart",
            "metadata": {"name": name, "namespace": NS},
            "spec": spec,
        }))
        .expect("helmchart");
        self.charts()
            .create(&PostParams::default(), &obj)
            .await
            .expect("create chart");
    }

    async fn create_secret(&self, name: &str, data: serde_json::Value) {
        let secret: Secret = serde_json::from_value(serde_json::json!({
            "metadata": {"name": name, "namespace": NS},
            "stringData": data,
        }))
        .expect("secret");
        let api: Api<Secret> = Api::namespaced(self.client.clone(), NS);
        let _ = api.delete(name, &DeleteParams::default()).await;
        api.create(&PostParams::default(), &secret)
            .await
            .expect("secret");
    }

    async fn request_reconcile<K>(&self, api: &Api<K>, name: &str, at: &str)
    where
        K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
    {
        let patch = serde_json::json!({"metadata": {"annotations": {
            "reconcile.fluxcd.io/requestedAt": at}}});
        api.patch(name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .expect("annotate");
    }

    async fn wait_repo(
        &self,
        name: &str,
        done: impl Fn(&HelmRepository) -> bool,
    ) -> HelmRepository {
        flux_runtime::testkit::wait_for(&self.repos(), name, done).await
    }

    async fn wait_chart(&self, name: &str, done: impl Fn(&HelmChart) -> bool) -> HelmChart {
        flux_runtime::testkit::wait_for(&self.charts(), name, done).await
    }

    async fn has_event(&self, name: &str, type_: &str, reason: &str) -> bool {
        flux_runtime::testkit::has_event(&self.client, NS, name, type_, reason).await
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        for stop in self.stop.drain(..) {
            let _ = stop.send(());
        }
    }
}

fn cond<'a>(conds: Option<&'a Vec<Condition>>, type_: &str) -> Option<&'a Condition> {
    conds?.iter().find(|c| c.type_ == type_)
}

fn repo_cond<'a>(obj: &'a HelmRepository, type_: &str) -> Option<&'a Condition> {
    cond(obj.status.as_ref().map(|s| &s.conditions), type_)
}

fn chart_cond<'a>(obj: &'a HelmChart, type_: &str) -> Option<&'a Condition> {
    cond(obj.status.as_ref().map(|s| &s.conditions), type_)
}

fn repo_ready(obj: &HelmRepository) -> bool {
    repo_cond(obj, "Ready").is_some_and(|c| c.status == "True")
}

fn chart_ready(obj: &HelmChart) -> bool {
    chart_cond(obj, "Ready").is_some_and(|c| c.status == "True")
}

fn chart_failed(obj: &HelmChart) -> bool {
    chart_cond(obj, "Ready").is_some_and(|c| c.status == "False")
}

fn repo_failed(obj: &HelmRepository) -> bool {
    repo_cond(obj, "Ready").is_some_and(|c| c.status == "False")
}

/// The served chart repository with three versions of `compressedchart`.
fn compressed_charts() -> ChartServer {
    let server = ChartServer::default();
    for v in ["0.1.0", "0.2.0", "0.3.0"] {
        let file = format!("compressedchart-{v}.tgz");
        server.put(&format!("charts/{file}"), fixture(&file));
    }
    server.put(
        "charts/index.yaml",
        index_yaml(&[
            ("compressedchart", "0.1.0", "compressedchart-0.1.0.tgz"),
            ("compressedchart", "0.2.0", "compressedchart-0.2.0.tgz"),
            ("compressedchart", "0.3.0", "compressedchart-0.3.0.tgz"),
        ]),
    );
    server
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn helmrepository_index_and_helmchart_range_resolve_to_verified_artifacts() {
    let h = Harness::start().await;
    let server = compressed_charts();
    let base = server.clone().start().await;
    h.create_repo(
        "charts",
        serde_json::json!({"interval": "1m", "url": format!("{base}/charts")}),
    )
    .await;

    let repo = h.wait_repo("charts", repo_ready).await;
    let artifact = repo
        .status
        .as_ref()
        .and_then(|s| s.artifact.clone())
        .expect("artifact");
    let served = server.files.lock().expect("lock")["charts/index.yaml"].clone();
    let revision = flux_artifact::digest(&served);
    assert_eq!(artifact.revision, revision);
    let hex = revision.trim_start_matches("sha256:");
    assert_eq!(
        artifact.path,
        format!("helmrepository/flux-system/charts/index-{hex}.yaml")
    );
    let ready = repo_cond(&repo, "Ready").expect("ready");
    assert_eq!(ready.reason, "Succeeded");
    assert_eq!(
        ready.message,
        format!("stored artifact: revision '{revision}'")
    );
    let http = reqwest::Client::new();
    let index = fetch_verified(
        &http,
        &artifact.url,
        artifact.digest.as_deref().expect("digest"),
        1 << 20,
    )
    .await
    .expect("download index");
    assert_eq!(index, served);
    assert!(h.has_event("charts", "Normal", "NewArtifact").await);

    h.create_chart(
        "compressed",
        serde_json::json!({"chart": "compressedchart", "version": ">=0.1.0 <0.3.0",
            "sourceRef": {"kind": "HelmRepository", "name": "charts"}, "interval": "1m"}),
    )
    .await;
    let chart = h.wait_chart("compressed", chart_ready).await;
    let status = chart.status.clone().expect("status");
    let artifact = status.artifact.clone().expect("chart artifact");
    assert_eq!(artifact.revision, "0.2.0");
    assert_eq!(
        artifact.path,
        "helmchart/flux-system/compressed/compressedchart-0.2.0.tgz"
    );
    assert_eq!(
        status.observed_chart_name.as_deref(),
        Some("compressedchart")
    );
    assert_eq!(
        status.observed_source_artifact_revision.as_deref(),
        Some(revision.as_str())
    );
    let ready = chart_cond(&chart, "Ready").expect("ready");
    assert_eq!(ready.reason, "ChartPullSucceeded");
    assert_eq!(
        ready.message,
        "pulled 'compressedchart' chart with version '0.2.0'"
    );
    let bytes = fetch_verified(
        &http,
        &artifact.url,
        artifact.digest.as_deref().expect("digest"),
        1 << 20,
    )
    .await
    .expect("download chart");
    assert_eq!(
        bytes,
        fixture("compressedchart-0.2.0.tgz"),
        "pulled charts are stored as served"
    );
    assert!(
        h.has_event("compressed", "Normal", "ChartPullSucceeded")
            .await
    );

    // The index turns into an HTML error page: IndexationFailed, the last artifact stays.
    server.put(
        "charts/index.yaml",
        b"<html>\n  <body>maintenance: [</body>\n</html>\n".to_vec(),
    );
    h.request_reconcile(&h.repos(), "charts", "2026-11-25T20:00:00Z")
        .await;
    let repo = h.wait_repo("charts", repo_failed).await;
    let failed = repo_cond(&repo, "FetchFailed").expect("FetchFailed");
    assert_eq!(failed.reason, "IndexationFailed");
    assert!(
        failed
            .message
            .starts_with("failed to load Helm repository from index YAML"),
        "{}",
        failed.message
    );
    assert_eq!(
        repo.status
            .as_ref()
            .and_then(|s| s.artifact.as_ref())
            .map(|a| a.revision.clone()),
        Some(revision.clone())
    );
    assert!(h.has_event("charts", "Warning", "IndexationFailed").await);

    // A version range matching nothing stalls the chart with its last artifact kept.
    let patch = serde_json::json!({"spec": {"version": ">=9.0.0"}});
    h.charts()
        .patch("compressed", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .expect("patch");
    let chart = h.wait_chart("compressed", chart_failed).await;
    let ready = chart_cond(&chart, "Ready").expect("ready");
    assert_eq!(ready.reason, "InvalidChartReference");
    assert_eq!(
        ready.message,
        "invalid chart reference: failed to get chart version for remote reference: no 'compressedchart' chart with version matching '>=9.0.0' found"
    );
    assert!(chart_cond(&chart, "Stalled").is_some_and(|c| c.status == "True"));
    assert_eq!(
        chart
            .status
            .as_ref()
            .and_then(|s| s.artifact.as_ref())
            .map(|a| a.revision.clone()),
        Some("0.2.0".to_string())
    );
    assert!(
        h.has_event("compressed", "Warning", "InvalidChartReference")
            .await
    );

    // Deleting the chart removes its artifacts.
    h.charts()
        .delete("compressed", &DeleteParams::default())
        .await
        .expect("delete");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while h
        .charts()
        .get_opt("compressed")
        .await
        .expect("get")
        .is_some()
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "finalizer never released"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        !h.storage_dir
            .path()
            .join("helmchart/flux-system/compressed")
            .exists()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chart_tarballs_escaping_their_root_or_without_chart_yaml_fail_the_pull() {
    let h = Harness::start().await;
    let server = ChartServer::default();
    server.put(
        "index.yaml",
        index_yaml(&[
            ("evil", "1.0.0", "evil-1.0.0.tgz"),
            ("hollow", "1.0.0", "hollow-1.0.0.tgz"),
            ("bulky", "1.0.0", "bulky-1.0.0.tgz"),
        ]),
    );
    let bulky_file = vec![b'#'; 100 << 10];
    server.put(
        "bulky-1.0.0.tgz",
        raw_tgz(&[
            (
                "bulky/Chart.yaml",
                b"apiVersion: v2\nname: bulky\nversion: 1.0.0\n",
            ),
            ("bulky/templates/big.yaml", &bulky_file),
        ]),
    );
    server.put(
        "evil-1.0.0.tgz",
        raw_tgz(&[
            (
                "evil/Chart.yaml",
                b"apiVersion: v2\nname: evil\nversion: 1.0.0\n",
            ),
            ("evil/../../../etc/cron.d/x", b"* * * * * root true\n"),
        ]),
    );
    server.put(
        "hollow-1.0.0.tgz",
        raw_tgz(&[("hollow/values.yaml", b"a: 1\n")]),
    );
    let base = server.start().await;
    h.create_repo("bad", serde_json::json!({"interval": "1m", "url": base}))
        .await;
    for (name, chart, expect) in [
        (
            "evil",
            "evil",
            "chart illegally references parent directory",
        ),
        ("hollow", "hollow", "Chart.yaml file is missing"),
        (
            "bulky",
            "bulky",
            "'bulky/templates/big.yaml' is larger than the maximum file size of 65536 bytes",
        ),
    ] {
        h.create_chart(
            name,
            serde_json::json!({"chart": chart, "sourceRef": {"kind": "HelmRepository", "name": "bad"},
                "interval": "1m"}),
        )
        .await;
        let obj = h.wait_chart(name, chart_failed).await;
        let failed = chart_cond(&obj, "FetchFailed").expect("FetchFailed");
        assert_eq!(failed.reason, "ChartPullError");
        assert!(failed.message.contains(expect), "{}", failed.message);
        assert!(
            obj.status
                .as_ref()
                .and_then(|s| s.artifact.as_ref())
                .is_none()
        );
        assert!(h.has_event(name, "Warning", "ChartPullError").await);
    }
    assert!(!h.storage_dir.path().join("etc").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_index_over_the_size_limit_is_a_fetch_failure() {
    let h = Harness::start().await;
    let server = ChartServer::default();
    let mut index = index_yaml(&[("compressedchart", "0.1.0", "compressedchart-0.1.0.tgz")]);
    index.extend(std::iter::repeat_n(b'#', INDEX_LIMIT as usize));
    server.put("index.yaml", index);
    let base = server.start().await;
    h.create_repo(
        "bloated",
        serde_json::json!({"interval": "1m", "url": base}),
    )
    .await;
    let repo = h.wait_repo("bloated", repo_failed).await;
    let failed = repo_cond(&repo, "FetchFailed").expect("FetchFailed");
    assert!(
        failed
            .message
            .contains(&format!("is larger than the limit of {INDEX_LIMIT} bytes")),
        "{}",
        failed.message
    );
    assert!(
        repo.status
            .as_ref()
            .and_then(|s| s.artifact.as_ref())
            .is_none()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_credentials_and_unreachable_servers_are_fetch_failures_until_fixed() {
    let h = Harness::start().await;
    let mut server = compressed_charts();
    // "flux:s3cret" in base64.
    server.auth = Some("Basic Zmx1eDpzM2NyZXQ=".into());
    let base = server.start().await;
    h.create_secret(
        "creds",
        serde_json::json!({"username": "flux", "password": "wrong"}),
    )
    .await;
    h.create_repo(
        "private",
        serde_json::json!({"interval": "1m", "url": format!("{base}/charts"), "secretRef": {"name": "creds"}}),
    )
    .await;
    let repo = h.wait_repo("private", repo_failed).await;
    let failed = repo_cond(&repo, "FetchFailed").expect("FetchFailed");
    assert_eq!(failed.reason, "Failed");
    assert!(
        failed.message.contains("401 Unauthorized"),
        "{}",
        failed.message
    );
    let text = serde_json::to_string(&repo).expect("json");
    assert!(!text.contains("wrong"), "the password leaked: {text}");
    assert!(h.has_event("private", "Warning", "Failed").await);

    h.create_secret(
        "creds",
        serde_json::json!({"username": "flux", "password": "s3cret"}),
    )
    .await;
    h.request_reconcile(&h.repos(), "private", "2026-11-25T20:01:00Z")
        .await;
    h.wait_repo("private", repo_ready).await;
    // Chart downloads on the same host carry the credentials too.
    h.create_chart(
        "private-chart",
        serde_json::json!({"chart": "compressedchart",
            "sourceRef": {"kind": "HelmRepository", "name": "private"}, "interval": "1m"}),
    )
    .await;
    let chart = h.wait_chart("private-chart", chart_ready).await;
    assert_eq!(
        chart.status.and_then(|s| s.artifact).map(|a| a.revision),
        Some("0.3.0".to_string())
    );

    // Nothing listens on a port we bound and released.
    let port = flux_testservers::free_port();
    h.create_repo(
        "gone",
        serde_json::json!({"interval": "1m", "url": format!("http://127.0.0.1:{port}/")}),
    )
    .await;
    let repo = h.wait_repo("gone", repo_failed).await;
    let failed = repo_cond(&repo, "FetchFailed").expect("FetchFailed");
    assert_eq!(failed.reason, "Failed");
    assert!(
        failed
            .message
            .starts_with("failed to fetch Helm repository index"),
        "{}",
        failed.message
    );
    assert!(repo_cond(&repo, "Reconciling").is_some_and(|c| c.reason == "ProgressingWithRetry"));

    // A missing secret is an authentication failure naming it.
    h.create_repo(
        "nosecret",
        serde_json::json!({"interval": "1m", "url": base, "secretRef": {"name": "absent"}}),
    )
    .await;
    let repo = h.wait_repo("nosecret", repo_failed).await;
    let failed = repo_cond(&repo, "FetchFailed").expect("FetchFailed");
    assert_eq!(failed.reason, "AuthenticationFailed");
    assert!(failed.message.contains("absent"), "{}", failed.message);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oci_helmrepository_stays_a_static_object_without_status_or_finalizer() {
    let h = Harness::start().await;
    h.create_repo(
        "registry",
        serde_json::json!({"type": "oci", "interval": "5m", "url": "oci://127.0.0.1:5000/charts"}),
    )
    .await;
    // Give the controller time to see it, then check it left the object alone.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let repo = h.repos().get("registry").await.expect("get");
    assert!(repo.metadata.finalizers.unwrap_or_default().is_empty());
    assert!(
        repo.status
            .is_none_or(|s| s.conditions.is_empty() && s.artifact.is_none())
    );

    // A default repository switched to OCI loses its artifact, finalizer and status.
    let server = compressed_charts();
    let base = server.start().await;
    h.create_repo(
        "switch",
        serde_json::json!({"interval": "1m", "url": format!("{base}/charts")}),
    )
    .await;
    h.wait_repo("switch", repo_ready).await;
    assert!(
        h.storage_dir
            .path()
            .join("helmrepository/flux-system/switch")
            .exists()
    );
    let patch = serde_json::json!({"spec": {"type": "oci", "url": "oci://127.0.0.1:5000/charts"}});
    h.repos()
        .patch("switch", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .expect("patch");
    let repo = h
        .wait_repo("switch", |o| {
            o.metadata.finalizers.as_ref().is_none_or(|f| f.is_empty())
                && o.status.as_ref().is_none_or(|s| s.conditions.is_empty())
        })
        .await;
    assert!(repo.status.and_then(|s| s.artifact).is_none());
    assert!(
        !h.storage_dir
            .path()
            .join("helmrepository/flux-system/switch")
            .exists()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn helmchart_from_gitrepository_packages_the_directory_with_merged_values() {
    let h = Harness::start().await;
    let source = flux_testservers::SourceRepo::new();
    let alpine =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/charts/alpine");
    for rel in [
        "Chart.yaml",
        "values.yaml",
        "extra_values.yaml",
        "templates/alpine-pod.yaml",
    ] {
        let body = std::fs::read_to_string(alpine.join(rel)).expect("fixture");
        source.commit_file(&format!("charts/alpine/{rel}"), &body, "add alpine chart");
    }
    source.commit_file(
        "values/prod.yaml",
        "Name: prod-alpine\nreplicas: 3\n",
        "prod values",
    );
    let git =
        flux_testservers::HttpGitServer::start(source.root(), flux_testservers::HttpAuth::None);
    let gitrepo: flux_api::source::v1::GitRepository = serde_json::from_value(serde_json::json!({
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "GitRepository",
        "metadata": {"name": "fleet", "namespace": NS},
        "spec": {"interval": "1m", "url": git.url("fleet.git"), "ref": {"branch": "main"}}
    }))
    .expect("gitrepository");
    Api::<flux_api::source::v1::GitRepository>::namespaced(h.client.clone(), NS)
        .create(&PostParams::default(), &gitrepo)
        .await
        .expect("create git");

    h.create_chart(
        "alpine",
        serde_json::json!({"chart": "charts/alpine", "reconcileStrategy": "Revision",
            "valuesFiles": ["charts/alpine/values.yaml", "values/prod.yaml"],
            "sourceRef": {"kind": "GitRepository", "name": "fleet"}, "interval": "1m"}),
    )
    .await;
    let chart = h.wait_chart("alpine", chart_ready).await;
    let status = chart.status.clone().expect("status");
    let artifact = status.artifact.clone().expect("artifact");
    let commit = source.rev("main");
    let want = format!("0.1.0+{}.1", &commit[..12]);
    assert_eq!(artifact.revision, want);
    assert_eq!(
        artifact.path,
        format!("helmchart/flux-system/alpine/alpine-{want}.tgz")
    );
    let ready = chart_cond(&chart, "Ready").expect("ready");
    assert_eq!(ready.reason, "ChartPackageSucceeded");
    assert_eq!(
        ready.message,
        format!(
            "packaged 'alpine' chart with version '{want}' and merged values files [charts/alpine/values.yaml values/prod.yaml]"
        )
    );
    assert_eq!(
        status.observed_values_files,
        vec!["charts/alpine/values.yaml", "values/prod.yaml"]
    );

    let http = reqwest::Client::new();
    let bytes = fetch_verified(
        &http,
        &artifact.url,
        artifact.digest.as_deref().expect("digest"),
        1 << 20,
    )
    .await
    .expect("download chart");
    let loaded = flux_helm::loader::load_archive(&bytes).expect("a loadable chart");
    assert_eq!(loaded.metadata.name, "alpine");
    assert_eq!(loaded.metadata.version, want);
    assert_eq!(loaded.values["Name"], serde_json::json!("prod-alpine"));
    assert_eq!(loaded.values["replicas"], serde_json::json!(3.0));
    assert!(
        loaded
            .templates
            .iter()
            .any(|t| t.name == "templates/alpine-pod.yaml")
    );

    // A missing values file is a ValuesFilesError that stalls, the last artifact kept.
    let patch = serde_json::json!({"spec": {"valuesFiles": ["values/missing.yaml"]}});
    h.charts()
        .patch("alpine", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .expect("patch");
    let chart = h.wait_chart("alpine", chart_failed).await;
    let failed = chart_cond(&chart, "BuildFailed").expect("BuildFailed");
    assert_eq!(failed.reason, "ValuesFilesError");
    assert!(
        failed.message.contains("values/missing.yaml"),
        "{}",
        failed.message
    );
    assert_eq!(
        chart.status.and_then(|s| s.artifact).map(|a| a.revision),
        Some(want)
    );
}

/// A tar.gz written byte by byte so entries with `..` survive (the tar crate refuses them).
fn raw_tgz(entries: &[(&str, &[u8])]) -> Vec<u8> {
    use std::io::Write;
    let mut tar = Vec::new();
    for (name, data) in entries {
        let mut header = [0u8; 512];
        header[..name.len()].copy_from_slice(name.as_bytes());
        header[100..107].copy_from_slice(b"0000644");
        header[108..115].copy_from_slice(b"0000000");
        header[116..123].copy_from_slice(b"0000000");
        header[124..135].copy_from_slice(format!("{:011o}", data.len()).as_bytes());
        header[136..147].copy_from_slice(b"00000000000");
        header[156] = b'0';
        header[257..263].copy_from_slice(b"ustar\0");
        header[263..265].copy_from_slice(b"00");
        header[148..156].copy_from_slice(b"        ");
        let sum: u32 = header.iter().map(|b| u32::from(*b)).sum();
        header[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
        tar.extend_from_slice(&header);
        tar.extend_from_slice(data);
        tar.resize(tar.len().div_ceil(512) * 512, 0);
    }
    tar.resize(tar.len() + 1024, 0);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&tar).expect("gzip");
    gz.finish().expect("gzip")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn helmchart_follows_a_new_index_revision_without_waiting_for_its_interval() {
    let h = Harness::start().await;
    let server = compressed_charts();
    server.put(
        "charts/index.yaml",
        index_yaml(&[
            ("compressedchart", "0.1.0", "compressedchart-0.1.0.tgz"),
            ("compressedchart", "0.2.0", "compressedchart-0.2.0.tgz"),
        ]),
    );
    let base = server.clone().start().await;
    h.create_repo(
        "charts",
        serde_json::json!({"interval": "1h", "url": format!("{base}/charts")}),
    )
    .await;
    h.create_chart(
        "latest",
        serde_json::json!({"chart": "compressedchart", "interval": "1h",
            "sourceRef": {"kind": "HelmRepository", "name": "charts"}}),
    )
    .await;
    let chart = h.wait_chart("latest", chart_ready).await;
    assert_eq!(
        chart.status.and_then(|s| s.artifact).map(|a| a.revision),
        Some("0.2.0".to_string())
    );

    // A release lands in the index; the repository picks it up on request, and the chart
    // follows through its watch on the repository, long before its 1h interval.
    server.put(
        "charts/index.yaml",
        index_yaml(&[
            ("compressedchart", "0.1.0", "compressedchart-0.1.0.tgz"),
            ("compressedchart", "0.2.0", "compressedchart-0.2.0.tgz"),
            ("compressedchart", "0.3.0", "compressedchart-0.3.0.tgz"),
        ]),
    );
    h.request_reconcile(&h.repos(), "charts", "2026-11-25T21:00:00Z")
        .await;
    let chart = h
        .wait_chart("latest", |o| {
            o.status
                .as_ref()
                .and_then(|s| s.artifact.as_ref())
                .is_some_and(|a| a.revision == "0.3.0")
        })
        .await;
    assert!(chart_ready(&chart));

    // Once settled, nothing is rewritten: no reconcile loop feeding on its own status patches.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let settled = h.charts().get("latest").await.expect("get");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let later = h.charts().get("latest").await.expect("get");
    assert_eq!(
        settled.metadata.resource_version,
        later.metadata.resource_version
    );
    assert!(
        !h.storage_dir
            .path()
            .join("helmchart/flux-system/latest/compressedchart-0.1.0.tgz")
            .exists()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_repository_needs_its_ca_from_cert_secret_ref() {
    let h = Harness::start().await;
    let base = compressed_charts().start_tls().await;
    h.create_repo(
        "tls",
        serde_json::json!({"interval": "1m", "url": format!("{base}/charts"),
            "certSecretRef": {"name": "tls-ca"}}),
    )
    .await;
    // The CA secret is missing: an authentication failure naming it.
    let repo = h.wait_repo("tls", repo_failed).await;
    let failed = repo_cond(&repo, "FetchFailed").expect("FetchFailed");
    assert_eq!(failed.reason, "AuthenticationFailed");
    assert!(failed.message.contains("tls-ca"), "{}", failed.message);

    // Without the CA the server's certificate is not trusted.
    h.create_repo(
        "untrusted",
        serde_json::json!({"interval": "1m", "url": format!("{base}/charts")}),
    )
    .await;
    let repo = h.wait_repo("untrusted", repo_failed).await;
    let failed = repo_cond(&repo, "FetchFailed").expect("FetchFailed");
    assert_eq!(failed.reason, "Failed");

    let ca = String::from_utf8(fixture_tls("ca.crt")).expect("pem");
    h.create_secret("tls-ca", serde_json::json!({"ca.crt": ca}))
        .await;
    h.request_reconcile(&h.repos(), "tls", "2026-11-25T21:05:00Z")
        .await;
    h.wait_repo("tls", repo_ready).await;
    h.create_chart(
        "over-tls",
        serde_json::json!({"chart": "compressedchart", "version": "0.1.0", "interval": "1m",
            "sourceRef": {"kind": "HelmRepository", "name": "tls"}}),
    )
    .await;
    let chart = h.wait_chart("over-tls", chart_ready).await;
    assert_eq!(
        chart.status.and_then(|s| s.artifact).map(|a| a.revision),
        Some("0.1.0".to_string())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_reach_another_chart_host_only_with_pass_credentials() {
    let h = Harness::start().await;
    let mut charts_host = compressed_charts();
    // "flux:s3cret" in base64.
    charts_host.auth = Some("Basic Zmx1eDpzM2NyZXQ=".into());
    let charts_base = charts_host.start().await;
    // The index lives elsewhere and points at the chart host by absolute URL.
    let index_host = ChartServer::default();
    index_host.put(
        "index.yaml",
        index_yaml(&[(
            "compressedchart",
            "0.1.0",
            &format!("{charts_base}/charts/compressedchart-0.1.0.tgz"),
        )]),
    );
    let index_base = index_host.start().await.replace("127.0.0.1", "localhost");
    h.create_secret(
        "creds",
        serde_json::json!({"username": "flux", "password": "s3cret"}),
    )
    .await;
    for (name, pass) in [("strict", false), ("passing", true)] {
        h.create_repo(
            name,
            serde_json::json!({"interval": "1m", "url": index_base, "secretRef": {"name": "creds"},
                "passCredentials": pass}),
        )
        .await;
        h.wait_repo(name, repo_ready).await;
        h.create_chart(
            name,
            serde_json::json!({"chart": "compressedchart", "interval": "1m",
                "sourceRef": {"kind": "HelmRepository", "name": name}}),
        )
        .await;
    }
    let strict = h.wait_chart("strict", chart_failed).await;
    let failed = chart_cond(&strict, "FetchFailed").expect("FetchFailed");
    assert_eq!(failed.reason, "ChartPullError");
    assert!(
        failed.message.contains("401 Unauthorized"),
        "{}",
        failed.message
    );
    let passing = h.wait_chart("passing", chart_ready).await;
    assert_eq!(
        passing.status.and_then(|s| s.artifact).map(|a| a.revision),
        Some("0.1.0".to_string())
    );
}
