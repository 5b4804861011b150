//! One module per `flux` command family; each exposes clap `Args` and a `run` function.

pub mod install;
pub mod kustomize;
pub mod version;

use crate::manifests::ManifestError;

/// Why a command failed; printed as `✗ <message>` with exit code 1.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    #[error("{0}")]
    Unsupported(String),
    #[error("{0}")]
    Build(String),
    #[error("unable to write output: {0}")]
    Output(#[from] std::io::Error),
}
