//! The OCI test harness shared by tests/ocirepository.rs and tests/oci_verify.rs: artifacts
//! pushed to a real `docker-registry` over the registry API in Flux's media types, and the
//! OCIRepository and HelmChart reconcilers on the in-memory API server.
#![allow(dead_code)]

use std::sync::Arc;

use base64::Engine;
use flux_api::source::v1::OCIRepository;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::api::{Api, Patch, PatchParams, PostParams};
use source_controller::{helmchart, ocirepository};

pub const NS: &str = "flux-system";

pub fn sha256(bytes: &[u8]) -> String {
    flux_artifact::digest(bytes)
}

/// Pushes a blob through the registry's upload API.
pub async fn push_blob(http: &reqwest::Client, registry: &str, repo: &str, bytes: &[u8]) -> String {
    let digest = sha256(bytes);
    let resp = http
        .post(format!("http://{registry}/v2/{repo}/blobs/uploads/"))
        .send()
        .await
        .expect("start upload");
    assert_eq!(resp.status(), 202, "start upload");
    let location = resp
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .expect("location")
        .to_string();
    let location = if location.starts_with("http") {
        location
    } else {
        format!("http://{registry}{location}")
    };
    let sep = if location.contains('?') { '&' } else { '?' };
    let resp = http
        .put(format!("{location}{sep}digest={digest}"))
        .header("content-type", "application/octet-stream")
        .body(bytes.to_vec())
        .send()
        .await
        .expect("upload");
    assert_eq!(resp.status(), 201, "finish upload");
    digest
}

pub async fn push_manifest(
    registry: &str,
    repo: &str,
    tag: &str,
    manifest: &serde_json::Value,
) -> String {
    let body = serde_json::to_vec(manifest).expect("json");
    let resp = reqwest::Client::new()
        .put(format!("http://{registry}/v2/{repo}/manifests/{tag}"))
        .header("content-type", "application/vnd.oci.image.manifest.v1+json")
        .body(body.clone())
        .send()
        .await
        .expect("manifest");
    assert_eq!(resp.status(), 201, "push manifest: {:?}", resp.text().await);
    sha256(&body)
}

/// Pushes a Flux artifact (`flux push artifact` layout) of `files` as `repo:tag`; returns the
/// manifest digest.
pub async fn push_artifact(
    registry: &str,
    repo: &str,
    tag: &str,
    files: &[(&str, &str)],
) -> String {
    push_artifact_with(&reqwest::Client::new(), registry, repo, tag, files).await
}

pub async fn push_artifact_with(
    http: &reqwest::Client,
    registry: &str,
    repo: &str,
    tag: &str,
    files: &[(&str, &str)],
) -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    for (rel, body) in files {
        let path = dir.path().join(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, body).expect("write");
    }
    let mut layer = Vec::new();
    flux_artifact::pack_dir(
        dir.path(),
        &flux_artifact::IgnoreRules::load(dir.path(), None).expect("rules"),
        &mut layer,
    )
    .expect("pack");
    let config = b"{}".to_vec();
    let config_digest = push_blob(http, registry, repo, &config).await;
    let layer_digest = push_blob(http, registry, repo, &layer).await;
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.cncf.flux.config.v1+json",
                   "digest": config_digest, "size": config.len()},
        "layers": [{"mediaType": "application/vnd.cncf.flux.content.v1.tar+gzip",
                    "digest": layer_digest, "size": layer.len()}],
        "annotations": {"org.opencontainers.image.source": "https://github.com/example/fleet",
                        "org.opencontainers.image.revision": format!("main@sha1:{}", "a".repeat(40))}
    });
    let body = serde_json::to_vec(&manifest).expect("json");
    let resp = http
        .put(format!("http://{registry}/v2/{repo}/manifests/{tag}"))
        .header("content-type", "application/vnd.oci.image.manifest.v1+json")
        .body(body.clone())
        .send()
        .await
        .expect("manifest");
    assert_eq!(resp.status(), 201, "push manifest: {:?}", resp.text().await);
    sha256(&body)
}

