//! Bucket end to end: moto's S3 server on loopback, objects written with aws-sdk-s3, the
//! reconciler on the in-memory API server, and the stored artifact downloaded, verified and
//! unpacked.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_s3::primitives::ByteStream;
use flux_api::source::v1::Bucket;
use flux_artifact::{Storage, UnpackLimits, fetch_verified, unpack};
use flux_testservers::Moto;
use k8s_openapi::api::core::v1::{Event, Namespace, Secret};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use sha2::{Digest, Sha256};
use source_controller::bucket;

const NS: &str = "flux-system";

fn s3(moto: &Moto, access_key: &str, secret_key: &str) -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .http_client(bucket::http_client())
        .region(Region::new("us-east-1"))
        .endpoint_url(moto.url())
        .force_path_style(true)
        .credentials_provider(Credentials::new(access_key, secret_key, None, None, "test"))
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

async fn create_bucket(s3: &aws_sdk_s3::Client, name: &str) {
    s3.create_bucket()
        .bucket(name)
        .send()
        .await
        .expect("create bucket");
}

/// Writes an object; returns its etag without quotes, as Flux indexes it.
async fn put(s3: &aws_sdk_s3::Client, bucket: &str, key: &str, body: &[u8]) -> String {
    let out = s3
        .put_object()
        .bucket(bucket)
        .key(key)
        .body(ByteStream::from(body.to_vec()))
        .send()
        .await
        .expect("put object");
    out.e_tag().expect("etag").trim_matches('"').to_string()
}

/// Flux's revision, computed here independently of the reconciler.
fn revision(index: &[(&str, &str)]) -> String {
    let mut sorted = index.to_vec();
    sorted.sort();
    let mut hasher = Sha256::new();
    for (key, etag) in sorted {
        hasher.update(format!("{key} {etag}\n"));
    }
    format!("sha256:{:x}", hasher.finalize())
}

