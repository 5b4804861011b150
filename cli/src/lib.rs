//! flux-cli: the `flux` command line as a library, so tests and xtask reuse its parts.

pub mod apply;
pub mod cli;
pub mod cluster;
pub mod commands;
pub mod local;
pub mod manifests;
