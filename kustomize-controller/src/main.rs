//! `kustomize-controller`: parses Flux's flags, then serves health and metrics until SIGTERM.

use std::process::ExitCode;

use flux_runtime::server::{ControllerServer, run};
use kustomize_controller::CONTROLLER_NAME;
use kustomize_controller::flags::{FEATURE_GATES, Flags};

fn main() -> ExitCode {
    let flags = Flags::parse_or_exit();
    let server = ControllerServer::new(CONTROLLER_NAME, env!("CARGO_PKG_VERSION"));
    run(server, &flags.common, FEATURE_GATES, |_| {
        tracing::info!(target: "setup", no_remote_bases = flags.no_remote_bases, concurrent_ssa = flags.concurrent_ssa, "kustomize options");
    })
}
