//! `flux`: the flux-rs command line.

use std::process::ExitCode;

fn main() -> ExitCode {
    flux_cli::cli::main()
}
