//! `flux local run`: the whole fleet on an in-memory API server, no cluster and no network.
//!
//! Order of events: build the cluster path, start the API server (workloads simulated), install
//! every Flux CRD, serve the repository as the `flux-system` source, start the controllers
//! in-process, apply the path's manifests as bootstrap would, then watch the Flux objects until
//! they are all Ready or nothing moves any more, and report.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use flux_artifact::Storage;
use k8s_openapi::api::core::v1::{Namespace, Secret};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, ApiResource, DynamicObject, ListParams, PostParams};

use super::report::{ObjectReport, Report};
use super::sources::SourceMap;

/// Everything `flux local run` was asked to do.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub repo: PathBuf,
    pub path: String,
    /// `NAME=DIR` mappings besides the repository itself (served as `flux-system`).
    pub sources: Vec<(String, PathBuf)>,
    pub decryption_keys: Vec<PathBuf>,
    pub timeout: Duration,
    /// Keep the API server running after the report, with a kubeconfig written here.
    pub keep: Option<PathBuf>,
}

/// The Flux kinds the report covers, in report order.
const REPORTED: &[(&str, &str, &str, &str)] = &[
    ("kustomize.toolkit.fluxcd.io", "v1", "Kustomization", "kustomizations"),
    ("helm.toolkit.fluxcd.io", "v2", "HelmRelease", "helmreleases"),
    ("source.toolkit.fluxcd.io", "v1", "GitRepository", "gitrepositories"),
    ("source.toolkit.fluxcd.io", "v1", "OCIRepository", "ocirepositories"),
    ("source.toolkit.fluxcd.io", "v1", "HelmRepository", "helmrepositories"),
    ("source.toolkit.fluxcd.io", "v1", "HelmChart", "helmcharts"),
    ("source.toolkit.fluxcd.io", "v1", "Bucket", "buckets"),
];

/// How long nothing may change before a run with failures is declared finished.
const SETTLE: Duration = Duration::from_secs(4);

/// Builds `path` below `repo` as Flux would (generating a kustomization when missing) and
/// returns the objects, failing with a message that names the path or file.
pub fn build_path(repo: &Path, path: &str) -> Result<Vec<serde_json::Value>, String> {
    let dir = repo.join(path.trim_start_matches("./"));
    if !dir.is_dir() {
        return Err(format!("path '{}' not found in {}", path, repo.display()));
    }
    let opts = flux_kustomize::BuildOptions {
        generate_missing_kustomization: true,
    };
    let yaml = flux_kustomize::build_to_yaml(&dir, &opts)
        .map_err(|e| format!("building {}: {e}", dir.display()))?;
    let mut objects = Vec::new();
    for doc in serde_yaml::Deserializer::from_str(&yaml) {
        let value = serde_json::to_value(
            serde::Deserialize::deserialize(doc)
                .map(|v: serde_yaml::Value| v)
                .map_err(|e| format!("building {}: {e}", dir.display()))?,
        )
        .map_err(|e| format!("building {}: {e}", dir.display()))?;
        if !value.is_null() {
            objects.push(value);
        }
    }
    Ok(objects)
}

