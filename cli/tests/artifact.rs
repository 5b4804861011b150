//! `flux push|pull|tag artifact` and `flux list artifacts`, run as the built binary against
//! Debian's `docker-registry` (open, htpasswd, and token auth with a token server that signs
//! JWTs the registry verifies), and an OCIRepository reconciled from what `flux push` stored.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use base64::Engine;
use flux_api::source::v1::OCIRepository;
use flux_artifact::{UnpackLimits, fetch_verified, unpack};
use flux_testservers::{REGISTRY_PASSWORD, REGISTRY_USER, Registry};
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, PostParams};
use source_controller::ocirepository;

const SOURCE: &str = "https://github.com/example/fleet";
const REVISION: &str = "main@sha1:0123456789abcdef0123456789abcdef01234567";

struct Output {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs the `flux` binary with no Docker configuration unless `docker_config` names one.
async fn flux(args: &[&str], docker_config: Option<&Path>) -> Output {
    let empty = tempfile::tempdir().expect("tempdir");
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_flux"))
        .args(args)
        .env("DOCKER_CONFIG", docker_config.unwrap_or(empty.path()))
        .env_remove("KUBECONFIG")
        .output()
        .await
        .expect("run flux");
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).expect("utf-8"),
        stderr: String::from_utf8(out.stderr).expect("utf-8"),
    }
}

fn fleet_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let write = |rel: &str, body: &str| {
        let path = dir.path().join(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, body).expect("write");
    };
    write("apps/app.yaml", "kind: ConfigMap\n");
    write("infra/service.yaml", "kind: Service\n");
    // Left out by Flux's default exclusions, as the controllers leave it out.
    write("logo.png", "not a manifest");
    dir
}

/// Every file below `dir`, relative path to contents.
fn files(dir: &Path) -> HashMap<String, String> {
    fn walk(root: &Path, dir: &Path, out: &mut HashMap<String, String>) {
        for entry in std::fs::read_dir(dir).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path.strip_prefix(root).expect("below root");
                out.insert(
                    rel.to_string_lossy().into_owned(),
                    std::fs::read_to_string(&path).expect("read"),
                );
            }
        }
    }
    let mut out = HashMap::new();
    walk(dir, dir, &mut out);
    out
}

