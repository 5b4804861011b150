//! The `helm-controller` binary as a real process: endpoints, signals, flag errors.

use flux_apiserver::BackgroundServer;
use flux_runtime::testkit::{BinarySpec, check_controller_binary, check_needs_a_cluster};
use helm_controller::flags::Flags;

fn spec<'a>(args: &'a [&'a str], env: &'a [(&'a str, &'a str)]) -> BinarySpec<'a> {
    BinarySpec {
        bin: env!("CARGO_BIN_EXE_helm-controller"),
        name: "helm-controller",
        args,
        env,
        bad_duration: ("--graceful-shutdown-timeout=ten", "invalid duration"),
    }
}

#[test]
fn behaves_like_a_flux_controller_binary() {
    let cluster = BackgroundServer::start(flux_api::crds::all()).expect("apiserver");
    let args = ["--feature-gates=OOMWatch=true"];
    check_controller_binary(&spec(&args, &[("KUBECONFIG", &cluster.kubeconfig())]));
}

#[test]
fn needs_a_cluster() {
    let bare = BackgroundServer::start(Vec::new()).expect("apiserver");
    check_needs_a_cluster(&spec(&[], &[]), &bare.kubeconfig());
}

#[test]
fn helm_flags_default_as_in_flux() {
    let f = Flags::try_parse_from(["helm-controller"]).unwrap();
    assert_eq!(f.common.concurrent, 4);
    assert_eq!(f.graceful_shutdown_timeout.to_string(), "10m0s");
    assert_eq!(f.oom_watch_interval.to_string(), "500ms");
    assert_eq!(f.oom_watch_memory_threshold, 95);
}
