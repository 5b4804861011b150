//! `flux local run`: the whole fleet on an in-memory API server, no cluster and no network.
//!
//! Order of events: build the cluster path, start the API server (workloads simulated), install
//! every Flux CRD, serve the repository as the `flux-system` source, start the controllers
//! in-process, apply the path's manifests as bootstrap would, then watch the Flux objects until
//! they are all Ready or nothing moves any more, and report.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, ApiResource, DynamicObject, ListParams, PostParams};

use super::build::{FleetOptions, build_path, dependency_cycle, is_flux_object, read_keys};
use super::progress::Progress;
use super::report::{ObjectReport, Report};

/// Everything `flux local run` was asked to do.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub build: FleetOptions,
    pub timeout: Duration,
    /// Keep the API server running after the report, with a kubeconfig written here.
    pub keep: Option<PathBuf>,
}

/// The Flux kinds the report covers, in report order.
const REPORTED: &[(&str, &str, &str, &str)] = &[
    (
        "kustomize.toolkit.fluxcd.io",
        "v1",
        "Kustomization",
        "kustomizations",
    ),
    (
        "helm.toolkit.fluxcd.io",
        "v2",
        "HelmRelease",
        "helmreleases",
    ),
    (
        "source.toolkit.fluxcd.io",
        "v1",
        "GitRepository",
        "gitrepositories",
    ),
    (
        "source.toolkit.fluxcd.io",
        "v1",
        "OCIRepository",
        "ocirepositories",
    ),
    (
        "source.toolkit.fluxcd.io",
        "v1",
        "HelmRepository",
        "helmrepositories",
    ),
    ("source.toolkit.fluxcd.io", "v1", "HelmChart", "helmcharts"),
    ("source.toolkit.fluxcd.io", "v1", "Bucket", "buckets"),
];

/// How long nothing may change before a run with failures is declared finished.
const SETTLE: Duration = Duration::from_secs(4);

/// Runs the fleet and returns the report. Errors are problems before anything ran.
/// `on_report` sees the report as soon as it is final, before a `--keep` run waits for Ctrl-C.
pub async fn run(
    opts: &RunOptions,
    progress: &mut Progress<'_>,
    on_report: &mut dyn FnMut(&Report),
) -> Result<Report, String> {
    let started = Instant::now();
    let fleet = &opts.build;
    let objects = build_path(&fleet.root, &fleet.path)?;
    if !objects.iter().any(is_flux_object) {
        return Err(format!(
            "no Flux objects found in '{}': expected Kustomizations, sources or HelmReleases",
            fleet.path
        ));
    }
    if let Some(cycle) = dependency_cycle(&objects) {
        return Err(format!(
            "dependency cycle between Kustomizations: {}",
            cycle.join(" -> ")
        ));
    }
    for (name, dir) in &fleet.sources {
        if !dir.is_dir() {
            return Err(format!(
                "--source {name}={}: not a directory",
                dir.display()
            ));
        }
    }
    let keys = read_keys(&fleet.decryption_keys)?;

    let server_opts = flux_apiserver::ServerOptions {
        simulate_workloads: true,
        ..Default::default()
    };
    let (server, client) =
        flux_apiserver::start_seeded_with(server_opts, &flux_api::crds::all(), &["flux-system"])
            .await
            .map_err(|e| format!("starting the in-memory API server: {e}"))?;

    let storage_dir = tempfile::tempdir().map_err(|e| format!("artifact storage: {e}"))?;
    let storage = flux_artifact::serve_on_loopback(storage_dir.path(), 2)
        .await
        .map_err(|e| format!("artifact server: {e}"))?;
    let mut tasks = tokio::task::JoinSet::new();
    tasks.spawn(super::sources::serve(
        client.clone(),
        storage.clone(),
        fleet.clone(),
    ));
    let work_dir = tempfile::tempdir().map_err(|e| format!("work dir: {e}"))?;
    let kube_config = kube_config(&server).await?;
    super::controllers::start(
        &mut tasks,
        &super::controllers::Shared {
            client: &client,
            kube_config: &kube_config,
            storage: &storage,
            work_dir: work_dir.path(),
        },
    );

    super::apply::apply_all(&client, &objects)
        .await
        .map_err(|e| format!("applying {}: {e}", fleet.path))?;
    progress.message(&format!(
        "► applied {} objects from {}",
        objects.len(),
        fleet.path
    ));

    let (objects, timed_out) = watch(&client, &keys, opts.timeout, progress).await;
    let succeeded = !timed_out && objects.iter().all(ObjectReport::is_ready);
    let report = Report {
        succeeded,
        timed_out,
        elapsed_seconds: started.elapsed().as_secs_f64(),
        objects,
    };
    on_report(&report);
    if let Some(kubeconfig) = &opts.keep {
        server
            .write_kubeconfig(kubeconfig)
            .map_err(|e| format!("writing {}: {e}", kubeconfig.display()))?;
        progress.message(&format!(
            "► API server kept at {} (KUBECONFIG={}); Ctrl-C to stop",
            server.url(),
            kubeconfig.display()
        ));
        let _ = tokio::signal::ctrl_c().await;
    }
    tasks.abort_all();
    Ok(report)
}

/// The admin configuration, for controllers that impersonate tenants' service accounts.
async fn kube_config(server: &flux_apiserver::RunningServer) -> Result<kube::Config, String> {
    let kubeconfig = kube::config::Kubeconfig::from_yaml(&server.kubeconfig_yaml())
        .map_err(|e| format!("in-memory API server kubeconfig: {e}"))?;
    kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
        .await
        .map_err(|e| format!("in-memory API server kubeconfig: {e}"))
}

