//! Leader election against the in-memory API server: candidates share the Lease, never lead at
//! the same time, and a standby takes over when the leader stops (released Lease) or dies
//! (expired Lease). Also the real `source-controller` binary with `--enable-leader-election`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use flux_runtime::leader::{LeaderElectionConfig, run_as_leader};
use flux_runtime::manager::ManagerError;
use k8s_openapi::api::coordination::v1::Lease;
use kube::api::Api;
use tokio::sync::watch;
use tokio::task::JoinHandle;

fn config(identity: &str, release_on_cancel: bool) -> LeaderElectionConfig {
    LeaderElectionConfig {
        lease_name: "source-controller-leader-election".into(),
        namespace: "default".into(),
        identity: identity.into(),
        lease_duration: Duration::from_secs(2),
        renew_deadline: Duration::from_millis(1500),
        retry_period: Duration::from_millis(200),
        release_on_cancel,
    }
}

/// Counts leaders; a second concurrent leader fails the test.
#[derive(Default)]
struct Leaders {
    active: AtomicBool,
    terms: AtomicUsize,
}

struct Candidate {
    stop: watch::Sender<bool>,
    leading: watch::Receiver<bool>,
    task: JoinHandle<Result<(), ManagerError>>,
}

fn candidate(client: &kube::Client, cfg: LeaderElectionConfig, leaders: Arc<Leaders>) -> Candidate {
    let (stop, stop_rx) = watch::channel(false);
    let (leading_tx, leading) = watch::channel(false);
    let task = tokio::spawn(run_as_leader(
        client.clone(),
        cfg,
        stop_rx,
        move |mut stop| async move {
            assert!(
                !leaders.active.swap(true, Ordering::SeqCst),
                "two leaders at once"
            );
            leaders.terms.fetch_add(1, Ordering::SeqCst);
            let _ = leading_tx.send(true);
            let _ = stop.wait_for(|s| *s).await;
            leaders.active.store(false, Ordering::SeqCst);
            let _ = leading_tx.send(false);
            Ok::<(), ManagerError>(())
        },
    ));
    Candidate {
        stop,
        leading,
        task,
    }
}

async fn wait_leading(c: &mut Candidate, what: &str) {
    tokio::time::timeout(Duration::from_secs(20), c.leading.wait_for(|l| *l))
        .await
        .unwrap_or_else(|_| panic!("{what} never became leader"))
        .expect("candidate gone");
}

