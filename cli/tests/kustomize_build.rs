//! `flux kustomize build` against the real `kubectl kustomize` on the bundled example fleet.

use std::process::Command;

fn flux(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_flux"))
        .args(args)
        .output()
        .expect("run flux")
}

#[test]
fn flux_kustomize_build_prints_what_kubectl_kustomize_prints() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/fleet-infra");
    for dir in [
        "apps/overlays/production",
        "infrastructure/overlays/staging",
        "tenants",
    ] {
        let path = format!("{root}/{dir}");
        let ours = flux(&["kustomize", "build", &path]);
        assert!(
            ours.status.success(),
            "{dir}: {}",
            String::from_utf8_lossy(&ours.stderr)
        );
        let kubectl = Command::new("kubectl")
            .args(["kustomize", &path])
            .output()
            .expect("kubectl is installed (scripts/test-deps.sh)");
        assert!(kubectl.status.success(), "kubectl failed on {dir}");
        assert_eq!(
            String::from_utf8_lossy(&ours.stdout),
            String::from_utf8_lossy(&kubectl.stdout),
            "{dir}"
        );
    }
}

#[test]
fn flux_kustomize_build_of_a_missing_dir_fails_naming_it() {
    let out = flux(&["kustomize", "build", "/nonexistent/overlay"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/nonexistent/overlay"), "{err}");
}
