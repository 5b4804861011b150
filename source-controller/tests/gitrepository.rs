//! GitRepository end to end: the in-memory API server, real git servers (smart HTTP through
//! `git http-backend`, and `sshd`), the reconciler and
//! the artifact HTTP server, with the artifact downloaded and checked like a consumer would.

use std::sync::Arc;
use std::time::Duration;

use flux_api::source::v1::GitRepository;
use flux_artifact::{Storage, UnpackLimits, fetch_verified, unpack};
use flux_testservers::{HttpAuth, HttpGitServer, SourceRepo, SshServer};
use k8s_openapi::api::core::v1::{Event, Namespace, Secret};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use source_controller::gitrepository::{self, Context};

struct Harness {
    _server: flux_apiserver::RunningServer,
    client: kube::Client,
    storage_dir: tempfile::TempDir,
    _cache_dir: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Harness {
    async fn start() -> Self {
        let server = flux_apiserver::start(flux_apiserver::ServerOptions::default())
            .await
            .expect("apiserver");
        let client = server.client().await.expect("client");
        let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
        for crd in flux_api::crds::for_component("source-controller").expect("component") {
            crds.create(&PostParams::default(), &crd)
                .await
                .expect("install CRD");
        }
        let namespaces: Api<Namespace> = Api::all(client.clone());
        let ns = serde_json::from_value(serde_json::json!({
            "metadata": { "name": "flux-system" }
        }))
        .expect("namespace");
        namespaces
            .create(&PostParams::default(), &ns)
            .await
            .expect("namespace");

        let storage_dir = tempfile::tempdir().expect("tempdir");
        let cache_dir = tempfile::tempdir().expect("tempdir");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let storage = Storage::new(storage_dir.path(), &addr.to_string(), 2).expect("storage");
        let router = flux_artifact::router(storage.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        let ctx = Arc::new(Context {
            client: client.clone(),
            storage,
            recorder: flux_runtime::events::Recorder::new(
                client.clone(),
                "source-controller",
                None,
            ),
            cache_root: cache_dir.path().to_path_buf(),
            max_tree_size: 10 << 20,
            jitter_percent: 5,
            backoff: Default::default(),
        });
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(gitrepository::run(ctx, None, None, 2, async move {
            let _ = stopped.await;
        }));
        Harness {
            _server: server,
            client,
            storage_dir,
            _cache_dir: cache_dir,
            stop: Some(stop),
        }
    }

    fn repos(&self) -> Api<GitRepository> {
        Api::namespaced(self.client.clone(), "flux-system")
    }

    async fn create(&self, name: &str, url: &str, reference: serde_json::Value) {
        let obj: GitRepository = serde_json::from_value(serde_json::json!({
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "GitRepository",
            "metadata": { "name": name, "namespace": "flux-system" },
            "spec": { "interval": "1m", "url": url, "ref": reference }
        }))
        .expect("gitrepository");
        self.repos()
            .create(&PostParams::default(), &obj)
            .await
            .expect("create");
    }

    /// Polls until `done` accepts the object, or fails after 30 s with the last status.
    async fn wait_for(&self, name: &str, done: impl Fn(&GitRepository) -> bool) -> GitRepository {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let obj = self.repos().get(name).await.expect("get");
            if done(&obj) {
                return obj;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "timed out; status: {:?}",
                obj.status
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The object's events once one satisfies `wanted` (events are recorded just after the
    /// status patch, so they may trail it), or all of them after 30 s.
    async fn events_for(&self, name: &str, wanted: impl Fn(&Event) -> bool) -> Vec<Event> {
        let events: Api<Event> = Api::namespaced(self.client.clone(), "flux-system");
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let found: Vec<Event> = events
                .list(&ListParams::default())
                .await
                .expect("events")
                .items
                .into_iter()
                .filter(|e| e.involved_object.name.as_deref() == Some(name))
                .collect();
            if found.iter().any(&wanted) || tokio::time::Instant::now() >= deadline {
                return found;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

fn condition<'a>(
    obj: &'a GitRepository,
    type_: &str,
) -> Option<&'a k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition> {
    obj.status
        .as_ref()?
        .conditions
        .iter()
        .find(|c| c.type_ == type_)
}

fn is_ready(obj: &GitRepository) -> bool {
    condition(obj, "Ready").is_some_and(|c| c.status == "True")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gitrepository_serves_a_verified_artifact_follows_new_commits_and_cleans_up() {
    let h = Harness::start().await;
    let repo = SourceRepo::new();
    let daemon = HttpGitServer::start(repo.root(), HttpAuth::None);
    h.create(
        "fleet",
        &daemon.url("fleet.git"),
        serde_json::json!({"branch": "main"}),
    )
    .await;

    let obj = h.wait_for("fleet", is_ready).await;
    let status = obj.status.clone().expect("status");
    let artifact = status.artifact.clone().expect("artifact");
    assert_eq!(artifact.revision, format!("main@sha1:{}", repo.rev("main")));
    assert_eq!(
        artifact.path,
        format!(
            "gitrepository/flux-system/fleet/{}.tar.gz",
            repo.rev("main")
        )
    );
    assert_eq!(status.observed_generation, Some(1));
    let ready = condition(&obj, "Ready").expect("ready");
    assert_eq!(ready.reason, "Succeeded");
    assert_eq!(
        ready.message,
        format!("stored artifact for revision '{}'", artifact.revision)
    );
    assert!(condition(&obj, "ArtifactInStorage").is_some_and(|c| c.status == "True"));
    assert!(
        obj.metadata
            .finalizers
            .as_ref()
            .is_some_and(|f| f.iter().any(|f| f == "finalizers.fluxcd.io"))
    );

    // Download as a consumer: digest checked, contents are the tree (symlink left out).
    let http = reqwest::Client::new();
    let digest = artifact.digest.clone().expect("digest");
    let bytes = fetch_verified(&http, &artifact.url, &digest, 10 << 20)
        .await
        .expect("download");
    let out = tempfile::tempdir().expect("tempdir");
    unpack(&bytes, out.path(), UnpackLimits::default()).expect("unpack");
    assert_eq!(
        std::fs::read_to_string(out.path().join("apps/app.yaml")).expect("file"),
        "kind: ConfigMap\n"
    );
    assert!(!out.path().join("link").exists());
    let new_artifact = |e: &Event| e.reason.as_deref() == Some("NewArtifact");
    let events = h.events_for("fleet", new_artifact).await;
    assert!(events.iter().any(new_artifact), "{events:?}");

    // A new commit, then a reconcile request: new revision, recorded request.
    repo.commit_file("apps/extra.yaml", "kind: Secret\n", "add extra");
    let patch = serde_json::json!({"metadata": {"annotations": {
        "reconcile.fluxcd.io/requestedAt": "2026-11-25T20:00:00Z"}}});
    h.repos()
        .patch("fleet", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .expect("annotate");
    // The request is recorded by the reconcile that handles it, which may come after another
    // reconcile (the interval, the earlier status patch) already picked up the commit.
    let want = format!("main@sha1:{}", repo.rev("main"));
    h.wait_for("fleet", |o| {
        o.status.as_ref().is_some_and(|s| {
            s.artifact.as_ref().is_some_and(|a| a.revision == want)
                && s.reconcile_request.last_handled_reconcile_at.as_deref()
                    == Some("2026-11-25T20:00:00Z")
        })
    })
    .await;

    // Deleting the object removes its artifacts, then the finalizer lets it go.
    h.repos()
        .delete("fleet", &DeleteParams::default())
        .await
        .expect("delete");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while h.repos().get_opt("fleet").await.expect("get").is_some() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "finalizer never released"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        !h.storage_dir
            .path()
            .join("gitrepository/flux-system/fleet")
            .exists()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_branch_reports_fetch_failed_and_keeps_retrying() {
    let h = Harness::start().await;
    let repo = SourceRepo::new();
    let daemon = HttpGitServer::start(repo.root(), HttpAuth::None);
    h.create(
        "broken",
        &daemon.url("fleet.git"),
        serde_json::json!({"branch": "nope"}),
    )
    .await;
    let obj = h
        .wait_for("broken", |o| {
            condition(o, "Ready").is_some_and(|c| c.status == "False")
        })
        .await;
    let ready = condition(&obj, "Ready").expect("ready");
    assert_eq!(ready.reason, "GitOperationFailed");
    assert!(
        ready.message.contains("branch 'nope' not found"),
        "{}",
        ready.message
    );
    assert!(condition(&obj, "FetchFailed").is_some_and(|c| c.status == "True"));
    assert!(condition(&obj, "Reconciling").is_some_and(|c| c.reason == "ProgressingWithRetry"));
    let warning = |e: &Event| {
        e.type_.as_deref() == Some("Warning") && e.reason.as_deref() == Some("GitOperationFailed")
    };
    let events = h.events_for("broken", warning).await;
    assert!(events.iter().any(warning), "{events:?}");

    // Creating the branch upstream heals it on a later retry.
    flux_testservers::git(&repo.root().join("fleet.git"), &["branch", "nope", "main"]);
    let obj = h.wait_for("broken", is_ready).await;
    assert!(condition(&obj, "FetchFailed").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_secret_is_an_authentication_failure_without_secret_values() {
    let h = Harness::start().await;
    let repo = SourceRepo::new();
    let sshd = SshServer::start();
    let obj: GitRepository = serde_json::from_value(serde_json::json!({
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "GitRepository",
        "metadata": { "name": "private", "namespace": "flux-system" },
        "spec": { "interval": "1m", "url": sshd.url(&repo.root().join("fleet.git")),
                  "ref": {"branch": "main"}, "secretRef": {"name": "git-auth"} }
    }))
    .expect("gitrepository");
    h.repos()
        .create(&PostParams::default(), &obj)
        .await
        .expect("create");
    let obj = h
        .wait_for("private", |o| {
            condition(o, "Ready").is_some_and(|c| c.status == "False")
        })
        .await;
    let ready = condition(&obj, "Ready").expect("ready");
    assert_eq!(ready.reason, "AuthenticationFailed");
    assert!(ready.message.contains("git-auth"), "{}", ready.message);

    // The Secret appears with the ssh identity and known_hosts: the next retry goes through.
    let identity = String::from_utf8(sshd.client_identity()).expect("utf8 key");
    let known_hosts = String::from_utf8(sshd.known_hosts()).expect("utf8");
    let secret: Secret = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "git-auth", "namespace": "flux-system"},
        "stringData": {"identity": identity, "known_hosts": known_hosts}
    }))
    .expect("secret");
    Api::<Secret>::namespaced(h.client.clone(), "flux-system")
        .create(&PostParams::default(), &secret)
        .await
        .expect("secret");
    let obj = h.wait_for("private", is_ready).await;
    let text = serde_json::to_string(&obj).expect("json");
    assert!(!text.contains("PRIVATE KEY"), "{text}");
    assert!(
        obj.status
            .and_then(|s| s.artifact)
            .is_some_and(|a| a.revision == format!("main@sha1:{}", repo.rev("main")))
    );
}

async fn create_with_include(h: &Harness, name: &str, url: &str, include: serde_json::Value) {
    let obj: GitRepository = serde_json::from_value(serde_json::json!({
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "GitRepository",
        "metadata": { "name": name, "namespace": "flux-system" },
        "spec": { "interval": "1m", "url": url, "ref": {"branch": "main"}, "include": include }
    }))
    .expect("gitrepository");
    h.repos()
        .create(&PostParams::default(), &obj)
        .await
        .expect("create");
}

async fn download(artifact: &flux_api::meta::Artifact) -> tempfile::TempDir {
    let digest = artifact.digest.clone().expect("digest");
    let bytes = fetch_verified(&reqwest::Client::new(), &artifact.url, &digest, 10 << 20)
        .await
        .expect("download");
    let out = tempfile::tempdir().expect("tempdir");
    unpack(&bytes, out.path(), UnpackLimits::default()).expect("unpack");
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn include_waits_for_the_included_repository_and_packs_its_files() {
    let h = Harness::start().await;
    let app = SourceRepo::new();
    let lib = SourceRepo::new();
    lib.commit_file("lib/only-in-lib.yaml", "kind: Lib\n", "lib");
    let app_server = HttpGitServer::start(app.root(), HttpAuth::None);
    let lib_server = HttpGitServer::start(lib.root(), HttpAuth::None);
    create_with_include(
        &h,
        "app",
        &app_server.url("fleet.git"),
        serde_json::json!([{"repository": {"name": "lib"}, "toPath": "vendor/b"}]),
    )
    .await;

    // The included repository does not exist yet: no artifact, and retries.
    let obj = h
        .wait_for("app", |o| {
            condition(o, "IncludeUnavailable").is_some_and(|c| c.status == "True")
        })
        .await;
    let unavailable = condition(&obj, "IncludeUnavailable").expect("condition");
    assert_eq!(unavailable.reason, "NotFound");
    assert!(
        unavailable.message.contains("'lib'"),
        "{}",
        unavailable.message
    );
    let ready = condition(&obj, "Ready").expect("ready");
    assert_eq!(
        (ready.status.as_str(), ready.reason.as_str()),
        ("False", "NotFound")
    );
    assert!(
        obj.status
            .as_ref()
            .and_then(|s| s.artifact.as_ref())
            .is_none()
    );

    h.create(
        "lib",
        &lib_server.url("fleet.git"),
        serde_json::json!({"branch": "main"}),
    )
    .await;
    let lib_obj = h.wait_for("lib", is_ready).await;
    let obj = h.wait_for("app", is_ready).await;
    let status = obj.status.clone().expect("status");
    assert!(condition(&obj, "IncludeUnavailable").is_none());
    assert_eq!(
        status.included_artifacts,
        vec![lib_obj.status.expect("status").artifact.expect("artifact")]
    );
    let tree = download(&status.artifact.expect("artifact")).await;
    assert_eq!(
        std::fs::read_to_string(tree.path().join("vendor/b/lib/only-in-lib.yaml")).expect("lib"),
        "kind: Lib\n"
    );
    assert!(tree.path().join("vendor/b/apps/app.yaml").is_file());
    assert!(tree.path().join("apps/app.yaml").is_file());
    assert!(!tree.path().join("lib").exists());

    // A new artifact of the included repository gives a new artifact here.
    lib.commit_file("lib/newer.yaml", "kind: Newer\n", "newer");
    let patch = serde_json::json!({"metadata": {"annotations": {
        "reconcile.fluxcd.io/requestedAt": "2026-11-26T03:00:00Z"}}});
    h.repos()
        .patch("lib", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .expect("annotate");
    let want = format!("main@sha1:{}", lib.rev("main"));
    let obj = h
        .wait_for("app", |o| {
            o.status
                .as_ref()
                .is_some_and(|s| s.included_artifacts.iter().any(|a| a.revision == want))
        })
        .await;
    let tree = download(&obj.status.expect("status").artifact.expect("artifact")).await;
    assert!(tree.path().join("vendor/b/lib/newer.yaml").is_file());

    // A destination outside the tree is refused, and waits for a spec change.
    create_with_include(
        &h,
        "escape",
        &app_server.url("fleet.git"),
        serde_json::json!([{"repository": {"name": "lib"}, "toPath": "../escape"}]),
    )
    .await;
    let obj = h
        .wait_for("escape", |o| {
            condition(o, "Ready").is_some_and(|c| c.status == "False")
        })
        .await;
    let ready = condition(&obj, "Ready").expect("ready");
    assert_eq!(ready.reason, "IllegalPath");
    assert!(
        ready
            .message
            .contains("'../escape' must not leave the repository tree"),
        "{}",
        ready.message
    );
    assert!(condition(&obj, "Stalled").is_some_and(|c| c.status == "True"));
    assert!(obj.status.and_then(|s| s.artifact).is_none());
}

async fn create_with_spec(h: &Harness, name: &str, spec: serde_json::Value) {
    let obj: GitRepository = serde_json::from_value(serde_json::json!({
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "GitRepository",
        "metadata": { "name": name, "namespace": "flux-system" },
        "spec": spec
    }))
    .expect("gitrepository");
    h.repos()
        .create(&PostParams::default(), &obj)
        .await
        .expect("create");
}

async fn request_reconcile(h: &Harness, name: &str, at: &str) {
    let patch = serde_json::json!({"metadata": {"annotations": {
        "reconcile.fluxcd.io/requestedAt": at}}});
    h.repos()
        .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .expect("annotate");
}

fn is_not_ready(obj: &GitRepository) -> bool {
    condition(obj, "Ready").is_some_and(|c| c.status == "False")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recurse_submodules_packs_nested_submodules_and_names_one_that_fails() {
    let h = Harness::start().await;
    let repo = SourceRepo::new();
    let deep = flux_testservers::bare_repo(
        repo.root(),
        "deep.git",
        &[("deep.yaml", "kind: Deep\n")],
        &[],
    );
    let lib = flux_testservers::bare_repo(
        repo.root(),
        "lib.git",
        &[("lib.yaml", "kind: Lib\n")],
        &[("deep", "../deep.git", &deep)],
    );
    repo.commit_submodules(&[("vendor/lib", "../lib.git", &lib)]);
    let server = HttpGitServer::start(repo.root(), HttpAuth::None);
    create_with_spec(
        &h,
        "with-modules",
        serde_json::json!({"interval": "1m", "url": server.url("fleet.git"),
                           "ref": {"branch": "main"}}),
    )
    .await;
    let obj = h.wait_for("with-modules", is_ready).await;
    let without = obj.status.and_then(|s| s.artifact).expect("artifact");
    assert!(
        !download(&without)
            .await
            .path()
            .join("vendor/lib/lib.yaml")
            .exists()
    );

    // Turning the flag on rebuilds the artifact for the same commit.
    let patch = serde_json::json!({"spec": {"recurseSubmodules": true}});
    h.repos()
        .patch(
            "with-modules",
            &PatchParams::default(),
            &Patch::Merge(&patch),
        )
        .await
        .expect("patch");
    let obj = h
        .wait_for("with-modules", |o| {
            is_ready(o)
                && o.status
                    .as_ref()
                    .is_some_and(|s| s.observed_recurse_submodules)
        })
        .await;
    let status = obj.status.expect("status");
    assert_ne!(
        status.artifact.as_ref().and_then(|a| a.digest.clone()),
        without.digest
    );
    assert!(status.observed_recurse_submodules);
    let artifact = status.artifact.expect("artifact");
    assert_eq!(artifact.revision, format!("main@sha1:{}", repo.rev("main")));
    let tree = download(&artifact).await;
    assert_eq!(
        std::fs::read_to_string(tree.path().join("vendor/lib/lib.yaml")).expect("lib"),
        "kind: Lib\n"
    );
    assert!(tree.path().join("vendor/lib/deep/deep.yaml").is_file());

    // A submodule whose repository does not exist: FetchFailed naming it.
    let broken = SourceRepo::new();
    broken.commit_submodules(&[("vendor/gone", "../gone.git", &broken.rev("main"))]);
    let broken_server = HttpGitServer::start(broken.root(), HttpAuth::None);
    create_with_spec(
        &h,
        "broken-modules",
        serde_json::json!({"interval": "1m", "url": broken_server.url("fleet.git"),
                           "ref": {"branch": "main"}, "recurseSubmodules": true}),
    )
    .await;
    let obj = h.wait_for("broken-modules", is_not_ready).await;
    let failed = condition(&obj, "FetchFailed").expect("FetchFailed");
    assert_eq!(failed.reason, "GitOperationFailed");
    assert!(
        failed.message.contains("submodule 'vendor/gone'"),
        "{}",
        failed.message
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sparse_checkout_packs_only_the_directories_and_rebuilds_when_the_list_changes() {
    let h = Harness::start().await;
    let repo = SourceRepo::new();
    repo.commit_file("infra/ns.yaml", "kind: Namespace\n", "infra");
    let server = HttpGitServer::start(repo.root(), HttpAuth::None);
    create_with_spec(
        &h,
        "sparse",
        serde_json::json!({"interval": "1m", "url": server.url("fleet.git"),
                           "ref": {"branch": "main"}, "sparseCheckout": ["apps"]}),
    )
    .await;
    let obj = h.wait_for("sparse", is_ready).await;
    let status = obj.status.expect("status");
    assert_eq!(status.observed_sparse_checkout, vec!["apps".to_string()]);
    let first = status.artifact.expect("artifact");
    assert_eq!(first.revision, format!("main@sha1:{}", repo.rev("main")));
    let tree = download(&first).await;
    assert!(tree.path().join("apps/app.yaml").is_file());
    assert!(!tree.path().join("infra").exists());

    // Same commit, another list: a new artifact all the same.
    let patch = serde_json::json!({"spec": {"sparseCheckout": ["apps", "./infra"]}});
    h.repos()
        .patch("sparse", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .expect("patch");
    let obj = h
        .wait_for("sparse", |o| {
            o.status
                .as_ref()
                .is_some_and(|s| s.observed_sparse_checkout.len() == 2)
                && is_ready(o)
        })
        .await;
    let second = obj.status.expect("status").artifact.expect("artifact");
    assert_eq!(second.revision, first.revision);
    assert_ne!(second.digest, first.digest);
    let tree = download(&second).await;
    assert!(tree.path().join("infra/ns.yaml").is_file());

    // A directory the commit does not have.
    let patch = serde_json::json!({"spec": {"sparseCheckout": ["nope"]}});
    h.repos()
        .patch("sparse", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .expect("patch");
    let obj = h.wait_for("sparse", is_not_ready).await;
    let failed = condition(&obj, "FetchFailed").expect("FetchFailed");
    assert!(
        failed
            .message
            .contains("sparse checkout dir 'nope' does not exist in repository"),
        "{}",
        failed.message
    );
    assert_eq!(obj.status.expect("status").artifact, Some(second));
}

async fn create_key_secret(h: &Harness, name: &str, armored: &str) {
    let secret: Secret = serde_json::from_value(serde_json::json!({
        "metadata": {"name": name, "namespace": "flux-system"},
        "stringData": {"author.asc": armored}
    }))
    .expect("secret");
    Api::<Secret>::namespaced(h.client.clone(), "flux-system")
        .create(&PostParams::default(), &secret)
        .await
        .expect("secret");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_head_accepts_trusted_signatures_and_keeps_the_artifact_on_failure() {
    let h = Harness::start().await;
    let trusted = flux_testservers::Gpg::new("trusted");
    let repo = SourceRepo::new();
    repo.commit_file_signed(&trusted, "apps/signed.yaml", "kind: Signed\n", "signed");
    repo.tag_signed(&trusted, "v3.0.0");
    let server = HttpGitServer::start(repo.root(), HttpAuth::None);
    create_key_secret(&h, "pgp-keys", &trusted.armored_public_key()).await;
    create_with_spec(
        &h,
        "verified",
        serde_json::json!({"interval": "1m", "url": server.url("fleet.git"),
                           "ref": {"branch": "main"},
                           "verify": {"mode": "HEAD", "secretRef": {"name": "pgp-keys"}}}),
    )
    .await;
    let obj = h.wait_for("verified", is_ready).await;
    let verified = condition(&obj, "SourceVerified").expect("SourceVerified");
    let signed = repo.rev("main");
    assert_eq!(
        (verified.status.as_str(), verified.reason.as_str()),
        ("True", "Succeeded")
    );
    assert_eq!(
        verified.message,
        format!(
            "verified signature of\n\t- commit '{signed}' with key '{}'",
            trusted.key_id()
        )
    );
    let status = obj.status.clone().expect("status");
    assert_eq!(
        status.source_verification_mode,
        Some(flux_api::source::v1::GitVerificationMode::Head)
    );
    let kept = status.artifact.expect("artifact");

    // An unsigned commit upstream: SourceVerified False, and the verified artifact stays.
    repo.commit_file("apps/unsigned.yaml", "kind: Unsigned\n", "unsigned");
    request_reconcile(&h, "verified", "2026-11-26T05:00:00Z").await;
    let obj = h.wait_for("verified", is_not_ready).await;
    let verified = condition(&obj, "SourceVerified").expect("SourceVerified");
    assert_eq!(
        (verified.status.as_str(), verified.reason.as_str()),
        ("False", "InvalidCommitSignature")
    );
    assert!(
        verified.message.contains(&repo.rev("main")) && verified.message.contains("not signed"),
        "{}",
        verified.message
    );
    assert_eq!(
        condition(&obj, "Ready").expect("ready").reason,
        "InvalidCommitSignature"
    );
    assert_eq!(obj.status.expect("status").artifact, Some(kept));

    // A signed commit on top heals it.
    repo.commit_file_signed(&trusted, "apps/again.yaml", "kind: Again\n", "signed again");
    request_reconcile(&h, "verified", "2026-11-26T05:01:00Z").await;
    let healed = format!("main@sha1:{}", repo.rev("main"));
    let obj = h
        .wait_for("verified", |o| {
            is_ready(o)
                && o.status
                    .as_ref()
                    .and_then(|s| s.artifact.as_ref())
                    .is_some_and(|a| a.revision == healed)
        })
        .await;
    let verified = condition(&obj, "SourceVerified").expect("SourceVerified");
    assert_eq!(verified.status, "True");
    assert!(
        verified.message.contains(&repo.rev("main")),
        "{}",
        verified.message
    );

    // Tag and HEAD through the signed tag.
    create_with_spec(
        &h,
        "verified-tag",
        serde_json::json!({"interval": "1m", "url": server.url("fleet.git"),
                           "ref": {"tag": "v3.0.0"},
                           "verify": {"mode": "TagAndHEAD", "secretRef": {"name": "pgp-keys"}}}),
    )
    .await;
    let obj = h.wait_for("verified-tag", is_ready).await;
    let verified = condition(&obj, "SourceVerified").expect("SourceVerified");
    assert_eq!(
        verified.message,
        format!(
            "verified signature of\n\t- tag 'v3.0.0@{tag}' with key '{key}'\n\t- commit '{signed}' with key '{key}'",
            tag = repo.rev("refs/tags/v3.0.0"),
            key = trusted.key_id()
        )
    );

    // Keys that do not match: VerificationError-free failure naming the signer, no artifact.
    let stranger = flux_testservers::Gpg::new("stranger");
    create_key_secret(&h, "other-keys", &stranger.armored_public_key()).await;
    create_with_spec(
        &h,
        "untrusted",
        serde_json::json!({"interval": "1m", "url": server.url("fleet.git"),
                           "ref": {"tag": "v3.0.0"},
                           "verify": {"secretRef": {"name": "other-keys"}}}),
    )
    .await;
    let obj = h.wait_for("untrusted", is_not_ready).await;
    let verified = condition(&obj, "SourceVerified").expect("SourceVerified");
    assert_eq!(verified.reason, "InvalidCommitSignature");
    assert!(
        verified.message.contains(&trusted.key_id()),
        "{}",
        verified.message
    );
    assert!(obj.status.and_then(|s| s.artifact).is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_with_the_secret_ca_is_ready_and_without_it_fails_on_the_certificate() {
    let h = Harness::start().await;
    let repo = SourceRepo::new();
    let server =
        flux_testservers::HttpsGitServer::start(repo.root(), HttpAuth::Basic("git", "s3cret"));
    let ca = String::from_utf8(server.ca_pem()).expect("pem");
    for (name, data) in [
        (
            "https-ca",
            serde_json::json!({"username": "git", "password": "s3cret", "ca.crt": ca}),
        ),
        (
            "https-legacy-ca",
            serde_json::json!({"username": "git", "password": "s3cret", "caFile": ca}),
        ),
        (
            "https-no-ca",
            serde_json::json!({"username": "git", "password": "s3cret"}),
        ),
    ] {
        let secret: Secret = serde_json::from_value(serde_json::json!({
            "metadata": {"name": name, "namespace": "flux-system"},
            "stringData": data
        }))
        .expect("secret");
        Api::<Secret>::namespaced(h.client.clone(), "flux-system")
            .create(&PostParams::default(), &secret)
            .await
            .expect("secret");
        create_with_spec(
            &h,
            name,
            serde_json::json!({"interval": "1m", "url": server.url("fleet.git"),
                               "ref": {"branch": "main"}, "secretRef": {"name": name}}),
        )
        .await;
    }
    for name in ["https-ca", "https-legacy-ca"] {
        let obj = h.wait_for(name, is_ready).await;
        assert_eq!(
            obj.status.and_then(|s| s.artifact).map(|a| a.revision),
            Some(format!("main@sha1:{}", repo.rev("main")))
        );
    }
    let obj = h.wait_for("https-no-ca", is_not_ready).await;
    let failed = condition(&obj, "FetchFailed").expect("FetchFailed");
    assert!(
        failed.message.to_lowercase().contains("certificate"),
        "{}",
        failed.message
    );
    let text = serde_json::to_string(&obj).expect("json");
    assert!(!text.contains("s3cret"), "{text}");
}
