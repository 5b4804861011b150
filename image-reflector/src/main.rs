//! `image-reflector-controller`: parses Flux's flags, then serves health and metrics until SIGTERM.

use std::process::ExitCode;

use flux_runtime::server::{ControllerServer, run};
use image_reflector_controller::CONTROLLER_NAME;
use image_reflector_controller::flags::{FEATURE_GATES, Flags};

fn main() -> ExitCode {
    let flags = Flags::parse_or_exit();
    let server = ControllerServer::new(CONTROLLER_NAME, env!("CARGO_PKG_VERSION"));
    run(server, &flags.common, FEATURE_GATES, |_| {
        tracing::info!(target: "setup", storage_path = %flags.storage_path, "image metadata storage configured");
    })
}
