//! `flux-apiserver --port PORT --kubeconfig FILE [--state FILE] [--no-simulate] [--no-rbac]`:
//! the in-memory API server in the foreground until SIGINT/SIGTERM (what `flux local apiserver`
//! runs).

use std::path::PathBuf;
use std::process::ExitCode;

fn usage() -> ExitCode {
    eprintln!(
        "usage: flux-apiserver [--port PORT] [--kubeconfig FILE] [--state FILE] [--no-simulate] [--no-rbac]"
    );
    ExitCode::from(2)
}

#[tokio::main]
async fn main() -> ExitCode {
    let mut opts = flux_apiserver::ServerOptions {
        simulate_workloads: true,
        ..Default::default()
    };
    let mut kubeconfig = PathBuf::from("flux-local.kubeconfig");
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--port" => match args.next().and_then(|p| p.parse().ok()) {
                Some(p) => opts.port = p,
                None => return usage(),
            },
            "--kubeconfig" => match args.next() {
                Some(p) => kubeconfig = PathBuf::from(p),
                None => return usage(),
            },
            "--state" => match args.next() {
                Some(p) => opts.state_file = Some(PathBuf::from(p)),
                None => return usage(),
            },
            "--no-simulate" => opts.simulate_workloads = false,
            "--no-rbac" => opts.rbac = false,
            _ => return usage(),
        }
    }
    match flux_apiserver::serve_foreground_with(opts, &kubeconfig, &[], &[]).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("flux-apiserver: {e}");
            ExitCode::FAILURE
        }
    }
}
