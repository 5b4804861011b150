//! Kustomization end to end against the in-memory API server: apply, inventory, prune, events,
//! and bad input that must fail clearly without touching what was applied before.

mod common;

use common::{Harness, condition, failed_with, ready_at};

const NS: &str = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: web\n";
const DEPLOY: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: web
spec:
  replicas: 1
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: web
        image: nginx:1.27
";
const CM: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: web\ndata:\n  color: blue\n";
const KEEP: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: keep\n  namespace: web\n  annotations:\n    kustomize.toolkit.fluxcd.io/prune: disabled\ndata:\n  a: b\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn basic_kustomization_applies_labels_records_inventory_and_prunes_removed_files() {
    let h = Harness::start().await;
    let rev1 = h
        .publish(
            "fleet",
            &[
                ("apps/ns.yaml", NS),
                ("apps/deploy.yaml", DEPLOY),
                ("apps/cm.yaml", CM),
                ("apps/keep.yaml", KEEP),
            ],
        )
        .await;
    h.create_ks("flux-system", "apps", serde_json::json!({"path": "./apps"}))
        .await;
    let ks = h.wait_ks("flux-system", "apps", ready_at(&rev1)).await;

    let ready = condition(&ks, "Ready").expect("ready");
    assert_eq!(ready.reason, "ReconciliationSucceeded");
    assert_eq!(ready.message, format!("Applied revision: {rev1}"));
    let status = ks.status.clone().expect("status");
    assert_eq!(
        status.last_attempted_revision.as_deref(),
        Some(rev1.as_str())
    );
    let ids: Vec<(String, String)> = status
        .inventory
        .expect("inventory")
        .entries
        .into_iter()
        .map(|e| (e.id, e.version))
        .collect();
    assert_eq!(
        ids,
        [
            ("_web__Namespace".to_string(), "v1".to_string()),
            ("web_keep__ConfigMap".into(), "v1".into()),
            ("web_settings__ConfigMap".into(), "v1".into()),
            ("web_web_apps_Deployment".into(), "v1".into()),
        ]
    );
    let deploy = h
        .get("apps/v1", "Deployment", "web", "web")
        .await
        .expect("deployment");
    assert_eq!(
        deploy["metadata"]["labels"]["kustomize.toolkit.fluxcd.io/name"],
        "apps"
    );
    assert_eq!(
        deploy["metadata"]["labels"]["kustomize.toolkit.fluxcd.io/namespace"],
        "flux-system"
    );
    let managers: Vec<&str> = deploy["metadata"]["managedFields"]
        .as_array()
        .expect("managedFields")
        .iter()
        .filter_map(|m| m["manager"].as_str())
        .collect();
    assert!(managers.contains(&"kustomize-controller"), "{managers:?}");
    let events = h.events_for("flux-system", "apps").await;
    assert!(
        events.iter().any(|e| e.message.as_deref().is_some_and(|m| m
            .contains("Deployment/web/web created")
            && m.contains("Namespace/web created"))),
        "no change-set event: {:?}",
        events.iter().map(|e| e.message.clone()).collect::<Vec<_>>()
    );

    // The ConfigMaps leave the source: the owned one is pruned, the opted-out one stays.
    let rev2 = h
        .publish(
            "fleet",
            &[("apps/ns.yaml", NS), ("apps/deploy.yaml", DEPLOY)],
        )
        .await;
    let ks = h.wait_ks("flux-system", "apps", ready_at(&rev2)).await;
    assert!(h.get("v1", "ConfigMap", "web", "settings").await.is_none());
    assert!(h.get("v1", "ConfigMap", "web", "keep").await.is_some());
    assert_eq!(
        ks.status
            .expect("status")
            .inventory
            .expect("inventory")
            .entries
            .len(),
        2
    );
    let events = h.events_for("flux-system", "apps").await;
    assert!(
        events.iter().any(|e| e
            .message
            .as_deref()
            .is_some_and(|m| m.contains("ConfigMap/web/settings deleted"))),
        "no prune event"
    );

    // Deleting the Kustomization (prune on) deletes what it applied.
    h.kustomizations("flux-system")
        .delete("apps", &Default::default())
        .await
        .expect("delete");
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    while h.get("apps/v1", "Deployment", "web", "web").await.is_some() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "deployment not garbage-collected"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spec_overrides_and_post_build_variables_from_configmaps_and_secrets() {
    let h = Harness::start().await;
    let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: info\ndata:\n  cluster: ${CLUSTER_NAME}\n  env: ${ENVIRONMENT}\n  region: ${REGION:=eu}\n  token: ${TOKEN}\n";
    let rev = h.publish("fleet", &[("app/cm.yaml", cm)]).await;
    h.apply_json(serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cluster-config", "namespace": "flux-system"}, "data": {"CLUSTER_NAME": "from-configmap", "ENVIRONMENT": "staging"}})).await;
    h.apply_json(serde_json::json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "cluster-secrets", "namespace": "flux-system"}, "stringData": {"TOKEN": "s3cr3t"}})).await;
    h.create_ks(
        "flux-system",
        "vars",
        serde_json::json!({
            "path": "./app",
            "targetNamespace": "apps",
            "namePrefix": "pre-",
            "commonMetadata": {"labels": {"team": "core"}},
            "postBuild": {
                "substitute": {"CLUSTER_NAME": "production"},
                "substituteFrom": [
                    {"kind": "ConfigMap", "name": "cluster-config"},
                    {"kind": "Secret", "name": "cluster-secrets"},
                    {"kind": "ConfigMap", "name": "absent", "optional": true}
                ]
            }
        }),
    )
    .await;
    h.wait_ks("flux-system", "vars", ready_at(&rev)).await;
    let obj = h
        .get("v1", "ConfigMap", "apps", "pre-info")
        .await
        .expect("configmap");
    assert_eq!(obj["metadata"]["labels"]["team"], "core");
    assert_eq!(
        obj["data"],
        serde_json::json!({"cluster": "production", "env": "staging", "region": "eu", "token": "s3cr3t"})
    );
}

