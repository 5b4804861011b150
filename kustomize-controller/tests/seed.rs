//! The overview page's Kustomizations end to end: health checks, dependencies, SOPS decryption
//! and a multi-tenant Kustomization impersonating its ServiceAccount.

mod common;

use common::{Harness, condition, failed_with, ready_at};

fn deployment(name: &str, ns: &str, fail: bool) -> String {
    let annotations = if fail {
        "  annotations:\n    apiserver.flux-rs.io/simulate: fail\n"
    } else {
        ""
    };
    format!(
        "apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  namespace: {ns}
{annotations}spec:
  replicas: 1
  selector:
    matchLabels:
      app: {name}
  template:
    metadata:
      labels:
        app: {name}
    spec:
      containers:
      - name: app
        image: ghcr.io/example/{name}:1.0
"
    )
}

fn namespace(name: &str) -> String {
    format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {name}\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_applications_health_checks_fail_then_recover() {
    let h = Harness::start().await;
    let payments = namespace("payments");
    let users = namespace("users");
    let pay_fail = deployment("payment-service", "payments", true);
    let user_ok = deployment("user-service", "users", false);
    let rev1 = h
        .publish(
            "application-repo",
            &[
                ("apps/production/ns-payments.yaml", &payments),
                ("apps/production/ns-users.yaml", &users),
                ("apps/production/payment.yaml", &pay_fail),
                ("apps/production/user.yaml", &user_ok),
            ],
        )
        .await;
    h.create_ks(
        "flux-system",
        "applications",
        serde_json::json!({
            "interval": "10m",
            "path": "./apps/production",
            "prune": true,
            "sourceRef": {"kind": "GitRepository", "name": "application-repo"},
            "healthChecks": [
                {"apiVersion": "apps/v1", "kind": "Deployment", "name": "payment-service", "namespace": "payments"},
                {"apiVersion": "apps/v1", "kind": "Deployment", "name": "user-service", "namespace": "users"}
            ],
            "timeout": "5m",
            "retryInterval": "2m"
        }),
    )
    .await;
    let ks = h
        .wait_ks_within(
            "flux-system",
            "applications",
            60,
            failed_with("HealthCheckFailed"),
        )
        .await;
    let healthy = condition(&ks, "Healthy").expect("healthy condition");
    assert_eq!(healthy.status, "False");
    assert!(
        healthy
            .message
            .contains("Deployment/payments/payment-service status: 'Failed'"),
        "{}",
        healthy.message
    );
    assert!(
        !healthy.message.contains("user-service"),
        "{}",
        healthy.message
    );
    let status = ks.status.clone().expect("status");
    assert_eq!(
        status.last_attempted_revision.as_deref(),
        Some(rev1.as_str())
    );
    assert_eq!(status.last_applied_revision, None);
    // The objects were applied and recorded even though they are not healthy.
    assert_eq!(status.inventory.expect("inventory").entries.len(), 4);

    // The fix lands in the source: the Kustomization follows it and becomes healthy.
    let pay_ok = deployment("payment-service", "payments", false);
    let rev2 = h
        .publish(
            "application-repo",
            &[
                ("apps/production/ns-payments.yaml", &payments),
                ("apps/production/ns-users.yaml", &users),
                ("apps/production/payment.yaml", &pay_ok),
                ("apps/production/user.yaml", &user_ok),
            ],
        )
        .await;
    let ks = h
        .wait_ks_within("flux-system", "applications", 60, ready_at(&rev2))
        .await;
    let healthy = condition(&ks, "Healthy").expect("healthy condition");
    assert_eq!(healthy.status, "True");
    assert!(healthy.message.starts_with("Health check passed in"));
    assert!(condition(&ks, "Reconciling").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_dependencies_wait_until_each_dependency_is_ready() {
    let h = Harness::start().await;
    let infra_ns = namespace("infra");
    let rev = h
        .publish(
            "application-repo",
            &[
                ("infrastructure/ns.yaml", &infra_ns),
                ("cert-manager/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cert-manager\n  namespace: infra\n"),
                ("apps/production/app.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n  namespace: infra\ndata:\n  cluster: ${CLUSTER_NAME}\n  env: ${ENVIRONMENT}\n"),
            ],
        )
        .await;
    h.apply_json(serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cluster-config", "namespace": "flux-system"}, "data": {"REGION": "eu"}})).await;
    h.apply_json(serde_json::json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "cluster-secrets", "namespace": "flux-system"}, "stringData": {"TOKEN": "x"}})).await;
    h.create_ks(
        "flux-system",
        "applications-with-dependencies",
        serde_json::json!({
            "path": "./apps/production",
            "sourceRef": {"kind": "GitRepository", "name": "application-repo"},
            "dependsOn": [{"name": "infrastructure"}, {"name": "cert-manager"}],
            "postBuild": {
                "substitute": {"CLUSTER_NAME": "production", "ENVIRONMENT": "prod"},
                "substituteFrom": [
                    {"kind": "ConfigMap", "name": "cluster-config"},
                    {"kind": "Secret", "name": "cluster-secrets"}
                ]
            }
        }),
    )
    .await;
    let ks = h
        .wait_ks(
            "flux-system",
            "applications-with-dependencies",
            failed_with("DependencyNotReady"),
        )
        .await;
    assert_eq!(
        condition(&ks, "Ready").expect("ready").message,
        "unable to get 'flux-system/infrastructure' dependency: kustomizations.kustomize.toolkit.fluxcd.io \"infrastructure\" not found"
    );
    let events = h
        .events_for("flux-system", "applications-with-dependencies")
        .await;
    assert!(
        events
            .iter()
            .any(|e| e.reason.as_deref() == Some("DependencyNotReady")
                && e.message.as_deref()
                    == Some("Dependencies do not meet ready condition, retrying in 500ms")),
        "{:?}",
        events.iter().map(|e| e.message.clone()).collect::<Vec<_>>()
    );
    assert!(h.get("v1", "ConfigMap", "infra", "app").await.is_none());

    for (name, path) in [
        ("infrastructure", "./infrastructure"),
        ("cert-manager", "./cert-manager"),
    ] {
        h.create_ks(
            "flux-system",
            name,
            serde_json::json!({"path": path, "sourceRef": {"kind": "GitRepository", "name": "application-repo"}}),
        )
        .await;
    }
    h.wait_ks(
        "flux-system",
        "applications-with-dependencies",
        ready_at(&rev),
    )
    .await;
    let app = h.get("v1", "ConfigMap", "infra", "app").await.expect("app");
    assert_eq!(app["data"]["cluster"], "production");
    assert_eq!(app["data"]["env"], "prod");
}

fn fixture(rel: &str) -> String {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/sops/tests/fixtures/"
    );
    std::fs::read_to_string(format!("{path}{rel}")).expect("fixture")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_sops_secret_is_decrypted_with_the_age_key_and_a_wrong_key_fails_without_leaking() {
    let h = Harness::start().await;
    let secret = fixture("global/secret.yaml");
    let rev = h
        .publish(
            "application-repo",
            &[("apps/production/secret.yaml", &secret)],
        )
        .await;
    h.apply_json(serde_json::json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "sops-age", "namespace": "flux-system"}, "stringData": {"age.agekey": fixture("keys/age-global.txt")}})).await;
    h.create_ks(
        "flux-system",
        "applications-sops",
        serde_json::json!({
            "path": "./apps/production",
            "sourceRef": {"kind": "GitRepository", "name": "application-repo"},
            "decryption": {"provider": "sops", "secretRef": {"name": "sops-age"}}
        }),
    )
    .await;
    h.wait_ks("flux-system", "applications-sops", ready_at(&rev))
        .await;
    let applied = h
        .get("v1", "Secret", "default", "global-age-secret")
        .await
        .expect("secret");
    use base64::Engine;
    let value = base64::engine::general_purpose::STANDARD
        .decode(applied["data"]["key"].as_str().expect("data.key"))
        .expect("base64");
    assert_eq!(value, b"global-value");
    assert!(applied.get("sops").is_none());

    // Another Kustomization whose key cannot decrypt the same file fails, and says nothing of
    // the plaintext.
    h.apply_json(serde_json::json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "wrong-key", "namespace": "flux-system"}, "stringData": {"age.agekey": fixture("keys/age.txt")}})).await;
    h.create_ks(
        "flux-system",
        "wrong",
        serde_json::json!({
            "path": "./apps/production",
            "sourceRef": {"kind": "GitRepository", "name": "application-repo"},
            "decryption": {"provider": "sops", "secretRef": {"name": "wrong-key"}}
        }),
    )
    .await;
    let ks = h
        .wait_ks("flux-system", "wrong", failed_with("BuildFailed"))
        .await;
    let msg = &condition(&ks, "Ready").expect("ready").message;
    assert!(msg.starts_with("decryption failed:"), "{msg}");
    assert!(!msg.contains("global-value"), "{msg}");
    // The first Kustomization's Secret is untouched.
    assert!(
        h.get("v1", "Secret", "default", "global-age-secret")
            .await
            .is_some()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_tenant_writes_within_its_rbac_and_is_forbidden_elsewhere_without_half_applying() {
    let h = Harness::start().await;
    h.apply_json(serde_json::json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "flux-reconciler", "namespace": "flux-system"}})).await;
    h.apply_json(serde_json::json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "tenant", "namespace": "apps"},
        "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["*"]}]})).await;
    h.apply_json(serde_json::json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": "tenant", "namespace": "apps"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "tenant"},
        "subjects": [{"kind": "ServiceAccount", "name": "flux-reconciler", "namespace": "flux-system"}]})).await;

    let own = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: tenant-config\n  namespace: apps\ndata:\n  a: b\n";
    let foreign = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: intruder\n  namespace: default\ndata:\n  a: b\n";
    h.publish(
        "application-repo",
        &[("tenants/own.yaml", own), ("tenants/foreign.yaml", foreign)],
    )
    .await;
    h.create_ks(
        "flux-system",
        "tenants",
        serde_json::json!({
            "interval": "5m",
            "path": "./tenants",
            "sourceRef": {"kind": "GitRepository", "name": "application-repo"},
            "serviceAccountName": "flux-reconciler",
            "validation": "client",
            "force": false
        }),
    )
    .await;
    let ks = h
        .wait_ks(
            "flux-system",
            "tenants",
            failed_with("ReconciliationFailed"),
        )
        .await;
    let msg = &condition(&ks, "Ready").expect("ready").message;
    assert!(msg.contains("ConfigMap/default/intruder"), "{msg}");
    assert!(msg.contains("Forbidden"), "{msg}");
    assert!(
        msg.contains("system:serviceaccount:flux-system:flux-reconciler"),
        "{msg}"
    );
    // Nothing half-applied: not even the allowed object.
    assert!(
        h.get("v1", "ConfigMap", "apps", "tenant-config")
            .await
            .is_none()
    );
    assert!(
        h.get("v1", "ConfigMap", "default", "intruder")
            .await
            .is_none()
    );

    let rev = h
        .publish("application-repo", &[("tenants/own.yaml", own)])
        .await;
    h.wait_ks("flux-system", "tenants", ready_at(&rev)).await;
    assert!(
        h.get("v1", "ConfigMap", "apps", "tenant-config")
            .await
            .is_some()
    );
}