async fn holder(client: &kube::Client) -> (Option<String>, Option<i32>) {
    let lease = Api::<Lease>::namespaced(client.clone(), "default")
        .get("source-controller-leader-election")
        .await
        .expect("lease");
    let spec = lease.spec.unwrap_or_default();
    (spec.holder_identity, spec.lease_transitions)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standby_takes_over_when_the_leader_stops_and_releases() {
    let server = flux_apiserver::start(Default::default())
        .await
        .expect("apiserver");
    let client = server.client().await.expect("client");
    let leaders = Arc::new(Leaders::default());

    let mut a = candidate(&client, config("a", true), leaders.clone());
    wait_leading(&mut a, "a").await;
    let mut b = candidate(&client, config("b", true), leaders.clone());
    // b keeps trying every 200ms while a renews; the lease must stay a's.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(!*b.leading.borrow(), "b leads while a holds the lease");
    assert_eq!(holder(&client).await, (Some("a".into()), Some(0)));

    a.stop.send(true).expect("stop a");
    a.task.await.expect("join").expect("a stops cleanly");
    wait_leading(&mut b, "b").await;
    assert_eq!(holder(&client).await, (Some("b".into()), Some(1)));
    assert_eq!(leaders.terms.load(Ordering::SeqCst), 2);

    b.stop.send(true).expect("stop b");
    b.task.await.expect("join").expect("b stops cleanly");
    assert_eq!(holder(&client).await.0, None, "released on stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standby_takes_over_an_expired_lease_when_the_leader_dies() {
    let server = flux_apiserver::start(Default::default())
        .await
        .expect("apiserver");
    let client = server.client().await.expect("client");
    let leaders = Arc::new(Leaders::default());

    let mut a = candidate(&client, config("a", true), leaders.clone());
    wait_leading(&mut a, "a").await;
    let mut b = candidate(&client, config("b", true), leaders.clone());
    // A crash: no release, no more renewals. Mark a as gone so b may lead.
    a.task.abort();
    let _ = a.task.await;
    leaders.active.store(false, Ordering::SeqCst);
    wait_leading(&mut b, "b").await;
    assert_eq!(holder(&client).await, (Some("b".into()), Some(1)));
    b.stop.send(true).expect("stop b");
    b.task.await.expect("join").expect("b stops cleanly");
}

async fn wait_holder_prefix(client: &kube::Client, ns: &str, prefix: &str) {
    let api = Api::<Lease>::namespaced(client.clone(), ns);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let lease = api
            .get_opt("source-controller-leader-election")
            .await
            .expect("get");
        let holder = lease
            .and_then(|l| l.spec)
            .and_then(|s| s.holder_identity)
            .unwrap_or_default();
        if holder.starts_with(prefix) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "lease never held by {prefix}*; holder {holder:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn wait_artifact_from(
    repos: &Api<flux_api::source::v1::GitRepository>,
    storage_addr: &str,
) -> String {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let obj = repos.get("fleet").await.expect("get");
        let url = obj
            .status
            .as_ref()
            .and_then(|s| s.artifact.as_ref())
            .map(|a| a.url.clone())
            .unwrap_or_default();
        if url.starts_with(&format!("http://{storage_addr}/")) {
            return url;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no artifact from {storage_addr}; status: {:?}",
            obj.status
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binaries_with_leader_election_hand_over_on_sigterm() {
    use flux_runtime::testkit::{RunningController, free_port, http_get};
    use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
    use kube::api::{Patch, PatchParams, PostParams};

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
    let ns = serde_json::from_value(serde_json::json!({"metadata": {"name": "flux-system"}}))
        .expect("namespace");
    Api::<k8s_openapi::api::core::v1::Namespace>::all(client.clone())
        .create(&PostParams::default(), &ns)
        .await
        .expect("namespace");
    let dir = tempfile::tempdir().expect("tempdir");
    let kubeconfig = dir.path().join("kubeconfig");
    server.write_kubeconfig(&kubeconfig).expect("kubeconfig");
    let kubeconfig = kubeconfig.display().to_string();

    let spawn = |pod: &'static str| {
        let storage_addr = format!("127.0.0.1:{}", free_port().expect("port"));
        let args = vec![
            format!("--storage-path={}", dir.path().join(pod).display()),
            format!("--storage-addr={storage_addr}"),
            "--enable-leader-election".to_string(),
            "--leader-election-lease-duration=2s".to_string(),
            "--leader-election-renew-deadline=1500ms".to_string(),
            "--leader-election-retry-period=200ms".to_string(),
        ];
        let kubeconfig = kubeconfig.clone();
        let handle = tokio::task::spawn_blocking(move || {
            RunningController::start_with_env(
                env!("CARGO_BIN_EXE_source-controller"),
                &args,
                &[
                    ("KUBECONFIG", kubeconfig.as_str()),
                    ("RUNTIME_NAMESPACE", "flux-system"),
                    ("HOSTNAME", pod),
                ],
            )
        });
        (handle, storage_addr)
    };

    let (a, a_storage) = spawn("pod-a");
    let a = a.await.expect("join").expect("start a");
    wait_holder_prefix(&client, "flux-system", "pod-a_").await;
    let (b, b_storage) = spawn("pod-b");
    let b = b.await.expect("join").expect("start b");
    // The standby is alive and healthy, just not leading.
    assert_eq!(http_get(b.health, "/healthz").expect("healthz").0, 200);

    let repo = flux_testservers::SourceRepo::new();
    let git = flux_testservers::HttpGitServer::start(repo.root(), flux_testservers::HttpAuth::None);
    let obj: flux_api::source::v1::GitRepository = serde_json::from_value(serde_json::json!({
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "GitRepository",
        "metadata": { "name": "fleet", "namespace": "flux-system" },
        "spec": { "interval": "1h", "url": git.url("fleet.git"), "ref": { "branch": "main" } }
    }))
    .expect("gitrepository");
    let repos =
        Api::<flux_api::source::v1::GitRepository>::namespaced(client.clone(), "flux-system");
    repos
        .create(&PostParams::default(), &obj)
        .await
        .expect("create");
    wait_artifact_from(&repos, &a_storage).await;
    // Storage and the artifact server start only once elected.
    assert!(
        !dir.path().join("pod-b").exists(),
        "standby initialised storage"
    );
    let b_addr: std::net::SocketAddr = b_storage.parse().expect("addr");
    assert!(http_get(b_addr, "/").is_err(), "standby serves artifacts");

    let (status, stderr) = tokio::task::spawn_blocking(move || a.terminate())
        .await
        .expect("join")
        .expect("terminate a");
    assert_eq!(status.code(), Some(0), "{stderr}");
    wait_holder_prefix(&client, "flux-system", "pod-b_").await;
    // The new leader's storage is empty: a reconcile request makes it store its own artifact.
    let patch = serde_json::json!({"metadata": {"annotations": {
        "reconcile.fluxcd.io/requestedAt": "after-handover"}}});
    repos
        .patch("fleet", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .expect("annotate");
    wait_artifact_from(&repos, &b_storage).await;

    let (status, stderr) = tokio::task::spawn_blocking(move || b.terminate())
        .await
        .expect("join")
        .expect("terminate b");
    assert_eq!(status.code(), Some(0), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leader_whose_lease_is_taken_stops_its_work_with_an_error() {
    let server = flux_apiserver::start(Default::default())
        .await
        .expect("apiserver");
    let client = server.client().await.expect("client");
    let leaders = Arc::new(Leaders::default());
    let mut a = candidate(&client, config("a", true), leaders.clone());
    wait_leading(&mut a, "a").await;

    // Another writer takes the Lease (as a candidate with a skewed view would).
    let api = Api::<Lease>::namespaced(client.clone(), "default");
    let mut lease = api
        .get("source-controller-leader-election")
        .await
        .expect("lease");
    let spec = lease.spec.get_or_insert_with(Default::default);
    spec.holder_identity = Some("intruder".into());
    spec.lease_duration_seconds = Some(3600);
    spec.renew_time = Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime(
        k8s_openapi::jiff::Timestamp::now(),
    ));
    api.replace(
        "source-controller-leader-election",
        &Default::default(),
        &lease,
    )
    .await
    .expect("take over");

    let result = tokio::time::timeout(Duration::from_secs(20), a.task)
        .await
        .expect("a noticed the loss")
        .expect("join");
    let err = result.expect_err("losing the lease is an error");
    assert!(err.to_string().contains("intruder"), "{err}");
    assert_eq!(holder(&client).await.0.as_deref(), Some("intruder"));
}
