//! The real `source-controller` process against the in-memory API server and a real git server:
//! a GitRepository (and a Bucket on moto's S3 server) becomes Ready with an artifact that
//! downloads from the process's own artifact server, objects outside the watched namespace or label selector are left alone, and SIGTERM
//! still ends the process with exit code 0.

use std::time::Duration;

use flux_api::source::v1::{Bucket, GitRepository};
use flux_artifact::{UnpackLimits, fetch_verified, unpack};
use flux_runtime::testkit::{RunningController, free_port, http_get};
use flux_testservers::{GitDaemon, HttpAuth, HttpGitServer, Moto, SourceRepo};
use k8s_openapi::api::core::v1::{Namespace, Secret};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, PostParams};

const BIN: &str = env!("CARGO_BIN_EXE_source-controller");

async fn create_repo(client: &kube::Client, ns: &str, name: &str, url: &str, shard: Option<&str>) {
    let labels = match shard {
        Some(shard) => serde_json::json!({ "shard": shard }),
        None => serde_json::json!({}),
    };
    let obj: GitRepository = serde_json::from_value(serde_json::json!({
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "GitRepository",
        "metadata": { "name": name, "namespace": ns, "labels": labels },
        "spec": { "interval": "1m", "url": url, "ref": { "branch": "main" } }
    }))
    .expect("gitrepository");
    Api::<GitRepository>::namespaced(client.clone(), ns)
        .create(&PostParams::default(), &obj)
        .await
        .expect("create");
}