fn expected_files() -> HashMap<String, String> {
    [
        ("apps/app.yaml", "kind: ConfigMap\n"),
        ("infra/service.yaml", "kind: Service\n"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// Pushes the fleet directory to `url`; returns the manifest digest `flux` printed.
async fn push(url: &str, dir: &Path, extra: &[&str]) -> String {
    let path = dir.to_str().expect("utf-8 path");
    let mut args = vec![
        "push",
        "artifact",
        url,
        "--path",
        path,
        "--source",
        SOURCE,
        "--revision",
        REVISION,
    ];
    args.extend_from_slice(extra);
    let out = flux(&args, None).await;
    assert_eq!(out.code, 0, "push failed: {}", out.stderr);
    let repo = url
        .trim_start_matches("oci://")
        .rsplit_once(':')
        .expect("tag")
        .0;
    let line = out
        .stderr
        .lines()
        .find_map(|l| l.strip_prefix(&format!("✔ artifact successfully pushed to {repo}@")))
        .unwrap_or_else(|| panic!("no success line in {}", out.stderr));
    assert!(
        out.stderr
            .starts_with(&format!("► pushing artifact to {}\n", &url[6..])),
        "{}",
        out.stderr
    );
    line.to_string()
}

fn assert_one_line_error(out: &Output, contains: &str) {
    assert_eq!(out.code, 1, "stdout: {} stderr: {}", out.stdout, out.stderr);
    let last = out.stderr.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("✗ ") && last.contains(contains),
        "expected an error with '{contains}', got: {}",
        out.stderr
    );
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_pull_list_and_tag_on_an_open_registry() {
    let registry = Registry::start(false);
    let dir = fleet_dir();
    let url = format!("oci://{}/fleet/apps:v1.0.0", registry.addr);
    let digest = push(&url, dir.path(), &["--reproducible"]).await;
    assert!(
        digest.starts_with("sha256:") && digest.len() == 71,
        "{digest}"
    );
    // Same tree, same flags: the same digest (deterministic archive, fixed created time).
    assert_eq!(push(&url, dir.path(), &["--reproducible"]).await, digest);

    let json = flux(
        &[
            "push",
            "artifact",
            &format!("oci://{}/fleet/apps:v1.1.0", registry.addr),
            "-f",
            dir.path().to_str().expect("path"),
            "--source",
            SOURCE,
            "--revision",
            "v1.1.0@sha1:0123456789abcdef0123456789abcdef01234567",
            "--annotations",
            "team=platform",
            "-o",
            "json",
        ],
        None,
    )
    .await;
    assert_eq!(json.code, 0, "{}", json.stderr);
    let info: serde_json::Value = serde_json::from_str(&json.stdout).expect("json");
    assert_eq!(info["repository"], format!("{}/fleet/apps", registry.addr));
    assert_eq!(info["tag"], "v1.1.0");
    let other = info["digest"].as_str().expect("digest").to_string();
    assert_eq!(
        info["url"],
        format!("oci://{}/fleet/apps@{other}", registry.addr)
    );

    let out = tempfile::tempdir().expect("tempdir");
    let pulled = flux(
        &[
            "pull",
            "artifact",
            &url,
            "--output",
            out.path().to_str().expect("path"),
        ],
        None,
    )
    .await;
    assert_eq!(pulled.code, 0, "{}", pulled.stderr);
    assert_eq!(files(out.path()), expected_files());
    assert!(
        pulled.stderr.contains(&format!("✔ source {SOURCE}\n"))
            && pulled.stderr.contains(&format!("✔ revision {REVISION}\n"))
            && pulled
                .stderr
                .contains(&format!("✔ digest {}/fleet/apps@{digest}\n", registry.addr)),
        "{}",
        pulled.stderr
    );

    let tagged = flux(&["tag", "artifact", &url, "--tag", "latest"], None).await;
    assert_eq!(tagged.code, 0, "{}", tagged.stderr);
    assert!(
        tagged.stderr.contains(&format!(
            "✔ artifact tagged as {}/fleet/apps:latest",
            registry.addr
        )),
        "{}",
        tagged.stderr
    );

    let repo = format!("oci://{}/fleet/apps", registry.addr);
    let listed = flux(&["list", "artifacts", &repo], None).await;
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    let rows: Vec<Vec<&str>> = listed
        .stdout
        .lines()
        .map(|l| l.split('\t').map(str::trim).collect())
        .collect();
    assert_eq!(rows[0][..4], ["ARTIFACT", "DIGEST", "SOURCE", "REVISION"]);
    let row = |tag: &str| {
        rows.iter()
            .find(|r| r[0] == format!("{}/fleet/apps:{tag}", registry.addr))
            .unwrap_or_else(|| panic!("no {tag} row in {}", listed.stdout))
            .clone()
    };
    assert_eq!(row("v1.0.0")[1..4], [digest.as_str(), SOURCE, REVISION]);
    // The new tag points at the same manifest.
    assert_eq!(row("latest")[1], digest);
    assert_eq!(row("v1.1.0")[1], other);

    // Manifests on stdin, as `kustomize build . | flux push artifact ... -f -`.
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_flux"))
        .args([
            "push",
            "artifact",
            &format!("oci://{}/fleet/stdin:v1", registry.addr),
        ])
        .args(["-f", "-", "--source", SOURCE, "--revision", REVISION])
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run flux");
    {
        use tokio::io::AsyncWriteExt;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin
            .write_all(b"kind: Namespace\n---\nkind: ConfigMap\n")
            .await
            .expect("write");
    }
    let piped = child.wait_with_output().await.expect("flux");
    assert!(piped.status.success(), "{:?}", piped);
    let out = tempfile::tempdir().expect("tempdir");
    let pulled = flux(
        &[
            "pull",
            "artifact",
            &format!("oci://{}/fleet/stdin:v1", registry.addr),
            "--output",
            out.path().to_str().expect("path"),
        ],
        None,
    )
    .await;
    assert_eq!(pulled.code, 0, "{}", pulled.stderr);
    assert_eq!(
        files(out.path()),
        HashMap::from([(
            "stdin.yaml".to_string(),
            "kind: Namespace\n---\nkind: ConfigMap\n".to_string()
        )])
    );

    let filtered = flux(
        &[
            "list",
            "artifacts",
            &repo,
            "--filter-semver",
            ">=1.1.0",
            "-o",
            "json",
        ],
        None,
    )
    .await;
    assert_eq!(filtered.code, 0, "{}", filtered.stderr);
    let filtered: serde_json::Value = serde_json::from_str(&filtered.stdout).expect("json");
    let urls: Vec<&str> = filtered
        .as_array()
        .expect("array")
        .iter()
        .map(|m| m["url"].as_str().expect("url"))
        .collect();
    assert_eq!(urls, [format!("{}/fleet/apps:v1.1.0", registry.addr)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn htpasswd_registry_takes_creds_or_the_docker_config_and_never_prints_them() {
    let registry = Registry::start(true);
    let dir = fleet_dir();
    let url = format!("oci://{}/fleet/apps:v1", registry.addr);
    let path = dir.path().to_str().expect("path");
    let push_args = |creds: Option<&'static str>| {
        let mut args = vec![
            "push".to_string(),
            "artifact".into(),
            url.clone(),
            "--path".into(),
            path.into(),
            "--source".into(),
            SOURCE.into(),
            "--revision".into(),
            REVISION.into(),
        ];
        if let Some(c) = creds {
            args.extend(["--creds".into(), c.into()]);
        }
        args
    };
    let anonymous = flux(&as_str(&push_args(None)), None).await;
    assert_one_line_error(&anonymous, "failed to authenticate");
    let wrong = flux(&as_str(&push_args(Some("flux:wrong"))), None).await;
    assert_one_line_error(&wrong, "failed to authenticate");
    assert!(!wrong.stderr.contains("wrong"), "{}", wrong.stderr);

    let creds = format!("{REGISTRY_USER}:{REGISTRY_PASSWORD}");
    let mut args = push_args(None);
    args.extend(["--creds".into(), creds]);
    let pushed = flux(&as_str(&args), None).await;
    assert_eq!(pushed.code, 0, "{}", pushed.stderr);
    assert!(
        !pushed.stderr.contains(REGISTRY_PASSWORD) && !pushed.stdout.contains(REGISTRY_PASSWORD)
    );

    // Pull with the credentials `docker login` would have stored.
    let config = tempfile::tempdir().expect("tempdir");
    let auth = base64::engine::general_purpose::STANDARD
        .encode(format!("{REGISTRY_USER}:{REGISTRY_PASSWORD}"));
    std::fs::write(
        config.path().join("config.json"),
        format!(r#"{{"auths":{{"{}":{{"auth":"{auth}"}}}}}}"#, registry.addr),
    )
    .expect("config");
    let out = tempfile::tempdir().expect("tempdir");
    let pulled = flux(
        &[
            "pull",
            "artifact",
            &url,
            "--output",
            out.path().to_str().expect("path"),
        ],
        Some(config.path()),
    )
    .await;
    assert_eq!(pulled.code, 0, "{}", pulled.stderr);
    assert_eq!(files(out.path()), expected_files());
    assert!(!pulled.stderr.contains(REGISTRY_PASSWORD));
}

fn as_str(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_fails_with_one_line_and_exit_code_1() {
    let registry = Registry::start(false);
    let dir = fleet_dir();
    let path = dir.path().to_str().expect("path");
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let push = |url: String, path: String| async move {
        flux(
            &[
                "push",
                "artifact",
                &url,
                "--path",
                &path,
                "--source",
                SOURCE,
                "--revision",
                REVISION,
            ],
            None,
        )
        .await
    };
    assert_one_line_error(
        &push(
            format!("oci://127.0.0.1:{closed}/fleet/apps:v1"),
            path.into(),
        )
        .await,
        "Connection refused",
    );
    assert_one_line_error(
        &push("https://ghcr.io/fleet/apps:v1".into(), path.into()).await,
        "invalid OCI URL",
    );
    assert_one_line_error(
        &push(
            format!("oci://{}/fleet/apps:v1", registry.addr),
            dir.path().join("missing").display().to_string(),
        )
        .await,
        "invalid path",
    );
    let out = tempfile::tempdir().expect("tempdir");
    assert_one_line_error(
        &flux(
            &[
                "pull",
                "artifact",
                &format!("oci://{}/fleet/apps:nope", registry.addr),
                "--output",
                out.path().to_str().expect("path"),
            ],
            None,
        )
        .await,
        "manifest 'nope' not found",
    );
    assert_one_line_error(
        &flux(
            &[
                "tag",
                "artifact",
                &format!("oci://{}/fleet/apps:nope", registry.addr),
                "--tag",
                "latest",
            ],
            None,
        )
        .await,
        "not found",
    );
}

/// The in-memory API server with source-controller's CRDs, an artifact server and the
/// OCIRepository reconciler; stopped on drop.
struct Controller {
    _server: flux_apiserver::RunningServer,
    client: kube::Client,
    _dirs: (tempfile::TempDir, tempfile::TempDir),
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Controller {
    async fn start() -> Controller {
        let crds = flux_api::crds::for_component("source-controller").expect("component");
        let (server, client) = flux_apiserver::start_seeded(&crds, &["flux-system"])
            .await
            .expect("apiserver");
        let storage_dir = tempfile::tempdir().expect("tempdir");
        let work_dir = tempfile::tempdir().expect("tempdir");
        let storage = flux_artifact::serve_on_loopback(storage_dir.path(), 2)
            .await
            .expect("artifact server");
        let ctx = Arc::new(ocirepository::Context {
            client: client.clone(),
            storage,
            recorder: flux_runtime::events::Recorder::new(
                client.clone(),
                "source-controller",
                None,
            ),
            work_dir: work_dir.path().to_path_buf(),
            max_layer_size: 10 << 20,
            jitter_percent: 0,
            backoff: Default::default(),
        });
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(ocirepository::run(ctx, None, None, 2, async move {
            let _ = stopped.await;
        }));
        Controller {
            _server: server,
            client,
            _dirs: (storage_dir, work_dir),
            stop: Some(stop),
        }
    }

    /// Creates an OCIRepository with `spec` and waits for it to become Ready; returns the
    /// revision and the files of its stored artifact, downloaded and verified.
    async fn reconcile(&self, spec: serde_json::Value) -> (String, HashMap<String, String>) {
        let api: Api<OCIRepository> = Api::namespaced(self.client.clone(), "flux-system");
        let obj: OCIRepository = serde_json::from_value(serde_json::json!({
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "OCIRepository",
            "metadata": {"name": "apps", "namespace": "flux-system"},
            "spec": spec,
        }))
        .expect("ocirepository");
        api.create(&PostParams::default(), &obj)
            .await
            .expect("create");
        let ready = flux_runtime::testkit::wait_for(&api, "apps", |o: &OCIRepository| {
            o.status.as_ref().is_some_and(|s| {
                s.conditions
                    .iter()
                    .any(|c| c.type_ == "Ready" && c.status == "True")
            })
        })
        .await;
        let artifact = ready.status.and_then(|s| s.artifact).expect("artifact");
        let bytes = fetch_verified(
            &reqwest::Client::new(),
            &artifact.url,
            artifact.digest.as_deref().expect("digest"),
            1 << 20,
        )
        .await
        .expect("download");
        let out = tempfile::tempdir().expect("tempdir");
        unpack(&bytes, out.path(), UnpackLimits::default()).expect("unpack");
        (artifact.revision, files(out.path()))
    }
}

impl Drop for Controller {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ocirepository_reconciles_what_flux_push_stored() {
    let registry = Registry::start(false);
    let dir = fleet_dir();
    let digest = push(
        &format!("oci://{}/fleet/apps:v1.0.0", registry.addr),
        dir.path(),
        &[],
    )
    .await;
    let controller = Controller::start().await;
    let (revision, files) = controller
        .reconcile(serde_json::json!({
            "interval": "1m", "url": format!("oci://{}/fleet/apps", registry.addr),
            "insecure": true, "ref": {"tag": "v1.0.0"}}))
        .await;
    assert_eq!(revision, format!("v1.0.0@{digest}"));
    assert_eq!(files, expected_files());
}

/// A Docker token service: checks basic credentials, then issues an RS256 JWT for the scope
/// asked, signed by `openssl` with the key whose certificate the registry trusts.
struct TokenServer {
    realm: String,
    requests: Arc<AtomicUsize>,
    dir: tempfile::TempDir,
}

const SERVICE: &str = "flux-test-registry";
const ISSUER: &str = "flux-test-issuer";

impl TokenServer {
    async fn start() -> TokenServer {
        let dir = tempfile::tempdir().expect("tempdir");
        let status = std::process::Command::new("openssl")
            .args([
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            ])
            .args(["-subj", "/CN=flux-test-issuer", "-keyout"])
            .arg(dir.path().join("key.pem"))
            .arg("-out")
            .arg(dir.path().join("cert.pem"))
            .stderr(std::process::Stdio::null())
            .status()
            .expect("openssl must be installed");
        assert!(status.success(), "openssl req");
        let pem = std::fs::read_to_string(dir.path().join("cert.pem")).expect("cert");
        let der_b64: String = pem
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect::<Vec<_>>()
            .concat();
        let key = dir.path().join("key.pem");
        let requests = Arc::new(AtomicUsize::new(0));
        let state = (key, der_b64, requests.clone());
        let app = axum::Router::new()
            .route("/token", axum::routing::get(issue))
            .with_state(Arc::new(state));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        TokenServer {
            realm: format!("http://{addr}/token"),
            requests,
            dir,
        }
    }

    fn cert(&self) -> std::path::PathBuf {
        self.dir.path().join("cert.pem")
    }
}

type TokenState = Arc<(std::path::PathBuf, String, Arc<AtomicUsize>)>;

async fn issue(
    axum::extract::State(state): axum::extract::State<TokenState>,
    axum::extract::Query(query): axum::extract::Query<HashMap<String, String>>,
    headers: axum::http::HeaderMap,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let (key, cert_b64, requests) = &*state;
    requests.fetch_add(1, Ordering::SeqCst);
    let b64 = base64::engine::general_purpose::STANDARD;
    let expected = format!(
        "Basic {}",
        b64.encode(format!("{REGISTRY_USER}:{REGISTRY_PASSWORD}"))
    );
    let authorized = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == expected);
    if !authorized || query.get("service").map(String::as_str) != Some(SERVICE) {
        return axum::http::StatusCode::UNAUTHORIZED.into_response();
    }
    let scope = query.get("scope").cloned().unwrap_or_default();
    let mut parts = scope.splitn(3, ':');
    let (kind, name, actions) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
    );
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let url = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let header = serde_json::json!({"typ": "JWT", "alg": "RS256", "x5c": [cert_b64]});
    let claims = serde_json::json!({
        "iss": ISSUER, "sub": REGISTRY_USER, "aud": SERVICE,
        "exp": now + 600, "nbf": now - 60, "iat": now, "jti": format!("{now}-{}", requests.load(Ordering::SeqCst)),
        "access": [{"type": kind, "name": name, "actions": actions.split(',').collect::<Vec<_>>()}],
    });
    let signing_input = format!(
        "{}.{}",
        url.encode(header.to_string()),
        url.encode(claims.to_string())
    );
    let mut child = tokio::process::Command::new("openssl")
        .args(["dgst", "-sha256", "-sign"])
        .arg(key)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("openssl dgst");
    {
        use tokio::io::AsyncWriteExt;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin
            .write_all(signing_input.as_bytes())
            .await
            .expect("write");
    }
    let signature = child.wait_with_output().await.expect("sign").stdout;
    let token = format!("{signing_input}.{}", url.encode(signature));
    // Registries answer with either field; pulls get `access_token` to cover both.
    let body = if actions == "pull" {
        serde_json::json!({"access_token": token})
    } else {
        serde_json::json!({"token": token})
    };
    axum::Json(body).into_response()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_auth_registry_gets_bearer_tokens_from_its_token_service() {
    let tokens = TokenServer::start().await;
    let cert = tokens.cert();
    let realm = tokens.realm.clone();
    let registry = Registry::start_with(move |_| {
        format!(
            "auth:\n  token:\n    realm: {realm}\n    service: {SERVICE}\n    issuer: {ISSUER}\n    rootcertbundle: {}\n",
            cert.display()
        )
    });
    let dir = fleet_dir();
    let url = format!("oci://{}/fleet/apps:v1", registry.addr);
    let creds = format!("{REGISTRY_USER}:{REGISTRY_PASSWORD}");
    let path = dir.path().to_str().expect("path");
    let push_with = |creds: String| {
        let url = url.clone();
        async move {
            flux(
                &[
                    "push",
                    "artifact",
                    &url,
                    "--path",
                    path,
                    "--source",
                    SOURCE,
                    "--revision",
                    REVISION,
                    "--creds",
                    &creds,
                ],
                None,
            )
            .await
        }
    };

    let denied = push_with("flux:wrong".into()).await;
    assert_one_line_error(&denied, "failed to authenticate");

    let before = tokens.requests.load(Ordering::SeqCst);
    let pushed = push_with(creds.clone()).await;
    assert_eq!(pushed.code, 0, "{}", pushed.stderr);
    // One token for the push scope served every request of the push (HEAD, POST, PUT).
    assert_eq!(tokens.requests.load(Ordering::SeqCst) - before, 1);
    let digest = pushed
        .stderr
        .lines()
        .find_map(|l| l.split_once('@').map(|(_, d)| d.to_string()))
        .expect("digest");

    let out = tempfile::tempdir().expect("tempdir");
    let pulled = flux(
        &[
            "pull",
            "artifact",
            &url,
            "--output",
            out.path().to_str().expect("path"),
            "--creds",
            &creds,
        ],
        None,
    )
    .await;
    assert_eq!(pulled.code, 0, "{}", pulled.stderr);
    assert_eq!(files(out.path()), expected_files());
    assert!(pulled.stderr.contains(&digest), "{}", pulled.stderr);
    assert!(!pulled.stderr.contains(REGISTRY_PASSWORD));

    let listed = flux(
        &[
            "list",
            "artifacts",
            &format!("oci://{}/fleet/apps", registry.addr),
            "--creds",
            &creds,
        ],
        None,
    )
    .await;
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    assert!(listed.stdout.contains(&digest), "{}", listed.stdout);

    // `--creds` without a colon is a registry token, sent as it is.
    let token: serde_json::Value = reqwest::Client::new()
        .get(format!(
            "{}?service={SERVICE}&scope=repository:fleet/apps:pull",
            tokens.realm
        ))
        .basic_auth(REGISTRY_USER, Some(REGISTRY_PASSWORD))
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("token json");
    let token = token["access_token"].as_str().expect("access_token");
    let before = tokens.requests.load(Ordering::SeqCst);
    let listed = flux(
        &[
            "list",
            "artifacts",
            &format!("oci://{}/fleet/apps", registry.addr),
            "--creds",
            token,
        ],
        None,
    )
    .await;
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    assert!(listed.stdout.contains(&digest), "{}", listed.stdout);
    assert_eq!(tokens.requests.load(Ordering::SeqCst), before);

    // OCIRepository goes through the same token service with a dockerconfigjson Secret.
    let controller = Controller::start().await;
    let config = format!(
        r#"{{"auths":{{"{}":{{"username":"{REGISTRY_USER}","password":"{REGISTRY_PASSWORD}"}}}}}}"#,
        registry.addr
    );
    let secret = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "registry-auth", "namespace": "flux-system"},
        "type": "kubernetes.io/dockerconfigjson",
        "stringData": {".dockerconfigjson": config},
    }))
    .expect("secret");
    Api::<Secret>::namespaced(controller.client.clone(), "flux-system")
        .create(&PostParams::default(), &secret)
        .await
        .expect("secret");
    let before = tokens.requests.load(Ordering::SeqCst);
    let (revision, files) = controller
        .reconcile(serde_json::json!({
            "interval": "1m", "url": format!("oci://{}/fleet/apps", registry.addr),
            "insecure": true, "ref": {"tag": "v1"}, "secretRef": {"name": "registry-auth"}}))
        .await;
    assert_eq!(revision, format!("v1@{digest}"));
    assert_eq!(files, expected_files());
    assert!(tokens.requests.load(Ordering::SeqCst) > before);
}
