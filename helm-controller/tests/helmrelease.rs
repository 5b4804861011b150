//! HelmRelease end to end: the in-memory API server (with its workload simulator), the
//! reconciler, and this test playing source-controller's part: it answers the HelmChart the
//! controller creates by packaging a fixture chart into a `flux_artifact::Storage` served on
//! loopback and writing `status.artifact` through the status subresource.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use flux_api::helm::v2::HelmRelease;
use flux_api::source::v1::HelmChart;
use flux_artifact::{Owner, Storage};
use helm_controller::helmrelease::{self, Context};
use helm_controller::release::Release;
use k8s_openapi::api::core::v1::{ConfigMap, Event, Namespace, Pod, Secret};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};

const NS: &str = "flux-system";

struct Harness {
    _server: flux_apiserver::RunningServer,
    client: kube::Client,
    storage: Storage,
    _storage_dir: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Harness {
    async fn start() -> Self {
        let crds: Vec<_> = ["source-controller", "helm-controller"]
            .into_iter()
            .flat_map(|c| flux_api::crds::for_component(c).expect("component"))
            .collect();
        let opts = flux_apiserver::ServerOptions {
            simulate_workloads: true,
            ..Default::default()
        };
        let (server, client) = flux_apiserver::start_seeded_with(opts, &crds, &[NS])
            .await
            .expect("apiserver");

        let storage_dir = tempfile::tempdir().expect("tempdir");
        let storage = flux_artifact::serve_on_loopback(storage_dir.path(), 2)
            .await
            .expect("artifact server");
        let kubeconfig =
            kube::config::Kubeconfig::from_yaml(&server.kubeconfig_yaml()).expect("kubeconfig");
        let kube_config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
            .await
            .expect("kube config");
        let ctx = Arc::new(Context {
            client: client.clone(),
            kube_config,
            default_service_account: None,
            recorder: flux_runtime::events::Recorder::new(client.clone(), "helm-controller", None),
            http: reqwest::Client::new(),
            backoff: Default::default(),
            jitter_percent: 5,
            requeue_dependency: Duration::from_secs(1),
            max_artifact_size: 10 << 20,
        });
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(helmrelease::run(ctx, None, None, 2, async move {
            let _ = stopped.await;
        }));
        Harness {
            _server: server,
            client,
            storage,
            _storage_dir: storage_dir,
            stop: Some(stop),
        }
    }

    fn releases(&self) -> Api<HelmRelease> {
        Api::namespaced(self.client.clone(), NS)
    }

    async fn create(&self, name: &str, chart: &str, extra_spec: serde_json::Value) {
        let mut spec = serde_json::json!({
            "interval": "1m",
            "timeout": "20s",
            "chart": { "spec": {
                "chart": chart,
                "sourceRef": { "kind": "HelmRepository", "name": "charts" }
            }}
        });
        if let (Some(s), Some(extra)) = (spec.as_object_mut(), extra_spec.as_object()) {
            s.extend(extra.clone());
        }
        let obj: HelmRelease = serde_json::from_value(serde_json::json!({
            "apiVersion": "helm.toolkit.fluxcd.io/v2",
            "kind": "HelmRelease",
            "metadata": { "name": name, "namespace": NS },
            "spec": spec
        }))
        .expect("helmrelease");
        self.releases()
            .create(&PostParams::default(), &obj)
            .await
            .expect("create");
    }

    /// Plays source-controller: waits for the HelmChart the release templates, packages the
    /// fixture chart and publishes it as the HelmChart's artifact.
    async fn publish_chart(&self, helmchart: &str, fixture: &str, version: &str) -> HelmChart {
        let charts: Api<HelmChart> = Api::namespaced(self.client.clone(), NS);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        let chart = loop {
            if let Some(c) = charts.get_opt(helmchart).await.expect("get helmchart") {
                break c;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "HelmChart {helmchart} never created"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        let archive = package(
            &Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures/charts")
                .join(fixture),
            fixture,
        );
        let owner = Owner {
            kind: "helmchart",
            namespace: NS,
            name: helmchart,
        };
        let stored = self
            .storage
            .store(&owner, &format!("{fixture}-{version}.tgz"), &archive)
            .expect("store");
        let status = serde_json::json!({ "status": {
            "observedGeneration": chart.metadata.generation,
            "observedChartName": fixture,
            "conditions": [{
                "type": "Ready", "status": "True", "reason": "Succeeded",
                "message": format!("pulled '{fixture}' chart with version '{version}'"),
                "lastTransitionTime": "2024-01-01T00:00:00Z"
            }],
            "artifact": {
                "path": stored.path, "url": stored.url, "revision": version,
                "digest": stored.digest, "size": stored.size,
                "lastUpdateTime": "2024-01-01T00:00:00Z"
            }
        }});
        charts
            .patch_status(helmchart, &PatchParams::default(), &Patch::Merge(&status))
            .await
            .expect("write HelmChart status")
    }

    async fn wait_for(&self, name: &str, done: impl Fn(&HelmRelease) -> bool) -> HelmRelease {
        flux_runtime::testkit::wait_for(&self.releases(), name, done).await
    }

    async fn release_secret(&self, name: &str) -> Option<(Secret, Release)> {
        let secrets: Api<Secret> = Api::namespaced(self.client.clone(), NS);
        let secret = secrets.get_opt(name).await.expect("get secret")?;
        let data = secret.data.as_ref()?.get("release")?.0.clone();
        let release = Release::decode(&data).expect("release decodes");
        Some((secret, release))
    }

    async fn events_for(&self, name: &str) -> Vec<Event> {
        flux_runtime::testkit::events_for(&self.client, NS, name).await
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// `helm package`: the chart directory as `<name>/...` in a gzipped tar.
fn package(dir: &Path, name: &str) -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    tar.append_dir_all(name, dir).expect("tar chart");
    tar.into_inner().expect("tar").finish().expect("gzip")
}

fn condition<'a>(obj: &'a HelmRelease, type_: &str) -> Option<&'a Condition> {
    obj.status
        .as_ref()?
        .conditions
        .iter()
        .find(|c| c.type_ == type_)
}

fn has(obj: &HelmRelease, type_: &str, status: &str, reason: &str) -> bool {
    condition(obj, type_).is_some_and(|c| c.status == status && c.reason == reason)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn helmrelease_installs_upgrades_on_values_change_and_uninstalls_on_delete() {
    let h = Harness::start().await;
    h.create(
        "web",
        "alpine",
        serde_json::json!({ "values": { "Name": "first" } }),
    )
    .await;

    // Until source-controller publishes an artifact, the release waits on its source.
    let waiting = h
        .wait_for("web", |o| has(o, "Ready", "False", "SourceNotReady"))
        .await;
    assert!(
        condition(&waiting, "Ready").is_some_and(|c| c
            .message
            .starts_with("HelmChart 'flux-system/flux-system-web' is not ready")),
        "{:?}",
        condition(&waiting, "Ready")
    );
    assert_eq!(
        waiting
            .status
            .as_ref()
            .and_then(|s| s.helm_chart.as_deref()),
        Some("flux-system/flux-system-web")
    );

    let chart = h.publish_chart("flux-system-web", "alpine", "0.1.0").await;
    let labels = chart.metadata.labels.clone().unwrap_or_default();
    assert_eq!(
        labels
            .get("helm.toolkit.fluxcd.io/name")
            .map(String::as_str),
        Some("web")
    );
    assert_eq!(
        labels
            .get("helm.toolkit.fluxcd.io/namespace")
            .map(String::as_str),
        Some(NS)
    );
    assert_eq!(chart.spec.chart, "alpine");
    assert_eq!(chart.spec.version.as_deref(), Some("*"));

    let obj = h
        .wait_for("web", |o| has(o, "Ready", "True", "InstallSucceeded"))
        .await;
    let message = "Helm install succeeded for release flux-system/web.v1 with chart alpine@0.1.0";
    assert_eq!(
        condition(&obj, "Released").map(|c| c.message.as_str()),
        Some(message)
    );
    assert_eq!(
        condition(&obj, "Ready").map(|c| c.message.as_str()),
        Some(message)
    );
    let status = obj.status.clone().expect("status");
    assert_eq!(status.observed_generation, obj.metadata.generation);
    assert_eq!(status.last_attempted_revision.as_deref(), Some("0.1.0"));
    assert_eq!(status.storage_namespace.as_deref(), Some(NS));
    assert_eq!(status.history.len(), 1);
    let snap = &status.history[0];
    assert_eq!(
        (snap.name.as_str(), snap.namespace.as_str(), snap.version),
        ("web", NS, 1)
    );
    assert_eq!(
        (snap.chart_name.as_str(), snap.chart_version.as_str()),
        ("alpine", "0.1.0")
    );
    assert_eq!(snap.app_version.as_deref(), Some("3.9"));
    assert_eq!(snap.status, "deployed");
    let values: serde_json::Map<String, serde_json::Value> =
        serde_json::from_value(serde_json::json!({ "Name": "first" })).expect("map");
    assert_eq!(
        snap.config_digest,
        helm_controller::values::config_digest(&values)
    );
    assert_eq!(
        status.last_attempted_config_digest.as_deref(),
        Some(snap.config_digest.as_str())
    );

    // The chart's Pod, owned by the release as Helm marks it; the simulator made it ready.
    let pods: Api<Pod> = Api::namespaced(h.client.clone(), NS);
    let pod = pods.get("web-first").await.expect("pod installed");
    let annotations = pod.metadata.annotations.clone().unwrap_or_default();
    assert_eq!(
        annotations
            .get("meta.helm.sh/release-name")
            .map(String::as_str),
        Some("web")
    );
    let managed = pod.metadata.managed_fields.clone().unwrap_or_default();
    assert!(
        managed
            .iter()
            .any(|m| m.manager.as_deref() == Some("helm-controller"))
    );

    // The release as the helm CLI would read it.
    let (secret, rel) = h
        .release_secret("sh.helm.release.v1.web.v1")
        .await
        .expect("release secret");
    let labels = secret.metadata.labels.clone().unwrap_or_default();
    assert_eq!(labels.get("owner").map(String::as_str), Some("helm"));
    assert_eq!(labels.get("name").map(String::as_str), Some("web"));
    assert_eq!(labels.get("status").map(String::as_str), Some("deployed"));
    assert_eq!(labels.get("version").map(String::as_str), Some("1"));
    assert_eq!(secret.type_.as_deref(), Some("helm.sh/release.v1"));
    assert_eq!(
        (rel.name.as_str(), rel.version, rel.info.status.as_str()),
        ("web", 1, "deployed")
    );
    assert_eq!(rel.info.description, "Install complete");
    assert!(
        rel.manifest
            .contains("# Source: alpine/templates/alpine-pod.yaml")
    );
    assert_eq!(rel.config.get("Name"), Some(&serde_json::json!("first")));
    assert_eq!(snap.digest, rel.digest());

    let events = h.events_for("web").await;
    assert!(
        events
            .iter()
            .any(|e| e.reason.as_deref() == Some("InstallSucceeded")
                && e.message.as_deref() == Some(message))
    );

    // A values change upgrades to v2: new Pod, old one removed, v1 superseded, history grows.
    h.releases()
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Merge(serde_json::json!({ "spec": { "values": { "Name": "second" } } })),
        )
        .await
        .expect("patch values");
    let obj = h
        .wait_for("web", |o| {
            has(o, "Ready", "True", "UpgradeSucceeded")
                && o.status
                    .as_ref()
                    .is_some_and(|s| s.observed_generation == o.metadata.generation)
        })
        .await;
    assert_eq!(
        condition(&obj, "Released").map(|c| c.message.as_str()),
        Some("Helm upgrade succeeded for release flux-system/web.v2 with chart alpine@0.1.0")
    );
    let history = obj.status.clone().expect("status").history;
    assert_eq!(
        history.iter().map(|s| s.version).collect::<Vec<_>>(),
        vec![2, 1]
    );
    assert!(pods.get_opt("web-second").await.expect("get").is_some());
    assert!(
        pods.get_opt("web-first").await.expect("get").is_none(),
        "object dropped from the chart is deleted"
    );
    let (_, v1) = h
        .release_secret("sh.helm.release.v1.web.v1")
        .await
        .expect("v1");
    let (_, v2) = h
        .release_secret("sh.helm.release.v1.web.v2")
        .await
        .expect("v2");
    assert_eq!(v1.info.status, "superseded");
    assert_eq!(
        (v2.info.status.as_str(), v2.info.description.as_str()),
        ("deployed", "Upgrade complete")
    );
    assert_eq!(v2.info.first_deployed, v1.info.first_deployed);

    // Deleting the HelmRelease uninstalls: objects, release Secrets and the HelmChart go.
    h.releases()
        .delete("web", &DeleteParams::default())
        .await
        .expect("delete");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while h.releases().get_opt("web").await.expect("get").is_some() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "finalizer never released"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(pods.get_opt("web-second").await.expect("get").is_none());
    assert!(
        h.release_secret("sh.helm.release.v1.web.v2")
            .await
            .is_none()
    );
    assert!(
        h.release_secret("sh.helm.release.v1.web.v1")
            .await
            .is_none()
    );
    let charts: Api<HelmChart> = Api::namespaced(h.client.clone(), NS);
    assert!(
        charts
            .get_opt("flux-system-web")
            .await
            .expect("get")
            .is_none()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_install_reports_install_failed_retries_then_stalls() {
    let h = Harness::start().await;
    h.create(
        "broken",
        "failing",
        serde_json::json!({ "install": { "remediation": { "retries": 1 } } }),
    )
    .await;
    h.publish_chart("flux-system-broken", "failing", "1.0.0")
        .await;

    let obj = h
        .wait_for("broken", |o| has(o, "Stalled", "True", "RetriesExceeded"))
        .await;
    let status = obj.status.clone().expect("status");
    assert_eq!(status.install_failures, 2, "one attempt plus one retry");
    let released = condition(&obj, "Released").expect("released");
    assert_eq!(released.reason, "InstallFailed");
    assert!(
        released.message.starts_with(
            "Helm install failed for release flux-system/broken with chart failing@1.0.0: "
        ) && released.message.contains("the chart refuses to render"),
        "{}",
        released.message
    );
    let ready = condition(&obj, "Ready").expect("ready");
    assert_eq!(
        (ready.status.as_str(), ready.reason.as_str()),
        ("False", "InstallFailed")
    );
    assert_eq!(ready.message, released.message);
    assert_eq!(
        condition(&obj, "Stalled").map(|c| c.message.as_str()),
        Some("Failed to install after 2 attempt(s)")
    );
    let events = h.events_for("broken").await;
    assert!(
        events
            .iter()
            .filter(|e| e.reason.as_deref() == Some("InstallFailed"))
            .count()
            >= 2
    );
    // Nothing rendered, so nothing was recorded as a release.
    assert!(
        h.release_secret("sh.helm.release.v1.broken.v1")
            .await
            .is_none()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn values_from_skips_missing_optional_and_waits_for_missing_required() {
    let h = Harness::start().await;
    h.create(
        "cfg",
        "alpine",
        serde_json::json!({
            "valuesFrom": [
                { "kind": "ConfigMap", "name": "not-there", "optional": true },
                { "kind": "ConfigMap", "name": "pod-name", "valuesKey": "name", "targetPath": "Name" }
            ],
            "values": { "restartPolicy": "Always" }
        }),
    )
    .await;
    h.publish_chart("flux-system-cfg", "alpine", "0.1.0").await;

    let obj = h
        .wait_for("cfg", |o| has(o, "Ready", "False", "ValuesError"))
        .await;
    assert_eq!(
        condition(&obj, "Ready").map(|c| c.message.as_str()),
        Some(
            "could not resolve ConfigMap chart values reference 'flux-system/pod-name' with key 'name': resource not found"
        )
    );

    let cm: ConfigMap = serde_json::from_value(serde_json::json!({
        "metadata": { "name": "pod-name", "namespace": NS },
        "data": { "name": "from-configmap" }
    }))
    .expect("configmap");
    Api::<ConfigMap>::namespaced(h.client.clone(), NS)
        .create(&PostParams::default(), &cm)
        .await
        .expect("create configmap");

    h.wait_for("cfg", |o| has(o, "Ready", "True", "InstallSucceeded"))
        .await;
    let pods: Api<Pod> = Api::namespaced(h.client.clone(), NS);
    let pod = pods
        .get("cfg-from-configmap")
        .await
        .expect("pod named from the ConfigMap value");
    assert_eq!(
        pod.spec.and_then(|s| s.restart_policy).as_deref(),
        Some("Always")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_upgrade_is_rolled_back_retried_then_stalls() {
    let h = Harness::start().await;
    h.create(
        "roll",
        "alpine",
        serde_json::json!({
            "values": { "Name": "pod" },
            "upgrade": { "remediation": { "retries": 1 } }
        }),
    )
    .await;
    h.publish_chart("flux-system-roll", "alpine", "0.1.0").await;
    h.wait_for("roll", |o| has(o, "Ready", "True", "InstallSucceeded"))
        .await;

    // An unquoted number where the Pod wants a string: the API server rejects the upgrade.
    h.releases()
        .patch(
            "roll",
            &PatchParams::default(),
            &Patch::Merge(serde_json::json!({ "spec": { "values": { "restartPolicy": 3.5 } } })),
        )
        .await
        .expect("patch values");
    let obj = h
        .wait_for("roll", |o| has(o, "Stalled", "True", "RetriesExceeded"))
        .await;
    let status = obj.status.clone().expect("status");
    assert_eq!(status.upgrade_failures, 2, "one attempt plus one retry");
    assert_eq!(
        condition(&obj, "Stalled").map(|c| c.message.as_str()),
        Some("Failed to upgrade after 2 attempt(s)")
    );
    let released = condition(&obj, "Released").expect("released");
    assert_eq!(released.reason, "UpgradeFailed");
    assert!(
        released.message.starts_with(
            "Helm upgrade failed for release flux-system/roll with chart alpine@0.1.0: "
        ),
        "{}",
        released.message
    );
    let remediated = condition(&obj, "Remediated").expect("remediated");
    assert_eq!(
        (remediated.status.as_str(), remediated.reason.as_str()),
        ("True", "RollbackSucceeded")
    );

    // v1 installed, v2 failed, v3 rollback to 1, v4 failed, v5 rollback to 3 (the last deployed).
    let (_, v5) = h
        .release_secret("sh.helm.release.v1.roll.v5")
        .await
        .expect("v5");
    assert_eq!(
        (v5.info.status.as_str(), v5.info.description.as_str()),
        ("deployed", "Rollback to 3")
    );
    let (_, v4) = h
        .release_secret("sh.helm.release.v1.roll.v4")
        .await
        .expect("v4");
    assert_eq!(v4.info.status, "superseded");
    let (_, v3) = h
        .release_secret("sh.helm.release.v1.roll.v3")
        .await
        .expect("v3");
    assert_eq!(v3.info.description, "Rollback to 1");
    let pods: Api<Pod> = Api::namespaced(h.client.clone(), NS);
    let pod = pods.get("roll-pod").await.expect("pod kept by rollback");
    assert_eq!(
        pod.spec.and_then(|s| s.restart_policy).as_deref(),
        Some("Never")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn release_waits_for_its_dependencies() {
    let h = Harness::start().await;
    h.create(
        "app",
        "alpine",
        serde_json::json!({ "dependsOn": [{ "name": "db" }], "values": { "Name": "app" } }),
    )
    .await;
    let obj = h
        .wait_for("app", |o| has(o, "Ready", "False", "DependencyNotReady"))
        .await;
    assert!(
        condition(&obj, "Ready").is_some_and(|c| c.message.contains("'flux-system/db'")),
        "{:?}",
        condition(&obj, "Ready")
    );
    let charts: Api<HelmChart> = Api::namespaced(h.client.clone(), NS);
    assert!(
        charts
            .get_opt("flux-system-app")
            .await
            .expect("get")
            .is_none(),
        "nothing is fetched before dependencies are ready"
    );

    h.create(
        "db",
        "alpine",
        serde_json::json!({ "values": { "Name": "db" } }),
    )
    .await;
    h.publish_chart("flux-system-db", "alpine", "0.1.0").await;
    h.wait_for("db", |o| has(o, "Ready", "True", "InstallSucceeded"))
        .await;
    h.publish_chart("flux-system-app", "alpine", "0.1.0").await;
    h.wait_for("app", |o| has(o, "Ready", "True", "InstallSucceeded"))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn install_runs_hooks_and_honours_delete_policies() {
    let h = Harness::start().await;
    h.create("hk", "hooked", serde_json::json!({})).await;
    h.publish_chart("flux-system-hk", "hooked", "0.2.0").await;
    h.wait_for("hk", |o| has(o, "Ready", "True", "InstallSucceeded"))
        .await;

    let cms: Api<ConfigMap> = Api::namespaced(h.client.clone(), NS);
    assert!(cms.get_opt("hk-config").await.expect("get").is_some());
    assert!(
        cms.get_opt("hk-pre-install").await.expect("get").is_none(),
        "hook-succeeded deletes the hook after it ran"
    );
    let jobs: Api<k8s_openapi::api::batch::v1::Job> = Api::namespaced(h.client.clone(), NS);
    let job = jobs
        .get("hk-post-install")
        .await
        .expect("post-install Job kept");
    assert!(
        job.status.and_then(|s| s.succeeded).unwrap_or_default() >= 1,
        "the release waited for the hook Job to complete"
    );

    let (_, rel) = h
        .release_secret("sh.helm.release.v1.hk.v1")
        .await
        .expect("release");
    assert!(
        !rel.manifest.contains("hk-pre-install"),
        "hooks stay out of the manifest"
    );
    let phases: Vec<(&str, &str)> = rel
        .hooks
        .iter()
        .map(|h| (h.name.as_str(), h.last_run.phase.as_str()))
        .collect();
    assert!(
        phases.contains(&("hk-pre-install", "Succeeded")),
        "{phases:?}"
    );
    assert!(
        phases.contains(&("hk-post-install", "Succeeded")),
        "{phases:?}"
    );
    let post = rel
        .hooks
        .iter()
        .find(|h| h.name == "hk-post-install")
        .expect("post hook");
    assert_eq!(post.events, vec!["post-install", "post-upgrade"]);
    assert_eq!(post.weight, 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_account_name_is_impersonated_for_the_release() {
    let h = Harness::start().await;
    // A ServiceAccount with no RBAC at all: every action it takes is forbidden.
    let sa: k8s_openapi::api::core::v1::ServiceAccount = serde_json::from_value(
        serde_json::json!({ "metadata": { "name": "tenant", "namespace": NS } }),
    )
    .expect("serviceaccount");
    Api::<k8s_openapi::api::core::v1::ServiceAccount>::namespaced(h.client.clone(), NS)
        .create(&PostParams::default(), &sa)
        .await
        .expect("create serviceaccount");
    h.create(
        "tenant-app",
        "alpine",
        serde_json::json!({ "serviceAccountName": "tenant", "values": { "Name": "t" } }),
    )
    .await;
    h.publish_chart("flux-system-tenant-app", "alpine", "0.1.0")
        .await;
    let obj = h
        .wait_for("tenant-app", |o| {
            has(o, "Ready", "False", "GetLastReleaseFailed")
        })
        .await;
    // Even reading the release history is done as the tenant, so it fails first.
    let message = condition(&obj, "Ready")
        .map(|c| c.message.clone())
        .unwrap_or_default();
    assert!(
        message.contains("system:serviceaccount:flux-system:tenant")
            && message.contains("forbidden"),
        "{message}"
    );
    let pods: Api<Pod> = Api::namespaced(h.client.clone(), NS);
    assert!(pods.get_opt("tenant-app-t").await.expect("get").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chart_ref_helmchart_installs_and_force_at_upgrades_an_in_sync_release() {
    let h = Harness::start().await;
    let chart: HelmChart = serde_json::from_value(serde_json::json!({
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "HelmChart",
        "metadata": { "name": "shared-alpine", "namespace": NS },
        "spec": {
            "chart": "alpine",
            "interval": "5m",
            "sourceRef": { "kind": "HelmRepository", "name": "charts" }
        }
    }))
    .expect("helmchart");
    Api::<HelmChart>::namespaced(h.client.clone(), NS)
        .create(&PostParams::default(), &chart)
        .await
        .expect("create helmchart");
    h.publish_chart("shared-alpine", "alpine", "0.1.0").await;
    let obj: HelmRelease = serde_json::from_value(serde_json::json!({
        "apiVersion": "helm.toolkit.fluxcd.io/v2",
        "kind": "HelmRelease",
        "metadata": { "name": "byref", "namespace": NS },
        "spec": {
            "interval": "1m",
            "chartRef": { "kind": "HelmChart", "name": "shared-alpine" },
            "values": { "Name": "ref" }
        }
    }))
    .expect("helmrelease");
    h.releases()
        .create(&PostParams::default(), &obj)
        .await
        .expect("create");
    let obj = h
        .wait_for("byref", |o| has(o, "Ready", "True", "InstallSucceeded"))
        .await;
    assert_eq!(obj.status.as_ref().and_then(|s| s.helm_chart.clone()), None);
    let charts: Api<HelmChart> = Api::namespaced(h.client.clone(), NS);
    assert!(
        charts
            .get_opt("flux-system-byref")
            .await
            .expect("get")
            .is_none()
    );

    // forceAt with a matching requestedAt: one upgrade although nothing changed.
    h.releases()
        .patch(
            "byref",
            &PatchParams::default(),
            &Patch::Merge(serde_json::json!({ "metadata": { "annotations": {
                "reconcile.fluxcd.io/requestedAt": "force-1",
                "reconcile.fluxcd.io/forceAt": "force-1"
            }}})),
        )
        .await
        .expect("annotate");
    let obj = h
        .wait_for("byref", |o| has(o, "Ready", "True", "UpgradeSucceeded"))
        .await;
    let status = obj.status.expect("status");
    assert_eq!(status.last_handled_force_at.as_deref(), Some("force-1"));
    assert_eq!(
        status.history.iter().map(|s| s.version).collect::<Vec<_>>(),
        vec![2, 1]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn target_namespace_is_created_and_release_stored_in_storage_namespace() {
    let h = Harness::start().await;
    h.create(
        "tn",
        "alpine",
        serde_json::json!({
            "targetNamespace": "apps",
            "storageNamespace": NS,
            "install": { "createNamespace": true },
            "values": { "Name": "x" }
        }),
    )
    .await;
    h.publish_chart("flux-system-tn", "alpine", "0.1.0").await;
    let obj = h
        .wait_for("tn", |o| has(o, "Ready", "True", "InstallSucceeded"))
        .await;
    assert_eq!(
        condition(&obj, "Ready").map(|c| c.message.as_str()),
        Some("Helm install succeeded for release apps/apps-tn.v1 with chart alpine@0.1.0")
    );
    let namespaces: Api<Namespace> = Api::all(h.client.clone());
    assert!(namespaces.get_opt("apps").await.expect("get").is_some());
    let pods: Api<Pod> = Api::namespaced(h.client.clone(), "apps");
    assert!(pods.get_opt("apps-tn-x").await.expect("get").is_some());
    let (_, rel) = h
        .release_secret("sh.helm.release.v1.apps-tn.v1")
        .await
        .expect("release stored in the storage namespace");
    assert_eq!(
        (rel.name.as_str(), rel.namespace.as_str()),
        ("apps-tn", "apps")
    );

    h.releases()
        .delete("tn", &DeleteParams::default())
        .await
        .expect("delete");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while h.releases().get_opt("tn").await.expect("get").is_some() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "finalizer never released"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(pods.get_opt("apps-tn-x").await.expect("get").is_none());
    assert!(
        h.release_secret("sh.helm.release.v1.apps-tn.v1")
            .await
            .is_none()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suspended_release_is_left_alone_until_resumed() {
    let h = Harness::start().await;
    h.create(
        "paused",
        "alpine",
        serde_json::json!({ "suspend": true, "values": { "Name": "p" } }),
    )
    .await;
    // Give the controller time to (wrongly) act before checking that it did not.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let charts: Api<HelmChart> = Api::namespaced(h.client.clone(), NS);
    assert!(
        charts
            .get_opt("flux-system-paused")
            .await
            .expect("get")
            .is_none()
    );
    let obj = h.releases().get("paused").await.expect("get");
    assert!(condition(&obj, "Ready").is_none(), "{:?}", obj.status);

    h.releases()
        .patch(
            "paused",
            &PatchParams::default(),
            &Patch::Merge(serde_json::json!({ "spec": { "suspend": false } })),
        )
        .await
        .expect("resume");
    h.publish_chart("flux-system-paused", "alpine", "0.1.0")
        .await;
    h.wait_for("paused", |o| has(o, "Ready", "True", "InstallSucceeded"))
        .await;
}
