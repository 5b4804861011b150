//! The real `kustomize-controller` process against the in-memory API server: a Kustomization
//! applies a ConfigMap from a GitRepository artifact served the way source-controller serves it
//! (`flux_artifact::router`), and SIGTERM still ends the process with exit code 0.

use std::time::Duration;

use flux_api::kustomize::v1::Kustomization;
use flux_artifact::{IgnoreRules, Owner, Storage};
use flux_runtime::testkit::RunningController;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DynamicObject, Patch, PatchParams, PostParams};
use kube::discovery::ApiResource;

const BIN: &str = env!("CARGO_BIN_EXE_kustomize-controller");

const CONFIGMAP: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-artifact\n  namespace: apps\ndata:\n  greeting: hello\n";

/// Packs `deploy/cm.yaml` into `storage` and publishes it as GitRepository `flux-system/fleet`'s
/// artifact, as source-controller would. Returns the revision.
async fn publish(client: &kube::Client, storage: &Storage) -> String {
    let tree = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(tree.path().join("deploy")).expect("mkdir");
    std::fs::write(tree.path().join("deploy/cm.yaml"), CONFIGMAP).expect("write");
    let rules = IgnoreRules::load(tree.path(), None).expect("rules");
    let mut archive = Vec::new();
    flux_artifact::pack_dir(tree.path(), &rules, &mut archive).expect("pack");
    let sha = "0123456789abcdef0123456789abcdef01234567";
    let owner = Owner {
        kind: "gitrepository",
        namespace: "flux-system",
        name: "fleet",
    };
    let stored = storage
        .store(&owner, &format!("{sha}.tar.gz"), &archive)
        .expect("store");
    let revision = format!("main@sha1:{sha}");
    let gvk = kube::core::GroupVersionKind::gvk("source.toolkit.fluxcd.io", "v1", "GitRepository");
    let ar = ApiResource::from_gvk_with_plural(&gvk, "gitrepositories");
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), "flux-system", &ar);
    let repo = serde_json::json!({
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "GitRepository",
        "metadata": {"name": "fleet", "namespace": "flux-system"},
        "spec": {"interval": "1m", "url": "https://example.com/fleet.git", "ref": {"branch": "main"}}
    });
    api.patch("fleet", &PatchParams::apply("test"), &Patch::Apply(&repo))
        .await
        .expect("gitrepository");
    let status = serde_json::json!({"status": {
        "artifact": {
            "path": stored.path,
            "url": stored.url,
            "revision": revision,
            "digest": stored.digest,
            "lastUpdateTime": "2026-01-01T00:00:00Z",
            "size": stored.size,
        },
        "conditions": [{"type": "Ready", "status": "True", "reason": "Succeeded",
            "message": "stored", "lastTransitionTime": "2026-01-01T00:00:00Z"}]
    }});
    api.patch_status("fleet", &PatchParams::default(), &Patch::Merge(&status))
        .await
        .expect("status");
    revision
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_applies_a_kustomization_from_an_artifact() {
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
    for name in ["flux-system", "apps"] {
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

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let storage = Storage::new(dir.path().join("storage"), &addr.to_string(), 2).expect("storage");
    let router = flux_artifact::router(storage.clone());
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    let revision = publish(&client, &storage).await;

    let kubeconfig = kubeconfig.display().to_string();
    let ctl = tokio::task::spawn_blocking(move || {
        RunningController::start_with_env(
            BIN,
            &["--concurrent=2".to_string()],
            &[("KUBECONFIG", kubeconfig.as_str())],
        )
    })
    .await
    .expect("join")
    .expect("start");

    let ks: Kustomization = serde_json::from_value(serde_json::json!({
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": {"name": "apps", "namespace": "flux-system"},
        "spec": {
            "interval": "10m",
            "prune": true,
            "path": "./deploy",
            "sourceRef": {"kind": "GitRepository", "name": "fleet"}
        }
    }))
    .expect("kustomization");
    let kustomizations: Api<Kustomization> = Api::namespaced(client.clone(), "flux-system");
    kustomizations
        .create(&PostParams::default(), &ks)
        .await
        .expect("create");

    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let applied = loop {
        let obj = kustomizations.get("apps").await.expect("get");
        let status = obj.status.clone().unwrap_or_default();
        let ready = status
            .conditions
            .iter()
            .any(|c| c.type_ == "Ready" && c.status == "True");
        if ready && status.last_applied_revision.as_deref() == Some(revision.as_str()) {
            break obj;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "Kustomization never became Ready at {revision}; status: {:#?}",
            obj.status
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let inventory = applied.status.and_then(|s| s.inventory).expect("inventory");
    assert!(
        inventory
            .entries
            .iter()
            .any(|e| e.id == "apps_from-artifact__ConfigMap"),
        "{inventory:?}"
    );
    let cm = Api::<ConfigMap>::namespaced(client.clone(), "apps")
        .get("from-artifact")
        .await
        .expect("applied ConfigMap");
    assert_eq!(
        cm.data
            .unwrap_or_default()
            .get("greeting")
            .map(String::as_str),
        Some("hello")
    );
    let managers: Vec<String> = cm
        .metadata
        .managed_fields
        .unwrap_or_default()
        .into_iter()
        .filter_map(|f| f.manager)
        .collect();
    assert!(
        managers.iter().any(|m| m == "kustomize-controller"),
        "{managers:?}"
    );

    let (status, stderr) = tokio::task::spawn_blocking(move || ctl.terminate())
        .await
        .expect("join")
        .expect("terminate");
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(stderr.contains(r#""signal":"SIGTERM""#), "{stderr}");
}
