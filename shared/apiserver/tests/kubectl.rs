//! Runs tests/kubectl.sh: the real kubectl against a server started for the test.

use flux_apiserver::{ServerOptions, start};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_kubectl_works_against_the_server() -> Result<(), Box<dyn std::error::Error>> {
    let server = start(ServerOptions {
        simulate_workloads: true,
        ..Default::default()
    })
    .await?;
    let dir = tempfile::tempdir()?;
    let kubeconfig = dir.path().join("kubeconfig");
    server.write_kubeconfig(&kubeconfig)?;
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/kubectl.sh");
    let out = tokio::process::Command::new("bash")
        .arg(&script)
        .env("KUBECONFIG", &kubeconfig)
        .env("HOME", dir.path())
        .env("SIMULATE", "1")
        .env(
            "FLUX_MANIFESTS",
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../manifests"),
        )
        .output()
        .await?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "kubectl.sh failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(stdout.contains("kubectl checks passed"));
    server.shutdown().await?;
    Ok(())
}
