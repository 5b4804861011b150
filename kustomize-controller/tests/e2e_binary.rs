//! The real `kustomize-controller` process against the in-memory API server: a Kustomization
//! applies a ConfigMap from a GitRepository artifact served the way source-controller serves it
//! (`flux_artifact::router`), and SIGTERM still ends the process with exit code 0.

use flux_api::kustomize::v1::Kustomization;
use flux_artifact::{IgnoreRules, Owner, Storage};
use flux_runtime::testkit::RunningController;
use k8s_openapi::api::core::v1::ConfigMap;
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
    let (server, client) =
        flux_apiserver::start_seeded(&flux_api::crds::all(), &["flux-system", "apps"])
            .await
            .expect("apiserver");
    let dir = tempfile::tempdir().expect("tempdir");
    let kubeconfig = dir.path().join("kubeconfig");
    server.write_kubeconfig(&kubeconfig).expect("kubeconfig");

    let storage = flux_artifact::serve_on_loopback(&dir.path().join("storage"), 2)
        .await
        .expect("artifact server");
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

    let applied = flux_runtime::testkit::wait_for(&kustomizations, "apps", |obj| {
        obj.status.as_ref().is_some_and(|s| {
            s.conditions
                .iter()
                .any(|c| c.type_ == "Ready" && c.status == "True")
                && s.last_applied_revision.as_deref() == Some(revision.as_str())
        })
    })
    .await;
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
