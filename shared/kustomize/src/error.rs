//! The errors a build can end with, worded after kustomize's own messages.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "unable to find one of 'kustomization.yaml', 'kustomization.yml' or 'Kustomization' in directory '{0}'"
    )]
    NoKustomization(PathBuf),
    #[error("reading {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("MalformedYAMLError: {source} in File: {file}")]
    Yaml {
        file: String,
        source: crate::yaml::ParseError,
    },
    #[error("invalid Kustomization: {0}")]
    InvalidKustomization(String),
    #[error("security; file '{path}' is not in or below '{root}'")]
    OutsideRoot { path: PathBuf, root: PathBuf },
    #[error("cycle detected: {0} is already being built")]
    Cycle(PathBuf),
    #[error("accumulating resources from '{path}': {message}")]
    Resource { path: String, message: String },
    #[error("{feature} is not supported by flux-kustomize (no network access): {detail}")]
    Unsupported {
        feature: &'static str,
        detail: String,
    },
    #[error("may not add resource with an already registered id: {0}")]
    DuplicateId(String),
    #[error("{0}")]
    Patch(String),
    #[error("{0}")]
    Generator(String),
    #[error("{0}")]
    Transform(String),
}