struct Harness {
    _server: flux_apiserver::RunningServer,
    client: kube::Client,
    storage: Storage,
    _dirs: (tempfile::TempDir, tempfile::TempDir),
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Harness {
    async fn start(max_size: u64) -> Harness {
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
        let ns = serde_json::from_value(serde_json::json!({"metadata": {"name": NS}}))
            .expect("namespace");
        Api::<Namespace>::all(client.clone())
            .create(&PostParams::default(), &ns)
            .await
            .expect("namespace");
        let storage_dir = tempfile::tempdir().expect("tempdir");
        let work_dir = tempfile::tempdir().expect("tempdir");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let storage = Storage::new(storage_dir.path(), &addr.to_string(), 2).expect("storage");
        let router = flux_artifact::router(storage.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        let ctx = Arc::new(bucket::Context {
            client: client.clone(),
            storage: storage.clone(),
            recorder: flux_runtime::events::Recorder::new(
                client.clone(),
                "source-controller",
                None,
            ),
            work_dir: work_dir.path().join("bucket"),
            max_size,
            http: bucket::http_client(),
            jitter_percent: 0,
            backoff: Default::default(),
        });
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(bucket::run(ctx, None, None, 2, async move {
            let _ = stopped.await;
        }));
        Harness {
            _server: server,
            client,
            storage,
            _dirs: (storage_dir, work_dir),
            stop: Some(stop),
        }
    }

    fn api(&self) -> Api<Bucket> {
        Api::namespaced(self.client.clone(), NS)
    }

    async fn create(&self, name: &str, spec: serde_json::Value) {
        let obj: Bucket = serde_json::from_value(serde_json::json!({
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "Bucket",
            "metadata": {"name": name, "namespace": NS},
            "spec": spec,
        }))
        .expect("bucket");
        self.api()
            .create(&PostParams::default(), &obj)
            .await
            .expect("create");
    }

    async fn secret(&self, name: &str, data: serde_json::Value) {
        let secret: Secret = serde_json::from_value(serde_json::json!({
            "metadata": {"name": name, "namespace": NS},
            "stringData": data,
        }))
        .expect("secret");
        Api::<Secret>::namespaced(self.client.clone(), NS)
            .create(&PostParams::default(), &secret)
            .await
            .expect("create secret");
    }

    async fn wait(&self, name: &str, done: impl Fn(&Bucket) -> bool) -> Bucket {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            let obj = self.api().get(name).await.expect("get");
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

    /// Asks for a reconcile now and waits until it was handled.
    async fn reconcile_now(&self, name: &str, token: &str) -> Bucket {
        let patch = serde_json::json!({"metadata": {"annotations": {
            "reconcile.fluxcd.io/requestedAt": token}}});
        self.api()
            .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .expect("annotate");
        self.wait(name, |o| {
            o.status
                .as_ref()
                .and_then(|s| s.reconcile_request.last_handled_reconcile_at.as_deref())
                == Some(token)
        })
        .await
    }

    async fn events(&self, name: &str) -> Vec<Event> {
        Api::<Event>::namespaced(self.client.clone(), NS)
            .list(&ListParams::default())
            .await
            .expect("events")
            .items
            .into_iter()
            .filter(|e| e.involved_object.name.as_deref() == Some(name))
            .collect()
    }

    /// Waits up to 10 s for an event of this type and reason whose message contains `text`.
    async fn has_event(&self, name: &str, type_: &str, reason: &str, text: &str) -> bool {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let found = self.events(name).await.iter().any(|e| {
                e.type_.as_deref() == Some(type_)
                    && e.reason.as_deref() == Some(reason)
                    && e.message.as_deref().is_some_and(|m| m.contains(text))
            });
            if found || tokio::time::Instant::now() > deadline {
                return found;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits up to 10 s for a NewArtifact event annotated with `revision`.
    async fn has_new_artifact_event(&self, name: &str, revision: &str) -> bool {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let found = self.events(name).await.iter().any(|e| {
                e.reason.as_deref() == Some("NewArtifact")
                    && e.metadata.annotations.as_ref().and_then(|a| {
                        a.get("source.toolkit.fluxcd.io/revision")
                            .map(String::as_str)
                    }) == Some(revision)
            });
            if found || tokio::time::Instant::now() > deadline {
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

fn cond<'a>(obj: &'a Bucket, type_: &str) -> Option<&'a Condition> {
    obj.status
        .as_ref()?
        .conditions
        .iter()
        .find(|c| c.type_ == type_)
}

fn ready(obj: &Bucket) -> bool {
    cond(obj, "Ready").is_some_and(|c| c.status == "True")
}

fn failed(obj: &Bucket) -> bool {
    cond(obj, "Ready").is_some_and(|c| c.status == "False")
}

fn artifact(obj: &Bucket) -> flux_api::meta::Artifact {
    obj.status
        .clone()
        .and_then(|s| s.artifact)
        .expect("artifact")
}

/// Downloads and verifies the artifact; returns the unpacked files and their contents.
async fn contents(obj: &Bucket) -> BTreeMap<String, String> {
    let a = artifact(obj);
    let bytes = fetch_verified(
        &reqwest::Client::new(),
        &a.url,
        a.digest.as_deref().expect("digest"),
        10 << 20,
    )
    .await
    .expect("download");
    let out = tempfile::tempdir().expect("tempdir");
    unpack(&bytes, out.path(), UnpackLimits::default()).expect("unpack");
    let mut files = BTreeMap::new();
    let mut stack = vec![out.path().to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read_dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path
                    .strip_prefix(out.path())
                    .expect("below")
                    .to_string_lossy()
                    .into_owned();
                files.insert(rel, std::fs::read_to_string(&path).expect("read"));
            }
        }
    }
    files
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bucket_artifact_follows_the_objects_with_flux_revisions() {
    let moto = Moto::start();
    let s3 = s3(&moto, "any", "any");
    let h = Harness::start(10 << 20).await;
    create_bucket(&s3, "fleet").await;
    let app = put(&s3, "fleet", "apps/app.yaml", b"kind: ConfigMap\n").await;
    let readme = put(&s3, "fleet", "apps/README.md", b"# apps\n").await;
    let logo = put(&s3, "fleet", "logo.png", b"png").await;
    let other = put(&s3, "fleet", "other/skip.yaml", b"kind: Secret\n").await;
    put(&s3, "fleet", "drafts/wip.yaml", b"kind: Draft\n").await;
    put(&s3, "fleet", ".sourceignore", b"drafts/\n").await;
    put(&s3, "fleet", "apps/", b"").await;

    h.secret(
        "keys",
        serde_json::json!({"accesskey": "any", "secretkey": "any"}),
    )
    .await;
    h.create(
        "fleet",
        serde_json::json!({"interval": "1m", "bucketName": "fleet", "endpoint": moto.addr,
            "insecure": true, "ignore": "*.md\n", "secretRef": {"name": "keys"}}),
    )
    .await;
    let obj = h.wait("fleet", ready).await;
    let first = artifact(&obj);
    let want = revision(&[
        ("apps/app.yaml", &app),
        ("logo.png", &logo),
        ("other/skip.yaml", &other),
    ]);
    assert_eq!(first.revision, want);
    let hex = want.trim_start_matches("sha256:");
    assert_eq!(first.path, format!("bucket/flux-system/fleet/{hex}.tar.gz"));
    assert_eq!(
        cond(&obj, "Ready").map(|c| c.message.clone()),
        Some(format!("stored artifact: revision '{want}'"))
    );
    let files = contents(&obj).await;
    assert_eq!(
        files.keys().map(String::as_str).collect::<Vec<_>>(),
        vec![
            ".sourceignore",
            "apps/app.yaml",
            "logo.png",
            "other/skip.yaml"
        ],
        "ignored by .sourceignore and spec.ignore: drafts/ and *.md; no default exclusions"
    );
    assert_eq!(files["apps/app.yaml"], "kind: ConfigMap\n");
    assert!(
        h.has_event(
            "fleet",
            "Normal",
            "NewArtifact",
            "stored artifact with 3 fetched files from 'fleet' bucket"
        )
        .await
    );

    // Unchanged bucket: same revision, the stored artifact is kept as it was.
    let obj = h.reconcile_now("fleet", "unchanged").await;
    assert_eq!(artifact(&obj), first);

    // A changed object gives a new revision, a new artifact and an event.
    let app2 = put(&s3, "fleet", "apps/app.yaml", b"kind: ConfigMap\nv: 2\n").await;
    let obj = h.reconcile_now("fleet", "changed").await;
    let second = artifact(&obj);
    let want2 = revision(&[
        ("apps/app.yaml", &app2),
        ("logo.png", &logo),
        ("other/skip.yaml", &other),
    ]);
    assert_eq!(second.revision, want2);
    assert_ne!(second.digest, first.digest);
    assert_eq!(
        contents(&obj).await["apps/app.yaml"],
        "kind: ConfigMap\nv: 2\n"
    );
    assert!(h.has_new_artifact_event("fleet", &want2).await);

    // The prefix filters on the server: only keys below it (and the root .sourceignore).
    h.create(
        "apps",
        serde_json::json!({"interval": "1s", "bucketName": "fleet", "endpoint": moto.addr,
            "insecure": true, "prefix": "apps/", "secretRef": {"name": "keys"}}),
    )
    .await;
    let obj = h.wait("apps", ready).await;
    assert_eq!(
        artifact(&obj).revision,
        revision(&[("apps/README.md", &readme), ("apps/app.yaml", &app2)])
    );
    assert_eq!(
        contents(&obj)
            .await
            .keys()
            .map(String::as_str)
            .collect::<Vec<_>>(),
        vec![".sourceignore", "apps/README.md", "apps/app.yaml"]
    );
    // The interval brings new objects in without any request.
    let added = put(&s3, "fleet", "apps/new.yaml", b"kind: Namespace\n").await;
    let want = revision(&[
        ("apps/README.md", &readme),
        ("apps/app.yaml", &app2),
        ("apps/new.yaml", &added),
    ]);
    let obj = h
        .wait("apps", |o| {
            o.status
                .as_ref()
                .and_then(|s| s.artifact.as_ref())
                .is_some_and(|a| a.revision == want)
        })
        .await;
    assert_eq!(contents(&obj).await["apps/new.yaml"], "kind: Namespace\n");

    // Deleting the Bucket removes its artifacts.
    assert!(h.storage.resolve(&second.path).is_some());
    h.api()
        .delete("fleet", &DeleteParams::default())
        .await
        .expect("delete");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while h.api().get_opt("fleet").await.expect("get").is_some() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "Bucket never went away"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(h.storage.resolve(&second.path).is_none());
    assert!(h.storage.resolve(&first.path).is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bucket_bad_input_is_reported_and_keeps_the_last_artifact() {
    let moto = Moto::start();
    let s3 = s3(&moto, "any", "any");
    let h = Harness::start(64 << 10).await;
    create_bucket(&s3, "good").await;
    put(&s3, "good", "a.yaml", b"a: 1\n").await;
    h.secret(
        "keys",
        serde_json::json!({"accesskey": "any", "secretkey": "any"}),
    )
    .await;
    let spec = |bucket: &str| {
        serde_json::json!({"interval": "1m", "bucketName": bucket, "endpoint": moto.addr,
            "insecure": true, "timeout": "20s", "secretRef": {"name": "keys"}})
    };

    // A missing bucket; the artifact of the last good one stays.
    h.create("good", spec("good")).await;
    let good = artifact(&h.wait("good", ready).await);
    let patch = serde_json::json!({"spec": {"bucketName": "nope"}});
    h.api()
        .patch("good", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .expect("patch");
    let obj = h.wait("good", failed).await;
    let fetch = cond(&obj, "FetchFailed").expect("FetchFailed");
    assert_eq!(fetch.reason, "BucketOperationFailed");
    assert_eq!(fetch.message, "bucket 'nope' not found");
    assert_eq!(artifact(&obj), good);
    assert!(h.storage.resolve(&good.path).is_some());
    assert!(
        h.has_event(
            "good",
            "Warning",
            "BucketOperationFailed",
            "bucket 'nope' not found"
        )
        .await
    );

    // A missing secret, and one without the keys, are authentication failures.
    let mut with_secret = spec("good");
    with_secret["secretRef"] = serde_json::json!({"name": "absent"});
    h.create("no-secret", with_secret).await;
    let obj = h.wait("no-secret", failed).await;
    let fetch = cond(&obj, "FetchFailed").expect("FetchFailed");
    assert_eq!(fetch.reason, "AuthenticationFailed");
    assert!(
        fetch.message.contains("secrets \"absent\" not found"),
        "{}",
        fetch.message
    );
    assert!(
        h.has_event("no-secret", "Warning", "AuthenticationFailed", "absent")
            .await
    );

    h.secret("half", serde_json::json!({"accesskey": "id"}))
        .await;
    let mut half = spec("good");
    half["secretRef"] = serde_json::json!({"name": "half"});
    h.create("half-secret", half).await;
    let obj = h.wait("half-secret", failed).await;
    let fetch = cond(&obj, "FetchFailed").expect("FetchFailed");
    assert_eq!(fetch.reason, "AuthenticationFailed");
    assert_eq!(
        fetch.message,
        "invalid 'half' secret data: required fields 'accesskey' and 'secretkey'"
    );

    // Nothing listens on the endpoint.
    let mut unreachable = spec("good");
    unreachable["endpoint"] =
        serde_json::json!(format!("127.0.0.1:{}", flux_testservers::free_port()));
    h.create("unreachable", unreachable).await;
    let obj = h.wait("unreachable", failed).await;
    let fetch = cond(&obj, "FetchFailed").expect("FetchFailed");
    assert_eq!(fetch.reason, "BucketOperationFailed");
    assert!(
        fetch.message.starts_with(
            "failed to confirm existence of 'good' bucket: unable to reach the endpoint"
        ),
        "{}",
        fetch.message
    );
    assert!(
        h.has_event(
            "unreachable",
            "Warning",
            "BucketOperationFailed",
            "failed to confirm"
        )
        .await
    );

    // An endpoint that accepts connections and never answers: spec.timeout ends the fetch.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let silent_addr = silent.local_addr().expect("addr").to_string();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in silent.incoming().flatten() {
            held.push(stream);
        }
    });
    let mut hanging = spec("good");
    hanging["endpoint"] = serde_json::json!(silent_addr);
    hanging["timeout"] = serde_json::json!("1s");
    h.create("hanging", hanging).await;
    let obj = h.wait("hanging", failed).await;
    let fetch = cond(&obj, "FetchFailed").expect("FetchFailed");
    assert_eq!(fetch.reason, "BucketOperationFailed");
    assert_eq!(
        fetch.message,
        "indexation of objects from bucket 'good' failed: timeout after 1s"
    );

    // Keys that would leave the download directory are refused, unless ignored.
    create_bucket(&s3, "evil").await;
    put(&s3, "evil", "ok.yaml", b"ok: 1\n").await;
    put(&s3, "evil", "../escape.yaml", b"x: 1\n").await;
    h.create("evil", spec("evil")).await;
    let obj = h.wait("evil", failed).await;
    let fetch = cond(&obj, "FetchFailed").expect("FetchFailed");
    assert_eq!(fetch.reason, "BucketOperationFailed");
    assert!(
        fetch.message.contains("object key '../escape.yaml'"),
        "{}",
        fetch.message
    );
    assert!(
        obj.status
            .as_ref()
            .and_then(|s| s.artifact.as_ref())
            .is_none()
    );
    put(&s3, "evil", "/abs.yaml", b"x: 1\n").await;
    let patch = serde_json::json!({"spec": {"ignore": "escape.yaml\n"}});
    h.api()
        .patch("evil", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .expect("patch");
    let obj = h
        .wait("evil", |o| {
            cond(o, "FetchFailed").is_some_and(|c| c.message.contains("'/abs.yaml'"))
        })
        .await;
    assert!(failed(&obj));
    let patch = serde_json::json!({"spec": {"ignore": "escape.yaml\nabs.yaml\n"}});
    h.api()
        .patch("evil", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .expect("patch");
    let obj = h.wait("evil", ready).await;
    assert_eq!(
        contents(&obj)
            .await
            .keys()
            .map(String::as_str)
            .collect::<Vec<_>>(),
        vec!["ok.yaml"]
    );

    // More bytes than the controller's limit.
    create_bucket(&s3, "big").await;
    put(&s3, "big", "small.yaml", b"a: 1\n").await;
    put(&s3, "big", "huge.bin", &vec![b'x'; 80 << 10]).await;
    h.create("big", spec("big")).await;
    let obj = h.wait("big", failed).await;
    let fetch = cond(&obj, "FetchFailed").expect("FetchFailed");
    assert_eq!(fetch.reason, "BucketOperationFailed");
    assert_eq!(
        fetch.message,
        format!(
            "objects in bucket 'big' exceed the size limit of {} bytes",
            64 << 10
        )
    );

    // Without secretRef the generic provider sends unsigned requests, which a public bucket
    // answers.
    s3.create_bucket()
        .bucket("public")
        .acl(aws_sdk_s3::types::BucketCannedAcl::PublicRead)
        .send()
        .await
        .expect("create public bucket");
    s3.put_object()
        .bucket("public")
        .key("p.yaml")
        .acl(aws_sdk_s3::types::ObjectCannedAcl::PublicRead)
        .body(ByteStream::from_static(b"p: 1\n"))
        .send()
        .await
        .expect("put public object");
    let mut anonymous = spec("public");
    anonymous
        .as_object_mut()
        .expect("object")
        .remove("secretRef");
    h.create("public", anonymous).await;
    let obj = h.wait("public", ready).await;
    assert_eq!(
        contents(&obj)
            .await
            .keys()
            .map(String::as_str)
            .collect::<Vec<_>>(),
        vec!["p.yaml"]
    );

    // gcp and azure are not implemented: the object stalls with a clear message.
    let mut gcp = spec("good");
    gcp["provider"] = serde_json::json!("gcp");
    h.create("gcp", gcp).await;
    let obj = h
        .wait("gcp", |o| {
            cond(o, "Stalled").is_some_and(|c| c.status == "True")
        })
        .await;
    let stalled = cond(&obj, "Stalled").expect("Stalled");
    assert!(
        stalled
            .message
            .contains("'gcp' Bucket provider is not supported yet"),
        "{}",
        stalled.message
    );
    assert!(failed(&obj));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bucket_with_checked_signatures_needs_the_right_keys() {
    let moto = Moto::start();
    let (access_key, secret_key) = moto.create_access_key("flux");
    moto.require_signatures();
    let s3 = s3(&moto, &access_key, &secret_key);
    let h = Harness::start(10 << 20).await;
    create_bucket(&s3, "private").await;
    let etag = put(&s3, "private", "app.yaml", b"kind: ConfigMap\n").await;

    // moto really checks: a wrong secret key is refused before the reconciler is involved.
    let wrong_key = format!("{}x", &secret_key[..secret_key.len() - 1]);
    assert!(
        self::s3(&moto, &access_key, &wrong_key)
            .list_objects_v2()
            .bucket("private")
            .send()
            .await
            .is_err()
    );

    h.secret(
        "right",
        serde_json::json!({"accesskey": access_key, "secretkey": secret_key}),
    )
    .await;
    h.secret(
        "wrong",
        serde_json::json!({"accesskey": access_key, "secretkey": wrong_key}),
    )
    .await;
    for (name, provider, secret) in [("generic", "generic", "right"), ("aws", "aws", "right")] {
        h.create(
            name,
            serde_json::json!({"interval": "1m", "bucketName": "private", "endpoint": moto.addr,
                "insecure": true, "provider": provider, "secretRef": {"name": secret}}),
        )
        .await;
        let obj = h.wait(name, ready).await;
        assert_eq!(artifact(&obj).revision, revision(&[("app.yaml", &etag)]));
    }

    h.create(
        "wrong",
        serde_json::json!({"interval": "1m", "bucketName": "private", "endpoint": moto.addr,
            "insecure": true, "secretRef": {"name": "wrong"}}),
    )
    .await;
    let obj = h.wait("wrong", failed).await;
    let fetch = cond(&obj, "FetchFailed").expect("FetchFailed");
    assert_eq!(fetch.reason, "BucketOperationFailed");
    assert!(
        fetch
            .message
            .starts_with("failed to confirm existence of 'private' bucket:"),
        "{}",
        fetch.message
    );
    assert!(
        h.has_event("wrong", "Warning", "BucketOperationFailed", "private")
            .await
    );
    let text = serde_json::to_string(&obj).expect("json")
        + &serde_json::to_string(&h.events("wrong").await).expect("json");
    assert!(!text.contains(&wrong_key), "secret key leaked: {text}");
    assert!(!text.contains(&secret_key), "secret key leaked: {text}");

    // Anonymous requests are refused too.
    h.create(
        "anonymous",
        serde_json::json!({"interval": "1m", "bucketName": "private", "endpoint": moto.addr,
            "insecure": true}),
    )
    .await;
    let obj = h.wait("anonymous", failed).await;
    assert_eq!(
        cond(&obj, "FetchFailed").map(|c| c.reason.clone()),
        Some("BucketOperationFailed".to_string())
    );
}
