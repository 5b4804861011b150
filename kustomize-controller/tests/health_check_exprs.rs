//! `spec.healthCheckExprs`: CEL expressions decide the health of a custom resource whose Ready
//! condition plain kstatus ignores.

mod common;

use common::{Harness, condition, failed_with, ready_at};
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use kube::discovery::ApiResource;

const CRD: &str = r#"{
  "apiVersion": "apiextensions.k8s.io/v1",
  "kind": "CustomResourceDefinition",
  "metadata": {"name": "widgets.example.com"},
  "spec": {
    "group": "example.com",
    "names": {"kind": "Widget", "listKind": "WidgetList", "plural": "widgets", "singular": "widget"},
    "scope": "Namespaced",
    "versions": [{
      "name": "v1", "served": true, "storage": true,
      "subresources": {"status": {}},
      "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}
    }]
  }
}"#;

const CURRENT: &str = "status.conditions.filter(e, e.type == 'Ready').all(e, e.status == 'True')";
const FAILED: &str = "status.conditions.filter(e, e.type == 'Ready').all(e, e.status == 'False')";

fn widget_yaml(name: &str) -> String {
    format!(
        "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: {name}\n  namespace: apps\nspec:\n  size: 3\n"
    )
}

fn exprs() -> serde_json::Value {
    serde_json::json!([{
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "current": CURRENT,
        "failed": FAILED,
    }])
}

/// Installs the CRD and creates Widget `name` with a Ready condition of `ready`, so the
/// Kustomization that applies it finds that status.
async fn widget_with_ready(h: &Harness, name: &str, ready: &str) {
    h.apply_json(serde_json::from_str(CRD).expect("crd")).await;
    h.apply_json(serde_json::json!({
        "apiVersion": "example.com/v1", "kind": "Widget",
        "metadata": {"name": name, "namespace": "apps"}, "spec": {"size": 3}
    }))
    .await;
    set_ready(h, name, ready).await;
}

async fn set_ready(h: &Harness, name: &str, ready: &str) {
    let gvk = kube::core::GroupVersionKind::gvk("example.com", "v1", "Widget");
    let ar = ApiResource::from_gvk_with_plural(&gvk, "widgets");
    let api: Api<DynamicObject> = Api::namespaced_with(h.client.clone(), "apps", &ar);
    let status = serde_json::json!({"status": {"conditions": [{
        "type": "Ready", "status": ready, "reason": "Test", "message": "set by the test",
        "lastTransitionTime": "2026-01-01T00:00:00Z"
    }]}});
    api.patch_status(name, &PatchParams::default(), &Patch::Merge(&status))
        .await
        .expect("widget status");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_resource_is_healthy_only_once_its_current_expression_holds() {
    let h = Harness::start().await;
    // Plain kstatus calls this Widget Current at once: it has no Reconciling or Stalled
    // condition. Only the expression keeps it in progress.
    widget_with_ready(&h, "gizmo", "Unknown").await;
    let rev = h
        .publish("fleet", &[("w/widget.yaml", &widget_yaml("gizmo"))])
        .await;
    h.create_ks(
        "flux-system",
        "widgets",
        serde_json::json!({
            // The shortest timeout the controller takes (30s): the expression must hold the
            // health check until it runs out.
            "path": "./w", "wait": true, "timeout": "30s", "retryInterval": "1s",
            "healthCheckExprs": exprs(),
        }),
    )
    .await;
    let ks = h
        .wait_ks_within(
            "flux-system",
            "widgets",
            120,
            failed_with("HealthCheckFailed"),
        )
        .await;
    let msg = &condition(&ks, "Ready").expect("ready").message;
    assert!(
        msg.contains("timeout waiting for: [Widget/apps/gizmo status: 'InProgress']"),
        "{msg}"
    );
    assert_eq!(
        condition(&ks, "Healthy").map(|c| (c.status.as_str(), c.reason.as_str())),
        Some(("False", "HealthCheckFailed"))
    );

    set_ready(&h, "gizmo", "True").await;
    let ks = h.wait_ks("flux-system", "widgets", ready_at(&rev)).await;
    assert_eq!(
        condition(&ks, "Healthy").map(|c| c.status.as_str()),
        Some("True")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_expression_fails_the_health_check_without_waiting_for_the_timeout() {
    let h = Harness::start().await;
    widget_with_ready(&h, "broken", "False").await;
    h.publish("fleet", &[("w/widget.yaml", &widget_yaml("broken"))])
        .await;
    h.create_ks(
        "flux-system",
        "broken",
        serde_json::json!({
            "path": "./w",
            // Far longer than the wait below: only failing fast can report in time.
            "timeout": "10m",
            "healthChecks": [{"apiVersion": "example.com/v1", "kind": "Widget", "name": "broken", "namespace": "apps"}],
            "healthCheckExprs": exprs(),
        }),
    )
    .await;
    let ks = h
        .wait_ks("flux-system", "broken", failed_with("HealthCheckFailed"))
        .await;
    let msg = &condition(&ks, "Ready").expect("ready").message;
    assert!(
        msg.contains(
            "failed early due to stalled resources: [Widget/apps/broken status: 'Failed']"
        ),
        "{msg}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expression_that_does_not_parse_stalls_the_kustomization_before_applying() {
    let h = Harness::start().await;
    h.publish(
        "fleet",
        &[(
            "w/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: untouched\n  namespace: apps\n",
        )],
    )
    .await;
    h.create_ks(
        "flux-system",
        "invalid",
        serde_json::json!({
            "path": "./w",
            "healthCheckExprs": [{"apiVersion": "example.com/v1", "kind": "Widget", "current": "status.conditions.filter(e, e.type == 'Ready'"}],
        }),
    )
    .await;
    let ks = h
        .wait_ks(
            "flux-system",
            "invalid",
            failed_with("InvalidCELExpression"),
        )
        .await;
    let msg = &condition(&ks, "Ready").expect("ready").message;
    assert!(
        msg.starts_with(
            "Reconciliation failed terminally due to configuration error: failed to create custom status evaluator for healthchecks[0]: failed to parse the expression Current: failed to parse the CEL expression 'status.conditions.filter(e, e.type == 'Ready'':"
        ),
        "{msg}"
    );
    let stalled = condition(&ks, "Stalled").expect("stalled");
    assert_eq!(
        (stalled.status.as_str(), stalled.reason.as_str()),
        ("True", "InvalidCELExpression")
    );
    assert_eq!(
        ks.status.as_ref().and_then(|s| s.observed_generation),
        ks.metadata.generation
    );
    assert!(
        h.get("v1", "ConfigMap", "apps", "untouched")
            .await
            .is_none()
    );
}