/// Finds `dependsOn` cycles among the Kustomizations in `objects`.
pub fn dependency_cycle(objects: &[serde_json::Value]) -> Option<Vec<String>> {
    let mut edges: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for o in objects {
        if o.get("kind").and_then(|k| k.as_str()) != Some("Kustomization")
            || !o
                .get("apiVersion")
                .and_then(|v| v.as_str())
                .is_some_and(|v| v.starts_with("kustomize.toolkit.fluxcd.io/"))
        {
            continue;
        }
        let ns = o.pointer("/metadata/namespace").and_then(|v| v.as_str()).unwrap_or("default");
        let name = o.pointer("/metadata/name").and_then(|v| v.as_str()).unwrap_or_default();
        let deps = o
            .pointer("/spec/dependsOn")
            .and_then(|d| d.as_array())
            .map(|deps| {
                deps.iter()
                    .filter_map(|d| {
                        let n = d.get("name")?.as_str()?;
                        let dns = d.get("namespace").and_then(|v| v.as_str()).unwrap_or(ns);
                        Some(format!("{dns}/{n}"))
                    })
                    .collect()
            })
            .unwrap_or_default();
        edges.insert(format!("{ns}/{name}"), deps);
    }
    fn visit(
        node: &str,
        edges: &BTreeMap<String, Vec<String>>,
        path: &mut Vec<String>,
        done: &mut std::collections::BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(pos) = path.iter().position(|p| p == node) {
            let mut cycle = path[pos..].to_vec();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in edges.get(node).into_iter().flatten() {
            if let Some(c) = visit(next, edges, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = std::collections::BTreeSet::new();
    for node in edges.keys() {
        if let Some(c) = visit(node, &edges, &mut Vec::new(), &mut done) {
            return Some(c);
        }
    }
    None
}

fn is_flux_object(o: &serde_json::Value) -> bool {
    o.get("apiVersion")
        .and_then(|v| v.as_str())
        .is_some_and(|v| v.contains(".toolkit.fluxcd.io/"))
}

/// Runs the fleet and returns the report. Errors are problems before anything ran.
pub async fn run(opts: &RunOptions, progress: &mut dyn std::io::Write) -> Result<Report, String> {
    let started = Instant::now();
    let repo = opts
        .repo
        .canonicalize()
        .map_err(|e| format!("repository {}: {e}", opts.repo.display()))?;
    let objects = build_path(&repo, &opts.path)?;
    if !objects.iter().any(is_flux_object) {
        return Err(format!(
            "no Flux objects found in '{}': expected Kustomizations, sources or HelmReleases",
            opts.path
        ));
    }
    if let Some(cycle) = dependency_cycle(&objects) {
        return Err(format!("dependency cycle between Kustomizations: {}", cycle.join(" -> ")));
    }
    let keys = read_keys(&opts.decryption_keys)?;

    let server = flux_apiserver::start(flux_apiserver::ServerOptions {
        simulate_workloads: true,
        ..Default::default()
    })
    .await
    .map_err(|e| format!("starting the in-memory API server: {e}"))?;
    let client = server
        .client()
        .await
        .map_err(|e| format!("connecting to the in-memory API server: {e}"))?;
    install_crds(&client).await?;

    let storage_dir = tempfile::tempdir().map_err(|e| format!("artifact storage: {e}"))?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| format!("artifact server: {e}"))?;
    let addr = listener.local_addr().map_err(|e| format!("artifact server: {e}"))?;
    let storage = Storage::new(storage_dir.path(), &addr.to_string(), 2)
        .map_err(|e| format!("artifact storage: {e}"))?;
    let router = flux_artifact::router(storage.clone());
    let mut tasks = tokio::task::JoinSet::new();
    tasks.spawn(async move {
        let _ = axum::serve(listener, router).await;
    });

    let mut map = SourceMap::default();
    map.insert("flux-system", repo.clone(), None);
    for (name, dir) in &opts.sources {
        let dir = dir
            .canonicalize()
            .map_err(|e| format!("--source {name}={}: {e}", dir.display()))?;
        map.insert(name, dir, None);
    }
    tasks.spawn(super::sources::serve(client.clone(), storage.clone(), map));
    let work_dir = tempfile::tempdir().map_err(|e| format!("work dir: {e}"))?;
    super::controllers::start(&mut tasks, &client, work_dir.path());

    super::apply::apply_all(&client, &objects)
        .await
        .map_err(|e| format!("applying {}: {e}", opts.path))?;
    let _ = writeln!(progress, "► applied {} objects from {}", objects.len(), opts.path);

    let (objects, timed_out) = watch(&client, &keys, opts.timeout, progress).await;
    let succeeded = !timed_out && objects.iter().all(ObjectReport::is_ready);
    let report = Report {
        succeeded,
        timed_out,
        elapsed_seconds: started.elapsed().as_secs_f64(),
        objects,
    };
    if let Some(kubeconfig) = &opts.keep {
        server
            .write_kubeconfig(kubeconfig)
            .map_err(|e| format!("writing {}: {e}", kubeconfig.display()))?;
        let _ = writeln!(
            progress,
            "► API server kept at {} (KUBECONFIG={}); Ctrl-C to stop",
            server.url(),
            kubeconfig.display()
        );
        let _ = tokio::signal::ctrl_c().await;
    }
    tasks.abort_all();
    Ok(report)
}

/// `--decryption-key` files as Secret data entries (`*.agekey` or `*.asc`).
fn read_keys(files: &[PathBuf]) -> Result<BTreeMap<String, Vec<u8>>, String> {
    let mut data = BTreeMap::new();
    for (i, file) in files.iter().enumerate() {
        let bytes = std::fs::read(file)
            .map_err(|e| format!("--decryption-key {}: {e}", file.display()))?;
        let text = String::from_utf8_lossy(&bytes);
        let entry = if text.contains("AGE-SECRET-KEY-") {
            format!("key{i}.agekey")
        } else if text.contains("BEGIN PGP PRIVATE KEY BLOCK") {
            format!("key{i}.asc")
        } else {
            return Err(format!(
                "--decryption-key {}: neither an age identity (AGE-SECRET-KEY-...) nor an armored PGP private key",
                file.display()
            ));
        };
        data.insert(entry, bytes);
    }
    Ok(data)
}

async fn install_crds(client: &kube::Client) -> Result<(), String> {
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    for crd in flux_api::crds::all() {
        crds.create(&PostParams::default(), &crd)
            .await
            .map_err(|e| format!("installing CRDs: {e}"))?;
    }
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let ns: Namespace = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "flux-system"}
    }))
    .map_err(|e| e.to_string())?;
    namespaces
        .create(&PostParams::default(), &ns)
        .await
        .map_err(|e| format!("creating flux-system: {e}"))?;
    Ok(())
}