/// Polls the Flux objects until all are Ready, nothing has changed for [`SETTLE`], or the
/// timeout passes. Also creates decryption Secrets as Kustomizations ask for them.
async fn watch(
    client: &kube::Client,
    keys: &BTreeMap<String, Vec<u8>>,
    timeout: Duration,
    progress: &mut Progress<'_>,
) -> (Vec<ObjectReport>, bool) {
    let deadline = Instant::now() + timeout;
    let mut last: Vec<ObjectReport> = Vec::new();
    let mut last_change = Instant::now();
    loop {
        let current = snapshot(client).await;
        progress.show(&last, &current);
        if current != last {
            // A Kustomization that asks for a key Secret is new, so it shows up as a change.
            if !keys.is_empty() {
                ensure_decryption_secrets(client, keys).await;
            }
            last = current;
            last_change = Instant::now();
        }
        let all_ready = !last.is_empty() && last.iter().all(ObjectReport::is_ready);
        let settled = last_change.elapsed() >= SETTLE
            && last.iter().all(|o| o.is_ready() || o.ready == "False");
        if all_ready || settled {
            progress.finish();
            return (last, false);
        }
        if Instant::now() >= deadline {
            progress.finish();
            return (last, true);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn snapshot(client: &kube::Client) -> Vec<ObjectReport> {
    let mut out = Vec::new();
    for (group, version, kind, plural) in REPORTED {
        let resource = ApiResource {
            group: group.to_string(),
            version: version.to_string(),
            api_version: format!("{group}/{version}"),
            kind: kind.to_string(),
            plural: plural.to_string(),
        };
        let api: Api<DynamicObject> = Api::all_with(client.clone(), &resource);
        let Ok(list) = api.list(&ListParams::default()).await else {
            continue;
        };
        for obj in list.items {
            out.push(object_report(kind, &obj));
        }
    }
    out
}

fn object_report(kind: &str, obj: &DynamicObject) -> ObjectReport {
    let status = obj.data.get("status");
    let ready = status
        .and_then(|s| s.get("conditions"))
        .and_then(|c| c.as_array())
        .and_then(|c| {
            c.iter()
                .find(|c| c.get("type").and_then(|t| t.as_str()) == Some("Ready"))
        });
    let text =
        |v: Option<&serde_json::Value>| v.and_then(|v| v.as_str()).unwrap_or_default().to_string();
    let labels = obj.metadata.labels.clone().unwrap_or_default();
    let parent = match (
        labels.get("kustomize.toolkit.fluxcd.io/namespace"),
        labels.get("kustomize.toolkit.fluxcd.io/name"),
    ) {
        (Some(ns), Some(name)) => Some(format!("{ns}/{name}")),
        _ => None,
    };
    let revision = status
        .and_then(|s| {
            s.get("lastAppliedRevision")
                .or_else(|| s.pointer("/artifact/revision"))
        })
        .and_then(|r| r.as_str())
        .map(str::to_string);
    ObjectReport {
        kind: kind.to_string(),
        namespace: obj.metadata.namespace.clone().unwrap_or_default(),
        name: obj.metadata.name.clone().unwrap_or_default(),
        ready: ready
            .map(|c| text(c.get("status")))
            .unwrap_or_else(|| "Unknown".into()),
        reason: ready.map(|c| text(c.get("reason"))).unwrap_or_default(),
        message: ready
            .map(|c| text(c.get("message")))
            .unwrap_or_else(|| "waiting to be reconciled".into()),
        revision,
        applied: status
            .and_then(|s| s.pointer("/inventory/entries"))
            .and_then(|e| e.as_array())
            .map(Vec::len),
        parent,
    }
}

/// Creates the Secret each Kustomization's `spec.decryption.secretRef` names, from the
/// `--decryption-key` files, when it does not exist yet.
async fn ensure_decryption_secrets(client: &kube::Client, keys: &BTreeMap<String, Vec<u8>>) {
    let resource = ApiResource {
        group: "kustomize.toolkit.fluxcd.io".into(),
        version: "v1".into(),
        api_version: "kustomize.toolkit.fluxcd.io/v1".into(),
        kind: "Kustomization".into(),
        plural: "kustomizations".into(),
    };
    let api: Api<DynamicObject> = Api::all_with(client.clone(), &resource);
    let Ok(list) = api.list(&ListParams::default()).await else {
        return;
    };
    for ks in list.items {
        let Some(name) = ks
            .data
            .pointer("/spec/decryption/secretRef/name")
            .and_then(|n| n.as_str())
        else {
            continue;
        };
        let ns = ks.metadata.namespace.clone().unwrap_or_default();
        let secrets: Api<Secret> = Api::namespaced(client.clone(), &ns);
        if matches!(secrets.get_opt(name).await, Ok(Some(_))) {
            continue;
        }
        let secret = Secret {
            metadata: kube::api::ObjectMeta {
                name: Some(name.to_string()),
                namespace: Some(ns.clone()),
                ..Default::default()
            },
            data: Some(
                keys.iter()
                    .map(|(k, v)| (k.clone(), k8s_openapi::ByteString(v.clone())))
                    .collect(),
            ),
            ..Default::default()
        };
        let _ = secrets.create(&PostParams::default(), &secret).await;
    }
}
