//! The `kustomize-controller` binary as a real process: endpoints, signals, flag errors.

use flux_apiserver::BackgroundServer;
use flux_runtime::testkit::{BinarySpec, check_controller_binary, check_needs_a_cluster};
use kustomize_controller::flags::Flags;

fn spec<'a>(args: &'a [&'a str], env: &'a [(&'a str, &'a str)]) -> BinarySpec<'a> {
    BinarySpec {
        bin: env!("CARGO_BIN_EXE_kustomize-controller"),
        name: "kustomize-controller",
        args,
        env,
        bad_duration: ("--requeue-dependency=10", "missing unit"),
    }
}

#[test]
fn behaves_like_a_flux_controller_binary() {
    let cluster = BackgroundServer::start(flux_api::crds::all()).expect("apiserver");
    let args = ["--no-remote-bases=true", "--sops-age-secret=sops-age"];
    check_controller_binary(&spec(&args, &[("KUBECONFIG", &cluster.kubeconfig())]));
}

#[test]
fn needs_a_cluster() {
    let bare = BackgroundServer::start(Vec::new()).expect("apiserver");
    check_needs_a_cluster(&spec(&[], &[]), &bare.kubeconfig());
}

#[test]
fn kustomize_flags_default_as_in_flux() {
    let f = Flags::try_parse_from([
        "kustomize-controller",
        "--override-manager=kubectl",
        "--override-manager=helm",
    ])
    .unwrap();
    assert_eq!(f.common.concurrent, 4);
    assert_eq!(f.concurrent_ssa, 4);
    assert_eq!(f.http_retry, 9);
    assert!(!f.no_remote_bases);
    assert_eq!(f.override_managers, ["kubectl", "helm"]);
}
