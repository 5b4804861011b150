//! `flux install` (without --export), `flux uninstall` and `flux version` run as the real
//! binary against the in-memory API server, whose workload simulator makes Deployments ready.

use std::path::PathBuf;
use std::process::Command;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, ApiResource, DynamicObject, ListParams, PostParams};
use serde_json::json;

struct Cluster {
    rt: tokio::runtime::Runtime,
    server: Option<flux_apiserver::RunningServer>,
    client: kube::Client,
    kubeconfig: PathBuf,
    _dir: tempfile::TempDir,
}

struct Output {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Cluster {
    fn start(simulate_workloads: bool) -> Cluster {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let kubeconfig = dir.path().join("kubeconfig");
        let (server, client) = rt.block_on(async {
            let server = flux_apiserver::start(flux_apiserver::ServerOptions {
                simulate_workloads,
                ..Default::default()
            })
            .await
            .unwrap();
            let client = server.client().await.unwrap();
            (server, client)
        });
        server.write_kubeconfig(&kubeconfig).unwrap();
        Cluster {
            rt,
            server: Some(server),
            client,
            kubeconfig,
            _dir: dir,
        }
    }

    fn flux(&self, args: &[&str]) -> Output {
        let out = Command::new(env!("CARGO_BIN_EXE_flux"))
            .args(args)
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .env_remove("KUBECONFIG")
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        Output {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8(out.stdout).unwrap(),
            stderr: String::from_utf8(out.stderr).unwrap(),
        }
    }

    fn deployments(&self) -> Vec<Deployment> {
        let api: Api<Deployment> = Api::namespaced(self.client.clone(), "flux-system");
        self.rt
            .block_on(api.list(&ListParams::default()))
            .unwrap()
            .items
    }

    fn crd_names(&self) -> Vec<String> {
        let api: Api<CustomResourceDefinition> = Api::all(self.client.clone());
        self.rt
            .block_on(api.list(&ListParams::default()))
            .unwrap()
            .items
            .into_iter()
            .filter_map(|c| c.metadata.name)
            .collect()
    }

    fn namespace(&self, name: &str) -> Option<Namespace> {
        let api: Api<Namespace> = Api::all(self.client.clone());
        self.rt.block_on(api.get_opt(name)).unwrap()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            let _ = self.rt.block_on(server.shutdown());
        }
    }
}

