//! Run the in-memory API server in the foreground: `cargo run -p flux-apiserver --example serve -- [PORT] [KUBECONFIG]`.

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let port: u16 = args.next().map(|p| p.parse()).transpose()?.unwrap_or(0);
    let kubeconfig = std::path::PathBuf::from(
        args.next()
            .unwrap_or_else(|| "flux-local.kubeconfig".into()),
    );
    let server = flux_apiserver::start(flux_apiserver::ServerOptions {
        port,
        simulate_workloads: true,
        ..Default::default()
    })
    .await?;
    server.write_kubeconfig(&kubeconfig)?;
    println!(
        "serving {} ; KUBECONFIG={}",
        server.url(),
        kubeconfig.display()
    );
    tokio::signal::ctrl_c().await?;
    server.shutdown().await?;
    Ok(())
}
