//! The `kustomize-controller` binary as a real process: endpoints, signals, flag errors.

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
    let cluster = cluster(true);
    let args = ["--no-remote-bases=true", "--sops-age-secret=sops-age"];
    check_controller_binary(&spec(&args, &[("KUBECONFIG", &cluster.kubeconfig)]));
}

#[test]
fn needs_a_cluster() {
    let bare = cluster(false);
    check_needs_a_cluster(&spec(&[], &[]), &bare.kubeconfig);
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

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;

/// An in-memory API server on its own runtime, and its admin kubeconfig on disk.
struct Cluster {
    _server: flux_apiserver::RunningServer,
    _runtime: tokio::runtime::Runtime,
    _dir: tempfile::TempDir,
    kubeconfig: String,
}

/// With `crds`, the Flux CRDs are installed.
fn cluster(crds: bool) -> Cluster {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let server = runtime.block_on(async {
        let server = flux_apiserver::start(Default::default())
            .await
            .expect("apiserver");
        if crds {
            let client = server.client().await.expect("client");
            let api: kube::Api<CustomResourceDefinition> = kube::Api::all(client);
            for crd in flux_api::crds::all() {
                api.create(&Default::default(), &crd).await.expect("CRD");
            }
        }
        server
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("kubeconfig");
    server.write_kubeconfig(&path).expect("kubeconfig");
    Cluster {
        _server: server,
        _runtime: runtime,
        _dir: dir,
        kubeconfig: path.display().to_string(),
    }
}