#[test]
fn install_applies_crds_and_controllers_and_waits_for_them() {
    let cluster = Cluster::start(true);
    let out = cluster.flux(&["install", "--timeout=1m"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.is_empty(), "{}", out.stdout);
    for line in [
        "✚ generating manifests",
        "✔ manifests build completed",
        "► installing components in flux-system namespace",
        "Namespace/flux-system created",
        "CustomResourceDefinition/gitrepositories.source.toolkit.fluxcd.io created",
        "Deployment/flux-system/source-controller created",
        "◎ verifying installation",
        "✔ source-controller: deployment ready",
        "✔ kustomize-controller: deployment ready",
        "✔ install finished",
    ] {
        assert!(
            out.stderr.contains(line),
            "missing {line:?} in\n{}",
            out.stderr
        );
    }
    let names: Vec<String> = cluster
        .deployments()
        .into_iter()
        .filter_map(|d| d.metadata.name)
        .collect();
    for c in [
        "source-controller",
        "kustomize-controller",
        "helm-controller",
        "notification-controller",
    ] {
        assert!(names.iter().any(|n| n == c), "{names:?}");
    }
    // The objects are owned by the `flux` field manager, as server-side applied by Flux.
    let d = cluster
        .deployments()
        .into_iter()
        .find(|d| d.metadata.name.as_deref() == Some("source-controller"))
        .unwrap();
    let managers: Vec<_> = d
        .metadata
        .managed_fields
        .unwrap_or_default()
        .into_iter()
        .filter_map(|m| m.manager)
        .collect();
    assert!(managers.iter().any(|m| m == "flux"), "{managers:?}");
    assert!(
        cluster
            .crd_names()
            .contains(&"kustomizations.kustomize.toolkit.fluxcd.io".to_string())
    );

    // A second install changes nothing.
    let again = cluster.flux(&["install", "--timeout=1m"]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(
        again
            .stderr
            .contains("Deployment/flux-system/source-controller unchanged"),
        "{}",
        again.stderr
    );

    // flux version reads the controllers' images.
    let version = cluster.flux(&["version"]);
    assert_eq!(version.code, 0, "{}", version.stderr);
    let v = env!("CARGO_PKG_VERSION");
    for line in [
        format!("flux: v{v}"),
        format!("source-controller: v{v}"),
        format!("kustomize-controller: v{v}"),
    ] {
        assert!(
            version.stdout.lines().any(|l| l == line),
            "{line:?} in\n{}",
            version.stdout
        );
    }
    let json = cluster.flux(&["version", "-o", "json"]);
    let json: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(json["helm-controller"], format!("v{v}"));
    assert_eq!(json["distribution"], format!("flux-v{v}"));

    // What was installed passes Flux's own checks.
    let check = cluster.flux(&["check", "--poll-interval=1s"]);
    assert_eq!(check.code, 0, "{}", check.stderr);

    let client_only = cluster.flux(&["version", "--client"]);
    assert_eq!(client_only.stdout, format!("flux: v{v}\n"));
}

#[test]
fn install_times_out_when_controllers_never_become_ready() {
    let cluster = Cluster::start(false);
    let out = cluster.flux(&["install", "--timeout=3s"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("✗ source-controller: deployment not ready"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("✗ install failed"), "{}", out.stderr);
    assert!(!out.stderr.contains("install finished"), "{}", out.stderr);
}

#[test]
fn uninstall_removes_finalizers_crds_and_namespace() {
    let cluster = Cluster::start(true);
    let out = cluster.flux(&["install", "--timeout=1m"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    // A Flux object with a finalizer that no controller will ever remove.
    let info = flux_api::crds::find_kind("GitRepository").unwrap();
    let ar = ApiResource {
        group: info.group.into(),
        version: info.storage_version.into(),
        api_version: info.api_version(),
        kind: info.kind.into(),
        plural: info.plural.into(),
    };
    let api: Api<DynamicObject> = Api::namespaced_with(cluster.client.clone(), "flux-system", &ar);
    let repo: DynamicObject = serde_json::from_value(json!({
        "apiVersion": info.api_version(), "kind": "GitRepository",
        "metadata": {"name": "podinfo", "namespace": "flux-system",
            "finalizers": ["finalizers.fluxcd.io"]},
        "spec": {"url": "https://github.com/stefanprodan/podinfo", "interval": "1m"},
    }))
    .unwrap();
    cluster
        .rt
        .block_on(api.create(&PostParams::default(), &repo))
        .unwrap();

    // Without --silent and no answer on stdin, nothing is deleted.
    let aborted = cluster.flux(&["uninstall"]);
    assert_eq!(aborted.code, 1);
    assert!(aborted.stderr.contains("✗ aborting"), "{}", aborted.stderr);
    assert!(!cluster.deployments().is_empty());

    // A dry run names what it would delete and deletes nothing.
    let dry = cluster.flux(&["uninstall", "--dry-run"]);
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert!(
        dry.stderr
            .contains("✔ Deployment/flux-system/source-controller deleted (dry run)"),
        "{}",
        dry.stderr
    );
    assert!(!cluster.deployments().is_empty());
    assert!(!cluster.crd_names().is_empty());

    let kept = cluster.flux(&["uninstall", "--silent", "--keep-namespace", "--timeout=1m"]);
    assert_eq!(kept.code, 0, "{}", kept.stderr);
    for line in [
        "► deleting components in flux-system namespace",
        "✔ Deployment/flux-system/source-controller deleted",
        "✔ GitRepository/flux-system/podinfo finalizers deleted",
        "✔ CustomResourceDefinition/gitrepositories.source.toolkit.fluxcd.io deleted",
        "✔ uninstall finished",
    ] {
        assert!(
            kept.stderr.contains(line),
            "missing {line:?} in\n{}",
            kept.stderr
        );
    }
    assert!(!kept.stderr.contains("Namespace/flux-system deleted"));
    assert!(cluster.deployments().is_empty());
    assert!(
        !cluster
            .crd_names()
            .iter()
            .any(|n| n.contains("toolkit.fluxcd.io")),
        "{:?}",
        cluster.crd_names()
    );
    assert!(cluster.namespace("flux-system").is_some());

    let out = cluster.flux(&["uninstall", "-s"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains("✔ Namespace/flux-system deleted"),
        "{}",
        out.stderr
    );
    let gone = cluster
        .namespace("flux-system")
        .is_none_or(|ns| ns.metadata.deletion_timestamp.is_some());
    assert!(gone);
}
