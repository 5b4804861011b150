//! `--sops-age-secret`: a Secret in the controller's namespace whose age keys decrypt for every
//! SOPS Kustomization that has no `decryption.secretRef` of its own.

mod common;

use common::{Harness, condition, failed_with, options, ready_at};
use kustomize_controller::kustomization::Options;

fn fixture(rel: &str) -> String {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/sops/tests/fixtures/"
    );
    std::fs::read_to_string(format!("{path}{rel}")).expect("fixture")
}

fn with_global_secret() -> Options {
    Options {
        sops_age_secret: Some(("flux-system".into(), "sops-age-global".into())),
        ..options()
    }
}

fn sops_ks(secret_ref: Option<&str>) -> serde_json::Value {
    let mut decryption = serde_json::json!({"provider": "sops"});
    if let Some(name) = secret_ref {
        decryption["secretRef"] = serde_json::json!({"name": name});
    }
    serde_json::json!({"path": "./apps", "decryption": decryption})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn global_age_secret_decrypts_for_kustomizations_without_a_secret_ref() {
    let h = Harness::start_with(with_global_secret()).await;
    let rev = h
        .publish(
            "fleet",
            &[("apps/secret.yaml", &fixture("global/secret.yaml"))],
        )
        .await;

    // The Secret is not there yet: the build fails and says which Secret it needs.
    h.create_ks("flux-system", "global", sops_ks(None)).await;
    let ks = h
        .wait_ks("flux-system", "global", failed_with("BuildFailed"))
        .await;
    let msg = &condition(&ks, "Ready").expect("ready").message;
    assert!(
        msg.contains("secrets \"sops-age-global\" not found"),
        "{msg}"
    );

    h.apply_json(serde_json::json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "sops-age-global", "namespace": "flux-system"},
        "stringData": {"identity.agekey": fixture("keys/age-global.txt")}
    }))
    .await;
    h.wait_ks("flux-system", "global", ready_at(&rev)).await;
    let applied = h
        .get("v1", "Secret", "default", "global-age-secret")
        .await
        .expect("secret");
    use base64::Engine;
    let value = base64::engine::general_purpose::STANDARD
        .decode(applied["data"]["key"].as_str().expect("data.key"))
        .expect("base64");
    assert_eq!(value, b"global-value");

    // A Kustomization with its own secretRef uses only that Secret, even when the global key
    // would have worked.
    h.apply_json(serde_json::json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "wrong-key", "namespace": "apps"},
        "stringData": {"age.agekey": fixture("keys/age.txt")}
    }))
    .await;
    h.create_ks("apps", "own-key", {
        let mut spec = sops_ks(Some("wrong-key"));
        spec["sourceRef"] =
            serde_json::json!({"kind": "GitRepository", "name": "fleet", "namespace": "flux-system"});
        spec
    })
    .await;
    let ks = h
        .wait_ks("apps", "own-key", failed_with("BuildFailed"))
        .await;
    let msg = &condition(&ks, "Ready").expect("ready").message;
    assert!(msg.starts_with("decryption failed:"), "{msg}");
    assert!(!msg.contains("global-value"), "{msg}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_flag_a_kustomization_without_secret_ref_has_no_keys() {
    let h = Harness::start().await;
    h.publish(
        "fleet",
        &[("apps/secret.yaml", &fixture("global/secret.yaml"))],
    )
    .await;
    // The Secret exists but the controller was not told about it.
    h.apply_json(serde_json::json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "sops-age-global", "namespace": "flux-system"},
        "stringData": {"identity.agekey": fixture("keys/age-global.txt")}
    }))
    .await;
    h.create_ks("flux-system", "nokeys", sops_ks(None)).await;
    let ks = h
        .wait_ks("flux-system", "nokeys", failed_with("BuildFailed"))
        .await;
    let msg = &condition(&ks, "Ready").expect("ready").message;
    assert!(msg.starts_with("decryption failed:"), "{msg}");
}
