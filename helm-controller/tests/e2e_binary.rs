//! The real `helm-controller` process against the in-memory API server: a HelmRelease makes the
//! process create its HelmChart; the test plays source-controller and publishes the fixture
//! chart as that HelmChart's artifact; the process installs the release (release Secret
//! `sh.helm.release.v1.<name>.v1`) and stops with exit code 0 on SIGTERM.

use std::path::Path;
use std::time::Duration;

use flux_api::helm::v2::HelmRelease;
use flux_api::source::v1::HelmChart;
use flux_artifact::Owner;
use flux_runtime::testkit::RunningController;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, Patch, PatchParams, PostParams};

const BIN: &str = env!("CARGO_BIN_EXE_helm-controller");
const NS: &str = "flux-system";

/// `helm package`: the chart directory as `<name>/...` in a gzipped tar.
fn package(dir: &Path, name: &str) -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    tar.append_dir_all(name, dir).expect("tar chart");
    tar.into_inner().expect("tar").finish().expect("gzip")
}

async fn poll<T>(what: &str, mut check: impl AsyncFnMut() -> Option<T>) -> T {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(found) = check().await {
            return found;
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_installs_a_helm_release_from_its_chart_artifact() {
    let opts = flux_apiserver::ServerOptions {
        simulate_workloads: true,
        ..Default::default()
    };
    let (server, client) = flux_apiserver::start_seeded_with(opts, &flux_api::crds::all(), &[NS])
        .await
        .expect("apiserver");
    let dir = tempfile::tempdir().expect("tempdir");
    let kubeconfig = dir.path().join("kubeconfig");
    server.write_kubeconfig(&kubeconfig).expect("kubeconfig");

    let storage = flux_artifact::serve_on_loopback(&dir.path().join("storage"), 2)
        .await
        .expect("artifact server");

    let kubeconfig = kubeconfig.display().to_string();
    let ctl = tokio::task::spawn_blocking(move || {
        RunningController::start_with_env(
            BIN,
            &["--requeue-dependency=1s".to_string()],
            &[("KUBECONFIG", kubeconfig.as_str())],
        )
    })
    .await
    .expect("join")
    .expect("start");

    let release: HelmRelease = serde_json::from_value(serde_json::json!({
        "apiVersion": "helm.toolkit.fluxcd.io/v2",
        "kind": "HelmRelease",
        "metadata": { "name": "web", "namespace": NS },
        "spec": {
            "interval": "1m",
            "timeout": "20s",
            "chart": { "spec": {
                "chart": "alpine",
                "sourceRef": { "kind": "HelmRepository", "name": "charts" }
            }},
            "values": { "Name": "from-binary" }
        }
    }))
    .expect("helmrelease");
    let releases: Api<HelmRelease> = Api::namespaced(client.clone(), NS);
    releases
        .create(&PostParams::default(), &release)
        .await
        .expect("create");

    // The process templates the HelmChart; publish the chart as source-controller would.
    let charts: Api<HelmChart> = Api::namespaced(client.clone(), NS);
    let chart = poll("HelmChart flux-system-web created", async || {
        charts.get_opt("flux-system-web").await.expect("get")
    })
    .await;
    assert_eq!(chart.spec.chart, "alpine");
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/charts/alpine");
    let stored = storage
        .store(
            &Owner {
                kind: "helmchart",
                namespace: NS,
                name: "flux-system-web",
            },
            "alpine-0.1.0.tgz",
            &package(&fixture, "alpine"),
        )
        .expect("store");
    let status = serde_json::json!({ "status": {
        "observedGeneration": chart.metadata.generation,
        "observedChartName": "alpine",
        "conditions": [{
            "type": "Ready", "status": "True", "reason": "Succeeded",
            "message": "pulled 'alpine' chart with version '0.1.0'",
            "lastTransitionTime": "2024-01-01T00:00:00Z"
        }],
        "artifact": {
            "path": stored.path, "url": stored.url, "revision": "0.1.0",
            "digest": stored.digest, "size": stored.size,
            "lastUpdateTime": "2024-01-01T00:00:00Z"
        }
    }});
    charts
        .patch_status(
            "flux-system-web",
            &PatchParams::default(),
            &Patch::Merge(&status),
        )
        .await
        .expect("HelmChart status");

    let installed = flux_runtime::testkit::wait_for(&releases, "web", |obj| {
        obj.status.as_ref().is_some_and(|s| {
            s.conditions
                .iter()
                .any(|c| c.type_ == "Ready" && c.status == "True" && c.reason == "InstallSucceeded")
        })
    })
    .await;
    assert_eq!(
        installed
            .status
            .and_then(|s| s.last_attempted_revision)
            .as_deref(),
        Some("0.1.0")
    );
    let secret = Api::<Secret>::namespaced(client.clone(), NS)
        .get("sh.helm.release.v1.web.v1")
        .await
        .expect("release Secret");
    let labels = secret.metadata.labels.unwrap_or_default();
    assert_eq!(labels.get("owner").map(String::as_str), Some("helm"));
    assert_eq!(labels.get("status").map(String::as_str), Some("deployed"));

    let (status, stderr) = tokio::task::spawn_blocking(move || ctl.terminate())
        .await
        .expect("join")
        .expect("terminate");
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(stderr.contains(r#""signal":"SIGTERM""#), "{stderr}");
}
