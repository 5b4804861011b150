//! The `source-controller` binary as a real process: endpoints, signals, flag errors.

use flux_apiserver::BackgroundServer;
use flux_runtime::testkit::{
    BinarySpec, RunningController, SIGINT, check_controller_binary, check_needs_a_cluster,
    free_port, run_to_exit,
};
use source_controller::flags::Flags;

const BIN: &str = env!("CARGO_BIN_EXE_source-controller");

fn spec<'a>(args: &'a [&'a str], env: &'a [(&'a str, &'a str)]) -> BinarySpec<'a> {
    BinarySpec {
        bin: BIN,
        name: "source-controller",
        args,
        env,
        bad_duration: ("--artifact-retention-ttl=5d", "unknown unit"),
    }
}

#[test]
fn behaves_like_a_flux_controller_binary() {
    let cluster = BackgroundServer::start(flux_api::crds::all()).expect("apiserver");
    let storage = tempfile::tempdir().expect("tempdir");
    let storage_path = format!("--storage-path={}", storage.path().display());
    let args = [
        storage_path.as_str(),
        "--storage-addr=127.0.0.1:0",
        "--concurrent=3",
    ];
    check_controller_binary(&spec(&args, &[("KUBECONFIG", &cluster.kubeconfig())]));
}

#[test]
fn needs_a_cluster() {
    let bare = BackgroundServer::start(Vec::new()).expect("apiserver");
    check_needs_a_cluster(&spec(&[], &[]), &bare.kubeconfig());
}

#[test]
fn source_flags_default_as_in_flux() {
    let f = Flags::try_parse_from(["source-controller"]).unwrap();
    assert_eq!(f.common.concurrent, 2);
    assert_eq!(f.storage_addr.to_string(), ":9090");
    assert_eq!(f.artifact_retention_ttl.to_string(), "1m0s");
    assert_eq!(f.artifact_retention_records, 2);
    assert_eq!(f.helm_index_max_size, 52_428_800);
    assert_eq!(f.helm_chart_max_size, 10_485_760);
}

#[test]
fn advertised_storage_address_follows_flux() {
    let adv = |args: &[&str]| {
        let argv = std::iter::once("source-controller").chain(args.iter().copied());
        source_controller::advertised_storage_addr(&Flags::try_parse_from(argv).unwrap())
    };
    assert_eq!(
        adv(&["--storage-adv-addr=source-controller.flux-system.svc.cluster.local."]),
        "source-controller.flux-system.svc.cluster.local."
    );
    assert_eq!(adv(&["--storage-addr=127.0.0.1:9999"]), "127.0.0.1:9999");
    assert!(adv(&[]).ends_with(":9090"), "{}", adv(&[]));
}

#[test]
fn sigint_also_stops_cleanly_with_exit_zero() {
    let cluster = BackgroundServer::start(flux_api::crds::all()).expect("apiserver");
    let storage = tempfile::tempdir().expect("tempdir");
    let args = vec![
        format!("--storage-path={}", storage.path().display()),
        "--storage-addr=127.0.0.1:0".to_string(),
    ];
    let ctl =
        RunningController::start_with_env(BIN, &args, &[("KUBECONFIG", &cluster.kubeconfig())])
            .unwrap();
    let (status, stderr) = ctl.stop_with(SIGINT).unwrap();
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(stderr.contains(r#""signal":"SIGINT""#), "{stderr}");
}

#[test]
fn health_and_metrics_on_one_port_fail_to_bind_with_exit_one() {
    let port = free_port().unwrap();
    let addr = format!("127.0.0.1:{port}");
    let health = format!("--health-addr={addr}");
    let metrics = format!("--metrics-addr={addr}");
    let out = run_to_exit(BIN, &[&health, &metrics]).unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", out.stderr);
    assert!(
        out.stderr.contains("unable to bind the metrics address"),
        "{}",
        out.stderr
    );
}
