//! The foreground server binary: writes a kubeconfig kube-rs accepts, stops on SIGTERM and saves
//! its state file.

use std::time::Duration;

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, PostParams};
use serde_json::json;

type Res<T = ()> = Result<T, Box<dyn std::error::Error>>;

#[tokio::test]
async fn foreground_server_serves_until_sigterm_and_saves_state() -> Res {
    let dir = tempfile::tempdir()?;
    let kubeconfig = dir.path().join("kubeconfig");
    let state = dir.path().join("state.json");
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_flux-apiserver"))
        .args(["--port", "0", "--no-simulate"])
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .arg("--state")
        .arg(&state)
        .kill_on_drop(true)
        .spawn()?;
    let pid = child.id().ok_or("no pid")?;
    for _ in 0..100 {
        if kubeconfig.exists() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let kc = kube::config::Kubeconfig::read_from(&kubeconfig)?;
    let cfg = kube::Config::from_custom_kubeconfig(kc, &Default::default()).await?;
    let api: Api<ConfigMap> = Api::namespaced(kube::Client::try_from(cfg)?, "default");
    api.create(
        &PostParams::default(),
        &serde_json::from_value(json!({"metadata": {"name": "saved"}}))?,
    )
    .await?;

    let status = tokio::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .await?;
    assert!(status.success());
    let exit = tokio::time::timeout(Duration::from_secs(10), child.wait()).await??;
    assert!(exit.success(), "{exit:?}");
    let saved = std::fs::read_to_string(&state)?;
    assert!(saved.contains("\"saved\""));
    Ok(())
}
