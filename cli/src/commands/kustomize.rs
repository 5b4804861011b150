//! `flux kustomize build DIR`: exactly what `kubectl kustomize DIR` prints, built by flux-kustomize.

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::CommandError;

#[derive(Debug, Clone, Subcommand)]
pub enum KustomizeCommand {
    /// Build a kustomization directory and print the resources as one YAML stream.
    Build(BuildArgs),
}

#[derive(Debug, Clone, Args)]
pub struct BuildArgs {
    /// Directory holding a kustomization.yaml.
    pub dir: PathBuf,
}

pub fn run(cmd: &KustomizeCommand, out: &mut dyn Write) -> Result<(), CommandError> {
    match cmd {
        KustomizeCommand::Build(args) => {
            let yaml = flux_kustomize::build_to_yaml(&args.dir, &Default::default())
                .map_err(|e| CommandError::Build(format!("{}: {e}", args.dir.display())))?;
            out.write_all(yaml.as_bytes())?;
            Ok(())
        }
    }
}
