//! `notification-controller`: parses Flux's flags, then serves health and metrics until SIGTERM.

use std::process::ExitCode;

use flux_runtime::server::{ControllerServer, run};
use notification_controller::CONTROLLER_NAME;
use notification_controller::flags::{FEATURE_GATES, Flags};

fn main() -> ExitCode {
    let flags = Flags::parse_or_exit();
    // Here --events-addr is where events arrive, so it must be a listen address.
    if let Err(err) = flags.events_listen_addr() {
        eprintln!("error: invalid value for '--events-addr': {err}");
        return ExitCode::from(1);
    }
    let server = ControllerServer::new(CONTROLLER_NAME, env!("CARGO_PKG_VERSION"));
    run(server, &flags.common, FEATURE_GATES, |_| {
        tracing::info!(target: "setup", events_addr = %flags.common.events_addr, receiver_addr = %flags.receiver_addr, "notification endpoints configured");
    })
}