fn is_ready(obj: &GitRepository) -> bool {
    obj.status.as_ref().is_some_and(|s| {
        s.conditions
            .iter()
            .any(|c| c.type_ == "Ready" && c.status == "True")
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_reconciles_a_git_repository_and_serves_its_artifact() {
    let server = flux_apiserver::start(Default::default())
        .await
        .expect("apiserver");
    let client = server.client().await.expect("client");
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    for crd in flux_api::crds::all() {
        crds.create(&PostParams::default(), &crd)
            .await
            .expect("CRD");
    }
    let namespaces: Api<Namespace> = Api::all(client.clone());
    for name in ["flux-system", "elsewhere"] {
        let ns = serde_json::from_value(serde_json::json!({ "metadata": { "name": name } }))
            .expect("namespace");
        namespaces
            .create(&PostParams::default(), &ns)
            .await
            .expect("namespace");
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let kubeconfig = dir.path().join("kubeconfig");
    server.write_kubeconfig(&kubeconfig).expect("kubeconfig");

    let repo = SourceRepo::new();
    let git = HttpGitServer::start(repo.root(), HttpAuth::None);
    let url = git.url("fleet.git");
    let daemon = GitDaemon::start(repo.root());
    // Created before the controller starts, so all of them are in its first list; only
    // `fleet` is in the runtime namespace and carries the selected label. It is served by
    // `git daemon` over git://, the others over smart HTTP.
    create_repo(&client, "flux-system", "unlabelled", &url, None).await;
    create_repo(&client, "elsewhere", "other-ns", &url, Some("one")).await;
    let daemon_url = daemon.url("fleet.git");
    create_repo(&client, "flux-system", "fleet", &daemon_url, Some("one")).await;

    // A stand-in for notification-controller's event receiver (`--events-addr`).
    let (events_tx, mut events_rx) = tokio::sync::mpsc::unbounded_channel::<serde_json::Value>();
    let receiver = axum::Router::new().route(
        "/",
        axum::routing::post(move |body: axum::Json<serde_json::Value>| {
            let events_tx = events_tx.clone();
            async move {
                let _ = events_tx.send(body.0);
                axum::http::StatusCode::ACCEPTED
            }
        }),
    );
    let events_listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let events_addr = events_listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(events_listener, receiver).await;
    });

    let storage_addr = format!("127.0.0.1:{}", free_port().expect("port"));
    let args = vec![
        format!("--storage-path={}", dir.path().join("storage").display()),
        format!("--storage-addr={storage_addr}"),
        "--watch-all-namespaces=false".to_string(),
        "--watch-label-selector=shard=one".to_string(),
        "--concurrent=3".to_string(),
        format!("--events-addr=http://{events_addr}/"),
    ];
    let kubeconfig = kubeconfig.display().to_string();
    let ctl = tokio::task::spawn_blocking(move || {
        RunningController::start_with_env(
            BIN,
            &args,
            &[
                ("KUBECONFIG", kubeconfig.as_str()),
                ("RUNTIME_NAMESPACE", "flux-system"),
            ],
        )
    })
    .await
    .expect("join")
    .expect("start");

    let repos: Api<GitRepository> = Api::namespaced(client.clone(), "flux-system");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let fleet = loop {
        let obj = repos.get("fleet").await.expect("get");
        if is_ready(&obj) {
            break obj;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "GitRepository never became Ready; status: {:?}",
            obj.status
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let artifact = fleet.status.and_then(|s| s.artifact).expect("artifact");
    assert_eq!(artifact.revision, format!("main@sha1:{}", repo.rev("main")));
    assert!(
        artifact.url.starts_with(&format!("http://{storage_addr}/")),
        "{}",
        artifact.url
    );
    let digest = artifact.digest.clone().expect("digest");
    let bytes = fetch_verified(&reqwest::Client::new(), &artifact.url, &digest, 10 << 20)
        .await
        .expect("download from the controller's artifact server");
    let out = tempfile::tempdir().expect("tempdir");
    unpack(&bytes, out.path(), UnpackLimits::default()).expect("unpack");
    assert_eq!(
        std::fs::read_to_string(out.path().join("apps/app.yaml")).expect("file"),
        "kind: ConfigMap\n"
    );

    // The binary runs the Bucket reconciler too.
    let moto = Moto::start();
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::Config::builder()
            .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
            .http_client(source_controller::bucket::http_client())
            .region(aws_sdk_s3::config::Region::new("us-east-1"))
            .endpoint_url(moto.url())
            .force_path_style(true)
            .credentials_provider(aws_sdk_s3::config::Credentials::new(
                "id", "key", None, None, "test",
            ))
            .build(),
    );
    s3.create_bucket()
        .bucket("fleet")
        .send()
        .await
        .expect("create bucket");
    s3.put_object()
        .bucket("fleet")
        .key("apps/app.yaml")
        .body(aws_sdk_s3::primitives::ByteStream::from_static(
            b"kind: Bucket\n",
        ))
        .send()
        .await
        .expect("put object");
    let secret: Secret = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "s3", "namespace": "flux-system"},
        "stringData": {"accesskey": "id", "secretkey": "key"}
    }))
    .expect("secret");
    Api::<Secret>::namespaced(client.clone(), "flux-system")
        .create(&PostParams::default(), &secret)
        .await
        .expect("secret");
    let bucket: Bucket = serde_json::from_value(serde_json::json!({
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "Bucket",
        "metadata": {"name": "fleet", "namespace": "flux-system", "labels": {"shard": "one"}},
        "spec": {"interval": "1m", "bucketName": "fleet", "endpoint": moto.addr,
                 "insecure": true, "secretRef": {"name": "s3"}}
    }))
    .expect("bucket");
    let buckets: Api<Bucket> = Api::namespaced(client.clone(), "flux-system");
    buckets
        .create(&PostParams::default(), &bucket)
        .await
        .expect("create bucket");
    let bucket = loop {
        let obj = buckets.get("fleet").await.expect("get");
        let ready = obj.status.as_ref().is_some_and(|s| {
            s.conditions
                .iter()
                .any(|c| c.type_ == "Ready" && c.status == "True")
        });
        if ready {
            break obj;
        }
        assert!(
            tokio::time::Instant::now() < deadline + Duration::from_secs(30),
            "Bucket never became Ready; status: {:?}",
            obj.status
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let artifact = bucket.status.and_then(|s| s.artifact).expect("artifact");
    let bytes = fetch_verified(
        &reqwest::Client::new(),
        &artifact.url,
        artifact.digest.as_deref().expect("digest"),
        10 << 20,
    )
    .await
    .expect("download the Bucket artifact");
    let out = tempfile::tempdir().expect("tempdir");
    unpack(&bytes, out.path(), UnpackLimits::default()).expect("unpack");
    assert_eq!(
        std::fs::read_to_string(out.path().join("apps/app.yaml")).expect("file"),
        "kind: Bucket\n"
    );

    let event = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            let event = events_rx.recv().await.expect("receiver running");
            if event["reason"] == "NewArtifact" {
                return event;
            }
        }
    })
    .await
    .expect("NewArtifact event posted to --events-addr");
    assert_eq!(event["involvedObject"]["name"], "fleet");
    assert_eq!(event["reportingController"], "source-controller");

    // Each reconcile is timed per object and counted per controller, as controller-runtime does.
    let metrics_addr = ctl.metrics;
    let (code, metrics) = tokio::task::spawn_blocking(move || http_get(metrics_addr, "/metrics"))
        .await
        .expect("join")
        .expect("scrape");
    assert_eq!(code, 200);
    assert!(
        metrics.contains(r#"gotk_reconcile_duration_seconds_count{kind="GitRepository",name="fleet",namespace="flux-system"}"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(
            r#"controller_runtime_reconcile_total{controller="gitrepository",result="success"}"#
        ),
        "{metrics}"
    );

    // A graceful stop lets started reconciles finish, so anything the controller had picked up
    // would now carry a status.
    let (status, stderr) = tokio::task::spawn_blocking(move || ctl.terminate())
        .await
        .expect("join")
        .expect("terminate");
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(stderr.contains(r#""signal":"SIGTERM""#), "{stderr}");
    // The CRD defaults `status.observedGeneration` to -1, so "untouched" means no conditions.
    let untouched = |obj: &GitRepository| {
        obj.status
            .as_ref()
            .is_none_or(|s| s.conditions.is_empty() && s.artifact.is_none())
    };
    let unlabelled = repos.get("unlabelled").await.expect("get");
    assert!(untouched(&unlabelled), "{:?}", unlabelled.status);
    let other = Api::<GitRepository>::namespaced(client.clone(), "elsewhere")
        .get("other-ns")
        .await
        .expect("get");
    assert!(untouched(&other), "{:?}", other.status);
}
