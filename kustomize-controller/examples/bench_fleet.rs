//! Benchmark (issue #7): 100 Kustomizations of 50 objects each from one source, from nothing to
//! all Ready, reconciled by the real `kustomize-controller` binary in its own process, so its
//! peak RSS is its own. The API server and the artifact server run in this process.
//!
//!   cargo build --release -p kustomize-controller --bin kustomize-controller
//!   cargo run --release -p kustomize-controller --example bench_fleet -- [KS] [OBJECTS_PER_KS]

use std::time::{Duration, Instant};

use flux_artifact::{IgnoreRules, Owner};
use kube::api::{Api, ApiResource, DynamicObject, ListParams, Patch, PatchParams};

fn arg(n: usize, default: usize) -> usize {
    std::env::args()
        .nth(n)
        .and_then(|a| a.parse().ok())
        .unwrap_or(default)
}

/// The controller's peak resident set (VmHWM) in KiB, read while it still runs.
fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

#[tokio::main]
async fn main() {
    let (ks_count, per_ks) = (arg(1, 100), arg(2, 50));
    let binary = std::env::var("KUSTOMIZE_CONTROLLER")
        .unwrap_or_else(|_| "target/release/kustomize-controller".into());

    let mut crds = flux_api::crds::for_component("source-controller").expect("component");
    crds.extend(flux_api::crds::for_component("kustomize-controller").expect("component"));
    let (server, client) = flux_apiserver::start_seeded(&crds, &["flux-system"])
        .await
        .expect("api server");
    let dir = tempfile::tempdir().expect("tempdir");
    let kubeconfig = dir.path().join("kubeconfig");
    server.write_kubeconfig(&kubeconfig).expect("kubeconfig");

    // One source holding every Kustomization's path.
    let src = dir.path().join("src");
    for k in 0..ks_count {
        let app = src.join(format!("app{k}"));
        std::fs::create_dir_all(&app).expect("mkdir");
        let mut yaml = format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: app{k}\n");
        for j in 1..per_ks {
            yaml.push_str(&format!(
                "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm{j}\n  namespace: app{k}\ndata:\n  index: \"{j}\"\n"
            ));
        }
        std::fs::write(app.join("objects.yaml"), yaml).expect("write");
    }
    let rules = IgnoreRules::load(&src, None).expect("rules");
    let mut archive = Vec::new();
    flux_artifact::pack_dir(&src, &rules, &mut archive).expect("pack");
    let storage = flux_artifact::serve_on_loopback(&dir.path().join("storage"), 2)
        .await
        .expect("artifact server");
    let owner = Owner {
        kind: "gitrepository",
        namespace: "flux-system",
        name: "fleet",
    };
    let stored = storage
        .store(&owner, "bench.tar.gz", &archive)
        .expect("store");

    let dynamic = |kind: &str, plural: &str, group: &str| {
        let gvk = kube::core::GroupVersionKind::gvk(group, "v1", kind);
        Api::<DynamicObject>::namespaced_with(
            client.clone(),
            "flux-system",
            &ApiResource::from_gvk_with_plural(&gvk, plural),
        )
    };
    let git = dynamic(
        "GitRepository",
        "gitrepositories",
        "source.toolkit.fluxcd.io",
    );
    let apply = PatchParams::apply("bench").force();
    git.patch(
        "fleet",
        &apply,
        &Patch::Apply(serde_json::json!({
            "apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository",
            "metadata": {"name": "fleet", "namespace": "flux-system"},
            "spec": {"interval": "1h", "url": "https://example.com/fleet.git", "ref": {"branch": "main"}}
        })),
    )
    .await
    .expect("gitrepository");
    git.patch_status(
        "fleet",
        &PatchParams::default(),
        &Patch::Merge(serde_json::json!({"status": {
            "artifact": {"path": stored.path, "url": stored.url, "revision": "main@sha1:0123456789abcdef0123456789abcdef01234567",
                         "digest": stored.digest, "lastUpdateTime": "2026-01-01T00:00:00Z", "size": stored.size},
            "conditions": [{"type": "Ready", "status": "True", "reason": "Succeeded", "message": "stored",
                            "lastTransitionTime": "2026-01-01T00:00:00Z"}]
        }})),
    )
    .await
    .expect("artifact");

    let ks_api = dynamic(
        "Kustomization",
        "kustomizations",
        "kustomize.toolkit.fluxcd.io",
    );
    let started = Instant::now();
    let mut controller = std::process::Command::new(&binary)
        .args([
            "--health-addr=127.0.0.1:0",
            "--metrics-addr=127.0.0.1:0",
            "--concurrent=4",
        ])
        .env("KUBECONFIG", &kubeconfig)
        .env("RUNTIME_NAMESPACE", "flux-system")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{binary}: {e} (build it first, see the header)"));
    for k in 0..ks_count {
        ks_api
            .patch(
                &format!("app{k}"),
                &apply,
                &Patch::Apply(serde_json::json!({
                    "apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
                    "metadata": {"name": format!("app{k}"), "namespace": "flux-system"},
                    "spec": {"interval": "1h", "path": format!("./app{k}"), "prune": true,
                             "sourceRef": {"kind": "GitRepository", "name": "fleet"}}
                })),
            )
            .await
            .expect("kustomization");
    }
    let deadline = Instant::now() + Duration::from_secs(600);
    let mut peak = 0;
    loop {
        peak = peak.max(peak_rss_kib(controller.id()).unwrap_or(0));
        let list = ks_api.list(&ListParams::default()).await.expect("list");
        let ready = list
            .items
            .iter()
            .filter(|k| {
                k.data
                    .pointer("/status/conditions")
                    .and_then(|c| c.as_array())
                    .is_some_and(|c| {
                        c.iter()
                            .any(|c| c["type"] == "Ready" && c["status"] == "True")
                    })
            })
            .count();
        if ready == ks_count {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "only {ready} of {ks_count} Ready after 600s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let elapsed = started.elapsed();
    peak = peak.max(peak_rss_kib(controller.id()).unwrap_or(0));
    let _ = controller.kill();
    let _ = controller.wait();
    println!(
        "{ks_count} Kustomizations x {per_ks} objects ({} objects): all Ready in {:.2} s",
        ks_count * per_ks,
        elapsed.as_secs_f64()
    );
    println!(
        "kustomize-controller peak RSS: {:.1} MiB (goal < 64 MiB)",
        peak as f64 / 1024.0
    );
}
