//! `source-controller`: parses Flux's flags, serves health and metrics, and runs the reconcilers
//! until SIGTERM.

use std::process::ExitCode;

use flux_runtime::server::{ControllerServer, run_with};
use source_controller::CONTROLLER_NAME;
use source_controller::flags::{FEATURE_GATES, Flags};

fn main() -> ExitCode {
    let flags = Flags::parse_or_exit();
    let server = ControllerServer::new(CONTROLLER_NAME, env!("CARGO_PKG_VERSION"));
    let common = flags.common.clone();
    run_with(
        server,
        &common,
        FEATURE_GATES,
        |_| {},
        |ctx| source_controller::start(flags, ctx),
    )
}
