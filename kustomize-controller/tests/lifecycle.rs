//! Staged apply of CRDs with their custom resources, `wait`, suspend and deletion policies.

mod common;

use common::{Harness, condition, ready_at};
use kube::api::{Patch, PatchParams};

const CRD: &str = "apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  names:
    kind: Widget
    listKind: WidgetList
    plural: widgets
    singular: widget
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
";
const WIDGET: &str = "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: gizmo\n  namespace: shop\nspec:\n  size: 3\n";
const NS: &str = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crd_namespace_and_custom_resource_apply_in_one_revision_and_wait_for_health() {
    let h = Harness::start().await;
    let rev = h
        .publish(
            "fleet",
            &[
                ("crds/crd.yaml", CRD),
                ("crds/ns.yaml", NS),
                ("crds/widget.yaml", WIDGET),
            ],
        )
        .await;
    h.create_ks(
        "flux-system",
        "crds",
        serde_json::json!({"path": "./crds", "wait": true}),
    )
    .await;
    let ks = h.wait_ks("flux-system", "crds", ready_at(&rev)).await;
    assert_eq!(
        condition(&ks, "Healthy").map(|c| c.status.as_str()),
        Some("True")
    );
    let widget = h
        .get("example.com/v1", "Widget", "shop", "gizmo")
        .await
        .expect("widget");
    assert_eq!(widget["spec"]["size"], 3);
    let ids: Vec<String> = ks
        .status
        .expect("status")
        .inventory
        .expect("inventory")
        .entries
        .into_iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(
        ids,
        [
            "_shop__Namespace",
            "_widgets.example.com_apiextensions.k8s.io_CustomResourceDefinition",
            "shop_gizmo_example.com_Widget"
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suspended_kustomization_applies_nothing_until_resumed() {
    let h = Harness::start().await;
    let rev = h.publish("fleet", &[("s/ns.yaml", NS)]).await;
    h.create_ks(
        "flux-system",
        "paused",
        serde_json::json!({"path": "./s", "suspend": true}),
    )
    .await;
    // The finalizer shows the controller has seen it; nothing else happens.
    h.wait_ks("flux-system", "paused", |k| {
        k.metadata
            .finalizers
            .as_ref()
            .is_some_and(|f| f.iter().any(|f| f == "finalizers.fluxcd.io"))
    })
    .await;
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    assert!(h.get("v1", "Namespace", "", "shop").await.is_none());
    let ks = h
        .kustomizations("flux-system")
        .get("paused")
        .await
        .expect("get");
    assert!(condition(&ks, "Ready").is_none());

    h.kustomizations("flux-system")
        .patch(
            "paused",
            &PatchParams::default(),
            &Patch::Merge(serde_json::json!({"spec": {"suspend": false}})),
        )
        .await
        .expect("resume");
    h.wait_ks("flux-system", "paused", ready_at(&rev)).await;
    assert!(h.get("v1", "Namespace", "", "shop").await.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orphan_deletion_policy_keeps_applied_objects_when_the_kustomization_is_deleted() {
    let h = Harness::start().await;
    let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: survivor\n  namespace: apps\n";
    let rev = h.publish("fleet", &[("o/cm.yaml", cm)]).await;
    h.create_ks(
        "flux-system",
        "orphan",
        serde_json::json!({"path": "./o", "prune": true, "deletionPolicy": "Orphan"}),
    )
    .await;
    h.wait_ks("flux-system", "orphan", ready_at(&rev)).await;
    h.kustomizations("flux-system")
        .delete("orphan", &Default::default())
        .await
        .expect("delete");
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    while h
        .kustomizations("flux-system")
        .get_opt("orphan")
        .await
        .expect("get")
        .is_some()
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "finalizer not removed"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(h.get("v1", "ConfigMap", "apps", "survivor").await.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cross_namespace_source_is_refused_when_disabled() {
    let mut options = common::options();
    options.no_cross_namespace_refs = true;
    let h = Harness::start_with(options).await;
    h.publish(
        "fleet",
        &[(
            "x/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  namespace: apps\n",
        )],
    )
    .await;
    h.create_ks("apps", "cross", serde_json::json!({"path": "./x"}))
        .await;
    let ks = h
        .wait_ks("apps", "cross", |k| {
            condition(k, "Stalled").is_some_and(|c| c.status == "True")
        })
        .await;
    let ready = condition(&ks, "Ready").expect("ready");
    assert_eq!(ready.reason, "AccessDenied");
    assert_eq!(
        ready.message,
        "can't access 'GitRepository/flux-system/fleet', cross-namespace references have been blocked"
    );
    assert!(h.get("v1", "ConfigMap", "apps", "x").await.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requested_reconcile_of_an_unchanged_revision_reports_no_changes() {
    let h = Harness::start().await;
    let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: steady\n  namespace: apps\ndata:\n  a: b\n";
    let rev = h.publish("fleet", &[("u/cm.yaml", cm)]).await;
    h.create_ks("flux-system", "steady", serde_json::json!({"path": "./u"}))
        .await;
    h.wait_ks("flux-system", "steady", ready_at(&rev)).await;
    let before = h
        .get("v1", "ConfigMap", "apps", "steady")
        .await
        .expect("cm");

    h.kustomizations("flux-system")
        .patch(
            "steady",
            &PatchParams::default(),
            &Patch::Merge(serde_json::json!({"metadata": {"annotations": {"reconcile.fluxcd.io/requestedAt": "now-1"}}})),
        )
        .await
        .expect("annotate");
    h.wait_ks("flux-system", "steady", |k| {
        k.status
            .as_ref()
            .and_then(|s| s.reconcile_request.last_handled_reconcile_at.as_deref())
            == Some("now-1")
    })
    .await;
    let after = h
        .get("v1", "ConfigMap", "apps", "steady")
        .await
        .expect("cm");
    assert_eq!(
        before["metadata"]["resourceVersion"],
        after["metadata"]["resourceVersion"]
    );
    let messages: Vec<String> = h
        .events_for("flux-system", "steady")
        .await
        .into_iter()
        .filter_map(|e| e.message)
        .collect();
    assert!(
        messages
            .iter()
            .any(|m| m == "ConfigMap/apps/steady created"),
        "{messages:?}"
    );
    assert!(
        !messages.iter().any(|m| m.contains("configured")),
        "{messages:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kube_config_secret_applies_into_the_remote_cluster_only() {
    let h = Harness::start().await;
    let remote = flux_apiserver::start(flux_apiserver::ServerOptions::default())
        .await
        .expect("remote apiserver");
    h.apply_json(serde_json::json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "remote-kubeconfig", "namespace": "flux-system"}, "stringData": {"value": remote.kubeconfig_yaml()}})).await;
    let rev = h
        .publish(
            "fleet",
            &[
                ("r/ns.yaml", NS),
                (
                    "r/cm.yaml",
                    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: far\n  namespace: shop\n",
                ),
            ],
        )
        .await;
    h.create_ks(
        "flux-system",
        "remote",
        serde_json::json!({"path": "./r", "kubeConfig": {"secretRef": {"name": "remote-kubeconfig"}}}),
    )
    .await;
    h.wait_ks("flux-system", "remote", ready_at(&rev)).await;
    let remote_cms: kube::Api<k8s_openapi::api::core::v1::ConfigMap> =
        kube::Api::namespaced(remote.client().await.expect("client"), "shop");
    assert!(remote_cms.get_opt("far").await.expect("get").is_some());
    assert!(h.get("v1", "Namespace", "", "shop").await.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_check_without_api_version_uses_the_preferred_version() {
    let h = Harness::start().await;
    let deploy = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: apps
  annotations:
    apiserver.flux-rs.io/simulate: fail
spec:
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
        image: nginx
";
    h.publish("fleet", &[("d/deploy.yaml", deploy)]).await;
    h.create_ks(
        "flux-system",
        "noversion",
        serde_json::json!({"path": "./d", "healthChecks": [{"kind": "Deployment", "name": "web", "namespace": "apps"}]}),
    )
    .await;
    let ks = h
        .wait_ks(
            "flux-system",
            "noversion",
            common::failed_with("HealthCheckFailed"),
        )
        .await;
    let msg = &condition(&ks, "Ready").expect("ready").message;
    assert!(
        msg.contains(
            "failed early due to stalled resources: [Deployment/apps/web status: 'Failed']"
        ),
        "{msg}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn immutable_field_change_fails_until_force_recreates_the_object() {
    let h = Harness::start().await;
    let cm = |v: &str| {
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: frozen\n  namespace: apps\nimmutable: true\ndata:\n  v: \"{v}\"\n"
        )
    };
    let rev = h.publish("fleet", &[("f/cm.yaml", &cm("1"))]).await;
    h.create_ks("flux-system", "frozen", serde_json::json!({"path": "./f"}))
        .await;
    h.wait_ks("flux-system", "frozen", ready_at(&rev)).await;
    let first_uid = h
        .get("v1", "ConfigMap", "apps", "frozen")
        .await
        .expect("cm")["metadata"]["uid"]
        .clone();

    let rev2 = h.publish("fleet", &[("f/cm.yaml", &cm("2"))]).await;
    let ks = h
        .wait_ks(
            "flux-system",
            "frozen",
            common::failed_with("ReconciliationFailed"),
        )
        .await;
    let msg = &condition(&ks, "Ready").expect("ready").message;
    assert!(
        msg.starts_with("ConfigMap/apps/frozen dry-run failed"),
        "{msg}"
    );
    assert!(msg.contains("immutable"), "{msg}");
    assert_eq!(
        h.get("v1", "ConfigMap", "apps", "frozen")
            .await
            .expect("cm")["data"]["v"],
        "1"
    );

    h.kustomizations("flux-system")
        .patch(
            "frozen",
            &PatchParams::default(),
            &Patch::Merge(serde_json::json!({"spec": {"force": true}})),
        )
        .await
        .expect("force");
    h.wait_ks("flux-system", "frozen", ready_at(&rev2)).await;
    let now = h
        .get("v1", "ConfigMap", "apps", "frozen")
        .await
        .expect("cm");
    assert_eq!(now["data"]["v"], "2");
    assert_ne!(now["metadata"]["uid"], first_uid);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn origin_revision_of_the_artifact_is_recorded_as_last_applied_origin_revision() {
    let h = Harness::start().await;
    let rev = h.publish("fleet", &[("s/ns.yaml", NS)]).await;
    let gvk = kube::core::GroupVersionKind::gvk("source.toolkit.fluxcd.io", "v1", "GitRepository");
    let ar = kube::discovery::ApiResource::from_gvk_with_plural(&gvk, "gitrepositories");
    let api: kube::Api<kube::api::DynamicObject> =
        kube::Api::namespaced_with(h.client.clone(), "flux-system", &ar);
    let meta = serde_json::json!({"status": {"artifact": {"metadata": {"org.opencontainers.image.revision": "v1.2.3@sha1:abc"}}}});
    api.patch_status("fleet", &Default::default(), &Patch::Merge(&meta))
        .await
        .expect("metadata");
    h.create_ks("flux-system", "origin", serde_json::json!({"path": "./s"}))
        .await;
    let ks = h.wait_ks("flux-system", "origin", ready_at(&rev)).await;
    assert_eq!(
        ks.status
            .expect("status")
            .last_applied_origin_revision
            .as_deref(),
        Some("v1.2.3@sha1:abc")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_counts_reconciliations_per_set_of_applied_objects() {
    let h = Harness::start().await;
    let cm = |v: &str| {
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: hist\n  namespace: apps\ndata:\n  a: \"{v}\"\n"
        )
    };
    let first = h.publish("fleet", &[("h/cm.yaml", &cm("1"))]).await;
    h.create_ks("flux-system", "hist", serde_json::json!({"path": "./h"}))
        .await;
    h.wait_ks("flux-system", "hist", ready_at(&first)).await;
    h.kustomizations("flux-system")
        .patch(
            "hist",
            &PatchParams::default(),
            &Patch::Merge(serde_json::json!({"metadata": {"annotations": {"reconcile.fluxcd.io/requestedAt": "again"}}})),
        )
        .await
        .expect("annotate");
    let ks = h
        .wait_ks("flux-system", "hist", |k| {
            k.status.as_ref().is_some_and(|s| {
                s.history
                    .first()
                    .is_some_and(|s| s.total_reconciliations == 2)
            })
        })
        .await;
    let history = ks.status.expect("status").history;
    assert_eq!(history.len(), 1, "{history:?}");
    assert_eq!(history[0].last_reconciled_status, "ReconciliationSucceeded");
    assert_eq!(history[0].metadata["revision"], first);
    assert!(history[0].digest.starts_with("sha256:"));

    let second = h.publish("fleet", &[("h/cm.yaml", &cm("2"))]).await;
    let ks = h.wait_ks("flux-system", "hist", ready_at(&second)).await;
    let history = ks.status.expect("status").history;
    assert_eq!(history.len(), 2, "{history:?}");
    assert_eq!(history[0].metadata["revision"], second);
    assert_eq!(history[1].metadata["revision"], first);
    assert_ne!(history[0].digest, history[1].digest);
}
