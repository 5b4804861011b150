//! `flux version`: the CLI's version (the cluster's controllers need a connection, later).

use std::io::Write;

use clap::{Args, ValueEnum};

use super::CommandError;
use crate::manifests::VERSION;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Yaml,
    Json,
}

#[derive(Debug, Clone, Args)]
pub struct VersionArgs {
    /// Print only the client version.
    #[arg(long)]
    pub client: bool,

    /// The format in which to print the version information.
    #[arg(short = 'o', long, value_enum)]
    pub output: Option<Output>,
}

pub fn run(args: &VersionArgs, out: &mut dyn Write) -> Result<(), CommandError> {
    if !args.client {
        return Err(CommandError::Unsupported(
            "reading the controllers' versions needs a cluster connection, which is not available yet: use --client"
                .to_string(),
        ));
    }
    let version = format!("v{VERSION}");
    match args.output {
        None => writeln!(out, "flux: {version}")?,
        Some(Output::Yaml) => writeln!(out, "flux: {version}")?,
        Some(Output::Json) => writeln!(out, "{}", serde_json::json!({ "flux": version }))?,
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_with(args: VersionArgs) -> Result<String, CommandError> {
        let mut out = Vec::new();
        run(&args, &mut out)?;
        Ok(String::from_utf8(out).unwrap())
    }

    #[test]
    fn client_version_prints_like_flux() {
        let text = run_with(VersionArgs {
            client: true,
            output: None,
        })
        .unwrap();
        assert_eq!(text, format!("flux: v{VERSION}\n"));
    }

    #[test]
    fn client_version_as_json() {
        let text = run_with(VersionArgs {
            client: true,
            output: Some(Output::Json),
        })
        .unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["flux"], format!("v{VERSION}"));
    }

    #[test]
    fn server_version_needs_a_cluster() {
        let err = run_with(VersionArgs {
            client: false,
            output: None,
        })
        .unwrap_err();
        assert!(err.to_string().contains("--client"), "{err}");
    }
}