/// Polls the Flux objects until all are Ready, nothing has changed for [`SETTLE`], or the
/// timeout passes. Also creates decryption Secrets as Kustomizations ask for them.
async fn watch(
    client: &kube::Client,
    keys: &BTreeMap<String, Vec<u8>>,
    timeout: Duration,
    progress: &mut dyn std::io::Write,
) -> (Vec<ObjectReport>, bool) {
    let deadline = Instant::now() + timeout;
    let mut last: Vec<ObjectReport> = Vec::new();
    let mut last_change = Instant::now();
    loop {
        let current = snapshot(client).await;
        if !keys.is_empty() {
            ensure_decryption_secrets(client, keys).await;
        }
        if current != last {
            for o in &current {
                if !last.contains(o) {
                    let mark = if o.is_ready() { "✔" } else { "…" };
                    let _ = writeln!(progress, "{mark} {}/{}/{}: {}", o.kind, o.namespace, o.name, o.message);
                }
            }
            last = current;
            last_change = Instant::now();
        }
        let all_ready = !last.is_empty() && last.iter().all(ObjectReport::is_ready);
        let settled = last_change.elapsed() >= SETTLE
            && last.iter().all(|o| o.is_ready() || o.ready == "False");
        if all_ready || settled {
            return (last, false);
        }
        if Instant::now() >= deadline {
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
        .and_then(|c| c.iter().find(|c| c.get("type").and_then(|t| t.as_str()) == Some("Ready")));
    let text = |v: Option<&serde_json::Value>| v.and_then(|v| v.as_str()).unwrap_or_default().to_string();
    let labels = obj.metadata.labels.clone().unwrap_or_default();
    let parent = match (
        labels.get("kustomize.toolkit.fluxcd.io/namespace"),
        labels.get("kustomize.toolkit.fluxcd.io/name"),
    ) {
        (Some(ns), Some(name)) => Some(format!("{ns}/{name}")),
        _ => None,
    };
    let revision = status
        .and_then(|s| s.get("lastAppliedRevision").or_else(|| s.pointer("/artifact/revision")))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn ks(name: &str, deps: &[&str]) -> serde_json::Value {
        serde_json::json!({
            "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
            "kind": "Kustomization",
            "metadata": {"name": name, "namespace": "flux-system"},
            "spec": {"dependsOn": deps.iter().map(|d| serde_json::json!({"name": d})).collect::<Vec<_>>()}
        })
    }

    #[test]
    fn dependency_cycles_are_found_and_named() {
        let fine = vec![ks("apps", &["infra"]), ks("infra", &[])];
        assert_eq!(dependency_cycle(&fine), None);
        let cyclic = vec![ks("a", &["b"]), ks("b", &["c"]), ks("c", &["a"])];
        let cycle = dependency_cycle(&cyclic).expect("cycle");
        assert_eq!(cycle.first(), cycle.last());
        assert_eq!(cycle.len(), 4);
    }

    #[test]
    fn build_path_reports_a_missing_path_by_name() {
        let dir = tempfile::tempdir().expect("tempdir");
        let err = build_path(dir.path(), "clusters/nowhere").expect_err("missing");
        assert!(err.contains("clusters/nowhere"), "{err}");
    }
}