pub struct Harness {
    _server: flux_apiserver::RunningServer,
    pub client: kube::Client,
    _dirs: (tempfile::TempDir, tempfile::TempDir),
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Harness {
    pub async fn start() -> Harness {
        let crds = flux_api::crds::for_component("source-controller").expect("component");
        let (server, client) = flux_apiserver::start_seeded(&crds, &[NS])
            .await
            .expect("apiserver");
        let storage_dir = tempfile::tempdir().expect("tempdir");
        let work_dir = tempfile::tempdir().expect("tempdir");
        let storage = flux_artifact::serve_on_loopback(storage_dir.path(), 2)
            .await
            .expect("storage");
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
        let chart_ctx = Arc::new(helmchart::Context {
            client: client.clone(),
            storage: ctx.storage.clone(),
            recorder: flux_runtime::events::Recorder::new(
                client.clone(),
                "source-controller",
                None,
            ),
            work_dir: work_dir.path().join("charts"),
            limits: Default::default(),
            jitter_percent: 0,
            backoff: Default::default(),
        });
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (stop_charts, charts_stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(ocirepository::run(ctx, None, None, 2, async move {
            let _ = stopped.await;
            let _ = stop_charts.send(());
        }));
        tokio::spawn(helmchart::run(chart_ctx, None, None, 2, async move {
            let _ = charts_stopped.await;
        }));
        Harness {
            _server: server,
            client,
            _dirs: (storage_dir, work_dir),
            stop: Some(stop),
        }
    }

    pub fn api(&self) -> Api<OCIRepository> {
        Api::namespaced(self.client.clone(), NS)
    }

    pub async fn secret(&self, name: &str, entries: &[(&str, &str)]) {
        let data: serde_json::Map<String, serde_json::Value> = entries
            .iter()
            .map(|(k, v)| {
                let b64 = base64::engine::general_purpose::STANDARD.encode(v);
                (k.to_string(), serde_json::Value::String(b64))
            })
            .collect();
        let secret: Secret = serde_json::from_value(serde_json::json!({
            "metadata": {"name": name, "namespace": NS}, "data": data
        }))
        .expect("secret");
        Api::<Secret>::namespaced(self.client.clone(), NS)
            .create(&PostParams::default(), &secret)
            .await
            .expect("create secret");
    }

    pub async fn patch(&self, name: &str, patch: serde_json::Value) {
        self.api()
            .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .expect("patch");
    }

    /// Asks for a reconcile and waits until it was handled.
    pub async fn request_reconcile(&self, name: &str, at: &str) -> OCIRepository {
        self.patch(
            name,
            serde_json::json!({"metadata": {"annotations": {"reconcile.fluxcd.io/requestedAt": at}}}),
        )
        .await;
        self.wait(name, |o| {
            o.status
                .as_ref()
                .and_then(|s| s.reconcile_request.last_handled_reconcile_at.as_deref())
                == Some(at)
        })
        .await
    }

    pub async fn create(&self, name: &str, spec: serde_json::Value) {
        let obj: OCIRepository = serde_json::from_value(serde_json::json!({
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "OCIRepository",
            "metadata": {"name": name, "namespace": NS},
            "spec": spec,
        }))
        .expect("ocirepository");
        self.api()
            .create(&PostParams::default(), &obj)
            .await
            .expect("create");
    }

    pub async fn wait(&self, name: &str, done: impl Fn(&OCIRepository) -> bool) -> OCIRepository {
        flux_runtime::testkit::wait_for(&self.api(), name, done).await
    }

    pub async fn has_event(&self, name: &str, type_: &str, reason: &str) -> bool {
        flux_runtime::testkit::has_event(&self.client, NS, name, type_, reason).await
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

pub fn cond<'a>(obj: &'a OCIRepository, type_: &str) -> Option<&'a Condition> {
    obj.status
        .as_ref()?
        .conditions
        .iter()
        .find(|c| c.type_ == type_)
}

pub fn ready(obj: &OCIRepository) -> bool {
    cond(obj, "Ready").is_some_and(|c| c.status == "True")
}

pub fn failed(obj: &OCIRepository) -> bool {
    cond(obj, "Ready").is_some_and(|c| c.status == "False")
}

/// Creates any namespaced object in the test namespace from JSON.
pub async fn create_json<K>(client: &kube::Client, body: serde_json::Value)
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + serde::de::DeserializeOwned
        + serde::Serialize
        + std::fmt::Debug,
    K::DynamicType: Default,
{
    let obj: K = serde_json::from_value(body).expect("object");
    Api::<K>::namespaced(client.clone(), NS)
        .create(&PostParams::default(), &obj)
        .await
        .expect("create");
}
