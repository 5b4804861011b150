//! One module per `flux` command family; each exposes clap `Args` and a `run` function.

pub mod artifact;
pub mod build;
pub mod check;
pub mod completion;
pub mod create;
pub mod events;
pub mod export;
pub mod get;
pub mod helm;
pub mod install;
pub mod kustomize;
pub mod local;
pub mod objects;
pub mod reconcile;
pub mod suspend;
pub mod tree;
pub mod uninstall;
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
    /// The command ran and found problems it has already reported (e.g. objects not Ready).
    #[error("{0}")]
    Failed(String),
    /// `diff` found changes; exit code 1 without a message, as `flux diff`.
    #[error("")]
    Changes,
    /// A cluster request failed, or found what the user named missing or not Ready.
    #[error("{0}")]
    Cluster(String),
    #[error("unable to write output: {0}")]
    Output(#[from] std::io::Error),
}