/// A good revision first, then bad ones: each fails with its reason and the objects of the good
/// revision stay exactly as they were.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_revisions_fail_clearly_and_keep_what_was_applied() {
    let mut options = common::options();
    options.strict_substitutions = true;
    let h = Harness::start_with(options).await;
    let good = [("apps/ns.yaml", NS), ("apps/cm.yaml", CM)];
    let rev = h.publish("fleet", &good).await;
    h.create_ks(
        "flux-system",
        "apps",
        serde_json::json!({"path": "./apps", "postBuild": {"substitute": {"X": "1"}}}),
    )
    .await;
    h.wait_ks("flux-system", "apps", ready_at(&rev)).await;

    let still_there = || async {
        let cm = h.get("v1", "ConfigMap", "web", "settings").await;
        assert_eq!(cm.expect("settings still applied")["data"]["color"], "blue");
    };

    // A broken kustomization.
    h.publish(
        "fleet",
        &[
            ("apps/ns.yaml", NS),
            ("apps/kustomization.yaml", "resources:\n- missing.yaml\n"),
        ],
    )
    .await;
    let ks = h
        .wait_ks("flux-system", "apps", failed_with("BuildFailed"))
        .await;
    let msg = &condition(&ks, "Ready").expect("ready").message;
    assert!(msg.starts_with("kustomize build failed:"), "{msg}");
    still_there().await;

    // A missing path.
    h.publish("fleet", &[("other/cm.yaml", CM)]).await;
    let ks = h
        .wait_ks("flux-system", "apps", failed_with("ArtifactFailed"))
        .await;
    assert_eq!(
        condition(&ks, "Ready").expect("ready").message,
        "kustomization path not found: ./apps"
    );
    still_there().await;

    // A missing variable in strict mode.
    let strict = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: web\ndata:\n  color: ${COLOR}\n";
    h.publish("fleet", &[("apps/ns.yaml", NS), ("apps/cm.yaml", strict)])
        .await;
    let ks = h
        .wait_ks("flux-system", "apps", |k| {
            failed_with("BuildFailed")(k)
                && condition(k, "Ready").is_some_and(|c| c.message.contains("COLOR"))
        })
        .await;
    assert_eq!(
        condition(&ks, "Ready").expect("ready").message,
        "post build failed for 'settings': variable not set (strict mode): \"COLOR\""
    );
    still_there().await;

    // An object the API server rejects (422): nothing of the revision is applied.
    let invalid = "apiVersion: v1\nkind: Service\nmetadata:\n  name: bad\n  namespace: web\nspec:\n  ports:\n  - port: not-a-number\n";
    let changed = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: web\ndata:\n  color: red\n";
    h.publish(
        "fleet",
        &[
            ("apps/ns.yaml", NS),
            ("apps/cm.yaml", changed),
            ("apps/svc.yaml", invalid),
        ],
    )
    .await;
    let ks = h
        .wait_ks("flux-system", "apps", failed_with("ReconciliationFailed"))
        .await;
    let msg = &condition(&ks, "Ready").expect("ready").message;
    assert!(msg.starts_with("Service/web/bad dry-run failed"), "{msg}");
    still_there().await;
    assert!(h.get("v1", "Service", "web", "bad").await.is_none());
    assert!(
        flux_runtime::testkit::has_event(
            &h.client,
            "flux-system",
            "apps",
            "Warning",
            "ReconciliationFailed"
        )
        .await,
        "no failure event"
    );
    let status = ks.status.expect("status");
    assert_eq!(status.last_applied_revision.as_deref(), Some(rev.as_str()));
    assert_ne!(
        status.last_attempted_revision.as_deref(),
        Some(rev.as_str())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn source_without_artifact_then_missing_source_are_reported_as_artifact_failed() {
    let h = Harness::start().await;
    h.create_ks(
        "flux-system",
        "early",
        serde_json::json!({"path": "./apps"}),
    )
    .await;
    let ks = h
        .wait_ks("flux-system", "early", failed_with("ArtifactFailed"))
        .await;
    assert_eq!(
        condition(&ks, "Ready").expect("ready").message,
        "Source 'GitRepository/flux-system/fleet' not found"
    );
    // The source appears with its artifact: the Kustomization follows without a spec change.
    let rev = h.publish("fleet", &[("apps/ns.yaml", NS)]).await;
    h.wait_ks("flux-system", "early", ready_at(&rev)).await;
    assert!(h.get("v1", "Namespace", "", "web").await.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ssa_annotations_ignore_and_if_not_present_and_reconcile_disabled_are_respected() {
    let h = Harness::start().await;
    let once = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: once\n  namespace: apps\n  annotations:\n    kustomize.toolkit.fluxcd.io/ssa: IfNotPresent\ndata:\n  v: \"1\"\n";
    let ignored = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ignored\n  namespace: apps\n  annotations:\n    kustomize.toolkit.fluxcd.io/ssa: Ignore\ndata:\n  v: \"1\"\n";
    let rev = h
        .publish(
            "fleet",
            &[("a/once.yaml", once), ("a/ignored.yaml", ignored)],
        )
        .await;
    h.create_ks("flux-system", "ssa", serde_json::json!({"path": "./a"}))
        .await;
    h.wait_ks("flux-system", "ssa", ready_at(&rev)).await;
    assert!(h.get("v1", "ConfigMap", "apps", "once").await.is_some());
    assert!(h.get("v1", "ConfigMap", "apps", "ignored").await.is_none());

    // A cluster-side edit of `once` survives a new revision; `manual` is marked disabled in
    // the cluster and is not overwritten either.
    h.apply_json(serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "once", "namespace": "apps"}, "data": {"v": "edited"}})).await;
    h.apply_json(serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "manual", "namespace": "apps", "annotations": {"kustomize.toolkit.fluxcd.io/reconcile": "disabled"}}, "data": {"v": "mine"}})).await;
    let once2 = once.replace("v: \"1\"", "v: \"2\"");
    let manual = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: manual\n  namespace: apps\ndata:\n  v: theirs\n";
    let rev2 = h
        .publish(
            "fleet",
            &[
                ("a/once.yaml", &once2),
                ("a/ignored.yaml", ignored),
                ("a/manual.yaml", manual),
            ],
        )
        .await;
    h.wait_ks("flux-system", "ssa", ready_at(&rev2)).await;
    let once = h
        .get("v1", "ConfigMap", "apps", "once")
        .await
        .expect("once");
    assert_eq!(once["data"]["v"], "edited");
    let manual = h
        .get("v1", "ConfigMap", "apps", "manual")
        .await
        .expect("manual");
    assert_eq!(manual["data"]["v"], "mine");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn artifact_whose_digest_does_not_match_fails_and_keeps_the_applied_objects() {
    let h = Harness::start().await;
    let rev = h
        .publish("fleet", &[("apps/ns.yaml", NS), ("apps/cm.yaml", CM)])
        .await;
    h.create_ks("flux-system", "apps", serde_json::json!({"path": "./apps"}))
        .await;
    h.wait_ks("flux-system", "apps", ready_at(&rev)).await;

    // A new revision whose advertised digest is not the file's.
    let gvk = kube::core::GroupVersionKind::gvk("source.toolkit.fluxcd.io", "v1", "GitRepository");
    let ar = kube::discovery::ApiResource::from_gvk_with_plural(&gvk, "gitrepositories");
    let api: kube::Api<kube::api::DynamicObject> =
        kube::Api::namespaced_with(h.client.clone(), "flux-system", &ar);
    let tampered = serde_json::json!({"status": {"artifact": {
        "revision": "main@sha1:ffffffffffffffffffffffffffffffffffffffff",
        "digest": "sha256:0000000000000000000000000000000000000000000000000000000000000000"
    }}});
    api.patch_status(
        "fleet",
        &Default::default(),
        &kube::api::Patch::Merge(&tampered),
    )
    .await
    .expect("tamper");
    let ks = h
        .wait_ks("flux-system", "apps", failed_with("ArtifactFailed"))
        .await;
    let msg = &condition(&ks, "Ready").expect("ready").message;
    assert!(msg.starts_with("failed to download artifact:"), "{msg}");
    assert!(msg.contains("digest"), "{msg}");
    assert!(h.get("v1", "ConfigMap", "web", "settings").await.is_some());
    assert_eq!(
        ks.status.expect("status").last_applied_revision.as_deref(),
        Some(rev.as_str())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn default_service_account_applies_to_kustomizations_without_one() {
    let mut options = common::options();
    options.default_service_account = Some("restricted".into());
    let h = Harness::start_with(options).await;
    h.apply_json(serde_json::json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "restricted", "namespace": "flux-system"}})).await;
    h.publish("fleet", &[("apps/cm.yaml", CM), ("apps/ns.yaml", NS)])
        .await;
    h.create_ks("flux-system", "apps", serde_json::json!({"path": "./apps"}))
        .await;
    let ks = h
        .wait_ks("flux-system", "apps", failed_with("ReconciliationFailed"))
        .await;
    let msg = &condition(&ks, "Ready").expect("ready").message;
    assert!(msg.contains("Forbidden"), "{msg}");
    assert!(
        msg.contains("system:serviceaccount:flux-system:restricted"),
        "{msg}"
    );
    assert!(h.get("v1", "Namespace", "", "web").await.is_none());
}
